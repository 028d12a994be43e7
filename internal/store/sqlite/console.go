package sqlite

import (
	"context"
	"strings"

	"github.com/kefu-chat/kefu/internal/kefu"
)

// Canned responses, the label catalog, message search, last-message
// previews and workspace renames (kefu/console.go).

const cannedCols = `id, workspace_id, short_code, content, created_at, updated_at`

func scanCanned(row interface{ Scan(...any) error }) (*kefu.CannedResponse, error) {
	var c kefu.CannedResponse
	var created, updated int64
	if err := row.Scan(&c.ID, &c.WorkspaceID, &c.ShortCode, &c.Content, &created, &updated); err != nil {
		return nil, err
	}
	c.CreatedAt, c.UpdatedAt = fromMicros(created), fromMicros(updated)
	return &c, nil
}

func (s *Store) CreateCanned(ctx context.Context, c *kefu.CannedResponse) error {
	now := kefu.Now()
	if c.CreatedAt.IsZero() {
		c.CreatedAt = now
	}
	c.UpdatedAt = c.CreatedAt
	err := s.wc.QueryRowContext(ctx, `INSERT INTO canned_responses (workspace_id, short_code, content, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?) RETURNING id`, c.WorkspaceID, c.ShortCode, c.Content, micros(c.CreatedAt), micros(c.UpdatedAt)).Scan(&c.ID)
	return mapErr(err, "canned response")
}

func (s *Store) GetCanned(ctx context.Context, workspaceID, id int64) (*kefu.CannedResponse, error) {
	c, err := scanCanned(s.rc.QueryRowContext(ctx, `SELECT `+cannedCols+` FROM canned_responses WHERE id = ? AND workspace_id = ?`, id, workspaceID))
	return c, mapErr(err, "canned response")
}

func (s *Store) ListCanned(ctx context.Context, workspaceID int64) ([]*kefu.CannedResponse, error) {
	rows, err := s.rc.QueryContext(ctx, `SELECT `+cannedCols+` FROM canned_responses WHERE workspace_id = ? ORDER BY short_code, id`, workspaceID)
	if err != nil {
		return nil, mapErr(err, "canned responses")
	}
	defer rows.Close()
	out := []*kefu.CannedResponse{}
	for rows.Next() {
		c, err := scanCanned(rows)
		if err != nil {
			return nil, mapErr(err, "canned responses")
		}
		out = append(out, c)
	}
	return out, mapErr(rows.Err(), "canned responses")
}

func (s *Store) UpdateCanned(ctx context.Context, c *kefu.CannedResponse) error {
	c.UpdatedAt = kefu.Now()
	res, err := s.wc.ExecContext(ctx, `UPDATE canned_responses SET short_code = ?, content = ?, updated_at = ? WHERE id = ? AND workspace_id = ?`,
		c.ShortCode, c.Content, micros(c.UpdatedAt), c.ID, c.WorkspaceID)
	return affected(res, err, "canned response")
}

func (s *Store) DeleteCanned(ctx context.Context, workspaceID, id int64) error {
	res, err := s.wc.ExecContext(ctx, `DELETE FROM canned_responses WHERE id = ? AND workspace_id = ?`, id, workspaceID)
	return affected(res, err, "canned response")
}

const labelCols = `id, workspace_id, name, color, description, created_at, updated_at`

func scanLabel(row interface{ Scan(...any) error }) (*kefu.Label, error) {
	var l kefu.Label
	var created, updated int64
	if err := row.Scan(&l.ID, &l.WorkspaceID, &l.Name, &l.Color, &l.Description, &created, &updated); err != nil {
		return nil, err
	}
	l.CreatedAt, l.UpdatedAt = fromMicros(created), fromMicros(updated)
	return &l, nil
}

func (s *Store) CreateLabel(ctx context.Context, l *kefu.Label) error {
	if l.CreatedAt.IsZero() {
		l.CreatedAt = kefu.Now()
	}
	l.UpdatedAt = l.CreatedAt
	err := s.wc.QueryRowContext(ctx, `INSERT INTO labels (workspace_id, name, color, description, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?) RETURNING id`, l.WorkspaceID, l.Name, l.Color, l.Description, micros(l.CreatedAt), micros(l.UpdatedAt)).Scan(&l.ID)
	return mapErr(err, "label")
}

func (s *Store) GetLabel(ctx context.Context, workspaceID, id int64) (*kefu.Label, error) {
	l, err := scanLabel(s.rc.QueryRowContext(ctx, `SELECT `+labelCols+` FROM labels WHERE id = ? AND workspace_id = ?`, id, workspaceID))
	return l, mapErr(err, "label")
}

func (s *Store) ListLabels(ctx context.Context, workspaceID int64) ([]*kefu.Label, error) {
	rows, err := s.rc.QueryContext(ctx, `SELECT `+labelCols+` FROM labels WHERE workspace_id = ? ORDER BY name, id`, workspaceID)
	if err != nil {
		return nil, mapErr(err, "labels")
	}
	defer rows.Close()
	out := []*kefu.Label{}
	for rows.Next() {
		l, err := scanLabel(rows)
		if err != nil {
			return nil, mapErr(err, "labels")
		}
		out = append(out, l)
	}
	return out, mapErr(rows.Err(), "labels")
}

func (s *Store) UpdateLabel(ctx context.Context, l *kefu.Label) error {
	l.UpdatedAt = kefu.Now()
	res, err := s.wc.ExecContext(ctx, `UPDATE labels SET name = ?, color = ?, description = ?, updated_at = ? WHERE id = ? AND workspace_id = ?`,
		l.Name, l.Color, l.Description, micros(l.UpdatedAt), l.ID, l.WorkspaceID)
	return affected(res, err, "label")
}

func (s *Store) DeleteLabel(ctx context.Context, workspaceID, id int64) error {
	res, err := s.wc.ExecContext(ctx, `DELETE FROM labels WHERE id = ? AND workspace_id = ?`, id, workspaceID)
	return affected(res, err, "label")
}

// SearchMessages walks the workspace's messages newest first through the
// (workspace_id, id) index. LIKE ignores ASCII case only; other scripts,
// Chinese included, match exactly.
func (s *Store) SearchMessages(ctx context.Context, f kefu.MessageSearch) ([]*kefu.Message, error) {
	q := `SELECT ` + msgCols + ` FROM messages WHERE workspace_id = ? AND kind <> 'event' AND body LIKE ? ESCAPE '\'`
	args := []any{f.WorkspaceID, "%" + escapeLike(f.Query) + "%"}
	if f.BeforeID > 0 {
		q += ` AND id < ?`
		args = append(args, f.BeforeID)
	}
	if f.Limit <= 0 {
		f.Limit = 25
	}
	q += ` ORDER BY id DESC LIMIT ?`
	args = append(args, f.Limit)
	return s.queryMessages(ctx, q, args...)
}

// LastMessages joins each conversation to the message at its last_seq, a
// point lookup on the (conversation_id, seq) key.
func (s *Store) LastMessages(ctx context.Context, workspaceID int64, ids []int64) (map[int64]*kefu.Message, error) {
	out := make(map[int64]*kefu.Message, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	args := []any{workspaceID}
	for _, id := range ids {
		args = append(args, id)
	}
	q := `SELECT m.` + strings.ReplaceAll(msgCols, ", ", ", m.") + ` FROM conversations c
		JOIN messages m ON m.conversation_id = c.id AND m.seq = c.last_seq
		WHERE c.workspace_id = ? AND c.id IN (?` + strings.Repeat(", ?", len(ids)-1) + `)`
	ms, err := s.queryMessages(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	for _, m := range ms {
		out[m.ConversationID] = m
	}
	return out, nil
}

func (s *Store) queryMessages(ctx context.Context, q string, args ...any) ([]*kefu.Message, error) {
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, mapErr(err, "messages")
	}
	defer rows.Close()
	out := []*kefu.Message{}
	for rows.Next() {
		m, err := scanMessage(rows)
		if err != nil {
			return nil, mapErr(err, "messages")
		}
		out = append(out, m)
	}
	return out, mapErr(rows.Err(), "messages")
}

func (s *Store) UpdateWorkspace(ctx context.Context, w *kefu.Workspace) error {
	res, err := s.wc.ExecContext(ctx, `UPDATE workspaces SET name = ? WHERE id = ?`, w.Name, w.ID)
	return affected(res, err, "workspace")
}
