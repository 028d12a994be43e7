package postgres

import "context"

// Setting reads a run-time parameter on one of the store's own
// connections, so tests can see what the store actually runs with.
func (s *Store) Setting(ctx context.Context, name string) (string, error) {
	var v string
	err := s.pool.QueryRow(ctx, "SELECT current_setting($1)", name).Scan(&v)
	return v, err
}
