package dispatch

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/kefu-chat/kefu/internal/chat"
	"github.com/kefu-chat/kefu/internal/hub"
	"github.com/kefu-chat/kefu/internal/kefu"
	"github.com/kefu-chat/kefu/internal/protocol"
)

// open opens a live connection for actor on the env's real hub and
// returns it, so the test can close it.
func (e *env) open(actor kefu.Actor, id string) *hub.Conn {
	e.t.Helper()
	c, ok := e.hub.Open(&pipe{}, actor, id, protocol.Encode(&protocol.Welcome{Type: protocol.TypeWelcome}), nil)
	if !ok {
		e.t.Fatal("hub refused the connection")
	}
	e.t.Cleanup(func() { c.Close(1000, "test over") })
	return c
}

func (e *env) lastSeen(agentID int64) time.Time {
	e.t.Helper()
	st, err := e.store.AgentState(e.ctx(), e.f.Workspace.ID, agentID)
	e.must(err)
	return st.LastSeenAt
}

// TestConnectionPresenceDrivesAssignment: presence comes from the hub's
// live connections, not only from the formula. A declared-online agent
// never seen gets nothing; their connection opening makes the tick mark
// them present and pull the queue's head to them; once their last
// connection drops they keep receiving only until the grace period after
// their last heartbeat; an agent connected and fresh but away gets
// nothing.
func TestConnectionPresenceDrivesAssignment(t *testing.T) {
	e := newEnv(t)
	ws := e.f.Workspace.ID
	// Declared online but never connected: not present.
	e.must(e.store.SetAvailability(e.ctx(), ws, e.f.Agent.ID, kefu.AvailabilityOnline, e.now()))
	first := e.start()
	if first.AssigneeID != 0 || first.QueuedAt == nil {
		t.Fatalf("assigned to %d before the agent ever connected; want queued", first.AssigneeID)
	}

	conn := e.open(e.f.AgentActor(), "agent-1")
	e.d.heartbeat(e.ctx()) // a new connection: touched and pulled at once
	if got := e.lastSeen(e.f.Agent.ID); !got.Equal(e.now()) {
		t.Fatalf("last seen after the tick = %v, want the tick's time %v", got, e.now())
	}
	if got := e.get(first.ID).AssigneeID; got != e.f.Agent.ID {
		t.Fatalf("queue head assigned to %d after the connection's first tick, want %d", got, e.f.Agent.ID)
	}

	// Heartbeats keep the agent present past one grace period while the
	// connection lives.
	for range 4 {
		e.clock.Add(25 * time.Second)
		e.d.heartbeat(e.ctx())
	}
	if c := e.start(); c.AssigneeID != e.f.Agent.ID {
		t.Fatalf("connected for 100 s with heartbeats: new conversation assigned to %d, want %d", c.AssigneeID, e.f.Agent.ID)
	}

	// The last connection drops. Within the grace period after the last
	// heartbeat the agent still counts (a reload must not lose them)...
	seen := e.lastSeen(e.f.Agent.ID)
	conn.Close(1000, "bye")
	e.eventually("the hub forgets the closed connection", func() bool { return len(e.hub.ConnectedAgents()[ws]) == 0 })
	e.clock.Set(seen.Add(30 * time.Second))
	e.d.heartbeat(e.ctx())
	if c := e.start(); c.AssigneeID != e.f.Agent.ID {
		t.Fatalf("30 s after the last heartbeat: assigned to %d, want still %d", c.AssigneeID, e.f.Agent.ID)
	}
	// ...and past it, nothing new: not by push, not by pull.
	e.clock.Set(seen.Add(61 * time.Second))
	e.d.heartbeat(e.ctx())
	if got := e.lastSeen(e.f.Agent.ID); !got.Equal(seen) {
		t.Fatalf("a disconnected agent was heartbeaten: last seen %v, want %v", got, seen)
	}
	late := e.start()
	if late.AssigneeID != 0 {
		t.Fatalf("61 s after the last heartbeat of a dropped connection: assigned to %d, want queued", late.AssigneeID)
	}
	if n, err := e.d.Pull(e.ctx(), ws, e.f.Agent.ID); err != nil || n != 0 {
		t.Fatalf("pull for a disconnected agent past the grace period took %d (%v), want 0", n, err)
	}

	// Away, connected and fresh: heartbeats keep them seen, and still
	// they get nothing.
	e.must(e.store.SetAvailability(e.ctx(), ws, e.f.Admin.ID, kefu.AvailabilityAway, e.now()))
	e.open(e.f.AdminActor(), "admin-1")
	e.d.heartbeat(e.ctx())
	if got := e.lastSeen(e.f.Admin.ID); !got.Equal(e.now()) {
		t.Fatalf("away admin's last seen = %v, want the tick's time %v", got, e.now())
	}
	if c := e.start(); c.AssigneeID != 0 {
		t.Fatalf("new conversation assigned to %d while the only connected agent is away", c.AssigneeID)
	}
	e.clock.Add(21 * time.Second) // the periodic pass: heartbeat and backstop pull for every connected agent
	e.d.heartbeat(e.ctx())
	if n, err := e.d.Pull(e.ctx(), ws, e.f.Admin.ID); err != nil || n != 0 {
		t.Fatalf("pull for an away agent took %d (%v), want 0", n, err)
	}
	if got := e.get(late.ID).AssigneeID; got != 0 {
		t.Fatalf("queued conversation went to %d; the away admin and the gone agent must get nothing", got)
	}
	// Coming back online while connected takes the queue.
	e.must(e.chat.SetPresence(e.ctx(), e.f.AdminActor(), "online"))
	e.eventually("the queued conversation goes to the admin back online", func() bool { return e.get(late.ID).AssigneeID == e.f.Admin.ID })
}

// TestVIPRuleJumpsTheQueue: a rule on a contact attribute raises a VIP's
// new conversation to urgent, ahead of normal ones that waited longer;
// the next pull takes it first.
func TestVIPRuleJumpsTheQueue(t *testing.T) {
	e := newEnv(t)
	rule := `{"event":"conversation_created","conditions":[{"field":"contact.vip","op":"equals","value":"true"}],
		"actions":[{"type":"set_priority","value":"urgent"}]}`
	e.must(e.store.CreateRoutingRule(e.ctx(), &kefu.RoutingRule{WorkspaceID: e.f.Workspace.ID, Name: "vip", Enabled: true, Rule: json.RawMessage(rule)}))
	e.settings(func(st *kefu.RoutingSettings) { st.DefaultCapacity = 1 })
	// Nobody online: all wait. Two normal ones first, then the VIP (the
	// attribute as Kefu.identify stores it, a JSON boolean).
	a := e.start()
	e.clock.Add(time.Second)
	b := e.start(func(c *kefu.Contact) { c.Attributes = map[string]any{"vip": false} })
	e.clock.Add(time.Second)
	vip := e.start(func(c *kefu.Contact) { c.Attributes = map[string]any{"vip": true} })
	if vip.Priority != kefu.PriorityUrgent || b.Priority != kefu.PriorityNone || a.Priority != kefu.PriorityNone {
		t.Fatalf("priorities after the rule: a %q b %q vip %q; want none, none, urgent", a.Priority, b.Priority, vip.Priority)
	}
	q, err := e.store.ListQueue(e.ctx(), e.f.Workspace.ID, e.f.Inbox.ID, 10)
	e.must(err)
	var order []int64
	for _, x := range q {
		order = append(order, x.ConversationID)
	}
	if want := []int64{vip.ID, a.ID, b.ID}; !slices.Equal(order, want) {
		t.Fatalf("queue order = %v, want the VIP first then arrival order %v", order, want)
	}
	e.online(e.f.Agent)
	if n, err := e.d.Pull(e.ctx(), e.f.Workspace.ID, e.f.Agent.ID); err != nil || n != 1 {
		t.Fatalf("pull took %d (%v), want 1", n, err)
	}
	if got := e.get(vip.ID).AssigneeID; got != e.f.Agent.ID {
		t.Errorf("the pull gave the agent something else; VIP conversation assignee = %d", got)
	}
	if e.get(a.ID).AssigneeID != 0 || e.get(b.ID).AssigneeID != 0 {
		t.Errorf("normal conversations assigned ahead of the VIP")
	}
}

// TestMessageRuleRoutesQueuedConversation: a message_received rule runs on
// a visitor's message through the chat service (the router hook), sets
// the team, priority and label of the waiting conversation, and the team's
// member then gets it while an agent outside the team does not.
func TestMessageRuleRoutesQueuedConversation(t *testing.T) {
	e := newEnv(t)
	billing := &kefu.Team{WorkspaceID: e.f.Workspace.ID, Name: "Billing", AgentIDs: []int64{e.f.Admin.ID}}
	e.must(e.store.CreateTeam(e.ctx(), billing))
	rule := `{"event":"message_received","conditions":[{"field":"message","op":"contains","value":"refund"}],
		"actions":[{"type":"set_team","value":"` + itoa(billing.ID) + `"},{"type":"set_priority","value":"high"},{"type":"add_label","value":"refund"}]}`
	e.must(e.store.CreateRoutingRule(e.ctx(), &kefu.RoutingRule{WorkspaceID: e.f.Workspace.ID, Name: "refunds", Enabled: true, Rule: json.RawMessage(rule)}))
	plain, c := e.start(), e.start() // nobody online: both wait
	send := func(conv *kefu.Conversation, body string) {
		t.Helper()
		_, err := e.chat.Send(e.ctx(), e.visitor(conv), chat.SendInput{ConversationID: conv.ID, Kind: kefu.KindText, Body: body})
		e.must(err)
	}
	send(plain, "where is my parcel?")
	send(c, "I would like a REFUND for order 42")
	e.eventually("the rule's team, priority and label on the conversation", func() bool {
		got := e.get(c.ID)
		return got.TeamID == billing.ID && got.Priority == kefu.PriorityHigh && slices.Equal(got.Labels, []string{"refund"})
	})
	if got := e.get(c.ID); got.AssigneeID != 0 || got.QueuedAt == nil {
		t.Fatalf("after the rule: assignee %d queued %v; want still waiting for Billing", got.AssigneeID, got.QueuedAt)
	}
	// The agent outside Billing pulls: only the plain conversation.
	e.online(e.f.Agent)
	if n, err := e.d.Pull(e.ctx(), e.f.Workspace.ID, e.f.Agent.ID); err != nil || n != 1 {
		t.Fatalf("agent outside the team pulled %d (%v), want 1 (the plain conversation)", n, err)
	}
	if e.get(plain.ID).AssigneeID != e.f.Agent.ID || e.get(c.ID).AssigneeID != 0 {
		t.Fatalf("plain -> %d, refund -> %d; want the agent, then still waiting", e.get(plain.ID).AssigneeID, e.get(c.ID).AssigneeID)
	}
	if got := e.get(plain.ID); got.TeamID != 0 || got.Priority != kefu.PriorityNone || len(got.Labels) != 0 {
		t.Errorf("a message without the keyword changed its conversation: %+v", got)
	}
	e.online(e.f.Admin)
	if n, err := e.d.Pull(e.ctx(), e.f.Workspace.ID, e.f.Admin.ID); err != nil || n != 1 || e.get(c.ID).AssigneeID != e.f.Admin.ID {
		t.Fatalf("Billing member pulled %d (%v); want the refund conversation", n, err)
	}
}

// TestRuleNamingDeletedTeamStillQueues: a rule whose set_team names a team
// deleted since (or never in this workspace) must not keep conversations
// out of the queue: the team is dropped and the conversation routed to
// anyone.
func TestRuleNamingDeletedTeamStillQueues(t *testing.T) {
	e := newEnv(t)
	gone := &kefu.Team{WorkspaceID: e.f.Workspace.ID, Name: "Gone", AgentIDs: []int64{e.f.Admin.ID}}
	e.must(e.store.CreateTeam(e.ctx(), gone))
	rule := `{"event":"conversation_created","conditions":[],"actions":[{"type":"set_team","value":"` + itoa(gone.ID) + `"},{"type":"add_label","value":"routed"}]}`
	e.must(e.store.CreateRoutingRule(e.ctx(), &kefu.RoutingRule{WorkspaceID: e.f.Workspace.ID, Name: "all", Enabled: true, Rule: json.RawMessage(rule)}))
	e.must(e.store.DeleteTeam(e.ctx(), e.f.Workspace.ID, gone.ID))
	waiting := e.start()
	if waiting.QueuedAt == nil || waiting.TeamID != 0 {
		t.Fatalf("with the rule's team deleted: queued %v team %d; want queued for anyone", waiting.QueuedAt, waiting.TeamID)
	}
	e.online(e.f.Agent)
	if c := e.start(); c.AssigneeID != e.f.Agent.ID {
		t.Fatalf("with the rule's team deleted: assigned to %d, want the online agent %d", c.AssigneeID, e.f.Agent.ID)
	}
}
