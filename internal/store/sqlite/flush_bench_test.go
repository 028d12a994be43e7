package sqlite

import (
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/kefu-chat/kefu/internal/kefu"
)

// BenchmarkFlush measures one group commit of the append path by itself,
// without the batcher's goroutines: a batch of n messages spread over
// 1,000 conversations, each with a client id. ns/op is per message, and
// so is cpu-ns/op: the process's CPU time (all goroutines, GC included),
// steadier than wall time on a shared machine.
func BenchmarkFlush(b *testing.B) {
	for _, n := range []int{16, 1000} {
		b.Run(fmt.Sprint("batch=", n), func(b *testing.B) {
			s := open(b)
			ws, convs := seed(b, s, 1000)
			batch := make([]*kefu.Message, n)
			next := 0
			b.ReportAllocs()
			b.ResetTimer()
			cpu0 := cpuTime(b)
			for done := 0; done < b.N; done += n {
				for i := range batch {
					next++
					batch[i] = &kefu.Message{WorkspaceID: ws, ConversationID: convs[next%len(convs)], SenderType: kefu.SenderContact,
						SenderID: 1, Kind: kefu.KindText, Body: "你好，我想问一下订单的物流状态，已经三天没有更新了。Thanks!",
						Attachments: []kefu.Attachment{}, ClientMsgID: fmt.Sprint("f-", next)}
				}
				_, errs := s.flush(b.Context(), batch)
				for _, err := range errs {
					if err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64((cpuTime(b)-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/op")
		})
	}
}

func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
