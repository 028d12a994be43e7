package dispatch

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/kefu-chat/kefu/internal/auth"
	"github.com/kefu-chat/kefu/internal/bus/inproc"
	"github.com/kefu-chat/kefu/internal/chat"
	"github.com/kefu-chat/kefu/internal/hub"
	"github.com/kefu-chat/kefu/internal/kefu"
	"github.com/kefu-chat/kefu/internal/kefutest"
	"github.com/kefu-chat/kefu/internal/store/sqlite"
)

// BenchmarkStatus is the cost of one call behind the public
// GET /widget/config and /widget/status: an inbox with 10,000 queued
// conversations, 200 agents online each holding 5 open conversations.
func BenchmarkStatus(b *testing.B) {
	const (
		queued = 10_000
		agents = 200
	)
	ctx := b.Context()
	s, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "kefu.db"), sqlite.Options{Synchronous: "NORMAL"})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	c := chat.New(s, inproc.New(), nil, nil)
	now := kefu.Now()
	d := New(Options{Store: s, Chat: c, Hub: hub.New(c, hub.Options{}), Grace: time.Minute, Now: func() time.Time { return now }})
	f := kefutest.NewFixture(b, s, auth.NewAuthenticator(s, time.Now), "Acme")
	ws, inbox := f.Workspace.ID, f.Inbox.ID
	contact := f.Contact.ID
	newConv := func() *kefu.Conversation {
		conv := &kefu.Conversation{WorkspaceID: ws, InboxID: inbox, ContactID: contact, Status: kefu.StatusOpen,
			Priority: kefu.PriorityNone, Labels: []string{}, CreatedAt: now, UpdatedAt: now, LastActivityAt: now}
		if err := s.CreateConversation(ctx, conv); err != nil {
			b.Fatal(err)
		}
		return conv
	}
	for i := range agents {
		a := &kefu.Agent{WorkspaceID: ws, Email: fmt.Sprintf("a%d@example.com", i), Name: "A", Role: kefu.RoleAgent,
			PasswordHash: "x", Active: true, CreatedAt: now, UpdatedAt: now}
		if err := s.CreateAgent(ctx, a); err != nil {
			b.Fatal(err)
		}
		if err := s.TouchAgents(ctx, ws, []int64{a.ID}, now); err != nil {
			b.Fatal(err)
		}
		for range 5 {
			conv := newConv()
			if _, err := s.UpdateConversation(ctx, ws, conv.ID, kefu.ConversationUpdate{AssigneeID: &a.ID}); err != nil {
				b.Fatal(err)
			}
		}
	}
	for i := range queued {
		conv := newConv()
		if _, err := s.Requeue(ctx, ws, conv.ID, 0, "", now.Add(time.Duration(i)*time.Millisecond)); err != nil {
			b.Fatal(err)
		}
	}
	check := func(st *InboxStatus, err error) {
		if err != nil {
			b.Fatal(err)
		}
		if st.Queue != queued || st.AgentsOnline != agents {
			b.Fatalf("status = %+v, want %d queued, %d online", st, queued, agents)
		}
	}
	// What one call costs the database (the cache missed or was dropped).
	b.Run("read", func(b *testing.B) {
		for b.Loop() {
			check(d.readStatus(ctx, ws, inbox, now))
		}
	})
	// Status as the endpoints call it, within the cache's lifetime.
	b.Run("cached", func(b *testing.B) {
		for b.Loop() {
			check(d.Status(ctx, ws, inbox))
		}
	})
}
