package storetest

import (
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kefu-chat/kefu/internal/kefu"
	"github.com/kefu-chat/kefu/internal/routing"
)

// benchBody is a typical chat line, mixed Chinese and English.
const benchBody = "你好，我想问一下订单的物流状态，已经三天没有更新了。Thanks!"

// benchConversations makes n conversations of one fresh tenant.
func benchConversations(b *testing.B, s kefu.Store, n int) (*fixture, []*kefu.Conversation) {
	f := newFixture(b, s)
	tn := f.tenant()
	convs := []*kefu.Conversation{tn.conv}
	for len(convs) < n {
		convs = append(convs, f.conversation(tn.ws.ID, tn.inbox.ID, tn.contact.ID))
	}
	return f, convs
}

// BenchAppend measures AppendMessage under parallel load: many writers,
// each waiting for its commit like a chat client waiting for its ack,
// spread over 100 conversations. s must be fresh; the caller closes it.
func BenchAppend(b *testing.B, s kefu.Store) {
	f, convs := benchConversations(b, s, 100)
	var next atomic.Int64
	// Writers far outnumber CPUs: they spend their time waiting on commits,
	// which is what group commit is for.
	b.SetParallelism(16)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			n := next.Add(1)
			c := convs[n%int64(len(convs))]
			_, err := s.AppendMessage(f.ctx, &kefu.Message{WorkspaceID: c.WorkspaceID, ConversationID: c.ID,
				SenderType: kefu.SenderContact, SenderID: c.ContactID, Kind: kefu.KindText, Body: benchBody,
				ClientMsgID: fmt.Sprint("bench-", n)})
			if err != nil {
				b.Errorf("AppendMessage: %v", err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

// BenchAppendPipelined measures what the server's send path asks of a
// group-committing store: up to inFlight messages queued at once (clients
// do not wait for one ack before sending the next) over 1,000
// conversations, each with a client message id. It reports committed
// messages per second and the mean batch the store formed. s must be
// fresh and implement kefu.AsyncAppender; the caller closes it.
func BenchAppendPipelined(b *testing.B, s kefu.Store, inFlight int) {
	async, ok := s.(kefu.AsyncAppender)
	if !ok {
		b.Skip("store does not group-commit")
	}
	f, convs := benchConversations(b, s, 1000)
	slots := make(chan struct{}, inFlight)
	var wg sync.WaitGroup
	var failed atomic.Value
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		slots <- struct{}{}
		c := convs[i%len(convs)]
		wg.Add(1)
		err := async.AppendMessageAsync(f.ctx, &kefu.Message{WorkspaceID: c.WorkspaceID, ConversationID: c.ID,
			SenderType: kefu.SenderContact, SenderID: c.ContactID, Kind: kefu.KindText, Body: benchBody,
			ClientMsgID: fmt.Sprint("p-", i)}, func(_ *kefu.AppendResult, err error) {
			if err != nil {
				failed.CompareAndSwap(nil, err)
			}
			<-slots
			wg.Done()
		})
		if err != nil {
			b.Fatalf("AppendMessageAsync: %v", err)
		}
	}
	wg.Wait()
	b.StopTimer()
	if err := failed.Load(); err != nil {
		b.Fatalf("append: %v", err)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

// BenchResume measures the read a reconnecting client causes: the
// messages after its last seq, from a conversation holding 1,000. s must be
// fresh; the caller closes it.
func BenchResume(b *testing.B, s kefu.Store) {
	const total = 1000
	f := newFixture(b, s)
	tn := f.tenant()
	// Filled concurrently so that setup rides group commit too.
	var wg sync.WaitGroup
	var failed atomic.Bool
	for w := range 20 {
		wg.Go(func() {
			for i := range total / 20 {
				_, err := s.AppendMessage(f.ctx, &kefu.Message{WorkspaceID: tn.ws.ID, ConversationID: tn.conv.ID,
					SenderType: kefu.SenderContact, SenderID: tn.contact.ID, Kind: kefu.KindText,
					Body: fmt.Sprintf("message %d from writer %d, of a typical length for a chat line", i, w)})
				if err != nil {
					b.Errorf("AppendMessage: %v", err)
					failed.Store(true)
					return
				}
			}
		})
	}
	wg.Wait()
	if failed.Load() {
		b.FailNow()
	}
	for _, after := range []int64{0, 900, 990} {
		b.Run(fmt.Sprintf("after=%d", after), func(b *testing.B) {
			want := total - int(after)
			b.ReportAllocs()
			for b.Loop() {
				ms, err := s.ListMessages(f.ctx, kefu.MessageRange{WorkspaceID: tn.ws.ID, ConversationID: tn.conv.ID,
					AfterSeq: after, Limit: total})
				if err != nil {
					b.Fatalf("ListMessages: %v", err)
				}
				if len(ms) != want {
					b.Fatalf("ListMessages after %d: %d messages, want %d", after, len(ms), want)
				}
			}
		})
	}
}

// BenchClaim measures the assignment decision as committed by the store,
// with 10,000 conversations queued and 200 agents online: a push claim
// (snapshot, routing.Decide, slot check under the agent's lock, assign)
// per iteration, or with pull a pull claim (the queue head for one
// agent). It reports p50 and p99 latency. s must be fresh.
func BenchClaim(b *testing.B, s kefu.Store, pull bool) {
	const (
		queued = 10_000
		agents = 200
	)
	f := newFixture(b, s)
	ws := f.workspace()
	in := f.inbox(ws.ID)
	st := kefu.DefaultRoutingSettings(ws.ID, in.ID)
	st.DefaultCapacity, st.Sticky = 1000, false
	if err := s.PutRoutingSettings(f.ctx, st); err != nil {
		b.Fatal(err)
	}
	as := make([]*kefu.Agent, agents)
	for i := range as {
		as[i] = f.agent(ws.ID)
	}
	now := kefu.Now()
	f.online(ws.ID, now, as...)
	contact := f.contact(ws.ID)
	prios := []kefu.Priority{kefu.PriorityNone, kefu.PriorityLow, kefu.PriorityHigh}
	ids := make([]int64, 0, queued)
	for i := range queued {
		c := f.conversation(ws.ID, in.ID, contact.ID)
		if _, err := s.Requeue(f.ctx, ws.ID, c.ID, 0, prios[i%len(prios)], now.Add(time.Duration(i)*time.Millisecond)); err != nil {
			b.Fatal(err)
		}
		ids = append(ids, c.ID)
	}
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		start := time.Now()
		var a *kefu.Assignment
		var err error
		if pull {
			a, err = s.ClaimNext(f.ctx, kefu.PullRequest{WorkspaceID: ws.ID, AgentID: as[i%agents].ID, Capacity: 1000, InboxIDs: []int64{in.ID}, Now: now})
		} else {
			a, err = s.ClaimConversation(f.ctx, ws.ID, ids[i%queued], now, func(snap *kefu.ClaimSnapshot) kefu.Decision { return routing.Decide(snap, time.Hour) })
		}
		lat = append(lat, time.Since(start))
		if err != nil || (a == nil && i < queued) {
			b.Fatalf("claim %d: %v, %v", i, a, err)
		}
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
}

// BenchWidgetStatus measures what the public widget endpoints ask of the
// store per call, with 10,000 conversations queued in the inbox and 200
// agents online holding 5 conversations each: "list" is how they did it
// (every agent's state with their load, and the queue's rows), "count"
// how they do it now (two counts). s must be fresh.
func BenchWidgetStatus(b *testing.B, s kefu.Store) {
	const (
		queued = 10_000
		agents = 200
	)
	f := newFixture(b, s)
	ws := f.workspace()
	in := f.inbox(ws.ID)
	now := kefu.Now()
	contact := f.contact(ws.ID)
	for range agents {
		a := f.agent(ws.ID)
		f.online(ws.ID, now, a)
		for range 5 {
			f.conversation(ws.ID, in.ID, contact.ID, func(c *kefu.Conversation) { c.AssigneeID = a.ID })
		}
	}
	for i := range queued {
		c := f.conversation(ws.ID, in.ID, contact.ID)
		if _, err := s.Requeue(f.ctx, ws.ID, c.ID, 0, "", now.Add(time.Duration(i)*time.Millisecond)); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("list", func(b *testing.B) {
		for b.Loop() {
			states, err := s.ListAgentStates(f.ctx, ws.ID)
			if err != nil || len(states) != agents {
				b.Fatalf("ListAgentStates: %d, %v", len(states), err)
			}
			q, err := s.ListQueue(f.ctx, ws.ID, in.ID, queued)
			if err != nil || len(q) != queued {
				b.Fatalf("ListQueue: %d, %v", len(q), err)
			}
		}
	})
	b.Run("count", func(b *testing.B) {
		for b.Loop() {
			n, err := s.CountOnlineAgents(f.ctx, ws.ID, nil, now.Add(-time.Minute))
			if err != nil || n != agents {
				b.Fatalf("CountOnlineAgents: %d, %v", n, err)
			}
			if n, err = s.QueueLength(f.ctx, ws.ID, in.ID); err != nil || n != queued {
				b.Fatalf("QueueLength: %d, %v", n, err)
			}
		}
	})
	// The two counts apart: the queue's is the one that grows with it.
	b.Run("count-agents", func(b *testing.B) {
		for b.Loop() {
			if n, err := s.CountOnlineAgents(f.ctx, ws.ID, nil, now.Add(-time.Minute)); err != nil || n != agents {
				b.Fatalf("CountOnlineAgents: %d, %v", n, err)
			}
		}
	})
	b.Run("count-queue", func(b *testing.B) {
		for b.Loop() {
			if n, err := s.QueueLength(f.ctx, ws.ID, in.ID); err != nil || n != queued {
				b.Fatalf("QueueLength: %d, %v", n, err)
			}
		}
	})
}
