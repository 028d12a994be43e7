package loadgen

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"time"
)

// perConnLimit is the send rate one visitor connection may keep up: the
// server allows visitors 20 frames a second (bursts of 50), and heartbeats
// count too.
const perConnLimit = 15.0

var chatScenario = &scenario{
	name:    "chat",
	summary: "visitors and agents in conversation: send->ack and sender->receiver latency, exactly-once in-order delivery",
	doc: `Creates --visitors visitors, each with a conversation assigned round robin to
one of --agents agents, and connects everybody with resume from the start.
Visitors then send --rate messages per second in all (Poisson arrivals,
each visitor in turn) for --duration; agents answer each visitor message
with probability --reply-ratio, paced at --agent-rate per agent. Reports
send->ack latency per side, visitor->agent and agent->visitor latency,
throughput, and checks that every receiver saw every seq exactly once and
in order and every acked message reached the other side. Any loss,
duplicate or reordering is printed and makes the exit status 1.`,
	flags: func(fs *flag.FlagSet, c *Config) {
		fs.IntVar(&c.Visitors, "visitors", 100, "visitors, each with one conversation")
		fs.IntVar(&c.Agents, "agents", 5, "agents the conversations are assigned to")
		fs.Float64Var(&c.Rate, "rate", 50, "visitor messages per second, all visitors together")
		fs.DurationVar(&c.Duration, "duration", 30*time.Second, "how long visitors send")
		fs.Float64Var(&c.ReplyRatio, "reply-ratio", 1, "probability that an agent answers a visitor message")
		fs.Float64Var(&c.AgentRate, "agent-rate", 100, "replies per second one agent connection may send (the server allows agents 1,000 frames/s)")
		messageFlags(fs, c)
	},
	check:  checkConversations,
	budget: conversationBudget,
	agents: func(c *Config) int { return c.Agents },
	run:    runChat,
	finish: finishChat,
}

func checkConversations(c *Config) error {
	var errs []error
	if c.Visitors < 1 || c.Agents < 1 {
		errs = append(errs, errors.New("--visitors and --agents must be at least 1"))
	}
	if c.Visitors > 1000*c.Agents {
		errs = append(errs, fmt.Errorf("at most 1000 conversations per agent (one resume list): use --agents %d or more", (c.Visitors+999)/1000))
	}
	if c.Visitors > 0 && c.Rate/float64(c.Visitors) > perConnLimit {
		errs = append(errs, fmt.Errorf("--rate %.0f over %d visitors is %.1f/s per connection, above the %.0f/s the server's frame limit (20/s) leaves room for: raise --visitors",
			c.Rate, c.Visitors, c.Rate/float64(c.Visitors), perConnLimit))
	}
	if c.AgentRate > 900 {
		errs = append(errs, errors.New("--agent-rate above 900/s would run into the server's 1,000 frames/s limit for agents"))
	}
	if c.MaxMessages == 0 {
		c.MaxMessages = min(maxMessagesCap, int(2*c.Rate*c.Duration.Seconds())+c.Visitors)
	}
	return errors.Join(errs...)
}

func conversationBudget(c *Config) time.Duration {
	return setupBudget(3*c.Visitors) + c.Duration + c.Before + c.After + c.Drain + c.Deadline
}

func runChat(ctx context.Context, e *Env) (*Result, error) {
	res := newResult("chat")
	c := e.cfg
	nv := e.share(c.Visitors)
	start := time.Now()
	r, err := newRoom(ctx, e, nv, c.AgentRate, c.ReplyRatio, c.Size)
	res.duration("setup", time.Since(start))
	if err != nil {
		r.close(ctx)
		r.fill(res)
		return res, err
	}
	if err := e.barrier(ctx, "ready"); err != nil {
		r.close(ctx)
		r.fill(res)
		return res, err
	}
	e.stats.SetPhase("chatting")
	r.replying.Store(c.ReplyRatio > 0)
	rate := c.Rate * float64(nv) / float64(c.Visitors)
	sendFor := r.drive(ctx, rate, c.Duration, int64(e.share(c.MaxMessages)), nil)
	r.replying.Store(false)
	res.duration("send", sendFor)
	res.duration("drain", r.drain(ctx, c.Drain))
	r.close(ctx)
	r.fill(res)
	res.Counts["acks"] = e.stats.Acked.Load()
	return res, nil
}

func finishChat(c *Config, r *Result) {
	if d := r.Durations["send"]; d > 0 {
		r.Rates["visitor_messages"] = float64(r.Counts["visitor_messages_sent"]) / d
		r.Rates["agent_messages"] = float64(r.Counts["agent_messages_sent"]) / d
		if r.Verify != nil {
			r.Rates["deliveries"] = float64(r.Verify.Delivered) / d
		}
	}
	conversationNotes(c, r)
	if r.Counts["visitor_messages_sent"] == 0 && len(r.Failures) == 0 {
		r.fail("no message was sent")
	}
}

// conversationNotes explains figures that need it.
func conversationNotes(c *Config, r *Result) {
	if n := r.Counts["replies_skipped_agent_busy"]; n > 0 {
		r.note("%d replies skipped: %d agents at --agent-rate %.0f/s cannot answer %.0f messages/s; raise --agents or lower --reply-ratio",
			n, c.Agents, c.AgentRate, c.Rate*c.ReplyRatio)
	}
	if n := r.Stats.ScheduledBehind; n > 0 {
		r.note("%d sends left more than 100ms behind schedule: the generator could not keep the rate (latency is measured from the actual send)", n)
	}
	if n := r.Stats.Disconnects; n > 0 {
		r.note("%d connections were dropped by the server and resumed", n)
	}
}
