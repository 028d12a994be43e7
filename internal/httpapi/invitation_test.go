package httpapi

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kefu-chat/kefu/internal/kefu"
)

// invite creates an invitation as admin (token) and returns the response.
func invite(e *env, token string, body map[string]any) (*resp, invitationCreated) {
	e.tb.Helper()
	r := e.do("POST", "/api/v1/invitations", token, body)
	var out invitationCreated
	if r.Code == http.StatusCreated {
		r.into(e.tb, &out)
	}
	return r, out
}

func accept(e *env, token, name, password string) *resp {
	return e.do("POST", "/api/v1/invitations/accept", "", map[string]any{"token": token, "name": name, "password": password})
}

func pendingEmails(t *testing.T, e *env, token string) []string {
	t.Helper()
	r := e.do("GET", "/api/v1/invitations", token, nil)
	wantStatus(t, r, 200, "")
	var l struct{ Data []kefu.Invitation }
	r.into(t, &l)
	out := []string{}
	for _, inv := range l.Data {
		out = append(out, inv.Email)
	}
	return out
}

func TestInvitationFlow(t *testing.T) {
	for name, open := range map[string]func(testing.TB) kefu.Store{"sqlite": openSQLite, "postgres": openPostgres} {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, open(t))
			a := e.a
			r, created := invite(e, a.AdminToken, map[string]any{"email": " New.Hire@Example.com ", "role": "agent", "name": "New Hire", "max_concurrent": 4})
			wantStatus(t, r, 201, "")
			inv := created.Invitation
			if inv == nil || inv.Email != "new.hire@example.com" || inv.Role != kefu.RoleAgent || inv.CreatedBy != a.Admin.ID || inv.WorkspaceID != a.Workspace.ID {
				t.Fatalf("created %s", r)
			}
			if d := inv.ExpiresAt.Sub(inv.CreatedAt); d != 7*24*time.Hour {
				t.Errorf("expires after %v, want 7 days", d)
			}
			if !strings.HasPrefix(created.Token, "kfi_") || created.URL != "http://example.com/app/invite#token="+created.Token {
				t.Fatalf("token %q url %q", created.Token, created.URL)
			}
			// The list never carries the token.
			list := e.do("GET", "/api/v1/invitations", a.AdminToken, nil)
			if strings.Contains(list.String(), created.Token) || strings.Contains(list.String(), "token") {
				t.Fatalf("list leaks the token: %s", list)
			}
			if got := pendingEmails(t, e, a.AdminToken); len(got) != 1 || got[0] != inv.Email {
				t.Fatalf("pending %v", got)
			}

			// The invitee looks, then accepts.
			r = e.do("POST", "/api/v1/invitations/lookup", "", map[string]any{"token": created.Token})
			wantStatus(t, r, 200, "")
			var pv invitationPreview
			r.into(t, &pv)
			if pv.Email != inv.Email || pv.WorkspaceName != a.Workspace.Name || pv.Name != "New Hire" || pv.Role != kefu.RoleAgent {
				t.Fatalf("preview %s", r)
			}
			r = accept(e, created.Token, "", "a good password")
			wantStatus(t, r, 201, "")
			var lr loginResponse
			r.into(t, &lr)
			if !strings.HasPrefix(lr.Token, "kfa_") || lr.Agent.Email != inv.Email || lr.Agent.Name != "New Hire" || lr.Agent.MaxConcurrent != 4 ||
				lr.Agent.WorkspaceID != a.Workspace.ID || !lr.Agent.Active {
				t.Fatalf("accept %s", r)
			}
			me := e.do("GET", "/api/v1/me", lr.Token, nil)
			wantStatus(t, me, 200, "")
			// The password works for a later login; the link does not work twice.
			wantStatus(t, login(e, inv.Email, "a good password"), 200, "")
			wantStatus(t, accept(e, created.Token, "Again", "a good password"), 410, kefu.EGone)
			wantStatus(t, e.do("POST", "/api/v1/invitations/lookup", "", map[string]any{"token": created.Token}), 410, kefu.EGone)
			if got := pendingEmails(t, e, a.AdminToken); len(got) != 0 {
				t.Fatalf("pending after accept %v", got)
			}
			// Now an agent: inviting the email again is a conflict, and so
			// is revoking the accepted invitation.
			r, _ = invite(e, a.AdminToken, map[string]any{"email": inv.Email})
			wantStatus(t, r, 409, kefu.EConflict)
			wantStatus(t, e.do("DELETE", fmt.Sprintf("/api/v1/invitations/%d", inv.ID), a.AdminToken, nil), 409, kefu.EConflict)
		})
	}
}

func TestInvitationAccess(t *testing.T) {
	e := newEnv(t, openSQLite(t))
	a, b := e.a, e.b
	r, created := invite(e, a.AdminToken, map[string]any{"email": "x@example.com"})
	wantStatus(t, r, 201, "")
	id := created.Invitation.ID
	del := fmt.Sprintf("/api/v1/invitations/%d", id)

	// Agents and visitors are refused; nothing is needed to accept.
	wantStatus(t, e.do("GET", "/api/v1/invitations", a.AgentToken, nil), 403, kefu.EForbidden)
	wantStatus(t, e.do("POST", "/api/v1/invitations", a.AgentToken, map[string]any{"email": "y@example.com"}), 403, kefu.EForbidden)
	wantStatus(t, e.do("DELETE", del, a.AgentToken, nil), 403, kefu.EForbidden)
	wantStatus(t, e.do("GET", "/api/v1/invitations", a.VisitorToken, nil), 403, kefu.EForbidden)
	wantStatus(t, e.do("GET", "/api/v1/invitations", "", nil), 401, kefu.EUnauthorized)

	// Another workspace's admin neither sees nor revokes it.
	if got := pendingEmails(t, e, b.AdminToken); len(got) != 0 {
		t.Fatalf("B sees %v", got)
	}
	wantStatus(t, e.do("DELETE", del, b.AdminToken, nil), 404, kefu.ENotFound)
	if got := pendingEmails(t, e, a.AdminToken); len(got) != 1 {
		t.Fatalf("A's invitation gone after B's attempt: %v", got)
	}
	// Revoke: the link stops working, revoking again is fine.
	wantStatus(t, e.do("DELETE", del, a.AdminToken, nil), 204, "")
	wantStatus(t, e.do("DELETE", del, a.AdminToken, nil), 204, "")
	r = accept(e, created.Token, "X", "a good password")
	wantStatus(t, r, 410, kefu.EGone)
	if !strings.Contains(r.String(), "revoked") {
		t.Errorf("revoked link: %s", r)
	}
	wantStatus(t, e.do("DELETE", "/api/v1/invitations/999999", a.AdminToken, nil), 404, kefu.ENotFound)
	wantStatus(t, e.do("DELETE", "/api/v1/invitations/abc", a.AdminToken, nil), 400, kefu.EInvalid)
}

func TestInvitationValidation(t *testing.T) {
	e := newEnv(t, openSQLite(t))
	a := e.a
	for _, body := range []map[string]any{
		{"email": "not-an-email"},
		{"email": ""},
		{"email": "v@example.com", "role": "owner"},
		{"email": "v@example.com", "max_concurrent": -1},
		{"email": "v@example.com", "expires_in_hours": 0.5},
		{"email": "v@example.com", "expires_in_hours": 721},
		{"email": "v@example.com", "name": "   "},
	} {
		r, _ := invite(e, a.AdminToken, body)
		if r.Code != 400 {
			t.Errorf("%v: %d %s, want 400", body, r.Code, r)
		}
	}
	wantStatus(t, e.do("POST", "/api/v1/invitations", a.AdminToken, map[string]any{"email": "v@example.com", "token": "mine"}), 400, "")
	// An existing agent (of any workspace) or a pending invitation: 409.
	r, _ := invite(e, a.AdminToken, map[string]any{"email": strings.ToUpper(e.b.Agent.Email)})
	wantStatus(t, r, 409, kefu.EConflict)
	r, created := invite(e, a.AdminToken, map[string]any{"email": "v@example.com", "expires_in_hours": 1})
	wantStatus(t, r, 201, "")
	r, _ = invite(e, a.AdminToken, map[string]any{"email": "V@example.com"})
	wantStatus(t, r, 409, kefu.EConflict)

	// Accepting: password rules as for agents, a name from somewhere.
	wantStatus(t, accept(e, created.Token, "V", "short"), 400, kefu.EInvalid)
	wantStatus(t, accept(e, created.Token, "", "a good password"), 400, kefu.EInvalid)
	wantStatus(t, accept(e, "", "V", "a good password"), 400, kefu.EInvalid)
	wantStatus(t, accept(e, "kfi_nonsense", "V", "a good password"), 404, kefu.ENotFound)
	wantStatus(t, accept(e, "kfa_"+strings.TrimPrefix(created.Token, "kfi_"), "V", "a good password"), 404, kefu.ENotFound)
	wantStatus(t, e.do("POST", "/api/v1/invitations/lookup", "", map[string]any{"token": "kfi_nonsense"}), 404, kefu.ENotFound)
	// Nothing above used the link up.
	wantStatus(t, accept(e, created.Token, "V", "a good password"), 201, "")
}

func TestInvitationExpiry(t *testing.T) {
	clock := &fakeClock{t: time.Now().UTC()}
	e := newEnv(t, openSQLite(t), func(o *Options) { o.Now = clock.Now; o.PublicURL = "https://kefu.example/" })
	r, created := invite(e, e.a.AdminToken, map[string]any{"email": "late@example.com"})
	wantStatus(t, r, 201, "")
	if created.URL != "https://kefu.example/app/invite#token="+created.Token {
		t.Errorf("url %q", created.URL)
	}
	clock.Advance(7*24*time.Hour - time.Second)
	wantStatus(t, e.do("POST", "/api/v1/invitations/lookup", "", map[string]any{"token": created.Token}), 200, "")
	clock.Advance(time.Second)
	r = accept(e, created.Token, "Late", "a good password")
	wantStatus(t, r, 410, kefu.EGone)
	if !strings.Contains(r.String(), "expired") {
		t.Errorf("expired link: %s", r)
	}
	if got := pendingEmails(t, e, e.a.AdminToken); len(got) != 0 {
		t.Fatalf("expired invitation still pending: %v", got)
	}
	wantStatus(t, login(e, "late@example.com", "a good password"), 401, kefu.EUnauthorized)
	// The email is free again.
	r, _ = invite(e, e.a.AdminToken, map[string]any{"email": "late@example.com"})
	wantStatus(t, r, 201, "")
}

// TestInvitationConcurrentAccept: many accepts of one link at once through
// the API make one agent and one session; the others get 410.
func TestInvitationConcurrentAccept(t *testing.T) {
	for name, open := range map[string]func(testing.TB) kefu.Store{"sqlite": openSQLite, "postgres": openPostgres} {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, open(t))
			r, created := invite(e, e.a.AdminToken, map[string]any{"email": "race@example.com", "name": "Racer"})
			wantStatus(t, r, 201, "")
			const n = 4
			codes := make([]int, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					codes[i] = accept(e.with(t), created.Token, fmt.Sprintf("Racer %d", i), "a good password").Code
				}()
			}
			wg.Wait()
			won := 0
			for _, c := range codes {
				switch c {
				case 201:
					won++
				case 410:
				default:
					t.Errorf("status %d, want 201 or 410", c)
				}
			}
			if won != 1 {
				t.Fatalf("codes %v: %d accepts won, want 1", codes, won)
			}
			agents, err := e.store.ListAgents(t.Context(), e.a.Workspace.ID)
			if err != nil {
				t.Fatal(err)
			}
			n2 := 0
			for _, ag := range agents {
				if ag.Email == "race@example.com" {
					n2++
				}
			}
			if n2 != 1 {
				t.Fatalf("%d agents with the invited email", n2)
			}
		})
	}
}

func TestInvitationRateLimit(t *testing.T) {
	clock := &fakeClock{t: time.Now().UTC()}
	e := newEnv(t, openSQLite(t), func(o *Options) {
		o.Now = clock.Now
		o.Limits.LoginPerIP = Rate{PerMinute: 60, Burst: 3}
	})
	look := func() *resp {
		return e.do("POST", "/api/v1/invitations/lookup", "", map[string]any{"token": "kfi_guess"})
	}
	wantStatus(t, look(), 404, "")
	wantStatus(t, accept(e, "kfi_guess", "G", "a good password"), 404, "")
	wantStatus(t, look(), 404, "")
	r := look()
	wantStatus(t, r, 429, kefu.ERateLimited)
	if r.Header.Get("Retry-After") == "" {
		t.Fatal("429 without Retry-After")
	}
	// Login shares the allowance.
	wantStatus(t, login(e, e.a.Agent.Email, "whatever"), 429, kefu.ERateLimited)
	clock.Advance(time.Minute)
	wantStatus(t, look(), 404, "")
}
