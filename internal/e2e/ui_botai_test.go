package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/kefu-chat/kefu/internal/browsertest"
	"github.com/kefu-chat/kefu/internal/llm/llmtest"
)

// TestAdminBotDocumentsModelIntents: the admin uploads a Markdown file on
// the documents page and sees it listed; saves language-model settings
// with an API key, after which the API says a key is set while the key
// appears in neither the page nor any response the page received; and
// creates an intent, seeing a client-side and a server-side error first.
func TestAdminBotDocumentsModelIntents(t *testing.T) {
	model := llmtest.New(t) // only its address is stored; nothing calls it here
	s := start(t, t.TempDir(), nil)
	tok := s.login(adminEmail, adminPassword)
	ctx := agentTab(t, s, adminEmail, adminPassword)

	// Documents: a real file through the file input.
	md := filepath.Join(t.TempDir(), "returns-policy.md")
	if err := os.WriteFile(md, []byte("# Returns\n\nItems can be returned within 30 days.\n\n## Refunds\n\nRefunds reach the card in 5 working days.\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	browsertest.Run(t, ctx, uiWait,
		chromedp.Navigate(s.URL+"/app/admin/documents"),
		chromedp.WaitVisible("#doc-empty", chromedp.ByQuery),
		chromedp.SetUploadFiles("#doc-file", []string{md}, chromedp.ByQuery))
	waitJS(t, ctx, "the file read into the form", `document.getElementById('doc-content').value.includes('30 days') && document.getElementById('doc-format').value === 'markdown'`)
	browsertest.Run(t, ctx, uiWait, chromedp.Click("#doc-submit", chromedp.ByQuery))
	waitJS(t, ctx, "the document listed", `(document.querySelector('#doc-table tbody tr')?.textContent || '').includes('returns-policy')`)
	docs := mustCall(t, 200, "GET", s.URL+"/api/v1/bot/documents", tok, nil)["data"].([]any)
	if len(docs) != 1 {
		t.Fatalf("documents %v", docs)
	}
	if d := docs[0].(map[string]any); d["title"] != "returns-policy" || d["format"] != "markdown" || num(d["passages"]) < 1 {
		t.Fatalf("document %v", d)
	}
	browsertest.Screenshot(t, ctx, "documents")

	// Language model: record every response the page gets from now on.
	const key = "sk-ui-test-4f9c2b7e1d"
	browsertest.Run(t, ctx, uiWait,
		chromedp.Navigate(s.URL+"/app/admin/llm"),
		chromedp.WaitVisible("#llm-form", chromedp.ByQuery),
		chromedp.Evaluate(`(() => { window.__bodies = []; const f = window.fetch;
			window.fetch = async (...a) => { const r = await f(...a); window.__bodies.push(await r.clone().text()); return r; }; return true; })()`, nil))
	if txt := evalString(t, ctx, `document.getElementById('llm-key-status').textContent`); txt != "No API key is stored." {
		t.Fatalf("key status before %q", txt)
	}
	browsertest.Run(t, ctx, uiWait,
		chromedp.Click("#llm-enabled", chromedp.ByQuery),
		setValue("#llm-base-url", model.URL),
		setValue("#llm-model", "qwen2.5"),
		chromedp.SendKeys("#llm-key", key, chromedp.ByQuery),
		setValue("#llm-temperature", "0.3"),
		setValue("#llm-daily-token-cap", "50000"),
		setValue("#llm-prompt-price-per-1k", "0.002"),
		chromedp.Click("#llm-submit", chromedp.ByQuery))
	waitJS(t, ctx, "the key reported stored", `document.getElementById('llm-key-status')?.textContent === 'An API key is stored. It is never shown again.' && !!document.getElementById('llm-key-remove')`)
	st := mustCall(t, 200, "GET", s.URL+"/api/v1/bot/llm", tok, nil)
	got := fmt.Sprint(st["enabled"], " ", st["base_url"], " ", st["model"], " ", st["temperature"], " ", st["daily_token_cap"], " ", st["prompt_price_per_1k"], " ", st["api_key_set"])
	if want := fmt.Sprintf("true %s qwen2.5 0.3 50000 0.002 true", model.URL); got != want {
		t.Fatalf("settings\n got %s\nwant %s", got, want)
	}
	usage := mustCall(t, 200, "GET", s.URL+"/api/v1/bot/llm/usage?days=30", tok, nil)
	if strings.Contains(fmt.Sprint(st, usage), key) {
		t.Fatal("the API returned the key")
	}
	waitJS(t, ctx, "the usage table with the cap", `document.querySelectorAll('#llm-usage-table tbody tr').length === 31 && document.getElementById('llm-cap').textContent.includes('50000')`)
	var bodies []string
	browsertest.Run(t, ctx, uiWait, chromedp.Evaluate(`window.__bodies`, &bodies))
	sawSet := false
	for _, b := range bodies {
		if strings.Contains(b, key) {
			t.Fatalf("a response to the page holds the key: %s", b)
		}
		sawSet = sawSet || strings.Contains(b, `"api_key_set":true`)
	}
	if !sawSet {
		t.Fatalf("the recorder saw no settings response (%d bodies): it checks nothing", len(bodies))
	}
	dom := evalString(t, ctx, `document.documentElement.outerHTML + [...document.querySelectorAll('input, textarea, select')].map(e => e.value).join('\n')`)
	if strings.Contains(dom, key) {
		t.Fatal("the key is in the page's DOM")
	}
	if !strings.Contains(dom, "qwen2.5") {
		t.Fatal("the DOM check reads no form values")
	}
	browsertest.Screenshot(t, ctx, "llm")

	// Intents: a bad JSON action is refused in the page, a bad URL by the
	// server, and the fixed form creates the intent.
	browsertest.Run(t, ctx, uiWait,
		chromedp.Navigate(s.URL+"/app/admin/intents"),
		chromedp.WaitVisible("#intent-form", chromedp.ByQuery),
		chromedp.SendKeys("#intent-name", "order status", chromedp.ByQuery),
		setValue("#intent-examples", "where is my order\n我的订单到哪了"),
		setValue("#intent-keywords", "物流"),
		chromedp.Click("#intent-entity-order_number", chromedp.ByQuery),
		setValue("#intent-action", `{"url": "ftp://shop.example/hook", "template": "{{status}}"`),
		chromedp.Click("#intent-submit", chromedp.ByQuery))
	waitJS(t, ctx, "the JSON error", `document.getElementById('intent-error').textContent.startsWith('The webhook action is not valid JSON')`)
	browsertest.Run(t, ctx, uiWait,
		setValue("#intent-action", `{"url": "ftp://shop.example/hook", "template": "{{status}}"}`),
		chromedp.Click("#intent-submit", chromedp.ByQuery))
	waitJS(t, ctx, "the server's error", `document.getElementById('intent-error').textContent.includes('http or https')`)
	browsertest.Run(t, ctx, uiWait,
		setValue("#intent-action", ""),
		setValue("#intent-reply", "请提供订单号，我帮您查询。"),
		chromedp.Click("#intent-submit", chromedp.ByQuery))
	waitJS(t, ctx, "the intent listed", `(document.querySelector('#intent-table tbody tr')?.textContent || '').includes('order status')`)
	its := mustCall(t, 200, "GET", s.URL+"/api/v1/bot/intents", tok, nil)["data"].([]any)
	if len(its) != 1 {
		t.Fatalf("intents %v", its)
	}
	it := its[0].(map[string]any)
	got = fmt.Sprint(it["name"], "|", it["examples"], "|", it["keywords"], "|", it["entities"], "|", it["reply"], "|", it["enabled"], "|", it["action"])
	if want := "order status|[where is my order 我的订单到哪了]|[物流]|[order_number]|请提供订单号，我帮您查询。|true|<nil>"; got != want {
		t.Fatalf("intent\n got %s\nwant %s", got, want)
	}
	browsertest.Screenshot(t, ctx, "intents")
}
