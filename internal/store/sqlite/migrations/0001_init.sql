-- Kefu schema, SQLite dialect. Times are INTEGER unix microseconds (UTC);
-- JSON columns are TEXT holding JSON. Every tenant table carries
-- workspace_id and every query filters by it.

CREATE TABLE workspaces (
    id         INTEGER PRIMARY KEY,
    name       TEXT    NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE agents (
    id             INTEGER PRIMARY KEY,
    workspace_id   INTEGER NOT NULL REFERENCES workspaces(id),
    email          TEXT    NOT NULL COLLATE NOCASE UNIQUE,
    name           TEXT    NOT NULL,
    role           TEXT    NOT NULL CHECK (role IN ('admin', 'agent')),
    password_hash  TEXT    NOT NULL,
    max_concurrent INTEGER NOT NULL DEFAULT 0,
    active         INTEGER NOT NULL DEFAULT 1,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL
);
CREATE INDEX agents_workspace ON agents (workspace_id, id);

CREATE TABLE inboxes (
    id              INTEGER PRIMARY KEY,
    workspace_id    INTEGER NOT NULL REFERENCES workspaces(id),
    name            TEXT    NOT NULL,
    channel         TEXT    NOT NULL,
    public_token    TEXT    NOT NULL UNIQUE,
    secret          TEXT    NOT NULL,
    allowed_origins TEXT    NOT NULL DEFAULT '[]',
    greeting        TEXT    NOT NULL DEFAULT '',
    color           TEXT    NOT NULL DEFAULT '',
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
CREATE INDEX inboxes_workspace ON inboxes (workspace_id, id);

CREATE TABLE contacts (
    id            INTEGER PRIMARY KEY,
    workspace_id  INTEGER NOT NULL REFERENCES workspaces(id),
    visitor_id    TEXT,
    external_id   TEXT,
    name          TEXT    NOT NULL DEFAULT '',
    email         TEXT    NOT NULL DEFAULT '',
    phone         TEXT    NOT NULL DEFAULT '',
    attributes    TEXT    NOT NULL DEFAULT '{}',
    user_agent    TEXT    NOT NULL DEFAULT '',
    page_url      TEXT    NOT NULL DEFAULT '',
    first_seen_at INTEGER NOT NULL,
    last_seen_at  INTEGER NOT NULL,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);
CREATE UNIQUE INDEX contacts_visitor ON contacts (workspace_id, visitor_id) WHERE visitor_id IS NOT NULL;
CREATE UNIQUE INDEX contacts_external ON contacts (workspace_id, external_id) WHERE external_id IS NOT NULL;
CREATE INDEX contacts_workspace ON contacts (workspace_id, id);

CREATE TABLE conversations (
    id                    INTEGER PRIMARY KEY,
    workspace_id          INTEGER NOT NULL REFERENCES workspaces(id),
    inbox_id              INTEGER NOT NULL REFERENCES inboxes(id),
    contact_id            INTEGER NOT NULL REFERENCES contacts(id),
    assignee_id           INTEGER REFERENCES agents(id),
    status                TEXT    NOT NULL CHECK (status IN ('open', 'pending', 'resolved', 'snoozed')),
    priority              TEXT    NOT NULL DEFAULT 'none',
    labels                TEXT    NOT NULL DEFAULT '[]',
    snoozed_until         INTEGER,
    last_seq              INTEGER NOT NULL DEFAULT 0,
    contact_last_read_seq INTEGER NOT NULL DEFAULT 0,
    agent_last_read_seq   INTEGER NOT NULL DEFAULT 0,
    created_at            INTEGER NOT NULL,
    updated_at            INTEGER NOT NULL,
    last_activity_at      INTEGER NOT NULL
);
CREATE INDEX conversations_list ON conversations (workspace_id, last_activity_at DESC, id DESC);
CREATE INDEX conversations_status ON conversations (workspace_id, status, last_activity_at DESC, id DESC);
CREATE INDEX conversations_assignee ON conversations (workspace_id, assignee_id, last_activity_at DESC, id DESC);
CREATE INDEX conversations_contact ON conversations (workspace_id, contact_id, id);

CREATE TABLE attachments (
    id            INTEGER PRIMARY KEY,
    workspace_id  INTEGER NOT NULL REFERENCES workspaces(id),
    uploader_type TEXT    NOT NULL,
    uploader_id   INTEGER NOT NULL,
    file_name     TEXT    NOT NULL,
    content_type  TEXT    NOT NULL,
    size          INTEGER NOT NULL,
    sha256        TEXT    NOT NULL,
    storage_key   TEXT    NOT NULL,
    created_at    INTEGER NOT NULL
);

CREATE TABLE messages (
    id              INTEGER PRIMARY KEY,
    workspace_id    INTEGER NOT NULL,
    conversation_id INTEGER NOT NULL REFERENCES conversations(id),
    seq             INTEGER NOT NULL,
    sender_type     TEXT    NOT NULL,
    sender_id       INTEGER NOT NULL,
    kind            TEXT    NOT NULL,
    body            TEXT    NOT NULL,
    attachments     TEXT    NOT NULL DEFAULT '[]',
    client_msg_id   TEXT,
    created_at      INTEGER NOT NULL,
    UNIQUE (conversation_id, seq)
);
-- Idempotency: one message per sender and client message id in a conversation.
CREATE UNIQUE INDEX messages_client_id ON messages (conversation_id, sender_type, sender_id, client_msg_id) WHERE client_msg_id IS NOT NULL;

CREATE TABLE sessions (
    id           INTEGER PRIMARY KEY,
    workspace_id INTEGER NOT NULL REFERENCES workspaces(id),
    kind         TEXT    NOT NULL,
    agent_id     INTEGER,
    contact_id   INTEGER,
    inbox_id     INTEGER,
    token_hash   TEXT    NOT NULL UNIQUE,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    revoked_at   INTEGER
);
CREATE INDEX sessions_agent ON sessions (workspace_id, agent_id);
