package bot

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/kefu-chat/kefu/internal/kefu"
)

func TestExtractEntities(t *testing.T) {
	got := ExtractEntities("我的订单2026112200017到哪了？手机13812345678，邮箱 li@example.com，2026-01-15下的单")
	want := map[string]string{EntityOrderNumber: "2026112200017", EntityPhone: "13812345678", EntityEmail: "li@example.com", EntityDate: "2026-01-15"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q (all %v)", k, got[k], v, got)
		}
	}
	if e := ExtractEntities("where is order #AB-123456?"); e[EntityOrderNumber] != "AB-123456" {
		t.Errorf("order with hint word: %v", e)
	}
}

// TestIntentActionCallsEndpoint: "where is my order N" is recognised, the
// shop's endpoint is called (signed) with the order number, and the
// answer is the template filled from its JSON reply; a failing endpoint
// gives the failure text, a missing entity asks for it.
func TestIntentActionCallsEndpoint(t *testing.T) {
	const secret = "s3cret"
	shop := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mac := hmac.New(sha256.New, []byte(secret))
		mac.Write([]byte(r.Header.Get("X-Kefu-Timestamp") + "."))
		mac.Write(body)
		if r.Header.Get("X-Kefu-Signature") != "sha256="+hex.EncodeToString(mac.Sum(nil)) {
			http.Error(w, "bad signature", 401)
			return
		}
		var in struct {
			Entities map[string]string `json:"entities"`
		}
		json.Unmarshal(body, &in)
		if in.Entities["order_number"] != "2026112200017" {
			http.Error(w, "unknown order", 404)
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"status": "已发货", "carrier": map[string]any{"name": "顺丰"}})
	}))
	defer shop.Close()
	broken := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.Error(w, "down", 500) }))
	defer broken.Close()

	mk := func(url string) *kefu.Intent {
		return &kefu.Intent{Name: "order_status", Keywords: []string{"订单", "order"}, Patterns: []string{`到哪`}, Entities: []string{EntityOrderNumber}, Enabled: true,
			Action: &kefu.IntentAction{URL: url, Secret: secret, Template: "订单 {{entities.order_number}} {{status}}，承运商 {{carrier.name}}。",
				FailureText: "暂时查不到，请稍后。", MissingText: "请告诉我订单号。"}}
	}
	for _, c := range []struct{ name, url, q, want string }{
		{"ok", shop.URL, "我的订单2026112200017到哪了", "订单 2026112200017 已发货，承运商 顺丰。"},
		{"unknown order is a failure", shop.URL, "我的订单2026112299999到哪了", "暂时查不到，请稍后。"},
		{"endpoint down", broken.URL, "我的订单2026112200017到哪了", "暂时查不到，请稍后。"},
		{"endpoint unreachable", "http://127.0.0.1:1", "订单2026112200017到哪了", "暂时查不到，请稍后。"},
		{"missing entity", shop.URL, "我的订单到哪了", "请告诉我订单号。"},
	} {
		t.Run(c.name, func(t *testing.T) {
			x, err := CompileIntents([]*kefu.Intent{mk(c.url)}, &http.Client{}, time.Now)
			if err != nil {
				t.Fatal(err)
			}
			r, err := (&IntentSource{Intents: x, Prio: 1}).Answer(context.Background(), Question{Text: c.q})
			if err != nil || r == nil {
				t.Fatalf("answer %v %v", r, err)
			}
			if r.Text != c.want || r.Intent != "order_status" {
				t.Fatalf("got %q (%s), want %q", r.Text, r.Intent, c.want)
			}
		})
	}
	x, _ := CompileIntents([]*kefu.Intent{mk(shop.URL)}, &http.Client{}, time.Now)
	if r, _ := (&IntentSource{Intents: x}).Answer(context.Background(), Question{Text: "hello there"}); r != nil {
		t.Fatalf("unrelated text matched: %v", r)
	}
}

func TestFillTemplate(t *testing.T) {
	data := map[string]any{"a": map[string]any{"b": 2.5}, "s": "<b>x</b>"}
	if got, ok := FillTemplate("{{a.b}} {{ s }}", data); !ok || got != "2.5 <b>x</b>" {
		t.Fatalf("%q %v", got, ok)
	}
	if _, ok := FillTemplate("{{missing}}", data); ok {
		t.Fatal("a missing value must fail")
	}
}

func TestWantsPerson(t *testing.T) {
	for _, s := range []string{"转人工", "我要人工服务", "Can I talk to a human?", "AGENT please", "人工", "人工！", "我要人工",
		"人工客服在吗", "帮我找人工", "有真人吗", "I want a real person", "let me speak to someone", "operator", "an agent, please"} {
		if !WantsPerson(s) {
			t.Errorf("%q not recognised", s)
		}
	}
	for _, s := range []string{"怎么退货", "where is my order", "人工智能", "你们是人工智能回答的吗", "安装的人工费怎么算", "人工费多少",
		"这款洗衣机的人工成本为什么这么高，能便宜点吗", "humane treatment of animals", "agentic workflows", "humanity", "cooperator",
		"我想问一下你们的人工湖公园门票"} {
		if WantsPerson(s) {
			t.Errorf("%q taken as a hand-off request", s)
		}
	}
}
