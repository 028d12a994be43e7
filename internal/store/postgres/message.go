package postgres

import (
	"cmp"
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

// A batch of appends is committed by two statements sent together, in one
// implicit transaction and one round trip: lockSQL, then appendSQL.
//
// Both find rows of conversations and messages only by per-row index
// lookups (LATERAL subqueries, which cannot be flattened into joins) and,
// for the UPDATE, by ctid, never through a join whose method the planner
// picks from row estimates. The statements are prepared once per
// connection and their generic plan is kept; planned while the tables
// were small (a new install, a test), a hash join over a sequential scan
// would be kept too, and cost more with every row and every dead tuple
// the append-heavy tables gain.

// Both statements find a conversation by its primary key and check its
// workspace with "workspace_id + 0", which no index can serve. Their
// generic plan is made once per writer connection, often while the table
// is nearly empty, and then every index looks alike: a plan that probed
// conversations_load (workspace_id, ...) and filtered on id was measured
// taking 120-350 ms per batch at 4,000 conversations (1,100 msg/s instead
// of 8,000), since it reads every conversation of the workspace per row.

// lockSQL takes the row locks of a batch's conversations in the order of
// $1, which the caller sorts. Every node locks in id order, so batches
// touching the same conversations queue behind one another instead of
// deadlocking, and while a conversation's lock is held nothing else can
// append to it or change it.
//
//	$1 conversation ids, ascending  $2 their workspace ids
const lockSQL = `
SELECT c.id
FROM unnest($1::bigint[], $2::bigint[]) AS k(id, workspace_id)
CROSS JOIN LATERAL (
	SELECT id FROM conversations WHERE id = k.id AND workspace_id + 0 = k.workspace_id
	FOR NO KEY UPDATE
) c`

// appendSQL stores a batch of messages, passed as one array per column,
// and assigns their seqs in one statement. It runs after lockSQL, so its
// snapshot sees each locked conversation's latest version and every
// message committed to it before. A message whose conversation is missing
// or in another workspace matches no conversation row and is skipped; so
// is a duplicate, one from a sender with a client_msg_id already stored in
// the conversation or earlier in this batch. The messages left are
// numbered per conversation in arrival order after its last_seq, which is
// then raised to the highest of them: no gap, no duplicate. Ids are drawn
// from the table's sequence up front so the result needs no join with
// what the INSERT returns. The conversation row is updated through the
// ctid of the version this snapshot sees, which is the latest since the
// row is locked. The statement returns one row per stored message with
// its position in the input (ord, from 1); the caller resolves the
// others. The unique indexes on messages remain the backstop should
// anything append without the lock.
//
// Every CTE row count here is a guess to the planner (the arrays' length
// is unknown to a generic plan), so nothing joins two CTEs: a nested loop
// chosen on a guess of two rows would make a batch of 500 quadratic.
//
//	$1 now  $2 conversation  $3 workspace  $4 sender_type  $5 sender_id
//	$6 client_msg_id ('' for none)  $7 kind  $8 body  $9 attachments
//	$10 meta ('' for none)
const appendSQL = `
WITH input AS (
	SELECT conversation_id, workspace_id, sender_type, sender_id, NULLIF(client_msg_id, '') AS client_msg_id,
		kind, body, attachments, NULLIF(meta, '') AS meta, ord
	FROM unnest($2::bigint[], $3::bigint[], $4::text[], $5::bigint[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[])
		WITH ORDINALITY AS t(conversation_id, workspace_id, sender_type, sender_id, client_msg_id, kind, body, attachments, meta, ord)
), valid AS (
	SELECT i.*, c.tid, c.last_seq, c.contact_id, c.assignee_id,
		row_number() OVER (PARTITION BY i.conversation_id, i.sender_type, i.sender_id, i.client_msg_id ORDER BY i.ord) AS nth
	FROM input i
	CROSS JOIN LATERAL (
		SELECT ctid AS tid, last_seq, contact_id, COALESCE(assignee_id, 0) AS assignee_id
		FROM conversations WHERE id = i.conversation_id AND workspace_id + 0 = i.workspace_id
		LIMIT 1
	) c
), fresh AS (
	SELECT v.*, v.last_seq + row_number() OVER (PARTITION BY v.conversation_id ORDER BY v.ord) AS seq,
		nextval('messages_id_seq') AS id
	FROM valid v
	LEFT JOIN LATERAL (
		SELECT true AS hit FROM messages m
		WHERE m.conversation_id = v.conversation_id AND m.sender_type = v.sender_type
		  AND m.sender_id = v.sender_id AND m.client_msg_id = v.client_msg_id
		LIMIT 1
	) d ON true
	WHERE (v.client_msg_id IS NULL OR v.nth = 1) AND d.hit IS NULL
), bumped AS (
	UPDATE conversations c
	SET last_seq = t.last_seq, last_activity_at = $1, updated_at = $1
	FROM (SELECT tid, max(seq) AS last_seq FROM fresh GROUP BY tid) t
	WHERE c.ctid = t.tid
), stored AS (
	INSERT INTO messages (id, workspace_id, conversation_id, seq, sender_type, sender_id, kind, body, attachments, client_msg_id, created_at, meta)
	SELECT id, workspace_id, conversation_id, seq, sender_type, sender_id, kind, body,
		attachments::jsonb, client_msg_id, $1, meta::jsonb
	FROM fresh
)
SELECT ord, id, seq, contact_id, assignee_id FROM fresh`

const messageColumns = `m.id, m.workspace_id, m.conversation_id, m.seq, m.sender_type, m.sender_id, m.kind, m.body,
	m.attachments, COALESCE(m.client_msg_id, ''), m.created_at, m.meta`

// originalSQL finds the message an idempotent retry duplicates, with the
// conversation's current routing state.
const originalSQL = `
SELECT ` + messageColumns + `, c.contact_id, COALESCE(c.assignee_id, 0)
FROM conversations c JOIN messages m ON m.conversation_id = c.id
WHERE c.id = $1 AND c.workspace_id = $2 AND m.sender_type = $3 AND m.sender_id = $4 AND m.client_msg_id = $5`

func scanMessage(row scanner, extra ...any) (*kefu.Message, error) {
	var m kefu.Message
	var atts, meta []byte
	dest := append([]any{&m.ID, &m.WorkspaceID, &m.ConversationID, &m.Seq, &m.SenderType, &m.SenderID,
		&m.Kind, &m.Body, &atts, &m.ClientMsgID, &m.CreatedAt, &meta}, extra...)
	if err := row.Scan(dest...); err != nil {
		return nil, err
	}
	var err error
	if m.Attachments, err = decodeAttachments(atts); err != nil {
		return nil, err
	}
	if len(meta) > 0 {
		if err := json.Unmarshal(meta, &m.Meta); err != nil {
			return nil, err
		}
	}
	m.CreatedAt = m.CreatedAt.UTC()
	return &m, nil
}

func decodeAttachments(b []byte) ([]kefu.Attachment, error) {
	out := []kefu.Attachment{}
	// Most messages have none; skip the decoder for them.
	if len(b) > 0 && string(b) != "[]" {
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
	atts string // attachments as stored
	meta string // "" (SQL NULL) when the message has none
}

// flushAppends commits a batch in one transaction. If the transaction
// fails as a whole, nothing of it was committed, and each message is
// retried alone so that one bad message cannot fail the others.
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
		var meta []byte
		if len(m.Meta) > 0 {
			if meta, err = json.Marshal(m.Meta); err != nil {
				errs[i] = kefu.Errorf(kefu.EInvalid, "meta: %v", err)
				continue
			}
		}
		items = append(items, pending{i: i, m: m, atts: string(atts), meta: string(meta)})
	}
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

// appendBatch stores items (in arrival order) in one transaction and one
// round trip: lockSQL and appendSQL are pipelined without BEGIN, and a
// pipeline that ends in a single Sync is one implicit transaction,
// committed when the server answers the Sync and rolled back as a whole if
// either statement fails. So a batch costs one round trip, one WAL flush
// and two statements, however many messages it holds.
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
	convs, workspaces := lockArgs(items)
	b.Queue(lockSQL, convs, workspaces)
	b.Queue(appendSQL, appendArgs(items, now)...)
	br := s.writers.SendBatch(ctx, &b)
	stored, err := readAppend(br, items, now, results)
	if err != nil {
		br.Close()
		return outcomeUnknown(err), err
	}
	if err := br.Close(); err != nil {
		return outcomeUnknown(err), err
	}
	if stored == len(items) {
		return false, nil
	}
	// Committed. A message that stored nothing is a duplicate (of an
	// earlier batch, another node's, or an earlier message of this very
	// batch) or has no conversation in its workspace. Messages are never
	// deleted, so looking the original up after the commit is safe.
	for _, it := range items {
		if results[it.i] == nil {
			results[it.i], errs[it.i] = s.resolve(ctx, it)
		}
	}
	return false, nil
}

// readAppend reads the answers to lockSQL and appendSQL into results and
// returns how many messages were stored.
func readAppend(br pgx.BatchResults, items []pending, now time.Time, results []*kefu.AppendResult) (int, error) {
	if _, err := br.Exec(); err != nil {
		return 0, err
	}
	rows, err := br.Query()
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	stored := 0
	var ord int64
	var id, seq, contact, assignee int64
	for rows.Next() {
		if err := rows.Scan(&ord, &id, &seq, &contact, &assignee); err != nil {
			return 0, err
		}
		if ord < 1 || ord > int64(len(items)) {
			return 0, fmt.Errorf("postgres: append returned row %d of a batch of %d", ord, len(items))
		}
		it := items[ord-1]
		res, err := storedResult(it, now, id, seq)
		if err != nil {
			return 0, err
		}
		res.ContactID, res.AssigneeID = contact, assignee
		results[it.i] = res
		stored++
	}
	return stored, rows.Err()
}

// lockArgs lists the batch's conversations once each, in id order, with
// their workspaces.
func lockArgs(items []pending) (convs, workspaces []int64) {
	type key struct{ conv, ws int64 }
	keys := make([]key, 0, len(items))
	for _, it := range items {
		keys = append(keys, key{it.m.ConversationID, it.m.WorkspaceID})
	}
	slices.SortFunc(keys, func(a, b key) int {
		if c := cmp.Compare(a.conv, b.conv); c != 0 {
			return c
		}
		return cmp.Compare(a.ws, b.ws)
	})
	keys = slices.Compact(keys)
	convs, workspaces = make([]int64, len(keys)), make([]int64, len(keys))
	for i, k := range keys {
		convs[i], workspaces[i] = k.conv, k.ws
	}
	return convs, workspaces
}

// appendArgs passes the batch to appendSQL as one array per column.
func appendArgs(items []pending, now time.Time) []any {
	n := len(items)
	convs, workspaces, senderIDs := make([]int64, n), make([]int64, n), make([]int64, n)
	senderTypes, clientIDs, kinds, bodies := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	atts, metas := make([]string, n), make([]string, n)
	for i, it := range items {
		m := it.m
		convs[i], workspaces[i], senderIDs[i] = m.ConversationID, m.WorkspaceID, m.SenderID
		senderTypes[i], clientIDs[i], kinds[i], bodies[i] = string(m.SenderType), m.ClientMsgID, string(m.Kind), m.Body
		atts[i], metas[i] = it.atts, it.meta
	}
	return []any{now, convs, workspaces, senderTypes, senderIDs, clientIDs, kinds, bodies, atts, metas}
}

// storedResult is the result of a message stored with id and seq.
func storedResult(it pending, now time.Time, id, seq int64) (*kefu.AppendResult, error) {
	msg := *it.m
	msg.ID, msg.Seq, msg.CreatedAt = id, seq, now
	// Report the attachments exactly as a later ListMessages will.
	var err error
	if msg.Attachments, err = decodeAttachments([]byte(it.atts)); err != nil {
		return nil, err
	}
	return &kefu.AppendResult{Message: &msg}, nil
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

// appendOne stores one message in its own transaction, retrying a few
// times when it only lost a race with a writer that does not take the
// conversation lock first.
func (s *Store) appendOne(ctx context.Context, it pending) (*kefu.AppendResult, error) {
	one := []pending{{m: it.m, atts: it.atts, meta: it.meta}}
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		results, errs := make([]*kefu.AppendResult, 1), make([]error, 1)
		if _, err = s.appendBatch(ctx, one, results, errs); err == nil {
			return results[0], errs[0]
		}
		if !retryable(err) {
			break
		}
	}
	return nil, wrap(err, "message")
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
