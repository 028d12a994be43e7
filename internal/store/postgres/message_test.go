package postgres_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/kefu-chat/kefu/internal/kefu"
	"github.com/kefu-chat/kefu/internal/kefutest"
	"github.com/kefu-chat/kefu/internal/store/postgres"
)

// tenant is a workspace with a contact and n conversations of it.
type tenant struct {
	ws      *kefu.Workspace
	contact *kefu.Contact
	convs   []*kefu.Conversation
}

func seed(t *testing.T, s *postgres.Store, n int) *tenant {
	t.Helper()
	ctx := t.Context()
	now := kefu.Now()
	tn := &tenant{ws: &kefu.Workspace{Name: "w", CreatedAt: now}}
	if err := s.CreateWorkspace(ctx, tn.ws); err != nil {
		t.Fatal(err)
	}
	in := &kefu.Inbox{WorkspaceID: tn.ws.ID, Name: "i", Channel: kefu.ChannelWeb, PublicToken: fmt.Sprint("t", tn.ws.ID),
		Secret: "s", CreatedAt: now, UpdatedAt: now}
	if err := s.CreateInbox(ctx, in); err != nil {
		t.Fatal(err)
	}
	tn.contact = &kefu.Contact{WorkspaceID: tn.ws.ID, FirstSeenAt: now, LastSeenAt: now, CreatedAt: now, UpdatedAt: now}
	if err := s.CreateContact(ctx, tn.contact); err != nil {
		t.Fatal(err)
	}
	for range n {
		c := &kefu.Conversation{WorkspaceID: tn.ws.ID, InboxID: in.ID, ContactID: tn.contact.ID, Status: kefu.StatusOpen,
			Priority: kefu.PriorityNone, CreatedAt: now, UpdatedAt: now, LastActivityAt: now}
		if err := s.CreateConversation(ctx, c); err != nil {
			t.Fatal(err)
		}
		tn.convs = append(tn.convs, c)
	}
	return tn
}

// msg is a text message from the conversation's contact.
func msg(c *kefu.Conversation, clientID, body string) *kefu.Message {
	return &kefu.Message{WorkspaceID: c.WorkspaceID, ConversationID: c.ID, SenderType: kefu.SenderContact,
		SenderID: c.ContactID, Kind: kefu.KindText, Body: body, ClientMsgID: clientID}
}

// failures counts the group commits that failed as a whole and fell back
// to appending one by one.
type failures struct{ n atomic.Int64 }

func (f *failures) Enabled(context.Context, slog.Level) bool { return true }
func (f *failures) Handle(_ context.Context, r slog.Record) error {
	if r.Level >= slog.LevelWarn {
		f.n.Add(1)
	}
	return nil
}
func (f *failures) WithAttrs([]slog.Attr) slog.Handler { return f }
func (f *failures) WithGroup(string) slog.Handler      { return f }

// TestBatchDuplicates puts, in one batch, several messages of one
// conversation, a client_msg_id sent twice, the same client_msg_id from
// another sender and in another conversation, a retry of a message of an
// earlier batch, a message claiming another workspace and one for a
// conversation that does not exist. Each gets its own answer, the stored
// ones get dense seqs in arrival order, and nothing falls back to one by
// one.
func TestBatchDuplicates(t *testing.T) {
	var fails failures
	s := open(t, kefutest.PostgresURL(t), postgres.Options{Shards: 1, Logger: slog.New(&fails)})
	ctx := t.Context()
	tn := seed(t, s, 2)
	other := seed(t, s, 1)
	a, b := tn.convs[0], tn.convs[1]

	earlier, err := s.AppendMessage(ctx, msg(a, "old", "old"))
	if err != nil {
		t.Fatal(err)
	}
	agent := msg(a, "x", "agent x")
	agent.SenderType, agent.SenderID = kefu.SenderAgent, 7
	forged := msg(a, "y", "forged y")
	forged.WorkspaceID = other.ws.ID
	missing := msg(a, "z", "missing")
	missing.ConversationID = b.ID + 1000
	bad := msg(a, "", "bad")
	bad.Meta = map[string]any{"f": func() {}} // cannot be encoded

	batch := []*kefu.Message{
		msg(a, "x", "a x"),  // 0: a seq 2
		msg(a, "", "a -"),   // 1: a seq 3
		msg(b, "x", "b x"),  // 2: b seq 1 (same id, other conversation)
		msg(a, "x", "a x'"), // 3: duplicate of 0
		agent,               // 4: a seq 4 (same id, other sender)
		forged,              // 5: not found
		msg(a, "y", "a y"),  // 6: a seq 5 (the forged one does not shadow it)
		msg(a, "old", "re"), // 7: duplicate of the earlier batch
		missing,             // 8: not found
		msg(a, "", "a -'"),  // 9: a seq 6 (no id: never a duplicate)
		bad,                 // 10: invalid
		msg(b, "x", "b x'"), // 11: duplicate of 2
	}
	res, errs := s.FlushAppends(ctx, batch)

	type want struct {
		seq  int64
		dup  int // index of the original in batch, -1: none, -2: the earlier message
		code string
	}
	wants := []want{
		{2, -1, ""}, {3, -1, ""}, {1, -1, ""}, {2, 0, ""}, {4, -1, ""}, {0, -1, kefu.ENotFound},
		{5, -1, ""}, {1, -2, ""}, {0, -1, kefu.ENotFound}, {6, -1, ""}, {0, -1, kefu.EInvalid}, {1, 2, ""},
	}
	for i, w := range wants {
		if got := kefu.ErrorCode(errs[i]); got != w.code {
			t.Errorf("message %d (%s): err = %v, want code %q", i, batch[i].Body, errs[i], w.code)
			continue
		}
		if w.code != "" {
			if res[i] != nil {
				t.Errorf("message %d (%s): result %+v with error", i, batch[i].Body, res[i])
			}
			continue
		}
		r := res[i]
		if r.Message.Seq != w.seq {
			t.Errorf("message %d (%s): seq %d, want %d", i, batch[i].Body, r.Message.Seq, w.seq)
		}
		if r.Duplicate != (w.dup != -1) {
			t.Errorf("message %d (%s): Duplicate = %v", i, batch[i].Body, r.Duplicate)
		}
		switch w.dup {
		case -2:
			if r.Message.ID != earlier.Message.ID {
				t.Errorf("message %d: id %d, want the earlier message's %d", i, r.Message.ID, earlier.Message.ID)
			}
		case -1:
			if r.Message.Body != batch[i].Body || r.Message.ID == 0 || r.Message.CreatedAt.IsZero() {
				t.Errorf("message %d: stored %+v", i, r.Message)
			}
		default:
			if orig := res[w.dup]; orig != nil && r.Message.ID != orig.Message.ID {
				t.Errorf("message %d: id %d, want the original's %d", i, r.Message.ID, orig.Message.ID)
			}
		}
		if r.ContactID != tn.contact.ID {
			t.Errorf("message %d: ContactID %d, want %d", i, r.ContactID, tn.contact.ID)
		}
	}
	for _, c := range []*kefu.Conversation{a, b} {
		checkDense(t, s, c, -1)
	}
	if n := fails.n.Load(); n != 0 {
		t.Errorf("%d batches fell back to one by one", n)
	}
}

// checkDense checks that c's messages have seqs 1..n, that the
// conversation's last_seq is n, and, unless want is negative, that n is
// want.
func checkDense(t *testing.T, s *postgres.Store, c *kefu.Conversation, want int) {
	t.Helper()
	ctx := t.Context()
	ms, err := s.ListMessages(ctx, kefu.MessageRange{WorkspaceID: c.WorkspaceID, ConversationID: c.ID, Limit: 100000})
	if err != nil {
		t.Fatal(err)
	}
	for i, m := range ms {
		if m.Seq != int64(i+1) {
			t.Fatalf("conversation %d: message %d has seq %d", c.ID, i, m.Seq)
		}
	}
	got, err := s.GetConversation(ctx, c.WorkspaceID, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.LastSeq != int64(len(ms)) {
		t.Errorf("conversation %d: last_seq %d, %d messages", c.ID, got.LastSeq, len(ms))
	}
	if want >= 0 && len(ms) != want {
		t.Errorf("conversation %d: %d messages, want %d", c.ID, len(ms), want)
	}
}

// TestConcurrentBatches runs batches on two stores over one schema, as
// two nodes would, each touching the same conversations in a different
// order, some messages sent to both nodes. Conversation locks are taken
// in id order whatever the arrival order, so no batch deadlocks (or
// fails at all), and every conversation ends dense.
func TestConcurrentBatches(t *testing.T) {
	url := kefutest.PostgresURL(t)
	var fails failures
	nodes := []*postgres.Store{
		open(t, url, postgres.Options{Logger: slog.New(&fails)}),
		open(t, url, postgres.Options{Logger: slog.New(&fails)}),
	}
	tn := seed(t, nodes[0], 8)
	const rounds, perConv = 30, 3
	var wg sync.WaitGroup
	for n, node := range nodes {
		for w := range 2 {
			wg.Go(func() {
				for r := range rounds {
					var batch []*kefu.Message
					for i := range tn.convs {
						// Node 0 walks the conversations upwards, node 1
						// downwards; writer 0 of each node sends the
						// messages both nodes share.
						c := tn.convs[i]
						if n == 1 {
							c = tn.convs[len(tn.convs)-1-i]
						}
						for k := range perConv {
							id := fmt.Sprintf("n%d-w%d-r%d-%d", n, w, r, k)
							if w == 0 {
								id = fmt.Sprintf("shared-r%d-%d", r, k)
							}
							batch = append(batch, msg(c, id, id))
						}
					}
					_, errs := node.FlushAppends(t.Context(), batch)
					for i, err := range errs {
						if err != nil {
							t.Errorf("node %d: %s: %v", n, batch[i].Body, err)
							return
						}
					}
				}
			})
		}
	}
	wg.Wait()
	// Per conversation: the shared messages once, each node's own once.
	want := rounds * perConv * 3
	for _, c := range tn.convs {
		checkDense(t, nodes[1], c, want)
	}
	if n := fails.n.Load(); n != 0 {
		t.Errorf("%d batches fell back to one by one", n)
	}
}

// TestAppendPlansProbeConversationsByKey: the writers' generic plans are
// made once per connection, typically on a new install's empty tables,
// where every index looks as good as another. Each batch row must still
// find its conversation through the primary key: a plan that walked an
// index on workspace_id instead read every conversation of the workspace
// per row, and held a node at about 1,100 msg/s once it had 4,000
// conversations.
func TestAppendPlansProbeConversationsByKey(t *testing.T) {
	s := open(t, kefutest.PostgresURL(t), postgres.Options{})
	plans, err := s.AppendPlans(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for name, plan := range plans {
		if !strings.Contains(plan, "conversations_pkey") {
			t.Errorf("%s statement does not look conversations up by primary key:\n%s", name, plan)
		}
		for _, idx := range []string{"conversations_load", "conversations_list", "conversations_status", "conversations_assignee", "conversations_contact", "conversations_queue", "conversations_idle"} {
			if strings.Contains(plan, idx) {
				t.Errorf("%s statement's plan uses %s:\n%s", name, idx, plan)
			}
		}
	}
}
