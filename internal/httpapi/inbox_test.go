package httpapi

import (
	"fmt"
	"testing"

	"github.com/kefu-chat/kefu/internal/auth"
	"github.com/kefu-chat/kefu/internal/kefu"
)

// TestInboxSecret: an admin reads the identifier-hash secret and the hash
// it makes verifies; rotating returns a new secret once, which the read
// then shows; hashes under the old secret stop verifying. Agents get 403,
// another workspace's admin 404, on both stores.
func TestInboxSecret(t *testing.T) {
	for _, backend := range []struct {
		name string
		open func(testing.TB) kefu.Store
	}{{"sqlite", openSQLite}, {"postgres", openPostgres}} {
		t.Run(backend.name, func(t *testing.T) {
			e := newEnv(t, backend.open(t))
			inbox := e.a.Inbox
			read := fmt.Sprintf("/api/v1/inboxes/%d/secret", inbox.ID)
			rotate := fmt.Sprintf("/api/v1/inboxes/%d/rotate_secret", inbox.ID)
			session := func(secret string) *resp {
				r, _ := widgetSession(e, map[string]any{"inbox_token": inbox.PublicToken, "identifier": "cust-9", "identifier_hash": auth.IdentifierHash(secret, "cust-9")})
				return r
			}

			r := e.do("GET", read, e.a.AdminToken, nil)
			wantStatus(t, r, 200, "")
			if cc := r.Header.Get("Cache-Control"); cc != "no-store" {
				t.Errorf("Cache-Control %q, want no-store", cc)
			}
			old := r.obj(t)["secret"].(string)
			if old != inbox.Secret || old == "" {
				t.Fatalf("read %q, want the inbox's secret", old)
			}
			wantStatus(t, session(old), 201, "")

			r = e.do("POST", rotate, e.a.AdminToken, nil)
			wantStatus(t, r, 200, "")
			if cc := r.Header.Get("Cache-Control"); cc != "no-store" {
				t.Errorf("rotate: Cache-Control %q, want no-store", cc)
			}
			fresh := r.obj(t)["secret"].(string)
			if fresh == old || len(fresh) < 32 {
				t.Fatalf("rotated secret %q (old %q)", fresh, old)
			}
			r = e.do("GET", read, e.a.AdminToken, nil)
			wantStatus(t, r, 200, "")
			if got := r.obj(t)["secret"]; got != fresh {
				t.Fatalf("read after rotate %q, want %q", got, fresh)
			}
			wantStatus(t, session(old), 401, kefu.EUnauthorized)
			wantStatus(t, session(fresh), 200, "")

			for _, c := range []struct {
				who, token, method, path string
				status                   int
				code                     string
			}{
				{"agent", e.a.AgentToken, "GET", read, 403, kefu.EForbidden},
				{"agent", e.a.AgentToken, "POST", rotate, 403, kefu.EForbidden},
				{"other workspace's admin", e.b.AdminToken, "GET", read, 404, kefu.ENotFound},
				{"other workspace's admin", e.b.AdminToken, "POST", rotate, 404, kefu.ENotFound},
				{"no one", "", "GET", read, 401, kefu.EUnauthorized},
				{"admin, no such inbox", e.a.AdminToken, "GET", "/api/v1/inboxes/999999/secret", 404, kefu.ENotFound},
			} {
				r := e.do(c.method, c.path, c.token, nil)
				if r.Code != c.status || r.errCode() != c.code {
					t.Errorf("%s: %s %s = %d %s, want %d %s", c.who, c.method, c.path, r.Code, r, c.status, c.code)
				}
			}
			// The refused calls changed nothing.
			r = e.do("GET", read, e.a.AdminToken, nil)
			if got := r.obj(t)["secret"]; got != fresh {
				t.Fatalf("secret changed by a refused call: %q", got)
			}
		})
	}
}
