package bot

import (
	"context"
	"errors"
	"sort"
	"sync"
	"time"
)

// Question is one visitor turn put to the answer sources.
type Question struct {
	WorkspaceID    int64
	InboxID        int64
	ConversationID int64
	ContactID      int64
	ContactName    string
	ContactEmail   string
	Text           string
	// Threshold is the inbox's minimum knowledge-base confidence; 0: the
	// index default.
	Threshold float64
	// Delta, if set, receives streamed pieces of an answer while it is
	// produced. The pipeline gates it: a source's pieces are passed on
	// only once every higher-priority source has finished without an
	// answer, so the visitor never sees the start of an answer that loses.
	Delta func(source, text string)
}

// Reply is a source's answer.
type Reply struct {
	Text       string
	Confidence float64
	// Handoff asks for a person instead of (or after) Text.
	Handoff bool
	// Intent names the recognised intent, if any.
	Intent string
	// Meta is copied into the bot message's meta.
	Meta map[string]any
	// Detail is recorded in the decision (not shown to the visitor):
	// e.g. a language model's token usage.
	Detail map[string]any
}

// Skipped is returned by a source that did not run, e.g. a language
// model whose daily token cap is reached; the decision records it as
// "skipped" with the reason.
type Skipped struct{ Reason string }

func (s *Skipped) Error() string { return "skipped: " + s.Reason }

// Source answers questions. Answer returns (nil, nil) when it has nothing
// to say; it must return promptly once ctx is done.
type Source interface {
	Name() string
	// Priority orders sources: the highest valid answer wins.
	Priority() int
	Answer(ctx context.Context, q Question) (*Reply, error)
}

// Attempt is what one source did for one question, for the decision record.
type Attempt struct {
	Source     string  `json:"source"`
	Priority   int     `json:"priority"`
	Outcome    string  `json:"outcome"` // answer, none, error, skipped, timeout, cancelled
	Confidence float64 `json:"confidence,omitempty"`
	Error      string  `json:"error,omitempty"`
	Millis     int64   `json:"ms"`
}

// Result is the pipeline's decision.
type Result struct {
	Winner   string // source name; empty when nobody answered
	Reply    *Reply
	Attempts []Attempt
}

type outcome struct {
	i     int
	reply *Reply
	err   error
	d     time.Duration
}

// Run asks every source in parallel under one deadline and returns the
// highest-priority valid answer. A source outranked by one still running
// is not accepted early: the pipeline waits for the better one until it
// answers, gives up, or the deadline passes. Every source's goroutine
// gets a context that is cancelled when Run returns, and the result
// channel is buffered so none of them blocks on sending: a source that
// honours its context cannot leak.
func Run(ctx context.Context, sources []Source, q Question, deadline time.Duration) Result {
	ctx, cancel := context.WithTimeout(ctx, deadline)
	defer cancel()
	order := make([]int, len(sources))
	for i := range order {
		order[i] = i
	}
	// Stable by priority, highest first; ties keep configuration order.
	sort.SliceStable(order, func(a, b int) bool { return sources[order[a]].Priority() > sources[order[b]].Priority() })

	names := make([]string, len(sources))
	for i, s := range sources {
		names[i] = s.Name()
	}
	g := newGate(names, order, q.Delta)
	results := make(chan outcome, len(sources))
	start := time.Now()
	for i, s := range sources {
		sq := q
		if q.Delta != nil {
			sq.Delta = func(_, text string) { g.emit(i, text) }
		}
		go func() {
			r, err := s.Answer(ctx, sq)
			results <- outcome{i: i, reply: r, err: err, d: time.Since(start)}
		}()
	}

	done := make([]*outcome, len(sources))
	for pending := len(sources); pending > 0; pending-- {
		select {
		case o := <-results:
			done[o.i] = &o
			g.finished(o.i, valid(o))
			if best, ok := decided(sources, order, done); ok {
				return record(sources, done, best, "cancelled")
			}
		case <-ctx.Done():
			best, _ := bestSoFar(order, done)
			return record(sources, done, best, "timeout")
		}
	}
	best, _ := bestSoFar(order, done)
	return record(sources, done, best, "")
}

func valid(o outcome) bool {
	return o.err == nil && o.reply != nil && (o.reply.Text != "" || o.reply.Handoff)
}

// decided reports whether the answer can be chosen now: walking sources
// from the highest priority, the first valid answer wins once every source
// ranked above it has finished without one.
func decided(sources []Source, order []int, done []*outcome) (int, bool) {
	for _, i := range order {
		o := done[i]
		if o == nil {
			return -1, false
		}
		if valid(*o) {
			return i, true
		}
	}
	return -1, true
}

// bestSoFar returns the highest-priority valid answer among finished
// sources (at the deadline, or once all are done).
func bestSoFar(order []int, done []*outcome) (int, bool) {
	for _, i := range order {
		if o := done[i]; o != nil && valid(*o) {
			return i, true
		}
	}
	return -1, false
}

// record builds the decision; unfinished sources are marked with
// unfinished ("timeout" at the deadline, "cancelled" when a better answer
// made them moot).
func record(sources []Source, done []*outcome, best int, unfinished string) Result {
	res := Result{}
	for i, s := range sources {
		a := Attempt{Source: s.Name(), Priority: s.Priority()}
		o := done[i]
		switch {
		case o == nil:
			a.Outcome = unfinished
		case errors.As(o.err, new(*Skipped)):
			var sk *Skipped
			errors.As(o.err, &sk)
			a.Outcome, a.Error = "skipped", sk.Reason
		case o.err != nil:
			a.Outcome, a.Error, a.Millis = "error", o.err.Error(), o.d.Milliseconds()
		case valid(*o):
			a.Outcome, a.Confidence, a.Millis = "answer", o.reply.Confidence, o.d.Milliseconds()
		default:
			a.Outcome, a.Millis = "none", o.d.Milliseconds()
		}
		res.Attempts = append(res.Attempts, a)
	}
	if best >= 0 {
		res.Winner, res.Reply = sources[best].Name(), done[best].reply
	}
	return res
}

// gate holds back streamed pieces of a source until every source ranked
// above it has finished without an answer.
type gate struct {
	mu    sync.Mutex
	out   func(source, text string)
	names []string // by source index
	rank  []int    // source index -> position in priority order
	order []int
	empty []bool // by source index: finished without an answer
	buf   [][]string
}

func newGate(names []string, order []int, out func(string, string)) *gate {
	g := &gate{out: out, names: names, order: order, rank: make([]int, len(names)), empty: make([]bool, len(names)),
		buf: make([][]string, len(names))}
	for pos, i := range order {
		g.rank[i] = pos
	}
	return g
}

// leader reports whether every source ranked above i finished empty.
func (g *gate) leader(i int) bool {
	for _, j := range g.order[:g.rank[i]] {
		if !g.empty[j] {
			return false
		}
	}
	return true
}

func (g *gate) emit(i int, text string) {
	if g.out == nil {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.leader(i) {
		g.buf[i] = append(g.buf[i], text)
		return
	}
	g.flushLocked(i)
	g.out(g.names[i], text)
}

func (g *gate) flushLocked(i int) {
	for _, t := range g.buf[i] {
		g.out(g.names[i], t)
	}
	g.buf[i] = nil
}

// finished notes that source i is done; if it had no answer, the pieces
// the source that now leads buffered meanwhile are released (it may have
// streamed its whole answer while a higher source was still thinking).
func (g *gate) finished(i int, answered bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if answered {
		return
	}
	g.empty[i] = true
	if g.out == nil {
		return
	}
	for _, j := range g.order {
		if !g.leader(j) {
			return
		}
		if len(g.buf[j]) > 0 {
			g.flushLocked(j)
		}
		if !g.empty[j] {
			return
		}
	}
}
