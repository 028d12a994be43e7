package storetest

import (
	"slices"
	"testing"

	"github.com/kefu-chat/kefu/internal/kefu"
)

// Conformance for kefu/console.go: canned responses, labels, message
// search, last-message previews and workspace renames.

func cannedID(c *kefu.CannedResponse) int64 { return c.ID }
func labelID(l *kefu.Label) int64           { return l.ID }
func messageID(m *kefu.Message) int64       { return m.ID }

func testCanned(t *testing.T, s kefu.Store) {
	f := newFixture(t, s)
	ctx := f.ctx
	ws := f.workspace().ID
	list, err := s.ListCanned(ctx, ws)
	if err != nil || list == nil || len(list) != 0 {
		t.Fatalf("ListCanned on an empty workspace = %v, %v; want an empty, non-nil list", list, err)
	}
	hi := &kefu.CannedResponse{WorkspaceID: ws, ShortCode: "hi", Content: "Hello! 你好", CreatedAt: kefu.Now()}
	if err := s.CreateCanned(ctx, hi); err != nil || hi.ID == 0 || !hi.UpdatedAt.Equal(hi.CreatedAt) {
		t.Fatalf("CreateCanned: %v, %+v", err, hi)
	}
	bye := &kefu.CannedResponse{WorkspaceID: ws, ShortCode: "bye", Content: "Goodbye"}
	if err := s.CreateCanned(ctx, bye); err != nil || bye.CreatedAt.IsZero() {
		t.Fatalf("CreateCanned without a time: %v, %+v", err, bye)
	}
	wantCode(t, "CreateCanned with a taken short code", s.CreateCanned(ctx, &kefu.CannedResponse{WorkspaceID: ws, ShortCode: "hi", Content: "x"}), kefu.EConflict)
	// Another workspace may use the same short code.
	other := f.workspace().ID
	if err := s.CreateCanned(ctx, &kefu.CannedResponse{WorkspaceID: other, ShortCode: "hi", Content: "x"}); err != nil {
		t.Fatalf("same short code in another workspace: %v", err)
	}
	got, err := s.GetCanned(ctx, ws, hi.ID)
	if err != nil {
		t.Fatalf("GetCanned: %v", err)
	}
	check(t, "GetCanned", got, hi)
	list, err = s.ListCanned(ctx, ws)
	if err != nil {
		t.Fatalf("ListCanned: %v", err)
	}
	check(t, "ListCanned is ordered by short code", list, []*kefu.CannedResponse{bye, hi})

	hi.ShortCode, hi.Content = "hello", "Hello again"
	if err := s.UpdateCanned(ctx, hi); err != nil {
		t.Fatalf("UpdateCanned: %v", err)
	}
	got, _ = s.GetCanned(ctx, ws, hi.ID)
	check(t, "after UpdateCanned", got, hi)
	clash := *hi
	clash.ShortCode = "bye"
	wantCode(t, "UpdateCanned onto a taken short code", s.UpdateCanned(ctx, &clash), kefu.EConflict)
	if err := s.DeleteCanned(ctx, ws, hi.ID); err != nil {
		t.Fatalf("DeleteCanned: %v", err)
	}
	_, err = s.GetCanned(ctx, ws, hi.ID)
	wantCode(t, "GetCanned after delete", err, kefu.ENotFound)
	wantCode(t, "DeleteCanned twice", s.DeleteCanned(ctx, ws, hi.ID), kefu.ENotFound)
	wantCode(t, "UpdateCanned of a deleted one", s.UpdateCanned(ctx, hi), kefu.ENotFound)
}

func testLabels(t *testing.T, s kefu.Store) {
	f := newFixture(t, s)
	ctx := f.ctx
	ws := f.workspace().ID
	list, err := s.ListLabels(ctx, ws)
	if err != nil || list == nil || len(list) != 0 {
		t.Fatalf("ListLabels on an empty workspace = %v, %v", list, err)
	}
	vip := &kefu.Label{WorkspaceID: ws, Name: "vip", Color: "#ff0000", Description: "Paying customers", CreatedAt: kefu.Now()}
	bug := &kefu.Label{WorkspaceID: ws, Name: "bug", CreatedAt: kefu.Now()}
	zh := &kefu.Label{WorkspaceID: ws, Name: "退款", Color: "#0a0", CreatedAt: kefu.Now()}
	for _, l := range []*kefu.Label{vip, bug, zh} {
		if err := s.CreateLabel(ctx, l); err != nil || l.ID == 0 {
			t.Fatalf("CreateLabel(%s): %v", l.Name, err)
		}
	}
	wantCode(t, "CreateLabel with a taken name", s.CreateLabel(ctx, &kefu.Label{WorkspaceID: ws, Name: "vip"}), kefu.EConflict)
	got, err := s.GetLabel(ctx, ws, vip.ID)
	if err != nil {
		t.Fatalf("GetLabel: %v", err)
	}
	check(t, "GetLabel", got, vip)
	list, err = s.ListLabels(ctx, ws)
	if err != nil {
		t.Fatalf("ListLabels: %v", err)
	}
	check(t, "ListLabels is ordered by name (bytewise)", list, []*kefu.Label{bug, vip, zh})
	vip.Name, vip.Color, vip.Description = "vip-gold", "", ""
	if err := s.UpdateLabel(ctx, vip); err != nil {
		t.Fatalf("UpdateLabel: %v", err)
	}
	got, _ = s.GetLabel(ctx, ws, vip.ID)
	check(t, "after UpdateLabel", got, vip)
	clash := *vip
	clash.Name = "bug"
	wantCode(t, "UpdateLabel onto a taken name", s.UpdateLabel(ctx, &clash), kefu.EConflict)
	if err := s.DeleteLabel(ctx, ws, bug.ID); err != nil {
		t.Fatalf("DeleteLabel: %v", err)
	}
	wantCode(t, "DeleteLabel twice", s.DeleteLabel(ctx, ws, bug.ID), kefu.ENotFound)
	list, _ = s.ListLabels(ctx, ws)
	check(t, "ListLabels after delete", ids(list, labelID), []int64{vip.ID, zh.ID})
}

func testSearchMessages(t *testing.T, s kefu.Store) {
	f := newFixture(t, s)
	ctx := f.ctx
	a := f.tenant()
	conv2 := f.conversation(a.ws.ID, a.inbox.ID, a.contact.ID)
	m1 := f.send(a.conv, "我的订单还没有发货").Message
	f.send(a.conv, "unrelated")
	m3 := f.send(conv2, "请问订单号是多少？").Message
	m4 := f.append(&kefu.Message{WorkspaceID: a.ws.ID, ConversationID: conv2.ID, SenderType: kefu.SenderAgent, SenderID: a.agent.ID,
		Kind: kefu.KindNote, Body: "Order ORDER-42 refunded"}).Message
	f.append(&kefu.Message{WorkspaceID: a.ws.ID, ConversationID: conv2.ID, SenderType: kefu.SenderSystem, Kind: kefu.KindEvent, Body: "订单 event"})
	m6 := f.send(a.conv, "100% sure_thing").Message
	b := f.tenant()
	f.send(b.conv, "另一个订单")

	search := func(q string, before int64, limit int) []int64 {
		t.Helper()
		ms, err := s.SearchMessages(ctx, kefu.MessageSearch{WorkspaceID: a.ws.ID, Query: q, BeforeID: before, Limit: limit})
		if err != nil {
			t.Fatalf("SearchMessages(%q): %v", q, err)
		}
		if ms == nil {
			t.Fatalf("SearchMessages(%q) = nil, want a non-nil list", q)
		}
		return ids(ms, messageID)
	}
	for _, tc := range []struct {
		q      string
		before int64
		limit  int
		want   []int64
	}{
		{"订单", 0, 10, []int64{m3.ID, m1.ID}}, // Chinese substring; newest first; events and other tenants left out
		{"订单", m3.ID, 10, []int64{m1.ID}},    // keyset page
		{"订单", 0, 1, []int64{m3.ID}},         // limit
		{"order-42", 0, 10, []int64{m4.ID}},  // notes found, ASCII case ignored
		{"%", 0, 10, []int64{m6.ID}},         // wildcards are taken literally
		{"0% s", 0, 10, []int64{m6.ID}},
		{"_", 0, 10, []int64{m6.ID}},
		{"1_0", 0, 10, nil}, // "_" is no single-character wildcard
		{"1%s", 0, 10, nil}, // nor "%" a wildcard
		{"nothing like this", 0, 10, nil},
	} {
		if got := search(tc.q, tc.before, tc.limit); !slices.Equal(got, tc.want) {
			t.Errorf("SearchMessages(%q, before %d, limit %d) = %v, want %v", tc.q, tc.before, tc.limit, got, tc.want)
		}
	}
}

func testLastMessages(t *testing.T, s kefu.Store) {
	f := newFixture(t, s)
	ctx := f.ctx
	a := f.tenant()
	empty := f.conversation(a.ws.ID, a.inbox.ID, a.contact.ID)
	f.send(a.conv, "first")
	last := f.append(&kefu.Message{WorkspaceID: a.ws.ID, ConversationID: a.conv.ID, SenderType: kefu.SenderAgent, SenderID: a.agent.ID,
		Kind: kefu.KindNote, Body: "newest, a note"}).Message
	b := f.tenant()
	f.send(b.conv, "B's")

	got, err := s.LastMessages(ctx, a.ws.ID, []int64{a.conv.ID, empty.ID, b.conv.ID, 1 << 40})
	if err != nil {
		t.Fatalf("LastMessages: %v", err)
	}
	if len(got) != 1 || got[a.conv.ID] == nil {
		t.Fatalf("LastMessages = %v, want only conversation %d (empty, other tenant's and missing ones absent)", got, a.conv.ID)
	}
	check(t, "LastMessages", withoutKeys(got[a.conv.ID]), withoutKeys(last))
	none, err := s.LastMessages(ctx, a.ws.ID, nil)
	if err != nil || none == nil || len(none) != 0 {
		t.Fatalf("LastMessages(nil) = %v, %v", none, err)
	}
}

func testUpdateWorkspace(t *testing.T, s kefu.Store) {
	f := newFixture(t, s)
	w := f.workspace()
	w.Name = "客服 Co."
	if err := s.UpdateWorkspace(f.ctx, w); err != nil {
		t.Fatalf("UpdateWorkspace: %v", err)
	}
	got, err := s.GetWorkspace(f.ctx, w.ID)
	if err != nil {
		t.Fatalf("GetWorkspace: %v", err)
	}
	check(t, "renamed workspace", got, w)
	wantCode(t, "UpdateWorkspace of a missing one", s.UpdateWorkspace(f.ctx, &kefu.Workspace{ID: w.ID + 1000, Name: "x"}), kefu.ENotFound)
}

// testConsoleIsolation: B's id on A's canned response or label is
// ENotFound for every method and changes nothing.
func testConsoleIsolation(t *testing.T, s kefu.Store) {
	f := newFixture(t, s)
	ctx := f.ctx
	a, b := f.workspace().ID, f.workspace().ID
	canned := &kefu.CannedResponse{WorkspaceID: a, ShortCode: "refund", Content: "A's text"}
	label := &kefu.Label{WorkspaceID: a, Name: "vip", Color: "#fff"}
	if err := s.CreateCanned(ctx, canned); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateLabel(ctx, label); err != nil {
		t.Fatal(err)
	}
	_, err := s.GetCanned(ctx, b, canned.ID)
	wantCode(t, "GetCanned", err, kefu.ENotFound)
	hc := *canned
	hc.WorkspaceID, hc.Content = b, "hijacked"
	wantCode(t, "UpdateCanned", s.UpdateCanned(ctx, &hc), kefu.ENotFound)
	wantCode(t, "DeleteCanned", s.DeleteCanned(ctx, b, canned.ID), kefu.ENotFound)
	if list, _ := s.ListCanned(ctx, b); len(list) != 0 {
		t.Errorf("ListCanned(B) = %d entries", len(list))
	}
	_, err = s.GetLabel(ctx, b, label.ID)
	wantCode(t, "GetLabel", err, kefu.ENotFound)
	hl := *label
	hl.WorkspaceID, hl.Name = b, "hijacked"
	wantCode(t, "UpdateLabel", s.UpdateLabel(ctx, &hl), kefu.ENotFound)
	wantCode(t, "DeleteLabel", s.DeleteLabel(ctx, b, label.ID), kefu.ENotFound)
	if list, _ := s.ListLabels(ctx, b); len(list) != 0 {
		t.Errorf("ListLabels(B) = %d entries", len(list))
	}
	gc, err := s.GetCanned(ctx, a, canned.ID)
	if err != nil {
		t.Fatal(err)
	}
	check(t, "A's canned response", gc, canned)
	gl, err := s.GetLabel(ctx, a, label.ID)
	if err != nil {
		t.Fatal(err)
	}
	check(t, "A's label", gl, label)
}
