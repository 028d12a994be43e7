package routing

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/kefu-chat/kefu/internal/kefu"
)

// TestDrainSimulation plays the scenario on the pure decision,
// single-threaded, the way the store will drive it: 500 conversations
// arrive in random order at 20 agents of capacity 5; those that find no
// room queue; agents then resolve conversations one at a time and each
// freed slot takes the head of the queue. Every conversation is assigned
// exactly once, no agent ever passes capacity, and the queue drains in
// exactly the documented order. (The concurrent version, against real
// databases, belongs to the store's wiring.)
func TestDrainSimulation(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	prios := []kefu.Priority{kefu.PriorityNone, kefu.PriorityLow, kefu.PriorityMedium, kefu.PriorityHigh, kefu.PriorityUrgent}
	agents := make([]Candidate, 20)
	for i := range agents {
		agents[i] = Candidate{AgentID: int64(i + 1), Online: true, Capacity: 5}
	}
	reqs := make([]Request, 500)
	for i := range reqs {
		reqs[i] = Request{ConversationID: int64(i + 1), ContactID: int64(i + 1), Priority: prios[rng.IntN(len(prios))],
			ArrivedAt: t0.Add(time.Duration(rng.IntN(60)) * time.Second)}
	}
	rng.Shuffle(len(reqs), func(i, j int) { reqs[i], reqs[j] = reqs[j], reqs[i] })

	assignedTo := map[int64]int64{}
	open := map[int64][]int64{} // agent -> open conversations
	assign := func(convID, agentID int64) {
		if prev, ok := assignedTo[convID]; ok {
			t.Fatalf("conversation %d assigned twice (%d, then %d)", convID, prev, agentID)
		}
		a := &agents[agentID-1]
		if !a.Eligible(&Request{}) {
			t.Fatalf("agent %d assigned over capacity (%d/%d)", agentID, a.Open, a.Capacity)
		}
		a.Open++
		assignedTo[convID] = agentID
		open[agentID] = append(open[agentID], convID)
	}

	var queue []Request
	for _, r := range reqs {
		if id, ok := Pick(PolicyLeastLoaded, r, agents, nil); ok {
			assign(r.ConversationID, id)
		} else {
			queue = append(queue, r)
		}
	}
	if len(assignedTo) != 100 || len(queue) != 400 {
		t.Fatalf("after arrivals: %d assigned, %d queued; want 100 and 400", len(assignedTo), len(queue))
	}
	want := slices.Clone(queue)
	Sort(want)

	var served []Request
	for len(queue) > 0 {
		a := &agents[rng.IntN(len(agents))]
		if a.Open == 0 {
			continue
		}
		// Resolve one of the agent's conversations: a slot frees.
		k := rng.IntN(len(open[a.AgentID]))
		open[a.AgentID] = slices.Delete(open[a.AgentID], k, k+1)
		a.Open--
		head, ok := Next(queue, *a)
		if !ok {
			t.Fatal("an agent with room found nothing in a non-empty queue")
		}
		if Position(queue, head.ConversationID) != 1 {
			t.Fatalf("Next gave position %d, want the head", Position(queue, head.ConversationID))
		}
		assign(head.ConversationID, a.AgentID)
		served = append(served, head)
		queue = slices.DeleteFunc(queue, func(r Request) bool { return r.ConversationID == head.ConversationID })
	}
	if len(assignedTo) != 500 {
		t.Fatalf("%d assigned, want 500", len(assignedTo))
	}
	if !slices.Equal(ids(served), ids(want)) {
		t.Fatal("the queue did not drain in the documented order")
	}
}
