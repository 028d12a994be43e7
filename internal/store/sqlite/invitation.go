package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/kefu-chat/kefu/internal/kefu"
)

// Invitations. Every write runs on the one writer connection, so a check
// and the write after it in the same transaction cannot be interleaved
// with another write: that is what makes "one pending invitation per
// email" and "a token works once" hold.

const invitationCols = `id, workspace_id, email, role, name, max_concurrent, created_by, token_hash, created_at, expires_at, accepted_at, agent_id, revoked_at`

func scanInvitation(row interface{ Scan(...any) error }) (*kefu.Invitation, error) {
	var inv kefu.Invitation
	var created, expires int64
	var accepted, agent, revoked sql.NullInt64
	if err := row.Scan(&inv.ID, &inv.WorkspaceID, &inv.Email, &inv.Role, &inv.Name, &inv.MaxConcurrent, &inv.CreatedBy, &inv.TokenHash,
		&created, &expires, &accepted, &agent, &revoked); err != nil {
		return nil, err
	}
	inv.CreatedAt, inv.ExpiresAt = fromMicros(created), fromMicros(expires)
	inv.AcceptedAt, inv.RevokedAt, inv.AgentID = fromNullMicros(accepted), fromNullMicros(revoked), agent.Int64
	return &inv, nil
}

func (s *Store) CreateInvitation(ctx context.Context, inv *kefu.Invitation) error {
	if inv.CreatedAt.IsZero() {
		inv.CreatedAt = kefu.Now()
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		var agent, pending bool
		err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM agents WHERE email = ?),
			EXISTS (SELECT 1 FROM invitations WHERE workspace_id = ? AND email = ? AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > ?)`,
			inv.Email, inv.WorkspaceID, inv.Email, micros(inv.CreatedAt)).Scan(&agent, &pending)
		if err != nil {
			return mapErr(err, "invitation")
		}
		if agent {
			return kefu.Errorf(kefu.EConflict, "an agent with this email already exists")
		}
		if pending {
			return kefu.Errorf(kefu.EConflict, "a pending invitation for this email already exists")
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO invitations (workspace_id, email, role, name, max_concurrent, created_by, token_hash, created_at, expires_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, inv.WorkspaceID, inv.Email, inv.Role, inv.Name, inv.MaxConcurrent, inv.CreatedBy, inv.TokenHash,
			micros(inv.CreatedAt), micros(inv.ExpiresAt))
		if err != nil {
			return mapErr(err, "invitation")
		}
		inv.ID, err = res.LastInsertId()
		return err
	})
}

func (s *Store) GetInvitationByTokenHash(ctx context.Context, tokenHash string) (*kefu.Invitation, error) {
	inv, err := scanInvitation(s.rc.QueryRowContext(ctx, `SELECT `+invitationCols+` FROM invitations WHERE token_hash = ?`, tokenHash))
	return inv, mapErr(err, "invitation")
}

func (s *Store) ListInvitations(ctx context.Context, workspaceID int64, now time.Time) ([]*kefu.Invitation, error) {
	rows, err := s.rc.QueryContext(ctx, `SELECT `+invitationCols+` FROM invitations
		WHERE workspace_id = ? AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > ? ORDER BY id DESC`, workspaceID, micros(now))
	if err != nil {
		return nil, mapErr(err, "invitation")
	}
	defer rows.Close()
	out := []*kefu.Invitation{}
	for rows.Next() {
		inv, err := scanInvitation(rows)
		if err != nil {
			return nil, mapErr(err, "invitation")
		}
		out = append(out, inv)
	}
	return out, mapErr(rows.Err(), "invitation")
}

func (s *Store) RevokeInvitation(ctx context.Context, workspaceID, id int64, now time.Time) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		var accepted sql.NullInt64
		err := tx.QueryRowContext(ctx, `SELECT accepted_at FROM invitations WHERE id = ? AND workspace_id = ?`, id, workspaceID).Scan(&accepted)
		if err != nil {
			return mapErr(err, "invitation")
		}
		if accepted.Valid {
			return kefu.Errorf(kefu.EConflict, "the invitation was already accepted")
		}
		_, err = tx.ExecContext(ctx, `UPDATE invitations SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?`, micros(now), id)
		return mapErr(err, "invitation")
	})
}

func (s *Store) AcceptInvitation(ctx context.Context, tokenHash string, ag *kefu.Agent, now time.Time) (*kefu.Invitation, error) {
	now = now.UTC().Truncate(time.Microsecond)
	var out *kefu.Invitation
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		inv, err := scanInvitation(tx.QueryRowContext(ctx, `SELECT `+invitationCols+` FROM invitations WHERE token_hash = ?`, tokenHash))
		if err != nil {
			return mapErr(err, "invitation")
		}
		if err := inv.Unusable(now); err != nil {
			return err
		}
		var admin bool
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM agents WHERE id = ? AND workspace_id = ? AND role = 'admin' AND active)`,
			inv.CreatedBy, inv.WorkspaceID).Scan(&admin); err != nil {
			return mapErr(err, "agent")
		}
		if !admin {
			return kefu.InviterGoneError()
		}
		inv.Invitee(ag, now)
		res, err := tx.ExecContext(ctx, `INSERT INTO agents (workspace_id, email, name, role, password_hash, max_concurrent, active, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, ag.WorkspaceID, ag.Email, ag.Name, ag.Role, ag.PasswordHash, ag.MaxConcurrent, ag.Active, micros(ag.CreatedAt), micros(ag.UpdatedAt))
		if err != nil {
			if kefu.ErrorCode(mapErr(err, "agent")) == kefu.EConflict {
				return kefu.Errorf(kefu.EConflict, "an agent with this email already exists")
			}
			return mapErr(err, "agent")
		}
		if ag.ID, err = res.LastInsertId(); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE invitations SET accepted_at = ?, agent_id = ? WHERE id = ?`, micros(now), ag.ID, inv.ID)
		if err != nil {
			return mapErr(err, "invitation")
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
