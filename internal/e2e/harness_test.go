// Package e2e drives the whole Kefu program: a real server on a loopback
// port with a real SQLite file (or PostgreSQL), spoken to over HTTP and
// WebSocket exactly as the widget, the workbench and integrations do.
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/kefu-chat/kefu/internal/app"
	"github.com/kefu-chat/kefu/internal/config"
	"github.com/kefu-chat/kefu/internal/kefutest"
)

const (
	adminEmail    = "admin@example.com"
	adminPassword = "correct-horse-battery"
	wait          = 10 * time.Second
)

type server struct {
	t    *testing.T
	App  *app.App
	URL  string // http://127.0.0.1:port
	WS   string // ws://127.0.0.1:port
	cfg  config.Config
	done chan error
}

// start runs a server on dataDir; edit adjusts the config before it opens.
func start(t *testing.T, dataDir string, edit func(*config.Config)) *server {
	t.Helper()
	cfg := config.Default()
	cfg.DataDir = dataDir
	cfg.Listen = "127.0.0.1:0"
	cfg.AdminEmail, cfg.AdminPassword = adminEmail, adminPassword
	if edit != nil {
		edit(&cfg)
	}
	a, err := app.Open(context.Background(), cfg, nil)
	if err != nil {
		t.Fatalf("open app: %v", err)
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		t.Fatal(err)
	}
	s := &server{t: t, App: a, URL: "http://" + ln.Addr().String(), WS: "ws://" + ln.Addr().String(), cfg: cfg, done: make(chan error, 1)}
	go func() { s.done <- a.Serve(ln) }()
	t.Cleanup(s.stop)
	return s
}

func (s *server) stop() {
	if s.App == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.App.Shutdown(ctx); err != nil {
		s.t.Errorf("shutdown: %v", err)
	}
	<-s.done
	s.App = nil
}

// call does one JSON request and decodes the JSON answer.
func call(t testing.TB, method, url, token string, body any) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &out); err != nil {
			t.Fatalf("%s %s: %d with non-JSON body %q", method, url, resp.StatusCode, raw)
		}
	}
	return resp.StatusCode, out
}

func mustCall(t testing.TB, want int, method, url, token string, body any) map[string]any {
	t.Helper()
	got, out := call(t, method, url, token, body)
	if got != want {
		t.Fatalf("%s %s: status %d, want %d: %v", method, url, got, want, out)
	}
	return out
}

func num(v any) int64 { f, _ := v.(float64); return int64(f) }

// login returns an agent token. The agent declares themselves offline, so
// routing leaves the test's conversations alone and no "Assigned to" line
// lands between the messages a test counts; routing tests declare online.
func (s *server) login(email, password string) string {
	s.t.Helper()
	out := mustCall(s.t, 200, "POST", s.URL+"/api/v1/auth/login", "", map[string]any{"email": email, "password": password})
	token := out["token"].(string)
	mustCall(s.t, 200, "PUT", s.URL+"/api/v1/me/availability", token, map[string]any{"availability": "offline"})
	return token
}

// inboxToken returns the public token of the workspace's first inbox.
func (s *server) inboxToken(agentToken string) string {
	s.t.Helper()
	out := mustCall(s.t, 200, "GET", s.URL+"/api/v1/inboxes", agentToken, nil)
	data := out["data"].([]any)
	return data[0].(map[string]any)["public_token"].(string)
}

type visitor struct {
	Token, VisitorID string
	ContactID        int64
}

func (s *server) visitorSession(inboxToken, visitorID string) visitor {
	s.t.Helper()
	status, out := call(s.t, "POST", s.URL+"/api/v1/widget/sessions", "", map[string]any{"inbox_token": inboxToken, "visitor_id": visitorID, "name": "Visitor"})
	if status != 200 && status != 201 {
		s.t.Fatalf("widget session: %d %v", status, out)
	}
	return visitor{Token: out["token"].(string), VisitorID: out["visitor_id"].(string), ContactID: num(out["contact"].(map[string]any)["id"])}
}

func (s *server) startConversation(v visitor) int64 {
	s.t.Helper()
	out := mustCall(s.t, 201, "POST", s.URL+"/api/v1/widget/conversations", v.Token, map[string]any{})
	return num(out["id"])
}

func (s *server) dial(path, token, resume string) *kefutest.WSClient {
	s.t.Helper()
	u := s.WS + path + "?token=" + token
	if resume != "" {
		u += "&resume=" + resume
	}
	c := kefutest.MustDialWS(s.t, u)
	c.Next("welcome", wait)
	return c
}

// history returns the seqs and bodies of a conversation as an agent sees it.
func (s *server) history(agentToken string, conv int64) (seqs []int64, bodies []string) {
	s.t.Helper()
	after := int64(0)
	for {
		out := mustCall(s.t, 200, "GET", fmt.Sprintf("%s/api/v1/conversations/%d/messages?after_seq=%d&limit=200", s.URL, conv, after), agentToken, nil)
		data := out["data"].([]any)
		for _, d := range data {
			m := d.(map[string]any)
			seqs = append(seqs, num(m["seq"]))
			bodies = append(bodies, m["body"].(string))
			after = num(m["seq"])
		}
		if len(data) < 200 {
			return seqs, bodies
		}
	}
}

func onlyUser(bodies []string) []string {
	var out []string
	for _, b := range bodies {
		if !strings.HasPrefix(b, "Assigned to") && !strings.HasPrefix(b, "Status changed") && !strings.HasPrefix(b, "Conversation unassigned") {
			out = append(out, b)
		}
	}
	return out
}

func fmtInt(n int64) string { return fmt.Sprint(n) }
