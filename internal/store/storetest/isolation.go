package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/kefu-chat/kefu/internal/kefu"
)

// testIsolation proves, one resource at a time, that every scoped method
// called with workspace B's id on workspace A's record answers ENotFound
// (or an empty list) and changes nothing. A's record exists, so a store
// that merely checks existence fails here.
func testIsolation(t *testing.T, s kefu.Store) {
	f := newFixture(t, s)
	ctx := f.ctx
	a, b := f.tenant(), f.tenant()
	a.contact.ExternalID = "crm-a"
	if err := s.UpdateContact(ctx, a.contact); err != nil {
		t.Fatalf("UpdateContact: %v", err)
	}
	aMsg := f.append(&kefu.Message{WorkspaceID: a.ws.ID, ConversationID: a.conv.ID, SenderType: kefu.SenderContact,
		SenderID: a.contact.ID, Kind: kefu.KindText, Body: "secret of A", ClientMsgID: "a-1"})
	now := kefu.Now()
	aAtt := &kefu.Attachment{WorkspaceID: a.ws.ID, UploaderType: kefu.SenderContact, UploaderID: a.contact.ID,
		FileName: "a.txt", ContentType: "text/plain", Size: 1, SHA256: "00", StorageKey: "a", CreatedAt: now}
	if err := s.CreateAttachment(ctx, aAtt); err != nil {
		t.Fatalf("CreateAttachment: %v", err)
	}
	aSess := &kefu.Session{WorkspaceID: a.ws.ID, Kind: kefu.SessionAgent, AgentID: a.agent.ID, TokenHash: "hash-a",
		CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
	if err := s.CreateSession(ctx, aSess); err != nil {
		t.Fatalf("CreateSession: %v", err)
	}

	t.Run("Agent", func(t *testing.T) {
		_, err := s.GetAgent(ctx, b.ws.ID, a.agent.ID)
		wantCode(t, "GetAgent", err, kefu.ENotFound)
		list, err := s.ListAgents(ctx, b.ws.ID)
		if err != nil {
			t.Fatalf("ListAgents: %v", err)
		}
		if slices.Contains(ids(list, agentID), a.agent.ID) {
			t.Errorf("ListAgents(B) lists A's agent")
		}
		hijack := *a.agent
		hijack.WorkspaceID, hijack.Name, hijack.Role = b.ws.ID, "hijacked", kefu.RoleAdmin
		wantCode(t, "UpdateAgent", s.UpdateAgent(ctx, &hijack), kefu.ENotFound)
		got, err := s.GetAgent(ctx, a.ws.ID, a.agent.ID)
		if err != nil {
			t.Fatalf("GetAgent: %v", err)
		}
		check(t, "A's agent", got, a.agent)
	})

	t.Run("Inbox", func(t *testing.T) {
		_, err := s.GetInbox(ctx, b.ws.ID, a.inbox.ID)
		wantCode(t, "GetInbox", err, kefu.ENotFound)
		list, err := s.ListInboxes(ctx, b.ws.ID)
		if err != nil {
			t.Fatalf("ListInboxes: %v", err)
		}
		if slices.Contains(ids(list, inboxID), a.inbox.ID) {
			t.Errorf("ListInboxes(B) lists A's inbox")
		}
		hijack := *a.inbox
		hijack.WorkspaceID, hijack.AllowedOrigins = b.ws.ID, []string{"https://evil.example"}
		wantCode(t, "UpdateInbox", s.UpdateInbox(ctx, &hijack), kefu.ENotFound)
		got, err := s.GetInbox(ctx, a.ws.ID, a.inbox.ID)
		if err != nil {
			t.Fatalf("GetInbox: %v", err)
		}
		check(t, "A's inbox", got, a.inbox)
	})

	t.Run("Contact", func(t *testing.T) {
		_, err := s.GetContact(ctx, b.ws.ID, a.contact.ID)
		wantCode(t, "GetContact", err, kefu.ENotFound)
		_, err = s.GetContactByVisitorID(ctx, b.ws.ID, a.contact.VisitorID)
		wantCode(t, "GetContactByVisitorID", err, kefu.ENotFound)
		_, err = s.GetContactByExternalID(ctx, b.ws.ID, a.contact.ExternalID)
		wantCode(t, "GetContactByExternalID", err, kefu.ENotFound)
		for _, q := range []string{"", a.contact.Name, "crm-a"} {
			list, err := s.ListContacts(ctx, kefu.ContactFilter{WorkspaceID: b.ws.ID, Query: q, Limit: 100})
			if err != nil {
				t.Fatalf("ListContacts: %v", err)
			}
			if slices.Contains(ids(list, contactID), a.contact.ID) {
				t.Errorf("ListContacts(B, %q) lists A's contact", q)
			}
		}
		hijack := *a.contact
		hijack.WorkspaceID, hijack.Email = b.ws.ID, "evil@example.com"
		wantCode(t, "UpdateContact", s.UpdateContact(ctx, &hijack), kefu.ENotFound)
		_, err = s.PatchContact(ctx, b.ws.ID, a.contact.ID, kefu.ContactPatch{Email: ptr("evil@example.com"), Attributes: map[string]any{"owned": true}})
		wantCode(t, "PatchContact", err, kefu.ENotFound)
		got, err := s.GetContact(ctx, a.ws.ID, a.contact.ID)
		if err != nil {
			t.Fatalf("GetContact: %v", err)
		}
		check(t, "A's contact", got, a.contact)
	})

	t.Run("Conversation", func(t *testing.T) {
		f := f.on(t)
		before := f.getConversation(a.ws.ID, a.conv.ID)
		_, err := s.GetConversation(ctx, b.ws.ID, a.conv.ID)
		wantCode(t, "GetConversation", err, kefu.ENotFound)
		resolved := kefu.StatusResolved
		_, err = s.UpdateConversation(ctx, b.ws.ID, a.conv.ID, kefu.ConversationUpdate{Status: &resolved, AssigneeID: ptr(b.agent.ID)})
		wantCode(t, "UpdateConversation", err, kefu.ENotFound)
		_, err = s.MarkRead(ctx, b.ws.ID, a.conv.ID, kefu.SenderContact, 1)
		wantCode(t, "MarkRead", err, kefu.ENotFound)
		for _, flt := range []kefu.ConversationFilter{
			{WorkspaceID: b.ws.ID, Limit: 100},
			{WorkspaceID: b.ws.ID, ContactID: a.contact.ID, Limit: 100},
			{WorkspaceID: b.ws.ID, InboxID: a.inbox.ID, Limit: 100},
			{WorkspaceID: b.ws.ID, AssigneeID: a.agent.ID, Limit: 100},
		} {
			list, err := s.ListConversations(ctx, flt)
			if err != nil {
				t.Fatalf("ListConversations: %v", err)
			}
			if slices.Contains(ids(list, conversationID), a.conv.ID) {
				t.Errorf("ListConversations(%+v) lists A's conversation", flt)
			}
		}

		// A conversation never joins records of two workspaces: B cannot
		// open one on A's inbox or contact, nor hand one to A's agent.
		for name, edit := range map[string]func(c *kefu.Conversation){
			"A's inbox":   func(c *kefu.Conversation) { c.InboxID = a.inbox.ID },
			"A's contact": func(c *kefu.Conversation) { c.ContactID = a.contact.ID },
			"A's agent":   func(c *kefu.Conversation) { c.AssigneeID = a.agent.ID },
		} {
			c := &kefu.Conversation{WorkspaceID: b.ws.ID, InboxID: b.inbox.ID, ContactID: b.contact.ID,
				Status: kefu.StatusOpen, Priority: kefu.PriorityNone, CreatedAt: now, UpdatedAt: now, LastActivityAt: now}
			edit(c)
			wantCode(t, "CreateConversation in B with "+name, s.CreateConversation(ctx, c), kefu.ENotFound)
		}
		_, err = s.UpdateConversation(ctx, b.ws.ID, b.conv.ID, kefu.ConversationUpdate{AssigneeID: ptr(a.agent.ID)})
		wantCode(t, "UpdateConversation(B's, assign A's agent)", err, kefu.ENotFound)
		check(t, "B's conversation", f.getConversation(b.ws.ID, b.conv.ID), b.conv)

		check(t, "A's conversation", f.getConversation(a.ws.ID, a.conv.ID), before)
	})

	t.Run("Message", func(t *testing.T) {
		f := f.on(t)
		before := f.getConversation(a.ws.ID, a.conv.ID)
		// With A's client id too: a retry must not reveal A's message.
		for _, cid := range []string{"", "b-1", "a-1"} {
			res, err := s.AppendMessage(ctx, &kefu.Message{WorkspaceID: b.ws.ID, ConversationID: a.conv.ID,
				SenderType: kefu.SenderContact, SenderID: a.contact.ID, Kind: kefu.KindText, Body: "intrusion", ClientMsgID: cid})
			wantCode(t, "AppendMessage(client id "+cid+")", err, kefu.ENotFound)
			if res != nil && res.Message != nil {
				t.Errorf("AppendMessage into A's conversation returned message %q", res.Message.Body)
			}
		}
		for _, private := range []bool{false, true} {
			list, err := s.ListMessages(ctx, kefu.MessageRange{WorkspaceID: b.ws.ID, ConversationID: a.conv.ID, Limit: 100, IncludePrivate: private})
			// Either answer hides A's messages; the suite allows both.
			if err != nil {
				wantCode(t, "ListMessages", err, kefu.ENotFound)
			} else if len(list) != 0 {
				t.Errorf("ListMessages(B, A's conversation) lists %d messages", len(list))
			}
		}
		check(t, "A's conversation", f.getConversation(a.ws.ID, a.conv.ID), before)
		check(t, "A's messages", f.messages(a.ws.ID, a.conv.ID), []*kefu.Message{aMsg.Message})
	})

	t.Run("Attachment", func(t *testing.T) {
		_, err := s.GetAttachment(ctx, b.ws.ID, aAtt.ID)
		wantCode(t, "GetAttachment", err, kefu.ENotFound)
	})

	t.Run("Session", func(t *testing.T) {
		wantCode(t, "RevokeSession", s.RevokeSession(ctx, b.ws.ID, aSess.ID), kefu.ENotFound)
		// Revoking "all sessions of agent X in B" finds none; whether that
		// is an error is the store's choice, but A's session must live on.
		if err := s.RevokeAgentSessions(ctx, b.ws.ID, a.agent.ID); err != nil {
			wantCode(t, "RevokeAgentSessions", err, kefu.ENotFound)
		}
		got, err := s.GetSessionByTokenHash(ctx, aSess.TokenHash)
		if err != nil {
			t.Fatalf("GetSessionByTokenHash: %v", err)
		}
		check(t, "A's session", got, aSess)
	})
}
