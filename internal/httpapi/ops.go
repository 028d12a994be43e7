package httpapi

import (
	_ "embed"
	"net/http"
	"strings"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/kefu-chat/kefu/internal/kefu"
)

// openAPIDoc is the API's OpenAPI 3 description, served as is. docs/openapi.json
// is a copy kept identical by a test.
//
//go:embed openapi.json
var openAPIDoc []byte

func (s *Server) healthz(w http.ResponseWriter, r *http.Request, _ kefu.Actor) error {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	return nil
}

// readyz asks Ready (database reachable, not draining). Load balancers
// take a node out of rotation on 503.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request, _ kefu.Actor) error {
	if s.ready != nil {
		if err := s.ready(r.Context()); err != nil {
			s.log.Warn("not ready", "err", err)
			return kefu.Errorf(kefu.EUnavailable, "not ready")
		}
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	return nil
}

func (s *Server) metricsHandler(w http.ResponseWriter, r *http.Request, _ kefu.Actor) error {
	promhttp.HandlerFor(s.metrics.Registry, promhttp.HandlerOpts{}).ServeHTTP(w, r)
	return nil
}

func (s *Server) openapi(w http.ResponseWriter, r *http.Request, _ kefu.Actor) error {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.Write(openAPIDoc)
	return nil
}

// socket mounts a WebSocket handler, which does its own authentication
// (the token may come in the query string, where browsers can put it).
func (s *Server) socket(h http.Handler) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, _ kefu.Actor) error {
		if h == nil {
			return kefu.Errorf(kefu.EUnavailable, "WebSocket endpoint is not configured")
		}
		h.ServeHTTP(w, r)
		return nil
	}
}

// unmatched answers paths no route claims: 405 with Allow when the path
// exists under other methods, 404 otherwise; both in the JSON error shape.
func (s *Server) unmatched(w http.ResponseWriter, r *http.Request, _ kefu.Actor) error {
	if allow := s.allowed(r); len(allow) > 0 {
		w.Header().Set("Allow", strings.Join(allow, ", "))
		return kefu.Errorf(methodNotAllowed, "method %s is not allowed here", r.Method)
	}
	return kefu.Errorf(kefu.ENotFound, "no such endpoint")
}

func (s *Server) allowed(r *http.Request) []string {
	var out []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		if m == r.Method {
			continue
		}
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := s.mux.Handler(probe); pattern != "" && pattern != "/" && pattern != "/api/" {
			out = append(out, m)
		}
	}
	return out
}

// staticHandler serves the web UI for everything else, labelled as one
// route in metrics.
func (s *Server) staticHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		state(r.Context()).pattern = "static"
		s.static.ServeHTTP(w, r)
	})
}
