package e2e

import (
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/kefu-chat/kefu/internal/browsertest"
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
