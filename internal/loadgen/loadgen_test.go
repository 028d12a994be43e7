package loadgen

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestMain lets the test binary stand in for kefu-loadgen when --procs
// re-executes it as a worker: os.Executable is the test binary here.
func TestMain(m *testing.M) {
	if os.Getenv(workerEnv) == "1" {
		os.Exit(Main(os.Args[1:]))
	}
	os.Exit(m.Run())
}

const (
	smokeAdmin    = "admin@example.com"
	smokePassword = "smoke-admin-password-1"
)

// TestSmoke runs scenarios at small scale against a real server: the
// kefu binary built from this tree, on a fresh data folder. It is the
// proof that the load generator and the server agree on the protocol.
func TestSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and starts the server; skipped with -short")
	}
	srv := startServer(t)
	common := []string{"--server", srv, "--admin-email", smokeAdmin, "--admin-password", smokePassword,
		"--json", "--quiet", "--timeout", "3m", "--concurrency", "16"}

	t.Run("chat", func(t *testing.T) {
		r := runScenario(t, append([]string{"chat", "--visitors", "50", "--agents", "5", "--rate", "40",
			"--duration", "4s", "--drain", "15s"}, common...))
		v := r.Verify
		if v == nil || v.Delivered == 0 {
			t.Fatalf("nothing delivered: %+v", v)
		}
		if r.Counts["visitor_messages_sent"] == 0 || r.Counts["agent_messages_sent"] == 0 {
			t.Errorf("counts: %v", r.Counts)
		}
		for _, name := range []string{"send_to_ack_visitor", "visitor_to_agent", "agent_to_visitor"} {
			if h := r.Latency[name]; h == nil || h.Count() == 0 {
				t.Errorf("no %s latency samples", name)
			}
		}
	})

	t.Run("resume", func(t *testing.T) {
		r := runScenario(t, append([]string{"resume", "--visitors", "50", "--agents", "5", "--rate", "40",
			"--before", "2s", "--after", "3s", "--drain", "15s"}, common...))
		if got := r.Stats.Cuts; got != 55 {
			t.Errorf("cut %d connections, want 55", got)
		}
		if r.Stats.Reconnects < 55 {
			t.Errorf("reconnected %d connections, want 55", r.Stats.Reconnects)
		}
		if _, ok := r.Durations["cut_to_full_recovery"]; !ok {
			t.Errorf("no recovery time: %v", r.Durations)
		}
	})

	t.Run("assign", func(t *testing.T) {
		r := runScenario(t, append([]string{"assign", "--queued", "60", "--agents", "4", "--capacity", "2", "--duration", "20s",
			"--agent-prefix", "assign"}, common...))
		if r.Counts["assigned_on_online"] != 8 || r.Counts["assigned_total"] != 60 || r.Counts["double_assignments"] != 0 {
			t.Errorf("counts: %v; want 8 assigned when agents come online and all 60 in the end, none twice", r.Counts)
		}
		if h := r.Latency["resolve_to_next_assigned"]; h == nil || h.Count() != 52 {
			t.Errorf("resolve_to_next_assigned samples: %v, want 52", h)
		}
	})

	t.Run("idle over two processes", func(t *testing.T) {
		r := runScenario(t, append([]string{"idle", "--conns", "200", "--hold", "2s", "--settle", "0s",
			"--procs", "2", "--source-addrs", "127.0.0.2,127.0.0.3"}, common...))
		if got := r.Counts["connected"]; got != 200 {
			t.Errorf("connected %d, want 200", got)
		}
		if m := r.Memory; m == nil || m.Error != "" || m.RSSAfter == 0 || m.ConnsAtAfter != 200 {
			t.Errorf("memory: %+v", m)
		}
	})

	t.Run("refuses a remote target", func(t *testing.T) {
		var out, errb bytes.Buffer
		code := Run(context.Background(), []string{"idle", "--server", "http://192.0.2.1:8080", "--conns", "1"}, nil, &out, &errb)
		if code != exitUsage || !strings.Contains(errb.String(), "loopback") {
			t.Errorf("exit %d, stderr %q", code, errb.String())
		}
	})
}

// runScenario runs the command line in this process and returns its
// parsed JSON result, failing the test unless the run passed.
func runScenario(t *testing.T, args []string) *Result {
	t.Helper()
	var out, errb bytes.Buffer
	code := Run(t.Context(), args, nil, &out, &errb)
	var r Result
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatalf("exit %d, output is not a result (%v):\n%s\nstderr:\n%s", code, err, out.String(), errb.String())
	}
	if code != exitOK || !r.OK {
		t.Fatalf("exit %d, failures %q\nstderr:\n%s", code, r.Failures, errb.String())
	}
	if v := r.Verify; v != nil && (v.Lost+v.Duplicates+v.Reordered+v.Mismatched+v.Unacked) > 0 {
		t.Fatalf("delivery problems: %+v", v)
	}
	return &r
}

// startServer builds cmd/kefu, starts it on a free loopback port with a
// fresh data folder and the admin credentials above, and stops it when
// the test ends.
func startServer(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "kefu")
	build := exec.Command("go", "build", "-o", bin, "./cmd/kefu")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the server: %v\n%s", err, out)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()

	logPath := filepath.Join(dir, "kefu.log")
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "serve")
	cmd.Env = append(os.Environ(), "KEFU_LISTEN="+addr, "KEFU_DATA_DIR="+filepath.Join(dir, "data"),
		"KEFU_ADMIN_EMAIL="+smokeAdmin, "KEFU_ADMIN_PASSWORD="+smokePassword, "KEFU_LOG_LEVEL=warn")
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
		logf.Close()
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			t.Logf("server log (%s):\n%s", logPath, tail(b, 4000))
		}
	})

	base := "http://" + addr
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return base
			}
		}
		select {
		case err := <-exited:
			b, _ := os.ReadFile(logPath)
			t.Fatalf("server exited before it was ready: %v\n%s", err, tail(b, 4000))
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("server not ready after 30s (last error: %v)", err)
		}
	}
}

func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod above the test's directory")
		}
		dir = parent
	}
}

func tail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}
