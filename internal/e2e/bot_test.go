package e2e

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestBotAnswersAndHandsOff drives the bot through the real server: an
// admin imports the sample FAQ and enables the bot on the inbox; a
// visitor on the widget WebSocket gets the greeting and a knowledge-base
// answer in Chinese and English, asks for a person, and is handed off:
// the hook is called, the conversation stays open and unassigned with the
// transcript note visible to agents, and the bot answers nothing more.
func TestBotAnswersAndHandsOff(t *testing.T) {
	s := start(t, t.TempDir(), nil)
	var mu sync.Mutex
	var handed []int64
	s.App.Bot.SetHandoff(func(_ context.Context, ws, conv int64) error {
		mu.Lock()
		handed = append(handed, conv)
		mu.Unlock()
		return nil
	})
	admin := s.login(adminEmail, adminPassword)
	out := mustCall(t, 200, "POST", s.URL+"/api/v1/bot/faqs/import_sample", admin, nil)
	if num(out["imported"]) != 400 {
		t.Fatalf("imported %v", out)
	}
	inboxes := mustCall(t, 200, "GET", s.URL+"/api/v1/inboxes", admin, nil)
	inboxID := num(inboxes["data"].([]any)[0].(map[string]any)["id"])
	mustCall(t, 200, "PUT", fmt.Sprintf("%s/api/v1/inboxes/%d/bot", s.URL, inboxID), admin,
		map[string]any{"mode": "bot_first", "greeting": "您好！我是智能客服。", "quick_replies": []string{"怎么查看订单状态"}, "handoff_after": 3})

	v := s.visitorSession(s.inboxToken(admin), "")
	conv := s.startConversation(v)
	vis := s.dial("/ws/visitor", v.Token, "")
	botMessage := func() map[string]any {
		t.Helper()
		for {
			m := vis.Next("message", wait).Message()
			if m["sender_type"] == "bot" {
				return m
			}
		}
	}

	vis.Send(map[string]any{"type": "send", "conversation_id": conv, "body": "订单进度怎么查"})
	greet := botMessage()
	if greet["body"] != "您好！我是智能客服。" {
		t.Fatalf("greeting %v", greet)
	}
	if qr, _ := greet["meta"].(map[string]any)["quick_replies"].([]any); len(qr) != 2 {
		t.Fatalf("greeting quick replies %v", greet["meta"])
	}
	ans := botMessage()
	if !strings.Contains(ans["body"].(string), "订单") || ans["meta"].(map[string]any)["source"] != "kb" {
		t.Fatalf("answer %v", ans)
	}

	vis.Send(map[string]any{"type": "send", "conversation_id": conv, "body": "How do I return an item?"})
	en := botMessage()
	if en["meta"].(map[string]any)["source"] != "kb" {
		t.Fatalf("English answer %v", en)
	}
	// The visitor rates it.
	mustCall(t, 200, "POST", fmt.Sprintf("%s/api/v1/widget/conversations/%d/messages/%d/feedback", s.URL, conv, num(en["id"])), v.Token,
		map[string]any{"helpful": true})

	vis.Send(map[string]any{"type": "send", "conversation_id": conv, "body": "我要转人工"})
	bye := botMessage()
	if bye["meta"].(map[string]any)["source"] != "handoff" {
		t.Fatalf("hand-off message %v", bye)
	}
	deadline := time.Now().Add(wait)
	for {
		mu.Lock()
		n := len(handed)
		mu.Unlock()
		if n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("hand-off hook not called")
		}
		time.Sleep(10 * time.Millisecond)
	}
	c := mustCall(t, 200, "GET", fmt.Sprintf("%s/api/v1/conversations/%d", s.URL, conv), admin, nil)
	if c["status"] != "open" || num(c["assignee_id"]) != 0 {
		t.Fatalf("conversation after hand-off %v", c)
	}
	_, bodies := s.history(admin, conv)
	joined := strings.Join(bodies, "\n")
	if !strings.Contains(joined, "Bot hand-off. Reason: visitor asked for a person") || !strings.Contains(joined, "Visitor: 订单进度怎么查") {
		t.Fatalf("agents do not see the transcript note: %q", joined)
	}
	decisions := mustCall(t, 200, "GET", fmt.Sprintf("%s/api/v1/conversations/%d/bot_decisions", s.URL, conv), admin, nil)
	if n := len(decisions["data"].([]any)); n != 4 { // greeting, 2 answers, hand-off
		t.Fatalf("decisions %v", decisions)
	}

	// The bot stays quiet now: an agent's reply is the next message the
	// visitor gets after its own.
	vis.Send(map[string]any{"type": "send", "conversation_id": conv, "body": "怎么退货"})
	agent := s.dial("/ws/agent", admin, "")
	agent.Send(map[string]any{"type": "send", "conversation_id": conv, "body": "我来帮您"})
	for {
		m := vis.Next("message", wait).Message()
		if m["sender_type"] == "bot" {
			t.Fatalf("bot spoke after hand-off: %v", m)
		}
		if m["body"] == "我来帮您" {
			break
		}
	}
}
