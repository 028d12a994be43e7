package e2e

import (
	"fmt"
	"math"
	"net/http"
	"strings"
	"testing"

	"github.com/kefu-chat/kefu/internal/llm/llmtest"
)

// TestBotStreamsLanguageModelAnswer: with a model configured through the
// REST API, a question the knowledge base cannot answer confidently is
// answered by the (fake, wire-compatible) model: the visitor's WebSocket
// receives bot_delta frames with the pieces in order, then exactly one
// stored bot message with the full text and the same stream id; the
// usage shows up in the usage report and the decision.
func TestBotStreamsLanguageModelAnswer(t *testing.T) {
	model := llmtest.New(t)
	pieces := []string{"您好！", "礼品卡", "可以在", "“我的账户”里", "兑换。"}
	model.Chat = func(w http.ResponseWriter, _ *http.Request, _ int, r llmtest.ChatRequest) {
		llmtest.Stream(w, r, pieces, &llmtest.Usage{PromptTokens: 300, CompletionTokens: 20})
	}
	s := start(t, t.TempDir(), nil)
	admin := s.login(adminEmail, adminPassword)
	mustCall(t, 200, "POST", s.URL+"/api/v1/bot/faqs/import_sample", admin, nil)
	inboxes := mustCall(t, 200, "GET", s.URL+"/api/v1/inboxes", admin, nil)
	inboxID := num(inboxes["data"].([]any)[0].(map[string]any)["id"])
	mustCall(t, 200, "PUT", fmt.Sprintf("%s/api/v1/inboxes/%d/bot", s.URL, inboxID), admin, map[string]any{"mode": "bot_first"})
	set := mustCall(t, 200, "PUT", s.URL+"/api/v1/bot/llm", admin, map[string]any{"enabled": true, "base_url": model.URL,
		"model": "qwen2.5", "api_key": "sk-e2e-secret", "grounded": false, "prompt_price_per_1k": 1, "completion_price_per_1k": 2})
	if set["api_key_set"] != true || strings.Contains(fmt.Sprint(set), "sk-e2e-secret") {
		t.Fatalf("settings %v", set)
	}

	v := s.visitorSession(s.inboxToken(admin), "")
	conv := s.startConversation(v)
	vis := s.dial("/ws/visitor", v.Token, "")
	question := "你们的礼品卡怎么兑换到账户里"
	vis.Send(map[string]any{"type": "send", "conversation_id": conv, "body": question})
	var ans map[string]any
	for ans == nil {
		if m := vis.Next("message", wait).Message(); m["sender_type"] == "bot" {
			ans = m
		}
	}
	meta := ans["meta"].(map[string]any)
	if ans["body"] != strings.Join(pieces, "") || meta["source"] != "llm" {
		t.Fatalf("answer %v", ans)
	}
	streamID := meta["stream_id"]
	// Every delta came before the message, in order, with its stream id.
	var got []string
	for _, f := range vis.Frames() {
		if f.Type() == "message" && f.Message()["id"] == ans["id"] {
			break
		}
		if f.Type() == "bot_delta" {
			if f["stream_id"] != streamID || f.Int("conversation_id") != conv {
				t.Fatalf("delta %v, want stream %v", f, streamID)
			}
			got = append(got, f["text"].(string))
		}
	}
	if strings.Join(got, "") != strings.Join(pieces, "") || len(got) != len(pieces) {
		t.Fatalf("deltas %q", got)
	}
	// Stored exactly once.
	_, bodies := s.history(admin, conv)
	n := 0
	for _, b := range bodies {
		if b == strings.Join(pieces, "") {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("answer stored %d times: %q", n, bodies)
	}
	// The model saw the visitor's text only as the user message.
	reqs := model.Requests()
	if len(reqs) != 1 || reqs[0].Messages[2].Role != "user" || reqs[0].Messages[2].Content != question ||
		strings.Contains(reqs[0].Messages[0].Content, question) || reqs[0].Authorization != "Bearer sk-e2e-secret" {
		t.Fatalf("model request %+v", reqs)
	}
	usage := mustCall(t, 200, "GET", s.URL+"/api/v1/bot/llm/usage?days=1", admin, nil)
	today := usage["data"].([]any)[0].(map[string]any)
	if num(today["prompt_tokens"]) != 300 || num(today["completion_tokens"]) != 20 || math.Abs(today["cost"].(float64)-0.34) > 1e-9 {
		t.Fatalf("usage %v", usage)
	}
	decisions := mustCall(t, 200, "GET", fmt.Sprintf("%s/api/v1/conversations/%d/bot_decisions", s.URL, conv), admin, nil)
	d := decisions["data"].([]any)[0].(map[string]any)
	if d["source"] != "llm" || d["detail"].(map[string]any)["llm"].(map[string]any)["usage_estimated"] != false {
		t.Fatalf("decision %v", d)
	}
}
