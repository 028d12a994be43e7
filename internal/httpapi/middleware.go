package httpapi

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/kefu-chat/kefu/internal/auth"
	"github.com/kefu-chat/kefu/internal/kefu"
)

// reqState travels in the request context. The route wrapper fills in the
// pattern once the mux has matched, so the outer middleware can label logs
// and metrics by route rather than by raw path (bounded cardinality).
type reqState struct {
	id      string
	ip      string
	pattern string
}

type ctxKey struct{}

func state(ctx context.Context) *reqState {
	if st, ok := ctx.Value(ctxKey{}).(*reqState); ok {
		return st
	}
	return &reqState{}
}

func requestID(ctx context.Context) string { return state(ctx).id }

// clientIP is the address rate limits and logs use.
func clientIP(r *http.Request) string { return state(r.Context()).ip }

// middleware wraps every request: request id, client address, security
// headers, CORS for the public surfaces, panic recovery, access log and
// metrics.
func (s *Server) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := s.now()
		st := &reqState{id: incomingRequestID(r.Header.Get("X-Request-Id")), ip: s.remoteIP(r), pattern: "unmatched"}
		r = r.WithContext(context.WithValue(r.Context(), ctxKey{}, st))
		rec := &recorder{ResponseWriter: w}
		h := w.Header()
		h.Set("X-Request-Id", st.id)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		if isAPIPath(r.URL.Path) {
			h.Set("Cache-Control", "no-store")
			h.Set("X-Frame-Options", "DENY")
			h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'; sandbox")
		}

		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				s.log.Error("panic serving request", "request_id", st.id, "method", r.Method, "path", r.URL.Path,
					"panic", fmt.Sprint(p), "stack", string(debug.Stack()))
				if !rec.wrote {
					s.writeError(rec, r, errors.New("panic"))
				}
			}
			s.observe(r, rec, st, s.now().Sub(start))
		}()

		if s.cors(rec, r) {
			return
		}
		next.ServeHTTP(rec, r)
	})
}

func isAPIPath(p string) bool {
	return strings.HasPrefix(p, "/api/") || p == "/healthz" || p == "/readyz" || p == "/metrics"
}

func (s *Server) observe(r *http.Request, rec *recorder, st *reqState, d time.Duration) {
	status := rec.status
	if status == 0 {
		status = http.StatusOK
	}
	s.metrics.HTTPRequests.WithLabelValues(st.pattern, strconv.Itoa(status)).Inc()
	s.metrics.HTTPSeconds.WithLabelValues(st.pattern).Observe(d.Seconds())
	level := slog.LevelDebug
	switch {
	case status >= 500:
		level = slog.LevelWarn
	case status >= 400:
		level = slog.LevelInfo
	}
	s.log.LogAttrs(r.Context(), level, "http request",
		slog.String("request_id", st.id), slog.String("method", r.Method), slog.String("route", st.pattern),
		slog.String("path", r.URL.Path), slog.Int("status", status), slog.Int64("bytes", rec.bytes),
		slog.Duration("duration", d), slog.String("ip", st.ip))
}

// incomingRequestID keeps a caller's id if it is short and plain, so ids
// can be followed through a proxy; otherwise it makes one.
func incomingRequestID(v string) string {
	if n := len(v); n > 0 && n <= 64 {
		ok := true
		for _, c := range v {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
				ok = false
				break
			}
		}
		if ok {
			return v
		}
	}
	b := make([]byte, 12)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// remoteIP is the client's address: the peer, or with TrustProxyHeaders
// the last X-Forwarded-For entry, which is the one our own proxy appended
// (entries to its left are whatever the client claimed).
func (s *Server) remoteIP(r *http.Request) string {
	if s.proxy {
		if xff := r.Header.Values("X-Forwarded-For"); len(xff) > 0 {
			parts := strings.Split(xff[len(xff)-1], ",")
			if ip := net.ParseIP(strings.TrimSpace(parts[len(parts)-1])); ip != nil {
				return ip.String()
			}
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// cors answers cross-origin requests for the surfaces a customer's web
// page calls: the widget API and the OpenAPI document. Tokens travel in the
// Authorization header, never in cookies, so credentials are not allowed
// and reflecting the origin exposes nothing; which origins may use an inbox
// is checked when the visitor session is created. It reports whether the
// request was a preflight it fully answered.
func (s *Server) cors(w http.ResponseWriter, r *http.Request) bool {
	p := r.URL.Path
	widget := strings.HasPrefix(p, "/api/v1/widget/")
	if !widget && p != "/api/openapi.json" {
		return false
	}
	origin := r.Header.Get("Origin")
	h := w.Header()
	h.Add("Vary", "Origin")
	if widget && origin != "" {
		h.Set("Access-Control-Allow-Origin", origin)
	} else {
		h.Set("Access-Control-Allow-Origin", "*")
	}
	h.Set("Access-Control-Expose-Headers", "X-Request-Id, Retry-After")
	if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
		h.Set("Access-Control-Allow-Methods", "GET, POST, PATCH, OPTIONS")
		h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, X-Request-Id")
		h.Set("Access-Control-Max-Age", "600")
		w.WriteHeader(http.StatusNoContent)
		return true
	}
	return false
}

// recorder remembers the status and size for the access log. It passes
// Flush and Hijack through: the WebSocket routes need Hijack.
type recorder struct {
	http.ResponseWriter
	status int
	bytes  int64
	wrote  bool
}

func (r *recorder) WriteHeader(code int) {
	if !r.wrote {
		r.status, r.wrote = code, true
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if !r.wrote {
		r.status, r.wrote = http.StatusOK, true
	}
	n, err := r.ResponseWriter.Write(b)
	r.bytes += int64(n)
	return n, err
}

func (r *recorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (r *recorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	h, ok := r.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("httpapi: connection cannot be hijacked")
	}
	c, rw, err := h.Hijack()
	if err == nil && !r.wrote {
		r.status, r.wrote = http.StatusSwitchingProtocols, true
	}
	return c, rw, err
}

func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// access says who may call a route.
type access int

const (
	public  access = iota // no token needed
	agents                // an agent session or API token, any role
	admins                // an agent session or API token of an admin
	visitor               // a visitor token from POST /widget/sessions
)

// handlerFunc is the shape of every API handler: it gets the authenticated
// actor (zero for public routes) and returns an error instead of writing it.
type handlerFunc func(w http.ResponseWriter, r *http.Request, a kefu.Actor) error

// route is one row of the route table.
type route struct {
	pattern string // Go ServeMux pattern, "METHOD /path"
	access  access
	h       handlerFunc
}

// endpoint adapts a route to http.Handler: it records the pattern,
// authenticates, checks the caller's kind, runs the handler and writes any
// error it returns.
func (s *Server) endpoint(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		state(r.Context()).pattern = rt.pattern
		actor, err := s.authenticate(r, rt.access)
		if err == nil && rt.access == visitor && r.Method != http.MethodGet && r.Method != http.MethodHead {
			if ok, after := s.visitorWrites.allow(actorKey(actor)); !ok {
				err = rateLimited(after)
			}
		}
		if err == nil {
			err = rt.h(w, r, actor)
		}
		if err != nil {
			s.writeError(w, r, err)
		}
	})
}

func (s *Server) authenticate(r *http.Request, acc access) (kefu.Actor, error) {
	if acc == public {
		return kefu.Actor{}, nil
	}
	actor, _, err := s.auth.Authenticate(r.Context(), bearer(r))
	if err != nil {
		return kefu.Actor{}, err
	}
	switch acc {
	case agents:
		if !actor.IsAgent() {
			return kefu.Actor{}, kefu.Errorf(kefu.EForbidden, "this endpoint is for agents; visitors use /api/v1/widget")
		}
	case admins:
		if !actor.IsAgent() {
			return kefu.Actor{}, kefu.Errorf(kefu.EForbidden, "this endpoint is for agents; visitors use /api/v1/widget")
		}
		if !actor.IsAdmin() {
			return kefu.Actor{}, kefu.Errorf(kefu.EForbidden, "only admins may do this")
		}
	case visitor:
		if !actor.IsContact() {
			return kefu.Actor{}, kefu.Errorf(kefu.EForbidden, "this endpoint is for visitor tokens from POST /api/v1/widget/sessions")
		}
	}
	return actor, nil
}

// actorKey names an actor for per-actor rate limits.
func actorKey(a kefu.Actor) string {
	return fmt.Sprintf("%s:%d:%d", a.Type, a.WorkspaceID, a.ID)
}

func bearer(r *http.Request) string {
	return auth.BearerToken(r.Header.Get("Authorization"))
}
