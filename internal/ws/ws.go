// Package ws is the WebSocket transport: it authenticates the upgrade,
// enforces the socket's limits (frame size, rate, idle time, write time),
// decodes client frames and hands them to the chat service, and plugs each
// socket into the hub for delivery. github.com/lxzan/gws answers the
// handshake and writes frames (chosen by measurement: about 7 KB per idle
// connection here against 17 KB for gorilla/websocket) and stays behind
// hub.Transport. Reading is done here (frame.go, conn.go) so that an idle
// connection holds no goroutine: on Linux an epoll set wakes a reader only
// when bytes arrive (poll_linux.go), which took an idle connection from
// about 10.4 to 4.7 KiB of server memory.
package ws

import (
	"context"

	"log/slog"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/lxzan/gws"

	"github.com/kefu-chat/kefu/internal/auth"
	"github.com/kefu-chat/kefu/internal/chat"
	"github.com/kefu-chat/kefu/internal/hub"
	"github.com/kefu-chat/kefu/internal/kefu"
	"github.com/kefu-chat/kefu/internal/metrics"
	"github.com/kefu-chat/kefu/internal/protocol"
)

// Options are the socket limits; zero values take the documented defaults.
type Options struct {
	HeartbeatInterval time.Duration // 25s
	IdleTimeout       time.Duration // 60s
	WriteTimeout      time.Duration // 10s
	// Frame rate limits per connection. Visitors are anonymous and get a
	// tight budget; agents (and bots and integrations on agent tokens) may
	// need to answer many conversations at once.
	VisitorRate, VisitorBurst float64       // 20 frames/s, burst 50
	AgentRate, AgentBurst     float64       // 1000 frames/s, burst 2000
	SendTimeout               time.Duration // 15s: longest a send waits for its commit
	Log                       *slog.Logger
	Metrics                   *metrics.Metrics
	// WriteError writes an HTTP error before the upgrade (required): the
	// API's error writer, so both speak the same envelope.
	WriteError func(w http.ResponseWriter, r *http.Request, err error)
}

// InboxGetter is what the visitor endpoint needs to check Origin.
type InboxGetter interface {
	GetInbox(ctx context.Context, workspaceID, id int64) (*kefu.Inbox, error)
}

// Server serves the two WebSocket endpoints.
type Server struct {
	chat     *chat.Service
	auth     *auth.Authenticator
	hub      *hub.Hub
	inboxes  InboxGetter
	opts     Options
	upgrader *gws.Upgrader
	poll     *poller // nil: every connection is read by its own goroutine
	nextID   atomic.Uint64
}

// New builds the server.
func New(c *chat.Service, a *auth.Authenticator, h *hub.Hub, inboxes InboxGetter, opts Options) *Server {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&opts.HeartbeatInterval, 25*time.Second)
	def(&opts.IdleTimeout, 60*time.Second)
	def(&opts.WriteTimeout, 10*time.Second)
	def(&opts.SendTimeout, 15*time.Second)
	deff := func(f *float64, v float64) {
		if *f <= 0 {
			*f = v
		}
	}
	deff(&opts.VisitorRate, 20)
	deff(&opts.VisitorBurst, 50)
	deff(&opts.AgentRate, 1000)
	deff(&opts.AgentBurst, 2000)
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.Metrics == nil {
		opts.Metrics = metrics.New()
	}
	if opts.WriteError == nil {
		// One error envelope for the whole server: the caller passes the
		// API's writer rather than this package keeping a copy of it.
		panic("ws: Options.WriteError is required")
	}
	s := &Server{chat: c, auth: a, hub: h, inboxes: inboxes, opts: opts}
	// gws writes frames and answers the handshake; this package reads
	// (wsConn), so gws's read options and events are not used.
	s.upgrader = gws.NewUpgrader(gws.BuiltinEventHandler{}, &gws.ServerOption{
		HandshakeTimeout: 5 * time.Second,
		NewSession:       func() gws.SessionStorage { return noStorage{} },
	})
	if p, err := newPoller(opts.Log); err == nil {
		s.poll = p
	} else if runtime.GOOS == "linux" {
		opts.Log.Warn("epoll unavailable: one goroutine per connection", "err", err)
	}
	return s
}

// Agent serves GET /ws/agent.
func (s *Server) Agent() http.Handler { return s.handler(false) }

// Visitor serves GET /ws/visitor.
func (s *Server) Visitor() http.Handler { return s.handler(true) }

func (s *Server) handler(visitor bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token := r.URL.Query().Get("token")
		if token == "" {
			token = auth.BearerToken(r.Header.Get("Authorization"))
		}
		actor, _, err := s.auth.Authenticate(r.Context(), token)
		if err != nil {
			s.opts.WriteError(w, r, err)
			return
		}
		if visitor != actor.IsContact() {
			s.opts.WriteError(w, r, kefu.Errorf(kefu.EForbidden, "this token cannot use this endpoint"))
			return
		}
		if visitor {
			in, err := s.inboxes.GetInbox(r.Context(), actor.WorkspaceID, actor.InboxID)
			if err != nil {
				s.opts.WriteError(w, r, err)
				return
			}
			if !in.AcceptsOrigin(r.Header.Get("Origin"), r.Host) {
				s.opts.WriteError(w, r, kefu.Errorf(kefu.EForbidden, "origin not allowed for this inbox"))
				return
			}
		}
		resume, err := ParseResume(r.URL.Query().Get("resume"))
		if err != nil {
			s.opts.WriteError(w, r, err)
			return
		}
		s.upgrade(w, r, actor, resume)
	})
}

// ParseResume parses "ID:SEQ,ID:SEQ".
func ParseResume(v string) (map[int64]int64, error) {
	if v == "" {
		return nil, nil
	}
	parts := strings.Split(v, ",")
	if len(parts) > protocol.MaxResumeConversations {
		return nil, kefu.Errorf(kefu.EInvalid, "resume lists more than %d conversations", protocol.MaxResumeConversations)
	}
	out := make(map[int64]int64, len(parts))
	for _, p := range parts {
		id, seq, ok := strings.Cut(p, ":")
		cid, err1 := strconv.ParseInt(id, 10, 64)
		sq, err2 := strconv.ParseInt(seq, 10, 64)
		if !ok || err1 != nil || err2 != nil || cid <= 0 || sq < 0 {
			return nil, kefu.Errorf(kefu.EInvalid, "resume must be a list of conversation_id:seq")
		}
		out[cid] = sq
	}
	return out, nil
}

func (s *Server) upgrade(w http.ResponseWriter, r *http.Request, actor kefu.Actor, resume map[int64]int64) {
	netConn, rw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		s.opts.WriteError(w, r, kefu.Errorf(kefu.EInternal, "cannot take over the connection: %v", err))
		return
	}
	c := &wsConn{Conn: netConn}
	// Bytes the client sent right behind its request are in the HTTP
	// server's buffer, which is not kept.
	var early []byte
	if n := rw.Reader.Buffered(); n > 0 {
		b, _ := rw.Reader.Peek(n)
		early = append(early, b...)
	}
	// No read buffer for gws: this package reads (see wsConn).
	sock, err := s.upgrader.UpgradeFromConn(c, nil, r)
	if err != nil {
		// gws has answered the client and closed the socket.
		return
	}
	role := "agent"
	if actor.IsContact() {
		role = "visitor"
	}
	c.session = session{s: s, sock: sock, actor: actor, role: role, rate: s.opts.AgentRate, burst: s.opts.AgentBurst, last: time.Now().UnixNano()}
	if actor.IsContact() {
		c.rate, c.burst = s.opts.VisitorRate, s.opts.VisitorBurst
	}
	c.tokens = c.burst
	c.fr.max = protocol.MaxFrameSize
	c.touch()
	wf := &protocol.Welcome{
		Type: protocol.TypeWelcome, Role: role, WorkspaceID: actor.WorkspaceID,
		HeartbeatInterval: int(s.opts.HeartbeatInterval / time.Second), IdleTimeout: int(s.opts.IdleTimeout / time.Second),
		ServerTime: time.Now().UnixMilli(),
	}
	if actor.IsContact() {
		wf.ContactID = actor.ID
	} else {
		wf.AgentID = actor.ID
	}
	welcome := protocol.Encode(wf)
	hc, ok := s.hub.Open(&transport{sock: sock, conn: c, timeout: s.opts.WriteTimeout}, actor, strconv.FormatUint(s.nextID.Add(1), 36), welcome, resume)
	if !ok {
		_ = sock.WriteClose(protocol.CloseGoingAway, []byte("server shutting down"))
		return
	}
	c.hc = hc
	s.opts.Metrics.Connections.WithLabelValues(role).Inc()
	s.opts.Metrics.ConnectsTotal.WithLabelValues(role).Inc()
	c.timer = time.AfterFunc(s.opts.IdleTimeout, c.checkIdle)
	if !c.live() {
		return
	}
	if len(early) > 0 && !c.consume(early) {
		return
	}
	if s.poll == nil || s.poll.add(c) != nil {
		go c.readLoop()
	}
}

// Close stops the poller; connections are closed through the hub.
func (s *Server) Close() {
	if s.poll != nil {
		s.poll.close()
	}
}

// transport adapts a gws connection to hub.Transport (and hub.Corker).
type transport struct {
	sock    *gws.Conn
	conn    *wsConn
	timeout time.Duration
}

func (t *transport) Cork()        { t.conn.cork() }
func (t *transport) Flush() error { return t.conn.uncork(t.timeout) }

func (t *transport) WriteFrame(b []byte) error {
	_ = t.sock.SetWriteDeadline(time.Now().Add(t.timeout))
	return t.sock.WriteMessage(gws.OpcodeText, b)
}

func (t *transport) Close(code int, reason string) {
	_ = t.sock.SetWriteDeadline(time.Now().Add(time.Second))
	_ = t.sock.WriteClose(uint16(code), []byte(reason))
}

// noStorage is gws's per-connection storage, unused: the connection's state
// lives in wsConn, and gws's default map would cost memory per connection.
type noStorage struct{}

func (noStorage) Len() int                     { return 0 }
func (noStorage) Load(string) (any, bool)      { return nil, false }
func (noStorage) Delete(string)                {}
func (noStorage) Store(string, any)            {}
func (noStorage) Range(func(string, any) bool) {}
