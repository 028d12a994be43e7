-- Invitations: an admin invites someone by a link that carries a random
-- token; only the token's SHA-256 is kept, as for sessions. Emails are
-- compared lower-case, like the agents' login names.

CREATE TABLE invitations (
    id             BIGSERIAL   PRIMARY KEY,
    workspace_id   BIGINT      NOT NULL REFERENCES workspaces(id),
    email          TEXT        NOT NULL,
    role           TEXT        NOT NULL CHECK (role IN ('admin', 'agent')),
    name           TEXT        NOT NULL DEFAULT '',
    max_concurrent INTEGER     NOT NULL DEFAULT 0,
    created_by     BIGINT      NOT NULL REFERENCES agents(id),
    token_hash     TEXT        NOT NULL UNIQUE,
    created_at     TIMESTAMPTZ NOT NULL,
    expires_at     TIMESTAMPTZ NOT NULL,
    accepted_at    TIMESTAMPTZ,
    agent_id       BIGINT      REFERENCES agents(id),
    revoked_at     TIMESTAMPTZ
);
-- The pending list and the one-pending-invitation-per-email check.
CREATE INDEX invitations_open ON invitations (workspace_id, lower(email)) WHERE accepted_at IS NULL AND revoked_at IS NULL;
