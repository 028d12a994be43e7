package httpapi

import (
	"net/http"
	"strings"

	"github.com/kefu-chat/kefu/internal/auth"
	"github.com/kefu-chat/kefu/internal/kefu"
)

const maxConcurrentLimit = 1000

func (s *Server) listAgents(w http.ResponseWriter, r *http.Request, a kefu.Actor) error {
	agents, err := s.store.ListAgents(r.Context(), a.WorkspaceID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newList(agents, ""))
	return nil
}

type createAgentRequest struct {
	Email         string    `json:"email"`
	Name          string    `json:"name"`
	Password      string    `json:"password"`
	Role          kefu.Role `json:"role"`
	MaxConcurrent int       `json:"max_concurrent"`
}

func checkPassword(p string) error {
	if n := len(p); n < minPasswordLen || n > maxPasswordLen {
		return kefu.Errorf(kefu.EInvalid, "password must be %d to %d bytes", minPasswordLen, maxPasswordLen)
	}
	return nil
}

func checkMaxConcurrent(n int) error {
	if n < 0 || n > maxConcurrentLimit {
		return kefu.Errorf(kefu.EInvalid, "max_concurrent must be from 0 (the default) to %d", maxConcurrentLimit)
	}
	return nil
}

// newAgentFields checks what creating an agent and inviting one share and
// returns them normalized: the email lowercased, no role meaning agent,
// the name trimmed. An empty name passes when !nameRequired.
func newAgentFields(email string, role kefu.Role, name string, nameRequired bool, maxConcurrent int) (string, kefu.Role, string, error) {
	email = normalizeEmail(email)
	if role == "" {
		role = kefu.RoleAgent
	}
	if err := checkEmail("email", email); err != nil {
		return "", "", "", err
	}
	if name != "" || nameRequired {
		if err := checkName("name", name); err != nil {
			return "", "", "", err
		}
	}
	if !role.Valid() {
		return "", "", "", kefu.Errorf(kefu.EInvalid, "role must be admin or agent")
	}
	if err := checkMaxConcurrent(maxConcurrent); err != nil {
		return "", "", "", err
	}
	return email, role, strings.TrimSpace(name), nil
}

func (s *Server) createAgent(w http.ResponseWriter, r *http.Request, a kefu.Actor) error {
	var req createAgentRequest
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	email, role, name, err := newAgentFields(req.Email, req.Role, req.Name, true, req.MaxConcurrent)
	if err != nil {
		return err
	}
	if err := checkPassword(req.Password); err != nil {
		return err
	}
	hash, err := auth.HashPassword(req.Password)
	if err != nil {
		return err
	}
	now := kefu.Now()
	ag := &kefu.Agent{WorkspaceID: a.WorkspaceID, Email: email, Name: name, Role: role,
		PasswordHash: hash, MaxConcurrent: req.MaxConcurrent, Active: true, CreatedAt: now, UpdatedAt: now}
	if err := s.store.CreateAgent(r.Context(), ag); err != nil {
		if kefu.ErrorCode(err) == kefu.EConflict {
			return kefu.Errorf(kefu.EConflict, "an agent with this email already exists")
		}
		return err
	}
	writeJSON(w, http.StatusCreated, ag)
	return nil
}

func (s *Server) getAgent(w http.ResponseWriter, r *http.Request, a kefu.Actor) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	ag, err := s.store.GetAgent(r.Context(), a.WorkspaceID, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, ag)
	return nil
}

type updateAgentRequest struct {
	Name          *string    `json:"name"`
	Role          *kefu.Role `json:"role"`
	MaxConcurrent *int       `json:"max_concurrent"`
	Active        *bool      `json:"active"`
	Password      *string    `json:"password"`
}

// updateAgent changes an agent. Deactivation and a new password revoke the
// agent's sessions, so the change takes effect at once everywhere. The
// workspace must keep at least one active admin: the store refuses the
// write that would take the last one away (409), atomically.
func (s *Server) updateAgent(w http.ResponseWriter, r *http.Request, a kefu.Actor) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var req updateAgentRequest
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	if req.Name != nil {
		if err := checkName("name", *req.Name); err != nil {
			return err
		}
	}
	if req.Role != nil && !req.Role.Valid() {
		return kefu.Errorf(kefu.EInvalid, "role must be admin or agent")
	}
	if req.MaxConcurrent != nil {
		if err := checkMaxConcurrent(*req.MaxConcurrent); err != nil {
			return err
		}
	}
	if req.Password != nil {
		if err := checkPassword(*req.Password); err != nil {
			return err
		}
	}
	ctx := r.Context()
	ag, err := s.store.GetAgent(ctx, a.WorkspaceID, id)
	if err != nil {
		return err
	}
	revoke := false
	if req.Name != nil {
		ag.Name = strings.TrimSpace(*req.Name)
	}
	if req.Role != nil {
		ag.Role = *req.Role
	}
	if req.MaxConcurrent != nil {
		ag.MaxConcurrent = *req.MaxConcurrent
	}
	if req.Active != nil {
		revoke = revoke || (ag.Active && !*req.Active)
		ag.Active = *req.Active
	}
	if req.Password != nil {
		if ag.PasswordHash, err = auth.HashPassword(*req.Password); err != nil {
			return err
		}
		revoke = true
	}
	ag.UpdatedAt = kefu.Now()
	if err := s.store.UpdateAgent(ctx, ag); err != nil {
		return err
	}
	if revoke {
		if err := s.store.RevokeAgentSessions(ctx, a.WorkspaceID, ag.ID); err != nil {
			return err
		}
	}
	writeJSON(w, http.StatusOK, ag)
	return nil
}
