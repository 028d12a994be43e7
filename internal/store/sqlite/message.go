package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/kefu-chat/kefu/internal/kefu"
	"github.com/kefu-chat/kefu/internal/store/groupcommit"
)

// appendStmts are prepared once on the writer connection: the append path
// runs them for every message, so parsing SQL each time would dominate.
type appendStmts struct {
	findDup, bump, insert, owner *sql.Stmt
}

func (a *appendStmts) close() {
	for _, s := range []*sql.Stmt{a.findDup, a.bump, a.insert, a.owner} {
		if s != nil {
			s.Close()
		}
	}
}

const msgCols = `id, workspace_id, conversation_id, seq, sender_type, sender_id, kind, body, attachments, client_msg_id, created_at`

func (s *Store) prepare(ctx context.Context) error {
	var err error
	prep := func(q string) *sql.Stmt {
		if err != nil {
			return nil
		}
		var st *sql.Stmt
		st, err = s.w.PrepareContext(ctx, q)
		return st
	}
	s.stmts.findDup = prep(`SELECT ` + msgCols + ` FROM messages
		WHERE conversation_id = ? AND sender_type = ? AND sender_id = ? AND client_msg_id = ? AND workspace_id = ?`)
	s.stmts.bump = prep(`UPDATE conversations SET last_seq = last_seq + 1, last_activity_at = ?, updated_at = ?
		WHERE id = ? AND workspace_id = ? RETURNING last_seq, contact_id, COALESCE(assignee_id, 0)`)
	s.stmts.owner = prep(`SELECT contact_id, COALESCE(assignee_id, 0) FROM conversations WHERE id = ? AND workspace_id = ?`)
	s.stmts.insert = prep(`INSERT INTO messages (workspace_id, conversation_id, seq, sender_type, sender_id, kind, body, attachments, client_msg_id, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	return err
}

func scanMessage(row interface{ Scan(...any) error }) (*kefu.Message, error) {
	var m kefu.Message
	var atts string
	var cid sql.NullString
	var created int64
	if err := row.Scan(&m.ID, &m.WorkspaceID, &m.ConversationID, &m.Seq, &m.SenderType, &m.SenderID, &m.Kind, &m.Body, &atts, &cid, &created); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(atts), &m.Attachments); err != nil || m.Attachments == nil {
		m.Attachments = []kefu.Attachment{}
	}
	m.ClientMsgID = cid.String
	m.CreatedAt = fromMicros(created)
	return &m, nil
}

// AppendMessage commits m and returns once it is durable. Concurrent calls
// share a transaction (and its fsync).
func (s *Store) AppendMessage(ctx context.Context, m *kefu.Message) (*kefu.AppendResult, error) {
	cp := *m
	if cp.Attachments == nil {
		cp.Attachments = []kefu.Attachment{}
	}
	return s.batcher.Do(ctx, uint64(m.ConversationID), &cp)
}

// AppendMessageAsync queues m for the next group commit and calls done
// once it is durable; see kefu.AsyncAppender.
func (s *Store) AppendMessageAsync(ctx context.Context, m *kefu.Message, done func(*kefu.AppendResult, error)) error {
	cp := *m
	if cp.Attachments == nil {
		cp.Attachments = []kefu.Attachment{}
	}
	err := s.batcher.Go(ctx, uint64(m.ConversationID), &cp, done)
	if errors.Is(err, groupcommit.ErrClosed) {
		return kefu.Errorf(kefu.EUnavailable, "store is closed")
	}
	return err
}

// flush commits a batch in one transaction. A message that fails before it
// writes anything (its conversation is missing) fails alone. A failure after
// a write, or of the transaction itself (a disk error at commit, say), rolls
// the batch back and retries every message in a transaction of its own, so
// a batch never fails for a neighbour's sake and every caller learns its
// own fate.
func (s *Store) flush(ctx context.Context, batch []*kefu.Message) ([]*kefu.AppendResult, []error) {
	res := make([]*kefu.AppendResult, len(batch))
	errs := make([]error, len(batch))
	if err := s.appendTx(ctx, batch, res, errs); err == nil || len(batch) == 1 {
		if err != nil {
			errs[0] = err
		}
		return res, errs
	}
	for i, m := range batch {
		one, oneErr := []*kefu.AppendResult{nil}, []error{nil}
		if err := s.appendTx(ctx, []*kefu.Message{m}, one, oneErr); err != nil {
			res[i], errs[i] = nil, err
			continue
		}
		res[i], errs[i] = one[0], oneErr[0]
	}
	return res, errs
}

// errPartial marks a failure after the message's conversation was bumped:
// the transaction must not commit.
type errPartial struct{ err error }

func (e errPartial) Error() string { return e.err.Error() }
func (e errPartial) Unwrap() error { return e.err }

func (s *Store) appendTx(ctx context.Context, batch []*kefu.Message, res []*kefu.AppendResult, errs []error) (err error) {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: begin append: %w", err)
	}
	defer func() {
		if err != nil {
			tx.Rollback()
		}
	}()
	st := appendStmts{findDup: tx.StmtContext(ctx, s.stmts.findDup), bump: tx.StmtContext(ctx, s.stmts.bump),
		insert: tx.StmtContext(ctx, s.stmts.insert), owner: tx.StmtContext(ctx, s.stmts.owner)}
	now := kefu.Now()
	for i, m := range batch {
		res[i], errs[i] = appendOne(ctx, &st, m, now)
		var p errPartial
		if errors.As(errs[i], &p) {
			return p.err
		}
	}
	if err = tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: commit append: %w", err)
	}
	return nil
}

func appendOne(ctx context.Context, st *appendStmts, m *kefu.Message, now time.Time) (*kefu.AppendResult, error) {
	if m.ClientMsgID != "" {
		orig, err := scanMessage(st.findDup.QueryRowContext(ctx, m.ConversationID, m.SenderType, m.SenderID, m.ClientMsgID, m.WorkspaceID))
		if err == nil {
			r := &kefu.AppendResult{Message: orig, Duplicate: true}
			if err := st.owner.QueryRowContext(ctx, m.ConversationID, m.WorkspaceID).Scan(&r.ContactID, &r.AssigneeID); err != nil {
				return nil, mapErr(err, "conversation")
			}
			return r, nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return nil, mapErr(err, "message")
		}
	}
	at := now.UnixMicro()
	var seq, contactID, assigneeID int64
	if err := st.bump.QueryRowContext(ctx, at, at, m.ConversationID, m.WorkspaceID).Scan(&seq, &contactID, &assigneeID); err != nil {
		return nil, mapErr(err, "conversation")
	}
	r, err := st.insert.ExecContext(ctx, m.WorkspaceID, m.ConversationID, seq, m.SenderType, m.SenderID, m.Kind, m.Body, jsonText(m.Attachments),
		nullString(m.ClientMsgID), at)
	if err != nil {
		return nil, errPartial{mapErr(err, "message")}
	}
	out := *m
	out.Seq = seq
	out.CreatedAt = fromMicros(at)
	if out.ID, err = r.LastInsertId(); err != nil {
		return nil, errPartial{mapErr(err, "message")}
	}
	return &kefu.AppendResult{Message: &out, ContactID: contactID, AssigneeID: assigneeID}, nil
}

func (s *Store) ListMessages(ctx context.Context, r kefu.MessageRange) ([]*kefu.Message, error) {
	q := `SELECT ` + msgCols + ` FROM messages WHERE conversation_id = ? AND workspace_id = ?`
	args := []any{r.ConversationID, r.WorkspaceID}
	if r.AfterSeq > 0 {
		q += ` AND seq > ?`
		args = append(args, r.AfterSeq)
	}
	if r.BeforeSeq > 0 {
		q += ` AND seq < ?`
		args = append(args, r.BeforeSeq)
	}
	if !r.IncludePrivate {
		q += ` AND kind <> 'note'`
	}
	if r.Limit <= 0 {
		r.Limit = 100
	}
	desc := r.BeforeSeq > 0
	if desc {
		q += ` ORDER BY seq DESC LIMIT ?`
	} else {
		q += ` ORDER BY seq LIMIT ?`
	}
	args = append(args, r.Limit)
	rows, err := s.rc.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, mapErr(err, "message")
	}
	defer rows.Close()
	out := []*kefu.Message{}
	for rows.Next() {
		m, err := scanMessage(rows)
		if err != nil {
			return nil, mapErr(err, "message")
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, mapErr(err, "message")
	}
	if desc {
		for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
			out[i], out[j] = out[j], out[i]
		}
	}
	return out, nil
}
