package loadgen

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"sync/atomic"
	"time"
)

var idleScenario = &scenario{
	name:    "idle",
	summary: "hold N visitor connections open with heartbeats: connect rate, failures, server memory per connection",
	doc: `Creates --conns visitor sessions, samples the server's resident memory
(process_resident_memory_bytes on /metrics), opens one WebSocket per
session at --connect-rate, samples memory again once all are open, then
holds them for --hold with heartbeats and counts every drop.`,
	flags: func(fs *flag.FlagSet, c *Config) {
		fs.IntVar(&c.Conns, "conns", 1000, fmt.Sprintf("visitor connections to hold, all processes together (at most %d; over %d needs --procs)", maxTotalConns, maxConnsPerProc))
		fs.Float64Var(&c.ConnectRate, "connect-rate", 0, "new connections per second, all processes together (0: as fast as --concurrency allows)")
		fs.DurationVar(&c.Hold, "hold", 30*time.Second, "how long to hold the connections once all are open")
		fs.DurationVar(&c.Settle, "settle", 3*time.Second, "wait this long after the last connect before sampling memory")
	},
	check: func(c *Config) error {
		if c.Conns < 1 {
			return errors.New("--conns must be at least 1")
		}
		return nil
	},
	budget: func(c *Config) time.Duration {
		b := 2*setupBudget(c.Conns) + c.Hold + c.Settle
		if c.ConnectRate > 0 {
			b += time.Duration(float64(c.Conns) / c.ConnectRate * float64(time.Second))
		}
		return b
	},
	agents: func(*Config) int { return 0 },
	run:    runIdle,
	hook:   idleHook,
	finish: finishIdle,
}

func runIdle(ctx context.Context, e *Env) (*Result, error) {
	res := newResult("idle")
	n := e.share(e.cfg.Conns)
	first := e.offset(e.cfg.Conns)
	res.Counts["conns_wanted"] = int64(n)

	// Sessions first, so that the memory samples bracket only the sockets.
	e.stats.SetPhase("sessions")
	sessionLat := res.hist("session_create")
	tokens := make([]string, n)
	var sessFailed atomic.Int64
	start := time.Now()
	forEach(ctx, n, e.cfg.Concurrency, func(ctx context.Context, i int) error {
		t := time.Now()
		e.stats.HTTPRequests.Add(1)
		api := e.visitorNode(first + i).api
		s, err := api.VisitorSession(api.as(ctx, first+i), e.fx.InboxToken, fmt.Sprintf("%s idle %d", e.fx.Run, first+i))
		if err != nil {
			if ctx.Err() == nil {
				e.stats.HTTPFailed.Add(1)
				e.stats.Fail("visitor session: " + classifyHTTP(err))
				sessFailed.Add(1)
			}
			return nil
		}
		sessionLat.Record(time.Since(t))
		tokens[i] = s.Token
		return nil
	})
	res.duration("sessions", time.Since(start))
	res.Counts["sessions_failed"] = sessFailed.Load()
	if ctx.Err() != nil {
		return res, ctx.Err()
	}

	if err := e.barrier(ctx, "before"); err != nil {
		return res, err
	}

	e.stats.SetPhase("connecting")
	p := newPool(ctx, e.base, e.dialer, e.stats, e.cfg.Concurrency)
	defer p.closeAll()
	res.Latency["connect"] = p.connectLat
	perProc := e.cfg.ConnectRate * float64(n) / float64(e.cfg.Conns)
	var connected, failed atomic.Int64
	start = time.Now()
	forEach(ctx, n, e.cfg.Concurrency, func(ctx context.Context, i int) error {
		if tokens[i] == "" {
			return nil
		}
		if perProc > 0 {
			at := start.Add(time.Duration(float64(i) / perProc * float64(time.Second)))
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(time.Until(at)):
			}
		}
		c := p.newConnTo(e.visitorNode(first+i).ws, false, tokens[i], idleHandler{}, nil)
		if c.Connect(ctx) != nil {
			failed.Add(1)
			return nil
		}
		connected.Add(1)
		return nil
	})
	res.duration("connect", time.Since(start))
	res.Counts["connected"] = connected.Load()
	res.Counts["connect_failed"] = failed.Load()
	if ctx.Err() != nil {
		return res, ctx.Err()
	}

	// Let the server settle (buffers, GC) before the second memory sample.
	e.stats.SetPhase("settling")
	sleep(ctx, e.cfg.Settle)
	if err := e.barrier(ctx, "connected"); err != nil {
		return res, err
	}

	e.stats.SetPhase("holding")
	dropsBefore := e.stats.Disconnects.Load()
	start = time.Now()
	sleep(ctx, e.cfg.Hold)
	res.duration("hold", time.Since(start))
	res.Counts["dropped_during_hold"] = e.stats.Disconnects.Load() - dropsBefore
	res.Counts["open_at_end"] = e.stats.Open.Load()
	e.stats.SetPhase("closing")
	return res, nil
}

type idleHandler struct{}

func (idleHandler) Message(*Conn, *wireMessage, time.Time)                   {}
func (idleHandler) Conversation(*Conn, string, *wireConversation, time.Time) {}

// idleHook samples the memory of every server before and after the
// connections; the totals are the sums over the servers.
func idleHook(ctx context.Context, e *Env, name string, open int64, r *Result) {
	if r.Memory == nil {
		r.Memory = &Memory{}
		for _, n := range e.all {
			r.Memory.Servers = append(r.Memory.Servers, &ServerMemory{Server: n.base.String()})
		}
	}
	const rss, heap, stack = "process_resident_memory_bytes", "go_memstats_heap_inuse_bytes", "go_memstats_stack_inuse_bytes"
	for i, n := range e.all {
		m, err := n.api.Metrics(ctx, rss, heap, stack)
		if err == nil && m[rss] == 0 {
			err = errors.New("no process_resident_memory_bytes on /metrics")
		}
		if err != nil {
			r.Memory.Error = fmt.Sprintf("%s: %v", n.base, err)
			return
		}
		s := r.Memory.Servers[i]
		switch name {
		case "before":
			s.RSSBefore, s.GoBefore = m[rss], m[heap]+m[stack]
		case "connected":
			s.RSSAfter, s.GoAfter = m[rss], m[heap]+m[stack]
		}
	}
	if name == "connected" {
		r.Memory.ConnsAtAfter = open
	}
	r.Memory.sum()
}

func finishIdle(c *Config, r *Result) {
	if d := r.Durations["connect"]; d > 0 {
		r.Rates["connects"] = float64(r.Counts["connected"]) / d
	}
	if d := r.Durations["sessions"]; d > 0 {
		r.Rates["sessions"] = float64(r.Counts["conns_wanted"]-r.Counts["sessions_failed"]) / d
	}
	if m := r.Memory; m != nil && m.Error == "" && m.ConnsAtAfter > 0 {
		m.PerConn = (m.RSSAfter - m.RSSBefore) / float64(m.ConnsAtAfter)
		m.GoPerConn = (m.GoAfter - m.GoBefore) / float64(m.ConnsAtAfter)
		if m.PerConn < m.GoPerConn/2 {
			r.note("resident memory grew less than the Go heap and stacks: the server is reusing memory freed by an earlier run; restart it for a clean RSS figure")
		}
	}
	if n := r.Counts["sessions_failed"]; n > 0 {
		r.fail("%d visitor sessions could not be created", n)
	}
	if n := r.Counts["connect_failed"]; n > 0 {
		r.fail("%d of %d connections failed to open", n, r.Counts["conns_wanted"])
	}
	if n := r.Counts["dropped_during_hold"]; n > 0 {
		r.fail("%d connections dropped while held", n)
	}
	if got, want := r.Counts["open_at_end"], r.Counts["connected"]; got < want {
		r.fail("%d of %d connections still open at the end", got, want)
	}
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// classifyHTTP shortens a REST error for counting.
func classifyHTTP(err error) string {
	if s := statusOf(err); s != 0 {
		return fmt.Sprintf("HTTP %d", s)
	}
	return classify(err)
}
