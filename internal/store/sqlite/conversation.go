package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"

	"github.com/kefu-chat/kefu/internal/kefu"
)

const convCols = `id, workspace_id, inbox_id, contact_id, COALESCE(assignee_id, 0), status, priority, labels, snoozed_until, last_seq,
	contact_last_read_seq, agent_last_read_seq, created_at, updated_at, last_activity_at, COALESCE(team_id, 0), queued_at, rating_score, rating_comment, rated_at`

func scanConversation(row interface{ Scan(...any) error }) (*kefu.Conversation, error) {
	var c kefu.Conversation
	var labels string
	var snoozed, queued sql.NullInt64
	var created, updated, activity int64
	var rating ratingCols
	if err := row.Scan(&c.ID, &c.WorkspaceID, &c.InboxID, &c.ContactID, &c.AssigneeID, &c.Status, &c.Priority, &labels, &snoozed, &c.LastSeq,
		&c.ContactLastReadSeq, &c.AgentLastReadSeq, &created, &updated, &activity, &c.TeamID, &queued, &rating.score, &rating.comment, &rating.at); err != nil {
		return nil, err
	}
	c.Rating = rating.rating()
	if err := json.Unmarshal([]byte(labels), &c.Labels); err != nil || c.Labels == nil {
		c.Labels = []string{}
	}
	c.SnoozedUntil = fromNullMicros(snoozed)
	c.QueuedAt = fromNullMicros(queued)
	c.CreatedAt, c.UpdatedAt, c.LastActivityAt = fromMicros(created), fromMicros(updated), fromMicros(activity)
	return &c, nil
}

func (s *Store) CreateConversation(ctx context.Context, c *kefu.Conversation) error {
	now := kefu.Now()
	if c.CreatedAt.IsZero() {
		c.CreatedAt = now
	}
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
	c.Labels = stringsOrEmpty(c.Labels)
	// The inbox and contact must belong to the same workspace; checking it
	// here keeps a buggy caller from stitching tenants together.
	res, err := s.wc.ExecContext(ctx, `INSERT INTO conversations (workspace_id, inbox_id, contact_id, assignee_id, status, priority, labels, snoozed_until,
		created_at, updated_at, last_activity_at)
		SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?
		WHERE EXISTS (SELECT 1 FROM inboxes WHERE id = ? AND workspace_id = ?) AND EXISTS (SELECT 1 FROM contacts WHERE id = ? AND workspace_id = ?)
		AND (? IS NULL OR EXISTS (SELECT 1 FROM agents WHERE id = ? AND workspace_id = ?))`,
		c.WorkspaceID, c.InboxID, c.ContactID, nullID(c.AssigneeID), c.Status, c.Priority, jsonText(c.Labels), nullMicros(c.SnoozedUntil),
		micros(c.CreatedAt), micros(c.UpdatedAt), micros(c.LastActivityAt),
		c.InboxID, c.WorkspaceID, c.ContactID, c.WorkspaceID, nullID(c.AssigneeID), c.AssigneeID, c.WorkspaceID)
	if err := affected(res, err, "inbox, contact or assignee"); err != nil {
		return err
	}
	c.ID, err = res.LastInsertId()
	return err
}

func (s *Store) GetConversation(ctx context.Context, workspaceID, id int64) (*kefu.Conversation, error) {
	c, err := scanConversation(s.rc.QueryRowContext(ctx, `SELECT `+convCols+` FROM conversations WHERE id = ? AND workspace_id = ?`, id, workspaceID))
	return c, mapErr(err, "conversation")
}

func (s *Store) ListConversations(ctx context.Context, f kefu.ConversationFilter) ([]*kefu.Conversation, error) {
	q := `SELECT ` + convCols + ` FROM conversations WHERE workspace_id = ?`
	args := []any{f.WorkspaceID}
	if f.Status != "" {
		q += ` AND status = ?`
		args = append(args, f.Status)
	}
	switch {
	case f.AssigneeID == kefu.AssigneeUnassigned:
		q += ` AND assignee_id IS NULL`
	case f.AssigneeID > 0:
		q += ` AND assignee_id = ?`
		args = append(args, f.AssigneeID)
	}
	if f.InboxID > 0 {
		q += ` AND inbox_id = ?`
		args = append(args, f.InboxID)
	}
	if f.ContactID > 0 {
		q += ` AND contact_id = ?`
		args = append(args, f.ContactID)
	}
	if f.After != nil {
		at := micros(f.After.LastActivityAt)
		q += ` AND (last_activity_at < ? OR (last_activity_at = ? AND id < ?))`
		args = append(args, at, at, f.After.ID)
	}
	if f.Limit <= 0 {
		f.Limit = 25
	}
	q += ` ORDER BY last_activity_at DESC, id DESC LIMIT ?`
	args = append(args, f.Limit)
	rows, err := s.rc.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, mapErr(err, "conversation")
	}
	defer rows.Close()
	out := []*kefu.Conversation{}
	for rows.Next() {
		c, err := scanConversation(rows)
		if err != nil {
			return nil, mapErr(err, "conversation")
		}
		out = append(out, c)
	}
	return out, mapErr(rows.Err(), "conversation")
}

func (s *Store) UpdateConversation(ctx context.Context, workspaceID, id int64, u kefu.ConversationUpdate) (*kefu.Conversation, error) {
	set := `updated_at = ?`
	args := []any{micros(kefu.Now())}
	if u.Status != nil {
		set += `, status = ?`
		args = append(args, *u.Status)
	}
	if u.AssigneeID != nil {
		set += `, assignee_id = ?`
		args = append(args, nullID(*u.AssigneeID))
	}
	if u.Priority != nil {
		set += `, priority = ?`
		args = append(args, *u.Priority)
	}
	if u.Labels != nil {
		set += `, labels = ?`
		args = append(args, jsonText(stringsOrEmpty(*u.Labels)))
	}
	if u.SnoozedUntil != nil {
		set += `, snoozed_until = ?`
		args = append(args, nullMicros(*u.SnoozedUntil))
	}
	where := ` WHERE id = ? AND workspace_id = ?`
	args = append(args, id, workspaceID)
	if u.AssigneeID != nil && *u.AssigneeID != 0 {
		// The assignee must be an agent of the same workspace; another
		// tenant's agent is as absent as a missing one.
		where += ` AND EXISTS (SELECT 1 FROM agents WHERE id = ? AND workspace_id = ?)`
		args = append(args, *u.AssigneeID, workspaceID)
	}
	c, err := scanConversation(s.wc.QueryRowContext(ctx, `UPDATE conversations SET `+set+where+` RETURNING `+convCols, args...))
	return c, mapErr(err, "conversation or assignee")
}

func (s *Store) MarkRead(ctx context.Context, workspaceID, conversationID int64, reader kefu.SenderType, seq int64) (*kefu.Conversation, error) {
	contact, err := kefu.ContactReader(reader)
	if err != nil {
		return nil, err
	}
	col := "agent_last_read_seq"
	if contact {
		col = "contact_last_read_seq"
	}
	// MIN(seq, last_seq): a reader cannot claim to have read the future.
	c, err := scanConversation(s.wc.QueryRowContext(ctx, `UPDATE conversations SET `+col+` = MAX(`+col+`, MIN(?, last_seq))
		WHERE id = ? AND workspace_id = ? RETURNING `+convCols, seq, conversationID, workspaceID))
	return c, mapErr(err, "conversation")
}
