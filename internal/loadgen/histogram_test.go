package loadgen

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"
)

func TestBucketsAreContiguous(t *testing.T) {
	prevHi := int64(-1)
	for i := range numBuckets {
		lo, hi := bucketBounds(i)
		if lo != prevHi+1 {
			t.Fatalf("bucket %d starts at %d, want %d", i, lo, prevHi+1)
		}
		if hi < lo {
			t.Fatalf("bucket %d: hi %d < lo %d", i, hi, lo)
		}
		if got := bucketOf(lo); got != i {
			t.Fatalf("bucketOf(%d) = %d, want %d", lo, got, i)
		}
		if got := bucketOf(hi); got != i {
			t.Fatalf("bucketOf(%d) = %d, want %d", hi, got, i)
		}
		prevHi = hi
	}
	if prevHi < maxValue {
		t.Fatalf("buckets end at %d, below maxValue %d", prevHi, maxValue)
	}
}

func TestQuantilesWithinOnePercent(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	h := NewHistogram()
	var vals []int64
	for range 100_000 {
		// Log-normal-ish spread from microseconds to seconds.
		v := int64(math.Exp(rng.NormFloat64()*2+13)) + 1
		vals = append(vals, v)
		h.RecordValue(v)
	}
	slices.Sort(vals)
	for _, q := range []float64{0.5, 0.9, 0.99, 0.999} {
		want := vals[int(math.Ceil(q*float64(len(vals))))-1]
		got := int64(h.Quantile(q))
		if rel := math.Abs(float64(got-want)) / float64(want); rel > 0.01 {
			t.Errorf("p%g = %d, want %d (±1%%), off by %.2f%%", q*100, got, want, rel*100)
		}
	}
	if got, want := int64(h.Max()), vals[len(vals)-1]; got != want {
		t.Errorf("max = %d, want %d", got, want)
	}
	if got, want := int64(h.Min()), vals[0]; got != want {
		t.Errorf("min = %d, want %d", got, want)
	}
	if got := h.Count(); got != int64(len(vals)) {
		t.Errorf("count = %d, want %d", got, len(vals))
	}
}

func TestSmallValuesAreExact(t *testing.T) {
	h := NewHistogram()
	for v := range int64(100) {
		h.RecordValue(v + 1)
	}
	if got := h.Quantile(0.5); got != 50 {
		t.Errorf("p50 = %d, want 50", got)
	}
	if got := h.Quantile(1); got != 100 {
		t.Errorf("p100 = %d, want 100", got)
	}
}

func TestClampsOutOfRange(t *testing.T) {
	h := NewHistogram()
	h.RecordValue(-5)
	h.Record(100 * time.Hour)
	if got := h.Min(); got != 0 {
		t.Errorf("min = %v, want 0", got)
	}
	if got := int64(h.Max()); got != maxValue {
		t.Errorf("max = %d, want %d", got, maxValue)
	}
}

func TestEmpty(t *testing.T) {
	h := NewHistogram()
	if h.Quantile(0.99) != 0 || h.Min() != 0 || h.Max() != 0 || h.Mean() != 0 {
		t.Errorf("empty histogram: got %+v", h.Summarize())
	}
}

func TestMergeAndJSONRoundTrip(t *testing.T) {
	a, b, all := NewHistogram(), NewHistogram(), NewHistogram()
	for i := range 1000 {
		v := time.Duration(i*i) * time.Microsecond
		if i%2 == 0 {
			a.Record(v)
		} else {
			b.Record(v)
		}
		all.Record(v)
	}
	// Ship b through JSON, as a worker process does, then merge.
	data, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	var b2 Histogram
	if err := json.Unmarshal(data, &b2); err != nil {
		t.Fatal(err)
	}
	a.Merge(&b2)
	if got, want := a.Summarize(), all.Summarize(); got != want {
		t.Errorf("merged summary\n got %+v\nwant %+v", got, want)
	}
}

func TestConcurrentRecord(t *testing.T) {
	h := NewHistogram()
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 10_000 {
				h.RecordValue(int64(g*10_000 + i + 1))
			}
		})
	}
	wg.Wait()
	if got := h.Count(); got != 80_000 {
		t.Errorf("count = %d, want 80000", got)
	}
	if got := h.Min(); got != 1 {
		t.Errorf("min = %d, want 1", got)
	}
	if got := h.Max(); got != 80_000 {
		t.Errorf("max = %d, want 80000", got)
	}
}
