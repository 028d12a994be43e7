package httpapi

import (
	"net/http"
	"strings"
	"time"

	"github.com/kefu-chat/kefu/internal/auth"
	"github.com/kefu-chat/kefu/internal/kefu"
)

// Invitations: an admin invites someone by email and gets a link to hand
// over (Kefu sends no mail); the invitee opens it, picks a name and a
// password, and is logged in as a new agent. The link is the only copy of
// the token: the store keeps its SHA-256, like a session's.
//
// The invitee's two calls are public and limited per client address
// together with login. Their token travels in the JSON body, never in a
// URL, so it stays out of access logs; the link puts it in the fragment
// (/app/invite#token=…), which browsers do not send to the server.
//
// Errors for the invitee: an unknown token is 404 not_found; a used,
// revoked or expired one is 410 gone, so the page can say which.

// invitePath is the workbench page that accepts invitations.
const invitePath = "/app/invite#token="

type createInvitationRequest struct {
	Email          string    `json:"email"`
	Role           kefu.Role `json:"role"`
	Name           string    `json:"name"`
	MaxConcurrent  int       `json:"max_concurrent"`
	ExpiresInHours int       `json:"expires_in_hours"`
}

// invitationCreated is the only response that carries the token.
type invitationCreated struct {
	Invitation *kefu.Invitation `json:"invitation"`
	Token      string           `json:"token"`
	URL        string           `json:"url"`
}

func (s *Server) createInvitation(w http.ResponseWriter, r *http.Request, a kefu.Actor) error {
	var req createInvitationRequest
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	email, role, name, err := newAgentFields(req.Email, req.Role, req.Name, false, req.MaxConcurrent)
	if err != nil {
		return err
	}
	ttl := kefu.InvitationTTL
	if req.ExpiresInHours != 0 {
		if most := int(kefu.MaxInvitationTTL / time.Hour); req.ExpiresInHours < 1 || req.ExpiresInHours > most {
			return kefu.Errorf(kefu.EInvalid, "expires_in_hours must be from 1 to %d", most)
		}
		ttl = time.Duration(req.ExpiresInHours) * time.Hour
	}
	token, hash := auth.NewInvitationToken()
	now := s.clock()
	inv := &kefu.Invitation{WorkspaceID: a.WorkspaceID, Email: email, Role: role, Name: name,
		MaxConcurrent: req.MaxConcurrent, CreatedBy: a.ID, TokenHash: hash, CreatedAt: now, ExpiresAt: now.Add(ttl)}
	if err := s.store.CreateInvitation(r.Context(), inv); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, invitationCreated{Invitation: inv, Token: token, URL: s.baseURL(r) + invitePath + token})
	return nil
}

func (s *Server) listInvitations(w http.ResponseWriter, r *http.Request, a kefu.Actor) error {
	list, err := s.store.ListInvitations(r.Context(), a.WorkspaceID, s.clock())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newList(list, ""))
	return nil
}

func (s *Server) revokeInvitation(w http.ResponseWriter, r *http.Request, a kefu.Actor) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := s.store.RevokeInvitation(r.Context(), a.WorkspaceID, id, s.clock()); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type invitationLookupRequest struct {
	Token string `json:"token"`
}

// invitationPreview is what the invitee sees before accepting.
type invitationPreview struct {
	Email         string    `json:"email"`
	Name          string    `json:"name"`
	Role          kefu.Role `json:"role"`
	WorkspaceName string    `json:"workspace_name"`
	ExpiresAt     time.Time `json:"expires_at"`
}

// pendingInvitation finds the pending invitation a token names.
func (s *Server) pendingInvitation(r *http.Request, token string) (*kefu.Invitation, error) {
	if token == "" {
		return nil, kefu.Errorf(kefu.EInvalid, "token is required")
	}
	notFound := kefu.Errorf(kefu.ENotFound, "invitation not found")
	if !strings.HasPrefix(token, auth.InvitationPrefix) || len(token) > 256 {
		return nil, notFound
	}
	inv, err := s.store.GetInvitationByTokenHash(r.Context(), auth.HashToken(token))
	if kefu.IsNotFound(err) {
		return nil, notFound
	}
	if err != nil {
		return nil, err
	}
	if err := inv.Unusable(s.clock()); err != nil {
		return nil, err
	}
	return inv, nil
}

func (s *Server) lookupInvitation(w http.ResponseWriter, r *http.Request, _ kefu.Actor) error {
	if ok, after := s.loginIP.allow(ipKey(clientIP(r))); !ok {
		return rateLimited(after)
	}
	var req invitationLookupRequest
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	inv, err := s.pendingInvitation(r, req.Token)
	if err != nil {
		return err
	}
	ws, err := s.store.GetWorkspace(r.Context(), inv.WorkspaceID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, invitationPreview{Email: inv.Email, Name: inv.Name, Role: inv.Role, WorkspaceName: ws.Name, ExpiresAt: inv.ExpiresAt})
	return nil
}

type acceptInvitationRequest struct {
	Token    string `json:"token"`
	Name     string `json:"name"`
	Password string `json:"password"`
}

// acceptInvitation creates the invited agent and logs them in. The token
// is checked before the password is hashed, so a bad token costs no
// argon2 work; the store checks it again inside the transaction that uses
// it up, which is what makes it work exactly once.
func (s *Server) acceptInvitation(w http.ResponseWriter, r *http.Request, _ kefu.Actor) error {
	if ok, after := s.loginIP.allow(ipKey(clientIP(r))); !ok {
		return rateLimited(after)
	}
	var req acceptInvitationRequest
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	if req.Name != "" {
		if err := checkName("name", req.Name); err != nil {
			return err
		}
	}
	if err := checkPassword(req.Password); err != nil {
		return err
	}
	inv, err := s.pendingInvitation(r, req.Token)
	if err != nil {
		return err
	}
	name := strings.TrimSpace(req.Name)
	if name == "" && inv.Name == "" {
		return kefu.Errorf(kefu.EInvalid, "name is required")
	}
	hash, err := auth.HashPassword(req.Password)
	if err != nil {
		return err
	}
	ag := &kefu.Agent{Name: name, PasswordHash: hash}
	if _, err := s.store.AcceptInvitation(r.Context(), inv.TokenHash, ag, s.clock()); err != nil {
		return err
	}
	token, sess, err := s.auth.Issue(r.Context(), kefu.SessionAgent, agentActor(ag), auth.AgentSessionTTL)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, loginResponse{Token: token, ExpiresAt: sess.ExpiresAt, Agent: ag})
	return nil
}

// clock is the server's now at the stores' precision.
func (s *Server) clock() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

// baseURL is where people reach this server, for links: the configured
// public URL, else the scheme and host of the request (the scheme from
// X-Forwarded-Proto only behind a trusted proxy).
func (s *Server) baseURL(r *http.Request) string {
	if s.publicURL != "" {
		return strings.TrimSuffix(s.publicURL, "/")
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if s.proxy {
		if p := r.Header.Get("X-Forwarded-Proto"); p == "https" || p == "http" {
			scheme = p
		}
	}
	return scheme + "://" + r.Host
}
