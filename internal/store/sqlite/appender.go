package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"

	"github.com/kefu-chat/kefu/internal/kefu"
)

// appender is the group-commit append path. It talks to the writer
// connection through the driver's own statements, under (*sql.Conn).Raw:
// database/sql's per-query locking, argument conversion and Rows wrappers
// were a large share of an append, and a transaction of its own (BeginTx)
// makes every query inside watch a cancellable context, which costs the
// driver a goroutine per statement. Only the batcher's single flush
// goroutine uses an appender, so it needs no lock.
//
// Per message it runs one INSERT, whose ON CONFLICT DO NOTHING on the
// client-id index stands in for looking for a duplicate first; per
// conversation and batch one SELECT (its tenant, last_seq and owner) and
// one UPDATE. Seqs are handed out from the last_seq that SELECT read:
// the transaction holds SQLite's write lock from its first statement
// (BEGIN IMMEDIATE), so no one can move last_seq in between.
type appender struct {
	dc                    any // the driver connection the statements belong to
	ins, dup, load, touch driver.Stmt

	// Per-transaction state, kept to reuse its memory.
	convs  []batchConv
	byID   map[int64]int // index into convs
	convOf []int         // per message: index into convs, or -1
	args   [11]driver.NamedValue
	dest   [12]driver.Value
}

// batchConv is a conversation touched by the transaction in progress.
type batchConv struct {
	id, ws                int64
	base, seq             int64 // last_seq before the transaction, and the last seq handed out in it
	contactID, assigneeID int64
}

func newAppender() *appender {
	return &appender{byID: map[int64]int{}}
}

// errBadConn reports a failure that leaves the connection in an unknown
// state (a rollback that failed): database/sql drops a connection whose
// Raw callback returns an error that is driver.ErrBadConn.
type errBadConn struct{ err error }

func (e errBadConn) Error() string        { return e.err.Error() }
func (e errBadConn) Unwrap() error        { return e.err }
func (e errBadConn) Is(target error) bool { return target == driver.ErrBadConn }

// bind makes sure the statements belong to dc. A new connection means the
// old one was closed by database/sql (with our statements still open on
// it: they cannot be finalized once their connection is gone).
func (a *appender) bind(dc any) error {
	if a.dc == dc {
		return nil
	}
	a.dc = nil
	pc, ok := dc.(driver.ConnPrepareContext)
	if !ok {
		return fmt.Errorf("sqlite: driver connection %T cannot prepare", dc)
	}
	var err error
	prep := func(q string) driver.Stmt {
		if err != nil {
			return nil
		}
		var st driver.Stmt
		st, err = pc.PrepareContext(context.Background(), q)
		return st
	}
	ins := prep(`INSERT INTO messages (workspace_id, conversation_id, seq, sender_type, sender_id, kind, body, attachments, client_msg_id, created_at, meta)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (conversation_id, sender_type, sender_id, client_msg_id) WHERE client_msg_id IS NOT NULL DO NOTHING`)
	dup := prep(`SELECT ` + msgCols + ` FROM messages
		WHERE conversation_id = ? AND sender_type = ? AND sender_id = ? AND client_msg_id = ? AND workspace_id = ?`)
	load := prep(`SELECT last_seq, contact_id, COALESCE(assignee_id, 0) FROM conversations WHERE id = ? AND workspace_id = ?`)
	// OR FAIL: the UPDATE changes one row, so it needs no statement
	// journal to undo a half-done statement, which OR ABORT (the default)
	// would open because of the NOT NULL checks on the columns it sets.
	// last_seq = ? is belt and braces: nothing else can have moved it.
	touch := prep(`UPDATE OR FAIL conversations SET last_seq = ?, last_activity_at = ?, updated_at = ?
		WHERE id = ? AND workspace_id = ? AND last_seq = ?`)
	if err != nil {
		for _, st := range []driver.Stmt{ins, dup, load, touch} {
			if st != nil {
				st.Close()
			}
		}
		return fmt.Errorf("sqlite: prepare append: %w", err)
	}
	a.dc, a.ins, a.dup, a.load, a.touch = dc, ins, dup, load, touch
	return nil
}

// close finalizes the statements; dc must be the connection they belong to.
func (a *appender) close(dc any) {
	if a.dc == nil || a.dc != dc {
		return
	}
	for _, st := range []driver.Stmt{a.ins, a.dup, a.load, a.touch} {
		st.Close()
	}
	a.dc = nil
}

// appendTx commits batch in one transaction on dc, filling res and errs
// per message. An error means nothing of the batch was committed.
func (a *appender) appendTx(dc any, batch []*kefu.Message, res []*kefu.AppendResult, errs []error) (err error) {
	if err := a.bind(dc); err != nil {
		return err
	}
	tx, err := dc.(driver.ConnBeginTx).BeginTx(context.Background(), driver.TxOptions{})
	if err != nil {
		return fmt.Errorf("sqlite: begin append: %w", err)
	}
	defer func() {
		if err == nil {
			return
		}
		if rbErr := tx.Rollback(); rbErr != nil {
			a.close(dc)
			err = errBadConn{fmt.Errorf("%w (and the rollback failed: %v)", err, rbErr)}
		}
	}()
	a.reset(len(batch))
	at := kefu.Now().UnixMicro()
	for i, m := range batch {
		res[i], errs[i] = a.appendOne(i, m, at)
		var p errPartial
		if errors.As(errs[i], &p) {
			return p.err
		}
	}
	if err := a.touchAll(at); err != nil {
		return err
	}
	for i, r := range res {
		if r != nil {
			c := &a.convs[a.convOf[i]]
			r.ContactID, r.AssigneeID = c.contactID, c.assigneeID
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: commit append: %w", err)
	}
	return nil
}

func (a *appender) reset(n int) {
	a.convs = a.convs[:0]
	clear(a.byID)
	a.convOf = a.convOf[:0]
	for range n {
		a.convOf = append(a.convOf, -1)
	}
}

// appendOne stores m as message i of the batch. An errPartial means it
// failed after writing, and the transaction must not commit.
func (a *appender) appendOne(i int, m *kefu.Message, at int64) (*kefu.AppendResult, error) {
	ci, err := a.conv(m.ConversationID, m.WorkspaceID)
	if err != nil {
		return nil, err
	}
	c := &a.convs[ci]
	seq := c.seq + 1
	r, err := a.exec(a.ins, m.WorkspaceID, m.ConversationID, seq, string(m.SenderType), m.SenderID, string(m.Kind), m.Body,
		attachmentsText(m.Attachments), nullString(m.ClientMsgID), at, metaText(m.Meta))
	if err != nil {
		return nil, errPartial{mapErr(err, "message")}
	}
	n, err := r.RowsAffected()
	if err != nil {
		return nil, errPartial{mapErr(err, "message")}
	}
	if n == 0 {
		// Only the client id index can make the insert do nothing: this
		// sender sent this message before (maybe earlier in this batch).
		orig, err := a.original(m)
		if err != nil {
			return nil, err
		}
		a.convOf[i] = ci
		return &kefu.AppendResult{Message: orig, Duplicate: true}, nil
	}
	c.seq = seq
	out := *m
	out.Seq = seq
	out.CreatedAt = fromMicros(at)
	if out.ID, err = r.LastInsertId(); err != nil {
		return nil, errPartial{mapErr(err, "message")}
	}
	a.convOf[i] = ci
	return &kefu.AppendResult{Message: &out}, nil
}

// conv returns the index of the conversation in a.convs, reading it on
// first use. Another workspace's conversation is reported as missing.
func (a *appender) conv(id, ws int64) (int, error) {
	if i, ok := a.byID[id]; ok {
		if a.convs[i].ws != ws {
			return 0, kefu.Errorf(kefu.ENotFound, "conversation not found")
		}
		return i, nil
	}
	found, err := a.queryRow(a.load, a.dest[:3], id, ws)
	if err != nil {
		return 0, mapErr(err, "conversation")
	}
	if !found {
		return 0, kefu.Errorf(kefu.ENotFound, "conversation not found")
	}
	last := a.dest[0].(int64)
	a.convs = append(a.convs, batchConv{id: id, ws: ws, base: last, seq: last,
		contactID: a.dest[1].(int64), assigneeID: a.dest[2].(int64)})
	a.byID[id] = len(a.convs) - 1
	return len(a.convs) - 1, nil
}

// touchAll moves each conversation that got messages to its new last_seq;
// one that only saw duplicates is left alone (a retry is not activity).
func (a *appender) touchAll(at int64) error {
	for i := range a.convs {
		c := &a.convs[i]
		if c.seq == c.base {
			continue
		}
		r, err := a.exec(a.touch, c.seq, at, at, c.id, c.ws, c.base)
		if err != nil {
			return mapErr(err, "conversation")
		}
		if n, err := r.RowsAffected(); err != nil || n != 1 {
			return fmt.Errorf("sqlite: conversation %d: last_seq moved during the append (%d rows, %v)", c.id, n, err)
		}
	}
	return nil
}

// original reads the stored message m duplicates.
func (a *appender) original(m *kefu.Message) (*kefu.Message, error) {
	found, err := a.queryRow(a.dup, a.dest[:], m.ConversationID, string(m.SenderType), m.SenderID, m.ClientMsgID, m.WorkspaceID)
	if err != nil {
		return nil, mapErr(err, "message")
	}
	if !found {
		return nil, fmt.Errorf("sqlite: message %q was refused as a duplicate but is not stored", m.ClientMsgID)
	}
	return scanMessage(valueRow(a.dest[:]))
}

func (a *appender) namedArgs(vals []any) []driver.NamedValue {
	args := a.args[:len(vals)]
	for i, v := range vals {
		args[i] = driver.NamedValue{Ordinal: i + 1, Value: v}
	}
	return args
}

// The flush runs detached from callers' contexts (see groupcommit), so
// the statements get context.Background: the driver then neither watches
// a context nor starts a goroutine to do so.

func (a *appender) exec(st driver.Stmt, vals ...any) (driver.Result, error) {
	return st.(driver.StmtExecContext).ExecContext(context.Background(), a.namedArgs(vals))
}

// queryRow reads the first row of st into dest and reports whether there
// was one.
func (a *appender) queryRow(st driver.Stmt, dest []driver.Value, vals ...any) (found bool, err error) {
	rows, err := st.(driver.StmtQueryContext).QueryContext(context.Background(), a.namedArgs(vals))
	if err != nil {
		return false, err
	}
	defer func() {
		if cerr := rows.Close(); err == nil {
			err = cerr
		}
	}()
	switch err := rows.Next(dest); {
	case err == io.EOF:
		return false, nil
	case err != nil:
		return false, err
	}
	return true, nil
}

// valueRow scans driver values as database/sql would for scanMessage's
// destinations.
type valueRow []driver.Value

func (r valueRow) Scan(dest ...any) error {
	if len(dest) != len(r) {
		return fmt.Errorf("sqlite: scan %d values into %d destinations", len(r), len(dest))
	}
	for i, d := range dest {
		if err := assignValue(d, r[i]); err != nil {
			return fmt.Errorf("sqlite: column %d: %w", i, err)
		}
	}
	return nil
}

func assignValue(dest any, v driver.Value) error {
	switch d := dest.(type) {
	case *int64:
		n, ok := v.(int64)
		if !ok {
			return fmt.Errorf("%T is not an integer", v)
		}
		*d = n
	case *string:
		s, err := text(v)
		if err != nil {
			return err
		}
		*d = s
	case *kefu.SenderType:
		s, err := text(v)
		*d = kefu.SenderType(s)
		return err
	case *kefu.MessageKind:
		s, err := text(v)
		*d = kefu.MessageKind(s)
		return err
	case *sql.NullString:
		if v == nil {
			*d = sql.NullString{}
			return nil
		}
		s, err := text(v)
		*d = sql.NullString{String: s, Valid: true}
		return err
	default:
		return fmt.Errorf("cannot scan into %T", dest)
	}
	return nil
}

func text(v driver.Value) (string, error) {
	switch s := v.(type) {
	case string:
		return s, nil
	case []byte:
		return string(s), nil
	}
	return "", fmt.Errorf("%T is not text", v)
}

// attachmentsText is m.Attachments as stored; almost every message has
// none, which needs no encoder.
func attachmentsText(atts []kefu.Attachment) string {
	if len(atts) == 0 {
		return "[]"
	}
	return jsonText(atts)
}
