package httpapi

import (
	"net/http"
	"strings"
	"time"

	"github.com/kefu-chat/kefu/internal/auth"
	"github.com/kefu-chat/kefu/internal/kefu"
)

type widgetSessionRequest struct {
	InboxToken     string `json:"inbox_token"`
	VisitorID      string `json:"visitor_id"`
	Name           string `json:"name"`
	Email          string `json:"email"`
	Phone          string `json:"phone"`
	PageURL        string `json:"page_url"`
	Identifier     string `json:"identifier"`
	IdentifierHash string `json:"identifier_hash"`
}

func (req *widgetSessionRequest) validate() error {
	switch {
	case req.InboxToken == "" || len(req.InboxToken) > 128:
		return kefu.Errorf(kefu.EInvalid, "inbox_token is required")
	case len(req.VisitorID) > maxVisitorID:
		return kefu.Errorf(kefu.EInvalid, "visitor_id is longer than %d bytes", maxVisitorID)
	case len(req.Identifier) > maxExternalID:
		return kefu.Errorf(kefu.EInvalid, "identifier is longer than %d bytes", maxExternalID)
	case req.Identifier == "" && req.IdentifierHash != "":
		return kefu.Errorf(kefu.EInvalid, "identifier_hash needs an identifier")
	}
	if err := checkText("name", req.Name, kefu.MaxNameLen, false); err != nil {
		return err
	}
	if req.Email != "" {
		if err := checkEmail("email", strings.TrimSpace(req.Email)); err != nil {
			return err
		}
	}
	if err := checkText("phone", req.Phone, maxPhoneLen, false); err != nil {
		return err
	}
	if err := checkText("page_url", req.PageURL, maxURLLen, false); err != nil {
		return err
	}
	return checkText("identifier", req.Identifier, maxExternalID, false)
}

// widgetInbox is what a visitor learns about the inbox: enough to draw the
// widget, nothing an agent would keep private.
type widgetInbox struct {
	ID       int64  `json:"id"`
	Name     string `json:"name"`
	Greeting string `json:"greeting"`
	Color    string `json:"color"`
}

type widgetSessionResponse struct {
	Token     string        `json:"token"`
	VisitorID string        `json:"visitor_id"`
	Contact   *kefu.Contact `json:"contact"`
	Inbox     widgetInbox   `json:"inbox"`
	ExpiresAt time.Time     `json:"expires_at"`
}

// visitorIDBytes is the randomness in a server-made visitor id. The id is
// what lets a browser come back as the same contact, so it must be
// unguessable.
const visitorIDBytes = 18

// widgetSession starts (or resumes) a visitor: it finds or creates the
// contact and returns a visitor token for the REST widget API and
// /ws/visitor.
//
//   - With identifier and a valid identifier_hash (HMAC-SHA256 of the
//     identifier under the inbox secret), the contact is the one with that
//     external id, so one customer on two devices is one contact. An
//     anonymous contact named by visitor_id is adopted the first time.
//   - Otherwise visitor_id names a returning anonymous contact. An unknown
//     visitor_id, or one belonging to an identified contact, yields a new
//     contact with a new server-made id: a client can never pick its id,
//     nor reach an identified contact without the hash.
//
// 201 when a contact was created, 200 when an existing one was found.
func (s *Server) widgetSession(w http.ResponseWriter, r *http.Request, _ kefu.Actor) error {
	if ok, after := s.widgetIP.allow(ipKey(clientIP(r))); !ok {
		return rateLimited(after)
	}
	var req widgetSessionRequest
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	if err := req.validate(); err != nil {
		return err
	}
	ctx := r.Context()
	inbox, err := s.store.GetInboxByToken(ctx, req.InboxToken)
	if kefu.IsNotFound(err) {
		return kefu.Errorf(kefu.ENotFound, "no inbox has this inbox_token")
	}
	if err != nil {
		return err
	}
	if !inbox.AcceptsOrigin(r.Header.Get("Origin"), r.Host) {
		return kefu.Errorf(kefu.EForbidden, "this inbox does not accept visitors from this origin")
	}
	if req.Identifier != "" && !auth.CheckIdentifierHash(inbox.Secret, req.Identifier, req.IdentifierHash) {
		return kefu.Errorf(kefu.EUnauthorized, "identifier_hash does not match identifier")
	}
	c, created, err := s.findOrCreateContact(r, inbox, &req)
	if err != nil {
		return err
	}
	actor := kefu.Actor{WorkspaceID: inbox.WorkspaceID, Type: kefu.SenderContact, ID: c.ID, InboxID: inbox.ID}
	token, sess, err := s.auth.Issue(ctx, kefu.SessionVisitor, actor, auth.VisitorSessionTTL)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	writeJSON(w, status, widgetSessionResponse{
		Token: token, VisitorID: c.VisitorID, Contact: c, ExpiresAt: sess.ExpiresAt,
		Inbox: widgetInbox{ID: inbox.ID, Name: inbox.Name, Greeting: inbox.Greeting, Color: inbox.Color},
	})
	return nil
}

func (s *Server) findOrCreateContact(r *http.Request, inbox *kefu.Inbox, req *widgetSessionRequest) (c *kefu.Contact, created bool, err error) {
	ctx := r.Context()
	ws := inbox.WorkspaceID
	lookup := func() (*kefu.Contact, error) {
		if req.Identifier != "" {
			c, err := s.store.GetContactByExternalID(ctx, ws, req.Identifier)
			if !kefu.IsNotFound(err) {
				return c, err
			}
		}
		if req.VisitorID == "" {
			return nil, nil
		}
		c, err := s.store.GetContactByVisitorID(ctx, ws, req.VisitorID)
		if kefu.IsNotFound(err) || (err == nil && c.ExternalID != "") {
			// Unknown, or identified: only the identifier hash reaches an
			// identified contact (and its external id matched above if so).
			return nil, nil
		}
		return c, err
	}
	c, err = lookup()
	if err != nil {
		return nil, false, err
	}
	now := kefu.Now()
	details := visitorDetails(r, req)
	if c == nil {
		c = &kefu.Contact{WorkspaceID: ws, VisitorID: auth.RandomString(visitorIDBytes), ExternalID: req.Identifier,
			Attributes: map[string]any{}, FirstSeenAt: now, LastSeenAt: now, CreatedAt: now}
		if err := details.Apply(c); err != nil {
			return nil, false, err
		}
		err = s.store.CreateContact(ctx, c)
		if err == nil {
			return c, true, nil
		}
		if kefu.ErrorCode(err) != kefu.EConflict || req.Identifier == "" {
			return nil, false, err
		}
		// The same customer arrived on another device at the same moment
		// and won the insert: use that contact.
		if c, err = s.store.GetContactByExternalID(ctx, ws, req.Identifier); err != nil {
			return nil, false, err
		}
	}
	// A patch, not a write of the contact as read: an agent's or another
	// tab's change in between (attributes above all) must survive.
	if req.Identifier != "" {
		// Found by it, or the first identification of an anonymous
		// contact, which adopts its history.
		details.ExternalID = &req.Identifier
	}
	details.LastSeenAt = &now
	if c, err = s.store.PatchContact(ctx, ws, c.ID, details); err != nil {
		return nil, false, err
	}
	return c, false, nil
}

// visitorDetails is what the widget reported, as a patch of the contact:
// empty fields leave what the contact already has.
func visitorDetails(r *http.Request, req *widgetSessionRequest) kefu.ContactPatch {
	var p kefu.ContactPatch
	nonEmpty := func(v string) *string {
		if v == "" {
			return nil
		}
		return &v
	}
	p.Name = nonEmpty(strings.TrimSpace(req.Name))
	p.Email = nonEmpty(strings.TrimSpace(req.Email))
	p.Phone = nonEmpty(strings.TrimSpace(req.Phone))
	p.PageURL = nonEmpty(req.PageURL)
	p.UserAgent = nonEmpty(strings.ToValidUTF8(truncate(r.UserAgent(), maxUserAgent), ""))
	return p
}

func (s *Server) widgetMe(w http.ResponseWriter, r *http.Request, a kefu.Actor) error {
	c, err := s.store.GetContact(r.Context(), a.WorkspaceID, a.ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}

func (s *Server) widgetUpdateMe(w http.ResponseWriter, r *http.Request, a kefu.Actor) error {
	var req contactPatch
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	p, err := req.patch()
	if err != nil {
		return err
	}
	c, err := s.store.PatchContact(r.Context(), a.WorkspaceID, a.ID, p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}

func (s *Server) widgetListConversations(w http.ResponseWriter, r *http.Request, a kefu.Actor) error {
	after, err := conversationCursor(r)
	if err != nil {
		return err
	}
	limit, err := limitParam(r)
	if err != nil {
		return err
	}
	return s.writeConversations(w, r, a, kefu.ConversationFilter{After: after, Limit: limit})
}

// widgetStartConversation opens a conversation for the visitor. fields
// carries the pre-chat (or offline) form's answers; the inbox's required
// fields must be answered, now or earlier.
func (s *Server) widgetStartConversation(w http.ResponseWriter, r *http.Request, a kefu.Actor) error {
	var req struct {
		Fields map[string]string `json:"fields"`
	}
	if err := s.decodeOptional(w, r, &req); err != nil {
		return err
	}
	if err := s.applyPreChat(r, a, req.Fields); err != nil {
		return err
	}
	c, err := s.chat.StartConversation(r.Context(), a)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, c.ForContact())
	return nil
}
