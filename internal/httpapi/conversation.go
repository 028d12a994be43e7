package httpapi

import (
	"net/http"
	"strconv"
	"time"

	"github.com/kefu-chat/kefu/internal/chat"
	"github.com/kefu-chat/kefu/internal/kefu"
)

// listConversations lists the workspace's conversations by last activity,
// newest first, with optional filters.
func (s *Server) listConversations(w http.ResponseWriter, r *http.Request, a kefu.Actor) error {
	q := r.URL.Query()
	f := kefu.ConversationFilter{Status: kefu.Status(q.Get("status"))}
	if f.Status != "" && !f.Status.Valid() {
		return kefu.Errorf(kefu.EInvalid, "status must be open, pending, resolved or snoozed")
	}
	switch v := q.Get("assignee"); v {
	case "", "any":
		f.AssigneeID = kefu.AssigneeAny
	case "me":
		f.AssigneeID = a.ID
	case "unassigned":
		f.AssigneeID = kefu.AssigneeUnassigned
	default:
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			return kefu.Errorf(kefu.EInvalid, "assignee must be me, unassigned, any or an agent id")
		}
		f.AssigneeID = id
	}
	var err error
	if f.InboxID, err = queryInt(r, "inbox", 0, 1, 1<<62); err != nil {
		return err
	}
	if f.ContactID, err = queryInt(r, "contact", 0, 1, 1<<62); err != nil {
		return err
	}
	if f.After, err = conversationCursor(r); err != nil {
		return err
	}
	if f.Limit, err = limitParam(r); err != nil {
		return err
	}
	return s.writeConversations(w, r, a, f)
}

// writeConversations runs a listing through the chat service (which scopes
// it to what the actor may see) and writes one page. A full page carries a
// cursor; the page after the last full one may come back empty.
func (s *Server) writeConversations(w http.ResponseWriter, r *http.Request, a kefu.Actor, f kefu.ConversationFilter) error {
	convs, err := s.chat.ListConversations(r.Context(), a, f)
	if err != nil {
		return err
	}
	next := ""
	if len(convs) == f.Limit {
		next = encodeConversationCursor(convs[len(convs)-1])
	}
	if a.IsContact() {
		views := make([]*kefu.ContactConversation, len(convs))
		for i, c := range convs {
			views[i] = c.ForContact()
		}
		writeJSON(w, http.StatusOK, newList(views, next))
		return nil
	}
	items, err := s.withPreviews(r.Context(), a.WorkspaceID, convs)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newList(items, next))
	return nil
}

// conversationView is what the actor may see of c: visitors get the
// contact's view, without the agents' labels, priority and snooze.
func conversationView(a kefu.Actor, c *kefu.Conversation) any {
	if a.IsContact() {
		return c.ForContact()
	}
	return c
}

// getConversation serves agents and visitors alike; the chat service
// decides what each may see.
func (s *Server) getConversation(w http.ResponseWriter, r *http.Request, a kefu.Actor) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	c, err := s.chat.Conversation(r.Context(), a, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, conversationView(a, c))
	return nil
}

type updateConversationRequest struct {
	Status       *kefu.Status     `json:"status"`
	AssigneeID   *int64           `json:"assignee_id"`
	Priority     *kefu.Priority   `json:"priority"`
	Labels       *[]string        `json:"labels"`
	SnoozedUntil nullable[string] `json:"snoozed_until"`
}

func (s *Server) updateConversation(w http.ResponseWriter, r *http.Request, a kefu.Actor) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var req updateConversationRequest
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	ch := chat.ConversationChange{Status: req.Status, AssigneeID: req.AssigneeID, Priority: req.Priority, Labels: req.Labels}
	if req.SnoozedUntil.Set {
		var until *time.Time
		if !req.SnoozedUntil.Null {
			t, err := time.Parse(time.RFC3339Nano, req.SnoozedUntil.Value)
			if err != nil {
				return kefu.Errorf(kefu.EInvalid, "snoozed_until must be an RFC 3339 time or null")
			}
			t = t.UTC().Truncate(time.Microsecond)
			until = &t
		}
		ch.SnoozedUntil = &until
	}
	c, err := s.chat.UpdateConversation(r.Context(), a, id, ch)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}

type readRequest struct {
	Seq int64 `json:"seq"`
}

// markRead moves the caller's read marker (the agents' shared one, or the
// contact's) forward to seq.
func (s *Server) markRead(w http.ResponseWriter, r *http.Request, a kefu.Actor) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var req readRequest
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	c, err := s.chat.MarkRead(r.Context(), a, id, req.Seq)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, conversationView(a, c))
	return nil
}

type typingRequest struct {
	On bool `json:"on"`
}

// typing relays a typing indicator to the conversation's live connections,
// for clients that talk REST only.
func (s *Server) typing(w http.ResponseWriter, r *http.Request, a kefu.Actor) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var req typingRequest
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	if err := s.chat.Typing(r.Context(), a, id, req.On, ""); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
