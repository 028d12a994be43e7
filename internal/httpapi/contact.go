package httpapi

import (
	"net/http"
	"strings"

	"github.com/kefu-chat/kefu/internal/kefu"
)

// listContacts lists contacts newest first, optionally matching q against
// name, email, phone and external id.
func (s *Server) listContacts(w http.ResponseWriter, r *http.Request, a kefu.Actor) error {
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	if err := checkText("q", q, maxQueryLen, false); err != nil {
		return err
	}
	before, err := idCursor(r)
	if err != nil {
		return err
	}
	limit, err := limitParam(r)
	if err != nil {
		return err
	}
	contacts, err := s.store.ListContacts(r.Context(), kefu.ContactFilter{WorkspaceID: a.WorkspaceID, Query: q, BeforeID: before, Limit: limit})
	if err != nil {
		return err
	}
	next := ""
	if len(contacts) == limit {
		next = encodeIDCursor(contacts[len(contacts)-1].ID)
	}
	writeJSON(w, http.StatusOK, newList(contacts, next))
	return nil
}

func (s *Server) getContact(w http.ResponseWriter, r *http.Request, a kefu.Actor) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	c, err := s.store.GetContact(r.Context(), a.WorkspaceID, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}

// updateContact changes a contact. Invalid fields are refused before the
// contact is looked up; the merged attributes' limits need the contact, so
// those come after a 404.
func (s *Server) updateContact(w http.ResponseWriter, r *http.Request, a kefu.Actor) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var req contactPatch
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	p, err := req.patch()
	if err != nil {
		return err
	}
	c, err := s.store.PatchContact(r.Context(), a.WorkspaceID, id, p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}

func (s *Server) listContactConversations(w http.ResponseWriter, r *http.Request, a kefu.Actor) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	after, err := conversationCursor(r)
	if err != nil {
		return err
	}
	limit, err := limitParam(r)
	if err != nil {
		return err
	}
	if _, err := s.store.GetContact(r.Context(), a.WorkspaceID, id); err != nil {
		return err
	}
	return s.writeConversations(w, r, a, kefu.ConversationFilter{ContactID: id, After: after, Limit: limit})
}
