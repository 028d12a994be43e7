package kefu

import (
	"context"
	"time"
)

// Actor is who performs an action: an agent (or bot account) of a workspace,
// or a contact through one inbox. It is derived from an authenticated
// session, never from request fields.
type Actor struct {
	WorkspaceID int64
	Type        SenderType // SenderAgent, SenderContact, SenderBot or SenderSystem
	ID          int64      // agent id or contact id
	Role        Role       // for agents
	InboxID     int64      // for contacts: the inbox they came through
	SessionID   int64
}

func (a Actor) IsAgent() bool   { return a.Type == SenderAgent || a.Type == SenderBot }
func (a Actor) IsContact() bool { return a.Type == SenderContact }
func (a Actor) IsAdmin() bool   { return a.IsAgent() && a.Role == RoleAdmin }

// EventType names what a live event carries.
type EventType string

const (
	EventMessage      EventType = "message"
	EventConversation EventType = "conversation"
	EventTyping       EventType = "typing"
	EventRead         EventType = "read"
	EventPresence     EventType = "presence"
	EventQueue        EventType = "queue"
	// EventQueueChanged tells every node that an inbox's queue changed
	// (InboxID; Assigned when a conversation left it for an agent). It
	// carries no frame: each node recomputes the positions it shows.
	EventQueueChanged EventType = "queue_changed"
	// EventKnowledgeChanged tells other nodes that a workspace's knowledge
	// base changed (Origin names the node that changed it); no frame.
	EventKnowledgeChanged EventType = "knowledge_changed"
	EventReminder         EventType = "reminder"
	EventBotDelta         EventType = "bot_delta" // a streamed piece of a bot answer
)

// Event is a committed change on its way to live connections. Frame is the
// server frame, encoded once and shared by every connection it reaches; the
// other fields exist so the hub can route without decoding it.
type Event struct {
	Type           EventType `json:"type"`
	WorkspaceID    int64     `json:"workspace_id"`
	ConversationID int64     `json:"conversation_id,omitempty"`
	ContactID      int64     `json:"contact_id,omitempty"`   // the conversation's contact
	AssigneeID     int64     `json:"assignee_id,omitempty"`  // the conversation's assignee after the change
	Seq            int64     `json:"seq,omitempty"`          // message events: the message's seq
	Private        bool      `json:"private,omitempty"`      // never delivered to contacts
	AgentsOnly     bool      `json:"agents_only,omitempty"`  // e.g. presence
	ContactOnly    bool      `json:"contact_only,omitempty"` // e.g. a visitor's queue position
	InboxID        int64     `json:"inbox_id,omitempty"`     // queue_changed: the inbox
	Assigned       bool      `json:"assigned,omitempty"`     // queue_changed: by an assignment
	// Origin identifies the connection that caused the event, so a typing
	// indicator is not echoed back to the tab that typed. Empty: none.
	Origin string `json:"origin,omitempty"`
	Frame  []byte `json:"frame"`
	// ContactFrame, when set, replaces Frame for the contact's connections:
	// a visitor sees a conversation without the agents' labels and notes.
	ContactFrame []byte `json:"contact_frame,omitempty"`
}

// Bus fans events out to every server node (one of them is this process).
// Delivery is at most once and ordered per conversation from one publisher;
// receivers fill any gap in message seqs from the store.
type Bus interface {
	Publish(ctx context.Context, e *Event) error
	// Subscribe registers h for every event published on any node. h must
	// not block: it runs on the bus's delivery goroutine.
	Subscribe(h func(*Event)) (unsubscribe func())
	Close() error
}

// Clock returns the current time; injected so tests control it.
type Clock func() time.Time
