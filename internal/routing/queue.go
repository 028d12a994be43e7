package routing

import (
	"cmp"
	"slices"
	"time"

	"github.com/kefu-chat/kefu/internal/kefu"
)

// PriorityRank maps a priority to its place in the queue: urgent 4, high
// 3, medium 2, low 1, and none 0. An empty or unknown priority ranks as
// none, so a bad value can never jump the queue.
func PriorityRank(p kefu.Priority) int {
	switch p {
	case kefu.PriorityUrgent:
		return 4
	case kefu.PriorityHigh:
		return 3
	case kefu.PriorityMedium:
		return 2
	case kefu.PriorityLow:
		return 1
	}
	return 0
}

// Compare is the queue order, a strict total order over requests with
// distinct conversation ids:
//  1. higher priority first (urgent > high > medium > low > none);
//  2. then earlier ArrivedAt (by instant, whatever the location);
//  3. then lower ConversationID, which is unique, so no two requests tie.
//
// It returns a negative number when a is served before b. The same order
// is what the store's queue query must use (ORDER BY priority rank DESC,
// arrived_at, id) so that a position shown to a visitor is the position
// the claim will honour.
func Compare(a, b Request) int {
	if c := cmp.Compare(PriorityRank(b.Priority), PriorityRank(a.Priority)); c != 0 {
		return c
	}
	if c := a.ArrivedAt.Compare(b.ArrivedAt); c != 0 {
		return c
	}
	return cmp.Compare(a.ConversationID, b.ConversationID)
}

// Sort puts queue in serving order, in place.
func Sort(queue []Request) { slices.SortFunc(queue, Compare) }

// Position returns the 1-based place of conversation id in the serving
// order of queue, or 0 when it is not queued. The queue need not be
// sorted: the position is one plus the number of requests ordered before
// it, found in one pass.
func Position(queue []Request, id int64) int {
	target := -1
	for i := range queue {
		if queue[i].ConversationID == id {
			target = i
			break
		}
	}
	if target < 0 {
		return 0
	}
	pos := 1
	for i := range queue {
		if i != target && Compare(queue[i], queue[target]) < 0 {
			pos++
		}
	}
	return pos
}

// Next returns the first request in serving order that agent may take,
// for when an agent frees a slot or comes online: the head of the queue is
// not always theirs to serve (it may need another team). It reports false
// when the agent may take none of them.
func Next(queue []Request, agent Candidate) (Request, bool) {
	best := -1
	for i := range queue {
		if !agent.Eligible(&queue[i]) {
			continue
		}
		if best < 0 || Compare(queue[i], queue[best]) < 0 {
			best = i
		}
	}
	if best < 0 {
		return Request{}, false
	}
	return queue[best], true
}

// DefaultWaitWindow is how many recent assignment intervals a
// WaitEstimator averages when built with a window of zero or less.
const DefaultWaitWindow = 20

// WaitEstimator estimates how long a queued visitor will wait, from a
// moving average of the intervals between recent assignments out of one
// queue. It keeps only the last window intervals, so it follows a shift
// change within minutes. It is not safe for concurrent use; keep one per
// queue under the owner's lock.
type WaitEstimator struct {
	window    int
	intervals []time.Duration // ring of the last window intervals
	next      int             // ring slot the next interval goes into
	sum       time.Duration
	last      time.Time // the latest assignment observed; zero: none
}

// NewWaitEstimator returns an estimator averaging the last window
// intervals (DefaultWaitWindow when window <= 0).
func NewWaitEstimator(window int) *WaitEstimator {
	if window <= 0 {
		window = DefaultWaitWindow
	}
	return &WaitEstimator{window: window}
}

// Observe records an assignment out of the queue at time at. An
// observation older than the latest one is ignored: reports from several
// nodes may arrive out of order, and a negative interval means nothing.
func (w *WaitEstimator) Observe(at time.Time) {
	if w.window <= 0 {
		w.window = DefaultWaitWindow
	}
	if w.last.IsZero() {
		w.last = at
		return
	}
	if at.Before(w.last) {
		return
	}
	d := at.Sub(w.last)
	w.last = at
	if len(w.intervals) < w.window {
		w.intervals = append(w.intervals, d)
	} else {
		w.sum -= w.intervals[w.next]
		w.intervals[w.next] = d
		w.next = (w.next + 1) % w.window
	}
	w.sum += d
}

// Estimate returns the expected wait of the visitor at position (1 is the
// head) at now: position times the average interval. The interval still
// open since the last assignment counts as one more sample once it is
// longer than the average, so a queue that has stopped moving does not
// keep promising a short wait. It reports false until two assignments have
// been observed, or for a position below 1.
func (w *WaitEstimator) Estimate(position int, now time.Time) (time.Duration, bool) {
	n := len(w.intervals)
	if n == 0 || position < 1 {
		return 0, false
	}
	avg := w.sum / time.Duration(n)
	if open := now.Sub(w.last); open > avg {
		avg = (w.sum + open) / time.Duration(n+1)
	}
	return avg * time.Duration(position), true
}
