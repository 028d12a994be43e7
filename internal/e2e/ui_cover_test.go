package e2e

import (
	"bytes"
	"context"
	"fmt"
	"image"
	pngenc "image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/kefu-chat/kefu/internal/browsertest"
	"github.com/kefu-chat/kefu/internal/config"
)

// The cover tests drive features of the widget and the workbench that the
// other browser tests pass by: the unread badge and chime, uploads, the
// workbench's title count and scroll-back, typing from the UIs, the
// widget's JavaScript API, and the language a browser asks for.

const badge = shadow + `?.querySelector('.launcher .badge')`

// TestWidgetUnreadBadgeAndSound: with the panel closed, agent messages
// count on the launcher's badge and chime (the panel counts its chimes in
// body.dataset.sounds); opening the panel clears the badge and marks the
// messages read.
func TestWidgetUnreadBadgeAndSound(t *testing.T) {
	s := start(t, t.TempDir(), nil)
	tok := s.login(adminEmail, adminPassword)
	inbox := s.inboxToken(tok)
	s.goOnline(tok, inbox)
	ctx := browsertest.Tab(t)
	frame := openWidget(t, ctx, hostPage(t, s.URL+"/widget.js", inbox, ""))
	browsertest.Run(t, ctx, wait, chromedp.SendKeys("#composer", "hello\r", chromedp.ByQuery, chromedp.FromNode(frame)))
	inFrame(t, ctx, frame, `document.querySelector('.msg.own[data-seq="1"]')`, nil)
	id := num(s.onlyConversation(tok)["id"])

	// The panel's own close button.
	browsertest.Run(t, ctx, wait, chromedp.Click("button.close", chromedp.ByQuery, chromedp.FromNode(frame)))
	onPage(t, ctx, `!`+shadow+`.querySelector('iframe.open') && `+badge+`.hidden`, nil)

	post := func(body string) {
		mustCall(t, 201, "POST", fmt.Sprintf("%s/api/v1/conversations/%d/messages", s.URL, id), tok, map[string]any{"body": body})
	}
	post("We have your order.")
	onPage(t, ctx, `!`+badge+`.hidden && `+badge+`.textContent === '1'`, nil)
	inFrame(t, ctx, frame, `document.body.dataset.sounds === '1'`, nil)
	post("It ships today.")
	onPage(t, ctx, badge+`.textContent === '2'`, nil)
	inFrame(t, ctx, frame, `document.body.dataset.sounds === '2'`, nil)
	var label string
	onPage(t, ctx, badge+`.getAttribute('aria-label')`, &label)
	if label != "2 unread messages" {
		t.Errorf("badge label %q", label)
	}
	browsertest.Screenshot(t, ctx, "badge")

	// Opening clears the badge, shows both messages and reads them.
	browsertest.Run(t, ctx, wait, chromedp.Click(launcher, chromedp.ByJSPath))
	onPage(t, ctx, shadow+`.querySelector('iframe.open') && `+badge+`.hidden`, nil)
	inFrame(t, ctx, frame, `document.querySelector('.msg.them[data-seq="3"]')`, nil)
	waitFor(t, "the visitor's read mark", func() bool {
		c := mustCall(t, 200, "GET", fmt.Sprintf("%s/api/v1/conversations/%d", s.URL, id), tok, nil)
		return num(c["contact_last_read_seq"]) == 3
	})
	// A message that arrives while the panel is open neither counts nor chimes.
	post("Anything else?")
	inFrame(t, ctx, frame, `document.querySelector('.msg.them[data-seq="4"]') && document.body.dataset.sounds === '2'`, nil)
	onPage(t, ctx, badge+`.hidden`, nil)
}

// uploadFiles writes the files an upload test picks: a small PNG, an HTML
// page (a type Kefu refuses) and a text file over the size limit.
func uploadFiles(t *testing.T, over int) (png, page, big string) {
	t.Helper()
	dir := t.TempDir()
	img := image.NewRGBA(image.Rect(0, 0, 40, 30))
	for i := range img.Pix {
		img.Pix[i] = byte(i)
	}
	var buf bytes.Buffer
	if err := pngenc.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	png, page, big = filepath.Join(dir, "photo.png"), filepath.Join(dir, "page.html"), filepath.Join(dir, "big.txt")
	for p, b := range map[string][]byte{
		png:  buf.Bytes(),
		page: []byte("<!doctype html><html><body><script>alert(1)</script></body></html>"),
		big:  bytes.Repeat([]byte("a"), over),
	} {
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return png, page, big
}

// messagesOf is a conversation's messages as an agent reads them.
func messagesOf(t *testing.T, s *server, tok string, conv int64) []map[string]any {
	t.Helper()
	out := mustCall(t, 200, "GET", fmt.Sprintf("%s/api/v1/conversations/%d/messages?limit=200", s.URL, conv), tok, nil)
	var ms []map[string]any
	for _, d := range out["data"].([]any) {
		ms = append(ms, d.(map[string]any))
	}
	return ms
}

// TestUploadsWithPreview: the visitor picks an image in the widget, sees a
// preview, sends it; the agent sees the image in the workbench. A refused
// type and a file over the limit show why and send nothing. The agent
// uploads from the workbench and the visitor sees the image.
func TestUploadsWithPreview(t *testing.T) {
	const limit = 64 << 10
	s := start(t, t.TempDir(), func(c *config.Config) { c.MaxUploadBytes = limit })
	tok := s.login(adminEmail, adminPassword)
	inbox := s.inboxToken(tok)
	s.goOnline(tok, inbox)
	png, page, big := uploadFiles(t, 3*limit)
	ctx := browsertest.Tab(t)
	frame := openWidget(t, ctx, hostPage(t, s.URL+"/widget.js", inbox, ""))
	in := []chromedp.QueryOption{chromedp.ByQuery, chromedp.FromNode(frame)}

	browsertest.Run(t, ctx, wait, chromedp.SetUploadFiles("#file", []string{png}, in...))
	inFrame(t, ctx, frame, `document.querySelector('.preview img[src^="blob:"]')?.naturalWidth === 40 && document.querySelector('.preview .name').textContent === 'photo.png'`, nil)
	browsertest.Screenshot(t, ctx, "preview")
	browsertest.Run(t, ctx, wait, chromedp.Click("#send", in...))
	inFrame(t, ctx, frame, `document.querySelector('.msg.own[data-seq="1"] img.thumb')?.naturalWidth === 40 && !document.querySelector('.preview')`, nil)
	id := num(s.onlyConversation(tok)["id"])
	ms := messagesOf(t, s, tok, id)
	if len(ms) != 1 || ms[0]["kind"] != "attachment" || len(ms[0]["attachments"].([]any)) != 1 {
		t.Fatalf("stored %v", ms)
	}
	att := ms[0]["attachments"].([]any)[0].(map[string]any)
	if att["file_name"] != "photo.png" || att["content_type"] != "image/png" {
		t.Fatalf("attachment %v", att)
	}

	// Refused: an HTML page, then a file over the limit. Each says why,
	// keeps the file in the composer to remove, and sends nothing.
	for _, c := range []struct{ file, name, why string }{
		{page, "page.html", "text/html"},
		{big, "big.txt", fmt.Sprint(limit)},
	} {
		browsertest.Run(t, ctx, wait, chromedp.SetUploadFiles("#file", []string{c.file}, in...))
		inFrame(t, ctx, frame, `document.querySelector('.preview .name')?.textContent === `+jsString(c.name), nil)
		browsertest.Run(t, ctx, wait, chromedp.Click("#send", in...))
		var notice string
		inFrame(t, ctx, frame, `document.querySelector('.notice:not(.queue)')?.textContent.includes('could not be sent') && !document.querySelector('.preview .name').textContent.endsWith('…') && document.querySelector('.notice:not(.queue)').textContent`, &notice)
		if !strings.Contains(notice, c.why) {
			t.Errorf("%s: notice %q, want the reason (%s)", c.name, notice, c.why)
		}
		// Removing the file takes its error away.
		browsertest.Run(t, ctx, wait, chromedp.Click(`.preview button`, in...))
		inFrame(t, ctx, frame, `!document.querySelector('.preview') && !document.querySelector('.notice:not(.queue)') && document.querySelectorAll('.msg[data-seq]').length === 1`, nil)
	}
	if n := len(messagesOf(t, s, tok, id)); n != 1 {
		t.Fatalf("%d messages stored after refused uploads, want 1", n)
	}

	// The agent sees the visitor's image, fetched from the attachment URL.
	agent := agentTab(t, s, adminEmail, adminPassword)
	browsertest.Run(t, agent, uiWait, chromedp.Navigate(fmt.Sprintf("%s/app/conversations/%d", s.URL, id)))
	waitJS(t, agent, "the visitor's image", `document.querySelector('#messages li[data-seq="1"] img.att-img[alt="photo.png"]')?.naturalWidth === 40`)
	waitJS(t, agent, "the image fetched from its attachment URL",
		fmt.Sprintf(`performance.getEntriesByType('resource').some((e) => new URL(e.name).pathname === '/api/v1/attachments/%d')`, num(att["id"])))

	// The agent's upload: a refused type is reported and sends nothing;
	// an image reaches the visitor.
	browsertest.Run(t, agent, uiWait, chromedp.SetUploadFiles("#file-input", []string{page}, chromedp.ByQuery))
	waitJS(t, agent, "the refusal", `[...document.querySelectorAll('.toast')].some((e) => e.textContent.includes('page.html') && e.textContent.includes('text/html'))`)
	browsertest.Run(t, agent, uiWait, chromedp.SetUploadFiles("#file-input", []string{png}, chromedp.ByQuery))
	waitJS(t, agent, "the agent's image", `document.querySelector('#messages li.msg.out img.att-img')?.naturalWidth === 40`)
	inFrame(t, ctx, frame, `document.querySelector('.msg.them img.thumb')?.naturalWidth === 40`, nil)
	if ms := messagesOf(t, s, tok, id); len(ms) != 2 || ms[1]["sender_type"] != "agent" || len(ms[1]["attachments"].([]any)) != 1 {
		t.Fatalf("stored after the agent's uploads: %v", ms)
	}
	browsertest.Screenshot(t, ctx, "widget")
	browsertest.Screenshot(t, agent, "workbench")
}

// TestWorkbenchTitleCountAndScrollBack: the tab's title counts the
// conversations with unread messages; a long conversation opens on its
// latest page and scrolling to the top loads the older pages, in order and
// once each, back to the first message.
func TestWorkbenchTitleCountAndScrollBack(t *testing.T) {
	const total = 110 // three pages of 50
	s := start(t, t.TempDir(), nil)
	tok := s.login(adminEmail, adminPassword)
	inbox := s.inboxToken(tok)
	long := s.startConversation(s.visitorSession(inbox, ""))
	for i := 1; i <= total; i++ {
		mustCall(t, 201, "POST", fmt.Sprintf("%s/api/v1/conversations/%d/messages", s.URL, long), tok, map[string]any{"body": fmt.Sprint("m", i)})
	}
	mustCall(t, 200, "POST", fmt.Sprintf("%s/api/v1/conversations/%d/read", s.URL, long), tok, map[string]any{"seq": total})

	ctx := agentTab(t, s, adminEmail, adminPassword)
	waitJS(t, ctx, "the title with nothing unread", `document.title === 'Kefu'`)
	v := s.visitorSession(inbox, "")
	other := s.startConversation(v)
	mustCall(t, 201, "POST", fmt.Sprintf("%s/api/v1/widget/conversations/%d/messages", s.URL, other), v.Token, map[string]any{"body": "anyone there?"})
	waitJS(t, ctx, "the unread count in the title", `document.title === '(1) Kefu'`)

	// The long conversation opens on its latest page.
	browsertest.Run(t, ctx, uiWait, chromedp.Navigate(fmt.Sprintf("%s/app/conversations/%d", s.URL, long)))
	waitJS(t, ctx, "the latest page", fmt.Sprintf(`document.querySelector('#messages li[data-seq="%d"]') && document.querySelectorAll('#messages li[data-seq]').length === 50`, total))
	if got := evalString(t, ctx, `document.querySelector('#messages li[data-seq]').dataset.seq`); got != fmt.Sprint(total-49) {
		t.Fatalf("the first message shown is seq %s, want %d", got, total-49)
	}
	// The other conversation is still unread, and counted while this one is open.
	waitJS(t, ctx, "the title while another conversation is open", `document.title === '(1) Kefu'`)

	// Scrolling to the top loads the page before, and keeps the message
	// that was at the top in view.
	waitJS(t, ctx, "the second page", fmt.Sprintf(`(() => { const m = document.getElementById('messages');
		if (m.querySelector('li[data-seq="%d"]')) return true; m.scrollTop = 0; return false; })()`, total-50))
	waitJS(t, ctx, "the old top message in view", fmt.Sprintf(`(() => { const m = document.getElementById('messages').getBoundingClientRect();
		const li = document.querySelector('#messages li[data-seq="%d"]').getBoundingClientRect(); return li.top >= m.top && li.top < m.bottom; })()`, total-49))
	// And again, until the first message.
	waitJS(t, ctx, "the first message", `(() => { const m = document.getElementById('messages');
		if (m.querySelector('li[data-seq="1"]')) return true; m.scrollTop = 0; return false; })()`)
	var seqs []int
	browsertest.Run(t, ctx, uiWait, chromedp.Evaluate(`[...document.querySelectorAll('#messages li[data-seq]')].map((li) => Number(li.dataset.seq))`, &seqs))
	if len(seqs) != total {
		t.Fatalf("%d messages shown, want %d: %v", len(seqs), total, seqs)
	}
	for i, seq := range seqs {
		if seq != i+1 {
			t.Fatalf("messages shown out of order or twice: %v", seqs)
		}
	}
	if got := evalString(t, ctx, `document.querySelector('#messages li[data-seq="1"] .body').textContent`); got != "m1" {
		t.Fatalf("seq 1 reads %q", got)
	}

	// Opening the unread conversation reads it: the title is plain again.
	browsertest.Run(t, ctx, uiWait, chromedp.Navigate(fmt.Sprintf("%s/app/conversations/%d", s.URL, other)))
	waitJS(t, ctx, "the title after reading", `document.title === 'Kefu'`)
}

// typeEnter presses Enter (with Shift if shift) as one key-down that
// carries its text, the way a keyboard does: if the page cancels the
// key-down no newline goes in; if it does not, the textarea gets one.
func typeEnter(shift bool) chromedp.Action {
	return chromedp.ActionFunc(func(ctx context.Context) error {
		var mods input.Modifier
		if shift {
			mods = input.ModifierShift
		}
		down := input.DispatchKeyEvent(input.KeyDown).WithKey("Enter").WithCode("Enter").WithWindowsVirtualKeyCode(13).
			WithText("\r").WithUnmodifiedText("\r").WithModifiers(mods)
		if err := down.Do(ctx); err != nil {
			return err
		}
		return input.DispatchKeyEvent(input.KeyUp).WithKey("Enter").WithCode("Enter").WithWindowsVirtualKeyCode(13).WithModifiers(mods).Do(ctx)
	})
}

// TestTypingAndEnterInBothUIs: what the visitor types in the widget shows
// as typing in the workbench and back; in both composers Shift+Enter
// starts a new line and Enter sends.
func TestTypingAndEnterInBothUIs(t *testing.T) {
	s := start(t, t.TempDir(), nil)
	tok := s.login(adminEmail, adminPassword)
	inbox := s.inboxToken(tok)
	s.goOnline(tok, inbox)
	visitor := browsertest.Tab(t)
	frame := openWidget(t, visitor, hostPage(t, s.URL+"/widget.js", inbox, ""))
	in := []chromedp.QueryOption{chromedp.ByQuery, chromedp.FromNode(frame)}
	browsertest.Run(t, visitor, wait,
		chromedp.SendKeys("#composer", "first line", in...), typeEnter(true),
		chromedp.SendKeys("#composer", "second line", in...))
	inFrame(t, visitor, frame, `document.querySelector('#composer').value === 'first line\nsecond line' && !document.querySelector('.msg[data-seq]')`, nil)
	browsertest.Run(t, visitor, wait, typeEnter(false))
	inFrame(t, visitor, frame, `document.querySelector('.msg.own[data-seq="1"] .text')?.textContent === 'first line\nsecond line' && document.querySelector('#composer').value === ''`, nil)
	id := num(s.onlyConversation(tok)["id"])

	agent := agentTab(t, s, adminEmail, adminPassword)
	browsertest.Run(t, agent, uiWait,
		chromedp.Navigate(fmt.Sprintf("%s/app/conversations/%d", s.URL, id)),
		chromedp.WaitVisible(`#messages li[data-seq="1"]`, chromedp.ByQuery))
	// The indicators go out on their own after a few idle seconds, so
	// each side records that one showed rather than racing to see it.
	waitJS(t, agent, "no typing indicator yet", `document.getElementById('typing').hidden && (() => { window.typingSeen = false;
		const el = document.getElementById('typing');
		new MutationObserver(() => { if (!el.hidden) window.typingSeen = true; }).observe(el, { attributes: true }); return true; })()`)
	inFrame(t, visitor, frame, `!document.querySelector('.typing') && (() => { window.typingSeen = false;
		new MutationObserver(() => { if (document.querySelector('.typing')) window.typingSeen = true; }).observe(document.body, { childList: true, subtree: true });
		return true; })()`, nil)
	// The visitor types in the widget; the agent sees it.
	browsertest.Run(t, visitor, wait, chromedp.SendKeys("#composer", "and", in...))
	waitJS(t, agent, "the visitor typing", `window.typingSeen`)

	// The agent: Shift+Enter is a new line, Enter sends; the visitor sees
	// the agent typing, then the reply with its line break.
	browsertest.Run(t, agent, uiWait, chromedp.SendKeys("#composer", "Hello", chromedp.ByQuery))
	inFrame(t, visitor, frame, `window.typingSeen`, nil)
	browsertest.Run(t, agent, uiWait, typeEnter(true), chromedp.SendKeys("#composer", "how can I help?", chromedp.ByQuery))
	if got := evalString(t, agent, `document.getElementById('composer').value`); got != "Hello\nhow can I help?" {
		t.Fatalf("workbench composer after Shift+Enter holds %q", got)
	}
	browsertest.Run(t, agent, uiWait, typeEnter(false))
	waitJS(t, agent, "the reply sent", `document.getElementById('composer').value === '' && !!document.querySelector('#messages li.msg.out[data-seq="2"]')`)
	inFrame(t, visitor, frame, `document.querySelector('.msg.them[data-seq="2"] .text')?.textContent === 'Hello\nhow can I help?' && !document.querySelector('.typing')`, nil)
	if _, bodies := s.history(tok, id); !slices.Equal(bodies, []string{"first line\nsecond line", "Hello\nhow can I help?"}) {
		t.Fatalf("stored %q", bodies)
	}
}

// TestWidgetJSAPI: Kefu.open, close and toggle drive the panel, and the
// page hears ready, open, close and message, each once; off stops a
// listener.
func TestWidgetJSAPI(t *testing.T) {
	s := start(t, t.TempDir(), nil)
	tok := s.login(adminEmail, adminPassword)
	inbox := s.inboxToken(tok)
	s.goOnline(tok, inbox)
	stub := `<script>!function(w){var k=w.Kefu=w.Kefu||{q:[]};["identify","open","close","toggle","on","off","setLocale","reset"].forEach(function(m){k[m]=k[m]||function(){k.q.push([m,arguments])}})}(window);
window.events = []; window.onMessage = function (m) { events.push('message:' + m.sender_type + ':' + m.seq + ':' + m.body + ':' + (m.conversation_id > 0)) };
['ready', 'open', 'close'].forEach(function (e) { Kefu.on(e, function () { events.push(e) }) }); Kefu.on('message', onMessage);
window.seen = []; Kefu.on('message', function (m) { seen.push(m.seq) });</script>`
	ctx := browsertest.Tab(t)
	browsertest.Run(t, ctx, wait, chromedp.Navigate(hostPage(t, s.URL+"/widget.js", inbox, stub)))
	frame := widgetFrame(t, ctx)
	in := []chromedp.QueryOption{chromedp.ByQuery, chromedp.FromNode(frame)}
	events := func(n int) []string {
		t.Helper()
		var got []string
		onPage(t, ctx, fmt.Sprintf(`window.events.length >= %d && window.events`, n), &got)
		return got
	}
	isOpen := shadow + `.querySelector('iframe.open') && ` + launcher + `.getAttribute('aria-expanded') === 'true'`
	isClosed := `!` + shadow + `.querySelector('iframe.open') && ` + launcher + `.getAttribute('aria-expanded') === 'false'`
	js := func(expr string) { browsertest.Run(t, ctx, wait, chromedp.Evaluate(expr, nil)) }

	events(1) // ready
	js(`Kefu.open()`)
	onPage(t, ctx, isOpen, nil)
	inFrame(t, ctx, frame, `document.querySelector('#composer')`, nil)
	browsertest.Run(t, ctx, wait, chromedp.SendKeys("#composer", "hi\r", in...))
	inFrame(t, ctx, frame, `document.querySelector('.msg.own[data-seq="1"]')`, nil)
	events(3)
	id := num(s.onlyConversation(tok)["id"])
	post := func(body string) {
		mustCall(t, 201, "POST", fmt.Sprintf("%s/api/v1/conversations/%d/messages", s.URL, id), tok, map[string]any{"body": body})
	}

	js(`Kefu.toggle()`)
	onPage(t, ctx, isClosed, nil)
	post("Reply")
	onPage(t, ctx, badge+`.textContent === '1'`, nil)
	events(5)
	js(`Kefu.toggle()`)
	onPage(t, ctx, isOpen+` && `+badge+`.hidden`, nil)
	js(`Kefu.close(); Kefu.close()`) // the second is no change and no event
	onPage(t, ctx, isClosed, nil)
	js(`Kefu.open()`)
	onPage(t, ctx, isOpen, nil)
	// Esc in the panel closes it, like the close button.
	browsertest.Run(t, ctx, wait, chromedp.Focus("#composer", in...), chromedp.KeyEvent(kb.Escape))
	onPage(t, ctx, isClosed, nil)

	// Off: a listener taken off hears nothing, while the one left on
	// (called in the same turn) hears the message.
	js(`Kefu.off('message', onMessage)`)
	post("unheard")
	onPage(t, ctx, `window.seen.join() === '1,2,3'`, nil)
	got := events(9)
	want := []string{"ready", "open", "message:contact:1:hi:true", "close", "message:agent:2:Reply:true", "open", "close", "open", "close"}
	if !slices.Equal(got, want) {
		t.Fatalf("events %q\nwant   %q", got, want)
	}
}

// TestWidgetSpeaksTheBrowsersLanguage: with no data-locale, no
// Kefu.setLocale and no inbox locale, a browser that asks for Chinese
// gets the widget in Chinese, in the panel and on the launcher.
func TestWidgetSpeaksTheBrowsersLanguage(t *testing.T) {
	s := start(t, t.TempDir(), nil)
	tok := s.login(adminEmail, adminPassword)
	inbox := s.inboxToken(tok)
	s.goOnline(tok, inbox)
	ctx := browsertest.Tab(t)
	// What a Chinese Chromium sends and reports: Accept-Language and
	// navigator.languages, for the page and the frames in it.
	browsertest.Run(t, ctx, wait, chromedp.ActionFunc(func(ctx context.Context) error {
		_, _, _, ua, _, err := browser.GetVersion().Do(ctx)
		if err != nil {
			return err
		}
		return emulation.SetUserAgentOverride(ua).WithAcceptLanguage("zh-CN,zh;q=0.9").Do(ctx)
	}))
	frame := openWidget(t, ctx, hostPage(t, s.URL+"/widget.js", inbox, ""))
	var got []string
	inFrame(t, ctx, frame, `document.documentElement.lang === 'zh-CN' && [navigator.language, document.querySelector('#composer').placeholder, document.querySelector('#send').textContent, document.querySelector('.brand').textContent]`, &got)
	if want := []string{"zh-CN", "输入消息…", "发送", "由 Kefu 提供支持"}; !slices.Equal(got, want) {
		t.Fatalf("frame (navigator.language, placeholder, send, brand) = %q, want %q", got, want)
	}
	var label string
	onPage(t, ctx, launcher+`.getAttribute('aria-label')`, &label)
	if label != "关闭聊天" { // the panel is open
		t.Fatalf("launcher label %q", label)
	}
	browsertest.Run(t, ctx, wait, chromedp.Evaluate(`Kefu.close()`, nil))
	onPage(t, ctx, launcher+`.getAttribute('aria-label') === '打开聊天'`, nil)
}
