package dispatch

import (
	"context"
	"encoding/json"
	"strconv"
	"time"

	"github.com/kefu-chat/kefu/internal/kefu"
	"github.com/kefu-chat/kefu/internal/protocol"
	"github.com/kefu-chat/kefu/internal/routing"
)

// heartbeat marks locally connected agents as seen: at once for a new
// connection (and pulls for them), every Grace/3 for the rest.
func (d *Dispatcher) heartbeat(ctx context.Context) {
	now := d.opts.Now()
	conns := d.opts.Hub.ConnectedAgents()
	all := now.Sub(d.touched) >= d.opts.Grace/3
	d.mu.Lock()
	prev := d.connected
	next := make(map[int64]map[int64]bool, len(conns))
	fresh := map[int64][]int64{}
	for ws, ids := range conns {
		next[ws] = map[int64]bool{}
		for _, id := range ids {
			next[ws][id] = true
			if !prev[ws][id] {
				fresh[ws] = append(fresh[ws], id)
			}
		}
	}
	d.connected = next
	if all {
		d.touched = now
	}
	d.mu.Unlock()
	touch := fresh
	if all {
		touch = conns
	}
	for ws, ids := range touch {
		if err := d.store.TouchAgents(ctx, ws, ids, now); err != nil {
			d.log.Warn("presence heartbeat failed", "workspace_id", ws, "err", err)
		}
	}
	if len(fresh) > 0 {
		// Someone connected here: the widget's Status may change now.
		d.mu.Lock()
		for ws := range fresh {
			d.dropStatusLocked(ws)
		}
		d.mu.Unlock()
	}
	// New connections pull at once, and every connected agent of a
	// workspace where an inbox just opened for automatic assignment
	// (business hours began, or it left the manual policy); the periodic
	// pass is a backstop for claims lost to a crash.
	pull := fresh
	opened := d.openings(ctx, now, conns)
	if all {
		pull = conns
	} else if len(opened) > 0 {
		pull = map[int64][]int64{}
		for ws, ids := range fresh {
			pull[ws] = ids
		}
		for ws := range opened {
			pull[ws] = conns[ws]
		}
	}
	for ws, ids := range pull {
		for _, id := range ids {
			if _, err := d.Pull(ctx, ws, id); err != nil {
				d.log.Warn("pull failed", "agent_id", id, "err", err)
			}
		}
	}
}

// openings reports the workspaces, among those with agents connected here,
// where an inbox became open for automatic assignment since the last
// look: inside business hours and not manual. The first look at an inbox
// only records its state, since the new connection's pull covers it.
// Settings come from the cache, reloaded at most every cacheTTL.
func (d *Dispatcher) openings(ctx context.Context, now time.Time, conns map[int64][]int64) map[int64]bool {
	d.mu.Lock()
	watch := make(map[int64]int64, len(d.inboxes)+len(d.gates))
	for id, st := range d.inboxes {
		watch[id] = st.settings.WorkspaceID
	}
	for id, g := range d.gates {
		watch[id] = g.workspaceID
	}
	d.mu.Unlock()
	opened := map[int64]bool{}
	for inboxID, ws := range watch {
		if len(conns[ws]) == 0 {
			continue
		}
		st, err := d.settings(ctx, ws, inboxID)
		if err != nil {
			if kefu.IsNotFound(err) {
				d.mu.Lock()
				delete(d.gates, inboxID)
				d.mu.Unlock()
			}
			continue
		}
		open := st.settings.Policy != string(routing.PolicyManual) && st.open(now)
		d.mu.Lock()
		g, seen := d.gates[inboxID]
		d.gates[inboxID] = gate{workspaceID: ws, open: open}
		d.mu.Unlock()
		if seen && open && !g.open {
			opened[ws] = true
		}
	}
	return opened
}

// sendPositions tells waiting visitors connected here their place in the
// queue of every inbox that changed since the last tick, only when their
// place changed (or they connected since it was last sent). A visitor's
// place counts the conversations waiting for the same team (no team is its
// own queue) in serving order. Agents get the queue's length when it
// changed.
func (d *Dispatcher) sendPositions(ctx context.Context) {
	d.mu.Lock()
	dirty, recheck := d.dirty, d.recheck
	d.dirty, d.recheck = map[int64]int64{}, map[int64]int64{}
	d.mu.Unlock()
	for inboxID, ws := range dirty {
		recheck[inboxID] = ws
	}
	now := d.opts.Now()
	for inboxID, ws := range recheck {
		q, err := d.store.ListQueue(ctx, ws, inboxID, 10000)
		if err != nil {
			d.log.Warn("queue read failed", "inbox_id", inboxID, "err", err)
			continue
		}
		if _, changed := dirty[inboxID]; changed {
			length := len(q)
			d.opts.Hub.Route(&kefu.Event{Type: kefu.EventQueue, WorkspaceID: ws, AgentsOnly: true,
				Frame: protocol.Encode(&protocol.QueueFrame{Type: protocol.TypeQueue, InboxID: inboxID, Length: &length})})
		}
		perTeam := map[int64]int{}
		queued := make(map[int64]bool, len(q))
		for _, e := range q {
			queued[e.ConversationID] = true
			perTeam[e.TeamID]++
			pos := perTeam[e.TeamID]
			d.mu.Lock()
			same := d.sent[e.ConversationID].pos == pos
			d.recordSent(e.ConversationID, sent{pos: pos, inboxID: inboxID, contact: e.ContactID})
			wait, ok := d.estimator(inboxID).Estimate(pos, now)
			d.mu.Unlock()
			if same {
				continue
			}
			f := &protocol.QueueFrame{Type: protocol.TypeQueue, ConversationID: e.ConversationID, Position: pos}
			if ok {
				secs := int(wait / time.Second)
				f.EstimatedWait = &secs
			}
			d.opts.Hub.Route(&kefu.Event{Type: kefu.EventQueue, WorkspaceID: ws, ConversationID: e.ConversationID,
				ContactID: e.ContactID, ContactOnly: true, ContactFrame: protocol.Encode(f)})
		}
		// Conversations that left this queue other than by a claim here
		// (resolved, assigned by hand or on another node, transferred).
		d.mu.Lock()
		for conv, s := range d.sent {
			if s.inboxID == inboxID && !queued[conv] {
				d.forgetSent(conv)
			}
		}
		d.mu.Unlock()
	}
}

// Sweep resolves idle conversations and reminds assignees of contacts
// waiting on them, for every inbox with those settings.
func (d *Dispatcher) Sweep(ctx context.Context) { d.SweepAt(ctx, d.opts.Now()) }

// SweepAt is Sweep as if the time were now. It lets a whole-program test
// run the sweep "in the future" rather than wait for the configured
// times; the dispatcher's own clock (settings caches, the wait estimate)
// is not touched.
func (d *Dispatcher) SweepAt(ctx context.Context, now time.Time) {
	all, err := d.store.ListRoutingSettings(ctx)
	if err != nil {
		d.log.Warn("sweep: settings", "err", err)
		return
	}
	for _, st := range all {
		if after := time.Duration(st.AutoResolveAfter); after > 0 {
			d.autoResolve(ctx, st, now.Add(-after), after)
		}
		if after := time.Duration(st.RemindAfter); after > 0 {
			d.remind(ctx, st, now.Add(-after))
		}
	}
}

func (d *Dispatcher) autoResolve(ctx context.Context, st *kefu.RoutingSettings, before time.Time, after time.Duration) {
	resolved := kefu.StatusResolved
	for {
		idle, err := d.store.IdleConversations(ctx, st.WorkspaceID, st.InboxID, before, 100)
		if err != nil || len(idle) == 0 {
			return
		}
		for _, c := range idle {
			why := "Resolved automatically after " + after.String() + " without activity"
			if _, err := d.chat.SystemUpdate(ctx, c.WorkspaceID, c.ID, kefu.ConversationUpdate{Status: &resolved}, why); err != nil {
				d.log.Warn("auto-resolve failed", "conversation_id", c.ID, "err", err)
				return
			}
		}
	}
}

func (d *Dispatcher) remind(ctx context.Context, st *kefu.RoutingSettings, before time.Time) {
	waiting, err := d.store.AwaitingAgent(ctx, st.WorkspaceID, st.InboxID, before, 500)
	if err != nil {
		d.log.Warn("reminders", "err", err)
		return
	}
	for _, c := range waiting {
		if err := d.store.MarkReminded(ctx, c.WorkspaceID, c.ID, c.LastSeq); err != nil {
			continue
		}
		d.chat.Publish(ctx, &kefu.Event{Type: kefu.EventReminder, WorkspaceID: c.WorkspaceID, ConversationID: c.ID,
			ContactID: c.ContactID, AssigneeID: c.AssigneeID, AgentsOnly: true,
			Frame: protocol.Encode(&protocol.ReminderFrame{Type: protocol.TypeReminder, ConversationID: c.ID, WaitingSince: c.LastActivityAt})})
	}
}

// Rules.

func (d *Dispatcher) ruleSet(ctx context.Context, workspaceID int64) *ruleSet {
	now := d.opts.Now()
	d.mu.Lock()
	rs, ok := d.rules[workspaceID]
	d.mu.Unlock()
	if ok && now.Sub(rs.loaded) < cacheTTL {
		return rs
	}
	rs = &ruleSet{loaded: now}
	stored, err := d.store.ListRoutingRules(ctx, workspaceID)
	if err != nil {
		d.log.Warn("rules not loaded", "workspace_id", workspaceID, "err", err)
		return rs
	}
	for _, r := range stored {
		if !r.Enabled {
			continue
		}
		var rule routing.Rule
		if err := json.Unmarshal(r.Rule, &rule); err != nil {
			continue
		}
		c, err := rule.Compile()
		if err != nil {
			continue
		}
		rs.rules = append(rs.rules, compiledRule{inboxID: r.InboxID, rule: c, event: rule.Event})
	}
	d.mu.Lock()
	d.rules[workspaceID] = rs
	d.mu.Unlock()
	return rs
}

func (d *Dispatcher) hasMessageRules(workspaceID int64) bool {
	for _, r := range d.ruleSet(context.Background(), workspaceID).rules {
		if r.event == routing.EventMessageReceived {
			return true
		}
	}
	return false
}

// applyRules evaluates the workspace's rules in order and folds their
// actions: a later set_team or set_priority wins, labels add up.
func (d *Dispatcher) applyRules(ctx context.Context, c *kefu.Conversation, facts routing.Facts) (team int64, prio kefu.Priority, labels []string) {
	rs := d.ruleSet(ctx, c.WorkspaceID)
	if len(rs.rules) == 0 {
		return 0, "", nil
	}
	contact, err := d.store.GetContact(ctx, c.WorkspaceID, c.ContactID)
	if err == nil {
		facts.PageURL = contact.PageURL
		facts.Contact = map[string]any{}
		for k, v := range contact.Attributes {
			facts.Contact[k] = v
		}
		facts.Contact["name"], facts.Contact["email"], facts.Contact["phone"] = contact.Name, contact.Email, contact.Phone
	}
	for _, r := range rs.rules {
		if r.inboxID != 0 && r.inboxID != c.InboxID {
			continue
		}
		for _, a := range r.rule.Evaluate(facts) {
			switch a.Type {
			case routing.ActionSetTeam:
				team, _ = strconv.ParseInt(a.Value, 10, 64)
			case routing.ActionSetPriority:
				prio = kefu.Priority(a.Value)
			case routing.ActionAddLabel:
				labels = append(labels, a.Value)
			}
		}
	}
	return team, prio, labels
}
