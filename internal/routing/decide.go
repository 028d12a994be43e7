package routing

import (
	"time"

	"github.com/kefu-chat/kefu/internal/kefu"
)

// Candidates turns a claim snapshot's agents into candidates. An agent is
// online when they declared themselves online and a live connection was
// seen within grace of now; away when they declared away.
func Candidates(agents []kefu.AgentState, now time.Time, grace time.Duration) []Candidate {
	out := make([]Candidate, len(agents))
	for i, a := range agents {
		out[i] = Candidate{
			AgentID: a.AgentID, Online: Connected(a, now, grace), Away: a.Availability == kefu.AvailabilityAway,
			Open: a.Open, Capacity: a.Capacity, Teams: a.Teams, LastAssignedAt: a.LastAssignedAt,
		}
	}
	return out
}

// Connected reports whether the agent is online for routing: declared
// online and heard from within grace.
func Connected(a kefu.AgentState, now time.Time, grace time.Duration) bool {
	return a.Availability == kefu.AvailabilityOnline && !a.LastSeenAt.IsZero() && now.Sub(a.LastSeenAt) <= grace
}

// RequestOf is the routing request for a queued conversation.
func RequestOf(q kefu.Queued, previousAgentID int64) Request {
	return Request{ConversationID: q.ConversationID, ContactID: q.ContactID, Priority: q.Priority, Team: q.TeamID,
		ArrivedAt: q.QueuedAt, PreviousAgentID: previousAgentID}
}

// Decide is the push decision over a claim snapshot: Pick under the
// inbox's policy, with stickiness when the inbox has it on. It is what the
// store's claim calls inside its transaction.
func Decide(snap *kefu.ClaimSnapshot, grace time.Duration) kefu.Decision {
	st := snap.Settings
	prev := int64(0)
	if st.Sticky {
		prev = snap.PreviousAgentID
	}
	req := RequestOf(snap.Conversation, prev)
	rr := RoundRobinState{LastAgentID: st.RRLastAgentID}
	id, ok := Pick(Policy(st.Policy), req, Candidates(snap.Agents, snap.Now, grace), &rr)
	if !ok {
		return kefu.Decision{}
	}
	reason := st.Policy
	if prev != 0 && id == prev {
		reason = "sticky"
	}
	return kefu.Decision{AgentID: id, Reason: reason}
}
