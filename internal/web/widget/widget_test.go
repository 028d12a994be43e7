package widget

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/kefu-chat/kefu/internal/kefu"
	"github.com/kefu-chat/kefu/internal/store/sqlite"
)

// TestLoaderSize: the script every page of a website loads stays small.
func TestLoaderSize(t *testing.T) {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	zw.Write(Loader())
	zw.Close()
	const limit = 30 << 10
	t.Logf("loader: %d bytes, %d gzipped", len(Loader()), buf.Len())
	if buf.Len() >= limit {
		t.Fatalf("widget.js is %d bytes gzipped, over the %d budget", buf.Len(), limit)
	}
}

// TestStringTables: every string exists in both languages, and every key
// the panel uses exists.
func TestStringTables(t *testing.T) {
	src, err := static.ReadFile("static/i18n.js")
	if err != nil {
		t.Fatal(err)
	}
	tables := map[string][]string{}
	block := regexp.MustCompile(`(?s)\n  (en|'zh-CN'): \{\n(.*?)\n  \},`)
	key := regexp.MustCompile(`(?m)^    (\w+): '`)
	for _, m := range block.FindAllSubmatch(src, -1) {
		for _, k := range key.FindAllSubmatch(m[2], -1) {
			tables[strings.Trim(string(m[1]), "'")] = append(tables[strings.Trim(string(m[1]), "'")], string(k[1]))
		}
	}
	en, zh := tables["en"], tables["zh-CN"]
	if len(en) < 40 || len(zh) < 40 {
		t.Fatalf("parsed %d en and %d zh-CN strings; the table format changed?", len(en), len(zh))
	}
	for _, k := range en {
		if !slices.Contains(zh, k) {
			t.Errorf("zh-CN lacks %q", k)
		}
	}
	for _, k := range zh {
		if !slices.Contains(en, k) {
			t.Errorf("en lacks %q", k)
		}
	}
	panel, _ := static.ReadFile("static/panel.js")
	for _, m := range regexp.MustCompile(`\bt\('(\w+)'`).FindAllSubmatch(panel, -1) {
		if !slices.Contains(en, string(m[1])) {
			t.Errorf("panel.js uses %q, which is not in the table", m[1])
		}
	}
	// No hard-coded user-visible text in the panel outside the table:
	// strings with letters passed to h() as children would show up here.
	for _, m := range regexp.MustCompile(`h\('(?:p|span|button|label)', \{[^}]*\}, '([A-Za-z][^']*)'`).FindAllSubmatch(panel, -1) {
		t.Errorf("panel.js shows a literal %q; put it in i18n.js", m[1])
	}
}

func newHandler(t *testing.T, origins []string) (*Handler, *kefu.Inbox) {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "kefu.db"), sqlite.Options{Synchronous: "NORMAL"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ws := &kefu.Workspace{Name: "Acme"}
	if err := st.CreateWorkspace(t.Context(), ws); err != nil {
		t.Fatal(err)
	}
	in := &kefu.Inbox{WorkspaceID: ws.ID, Name: "Site", PublicToken: "tok123", Secret: "s", AllowedOrigins: origins}
	if err := st.CreateInbox(t.Context(), in); err != nil {
		t.Fatal(err)
	}
	return New(st), in
}

func get(h http.Handler, path string, hdr ...string) *http.Response {
	req := httptest.NewRequest("GET", path, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	mux := http.NewServeMux()
	mux.Handle("/", http.NotFoundHandler())
	h.(*Handler).Mount(mux)
	mux.ServeHTTP(w, req)
	return w.Result()
}

func TestServing(t *testing.T) {
	h, in := newHandler(t, nil)
	v := h.Version()
	for _, tc := range []struct {
		path, ctype, cache string
		status             int
	}{
		{"/widget.js", "text/javascript; charset=utf-8", "public, max-age=300", 200},
		{"/widget/v/" + v + "/panel.js", "text/javascript; charset=utf-8", "public, max-age=31536000, immutable", 200},
		{"/widget/v/" + v + "/i18n.js", "text/javascript; charset=utf-8", "public, max-age=31536000, immutable", 200},
		{"/widget/v/" + v + "/panel.css", "text/css; charset=utf-8", "public, max-age=31536000, immutable", 200},
		{"/widget/v/old/panel.js", "text/javascript; charset=utf-8", "no-cache", 200},
		{"/widget/v/" + v + "/nope.js", "", "", 404},
		{"/widget/v/" + v + "/panel.html", "", "", 404},
		{"/widget/frame?inbox=" + in.PublicToken, "text/html; charset=utf-8", "no-cache", 200},
		{"/chat/" + in.PublicToken, "text/html; charset=utf-8", "no-cache", 200},
		{"/chat/unknown", "", "no-cache", 404},
		{"/widget/frame", "", "no-cache", 404},
	} {
		r := get(h, tc.path)
		if r.StatusCode != tc.status {
			t.Errorf("%s: status %d, want %d", tc.path, r.StatusCode, tc.status)
			continue
		}
		if tc.ctype != "" && r.Header.Get("Content-Type") != tc.ctype {
			t.Errorf("%s: Content-Type %q, want %q", tc.path, r.Header.Get("Content-Type"), tc.ctype)
		}
		if r.Header.Get("Cache-Control") != tc.cache {
			t.Errorf("%s: Cache-Control %q, want %q", tc.path, r.Header.Get("Cache-Control"), tc.cache)
		}
		if r.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: no nosniff", tc.path)
		}
	}

	// ETag revalidation and gzip.
	r := get(h, "/widget.js")
	etag := r.Header.Get("ETag")
	if etag == "" {
		t.Fatal("no ETag")
	}
	if r := get(h, "/widget.js", "If-None-Match", etag); r.StatusCode != http.StatusNotModified {
		t.Fatalf("revalidation: %d", r.StatusCode)
	}
	r = get(h, "/widget.js", "Accept-Encoding", "br, gzip")
	if r.Header.Get("Content-Encoding") != "gzip" || !strings.Contains(r.Header.Get("Vary"), "Accept-Encoding") {
		t.Fatalf("gzip headers %v", r.Header)
	}
	zr, err := gzip.NewReader(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := io.ReadAll(zr)
	if !bytes.Equal(plain, Loader()) {
		t.Fatal("gzipped loader differs from the file")
	}
	if r := get(h, "/widget.js", "Accept-Encoding", "gzip;q=0"); r.Header.Get("Content-Encoding") != "" {
		t.Fatal("gzip sent to a client that refused it")
	}

	// The page names the versioned assets and carries a strict CSP.
	r = get(h, "/chat/"+in.PublicToken)
	page, _ := io.ReadAll(r.Body)
	if !strings.Contains(string(page), "/widget/v/"+v+"/panel.js") || !strings.Contains(string(page), `data-inbox="tok123"`) {
		t.Fatalf("page %s", page)
	}
	csp := r.Header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "script-src 'self'", "connect-src 'self' ws://example.com wss://example.com", "frame-ancestors *"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
}

func TestFrameAncestorsFollowAllowedOrigins(t *testing.T) {
	h, in := newHandler(t, []string{"https://shop.example"})
	r := get(h, "/widget/frame?inbox="+in.PublicToken)
	if csp := r.Header.Get("Content-Security-Policy"); !strings.HasSuffix(csp, "frame-ancestors 'self' https://shop.example") {
		t.Fatalf("CSP %q", csp)
	}
}

// TestTemplateEscapesToken: a token in the URL reaches the page only as
// escaped text (an unknown one never reaches it at all).
func TestTemplateEscapesToken(t *testing.T) {
	h, _ := newHandler(t, nil)
	r := get(h, `/widget/frame?inbox=%22%3E%3Cscript%3E`)
	body, _ := io.ReadAll(r.Body)
	if r.StatusCode != 404 || strings.Contains(string(body), "<script>") {
		t.Fatalf("%d %s", r.StatusCode, body)
	}
}
