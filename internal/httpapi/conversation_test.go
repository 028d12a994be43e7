package httpapi

import (
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/kefu-chat/kefu/internal/kefu"
)

// TestConversationFlow follows one chat: a visitor opens a conversation and
// writes, an agent lists, assigns, replies, snoozes and resolves it.
func TestConversationFlow(t *testing.T) {
	e := newEnv(t, openSQLite(t))
	a := e.a
	r := e.do("POST", "/api/v1/widget/conversations", a.VisitorToken, nil)
	wantStatus(t, r, 201, "")
	var conv kefu.Conversation
	r.into(t, &conv)
	if conv.ContactID != a.Contact.ID || conv.InboxID != a.Inbox.ID || conv.Status != kefu.StatusOpen {
		t.Fatalf("conversation %+v", conv)
	}
	msgs := fmt.Sprintf("/api/v1/conversations/%d/messages", conv.ID)
	wmsgs := fmt.Sprintf("/api/v1/widget/conversations/%d/messages", conv.ID)

	var sent sendMessageResponse
	r = e.do("POST", wmsgs, a.VisitorToken, map[string]any{"body": "你好", "client_msg_id": "c1"})
	wantStatus(t, r, 201, "")
	r.into(t, &sent)
	if sent.Duplicate || sent.Message.Seq != 1 || sent.Message.SenderType != kefu.SenderContact || sent.Message.SenderID != a.Contact.ID {
		t.Fatalf("send %s", r)
	}
	// A retry with the same client id stores nothing new.
	r = e.do("POST", wmsgs, a.VisitorToken, map[string]any{"body": "你好", "client_msg_id": "c1"})
	wantStatus(t, r, 200, "")
	var dup sendMessageResponse
	r.into(t, &dup)
	if !dup.Duplicate || dup.Message.ID != sent.Message.ID {
		t.Fatalf("duplicate %s", r)
	}

	// The agent finds it among unassigned conversations, takes it, replies.
	var page list[*kefu.Conversation]
	e.do("GET", "/api/v1/conversations?assignee=unassigned&status=open", a.AgentToken, nil).into(t, &page)
	if !hasConversation(page.Data, conv.ID) {
		t.Fatalf("unassigned list lacks %d", conv.ID)
	}
	r = e.do("PATCH", fmt.Sprintf("/api/v1/conversations/%d", conv.ID), a.AgentToken, map[string]any{"assignee_id": a.Agent.ID})
	wantStatus(t, r, 200, "")
	e.do("GET", "/api/v1/conversations?assignee=me", a.AgentToken, nil).into(t, &page)
	if !hasConversation(page.Data, conv.ID) {
		t.Fatal("assignee=me lacks the conversation")
	}
	e.do("GET", fmt.Sprintf("/api/v1/conversations?assignee=%d", a.Admin.ID), a.AgentToken, nil).into(t, &page)
	if hasConversation(page.Data, conv.ID) {
		t.Fatal("assignee=admin lists the agent's conversation")
	}
	wantStatus(t, e.do("POST", msgs, a.AgentToken, map[string]any{"body": "Hello, how can I help?"}), 201, "")
	wantStatus(t, e.do("POST", msgs, a.AgentToken, map[string]any{"body": "VIP customer", "kind": "note"}), 201, "")

	// Snooze needs a time; null clears it; resolving clears it too.
	until := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
	cpath := fmt.Sprintf("/api/v1/conversations/%d", conv.ID)
	wantStatus(t, e.do("PATCH", cpath, a.AgentToken, map[string]any{"status": "snoozed"}), 400, "invalid")
	r = e.do("PATCH", cpath, a.AgentToken, map[string]any{"status": "snoozed", "snoozed_until": until.Format(time.RFC3339)})
	wantStatus(t, r, 200, "")
	r.into(t, &conv)
	if conv.Status != kefu.StatusSnoozed || conv.SnoozedUntil == nil || !conv.SnoozedUntil.Equal(until) {
		t.Fatalf("snoozed %s", r)
	}
	r = e.do("PATCH", cpath, a.AgentToken, map[string]any{"status": "resolved"})
	wantStatus(t, r, 200, "")
	var resolved kefu.Conversation
	r.into(t, &resolved)
	if resolved.Status != kefu.StatusResolved || resolved.SnoozedUntil != nil || resolved.AssigneeID != a.Agent.ID {
		t.Fatalf("resolved %s", r)
	}
	// Unassign with 0.
	r = e.do("PATCH", cpath, a.AgentToken, map[string]any{"assignee_id": 0})
	wantStatus(t, r, 200, "")
	if r.obj(t)["assignee_id"] != float64(0) {
		t.Fatalf("unassign %s", r)
	}

	// Agents see the note and the system events; the visitor sees neither notes.
	var agentView, visitorView messagePage
	e.do("GET", msgs+"?after_seq=0&limit=200", a.AgentToken, nil).into(t, &agentView)
	e.do("GET", wmsgs+"?after_seq=0&limit=200", a.VisitorToken, nil).into(t, &visitorView)
	notes := 0
	for _, m := range agentView.Data {
		if m.Kind == kefu.KindNote {
			notes++
		}
	}
	if notes != 1 || len(visitorView.Data) != len(agentView.Data)-1 {
		t.Fatalf("agent sees %d messages (%d notes), visitor %d", len(agentView.Data), notes, len(visitorView.Data))
	}
	for i, m := range agentView.Data {
		if m.Seq != int64(i+1) {
			t.Fatalf("seqs not dense and ascending: %d at %d", m.Seq, i)
		}
	}

	// Read marks move forward only.
	last := agentView.Data[len(agentView.Data)-1].Seq
	r = e.do("POST", fmt.Sprintf("/api/v1/widget/conversations/%d/read", conv.ID), a.VisitorToken, map[string]any{"seq": last})
	wantStatus(t, r, 200, "")
	r = e.do("POST", fmt.Sprintf("/api/v1/widget/conversations/%d/read", conv.ID), a.VisitorToken, map[string]any{"seq": 1})
	if got := r.obj(t)["contact_last_read_seq"]; got != float64(last) {
		t.Fatalf("read marker went to %v, want %d", got, last)
	}
}

func hasConversation(cs []*kefu.Conversation, id int64) bool {
	for _, c := range cs {
		if c.ID == id {
			return true
		}
	}
	return false
}

// TestMessagePaging walks a conversation backwards and forwards by seq.
func TestMessagePaging(t *testing.T) {
	e := newEnv(t, openSQLite(t))
	path := fmt.Sprintf("/api/v1/conversations/%d/messages", e.a.Conversation.ID)
	for i := 1; i <= 7; i++ {
		wantStatus(t, e.do("POST", path, e.a.AgentToken, map[string]any{"body": fmt.Sprint("m", i)}), 201, "")
	}
	seqs := func(p messagePage) []int64 {
		var out []int64
		for _, m := range p.Data {
			out = append(out, m.Seq)
		}
		return out
	}
	get := func(q string) messagePage {
		t.Helper()
		var p messagePage
		r := e.do("GET", path+q, e.a.AgentToken, nil)
		wantStatus(t, r, 200, "")
		r.into(t, &p)
		return p
	}
	tests := []struct {
		query string
		want  string
		more  bool
	}{
		{"?limit=3", "[5 6 7]", true},                        // newest page
		{"?limit=3&before_seq=5", "[2 3 4]", true},           // older
		{"?limit=3&before_seq=2", "[1]", false},              // oldest
		{"?limit=3&after_seq=0", "[1 2 3]", true},            // from the start
		{"?limit=3&after_seq=3", "[4 5 6]", true},            // forward
		{"?limit=3&after_seq=6", "[7]", false},               // caught up
		{"?limit=3&after_seq=7", "[]", false},                // nothing new
		{"?after_seq=2&before_seq=6", "[3 4 5]", false},      // a window
		{"?limit=2&after_seq=1&before_seq=6", "[4 5]", true}, // newest of a window
		{"", "[1 2 3 4 5 6 7]", false},
	}
	for _, tt := range tests {
		p := get(tt.query)
		if got := fmt.Sprint(seqs(p)); got != tt.want || p.HasMore != tt.more {
			t.Errorf("%s: got %s has_more=%v, want %s has_more=%v", tt.query, got, p.HasMore, tt.want, tt.more)
		}
	}
}

// TestConversationPagination pages through conversations with the opaque
// cursor until it runs out, seeing each exactly once.
func TestConversationPagination(t *testing.T) {
	e := newEnv(t, openSQLite(t))
	want := map[int64]bool{e.a.Conversation.ID: true}
	for range 6 {
		var c kefu.Conversation
		e.do("POST", "/api/v1/widget/conversations", e.a.VisitorToken, nil).into(t, &c)
		want[c.ID] = true
	}
	for _, base := range []string{"/api/v1/conversations?limit=3", fmt.Sprintf("/api/v1/contacts/%d/conversations?limit=3", e.a.Contact.ID), "/api/v1/widget/conversations?limit=3"} {
		tok := e.a.AgentToken
		if base[:15] == "/api/v1/widget/" {
			tok = e.a.VisitorToken
		}
		seen := map[int64]bool{}
		cursor, pages := "", 0
		var prev *kefu.Conversation
		for {
			var page list[*kefu.Conversation]
			r := e.do("GET", base+"&cursor="+url.QueryEscape(cursor), tok, nil)
			wantStatus(t, r, 200, "")
			r.into(t, &page)
			pages++
			for _, c := range page.Data {
				if seen[c.ID] {
					t.Fatalf("%s: %d seen twice", base, c.ID)
				}
				if prev != nil && (c.LastActivityAt.After(prev.LastActivityAt) || c.LastActivityAt.Equal(prev.LastActivityAt) && c.ID > prev.ID) {
					t.Fatalf("%s: order broken at %d", base, c.ID)
				}
				seen[c.ID], prev = true, c
			}
			if page.NextCursor == "" {
				break
			}
			cursor = page.NextCursor
			if pages > 10 {
				t.Fatal("cursor never ends")
			}
		}
		if len(seen) != len(want) {
			t.Fatalf("%s: saw %d conversations, want %d", base, len(seen), len(want))
		}
	}
	// Contacts page the same way.
	var page list[*kefu.Contact]
	e.do("GET", "/api/v1/contacts?limit=1", e.a.AgentToken, nil).into(t, &page)
	if len(page.Data) != 1 || page.NextCursor == "" {
		t.Fatalf("contacts page %+v", page)
	}
	e.do("GET", "/api/v1/contacts?limit=1&cursor="+page.NextCursor, e.a.AgentToken, nil).into(t, &page)
	if len(page.Data) != 0 {
		t.Fatalf("workspace A has one contact, second page has %d", len(page.Data))
	}
}
