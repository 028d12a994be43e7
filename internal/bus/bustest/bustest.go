// Package bustest is the conformance suite every kefu.Bus passes.
package bustest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/kefu-chat/kefu/internal/kefu"
)

// Nodes returns buses for two nodes of one cluster (for a single-node bus,
// the same bus twice).
type Nodes func(t *testing.T) (a, b kefu.Bus)

// Run runs the suite.
func Run(t *testing.T, nodes Nodes) {
	t.Run("DeliversLocallyAndAcrossNodesInOrder", func(t *testing.T) { testOrder(t, nodes) })
	t.Run("Unsubscribe", func(t *testing.T) { testUnsubscribe(t, nodes) })
}

type collector struct {
	mu   sync.Mutex
	cond *sync.Cond
	got  []*kefu.Event
}

func newCollector() *collector { c := &collector{}; c.cond = sync.NewCond(&c.mu); return c }

func (c *collector) add(e *kefu.Event) {
	c.mu.Lock()
	c.got = append(c.got, e)
	c.cond.Broadcast()
	c.mu.Unlock()
}

func (c *collector) wait(t *testing.T, n int) []*kefu.Event {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	go func() { time.Sleep(10 * time.Second); c.mu.Lock(); c.cond.Broadcast(); c.mu.Unlock() }()
	c.mu.Lock()
	defer c.mu.Unlock()
	for len(c.got) < n && time.Now().Before(deadline) {
		c.cond.Wait()
	}
	if len(c.got) < n {
		t.Fatalf("got %d events, want %d", len(c.got), n)
	}
	return append([]*kefu.Event(nil), c.got...)
}

func testOrder(t *testing.T, nodes Nodes) {
	a, b := nodes(t)
	local, remote := newCollector(), newCollector()
	defer a.Subscribe(local.add)()
	defer b.Subscribe(remote.add)()
	const n = 2000
	for i := 1; i <= n; i++ {
		e := &kefu.Event{Type: kefu.EventMessage, WorkspaceID: 7, ConversationID: 3, ContactID: 9, AssigneeID: 2, Seq: int64(i),
			Private: i%10 == 0, Origin: "x", Frame: []byte(`{"type":"message","n":` + itoa(i) + `}`), ContactFrame: []byte(`{}`)}
		if err := a.Publish(context.Background(), e); err != nil {
			t.Fatal(err)
		}
	}
	for name, c := range map[string]*collector{"local": local, "remote": remote} {
		got := c.wait(t, n)
		for i, e := range got {
			if e.Seq != int64(i+1) {
				t.Fatalf("%s: event %d has seq %d: order broken", name, i, e.Seq)
			}
		}
		e := got[9]
		if e.WorkspaceID != 7 || e.ConversationID != 3 || e.ContactID != 9 || e.AssigneeID != 2 || !e.Private || e.Origin != "x" ||
			string(e.Frame) != `{"type":"message","n":10}` || string(e.ContactFrame) != `{}` {
			t.Fatalf("%s: event fields lost in transit: %+v", name, e)
		}
	}
}

func testUnsubscribe(t *testing.T, nodes Nodes) {
	a, b := nodes(t)
	gone, kept := newCollector(), newCollector()
	unsub := b.Subscribe(gone.add)
	defer b.Subscribe(kept.add)()
	a.Publish(context.Background(), &kefu.Event{Type: kefu.EventTyping, WorkspaceID: 1, Seq: 1})
	kept.wait(t, 1)
	unsub()
	unsub()
	a.Publish(context.Background(), &kefu.Event{Type: kefu.EventTyping, WorkspaceID: 1, Seq: 2})
	kept.wait(t, 2)
	if got := gone.wait(t, 1); len(got) != 1 {
		t.Fatalf("unsubscribed handler got %d events", len(got))
	}
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	var b []byte
	for ; i > 0; i /= 10 {
		b = append([]byte{byte('0' + i%10)}, b...)
	}
	return string(b)
}
