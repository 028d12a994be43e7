package routing

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/kefu-chat/kefu/internal/kefu"
)

func req(id int64, p kefu.Priority, arrived time.Duration) Request {
	return Request{ConversationID: id, Priority: p, ArrivedAt: t0.Add(arrived)}
}

func ids(q []Request) []int64 {
	out := make([]int64, len(q))
	for i, r := range q {
		out[i] = r.ConversationID
	}
	return out
}

func TestPriorityRank(t *testing.T) {
	order := []kefu.Priority{kefu.PriorityUrgent, kefu.PriorityHigh, kefu.PriorityMedium, kefu.PriorityLow, kefu.PriorityNone}
	for i := 1; i < len(order); i++ {
		if PriorityRank(order[i-1]) <= PriorityRank(order[i]) {
			t.Errorf("%s does not rank above %s", order[i-1], order[i])
		}
	}
	for _, p := range []kefu.Priority{"", "critical", "URGENT"} {
		if PriorityRank(p) != PriorityRank(kefu.PriorityNone) {
			t.Errorf("unknown priority %q ranks %d, want none's", p, PriorityRank(p))
		}
	}
}

func TestSort(t *testing.T) {
	shanghai, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		queue []Request
		want  []int64
	}{
		{"empty", nil, []int64{}},
		{"arrival within one priority", []Request{req(3, "", 3), req(1, "", 1), req(2, "", 2)}, []int64{1, 2, 3}},
		{"priority before arrival", []Request{
			req(1, kefu.PriorityNone, 0), req(2, kefu.PriorityLow, 1), req(3, kefu.PriorityMedium, 2),
			req(4, kefu.PriorityHigh, 3), req(5, kefu.PriorityUrgent, 4)}, []int64{5, 4, 3, 2, 1}},
		{"id breaks arrival ties", []Request{req(9, kefu.PriorityHigh, 0), req(4, kefu.PriorityHigh, 0), req(6, kefu.PriorityHigh, 0)}, []int64{4, 6, 9}},
		{"empty priority is none", []Request{req(1, "", 0), req(2, kefu.PriorityNone, -1), req(3, kefu.PriorityLow, 5)}, []int64{3, 2, 1}},
		{"arrival compared as instants across zones", []Request{
			{ConversationID: 1, ArrivedAt: t0.In(shanghai)},          // 17:00 in Shanghai, same instant as t0
			{ConversationID: 2, ArrivedAt: t0.Add(-time.Nanosecond)}, // a nanosecond earlier, in UTC
		}, []int64{2, 1}},
		{"mixed", []Request{
			req(1, kefu.PriorityNone, 0), req(2, kefu.PriorityUrgent, 10), req(3, kefu.PriorityNone, -5),
			req(4, kefu.PriorityUrgent, 10), req(5, kefu.PriorityHigh, 0), req(6, kefu.PriorityUrgent, 1)},
			[]int64{6, 2, 4, 5, 3, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := slices.Clone(tt.queue)
			Sort(q)
			if got := ids(q); !slices.Equal(got, tt.want) {
				t.Fatalf("order = %v, want %v", got, tt.want)
			}
			for i, r := range q {
				if got := Position(tt.queue, r.ConversationID); got != i+1 {
					t.Errorf("Position(%d) = %d, want %d", r.ConversationID, got, i+1)
				}
			}
		})
	}
}

// TestCompareTotalOrder checks the order is strict and total on random
// queues: antisymmetric, transitive (via a sort that agrees with every
// pair), and never equal for distinct ids.
func TestCompareTotalOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	prios := []kefu.Priority{"", kefu.PriorityNone, kefu.PriorityLow, kefu.PriorityMedium, kefu.PriorityHigh, kefu.PriorityUrgent}
	q := make([]Request, 300)
	for i := range q {
		q[i] = req(int64(i+1), prios[rng.IntN(len(prios))], time.Duration(rng.IntN(20))*time.Second)
	}
	rng.Shuffle(len(q), func(i, j int) { q[i], q[j] = q[j], q[i] })
	for i := range q {
		for j := range q {
			c, r := Compare(q[i], q[j]), Compare(q[j], q[i])
			if i == j && c != 0 || i != j && (c == 0 || c != -r) {
				t.Fatalf("Compare(%+v, %+v) = %d, reverse %d", q[i], q[j], c, r)
			}
		}
	}
	Sort(q)
	for i := 1; i < len(q); i++ {
		if Compare(q[i-1], q[i]) >= 0 {
			t.Fatalf("sorted queue out of order at %d", i)
		}
	}
}

func TestPosition(t *testing.T) {
	q := []Request{req(1, "", 0), req(2, kefu.PriorityUrgent, 5), req(3, "", 1)}
	for _, tt := range []struct {
		id   int64
		want int
	}{{2, 1}, {1, 2}, {3, 3}, {99, 0}} {
		if got := Position(q, tt.id); got != tt.want {
			t.Errorf("Position(%d) = %d, want %d", tt.id, got, tt.want)
		}
	}
	if got := Position(nil, 1); got != 0 {
		t.Errorf("Position in empty queue = %d", got)
	}
	// The head is assigned: everyone moves up one.
	if got := Position(q[:1:1], 1); got != 1 {
		t.Errorf("after the head left, Position(1) = %d, want 1", got)
	}
}

func TestNext(t *testing.T) {
	q := []Request{
		{ConversationID: 1, Priority: kefu.PriorityUrgent, Team: 7, ArrivedAt: t0},
		{ConversationID: 2, ArrivedAt: t0.Add(time.Second)},
		{ConversationID: 3, Team: 8, ArrivedAt: t0},
		{ConversationID: 4, Priority: kefu.PriorityHigh, Team: 8, ArrivedAt: t0.Add(time.Minute)},
	}
	tests := []struct {
		name  string
		agent Candidate
		want  int64
	}{
		{"in every team: the head", with(agent(1, 0, 5), func(c *Candidate) { c.Teams = []int64{7, 8} }), 1},
		{"team 8 skips the urgent team 7 head", with(agent(1, 0, 5), func(c *Candidate) { c.Teams = []int64{8} }), 4},
		{"no team: only requests without one", agent(1, 0, 5), 2},
		{"full agent takes nothing", agent(1, 5, 5), 0},
		{"away agent takes nothing", with(agent(1, 0, 5), func(c *Candidate) { c.Away = true }), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := Next(q, tt.agent)
			if ok != (tt.want != 0) || got.ConversationID != tt.want {
				t.Fatalf("Next = %d, %v; want %d", got.ConversationID, ok, tt.want)
			}
		})
	}
}

func TestWaitEstimator(t *testing.T) {
	w := NewWaitEstimator(3)
	if _, ok := w.Estimate(1, t0); ok {
		t.Fatal("estimate with no data")
	}
	w.Observe(t0)
	if _, ok := w.Estimate(1, t0); ok {
		t.Fatal("estimate from one assignment: no interval yet")
	}
	steps := []struct {
		at   time.Duration // assignment time after t0
		want time.Duration // estimate for position 1 right after it
	}{
		{60 * time.Second, 60 * time.Second},  // intervals: 60
		{180 * time.Second, 90 * time.Second}, // 60, 120
		{210 * time.Second, 70 * time.Second}, // 60, 120, 30
		{240 * time.Second, 60 * time.Second}, // window drops the 60: 120, 30, 30
		{270 * time.Second, 30 * time.Second}, // 30, 30, 30
		{260 * time.Second, 30 * time.Second}, // out of order: ignored
	}
	for _, s := range steps {
		w.Observe(t0.Add(s.at))
		got, ok := w.Estimate(1, t0.Add(s.at))
		if !ok || got != s.want {
			t.Fatalf("after %v: Estimate(1) = %v, %v; want %v", s.at, got, ok, s.want)
		}
	}
	if got, _ := w.Estimate(4, t0.Add(270*time.Second)); got != 120*time.Second {
		t.Errorf("Estimate(4) = %v, want 4 x 30s", got)
	}
	if _, ok := w.Estimate(0, t0); ok {
		t.Error("estimate for position 0")
	}
	// The queue stalls: 10 minutes with no assignment. The open interval
	// joins the average: (30+30+30+600)/4 = 172.5s.
	if got, _ := w.Estimate(1, t0.Add(870*time.Second)); got != 172500*time.Millisecond {
		t.Errorf("stalled Estimate(1) = %v, want 2m52.5s", got)
	}
	// A short open interval does not pull the estimate down.
	if got, _ := w.Estimate(1, t0.Add(275*time.Second)); got != 30*time.Second {
		t.Errorf("Estimate(1) 5s after an assignment = %v, want 30s", got)
	}
}

func TestWaitEstimatorZeroValue(t *testing.T) {
	var w WaitEstimator
	for i := range DefaultWaitWindow + 5 {
		w.Observe(t0.Add(time.Duration(i) * time.Second))
	}
	if got, ok := w.Estimate(2, t0.Add(time.Duration(DefaultWaitWindow+4)*time.Second)); !ok || got != 2*time.Second {
		t.Fatalf("Estimate = %v, %v; want 2s", got, ok)
	}
	if len(w.intervals) != DefaultWaitWindow {
		t.Fatalf("kept %d intervals, want %d", len(w.intervals), DefaultWaitWindow)
	}
}

func benchQueue(n int) []Request {
	rng := rand.New(rand.NewPCG(3, 4))
	prios := []kefu.Priority{kefu.PriorityNone, kefu.PriorityNone, kefu.PriorityNone, kefu.PriorityLow, kefu.PriorityMedium, kefu.PriorityHigh, kefu.PriorityUrgent}
	q := make([]Request, n)
	for i := range q {
		q[i] = Request{ConversationID: int64(i + 1), Priority: prios[rng.IntN(len(prios))],
			ArrivedAt: t0.Add(time.Duration(rng.IntN(3600)) * time.Second), Team: int64(rng.IntN(4))}
	}
	return q
}

func BenchmarkQueue10000(b *testing.B) {
	q := benchQueue(10000)
	b.Run("Sort", func(b *testing.B) {
		work := make([]Request, len(q))
		for b.Loop() {
			copy(work, q)
			Sort(work)
		}
	})
	b.Run("Position", func(b *testing.B) {
		for b.Loop() {
			if Position(q, 5000) == 0 {
				b.Fatal("not queued")
			}
		}
	})
	b.Run("Next", func(b *testing.B) {
		a := Candidate{AgentID: 1, Online: true, Capacity: 5, Teams: []int64{2}}
		for b.Loop() {
			if _, ok := Next(q, a); !ok {
				b.Fatal("nothing for the agent")
			}
		}
	})
}
