package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/kefu-chat/kefu/internal/auth"
	"github.com/kefu-chat/kefu/internal/browsertest"
)

// The routing workflows in the workbench: a transfer from one agent to
// another and on to a team, and the reminder that a visitor waits on an
// agent. Each agent has a Chromium of their own.

// recordToasts keeps the text of every toast the page shows from now on
// in window.__toasts: a toast lasts four seconds, too short to rely on
// catching it by polling on a loaded machine.
func recordToasts() chromedp.Action {
	return chromedp.Evaluate(`(() => { if (window.__toasts) return true; window.__toasts = [];
		new MutationObserver((ms) => { for (const m of ms) for (const n of m.addedNodes) if (n.classList && n.classList.contains('toast')) window.__toasts.push(n.textContent); })
			.observe(document.body, { childList: true }); return true; })()`, nil)
}

// recordNotifications grants notifications and makes the page believe the
// agent is looking at another window, so the workbench's alerts become
// system notifications; it records them ("title | body") in
// window.__notes instead of showing them.
func recordNotifications() chromedp.Action {
	return chromedp.Evaluate(`(() => { window.__notes = [];
		window.Notification = class { constructor(title, o) { window.__notes.push(title + ' | ' + ((o && o.body) || '')); } close() {}
			static get permission() { return 'granted'; } static requestPermission() { return Promise.resolve('granted'); } };
		document.hasFocus = () => false; return true; })()`, nil)
}

// jsHas is a JavaScript expression: the array expr holds s.
func jsHas(expr, s string) string { return fmt.Sprintf(`(%s || []).includes(%s)`, expr, jsString(s)) }

// waitLive waits until the workbench's socket is welcomed: from then on
// the server routes live frames to it.
func waitLive(t *testing.T, ctx context.Context) {
	t.Helper()
	waitJS(t, ctx, "the live connection", `document.getElementById('conn')?.textContent === 'Live'`)
}

func convItem(id int64) string { return fmt.Sprintf(`#conv-list a.conv[data-id="%d"]`, id) }

// TestWorkbenchTransferToAgentThenTeam: agent A (the admin), assigned a
// visitor's chat by routing, transfers it in the workbench to agent B
// with a note. B's workbench, open in another browser, notifies B and
// lists the conversation; B opens it and finds the whole history with
// the note. B then transfers it to a team of which A is the only member,
// and routing gives it back to A. The visitor's widget shows who joined,
// and never a note, live or after a reload.
func TestWorkbenchTransferToAgentThenTeam(t *testing.T) {
	s := start(t, t.TempDir(), nil)
	tok := s.login(adminEmail, adminPassword)
	adminID := meID(t, s, tok)
	mustCall(t, 201, "POST", s.URL+"/api/v1/agents", tok, map[string]any{"email": "li@example.com", "name": "Li", "password": "agent-password-1", "role": "agent"})
	liTok := s.login("li@example.com", "agent-password-1") // offline: routing gives Li nothing
	liID := meID(t, s, liTok)
	teamID := num(mustCall(t, 201, "POST", s.URL+"/api/v1/teams", tok, map[string]any{"name": "售后 After-sales", "agent_ids": []int64{adminID}})["id"])
	inboxID, inbox := firstInbox(t, s, tok)

	a := agentTab(t, s, adminEmail, adminPassword)
	goOnlineInUI(t, s, a, tok, adminID)

	// The visitor is a shop customer the page identifies, so the agents
	// see a name.
	secret := mustCall(t, 200, "POST", fmt.Sprintf("%s/api/v1/inboxes/%d/rotate_secret", s.URL, inboxID), tok, nil)["secret"].(string)
	stub := `<script>!function(w){var k=w.Kefu=w.Kefu||{q:[]};["identify","open","close","toggle","on","off","setLocale","reset"].forEach(function(m){k[m]=k[m]||function(){k.q.push([m,arguments])}})}(window);
Kefu.identify({id:'cust-7', hash:'` + auth.IdentifierHash(secret, "cust-7") + `', name:'王小明'});</script>`
	host := hostPage(t, s.URL+"/widget.js", inbox, stub)
	visitor := browsertest.Tab(t)
	frame := openWidget(t, visitor, host)
	waitFor(t, "the identified contact", func() bool {
		data := mustCall(t, 200, "GET", s.URL+"/api/v1/contacts?q=cust-7", tok, nil)["data"].([]any)
		return len(data) == 1 && data[0].(map[string]any)["name"] == "王小明"
	})
	browsertest.Run(t, visitor, wait, chromedp.SendKeys("#composer", "我的退款还没到账 where is my refund?\r", chromedp.ByQuery, chromedp.FromNode(frame)))
	inFrame(t, visitor, frame, `document.querySelector('.msg.own[data-seq]')`, nil)
	id := num(s.onlyConversation(tok)["id"])
	waitFor(t, "routing to give the chat to A", func() bool {
		return num(mustCall(t, 200, "GET", fmt.Sprintf("%s/api/v1/conversations/%d", s.URL, id), tok, nil)["assignee_id"]) == adminID
	})

	// A answers, then hands over to Li with a note.
	waitJS(t, a, "the conversation in A's list", fmt.Sprintf(`!!document.querySelector(%s)`, jsString(convItem(id))))
	openFromList(t, a, convItem(id), id)
	browsertest.Run(t, a, uiWait,
		chromedp.WaitVisible(`#messages li[data-sender="contact"]`, chromedp.ByQuery),
		chromedp.SendKeys("#composer", "Let me pass you to our billing colleague.", chromedp.ByQuery),
		pressEnter())
	inFrame(t, visitor, frame, `[...document.querySelectorAll('.msg.them .text')].some(e => e.textContent.includes('billing colleague'))`, nil)

	b := agentTab(t, s, "li@example.com", "agent-password-1")
	waitLive(t, b)
	browsertest.Run(t, b, uiWait, recordToasts(), recordNotifications())
	browsertest.Run(t, a, uiWait, recordToasts())
	if n := evalString(t, b, fmt.Sprintf(`String(document.querySelectorAll(%s).length)`, jsString(convItem(id)))); n != "0" {
		t.Fatal("the conversation is in Li's Mine tab before the transfer")
	}

	const note1 = "VIP: refund approved, please confirm the bank account 内部"
	browsertest.Run(t, a, uiWait,
		chromedp.Click("#transfer", chromedp.ByQuery),
		chromedp.WaitVisible("#transfer-form", chromedp.ByQuery),
		setSelect("#transfer-to", fmt.Sprintf("agent:%d", liID)),
		chromedp.SendKeys("#transfer-note", note1, chromedp.ByQuery),
		chromedp.Click("#transfer-ok", chromedp.ByQuery))
	waitJS(t, a, "the transfer done in A's view", fmt.Sprintf(`!document.getElementById('transfer-form') && document.getElementById('assignee').value === '%d' && %s`,
		liID, jsHas("window.__toasts", "Transferred.")))
	waitJS(t, a, "the conversation gone from A's Mine tab", fmt.Sprintf(`!document.querySelector(%s)`, jsString(convItem(id))))

	// Li is told, by name of the visitor, and finds it in Mine.
	waitJS(t, b, "the notification naming the visitor", jsHas("window.__notes", "Transferred to you | 王小明"))
	waitJS(t, b, "the toast naming the visitor", jsHas("window.__toasts", "Transferred to you: 王小明"))
	waitJS(t, b, "the conversation in Li's Mine tab", fmt.Sprintf(`(document.querySelector(%s)?.textContent || '').includes('王小明')`, jsString(convItem(id))))
	openFromList(t, b, convItem(id), id)
	waitJS(t, b, "the whole history and the note", `(() => {
		const text = (sel) => [...document.querySelectorAll(sel)].map((li) => li.textContent).join('\n');
		return text('#messages li[data-sender="contact"]').includes('where is my refund?') && text('#messages li.msg.out').includes('billing colleague') &&
			text('#messages li.msg.note').includes('Transferred to Li: `+note1+`'); })()`)
	if tag := evalString(t, b, `document.querySelector('#messages li.msg.note .note-tag')?.textContent || ''`); tag != "Private note" {
		t.Errorf("the transfer note is tagged %q", tag)
	}
	if got := evalString(t, b, `document.getElementById('assignee').value`); got != fmt.Sprint(liID) {
		t.Errorf("Li's view shows assignee %s", got)
	}
	var joined string
	inFrame(t, visitor, frame, `(document.querySelector('.notice')?.textContent || '').includes('Li') && document.querySelector('.notice').textContent`, &joined)
	if joined != "Li joined the conversation" {
		t.Errorf("the widget says %q", joined)
	}
	browsertest.Run(t, b, uiWait,
		chromedp.SendKeys("#composer", "Hi, this is Li from billing.", chromedp.ByQuery),
		pressEnter())
	inFrame(t, visitor, frame, `[...document.querySelectorAll('.msg.them .text')].some(e => e.textContent.includes('Li from billing'))`, nil)
	browsertest.Screenshot(t, b, "li-after-transfer")

	// Li passes it to the after-sales team; A, its only member and online,
	// gets it back from routing.
	const note2 = "Customer prefers Chinese 请用中文"
	browsertest.Run(t, b, uiWait,
		chromedp.Click("#transfer", chromedp.ByQuery),
		chromedp.WaitVisible("#transfer-form", chromedp.ByQuery),
		setSelect("#transfer-to", fmt.Sprintf("team:%d", teamID)),
		chromedp.SendKeys("#transfer-note", note2, chromedp.ByQuery),
		chromedp.Click("#transfer-ok", chromedp.ByQuery))
	waitJS(t, a, "the toast for A", jsHas("window.__toasts", "Assigned to you: 王小明"))
	c := mustCall(t, 200, "GET", fmt.Sprintf("%s/api/v1/conversations/%d", s.URL, id), tok, nil)
	if num(c["assignee_id"]) != adminID || num(c["team_id"]) != teamID || c["status"] != "open" {
		t.Fatalf("after the transfer to the team: assignee %v team %v status %v", c["assignee_id"], c["team_id"], c["status"])
	}
	waitJS(t, a, "the team and the second note in A's view", `document.getElementById('conv-team')?.textContent.includes('售后 After-sales') &&
		[...document.querySelectorAll('#messages li.msg.note')].some((li) => li.textContent.includes('Transferred to team 售后 After-sales: `+note2+`'))`)
	waitJS(t, b, "the conversation gone from Li's Mine tab", fmt.Sprintf(`!document.querySelector(%s)`, jsString(convItem(id))))
	inFrame(t, visitor, frame, `document.querySelector('.notice')?.textContent === 'admin joined the conversation'`, nil)
	browsertest.Screenshot(t, a, "a-after-team-transfer")

	// The agents' history holds everything, the notes as notes.
	_, bodies := s.history(tok, id)
	all := strings.Join(bodies, "\n")
	for _, want := range []string{"where is my refund?", "billing colleague", "Transferred to Li: " + note1, "Li from billing", "Transferred to team 售后 After-sales: " + note2} {
		if !strings.Contains(all, want) {
			t.Errorf("history lacks %q:\n%s", want, all)
		}
	}

	// The visitor never sees a note: not live, not in the history after a
	// reload.
	noNotes := func(when string) {
		t.Helper()
		var text string
		inFrame(t, visitor, frame, `document.body.innerText`, &text)
		for _, leak := range []string{"VIP", "bank account", "内部", "请用中文", "Transferred"} {
			if strings.Contains(text, leak) {
				t.Errorf("%s the widget shows %q:\n%s", when, leak, text)
			}
		}
	}
	noNotes("live,")
	browsertest.Run(t, visitor, wait, chromedp.Navigate(host+"/other"))
	frame = widgetFrame(t, visitor)
	inFrame(t, visitor, frame, `(() => { const t = [...document.querySelectorAll('.msg[data-seq] .text')].map((e) => e.textContent).join('\n');
		return t.includes('where is my refund?') && t.includes('billing colleague') && t.includes('Li from billing'); })()`, nil)
	noNotes("after a reload")
	browsertest.Screenshot(t, visitor, "widget")
}

// namedVisitor opens a widget session for a visitor with a name.
func (s *server) namedVisitor(inbox, name string) visitor {
	s.t.Helper()
	status, out := call(s.t, "POST", s.URL+"/api/v1/widget/sessions", "", map[string]any{"inbox_token": inbox, "name": name})
	if status != 200 && status != 201 {
		s.t.Fatalf("widget session: %d %v", status, out)
	}
	return visitor{Token: out["token"].(string), VisitorID: out["visitor_id"].(string), ContactID: num(out["contact"].(map[string]any)["id"])}
}

// TestWorkbenchReminderForTheAssigneeOnly: two visitors wait longer than
// the inbox's reminder time, one on A and one on Li. The sweep runs "ten
// minutes later" (Dispatcher.SweepAt, no waiting); each agent's workbench
// reminds them of their own conversation only, naming the visitor, in the
// list, a toast and a notification; the nudge in the conversation goes
// away when the agent answers.
func TestWorkbenchReminderForTheAssigneeOnly(t *testing.T) {
	s := start(t, t.TempDir(), nil)
	tok := s.login(adminEmail, adminPassword)
	adminID := meID(t, s, tok)
	mustCall(t, 201, "POST", s.URL+"/api/v1/agents", tok, map[string]any{"email": "li@example.com", "name": "Li", "password": "agent-password-1", "role": "agent"})
	liID := meID(t, s, s.login("li@example.com", "agent-password-1"))
	inboxID, inbox := firstInbox(t, s, tok)
	mustCall(t, 200, "PUT", fmt.Sprintf("%s/api/v1/inboxes/%d/routing", s.URL, inboxID), tok, map[string]any{"policy": "manual", "remind_after": 300})

	// Each conversation is assigned first, so the visitor's question is
	// the last message: the one waiting for an answer.
	waiting := func(name, question string, assignee int64) int64 {
		t.Helper()
		v := s.namedVisitor(inbox, name)
		id := s.startConversation(v)
		mustCall(t, 200, "PATCH", fmt.Sprintf("%s/api/v1/conversations/%d", s.URL, id), tok, map[string]any{"assignee_id": assignee})
		mustCall(t, 201, "POST", fmt.Sprintf("%s/api/v1/widget/conversations/%d/messages", s.URL, id), v.Token, map[string]any{"body": question})
		return id
	}
	mine := waiting("张伟 Zhang Wei", "还在吗？我的订单还没发货", adminID)
	theirs := waiting("Olivia Brown", "Hello? Still waiting for the invoice.", liID)

	a := agentTab(t, s, adminEmail, adminPassword)
	b := agentTab(t, s, "li@example.com", "agent-password-1")
	for _, ctx := range []context.Context{a, b} {
		waitLive(t, ctx)
		browsertest.Run(t, ctx, uiWait, recordToasts(), recordNotifications())
	}
	waitJS(t, a, "A's conversation in Mine", fmt.Sprintf(`!!document.querySelector(%s)`, jsString(convItem(mine))))
	waitJS(t, b, "Li's conversation in Mine", fmt.Sprintf(`!!document.querySelector(%s)`, jsString(convItem(theirs))))
	if n := evalString(t, a, `String(document.querySelectorAll('#conv-list a.conv.reminded').length)`); n != "0" {
		t.Fatalf("%s reminders before the sweep", n)
	}

	// Ten minutes later, by the sweep's clock.
	s.App.Routing.SweepAt(context.Background(), time.Now().Add(10*time.Minute))

	waitJS(t, a, "A reminded of Zhang Wei", fmt.Sprintf(`!!document.querySelector(%s + '.reminded .s-reminder') && %s && %s`, jsString(convItem(mine)),
		jsHas("window.__toasts", "张伟 Zhang Wei is waiting for your answer"), jsHas("window.__notes", "A visitor is waiting for your answer | 张伟 Zhang Wei")))
	waitJS(t, b, "Li reminded of Olivia Brown", fmt.Sprintf(`!!document.querySelector(%s + '.reminded .s-reminder') && %s && %s`, jsString(convItem(theirs)),
		jsHas("window.__toasts", "Olivia Brown is waiting for your answer"), jsHas("window.__notes", "A visitor is waiting for your answer | Olivia Brown")))

	// A conversation started after the sweep reaches both workbenches
	// after any reminder frame would have: once both list it, a reminder
	// for someone else's conversation would show by now.
	later := s.startConversation(s.namedVisitor(inbox, "Later Visitor"))
	for _, ctx := range []context.Context{a, b} {
		browsertest.Run(t, ctx, uiWait, chromedp.Click("#tab-all", chromedp.ByQuery))
		waitJS(t, ctx, "all three conversations in the All tab", fmt.Sprintf(`[%d, %d, %d].every((id) => document.querySelector('#conv-list a.conv[data-id="' + id + '"]'))`, mine, theirs, later))
	}
	reminded := func(ctx context.Context) string {
		return evalString(t, ctx, `[...document.querySelectorAll('#conv-list a.conv.reminded')].map((e) => e.dataset.id).join(',') + ' / ' + JSON.stringify(window.__toasts.filter((s) => s.includes('waiting'))) + ' / ' + JSON.stringify(window.__notes.filter((s) => s.includes('waiting')))`)
	}
	if got, want := reminded(a), fmt.Sprintf(`%d / ["张伟 Zhang Wei is waiting for your answer"] / ["A visitor is waiting for your answer | 张伟 Zhang Wei"]`, mine); got != want {
		t.Errorf("A's reminders\n got %s\nwant %s", got, want)
	}
	if got, want := reminded(b), fmt.Sprintf(`%d / ["Olivia Brown is waiting for your answer"] / ["A visitor is waiting for your answer | Olivia Brown"]`, theirs); got != want {
		t.Errorf("Li's reminders\n got %s\nwant %s", got, want)
	}
	browsertest.Screenshot(t, b, "li-reminded")

	// The conversation's view nudges A until A answers.
	openFromList(t, a, convItem(mine), mine)
	waitJS(t, a, "the nudge in the conversation", `(document.getElementById('reminder-nudge')?.textContent || '').includes('waiting for an answer since')`)
	browsertest.Screenshot(t, a, "a-reminded")
	browsertest.Run(t, a, uiWait,
		chromedp.SendKeys("#composer", "抱歉久等了，马上为您查询。", chromedp.ByQuery),
		pressEnter())
	waitJS(t, a, "the nudge gone after the answer", fmt.Sprintf(`!document.getElementById('reminder-nudge') && !document.querySelector(%s + '.reminded')`, jsString(convItem(mine))))
}
