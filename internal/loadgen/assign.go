package loadgen

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/url"
	"sync"
	"sync/atomic"
	"time"
)

var assignScenario = &scenario{
	name:    "assign",
	summary: "routing: assignment latency with a deep queue (--queued conversations waiting, --agents agents of --capacity)",
	doc: `Declares the run's agents offline, puts them in a team of their own,
routes the inbox to that team only (least_loaded, sticky routing off)
and gives every agent --capacity, then opens --queued
conversations, which all wait in the queue. Then every agent connects
and declares itself online: the server pulls the head of the queue for
each until they are full ("online_to_assigned" latency). From then on
each agent resolves every conversation it receives --think after the
assigned frame arrives (at once by default), which frees a slot and makes the server pull the
next head ("resolve_to_next_assigned"), for --duration or until the queue
is empty. Verifies that no conversation is assigned twice and no agent
ever holds more than --capacity; any violation fails the run. Runs in
one process.`,
	flags: func(fs *flag.FlagSet, c *Config) {
		fs.IntVar(&c.Queued, "queued", 10000, "conversations waiting in the queue before agents come online")
		fs.IntVar(&c.Agents, "agents", 200, "agents")
		fs.IntVar(&c.Capacity, "capacity", 5, "concurrent conversations per agent")
		fs.DurationVar(&c.Duration, "duration", 30*time.Second, "how long agents keep resolving and receiving")
		fs.DurationVar(&c.Think, "think", 0, "how long an agent keeps a conversation before resolving it (0: at once, the server's limit)")
	},
	check: func(c *Config) error {
		if c.Queued < 1 || c.Agents < 1 || c.Capacity < 1 {
			return errors.New("--queued, --agents and --capacity must be at least 1")
		}
		if c.Procs > 1 {
			return errors.New("assign runs in one process (--procs 1)")
		}
		return nil
	},
	budget: func(c *Config) time.Duration {
		return setupBudget(c.Agents) + setupBudget(c.Queued) + c.Duration + time.Minute
	},
	agents: func(c *Config) int { return c.Agents },
	run:    runAssign,
	finish: func(c *Config, r *Result) {
		if s := r.Durations["churn"]; s > 0 {
			r.Rates["assignments_per_second"] = float64(r.Counts["assigned_in_churn"]) / s
		}
	},
}

// assignRun watches agents' conversation frames.
type assignRun struct {
	e        *Env
	capacity int
	idOf     map[string]int64 // agent token -> agent id

	mu        sync.Mutex
	owner     map[int64]int64     // conversation -> agent it was assigned to (once)
	open      map[int64]int       // agent -> conversations held now
	since     map[int64]time.Time // agent -> when it last freed a slot or came online
	churning  bool
	stopped   bool // the measured part is over (cleanup resolves and reassigns freely)
	resolveCh chan resolveJob

	assigned, churned, doubles, overCap atomic.Int64
	onlineLat, nextLat                  *Histogram
}

type resolveJob struct{ agent, conv int64 }

// later hands the conversation to the resolvers after delay.
func (a *assignRun) later(j resolveJob, delay time.Duration) {
	if delay <= 0 {
		a.resolveCh <- j
		return
	}
	time.AfterFunc(delay, func() {
		a.mu.Lock()
		stopped := a.stopped
		a.mu.Unlock()
		if !stopped {
			a.resolveCh <- j
		}
	})
}

func (a *assignRun) Message(*Conn, *wireMessage, time.Time) {}

func (a *assignRun) Conversation(c *Conn, event string, cv *wireConversation, at time.Time) {
	// Every agent hears every conversation event (the live list); count
	// an assignment once, on the assignee's own connection.
	if event != "assigned" || cv.AssigneeID == 0 || a.idOf[c.token] != cv.AssigneeID {
		return
	}
	a.mu.Lock()
	if a.stopped {
		a.mu.Unlock()
		return
	}
	if prev, dup := a.owner[cv.ID]; dup {
		a.mu.Unlock()
		a.doubles.Add(1)
		a.e.stats.Fail("conversation assigned twice")
		a.e.logf("conversation %d assigned again (to %d, before to %d)", cv.ID, cv.AssigneeID, prev)
		return
	}
	a.owner[cv.ID] = cv.AssigneeID
	a.open[cv.AssigneeID]++
	if n := a.open[cv.AssigneeID]; n > a.capacity {
		a.overCap.Add(1)
		a.e.stats.Fail("agent over capacity")
		a.e.logf("agent %d holds %d conversations, capacity %d", cv.AssigneeID, n, a.capacity)
	}
	start, churning := a.since[cv.AssigneeID], a.churning
	a.mu.Unlock()
	a.assigned.Add(1)
	if churning {
		a.churned.Add(1)
		a.nextLat.Record(at.Sub(start))
		a.later(resolveJob{cv.AssigneeID, cv.ID}, a.e.cfg.Think)
	} else {
		a.onlineLat.Record(at.Sub(start))
	}
}

func runAssign(ctx context.Context, e *Env) (*Result, error) {
	res := newResult("assign")
	c := e.cfg
	a := &assignRun{e: e, capacity: c.Capacity, owner: map[int64]int64{}, open: map[int64]int{}, since: map[int64]time.Time{},
		resolveCh: make(chan resolveJob, c.Agents*c.Capacity+16),
		onlineLat: res.hist("online_to_assigned"), nextLat: res.hist("resolve_to_next_assigned")}
	agents := e.agents()
	tokens := map[int64]string{}
	a.idOf = map[string]int64{}
	for _, ag := range agents {
		tokens[ag.ID] = ag.Token
		a.idOf[ag.Token] = ag.ID
	}
	admin := e.fx.AdminToken
	if admin == "" {
		return res, errors.New("assign needs the admin's credentials (--admin-email/--admin-password)")
	}

	e.stats.SetPhase("setup")
	inboxID, err := e.inboxID(ctx, admin)
	if err != nil {
		return res, err
	}
	// The inbox routes to a team of this run's agents only, so agents of
	// other runs still within their presence grace period take nothing.
	ids := make([]int64, len(agents))
	for i, ag := range agents {
		ids[i] = ag.ID
	}
	var before map[string]any
	if err := e.api.do(ctx, "GET", fmt.Sprintf("/api/v1/inboxes/%d/routing", inboxID), admin, nil, &before); err != nil {
		return res, fmt.Errorf("routing settings: %w", err)
	}
	defer func() {
		// Leave the inbox routed as it was for the next run.
		restore := map[string]any{}
		for _, k := range []string{"policy", "default_capacity", "sticky", "team_ids", "business_hours", "auto_resolve_after", "remind_after"} {
			restore[k] = before[k]
		}
		if err := e.api.do(context.WithoutCancel(ctx), "PUT", fmt.Sprintf("/api/v1/inboxes/%d/routing", inboxID), admin, restore, nil); err != nil {
			e.logf("restoring the inbox's routing settings: %v", err)
		}
	}()
	var team struct {
		ID int64 `json:"id"`
	}
	if err := e.api.do(ctx, "POST", "/api/v1/teams", admin, map[string]any{"name": "loadgen assign " + e.fx.Run, "agent_ids": ids}, &team); err != nil {
		return res, fmt.Errorf("team: %w", err)
	}
	if err := e.api.do(ctx, "PUT", fmt.Sprintf("/api/v1/inboxes/%d/routing", inboxID), admin,
		map[string]any{"policy": "least_loaded", "sticky": false, "default_capacity": c.Capacity, "team_ids": []int64{team.ID}}, nil); err != nil {
		return res, fmt.Errorf("routing settings: %w", err)
	}
	err = forEach(ctx, len(agents), c.Concurrency, func(ctx context.Context, i int) error {
		ag := agents[i]
		if err := e.api.do(ctx, "PATCH", fmt.Sprintf("/api/v1/agents/%d", ag.ID), admin, map[string]any{"max_concurrent": c.Capacity}, nil); err != nil {
			return fmt.Errorf("agent capacity: %w", err)
		}
		return e.api.do(ctx, "PUT", "/api/v1/me/availability", ag.Token, map[string]any{"availability": "offline"}, nil)
	})
	if err != nil {
		return res, err
	}
	e.stats.SetPhase("queueing")
	t0 := time.Now()
	convs := make([]int64, c.Queued)
	err = forEach(ctx, c.Queued, c.Concurrency, func(ctx context.Context, i int) error {
		n := e.visitorNode(i)
		s, err := n.api.VisitorSession(n.api.as(ctx, i), e.fx.InboxToken, fmt.Sprintf("%s assign %d", e.fx.Run, i))
		if err != nil {
			return fmt.Errorf("visitor session: %w", err)
		}
		cv, err := n.api.StartConversation(ctx, s.Token)
		if err != nil {
			return fmt.Errorf("start conversation: %w", err)
		}
		convs[i] = cv.ID
		return nil
	})
	res.duration("queueing", time.Since(t0))
	if err != nil {
		return res, err
	}
	res.Counts["queued"] = int64(c.Queued)

	// Agents connect, then come online: the server pulls for each.
	e.stats.SetPhase("online")
	p := newPool(ctx, e.base, e.dialer, e.stats, c.Concurrency)
	defer p.closeAll()
	for _, ag := range agents {
		if err := p.newConnTo(e.agentN.ws, true, ag.Token, a, nil).Connect(ctx); err != nil {
			return res, fmt.Errorf("agent %s: %w", ag.Email, err)
		}
	}
	t1 := time.Now()
	err = forEach(ctx, len(agents), c.Concurrency, func(ctx context.Context, i int) error {
		ag := agents[i]
		a.mu.Lock()
		a.since[ag.ID] = time.Now()
		a.mu.Unlock()
		return e.api.do(ctx, "PUT", "/api/v1/me/availability", ag.Token, map[string]any{"availability": "online"}, nil)
	})
	if err != nil {
		return res, err
	}
	full := int64(min(c.Queued, len(agents)*c.Capacity))
	if err := waitFor(ctx, 60*time.Second, func() bool { return a.assigned.Load() >= full }); err != nil {
		res.fail("only %d of %d slots filled after agents came online", a.assigned.Load(), full)
	}
	res.duration("fill", time.Since(t1))
	res.Counts["assigned_on_online"] = a.assigned.Load()

	// Churn: resolve each newly assigned conversation at once.
	e.stats.SetPhase("churn")
	a.mu.Lock()
	a.churning = true
	held := make([]resolveJob, 0, len(a.owner))
	for conv, agent := range a.owner {
		held = append(held, resolveJob{agent, conv})
	}
	a.mu.Unlock()
	cctx, cancel := context.WithTimeout(ctx, c.Duration)
	defer cancel()
	var wg sync.WaitGroup
	for range min(64, max(1, c.Concurrency)) {
		wg.Go(func() {
			for {
				select {
				case <-cctx.Done():
					return
				case j := <-a.resolveCh:
					a.resolve(cctx, tokens[j.agent], j)
				}
			}
		})
	}
	t2 := time.Now()
	// The conversations held at the start are resolved spread over the
	// think time, so resolutions arrive at a steady rate rather than in
	// one burst.
	for i, j := range held {
		a.later(j, time.Duration(int64(a.e.cfg.Think)*int64(i)/int64(max(1, len(held)))))
	}
	remaining := int64(c.Queued) - full
	waitFor(cctx, c.Duration, func() bool { return a.churned.Load() >= remaining })
	a.mu.Lock()
	a.stopped = true
	a.mu.Unlock()
	cancel()
	wg.Wait()
	res.duration("churn", time.Since(t2))
	res.Counts["assigned_in_churn"] = a.churned.Load()
	res.Counts["assigned_total"] = a.assigned.Load()
	res.Counts["double_assignments"] = a.doubles.Load()
	res.Counts["over_capacity"] = a.overCap.Load()
	if a.doubles.Load() > 0 || a.overCap.Load() > 0 {
		res.fail("%d double assignments, %d over-capacity assignments", a.doubles.Load(), a.overCap.Load())
	}
	if c.Cleanup {
		resolveAll(ctx, e, len(convs), func(i int) (int64, string) { return convs[i], admin })
	}
	return res, nil
}

// resolve resolves a conversation as its agent; the freed slot makes the
// server pull the next one, whose latency is measured from here.
func (a *assignRun) resolve(ctx context.Context, token string, j resolveJob) {
	a.mu.Lock()
	a.since[j.agent] = time.Now()
	a.open[j.agent]--
	a.mu.Unlock()
	if err := a.e.api.do(ctx, "PATCH", fmt.Sprintf("/api/v1/conversations/%d", j.conv), token, map[string]any{"status": "resolved"}, nil); err != nil {
		// Not resolved as far as we know: the slot is still held.
		a.mu.Lock()
		a.open[j.agent]++
		a.mu.Unlock()
		if ctx.Err() == nil {
			a.e.stats.Fail("resolve: " + classifyHTTP(err))
		}
	}
}

// inboxID finds the id of the run's inbox from its public token.
func (e *Env) inboxID(ctx context.Context, adminToken string) (int64, error) {
	ins, err := e.api.Inboxes(ctx, adminToken)
	if err != nil {
		return 0, err
	}
	for _, in := range ins {
		if in.PublicToken == e.fx.InboxToken {
			return in.ID, nil
		}
	}
	return 0, fmt.Errorf("inbox %s not found", url.PathEscape(e.fx.InboxToken))
}
