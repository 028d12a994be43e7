package httpapi

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/kefu-chat/kefu/internal/kefu"
)

func TestPanicRecovery(t *testing.T) {
	e := newEnv(t, openSQLite(t))
	h := e.srv.middleware(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom: secret detail") }))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/api/v1/anything", nil))
	r := &resp{Code: w.Code, Header: w.Result().Header, Body: w.Body.Bytes()}
	wantStatus(t, r, 500, "internal")
	if strings.Contains(r.String(), "boom") || !strings.Contains(r.String(), `"internal error"`) {
		t.Fatalf("panic text reached the client: %s", r)
	}
	if logs := e.logs.String(); !strings.Contains(logs, "boom: secret detail") || !strings.Contains(logs, r.Header.Get("X-Request-Id")) {
		t.Fatalf("panic not logged with request id: %s", logs)
	}
}

// failingStore breaks one method to show how internal errors surface.
type failingStore struct {
	kefu.Store
}

func (failingStore) ListAgents(context.Context, int64) ([]*kefu.Agent, error) {
	return nil, errors.New("disk on fire at /var/lib/kefu")
}

func TestInternalErrorsAreLoggedNotShown(t *testing.T) {
	st := openSQLite(t)
	e := newEnv(t, failingStore{st})
	r := e.do("GET", "/api/v1/agents", e.a.AgentToken, nil, "X-Request-Id", "req-abc.123")
	wantStatus(t, r, 500, "internal")
	if strings.Contains(r.String(), "disk") || r.obj(t)["error"].(map[string]any)["message"] != "internal error" {
		t.Fatalf("internal error text leaked: %s", r)
	}
	if r.Header.Get("X-Request-Id") != "req-abc.123" {
		t.Fatalf("request id not kept: %q", r.Header.Get("X-Request-Id"))
	}
	logs := e.logs.String()
	if !strings.Contains(logs, "disk on fire") || !strings.Contains(logs, "req-abc.123") || !strings.Contains(logs, `"level":"ERROR"`) {
		t.Fatalf("internal error not logged at error level with the request id: %s", logs)
	}
	// An unusable incoming id is replaced.
	r = e.do("GET", "/healthz", "", nil, "X-Request-Id", "evil\"id with spaces")
	if id := r.Header.Get("X-Request-Id"); id == "" || strings.ContainsAny(id, "\" ") {
		t.Fatalf("request id %q", id)
	}
}

func TestReadiness(t *testing.T) {
	var fail error
	e := newEnv(t, openSQLite(t), func(o *Options) {
		o.Ready = func(context.Context) error { return fail }
	})
	wantStatus(t, e.do("GET", "/readyz", "", nil), 200, "")
	fail = errors.New("database unreachable")
	wantStatus(t, e.do("GET", "/readyz", "", nil), 503, "unavailable")
	wantStatus(t, e.do("GET", "/healthz", "", nil), 200, "")
}

func TestMetricsByRoute(t *testing.T) {
	e := newEnv(t, openSQLite(t))
	for range 3 {
		e.do("GET", "/api/v1/conversations/"+strconv.FormatInt(e.a.Conversation.ID, 10), e.a.AgentToken, nil)
	}
	e.do("GET", "/api/v1/conversations/999999", e.a.AgentToken, nil)
	e.do("GET", "/no/such/path/12345", "", nil)
	page := e.do("GET", "/metrics", "", nil).String()
	for _, want := range []string{
		`kefu_http_requests_total{code="200",route="GET /api/v1/conversations/{id}"} 3`,
		`kefu_http_requests_total{code="404",route="GET /api/v1/conversations/{id}"} 1`,
		`kefu_http_requests_total{code="404",route="unmatched"} 1`,
		`kefu_http_request_seconds_count{route="GET /api/v1/conversations/{id}"} 4`,
	} {
		if !strings.Contains(page, want+"\n") {
			t.Errorf("metrics page lacks %s", want)
		}
	}
	if strings.Contains(page, "12345") {
		t.Error("a raw path became a metric label")
	}
}

func TestSecurityHeaders(t *testing.T) {
	e := newEnv(t, openSQLite(t))
	r := e.do("GET", "/api/v1/me", e.a.AgentToken, nil)
	for k, v := range map[string]string{
		"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY", "Cache-Control": "no-store", "Referrer-Policy": "no-referrer",
	} {
		if r.Header.Get(k) != v {
			t.Errorf("%s = %q, want %q", k, r.Header.Get(k), v)
		}
	}
	if !strings.Contains(r.Header.Get("Content-Security-Policy"), "default-src 'none'") {
		t.Errorf("CSP %q", r.Header.Get("Content-Security-Policy"))
	}
}

func TestStaticFallback(t *testing.T) {
	e := newEnv(t, openSQLite(t), func(o *Options) {
		o.Static = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("<html>ui</html>")) })
	})
	r := e.do("GET", "/workbench/", "", nil)
	if r.Code != 200 || r.String() != "<html>ui</html>" {
		t.Fatalf("static: %d %s", r.Code, r)
	}
	// The API never falls through to the UI.
	wantStatus(t, e.do("GET", "/api/v1/nothing", e.a.AgentToken, nil), 404, "not_found")
}

func TestClientIP(t *testing.T) {
	tests := []struct {
		trust  bool
		remote string
		xff    []string
		want   string
	}{
		{false, "192.0.2.1:5000", []string{"203.0.113.9"}, "192.0.2.1"},
		{true, "192.0.2.1:5000", nil, "192.0.2.1"},
		{true, "192.0.2.1:5000", []string{"203.0.113.9"}, "203.0.113.9"},
		{true, "192.0.2.1:5000", []string{"1.1.1.1, 203.0.113.9"}, "203.0.113.9"},
		{true, "192.0.2.1:5000", []string{"1.1.1.1", "203.0.113.9 "}, "203.0.113.9"},
		{true, "192.0.2.1:5000", []string{"garbage"}, "192.0.2.1"},
		{true, "[2001:db8::1]:5000", nil, "2001:db8::1"},
	}
	for _, tt := range tests {
		s := &Server{proxy: tt.trust}
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = tt.remote
		for _, v := range tt.xff {
			r.Header.Add("X-Forwarded-For", v)
		}
		if got := s.remoteIP(r); got != tt.want {
			t.Errorf("trust=%v remote=%s xff=%v: %s, want %s", tt.trust, tt.remote, tt.xff, got, tt.want)
		}
	}
	if ipKey("2001:db8:1:2:3:4:5:6") != ipKey("2001:db8:1:2:ffff::1") || ipKey("2001:db8:1:2::1") == ipKey("2001:db8:1:3::1") {
		t.Fatal("IPv6 addresses are not grouped by /64")
	}
}
