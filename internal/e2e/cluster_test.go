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
