package postgres

import (
	"context"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/kefu-chat/kefu/internal/kefu"
)

// Canned responses, the label catalog, message search, last-message
// previews and workspace renames (kefu/console.go).

const cannedColumns = `id, workspace_id, short_code, content, created_at, updated_at`

func scanCanned(row scanner) (*kefu.CannedResponse, error) {
	var c kefu.CannedResponse
	if err := row.Scan(&c.ID, &c.WorkspaceID, &c.ShortCode, &c.Content, &c.CreatedAt, &c.UpdatedAt); err != nil {
		return nil, err
	}
	c.CreatedAt, c.UpdatedAt = c.CreatedAt.UTC(), c.UpdatedAt.UTC()
	return &c, nil
}

func (s *Store) CreateCanned(ctx context.Context, c *kefu.CannedResponse) error {
	c.CreatedAt = orNow(c.CreatedAt)
	c.UpdatedAt = c.CreatedAt
	err := s.pool.QueryRow(ctx, `INSERT INTO canned_responses (workspace_id, short_code, content, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5) RETURNING id`, c.WorkspaceID, c.ShortCode, c.Content, c.CreatedAt, c.UpdatedAt).Scan(&c.ID)
	return wrap(err, "canned response")
}

func (s *Store) GetCanned(ctx context.Context, workspaceID, id int64) (*kefu.CannedResponse, error) {
	c, err := scanCanned(s.pool.QueryRow(ctx, `SELECT `+cannedColumns+` FROM canned_responses WHERE workspace_id = $1 AND id = $2`, workspaceID, id))
	return c, wrap(err, "canned response")
}

func (s *Store) ListCanned(ctx context.Context, workspaceID int64) ([]*kefu.CannedResponse, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+cannedColumns+` FROM canned_responses WHERE workspace_id = $1 ORDER BY short_code COLLATE "C", id`, workspaceID)
	if err != nil {
		return nil, wrap(err, "canned responses")
	}
	out, err := collect(rows, scanCanned)
	return out, wrap(err, "canned responses")
}

func (s *Store) UpdateCanned(ctx context.Context, c *kefu.CannedResponse) error {
	c.UpdatedAt = kefu.Now()
	tag, err := s.pool.Exec(ctx, `UPDATE canned_responses SET short_code = $3, content = $4, updated_at = $5 WHERE workspace_id = $1 AND id = $2`,
		c.WorkspaceID, c.ID, c.ShortCode, c.Content, c.UpdatedAt)
	return rowsChanged(tag.RowsAffected(), err, "canned response")
}

func (s *Store) DeleteCanned(ctx context.Context, workspaceID, id int64) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM canned_responses WHERE workspace_id = $1 AND id = $2`, workspaceID, id)
	return rowsChanged(tag.RowsAffected(), err, "canned response")
}

// rowsChanged turns "no row matched" into ENotFound.
func rowsChanged(n int64, err error, what string) error {
	if err != nil {
		return wrap(err, what)
	}
	if n == 0 {
		return wrap(pgx.ErrNoRows, what)
	}
	return nil
}

const labelColumns = `id, workspace_id, name, color, description, created_at, updated_at`

func scanLabel(row scanner) (*kefu.Label, error) {
	var l kefu.Label
	if err := row.Scan(&l.ID, &l.WorkspaceID, &l.Name, &l.Color, &l.Description, &l.CreatedAt, &l.UpdatedAt); err != nil {
		return nil, err
	}
	l.CreatedAt, l.UpdatedAt = l.CreatedAt.UTC(), l.UpdatedAt.UTC()
	return &l, nil
}

func (s *Store) CreateLabel(ctx context.Context, l *kefu.Label) error {
	l.CreatedAt = orNow(l.CreatedAt)
	l.UpdatedAt = l.CreatedAt
	err := s.pool.QueryRow(ctx, `INSERT INTO labels (workspace_id, name, color, description, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`, l.WorkspaceID, l.Name, l.Color, l.Description, l.CreatedAt, l.UpdatedAt).Scan(&l.ID)
	return wrap(err, "label")
}

func (s *Store) GetLabel(ctx context.Context, workspaceID, id int64) (*kefu.Label, error) {
	l, err := scanLabel(s.pool.QueryRow(ctx, `SELECT `+labelColumns+` FROM labels WHERE workspace_id = $1 AND id = $2`, workspaceID, id))
	return l, wrap(err, "label")
}

func (s *Store) ListLabels(ctx context.Context, workspaceID int64) ([]*kefu.Label, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+labelColumns+` FROM labels WHERE workspace_id = $1 ORDER BY name COLLATE "C", id`, workspaceID)
	if err != nil {
		return nil, wrap(err, "labels")
	}
	out, err := collect(rows, scanLabel)
	return out, wrap(err, "labels")
}

func (s *Store) UpdateLabel(ctx context.Context, l *kefu.Label) error {
	l.UpdatedAt = kefu.Now()
	tag, err := s.pool.Exec(ctx, `UPDATE labels SET name = $3, color = $4, description = $5, updated_at = $6 WHERE workspace_id = $1 AND id = $2`,
		l.WorkspaceID, l.ID, l.Name, l.Color, l.Description, l.UpdatedAt)
	return rowsChanged(tag.RowsAffected(), err, "label")
}

func (s *Store) DeleteLabel(ctx context.Context, workspaceID, id int64) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM labels WHERE workspace_id = $1 AND id = $2`, workspaceID, id)
	return rowsChanged(tag.RowsAffected(), err, "label")
}

// SearchMessages matches like SQLite's LIKE: a literal substring, ASCII
// case ignored, other scripts (Chinese included) exactly. It walks the
// (workspace_id, id) index newest first.
func (s *Store) SearchMessages(ctx context.Context, f kefu.MessageSearch) ([]*kefu.Message, error) {
	args := []any{f.WorkspaceID, "%" + escapeLike(f.Query) + "%"}
	q := "SELECT " + messageColumns + " FROM messages m WHERE m.workspace_id = $1 AND m.kind <> 'event' AND m.body ILIKE $2"
	if f.BeforeID > 0 {
		args = append(args, f.BeforeID)
		q += " AND m.id < $" + strconv.Itoa(len(args))
	}
	if f.Limit <= 0 {
		f.Limit = 25
	}
	args = append(args, f.Limit)
	q += " ORDER BY m.id DESC LIMIT $" + strconv.Itoa(len(args))
	rows, err := s.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, wrap(err, "messages")
	}
	out, err := collect(rows, func(r scanner) (*kefu.Message, error) { return scanMessage(r) })
	return out, wrap(err, "messages")
}

// escapeLike makes s match literally in LIKE/ILIKE, whose default escape
// character is the backslash.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

func (s *Store) LastMessages(ctx context.Context, workspaceID int64, ids []int64) (map[int64]*kefu.Message, error) {
	out := make(map[int64]*kefu.Message, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := s.pool.Query(ctx, "SELECT "+messageColumns+` FROM conversations c
		JOIN messages m ON m.conversation_id = c.id AND m.seq = c.last_seq
		WHERE c.workspace_id = $1 AND c.id = ANY($2)`, workspaceID, ids)
	if err != nil {
		return nil, wrap(err, "messages")
	}
	ms, err := collect(rows, func(r scanner) (*kefu.Message, error) { return scanMessage(r) })
	if err != nil {
		return nil, wrap(err, "messages")
	}
	for _, m := range ms {
		out[m.ConversationID] = m
	}
	return out, nil
}

func (s *Store) UpdateWorkspace(ctx context.Context, w *kefu.Workspace) error {
	tag, err := s.pool.Exec(ctx, `UPDATE workspaces SET name = $2 WHERE id = $1`, w.ID, w.Name)
	return rowsChanged(tag.RowsAffected(), err, "workspace")
}
