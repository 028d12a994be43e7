package kefu

import (
	"context"
	"time"
)

// Invitation bounds.
const (
	InvitationTTL    = 7 * 24 * time.Hour  // how long an invitation link works unless the admin says otherwise
	MaxInvitationTTL = 30 * 24 * time.Hour // the longest an admin may choose
)

// InvitationState is where an invitation stands at a given moment.
type InvitationState string

const (
	InvitationPending  InvitationState = "pending"
	InvitationAccepted InvitationState = "accepted"
	InvitationRevoked  InvitationState = "revoked"
	InvitationExpired  InvitationState = "expired"
)

// Invitation lets someone without an account join a workspace as an agent:
// an admin creates it, copies the link it comes with and hands it over by
// whatever channel they like (Kefu sends no mail). The link carries a
// random token; like a session token, only its SHA-256 is stored, so the
// link is shown once, at creation. Accepting it creates the agent with the
// invitation's email, role and limit, and uses the token up.
type Invitation struct {
	ID            int64      `json:"id"`
	WorkspaceID   int64      `json:"workspace_id"`
	Email         string     `json:"email"` // the new agent's login name
	Role          Role       `json:"role"`
	Name          string     `json:"name"`           // suggested display name; the invitee may change it
	MaxConcurrent int        `json:"max_concurrent"` // the new agent's limit; 0: the default
	CreatedBy     int64      `json:"created_by"`     // the admin who invited
	TokenHash     string     `json:"-"`
	CreatedAt     time.Time  `json:"created_at"`
	ExpiresAt     time.Time  `json:"expires_at"`
	AcceptedAt    *time.Time `json:"accepted_at"`
	AgentID       int64      `json:"agent_id"` // the agent the acceptance created; 0 until then
	RevokedAt     *time.Time `json:"revoked_at"`
}

// State reports where the invitation stands at now. Accepted and revoked
// are final; a pending invitation expires at ExpiresAt.
func (inv *Invitation) State(now time.Time) InvitationState {
	switch {
	case inv.AcceptedAt != nil:
		return InvitationAccepted
	case inv.RevokedAt != nil:
		return InvitationRevoked
	case !now.Before(inv.ExpiresAt):
		return InvitationExpired
	}
	return InvitationPending
}

// Unusable is the error for a token whose invitation is no longer pending.
func (inv *Invitation) Unusable(now time.Time) error {
	switch inv.State(now) {
	case InvitationAccepted:
		return Errorf(EGone, "this invitation has already been used")
	case InvitationRevoked:
		return Errorf(EGone, "this invitation was revoked")
	case InvitationExpired:
		return Errorf(EGone, "this invitation has expired")
	}
	return nil
}

// InviterGoneError is the error for accepting an invitation whose admin
// has since been demoted or deactivated: a link keeps no more authority
// than the person who made it.
func InviterGoneError() error {
	return Errorf(EGone, "the admin who sent this invitation no longer has admin rights; ask for a new invitation")
}

// Invitee sets what the invitation decides about the agent accepting it
// creates: workspace, email, role and limit, the name if ag has none, and
// the timestamps.
func (inv *Invitation) Invitee(ag *Agent, now time.Time) {
	ag.WorkspaceID, ag.Email, ag.Role, ag.MaxConcurrent, ag.Active = inv.WorkspaceID, inv.Email, inv.Role, inv.MaxConcurrent, true
	if ag.Name == "" {
		ag.Name = inv.Name
	}
	ag.CreatedAt, ag.UpdatedAt = now, now
}

// InvitationStore keeps invitations. A pending invitation is one neither
// accepted nor revoked whose expiry is after the now the caller passes.
type InvitationStore interface {
	// CreateInvitation stores inv (CreatedAt is "now" for the rules). It
	// is EConflict when an agent with that email exists anywhere (the
	// email could never become a login) or when the workspace already has
	// a pending invitation for it; the check and the insert are atomic.
	CreateInvitation(ctx context.Context, inv *Invitation) error
	// GetInvitationByTokenHash is unscoped, like the session lookup: the
	// token is how the invitee names the workspace. Any state is returned;
	// the caller decides with State.
	GetInvitationByTokenHash(ctx context.Context, tokenHash string) (*Invitation, error)
	// ListInvitations returns the workspace's pending invitations, newest
	// first.
	ListInvitations(ctx context.Context, workspaceID int64, now time.Time) ([]*Invitation, error)
	// RevokeInvitation revokes an invitation that was not accepted
	// (revoking twice keeps the first time); ENotFound if absent or of
	// another workspace, EConflict if it was accepted.
	RevokeInvitation(ctx context.Context, workspaceID, id int64, now time.Time) error
	// AcceptInvitation, in one transaction, checks that the invitation
	// whose token hashes to tokenHash is pending at now, creates ag from it
	// (the store sets ag's workspace, email, role, max_concurrent and
	// timestamps, and its name when ag.Name is empty) and marks it
	// accepted. A token therefore works once, even when two accepts race:
	// the loser gets EGone. ENotFound for an unknown token, EGone for a
	// used, revoked or expired one, EConflict if the email was taken since.
	AcceptInvitation(ctx context.Context, tokenHash string, ag *Agent, now time.Time) (*Invitation, error)
}
