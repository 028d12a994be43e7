package postgres

import (
	"context"

	"github.com/kefu-chat/kefu/internal/kefu"
)

// Setting reads a run-time parameter on one of the store's own
// connections, so tests can see what the store actually runs with.
func (s *Store) Setting(ctx context.Context, name string) (string, error) {
	var v string
	err := s.pool.QueryRow(ctx, "SELECT current_setting($1)", name).Scan(&v)
	return v, err
}

// FlushAppends commits reqs as one group-commit batch, exactly as a shard
// would, so tests can choose what shares a batch.
func (s *Store) FlushAppends(ctx context.Context, reqs []*kefu.Message) ([]*kefu.AppendResult, []error) {
	return s.flushAppends(ctx, reqs)
}

// WriterSetting is Setting on one of the append writers' connections.
func (s *Store) WriterSetting(ctx context.Context, name string) (string, error) {
	var v string
	err := s.writers.QueryRow(ctx, "SELECT current_setting($1)", name).Scan(&v)
	return v, err
}

// AppendPlans prepares the append statements on a writer connection, as
// the writers do (generic plans), and returns the text of each plan.
func (s *Store) AppendPlans(ctx context.Context) (map[string]string, error) {
	conn, err := s.writers.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Release()
	out := map[string]string{}
	for name, q := range map[string]string{"lock": lockSQL, "append": appendSQL} {
		if _, err := conn.Exec(ctx, "PREPARE plan_"+name+" AS "+q); err != nil {
			return nil, err
		}
		args := "('{1}', '{1}')"
		if name == "append" {
			args = "(now(), '{1}', '{1}', '{contact}', '{1}', '{x}', '{text}', '{hi}', '{[]}', '{\"\"}')"
		}
		rows, err := conn.Query(ctx, "EXPLAIN EXECUTE plan_"+name+args)
		if err != nil {
			return nil, err
		}
		var plan string
		for rows.Next() {
			var line string
			if err := rows.Scan(&line); err != nil {
				rows.Close()
				return nil, err
			}
			plan += line + "\n"
		}
		rows.Close()
		if _, err := conn.Exec(ctx, "DEALLOCATE plan_"+name); err != nil {
			return nil, err
		}
		out[name] = plan
	}
	return out, nil
}
