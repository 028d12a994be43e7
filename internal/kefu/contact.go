package kefu

import (
	"encoding/json"
	"maps"
	"time"
)

// Bounds of a contact's custom attributes, checked on the merged result
// of every patch.
const (
	MaxAttributeKeyLen = 64        // bytes of an attribute's name
	MaxAttributeBytes  = 16 * 1024 // bytes of all attributes, encoded as JSON
)

// ContactPatch changes some of a contact's fields; a nil field is left as
// it is. Attributes are merged into the contact's key by key, and a nil
// value (JSON null) deletes its key. The caller validates the values; the
// store applies the patch to the contact as it stands inside its write
// (see ContactStore.PatchContact), so two concurrent patches never lose
// each other's keys.
type ContactPatch struct {
	Name       *string
	Email      *string
	Phone      *string
	ExternalID *string
	UserAgent  *string
	PageURL    *string
	LastSeenAt *time.Time
	Attributes map[string]any
}

// Apply changes c as p says. The merged attributes must stay within
// MaxAttributes and MaxAttributeBytes (EInvalid otherwise); on error c is
// unchanged.
func (p *ContactPatch) Apply(c *Contact) error {
	attrs := c.Attributes
	if p.Attributes != nil {
		attrs = maps.Clone(c.Attributes)
		if attrs == nil {
			attrs = make(map[string]any, len(p.Attributes))
		}
		for k, v := range p.Attributes {
			if v == nil {
				delete(attrs, k)
			} else {
				attrs[k] = v
			}
		}
		if len(attrs) > MaxAttributes {
			return Errorf(EInvalid, "at most %d attributes", MaxAttributes)
		}
		if b, err := json.Marshal(attrs); err != nil || len(b) > MaxAttributeBytes {
			return Errorf(EInvalid, "attributes take more than %d bytes", MaxAttributeBytes)
		}
	}
	c.Attributes = attrs
	set(&c.Name, p.Name)
	set(&c.Email, p.Email)
	set(&c.Phone, p.Phone)
	set(&c.ExternalID, p.ExternalID)
	set(&c.UserAgent, p.UserAgent)
	set(&c.PageURL, p.PageURL)
	set(&c.LastSeenAt, p.LastSeenAt)
	return nil
}

func set[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}
