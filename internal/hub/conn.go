package hub

import (
	"context"
	"sync"
	"time"

	"github.com/kefu-chat/kefu/internal/kefu"
	"github.com/kefu-chat/kefu/internal/protocol"
)

// Transport is the socket under a Conn. WriteFrame blocks until the frame is
// written or the transport's write deadline passes; Close sends a close
// frame if it can and releases the socket, and may be called more than once.
type Transport interface {
	WriteFrame(b []byte) error
	Close(code int, reason string)
}

// Corker is implemented by transports that can gather frames into fewer
// writes: after Cork, WriteFrame may only buffer the frame, and Flush
// writes everything gathered (reporting any write error) and stops
// gathering.
type Corker interface {
	Cork()
	Flush() error
}

// job is one unit of outbound work, run in queue order.
type job struct {
	frame  []byte
	conv   int64
	seq    int64 // > 0: a live message with this seq
	resume bool  // replay conv from the connection's position, then "resumed"
}

// Conn is one live connection as the hub sees it.
type Conn struct {
	hub   *Hub
	t     Transport
	actor kefu.Actor
	id    string

	// Guarded by mu.
	mu      sync.Mutex
	q       []job
	head    int
	running bool // a drain goroutine owns the queue
	held    bool // not draining yet: the connection is still being set up
	closed  bool
	all     bool            // agent firehose
	subs    map[int64]bool  // agent's explicit subscriptions
	pending map[int64]int64 // resume positions set before the writer runs

	// Owned by whichever goroutine is draining (one at a time, handed over
	// under mu), so it needs no lock of its own.
	seen map[int64]int64 // conversation id -> last seq delivered
}

// Open registers a connection. welcome is written first; resume positions
// (conversation id -> last seq the client has) are replayed before any live
// message, and live messages are admitted only after registration, so
// nothing committed before the replay's read can slip between the two.
func (h *Hub) Open(t Transport, actor kefu.Actor, id string, welcome []byte, resume map[int64]int64) (*Conn, bool) {
	c := &Conn{hub: h, t: t, actor: actor, id: id, held: true}
	c.q = append(c.q, job{frame: welcome})
	if len(resume) > 0 {
		c.seen = make(map[int64]int64, len(resume))
		for conv, seq := range resume {
			c.seen[conv] = seq
			if actor.IsAgent() {
				c.subscribe(conv)
			}
			c.q = append(c.q, job{conv: conv, resume: true})
		}
	}
	if !h.add(c) {
		return nil, false
	}
	c.mu.Lock()
	c.held = false
	c.startLocked()
	c.mu.Unlock()
	if actor.IsContact() && h.onVisitor != nil {
		h.onVisitor(actor)
	}
	return c, true
}

func (c *Conn) subscribe(conv int64) {
	if c.subs == nil {
		c.subs = map[int64]bool{}
	}
	c.subs[conv] = true
}

// ID is the connection's origin id, used to avoid echoing typing back.
func (c *Conn) ID() string { return c.id }

// Actor is who the connection speaks for.
func (c *Conn) Actor() kefu.Actor { return c.actor }

// wants reports whether an agent connection follows e's conversation.
func (c *Conn) wants(e *kefu.Event) bool {
	switch e.Type {
	case kefu.EventConversation, kefu.EventPresence:
		return true
	case kefu.EventReminder:
		// A reminder nudges the one person the contact is waiting on; the
		// workbench's firehose must not make every agent's tab chime.
		return e.AssigneeID != 0 && e.AssigneeID == c.actor.ID
	}
	if e.AssigneeID == 0 || e.AssigneeID == c.actor.ID {
		return true
	}
	c.mu.Lock()
	ok := c.all || c.subs[e.ConversationID]
	c.mu.Unlock()
	return ok
}

// Send queues a frame (an ack, an error, a pong).
func (c *Conn) Send(frame []byte) { c.enqueue(job{frame: frame}) }

func (c *Conn) deliver(e *kefu.Event, frame []byte) {
	if e.Type == kefu.EventMessage {
		c.enqueue(job{frame: frame, conv: e.ConversationID, seq: e.Seq})
		return
	}
	c.enqueue(job{frame: frame})
}

// Resume replays each conversation after the given seq and, for agents,
// follows it from now on.
func (c *Conn) Resume(convs map[int64]int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	for conv, seq := range convs {
		if c.actor.IsAgent() {
			c.subscribe(conv)
		}
		if c.pending == nil {
			c.pending = map[int64]int64{}
		}
		c.pending[conv] = seq
		c.pushLocked(job{conv: conv, resume: true})
	}
}

// Unsubscribe stops following conversations an agent subscribed to.
func (c *Conn) Unsubscribe(convs map[int64]int64) {
	c.mu.Lock()
	for conv := range convs {
		delete(c.subs, conv)
	}
	c.mu.Unlock()
}

// SubscribeAll turns an agent's firehose on or off.
func (c *Conn) SubscribeAll(on bool) {
	c.mu.Lock()
	c.all = on
	c.mu.Unlock()
}

func (c *Conn) enqueue(j job) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	c.pushLocked(j)
}

func (c *Conn) pushLocked(j job) {
	if len(c.q)-c.head >= c.hub.opts.MaxQueue {
		c.closed = true
		c.q, c.head = nil, 0
		c.hub.opts.Metrics.DisconnectsTotal.WithLabelValues("slow_consumer").Inc()
		// Not inline: the caller may hold the hub's lock, and closing
		// unregisters from the hub.
		go c.shut(protocol.CloseSlowConsumer, "slow consumer: reconnect and resume")
		return
	}
	c.q = append(c.q, j)
	c.startLocked()
}

func (c *Conn) startLocked() {
	if c.running || c.held || c.head == len(c.q) {
		return
	}
	c.running = true
	go c.drain()
}

// drain writes queued jobs until the queue is empty, then exits: an idle
// connection keeps no goroutine here. A transport that can gather writes is
// corked for the run and flushed when the queue is found empty, before the
// drain gives up the queue, so a frame is never left sitting in a buffer.
func (c *Conn) drain() {
	ck, _ := c.t.(Corker)
	corked := false
	for {
		c.mu.Lock()
		if !c.closed && c.head == len(c.q) && corked {
			c.mu.Unlock()
			corked = false
			if err := ck.Flush(); err != nil {
				c.writeFailed()
				return
			}
			continue
		}
		if c.closed || c.head == len(c.q) {
			c.running = false
			c.q, c.head = nil, 0
			c.mu.Unlock()
			if corked {
				// Closed meanwhile: the close frame must not be gathered.
				_ = ck.Flush()
			}
			return
		}
		j := c.q[c.head]
		c.q[c.head] = job{}
		c.head++
		var from int64
		var hasFrom bool
		if j.resume && c.pending != nil {
			from, hasFrom = c.pending[j.conv]
			delete(c.pending, j.conv)
		}
		c.mu.Unlock()
		if ck != nil && !corked {
			ck.Cork()
			corked = true
		}
		if err := c.run(j, from, hasFrom); err != nil {
			if corked {
				_ = ck.Flush()
			}
			c.writeFailed()
			return
		}
	}
}

func (c *Conn) writeFailed() {
	c.mu.Lock()
	c.closed, c.running = true, false
	c.q, c.head = nil, 0
	c.mu.Unlock()
	c.shut(protocol.CloseGoingAway, "write failed")
}

func (c *Conn) run(j job, from int64, hasFrom bool) error {
	switch {
	case j.resume:
		return c.replay(j.conv, from, hasFrom)
	case j.seq > 0:
		return c.deliverMessage(j)
	default:
		return c.write(j.frame)
	}
}

func (c *Conn) write(b []byte) error {
	if err := c.t.WriteFrame(b); err != nil {
		return err
	}
	c.hub.opts.Metrics.FramesOut.Inc()
	return nil
}

func (c *Conn) deliverMessage(j job) error {
	if c.seen == nil {
		c.seen = map[int64]int64{}
	}
	last, known := c.seen[j.conv]
	if known && j.seq <= last {
		return nil
	}
	if known && j.seq > last+1 {
		// A gap: a bus delivery was lost, or (for visitors) private
		// notes sit in between. The store has the truth.
		c.hub.opts.Metrics.GapFills.Inc()
		if err := c.fill(j.conv, last, j.seq); err != nil {
			return err
		}
	}
	if err := c.write(j.frame); err != nil {
		return err
	}
	c.hub.opts.Metrics.MessagesOut.Inc()
	c.seen[j.conv] = j.seq
	if len(c.seen) > maxSeen {
		c.trimSeen(j.conv)
	}
	return nil
}

// maxSeen bounds the per-connection position map of a long-lived agent
// connection; positions of conversations it is not following are dropped.
const maxSeen = 10_000

func (c *Conn) trimSeen(keep int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for conv := range c.seen {
		if conv != keep && !c.subs[conv] {
			delete(c.seen, conv)
		}
	}
}

const (
	pageSize     = 200
	storeTimeout = 10 * time.Second
)

// fillCount writes the messages strictly between after and before (before
// 0: everything after), moving the position as it goes, and returns how many
// it wrote.
func (c *Conn) fillCount(conv, after, before int64) (int, error) {
	n := 0
	for {
		ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
		msgs, err := c.hub.history.Messages(ctx, c.actor, kefu.MessageRange{ConversationID: conv, AfterSeq: after, Limit: pageSize})
		cancel()
		if err != nil {
			return n, err
		}
		for _, m := range msgs {
			if before > 0 && m.Seq >= before {
				return n, nil
			}
			if err := c.write(protocol.EncodeMessage(m)); err != nil {
				return n, errWrite{err}
			}
			c.hub.opts.Metrics.MessagesOut.Inc()
			after = m.Seq
			c.seen[conv] = after
			n++
		}
		if len(msgs) < pageSize {
			return n, nil
		}
	}
}

type errWrite struct{ error }

func (c *Conn) fill(conv, after, before int64) error {
	_, err := c.fillCount(conv, after, before)
	if _, ok := err.(errWrite); ok || err == nil {
		return err
	}
	// The store failed: tell the client, keep the connection. Its
	// position stays before the gap, so the next live message retries.
	c.hub.opts.Log.Warn("gap fill failed", "conversation_id", conv, "err", err)
	return c.write(protocol.EncodeError("", err))
}

// replay sends everything after the client's position, then "resumed".
func (c *Conn) replay(conv, from int64, hasFrom bool) error {
	if c.seen == nil {
		c.seen = map[int64]int64{}
	}
	pos, known := c.seen[conv]
	if hasFrom && (!known || from > pos) {
		pos = from
	}
	c.seen[conv] = pos
	n, err := c.fillCount(conv, pos, 0)
	if err != nil {
		if _, ok := err.(errWrite); ok {
			return err
		}
		if kefu.ErrorCode(err) == kefu.EInternal {
			c.hub.opts.Log.Warn("resume failed", "conversation_id", conv, "err", err)
		}
		delete(c.seen, conv)
		return c.write(protocol.EncodeError("", err))
	}
	return c.write(protocol.Encode(&protocol.Resumed{Type: protocol.TypeResumed, ConversationID: conv, LastSeq: c.seen[conv], Count: n}))
}

// Close unregisters the connection and closes its transport. Safe to call
// more than once and from any goroutine.
func (c *Conn) Close(code int, reason string) {
	c.mu.Lock()
	c.closed = true
	c.q, c.head = nil, 0
	c.mu.Unlock()
	c.shut(code, reason)
}

func (c *Conn) shut(code int, reason string) {
	c.hub.remove(c)
	c.t.Close(code, reason)
}
