// Package widget serves the visitor side of Kefu in a browser: the loader
// a website embeds (/widget.js), the chat panel it frames
// (/widget/frame?inbox=TOKEN), the same panel as a full page
// (/chat/{token}) and their assets. Everything is plain files embedded
// from static/; no build step.
package widget

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"html/template"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"

	"github.com/kefu-chat/kefu/internal/kefu"
)

//go:embed static
var static embed.FS

// Inboxes finds an inbox by its public token; kefu.Store is one.
type Inboxes interface {
	GetInboxByToken(ctx context.Context, token string) (*kefu.Inbox, error)
}

// asset is one file, ready to serve in both encodings.
type asset struct {
	body, gz []byte
	ctype    string
	etag     string
}

// Handler serves the widget. It is an http.Handler.
type Handler struct {
	inboxes Inboxes
	assets  map[string]*asset // by file name under static/
	version string            // hash of every asset: the versioned asset path
	page    *template.Template
	mux     *http.ServeMux
}

// New loads the embedded files once.
func New(inboxes Inboxes) *Handler {
	h := &Handler{inboxes: inboxes, assets: map[string]*asset{}, mux: http.NewServeMux()}
	all := sha256.New()
	err := fs.WalkDir(static, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := static.ReadFile(p)
		if err != nil {
			return err
		}
		name := strings.TrimPrefix(p, "static/")
		all.Write([]byte(name))
		all.Write(body)
		h.assets[name] = newAsset(name, body)
		return nil
	})
	if err != nil {
		panic("widget: embedded files: " + err.Error())
	}
	h.version = hex.EncodeToString(all.Sum(nil))[:12]
	h.page = template.Must(template.New("panel").Parse(string(h.assets["panel.html"].body)))
	h.mux.HandleFunc("GET /widget.js", h.loader)
	h.mux.HandleFunc("GET /widget/v/{version}/{name}", h.versioned)
	h.mux.HandleFunc("GET /widget/frame", h.frame)
	h.mux.HandleFunc("GET /chat/{token}", h.chat)
	return h
}

func newAsset(name string, body []byte) *asset {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	zw.Write(body)
	zw.Close()
	sum := sha256.Sum256(body)
	ctype := mime.TypeByExtension(path.Ext(name))
	switch path.Ext(name) {
	case ".js":
		ctype = "text/javascript; charset=utf-8"
	case ".css":
		ctype = "text/css; charset=utf-8"
	case ".html":
		ctype = "text/html; charset=utf-8"
	}
	return &asset{body: body, gz: buf.Bytes(), ctype: ctype, etag: `"` + hex.EncodeToString(sum[:8]) + `"`}
}

// Mount registers the widget's paths on mux; everything else stays with
// whatever mux already serves.
func (h *Handler) Mount(mux *http.ServeMux) {
	mux.Handle("GET /widget.js", h)
	mux.Handle("GET /widget/", h)
	mux.Handle("GET /chat/{token}", h)
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Content-Type-Options", "nosniff")
	h.mux.ServeHTTP(w, r)
}

// Loader returns the loader script as embedded (for the size test).
func Loader() []byte {
	b, err := static.ReadFile("static/loader.js")
	if err != nil {
		panic(err)
	}
	return b
}

// loader serves /widget.js. Websites link it by a fixed name, so it is
// cached briefly and revalidated: an upgrade reaches every site within
// minutes. Everything it loads is versioned and cached for good.
func (h *Handler) loader(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "public, max-age=300")
	// Any site may load it, including with crossorigin="anonymous".
	w.Header().Set("Access-Control-Allow-Origin", "*")
	h.serve(w, r, h.assets["loader.js"])
}

// versioned serves /widget/v/{version}/{name}. The current version is
// immutable; an old version (a page loaded before an upgrade) gets the
// current file, uncached.
func (h *Handler) versioned(w http.ResponseWriter, r *http.Request) {
	a := h.assets[r.PathValue("name")]
	if a == nil || r.PathValue("name") == "panel.html" {
		http.NotFound(w, r)
		return
	}
	if r.PathValue("version") == h.version {
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		w.Header().Set("Cache-Control", "no-cache")
	}
	h.serve(w, r, a)
}

func (h *Handler) serve(w http.ResponseWriter, r *http.Request, a *asset) {
	hd := w.Header()
	hd.Set("Content-Type", a.ctype)
	hd.Set("ETag", a.etag)
	hd.Add("Vary", "Accept-Encoding")
	if match := r.Header.Get("If-None-Match"); match != "" && strings.Contains(match, a.etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	body := a.body
	if acceptsGzip(r) {
		hd.Set("Content-Encoding", "gzip")
		body = a.gz
	}
	w.Write(body)
}

func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		enc, q, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(enc), "gzip") && strings.ReplaceAll(q, " ", "") != "q=0" {
			return true
		}
	}
	return false
}

// frame serves the panel inside a website's iframe.
func (h *Handler) frame(w http.ResponseWriter, r *http.Request) {
	h.panel(w, r, r.URL.Query().Get("inbox"), "frame")
}

// chat serves the panel as a page of its own, for links and QR codes.
func (h *Handler) chat(w http.ResponseWriter, r *http.Request) {
	h.panel(w, r, r.PathValue("token"), "page")
}

type panelData struct {
	Version, Inbox, Mode, Lang string
}

func (h *Handler) panel(w http.ResponseWriter, r *http.Request, token, mode string) {
	hd := w.Header()
	hd.Set("Cache-Control", "no-cache")
	hd.Set("Referrer-Policy", "no-referrer")
	if token == "" || len(token) > 128 {
		http.Error(w, "unknown inbox", http.StatusNotFound)
		return
	}
	in, err := h.inboxes.GetInboxByToken(r.Context(), token)
	if kefu.IsNotFound(err) {
		http.Error(w, "unknown inbox", http.StatusNotFound)
		return
	}
	if err != nil {
		http.Error(w, "temporarily unavailable", http.StatusServiceUnavailable)
		return
	}
	hd.Set("Content-Security-Policy", csp(r, in))
	lang := "en"
	if in.Widget.Locale != "" {
		lang = in.Widget.Locale
	}
	var buf bytes.Buffer
	if err := h.page.Execute(&buf, panelData{Version: h.version, Inbox: in.PublicToken, Mode: mode, Lang: lang}); err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	hd.Set("Content-Type", "text/html; charset=utf-8")
	w.Write(buf.Bytes())
}

// csp allows the panel its own scripts, styles, API and WebSocket and
// nothing else; only the inbox's allowed origins may frame it (any site
// when the list is empty, as the widget is meant to be pasted anywhere).
func csp(r *http.Request, in *kefu.Inbox) string {
	ancestors := "*"
	if len(in.AllowedOrigins) > 0 {
		ancestors = "'self' " + strings.Join(in.AllowedOrigins, " ")
	}
	ws := "ws://" + r.Host + " wss://" + r.Host
	return "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; " +
		"connect-src 'self' " + ws + "; base-uri 'none'; form-action 'none'; frame-ancestors " + ancestors
}

// Version is the current asset version (for tests).
func (h *Handler) Version() string { return h.version }
