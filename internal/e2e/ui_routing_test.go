package e2e

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/kefu-chat/kefu/internal/browsertest"
)

// setValue sets an input's value as typing would (input and change fire).
func setValue(sel, value string) chromedp.Action {
	return chromedp.Evaluate(fmt.Sprintf(`(() => { const e = document.querySelector(%s); e.value = %s;
		e.dispatchEvent(new Event('input', { bubbles: true })); e.dispatchEvent(new Event('change', { bubbles: true })); return true; })()`,
		jsString(sel), jsString(value)), nil)
}

func firstInbox(t *testing.T, s *server, tok string) (id int64, token string) {
	t.Helper()
	in := mustCall(t, 200, "GET", s.URL+"/api/v1/inboxes", tok, nil)["data"].([]any)[0].(map[string]any)
	return num(in["id"]), in["public_token"].(string)
}

// TestWidgetQueueThenAgentJoins: with a capacity of one chat and the only
// agent busy, a visitor in the widget is told they are number 1 in the
// queue; the workbench shows the queue; when the agent resolves the first
// chat in the workbench, the widget shows the agent joining.
func TestWidgetQueueThenAgentJoins(t *testing.T) {
	s := start(t, t.TempDir(), nil)
	tok := s.login(adminEmail, adminPassword)
	adminID := meID(t, s, tok)
	inboxID, inbox := firstInbox(t, s, tok)
	mustCall(t, 200, "PUT", fmt.Sprintf("%s/api/v1/inboxes/%d/routing", s.URL, inboxID), tok, map[string]any{"default_capacity": 1})

	agent := agentTab(t, s, adminEmail, adminPassword)
	goOnlineInUI(t, s, agent, tok, adminID)
	busy := s.visitorSession(inbox, "")
	first := s.startConversation(busy)
	mustCall(t, 201, "POST", fmt.Sprintf("%s/api/v1/widget/conversations/%d/messages", s.URL, first), busy.Token, map[string]any{"body": "first chat"})
	if got := num(mustCall(t, 200, "GET", fmt.Sprintf("%s/api/v1/conversations/%d", s.URL, first), tok, nil)["assignee_id"]); got != adminID {
		t.Fatalf("first chat assigned to %d, want %d", got, adminID)
	}

	visitor := browsertest.Tab(t)
	frame := openWidget(t, visitor, hostPage(t, s.URL+"/widget.js", inbox, ""))
	browsertest.Run(t, visitor, wait, chromedp.SendKeys("#composer", "is anyone there?\r", chromedp.ByQuery, chromedp.FromNode(frame)))
	var notice string
	inFrame(t, visitor, frame, `document.querySelector('.notice.queue')?.textContent || ''`, &notice)
	if !strings.Contains(notice, "number 1 in the queue") {
		t.Fatalf("queue notice %q", notice)
	}
	browsertest.Screenshot(t, visitor, "queued")

	// The workbench counts the queue and orders Unassigned by it.
	waitJS(t, agent, "the queue indicator", `document.getElementById('queue-indicator').textContent.includes('1 waiting')`)
	browsertest.Run(t, agent, uiWait, chromedp.Click("#tab-unassigned", chromedp.ByQuery))
	waitJS(t, agent, "the queued conversation first, with its place", `(document.querySelector('#conv-list a.conv')?.textContent || '').includes('No. 1 in queue')`)

	// The agent resolves the first chat from the workbench.
	browsertest.Run(t, agent, uiWait,
		chromedp.Navigate(fmt.Sprintf("%s/app/conversations/%d", s.URL, first)),
		chromedp.WaitVisible(`#messages li[data-sender="contact"]`, chromedp.ByQuery),
		chromedp.Click("#resolve", chromedp.ByQuery),
		chromedp.WaitVisible("#reopen", chromedp.ByQuery))
	inFrame(t, visitor, frame, `!document.querySelector('.notice.queue') && (document.querySelector('.notice')?.textContent || '')`, &notice)
	if notice != "admin joined the conversation" {
		t.Fatalf("after the agent had room the widget says %q", notice)
	}
	waitJS(t, agent, "the queue emptied", `document.getElementById('queue-indicator').textContent.includes('0 waiting')`)
	browsertest.Screenshot(t, visitor, "joined")
	browsertest.Screenshot(t, agent, "workbench")
}

// TestAdminRoutingPages: a team, an inbox's policy and business hours
// (with an overnight shift and a holiday) and a routing rule are set up
// through the admin console; the API holds exactly that, a server-side
// validation error is shown, and the rule labels a new conversation.
func TestAdminRoutingPages(t *testing.T) {
	s := start(t, t.TempDir(), nil)
	tok := s.login(adminEmail, adminPassword)
	inboxID, inbox := firstInbox(t, s, tok)
	ctx := agentTab(t, s, adminEmail, adminPassword)

	browsertest.Run(t, ctx, uiWait,
		chromedp.Navigate(s.URL+"/app/admin/teams"),
		chromedp.WaitVisible("#team-form-name", chromedp.ByQuery),
		chromedp.SendKeys("#team-form-name", "售后 After-sales", chromedp.ByQuery),
		chromedp.Click("#team-form-submit", chromedp.ByQuery),
		chromedp.WaitVisible(`#teams-table tbody tr`, chromedp.ByQuery),
		chromedp.Click(`#teams-table tbody tr input[type=checkbox]`, chromedp.ByQuery),
		chromedp.Click(`#teams-table tbody tr .save-members`, chromedp.ByQuery))
	var teamID int64
	deadline := time.Now().Add(wait)
	for teamID == 0 {
		for _, x := range mustCall(t, 200, "GET", s.URL+"/api/v1/teams", tok, nil)["data"].([]any) {
			if tm := x.(map[string]any); tm["name"] == "售后 After-sales" && len(tm["agent_ids"].([]any)) == 1 {
				teamID = num(tm["id"])
			}
		}
		if teamID == 0 && time.Now().After(deadline) {
			t.Fatal("the team with its member never reached the API")
		}
		time.Sleep(20 * time.Millisecond)
	}

	browsertest.Run(t, ctx, uiWait,
		chromedp.Navigate(s.URL+"/app/admin/routing"),
		chromedp.WaitVisible("#routing-form", chromedp.ByQuery),
		setSelect("#routing-policy", "round_robin"),
		chromedp.Click("#hours-always", chromedp.ByQuery),
		setValue("#hours-zone", "Mars/Olympus"),
		chromedp.Click(`.add-interval[data-day="1"]`, chromedp.ByQuery), // Monday 09:00–18:00 by default
		chromedp.Click(`.add-interval[data-day="5"]`, chromedp.ByQuery),
		setValue(`.intervals[data-day="5"] .iv-start`, "22:00"),
		setValue(`.intervals[data-day="5"] .iv-end`, "02:00"),
		chromedp.Click("#add-holiday", chromedp.ByQuery),
		setValue("#hours-holidays input", "2026-10-01"),
		chromedp.Click(fmt.Sprintf(`#routing-teams input[value="%d"]`, teamID), chromedp.ByQuery),
		setValue("#routing-remind", "5"),
		chromedp.Click("#routing-submit", chromedp.ByQuery))
	waitJS(t, ctx, "the server's error about the zone", `document.getElementById('routing-error').textContent.includes('Mars/Olympus')`)
	if txt := evalString(t, ctx, `document.querySelector('.intervals[data-day="5"] .overnight').textContent`); txt == "" {
		t.Error("the overnight interval is not marked as such")
	}
	browsertest.Run(t, ctx, uiWait, setValue("#hours-zone", "Asia/Shanghai"), chromedp.Click("#routing-submit", chromedp.ByQuery))
	waitJS(t, ctx, "saved", `document.querySelector('.toast')?.textContent === 'Saved.' && !document.getElementById('routing-error')?.textContent`)
	st := mustCall(t, 200, "GET", fmt.Sprintf("%s/api/v1/inboxes/%d/routing", s.URL, inboxID), tok, nil)
	bh, _ := st["business_hours"].(map[string]any)
	got := fmt.Sprint(st["policy"], " ", st["team_ids"], " ", st["remind_after"], " ", bh["time_zone"], " ", bh["weekly"], " ", bh["holidays"])
	want := fmt.Sprintf("round_robin [%d] 300 Asia/Shanghai map[1:[map[end:1080 start:540]] 5:[map[end:120 start:1320]]] [2026-10-01]", teamID)
	if got != want {
		t.Fatalf("routing settings\n got %s\nwant %s", got, want)
	}

	// A rule: page_url contains /pricing -> label "pricing-lead".
	browsertest.Run(t, ctx, uiWait,
		chromedp.Navigate(s.URL+"/app/admin/rules"),
		chromedp.WaitVisible("#rule-form", chromedp.ByQuery),
		chromedp.SendKeys("#rule-name", "Pricing leads", chromedp.ByQuery),
		chromedp.Click("#add-condition", chromedp.ByQuery),
		chromedp.SendKeys("#rule-conditions .cond-value", "/pricing", chromedp.ByQuery),
		chromedp.Click("#add-action", chromedp.ByQuery),
		setSelect("#rule-actions .act-type", "set_priority"),
		setSelect("#rule-actions .act-value", "nope"), // not an option: stays on the first
		setSelect("#rule-actions .act-type", "add_label"),
		chromedp.Click("#rule-submit", chromedp.ByQuery))
	waitJS(t, ctx, "the server refusing an empty label", `document.getElementById('rule-error').textContent !== ''`)
	browsertest.Run(t, ctx, uiWait,
		chromedp.SendKeys("#rule-actions .act-value", "pricing-lead", chromedp.ByQuery),
		chromedp.Click("#rule-submit", chromedp.ByQuery),
		chromedp.WaitVisible(`#rules-table tbody tr`, chromedp.ByQuery))
	if txt := evalString(t, ctx, `document.getElementById('rules-table').innerText`); !strings.Contains(txt, "Pricing leads") || !strings.Contains(txt, "/pricing") {
		t.Fatalf("rules table %q", txt)
	}
	browsertest.Screenshot(t, ctx, "rules")

	_, out := call(t, "POST", s.URL+"/api/v1/widget/sessions", "", map[string]any{"inbox_token": inbox, "page_url": "https://shop.example/pricing?plan=pro"})
	v := visitor{Token: out["token"].(string)}
	conv := s.startConversation(v)
	labels := mustCall(t, 200, "GET", fmt.Sprintf("%s/api/v1/conversations/%d", s.URL, conv), tok, nil)["labels"].([]any)
	if !slices.Contains(labels, any("pricing-lead")) {
		t.Fatalf("labels of a /pricing conversation: %v", labels)
	}
}

// TestBotThroughTheUIs: the admin imports the sample FAQ and turns the bot
// on (bot_first) in the console; a visitor in the widget gets answers in
// Chinese and English, sees the quick replies and picks the one for a
// person; the online agent is assigned the conversation and sees the bot's
// messages badged and its transcript; "suggest" puts a knowledge-base
// answer to the visitor's next question into the composer.
func TestBotThroughTheUIs(t *testing.T) {
	s := start(t, t.TempDir(), nil)
	tok := s.login(adminEmail, adminPassword)
	adminID := meID(t, s, tok)
	inboxID, inbox := firstInbox(t, s, tok)
	agent := agentTab(t, s, adminEmail, adminPassword)

	browsertest.Run(t, agent, uiWait,
		chromedp.Navigate(s.URL+"/app/admin/kb"),
		chromedp.WaitVisible("#import-sample", chromedp.ByQuery),
		chromedp.Click("#import-sample", chromedp.ByQuery))
	waitJS(t, agent, "the imported FAQ listed", `document.getElementById('kb-status').textContent.startsWith('400 entries') && document.querySelectorAll('#faq-table tbody tr').length === 50`)
	browsertest.Run(t, agent, uiWait, chromedp.SendKeys("#kb-search", "退货", chromedp.ByQuery))
	waitJS(t, agent, "the search narrowing the list", `(() => { const rows = [...document.querySelectorAll('#faq-table tbody tr')]; return rows.length > 0 && rows.length < 50 && rows.every(r => r.textContent.includes('退货')); })()`)

	browsertest.Run(t, agent, uiWait,
		chromedp.Navigate(s.URL+"/app/admin/bot"),
		chromedp.WaitVisible("#bot-form", chromedp.ByQuery),
		setSelect("#bot-mode", "bot_first"),
		setValue("#bot-greeting", "您好！我是智能客服。"),
		setValue("#bot-quick", "怎么查看订单状态"),
		setValue("#bot-handoff", "3"),
		setValue("#bot-threshold", "0"),
		chromedp.Click("#bot-submit", chromedp.ByQuery))
	waitJS(t, agent, "saved", `document.querySelector('.toast')?.textContent === 'Saved.'`)
	if st := mustCall(t, 200, "GET", fmt.Sprintf("%s/api/v1/inboxes/%d/bot", s.URL, inboxID), tok, nil); st["mode"] != "bot_first" || fmt.Sprint(st["quick_replies"]) != "[怎么查看订单状态]" {
		t.Fatalf("bot settings %v", st)
	}
	browsertest.Run(t, agent, uiWait, chromedp.Navigate(s.URL+"/app/conversations"), chromedp.WaitVisible(`.workbench[data-loaded="true"]`, chromedp.ByQuery))
	goOnlineInUI(t, s, agent, tok, adminID)

	visitor := browsertest.Tab(t)
	frame := openWidget(t, visitor, hostPage(t, s.URL+"/widget.js", inbox, ""))
	say := func(text string, bots int) {
		t.Helper()
		browsertest.Run(t, visitor, wait, chromedp.SendKeys("#composer", text+"\r", chromedp.ByQuery, chromedp.FromNode(frame)))
		inFrame(t, visitor, frame, fmt.Sprintf(`document.querySelectorAll('.msg.bot[data-seq]').length >= %d`, bots), nil)
	}
	say("订单进度怎么查", 2) // the greeting and the answer
	say("How do I return an item?", 3)
	var bots []string
	inFrame(t, visitor, frame, `Array.from(document.querySelectorAll('.msg.bot .text')).map(e => e.textContent)`, &bots)
	if len(bots) != 3 || bots[0] != "您好！我是智能客服。" || !strings.Contains(bots[1], "订单") || !strings.Contains(strings.ToLower(bots[2]), "return") {
		t.Fatalf("bot messages in the widget: %q", bots)
	}
	say("qwertyuiop zxcvbnm", 4) // nothing in the knowledge base: the fallback offers the quick replies
	var chips []string
	inFrame(t, visitor, frame, `Array.from(document.querySelectorAll('.msg.bot .quick .chip')).map(e => e.textContent)`, &chips)
	if len(chips) != 2 || chips[0] != "怎么查看订单状态" {
		t.Fatalf("quick replies %q", chips)
	}
	browsertest.Screenshot(t, visitor, "bot")
	browsertest.Run(t, visitor, wait, chromedp.Click(`.msg.bot .quick .chip:last-child`, chromedp.ByQuery, chromedp.FromNode(frame)))

	// The hand-off queues the conversation and routing gives it to the
	// online agent, who sees the bot's work.
	conv := num(s.onlyConversation(tok)["id"])
	item := fmt.Sprintf(`#conv-list a.conv[data-id="%d"]`, conv)
	waitJS(t, agent, "the handed-off conversation in Mine", fmt.Sprintf(`!!document.querySelector(%s)`, jsString(item)))
	if got := num(mustCall(t, 200, "GET", fmt.Sprintf("%s/api/v1/conversations/%d", s.URL, conv), tok, nil)["assignee_id"]); got != adminID {
		t.Fatalf("handed-off conversation assigned to %d, want %d", got, adminID)
	}
	openFromList(t, agent, item, conv)
	browsertest.Run(t, agent, uiWait, chromedp.WaitVisible("#bot-transcript", chromedp.ByQuery))
	waitJS(t, agent, "the transcript with the hand-off", `document.getElementById('bot-transcript').open && !!document.querySelector('#bot-transcript li[data-outcome="handoff"]') && document.querySelectorAll('#bot-transcript li').length === 5`)
	if n := evalString(t, agent, `String(document.querySelectorAll('#messages li.msg.bot .bot-badge').length)`); len(n) != 1 || n < "4" { // greeting, 2 answers, fallback, the hand-off's goodbye
		t.Errorf("%s bot messages badged in the workbench", n)
	}
	if q := evalString(t, agent, `[...document.querySelectorAll('#messages li.msg.bot .quick-replies .chip')].map(e => e.textContent).join('|')`); !strings.HasPrefix(q, "怎么查看订单状态|") {
		t.Errorf("quick replies in the workbench %q", q)
	}
	if c := evalString(t, agent, `[...document.querySelectorAll('#messages li.msg.bot .confidence')].map(e => e.textContent).join('|')`); !strings.Contains(c, "%") {
		t.Errorf("the answers' confidence is not shown: %q", c)
	}

	// The visitor asks again; the bot is quiet now; the agent takes a
	// suggestion from the knowledge base.
	browsertest.Run(t, visitor, wait, chromedp.SendKeys("#composer", "怎么退货\r", chromedp.ByQuery, chromedp.FromNode(frame)))
	waitJS(t, agent, "the visitor's question", `[...document.querySelectorAll('#messages li[data-sender="contact"]')].some(li => li.textContent.includes('怎么退货'))`)
	browsertest.Run(t, agent, uiWait, chromedp.Click("#suggest", chromedp.ByQuery), chromedp.WaitVisible("#suggestions button.suggestion", chromedp.ByQuery))
	suggestion := evalString(t, agent, `document.querySelector('#suggestions button.suggestion .text').textContent`)
	browsertest.Run(t, agent, uiWait, chromedp.Click("#suggestions button.suggestion", chromedp.ByQuery))
	waitJS(t, agent, "the suggestion in the composer", `document.getElementById('composer').value !== '' && document.getElementById('suggestions').hidden`)
	if got := evalString(t, agent, `document.getElementById('composer').value`); got != suggestion || !strings.Contains(got, "退") {
		t.Fatalf("composer %q, suggestion %q", got, suggestion)
	}
	found := false
	for _, f := range mustCall(t, 200, "GET", s.URL+"/api/v1/bot/faqs", tok, nil)["data"].([]any) {
		found = found || f.(map[string]any)["answer"] == suggestion
	}
	if !found {
		t.Errorf("the suggestion %q is no knowledge-base answer", suggestion)
	}
	browsertest.Screenshot(t, agent, "workbench-bot")
}

// TestAdminAgentMaxConcurrent: the agents page sets an agent's own limit
// of chats at once, in the table and when adding an agent.
func TestAdminAgentMaxConcurrent(t *testing.T) {
	s := start(t, t.TempDir(), nil)
	tok := s.login(adminEmail, adminPassword)
	ctx := agentTab(t, s, adminEmail, adminPassword)
	agentBy := func(email string) map[string]any {
		for _, x := range mustCall(t, 200, "GET", s.URL+"/api/v1/agents", tok, nil)["data"].([]any) {
			if a := x.(map[string]any); a["email"] == email {
				return a
			}
		}
		return nil
	}
	waitMax := func(email string, want int64) {
		t.Helper()
		deadline := time.Now().Add(wait)
		for {
			a := agentBy(email)
			if a != nil && num(a["max_concurrent"]) == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("agent %s = %v, want max_concurrent %d", email, a, want)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	browsertest.Run(t, ctx, uiWait,
		chromedp.Navigate(s.URL+"/app/admin/agents"),
		chromedp.WaitVisible(`#agents-table tbody tr .max-concurrent`, chromedp.ByQuery),
		setValue(`#agents-table tbody tr .max-concurrent`, "3"))
	waitMax(adminEmail, 3)
	browsertest.Run(t, ctx, uiWait,
		chromedp.WaitVisible("#agent-form-max_concurrent", chromedp.ByQuery),
		chromedp.SendKeys("#agent-form-name", "Li", chromedp.ByQuery),
		chromedp.SendKeys("#agent-form-email", "li@example.com", chromedp.ByQuery),
		chromedp.SendKeys("#agent-form-password", "agent-password-1", chromedp.ByQuery),
		setValue("#agent-form-max_concurrent", "2"),
		chromedp.Click("#agent-form-submit", chromedp.ByQuery))
	waitMax("li@example.com", 2)
}
