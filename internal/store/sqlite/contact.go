package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"strings"
	"time"

	"github.com/kefu-chat/kefu/internal/kefu"
)

const contactCols = `id, workspace_id, visitor_id, external_id, name, email, phone, attributes, user_agent, page_url, first_seen_at, last_seen_at, created_at, updated_at`

func scanContact(row interface{ Scan(...any) error }) (*kefu.Contact, error) {
	var c kefu.Contact
	var visitor, external sql.NullString
	var attrs string
	var first, last, created, updated int64
	if err := row.Scan(&c.ID, &c.WorkspaceID, &visitor, &external, &c.Name, &c.Email, &c.Phone, &attrs, &c.UserAgent, &c.PageURL,
		&first, &last, &created, &updated); err != nil {
		return nil, err
	}
	c.VisitorID, c.ExternalID = visitor.String, external.String
	if err := json.Unmarshal([]byte(attrs), &c.Attributes); err != nil || c.Attributes == nil {
		c.Attributes = map[string]any{}
	}
	c.FirstSeenAt, c.LastSeenAt, c.CreatedAt, c.UpdatedAt = fromMicros(first), fromMicros(last), fromMicros(created), fromMicros(updated)
	return &c, nil
}

func attrsOrEmpty(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}

func (s *Store) CreateContact(ctx context.Context, c *kefu.Contact) error {
	now := kefu.Now()
	if c.CreatedAt.IsZero() {
		c.CreatedAt = now
	}
	if c.FirstSeenAt.IsZero() {
		c.FirstSeenAt = c.CreatedAt
	}
	if c.LastSeenAt.IsZero() {
		c.LastSeenAt = c.CreatedAt
	}
	c.UpdatedAt = c.CreatedAt
	c.Attributes = attrsOrEmpty(c.Attributes)
	res, err := s.wc.ExecContext(ctx, `INSERT INTO contacts (workspace_id, visitor_id, external_id, name, email, phone, attributes, user_agent, page_url,
		first_seen_at, last_seen_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.WorkspaceID, nullString(c.VisitorID), nullString(c.ExternalID), c.Name, c.Email, c.Phone, jsonText(c.Attributes), c.UserAgent, c.PageURL,
		micros(c.FirstSeenAt), micros(c.LastSeenAt), micros(c.CreatedAt), micros(c.UpdatedAt))
	if err != nil {
		return mapErr(err, "contact")
	}
	c.ID, err = res.LastInsertId()
	return err
}

func (s *Store) GetContact(ctx context.Context, workspaceID, id int64) (*kefu.Contact, error) {
	c, err := scanContact(s.rc.QueryRowContext(ctx, `SELECT `+contactCols+` FROM contacts WHERE id = ? AND workspace_id = ?`, id, workspaceID))
	return c, mapErr(err, "contact")
}

func (s *Store) GetContactByVisitorID(ctx context.Context, workspaceID int64, visitorID string) (*kefu.Contact, error) {
	if visitorID == "" {
		return nil, kefu.Errorf(kefu.ENotFound, "contact not found")
	}
	c, err := scanContact(s.rc.QueryRowContext(ctx, `SELECT `+contactCols+` FROM contacts WHERE workspace_id = ? AND visitor_id = ?`, workspaceID, visitorID))
	return c, mapErr(err, "contact")
}

func (s *Store) GetContactByExternalID(ctx context.Context, workspaceID int64, externalID string) (*kefu.Contact, error) {
	if externalID == "" {
		return nil, kefu.Errorf(kefu.ENotFound, "contact not found")
	}
	c, err := scanContact(s.rc.QueryRowContext(ctx, `SELECT `+contactCols+` FROM contacts WHERE workspace_id = ? AND external_id = ?`, workspaceID, externalID))
	return c, mapErr(err, "contact")
}

func (s *Store) UpdateContact(ctx context.Context, c *kefu.Contact) error {
	c.UpdatedAt = kefu.Now()
	c.Attributes = attrsOrEmpty(c.Attributes)
	res, err := s.wc.ExecContext(ctx, `UPDATE contacts SET visitor_id = ?, external_id = ?, name = ?, email = ?, phone = ?, attributes = ?, user_agent = ?,
		page_url = ?, last_seen_at = ?, updated_at = ? WHERE id = ? AND workspace_id = ?`,
		nullString(c.VisitorID), nullString(c.ExternalID), c.Name, c.Email, c.Phone, jsonText(c.Attributes), c.UserAgent, c.PageURL,
		micros(c.LastSeenAt), micros(c.UpdatedAt), c.ID, c.WorkspaceID)
	return affected(res, err, "contact")
}

// PatchContact reads, changes and writes the contact in one transaction on
// the writer, so no other write comes between the read and the write.
func (s *Store) PatchContact(ctx context.Context, workspaceID, id int64, p kefu.ContactPatch) (*kefu.Contact, error) {
	var c *kefu.Contact
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		c, err = scanContact(tx.QueryRowContext(ctx, `SELECT `+contactCols+` FROM contacts WHERE id = ? AND workspace_id = ?`, id, workspaceID))
		if err != nil {
			return mapErr(err, "contact")
		}
		if err := p.Apply(c); err != nil {
			return err
		}
		c.LastSeenAt = c.LastSeenAt.UTC().Truncate(time.Microsecond) // as it reads back
		c.UpdatedAt = kefu.Now()
		attrs := jsonText(c.Attributes)
		_, err = tx.ExecContext(ctx, `UPDATE contacts SET external_id = ?, name = ?, email = ?, phone = ?, attributes = ?, user_agent = ?,
			page_url = ?, last_seen_at = ?, updated_at = ? WHERE id = ? AND workspace_id = ?`,
			nullString(c.ExternalID), c.Name, c.Email, c.Phone, attrs, c.UserAgent, c.PageURL,
			micros(c.LastSeenAt), micros(c.UpdatedAt), c.ID, c.WorkspaceID)
		if err != nil {
			return mapErr(err, "contact")
		}
		// Return the attributes as a read would: numbers as float64.
		c.Attributes = nil
		return mapErr(json.Unmarshal([]byte(attrs), &c.Attributes), "contact")
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// escapeLike makes a user's search text literal inside a LIKE pattern.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

func (s *Store) ListContacts(ctx context.Context, f kefu.ContactFilter) ([]*kefu.Contact, error) {
	q := `SELECT ` + contactCols + ` FROM contacts WHERE workspace_id = ?`
	args := []any{f.WorkspaceID}
	if f.BeforeID > 0 {
		q += ` AND id < ?`
		args = append(args, f.BeforeID)
	}
	if f.Query != "" {
		p := "%" + escapeLike(f.Query) + "%"
		q += ` AND (name LIKE ? ESCAPE '\' OR email LIKE ? ESCAPE '\' OR phone LIKE ? ESCAPE '\' OR external_id LIKE ? ESCAPE '\')`
		args = append(args, p, p, p, p)
	}
	if f.Limit <= 0 {
		f.Limit = 50
	}
	q += ` ORDER BY id DESC LIMIT ?`
	args = append(args, f.Limit)
	rows, err := s.rc.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, mapErr(err, "contact")
	}
	defer rows.Close()
	out := []*kefu.Contact{}
	for rows.Next() {
		c, err := scanContact(rows)
		if err != nil {
			return nil, mapErr(err, "contact")
		}
		out = append(out, c)
	}
	return out, mapErr(rows.Err(), "contact")
}
