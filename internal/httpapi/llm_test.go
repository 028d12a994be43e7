package httpapi

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/kefu-chat/kefu/internal/bot"
	"github.com/kefu-chat/kefu/internal/kefu"
	"github.com/kefu-chat/kefu/internal/secret"
)

func TestLLMSettingsSQLite(t *testing.T)   { testLLMSettings(t, openSQLite(t)) }
func TestLLMSettingsPostgres(t *testing.T) { testLLMSettings(t, openPostgres(t)) }

const testAPIKey = "sk-proj-TOPSECRET-9f8e7d6c"

func testLLMSettings(t *testing.T, store kefu.Store) {
	box, _ := secret.NewBox(bytes.Repeat([]byte{5}, 32))
	e := newEnv(t, store, func(o *Options) { o.LLM = &bot.LLMProvider{Store: store, Box: box} })
	const path = "/api/v1/bot/llm"

	// Nothing stored: defaults, no key.
	r := e.do("GET", path, e.a.AdminToken, nil)
	if r.Code != 200 || r.obj(t)["enabled"] != false || r.obj(t)["api_key_set"] != false {
		t.Fatalf("defaults %d %s", r.Code, r)
	}
	good := map[string]any{"enabled": true, "base_url": "http://127.0.0.1:11434", "model": "qwen2.5:7b", "api_key": testAPIKey,
		"grounded": true, "temperature": 0.2, "max_tokens": 400, "daily_token_cap": 50000, "prompt_price_per_1k": 0.001,
		"completion_price_per_1k": 0.002, "embedding_model": "bge-m3"}
	r = e.do("PUT", path, e.a.AdminToken, good)
	if r.Code != 200 || r.obj(t)["api_key_set"] != true || r.obj(t)["model"] != "qwen2.5:7b" {
		t.Fatalf("put %d %s", r.Code, r)
	}
	// The key is stored sealed, bound to the workspace.
	ls, err := store.GetLLMSettings(context.Background(), e.a.Workspace.ID)
	if err != nil || bytes.Contains(ls.APIKeyEnc, []byte(testAPIKey)) {
		t.Fatalf("stored %v %v", ls, err)
	}
	if k, err := box.Open(ls.APIKeyEnc, bot.KeyAD(e.a.Workspace.ID)); err != nil || string(k) != testAPIKey {
		t.Fatalf("sealed key %q %v", k, err)
	}
	// Leaving api_key out keeps it; "" removes it.
	delete(good, "api_key")
	good["model"] = "qwen2.5:14b"
	if r = e.do("PUT", path, e.a.AdminToken, good); r.obj(t)["api_key_set"] != true || r.obj(t)["model"] != "qwen2.5:14b" {
		t.Fatalf("keep key %s", r)
	}
	if r = e.do("GET", path, e.a.AdminToken, nil); r.obj(t)["api_key_set"] != true || r.obj(t)["daily_token_cap"] != float64(50000) {
		t.Fatalf("get %s", r)
	}
	good["api_key"] = ""
	if r = e.do("PUT", path, e.a.AdminToken, good); r.obj(t)["api_key_set"] != false {
		t.Fatalf("remove key %s", r)
	}
	good["api_key"] = testAPIKey
	e.do("PUT", path, e.a.AdminToken, good)

	// Validation: each bad field is refused and changes nothing.
	bad := []map[string]any{
		{"enabled": true, "model": "m"},
		{"enabled": true, "base_url": "http://x"},
		{"base_url": "ftp://x", "model": "m"},
		{"base_url": "http://user:pw@x", "model": "m"},
		{"base_url": "http://x", "model": "m", "temperature": 3},
		{"base_url": "http://x", "model": "m", "max_tokens": -1},
		{"base_url": "http://x", "model": "m", "daily_token_cap": -5},
		{"base_url": "http://x", "model": "m", "prompt_price_per_1k": -1},
		{"base_url": "http://x", "model": "m", "timeout_ms": 999999},
		{"base_url": "http://x", "model": "m", "api_key": "a\x00b"},
		{"base_url": "http://x", "model": "m", "system_prompt": strings.Repeat("x", maxSystemPrompt+1)},
		{"base_url": "http://x", "model": "m", "temperature": "hot"},
	}
	for _, b := range bad {
		if r := e.do("PUT", path, e.a.AdminToken, b); r.Code != 400 || (r.errCode() != "invalid" && r.errCode() != "bad_json") {
			t.Errorf("%v: %d %s", b, r.Code, r)
		}
	}
	if r = e.do("GET", path, e.a.AdminToken, nil); r.obj(t)["model"] != "qwen2.5:14b" || r.obj(t)["api_key_set"] != true {
		t.Fatalf("after refused writes %s", r)
	}

	// Admins only; workspace B sees its own (empty) settings.
	if r = e.do("GET", path, e.a.AgentToken, nil); r.Code != 403 {
		t.Fatalf("agent %d", r.Code)
	}
	if r = e.do("PUT", path, e.a.AgentToken, good); r.Code != 403 {
		t.Fatalf("agent put %d", r.Code)
	}
	if r = e.do("GET", path, e.b.AdminToken, nil); r.obj(t)["enabled"] != false || r.obj(t)["api_key_set"] != false {
		t.Fatalf("B sees A's settings: %s", r)
	}

	// Usage per day, newest first, isolated per workspace.
	today := bot.Day(time.Now())
	yesterday := bot.Day(time.Now().Add(-24 * time.Hour))
	for _, u := range []*kefu.LLMUsage{
		{WorkspaceID: e.a.Workspace.ID, Day: today, Requests: 2, PromptTokens: 900, CompletionTokens: 100, Cost: 0.5},
		{WorkspaceID: e.a.Workspace.ID, Day: yesterday, Requests: 1, PromptTokens: 10, CompletionTokens: 5, Cost: 0.25},
	} {
		if _, err := store.AddLLMUsage(context.Background(), u); err != nil {
			t.Fatal(err)
		}
	}
	r = e.do("GET", path+"/usage?days=3", e.a.AdminToken, nil)
	var rep struct {
		Data       []kefu.LLMUsage `json:"data"`
		Total      kefu.LLMUsage   `json:"total"`
		Cap        int64           `json:"daily_token_cap"`
		CapReached bool            `json:"cap_reached"`
	}
	r.into(t, &rep)
	if r.Code != 200 || len(rep.Data) != 3 || rep.Data[0].Day != today || rep.Data[0].PromptTokens != 900 || rep.Data[1].Day != yesterday ||
		rep.Total.Requests != 3 || rep.Total.Cost != 0.75 || rep.Cap != 50000 || rep.CapReached {
		t.Fatalf("usage %d %s", r.Code, r)
	}
	if r = e.do("GET", path+"/usage", e.b.AdminToken, nil); !strings.Contains(r.String(), `"requests":0`) || strings.Contains(r.String(), `"requests":2`) {
		t.Fatalf("B sees A's usage: %s", r)
	}
	for _, q := range []string{"?days=0", "?days=93", "?days=x"} {
		if r = e.do("GET", path+"/usage"+q, e.a.AdminToken, nil); r.Code != 400 {
			t.Errorf("%s: %d", q, r.Code)
		}
	}

	// The key never shows in a response or in the log.
	for _, p := range []string{path, path + "/usage"} {
		if r = e.do("GET", p, e.a.AdminToken, nil); strings.Contains(r.String(), testAPIKey) || strings.Contains(r.String(), "api_key_enc") {
			t.Fatalf("%s leaks the key: %s", p, r)
		}
	}
	if strings.Contains(e.logs.String(), testAPIKey) {
		t.Fatal("the key is in the log")
	}
}

// Without a key box the settings cannot be written.
func TestLLMSettingsUnavailable(t *testing.T) {
	e := newEnv(t, openSQLite(t))
	r := e.do("PUT", "/api/v1/bot/llm", e.a.AdminToken, map[string]any{"base_url": "http://x", "model": "m"})
	if r.Code != 503 {
		t.Fatalf("%d %s", r.Code, r)
	}
}
