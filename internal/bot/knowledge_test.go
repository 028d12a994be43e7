package bot

import (
	"errors"
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/kefu-chat/kefu/internal/kb"
	"github.com/kefu-chat/kefu/internal/kefu"
	"github.com/kefu-chat/kefu/internal/store/sqlite"
)

// TestKnowledgeCacheInvalidationAndSnapshot: an answer served from the
// hot cache changes as soon as its FAQ entry is edited through Knowledge,
// disappears when the entry is deleted, and a fresh Knowledge (a restart)
// loads the saved snapshot and answers the same.
func TestKnowledgeCacheInvalidationAndSnapshot(t *testing.T) {
	ctx := t.Context()
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "kefu.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	ws := &kefu.Workspace{Name: "w"}
	if err := store.CreateWorkspace(ctx, ws); err != nil {
		t.Fatal(err)
	}
	tok := func() (*kb.Tokenizer, error) { return kb.NewTokenizer(kb.Bigrams{}), nil }
	k := NewKnowledge(store, tok, nil)
	f := &kefu.FAQ{WorkspaceID: ws.ID, Answer: "Shipping is free over 99.", Questions: []string{"how much is shipping"}, Enabled: true}
	if err := k.PutFAQ(ctx, f); err != nil {
		t.Fatal(err)
	}
	base, err := k.Base(ctx, ws.ID)
	if err != nil {
		t.Fatal(err)
	}
	ask := func() (kb.Answer, bool) { return base.Answer("how much is shipping") }
	if a, ok := ask(); !ok || a.Text != f.Answer || a.Cached {
		t.Fatalf("first answer %+v %v", a, ok)
	}
	if a, _ := ask(); !a.Cached {
		t.Fatal("second answer not cached")
	}
	f.Answer = "Shipping is always free."
	if err := k.PutFAQ(ctx, f); err != nil {
		t.Fatal(err)
	}
	if a, ok := ask(); !ok || a.Text != "Shipping is always free." || a.Cached {
		t.Fatalf("after edit %+v", a)
	}
	ask()
	if st := k.CacheStats(); st.Hits == 0 || st.Misses == 0 {
		t.Fatalf("stats %+v", st)
	}

	// A restart loads the snapshot saved under the same fingerprint.
	k2 := NewKnowledge(store, tok, nil)
	b2, err := k2.Base(ctx, ws.ID)
	if err != nil {
		t.Fatal(err)
	}
	if a, ok := b2.Answer("how much is shipping"); !ok || a.Text != "Shipping is always free." {
		t.Fatalf("after reload %+v", a)
	}

	if err := k.DeleteFAQ(ctx, ws.ID, f.ID); err != nil {
		t.Fatal(err)
	}
	if a, ok := ask(); ok {
		t.Fatalf("deleted entry still answers: %+v", a)
	}
}

// newKnowledgeEnv is a Knowledge over a fresh SQLite store with one
// workspace and one FAQ entry answering "how much is shipping".
func newKnowledgeEnv(t *testing.T) (*Knowledge, int64) {
	t.Helper()
	ctx := t.Context()
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "kefu.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	ws := &kefu.Workspace{Name: "w"}
	if err := store.CreateWorkspace(ctx, ws); err != nil {
		t.Fatal(err)
	}
	k := NewKnowledge(store, func() (*kb.Tokenizer, error) { return kb.NewTokenizer(kb.Bigrams{}), nil }, nil)
	if err := k.PutFAQ(ctx, &kefu.FAQ{WorkspaceID: ws.ID, Answer: "Shipping is free over 99.",
		Questions: []string{"how much is shipping"}, Enabled: true}); err != nil {
		t.Fatal(err)
	}
	return k, ws.ID
}

// TestKnowledgeCacheCountersSurviveInvalidation: the hot-answer cache
// counters are totals over every base, so dropping a workspace's base
// (another node changed it) does not take its hits and misses away.
func TestKnowledgeCacheCountersSurviveInvalidation(t *testing.T) {
	ctx := t.Context()
	k, ws := newKnowledgeEnv(t)
	ask := func() {
		t.Helper()
		b, err := k.Base(ctx, ws)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := b.Answer("how much is shipping"); !ok {
			t.Fatal("no answer")
		}
	}
	ask() // miss
	ask() // hit
	ask() // hit
	if got, want := k.CacheStats(), (kb.CacheStats{Hits: 2, Misses: 1}); got != want {
		t.Fatalf("before invalidation: %+v, want %+v", got, want)
	}
	k.Invalidate(ws)
	if got, want := k.CacheStats(), (kb.CacheStats{Hits: 2, Misses: 1}); got != want {
		t.Fatalf("right after invalidation: %+v, want %+v", got, want)
	}
	ask() // miss: the reloaded base starts with an empty cache
	ask() // hit
	got := k.CacheStats()
	if want := (kb.CacheStats{Hits: 3, Misses: 2}); got != want {
		t.Fatalf("after reload: %+v, want %+v", got, want)
	}
	if r := got.HitRatio(); r != 0.6 {
		t.Fatalf("hit ratio %v, want 0.6", r)
	}
}

// TestKnowledgeCacheMetrics: /metrics-style export through a Prometheus
// registry after a few repeated questions.
func TestKnowledgeCacheMetrics(t *testing.T) {
	ctx := t.Context()
	k, ws := newKnowledgeEnv(t)
	reg := prometheus.NewPedanticRegistry()
	k.RegisterMetrics(reg)
	b, err := k.Base(ctx, ws)
	if err != nil {
		t.Fatal(err)
	}
	for range 4 { // 1 miss, 3 hits
		if _, ok := b.Answer("how much is shipping"); !ok {
			t.Fatal("no answer")
		}
	}
	b.Answer("something else entirely") // 1 miss
	want := map[string]float64{"kefu_bot_kb_cache_hits_total": 3, "kefu_bot_kb_cache_misses_total": 2, "kefu_bot_kb_cache_hit_ratio": 0.6}
	checkMetrics(t, reg, want)
	// The counters keep their values when the base is dropped.
	k.Invalidate(ws)
	checkMetrics(t, reg, want)
}

// checkMetrics scrapes reg through the /metrics handler and compares the
// named metrics' values and types (counters for *_total, else gauges).
func checkMetrics(t *testing.T, reg *prometheus.Registry, want map[string]float64) {
	t.Helper()
	rec := httptest.NewRecorder()
	promhttp.HandlerFor(reg, promhttp.HandlerOpts{}).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body := rec.Body.String()
	for name, v := range want {
		typ := "gauge"
		if strings.HasSuffix(name, "_total") {
			typ = "counter"
		}
		if line := "# TYPE " + name + " " + typ + "\n"; !strings.Contains(body, line) {
			t.Errorf("no %q in\n%s", line, body)
		}
		if line := fmt.Sprintf("\n%s %v\n", name, v); !strings.Contains(body, line) {
			t.Errorf("no %q in\n%s", strings.TrimSpace(line), body)
		}
	}
}

// TestKnowledgeCacheCountersConcurrent answers and invalidates at once
// (run with -race): a reader of the counters never sees them go down, and
// at the end they account for every lookup made.
func TestKnowledgeCacheCountersConcurrent(t *testing.T) {
	ctx := t.Context()
	k, ws := newKnowledgeEnv(t)
	const askers, asks, invalidations = 4, 50, 20
	var wg sync.WaitGroup
	errs := make(chan error, askers+2)
	stop := make(chan struct{})
	sampled := make(chan int)
	go func() { // the scraper
		var last kb.CacheStats
		n := 0
		for {
			st := k.CacheStats()
			if st.Hits < last.Hits || st.Misses < last.Misses {
				errs <- fmt.Errorf("counters went down: %+v after %+v", st, last)
			}
			if r := st.HitRatio(); r < 0 || r > 1 {
				errs <- fmt.Errorf("hit ratio %v", r)
			}
			last = st
			n++
			select {
			case <-stop:
				sampled <- n
				return
			default:
				runtime.Gosched()
			}
		}
	}()
	for range askers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range asks {
				b, err := k.Base(ctx, ws)
				if err != nil {
					errs <- err
					return
				}
				if _, ok := b.Answer("how much is shipping"); !ok {
					errs <- errors.New("no answer")
					return
				}
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for range invalidations {
			k.Invalidate(ws)
			runtime.Gosched()
		}
	}()
	wg.Wait()
	close(stop)
	if n := <-sampled; n == 0 {
		t.Fatal("the scraper never ran")
	}
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	st := k.CacheStats()
	if st.Hits+st.Misses != askers*asks {
		t.Fatalf("counters %+v account for %d lookups, want %d", st, st.Hits+st.Misses, askers*asks)
	}
	if st.Misses == 0 || st.Hits == 0 {
		t.Fatalf("counters %+v: want both hits and misses", st)
	}
}
