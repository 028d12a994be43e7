package bot

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kefu-chat/kefu/internal/kefu"
)

// TestPluginSource: the plugin gets a signed request (HMAC of timestamp
// and body, timestamp from the bot's clock); it may answer, have nothing
// to say (204), or hang, which the pipeline's deadline cuts off.
func TestPluginSource(t *testing.T) {
	const secret = "plugin-secret"
	now := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	hang := make(chan struct{})
	defer close(hang)
	var mu sync.Mutex
	var bad []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		ts := r.Header.Get("X-Kefu-Timestamp")
		mac := hmac.New(sha256.New, []byte(secret))
		mac.Write([]byte(ts + "."))
		mac.Write(body)
		if !hmac.Equal([]byte(r.Header.Get("X-Kefu-Signature")), []byte("sha256="+hex.EncodeToString(mac.Sum(nil)))) || ts != strconv.FormatInt(now.Unix(), 10) {
			mu.Lock()
			bad = append(bad, ts+" "+r.Header.Get("X-Kefu-Signature"))
			mu.Unlock()
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		var in struct {
			Question       string `json:"question"`
			ConversationID int64  `json:"conversation_id"`
			Contact        struct {
				Name string `json:"name"`
			} `json:"contact"`
		}
		json.Unmarshal(body, &in)
		switch in.Question {
		case "answer":
			json.NewEncoder(w).Encode(map[string]any{"answer": "Hello " + in.Contact.Name, "confidence": 0.8})
		case "nothing":
			w.WriteHeader(http.StatusNoContent)
		case "hang":
			select {
			case <-hang:
			case <-r.Context().Done():
			}
		}
	}))
	defer srv.Close()
	src := &PluginSource{Plugin: &kefu.BotPlugin{Name: "shop", URL: srv.URL, Secret: secret, Priority: 5, Enabled: true},
		Client: &http.Client{}, Now: func() time.Time { return now }}
	q := Question{WorkspaceID: 1, ConversationID: 7, ContactName: "Li"}

	q.Text = "answer"
	res := Run(t.Context(), []Source{src}, q, 5*time.Second)
	if res.Winner != "plugin:shop" || res.Reply.Text != "Hello Li" || res.Reply.Confidence != 0.8 {
		t.Fatalf("answer: %+v %+v", res, res.Reply)
	}
	q.Text = "nothing"
	if res := Run(t.Context(), []Source{src}, q, 5*time.Second); res.Reply != nil || outcomes(res)["plugin:shop"] != "none" {
		t.Fatalf("204: %+v", res)
	}
	q.Text = "hang"
	if res := Run(t.Context(), []Source{src}, q, 100*time.Millisecond); res.Reply != nil || outcomes(res)["plugin:shop"] != "timeout" {
		t.Fatalf("hang: %+v", res)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(bad) != 0 {
		t.Fatalf("requests with a bad signature or timestamp: %q", bad)
	}
}

// TestHandoffAfterUnansweredTurns: with handoff_after 2, the first
// question without an answer gets the fallback, the second hands off.
func TestHandoffAfterUnansweredTurns(t *testing.T) {
	e := newBotEnv(t, kefu.BotSettings{Mode: kefu.BotFirst, HandoffAfter: 2})
	conv := e.f.Conversation.ID
	e.ask(conv, "qwertyuiop zxcvbnm")
	if h := e.handedOff(); len(h) != 0 {
		t.Fatalf("handed off after one unanswered turn")
	}
	e.ask(conv, "asdfghjkl poiuy")
	ds := e.decisions(conv)
	if outcomesOf(ds) != "unanswered,handoff" || !strings.Contains(ds[1].Detail["reason"].(string), "2 questions in a row") {
		t.Fatalf("decisions %s", outcomesOf(ds))
	}
	if h := e.handedOff(); len(h) != 1 {
		t.Fatalf("hand-offs %v", h)
	}
	bots := e.messages(conv, kefu.SenderBot, kefu.KindText)
	if len(bots) != 2 || bots[0].Meta["source"] != "fallback" || bots[1].Meta["source"] != "handoff" {
		t.Fatalf("bot messages %+v", bots)
	}
}

// TestIntentHandoff: an intent with handoff true answers its reply, hands
// off, and names the intent in the decision and the agent's note.
func TestIntentHandoff(t *testing.T) {
	e := newBotEnv(t, kefu.BotSettings{Mode: kefu.BotFirst})
	e.must(e.store.CreateIntent(t.Context(), &kefu.Intent{WorkspaceID: e.ws(), Name: "complaint", Keywords: []string{"投诉"},
		Reply: "很抱歉给您带来不便。", Handoff: true, Enabled: true}))
	conv := e.f.Conversation.ID
	e.ask(conv, "我要投诉你们的快递")
	ds := e.decisions(conv)
	if outcomesOf(ds) != "handoff" || ds[0].Detail["intent"] != "complaint" || ds[0].Detail["reason"] != "intent complaint" {
		t.Fatalf("decisions %s %+v", outcomesOf(ds), ds)
	}
	bots := e.messages(conv, kefu.SenderBot, kefu.KindText)
	if len(bots) != 2 || bots[0].Body != "很抱歉给您带来不便。" || bots[1].Meta["source"] != "handoff" {
		t.Fatalf("bot messages %+v", bots)
	}
	notes := e.messages(conv, kefu.SenderBot, kefu.KindNote)
	if len(notes) != 1 || !strings.Contains(notes[0].Body, "Detected intent: complaint.") || !strings.Contains(notes[0].Body, "Visitor: 我要投诉你们的快递") {
		t.Fatalf("agent note %+v", notes)
	}
	if h := e.handedOff(); len(h) != 1 {
		t.Fatalf("hand-offs %v", h)
	}
}

// TestInboxThreshold: the inbox's threshold decides whether a loose
// match is answered from the knowledge base.
func TestInboxThreshold(t *testing.T) {
	const question = "shipping price please"
	probe := newBotEnv(t, kefu.BotSettings{Mode: kefu.BotFirst})
	base, err := probe.k.Base(t.Context(), probe.ws())
	if err != nil {
		t.Fatal(err)
	}
	a, ok := base.AnswerAt(question, 0.0001)
	if !ok || a.Confidence <= 0.05 || a.Confidence >= 0.95 {
		t.Fatalf("probe confidence %v %v: pick another question", a.Confidence, ok)
	}
	for _, c := range []struct {
		threshold float64
		source    string
	}{{a.Confidence / 2, "kb"}, {(a.Confidence + 1) / 2, "fallback"}} {
		e := newBotEnv(t, kefu.BotSettings{Mode: kefu.BotFirst, Threshold: c.threshold})
		e.ask(e.f.Conversation.ID, question)
		bots := e.messages(e.f.Conversation.ID, kefu.SenderBot, kefu.KindText)
		if len(bots) != 1 || bots[0].Meta["source"] != c.source {
			t.Fatalf("threshold %.3f (confidence %.3f): %+v", c.threshold, a.Confidence, bots)
		}
	}
}
