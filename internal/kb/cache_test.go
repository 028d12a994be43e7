package kb

import (
	"fmt"
	"sync"
	"testing"
)

func TestCacheLRU(t *testing.T) {
	c := NewCache(2, nil)
	e := c.Epoch()
	c.Put("a", Answer{EntryID: "1", Text: "A"}, e)
	c.Put("b", Answer{EntryID: "2", Text: "B"}, e)
	if _, ok := c.Get("a"); !ok { // a is now most recent
		t.Fatal("a missing")
	}
	c.Put("c", Answer{EntryID: "3", Text: "C"}, e)
	if _, ok := c.Get("b"); ok {
		t.Error("b survived eviction; want least recently used evicted")
	}
	if _, ok := c.Get("a"); !ok {
		t.Error("a evicted")
	}
	if c.Len() != 2 {
		t.Errorf("Len = %d, want 2", c.Len())
	}
	s := c.Stats()
	if s.Hits != 2 || s.Misses != 1 || s.HitRatio() != 2.0/3 {
		t.Errorf("stats %+v ratio %v, want 2 hits 1 miss", s, s.HitRatio())
	}
	// Evicting the last key of an entry forgets the entry.
	c.InvalidateEntry("1")
	c.InvalidateEntry("3")
	if c.Len() != 0 || len(c.byEntry) != 0 {
		t.Errorf("after invalidation: %d items, %d entries", c.Len(), len(c.byEntry))
	}
}

func TestCacheStalePut(t *testing.T) {
	c := NewCache(10, nil)
	e := c.Epoch()
	c.InvalidateEntry("1") // an edit lands while a search is running
	c.Put("q", Answer{EntryID: "1", Text: "old"}, e)
	if _, ok := c.Get("q"); ok {
		t.Error("answer computed before an invalidation was cached")
	}
}

func baseForTest(t *testing.T) *Base {
	t.Helper()
	b := NewBase(NewIndex(NewTokenizer(Bigrams{}), DefaultParams()), 100, nil)
	for _, e := range rankingEntries {
		b.Upsert(e)
	}
	return b
}

func TestBaseCacheInvalidation(t *testing.T) {
	b := baseForTest(t)
	q := "How long does a refund take?"
	a, ok := b.Answer(q)
	if !ok || a.EntryID != "refund-time" || a.Cached {
		t.Fatalf("first answer %+v %v", a, ok)
	}
	// The same question, normalised differently, hits the cache.
	a, ok = b.Answer("  HOW LONG does a refund take？")
	if !ok || !a.Cached || a.Text != rankingEntries[0].Answer {
		t.Fatalf("second answer %+v %v, want cached", a, ok)
	}
	other, _ := b.Answer("When will my order ship?")

	// Editing the answer drops the cached answer of that entry only.
	e := rankingEntries[0]
	e.Answer = "Refunds now arrive in 3 days."
	b.Upsert(e)
	a, ok = b.Answer(q)
	if !ok || a.Cached || a.Text != e.Answer {
		t.Errorf("after edit: %+v %v, want fresh new answer", a, ok)
	}
	if a, _ := b.Answer("When will my order ship?"); !a.Cached || a.Text != other.Text {
		t.Errorf("unrelated entry's answer was dropped: %+v", a)
	}

	// Disabling or removing the entry stops answering from it.
	e.Enabled = false
	b.Upsert(e)
	if a, ok := b.Answer(q); ok && a.EntryID == "refund-time" {
		t.Errorf("disabled entry answered: %+v", a)
	}
	e.Enabled = true
	b.Upsert(e)
	if a, ok := b.Answer(q); !ok || a.Cached {
		t.Errorf("re-enabled: %+v %v", a, ok)
	}
	if err := b.Remove("refund-time"); err != nil {
		t.Fatal(err)
	}
	if a, ok := b.Answer(q); ok && a.EntryID == "refund-time" {
		t.Errorf("removed entry answered: %+v", a)
	}

	// A new entry may be the better answer for any cached question.
	b.Answer("When will my order ship?")
	b.Upsert(Entry{ID: "ship-exact", Answer: "Today.", Questions: []string{"When will my order ship?"}, Enabled: true})
	if a, _ := b.Answer("When will my order ship?"); a.Cached {
		t.Errorf("cache survived a new entry: %+v", a)
	}
	if s := b.CacheStats(); s.Hits == 0 || s.Misses == 0 {
		t.Errorf("stats %+v", s)
	}
}

func TestBaseConcurrent(t *testing.T) {
	b := baseForTest(t)
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			for j := range 200 {
				b.Answer(fmt.Sprintf("How long does a refund take %d", j%7))
				if i == 0 && j%20 == 0 {
					e := rankingEntries[0]
					e.Answer = fmt.Sprint("v", j)
					b.Upsert(e)
				}
			}
		})
	}
	wg.Wait()
	e, _ := b.Index().Entry("refund-time")
	for j := range 7 {
		if a, ok := b.Answer(fmt.Sprintf("How long does a refund take %d", j)); ok && a.Text != e.Answer {
			t.Errorf("stale answer %q, entry says %q", a.Text, e.Answer)
		}
	}
}

// TestBasePassageAnswers: AnswerAt never answers with a passage;
// AnswerWithPassages does when the passage is the more confident, and
// keeps to the FAQ entry otherwise. The two modes are cached apart, and a
// passage's removal drops its cached answers.
func TestBasePassageAnswers(t *testing.T) {
	b := baseForTest(t)
	b.UpsertPassage(Passage{ID: "p1", DocID: "d1", Title: "Zentrolix warranty", Text: "Every Zentrolix lantern has a two-year warranty."})
	q := "What warranty does the Zentrolix lantern have?"
	th := DefaultParams().Threshold
	if a, ok := b.AnswerAt(q, th); ok {
		t.Fatalf("FAQ-only answer %+v", a)
	}
	a, ok := b.AnswerWithPassages(q, th)
	want := Answer{Kind: KindPassage, PassageID: "p1", DocID: "d1", Title: "Zentrolix warranty", Text: "Every Zentrolix lantern has a two-year warranty."}
	if !ok || a.Confidence < th {
		t.Fatalf("passage answer %+v %v", a, ok)
	}
	a.Confidence = 0
	if a != want {
		t.Fatalf("passage answer %+v, want %+v", a, want)
	}
	if a, ok := b.AnswerWithPassages(q, th); !ok || !a.Cached || a.PassageID != "p1" {
		t.Fatalf("second passage answer %+v %v", a, ok)
	}
	if a, ok := b.AnswerAt(q, th); ok {
		t.Fatalf("FAQ-only answer after a cached passage answer: %+v", a)
	}
	// An FAQ question keeps its entry when passages may answer.
	if a, ok := b.AnswerWithPassages("How long does a refund take?", th); !ok || a.Kind != KindFAQ || a.EntryID != "refund-time" {
		t.Fatalf("FAQ question with passages: %+v %v", a, ok)
	}
	if err := b.RemovePassage("p1"); err != nil {
		t.Fatal(err)
	}
	if a, ok := b.AnswerWithPassages(q, th); ok {
		t.Fatalf("removed passage still answers: %+v", a)
	}
}
