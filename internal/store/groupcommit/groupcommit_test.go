package groupcommit

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
)

func TestBatchesConcurrentCallsAndKeepsPerKeyOrder(t *testing.T) {
	var mu sync.Mutex
	seen := map[uint64][]int{}
	var flushes, maxBatch atomic.Int64
	b := New(Options{Shards: 3, MaxBatch: 50}, func(_ context.Context, reqs [][2]int) ([]int, []error) {
		flushes.Add(1)
		if n := int64(len(reqs)); n > maxBatch.Load() {
			maxBatch.Store(n)
		}
		mu.Lock()
		defer mu.Unlock()
		res := make([]int, len(reqs))
		errs := make([]error, len(reqs))
		for i, r := range reqs {
			seen[uint64(r[0])] = append(seen[uint64(r[0])], r[1])
			res[i] = r[1] * 2
			if r[1]%7 == 0 {
				errs[i] = errors.New("seven")
			}
		}
		return res, errs
	})
	const keys, perKey = 20, 100
	var wg sync.WaitGroup
	for k := 0; k < keys; k++ {
		wg.Add(1)
		go func(k int) {
			defer wg.Done()
			for i := 1; i <= perKey; i++ {
				got, err := b.Do(context.Background(), uint64(k), [2]int{k, i})
				if i%7 == 0 {
					if err == nil {
						t.Errorf("key %d item %d: want error", k, i)
					}
					continue
				}
				if err != nil || got != i*2 {
					t.Errorf("key %d item %d: got %d, %v", k, i, got, err)
				}
			}
		}(k)
	}
	wg.Wait()
	b.Close()
	for k, items := range seen {
		if len(items) != perKey {
			t.Fatalf("key %d: %d items, want %d", k, len(items), perKey)
		}
		for i, v := range items {
			if v != i+1 {
				t.Fatalf("key %d: order broken at %d: %v", k, i, items[:i+1])
			}
		}
	}
	if flushes.Load() >= keys*perKey {
		t.Logf("no batching happened (%d flushes); acceptable on a quiet machine", flushes.Load())
	}
	if _, err := b.Do(context.Background(), 1, [2]int{1, 1}); !errors.Is(err, ErrClosed) {
		t.Fatalf("Do after Close: %v, want ErrClosed", err)
	}
}

func TestDoHonoursContext(t *testing.T) {
	block := make(chan struct{})
	b := New(Options{Shards: 1, MaxBatch: 1, QueueLen: 1}, func(_ context.Context, reqs []int) ([]int, []error) {
		<-block
		return make([]int, len(reqs)), make([]error, len(reqs))
	})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := b.Do(ctx, 0, 1); !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
	close(block)
	b.Close()
}

func TestGoCallsBackInCommitOrder(t *testing.T) {
	var mu sync.Mutex
	var committed []int
	b := New(Options{Shards: 2, MaxBatch: 7}, func(_ context.Context, reqs []int) ([]int, []error) {
		mu.Lock()
		committed = append(committed, reqs...)
		mu.Unlock()
		errs := make([]error, len(reqs))
		for i, r := range reqs {
			if r%5 == 0 {
				errs[i] = errors.New("five")
			}
		}
		return reqs, errs
	})
	const n = 500
	got := make(chan [2]int, n)
	for i := 1; i <= n; i++ {
		i := i
		err := b.Go(context.Background(), uint64(i%2), i, func(res int, err error) {
			if (err != nil) != (i%5 == 0) || res != i {
				t.Errorf("item %d: got %d, %v", i, res, err)
			}
			got <- [2]int{i % 2, i}
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	// A synchronous call on the same shard still works alongside.
	if r, err := b.Do(context.Background(), 0, 1001); err != nil || r != 1001 {
		t.Fatalf("Do: %d, %v", r, err)
	}
	last := map[int]int{}
	for k := 0; k < n; k++ {
		x := <-got
		if x[1] <= last[x[0]] {
			t.Fatalf("shard %d: callback for %d after %d", x[0], x[1], last[x[0]])
		}
		last[x[0]] = x[1]
	}
	b.Close()
	if err := b.Go(context.Background(), 0, 1, func(int, error) { t.Error("callback after close") }); !errors.Is(err, ErrClosed) {
		t.Fatalf("Go after Close: %v", err)
	}
}
