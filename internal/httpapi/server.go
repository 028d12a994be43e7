// Package httpapi is Kefu's REST API (v1) plus the operational endpoints
// (health, readiness, metrics, the OpenAPI document). routes.go lists every
// route; errors.go is the one place errors become responses; each resource
// has its own file. The rules about who may do what live in internal/chat
// and the store's tenant scoping; handlers here decode, validate, call one
// domain method and write the result.
package httpapi

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/kefu-chat/kefu/internal/auth"
	"github.com/kefu-chat/kefu/internal/bot"
	"github.com/kefu-chat/kefu/internal/chat"
	"github.com/kefu-chat/kefu/internal/dispatch"
	"github.com/kefu-chat/kefu/internal/files"
	"github.com/kefu-chat/kefu/internal/kefu"
	"github.com/kefu-chat/kefu/internal/metrics"
)

// BlobStore keeps attachment bytes; *files.Disk is the implementation.
type BlobStore interface {
	Save(ctx context.Context, r io.Reader, maxBytes int64) (files.Blob, error)
	Open(key string) (io.ReadSeekCloser, error)
	Delete(key string) error
}

var _ BlobStore = (*files.Disk)(nil)

// Rate is a token bucket: PerMinute requests per minute on average, up to
// Burst at once. A zero Rate means "use the default"; a negative PerMinute
// turns the limit off.
type Rate struct {
	PerMinute float64
	Burst     int
}

// Limits bound what one request may cost.
type Limits struct {
	MaxUploadBytes int64 // one attachment; default 10 MiB
	MaxJSONBytes   int64 // one JSON request body; default 1 MiB
	LoginPerIP     Rate  // POST /auth/login per client address; default 20/min, burst 10
	LoginPerEmail  Rate  // POST /auth/login per email; default 10/min, burst 5
	WidgetPerIP    Rate  // POST /widget/sessions per client address; default 30/min, burst 10
	// WidgetReads bounds GET /widget/config (public) and /widget/status
	// per client address; default 600/min, burst 120 (a page view costs
	// one, and a whole office may share an address).
	WidgetReads Rate
	// VisitorWrites bounds what one visitor token may write (messages,
	// conversations, read marks, typing, profile, uploads); default
	// 60/min, burst 30. Agents are trusted staff and not limited here.
	VisitorWrites Rate
	Uploads       Rate // attachment uploads per uploader (agent or visitor); default 30/min, burst 10
}

func (l *Limits) defaults() {
	if l.MaxUploadBytes <= 0 {
		l.MaxUploadBytes = 10 << 20
	}
	if l.MaxJSONBytes <= 0 {
		l.MaxJSONBytes = 1 << 20
	}
	def := func(r *Rate, perMinute float64, burst int) {
		if r.PerMinute == 0 {
			r.PerMinute = perMinute
		}
		if r.Burst <= 0 {
			r.Burst = burst
		}
	}
	def(&l.LoginPerIP, 20, 10)
	def(&l.LoginPerEmail, 10, 5)
	def(&l.WidgetPerIP, 30, 10)
	def(&l.WidgetReads, 600, 120)
	def(&l.VisitorWrites, 60, 30)
	def(&l.Uploads, 30, 10)
}

// Options are everything the server needs; nothing is read from globals.
type Options struct {
	Store   kefu.Store
	Chat    *chat.Service
	Routing *dispatch.Dispatcher // nil: no automatic routing (the routing endpoints answer 503)
	// Knowledge is the bot's knowledge base; nil: the bot's write
	// endpoints answer 503.
	Knowledge *bot.Knowledge
	// BotActive reports whether a bot answers an inbox's visitors now
	// (the widget then opens the chat with no agent online). nil: never.
	BotActive func(ctx context.Context, workspaceID, inboxID int64) bool
	// LLM builds language-model sources and holds the key box that seals
	// API keys; nil: the settings endpoint answers 503.
	LLM     *bot.LLMProvider
	Auth    *auth.Authenticator
	Files   BlobStore
	Metrics *metrics.Metrics // nil: a private registry
	Log     *slog.Logger     // nil: discard
	Now     kefu.Clock       // nil: time.Now
	// Ready reports whether the server can take traffic (database reachable,
	// not shutting down). nil: always ready.
	Ready func(ctx context.Context) error
	// AgentSocket and VisitorSocket serve GET /ws/agent and GET /ws/visitor.
	// nil: those routes answer 503.
	AgentSocket   http.Handler
	VisitorSocket http.Handler
	// Static, if set, serves every path no route claims (the web UI).
	Static http.Handler
	Limits Limits
	// PublicURL is where people reach Kefu (config public_url), for the
	// links the API prints, such as invitations. Empty: the request's own
	// scheme and host.
	PublicURL string
	// TrustProxyHeaders takes the client address from X-Forwarded-For.
	// Set it only behind a reverse proxy that overwrites that header.
	TrustProxyHeaders bool
}

// Server is the HTTP API. It is an http.Handler.
type Server struct {
	store     kefu.Store
	chat      *chat.Service
	routing   *dispatch.Dispatcher
	kb        *bot.Knowledge
	llm       *bot.LLMProvider
	botActive func(ctx context.Context, workspaceID, inboxID int64) bool
	auth      *auth.Authenticator
	files     BlobStore
	metrics   *metrics.Metrics
	log       *slog.Logger
	now       kefu.Clock
	ready     func(ctx context.Context) error
	limits    Limits
	proxy     bool
	publicURL string

	agentSocket, visitorSocket, static http.Handler

	mux     *http.ServeMux
	handler http.Handler
	routes  []route

	// dummyHash is checked against when a login names no agent, so an
	// unknown email costs the same argon2 time as a wrong password.
	// It is made on the first such login, not at start-up: argon2id costs
	// tens of milliseconds and 19 MiB, which start-up should not pay.
	dummyHash func() string

	loginIP, loginEmail, widgetIP, widgetReads, visitorWrites, uploads *limiter
}

// New builds a Server from opts.
func New(opts Options) *Server {
	opts.Limits.defaults()
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.Metrics == nil {
		opts.Metrics = metrics.New()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Server{
		store: opts.Store, chat: opts.Chat, routing: opts.Routing, kb: opts.Knowledge, llm: opts.LLM, botActive: opts.BotActive, auth: opts.Auth, files: opts.Files,
		metrics: opts.Metrics, log: opts.Log, now: opts.Now, ready: opts.Ready,
		limits: opts.Limits, proxy: opts.TrustProxyHeaders, publicURL: opts.PublicURL,
		agentSocket: opts.AgentSocket, visitorSocket: opts.VisitorSocket, static: opts.Static,
		mux: http.NewServeMux(),
		dummyHash: sync.OnceValue(func() string {
			h, err := auth.HashPassword(auth.RandomString(16))
			if err != nil {
				panic("httpapi: " + err.Error())
			}
			return h
		}),
		loginIP:     newLimiter(opts.Limits.LoginPerIP, opts.Now),
		loginEmail:  newLimiter(opts.Limits.LoginPerEmail, opts.Now),
		widgetIP:    newLimiter(opts.Limits.WidgetPerIP, opts.Now),
		widgetReads: newLimiter(opts.Limits.WidgetReads, opts.Now),

		visitorWrites: newLimiter(opts.Limits.VisitorWrites, opts.Now),
		uploads:       newLimiter(opts.Limits.Uploads, opts.Now),
	}
	s.routes = s.routeTable()
	for _, rt := range s.routes {
		s.mux.Handle(rt.pattern, s.endpoint(rt))
	}
	// Whatever no route claims: the web UI if there is one, else a JSON 404
	// (or 405 when the path exists with other methods). /api/ never falls
	// through to the UI, so API clients always get JSON.
	s.mux.Handle("/api/", s.endpoint(route{pattern: "unmatched", h: s.unmatched}))
	if s.static != nil {
		s.mux.Handle("/", s.staticHandler())
	} else {
		s.mux.Handle("/", s.endpoint(route{pattern: "unmatched", h: s.unmatched}))
	}
	s.handler = s.middleware(s.mux)
	return s
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }
