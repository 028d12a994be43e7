package e2e

import (
	"fmt"
	"strings"
	"testing"
)

// TestVisitorWaitsInQueueAndIsAssigned: with the only agent full, a
// visitor waits, is told position 2 then 1, and is assigned as soon as the
// agent resolves another chat.
func TestVisitorWaitsInQueueAndIsAssigned(t *testing.T) {
	s := start(t, t.TempDir(), nil)
	admin := s.login(adminEmail, adminPassword)
	inbox := mustCall(t, 200, "GET", s.URL+"/api/v1/inboxes", admin, nil)["data"].([]any)[0].(map[string]any)
	inboxID, token := num(inbox["id"]), inbox["public_token"].(string)
	mustCall(t, 200, "PUT", fmt.Sprintf("%s/api/v1/inboxes/%d/routing", s.URL, inboxID), admin, map[string]any{"default_capacity": 1})
	mustCall(t, 200, "PUT", s.URL+"/api/v1/me/availability", admin, map[string]any{"availability": "online"})
	me := mustCall(t, 200, "GET", s.URL+"/api/v1/me", admin, nil)
	adminID := num(me["id"])
	if adminID == 0 {
		adminID = num(me["agent"].(map[string]any)["id"])
	}

	first := s.visitorSession(token, "")
	c1 := s.startConversation(first)
	if got := num(mustCall(t, 200, "GET", fmt.Sprintf("%s/api/v1/conversations/%d", s.URL, c1), admin, nil)["assignee_id"]); got != adminID {
		t.Fatalf("first conversation assigned to %d, want the online admin %d", got, adminID)
	}
	second := s.visitorSession(token, "")
	c2 := s.startConversation(second)
	third := s.visitorSession(token, "")
	c3 := s.startConversation(third)
	ws := s.dial("/ws/visitor", third.Token, "")
	defer ws.Close()

	pos := ws.Next("queue", wait)
	if num(pos["conversation_id"]) != c3 || num(pos["position"]) != 2 {
		t.Fatalf("first queue frame = %v, want conversation %d at position 2", pos, c3)
	}
	queue := mustCall(t, 200, "GET", fmt.Sprintf("%s/api/v1/queue?inbox_id=%d", s.URL, inboxID), admin, nil)["data"].([]any)
	if len(queue) != 2 || num(queue[0].(map[string]any)["conversation_id"]) != c2 {
		t.Fatalf("queue = %v, want [%d %d]", queue, c2, c3)
	}

	mustCall(t, 200, "PATCH", fmt.Sprintf("%s/api/v1/conversations/%d", s.URL, c1), admin, map[string]any{"status": "resolved"})
	pos = ws.Next("queue", wait)
	if num(pos["position"]) != 1 {
		t.Fatalf("after one chat resolved: %v, want position 1", pos)
	}
	if got := num(mustCall(t, 200, "GET", fmt.Sprintf("%s/api/v1/conversations/%d", s.URL, c2), admin, nil)["assignee_id"]); got != adminID {
		t.Fatalf("head of the queue assigned to %d, want %d", got, adminID)
	}

	mustCall(t, 200, "PATCH", fmt.Sprintf("%s/api/v1/conversations/%d", s.URL, c2), admin, map[string]any{"status": "resolved"})
	for {
		f := ws.Next("conversation", wait)
		conv := f["conversation"].(map[string]any)
		if num(conv["id"]) == c3 && num(conv["assignee_id"]) == adminID {
			if _, leaked := f["reason"]; leaked {
				t.Errorf("visitor's frame carries the routing reason: %v", f)
			}
			break
		}
	}
	// The transcript says so, and the visitor sees that line live.
	m := ws.Next("message", wait).Message()
	if body, _ := m["body"].(string); m["kind"] != "event" || !strings.HasPrefix(body, "Assigned to ") {
		t.Errorf("visitor's next message = %v, want the 'Assigned to' event line", m)
	}
}

// TestTransferReachesReceivingAgent: a transfer through the API is
// announced on the receiving agent's WebSocket with who it came from and
// the seq of the private note that carries the transfer note.
func TestTransferReachesReceivingAgent(t *testing.T) {
	s := start(t, t.TempDir(), nil)
	admin := s.login(adminEmail, adminPassword)
	mustCall(t, 200, "PUT", s.URL+"/api/v1/me/availability", admin, map[string]any{"availability": "online"})
	adminID := num(mustCall(t, 200, "GET", s.URL+"/api/v1/me", admin, nil)["id"])
	li := num(mustCall(t, 201, "POST", s.URL+"/api/v1/agents", admin, map[string]any{"email": "li@example.com", "name": "Li", "password": "agent-password-1", "role": "agent"})["id"])
	liTok := s.login("li@example.com", "agent-password-1")
	liWS := s.dial("/ws/agent", liTok, "")
	defer liWS.Close()

	conv := s.startConversation(s.visitorSession(s.inboxToken(admin), ""))
	if got := num(mustCall(t, 200, "GET", fmt.Sprintf("%s/api/v1/conversations/%d", s.URL, conv), admin, nil)["assignee_id"]); got != adminID {
		t.Fatalf("conversation assigned to %d, want the online admin %d", got, adminID)
	}
	after := mustCall(t, 200, "POST", fmt.Sprintf("%s/api/v1/conversations/%d/transfer", s.URL, conv), admin, map[string]any{"agent_id": li, "note": "VIP, wants a refund"})
	if num(after["assignee_id"]) != li {
		t.Fatalf("transfer answered %v, want assignee %d", after, li)
	}
	var f map[string]any
	for {
		f = liWS.Next("conversation", wait)
		if f["event"] == "transferred" && num(f["conversation"].(map[string]any)["id"]) == conv {
			break
		}
	}
	if num(f["from_agent_id"]) != adminID || num(f["conversation"].(map[string]any)["assignee_id"]) != li || f["reason"] != "transfer" {
		t.Errorf("transferred frame = %v, want from %d to assignee %d with reason transfer", f, adminID, li)
	}
	seqs, bodies := s.history(liTok, conv)
	noteSeq := int64(0)
	for i, b := range bodies {
		if b == "Transferred to Li: VIP, wants a refund" {
			noteSeq = seqs[i]
		}
	}
	if noteSeq == 0 || num(f["note_seq"]) != noteSeq {
		t.Errorf("note_seq = %v, want %d, the seq of the transfer note in %q", f["note_seq"], noteSeq, bodies)
	}
}
