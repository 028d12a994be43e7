package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/kefu-chat/kefu/internal/browsertest"
)

// The accessibility basics the issue asks for ("labelled controls, focus
// order, usable by keyboard"), the workbench's list filters and actions,
// its browser notifications, and the widget following the agents'
// availability while it is open.

// unnamedJS lists, as a JSON array, every visible control under ROOT
// (a document or a shadow root) without an accessible name: inputs,
// selects, textareas and buttons need aria-label, aria-labelledby, a
// <label>, a title, or (buttons) their text; images need alt. It is a
// plain approximation of the accessible-name rules, strict on purpose:
// a placeholder is not a name.
const unnamedJS = `((root) => {
	const text = (s) => (s || '').replace(/\s+/g, ' ').trim();
	const byId = (id) => (root.getElementById ? root.getElementById(id) : root.querySelector('#' + CSS.escape(id)));
	const visible = (el) => {
		if (el.closest('[hidden], [aria-hidden="true"]') || el.type === 'hidden') return false;
		const cs = getComputedStyle(el);
		return el.getClientRects().length > 0 && cs.visibility !== 'hidden' && cs.display !== 'none';
	};
	const named = (el) => {
		if (text(el.getAttribute('aria-label'))) return true;
		const ids = text(el.getAttribute('aria-labelledby'));
		if (ids && ids.split(' ').some((id) => text(byId(id)?.textContent))) return true;
		if (el.labels && [...el.labels].some((l) => text(l.textContent))) return true;
		if (text(el.getAttribute('title'))) return true;
		if (el.tagName === 'BUTTON' && text(el.textContent)) return true;
		if (el.tagName === 'INPUT' && /^(submit|button|reset)$/.test(el.type) && text(el.value)) return true;
		return false;
	};
	const desc = (el) => el.outerHTML.slice(0, 160);
	const bad = [];
	for (const el of root.querySelectorAll('input, select, textarea, button')) if (visible(el) && !named(el)) bad.push(desc(el));
	for (const el of root.querySelectorAll('img')) if (!el.hasAttribute('alt')) bad.push(desc(el));
	return JSON.stringify(bad);
})(ROOT)`

func unnamedExpr(root string) string { return strings.Replace(unnamedJS, "ROOT", root, 1) }

// checkNamed fails the test with the controls of a view that have no
// accessible name. frame may be nil for the top document.
func checkNamed(t *testing.T, ctx context.Context, view string, frame *cdp.Node, root string) {
	t.Helper()
	if bad := unnamed(t, ctx, view, frame, root); len(bad) > 0 {
		browsertest.Screenshot(t, ctx, "unnamed")
		t.Errorf("%s: %d controls without an accessible name:\n  %s", view, len(bad), strings.Join(bad, "\n  "))
	}
}

func unnamed(t *testing.T, ctx context.Context, view string, frame *cdp.Node, root string) []string {
	t.Helper()
	var out string
	opts := []chromedp.PollOption{chromedp.WithPollingTimeout(wait)}
	if frame != nil {
		opts = append(opts, chromedp.WithPollingInFrame(frame))
	}
	browsertest.Run(t, ctx, uiWait, chromedp.Poll(unnamedExpr(root), &out, opts...))
	var bad []string
	if err := json.Unmarshal([]byte(out), &bad); err != nil {
		t.Fatalf("%s: %v in %q", view, err, out)
	}
	return bad
}

// key presses one key the way a keyboard does: one key-down, carrying
// the text the key types if any (so a page that cancels the key-down
// stops the text too, and Enter or Space activates a button), then the
// key-up. With a modifier the key types nothing.
func key(k, code string, vk int64, mods input.Modifier) chromedp.Action {
	return chromedp.ActionFunc(func(ctx context.Context) error {
		text := map[string]string{"Enter": "\r", " ": " "}[k]
		if len(k) == 1 && k != " " {
			text = k
		}
		down := input.DispatchKeyEvent(input.KeyRawDown)
		if text != "" && mods&^input.ModifierShift == 0 {
			down = input.DispatchKeyEvent(input.KeyDown).WithText(text).WithUnmodifiedText(text)
		}
		if err := down.WithKey(k).WithCode(code).WithWindowsVirtualKeyCode(vk).WithModifiers(mods).Do(ctx); err != nil {
			return err
		}
		return input.DispatchKeyEvent(input.KeyUp).WithKey(k).WithCode(code).WithWindowsVirtualKeyCode(vk).WithModifiers(mods).Do(ctx)
	})
}

// TestA11yControlsHaveNames runs the accessible-name check over the
// widget (launcher and panel, chat and offline form), the workbench with
// a conversation open, and every page of the admin console.
func TestA11yControlsHaveNames(t *testing.T) {
	s := start(t, t.TempDir(), nil)
	tok := s.login(adminEmail, adminPassword)
	inbox := s.inboxToken(tok)

	// The widget with no agent online: the offline form.
	host := hostPage(t, s.URL+"/widget.js", inbox, "")
	visitor := browsertest.Tab(t)
	browsertest.Run(t, visitor, wait, chromedp.Navigate(host))
	frame := widgetFrame(t, visitor)
	browsertest.Run(t, visitor, wait, chromedp.Click(launcher, chromedp.ByJSPath))
	inFrame(t, visitor, frame, `document.querySelector('#offline-form #f-email')`, nil)
	checkNamed(t, visitor, "widget launcher", nil, shadow)
	checkNamed(t, visitor, "widget offline form", frame, "document")

	// With an agent online: the chat and its composer, after a message.
	ag := s.goOnline(tok, inbox)
	defer ag.Close()
	browsertest.Run(t, visitor, wait, chromedp.Reload())
	frame = widgetFrame(t, visitor)
	browsertest.Run(t, visitor, wait, chromedp.Click(launcher, chromedp.ByJSPath))
	inFrame(t, visitor, frame, `document.querySelector('#composer')`, nil)
	browsertest.Run(t, visitor, wait, chromedp.SendKeys("#composer", "hello\r", chromedp.ByQuery, chromedp.FromNode(frame)))
	inFrame(t, visitor, frame, `document.querySelector('.msg.own[data-seq]')`, nil)
	checkNamed(t, visitor, "widget chat", frame, "document")
	checkNamed(t, visitor, "widget launcher (open)", nil, shadow)
	// Resolved: the rating card.
	conv := num(s.onlyConversation(tok)["id"])
	mustCall(t, 200, "PATCH", fmt.Sprintf("%s/api/v1/conversations/%d", s.URL, conv), tok, map[string]any{"status": "resolved"})
	inFrame(t, visitor, frame, `document.querySelector('#rating .star')`, nil)
	checkNamed(t, visitor, "widget rating card", frame, "document")

	// The workbench, with that conversation open, and its dialogs.
	mustCall(t, 201, "POST", s.URL+"/api/v1/teams", tok, map[string]any{"name": "Sales"})
	mustCall(t, 201, "POST", s.URL+"/api/v1/canned_responses", tok, map[string]any{"short_code": "hi", "content": "Hello"})
	mustCall(t, 201, "POST", s.URL+"/api/v1/labels", tok, map[string]any{"name": "vip", "color": "#aa0000"})
	ctx := agentTab(t, s, adminEmail, adminPassword)
	checkNamed(t, ctx, "workbench list", nil, "document")
	browsertest.Run(t, ctx, uiWait,
		chromedp.Navigate(fmt.Sprintf("%s/app/conversations/%d", s.URL, conv)),
		chromedp.WaitVisible(`#messages li[data-seq="1"]`, chromedp.ByQuery),
		chromedp.WaitVisible("#contact-form", chromedp.ByQuery))
	checkNamed(t, ctx, "workbench conversation", nil, "document")
	for _, d := range []struct{ open, dialog string }{{"#transfer", "#transfer-form"}, {"#reopen", "#resolve"}, {"#snooze", "#snooze-until"}} {
		browsertest.Run(t, ctx, uiWait, chromedp.Evaluate(`document.querySelector(`+jsString(d.open)+`).click()`, nil), chromedp.WaitVisible(d.dialog, chromedp.ByQuery))
		checkNamed(t, ctx, "workbench after "+d.open, nil, "document")
		browsertest.Run(t, ctx, uiWait, chromedp.Evaluate(`document.querySelector('.overlay')?.remove()`, nil))
	}
	browsertest.Run(t, ctx, uiWait, chromedp.Evaluate(`document.activeElement.blur()`, nil), key("?", "Slash", 191, input.ModifierShift),
		chromedp.WaitVisible("#help", chromedp.ByQuery))
	checkNamed(t, ctx, "shortcuts help", nil, "document")

	// Every admin page; the inbox editor with a pre-chat field row.
	for _, p := range []string{"agents", "inboxes", "teams", "routing", "rules", "kb", "documents", "intents", "llm", "bot", "botreports", "canned", "labels", "account"} {
		browsertest.Run(t, ctx, uiWait, chromedp.Navigate(s.URL+"/app/admin/"+p))
		sec := jsString("#admin-" + p)
		waitJS(t, ctx, "the "+p+" page", `!!document.querySelector(`+sec+`)?.querySelector('input, select, button, table, h2')`)
		if p == "inboxes" {
			browsertest.Run(t, ctx, uiWait, chromedp.Click("#add-prechat-field", chromedp.ByQuery))
			waitJS(t, ctx, "a pre-chat field row", `document.querySelectorAll('#prechat-fields li').length > 0`)
		}
		checkNamed(t, ctx, "admin page "+p, nil, "document")
	}
	browsertest.Run(t, ctx, uiWait, chromedp.Navigate(s.URL+"/app/settings"))
	waitJS(t, ctx, "the settings page", `!!document.querySelector('#main form')`)
	checkNamed(t, ctx, "settings", nil, "document")

	// The check itself finds what it should: a bare button, an input
	// named only by a placeholder, an image without alt.
	browsertest.Run(t, ctx, uiWait, chromedp.Evaluate(`document.getElementById('main').insertAdjacentHTML('beforeend',
		'<button id="probe-b"></button><input id="probe-i" placeholder="x"><img id="probe-img" src="data:,">'
		+ '<label>ok <input id="probe-ok"></label><span hidden><button></button></span>')`, nil))
	if bad := unnamed(t, ctx, "probe", nil, "document"); len(bad) != 3 || !strings.Contains(strings.Join(bad, ""), "probe-img") {
		t.Errorf("the check found %q, want the 3 probes", bad)
	}
}

// TestA11yWidgetKeyboard: from the host page Tab reaches the launcher;
// Enter (and Space) opens the panel with focus in the composer; Esc
// closes it and focus is back on the launcher.
func TestA11yWidgetKeyboard(t *testing.T) {
	s := start(t, t.TempDir(), nil)
	tok := s.login(adminEmail, adminPassword)
	inbox := s.inboxToken(tok)
	ag := s.goOnline(tok, inbox)
	defer ag.Close()
	host := hostPage(t, s.URL+"/widget.js", inbox, "")
	ctx := browsertest.Tab(t)
	browsertest.Run(t, ctx, wait, chromedp.Navigate(host))
	frame := widgetFrame(t, ctx)

	const onLauncher = `document.activeElement === document.querySelector('[data-kefu]') && ` + shadow + `.activeElement === ` + launcher
	for i := 0; ; i++ {
		var ok bool
		browsertest.Run(t, ctx, wait, chromedp.Evaluate(onLauncher, &ok))
		if ok {
			break
		}
		if i == 10 {
			t.Fatalf("Tab never reached the launcher; focus is on %s", evalString(t, ctx, `document.activeElement.outerHTML.slice(0, 120)`))
		}
		browsertest.Run(t, ctx, wait, key("Tab", "Tab", 9, 0))
	}

	for _, open := range []chromedp.Action{key("Enter", "Enter", 13, 0), key(" ", "Space", 32, 0)} {
		browsertest.Run(t, ctx, wait, open)
		onPage(t, ctx, shadow+`?.querySelector('iframe.open') && `+launcher+`.getAttribute('aria-expanded') === 'true'`, nil)
		inFrame(t, ctx, frame, `document.hasFocus() && document.activeElement?.id === 'composer'`, nil)
		browsertest.Run(t, ctx, wait, chromedp.KeyEvent(kb.Escape))
		onPage(t, ctx, `!`+shadow+`?.querySelector('iframe.open') && `+launcher+`.getAttribute('aria-expanded') === 'false' && `+onLauncher, nil)
	}
}

// convIDs is the order of the conversation list as shown.
const convIDs = `[...document.querySelectorAll('#conv-list a.conv')].map((a) => a.dataset.id).join(',')`

// TestA11yWorkbenchKeyboard: an agent logs in with the keyboard alone,
// walks the list with j/k and Alt+↓/↑, and resolves with Alt+R.
func TestA11yWorkbenchKeyboard(t *testing.T) {
	s := start(t, t.TempDir(), nil)
	tok := s.login(adminEmail, adminPassword)
	inbox := s.inboxToken(tok)
	for i := 0; i < 3; i++ {
		v := s.visitorSession(inbox, "")
		c := s.startConversation(v)
		mustCall(t, 201, "POST", fmt.Sprintf("%s/api/v1/widget/conversations/%d/messages", s.URL, c), v.Token, map[string]any{"body": fmt.Sprint("question ", i)})
	}

	ctx := browsertest.Tab(t)
	browsertest.Run(t, ctx, uiWait, chromedp.Navigate(s.URL+"/"), chromedp.WaitVisible("#login-email", chromedp.ByQuery))
	waitJS(t, ctx, "focus in the email field", `document.activeElement?.id === 'login-email'`)
	browsertest.Run(t, ctx, uiWait, chromedp.KeyEvent(adminEmail), key("Tab", "Tab", 9, 0))
	waitJS(t, ctx, "focus in the password field", `document.activeElement?.id === 'login-password'`)
	browsertest.Run(t, ctx, uiWait, chromedp.KeyEvent(adminPassword), key("Enter", "Enter", 13, 0),
		chromedp.WaitVisible(`.workbench[data-loaded="true"] #conv-list`, chromedp.ByQuery))

	// The conversations wait unassigned; the tab is reached by keyboard too.
	browsertest.Run(t, ctx, uiWait, chromedp.Focus("#tab-unassigned", chromedp.ByQuery), key("Enter", "Enter", 13, 0))
	waitJS(t, ctx, "three conversations", convIDs+`.split(',').filter(Boolean).length === 3`)
	ids := strings.Split(evalString(t, ctx, convIDs), ",")
	selected := func(id string) {
		t.Helper()
		waitJS(t, ctx, "conversation "+id+" selected",
			fmt.Sprintf(`document.querySelector('#conv-list a.conv.selected')?.dataset.id === %q && location.pathname.endsWith('/' + %q) && !!document.querySelector('#messages li')`, id, id))
	}
	// Single letters work outside text fields: Esc takes focus from the
	// composer (where opening a conversation puts it) to the messages.
	leaveComposer := func() {
		t.Helper()
		waitJS(t, ctx, "focus in the composer", `document.activeElement?.id === 'composer'`)
		browsertest.Run(t, ctx, uiWait, key("Escape", "Escape", 27, 0))
		waitJS(t, ctx, "focus on the messages", `document.activeElement?.id === 'messages'`)
	}
	browsertest.Run(t, ctx, uiWait, chromedp.Evaluate(`document.activeElement.blur()`, nil), key("j", "KeyJ", 74, 0))
	selected(ids[0])
	leaveComposer()
	browsertest.Run(t, ctx, uiWait, key("j", "KeyJ", 74, 0))
	selected(ids[1])
	leaveComposer()
	browsertest.Run(t, ctx, uiWait, key("k", "KeyK", 75, 0))
	selected(ids[0])
	// Alt shortcuts work anywhere, the composer included.
	browsertest.Run(t, ctx, uiWait, key("ArrowDown", "ArrowDown", 40, input.ModifierAlt))
	selected(ids[1])
	browsertest.Run(t, ctx, uiWait, key("ArrowDown", "ArrowDown", 40, input.ModifierAlt))
	selected(ids[2])
	browsertest.Run(t, ctx, uiWait, key("ArrowUp", "ArrowUp", 38, input.ModifierAlt))
	selected(ids[1])

	// A dialog takes focus and gives it back when Esc closes it.
	leaveComposer()
	browsertest.Run(t, ctx, uiWait, key("?", "Slash", 191, input.ModifierShift))
	waitJS(t, ctx, "focus in the shortcuts help", `!!document.activeElement?.closest('#help')`)
	browsertest.Run(t, ctx, uiWait, key("Escape", "Escape", 27, 0))
	waitJS(t, ctx, "focus back on the messages", `!document.getElementById('help') && document.activeElement?.id === 'messages'`)

	browsertest.Run(t, ctx, uiWait, key("r", "KeyR", 82, input.ModifierAlt), chromedp.WaitVisible("#reopen", chromedp.ByQuery))
	pollAPI(t, s.URL+"/api/v1/conversations/"+ids[1], tok, "resolved by Alt+R", func(c map[string]any) bool { return c["status"] == "resolved" })
	browsertest.Run(t, ctx, uiWait, key("r", "KeyR", 82, input.ModifierAlt), chromedp.WaitVisible("#resolve", chromedp.ByQuery))
	pollAPI(t, s.URL+"/api/v1/conversations/"+ids[1], tok, "reopened by Alt+R", func(c map[string]any) bool { return c["status"] == "open" })
}

// TestWorkbenchFiltersAndActions: the status and inbox filters show the
// right conversations; reopen, snooze and assign from the conversation
// view; the contact panel's edits reach the server.
func TestWorkbenchFiltersAndActions(t *testing.T) {
	s := start(t, t.TempDir(), nil)
	tok := s.login(adminEmail, adminPassword)
	li := num(mustCall(t, 201, "POST", s.URL+"/api/v1/agents", tok, map[string]any{"email": "li@example.com", "name": "Li", "password": "agent-password-1", "role": "agent"})["id"])
	second := mustCall(t, 201, "POST", s.URL+"/api/v1/inboxes", tok, map[string]any{"name": "Second"})
	newConv := func(inbox string) (int64, visitor) {
		v := s.visitorSession(inbox, "")
		c := s.startConversation(v)
		mustCall(t, 201, "POST", fmt.Sprintf("%s/api/v1/widget/conversations/%d/messages", s.URL, c), v.Token, map[string]any{"body": "hi"})
		return c, v
	}
	first := s.inboxToken(tok)
	open, openV := newConv(first)
	pending, _ := newConv(first)
	resolved, _ := newConv(first)
	snoozed, _ := newConv(first)
	other, _ := newConv(second["public_token"].(string))
	patch := func(id int64, body map[string]any) {
		mustCall(t, 200, "PATCH", fmt.Sprintf("%s/api/v1/conversations/%d", s.URL, id), tok, body)
	}
	patch(pending, map[string]any{"status": "pending"})
	patch(resolved, map[string]any{"status": "resolved"})
	patch(snoozed, map[string]any{"status": "snoozed", "snoozed_until": time.Now().Add(24 * time.Hour).UTC().Format(time.RFC3339)})

	ctx := agentTab(t, s, adminEmail, adminPassword)
	browsertest.Run(t, ctx, uiWait, chromedp.Click("#tab-all", chromedp.ByQuery))
	list := func(what string, ids ...int64) {
		t.Helper()
		want := make([]string, len(ids))
		for i, id := range ids {
			want[i] = fmtInt(id)
		}
		waitJS(t, ctx, what+": "+strings.Join(want, ","), convIDs+`.split(',').filter(Boolean).sort().join(',') === `+jsString(strings.Join(sortStrings(want), ",")))
	}
	list("open conversations", open, other)
	for _, c := range []struct {
		status string
		ids    []int64
	}{{"pending", []int64{pending}}, {"resolved", []int64{resolved}}, {"snoozed", []int64{snoozed}}, {"", []int64{open, pending, resolved, snoozed, other}}, {"open", []int64{open, other}}} {
		browsertest.Run(t, ctx, uiWait, setSelect("#status-filter", c.status))
		list("status "+c.status, c.ids...)
	}
	browsertest.Run(t, ctx, uiWait, setSelect("#inbox-filter", fmtInt(num(second["id"]))))
	list("the second inbox", other)
	firstID := num(mustCall(t, 200, "GET", s.URL+"/api/v1/inboxes", tok, nil)["data"].([]any)[0].(map[string]any)["id"])
	browsertest.Run(t, ctx, uiWait, setSelect("#inbox-filter", fmtInt(firstID)))
	list("the first inbox", open)
	browsertest.Run(t, ctx, uiWait, setSelect("#inbox-filter", ""))

	// Reopen the resolved one from its view.
	convURL := func(id int64) string { return fmt.Sprintf("%s/api/v1/conversations/%d", s.URL, id) }
	browsertest.Run(t, ctx, uiWait, chromedp.Navigate(fmt.Sprintf("%s/app/conversations/%d", s.URL, resolved)),
		chromedp.WaitVisible("#reopen", chromedp.ByQuery), chromedp.Evaluate(`document.getElementById('reopen').click()`, nil),
		chromedp.WaitVisible("#resolve", chromedp.ByQuery))
	pollAPI(t, convURL(resolved), tok, "reopened", func(c map[string]any) bool { return c["status"] == "open" })
	browsertest.Run(t, ctx, uiWait, chromedp.Click("#tab-all", chromedp.ByQuery))
	list("reopened among the open", open, resolved, other)

	// Snooze the open one for an hour: it leaves Open for Snoozed.
	// (The list and the header are drawn again on live frames: they are
	// clicked from the page rather than by a node found a moment earlier.)
	browsertest.Run(t, ctx, uiWait, chromedp.Evaluate(fmt.Sprintf(`document.querySelector('a.conv[data-id="%d"]').click()`, open), nil))
	waitJS(t, ctx, "the conversation open", fmt.Sprintf(`document.querySelector('#conv-list a.conv.selected')?.dataset.id === '%d' && !!document.querySelector('#messages li[data-seq="1"]')`, open))
	browsertest.Run(t, ctx, uiWait, chromedp.Evaluate(`document.getElementById('snooze').click()`, nil),
		chromedp.WaitVisible("#snooze-until", chromedp.ByQuery))
	browsertest.Run(t, ctx, uiWait, chromedp.Evaluate(`document.querySelector('[aria-labelledby="snooze-title"] .row button').click()`, nil))
	pollAPI(t, convURL(open), tok, "snoozed", func(c map[string]any) bool { return c["status"] == "snoozed" && c["snoozed_until"] != nil })
	waitJS(t, ctx, "the status in the view", `document.getElementById('conv-status').classList.contains('s-snoozed')`)
	list("no longer open", resolved, other)
	browsertest.Run(t, ctx, uiWait, setSelect("#status-filter", "snoozed"))
	list("snoozed", open, snoozed)

	// Assign it to Li from the view.
	browsertest.Run(t, ctx, uiWait, setSelect("#assignee", fmtInt(li)))
	pollAPI(t, convURL(open), tok, "assigned to Li", func(c map[string]any) bool { return num(c["assignee_id"]) == li })
	waitJS(t, ctx, "Li in the picker", fmt.Sprintf(`document.getElementById('assignee').value === %q`, fmtInt(li)))

	// Edit the contact.
	browsertest.Run(t, ctx, uiWait,
		chromedp.WaitVisible("#contact-name", chromedp.ByQuery),
		chromedp.Evaluate(`for (const id of ['contact-name', 'contact-email', 'contact-phone']) document.getElementById(id).value = '';
			document.getElementById('attr-key').dataset.stale = '1'`, nil),
		chromedp.SendKeys("#contact-name", "王小明", chromedp.ByQuery),
		chromedp.SendKeys("#contact-email", "xm@example.com", chromedp.ByQuery),
		chromedp.SendKeys("#contact-phone", "+86 138 0000 0000", chromedp.ByQuery),
		chromedp.Click("#contact-save", chromedp.ByQuery))
	contactURL := fmt.Sprintf("%s/api/v1/contacts/%d", s.URL, openV.ContactID)
	pollAPI(t, contactURL, tok, "the contact saved", func(c map[string]any) bool {
		return c["name"] == "王小明" && c["email"] == "xm@example.com" && c["phone"] == "+86 138 0000 0000"
	})
	// The panel is drawn again once saved; type into the new one.
	waitJS(t, ctx, "the panel redrawn", `document.getElementById('attr-key')?.dataset.stale === undefined`)
	browsertest.Run(t, ctx, uiWait,
		chromedp.SendKeys("#attr-key", "plan", chromedp.ByQuery), chromedp.SendKeys("#attr-value", "gold", chromedp.ByQuery),
		chromedp.Focus("#attr-value", chromedp.ByQuery), key("Enter", "Enter", 13, 0))
	pollAPI(t, contactURL, tok, "the attribute saved", func(c map[string]any) bool {
		a, _ := c["attributes"].(map[string]any)
		return a["plan"] == "gold" && c["name"] == "王小明"
	})
	waitJS(t, ctx, "the attribute in the panel", `document.getElementById('attrs').textContent.includes('gold')`)
	waitJS(t, ctx, "the new name in the list", fmt.Sprintf(`document.querySelector('a.conv[data-id="%d"]')?.textContent.includes('王小明')`, open))
}

func sortStrings(s []string) []string {
	out := append([]string(nil), s...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

// wrapNotificationsJS wraps window.Notification before the app loads, so
// the test sees each one shown, and makes the tab report no focus.
const wrapNotificationsJS = `(() => {
	window.kefuNotes = [];
	const N = window.Notification;
	if (!N) return;
	class Recorded extends N {
		constructor(title, opts) { window.kefuNotes.push({ title: String(title), body: String((opts || {}).body || '') }); super(title, opts); }
	}
	Object.defineProperty(Recorded, 'permission', { get: () => N.permission });
	Recorded.requestPermission = (...a) => N.requestPermission(...a);
	window.Notification = Recorded;
	document.hasFocus = () => false;
})()`

// TestWorkbenchNotifiesInBackground: with notifications allowed and the
// tab not focused, a new conversation and a new message each show a
// browser notification and chime.
func TestWorkbenchNotifiesInBackground(t *testing.T) {
	s := start(t, t.TempDir(), nil)
	tok := s.login(adminEmail, adminPassword)
	ctx := browsertest.Tab(t)
	browsertest.Run(t, ctx, uiWait,
		chromedp.ActionFunc(func(ctx context.Context) error {
			c := chromedp.FromContext(ctx)
			return browser.SetPermission(&browser.PermissionDescriptor{Name: "notifications"}, browser.PermissionSettingGranted).
				WithOrigin(s.URL).Do(cdp.WithExecutor(ctx, c.Browser))
		}),
		chromedp.ActionFunc(func(ctx context.Context) error {
			_, err := page.AddScriptToEvaluateOnNewDocument(wrapNotificationsJS).Do(ctx)
			return err
		}),
		chromedp.Navigate(s.URL+"/"),
		chromedp.WaitVisible("#login-email", chromedp.ByQuery),
		chromedp.SendKeys("#login-email", adminEmail, chromedp.ByQuery),
		chromedp.SendKeys("#login-password", adminPassword, chromedp.ByQuery),
		chromedp.Click("#login-submit", chromedp.ByQuery),
		chromedp.WaitVisible(`.workbench[data-loaded="true"] #conv-list`, chromedp.ByQuery))
	waitJS(t, ctx, "notifications allowed and the socket up", `!!window.kefuNotes && Notification.permission === 'granted' && document.getElementById('conn')?.textContent === 'Live'`)

	v := s.visitorSession(s.inboxToken(tok), "")
	mustCall(t, 200, "PATCH", s.URL+"/api/v1/widget/me", v.Token, map[string]any{"name": "Zhang"})
	conv := s.startConversation(v)
	waitJS(t, ctx, "a notification of the new conversation", `kefuNotes.some((n) => n.title === 'New conversation' && n.body === 'Zhang')`)
	waitJS(t, ctx, "a chime", `Number(document.body.dataset.sounds || 0) >= 1`)
	sounds := evalString(t, ctx, `document.body.dataset.sounds`)

	mustCall(t, 201, "POST", fmt.Sprintf("%s/api/v1/widget/conversations/%d/messages", s.URL, conv), v.Token, map[string]any{"body": "is anyone there?"})
	waitJS(t, ctx, "a notification of the message", `kefuNotes.some((n) => n.title.includes('Zhang') && n.body === 'is anyone there?')`)
	waitJS(t, ctx, "another chime", fmt.Sprintf(`Number(document.body.dataset.sounds || 0) > %s`, sounds))
}

// TestWidgetFollowsAvailability: the open widget switches to the offline
// form when the last agent goes offline, and back to the chat when one
// comes online, without a reload.
func TestWidgetFollowsAvailability(t *testing.T) {
	s := start(t, t.TempDir(), nil)
	tok := s.login(adminEmail, adminPassword)
	inbox := s.inboxToken(tok)
	ag := s.goOnline(tok, inbox)
	defer ag.Close()
	host := hostPage(t, s.URL+"/widget.js", inbox, "")
	ctx := browsertest.Tab(t)
	frame := openWidget(t, ctx, host)
	inFrame(t, ctx, frame, `!document.querySelector('#offline-form') && document.querySelector('.sub .dot.on')`, nil)
	browsertest.Run(t, ctx, wait, chromedp.Evaluate(`window.kefuPage = 1`, nil)) // gone if the page reloads

	mustCall(t, 200, "PUT", s.URL+"/api/v1/me/availability", tok, map[string]any{"availability": "offline"})
	frameWait(t, ctx, frame, `document.querySelector('#offline-form #f-email') && !document.querySelector('#composer') && !document.querySelector('.sub .dot.on')`)
	checkNamed(t, ctx, "widget offline form", frame, "document")

	mustCall(t, 200, "PUT", s.URL+"/api/v1/me/availability", tok, map[string]any{"availability": "online"})
	frameWait(t, ctx, frame, `!document.querySelector('#offline-form') && document.querySelector('#composer') && document.querySelector('.sub .dot.on')`)
	var same bool
	browsertest.Run(t, ctx, wait, chromedp.Evaluate(`window.kefuPage === 1`, &same))
	if !same {
		t.Fatal("the host page reloaded")
	}
}

// frameWait is inFrame with the UI deadline: the widget reads the status
// every STATUS_POLL (15 s) while open.
func frameWait(t *testing.T, ctx context.Context, frame *cdp.Node, expr string) {
	t.Helper()
	tctx, cancel := context.WithTimeout(ctx, uiWait+5*time.Second)
	defer cancel()
	if err := chromedp.Run(tctx, chromedp.Poll(expr, nil, chromedp.WithPollingInFrame(frame), chromedp.WithPollingTimeout(uiWait))); err != nil {
		browsertest.Screenshot(t, ctx, "failure")
		t.Fatalf("waiting in the widget frame for %s: %v", expr, err)
	}
}
