package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/kefu-chat/kefu/internal/kefu"
)

// The claims here run as one BEGIN IMMEDIATE transaction on the single
// writer connection, so they are serial with every other write: the
// snapshot a decision reads cannot change under it. The conditional
// updates (assignee still NULL, capacity re-counted) are kept anyway so the
// statements say the same thing as the PostgreSQL store's.

var _ kefu.RoutingStore = (*Store)(nil)

// dbtx is what *sql.DB and *sql.Tx share.
type dbtx interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

func (s *Store) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return mapErr(err, "transaction")
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	return mapErr(tx.Commit(), "transaction")
}

// idsJSON encodes ids for json_each(?), SQLite's stand-in for an array.
func idsJSON(ids []int64) string {
	if len(ids) == 0 {
		return "[]"
	}
	var b strings.Builder
	b.WriteByte('[')
	for i, id := range ids {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatInt(id, 10))
	}
	b.WriteByte(']')
	return b.String()
}

func decodeIDs(s string) []int64 {
	out := []int64{}
	if s != "" {
		_ = json.Unmarshal([]byte(s), &out)
	}
	if out == nil {
		out = []int64{}
	}
	return out
}

func uniqueIDs(ids []int64) []int64 {
	out := []int64{}
	seen := map[int64]bool{}
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

func microsOrZero(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return fromMicros(v)
}

// Teams.

func (s *Store) CreateTeam(ctx context.Context, t *kefu.Team) error {
	if t.CreatedAt.IsZero() {
		t.CreatedAt = kefu.Now()
	}
	t.UpdatedAt = t.CreatedAt
	return s.inTx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `INSERT INTO teams (workspace_id, name, created_at, updated_at) VALUES (?, ?, ?, ?) RETURNING id`,
			t.WorkspaceID, t.Name, micros(t.CreatedAt), micros(t.UpdatedAt)).Scan(&t.ID)
		if err != nil {
			return mapErr(err, "team")
		}
		return setMembers(ctx, tx, t)
	})
}

func setMembers(ctx context.Context, tx *sql.Tx, t *kefu.Team) error {
	t.AgentIDs = uniqueIDs(t.AgentIDs)
	if _, err := tx.ExecContext(ctx, `DELETE FROM team_members WHERE team_id = ?`, t.ID); err != nil {
		return mapErr(err, "team")
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO team_members (workspace_id, team_id, agent_id)
		SELECT ?, ?, id FROM agents WHERE workspace_id = ? AND id IN (SELECT value FROM json_each(?))`,
		t.WorkspaceID, t.ID, t.WorkspaceID, idsJSON(t.AgentIDs))
	if err != nil {
		return mapErr(err, "team")
	}
	if n, _ := res.RowsAffected(); int(n) != len(t.AgentIDs) {
		return kefu.Errorf(kefu.ENotFound, "agent not found")
	}
	return nil
}

func (s *Store) GetTeam(ctx context.Context, workspaceID, id int64) (*kefu.Team, error) {
	teams, err := s.listTeams(ctx, workspaceID, id)
	if err != nil {
		return nil, err
	}
	if len(teams) == 0 {
		return nil, kefu.Errorf(kefu.ENotFound, "team not found")
	}
	return teams[0], nil
}

func (s *Store) ListTeams(ctx context.Context, workspaceID int64) ([]*kefu.Team, error) {
	return s.listTeams(ctx, workspaceID, 0)
}

func (s *Store) listTeams(ctx context.Context, workspaceID, id int64) ([]*kefu.Team, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT t.id, t.workspace_id, t.name, t.created_at, t.updated_at,
		COALESCE((SELECT json_group_array(agent_id) FROM (SELECT m.agent_id FROM team_members m WHERE m.team_id = t.id ORDER BY m.agent_id)), '[]')
		FROM teams t WHERE t.workspace_id = ? AND (? = 0 OR t.id = ?) ORDER BY t.id`, workspaceID, id, id)
	if err != nil {
		return nil, mapErr(err, "teams")
	}
	defer rows.Close()
	out := []*kefu.Team{}
	for rows.Next() {
		var t kefu.Team
		var created, updated int64
		var members string
		if err := rows.Scan(&t.ID, &t.WorkspaceID, &t.Name, &created, &updated, &members); err != nil {
			return nil, mapErr(err, "teams")
		}
		t.CreatedAt, t.UpdatedAt, t.AgentIDs = fromMicros(created), fromMicros(updated), decodeIDs(members)
		out = append(out, &t)
	}
	return out, mapErr(rows.Err(), "teams")
}

func (s *Store) UpdateTeam(ctx context.Context, t *kefu.Team) error {
	t.UpdatedAt = kefu.Now()
	return s.inTx(ctx, func(tx *sql.Tx) error {
		var created int64
		err := tx.QueryRowContext(ctx, `UPDATE teams SET name = ?, updated_at = ? WHERE workspace_id = ? AND id = ? RETURNING created_at`,
			t.Name, micros(t.UpdatedAt), t.WorkspaceID, t.ID).Scan(&created)
		if err != nil {
			return mapErr(err, "team")
		}
		t.CreatedAt = fromMicros(created)
		return setMembers(ctx, tx, t)
	})
}

func (s *Store) DeleteTeam(ctx context.Context, workspaceID, id int64) error {
	// Members go by ON DELETE CASCADE, conversations' team_id by SET NULL.
	res, err := s.w.ExecContext(ctx, `DELETE FROM teams WHERE workspace_id = ? AND id = ?`, workspaceID, id)
	return affected(res, err, "team")
}

// Presence.

func (s *Store) SetAvailability(ctx context.Context, workspaceID, agentID int64, a kefu.Availability, now time.Time) error {
	res, err := s.w.ExecContext(ctx, `INSERT INTO agent_routing (agent_id, workspace_id, availability)
		SELECT id, workspace_id, ? FROM agents WHERE workspace_id = ? AND id = ?
		ON CONFLICT (agent_id) DO UPDATE SET availability = excluded.availability`, a, workspaceID, agentID)
	return affected(res, err, "agent")
}

func (s *Store) TouchAgents(ctx context.Context, workspaceID int64, agentIDs []int64, now time.Time) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO agent_routing (agent_id, workspace_id, availability, last_seen_at)
		SELECT id, workspace_id, 'online', ? FROM agents WHERE workspace_id = ? AND id IN (SELECT value FROM json_each(?))
		ON CONFLICT (agent_id) DO UPDATE SET last_seen_at = max(agent_routing.last_seen_at, excluded.last_seen_at)`,
		micros(now), workspaceID, idsJSON(agentIDs))
	return mapErr(err, "agent")
}

// agentStateQuery counts every agent's open conversations in one grouped
// scan rather than a subquery per agent.
const agentStateQuery = `WITH load AS (
		SELECT assignee_id, count(*) AS n FROM conversations
		WHERE workspace_id = ?1 AND status = 'open' AND assignee_id IS NOT NULL GROUP BY assignee_id),
	teams AS (
		SELECT agent_id, json_group_array(team_id) AS ids FROM (SELECT agent_id, team_id FROM team_members
		WHERE workspace_id = ?1 ORDER BY agent_id, team_id) GROUP BY agent_id)
	SELECT a.id, a.active, a.max_concurrent, COALESCE(r.availability, 'offline'),
	COALESCE(r.last_seen_at, 0), COALESCE(r.last_assigned_at, 0), COALESCE(l.n, 0), COALESCE(t.ids, '[]')
	FROM agents a LEFT JOIN agent_routing r ON r.agent_id = a.id
	LEFT JOIN load l ON l.assignee_id = a.id LEFT JOIN teams t ON t.agent_id = a.id
	WHERE a.workspace_id = ?1 ORDER BY a.id`

func agentStates(ctx context.Context, q dbtx, workspaceID int64) ([]kefu.AgentState, error) {
	rows, err := q.QueryContext(ctx, agentStateQuery, workspaceID)
	if err != nil {
		return nil, mapErr(err, "agents")
	}
	defer rows.Close()
	out := []kefu.AgentState{}
	for rows.Next() {
		var a kefu.AgentState
		var seen, assigned int64
		var teams string
		if err := rows.Scan(&a.AgentID, &a.Active, &a.Capacity, &a.Availability, &seen, &assigned, &a.Open, &teams); err != nil {
			return nil, mapErr(err, "agents")
		}
		a.LastSeenAt, a.LastAssignedAt, a.Teams = microsOrZero(seen), microsOrZero(assigned), decodeIDs(teams)
		out = append(out, a)
	}
	return out, mapErr(rows.Err(), "agents")
}

func (s *Store) AgentState(ctx context.Context, workspaceID, agentID int64) (*kefu.AgentState, error) {
	var a kefu.AgentState
	var seen, assigned int64
	var teams string
	err := s.r.QueryRowContext(ctx, `SELECT a.id, a.active, a.max_concurrent, COALESCE(r.availability, 'offline'),
		COALESCE(r.last_seen_at, 0), COALESCE(r.last_assigned_at, 0),
		(SELECT count(*) FROM conversations WHERE workspace_id = ?1 AND assignee_id = ?2 AND status = 'open'),
		COALESCE((SELECT json_group_array(team_id) FROM (SELECT team_id FROM team_members WHERE workspace_id = ?1 AND agent_id = ?2 ORDER BY team_id)), '[]')
		FROM agents a LEFT JOIN agent_routing r ON r.agent_id = a.id WHERE a.workspace_id = ?1 AND a.id = ?2`, workspaceID, agentID).
		Scan(&a.AgentID, &a.Active, &a.Capacity, &a.Availability, &seen, &assigned, &a.Open, &teams)
	if err != nil {
		return nil, mapErr(err, "agent")
	}
	a.LastSeenAt, a.LastAssignedAt, a.Teams = microsOrZero(seen), microsOrZero(assigned), decodeIDs(teams)
	return &a, nil
}

func (s *Store) ListAgentStates(ctx context.Context, workspaceID int64) ([]kefu.AgentState, error) {
	return agentStates(ctx, s.r, workspaceID)
}

// Settings.

const settingsColumns = `inbox_id, workspace_id, policy, default_capacity, sticky, team_ids, business_hours,
	auto_resolve_after, remind_after, rr_last_agent_id, updated_at`

func scanSettings(r interface{ Scan(...any) error }) (*kefu.RoutingSettings, error) {
	var st kefu.RoutingSettings
	var teams, hours string
	var resolve, remind, updated int64
	if err := r.Scan(&st.InboxID, &st.WorkspaceID, &st.Policy, &st.DefaultCapacity, &st.Sticky, &teams, &hours,
		&resolve, &remind, &st.RRLastAgentID, &updated); err != nil {
		return nil, err
	}
	st.TeamIDs = decodeIDs(teams)
	st.BusinessHours = json.RawMessage(hours)
	st.AutoResolveAfter, st.RemindAfter = kefu.Duration(time.Duration(resolve)*time.Second), kefu.Duration(time.Duration(remind)*time.Second)
	st.UpdatedAt = fromMicros(updated)
	return &st, nil
}

func settings(ctx context.Context, q dbtx, workspaceID, inboxID int64) (*kefu.RoutingSettings, error) {
	st, err := scanSettings(q.QueryRowContext(ctx, `SELECT `+settingsColumns+` FROM inbox_routing WHERE workspace_id = ? AND inbox_id = ?`, workspaceID, inboxID))
	if errors.Is(err, sql.ErrNoRows) {
		var n int
		if err := q.QueryRowContext(ctx, `SELECT count(*) FROM inboxes WHERE workspace_id = ? AND id = ?`, workspaceID, inboxID).Scan(&n); err != nil {
			return nil, mapErr(err, "inbox")
		}
		if n == 0 {
			return nil, kefu.Errorf(kefu.ENotFound, "inbox not found")
		}
		return kefu.DefaultRoutingSettings(workspaceID, inboxID), nil
	}
	return st, mapErr(err, "routing settings")
}

func (s *Store) GetRoutingSettings(ctx context.Context, workspaceID, inboxID int64) (*kefu.RoutingSettings, error) {
	return settings(ctx, s.r, workspaceID, inboxID)
}

func (s *Store) PutRoutingSettings(ctx context.Context, st *kefu.RoutingSettings) error {
	st.UpdatedAt = kefu.Now()
	st.TeamIDs = uniqueIDs(st.TeamIDs)
	hours := string(st.BusinessHours)
	if hours == "" {
		hours = "null"
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM teams WHERE workspace_id = ? AND id IN (SELECT value FROM json_each(?))`,
			st.WorkspaceID, idsJSON(st.TeamIDs)).Scan(&n); err != nil {
			return mapErr(err, "team")
		}
		if n != len(st.TeamIDs) {
			return kefu.Errorf(kefu.ENotFound, "team not found")
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO inbox_routing (inbox_id, workspace_id, policy, default_capacity, sticky, team_ids, business_hours,
			auto_resolve_after, remind_after, updated_at)
			SELECT id, workspace_id, ?, ?, ?, ?, ?, ?, ?, ? FROM inboxes WHERE workspace_id = ? AND id = ? AND true
			ON CONFLICT (inbox_id) DO UPDATE SET policy = excluded.policy, default_capacity = excluded.default_capacity,
			sticky = excluded.sticky, team_ids = excluded.team_ids, business_hours = excluded.business_hours,
			auto_resolve_after = excluded.auto_resolve_after, remind_after = excluded.remind_after, updated_at = excluded.updated_at`,
			st.Policy, st.DefaultCapacity, st.Sticky, idsJSON(st.TeamIDs), hours,
			int64(time.Duration(st.AutoResolveAfter)/time.Second), int64(time.Duration(st.RemindAfter)/time.Second), micros(st.UpdatedAt),
			st.WorkspaceID, st.InboxID)
		return affected(res, err, "inbox")
	})
}

func (s *Store) ListRoutingSettings(ctx context.Context) ([]*kefu.RoutingSettings, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+settingsColumns+` FROM inbox_routing ORDER BY workspace_id, inbox_id`)
	if err != nil {
		return nil, mapErr(err, "routing settings")
	}
	defer rows.Close()
	out := []*kefu.RoutingSettings{}
	for rows.Next() {
		st, err := scanSettings(rows)
		if err != nil {
			return nil, mapErr(err, "routing settings")
		}
		out = append(out, st)
	}
	return out, mapErr(rows.Err(), "routing settings")
}

// Rules.

const ruleColumns = `id, workspace_id, COALESCE(inbox_id, 0), name, position, enabled, rule, created_at, updated_at`

func scanRule(r interface{ Scan(...any) error }) (*kefu.RoutingRule, error) {
	var rr kefu.RoutingRule
	var rule string
	var created, updated int64
	if err := r.Scan(&rr.ID, &rr.WorkspaceID, &rr.InboxID, &rr.Name, &rr.Position, &rr.Enabled, &rule, &created, &updated); err != nil {
		return nil, err
	}
	rr.Rule = json.RawMessage(rule)
	rr.CreatedAt, rr.UpdatedAt = fromMicros(created), fromMicros(updated)
	return &rr, nil
}

func (s *Store) CreateRoutingRule(ctx context.Context, r *kefu.RoutingRule) error {
	if r.CreatedAt.IsZero() {
		r.CreatedAt = kefu.Now()
	}
	r.UpdatedAt = r.CreatedAt
	err := s.w.QueryRowContext(ctx, `INSERT INTO routing_rules (workspace_id, inbox_id, name, position, enabled, rule, created_at, updated_at)
		SELECT ?, ?, ?, ?, ?, ?, ?, ?
		WHERE ? = 0 OR EXISTS (SELECT 1 FROM inboxes WHERE workspace_id = ? AND id = ?) RETURNING id`,
		r.WorkspaceID, nullID(r.InboxID), r.Name, r.Position, r.Enabled, string(r.Rule), micros(r.CreatedAt), micros(r.UpdatedAt),
		r.InboxID, r.WorkspaceID, r.InboxID).Scan(&r.ID)
	return mapErr(err, "inbox")
}

func (s *Store) ListRoutingRules(ctx context.Context, workspaceID int64) ([]*kefu.RoutingRule, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+ruleColumns+` FROM routing_rules WHERE workspace_id = ? ORDER BY position, id`, workspaceID)
	if err != nil {
		return nil, mapErr(err, "routing rules")
	}
	defer rows.Close()
	out := []*kefu.RoutingRule{}
	for rows.Next() {
		r, err := scanRule(rows)
		if err != nil {
			return nil, mapErr(err, "routing rules")
		}
		out = append(out, r)
	}
	return out, mapErr(rows.Err(), "routing rules")
}

func (s *Store) UpdateRoutingRule(ctx context.Context, r *kefu.RoutingRule) error {
	r.UpdatedAt = kefu.Now()
	var created int64
	err := s.w.QueryRowContext(ctx, `UPDATE routing_rules SET inbox_id = ?, name = ?, position = ?, enabled = ?, rule = ?, updated_at = ?
		WHERE workspace_id = ? AND id = ? AND (? = 0 OR EXISTS (SELECT 1 FROM inboxes WHERE workspace_id = ? AND id = ?)) RETURNING created_at`,
		nullID(r.InboxID), r.Name, r.Position, r.Enabled, string(r.Rule), micros(r.UpdatedAt),
		r.WorkspaceID, r.ID, r.InboxID, r.WorkspaceID, r.InboxID).Scan(&created)
	r.CreatedAt = fromMicros(created)
	return mapErr(err, "routing rule or inbox")
}

func (s *Store) DeleteRoutingRule(ctx context.Context, workspaceID, id int64) error {
	res, err := s.w.ExecContext(ctx, `DELETE FROM routing_rules WHERE workspace_id = ? AND id = ?`, workspaceID, id)
	return affected(res, err, "routing rule")
}

// The queue and the claims.

func (s *Store) Requeue(ctx context.Context, workspaceID, conversationID, teamID int64, priority kefu.Priority, now time.Time) (*kefu.Conversation, error) {
	c, err := scanConversation(s.w.QueryRowContext(ctx, `UPDATE conversations SET assignee_id = NULL, status = 'open', snoozed_until = NULL,
		queued_at = ?, team_id = ?, priority = COALESCE(?, priority), updated_at = ?
		WHERE workspace_id = ? AND id = ? AND (? = 0 OR EXISTS (SELECT 1 FROM teams WHERE workspace_id = ? AND id = ?))
		RETURNING `+convCols, micros(now), nullID(teamID), nullString(string(priority)), micros(now),
		workspaceID, conversationID, teamID, workspaceID, teamID))
	return c, mapErr(err, "conversation or team")
}

func (s *Store) SetQueuedTeam(ctx context.Context, workspaceID, conversationID, teamID int64, now time.Time) (*kefu.Conversation, error) {
	c, err := scanConversation(s.w.QueryRowContext(ctx, `UPDATE conversations SET team_id = ?, queued_at = COALESCE(queued_at, ?), updated_at = ?
		WHERE workspace_id = ? AND id = ? AND assignee_id IS NULL AND status = 'open'
		AND (? = 0 OR EXISTS (SELECT 1 FROM teams WHERE workspace_id = ? AND id = ?))
		RETURNING `+convCols, nullID(teamID), micros(now), micros(now), workspaceID, conversationID, teamID, workspaceID, teamID))
	return c, mapErr(err, "waiting conversation or team")
}

const (
	queuedColumns = `id, inbox_id, contact_id, COALESCE(team_id, 0), priority, queued_at`
	queueWhere    = `assignee_id IS NULL AND status = 'open' AND queued_at IS NOT NULL`
	queueOrder    = `priority_rank DESC, queued_at, id`
)

func scanQueued(r interface{ Scan(...any) error }) (*kefu.Queued, error) {
	var q kefu.Queued
	var at int64
	if err := r.Scan(&q.ConversationID, &q.InboxID, &q.ContactID, &q.TeamID, &q.Priority, &at); err != nil {
		return nil, err
	}
	q.QueuedAt = fromMicros(at)
	return &q, nil
}

func (s *Store) ListQueue(ctx context.Context, workspaceID, inboxID int64, limit int) ([]kefu.Queued, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+queuedColumns+` FROM conversations
		WHERE workspace_id = ? AND (? = 0 OR inbox_id = ?) AND `+queueWhere+` ORDER BY `+queueOrder+` LIMIT ?`,
		workspaceID, inboxID, inboxID, limit)
	if err != nil {
		return nil, mapErr(err, "queue")
	}
	defer rows.Close()
	out := []kefu.Queued{}
	for rows.Next() {
		q, err := scanQueued(rows)
		if err != nil {
			return nil, mapErr(err, "queue")
		}
		out = append(out, *q)
	}
	return out, mapErr(rows.Err(), "queue")
}

func (s *Store) QueueLength(ctx context.Context, workspaceID, inboxID int64) (int, error) {
	var n int
	err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM conversations
		WHERE workspace_id = ? AND inbox_id = ? AND `+queueWhere, workspaceID, inboxID).Scan(&n)
	return n, mapErr(err, "queue")
}

func (s *Store) CountOnlineAgents(ctx context.Context, workspaceID int64, teamIDs []int64, seenSince time.Time) (int, error) {
	var n int
	err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM agent_routing r JOIN agents a ON a.id = r.agent_id
		WHERE r.workspace_id = ?1 AND r.availability = 'online' AND r.last_seen_at > 0 AND r.last_seen_at >= ?2 AND a.active
		AND (json_array_length(?3) = 0 OR EXISTS (SELECT 1 FROM team_members m
			WHERE m.workspace_id = ?1 AND m.agent_id = a.id AND m.team_id IN (SELECT value FROM json_each(?3))))`,
		workspaceID, micros(seenSince), idsJSON(teamIDs)).Scan(&n)
	return n, mapErr(err, "agents")
}

func (s *Store) ClaimConversation(ctx context.Context, workspaceID, conversationID int64, now time.Time, decide func(*kefu.ClaimSnapshot) kefu.Decision) (*kefu.Assignment, error) {
	var out *kefu.Assignment
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		q, err := scanQueued(tx.QueryRowContext(ctx, `SELECT `+queuedColumns+` FROM conversations
			WHERE workspace_id = ? AND id = ? AND `+queueWhere, workspaceID, conversationID))
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return mapErr(err, "conversation")
		}
		snap, err := claimSnapshot(ctx, tx, workspaceID, q, now)
		if err != nil {
			return err
		}
		out, err = claimLoop(ctx, tx, snap, decide)
		return err
	})
	return out, err
}

func claimSnapshot(ctx context.Context, tx *sql.Tx, workspaceID int64, q *kefu.Queued, now time.Time) (*kefu.ClaimSnapshot, error) {
	st, err := settings(ctx, tx, workspaceID, q.InboxID)
	if err != nil {
		return nil, err
	}
	agents, err := agentStates(ctx, tx, workspaceID)
	if err != nil {
		return nil, err
	}
	snap := &kefu.ClaimSnapshot{Conversation: *q, Settings: st, Agents: kefu.InboxAgents(agents, st), Now: now}
	if st.Sticky {
		err := tx.QueryRowContext(ctx, `SELECT assignee_id FROM conversations WHERE workspace_id = ? AND contact_id = ? AND id <> ?
			AND assignee_id IS NOT NULL ORDER BY last_activity_at DESC, id DESC LIMIT 1`, workspaceID, q.ContactID, q.ConversationID).Scan(&snap.PreviousAgentID)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return nil, mapErr(err, "conversation")
		}
	}
	return snap, nil
}

func claimLoop(ctx context.Context, tx *sql.Tx, snap *kefu.ClaimSnapshot, decide func(*kefu.ClaimSnapshot) kefu.Decision) (*kefu.Assignment, error) {
	ws, conv := snap.Settings.WorkspaceID, snap.Conversation.ConversationID
	for range len(snap.Agents) + 1 {
		d := decide(snap)
		if d.AgentID == 0 {
			return nil, nil
		}
		i := kefu.AgentIndex(snap.Agents, d.AgentID)
		if i < 0 {
			return nil, kefu.Errorf(kefu.EInternal, "decision picked agent %d outside the snapshot", d.AgentID)
		}
		open, ok, err := agentSlot(ctx, tx, ws, d.AgentID, snap.Agents[i].Capacity)
		if err != nil {
			return nil, err
		}
		if !ok {
			snap.Agents[i].Open = max(open, snap.Agents[i].Capacity)
			continue
		}
		// Queue fairness: an earlier conversation this agent may take is
		// served before the one being pushed, which stays queued.
		target, reason := conv, d.Reason
		head, err := earlierHead(ctx, tx, snap, snap.Agents[i].Teams)
		if err != nil {
			return nil, err
		}
		if head != 0 {
			target, reason = head, "queue"
		}
		c, err := assign(ctx, tx, ws, target, d.AgentID, snap.Now)
		if err != nil {
			return nil, err
		}
		if snap.Settings.Policy == "round_robin" && d.Reason == "round_robin" {
			if _, err := tx.ExecContext(ctx, `UPDATE inbox_routing SET rr_last_agent_id = ? WHERE workspace_id = ? AND inbox_id = ?`,
				d.AgentID, ws, snap.Settings.InboxID); err != nil {
				return nil, mapErr(err, "routing settings")
			}
		}
		return &kefu.Assignment{Conversation: c, AgentID: d.AgentID, Reason: reason}, nil
	}
	return nil, nil
}

// earlierHead returns the first conversation of the snapshot's inbox queue
// that is ordered before the snapshot's conversation (queueOrder) and that
// an agent of the given teams may take, or 0 when there is none. A
// conversation requiring no team, or one of teams, qualifies.
func earlierHead(ctx context.Context, tx *sql.Tx, snap *kefu.ClaimSnapshot, teams []int64) (int64, error) {
	q := snap.Conversation
	var id int64
	err := tx.QueryRowContext(ctx, `SELECT c.id FROM conversations c,
		(SELECT priority_rank AS me_rank, queued_at AS me_at FROM conversations WHERE workspace_id = ?1 AND id = ?3) me
		WHERE c.workspace_id = ?1 AND c.inbox_id = ?2 AND `+queueWhere+`
		AND (c.team_id IS NULL OR c.team_id IN (SELECT value FROM json_each(?4)))
		AND (c.priority_rank > me_rank OR (c.priority_rank = me_rank AND (c.queued_at, c.id) < (me_at, ?3)))
		ORDER BY `+queueOrder+` LIMIT 1`, snap.Settings.WorkspaceID, q.InboxID, q.ConversationID, idsJSON(teams)).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return id, mapErr(err, "queue")
}

// agentSlot counts the agent's open conversations; the writer lock makes
// the count current for the rest of the transaction.
func agentSlot(ctx context.Context, tx *sql.Tx, workspaceID, agentID int64, capacity int) (int, bool, error) {
	var open int
	err := tx.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM conversations WHERE workspace_id = ? AND assignee_id = ? AND status = 'open')
		FROM agent_routing WHERE workspace_id = ? AND agent_id = ?`, workspaceID, agentID, workspaceID, agentID).Scan(&open)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, mapErr(err, "agent")
	}
	return open, open < capacity, nil
}

func assign(ctx context.Context, tx *sql.Tx, workspaceID, conversationID, agentID int64, now time.Time) (*kefu.Conversation, error) {
	c, err := scanConversation(tx.QueryRowContext(ctx, `UPDATE conversations SET assignee_id = ?, updated_at = ?
		WHERE workspace_id = ? AND id = ? AND assignee_id IS NULL RETURNING `+convCols, agentID, micros(now), workspaceID, conversationID))
	if err != nil {
		return nil, mapErr(err, "conversation")
	}
	if _, err := tx.ExecContext(ctx, `UPDATE agent_routing SET last_assigned_at = ? WHERE workspace_id = ? AND agent_id = ?`,
		micros(now), workspaceID, agentID); err != nil {
		return nil, mapErr(err, "agent")
	}
	return c, nil
}

func (s *Store) ClaimNext(ctx context.Context, p kefu.PullRequest) (*kefu.Assignment, error) {
	if len(p.InboxIDs) == 0 {
		return nil, nil
	}
	var out *kefu.Assignment
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		_, ok, err := agentSlot(ctx, tx, p.WorkspaceID, p.AgentID, p.Capacity)
		if err != nil || !ok {
			return err
		}
		// One inbox (the usual case) is a walk down the queue index in
		// order; a list of inboxes makes SQLite sort the candidates.
		inboxes, arg := `inbox_id IN (SELECT value FROM json_each(?))`, any(idsJSON(p.InboxIDs))
		if len(p.InboxIDs) == 1 {
			inboxes, arg = `inbox_id = ?`, p.InboxIDs[0]
		}
		var id int64
		err = tx.QueryRowContext(ctx, `SELECT id FROM conversations
			WHERE workspace_id = ? AND `+inboxes+` AND `+queueWhere+`
			AND (team_id IS NULL OR team_id IN (SELECT value FROM json_each(?)))
			ORDER BY `+queueOrder+` LIMIT 1`, p.WorkspaceID, arg, idsJSON(p.Teams)).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return mapErr(err, "queue")
		}
		c, err := assign(ctx, tx, p.WorkspaceID, id, p.AgentID, p.Now)
		if err != nil {
			return err
		}
		out = &kefu.Assignment{Conversation: c, AgentID: p.AgentID, Reason: "queue"}
		return nil
	})
	return out, err
}

// Sweeps.

func (s *Store) listConversations(ctx context.Context, query string, args ...any) ([]*kefu.Conversation, error) {
	rows, err := s.r.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, mapErr(err, "conversations")
	}
	defer rows.Close()
	out := []*kefu.Conversation{}
	for rows.Next() {
		c, err := scanConversation(rows)
		if err != nil {
			return nil, mapErr(err, "conversations")
		}
		out = append(out, c)
	}
	return out, mapErr(rows.Err(), "conversations")
}

func (s *Store) IdleConversations(ctx context.Context, workspaceID, inboxID int64, before time.Time, limit int) ([]*kefu.Conversation, error) {
	return s.listConversations(ctx, `SELECT `+convCols+` FROM conversations
		WHERE workspace_id = ? AND inbox_id = ? AND status IN ('open', 'pending') AND last_activity_at < ?
		AND NOT (`+queueWhere+`)
		ORDER BY last_activity_at, id LIMIT ?`, workspaceID, inboxID, micros(before), limit)
}

func (s *Store) AwaitingAgent(ctx context.Context, workspaceID, inboxID int64, before time.Time, limit int) ([]*kefu.Conversation, error) {
	return s.listConversations(ctx, `SELECT `+convCols+` FROM conversations c
		WHERE workspace_id = ? AND inbox_id = ? AND status = 'open' AND assignee_id IS NOT NULL
		AND last_activity_at < ? AND reminded_seq < last_seq
		AND (SELECT m.sender_type FROM messages m WHERE m.conversation_id = c.id AND m.seq = c.last_seq) = 'contact'
		ORDER BY last_activity_at, id LIMIT ?`, workspaceID, inboxID, micros(before), limit)
}

func (s *Store) MarkReminded(ctx context.Context, workspaceID, conversationID, seq int64) error {
	_, err := s.w.ExecContext(ctx, `UPDATE conversations SET reminded_seq = max(reminded_seq, ?) WHERE workspace_id = ? AND id = ?`,
		seq, workspaceID, conversationID)
	return mapErr(err, "conversation")
}
