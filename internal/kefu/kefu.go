package kefu

import (
	"strings"
	"time"
	"unicode/utf8"
)

// Limits shared by every transport so that REST and WebSocket agree.
const (
	MaxBodyLen        = 16 * 1024 // bytes of message text
	MaxClientMsgIDLen = 64
	MaxLabels         = 32
	MaxLabelLen       = 64
	MaxAttachments    = 10
	MaxNameLen        = 200
	MaxAttributes     = 64
)

// Now truncates to microseconds: both stores keep microsecond precision, so
// a value read back compares equal to the value written.
func Now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

// Workspace is a tenant. Every other record belongs to exactly one.
type Workspace struct {
	ID        int64     `json:"id"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
}

// Role of an agent inside its workspace.
type Role string

const (
	RoleAdmin Role = "admin"
	RoleAgent Role = "agent"
)

func (r Role) Valid() bool { return r == RoleAdmin || r == RoleAgent }

// Agent is a person (or bot account) who answers conversations.
type Agent struct {
	ID            int64     `json:"id"`
	WorkspaceID   int64     `json:"workspace_id"`
	Email         string    `json:"email"` // unique across the installation: it is the login name
	Name          string    `json:"name"`
	Role          Role      `json:"role"`
	PasswordHash  string    `json:"-"`
	MaxConcurrent int       `json:"max_concurrent"` // open conversations at once; 0 means the default
	Active        bool      `json:"active"`
	CreatedAt     time.Time `json:"created_at"`
	UpdatedAt     time.Time `json:"updated_at"`
}

// Channel kinds of an inbox.
const ChannelWeb = "web"

// Inbox is a channel through which contacts reach a workspace; a website
// widget is one, identified publicly by its token.
type Inbox struct {
	ID             int64          `json:"id"`
	WorkspaceID    int64          `json:"workspace_id"`
	Name           string         `json:"name"`
	Channel        string         `json:"channel"`
	PublicToken    string         `json:"public_token"`
	Secret         string         `json:"-"`               // HMAC key for identifier_hash; only admins read it (GET /inboxes/{id}/secret), never listed
	AllowedOrigins []string       `json:"allowed_origins"` // empty: any origin
	Greeting       string         `json:"greeting"`
	Color          string         `json:"color"`
	Widget         WidgetSettings `json:"widget"` // look and pre-chat form of the web widget
	CreatedAt      time.Time      `json:"created_at"`
	UpdatedAt      time.Time      `json:"updated_at"`
}

// OriginAllowed reports whether a browser Origin header may use this inbox.
// An empty list allows every origin, which is the sensible default for a
// widget pasted into an arbitrary site.
func (in *Inbox) OriginAllowed(origin string) bool {
	if len(in.AllowedOrigins) == 0 || origin == "" {
		return true
	}
	for _, o := range in.AllowedOrigins {
		if o == "*" || strings.EqualFold(o, origin) {
			return true
		}
	}
	return false
}

// Contact is a visitor or customer.
type Contact struct {
	ID          int64 `json:"id"`
	WorkspaceID int64 `json:"workspace_id"`
	// VisitorID is the anonymous id the browser keeps. It is a bearer
	// secret (it reopens the contact's session), so it is never serialised
	// with the contact; the widget session response carries it alone.
	VisitorID   string         `json:"-"`
	ExternalID  string         `json:"external_id"` // id in the business's own system
	Name        string         `json:"name"`
	Email       string         `json:"email"`
	Phone       string         `json:"phone"`
	Attributes  map[string]any `json:"attributes"`
	UserAgent   string         `json:"user_agent"`
	PageURL     string         `json:"page_url"`
	FirstSeenAt time.Time      `json:"first_seen_at"`
	LastSeenAt  time.Time      `json:"last_seen_at"`
	CreatedAt   time.Time      `json:"created_at"`
	UpdatedAt   time.Time      `json:"updated_at"`
}

// Status of a conversation.
type Status string

const (
	StatusOpen     Status = "open"
	StatusPending  Status = "pending"
	StatusResolved Status = "resolved"
	StatusSnoozed  Status = "snoozed"
)

func (s Status) Valid() bool {
	switch s {
	case StatusOpen, StatusPending, StatusResolved, StatusSnoozed:
		return true
	}
	return false
}

// Priority of a conversation. Stores turn an empty value into PriorityNone.
type Priority string

const (
	PriorityNone   Priority = "none"
	PriorityLow    Priority = "low"
	PriorityMedium Priority = "medium"
	PriorityHigh   Priority = "high"
	PriorityUrgent Priority = "urgent"
)

func (p Priority) Valid() bool {
	switch p {
	case PriorityNone, PriorityLow, PriorityMedium, PriorityHigh, PriorityUrgent:
		return true
	}
	return false
}

// Conversation is a thread between a contact and the workspace.
type Conversation struct {
	ID                 int64      `json:"id"`
	WorkspaceID        int64      `json:"workspace_id"`
	InboxID            int64      `json:"inbox_id"`
	ContactID          int64      `json:"contact_id"`
	AssigneeID         int64      `json:"assignee_id"` // 0: unassigned
	Status             Status     `json:"status"`
	Priority           Priority   `json:"priority"`
	Labels             []string   `json:"labels"`
	SnoozedUntil       *time.Time `json:"snoozed_until"`
	TeamID             int64      `json:"team_id"`   // required team; 0: any
	QueuedAt           *time.Time `json:"queued_at"` // when it (re-)entered the queue; nil: never queued
	LastSeq            int64      `json:"last_seq"`  // seq of the newest message
	ContactLastReadSeq int64      `json:"contact_last_read_seq"`
	AgentLastReadSeq   int64      `json:"agent_last_read_seq"`
	Rating             *Rating    `json:"rating"` // the contact's satisfaction rating; nil: not rated
	CreatedAt          time.Time  `json:"created_at"`
	UpdatedAt          time.Time  `json:"updated_at"`
	LastActivityAt     time.Time  `json:"last_activity_at"`
}

// SenderType says who wrote a message.
type SenderType string

const (
	SenderContact SenderType = "contact"
	SenderAgent   SenderType = "agent"
	SenderBot     SenderType = "bot"
	SenderSystem  SenderType = "system"
)

func (s SenderType) Valid() bool {
	switch s {
	case SenderContact, SenderAgent, SenderBot, SenderSystem:
		return true
	}
	return false
}

// MessageKind says what a message is.
type MessageKind string

const (
	KindText       MessageKind = "text"
	KindAttachment MessageKind = "attachment"
	KindNote       MessageKind = "note"  // private: never shown to the contact
	KindEvent      MessageKind = "event" // system event, e.g. "assigned to Li"
)

func (k MessageKind) Valid() bool {
	switch k {
	case KindText, KindAttachment, KindNote, KindEvent:
		return true
	}
	return false
}

// Private reports whether the contact must never see the message.
func (m *Message) Private() bool { return m.Kind == KindNote }

// Message is one entry in a conversation. Seq is assigned by the store inside
// the commit and is strictly increasing per conversation with no gaps, so a
// client that knows the last seq it saw can ask for exactly what it missed.
type Message struct {
	ID             int64        `json:"id"`
	WorkspaceID    int64        `json:"workspace_id"`
	ConversationID int64        `json:"conversation_id"`
	Seq            int64        `json:"seq"`
	SenderType     SenderType   `json:"sender_type"`
	SenderID       int64        `json:"sender_id"`
	Kind           MessageKind  `json:"kind"`
	Body           string       `json:"body"`
	Attachments    []Attachment `json:"attachments"`
	ClientMsgID    string       `json:"client_msg_id,omitempty"`
	// Meta carries structured extras, e.g. the bot's quick-reply buttons
	// or the source of an answer; nil (stored as NULL) for most messages.
	Meta      map[string]any `json:"meta,omitempty"`
	CreatedAt time.Time      `json:"created_at"`
}

// Validate checks a message a client wants to send, before it is stored.
func (m *Message) Validate() error {
	switch {
	case m.ConversationID <= 0:
		return Errorf(EInvalid, "conversation_id is required")
	case !m.SenderType.Valid():
		return Errorf(EInvalid, "invalid sender_type %q", m.SenderType)
	case !m.Kind.Valid():
		return Errorf(EInvalid, "invalid kind %q", m.Kind)
	case len(m.Body) > MaxBodyLen:
		return Errorf(ETooLarge, "body is longer than %d bytes", MaxBodyLen)
	case !utf8.ValidString(m.Body) || strings.IndexByte(m.Body, 0) >= 0:
		return Errorf(EInvalid, "body is not valid UTF-8 text")
	case len(m.ClientMsgID) > MaxClientMsgIDLen:
		return Errorf(EInvalid, "client_msg_id is longer than %d bytes", MaxClientMsgIDLen)
	case len(m.Attachments) > MaxAttachments:
		return Errorf(EInvalid, "at most %d attachments", MaxAttachments)
	case strings.TrimSpace(m.Body) == "" && len(m.Attachments) == 0:
		return Errorf(EInvalid, "a message needs a body or an attachment")
	}
	return nil
}

// Attachment is an uploaded file kept under the data folder.
type Attachment struct {
	ID           int64      `json:"id"`
	WorkspaceID  int64      `json:"workspace_id"`
	UploaderType SenderType `json:"uploader_type"`
	UploaderID   int64      `json:"uploader_id"`
	FileName     string     `json:"file_name"`
	ContentType  string     `json:"content_type"`
	Size         int64      `json:"size"`
	SHA256       string     `json:"sha256"`
	StorageKey   string     `json:"-"` // path relative to the attachment root
	CreatedAt    time.Time  `json:"created_at"`
}

// SessionKind says what a token authenticates.
type SessionKind string

const (
	SessionAgent   SessionKind = "agent"   // a logged-in agent (workbench)
	SessionVisitor SessionKind = "visitor" // one contact through one inbox
	SessionAPI     SessionKind = "api"     // an agent's long-lived API access token
)

// Session is a revocable bearer token. Only the SHA-256 of the token is
// stored, so a database leak does not leak live credentials.
type Session struct {
	ID          int64       `json:"id"`
	WorkspaceID int64       `json:"workspace_id"`
	Kind        SessionKind `json:"kind"`
	AgentID     int64       `json:"agent_id,omitempty"`
	ContactID   int64       `json:"contact_id,omitempty"`
	InboxID     int64       `json:"inbox_id,omitempty"`
	TokenHash   string      `json:"-"`
	CreatedAt   time.Time   `json:"created_at"`
	ExpiresAt   time.Time   `json:"expires_at"`
	RevokedAt   *time.Time  `json:"revoked_at,omitempty"`
}

// Usable reports whether the session may authenticate a request at now.
func (s *Session) Usable(now time.Time) bool {
	return s.RevokedAt == nil && now.Before(s.ExpiresAt)
}

// ContactConversation is the view of a conversation its contact gets: the
// agents' labels, priority and snooze plans are internal.
type ContactConversation struct {
	ID                 int64     `json:"id"`
	InboxID            int64     `json:"inbox_id"`
	ContactID          int64     `json:"contact_id"`
	AssigneeID         int64     `json:"assignee_id"`
	Status             Status    `json:"status"`
	LastSeq            int64     `json:"last_seq"`
	ContactLastReadSeq int64     `json:"contact_last_read_seq"`
	AgentLastReadSeq   int64     `json:"agent_last_read_seq"`
	Rating             *Rating   `json:"rating"`
	CreatedAt          time.Time `json:"created_at"`
	UpdatedAt          time.Time `json:"updated_at"`
	LastActivityAt     time.Time `json:"last_activity_at"`
}

// ForContact returns the contact's view of c.
func (c *Conversation) ForContact() *ContactConversation {
	return &ContactConversation{ID: c.ID, InboxID: c.InboxID, ContactID: c.ContactID, AssigneeID: c.AssigneeID, Status: c.Status,
		LastSeq: c.LastSeq, ContactLastReadSeq: c.ContactLastReadSeq, AgentLastReadSeq: c.AgentLastReadSeq, Rating: c.Rating,
		CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt, LastActivityAt: c.LastActivityAt}
}

// ContactReader reports which of a conversation's two read markers reader
// moves: true for the contact's, false for the one agents and bots share.
func ContactReader(reader SenderType) (bool, error) {
	switch reader {
	case SenderContact:
		return true, nil
	case SenderAgent, SenderBot:
		return false, nil
	}
	return false, Errorf(EInvalid, "reader %q has no read marker", reader)
}
