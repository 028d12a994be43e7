package bot

import (
	"path/filepath"
	"testing"

	"github.com/kefu-chat/kefu/internal/kb"
	"github.com/kefu-chat/kefu/internal/kefu"
	"github.com/kefu-chat/kefu/internal/store/sqlite"
)

// TestKnowledgeCacheInvalidationAndSnapshot: an answer served from the
// hot cache changes as soon as its FAQ entry is edited through Knowledge,
// disappears when the entry is deleted, and a fresh Knowledge (a restart)
// loads the saved snapshot and answers the same.
func TestKnowledgeCacheInvalidationAndSnapshot(t *testing.T) {
	ctx := t.Context()
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "kefu.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	ws := &kefu.Workspace{Name: "w"}
	if err := store.CreateWorkspace(ctx, ws); err != nil {
		t.Fatal(err)
	}
	tok := func() (*kb.Tokenizer, error) { return kb.NewTokenizer(kb.Bigrams{}), nil }
	k := NewKnowledge(store, tok, nil)
	f := &kefu.FAQ{WorkspaceID: ws.ID, Answer: "Shipping is free over 99.", Questions: []string{"how much is shipping"}, Enabled: true}
	if err := k.PutFAQ(ctx, f); err != nil {
		t.Fatal(err)
	}
	base, err := k.Base(ctx, ws.ID)
	if err != nil {
		t.Fatal(err)
	}
	ask := func() (kb.Answer, bool) { return base.Answer("how much is shipping") }
	if a, ok := ask(); !ok || a.Text != f.Answer || a.Cached {
		t.Fatalf("first answer %+v %v", a, ok)
	}
	if a, _ := ask(); !a.Cached {
		t.Fatal("second answer not cached")
	}
	f.Answer = "Shipping is always free."
	if err := k.PutFAQ(ctx, f); err != nil {
		t.Fatal(err)
	}
	if a, ok := ask(); !ok || a.Text != "Shipping is always free." || a.Cached {
		t.Fatalf("after edit %+v", a)
	}
	ask()
	if st := k.CacheStats(); st.Hits == 0 || st.Misses == 0 {
		t.Fatalf("stats %+v", st)
	}

	// A restart loads the snapshot saved under the same fingerprint.
	k2 := NewKnowledge(store, tok, nil)
	b2, err := k2.Base(ctx, ws.ID)
	if err != nil {
		t.Fatal(err)
	}
	if a, ok := b2.Answer("how much is shipping"); !ok || a.Text != "Shipping is always free." {
		t.Fatalf("after reload %+v", a)
	}

	if err := k.DeleteFAQ(ctx, ws.ID, f.ID); err != nil {
		t.Fatal(err)
	}
	if a, ok := ask(); ok {
		t.Fatalf("deleted entry still answers: %+v", a)
	}
}
