package loadgen

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"github.com/lxzan/gws"

	"github.com/kefu-chat/kefu/internal/protocol"
)

// This file is the load generator's WebSocket client: it speaks the
// protocol of docs/protocol.md as the widget and the workbench do. Each
// connection costs one goroutine (its read loop) and a small struct; the
// heartbeats and ack timeouts of all connections are driven by one ticker
// in the pool, so an idle connection has no timer of its own.

// wireMessage is the part of a message frame the load generator reads.
type wireMessage struct {
	ID             int64  `json:"id"`
	ConversationID int64  `json:"conversation_id"`
	Seq            int64  `json:"seq"`
	SenderType     string `json:"sender_type"`
	SenderID       int64  `json:"sender_id"`
	Kind           string `json:"kind"`
	ClientMsgID    string `json:"client_msg_id"`
}

type wireConversation struct {
	ID         int64  `json:"id"`
	ContactID  int64  `json:"contact_id"`
	AssigneeID int64  `json:"assignee_id"`
	Status     string `json:"status"`
	LastSeq    int64  `json:"last_seq"`
}

// serverFrame is every server frame flattened. "message" is an object in
// message frames and a string in error frames, so it stays raw.
type serverFrame struct {
	Type              string            `json:"type"`
	ID                string            `json:"id"`
	ConversationID    int64             `json:"conversation_id"`
	Seq               int64             `json:"seq"`
	ClientMsgID       string            `json:"client_msg_id"`
	Duplicate         bool              `json:"duplicate"`
	Code              string            `json:"code"`
	Message           jsontext.Value    `json:"message"`
	Event             string            `json:"event"`
	Conversation      *wireConversation `json:"conversation"`
	LastSeq           int64             `json:"last_seq"`
	Count             int               `json:"count"`
	HeartbeatInterval int               `json:"heartbeat_interval"`
}

// parseFrame decodes a server frame, and for a message frame the message.
// json/v2 does it in about a third of encoding/json's time; at tens of
// thousands of frames a second that is the generator's biggest cost after
// syscalls.
func parseFrame(b []byte) (*serverFrame, *wireMessage, error) {
	var f serverFrame
	if err := jsonv2.Unmarshal(b, &f); err != nil {
		return nil, nil, err
	}
	if f.Type != protocol.TypeMessage {
		return &f, nil, nil
	}
	var m wireMessage
	if err := jsonv2.Unmarshal(f.Message, &m); err != nil {
		return nil, nil, err
	}
	return &f, &m, nil
}

// Handler hears what a connection receives. Its methods run on the
// connection's read goroutine, in frame order: keep them short.
type Handler interface {
	Message(c *Conn, m *wireMessage, at time.Time)
	Conversation(c *Conn, event string, cv *wireConversation, at time.Time)
}

// resumePos is a conversation and the last seq seen in it.
type resumePos struct {
	ID  int64
	Seq int64
}

// pool holds what all connections of a process share.
type pool struct {
	ctx        context.Context
	cancel     context.CancelFunc
	wsBase     string // ws://host:port, the default server
	dialer     *Dialer
	stats      *Stats
	ackLatency *Histogram // send (first attempt) -> ack
	connectLat *Histogram // dial -> welcome
	dialSem    chan struct{}
	ackTimeout time.Duration
	backoff    time.Duration // first reconnect delay after an unplanned drop
	cutJitter  time.Duration // reconnect spread after a deliberate cut

	mu    sync.Mutex
	conns map[*Conn]struct{}
	wg    sync.WaitGroup // reconnect loops and retry timers
}

// wsBase is the WebSocket base URL of an HTTP base URL.
func wsBase(base *url.URL) string {
	ws := *base
	ws.Scheme = map[string]string{"http": "ws", "https": "wss"}[base.Scheme]
	return ws.String()
}

// newPool makes a pool whose connections go to base unless newConnTo
// names another server.
func newPool(ctx context.Context, base *url.URL, d *Dialer, st *Stats, dialConcurrency int) *pool {
	ctx, cancel := context.WithCancel(ctx)
	p := &pool{
		ctx: ctx, cancel: cancel, wsBase: wsBase(base), dialer: d, stats: st,
		ackLatency: NewHistogram(), connectLat: NewHistogram(),
		dialSem:    make(chan struct{}, max(1, dialConcurrency)),
		ackTimeout: 10 * time.Second, backoff: 200 * time.Millisecond,
		conns: map[*Conn]struct{}{},
	}
	go p.tick()
	return p
}

// tick sends heartbeats to connections that have been quiet and notes
// sends whose ack is overdue, once a second for the whole pool.
func (p *pool) tick() {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	var conns []*Conn
	for {
		select {
		case <-p.ctx.Done():
			return
		case <-t.C:
		}
		p.mu.Lock()
		conns = conns[:0]
		for c := range p.conns {
			conns = append(conns, c)
		}
		p.mu.Unlock()
		now := time.Now()
		for _, c := range conns {
			c.heartbeat(now)
		}
	}
}

// closeAll closes every connection gracefully and waits for reconnect
// loops to end.
func (p *pool) closeAll() {
	p.mu.Lock()
	conns := make([]*Conn, 0, len(p.conns))
	for c := range p.conns {
		conns = append(conns, c)
	}
	p.mu.Unlock()
	for _, c := range conns {
		c.Close()
	}
	p.cancel()
	p.wg.Wait()
}

// Conn is one WebSocket connection as a visitor or an agent, with the
// reconnect-and-resume behaviour of the real clients.
type Conn struct {
	p       *pool
	wsBase  string // the server it connects to, ws://host:port
	agent   bool
	side    Side
	token   string
	h       Handler
	resume  func() []resumePos        // where to resume on (re)connect; may be nil
	redial  bool                      // reconnect after a drop
	ackHist atomic.Pointer[Histogram] // if set, send -> ack latency of this connection's sends

	lastWrite  atomic.Int64 // unix nanoseconds
	pingEvery  atomic.Int64 // nanoseconds, jittered per connection
	resumeLeft atomic.Int32 // resumed frames still expected
	up         atomic.Bool  // welcomed and not dropped since
	connects   atomic.Int64 // successful connects so far

	mu      sync.Mutex
	ws      *gws.Conn
	welcome chan struct{} // closed when the current socket is welcomed
	closing bool          // Close was called: do not reconnect
	cutting bool          // Cut was called: the next close is ours
	pending map[string]*pendingSend
	order   uint64

	wmu sync.Mutex // keeps a resend batch together on the wire
}

type pendingSend struct {
	order    uint64
	frame    []byte
	l        *Ledger
	n        int
	side     Side
	first    time.Time
	timedOut bool
	onAck    func(seq int64, at time.Time)
}

func (p *pool) newConn(agent bool, token string, h Handler, resume func() []resumePos) *Conn {
	return p.newConnTo(p.wsBase, agent, token, h, resume)
}

// newConnTo makes a connection to the server at ws (ws://host:port); it
// reconnects there too, as a client of that node would.
func (p *pool) newConnTo(ws string, agent bool, token string, h Handler, resume func() []resumePos) *Conn {
	c := &Conn{p: p, wsBase: ws, agent: agent, token: token, h: h, resume: resume, redial: true}
	if agent {
		c.side = AgentSide
	}
	c.pingEvery.Store(int64(jitter(20 * time.Second)))
	return c
}

// jitter spreads d over [0.6d, 0.9d] so that heartbeats do not march in
// step.
func jitter(d time.Duration) time.Duration {
	return time.Duration(float64(d) * (0.6 + 0.3*rand.Float64()))
}

func (c *Conn) url() string {
	var b strings.Builder
	b.WriteString(c.wsBase)
	if c.agent {
		b.WriteString("/ws/agent?token=")
	} else {
		b.WriteString("/ws/visitor?token=")
	}
	b.WriteString(url.QueryEscape(c.token))
	var pos []resumePos
	if c.resume != nil {
		pos = c.resume()
	}
	if len(pos) > 0 {
		b.WriteString("&resume=")
		for i, r := range pos {
			if i > 0 {
				b.WriteString("%2C")
			}
			b.WriteString(strconv.FormatInt(r.ID, 10))
			b.WriteString("%3A")
			b.WriteString(strconv.FormatInt(r.Seq, 10))
		}
	}
	c.resumeLeft.Store(int32(len(pos)))
	return b.String()
}

// Connect dials, waits for welcome and sends whatever is pending. It makes
// one attempt; a connection that later drops reconnects by itself.
func (c *Conn) Connect(ctx context.Context) error {
	select {
	case c.p.dialSem <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	start := time.Now()
	ws, _, err := gws.NewClient(c, &gws.ClientOption{
		Addr:               c.url(),
		NewDialer:          func() (gws.Dialer, error) { return c.p.dialer, nil },
		ReadBufferSize:     2048,
		ReadMaxPayloadSize: 1 << 20,
		HandshakeTimeout:   10 * time.Second,
		RequestHeader:      map[string][]string{"User-Agent": {"kefu-loadgen"}},
	})
	<-c.p.dialSem
	if err != nil {
		c.p.stats.ConnectFailed.Add(1)
		c.p.stats.Fail("connect: " + classify(err))
		return err
	}
	welcome := make(chan struct{})
	c.mu.Lock()
	if c.closing {
		c.mu.Unlock()
		ws.WriteClose(1000, nil)
		return errors.New("closed")
	}
	c.ws, c.welcome, c.cutting = ws, welcome, false
	c.mu.Unlock()
	c.lastWrite.Store(time.Now().UnixNano())
	go ws.ReadLoop()

	t := time.NewTimer(10 * time.Second)
	defer t.Stop()
	select {
	case <-welcome:
	case <-t.C:
		err = errors.New("no welcome within 10s")
	case <-ctx.Done():
		err = ctx.Err()
	}
	if err != nil {
		c.p.stats.ConnectFailed.Add(1)
		c.p.stats.Fail("connect: " + err.Error())
		c.mu.Lock()
		c.closing = c.closing || ctx.Err() != nil
		c.mu.Unlock()
		ws.NetConn().Close()
		return err
	}
	c.p.connectLat.Record(time.Since(start))
	c.p.stats.ConnectOK.Add(1)
	c.p.stats.Open.Add(1)
	c.connects.Add(1)
	c.p.mu.Lock()
	c.p.conns[c] = struct{}{}
	c.p.mu.Unlock()
	// Going up and resending under wmu keeps new sends behind old ones.
	c.wmu.Lock()
	c.up.Store(true)
	c.flush()
	c.wmu.Unlock()
	return nil
}

// flush writes every pending send in the order they were made: after a
// reconnect these are the sends whose ack was lost or never came. The
// caller holds wmu.
func (c *Conn) flush() {
	c.mu.Lock()
	ws := c.ws
	var ps []*pendingSend
	for _, p := range c.pending {
		ps = append(ps, p)
	}
	c.mu.Unlock()
	if len(ps) == 0 {
		return
	}
	slices.SortFunc(ps, func(a, b *pendingSend) int { return int(a.order - b.order) })
	for _, p := range ps {
		p.l.Retry(p.side, p.n)
		if ws.WriteMessage(gws.OpcodeText, p.frame) != nil {
			return
		}
		c.p.stats.Sent.Add(1)
	}
	c.lastWrite.Store(time.Now().UnixNano())
}

// Up reports whether the connection is welcomed and every resumed frame
// it asked for has arrived.
func (c *Conn) Up() bool { return c.up.Load() && c.resumeLeft.Load() <= 0 }

// Pending is the number of sends not yet acknowledged.
func (c *Conn) Pending() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.pending)
}

// Send sends side's next message in conversation l, with a body of about
// size bytes that carries the send time, and registers it for its ack.
// If the connection is down the send waits for the reconnect.
func (c *Conn) Send(l *Ledger, size int, onAck func(seq int64, at time.Time)) {
	now := time.Now()
	n, id := l.NewSend(c.side, now)
	body := id + " " + strconv.FormatInt(now.UnixNano(), 10)
	if pad := size - len(body) - 1; pad > 0 {
		body += " " + strings.Repeat("x", pad)
	}
	// client_msg_id is unique within a conversation only, and an agent
	// sends in many: the frame id adds the conversation.
	key := pendingKey(l.id, id)
	frame, _ := json.Marshal(&protocol.ClientFrame{
		Type: protocol.TypeSend, ID: key, ConversationID: l.id, ClientMsgID: id, Kind: "text", Body: body,
	})
	p := &pendingSend{frame: frame, l: l, n: n, side: c.side, first: now, onAck: onAck}
	c.mu.Lock()
	if c.pending == nil {
		c.pending = map[string]*pendingSend{}
	}
	c.order++
	p.order = c.order
	c.pending[key] = p
	c.mu.Unlock()
	c.writeIfUp(frame, true)
}

// WriteFrame sends a non-message frame (subscribe, ping, …) if connected.
func (c *Conn) WriteFrame(f *protocol.ClientFrame) {
	b, _ := json.Marshal(f)
	c.writeIfUp(b, false)
}

func (c *Conn) writeIfUp(frame []byte, isSend bool) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if !c.up.Load() {
		return
	}
	c.mu.Lock()
	ws := c.ws
	c.mu.Unlock()
	if ws.WriteMessage(gws.OpcodeText, frame) == nil {
		c.lastWrite.Store(time.Now().UnixNano())
		if isSend {
			c.p.stats.Sent.Add(1)
		}
	}
}

var pingFrame = []byte(`{"type":"ping"}`)

func (c *Conn) heartbeat(now time.Time) {
	if c.up.Load() && now.UnixNano()-c.lastWrite.Load() >= c.pingEvery.Load() {
		c.writeIfUp(pingFrame, false)
	}
	c.mu.Lock()
	for _, p := range c.pending {
		if !p.timedOut && now.Sub(p.first) > c.p.ackTimeout {
			p.timedOut = true
			c.p.stats.Fail("send: no ack within " + c.p.ackTimeout.String())
		}
	}
	c.mu.Unlock()
}

// Cut drops the connection the way a network failure would (a TCP reset,
// no close frame); the connection reconnects and resumes by itself.
func (c *Conn) Cut() {
	c.mu.Lock()
	ws := c.ws
	c.cutting = true
	c.mu.Unlock()
	if ws == nil {
		return
	}
	if tc, ok := ws.NetConn().(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
	ws.NetConn().Close()
}

// Close ends the connection for good.
func (c *Conn) Close() {
	c.mu.Lock()
	c.closing = true
	ws := c.ws
	c.mu.Unlock()
	if ws != nil {
		ws.WriteClose(1000, nil)
	}
}

// gws.Event

func (c *Conn) OnOpen(*gws.Conn)               {}
func (c *Conn) OnPing(ws *gws.Conn, pl []byte) { ws.WritePong(pl) }
func (c *Conn) OnPong(*gws.Conn, []byte)       {}

func (c *Conn) OnClose(ws *gws.Conn, err error) {
	c.mu.Lock()
	if c.ws != ws { // an older socket of this connection
		c.mu.Unlock()
		return
	}
	wasUp := c.up.Swap(false)
	closing, cutting := c.closing, c.cutting
	c.mu.Unlock()
	if wasUp {
		c.p.stats.Open.Add(-1)
	}
	if closing {
		c.p.mu.Lock()
		delete(c.p.conns, c)
		c.p.mu.Unlock()
		return
	}
	if cutting {
		c.p.stats.Cuts.Add(1)
	} else if wasUp {
		c.p.stats.Disconnects.Add(1)
		var ce *gws.CloseError
		if errors.As(err, &ce) {
			c.p.stats.Fail(fmt.Sprintf("disconnect: close code %d", ce.Code))
		} else {
			c.p.stats.Fail("disconnect: " + classify(err))
		}
	}
	if !c.redial || !wasUp {
		// A socket that never got welcomed is Connect's failure to report.
		return
	}
	c.p.wg.Add(1)
	go c.reconnect(cutting)
}

// reconnect retries with exponential back-off and jitter until it
// succeeds, the connection is closed, or the run ends.
func (c *Conn) reconnect(cut bool) {
	defer c.p.wg.Done()
	delay := c.p.backoff
	first := time.Duration(rand.Int64N(int64(delay)))
	if cut {
		first = 0
		if c.p.cutJitter > 0 {
			first = time.Duration(rand.Int64N(int64(c.p.cutJitter)))
		}
	}
	wait := first
	for {
		select {
		case <-c.p.ctx.Done():
			return
		case <-time.After(wait):
		}
		c.mu.Lock()
		closing := c.closing
		c.mu.Unlock()
		if closing {
			return
		}
		if c.Connect(c.p.ctx) == nil {
			c.p.stats.Reconnects.Add(1)
			return
		}
		wait = delay/2 + time.Duration(rand.Int64N(int64(delay)))
		delay = min(2*delay, 5*time.Second)
	}
}

func (c *Conn) OnMessage(ws *gws.Conn, msg *gws.Message) {
	defer msg.Close()
	now := time.Now()
	f, m, err := parseFrame(msg.Bytes())
	if err != nil {
		c.p.stats.Fail("bad frame from server")
		return
	}
	switch f.Type {
	case protocol.TypeMessage:
		c.p.stats.Received.Add(1)
		c.h.Message(c, m, now)
	case protocol.TypeAck:
		c.ack(f, now)
	case protocol.TypeConversation:
		c.p.stats.Conversations.Add(1)
		if f.Conversation != nil {
			c.h.Conversation(c, f.Event, f.Conversation, now)
		}
	case protocol.TypeResumed:
		c.p.stats.Resumed.Add(1)
		c.resumeLeft.Add(-1)
	case protocol.TypeWelcome:
		if f.HeartbeatInterval > 0 {
			c.pingEvery.Store(int64(jitter(time.Duration(f.HeartbeatInterval) * time.Second)))
		}
		c.mu.Lock()
		if c.ws == ws && c.welcome != nil {
			close(c.welcome)
			c.welcome = nil
		}
		c.mu.Unlock()
	case protocol.TypeError:
		c.errorFrame(f)
	}
}

func (c *Conn) ack(f *serverFrame, now time.Time) {
	c.p.stats.Acked.Add(1)
	if f.Duplicate {
		c.p.stats.DuplicateAcks.Add(1)
	}
	key := f.ID
	if key == "" {
		key = pendingKey(f.ConversationID, f.ClientMsgID)
	}
	c.mu.Lock()
	p := c.pending[key]
	delete(c.pending, key)
	c.mu.Unlock()
	if p == nil {
		return // a second ack for a send retried after a reconnect
	}
	p.l.Acked(p.side, p.n, f.Seq)
	c.p.ackLatency.Record(now.Sub(p.first))
	if h := c.ackHist.Load(); h != nil {
		h.Record(now.Sub(p.first))
	}
	if p.onAck != nil {
		p.onAck(f.Seq, now)
	}
}

// pendingKey names a send within a connection.
func pendingKey(conv int64, clientMsgID string) string {
	return strconv.FormatInt(conv, 10) + "." + clientMsgID
}

// retryable error codes: the frame was not applied and may be sent again
// with the same client_msg_id.
var retryable = map[string]bool{"rate_limited": true, "internal": true, "unavailable": true}

func (c *Conn) errorFrame(f *serverFrame) {
	c.p.stats.ErrorFrames.Add(1)
	c.p.stats.Fail("error frame: " + f.Code)
	if f.ID == "" {
		return
	}
	c.mu.Lock()
	p := c.pending[f.ID]
	if p != nil && !retryable[f.Code] {
		delete(c.pending, f.ID)
	}
	c.mu.Unlock()
	if p == nil || !retryable[f.Code] {
		return
	}
	c.p.wg.Add(1)
	time.AfterFunc(500*time.Millisecond+time.Duration(rand.Int64N(int64(time.Second))), func() {
		defer c.p.wg.Done()
		c.mu.Lock()
		still := c.pending[f.ID] == p
		c.mu.Unlock()
		if still && c.p.ctx.Err() == nil {
			p.l.Retry(p.side, p.n)
			c.writeIfUp(p.frame, true)
		}
	})
}

// classify turns a connect or disconnect error into a short reason that
// does not vary with port numbers, so reasons can be counted.
func classify(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, syscall.EADDRNOTAVAIL):
		return "EADDRNOTAVAIL: out of ephemeral ports (spread with --source-addrs)"
	case errors.Is(err, syscall.EMFILE), errors.Is(err, syscall.ENFILE):
		return "EMFILE: out of file descriptors (spread with --procs)"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset"
	case errors.Is(err, syscall.EPIPE):
		return "broken pipe"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "EOF"
	case errors.Is(err, net.ErrClosed):
		return "closed"
	case errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	}
	s := err.Error()
	if i := strings.Index(s, "unexpected status code: "); i >= 0 {
		return "HTTP " + strings.TrimSpace(s[i+len("unexpected status code: "):])
	}
	if strings.Contains(s, "refusing to connect") {
		return s
	}
	// Drop digits (addresses, ports) so that reasons group.
	s = strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return -1
		}
		return r
	}, s)
	if len(s) > 80 {
		s = s[:80]
	}
	return s
}
