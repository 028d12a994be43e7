package e2e

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kefu-chat/kefu/internal/kefutest"
)

// TestTwoProcessesAssignWithoutDoubleClaims runs two real server processes
// on one PostgreSQL database. Conversations arrive on both at once, and
// agents free slots on both at once: every conversation is assigned at
// most once, and no agent ever holds more than their capacity.
func TestTwoProcessesAssignWithoutDoubleClaims(t *testing.T) {
	const (
		agents   = 8
		capacity = 3
		convs    = 80
	)
	pg := kefutest.PostgresURL(t)
	env := []string{"KEFU_DATABASE_URL=" + pg, "KEFU_NATS_URL=" + natsURL(), fmt.Sprintf("KEFU_NATS_SUBJECT=kefutest.routing.%d", time.Now().UnixNano())}
	nodes := []*process{startProcess(t, t.TempDir(), freePort(t), env...), startProcess(t, t.TempDir(), freePort(t), env...)}
	node := func(i int) string { return nodes[i%2].url }

	admin := mustCall(t, 200, "POST", node(0)+"/api/v1/auth/login", "", map[string]any{"email": adminEmail, "password": adminPassword})["token"].(string)
	mustCall(t, 200, "PUT", node(0)+"/api/v1/me/availability", admin, map[string]any{"availability": "offline"})
	inbox := mustCall(t, 200, "GET", node(0)+"/api/v1/inboxes", admin, nil)["data"].([]any)[0].(map[string]any)
	inboxID, inboxToken := num(inbox["id"]), inbox["public_token"].(string)
	mustCall(t, 200, "PUT", fmt.Sprintf("%s/api/v1/inboxes/%d/routing", node(0), inboxID), admin, map[string]any{"default_capacity": capacity})
	tokens := make([]string, agents)
	for i := range agents {
		email := fmt.Sprintf("agent%d@example.com", i)
		mustCall(t, 201, "POST", node(0)+"/api/v1/agents", admin, map[string]any{"email": email, "name": fmt.Sprintf("Agent %d", i), "password": adminPassword})
		tokens[i] = mustCall(t, 200, "POST", node(i)+"/api/v1/auth/login", "", map[string]any{"email": email, "password": adminPassword})["token"].(string)
		mustCall(t, 200, "PUT", node(i)+"/api/v1/me/availability", tokens[i], map[string]any{"availability": "online"})
	}

	// Arrivals on both nodes at once.
	ids := make([]int64, convs)
	var wg sync.WaitGroup
	for i := range convs {
		wg.Go(func() {
			st, out := call(t, "POST", node(i)+"/api/v1/widget/sessions", "", map[string]any{"inbox_token": inboxToken})
			if st != 200 && st != 201 {
				t.Errorf("session: %d %v", st, out)
				return
			}
			st, out = call(t, "POST", node(i)+"/api/v1/widget/conversations", out["token"].(string), map[string]any{})
			if st != 201 {
				t.Errorf("start: %d %v", st, out)
				return
			}
			ids[i] = num(out["id"])
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	check := func(wantAssigned int) map[int64]int64 {
		t.Helper()
		assignee := map[int64]int64{}
		deadline := time.Now().Add(20 * time.Second)
		for {
			load := map[int64]int{}
			assigned := 0
			for _, id := range ids {
				c := mustCall(t, 200, "GET", fmt.Sprintf("%s/api/v1/conversations/%d", node(int(id)), id), admin, nil)
				if a := num(c["assignee_id"]); a != 0 && c["status"] == "open" {
					assigned++
					load[a]++
					assignee[id] = a
				}
			}
			for a, n := range load {
				if n > capacity {
					t.Fatalf("agent %d holds %d open conversations, capacity %d", a, n, capacity)
				}
			}
			if assigned == wantAssigned {
				return assignee
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d conversations assigned, want %d", assigned, wantAssigned)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	first := check(agents * capacity)

	// Every agent resolves all their chats, half through each node, at once:
	// both nodes pull for them concurrently.
	for id := range first {
		wg.Go(func() {
			mustCall(t, 200, "PATCH", fmt.Sprintf("%s/api/v1/conversations/%d", node(int(id)+1), id), admin, map[string]any{"status": "resolved"})
		})
	}
	wg.Wait()
	second := check(agents * capacity)
	for id := range second {
		if _, again := first[id]; again {
			t.Errorf("conversation %d assigned in both rounds", id)
		}
	}
	// The transcripts agree: one "Assigned to" line per assigned conversation.
	for _, id := range ids {
		msgs := mustCall(t, 200, "GET", fmt.Sprintf("%s/api/v1/conversations/%d/messages?limit=100", node(0), id), admin, nil)["data"].([]any)
		n := 0
		for _, m := range msgs {
			if strings.HasPrefix(m.(map[string]any)["body"].(string), "Assigned to ") {
				n++
			}
		}
		_, a1 := first[id]
		_, a2 := second[id]
		want := 0
		if a1 || a2 {
			want = 1
		}
		if n != want {
			t.Errorf("conversation %d has %d 'Assigned to' lines, want %d", id, n, want)
		}
	}
}
