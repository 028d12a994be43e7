package postgres

import (
	"context"

	"github.com/kefu-chat/kefu/internal/kefu"
)

// CreateWorkspace inserts w and sets its ID (and CreatedAt, if zero).
func (s *Store) CreateWorkspace(ctx context.Context, w *kefu.Workspace) error {
	w.CreatedAt = orNow(w.CreatedAt)
	err := s.pool.QueryRow(ctx,
		"INSERT INTO workspaces (name, created_at) VALUES ($1, $2) RETURNING id",
		w.Name, w.CreatedAt).Scan(&w.ID)
	return wrap(err, "workspace")
}

// GetWorkspace returns the workspace with id.
func (s *Store) GetWorkspace(ctx context.Context, id int64) (*kefu.Workspace, error) {
	var w kefu.Workspace
	err := s.pool.QueryRow(ctx,
		"SELECT id, name, created_at FROM workspaces WHERE id = $1", id).
		Scan(&w.ID, &w.Name, &w.CreatedAt)
	if err != nil {
		return nil, wrap(err, "workspace")
	}
	w.CreatedAt = w.CreatedAt.UTC()
	return &w, nil
}

// CountWorkspaces returns how many workspaces exist; zero means a fresh
// installation that still needs its first admin.
func (s *Store) CountWorkspaces(ctx context.Context) (int, error) {
	var n int
	err := s.pool.QueryRow(ctx, "SELECT count(*) FROM workspaces").Scan(&n)
	return n, wrap(err, "workspaces")
}
