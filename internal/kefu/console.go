package kefu

import (
	"context"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// This file holds what the agent workbench and the admin console need
// beyond the core chat records: canned responses, the label catalog,
// search over messages, the preview of a conversation's newest message,
// and renaming a workspace.

// Bounds of the console's records.
const (
	MaxShortCodeLen   = 32
	MaxDescriptionLen = 500
	MaxCannedPerSpace = 1000 // canned responses per workspace
	MaxLabelsPerSpace = 500  // labels in one workspace's catalog
	PreviewRunes      = 140  // runes of body a last-message preview keeps
)

// CannedResponse is a saved reply an agent inserts by typing /short_code.
type CannedResponse struct {
	ID          int64     `json:"id"`
	WorkspaceID int64     `json:"workspace_id"`
	ShortCode   string    `json:"short_code"` // unique in the workspace
	Content     string    `json:"content"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// Validate checks a canned response before it is stored. A short code is
// letters (any script), digits, '-' and '_': what fits after a slash
// without a space ends it.
func (c *CannedResponse) Validate() error {
	if c.ShortCode == "" || utf8.RuneCountInString(c.ShortCode) > MaxShortCodeLen {
		return Errorf(EInvalid, "short_code must be 1 to %d characters", MaxShortCodeLen)
	}
	for _, r := range c.ShortCode {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '-' && r != '_' {
			return Errorf(EInvalid, "short_code may hold only letters, digits, '-' and '_'")
		}
	}
	if strings.TrimSpace(c.Content) == "" {
		return Errorf(EInvalid, "content is required")
	}
	if len(c.Content) > MaxBodyLen || !utf8.ValidString(c.Content) || strings.IndexByte(c.Content, 0) >= 0 {
		return Errorf(EInvalid, "content must be UTF-8 text of at most %d bytes", MaxBodyLen)
	}
	return nil
}

// CannedStore keeps canned responses.
type CannedStore interface {
	CreateCanned(ctx context.Context, c *CannedResponse) error // EConflict on a taken short code
	GetCanned(ctx context.Context, workspaceID, id int64) (*CannedResponse, error)
	ListCanned(ctx context.Context, workspaceID int64) ([]*CannedResponse, error) // by short code
	UpdateCanned(ctx context.Context, c *CannedResponse) error                    // by c.WorkspaceID and c.ID
	DeleteCanned(ctx context.Context, workspaceID, id int64) error
}

// Label is an entry of a workspace's label catalog. Conversations keep
// their labels as plain strings, so renaming or deleting a catalog entry
// leaves the conversations that carry it as they are.
type Label struct {
	ID          int64     `json:"id"`
	WorkspaceID int64     `json:"workspace_id"`
	Name        string    `json:"name"` // unique in the workspace
	Color       string    `json:"color"`
	Description string    `json:"description"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// ValidLabelName applies the rules a conversation's labels follow, so any
// catalog entry can be put on a conversation.
func ValidLabelName(s string) bool {
	return s != "" && s == strings.TrimSpace(s) && len(s) <= MaxLabelLen && utf8.ValidString(s) && !strings.ContainsAny(s, ",\n\r\t")
}

// Validate checks a label before it is stored.
func (l *Label) Validate() error {
	if !ValidLabelName(l.Name) {
		return Errorf(EInvalid, "name must be 1 to %d bytes without commas, tabs or line breaks, nor spaces at the ends", MaxLabelLen)
	}
	if !validColor(l.Color) {
		return Errorf(EInvalid, "color must be #rgb or #rrggbb")
	}
	if len(l.Description) > MaxDescriptionLen || !utf8.ValidString(l.Description) || strings.IndexByte(l.Description, 0) >= 0 {
		return Errorf(EInvalid, "description must be UTF-8 text of at most %d bytes", MaxDescriptionLen)
	}
	return nil
}

// validColor accepts "" or #rgb / #rrggbb.
func validColor(s string) bool {
	if s == "" {
		return true
	}
	return (len(s) == 4 || len(s) == 7) && s[0] == '#' && strings.Trim(strings.ToLower(s[1:]), "0123456789abcdef") == ""
}

// LabelStore keeps the label catalog.
type LabelStore interface {
	CreateLabel(ctx context.Context, l *Label) error // EConflict on a taken name
	GetLabel(ctx context.Context, workspaceID, id int64) (*Label, error)
	ListLabels(ctx context.Context, workspaceID int64) ([]*Label, error) // by name
	UpdateLabel(ctx context.Context, l *Label) error
	DeleteLabel(ctx context.Context, workspaceID, id int64) error
}

// MessageSearch selects messages whose body contains Query.
type MessageSearch struct {
	WorkspaceID int64
	Query       string // a literal substring (no wildcards), ASCII case ignored
	BeforeID    int64  // keyset cursor: only message ids below this; 0: from the newest
	Limit       int
}

// MessagePreview is the short form of a conversation's newest message that
// a conversation list shows.
type MessagePreview struct {
	Seq        int64       `json:"seq"`
	Kind       MessageKind `json:"kind"`
	SenderType SenderType  `json:"sender_type"`
	Body       string      `json:"body"` // at most PreviewRunes runes
	CreatedAt  time.Time   `json:"created_at"`
}

// Preview shortens m for a list.
func (m *Message) Preview() *MessagePreview {
	body := m.Body
	if utf8.RuneCountInString(body) > PreviewRunes {
		body = string([]rune(body)[:PreviewRunes]) + "…"
	}
	return &MessagePreview{Seq: m.Seq, Kind: m.Kind, SenderType: m.SenderType, Body: body, CreatedAt: m.CreatedAt}
}

// SearchStore finds messages and reads the newest message of conversations.
type SearchStore interface {
	// SearchMessages returns matching messages, notes included, system
	// events excluded, newest first by id. It reads the workspace's
	// messages newest first until it has Limit, so a rare term costs a
	// scan of the workspace's history: callers bound it with a deadline.
	SearchMessages(ctx context.Context, s MessageSearch) ([]*Message, error)
	// LastMessages returns, for each of the workspace's conversations
	// among ids that has any message, its newest one (notes and events
	// included), keyed by conversation id.
	LastMessages(ctx context.Context, workspaceID int64, ids []int64) (map[int64]*Message, error)
}

// WorkspaceUpdater renames a workspace.
type WorkspaceUpdater interface {
	UpdateWorkspace(ctx context.Context, w *Workspace) error // by w.ID; ENotFound if absent
}
