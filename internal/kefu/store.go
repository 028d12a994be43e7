package kefu

import (
	"context"
	"time"
)

// Every store method that reads or changes tenant data takes the workspace id
// explicitly and scopes its query by it: a record of another workspace is
// reported as ENotFound, exactly as if it did not exist.

// WorkspaceStore keeps tenants.
type WorkspaceStore interface {
	CreateWorkspace(ctx context.Context, w *Workspace) error
	GetWorkspace(ctx context.Context, id int64) (*Workspace, error)
	CountWorkspaces(ctx context.Context) (int, error)
}

// AgentStore keeps agents. Email is unique across the installation.
type AgentStore interface {
	CreateAgent(ctx context.Context, a *Agent) error // EConflict on a taken email
	GetAgent(ctx context.Context, workspaceID, id int64) (*Agent, error)
	// GetAgentByEmail is the one unscoped lookup: login happens before the
	// workspace is known.
	GetAgentByEmail(ctx context.Context, email string) (*Agent, error)
	ListAgents(ctx context.Context, workspaceID int64) ([]*Agent, error)
	// UpdateAgent writes a, found by a.WorkspaceID and a.ID. If a is now
	// its workspace's only active admin and the update would demote or
	// deactivate it, it fails with LastAdminError and changes nothing. The
	// check and the write are one atomic step, so admins demoting each
	// other at once still leave one.
	UpdateAgent(ctx context.Context, a *Agent) error
}

// InboxStore keeps inboxes.
type InboxStore interface {
	CreateInbox(ctx context.Context, in *Inbox) error
	GetInbox(ctx context.Context, workspaceID, id int64) (*Inbox, error)
	// GetInboxByToken is unscoped: the public token is how a visitor names
	// the workspace in the first place.
	GetInboxByToken(ctx context.Context, token string) (*Inbox, error)
	ListInboxes(ctx context.Context, workspaceID int64) ([]*Inbox, error)
	UpdateInbox(ctx context.Context, in *Inbox) error
}

// ContactFilter selects contacts; results are newest first by id.
type ContactFilter struct {
	WorkspaceID int64
	Query       string // substring of name, email, phone or external id; empty: all
	BeforeID    int64  // keyset cursor: only ids below this; 0: from the newest
	Limit       int
}

// ContactStore keeps contacts.
type ContactStore interface {
	CreateContact(ctx context.Context, c *Contact) error // EConflict on a taken visitor or external id
	GetContact(ctx context.Context, workspaceID, id int64) (*Contact, error)
	GetContactByVisitorID(ctx context.Context, workspaceID int64, visitorID string) (*Contact, error)
	GetContactByExternalID(ctx context.Context, workspaceID int64, externalID string) (*Contact, error)
	// UpdateContact overwrites every mutable field of c, attributes
	// included; to change a live contact use PatchContact, which cannot
	// lose a concurrent change.
	UpdateContact(ctx context.Context, c *Contact) error
	// PatchContact applies p (see ContactPatch.Apply) to the contact as it
	// is inside one write, and returns the contact afterwards.
	PatchContact(ctx context.Context, workspaceID, id int64, p ContactPatch) (*Contact, error)
	ListContacts(ctx context.Context, f ContactFilter) ([]*Contact, error)
}

// ConversationCursor is a keyset position in the conversation list, which is
// ordered by last activity, newest first, ties broken by id.
type ConversationCursor struct {
	LastActivityAt time.Time
	ID             int64
}

// Assignee filter values besides a concrete agent id.
const (
	AssigneeAny        int64 = 0
	AssigneeUnassigned int64 = -1
)

// ConversationFilter selects conversations.
type ConversationFilter struct {
	WorkspaceID int64
	Status      Status // empty: any
	AssigneeID  int64  // AssigneeAny, AssigneeUnassigned, or an agent id
	InboxID     int64  // 0: any
	ContactID   int64  // 0: any
	After       *ConversationCursor
	Limit       int
}

// ConversationUpdate holds the fields to change; nil means leave as is.
type ConversationUpdate struct {
	Status       *Status
	AssigneeID   *int64 // pointer to 0 unassigns
	Priority     *Priority
	Labels       *[]string
	SnoozedUntil **time.Time
}

// ConversationStore keeps conversations.
type ConversationStore interface {
	CreateConversation(ctx context.Context, c *Conversation) error
	GetConversation(ctx context.Context, workspaceID, id int64) (*Conversation, error)
	ListConversations(ctx context.Context, f ConversationFilter) ([]*Conversation, error)
	UpdateConversation(ctx context.Context, workspaceID, id int64, u ConversationUpdate) (*Conversation, error)
	// MarkRead moves the reader's read marker forward to seq (never back)
	// and returns the conversation as it is afterwards.
	MarkRead(ctx context.Context, workspaceID, conversationID int64, reader SenderType, seq int64) (*Conversation, error)
}

// MessageRange selects messages of one conversation by seq.
type MessageRange struct {
	WorkspaceID    int64
	ConversationID int64
	AfterSeq       int64 // exclusive; 0: from the start
	BeforeSeq      int64 // exclusive; 0: no upper bound
	Limit          int   // ascending when BeforeSeq is 0, else the newest Limit before BeforeSeq (still returned ascending)
	IncludePrivate bool  // include notes: false for contacts
}

// AppendResult is what a committed append reports back.
type AppendResult struct {
	Message   *Message // as stored, with ID, Seq and CreatedAt set
	Duplicate bool     // the client_msg_id was seen before: Message is the original
	// The conversation's state right after the commit, for routing the
	// live event without another read.
	ContactID  int64
	AssigneeID int64
}

// MessageStore keeps messages. AppendMessage returns only after the message
// is durably committed; concurrent appends are group-committed.
type MessageStore interface {
	AppendMessage(ctx context.Context, m *Message) (*AppendResult, error)
	ListMessages(ctx context.Context, r MessageRange) ([]*Message, error)
}

// AsyncAppender is implemented by stores that group-commit. It queues m
// and returns at once; done is called once m is durably committed (or has
// failed), on a goroutine of the store, in commit order for each
// conversation. done must not block. An error from AppendMessageAsync
// means m was not queued and done will not be called.
type AsyncAppender interface {
	AppendMessageAsync(ctx context.Context, m *Message, done func(*AppendResult, error)) error
}

// AttachmentStore keeps attachment metadata; the bytes live in a BlobStore.
type AttachmentStore interface {
	CreateAttachment(ctx context.Context, a *Attachment) error
	GetAttachment(ctx context.Context, workspaceID, id int64) (*Attachment, error)
}

// SessionStore keeps bearer-token sessions.
type SessionStore interface {
	CreateSession(ctx context.Context, s *Session) error
	GetSessionByTokenHash(ctx context.Context, tokenHash string) (*Session, error)
	RevokeSession(ctx context.Context, workspaceID, id int64) error
	// RevokeAgentSessions revokes every session of an agent, e.g. when the
	// agent is deactivated or changes password.
	RevokeAgentSessions(ctx context.Context, workspaceID, agentID int64) error
}

// Store is everything a Kefu server persists. Two implementations exist,
// SQLite and PostgreSQL, and both pass the same conformance suite.
type Store interface {
	WorkspaceStore
	AgentStore
	InboxStore
	ContactStore
	ConversationStore
	MessageStore
	AttachmentStore
	SessionStore
	CannedStore
	LabelStore
	SearchStore
	WorkspaceUpdater
	RoutingStore
	BotStore
	RatingStore
	InvitationStore
	Ping(ctx context.Context) error
	Close() error
}
