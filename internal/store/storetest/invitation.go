package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/kefu-chat/kefu/internal/kefu"
)

// invitation creates a pending invitation from admin, valid for a day from
// now, and returns it with its token hash (the suite makes up hashes: the
// store never sees a token).
func (f *fixture) invitation(admin *kefu.Agent, now time.Time, edit ...func(*kefu.Invitation)) *kefu.Invitation {
	f.tb.Helper()
	n := f.next()
	inv := &kefu.Invitation{WorkspaceID: admin.WorkspaceID, Email: fmt.Sprintf("invitee%d@example.com", n), Role: kefu.RoleAgent,
		CreatedBy: admin.ID, TokenHash: fmt.Sprintf("%064x", n), CreatedAt: now, ExpiresAt: now.Add(24 * time.Hour)}
	for _, e := range edit {
		e(inv)
	}
	if err := f.s.CreateInvitation(f.ctx, inv); err != nil {
		f.tb.Fatalf("CreateInvitation: %v", err)
	}
	return inv
}

func pendingIDs(tb testing.TB, s kefu.Store, ws int64, now time.Time) []int64 {
	tb.Helper()
	list, err := s.ListInvitations(tb.Context(), ws, now)
	if err != nil {
		tb.Fatalf("ListInvitations: %v", err)
	}
	return ids(list, func(i *kefu.Invitation) int64 { return i.ID })
}

// testInvitation pins an invitation's life: created pending, found by its
// token hash, listed while pending, accepted once into an agent that takes
// the invitation's email, role, limit and (if given none) name.
func testInvitation(t *testing.T, s kefu.Store) {
	f := newFixture(t, s)
	ctx := f.ctx
	ws := f.workspace()
	admin := f.admin(ws.ID)
	now := kefu.Now()

	inv := f.invitation(admin, now, func(i *kefu.Invitation) { i.Name, i.Role, i.MaxConcurrent = "Li Lei", kefu.RoleAdmin, 7 })
	if inv.ID == 0 {
		t.Fatal("CreateInvitation left ID 0")
	}
	got, err := s.GetInvitationByTokenHash(ctx, inv.TokenHash)
	if err != nil {
		t.Fatalf("GetInvitationByTokenHash: %v", err)
	}
	check(t, "invitation read back", got, inv)
	if got.State(now) != kefu.InvitationPending {
		t.Errorf("state %s, want pending", got.State(now))
	}
	_, err = s.GetInvitationByTokenHash(ctx, fmt.Sprintf("%064x", 999999))
	wantCode(t, "GetInvitationByTokenHash(unknown)", err, kefu.ENotFound)
	older := f.invitation(admin, now)
	check(t, "pending, newest first", pendingIDs(t, s, ws.ID, now), []int64{older.ID, inv.ID})

	// One pending invitation per email and workspace, whatever the case;
	// none at all for an email that already logs in.
	dup := &kefu.Invitation{WorkspaceID: ws.ID, Email: "INVITEE" + inv.Email[len("invitee"):], Role: kefu.RoleAgent, CreatedBy: admin.ID,
		TokenHash: fmt.Sprintf("%064x", 1000001), CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
	wantCode(t, "CreateInvitation(pending email)", s.CreateInvitation(ctx, dup), kefu.EConflict)
	dup.Email = admin.Email
	wantCode(t, "CreateInvitation(agent's email)", s.CreateInvitation(ctx, dup), kefu.EConflict)

	// Accept: the agent comes from the invitation.
	later := now.Add(time.Minute)
	ag := &kefu.Agent{PasswordHash: "argon"}
	acc, err := s.AcceptInvitation(ctx, inv.TokenHash, ag, later)
	if err != nil {
		t.Fatalf("AcceptInvitation: %v", err)
	}
	if ag.ID == 0 || acc.AgentID != ag.ID || acc.AcceptedAt == nil || !acc.AcceptedAt.Equal(later) {
		t.Fatalf("accepted: agent %d, invitation %+v", ag.ID, acc)
	}
	stored, err := s.GetAgent(ctx, ws.ID, ag.ID)
	if err != nil {
		t.Fatalf("GetAgent(new): %v", err)
	}
	check(t, "new agent", stored, &kefu.Agent{ID: ag.ID, WorkspaceID: ws.ID, Email: inv.Email, Name: "Li Lei", Role: kefu.RoleAdmin,
		PasswordHash: "argon", MaxConcurrent: 7, Active: true, CreatedAt: later, UpdatedAt: later})
	got, err = s.GetInvitationByTokenHash(ctx, inv.TokenHash)
	if err != nil {
		t.Fatalf("GetInvitationByTokenHash(accepted): %v", err)
	}
	check(t, "accepted invitation", got, acc)
	check(t, "pending after accept", pendingIDs(t, s, ws.ID, later), []int64{older.ID})

	// Exactly once.
	again := &kefu.Agent{Name: "Someone", PasswordHash: "x"}
	_, err = s.AcceptInvitation(ctx, inv.TokenHash, again, later)
	wantCode(t, "AcceptInvitation(used)", err, kefu.EGone)
	if again.ID != 0 {
		t.Errorf("a failed accept left agent id %d", again.ID)
	}
	_, err = s.AcceptInvitation(ctx, fmt.Sprintf("%064x", 999999), again, later)
	wantCode(t, "AcceptInvitation(unknown)", err, kefu.ENotFound)
	wantCode(t, "RevokeInvitation(accepted)", s.RevokeInvitation(ctx, ws.ID, inv.ID, later), kefu.EConflict)

	// The invitee's own name wins over the suggested one.
	named := f.invitation(admin, now, func(i *kefu.Invitation) { i.Name = "Suggested" })
	own := &kefu.Agent{Name: "Chosen", PasswordHash: "x"}
	if _, err := s.AcceptInvitation(ctx, named.TokenHash, own, later); err != nil {
		t.Fatalf("AcceptInvitation(named): %v", err)
	}
	if own.Name != "Chosen" {
		t.Errorf("name %q, want the invitee's", own.Name)
	}

	// An email taken between invitation and acceptance: the acceptance
	// fails and leaves the invitation pending.
	taken := f.invitation(admin, now)
	other := f.workspace()
	if err := s.CreateAgent(ctx, &kefu.Agent{WorkspaceID: other.ID, Email: taken.Email, Name: "Early", Role: kefu.RoleAgent,
		PasswordHash: "x", Active: true, CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatalf("CreateAgent: %v", err)
	}
	_, err = s.AcceptInvitation(ctx, taken.TokenHash, &kefu.Agent{Name: "Late", PasswordHash: "x"}, later)
	wantCode(t, "AcceptInvitation(email taken since)", err, kefu.EConflict)
	got, _ = s.GetInvitationByTokenHash(ctx, taken.TokenHash)
	if got == nil || got.State(later) != kefu.InvitationPending {
		t.Errorf("after a failed accept: %+v, want still pending", got)
	}
}

// testInvitationExpiry: an invitation is pending until, not at, ExpiresAt;
// an expired one is not listed, cannot be accepted, and no longer blocks a
// new invitation for its email.
func testInvitationExpiry(t *testing.T, s kefu.Store) {
	f := newFixture(t, s)
	ctx := f.ctx
	ws := f.workspace()
	admin := f.admin(ws.ID)
	now := kefu.Now()
	inv := f.invitation(admin, now)
	end := inv.ExpiresAt
	check(t, "pending just before expiry", pendingIDs(t, s, ws.ID, end.Add(-time.Microsecond)), []int64{inv.ID})
	check(t, "pending at expiry", pendingIDs(t, s, ws.ID, end), []int64{})
	_, err := s.AcceptInvitation(ctx, inv.TokenHash, &kefu.Agent{Name: "Late", PasswordHash: "x"}, end)
	wantCode(t, "AcceptInvitation(expired)", err, kefu.EGone)
	if _, err := s.GetAgentByEmail(ctx, inv.Email); !kefu.IsNotFound(err) {
		t.Errorf("an expired invitation made an agent (err %v)", err)
	}
	renewed := f.invitation(admin, end, func(i *kefu.Invitation) { i.Email = inv.Email })
	check(t, "after re-inviting", pendingIDs(t, s, ws.ID, end), []int64{renewed.ID})
}

// testInvitationRevoke: a revoked invitation is not listed and cannot be
// accepted; revoking again keeps the first time and frees the email.
func testInvitationRevoke(t *testing.T, s kefu.Store) {
	f := newFixture(t, s)
	ctx := f.ctx
	ws := f.workspace()
	admin := f.admin(ws.ID)
	now := kefu.Now()
	inv := f.invitation(admin, now)
	if err := s.RevokeInvitation(ctx, ws.ID, inv.ID, now); err != nil {
		t.Fatalf("RevokeInvitation: %v", err)
	}
	if err := s.RevokeInvitation(ctx, ws.ID, inv.ID, now.Add(time.Hour)); err != nil {
		t.Fatalf("RevokeInvitation(again): %v", err)
	}
	got, err := s.GetInvitationByTokenHash(ctx, inv.TokenHash)
	if err != nil {
		t.Fatal(err)
	}
	if got.RevokedAt == nil || !got.RevokedAt.Equal(now) || got.State(now) != kefu.InvitationRevoked {
		t.Errorf("revoked_at %v state %s, want %v revoked", got.RevokedAt, got.State(now), now)
	}
	check(t, "pending after revoke", pendingIDs(t, s, ws.ID, now), []int64{})
	_, err = s.AcceptInvitation(ctx, inv.TokenHash, &kefu.Agent{Name: "X", PasswordHash: "x"}, now)
	wantCode(t, "AcceptInvitation(revoked)", err, kefu.EGone)
	wantCode(t, "RevokeInvitation(absent)", s.RevokeInvitation(ctx, ws.ID, inv.ID+1000, now), kefu.ENotFound)
	f.invitation(admin, now, func(i *kefu.Invitation) { i.Email = inv.Email })
}

// testInvitationIsolation: another workspace's admin neither lists nor
// revokes; the same email may be pending in two workspaces (whichever is
// accepted first makes the login, the other then fails with EConflict).
func testInvitationIsolation(t *testing.T, s kefu.Store) {
	f := newFixture(t, s)
	ctx := f.ctx
	a, b := f.workspace(), f.workspace()
	adminA, adminB := f.admin(a.ID), f.admin(b.ID)
	now := kefu.Now()
	inv := f.invitation(adminA, now)
	check(t, "B's pending list", pendingIDs(t, s, b.ID, now), []int64{})
	wantCode(t, "RevokeInvitation(from B)", s.RevokeInvitation(ctx, b.ID, inv.ID, now), kefu.ENotFound)
	check(t, "A's list after B's attempt", pendingIDs(t, s, a.ID, now), []int64{inv.ID})
	inB := f.invitation(adminB, now, func(i *kefu.Invitation) { i.Email = inv.Email })
	ag := &kefu.Agent{Name: "In B", PasswordHash: "x"}
	if _, err := s.AcceptInvitation(ctx, inB.TokenHash, ag, now); err != nil {
		t.Fatalf("AcceptInvitation(B): %v", err)
	}
	if ag.WorkspaceID != b.ID {
		t.Errorf("agent joined workspace %d, want %d", ag.WorkspaceID, b.ID)
	}
	_, err := s.AcceptInvitation(ctx, inv.TokenHash, &kefu.Agent{Name: "In A", PasswordHash: "x"}, now)
	wantCode(t, "AcceptInvitation(A, email now B's)", err, kefu.EConflict)
}

// testInvitationConcurrent: of many accepts of one token at once exactly
// one succeeds and the rest find it used; of many invitations of one email
// at once exactly one is created.
func testInvitationConcurrent(t *testing.T, s kefu.Store) {
	f := newFixture(t, s)
	ctx := f.ctx
	ws := f.workspace()
	admin := f.admin(ws.ID)
	now := kefu.Now()
	inv := f.invitation(admin, now)
	const n = 8
	errs := race(n, func(i int) error {
		_, err := s.AcceptInvitation(ctx, inv.TokenHash, &kefu.Agent{Name: fmt.Sprintf("Racer %d", i), PasswordHash: "x"}, now)
		return err
	})
	if ok := winners(t, "accept", errs, kefu.EGone); ok != 1 {
		t.Errorf("%d accepts succeeded, want 1", ok)
	}
	list, err := s.ListAgents(ctx, ws.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 {
		t.Errorf("%d agents, want the admin and one invitee", len(list))
	}

	email := "raced@example.com"
	errs = race(n, func(i int) error {
		return s.CreateInvitation(ctx, &kefu.Invitation{WorkspaceID: ws.ID, Email: email, Role: kefu.RoleAgent, CreatedBy: admin.ID,
			TokenHash: fmt.Sprintf("r%063d", i), CreatedAt: now, ExpiresAt: now.Add(time.Hour)})
	})
	if ok := winners(t, "create", errs, kefu.EConflict); ok != 1 {
		t.Errorf("%d invitations of one email created, want 1", ok)
	}
}

// testInvitationInviterGone: an invitation carries no more authority than
// its admin: once they are demoted or deactivated it cannot be accepted;
// another admin's invitation still can.
func testInvitationInviterGone(t *testing.T, s kefu.Store) {
	f := newFixture(t, s)
	ctx := f.ctx
	ws := f.workspace()
	keeper, demoted, gone := f.admin(ws.ID), f.admin(ws.ID), f.admin(ws.ID)
	now := kefu.Now()
	fromKeeper := f.invitation(keeper, now)
	fromDemoted := f.invitation(demoted, now, func(i *kefu.Invitation) { i.Role = kefu.RoleAdmin })
	fromGone := f.invitation(gone, now)
	demoted.Role = kefu.RoleAgent
	if err := s.UpdateAgent(ctx, demoted); err != nil {
		t.Fatalf("demote: %v", err)
	}
	gone.Active = false
	if err := s.UpdateAgent(ctx, gone); err != nil {
		t.Fatalf("deactivate: %v", err)
	}
	for _, inv := range []*kefu.Invitation{fromDemoted, fromGone} {
		_, err := s.AcceptInvitation(ctx, inv.TokenHash, &kefu.Agent{Name: "Eve", PasswordHash: "x"}, now)
		wantCode(t, "AcceptInvitation from a former admin", err, kefu.EGone)
		if _, err := s.GetAgentByEmail(ctx, inv.Email); !kefu.IsNotFound(err) {
			t.Errorf("a former admin's invitation made an agent (err %v)", err)
		}
	}
	if _, err := s.AcceptInvitation(ctx, fromKeeper.TokenHash, &kefu.Agent{Name: "Ann", PasswordHash: "x"}, now); err != nil {
		t.Fatalf("AcceptInvitation from an admin: %v", err)
	}
}
