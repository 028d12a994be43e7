package httpapi

import (
	"net/http"
	"strings"
	"time"

	"github.com/kefu-chat/kefu/internal/auth"
	"github.com/kefu-chat/kefu/internal/kefu"
)

// Password length bounds: long enough to matter, short enough that argon2
// over it is not a denial-of-service lever.
const (
	minPasswordLen = 8
	maxPasswordLen = 256
)

type loginRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

type loginResponse struct {
	Token     string      `json:"token"`
	ExpiresAt time.Time   `json:"expires_at"`
	Agent     *kefu.Agent `json:"agent"`
}

// errBadLogin is the one answer to every failed login, whatever failed.
func errBadLogin() error { return kefu.Errorf(kefu.EUnauthorized, "wrong email or password") }

// login trades an email and password for an agent session token. Attempts
// are limited per client address, and failures per email; an unknown email
// costs the same argon2 work as a wrong password so timing tells nothing.
func (s *Server) login(w http.ResponseWriter, r *http.Request, _ kefu.Actor) error {
	if ok, after := s.loginIP.allow(ipKey(clientIP(r))); !ok {
		return rateLimited(after)
	}
	var req loginRequest
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	email := normalizeEmail(req.Email)
	if email == "" || req.Password == "" {
		return kefu.Errorf(kefu.EInvalid, "email and password are required")
	}
	if len(email) > maxEmailLen || len(req.Password) > maxPasswordLen {
		return errBadLogin()
	}
	if ok, after := s.loginEmail.peek(email); !ok {
		return rateLimited(after)
	}
	ag, err := s.store.GetAgentByEmail(r.Context(), email)
	if err != nil && !kefu.IsNotFound(err) {
		return err
	}
	var hash string
	if ag != nil {
		hash = ag.PasswordHash
	} else {
		hash = s.dummyHash()
	}
	if !auth.CheckPassword(hash, req.Password) || ag == nil || !ag.Active {
		s.loginEmail.allow(email)
		return errBadLogin()
	}
	token, sess, err := s.auth.Issue(r.Context(), kefu.SessionAgent, agentActor(ag), auth.AgentSessionTTL)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, loginResponse{Token: token, ExpiresAt: sess.ExpiresAt, Agent: ag})
	return nil
}

func agentActor(ag *kefu.Agent) kefu.Actor {
	return kefu.Actor{WorkspaceID: ag.WorkspaceID, Type: kefu.SenderAgent, ID: ag.ID, Role: ag.Role}
}

// logout revokes the token the request came with.
func (s *Server) logout(w http.ResponseWriter, r *http.Request, a kefu.Actor) error {
	if err := s.store.RevokeSession(r.Context(), a.WorkspaceID, a.SessionID); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// meResponse is the calling agent with their declared availability.
type meResponse struct {
	*kefu.Agent
	Availability kefu.Availability `json:"availability"`
}

func (s *Server) me(w http.ResponseWriter, r *http.Request, a kefu.Actor) error {
	ag, err := s.store.GetAgent(r.Context(), a.WorkspaceID, a.ID)
	if err != nil {
		return err
	}
	states, err := s.store.ListAgentStates(r.Context(), a.WorkspaceID)
	if err != nil {
		return err
	}
	out := meResponse{Agent: ag, Availability: kefu.AvailabilityOffline}
	if i := kefu.AgentIndex(states, a.ID); i >= 0 {
		out.Availability = states[i].Availability
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// tokenResponse describes an API access token. ID is the token's SHA-256
// (hex): what the server stores instead of the token, so it can name the
// token without being usable as one.
type tokenResponse struct {
	ID        string           `json:"id"`
	Token     string           `json:"token"`
	Kind      kefu.SessionKind `json:"kind"`
	CreatedAt time.Time        `json:"created_at"`
	ExpiresAt time.Time        `json:"expires_at"`
}

// createToken mints a long-lived API access token for the calling agent,
// for integrations. The token is shown only in this response.
func (s *Server) createToken(w http.ResponseWriter, r *http.Request, a kefu.Actor) error {
	var req struct{}
	if err := s.decodeOptional(w, r, &req); err != nil {
		return err
	}
	token, sess, err := s.auth.Issue(r.Context(), kefu.SessionAPI, a, auth.APITokenTTL)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, tokenResponse{ID: sess.TokenHash, Token: token, Kind: sess.Kind, CreatedAt: sess.CreatedAt, ExpiresAt: sess.ExpiresAt})
	return nil
}

// revokeToken revokes one of the caller's own tokens (API tokens, or
// another of its sessions). Someone else's token is not found.
func (s *Server) revokeToken(w http.ResponseWriter, r *http.Request, a kefu.Actor) error {
	id := r.PathValue("id")
	if !isTokenID(id) {
		return kefu.Errorf(kefu.EInvalid, "id must be a token id (64 hex digits)")
	}
	sess, err := s.store.GetSessionByTokenHash(r.Context(), id)
	if err != nil && !kefu.IsNotFound(err) {
		return err
	}
	if sess == nil || sess.WorkspaceID != a.WorkspaceID || sess.AgentID != a.ID || sess.Kind == kefu.SessionVisitor {
		return kefu.Errorf(kefu.ENotFound, "token not found")
	}
	if err := s.store.RevokeSession(r.Context(), a.WorkspaceID, sess.ID); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func isTokenID(s string) bool {
	if len(s) != 64 {
		return false
	}
	return strings.Trim(s, "0123456789abcdef") == ""
}
