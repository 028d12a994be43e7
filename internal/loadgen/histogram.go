package loadgen

import (
	"encoding/json"
	"math"
	"math/bits"
	"sync/atomic"
	"time"
)

// Histogram records durations in a log-linear bucket layout (the idea of
// HdrHistogram, much simplified): values below 2^subBits nanoseconds get a
// bucket each, and every power of two above that is split into 2^subBits
// equal buckets, so a reported percentile is within 1/2^subBits (0.8%) of
// the true value. Memory is fixed (~37 KiB) whatever the number of samples,
// and Record is lock-free so every connection can share one histogram.
type Histogram struct {
	counts [numBuckets]atomic.Int64
	n      atomic.Int64
	sum    atomic.Int64
	min    atomic.Int64 // valid when n > 0
	max    atomic.Int64
}

const (
	subBits    = 7
	subCount   = 1 << subBits
	maxValue   = int64(1)<<42 - 1 // ~73 minutes: anything longer is clamped
	numBuckets = (42-subBits+1)*subCount + 1
)

// NewHistogram returns an empty histogram.
func NewHistogram() *Histogram {
	h := &Histogram{}
	h.min.Store(math.MaxInt64)
	return h
}

func bucketOf(v int64) int {
	if v < subCount {
		return int(v)
	}
	e := bits.Len64(uint64(v)) - subBits - 1 // v>>e is in [subCount, 2*subCount)
	return (e+1)*subCount + int(v>>e) - subCount
}

// bucketBounds returns the smallest and largest value bucket i holds.
func bucketBounds(i int) (lo, hi int64) {
	if i < subCount {
		return int64(i), int64(i)
	}
	e := i/subCount - 1
	m := int64(i%subCount + subCount)
	return m << e, (m+1)<<e - 1
}

// Record adds one duration; negative values count as zero.
func (h *Histogram) Record(d time.Duration) { h.RecordValue(int64(d)) }

// RecordValue adds one value in nanoseconds.
func (h *Histogram) RecordValue(v int64) {
	v = max(0, min(v, maxValue))
	h.counts[bucketOf(v)].Add(1)
	h.n.Add(1)
	h.sum.Add(v)
	lower(&h.min, v)
	raise(&h.max, v)
}

func lower(a *atomic.Int64, v int64) {
	for cur := a.Load(); v < cur && !a.CompareAndSwap(cur, v); cur = a.Load() {
	}
}

func raise(a *atomic.Int64, v int64) {
	for cur := a.Load(); v > cur && !a.CompareAndSwap(cur, v); cur = a.Load() {
	}
}

// Count is the number of values recorded.
func (h *Histogram) Count() int64 { return h.n.Load() }

// Max is the largest value recorded (0 if none).
func (h *Histogram) Max() time.Duration { return time.Duration(h.max.Load()) }

// Min is the smallest value recorded (0 if none).
func (h *Histogram) Min() time.Duration {
	if h.n.Load() == 0 {
		return 0
	}
	return time.Duration(h.min.Load())
}

// Mean is the average of the values recorded.
func (h *Histogram) Mean() time.Duration {
	n := h.n.Load()
	if n == 0 {
		return 0
	}
	return time.Duration(h.sum.Load() / n)
}

// Quantile returns the value at quantile q in [0,1]: the midpoint of the
// bucket holding the ceil(q*n)-th smallest value, clamped to [min,max].
func (h *Histogram) Quantile(q float64) time.Duration {
	n := h.n.Load()
	if n == 0 {
		return 0
	}
	rank := int64(math.Ceil(q * float64(n)))
	rank = max(1, min(rank, n))
	var seen int64
	for i := range h.counts {
		seen += h.counts[i].Load()
		if seen >= rank {
			lo, hi := bucketBounds(i)
			v := lo + (hi-lo)/2
			v = max(h.min.Load(), min(v, h.max.Load()))
			return time.Duration(v)
		}
	}
	return h.Max()
}

// Merge adds every value of o into h.
func (h *Histogram) Merge(o *Histogram) {
	if o == nil || o.n.Load() == 0 {
		return
	}
	for i := range o.counts {
		if c := o.counts[i].Load(); c != 0 {
			h.counts[i].Add(c)
		}
	}
	h.n.Add(o.n.Load())
	h.sum.Add(o.sum.Load())
	lower(&h.min, o.min.Load())
	raise(&h.max, o.max.Load())
}

// Summary is the part of a histogram people read: milliseconds.
type Summary struct {
	Count int64   `json:"count"`
	Min   float64 `json:"min_ms"`
	Mean  float64 `json:"mean_ms"`
	P50   float64 `json:"p50_ms"`
	P90   float64 `json:"p90_ms"`
	P99   float64 `json:"p99_ms"`
	P999  float64 `json:"p999_ms"`
	Max   float64 `json:"max_ms"`
}

func ms(d time.Duration) float64 { return math.Round(float64(d)/1e3) / 1e3 }

// Summarize returns count, min, mean, p50, p90, p99, p99.9 and max.
func (h *Histogram) Summarize() Summary {
	return Summary{
		Count: h.Count(), Min: ms(h.Min()), Mean: ms(h.Mean()),
		P50: ms(h.Quantile(0.50)), P90: ms(h.Quantile(0.90)), P99: ms(h.Quantile(0.99)),
		P999: ms(h.Quantile(0.999)), Max: ms(h.Max()),
	}
}

// histogramJSON carries the summary for readers and the sparse buckets so
// that a parent process can merge its workers' histograms exactly.
type histogramJSON struct {
	Summary
	Sum     int64      `json:"sum_ns"`
	MinNS   int64      `json:"min_ns"`
	MaxNS   int64      `json:"max_ns"`
	Buckets [][2]int64 `json:"buckets,omitempty"` // [bucket index, count]
}

func (h *Histogram) MarshalJSON() ([]byte, error) {
	j := histogramJSON{Summary: h.Summarize(), Sum: h.sum.Load(), MinNS: int64(h.Min()), MaxNS: h.max.Load()}
	for i := range h.counts {
		if c := h.counts[i].Load(); c != 0 {
			j.Buckets = append(j.Buckets, [2]int64{int64(i), c})
		}
	}
	return json.Marshal(j)
}

func (h *Histogram) UnmarshalJSON(b []byte) error {
	var j histogramJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	fresh := NewHistogram()
	var n int64
	for _, bc := range j.Buckets {
		if bc[0] < 0 || bc[0] >= numBuckets || bc[1] < 0 {
			continue
		}
		fresh.counts[bc[0]].Store(bc[1])
		n += bc[1]
	}
	fresh.n.Store(n)
	fresh.sum.Store(j.Sum)
	if n > 0 {
		fresh.min.Store(j.MinNS)
		fresh.max.Store(j.MaxNS)
	}
	h.Reset()
	h.Merge(fresh)
	return nil
}

// Reset empties the histogram. It is not atomic with respect to concurrent
// Record calls; use it between phases.
func (h *Histogram) Reset() {
	for i := range h.counts {
		h.counts[i].Store(0)
	}
	h.n.Store(0)
	h.sum.Store(0)
	h.min.Store(math.MaxInt64)
	h.max.Store(0)
}
