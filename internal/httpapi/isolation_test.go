package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/kefu-chat/kefu/internal/auth"
	"github.com/kefu-chat/kefu/internal/kefu"
)

// TestWorkspaceIsolation: an agent (admin or not) of workspace A gets 404
// for every record of workspace B, reading or writing, exactly as if it
// did not exist; and B's records are unchanged afterwards.
func TestWorkspaceIsolation(t *testing.T) {
	for _, backend := range []struct {
		name string
		open func(testing.TB) kefu.Store
	}{{"sqlite", openSQLite}, {"postgres", openPostgres}} {
		t.Run(backend.name, func(t *testing.T) {
			e := newEnv(t, backend.open(t))
			b := e.b
			// Give B a message and an attachment sent in it.
			att := e.upload("/api/v1/attachments", b.AgentToken, "b.png", pngBytes)
			r := e.do("POST", fmt.Sprintf("/api/v1/conversations/%d/messages", b.Conversation.ID), b.AgentToken,
				map[string]any{"body": "secret", "kind": "text", "attachments": []int64{att}})
			wantStatus(t, r, 201, "")

			conv, contact, inbox := b.Conversation.ID, b.Contact.ID, b.Inbox.ID
			calls := []struct {
				method, path string
				body         any
			}{
				{"GET", fmt.Sprintf("/api/v1/conversations/%d", conv), nil},
				{"PATCH", fmt.Sprintf("/api/v1/conversations/%d", conv), map[string]any{"status": "resolved"}},
				{"GET", fmt.Sprintf("/api/v1/conversations/%d/messages", conv), nil},
				{"GET", fmt.Sprintf("/api/v1/conversations/%d/messages?after_seq=0", conv), nil},
				{"POST", fmt.Sprintf("/api/v1/conversations/%d/messages", conv), map[string]any{"body": "injected"}},
				{"POST", fmt.Sprintf("/api/v1/conversations/%d/read", conv), map[string]any{"seq": 1}},
				{"POST", fmt.Sprintf("/api/v1/conversations/%d/typing", conv), map[string]any{"on": true}},
				{"GET", fmt.Sprintf("/api/v1/contacts/%d", contact), nil},
				{"PATCH", fmt.Sprintf("/api/v1/contacts/%d", contact), map[string]any{"name": "pwned"}},
				{"GET", fmt.Sprintf("/api/v1/contacts/%d/conversations", contact), nil},
				{"GET", fmt.Sprintf("/api/v1/attachments/%d", att), nil},
				{"GET", fmt.Sprintf("/api/v1/agents/%d", b.Agent.ID), nil},
				{"PATCH", fmt.Sprintf("/api/v1/agents/%d", b.Agent.ID), map[string]any{"active": false}},
				{"GET", fmt.Sprintf("/api/v1/inboxes/%d", inbox), nil},
				{"PATCH", fmt.Sprintf("/api/v1/inboxes/%d", inbox), map[string]any{"name": "pwned"}},
				{"POST", fmt.Sprintf("/api/v1/inboxes/%d/rotate_secret", inbox), nil},
				{"GET", fmt.Sprintf("/api/v1/inboxes/%d/secret", inbox), nil},
			}
			for _, c := range calls {
				r := e.do(c.method, c.path, e.a.AdminToken, c.body)
				if r.Code != http.StatusNotFound || r.errCode() != kefu.ENotFound {
					t.Errorf("A's admin: %s %s = %d %s, want 404 not_found", c.method, c.path, r.Code, r)
				}
				// A's plain agent: 404 too, or 403 where only admins may call
				// at all (checked before the record is looked up).
				r = e.do(c.method, c.path, e.a.AgentToken, c.body)
				adminOnly := (c.method == "PATCH" || c.method == "POST") && (strings.Contains(c.path, "/agents/") || strings.Contains(c.path, "/inboxes/")) || strings.HasSuffix(c.path, "/secret")
				if r.Code != http.StatusNotFound && !(r.Code == http.StatusForbidden && adminOnly) {
					t.Errorf("A's agent: %s %s = %d %s", c.method, c.path, r.Code, r)
				}
			}
			// Lists show none of B's records.
			for _, path := range []string{"/api/v1/conversations", "/api/v1/contacts", "/api/v1/agents", "/api/v1/inboxes", fmt.Sprintf("/api/v1/conversations?contact=%d", contact), fmt.Sprintf("/api/v1/conversations?inbox=%d", inbox)} {
				var page struct {
					Data []struct {
						WorkspaceID int64 `json:"workspace_id"`
					} `json:"data"`
				}
				r := e.do("GET", path, e.a.AdminToken, nil)
				wantStatus(t, r, 200, "")
				r.into(t, &page)
				for _, d := range page.Data {
					if d.WorkspaceID != e.a.Workspace.ID {
						t.Errorf("%s lists a record of workspace %d", path, d.WorkspaceID)
					}
				}
			}
			// B is untouched.
			ctx := context.Background()
			c, err := e.store.GetConversation(ctx, b.Workspace.ID, conv)
			if err != nil || c.Status != kefu.StatusOpen || c.LastSeq != 1 {
				t.Errorf("B's conversation changed: %+v %v", c, err)
			}
			ct, _ := e.store.GetContact(ctx, b.Workspace.ID, contact)
			ag, _ := e.store.GetAgent(ctx, b.Workspace.ID, b.Agent.ID)
			in, _ := e.store.GetInbox(ctx, b.Workspace.ID, inbox)
			if ct.Name == "pwned" || !ag.Active || in.Name == "pwned" || in.Secret != b.Inbox.Secret {
				t.Errorf("B's records changed: contact %q, agent active %v, inbox %q", ct.Name, ag.Active, in.Name)
			}
			// And B's own agent still sees it all.
			wantStatus(t, e.do("GET", fmt.Sprintf("/api/v1/attachments/%d", att), b.AgentToken, nil), 200, "")
		})
	}
}

// TestVisitorIsolation: a visitor token reaches only its own contact's
// conversations, messages and attachments, even within one workspace.
func TestVisitorIsolation(t *testing.T) {
	e := newEnv(t, openSQLite(t))
	ctx := context.Background()
	a := e.a
	// A second visitor in the same workspace and inbox, with a conversation.
	other := &kefu.Contact{WorkspaceID: a.Workspace.ID, VisitorID: auth.RandomString(18), Name: "Other", Attributes: map[string]any{}}
	if err := e.store.CreateContact(ctx, other); err != nil {
		t.Fatal(err)
	}
	otherActor := kefu.Actor{WorkspaceID: a.Workspace.ID, Type: kefu.SenderContact, ID: other.ID, InboxID: a.Inbox.ID}
	otherToken, _, err := e.auth.Issue(ctx, kefu.SessionVisitor, otherActor, auth.VisitorSessionTTL)
	if err != nil {
		t.Fatal(err)
	}
	r := e.do("POST", "/api/v1/widget/conversations", otherToken, nil)
	wantStatus(t, r, 201, "")
	var otherConv kefu.Conversation
	r.into(t, &otherConv)

	// The other visitor uploads and sends a file; an agent sends one into
	// the first visitor's conversation, and another in a private note.
	otherAtt := e.upload("/api/v1/widget/attachments", otherToken, "mine.pdf", []byte("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"))
	wantStatus(t, e.do("POST", fmt.Sprintf("/api/v1/widget/conversations/%d/messages", otherConv.ID), otherToken,
		map[string]any{"kind": "attachment", "attachments": []int64{otherAtt}, "body": "see file"}), 201, "")
	agentAtt := e.upload("/api/v1/attachments", a.AgentToken, "reply.png", pngBytes)
	wantStatus(t, e.do("POST", fmt.Sprintf("/api/v1/conversations/%d/messages", a.Conversation.ID), a.AgentToken,
		map[string]any{"kind": "attachment", "attachments": []int64{agentAtt}, "body": "here"}), 201, "")
	noteAtt := e.upload("/api/v1/attachments", a.AgentToken, "internal.png", pngBytes)
	wantStatus(t, e.do("POST", fmt.Sprintf("/api/v1/conversations/%d/messages", a.Conversation.ID), a.AgentToken,
		map[string]any{"kind": "note", "attachments": []int64{noteAtt}, "body": "for agents"}), 201, "")
	unsentAtt := e.upload("/api/v1/attachments", a.AgentToken, "draft.png", pngBytes)

	tests := []struct {
		name, method, path, token string
		body                      any
		status                    int
	}{
		{"other's conversation", "GET", fmt.Sprintf("/api/v1/widget/conversations/%d", otherConv.ID), a.VisitorToken, nil, 404},
		{"other's messages", "GET", fmt.Sprintf("/api/v1/widget/conversations/%d/messages", otherConv.ID), a.VisitorToken, nil, 404},
		{"write other's conversation", "POST", fmt.Sprintf("/api/v1/widget/conversations/%d/messages", otherConv.ID), a.VisitorToken, map[string]any{"body": "hi"}, 404},
		{"read other's conversation", "POST", fmt.Sprintf("/api/v1/widget/conversations/%d/read", otherConv.ID), a.VisitorToken, map[string]any{"seq": 1}, 404},
		{"other's upload", "GET", fmt.Sprintf("/api/v1/widget/attachments/%d", otherAtt), a.VisitorToken, nil, 404},
		{"own upload", "GET", fmt.Sprintf("/api/v1/widget/attachments/%d", otherAtt), otherToken, nil, 200},
		{"agent file sent to me", "GET", fmt.Sprintf("/api/v1/widget/attachments/%d", agentAtt), a.VisitorToken, nil, 200},
		{"agent file sent to someone else", "GET", fmt.Sprintf("/api/v1/widget/attachments/%d", agentAtt), otherToken, nil, 404},
		{"agent file in a note", "GET", fmt.Sprintf("/api/v1/widget/attachments/%d", noteAtt), a.VisitorToken, nil, 404},
		{"agent file never sent", "GET", fmt.Sprintf("/api/v1/widget/attachments/%d", unsentAtt), a.VisitorToken, nil, 404},
		{"send someone else's upload", "POST", fmt.Sprintf("/api/v1/widget/conversations/%d/messages", a.Conversation.ID), a.VisitorToken, map[string]any{"kind": "attachment", "attachments": []int64{otherAtt}}, 400},
		{"other workspace visitor", "GET", fmt.Sprintf("/api/v1/widget/attachments/%d", otherAtt), e.b.VisitorToken, nil, 404},
		{"agent sees all", "GET", fmt.Sprintf("/api/v1/attachments/%d", otherAtt), a.AgentToken, nil, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do(tt.method, tt.path, tt.token, tt.body)
			if r.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", r.Code, tt.status, truncate(r.String(), 300))
			}
		})
	}

	// Notes never reach the visitor's message list.
	var page messagePage
	r = e.do("GET", fmt.Sprintf("/api/v1/widget/conversations/%d/messages?after_seq=0", a.Conversation.ID), a.VisitorToken, nil)
	wantStatus(t, r, 200, "")
	r.into(t, &page)
	for _, m := range page.Data {
		if m.Kind == kefu.KindNote {
			t.Fatalf("visitor sees a note: %+v", m)
		}
	}
	if len(page.Data) != 1 {
		t.Fatalf("visitor sees %d messages, want 1", len(page.Data))
	}
}
