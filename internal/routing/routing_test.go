package routing

import (
	"fmt"
	"testing"
	"time"

	"github.com/kefu-chat/kefu/internal/kefu"
)

var t0 = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)

// agent builds an online, present candidate with room; tests change what
// they care about.
func agent(id int64, open, capacity int) Candidate {
	return Candidate{AgentID: id, Online: true, Open: open, Capacity: capacity}
}

func with(c Candidate, f func(*Candidate)) Candidate { f(&c); return c }

func TestPick(t *testing.T) {
	away := func(c *Candidate) { c.Away = true }
	offline := func(c *Candidate) { c.Online = false }
	teams := func(ids ...int64) func(*Candidate) { return func(c *Candidate) { c.Teams = ids } }
	lastAt := func(d time.Duration) func(*Candidate) { return func(c *Candidate) { c.LastAssignedAt = t0.Add(d) } }

	tests := []struct {
		name   string
		policy Policy
		req    Request
		agents []Candidate
		want   int64 // 0: no pick
	}{
		{"no agents", PolicyLeastLoaded, Request{}, nil, 0},
		{"manual never picks", PolicyManual, Request{}, []Candidate{agent(1, 0, 5)}, 0},
		{"manual ignores sticky", PolicyManual, Request{PreviousAgentID: 1}, []Candidate{agent(1, 0, 5)}, 0},
		{"unknown policy never picks", Policy("random"), Request{}, []Candidate{agent(1, 0, 5)}, 0},

		// Capacity and presence: the one gate.
		{"full agent skipped", PolicyLeastLoaded, Request{}, []Candidate{agent(1, 5, 5), agent(2, 4, 5)}, 2},
		{"everyone full", PolicyLeastLoaded, Request{}, []Candidate{agent(1, 5, 5), agent(2, 3, 3)}, 0},
		{"over capacity skipped", PolicyLeastLoaded, Request{}, []Candidate{agent(1, 7, 5)}, 0},
		{"zero capacity takes nothing", PolicyLeastLoaded, Request{}, []Candidate{agent(1, 0, 0)}, 0},
		{"negative capacity takes nothing", PolicyRoundRobin, Request{}, []Candidate{agent(1, 0, -1)}, 0},
		{"away skipped", PolicyLeastLoaded, Request{}, []Candidate{with(agent(1, 0, 5), away), agent(2, 4, 5)}, 2},
		{"offline skipped", PolicyLeastLoaded, Request{}, []Candidate{with(agent(1, 0, 5), offline), agent(2, 4, 5)}, 2},
		{"only away and offline", PolicyRoundRobin, Request{}, []Candidate{with(agent(1, 0, 5), away), with(agent(2, 0, 5), offline)}, 0},

		// Teams.
		{"team required", PolicyLeastLoaded, Request{Team: 7}, []Candidate{agent(1, 0, 5), with(agent(2, 3, 5), teams(3, 7))}, 2},
		{"nobody in team", PolicyLeastLoaded, Request{Team: 7}, []Candidate{with(agent(1, 0, 5), teams(3))}, 0},
		{"no team required takes anyone", PolicyLeastLoaded, Request{}, []Candidate{with(agent(1, 2, 5), teams(3)), agent(2, 3, 5)}, 1},

		// least_loaded ratio and ties.
		{"ratio not count", PolicyLeastLoaded, Request{}, []Candidate{agent(1, 2, 4), agent(2, 3, 10)}, 2},
		{"equal ratio different capacity ties", PolicyLeastLoaded, Request{}, []Candidate{
			with(agent(1, 1, 2), lastAt(0)), with(agent(2, 2, 4), lastAt(-time.Minute))}, 2},
		{"tie: longest since last assignment", PolicyLeastLoaded, Request{}, []Candidate{
			with(agent(1, 1, 5), lastAt(-time.Minute)), with(agent(2, 1, 5), lastAt(-time.Hour)), with(agent(3, 1, 5), lastAt(-2*time.Minute))}, 2},
		{"tie: never assigned counts as longest", PolicyLeastLoaded, Request{}, []Candidate{
			with(agent(1, 0, 5), lastAt(-time.Hour)), agent(2, 0, 5)}, 2},
		{"tie: lowest id last", PolicyLeastLoaded, Request{}, []Candidate{agent(9, 1, 5), agent(3, 1, 5), agent(5, 1, 5)}, 3},
		{"lower load beats older assignment", PolicyLeastLoaded, Request{}, []Candidate{
			with(agent(1, 2, 5), lastAt(-time.Hour)), with(agent(2, 1, 5), lastAt(0))}, 2},

		// Sticky.
		{"sticky to previous agent even if busier", PolicyLeastLoaded, Request{PreviousAgentID: 2},
			[]Candidate{agent(1, 0, 5), agent(2, 4, 5)}, 2},
		{"sticky under round robin", PolicyRoundRobin, Request{PreviousAgentID: 3},
			[]Candidate{agent(1, 0, 5), agent(2, 0, 5), agent(3, 0, 5)}, 3},
		{"sticky agent full falls back", PolicyLeastLoaded, Request{PreviousAgentID: 2},
			[]Candidate{agent(1, 1, 5), agent(2, 5, 5)}, 1},
		{"sticky agent away falls back", PolicyLeastLoaded, Request{PreviousAgentID: 2},
			[]Candidate{agent(1, 1, 5), with(agent(2, 0, 5), away)}, 1},
		{"sticky agent offline falls back", PolicyLeastLoaded, Request{PreviousAgentID: 2},
			[]Candidate{agent(1, 1, 5), with(agent(2, 0, 5), offline)}, 1},
		{"sticky agent outside required team falls back", PolicyLeastLoaded, Request{PreviousAgentID: 2, Team: 7},
			[]Candidate{with(agent(1, 1, 5), teams(7)), agent(2, 0, 5)}, 1},
		{"sticky agent gone falls back", PolicyLeastLoaded, Request{PreviousAgentID: 42},
			[]Candidate{agent(1, 1, 5)}, 1},
		{"sticky and nobody else", PolicyLeastLoaded, Request{PreviousAgentID: 2},
			[]Candidate{agent(2, 5, 5)}, 0},

		// Priority does not change who is eligible: an urgent request still
		// never overloads an agent.
		{"urgent respects capacity", PolicyLeastLoaded, Request{Priority: kefu.PriorityUrgent},
			[]Candidate{agent(1, 5, 5), with(agent(2, 0, 5), away)}, 0},
		{"round robin from fresh cursor picks lowest id", PolicyRoundRobin, Request{},
			[]Candidate{agent(5, 0, 5), agent(2, 3, 5), agent(8, 0, 5)}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := Pick(tt.policy, tt.req, tt.agents, &RoundRobinState{})
			if ok != (tt.want != 0) || got != tt.want {
				t.Fatalf("Pick = %d, %v; want %d, %v", got, ok, tt.want, tt.want != 0)
			}
		})
	}
}

func TestPickRoundRobin(t *testing.T) {
	agents := []Candidate{agent(30, 0, 2), agent(10, 0, 2), agent(20, 0, 2)}
	rr := &RoundRobinState{}
	var got []int64
	for range 6 {
		id, ok := Pick(PolicyRoundRobin, Request{}, agents, rr)
		if !ok {
			t.Fatal("no pick")
		}
		got = append(got, id)
	}
	if want := []int64{10, 20, 30, 10, 20, 30}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("turns = %v, want %v", got, want)
	}
	if rr.LastAgentID != 30 {
		t.Fatalf("cursor = %d, want 30", rr.LastAgentID)
	}
}

func TestPickRoundRobinSkipsAgentsWithoutRoom(t *testing.T) {
	tests := []struct {
		name     string
		cursor   int64
		agents   []Candidate
		want     int64
		wantNext int64 // cursor after the pick
	}{
		{"skips full", 10, []Candidate{agent(10, 0, 5), agent(20, 5, 5), agent(30, 0, 5)}, 30, 30},
		{"skips away", 10, []Candidate{agent(10, 0, 5), with(agent(20, 0, 5), func(c *Candidate) { c.Away = true }), agent(30, 0, 5)}, 30, 30},
		{"wraps", 30, []Candidate{agent(10, 0, 5), agent(20, 0, 5), agent(30, 0, 5)}, 10, 10},
		{"wraps past full", 20, []Candidate{agent(10, 5, 5), agent(20, 0, 5), agent(30, 5, 5)}, 20, 20},
		{"cursor on departed agent", 25, []Candidate{agent(10, 0, 5), agent(30, 0, 5)}, 30, 30},
		{"cursor beyond everyone", 99, []Candidate{agent(10, 0, 5), agent(30, 0, 5)}, 10, 10},
		{"nobody has room keeps cursor", 20, []Candidate{agent(10, 5, 5), agent(30, 5, 5)}, 0, 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rr := &RoundRobinState{LastAgentID: tt.cursor}
			got, ok := Pick(PolicyRoundRobin, Request{}, tt.agents, rr)
			if got != tt.want || ok != (tt.want != 0) {
				t.Fatalf("Pick = %d, %v; want %d", got, ok, tt.want)
			}
			if rr.LastAgentID != tt.wantNext {
				t.Fatalf("cursor = %d, want %d", rr.LastAgentID, tt.wantNext)
			}
		})
	}
}

func TestPickRoundRobinStickyKeepsTurn(t *testing.T) {
	agents := []Candidate{agent(1, 0, 5), agent(2, 0, 5), agent(3, 0, 5)}
	rr := &RoundRobinState{LastAgentID: 1}
	if id, _ := Pick(PolicyRoundRobin, Request{PreviousAgentID: 3}, agents, rr); id != 3 {
		t.Fatalf("sticky pick = %d, want 3", id)
	}
	if rr.LastAgentID != 1 {
		t.Fatalf("sticky pick moved the cursor to %d", rr.LastAgentID)
	}
	if id, _ := Pick(PolicyRoundRobin, Request{}, agents, rr); id != 2 {
		t.Fatalf("next turn = %d, want 2", id)
	}
}

func TestPickRoundRobinNilState(t *testing.T) {
	agents := []Candidate{agent(4, 0, 5), agent(2, 0, 5)}
	for range 2 {
		if id, ok := Pick(PolicyRoundRobin, Request{}, agents, nil); !ok || id != 2 {
			t.Fatalf("Pick = %d, %v; want 2", id, ok)
		}
	}
}

// TestPickNeverOverfills replays many decisions against a snapshot the
// test updates after each one, as the store will: no agent ever passes
// capacity, no away or offline agent gets anything, and every slot fills.
func TestPickNeverOverfills(t *testing.T) {
	for _, policy := range []Policy{PolicyLeastLoaded, PolicyRoundRobin} {
		t.Run(string(policy), func(t *testing.T) {
			var agents []Candidate
			for i := range int64(20) {
				c := agent(i+1, int(i%3), 5)
				c.Away = i%7 == 6
				c.Online = i%5 != 4
				agents = append(agents, c)
			}
			free := 0
			for _, a := range agents {
				if a.Online && !a.Away {
					free += a.Capacity - a.Open
				}
			}
			rr := &RoundRobinState{}
			assigned := 0
			for n := range 500 {
				req := Request{ConversationID: int64(n + 1), PreviousAgentID: int64(n%25 + 1)}
				id, ok := Pick(policy, req, agents, rr)
				if !ok {
					continue
				}
				assigned++
				for i := range agents {
					if agents[i].AgentID == id {
						a := &agents[i]
						if !a.Online || a.Away || a.Open >= a.Capacity {
							t.Fatalf("assigned to ineligible agent %+v", *a)
						}
						a.Open++
						a.LastAssignedAt = t0.Add(time.Duration(n) * time.Second)
					}
				}
			}
			if assigned != free {
				t.Fatalf("assigned %d, want every free slot (%d)", assigned, free)
			}
		})
	}
}

// TestLeastLoadedSpreads checks that least_loaded spreads work evenly
// across equal agents rather than filling one first.
func TestLeastLoadedSpreads(t *testing.T) {
	agents := []Candidate{agent(1, 0, 3), agent(2, 0, 3), agent(3, 0, 3)}
	var got []int64
	for n := range 6 {
		id, _ := Pick(PolicyLeastLoaded, Request{}, agents, nil)
		got = append(got, id)
		for i := range agents {
			if agents[i].AgentID == id {
				agents[i].Open++
				agents[i].LastAssignedAt = t0.Add(time.Duration(n) * time.Second)
			}
		}
	}
	if want := []int64{1, 2, 3, 1, 2, 3}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("picks = %v, want %v", got, want)
	}
}

func TestPolicyValid(t *testing.T) {
	for _, p := range []Policy{PolicyLeastLoaded, PolicyRoundRobin, PolicyManual} {
		if !p.Valid() {
			t.Errorf("%q not valid", p)
		}
	}
	if Policy("").Valid() || Policy("random").Valid() {
		t.Error("bad policy valid")
	}
}

func benchAgents(n int) []Candidate {
	agents := make([]Candidate, n)
	for i := range agents {
		agents[i] = Candidate{AgentID: int64(i + 1), Online: i%10 != 0, Away: i%17 == 0, Open: i % 6, Capacity: 5,
			Teams: []int64{int64(i%4 + 1), 9}, LastAssignedAt: t0.Add(-time.Duration(i) * time.Second)}
	}
	return agents
}

func BenchmarkPick200(b *testing.B) {
	agents := benchAgents(200)
	req := Request{ConversationID: 1, Team: 2, PreviousAgentID: 6, ArrivedAt: t0}
	for _, policy := range []Policy{PolicyLeastLoaded, PolicyRoundRobin} {
		b.Run(string(policy), func(b *testing.B) {
			rr := &RoundRobinState{}
			for b.Loop() {
				if _, ok := Pick(policy, req, agents, rr); !ok {
					b.Fatal("no pick")
				}
			}
		})
	}
}
