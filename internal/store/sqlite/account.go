package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"

	"github.com/kefu-chat/kefu/internal/kefu"
)

// Workspaces, agents, inboxes, sessions and attachment metadata: the
// low-volume records around the conversations.

func (s *Store) CreateWorkspace(ctx context.Context, w *kefu.Workspace) error {
	if w.CreatedAt.IsZero() {
		w.CreatedAt = kefu.Now()
	}
	res, err := s.wc.ExecContext(ctx, `INSERT INTO workspaces (name, created_at) VALUES (?, ?)`, w.Name, micros(w.CreatedAt))
	if err != nil {
		return mapErr(err, "workspace")
	}
	w.ID, err = res.LastInsertId()
	return err
}

func (s *Store) GetWorkspace(ctx context.Context, id int64) (*kefu.Workspace, error) {
	var w kefu.Workspace
	var created int64
	err := s.rc.QueryRowContext(ctx, `SELECT id, name, created_at FROM workspaces WHERE id = ?`, id).Scan(&w.ID, &w.Name, &created)
	if err != nil {
		return nil, mapErr(err, "workspace")
	}
	w.CreatedAt = fromMicros(created)
	return &w, nil
}

func (s *Store) CountWorkspaces(ctx context.Context) (int, error) {
	var n int
	err := s.rc.QueryRowContext(ctx, `SELECT COUNT(*) FROM workspaces`).Scan(&n)
	return n, mapErr(err, "workspace")
}

const agentCols = `id, workspace_id, email, name, role, password_hash, max_concurrent, active, created_at, updated_at`

func scanAgent(row interface{ Scan(...any) error }) (*kefu.Agent, error) {
	var a kefu.Agent
	var created, updated int64
	if err := row.Scan(&a.ID, &a.WorkspaceID, &a.Email, &a.Name, &a.Role, &a.PasswordHash, &a.MaxConcurrent, &a.Active, &created, &updated); err != nil {
		return nil, err
	}
	a.CreatedAt, a.UpdatedAt = fromMicros(created), fromMicros(updated)
	return &a, nil
}

func (s *Store) CreateAgent(ctx context.Context, a *kefu.Agent) error {
	now := kefu.Now()
	if a.CreatedAt.IsZero() {
		a.CreatedAt = now
	}
	a.UpdatedAt = a.CreatedAt
	res, err := s.wc.ExecContext(ctx, `INSERT INTO agents (workspace_id, email, name, role, password_hash, max_concurrent, active, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, a.WorkspaceID, a.Email, a.Name, a.Role, a.PasswordHash, a.MaxConcurrent, a.Active, micros(a.CreatedAt), micros(a.UpdatedAt))
	if err != nil {
		return mapErr(err, "agent")
	}
	a.ID, err = res.LastInsertId()
	return err
}

func (s *Store) GetAgent(ctx context.Context, workspaceID, id int64) (*kefu.Agent, error) {
	a, err := scanAgent(s.rc.QueryRowContext(ctx, `SELECT `+agentCols+` FROM agents WHERE id = ? AND workspace_id = ?`, id, workspaceID))
	return a, mapErr(err, "agent")
}

func (s *Store) GetAgentByEmail(ctx context.Context, email string) (*kefu.Agent, error) {
	a, err := scanAgent(s.rc.QueryRowContext(ctx, `SELECT `+agentCols+` FROM agents WHERE email = ?`, email))
	return a, mapErr(err, "agent")
}

func (s *Store) ListAgents(ctx context.Context, workspaceID int64) ([]*kefu.Agent, error) {
	rows, err := s.rc.QueryContext(ctx, `SELECT `+agentCols+` FROM agents WHERE workspace_id = ? ORDER BY id`, workspaceID)
	if err != nil {
		return nil, mapErr(err, "agent")
	}
	defer rows.Close()
	out := []*kefu.Agent{}
	for rows.Next() {
		a, err := scanAgent(rows)
		if err != nil {
			return nil, mapErr(err, "agent")
		}
		out = append(out, a)
	}
	return out, mapErr(rows.Err(), "agent")
}

// UpdateAgent writes a unless that would take the workspace's last active
// admin away. The rule sits in the UPDATE's own WHERE clause, evaluated
// against the rows as they are when it runs; writes are serial on the one
// writer connection, so no other change can slip in between.
func (s *Store) UpdateAgent(ctx context.Context, a *kefu.Agent) error {
	now := kefu.Now()
	stillAdmin := a.Active && a.Role == kefu.RoleAdmin
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE agents SET email = ?, name = ?, role = ?, password_hash = ?, max_concurrent = ?, active = ?, updated_at = ?
			WHERE id = ? AND workspace_id = ? AND (? OR NOT (role = 'admin' AND active)
				OR EXISTS (SELECT 1 FROM agents o WHERE o.workspace_id = agents.workspace_id AND o.id <> agents.id AND o.role = 'admin' AND o.active))`,
			a.Email, a.Name, a.Role, a.PasswordHash, a.MaxConcurrent, a.Active, micros(now), a.ID, a.WorkspaceID, stillAdmin)
		if err := affected(res, err, "agent"); !kefu.IsNotFound(err) {
			return err
		}
		// No row changed: either there is no such agent, or it is the last
		// active admin.
		var exists bool
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM agents WHERE id = ? AND workspace_id = ?)`, a.ID, a.WorkspaceID).Scan(&exists); err != nil {
			return mapErr(err, "agent")
		}
		if exists {
			return kefu.LastAdminError()
		}
		return kefu.Errorf(kefu.ENotFound, "agent not found")
	})
	if err == nil {
		a.UpdatedAt = now
	}
	return err
}

// affected turns "no row matched" into ENotFound: the record is absent or
// belongs to another workspace, and the caller must not learn which.
func affected(res sql.Result, err error, what string) error {
	if err != nil {
		return mapErr(err, what)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return mapErr(err, what)
	}
	if n == 0 {
		return kefu.Errorf(kefu.ENotFound, "%s not found", what)
	}
	return nil
}

const inboxCols = `id, workspace_id, name, channel, public_token, secret, allowed_origins, greeting, color, created_at, updated_at, widget`

func scanInbox(row interface{ Scan(...any) error }) (*kefu.Inbox, error) {
	var in kefu.Inbox
	var origins, widget string
	var created, updated int64
	if err := row.Scan(&in.ID, &in.WorkspaceID, &in.Name, &in.Channel, &in.PublicToken, &in.Secret, &origins, &in.Greeting, &in.Color, &created, &updated, &widget); err != nil {
		return nil, err
	}
	in.Widget = decodeWidget(widget)
	if err := json.Unmarshal([]byte(origins), &in.AllowedOrigins); err != nil || in.AllowedOrigins == nil {
		in.AllowedOrigins = []string{}
	}
	in.CreatedAt, in.UpdatedAt = fromMicros(created), fromMicros(updated)
	return &in, nil
}

func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic("sqlite: marshal: " + err.Error())
	}
	return string(b)
}

func stringsOrEmpty(v []string) []string {
	if v == nil {
		return []string{}
	}
	return v
}

func (s *Store) CreateInbox(ctx context.Context, in *kefu.Inbox) error {
	if in.CreatedAt.IsZero() {
		in.CreatedAt = kefu.Now()
	}
	in.UpdatedAt = in.CreatedAt
	in.AllowedOrigins = stringsOrEmpty(in.AllowedOrigins)
	if in.Channel == "" {
		in.Channel = kefu.ChannelWeb
	}
	in.Widget.Normalize()
	res, err := s.wc.ExecContext(ctx, `INSERT INTO inboxes (workspace_id, name, channel, public_token, secret, allowed_origins, greeting, color, created_at, updated_at, widget)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, in.WorkspaceID, in.Name, in.Channel, in.PublicToken, in.Secret, jsonText(in.AllowedOrigins),
		in.Greeting, in.Color, micros(in.CreatedAt), micros(in.UpdatedAt), jsonText(in.Widget))
	if err != nil {
		return mapErr(err, "inbox")
	}
	in.ID, err = res.LastInsertId()
	return err
}

func (s *Store) GetInbox(ctx context.Context, workspaceID, id int64) (*kefu.Inbox, error) {
	in, err := scanInbox(s.rc.QueryRowContext(ctx, `SELECT `+inboxCols+` FROM inboxes WHERE id = ? AND workspace_id = ?`, id, workspaceID))
	return in, mapErr(err, "inbox")
}

func (s *Store) GetInboxByToken(ctx context.Context, token string) (*kefu.Inbox, error) {
	in, err := scanInbox(s.rc.QueryRowContext(ctx, `SELECT `+inboxCols+` FROM inboxes WHERE public_token = ?`, token))
	return in, mapErr(err, "inbox")
}

func (s *Store) ListInboxes(ctx context.Context, workspaceID int64) ([]*kefu.Inbox, error) {
	rows, err := s.rc.QueryContext(ctx, `SELECT `+inboxCols+` FROM inboxes WHERE workspace_id = ? ORDER BY id`, workspaceID)
	if err != nil {
		return nil, mapErr(err, "inbox")
	}
	defer rows.Close()
	out := []*kefu.Inbox{}
	for rows.Next() {
		in, err := scanInbox(rows)
		if err != nil {
			return nil, mapErr(err, "inbox")
		}
		out = append(out, in)
	}
	return out, mapErr(rows.Err(), "inbox")
}

func (s *Store) UpdateInbox(ctx context.Context, in *kefu.Inbox) error {
	in.UpdatedAt = kefu.Now()
	in.AllowedOrigins = stringsOrEmpty(in.AllowedOrigins)
	if in.Channel == "" {
		in.Channel = kefu.ChannelWeb
	}
	in.Widget.Normalize()
	res, err := s.wc.ExecContext(ctx, `UPDATE inboxes SET name = ?, channel = ?, public_token = ?, secret = ?, allowed_origins = ?, greeting = ?, color = ?, updated_at = ?, widget = ?
		WHERE id = ? AND workspace_id = ?`, in.Name, in.Channel, in.PublicToken, in.Secret, jsonText(in.AllowedOrigins), in.Greeting, in.Color, micros(in.UpdatedAt), jsonText(in.Widget), in.ID, in.WorkspaceID)
	return affected(res, err, "inbox")
}

func (s *Store) CreateSession(ctx context.Context, ss *kefu.Session) error {
	if ss.CreatedAt.IsZero() {
		ss.CreatedAt = kefu.Now()
	}
	res, err := s.wc.ExecContext(ctx, `INSERT INTO sessions (workspace_id, kind, agent_id, contact_id, inbox_id, token_hash, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, ss.WorkspaceID, ss.Kind, nullID(ss.AgentID), nullID(ss.ContactID), nullID(ss.InboxID), ss.TokenHash,
		micros(ss.CreatedAt), micros(ss.ExpiresAt))
	if err != nil {
		return mapErr(err, "session")
	}
	ss.ID, err = res.LastInsertId()
	return err
}

func (s *Store) GetSessionByTokenHash(ctx context.Context, tokenHash string) (*kefu.Session, error) {
	var ss kefu.Session
	var agent, contact, inbox, revoked sql.NullInt64
	var created, expires int64
	err := s.rc.QueryRowContext(ctx, `SELECT id, workspace_id, kind, agent_id, contact_id, inbox_id, token_hash, created_at, expires_at, revoked_at
		FROM sessions WHERE token_hash = ?`, tokenHash).Scan(&ss.ID, &ss.WorkspaceID, &ss.Kind, &agent, &contact, &inbox, &ss.TokenHash, &created, &expires, &revoked)
	if err != nil {
		return nil, mapErr(err, "session")
	}
	ss.AgentID, ss.ContactID, ss.InboxID = agent.Int64, contact.Int64, inbox.Int64
	ss.CreatedAt, ss.ExpiresAt, ss.RevokedAt = fromMicros(created), fromMicros(expires), fromNullMicros(revoked)
	return &ss, nil
}

func (s *Store) RevokeSession(ctx context.Context, workspaceID, id int64) error {
	res, err := s.wc.ExecContext(ctx, `UPDATE sessions SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ? AND workspace_id = ?`, micros(kefu.Now()), id, workspaceID)
	return affected(res, err, "session")
}

func (s *Store) RevokeAgentSessions(ctx context.Context, workspaceID, agentID int64) error {
	_, err := s.wc.ExecContext(ctx, `UPDATE sessions SET revoked_at = ? WHERE workspace_id = ? AND agent_id = ? AND revoked_at IS NULL`, micros(kefu.Now()), workspaceID, agentID)
	return mapErr(err, "session")
}

func (s *Store) CreateAttachment(ctx context.Context, a *kefu.Attachment) error {
	if a.CreatedAt.IsZero() {
		a.CreatedAt = kefu.Now()
	}
	res, err := s.wc.ExecContext(ctx, `INSERT INTO attachments (workspace_id, uploader_type, uploader_id, file_name, content_type, size, sha256, storage_key, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, a.WorkspaceID, a.UploaderType, a.UploaderID, a.FileName, a.ContentType, a.Size, a.SHA256, a.StorageKey, micros(a.CreatedAt))
	if err != nil {
		return mapErr(err, "attachment")
	}
	a.ID, err = res.LastInsertId()
	return err
}

func (s *Store) GetAttachment(ctx context.Context, workspaceID, id int64) (*kefu.Attachment, error) {
	var a kefu.Attachment
	var created int64
	err := s.rc.QueryRowContext(ctx, `SELECT id, workspace_id, uploader_type, uploader_id, file_name, content_type, size, sha256, storage_key, created_at
		FROM attachments WHERE id = ? AND workspace_id = ?`, id, workspaceID).Scan(&a.ID, &a.WorkspaceID, &a.UploaderType, &a.UploaderID, &a.FileName,
		&a.ContentType, &a.Size, &a.SHA256, &a.StorageKey, &created)
	if err != nil {
		return nil, mapErr(err, "attachment")
	}
	a.CreatedAt = fromMicros(created)
	return &a, nil
}
