package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"

	"github.com/kefu-chat/kefu/internal/kefu"
	"github.com/kefu-chat/kefu/internal/store/groupcommit"
)

const msgCols = `id, workspace_id, conversation_id, seq, sender_type, sender_id, kind, body, attachments, client_msg_id, created_at, meta`

func scanMessage(row interface{ Scan(...any) error }) (*kefu.Message, error) {
	var m kefu.Message
	var atts string
	var cid, meta sql.NullString
	var created int64
	if err := row.Scan(&m.ID, &m.WorkspaceID, &m.ConversationID, &m.Seq, &m.SenderType, &m.SenderID, &m.Kind, &m.Body, &atts, &cid, &created, &meta); err != nil {
		return nil, err
	}
	if meta.Valid && meta.String != "" {
		if err := json.Unmarshal([]byte(meta.String), &m.Meta); err != nil {
			return nil, err
		}
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
func (s *Store) flush(_ context.Context, batch []*kefu.Message) ([]*kefu.AppendResult, []error) {
	res := make([]*kefu.AppendResult, len(batch))
	errs := make([]error, len(batch))
	if err := s.appendTx(batch, res, errs); err == nil || len(batch) == 1 {
		if err != nil {
			res[0], errs[0] = nil, err
		}
		return res, errs
	}
	for i, m := range batch {
		one, oneErr := []*kefu.AppendResult{nil}, []error{nil}
		if err := s.appendTx([]*kefu.Message{m}, one, oneErr); err != nil {
			res[i], errs[i] = nil, err
			continue
		}
		res[i], errs[i] = one[0], oneErr[0]
	}
	return res, errs
}

// errPartial marks a failure after the message wrote to the database: the
// transaction must not commit.
type errPartial struct{ err error }

func (e errPartial) Error() string { return e.err.Error() }
func (e errPartial) Unwrap() error { return e.err }

// appendTx runs one transaction of the appender on the writer connection.
func (s *Store) appendTx(batch []*kefu.Message, res []*kefu.AppendResult, errs []error) error {
	return s.raw(func(dc any) error { return s.app.appendTx(dc, batch, res, errs) })
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

// metaText is a message's meta as stored: NULL when it has none, which is
// almost every message.
func metaText(meta map[string]any) any {
	if len(meta) == 0 {
		return nil
	}
	b, err := json.Marshal(meta)
	if err != nil {
		return nil
	}
	return string(b)
}
