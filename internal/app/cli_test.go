package app

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/kefu-chat/kefu/internal/auth"
	"github.com/kefu-chat/kefu/internal/config"
	"github.com/kefu-chat/kefu/internal/kefu"
)

func run(t *testing.T, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Main(context.Background(), args, &out, &errb, func(k string) string { return env[k] })
	return code, out.String(), errb.String()
}

func TestCommandLine(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"KEFU_DATA_DIR": dir}

	if code, out, _ := run(t, env, "version"); code != 0 || !strings.HasPrefix(out, "kefu ") {
		t.Fatalf("version: %d %q", code, out)
	}
	if code, _, errs := run(t, env, "frobnicate"); code != 2 || !strings.Contains(errs, "unknown command") {
		t.Fatalf("unknown command: %d %q", code, errs)
	}
	if code, out, errs := run(t, env, "migrate"); code != 0 || !strings.Contains(out, "migrations applied") {
		t.Fatalf("migrate: %d %q %q", code, out, errs)
	}
	// On an empty database, user create bootstraps the workspace first.
	code, out, errs := run(t, env, "user", "create", "--email", "Li@Example.com", "--role", "agent", "--password", "a-long-password")
	if code != 0 || !strings.Contains(out, "created agent li@example.com") {
		t.Fatalf("user create: %d %q %q", code, out, errs)
	}
	if code, _, errs := run(t, env, "user", "create", "--email", "li@example.com", "--role", "agent", "--password", "a-long-password"); code != 1 || !strings.Contains(errs, "conflict") {
		t.Fatalf("duplicate user: %d %q", code, errs)
	}
	for _, bad := range [][]string{
		{"user", "create", "--role", "agent"},
		{"user", "create", "--email", "x@example.com", "--role", "king"},
		{"user", "create", "--email", "x@example.com", "--password", "short"},
		{"user", "list"},
	} {
		if code, _, _ := run(t, env, bad...); code == 0 {
			t.Errorf("%v succeeded", bad)
		}
	}
	cfg := config.Default()
	cfg.DataDir = dir
	st, err := OpenStore(context.Background(), cfg, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	a, err := st.GetAgentByEmail(context.Background(), "li@example.com")
	if err != nil || a.Role != kefu.RoleAgent || !a.Active || !auth.CheckPassword(a.PasswordHash, "a-long-password") {
		t.Fatalf("stored agent %+v, %v", a, err)
	}
}

func TestFirstStartCreatesALoginableAdmin(t *testing.T) {
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	a, err := Open(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Shutdown(context.Background())
	ws, err := a.Store.ListInboxes(context.Background(), 1)
	if err != nil || len(ws) != 1 || ws[0].PublicToken == "" {
		t.Fatalf("first start inbox: %v %v", ws, err)
	}
	admin, err := a.Store.GetAgentByEmail(context.Background(), cfg.AdminEmail)
	if err != nil || admin.Role != kefu.RoleAdmin {
		t.Fatalf("first start admin: %+v %v", admin, err)
	}
	// A second open of the same data creates nothing new.
	if n, _ := a.Store.CountWorkspaces(context.Background()); n != 1 {
		t.Fatalf("%d workspaces", n)
	}
}

func TestDebugAddrMustBeLoopback(t *testing.T) {
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.DebugAddr = "0.0.0.0:0"
	a, err := Open(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Shutdown(context.Background())
	if err := a.serveDebug(); err == nil || !strings.Contains(err.Error(), "loopback") {
		t.Fatalf("serveDebug on 0.0.0.0: %v", err)
	}
}
