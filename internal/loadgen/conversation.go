package loadgen

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/kefu-chat/kefu/internal/protocol"
)

// room is the shared setup of chat, resume and throughput: visitors, each
// with one conversation assigned to one of the agents, every connection
// resumed from the start so that both ends see every seq.
type room struct {
	e        *Env
	pool     *pool
	ver      *Verifier
	visitors []*visitor
	agents   []*agent

	replying   atomic.Bool // agents answer visitor messages
	replyRatio float64
	size       int

	visitorSent   atomic.Int64
	agentSent     atomic.Int64
	repliesQueued atomic.Int64
	repliesMissed atomic.Int64 // reply queue full: agents cannot keep up
	foreign       atomic.Int64 // messages of conversations not in this run
	ackLat        [2]*Histogram
}

type visitor struct {
	idx   int
	node  *node // the server it talks to
	token string
	l     *Ledger
	conn  *Conn
	agent *agent
}

type agent struct {
	r       *room
	login   AgentLogin
	conn    *Conn
	convs   map[int64]*Ledger
	order   []*Ledger
	replies chan *Ledger
	limit   *rate.Limiter
}

// Visitor connections hear only their own conversation.
func (v *visitor) Message(c *Conn, m *wireMessage, at time.Time) {
	if m.ConversationID != v.l.id {
		v.agent.r.foreign.Add(1)
		return
	}
	v.l.Received(VisitorSide, m.Seq, m.ClientMsgID, at)
}

func (v *visitor) Conversation(*Conn, string, *wireConversation, time.Time) {}

// Agent connections hear their conversations and unassigned ones of the
// whole workspace; only their own are checked.
func (a *agent) Message(c *Conn, m *wireMessage, at time.Time) {
	l := a.convs[m.ConversationID]
	if l == nil {
		a.r.foreign.Add(1)
		return
	}
	l.Received(AgentSide, m.Seq, m.ClientMsgID, at)
	if m.SenderType != "contact" || !a.r.replying.Load() || rand.Float64() >= a.r.replyRatio {
		return
	}
	if s, _, ok := a.r.ver.parseClientMsgID(m.ClientMsgID); !ok || s != VisitorSide {
		return
	}
	select {
	case a.replies <- l:
		a.r.repliesQueued.Add(1)
	default:
		a.r.repliesMissed.Add(1)
	}
}

func (a *agent) Conversation(*Conn, string, *wireConversation, time.Time) {}

// replyLoop sends the agent's replies, paced under the server's
// per-connection frame limit.
func (a *agent) replyLoop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case l := <-a.replies:
			if a.limit.Wait(ctx) != nil {
				return
			}
			if !a.r.replying.Load() {
				continue
			}
			a.r.agentSent.Add(1)
			a.conn.Send(l, a.r.size, nil)
		}
	}
}

// newRoom creates nv visitors with a conversation each, assigns them round
// robin to the worker's agents and connects everybody. agentRate is the
// per-agent-connection send rate.
func newRoom(ctx context.Context, e *Env, nv int, agentRate float64, replyRatio float64, size int) (*room, error) {
	r := &room{e: e, ver: NewVerifier(e.fx.Run, e.cfg.Echo), replyRatio: replyRatio, size: size,
		ackLat: [2]*Histogram{NewHistogram(), NewHistogram()}}
	r.pool = newPool(ctx, e.base, e.dialer, e.stats, e.cfg.Concurrency)
	logins := e.agents()
	if len(logins) == 0 {
		return r, fmt.Errorf("no agents for this worker")
	}
	for _, lg := range logins {
		a := &agent{r: r, login: lg, convs: map[int64]*Ledger{}, replies: make(chan *Ledger, 1024),
			limit: rate.NewLimiter(rate.Limit(agentRate), 1)}
		r.agents = append(r.agents, a)
	}
	r.visitors = make([]*visitor, nv)
	first := e.offset(e.cfg.Visitors)

	e.stats.SetPhase("sessions")
	err := forEach(ctx, nv, e.cfg.Concurrency, func(ctx context.Context, i int) error {
		a := r.agents[i%len(r.agents)]
		name := fmt.Sprintf("%s visitor %d", e.fx.Run, first+i)
		e.stats.HTTPRequests.Add(3)
		n := e.visitorNode(first + i)
		s, err := n.api.VisitorSession(n.api.as(ctx, first+i), e.fx.InboxToken, name)
		if err != nil {
			e.stats.HTTPFailed.Add(1)
			return fmt.Errorf("visitor session: %w", err)
		}
		cv, err := n.api.StartConversation(ctx, s.Token)
		if err != nil {
			e.stats.HTTPFailed.Add(1)
			return fmt.Errorf("start conversation: %w", err)
		}
		if _, err := e.agentN.api.UpdateConversation(ctx, a.login.Token, cv.ID, map[string]any{"assignee_id": a.login.ID}); err != nil {
			e.stats.HTTPFailed.Add(1)
			return fmt.Errorf("assign conversation %d to agent %d: %w", cv.ID, a.login.ID, err)
		}
		r.visitors[i] = &visitor{idx: first + i, node: n, token: s.Token, l: r.ver.Conv(cv.ID), agent: a}
		return nil
	})
	if err != nil {
		return r, err
	}
	for _, v := range r.visitors {
		v.agent.convs[v.l.id] = v.l
		v.agent.order = append(v.agent.order, v.l)
	}

	e.stats.SetPhase("connecting")
	for _, a := range r.agents {
		a.conn = r.pool.newConnTo(e.agentN.ws, true, a.login.Token, a, func() []resumePos {
			pos := make([]resumePos, len(a.order))
			for i, l := range a.order {
				pos[i] = resumePos{l.id, l.LastSeq(AgentSide)}
			}
			return pos
		})
		r.wrapAcks(a.conn)
	}
	for _, v := range r.visitors {
		v.conn = r.pool.newConnTo(v.node.ws, false, v.token, v, func() []resumePos {
			return []resumePos{{v.l.id, v.l.LastSeq(VisitorSide)}}
		})
		r.wrapAcks(v.conn)
	}
	conns := r.conns()
	if err := forEach(ctx, len(conns), e.cfg.Concurrency, func(ctx context.Context, i int) error {
		return conns[i].Connect(ctx)
	}); err != nil {
		return r, fmt.Errorf("connect: %w", err)
	}
	if err := waitFor(ctx, 60*time.Second, func() bool {
		for _, c := range conns {
			if !c.Up() {
				return false
			}
		}
		return true
	}); err != nil {
		return r, fmt.Errorf("waiting for every connection's resumed frames: %w", err)
	}
	for _, a := range r.agents {
		go a.replyLoop(r.pool.ctx)
	}
	return r, nil
}

// wrapAcks makes the connection record ack latency by sending side.
func (r *room) wrapAcks(c *Conn) { c.ackHist.Store(r.ackLat[c.side]) }

func (r *room) conns() []*Conn {
	out := make([]*Conn, 0, len(r.agents)+len(r.visitors))
	for _, a := range r.agents {
		out = append(out, a.conn)
	}
	for _, v := range r.visitors {
		out = append(out, v.conn)
	}
	return out
}

// drive sends visitor messages at total rate perSecond with Poisson
// arrivals, each visitor in turn, until d has passed, limit messages are
// sent or ctx ends. Several goroutines share the work so that one slow
// socket does not hold up the schedule.
func (r *room) drive(ctx context.Context, perSecond float64, d time.Duration, limit int64, onSend func()) time.Duration {
	start := time.Now()
	if perSecond <= 0 || len(r.visitors) == 0 {
		return 0
	}
	deadline := start.Add(d)
	k := min(len(r.visitors), 8, max(1, int(perSecond/500)+1))
	var sent atomic.Int64
	done := make(chan struct{}, k)
	for g := range k {
		go func() {
			defer func() { done <- struct{}{} }()
			mine := []*visitor{}
			for i := g; i < len(r.visitors); i += k {
				mine = append(mine, r.visitors[i])
			}
			rand.Shuffle(len(mine), func(i, j int) { mine[i], mine[j] = mine[j], mine[i] })
			rate := perSecond / float64(k)
			next := start
			for i := 0; ; i++ {
				next = next.Add(time.Duration(rand.ExpFloat64() / rate * float64(time.Second)))
				if next.After(deadline) {
					return
				}
				if wait := time.Until(next); wait > time.Millisecond {
					select {
					case <-ctx.Done():
						return
					case <-time.After(wait):
					}
				} else if wait < -100*time.Millisecond {
					r.e.stats.ScheduledBehind.Add(1)
				}
				if ctx.Err() != nil || sent.Add(1) > limit {
					return
				}
				v := mine[i%len(mine)]
				r.visitorSent.Add(1)
				v.conn.Send(v.l, r.size, nil)
				if onSend != nil {
					onSend()
				}
			}
		}()
	}
	for range k {
		<-done
	}
	return time.Since(start)
}

// drain waits until every send is acked and delivered, or d passes.
func (r *room) drain(ctx context.Context, d time.Duration) time.Duration {
	start := time.Now()
	r.e.stats.SetPhase("draining")
	waitFor(ctx, d, func() bool { return r.ver.Outstanding() == 0 })
	return time.Since(start)
}

// close ends every connection, settles the verifier and resolves the
// conversations if asked to.
func (r *room) close(ctx context.Context) {
	r.replying.Store(false)
	r.e.stats.SetPhase("closing")
	r.pool.closeAll()
	r.ver.Finish()
	if r.e.cfg.Cleanup {
		r.cleanup(ctx)
	}
}

func (r *room) cleanup(ctx context.Context) {
	var vs []*visitor
	for _, v := range r.visitors {
		if v != nil {
			vs = append(vs, v)
		}
	}
	resolveAll(ctx, r.e, len(vs), func(i int) (int64, string) { return vs[i].l.id, vs[i].agent.login.Token })
}

// resolveAll marks the run's conversations resolved, so that agents'
// queues do not fill up run after run. Failures are only logged.
func resolveAll(ctx context.Context, e *Env, n int, conv func(i int) (id int64, token string)) {
	if n == 0 || ctx.Err() != nil {
		return
	}
	e.stats.SetPhase("cleanup")
	var failed atomic.Int64
	forEach(ctx, n, e.cfg.Concurrency, func(ctx context.Context, i int) error {
		id, tok := conv(i)
		if _, err := e.api.UpdateConversation(ctx, tok, id, map[string]any{"status": "resolved"}); err != nil && ctx.Err() == nil {
			if failed.Add(1) == 1 {
				e.logf("cleanup: resolving conversation %d: %v", id, err)
			}
		}
		return nil
	})
	if n := failed.Load(); n > 0 {
		e.logf("cleanup: %d conversations not resolved", n)
	}
}

// fill copies the room's measurements into a result.
func (r *room) fill(res *Result) {
	res.Counts["visitors"] = int64(len(r.visitors))
	res.Counts["agents"] = int64(len(r.agents))
	res.Counts["visitor_messages_sent"] = r.visitorSent.Load()
	res.Counts["agent_messages_sent"] = r.agentSent.Load()
	res.Counts["replies_skipped_agent_busy"] = r.repliesMissed.Load()
	res.Counts["foreign_messages_ignored"] = r.foreign.Load()
	res.Latency["send_to_ack_visitor"] = r.ackLat[VisitorSide]
	res.Latency["send_to_ack_agent"] = r.ackLat[AgentSide]
	res.Latency["visitor_to_agent"] = r.ver.Latency[VisitorSide]
	res.Latency["agent_to_visitor"] = r.ver.Latency[AgentSide]
	res.Latency["connect"] = r.pool.connectLat
	res.Verify = r.ver.result()
}

// waitFor polls cond every 10ms until it holds, d passes or ctx ends.
func waitFor(ctx context.Context, d time.Duration, cond func() bool) error {
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			return fmt.Errorf("not done after %v", d)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
	return nil
}

// subscribeAll asks for the workspace firehose on an agent connection.
func subscribeAll(c *Conn) {
	c.WriteFrame(&protocol.ClientFrame{Type: protocol.TypeSubscribe, All: true})
}
