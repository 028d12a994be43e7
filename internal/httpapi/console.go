package httpapi

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/kefu-chat/kefu/internal/auth"
	"github.com/kefu-chat/kefu/internal/kefu"
)

// What the agent workbench and the admin console need beyond the core
// chat API: canned responses, the label catalog, search, the workspace's
// name, and an agent's own profile. Every agent reads canned responses and
// labels (they insert and apply them); only admins change them.

// searchTimeout bounds one search: a rare term scans the workspace's
// history, and an answer after this long helps nobody.
const searchTimeout = 5 * time.Second

const (
	defaultSearchLimit = 20
	maxSearchLimit     = 50
)

type cannedRequest struct {
	ShortCode *string `json:"short_code"`
	Content   *string `json:"content"`
}

func (req *cannedRequest) apply(c *kefu.CannedResponse) error {
	if req.ShortCode != nil {
		c.ShortCode = strings.TrimPrefix(strings.TrimSpace(*req.ShortCode), "/")
	}
	if req.Content != nil {
		c.Content = *req.Content
	}
	return c.Validate()
}

func (s *Server) listCanned(w http.ResponseWriter, r *http.Request, a kefu.Actor) error {
	list, err := s.store.ListCanned(r.Context(), a.WorkspaceID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newList(list, ""))
	return nil
}

func (s *Server) createCanned(w http.ResponseWriter, r *http.Request, a kefu.Actor) error {
	var req cannedRequest
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	c := &kefu.CannedResponse{WorkspaceID: a.WorkspaceID}
	if err := req.apply(c); err != nil {
		return err
	}
	existing, err := s.store.ListCanned(r.Context(), a.WorkspaceID)
	if err != nil {
		return err
	}
	if len(existing) >= kefu.MaxCannedPerSpace {
		return kefu.Errorf(kefu.EConflict, "a workspace has at most %d canned responses", kefu.MaxCannedPerSpace)
	}
	if err := s.store.CreateCanned(r.Context(), c); err != nil {
		return conflictText(err, "a canned response with this short code already exists")
	}
	writeJSON(w, http.StatusCreated, c)
	return nil
}

func (s *Server) updateCanned(w http.ResponseWriter, r *http.Request, a kefu.Actor) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var req cannedRequest
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	c, err := s.store.GetCanned(r.Context(), a.WorkspaceID, id)
	if err != nil {
		return err
	}
	if err := req.apply(c); err != nil {
		return err
	}
	if err := s.store.UpdateCanned(r.Context(), c); err != nil {
		return conflictText(err, "a canned response with this short code already exists")
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}

func (s *Server) deleteCanned(w http.ResponseWriter, r *http.Request, a kefu.Actor) error {
	return deleted(w, r, func(ctx context.Context, id int64) error { return s.store.DeleteCanned(ctx, a.WorkspaceID, id) })
}

// conflictText replaces a store's generic conflict message with one that
// names what is taken.
func conflictText(err error, msg string) error {
	if kefu.ErrorCode(err) == kefu.EConflict {
		return kefu.Errorf(kefu.EConflict, "%s", msg)
	}
	return err
}

type labelRequest struct {
	Name        *string `json:"name"`
	Color       *string `json:"color"`
	Description *string `json:"description"`
}

func (req *labelRequest) apply(l *kefu.Label) error {
	if req.Name != nil {
		l.Name = strings.TrimSpace(*req.Name)
	}
	if req.Color != nil {
		l.Color = strings.ToLower(strings.TrimSpace(*req.Color))
	}
	if req.Description != nil {
		l.Description = strings.TrimSpace(*req.Description)
	}
	return l.Validate()
}

func (s *Server) listLabels(w http.ResponseWriter, r *http.Request, a kefu.Actor) error {
	list, err := s.store.ListLabels(r.Context(), a.WorkspaceID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newList(list, ""))
	return nil
}

func (s *Server) createLabel(w http.ResponseWriter, r *http.Request, a kefu.Actor) error {
	var req labelRequest
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	l := &kefu.Label{WorkspaceID: a.WorkspaceID}
	if err := req.apply(l); err != nil {
		return err
	}
	existing, err := s.store.ListLabels(r.Context(), a.WorkspaceID)
	if err != nil {
		return err
	}
	if len(existing) >= kefu.MaxLabelsPerSpace {
		return kefu.Errorf(kefu.EConflict, "a workspace has at most %d labels", kefu.MaxLabelsPerSpace)
	}
	if err := s.store.CreateLabel(r.Context(), l); err != nil {
		return conflictText(err, "a label with this name already exists")
	}
	writeJSON(w, http.StatusCreated, l)
	return nil
}

func (s *Server) updateLabel(w http.ResponseWriter, r *http.Request, a kefu.Actor) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var req labelRequest
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	l, err := s.store.GetLabel(r.Context(), a.WorkspaceID, id)
	if err != nil {
		return err
	}
	if err := req.apply(l); err != nil {
		return err
	}
	if err := s.store.UpdateLabel(r.Context(), l); err != nil {
		return conflictText(err, "a label with this name already exists")
	}
	writeJSON(w, http.StatusOK, l)
	return nil
}

func (s *Server) deleteLabel(w http.ResponseWriter, r *http.Request, a kefu.Actor) error {
	return deleted(w, r, func(ctx context.Context, id int64) error { return s.store.DeleteLabel(ctx, a.WorkspaceID, id) })
}

// searchHit is a message found by search, with the conversation it is in.
type searchHit struct {
	Message      *kefu.Message      `json:"message"`
	Conversation *kefu.Conversation `json:"conversation"`
	Contact      *kefu.Contact      `json:"contact"`
}

type searchResult struct {
	Contacts   []*kefu.Contact `json:"contacts"`
	Messages   []searchHit     `json:"messages"`
	NextCursor string          `json:"next_cursor,omitempty"`
}

// search finds contacts (name, email, phone, external id) and messages
// (body, notes included) containing q. The cursor pages through messages;
// contacts come on the first page only, at most limit of them.
func (s *Server) search(w http.ResponseWriter, r *http.Request, a kefu.Actor) error {
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	if q == "" {
		return kefu.Errorf(kefu.EInvalid, "q is required")
	}
	if err := checkText("q", q, maxQueryLen, false); err != nil {
		return err
	}
	before, err := idCursor(r)
	if err != nil {
		return err
	}
	limit, err := queryInt(r, "limit", defaultSearchLimit, 1, maxSearchLimit)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(r.Context(), searchTimeout)
	defer cancel()
	res := searchResult{Contacts: []*kefu.Contact{}, Messages: []searchHit{}}
	if before == 0 {
		if res.Contacts, err = s.store.ListContacts(ctx, kefu.ContactFilter{WorkspaceID: a.WorkspaceID, Query: q, Limit: int(limit)}); err != nil {
			return searchErr(ctx, err)
		}
	}
	msgs, err := s.store.SearchMessages(ctx, kefu.MessageSearch{WorkspaceID: a.WorkspaceID, Query: q, BeforeID: before, Limit: int(limit)})
	if err != nil {
		return searchErr(ctx, err)
	}
	if res.Messages, err = s.searchHits(ctx, a.WorkspaceID, msgs); err != nil {
		return searchErr(ctx, err)
	}
	if len(msgs) == int(limit) {
		res.NextCursor = encodeIDCursor(msgs[len(msgs)-1].ID)
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

// searchHits attaches each message's conversation and contact, reading
// each once however many hits share it.
func (s *Server) searchHits(ctx context.Context, workspaceID int64, msgs []*kefu.Message) ([]searchHit, error) {
	convs := map[int64]*kefu.Conversation{}
	contacts := map[int64]*kefu.Contact{}
	hits := make([]searchHit, 0, len(msgs))
	for _, m := range msgs {
		c, ok := convs[m.ConversationID]
		if !ok {
			var err error
			if c, err = s.store.GetConversation(ctx, workspaceID, m.ConversationID); err != nil {
				return nil, err
			}
			convs[c.ID] = c
		}
		ct, ok := contacts[c.ContactID]
		if !ok {
			var err error
			if ct, err = s.store.GetContact(ctx, workspaceID, c.ContactID); err != nil {
				return nil, err
			}
			contacts[ct.ID] = ct
		}
		hits = append(hits, searchHit{Message: m, Conversation: c, Contact: ct})
	}
	return hits, nil
}

func searchErr(ctx context.Context, err error) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return kefu.Errorf(kefu.EUnavailable, "the search took too long; try a longer or rarer phrase")
	}
	return err
}

// conversationItem is a conversation as the agent list shows it: with a
// preview of its newest message (null if it has none).
type conversationItem struct {
	*kefu.Conversation
	LastMessage *kefu.MessagePreview `json:"last_message"`
}

// withPreviews reads the newest message of every listed conversation in
// one query.
func (s *Server) withPreviews(ctx context.Context, workspaceID int64, convs []*kefu.Conversation) ([]conversationItem, error) {
	ids := make([]int64, len(convs))
	for i, c := range convs {
		ids[i] = c.ID
	}
	last, err := s.store.LastMessages(ctx, workspaceID, ids)
	if err != nil {
		return nil, err
	}
	items := make([]conversationItem, len(convs))
	for i, c := range convs {
		items[i] = conversationItem{Conversation: c}
		if m := last[c.ID]; m != nil {
			items[i].LastMessage = m.Preview()
		}
	}
	return items, nil
}

func (s *Server) getWorkspace(w http.ResponseWriter, r *http.Request, a kefu.Actor) error {
	ws, err := s.store.GetWorkspace(r.Context(), a.WorkspaceID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, ws)
	return nil
}

type workspaceRequest struct {
	Name *string `json:"name"`
}

func (s *Server) updateWorkspace(w http.ResponseWriter, r *http.Request, a kefu.Actor) error {
	var req workspaceRequest
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	ws, err := s.store.GetWorkspace(r.Context(), a.WorkspaceID)
	if err != nil {
		return err
	}
	if req.Name != nil {
		if err := checkName("name", *req.Name); err != nil {
			return err
		}
		ws.Name = strings.TrimSpace(*req.Name)
	}
	if err := s.store.UpdateWorkspace(r.Context(), ws); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, ws)
	return nil
}

type updateMeRequest struct {
	Name            *string `json:"name"`
	CurrentPassword *string `json:"current_password"`
	Password        *string `json:"password"`
}

type updateMeResponse struct {
	Agent *kefu.Agent `json:"agent"`
	// Token replaces the caller's token after a password change, which
	// signs out every session of the agent, this one included.
	Token     string     `json:"token,omitempty"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
}

// updateMe lets any agent change their own name and password; a new
// password needs the current one, so a borrowed open session cannot lock
// its owner out.
func (s *Server) updateMe(w http.ResponseWriter, r *http.Request, a kefu.Actor) error {
	var req updateMeRequest
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	if req.Name != nil {
		if err := checkName("name", *req.Name); err != nil {
			return err
		}
	}
	if req.Password != nil {
		if err := checkPassword(*req.Password); err != nil {
			return err
		}
		if req.CurrentPassword == nil {
			return kefu.Errorf(kefu.EInvalid, "current_password is required to set a new password")
		}
	}
	ctx := r.Context()
	ag, err := s.store.GetAgent(ctx, a.WorkspaceID, a.ID)
	if err != nil {
		return err
	}
	if req.Password != nil && (len(*req.CurrentPassword) > maxPasswordLen || !auth.CheckPassword(ag.PasswordHash, *req.CurrentPassword)) {
		return kefu.Errorf(kefu.EInvalid, "current_password is wrong")
	}
	if req.Name != nil {
		ag.Name = strings.TrimSpace(*req.Name)
	}
	if req.Password != nil {
		if ag.PasswordHash, err = auth.HashPassword(*req.Password); err != nil {
			return err
		}
	}
	ag.UpdatedAt = kefu.Now()
	if err := s.store.UpdateAgent(ctx, ag); err != nil {
		return err
	}
	res := updateMeResponse{Agent: ag}
	if req.Password != nil {
		if err := s.store.RevokeAgentSessions(ctx, a.WorkspaceID, ag.ID); err != nil {
			return err
		}
		token, sess, err := s.auth.Issue(ctx, kefu.SessionAgent, agentActor(ag), auth.AgentSessionTTL)
		if err != nil {
			return err
		}
		res.Token, res.ExpiresAt = token, &sess.ExpiresAt
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}
