package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/kefu-chat/kefu/internal/kefu"
)

func contactID(c *kefu.Contact) int64 { return c.ID }

func testContact(t *testing.T, s kefu.Store) {
	f := newFixture(t, s)
	ctx := f.ctx
	ws, other := f.workspace(), f.workspace()
	now := kefu.Now()
	c := &kefu.Contact{
		WorkspaceID: ws.ID, VisitorID: "v-1", ExternalID: "crm-1", Name: "王芳", Email: "fang@example.com",
		Phone: "+86 139 0000 0000",
		// Values as encoding/json decodes them, so a JSON round trip
		// gives back exactly this map.
		Attributes: map[string]any{
			"plan": "pro", "seats": 3.0, "vip": true, "tags": []any{"a", "b"},
			"address": map[string]any{"city": "杭州"}, "note": nil,
		},
		UserAgent: "Mozilla/5.0", PageURL: "https://shop.example/cart",
		FirstSeenAt: now.Add(-time.Hour), LastSeenAt: now, CreatedAt: now, UpdatedAt: now,
	}
	if err := s.CreateContact(ctx, c); err != nil {
		t.Fatalf("CreateContact: %v", err)
	}
	if c.ID == 0 {
		t.Fatalf("CreateContact did not set ID")
	}
	for name, get := range map[string]func() (*kefu.Contact, error){
		"GetContact":             func() (*kefu.Contact, error) { return s.GetContact(ctx, ws.ID, c.ID) },
		"GetContactByVisitorID":  func() (*kefu.Contact, error) { return s.GetContactByVisitorID(ctx, ws.ID, "v-1") },
		"GetContactByExternalID": func() (*kefu.Contact, error) { return s.GetContactByExternalID(ctx, ws.ID, "crm-1") },
	} {
		got, err := get()
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		check(t, name, got, c)
	}
	_, err := s.GetContact(ctx, ws.ID, c.ID+1000)
	wantCode(t, "GetContact(missing)", err, kefu.ENotFound)
	_, err = s.GetContactByVisitorID(ctx, ws.ID, "v-unknown")
	wantCode(t, "GetContactByVisitorID(unknown)", err, kefu.ENotFound)
	_, err = s.GetContactByExternalID(ctx, ws.ID, "crm-unknown")
	wantCode(t, "GetContactByExternalID(unknown)", err, kefu.ENotFound)

	t.Run("NilAttributesComeBackEmpty", func(t *testing.T) {
		c := &kefu.Contact{WorkspaceID: ws.ID, VisitorID: "v-nil", FirstSeenAt: now, LastSeenAt: now, CreatedAt: now, UpdatedAt: now}
		if err := s.CreateContact(ctx, c); err != nil {
			t.Fatalf("CreateContact: %v", err)
		}
		got, err := s.GetContact(ctx, ws.ID, c.ID)
		if err != nil {
			t.Fatalf("GetContact: %v", err)
		}
		if got.Attributes == nil || len(got.Attributes) != 0 {
			t.Errorf("Attributes: got %#v, want map[string]any{}", got.Attributes)
		}
	})

	t.Run("Uniqueness", func(t *testing.T) {
		// An empty visitor or external id is "none", not a value: any
		// number of contacts may lack one. A real id is unique within its
		// workspace only.
		for _, tc := range []struct {
			name     string
			ws       int64
			visitor  string
			external string
			want     string
		}{
			{"no ids", ws.ID, "", "", ""},
			{"no ids again", ws.ID, "", "", ""},
			{"taken visitor id", ws.ID, "v-1", "", kefu.EConflict},
			{"taken external id", ws.ID, "", "crm-1", kefu.EConflict},
			{"visitor id taken elsewhere", other.ID, "v-1", "", ""},
			{"external id taken elsewhere", other.ID, "", "crm-1", ""},
			{"fresh ids", ws.ID, "v-2", "crm-2", ""},
		} {
			n := &kefu.Contact{WorkspaceID: tc.ws, VisitorID: tc.visitor, ExternalID: tc.external,
				FirstSeenAt: now, LastSeenAt: now, CreatedAt: now, UpdatedAt: now}
			wantCode(t, "CreateContact("+tc.name+")", s.CreateContact(ctx, n), tc.want)
		}
	})

	t.Run("Update", func(t *testing.T) {
		upd := *c
		upd.VisitorID = "v-1b"
		upd.ExternalID = "crm-1b"
		upd.Name = "Wang Fang"
		upd.Email = "wang@example.com"
		upd.Phone = ""
		upd.Attributes = map[string]any{"plan": "enterprise"}
		upd.UserAgent = "curl/8"
		upd.PageURL = "https://shop.example/checkout"
		upd.LastSeenAt = kefu.Now()
		if err := s.UpdateContact(ctx, &upd); err != nil {
			t.Fatalf("UpdateContact: %v", err)
		}
		if upd.UpdatedAt.Before(c.UpdatedAt) {
			t.Errorf("UpdatedAt went back: %v, was %v", upd.UpdatedAt, c.UpdatedAt)
		}
		got, err := s.GetContact(ctx, ws.ID, c.ID)
		if err != nil {
			t.Fatalf("GetContact: %v", err)
		}
		check(t, "GetContact after UpdateContact", got, &upd)
		if _, err := s.GetContactByVisitorID(ctx, ws.ID, "v-1"); kefu.ErrorCode(err) != kefu.ENotFound {
			t.Errorf("the old visitor id still finds the contact (err %v)", err)
		}
		*c = upd

		taken := upd
		taken.VisitorID = "v-2"
		wantCode(t, "UpdateContact(taken visitor id)", s.UpdateContact(ctx, &taken), kefu.EConflict)
		taken = upd
		taken.ExternalID = "crm-2"
		wantCode(t, "UpdateContact(taken external id)", s.UpdateContact(ctx, &taken), kefu.EConflict)
		got, err = s.GetContact(ctx, ws.ID, c.ID)
		if err != nil {
			t.Fatalf("GetContact: %v", err)
		}
		check(t, "contact after refused updates", got, c)

		missing := upd
		missing.ID = c.ID + 1000
		wantCode(t, "UpdateContact(missing)", s.UpdateContact(ctx, &missing), kefu.ENotFound)
	})
}

func testListContacts(t *testing.T, s kefu.Store) {
	f := newFixture(t, s)
	ws, other := f.workspace(), f.workspace()
	li := f.contact(ws.ID, func(c *kefu.Contact) {
		c.Name, c.Email, c.Phone, c.ExternalID = "Li Wei", "li@example.com", "+86 138 0000 0001", "crm-001"
	})
	fang := f.contact(ws.ID, func(c *kefu.Contact) {
		c.Name, c.Email, c.Phone = "Wang Fang", "fang@shop.example", "+86 139 1111 2222"
	})
	zhang := f.contact(ws.ID, func(c *kefu.Contact) {
		c.Name, c.Email, c.ExternalID = "Zhang 100%", "zhang@example.org", "crm_003"
	})
	anon := f.contact(ws.ID, func(c *kefu.Contact) { c.Name = "" })
	f.contact(other.ID, func(c *kefu.Contact) { c.Name, c.Email, c.ExternalID = "Li Wei", "li@example.com", "crm-001" })

	// Query is a plain substring: case does not matter (agents type names
	// as they remember them) and % and _ are literal characters, not
	// wildcards.
	for _, tc := range []struct {
		query string
		want  []*kefu.Contact
	}{
		{"", []*kefu.Contact{anon, zhang, fang, li}},
		{"Li Wei", []*kefu.Contact{li}},
		{"li wei", []*kefu.Contact{li}},
		{"WANG", []*kefu.Contact{fang}},
		{"shop.example", []*kefu.Contact{fang}},
		{"1111", []*kefu.Contact{fang}},
		{"crm-001", []*kefu.Contact{li}},
		{"crm", []*kefu.Contact{zhang, li}},
		{"example", []*kefu.Contact{zhang, fang, li}},
		{"%", []*kefu.Contact{zhang}},
		{"_", []*kefu.Contact{zhang}},
		{"nobody", []*kefu.Contact{}},
	} {
		got, err := s.ListContacts(f.ctx, kefu.ContactFilter{WorkspaceID: ws.ID, Query: tc.query, Limit: 100})
		if err != nil {
			t.Errorf("ListContacts(%q): %v", tc.query, err)
			continue
		}
		if got == nil {
			t.Errorf("ListContacts(%q) returned nil, want an empty slice", tc.query)
		}
		if g, w := ids(got, contactID), ids(tc.want, contactID); !slices.Equal(g, w) {
			t.Errorf("ListContacts(%q): got ids %v, want %v", tc.query, g, w)
		}
	}
	got, err := s.ListContacts(f.ctx, kefu.ContactFilter{WorkspaceID: ws.ID, Query: "Li Wei", Limit: 10})
	if err == nil && len(got) == 1 {
		check(t, "listed contact", got[0], li)
	}

	t.Run("Keyset", func(t *testing.T) {
		for _, tc := range []struct {
			query string
			limit int
			want  []*kefu.Contact
		}{
			{"", 2, []*kefu.Contact{anon, zhang, fang, li}},
			{"", 1, []*kefu.Contact{anon, zhang, fang, li}},
			{"", 3, []*kefu.Contact{anon, zhang, fang, li}},
			{"example", 2, []*kefu.Contact{zhang, fang, li}},
		} {
			var all []int64
			var before int64
			for page := 0; ; page++ {
				if page > 10 {
					t.Fatalf("ListContacts(%q, limit %d) does not end", tc.query, tc.limit)
				}
				got, err := s.ListContacts(f.ctx, kefu.ContactFilter{WorkspaceID: ws.ID, Query: tc.query, BeforeID: before, Limit: tc.limit})
				if err != nil {
					t.Fatalf("ListContacts: %v", err)
				}
				if len(got) > tc.limit {
					t.Fatalf("ListContacts(limit %d) returned %d", tc.limit, len(got))
				}
				if len(got) == 0 {
					break
				}
				all = append(all, ids(got, contactID)...)
				before = got[len(got)-1].ID
			}
			if w := ids(tc.want, contactID); !slices.Equal(all, w) {
				t.Errorf("walking ListContacts(%q) by %d: got ids %v, want %v", tc.query, tc.limit, all, w)
			}
		}
	})
}
