package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/kefu-chat/kefu/internal/auth"
	"github.com/kefu-chat/kefu/internal/kefu"
)

// Typing, read receipts, presence and conversation changes reach the other
// side live, and are not echoed to the connection that caused them.
func TestTypingReadPresenceAndConversationEvents(t *testing.T) {
	s := start(t, t.TempDir(), nil)
	ctx := context.Background()
	adminTok := s.login(adminEmail, adminPassword)
	hash, _ := auth.HashPassword("second-agent-pw")
	li := &kefu.Agent{WorkspaceID: 1, Email: "li@example.com", Name: "Li", Role: kefu.RoleAgent, PasswordHash: hash, Active: true}
	if err := s.App.Store.CreateAgent(ctx, li); err != nil {
		t.Fatal(err)
	}
	liTok := s.login("li@example.com", "second-agent-pw")
	v := s.visitorSession(s.inboxToken(adminTok), "")
	conv := s.startConversation(v)

	admin := s.dial("/ws/agent", adminTok, "")
	liWS := s.dial("/ws/agent", liTok, "")
	vis := s.dial("/ws/visitor", v.Token, "")

	vis.Send(map[string]any{"type": "typing", "conversation_id": conv, "on": true})
	if f := admin.Next("typing", wait); f.Int("conversation_id") != conv || f["sender_type"] != "contact" || f["on"] != true {
		t.Fatalf("agent typing frame %v", f)
	}
	vis.Send(map[string]any{"type": "send", "conversation_id": conv, "body": "hello"})
	vis.Next("ack", wait)
	admin.Send(map[string]any{"type": "read", "conversation_id": conv, "seq": 1})
	if f := vis.Next("read", wait); f["reader_type"] != "agent" || f.Int("seq") != 1 {
		t.Fatalf("visitor read frame %v", f)
	}
	// "away", not "online": an online Li would be handed the queued
	// conversation by routing before the manual assignment below.
	liWS.Send(map[string]any{"type": "presence", "status": "away"})
	if f := admin.Next("presence", wait); f.Int("agent_id") != li.ID || f["status"] != "away" {
		t.Fatalf("presence frame %v", f)
	}
	// Assigning over REST tells every agent and the visitor, which gets the
	// reduced view without labels.
	mustCall(t, 200, "PATCH", s.URL+"/api/v1/conversations/"+itoa(conv), adminTok, map[string]any{"assignee_id": li.ID, "labels": []string{"vip"}})
	f := liWS.Next("conversation", wait)
	if f["event"] != "updated" || f["conversation"].(map[string]any)["assignee_id"].(float64) != float64(li.ID) {
		t.Fatalf("agent conversation frame %v", f)
	}
	vf := vis.Next("conversation", wait)
	if _, leaked := vf["conversation"].(map[string]any)["labels"]; leaked {
		t.Fatalf("visitor saw labels: %v", vf)
	}
	if m := vis.Next("message", wait).Message(); m["kind"] != "event" || m["sender_type"] != "system" {
		t.Fatalf("visitor did not get the assignment event: %v", m)
	}
	// The visitor's own typing never came back to it.
	time.Sleep(50 * time.Millisecond)
	for _, f := range vis.Frames() {
		if f.Type() == "typing" {
			t.Fatalf("typing echoed to its sender: %v", f)
		}
	}
}

func itoa(n int64) string { return fmtInt(n) }
