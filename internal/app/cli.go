package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/kefu-chat/kefu/internal/auth"
	"github.com/kefu-chat/kefu/internal/config"
	"github.com/kefu-chat/kefu/internal/kefu"
)

// Version is set at build time with -ldflags "-X .../internal/app.Version=v1.2.3".
var Version = "dev"

const usage = `Kefu: self-hosted customer service.

Usage:
  kefu [serve] [flags]          run the server (default)
  kefu migrate [flags]          apply database migrations and exit
  kefu user create --email E --role admin|agent [--name N] [--password P] [--workspace ID]
  kefu version

Flags and KEFU_* environment variables: docs/config.md, or kefu serve -h.
`

// Main runs the command line and returns the exit code.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	cmd := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	var err error
	switch cmd {
	case "serve":
		err = runServe(ctx, args, stdout, stderr, getenv)
	case "migrate":
		err = runMigrate(ctx, args, stdout, stderr, getenv)
	case "user":
		err = runUser(ctx, args, stdout, stderr, getenv)
	case "version":
		fmt.Fprintln(stdout, "kefu", versionString())
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
	default:
		fmt.Fprintf(stderr, "kefu: unknown command %q\n\n%s", cmd, usage)
		return 2
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "kefu:", err)
		return 1
	}
	return 0
}

func versionString() string {
	v := Version
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				v += " (" + s.Value[:12] + ")"
			}
		}
		v += " " + bi.GoVersion
	}
	return v
}

func newLogger(cfg config.Config, w io.Writer) *slog.Logger {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: lvl}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	cfg, _, err := config.Load(args, getenv, stderr)
	if err != nil {
		return err
	}
	log := newLogger(cfg, stderr)
	start := time.Now()
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	a, err := Open(ctx, cfg, log)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		a.Shutdown(context.Background())
		return err
	}
	store := "sqlite " + cfg.SQLitePath()
	if cfg.DatabaseURL != "" {
		store = "postgres"
	}
	log.Info("kefu ready", "version", Version, "addr", ln.Addr().String(), "url", publicURL(cfg, ln.Addr()), "store", store,
		"startup", time.Since(start).Round(time.Millisecond).String())
	errc := make(chan error, 1)
	go func() { errc <- a.Serve(ln) }()
	select {
	case err := <-errc:
		a.Shutdown(context.Background())
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down", "timeout", cfg.ShutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if err := a.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	log.Info("stopped")
	return <-errc
}

func publicURL(cfg config.Config, addr net.Addr) string {
	if cfg.PublicURL != "" {
		return cfg.PublicURL
	}
	host, port, _ := net.SplitHostPort(addr.String())
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port) + "/"
}

func runMigrate(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	cfg, _, err := config.Load(args, getenv, stderr)
	if err != nil {
		return err
	}
	// Opening a store applies its pending migrations.
	store, err := OpenStore(ctx, cfg, newLogger(cfg, stderr), nil)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, "migrations applied")
	return store.Close()
}

func runUser(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	if len(args) == 0 || args[0] != "create" {
		return errors.New("usage: kefu user create --email E --role admin|agent [--name N] [--password P] [--workspace ID]")
	}
	fs := flag.NewFlagSet("kefu user create", flag.ContinueOnError)
	fs.SetOutput(stderr)
	email := fs.String("email", "", "login email (required)")
	role := fs.String("role", "agent", "admin or agent")
	name := fs.String("name", "", "display name")
	password := fs.String("password", "", "password; empty: a random one is generated and printed")
	workspace := fs.Int64("workspace", 1, "workspace id")
	// Everything after the user flags is for the store config.
	var rest []string
	userArgs := args[1:]
	for i, a := range userArgs {
		if a == "--" {
			userArgs, rest = userArgs[:i], userArgs[i+1:]
			break
		}
	}
	if err := fs.Parse(userArgs); err != nil {
		return err
	}
	if *email == "" || !strings.Contains(*email, "@") {
		return errors.New("--email is required")
	}
	if !kefu.Role(*role).Valid() {
		return errors.New("--role must be admin or agent")
	}
	cfg, _, err := config.Load(rest, getenv, stderr)
	if err != nil {
		return err
	}
	store, err := OpenStore(ctx, cfg, newLogger(cfg, stderr), nil)
	if err != nil {
		return err
	}
	defer store.Close()
	if _, err := store.GetWorkspace(ctx, *workspace); err != nil {
		if kefu.IsNotFound(err) {
			if n, _ := store.CountWorkspaces(ctx); n == 0 {
				res, err := Bootstrap(ctx, store, "admin@example.com", "")
				if err != nil {
					return err
				}
				*workspace = res.Workspace.ID
				fmt.Fprintf(stdout, "created workspace %d (admin %s, password %s)\n", res.Workspace.ID, res.Admin.Email, res.GeneratedPassword)
			} else {
				return fmt.Errorf("workspace %d not found", *workspace)
			}
		} else {
			return err
		}
	}
	pw := *password
	if pw == "" {
		pw = auth.RandomString(12)
		fmt.Fprintf(stdout, "generated password: %s\n", pw)
	} else if len(pw) < 8 {
		return errors.New("--password must have at least 8 characters")
	}
	hash, err := auth.HashPassword(pw)
	if err != nil {
		return err
	}
	if *name == "" {
		*name, _, _ = strings.Cut(*email, "@")
	}
	a := &kefu.Agent{WorkspaceID: *workspace, Email: strings.ToLower(*email), Name: *name, Role: kefu.Role(*role), PasswordHash: hash, Active: true}
	if err := store.CreateAgent(ctx, a); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "created %s %s (id %d) in workspace %d\n", a.Role, a.Email, a.ID, a.WorkspaceID)
	return nil
}
