package kefutest

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/kefu-chat/kefu/internal/auth"
	"github.com/kefu-chat/kefu/internal/kefu"
)

// Password is the password of every agent Fixture creates.
const Password = "correct horse battery staple"

// passwordHash is computed once per test binary: argon2id is deliberately
// slow, and tests create many agents.
var passwordHash = sync.OnceValue(func() string {
	h, err := auth.HashPassword(Password)
	if err != nil {
		panic(err)
	}
	return h
})

// Fixture is a populated workspace: an admin, an agent, a web inbox, a
// contact with an open conversation, and a live token for each actor.
type Fixture struct {
	Workspace    *kefu.Workspace
	Admin        *kefu.Agent
	Agent        *kefu.Agent
	Inbox        *kefu.Inbox // Inbox.Secret is set, for identifier hashes
	Contact      *kefu.Contact
	Conversation *kefu.Conversation

	AdminToken   string
	AgentToken   string
	VisitorToken string // the contact's, through Inbox
}

// NewFixture creates a workspace named name in store, with agents whose
// emails are unique across the installation (name plus a random tag).
func NewFixture(tb testing.TB, store kefu.Store, authn *auth.Authenticator, name string) *Fixture {
	tb.Helper()
	ctx := context.Background()
	must := func(err error) {
		tb.Helper()
		if err != nil {
			tb.Fatalf("fixture %s: %v", name, err)
		}
	}
	tag := strings.ToLower(auth.RandomString(6))
	tag = strings.NewReplacer("-", "x", "_", "y").Replace(tag)
	now := kefu.Now()
	f := &Fixture{Workspace: &kefu.Workspace{Name: name, CreatedAt: now}}
	must(store.CreateWorkspace(ctx, f.Workspace))
	ws := f.Workspace.ID

	f.Admin = &kefu.Agent{WorkspaceID: ws, Email: "admin-" + tag + "@" + slug(name) + ".test", Name: name + " Admin",
		Role: kefu.RoleAdmin, PasswordHash: passwordHash(), Active: true, CreatedAt: now, UpdatedAt: now}
	must(store.CreateAgent(ctx, f.Admin))
	f.Agent = &kefu.Agent{WorkspaceID: ws, Email: "agent-" + tag + "@" + slug(name) + ".test", Name: name + " Agent",
		Role: kefu.RoleAgent, PasswordHash: passwordHash(), Active: true, CreatedAt: now, UpdatedAt: now}
	must(store.CreateAgent(ctx, f.Agent))

	f.Inbox = &kefu.Inbox{WorkspaceID: ws, Name: name + " Website", Channel: kefu.ChannelWeb,
		PublicToken: auth.RandomString(18), Secret: auth.RandomString(32), AllowedOrigins: []string{},
		Greeting: "Hi!", Color: "#3366ff", CreatedAt: now, UpdatedAt: now}
	must(store.CreateInbox(ctx, f.Inbox))

	f.Contact = &kefu.Contact{WorkspaceID: ws, VisitorID: auth.RandomString(18), Name: name + " Visitor",
		Attributes: map[string]any{}, FirstSeenAt: now, LastSeenAt: now, CreatedAt: now, UpdatedAt: now}
	must(store.CreateContact(ctx, f.Contact))

	f.Conversation = &kefu.Conversation{WorkspaceID: ws, InboxID: f.Inbox.ID, ContactID: f.Contact.ID,
		Status: kefu.StatusOpen, Priority: kefu.PriorityNone, Labels: []string{},
		CreatedAt: now, UpdatedAt: now, LastActivityAt: now}
	must(store.CreateConversation(ctx, f.Conversation))

	var err error
	f.AdminToken, _, err = authn.Issue(ctx, kefu.SessionAgent, f.AdminActor(), auth.AgentSessionTTL)
	must(err)
	f.AgentToken, _, err = authn.Issue(ctx, kefu.SessionAgent, f.AgentActor(), auth.AgentSessionTTL)
	must(err)
	f.VisitorToken, _, err = authn.Issue(ctx, kefu.SessionVisitor, f.VisitorActor(), auth.VisitorSessionTTL)
	must(err)
	return f
}

func (f *Fixture) AdminActor() kefu.Actor {
	return kefu.Actor{WorkspaceID: f.Workspace.ID, Type: kefu.SenderAgent, ID: f.Admin.ID, Role: kefu.RoleAdmin}
}

func (f *Fixture) AgentActor() kefu.Actor {
	return kefu.Actor{WorkspaceID: f.Workspace.ID, Type: kefu.SenderAgent, ID: f.Agent.ID, Role: kefu.RoleAgent}
}

func (f *Fixture) VisitorActor() kefu.Actor {
	return kefu.Actor{WorkspaceID: f.Workspace.ID, Type: kefu.SenderContact, ID: f.Contact.ID, InboxID: f.Inbox.ID}
}

func slug(s string) string {
	s = strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			return r
		}
		if r >= 'A' && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return '-'
	}, s)
	if s = strings.Trim(s, "-"); s == "" {
		return "example"
	}
	return s
}
