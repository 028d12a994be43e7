package httpapi

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/kefu-chat/kefu/internal/auth"
)

// checkResponse is what every fuzz target asserts: no 5xx, and an error
// status always comes with exactly the error envelope.
func checkResponse(t *testing.T, r *resp, input []byte) {
	t.Helper()
	if r.Code >= 500 {
		t.Fatalf("status %d for %q: %s", r.Code, truncate(string(input), 200), r)
	}
	if r.Code >= 400 {
		var env map[string]map[string]string
		if err := json.Unmarshal(r.Body, &env); err != nil || len(env) != 1 || len(env["error"]) != 2 || env["error"]["code"] == "" || env["error"]["message"] == "" {
			t.Fatalf("status %d without the error envelope for %q: %s", r.Code, truncate(string(input), 200), r)
		}
		return
	}
	if !json.Valid(r.Body) {
		t.Fatalf("status %d with a non-JSON body for %q", r.Code, truncate(string(input), 200))
	}
}

func FuzzSendMessageBody(f *testing.F) {
	e := newEnv(f, openSQLite(f))
	agentPath := fmt.Sprintf("/api/v1/conversations/%d/messages", e.a.Conversation.ID)
	widgetPath := fmt.Sprintf("/api/v1/widget/conversations/%d/messages", e.a.Conversation.ID)
	for _, seed := range []string{
		`{"body":"hi"}`,
		`{"body":"hi","kind":"note","client_msg_id":"x"}`,
		`{"kind":"attachment","attachments":[1,2,-3]}`,
		`{"body":"\u0000\ud800","attachments":null}`,
		`{"body":"x"}{"body":"y"}`,
		`{"body":1e999}`,
		`[`,
		``,
	} {
		f.Add([]byte(seed), false)
		f.Add([]byte(seed), true)
	}
	f.Fuzz(func(t *testing.T, body []byte, asVisitor bool) {
		path, tok := agentPath, e.a.AgentToken
		if asVisitor {
			path, tok = widgetPath, e.a.VisitorToken
		}
		checkResponse(t, e.with(t).do("POST", path, tok, rawBody{"application/json", body}), body)
	})
}

func FuzzWidgetSession(f *testing.F) {
	e := newEnv(f, openSQLite(f))
	hash := auth.IdentifierHash(e.a.Inbox.Secret, "cust-1")
	for _, seed := range []string{
		`{"inbox_token":"{token}"}`,
		`{"inbox_token":"{token}","visitor_id":"{visitor}","name":"Li","email":"li@example.com","page_url":"https://x.example/"}`,
		`{"inbox_token":"{token}","identifier":"cust-1","identifier_hash":"` + hash + `"}`,
		`{"inbox_token":"{token}","identifier":"cust-1","identifier_hash":"00"}`,
		`{"inbox_token":"{token}","email":"not an email","phone":"\u0007"}`,
		`{"inbox_token":null}`,
		`{"inbox_token":"{token}","extra":true}`,
		`{}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		// Placeholders let the fuzzer start from valid sessions and mutate
		// around them.
		in := strings.NewReplacer("{token}", e.a.Inbox.PublicToken, "{visitor}", e.a.Contact.VisitorID).Replace(string(body))
		checkResponse(t, e.with(t).do("POST", "/api/v1/widget/sessions", "", rawBody{"application/json", []byte(in)}, "Origin", "https://shop.example"), body)
	})
}

// FuzzJSONEndpoints throws arbitrary bodies at the other JSON endpoints.
func FuzzJSONEndpoints(f *testing.F) {
	e := newEnv(f, openSQLite(f))
	targets := []struct{ method, path, token string }{
		{"PATCH", fmt.Sprintf("/api/v1/conversations/%d", e.a.Conversation.ID), e.a.AgentToken},
		{"PATCH", fmt.Sprintf("/api/v1/contacts/%d", e.a.Contact.ID), e.a.AgentToken},
		{"PATCH", "/api/v1/widget/me", e.a.VisitorToken},
		{"POST", "/api/v1/inboxes", e.a.AdminToken},
		{"PATCH", fmt.Sprintf("/api/v1/agents/%d", e.a.Agent.ID), e.a.AdminToken},
		{"POST", "/api/v1/auth/login", ""},
		{"POST", fmt.Sprintf("/api/v1/widget/conversations/%d/read", e.a.Conversation.ID), e.a.VisitorToken},
	}
	for i, seed := range []string{
		`{"status":"snoozed","snoozed_until":"2030-01-01T00:00:00Z","labels":["a","b"]}`,
		`{"attributes":{"a":null,"b":{"c":[1,2,3]}}}`,
		`{"name":"x","attributes":{"":1}}`,
		`{"name":"Shop","allowed_origins":["https://a.example","*"],"color":"#fff"}`,
		`{"role":"admin","max_concurrent":-5}`,
		`{"email":"a@b.c","password":"x"}`,
		`{"seq":9223372036854775807}`,
	} {
		f.Add([]byte(seed), uint8(i))
	}
	f.Fuzz(func(t *testing.T, body []byte, which uint8) {
		tg := targets[int(which)%len(targets)]
		// Never let the fuzzer lock the agent out of the next iteration.
		if strings.Contains(tg.path, "/agents/") {
			var req updateAgentRequest
			if json.Unmarshal(body, &req) == nil && (req.Active != nil || req.Password != nil) {
				return
			}
		}
		checkResponse(t, e.with(t).do(tg.method, tg.path, tg.token, rawBody{"application/json", body}), body)
	})
}
