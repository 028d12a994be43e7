package postgres_test

import (
	"context"
	"fmt"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/kefu-chat/kefu/internal/kefu"
	"github.com/kefu-chat/kefu/internal/kefutest"
	"github.com/kefu-chat/kefu/internal/store/postgres"
	"github.com/kefu-chat/kefu/internal/store/storetest"
)

func open(tb testing.TB, dsn string, opts postgres.Options) *postgres.Store {
	tb.Helper()
	s, err := postgres.Open(tb.Context(), dsn, opts)
	if err != nil {
		tb.Fatalf("postgres.Open: %v", err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Errorf("Close: %v", err)
		}
	})
	return s
}

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) kefu.Store {
		return open(t, kefutest.PostgresURL(t), postgres.Options{})
	})
}

func TestRoutingConformance(t *testing.T) {
	storetest.RunRouting(t, func(t *testing.T) kefu.Store {
		return open(t, kefutest.PostgresURL(t), postgres.Options{})
	})
}

// TestMigrateConcurrently starts several nodes on one empty database at
// once: the advisory lock lets exactly one apply each migration, and a
// later start applies nothing.
func TestMigrateConcurrently(t *testing.T) {
	url := kefutest.PostgresURL(t)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			s, err := postgres.Open(t.Context(), url, postgres.Options{})
			if err != nil {
				t.Errorf("Open: %v", err)
				return
			}
			s.Close()
		})
	}
	wg.Wait()
	s := open(t, url, postgres.Options{})
	if err := s.Ping(t.Context()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	conn, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer conn.Close(context.Background())
	var n int
	if err := conn.QueryRow(t.Context(), "SELECT count(*) FROM schema_migrations WHERE version = '0001_init'").Scan(&n); err != nil {
		t.Fatalf("count migrations: %v", err)
	}
	if n != 1 {
		t.Errorf("0001_init recorded %d times, want 1", n)
	}
}

// TestSynchronousCommit checks the durability setting on the store's own
// connections: a default of "off" (here from the connection URL; it could
// as well come from the role or the database) must not leak into the
// store, because AppendMessage promises the message is on disk.
func TestSynchronousCommit(t *testing.T) {
	u, err := url.Parse(kefutest.PostgresURL(t))
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("options", q.Get("options")+" -c synchronous_commit=off")
	u.RawQuery = kefutest.EncodeQuery(q)
	off := u.String()

	conn, err := pgx.Connect(t.Context(), off)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer conn.Close(context.Background())
	var plain string
	if err := conn.QueryRow(t.Context(), "SHOW synchronous_commit").Scan(&plain); err != nil {
		t.Fatal(err)
	}
	if plain != "off" {
		t.Fatalf("the test's own setup failed: a plain connection has synchronous_commit = %q, want off", plain)
	}

	s := open(t, off, postgres.Options{})
	for name, setting := range map[string]func(context.Context, string) (string, error){
		"readers": s.Setting, "append writers": s.WriterSetting,
	} {
		got, err := setting(t.Context(), "synchronous_commit")
		if err != nil {
			t.Fatalf("%s: Setting: %v", name, err)
		}
		if got != "on" {
			t.Errorf("store's %s: synchronous_commit = %q, want on", name, got)
		}
	}
}

// TestTwoNodes runs two stores on one database, as two Kefu nodes would:
// their in-process batching knows nothing of each other, so seq order and
// idempotency must come from the database alone.
func TestTwoNodes(t *testing.T) {
	url := kefutest.PostgresURL(t)
	var batches atomic.Int64
	observe := func(int, time.Duration) { batches.Add(1) }
	nodes := []*postgres.Store{
		open(t, url, postgres.Options{Observe: observe}),
		open(t, url, postgres.Options{Observe: observe, Shards: 2}),
	}
	ctx := t.Context()
	s := nodes[0]
	now := kefu.Now()
	ws := &kefu.Workspace{Name: "w", CreatedAt: now}
	if err := s.CreateWorkspace(ctx, ws); err != nil {
		t.Fatal(err)
	}
	in := &kefu.Inbox{WorkspaceID: ws.ID, Name: "i", Channel: kefu.ChannelWeb, PublicToken: "t", Secret: "s", CreatedAt: now, UpdatedAt: now}
	if err := s.CreateInbox(ctx, in); err != nil {
		t.Fatal(err)
	}
	ct := &kefu.Contact{WorkspaceID: ws.ID, VisitorID: "v", FirstSeenAt: now, LastSeenAt: now, CreatedAt: now, UpdatedAt: now}
	if err := s.CreateContact(ctx, ct); err != nil {
		t.Fatal(err)
	}
	var convs []*kefu.Conversation
	for range 3 {
		c := &kefu.Conversation{WorkspaceID: ws.ID, InboxID: in.ID, ContactID: ct.ID, Status: kefu.StatusOpen,
			Priority: kefu.PriorityNone, CreatedAt: now, UpdatedAt: now, LastActivityAt: now}
		if err := s.CreateConversation(ctx, c); err != nil {
			t.Fatal(err)
		}
		convs = append(convs, c)
	}

	// Every writer sends each message to both nodes at once, as a client
	// whose first connection died mid-send retries on another node. Each
	// message must be stored once, and every conversation stay gap-free.
	const writers, perWriter = 8, 40
	ids := make([]map[string]int64, writers)
	var wg sync.WaitGroup
	for w := range writers {
		ids[w] = map[string]int64{}
		wg.Go(func() {
			for i := range perWriter {
				c := convs[(w+i)%len(convs)]
				cid := fmt.Sprintf("w%d-%d", w, i)
				var pair [2]*kefu.AppendResult
				var pwg sync.WaitGroup
				for n, node := range nodes {
					pwg.Go(func() {
						res, err := node.AppendMessage(ctx, &kefu.Message{WorkspaceID: ws.ID, ConversationID: c.ID,
							SenderType: kefu.SenderContact, SenderID: ct.ID, Kind: kefu.KindText, Body: cid, ClientMsgID: cid})
						if err != nil {
							t.Errorf("node %d: AppendMessage(%s): %v", n, cid, err)
							return
						}
						pair[n] = res
					})
				}
				pwg.Wait()
				if pair[0] == nil || pair[1] == nil {
					return
				}
				if pair[0].Message.ID != pair[1].Message.ID {
					t.Errorf("%s stored twice: ids %d and %d", cid, pair[0].Message.ID, pair[1].Message.ID)
				}
				if pair[0].Duplicate == pair[1].Duplicate {
					t.Errorf("%s: Duplicate %v on both nodes, want exactly one", cid, pair[0].Duplicate)
				}
			}
		})
	}
	wg.Wait()
	var total int64
	for _, c := range convs {
		ms, err := nodes[1].ListMessages(ctx, kefu.MessageRange{WorkspaceID: ws.ID, ConversationID: c.ID, Limit: 10000})
		if err != nil {
			t.Fatal(err)
		}
		for i, m := range ms {
			if m.Seq != int64(i+1) {
				t.Fatalf("conversation %d: message %d has seq %d", c.ID, i, m.Seq)
			}
		}
		total += int64(len(ms))
	}
	if total != writers*perWriter {
		t.Errorf("stored %d messages, want %d", total, writers*perWriter)
	}
}

// TestBatchWithBadItem puts a message the database refuses into a batch
// with good ones: the good ones still commit, each gets its own answer.
func TestBatchWithBadItem(t *testing.T) {
	url := kefutest.PostgresURL(t)
	s := open(t, url, postgres.Options{Shards: 1})
	ctx := t.Context()
	now := kefu.Now()
	ws := &kefu.Workspace{Name: "w", CreatedAt: now}
	if err := s.CreateWorkspace(ctx, ws); err != nil {
		t.Fatal(err)
	}
	in := &kefu.Inbox{WorkspaceID: ws.ID, Name: "i", Channel: kefu.ChannelWeb, PublicToken: "t", Secret: "s", CreatedAt: now, UpdatedAt: now}
	if err := s.CreateInbox(ctx, in); err != nil {
		t.Fatal(err)
	}
	ct := &kefu.Contact{WorkspaceID: ws.ID, FirstSeenAt: now, LastSeenAt: now, CreatedAt: now, UpdatedAt: now}
	if err := s.CreateContact(ctx, ct); err != nil {
		t.Fatal(err)
	}
	c := &kefu.Conversation{WorkspaceID: ws.ID, InboxID: in.ID, ContactID: ct.ID, Status: kefu.StatusOpen,
		Priority: kefu.PriorityNone, CreatedAt: now, UpdatedAt: now, LastActivityAt: now}
	if err := s.CreateConversation(ctx, c); err != nil {
		t.Fatal(err)
	}
	// A NUL byte is valid UTF-8 but PostgreSQL text refuses it, which
	// aborts whatever transaction the message is in.
	const n = 50
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			body := fmt.Sprint("ok ", i)
			if i == n/2 {
				body = "bad \x00 byte"
			}
			_, errs[i] = s.AppendMessage(ctx, &kefu.Message{WorkspaceID: ws.ID, ConversationID: c.ID,
				SenderType: kefu.SenderContact, SenderID: ct.ID, Kind: kefu.KindText, Body: body})
		})
	}
	wg.Wait()
	for i, err := range errs {
		want := ""
		if i == n/2 {
			want = kefu.EInvalid
		}
		if got := kefu.ErrorCode(err); got != want {
			t.Errorf("message %d: err = %v, want code %q", i, err, want)
		}
	}
	ms, err := s.ListMessages(ctx, kefu.MessageRange{WorkspaceID: ws.ID, ConversationID: c.ID, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != n-1 {
		t.Fatalf("stored %d messages, want %d", len(ms), n-1)
	}
	for i, m := range ms {
		if m.Seq != int64(i+1) {
			t.Fatalf("message %d has seq %d: a gap", i, m.Seq)
		}
	}
}

func benchStore(b *testing.B, m *appendMeter) *postgres.Store {
	return open(b, m.url, postgres.Options{Observe: m.observe})
}

func BenchmarkAppend(b *testing.B) {
	m := newAppendMeter(b)
	storetest.BenchAppend(b, benchStore(b, m))
	m.report(b)
}

func BenchmarkAppendPipelined(b *testing.B) {
	for _, n := range []int{100, 1000} {
		b.Run(fmt.Sprint("inflight=", n), func(b *testing.B) {
			m := newAppendMeter(b)
			storetest.BenchAppendPipelined(b, benchStore(b, m), n)
			m.report(b)
		})
	}
}

func BenchmarkResume(b *testing.B) {
	storetest.BenchResume(b, open(b, kefutest.PostgresURL(b), postgres.Options{}))
}

func BenchmarkClaimPush(b *testing.B) {
	storetest.BenchClaim(b, open(b, kefutest.PostgresURL(b), postgres.Options{}), false)
}

func BenchmarkClaimPull(b *testing.B) {
	storetest.BenchClaim(b, open(b, kefutest.PostgresURL(b), postgres.Options{}), true)
}

func BenchmarkWidgetStatus(b *testing.B) {
	storetest.BenchWidgetStatus(b, open(b, kefutest.PostgresURL(b), postgres.Options{}))
}

// TestPlanModes: the readers plan each query for its arguments (a generic
// plan kept per connection was made on a new install's empty tables and
// scanned a workspace's every message to resume one conversation); the
// append writers keep generic plans, their statements being written to
// probe by primary key under any plan (see TestAppendPlansProbeConversationsByKey).
func TestPlanModes(t *testing.T) {
	s := open(t, kefutest.PostgresURL(t), postgres.Options{})
	for name, c := range map[string]struct {
		get  func(context.Context, string) (string, error)
		want string
	}{
		"readers":        {s.Setting, "force_custom_plan"},
		"append writers": {s.WriterSetting, "force_generic_plan"},
	} {
		got, err := c.get(t.Context(), "plan_cache_mode")
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got != c.want {
			t.Errorf("%s: plan_cache_mode = %q, want %q", name, got, c.want)
		}
	}
}
