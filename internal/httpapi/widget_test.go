package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/kefu-chat/kefu/internal/auth"
	"github.com/kefu-chat/kefu/internal/kefu"
)

func widgetSession(e *env, body map[string]any, hdr ...string) (*resp, widgetSessionResponse) {
	e.tb.Helper()
	r := e.do("POST", "/api/v1/widget/sessions", "", body, hdr...)
	var out widgetSessionResponse
	if r.Code < 300 {
		r.into(e.tb, &out)
	}
	return r, out
}

func TestWidgetSessionVisitors(t *testing.T) {
	e := newEnv(t, openSQLite(t))
	inbox := e.a.Inbox

	// A new visitor gets a new contact and a server-made visitor id.
	r, s1 := widgetSession(e, map[string]any{"inbox_token": inbox.PublicToken, "name": "Li", "page_url": "https://shop.example/cart"},
		"User-Agent", "TestBrowser/1.0")
	wantStatus(t, r, 201, "")
	if len(s1.VisitorID) < 20 || s1.Contact == nil || s1.Contact.VisitorID != "" || s1.Contact.Name != "Li" ||
		s1.Contact.PageURL != "https://shop.example/cart" || s1.Contact.UserAgent != "TestBrowser/1.0" || !strings.HasPrefix(s1.Token, "kfv_") {
		t.Fatalf("new session %s", r)
	}
	if s1.Inbox.ID != inbox.ID || s1.Inbox.Greeting != inbox.Greeting || s1.Inbox.Color != inbox.Color {
		t.Fatalf("inbox %+v", s1.Inbox)
	}
	if strings.Contains(r.String(), inbox.Secret) {
		t.Fatal("the inbox secret reached a visitor")
	}
	// The token works on widget routes and nowhere else.
	wantStatus(t, e.do("GET", "/api/v1/widget/me", s1.Token, nil), 200, "")
	wantStatus(t, e.do("GET", "/api/v1/conversations", s1.Token, nil), 403, "forbidden")

	// Returning with the id: same contact, 200, fresh last_seen.
	r, s2 := widgetSession(e, map[string]any{"inbox_token": inbox.PublicToken, "visitor_id": s1.VisitorID})
	wantStatus(t, r, 200, "")
	if s2.Contact.ID != s1.Contact.ID || s2.VisitorID != s1.VisitorID || s2.Contact.Name != "Li" || s2.Token == s1.Token {
		t.Fatalf("returning session %s", r)
	}

	// An id the server never made buys nothing: a new contact, a new id.
	r, s3 := widgetSession(e, map[string]any{"inbox_token": inbox.PublicToken, "visitor_id": "chosen-by-client"})
	wantStatus(t, r, 201, "")
	if s3.VisitorID == "chosen-by-client" || s3.Contact.ID == s1.Contact.ID {
		t.Fatalf("client picked its id: %s", r)
	}
	// Nor does another workspace's visitor id.
	r, s4 := widgetSession(e, map[string]any{"inbox_token": inbox.PublicToken, "visitor_id": e.b.Contact.VisitorID})
	wantStatus(t, r, 201, "")
	if s4.Contact.WorkspaceID != e.a.Workspace.ID || s4.VisitorID == e.b.Contact.VisitorID {
		t.Fatalf("crossed workspaces: %s", r)
	}
}

func TestWidgetSessionIdentified(t *testing.T) {
	e := newEnv(t, openSQLite(t))
	inbox := e.a.Inbox
	hash := auth.IdentifierHash(inbox.Secret, "cust-42")

	// Missing or wrong hash: 401.
	r, _ := widgetSession(e, map[string]any{"inbox_token": inbox.PublicToken, "identifier": "cust-42"})
	wantStatus(t, r, 401, "unauthorized")
	r, _ = widgetSession(e, map[string]any{"inbox_token": inbox.PublicToken, "identifier": "cust-42", "identifier_hash": auth.IdentifierHash("wrong", "cust-42")})
	wantStatus(t, r, 401, "unauthorized")
	r, _ = widgetSession(e, map[string]any{"inbox_token": inbox.PublicToken, "identifier": "cust-43", "identifier_hash": hash})
	wantStatus(t, r, 401, "unauthorized")
	r, _ = widgetSession(e, map[string]any{"inbox_token": inbox.PublicToken, "identifier_hash": hash})
	wantStatus(t, r, 400, "invalid")

	// An anonymous visitor chats, then logs in on the shop: the identified
	// session adopts the anonymous contact and its history.
	_, anon := widgetSession(e, map[string]any{"inbox_token": inbox.PublicToken})
	r, phone := widgetSession(e, map[string]any{"inbox_token": inbox.PublicToken, "visitor_id": anon.VisitorID,
		"identifier": "cust-42", "identifier_hash": strings.ToUpper(hash), "email": "li@shop.example"})
	wantStatus(t, r, 200, "")
	if phone.Contact.ID != anon.Contact.ID || phone.Contact.ExternalID != "cust-42" || phone.Contact.Email != "li@shop.example" {
		t.Fatalf("identified session %s", r)
	}
	// The same customer on another device (no visitor id) is the same contact.
	r, laptop := widgetSession(e, map[string]any{"inbox_token": inbox.PublicToken, "identifier": "cust-42", "identifier_hash": hash})
	wantStatus(t, r, 200, "")
	if laptop.Contact.ID != phone.Contact.ID {
		t.Fatalf("second device got contact %d, want %d", laptop.Contact.ID, phone.Contact.ID)
	}
	// The identified contact's visitor id alone does not reach it.
	r, sneaky := widgetSession(e, map[string]any{"inbox_token": inbox.PublicToken, "visitor_id": laptop.VisitorID})
	wantStatus(t, r, 201, "")
	if sneaky.Contact.ID == phone.Contact.ID {
		t.Fatal("an identified contact was reached without its identifier hash")
	}
	// A new identified customer: 201.
	r, fresh := widgetSession(e, map[string]any{"inbox_token": inbox.PublicToken, "identifier": "cust-7", "identifier_hash": auth.IdentifierHash(inbox.Secret, "cust-7")})
	wantStatus(t, r, 201, "")
	if fresh.Contact.ExternalID != "cust-7" {
		t.Fatalf("new identified contact %s", r)
	}

	// After rotating the secret, old hashes stop working.
	r = e.do("POST", fmt.Sprintf("/api/v1/inboxes/%d/rotate_secret", inbox.ID), e.a.AdminToken, nil)
	wantStatus(t, r, 200, "")
	newSecret := r.obj(t)["secret"].(string)
	r, _ = widgetSession(e, map[string]any{"inbox_token": inbox.PublicToken, "identifier": "cust-42", "identifier_hash": hash})
	wantStatus(t, r, 401, "unauthorized")
	r, _ = widgetSession(e, map[string]any{"inbox_token": inbox.PublicToken, "identifier": "cust-42", "identifier_hash": auth.IdentifierHash(newSecret, "cust-42")})
	wantStatus(t, r, 200, "")
}

func TestWidgetSessionOriginAndRateLimit(t *testing.T) {
	clock := &fakeClock{t: time.Now()}
	e := newEnv(t, openSQLite(t), func(o *Options) {
		o.Now = clock.Now
		o.Limits.WidgetPerIP = Rate{PerMinute: 30, Burst: 4}
		o.TrustProxyHeaders = true
	})
	ctx := context.Background()
	in := e.a.Inbox
	in.AllowedOrigins = []string{"https://shop.example"}
	if err := e.store.UpdateInbox(ctx, in); err != nil {
		t.Fatal(err)
	}
	body := map[string]any{"inbox_token": in.PublicToken}
	r, _ := widgetSession(e, body, "Origin", "https://evil.example", "X-Forwarded-For", "203.0.113.1")
	wantStatus(t, r, 403, "forbidden")
	r, _ = widgetSession(e, body, "Origin", "https://shop.example", "X-Forwarded-For", "203.0.113.1")
	wantStatus(t, r, 201, "")
	if r.Header.Get("Access-Control-Allow-Origin") != "https://shop.example" {
		t.Fatalf("CORS header %q", r.Header.Get("Access-Control-Allow-Origin"))
	}
	// No Origin (a server-side integration): allowed.
	r, _ = widgetSession(e, body, "X-Forwarded-For", "203.0.113.1")
	wantStatus(t, r, 201, "")
	// The fourth call from this address is the last in the burst.
	r, _ = widgetSession(e, body, "X-Forwarded-For", "203.0.113.1")
	wantStatus(t, r, 201, "")
	r, _ = widgetSession(e, body, "X-Forwarded-For", "203.0.113.1")
	wantStatus(t, r, 429, "rate_limited")
	// Only the last X-Forwarded-For hop counts: a client cannot dodge the
	// limit by prepending addresses.
	r, _ = widgetSession(e, body, "X-Forwarded-For", "198.51.100.9, 203.0.113.1")
	wantStatus(t, r, 429, "rate_limited")
	// Another address is unaffected.
	r, _ = widgetSession(e, body, "X-Forwarded-For", "203.0.113.2")
	wantStatus(t, r, 201, "")
	clock.Advance(time.Minute)
	r, _ = widgetSession(e, body, "X-Forwarded-For", "203.0.113.1")
	wantStatus(t, r, 201, "")
}

func TestCORS(t *testing.T) {
	e := newEnv(t, openSQLite(t))
	r := e.do("OPTIONS", "/api/v1/widget/conversations/5/messages", "", nil,
		"Origin", "https://shop.example", "Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "authorization, content-type")
	wantStatus(t, r, http.StatusNoContent, "")
	h := r.Header
	if h.Get("Access-Control-Allow-Origin") != "https://shop.example" || !strings.Contains(h.Get("Access-Control-Allow-Headers"), "Authorization") ||
		!strings.Contains(h.Get("Access-Control-Allow-Methods"), "POST") || h.Get("Access-Control-Allow-Credentials") != "" {
		t.Fatalf("preflight headers %v", h)
	}
	r = e.do("GET", "/api/openapi.json", "", nil, "Origin", "https://docs.example")
	wantStatus(t, r, 200, "")
	if r.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Fatalf("openapi CORS %v", r.Header)
	}
	// The agent API is not for other sites' scripts.
	r = e.do("OPTIONS", "/api/v1/conversations", "", nil, "Origin", "https://evil.example", "Access-Control-Request-Method", "GET")
	if r.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("agent API answered CORS: %v", r.Header)
	}
	r = e.do("GET", "/api/v1/conversations", e.a.AgentToken, nil, "Origin", "https://evil.example")
	if r.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("agent API answered CORS: %v", r.Header)
	}
}

func TestWidgetMe(t *testing.T) {
	e := newEnv(t, openSQLite(t))
	tok := e.a.VisitorToken
	r := e.do("PATCH", "/api/v1/widget/me", tok, map[string]any{"name": "Han Meimei", "phone": "+86 10 1234", "attributes": map[string]any{"plan": "pro", "seats": 3}})
	wantStatus(t, r, 200, "")
	r = e.do("PATCH", "/api/v1/widget/me", tok, map[string]any{"attributes": map[string]any{"plan": nil, "lang": "zh-CN"}})
	wantStatus(t, r, 200, "")
	var c kefu.Contact
	e.do("GET", "/api/v1/widget/me", tok, nil).into(t, &c)
	if c.Name != "Han Meimei" || c.Phone != "+86 10 1234" || len(c.Attributes) != 2 || c.Attributes["lang"] != "zh-CN" || c.Attributes["seats"] != float64(3) {
		t.Fatalf("contact %+v", c)
	}
	// Bounds.
	many := map[string]any{}
	for i := range kefu.MaxAttributes + 1 {
		many[fmt.Sprint("k", i)] = i
	}
	wantStatus(t, e.do("PATCH", "/api/v1/widget/me", tok, map[string]any{"attributes": many}), 400, "invalid")
	wantStatus(t, e.do("PATCH", "/api/v1/widget/me", tok, map[string]any{"attributes": map[string]any{"": 1}}), 400, "invalid")
	wantStatus(t, e.do("PATCH", "/api/v1/widget/me", tok, map[string]any{"name": strings.Repeat("x", kefu.MaxNameLen+1)}), 400, "invalid")
	wantStatus(t, e.do("PATCH", "/api/v1/widget/me", tok, map[string]any{"name": "a\x00b"}), 400, "invalid")
	wantStatus(t, e.do("PATCH", "/api/v1/widget/me", tok, map[string]any{"external_id": "admin"}), 400, "bad_json")
}

func TestVisitorWriteAndUploadRateLimits(t *testing.T) {
	clock := &fakeClock{t: time.Now()}
	e := newEnv(t, openSQLite(t), func(o *Options) {
		o.Now = clock.Now
		o.Limits.VisitorWrites = Rate{PerMinute: 60, Burst: 3}
		o.Limits.Uploads = Rate{PerMinute: 60, Burst: 2}
	})
	path := fmt.Sprintf("/api/v1/widget/conversations/%d/messages", e.a.Conversation.ID)
	for i := range 3 {
		wantStatus(t, e.do("POST", path, e.a.VisitorToken, map[string]any{"body": fmt.Sprint("m", i)}), 201, "")
	}
	r := e.do("POST", path, e.a.VisitorToken, map[string]any{"body": "one too many"})
	wantStatus(t, r, 429, "rate_limited")
	if r.Header.Get("Retry-After") == "" {
		t.Fatal("no Retry-After")
	}
	// Reads are not limited, other visitors and agents are unaffected.
	wantStatus(t, e.do("GET", path, e.a.VisitorToken, nil), 200, "")
	wantStatus(t, e.do("POST", "/api/v1/widget/conversations", e.b.VisitorToken, nil), 201, "")
	for range 5 {
		wantStatus(t, e.do("POST", fmt.Sprintf("/api/v1/conversations/%d/messages", e.a.Conversation.ID), e.a.AgentToken, map[string]any{"body": "x"}), 201, "")
	}
	clock.Advance(2 * time.Second)
	wantStatus(t, e.do("POST", path, e.a.VisitorToken, map[string]any{"body": "later"}), 201, "")

	// Uploads: per uploader, agents included.
	for range 2 {
		wantStatus(t, e.do("POST", "/api/v1/attachments", e.a.AgentToken, multipartFile(t, "file", "a.png", "", pngBytes)), 201, "")
	}
	wantStatus(t, e.do("POST", "/api/v1/attachments", e.a.AgentToken, multipartFile(t, "file", "a.png", "", pngBytes)), 429, "rate_limited")
	wantStatus(t, e.do("POST", "/api/v1/attachments", e.a.AdminToken, multipartFile(t, "file", "a.png", "", pngBytes)), 201, "")
}
