package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/kefu-chat/kefu/internal/kefu"
)

const inboxColumns = `id, workspace_id, name, channel, public_token, secret, allowed_origins, greeting, color, created_at, updated_at, widget`

func scanInbox(row scanner) (*kefu.Inbox, error) {
	var in kefu.Inbox
	var origins, widget []byte
	if err := row.Scan(&in.ID, &in.WorkspaceID, &in.Name, &in.Channel, &in.PublicToken, &in.Secret,
		&origins, &in.Greeting, &in.Color, &in.CreatedAt, &in.UpdatedAt, &widget); err != nil {
		return nil, err
	}
	in.Widget = decodeWidget(widget)
	var err error
	if in.AllowedOrigins, err = decodeStrings(origins); err != nil {
		return nil, err
	}
	in.CreatedAt, in.UpdatedAt = in.CreatedAt.UTC(), in.UpdatedAt.UTC()
	return &in, nil
}

// CreateInbox inserts in and sets its ID; the channel defaults to the web
// widget. A taken public token is EConflict.
func (s *Store) CreateInbox(ctx context.Context, in *kefu.Inbox) error {
	in.CreatedAt = orNow(in.CreatedAt)
	in.UpdatedAt = in.CreatedAt
	if in.Channel == "" {
		in.Channel = kefu.ChannelWeb
	}
	if in.AllowedOrigins == nil {
		in.AllowedOrigins = []string{}
	}
	origins, err := stringsJSON(in.AllowedOrigins)
	if err != nil {
		return wrap(err, "inbox")
	}
	widget, err := widgetJSON(&in.Widget)
	if err != nil {
		return wrap(err, "inbox")
	}
	err = s.pool.QueryRow(ctx, `
		INSERT INTO inboxes (workspace_id, name, channel, public_token, secret, allowed_origins, greeting, color, created_at, updated_at, widget)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id`,
		in.WorkspaceID, in.Name, in.Channel, in.PublicToken, in.Secret, origins, in.Greeting, in.Color,
		in.CreatedAt, in.UpdatedAt, widget).Scan(&in.ID)
	return wrap(err, "inbox")
}

// GetInbox returns the inbox id of the workspace.
func (s *Store) GetInbox(ctx context.Context, workspaceID, id int64) (*kefu.Inbox, error) {
	in, err := scanInbox(s.pool.QueryRow(ctx,
		"SELECT "+inboxColumns+" FROM inboxes WHERE workspace_id = $1 AND id = $2", workspaceID, id))
	return in, wrap(err, "inbox")
}

// GetInboxByToken finds an inbox by its public token.
func (s *Store) GetInboxByToken(ctx context.Context, token string) (*kefu.Inbox, error) {
	in, err := scanInbox(s.pool.QueryRow(ctx,
		"SELECT "+inboxColumns+" FROM inboxes WHERE public_token = $1", token))
	return in, wrap(err, "inbox")
}

// ListInboxes returns the workspace's inboxes by id.
func (s *Store) ListInboxes(ctx context.Context, workspaceID int64) ([]*kefu.Inbox, error) {
	rows, err := s.pool.Query(ctx,
		"SELECT "+inboxColumns+" FROM inboxes WHERE workspace_id = $1 ORDER BY id", workspaceID)
	if err != nil {
		return nil, wrap(err, "inboxes")
	}
	out, err := collect(rows, scanInbox)
	return out, wrap(err, "inboxes")
}

// UpdateInbox writes every mutable field of in, found by in.WorkspaceID and
// in.ID, and sets in.UpdatedAt to now.
func (s *Store) UpdateInbox(ctx context.Context, in *kefu.Inbox) error {
	if in.AllowedOrigins == nil {
		in.AllowedOrigins = []string{}
	}
	origins, err := stringsJSON(in.AllowedOrigins)
	if err != nil {
		return wrap(err, "inbox")
	}
	widget, err := widgetJSON(&in.Widget)
	if err != nil {
		return wrap(err, "inbox")
	}
	now := kefu.Now()
	tag, err := s.pool.Exec(ctx, `
		UPDATE inboxes SET name = $3, channel = $4, public_token = $5, secret = $6,
			allowed_origins = $7, greeting = $8, color = $9, updated_at = $10, widget = $11
		WHERE workspace_id = $1 AND id = $2`,
		in.WorkspaceID, in.ID, in.Name, in.Channel, in.PublicToken, in.Secret, origins,
		in.Greeting, in.Color, now, widget)
	if err != nil {
		return wrap(err, "inbox")
	}
	if tag.RowsAffected() == 0 {
		return wrap(pgx.ErrNoRows, "inbox")
	}
	in.UpdatedAt = now
	return nil
}
