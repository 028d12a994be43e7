package postgres

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/kefu-chat/kefu/internal/kefu"
)

const conversationColumns = `id, workspace_id, inbox_id, contact_id, COALESCE(assignee_id, 0), status, priority,
	labels, snoozed_until, last_seq, contact_last_read_seq, agent_last_read_seq, created_at, updated_at, last_activity_at,
	COALESCE(team_id, 0), queued_at, rating_score, rating_comment, rated_at`

func scanConversation(row scanner) (*kefu.Conversation, error) {
	var c kefu.Conversation
	var labels []byte
	var rating ratingCols
	if err := row.Scan(&c.ID, &c.WorkspaceID, &c.InboxID, &c.ContactID, &c.AssigneeID, &c.Status, &c.Priority,
		&labels, &c.SnoozedUntil, &c.LastSeq, &c.ContactLastReadSeq, &c.AgentLastReadSeq,
		&c.CreatedAt, &c.UpdatedAt, &c.LastActivityAt, &c.TeamID, &c.QueuedAt, &rating.score, &rating.comment, &rating.at); err != nil {
		return nil, err
	}
	c.Rating = rating.rating()
	var err error
	if c.Labels, err = decodeStrings(labels); err != nil {
		return nil, err
	}
	c.SnoozedUntil = utcPtr(c.SnoozedUntil)
	c.QueuedAt = utcPtr(c.QueuedAt)
	c.CreatedAt, c.UpdatedAt, c.LastActivityAt = c.CreatedAt.UTC(), c.UpdatedAt.UTC(), c.LastActivityAt.UTC()
	return &c, nil
}

// CreateConversation inserts c and sets its ID. Zero fields default to a
// fresh conversation: open, no priority, created and active now. Its inbox, contact and
// assignee must belong to the same workspace, or it is ENotFound: a
// conversation must never join records of two tenants. A new conversation
// has no messages, so its seq counters start at zero whatever c says.
func (s *Store) CreateConversation(ctx context.Context, c *kefu.Conversation) error {
	c.CreatedAt = orNow(c.CreatedAt)
	if c.UpdatedAt.IsZero() {
		c.UpdatedAt = c.CreatedAt
	}
	if c.LastActivityAt.IsZero() {
		c.LastActivityAt = c.CreatedAt
	}
	if c.Status == "" {
		c.Status = kefu.StatusOpen
	}
	if c.Priority == "" {
		c.Priority = kefu.PriorityNone
	}
	if c.Labels == nil {
		c.Labels = []string{}
	}
	c.SnoozedUntil = utcPtr(c.SnoozedUntil)
	c.LastSeq, c.ContactLastReadSeq, c.AgentLastReadSeq = 0, 0, 0
	labels, err := stringsJSON(c.Labels)
	if err != nil {
		return wrap(err, "conversation")
	}
	err = s.pool.QueryRow(ctx, `
		INSERT INTO conversations (workspace_id, inbox_id, contact_id, assignee_id, status, priority, labels,
			snoozed_until, created_at, updated_at, last_activity_at)
		SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11
		WHERE EXISTS (SELECT 1 FROM inboxes WHERE workspace_id = $1 AND id = $2)
		  AND EXISTS (SELECT 1 FROM contacts WHERE workspace_id = $1 AND id = $3)
		  AND ($4::bigint IS NULL OR EXISTS (SELECT 1 FROM agents WHERE workspace_id = $1 AND id = $4::bigint))
		RETURNING id`,
		c.WorkspaceID, c.InboxID, c.ContactID, nullID(c.AssigneeID), c.Status, c.Priority, labels,
		c.SnoozedUntil, c.CreatedAt, c.UpdatedAt, c.LastActivityAt).Scan(&c.ID)
	if errors.Is(err, pgx.ErrNoRows) {
		return kefu.Errorf(kefu.ENotFound, "inbox, contact or assignee not found")
	}
	return wrap(err, "conversation")
}

// GetConversation returns the conversation id of the workspace.
func (s *Store) GetConversation(ctx context.Context, workspaceID, id int64) (*kefu.Conversation, error) {
	c, err := scanConversation(s.pool.QueryRow(ctx,
		"SELECT "+conversationColumns+" FROM conversations WHERE workspace_id = $1 AND id = $2", workspaceID, id))
	return c, wrap(err, "conversation")
}

// Default page size of ListConversations when the filter sets none.
const defaultConversationLimit = 25

// ListConversations returns one page of the workspace's conversations,
// most recently active first, ties broken by id. Each filter is an
// equality in front of (last_activity_at, id) in one of the indexes, and
// the cursor is a row comparison on that pair, so a page costs an index
// range scan however deep it is.
func (s *Store) ListConversations(ctx context.Context, f kefu.ConversationFilter) ([]*kefu.Conversation, error) {
	var where []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	where = append(where, "workspace_id = "+arg(f.WorkspaceID))
	if f.Status != "" {
		where = append(where, "status = "+arg(f.Status))
	}
	switch {
	case f.AssigneeID == kefu.AssigneeUnassigned:
		where = append(where, "assignee_id IS NULL")
	case f.AssigneeID > 0:
		where = append(where, "assignee_id = "+arg(f.AssigneeID))
	}
	if f.InboxID != 0 {
		where = append(where, "inbox_id = "+arg(f.InboxID))
	}
	if f.ContactID != 0 {
		where = append(where, "contact_id = "+arg(f.ContactID))
	}
	if f.After != nil {
		where = append(where, "(last_activity_at, id) < ("+arg(f.After.LastActivityAt)+"::timestamptz, "+arg(f.After.ID)+"::bigint)")
	}
	limit := f.Limit
	if limit <= 0 {
		limit = defaultConversationLimit
	}
	q := "SELECT " + conversationColumns + " FROM conversations WHERE " + strings.Join(where, " AND ") +
		" ORDER BY last_activity_at DESC, id DESC LIMIT " + arg(limit)
	rows, err := s.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, wrap(err, "conversations")
	}
	out, err := collect(rows, scanConversation)
	return out, wrap(err, "conversations")
}

// UpdateConversation changes the fields set in u and bumps UpdatedAt. A new
// assignee must be an agent of the same workspace.
func (s *Store) UpdateConversation(ctx context.Context, workspaceID, id int64, u kefu.ConversationUpdate) (*kefu.Conversation, error) {
	args := []any{workspaceID, id, kefu.Now()}
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	set := []string{"updated_at = $3"}
	var assignee int64
	if u.Status != nil {
		set = append(set, "status = "+arg(*u.Status))
	}
	if u.AssigneeID != nil {
		assignee = *u.AssigneeID
		set = append(set, "assignee_id = "+arg(nullID(assignee))+"::bigint")
	}
	if u.Priority != nil {
		set = append(set, "priority = "+arg(*u.Priority))
	}
	if u.Labels != nil {
		labels, err := stringsJSON(*u.Labels)
		if err != nil {
			return nil, wrap(err, "conversation")
		}
		set = append(set, "labels = "+arg(labels))
	}
	if u.SnoozedUntil != nil {
		set = append(set, "snoozed_until = "+arg(utcPtr(*u.SnoozedUntil))+"::timestamptz")
	}
	q := "UPDATE conversations SET " + strings.Join(set, ", ") + " WHERE workspace_id = $1 AND id = $2"
	if assignee > 0 {
		// Checked in the same statement, so the agent cannot move between
		// the check and the write.
		q += " AND EXISTS (SELECT 1 FROM agents WHERE workspace_id = $1 AND id = " + arg(assignee) + ")"
	}
	q += " RETURNING " + conversationColumns
	c, err := scanConversation(s.pool.QueryRow(ctx, q, args...))
	if errors.Is(err, pgx.ErrNoRows) && assignee > 0 {
		if _, err := s.GetConversation(ctx, workspaceID, id); err != nil {
			return nil, err
		}
		return nil, kefu.Errorf(kefu.ENotFound, "agent not found")
	}
	return c, wrap(err, "conversation")
}

// MarkRead moves the reader's marker forward to seq, never back and never
// past the newest message, so unread counts stay within 0..last_seq.
func (s *Store) MarkRead(ctx context.Context, workspaceID, conversationID int64, reader kefu.SenderType, seq int64) (*kefu.Conversation, error) {
	contact, err := kefu.ContactReader(reader)
	if err != nil {
		return nil, err
	}
	col := "agent_last_read_seq"
	if contact {
		col = "contact_last_read_seq"
	}
	c, err := scanConversation(s.pool.QueryRow(ctx,
		"UPDATE conversations SET "+col+" = GREATEST("+col+", LEAST($3, last_seq))"+
			" WHERE workspace_id = $1 AND id = $2 RETURNING "+conversationColumns,
		workspaceID, conversationID, seq))
	return c, wrap(err, "conversation")
}
