package storetest

import (
	"testing"
	"time"

	"github.com/kefu-chat/kefu/internal/kefu"
)

// testDefaults pins what a Create fills in when the caller leaves it zero,
// which callers rely on: times default to now, a conversation starts open
// with no priority, an inbox is a web widget. The defaults are written back
// into the struct, so the caller holds exactly what a Get returns.
func testDefaults(t *testing.T, s kefu.Store) {
	ctx := t.Context()
	before := kefu.Now()
	recent := func(what string, got time.Time) {
		t.Helper()
		if got.Before(before) || got.After(kefu.Now()) || got.Location() != time.UTC {
			t.Errorf("%s = %v, want a UTC time from the last moment", what, got)
		}
	}

	w := &kefu.Workspace{Name: "w"}
	if err := s.CreateWorkspace(ctx, w); err != nil {
		t.Fatalf("CreateWorkspace: %v", err)
	}
	recent("Workspace.CreatedAt", w.CreatedAt)
	gotW, err := s.GetWorkspace(ctx, w.ID)
	if err != nil {
		t.Fatalf("GetWorkspace: %v", err)
	}
	check(t, "workspace", gotW, w)

	a := &kefu.Agent{WorkspaceID: w.ID, Email: "a@example.com", Name: "a", Role: kefu.RoleAgent, PasswordHash: "h", Active: true}
	if err := s.CreateAgent(ctx, a); err != nil {
		t.Fatalf("CreateAgent: %v", err)
	}
	recent("Agent.CreatedAt", a.CreatedAt)
	if !a.UpdatedAt.Equal(a.CreatedAt) {
		t.Errorf("Agent.UpdatedAt = %v, want CreatedAt %v", a.UpdatedAt, a.CreatedAt)
	}
	gotA, err := s.GetAgent(ctx, w.ID, a.ID)
	if err != nil {
		t.Fatalf("GetAgent: %v", err)
	}
	check(t, "agent", gotA, a)

	in := &kefu.Inbox{WorkspaceID: w.ID, Name: "web", PublicToken: "tok", Secret: "s"}
	if err := s.CreateInbox(ctx, in); err != nil {
		t.Fatalf("CreateInbox: %v", err)
	}
	if in.Channel != kefu.ChannelWeb {
		t.Errorf("Inbox.Channel = %q, want %q", in.Channel, kefu.ChannelWeb)
	}
	recent("Inbox.CreatedAt", in.CreatedAt)
	gotIn, err := s.GetInbox(ctx, w.ID, in.ID)
	if err != nil {
		t.Fatalf("GetInbox: %v", err)
	}
	check(t, "inbox", gotIn, in)

	c := &kefu.Contact{WorkspaceID: w.ID, VisitorID: "v"}
	if err := s.CreateContact(ctx, c); err != nil {
		t.Fatalf("CreateContact: %v", err)
	}
	recent("Contact.CreatedAt", c.CreatedAt)
	for name, got := range map[string]time.Time{"FirstSeenAt": c.FirstSeenAt, "LastSeenAt": c.LastSeenAt, "UpdatedAt": c.UpdatedAt} {
		if !got.Equal(c.CreatedAt) {
			t.Errorf("Contact.%s = %v, want CreatedAt %v", name, got, c.CreatedAt)
		}
	}
	gotC, err := s.GetContact(ctx, w.ID, c.ID)
	if err != nil {
		t.Fatalf("GetContact: %v", err)
	}
	check(t, "contact", gotC, c)

	cv := &kefu.Conversation{WorkspaceID: w.ID, InboxID: in.ID, ContactID: c.ID}
	if err := s.CreateConversation(ctx, cv); err != nil {
		t.Fatalf("CreateConversation: %v", err)
	}
	if cv.Status != kefu.StatusOpen || cv.Priority != kefu.PriorityNone {
		t.Errorf("new conversation: status %q, priority %q; want %q, %q", cv.Status, cv.Priority, kefu.StatusOpen, kefu.PriorityNone)
	}
	recent("Conversation.CreatedAt", cv.CreatedAt)
	if !cv.UpdatedAt.Equal(cv.CreatedAt) || !cv.LastActivityAt.Equal(cv.CreatedAt) {
		t.Errorf("new conversation: UpdatedAt %v, LastActivityAt %v; want both CreatedAt %v", cv.UpdatedAt, cv.LastActivityAt, cv.CreatedAt)
	}
	gotCv, err := s.GetConversation(ctx, w.ID, cv.ID)
	if err != nil {
		t.Fatalf("GetConversation: %v", err)
	}
	check(t, "conversation", gotCv, cv)

	se := &kefu.Session{WorkspaceID: w.ID, Kind: kefu.SessionAgent, AgentID: a.ID, TokenHash: "h", ExpiresAt: kefu.Now().Add(time.Hour)}
	if err := s.CreateSession(ctx, se); err != nil {
		t.Fatalf("CreateSession: %v", err)
	}
	recent("Session.CreatedAt", se.CreatedAt)
	gotSe, err := s.GetSessionByTokenHash(ctx, "h")
	if err != nil {
		t.Fatalf("GetSessionByTokenHash: %v", err)
	}
	check(t, "session", gotSe, se)

	at := &kefu.Attachment{WorkspaceID: w.ID, UploaderType: kefu.SenderAgent, UploaderID: a.ID, FileName: "f", ContentType: "text/plain", StorageKey: "k"}
	if err := s.CreateAttachment(ctx, at); err != nil {
		t.Fatalf("CreateAttachment: %v", err)
	}
	recent("Attachment.CreatedAt", at.CreatedAt)
	gotAt, err := s.GetAttachment(ctx, w.ID, at.ID)
	if err != nil {
		t.Fatalf("GetAttachment: %v", err)
	}
	check(t, "attachment", gotAt, at)
}
