package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/chromedp"

	"github.com/kefu-chat/kefu/internal/browsertest"
)

// The joint tests drive both sides in real browsers: a visitor in the
// widget embedded in a customer's page (another origin), and an agent in
// the workbench, each in a Chromium of its own.

// setSelect picks value in a <select> the way a person does: the value
// changes and a change event fires.
func setSelect(sel, value string) chromedp.Action {
	return chromedp.Evaluate(fmt.Sprintf(`(() => { const s = document.querySelector(%s); s.value = %s;
		s.dispatchEvent(new Event('change', { bubbles: true })); return s.value; })()`, jsString(sel), jsString(value)), nil)
}

// goOnlineInUI sets the agent's presence to online with the top bar's
// toggle and waits until routing sees the agent online and connected.
func goOnlineInUI(t *testing.T, s *server, ctx context.Context, tok string, agentID int64) {
	t.Helper()
	browsertest.Run(t, ctx, uiWait, setSelect("#presence", "online"))
	deadline := time.Now().Add(wait)
	for {
		for _, a := range mustCall(t, 200, "GET", s.URL+"/api/v1/routing/agents", tok, nil)["data"].([]any) {
			if a := a.(map[string]any); num(a["agent_id"]) == agentID && a["online"] == true {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("the agent never became online for routing")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// openFromList clicks a conversation in the workbench's list. The list is
// rebuilt on every live frame, so a click can lose its node between the
// query and the click; it is tried again until the view opens.
func openFromList(t *testing.T, ctx context.Context, item string, id int64) {
	t.Helper()
	deadline := time.Now().Add(uiWait)
	for {
		cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		err := chromedp.Run(cctx, chromedp.Click(item, chromedp.ByQuery))
		cancel()
		var path string
		chromedp.Run(ctx, chromedp.Evaluate(`location.pathname`, &path))
		if err == nil && path == fmt.Sprintf("/app/conversations/%d", id) {
			return
		}
		if time.Now().After(deadline) {
			browsertest.Screenshot(t, ctx, "failure")
			t.Fatalf("could not open %s from the list: %v (at %s)", item, err, path)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func meID(t *testing.T, s *server, tok string) int64 {
	t.Helper()
	return num(mustCall(t, 200, "GET", s.URL+"/api/v1/me", tok, nil)["id"])
}

// openWidget opens the widget on a host page and returns its frame.
func openWidget(t *testing.T, ctx context.Context, host string) *cdp.Node {
	t.Helper()
	browsertest.Run(t, ctx, wait, chromedp.Navigate(host))
	frame := widgetFrame(t, ctx)
	browsertest.Run(t, ctx, wait, chromedp.Click(launcher, chromedp.ByJSPath))
	onPage(t, ctx, shadow+`?.querySelector('iframe.open')`, nil)
	inFrame(t, ctx, frame, `document.querySelector('#composer')`, nil)
	return frame
}

// TestWidgetToWorkbenchJoint is the whole path through two browsers: a
// host page embeds the real snippet; the visitor writes in the widget; the
// agent, online in the workbench, is assigned the conversation by routing
// and sees it appear live, replies from the workbench, and the visitor
// sees the reply in the widget.
func TestWidgetToWorkbenchJoint(t *testing.T) {
	s := start(t, t.TempDir(), nil)
	tok := s.login(adminEmail, adminPassword) // declares offline
	adminID := meID(t, s, tok)
	inbox := s.inboxToken(tok)

	agent := agentTab(t, s, adminEmail, adminPassword)
	waitJS(t, agent, "the real availability from /me", `document.getElementById('presence').value === 'offline'`)
	goOnlineInUI(t, s, agent, tok, adminID)
	waitJS(t, agent, "the dot follows the toggle", `document.getElementById('presence-dot').classList.contains('online')`)

	host := hostPage(t, s.URL+"/widget.js", inbox, "")
	visitor := browsertest.Tab(t)
	frame := openWidget(t, visitor, host)
	browsertest.Run(t, visitor, wait, chromedp.SendKeys("#composer", "您好，我想咨询一下发票\r", chromedp.ByQuery, chromedp.FromNode(frame)))
	inFrame(t, visitor, frame, `document.querySelector('.msg.own[data-seq]')`, nil)

	conv := s.onlyConversation(tok)
	id := num(conv["id"])
	if got := num(conv["assignee_id"]); got != adminID {
		t.Fatalf("conversation assigned to %d, want the online agent %d", got, adminID)
	}
	// The agent's list (the Mine tab) shows it live, with the preview.
	item := fmt.Sprintf(`#conv-list a.conv[data-id="%d"]`, id)
	waitJS(t, agent, "the conversation in Mine", fmt.Sprintf(`(document.querySelector(%s)?.textContent || '').includes('发票')`, jsString(item)))
	openFromList(t, agent, item, id)
	browsertest.Run(t, agent, uiWait, chromedp.WaitVisible(`#messages li[data-sender="contact"]`, chromedp.ByQuery))
	if a := evalString(t, agent, `document.getElementById('assignee').value`); a != fmt.Sprint(adminID) {
		t.Fatalf("assignee shown %q, want %d", a, adminID)
	}
	browsertest.Run(t, agent, uiWait,
		chromedp.SendKeys("#composer", "您好！请提供订单号，我帮您开发票。", chromedp.ByQuery),
		pressEnter())

	var reply string
	inFrame(t, visitor, frame, `(Array.from(document.querySelectorAll('.msg.them .text')).map(e => e.textContent).find(s => s.includes('开发票'))) || ''`, &reply)
	if reply != "您好！请提供订单号，我帮您开发票。" {
		t.Fatalf("the visitor sees %q", reply)
	}
	waitJS(t, agent, "the reply in the workbench", `[...document.querySelectorAll('#messages li.msg.out')].some(li => li.textContent.includes('开发票'))`)
	if _, bodies := s.history(tok, id); !strings.Contains(strings.Join(bodies, "\n"), "开发票") {
		t.Fatalf("stored %q", bodies)
	}
	browsertest.MustScreenshot(t, visitor, "widget")
	browsertest.MustScreenshot(t, agent, "workbench")
}
