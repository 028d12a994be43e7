package postgres

import (
	"context"
	"encoding/json"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/kefu-chat/kefu/internal/kefu"
)

const contactColumns = `id, workspace_id, COALESCE(visitor_id, ''), COALESCE(external_id, ''), name, email, phone,
	attributes, user_agent, page_url, first_seen_at, last_seen_at, created_at, updated_at`

func scanContact(row scanner) (*kefu.Contact, error) {
	var c kefu.Contact
	var attrs []byte
	if err := row.Scan(&c.ID, &c.WorkspaceID, &c.VisitorID, &c.ExternalID, &c.Name, &c.Email, &c.Phone,
		&attrs, &c.UserAgent, &c.PageURL, &c.FirstSeenAt, &c.LastSeenAt, &c.CreatedAt, &c.UpdatedAt); err != nil {
		return nil, err
	}
	if err := json.Unmarshal(attrs, &c.Attributes); err != nil {
		return nil, err
	}
	if c.Attributes == nil {
		c.Attributes = map[string]any{}
	}
	c.FirstSeenAt, c.LastSeenAt = c.FirstSeenAt.UTC(), c.LastSeenAt.UTC()
	c.CreatedAt, c.UpdatedAt = c.CreatedAt.UTC(), c.UpdatedAt.UTC()
	return &c, nil
}

// CreateContact inserts c and sets its ID; zero times default to now.
// Visitor and external ids are
// unique within the workspace (empty ones are not ids): a taken one is
// EConflict.
func (s *Store) CreateContact(ctx context.Context, c *kefu.Contact) error {
	c.CreatedAt = orNow(c.CreatedAt)
	c.UpdatedAt = c.CreatedAt
	if c.FirstSeenAt.IsZero() {
		c.FirstSeenAt = c.CreatedAt
	}
	if c.LastSeenAt.IsZero() {
		c.LastSeenAt = c.CreatedAt
	}
	if c.Attributes == nil {
		c.Attributes = map[string]any{}
	}
	attrs, err := jsonArg(c.Attributes, "{}")
	if err != nil {
		return kefu.Errorf(kefu.EInvalid, "attributes: %v", err)
	}
	err = s.pool.QueryRow(ctx, `
		INSERT INTO contacts (workspace_id, visitor_id, external_id, name, email, phone, attributes,
			user_agent, page_url, first_seen_at, last_seen_at, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id`,
		c.WorkspaceID, nullText(c.VisitorID), nullText(c.ExternalID), c.Name, c.Email, c.Phone, attrs,
		c.UserAgent, c.PageURL, c.FirstSeenAt, c.LastSeenAt, c.CreatedAt, c.UpdatedAt).Scan(&c.ID)
	return wrap(err, "contact")
}

// GetContact returns the contact id of the workspace.
func (s *Store) GetContact(ctx context.Context, workspaceID, id int64) (*kefu.Contact, error) {
	c, err := scanContact(s.pool.QueryRow(ctx,
		"SELECT "+contactColumns+" FROM contacts WHERE workspace_id = $1 AND id = $2", workspaceID, id))
	return c, wrap(err, "contact")
}

// GetContactByVisitorID finds a contact by the browser's anonymous id.
func (s *Store) GetContactByVisitorID(ctx context.Context, workspaceID int64, visitorID string) (*kefu.Contact, error) {
	c, err := scanContact(s.pool.QueryRow(ctx,
		"SELECT "+contactColumns+" FROM contacts WHERE workspace_id = $1 AND visitor_id = $2", workspaceID, visitorID))
	return c, wrap(err, "contact")
}

// GetContactByExternalID finds a contact by the business's own id.
func (s *Store) GetContactByExternalID(ctx context.Context, workspaceID int64, externalID string) (*kefu.Contact, error) {
	c, err := scanContact(s.pool.QueryRow(ctx,
		"SELECT "+contactColumns+" FROM contacts WHERE workspace_id = $1 AND external_id = $2", workspaceID, externalID))
	return c, wrap(err, "contact")
}

// UpdateContact writes every mutable field of c, found by c.WorkspaceID and
// c.ID, and sets c.UpdatedAt to now. FirstSeenAt and CreatedAt stay.
func (s *Store) UpdateContact(ctx context.Context, c *kefu.Contact) error {
	if c.Attributes == nil {
		c.Attributes = map[string]any{}
	}
	attrs, err := jsonArg(c.Attributes, "{}")
	if err != nil {
		return kefu.Errorf(kefu.EInvalid, "attributes: %v", err)
	}
	now := kefu.Now()
	tag, err := s.pool.Exec(ctx, `
		UPDATE contacts SET visitor_id = $3, external_id = $4, name = $5, email = $6, phone = $7,
			attributes = $8, user_agent = $9, page_url = $10, last_seen_at = $11, updated_at = $12
		WHERE workspace_id = $1 AND id = $2`,
		c.WorkspaceID, c.ID, nullText(c.VisitorID), nullText(c.ExternalID), c.Name, c.Email, c.Phone,
		attrs, c.UserAgent, c.PageURL, c.LastSeenAt.UTC(), now)
	if err != nil {
		return wrap(err, "contact")
	}
	if tag.RowsAffected() == 0 {
		return wrap(pgx.ErrNoRows, "contact")
	}
	c.UpdatedAt = now
	return nil
}

// PatchContact locks the contact's row, applies p to it as it is under the
// lock and writes it back, all in one transaction: a concurrent patch waits
// for the lock and then reads this one's result.
func (s *Store) PatchContact(ctx context.Context, workspaceID, id int64, p kefu.ContactPatch) (*kefu.Contact, error) {
	var c *kefu.Contact
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		c, err = scanContact(tx.QueryRow(ctx,
			"SELECT "+contactColumns+" FROM contacts WHERE workspace_id = $1 AND id = $2 FOR UPDATE", workspaceID, id))
		if err != nil {
			return wrap(err, "contact")
		}
		if err := p.Apply(c); err != nil {
			return err
		}
		c.LastSeenAt = c.LastSeenAt.UTC().Truncate(time.Microsecond) // as it reads back
		attrs, err := jsonArg(c.Attributes, "{}")
		if err != nil {
			return kefu.Errorf(kefu.EInvalid, "attributes: %v", err)
		}
		c.UpdatedAt = kefu.Now()
		_, err = tx.Exec(ctx, `
			UPDATE contacts SET external_id = $3, name = $4, email = $5, phone = $6, attributes = $7,
				user_agent = $8, page_url = $9, last_seen_at = $10, updated_at = $11
			WHERE workspace_id = $1 AND id = $2`,
			workspaceID, id, nullText(c.ExternalID), c.Name, c.Email, c.Phone, attrs,
			c.UserAgent, c.PageURL, c.LastSeenAt, c.UpdatedAt)
		if err != nil {
			return wrap(err, "contact")
		}
		// Return the attributes as a read would: numbers as float64.
		c.Attributes = nil
		return wrap(json.Unmarshal(attrs, &c.Attributes), "contact")
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// Default page size of ListContacts when the filter sets none.
const defaultContactLimit = 50

// ListContacts returns the workspace's contacts newest first. Query matches
// a substring of name, email, phone or external id, ignoring case, and is
// taken literally (no wildcards).
func (s *Store) ListContacts(ctx context.Context, f kefu.ContactFilter) ([]*kefu.Contact, error) {
	q := "SELECT " + contactColumns + " FROM contacts WHERE workspace_id = $1"
	args := []any{f.WorkspaceID}
	if f.BeforeID > 0 {
		args = append(args, f.BeforeID)
		q += " AND id < $" + strconv.Itoa(len(args))
	}
	if f.Query != "" {
		args = append(args, f.Query)
		p := "lower($" + strconv.Itoa(len(args)) + ")"
		q += " AND (strpos(lower(name), " + p + ") > 0 OR strpos(lower(email), " + p + ") > 0" +
			" OR strpos(lower(phone), " + p + ") > 0 OR strpos(lower(COALESCE(external_id, '')), " + p + ") > 0)"
	}
	limit := f.Limit
	if limit <= 0 {
		limit = defaultContactLimit
	}
	args = append(args, limit)
	q += " ORDER BY id DESC LIMIT $" + strconv.Itoa(len(args))
	rows, err := s.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, wrap(err, "contacts")
	}
	out, err := collect(rows, scanContact)
	return out, wrap(err, "contacts")
}
