package storetest

import (
	"fmt"
	"testing"

	"github.com/kefu-chat/kefu/internal/kefu"
)

// wantLastAdmin fails unless err is kefu.LastAdminError: a conflict, and
// not some other one (a taken email is a conflict too).
func wantLastAdmin(tb testing.TB, what string, err error) {
	tb.Helper()
	if kefu.ErrorCode(err) != kefu.EConflict || kefu.ErrorMessage(err) != kefu.LastAdminError().Message {
		tb.Errorf("%s: got error %v, want %v", what, err, kefu.LastAdminError())
	}
}

// activeAdmins counts the workspace's active admins.
func (f *fixture) activeAdmins(ws int64) int {
	f.tb.Helper()
	list, err := f.s.ListAgents(f.ctx, ws)
	if err != nil {
		f.tb.Fatalf("ListAgents: %v", err)
	}
	n := 0
	for _, a := range list {
		if a.Active && a.Role == kefu.RoleAdmin {
			n++
		}
	}
	return n
}

// testLastAdmin pins the rule UpdateAgent enforces: a workspace never
// loses its last active admin. Only active admins count, only of the
// agent's own workspace; every other change goes through.
func testLastAdmin(t *testing.T, s kefu.Store) {
	f := newFixture(t, s)
	ctx := f.ctx
	ws, other := f.workspace(), f.workspace()
	admin := f.admin(ws.ID)
	agent := f.agent(ws.ID)
	retired := f.admin(ws.ID) // an admin, but deactivated: does not count
	retired.Active = false
	if err := s.UpdateAgent(ctx, retired); err != nil {
		t.Fatalf("UpdateAgent(deactivate one of two admins): %v", err)
	}
	lone := f.admin(other.ID)

	// update applies edit to a copy of a and returns the error; on success
	// a becomes the copy.
	update := func(a *kefu.Agent, edit func(*kefu.Agent)) error {
		upd := *a
		edit(&upd)
		err := s.UpdateAgent(ctx, &upd)
		if err == nil {
			*a = upd
		}
		return err
	}
	unchanged := func(what string, a *kefu.Agent) {
		t.Helper()
		got, err := s.GetAgent(ctx, a.WorkspaceID, a.ID)
		if err != nil {
			t.Fatalf("GetAgent: %v", err)
		}
		check(t, what, got, a)
	}
	demote := func(a *kefu.Agent) { a.Role = kefu.RoleAgent }
	deactivate := func(a *kefu.Agent) { a.Active = false }

	for name, edit := range map[string]func(*kefu.Agent){
		"demote":                demote,
		"deactivate":            deactivate,
		"demote and deactivate": func(a *kefu.Agent) { demote(a); deactivate(a) },
		"demote and rename":     func(a *kefu.Agent) { demote(a); a.Name = "Renamed" },
	} {
		wantLastAdmin(t, "last admin: "+name, update(admin, edit))
	}
	unchanged("the last admin after refused updates", admin)
	wantLastAdmin(t, "the only admin of the other workspace: demote", update(lone, demote))
	unchanged("the other workspace's admin", lone)

	// What keeps an admin an active admin, or touches anyone else, is
	// not the rule's business.
	if err := update(admin, func(a *kefu.Agent) { a.Name, a.MaxConcurrent = "Still in charge", 3 }); err != nil {
		t.Errorf("renaming the last admin: %v", err)
	}
	if err := update(agent, deactivate); err != nil {
		t.Errorf("deactivating an agent: %v", err)
	}
	if err := update(retired, func(a *kefu.Agent) { a.Name = "Retired" }); err != nil {
		t.Errorf("renaming a deactivated admin: %v", err)
	}

	// A missing agent, or one of another workspace, is not found whatever
	// the update would do.
	missing := *admin
	missing.ID = lone.ID + 1000
	missing.Role = kefu.RoleAgent
	wantCode(t, "UpdateAgent(missing, demote)", s.UpdateAgent(ctx, &missing), kefu.ENotFound)
	hijack := *lone
	hijack.WorkspaceID, hijack.Active = ws.ID, false
	wantCode(t, "UpdateAgent(other workspace's admin, deactivate)", s.UpdateAgent(ctx, &hijack), kefu.ENotFound)
	unchanged("the other workspace's admin", lone)

	// With a second active admin either may step down, and then the
	// other is the last.
	if err := update(retired, func(a *kefu.Agent) { a.Active = true }); err != nil {
		t.Fatalf("reactivating an admin: %v", err)
	}
	if err := update(admin, demote); err != nil {
		t.Fatalf("demoting one of two active admins: %v", err)
	}
	wantLastAdmin(t, "deactivating the remaining admin", update(retired, deactivate))
	if err := update(agent, func(a *kefu.Agent) { a.Role, a.Active = kefu.RoleAdmin, true }); err != nil {
		t.Fatalf("promoting an agent: %v", err)
	}
	if err := update(retired, deactivate); err != nil {
		t.Errorf("deactivating one of two active admins: %v", err)
	}
	if n := f.activeAdmins(ws.ID); n != 1 {
		t.Errorf("active admins at the end: got %d, want 1", n)
	}
}

// testLastAdminConcurrent has n active admins step down at the same moment,
// each through its own UpdateAgent, round after round: exactly n-1 may
// succeed, the rest must fail with LastAdminError, and one active admin
// must remain. A check made before the write, outside the write's own
// atomic step, lets them all through now and then.
func testLastAdminConcurrent(t *testing.T, s kefu.Store) {
	f := newFixture(t, s)
	ctx := f.ctx
	ws := f.workspace()
	agents := []*kefu.Agent{f.admin(ws.ID), f.admin(ws.ID), f.admin(ws.ID)}
	const rounds = 60
	for round := range rounds {
		// Two admins in even rounds, three in odd ones; the rest plain
		// agents. Promote first, so the reset never meets the rule.
		n := 2 + round%2
		for i, a := range agents {
			if i < n && !(a.Active && a.Role == kefu.RoleAdmin) {
				a.Role, a.Active = kefu.RoleAdmin, true
				if err := s.UpdateAgent(ctx, a); err != nil {
					t.Fatalf("round %d: promoting agent %d: %v", round, a.ID, err)
				}
			}
		}
		for _, a := range agents[n:] {
			if a.Role != kefu.RoleAgent || !a.Active {
				a.Role, a.Active = kefu.RoleAgent, true
				if err := s.UpdateAgent(ctx, a); err != nil {
					t.Fatalf("round %d: demoting agent %d: %v", round, a.ID, err)
				}
			}
		}

		upds := make([]kefu.Agent, n)
		for i := range n {
			upds[i] = *agents[i]
			// Demote or deactivate, alternating, so both ways out race.
			if (round+i)%2 == 0 {
				upds[i].Role = kefu.RoleAgent
			} else {
				upds[i].Active = false
			}
		}
		errs := race(n, func(i int) error {
			err := s.UpdateAgent(ctx, &upds[i])
			if err == nil {
				*agents[i] = upds[i]
			}
			return err
		})

		ok := 0
		for i, err := range errs {
			if err == nil {
				ok++
			} else {
				wantLastAdmin(t, fmt.Sprintf("round %d, admin %d", round, i), err)
			}
		}
		if ok != n-1 {
			t.Fatalf("round %d: %d of %d admins stepped down at once, want %d", round, ok, n, n-1)
		}
		if got := f.activeAdmins(ws.ID); got != 1 {
			t.Fatalf("round %d: %d active admins remain, want 1", round, got)
		}
		// Pick the stored state up again, UpdatedAt and all.
		for i, a := range agents {
			got, err := s.GetAgent(ctx, ws.ID, a.ID)
			if err != nil {
				t.Fatalf("GetAgent: %v", err)
			}
			agents[i] = got
		}
	}
}
