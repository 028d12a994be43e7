package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"

	"github.com/kefu-chat/kefu/internal/browsertest"
	"github.com/kefu-chat/kefu/internal/kefutest"
)

// The workbench tests drive the agents' web app in a real Chromium against
// a real server; the visitor side speaks the widget's REST and WebSocket
// protocol from Go (the widget's own UI is tested with the widget).

// uiWait bounds each wait for the page; generous because CI runs every
// package at once under -race on two cores, and a passing wait returns early.
const uiWait = 45 * time.Second

// agentTab logs in through the login page and waits for the list.
func agentTab(t *testing.T, s *server, email, password string) context.Context {
	t.Helper()
	ctx := browsertest.Tab(t)
	browsertest.Run(t, ctx, uiWait,
		chromedp.Navigate(s.URL+"/"),
		chromedp.WaitVisible("#login-email", chromedp.ByQuery),
		chromedp.SendKeys("#login-email", email, chromedp.ByQuery),
		chromedp.SendKeys("#login-password", password, chromedp.ByQuery),
		chromedp.Click("#login-submit", chromedp.ByQuery),
		chromedp.WaitVisible(`.workbench[data-loaded="true"] #conv-list`, chromedp.ByQuery),
	)
	return ctx
}

// waitJS polls expr in the page until it is true.
func waitJS(t *testing.T, ctx context.Context, what, expr string) {
	t.Helper()
	deadline := time.Now().Add(uiWait)
	for {
		var ok bool
		err := chromedp.Run(ctx, chromedp.Evaluate(expr, &ok))
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			browsertest.Screenshot(t, ctx, "timeout")
			var text string
			dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			chromedp.Run(dctx, chromedp.Evaluate(`document.body.innerText`, &text))
			cancel()
			t.Fatalf("waiting for %s: %v (last error %v)\npage text: %s", what, expr, err, text)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func evalString(t *testing.T, ctx context.Context, expr string) string {
	t.Helper()
	var s string
	browsertest.Run(t, ctx, uiWait, chromedp.Evaluate(expr, &s))
	return s
}

// nextBody returns the body of the next message frame on c that is not
// from the visitor itself.
func nextAgentMessage(t *testing.T, c *kefutest.WSClient) kefutest.Frame {
	t.Helper()
	for {
		m := c.Next("message", wait).Message()
		if m["sender_type"] != "contact" {
			return m
		}
	}
}

func jsString(s string) string { return fmt.Sprintf("%q", s) }

// pressEnter presses Enter in the focused element the way a keyboard does:
// a key-down the page may cancel. (chromedp.SendKeys("\r") also injects a
// separate character event, which a page cannot cancel.)
func pressEnter() chromedp.Action {
	return chromedp.ActionFunc(func(ctx context.Context) error {
		down := input.DispatchKeyEvent(input.KeyRawDown).WithKey("Enter").WithCode("Enter").WithWindowsVirtualKeyCode(13)
		if err := down.Do(ctx); err != nil {
			return err
		}
		return input.DispatchKeyEvent(input.KeyUp).WithKey("Enter").WithCode("Enter").WithWindowsVirtualKeyCode(13).Do(ctx)
	})
}

// TestWorkbenchLiveConversation: a conversation a visitor starts appears in
// the agent's list without a reload; the agent opens it and replies with
// Enter; the visitor's socket gets the reply.
func TestWorkbenchLiveConversation(t *testing.T) {
	s := start(t, t.TempDir(), nil)
	adminTok := s.login(adminEmail, adminPassword)
	ctx := agentTab(t, s, adminEmail, adminPassword)
	browsertest.Run(t, ctx, uiWait, chromedp.Click("#tab-unassigned", chromedp.ByQuery))

	v := s.visitorSession(s.inboxToken(adminTok), "")
	conv := s.startConversation(v)
	vis := s.dial("/ws/visitor", v.Token, "")
	vis.Send(map[string]any{"type": "send", "conversation_id": conv, "client_msg_id": "v1", "body": "你好, my order is late"})
	vis.Next("ack", wait)

	item := fmt.Sprintf(`a.conv[data-id="%d"]`, conv)
	waitJS(t, ctx, "the conversation in the list with its preview",
		fmt.Sprintf(`(document.querySelector(%s)?.textContent || '').includes('my order is late')`, jsString(item)))
	waitJS(t, ctx, "an unread badge", fmt.Sprintf(`document.querySelector(%s + ' .badge')?.textContent === '1'`, jsString(item)))

	browsertest.Run(t, ctx, uiWait,
		chromedp.Click(item, chromedp.ByQuery),
		chromedp.WaitVisible(`#messages li[data-seq="1"]`, chromedp.ByQuery),
		chromedp.SendKeys("#composer", "Sorry about that, checking now.", chromedp.ByQuery),
		pressEnter(),
	)
	if m := nextAgentMessage(t, vis); m["body"] != "Sorry about that, checking now." || m["kind"] != "text" {
		t.Fatalf("visitor got %v", m)
	}
	waitJS(t, ctx, "the reply in the view", `[...document.querySelectorAll('#messages li.msg.out')].some(li => li.textContent.includes('checking now'))`)

	// The visitor reads it; the receipt shows. The visitor types; the agent sees it.
	vis.Send(map[string]any{"type": "read", "conversation_id": conv, "seq": 2})
	waitJS(t, ctx, "the read receipt", `document.querySelector('#messages li[data-seq="2"] .receipt')?.textContent !== ''`)
	vis.Send(map[string]any{"type": "typing", "conversation_id": conv, "on": true})
	waitJS(t, ctx, "the typing indicator", `!document.getElementById('typing').hidden`)
	// And the agent's typing reaches the visitor.
	browsertest.Run(t, ctx, uiWait, chromedp.SendKeys("#composer", "x", chromedp.ByQuery))
	if f := vis.Next("typing", wait); f["sender_type"] != "agent" || f["on"] != true {
		t.Fatalf("visitor typing frame %v", f)
	}
	browsertest.Screenshot(t, ctx, "workbench")
}

// TestWorkbenchShowsVisitorMarkupAsText: markup and script a visitor sends
// is shown literally and never runs; only http(s) links become links.
func TestWorkbenchShowsVisitorMarkupAsText(t *testing.T) {
	s := start(t, t.TempDir(), nil)
	adminTok := s.login(adminEmail, adminPassword)
	v := s.visitorSession(s.inboxToken(adminTok), "")
	conv := s.startConversation(v)
	payloads := []string{
		`<img src=x onerror="window.__pwned=1">`,
		`<script>window.__pwned=2</script>`,
		`<a href="javascript:window.__pwned=3">click me</a> javascript:window.__pwned=4`,
		`<svg onload="window.__pwned=5"></svg> see https://example.com/a?b=1&c=<b>2</b>`,
	}
	for i, p := range payloads {
		mustCall(t, 201, "POST", fmt.Sprintf("%s/api/v1/widget/conversations/%d/messages", s.URL, conv), v.Token, map[string]any{"body": p, "client_msg_id": fmt.Sprint("x", i)})
	}
	// The visitor's name is shown too: make it markup as well.
	mustCall(t, 200, "PATCH", s.URL+"/api/v1/widget/me", v.Token, map[string]any{"name": `<img src=y onerror="window.__pwned=6">`})

	ctx := agentTab(t, s, adminEmail, adminPassword)
	browsertest.Run(t, ctx, uiWait,
		chromedp.Navigate(fmt.Sprintf("%s/app/conversations/%d", s.URL, conv)),
		chromedp.WaitVisible(fmt.Sprintf(`#messages li[data-seq="%d"]`, len(payloads)), chromedp.ByQuery),
		chromedp.WaitVisible("#contact-name", chromedp.ByQuery),
	)
	var pwned bool
	browsertest.Run(t, ctx, uiWait, chromedp.Evaluate(`window.__pwned !== undefined`, &pwned))
	if pwned {
		t.Fatalf("visitor script ran: window.__pwned = %s", evalString(t, ctx, `String(window.__pwned)`))
	}
	text := evalString(t, ctx, `document.getElementById('messages').innerText`)
	for _, p := range payloads[:3] {
		if !strings.Contains(text, p) {
			t.Errorf("payload %q is not shown literally; messages read %q", p, text)
		}
	}
	if got := evalString(t, ctx, `document.getElementById('contact-name').value`); got != `<img src=y onerror="window.__pwned=6">` {
		t.Errorf("contact name field holds %q", got)
	}
	// No element came from the payloads; the one https link is safe.
	counts := evalString(t, ctx, `(() => { const m = document.getElementById('messages');
		const links = [...m.querySelectorAll('a')];
		return [m.querySelectorAll('img,script,svg,b').length, links.length,
			links.map(a => a.protocol + '|' + a.rel + '|' + a.target).join(',')].join(';'); })()`)
	if counts != "0;1;https:|noopener noreferrer|_blank" {
		t.Fatalf("elements in the message list: %s (want no img/script/svg/b and one https link with rel=noopener noreferrer)", counts)
	}
	browsertest.Screenshot(t, ctx, "xss-as-text")
}

// TestAdminPagesForbiddenToAgents: a plain agent gets the forbidden view
// and no admin data on every admin page, and 403 from admin APIs.
func TestAdminPagesForbiddenToAgents(t *testing.T) {
	s := start(t, t.TempDir(), nil)
	adminTok := s.login(adminEmail, adminPassword)
	mustCall(t, 201, "POST", s.URL+"/api/v1/canned_responses", adminTok, map[string]any{"short_code": "secretcode", "content": "admin-only text"})
	mustCall(t, 201, "POST", s.URL+"/api/v1/agents", adminTok, map[string]any{"email": "li@example.com", "name": "Li", "password": "agent-password-1", "role": "agent"})
	agentTok := s.login("li@example.com", "agent-password-1")

	ctx := agentTab(t, s, "li@example.com", "agent-password-1")
	if n := evalString(t, ctx, `String(document.querySelectorAll('nav a[href^="/app/admin"]').length)`); n != "0" {
		t.Errorf("agent sees %s admin links", n)
	}
	for _, page := range []string{"agents", "inboxes", "canned", "labels", "account"} {
		browsertest.Run(t, ctx, uiWait,
			chromedp.Navigate(s.URL+"/app/admin/"+page),
			chromedp.WaitVisible("#forbidden", chromedp.ByQuery))
		html := evalString(t, ctx, `document.getElementById('main').innerHTML`)
		for _, leak := range []string{adminEmail, "secretcode", "admin-only text", "data-inbox", "<table", "<form"} {
			if strings.Contains(html, leak) {
				t.Errorf("/app/admin/%s shows %q to an agent", page, leak)
			}
		}
	}
	for _, c := range []struct{ method, path string }{
		{"POST", "/api/v1/agents"}, {"PATCH", "/api/v1/agents/1"}, {"POST", "/api/v1/inboxes"}, {"PATCH", "/api/v1/inboxes/1"},
		{"POST", "/api/v1/inboxes/1/rotate_secret"}, {"POST", "/api/v1/canned_responses"}, {"PATCH", "/api/v1/canned_responses/1"},
		{"DELETE", "/api/v1/canned_responses/1"}, {"POST", "/api/v1/labels"}, {"PATCH", "/api/v1/labels/1"}, {"DELETE", "/api/v1/labels/1"},
		{"PATCH", "/api/v1/workspace"},
	} {
		if code, out := call(t, c.method, s.URL+c.path, agentTok, map[string]any{}); code != 403 {
			t.Errorf("%s %s as an agent: %d %v, want 403", c.method, c.path, code, out)
		}
	}
	// The same pages render for the admin.
	actx := agentTab(t, s, adminEmail, adminPassword)
	browsertest.Run(t, actx, uiWait,
		chromedp.Navigate(s.URL+"/app/admin/canned"),
		chromedp.WaitVisible("#canned-table", chromedp.ByQuery))
	if !strings.Contains(evalString(t, actx, `document.getElementById('canned-table').innerText`), "secretcode") {
		t.Error("the admin does not see the canned responses")
	}
	browsertest.Run(t, actx, uiWait, chromedp.Navigate(s.URL+"/app/admin/inboxes"), chromedp.WaitVisible("#install-snippet", chromedp.ByQuery))
	snippet := evalString(t, actx, `document.getElementById('install-snippet').textContent`)
	if !strings.HasPrefix(snippet, `<script src="`+s.URL+`/widget.js" data-inbox="`) || !strings.HasSuffix(snippet, `" async></script>`) {
		t.Errorf("install snippet %q", snippet)
	}
}

// TestWorkbenchCannedNoteResolveSearch: /shortcut inserts a canned
// response; a private note never reaches the visitor; Alt+R resolves;
// search finds a Chinese substring of a message.
func TestWorkbenchCannedNoteResolveSearch(t *testing.T) {
	s := start(t, t.TempDir(), nil)
	adminTok := s.login(adminEmail, adminPassword)
	mustCall(t, 201, "POST", s.URL+"/api/v1/canned_responses", adminTok, map[string]any{"short_code": "thanks", "content": "感谢您的耐心等待！"})
	mustCall(t, 201, "POST", s.URL+"/api/v1/canned_responses", adminTok, map[string]any{"short_code": "hello", "content": "Hello there"})
	v := s.visitorSession(s.inboxToken(adminTok), "")
	conv := s.startConversation(v)
	mustCall(t, 201, "POST", fmt.Sprintf("%s/api/v1/widget/conversations/%d/messages", s.URL, conv), v.Token, map[string]any{"body": "请问我的订单什么时候发货？"})
	vis := s.dial("/ws/visitor", v.Token, fmt.Sprintf("%d:1", conv))
	vis.Next("resumed", wait)

	ctx := agentTab(t, s, adminEmail, adminPassword)
	browsertest.Run(t, ctx, uiWait,
		chromedp.Navigate(fmt.Sprintf("%s/app/conversations/%d", s.URL, conv)),
		chromedp.WaitVisible(`#messages li[data-seq="1"]`, chromedp.ByQuery),
		chromedp.SendKeys("#composer", "/tha", chromedp.ByQuery),
		chromedp.WaitVisible(`#canned-popup li[data-code="thanks"]`, chromedp.ByQuery),
		pressEnter(),
	)
	if got := evalString(t, ctx, `document.getElementById('composer').value`); got != "感谢您的耐心等待！" {
		t.Fatalf("composer after choosing the canned response: %q", got)
	}
	browsertest.Run(t, ctx, uiWait, pressEnter())
	if m := nextAgentMessage(t, vis); m["body"] != "感谢您的耐心等待！" {
		t.Fatalf("visitor got %v", m)
	}

	// A private note, then a reply: the visitor's next message is the reply.
	browsertest.Run(t, ctx, uiWait,
		chromedp.Click("#mode-note", chromedp.ByQuery),
		chromedp.SendKeys("#composer", "VIP: refund approved 内部", chromedp.ByQuery),
		pressEnter(),
		chromedp.WaitVisible(`#messages li.msg.note`, chromedp.ByQuery),
		chromedp.Click("#mode-reply", chromedp.ByQuery),
		chromedp.SendKeys("#composer", "Your parcel ships today.", chromedp.ByQuery),
		pressEnter(),
	)
	if m := nextAgentMessage(t, vis); m["body"] != "Your parcel ships today." {
		t.Fatalf("visitor's next message is %v; the note must never reach it", m)
	}
	for _, f := range vis.Frames() {
		if f.Type() == "message" && strings.Contains(fmt.Sprint(f.Message()["body"]), "VIP") {
			t.Fatalf("the note reached the visitor: %v", f)
		}
	}
	if !strings.Contains(evalString(t, ctx, `document.querySelector('#messages li.msg.note').innerText`), "VIP: refund approved 内部") {
		t.Error("the note is not shown as a note")
	}

	// Alt+R resolves the open conversation.
	browsertest.Run(t, ctx, uiWait,
		chromedp.Click("#messages", chromedp.ByQuery),
		chromedp.KeyEvent("r", chromedp.KeyModifiers(input.ModifierAlt)),
		chromedp.WaitVisible("#reopen", chromedp.ByQuery))
	if out := mustCall(t, 200, "GET", fmt.Sprintf("%s/api/v1/conversations/%d", s.URL, conv), adminTok, nil); out["status"] != "resolved" {
		t.Fatalf("status after Alt+R: %v", out["status"])
	}

	// Search finds a Chinese substring.
	browsertest.Run(t, ctx, uiWait,
		chromedp.SendKeys("#search", "订单什么", chromedp.ByQuery),
		chromedp.WaitVisible("#search-messages li", chromedp.ByQuery))
	if got := evalString(t, ctx, `document.getElementById('search-messages').innerText`); !strings.Contains(got, "请问我的订单什么时候发货？") {
		t.Fatalf("search results %q", got)
	}
	browsertest.Screenshot(t, ctx, "canned-note-search")
}
