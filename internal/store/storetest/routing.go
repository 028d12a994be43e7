package storetest

import (
	"encoding/json"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/kefu-chat/kefu/internal/kefu"
	"github.com/kefu-chat/kefu/internal/routing"
)

// RunRouting runs the routing conformance tests: teams, presence, settings,
// rules, queue order, the claims and their concurrency guarantees.
func RunRouting(t *testing.T, open func(t *testing.T) kefu.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s kefu.Store)
	}{
		{"Teams", testTeams},
		{"SetQueuedTeam", testSetQueuedTeam},
		{"AgentStates", testAgentStates},
		{"RoutingSettings", testRoutingSettings},
		{"RoutingRules", testRoutingRules},
		{"QueueOrder", testQueueOrder},
		{"WidgetCounts", testWidgetCounts},
		{"ClaimRechecksCapacity", testClaimRechecksCapacity},
		{"ClaimServesQueueInOrder", testClaimServesQueueInOrder},
		{"ClaimNextTeamsAndOrder", testClaimNext},
		{"Sweeps", testSweeps},
		{"RoutingIsolation", testRoutingIsolation},
		{"ClaimRace", testClaimRace},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, open(t)) })
	}
}

const grace = time.Minute

// online makes agents available and connected now.
func (f *fixture) online(ws int64, now time.Time, agents ...*kefu.Agent) {
	f.tb.Helper()
	ids := make([]int64, len(agents))
	for i, a := range agents {
		ids[i] = a.ID
		if err := f.s.SetAvailability(f.ctx, ws, a.ID, kefu.AvailabilityOnline, now); err != nil {
			f.tb.Fatalf("SetAvailability: %v", err)
		}
	}
	if err := f.s.TouchAgents(f.ctx, ws, ids, now); err != nil {
		f.tb.Fatalf("TouchAgents: %v", err)
	}
}

func (f *fixture) queued(ws, inbox int64, team int64, p kefu.Priority, at time.Time) *kefu.Conversation {
	f.tb.Helper()
	c := f.conversation(ws, inbox, f.contact(ws).ID)
	c, err := f.s.Requeue(f.ctx, ws, c.ID, team, p, at)
	if err != nil {
		f.tb.Fatalf("Requeue: %v", err)
	}
	return c
}

func (f *fixture) claim(ws, conv int64, now time.Time) *kefu.Assignment {
	f.tb.Helper()
	a, err := f.s.ClaimConversation(f.ctx, ws, conv, now, func(s *kefu.ClaimSnapshot) kefu.Decision { return routing.Decide(s, grace) })
	if err != nil {
		f.tb.Fatalf("ClaimConversation: %v", err)
	}
	return a
}

func testTeams(t *testing.T, s kefu.Store) {
	f := newFixture(t, s)
	ws := f.workspace()
	a1, a2 := f.agent(ws.ID), f.agent(ws.ID)
	team := &kefu.Team{WorkspaceID: ws.ID, Name: "Sales", AgentIDs: []int64{a2.ID, a1.ID, a2.ID}}
	if err := s.CreateTeam(f.ctx, team); err != nil {
		t.Fatalf("CreateTeam: %v", err)
	}
	got, err := s.GetTeam(f.ctx, ws.ID, team.ID)
	if err != nil {
		t.Fatalf("GetTeam: %v", err)
	}
	if got.Name != "Sales" || !slices.Equal(got.AgentIDs, []int64{a1.ID, a2.ID}) {
		t.Errorf("GetTeam = %+v, want Sales with agents %d,%d", got, a1.ID, a2.ID)
	}
	wantCode(t, "CreateTeam duplicate name", s.CreateTeam(f.ctx, &kefu.Team{WorkspaceID: ws.ID, Name: "Sales"}), kefu.EConflict)
	got.Name, got.AgentIDs = "Support", []int64{a2.ID}
	if err := s.UpdateTeam(f.ctx, got); err != nil {
		t.Fatalf("UpdateTeam: %v", err)
	}
	list, err := s.ListTeams(f.ctx, ws.ID)
	if err != nil || len(list) != 1 || list[0].Name != "Support" || !slices.Equal(list[0].AgentIDs, []int64{a2.ID}) {
		t.Fatalf("ListTeams = %+v, %v; want Support with agent %d", list, err, a2.ID)
	}
	// A conversation requiring the team loses the requirement when the team goes.
	in := f.inbox(ws.ID)
	c := f.queued(ws.ID, in.ID, team.ID, "", kefu.Now())
	if c.TeamID != team.ID {
		t.Fatalf("Requeue team = %d, want %d", c.TeamID, team.ID)
	}
	if err := s.DeleteTeam(f.ctx, ws.ID, team.ID); err != nil {
		t.Fatalf("DeleteTeam: %v", err)
	}
	if c := f.getConversation(ws.ID, c.ID); c.TeamID != 0 {
		t.Errorf("conversation team after DeleteTeam = %d, want 0", c.TeamID)
	}
	wantCode(t, "DeleteTeam again", s.DeleteTeam(f.ctx, ws.ID, team.ID), kefu.ENotFound)
	_, err = s.GetTeam(f.ctx, ws.ID, team.ID)
	wantCode(t, "GetTeam deleted", err, kefu.ENotFound)
}

func testAgentStates(t *testing.T, s kefu.Store) {
	f := newFixture(t, s)
	ws := f.workspace()
	a1, a2, a3 := f.agent(ws.ID), f.agent(ws.ID), f.agent(ws.ID)
	team := &kefu.Team{WorkspaceID: ws.ID, Name: "T", AgentIDs: []int64{a1.ID}}
	if err := s.CreateTeam(f.ctx, team); err != nil {
		t.Fatalf("CreateTeam: %v", err)
	}
	now := kefu.Now()
	f.online(ws.ID, now, a1)
	if err := s.SetAvailability(f.ctx, ws.ID, a2.ID, kefu.AvailabilityAway, now); err != nil {
		t.Fatalf("SetAvailability: %v", err)
	}
	// An older heartbeat never moves last_seen back.
	if err := s.TouchAgents(f.ctx, ws.ID, []int64{a1.ID}, now.Add(-time.Hour)); err != nil {
		t.Fatalf("TouchAgents: %v", err)
	}
	in := f.inbox(ws.ID)
	open := f.conversation(ws.ID, in.ID, f.contact(ws.ID).ID, func(c *kefu.Conversation) { c.AssigneeID = a1.ID })
	f.conversation(ws.ID, in.ID, f.contact(ws.ID).ID, func(c *kefu.Conversation) { c.AssigneeID = a1.ID; c.Status = kefu.StatusResolved })
	states, err := s.ListAgentStates(f.ctx, ws.ID)
	if err != nil {
		t.Fatalf("ListAgentStates: %v", err)
	}
	if len(states) != 3 {
		t.Fatalf("ListAgentStates: %d states, want 3", len(states))
	}
	byID := map[int64]kefu.AgentState{}
	for _, st := range states {
		byID[st.AgentID] = st
	}
	if st := byID[a1.ID]; st.Availability != kefu.AvailabilityOnline || !st.LastSeenAt.Equal(now) || st.Open != 1 || !slices.Equal(st.Teams, []int64{team.ID}) || !st.Active {
		t.Errorf("agent 1 state = %+v, want online, seen %v, 1 open (only open conversations count), team %d", st, now, team.ID)
	}
	if st := byID[a2.ID]; st.Availability != kefu.AvailabilityAway || !st.LastSeenAt.IsZero() {
		t.Errorf("agent 2 state = %+v, want away, never seen", st)
	}
	if st := byID[a3.ID]; st.Availability != kefu.AvailabilityOffline || st.Open != 0 || len(st.Teams) != 0 {
		t.Errorf("agent 3 state = %+v, want offline with nothing", st)
	}
	_ = open
	for _, want := range states {
		got, err := s.AgentState(f.ctx, ws.ID, want.AgentID)
		if err != nil || got.Open != want.Open || got.Availability != want.Availability || !got.LastSeenAt.Equal(want.LastSeenAt) || !slices.Equal(got.Teams, want.Teams) {
			t.Errorf("AgentState(%d) = %+v, %v; want %+v as listed", want.AgentID, got, err, want)
		}
	}
	other := f.workspace()
	_, err = s.AgentState(f.ctx, other.ID, a1.ID)
	wantCode(t, "AgentState of another workspace", err, kefu.ENotFound)
	wantCode(t, "SetAvailability unknown agent", s.SetAvailability(f.ctx, ws.ID, 999999, kefu.AvailabilityOnline, now), kefu.ENotFound)
}

func testRoutingSettings(t *testing.T, s kefu.Store) {
	f := newFixture(t, s)
	ws := f.workspace()
	in := f.inbox(ws.ID)
	st, err := s.GetRoutingSettings(f.ctx, ws.ID, in.ID)
	if err != nil {
		t.Fatalf("GetRoutingSettings: %v", err)
	}
	if want := kefu.DefaultRoutingSettings(ws.ID, in.ID); st.Policy != want.Policy || st.DefaultCapacity != want.DefaultCapacity || !st.Sticky {
		t.Errorf("default settings = %+v, want %+v", st, want)
	}
	team := &kefu.Team{WorkspaceID: ws.ID, Name: "T"}
	if err := s.CreateTeam(f.ctx, team); err != nil {
		t.Fatalf("CreateTeam: %v", err)
	}
	st.Policy, st.DefaultCapacity, st.Sticky, st.TeamIDs = "round_robin", 3, false, []int64{team.ID}
	st.BusinessHours = json.RawMessage(`{"time_zone":"Asia/Shanghai","weekly":{"1":[{"start":540,"end":1080}]}}`)
	st.AutoResolveAfter, st.RemindAfter = kefu.Duration(time.Hour), kefu.Duration(5*time.Minute)
	if err := s.PutRoutingSettings(f.ctx, st); err != nil {
		t.Fatalf("PutRoutingSettings: %v", err)
	}
	got, err := s.GetRoutingSettings(f.ctx, ws.ID, in.ID)
	if err != nil {
		t.Fatalf("GetRoutingSettings: %v", err)
	}
	var hours map[string]any
	if err := json.Unmarshal(got.BusinessHours, &hours); err != nil || hours["time_zone"] != "Asia/Shanghai" {
		t.Errorf("business hours = %s, want the schedule back", got.BusinessHours)
	}
	if got.Policy != "round_robin" || got.DefaultCapacity != 3 || got.Sticky || !slices.Equal(got.TeamIDs, []int64{team.ID}) ||
		got.AutoResolveAfter != kefu.Duration(time.Hour) || got.RemindAfter != kefu.Duration(5*time.Minute) {
		t.Errorf("settings = %+v, want what was put", got)
	}
	all, err := s.ListRoutingSettings(f.ctx)
	if err != nil || len(all) != 1 || all[0].InboxID != in.ID {
		t.Errorf("ListRoutingSettings = %v, %v; want the one inbox", all, err)
	}
	bad := *st
	bad.TeamIDs = []int64{999999}
	wantCode(t, "PutRoutingSettings unknown team", s.PutRoutingSettings(f.ctx, &bad), kefu.ENotFound)
	_, err = s.GetRoutingSettings(f.ctx, ws.ID, 999999)
	wantCode(t, "GetRoutingSettings unknown inbox", err, kefu.ENotFound)
}

func testRoutingRules(t *testing.T, s kefu.Store) {
	f := newFixture(t, s)
	ws := f.workspace()
	in := f.inbox(ws.ID)
	rule := json.RawMessage(`{"event":"conversation_created","conditions":[],"actions":[{"type":"add_label","value":"x"}]}`)
	r1 := &kefu.RoutingRule{WorkspaceID: ws.ID, Name: "later", Position: 2, Enabled: true, Rule: rule}
	r2 := &kefu.RoutingRule{WorkspaceID: ws.ID, InboxID: in.ID, Name: "first", Position: 1, Enabled: false, Rule: rule}
	for _, r := range []*kefu.RoutingRule{r1, r2} {
		if err := s.CreateRoutingRule(f.ctx, r); err != nil {
			t.Fatalf("CreateRoutingRule: %v", err)
		}
	}
	list, err := s.ListRoutingRules(f.ctx, ws.ID)
	if err != nil || len(list) != 2 || list[0].ID != r2.ID || list[1].ID != r1.ID || list[0].InboxID != in.ID || list[0].Enabled {
		t.Fatalf("ListRoutingRules = %+v, %v; want first then later", list, err)
	}
	r1.Position, r1.Name = 0, "now first"
	if err := s.UpdateRoutingRule(f.ctx, r1); err != nil {
		t.Fatalf("UpdateRoutingRule: %v", err)
	}
	if list, _ := s.ListRoutingRules(f.ctx, ws.ID); list[0].ID != r1.ID || list[0].Name != "now first" {
		t.Errorf("after update, first rule = %+v", list[0])
	}
	wantCode(t, "CreateRoutingRule unknown inbox", s.CreateRoutingRule(f.ctx, &kefu.RoutingRule{WorkspaceID: ws.ID, InboxID: 999999, Name: "x", Rule: rule}), kefu.ENotFound)
	if err := s.DeleteRoutingRule(f.ctx, ws.ID, r1.ID); err != nil {
		t.Fatalf("DeleteRoutingRule: %v", err)
	}
	wantCode(t, "DeleteRoutingRule again", s.DeleteRoutingRule(f.ctx, ws.ID, r1.ID), kefu.ENotFound)
}

// testQueueOrder: the store's queue order is routing.Compare.
func testQueueOrder(t *testing.T, s kefu.Store) {
	f := newFixture(t, s)
	ws := f.workspace()
	in := f.inbox(ws.ID)
	base := kefu.Now().Add(-time.Hour)
	prios := []kefu.Priority{kefu.PriorityNone, kefu.PriorityLow, kefu.PriorityMedium, kefu.PriorityHigh, kefu.PriorityUrgent}
	rng := rand.New(rand.NewPCG(1, 2))
	var reqs []routing.Request
	for i := range 40 {
		at := base.Add(time.Duration(rng.IntN(10)) * time.Second) // ties on time, broken by id
		c := f.queued(ws.ID, in.ID, 0, prios[rng.IntN(len(prios))], at)
		reqs = append(reqs, routing.Request{ConversationID: c.ID, Priority: c.Priority, ArrivedAt: *c.QueuedAt})
		_ = i
	}
	// Neither assigned nor resolved conversations are queued.
	assigned := f.queued(ws.ID, in.ID, 0, kefu.PriorityUrgent, base)
	agent := f.agent(ws.ID)
	if _, err := s.UpdateConversation(f.ctx, ws.ID, assigned.ID, kefu.ConversationUpdate{AssigneeID: &agent.ID}); err != nil {
		t.Fatal(err)
	}
	resolved := f.queued(ws.ID, in.ID, 0, kefu.PriorityUrgent, base)
	st := kefu.StatusResolved
	if _, err := s.UpdateConversation(f.ctx, ws.ID, resolved.ID, kefu.ConversationUpdate{Status: &st}); err != nil {
		t.Fatal(err)
	}
	f.conversation(ws.ID, in.ID, f.contact(ws.ID).ID) // never queued
	routing.Sort(reqs)
	q, err := s.ListQueue(f.ctx, ws.ID, in.ID, 1000)
	if err != nil {
		t.Fatalf("ListQueue: %v", err)
	}
	var got, want []int64
	for _, e := range q {
		got = append(got, e.ConversationID)
	}
	for _, r := range reqs {
		want = append(want, r.ConversationID)
	}
	if !slices.Equal(got, want) {
		t.Errorf("ListQueue order = %v,\nwant routing.Compare order %v", got, want)
	}
}

// testClaimRechecksCapacity: a decision naming a full agent (as from a
// stale snapshot) is refused under the agent's lock, and the claim asks
// again. The callback names the full agent whatever the snapshot says, so
// only the store's own lock-and-recount can refuse it.
func testClaimRechecksCapacity(t *testing.T, s kefu.Store) {
	f := newFixture(t, s)
	ws := f.workspace()
	in := f.inbox(ws.ID)
	full, free := f.agent(ws.ID), f.agent(ws.ID)
	now := kefu.Now()
	f.online(ws.ID, now, full, free)
	st := kefu.DefaultRoutingSettings(ws.ID, in.ID)
	st.DefaultCapacity = 1
	if err := s.PutRoutingSettings(f.ctx, st); err != nil {
		t.Fatal(err)
	}
	f.conversation(ws.ID, in.ID, f.contact(ws.ID).ID, func(c *kefu.Conversation) { c.AssigneeID = full.ID })
	c := f.queued(ws.ID, in.ID, 0, "", now)
	var asked []int64
	a, err := s.ClaimConversation(f.ctx, ws.ID, c.ID, now, func(snap *kefu.ClaimSnapshot) kefu.Decision {
		// The full agent first, ignoring the snapshot; then the free one.
		pick := full.ID
		if len(asked) > 0 {
			pick = free.ID
		}
		asked = append(asked, pick)
		return kefu.Decision{AgentID: pick, Reason: "test"}
	})
	if err != nil {
		t.Fatalf("ClaimConversation: %v", err)
	}
	if a == nil || a.AgentID != free.ID || a.Conversation.AssigneeID != free.ID {
		t.Fatalf("claim = %+v, want the free agent %d (asked %v)", a, free.ID, asked)
	}
	if !slices.Equal(asked, []int64{full.ID, free.ID}) {
		t.Errorf("decide asked %v, want the full agent %d refused, then %d", asked, full.ID, free.ID)
	}
	if got := f.getConversation(ws.ID, c.ID); got.AssigneeID != free.ID {
		t.Errorf("stored assignee = %d, want %d", got.AssigneeID, free.ID)
	}
	// A decision that keeps naming the full agent is refused every time:
	// the claim gives up (at most once per agent, plus one) and the
	// conversation stays queued.
	stubborn := f.queued(ws.ID, in.ID, 0, "", now)
	calls := 0
	a, err = s.ClaimConversation(f.ctx, ws.ID, stubborn.ID, now, func(*kefu.ClaimSnapshot) kefu.Decision {
		calls++
		return kefu.Decision{AgentID: full.ID, Reason: "test"}
	})
	if err != nil || a != nil {
		t.Fatalf("claim always naming the full agent = %+v, %v; want nil", a, err)
	}
	if calls < 1 || calls > 3 {
		t.Errorf("decide called %d times for 2 agents, want between 1 and 3", calls)
	}
	if got := f.getConversation(ws.ID, stubborn.ID); got.AssigneeID != 0 || got.QueuedAt == nil {
		t.Errorf("conversation after refused claims = %+v, want queued and unassigned", got)
	}
	if st, err := s.AgentState(f.ctx, ws.ID, full.ID); err != nil || st.Open != 1 {
		t.Errorf("full agent's open count = %+v, %v; want still 1", st, err)
	}
	// Claiming again does nothing: it is no longer queued.
	if again := f.claim(ws.ID, c.ID, now); again != nil {
		t.Errorf("second claim = %+v, want nil", again)
	}
	// Nobody with room: it stays queued.
	resolved := kefu.StatusResolved
	if _, err := s.UpdateConversation(f.ctx, ws.ID, stubborn.ID, kefu.ConversationUpdate{Status: &resolved}); err != nil {
		t.Fatal(err)
	}
	c2 := f.queued(ws.ID, in.ID, 0, "", now)
	if a := f.claim(ws.ID, c2.ID, now); a != nil {
		t.Errorf("claim with everyone full = %+v, want nil", a)
	}
	if got := f.getConversation(ws.ID, c2.ID); got.AssigneeID != 0 || got.QueuedAt == nil {
		t.Errorf("unclaimed conversation = %+v, want queued and unassigned", got)
	}
}

// testClaimServesQueueInOrder: pushing a new conversation to an agent
// with room gives them the earliest queued conversation they may take
// instead (queued overnight, or while the inbox was manual), and the new
// one waits its turn. One the agent may not take (another team's) does not
// hold the new one back, nor does anything ordered after it.
func testClaimServesQueueInOrder(t *testing.T, s kefu.Store) {
	f := newFixture(t, s)
	ws := f.workspace()
	in := f.inbox(ws.ID)
	agent := f.agent(ws.ID)
	st := kefu.DefaultRoutingSettings(ws.ID, in.ID)
	st.DefaultCapacity = 1
	if err := s.PutRoutingSettings(f.ctx, st); err != nil {
		t.Fatal(err)
	}
	other := &kefu.Team{WorkspaceID: ws.ID, Name: "Other"}
	if err := s.CreateTeam(f.ctx, other); err != nil {
		t.Fatal(err)
	}
	now := kefu.Now()
	f.online(ws.ID, now, agent)
	// Queued while nobody could take them, oldest first.
	otherTeam := f.queued(ws.ID, in.ID, other.ID, kefu.PriorityUrgent, now.Add(-3*time.Hour))
	waiting := f.queued(ws.ID, in.ID, 0, "", now.Add(-2*time.Hour))
	later := f.queued(ws.ID, in.ID, 0, "", now.Add(-time.Hour))
	fresh := f.queued(ws.ID, in.ID, 0, "", now)

	a := f.claim(ws.ID, fresh.ID, now)
	if a == nil || a.Conversation.ID != waiting.ID || a.AgentID != agent.ID || a.Reason != "queue" {
		t.Fatalf("push of the new conversation %d = %+v; want the earliest conversation the agent may take, %d, with reason queue", fresh.ID, a, waiting.ID)
	}
	for _, c := range []*kefu.Conversation{otherTeam, later, fresh} {
		if got := f.getConversation(ws.ID, c.ID); got.AssigneeID != 0 || got.QueuedAt == nil {
			t.Errorf("conversation %d = assignee %d, queued %v; want still queued", c.ID, got.AssigneeID, got.QueuedAt)
		}
	}
	q, err := s.ListQueue(f.ctx, ws.ID, in.ID, 10)
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, e := range q {
		ids = append(ids, e.ConversationID)
	}
	if want := []int64{otherTeam.ID, later.ID, fresh.ID}; !slices.Equal(ids, want) {
		t.Errorf("queue after the claim = %v, want %v", ids, want)
	}

	// The agent is now full: the next push assigns nothing.
	if a := f.claim(ws.ID, fresh.ID, now); a != nil {
		t.Fatalf("push with the only agent full = %+v, want nil", a)
	}

	// An urgent arrival is itself the head of the queue for this agent
	// (the earlier urgent one needs another team): it is the one served.
	resolved := kefu.StatusResolved
	if _, err := s.UpdateConversation(f.ctx, ws.ID, waiting.ID, kefu.ConversationUpdate{Status: &resolved}); err != nil {
		t.Fatal(err)
	}
	urgent := f.queued(ws.ID, in.ID, 0, kefu.PriorityUrgent, now.Add(time.Minute))
	if a := f.claim(ws.ID, urgent.ID, now); a == nil || a.Conversation.ID != urgent.ID || a.Reason != "least_loaded" {
		t.Fatalf("push of an urgent arrival = %+v; want it assigned itself (least_loaded), ahead of %d and %d", a, later.ID, fresh.ID)
	}
}

func testClaimNext(t *testing.T, s kefu.Store) {
	f := newFixture(t, s)
	ws := f.workspace()
	in := f.inbox(ws.ID)
	agent := f.agent(ws.ID)
	now := kefu.Now()
	f.online(ws.ID, now, agent)
	teamA := &kefu.Team{WorkspaceID: ws.ID, Name: "A", AgentIDs: []int64{agent.ID}}
	teamB := &kefu.Team{WorkspaceID: ws.ID, Name: "B"}
	for _, tm := range []*kefu.Team{teamA, teamB} {
		if err := s.CreateTeam(f.ctx, tm); err != nil {
			t.Fatal(err)
		}
	}
	otherTeam := f.queued(ws.ID, in.ID, teamB.ID, kefu.PriorityUrgent, now.Add(-time.Hour))
	low := f.queued(ws.ID, in.ID, 0, kefu.PriorityLow, now.Add(-time.Hour))
	high := f.queued(ws.ID, in.ID, teamA.ID, kefu.PriorityHigh, now)
	pull := kefu.PullRequest{WorkspaceID: ws.ID, AgentID: agent.ID, Capacity: 2, InboxIDs: []int64{in.ID}, Teams: []int64{teamA.ID}, Now: now}
	var got []int64
	for range 3 {
		a, err := s.ClaimNext(f.ctx, pull)
		if err != nil {
			t.Fatalf("ClaimNext: %v", err)
		}
		if a != nil {
			got = append(got, a.Conversation.ID)
		}
	}
	// High priority first, then low; the urgent one needs team B; then
	// capacity 2 stops the third pull.
	if !slices.Equal(got, []int64{high.ID, low.ID}) {
		t.Errorf("pulled %v, want [%d %d] (team B's %d skipped)", got, high.ID, low.ID, otherTeam.ID)
	}
}

func testSweeps(t *testing.T, s kefu.Store) {
	f := newFixture(t, s)
	ws := f.workspace()
	in := f.inbox(ws.ID)
	agent := f.agent(ws.ID)
	old := kefu.Now().Add(-2 * time.Hour)
	idle := f.conversation(ws.ID, in.ID, f.contact(ws.ID).ID, func(c *kefu.Conversation) {
		c.AssigneeID = agent.ID
		c.CreatedAt, c.LastActivityAt = old, old
	})
	f.conversation(ws.ID, in.ID, f.contact(ws.ID).ID) // active now
	// Waiting in the queue just as long: not idle, it waits for an agent.
	waiting := f.conversation(ws.ID, in.ID, f.contact(ws.ID).ID, func(c *kefu.Conversation) { c.CreatedAt, c.LastActivityAt = old, old })
	if _, err := s.Requeue(f.ctx, ws.ID, waiting.ID, 0, "", old); err != nil {
		t.Fatal(err)
	}
	list, err := s.IdleConversations(f.ctx, ws.ID, in.ID, kefu.Now().Add(-time.Hour), 10)
	if err != nil || len(list) != 1 || list[0].ID != idle.ID {
		t.Fatalf("IdleConversations = %v, %v; want only %d (queued %d is not idle)", ids(list, func(c *kefu.Conversation) int64 { return c.ID }), err, idle.ID, waiting.ID)
	}
	// Waiting on the agent: the contact spoke last. Appending moves the
	// activity time to now, so ask with a cutoff in the future.
	f.send(idle, "hello?")
	later := kefu.Now().Add(time.Minute)
	list, err = s.AwaitingAgent(f.ctx, ws.ID, in.ID, later, 10)
	if err != nil || len(list) != 1 || list[0].ID != idle.ID {
		t.Fatalf("AwaitingAgent = %v, %v; want %d", list, err, idle.ID)
	}
	if err := s.MarkReminded(f.ctx, ws.ID, idle.ID, list[0].LastSeq); err != nil {
		t.Fatal(err)
	}
	if list, _ := s.AwaitingAgent(f.ctx, ws.ID, in.ID, later, 10); len(list) != 0 {
		t.Errorf("AwaitingAgent after reminder = %v, want none", list)
	}
	f.append(&kefu.Message{WorkspaceID: ws.ID, ConversationID: idle.ID, SenderType: kefu.SenderAgent, SenderID: agent.ID, Kind: kefu.KindText, Body: "hi"})
	f.send(idle, "still there?")
	if list, _ := s.AwaitingAgent(f.ctx, ws.ID, in.ID, later.Add(time.Minute), 10); len(list) != 1 {
		t.Errorf("AwaitingAgent after a new contact message = %v, want it again", list)
	}
}

func testRoutingIsolation(t *testing.T, s kefu.Store) {
	f := newFixture(t, s)
	a, b := f.tenant(), f.tenant()
	team := &kefu.Team{WorkspaceID: a.ws.ID, Name: "A team", AgentIDs: []int64{a.agent.ID}}
	if err := s.CreateTeam(f.ctx, team); err != nil {
		t.Fatal(err)
	}
	_, err := s.GetTeam(f.ctx, b.ws.ID, team.ID)
	wantCode(t, "GetTeam(B)", err, kefu.ENotFound)
	wantCode(t, "DeleteTeam(B)", s.DeleteTeam(f.ctx, b.ws.ID, team.ID), kefu.ENotFound)
	wantCode(t, "UpdateTeam(B)", s.UpdateTeam(f.ctx, &kefu.Team{ID: team.ID, WorkspaceID: b.ws.ID, Name: "stolen"}), kefu.ENotFound)
	wantCode(t, "CreateTeam with A's agent in B", s.CreateTeam(f.ctx, &kefu.Team{WorkspaceID: b.ws.ID, Name: "x", AgentIDs: []int64{a.agent.ID}}), kefu.ENotFound)
	if list, _ := s.ListTeams(f.ctx, b.ws.ID); len(list) != 0 {
		t.Errorf("ListTeams(B) = %v, want none", list)
	}
	wantCode(t, "SetAvailability(B, A's agent)", s.SetAvailability(f.ctx, b.ws.ID, a.agent.ID, kefu.AvailabilityOnline, kefu.Now()), kefu.ENotFound)
	if err := s.TouchAgents(f.ctx, b.ws.ID, []int64{a.agent.ID}, kefu.Now()); err != nil {
		t.Fatal(err)
	}
	states, _ := s.ListAgentStates(f.ctx, a.ws.ID)
	if len(states) != 1 || !states[0].LastSeenAt.IsZero() {
		t.Errorf("A's agent after B touched it = %+v, want untouched", states)
	}
	_, err = s.GetRoutingSettings(f.ctx, b.ws.ID, a.inbox.ID)
	wantCode(t, "GetRoutingSettings(B)", err, kefu.ENotFound)
	wantCode(t, "PutRoutingSettings(B)", s.PutRoutingSettings(f.ctx, kefu.DefaultRoutingSettings(b.ws.ID, a.inbox.ID)), kefu.ENotFound)
	wantCode(t, "PutRoutingSettings with A's team", s.PutRoutingSettings(f.ctx, &kefu.RoutingSettings{WorkspaceID: b.ws.ID, InboxID: b.inbox.ID, Policy: "manual", TeamIDs: []int64{team.ID}, BusinessHours: json.RawMessage("null")}), kefu.ENotFound)
	rule := &kefu.RoutingRule{WorkspaceID: a.ws.ID, Name: "r", Enabled: true, Rule: json.RawMessage(`{}`)}
	if err := s.CreateRoutingRule(f.ctx, rule); err != nil {
		t.Fatal(err)
	}
	wantCode(t, "CreateRoutingRule(B, A's inbox)", s.CreateRoutingRule(f.ctx, &kefu.RoutingRule{WorkspaceID: b.ws.ID, InboxID: a.inbox.ID, Rule: json.RawMessage(`{}`)}), kefu.ENotFound)
	wantCode(t, "UpdateRoutingRule(B)", s.UpdateRoutingRule(f.ctx, &kefu.RoutingRule{ID: rule.ID, WorkspaceID: b.ws.ID, Rule: json.RawMessage(`{}`)}), kefu.ENotFound)
	wantCode(t, "DeleteRoutingRule(B)", s.DeleteRoutingRule(f.ctx, b.ws.ID, rule.ID), kefu.ENotFound)
	if list, _ := s.ListRoutingRules(f.ctx, b.ws.ID); len(list) != 0 {
		t.Errorf("ListRoutingRules(B) = %v", list)
	}
	_, err = s.Requeue(f.ctx, b.ws.ID, a.conv.ID, 0, "", kefu.Now())
	wantCode(t, "Requeue(B)", err, kefu.ENotFound)
	_, err = s.Requeue(f.ctx, b.ws.ID, b.conv.ID, team.ID, "", kefu.Now())
	wantCode(t, "Requeue with A's team", err, kefu.ENotFound)
	if _, err := s.Requeue(f.ctx, a.ws.ID, a.conv.ID, 0, "", kefu.Now()); err != nil {
		t.Fatal(err)
	}
	if q, _ := s.ListQueue(f.ctx, b.ws.ID, 0, 10); len(q) != 0 {
		t.Errorf("ListQueue(B) = %v, want none", q)
	}
	if a := f.claim(b.ws.ID, a.conv.ID, kefu.Now()); a != nil {
		t.Errorf("ClaimConversation(B) = %+v, want nil", a)
	}
	f.online(b.ws.ID, kefu.Now(), b.agent)
	got, err := s.ClaimNext(f.ctx, kefu.PullRequest{WorkspaceID: b.ws.ID, AgentID: b.agent.ID, Capacity: 5, InboxIDs: []int64{a.inbox.ID}, Now: kefu.Now()})
	if err != nil || got != nil {
		t.Errorf("ClaimNext(B over A's inbox) = %+v, %v; want nothing", got, err)
	}
	if c := f.getConversation(a.ws.ID, a.conv.ID); c.AssigneeID != 0 {
		t.Errorf("A's conversation assigned to %d by B's claims", c.AssigneeID)
	}
}

// testClaimRace is the race: 500 conversations arrive at once
// against 20 agents of capacity 5. Every conversation is assigned at most
// once, nobody goes over capacity, the rest wait in queue order, and as
// agents free slots the queue drains strictly from its head.
func testClaimRace(t *testing.T, s kefu.Store) {
	const (
		nAgents  = 20
		capacity = 5
		nConvs   = 500
		workers  = 16
	)
	f := newFixture(t, s)
	ws := f.workspace()
	in := f.inbox(ws.ID)
	st := kefu.DefaultRoutingSettings(ws.ID, in.ID)
	st.DefaultCapacity = capacity
	if err := s.PutRoutingSettings(f.ctx, st); err != nil {
		t.Fatal(err)
	}
	agents := make([]*kefu.Agent, nAgents)
	for i := range agents {
		agents[i] = f.agent(ws.ID)
	}
	now := kefu.Now()
	f.online(ws.ID, now, agents...)
	prios := []kefu.Priority{kefu.PriorityNone, kefu.PriorityNone, kefu.PriorityLow, kefu.PriorityHigh, kefu.PriorityUrgent}
	convs := make([]*kefu.Conversation, nConvs)
	for i := range convs {
		convs[i] = f.queued(ws.ID, in.ID, 0, prios[i%len(prios)], now.Add(time.Duration(i%37)*time.Millisecond))
	}

	// Arrival: every conversation is pushed concurrently, in random order.
	wins := map[int64]int{}
	var mu sync.Mutex
	order := rand.New(rand.NewPCG(3, 4)).Perm(nConvs)
	work := make(chan int64)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for id := range work {
				a, err := s.ClaimConversation(f.ctx, ws.ID, id, now, func(snap *kefu.ClaimSnapshot) kefu.Decision { return routing.Decide(snap, grace) })
				if err != nil {
					t.Errorf("ClaimConversation(%d): %v", id, err)
					continue
				}
				if a != nil {
					mu.Lock()
					wins[a.Conversation.ID]++
					mu.Unlock()
				}
			}
		})
	}
	for _, i := range order {
		work <- convs[i].ID
	}
	close(work)
	wg.Wait()
	for id, n := range wins {
		if n > 1 {
			t.Errorf("conversation %d claimed %d times", id, n)
		}
	}
	if len(wins) != nAgents*capacity {
		t.Errorf("%d conversations assigned, want %d (every slot filled)", len(wins), nAgents*capacity)
	}
	checkLoads(t, f, ws.ID, capacity)

	// Drain in waves: resolve everything assigned, then let all agents
	// pull concurrently; each wave must take exactly the head of the queue.
	pull := func(agent *kefu.Agent) kefu.PullRequest {
		return kefu.PullRequest{WorkspaceID: ws.ID, AgentID: agent.ID, Capacity: capacity, InboxIDs: []int64{in.ID}, Now: now}
	}
	resolved := kefu.StatusResolved
	for wave := 1; ; wave++ {
		q, err := s.ListQueue(f.ctx, ws.ID, in.ID, nConvs)
		if err != nil {
			t.Fatal(err)
		}
		if len(q) == 0 {
			break
		}
		head := map[int64]bool{}
		for _, e := range q[:min(len(q), nAgents*capacity)] {
			head[e.ConversationID] = true
		}
		for _, a := range agents {
			list, err := s.ListConversations(f.ctx, kefu.ConversationFilter{WorkspaceID: ws.ID, AssigneeID: a.ID, Status: kefu.StatusOpen, Limit: 100})
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range list {
				if _, err := s.UpdateConversation(f.ctx, ws.ID, c.ID, kefu.ConversationUpdate{Status: &resolved}); err != nil {
					t.Fatal(err)
				}
			}
		}
		var got sync.Map
		for _, a := range agents {
			wg.Go(func() {
				for range capacity + 1 {
					as, err := s.ClaimNext(f.ctx, pull(a))
					if err != nil {
						t.Errorf("ClaimNext: %v", err)
						return
					}
					if as == nil {
						return
					}
					if _, dup := got.LoadOrStore(as.Conversation.ID, a.ID); dup {
						t.Errorf("conversation %d pulled twice", as.Conversation.ID)
					}
				}
			})
		}
		wg.Wait()
		n := 0
		got.Range(func(k, _ any) bool {
			n++
			if !head[k.(int64)] {
				t.Errorf("wave %d pulled %d, which was not at the head of the queue", wave, k)
			}
			return true
		})
		if n != len(head) {
			t.Errorf("wave %d pulled %d conversations, want %d", wave, n, len(head))
		}
		checkLoads(t, f, ws.ID, capacity)
		if t.Failed() {
			return
		}
	}
	for _, c := range convs {
		if got := f.getConversation(ws.ID, c.ID); got.AssigneeID == 0 {
			t.Fatalf("conversation %d never assigned", c.ID)
		}
	}
}

func checkLoads(t *testing.T, f *fixture, ws int64, capacity int) {
	t.Helper()
	states, err := f.s.ListAgentStates(f.ctx, ws)
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range states {
		if st.Open > capacity {
			t.Errorf("agent %d has %d open conversations, capacity %d", st.AgentID, st.Open, capacity)
		}
	}
}

// testWidgetCounts: QueueLength counts exactly the inbox's queue, and
// CountOnlineAgents exactly the agents routing.Connected would count
// (declared online, seen within the window, active), narrowed to teams.
func testWidgetCounts(t *testing.T, s kefu.Store) {
	f := newFixture(t, s)
	ws := f.workspace()
	in, other := f.inbox(ws.ID), f.inbox(ws.ID)
	now := kefu.Now()
	count := func(teams []int64, since time.Time) int {
		t.Helper()
		n, err := s.CountOnlineAgents(f.ctx, ws.ID, teams, since)
		if err != nil {
			t.Fatalf("CountOnlineAgents: %v", err)
		}
		return n
	}
	length := func(inbox int64) int {
		t.Helper()
		n, err := s.QueueLength(f.ctx, ws.ID, inbox)
		if err != nil {
			t.Fatalf("QueueLength: %v", err)
		}
		return n
	}
	if n := length(in.ID); n != 0 {
		t.Fatalf("QueueLength of an empty queue = %d", n)
	}
	for range 3 {
		f.queued(ws.ID, in.ID, 0, kefu.PriorityNone, now)
	}
	f.queued(ws.ID, other.ID, 0, kefu.PriorityNone, now)
	agent := f.agent(ws.ID)
	assigned := f.queued(ws.ID, in.ID, 0, kefu.PriorityUrgent, now)
	if _, err := s.UpdateConversation(f.ctx, ws.ID, assigned.ID, kefu.ConversationUpdate{AssigneeID: &agent.ID}); err != nil {
		t.Fatal(err)
	}
	f.conversation(ws.ID, in.ID, f.contact(ws.ID).ID) // never queued
	if n := length(in.ID); n != 3 {
		t.Errorf("QueueLength = %d, want 3 (not the other inbox's, the assigned or the never queued)", n)
	}
	if n, err := s.QueueLength(f.ctx, f.workspace().ID, in.ID); err != nil || n != 0 {
		t.Errorf("QueueLength from another workspace = %d, %v; want 0", n, err)
	}

	inTeam, fresh, stale, away, declared, inactive := f.agent(ws.ID), f.agent(ws.ID), f.agent(ws.ID), f.agent(ws.ID), f.agent(ws.ID), f.agent(ws.ID)
	team := &kefu.Team{WorkspaceID: ws.ID, Name: "T", AgentIDs: []int64{inTeam.ID, away.ID}}
	if err := s.CreateTeam(f.ctx, team); err != nil {
		t.Fatal(err)
	}
	f.online(ws.ID, now, inTeam, fresh, away, inactive)
	f.online(ws.ID, now.Add(-2*time.Minute), stale)
	if err := s.SetAvailability(f.ctx, ws.ID, away.ID, kefu.AvailabilityAway, now); err != nil {
		t.Fatal(err)
	}
	if err := s.SetAvailability(f.ctx, ws.ID, declared.ID, kefu.AvailabilityOnline, now); err != nil { // never seen
		t.Fatal(err)
	}
	inactive.Active = false
	if err := s.UpdateAgent(f.ctx, inactive); err != nil {
		t.Fatal(err)
	}
	since := now.Add(-grace)
	if n := count(nil, since); n != 2 {
		t.Errorf("CountOnlineAgents = %d, want 2 (not stale, away, never seen or inactive)", n)
	}
	if n := count([]int64{team.ID}, since); n != 1 {
		t.Errorf("CountOnlineAgents in the team = %d, want 1", n)
	}
	if n := count([]int64{team.ID + 1000}, since); n != 0 {
		t.Errorf("CountOnlineAgents in an unknown team = %d, want 0", n)
	}
	if n := count(nil, now.Add(-3*time.Minute)); n != 3 {
		t.Errorf("CountOnlineAgents over a longer window = %d, want 3", n)
	}
	if n := count(nil, now); n != 2 {
		t.Errorf("CountOnlineAgents seen at exactly since = %d, want 2 (inclusive, like routing.Connected)", n)
	}
	if n, err := s.CountOnlineAgents(f.ctx, f.workspace().ID, nil, since); err != nil || n != 0 {
		t.Errorf("CountOnlineAgents of another workspace = %d, %v; want 0", n, err)
	}
}

// testSetQueuedTeam: a rule's team change applies only while the
// conversation still waits; it never undoes an assignment.
func testSetQueuedTeam(t *testing.T, s kefu.Store) {
	f := newFixture(t, s)
	ws, other := f.workspace(), f.workspace()
	agent := f.agent(ws.ID)
	team := &kefu.Team{WorkspaceID: ws.ID, Name: "Billing", AgentIDs: []int64{agent.ID}}
	if err := s.CreateTeam(f.ctx, team); err != nil {
		t.Fatalf("CreateTeam: %v", err)
	}
	in := f.inbox(ws.ID)
	at := kefu.Now().Add(-time.Minute)
	waiting := f.queued(ws.ID, in.ID, 0, "", at)
	c, err := s.SetQueuedTeam(f.ctx, ws.ID, waiting.ID, team.ID, kefu.Now())
	if err != nil || c.TeamID != team.ID || c.QueuedAt == nil || !c.QueuedAt.Equal(*waiting.QueuedAt) {
		t.Fatalf("SetQueuedTeam on a waiting conversation = %+v, %v; want team %d, queued_at kept", c, err, team.ID)
	}
	// Not queued yet (the bot holds it): queued now, with the team.
	held := f.conversation(ws.ID, in.ID, f.contact(ws.ID).ID)
	now := kefu.Now()
	if c, err := s.SetQueuedTeam(f.ctx, ws.ID, held.ID, team.ID, now); err != nil || c.QueuedAt == nil || c.TeamID != team.ID {
		t.Fatalf("SetQueuedTeam on an unqueued conversation = %+v, %v; want queued with team", c, err)
	}
	// Assigned since the rule read it: nothing changes.
	// (Its own inbox: a claim serves an inbox's earlier queue first.)
	assigned := f.queued(ws.ID, f.inbox(ws.ID).ID, 0, "", at)
	f.online(ws.ID, kefu.Now(), agent)
	if a := f.claim(ws.ID, assigned.ID, kefu.Now()); a == nil || a.AgentID != agent.ID || a.Conversation.ID != assigned.ID {
		t.Fatalf("claim = %+v, want conversation %d to agent %d", a, assigned.ID, agent.ID)
	}
	_, err = s.SetQueuedTeam(f.ctx, ws.ID, assigned.ID, team.ID, kefu.Now())
	wantCode(t, "SetQueuedTeam on an assigned conversation", err, kefu.ENotFound)
	if c := f.getConversation(ws.ID, assigned.ID); c.AssigneeID != agent.ID || c.TeamID != 0 {
		t.Fatalf("assigned conversation after SetQueuedTeam: assignee %d team %d; want %d and 0", c.AssigneeID, c.TeamID, agent.ID)
	}
	// A missing team, another workspace's conversation: not found.
	_, err = s.SetQueuedTeam(f.ctx, ws.ID, waiting.ID, team.ID+1000, kefu.Now())
	wantCode(t, "SetQueuedTeam with a missing team", err, kefu.ENotFound)
	_, err = s.SetQueuedTeam(f.ctx, other.ID, waiting.ID, 0, kefu.Now())
	wantCode(t, "SetQueuedTeam across workspaces", err, kefu.ENotFound)
}
