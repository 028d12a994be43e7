package loadgen

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math"
	"time"
)

var throughputScenario = &scenario{
	name:    "throughput",
	summary: "open-loop ramp: the highest rate of acknowledged (committed) messages per second the server sustains",
	doc: `Sets up --senders visitors with a conversation each (assigned to --agents
agents, who only listen) and offers messages at --start-rate per second,
raising the rate by --step-rate every --step-duration up to --max-rate.
A step passes when acks arrive at 95% of the offered rate or better, the
step's ack p99 stays under --max-latency and under 1% of sends get an
error. The ramp stops after the first failing step; the result is the best
acked rate of a passing step ("sustained"). The load is open loop (sends do
not wait for acks) because the server limits each connection to 20 frames
a second: a closed loop would measure that limit, not the server. Every
delivery is verified as in chat.`,
	flags: func(fs *flag.FlagSet, c *Config) {
		fs.IntVar(&c.Visitors, "senders", 1000, fmt.Sprintf("sending visitor connections; each carries at most %.0f msg/s", perConnLimit))
		fs.IntVar(&c.Agents, "agents", 1, "agents listening (every message is also delivered to its agent)")
		fs.Float64Var(&c.StartRate, "start-rate", 500, "first offered rate, messages per second")
		fs.Float64Var(&c.StepRate, "step-rate", 500, "increase per step")
		fs.DurationVar(&c.StepDuration, "step-duration", 5*time.Second, "length of each step")
		fs.Float64Var(&c.Rate, "max-rate", 15000, "highest offered rate")
		fs.DurationVar(&c.MaxLatency, "max-latency", time.Second, "a step fails if its send->ack p99 is above this")
		messageFlags(fs, c)
	},
	check: func(c *Config) error {
		var errs []error
		if c.Visitors < 1 || c.Agents < 1 {
			errs = append(errs, errors.New("--senders and --agents must be at least 1"))
		}
		if c.StartRate <= 0 || c.StepRate <= 0 || c.StepDuration <= 0 || c.Rate < c.StartRate {
			errs = append(errs, errors.New("need --start-rate > 0, --step-rate > 0, --step-duration > 0 and --max-rate >= --start-rate"))
		}
		if lim := float64(c.Visitors) * perConnLimit; c.Rate > lim {
			errs = append(errs, fmt.Errorf("--max-rate %.0f needs at least %d senders at %.0f msg/s each: raise --senders", c.Rate, int(math.Ceil(c.Rate/perConnLimit)), perConnLimit))
		}
		if c.Visitors > 1000*c.Agents {
			errs = append(errs, fmt.Errorf("at most 1000 conversations per agent: use --agents %d or more", (c.Visitors+999)/1000))
		}
		if c.MaxMessages == 0 && c.StepRate > 0 {
			total := 0.0
			for r := c.StartRate; r <= c.Rate; r += c.StepRate {
				total += r * c.StepDuration.Seconds()
			}
			c.MaxMessages = min(maxMessagesCap, int(1.2*total)+c.Visitors)
		}
		return errors.Join(errs...)
	},
	budget: func(c *Config) time.Duration {
		steps := 1.0
		if c.StepRate > 0 {
			steps = math.Floor((c.Rate-c.StartRate)/c.StepRate) + 1
		}
		return setupBudget(3*c.Visitors) + time.Duration(steps)*c.StepDuration + c.Drain
	},
	agents: func(c *Config) int { return c.Agents },
	run:    runThroughput,
	finish: finishThroughput,
}

func runThroughput(ctx context.Context, e *Env) (*Result, error) {
	res := newResult("throughput")
	c := e.cfg
	nv := e.share(c.Visitors)
	frac := float64(nv) / float64(c.Visitors)
	start := time.Now()
	r, err := newRoom(ctx, e, nv, 1, 0, c.Size)
	res.duration("setup", time.Since(start))
	if err == nil {
		err = e.barrier(ctx, "ready")
	}
	if err != nil {
		r.close(ctx)
		r.fill(res)
		return res, err
	}
	limit := int64(e.share(c.MaxMessages))
	start = time.Now()
	for target := c.StartRate; target <= c.Rate && ctx.Err() == nil; target += c.StepRate {
		e.stats.SetPhase(fmt.Sprintf("%.0f/s", target))
		st := &Step{Target: target * frac, Ack: NewHistogram(), Workers: 1}
		for _, v := range r.visitors {
			v.conn.ackHist.Store(st.Ack)
		}
		sent0, acked0, err0 := r.visitorSent.Load(), e.stats.Acked.Load(), e.stats.ErrorFrames.Load()
		left := limit - sent0
		if left <= 0 {
			break
		}
		d := r.drive(ctx, st.Target, c.StepDuration, left, nil)
		st.Seconds = d.Seconds()
		st.Sent = r.visitorSent.Load() - sent0
		st.Acked = e.stats.Acked.Load() - acked0
		st.Errors = e.stats.ErrorFrames.Load() - err0
		res.Steps = append(res.Steps, st)
		if ok, _ := judgeStep(st, c.MaxLatency); !ok {
			break
		}
	}
	res.duration("ramp", time.Since(start))
	res.duration("drain", r.drain(ctx, c.Drain))
	r.close(ctx)
	r.fill(res)
	delete(res.Latency, "send_to_ack_agent")
	delete(res.Latency, "agent_to_visitor")
	res.Latency["send_to_ack"] = r.pool.ackLatency
	delete(res.Latency, "send_to_ack_visitor")
	return res, nil
}

// judgeStep decides whether the server kept up with a step.
func judgeStep(s *Step, maxLatency time.Duration) (bool, string) {
	if s.Seconds <= 0 || s.Target <= 0 {
		return false, "no time"
	}
	s.AckedRate = float64(s.Acked) / s.Seconds
	switch {
	case s.AckedRate < 0.95*s.Target:
		return false, fmt.Sprintf("acked %.0f/s < 95%% of %.0f/s", s.AckedRate, s.Target)
	case s.Ack.Quantile(0.99) > maxLatency:
		return false, fmt.Sprintf("ack p99 %v > %v", s.Ack.Quantile(0.99).Round(time.Millisecond), maxLatency)
	case s.Errors*100 > s.Sent:
		return false, fmt.Sprintf("%d errors for %d sends", s.Errors, s.Sent)
	}
	return true, ""
}

func finishThroughput(c *Config, r *Result) {
	best, peak := 0.0, 0.0
	for _, s := range r.Steps {
		s.Passed, s.Why = judgeStep(s, c.MaxLatency)
		peak = max(peak, s.AckedRate)
		if s.Passed && s.Workers == c.Procs {
			best = max(best, s.AckedRate)
		}
	}
	r.Rates["sustained_acked"] = best
	r.Rates["peak_acked"] = peak
	if len(r.Steps) > 0 && best == 0 {
		r.fail("no step kept up with its offered rate: lower --start-rate")
	}
	if last := len(r.Steps); last > 0 && r.Steps[last-1].Passed {
		r.note("every step passed up to --max-rate %.0f/s: the server may sustain more (raise --max-rate and --senders)", c.Rate)
	}
	conversationNotes(c, r)
}
