package e2e

import (
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/kefu-chat/kefu/internal/config"
	"github.com/kefu-chat/kefu/internal/kefutest"
)

// Two server processes' worth of Kefu share one PostgreSQL database and one
// NATS server: a visitor on node A and an agent on node B chat with each
// other, and a visitor who moves from A to B resumes without gap or
// duplicate.
func TestTwoNodesSharePostgresAndNATS(t *testing.T) {
	pg := kefutest.PostgresURL(t)
	nats := natsURL()
	subject := fmt.Sprintf("kefutest.%d", time.Now().UnixNano())
	cluster := func(c *config.Config) { c.DatabaseURL, c.NATSURL, c.NATSSubject = pg, nats, subject }
	a := start(t, t.TempDir(), cluster)
	b := start(t, t.TempDir(), cluster) // same database: it finds the workspace a created

	agentTok := b.login(adminEmail, adminPassword)
	v := a.visitorSession(a.inboxToken(agentTok), "")
	conv := a.startConversation(v)
	agent := b.dial("/ws/agent", agentTok, "")
	vis := a.dial("/ws/visitor", v.Token, "")

	vis.Send(map[string]any{"type": "send", "conversation_id": conv, "client_msg_id": "x1", "body": "from node A"})
	vis.Next("ack", wait)
	if m := agent.Next("message", wait).Message(); m["body"] != "from node A" {
		t.Fatalf("agent on node B got %v", m)
	}
	for i := 1; i <= 50; i++ {
		agent.Send(map[string]any{"type": "send", "conversation_id": conv, "client_msg_id": "b" + strconv.Itoa(i), "body": "from node B " + strconv.Itoa(i)})
		agent.Next("ack", wait)
	}
	got := []int64{1} // its own message arrived before its ack
	for len(got) < 51 {
		got = append(got, vis.Next("message", wait).Message().Int("seq"))
	}
	// Move the visitor to node B half way, as a load balancer might.
	vis.Drop()
	vis2 := b.dial("/ws/visitor", v.Token, fmt.Sprintf("%d:%d", conv, 25))
	for want := int64(26); want <= 51; want++ {
		if seq := vis2.Next("message", wait).Message().Int("seq"); seq != want {
			t.Fatalf("resumed on node B: seq %d, want %d", seq, want)
		}
	}
	for i, seq := range got {
		if seq != int64(i+1) {
			t.Fatalf("visitor on node A: position %d has seq %d", i, seq)
		}
	}
}

// natsURL is the NATS server the cluster test needs (required, like PostgreSQL).
func natsURL() string {
	if u := os.Getenv("KEFU_TEST_NATS_URL"); u != "" {
		return u
	}
	return "nats://127.0.0.1:4222"
}

// TestKnowledgeChangesReachTheOtherNode: each node keeps its own in-memory
// knowledge-base index; an FAQ edited through node A is what node B
// suggests next, not its stale copy.
func TestKnowledgeChangesReachTheOtherNode(t *testing.T) {
	pg := kefutest.PostgresURL(t)
	subject := fmt.Sprintf("kefutest.kb.%d", time.Now().UnixNano())
	cluster := func(c *config.Config) { c.DatabaseURL, c.NATSURL, c.NATSSubject = pg, natsURL(), subject }
	a := start(t, t.TempDir(), cluster)
	b := start(t, t.TempDir(), cluster)
	tokA := a.login(adminEmail, adminPassword)
	tokB := b.login(adminEmail, adminPassword)
	faq := mustCall(t, 201, "POST", a.URL+"/api/v1/bot/faqs", tokA, map[string]any{
		"answer": "Returns are free within 30 days.", "questions": []string{"how do I return an item", "退货怎么办理"}, "enabled": true})
	v := b.visitorSession(b.inboxToken(tokB), "")
	conv := b.startConversation(v)
	mustCall(t, 201, "POST", fmt.Sprintf("%s/api/v1/widget/conversations/%d/messages", b.URL, conv), v.Token,
		map[string]any{"body": "how can I return an item?", "client_msg_id": "kb-1"})
	suggest := func() string {
		out := mustCall(t, 200, "GET", fmt.Sprintf("%s/api/v1/conversations/%d/suggestions", b.URL, conv), tokB, nil)
		data, _ := out["data"].([]any)
		if len(data) == 0 {
			return ""
		}
		return data[0].(map[string]any)["text"].(string)
	}
	if got := suggest(); got != "Returns are free within 30 days." {
		t.Fatalf("node B suggests %q, want the FAQ created on node A", got)
	}
	mustCall(t, 200, "PUT", fmt.Sprintf("%s/api/v1/bot/faqs/%d", a.URL, num(faq["id"])), tokA, map[string]any{
		"answer": "Returns are free within 60 days.", "questions": []string{"how do I return an item", "退货怎么办理"}, "enabled": true})
	deadline := time.Now().Add(wait)
	for got := suggest(); got != "Returns are free within 60 days."; got = suggest() {
		if time.Now().After(deadline) {
			t.Fatalf("node B still suggests %q after the FAQ changed on node A", got)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
