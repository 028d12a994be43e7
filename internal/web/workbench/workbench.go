// Package workbench serves the agents' web app: the workbench where agents
// answer conversations and the admin console. It is plain ES modules and
// CSS under static/, embedded in the binary; nothing is built with Node.
//
// Routes (mounted by Mount):
//
//	GET /                      the login page (index.html)
//	GET /app/...               client-side routes: index.html again
//	GET /assets/wb/{hash}/...  the modules and CSS, under a hash of their content
//
// The assets' URL holds a hash of every file, so they are cached for a
// year and a new release is fetched at once; index.html is never cached.
// The app keeps its session token in localStorage and sends it as a bearer
// header; there are no cookies, so the HTML carries no data and needs no
// server-side gate: every API the admin pages call answers 403 to
// non-admins, and the app shows a forbidden view without calling them.
package workbench

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"net/http"
	"path"
	"sort"
	"strings"
)

//go:embed static
var embedded embed.FS

// csp allows only the app's own scripts, styles and connections (the
// WebSocket included), and images from itself or blob URLs (attachments
// fetched with the bearer token). Inline script is never allowed: even if
// a bug let visitor text into the DOM as markup, it could not run.
const csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; media-src 'self' blob:; " +
	"connect-src 'self' ws: wss:; font-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// Handler serves the workbench.
type Handler struct {
	files   fs.FS
	version string
	index   []byte
	assets  http.Handler
}

// New builds the handler over the embedded files.
func New() *Handler {
	files, err := fs.Sub(embedded, "static")
	if err != nil {
		panic("workbench: " + err.Error()) // the embed directive guarantees static exists
	}
	return newHandler(files)
}

func newHandler(files fs.FS) *Handler {
	h := &Handler{files: files, version: contentHash(files)}
	raw, err := fs.ReadFile(files, "index.html")
	if err != nil {
		panic("workbench: index.html: " + err.Error())
	}
	h.index = bytes.ReplaceAll(raw, []byte("{{ASSETS}}"), []byte(h.AssetsPath()))
	h.assets = http.StripPrefix(h.AssetsPath(), http.FileServerFS(files))
	return h
}

// AssetsPath is the URL folder the modules are served from.
func (h *Handler) AssetsPath() string { return "/assets/wb/" + h.version + "/" }

// contentHash hashes every file's name and bytes, in name order.
func contentHash(files fs.FS) string {
	var names []string
	fs.WalkDir(files, ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			names = append(names, p)
		}
		return nil
	})
	sort.Strings(names)
	sum := sha256.New()
	for _, n := range names {
		b, _ := fs.ReadFile(files, n)
		sum.Write([]byte(n + "\x00"))
		sum.Write(b)
	}
	return hex.EncodeToString(sum.Sum(nil))[:16]
}

// Mount registers the workbench's routes on mux.
func (h *Handler) Mount(mux *http.ServeMux) {
	mux.HandleFunc("GET /{$}", h.serveIndex)
	mux.HandleFunc("GET /app/", h.serveIndex)
	mux.HandleFunc("GET /app", h.serveIndex)
	mux.HandleFunc("GET /assets/wb/{version}/{file...}", h.serveAsset)
}

func (h *Handler) serveIndex(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Content-Type", "text/html; charset=utf-8")
	hd.Set("Cache-Control", "no-cache")
	hd.Set("Content-Security-Policy", csp)
	hd.Set("X-Frame-Options", "DENY")
	w.Write(h.index)
}

func (h *Handler) serveAsset(w http.ResponseWriter, r *http.Request) {
	file := r.PathValue("file")
	if r.PathValue("version") != h.version || file == "index.html" || strings.HasSuffix(file, "/") || path.Clean(file) != file {
		// An old release's hash: its files are gone. Not cached, so the
		// next release's page can load.
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	h.assets.ServeHTTP(w, r)
}
