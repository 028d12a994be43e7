package dispatch

import (
	"encoding/json"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/kefu-chat/kefu/internal/chat"
	"github.com/kefu-chat/kefu/internal/kefu"
	"github.com/kefu-chat/kefu/internal/protocol"
)

// pipe is an in-memory hub.Transport: a connection whose frames the test
// reads.
type pipe struct {
	mu     sync.Mutex
	frames []map[string]any
}

func (p *pipe) WriteFrame(b []byte) error {
	var f map[string]any
	if err := json.Unmarshal(b, &f); err != nil {
		return err
	}
	p.mu.Lock()
	p.frames = append(p.frames, f)
	p.mu.Unlock()
	return nil
}

func (p *pipe) Close(int, string) {}

// of returns the frames of type typ received so far.
func (p *pipe) of(typ string) []map[string]any {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []map[string]any
	for _, f := range p.frames {
		if f["type"] == typ {
			out = append(out, f)
		}
	}
	return out
}

// connect opens a live connection for actor on the env's hub.
func (e *env) connect(actor kefu.Actor) *pipe {
	e.t.Helper()
	p := &pipe{}
	id := "test-" + strconv.FormatInt(int64(len(actor.Type))*1_000_000+actor.ID, 10)
	c, ok := e.hub.Open(p, actor, id, protocol.Encode(&protocol.Welcome{Type: protocol.TypeWelcome}), nil)
	if !ok {
		e.t.Fatal("hub refused the connection")
	}
	e.t.Cleanup(func() { c.Close(1000, "test over") })
	return p
}

// flush waits until every frame routed to contact's connections so far has
// been written: the hub keeps order per connection, so a marker routed now
// arrives after them.
func (e *env) flush(p *pipe, actor kefu.Actor) {
	e.t.Helper()
	e.mu.Lock()
	e.markers++
	n := e.markers
	e.mu.Unlock()
	frame, _ := json.Marshal(map[string]any{"type": "marker", "n": n})
	e.hub.Route(&kefu.Event{Type: kefu.EventQueue, WorkspaceID: actor.WorkspaceID, ContactID: actor.ID, ContactOnly: true, ContactFrame: frame})
	e.eventually("the marker frame", func() bool {
		for _, f := range p.of("marker") {
			if num(f["n"]) == int64(n) {
				return true
			}
		}
		return false
	})
}

// visitor is the actor of the contact of conversation c.
func (e *env) visitor(c *kefu.Conversation) kefu.Actor {
	return kefu.Actor{WorkspaceID: c.WorkspaceID, Type: kefu.SenderContact, ID: c.ContactID, InboxID: c.InboxID}
}

// dailyHours opens the fixture's inbox 09:00-18:00 Shanghai time every day
// and returns today's date there.
func (e *env) dailyHours(edit func(*kefu.RoutingSettings)) (y int, m time.Month, d int, loc *time.Location) {
	e.t.Helper()
	loc, err := time.LoadLocation("Asia/Shanghai")
	e.must(err)
	e.settings(func(st *kefu.RoutingSettings) {
		week := map[string]any{}
		for day := range 7 {
			week[strconv.Itoa(day)] = []map[string]int{{"start": 540, "end": 1080}}
		}
		b, _ := json.Marshal(map[string]any{"time_zone": "Asia/Shanghai", "weekly": week})
		st.BusinessHours = b
		if edit != nil {
			edit(st)
		}
	})
	y, m, d = time.Now().In(loc).Date()
	return y, m, d, loc
}

// TestArrivalAtOpeningWaitsBehindQueue: a conversation that arrives just
// after the opening, before any pull, does not take the only free slot
// from one that waited overnight; it waits behind it.
func TestArrivalAtOpeningWaitsBehindQueue(t *testing.T) {
	e := newEnv(t)
	y, m, d, loc := e.dailyHours(func(st *kefu.RoutingSettings) { st.DefaultCapacity = 1 })
	e.clock.Set(time.Date(y, m, d, 8, 59, 0, 0, loc))
	e.online(e.f.Agent)
	waiting := e.start()
	if waiting.AssigneeID != 0 {
		t.Fatal("assigned before the opening")
	}
	e.clock.Set(time.Date(y, m, d, 9, 0, 5, 0, loc))
	e.online(e.f.Agent)
	late := e.start()
	if got := e.get(waiting.ID).AssigneeID; got != e.f.Agent.ID {
		t.Errorf("conversation queued since 08:59 assigned to %d, want the agent %d", got, e.f.Agent.ID)
	}
	if got := e.get(late.ID); got.AssigneeID != 0 || got.QueuedAt == nil {
		t.Errorf("arrival at 09:00:05 = assignee %d, queued %v; want it waiting behind the earlier one", got.AssigneeID, got.QueuedAt)
	}
	// The earlier one's assignment is announced with reason queue.
	var reason any
	e.mu.Lock()
	for _, ev := range e.seen {
		if ev.Type == kefu.EventConversation && ev.ConversationID == waiting.ID {
			var f map[string]any
			_ = json.Unmarshal(ev.Frame, &f)
			if f["event"] == "assigned" {
				reason = f["reason"]
			}
		}
	}
	e.mu.Unlock()
	if reason != "queue" {
		t.Errorf("assigned frame of the earlier conversation has reason %v, want queue", reason)
	}
}

// TestArrivalAfterManualServesQueueFirst: when an inbox turns from manual
// to automatic, a new arrival gives every agent with room the queue's
// earlier conversations first, then waits if no slot is left.
func TestArrivalAfterManualServesQueueFirst(t *testing.T) {
	e := newEnv(t)
	e.settings(func(st *kefu.RoutingSettings) { st.Policy = "manual"; st.DefaultCapacity = 1; st.Sticky = false })
	e.online(e.f.Agent, e.f.Admin)
	first, second := e.start(), e.start()
	e.settings(func(st *kefu.RoutingSettings) { st.Policy = "least_loaded" })
	late := e.start()
	for _, c := range []*kefu.Conversation{first, second} {
		if got := e.get(c.ID).AssigneeID; got == 0 {
			t.Errorf("conversation %d queued under the manual policy still waits after a later arrival was pushed", c.ID)
		}
	}
	if a, b := e.get(first.ID).AssigneeID, e.get(second.ID).AssigneeID; a == b {
		t.Errorf("both earlier conversations went to agent %d, capacity 1", a)
	}
	if got := e.get(late.ID).AssigneeID; got != 0 {
		t.Errorf("the later arrival took a slot (agent %d) while earlier conversations waited", got)
	}
}

// TestOpeningPullsForConnectedAgents: the tick that sees an inbox open
// pulls for the agents connected here at once, not at the next backstop
// pass.
func TestOpeningPullsForConnectedAgents(t *testing.T) {
	e := newEnv(t)
	y, m, d, loc := e.dailyHours(nil)
	e.clock.Set(time.Date(y, m, d, 8, 59, 50, 0, loc))
	e.online(e.f.Agent)
	waiting := e.start()
	if waiting.AssigneeID != 0 {
		t.Fatal("assigned before the opening")
	}
	e.connect(e.f.AgentActor())
	e.d.heartbeat(e.ctx()) // the connection is new: touched and pulled (closed, nothing)
	if got := e.get(waiting.ID).AssigneeID; got != 0 {
		t.Fatalf("pulled before the opening, by %d", got)
	}
	// Ten seconds on: not yet time for the backstop pass (Grace/3).
	e.clock.Set(time.Date(y, m, d, 9, 0, 0, 0, loc))
	e.d.heartbeat(e.ctx())
	if got := e.get(waiting.ID).AssigneeID; got != e.f.Agent.ID {
		t.Errorf("after the tick at the opening, assignee = %d, want the connected agent %d", got, e.f.Agent.ID)
	}
}

// TestAutoResolveSparesQueuedConversations: a visitor waiting in the
// queue, here outside business hours, is not resolved for being idle; once
// assigned, idleness counts again.
func TestAutoResolveSparesQueuedConversations(t *testing.T) {
	e := newEnv(t)
	y, m, d, loc := e.dailyHours(func(st *kefu.RoutingSettings) { st.AutoResolveAfter = kefu.Duration(time.Hour) })
	e.clock.Set(time.Date(y, m, d, 20, 0, 0, 0, loc))
	e.online(e.f.Agent)
	c := e.start()
	if c.AssigneeID != 0 || c.QueuedAt == nil {
		t.Fatal("not queued outside business hours")
	}
	e.clock.Set(c.LastActivityAt.Add(3 * time.Hour))
	e.d.Sweep(e.ctx())
	if got := e.get(c.ID); got.Status != kefu.StatusOpen {
		t.Fatalf("status after 3 idle hours in the queue = %s, want open: it waits for the next opening", got.Status)
	}
	// Assigned (by hand), the same idleness resolves it.
	_, err := e.store.UpdateConversation(e.ctx(), c.WorkspaceID, c.ID, kefu.ConversationUpdate{AssigneeID: &e.f.Agent.ID})
	e.must(err)
	e.d.Sweep(e.ctx())
	if got := e.get(c.ID); got.Status != kefu.StatusResolved {
		t.Errorf("assigned and idle 3 hours: status %s, want resolved", got.Status)
	}
}

// positions returns the positions (and estimated waits, -1 for none)
// received on p for conversation conv, in order.
func positions(p *pipe, conv int64) (pos []int, waits []int) {
	for _, f := range p.of("queue") {
		if num(f["conversation_id"]) != conv {
			continue
		}
		pos = append(pos, int(num(f["position"])))
		w := -1
		if v, ok := f["estimated_wait"]; ok {
			w = int(num(v))
		}
		waits = append(waits, w)
	}
	return pos, waits
}

func num(v any) int64 { f, _ := v.(float64); return int64(f) }

// TestPositionResentWhenVisitorConnects: a position worked out while the
// visitor was not connected (or before a reload) is sent again when they
// connect, without waiting for the queue to move.
func TestPositionResentWhenVisitorConnects(t *testing.T) {
	e := newEnv(t)
	first, second := e.start(), e.start() // nobody online: both wait
	e.d.sendPositions(e.ctx())            // nobody connected: sent into the void
	p := e.connect(e.visitor(second))
	e.d.sendPositions(e.ctx())
	e.flush(p, e.visitor(second))
	if pos, _ := positions(p, second.ID); len(pos) != 1 || pos[0] != 2 {
		t.Fatalf("positions after connecting = %v, want [2] sent again on connect", pos)
	}
	// A reload: a second connection gets it too, once.
	p2 := e.connect(e.visitor(second))
	e.d.sendPositions(e.ctx())
	e.d.sendPositions(e.ctx())
	e.flush(p2, e.visitor(second))
	if pos, _ := positions(p2, second.ID); len(pos) != 1 || pos[0] != 2 {
		t.Errorf("positions on the reloaded connection = %v, want [2]", pos)
	}
	_ = first
}

// TestPositionsFollowTransferAndPriority: taking a queued conversation by
// transfer, or raising one's priority, moves the others' places at the
// next tick; a resolved conversation's sent position is forgotten.
func TestPositionsFollowTransferAndPriority(t *testing.T) {
	e := newEnv(t)
	a, b, c := e.start(), e.start(), e.start()
	pc := e.connect(e.visitor(c))
	e.d.sendPositions(e.ctx())
	e.flush(pc, e.visitor(c))
	if pos, _ := positions(pc, c.ID); len(pos) != 1 || pos[0] != 3 {
		t.Fatalf("positions = %v, want [3]", pos)
	}
	// Transfer the head to an agent: c moves up to 2.
	_, err := e.d.Transfer(e.ctx(), e.f.AdminActor(), a.ID, e.f.Agent.ID, 0, "")
	e.must(err)
	e.d.sendPositions(e.ctx())
	e.flush(pc, e.visitor(c))
	if pos, _ := positions(pc, c.ID); len(pos) != 2 || pos[1] != 2 {
		t.Fatalf("positions after the head was transferred to an agent = %v, want [3 2]", pos)
	}
	// c becomes urgent: it jumps ahead of b.
	urgent := kefu.PriorityUrgent
	_, err = e.chat.UpdateConversation(e.ctx(), e.f.AdminActor(), c.ID, chat.ConversationChange{Priority: &urgent})
	e.must(err)
	e.d.sendPositions(e.ctx())
	e.flush(pc, e.visitor(c))
	if pos, _ := positions(pc, c.ID); len(pos) != 3 || pos[2] != 1 {
		t.Fatalf("positions after c became urgent = %v, want [3 2 1]", pos)
	}
	// b is resolved while waiting: its sent position is dropped.
	resolved := kefu.StatusResolved
	_, err = e.chat.UpdateConversation(e.ctx(), e.f.AdminActor(), b.ID, chat.ConversationChange{Status: &resolved})
	e.must(err)
	e.d.sendPositions(e.ctx())
	e.d.mu.Lock()
	_, kept := e.d.sent[b.ID]
	left := len(e.d.sent)
	e.d.mu.Unlock()
	if kept || left != 1 {
		t.Errorf("after b was resolved: b still tracked %v, %d tracked; want only c", kept, left)
	}
}

// TestEstimatedWaitOnceTheQueueMoved: with assignments two minutes apart
// behind it, the position frame carries an estimated wait above zero;
// before any history, none.
func TestEstimatedWaitOnceTheQueueMoved(t *testing.T) {
	e := newEnv(t)
	e.settings(func(st *kefu.RoutingSettings) { st.DefaultCapacity = 1 })
	e.online(e.f.Agent)
	first := e.start() // assigned now
	if first.AssigneeID != e.f.Agent.ID {
		t.Fatal("first conversation not assigned")
	}
	second, third := e.start(), e.start()
	p := e.connect(e.visitor(third))
	e.d.sendPositions(e.ctx())
	e.flush(p, e.visitor(third))
	if pos, waits := positions(p, third.ID); len(pos) != 1 || pos[0] != 2 || waits[0] != -1 {
		t.Fatalf("before any interval: positions %v waits %v, want [2] with no estimate", pos, waits)
	}
	e.clock.Add(2 * time.Minute)
	e.online(e.f.Agent)
	resolved := kefu.StatusResolved
	_, err := e.chat.UpdateConversation(e.ctx(), e.f.AgentActor(), first.ID, chat.ConversationChange{Status: &resolved})
	e.must(err)
	e.eventually("the second conversation assigned", func() bool { return e.get(second.ID).AssigneeID == e.f.Agent.ID })
	// The pull runs off the caller's path and marks the queue changed
	// after its claim commits: tick until the new place arrives.
	e.eventually("position 1 sent", func() bool {
		e.d.sendPositions(e.ctx())
		e.flush(p, e.visitor(third))
		pos, _ := positions(p, third.ID)
		return len(pos) == 2
	})
	pos, waits := positions(p, third.ID)
	if len(pos) != 2 || pos[1] != 1 {
		t.Fatalf("positions = %v, want [2 1]", pos)
	}
	if waits[1] <= 0 {
		t.Errorf("estimated wait at position 1 after one 2-minute interval = %d s, want > 0", waits[1])
	}
}
