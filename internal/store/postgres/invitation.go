package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/kefu-chat/kefu/internal/kefu"
)

const invitationColumns = `id, workspace_id, email, role, name, max_concurrent, created_by, token_hash, created_at, expires_at, accepted_at, agent_id, revoked_at`

func scanInvitation(row scanner) (*kefu.Invitation, error) {
	var inv kefu.Invitation
	var agentID *int64
	if err := row.Scan(&inv.ID, &inv.WorkspaceID, &inv.Email, &inv.Role, &inv.Name, &inv.MaxConcurrent, &inv.CreatedBy, &inv.TokenHash,
		&inv.CreatedAt, &inv.ExpiresAt, &inv.AcceptedAt, &agentID, &inv.RevokedAt); err != nil {
		return nil, err
	}
	inv.CreatedAt, inv.ExpiresAt = inv.CreatedAt.UTC(), inv.ExpiresAt.UTC()
	inv.AcceptedAt, inv.RevokedAt, inv.AgentID = utcPtr(inv.AcceptedAt), utcPtr(inv.RevokedAt), deref(agentID)
	return &inv, nil
}

// CreateInvitation inserts inv unless its email is an agent's or has a
// pending invitation in the workspace. Two creations for one email at
// once are serialised by a transaction-scoped advisory lock on the email,
// so both cannot pass the check.
func (s *Store) CreateInvitation(ctx context.Context, inv *kefu.Invitation) error {
	inv.CreatedAt = orNow(inv.CreatedAt)
	inv.ExpiresAt = inv.ExpiresAt.UTC().Truncate(time.Microsecond)
	return s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('kefu.invitation:' || lower($1), 0))`, inv.Email); err != nil {
			return wrap(err, "invitation")
		}
		var agent, pending bool
		err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM agents WHERE lower(email) = lower($1)),
			EXISTS (SELECT 1 FROM invitations WHERE workspace_id = $2 AND lower(email) = lower($1) AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > $3)`,
			inv.Email, inv.WorkspaceID, inv.CreatedAt).Scan(&agent, &pending)
		if err != nil {
			return wrap(err, "invitation")
		}
		if agent {
			return kefu.Errorf(kefu.EConflict, "an agent with this email already exists")
		}
		if pending {
			return kefu.Errorf(kefu.EConflict, "a pending invitation for this email already exists")
		}
		err = tx.QueryRow(ctx, `INSERT INTO invitations (workspace_id, email, role, name, max_concurrent, created_by, token_hash, created_at, expires_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
			inv.WorkspaceID, inv.Email, inv.Role, inv.Name, inv.MaxConcurrent, inv.CreatedBy, inv.TokenHash, inv.CreatedAt, inv.ExpiresAt).Scan(&inv.ID)
		return wrap(err, "invitation")
	})
}

func (s *Store) GetInvitationByTokenHash(ctx context.Context, tokenHash string) (*kefu.Invitation, error) {
	inv, err := scanInvitation(s.pool.QueryRow(ctx, `SELECT `+invitationColumns+` FROM invitations WHERE token_hash = $1`, tokenHash))
	return inv, wrap(err, "invitation")
}

func (s *Store) ListInvitations(ctx context.Context, workspaceID int64, now time.Time) ([]*kefu.Invitation, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+invitationColumns+` FROM invitations
		WHERE workspace_id = $1 AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > $2 ORDER BY id DESC`, workspaceID, now)
	if err != nil {
		return nil, wrap(err, "invitations")
	}
	out, err := collect(rows, scanInvitation)
	return out, wrap(err, "invitations")
}

// RevokeInvitation locks the row, so a revocation and an acceptance of the
// same invitation happen one after the other and the second sees the
// first's outcome.
func (s *Store) RevokeInvitation(ctx context.Context, workspaceID, id int64, now time.Time) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		var accepted *time.Time
		err := tx.QueryRow(ctx, `SELECT accepted_at FROM invitations WHERE workspace_id = $1 AND id = $2 FOR UPDATE`, workspaceID, id).Scan(&accepted)
		if err != nil {
			return wrap(err, "invitation")
		}
		if accepted != nil {
			return kefu.Errorf(kefu.EConflict, "the invitation was already accepted")
		}
		_, err = tx.Exec(ctx, `UPDATE invitations SET revoked_at = COALESCE(revoked_at, $2) WHERE id = $1`, id, now)
		return wrap(err, "invitation")
	})
}

// AcceptInvitation locks the invitation's row first: of two accepts of one
// token, the second waits for the first to commit and then reads the row
// as the first left it (READ COMMITTED re-reads a locked row once its
// locker is done), so it finds the invitation used.
func (s *Store) AcceptInvitation(ctx context.Context, tokenHash string, ag *kefu.Agent, now time.Time) (*kefu.Invitation, error) {
	now = now.UTC().Truncate(time.Microsecond)
	var out *kefu.Invitation
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		inv, err := scanInvitation(tx.QueryRow(ctx, `SELECT `+invitationColumns+` FROM invitations WHERE token_hash = $1 FOR UPDATE`, tokenHash))
		if err != nil {
			return wrap(err, "invitation")
		}
		if err := inv.Unusable(now); err != nil {
			return err
		}
		// FOR SHARE: a concurrent demotion of the inviter waits for this
		// accept, or this accept sees it.
		var admin bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM agents WHERE id = $1 AND workspace_id = $2 AND role = 'admin' AND active FOR SHARE)`,
			inv.CreatedBy, inv.WorkspaceID).Scan(&admin); err != nil {
			return wrap(err, "agent")
		}
		if !admin {
			return kefu.InviterGoneError()
		}
		inv.Invitee(ag, now)
		err = tx.QueryRow(ctx, `
			INSERT INTO agents (workspace_id, email, name, role, password_hash, max_concurrent, active, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
			ag.WorkspaceID, ag.Email, ag.Name, ag.Role, ag.PasswordHash, ag.MaxConcurrent, ag.Active, ag.CreatedAt, ag.UpdatedAt).Scan(&ag.ID)
		if err != nil {
			if err = wrap(err, "agent"); kefu.ErrorCode(err) == kefu.EConflict {
				return kefu.Errorf(kefu.EConflict, "an agent with this email already exists")
			}
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE invitations SET accepted_at = $2, agent_id = $3 WHERE id = $1`, inv.ID, now, ag.ID); err != nil {
			return wrap(err, "invitation")
		}
		inv.AcceptedAt, inv.AgentID = &now, ag.ID
		out = inv
		return nil
	})
	if err != nil {
		ag.ID = 0
		return nil, err
	}
	return out, nil
}
