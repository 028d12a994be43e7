package dispatch

import (
	"context"
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kefu-chat/kefu/internal/auth"
	"github.com/kefu-chat/kefu/internal/bus/inproc"
	"github.com/kefu-chat/kefu/internal/chat"
	"github.com/kefu-chat/kefu/internal/hub"
	"github.com/kefu-chat/kefu/internal/kefu"
	"github.com/kefu-chat/kefu/internal/kefutest"
	"github.com/kefu-chat/kefu/internal/store/sqlite"
)

// clock is a settable time for the sweeps and business hours.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time)     { c.mu.Lock(); c.t = t; c.mu.Unlock() }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }
func newClock(t time.Time) *clock    { return &clock{t: t} }
func (e *env) now() time.Time        { return e.clock.Now() }
func (e *env) ctx() context.Context  { return e.t.Context() }

type env struct {
	t       *testing.T
	store   kefu.Store
	chat    *chat.Service
	d       *Dispatcher
	hub     *hub.Hub
	f       *kefutest.Fixture
	clock   *clock
	bus     *inproc.Bus
	mu      sync.Mutex
	seen    []*kefu.Event
	markers int
}

// newEnv is a real SQLite store, chat service, hub (fed by the bus) and
// dispatcher with a fake clock; events published on the bus are recorded.
func newEnv(t *testing.T) *env {
	t.Helper()
	s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "kefu.db"), sqlite.Options{Synchronous: "NORMAL"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	e := &env{t: t, store: s, bus: inproc.New(), clock: newClock(kefu.Now())}
	e.bus.Subscribe(func(ev *kefu.Event) { e.mu.Lock(); e.seen = append(e.seen, ev); e.mu.Unlock() })
	e.chat = chat.New(s, e.bus, nil, nil)
	h := hub.New(e.chat, hub.Options{})
	h.Attach(e.bus)
	e.hub = h
	e.d = New(Options{Store: s, Chat: e.chat, Hub: h, Now: e.clock.Now, Grace: time.Minute})
	h.OnVisitorOpen(e.d.VisitorConnected)
	e.f = kefutest.NewFixture(t, s, auth.NewAuthenticator(s, time.Now), "Acme")
	return e
}

func (e *env) must(err error) {
	e.t.Helper()
	if err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) online(agents ...*kefu.Agent) {
	e.t.Helper()
	for _, a := range agents {
		e.must(e.store.SetAvailability(e.ctx(), a.WorkspaceID, a.ID, kefu.AvailabilityOnline, e.now()))
		e.must(e.store.TouchAgents(e.ctx(), a.WorkspaceID, []int64{a.ID}, e.now()))
	}
}

func (e *env) settings(edit func(*kefu.RoutingSettings)) {
	e.t.Helper()
	st, err := e.store.GetRoutingSettings(e.ctx(), e.f.Workspace.ID, e.f.Inbox.ID)
	e.must(err)
	edit(st)
	e.must(e.store.PutRoutingSettings(e.ctx(), st))
	e.d.Forget(e.f.Workspace.ID, e.f.Inbox.ID)
}

// start opens a new conversation as a new visitor of the fixture's inbox,
// through the chat service as the widget does.
func (e *env) start(edit ...func(*kefu.Contact)) *kefu.Conversation {
	e.t.Helper()
	now := kefu.Now()
	c := &kefu.Contact{WorkspaceID: e.f.Workspace.ID, VisitorID: auth.RandomString(12), Attributes: map[string]any{},
		FirstSeenAt: now, LastSeenAt: now, CreatedAt: now, UpdatedAt: now}
	for _, fn := range edit {
		fn(c)
	}
	e.must(e.store.CreateContact(e.ctx(), c))
	conv, err := e.chat.StartConversation(e.ctx(), kefu.Actor{WorkspaceID: c.WorkspaceID, Type: kefu.SenderContact, ID: c.ID, InboxID: e.f.Inbox.ID})
	e.must(err)
	got, err := e.store.GetConversation(e.ctx(), conv.WorkspaceID, conv.ID)
	e.must(err)
	return got
}

func (e *env) get(id int64) *kefu.Conversation {
	e.t.Helper()
	c, err := e.store.GetConversation(e.ctx(), e.f.Workspace.ID, id)
	e.must(err)
	return c
}

// eventually polls cond: pulls after a freed slot run off the caller's path.
func (e *env) eventually(what string, cond func() bool) {
	e.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			e.t.Fatalf("timed out waiting: %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (e *env) bodies(conv int64) []string {
	e.t.Helper()
	ms, err := e.store.ListMessages(e.ctx(), kefu.MessageRange{WorkspaceID: e.f.Workspace.ID, ConversationID: conv, Limit: 100, IncludePrivate: true})
	e.must(err)
	var out []string
	for _, m := range ms {
		out = append(out, string(m.Kind)+":"+m.Body)
	}
	return out
}

func TestNewConversationIsAssignedWithEventLine(t *testing.T) {
	e := newEnv(t)
	e.online(e.f.Agent)
	c := e.start()
	if c.AssigneeID != e.f.Agent.ID {
		t.Fatalf("assignee = %d, want the online agent %d", c.AssigneeID, e.f.Agent.ID)
	}
	if got := e.bodies(c.ID); len(got) != 1 || !strings.HasPrefix(got[0], "event:Assigned to ") {
		t.Errorf("transcript = %q, want one 'Assigned to' event line", got)
	}
	var frame map[string]any
	e.mu.Lock()
	for _, ev := range e.seen {
		if ev.Type == kefu.EventConversation && ev.ConversationID == c.ID {
			var f map[string]any
			_ = json.Unmarshal(ev.Frame, &f)
			if f["event"] == "assigned" {
				frame = f
			}
		}
	}
	e.mu.Unlock()
	if frame == nil || frame["reason"] != "least_loaded" {
		t.Errorf("assigned frame = %v, want event assigned with reason least_loaded", frame)
	}
}

func TestNobodyOnlineQueuesThenPullOnOnline(t *testing.T) {
	e := newEnv(t)
	c := e.start()
	if c.AssigneeID != 0 || c.QueuedAt == nil {
		t.Fatalf("with nobody online: %+v, want queued", c)
	}
	// The admin declares online: the dispatcher pulls for them.
	e.must(e.chat.SetPresence(e.ctx(), e.f.AdminActor(), "online"))
	e.eventually("queued conversation assigned to the agent who came online", func() bool { return e.get(c.ID).AssigneeID == e.f.Admin.ID })
}

func TestAwayAndStaleAgentsGetNothing(t *testing.T) {
	e := newEnv(t)
	e.online(e.f.Agent, e.f.Admin)
	e.must(e.chat.SetPresence(e.ctx(), e.f.AdminActor(), "away"))
	// The agent's last heartbeat is older than the grace period.
	e.clock.Add(61 * time.Second)
	if c := e.start(); c.AssigneeID != 0 {
		t.Fatalf("assigned to %d; an away agent and one unseen for longer than the grace period must get nothing", c.AssigneeID)
	}
}

func TestStickyReturnsToLastAgent(t *testing.T) {
	e := newEnv(t)
	e.online(e.f.Agent, e.f.Admin)
	first := e.start()
	served := first.AssigneeID
	resolved := kefu.StatusResolved
	_, err := e.chat.UpdateConversation(e.ctx(), e.f.AdminActor(), first.ID, chat.ConversationChange{Status: &resolved})
	e.must(err)
	// Load the other agent less: least_loaded alone would pick them.
	other := e.f.Admin.ID
	if served == other {
		other = e.f.Agent.ID
	}
	contact, err := e.store.GetContact(e.ctx(), e.f.Workspace.ID, first.ContactID)
	e.must(err)
	again, err := e.chat.StartConversation(e.ctx(), kefu.Actor{WorkspaceID: contact.WorkspaceID, Type: kefu.SenderContact, ID: contact.ID, InboxID: e.f.Inbox.ID})
	e.must(err)
	if got := e.get(again.ID).AssigneeID; got != served {
		t.Errorf("returning contact went to %d, want the agent who served them, %d (other: %d)", got, served, other)
	}
}

func TestRulesSetTeamPriorityAndLabel(t *testing.T) {
	e := newEnv(t)
	sales := &kefu.Team{WorkspaceID: e.f.Workspace.ID, Name: "Sales", AgentIDs: []int64{e.f.Admin.ID}}
	e.must(e.store.CreateTeam(e.ctx(), sales))
	rule := `{"event":"conversation_created","conditions":[{"field":"page_url","op":"contains","value":"/pricing"}],
		"actions":[{"type":"set_team","value":"` + itoa(sales.ID) + `"},{"type":"set_priority","value":"high"},{"type":"add_label","value":"sales"}]}`
	e.must(e.store.CreateRoutingRule(e.ctx(), &kefu.RoutingRule{WorkspaceID: e.f.Workspace.ID, Name: "pricing", Enabled: true, Rule: json.RawMessage(rule)}))
	e.online(e.f.Agent, e.f.Admin)
	c := e.start(func(c *kefu.Contact) { c.PageURL = "https://shop.example/pricing?plan=pro" })
	if c.TeamID != sales.ID || c.Priority != kefu.PriorityHigh || len(c.Labels) != 1 || c.Labels[0] != "sales" {
		t.Errorf("after rules: team %d priority %s labels %v; want team %d, high, [sales]", c.TeamID, c.Priority, c.Labels, sales.ID)
	}
	if c.AssigneeID != e.f.Admin.ID {
		t.Errorf("assigned to %d, want the only Sales member %d", c.AssigneeID, e.f.Admin.ID)
	}
	plain := e.start(func(c *kefu.Contact) { c.PageURL = "https://shop.example/help" })
	if plain.TeamID != 0 || plain.Priority != kefu.PriorityNone {
		t.Errorf("rule applied to a page that does not match: %+v", plain)
	}
}

func TestCapacityQueueAndDrainOnResolve(t *testing.T) {
	e := newEnv(t)
	e.settings(func(st *kefu.RoutingSettings) { st.DefaultCapacity = 1 })
	e.online(e.f.Agent)
	a, b := e.start(), e.start()
	if a.AssigneeID != e.f.Agent.ID || b.AssigneeID != 0 {
		t.Fatalf("capacity 1: first %d, second %d; want the agent, then queued", a.AssigneeID, b.AssigneeID)
	}
	resolved := kefu.StatusResolved
	_, err := e.chat.UpdateConversation(e.ctx(), e.f.AgentActor(), a.ID, chat.ConversationChange{Status: &resolved})
	e.must(err)
	e.eventually("the queued conversation assigned when the agent resolved theirs", func() bool { return e.get(b.ID).AssigneeID == e.f.Agent.ID })
}

func TestManualPolicyQueuesOnly(t *testing.T) {
	e := newEnv(t)
	e.settings(func(st *kefu.RoutingSettings) { st.Policy = "manual" })
	e.online(e.f.Agent)
	c := e.start()
	if c.AssigneeID != 0 || c.QueuedAt == nil {
		t.Fatalf("manual inbox assigned %d; want queued", c.AssigneeID)
	}
	if n, err := e.d.Pull(e.ctx(), e.f.Workspace.ID, e.f.Agent.ID); err != nil || n != 0 {
		t.Errorf("pull from a manual inbox took %d (%v), want 0", n, err)
	}
}

// TestBusinessHoursHoldTheQueue: outside hours a conversation waits; at
// the opening the backstop pull assigns it.
func TestBusinessHoursHoldTheQueue(t *testing.T) {
	e := newEnv(t)
	shanghai, _ := time.LoadLocation("Asia/Shanghai")
	// Opens at 09:00 Shanghai every day.
	e.settings(func(st *kefu.RoutingSettings) {
		week := `{"0":[{"start":540,"end":1080}],"1":[{"start":540,"end":1080}],"2":[{"start":540,"end":1080}],"3":[{"start":540,"end":1080}],"4":[{"start":540,"end":1080}],"5":[{"start":540,"end":1080}],"6":[{"start":540,"end":1080}]}`
		st.BusinessHours = json.RawMessage(`{"time_zone":"Asia/Shanghai","weekly":` + week + `}`)
	})
	y, m, d := time.Now().In(shanghai).Date()
	e.clock.Set(time.Date(y, m, d, 8, 59, 0, 0, shanghai))
	e.online(e.f.Agent)
	st, err := e.d.Status(e.ctx(), e.f.Workspace.ID, e.f.Inbox.ID)
	e.must(err)
	if st.Open || st.NextOpening == nil || !st.NextOpening.Equal(time.Date(y, m, d, 9, 0, 0, 0, shanghai)) {
		t.Fatalf("status at 08:59 = %+v, want closed, opening at 09:00 Shanghai", st)
	}
	c := e.start()
	if c.AssigneeID != 0 {
		t.Fatalf("assigned outside business hours")
	}
	e.clock.Set(time.Date(y, m, d, 9, 0, 30, 0, shanghai))
	e.online(e.f.Agent)
	n, err := e.d.Pull(e.ctx(), e.f.Workspace.ID, e.f.Agent.ID)
	if err != nil || n != 1 || e.get(c.ID).AssigneeID != e.f.Agent.ID {
		t.Errorf("pull at 09:00:30 took %d (%v); want the waiting conversation", n, err)
	}
}

func TestTransferToTeamAndAgent(t *testing.T) {
	e := newEnv(t)
	e.online(e.f.Agent)
	c := e.start()
	if c.AssigneeID != e.f.Agent.ID {
		t.Fatal("not assigned")
	}
	vip := &kefu.Team{WorkspaceID: e.f.Workspace.ID, Name: "VIP", AgentIDs: []int64{e.f.Admin.ID}}
	e.must(e.store.CreateTeam(e.ctx(), vip))
	// The receiving agents' workbenches: the admin (VIP) first, then the agent.
	adminWS, agentWS := e.connect(e.f.AdminActor()), e.connect(e.f.AgentActor())
	// Nobody in VIP is online: it waits in the queue for that team.
	after, err := e.d.Transfer(e.ctx(), e.f.AgentActor(), c.ID, 0, vip.ID, "big order")
	e.must(err)
	if after.AssigneeID != 0 || after.TeamID != vip.ID {
		t.Fatalf("after transfer to team: %+v, want queued for team %d", after, vip.ID)
	}
	// The agent (not in VIP) pulling must not take it.
	if n, _ := e.d.Pull(e.ctx(), e.f.Workspace.ID, e.f.Agent.ID); n != 0 {
		t.Errorf("an agent outside the team pulled %d", n)
	}
	e.online(e.f.Admin)
	e.must(e.chat.SetPresence(e.ctx(), e.f.AdminActor(), "online"))
	e.eventually("VIP member takes it", func() bool { return e.get(c.ID).AssigneeID == e.f.Admin.ID })
	// And back to a named agent.
	after, err = e.d.Transfer(e.ctx(), e.f.AdminActor(), c.ID, e.f.Agent.ID, 0, "")
	e.must(err)
	if after.AssigneeID != e.f.Agent.ID {
		t.Errorf("after transfer to agent: assignee %d", after.AssigneeID)
	}
	got := e.bodies(c.ID)
	notes := 0
	for _, b := range got {
		if strings.HasPrefix(b, "note:Transferred to ") {
			notes++
		}
	}
	if notes != 2 || !strings.Contains(strings.Join(got, "|"), "note:Transferred to team VIP: big order") {
		t.Errorf("transcript = %q, want two private transfer notes, the first with its note", got)
	}
	// Each receiving agent is told: from whom, to which team, and the seq
	// of the private note carrying the transfer note.
	ms, err := e.store.ListMessages(e.ctx(), kefu.MessageRange{WorkspaceID: e.f.Workspace.ID, ConversationID: c.ID, Limit: 100, IncludePrivate: true})
	e.must(err)
	var noteSeqs []int64
	for _, m := range ms {
		if m.Kind == kefu.KindNote && strings.HasPrefix(m.Body, "Transferred to ") {
			noteSeqs = append(noteSeqs, m.Seq)
		}
	}
	if len(noteSeqs) != 2 {
		t.Fatalf("transfer notes at seqs %v, want 2", noteSeqs)
	}
	transferred := func(p *pipe) func() []map[string]any {
		return func() []map[string]any {
			var out []map[string]any
			for _, f := range p.of("conversation") {
				if f["event"] == "transferred" && num(f["conversation"].(map[string]any)["id"]) == c.ID {
					out = append(out, f)
				}
			}
			return out
		}
	}
	toAdmin, toAgent := transferred(adminWS), transferred(agentWS)
	e.eventually("both transfer frames on both workbenches", func() bool { return len(toAdmin()) == 2 && len(toAgent()) == 2 })
	for name, frames := range map[string][]map[string]any{"admin (team VIP)": toAdmin(), "agent": toAgent()} {
		team, agent := frames[0], frames[1]
		if num(team["from_agent_id"]) != e.f.Agent.ID || num(team["to_team_id"]) != vip.ID || num(team["note_seq"]) != noteSeqs[0] ||
			team["reason"] != "transfer" || num(team["conversation"].(map[string]any)["team_id"]) != vip.ID {
			t.Errorf("%s: transfer to the team = %v; want from agent %d to team %d, note seq %d", name, team, e.f.Agent.ID, vip.ID, noteSeqs[0])
		}
		if num(agent["from_agent_id"]) != e.f.Admin.ID || agent["to_team_id"] != nil || num(agent["note_seq"]) != noteSeqs[1] ||
			num(agent["conversation"].(map[string]any)["assignee_id"]) != e.f.Agent.ID {
			t.Errorf("%s: transfer to the agent = %v; want from %d to assignee %d, note seq %d", name, agent, e.f.Admin.ID, e.f.Agent.ID, noteSeqs[1])
		}
	}
	_, err = e.d.Transfer(e.ctx(), e.f.AgentActor(), c.ID, e.f.Agent.ID, vip.ID, "")
	if kefu.ErrorCode(err) != kefu.EInvalid {
		t.Errorf("transfer to both agent and team: %v, want invalid", err)
	}
}

// TestAutoResolveAndRemindWithFakeClock: the sweeps act exactly past the
// configured times, not before.
func TestAutoResolveAndRemindWithFakeClock(t *testing.T) {
	e := newEnv(t)
	e.online(e.f.Agent)
	e.settings(func(st *kefu.RoutingSettings) {
		st.AutoResolveAfter = kefu.Duration(time.Hour)
		st.RemindAfter = kefu.Duration(5 * time.Minute)
	})
	c := e.start()
	_, err := e.chat.Send(e.ctx(), kefu.Actor{WorkspaceID: c.WorkspaceID, Type: kefu.SenderContact, ID: c.ContactID, InboxID: c.InboxID},
		chat.SendInput{ConversationID: c.ID, Kind: kefu.KindText, Body: "anyone?"})
	e.must(err)
	sent := e.get(c.ID).LastActivityAt
	reminders := func() int {
		e.mu.Lock()
		defer e.mu.Unlock()
		n := 0
		for _, ev := range e.seen {
			if ev.Type == kefu.EventReminder && ev.ConversationID == c.ID {
				n++
			}
		}
		return n
	}
	e.clock.Set(sent.Add(4 * time.Minute))
	e.d.Sweep(e.ctx())
	if reminders() != 0 {
		t.Fatal("reminded before 5 minutes")
	}
	e.clock.Set(sent.Add(6 * time.Minute))
	e.d.Sweep(e.ctx())
	e.d.Sweep(e.ctx())
	if reminders() != 1 {
		t.Fatalf("reminders after 6 minutes and two sweeps = %d, want exactly 1", reminders())
	}
	e.clock.Set(sent.Add(59 * time.Minute))
	e.d.Sweep(e.ctx())
	if e.get(c.ID).Status != kefu.StatusOpen {
		t.Fatal("resolved before an hour of inactivity")
	}
	e.clock.Set(sent.Add(61 * time.Minute))
	e.d.Sweep(e.ctx())
	if got := e.get(c.ID); got.Status != kefu.StatusResolved {
		t.Fatalf("after 61 minutes: status %s, want resolved", got.Status)
	}
	if got := e.bodies(c.ID); !strings.Contains(got[len(got)-1], "Resolved automatically after 1h0m0s") {
		t.Errorf("last line = %q, want the auto-resolve event", got[len(got)-1])
	}
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }

// TestPrechatTopicRoutesToTeam: a pre-chat answer stored as a contact
// attribute picks the team through a rule, before the first decision.
func TestPrechatTopicRoutesToTeam(t *testing.T) {
	e := newEnv(t)
	billing := &kefu.Team{WorkspaceID: e.f.Workspace.ID, Name: "Billing", AgentIDs: []int64{e.f.Agent.ID}}
	e.must(e.store.CreateTeam(e.ctx(), billing))
	rule := `{"event":"conversation_created","conditions":[{"field":"contact.topic","op":"equals","value":"Billing"}],
		"actions":[{"type":"set_team","value":"` + itoa(billing.ID) + `"}]}`
	e.must(e.store.CreateRoutingRule(e.ctx(), &kefu.RoutingRule{WorkspaceID: e.f.Workspace.ID, Name: "topic", Enabled: true, Rule: json.RawMessage(rule)}))
	e.online(e.f.Agent, e.f.Admin)
	for range 3 { // least_loaded alone would spread these over both agents
		c := e.start(func(c *kefu.Contact) { c.Attributes = map[string]any{"topic": "Billing"} })
		if c.TeamID != billing.ID || c.AssigneeID != e.f.Agent.ID {
			t.Fatalf("conversation %d: team %d assignee %d; want Billing's only agent %d", c.ID, c.TeamID, c.AssigneeID, e.f.Agent.ID)
		}
	}
}

// TestRoundRobinTakesTurnsThroughTheStore: round robin goes through the
// agents in id order, one turn each, and the cursor the store keeps in the
// inbox's settings follows the last turn.
func TestRoundRobinTakesTurnsThroughTheStore(t *testing.T) {
	e := newEnv(t)
	now := kefu.Now()
	third := &kefu.Agent{WorkspaceID: e.f.Workspace.ID, Email: "third@example.com", Name: "Third", Role: kefu.RoleAgent,
		PasswordHash: "x", Active: true, CreatedAt: now, UpdatedAt: now}
	e.must(e.store.CreateAgent(e.ctx(), third))
	e.settings(func(st *kefu.RoutingSettings) { st.Policy = "round_robin"; st.Sticky = false })
	e.online(e.f.Agent, e.f.Admin, third)
	ids := []int64{e.f.Agent.ID, e.f.Admin.ID, third.ID}
	slices.Sort(ids)
	for i := range 6 {
		c := e.start()
		if want := ids[i%3]; c.AssigneeID != want {
			t.Fatalf("turn %d went to %d, want %d (agents in id order %v)", i+1, c.AssigneeID, want, ids)
		}
		st, err := e.store.GetRoutingSettings(e.ctx(), e.f.Workspace.ID, e.f.Inbox.ID)
		e.must(err)
		if st.RRLastAgentID != c.AssigneeID {
			t.Fatalf("after turn %d the stored cursor is %d, want the agent who took it, %d", i+1, st.RRLastAgentID, c.AssigneeID)
		}
	}
}

// TestInboxTeamsRestrictWhoIsAssigned: an inbox that routes to teams is
// served only by their members, by push and by pull.
func TestInboxTeamsRestrictWhoIsAssigned(t *testing.T) {
	e := newEnv(t)
	only := &kefu.Team{WorkspaceID: e.f.Workspace.ID, Name: "Only", AgentIDs: []int64{e.f.Admin.ID}}
	e.must(e.store.CreateTeam(e.ctx(), only))
	e.settings(func(st *kefu.RoutingSettings) { st.TeamIDs = []int64{only.ID} })
	e.online(e.f.Agent)
	c := e.start()
	if c.AssigneeID != 0 {
		t.Fatalf("pushed to agent %d, who is outside the inbox's teams", c.AssigneeID)
	}
	if n, err := e.d.Pull(e.ctx(), e.f.Workspace.ID, e.f.Agent.ID); err != nil || n != 0 {
		t.Fatalf("an agent outside the inbox's teams pulled %d (%v), want 0", n, err)
	}
	e.online(e.f.Admin)
	if n, err := e.d.Pull(e.ctx(), e.f.Workspace.ID, e.f.Admin.ID); err != nil || n != 1 || e.get(c.ID).AssigneeID != e.f.Admin.ID {
		t.Fatalf("the team member pulled %d (%v), want the waiting conversation", n, err)
	}
}

// TestAgentMaxConcurrentOverridesInboxDefault: an agent's own limit wins
// over the inbox's default capacity, by push and by pull.
func TestAgentMaxConcurrentOverridesInboxDefault(t *testing.T) {
	e := newEnv(t)
	ag := *e.f.Agent
	ag.MaxConcurrent = 1
	e.must(e.store.UpdateAgent(e.ctx(), &ag))
	e.online(e.f.Agent) // the inbox default stays 5
	a, b := e.start(), e.start()
	if a.AssigneeID != e.f.Agent.ID || b.AssigneeID != 0 {
		t.Fatalf("with max_concurrent 1: first %d, second %d; want the agent, then queued", a.AssigneeID, b.AssigneeID)
	}
	if n, err := e.d.Pull(e.ctx(), e.f.Workspace.ID, e.f.Agent.ID); err != nil || n != 0 {
		t.Errorf("a full agent pulled %d (%v), want 0", n, err)
	}
}
