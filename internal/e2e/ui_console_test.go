package e2e

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/kefu-chat/kefu/internal/auth"
	"github.com/kefu-chat/kefu/internal/browsertest"
)

// pollAPI calls GET url until ok accepts the answer.
func pollAPI(t *testing.T, url, token, what string, ok func(map[string]any) bool) map[string]any {
	t.Helper()
	deadline := time.Now().Add(uiWait)
	for {
		out := mustCall(t, 200, "GET", url, token, nil)
		if ok(out) {
			return out
		}
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %s; last answer %v", what, out)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// identify calls Kefu.identify on the host page and says how it ended.
func identify(t *testing.T, ctx context.Context, id, hash string) string {
	t.Helper()
	var res string
	browsertest.Run(t, ctx, wait, chromedp.Evaluate(fmt.Sprintf(`Kefu.identify({id: %s, hash: %s}).then(() => 'accepted', (e) => 'rejected: ' + e.message)`, jsString(id), jsString(hash)), &res,
		func(p *runtime.EvaluateParams) *runtime.EvaluateParams { return p.WithAwaitPromise(true) }))
	return res
}

// TestConsoleInboxEditor: an admin edits the inbox's widget in the
// console (title, greeting, colour, launcher, position, locale, offline
// text, and a pre-chat form built by adding, reordering and removing
// fields); a visitor's widget on a host page then shows the new title and
// the pre-chat form, whose required field is enforced. The admin reveals
// the identity secret and rotates it: identify() signed with the new
// secret is accepted, one signed with the old secret is refused.
func TestConsoleInboxEditor(t *testing.T) {
	s := start(t, t.TempDir(), nil)
	tok := s.login(adminEmail, adminPassword)
	inboxID, inbox := firstInbox(t, s, tok)
	actx := agentTab(t, s, adminEmail, adminPassword)

	field := func(n int, sel string) string { return fmt.Sprintf("#prechat-fields > li:nth-child(%d) %s", n, sel) }
	browsertest.Run(t, actx, uiWait,
		chromedp.Navigate(s.URL+"/app/admin/inboxes"),
		chromedp.WaitVisible("#inbox-form", chromedp.ByQuery),
		setValue("#inbox-form-greeting", "欢迎光临 Acme!"),
		setValue("#inbox-form-color", "#aa3300"),
		setValue("#widget-title", "Acme 客服"),
		setValue("#widget-launcher-text", "Chat with us"),
		setSelect("#widget-position", "left"),
		setSelect("#widget-locale", "en"),
		setValue("#widget-offline-message", "We are away."),
		chromedp.Click("#widget-prechat-enabled", chromedp.ByQuery),
		// email, then a required order_no moved above it, a select, and
		// one more field that is removed again.
		chromedp.Click("#add-prechat-field", chromedp.ByQuery),
		setValue(field(1, ".pf-name"), "email"),
		setSelect(field(1, ".pf-type"), "email"),
		chromedp.Click("#add-prechat-field", chromedp.ByQuery),
		setValue(field(2, ".pf-name"), "order_no"),
		setValue(field(2, ".pf-label"), "Order number"),
		chromedp.Click(field(2, ".pf-required"), chromedp.ByQuery),
		chromedp.Click(field(2, ".pf-up"), chromedp.ByQuery),
		chromedp.Click("#add-prechat-field", chromedp.ByQuery),
		setValue(field(3, ".pf-name"), "topic"),
		setSelect(field(3, ".pf-type"), "select"),
		chromedp.WaitVisible(field(3, ".pf-options"), chromedp.ByQuery),
		setValue(field(3, ".pf-options"), "Billing\n Shipping \n"),
		chromedp.Click("#add-prechat-field", chromedp.ByQuery),
		setValue(field(4, ".pf-name"), "scratch"),
		chromedp.Click(field(4, ".pf-remove"), chromedp.ByQuery),
		chromedp.Click("#inbox-form-submit", chromedp.ByQuery),
	)
	got := pollAPI(t, fmt.Sprintf("%s/api/v1/inboxes/%d", s.URL, inboxID), tok, "the saved widget settings", func(in map[string]any) bool {
		return in["widget"].(map[string]any)["title"] == "Acme 客服"
	})
	w := got["widget"].(map[string]any)
	wantFields := []any{
		map[string]any{"name": "order_no", "label": "Order number", "type": "text", "required": true, "options": []any{}},
		map[string]any{"name": "email", "label": "", "type": "email", "required": false, "options": []any{}},
		map[string]any{"name": "topic", "label": "", "type": "select", "required": false, "options": []any{"Billing", "Shipping"}},
	}
	if got["greeting"] != "欢迎光临 Acme!" || got["color"] != "#aa3300" || w["launcher_text"] != "Chat with us" || w["position"] != "left" ||
		w["locale"] != "en" || w["offline_message"] != "We are away." || w["prechat_enabled"] != true || !reflect.DeepEqual(w["prechat_fields"], wantFields) {
		t.Fatalf("saved inbox %v", got)
	}
	// The editor shows what was saved.
	waitJS(t, actx, "the editor reloaded with the fields in order",
		`[...document.querySelectorAll('#prechat-fields .pf-name')].map(e => e.value).join() === 'order_no,email,topic' && document.querySelector('#widget-title').value === 'Acme 客服'`)

	// A visitor on the website sees the new widget.
	s.goOnline(tok, inbox)
	vctx := browsertest.Tab(t)
	browsertest.Run(t, vctx, wait, chromedp.Navigate(hostPage(t, s.URL+"/widget.js", inbox, "")))
	frame := widgetFrame(t, vctx)
	onPage(t, vctx, shadow+`.host.dataset.position === 'left' && `+shadow+`.querySelector('.label').textContent === 'Chat with us'`, nil)
	browsertest.Run(t, vctx, wait, chromedp.Click(launcher, chromedp.ByJSPath))
	inFrame(t, vctx, frame, `document.querySelector('#title')?.textContent === 'Acme 客服' && document.querySelector('#prechat-form')
		&& document.querySelector('label[for="f-order_no"]').textContent.startsWith('Order number') && document.querySelector('label[for="f-order_no"] .req')
		&& [...document.querySelectorAll('#prechat-form [name]')].map(e => e.name).join() === 'order_no,email,topic'
		&& [...document.querySelectorAll('.msg')].some(e => e.textContent.includes('欢迎光临 Acme!'))
		&& document.documentElement.style.getPropertyValue('--kefu-color') === '#aa3300'
		&& !document.querySelector('#composer')`, nil)
	browsertest.Screenshot(t, vctx, "prechat")
	// The required field is required; answered, the chat opens and the
	// answer is on the contact.
	browsertest.Run(t, vctx, wait, chromedp.Click("#prechat-form button[type=submit]", chromedp.ByQuery, chromedp.FromNode(frame)))
	inFrame(t, vctx, frame, `document.querySelector('#prechat-error').textContent !== ''`, nil)
	browsertest.Run(t, vctx, wait,
		chromedp.SendKeys("#f-order_no", "A-1001", chromedp.ByQuery, chromedp.FromNode(frame)),
		chromedp.Click("#prechat-form button[type=submit]", chromedp.ByQuery, chromedp.FromNode(frame)))
	inFrame(t, vctx, frame, `document.querySelector('#composer') && !document.querySelector('#prechat-form')`, nil)
	contact := fmt.Sprintf("%s/api/v1/contacts/%d", s.URL, num(s.onlyConversation(tok)["contact_id"]))
	pollAPI(t, contact, tok, "the pre-chat answer on the contact", func(c map[string]any) bool {
		return c["attributes"].(map[string]any)["order_no"] == "A-1001"
	})

	// The admin reveals the secret, hides it, and rotates it.
	secretText := `document.querySelector('#inbox-secret').textContent`
	browsertest.Run(t, actx, uiWait, chromedp.Click("#reveal-secret", chromedp.ByQuery))
	waitJS(t, actx, "the secret revealed", `!document.querySelector('#inbox-secret').classList.contains('masked')`)
	oldSecret := evalString(t, actx, secretText)
	if api := mustCall(t, 200, "GET", fmt.Sprintf("%s/api/v1/inboxes/%d/secret", s.URL, inboxID), tok, nil)["secret"]; oldSecret == "" || api != oldSecret {
		t.Fatalf("console shows %q, the API %q", oldSecret, api)
	}
	browsertest.Run(t, actx, uiWait, chromedp.Click("#reveal-secret", chromedp.ByQuery))
	waitJS(t, actx, "the secret hidden again", `document.querySelector('#inbox-secret').classList.contains('masked') && !document.querySelector('#inbox-secret').textContent.includes(`+jsString(oldSecret)+`)`)
	if snippet := evalString(t, actx, `document.querySelector('#hmac-snippet').textContent`); !strings.Contains(snippet, "createHmac('sha256'") || !strings.Contains(snippet, "hash_hmac('sha256'") || strings.Contains(snippet, oldSecret) {
		t.Fatalf("HMAC snippet %q", snippet)
	}
	browsertest.Run(t, actx, uiWait,
		chromedp.Click("#rotate-secret", chromedp.ByQuery),
		chromedp.WaitVisible("#rotate-secret-confirm", chromedp.ByQuery),
		chromedp.Click("#rotate-secret-confirm", chromedp.ByQuery))
	waitJS(t, actx, "the new secret shown", `!document.querySelector('#inbox-secret').classList.contains('masked') && `+secretText+` !== `+jsString(oldSecret)+` && document.querySelector('#rotate-confirm').hidden`)
	newSecret := evalString(t, actx, secretText)
	if api := mustCall(t, 200, "GET", fmt.Sprintf("%s/api/v1/inboxes/%d/secret", s.URL, inboxID), tok, nil)["secret"]; api != newSecret {
		t.Fatalf("console shows %q after rotating, the API %q", newSecret, api)
	}
	browsertest.Screenshot(t, actx, "secret-rotated")

	// The visitor's identify: signed with the old secret, refused; with
	// the new one, accepted and bound to the contact.
	if res := identify(t, vctx, "cust-old", auth.IdentifierHash(oldSecret, "cust-old")); !strings.HasPrefix(res, "rejected") {
		t.Fatalf("identify signed with the old secret: %s", res)
	}
	if res := identify(t, vctx, "cust-new", auth.IdentifierHash(newSecret, "cust-new")); res != "accepted" {
		t.Fatalf("identify signed with the new secret: %s", res)
	}
	pollAPI(t, s.URL+"/api/v1/contacts?q=cust-new", tok, "the identified contact", func(out map[string]any) bool {
		d := out["data"].([]any)
		return len(d) == 1 && d[0].(map[string]any)["external_id"] == "cust-new"
	})
	if d := mustCall(t, 200, "GET", s.URL+"/api/v1/contacts?q=cust-old", tok, nil)["data"].([]any); len(d) != 0 {
		t.Fatalf("the old secret bound a contact: %v", d)
	}
	var errs []string
	browsertest.Run(t, vctx, wait, chromedp.Evaluate(`window.hostErrors`, &errs))
	if len(errs) != 0 {
		t.Fatalf("host page errors %v", errs)
	}
}

// hideTab makes the page believe its tab is hidden (or shown again) and
// fires visibilitychange, as the browser does when the agent switches
// tabs; headless Chromium has no other tab to switch to.
func hideTab(hidden bool) chromedp.Action {
	return chromedp.Evaluate(fmt.Sprintf(`(() => {
		if (!('kefuHidden' in window)) {
			Object.defineProperty(document, 'hidden', { configurable: true, get: () => window.kefuHidden });
			Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => window.kefuHidden ? 'hidden' : 'visible' });
		}
		window.kefuHidden = %t;
		document.dispatchEvent(new Event('visibilitychange'));
		return true;
	})()`, hidden), nil)
}

// TestWorkbenchMarksReadWhenTabShown: a message that arrives in the open
// conversation while the agent's tab is hidden stays unread; when the
// agent comes back to the tab it is marked read, in the list and on the
// server.
func TestWorkbenchMarksReadWhenTabShown(t *testing.T) {
	s := start(t, t.TempDir(), nil)
	tok := s.login(adminEmail, adminPassword)
	ctx := agentTab(t, s, adminEmail, adminPassword)
	browsertest.Run(t, ctx, uiWait, chromedp.Click("#tab-unassigned", chromedp.ByQuery))

	v := s.visitorSession(s.inboxToken(tok), "")
	conv := s.startConversation(v)
	vis := s.dial("/ws/visitor", v.Token, "")
	vis.Send(map[string]any{"type": "send", "conversation_id": conv, "client_msg_id": "v1", "body": "first"})
	vis.Next("ack", wait)
	item := jsString(fmt.Sprintf(`a.conv[data-id="%d"]`, conv))
	convURL := fmt.Sprintf("%s/api/v1/conversations/%d", s.URL, conv)
	waitJS(t, ctx, "the conversation in the list", `!!document.querySelector(`+item+`)`)
	browsertest.Run(t, ctx, uiWait, chromedp.Click(fmt.Sprintf(`a.conv[data-id="%d"]`, conv), chromedp.ByQuery),
		chromedp.WaitVisible(`#messages li[data-seq="1"]`, chromedp.ByQuery))
	pollAPI(t, convURL, tok, "the first message read", func(c map[string]any) bool { return num(c["agent_last_read_seq"]) == 1 })

	browsertest.Run(t, ctx, uiWait, hideTab(true))
	vis.Send(map[string]any{"type": "send", "conversation_id": conv, "client_msg_id": "v2", "body": "while you were away"})
	seq := num(vis.Next("ack", wait)["seq"])
	waitJS(t, ctx, "the message shown, unread while the tab is hidden",
		fmt.Sprintf(`!!document.querySelector('#messages li[data-seq="%d"]') && document.querySelector(%s + ' .badge')?.textContent === '1'`, seq, item))
	if c := mustCall(t, 200, "GET", convURL, tok, nil); num(c["agent_last_read_seq"]) >= seq {
		t.Fatalf("marked read while the tab was hidden: %v", c["agent_last_read_seq"])
	}

	browsertest.Run(t, ctx, uiWait, hideTab(false))
	waitJS(t, ctx, "the badge gone", `!document.querySelector(`+item+` + ' .badge')`)
	pollAPI(t, convURL, tok, "the conversation read on the server", func(c map[string]any) bool { return num(c["agent_last_read_seq"]) == seq })
}

// TestWidgetScrollKeepsReadingPosition: loading earlier messages keeps
// the visitor's place; while they read back, typing and new agent
// messages do not pull them to the end; at the end, new messages are
// followed; and a message they send brings them to it.
func TestWidgetScrollKeepsReadingPosition(t *testing.T) {
	s := start(t, t.TempDir(), nil)
	tok := s.login(adminEmail, adminPassword)
	inbox := s.inboxToken(tok)
	s.goOnline(tok, inbox)
	ctx := browsertest.Tab(t)
	browsertest.Run(t, ctx, wait, chromedp.Navigate(s.URL+"/chat/"+inbox+"?locale=en"),
		chromedp.WaitVisible("#composer", chromedp.ByQuery),
		chromedp.SendKeys("#composer", "Hello\r", chromedp.ByQuery))
	onPage(t, ctx, `document.querySelector('.msg.own[data-seq="1"]')`, nil)
	id := num(s.onlyConversation(tok)["id"])
	msgs := fmt.Sprintf("%s/api/v1/conversations/%d/messages", s.URL, id)
	for i := 1; i <= 70; i++ {
		mustCall(t, 201, "POST", msgs, tok, map[string]any{"body": fmt.Sprintf("line %d", i)})
	}
	// A reload shows the latest page, at the end, with "load earlier".
	browsertest.Run(t, ctx, wait, chromedp.Reload())
	onPage(t, ctx, `[...document.querySelectorAll('.msg .text')].some(e => e.textContent === 'line 70') && document.querySelector('.earlier')`, nil)
	const list = `document.querySelector('#messages')`
	const fromEnd = `(` + list + `.scrollHeight - ` + list + `.scrollTop - ` + list + `.clientHeight)`
	onPage(t, ctx, fromEnd+` < 5`, nil)

	// Read back to the top and load earlier: the message that was at the
	// top stays in view, and the list does not jump to the end.
	var topSeq string
	onPage(t, ctx, `(() => { `+list+`.scrollTop = 0; const m = document.querySelector('.msg[data-seq]'); return m && m.dataset.seq; })()`, &topSeq)
	browsertest.Run(t, ctx, wait, chromedp.Click(".earlier", chromedp.ByQuery))
	inView := fmt.Sprintf(`(() => { const r = document.querySelector('.msg[data-seq="%s"]').getBoundingClientRect(), l = %s.getBoundingClientRect(); return r.top >= l.top - 1 && r.top < l.bottom; })()`, topSeq, list)
	onPage(t, ctx, `document.querySelector('.msg[data-seq="1"]') && `+list+`.scrollTop > 0 && `+fromEnd+` > 200 && `+inView, nil)
	var before float64
	onPage(t, ctx, list+`.scrollTop`, &before)

	// Typing and a new agent message while reading back: the place holds.
	mustCall(t, 204, "POST", fmt.Sprintf("%s/api/v1/conversations/%d/typing", s.URL, id), tok, map[string]any{"on": true})
	onPage(t, ctx, `document.querySelector('.typing')`, nil)
	mustCall(t, 201, "POST", msgs, tok, map[string]any{"body": "while reading"})
	onPage(t, ctx, `[...document.querySelectorAll('.msg .text')].some(e => e.textContent === 'while reading') && !document.querySelector('.typing')`, nil)
	onPage(t, ctx, fmt.Sprintf(`Math.abs(%s.scrollTop - %v) < 2 && %s`, list, before, inView), nil)

	// At the end, new messages are followed.
	onPage(t, ctx, `(() => { `+list+`.scrollTop = `+list+`.scrollHeight; return true; })()`, nil)
	mustCall(t, 201, "POST", msgs, tok, map[string]any{"body": "at the end"})
	onPage(t, ctx, `[...document.querySelectorAll('.msg .text')].some(e => e.textContent === 'at the end') && `+fromEnd+` < 5`, nil)

	// Scrolled up, the visitor sends: the list goes to their message.
	onPage(t, ctx, `(() => { `+list+`.scrollTop = 0; return true; })()`, nil)
	browsertest.Run(t, ctx, wait, chromedp.SendKeys("#composer", "one more thing\r", chromedp.ByQuery))
	onPage(t, ctx, `[...document.querySelectorAll('.msg.own .text')].some(e => e.textContent === 'one more thing') && `+fromEnd+` < 5`, nil)
}
