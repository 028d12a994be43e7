package e2e

import (
	"context"
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/kefu-chat/kefu/internal/auth"
	"github.com/kefu-chat/kefu/internal/config"
	"github.com/kefu-chat/kefu/internal/kefu"
	"github.com/kefu-chat/kefu/internal/kefutest"
)

func TestBadFramesGetErrorsAndSpareTheConnectionAndOthers(t *testing.T) {
	s := start(t, t.TempDir(), nil)
	agentTok := s.login(adminEmail, adminPassword)
	inbox := s.inboxToken(agentTok)
	v, bystander := s.visitorSession(inbox, ""), s.visitorSession(inbox, "")
	conv, conv2 := s.startConversation(v), s.startConversation(bystander)
	c := s.dial("/ws/visitor", v.Token, "")
	other := s.dial("/ws/visitor", bystander.Token, "")

	cases := []struct {
		frame any
		code  string
	}{
		{[]byte(`not json`), "bad_json"},
		{[]byte(`{"type":"send","conversation_id":`), "bad_json"},
		{map[string]any{"type": "teleport"}, "unknown_type"},
		{map[string]any{"no": "type"}, "unknown_type"},
		{map[string]any{"type": "send", "id": "x", "conversation_id": conv}, "invalid"},
		{map[string]any{"type": "send", "conversation_id": conv, "body": strings.Repeat("长", 6000)}, "too_large"},
		{map[string]any{"type": "send", "conversation_id": conv, "kind": "note", "body": "sneaky"}, "forbidden"},
		{map[string]any{"type": "send", "conversation_id": conv2, "body": "not mine"}, "not_found"},
		{map[string]any{"type": "send", "conversation_id": 999999, "body": "nobody's"}, "not_found"},
		{map[string]any{"type": "presence", "status": "online"}, "forbidden"},
		{map[string]any{"type": "subscribe", "all": true}, "forbidden"},
		{map[string]any{"type": "read", "conversation_id": conv2, "seq": 1}, "not_found"},
	}
	for _, tc := range cases {
		c.Send(tc.frame)
		if e := c.Next("error", wait); e["code"] != tc.code {
			t.Errorf("frame %v: error %v, want code %s", tc.frame, e, tc.code)
		}
	}
	// Resuming someone else's conversation replays nothing.
	c.Send(map[string]any{"type": "resume", "conversations": map[string]int64{fmt.Sprint(conv2): 0}})
	if e := c.Next("error", wait); e["code"] != "not_found" {
		t.Fatalf("resume of another contact's conversation: %v", e)
	}
	// The connection still works, and so does everyone else's.
	c.Send(map[string]any{"type": "ping"})
	c.Next("pong", wait)
	other.Send(map[string]any{"type": "send", "conversation_id": conv2, "body": "still here"})
	other.Next("ack", wait)

	// An oversize frame closes only the offender, with 1009.
	c.Send([]byte(`{"type":"ping","pad":"` + strings.Repeat("x", 70*1024) + `"}`))
	if code, err := c.WaitClosed(wait); err != nil || code != 1009 {
		t.Fatalf("oversize frame: close %d (%v), want 1009", code, err)
	}
	other.Send(map[string]any{"type": "ping"})
	other.Next("pong", wait)
}

func TestHandshakeIsAuthenticatedAndScoped(t *testing.T) {
	s := start(t, t.TempDir(), nil)
	agentTok := s.login(adminEmail, adminPassword)
	v := s.visitorSession(s.inboxToken(agentTok), "")
	cases := []struct {
		path, token string
		header      http.Header
		status      int
	}{
		{"/ws/agent", "", nil, 401},
		{"/ws/agent", "kfa_forged", nil, 401},
		{"/ws/agent", v.Token, nil, 403},
		{"/ws/visitor", agentTok, nil, 403},
		{"/ws/visitor", v.Token + "&resume=garbage", nil, 400},
	}
	for _, tc := range cases {
		_, resp, err := kefutest.DialWS(t, s.WS+tc.path+"?token="+tc.token, tc.header)
		if err == nil || resp == nil || resp.StatusCode != tc.status {
			code := 0
			if resp != nil {
				code = resp.StatusCode
			}
			t.Errorf("%s with %q: status %d (err %v), want %d", tc.path, tc.token, code, err, tc.status)
		}
	}
	// A logged-out token cannot open a socket any more.
	mustCall(t, 204, "POST", s.URL+"/api/v1/auth/logout", agentTok, nil)
	if _, resp, err := kefutest.DialWS(t, s.WS+"/ws/agent?token="+agentTok, nil); err == nil || resp == nil || resp.StatusCode != 401 {
		t.Fatal("revoked token opened a socket")
	}
}

func TestVisitorOriginIsChecked(t *testing.T) {
	s := start(t, t.TempDir(), nil)
	ctx := context.Background()
	agentTok := s.login(adminEmail, adminPassword)
	inboxes, _ := s.App.Store.ListInboxes(ctx, 1)
	in := inboxes[0]
	in.AllowedOrigins = []string{"https://shop.example"}
	if err := s.App.Store.UpdateInbox(ctx, in); err != nil {
		t.Fatal(err)
	}
	v := s.visitorSession(s.inboxToken(agentTok), "")
	if _, resp, err := kefutest.DialWS(t, s.WS+"/ws/visitor?token="+v.Token, http.Header{"Origin": {"https://evil.example"}}); err == nil || resp.StatusCode != 403 {
		t.Fatalf("foreign origin accepted")
	}
	c, _, err := kefutest.DialWS(t, s.WS+"/ws/visitor?token="+v.Token, http.Header{"Origin": {"https://shop.example"}})
	if err != nil {
		t.Fatalf("allowed origin refused: %v", err)
	}
	c.Next("welcome", wait)
}

func TestIdleConnectionsAreClosedWith4009(t *testing.T) {
	s := start(t, t.TempDir(), func(c *config.Config) {
		c.HeartbeatInterval, c.IdleTimeout = 200*time.Millisecond, 600*time.Millisecond
	})
	agentTok := s.login(adminEmail, adminPassword)
	idle := s.dial("/ws/agent", agentTok, "")
	alive := s.dial("/ws/agent", agentTok, "")
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		tick := time.NewTicker(150 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				// An error ends the pings; a server that closed a live
				// connection is caught by the check below, and at the end
				// the test's own teardown closes it under a last tick.
				if alive.TrySend(map[string]any{"type": "ping"}) != nil {
					return
				}
			}
		}
	}()
	if code, err := idle.WaitClosed(wait); err != nil || code != 4009 {
		t.Fatalf("idle connection: close %d (%v), want 4009", code, err)
	}
	alive.Next("pong", wait)
	if _, err := alive.WaitClosed(300 * time.Millisecond); err == nil {
		t.Fatal("a connection that sends heartbeats was closed")
	}
}

// Workspaces are isolated on the socket too: an agent of workspace B
// neither receives A's messages nor can write into A's conversations.
func TestAgentsOfAnotherWorkspaceSeeNothing(t *testing.T) {
	s := start(t, t.TempDir(), nil)
	ctx := context.Background()
	agentA := s.login(adminEmail, adminPassword)
	v := s.visitorSession(s.inboxToken(agentA), "")
	conv := s.startConversation(v)

	wb := &kefu.Workspace{Name: "B"}
	if err := s.App.Store.CreateWorkspace(ctx, wb); err != nil {
		t.Fatal(err)
	}
	hash, _ := auth.HashPassword("password-of-b")
	if err := s.App.Store.CreateAgent(ctx, &kefu.Agent{WorkspaceID: wb.ID, Email: "b@example.com", Role: kefu.RoleAdmin, PasswordHash: hash, Active: true}); err != nil {
		t.Fatal(err)
	}
	agentB := s.login("b@example.com", "password-of-b")
	spy := s.dial("/ws/agent", agentB, "")
	spy.Send(map[string]any{"type": "subscribe", "all": true})
	spy.Send(map[string]any{"type": "send", "conversation_id": conv, "body": "hijack"})
	if e := spy.Next("error", wait); e["code"] != "not_found" {
		t.Fatalf("cross-workspace send: %v", e)
	}
	spy.Send(map[string]any{"type": "resume", "conversations": map[string]int64{fmt.Sprint(conv): 0}})
	if e := spy.Next("error", wait); e["code"] != "not_found" {
		t.Fatalf("cross-workspace resume: %v", e)
	}
	vis := s.dial("/ws/visitor", v.Token, "")
	vis.Send(map[string]any{"type": "send", "conversation_id": conv, "body": "secret of A"})
	vis.Next("ack", wait)
	spy.Send(map[string]any{"type": "ping"})
	spy.Next("pong", wait)
	for _, f := range spy.Frames() {
		if f.Type() == "message" || f.Type() == "conversation" {
			t.Fatalf("workspace B received %v", f)
		}
	}
	if status, _ := call(t, "GET", fmt.Sprintf("%s/api/v1/conversations/%d/messages", s.URL, conv), agentB, nil); status != 404 {
		t.Fatalf("cross-workspace history: %d, want 404", status)
	}
}

// A quiet connection must cost the server no goroutine (a parked reader's
// stack was most of an idle connection's memory), yet wake when the client
// speaks and be cleaned up however it ends.
func TestIdleConnectionsHoldNoServerGoroutine(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the poller is Linux only; elsewhere each connection has a reading goroutine by design")
	}
	s := start(t, t.TempDir(), nil)
	tok := s.login(adminEmail, adminPassword)
	const n = 30
	conns := make([]*kefutest.WSClient, n)
	for i := range conns {
		conns[i] = s.dial("/ws/agent", tok, "")
	}
	waitFor(t, "no server goroutine left with an idle connection", func() bool { return socketGoroutines() == 0 })
	for _, c := range conns {
		c.Send(map[string]any{"type": "ping"})
	}
	for _, c := range conns {
		c.Next("pong", wait)
	}
	conns[0].Close()
	conns[1].Drop()
	waitFor(t, "closed and dropped connections unregistered", func() bool {
		agents, _ := s.App.Hub.Count()
		return agents == n-2
	})
	waitFor(t, "no server goroutine left after pings", func() bool { return socketGoroutines() == 0 })
}

// socketGoroutines counts goroutines running this server's WebSocket code,
// other than the poller itself.
func socketGoroutines() int {
	buf := make([]byte, 8<<20)
	buf = buf[:runtime.Stack(buf, true)]
	n := 0
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "kefu/internal/ws.") && !strings.Contains(g, "(*poller).run") {
			n++
		}
	}
	return n
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting: %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
