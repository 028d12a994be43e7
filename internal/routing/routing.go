// Package routing decides who answers a conversation: assignment policies,
// queue order and wait estimates, business hours, and routing rules.
//
// Everything here is a pure function of a snapshot the caller hands in (the
// candidates, the queue, the time): nothing reads a clock, a database or a
// global. The atomic claim that makes a decision stick when many
// conversations and several server nodes race is the store's job, described
// in docs/routing.md; this package only says what the right answer is for
// one consistent snapshot. It imports only the standard library and
// internal/kefu.
package routing

import (
	"slices"
	"time"

	"github.com/kefu-chat/kefu/internal/kefu"
)

// Policy is an inbox's assignment policy.
type Policy string

const (
	// PolicyLeastLoaded picks the agent with the fewest open conversations
	// relative to capacity.
	PolicyLeastLoaded Policy = "least_loaded"
	// PolicyRoundRobin takes turns in agent id order, per inbox.
	PolicyRoundRobin Policy = "round_robin"
	// PolicyManual never assigns: conversations wait in the queue until an
	// agent takes one.
	PolicyManual Policy = "manual"
)

func (p Policy) Valid() bool {
	switch p {
	case PolicyLeastLoaded, PolicyRoundRobin, PolicyManual:
		return true
	}
	return false
}

// Candidate is one agent as the routing decision sees them at one moment.
type Candidate struct {
	AgentID int64 `json:"agent_id"`
	Online  bool  `json:"online"`
	Away    bool  `json:"away"`
	Open    int   `json:"open"` // open conversations assigned now
	// Capacity is the resolved maximum of concurrent open conversations:
	// the caller applies the inbox default for an agent's 0 before building
	// the candidate. Zero or less means the agent takes nothing.
	Capacity       int       `json:"capacity"`
	Teams          []int64   `json:"teams"`
	LastAssignedAt time.Time `json:"last_assigned_at"` // zero: never
}

// HasRoom reports whether c has a free slot, regardless of presence.
func (c *Candidate) HasRoom() bool { return c.Capacity > 0 && c.Open < c.Capacity }

// InTeam reports whether c belongs to team; team 0 means no team is
// required, so everyone qualifies.
func (c *Candidate) InTeam(team int64) bool {
	return team == 0 || slices.Contains(c.Teams, team)
}

// Eligible reports whether c may receive req now: online, not away, with a
// free slot, and in the required team. It is the one gate every policy and
// the sticky rule go through, so no path assigns to an away, offline or
// full agent.
func (c *Candidate) Eligible(req *Request) bool {
	return c.Online && !c.Away && c.HasRoom() && c.InTeam(req.Team)
}

// Request is one conversation waiting for an agent.
type Request struct {
	ConversationID int64         `json:"conversation_id"`
	ContactID      int64         `json:"contact_id"`
	Priority       kefu.Priority `json:"priority"`
	Team           int64         `json:"team"` // required team; 0: any
	ArrivedAt      time.Time     `json:"arrived_at"`
	// PreviousAgentID is the agent who last served this contact (sticky
	// routing); 0: none.
	PreviousAgentID int64 `json:"previous_agent_id"`
}

// RoundRobinState is the cursor of one inbox's round robin: the id of the
// agent who got the last turn. It is a plain value so the store can keep it
// in the inbox row and advance it in the same transaction as the claim.
//
// The cursor is an agent id, not an index, so agents joining, leaving or
// going away between decisions do not shift anyone's turn: the next turn is
// the eligible agent with the smallest id above the cursor, wrapping round
// to the smallest id.
type RoundRobinState struct {
	LastAgentID int64 `json:"last_agent_id"`
}

// Pick chooses the agent for req among agents under policy, and reports
// false when nobody may take it (the conversation then waits in the queue).
//
// The sticky rule comes first for every automatic policy: a returning
// contact goes back to req.PreviousAgentID when that agent is eligible
// (online, not away, with room, in the required team). Otherwise:
//   - least_loaded: the lowest Open/Capacity ratio; ties go to the agent
//     who has waited longest since their last assignment (never assigned
//     counts as longest), then to the lowest id.
//   - round_robin: the next eligible agent after rr's cursor in id order;
//     rr advances to the agent picked. A sticky pick does not advance it,
//     so the contact's return does not cost anyone their turn. A nil rr
//     starts from the lowest id and remembers nothing.
//   - manual, or an unknown policy: never picks.
//
// Pick does not change agents; it reads them only.
func Pick(policy Policy, req Request, agents []Candidate, rr *RoundRobinState) (agentID int64, ok bool) {
	if policy != PolicyLeastLoaded && policy != PolicyRoundRobin {
		return 0, false
	}
	if req.PreviousAgentID != 0 {
		for i := range agents {
			if agents[i].AgentID == req.PreviousAgentID && agents[i].Eligible(&req) {
				return agents[i].AgentID, true
			}
		}
	}
	if policy == PolicyLeastLoaded {
		return pickLeastLoaded(&req, agents)
	}
	return pickRoundRobin(&req, agents, rr)
}

func pickLeastLoaded(req *Request, agents []Candidate) (int64, bool) {
	best := -1
	for i := range agents {
		if !agents[i].Eligible(req) {
			continue
		}
		if best < 0 || lessLoaded(&agents[i], &agents[best]) {
			best = i
		}
	}
	if best < 0 {
		return 0, false
	}
	return agents[best].AgentID, true
}

// lessLoaded orders candidates for least_loaded: a strictly lower load
// ratio first, then the longer wait since the last assignment, then the
// lower id. Ratios are compared by cross-multiplying in int64, so there is
// no rounding and no overflow for any realistic capacity.
func lessLoaded(a, b *Candidate) bool {
	l, r := int64(a.Open)*int64(b.Capacity), int64(b.Open)*int64(a.Capacity)
	if l != r {
		return l < r
	}
	if !a.LastAssignedAt.Equal(b.LastAssignedAt) {
		return a.LastAssignedAt.Before(b.LastAssignedAt)
	}
	return a.AgentID < b.AgentID
}

func pickRoundRobin(req *Request, agents []Candidate, rr *RoundRobinState) (int64, bool) {
	var cursor int64
	if rr != nil {
		cursor = rr.LastAgentID
	}
	// One pass finds both the smallest eligible id above the cursor and the
	// smallest eligible id overall (the wrap-around choice).
	var next, first int64
	found := false
	for i := range agents {
		a := &agents[i]
		if !a.Eligible(req) {
			continue
		}
		if !found || a.AgentID < first {
			first = a.AgentID
		}
		found = true
		if a.AgentID > cursor && (next == 0 || a.AgentID < next) {
			next = a.AgentID
		}
	}
	if !found {
		return 0, false
	}
	if next == 0 {
		next = first
	}
	if rr != nil {
		rr.LastAgentID = next
	}
	return next, true
}
