package workbench

import (
	"io/fs"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

func serve(h *Handler, path string) *httptest.ResponseRecorder {
	mux := http.NewServeMux()
	h.Mount(mux)
	w := httptest.NewRecorder()
	mux.ServeHTTP(w, httptest.NewRequest("GET", path, nil))
	return w
}

// TestRoutes: the page at / and every /app/ route, the hashed assets with
// long caching, and nothing else.
func TestRoutes(t *testing.T) {
	h := New()
	for _, p := range []string{"/", "/app", "/app/conversations", "/app/conversations/12", "/app/admin/agents"} {
		w := serve(h, p)
		body := w.Body.String()
		if w.Code != 200 || !strings.Contains(body, `src="`+h.AssetsPath()+`main.js"`) || strings.Contains(body, "{{ASSETS}}") {
			t.Errorf("%s: %d %q", p, w.Code, body)
		}
		if csp := w.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") {
			t.Errorf("%s: CSP %q", p, csp)
		}
		if w.Header().Get("Cache-Control") != "no-cache" {
			t.Errorf("%s: the page must be revalidated: %q", p, w.Header().Get("Cache-Control"))
		}
	}
	w := serve(h, h.AssetsPath()+"main.js")
	if w.Code != 200 || !strings.Contains(w.Header().Get("Content-Type"), "javascript") || !strings.Contains(w.Header().Get("Cache-Control"), "immutable") {
		t.Errorf("main.js: %d %v", w.Code, w.Header())
	}
	for _, p := range []string{"/assets/wb/0000000000000000/main.js", h.AssetsPath() + "index.html", h.AssetsPath() + "nope.js", "/widget.js", "/favicon.ico"} {
		if w := serve(h, p); w.Code != 404 {
			t.Errorf("%s: %d, want 404", p, w.Code)
		}
	}
}

// TestStringsComplete: every key the modules pass to t() exists in both
// languages, and both languages have the same keys.
func TestStringsComplete(t *testing.T) {
	files, _ := fs.Sub(embedded, "static")
	src, err := fs.ReadFile(files, "i18n.js")
	if err != nil {
		t.Fatal(err)
	}
	table := string(src)
	en, zh := table[strings.Index(table, "  en: {"):strings.Index(table, "  'zh-CN': {")], table[strings.Index(table, "  'zh-CN': {"):]
	keyRE := regexp.MustCompile(`(?m)(?:^|[ {,])([A-Za-z_]+): '`)
	keys := func(s string) map[string]bool {
		m := map[string]bool{}
		for _, k := range keyRE.FindAllStringSubmatch(s, -1) {
			m[k[1]] = true
		}
		return m
	}
	enKeys, zhKeys := keys(en), keys(zh)
	for k := range enKeys {
		if !zhKeys[k] {
			t.Errorf("%q has no zh-CN string", k)
		}
	}
	for k := range zhKeys {
		if !enKeys[k] {
			t.Errorf("%q has no English string", k)
		}
	}
	// Keys used literally, and the families built with a prefix.
	used := regexp.MustCompile(`\bt\('([A-Za-z_]+)'\)?`)
	families := map[string][]string{"status_": {"open", "pending", "resolved", "snoozed"}, "tab_": {"mine", "unassigned", "all"},
		"presence_": {"online", "away", "offline"}, "mode_": {"reply", "note"}, "role_": {"admin", "agent"},
		"admin_":  {"agents", "inboxes", "canned", "labels", "account", "teams", "routing", "rules", "kb", "documents", "intents", "llm", "bot", "botreports"},
		"format_": {"markdown", "text", "html"}, "entity_": {"order_number", "phone", "email", "date"},
		"outcome_":  {"answered", "unanswered", "handoff", "greeting"},
		"priority_": {"none", "low", "medium", "high", "urgent"},
		"policy_":   {"least_loaded", "round_robin", "manual"}, "day_": {"mon", "tue", "wed", "thu", "fri", "sat", "sun"},
		"event_": {"conversation_created", "message_received"}, "op_": {"contains", "equals", "starts_with", "regex"},
		"act_": {"set_team", "set_priority", "add_label"}, "match_": {"all", "any"}, "botMode_": {"off", "bot_first", "outside_hours"},
		"fieldType_": {"text", "email", "tel", "select", "textarea"}}
	fs.WalkDir(files, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || !strings.HasSuffix(p, ".js") {
			return err
		}
		b, _ := fs.ReadFile(files, p)
		for _, m := range used.FindAllStringSubmatch(string(b), -1) {
			k := m[1]
			if fam, ok := families[k]; ok {
				for _, f := range fam {
					if !enKeys[k+f] {
						t.Errorf("%s: %q has no string", p, k+f)
					}
				}
				continue
			}
			if !enKeys[k] {
				t.Errorf("%s: t(%q) has no string", p, k)
			}
		}
		return nil
	})
	if len(enKeys) < 100 {
		t.Fatalf("found only %d keys: the parser is broken", len(enKeys))
	}
}

// TestNoHTMLSinks: the modules never parse strings as HTML; user text
// reaches the page only as text nodes (see dom.js).
func TestNoHTMLSinks(t *testing.T) {
	files, _ := fs.Sub(embedded, "static")
	sink := regexp.MustCompile(`innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function|createContextualFragment`)
	fs.WalkDir(files, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || !strings.HasSuffix(p, ".js") {
			return err
		}
		b, _ := fs.ReadFile(files, p)
		if loc := sink.FindIndex(b); loc != nil {
			t.Errorf("%s uses %s", p, b[loc[0]:loc[1]])
		}
		return nil
	})
}
