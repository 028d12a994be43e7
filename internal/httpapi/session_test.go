package httpapi

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kefu-chat/kefu/internal/kefu"
	"github.com/kefu-chat/kefu/internal/kefutest"
)

func login(e *env, email, password string) *resp {
	return e.do("POST", "/api/v1/auth/login", "", map[string]any{"email": email, "password": password})
}

func TestLoginLogout(t *testing.T) {
	e := newEnv(t, openSQLite(t))
	a := e.a

	r := login(e, strings.ToUpper(a.Agent.Email), kefutest.Password)
	wantStatus(t, r, 200, "")
	var lr loginResponse
	r.into(t, &lr)
	if !strings.HasPrefix(lr.Token, "kfa_") || lr.Agent == nil || lr.Agent.ID != a.Agent.ID || lr.ExpiresAt.Before(time.Now().Add(24*time.Hour)) {
		t.Fatalf("login response %s", r)
	}
	if strings.Contains(r.String(), "password") || strings.Contains(r.String(), "argon2") {
		t.Fatalf("login response leaks the password hash: %s", r)
	}
	wantStatus(t, e.do("GET", "/api/v1/me", lr.Token, nil), 200, "")

	// Same answer for a wrong password and an unknown email.
	wrong := login(e, a.Agent.Email, "not the password")
	unknown := login(e, "nobody@nowhere.test", "not the password")
	wantStatus(t, wrong, 401, "unauthorized")
	wantStatus(t, unknown, 401, "unauthorized")
	if wrong.obj(t)["error"].(map[string]any)["message"] != unknown.obj(t)["error"].(map[string]any)["message"] {
		t.Fatalf("messages differ: %s vs %s", wrong, unknown)
	}
	wantStatus(t, login(e, "", ""), 400, "invalid")

	// Logout revokes exactly this session.
	wantStatus(t, e.do("POST", "/api/v1/auth/logout", lr.Token, nil), 204, "")
	wantStatus(t, e.do("GET", "/api/v1/me", lr.Token, nil), 401, "unauthorized")
	wantStatus(t, e.do("POST", "/api/v1/auth/logout", lr.Token, nil), 401, "unauthorized")
	wantStatus(t, e.do("GET", "/api/v1/me", a.AgentToken, nil), 200, "")
}

func TestDeactivationAndPasswordChangeRevoke(t *testing.T) {
	e := newEnv(t, openSQLite(t))
	a := e.a
	path := fmt.Sprintf("/api/v1/agents/%d", a.Agent.ID)

	// A new password ends every session of the agent; the new one works.
	wantStatus(t, e.do("PATCH", path, a.AdminToken, map[string]any{"password": "a brand new secret"}), 200, "")
	wantStatus(t, e.do("GET", "/api/v1/me", a.AgentToken, nil), 401, "unauthorized")
	wantStatus(t, login(e, a.Agent.Email, kefutest.Password), 401, "unauthorized")
	r := login(e, a.Agent.Email, "a brand new secret")
	wantStatus(t, r, 200, "")
	token := r.obj(t)["token"].(string)
	wantStatus(t, e.do("GET", "/api/v1/me", token, nil), 200, "")

	// Deactivation ends them too, and login stops working; so does an API
	// token minted before.
	r = e.do("POST", "/api/v1/me/tokens", token, nil)
	wantStatus(t, r, 201, "")
	apiToken := r.obj(t)["token"].(string)
	wantStatus(t, e.do("PATCH", path, a.AdminToken, map[string]any{"active": false}), 200, "")
	wantStatus(t, e.do("GET", "/api/v1/me", token, nil), 401, "unauthorized")
	wantStatus(t, e.do("GET", "/api/v1/me", apiToken, nil), 401, "unauthorized")
	wantStatus(t, login(e, a.Agent.Email, "a brand new secret"), 401, "unauthorized")

	// Reactivated, the agent logs in again.
	wantStatus(t, e.do("PATCH", path, a.AdminToken, map[string]any{"active": true}), 200, "")
	wantStatus(t, login(e, a.Agent.Email, "a brand new secret"), 200, "")
}

func TestLastAdmin(t *testing.T) {
	e := newEnv(t, openSQLite(t))
	a := e.a
	self := fmt.Sprintf("/api/v1/agents/%d", a.Admin.ID)
	wantStatus(t, e.do("PATCH", self, a.AdminToken, map[string]any{"role": "agent"}), 409, "conflict")
	wantStatus(t, e.do("PATCH", self, a.AdminToken, map[string]any{"active": false}), 409, "conflict")
	// Promote the agent; now the first admin may step down.
	wantStatus(t, e.do("PATCH", fmt.Sprintf("/api/v1/agents/%d", a.Agent.ID), a.AdminToken, map[string]any{"role": "admin"}), 200, "")
	r := e.do("PATCH", self, a.AdminToken, map[string]any{"role": "agent"})
	wantStatus(t, r, 200, "")
	if r.obj(t)["role"] != "agent" {
		t.Fatalf("role not changed: %s", r)
	}
	// The demoted admin's token now lacks admin rights (roles are read per request).
	wantStatus(t, e.do("POST", "/api/v1/inboxes", a.AdminToken, map[string]any{"name": "x"}), 403, "forbidden")
	wantStatus(t, e.do("PATCH", fmt.Sprintf("/api/v1/agents/%d", a.Agent.ID), a.AgentToken, map[string]any{"active": false}), 409, "conflict")
}

func TestAPITokens(t *testing.T) {
	e := newEnv(t, openSQLite(t))
	a := e.a
	r := e.do("POST", "/api/v1/me/tokens", a.AgentToken, nil)
	wantStatus(t, r, 201, "")
	var tr tokenResponse
	r.into(t, &tr)
	if !strings.HasPrefix(tr.Token, "kfp_") || tr.Kind != kefu.SessionAPI || !isTokenID(tr.ID) || tr.ExpiresAt.Before(time.Now().AddDate(1, 0, 0)) {
		t.Fatalf("token response %s", r)
	}
	wantStatus(t, e.do("GET", "/api/v1/me", tr.Token, nil), 200, "")
	wantStatus(t, e.do("POST", "/api/v1/me/tokens", a.AgentToken, jsonRaw(`{"scope":"all"}`)), 400, "bad_json")

	// Nobody else can revoke it: not another agent, not an admin, not
	// another workspace; a malformed id is invalid.
	for _, tok := range []string{a.AdminToken, e.b.AdminToken} {
		wantStatus(t, e.do("DELETE", "/api/v1/me/tokens/"+tr.ID, tok, nil), 404, "not_found")
	}
	wantStatus(t, e.do("DELETE", "/api/v1/me/tokens/"+tr.ID, a.VisitorToken, nil), 403, "forbidden")
	wantStatus(t, e.do("DELETE", "/api/v1/me/tokens/42", a.AgentToken, nil), 400, "invalid")
	wantStatus(t, e.do("DELETE", "/api/v1/me/tokens/"+strings.Repeat("0", 64), a.AgentToken, nil), 404, "not_found")
	wantStatus(t, e.do("GET", "/api/v1/me", tr.Token, nil), 200, "")

	wantStatus(t, e.do("DELETE", "/api/v1/me/tokens/"+tr.ID, a.AgentToken, nil), 204, "")
	wantStatus(t, e.do("GET", "/api/v1/me", tr.Token, nil), 401, "unauthorized")
	wantStatus(t, e.do("GET", "/api/v1/me", a.AgentToken, nil), 200, "")
}

func TestLoginRateLimit(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)}
	e := newEnv(t, openSQLite(t), func(o *Options) {
		o.Now = clock.Now
		o.Limits.LoginPerIP = Rate{PerMinute: 60, Burst: 4}
		o.Limits.LoginPerEmail = Rate{PerMinute: 1, Burst: 2}
	})
	email := e.a.Agent.Email
	// Failures for one email: two allowed, then 429 even with the right
	// password, from any address.
	wantStatus(t, e.do("POST", "/api/v1/auth/login", "", map[string]any{"email": email, "password": "wrong"}, "X-Forwarded-For", "1.1.1.1"), 401, "")
	wantStatus(t, login(e, email, "wrong"), 401, "")
	r := login(e, email, kefutest.Password)
	wantStatus(t, r, 429, "rate_limited")
	if r.Header.Get("Retry-After") == "" {
		t.Fatal("429 without Retry-After")
	}
	// The per-address limit: one more attempt from this address, then 429
	// whichever email.
	wantStatus(t, login(e, e.b.Agent.Email, kefutest.Password), 200, "")
	wantStatus(t, login(e, e.b.Agent.Email, kefutest.Password), 429, "rate_limited")
	// Time heals.
	clock.Advance(2 * time.Minute)
	wantStatus(t, login(e, email, kefutest.Password), 200, "")
}

// fakeClock is a settable clock for rate limits.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func TestUnknownAndAllowedMethods(t *testing.T) {
	e := newEnv(t, openSQLite(t))
	r := e.do("DELETE", "/api/v1/conversations", e.a.AgentToken, nil)
	wantStatus(t, r, http.StatusMethodNotAllowed, "method_not_allowed")
	if got := r.Header.Get("Allow"); got != "GET" {
		t.Fatalf("Allow = %q", got)
	}
	r = e.do("PUT", fmt.Sprintf("/api/v1/agents/%d", e.a.Agent.ID), e.a.AgentToken, nil)
	if got := r.Header.Get("Allow"); got != "GET, PATCH" {
		t.Fatalf("Allow = %q", got)
	}
	wantStatus(t, e.do("GET", "/api/v2/conversations", e.a.AgentToken, nil), 404, "not_found")
	// HEAD works wherever GET does.
	wantStatus(t, e.do("HEAD", "/healthz", "", nil), 200, "")
}
