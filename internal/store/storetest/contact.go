package storetest

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
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

// testPatchContact pins PatchContact: fields the patch names change, the
// rest stay; attributes merge key by key, a nil value deletes its key; the
// limits hold for the merged result, and a refused patch changes nothing.
func testPatchContact(t *testing.T, s kefu.Store) {
	f := newFixture(t, s)
	ctx := f.ctx
	ws, other := f.workspace(), f.workspace()
	c := f.contact(ws.ID, func(c *kefu.Contact) {
		c.ExternalID, c.Email, c.Phone = "crm-1", "li@example.com", "+86 138 0000 0001"
		c.UserAgent, c.PageURL = "Mozilla/5.0", "https://shop.example/"
		c.Attributes = map[string]any{"plan": "pro", "seats": 3.0}
	})
	taken := f.contact(ws.ID, func(c *kefu.Contact) { c.ExternalID = "crm-taken" })

	// patch applies p and checks the result against want (UpdatedAt
	// aside, which must not go back) and against a fresh read: what
	// PatchContact returns is what was stored, as a read gives it back.
	patch := func(what string, p kefu.ContactPatch, want func(c *kefu.Contact)) {
		t.Helper()
		before := c.UpdatedAt
		got, err := s.PatchContact(ctx, ws.ID, c.ID, p)
		if err != nil {
			t.Fatalf("PatchContact(%s): %v", what, err)
		}
		if got.UpdatedAt.Before(before) {
			t.Errorf("PatchContact(%s): UpdatedAt went back: %v, was %v", what, got.UpdatedAt, before)
		}
		exp := *c
		exp.Attributes = maps.Clone(c.Attributes)
		want(&exp)
		exp.UpdatedAt = got.UpdatedAt
		check(t, "PatchContact("+what+")", got, &exp)
		read, err := s.GetContact(ctx, ws.ID, c.ID)
		if err != nil {
			t.Fatalf("GetContact: %v", err)
		}
		check(t, "GetContact after PatchContact("+what+")", read, got)
		*c = *got
	}
	// refused expects p to fail with code (and message, if not empty) and
	// to change nothing.
	refused := func(what string, p kefu.ContactPatch, code, msg string) {
		t.Helper()
		_, err := s.PatchContact(ctx, ws.ID, c.ID, p)
		wantCode(t, "PatchContact("+what+")", err, code)
		if msg != "" && kefu.ErrorMessage(err) != msg {
			t.Errorf("PatchContact(%s): got message %q, want %q", what, kefu.ErrorMessage(err), msg)
		}
		got, err := s.GetContact(ctx, ws.ID, c.ID)
		if err != nil {
			t.Fatalf("GetContact: %v", err)
		}
		check(t, "contact after refused PatchContact("+what+")", got, c)
	}

	patch("merge attributes", kefu.ContactPatch{Attributes: map[string]any{"seats": 5.0, "lang": "zh-CN"}}, func(c *kefu.Contact) {
		c.Attributes = map[string]any{"plan": "pro", "seats": 5.0, "lang": "zh-CN"}
	})
	patch("nested values", kefu.ContactPatch{Attributes: map[string]any{
		"address": map[string]any{"city": "杭州"}, "tags": []any{"a", "b"}, "vip": true,
	}}, func(c *kefu.Contact) {
		c.Attributes["address"] = map[string]any{"city": "杭州"}
		c.Attributes["tags"] = []any{"a", "b"}
		c.Attributes["vip"] = true
	})
	patch("null deletes", kefu.ContactPatch{Attributes: map[string]any{"plan": nil, "never-set": nil, "tags": nil}}, func(c *kefu.Contact) {
		delete(c.Attributes, "plan")
		delete(c.Attributes, "tags")
	})
	patch("fields only", kefu.ContactPatch{Name: ptr("Li Lei"), Email: ptr("")}, func(c *kefu.Contact) {
		c.Name, c.Email = "Li Lei", ""
	})
	patch("empty attributes", kefu.ContactPatch{Phone: ptr("+86 10 1234"), Attributes: map[string]any{}}, func(c *kefu.Contact) {
		c.Phone = "+86 10 1234"
	})
	seen := kefu.Now()
	patch("visit", kefu.ContactPatch{ExternalID: ptr("crm-2"), UserAgent: ptr("curl/8"), PageURL: ptr("https://shop.example/cart"), LastSeenAt: &seen},
		func(c *kefu.Contact) {
			c.ExternalID, c.UserAgent, c.PageURL, c.LastSeenAt = "crm-2", "curl/8", "https://shop.example/cart", seen
		})
	refused("taken external id", kefu.ContactPatch{ExternalID: ptr(taken.ExternalID), Name: ptr("x")}, kefu.EConflict, "")

	t.Run("Limits", func(t *testing.T) {
		tooMany := fmt.Sprintf("at most %d attributes", kefu.MaxAttributes)
		tooBig := fmt.Sprintf("attributes take more than %d bytes", kefu.MaxAttributeBytes)
		fill := map[string]any{}
		for i := len(c.Attributes); i < kefu.MaxAttributes; i++ {
			fill[fmt.Sprintf("k%02d", i)] = i
		}
		patch("up to the limit", kefu.ContactPatch{Attributes: fill}, func(c *kefu.Contact) {
			for k, v := range fill {
				c.Attributes[k] = float64(v.(int)) // as JSON reads it back
			}
		})
		// The limit is on the merged result: one new key is one too many,
		// but a patch that deletes as many as it adds fits.
		refused("one over the limit", kefu.ContactPatch{Name: ptr("x"), Attributes: map[string]any{"one-more": 1.0}}, kefu.EInvalid, tooMany)
		patch("swap a key", kefu.ContactPatch{Attributes: map[string]any{"k63": nil, "swapped": 1.0}}, func(c *kefu.Contact) {
			delete(c.Attributes, "k63")
			c.Attributes["swapped"] = 1.0
		})
		all := map[string]any{}
		for k := range c.Attributes {
			all[k] = nil
		}
		patch("delete all", kefu.ContactPatch{Attributes: all}, func(c *kefu.Contact) { c.Attributes = map[string]any{} })

		// Each half fits; both together do not.
		half := strings.Repeat("x", kefu.MaxAttributeBytes/2)
		patch("half the bytes", kefu.ContactPatch{Attributes: map[string]any{"a": half}}, func(c *kefu.Contact) { c.Attributes["a"] = half })
		refused("the other half", kefu.ContactPatch{Attributes: map[string]any{"b": half}}, kefu.EInvalid, tooBig)
		patch("replace the big value", kefu.ContactPatch{Attributes: map[string]any{"a": nil, "b": half}}, func(c *kefu.Contact) {
			c.Attributes = map[string]any{"b": half}
		})
	})

	t.Run("NotFound", func(t *testing.T) {
		p := kefu.ContactPatch{Name: ptr("pwned"), Attributes: map[string]any{"owned": true}}
		_, err := s.PatchContact(ctx, ws.ID, taken.ID+1000, p)
		wantCode(t, "PatchContact(missing)", err, kefu.ENotFound)
		_, err = s.PatchContact(ctx, other.ID, c.ID, p)
		wantCode(t, "PatchContact(other workspace)", err, kefu.ENotFound)
		got, err := s.GetContact(ctx, ws.ID, c.ID)
		if err != nil {
			t.Fatalf("GetContact: %v", err)
		}
		check(t, "contact after another workspace's PatchContact", got, c)
	})
}

// testPatchContactConcurrent has writers add keys to one contact at the
// same time: a patch merges into the contact as it is inside the write, so
// every key arrives. A read-merge-write outside the store loses some.
func testPatchContactConcurrent(t *testing.T, s kefu.Store) {
	f := newFixture(t, s)
	ws := f.workspace()
	c := f.contact(ws.ID, func(c *kefu.Contact) { c.Attributes = map[string]any{"kept": "yes"} })
	const writers, each = 8, 6 // 1 + 48 keys: within kefu.MaxAttributes
	start := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	for w := range writers {
		wg.Go(func() {
			<-start
			for i := range each {
				k := fmt.Sprintf("w%d-%d", w, i)
				if _, err := s.PatchContact(f.ctx, ws.ID, c.ID, kefu.ContactPatch{Attributes: map[string]any{k: float64(w*each + i)}}); err != nil {
					errs <- fmt.Errorf("PatchContact(%s): %w", k, err)
				}
			}
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	got, err := s.GetContact(f.ctx, ws.ID, c.ID)
	if err != nil {
		t.Fatalf("GetContact: %v", err)
	}
	want := map[string]any{"kept": "yes"}
	for w := range writers {
		for i := range each {
			want[fmt.Sprintf("w%d-%d", w, i)] = float64(w*each + i)
		}
	}
	check(t, "attributes after concurrent patches", got.Attributes, want)
}
