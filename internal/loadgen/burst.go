package loadgen

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/url"
	"sync"
	"sync/atomic"
	"time"
)

var burstScenario = &scenario{
	name:    "burst",
	summary: "flash crowd: new visitors connect and send within --spread; time until every conversation is stored and visible to agents",
	doc: `Connects --agents agents (the first of each process subscribes to the
workspace firehose), then starts --visitors new visitors spread evenly over
--spread. Each creates a session and a conversation over REST, connects,
and sends one message. Reports how long until every message is stored
(acked), until every conversation and message has reached an agent over
WebSocket, and until every conversation is listed by
GET /api/v1/conversations, with per-visitor latency histograms for each
step. Fails if anything is still missing after --deadline.`,
	flags: func(fs *flag.FlagSet, c *Config) {
		fs.IntVar(&c.Visitors, "visitors", 500, "new visitors in the crowd")
		fs.IntVar(&c.Agents, "agents", 1, "agents watching")
		fs.DurationVar(&c.Spread, "spread", time.Second, "the crowd arrives within this long")
		fs.DurationVar(&c.Deadline, "deadline", 60*time.Second, "how long after the start to wait for everything to be stored and visible")
		fs.IntVar(&c.Size, "size", 64, "message body size in bytes")
		fs.BoolVar(&c.Echo, "expect-echo", true, "expect a visitor's own connection to receive its message too")
	},
	check: func(c *Config) error {
		if c.Visitors < 1 || c.Agents < 1 {
			return errors.New("--visitors and --agents must be at least 1")
		}
		return nil
	},
	budget: func(c *Config) time.Duration {
		return setupBudget(c.Agents) + c.Spread + c.Deadline + setupBudget(c.Visitors)
	},
	agents: func(c *Config) int { return c.Agents },
	run:    runBurst,
	finish: finishBurst,
}

type burstVisitor struct {
	start time.Time
	l     *Ledger
	conn  *Conn
	ack   atomic.Int64 // unix ns of the ack, 0 until then
}

type burstRun struct {
	e        *Env
	ver      *Verifier
	mu       sync.Mutex
	byConv   map[int64]*burstVisitor
	convSeen map[int64]time.Time // conversation frames, which may beat the REST answer
	msgSeen  map[int64]time.Time // first message of ours per conversation on the firehose

	toAck, toAgentMsg, toConvFrame, sessionLat, convLat *Histogram
	foreign                                             atomic.Int64
}

// The watching agents hear every conversation of the workspace.
func (b *burstRun) Message(c *Conn, m *wireMessage, at time.Time) {
	l := b.ver.Lookup(m.ConversationID)
	if l == nil {
		b.foreign.Add(1)
		return
	}
	l.Received(AgentSide, m.Seq, m.ClientMsgID, at)
	if s, _, ok := b.ver.parseClientMsgID(m.ClientMsgID); !ok || s != VisitorSide {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, dup := b.msgSeen[m.ConversationID]; dup {
		return
	}
	b.msgSeen[m.ConversationID] = at
	if v := b.byConv[m.ConversationID]; v != nil {
		b.toAgentMsg.Record(at.Sub(v.start))
	}
}

func (b *burstRun) Conversation(c *Conn, event string, cv *wireConversation, at time.Time) {
	if event != "created" {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, dup := b.convSeen[cv.ID]; dup {
		return
	}
	b.convSeen[cv.ID] = at
	if v := b.byConv[cv.ID]; v != nil {
		b.toConvFrame.Record(at.Sub(v.start))
	}
}

// visitorConn hears the visitor's own conversation.
type visitorConn struct{ l *Ledger }

func (v visitorConn) Message(c *Conn, m *wireMessage, at time.Time) {
	if m.ConversationID == v.l.id {
		v.l.Received(VisitorSide, m.Seq, m.ClientMsgID, at)
	}
}
func (visitorConn) Conversation(*Conn, string, *wireConversation, time.Time) {}

func runBurst(ctx context.Context, e *Env) (*Result, error) {
	res := newResult("burst")
	c := e.cfg
	n := e.share(c.Visitors)
	b := &burstRun{e: e, ver: NewVerifier(e.fx.Run, c.Echo), byConv: map[int64]*burstVisitor{},
		convSeen: map[int64]time.Time{}, msgSeen: map[int64]time.Time{},
		toAck: res.hist("start_to_ack"), toAgentMsg: res.hist("start_to_agent_sees_message"),
		toConvFrame: res.hist("start_to_agent_sees_conversation"), sessionLat: res.hist("session_create"),
		convLat: res.hist("conversation_create")}
	p := newPool(ctx, e.base, e.dialer, e.stats, c.Concurrency)
	res.Latency["connect"] = p.connectLat
	res.Latency["send_to_ack"] = p.ackLatency
	res.Counts["visitors"] = int64(n)

	e.stats.SetPhase("agents")
	agents := e.agents()
	for i, a := range agents {
		ac := p.newConnTo(e.agentN.ws, true, a.Token, b, nil)
		if err := ac.Connect(ctx); err != nil {
			p.closeAll()
			return res, fmt.Errorf("agent %s: %w", a.Email, err)
		}
		if i == 0 {
			subscribeAll(ac)
		}
	}
	if err := e.barrier(ctx, "ready"); err != nil {
		p.closeAll()
		return res, err
	}

	e.stats.SetPhase("crowd")
	first := e.offset(c.Visitors)
	t0 := time.Now()
	var failSession, failConv, failConnect atomic.Int64
	var lastAck atomic.Int64
	var wg sync.WaitGroup
	visitors := make([]*burstVisitor, n)
	for i := range n {
		// Spread over the window as this worker's slots interleave with
		// the other workers' (global index first+i of c.Visitors).
		slot := float64(first+i) / float64(c.Visitors)
		at := t0.Add(time.Duration((slot + rand.Float64()/float64(c.Visitors)) * float64(c.Spread)))
		wg.Go(func() {
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Until(at)):
			}
			v := &burstVisitor{start: time.Now()}
			e.stats.HTTPRequests.Add(2)
			n := e.visitorNode(first + i)
			s, err := n.api.VisitorSession(n.api.as(ctx, first+i), e.fx.InboxToken, fmt.Sprintf("%s burst %d", e.fx.Run, first+i))
			if err != nil {
				failSession.Add(1)
				e.stats.HTTPFailed.Add(1)
				e.stats.Fail("visitor session: " + classifyHTTP(err))
				return
			}
			b.sessionLat.Record(time.Since(v.start))
			t := time.Now()
			cv, err := n.api.StartConversation(ctx, s.Token)
			if err != nil {
				failConv.Add(1)
				e.stats.HTTPFailed.Add(1)
				e.stats.Fail("start conversation: " + classifyHTTP(err))
				return
			}
			b.convLat.Record(time.Since(t))
			v.l = b.ver.Conv(cv.ID)
			b.mu.Lock()
			b.byConv[cv.ID] = v
			if seen, ok := b.convSeen[cv.ID]; ok {
				b.toConvFrame.Record(seen.Sub(v.start))
			}
			b.mu.Unlock()
			visitors[i] = v
			v.conn = p.newConnTo(n.ws, false, s.Token, visitorConn{v.l}, func() []resumePos {
				return []resumePos{{v.l.id, v.l.LastSeq(VisitorSide)}}
			})
			if v.conn.Connect(ctx) != nil {
				failConnect.Add(1)
				return
			}
			v.conn.Send(v.l, c.Size, func(seq int64, at time.Time) {
				v.ack.Store(at.UnixNano())
				b.toAck.Record(at.Sub(v.start))
				raise(&lastAck, at.UnixNano())
			})
		})
	}
	wg.Wait()
	res.duration("crowd_arrival", time.Since(t0))
	res.Counts["session_failed"] = failSession.Load()
	res.Counts["conversation_failed"] = failConv.Load()
	res.Counts["connect_failed"] = failConnect.Load()

	// Everything stored, and seen by the watching agent.
	e.stats.SetPhase("stored?")
	deadline := t0.Add(c.Deadline)
	started := 0
	for _, v := range visitors {
		if v != nil && v.conn != nil {
			started++
		}
	}
	waitFor(ctx, time.Until(deadline), func() bool { return b.ver.Outstanding() == 0 })
	var stored, seen int64
	lastSeen := time.Time{}
	b.mu.Lock()
	for _, v := range visitors {
		if v == nil || v.l == nil {
			continue
		}
		if v.ack.Load() != 0 {
			stored++
		}
		if at, ok := b.msgSeen[v.l.id]; ok {
			seen++
			lastSeen = later(lastSeen, at)
		}
	}
	b.mu.Unlock()
	res.Counts["stored"] = stored
	res.Counts["seen_by_agent"] = seen
	if la := lastAck.Load(); la != 0 && stored == int64(n) {
		res.duration("all_stored", time.Unix(0, la).Sub(t0))
	}
	if seen == int64(n) {
		res.duration("all_seen_by_agent", lastSeen.Sub(t0))
	}

	// And listed by the REST API, as a workbench that polls would see it.
	e.stats.SetPhase("listed?")
	want := map[int64]bool{}
	for _, v := range visitors {
		if v != nil && v.l != nil {
			want[v.l.id] = true
		}
	}
	token := e.fx.AdminToken
	if token == "" && len(agents) > 0 {
		token = agents[0].Token
	}
	listed, listErr := waitListed(ctx, e, token, want, deadline)
	res.Counts["listed"] = int64(listed)
	if listed == n {
		res.duration("all_listed", time.Since(t0))
	} else if listErr != nil {
		res.note("listing conversations: %v", listErr)
	}

	e.stats.SetPhase("closing")
	p.closeAll()
	b.ver.Finish()
	res.Verify = b.ver.result()
	res.Counts["foreign_messages_ignored"] = b.foreign.Load()
	if c.Cleanup {
		var ids []int64
		for id := range want {
			ids = append(ids, id)
		}
		resolveAll(ctx, e, len(ids), func(i int) (int64, string) { return ids[i], token })
	}
	return res, nil
}

// waitListed polls the conversation list until every wanted id is in it or
// the deadline passes, and returns how many were found.
func waitListed(ctx context.Context, e *Env, token string, want map[int64]bool, deadline time.Time) (int, error) {
	found := map[int64]bool{}
	maxPages := len(want)/100 + 100
	var lastErr error
	for {
		cursor := ""
		for page := 0; page < maxPages; page++ {
			q := url.Values{"status": {"open"}, "limit": {"100"}}
			if cursor != "" {
				q.Set("cursor", cursor)
			}
			e.stats.HTTPRequests.Add(1)
			pg, err := e.agentN.api.Conversations(ctx, token, q)
			if err != nil {
				e.stats.HTTPFailed.Add(1)
				lastErr = err
				break
			}
			for _, cv := range pg.Data {
				if want[cv.ID] {
					found[cv.ID] = true
				}
			}
			if pg.NextCursor == "" || len(pg.Data) == 0 || len(found) == len(want) {
				break
			}
			cursor = pg.NextCursor
		}
		if len(found) == len(want) || time.Now().After(deadline) || ctx.Err() != nil {
			return len(found), lastErr
		}
		sleep(ctx, 200*time.Millisecond)
	}
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

func finishBurst(c *Config, r *Result) {
	n := r.Counts["visitors"]
	for _, k := range []string{"session_failed", "conversation_failed", "connect_failed"} {
		if v := r.Counts[k]; v > 0 {
			r.fail("%d visitors: %s", v, k)
		}
	}
	if got := r.Counts["stored"]; got < n {
		r.fail("%d of %d first messages stored within --deadline", got, n)
	}
	if got := r.Counts["seen_by_agent"]; got < n {
		r.fail("%d of %d first messages reached an agent within --deadline", got, n)
	}
	if got := r.Counts["listed"]; got < n {
		r.fail("%d of %d conversations listed by the API within --deadline", got, n)
	}
	if d := r.Durations["all_stored"]; d > 0 {
		r.Rates["stored"] = float64(n) / d
	}
}
