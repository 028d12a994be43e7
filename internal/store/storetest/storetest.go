// Package storetest is the conformance suite every kefu.Store must pass.
// The behaviour of a store is written down here once, as tests, and each
// implementation runs it from its own package:
//
//	func TestStore(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) kefu.Store { ... a fresh store ... })
//	}
//
// Where the domain comments leave a choice open, the choice the suite makes
// is stated in a comment at the test that pins it.
package storetest

import (
	"cmp"
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kefu-chat/kefu/internal/kefu"
)

// Run runs the suite. open must return a fresh, empty, migrated store and
// register its cleanup (closing it) on t. Some subtests close the store
// themselves, so Close must tolerate being called a second time.
func Run(t *testing.T, open func(t *testing.T) kefu.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s kefu.Store)
	}{
		{"Ping", testPing},
		{"Close", testClose},
		{"Defaults", testDefaults},
		{"Workspace", testWorkspace},
		{"Agent", testAgent},
		{"LastAdmin", testLastAdmin},
		{"LastAdminConcurrent", testLastAdminConcurrent},
		{"Inbox", testInbox},
		{"Contact", testContact},
		{"ListContacts", testListContacts},
		{"PatchContact", testPatchContact},
		{"PatchContactConcurrent", testPatchContactConcurrent},
		{"Conversation", testConversation},
		{"UpdateConversation", testUpdateConversation},
		{"MarkRead", testMarkRead},
		{"ListConversations", testListConversations},
		{"Attachment", testAttachment},
		{"CannedResponses", testCanned},
		{"Labels", testLabels},
		{"SearchMessages", testSearchMessages},
		{"LastMessages", testLastMessages},
		{"UpdateWorkspace", testUpdateWorkspace},
		{"ConsoleIsolation", testConsoleIsolation},
		{"Session", testSession},
		{"AppendMessage", testAppendMessage},
		{"AppendMessageIdempotent", testAppendIdempotent},
		{"AppendMessageMissingConversation", testAppendMissing},
		{"AppendMessageAttachments", testAppendAttachments},
		{"AppendMessageConcurrent", testAppendConcurrent},
		{"ListMessages", testListMessages},
		{"EmptyCollectionsEncodeAsEmpty", testEmptyCollections},
		{"Isolation", testIsolation},
		{"Bot", testBot},
		{"WidgetSettings", testWidgetSettings},
		{"Rating", testRating},
		{"Invitation", testInvitation},
		{"InvitationExpiry", testInvitationExpiry},
		{"InvitationInviterGone", testInvitationInviterGone},
		{"InvitationRevoke", testInvitationRevoke},
		{"InvitationIsolation", testInvitationIsolation},
		{"InvitationConcurrent", testInvitationConcurrent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, open(t)) })
	}
}

func testPing(t *testing.T, s kefu.Store) {
	if err := s.Ping(t.Context()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
}

func testClose(t *testing.T, s kefu.Store) {
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := s.Ping(t.Context()); err == nil {
		t.Errorf("Ping after Close: got nil error, want one")
	}
}

// fixture builds records with valid, unique defaults so that each test
// spells out only what it is about.
type fixture struct {
	tb  testing.TB
	s   kefu.Store
	ctx context.Context
	n   *int // for unique emails, tokens and ids; shared by on's copies
}

func newFixture(tb testing.TB, s kefu.Store) *fixture {
	return &fixture{tb: tb, s: s, ctx: tb.Context(), n: new(int)}
}

// on returns the fixture reporting to tb: a subtest must not fail its
// parent from its own goroutine.
func (f *fixture) on(tb testing.TB) *fixture {
	c := *f
	c.tb = tb
	return &c
}

func (f *fixture) next() int { *f.n++; return *f.n }

func (f *fixture) workspace() *kefu.Workspace {
	f.tb.Helper()
	w := &kefu.Workspace{Name: fmt.Sprintf("Workspace %d", f.next()), CreatedAt: kefu.Now()}
	if err := f.s.CreateWorkspace(f.ctx, w); err != nil {
		f.tb.Fatalf("CreateWorkspace: %v", err)
	}
	return w
}

func (f *fixture) agent(ws int64) *kefu.Agent {
	f.tb.Helper()
	now := kefu.Now()
	n := f.next()
	a := &kefu.Agent{
		WorkspaceID: ws, Email: fmt.Sprintf("agent%d@example.com", n), Name: fmt.Sprintf("Agent %d", n),
		Role: kefu.RoleAgent, PasswordHash: "hash", Active: true, CreatedAt: now, UpdatedAt: now,
	}
	if err := f.s.CreateAgent(f.ctx, a); err != nil {
		f.tb.Fatalf("CreateAgent: %v", err)
	}
	return a
}

// admin creates an active admin.
func (f *fixture) admin(ws int64) *kefu.Agent {
	f.tb.Helper()
	a := f.agent(ws)
	a.Role = kefu.RoleAdmin
	if err := f.s.UpdateAgent(f.ctx, a); err != nil {
		f.tb.Fatalf("UpdateAgent(make admin): %v", err)
	}
	return a
}

func (f *fixture) inbox(ws int64) *kefu.Inbox {
	f.tb.Helper()
	now := kefu.Now()
	n := f.next()
	in := &kefu.Inbox{
		WorkspaceID: ws, Name: fmt.Sprintf("Site %d", n), Channel: kefu.ChannelWeb,
		PublicToken: fmt.Sprintf("tok-%d", n), Secret: "secret", AllowedOrigins: []string{},
		CreatedAt: now, UpdatedAt: now,
	}
	if err := f.s.CreateInbox(f.ctx, in); err != nil {
		f.tb.Fatalf("CreateInbox: %v", err)
	}
	return in
}

func (f *fixture) contact(ws int64, edit ...func(*kefu.Contact)) *kefu.Contact {
	f.tb.Helper()
	now := kefu.Now()
	n := f.next()
	c := &kefu.Contact{
		WorkspaceID: ws, VisitorID: fmt.Sprintf("visitor-%d", n), Name: fmt.Sprintf("Contact %d", n),
		Attributes: map[string]any{}, FirstSeenAt: now, LastSeenAt: now, CreatedAt: now, UpdatedAt: now,
	}
	for _, e := range edit {
		e(c)
	}
	if err := f.s.CreateContact(f.ctx, c); err != nil {
		f.tb.Fatalf("CreateContact: %v", err)
	}
	return c
}

func (f *fixture) conversation(ws, inbox, contact int64, edit ...func(*kefu.Conversation)) *kefu.Conversation {
	f.tb.Helper()
	now := kefu.Now()
	c := &kefu.Conversation{
		WorkspaceID: ws, InboxID: inbox, ContactID: contact, Status: kefu.StatusOpen,
		Priority: kefu.PriorityNone, Labels: []string{}, CreatedAt: now, UpdatedAt: now, LastActivityAt: now,
	}
	for _, e := range edit {
		e(c)
	}
	if err := f.s.CreateConversation(f.ctx, c); err != nil {
		f.tb.Fatalf("CreateConversation: %v", err)
	}
	return c
}

// tenant is a workspace with one of everything.
type tenant struct {
	ws      *kefu.Workspace
	agent   *kefu.Agent
	inbox   *kefu.Inbox
	contact *kefu.Contact
	conv    *kefu.Conversation
}

func (f *fixture) tenant() *tenant {
	f.tb.Helper()
	var t tenant
	t.ws = f.workspace()
	t.agent = f.agent(t.ws.ID)
	t.inbox = f.inbox(t.ws.ID)
	t.contact = f.contact(t.ws.ID)
	t.conv = f.conversation(t.ws.ID, t.inbox.ID, t.contact.ID)
	return &t
}

// send appends a text message from the conversation's contact.
func (f *fixture) send(c *kefu.Conversation, body string) *kefu.AppendResult {
	f.tb.Helper()
	return f.append(&kefu.Message{
		WorkspaceID: c.WorkspaceID, ConversationID: c.ID, SenderType: kefu.SenderContact,
		SenderID: c.ContactID, Kind: kefu.KindText, Body: body,
	})
}

func (f *fixture) append(m *kefu.Message) *kefu.AppendResult {
	f.tb.Helper()
	res, err := f.s.AppendMessage(f.ctx, m)
	if err != nil {
		f.tb.Fatalf("AppendMessage(%q): %v", m.Body, err)
	}
	return res
}

func (f *fixture) getConversation(ws, id int64) *kefu.Conversation {
	f.tb.Helper()
	c, err := f.s.GetConversation(f.ctx, ws, id)
	if err != nil {
		f.tb.Fatalf("GetConversation: %v", err)
	}
	return c
}

func (f *fixture) messages(ws, conv int64) []*kefu.Message {
	f.tb.Helper()
	ms, err := f.s.ListMessages(f.ctx, kefu.MessageRange{
		WorkspaceID: ws, ConversationID: conv, Limit: 100000, IncludePrivate: true,
	})
	if err != nil {
		f.tb.Fatalf("ListMessages: %v", err)
	}
	return ms
}

// wantCode fails unless err carries the kefu error code want.
func wantCode(tb testing.TB, what string, err error, want string) {
	tb.Helper()
	if got := kefu.ErrorCode(err); got != want {
		tb.Errorf("%s: got error %v (code %q), want code %q", what, err, got, want)
	}
}

// check fails with a field-by-field report unless got deep-equals want.
// Deep equality is deliberate: it also pins that times come back in UTC
// with exactly the microseconds written, and that empty slices and maps
// come back empty, not nil.
func check(tb testing.TB, what string, got, want any) {
	tb.Helper()
	if d := diff(got, want); d != "" {
		tb.Errorf("%s: mismatch (got, want):\n%s", what, d)
	}
}

// diff describes how got differs from want, or returns "". Structs (and
// pointers to them) are compared field by field so a failure names the
// field; slices of them element by element.
func diff(got, want any) string {
	var b strings.Builder
	diffValue(&b, "", reflect.ValueOf(got), reflect.ValueOf(want))
	return b.String()
}

func diffValue(b *strings.Builder, path string, got, want reflect.Value) {
	if !got.IsValid() || !want.IsValid() || got.Type() != want.Type() {
		if got.IsValid() != want.IsValid() || (got.IsValid() && !reflect.DeepEqual(got.Interface(), want.Interface())) {
			fmt.Fprintf(b, "  %s: %s, %s\n", label(path), show(got), show(want))
		}
		return
	}
	if reflect.DeepEqual(got.Interface(), want.Interface()) {
		return
	}
	switch got.Kind() {
	case reflect.Pointer:
		if !got.IsNil() && !want.IsNil() && got.Elem().Kind() == reflect.Struct {
			diffValue(b, path, got.Elem(), want.Elem())
			return
		}
	case reflect.Struct:
		if got.Type() != reflect.TypeFor[time.Time]() {
			for i := range got.NumField() {
				name := got.Type().Field(i).Name
				diffValue(b, path+"."+name, got.Field(i), want.Field(i))
			}
			return
		}
	case reflect.Slice:
		if got.Len() == want.Len() && !got.IsNil() && !want.IsNil() {
			for i := range got.Len() {
				diffValue(b, fmt.Sprintf("%s[%d]", path, i), got.Index(i), want.Index(i))
			}
			return
		}
	}
	fmt.Fprintf(b, "  %s: %s, %s\n", label(path), show(got), show(want))
}

func label(path string) string {
	if path == "" {
		return "value"
	}
	return strings.TrimPrefix(path, ".")
}

// show formats a value so that the differences deep equality sees are
// visible: nil versus empty, and a time's location.
func show(v reflect.Value) string {
	if !v.IsValid() {
		return "<invalid>"
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Map, reflect.Interface:
		if v.IsNil() {
			return "nil"
		}
	}
	if v.Kind() == reflect.Pointer {
		return "&" + show(v.Elem())
	}
	if t, ok := v.Interface().(time.Time); ok {
		return t.Format(time.RFC3339Nano) + " (" + t.Location().String() + ")"
	}
	return fmt.Sprintf("%#v", v.Interface())
}

// ids lists the ids of records, for comparing lists by identity and order.
func ids[T any](list []*T, id func(*T) int64) []int64 {
	out := make([]int64, 0, len(list))
	for _, v := range list {
		out = append(out, id(v))
	}
	return out
}

func sortedByID[T any](list []*T, id func(*T) int64) []*T {
	out := slices.Clone(list)
	slices.SortFunc(out, func(a, b *T) int { return cmp.Compare(id(a), id(b)) })
	return out
}

// ptr returns a pointer to v, for update structs.
func ptr[T any](v T) *T { return &v }

// race runs f(0) … f(n-1) at once, each in its own goroutine released
// together, and returns their errors by index.
func race(n int, f func(i int) error) []error {
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = f(i)
		})
	}
	close(start)
	wg.Wait()
	return errs
}

// winners counts the nil errors of a race; every other error must carry
// loserCode.
func winners(tb testing.TB, what string, errs []error, loserCode string) int {
	tb.Helper()
	ok := 0
	for i, err := range errs {
		switch kefu.ErrorCode(err) {
		case "":
			ok++
		case loserCode:
		default:
			tb.Errorf("%s %d: %v, want success or %s", what, i, err, loserCode)
		}
	}
	return ok
}
