package httpapi

import (
	"fmt"
	"strings"
	"testing"

	"github.com/kefu-chat/kefu/internal/kefu"
	"github.com/kefu-chat/kefu/internal/protocol"
)

// prechatSettings is an inbox form with a required email and a topic.
var prechatSettings = map[string]any{
	"position": "left", "launcher_text": "Chat", "locale": "zh-CN", "prechat_enabled": true,
	"prechat_fields": []any{
		map[string]any{"name": "name", "type": "text"},
		map[string]any{"name": "email", "type": "email", "required": true},
		map[string]any{"name": "topic", "label": "Topic", "type": "select", "required": true, "options": []string{"Billing", "Shipping"}},
	},
}

// widgetScenarios run in order: the form is configured, then conversations
// started against it, then one is resolved and rated.
func widgetScenarios(e *env) []scenario {
	const v1 = "/api/v1"
	tok := e.a.Inbox.PublicToken
	field := func(f map[string]any) map[string]any {
		return map[string]any{"prechat_enabled": true, "prechat_fields": []any{f}}
	}
	long := strings.Repeat("x", 501)
	return []scenario{
		// Config.
		{"config", "anon", "GET", v1 + "/widget/config?inbox=" + tok, nil, 200, ""},
		{"config without inbox", "anon", "GET", v1 + "/widget/config", nil, 400, "invalid"},
		{"config oversize inbox", "anon", "GET", v1 + "/widget/config?inbox=" + strings.Repeat("t", 129), nil, 400, "invalid"},
		{"config unknown inbox", "anon", "GET", v1 + "/widget/config?inbox=nope", nil, 404, "not_found"},

		// Agent names for visitors.
		{"agent name", "visitor", "GET", v1 + "/widget/agents/{agent}", nil, 200, ""},
		{"agent name other workspace", "visitor", "GET", v1 + "/widget/agents/{bagent}", nil, 404, "not_found"},
		{"agent name bad id", "visitor", "GET", v1 + "/widget/agents/x", nil, 400, "invalid"},
		{"agent name anon", "anon", "GET", v1 + "/widget/agents/{agent}", nil, 401, "unauthorized"},
		{"agent name by agent", "agent", "GET", v1 + "/widget/agents/{agent}", nil, 403, "forbidden"},

		// Settings through PATCH /inboxes/{id}.
		{"widget settings by agent", "agent", "PATCH", v1 + "/inboxes/{inbox}", map[string]any{"widget": prechatSettings}, 403, "forbidden"},
		{"widget settings other workspace", "otherAdmin", "PATCH", v1 + "/inboxes/{inbox}", map[string]any{"widget": prechatSettings}, 404, "not_found"},
		{"widget bad position", "admin", "PATCH", v1 + "/inboxes/{inbox}", map[string]any{"widget": map[string]any{"position": "top"}}, 400, "invalid"},
		{"widget bad locale", "admin", "PATCH", v1 + "/inboxes/{inbox}", map[string]any{"widget": map[string]any{"locale": "fr"}}, 400, "invalid"},
		{"widget long launcher", "admin", "PATCH", v1 + "/inboxes/{inbox}", map[string]any{"widget": map[string]any{"launcher_text": long}}, 400, "invalid"},
		{"widget control chars", "admin", "PATCH", v1 + "/inboxes/{inbox}", map[string]any{"widget": map[string]any{"title": "a\x01b"}}, 400, "invalid"},
		{"widget unknown property", "admin", "PATCH", v1 + "/inboxes/{inbox}", map[string]any{"widget": map[string]any{"font": "x"}}, 400, "bad_json"},
		{"field bad name", "admin", "PATCH", v1 + "/inboxes/{inbox}", map[string]any{"widget": field(map[string]any{"name": "a b", "type": "text"})}, 400, "invalid"},
		{"field bad type", "admin", "PATCH", v1 + "/inboxes/{inbox}", map[string]any{"widget": field(map[string]any{"name": "a", "type": "date"})}, 400, "invalid"},
		{"select without options", "admin", "PATCH", v1 + "/inboxes/{inbox}", map[string]any{"widget": field(map[string]any{"name": "a", "type": "select"})}, 400, "invalid"},
		{"options on text", "admin", "PATCH", v1 + "/inboxes/{inbox}", map[string]any{"widget": field(map[string]any{"name": "a", "type": "text", "options": []string{"x"}})}, 400, "invalid"},
		{"email field not email", "admin", "PATCH", v1 + "/inboxes/{inbox}", map[string]any{"widget": field(map[string]any{"name": "email", "type": "text"})}, 400, "invalid"},
		{"duplicate fields", "admin", "PATCH", v1 + "/inboxes/{inbox}", map[string]any{"widget": map[string]any{"prechat_fields": []any{
			map[string]any{"name": "a", "type": "text"}, map[string]any{"name": "a", "type": "tel"}}}}, 400, "invalid"},
		{"widget settings", "admin", "PATCH", v1 + "/inboxes/{inbox}", map[string]any{"widget": prechatSettings}, 200, ""},

		// Pre-chat answers on starting a conversation.
		{"start without required", "visitor", "POST", v1 + "/widget/conversations", nil, 400, "invalid"},
		{"start missing topic", "visitor", "POST", v1 + "/widget/conversations", map[string]any{"fields": map[string]any{"email": "li@example.com"}}, 400, "invalid"},
		{"start bad email", "visitor", "POST", v1 + "/widget/conversations", map[string]any{"fields": map[string]any{"email": "nope", "topic": "Billing"}}, 400, "invalid"},
		{"start bad option", "visitor", "POST", v1 + "/widget/conversations", map[string]any{"fields": map[string]any{"email": "li@example.com", "topic": "Refunds"}}, 400, "invalid"},
		{"start unknown field", "visitor", "POST", v1 + "/widget/conversations", map[string]any{"fields": map[string]any{"email": "li@example.com", "topic": "Billing", "age": "9"}}, 400, "invalid"},
		{"start long answer", "visitor", "POST", v1 + "/widget/conversations", map[string]any{"fields": map[string]any{"email": "li@example.com", "topic": "Billing", "name": long}}, 400, "invalid"},
		{"start non-string answer", "visitor", "POST", v1 + "/widget/conversations", jsonRaw(`{"fields":{"email":1}}`), 400, "bad_json"},
		{"start by agent", "agent", "POST", v1 + "/widget/conversations", nil, 403, "forbidden"},
		{"start with answers", "visitor", "POST", v1 + "/widget/conversations", map[string]any{"fields": map[string]any{"name": " Li ", "email": "li@example.com", "topic": "Billing"}}, 201, ""},
		{"start again, answered before", "visitor", "POST", v1 + "/widget/conversations", nil, 201, ""},

		// Ratings.
		{"rate open conversation", "visitor", "POST", v1 + "/widget/conversations/{conv}/rating", map[string]any{"score": 5}, 409, "conflict"},
		{"resolve", "agent", "PATCH", v1 + "/conversations/{conv}", map[string]any{"status": "resolved"}, 200, ""},
		{"rate zero", "visitor", "POST", v1 + "/widget/conversations/{conv}/rating", map[string]any{"score": 0}, 400, "invalid"},
		{"rate six", "visitor", "POST", v1 + "/widget/conversations/{conv}/rating", map[string]any{"score": 6}, 400, "invalid"},
		{"rate no score", "visitor", "POST", v1 + "/widget/conversations/{conv}/rating", map[string]any{"comment": "hi"}, 400, "invalid"},
		{"rate long comment", "visitor", "POST", v1 + "/widget/conversations/{conv}/rating", map[string]any{"score": 3, "comment": strings.Repeat("x", 2001)}, 400, "invalid"},
		{"rate string score", "visitor", "POST", v1 + "/widget/conversations/{conv}/rating", jsonRaw(`{"score":"5"}`), 400, "bad_json"},
		{"rate by agent", "agent", "POST", v1 + "/widget/conversations/{conv}/rating", map[string]any{"score": 5}, 403, "forbidden"},
		{"rate anon", "anon", "POST", v1 + "/widget/conversations/{conv}/rating", map[string]any{"score": 5}, 401, "unauthorized"},
		{"rate another's conversation", "otherVisitor", "POST", v1 + "/widget/conversations/{conv}/rating", map[string]any{"score": 1}, 404, "not_found"},
		{"rate missing conversation", "visitor", "POST", v1 + "/widget/conversations/99999999/rating", map[string]any{"score": 1}, 404, "not_found"},
		{"rate", "visitor", "POST", v1 + "/widget/conversations/{conv}/rating", map[string]any{"score": 2, "comment": "slow"}, 200, ""},
		{"rate again replaces", "visitor", "POST", v1 + "/widget/conversations/{conv}/rating", map[string]any{"score": 5, "comment": " 很好 "}, 200, ""},
	}
}

func TestWidgetScenariosSQLite(t *testing.T) {
	e := newEnv(t, openSQLite(t))
	runScenarios(t, e, widgetScenarios(e))
	checkWidgetOutcome(t, e)
}

func TestWidgetScenariosPostgres(t *testing.T) {
	e := newEnv(t, openPostgres(t))
	runScenarios(t, e, widgetScenarios(e))
	checkWidgetOutcome(t, e)
}

// checkWidgetOutcome: what the scenarios stored is what agents and
// visitors read back.
func checkWidgetOutcome(t *testing.T, e *env) {
	a := e.a
	var in kefu.Inbox
	e.do("GET", fmt.Sprintf("/api/v1/inboxes/%d", a.Inbox.ID), a.AgentToken, nil).into(t, &in)
	if in.Widget.Position != "left" || in.Widget.Locale != "zh-CN" || len(in.Widget.PreChatFields) != 3 || in.Widget.PreChatFields[2].Options[1] != "Shipping" {
		t.Fatalf("inbox widget %+v", in.Widget)
	}

	var cfg widgetConfig
	r := e.do("GET", "/api/v1/widget/config?inbox="+a.Inbox.PublicToken, "", nil)
	r.into(t, &cfg)
	if cfg.Inbox.ID != a.Inbox.ID || cfg.Widget.LauncherText != "Chat" || !cfg.Widget.PreChatEnabled || cfg.Online {
		t.Fatalf("config %s", r)
	}
	if strings.Contains(r.String(), a.Inbox.Secret) {
		t.Fatal("config leaks the inbox secret")
	}
	// An agent going online shows; going offline again hides.
	if err := e.chat.SetPresence(t.Context(), agentActor(a.Agent), protocol.PresenceOnline); err != nil {
		t.Fatal(err)
	}
	e.do("GET", "/api/v1/widget/config?inbox="+a.Inbox.PublicToken, "", nil).into(t, &cfg)
	if !cfg.Online {
		t.Fatal("online agent not reported")
	}
	// Another workspace's agent online does not count for this one.
	e.chat.SetPresence(t.Context(), agentActor(a.Agent), protocol.PresenceAway)
	e.chat.SetPresence(t.Context(), agentActor(e.b.Agent), protocol.PresenceOnline)
	e.do("GET", "/api/v1/widget/config?inbox="+a.Inbox.PublicToken, "", nil).into(t, &cfg)
	if cfg.Online {
		t.Fatal("away agent, or another workspace's, reported online")
	}

	var c kefu.Contact
	e.do("GET", fmt.Sprintf("/api/v1/contacts/%d", a.Contact.ID), a.AgentToken, nil).into(t, &c)
	if c.Name != "Li" || c.Email != "li@example.com" || c.Attributes["topic"] != "Billing" {
		t.Fatalf("pre-chat answers on contact: %+v", c)
	}

	var conv kefu.Conversation
	e.do("GET", fmt.Sprintf("/api/v1/conversations/%d", a.Conversation.ID), a.AgentToken, nil).into(t, &conv)
	if conv.Rating == nil || conv.Rating.Score != 5 || conv.Rating.Comment != "很好" || conv.Rating.RatedAt.IsZero() {
		t.Fatalf("agent sees rating %+v", conv.Rating)
	}
	var seen kefu.ContactConversation
	e.do("GET", fmt.Sprintf("/api/v1/widget/conversations/%d", a.Conversation.ID), a.VisitorToken, nil).into(t, &seen)
	if seen.Rating == nil || seen.Rating.Score != 5 {
		t.Fatalf("visitor sees rating %+v", seen.Rating)
	}
}

func TestWidgetConfigOrigin(t *testing.T) {
	e := newEnv(t, openSQLite(t))
	wantStatus(t, e.do("PATCH", fmt.Sprintf("/api/v1/inboxes/%d", e.a.Inbox.ID), e.a.AdminToken,
		map[string]any{"allowed_origins": []string{"https://shop.example"}}), 200, "")
	path := "/api/v1/widget/config?inbox=" + e.a.Inbox.PublicToken
	wantStatus(t, e.do("GET", path, "", nil, "Origin", "https://evil.example"), 403, "forbidden")
	// Kefu's own pages (the widget frame, /chat) call from Kefu's host.
	wantStatus(t, e.do("GET", path, "", nil, "Origin", "http://example.com"), 200, "")
	wantStatus(t, e.do("POST", "/api/v1/widget/sessions", "", map[string]any{"inbox_token": e.a.Inbox.PublicToken}, "Origin", "http://example.com"), 201, "")
	wantStatus(t, e.do("POST", "/api/v1/widget/sessions", "", map[string]any{"inbox_token": e.a.Inbox.PublicToken}, "Origin", "http://example.com.evil.example"), 403, "forbidden")
	r := e.do("GET", path, "", nil, "Origin", "https://shop.example")
	wantStatus(t, r, 200, "")
	if r.Header.Get("Access-Control-Allow-Origin") != "https://shop.example" {
		t.Fatalf("CORS header %q", r.Header.Get("Access-Control-Allow-Origin"))
	}
}

// TestOfflineFormWithoutPreChat: with no form configured, the offline
// form's name and email are still accepted, and nothing is required.
func TestOfflineFormWithoutPreChat(t *testing.T) {
	e := newEnv(t, openSQLite(t))
	r := e.do("POST", "/api/v1/widget/conversations", e.a.VisitorToken, map[string]any{"fields": map[string]any{"name": "Wang", "email": "wang@example.com"}})
	wantStatus(t, r, 201, "")
	wantStatus(t, e.do("POST", "/api/v1/widget/conversations", e.a.VisitorToken, map[string]any{"fields": map[string]any{"topic": "x"}}), 400, "invalid")
	var c kefu.Contact
	e.do("GET", fmt.Sprintf("/api/v1/contacts/%d", e.a.Contact.ID), e.a.AgentToken, nil).into(t, &c)
	if c.Name != "Wang" || c.Email != "wang@example.com" {
		t.Fatalf("contact %+v", c)
	}
}
