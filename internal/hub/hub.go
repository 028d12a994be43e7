// Package hub keeps this node's live connections and routes committed events
// to them. Each connection has a bounded outbound queue drained by a
// short-lived goroutine, so an idle connection costs no goroutine here and a
// slow one is cut off instead of holding anyone else up.
//
// Delivery is exactly-once and in order per conversation and connection:
// the connection remembers the last seq it delivered for each conversation,
// drops anything at or below it, and fills any gap above it from the store
// before going on. Bus delivery may therefore be at-most-once.
//
// Lock order: Hub.mu before Conn.mu; neither is held while writing.
package hub

import (
	"context"
	"log/slog"
	"sync"

	"github.com/kefu-chat/kefu/internal/kefu"
	"github.com/kefu-chat/kefu/internal/metrics"
)

// History is how a connection fills gaps and resumes; chat.Service
// implements it with the same access rules as the REST API.
type History interface {
	Messages(ctx context.Context, actor kefu.Actor, r kefu.MessageRange) ([]*kefu.Message, error)
}

// Options tune a Hub.
type Options struct {
	MaxQueue int // frames queued per connection before it is cut off (default 1024)
	Log      *slog.Logger
	Metrics  *metrics.Metrics
}

// Hub routes events to connections.
type Hub struct {
	history History
	opts    Options

	mu sync.RWMutex
	// Slices, not sets: most contacts have one connection, and a one-entry
	// map costs ~200 bytes more than a one-entry slice, per connection.
	agents   map[int64][]*Conn // workspace id -> agent connections
	contacts map[int64][]*Conn // contact id -> visitor connections
	closing  bool

	onVisitor func(kefu.Actor) // set once before serving; nil: none
}

// OnVisitorOpen installs fn to be told of each visitor connection once it
// is registered (routing re-sends the visitor's place in the queue). Call
// it once, before serving; fn must not block.
func (h *Hub) OnVisitorOpen(fn func(kefu.Actor)) { h.onVisitor = fn }

// New builds a Hub; call Attach to feed it from a bus.
func New(history History, opts Options) *Hub {
	if opts.MaxQueue <= 0 {
		opts.MaxQueue = 1024
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.Metrics == nil {
		opts.Metrics = metrics.New()
	}
	return &Hub{history: history, opts: opts, agents: map[int64][]*Conn{}, contacts: map[int64][]*Conn{}}
}

// Attach subscribes the hub to bus and returns the unsubscribe function.
func (h *Hub) Attach(bus kefu.Bus) func() { return bus.Subscribe(h.Route) }

func (h *Hub) index(c *Conn) map[int64][]*Conn {
	if c.actor.IsContact() {
		return h.contacts
	}
	return h.agents
}

func (h *Hub) key(c *Conn) int64 {
	if c.actor.IsContact() {
		return c.actor.ID
	}
	return c.actor.WorkspaceID
}

func (h *Hub) add(c *Conn) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closing {
		return false
	}
	idx, k := h.index(c), h.key(c)
	idx[k] = append(idx[k], c)
	return true
}

func (h *Hub) remove(c *Conn) {
	h.mu.Lock()
	defer h.mu.Unlock()
	idx, k := h.index(c), h.key(c)
	list := idx[k]
	for i, x := range list {
		if x == c {
			last := len(list) - 1
			list[i], list[last] = list[last], nil
			list = list[:last]
			break
		}
	}
	if len(list) == 0 {
		delete(idx, k)
	} else {
		idx[k] = list
	}
}

// Route delivers one event to every local connection that should see it.
// It never blocks on a connection: enqueueing is a bounded append.
func (h *Hub) Route(e *kefu.Event) {
	if e.Frame == nil && e.ContactFrame == nil {
		return // a signal between nodes, nothing for clients
	}
	h.mu.RLock()
	defer h.mu.RUnlock()
	if !e.Private && !e.AgentsOnly && e.ContactID != 0 {
		frame := e.Frame
		if e.ContactFrame != nil {
			frame = e.ContactFrame
		}
		for _, c := range h.contacts[e.ContactID] {
			if c.actor.WorkspaceID == e.WorkspaceID && (e.Origin == "" || e.Origin != c.id) {
				c.deliver(e, frame)
			}
		}
	}
	if e.ContactOnly {
		return
	}
	for _, c := range h.agents[e.WorkspaceID] {
		if e.Origin != "" && e.Origin == c.id {
			continue
		}
		if c.wants(e) {
			c.deliver(e, e.Frame)
		}
	}
}

// Count returns the number of registered connections by role.
func (h *Hub) Count() (agents, visitors int) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	for _, s := range h.agents {
		agents += len(s)
	}
	for _, s := range h.contacts {
		visitors += len(s)
	}
	return agents, visitors
}

// AgentConnected reports whether the agent has a live connection here.
func (h *Hub) AgentConnected(workspaceID, agentID int64) bool {
	h.mu.RLock()
	defer h.mu.RUnlock()
	for _, c := range h.agents[workspaceID] {
		if c.actor.ID == agentID {
			return true
		}
	}
	return false
}

// ConnectedAgents returns, per workspace, the agents with a live
// connection here.
func (h *Hub) ConnectedAgents() map[int64][]int64 {
	h.mu.RLock()
	defer h.mu.RUnlock()
	out := make(map[int64][]int64, len(h.agents))
	for ws, conns := range h.agents {
		seen := map[int64]bool{}
		for _, c := range conns {
			if !seen[c.actor.ID] {
				seen[c.actor.ID] = true
				out[ws] = append(out[ws], c.actor.ID)
			}
		}
	}
	return out
}

// Shutdown closes every connection with code and stops accepting new ones.
func (h *Hub) Shutdown(code int, reason string) {
	h.mu.Lock()
	h.closing = true
	var all []*Conn
	for _, idx := range []map[int64][]*Conn{h.agents, h.contacts} {
		for _, list := range idx {
			all = append(all, list...)
		}
	}
	h.mu.Unlock()
	for _, c := range all {
		c.Close(code, reason)
	}
}
