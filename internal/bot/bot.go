// Package bot is Kefu's customer-service bot (issue 7): it answers a
// visitor's message from the knowledge base, intents and business
// endpoints, HTTP plugins and an optional language model, all run in
// parallel under one deadline (Run), and hands the conversation to a
// person when asked, when it keeps failing, or when an intent says so.
//
// It runs on the node that committed the visitor's message (chat's
// OnContactMessage), never from bus events, so in a cluster exactly one
// node answers. Its messages go through chat.Service like any other.
package bot

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"log/slog"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/kefu-chat/kefu/internal/chat"
	"github.com/kefu-chat/kefu/internal/kb"
	"github.com/kefu-chat/kefu/internal/kefu"
)

// Source priorities of the built-in sources; plugins carry their own.
const (
	PriorityIntent = 300
	PriorityKB     = 200
	PriorityLLM    = 100
)

// Decision outcomes.
const (
	OutcomeAnswered   = "answered"
	OutcomeUnanswered = "unanswered"
	OutcomeHandoff    = "handoff"
	OutcomeGreeting   = "greeting"
	// OutcomeDropped: the bot had a reply (or a fallback) ready but a
	// person was assigned while it was working, so nothing was sent.
	OutcomeDropped = "dropped"
)

// Options wire a Bot.
type Options struct {
	Store     kefu.Store
	Chat      *chat.Service
	Knowledge *Knowledge
	Log       *slog.Logger
	Now       func() time.Time
	// HTTP is the client for plugins and actions (nil: a default client).
	HTTP *http.Client
	// Handoff is called after the bot hands a conversation to a person;
	// the lead wires it to routing. nil: the conversation stays open and
	// unassigned for any agent to take.
	Handoff func(ctx context.Context, workspaceID, conversationID int64) error
	// InsideHours reports whether the inbox is within business hours at t,
	// for the outside_hours mode. nil: no business hours are known, so
	// outside_hours behaves like bot_first. (Routing owns business hours;
	// the lead wires this when merging.)
	InsideHours func(ctx context.Context, workspaceID, inboxID int64, t time.Time) bool
	// LLM returns the workspace's language-model source, or nil when none
	// is configured.
	LLM func(ctx context.Context, workspaceID int64) (Source, error)
	// Deadline bounds one answer from all sources (default 15s, enough
	// for a language model; sources without one answer in milliseconds).
	Deadline time.Duration
	// Workers bounds the answers computed at once (default 32).
	Workers int
}

// Bot answers visitors.
type Bot struct {
	opts  Options
	seed  maphash.Seed
	locks [64]sync.Mutex // striped by conversation: one answer at a time per conversation
	sem   chan struct{}
	wg    sync.WaitGroup

	handoff atomic.Pointer[func(ctx context.Context, workspaceID, conversationID int64) error]

	mu     sync.Mutex
	ctx    context.Context
	cancel context.CancelFunc
	closed bool
}

// New builds a Bot; register Observe with chat.Service.OnContactMessage.
func New(opts Options) *Bot {
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.HTTP == nil {
		opts.HTTP = &http.Client{Timeout: 30 * time.Second}
	}
	if opts.Deadline <= 0 {
		opts.Deadline = 15 * time.Second
	}
	if opts.Workers <= 0 {
		opts.Workers = 32
	}
	ctx, cancel := context.WithCancel(context.Background())
	b := &Bot{opts: opts, seed: maphash.MakeSeed(), sem: make(chan struct{}, opts.Workers), ctx: ctx, cancel: cancel}
	if opts.Handoff != nil {
		b.SetHandoff(opts.Handoff)
	}
	return b
}

// SetHandoff replaces the hand-off hook (see Options.Handoff); the server
// wiring calls it once routing exists.
func (b *Bot) SetHandoff(f func(ctx context.Context, workspaceID, conversationID int64) error) {
	b.handoff.Store(&f)
}

// Observe is the chat observer: it answers the committed contact message
// on a goroutine of its own, never blocking the commit path.
func (b *Bot) Observe(res *kefu.AppendResult) {
	msg := res.Message
	if msg.Kind != kefu.KindText || strings.TrimSpace(msg.Body) == "" || res.AssigneeID != 0 {
		return
	}
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return
	}
	b.wg.Add(1)
	b.mu.Unlock()
	go func() {
		defer b.wg.Done()
		select {
		case b.sem <- struct{}{}:
		case <-b.ctx.Done():
			return
		}
		defer func() { <-b.sem }()
		if err := b.Handle(b.ctx, msg); err != nil && !errors.Is(err, context.Canceled) {
			b.opts.Log.Warn("bot turn failed", "conversation_id", msg.ConversationID, "err", err)
			b.rescue(b.ctx, msg)
		}
	}()
}

// rescue routes a conversation whose bot turn failed, so the visitor is
// not left with neither an answer nor a place in the queue (routing
// leaves conversations to an active bot). A conversation already queued,
// assigned or closed is left alone; the hand-off decision keeps the bot
// quiet from then on.
func (b *Bot) rescue(ctx context.Context, msg *kefu.Message) {
	mu := b.lock(msg.ConversationID)
	mu.Lock()
	defer mu.Unlock()
	ws := msg.WorkspaceID
	conv, err := b.opts.Store.GetConversation(ctx, ws, msg.ConversationID)
	if err != nil {
		b.opts.Log.Warn("bot rescue: conversation unavailable", "conversation_id", msg.ConversationID, "err", err)
		return
	}
	if conv.AssigneeID != 0 || conv.Status != kefu.StatusOpen || conv.QueuedAt != nil {
		return
	}
	if ds, err := b.opts.Store.ListBotDecisions(ctx, ws, conv.ID); err != nil || !stateOf(ds).handedOff {
		d := &kefu.BotDecision{WorkspaceID: ws, ConversationID: conv.ID, MessageID: msg.ID, Question: msg.Body,
			Outcome: OutcomeHandoff, Detail: map[string]any{"reason": "the bot failed to answer"}}
		if err := b.opts.Store.CreateBotDecision(ctx, d); err != nil {
			b.opts.Log.Warn("bot rescue: decision not recorded", "conversation_id", conv.ID, "err", err)
		}
	}
	if err := b.callHandoff(ctx, ws, conv.ID); err != nil {
		b.opts.Log.Warn("bot rescue: hand-off failed", "conversation_id", conv.ID, "err", err)
	}
}

// callHandoff gives the conversation to routing through the hook the
// server set (SetHandoff); without one there is nobody to hand it to.
func (b *Bot) callHandoff(ctx context.Context, workspaceID, conversationID int64) error {
	f := b.handoff.Load()
	if f == nil || *f == nil {
		return nil
	}
	if err := (*f)(ctx, workspaceID, conversationID); err != nil {
		return fmt.Errorf("hand-off hook: %w", err)
	}
	return nil
}

// Close stops answering and waits for answers in progress to finish
// (they are cancelled).
func (b *Bot) Close() {
	b.mu.Lock()
	b.closed = true
	b.mu.Unlock()
	b.cancel()
	b.wg.Wait()
}

func (b *Bot) lock(conversationID int64) *sync.Mutex {
	return &b.locks[maphash.Comparable(b.seed, conversationID)%uint64(len(b.locks))]
}

// handoffPhrases are what visitors type in Chinese to ask for a person.
// 人工 alone is too common inside other words (人工智能, 人工费) to count
// in a sentence; see shortHandoff.
var handoffPhrases = []string{"转人工", "人工客服", "人工服务", "人工坐席", "找人工", "要人工", "接人工", "转接人工",
	"真人", "客服人员", "找客服", "转客服"}

// handoffEnglish matches English requests for a person as whole words,
// so "humane" or "agentic" do not.
var handoffEnglish = regexp.MustCompile(`(?i)\b(human|agents?|operators?|representatives?|real person|live person|talk to a person|speak to someone|speak to a person)\b`)

// notHandoff are words containing 人工 that do not ask for a person.
var notHandoff = strings.NewReplacer("人工智能", "", "人工费", "", "人工成本", "", "人工湖", "", "人工合成", "", "人工降雨", "")

// shortHandoff is the longest message (in runes, without spaces and
// punctuation) in which 人工 alone counts as asking for a person: "人工",
// "人工！", "我要人工", "人工谢谢".
const shortHandoff = 6

// WantsPerson reports whether text asks for a person.
func WantsPerson(text string) bool {
	t := strings.ToLower(strings.TrimSpace(text))
	for _, w := range handoffPhrases {
		if strings.Contains(t, w) {
			return true
		}
	}
	if handoffEnglish.MatchString(t) {
		return true
	}
	bare := strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || unicode.IsPunct(r) || unicode.IsSymbol(r) {
			return -1
		}
		return r
	}, notHandoff.Replace(t))
	return strings.Contains(bare, "人工") && utf8.RuneCountInString(bare) <= shortHandoff
}

// isChinese reports whether text has any Han character: the bot's own
// lines are then written in Chinese.
func isChinese(text string) bool {
	for _, r := range text {
		if unicode.Is(unicode.Han, r) {
			return true
		}
	}
	return false
}

func say(zh bool, chinese, english string) string {
	if zh {
		return chinese
	}
	return english
}

// turnState is what the bot knows of a conversation from its decisions.
type turnState struct {
	handedOff bool
	greeted   bool
	lowRun    int // unanswered turns since the last answer
}

func stateOf(ds []*kefu.BotDecision) turnState {
	var st turnState
	for _, d := range ds {
		switch d.Outcome {
		case OutcomeHandoff:
			st.handedOff = true
		case OutcomeGreeting:
			st.greeted = true
		case OutcomeAnswered:
			st.lowRun = 0
		case OutcomeUnanswered:
			st.lowRun++
		}
	}
	return st
}

// Handle answers one committed visitor message. It is exported for tests
// and for callers that want a synchronous answer.
// Active reports whether the bot answers new conversations of the inbox
// now (bot first, or outside business hours while they are closed).
// Routing leaves such conversations to the bot until it hands off.
func (b *Bot) Active(ctx context.Context, workspaceID, inboxID int64) bool {
	settings, err := b.opts.Store.GetBotSettings(ctx, workspaceID, inboxID)
	if err != nil {
		return false
	}
	switch settings.Mode {
	case kefu.BotFirst:
		return true
	case kefu.BotOutsideHours:
		return b.opts.InsideHours == nil || !b.opts.InsideHours(ctx, workspaceID, inboxID, b.opts.Now())
	}
	return false
}

func (b *Bot) Handle(ctx context.Context, msg *kefu.Message) error {
	mu := b.lock(msg.ConversationID)
	mu.Lock()
	defer mu.Unlock()
	ws := msg.WorkspaceID
	conv, err := b.opts.Store.GetConversation(ctx, ws, msg.ConversationID)
	if err != nil {
		return err
	}
	if conv.AssigneeID != 0 {
		return nil // a person has it
	}
	settings, err := b.opts.Store.GetBotSettings(ctx, ws, conv.InboxID)
	if kefu.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	insideHours := false
	switch settings.Mode {
	case kefu.BotFirst:
	case kefu.BotOutsideHours:
		insideHours = b.opts.InsideHours != nil && b.opts.InsideHours(ctx, ws, conv.InboxID, b.opts.Now())
	default:
		return nil
	}
	decisions, err := b.opts.Store.ListBotDecisions(ctx, ws, conv.ID)
	if err != nil {
		return err
	}
	st := stateOf(decisions)
	if st.handedOff {
		return nil
	}
	t := &turn{b: b, ctx: ctx, conv: conv, msg: msg, settings: settings, zh: isChinese(msg.Body)}
	if insideHours {
		// Routing left this conversation to the bot (it started outside
		// business hours); now that they are open, a person takes it.
		if conv.QueuedAt != nil || conv.Status != kefu.StatusOpen {
			return nil // routing has it already (it started inside hours)
		}
		return t.route("business hours began")
	}
	if !st.greeted && strings.TrimSpace(settings.Greeting) != "" {
		if err := t.greet(); err != nil {
			return err
		}
	}
	if WantsPerson(msg.Body) {
		return t.handoff("visitor asked for a person", "", nil)
	}
	res := Run(ctx, b.sources(ctx, conv, settings), t.question(), b.opts.Deadline)
	detail := map[string]any{"attempts": res.Attempts}
	// The sources may have taken until the deadline: a person assigned
	// meanwhile has the conversation, and the bot must not talk over them.
	if now, err := b.opts.Store.GetConversation(ctx, ws, conv.ID); err != nil {
		return err
	} else if now.AssigneeID != 0 {
		detail["reason"] = "a person was assigned while the bot was answering"
		var conf float64
		if res.Reply != nil {
			conf = res.Reply.Confidence
		}
		return t.decide(OutcomeDropped, res.Winner, conf, detail)
	}
	if res.Reply == nil {
		return t.unanswered(st.lowRun+1, detail)
	}
	r := res.Reply
	if r.Handoff {
		if r.Text != "" {
			if err := t.send(r.Text, res.Winner, r); err != nil {
				return err
			}
		}
		return t.handoff("intent "+r.Intent, r.Intent, detail)
	}
	if r.Detail != nil {
		detail[res.Winner] = r.Detail
	}
	// The decision is stored before the answer is sent, so whoever sees
	// the answer (the visitor, an agent, an API client) can read why.
	if err := t.decide(OutcomeAnswered, res.Winner, r.Confidence, mergeDetail(detail, "intent", r.Intent)); err != nil {
		return err
	}
	return t.send(r.Text, res.Winner, r)
}

func mergeDetail(d map[string]any, k string, v string) map[string]any {
	if v != "" {
		d[k] = v
	}
	return d
}

// sources builds the answer sources for a workspace; a source that cannot
// be built is logged and left out, so the bot still answers from the rest.
func (b *Bot) sources(ctx context.Context, conv *kefu.Conversation, settings *kefu.BotSettings) []Source {
	ws := conv.WorkspaceID
	var out []Source
	if intents, err := b.opts.Store.ListIntents(ctx, ws); err != nil {
		b.opts.Log.Warn("bot intents unavailable", "workspace_id", ws, "err", err)
	} else if len(intents) > 0 {
		if x, err := CompileIntents(intents, b.opts.HTTP, b.opts.Now); err == nil {
			out = append(out, &IntentSource{Intents: x, Prio: PriorityIntent})
		}
	}
	// The model is looked up first: whether there is one decides whether
	// the knowledge base answers from document passages itself.
	var model Source
	if b.opts.LLM != nil {
		var err error
		if model, err = b.opts.LLM(ctx, ws); err != nil {
			b.opts.Log.Warn("language model unavailable", "workspace_id", ws, "err", err)
			model = nil
		}
	}
	_, skipped := model.(skipSource)
	if base, err := b.opts.Knowledge.Base(ctx, ws); err != nil {
		b.opts.Log.Warn("knowledge base unavailable", "workspace_id", ws, "err", err)
	} else {
		out = append(out, &KBSource{Base: base, Prio: PriorityKB, Passages: model == nil || skipped})
	}
	if plugins, err := b.opts.Store.ListPlugins(ctx, ws); err != nil {
		b.opts.Log.Warn("bot plugins unavailable", "workspace_id", ws, "err", err)
	} else {
		for _, p := range plugins {
			if p.Enabled {
				out = append(out, &PluginSource{Plugin: p, Client: b.opts.HTTP, Now: b.opts.Now})
			}
		}
	}
	if model != nil {
		out = append(out, model)
	}
	return out
}

// turn is one visitor message being answered.
type turn struct {
	b        *Bot
	ctx      context.Context
	conv     *kefu.Conversation
	msg      *kefu.Message
	settings *kefu.BotSettings
	zh       bool
}

func (t *turn) actor() kefu.Actor {
	return kefu.Actor{WorkspaceID: t.conv.WorkspaceID, Type: kefu.SenderBot}
}

func (t *turn) streamID() string { return fmt.Sprintf("c%d-m%d", t.conv.ID, t.msg.ID) }

func (t *turn) question() Question {
	q := Question{WorkspaceID: t.conv.WorkspaceID, InboxID: t.conv.InboxID, ConversationID: t.conv.ID,
		ContactID: t.conv.ContactID, Text: t.msg.Body, Threshold: t.settings.Threshold}
	if c, err := t.b.opts.Store.GetContact(t.ctx, t.conv.WorkspaceID, t.conv.ContactID); err == nil {
		q.ContactName, q.ContactEmail = c.Name, c.Email
	}
	q.Delta = func(_, text string) {
		t.b.opts.Chat.BotDelta(t.ctx, t.conv.WorkspaceID, t.conv.ID, t.conv.ContactID, t.streamID(), text)
	}
	return q
}

// send posts a bot message; its meta says where the answer came from.
func (t *turn) send(text, source string, r *Reply) error {
	meta := map[string]any{"source": source, "stream_id": t.streamID()}
	if r != nil {
		meta["confidence"] = r.Confidence
		for k, v := range r.Meta {
			meta[k] = v
		}
	}
	return t.post(kefu.KindText, text, meta)
}

func (t *turn) post(kind kefu.MessageKind, text string, meta map[string]any) error {
	if len(text) > kefu.MaxBodyLen {
		text = text[:kefu.MaxBodyLen]
		text = strings.ToValidUTF8(text, "")
	}
	_, err := t.b.opts.Chat.Send(t.ctx, t.actor(), chat.SendInput{ConversationID: t.conv.ID, Kind: kind, Body: text, Meta: meta})
	return err
}

func (t *turn) decide(outcome, source string, confidence float64, detail map[string]any) error {
	return t.b.opts.Store.CreateBotDecision(t.ctx, &kefu.BotDecision{WorkspaceID: t.conv.WorkspaceID, ConversationID: t.conv.ID,
		MessageID: t.msg.ID, Question: t.msg.Body, Outcome: outcome, Source: source, Confidence: confidence, Detail: detail})
}

func (t *turn) quickReplies() []string {
	out := append([]string{}, t.settings.QuickReplies...)
	return append(out, say(t.zh, "转人工", "Talk to a person"))
}

func (t *turn) greet() error {
	if err := t.decide(OutcomeGreeting, "greeting", 0, nil); err != nil {
		return err
	}
	return t.post(kefu.KindText, t.settings.Greeting, map[string]any{"source": "greeting", "quick_replies": t.quickReplies()})
}

// unanswered records a question nobody could answer and hands off after
// the inbox's number of such turns in a row.
func (t *turn) unanswered(run int, detail map[string]any) error {
	if err := t.b.opts.Store.CreateUnanswered(t.ctx, &kefu.Unanswered{WorkspaceID: t.conv.WorkspaceID, ConversationID: t.conv.ID, Question: t.msg.Body}); err != nil {
		return err
	}
	if n := t.settings.HandoffAfter; n > 0 && run >= n {
		return t.handoff(fmt.Sprintf("%d questions in a row without a confident answer", run), "", detail)
	}
	text := say(t.zh, "抱歉，这个问题我还答不上来。您可以换个说法，或者点“转人工”联系客服。",
		"Sorry, I don't have an answer to that yet. Try rephrasing, or choose \"Talk to a person\".")
	if err := t.decide(OutcomeUnanswered, "", 0, detail); err != nil {
		return err
	}
	return t.post(kefu.KindText, text, map[string]any{"source": "fallback", "quick_replies": t.quickReplies()})
}

// handoff tells the visitor, records why (a system line everyone sees and
// a private note with the transcript for the agent), marks the
// conversation as handed off so the bot stays quiet, and calls the hook.
func (t *turn) handoff(reason, intent string, detail map[string]any) error {
	if detail == nil {
		detail = map[string]any{}
	}
	detail["reason"] = reason
	mergeDetail(detail, "intent", intent)
	// Record the hand-off before anything else can fail, so the bot stays
	// quiet even if the message, the note or the hook fails.
	if err := t.decide(OutcomeHandoff, "", 0, detail); err != nil {
		return err
	}
	if err := t.post(kefu.KindText, say(t.zh, "好的，正在为您转接人工客服，请稍候。", "Sure, connecting you to a person. Please hold on."),
		map[string]any{"source": "handoff"}); err != nil {
		return err
	}
	t.b.opts.Chat.SystemEvent(t.ctx, t.conv.WorkspaceID, t.conv.ID, "Bot handed the conversation to a person: "+reason)
	note, err := t.summary(reason, intent)
	if err == nil {
		err = t.post(kefu.KindNote, note, map[string]any{"source": "handoff", "reason": reason, "intent": intent})
	}
	if err != nil {
		t.b.opts.Log.Warn("hand-off note not written", "conversation_id", t.conv.ID, "err", err)
	}
	return t.b.callHandoff(t.ctx, t.conv.WorkspaceID, t.conv.ID)
}

// route hands the conversation to routing without a word to the visitor
// (the bot did not take part in this turn): a hand-off decision so the
// bot stays quiet, a system line for agents, and the hook.
func (t *turn) route(reason string) error {
	if err := t.decide(OutcomeHandoff, "", 0, map[string]any{"reason": reason}); err != nil {
		return err
	}
	t.b.opts.Chat.SystemEvent(t.ctx, t.conv.WorkspaceID, t.conv.ID, "Bot passed the conversation to routing: "+reason)
	return t.b.callHandoff(t.ctx, t.conv.WorkspaceID, t.conv.ID)
}

// summary is the private note an agent reads on taking over: why, the
// detected intent, and the last lines of the conversation.
func (t *turn) summary(reason, intent string) (string, error) {
	msgs, err := t.b.opts.Store.ListMessages(t.ctx, kefu.MessageRange{WorkspaceID: t.conv.WorkspaceID, ConversationID: t.conv.ID,
		BeforeSeq: 1 << 62, Limit: 20})
	if err != nil {
		return "", err
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "Bot hand-off. Reason: %s.", reason)
	if intent != "" {
		fmt.Fprintf(&sb, " Detected intent: %s.", intent)
	}
	sb.WriteString("\nTranscript:")
	for _, m := range msgs {
		if m.Kind != kefu.KindText {
			continue
		}
		who := "Visitor"
		if m.SenderType == kefu.SenderBot {
			who = "Bot"
		} else if m.SenderType == kefu.SenderAgent {
			who = "Agent"
		}
		body := m.Body
		if len([]rune(body)) > 300 {
			body = string([]rune(body)[:300]) + "…"
		}
		fmt.Fprintf(&sb, "\n%s: %s", who, body)
	}
	return sb.String(), nil
}

// KBSource answers from the knowledge base: its FAQ entries and, with
// Passages, its documents' passages.
type KBSource struct {
	Base *kb.Base
	Prio int
	// Passages lets a document passage answer when it is more confident
	// than any FAQ entry and reaches the threshold. The bot sets it when
	// the workspace has no language model to answer from passages (none
	// configured, or skipped for the day): a model writes a better answer
	// from the same passages, so with one the passages are left to it.
	Passages bool
}

func (s *KBSource) Name() string  { return "kb" }
func (s *KBSource) Priority() int { return s.Prio }

func (s *KBSource) Answer(_ context.Context, q Question) (*Reply, error) {
	th := q.Threshold
	if th <= 0 {
		th = s.Base.Index().Params().Threshold
	}
	var a kb.Answer
	var ok bool
	if s.Passages {
		a, ok = s.Base.AnswerWithPassages(q.Text, th)
	} else {
		a, ok = s.Base.AnswerAt(q.Text, th)
	}
	if !ok {
		return nil, nil
	}
	if a.Kind == kb.KindPassage {
		docID, _ := strconv.ParseInt(a.DocID, 10, 64)
		ref := map[string]any{"passage_id": PassageID(a.PassageID), "document_id": docID}
		meta := map[string]any{"passage_id": ref["passage_id"], "document_id": docID, "cached": a.Cached}
		return &Reply{Text: PassageReply(a.Title, a.Text), Confidence: a.Confidence, Meta: meta, Detail: ref}, nil
	}
	return &Reply{Text: a.Text, Confidence: a.Confidence, Meta: map[string]any{"faq_id": FAQID(a.EntryID), "cached": a.Cached},
		Detail: map[string]any{"faq_id": FAQID(a.EntryID)}}, nil
}

// MaxPassageReply bounds (in characters) a passage sent as an answer:
// about a screen of chat. A passage is at most maxChunk bytes, which
// in English can be more.
const MaxPassageReply = 500

// PassageReply is the visitor's answer made of a document passage: its
// title on a line of its own, then the text, cut after the last full
// sentence (or word) that fits in MaxPassageReply characters and marked
// with "…" when cut.
func PassageReply(title, text string) string {
	text = strings.TrimSpace(text)
	if r := []rune(text); len(r) > MaxPassageReply {
		text = cutText(r[:MaxPassageReply])
	}
	if title = strings.TrimSpace(title); title != "" {
		return title + "\n" + text
	}
	return text
}

// cutText ends r at its last sentence end, else its last space, if that
// keeps at least half of it, and adds "…".
func cutText(r []rune) string {
	cut := -1
	for i := len(r) - 1; i >= len(r)/2; i-- {
		if strings.ContainsRune(".!?。！？\n", r[i]) {
			cut = i + 1
			break
		}
	}
	if cut < 0 {
		for i := len(r) - 1; i >= len(r)/2; i-- {
			if unicode.IsSpace(r[i]) {
				cut = i
				break
			}
		}
	}
	if cut < 0 {
		cut = len(r)
	}
	return strings.TrimSpace(string(r[:cut])) + " …"
}
