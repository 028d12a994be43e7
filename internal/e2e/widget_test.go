package e2e

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/kefu-chat/kefu/internal/auth"
	"github.com/kefu-chat/kefu/internal/browsertest"
	"github.com/kefu-chat/kefu/internal/config"
	"github.com/kefu-chat/kefu/internal/kefutest"
)

// goOnline connects an agent and declares it online, so the widget offers
// chat rather than the offline form.
func (s *server) goOnline(agentTok, inbox string) *kefutest.WSClient {
	s.t.Helper()
	// Manual routing: the agent is online but nothing is assigned on its
	// own, so no "Assigned to" line takes a seq these tests count.
	for _, in := range mustCall(s.t, 200, "GET", s.URL+"/api/v1/inboxes", agentTok, nil)["data"].([]any) {
		if m := in.(map[string]any); m["public_token"] == inbox {
			mustCall(s.t, 200, "PUT", fmt.Sprintf("%s/api/v1/inboxes/%d/routing", s.URL, num(m["id"])), agentTok, map[string]any{"policy": "manual"})
		}
	}
	ag := s.dial("/ws/agent", agentTok, "")
	ag.Send(map[string]any{"type": "presence", "status": "online"})
	deadline := time.Now().Add(wait)
	for {
		out := mustCall(s.t, 200, "GET", s.URL+"/api/v1/widget/config?inbox="+inbox, "", nil)
		if out["online"] == true {
			return ag
		}
		if time.Now().After(deadline) {
			s.t.Fatal("agent never showed as online")
		}
		// Within the default widget read limit (600/min per address).
		time.Sleep(100 * time.Millisecond)
	}
}

// onlyConversation returns the id of the workspace's one conversation.
func (s *server) onlyConversation(agentTok string) map[string]any {
	s.t.Helper()
	out := mustCall(s.t, 200, "GET", s.URL+"/api/v1/conversations", agentTok, nil)
	data := out["data"].([]any)
	if len(data) != 1 {
		s.t.Fatalf("want 1 conversation, got %d", len(data))
	}
	return data[0].(map[string]any)
}

// frameMessages is the text of the panel's stored messages, in order.
const frameMessages = `Array.from(document.querySelectorAll('.msg[data-seq]')).map(e => e.dataset.seq + ':' + e.querySelector('.text').textContent)`

// TestWidgetChatOnHostPage: a website embeds the snippet; the visitor
// opens the widget and writes; the message is stored; the agent's reply
// appears; the page's own scripts and styles are untouched. Then the
// visitor reloads (history is back) and the server restarts under the
// open widget, which resumes without losing or repeating a message.
func TestWidgetChatOnHostPage(t *testing.T) {
	dir := t.TempDir()
	s := start(t, dir, nil)
	tok := s.login(adminEmail, adminPassword)
	inbox := s.inboxToken(tok)
	s.goOnline(tok, inbox)
	host := hostPage(t, s.URL+"/widget.js", inbox, "")
	ctx := browsertest.Tab(t)

	browsertest.Run(t, ctx, wait, chromedp.Navigate(host))
	frame := widgetFrame(t, ctx)
	browsertest.Run(t, ctx, wait, chromedp.Click(launcher, chromedp.ByJSPath))
	onPage(t, ctx, shadow+`?.querySelector('iframe.open') && `+launcher+`.getAttribute('aria-expanded') === 'true'`, nil)
	// Enter sends; Shift+Enter would make a new line.
	browsertest.Run(t, ctx, wait, chromedp.SendKeys("#composer", "你好, my order is late\r", chromedp.ByQuery, chromedp.FromNode(frame)))
	inFrame(t, ctx, frame, `document.querySelector('.msg.own[data-seq="1"]')`, nil)

	conv := s.onlyConversation(tok)
	id := num(conv["id"])
	if _, bodies := s.history(tok, id); !slices.Equal(bodies, []string{"你好, my order is late"}) {
		t.Fatalf("stored %v", bodies)
	}
	contact := mustCall(t, 200, "GET", fmt.Sprintf("%s/api/v1/contacts/%d", s.URL, num(conv["contact_id"])), tok, nil)
	if contact["page_url"] != host+"/" || !strings.Contains(contact["user_agent"].(string), "Chrome") {
		t.Fatalf("contact page_url %v user_agent %v", contact["page_url"], contact["user_agent"])
	}

	mustCall(t, 201, "POST", fmt.Sprintf("%s/api/v1/conversations/%d/messages", s.URL, id), tok, map[string]any{"body": "Sorry! Let me check https://track.example/123."})
	inFrame(t, ctx, frame, `document.querySelector('.msg.them[data-seq="2"] a[href="https://track.example/123"][rel="noopener noreferrer"]')`, nil)
	browsertest.Screenshot(t, ctx, "chat")

	// The host page's own script still runs and nothing threw.
	var count string
	browsertest.Run(t, ctx, wait, chromedp.Click("#hostbtn", chromedp.ByQuery), chromedp.Text("#count", &count, chromedp.ByQuery))
	var errs []string
	browsertest.Run(t, ctx, wait, chromedp.Evaluate(`window.hostErrors`, &errs))
	if count != "1" || len(errs) != 0 {
		t.Fatalf("host page: count %q, errors %v", count, errs)
	}

	// A returning visitor (reload, another page of the site) sees the
	// history, once.
	browsertest.Run(t, ctx, wait, chromedp.Navigate(host+"/other"))
	frame = widgetFrame(t, ctx)
	var msgs []string
	inFrame(t, ctx, frame, `document.querySelectorAll('.msg[data-seq]').length === 2 && `+frameMessages, &msgs)
	if !slices.Equal(msgs, []string{"1:你好, my order is late", "2:Sorry! Let me check https://track.example/123."}) {
		t.Fatalf("history after reload %q", msgs)
	}
	// The panel was open before the navigation, so it is open again.
	onPage(t, ctx, shadow+`?.querySelector('iframe.open')`, nil)
	inFrame(t, ctx, frame, `!document.querySelector('.banner')`, nil)

	// Restart the server on the same data and port under the open widget.
	addr := strings.TrimPrefix(s.URL, "http://")
	s.stop()
	inFrame(t, ctx, frame, `document.querySelector('.banner')`, nil) // "Reconnecting…"
	s2 := start(t, dir, func(c *config.Config) { c.Listen = addr })
	tok = s2.login(adminEmail, adminPassword)
	inFrame(t, ctx, frame, `!document.querySelector('.banner')`, nil)
	browsertest.Run(t, ctx, wait, chromedp.SendKeys("#composer", "still there?\r", chromedp.ByQuery, chromedp.FromNode(frame)))
	inFrame(t, ctx, frame, `document.querySelector('.msg.own[data-seq="3"]')`, nil)
	mustCall(t, 201, "POST", fmt.Sprintf("%s/api/v1/conversations/%d/messages", s2.URL, id), tok, map[string]any{"body": "Yes, it ships today."})
	inFrame(t, ctx, frame, `document.querySelectorAll('.msg[data-seq]').length === 4 && `+frameMessages, &msgs)
	want := []string{"1:你好, my order is late", "2:Sorry! Let me check https://track.example/123.", "3:still there?", "4:Yes, it ships today."}
	if !slices.Equal(msgs, want) {
		t.Fatalf("after restart the widget shows %q", msgs)
	}
	if seqs, bodies := s2.history(tok, id); !slices.Equal(seqs, []int64{1, 2, 3, 4}) || bodies[2] != "still there?" {
		t.Fatalf("stored after restart %v %v", seqs, bodies)
	}
	var pending int
	browsertest.Run(t, ctx, wait, chromedp.Evaluate(`window.hostErrors.length`, &pending))
	if pending != 0 {
		t.Fatal("host page saw errors during the restart")
	}
	browsertest.Screenshot(t, ctx, "after-restart")
}

// TestWidgetOfflineForm: with no agent online the widget asks for an
// email and a message, and the message lands in the inbox.
func TestWidgetOfflineForm(t *testing.T) {
	s := start(t, t.TempDir(), nil)
	tok := s.login(adminEmail, adminPassword)
	inbox := s.inboxToken(tok)
	// The queue stub: calls made before widget.js arrives are kept.
	stub := `<script>!function(w){var k=w.Kefu=w.Kefu||{q:[]};["identify","open","close","toggle","on","off","setLocale","reset"].forEach(function(m){k[m]=k[m]||function(){k.q.push([m,arguments])}})}(window);
Kefu.setLocale('zh-CN'); Kefu.on('ready', function(){ window.kefuReady = true }); Kefu.on('open', function(){ window.kefuOpened = true }); Kefu.open();</script>`
	host := hostPage(t, s.URL+"/widget.js", inbox, stub)
	ctx := browsertest.Tab(t)
	browsertest.Run(t, ctx, wait, chromedp.EmulateViewport(375, 700), chromedp.Navigate(host))
	frame := widgetFrame(t, ctx)
	onPage(t, ctx, `window.kefuReady && window.kefuOpened && `+shadow+`?.querySelector('iframe.open')`, nil)
	// Phone-sized screen: the panel takes the whole viewport.
	var width float64
	onPage(t, ctx, shadow+`?.querySelector('iframe.open').getBoundingClientRect().width`, &width)
	if width != 375 {
		t.Fatalf("panel width on a phone %v, want 375", width)
	}
	var intro string
	inFrame(t, ctx, frame, `document.querySelector('#offline-intro') && document.querySelector('#offline-intro').textContent`, &intro)
	if !strings.Contains(intro, "我们暂时不在线") {
		t.Fatalf("offline intro %q, want zh-CN", intro)
	}
	// Submitting without an email is refused in the form.
	browsertest.Run(t, ctx, wait, chromedp.SendKeys("#f-message", "请回电", chromedp.ByQuery, chromedp.FromNode(frame)),
		chromedp.Click("#offline-form button[type=submit]", chromedp.ByQuery, chromedp.FromNode(frame)))
	inFrame(t, ctx, frame, `document.querySelector('#offline-error').textContent`, nil)
	browsertest.Run(t, ctx, wait,
		chromedp.SendKeys("#f-name", "王先生", chromedp.ByQuery, chromedp.FromNode(frame)),
		chromedp.SendKeys("#f-email", "wang@example.com", chromedp.ByQuery, chromedp.FromNode(frame)),
		chromedp.Click("#offline-form button[type=submit]", chromedp.ByQuery, chromedp.FromNode(frame)))
	inFrame(t, ctx, frame, `document.querySelector('.msg.own[data-seq="1"]') && document.querySelector('#composer')`, nil)
	browsertest.Screenshot(t, ctx, "offline-sent")

	conv := s.onlyConversation(tok)
	if _, bodies := s.history(tok, num(conv["id"])); !slices.Equal(bodies, []string{"请回电"}) {
		t.Fatalf("stored %v", bodies)
	}
	c := mustCall(t, 200, "GET", fmt.Sprintf("%s/api/v1/contacts/%d", s.URL, num(conv["contact_id"])), tok, nil)
	if c["name"] != "王先生" || c["email"] != "wang@example.com" {
		t.Fatalf("contact %v", c)
	}
}

// TestWidgetPreChatAndRating: the inbox's pre-chat form must be filled
// (its answers land on the contact); after the agent resolves the
// conversation the visitor rates it and the agent sees the rating.
func TestWidgetPreChatAndRating(t *testing.T) {
	s := start(t, t.TempDir(), nil)
	tok := s.login(adminEmail, adminPassword)
	inboxes := mustCall(t, 200, "GET", s.URL+"/api/v1/inboxes", tok, nil)["data"].([]any)
	inbox := inboxes[0].(map[string]any)
	mustCall(t, 200, "PATCH", fmt.Sprintf("%s/api/v1/inboxes/%d", s.URL, num(inbox["id"])), tok, map[string]any{"widget": map[string]any{
		"prechat_enabled": true, "prechat_fields": []any{
			map[string]any{"name": "email", "type": "email", "required": true},
			map[string]any{"name": "topic", "label": "Topic", "type": "select", "required": true, "options": []string{"Billing", "Shipping"}},
		}}})
	token := inbox["public_token"].(string)
	s.goOnline(tok, token)
	ctx := browsertest.Tab(t)
	browsertest.Run(t, ctx, wait, chromedp.Navigate(s.URL+"/chat/"+token+"?locale=en"))
	browsertest.Run(t, ctx, wait, chromedp.WaitVisible("#prechat-form", chromedp.ByQuery))
	if err := chromedp.Run(ctx, chromedp.WaitNotPresent("#composer", chromedp.ByQuery)); err != nil {
		t.Fatal(err)
	}
	browsertest.Run(t, ctx, wait, chromedp.Click("#prechat-form button[type=submit]", chromedp.ByQuery))
	onPage(t, ctx, `document.querySelector('#prechat-error').textContent.includes('Email')`, nil)
	browsertest.Run(t, ctx, wait,
		chromedp.SendKeys("#f-email", "li@example.com", chromedp.ByQuery),
		chromedp.SetValue("#f-topic", "Shipping", chromedp.ByQuery),
		chromedp.Click("#prechat-form button[type=submit]", chromedp.ByQuery),
		chromedp.WaitVisible("#composer", chromedp.ByQuery),
		chromedp.SendKeys("#composer", "Where is my parcel?\r", chromedp.ByQuery))
	onPage(t, ctx, `document.querySelector('.msg.own[data-seq="1"]')`, nil)

	conv := s.onlyConversation(tok)
	id := num(conv["id"])
	c := mustCall(t, 200, "GET", fmt.Sprintf("%s/api/v1/contacts/%d", s.URL, num(conv["contact_id"])), tok, nil)
	if c["email"] != "li@example.com" || c["attributes"].(map[string]any)["topic"] != "Shipping" {
		t.Fatalf("contact %v", c)
	}

	// The agent takes it (the visitor is told), replies typing first, resolves.
	ag := mustCall(t, 200, "GET", s.URL+"/api/v1/me", tok, nil)
	mustCall(t, 200, "PATCH", fmt.Sprintf("%s/api/v1/conversations/%d", s.URL, id), tok, map[string]any{"assignee_id": num(ag["id"])})
	onPage(t, ctx, `[...document.querySelectorAll('.notice')].some(e => e.textContent.includes('joined the conversation'))`, nil)
	mustCall(t, 204, "POST", fmt.Sprintf("%s/api/v1/conversations/%d/typing", s.URL, id), tok, map[string]any{"on": true})
	onPage(t, ctx, `document.querySelector('.typing')`, nil)
	mustCall(t, 201, "POST", fmt.Sprintf("%s/api/v1/conversations/%d/messages", s.URL, id), tok, map[string]any{"body": "It arrives tomorrow."})
	// Seq 2 is the "Assigned to" event, which the widget does not show.
	mustCall(t, 200, "POST", fmt.Sprintf("%s/api/v1/conversations/%d/read", s.URL, id), tok, map[string]any{"seq": 3})
	onPage(t, ctx, `document.querySelector('.msg.them[data-seq="3"]') && !document.querySelector('.typing') && document.querySelector('.seen')`, nil)
	mustCall(t, 200, "PATCH", fmt.Sprintf("%s/api/v1/conversations/%d", s.URL, id), tok, map[string]any{"status": "resolved"})
	browsertest.Run(t, ctx, wait,
		chromedp.WaitVisible(`#rating .star[data-score="4"]`, chromedp.ByQuery),
		chromedp.Click(`#rating .star[data-score="4"]`, chromedp.ByQuery),
		chromedp.SendKeys("#rate-comment", "Quick and kind", chromedp.ByQuery),
		chromedp.Click(`#rating button[type=submit]`, chromedp.ByQuery),
		chromedp.WaitVisible(`#rating.done`, chromedp.ByQuery))
	browsertest.Screenshot(t, ctx, "rated")
	got := mustCall(t, 200, "GET", fmt.Sprintf("%s/api/v1/conversations/%d", s.URL, id), tok, nil)
	r, _ := got["rating"].(map[string]any)
	if r == nil || num(r["score"]) != 4 || r["comment"] != "Quick and kind" || r["rated_at"] == nil {
		t.Fatalf("rating %v", got["rating"])
	}
}

// TestWidgetIdentify: Kefu.identify with a valid HMAC binds the contact's
// external id; a wrong hash is refused and the visitor stays anonymous.
func TestWidgetIdentify(t *testing.T) {
	s := start(t, t.TempDir(), nil)
	tok := s.login(adminEmail, adminPassword)
	inboxes := mustCall(t, 200, "GET", s.URL+"/api/v1/inboxes", tok, nil)["data"].([]any)
	inbox := inboxes[0].(map[string]any)
	secret := mustCall(t, 200, "POST", fmt.Sprintf("%s/api/v1/inboxes/%d/rotate_secret", s.URL, num(inbox["id"])), tok, nil)["secret"].(string)
	hash := auth.IdentifierHash(secret, "cust-42")
	stub := `<script>!function(w){var k=w.Kefu=w.Kefu||{q:[]};["identify","open","close","toggle","on","off","setLocale","reset"].forEach(function(m){k[m]=k[m]||function(){k.q.push([m,arguments])}})}(window);
Kefu.identify({id:'cust-42', hash:'` + hash + `', name:'Li Lei', email:'li@shop.example', attributes:{plan:'gold'}});</script>`
	host := hostPage(t, s.URL+"/widget.js", inbox["public_token"].(string), stub)
	ctx := browsertest.Tab(t)
	browsertest.Run(t, ctx, wait, chromedp.Navigate(host))
	widgetFrame(t, ctx)
	// The identified contact exists with its external id and attributes.
	var found map[string]any
	deadline := time.Now().Add(wait)
	for found == nil {
		out := mustCall(t, 200, "GET", s.URL+"/api/v1/contacts?q=cust-42", tok, nil)
		if data := out["data"].([]any); len(data) == 1 && data[0].(map[string]any)["attributes"].(map[string]any)["plan"] == "gold" {
			found = data[0].(map[string]any)
		}
		if time.Now().After(deadline) {
			t.Fatal("identified contact never appeared")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if found["external_id"] != "cust-42" || found["name"] != "Li Lei" || found["email"] != "li@shop.example" {
		t.Fatalf("contact %v", found)
	}
	// A wrong hash: the promise rejects and no contact gets that id.
	var msg string
	browsertest.Run(t, ctx, wait, chromedp.Evaluate(`Kefu.identify({id:'cust-43', hash:'`+strings.Repeat("0", 64)+`'}).then(() => 'accepted', e => 'rejected: ' + e.message)`, &msg,
		func(p *runtime.EvaluateParams) *runtime.EvaluateParams { return p.WithAwaitPromise(true) }))
	if !strings.HasPrefix(msg, "rejected") {
		t.Fatalf("wrong hash: %s", msg)
	}
	out := mustCall(t, 200, "GET", s.URL+"/api/v1/contacts?q=cust-43", tok, nil)
	if len(out["data"].([]any)) != 0 {
		t.Fatal("a wrong hash bound an external id")
	}
	var errs []string
	browsertest.Run(t, ctx, wait, chromedp.Evaluate(`window.hostErrors`, &errs))
	if len(errs) != 0 {
		t.Fatalf("host page errors %v", errs)
	}
}

// TestWidgetKefuDown: the snippet pointing at a Kefu that is unreachable,
// or whose API fails, leaves the host page working and error-free, and
// leaves no half-drawn widget behind.
func TestWidgetKefuDown(t *testing.T) {
	s := start(t, t.TempDir(), nil)
	tok := s.login(adminEmail, adminPassword)
	inbox := s.inboxToken(tok)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String()
	ln.Close()

	target, _ := url.Parse(s.URL)
	proxy := httputil.NewSingleHostReverseProxy(target)
	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/api/") {
			http.Error(w, `{"error":{"code":"internal","message":"internal error"}}`, 500)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(failing.Close)

	ctx := browsertest.Tab(t)
	for name, script := range map[string]string{"unreachable": closed + "/widget.js", "api 500": failing.URL + "/widget.js"} {
		t.Run(name, func(t *testing.T) {
			host := hostPage(t, script, inbox, "")
			browsertest.Run(t, ctx, wait, chromedp.Navigate(host))
			if name == "api 500" {
				// The loader ran, then removed itself when the panel failed.
				onPage(t, ctx, `window.Kefu && window.Kefu.loaded && !document.querySelector('[data-kefu]')`, nil)
			}
			var count string
			var errs []string
			browsertest.Run(t, ctx, wait, chromedp.Click("#hostbtn", chromedp.ByQuery), chromedp.Click("#hostbtn", chromedp.ByQuery),
				chromedp.Text("#count", &count, chromedp.ByQuery), chromedp.Evaluate(`window.hostErrors`, &errs))
			if count != "2" || len(errs) != 0 {
				t.Fatalf("host page: count %q, errors %v", count, errs)
			}
		})
	}
}

// TestWidgetOfflineOutsideHours: with an agent online but the inbox
// outside its business hours, the config says closed and the widget in
// the browser offers the offline form rather than the chat.
func TestWidgetOfflineOutsideHours(t *testing.T) {
	s := start(t, t.TempDir(), nil)
	tok := s.login(adminEmail, adminPassword)
	inbox := s.inboxToken(tok)
	s.goOnline(tok, inbox)
	// Open only three days from today (UTC), so closed now whatever the hour.
	day := (int(time.Now().UTC().Weekday()) + 3) % 7
	hours := map[string]any{"time_zone": "UTC", "weekly": map[string]any{strconv.Itoa(day): []map[string]int{{"start": 540, "end": 600}}}}
	for _, in := range mustCall(t, 200, "GET", s.URL+"/api/v1/inboxes", tok, nil)["data"].([]any) {
		if m := in.(map[string]any); m["public_token"] == inbox {
			mustCall(t, 200, "PUT", fmt.Sprintf("%s/api/v1/inboxes/%d/routing", s.URL, num(m["id"])), tok, map[string]any{"business_hours": hours})
		}
	}
	cfg := mustCall(t, 200, "GET", s.URL+"/api/v1/widget/config?inbox="+inbox, "", nil)
	if cfg["open"] != false || cfg["online"] != true || cfg["next_opening"] == nil {
		t.Fatalf("config outside hours = open %v online %v next %v; want closed with the agent online and a next opening", cfg["open"], cfg["online"], cfg["next_opening"])
	}
	stub := `<script>!function(w){var k=w.Kefu=w.Kefu||{q:[]};["identify","open","close","toggle","on","off","setLocale","reset"].forEach(function(m){k[m]=k[m]||function(){k.q.push([m,arguments])}})}(window);
Kefu.setLocale('en'); Kefu.open();</script>`
	ctx := browsertest.Tab(t)
	browsertest.Run(t, ctx, wait, chromedp.Navigate(hostPage(t, s.URL+"/widget.js", inbox, stub)))
	frame := widgetFrame(t, ctx)
	var intro string
	inFrame(t, ctx, frame, `document.querySelector('#offline-intro') && document.querySelector('#offline-intro').textContent`, &intro)
	if !strings.Contains(intro, "We are away") {
		t.Fatalf("offline intro %q, want the English offline form", intro)
	}
	var composer bool
	inFrame(t, ctx, frame, `!document.querySelector('#composer')`, &composer)
	browsertest.Screenshot(t, ctx, "offline-outside-hours")
}
