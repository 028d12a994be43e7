package loadgen

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"
)

// Result is what a run found. Workers send theirs to the parent, which
// merges them: counts add up, phase durations take the longest worker,
// histograms merge bucket by bucket. Derived figures (rates, per-connection
// memory, pass or fail) are computed once, after the merge.
type Result struct {
	Scenario  string    `json:"scenario"`
	Server    string    `json:"server"`
	Run       string    `json:"run"`
	Procs     int       `json:"procs"`
	StartedAt time.Time `json:"started_at"`
	Wall      float64   `json:"wall_seconds"`
	Config    *Config   `json:"config,omitempty"`

	OK       bool     `json:"ok"`
	Failures []string `json:"failures"` // why the exit status is not 0
	Notes    []string `json:"notes,omitempty"`

	Counts    map[string]int64      `json:"counts"`            // summed over workers
	Durations map[string]float64    `json:"durations_seconds"` // longest worker
	Rates     map[string]float64    `json:"rates_per_second"`  // derived after merging
	Latency   map[string]*Histogram `json:"latency"`           // merged
	Memory    *Memory               `json:"memory,omitempty"`
	Verify    *VerifyResult         `json:"verify,omitempty"`
	Steps     []*Step               `json:"steps,omitempty"` // throughput ramp, by index
	Stats     Snapshot              `json:"stats"`
}

// Memory is the server's resident memory around the idle connections.
type Memory struct {
	RSSBefore    float64 `json:"rss_before_bytes"`
	RSSAfter     float64 `json:"rss_after_bytes"`
	ConnsAtAfter int64   `json:"conns_at_after"`
	PerConn      float64 `json:"per_conn_bytes"`
	// Go heap and goroutine stacks in use: live memory, unaffected by
	// memory the runtime keeps after an earlier run.
	GoBefore  float64 `json:"go_inuse_before_bytes"`
	GoAfter   float64 `json:"go_inuse_after_bytes"`
	GoPerConn float64 `json:"go_inuse_per_conn_bytes"`
	Error     string  `json:"error,omitempty"`
	// Each server's samples, when the run has several (--servers); the
	// figures above are their sums.
	Servers []*ServerMemory `json:"servers,omitempty"`
}

// ServerMemory is one server's samples.
type ServerMemory struct {
	Server    string  `json:"server"`
	RSSBefore float64 `json:"rss_before_bytes"`
	RSSAfter  float64 `json:"rss_after_bytes"`
	GoBefore  float64 `json:"go_inuse_before_bytes"`
	GoAfter   float64 `json:"go_inuse_after_bytes"`
}

// sum totals the servers' samples.
func (m *Memory) sum() {
	m.RSSBefore, m.RSSAfter, m.GoBefore, m.GoAfter = 0, 0, 0, 0
	for _, s := range m.Servers {
		m.RSSBefore += s.RSSBefore
		m.RSSAfter += s.RSSAfter
		m.GoBefore += s.GoBefore
		m.GoAfter += s.GoAfter
	}
}

// VerifyResult is the verifier's verdict.
type VerifyResult struct {
	Delivered  int64    `json:"delivered"`
	Lost       int64    `json:"lost"`
	Duplicates int64    `json:"duplicates"`
	Reordered  int64    `json:"reordered"`
	Mismatched int64    `json:"mismatched"`
	Unacked    int64    `json:"unacked"`
	Retried    int64    `json:"retried"`
	Problems   []string `json:"problems,omitempty"`
}

func (v *Verifier) result() *VerifyResult {
	return &VerifyResult{
		Delivered: v.Delivered.Load(), Lost: v.Lost.Load(), Duplicates: v.Duplicates.Load(), Reordered: v.Reordered.Load(),
		Mismatched: v.Mismatched.Load(), Unacked: v.Unacked.Load(), Retried: v.Retried.Load(), Problems: v.Problems(),
	}
}

func (a *VerifyResult) add(b *VerifyResult) {
	a.Delivered += b.Delivered
	a.Lost += b.Lost
	a.Duplicates += b.Duplicates
	a.Reordered += b.Reordered
	a.Mismatched += b.Mismatched
	a.Unacked += b.Unacked
	a.Retried += b.Retried
	for _, p := range b.Problems {
		if len(a.Problems) < maxProblems {
			a.Problems = append(a.Problems, p)
		}
	}
}

// Step is one rate of the throughput ramp.
type Step struct {
	Target  float64    `json:"target_per_second"`
	Seconds float64    `json:"seconds"`
	Sent    int64      `json:"sent"`
	Acked   int64      `json:"acked"`
	Errors  int64      `json:"errors"`
	Ack     *Histogram `json:"ack_latency"`
	// Derived after merging:
	AckedRate float64 `json:"acked_per_second"`
	Passed    bool    `json:"passed"`
	Why       string  `json:"why,omitempty"`
	Workers   int     `json:"workers"`
}

func newResult(scenario string) *Result {
	return &Result{Scenario: scenario, Counts: map[string]int64{}, Durations: map[string]float64{},
		Rates: map[string]float64{}, Latency: map[string]*Histogram{}, Failures: []string{}}
}

func (r *Result) fail(format string, args ...any) {
	r.Failures = append(r.Failures, fmt.Sprintf(format, args...))
}

func (r *Result) note(format string, args ...any) {
	r.Notes = append(r.Notes, fmt.Sprintf(format, args...))
}

// hist returns the named histogram, creating it.
func (r *Result) hist(name string) *Histogram {
	h := r.Latency[name]
	if h == nil {
		h = NewHistogram()
		r.Latency[name] = h
	}
	return h
}

func (r *Result) duration(name string, d time.Duration) { r.Durations[name] = d.Seconds() }

// merge adds worker result o into r.
func (r *Result) merge(o *Result) {
	if r.Run == "" {
		r.Run = o.Run
	}
	r.Failures = append(r.Failures, o.Failures...)
	for _, n := range o.Notes {
		if !slices.Contains(r.Notes, n) {
			r.Notes = append(r.Notes, n)
		}
	}
	for k, v := range o.Counts {
		r.Counts[k] += v
	}
	for k, v := range o.Durations {
		r.Durations[k] = max(r.Durations[k], v)
	}
	for k, h := range o.Latency {
		r.hist(k).Merge(h)
	}
	if o.Memory != nil {
		r.Memory = o.Memory
	}
	if o.Verify != nil {
		if r.Verify == nil {
			r.Verify = &VerifyResult{}
		}
		r.Verify.add(o.Verify)
	}
	for i, s := range o.Steps {
		for len(r.Steps) <= i {
			r.Steps = append(r.Steps, &Step{Ack: NewHistogram()})
		}
		t := r.Steps[i]
		t.Target += s.Target
		t.Seconds = max(t.Seconds, s.Seconds)
		t.Sent += s.Sent
		t.Acked += s.Acked
		t.Errors += s.Errors
		t.Ack.Merge(s.Ack)
		t.Workers++
	}
	r.Stats.Add(o.Stats)
}

// verdict adds the verifier's findings to the failures.
func (r *Result) verdict() {
	v := r.Verify
	if v == nil {
		return
	}
	if n := v.Lost + v.Duplicates + v.Reordered + v.Mismatched; n > 0 {
		r.fail("delivery check failed: %d lost, %d duplicated, %d out of order, %d ack/delivery mismatches", v.Lost, v.Duplicates, v.Reordered, v.Mismatched)
	}
	if v.Unacked > 0 {
		r.fail("%d sends were never acknowledged", v.Unacked)
	}
}

// writeJSON prints the result as indented JSON.
func (r *Result) writeJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// writeSummary prints the result for people.
func (r *Result) writeSummary(w io.Writer) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }
	status := "PASS"
	if !r.OK {
		status = "FAIL"
	}
	p("")
	p("kefu-loadgen %s against %s — %s (run %s, %d process(es), %.1fs)", r.Scenario, r.Server, status, r.Run, r.Procs, r.Wall)
	if len(r.Counts) > 0 {
		p("  counts:")
		for _, k := range slices.Sorted(maps.Keys(r.Counts)) {
			p("    %-28s %d", k, r.Counts[k])
		}
	}
	if len(r.Durations) > 0 {
		p("  durations:")
		for _, k := range slices.Sorted(maps.Keys(r.Durations)) {
			p("    %-28s %.3fs", k, r.Durations[k])
		}
	}
	if len(r.Rates) > 0 {
		p("  rates:")
		for _, k := range slices.Sorted(maps.Keys(r.Rates)) {
			p("    %-28s %.1f/s", k, r.Rates[k])
		}
	}
	if m := r.Memory; m != nil {
		p("  server memory:")
		if m.Error != "" {
			p("    could not read /metrics: %s", m.Error)
		} else {
			if len(m.Servers) > 1 {
				for _, s := range m.Servers {
					p("    %s: RSS before %.1f MiB, after %.1f MiB (+%.1f MiB)", s.Server,
						s.RSSBefore/(1<<20), s.RSSAfter/(1<<20), (s.RSSAfter-s.RSSBefore)/(1<<20))
				}
				p("    all %d servers:", len(m.Servers))
			}
			p("    RSS before %.1f MiB, after %.1f MiB with %d connections: %.1f KiB per connection",
				m.RSSBefore/(1<<20), m.RSSAfter/(1<<20), m.ConnsAtAfter, m.PerConn/1024)
			if m.GoAfter > 0 {
				p("    Go heap+stacks in use before %.1f MiB, after %.1f MiB: %.1f KiB per connection",
					m.GoBefore/(1<<20), m.GoAfter/(1<<20), m.GoPerConn/1024)
			}
		}
	}
	if len(r.Latency) > 0 {
		p("  latency (ms)                            count      p50      p90      p99    p99.9      max")
		for _, k := range slices.Sorted(maps.Keys(r.Latency)) {
			s := r.Latency[k].Summarize()
			if s.Count == 0 {
				continue
			}
			p("    %-34s %9d %8.2f %8.2f %8.2f %8.2f %8.2f", k, s.Count, s.P50, s.P90, s.P99, s.P999, s.Max)
		}
	}
	if len(r.Steps) > 0 {
		p("  ramp:      target/s   acked/s     sent    acked  ack p50  ack p99  verdict")
		for _, s := range r.Steps {
			sum := s.Ack.Summarize()
			v := "ok"
			if !s.Passed {
				v = "FAIL " + s.Why
			}
			p("    %12.0f %9.0f %8d %8d %8.2f %8.2f  %s", s.Target, s.AckedRate, s.Sent, s.Acked, sum.P50, sum.P99, v)
		}
	}
	if v := r.Verify; v != nil {
		p("  delivery: %d delivered, %d lost, %d duplicated, %d out of order, %d mismatched, %d unacked, %d retried",
			v.Delivered, v.Lost, v.Duplicates, v.Reordered, v.Mismatched, v.Unacked, v.Retried)
		for _, pr := range v.Problems {
			p("    ! %s", pr)
		}
	}
	s := r.Stats
	p("  connections: %d ok, %d failed, %d dropped, %d cut, %d reconnected; frames: %d sent, %d acked (%d duplicate), %d messages received, %d errors",
		s.ConnectOK, s.ConnectFailed, s.Disconnects, s.Cuts, s.Reconnects, s.Sent, s.Acked, s.DuplicateAcks, s.Received, s.ErrorFrames)
	if rs := topReasons(s.Reasons, 10); len(rs) > 0 {
		p("  failures seen: %s", strings.Join(rs, "; "))
	}
	for _, n := range r.Notes {
		p("  note: %s", n)
	}
	for _, f := range r.Failures {
		p("  FAIL: %s", f)
	}
}
