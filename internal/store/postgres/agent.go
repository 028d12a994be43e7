package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/kefu-chat/kefu/internal/kefu"
)

const agentColumns = `id, workspace_id, email, name, role, password_hash, max_concurrent, active, created_at, updated_at`

func scanAgent(row scanner) (*kefu.Agent, error) {
	var a kefu.Agent
	if err := row.Scan(&a.ID, &a.WorkspaceID, &a.Email, &a.Name, &a.Role, &a.PasswordHash,
		&a.MaxConcurrent, &a.Active, &a.CreatedAt, &a.UpdatedAt); err != nil {
		return nil, err
	}
	a.CreatedAt, a.UpdatedAt = a.CreatedAt.UTC(), a.UpdatedAt.UTC()
	return &a, nil
}

// CreateAgent inserts a and sets its ID; a new record was last updated
// when it was created. The email is unique whatever its case: a taken one
// is EConflict.
func (s *Store) CreateAgent(ctx context.Context, a *kefu.Agent) error {
	a.CreatedAt = orNow(a.CreatedAt)
	a.UpdatedAt = a.CreatedAt
	err := s.pool.QueryRow(ctx, `
		INSERT INTO agents (workspace_id, email, name, role, password_hash, max_concurrent, active, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
		a.WorkspaceID, a.Email, a.Name, a.Role, a.PasswordHash, a.MaxConcurrent, a.Active,
		a.CreatedAt, a.UpdatedAt).Scan(&a.ID)
	return wrap(err, "agent")
}

// GetAgent returns the agent id of the workspace.
func (s *Store) GetAgent(ctx context.Context, workspaceID, id int64) (*kefu.Agent, error) {
	a, err := scanAgent(s.pool.QueryRow(ctx,
		"SELECT "+agentColumns+" FROM agents WHERE workspace_id = $1 AND id = $2", workspaceID, id))
	return a, wrap(err, "agent")
}

// GetAgentByEmail finds an agent by login name, ignoring case.
func (s *Store) GetAgentByEmail(ctx context.Context, email string) (*kefu.Agent, error) {
	a, err := scanAgent(s.pool.QueryRow(ctx,
		"SELECT "+agentColumns+" FROM agents WHERE lower(email) = lower($1)", email))
	return a, wrap(err, "agent")
}

// ListAgents returns the workspace's agents by id.
func (s *Store) ListAgents(ctx context.Context, workspaceID int64) ([]*kefu.Agent, error) {
	rows, err := s.pool.Query(ctx,
		"SELECT "+agentColumns+" FROM agents WHERE workspace_id = $1 ORDER BY id", workspaceID)
	if err != nil {
		return nil, wrap(err, "agents")
	}
	out, err := collect(rows, scanAgent)
	return out, wrap(err, "agents")
}

// UpdateAgent writes every mutable field of a, found by a.WorkspaceID and
// a.ID, and sets a.UpdatedAt to now, unless that would take the
// workspace's last active admin away.
//
// An update that leaves a an active admin cannot break the rule and is a
// plain UPDATE. Any other first locks the workspace's active admins, in id
// order so that two such updates never deadlock, and decides under those
// locks: a concurrent demotion of another admin waits for this transaction
// and then sees its outcome (at READ COMMITTED a locked row is re-read
// once its locker commits, and dropped if it no longer matches).
func (s *Store) UpdateAgent(ctx context.Context, a *kefu.Agent) error {
	now := kefu.Now()
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if !a.Active || a.Role != kefu.RoleAdmin {
			rows, err := tx.Query(ctx, `SELECT id FROM agents WHERE workspace_id = $1 AND role = 'admin' AND active
				ORDER BY id FOR UPDATE`, a.WorkspaceID)
			if err != nil {
				return wrap(err, "agent")
			}
			admins, err := pgx.CollectRows(rows, pgx.RowTo[int64])
			if err != nil {
				return wrap(err, "agent")
			}
			if len(admins) == 1 && admins[0] == a.ID {
				return kefu.LastAdminError()
			}
		}
		tag, err := tx.Exec(ctx, `
			UPDATE agents SET email = $3, name = $4, role = $5, password_hash = $6,
				max_concurrent = $7, active = $8, updated_at = $9
			WHERE workspace_id = $1 AND id = $2`,
			a.WorkspaceID, a.ID, a.Email, a.Name, a.Role, a.PasswordHash, a.MaxConcurrent, a.Active, now)
		if err != nil {
			return wrap(err, "agent")
		}
		if tag.RowsAffected() == 0 {
			return wrap(pgx.ErrNoRows, "agent")
		}
		return nil
	})
	if err != nil {
		return err
	}
	a.UpdatedAt = now
	return nil
}

// collect scans every row with scan; the result is never nil, so an empty
// list encodes as [] in JSON.
func collect[T any](rows pgx.Rows, scan func(scanner) (*T, error)) ([]*T, error) {
	defer rows.Close()
	out := []*T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}
