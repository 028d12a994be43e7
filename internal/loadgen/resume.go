package loadgen

import (
	"context"
	"errors"
	"flag"
	"sync/atomic"
	"time"
)

var resumeScenario = &scenario{
	name:    "resume",
	summary: "resume storm: cut every connection at once while messages flow; time to full recovery, no gap or duplicate",
	doc: `Sets up visitors and agents as chat does and lets messages flow for
--before. Then it cuts every connection at once (a TCP reset, as a network
failure would; --cut chooses visitors, agents or all) while visitors keep
sending. Each connection reconnects at once (spread over --reconnect-jitter)
with resume=ID:SEQ from the last seq it saw, and resends its unacknowledged
messages with the same client_msg_id. Reports the time until every
connection is back and resumed, and until every message in flight at the
cut is acknowledged and delivered to both ends ("full recovery"); traffic
continues for --after, then every delivery is verified: no gap, no
duplicate, no reordering.`,
	flags: func(fs *flag.FlagSet, c *Config) {
		fs.IntVar(&c.Visitors, "visitors", 100, "visitors, each with one conversation")
		fs.IntVar(&c.Agents, "agents", 5, "agents the conversations are assigned to")
		fs.Float64Var(&c.Rate, "rate", 50, "visitor messages per second, all visitors together")
		fs.DurationVar(&c.Before, "before", 5*time.Second, "traffic before the cut")
		fs.DurationVar(&c.After, "after", 10*time.Second, "traffic after the cut")
		fs.StringVar(&c.Cut, "cut", "all", "which connections to cut: all, visitors or agents")
		fs.DurationVar(&c.ReconnectJitter, "reconnect-jitter", 0, "spread reconnects uniformly over this long (0: all at once, a true storm)")
		fs.DurationVar(&c.Deadline, "recovery-timeout", 60*time.Second, "fail if recovery takes longer")
		fs.Float64Var(&c.ReplyRatio, "reply-ratio", 1, "probability that an agent answers a visitor message")
		fs.Float64Var(&c.AgentRate, "agent-rate", 100, "replies per second one agent connection may send (the server allows agents 1,000 frames/s)")
		messageFlags(fs, c)
	},
	check: func(c *Config) error {
		c.Duration = c.Before + c.After
		err := checkConversations(c)
		if c.Cut != "all" && c.Cut != "visitors" && c.Cut != "agents" {
			err = errors.Join(err, errors.New("--cut must be all, visitors or agents"))
		}
		if c.Before <= 0 {
			err = errors.Join(err, errors.New("--before must be positive: messages must be flowing at the cut"))
		}
		return err
	},
	budget: conversationBudget,
	agents: func(c *Config) int { return c.Agents },
	run:    runResume,
	finish: finishResume,
}

func runResume(ctx context.Context, e *Env) (*Result, error) {
	res := newResult("resume")
	c := e.cfg
	nv := e.share(c.Visitors)
	start := time.Now()
	r, err := newRoom(ctx, e, nv, c.AgentRate, c.ReplyRatio, c.Size)
	res.duration("setup", time.Since(start))
	if err == nil {
		err = e.barrier(ctx, "ready")
	}
	if err != nil {
		r.close(ctx)
		r.fill(res)
		return res, err
	}
	r.pool.cutJitter = c.ReconnectJitter

	e.stats.SetPhase("flowing")
	r.replying.Store(c.ReplyRatio > 0)
	rate := c.Rate * float64(nv) / float64(c.Visitors)
	driven := make(chan time.Duration, 1)
	go func() { driven <- r.drive(ctx, rate, c.Before+c.After, int64(e.share(c.MaxMessages)), nil) }()
	sleep(ctx, c.Before)

	var victims []*Conn
	if c.Cut != "visitors" {
		for _, a := range r.agents {
			victims = append(victims, a.conn)
		}
	}
	if c.Cut != "agents" {
		for _, v := range r.visitors {
			victims = append(victims, v.conn)
		}
	}
	e.stats.SetPhase("cut")
	connects := make([]int64, len(victims))
	for i, v := range victims {
		connects[i] = v.connects.Load()
	}
	var left atomic.Int64
	r.ver.Cut(&left)
	res.Counts["in_flight_at_cut"] = left.Load()
	cutAt := time.Now()
	for _, v := range victims {
		v.Cut()
	}
	res.Counts["connections_cut"] = int64(len(victims))

	e.stats.SetPhase("recovering")
	back := func() bool {
		for i, v := range victims {
			if v.connects.Load() == connects[i] || !v.Up() {
				return false
			}
		}
		return true
	}
	var recoverErr error
	if err := waitFor(ctx, c.Deadline, back); err != nil {
		recoverErr = errors.New("not every connection was back within --recovery-timeout")
	} else {
		res.duration("cut_to_all_reconnected", time.Since(cutAt))
		if err := waitFor(ctx, c.Deadline-time.Since(cutAt), func() bool { return left.Load() <= 0 }); err != nil {
			recoverErr = errors.New("messages in flight at the cut were not all delivered within --recovery-timeout")
		} else {
			res.duration("cut_to_full_recovery", time.Since(cutAt))
		}
	}
	res.Counts["not_recovered"] = left.Load()

	e.stats.SetPhase("flowing")
	res.duration("send", <-driven)
	r.replying.Store(false)
	res.duration("drain", r.drain(ctx, c.Drain))
	r.close(ctx)
	r.fill(res)
	if recoverErr != nil {
		res.fail("%v", recoverErr)
	}
	return res, nil
}

func finishResume(c *Config, r *Result) {
	finishChat(c, r)
	if _, ok := r.Durations["cut_to_full_recovery"]; !ok && len(r.Failures) == 0 {
		r.fail("recovery was not observed")
	}
	if d := r.Durations["cut_to_all_reconnected"]; d > 0 {
		r.Rates["reconnects"] = float64(r.Counts["connections_cut"]) / d
	}
}
