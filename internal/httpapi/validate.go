package httpapi

import (
	"net/mail"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/kefu-chat/kefu/internal/kefu"
)

// Field bounds shared by the handlers.
const (
	maxEmailLen    = 254
	maxPhoneLen    = 50
	maxURLLen      = 2048
	maxUserAgent   = 512
	maxGreetingLen = 2000
	maxOrigins     = 50
	maxExternalID  = 255
	maxVisitorID   = 64
	maxQueryLen    = 200
)

func normalizeEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// checkEmail accepts a bare address (no display name).
func checkEmail(field, s string) error {
	if len(s) > maxEmailLen {
		return kefu.Errorf(kefu.EInvalid, "%s is longer than %d bytes", field, maxEmailLen)
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != s {
		return kefu.Errorf(kefu.EInvalid, "%s is not an email address", field)
	}
	return nil
}

// checkText bounds a free-text field and rejects invalid UTF-8 and
// control characters other than newlines and tabs when multiline.
func checkText(field, s string, maxLen int, multiline bool) error {
	if len(s) > maxLen {
		return kefu.Errorf(kefu.EInvalid, "%s is longer than %d bytes", field, maxLen)
	}
	if !utf8.ValidString(s) {
		return kefu.Errorf(kefu.EInvalid, "%s is not valid UTF-8", field)
	}
	for _, r := range s {
		if r < 0x20 && !(multiline && (r == '\n' || r == '\t' || r == '\r')) || r == 0x7f {
			return kefu.Errorf(kefu.EInvalid, "%s has control characters", field)
		}
	}
	return nil
}

// checkName requires a non-blank single-line name.
func checkName(field, s string) error {
	if strings.TrimSpace(s) == "" {
		return kefu.Errorf(kefu.EInvalid, "%s is required", field)
	}
	return checkText(field, s, kefu.MaxNameLen, false)
}

// checkColor accepts "" or #rgb / #rrggbb.
func checkColor(s string) error {
	if s == "" {
		return nil
	}
	if (len(s) == 4 || len(s) == 7) && s[0] == '#' && strings.Trim(strings.ToLower(s[1:]), "0123456789abcdef") == "" {
		return nil
	}
	return kefu.Errorf(kefu.EInvalid, "color must be #rgb or #rrggbb")
}

// normalizeOrigins validates a list of browser origins ("https://shop.example",
// "http://localhost:8080") or "*", and returns them in canonical form.
func normalizeOrigins(in []string) ([]string, error) {
	if len(in) > maxOrigins {
		return nil, kefu.Errorf(kefu.EInvalid, "at most %d allowed_origins", maxOrigins)
	}
	out := make([]string, 0, len(in))
	for _, o := range in {
		o = strings.TrimSpace(o)
		if o == "*" {
			out = append(out, o)
			continue
		}
		u, err := url.Parse(o)
		if err != nil || len(o) > 255 || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
			(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || strings.HasSuffix(o, "#") {
			return nil, kefu.Errorf(kefu.EInvalid, "allowed_origins entry %q is not an origin like https://shop.example", truncate(o, 80))
		}
		out = append(out, strings.ToLower(u.Scheme+"://"+u.Host))
	}
	return out, nil
}

// contactPatch is the editable part of a contact, shared by agents
// (PATCH /contacts/{id}) and visitors (PATCH /widget/me). Attributes are
// merged key by key; a null value deletes the key.
type contactPatch struct {
	Name       *string        `json:"name"`
	Email      *string        `json:"email"`
	Phone      *string        `json:"phone"`
	Attributes map[string]any `json:"attributes"`
}

// patch validates p and returns it, trimmed, as the domain's patch. The
// limits on the merged attributes are checked by the store, against the
// contact as it is when the patch lands.
func (p *contactPatch) patch() (kefu.ContactPatch, error) {
	var out kefu.ContactPatch
	if p.Name != nil {
		if err := checkText("name", *p.Name, kefu.MaxNameLen, false); err != nil {
			return out, err
		}
		out.Name = ptr(strings.TrimSpace(*p.Name))
	}
	if p.Email != nil {
		e := strings.TrimSpace(*p.Email)
		if e != "" {
			if err := checkEmail("email", e); err != nil {
				return out, err
			}
		}
		out.Email = &e
	}
	if p.Phone != nil {
		if err := checkText("phone", *p.Phone, maxPhoneLen, false); err != nil {
			return out, err
		}
		out.Phone = ptr(strings.TrimSpace(*p.Phone))
	}
	for k := range p.Attributes {
		if k == "" || checkText("attribute name", k, kefu.MaxAttributeKeyLen, false) != nil {
			return out, kefu.Errorf(kefu.EInvalid, "attribute names must be 1 to %d printable bytes", kefu.MaxAttributeKeyLen)
		}
	}
	out.Attributes = p.Attributes
	return out, nil
}

func ptr[T any](v T) *T { return &v }
