package httpapi

import (
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/kefu-chat/kefu/internal/kefu"
	"github.com/kefu-chat/kefu/internal/protocol"
)

// widgetConfig is what the widget needs before the visitor does anything:
// how to look, which form to show, and whether anyone is there to answer.
// Fields are only ever added to it (routing will add "open" and "queue").
type widgetConfig struct {
	Inbox  widgetInbox         `json:"inbox"`
	Widget kefu.WidgetSettings `json:"widget"`
	// Online says whether an agent who serves this inbox is online now
	// (declared online and connected). With no one online, or the inbox
	// closed, the widget offers the offline form.
	Online bool `json:"online"`
	// Open, NextOpening and Queue come from routing: business hours and
	// the number of conversations waiting. Absent when routing is off.
	Open        *bool      `json:"open,omitempty"`
	NextOpening *time.Time `json:"next_opening,omitempty"`
	Queue       *int       `json:"queue,omitempty"`
	// Bot says a bot answers this inbox's visitors now, so the widget
	// opens the chat even when no agent is online.
	Bot bool `json:"bot"`
}

// widgetConfigHandler serves GET /widget/config?inbox=TOKEN. It is public
// and cheap, and shows nothing an agent would keep private.
func (s *Server) widgetConfigHandler(w http.ResponseWriter, r *http.Request, _ kefu.Actor) error {
	if ok, after := s.widgetReads.allow(ipKey(clientIP(r))); !ok {
		return rateLimited(after)
	}
	token := r.URL.Query().Get("inbox")
	if token == "" || len(token) > 128 {
		return kefu.Errorf(kefu.EInvalid, "inbox (the inbox's public token) is required")
	}
	ctx := r.Context()
	inbox, err := s.store.GetInboxByToken(ctx, token)
	if kefu.IsNotFound(err) {
		return kefu.Errorf(kefu.ENotFound, "no inbox has this token")
	}
	if err != nil {
		return err
	}
	if !inbox.AcceptsOrigin(r.Header.Get("Origin"), r.Host) {
		return kefu.Errorf(kefu.EForbidden, "this inbox does not accept visitors from this origin")
	}
	inbox.Widget.Normalize()
	cfg := widgetConfig{
		Inbox:  widgetInbox{ID: inbox.ID, Name: inbox.Name, Greeting: inbox.Greeting, Color: inbox.Color},
		Widget: inbox.Widget,
	}
	if s.routing != nil {
		st, err := s.routing.Status(ctx, inbox.WorkspaceID, inbox.ID)
		if err != nil {
			return err
		}
		cfg.Online, cfg.Open, cfg.NextOpening, cfg.Queue = st.AgentsOnline > 0, &st.Open, st.NextOpening, &st.Queue
	} else if cfg.Online, err = s.anyAgentOnline(r, inbox.WorkspaceID); err != nil {
		return err
	}
	if s.botActive != nil {
		cfg.Bot = s.botActive(ctx, inbox.WorkspaceID, inbox.ID)
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, cfg)
	return nil
}

func (s *Server) anyAgentOnline(r *http.Request, workspaceID int64) (bool, error) {
	agents, err := s.store.ListAgents(r.Context(), workspaceID)
	if err != nil {
		return false, err
	}
	for _, a := range agents {
		if a.Active && s.chat.Presence(a.ID) == protocol.PresenceOnline {
			return true, nil
		}
	}
	return false, nil
}

type ratingRequest struct {
	Score   int    `json:"score"`
	Comment string `json:"comment"`
}

// rateConversation stores the visitor's satisfaction rating (1 to 5 and an
// optional comment) on its resolved conversation. Rating again replaces
// the earlier rating; an unresolved conversation is 409.
func (s *Server) rateConversation(w http.ResponseWriter, r *http.Request, a kefu.Actor) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var req ratingRequest
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	c, err := s.chat.Rate(r.Context(), a, id, req.Score, req.Comment)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c.ForContact())
	return nil
}

// Bounds of a pre-chat answer.
const (
	maxFieldValue    = 500
	maxTextareaValue = 2000
)

// contactColumns are the pre-chat field names stored on the contact's own
// columns; they may be sent even when the inbox has no pre-chat form (the
// offline form asks for them).
var contactColumns = []string{"name", "email", "phone"}

// applyPreChat validates the answers of the pre-chat (or offline) form
// against the inbox's fields, requires the required ones (an answer the
// contact already gave counts), and stores them on the contact.
func (s *Server) applyPreChat(r *http.Request, a kefu.Actor, answers map[string]string) error {
	ctx := r.Context()
	inbox, err := s.store.GetInbox(ctx, a.WorkspaceID, a.InboxID)
	if err != nil {
		return err
	}
	var fields []kefu.PreChatField
	if inbox.Widget.PreChatEnabled {
		fields = inbox.Widget.PreChatFields
	}
	if len(answers) == 0 && !slices.ContainsFunc(fields, func(f kefu.PreChatField) bool { return f.Required }) {
		return nil
	}
	c, err := s.store.GetContact(ctx, a.WorkspaceID, a.ID)
	if err != nil {
		return err
	}
	patch := contactPatch{Attributes: map[string]any{}}
	for name, v := range answers {
		v = strings.TrimSpace(v)
		i := slices.IndexFunc(fields, func(f kefu.PreChatField) bool { return f.Name == name })
		if i < 0 && !slices.Contains(contactColumns, name) {
			return kefu.Errorf(kefu.EInvalid, "fields.%s is not a field of this form", name)
		}
		if i >= 0 {
			if err := checkAnswer(&fields[i], v); err != nil {
				return err
			}
		} else if err := checkText("fields."+name, v, maxFieldValue, false); err != nil {
			return err
		}
		switch name {
		case "name":
			patch.Name = &v
		case "email":
			patch.Email = &v
		case "phone":
			patch.Phone = &v
		default:
			patch.Attributes[name] = v
		}
	}
	for _, f := range fields {
		if f.Required && strings.TrimSpace(answers[f.Name]) == "" && !hasAnswer(c, f.Name) {
			return kefu.Errorf(kefu.EInvalid, "fields.%s is required", f.Name)
		}
	}
	if len(answers) == 0 {
		return nil
	}
	p, err := patch.patch()
	if err != nil {
		return err
	}
	_, err = s.store.PatchContact(ctx, a.WorkspaceID, a.ID, p)
	return err
}

func checkAnswer(f *kefu.PreChatField, v string) error {
	limit := maxFieldValue
	if f.Type == kefu.FieldTextarea {
		limit = maxTextareaValue
	}
	if err := checkText("fields."+f.Name, v, limit, f.Type == kefu.FieldTextarea); err != nil {
		return err
	}
	switch {
	case v == "":
		return nil
	case f.Type == kefu.FieldEmail:
		return checkEmail("fields."+f.Name, v)
	case f.Type == kefu.FieldSelect && !slices.Contains(f.Options, v):
		return kefu.Errorf(kefu.EInvalid, "fields.%s must be one of the offered options", f.Name)
	}
	return nil
}

// hasAnswer reports whether the contact already holds a value for a field.
func hasAnswer(c *kefu.Contact, name string) bool {
	switch name {
	case "name":
		return c.Name != ""
	case "email":
		return c.Email != ""
	case "phone":
		return c.Phone != ""
	}
	v, ok := c.Attributes[name].(string)
	return ok && strings.TrimSpace(v) != ""
}

// widgetAgent is what a visitor may know of an agent: the name it chats
// under. Emails and roles stay inside the workspace.
type widgetAgent struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// widgetGetAgent names an agent of the visitor's workspace, so the widget
// can say who joined and who is writing.
func (s *Server) widgetGetAgent(w http.ResponseWriter, r *http.Request, a kefu.Actor) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	ag, err := s.store.GetAgent(r.Context(), a.WorkspaceID, id)
	if err != nil {
		return err
	}
	name := ag.Name
	if name == "" {
		name, _, _ = strings.Cut(ag.Email, "@")
	}
	writeJSON(w, http.StatusOK, widgetAgent{ID: ag.ID, Name: name})
	return nil
}
