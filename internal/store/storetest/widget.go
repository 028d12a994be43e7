package storetest

import (
	"testing"
	"time"

	"github.com/kefu-chat/kefu/internal/kefu"
)

// testWidgetSettings: an inbox's widget settings round-trip through create,
// update and every read, and a new inbox reads with the defaults filled.
func testWidgetSettings(t *testing.T, s kefu.Store) {
	f := newFixture(t, s)
	ws := f.workspace()
	in := f.inbox(ws.ID)
	got, err := s.GetInbox(f.ctx, ws.ID, in.ID)
	if err != nil {
		t.Fatal(err)
	}
	check(t, "default widget", got.Widget, kefu.WidgetSettings{Position: kefu.WidgetRight, PreChatFields: []kefu.PreChatField{}})

	want := kefu.WidgetSettings{Position: kefu.WidgetLeft, LauncherText: "聊聊", Title: "Support", OfflineMessage: "We are away.\nLeave a note.",
		Locale: "zh-CN", PreChatEnabled: true, PreChatFields: []kefu.PreChatField{
			{Name: "email", Type: kefu.FieldEmail, Required: true, Options: []string{}},
			{Name: "topic", Label: "Topic", Type: kefu.FieldSelect, Options: []string{"Billing", "Shipping"}},
		}}
	got.Widget = want
	if err := s.UpdateInbox(f.ctx, got); err != nil {
		t.Fatal(err)
	}
	for _, read := range []func() (*kefu.Inbox, error){
		func() (*kefu.Inbox, error) { return s.GetInbox(f.ctx, ws.ID, in.ID) },
		func() (*kefu.Inbox, error) { return s.GetInboxByToken(f.ctx, in.PublicToken) },
		func() (*kefu.Inbox, error) {
			l, err := s.ListInboxes(f.ctx, ws.ID)
			if err != nil {
				return nil, err
			}
			return l[0], nil
		},
	} {
		back, err := read()
		if err != nil {
			t.Fatal(err)
		}
		check(t, "widget", back.Widget, want)
	}

	created := &kefu.Inbox{WorkspaceID: ws.ID, Name: "With widget", PublicToken: "tok-widget", Secret: "s", Widget: want, CreatedAt: kefu.Now()}
	if err := s.CreateInbox(f.ctx, created); err != nil {
		t.Fatal(err)
	}
	back, err := s.GetInbox(f.ctx, ws.ID, created.ID)
	if err != nil {
		t.Fatal(err)
	}
	check(t, "widget at create", back.Widget, want)
}

// testRating: only a resolved conversation takes a rating; a later rating
// replaces it; every conversation read carries it; another workspace's
// conversation is not found.
func testRating(t *testing.T, s kefu.Store) {
	f := newFixture(t, s)
	a, b := f.tenant(), f.tenant()
	if got := f.getConversation(a.ws.ID, a.conv.ID); got.Rating != nil {
		t.Fatalf("new conversation has rating %+v", got.Rating)
	}
	_, err := s.RateConversation(f.ctx, a.ws.ID, a.conv.ID, kefu.Rating{Score: 5})
	wantCode(t, "rate open conversation", err, kefu.EConflict)

	resolved := kefu.StatusResolved
	if _, err := s.UpdateConversation(f.ctx, a.ws.ID, a.conv.ID, kefu.ConversationUpdate{Status: &resolved}); err != nil {
		t.Fatal(err)
	}
	_, err = s.RateConversation(f.ctx, a.ws.ID, a.conv.ID, kefu.Rating{Score: 0})
	wantCode(t, "score 0", err, kefu.EInvalid)
	_, err = s.RateConversation(f.ctx, a.ws.ID, a.conv.ID, kefu.Rating{Score: 6})
	wantCode(t, "score 6", err, kefu.EInvalid)

	at := kefu.Now().Add(-time.Minute)
	c, err := s.RateConversation(f.ctx, a.ws.ID, a.conv.ID, kefu.Rating{Score: 2, Comment: "slow 慢", RatedAt: at})
	if err != nil {
		t.Fatal(err)
	}
	check(t, "returned rating", c.Rating, &kefu.Rating{Score: 2, Comment: "slow 慢", RatedAt: at})
	c, err = s.RateConversation(f.ctx, a.ws.ID, a.conv.ID, kefu.Rating{Score: 4, RatedAt: at.Add(time.Second)})
	if err != nil {
		t.Fatal(err)
	}
	want := &kefu.Rating{Score: 4, Comment: "", RatedAt: at.Add(time.Second)}
	check(t, "replaced rating", c.Rating, want)
	check(t, "read rating", f.getConversation(a.ws.ID, a.conv.ID).Rating, want)
	list, err := s.ListConversations(f.ctx, kefu.ConversationFilter{WorkspaceID: a.ws.ID, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	check(t, "listed rating", list[0].Rating, want)

	// Reopening keeps the rating the visitor gave.
	open := kefu.StatusOpen
	c, err = s.UpdateConversation(f.ctx, a.ws.ID, a.conv.ID, kefu.ConversationUpdate{Status: &open})
	if err != nil {
		t.Fatal(err)
	}
	check(t, "rating after reopen", c.Rating, want)

	// Isolation: workspace B cannot rate A's conversation, nor A B's.
	_, err = s.RateConversation(f.ctx, b.ws.ID, a.conv.ID, kefu.Rating{Score: 1})
	wantCode(t, "rate across workspaces", err, kefu.ENotFound)
	_, err = s.RateConversation(f.ctx, a.ws.ID, b.conv.ID, kefu.Rating{Score: 1})
	wantCode(t, "rate across workspaces", err, kefu.ENotFound)
	_, err = s.RateConversation(f.ctx, a.ws.ID, 1<<40, kefu.Rating{Score: 1})
	wantCode(t, "rate missing", err, kefu.ENotFound)
	if got := f.getConversation(b.ws.ID, b.conv.ID); got.Rating != nil {
		t.Fatalf("B's conversation got rated: %+v", got.Rating)
	}
}
