package sqlite

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/kefu-chat/kefu/internal/kefu"
	"github.com/kefu-chat/kefu/internal/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) kefu.Store { return open(t) })
}

func BenchmarkStoreAppend(b *testing.B) { storetest.BenchAppend(b, open(b)) }
func BenchmarkStoreResume(b *testing.B) { storetest.BenchResume(b, open(b)) }
func BenchmarkStoreAppendPipelined(b *testing.B) {
	for _, n := range []int{100, 1000} {
		b.Run(fmt.Sprint("inflight=", n), func(b *testing.B) { storetest.BenchAppendPipelined(b, open(b), n) })
	}
}

// TestRoutingConformance runs with synchronous=NORMAL: the suite is about
// who gets which conversation under concurrency, not durability (the main
// suite covers that), and a few thousand fsyncs would make it a minute long.
func TestRoutingConformance(t *testing.T) {
	storetest.RunRouting(t, func(t *testing.T) kefu.Store {
		s, err := Open(t.Context(), filepath.Join(t.TempDir(), "kefu.db"), Options{Synchronous: "NORMAL"})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}

func BenchmarkClaimPush(b *testing.B)    { storetest.BenchClaim(b, open(b), false) }
func BenchmarkClaimPull(b *testing.B)    { storetest.BenchClaim(b, open(b), true) }
func BenchmarkWidgetStatus(b *testing.B) { storetest.BenchWidgetStatus(b, open(b)) }
