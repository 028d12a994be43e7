package bot

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kefu-chat/kefu/internal/auth"
	"github.com/kefu-chat/kefu/internal/bus/inproc"
	"github.com/kefu-chat/kefu/internal/chat"
	"github.com/kefu-chat/kefu/internal/dispatch"
	"github.com/kefu-chat/kefu/internal/hub"
	"github.com/kefu-chat/kefu/internal/kb"
	"github.com/kefu-chat/kefu/internal/kefu"
	"github.com/kefu-chat/kefu/internal/kefutest"
	"github.com/kefu-chat/kefu/internal/store/sqlite"
)

// botEnv is a whole bot on a real SQLite store and chat service, with a
// settable clock, business hours 09:00–18:00 UTC on that clock, and a
// hand-off hook that records the conversations handed to it.
type botEnv struct {
	t     *testing.T
	store *sqlite.Store
	chat  *chat.Service
	f     *kefutest.Fixture
	k     *Knowledge
	b     *Bot

	mu      sync.Mutex
	now     time.Time
	handed  []int64
	hookErr []error // returned by the next hook calls, in order
}

func newBotEnv(t *testing.T, settings kefu.BotSettings) *botEnv {
	t.Helper()
	ctx := t.Context()
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "kefu.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	e := &botEnv{t: t, store: store, chat: chat.New(store, inproc.New(), nil, nil),
		now: time.Date(2026, 3, 2, 22, 0, 0, 0, time.UTC)} // a Monday, after hours
	e.f = kefutest.NewFixture(t, store, auth.NewAuthenticator(store, time.Now), "Acme")
	e.k = NewKnowledge(store, func() (*kb.Tokenizer, error) { return kb.NewTokenizer(kb.Bigrams{}), nil }, nil)
	e.must(e.k.PutFAQ(ctx, &kefu.FAQ{WorkspaceID: e.ws(), Answer: "Shipping is free over 99.",
		Questions: []string{"how much is shipping"}, Enabled: true}))
	settings.WorkspaceID, settings.InboxID = e.ws(), e.f.Inbox.ID
	e.must(store.PutBotSettings(ctx, &settings))
	e.b = New(Options{Store: store, Chat: e.chat, Knowledge: e.k, Now: e.clock, Deadline: 5 * time.Second,
		HTTP: &http.Client{Timeout: 10 * time.Second},
		InsideHours: func(_ context.Context, _, _ int64, t time.Time) bool {
			return t.Hour() >= 9 && t.Hour() < 18
		},
		Handoff: func(_ context.Context, _, conv int64) error {
			e.mu.Lock()
			defer e.mu.Unlock()
			e.handed = append(e.handed, conv)
			if len(e.hookErr) > 0 {
				err := e.hookErr[0]
				e.hookErr = e.hookErr[1:]
				return err
			}
			return nil
		}})
	t.Cleanup(e.b.Close)
	return e
}

func (e *botEnv) must(err error) {
	e.t.Helper()
	if err != nil {
		e.t.Fatal(err)
	}
}

func (e *botEnv) ws() int64 { return e.f.Workspace.ID }

func (e *botEnv) clock() time.Time { e.mu.Lock(); defer e.mu.Unlock(); return e.now }

func (e *botEnv) setClock(t time.Time) { e.mu.Lock(); e.now = t; e.mu.Unlock() }

func (e *botEnv) handedOff() []int64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]int64(nil), e.handed...)
}

// newConversation starts another conversation of the fixture's contact.
func (e *botEnv) newConversation() *kefu.Conversation {
	e.t.Helper()
	now := kefu.Now()
	c := &kefu.Conversation{WorkspaceID: e.ws(), InboxID: e.f.Inbox.ID, ContactID: e.f.Contact.ID, Status: kefu.StatusOpen,
		Priority: kefu.PriorityNone, Labels: []string{}, CreatedAt: now, UpdatedAt: now, LastActivityAt: now}
	e.must(e.store.CreateConversation(e.t.Context(), c))
	return c
}

// say commits a visitor message and returns it (the bot is not called).
func (e *botEnv) say(conv int64, text string) *kefu.Message {
	e.t.Helper()
	res, err := e.chat.Send(e.t.Context(), e.f.VisitorActor(), chat.SendInput{ConversationID: conv, Kind: kefu.KindText, Body: text})
	e.must(err)
	return res.Message
}

// ask commits a visitor message and lets the bot handle it.
func (e *botEnv) ask(conv int64, text string) {
	e.t.Helper()
	e.must(e.b.Handle(e.t.Context(), e.say(conv, text)))
}

// messages returns the conversation's messages from sender, of kind.
func (e *botEnv) messages(conv int64, sender kefu.SenderType, kind kefu.MessageKind) []*kefu.Message {
	e.t.Helper()
	all, err := e.store.ListMessages(e.t.Context(), kefu.MessageRange{WorkspaceID: e.ws(), ConversationID: conv, BeforeSeq: 1 << 62, Limit: 200, IncludePrivate: true})
	e.must(err)
	var out []*kefu.Message
	for _, m := range all {
		if m.SenderType == sender && m.Kind == kind {
			out = append(out, m)
		}
	}
	return out
}

func (e *botEnv) decisions(conv int64) []*kefu.BotDecision {
	e.t.Helper()
	ds, err := e.store.ListBotDecisions(e.t.Context(), e.ws(), conv)
	e.must(err)
	return ds
}

func outcomesOf(ds []*kefu.BotDecision) string {
	var out []string
	for _, d := range ds {
		out = append(out, d.Outcome)
	}
	return strings.Join(out, ",")
}

// TestOutsideHoursMode: outside business hours the bot answers; once
// they open, the conversation it was keeping (started outside hours, so
// never queued) is handed to routing on the visitor's next message, once,
// without a bot reply; a conversation routing already queued is left to
// it. In mode off the bot never answers.
func TestOutsideHoursMode(t *testing.T) {
	e := newBotEnv(t, kefu.BotSettings{Mode: kefu.BotOutsideHours})
	ctx := t.Context()
	conv := e.f.Conversation.ID
	if !e.b.Active(ctx, e.ws(), e.f.Inbox.ID) {
		t.Fatal("bot not active outside hours")
	}
	e.ask(conv, "how much is shipping")
	if bots := e.messages(conv, kefu.SenderBot, kefu.KindText); len(bots) != 1 || bots[0].Body != "Shipping is free over 99." {
		t.Fatalf("outside hours: bot messages %+v", bots)
	}
	if h := e.handedOff(); len(h) != 0 {
		t.Fatalf("handed off outside hours: %v", h)
	}

	e.setClock(time.Date(2026, 3, 3, 10, 0, 0, 0, time.UTC))
	if e.b.Active(ctx, e.ws(), e.f.Inbox.ID) {
		t.Fatal("bot active inside hours")
	}
	e.ask(conv, "how much is shipping again")
	e.ask(conv, "anyone there?")
	if bots := e.messages(conv, kefu.SenderBot, kefu.KindText); len(bots) != 1 {
		t.Fatalf("inside hours the bot spoke: %+v", bots)
	}
	if h := e.handedOff(); len(h) != 1 || h[0] != conv {
		t.Fatalf("hand-offs %v, want [%d] once", h, conv)
	}
	ds := e.decisions(conv)
	if outcomesOf(ds) != "answered,handoff" || ds[1].Detail["reason"] != "business hours began" {
		t.Fatalf("decisions %s %+v", outcomesOf(ds), ds[len(ds)-1].Detail)
	}

	// Started inside hours: routing queued it; the bot leaves it alone.
	queued := e.newConversation()
	if _, err := e.store.Requeue(ctx, e.ws(), queued.ID, 0, "", e.clock()); err != nil {
		t.Fatal(err)
	}
	e.ask(queued.ID, "how much is shipping")
	if len(e.messages(queued.ID, kefu.SenderBot, kefu.KindText)) != 0 || len(e.decisions(queued.ID)) != 0 || len(e.handedOff()) != 1 {
		t.Fatal("the bot touched a conversation routing already has")
	}

	// Mode off: never a word, in or outside hours.
	e.must(e.store.PutBotSettings(ctx, &kefu.BotSettings{WorkspaceID: e.ws(), InboxID: e.f.Inbox.ID, Mode: kefu.BotOff}))
	off := e.newConversation()
	for _, at := range []time.Time{time.Date(2026, 3, 3, 23, 0, 0, 0, time.UTC), time.Date(2026, 3, 4, 11, 0, 0, 0, time.UTC)} {
		e.setClock(at)
		if e.b.Active(ctx, e.ws(), e.f.Inbox.ID) {
			t.Fatalf("mode off active at %v", at)
		}
		e.ask(off.ID, "how much is shipping")
	}
	if n := len(e.messages(off.ID, kefu.SenderBot, kefu.KindText)); n != 0 || len(e.decisions(off.ID)) != 0 || len(e.handedOff()) != 1 {
		t.Fatalf("mode off: %d bot messages", n)
	}
}

// TestFailedTurnIsRouted: when a bot_first turn fails (here the hand-off
// hook, i.e. routing, fails once), the conversation is not left with the
// bot: Observe hands it to routing again.
func TestFailedTurnIsRouted(t *testing.T) {
	e := newBotEnv(t, kefu.BotSettings{Mode: kefu.BotFirst})
	e.hookErr = []error{errors.New("routing unavailable")}
	conv := e.f.Conversation.ID
	msg := e.say(conv, "转人工")
	e.b.Observe(&kefu.AppendResult{Message: msg})
	deadline := time.Now().Add(10 * time.Second)
	for len(e.handedOff()) < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("hand-offs %v: the failed turn was not routed again", e.handedOff())
		}
		time.Sleep(5 * time.Millisecond)
	}
	e.b.Close() // waits for the turn to end
	if h := e.handedOff(); len(h) != 2 {
		t.Fatalf("hand-offs %v", h)
	}
	if got := outcomesOf(e.decisions(conv)); got != "handoff" {
		t.Fatalf("decisions %s, want one hand-off", got)
	}
}

// TestRescueRecordsHandoff: a turn that failed before the bot decided
// anything is routed with a hand-off decision saying so (the bot stays
// quiet after); a conversation routing already queued is left alone.
func TestRescueRecordsHandoff(t *testing.T) {
	e := newBotEnv(t, kefu.BotSettings{Mode: kefu.BotFirst})
	conv := e.newConversation()
	msg := e.say(conv.ID, "hello")
	e.b.rescue(t.Context(), msg)
	if h := e.handedOff(); len(h) != 1 || h[0] != conv.ID {
		t.Fatalf("hand-offs %v", h)
	}
	ds := e.decisions(conv.ID)
	if outcomesOf(ds) != "handoff" || ds[0].Detail["reason"] != "the bot failed to answer" {
		t.Fatalf("decisions %s", outcomesOf(ds))
	}
	// Already queued (routing has it): left alone.
	if _, err := e.store.Requeue(t.Context(), e.ws(), conv.ID, 0, "", e.clock()); err != nil {
		t.Fatal(err)
	}
	e.b.rescue(t.Context(), msg)
	if h := e.handedOff(); len(h) != 1 {
		t.Fatalf("hand-offs %v after a rescue of a queued conversation", h)
	}
}

// slowPlugin is a plugin endpoint that tells the test it was called and
// answers once released.
func slowPlugin(t *testing.T, answer string) (url string, called, release chan struct{}) {
	called, release = make(chan struct{}, 1), make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		called <- struct{}{}
		select {
		case <-release:
		case <-r.Context().Done():
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"answer": answer, "confidence": 0.9})
	}))
	t.Cleanup(srv.Close)
	return srv.URL, called, release
}

// TestAssignedDuringAnswerDropsReply: a person assigned while the sources
// are still working gets the conversation to themselves: the bot's reply
// is not sent, and the decision says why.
func TestAssignedDuringAnswerDropsReply(t *testing.T) {
	e := newBotEnv(t, kefu.BotSettings{Mode: kefu.BotFirst})
	ctx := t.Context()
	url, called, release := slowPlugin(t, "A plugin answer")
	e.must(e.store.CreatePlugin(ctx, &kefu.BotPlugin{WorkspaceID: e.ws(), Name: "slow", URL: url, Priority: 500, Enabled: true}))
	conv := e.f.Conversation.ID
	msg := e.say(conv, "qwerty question")
	done := make(chan error, 1)
	go func() { done <- e.b.Handle(ctx, msg) }()
	select {
	case <-called:
	case <-time.After(10 * time.Second):
		t.Fatal("plugin never called")
	}
	agent := e.f.Agent.ID
	if _, err := e.store.UpdateConversation(ctx, e.ws(), conv, kefu.ConversationUpdate{AssigneeID: &agent}); err != nil {
		t.Fatal(err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if bots := e.messages(conv, kefu.SenderBot, kefu.KindText); len(bots) != 0 {
		t.Fatalf("the bot spoke after a person was assigned: %+v", bots)
	}
	ds := e.decisions(conv)
	if outcomesOf(ds) != OutcomeDropped || ds[0].Source != "plugin:slow" || !strings.Contains(ds[0].Detail["reason"].(string), "assigned") {
		t.Fatalf("decisions %s %+v", outcomesOf(ds), ds)
	}
}

// TestOutsideHoursWithRouting wires the bot to the real dispatcher as the
// server does: a conversation started after hours is left to the bot
// (not queued) and answered; once business hours open, the visitor's next
// message puts it in routing, which assigns it to the online agent.
func TestOutsideHoursWithRouting(t *testing.T) {
	e := newBotEnv(t, kefu.BotSettings{Mode: kefu.BotOutsideHours})
	ctx := t.Context()
	e.b.Close() // replaced by one wired to routing
	var d *dispatch.Dispatcher
	e.b = New(Options{Store: e.store, Chat: e.chat, Knowledge: e.k, Now: e.clock, Deadline: 5 * time.Second,
		InsideHours: func(ctx context.Context, ws, inbox int64, t time.Time) bool { return d.InsideHours(ctx, ws, inbox, t) }})
	t.Cleanup(e.b.Close)
	d = dispatch.New(dispatch.Options{Store: e.store, Chat: e.chat, Hub: hub.New(e.chat, hub.Options{}), Now: e.clock, BotActive: e.b.Active})
	e.b.SetHandoff(d.Handoff)
	rs, err := e.store.GetRoutingSettings(ctx, e.ws(), e.f.Inbox.ID)
	e.must(err)
	day := `[{"start":540,"end":1080}]`
	rs.BusinessHours = json.RawMessage(`{"time_zone":"UTC","weekly":{"0":` + day + `,"1":` + day + `,"2":` + day + `,"3":` + day + `,"4":` + day + `,"5":` + day + `,"6":` + day + `}}`)
	e.must(e.store.PutRoutingSettings(ctx, rs))
	d.Forget(e.ws(), e.f.Inbox.ID)
	online := func() {
		e.must(e.store.SetAvailability(ctx, e.ws(), e.f.Agent.ID, kefu.AvailabilityOnline, e.clock()))
		e.must(e.store.TouchAgents(ctx, e.ws(), []int64{e.f.Agent.ID}, e.clock()))
	}
	online()

	conv, err := e.chat.StartConversation(ctx, e.f.VisitorActor())
	e.must(err)
	c, err := e.store.GetConversation(ctx, e.ws(), conv.ID)
	e.must(err)
	if c.QueuedAt != nil || c.AssigneeID != 0 {
		t.Fatalf("after hours the conversation was routed: %+v", c)
	}
	e.ask(conv.ID, "how much is shipping")
	if bots := e.messages(conv.ID, kefu.SenderBot, kefu.KindText); len(bots) != 1 {
		t.Fatalf("after hours the bot did not answer: %+v", bots)
	}

	e.setClock(time.Date(2026, 3, 3, 9, 30, 0, 0, time.UTC))
	online()
	e.ask(conv.ID, "is anyone there now?")
	c, err = e.store.GetConversation(ctx, e.ws(), conv.ID)
	e.must(err)
	if c.AssigneeID != e.f.Agent.ID {
		t.Fatalf("inside hours: assignee %d queued %v, want the online agent %d", c.AssigneeID, c.QueuedAt, e.f.Agent.ID)
	}
	if bots := e.messages(conv.ID, kefu.SenderBot, kefu.KindText); len(bots) != 1 {
		t.Fatalf("inside hours the bot spoke: %+v", bots)
	}
}
