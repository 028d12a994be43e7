package e2e

import (
	"fmt"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/kefu-chat/kefu/internal/kefutest"
)

func TestVisitorAndAgentChatEndToEnd(t *testing.T) {
	s := start(t, t.TempDir(), nil)
	agentTok := s.login(adminEmail, adminPassword)
	v := s.visitorSession(s.inboxToken(agentTok), "")
	conv := s.startConversation(v)

	agent := s.dial("/ws/agent", agentTok, "")
	vis := s.dial("/ws/visitor", v.Token, "")

	vis.Send(map[string]any{"type": "send", "id": "r1", "conversation_id": conv, "client_msg_id": "v-1", "body": "你好, I need help"})
	ack := vis.Next("ack", wait)
	if ack["id"] != "r1" || ack.Int("seq") != 1 || ack["duplicate"] != false {
		t.Fatalf("visitor ack: %v", ack)
	}
	got := agent.Next("message", wait).Message()
	if got["body"] != "你好, I need help" || got.Int("conversation_id") != conv || got["sender_type"] != "contact" {
		t.Fatalf("agent got %v", got)
	}

	agent.Send(map[string]any{"type": "send", "id": "a1", "conversation_id": conv, "client_msg_id": "a-1", "body": "Hello! How can I help?"})
	if ack := agent.Next("ack", wait); ack.Int("seq") != 2 {
		t.Fatalf("agent ack: %v", ack)
	}
	// The visitor sees its own message echoed (other tabs need it; it is
	// published before the ack is queued) and then the reply.
	if f := vis.Frames(); f[1].Type() != "message" || f[1].Message().Int("seq") != 1 || f[2].Type() != "ack" {
		t.Fatalf("visitor frames after welcome: %v", f[1:])
	}
	reply := vis.Next("message", wait).Message()
	if reply["body"] != "Hello! How can I help?" || reply["sender_type"] != "agent" || reply.Int("seq") != 2 {
		t.Fatalf("visitor got %v", reply)
	}

	// A private note reaches the agent but never the visitor.
	agent.Send(map[string]any{"type": "send", "conversation_id": conv, "kind": "note", "body": "VIP customer"})
	agent.Next("ack", wait)
	agent.Send(map[string]any{"type": "send", "conversation_id": conv, "body": "after the note"})
	agent.Next("ack", wait)
	if m := vis.Next("message", wait).Message(); m["body"] != "after the note" {
		t.Fatalf("visitor saw %v; the note must be skipped", m)
	}

	seqs, bodies := s.history(agentTok, conv)
	if !slices.Equal(seqs, []int64{1, 2, 3, 4}) || !slices.Equal(bodies, []string{"你好, I need help", "Hello! How can I help?", "VIP customer", "after the note"}) {
		t.Fatalf("history %v %v", seqs, bodies)
	}
	out := mustCall(t, 200, "GET", fmt.Sprintf("%s/api/v1/widget/conversations/%d/messages", s.URL, conv), v.Token, nil)
	if n := len(out["data"].([]any)); n != 3 {
		t.Fatalf("visitor history has %d messages, want 3 (no note)", n)
	}
}

func TestRestartKeepsHistoryAndClientsResume(t *testing.T) {
	dir := t.TempDir()
	s := start(t, dir, nil)
	agentTok := s.login(adminEmail, adminPassword)
	v := s.visitorSession(s.inboxToken(agentTok), "")
	conv := s.startConversation(v)
	vis := s.dial("/ws/visitor", v.Token, "")
	for i := 1; i <= 20; i++ {
		vis.Send(map[string]any{"type": "send", "conversation_id": conv, "client_msg_id": "m" + strconv.Itoa(i), "body": "before restart " + strconv.Itoa(i)})
		vis.Next("ack", wait)
	}
	s.stop()
	if code, err := vis.WaitClosed(wait); err != nil || code != 1001 {
		t.Fatalf("on shutdown the visitor socket closed with %d (%v), want 1001", code, err)
	}

	s2 := start(t, dir, nil)
	agentTok = s2.login(adminEmail, adminPassword)
	seqs, _ := s2.history(agentTok, conv)
	if len(seqs) != 20 || seqs[19] != 20 {
		t.Fatalf("after restart history has seqs %v", seqs)
	}
	// The old visitor token still works, and resume from seq 15 replays 16..20.
	vis2 := s2.dial("/ws/visitor", v.Token, fmt.Sprintf("%d:15", conv))
	for want := int64(16); want <= 20; want++ {
		if m := vis2.Next("message", wait).Message(); m.Int("seq") != want {
			t.Fatalf("resume got seq %d, want %d", m.Int("seq"), want)
		}
	}
	if r := vis2.Next("resumed", wait); r.Int("last_seq") != 20 || r.Int("count") != 5 {
		t.Fatalf("resumed frame %v", r)
	}
	// A returning visitor (same stored visitor id) is the same contact.
	if again := s2.visitorSession(s2.inboxToken(agentTok), v.VisitorID); again.ContactID != v.ContactID {
		t.Fatalf("returning visitor got contact %d, want %d", again.ContactID, v.ContactID)
	}
}

// An agent keeps sending while the visitor's connection drops and comes
// back with its last seq: every message arrives exactly once, in order.
func TestResumeWhileMessagesFlow(t *testing.T) {
	s := start(t, t.TempDir(), nil)
	agentTok := s.login(adminEmail, adminPassword)
	v := s.visitorSession(s.inboxToken(agentTok), "")
	conv := s.startConversation(v)
	const total = 300
	agent := s.dial("/ws/agent", agentTok, "")

	vis := s.dial("/ws/visitor", v.Token, fmt.Sprintf("%d:0", conv))
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 1; i <= total; i++ {
			if err := agent.TrySend(map[string]any{"type": "send", "conversation_id": conv, "client_msg_id": "a" + strconv.Itoa(i), "body": strconv.Itoa(i)}); err != nil {
				t.Error(err)
				return
			}
			if i%15 == 0 {
				time.Sleep(2 * time.Millisecond) // keep the rate under the frame limit
			}
		}
	}()
	var got []int64
	record := func(c *kefutest.WSClient, until func() bool) {
		for !until() {
			f := c.Next("message", wait)
			got = append(got, f.Message().Int("seq"))
		}
	}
	record(vis, func() bool { return len(got) >= 40 })
	vis.Drop()
	time.Sleep(50 * time.Millisecond) // messages keep flowing meanwhile
	last := got[len(got)-1]
	vis2 := s.dial("/ws/visitor", v.Token, fmt.Sprintf("%d:%d", conv, last))
	record(vis2, func() bool { return got[len(got)-1] >= total })
	wg.Wait()
	for i, seq := range got {
		if seq != int64(i+1) {
			t.Fatalf("position %d has seq %d: gap or duplicate around the reconnect (last before drop %d)", i, seq, last)
		}
	}
	if len(got) != total {
		t.Fatalf("got %d messages, want %d", len(got), total)
	}
}

func TestSendIsIdempotentAcrossReconnect(t *testing.T) {
	s := start(t, t.TempDir(), nil)
	agentTok := s.login(adminEmail, adminPassword)
	v := s.visitorSession(s.inboxToken(agentTok), "")
	conv := s.startConversation(v)
	vis := s.dial("/ws/visitor", v.Token, "")
	frame := map[string]any{"type": "send", "conversation_id": conv, "client_msg_id": "same-id", "body": "once"}
	vis.Send(frame)
	first := vis.Next("ack", wait)
	vis.Send(frame)
	second := vis.Next("ack", wait)
	vis.Drop()
	vis2 := s.dial("/ws/visitor", v.Token, "")
	vis2.Send(frame)
	third := vis2.Next("ack", wait)
	if first["duplicate"] != false || second["duplicate"] != true || third["duplicate"] != true {
		t.Fatalf("duplicate flags: %v %v %v", first["duplicate"], second["duplicate"], third["duplicate"])
	}
	if first.Int("seq") != second.Int("seq") || first.Int("seq") != third.Int("seq") || first.Int("message_id") != third.Int("message_id") {
		t.Fatalf("acks differ: %v %v %v", first, second, third)
	}
	// And over REST with the same id: still one message.
	mustCall(t, 200, "POST", fmt.Sprintf("%s/api/v1/widget/conversations/%d/messages", s.URL, conv), v.Token, map[string]any{"body": "once", "client_msg_id": "same-id"})
	if seqs, _ := s.history(agentTok, conv); len(seqs) != 1 {
		t.Fatalf("stored %d messages, want 1", len(seqs))
	}
}

// A connection may pipeline sends: it does not wait for one ack before the
// next send, and messages to one conversation still commit in the order
// sent, with acks in that order.
func TestPipelinedSendsKeepTheirOrder(t *testing.T) {
	s := start(t, t.TempDir(), nil)
	agentTok := s.login(adminEmail, adminPassword)
	inbox := s.inboxToken(agentTok)
	convA := s.startConversation(s.visitorSession(inbox, ""))
	convB := s.startConversation(s.visitorSession(inbox, ""))
	agent := s.dial("/ws/agent", agentTok, "")
	const n = 300
	for i := 1; i <= n; i++ {
		conv := convA
		if i%3 == 0 {
			conv = convB
		}
		agent.Send(map[string]any{"type": "send", "id": strconv.Itoa(i), "conversation_id": conv, "client_msg_id": "p" + strconv.Itoa(i), "body": strconv.Itoa(i)})
	}
	lastSeq := map[int64]int64{}
	lastID := map[int64]int{}
	for k := 0; k < n; k++ {
		ack := agent.Next("ack", wait)
		conv, seq := ack.Int("conversation_id"), ack.Int("seq")
		id, _ := strconv.Atoi(ack["id"].(string))
		// Seqs rise; they need not be consecutive, since the agent's
		// connecting makes them online and routing's "Assigned to" line may
		// land between two sends.
		if seq <= lastSeq[conv] || id <= lastID[conv] {
			t.Fatalf("conversation %d: ack for send %d has seq %d after send %d with seq %d", conv, id, seq, lastID[conv], lastSeq[conv])
		}
		lastSeq[conv], lastID[conv] = seq, id
	}
	for _, conv := range []int64{convA, convB} {
		_, bodies := s.history(agentTok, conv)
		prev := 0
		for _, b := range onlyUser(bodies) {
			v, _ := strconv.Atoi(b)
			if v <= prev {
				t.Fatalf("conversation %d stored %d after %d", conv, v, prev)
			}
			prev = v
		}
	}
}
