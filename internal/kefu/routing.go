package kefu

import (
	"context"
	"encoding/json"
	"time"
)

// Rank is a priority's place in the queue: urgent 4, high 3, medium 2,
// low 1, none 0. An unknown priority ranks as none, so a bad value can never
// jump the queue. Stores keep it beside the priority for the queue index.
func (p Priority) Rank() int {
	switch p {
	case PriorityUrgent:
		return 4
	case PriorityHigh:
		return 3
	case PriorityMedium:
		return 2
	case PriorityLow:
		return 1
	}
	return 0
}

// Availability is what an agent declared in the workbench. An agent counts
// as online for routing only while also connected (or within the grace
// period after the last connection dropped).
type Availability string

const (
	AvailabilityOnline  Availability = "online"
	AvailabilityAway    Availability = "away"
	AvailabilityOffline Availability = "offline"
)

func (a Availability) Valid() bool {
	return a == AvailabilityOnline || a == AvailabilityAway || a == AvailabilityOffline
}

// Team is a group of agents (a skill group); inboxes route to teams and a
// conversation may require one.
type Team struct {
	ID          int64     `json:"id"`
	WorkspaceID int64     `json:"workspace_id"`
	Name        string    `json:"name"`
	AgentIDs    []int64   `json:"agent_ids"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// AgentState is an agent as routing sees it.
type AgentState struct {
	AgentID        int64        `json:"agent_id"`
	Availability   Availability `json:"availability"`
	LastSeenAt     time.Time    `json:"last_seen_at"` // last heartbeat of a live connection; zero: never
	LastAssignedAt time.Time    `json:"last_assigned_at"`
	Open           int          `json:"open"`     // open conversations assigned now
	Capacity       int          `json:"capacity"` // agent's max_concurrent, or the inbox default when 0
	Teams          []int64      `json:"teams"`
	Active         bool         `json:"active"`
}

// RoutingSettings are an inbox's routing configuration.
type RoutingSettings struct {
	InboxID         int64   `json:"inbox_id"`
	WorkspaceID     int64   `json:"workspace_id"`
	Policy          string  `json:"policy"`           // least_loaded, round_robin or manual
	DefaultCapacity int     `json:"default_capacity"` // for agents whose max_concurrent is 0
	Sticky          bool    `json:"sticky"`
	TeamIDs         []int64 `json:"team_ids"` // empty: every agent of the workspace
	// BusinessHours is a routing.Schedule as JSON; null: always open.
	BusinessHours json.RawMessage `json:"business_hours"`
	// AutoResolveAfter resolves conversations idle this long (0: never).
	AutoResolveAfter Duration `json:"auto_resolve_after"`
	// RemindAfter reminds the assignee of a conversation whose last message
	// is the contact's and older than this (0: never).
	RemindAfter   Duration  `json:"remind_after"`
	RRLastAgentID int64     `json:"-"`
	UpdatedAt     time.Time `json:"updated_at"`
}

// DefaultRoutingSettings are an inbox's settings until an admin changes them.
func DefaultRoutingSettings(workspaceID, inboxID int64) *RoutingSettings {
	return &RoutingSettings{InboxID: inboxID, WorkspaceID: workspaceID, Policy: "least_loaded", DefaultCapacity: 5,
		Sticky: true, TeamIDs: []int64{}, BusinessHours: json.RawMessage("null")}
}

// Duration is a time.Duration that reads and writes as whole seconds in
// JSON, the unit the admin console and API use.
type Duration time.Duration

func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(int64(time.Duration(d) / time.Second))
}

func (d *Duration) UnmarshalJSON(b []byte) error {
	var s int64
	if err := json.Unmarshal(b, &s); err != nil {
		return Errorf(EInvalid, "a duration is a whole number of seconds")
	}
	if s < 0 {
		return Errorf(EInvalid, "a duration cannot be negative")
	}
	*d = Duration(time.Duration(s) * time.Second)
	return nil
}

// RoutingRule is a stored routing rule: a routing.Rule as JSON, validated
// before it is saved, applied in Position order.
type RoutingRule struct {
	ID          int64           `json:"id"`
	WorkspaceID int64           `json:"workspace_id"`
	InboxID     int64           `json:"inbox_id"` // 0: every inbox
	Name        string          `json:"name"`
	Position    int             `json:"position"`
	Enabled     bool            `json:"enabled"`
	Rule        json.RawMessage `json:"rule"`
	CreatedAt   time.Time       `json:"created_at"`
	UpdatedAt   time.Time       `json:"updated_at"`
}

// Queued is one conversation waiting for an agent.
type Queued struct {
	ConversationID int64     `json:"conversation_id"`
	InboxID        int64     `json:"inbox_id"`
	ContactID      int64     `json:"contact_id"`
	TeamID         int64     `json:"team_id"`
	Priority       Priority  `json:"priority"`
	QueuedAt       time.Time `json:"queued_at"`
}

// ClaimSnapshot is what a push claim decides over, read inside the claim's
// transaction after the conversation is locked.
type ClaimSnapshot struct {
	Conversation    Queued
	Settings        *RoutingSettings
	Agents          []AgentState // agents who may serve the inbox, with their load
	PreviousAgentID int64        // who last served the contact; 0: nobody
	Now             time.Time
}

// Decision is a claim's choice: the agent and why; AgentID 0 leaves the
// conversation queued.
type Decision struct {
	AgentID int64
	Reason  string // sticky, least_loaded, round_robin, manual
}

// Assignment is a committed claim.
type Assignment struct {
	Conversation *Conversation
	AgentID      int64
	Reason       string
}

// PullRequest asks for the head of the queue for one agent.
type PullRequest struct {
	WorkspaceID int64
	AgentID     int64
	Capacity    int     // the agent's resolved capacity
	InboxIDs    []int64 // inboxes that may pull now (auto policy, open hours, agent allowed)
	Teams       []int64 // the agent's teams: conversations requiring another team are skipped
	Now         time.Time
}

// RoutingStore keeps teams, agent presence, routing settings, rules and the
// queue, and makes assignments stick. The claims are the one place an
// assignment decision is committed: each is one transaction that locks the
// conversation, then the inbox's routing row (round robin), then the
// agent's routing row, re-checks capacity under that lock, and assigns.
// Two claimers never assign one conversation twice nor push an agent over
// capacity, on one node or many sharing PostgreSQL.
type RoutingStore interface {
	CreateTeam(ctx context.Context, t *Team) error
	GetTeam(ctx context.Context, workspaceID, id int64) (*Team, error)
	ListTeams(ctx context.Context, workspaceID int64) ([]*Team, error)
	UpdateTeam(ctx context.Context, t *Team) error // name and members
	DeleteTeam(ctx context.Context, workspaceID, id int64) error

	SetAvailability(ctx context.Context, workspaceID, agentID int64, a Availability, now time.Time) error
	// TouchAgents records that the agents have a live connection now.
	TouchAgents(ctx context.Context, workspaceID int64, agentIDs []int64, now time.Time) error
	ListAgentStates(ctx context.Context, workspaceID int64) ([]AgentState, error)
	// AgentState is one agent's state (ENotFound for another workspace's).
	AgentState(ctx context.Context, workspaceID, agentID int64) (*AgentState, error)

	GetRoutingSettings(ctx context.Context, workspaceID, inboxID int64) (*RoutingSettings, error)
	PutRoutingSettings(ctx context.Context, s *RoutingSettings) error

	CreateRoutingRule(ctx context.Context, r *RoutingRule) error
	ListRoutingRules(ctx context.Context, workspaceID int64) ([]*RoutingRule, error)
	UpdateRoutingRule(ctx context.Context, r *RoutingRule) error
	DeleteRoutingRule(ctx context.Context, workspaceID, id int64) error

	// Requeue puts a conversation (back) in the queue: unassigned, open,
	// queued now, with the required team (0: any) and, when priority is
	// not empty, that priority.
	Requeue(ctx context.Context, workspaceID, conversationID, teamID int64, priority Priority, now time.Time) (*Conversation, error)
	// SetQueuedTeam sets the required team of a conversation, and queues
	// it at now if it was not queued, only while it is open and unassigned,
	// in one conditional write: a rule firing on a message must not undo
	// an assignment made since the rule read the conversation (Requeue
	// unassigns). Not found: no longer open and unassigned, or no such team.
	SetQueuedTeam(ctx context.Context, workspaceID, conversationID, teamID int64, now time.Time) (*Conversation, error)
	// ClaimConversation runs a push claim: if the conversation is still
	// queued, decide picks an agent from the snapshot; the agent's slot is
	// re-checked under its lock (a full agent is dropped from the snapshot
	// and decide asked again). Queue order is kept: when a conversation of
	// the same inbox ordered before this one (priority, then queued_at,
	// then id) is queued and the chosen agent may take it (it requires no
	// team or one of the agent's), that one is assigned instead, with
	// reason "queue", and this one stays queued; the caller claims again.
	// Nil Assignment: it stays queued (or was not queued at all).
	ClaimConversation(ctx context.Context, workspaceID, conversationID int64, now time.Time, decide func(*ClaimSnapshot) Decision) (*Assignment, error)
	// ClaimNext runs a pull claim: the head of the queue this agent may
	// take, if the agent has room. Nil Assignment: nothing to take or no room.
	ClaimNext(ctx context.Context, p PullRequest) (*Assignment, error)
	// ListQueue lists an inbox's queued conversations in serving order
	// (inboxID 0: every inbox), at most limit.
	ListQueue(ctx context.Context, workspaceID, inboxID int64, limit int) ([]Queued, error)
	// QueueLength counts an inbox's queued conversations (one index range
	// count; the public widget endpoints call it, so no rows are read).
	QueueLength(ctx context.Context, workspaceID, inboxID int64) (int, error)
	// CountOnlineAgents counts the active agents of the workspace declared
	// online and seen at or after seenSince; with teamIDs, only members of
	// one of them. It is routing.Connected as one count, for the widget.
	CountOnlineAgents(ctx context.Context, workspaceID int64, teamIDs []int64, seenSince time.Time) (int, error)
	// IdleConversations lists open or pending conversations of the inbox
	// whose last activity is before the cutoff, oldest first. Conversations
	// waiting in the queue are not idle: they wait for an agent (or the
	// next opening), however long that takes.
	IdleConversations(ctx context.Context, workspaceID, inboxID int64, before time.Time, limit int) ([]*Conversation, error)
	// AwaitingAgent lists assigned open conversations of the inbox whose
	// newest message is the contact's and older than before, and that were
	// not reminded since that message.
	AwaitingAgent(ctx context.Context, workspaceID, inboxID int64, before time.Time, limit int) ([]*Conversation, error)
	// MarkReminded records that the assignee was reminded about the
	// conversation's current last message.
	MarkReminded(ctx context.Context, workspaceID, conversationID, seq int64) error
	// ListRoutedInboxes lists every (workspace, inbox) with settings, for
	// the periodic sweeps.
	ListRoutingSettings(ctx context.Context) ([]*RoutingSettings, error)
}

// InboxAgents narrows a workspace's agents to those who may serve an inbox
// (active, and in one of its teams when it names any) and resolves each
// one's capacity with the inbox default.
func InboxAgents(all []AgentState, st *RoutingSettings) []AgentState {
	out := make([]AgentState, 0, len(all))
	for _, a := range all {
		if !a.Active || (len(st.TeamIDs) > 0 && !sharesTeam(a.Teams, st.TeamIDs)) {
			continue
		}
		if a.Capacity <= 0 {
			a.Capacity = st.DefaultCapacity
		}
		out = append(out, a)
	}
	return out
}

func sharesTeam(a, b []int64) bool {
	for _, x := range a {
		for _, y := range b {
			if x == y {
				return true
			}
		}
	}
	return false
}

// AgentIndex returns the index of the agent in states, or -1.
func AgentIndex(states []AgentState, agentID int64) int {
	for i := range states {
		if states[i].AgentID == agentID {
			return i
		}
	}
	return -1
}
