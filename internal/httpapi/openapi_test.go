package httpapi

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kefu-chat/kefu/internal/kefu"
)

var update = flag.Bool("update", false, "rewrite docs/openapi.json from internal/httpapi/openapi.json")

// openAPI is the parsed document, loosely typed: the tests walk it the way
// a client generator would.
type openAPI map[string]any

var loadDoc = sync.OnceValues(func() (openAPI, error) {
	var doc openAPI
	if err := json.Unmarshal(openAPIDoc, &doc); err != nil {
		return nil, err
	}
	return doc, nil
})

func mustDoc(tb testing.TB) openAPI {
	tb.Helper()
	doc, err := loadDoc()
	if err != nil {
		tb.Fatalf("openapi.json: %v", err)
	}
	return doc
}

func (d openAPI) m(v any, path ...string) map[string]any {
	cur, _ := v.(map[string]any)
	for _, p := range path {
		cur, _ = cur[p].(map[string]any)
	}
	return cur
}

// resolve follows a local $ref ("#/components/…").
func (d openAPI) resolve(v map[string]any) map[string]any {
	for v != nil {
		ref, ok := v["$ref"].(string)
		if !ok {
			return v
		}
		parts := strings.Split(strings.TrimPrefix(ref, "#/"), "/")
		v = d.m(map[string]any(d), parts...)
	}
	return v
}

// operations lists "METHOD /path" for every operation in the document.
func (d openAPI) operations() map[string]map[string]any {
	out := map[string]map[string]any{}
	for path, item := range d.m(map[string]any(d), "paths") {
		for method, op := range item.(map[string]any) {
			out[strings.ToUpper(method)+" "+path] = op.(map[string]any)
		}
	}
	return out
}

// TestOpenAPIMatchesRoutes: every route is documented and every documented
// operation is a route, with the same authentication.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	doc := mustDoc(t)
	if doc["openapi"] != "3.1.0" {
		t.Fatalf("openapi version %v", doc["openapi"])
	}
	ops := doc.operations()
	s := New(Options{})
	routes := map[string]route{}
	for _, rt := range s.routes {
		routes[rt.pattern] = rt
	}
	for p, rt := range routes {
		op, ok := ops[p]
		if !ok {
			t.Errorf("route %s is not in openapi.json", p)
			continue
		}
		var schemes []string
		for _, req := range op["security"].([]any) {
			for k := range req.(map[string]any) {
				schemes = append(schemes, k)
			}
		}
		admin, _ := op["x-kefu-admin-only"].(bool)
		want := map[access]string{public: "", agents: "agentToken", admins: "agentToken", visitor: "visitorToken"}[rt.access]
		if got := strings.Join(schemes, ","); got != want || admin != (rt.access == admins) {
			t.Errorf("%s: documented security %q admin-only=%v, route access wants %q admin-only=%v", p, got, admin, want, rt.access == admins)
		}
	}
	for p := range ops {
		if _, ok := routes[p]; !ok {
			t.Errorf("openapi.json documents %s, which is not a route", p)
		}
	}
	// Every $ref resolves.
	var walk func(any, string)
	walk = func(v any, at string) {
		switch x := v.(type) {
		case map[string]any:
			if ref, ok := x["$ref"].(string); ok && doc.resolve(x) == nil {
				t.Errorf("%s: $ref %s does not resolve", at, ref)
			}
			for k, c := range x {
				walk(c, at+"/"+k)
			}
		case []any:
			for i, c := range x {
				walk(c, fmt.Sprint(at, "/", i))
			}
		}
	}
	walk(map[string]any(doc), "#")
}

// TestOpenAPIRequestSchemas: the documented request bodies have exactly
// the fields the handlers decode (they reject unknown fields, so a
// documented field the handler lacks would be a 400 for a correct client).
func TestOpenAPIRequestSchemas(t *testing.T) {
	doc := mustDoc(t)
	for name, v := range map[string]any{
		"LoginRequest": loginRequest{}, "AgentCreate": createAgentRequest{}, "AgentUpdate": updateAgentRequest{},
		"InboxCreate": inboxRequest{}, "InboxUpdate": inboxRequest{}, "ContactUpdate": contactPatch{},
		"ConversationUpdate": updateConversationRequest{}, "MessageCreate": sendMessageRequest{}, "ReadRequest": readRequest{},
		"TypingRequest": typingRequest{}, "WidgetSessionRequest": widgetSessionRequest{},
		"RatingRequest": ratingRequest{}, "InvitationCreate": createInvitationRequest{}, "InvitationLookupRequest": invitationLookupRequest{},
		"InvitationAccept": acceptInvitationRequest{}, "WidgetSettings": kefu.WidgetSettings{}, "PreChatField": kefu.PreChatField{},
	} {
		schema := doc.m(map[string]any(doc), "components", "schemas", name)
		if schema == nil {
			t.Errorf("schema %s missing", name)
			continue
		}
		var documented []string
		for k := range doc.m(schema, "properties") {
			documented = append(documented, k)
		}
		if got, want := sorted(documented), sorted(jsonFields(reflect.TypeOf(v))); !slices.Equal(got, want) {
			t.Errorf("schema %s has %v, handler decodes %v", name, got, want)
		}
		if schema["additionalProperties"] != false {
			t.Errorf("schema %s allows additional properties, the handler does not", name)
		}
	}
}

func jsonFields(t reflect.Type) []string {
	var out []string
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name != "" && name != "-" {
			out = append(out, name)
		}
	}
	return out
}

func sorted(s []string) []string { sort.Strings(s); return s }

// TestOpenAPIDocsCopy: docs/openapi.json is the served document, byte for
// byte. Run with -update to refresh it.
func TestOpenAPIDocsCopy(t *testing.T) {
	path := filepath.Join("..", "..", "docs", "openapi.json")
	if *update {
		if err := os.WriteFile(path, openAPIDoc, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil || !bytes.Equal(got, openAPIDoc) {
		t.Fatalf("docs/openapi.json differs from internal/httpapi/openapi.json (%v); run go test ./internal/httpapi -run TestOpenAPIDocsCopy -update", err)
	}
}

// checkAgainstDoc validates one response against the document: its status
// must be documented for the operation, and its JSON body must match the
// schema exactly (required properties present, no undocumented ones, at
// every depth). newEnv installs it on every request the tests make.
func checkAgainstDoc(tb testing.TB, s *Server, req *http.Request, r *resp) {
	tb.Helper()
	doc := mustDoc(tb)
	if req.Method == http.MethodOptions {
		return // CORS preflights are answered before routing and carry no body
	}
	_, pattern := s.mux.Handler(req)
	var schema map[string]any
	switch pattern {
	case "/", "/api/":
		if s.static != nil && pattern == "/" {
			return
		}
		schema = doc.m(map[string]any(doc), "components", "schemas", "Error")
	default:
		op := doc.operations()[pattern]
		if op == nil {
			tb.Errorf("checkAgainstDoc: %s matched route %q, which is undocumented", req.URL, pattern)
			return
		}
		rs := doc.resolve(doc.m(op, "responses", fmt.Sprint(r.Code)))
		if rs == nil {
			tb.Errorf("%s %s: status %d is not documented for %s (body %s)", req.Method, req.URL, r.Code, pattern, truncate(r.String(), 200))
			return
		}
		content := doc.m(rs, "content")
		if content == nil {
			if len(r.Body) != 0 && req.Method != http.MethodHead {
				tb.Errorf("%s %s: %d is documented without a body but has %q", req.Method, req.URL, r.Code, truncate(r.String(), 100))
			}
			return
		}
		js := doc.m(content, "application/json", "schema")
		if js == nil {
			return // metrics text, file downloads
		}
		schema = js
	}
	if req.Method == http.MethodHead {
		return
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		tb.Errorf("%s %s: Content-Type %q, documented JSON", req.Method, req.URL, ct)
		return
	}
	var body any
	dec := json.NewDecoder(bytes.NewReader(r.Body))
	dec.UseNumber()
	if err := dec.Decode(&body); err != nil {
		tb.Errorf("%s %s: body is not JSON: %v", req.Method, req.URL, err)
		return
	}
	if pattern == "GET /api/openapi.json" {
		return
	}
	for _, problem := range doc.validate(schema, body, "$") {
		tb.Errorf("%s %s (%d): %s", req.Method, req.URL, r.Code, problem)
	}
}

// validate checks v against the JSON Schema subset the document uses:
// $ref, type (or a list of types), enum, properties, required,
// additionalProperties, items, format date-time, pattern.
func (d openAPI) validate(schema map[string]any, v any, at string) []string {
	schema = d.resolve(schema)
	if schema == nil {
		return []string{at + ": no schema"}
	}
	var problems []string
	kind := valueKind(v)
	if types := schemaTypes(schema["type"]); len(types) > 0 {
		ok := slices.Contains(types, kind) || (kind == "integer" && slices.Contains(types, "number"))
		if !ok {
			return []string{fmt.Sprintf("%s: %s, want %v", at, kind, types)}
		}
	}
	if enum, ok := schema["enum"].([]any); ok && !slices.ContainsFunc(enum, func(e any) bool { return fmt.Sprint(e) == fmt.Sprint(v) }) {
		problems = append(problems, fmt.Sprintf("%s: %v is not one of %v", at, v, enum))
	}
	switch x := v.(type) {
	case map[string]any:
		props := d.m(schema, "properties")
		for _, req := range asStrings(schema["required"]) {
			if _, ok := x[req]; !ok {
				problems = append(problems, fmt.Sprintf("%s: required property %q missing", at, req))
			}
		}
		for k, val := range x {
			ps, ok := props[k].(map[string]any)
			if !ok {
				if schema["additionalProperties"] == false {
					problems = append(problems, fmt.Sprintf("%s: property %q is not documented", at, k))
				}
				continue
			}
			problems = append(problems, d.validate(ps, val, at+"."+k)...)
		}
	case []any:
		if items, ok := schema["items"].(map[string]any); ok {
			for i, it := range x {
				problems = append(problems, d.validate(items, it, fmt.Sprintf("%s[%d]", at, i))...)
			}
		}
	case string:
		if schema["format"] == "date-time" {
			if _, err := time.Parse(time.RFC3339Nano, x); err != nil {
				problems = append(problems, fmt.Sprintf("%s: %q is not a date-time", at, x))
			}
		}
		if p, ok := schema["pattern"].(string); ok && !regexp.MustCompile(p).MatchString(x) {
			problems = append(problems, fmt.Sprintf("%s: %q does not match %s", at, x, p))
		}
	}
	return problems
}

func valueKind(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case json.Number:
		if _, err := x.Int64(); err == nil {
			return "integer"
		}
		return "number"
	case string:
		return "string"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}

func schemaTypes(v any) []string {
	if s, ok := v.(string); ok {
		return []string{s}
	}
	return asStrings(v)
}

func asStrings(v any) []string {
	var out []string
	if l, ok := v.([]any); ok {
		for _, x := range l {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
	}
	return out
}

// TestOpenAPIValidatorCatchesDrift makes sure the response check is not
// vacuous: an undocumented key, a missing required key and a wrong type
// are each reported.
func TestOpenAPIValidatorCatchesDrift(t *testing.T) {
	doc := mustDoc(t)
	schema := doc.m(map[string]any(doc), "components", "schemas", "MessageCreated")
	good := map[string]any{"duplicate": false, "message": map[string]any{
		"id": json.Number("1"), "workspace_id": json.Number("1"), "conversation_id": json.Number("1"), "seq": json.Number("1"),
		"sender_type": "agent", "sender_id": json.Number("1"), "kind": "text", "body": "x", "attachments": []any{},
		"created_at": "2026-11-23T08:00:00.123456Z"}}
	if p := doc.validate(schema, good, "$"); len(p) != 0 {
		t.Fatalf("valid message rejected: %v", p)
	}
	for name, mutate := range map[string]func(m map[string]any){
		"extra key":   func(m map[string]any) { m["internal_flag"] = true },
		"missing key": func(m map[string]any) { delete(m, "seq") },
		"wrong type":  func(m map[string]any) { m["seq"] = "1" },
		"bad enum":    func(m map[string]any) { m["kind"] = "sms" },
		"bad time":    func(m map[string]any) { m["created_at"] = "yesterday" },
	} {
		msg := map[string]any{}
		for k, v := range good["message"].(map[string]any) {
			msg[k] = v
		}
		mutate(msg)
		if p := doc.validate(schema, map[string]any{"duplicate": false, "message": msg}, "$"); len(p) == 0 {
			t.Errorf("%s: not reported", name)
		}
	}
}

// TestOpenAPIRepresentativeResponses makes one call of each important
// shape; newEnv's check validates each against the document (so do all
// the other tests' calls).
func TestOpenAPIRepresentativeResponses(t *testing.T) {
	e := newEnv(t, openSQLite(t))
	a := e.a
	checked := 0
	inner := e.check
	e.check = func(tb testing.TB, req *http.Request, r *resp) { checked++; inner(tb, req, r) }

	wantStatus(t, login(e, a.Admin.Email, "correct horse battery staple"), 200, "")
	r := e.do("POST", "/api/v1/me/tokens", a.AgentToken, nil)
	wantStatus(t, r, 201, "")
	wantStatus(t, e.do("DELETE", "/api/v1/me/tokens/"+r.obj(t)["id"].(string), a.AgentToken, nil), 204, "")
	r, s1 := widgetSession(e, map[string]any{"inbox_token": a.Inbox.PublicToken, "name": "Li"})
	wantStatus(t, r, 201, "")
	r, _ = widgetSession(e, map[string]any{"inbox_token": a.Inbox.PublicToken, "visitor_id": s1.VisitorID})
	wantStatus(t, r, 200, "")
	att := e.upload("/api/v1/widget/attachments", s1.Token, "a.png", pngBytes)
	r = e.do("POST", "/api/v1/widget/conversations", s1.Token, nil)
	wantStatus(t, r, 201, "")
	conv := int64(r.obj(t)["id"].(float64))
	msgs := fmt.Sprintf("/api/v1/widget/conversations/%d/messages", conv)
	wantStatus(t, e.do("POST", msgs, s1.Token, map[string]any{"kind": "attachment", "attachments": []int64{att}, "client_msg_id": "k"}), 201, "")
	wantStatus(t, e.do("POST", msgs, s1.Token, map[string]any{"kind": "attachment", "attachments": []int64{att}, "client_msg_id": "k"}), 200, "")
	wantStatus(t, e.do("GET", msgs+"?after_seq=0&limit=1", s1.Token, nil), 200, "")
	agentConv := fmt.Sprintf("/api/v1/conversations/%d", conv)
	wantStatus(t, e.do("PATCH", agentConv, a.AgentToken, map[string]any{"status": "snoozed", "snoozed_until": time.Now().Add(time.Hour).Format(time.RFC3339)}), 200, "")
	wantStatus(t, e.do("GET", "/api/v1/conversations?limit=1", a.AgentToken, nil), 200, "")
	wantStatus(t, e.do("GET", "/api/v1/contacts?limit=1", a.AgentToken, nil), 200, "")
	wantStatus(t, e.do("POST", "/api/v1/inboxes", a.AdminToken, map[string]any{"name": "Shop"}), 201, "")
	wantStatus(t, e.do("POST", fmt.Sprintf("/api/v1/inboxes/%d/rotate_secret", a.Inbox.ID), a.AdminToken, nil), 200, "")
	wantStatus(t, e.do("GET", fmt.Sprintf("/api/v1/inboxes/%d/secret", a.Inbox.ID), a.AdminToken, nil), 200, "")
	wantStatus(t, e.do("GET", fmt.Sprintf("/api/v1/attachments/%d", att), a.AgentToken, nil), 200, "")
	wantStatus(t, e.do("GET", "/metrics", "", nil), 200, "")
	wantStatus(t, e.do("GET", "/api/v1/nope", "", nil), 404, kefu.ENotFound)
	if t.Failed() || checked < 15 {
		t.Fatalf("checked %d responses", checked)
	}
}
