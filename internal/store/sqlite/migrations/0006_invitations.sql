-- Invitations: an admin invites someone by a link that carries a random
-- token; only the token's SHA-256 is kept, as for sessions. Emails are
-- kept lower-case (the API normalises them), so plain comparisons match
-- the agents' case-insensitive uniqueness.

CREATE TABLE invitations (
    id             INTEGER PRIMARY KEY,
    workspace_id   INTEGER NOT NULL REFERENCES workspaces(id),
    email          TEXT    NOT NULL COLLATE NOCASE,
    role           TEXT    NOT NULL CHECK (role IN ('admin', 'agent')),
    name           TEXT    NOT NULL DEFAULT '',
    max_concurrent INTEGER NOT NULL DEFAULT 0,
    created_by     INTEGER NOT NULL REFERENCES agents(id),
    token_hash     TEXT    NOT NULL UNIQUE,
    created_at     INTEGER NOT NULL,
    expires_at     INTEGER NOT NULL,
    accepted_at    INTEGER,
    agent_id       INTEGER REFERENCES agents(id),
    revoked_at     INTEGER
);
-- The pending list and the one-pending-invitation-per-email check.
CREATE INDEX invitations_open ON invitations (workspace_id, email) WHERE accepted_at IS NULL AND revoked_at IS NULL;
