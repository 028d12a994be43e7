package storetest

import (
	"cmp"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/kefu-chat/kefu/internal/kefu"
)

func conversationID(c *kefu.Conversation) int64 { return c.ID }

func testConversation(t *testing.T, s kefu.Store) {
	f := newFixture(t, s)
	ctx := f.ctx
	tn := f.tenant()
	now := kefu.Now()
	snooze := now.Add(3 * time.Hour)
	for _, tc := range []struct {
		name string
		conv kefu.Conversation
	}{
		{"assigned", kefu.Conversation{
			AssigneeID: tn.agent.ID, Status: kefu.StatusPending, Priority: kefu.PriorityHigh,
			Labels: []string{"vip", "账单"},
		}},
		{"unassigned", kefu.Conversation{Status: kefu.StatusOpen, Priority: kefu.PriorityNone, Labels: []string{}}},
		{"snoozed", kefu.Conversation{Status: kefu.StatusSnoozed, Priority: kefu.PriorityLow, Labels: []string{"later"}, SnoozedUntil: &snooze}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := f.on(t)
			c := tc.conv
			c.WorkspaceID, c.InboxID, c.ContactID = tn.ws.ID, tn.inbox.ID, tn.contact.ID
			c.CreatedAt, c.UpdatedAt, c.LastActivityAt = now.Add(-time.Minute), now, now.Add(-time.Second)
			if err := s.CreateConversation(ctx, &c); err != nil {
				t.Fatalf("CreateConversation: %v", err)
			}
			if c.ID == 0 {
				t.Fatalf("CreateConversation did not set ID")
			}
			check(t, "GetConversation", f.getConversation(tn.ws.ID, c.ID), &c)
		})
	}
	t.Run("NilLabelsComeBackEmpty", func(t *testing.T) {
		f := f.on(t)
		c := kefu.Conversation{WorkspaceID: tn.ws.ID, InboxID: tn.inbox.ID, ContactID: tn.contact.ID,
			Status: kefu.StatusOpen, Priority: kefu.PriorityNone, CreatedAt: now, UpdatedAt: now, LastActivityAt: now}
		if err := s.CreateConversation(ctx, &c); err != nil {
			t.Fatalf("CreateConversation: %v", err)
		}
		got := f.getConversation(tn.ws.ID, c.ID)
		if got.Labels == nil || len(got.Labels) != 0 {
			t.Errorf("Labels: got %#v, want []string{}", got.Labels)
		}
	})
	_, err := s.GetConversation(ctx, tn.ws.ID, tn.conv.ID+1000)
	wantCode(t, "GetConversation(missing)", err, kefu.ENotFound)
}

func testUpdateConversation(t *testing.T, s kefu.Store) {
	f := newFixture(t, s)
	tn := f.tenant()
	agent2 := f.agent(tn.ws.ID)
	hourAgo := kefu.Now().Add(-time.Hour)
	snooze := kefu.Now().Add(2 * time.Hour)
	statusResolved, statusSnoozed := kefu.StatusResolved, kefu.StatusSnoozed
	var noTime *time.Time

	// Each case starts from a fresh conversation: open, assigned to
	// tn.agent, labelled "a", snoozed until an hour from now, last updated
	// an hour ago. Only the fields the update sets may change, and
	// UpdatedAt moves forward.
	for _, tc := range []struct {
		name string
		u    kefu.ConversationUpdate
		want func(c *kefu.Conversation)
	}{
		{"status", kefu.ConversationUpdate{Status: &statusResolved},
			func(c *kefu.Conversation) { c.Status = kefu.StatusResolved }},
		{"assign", kefu.ConversationUpdate{AssigneeID: ptr(agent2.ID)},
			func(c *kefu.Conversation) { c.AssigneeID = agent2.ID }},
		{"unassign", kefu.ConversationUpdate{AssigneeID: ptr(int64(0))},
			func(c *kefu.Conversation) { c.AssigneeID = 0 }},
		{"priority", kefu.ConversationUpdate{Priority: ptr(kefu.PriorityUrgent)},
			func(c *kefu.Conversation) { c.Priority = kefu.PriorityUrgent }},
		{"labels", kefu.ConversationUpdate{Labels: &[]string{"b", "c"}},
			func(c *kefu.Conversation) { c.Labels = []string{"b", "c"} }},
		{"clear labels", kefu.ConversationUpdate{Labels: &[]string{}},
			func(c *kefu.Conversation) { c.Labels = []string{} }},
		{"snooze", kefu.ConversationUpdate{Status: &statusSnoozed, SnoozedUntil: ptr(&snooze)},
			func(c *kefu.Conversation) { c.Status, c.SnoozedUntil = kefu.StatusSnoozed, &snooze }},
		{"unsnooze", kefu.ConversationUpdate{SnoozedUntil: &noTime},
			func(c *kefu.Conversation) { c.SnoozedUntil = nil }},
		{"several", kefu.ConversationUpdate{Status: &statusResolved, AssigneeID: ptr(int64(0)), Labels: &[]string{"done"}},
			func(c *kefu.Conversation) {
				c.Status, c.AssigneeID, c.Labels = kefu.StatusResolved, 0, []string{"done"}
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := f.on(t)
			in := kefu.Now().Add(time.Hour)
			c := f.conversation(tn.ws.ID, tn.inbox.ID, tn.contact.ID, func(c *kefu.Conversation) {
				c.AssigneeID, c.Labels, c.SnoozedUntil = tn.agent.ID, []string{"a"}, &in
				c.CreatedAt, c.UpdatedAt, c.LastActivityAt = hourAgo, hourAgo, hourAgo
			})
			got, err := s.UpdateConversation(f.ctx, tn.ws.ID, c.ID, tc.u)
			if err != nil {
				t.Fatalf("UpdateConversation: %v", err)
			}
			if !got.UpdatedAt.After(hourAgo) {
				t.Errorf("UpdatedAt did not advance: %v", got.UpdatedAt)
			}
			want := *c
			tc.want(&want)
			want.UpdatedAt = got.UpdatedAt
			check(t, "UpdateConversation result", got, &want)
			check(t, "GetConversation after update", f.getConversation(tn.ws.ID, c.ID), &want)
		})
	}
	_, err := s.UpdateConversation(f.ctx, tn.ws.ID, tn.conv.ID+1000, kefu.ConversationUpdate{Status: &statusResolved})
	wantCode(t, "UpdateConversation(missing)", err, kefu.ENotFound)
	_, err = s.UpdateConversation(f.ctx, tn.ws.ID, tn.conv.ID, kefu.ConversationUpdate{AssigneeID: ptr(agent2.ID + 1000)})
	wantCode(t, "UpdateConversation(assign a missing agent)", err, kefu.ENotFound)
}

func testMarkRead(t *testing.T, s kefu.Store) {
	f := newFixture(t, s)
	tn := f.tenant()
	for i := range 5 {
		f.send(tn.conv, fmt.Sprint("m", i+1))
	}
	// Each reader has its own marker, which only moves forward: a late
	// or reordered read receipt never un-reads anything.
	for _, step := range []struct {
		reader             kefu.SenderType
		seq                int64
		wantContact, agent int64
	}{
		{kefu.SenderContact, 3, 3, 0},
		{kefu.SenderContact, 2, 3, 0},
		{kefu.SenderAgent, 4, 3, 4},
		{kefu.SenderBot, 2, 3, 4},
		{kefu.SenderBot, 5, 3, 5},
		{kefu.SenderContact, 5, 5, 5},
		{kefu.SenderAgent, 0, 5, 5},
	} {
		got, err := s.MarkRead(f.ctx, tn.ws.ID, tn.conv.ID, step.reader, step.seq)
		if err != nil {
			t.Fatalf("MarkRead(%s, %d): %v", step.reader, step.seq, err)
		}
		if got.ContactLastReadSeq != step.wantContact || got.AgentLastReadSeq != step.agent {
			t.Errorf("after MarkRead(%s, %d): contact/agent read seq = %d/%d, want %d/%d",
				step.reader, step.seq, got.ContactLastReadSeq, got.AgentLastReadSeq, step.wantContact, step.agent)
		}
		check(t, "MarkRead result", got, f.getConversation(tn.ws.ID, tn.conv.ID))
	}
	// A system message has no reader behind it, so it has no marker.
	_, err := s.MarkRead(f.ctx, tn.ws.ID, tn.conv.ID, kefu.SenderSystem, 1)
	wantCode(t, "MarkRead(system)", err, kefu.EInvalid)
	_, err = s.MarkRead(f.ctx, tn.ws.ID, tn.conv.ID+1000, kefu.SenderContact, 1)
	wantCode(t, "MarkRead(missing)", err, kefu.ENotFound)
}

func testListConversations(t *testing.T, s kefu.Store) {
	f := newFixture(t, s)
	ws := f.workspace()
	in1, in2 := f.inbox(ws.ID), f.inbox(ws.ID)
	k1, k2 := f.contact(ws.ID), f.contact(ws.ID)
	g1, g2 := f.agent(ws.ID), f.agent(ws.ID)
	t0 := kefu.Now().Add(-time.Hour)
	var all []*kefu.Conversation
	for _, r := range []struct {
		status   kefu.Status
		assignee int64
		inbox    *kefu.Inbox
		contact  *kefu.Contact
		minute   int
	}{
		{kefu.StatusOpen, 0, in1, k1, 1},
		{kefu.StatusOpen, g1.ID, in1, k2, 2},
		{kefu.StatusPending, g1.ID, in2, k1, 3},
		{kefu.StatusResolved, g2.ID, in2, k2, 4},
		{kefu.StatusOpen, 0, in1, k1, 5}, // same activity as the next: id breaks the tie
		{kefu.StatusSnoozed, g2.ID, in1, k2, 5},
		{kefu.StatusOpen, g1.ID, in2, k1, 6},
		{kefu.StatusPending, 0, in2, k2, 0},
		{kefu.StatusOpen, 0, in1, k1, 5},
	} {
		all = append(all, f.conversation(ws.ID, r.inbox.ID, r.contact.ID, func(c *kefu.Conversation) {
			c.Status, c.AssigneeID = r.status, r.assignee
			c.CreatedAt = t0
			c.UpdatedAt, c.LastActivityAt = t0, t0.Add(time.Duration(r.minute)*time.Minute)
		}))
	}
	// Another tenant's conversations must never show up.
	otn := f.tenant()
	f.conversation(otn.ws.ID, otn.inbox.ID, otn.contact.ID)

	// expect is the reference implementation of the filter and the order.
	expect := func(flt kefu.ConversationFilter) []int64 {
		var out []*kefu.Conversation
		for _, c := range all {
			switch {
			case flt.Status != "" && c.Status != flt.Status,
				flt.AssigneeID == kefu.AssigneeUnassigned && c.AssigneeID != 0,
				flt.AssigneeID > 0 && c.AssigneeID != flt.AssigneeID,
				flt.InboxID != 0 && c.InboxID != flt.InboxID,
				flt.ContactID != 0 && c.ContactID != flt.ContactID:
				continue
			}
			out = append(out, c)
		}
		slices.SortFunc(out, func(a, b *kefu.Conversation) int {
			if c := b.LastActivityAt.Compare(a.LastActivityAt); c != 0 {
				return c
			}
			return cmp.Compare(b.ID, a.ID)
		})
		return ids(out, conversationID)
	}

	filters := []struct {
		name string
		f    kefu.ConversationFilter
	}{
		{"all", kefu.ConversationFilter{}},
		{"open", kefu.ConversationFilter{Status: kefu.StatusOpen}},
		{"pending", kefu.ConversationFilter{Status: kefu.StatusPending}},
		{"assigned to g1", kefu.ConversationFilter{AssigneeID: g1.ID}},
		{"unassigned", kefu.ConversationFilter{AssigneeID: kefu.AssigneeUnassigned}},
		{"inbox 2", kefu.ConversationFilter{InboxID: in2.ID}},
		{"contact 1", kefu.ConversationFilter{ContactID: k1.ID}},
		{"open and unassigned", kefu.ConversationFilter{Status: kefu.StatusOpen, AssigneeID: kefu.AssigneeUnassigned}},
		{"inbox 1 and contact 2", kefu.ConversationFilter{InboxID: in1.ID, ContactID: k2.ID}},
		{"resolved by g2", kefu.ConversationFilter{Status: kefu.StatusResolved, AssigneeID: g2.ID}},
		{"nothing matches", kefu.ConversationFilter{Status: kefu.StatusResolved, AssigneeID: g1.ID}},
	}
	for _, tc := range filters {
		t.Run(tc.name, func(t *testing.T) {
			flt := tc.f
			flt.WorkspaceID, flt.Limit = ws.ID, 100
			got, err := s.ListConversations(f.ctx, flt)
			if err != nil {
				t.Fatalf("ListConversations: %v", err)
			}
			if got == nil {
				t.Errorf("ListConversations returned nil, want an empty slice")
			}
			if g, w := ids(got, conversationID), expect(flt); !slices.Equal(g, w) {
				t.Errorf("got ids %v, want %v", g, w)
			}

			// Walking pages with the cursor of each page's last row visits
			// every row exactly once, in order.
			for _, limit := range []int{1, 2, 3} {
				var walked []int64
				var after *kefu.ConversationCursor
				for page := 0; ; page++ {
					if page > len(all)+1 {
						t.Fatalf("pagination by %d does not end", limit)
					}
					p := flt
					p.Limit, p.After = limit, after
					got, err := s.ListConversations(f.ctx, p)
					if err != nil {
						t.Fatalf("ListConversations: %v", err)
					}
					if len(got) > limit {
						t.Fatalf("page of limit %d has %d rows", limit, len(got))
					}
					if len(got) == 0 {
						break
					}
					walked = append(walked, ids(got, conversationID)...)
					last := got[len(got)-1]
					after = &kefu.ConversationCursor{LastActivityAt: last.LastActivityAt, ID: last.ID}
				}
				if w := expect(flt); !slices.Equal(walked, w) {
					t.Errorf("walking by %d: got ids %v, want %v", limit, walked, w)
				}
			}
		})
	}

	t.Run("RowsRoundTrip", func(t *testing.T) {
		got, err := s.ListConversations(f.ctx, kefu.ConversationFilter{WorkspaceID: ws.ID, Limit: 100})
		if err != nil {
			t.Fatalf("ListConversations: %v", err)
		}
		check(t, "listed conversations", sortedByID(got, conversationID), all)
	})

	t.Run("ActivityReorders", func(t *testing.T) {
		f := f.on(t)
		// A new message makes the oldest conversation the most recent.
		oldest := all[7]
		res := f.send(oldest, "bump")
		got, err := s.ListConversations(f.ctx, kefu.ConversationFilter{WorkspaceID: ws.ID, Limit: 1})
		if err != nil {
			t.Fatalf("ListConversations: %v", err)
		}
		if len(got) != 1 || got[0].ID != oldest.ID {
			t.Fatalf("after a new message, first conversation: got %v, want id %d", ids(got, conversationID), oldest.ID)
		}
		if !got[0].LastActivityAt.Equal(res.Message.CreatedAt) {
			t.Errorf("LastActivityAt = %v, want the message's CreatedAt %v", got[0].LastActivityAt, res.Message.CreatedAt)
		}
	})
}
