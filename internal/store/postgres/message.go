package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/kefu-chat/kefu/internal/kefu"
	"github.com/kefu-chat/kefu/internal/store/groupcommit"
)

// appendSQL stores one message and assigns its seq in a single statement.
// The UPDATE takes the conversation's row lock, so appends to one
// conversation from any node are serialised by the database, and the new
// last_seq is the message's seq: no gap, no duplicate. The UPDATE matches
// nothing, and so nothing is inserted and no seq is consumed, when the
// conversation is missing, belongs to another workspace, or already holds a
// message from this sender with this client_msg_id (a NULL id never
// matches, so it never dedups). NOT EXISTS reads the statement's snapshot,
// so it can miss a message another node commits while this statement waits
// for the row lock; the unique index on messages then fails the statement,
// and the retry (see flushAppends) finds the original.
//
//	$1 now  $2 conversation  $3 workspace  $4 sender_type  $5 sender_id
//	$6 client_msg_id  $7 kind  $8 body  $9 attachments
const appendSQL = `
WITH c AS (
	UPDATE conversations
	SET last_seq = last_seq + 1, last_activity_at = $1, updated_at = $1
	WHERE id = $2 AND workspace_id = $3
	  AND NOT EXISTS (SELECT 1 FROM messages
		WHERE conversation_id = $2 AND sender_type = $4 AND sender_id = $5 AND client_msg_id = $6::text)
	RETURNING last_seq, contact_id, COALESCE(assignee_id, 0) AS assignee_id
), m AS (
	INSERT INTO messages (workspace_id, conversation_id, seq, sender_type, sender_id, kind, body, attachments, client_msg_id, created_at)
	SELECT $3, $2, c.last_seq, $4, $5, $7, $8, $9, $6::text, $1 FROM c
	RETURNING id, seq
)
SELECT m.id, m.seq, c.contact_id, c.assignee_id FROM m, c`

const messageColumns = `m.id, m.workspace_id, m.conversation_id, m.seq, m.sender_type, m.sender_id, m.kind, m.body,
	m.attachments, COALESCE(m.client_msg_id, ''), m.created_at`

// originalSQL finds the message an idempotent retry duplicates, with the
// conversation's current routing state.
const originalSQL = `
SELECT ` + messageColumns + `, c.contact_id, COALESCE(c.assignee_id, 0)
FROM conversations c JOIN messages m ON m.conversation_id = c.id
WHERE c.id = $1 AND c.workspace_id = $2 AND m.sender_type = $3 AND m.sender_id = $4 AND m.client_msg_id = $5`

func scanMessage(row scanner, extra ...any) (*kefu.Message, error) {
	var m kefu.Message
	var atts []byte
	dest := append([]any{&m.ID, &m.WorkspaceID, &m.ConversationID, &m.Seq, &m.SenderType, &m.SenderID,
		&m.Kind, &m.Body, &atts, &m.ClientMsgID, &m.CreatedAt}, extra...)
	if err := row.Scan(dest...); err != nil {
		return nil, err
	}
	var err error
	if m.Attachments, err = decodeAttachments(atts); err != nil {
		return nil, err
	}
	m.CreatedAt = m.CreatedAt.UTC()
	return &m, nil
}

func decodeAttachments(b []byte) ([]kefu.Attachment, error) {
	out := []kefu.Attachment{}
	if len(b) > 0 {
		if err := json.Unmarshal(b, &out); err != nil {
			return nil, err
		}
	}
	if out == nil {
		out = []kefu.Attachment{}
	}
	return out, nil
}

// AppendMessage stores m with the next seq of its conversation and returns
// once the transaction holding it has committed. Concurrent calls share
// transactions (group commit); calls for one conversation keep their order.
func (s *Store) AppendMessage(ctx context.Context, m *kefu.Message) (*kefu.AppendResult, error) {
	// The batcher may still hold the request after ctx ends; give it a
	// copy the caller cannot change underneath it.
	req := *m
	res, err := s.appends.Do(ctx, uint64(m.ConversationID), &req)
	if errors.Is(err, groupcommit.ErrClosed) {
		return nil, kefu.Errorf(kefu.EUnavailable, "store is closed")
	}
	return res, err
}

// AppendMessageAsync queues m for the next group commit of its shard and
// calls done once it is durable; see kefu.AsyncAppender.
func (s *Store) AppendMessageAsync(ctx context.Context, m *kefu.Message, done func(*kefu.AppendResult, error)) error {
	req := *m
	err := s.appends.Go(ctx, uint64(m.ConversationID), &req, done)
	if errors.Is(err, groupcommit.ErrClosed) {
		return kefu.Errorf(kefu.EUnavailable, "store is closed")
	}
	return err
}

// pending is one message of a batch on its way into the database.
type pending struct {
	i    int // index in the batch
	m    *kefu.Message
	atts []byte // attachments as stored
}

// flushAppends commits a batch in one transaction, pipelining one
// statement per message. If the transaction fails as a whole, nothing of it
// was committed, and each message is retried alone so that one bad message
// (or a race with another node) cannot fail the others.
func (s *Store) flushAppends(ctx context.Context, reqs []*kefu.Message) ([]*kefu.AppendResult, []error) {
	// The batcher runs flushes detached from callers; bound them so that a
	// hung database fails the waiting appends instead of stalling the
	// shard (and Close) forever.
	ctx, cancel := context.WithTimeout(ctx, s.writeTimeout)
	defer cancel()
	results := make([]*kefu.AppendResult, len(reqs))
	errs := make([]error, len(reqs))
	items := make([]pending, 0, len(reqs))
	for i, m := range reqs {
		atts, err := jsonArg(m.Attachments, "[]")
		if err != nil {
			errs[i] = kefu.Errorf(kefu.EInvalid, "attachments: %v", err)
			continue
		}
		items = append(items, pending{i: i, m: m, atts: atts})
	}
	// Lock conversations in id order: another node's batch does the same,
	// so two batches touching the same conversations cannot deadlock. The
	// sort is stable, so one conversation's messages keep arrival order.
	slices.SortStableFunc(items, func(a, b pending) int {
		switch {
		case a.m.ConversationID < b.m.ConversationID:
			return -1
		case a.m.ConversationID > b.m.ConversationID:
			return 1
		}
		return 0
	})
	unknown, err := s.appendBatch(ctx, items, results, errs)
	if err == nil {
		return results, errs
	}
	if unknown {
		// The connection failed after the batch was sent: it may or may
		// not be durable. Retrying could store messages twice, so say
		// so; clients retry with their client_msg_id, which dedups.
		s.log.Error("group commit outcome unknown", "batch", len(items), "err", err)
		for _, it := range items {
			results[it.i], errs[it.i] = nil, fmt.Errorf("postgres: append: commit outcome unknown: %w", err)
		}
		return results, errs
	}
	s.log.Warn("group commit failed; retrying messages one by one", "batch", len(items), "err", err)
	for _, it := range items {
		results[it.i], errs[it.i] = s.appendOne(ctx, it)
	}
	return results, errs
}

// appendBatch runs items in one transaction and one round trip: the
// statements are pipelined without BEGIN, and a pipeline that ends in a
// single Sync is one implicit transaction, committed when the server
// answers the Sync and rolled back as a whole if any statement fails. So
// a batch costs one round trip and one WAL flush, however many messages
// it holds.
//
// On error, unknown reports that the transaction may have committed (the
// connection failed after the batch was sent); if it is false, nothing of
// the batch was committed.
func (s *Store) appendBatch(ctx context.Context, items []pending, results []*kefu.AppendResult, errs []error) (unknown bool, err error) {
	if len(items) == 0 {
		return false, nil
	}
	now := kefu.Now()
	var b pgx.Batch
	for _, it := range items {
		b.Queue(appendSQL, appendArgs(it, now)...)
	}
	br := s.pool.SendBatch(ctx, &b)
	var unresolved []pending
	for _, it := range items {
		res, err := scanAppend(br.QueryRow(), it, now)
		if errors.Is(err, pgx.ErrNoRows) {
			unresolved = append(unresolved, it)
			continue
		}
		if err != nil {
			br.Close()
			return outcomeUnknown(err), err
		}
		results[it.i] = res
	}
	if err := br.Close(); err != nil {
		return outcomeUnknown(err), err
	}
	// Committed. A message that stored nothing is a duplicate (of an
	// earlier batch, another node's, or an earlier message of this very
	// batch) or has no conversation in its workspace. Messages are never
	// deleted, so looking the original up after the commit is safe.
	for _, it := range unresolved {
		results[it.i], errs[it.i] = s.resolve(ctx, it)
	}
	return false, nil
}

// outcomeUnknown reports whether a failed batch may still have committed:
// not if the server refused a statement (the implicit transaction rolled
// back), nor if the failure came before anything was sent.
func outcomeUnknown(err error) bool {
	var pe *pgconn.PgError
	return !errors.As(err, &pe) && !pgconn.SafeToRetry(err)
}

// resolve explains an append that stored nothing: the original message if
// it is a retry, ENotFound otherwise.
func (s *Store) resolve(ctx context.Context, it pending) (*kefu.AppendResult, error) {
	if it.m.ClientMsgID == "" {
		return nil, conversationNotFound()
	}
	res, err := scanOriginal(s.pool.QueryRow(ctx, originalSQL,
		it.m.ConversationID, it.m.WorkspaceID, it.m.SenderType, it.m.SenderID, it.m.ClientMsgID))
	if err != nil && !kefu.IsNotFound(err) {
		return nil, fmt.Errorf("postgres: find original message: %w", err)
	}
	return res, err
}

// appendOne stores one message in its own transaction (the statement is
// atomic on its own), retrying a few times when it only lost a race with
// another node, e.g. on the same client_msg_id.
func (s *Store) appendOne(ctx context.Context, it pending) (*kefu.AppendResult, error) {
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		now := kefu.Now()
		var res *kefu.AppendResult
		res, err = scanAppend(s.pool.QueryRow(ctx, appendSQL, appendArgs(it, now)...), it, now)
		if errors.Is(err, pgx.ErrNoRows) {
			return s.resolve(ctx, it)
		}
		if err == nil {
			return res, nil
		}
		if !retryable(err) {
			break
		}
	}
	return nil, wrap(err, "message")
}

func appendArgs(it pending, now time.Time) []any {
	m := it.m
	return []any{now, m.ConversationID, m.WorkspaceID, string(m.SenderType), m.SenderID,
		nullText(m.ClientMsgID), string(m.Kind), m.Body, it.atts}
}

// scanAppend reads appendSQL's row into the stored message.
func scanAppend(row pgx.Row, it pending, now time.Time) (*kefu.AppendResult, error) {
	msg := *it.m
	res := &kefu.AppendResult{Message: &msg}
	if err := row.Scan(&msg.ID, &msg.Seq, &res.ContactID, &res.AssigneeID); err != nil {
		return nil, err
	}
	msg.CreatedAt = now
	// Report the attachments exactly as a later ListMessages will.
	var err error
	if msg.Attachments, err = decodeAttachments(it.atts); err != nil {
		return nil, err
	}
	return res, nil
}

// scanOriginal reads originalSQL's row into a duplicate's result.
func scanOriginal(row pgx.Row) (*kefu.AppendResult, error) {
	res := &kefu.AppendResult{Duplicate: true}
	m, err := scanMessage(row, &res.ContactID, &res.AssigneeID)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, conversationNotFound()
	}
	if err != nil {
		return nil, err
	}
	res.Message = m
	return res, nil
}

func conversationNotFound() error { return kefu.Errorf(kefu.ENotFound, "conversation not found") }

// Default page size of ListMessages when the range sets none.
const defaultMessageLimit = 100

// ListMessages returns messages of one conversation in seq order; see
// kefu.MessageRange. Reads go through the (conversation_id, seq) index.
func (s *Store) ListMessages(ctx context.Context, r kefu.MessageRange) ([]*kefu.Message, error) {
	args := []any{r.WorkspaceID, r.ConversationID, r.AfterSeq}
	q := "SELECT " + messageColumns + " FROM messages m WHERE m.workspace_id = $1 AND m.conversation_id = $2 AND m.seq > $3"
	if r.BeforeSeq > 0 {
		args = append(args, r.BeforeSeq)
		q += " AND m.seq < $" + strconv.Itoa(len(args))
	}
	if !r.IncludePrivate {
		q += " AND m.kind <> '" + string(kefu.KindNote) + "'"
	}
	newest := r.BeforeSeq > 0
	if newest {
		q += " ORDER BY m.seq DESC"
	} else {
		q += " ORDER BY m.seq"
	}
	limit := r.Limit
	if limit <= 0 {
		limit = defaultMessageLimit
	}
	args = append(args, limit)
	q += " LIMIT $" + strconv.Itoa(len(args))
	rows, err := s.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, wrap(err, "messages")
	}
	out, err := collect(rows, func(row scanner) (*kefu.Message, error) { return scanMessage(row) })
	if err != nil {
		return nil, wrap(err, "messages")
	}
	if newest {
		slices.Reverse(out)
	}
	return out, nil
}
