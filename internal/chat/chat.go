// Package chat is the application service for conversations and messages:
// the one place that decides who may read or write what, commits through
// the store and then announces the change on the bus. REST handlers and
// WebSocket connections both call it, so the rules cannot drift apart.
package chat

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/kefu-chat/kefu/internal/kefu"
	"github.com/kefu-chat/kefu/internal/metrics"
	"github.com/kefu-chat/kefu/internal/protocol"
)

// Service implements the chat rules over a store and a bus.
type Service struct {
	store    kefu.Store
	bus      kefu.Bus
	log      *slog.Logger
	metrics  *metrics.Metrics
	owners   ownerCache
	presence presence
	router   Router
	// onContact, if set, is told of every contact message committed
	// through this node (see OnContactMessage).
	onContact atomic.Pointer[func(*kefu.AppendResult)]
}

// Router is told about the changes routing acts on. Its methods must not
// block: ContactMessage in particular is called on the store's commit
// goroutine.
type Router interface {
	ConversationStarted(ctx context.Context, c *kefu.Conversation)
	ConversationChanged(ctx context.Context, before, after *kefu.Conversation)
	ContactMessage(ctx context.Context, m *kefu.Message)
	AvailabilityChanged(ctx context.Context, workspaceID, agentID int64, a kefu.Availability)
}

type noRouter struct{}

func (noRouter) ConversationStarted(context.Context, *kefu.Conversation)                     {}
func (noRouter) ConversationChanged(context.Context, *kefu.Conversation, *kefu.Conversation) {}
func (noRouter) ContactMessage(context.Context, *kefu.Message)                               {}
func (noRouter) AvailabilityChanged(context.Context, int64, int64, kefu.Availability)        {}

// SetRouter installs the router; call it once, before serving.
func (s *Service) SetRouter(r Router) { s.router = r }

// OnContactMessage registers f to be called after each contact message
// committed through this node (not for messages from other nodes, so in a
// cluster exactly one node reacts). f runs on the commit path and must not
// block; the bot starts its own goroutine. Set it before serving.
func (s *Service) OnContactMessage(f func(*kefu.AppendResult)) { s.onContact.Store(&f) }

// New builds a Service. metrics may be nil in tests.
func New(store kefu.Store, bus kefu.Bus, log *slog.Logger, m *metrics.Metrics) *Service {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if m == nil {
		m = metrics.New()
	}
	return &Service{store: store, bus: bus, log: log, metrics: m, owners: newOwnerCache(200_000), presence: presence{status: map[int64]string{}}, router: noRouter{}}
}

// owner is the immutable part of a conversation: who it belongs to. It is
// cached so the send path checks access without a read per message.
type owner struct {
	workspaceID, contactID, inboxID int64
}

type ownerCache struct {
	mu  sync.RWMutex
	m   map[int64]owner
	max int
}

func newOwnerCache(max int) ownerCache { return ownerCache{m: map[int64]owner{}, max: max} }

func (c *ownerCache) get(id int64) (owner, bool) {
	c.mu.RLock()
	o, ok := c.m[id]
	c.mu.RUnlock()
	return o, ok
}

func (c *ownerCache) put(id int64, o owner) {
	c.mu.Lock()
	if len(c.m) >= c.max {
		// Entries are cheap to reload; dropping all keeps this bounded
		// without the bookkeeping of an LRU.
		clear(c.m)
	}
	c.m[id] = o
	c.mu.Unlock()
}

// access checks that actor may act on conversation id and returns its owner.
// A conversation of another workspace, or another contact's, is ENotFound:
// its existence is not the caller's business.
func (s *Service) access(ctx context.Context, actor kefu.Actor, id int64) (owner, error) {
	o, ok := s.owners.get(id)
	if !ok {
		c, err := s.store.GetConversation(ctx, actor.WorkspaceID, id)
		if err != nil {
			return owner{}, err
		}
		o = owner{workspaceID: c.WorkspaceID, contactID: c.ContactID, inboxID: c.InboxID}
		s.owners.put(id, o)
	}
	if o.workspaceID != actor.WorkspaceID || (actor.IsContact() && o.contactID != actor.ID) {
		return owner{}, kefu.Errorf(kefu.ENotFound, "conversation not found")
	}
	return o, nil
}

func (s *Service) publish(ctx context.Context, e *kefu.Event) {
	if err := s.bus.Publish(ctx, e); err != nil {
		// The change is committed; a reconnecting client will find it in
		// the store. Log and move on rather than fail the request.
		s.metrics.Errors.WithLabelValues("bus_publish").Inc()
		s.log.Warn("bus publish failed", "type", e.Type, "conversation_id", e.ConversationID, "err", err)
	}
}

// StartConversation opens a new conversation for a contact in its inbox.
func (s *Service) StartConversation(ctx context.Context, actor kefu.Actor) (*kefu.Conversation, error) {
	if !actor.IsContact() {
		return nil, kefu.Errorf(kefu.EForbidden, "only a visitor starts a conversation this way")
	}
	now := kefu.Now()
	c := &kefu.Conversation{
		WorkspaceID: actor.WorkspaceID, InboxID: actor.InboxID, ContactID: actor.ID,
		Status: kefu.StatusOpen, Priority: kefu.PriorityNone, Labels: []string{},
		CreatedAt: now, UpdatedAt: now, LastActivityAt: now,
	}
	if err := s.store.CreateConversation(ctx, c); err != nil {
		return nil, err
	}
	s.owners.put(c.ID, owner{workspaceID: c.WorkspaceID, contactID: c.ContactID, inboxID: c.InboxID})
	s.publishConversation(ctx, "created", nil, c)
	s.router.ConversationStarted(ctx, c)
	return c, nil
}

// Announce publishes a conversation change made outside UpdateConversation
// (routing's assignments and transfers).
func (s *Service) Announce(ctx context.Context, f protocol.ConversationFrame, c *kefu.Conversation) {
	f.Type, f.Conversation = protocol.TypeConversation, c
	cf := f
	cf.Changed, cf.Conversation = contactVisible(f.Changed), c.ForContact()
	cf.Reason, cf.FromAgentID, cf.ToTeamID, cf.NoteSeq = "", 0, 0, 0
	s.publish(ctx, &kefu.Event{
		Type: kefu.EventConversation, WorkspaceID: c.WorkspaceID, ConversationID: c.ID,
		ContactID: c.ContactID, AssigneeID: c.AssigneeID,
		Frame: protocol.Encode(&f), ContactFrame: protocol.Encode(&cf),
	})
}

// Publish sends a live event as it is.
func (s *Service) Publish(ctx context.Context, e *kefu.Event) { s.publish(ctx, e) }

// SystemMessage appends a message on the system's behalf: a visible event
// line, or a private note (kind note) only agents see.
func (s *Service) SystemMessage(ctx context.Context, workspaceID, conversationID int64, kind kefu.MessageKind, text string) (*kefu.Message, error) {
	m := &kefu.Message{WorkspaceID: workspaceID, ConversationID: conversationID, SenderType: kefu.SenderSystem,
		Kind: kind, Body: text, Attachments: []kefu.Attachment{}}
	res, err := s.append(ctx, m)
	if err != nil {
		return nil, err
	}
	return res.Message, nil
}

// SystemUpdate changes a conversation on the system's behalf (auto-resolve),
// records why as an event line, and announces it.
func (s *Service) SystemUpdate(ctx context.Context, workspaceID, id int64, u kefu.ConversationUpdate, why string) (*kefu.Conversation, error) {
	before, err := s.store.GetConversation(ctx, workspaceID, id)
	if err != nil {
		return nil, err
	}
	actor := kefu.Actor{WorkspaceID: workspaceID, Type: kefu.SenderSystem}
	return s.apply(ctx, actor, before, u, func(*kefu.Conversation) []string {
		if why == "" {
			return nil
		}
		return []string{why}
	})
}

// apply commits u to the conversation, then, if anything changed,
// announces the new state, records the transcript lines that explain it,
// and tells the router: the one path every conversation change takes.
func (s *Service) apply(ctx context.Context, actor kefu.Actor, before *kefu.Conversation, u kefu.ConversationUpdate,
	lines func(after *kefu.Conversation) []string) (*kefu.Conversation, error) {
	after, err := s.store.UpdateConversation(ctx, actor.WorkspaceID, before.ID, u)
	if err != nil {
		return nil, err
	}
	changed := diffConversation(before, after)
	if len(changed) == 0 {
		return after, nil
	}
	// The state change is announced first, then the transcript lines
	// that record it.
	s.publishConversation(ctx, "updated", changed, after)
	for _, text := range lines(after) {
		s.systemEvent(ctx, actor, after.ID, text)
	}
	s.router.ConversationChanged(ctx, before, after)
	return after, nil
}

func (s *Service) publishConversation(ctx context.Context, event string, changed []string, c *kefu.Conversation) {
	s.publish(ctx, &kefu.Event{
		Type: kefu.EventConversation, WorkspaceID: c.WorkspaceID, ConversationID: c.ID,
		ContactID: c.ContactID, AssigneeID: c.AssigneeID,
		Frame:        protocol.Encode(&protocol.ConversationFrame{Type: protocol.TypeConversation, Event: event, Changed: changed, Conversation: c}),
		ContactFrame: protocol.Encode(&protocol.ConversationFrame{Type: protocol.TypeConversation, Event: event, Changed: contactVisible(changed), Conversation: c.ForContact()}),
	})
}

// Conversation returns one conversation the actor may see.
func (s *Service) Conversation(ctx context.Context, actor kefu.Actor, id int64) (*kefu.Conversation, error) {
	if _, err := s.access(ctx, actor, id); err != nil {
		return nil, err
	}
	return s.store.GetConversation(ctx, actor.WorkspaceID, id)
}

// ListConversations lists what the actor may see; a contact sees only its own.
func (s *Service) ListConversations(ctx context.Context, actor kefu.Actor, f kefu.ConversationFilter) ([]*kefu.Conversation, error) {
	f.WorkspaceID = actor.WorkspaceID
	if actor.IsContact() {
		f.ContactID = actor.ID
		f.AssigneeID = kefu.AssigneeAny
	}
	if f.Limit <= 0 || f.Limit > 100 {
		f.Limit = 25
	}
	return s.store.ListConversations(ctx, f)
}

// ConversationChange is an agent's requested change; nil fields stay.
type ConversationChange struct {
	Status       *kefu.Status
	AssigneeID   *int64
	Priority     *kefu.Priority
	Labels       *[]string
	SnoozedUntil **time.Time
}

func (ch *ConversationChange) validate() error {
	if ch.Status != nil && !ch.Status.Valid() {
		return kefu.Errorf(kefu.EInvalid, "status must be open, pending, resolved or snoozed")
	}
	if ch.Priority != nil && !ch.Priority.Valid() {
		return kefu.Errorf(kefu.EInvalid, "priority must be none, low, medium, high or urgent")
	}
	if ch.AssigneeID != nil && *ch.AssigneeID < 0 {
		return kefu.Errorf(kefu.EInvalid, "assignee_id must be an agent id, or 0 to unassign")
	}
	if ch.Labels != nil {
		ls, err := normalizeLabels(*ch.Labels)
		if err != nil {
			return err
		}
		*ch.Labels = ls
	}
	if ch.Status != nil && *ch.Status == kefu.StatusSnoozed && (ch.SnoozedUntil == nil || *ch.SnoozedUntil == nil) {
		return kefu.Errorf(kefu.EInvalid, "snoozed_until is required to snooze")
	}
	return nil
}

func normalizeLabels(in []string) ([]string, error) {
	if len(in) > kefu.MaxLabels {
		return nil, kefu.Errorf(kefu.EInvalid, "at most %d labels", kefu.MaxLabels)
	}
	out := make([]string, 0, len(in))
	for _, l := range in {
		l = strings.TrimSpace(l)
		if l == "" || len(l) > kefu.MaxLabelLen || !utf8.ValidString(l) || strings.ContainsAny(l, ",\n\r\t") {
			return nil, kefu.Errorf(kefu.EInvalid, "label %q is empty, too long or has a comma or control character", l)
		}
		if !slices.Contains(out, l) {
			out = append(out, l)
		}
	}
	slices.Sort(out)
	return out, nil
}

// UpdateConversation applies an agent's change, records a system event for
// status and assignment changes, and announces the result.
func (s *Service) UpdateConversation(ctx context.Context, actor kefu.Actor, id int64, ch ConversationChange) (*kefu.Conversation, error) {
	if !actor.IsAgent() {
		return nil, kefu.Errorf(kefu.EForbidden, "only agents change conversations")
	}
	if err := ch.validate(); err != nil {
		return nil, err
	}
	before, err := s.Conversation(ctx, actor, id)
	if err != nil {
		return nil, err
	}
	var assignee *kefu.Agent
	if ch.AssigneeID != nil && *ch.AssigneeID != 0 {
		assignee, err = s.store.GetAgent(ctx, actor.WorkspaceID, *ch.AssigneeID)
		if kefu.IsNotFound(err) || (err == nil && !assignee.Active) {
			return nil, kefu.Errorf(kefu.EInvalid, "assignee %d is not an active agent of this workspace", *ch.AssigneeID)
		}
		if err != nil {
			return nil, err
		}
	}
	u := kefu.ConversationUpdate{Status: ch.Status, AssigneeID: ch.AssigneeID, Priority: ch.Priority, Labels: ch.Labels, SnoozedUntil: ch.SnoozedUntil}
	if ch.Status != nil && *ch.Status != kefu.StatusSnoozed && ch.SnoozedUntil == nil && before.SnoozedUntil != nil {
		var none *time.Time
		u.SnoozedUntil = &none
	}
	return s.apply(ctx, actor, before, u, func(after *kefu.Conversation) []string {
		var lines []string
		if before.AssigneeID != after.AssigneeID {
			text := "Conversation unassigned"
			if assignee != nil {
				text = "Assigned to " + displayName(assignee)
			}
			lines = append(lines, text)
		}
		if before.Status != after.Status {
			lines = append(lines, "Status changed to "+string(after.Status))
		}
		return lines
	})
}

// contactVisible filters a change list down to what a contact's view shows.
func contactVisible(changed []string) []string {
	var out []string
	for _, f := range changed {
		if f == "status" || f == "assignee_id" {
			out = append(out, f)
		}
	}
	return out
}

func displayName(a *kefu.Agent) string {
	if a.Name != "" {
		return a.Name
	}
	return a.Email
}

func diffConversation(a, b *kefu.Conversation) []string {
	var out []string
	if a.Status != b.Status {
		out = append(out, "status")
	}
	if a.AssigneeID != b.AssigneeID {
		out = append(out, "assignee_id")
	}
	if a.Priority != b.Priority {
		out = append(out, "priority")
	}
	if !slices.Equal(a.Labels, b.Labels) {
		out = append(out, "labels")
	}
	if (a.SnoozedUntil == nil) != (b.SnoozedUntil == nil) || (a.SnoozedUntil != nil && !a.SnoozedUntil.Equal(*b.SnoozedUntil)) {
		out = append(out, "snoozed_until")
	}
	return out
}

// systemEvent appends a visible system message; failure is logged, not
// returned, because the change it describes has already been committed.
func (s *Service) systemEvent(ctx context.Context, actor kefu.Actor, conversationID int64, text string) {
	m := &kefu.Message{WorkspaceID: actor.WorkspaceID, ConversationID: conversationID, SenderType: kefu.SenderSystem,
		SenderID: actor.ID, Kind: kefu.KindEvent, Body: text, Attachments: []kefu.Attachment{}}
	if _, err := s.append(ctx, m); err != nil {
		s.log.Error("system event not recorded", "conversation_id", conversationID, "err", err)
	}
}

// SendInput is a message an actor wants to send.
type SendInput struct {
	ConversationID int64
	ClientMsgID    string
	Kind           kefu.MessageKind
	Body           string
	AttachmentIDs  []int64
	// Meta is set only by the server (the bot); transports never fill it.
	Meta map[string]any
}

// Send validates, commits (durably, before returning) and announces a message.
func (s *Service) Send(ctx context.Context, actor kefu.Actor, in SendInput) (*kefu.AppendResult, error) {
	m, err := s.prepare(ctx, actor, in)
	if err != nil {
		return nil, err
	}
	return s.append(ctx, m)
}

// SendAsync is Send for a caller that must not wait for the commit, such as
// a WebSocket read loop: it validates and checks access at once, then
// queues the message and returns. done is called once the message is
// committed and announced (or has failed), in commit order per
// conversation, on a goroutine of the store; it must not block. If
// SendAsync returns an error, done is not called.
func (s *Service) SendAsync(ctx context.Context, actor kefu.Actor, in SendInput, done func(*kefu.AppendResult, error)) error {
	m, err := s.prepare(ctx, actor, in)
	if err != nil {
		return err
	}
	async, ok := s.store.(kefu.AsyncAppender)
	if !ok {
		done(s.append(ctx, m))
		return nil
	}
	// The callback outlives the caller's context.
	bg := context.WithoutCancel(ctx)
	return async.AppendMessageAsync(ctx, m, func(res *kefu.AppendResult, err error) {
		if err == nil {
			s.announce(bg, res)
		}
		done(res, err)
	})
}

// prepare validates a send and builds the message to store.
func (s *Service) prepare(ctx context.Context, actor kefu.Actor, in SendInput) (*kefu.Message, error) {
	if in.Kind == "" {
		in.Kind = kefu.KindText
	}
	switch {
	case in.Kind == kefu.KindEvent:
		return nil, kefu.Errorf(kefu.EForbidden, "system events are written by the server")
	case in.Kind == kefu.KindNote && !actor.IsAgent():
		return nil, kefu.Errorf(kefu.EForbidden, "only agents write private notes")
	case in.Kind == kefu.KindAttachment && len(in.AttachmentIDs) == 0:
		return nil, kefu.Errorf(kefu.EInvalid, "an attachment message needs attachments")
	}
	m := &kefu.Message{
		WorkspaceID: actor.WorkspaceID, ConversationID: in.ConversationID,
		SenderType: actor.Type, SenderID: actor.ID, Kind: in.Kind, Body: in.Body,
		ClientMsgID: in.ClientMsgID, Meta: in.Meta,
	}
	if len(in.AttachmentIDs) > kefu.MaxAttachments {
		return nil, kefu.Errorf(kefu.EInvalid, "at most %d attachments", kefu.MaxAttachments)
	}
	// One slot per requested attachment, filled below, so Validate counts
	// them: an attachment message may have an empty body.
	m.Attachments = make([]kefu.Attachment, len(in.AttachmentIDs))
	if err := m.Validate(); err != nil {
		return nil, err
	}
	if _, err := s.access(ctx, actor, in.ConversationID); err != nil {
		return nil, err
	}
	for i, aid := range in.AttachmentIDs {
		a, err := s.store.GetAttachment(ctx, actor.WorkspaceID, aid)
		if kefu.IsNotFound(err) || (err == nil && actor.IsContact() && (a.UploaderType != kefu.SenderContact || a.UploaderID != actor.ID)) {
			return nil, kefu.Errorf(kefu.EInvalid, "attachment %d not found", aid)
		}
		if err != nil {
			return nil, err
		}
		m.Attachments[i] = *a
	}
	return m, nil
}

func (s *Service) append(ctx context.Context, m *kefu.Message) (*kefu.AppendResult, error) {
	res, err := s.store.AppendMessage(ctx, m)
	if err != nil {
		return nil, err
	}
	s.announce(ctx, res)
	return res, nil
}

// announce publishes a committed message; a duplicate was announced when
// it was first committed.
func (s *Service) announce(ctx context.Context, res *kefu.AppendResult) {
	if res.Duplicate {
		s.metrics.Duplicates.Inc()
		return
	}
	msg := res.Message
	s.metrics.MessagesIn.WithLabelValues(string(msg.SenderType)).Inc()
	s.publish(ctx, &kefu.Event{
		Type: kefu.EventMessage, WorkspaceID: msg.WorkspaceID, ConversationID: msg.ConversationID,
		ContactID: res.ContactID, AssigneeID: res.AssigneeID, Seq: msg.Seq, Private: msg.Private(),
		Frame: protocol.EncodeMessage(msg),
	})
	if msg.SenderType == kefu.SenderContact {
		s.router.ContactMessage(ctx, msg)
		if f := s.onContact.Load(); f != nil {
			(*f)(res)
		}
	}
}

// SystemEvent appends a visible system line to a conversation on behalf
// of the server (e.g. the bot's hand-off) and announces it.
func (s *Service) SystemEvent(ctx context.Context, workspaceID, conversationID int64, text string) {
	s.systemEvent(ctx, kefu.Actor{WorkspaceID: workspaceID, Type: kefu.SenderSystem}, conversationID, text)
}

// BotDelta announces a streamed piece of a bot answer to the
// conversation's live connections. It is not stored.
func (s *Service) BotDelta(ctx context.Context, workspaceID, conversationID, contactID int64, streamID, text string) {
	s.publish(ctx, &kefu.Event{
		Type: kefu.EventBotDelta, WorkspaceID: workspaceID, ConversationID: conversationID, ContactID: contactID,
		Frame: protocol.Encode(&protocol.BotDeltaFrame{Type: protocol.TypeBotDelta, ConversationID: conversationID, StreamID: streamID, Text: text}),
	})
}

// Messages lists a conversation's messages; contacts never see notes.
func (s *Service) Messages(ctx context.Context, actor kefu.Actor, r kefu.MessageRange) ([]*kefu.Message, error) {
	if _, err := s.access(ctx, actor, r.ConversationID); err != nil {
		return nil, err
	}
	r.WorkspaceID = actor.WorkspaceID
	r.IncludePrivate = actor.IsAgent()
	if r.Limit <= 0 || r.Limit > 500 {
		r.Limit = 100
	}
	return s.store.ListMessages(ctx, r)
}

// MarkRead moves the actor's read marker and tells the other side.
func (s *Service) MarkRead(ctx context.Context, actor kefu.Actor, conversationID, seq int64) (*kefu.Conversation, error) {
	if seq <= 0 {
		return nil, kefu.Errorf(kefu.EInvalid, "seq must be positive")
	}
	if _, err := s.access(ctx, actor, conversationID); err != nil {
		return nil, err
	}
	reader := kefu.SenderAgent
	if actor.IsContact() {
		reader = kefu.SenderContact
	}
	c, err := s.store.MarkRead(ctx, actor.WorkspaceID, conversationID, reader, seq)
	if err != nil {
		return nil, err
	}
	mark := c.AgentLastReadSeq
	if actor.IsContact() {
		mark = c.ContactLastReadSeq
	}
	s.publish(ctx, &kefu.Event{
		Type: kefu.EventRead, WorkspaceID: c.WorkspaceID, ConversationID: c.ID, ContactID: c.ContactID, AssigneeID: c.AssigneeID,
		Frame: protocol.Encode(&protocol.ReadFrame{Type: protocol.TypeRead, ConversationID: c.ID, ReaderType: actor.Type, ReaderID: actor.ID, Seq: mark}),
	})
	return c, nil
}

// Typing relays a typing indicator; origin names the sending connection so
// it is not echoed back to it.
func (s *Service) Typing(ctx context.Context, actor kefu.Actor, conversationID int64, on bool, origin string) error {
	o, err := s.access(ctx, actor, conversationID)
	if err != nil {
		return err
	}
	s.publish(ctx, &kefu.Event{
		Type: kefu.EventTyping, WorkspaceID: o.workspaceID, ConversationID: conversationID, ContactID: o.contactID,
		Origin: origin,
		Frame:  protocol.Encode(&protocol.TypingFrame{Type: protocol.TypeTyping, ConversationID: conversationID, SenderType: actor.Type, SenderID: actor.ID, On: on}),
	})
	return nil
}

// presence is the agents' self-declared status on this node.
type presence struct {
	mu     sync.Mutex
	status map[int64]string // agent id -> status
}

// SetPresence records an agent's declared status (online, away or
// offline) for routing, on every node, and announces it.
func (s *Service) SetPresence(ctx context.Context, actor kefu.Actor, status string) error {
	if !actor.IsAgent() {
		return kefu.Errorf(kefu.EForbidden, "only agents have presence")
	}
	a := kefu.Availability(status)
	if !a.Valid() {
		return kefu.Errorf(kefu.EInvalid, "status must be online, away or offline")
	}
	if err := s.store.SetAvailability(ctx, actor.WorkspaceID, actor.ID, a, kefu.Now()); err != nil {
		return err
	}
	s.notePresence(ctx, actor, status)
	s.router.AvailabilityChanged(ctx, actor.WorkspaceID, actor.ID, a)
	return nil
}

// Disconnected tells other agents that an agent's last connection on this
// node closed. The declared status is kept: routing stops assigning to
// the agent once the grace period passes without a heartbeat.
func (s *Service) Disconnected(ctx context.Context, actor kefu.Actor) {
	s.notePresence(ctx, actor, protocol.PresenceOffline)
}

func (s *Service) notePresence(ctx context.Context, actor kefu.Actor, status string) {
	s.presence.mu.Lock()
	prev := s.presence.status[actor.ID]
	s.presence.status[actor.ID] = status
	s.presence.mu.Unlock()
	if prev == status {
		return
	}
	s.publish(ctx, &kefu.Event{
		Type: kefu.EventPresence, WorkspaceID: actor.WorkspaceID, AgentsOnly: true,
		Frame: protocol.Encode(&protocol.PresenceFrame{Type: protocol.TypePresence, AgentID: actor.ID, Status: status}),
	})
}

// Presence returns an agent's last declared status ("offline" if none).
func (s *Service) Presence(agentID int64) string {
	s.presence.mu.Lock()
	defer s.presence.mu.Unlock()
	if st, ok := s.presence.status[agentID]; ok {
		return st
	}
	return protocol.PresenceOffline
}
