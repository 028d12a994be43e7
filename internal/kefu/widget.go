package kefu

import (
	"context"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"
)

// Widget positions on the host page.
const (
	WidgetRight = "right"
	WidgetLeft  = "left"
)

// Locales the widget ships strings for; "" lets the browser decide.
var WidgetLocales = []string{"en", "zh-CN"}

// Pre-chat field types. "name", "email" and "phone" fields are stored on
// the contact's own columns; any other field name goes to its attributes.
const (
	FieldText     = "text"
	FieldEmail    = "email"
	FieldTel      = "tel"
	FieldSelect   = "select"
	FieldTextarea = "textarea"
)

// Bounds of the widget settings, so one inbox cannot make every visitor
// download a novel.
const (
	MaxPreChatFields   = 10
	MaxFieldOptions    = 50
	MaxWidgetTextLen   = 500
	MaxFieldNameLen    = 64
	MaxRatingCommentLn = 2000
)

// PreChatField is one input of the pre-chat form.
type PreChatField struct {
	Name     string   `json:"name"`  // contact column (name, email, phone) or attribute key
	Label    string   `json:"label"` // shown to the visitor; "" uses the widget's own word for name/email/phone
	Type     string   `json:"type"`
	Required bool     `json:"required"`
	Options  []string `json:"options"` // for select
}

// WidgetSettings customise an inbox's widget. The zero value is a valid
// widget: bottom right, no pre-chat form, the widget's default texts.
type WidgetSettings struct {
	Position       string         `json:"position"`        // right (default) or left
	LauncherText   string         `json:"launcher_text"`   // label next to the launcher icon; "" for icon only
	Title          string         `json:"title"`           // panel header; "" uses the inbox name
	OfflineMessage string         `json:"offline_message"` // shown above the offline form; "" for the default text
	Locale         string         `json:"locale"`          // "" (browser), en or zh-CN
	PreChatEnabled bool           `json:"prechat_enabled"` // ask the fields below before the first message
	PreChatFields  []PreChatField `json:"prechat_fields"`
}

// Normalize fills defaults so that stored and served settings look alike.
func (w *WidgetSettings) Normalize() {
	if w.Position == "" {
		w.Position = WidgetRight
	}
	if w.PreChatFields == nil {
		w.PreChatFields = []PreChatField{}
	}
	for i := range w.PreChatFields {
		if w.PreChatFields[i].Options == nil {
			w.PreChatFields[i].Options = []string{}
		}
	}
}

// Validate checks settings an admin submits.
func (w *WidgetSettings) Validate() error {
	switch w.Position {
	case "", WidgetRight, WidgetLeft:
	default:
		return Errorf(EInvalid, "widget.position must be right or left")
	}
	if w.Locale != "" && !validLocale(w.Locale) {
		return Errorf(EInvalid, "widget.locale must be empty, en or zh-CN")
	}
	for field, s := range map[string]string{"launcher_text": w.LauncherText, "title": w.Title, "offline_message": w.OfflineMessage} {
		if err := checkWidgetText("widget."+field, s, field == "offline_message"); err != nil {
			return err
		}
	}
	if len(w.PreChatFields) > MaxPreChatFields {
		return Errorf(EInvalid, "widget.prechat_fields has more than %d fields", MaxPreChatFields)
	}
	seen := map[string]bool{}
	for i := range w.PreChatFields {
		f := &w.PreChatFields[i]
		if err := f.validate(); err != nil {
			return err
		}
		if seen[f.Name] {
			return Errorf(EInvalid, "widget.prechat_fields names %q twice", f.Name)
		}
		seen[f.Name] = true
	}
	return nil
}

func (f *PreChatField) validate() error {
	if f.Name == "" || len(f.Name) > MaxFieldNameLen || strings.Trim(strings.ToLower(f.Name), "abcdefghijklmnopqrstuvwxyz0123456789_") != "" {
		return Errorf(EInvalid, "widget.prechat_fields: name %q must be 1 to %d letters, digits or underscores", f.Name, MaxFieldNameLen)
	}
	switch f.Type {
	case FieldText, FieldEmail, FieldTel, FieldSelect, FieldTextarea:
	default:
		return Errorf(EInvalid, "widget.prechat_fields: %s has type %q; want text, email, tel, select or textarea", f.Name, f.Type)
	}
	if f.Name == "email" && f.Type != FieldEmail {
		return Errorf(EInvalid, "widget.prechat_fields: the email field must have type email")
	}
	if err := checkWidgetText("widget.prechat_fields label", f.Label, false); err != nil {
		return err
	}
	if f.Type == FieldSelect && (len(f.Options) == 0 || len(f.Options) > MaxFieldOptions) {
		return Errorf(EInvalid, "widget.prechat_fields: select %s needs 1 to %d options", f.Name, MaxFieldOptions)
	}
	if f.Type != FieldSelect && len(f.Options) > 0 {
		return Errorf(EInvalid, "widget.prechat_fields: only a select field has options")
	}
	for _, o := range f.Options {
		if strings.TrimSpace(o) == "" {
			return Errorf(EInvalid, "widget.prechat_fields: %s has an empty option", f.Name)
		}
		if err := checkWidgetText("widget.prechat_fields option", o, false); err != nil {
			return err
		}
	}
	return nil
}

func validLocale(l string) bool {
	for _, x := range WidgetLocales {
		if l == x {
			return true
		}
	}
	return false
}

func checkWidgetText(field, s string, multiline bool) error {
	if len(s) > MaxWidgetTextLen {
		return Errorf(EInvalid, "%s is longer than %d bytes", field, MaxWidgetTextLen)
	}
	if !utf8.ValidString(s) {
		return Errorf(EInvalid, "%s is not valid UTF-8", field)
	}
	for _, r := range s {
		if r < 0x20 && !(multiline && r == '\n') || r == 0x7f {
			return Errorf(EInvalid, "%s has control characters", field)
		}
	}
	return nil
}

// Rating is a visitor's satisfaction score for a resolved conversation.
type Rating struct {
	Score   int       `json:"score"` // 1 (bad) to 5 (great)
	Comment string    `json:"comment"`
	RatedAt time.Time `json:"rated_at"`
}

// Validate checks a rating a visitor submits.
func (r *Rating) Validate() error {
	if r.Score < 1 || r.Score > 5 {
		return Errorf(EInvalid, "score must be 1 to 5")
	}
	if len(r.Comment) > MaxRatingCommentLn {
		return Errorf(EInvalid, "comment is longer than %d bytes", MaxRatingCommentLn)
	}
	if !utf8.ValidString(r.Comment) || strings.IndexByte(r.Comment, 0) >= 0 {
		return Errorf(EInvalid, "comment is not valid UTF-8 text")
	}
	return nil
}

// RatingStore keeps satisfaction ratings on conversations.
type RatingStore interface {
	// RateConversation sets the conversation's rating if, at the moment of
	// writing, it is resolved (EConflict otherwise; ENotFound if absent or
	// another workspace's). A later call replaces the rating.
	RateConversation(ctx context.Context, workspaceID, conversationID int64, r Rating) (*Conversation, error)
}

// AcceptsOrigin is OriginAllowed for a request sent to host: Kefu's own
// pages (the widget frame and /chat, whose Origin is Kefu's host) are
// always accepted. Which sites may embed the widget frame is enforced by
// the frame's Content-Security-Policy frame-ancestors, built from the same
// allowed origins.
func (in *Inbox) AcceptsOrigin(origin, host string) bool {
	if in.OriginAllowed(origin) {
		return true
	}
	u, err := url.Parse(origin)
	return err == nil && host != "" && (u.Scheme == "http" || u.Scheme == "https") && strings.EqualFold(u.Host, host)
}
