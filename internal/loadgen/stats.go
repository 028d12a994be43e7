package loadgen

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
)

// Stats are the live counters of one process. Workers send snapshots to
// their parent once a second, which sums them for the progress line.
type Stats struct {
	Open            atomic.Int64 // connections open now
	ConnectOK       atomic.Int64 // successful connects, first or re-
	ConnectFailed   atomic.Int64 // failed connect attempts
	Disconnects     atomic.Int64 // connections the server or network closed
	Cuts            atomic.Int64 // connections the load generator cut on purpose
	Reconnects      atomic.Int64 // successful connects after a drop or cut
	Sent            atomic.Int64 // send frames written (retries included)
	Acked           atomic.Int64 // acks received (duplicate acks included)
	DuplicateAcks   atomic.Int64 // acks with "duplicate":true
	Received        atomic.Int64 // message frames received
	Conversations   atomic.Int64 // conversation frames received
	Resumed         atomic.Int64 // resumed frames received
	ErrorFrames     atomic.Int64 // error frames received
	HTTPRequests    atomic.Int64
	HTTPFailed      atomic.Int64
	ScheduledBehind atomic.Int64 // sends made later than scheduled (open-loop lag)

	mu      sync.Mutex
	reasons map[string]int64 // failure reason -> count (bounded)
	phase   atomic.Pointer[string]
}

func newStats() *Stats {
	s := &Stats{reasons: map[string]int64{}}
	s.SetPhase("setup")
	return s
}

// maxReasons bounds the distinct failure reasons kept; the rest are
// folded into "other".
const maxReasons = 40

// Fail counts a failure under a short reason, e.g. "connect: HTTP 429"
// or "error frame: rate_limited".
func (s *Stats) Fail(reason string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.reasons[reason]; !ok && len(s.reasons) >= maxReasons {
		reason = "other"
	}
	s.reasons[reason]++
}

// Reasons returns the failure counts.
func (s *Stats) Reasons() map[string]int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.reasons)
}

// SetPhase names what the process is doing, for the progress line.
func (s *Stats) SetPhase(p string) { s.phase.Store(&p) }

// Snapshot is a plain copy of Stats, for JSON and sums.
type Snapshot struct {
	Phase           string           `json:"phase"`
	Open            int64            `json:"open"`
	ConnectOK       int64            `json:"connect_ok"`
	ConnectFailed   int64            `json:"connect_failed"`
	Disconnects     int64            `json:"disconnects"`
	Cuts            int64            `json:"cuts"`
	Reconnects      int64            `json:"reconnects"`
	Sent            int64            `json:"sent"`
	Acked           int64            `json:"acked"`
	DuplicateAcks   int64            `json:"duplicate_acks"`
	Received        int64            `json:"received"`
	Conversations   int64            `json:"conversation_frames"`
	Resumed         int64            `json:"resumed"`
	ErrorFrames     int64            `json:"error_frames"`
	HTTPRequests    int64            `json:"http_requests"`
	HTTPFailed      int64            `json:"http_failed"`
	ScheduledBehind int64            `json:"scheduled_behind"`
	Reasons         map[string]int64 `json:"failures,omitempty"`
}

func (s *Stats) Snapshot() Snapshot {
	return Snapshot{
		Phase: *s.phase.Load(), Open: s.Open.Load(), ConnectOK: s.ConnectOK.Load(), ConnectFailed: s.ConnectFailed.Load(),
		Disconnects: s.Disconnects.Load(), Cuts: s.Cuts.Load(), Reconnects: s.Reconnects.Load(),
		Sent: s.Sent.Load(), Acked: s.Acked.Load(), DuplicateAcks: s.DuplicateAcks.Load(), Received: s.Received.Load(),
		Conversations: s.Conversations.Load(), Resumed: s.Resumed.Load(), ErrorFrames: s.ErrorFrames.Load(),
		HTTPRequests: s.HTTPRequests.Load(), HTTPFailed: s.HTTPFailed.Load(), ScheduledBehind: s.ScheduledBehind.Load(),
		Reasons: s.Reasons(),
	}
}

// Add sums o into s (the phase of the first non-empty wins).
func (s *Snapshot) Add(o Snapshot) {
	if s.Phase == "" {
		s.Phase = o.Phase
	}
	s.Open += o.Open
	s.ConnectOK += o.ConnectOK
	s.ConnectFailed += o.ConnectFailed
	s.Disconnects += o.Disconnects
	s.Cuts += o.Cuts
	s.Reconnects += o.Reconnects
	s.Sent += o.Sent
	s.Acked += o.Acked
	s.DuplicateAcks += o.DuplicateAcks
	s.Received += o.Received
	s.Conversations += o.Conversations
	s.Resumed += o.Resumed
	s.ErrorFrames += o.ErrorFrames
	s.HTTPRequests += o.HTTPRequests
	s.HTTPFailed += o.HTTPFailed
	s.ScheduledBehind += o.ScheduledBehind
	if len(o.Reasons) > 0 && s.Reasons == nil {
		s.Reasons = map[string]int64{}
	}
	for k, v := range o.Reasons {
		s.Reasons[k] += v
	}
}

// progressLine renders one line for stderr; prev is the snapshot one
// second earlier, for rates.
func progressLine(scenario string, elapsed float64, cur, prev Snapshot) string {
	var b strings.Builder
	phase := cur.Phase
	if phase == "" {
		phase = "starting"
	}
	fmt.Fprintf(&b, "[%s %5.0fs %s] conns %d", scenario, elapsed, phase, cur.Open)
	if cur.ConnectFailed > 0 {
		fmt.Fprintf(&b, " (failed %d)", cur.ConnectFailed)
	}
	if d := cur.ConnectOK - prev.ConnectOK; d > 0 {
		fmt.Fprintf(&b, " +%d/s", d)
	}
	if cur.Sent > 0 || cur.Received > 0 {
		fmt.Fprintf(&b, " | sent %d (%d/s) acked %d (%d/s) recv %d (%d/s)",
			cur.Sent, cur.Sent-prev.Sent, cur.Acked, cur.Acked-prev.Acked, cur.Received, cur.Received-prev.Received)
	}
	if cur.Disconnects > 0 || cur.Reconnects > 0 {
		fmt.Fprintf(&b, " | drops %d reconn %d", cur.Disconnects, cur.Reconnects)
	}
	if cur.ErrorFrames > 0 {
		fmt.Fprintf(&b, " | errors %d", cur.ErrorFrames)
	}
	if cur.HTTPFailed > 0 {
		fmt.Fprintf(&b, " | http failed %d", cur.HTTPFailed)
	}
	return b.String()
}

// topReasons formats the most frequent failure reasons.
func topReasons(m map[string]int64, n int) []string {
	keys := slices.Collect(maps.Keys(m))
	slices.SortFunc(keys, func(a, b string) int {
		if m[a] != m[b] {
			return int(m[b] - m[a])
		}
		return strings.Compare(a, b)
	})
	var out []string
	for i, k := range keys {
		if i == n {
			break
		}
		out = append(out, fmt.Sprintf("%d× %s", m[k], k))
	}
	return out
}
