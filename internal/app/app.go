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
	"sync/atomic"
	"time"

	"github.com/kefu-chat/kefu/internal/auth"
	"github.com/kefu-chat/kefu/internal/bus/inproc"
	"github.com/kefu-chat/kefu/internal/bus/natsbus"
	"github.com/kefu-chat/kefu/internal/chat"
	"github.com/kefu-chat/kefu/internal/config"
	"github.com/kefu-chat/kefu/internal/files"
	"github.com/kefu-chat/kefu/internal/httpapi"
	"github.com/kefu-chat/kefu/internal/hub"
	"github.com/kefu-chat/kefu/internal/kefu"
	"github.com/kefu-chat/kefu/internal/metrics"
	"github.com/kefu-chat/kefu/internal/protocol"
	"github.com/kefu-chat/kefu/internal/store/postgres"
	"github.com/kefu-chat/kefu/internal/store/sqlite"
	"github.com/kefu-chat/kefu/internal/ws"
)

// App is a running (or ready to run) Kefu server.
type App struct {
	cfg      config.Config
	log      *slog.Logger
	Store    kefu.Store
	Bus      kefu.Bus
	Metrics  *metrics.Metrics
	Chat     *chat.Service
	Hub      *hub.Hub
	Handler  http.Handler
	srv      *http.Server
	debug    *http.Server
	detach   func()
	stopping atomic.Bool
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
	a.Hub = hub.New(a.Chat, hub.Options{Log: log, Metrics: m})
	a.detach = a.Hub.Attach(a.Bus)
	authn := auth.NewAuthenticator(store, time.Now)
	var api *httpapi.Server
	sockets := ws.New(a.Chat, authn, a.Hub, store, ws.Options{
		HeartbeatInterval: cfg.HeartbeatInterval, IdleTimeout: cfg.IdleTimeout, Log: log, Metrics: m,
		WriteError: func(w http.ResponseWriter, r *http.Request, err error) { api.WriteError(w, r, err) },
	})
	api = httpapi.New(httpapi.Options{
		Store: store, Chat: a.Chat, Auth: authn, Files: blobs, Metrics: m, Log: log, Now: time.Now,
		Ready:       a.ready,
		AgentSocket: sockets.Agent(), VisitorSocket: sockets.Visitor(),
		Limits: httpapi.Limits{MaxUploadBytes: cfg.MaxUploadBytes,
			WidgetPerIP: httpapi.Rate{PerMinute: cfg.WidgetRate, Burst: cfg.WidgetBurst}},
		TrustProxyHeaders: cfg.TrustProxyHeaders,
	})
	a.Handler = api
	if err := a.bootstrap(ctx); err != nil {
		a.closeStore()
		return nil, err
	}
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
	var errs []error
	if a.srv != nil {
		errs = append(errs, a.srv.Shutdown(ctx))
	}
	a.Hub.Shutdown(protocol.CloseGoingAway, "server shutting down")
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
	// Hashing the admin's password took argon2id's 19 MiB; hand it back
	// rather than carry it as resident memory for the life of the process.
	debug.FreeOSMemory()
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
