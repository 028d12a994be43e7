package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kefu-chat/kefu/internal/auth"
	"github.com/kefu-chat/kefu/internal/bus/inproc"
	"github.com/kefu-chat/kefu/internal/chat"
	"github.com/kefu-chat/kefu/internal/files"
	"github.com/kefu-chat/kefu/internal/kefu"
	"github.com/kefu-chat/kefu/internal/kefutest"
	"github.com/kefu-chat/kefu/internal/metrics"
	"github.com/kefu-chat/kefu/internal/store/postgres"
	"github.com/kefu-chat/kefu/internal/store/sqlite"
)

// openSQLite is a fresh SQLite store in the test's temp folder. NORMAL
// synchronous mode: durability across power loss is the store's own
// tests' business, and fsyncs would only slow these down.
func openSQLite(tb testing.TB) kefu.Store {
	tb.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(tb.TempDir(), "kefu.db"), sqlite.Options{Synchronous: "NORMAL"})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	return st
}

// openPostgres is a fresh schema on the test PostgreSQL server; see
// kefutest.PostgresURL for how a missing server is reported.
func openPostgres(tb testing.TB) kefu.Store {
	tb.Helper()
	url := kefutest.PostgresURL(tb)
	st, err := postgres.Open(context.Background(), url, postgres.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	return st
}

// logBuffer collects log output for assertions; safe for concurrent use.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// env is a server over a real store with two workspaces: A (the caller's
// in most tests) and B (the one A must never see).
type env struct {
	tb      testing.TB
	store   kefu.Store
	chat    *chat.Service
	auth    *auth.Authenticator
	files   *files.Disk
	metrics *metrics.Metrics
	srv     *Server
	logs    *logBuffer
	a, b    *kefutest.Fixture
	// check runs on every response do records; by default it validates
	// the response against openapi.json.
	check func(tb testing.TB, req *http.Request, r *resp)
}

func newEnv(tb testing.TB, store kefu.Store, mods ...func(*Options)) *env {
	tb.Helper()
	logs := &logBuffer{}
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	m := metrics.New()
	c := chat.New(store, inproc.New(), log, m)
	authn := auth.NewAuthenticator(store, time.Now)
	disk, err := files.NewDisk(filepath.Join(tb.TempDir(), "attachments"))
	if err != nil {
		tb.Fatal(err)
	}
	opts := Options{Store: store, Chat: c, Auth: authn, Files: disk, Metrics: m, Log: log, Now: time.Now,
		// Rate limits off unless a test turns them on: they have tests of their own.
		Limits: Limits{MaxUploadBytes: 64 << 10, MaxJSONBytes: 32 << 10,
			LoginPerIP: Rate{PerMinute: -1}, LoginPerEmail: Rate{PerMinute: -1}, WidgetPerIP: Rate{PerMinute: -1}, WidgetReads: Rate{PerMinute: -1},
			VisitorWrites: Rate{PerMinute: -1}, Uploads: Rate{PerMinute: -1}}}
	for _, mod := range mods {
		mod(&opts)
	}
	srv := New(opts)
	return &env{tb: tb, store: store, chat: c, auth: authn, files: disk, metrics: m, srv: srv, logs: logs,
		a:     kefutest.NewFixture(tb, store, authn, "Acme"),
		b:     kefutest.NewFixture(tb, store, authn, "Bolt"),
		check: func(tb testing.TB, req *http.Request, r *resp) { checkAgainstDoc(tb, srv, req, r) }}
}

// with returns a copy of e that reports to tb: fuzz targets must not call
// the F's helpers from inside the target.
func (e *env) with(tb testing.TB) *env {
	c := *e
	c.tb = tb
	return &c
}

// resp is a recorded response.
type resp struct {
	Code   int
	Header http.Header
	Body   []byte
}

func (r *resp) String() string { return string(r.Body) }

// obj decodes the body as a JSON object.
func (r *resp) obj(tb testing.TB) map[string]any {
	tb.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		tb.Fatalf("response is not a JSON object: %v: %q", err, truncate(string(r.Body), 300))
	}
	return m
}

// into decodes the body into v.
func (r *resp) into(tb testing.TB, v any) {
	tb.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		tb.Fatalf("decode %T: %v: %q", v, err, truncate(string(r.Body), 300))
	}
}

// errCode is the code of an error response, or "" if the body is not the
// error envelope.
func (r *resp) errCode() string {
	var e struct {
		Error *struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(r.Body, &e) != nil || e.Error == nil {
		return ""
	}
	return e.Error.Code
}

// rawBody is a request body sent as is with the given Content-Type.
type rawBody struct {
	ctype string
	data  []byte
}

func jsonRaw(s string) rawBody { return rawBody{"application/json", []byte(s)} }

// do sends a request through the server's handler. body may be nil, a
// rawBody, or anything to marshal as JSON. hdr is extra "Name", "value"
// pairs.
func (e *env) do(method, path, token string, body any, hdr ...string) *resp {
	e.tb.Helper()
	var rd io.Reader
	ctype := ""
	switch b := body.(type) {
	case nil:
	case rawBody:
		rd, ctype = bytes.NewReader(b.data), b.ctype
	default:
		data, err := json.Marshal(b)
		if err != nil {
			e.tb.Fatal(err)
		}
		rd, ctype = bytes.NewReader(data), "application/json"
	}
	req := httptest.NewRequest(method, path, rd)
	req.RemoteAddr = "192.0.2.10:40000"
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	e.srv.ServeHTTP(w, req)
	r := &resp{Code: w.Code, Header: w.Result().Header, Body: w.Body.Bytes()}
	if e.check != nil {
		e.check(e.tb, req, r)
	}
	return r
}

// multipartFile builds a multipart body with one "file" part.
func multipartFile(tb testing.TB, field, name, declaredType string, data []byte) rawBody {
	tb.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	h := make(map[string][]string)
	h["Content-Disposition"] = []string{`form-data; name="` + field + `"; filename="` + strings.ReplaceAll(name, `"`, `\"`) + `"`}
	if declaredType != "" {
		h["Content-Type"] = []string{declaredType}
	}
	pw, err := mw.CreatePart(h)
	if err != nil {
		tb.Fatal(err)
	}
	pw.Write(data)
	mw.Close()
	return rawBody{mw.FormDataContentType(), buf.Bytes()}
}

var pngBytes = append([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"), make([]byte, 64)...)

// upload posts a file and returns the attachment id.
func (e *env) upload(path, token, name string, data []byte) int64 {
	e.tb.Helper()
	r := e.do("POST", path, token, multipartFile(e.tb, "file", name, "", data))
	if r.Code != http.StatusCreated {
		e.tb.Fatalf("upload: %d %s", r.Code, r)
	}
	var a kefu.Attachment
	r.into(e.tb, &a)
	return a.ID
}

// wantStatus fails unless r has the status (and, for errors, the code).
func wantStatus(tb testing.TB, r *resp, status int, code string) {
	tb.Helper()
	if r.Code != status {
		tb.Fatalf("status = %d, want %d; body %s", r.Code, status, truncate(r.String(), 500))
	}
	if code != "" && r.errCode() != code {
		tb.Fatalf("error code = %q, want %q; body %s", r.errCode(), code, truncate(r.String(), 500))
	}
}
