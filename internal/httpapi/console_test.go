package httpapi

import (
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/kefu-chat/kefu/internal/kefu"
	"github.com/kefu-chat/kefu/internal/kefutest"
)

// backends runs fn against SQLite and PostgreSQL.
func backends(t *testing.T, fn func(t *testing.T, e *env)) {
	for _, b := range []struct {
		name string
		open func(testing.TB) kefu.Store
	}{{"sqlite", openSQLite}, {"postgres", openPostgres}} {
		t.Run(b.name, func(t *testing.T) { fn(t, newEnv(t, b.open(t))) })
	}
}

// consoleCall is one call and what must come back.
type consoleCall struct {
	name, method, path string
	token              func(e *env) string
	body               any
	status             int
	code               string
}

func runConsoleCalls(t *testing.T, e *env, tests []consoleCall) {
	t.Helper()
	for _, tt := range tests {
		r := e.do(tt.method, tt.path, tt.token(e), tt.body)
		if r.Code != tt.status || (tt.code != "" && r.errCode() != tt.code) {
			t.Errorf("%s: %s %s = %d %s, want %d %s", tt.name, tt.method, tt.path, r.Code, truncate(r.String(), 200), tt.status, tt.code)
		}
	}
}

func adminA(e *env) string { return e.a.AdminToken }
func agentA(e *env) string { return e.a.AgentToken }
func adminB(e *env) string { return e.b.AdminToken }
func visitA(e *env) string { return e.a.VisitorToken }

func TestCannedResponsesAPI(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		r := e.do("POST", "/api/v1/canned_responses", e.a.AdminToken, map[string]any{"short_code": "/退款", "content": "退款会在 3 个工作日内到账。"})
		wantStatus(t, r, 201, "")
		var c kefu.CannedResponse
		r.into(t, &c)
		if c.ShortCode != "退款" || c.WorkspaceID != e.a.Workspace.ID {
			t.Fatalf("created %+v", c)
		}
		one := fmt.Sprintf("/api/v1/canned_responses/%d", c.ID)
		long := strings.Repeat("x", kefu.MaxBodyLen+1)
		runConsoleCalls(t, e, []consoleCall{
			{"agent lists", "GET", "/api/v1/canned_responses", agentA, nil, 200, ""},
			{"agent may not create", "POST", "/api/v1/canned_responses", agentA, map[string]any{"short_code": "a", "content": "b"}, 403, kefu.EForbidden},
			{"agent may not change", "PATCH", one, agentA, map[string]any{"content": "b"}, 403, kefu.EForbidden},
			{"agent may not delete", "DELETE", one, agentA, nil, 403, kefu.EForbidden},
			{"visitor may not list", "GET", "/api/v1/canned_responses", visitA, nil, 403, kefu.EForbidden},
			{"no token", "GET", "/api/v1/canned_responses", func(*env) string { return "" }, nil, 401, kefu.EUnauthorized},
			{"taken short code", "POST", "/api/v1/canned_responses", adminA, map[string]any{"short_code": "退款", "content": "x"}, 409, kefu.EConflict},
			{"empty short code", "POST", "/api/v1/canned_responses", adminA, map[string]any{"short_code": "", "content": "x"}, 400, kefu.EInvalid},
			{"space in short code", "POST", "/api/v1/canned_responses", adminA, map[string]any{"short_code": "a b", "content": "x"}, 400, kefu.EInvalid},
			{"short code too long", "POST", "/api/v1/canned_responses", adminA, map[string]any{"short_code": strings.Repeat("a", 33), "content": "x"}, 400, kefu.EInvalid},
			{"blank content", "POST", "/api/v1/canned_responses", adminA, map[string]any{"short_code": "a", "content": "  "}, 400, kefu.EInvalid},
			{"content too long", "POST", "/api/v1/canned_responses", adminA, map[string]any{"short_code": "a", "content": long}, 400, kefu.EInvalid},
			{"unknown field", "POST", "/api/v1/canned_responses", adminA, map[string]any{"short_code": "a", "content": "x", "team": 1}, 400, "bad_json"},
			{"bad id", "PATCH", "/api/v1/canned_responses/x", adminA, map[string]any{"content": "b"}, 400, kefu.EInvalid},
			{"other workspace's admin reads nothing", "PATCH", one, adminB, map[string]any{"content": "pwned"}, 404, kefu.ENotFound},
			{"other workspace's admin deletes nothing", "DELETE", one, adminB, nil, 404, kefu.ENotFound},
			{"edit", "PATCH", one, adminA, map[string]any{"content": "已更新"}, 200, ""},
		})
		var page list[*kefu.CannedResponse]
		e.do("GET", "/api/v1/canned_responses", e.b.AgentToken, nil).into(t, &page)
		if len(page.Data) != 0 {
			t.Fatalf("workspace B lists A's canned responses: %+v", page.Data)
		}
		e.do("GET", "/api/v1/canned_responses", e.a.AgentToken, nil).into(t, &page)
		if len(page.Data) != 1 || page.Data[0].Content != "已更新" {
			t.Fatalf("A's list %+v", page.Data)
		}
		wantStatus(t, e.do("DELETE", one, e.a.AdminToken, nil), 204, "")
		wantStatus(t, e.do("DELETE", one, e.a.AdminToken, nil), 404, kefu.ENotFound)
	})
}

func TestLabelsAPI(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		r := e.do("POST", "/api/v1/labels", e.a.AdminToken, map[string]any{"name": "vip", "color": "#FF0000", "description": "Paying"})
		wantStatus(t, r, 201, "")
		var l kefu.Label
		r.into(t, &l)
		if l.Color != "#ff0000" {
			t.Fatalf("color not normalised: %+v", l)
		}
		one := fmt.Sprintf("/api/v1/labels/%d", l.ID)
		runConsoleCalls(t, e, []consoleCall{
			{"agent lists", "GET", "/api/v1/labels", agentA, nil, 200, ""},
			{"agent may not create", "POST", "/api/v1/labels", agentA, map[string]any{"name": "x"}, 403, kefu.EForbidden},
			{"agent may not change", "PATCH", one, agentA, map[string]any{"name": "x"}, 403, kefu.EForbidden},
			{"agent may not delete", "DELETE", one, agentA, nil, 403, kefu.EForbidden},
			{"taken name", "POST", "/api/v1/labels", adminA, map[string]any{"name": "vip"}, 409, kefu.EConflict},
			{"comma", "POST", "/api/v1/labels", adminA, map[string]any{"name": "a,b"}, 400, kefu.EInvalid},
			{"empty", "POST", "/api/v1/labels", adminA, map[string]any{"name": " "}, 400, kefu.EInvalid},
			{"too long", "POST", "/api/v1/labels", adminA, map[string]any{"name": strings.Repeat("长", 30)}, 400, kefu.EInvalid},
			{"bad color", "POST", "/api/v1/labels", adminA, map[string]any{"name": "x", "color": "red"}, 400, kefu.EInvalid},
			{"long description", "POST", "/api/v1/labels", adminA, map[string]any{"name": "x", "description": strings.Repeat("d", 501)}, 400, kefu.EInvalid},
			{"other workspace's admin", "PATCH", one, adminB, map[string]any{"name": "pwned"}, 404, kefu.ENotFound},
			{"other workspace's admin deletes", "DELETE", one, adminB, nil, 404, kefu.ENotFound},
			{"rename", "PATCH", one, adminA, map[string]any{"name": "VIP 客户"}, 200, ""},
		})
		// A conversation carries a catalog label as a string.
		cpath := fmt.Sprintf("/api/v1/conversations/%d", e.a.Conversation.ID)
		r = e.do("PATCH", cpath, e.a.AgentToken, map[string]any{"labels": []string{"VIP 客户"}})
		wantStatus(t, r, 200, "")
		var page list[*kefu.Label]
		e.do("GET", "/api/v1/labels", e.b.AdminToken, nil).into(t, &page)
		if len(page.Data) != 0 {
			t.Fatalf("workspace B lists A's labels")
		}
		wantStatus(t, e.do("DELETE", one, e.a.AdminToken, nil), 204, "")
		var conv kefu.Conversation
		e.do("GET", cpath, e.a.AgentToken, nil).into(t, &conv)
		if !slices.Equal(conv.Labels, []string{"VIP 客户"}) {
			t.Fatalf("deleting the catalog entry changed the conversation's labels: %v", conv.Labels)
		}
	})
}

func TestSearchAPI(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		a := e.a
		msgs := fmt.Sprintf("/api/v1/widget/conversations/%d/messages", a.Conversation.ID)
		for _, body := range []string{"我想查询一下订单状态", "谢谢", "订单号是 12345"} {
			wantStatus(t, e.do("POST", msgs, a.VisitorToken, map[string]any{"body": body}), 201, "")
		}
		wantStatus(t, e.do("POST", fmt.Sprintf("/api/v1/conversations/%d/messages", a.Conversation.ID), a.AgentToken,
			map[string]any{"body": "内部：订单已退款", "kind": "note"}), 201, "")
		wantStatus(t, e.do("POST", fmt.Sprintf("/api/v1/widget/conversations/%d/messages", e.b.Conversation.ID), e.b.VisitorToken,
			map[string]any{"body": "B 的订单"}), 201, "")
		wantStatus(t, e.do("PATCH", fmt.Sprintf("/api/v1/contacts/%d", a.Contact.ID), a.AgentToken, map[string]any{"name": "王订单"}), 200, "")

		get := func(q string) searchResult {
			t.Helper()
			r := e.do("GET", "/api/v1/search?"+q, a.AgentToken, nil)
			wantStatus(t, r, 200, "")
			var res searchResult
			r.into(t, &res)
			return res
		}
		res := get("q=" + url.QueryEscape("订单") + "&limit=2")
		if len(res.Contacts) != 1 || res.Contacts[0].ID != a.Contact.ID {
			t.Fatalf("contacts %+v", res.Contacts)
		}
		var bodies []string
		for _, h := range res.Messages {
			if h.Conversation.ID != a.Conversation.ID || h.Contact.ID != a.Contact.ID {
				t.Fatalf("hit without its conversation and contact: %+v", h)
			}
			bodies = append(bodies, h.Message.Body)
		}
		if !slices.Equal(bodies, []string{"内部：订单已退款", "订单号是 12345"}) || res.NextCursor == "" {
			t.Fatalf("first page %v, cursor %q", bodies, res.NextCursor)
		}
		res = get("q=" + url.QueryEscape("订单") + "&limit=2&cursor=" + res.NextCursor)
		if len(res.Contacts) != 0 || len(res.Messages) != 1 || res.Messages[0].Message.Body != "我想查询一下订单状态" {
			t.Fatalf("second page %+v", res)
		}
		runConsoleCalls(t, e, []consoleCall{
			{"missing q", "GET", "/api/v1/search", agentA, nil, 400, kefu.EInvalid},
			{"blank q", "GET", "/api/v1/search?q=%20", agentA, nil, 400, kefu.EInvalid},
			{"long q", "GET", "/api/v1/search?q=" + strings.Repeat("a", 201), agentA, nil, 400, kefu.EInvalid},
			{"bad limit", "GET", "/api/v1/search?q=a&limit=51", agentA, nil, 400, kefu.EInvalid},
			{"bad cursor", "GET", "/api/v1/search?q=a&cursor=zz", agentA, nil, 400, kefu.EInvalid},
			{"visitor", "GET", "/api/v1/search?q=a", visitA, nil, 403, kefu.EForbidden},
		})
		// B finds only its own.
		r := e.do("GET", "/api/v1/search?q="+url.QueryEscape("订单"), e.b.AgentToken, nil)
		var bres searchResult
		r.into(t, &bres)
		if len(bres.Messages) != 1 || bres.Messages[0].Message.Body != "B 的订单" || len(bres.Contacts) != 0 {
			t.Fatalf("B's search %+v", bres)
		}
	})
}

func TestConversationListPreview(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		a := e.a
		long := strings.Repeat("长", 200)
		wantStatus(t, e.do("POST", fmt.Sprintf("/api/v1/widget/conversations/%d/messages", a.Conversation.ID), a.VisitorToken, map[string]any{"body": long}), 201, "")
		r := e.do("POST", "/api/v1/widget/conversations", a.VisitorToken, nil)
		wantStatus(t, r, 201, "")
		var page list[conversationItem]
		e.do("GET", "/api/v1/conversations", a.AgentToken, nil).into(t, &page)
		if len(page.Data) != 2 {
			t.Fatalf("%d conversations", len(page.Data))
		}
		for _, c := range page.Data {
			switch c.ID {
			case a.Conversation.ID:
				p := c.LastMessage
				if p == nil || p.SenderType != kefu.SenderContact || p.Seq != 1 || p.Body != strings.Repeat("长", kefu.PreviewRunes)+"…" {
					t.Fatalf("preview %+v", p)
				}
			default:
				if c.LastMessage != nil {
					t.Fatalf("empty conversation has a preview %+v", c.LastMessage)
				}
			}
		}
		// Visitors' lists carry no preview field at all (their schema forbids it).
		wantStatus(t, e.do("GET", "/api/v1/widget/conversations", a.VisitorToken, nil), 200, "")
	})
}

func TestWorkspaceAndProfileAPI(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		a := e.a
		runConsoleCalls(t, e, []consoleCall{
			{"agent reads workspace", "GET", "/api/v1/workspace", agentA, nil, 200, ""},
			{"agent may not rename", "PATCH", "/api/v1/workspace", agentA, map[string]any{"name": "x"}, 403, kefu.EForbidden},
			{"blank name", "PATCH", "/api/v1/workspace", adminA, map[string]any{"name": " "}, 400, kefu.EInvalid},
			{"rename", "PATCH", "/api/v1/workspace", adminA, map[string]any{"name": "艾克米"}, 200, ""},
			{"own name", "PATCH", "/api/v1/me", agentA, map[string]any{"name": "Li Lei"}, 200, ""},
			{"blank own name", "PATCH", "/api/v1/me", agentA, map[string]any{"name": ""}, 400, kefu.EInvalid},
			{"password without current", "PATCH", "/api/v1/me", agentA, map[string]any{"password": "new-password-1"}, 400, kefu.EInvalid},
			{"wrong current", "PATCH", "/api/v1/me", agentA, map[string]any{"password": "new-password-1", "current_password": "nope"}, 400, kefu.EInvalid},
			{"short password", "PATCH", "/api/v1/me", agentA, map[string]any{"password": "short", "current_password": kefutest.Password}, 400, kefu.EInvalid},
			{"role is not self-service", "PATCH", "/api/v1/me", agentA, map[string]any{"role": "admin"}, 400, "bad_json"},
		})
		var ws kefu.Workspace
		e.do("GET", "/api/v1/workspace", a.AgentToken, nil).into(t, &ws)
		var wsB kefu.Workspace
		e.do("GET", "/api/v1/workspace", e.b.AgentToken, nil).into(t, &wsB)
		if ws.Name != "艾克米" || wsB.Name != "Bolt" {
			t.Fatalf("workspaces %q %q", ws.Name, wsB.Name)
		}
		r := e.do("PATCH", "/api/v1/me", a.AgentToken, map[string]any{"password": "new-password-1", "current_password": kefutest.Password})
		wantStatus(t, r, 200, "")
		var res updateMeResponse
		r.into(t, &res)
		if res.Token == "" || res.Agent.Name != "Li Lei" || res.Agent.Role != kefu.RoleAgent {
			t.Fatalf("password change %s", r)
		}
		wantStatus(t, e.do("GET", "/api/v1/me", a.AgentToken, nil), 401, kefu.EUnauthorized)
		wantStatus(t, e.do("GET", "/api/v1/me", res.Token, nil), 200, "")
		wantStatus(t, login(e, a.Agent.Email, "new-password-1"), 200, "")
	})
}

// TestAdminRoutesRefuseAgents: every route of the admins class answers 403
// to a plain agent (before it reads the body or looks anything up), and
// the admin console's routes are among them.
func TestAdminRoutesRefuseAgents(t *testing.T) {
	e := newEnv(t, openSQLite(t))
	var admin []string
	for _, rt := range e.srv.routes {
		if rt.access != admins {
			continue
		}
		admin = append(admin, rt.pattern)
		method, path, _ := strings.Cut(rt.pattern, " ")
		path = strings.ReplaceAll(path, "{id}", fmt.Sprint(e.a.Inbox.ID))
		t.Run(rt.pattern, func(t *testing.T) {
			r := e.do(method, path, e.a.AgentToken, map[string]any{})
			wantStatus(t, r, http.StatusForbidden, kefu.EForbidden)
		})
	}
	for _, want := range []string{"POST /api/v1/agents", "PATCH /api/v1/agents/{id}", "POST /api/v1/inboxes", "PATCH /api/v1/inboxes/{id}",
		"POST /api/v1/canned_responses", "PATCH /api/v1/canned_responses/{id}", "DELETE /api/v1/canned_responses/{id}",
		"POST /api/v1/labels", "PATCH /api/v1/labels/{id}", "DELETE /api/v1/labels/{id}", "PATCH /api/v1/workspace"} {
		if !slices.Contains(admin, want) {
			t.Errorf("%s is not admin-only", want)
		}
	}
}

// TestConsoleRequestSchemas: the documented request bodies of the console
// routes have exactly the fields the handlers decode.
func TestConsoleRequestSchemas(t *testing.T) {
	doc := mustDoc(t)
	for name, v := range map[string]any{
		"CannedResponseCreate": cannedRequest{}, "CannedResponseUpdate": cannedRequest{},
		"LabelCreate": labelRequest{}, "LabelUpdate": labelRequest{},
		"WorkspaceUpdate": workspaceRequest{}, "MeUpdate": updateMeRequest{},
	} {
		schema := doc.m(map[string]any(doc), "components", "schemas", name)
		var documented []string
		for k := range doc.m(schema, "properties") {
			documented = append(documented, k)
		}
		if got, want := sorted(documented), sorted(jsonFields(reflect.TypeOf(v))); !slices.Equal(got, want) || schema["additionalProperties"] != false {
			t.Errorf("schema %s has %v, handler decodes %v", name, got, want)
		}
	}
}
