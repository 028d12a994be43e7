-- Kefu schema, PostgreSQL dialect. Same tables and columns as the SQLite
-- schema; times are timestamptz (microsecond precision, like the SQLite
-- INTEGER micros) and JSON columns are jsonb. Every tenant table carries
-- workspace_id and every query filters by it.

CREATE TABLE workspaces (
    id         BIGSERIAL   PRIMARY KEY,
    name       TEXT        NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE agents (
    id             BIGSERIAL   PRIMARY KEY,
    workspace_id   BIGINT      NOT NULL REFERENCES workspaces(id),
    email          TEXT        NOT NULL,
    name           TEXT        NOT NULL,
    role           TEXT        NOT NULL CHECK (role IN ('admin', 'agent')),
    password_hash  TEXT        NOT NULL,
    max_concurrent INTEGER     NOT NULL DEFAULT 0,
    active         BOOLEAN     NOT NULL DEFAULT TRUE,
    created_at     TIMESTAMPTZ NOT NULL,
    updated_at     TIMESTAMPTZ NOT NULL
);
-- The login name is unique whatever its case, like SQLite's COLLATE NOCASE;
-- lookups use lower(email) so they hit this index.
CREATE UNIQUE INDEX agents_email ON agents (lower(email));
CREATE INDEX agents_workspace ON agents (workspace_id, id);

CREATE TABLE inboxes (
    id              BIGSERIAL   PRIMARY KEY,
    workspace_id    BIGINT      NOT NULL REFERENCES workspaces(id),
    name            TEXT        NOT NULL,
    channel         TEXT        NOT NULL,
    public_token    TEXT        NOT NULL UNIQUE,
    secret          TEXT        NOT NULL,
    allowed_origins JSONB       NOT NULL DEFAULT '[]',
    greeting        TEXT        NOT NULL DEFAULT '',
    color           TEXT        NOT NULL DEFAULT '',
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL
);
CREATE INDEX inboxes_workspace ON inboxes (workspace_id, id);

CREATE TABLE contacts (
    id            BIGSERIAL   PRIMARY KEY,
    workspace_id  BIGINT      NOT NULL REFERENCES workspaces(id),
    visitor_id    TEXT,
    external_id   TEXT,
    name          TEXT        NOT NULL DEFAULT '',
    email         TEXT        NOT NULL DEFAULT '',
    phone         TEXT        NOT NULL DEFAULT '',
    attributes    JSONB       NOT NULL DEFAULT '{}',
    user_agent    TEXT        NOT NULL DEFAULT '',
    page_url      TEXT        NOT NULL DEFAULT '',
    first_seen_at TIMESTAMPTZ NOT NULL,
    last_seen_at  TIMESTAMPTZ NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL
);
-- An empty visitor or external id is stored as NULL, so only real ids collide.
CREATE UNIQUE INDEX contacts_visitor ON contacts (workspace_id, visitor_id) WHERE visitor_id IS NOT NULL;
CREATE UNIQUE INDEX contacts_external ON contacts (workspace_id, external_id) WHERE external_id IS NOT NULL;
CREATE INDEX contacts_workspace ON contacts (workspace_id, id);

CREATE TABLE conversations (
    id                    BIGSERIAL   PRIMARY KEY,
    workspace_id          BIGINT      NOT NULL REFERENCES workspaces(id),
    inbox_id              BIGINT      NOT NULL REFERENCES inboxes(id),
    contact_id            BIGINT      NOT NULL REFERENCES contacts(id),
    assignee_id           BIGINT      REFERENCES agents(id),
    status                TEXT        NOT NULL CHECK (status IN ('open', 'pending', 'resolved', 'snoozed')),
    priority              TEXT        NOT NULL DEFAULT 'none',
    labels                JSONB       NOT NULL DEFAULT '[]',
    snoozed_until         TIMESTAMPTZ,
    last_seq              BIGINT      NOT NULL DEFAULT 0,
    contact_last_read_seq BIGINT      NOT NULL DEFAULT 0,
    agent_last_read_seq   BIGINT      NOT NULL DEFAULT 0,
    created_at            TIMESTAMPTZ NOT NULL,
    updated_at            TIMESTAMPTZ NOT NULL,
    last_activity_at      TIMESTAMPTZ NOT NULL
);
-- The conversation list is keyset-paginated on (last_activity_at, id) DESC,
-- alone or under one equality filter; each filter gets an index that serves
-- both the filter and the order, so a page is an index range scan.
CREATE INDEX conversations_list ON conversations (workspace_id, last_activity_at DESC, id DESC);
CREATE INDEX conversations_status ON conversations (workspace_id, status, last_activity_at DESC, id DESC);
CREATE INDEX conversations_assignee ON conversations (workspace_id, assignee_id, last_activity_at DESC, id DESC);
CREATE INDEX conversations_inbox ON conversations (workspace_id, inbox_id, last_activity_at DESC, id DESC);
CREATE INDEX conversations_contact ON conversations (workspace_id, contact_id, last_activity_at DESC, id DESC);

CREATE TABLE attachments (
    id            BIGSERIAL   PRIMARY KEY,
    workspace_id  BIGINT      NOT NULL REFERENCES workspaces(id),
    uploader_type TEXT        NOT NULL,
    uploader_id   BIGINT      NOT NULL,
    file_name     TEXT        NOT NULL,
    content_type  TEXT        NOT NULL,
    size          BIGINT      NOT NULL,
    sha256        TEXT        NOT NULL,
    storage_key   TEXT        NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL
);

CREATE TABLE messages (
    id              BIGSERIAL   PRIMARY KEY,
    workspace_id    BIGINT      NOT NULL,
    conversation_id BIGINT      NOT NULL REFERENCES conversations(id),
    seq             BIGINT      NOT NULL,
    sender_type     TEXT        NOT NULL,
    sender_id       BIGINT      NOT NULL,
    kind            TEXT        NOT NULL,
    body            TEXT        NOT NULL,
    attachments     JSONB       NOT NULL DEFAULT '[]',
    client_msg_id   TEXT,
    created_at      TIMESTAMPTZ NOT NULL,
    UNIQUE (conversation_id, seq)
);
-- Idempotency: one message per sender and client message id in a
-- conversation. It is also the backstop when two nodes race on the same id.
CREATE UNIQUE INDEX messages_client_id ON messages (conversation_id, sender_type, sender_id, client_msg_id) WHERE client_msg_id IS NOT NULL;

CREATE TABLE sessions (
    id           BIGSERIAL   PRIMARY KEY,
    workspace_id BIGINT      NOT NULL REFERENCES workspaces(id),
    kind         TEXT        NOT NULL,
    agent_id     BIGINT,
    contact_id   BIGINT,
    inbox_id     BIGINT,
    token_hash   TEXT        NOT NULL UNIQUE,
    created_at   TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ NOT NULL,
    revoked_at   TIMESTAMPTZ
);
CREATE INDEX sessions_agent ON sessions (workspace_id, agent_id);
