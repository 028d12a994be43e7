package postgres

import (
	"context"

	"github.com/kefu-chat/kefu/internal/kefu"
)

// CreateAttachment inserts a's metadata and sets its ID.
func (s *Store) CreateAttachment(ctx context.Context, a *kefu.Attachment) error {
	a.CreatedAt = orNow(a.CreatedAt)
	err := s.pool.QueryRow(ctx, `
		INSERT INTO attachments (workspace_id, uploader_type, uploader_id, file_name, content_type, size, sha256, storage_key, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
		a.WorkspaceID, a.UploaderType, a.UploaderID, a.FileName, a.ContentType, a.Size, a.SHA256,
		a.StorageKey, a.CreatedAt).Scan(&a.ID)
	return wrap(err, "attachment")
}

// GetAttachment returns the attachment id of the workspace.
func (s *Store) GetAttachment(ctx context.Context, workspaceID, id int64) (*kefu.Attachment, error) {
	var a kefu.Attachment
	err := s.pool.QueryRow(ctx, `
		SELECT id, workspace_id, uploader_type, uploader_id, file_name, content_type, size, sha256, storage_key, created_at
		FROM attachments WHERE workspace_id = $1 AND id = $2`, workspaceID, id).
		Scan(&a.ID, &a.WorkspaceID, &a.UploaderType, &a.UploaderID, &a.FileName, &a.ContentType,
			&a.Size, &a.SHA256, &a.StorageKey, &a.CreatedAt)
	if err != nil {
		return nil, wrap(err, "attachment")
	}
	a.CreatedAt = a.CreatedAt.UTC()
	return &a, nil
}
