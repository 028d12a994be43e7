// Package app wires Kefu together: it opens the store, builds the bus, the
// chat service, the hub, the WebSocket and HTTP servers, and runs them. It
// is the only package that knows every other one.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kefu-chat/kefu/internal/auth"
	"github.com/kefu-chat/kefu/internal/bot"
	"github.com/kefu-chat/kefu/internal/bus/inproc"
	"github.com/kefu-chat/kefu/internal/bus/natsbus"
	"github.com/kefu-chat/kefu/internal/chat"
	"github.com/kefu-chat/kefu/internal/config"
	"github.com/kefu-chat/kefu/internal/dispatch"
	"github.com/kefu-chat/kefu/internal/files"
	"github.com/kefu-chat/kefu/internal/httpapi"
	"github.com/kefu-chat/kefu/internal/hub"
	"github.com/kefu-chat/kefu/internal/kb"
	"github.com/kefu-chat/kefu/internal/kefu"
	"github.com/kefu-chat/kefu/internal/metrics"
	"github.com/kefu-chat/kefu/internal/protocol"
	"github.com/kefu-chat/kefu/internal/secret"
	"github.com/kefu-chat/kefu/internal/store/postgres"
	"github.com/kefu-chat/kefu/internal/store/sqlite"
	"github.com/kefu-chat/kefu/internal/web/widget"
	"github.com/kefu-chat/kefu/internal/ws"
)

// App is a running (or ready to run) Kefu server.
type App struct {
	cfg     config.Config
	log     *slog.Logger
	Store   kefu.Store
	Bus     kefu.Bus
	Metrics *metrics.Metrics
	Chat    *chat.Service
	Hub     *hub.Hub
	Routing *dispatch.Dispatcher
	// Knowledge and Bot are the AI bot; its hand-offs go to Routing.
	Knowledge *bot.Knowledge
	Bot       *bot.Bot
	LLM       *bot.LLMProvider
	Handler   http.Handler
	srv       *http.Server
	debug     *http.Server
	sockets   *ws.Server
	detach    func()
	stopping  atomic.Bool
	stopRun   context.CancelFunc
}

// OpenStore opens the configured store (and migrates it).
func OpenStore(ctx context.Context, cfg config.Config, log *slog.Logger, m *metrics.Metrics) (kefu.Store, error) {
	var observe func(int, time.Duration)
	if m != nil {
		observe = m.ObserveCommit
	}
	if cfg.DatabaseURL != "" {
		return postgres.Open(ctx, cfg.DatabaseURL, postgres.Options{Logger: log, Observe: observe})
	}
	return sqlite.Open(ctx, cfg.SQLitePath(), sqlite.Options{Log: log, Synchronous: cfg.SQLiteSynchronous, Observe: observe})
}

// Open builds the server from cfg; nothing listens until Serve.
func Open(ctx context.Context, cfg config.Config, log *slog.Logger) (*App, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	m := metrics.New()
	store, err := OpenStore(ctx, cfg, log, m)
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	blobs, err := files.NewDisk(filepath.Join(cfg.DataDir, "attachments"))
	if err != nil {
		store.Close()
		return nil, err
	}
	a := &App{cfg: cfg, log: log, Store: store, Metrics: m}
	a.Bus = kefu.Bus(inproc.New())
	if cfg.NATSURL != "" {
		if a.Bus, err = natsbus.New(cfg.NATSURL, cfg.NATSSubject, log); err != nil {
			store.Close()
			return nil, err
		}
	}
	a.Chat = chat.New(store, a.Bus, log, m)
	// gse's dictionary takes seconds and ~130 MB: load it only when a
	// knowledge base is first used.
	tokenizer := sync.OnceValues(func() (*kb.Tokenizer, error) {
		seg, err := kb.LoadGSE()
		if err != nil {
			return nil, err
		}
		return kb.NewTokenizer(seg), nil
	})
	a.Knowledge = bot.NewKnowledge(store, tokenizer, log)
	a.Knowledge.RegisterMetrics(m.Registry)
	// Every node keeps its own in-memory index: a change made here is
	// announced, and the other nodes drop theirs and reload it.
	node := "node:" + auth.RandomString(12)
	a.Knowledge.OnChange(func(ws int64) {
		a.Chat.Publish(context.Background(), &kefu.Event{Type: kefu.EventKnowledgeChanged, WorkspaceID: ws, Origin: node})
	})
	a.Bus.Subscribe(func(e *kefu.Event) {
		if e.Type == kefu.EventKnowledgeChanged && e.Origin != node {
			a.Knowledge.Invalidate(e.WorkspaceID)
		}
	})
	// The language model (optional, per workspace): its API keys are
	// sealed under the server's secret key.
	key, err := secret.LoadKey(cfg.SecretKey, cfg.DataDir)
	if err != nil {
		store.Close()
		return nil, fmt.Errorf("secret key: %w", err)
	}
	box, err := secret.NewBox(key)
	if err != nil {
		store.Close()
		return nil, err
	}
	const botDeadline = 15 * time.Second
	a.LLM = &bot.LLMProvider{Store: store, Knowledge: a.Knowledge, Box: box, Log: log, Deadline: botDeadline}
	a.Knowledge.SetEmbedder(a.LLM.Embed)
	// The bot knows business hours through routing, and routing leaves the
	// bot's conversations alone until it hands off; each is wired to the
	// other through a function, so neither package imports the other.
	var routingHours func(ctx context.Context, workspaceID, inboxID int64, t time.Time) bool
	a.Bot = bot.New(bot.Options{Store: store, Chat: a.Chat, Knowledge: a.Knowledge, Log: log, LLM: a.LLM.Source, Deadline: botDeadline,
		InsideHours: func(ctx context.Context, ws, inbox int64, t time.Time) bool { return routingHours(ctx, ws, inbox, t) }})
	a.Chat.OnContactMessage(a.Bot.Observe)
	a.Hub = hub.New(a.Chat, hub.Options{Log: log, Metrics: m})
	a.detach = a.Hub.Attach(a.Bus)
	a.Routing = dispatch.New(dispatch.Options{Store: store, Chat: a.Chat, Hub: a.Hub, Bus: a.Bus, Log: log, BotActive: a.Bot.Active})
	routingHours = a.Routing.InsideHours
	a.Bot.SetHandoff(a.Routing.Handoff)
	a.Hub.OnVisitorOpen(a.Routing.VisitorConnected)
	authn := auth.NewAuthenticator(store, time.Now)
	var api *httpapi.Server
	sockets := ws.New(a.Chat, authn, a.Hub, store, ws.Options{
		HeartbeatInterval: cfg.HeartbeatInterval, IdleTimeout: cfg.IdleTimeout, Log: log, Metrics: m,
		WriteError: func(w http.ResponseWriter, r *http.Request, err error) { api.WriteError(w, r, err) },
	})
	a.sockets = sockets
	api = httpapi.New(httpapi.Options{
		Store: store, Chat: a.Chat, Routing: a.Routing, Knowledge: a.Knowledge, LLM: a.LLM, BotActive: a.Bot.Active, Auth: authn, Files: blobs, Metrics: m, Log: log, Now: time.Now,
		Ready:       a.ready,
		AgentSocket: sockets.Agent(), VisitorSocket: sockets.Visitor(),
		Static: webUI(),
		Limits: httpapi.Limits{MaxUploadBytes: cfg.MaxUploadBytes,
			WidgetPerIP: httpapi.Rate{PerMinute: cfg.WidgetRate, Burst: cfg.WidgetBurst},
			WidgetReads: httpapi.Rate{PerMinute: cfg.WidgetReadRate, Burst: cfg.WidgetReadBurst}},
		TrustProxyHeaders: cfg.TrustProxyHeaders,
		PublicURL:         cfg.PublicURL,
	})
	// The API answers everything the web UIs do not claim.
	root := http.NewServeMux()
	root.Handle("/", api)
	widget.New(store).Mount(root)
	a.Handler = root
	if err := a.bootstrap(ctx); err != nil {
		a.sockets.Close()
		a.closeStore()
		return nil, err
	}
	// Start-up hashed a password (argon2id takes 19 MiB: the API's dummy
	// hash, and the admin's on a first start) and compressed the web
	// assets; hand that memory back rather than carry it as resident
	// memory for the life of the process.
	debug.FreeOSMemory()
	return a, nil
}

func (a *App) ready(ctx context.Context) error {
	if a.stopping.Load() {
		return kefu.Errorf(kefu.EUnavailable, "shutting down")
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if err := a.Store.Ping(ctx); err != nil {
		return kefu.Errorf(kefu.EUnavailable, "database unreachable")
	}
	return nil
}

// Serve accepts connections on ln until Shutdown. It returns nil after a
// clean shutdown.
func (a *App) Serve(ln net.Listener) error {
	a.srv = &http.Server{
		Handler:           a.Handler,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(a.log.Handler(), slog.LevelWarn),
	}
	runCtx, stop := context.WithCancel(context.Background())
	a.stopRun = stop
	go a.Routing.Run(runCtx)
	if a.cfg.DebugAddr != "" {
		if err := a.serveDebug(); err != nil {
			return err
		}
	}
	err := a.srv.Serve(ln)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// serveDebug exposes pprof on a separate loopback-only listener.
func (a *App) serveDebug() error {
	host, _, err := net.SplitHostPort(a.cfg.DebugAddr)
	if err != nil {
		return fmt.Errorf("debug addr: %w", err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("debug addr %q must be a loopback address", a.cfg.DebugAddr)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	ln, err := net.Listen("tcp", a.cfg.DebugAddr)
	if err != nil {
		return err
	}
	a.debug = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go a.debug.Serve(ln)
	a.log.Info("pprof listening", "addr", ln.Addr().String())
	return nil
}

// Shutdown stops accepting work, tells every WebSocket client to go away
// (1001, so they reconnect and resume elsewhere or later), lets in-flight
// requests and commits finish, and closes the store.
func (a *App) Shutdown(ctx context.Context) error {
	a.stopping.Store(true)
	if a.stopRun != nil {
		a.stopRun()
	}
	var errs []error
	if a.srv != nil {
		errs = append(errs, a.srv.Shutdown(ctx))
	}
	a.Hub.Shutdown(protocol.CloseGoingAway, "server shutting down")
	a.sockets.Close()
	a.Bot.Close()
	if a.debug != nil {
		a.debug.Close()
	}
	errs = append(errs, a.closeStore())
	return errors.Join(errs...)
}

func (a *App) closeStore() error {
	if a.detach != nil {
		a.detach()
	}
	// The store first: closing it flushes queued appends, whose commit
	// callbacks still publish on the bus.
	storeErr := a.Store.Close()
	return errors.Join(storeErr, a.Bus.Close())
}

// bootstrap creates the first workspace, admin and website inbox on an
// empty database, and prints how to log in.
func (a *App) bootstrap(ctx context.Context) error {
	n, err := a.Store.CountWorkspaces(ctx)
	if err != nil || n > 0 {
		return err
	}
	res, err := Bootstrap(ctx, a.Store, a.cfg.AdminEmail, a.cfg.AdminPassword)
	if err != nil {
		return fmt.Errorf("first start: %w", err)
	}
	a.log.Info("first start: created workspace, admin and website inbox", "admin_email", res.Admin.Email, "inbox_token", res.Inbox.PublicToken)
	if res.GeneratedPassword != "" {
		// Printed once, on purpose, to stdout-facing logs: it is how a
		// newcomer logs in. It is stored only as an argon2id hash.
		a.log.Warn("FIRST START: log in with this one-time admin password and change it", "email", res.Admin.Email, "password", res.GeneratedPassword)
	}
	return nil
}

// BootstrapResult is what Bootstrap created.
type BootstrapResult struct {
	Workspace         *kefu.Workspace
	Admin             *kefu.Agent
	Inbox             *kefu.Inbox
	GeneratedPassword string // set when no password was given
}

// Bootstrap creates a workspace with an admin and a website inbox.
func Bootstrap(ctx context.Context, store kefu.Store, email, password string) (*BootstrapResult, error) {
	res := &BootstrapResult{}
	if password == "" {
		password = auth.RandomString(12)
		res.GeneratedPassword = password
	}
	hash, err := auth.HashPassword(password)
	if err != nil {
		return nil, err
	}
	res.Workspace = &kefu.Workspace{Name: "My company"}
	if err := store.CreateWorkspace(ctx, res.Workspace); err != nil {
		return nil, err
	}
	name, _, _ := strings.Cut(email, "@")
	res.Admin = &kefu.Agent{WorkspaceID: res.Workspace.ID, Email: strings.ToLower(email), Name: name, Role: kefu.RoleAdmin, PasswordHash: hash, Active: true}
	if err := store.CreateAgent(ctx, res.Admin); err != nil {
		return nil, err
	}
	res.Inbox = &kefu.Inbox{WorkspaceID: res.Workspace.ID, Name: "Website", Channel: kefu.ChannelWeb,
		PublicToken: auth.RandomString(18), Secret: auth.RandomString(32), Greeting: "Hi! How can we help?", Color: "#1f6feb"}
	if err := store.CreateInbox(ctx, res.Inbox); err != nil {
		return nil, err
	}
	return res, nil
}
