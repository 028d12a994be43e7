package storetest

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kefu-chat/kefu/internal/kefu"
)

func seqs(ms []*kefu.Message) []int64 {
	out := make([]int64, 0, len(ms))
	for _, m := range ms {
		out = append(out, m.Seq)
	}
	return out
}

func seqRange(from, to int64) []int64 {
	out := []int64{}
	for s := from; s <= to; s++ {
		out = append(out, s)
	}
	return out
}

func testAppendMessage(t *testing.T, s kefu.Store) {
	f := newFixture(t, s)
	tn := f.tenant()
	conv := f.conversation(tn.ws.ID, tn.inbox.ID, tn.contact.ID, func(c *kefu.Conversation) {
		c.AssigneeID = tn.agent.ID
		c.LastActivityAt = kefu.Now().Add(-time.Hour)
	})
	sends := []kefu.Message{
		{SenderType: kefu.SenderContact, SenderID: tn.contact.ID, Kind: kefu.KindText, Body: "你好", ClientMsgID: "c-1"},
		{SenderType: kefu.SenderAgent, SenderID: tn.agent.ID, Kind: kefu.KindText, Body: "Hello, how can I help?"},
		{SenderType: kefu.SenderAgent, SenderID: tn.agent.ID, Kind: kefu.KindNote, Body: "VIP customer", ClientMsgID: "n-1"},
		{SenderType: kefu.SenderSystem, Kind: kefu.KindEvent, Body: "assigned"},
		{SenderType: kefu.SenderBot, SenderID: 7, Kind: kefu.KindText, Body: strings.Repeat("长", kefu.MaxBodyLen/3)},
	}
	var stored []*kefu.Message
	for i, m := range sends {
		m.WorkspaceID, m.ConversationID = tn.ws.ID, conv.ID
		before := kefu.Now()
		res := f.append(&m)
		after := kefu.Now()
		if res.Duplicate {
			t.Errorf("send %d: Duplicate = true for a new message", i)
		}
		if res.ContactID != conv.ContactID || res.AssigneeID != tn.agent.ID {
			t.Errorf("send %d: ContactID/AssigneeID = %d/%d, want %d/%d", i, res.ContactID, res.AssigneeID, conv.ContactID, tn.agent.ID)
		}
		got := res.Message
		if got == nil {
			t.Fatalf("send %d: AppendResult.Message is nil", i)
		}
		if got.ID == 0 {
			t.Errorf("send %d: message ID not set", i)
		}
		if got.CreatedAt.Before(before) || got.CreatedAt.After(after) {
			t.Errorf("send %d: CreatedAt %v not within [%v, %v]", i, got.CreatedAt, before, after)
		}
		want := m
		want.ID, want.Seq, want.CreatedAt, want.Attachments = got.ID, int64(i+1), got.CreatedAt, []kefu.Attachment{}
		check(t, fmt.Sprintf("send %d: stored message", i), got, &want)
		stored = append(stored, got)
	}
	check(t, "ListMessages", f.messages(tn.ws.ID, conv.ID), stored)

	got := f.getConversation(tn.ws.ID, conv.ID)
	if got.LastSeq != int64(len(sends)) {
		t.Errorf("LastSeq = %d, want %d", got.LastSeq, len(sends))
	}
	last := stored[len(stored)-1]
	if !got.LastActivityAt.Equal(last.CreatedAt) {
		t.Errorf("LastActivityAt = %v, want the last message's CreatedAt %v", got.LastActivityAt, last.CreatedAt)
	}

	// The seq is per conversation: another one starts at 1 again.
	res := f.send(tn.conv, "first")
	if res.Message.Seq != 1 || res.AssigneeID != 0 || res.ContactID != tn.contact.ID {
		t.Errorf("first message of another conversation: seq %d, assignee %d, contact %d; want 1, 0, %d",
			res.Message.Seq, res.AssigneeID, res.ContactID, tn.contact.ID)
	}
}

func testAppendIdempotent(t *testing.T, s kefu.Store) {
	f := newFixture(t, s)
	tn := f.tenant()
	conv2 := f.conversation(tn.ws.ID, tn.inbox.ID, tn.contact.ID)
	contact2 := f.contact(tn.ws.ID)

	// Steps run in order; dupOf names the earlier step whose message a
	// duplicate must return, or is -1 for a new message.
	steps := []struct {
		name   string
		conv   *kefu.Conversation
		sender kefu.SenderType
		id     int64
		cid    string
		body   string
		dupOf  int
	}{
		{"first", tn.conv, kefu.SenderContact, tn.contact.ID, "x-1", "hello", -1},
		{"retry", tn.conv, kefu.SenderContact, tn.contact.ID, "x-1", "hello", 0},
		{"retry with another body", tn.conv, kefu.SenderContact, tn.contact.ID, "x-1", "changed", 0},
		{"another contact", tn.conv, kefu.SenderContact, contact2.ID, "x-1", "hello", -1},
		{"an agent with the same id number", tn.conv, kefu.SenderAgent, tn.contact.ID, "x-1", "hello", -1},
		{"another conversation", conv2, kefu.SenderContact, tn.contact.ID, "x-1", "hello", -1},
		{"no client id", tn.conv, kefu.SenderContact, tn.contact.ID, "", "same", -1},
		{"no client id again", tn.conv, kefu.SenderContact, tn.contact.ID, "", "same", -1},
		{"retry after others", tn.conv, kefu.SenderContact, tn.contact.ID, "x-1", "hello", 0},
		{"second id", tn.conv, kefu.SenderContact, tn.contact.ID, "x-2", "again", -1},
		{"retry of the second", tn.conv, kefu.SenderContact, tn.contact.ID, "x-2", "again", 9},
	}
	results := make([]*kefu.AppendResult, len(steps))
	newIn := map[int64]int64{}
	for i, st := range steps {
		before := f.getConversation(tn.ws.ID, st.conv.ID)
		res := f.append(&kefu.Message{WorkspaceID: tn.ws.ID, ConversationID: st.conv.ID, SenderType: st.sender,
			SenderID: st.id, Kind: kefu.KindText, Body: st.body, ClientMsgID: st.cid})
		results[i] = res
		if res.ContactID != tn.contact.ID {
			t.Errorf("%s: ContactID = %d, want %d", st.name, res.ContactID, tn.contact.ID)
		}
		after := f.getConversation(tn.ws.ID, st.conv.ID)
		if st.dupOf < 0 {
			newIn[st.conv.ID]++
			if res.Duplicate {
				t.Errorf("%s: Duplicate = true, want a new message", st.name)
			}
			if res.Message.Seq != before.LastSeq+1 {
				t.Errorf("%s: seq %d, want %d", st.name, res.Message.Seq, before.LastSeq+1)
			}
			continue
		}
		if !res.Duplicate {
			t.Errorf("%s: Duplicate = false, want true", st.name)
		}
		check(t, st.name+": the original message", res.Message, results[st.dupOf].Message)
		// A duplicate stores nothing: no seq, no activity.
		check(t, st.name+": conversation after a duplicate", after, before)
	}
	for _, c := range []*kefu.Conversation{tn.conv, conv2} {
		ms := f.messages(tn.ws.ID, c.ID)
		if g, w := seqs(ms), seqRange(1, newIn[c.ID]); !slices.Equal(g, w) {
			t.Errorf("conversation %d holds seqs %v, want %v", c.ID, g, w)
		}
	}
}

func testAppendMissing(t *testing.T, s kefu.Store) {
	f := newFixture(t, s)
	tn := f.tenant()
	other := f.tenant()
	f.send(tn.conv, "one")
	for _, tc := range []struct {
		name     string
		ws, conv int64
		cid      string
	}{
		{"missing conversation", tn.ws.ID, tn.conv.ID + 1000, ""},
		{"missing conversation with a client id", tn.ws.ID, tn.conv.ID + 1000, "m-1"},
		{"another workspace's conversation", other.ws.ID, tn.conv.ID, ""},
		{"another workspace's conversation with a client id", other.ws.ID, tn.conv.ID, "m-2"},
		{"no workspace", 0, tn.conv.ID, ""},
	} {
		res, err := s.AppendMessage(f.ctx, &kefu.Message{WorkspaceID: tc.ws, ConversationID: tc.conv,
			SenderType: kefu.SenderContact, SenderID: tn.contact.ID, Kind: kefu.KindText, Body: "lost", ClientMsgID: tc.cid})
		wantCode(t, tc.name, err, kefu.ENotFound)
		if res != nil {
			t.Errorf("%s: got a result %+v with the error", tc.name, res)
		}
	}
	// Nothing was stored and no seq was used up.
	res := f.send(tn.conv, "two")
	if res.Message.Seq != 2 {
		t.Errorf("next seq after refused appends: %d, want 2", res.Message.Seq)
	}
	if g := seqs(f.messages(tn.ws.ID, tn.conv.ID)); !slices.Equal(g, []int64{1, 2}) {
		t.Errorf("stored seqs %v, want [1 2]", g)
	}
	if g := seqs(f.messages(other.ws.ID, other.conv.ID)); len(g) != 0 {
		t.Errorf("the other workspace's conversation got messages %v", g)
	}
}

func testAppendAttachments(t *testing.T, s kefu.Store) {
	f := newFixture(t, s)
	tn := f.tenant()
	var atts []kefu.Attachment
	for i, name := range []string{"screenshot.png", "订单.pdf"} {
		a := &kefu.Attachment{WorkspaceID: tn.ws.ID, UploaderType: kefu.SenderContact, UploaderID: tn.contact.ID,
			FileName: name, ContentType: "application/octet-stream", Size: int64(1000 * (i + 1)),
			SHA256: strings.Repeat(fmt.Sprint(i), 64), StorageKey: fmt.Sprintf("k/%d", i), CreatedAt: kefu.Now()}
		if err := s.CreateAttachment(f.ctx, a); err != nil {
			t.Fatalf("CreateAttachment: %v", err)
		}
		atts = append(atts, *a)
	}
	res := f.append(&kefu.Message{WorkspaceID: tn.ws.ID, ConversationID: tn.conv.ID, SenderType: kefu.SenderContact,
		SenderID: tn.contact.ID, Kind: kefu.KindAttachment, Attachments: atts})
	// A message carries a snapshot of its attachments for display. The
	// storage key is not part of it: it never leaves the server, and the
	// download goes through GetAttachment, which has it.
	want := slices.Clone(atts)
	for i := range want {
		want[i].StorageKey = ""
	}
	check(t, "appended attachments", stripKeys(res.Message.Attachments), want)
	ms := f.messages(tn.ws.ID, tn.conv.ID)
	if len(ms) != 1 {
		t.Fatalf("ListMessages: %d messages, want 1", len(ms))
	}
	check(t, "listed attachments", stripKeys(ms[0].Attachments), want)
	check(t, "listed message", withoutKeys(ms[0]), withoutKeys(res.Message))
}

// stripKeys clears the storage keys, which a store may or may not keep in
// a message's attachment snapshot.
func stripKeys(atts []kefu.Attachment) []kefu.Attachment {
	if atts == nil {
		return nil
	}
	out := slices.Clone(atts)
	for i := range out {
		out[i].StorageKey = ""
	}
	return out
}

func withoutKeys(m *kefu.Message) *kefu.Message {
	c := *m
	c.Attachments = stripKeys(m.Attachments)
	return &c
}

func testAppendConcurrent(t *testing.T, s kefu.Store) {
	f := newFixture(t, s)
	tn := f.tenant()
	convs := []*kefu.Conversation{tn.conv}
	for range 4 {
		convs = append(convs, f.conversation(tn.ws.ID, tn.inbox.ID, tn.contact.ID))
	}
	const writers, perWriter, racers = 20, 50, 10

	type sent struct{ conv, seq, id int64 }
	results := make([][]sent, writers)
	racerResults := make([]*kefu.AppendResult, racers)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for g := range writers {
		wg.Go(func() {
			<-start
			for i := range perWriter {
				c := convs[(g+i)%len(convs)]
				res, err := s.AppendMessage(f.ctx, &kefu.Message{WorkspaceID: tn.ws.ID, ConversationID: c.ID,
					SenderType: kefu.SenderAgent, SenderID: int64(g + 1), Kind: kefu.KindText,
					Body: fmt.Sprintf("writer %d message %d", g, i), ClientMsgID: fmt.Sprintf("w%d-%d", g, i)})
				if err != nil {
					t.Errorf("writer %d: AppendMessage: %v", g, err)
					return
				}
				if res.Duplicate {
					t.Errorf("writer %d: message %d reported as a duplicate", g, i)
				}
				results[g] = append(results[g], sent{c.ID, res.Message.Seq, res.Message.ID})
			}
		})
	}
	// Racers send the same message at the same instant, as a client
	// retrying on several connections would: it is stored once.
	for r := range racers {
		wg.Go(func() {
			<-start
			res, err := s.AppendMessage(f.ctx, &kefu.Message{WorkspaceID: tn.ws.ID, ConversationID: convs[0].ID,
				SenderType: kefu.SenderContact, SenderID: tn.contact.ID, Kind: kefu.KindText,
				Body: "once", ClientMsgID: "same"})
			if err != nil {
				t.Errorf("racer %d: AppendMessage: %v", r, err)
				return
			}
			racerResults[r] = res
		})
	}
	close(start)
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}

	var fresh int
	for _, res := range racerResults {
		if !res.Duplicate {
			fresh++
		}
		if res.Message.ID != racerResults[0].Message.ID {
			t.Errorf("racers got different messages: ids %d and %d", res.Message.ID, racerResults[0].Message.ID)
		}
	}
	if fresh != 1 {
		t.Errorf("%d racers stored a new message, want exactly 1", fresh)
	}

	// One writer's messages to one conversation are in the order it sent
	// them: each waited for the previous to commit.
	for g, rs := range results {
		lastSeq := map[int64]int64{}
		for _, r := range rs {
			if r.seq <= lastSeq[r.conv] {
				t.Errorf("writer %d: seq %d in conversation %d after seq %d", g, r.seq, r.conv, lastSeq[r.conv])
			}
			lastSeq[r.conv] = r.seq
		}
	}

	// Every conversation holds exactly seqs 1..N, with N its last_seq, and
	// every message sent is there exactly once.
	seen := map[string]int{}
	total := 0
	for _, c := range convs {
		ms := f.messages(tn.ws.ID, c.ID)
		got := f.getConversation(tn.ws.ID, c.ID)
		if g, w := seqs(ms), seqRange(1, got.LastSeq); !slices.Equal(g, w) {
			t.Errorf("conversation %d: seqs are not 1..%d without gaps: %v", c.ID, got.LastSeq, g)
		}
		for _, m := range ms {
			seen[fmt.Sprintf("%s/%d/%s", m.SenderType, m.SenderID, m.ClientMsgID)]++
		}
		total += len(ms)
	}
	if want := writers*perWriter + 1; total != want {
		t.Errorf("stored %d messages, want %d", total, want)
	}
	for k, n := range seen {
		if n != 1 {
			t.Errorf("message %s stored %d times", k, n)
		}
	}
}

func testListMessages(t *testing.T, s kefu.Store) {
	f := newFixture(t, s)
	tn := f.tenant()
	for i := 1; i <= 10; i++ {
		m := &kefu.Message{WorkspaceID: tn.ws.ID, ConversationID: tn.conv.ID, SenderType: kefu.SenderContact,
			SenderID: tn.contact.ID, Kind: kefu.KindText, Body: fmt.Sprint("message ", i)}
		if i == 5 || i == 9 {
			m.SenderType, m.SenderID, m.Kind, m.Body = kefu.SenderAgent, tn.agent.ID, kefu.KindNote, "private note"
		}
		f.append(m)
	}
	// Messages of another conversation never mix in.
	noise := f.conversation(tn.ws.ID, tn.inbox.ID, tn.contact.ID)
	f.send(noise, "noise 1")
	f.send(noise, "noise 2")

	for _, tc := range []struct {
		name    string
		r       kefu.MessageRange
		private bool
		want    []int64
	}{
		{"all", kefu.MessageRange{Limit: 100}, true, seqRange(1, 10)},
		{"after", kefu.MessageRange{AfterSeq: 3, Limit: 100}, true, seqRange(4, 10)},
		{"after with limit", kefu.MessageRange{AfterSeq: 3, Limit: 2}, true, []int64{4, 5}},
		{"after the end", kefu.MessageRange{AfterSeq: 10, Limit: 100}, true, []int64{}},
		{"before: the newest limit, ascending", kefu.MessageRange{BeforeSeq: 8, Limit: 3}, true, []int64{5, 6, 7}},
		{"before, fewer than limit", kefu.MessageRange{BeforeSeq: 3, Limit: 10}, true, []int64{1, 2}},
		{"before the start", kefu.MessageRange{BeforeSeq: 1, Limit: 10}, true, []int64{}},
		{"between", kefu.MessageRange{AfterSeq: 2, BeforeSeq: 6, Limit: 10}, true, []int64{3, 4, 5}},
		{"between with limit", kefu.MessageRange{AfterSeq: 2, BeforeSeq: 9, Limit: 2}, true, []int64{7, 8}},
		{"newest page", kefu.MessageRange{BeforeSeq: 11, Limit: 4}, true, []int64{7, 8, 9, 10}},
		// Notes are filtered before the limit counts, so a contact gets
		// full pages of what it may see.
		{"public", kefu.MessageRange{Limit: 100}, false, []int64{1, 2, 3, 4, 6, 7, 8, 10}},
		{"public after with limit", kefu.MessageRange{AfterSeq: 3, Limit: 3}, false, []int64{4, 6, 7}},
		{"public before with limit", kefu.MessageRange{BeforeSeq: 11, Limit: 3}, false, []int64{7, 8, 10}},
	} {
		r := tc.r
		r.WorkspaceID, r.ConversationID, r.IncludePrivate = tn.ws.ID, tn.conv.ID, tc.private
		got, err := s.ListMessages(f.ctx, r)
		if err != nil {
			t.Errorf("%s: ListMessages: %v", tc.name, err)
			continue
		}
		if got == nil {
			t.Errorf("%s: ListMessages returned nil, want an empty slice", tc.name)
		}
		if g := seqs(got); !slices.Equal(g, tc.want) {
			t.Errorf("%s: got seqs %v, want %v", tc.name, g, tc.want)
		}
		for _, m := range got {
			if m.ConversationID != tn.conv.ID {
				t.Errorf("%s: message of conversation %d listed", tc.name, m.ConversationID)
			}
			if !tc.private && m.Private() {
				t.Errorf("%s: private note %d listed for a contact", tc.name, m.Seq)
			}
		}
	}
}

// testEmptyCollectionsEncodeAsEmpty pins what API clients see: a record
// without labels, origins, attributes or attachments encodes them as [] or
// {}, never null, and so does an empty list.
func testEmptyCollections(t *testing.T, s kefu.Store) {
	f := newFixture(t, s)
	ws := f.workspace()
	now := kefu.Now()
	in := &kefu.Inbox{WorkspaceID: ws.ID, Name: "n", Channel: kefu.ChannelWeb, PublicToken: "t", Secret: "s", CreatedAt: now, UpdatedAt: now}
	if err := s.CreateInbox(f.ctx, in); err != nil {
		t.Fatalf("CreateInbox: %v", err)
	}
	ct := &kefu.Contact{WorkspaceID: ws.ID, FirstSeenAt: now, LastSeenAt: now, CreatedAt: now, UpdatedAt: now}
	if err := s.CreateContact(f.ctx, ct); err != nil {
		t.Fatalf("CreateContact: %v", err)
	}
	cv := &kefu.Conversation{WorkspaceID: ws.ID, InboxID: in.ID, ContactID: ct.ID, Status: kefu.StatusOpen,
		Priority: kefu.PriorityNone, CreatedAt: now, UpdatedAt: now, LastActivityAt: now}
	if err := s.CreateConversation(f.ctx, cv); err != nil {
		t.Fatalf("CreateConversation: %v", err)
	}
	appended := f.send(cv, "hi")

	gotIn, err := s.GetInbox(f.ctx, ws.ID, in.ID)
	if err != nil {
		t.Fatalf("GetInbox: %v", err)
	}
	gotCt, err := s.GetContact(f.ctx, ws.ID, ct.ID)
	if err != nil {
		t.Fatalf("GetContact: %v", err)
	}
	gotCv := f.getConversation(ws.ID, cv.ID)
	ms := f.messages(ws.ID, cv.ID)
	if len(ms) != 1 {
		t.Fatalf("ListMessages: %d messages, want 1", len(ms))
	}
	emptyWS := f.workspace()
	agents, err := s.ListAgents(f.ctx, emptyWS.ID)
	if err != nil {
		t.Fatalf("ListAgents: %v", err)
	}
	inboxes, err := s.ListInboxes(f.ctx, emptyWS.ID)
	if err != nil {
		t.Fatalf("ListInboxes: %v", err)
	}
	for _, tc := range []struct {
		name string
		v    any
		want string
	}{
		{"inbox", gotIn, `"allowed_origins":[]`},
		{"contact", gotCt, `"attributes":{}`},
		{"conversation", gotCv, `"labels":[]`},
		{"appended message", appended.Message, `"attachments":[]`},
		{"listed message", ms[0], `"attachments":[]`},
		{"agent list", agents, `[]`},
		{"inbox list", inboxes, `[]`},
	} {
		b, err := json.Marshal(tc.v)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if !strings.Contains(string(b), tc.want) {
			t.Errorf("%s encodes as %s, want it to contain %s", tc.name, b, tc.want)
		}
	}
}
