package httpapi

import (
	"net/http"
	"strings"

	"github.com/kefu-chat/kefu/internal/auth"
	"github.com/kefu-chat/kefu/internal/kefu"
)

// inboxWithSecret is how an inbox is shown right after its secret was
// made. Otherwise the secret leaves the server only through
// getInboxSecret, to an admin who asks for it.
type inboxWithSecret struct {
	*kefu.Inbox
	Secret string `json:"secret"`
}

func (s *Server) listInboxes(w http.ResponseWriter, r *http.Request, a kefu.Actor) error {
	inboxes, err := s.store.ListInboxes(r.Context(), a.WorkspaceID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newList(inboxes, ""))
	return nil
}

type inboxRequest struct {
	Name           *string   `json:"name"`
	Greeting       *string   `json:"greeting"`
	Color          *string   `json:"color"`
	AllowedOrigins *[]string `json:"allowed_origins"`
	// Widget replaces the widget settings as a whole.
	Widget *kefu.WidgetSettings `json:"widget"`
}

// apply validates the request and copies the fields it sets into in.
func (req *inboxRequest) apply(in *kefu.Inbox) error {
	if req.Name != nil {
		if err := checkName("name", *req.Name); err != nil {
			return err
		}
		in.Name = strings.TrimSpace(*req.Name)
	}
	if req.Greeting != nil {
		if err := checkText("greeting", *req.Greeting, maxGreetingLen, true); err != nil {
			return err
		}
		in.Greeting = *req.Greeting
	}
	if req.Color != nil {
		if err := checkColor(*req.Color); err != nil {
			return err
		}
		in.Color = strings.ToLower(*req.Color)
	}
	if req.AllowedOrigins != nil {
		origins, err := normalizeOrigins(*req.AllowedOrigins)
		if err != nil {
			return err
		}
		in.AllowedOrigins = origins
	}
	if req.Widget != nil {
		if err := req.Widget.Validate(); err != nil {
			return err
		}
		in.Widget = *req.Widget
		in.Widget.Normalize()
	}
	return nil
}

// Sizes of generated inbox credentials, in random bytes.
const (
	publicTokenBytes = 18
	secretBytes      = 32
)

func (s *Server) createInbox(w http.ResponseWriter, r *http.Request, a kefu.Actor) error {
	var req inboxRequest
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	if req.Name == nil {
		return kefu.Errorf(kefu.EInvalid, "name is required")
	}
	now := kefu.Now()
	in := &kefu.Inbox{WorkspaceID: a.WorkspaceID, Channel: kefu.ChannelWeb, AllowedOrigins: []string{},
		PublicToken: auth.RandomString(publicTokenBytes), Secret: auth.RandomString(secretBytes), CreatedAt: now, UpdatedAt: now}
	if err := req.apply(in); err != nil {
		return err
	}
	if err := s.store.CreateInbox(r.Context(), in); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, inboxWithSecret{Inbox: in, Secret: in.Secret})
	return nil
}

func (s *Server) getInbox(w http.ResponseWriter, r *http.Request, a kefu.Actor) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	in, err := s.store.GetInbox(r.Context(), a.WorkspaceID, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, in)
	return nil
}

func (s *Server) updateInbox(w http.ResponseWriter, r *http.Request, a kefu.Actor) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var req inboxRequest
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	in, err := s.store.GetInbox(r.Context(), a.WorkspaceID, id)
	if err != nil {
		return err
	}
	if err := req.apply(in); err != nil {
		return err
	}
	in.UpdatedAt = kefu.Now()
	if err := s.store.UpdateInbox(r.Context(), in); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, in)
	return nil
}

// getInboxSecret shows an admin the identifier-hash secret, so the
// console can reveal it for pasting into the website's server without
// rotating it (which would break the hashes that server already makes).
func (s *Server) getInboxSecret(w http.ResponseWriter, r *http.Request, a kefu.Actor) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	in, err := s.store.GetInbox(r.Context(), a.WorkspaceID, id)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, struct {
		Secret string `json:"secret"`
	}{in.Secret})
	return nil
}

// rotateInboxSecret replaces the identifier-hash secret. Hashes made with
// the old one stop verifying at once; visitor sessions already issued stay.
func (s *Server) rotateInboxSecret(w http.ResponseWriter, r *http.Request, a kefu.Actor) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var req struct{}
	if err := s.decodeOptional(w, r, &req); err != nil {
		return err
	}
	in, err := s.store.GetInbox(r.Context(), a.WorkspaceID, id)
	if err != nil {
		return err
	}
	in.Secret = auth.RandomString(secretBytes)
	in.UpdatedAt = kefu.Now()
	if err := s.store.UpdateInbox(r.Context(), in); err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, inboxWithSecret{Inbox: in, Secret: in.Secret})
	return nil
}
