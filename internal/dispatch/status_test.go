package dispatch

import (
	"testing"
	"time"
)

// TestStatusCountsAndCache: Status counts the inbox's queue and its online
// agents; it is cached for statusTTL, and a change made through this
// dispatcher (a new conversation queued, an agent declaring online) shows
// at once, while one made behind its back (here the store directly, as
// another node would) shows once the cache expires.
func TestStatusCountsAndCache(t *testing.T) {
	e := newEnv(t)
	ws, inbox := e.f.Workspace.ID, e.f.Inbox.ID
	status := func() InboxStatus {
		t.Helper()
		st, err := e.d.Status(e.ctx(), ws, inbox)
		e.must(err)
		return *st
	}
	if st := status(); !st.Open || st.AgentsOnline != 0 || st.Queue != 0 {
		t.Fatalf("empty inbox: %+v, want open, nobody online, empty queue", st)
	}
	e.start()
	e.start()
	if st := status(); st.Queue != 2 {
		t.Fatalf("after two arrivals through the dispatcher: queue %d, want 2 at once", st.Queue)
	}
	// Another node's agent comes online: not seen within the TTL...
	e.online(e.f.Admin)
	if st := status(); st.AgentsOnline != 0 {
		t.Fatalf("a change behind the cache showed within its TTL: %+v", st)
	}
	// ...and seen after it.
	e.clock.Add(statusTTL)
	e.online(e.f.Admin) // fresh at the new time
	if st := status(); st.AgentsOnline != 1 {
		t.Fatalf("after the TTL: %d online, want 1", st.AgentsOnline)
	}
	// Declaring online through this node drops the cache at once (and the
	// pull takes the queue).
	e.must(e.store.TouchAgents(e.ctx(), ws, []int64{e.f.Agent.ID}, e.now()))
	e.must(e.chat.SetPresence(e.ctx(), e.f.AgentActor(), "online"))
	e.eventually("both online and the queue served", func() bool {
		st := status()
		return st.AgentsOnline == 2 && st.Queue == 0
	})
	// Past the grace period without heartbeats nobody counts.
	e.clock.Add(61 * time.Second)
	if st := status(); st.AgentsOnline != 0 {
		t.Errorf("61 s after the last heartbeat: %d online, want 0", st.AgentsOnline)
	}
}

// TestStatusCacheDropsOneWorkspace: a queue change in one workspace keeps
// the other tenants' cached Status (the public widget endpoints of a busy
// tenant must not empty everybody's cache).
func TestStatusCacheDropsOneWorkspace(t *testing.T) {
	e := newEnv(t)
	ws, inbox := e.f.Workspace.ID, e.f.Inbox.ID
	if _, err := e.d.Status(e.ctx(), ws, inbox); err != nil {
		t.Fatal(err)
	}
	e.d.mu.Lock()
	e.d.status[inbox+1000] = cachedStatus{workspaceID: ws + 1000, at: e.now()}
	e.d.mu.Unlock()
	e.d.markDirty(ws+1000, inbox+1000)
	e.d.mu.Lock()
	_, mine := e.d.status[inbox]
	_, theirs := e.d.status[inbox+1000]
	e.d.mu.Unlock()
	if !mine || theirs {
		t.Fatalf("after another workspace's queue change: own entry kept %v (want true), theirs kept %v (want false)", mine, theirs)
	}
}
