package storetest

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/kefu-chat/kefu/internal/kefu"
)

// BenchAppend measures AppendMessage under parallel load: many writers,
// each waiting for its commit like a chat client waiting for its ack,
// spread over 100 conversations. s must be fresh; the caller closes it.
func BenchAppend(b *testing.B, s kefu.Store) {
	f := newFixture(b, s)
	tn := f.tenant()
	convs := []*kefu.Conversation{tn.conv}
	for len(convs) < 100 {
		convs = append(convs, f.conversation(tn.ws.ID, tn.inbox.ID, tn.contact.ID))
	}
	body := "你好，我想问一下订单的物流状态，已经三天没有更新了。Thanks!"
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
				SenderType: kefu.SenderContact, SenderID: c.ContactID, Kind: kefu.KindText, Body: body,
				ClientMsgID: fmt.Sprint("bench-", n)})
			if err != nil {
				b.Errorf("AppendMessage: %v", err)
				return
			}
		}
	})
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
