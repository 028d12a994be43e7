package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"github.com/kefu-chat/kefu/internal/kefu"
)

func open(t testing.TB) *Store {
	t.Helper()
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "kefu.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// seed makes a workspace with one inbox, one contact and n conversations.
func seed(t testing.TB, s *Store, n int) (ws int64, convs []int64) {
	t.Helper()
	ctx := context.Background()
	w := &kefu.Workspace{Name: "w"}
	must(t, s.CreateWorkspace(ctx, w))
	in := &kefu.Inbox{WorkspaceID: w.ID, Name: "web", PublicToken: fmt.Sprintf("tok-%d", w.ID), Secret: "s"}
	must(t, s.CreateInbox(ctx, in))
	c := &kefu.Contact{WorkspaceID: w.ID, VisitorID: "v1"}
	must(t, s.CreateContact(ctx, c))
	for i := 0; i < n; i++ {
		cv := &kefu.Conversation{WorkspaceID: w.ID, InboxID: in.ID, ContactID: c.ID}
		must(t, s.CreateConversation(ctx, cv))
		convs = append(convs, cv.ID)
	}
	return w.ID, convs
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestAppendSurvivesReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kefu.db")
	ctx := context.Background()
	s, err := Open(ctx, path, Options{})
	must(t, err)
	ws, convs := seed(t, s, 1)
	var wg sync.WaitGroup
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			_, err := s.AppendMessage(ctx, &kefu.Message{WorkspaceID: ws, ConversationID: convs[0], SenderType: kefu.SenderContact, SenderID: 1,
				Kind: kefu.KindText, Body: "hi", ClientMsgID: fmt.Sprint(i % 25)})
			if err != nil {
				t.Error(err)
			}
		}(i)
	}
	wg.Wait()
	must(t, s.Close())
	s, err = Open(ctx, path, Options{})
	must(t, err)
	defer s.Close()
	msgs, err := s.ListMessages(ctx, kefu.MessageRange{WorkspaceID: ws, ConversationID: convs[0], Limit: 100})
	must(t, err)
	if len(msgs) != 25 {
		t.Fatalf("got %d messages, want 25 (one per client_msg_id)", len(msgs))
	}
	for i, m := range msgs {
		if m.Seq != int64(i+1) {
			t.Fatalf("message %d has seq %d", i, m.Seq)
		}
	}
}

func TestSynchronousModeIsValidated(t *testing.T) {
	if _, err := Open(context.Background(), filepath.Join(t.TempDir(), "x.db"), Options{Synchronous: "OFF"}); err == nil {
		t.Fatal("synchronous=OFF accepted; only FULL and NORMAL are allowed")
	}
}

func BenchmarkAppendParallel(b *testing.B) {
	s := open(b)
	ws, convs := seed(b, s, 100)
	ctx := context.Background()
	var n sync.Mutex
	i := 0
	b.SetParallelism(32)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		n.Lock()
		i++
		conv := convs[i%len(convs)]
		n.Unlock()
		for pb.Next() {
			if _, err := s.AppendMessage(ctx, &kefu.Message{WorkspaceID: ws, ConversationID: conv, SenderType: kefu.SenderContact, SenderID: 1,
				Kind: kefu.KindText, Body: "a typical chat message of about one hundred bytes, give or take a few words here"}); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

// The writer's settings are what durability and the checkpoint cadence
// rest on; a typo in a DSN pragma is silently ignored, so check them.
func TestWriterPragmas(t *testing.T) {
	s := open(t)
	for _, tc := range []struct {
		pragma string
		want   string
	}{
		{"journal_mode", "wal"},
		{"synchronous", "2"}, // FULL
		{"foreign_keys", "1"},
		{"wal_autocheckpoint", fmt.Sprint(walPages)},
		{"journal_size_limit", fmt.Sprint(walLimit)},
	} {
		var got string
		must(t, s.w.QueryRow("PRAGMA "+tc.pragma).Scan(&got))
		if got != tc.want {
			t.Errorf("PRAGMA %s = %s, want %s", tc.pragma, got, tc.want)
		}
	}
}
