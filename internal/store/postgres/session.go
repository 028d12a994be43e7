package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/kefu-chat/kefu/internal/kefu"
)

// CreateSession inserts s and sets its ID. A token hash is unique.
func (s *Store) CreateSession(ctx context.Context, se *kefu.Session) error {
	se.CreatedAt = orNow(se.CreatedAt)
	err := s.pool.QueryRow(ctx, `
		INSERT INTO sessions (workspace_id, kind, agent_id, contact_id, inbox_id, token_hash, created_at, expires_at, revoked_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
		se.WorkspaceID, se.Kind, nullID(se.AgentID), nullID(se.ContactID), nullID(se.InboxID),
		se.TokenHash, se.CreatedAt, se.ExpiresAt, se.RevokedAt).Scan(&se.ID)
	return wrap(err, "session")
}

// GetSessionByTokenHash finds a session, revoked or expired ones included:
// the caller decides with Session.Usable.
func (s *Store) GetSessionByTokenHash(ctx context.Context, tokenHash string) (*kefu.Session, error) {
	var se kefu.Session
	var agentID, contactID, inboxID *int64
	err := s.pool.QueryRow(ctx, `
		SELECT id, workspace_id, kind, agent_id, contact_id, inbox_id, token_hash, created_at, expires_at, revoked_at
		FROM sessions WHERE token_hash = $1`, tokenHash).
		Scan(&se.ID, &se.WorkspaceID, &se.Kind, &agentID, &contactID, &inboxID, &se.TokenHash,
			&se.CreatedAt, &se.ExpiresAt, &se.RevokedAt)
	if err != nil {
		return nil, wrap(err, "session")
	}
	se.AgentID, se.ContactID, se.InboxID = deref(agentID), deref(contactID), deref(inboxID)
	se.CreatedAt, se.ExpiresAt, se.RevokedAt = se.CreatedAt.UTC(), se.ExpiresAt.UTC(), utcPtr(se.RevokedAt)
	return &se, nil
}

// RevokeSession revokes one session. Revoking it again keeps the first
// revocation time.
func (s *Store) RevokeSession(ctx context.Context, workspaceID, id int64) error {
	tag, err := s.pool.Exec(ctx, `
		UPDATE sessions SET revoked_at = COALESCE(revoked_at, $3)
		WHERE workspace_id = $1 AND id = $2`, workspaceID, id, kefu.Now())
	if err != nil {
		return wrap(err, "session")
	}
	if tag.RowsAffected() == 0 {
		return wrap(pgx.ErrNoRows, "session")
	}
	return nil
}

// RevokeAgentSessions revokes every live session of an agent. An agent
// without sessions (or of another workspace) is not an error: afterwards no
// usable session of that agent exists, which is all the caller asked.
func (s *Store) RevokeAgentSessions(ctx context.Context, workspaceID, agentID int64) error {
	_, err := s.pool.Exec(ctx, `
		UPDATE sessions SET revoked_at = $3
		WHERE workspace_id = $1 AND agent_id = $2 AND revoked_at IS NULL`,
		workspaceID, agentID, kefu.Now())
	return wrap(err, "sessions")
}

func deref(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}
