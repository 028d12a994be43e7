package hub_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/kefu-chat/kefu/internal/bus/inproc"
	"github.com/kefu-chat/kefu/internal/chat"
	"github.com/kefu-chat/kefu/internal/hub"
	"github.com/kefu-chat/kefu/internal/kefu"
	"github.com/kefu-chat/kefu/internal/protocol"
	"github.com/kefu-chat/kefu/internal/store/sqlite"
)

// pipe is an in-memory hub.Transport; block makes writes hang, like a
// client that stopped reading.
type pipe struct {
	mu     sync.Mutex
	cond   *sync.Cond
	frames [][]byte
	block  chan struct{}
	code   int
}

func newPipe() *pipe { p := &pipe{}; p.cond = sync.NewCond(&p.mu); return p }

func (p *pipe) WriteFrame(b []byte) error {
	if p.block != nil {
		<-p.block
	}
	p.mu.Lock()
	p.frames = append(p.frames, append([]byte(nil), b...))
	p.cond.Broadcast()
	p.mu.Unlock()
	return nil
}

func (p *pipe) Close(code int, _ string) {
	p.mu.Lock()
	if p.code == 0 {
		p.code = code
	}
	p.cond.Broadcast()
	p.mu.Unlock()
}

// seqs waits until n message frames arrived and returns their seqs.
func (p *pipe) seqs(t *testing.T, n int) []int64 {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	go func() { time.Sleep(5 * time.Second); p.mu.Lock(); p.cond.Broadcast(); p.mu.Unlock() }()
	p.mu.Lock()
	defer p.mu.Unlock()
	for {
		var out []int64
		for _, f := range p.frames {
			var mf struct {
				Type    string
				Message struct{ Seq int64 }
			}
			json.Unmarshal(f, &mf)
			if mf.Type == protocol.TypeMessage {
				out = append(out, mf.Message.Seq)
			}
		}
		if len(out) >= n || time.Now().After(deadline) {
			return out
		}
		p.cond.Wait()
	}
}

type fixture struct {
	store *sqlite.Store
	chat  *chat.Service
	bus   *inproc.Bus
	hub   *hub.Hub
	agent kefu.Actor
	vis   kefu.Actor
	conv  int64
}

func setup(t testing.TB, maxQueue int) *fixture {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "k.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	w := &kefu.Workspace{Name: "w"}
	st.CreateWorkspace(ctx, w)
	ag := &kefu.Agent{WorkspaceID: w.ID, Email: "a@x", Role: kefu.RoleAgent, Active: true}
	st.CreateAgent(ctx, ag)
	in := &kefu.Inbox{WorkspaceID: w.ID, Name: "web", PublicToken: "t", Secret: "s"}
	st.CreateInbox(ctx, in)
	c := &kefu.Contact{WorkspaceID: w.ID, VisitorID: "v"}
	st.CreateContact(ctx, c)
	b := inproc.New()
	cs := chat.New(st, b, nil, nil)
	h := hub.New(cs, hub.Options{MaxQueue: maxQueue})
	t.Cleanup(h.Attach(b))
	f := &fixture{store: st, chat: cs, bus: b, hub: h,
		agent: kefu.Actor{WorkspaceID: w.ID, Type: kefu.SenderAgent, ID: ag.ID, Role: kefu.RoleAgent},
		vis:   kefu.Actor{WorkspaceID: w.ID, Type: kefu.SenderContact, ID: c.ID, InboxID: in.ID}}
	conv, err := cs.StartConversation(ctx, f.vis)
	if err != nil {
		t.Fatal(err)
	}
	f.conv = conv.ID
	return f
}

func (f *fixture) send(t testing.TB, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		if _, err := f.chat.Send(context.Background(), f.agent, chat.SendInput{ConversationID: f.conv, Body: "x"}); err != nil {
			t.Fatal(err)
		}
	}
}

func TestLostBusEventsAreFilledFromTheStore(t *testing.T) {
	f := setup(t, 0)
	p := newPipe()
	if _, ok := f.hub.Open(p, f.vis, "v1", []byte(`{"type":"welcome"}`), map[int64]int64{f.conv: 0}); !ok {
		t.Fatal("open refused")
	}
	f.send(t, 3)
	// Commit two messages behind the hub's back, as if the bus lost them.
	detached := chat.New(f.store, inproc.New(), nil, nil)
	for i := 0; i < 2; i++ {
		detached.Send(context.Background(), f.agent, chat.SendInput{ConversationID: f.conv, Body: "lost"})
	}
	f.send(t, 1) // seq 6 arrives live; 4 and 5 must be filled first
	got := p.seqs(t, 6)
	want := []int64{1, 2, 3, 4, 5, 6}
	if len(got) != len(want) {
		t.Fatalf("got seqs %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("got seqs %v, want %v", got, want)
		}
	}
}

func TestSlowConsumerIsCutOffWithoutBlockingOthers(t *testing.T) {
	f := setup(t, 8)
	slow := newPipe()
	slow.block = make(chan struct{})
	defer close(slow.block)
	fast := newPipe()
	f.hub.Open(slow, f.agent, "slow", []byte(`{}`), nil)
	f.hub.Open(fast, f.vis, "fast", []byte(`{}`), nil)
	done := make(chan struct{})
	go func() { f.send(t, 50); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("a stuck connection blocked sending")
	}
	if got := fast.seqs(t, 50); len(got) != 50 {
		t.Fatalf("healthy connection got %d of 50 messages", len(got))
	}
	slow.mu.Lock()
	code := slow.code
	slow.mu.Unlock()
	if code != protocol.CloseSlowConsumer {
		t.Fatalf("slow connection closed with %d, want %d", code, protocol.CloseSlowConsumer)
	}
	if a, _ := f.hub.Count(); a != 0 {
		t.Fatalf("slow connection still registered (%d agents)", a)
	}
}

func TestAgentsFollowAssignedUnassignedAndSubscribedConversations(t *testing.T) {
	f := setup(t, 0)
	ctx := context.Background()
	other := &kefu.Agent{WorkspaceID: f.agent.WorkspaceID, Email: "b@x", Role: kefu.RoleAgent, Active: true}
	f.store.CreateAgent(ctx, other)
	otherActor := kefu.Actor{WorkspaceID: f.agent.WorkspaceID, Type: kefu.SenderAgent, ID: other.ID, Role: kefu.RoleAgent}
	mine, theirs := newPipe(), newPipe()
	f.hub.Open(mine, f.agent, "m", []byte(`{}`), nil)
	c2, _ := f.hub.Open(theirs, otherActor, "t", []byte(`{}`), nil)
	f.send(t, 1) // unassigned: both see it
	id := f.agent.ID
	if _, err := f.chat.UpdateConversation(ctx, f.agent, f.conv, chat.ConversationChange{AssigneeID: &id}); err != nil {
		t.Fatal(err)
	}
	f.send(t, 1) // seq 3 (2 is the "assigned" event): only the assignee
	if got := mine.seqs(t, 3); len(got) != 3 {
		t.Fatalf("assignee got %v", got)
	}
	if got := theirs.seqs(t, 1); len(got) != 1 {
		t.Fatalf("other agent got %v, want [1]: seq 2 and 3 belong to the assignee", got)
	}
	c2.Resume(map[int64]int64{f.conv: 1}) // subscribe: replays 2 and 3, then live
	f.send(t, 1)
	if got := theirs.seqs(t, 4); len(got) != 4 || got[2] != 3 || got[3] != 4 {
		t.Fatalf("subscribed agent got %v, want [1 2 3 4]", got)
	}
}

// TestRemindersReachOnlyTheAssignee: a reminder goes to the agent the
// contact waits on, even though every workbench subscribes to all
// conversations; another agent's firehose does not carry it.
func TestRemindersReachOnlyTheAssignee(t *testing.T) {
	f := setup(t, 0)
	ctx := context.Background()
	other := &kefu.Agent{WorkspaceID: f.agent.WorkspaceID, Email: "b@x", Role: kefu.RoleAgent, Active: true}
	f.store.CreateAgent(ctx, other)
	otherActor := kefu.Actor{WorkspaceID: f.agent.WorkspaceID, Type: kefu.SenderAgent, ID: other.ID, Role: kefu.RoleAgent}
	mine, theirs := newPipe(), newPipe()
	c1, _ := f.hub.Open(mine, f.agent, "m", []byte(`{}`), nil)
	c2, _ := f.hub.Open(theirs, otherActor, "t", []byte(`{}`), nil)
	c1.SubscribeAll(true)
	c2.SubscribeAll(true)
	f.hub.Route(&kefu.Event{Type: kefu.EventReminder, WorkspaceID: f.agent.WorkspaceID, ConversationID: f.conv,
		AssigneeID: f.agent.ID, AgentsOnly: true, Frame: []byte(`{"type":"reminder"}`)})
	// A message after it reaches both: once it has, the reminder would have too.
	f.send(t, 1)
	if got := mine.seqs(t, 1); len(got) != 1 {
		t.Fatalf("assignee got messages %v", got)
	}
	if got := theirs.seqs(t, 1); len(got) != 1 {
		t.Fatalf("other agent got messages %v", got)
	}
	types := func(p *pipe) []string {
		p.mu.Lock()
		defer p.mu.Unlock()
		var out []string
		for _, f := range p.frames {
			var x struct{ Type string }
			json.Unmarshal(f, &x)
			out = append(out, x.Type)
		}
		return out
	}
	if got := types(mine); len(got) != 3 || got[1] != protocol.TypeReminder {
		t.Errorf("assignee's frames %v, want welcome, reminder, message", got)
	}
	if got := types(theirs); len(got) != 2 || got[1] != protocol.TypeMessage {
		t.Errorf("other agent's frames %v, want welcome, message: no reminder", got)
	}
}

func BenchmarkFanOut(b *testing.B) {
	f := setup(b, 1<<20)
	const conns = 1000
	for i := 0; i < conns; i++ {
		f.hub.Open(newPipe(), f.agent, "c", []byte(`{}`), nil)
	}
	e := &kefu.Event{Type: kefu.EventMessage, WorkspaceID: f.agent.WorkspaceID, ConversationID: f.conv, Frame: []byte(`{"type":"message"}`)}
	b.ReportAllocs()
	seq := int64(0)
	for b.Loop() {
		seq++
		e.Seq = seq
		f.hub.Route(e)
	}
	b.ReportMetric(float64(conns), "conns/event")
}

// corkPipe gathers frames while corked, as the WebSocket transport does;
// only flushed frames count as written.
type corkPipe struct {
	*pipe
	cmu      sync.Mutex
	corked   bool
	gathered [][]byte
	flushes  int
}

func (p *corkPipe) WriteFrame(b []byte) error {
	p.cmu.Lock()
	defer p.cmu.Unlock()
	if p.corked {
		p.gathered = append(p.gathered, append([]byte(nil), b...))
		return nil
	}
	return p.pipe.WriteFrame(b)
}

func (p *corkPipe) Cork() { p.cmu.Lock(); p.corked = true; p.cmu.Unlock() }

func (p *corkPipe) Flush() error {
	p.cmu.Lock()
	defer p.cmu.Unlock()
	p.corked = false
	p.flushes++
	for _, b := range p.gathered {
		p.pipe.WriteFrame(b)
	}
	p.gathered = nil
	return nil
}

func (p *corkPipe) Close(code int, reason string) {
	p.cmu.Lock()
	left := len(p.gathered)
	p.cmu.Unlock()
	if left > 0 {
		panic("closed with frames still gathered")
	}
	p.pipe.Close(code, reason)
}

// TestGatheredWritesAreFlushedInOrder: with a transport that gathers
// writes, every frame is flushed before the writer goes idle (none waits
// in a buffer for the next message), in order, in fewer writes than frames
// when they queue up; a connection shut while gathering flushes first.
func TestGatheredWritesAreFlushedInOrder(t *testing.T) {
	f := setup(t, 0)
	p := &corkPipe{pipe: newPipe()}
	if _, ok := f.hub.Open(p, f.vis, "v1", []byte(`{"type":"welcome"}`), map[int64]int64{f.conv: 0}); !ok {
		t.Fatal("open refused")
	}
	f.send(t, 200)
	got := p.seqs(t, 200)
	if len(got) != 200 {
		t.Fatalf("got %d messages, want 200 (frames left gathered: the writer went idle without flushing)", len(got))
	}
	for i, s := range got {
		if s != int64(i+1) {
			t.Fatalf("message %d has seq %d: order lost", i, s)
		}
	}
	p.cmu.Lock()
	flushes := p.flushes
	p.cmu.Unlock()
	t.Logf("%d frames in %d flushes", len(p.frames), flushes)
	if flushes > len(p.frames) {
		t.Fatalf("%d flushes for %d frames", flushes, len(p.frames))
	}
	f.hub.Shutdown(protocol.CloseGoingAway, "bye")
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.code == 0 {
		t.Fatal("connection not closed by Shutdown")
	}
}
