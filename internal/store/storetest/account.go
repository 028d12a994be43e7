package storetest

import (
	"reflect"
	"testing"
	"time"

	"github.com/kefu-chat/kefu/internal/kefu"
)

func testWorkspace(t *testing.T, s kefu.Store) {
	ctx := t.Context()
	if n, err := s.CountWorkspaces(ctx); err != nil || n != 0 {
		t.Fatalf("CountWorkspaces on a fresh store: got %d, %v; want 0, nil", n, err)
	}
	w := &kefu.Workspace{Name: "Acme 客服", CreatedAt: kefu.Now()}
	if err := s.CreateWorkspace(ctx, w); err != nil {
		t.Fatalf("CreateWorkspace: %v", err)
	}
	if w.ID == 0 {
		t.Fatalf("CreateWorkspace did not set ID")
	}
	got, err := s.GetWorkspace(ctx, w.ID)
	if err != nil {
		t.Fatalf("GetWorkspace: %v", err)
	}
	check(t, "GetWorkspace", got, w)

	w2 := &kefu.Workspace{Name: "Other", CreatedAt: kefu.Now()}
	if err := s.CreateWorkspace(ctx, w2); err != nil {
		t.Fatalf("CreateWorkspace: %v", err)
	}
	if w2.ID == w.ID {
		t.Errorf("two workspaces got the same ID %d", w.ID)
	}
	if n, err := s.CountWorkspaces(ctx); err != nil || n != 2 {
		t.Errorf("CountWorkspaces: got %d, %v; want 2, nil", n, err)
	}
	_, err = s.GetWorkspace(ctx, w2.ID+1000)
	wantCode(t, "GetWorkspace(missing)", err, kefu.ENotFound)
}

func testAgent(t *testing.T, s kefu.Store) {
	f := newFixture(t, s)
	ctx := f.ctx
	ws, other := f.workspace(), f.workspace()
	now := kefu.Now()
	a := &kefu.Agent{
		WorkspaceID: ws.ID, Email: "Li.Wei@Example.com", Name: "李伟", Role: kefu.RoleAdmin,
		PasswordHash: "$argon2id$v=19$...", MaxConcurrent: 5, Active: true, CreatedAt: now, UpdatedAt: now,
	}
	if err := s.CreateAgent(ctx, a); err != nil {
		t.Fatalf("CreateAgent: %v", err)
	}
	if a.ID == 0 {
		t.Fatalf("CreateAgent did not set ID")
	}
	got, err := s.GetAgent(ctx, ws.ID, a.ID)
	if err != nil {
		t.Fatalf("GetAgent: %v", err)
	}
	check(t, "GetAgent", got, a)

	t.Run("GetAgentByEmailIgnoresCase", func(t *testing.T) {
		// The stored email keeps the case it was written with.
		for _, email := range []string{"Li.Wei@Example.com", "li.wei@example.com", "LI.WEI@EXAMPLE.COM"} {
			got, err := s.GetAgentByEmail(ctx, email)
			if err != nil {
				t.Errorf("GetAgentByEmail(%q): %v", email, err)
				continue
			}
			check(t, "GetAgentByEmail("+email+")", got, a)
		}
		_, err := s.GetAgentByEmail(ctx, "nobody@example.com")
		wantCode(t, "GetAgentByEmail(unknown)", err, kefu.ENotFound)
	})

	t.Run("EmailUniqueIgnoringCase", func(t *testing.T) {
		// The email is the login name, so it is unique across the whole
		// installation, not only within a workspace.
		for _, tc := range []struct {
			name  string
			ws    int64
			email string
		}{
			{"same", ws.ID, "Li.Wei@Example.com"},
			{"lower", ws.ID, "li.wei@example.com"},
			{"upper", ws.ID, "LI.WEI@EXAMPLE.COM"},
			{"other workspace", other.ID, "li.wei@example.com"},
		} {
			dup := &kefu.Agent{WorkspaceID: tc.ws, Email: tc.email, Name: "x", Role: kefu.RoleAgent,
				PasswordHash: "h", Active: true, CreatedAt: now, UpdatedAt: now}
			wantCode(t, "CreateAgent("+tc.name+")", s.CreateAgent(ctx, dup), kefu.EConflict)
		}
	})

	b := f.admin(ws.ID) // so that a may step down in Update
	c := f.agent(other.ID)

	t.Run("List", func(t *testing.T) {
		list, err := s.ListAgents(ctx, ws.ID)
		if err != nil {
			t.Fatalf("ListAgents: %v", err)
		}
		check(t, "ListAgents", sortedByID(list, agentID), []*kefu.Agent{a, b})
		list, err = s.ListAgents(ctx, other.ID)
		if err != nil {
			t.Fatalf("ListAgents: %v", err)
		}
		check(t, "ListAgents(other)", list, []*kefu.Agent{c})
	})

	t.Run("Update", func(t *testing.T) {
		before := a.UpdatedAt
		upd := *a
		upd.Email = "wei.li@example.com"
		upd.Name = "Wei Li"
		upd.Role = kefu.RoleAgent
		upd.PasswordHash = "new-hash"
		upd.MaxConcurrent = 0
		upd.Active = false
		if err := s.UpdateAgent(ctx, &upd); err != nil {
			t.Fatalf("UpdateAgent: %v", err)
		}
		if upd.UpdatedAt.Before(before) {
			t.Errorf("UpdatedAt went back: %v, was %v", upd.UpdatedAt, before)
		}
		got, err := s.GetAgent(ctx, ws.ID, a.ID)
		if err != nil {
			t.Fatalf("GetAgent: %v", err)
		}
		// What Get returns is what was written, including any UpdatedAt the
		// store set on the struct.
		check(t, "GetAgent after UpdateAgent", got, &upd)
		if _, err := s.GetAgentByEmail(ctx, "li.wei@example.com"); kefu.ErrorCode(err) != kefu.ENotFound {
			t.Errorf("the old email still finds the agent (err %v)", err)
		}
		*a = upd

		taken := upd
		taken.Email = "AGENT" + b.Email[len("agent"):]
		wantCode(t, "UpdateAgent(taken email)", s.UpdateAgent(ctx, &taken), kefu.EConflict)
		got, err = s.GetAgent(ctx, ws.ID, a.ID)
		if err != nil {
			t.Fatalf("GetAgent: %v", err)
		}
		check(t, "agent after a refused update", got, a)

		missing := upd
		missing.ID = c.ID + 1000
		wantCode(t, "UpdateAgent(missing)", s.UpdateAgent(ctx, &missing), kefu.ENotFound)
	})

	_, err = s.GetAgent(ctx, ws.ID, c.ID+1000)
	wantCode(t, "GetAgent(missing)", err, kefu.ENotFound)
}

func agentID(a *kefu.Agent) int64 { return a.ID }
func inboxID(i *kefu.Inbox) int64 { return i.ID }

func testInbox(t *testing.T, s kefu.Store) {
	f := newFixture(t, s)
	ctx := f.ctx
	ws, other := f.workspace(), f.workspace()
	now := kefu.Now()
	in := &kefu.Inbox{
		WorkspaceID: ws.ID, Name: "Website", Channel: kefu.ChannelWeb, PublicToken: "pub-abc",
		Secret: "s3cret", AllowedOrigins: []string{"https://shop.example", "https://www.shop.example"},
		Greeting: "你好！有什么可以帮您？", Color: "#0a7cff", CreatedAt: now, UpdatedAt: now,
	}
	if err := s.CreateInbox(ctx, in); err != nil {
		t.Fatalf("CreateInbox: %v", err)
	}
	if in.ID == 0 {
		t.Fatalf("CreateInbox did not set ID")
	}
	got, err := s.GetInbox(ctx, ws.ID, in.ID)
	if err != nil {
		t.Fatalf("GetInbox: %v", err)
	}
	check(t, "GetInbox", got, in)

	got, err = s.GetInboxByToken(ctx, "pub-abc")
	if err != nil {
		t.Fatalf("GetInboxByToken: %v", err)
	}
	check(t, "GetInboxByToken", got, in)
	_, err = s.GetInboxByToken(ctx, "pub-unknown")
	wantCode(t, "GetInboxByToken(unknown)", err, kefu.ENotFound)
	_, err = s.GetInbox(ctx, ws.ID, in.ID+1000)
	wantCode(t, "GetInbox(missing)", err, kefu.ENotFound)

	t.Run("NilOriginsComeBackEmpty", func(t *testing.T) {
		in2 := &kefu.Inbox{WorkspaceID: ws.ID, Name: "Open", Channel: kefu.ChannelWeb, PublicToken: "pub-open",
			Secret: "s", CreatedAt: now, UpdatedAt: now}
		if err := s.CreateInbox(ctx, in2); err != nil {
			t.Fatalf("CreateInbox: %v", err)
		}
		got, err := s.GetInbox(ctx, ws.ID, in2.ID)
		if err != nil {
			t.Fatalf("GetInbox: %v", err)
		}
		if got.AllowedOrigins == nil || len(got.AllowedOrigins) != 0 {
			t.Errorf("AllowedOrigins: got %#v, want []string{}", got.AllowedOrigins)
		}
	})

	t.Run("TokenUnique", func(t *testing.T) {
		for _, w := range []int64{ws.ID, other.ID} {
			dup := &kefu.Inbox{WorkspaceID: w, Name: "dup", Channel: kefu.ChannelWeb, PublicToken: "pub-abc",
				Secret: "s", CreatedAt: now, UpdatedAt: now}
			wantCode(t, "CreateInbox(taken token)", s.CreateInbox(ctx, dup), kefu.EConflict)
		}
	})

	b := f.inbox(ws.ID)
	c := f.inbox(other.ID)

	t.Run("List", func(t *testing.T) {
		list, err := s.ListInboxes(ctx, other.ID)
		if err != nil {
			t.Fatalf("ListInboxes: %v", err)
		}
		check(t, "ListInboxes(other)", list, []*kefu.Inbox{c})
		list, err = s.ListInboxes(ctx, ws.ID)
		if err != nil {
			t.Fatalf("ListInboxes: %v", err)
		}
		if len(list) != 3 {
			t.Fatalf("ListInboxes: got %d inboxes, want 3", len(list))
		}
		list = sortedByID(list, inboxID)
		check(t, "ListInboxes[0]", list[0], in)
		check(t, "ListInboxes[2]", list[2], b)
	})

	t.Run("Update", func(t *testing.T) {
		upd := *in
		upd.Name = "Website (new)"
		upd.AllowedOrigins = []string{"https://new.example"}
		upd.Greeting = "Hi"
		upd.Color = "#000000"
		upd.Secret = "rotated"
		if err := s.UpdateInbox(ctx, &upd); err != nil {
			t.Fatalf("UpdateInbox: %v", err)
		}
		got, err := s.GetInbox(ctx, ws.ID, in.ID)
		if err != nil {
			t.Fatalf("GetInbox: %v", err)
		}
		check(t, "GetInbox after UpdateInbox", got, &upd)
		*in = upd

		taken := upd
		taken.PublicToken = b.PublicToken
		wantCode(t, "UpdateInbox(taken token)", s.UpdateInbox(ctx, &taken), kefu.EConflict)
		got, err = s.GetInbox(ctx, ws.ID, in.ID)
		if err != nil {
			t.Fatalf("GetInbox: %v", err)
		}
		check(t, "inbox after a refused update", got, in)

		missing := upd
		missing.ID = c.ID + 1000
		wantCode(t, "UpdateInbox(missing)", s.UpdateInbox(ctx, &missing), kefu.ENotFound)
	})
}

func testAttachment(t *testing.T, s kefu.Store) {
	f := newFixture(t, s)
	tn := f.tenant()
	a := &kefu.Attachment{
		WorkspaceID: tn.ws.ID, UploaderType: kefu.SenderContact, UploaderID: tn.contact.ID,
		FileName: "发票.pdf", ContentType: "application/pdf", Size: 123456,
		SHA256:     "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
		StorageKey: "2026/11/23/9f86d081.pdf", CreatedAt: kefu.Now(),
	}
	if err := s.CreateAttachment(f.ctx, a); err != nil {
		t.Fatalf("CreateAttachment: %v", err)
	}
	if a.ID == 0 {
		t.Fatalf("CreateAttachment did not set ID")
	}
	got, err := s.GetAttachment(f.ctx, tn.ws.ID, a.ID)
	if err != nil {
		t.Fatalf("GetAttachment: %v", err)
	}
	check(t, "GetAttachment", got, a)
	_, err = s.GetAttachment(f.ctx, tn.ws.ID, a.ID+1000)
	wantCode(t, "GetAttachment(missing)", err, kefu.ENotFound)
}

func testSession(t *testing.T, s kefu.Store) {
	f := newFixture(t, s)
	ctx := f.ctx
	tn := f.tenant()
	other := f.agent(tn.ws.ID)
	now := kefu.Now()
	newSession := func(kind kefu.SessionKind, agent, contact, inbox int64, hash string) *kefu.Session {
		t.Helper()
		se := &kefu.Session{WorkspaceID: tn.ws.ID, Kind: kind, AgentID: agent, ContactID: contact,
			InboxID: inbox, TokenHash: hash, CreatedAt: now, ExpiresAt: now.Add(24 * time.Hour)}
		if err := s.CreateSession(ctx, se); err != nil {
			t.Fatalf("CreateSession(%s): %v", hash, err)
		}
		if se.ID == 0 {
			t.Fatalf("CreateSession did not set ID")
		}
		return se
	}
	agentSess := newSession(kefu.SessionAgent, tn.agent.ID, 0, 0, "hash-agent-1")
	apiSess := newSession(kefu.SessionAPI, tn.agent.ID, 0, 0, "hash-agent-2")
	visitorSess := newSession(kefu.SessionVisitor, 0, tn.contact.ID, tn.inbox.ID, "hash-visitor")
	otherSess := newSession(kefu.SessionAgent, other.ID, 0, 0, "hash-other")

	get := func(hash string) *kefu.Session {
		t.Helper()
		se, err := s.GetSessionByTokenHash(ctx, hash)
		if err != nil {
			t.Fatalf("GetSessionByTokenHash(%s): %v", hash, err)
		}
		return se
	}
	for _, se := range []*kefu.Session{agentSess, apiSess, visitorSess, otherSess} {
		got := get(se.TokenHash)
		check(t, "GetSessionByTokenHash("+se.TokenHash+")", got, se)
		if !got.Usable(now) {
			t.Errorf("fresh session %s is not usable", se.TokenHash)
		}
	}
	_, err := s.GetSessionByTokenHash(ctx, "hash-unknown")
	wantCode(t, "GetSessionByTokenHash(unknown)", err, kefu.ENotFound)
	dup := &kefu.Session{WorkspaceID: tn.ws.ID, Kind: kefu.SessionAgent, AgentID: tn.agent.ID,
		TokenHash: "hash-agent-1", CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
	wantCode(t, "CreateSession(taken hash)", s.CreateSession(ctx, dup), kefu.EConflict)

	t.Run("Revoke", func(t *testing.T) {
		before := kefu.Now()
		if err := s.RevokeSession(ctx, tn.ws.ID, visitorSess.ID); err != nil {
			t.Fatalf("RevokeSession: %v", err)
		}
		after := kefu.Now()
		// A revoked session is still found, so the caller can tell
		// "revoked" from "never existed"; Usable says no.
		got := get(visitorSess.TokenHash)
		if got.RevokedAt == nil {
			t.Fatalf("RevokedAt is nil after RevokeSession")
		}
		if got.RevokedAt.Before(before) || got.RevokedAt.After(after) || got.RevokedAt.Location() != time.UTC {
			t.Errorf("RevokedAt = %s, want a UTC time within [%s, %s]", show(reflect.ValueOf(*got.RevokedAt)), before, after)
		}
		if got.Usable(after) {
			t.Errorf("revoked session is still usable")
		}
		want := *visitorSess
		want.RevokedAt = got.RevokedAt
		check(t, "revoked session", got, &want)
		check(t, "untouched session", get(agentSess.TokenHash), agentSess)
		wantCode(t, "RevokeSession(missing)", s.RevokeSession(ctx, tn.ws.ID, otherSess.ID+1000), kefu.ENotFound)
	})

	t.Run("RevokeAgentSessions", func(t *testing.T) {
		if err := s.RevokeAgentSessions(ctx, tn.ws.ID, tn.agent.ID); err != nil {
			t.Fatalf("RevokeAgentSessions: %v", err)
		}
		for _, se := range []*kefu.Session{agentSess, apiSess} {
			if got := get(se.TokenHash); got.RevokedAt == nil || got.Usable(kefu.Now()) {
				t.Errorf("session %s of the agent is still usable after RevokeAgentSessions", se.TokenHash)
			}
		}
		check(t, "another agent's session", get(otherSess.TokenHash), otherSess)
	})
}
