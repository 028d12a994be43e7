package httpapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/kefu-chat/kefu/internal/kefu"
	"github.com/kefu-chat/kefu/internal/kefutest"
)

// scenario is one API call and what must come back.
type scenario struct {
	name   string
	who    string // admin, agent, visitor (workspace A); otherAdmin, otherAgent, otherVisitor (B); anon; or a literal "token:…"
	method string
	path   string // {conv}, {contact}, {inbox}, {agent}, {admin} name A's records
	body   any
	status int
	code   string // error code for error statuses
}

func (e *env) token(who string) string {
	switch who {
	case "admin":
		return e.a.AdminToken
	case "agent":
		return e.a.AgentToken
	case "visitor":
		return e.a.VisitorToken
	case "otherAdmin":
		return e.b.AdminToken
	case "otherAgent":
		return e.b.AgentToken
	case "otherVisitor":
		return e.b.VisitorToken
	case "anon":
		return ""
	}
	if t, ok := strings.CutPrefix(who, "token:"); ok {
		return t
	}
	e.tb.Fatalf("unknown caller %q", who)
	return ""
}

func (e *env) expand(path string, f *kefutest.Fixture) string {
	id := func(n int64) string { return strconv.FormatInt(n, 10) }
	return strings.NewReplacer("{conv}", id(f.Conversation.ID), "{contact}", id(f.Contact.ID), "{inbox}", id(f.Inbox.ID),
		"{agent}", id(f.Agent.ID), "{admin}", id(f.Admin.ID), "{bagent}", id(e.b.Agent.ID)).Replace(path)
}

// scenarioBody marshals a scenario body, replacing quoted placeholders
// such as "{bagent}" with the record's numeric id.
func (e *env) scenarioBody(body any) any {
	if body == nil {
		return nil
	}
	if rb, ok := body.(rawBody); ok {
		return rb
	}
	data, err := json.Marshal(body)
	if err != nil {
		e.tb.Fatal(err)
	}
	s := string(data)
	for _, p := range []string{"{conv}", "{contact}", "{inbox}", "{agent}", "{admin}", "{bagent}"} {
		s = strings.ReplaceAll(s, `"`+p+`"`, e.expand(p, e.a))
	}
	return jsonRaw(s)
}

func runScenarios(t *testing.T, e *env, table []scenario) {
	t.Helper()
	for _, sc := range table {
		t.Run(sc.name, func(t *testing.T) {
			r := e.do(sc.method, e.expand(sc.path, e.a), e.token(sc.who), e.scenarioBody(sc.body))
			if r.Code != sc.status {
				t.Fatalf("%s %s as %s: status %d, want %d; body %s", sc.method, sc.path, sc.who, r.Code, sc.status, truncate(r.String(), 400))
			}
			if r.Code >= 400 {
				if got := r.errCode(); got != sc.code {
					t.Fatalf("%s %s as %s: error code %q, want %q; body %s", sc.method, sc.path, sc.who, got, sc.code, r)
				}
				if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
					t.Fatalf("error Content-Type %q", ct)
				}
			}
		})
	}
}

// apiScenarios walks through every resource as each kind of caller. The
// rows run in order against one database; the few that change state come
// after the reads that depend on it.
func apiScenarios() []scenario {
	const v1 = "/api/v1"
	send := map[string]any{"body": "hello", "client_msg_id": "s-1"}
	return []scenario{
		// Operations.
		{"healthz", "anon", "GET", "/healthz", nil, 200, ""},
		{"readyz", "anon", "GET", "/readyz", nil, 200, ""},
		{"metrics", "anon", "GET", "/metrics", nil, 200, ""},
		{"openapi", "anon", "GET", "/api/openapi.json", nil, 200, ""},
		{"ws agent not configured", "anon", "GET", "/ws/agent", nil, 503, "unavailable"},
		{"unknown api route", "agent", "GET", v1 + "/nope", nil, 404, "not_found"},
		{"unknown root route", "anon", "GET", "/nope", nil, 404, "not_found"},
		{"wrong method", "agent", "DELETE", v1 + "/agents", nil, 405, "method_not_allowed"},
		{"wrong method on item", "agent", "PUT", v1 + "/conversations/{conv}", map[string]any{}, 405, "method_not_allowed"},

		// Who may call what.
		{"me anonymous", "anon", "GET", v1 + "/me", nil, 401, "unauthorized"},
		{"me bad token", "token:kfa_nope", "GET", v1 + "/me", nil, 401, "unauthorized"},
		{"me agent", "agent", "GET", v1 + "/me", nil, 200, ""},
		{"me visitor", "visitor", "GET", v1 + "/me", nil, 403, "forbidden"},
		{"agents list as visitor", "visitor", "GET", v1 + "/agents", nil, 403, "forbidden"},
		{"conversations as visitor", "visitor", "GET", v1 + "/conversations", nil, 403, "forbidden"},
		{"conversation as visitor via agent route", "visitor", "GET", v1 + "/conversations/{conv}", nil, 403, "forbidden"},
		{"widget me agent", "agent", "GET", v1 + "/widget/me", nil, 403, "forbidden"},
		{"widget me anonymous", "anon", "GET", v1 + "/widget/me", nil, 401, "unauthorized"},
		{"widget me visitor", "visitor", "GET", v1 + "/widget/me", nil, 200, ""},
		{"widget conversations agent", "admin", "GET", v1 + "/widget/conversations", nil, 403, "forbidden"},

		// Agents.
		{"agents list", "agent", "GET", v1 + "/agents", nil, 200, ""},
		{"agent get", "agent", "GET", v1 + "/agents/{admin}", nil, 200, ""},
		{"agent get other workspace", "otherAdmin", "GET", v1 + "/agents/{admin}", nil, 404, "not_found"},
		{"agent create not admin", "agent", "POST", v1 + "/agents", map[string]any{"email": "x@acme.test", "name": "X", "password": "long enough"}, 403, "forbidden"},
		{"agent create", "admin", "POST", v1 + "/agents", map[string]any{"email": "New@Acme.test", "name": "New", "password": "long enough", "role": "agent", "max_concurrent": 5}, 201, ""},
		{"agent create taken email", "admin", "POST", v1 + "/agents", map[string]any{"email": "new@acme.test", "name": "New", "password": "long enough"}, 409, "conflict"},
		{"agent create bad role", "admin", "POST", v1 + "/agents", map[string]any{"email": "r@acme.test", "name": "R", "password": "long enough", "role": "owner"}, 400, "invalid"},
		{"agent create short password", "admin", "POST", v1 + "/agents", map[string]any{"email": "p@acme.test", "name": "P", "password": "short"}, 400, "invalid"},
		{"agent create bad email", "admin", "POST", v1 + "/agents", map[string]any{"email": "Li <li@acme.test>", "name": "Li", "password": "long enough"}, 400, "invalid"},
		{"agent create negative max", "admin", "POST", v1 + "/agents", map[string]any{"email": "m@acme.test", "name": "M", "password": "long enough", "max_concurrent": -1}, 400, "invalid"},
		{"agent update not admin", "agent", "PATCH", v1 + "/agents/{agent}", map[string]any{"name": "Me"}, 403, "forbidden"},
		{"agent update other workspace", "otherAdmin", "PATCH", v1 + "/agents/{agent}", map[string]any{"name": "Hijack"}, 404, "not_found"},
		{"agent update", "admin", "PATCH", v1 + "/agents/{agent}", map[string]any{"name": "Renamed", "max_concurrent": 3}, 200, ""},
		{"agent update blank name", "admin", "PATCH", v1 + "/agents/{agent}", map[string]any{"name": "  "}, 400, "invalid"},
		{"last admin cannot demote", "admin", "PATCH", v1 + "/agents/{admin}", map[string]any{"role": "agent"}, 409, "conflict"},
		{"last admin cannot deactivate", "admin", "PATCH", v1 + "/agents/{admin}", map[string]any{"active": false}, 409, "conflict"},

		// Inboxes.
		{"inboxes list", "agent", "GET", v1 + "/inboxes", nil, 200, ""},
		{"inbox get", "agent", "GET", v1 + "/inboxes/{inbox}", nil, 200, ""},
		{"inbox get other workspace", "otherAdmin", "GET", v1 + "/inboxes/{inbox}", nil, 404, "not_found"},
		{"inbox create not admin", "agent", "POST", v1 + "/inboxes", map[string]any{"name": "Shop"}, 403, "forbidden"},
		{"inbox create", "admin", "POST", v1 + "/inboxes", map[string]any{"name": "Shop", "greeting": "Hello!", "color": "#ABCDEF", "allowed_origins": []string{"https://Shop.example", "http://localhost:8080"}}, 201, ""},
		{"inbox create no name", "admin", "POST", v1 + "/inboxes", map[string]any{"greeting": "x"}, 400, "invalid"},
		{"inbox create bad origin", "admin", "POST", v1 + "/inboxes", map[string]any{"name": "S", "allowed_origins": []string{"shop.example/path"}}, 400, "invalid"},
		{"inbox create bad color", "admin", "POST", v1 + "/inboxes", map[string]any{"name": "S", "color": "red"}, 400, "invalid"},
		{"inbox update", "admin", "PATCH", v1 + "/inboxes/{inbox}", map[string]any{"greeting": "Welcome"}, 200, ""},
		{"inbox update other workspace", "otherAdmin", "PATCH", v1 + "/inboxes/{inbox}", map[string]any{"name": "Mine"}, 404, "not_found"},
		{"inbox rotate not admin", "agent", "POST", v1 + "/inboxes/{inbox}/rotate_secret", nil, 403, "forbidden"},
		{"inbox rotate other workspace", "otherAdmin", "POST", v1 + "/inboxes/{inbox}/rotate_secret", nil, 404, "not_found"},
		{"inbox secret", "admin", "GET", v1 + "/inboxes/{inbox}/secret", nil, 200, ""},
		{"inbox secret not admin", "agent", "GET", v1 + "/inboxes/{inbox}/secret", nil, 403, "forbidden"},
		{"inbox secret other workspace", "otherAdmin", "GET", v1 + "/inboxes/{inbox}/secret", nil, 404, "not_found"},

		// Contacts.
		{"contacts list", "agent", "GET", v1 + "/contacts?q=visitor&limit=10", nil, 200, ""},
		{"contact get", "agent", "GET", v1 + "/contacts/{contact}", nil, 200, ""},
		{"contact get other workspace", "otherAgent", "GET", v1 + "/contacts/{contact}", nil, 404, "not_found"},
		{"contact update other workspace", "otherAgent", "PATCH", v1 + "/contacts/{contact}", map[string]any{"name": "x"}, 404, "not_found"},
		{"contact conversations other workspace", "otherAgent", "GET", v1 + "/contacts/{contact}/conversations", nil, 404, "not_found"},
		{"contact conversations", "agent", "GET", v1 + "/contacts/{contact}/conversations", nil, 200, ""},
		{"contact update", "agent", "PATCH", v1 + "/contacts/{contact}", map[string]any{"email": "v@example.com", "attributes": map[string]any{"plan": "pro"}}, 200, ""},
		{"contact update bad email", "agent", "PATCH", v1 + "/contacts/{contact}", map[string]any{"email": "nope"}, 400, "invalid"},
		// A field is checked before the contact is looked up; the limits on
		// the merged attributes need the contact, so they come after 404.
		{"contact update bad email other workspace", "otherAgent", "PATCH", v1 + "/contacts/{contact}", map[string]any{"email": "nope"}, 400, "invalid"},
		{"contact update too many attributes", "agent", "PATCH", v1 + "/contacts/{contact}", map[string]any{"attributes": tooManyAttributes()}, 400, "invalid"},
		{"contact update too many attributes other workspace", "otherAgent", "PATCH", v1 + "/contacts/{contact}", map[string]any{"attributes": tooManyAttributes()}, 404, "not_found"},

		// Conversations and messages.
		{"conversations list", "agent", "GET", v1 + "/conversations?status=open&assignee=any", nil, 200, ""},
		{"conversations mine", "agent", "GET", v1 + "/conversations?assignee=me", nil, 200, ""},
		{"conversations bad status", "agent", "GET", v1 + "/conversations?status=closed", nil, 400, "invalid"},
		{"conversations bad assignee", "agent", "GET", v1 + "/conversations?assignee=someone", nil, 400, "invalid"},
		{"conversations bad cursor", "agent", "GET", v1 + "/conversations?cursor=not-a-cursor", nil, 400, "invalid"},
		{"conversations bad cursor base64", "agent", "GET", v1 + "/conversations?cursor=AAAA", nil, 400, "invalid"},
		{"conversations negative limit", "agent", "GET", v1 + "/conversations?limit=-1", nil, 400, "invalid"},
		{"conversations zero limit", "agent", "GET", v1 + "/conversations?limit=0", nil, 400, "invalid"},
		{"conversations huge limit", "agent", "GET", v1 + "/conversations?limit=100000", nil, 400, "invalid"},
		{"conversations bad inbox", "agent", "GET", v1 + "/conversations?inbox=x", nil, 400, "invalid"},
		{"contacts bad cursor", "agent", "GET", v1 + "/contacts?cursor=!!!", nil, 400, "invalid"},
		{"conversation get", "agent", "GET", v1 + "/conversations/{conv}", nil, 200, ""},
		{"conversation get other workspace", "otherAgent", "GET", v1 + "/conversations/{conv}", nil, 404, "not_found"},
		{"conversation id not a number", "agent", "GET", v1 + "/conversations/abc", nil, 400, "invalid"},
		{"conversation id zero", "agent", "GET", v1 + "/conversations/0", nil, 400, "invalid"},
		{"conversation id negative", "agent", "GET", v1 + "/conversations/-4", nil, 400, "invalid"},
		{"conversation id leading zero", "agent", "GET", v1 + "/conversations/007", nil, 400, "invalid"},
		{"conversation id overflow", "agent", "GET", v1 + "/conversations/99999999999999999999", nil, 400, "invalid"},
		{"conversation id absent", "agent", "GET", v1 + "/conversations/999999999", nil, 404, "not_found"},
		{"conversation update other workspace", "otherAdmin", "PATCH", v1 + "/conversations/{conv}", map[string]any{"status": "resolved"}, 404, "not_found"},
		{"conversation update bad status", "agent", "PATCH", v1 + "/conversations/{conv}", map[string]any{"status": "closed"}, 400, "invalid"},
		{"conversation update bad snooze", "agent", "PATCH", v1 + "/conversations/{conv}", map[string]any{"status": "snoozed", "snoozed_until": "tomorrow"}, 400, "invalid"},
		{"conversation assign negative", "agent", "PATCH", v1 + "/conversations/{conv}", map[string]any{"assignee_id": -1}, 400, "invalid"},
		{"conversation assign other workspace agent", "agent", "PATCH", v1 + "/conversations/{conv}", map[string]any{"assignee_id": "{bagent}"}, 400, "invalid"},
		{"conversation update", "agent", "PATCH", v1 + "/conversations/{conv}", map[string]any{"priority": "high", "labels": []string{"vip", "billing"}}, 200, ""},
		{"messages other workspace", "otherAgent", "GET", v1 + "/conversations/{conv}/messages", nil, 404, "not_found"},
		{"message send other workspace", "otherAgent", "POST", v1 + "/conversations/{conv}/messages", send, 404, "not_found"},
		{"read other workspace", "otherAgent", "POST", v1 + "/conversations/{conv}/read", map[string]any{"seq": 1}, 404, "not_found"},
		{"typing other workspace", "otherAgent", "POST", v1 + "/conversations/{conv}/typing", map[string]any{"on": true}, 404, "not_found"},
		{"message send", "agent", "POST", v1 + "/conversations/{conv}/messages", send, 201, ""},
		{"message send again", "agent", "POST", v1 + "/conversations/{conv}/messages", send, 200, ""},
		{"message note", "agent", "POST", v1 + "/conversations/{conv}/messages", map[string]any{"body": "private", "kind": "note"}, 201, ""},
		{"message event kind", "agent", "POST", v1 + "/conversations/{conv}/messages", map[string]any{"body": "x", "kind": "event"}, 400, "invalid"},
		{"message empty", "agent", "POST", v1 + "/conversations/{conv}/messages", map[string]any{"body": "  "}, 400, "invalid"},
		{"message too long", "agent", "POST", v1 + "/conversations/{conv}/messages", map[string]any{"body": strings.Repeat("x", kefu.MaxBodyLen+1)}, 413, "too_large"},
		{"message unknown attachment", "agent", "POST", v1 + "/conversations/{conv}/messages", map[string]any{"kind": "attachment", "attachments": []int64{999999}}, 400, "invalid"},
		{"messages list", "agent", "GET", v1 + "/conversations/{conv}/messages?limit=2", nil, 200, ""},
		{"messages bad after", "agent", "GET", v1 + "/conversations/{conv}/messages?after_seq=-1", nil, 400, "invalid"},
		{"messages bad limit", "agent", "GET", v1 + "/conversations/{conv}/messages?limit=1000", nil, 400, "invalid"},
		{"read", "agent", "POST", v1 + "/conversations/{conv}/read", map[string]any{"seq": 1}, 200, ""},
		{"read zero", "agent", "POST", v1 + "/conversations/{conv}/read", map[string]any{"seq": 0}, 400, "invalid"},
		{"typing", "agent", "POST", v1 + "/conversations/{conv}/typing", map[string]any{"on": true}, 204, ""},

		// Widget.
		{"widget conversation", "visitor", "GET", v1 + "/widget/conversations/{conv}", nil, 200, ""},
		{"widget conversation other contact", "otherVisitor", "GET", v1 + "/widget/conversations/{conv}", nil, 404, "not_found"},
		{"widget messages other contact", "otherVisitor", "GET", v1 + "/widget/conversations/{conv}/messages", nil, 404, "not_found"},
		{"widget send other contact", "otherVisitor", "POST", v1 + "/widget/conversations/{conv}/messages", send, 404, "not_found"},
		{"widget read other contact", "otherVisitor", "POST", v1 + "/widget/conversations/{conv}/read", map[string]any{"seq": 1}, 404, "not_found"},
		{"widget typing other contact", "otherVisitor", "POST", v1 + "/widget/conversations/{conv}/typing", map[string]any{"on": true}, 404, "not_found"},
		{"widget send", "visitor", "POST", v1 + "/widget/conversations/{conv}/messages", map[string]any{"body": "hi", "client_msg_id": "w-1"}, 201, ""},
		{"widget send note", "visitor", "POST", v1 + "/widget/conversations/{conv}/messages", map[string]any{"body": "hi", "kind": "note"}, 403, "forbidden"},
		{"widget messages", "visitor", "GET", v1 + "/widget/conversations/{conv}/messages?after_seq=0", nil, 200, ""},
		{"widget read", "visitor", "POST", v1 + "/widget/conversations/{conv}/read", map[string]any{"seq": 1}, 200, ""},
		{"widget conversations", "visitor", "GET", v1 + "/widget/conversations", nil, 200, ""},
		{"widget start conversation", "visitor", "POST", v1 + "/widget/conversations", nil, 201, ""},
		{"widget start conversation with {}", "visitor", "POST", v1 + "/widget/conversations", map[string]any{}, 201, ""},
		{"widget start conversation unknown field", "visitor", "POST", v1 + "/widget/conversations", map[string]any{"inbox_id": 9}, 400, "bad_json"},
		{"widget update me", "visitor", "PATCH", v1 + "/widget/me", map[string]any{"name": "Li Lei", "attributes": map[string]any{"cart": 3}}, 200, ""},
		{"widget session unknown inbox", "anon", "POST", v1 + "/widget/sessions", map[string]any{"inbox_token": "nope"}, 404, "not_found"},
		{"widget session no inbox", "anon", "POST", v1 + "/widget/sessions", map[string]any{}, 400, "invalid"},
		{"widget attachment other workspace id", "visitor", "GET", v1 + "/widget/attachments/999999", nil, 404, "not_found"},

		// Bodies.
		{"malformed json", "agent", "POST", v1 + "/conversations/{conv}/messages", jsonRaw(`{"body": "x"`), 400, "bad_json"},
		{"not json", "agent", "POST", v1 + "/conversations/{conv}/messages", jsonRaw(`hello`), 400, "bad_json"},
		{"json array", "agent", "POST", v1 + "/conversations/{conv}/messages", jsonRaw(`[{"body":"x"}]`), 400, "bad_json"},
		{"json null", "agent", "POST", v1 + "/conversations/{conv}/messages", jsonRaw(`null`), 400, "bad_json"},
		{"empty body", "agent", "POST", v1 + "/conversations/{conv}/messages", jsonRaw(``), 400, "bad_json"},
		{"unknown field", "agent", "POST", v1 + "/conversations/{conv}/messages", jsonRaw(`{"body":"x","sender_id":1}`), 400, "bad_json"},
		{"wrong type", "agent", "POST", v1 + "/conversations/{conv}/messages", jsonRaw(`{"body":5}`), 400, "bad_json"},
		{"trailing data", "agent", "POST", v1 + "/conversations/{conv}/messages", jsonRaw(`{"body":"x"} {"body":"y"}`), 400, "bad_json"},
		{"trailing garbage", "agent", "POST", v1 + "/conversations/{conv}/messages", jsonRaw(`{"body":"x"}garbage`), 400, "bad_json"},
		{"trailing whitespace ok", "agent", "POST", v1 + "/conversations/{conv}/messages", jsonRaw("{\"body\":\"x\"}\n\t "), 201, ""},
		{"form content type", "agent", "POST", v1 + "/conversations/{conv}/messages", rawBody{"application/x-www-form-urlencoded", []byte("body=x")}, 415, "unsupported_media_type"},
		{"no content type", "agent", "POST", v1 + "/conversations/{conv}/messages", rawBody{"", []byte(`{"body":"x"}`)}, 415, "unsupported_media_type"},
		{"json with charset", "agent", "POST", v1 + "/conversations/{conv}/messages", rawBody{"application/json; charset=utf-8", []byte(`{"body":"x"}`)}, 201, ""},
		{"oversize json", "agent", "POST", v1 + "/conversations/{conv}/messages", jsonRaw(`{"body":"` + strings.Repeat("x", 40<<10) + `"}`), 413, "too_large"},
		{"upload as json", "agent", "POST", v1 + "/attachments", map[string]any{"file": "x"}, 415, "unsupported_media_type"},

		// Last: these end sessions.
		{"logout", "agent", "POST", v1 + "/auth/logout", nil, 204, ""},
		{"after logout", "agent", "GET", v1 + "/me", nil, 401, "unauthorized"},
	}
}

func TestAPIScenariosSQLite(t *testing.T) {
	runScenarios(t, newEnv(t, openSQLite(t)), apiScenarios())
}

func TestAPIScenariosPostgres(t *testing.T) {
	runScenarios(t, newEnv(t, openPostgres(t)), apiScenarios())
}

// TestErrorEnvelope checks that every error response in the scenarios has
// exactly the documented shape, and never leaks an internal message.
func TestErrorEnvelope(t *testing.T) {
	e := newEnv(t, openSQLite(t))
	for _, sc := range apiScenarios() {
		r := e.do(sc.method, e.expand(sc.path, e.a), e.token(sc.who), e.scenarioBody(sc.body))
		if sc.status < 400 {
			continue
		}
		m := r.obj(t)
		errObj, ok := m["error"].(map[string]any)
		if len(m) != 1 || !ok || len(errObj) != 2 {
			t.Fatalf("%s: envelope %s", sc.name, r)
		}
		if msg, _ := errObj["message"].(string); msg == "" || msg == "internal error" {
			t.Fatalf("%s: message %q", sc.name, msg)
		}
		if r.Header.Get("X-Request-Id") == "" || r.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Fatalf("%s: headers %v", sc.name, r.Header)
		}
		if sc.status == http.StatusUnauthorized && r.Header.Get("WWW-Authenticate") == "" {
			t.Fatalf("%s: 401 without WWW-Authenticate", sc.name)
		}
	}
}

// tooManyAttributes is one attribute more than a contact may hold.
func tooManyAttributes() map[string]any {
	m := map[string]any{}
	for i := range kefu.MaxAttributes + 1 {
		m[fmt.Sprint("k", i)] = i
	}
	return m
}
