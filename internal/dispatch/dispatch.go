// Package dispatch runs routing: it puts new and returned conversations in
// the queue and claims agents for them (push), hands the head of the queue
// to agents who gain room or come online (pull), keeps agents' presence
// fresh from their connections, tells waiting visitors their place, runs
// rules, transfers, and the periodic auto-resolve and reminder sweeps.
//
// The decisions come from internal/routing; the store's claims make them
// stick atomically (see docs/routing.md). Nothing here holds a lock that
// other nodes would need: a dispatcher per node, one shared database.
package dispatch

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/kefu-chat/kefu/internal/chat"
	"github.com/kefu-chat/kefu/internal/kefu"
	"github.com/kefu-chat/kefu/internal/protocol"
	"github.com/kefu-chat/kefu/internal/routing"
)

// Hub is what dispatch needs of the live connections on this node.
type Hub interface {
	ConnectedAgents() map[int64][]int64
	Route(e *kefu.Event)
}

// Options configure a Dispatcher; zero values take the defaults.
type Options struct {
	Store kefu.Store
	Chat  *chat.Service
	Hub   Hub
	// Bus carries "queue changed" between nodes, so each node updates the
	// positions of the visitors connected to it. nil: this node only.
	Bus kefu.Bus
	Log *slog.Logger
	Now func() time.Time
	// Grace is how long an agent stays online after their last connection
	// was last seen (default 60s). Heartbeats are sent every Grace/3.
	Grace time.Duration
	// Tick is how often new agent connections are noticed (and pulled
	// for), inboxes checked for an opening (which pulls for the connected
	// agents), queue positions sent, and the sweeps considered (default
	// 1s). Presence heartbeats and the backstop pull for every connected
	// agent run on the first tick after each Grace/3.
	Tick time.Duration
	// SweepEvery is how often auto-resolve and reminders run (default 30s).
	SweepEvery time.Duration
	// BotActive, if set, reports whether a bot answers an inbox's new
	// conversations now; those are not queued until the bot hands off.
	BotActive func(ctx context.Context, workspaceID, inboxID int64) bool
}

// Dispatcher is routing for one node.
type Dispatcher struct {
	opts  Options
	store kefu.Store
	chat  *chat.Service
	log   *slog.Logger

	mu        sync.Mutex
	inboxes   map[int64]*inboxState // by inbox id
	connected map[int64]map[int64]bool
	touched   time.Time
	dirty     map[int64]int64   // inbox id -> workspace id, queue changed since last tick
	recheck   map[int64]int64   // inbox id -> workspace id, a waiting visitor connected here
	sent      map[int64]sent    // conversation id -> last position sent
	waiting   map[int64][]int64 // contact id -> conversation ids in sent
	estimate  map[int64]*routing.WaitEstimator
	rules     map[int64]*ruleSet // by workspace
	gates     map[int64]gate     // by inbox id: open for automatic assignment at the last tick
	// status caches Status per inbox for statusTTL; statusGen counts the
	// invalidations, so a result computed across one is not stored.
	status    map[int64]cachedStatus
	statusGen uint64
}

type cachedStatus struct {
	st          InboxStatus
	workspaceID int64
	at          time.Time
}

// statusTTL bounds how often the public widget endpoints make one inbox's
// Status reach the database, whatever their request rate. Queue changes,
// availability declared here, new connections here and settings changes
// drop the cache at once; what another node changes shows within it.
const statusTTL = time.Second

// sent is the last queue position sent for a conversation.
type sent struct {
	pos              int
	inboxID, contact int64
}

// gate is whether an inbox was open for automatic assignment (inside its
// hours, not manual) when last looked at, so the tick can pull when it
// opens.
type gate struct {
	workspaceID int64
	open        bool
}

type inboxState struct {
	settings *kefu.RoutingSettings
	hours    *routing.Hours // nil: always open
	loaded   time.Time
}

type ruleSet struct {
	rules  []compiledRule
	loaded time.Time
}

type compiledRule struct {
	inboxID int64
	event   string
	rule    *routing.CompiledRule
}

// cacheTTL bounds how stale another node's change to settings or rules
// may look here; changes made through this node apply at once.
const cacheTTL = 10 * time.Second

// New builds a Dispatcher and installs it as the chat service's router.
func New(opts Options) *Dispatcher {
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = kefu.Now
	}
	if opts.Grace <= 0 {
		opts.Grace = time.Minute
	}
	if opts.Tick <= 0 {
		opts.Tick = time.Second
	}
	if opts.SweepEvery <= 0 {
		opts.SweepEvery = 30 * time.Second
	}
	d := &Dispatcher{opts: opts, store: opts.Store, chat: opts.Chat, log: opts.Log,
		inboxes: map[int64]*inboxState{}, connected: map[int64]map[int64]bool{}, dirty: map[int64]int64{},
		recheck: map[int64]int64{}, sent: map[int64]sent{}, waiting: map[int64][]int64{}, estimate: map[int64]*routing.WaitEstimator{}, rules: map[int64]*ruleSet{}, gates: map[int64]gate{}, status: map[int64]cachedStatus{}}
	opts.Chat.SetRouter(d)
	if opts.Bus != nil {
		opts.Bus.Subscribe(d.onEvent)
	}
	return d
}

// onEvent notes queue changes made on other nodes (and, on a bus that
// echoes, this one: marking twice is harmless).
func (d *Dispatcher) onEvent(e *kefu.Event) {
	if e.Type != kefu.EventQueueChanged {
		return
	}
	d.mu.Lock()
	d.dirty[e.InboxID] = e.WorkspaceID
	d.dropStatusLocked(e.WorkspaceID)
	if e.Assigned {
		d.estimator(e.InboxID).Observe(d.opts.Now())
	}
	d.mu.Unlock()
}

// Grace is how long an agent counts as online after their last heartbeat.
func (d *Dispatcher) Grace() time.Duration { return d.opts.Grace }

// Run ticks until ctx ends: presence heartbeats, queue positions, the
// backstop pull, and the sweeps.
func (d *Dispatcher) Run(ctx context.Context) {
	tick := time.NewTicker(d.opts.Tick)
	defer tick.Stop()
	var lastSweep time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		d.heartbeat(ctx)
		d.sendPositions(ctx)
		if now := d.opts.Now(); now.Sub(lastSweep) >= d.opts.SweepEvery {
			lastSweep = now
			d.Sweep(ctx)
		}
	}
}

// settings returns the inbox's settings and compiled hours, cached.
func (d *Dispatcher) settings(ctx context.Context, workspaceID, inboxID int64) (*inboxState, error) {
	now := d.opts.Now()
	d.mu.Lock()
	st, ok := d.inboxes[inboxID]
	d.mu.Unlock()
	if ok && now.Sub(st.loaded) < cacheTTL && st.settings.WorkspaceID == workspaceID {
		return st, nil
	}
	s, err := d.store.GetRoutingSettings(ctx, workspaceID, inboxID)
	if err != nil {
		return nil, err
	}
	st = &inboxState{settings: s, loaded: now}
	if len(s.BusinessHours) > 0 && string(s.BusinessHours) != "null" {
		var sched routing.Schedule
		if err := json.Unmarshal(s.BusinessHours, &sched); err == nil {
			st.hours, _ = sched.Compile()
		}
	}
	d.mu.Lock()
	d.inboxes[inboxID] = st
	d.mu.Unlock()
	return st, nil
}

// Forget drops cached settings and rules after a change through this node.
func (d *Dispatcher) Forget(workspaceID, inboxID int64) {
	d.mu.Lock()
	delete(d.inboxes, inboxID)
	delete(d.rules, workspaceID)
	d.dropStatusLocked(workspaceID)
	d.mu.Unlock()
}

func (st *inboxState) open(now time.Time) bool { return st.hours == nil || st.hours.Open(now) }

// InboxStatus is what the widget shows before a chat: whether the inbox is
// open, when it opens next, and whether an agent could answer now.
type InboxStatus struct {
	Open         bool       `json:"open"`
	NextOpening  *time.Time `json:"next_opening,omitempty"`
	AgentsOnline int        `json:"agents_online"`
	Queue        int        `json:"queue"`
}

// Status reports an inbox's status for the widget. It is cached per inbox
// for statusTTL (see the cache's invalidation there).
func (d *Dispatcher) Status(ctx context.Context, workspaceID, inboxID int64) (*InboxStatus, error) {
	now := d.opts.Now()
	d.mu.Lock()
	c, ok := d.status[inboxID]
	gen := d.statusGen
	d.mu.Unlock()
	if age := now.Sub(c.at); ok && c.workspaceID == workspaceID && age >= 0 && age < statusTTL {
		out := c.st
		return &out, nil
	}
	out, err := d.readStatus(ctx, workspaceID, inboxID, now)
	if err != nil {
		return nil, err
	}
	d.mu.Lock()
	if d.statusGen == gen {
		d.status[inboxID] = cachedStatus{st: *out, workspaceID: workspaceID, at: now}
	}
	d.mu.Unlock()
	return out, nil
}

// dropStatusLocked forgets the cached Status of a workspace's inboxes
// (agents online count per workspace, so one inbox is not enough); the
// generation keeps a read that started before the change from being
// cached after it. d.mu must be held.
func (d *Dispatcher) dropStatusLocked(workspaceID int64) {
	d.statusGen++
	for id, c := range d.status {
		if c.workspaceID == workspaceID {
			delete(d.status, id)
		}
	}
}

func (d *Dispatcher) readStatus(ctx context.Context, workspaceID, inboxID int64, now time.Time) (*InboxStatus, error) {
	st, err := d.settings(ctx, workspaceID, inboxID)
	if err != nil {
		return nil, err
	}
	out := &InboxStatus{Open: st.open(now)}
	if !out.Open && st.hours != nil {
		if t, ok := st.hours.NextOpening(now); ok {
			out.NextOpening = &t
		}
	}
	// Two counts, no rows: the public widget endpoints call this per page
	// view, and an inbox may have thousands queued (docs/benchmarks.md).
	if out.AgentsOnline, err = d.store.CountOnlineAgents(ctx, workspaceID, st.settings.TeamIDs, now.Add(-d.opts.Grace)); err != nil {
		return nil, err
	}
	if out.Queue, err = d.store.QueueLength(ctx, workspaceID, inboxID); err != nil {
		return nil, err
	}
	return out, nil
}

// Enqueue runs the conversation_created rules on c and puts it in the
// queue, then tries to assign it at once.
func (d *Dispatcher) Enqueue(ctx context.Context, c *kefu.Conversation) error {
	team, prio, labels := d.applyRules(ctx, c, routing.Facts{Event: routing.EventConversationCreated, InboxID: c.InboxID})
	if len(labels) > 0 {
		all := append(slices.Clone(c.Labels), labels...)
		if _, err := d.chat.SystemUpdate(ctx, c.WorkspaceID, c.ID, kefu.ConversationUpdate{Labels: &all}, ""); err != nil {
			d.log.Warn("rule labels not applied", "conversation_id", c.ID, "err", err)
		}
	}
	if team == 0 {
		team = c.TeamID
	}
	if prio == "" && c.Priority != kefu.PriorityNone {
		prio = c.Priority
	}
	_, err := d.store.Requeue(ctx, c.WorkspaceID, c.ID, team, prio, d.opts.Now())
	if kefu.IsNotFound(err) && team != 0 {
		// The team is gone (a rule still names a deleted team): queue the
		// conversation for anyone rather than leave it out of the queue.
		d.log.Warn("team not found; queued without it", "conversation_id", c.ID, "team_id", team)
		_, err = d.store.Requeue(ctx, c.WorkspaceID, c.ID, 0, prio, d.opts.Now())
	}
	if err != nil {
		return err
	}
	d.markDirty(c.WorkspaceID, c.InboxID)
	_, err = d.Push(ctx, c.WorkspaceID, c.ID)
	return err
}

// Push tries to assign one queued conversation now. An agent with room
// who may take an earlier conversation of the same queue gets that one
// first (see ClaimConversation), so the returned assignment is the pushed
// conversation's, or nil while it still waits.
func (d *Dispatcher) Push(ctx context.Context, workspaceID, conversationID int64) (*kefu.Assignment, error) {
	c, err := d.store.GetConversation(ctx, workspaceID, conversationID)
	if err != nil {
		return nil, err
	}
	st, err := d.settings(ctx, workspaceID, c.InboxID)
	if err != nil {
		return nil, err
	}
	now := d.opts.Now()
	if st.settings.Policy == string(routing.PolicyManual) || !st.open(now) {
		return nil, nil
	}
	decide := func(s *kefu.ClaimSnapshot) kefu.Decision { return routing.Decide(s, d.opts.Grace) }
	// A claim gives the chosen agent an earlier queued conversation they
	// may take in preference to this one (queue order is fair), so claim
	// again until this one is assigned or nobody has room. Each round
	// assigns one conversation; the bound leaves a very long backlog to
	// the pulls.
	for range maxPushRounds {
		a, err := d.store.ClaimConversation(ctx, workspaceID, conversationID, now, decide)
		if err != nil || a == nil {
			return nil, err
		}
		d.assigned(ctx, a)
		if a.Conversation.ID == conversationID {
			return a, nil
		}
	}
	return nil, nil
}

// maxPushRounds bounds the claims one push makes while it serves earlier
// conversations of the queue first.
const maxPushRounds = 64

// Pull gives the agent the head of the queue while they have room.
func (d *Dispatcher) Pull(ctx context.Context, workspaceID, agentID int64) (int, error) {
	req, ok, err := d.pullRequest(ctx, workspaceID, agentID)
	if err != nil || !ok {
		return 0, err
	}
	n := 0
	for {
		a, err := d.store.ClaimNext(ctx, req)
		if err != nil {
			return n, err
		}
		if a == nil {
			return n, nil
		}
		n++
		d.assigned(ctx, a)
	}
}

// pullRequest works out what the agent may pull now: online, from inboxes
// that assign automatically, are open, and route to one of their teams.
// An agent without their own capacity gets the smallest default of those
// inboxes, so no inbox's limit is exceeded.
func (d *Dispatcher) pullRequest(ctx context.Context, workspaceID, agentID int64) (kefu.PullRequest, bool, error) {
	now := d.opts.Now()
	state, err := d.store.AgentState(ctx, workspaceID, agentID)
	if kefu.IsNotFound(err) {
		return kefu.PullRequest{}, false, nil
	}
	if err != nil {
		return kefu.PullRequest{}, false, err
	}
	if !state.Active || !routing.Connected(*state, now, d.opts.Grace) {
		return kefu.PullRequest{}, false, nil
	}
	agent := *state
	inboxes, err := d.store.ListInboxes(ctx, workspaceID)
	if err != nil {
		return kefu.PullRequest{}, false, err
	}
	req := kefu.PullRequest{WorkspaceID: workspaceID, AgentID: agentID, Capacity: agent.Capacity, Teams: agent.Teams, Now: now}
	minDefault := 0
	for _, in := range inboxes {
		st, err := d.settings(ctx, workspaceID, in.ID)
		if err != nil {
			return kefu.PullRequest{}, false, err
		}
		if st.settings.Policy == string(routing.PolicyManual) || !st.open(now) || len(kefu.InboxAgents([]kefu.AgentState{agent}, st.settings)) == 0 {
			continue
		}
		req.InboxIDs = append(req.InboxIDs, in.ID)
		if minDefault == 0 || st.settings.DefaultCapacity < minDefault {
			minDefault = st.settings.DefaultCapacity
		}
	}
	if req.Capacity <= 0 {
		req.Capacity = minDefault
	}
	return req, len(req.InboxIDs) > 0 && req.Capacity > 0, nil
}

// assigned announces a committed claim: the conversation frame with the
// reason, the event line in the transcript, and the queue change.
func (d *Dispatcher) assigned(ctx context.Context, a *kefu.Assignment) {
	c := a.Conversation
	d.chat.Announce(ctx, protocol.ConversationFrame{Event: "assigned", Changed: []string{"assignee_id"}, Reason: a.Reason}, c)
	name := "agent " + strconv.FormatInt(a.AgentID, 10)
	if ag, err := d.store.GetAgent(ctx, c.WorkspaceID, a.AgentID); err == nil {
		name = displayName(ag)
	}
	if _, err := d.chat.SystemMessage(ctx, c.WorkspaceID, c.ID, kefu.KindEvent, "Assigned to "+name); err != nil {
		d.log.Warn("assignment event not recorded", "conversation_id", c.ID, "err", err)
	}
	d.mu.Lock()
	d.forgetSent(c.ID)
	if d.opts.Bus == nil {
		d.estimator(c.InboxID).Observe(d.opts.Now())
	}
	d.mu.Unlock()
	d.queueChanged(c.WorkspaceID, c.InboxID, true)
}

func displayName(a *kefu.Agent) string {
	if a.Name != "" {
		return a.Name
	}
	return a.Email
}

// recordSent notes the position sent for a conversation; d.mu must be held.
func (d *Dispatcher) recordSent(conv int64, s sent) {
	if _, ok := d.sent[conv]; !ok {
		d.waiting[s.contact] = append(d.waiting[s.contact], conv)
	}
	d.sent[conv] = s
}

// forgetSent drops a conversation's sent position; d.mu must be held.
func (d *Dispatcher) forgetSent(conv int64) {
	s, ok := d.sent[conv]
	if !ok {
		return
	}
	delete(d.sent, conv)
	list := slices.DeleteFunc(d.waiting[s.contact], func(id int64) bool { return id == conv })
	if len(list) == 0 {
		delete(d.waiting, s.contact)
	} else {
		d.waiting[s.contact] = list
	}
}

// VisitorConnected is told of each visitor connection on this node: the
// positions sent before may never have reached this visitor (they were not
// connected, or reloaded the page), so the next tick sends their place
// again. Only this node looks: the visitor is connected here.
func (d *Dispatcher) VisitorConnected(actor kefu.Actor) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, conv := range slices.Clone(d.waiting[actor.ID]) {
		if s := d.sent[conv]; s.inboxID != 0 {
			d.recheck[s.inboxID] = actor.WorkspaceID
		}
		d.forgetSent(conv)
	}
	if actor.InboxID != 0 {
		d.recheck[actor.InboxID] = actor.WorkspaceID
	}
}

// estimator returns the inbox's wait estimator; d.mu must be held.
func (d *Dispatcher) estimator(inboxID int64) *routing.WaitEstimator {
	e, ok := d.estimate[inboxID]
	if !ok {
		e = routing.NewWaitEstimator(0)
		d.estimate[inboxID] = e
	}
	return e
}

// markDirty notes that an inbox's queue changed, here and on every node:
// positions are recomputed on the next tick, at most once a second.
func (d *Dispatcher) markDirty(workspaceID, inboxID int64) {
	d.queueChanged(workspaceID, inboxID, false)
}

func (d *Dispatcher) queueChanged(workspaceID, inboxID int64, assigned bool) {
	d.mu.Lock()
	d.dirty[inboxID] = workspaceID
	d.dropStatusLocked(workspaceID)
	d.mu.Unlock()
	if d.opts.Bus != nil {
		// The wait estimate observes assignments from the bus only, so an
		// echoing bus does not count this node's twice.
		d.chat.Publish(context.Background(), &kefu.Event{Type: kefu.EventQueueChanged, WorkspaceID: workspaceID, InboxID: inboxID, Assigned: assigned})
	}
}

// Transfer hands a conversation to another agent (manual assignment, the
// agent's capacity notwithstanding: a person decided) or to a team (back
// into the queue, restricted to the team). The note is kept as a private
// note; history is untouched.
func (d *Dispatcher) Transfer(ctx context.Context, actor kefu.Actor, id, toAgent, toTeam int64, note string) (*kefu.Conversation, error) {
	if !actor.IsAgent() {
		return nil, kefu.Errorf(kefu.EForbidden, "only agents transfer conversations")
	}
	if (toAgent == 0) == (toTeam == 0) {
		return nil, kefu.Errorf(kefu.EInvalid, "name exactly one of agent_id and team_id")
	}
	if len(note) > 2000 {
		return nil, kefu.Errorf(kefu.EInvalid, "note is longer than 2000 bytes")
	}
	before, err := d.chat.Conversation(ctx, actor, id)
	if err != nil {
		return nil, err
	}
	var after *kefu.Conversation
	target := ""
	if toAgent != 0 {
		ag, err := d.store.GetAgent(ctx, actor.WorkspaceID, toAgent)
		if kefu.IsNotFound(err) || (err == nil && !ag.Active) {
			return nil, kefu.Errorf(kefu.EInvalid, "agent %d is not an active agent of this workspace", toAgent)
		}
		if err != nil {
			return nil, err
		}
		target = displayName(ag)
		open := kefu.StatusOpen
		if after, err = d.store.UpdateConversation(ctx, actor.WorkspaceID, id, kefu.ConversationUpdate{AssigneeID: &toAgent, Status: &open}); err != nil {
			return nil, err
		}
	} else {
		team, err := d.store.GetTeam(ctx, actor.WorkspaceID, toTeam)
		if err != nil {
			return nil, err
		}
		target = "team " + team.Name
		if after, err = d.store.Requeue(ctx, actor.WorkspaceID, id, toTeam, "", d.opts.Now()); err != nil {
			return nil, err
		}
	}
	text := fmt.Sprintf("Transferred to %s", target)
	if note != "" {
		text += ": " + note
	}
	var noteSeq int64
	if m, err := d.chat.SystemMessage(ctx, actor.WorkspaceID, id, kefu.KindNote, text); err == nil {
		noteSeq = m.Seq
	} else {
		d.log.Warn("transfer note not recorded", "conversation_id", id, "err", err)
	}
	d.chat.Announce(ctx, protocol.ConversationFrame{Event: "transferred", Changed: []string{"assignee_id"}, Reason: "transfer",
		FromAgentID: before.AssigneeID, ToTeamID: toTeam, NoteSeq: noteSeq}, after)
	if before.AssigneeID != 0 && before.AssigneeID != after.AssigneeID {
		d.goPull(before.WorkspaceID, before.AssigneeID)
	}
	// Into the queue (to a team) or out of it (to an agent): the waiting
	// visitors' places change either way.
	d.markDirty(after.WorkspaceID, after.InboxID)
	if toTeam != 0 {
		if _, err := d.Push(ctx, after.WorkspaceID, after.ID); err != nil {
			return after, err
		}
		if c, err := d.store.GetConversation(ctx, after.WorkspaceID, after.ID); err == nil {
			after = c
		}
	}
	return after, nil
}

// goPull runs a pull off the caller's path; the router hooks must not block.
func (d *Dispatcher) goPull(workspaceID, agentID int64) {
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := d.Pull(ctx, workspaceID, agentID); err != nil {
			d.log.Warn("pull failed", "agent_id", agentID, "err", err)
		}
	}()
}

// The chat.Router hooks.

// ConversationStarted queues a visitor's new conversation.
func (d *Dispatcher) ConversationStarted(_ context.Context, c *kefu.Conversation) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if d.opts.BotActive != nil && d.opts.BotActive(ctx, c.WorkspaceID, c.InboxID) {
		return
	}
	if err := d.Enqueue(ctx, c); err != nil {
		d.log.Warn("enqueue failed", "conversation_id", c.ID, "err", err)
	}
}

// Handoff queues a conversation the bot hands to a person.
func (d *Dispatcher) Handoff(ctx context.Context, workspaceID, conversationID int64) error {
	c, err := d.store.GetConversation(ctx, workspaceID, conversationID)
	if err != nil {
		return err
	}
	if c.AssigneeID != 0 || c.Status != kefu.StatusOpen {
		return nil
	}
	return d.Enqueue(ctx, c)
}

// InsideHours reports whether the inbox is within its business hours at t.
func (d *Dispatcher) InsideHours(ctx context.Context, workspaceID, inboxID int64, t time.Time) bool {
	st, err := d.settings(ctx, workspaceID, inboxID)
	return err != nil || st.open(t)
}

// ConversationChanged frees the old assignee's slot, re-queues a
// conversation left open without an assignee, and marks the queue changed
// when a conversation leaves it or a queued one's priority or team changes.
func (d *Dispatcher) ConversationChanged(_ context.Context, before, after *kefu.Conversation) {
	if wasQueued, isQueued := queued(before), queued(after); wasQueued && (!isQueued ||
		before.Priority != after.Priority || before.TeamID != after.TeamID || !before.QueuedAt.Equal(*after.QueuedAt)) {
		d.markDirty(after.WorkspaceID, after.InboxID)
	}
	freed := before.AssigneeID != 0 && before.Status == kefu.StatusOpen &&
		(after.AssigneeID != before.AssigneeID || after.Status != kefu.StatusOpen)
	if freed {
		d.goPull(before.WorkspaceID, before.AssigneeID)
	}
	requeue := after.AssigneeID == 0 && after.Status == kefu.StatusOpen &&
		(before.AssigneeID != 0 || before.Status != kefu.StatusOpen)
	if requeue {
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if err := d.Enqueue(ctx, after); err != nil {
				d.log.Warn("requeue failed", "conversation_id", after.ID, "err", err)
			}
		}()
	}
}

// AvailabilityChanged pulls for an agent who came online.
func (d *Dispatcher) AvailabilityChanged(_ context.Context, workspaceID, agentID int64, a kefu.Availability) {
	if a == kefu.AvailabilityOnline {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		// Declaring online from the API counts as being seen.
		if err := d.store.TouchAgents(ctx, workspaceID, []int64{agentID}, d.opts.Now()); err != nil {
			d.log.Warn("touch failed", "agent_id", agentID, "err", err)
		}
		d.goPull(workspaceID, agentID)
	}
	// After the touch: a Status read in between must not be kept.
	d.mu.Lock()
	d.dropStatusLocked(workspaceID)
	d.mu.Unlock()
}

// ContactMessage runs message_received rules (off the commit goroutine).
func (d *Dispatcher) ContactMessage(_ context.Context, m *kefu.Message) {
	if !d.hasMessageRules(m.WorkspaceID) {
		return
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := d.store.GetConversation(ctx, m.WorkspaceID, m.ConversationID)
		if err != nil {
			return
		}
		team, prio, labels := d.applyRules(ctx, c, routing.Facts{Event: routing.EventMessageReceived, InboxID: c.InboxID, Message: m.Body})
		u := kefu.ConversationUpdate{}
		if prio != "" && prio != c.Priority {
			u.Priority = &prio
		}
		if len(labels) > 0 {
			all := append(slices.Clone(c.Labels), labels...)
			u.Labels = &all
		}
		if u.Priority != nil || u.Labels != nil {
			if _, err := d.chat.SystemUpdate(ctx, c.WorkspaceID, c.ID, u, ""); err != nil {
				d.log.Warn("rule actions not applied", "conversation_id", c.ID, "err", err)
			}
		}
		if team != 0 && team != c.TeamID && c.AssigneeID == 0 && c.Status == kefu.StatusOpen {
			// Conditional: an agent may have claimed it since c was read.
			if _, err := d.store.SetQueuedTeam(ctx, c.WorkspaceID, c.ID, team, d.opts.Now()); err == nil {
				d.markDirty(c.WorkspaceID, c.InboxID)
				_, _ = d.Push(ctx, c.WorkspaceID, c.ID)
			}
		}
	}()
}

// queued reports whether c waits in the queue (the stores' queue
// membership: open, unassigned, queued_at set).
func queued(c *kefu.Conversation) bool {
	return c.AssigneeID == 0 && c.Status == kefu.StatusOpen && c.QueuedAt != nil
}

func orNow(t *time.Time, now time.Time) *time.Time {
	if t == nil {
		return &now
	}
	return t
}
