package e2e

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/kefu-chat/kefu/internal/browsertest"
	"github.com/kefu-chat/kefu/internal/llm/llmtest"
)

// socketSwitch wraps WebSocket in every frame of the tab: the test can
// see which sockets the server welcomed (so subscribed), close the
// widget's socket (window.__sockets), and hold reconnections: while
// window.__blockWS is set, a new socket stays "connecting" (no real
// connection, so no failures and back-off) until window.__release().
const socketSwitch = `(() => {
	const W = window.WebSocket;
	window.__sockets = [];
	window.__frames = [];
	window.__blockWS = false;
	const held = [];
	const track = (ws) => {
		ws.addEventListener('message', (e) => {
			window.__frames.push(String(e.data).slice(0, 200));
			if (String(e.data).includes('"type":"welcome"')) ws.welcomed = true;
		});
		window.__sockets.push(ws);
		return ws;
	};
	const S = function (url, protocols) {
		if (!window.__blockWS) return track(new W(url, protocols));
		const h = { readyState: 0, held: true, send() {}, close() { h.cancelled = true; } };
		held.push(() => {
			if (h.cancelled) return;
			const ws = track(new W(url, protocols));
			for (const k of ['onopen', 'onmessage', 'onclose', 'onerror']) ws[k] = (e) => h[k] && h[k](e);
			h.send = (d) => ws.send(d);
			h.close = (c) => ws.close(c);
		});
		return h;
	};
	S.prototype = W.prototype;
	Object.assign(S, { CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3 });
	window.WebSocket = S;
	window.__release = () => { window.__blockWS = false; for (const f of held.splice(0)) f(); return true; };
})();`

// TestWidgetShowsStreamedBotAnswer: a language model (the fake server)
// writes its answer slowly; the widget shows it growing in a provisional
// bot bubble (text only, never markup) before the stored message exists,
// then exactly one bubble with the full text once it is stored. A second
// answer's stored message is committed while the widget is offline: the
// resume replay replaces the provisional bubble, again with one bubble.
func TestWidgetShowsStreamedBotAnswer(t *testing.T) {
	model := llmtest.New(t)
	// subscribed: the widget's socket for the new conversation is up.
	// Pieces are live only, so the first one must not be sent before.
	subscribed := make(chan struct{})
	release := []chan struct{}{make(chan struct{}), make(chan struct{})}
	first := []string{"Gift cards ", "<b>work</b> ", "online ", "and in ", "our shops."}
	second := []string{"Refunds take ", "five ", "days."}
	model.Chat = func(w http.ResponseWriter, r *http.Request, n int, req llmtest.ChatRequest) {
		pieces := first
		if n == 1 {
			pieces = second
		}
		if n == 0 {
			select {
			case <-subscribed:
			case <-r.Context().Done():
				return
			}
		}
		llmtest.StartStream(w)
		hold := 2
		if n == 1 {
			hold = 1
		}
		for i, p := range pieces {
			if i == hold && n < len(release) {
				// The test lets the rest come once it saw the first pieces.
				select {
				case <-release[n]:
				case <-r.Context().Done():
					return
				}
			}
			if i > 0 {
				time.Sleep(20 * time.Millisecond) // a slow model, not an assertion
			}
			llmtest.Chunk(w, p)
		}
		llmtest.Finish(w, req, &llmtest.Usage{PromptTokens: 10, CompletionTokens: 10})
	}
	s := start(t, t.TempDir(), nil)
	admin := s.login(adminEmail, adminPassword)
	inboxID, inbox := firstInbox(t, s, admin)
	mustCall(t, 200, "PUT", fmt.Sprintf("%s/api/v1/inboxes/%d/bot", s.URL, inboxID), admin, map[string]any{"mode": "bot_first"})
	mustCall(t, 200, "PUT", s.URL+"/api/v1/bot/llm", admin, map[string]any{"enabled": true, "base_url": model.URL,
		"model": "qwen2.5", "api_key": "sk-e2e", "grounded": false})

	warmKnowledge(t, s, admin)

	ctx := browsertest.Tab(t)
	browsertest.Run(t, ctx, wait, chromedp.ActionFunc(func(ctx context.Context) error {
		_, err := page.AddScriptToEvaluateOnNewDocument(socketSwitch).Do(ctx)
		return err
	}))
	frame := openWidget(t, ctx, hostPage(t, s.URL+"/widget.js", inbox, ""))
	say := func(text string) {
		t.Helper()
		browsertest.Run(t, ctx, wait, chromedp.SendKeys("#composer", text+"\r", chromedp.ByQuery, chromedp.FromNode(frame)))
	}
	const (
		streaming  = `document.querySelectorAll('.msg.streaming')`
		storedBots = `Array.from(document.querySelectorAll('.msg.bot[data-seq] .text')).map(e => e.textContent)`
	)

	// 1. Live: partial text first, then the stored message in its place.
	say("do you sell gift cards")
	inFrame(t, ctx, frame, `!!document.querySelector('.msg.own[data-seq]') && window.__sockets.at(-1).welcomed && window.__sockets.at(-1).readyState === 1`, nil)
	close(subscribed)
	defer func() {
		if t.Failed() {
			var dbg string
			chromedp.Run(ctx, chromedp.Poll(`JSON.stringify([window.__sockets.map(s => s.url + ' ' + s.readyState), window.__frames])`, &dbg, chromedp.WithPollingInFrame(frame)))
			t.Logf("sockets and frames: %s\nmodel requests: %d", dbg, len(model.Requests()))
		}
	}()
	var partial string
	inFrame(t, ctx, frame, streaming+`.length === 1 && `+streaming+`[0].querySelector('.text').textContent === 'Gift cards <b>work</b> ' && `+streaming+`[0].querySelector('.text').textContent`, &partial)
	var state []any
	inFrame(t, ctx, frame, `[document.querySelectorAll('.msg.bot[data-seq]').length, document.querySelectorAll('.msg.streaming b, .msg.streaming script').length, document.querySelector('.msg.streaming').classList.contains('bot')]`, &state)
	if fmt.Sprint(state) != "[0 0 true]" {
		t.Fatalf("while streaming: stored bot bubbles, markup from the model, bot style: %v", state)
	}
	browsertest.Screenshot(t, ctx, "streaming")
	close(release[0])
	full := strings.Join(first, "")
	var bots []string
	inFrame(t, ctx, frame, streaming+`.length === 0 && `+storedBots, &bots)
	if len(bots) != 1 || bots[0] != full {
		t.Fatalf("bot bubbles after the answer %q, want one %q", bots, full)
	}

	// 2. The stored answer is committed while the widget is offline: the
	// resume replay brings it and it replaces the provisional bubble.
	say("how long do refunds take")
	inFrame(t, ctx, frame, streaming+`.length === 1 && `+streaming+`[0].textContent.includes('Refunds take')`, nil)
	inFrame(t, ctx, frame, `(() => { window.__blockWS = true; window.__sockets.at(-1).close(); return true; })()`, nil)
	// The widget knows it is offline and is trying to reconnect.
	inFrame(t, ctx, frame, `!!document.querySelector('.banner')`, nil)
	close(release[1])
	conv := num(s.onlyConversation(admin)["id"])
	answer := strings.Join(second, "")
	deadline := time.Now().Add(wait)
	for {
		_, bodies := s.history(admin, conv)
		if strings.Contains(strings.Join(bodies, "\n"), answer) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("second answer never stored: %q", bodies)
		}
		time.Sleep(20 * time.Millisecond)
	}
	var offline []any
	inFrame(t, ctx, frame, `[`+streaming+`.length, `+storedBots+`.length]`, &offline)
	if fmt.Sprint(offline) != "[1 1]" {
		t.Fatalf("offline, the widget should still show the provisional bubble only: %v", offline)
	}
	inFrame(t, ctx, frame, `window.__release()`, nil)
	bots = nil
	inFrame(t, ctx, frame, streaming+`.length === 0 && `+storedBots+`.length === 2 && `+storedBots, &bots)
	if bots[0] != full || bots[1] != answer {
		t.Fatalf("bot bubbles after the resume %q", bots)
	}
	var order []string
	inFrame(t, ctx, frame, `Array.from(document.querySelectorAll('.msg[data-seq] .text')).map(e => e.textContent)`, &order)
	if want := []string{"do you sell gift cards", full, "how long do refunds take", answer}; fmt.Sprint(order) != fmt.Sprint(want) {
		t.Fatalf("messages %q, want %q", order, want)
	}
}

// TestWidgetBotFeedback: a knowledge-base answer in the widget offers
// labelled helpful / not helpful buttons, the bot's fallback line does
// not; the visitor's choice is shown, cannot be sent again, and the admin
// sees it through the REST API.
func TestWidgetBotFeedback(t *testing.T) {
	s := start(t, t.TempDir(), nil)
	admin := s.login(adminEmail, adminPassword)
	inboxID, inbox := firstInbox(t, s, admin)
	mustCall(t, 200, "PUT", fmt.Sprintf("%s/api/v1/inboxes/%d/bot", s.URL, inboxID), admin, map[string]any{"mode": "bot_first"})
	mustCall(t, 201, "POST", s.URL+"/api/v1/bot/faqs", admin, map[string]any{
		"answer": "Returns are free within 30 days.", "questions": []string{"how do I return an item"}, "enabled": true})
	warmKnowledge(t, s, admin)

	ctx := browsertest.Tab(t)
	frame := openWidget(t, ctx, hostPage(t, s.URL+"/widget.js", inbox, ""))
	say := func(text string, bots int) {
		t.Helper()
		browsertest.Run(t, ctx, wait, chromedp.SendKeys("#composer", text+"\r", chromedp.ByQuery, chromedp.FromNode(frame)))
		inFrame(t, ctx, frame, fmt.Sprintf(`document.querySelectorAll('.msg.bot[data-seq]').length >= %d`, bots), nil)
	}
	say("how do I return an item", 1)
	say("qwertyuiop zxcvbnm", 2) // the fallback: nothing to rate
	var labels []string
	inFrame(t, ctx, frame, `Array.from(document.querySelectorAll('.msg.bot')).map(e => Array.from(e.querySelectorAll('.feedback button')).map(b => b.textContent).join('|'))`, &labels)
	if fmt.Sprint(labels) != "[Helpful|Not helpful ]" {
		t.Fatalf("feedback buttons per bot message %q", labels)
	}
	browsertest.Run(t, ctx, wait, chromedp.Click(`.msg.bot .feedback button[data-helpful="false"]`, chromedp.ByQuery, chromedp.FromNode(frame)))
	var shown []any
	inFrame(t, ctx, frame, `document.querySelector('.msg.bot .feedback-done') && [document.querySelector('.msg.bot .feedback-done').textContent,
		document.querySelector('.msg.bot .feedback button[data-helpful="false"]').getAttribute('aria-pressed'),
		Array.from(document.querySelectorAll('.msg.bot .feedback button')).every(b => b.disabled)]`, &shown)
	if fmt.Sprint(shown) != "[You found this not helpful. Thank you for telling us. true true]" {
		t.Fatalf("after the choice %v", shown)
	}
	browsertest.Screenshot(t, ctx, "feedback")

	var list []any
	deadline := time.Now().Add(wait)
	for {
		list = mustCall(t, 200, "GET", s.URL+"/api/v1/bot/feedback", admin, nil)["data"].([]any)
		if len(list) > 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if len(list) != 1 || list[0].(map[string]any)["helpful"] != false {
		t.Fatalf("feedback seen by the admin %v", list)
	}
	// A second click cannot send again: the buttons are disabled, and a
	// forced click on the other one changes nothing.
	inFrame(t, ctx, frame, `(() => { const b = document.querySelector('.msg.bot .feedback button[data-helpful="true"]'); b.disabled = false; b.click(); return true; })()`, nil)
	inFrame(t, ctx, frame, `document.querySelector('.msg.bot .feedback button[data-helpful="false"]').getAttribute('aria-pressed') === 'true'`, nil)
	if l := mustCall(t, 200, "GET", s.URL+"/api/v1/bot/feedback", admin, nil)["data"].([]any); len(l) != 1 || l[0].(map[string]any)["helpful"] != false {
		t.Fatalf("feedback after a second click %v", l)
	}
}

// warmKnowledge loads the knowledge base now: its Chinese dictionary
// loads on first use and takes seconds (more under -race), which would
// otherwise come out of the bot's first turn and the test's waits.
func warmKnowledge(t *testing.T, s *server, admin string) {
	t.Helper()
	ws := num(mustCall(t, 200, "GET", s.URL+"/api/v1/inboxes", admin, nil)["data"].([]any)[0].(map[string]any)["workspace_id"])
	if _, err := s.App.Knowledge.Base(t.Context(), ws); err != nil {
		t.Fatal(err)
	}
}
