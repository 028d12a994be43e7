package sqlite

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"github.com/kefu-chat/kefu/internal/kefu"
)

// The appender hands out seqs from last_seq as read in each transaction,
// counting up per message in the batch. These tests change the database
// behind its back, fail messages and whole batches, and reopen the store,
// and check that seqs stay 1..N without a gap or a duplicate.

func msg(ws, conv int64, cid string) *kefu.Message {
	return &kefu.Message{WorkspaceID: ws, ConversationID: conv, SenderType: kefu.SenderContact, SenderID: 1,
		Kind: kefu.KindText, Body: "hi", Attachments: []kefu.Attachment{}, ClientMsgID: cid}
}

// flushAll commits batch as one group commit and returns the seq each
// message got (0 for a failure) and the errors.
func flushAll(t *testing.T, s *Store, batch ...*kefu.Message) ([]int64, []error) {
	t.Helper()
	res, errs := s.flush(context.Background(), batch)
	seqs := make([]int64, len(batch))
	for i, r := range res {
		if r != nil {
			seqs[i] = r.Message.Seq
		}
	}
	return seqs, errs
}

func wantSeqs(t *testing.T, what string, got []int64, errs []error, want ...int64) {
	t.Helper()
	for i, err := range errs {
		if err != nil && want[i] != 0 {
			t.Errorf("%s: message %d: %v", what, i, err)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("%s: seqs %v, want %v", what, got, want)
	}
}

// stored checks that the conversation holds seqs 1..n and last_seq n.
func stored(t *testing.T, s *Store, ws, conv int64, n int64) {
	t.Helper()
	ms, err := s.ListMessages(context.Background(), kefu.MessageRange{WorkspaceID: ws, ConversationID: conv, Limit: 1000, IncludePrivate: true})
	must(t, err)
	var got []int64
	for _, m := range ms {
		got = append(got, m.Seq)
	}
	var want []int64
	for i := int64(1); i <= n; i++ {
		want = append(want, i)
	}
	if !slices.Equal(got, want) {
		t.Errorf("conversation %d holds seqs %v, want %v", conv, got, want)
	}
	c, err := s.GetConversation(context.Background(), ws, conv)
	must(t, err)
	if c.LastSeq != n {
		t.Errorf("conversation %d: last_seq %d, want %d", conv, c.LastSeq, n)
	}
}

func TestAppendSeqsWhenAnotherWriterMovedLastSeq(t *testing.T) {
	s := open(t)
	ws, convs := seed(t, s, 2)
	a, b := convs[0], convs[1]
	seqs, errs := flushAll(t, s, msg(ws, a, "1"), msg(ws, a, "2"), msg(ws, b, ""))
	wantSeqs(t, "first batch", seqs, errs, 1, 2, 1)

	// Another writer stores seq 3 in a between two batches.
	_, err := s.w.Exec(`INSERT INTO messages (workspace_id, conversation_id, seq, sender_type, sender_id, kind, body, created_at)
		VALUES (?, ?, 3, 'agent', 9, 'text', 'behind your back', 0)`, ws, a)
	must(t, err)
	_, err = s.w.Exec(`UPDATE conversations SET last_seq = 3 WHERE id = ?`, a)
	must(t, err)
	seqs, errs = flushAll(t, s, msg(ws, b, "b2"), msg(ws, a, "3"), msg(ws, a, ""))
	wantSeqs(t, "after a seq was taken", seqs, errs, 2, 4, 5)
	stored(t, s, ws, a, 5)
	stored(t, s, ws, b, 2)

	// Now the other way: a's last message goes and last_seq moves back.
	_, err = s.w.Exec(`DELETE FROM messages WHERE conversation_id = ? AND seq = 5`, a)
	must(t, err)
	_, err = s.w.Exec(`UPDATE conversations SET last_seq = 4 WHERE id = ?`, a)
	must(t, err)
	seqs, errs = flushAll(t, s, msg(ws, a, "4"), msg(ws, b, "b3"))
	wantSeqs(t, "after last_seq moved back", seqs, errs, 5, 3)
	stored(t, s, ws, a, 5)
	stored(t, s, ws, b, 3)
}

func TestAppendSeqsAroundFailedAndDuplicateMessages(t *testing.T) {
	s := open(t)
	ws, convs := seed(t, s, 2)
	a, b := convs[0], convs[1]
	other, otherConvs := seed(t, s, 1)
	seqs, errs := flushAll(t, s,
		msg(ws, a, "x"),
		msg(ws, a+1000, "missing"), // no such conversation: fails alone
		msg(ws, a, "x"),            // a duplicate within the batch: no seq
		msg(other, a, "y"),         // another tenant's conversation
		msg(ws, otherConvs[0], ""), // and the other way round
		msg(ws, a, ""),
		msg(ws, b, "x"),
	)
	wantSeqs(t, "mixed batch", seqs, errs, 1, 0, 1, 0, 0, 2, 1)
	for _, i := range []int{1, 3, 4} {
		if kefu.ErrorCode(errs[i]) != kefu.ENotFound {
			t.Errorf("message %d: error %v, want not found", i, errs[i])
		}
	}
	seqs, errs = flushAll(t, s, msg(ws, a, "x"), msg(ws, a, "z"), msg(other, otherConvs[0], ""))
	wantSeqs(t, "next batch", seqs, errs, 1, 3, 1)
	stored(t, s, ws, a, 3)
	stored(t, s, ws, b, 1)
	stored(t, s, other, otherConvs[0], 1)
}

// A batch that fails as a whole (here: a message whose insert breaks a
// constraint after others were written) is rolled back; its neighbours
// are retried alone and the rolled-back seqs are handed out again.
func TestAppendSeqsAfterRolledBackBatch(t *testing.T) {
	s := open(t)
	ws, convs := seed(t, s, 2)
	a, b := convs[0], convs[1]
	seqs, errs := flushAll(t, s, msg(ws, a, ""), msg(ws, b, ""))
	wantSeqs(t, "first batch", seqs, errs, 1, 1)

	// A trigger refuses one body: the failure comes after the batch wrote.
	_, err := s.w.Exec(`CREATE TEMP TRIGGER refuse BEFORE INSERT ON messages WHEN NEW.body = 'refused'
		BEGIN SELECT RAISE(ABORT, 'refused'); END`)
	must(t, err)
	bad := msg(ws, a, "bad")
	bad.Body = "refused"
	seqs, errs = flushAll(t, s, msg(ws, a, "1"), msg(ws, b, "1"), bad, msg(ws, a, "2"))
	if errs[2] == nil {
		t.Fatal("the refused message was stored")
	}
	wantSeqs(t, "batch with a refused message", seqs, errs, 2, 2, 0, 3)
	stored(t, s, ws, a, 3)
	stored(t, s, ws, b, 2)
}

func TestAppendSeqsAfterReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kefu.db")
	s, err := Open(context.Background(), path, Options{})
	must(t, err)
	ws, convs := seed(t, s, 1)
	seqs, errs := flushAll(t, s, msg(ws, convs[0], "1"), msg(ws, convs[0], "2"))
	wantSeqs(t, "before reopening", seqs, errs, 1, 2)
	must(t, s.Close())

	s, err = Open(context.Background(), path, Options{})
	must(t, err)
	defer s.Close()
	seqs, errs = flushAll(t, s, msg(ws, convs[0], "2"), msg(ws, convs[0], "3"))
	wantSeqs(t, "after reopening", seqs, errs, 2, 3)
	stored(t, s, ws, convs[0], 3)
}

// Close finalizes the appender's statements, which database/sql does not
// know of: with one left open, SQLite would keep the file open after the
// last connection closed, and the WAL would stay behind un-checkpointed.
func TestCloseFinalizesAppendStatements(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kefu.db")
	s, err := Open(context.Background(), path, Options{})
	must(t, err)
	ws, convs := seed(t, s, 1)
	_, errs := flushAll(t, s, msg(ws, convs[0], "1"))
	must(t, errs[0])
	must(t, s.Close())
	if _, err := os.Stat(path + "-wal"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the WAL is still there after Close (%v): a statement was left open", err)
	}
}

// When SQLite has already rolled the transaction back itself (here a
// trigger's RAISE(ROLLBACK); a full disk or an I/O error does the same),
// the appender's ROLLBACK fails and the connection's state is unknown:
// the appender finalizes its statements and has database/sql drop the
// connection, and the batch is retried message by message on a new one.
func TestAppendAfterSQLiteRolledBackTheTransaction(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kefu.db")
	s, err := Open(context.Background(), path, Options{})
	must(t, err)
	ws, convs := seed(t, s, 1)
	a := convs[0]
	// A TEMP trigger lives on the writer's connection only, so it goes
	// with the connection that is dropped.
	_, err = s.w.Exec(`CREATE TEMP TRIGGER undo BEFORE INSERT ON messages WHEN NEW.body = 'undo'
		BEGIN SELECT RAISE(ROLLBACK, 'undone'); END`)
	must(t, err)
	undo := msg(ws, a, "u")
	undo.Body = "undo"
	seqs, errs := flushAll(t, s, msg(ws, a, "1"), undo, msg(ws, a, "2"))
	wantSeqs(t, "batch rolled back underneath", seqs, errs, 1, 2, 3)
	seqs, errs = flushAll(t, s, msg(ws, a, "3"))
	wantSeqs(t, "next batch", seqs, errs, 4)
	stored(t, s, ws, a, 4)
	must(t, s.Close())
	if _, err := os.Stat(path + "-wal"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the WAL is still there after Close (%v): a statement of the dropped connection was left open", err)
	}
}

// A duplicate is answered with the stored original, read back through the
// driver's values rather than database/sql's Scan: every field must
// survive that, attachments and meta included.
func TestAppendDuplicateReturnsTheStoredOriginal(t *testing.T) {
	s := open(t)
	ws, convs := seed(t, s, 1)
	m := msg(ws, convs[0], "rich")
	m.Kind = kefu.KindAttachment
	m.Attachments = []kefu.Attachment{{ID: 7, WorkspaceID: ws, UploaderType: kefu.SenderContact, UploaderID: 1,
		FileName: "订单.pdf", ContentType: "application/pdf", Size: 1234, SHA256: "abc", CreatedAt: kefu.Now()}}
	m.Meta = map[string]any{"source": "kb", "buttons": []any{"yes", "no"}}
	res, errs := s.flush(context.Background(), []*kefu.Message{m, m})
	must(t, errs[0])
	must(t, errs[1])
	if res[0].Duplicate || !res[1].Duplicate {
		t.Fatalf("Duplicate = %v, %v; want false, true", res[0].Duplicate, res[1].Duplicate)
	}
	again, errs := s.flush(context.Background(), []*kefu.Message{m})
	must(t, errs[0])
	for _, got := range []*kefu.AppendResult{res[1], again[0]} {
		if !reflect.DeepEqual(got.Message, res[0].Message) {
			t.Errorf("duplicate returned\n%+v\nwant the original\n%+v", got.Message, res[0].Message)
		}
		if got.ContactID != res[0].ContactID || got.AssigneeID != res[0].AssigneeID {
			t.Errorf("duplicate's owner %d/%d, want %d/%d", got.ContactID, got.AssigneeID, res[0].ContactID, res[0].AssigneeID)
		}
	}
}
