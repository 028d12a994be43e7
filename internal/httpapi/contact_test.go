package httpapi

import (
	"fmt"
	"sync"
	"testing"

	"github.com/kefu-chat/kefu/internal/kefu"
)

func TestContactPatchesMergeSQLite(t *testing.T)   { testContactPatchesMerge(t, openSQLite(t)) }
func TestContactPatchesMergePostgres(t *testing.T) { testContactPatchesMerge(t, openPostgres(t)) }

// testContactPatchesMerge sends attribute changes for one contact at the
// same time through every door that writes it: agents' PATCH /contacts/{id},
// the visitor's PATCH /widget/me and pre-chat answers, and the visitor
// coming back through POST /widget/sessions. Every key must arrive: a
// handler that read the contact, merged and wrote it back would lose some.
func testContactPatchesMerge(t *testing.T, store kefu.Store) {
	e := newEnv(t, store)
	a := e.a
	const rounds = 5
	var fields []any
	for i := range rounds {
		fields = append(fields, map[string]any{"name": fmt.Sprint("form", i), "type": "text"})
	}
	wantStatus(t, e.do("PATCH", fmt.Sprintf("/api/v1/inboxes/%d", a.Inbox.ID), a.AdminToken,
		map[string]any{"widget": map[string]any{"prechat_enabled": true, "prechat_fields": fields}}), 200, "")

	type call struct {
		method, path, token string
		body                map[string]any
		status              int
	}
	var calls []call
	want := map[string]any{}
	for i := range rounds {
		agentKey, visitorKey, formKey := fmt.Sprint("agent", i), fmt.Sprint("visitor", i), fmt.Sprint("form", i)
		want[agentKey], want[visitorKey], want[formKey] = float64(i), float64(i), fmt.Sprint("answer ", i)
		calls = append(calls,
			call{"PATCH", fmt.Sprintf("/api/v1/contacts/%d", a.Contact.ID), a.AgentToken,
				map[string]any{"attributes": map[string]any{agentKey: i}}, 200},
			call{"PATCH", "/api/v1/widget/me", a.VisitorToken, map[string]any{"attributes": map[string]any{visitorKey: i}}, 200},
			call{"POST", "/api/v1/widget/conversations", a.VisitorToken,
				map[string]any{"fields": map[string]any{formKey: fmt.Sprint("answer ", i)}}, 201},
			call{"POST", "/api/v1/widget/sessions", "",
				map[string]any{"inbox_token": a.Inbox.PublicToken, "visitor_id": a.Contact.VisitorID, "page_url": fmt.Sprint("https://shop.example/", i)}, 200},
		)
	}
	start := make(chan struct{})
	got := make([]*resp, len(calls))
	var wg sync.WaitGroup
	for i, c := range calls {
		wg.Go(func() {
			<-start
			got[i] = e.do(c.method, c.path, c.token, c.body)
		})
	}
	close(start)
	wg.Wait()
	for i, c := range calls {
		if got[i].Code != c.status {
			t.Errorf("%s %s: %d %s, want %d", c.method, c.path, got[i].Code, got[i], c.status)
		}
	}
	contact, err := store.GetContact(t.Context(), a.Workspace.ID, a.Contact.ID)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range want {
		if contact.Attributes[k] != v {
			t.Errorf("attribute %s: got %v, want %v (all: %v)", k, contact.Attributes[k], v, contact.Attributes)
		}
	}
}
