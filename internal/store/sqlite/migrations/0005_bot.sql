-- The AI bot (issue 7): knowledge base, intents, plugins, settings, usage
-- and records. Messages gain an optional meta document (NULL when empty).
ALTER TABLE messages ADD COLUMN meta TEXT;

CREATE TABLE kb_faqs (
    id           INTEGER PRIMARY KEY,
    workspace_id INTEGER NOT NULL REFERENCES workspaces(id),
    category     TEXT    NOT NULL DEFAULT '',
    answer       TEXT    NOT NULL,
    questions    TEXT    NOT NULL DEFAULT '[]',
    enabled      INTEGER NOT NULL DEFAULT 1,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);
CREATE INDEX kb_faqs_ws ON kb_faqs (workspace_id, id);

CREATE TABLE kb_documents (
    id           INTEGER PRIMARY KEY,
    workspace_id INTEGER NOT NULL REFERENCES workspaces(id),
    title        TEXT    NOT NULL,
    format       TEXT    NOT NULL,
    passages     INTEGER NOT NULL DEFAULT 0,
    created_at   INTEGER NOT NULL
);
CREATE INDEX kb_documents_ws ON kb_documents (workspace_id, id);

CREATE TABLE kb_passages (
    id           INTEGER PRIMARY KEY,
    workspace_id INTEGER NOT NULL,
    document_id  INTEGER NOT NULL REFERENCES kb_documents(id) ON DELETE CASCADE,
    seq          INTEGER NOT NULL,
    title        TEXT    NOT NULL DEFAULT '',
    text         TEXT    NOT NULL,
    embedding    BLOB
);
CREATE INDEX kb_passages_ws ON kb_passages (workspace_id, id);
CREATE INDEX kb_passages_doc ON kb_passages (document_id);

CREATE TABLE kb_synonyms (
    workspace_id INTEGER PRIMARY KEY REFERENCES workspaces(id),
    groups       TEXT    NOT NULL DEFAULT '[]'
);

CREATE TABLE kb_index (
    workspace_id INTEGER PRIMARY KEY REFERENCES workspaces(id),
    fingerprint  TEXT    NOT NULL,
    data         BLOB    NOT NULL
);

CREATE TABLE bot_intents (
    id           INTEGER PRIMARY KEY,
    workspace_id INTEGER NOT NULL REFERENCES workspaces(id),
    name         TEXT    NOT NULL,
    definition   TEXT    NOT NULL,
    enabled      INTEGER NOT NULL DEFAULT 1,
    updated_at   INTEGER NOT NULL,
    UNIQUE (workspace_id, name)
);

CREATE TABLE bot_plugins (
    id           INTEGER PRIMARY KEY,
    workspace_id INTEGER NOT NULL REFERENCES workspaces(id),
    name         TEXT    NOT NULL,
    url          TEXT    NOT NULL,
    secret       TEXT    NOT NULL,
    priority     INTEGER NOT NULL DEFAULT 0,
    timeout_ms   INTEGER NOT NULL DEFAULT 0,
    enabled      INTEGER NOT NULL DEFAULT 1,
    created_at   INTEGER NOT NULL
);
CREATE INDEX bot_plugins_ws ON bot_plugins (workspace_id, id);

CREATE TABLE bot_settings (
    workspace_id INTEGER NOT NULL REFERENCES workspaces(id),
    inbox_id     INTEGER NOT NULL REFERENCES inboxes(id),
    settings     TEXT    NOT NULL,
    updated_at   INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, inbox_id)
);

CREATE TABLE llm_settings (
    workspace_id INTEGER PRIMARY KEY REFERENCES workspaces(id),
    settings     TEXT    NOT NULL,
    api_key_enc  BLOB,
    updated_at   INTEGER NOT NULL
);

CREATE TABLE llm_usage (
    workspace_id      INTEGER NOT NULL REFERENCES workspaces(id),
    day               TEXT    NOT NULL,
    requests          INTEGER NOT NULL DEFAULT 0,
    prompt_tokens     INTEGER NOT NULL DEFAULT 0,
    completion_tokens INTEGER NOT NULL DEFAULT 0,
    cost              REAL    NOT NULL DEFAULT 0,
    PRIMARY KEY (workspace_id, day)
);

CREATE TABLE bot_feedback (
    workspace_id    INTEGER NOT NULL REFERENCES workspaces(id),
    conversation_id INTEGER NOT NULL,
    message_id      INTEGER NOT NULL,
    helpful         INTEGER NOT NULL,
    created_at      INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, message_id)
);

CREATE TABLE bot_unanswered (
    id              INTEGER PRIMARY KEY,
    workspace_id    INTEGER NOT NULL REFERENCES workspaces(id),
    conversation_id INTEGER NOT NULL,
    question        TEXT    NOT NULL,
    created_at      INTEGER NOT NULL
);
CREATE INDEX bot_unanswered_ws ON bot_unanswered (workspace_id, id);

CREATE TABLE bot_decisions (
    id              INTEGER PRIMARY KEY,
    workspace_id    INTEGER NOT NULL REFERENCES workspaces(id),
    conversation_id INTEGER NOT NULL,
    message_id      INTEGER NOT NULL,
    question        TEXT    NOT NULL,
    outcome         TEXT    NOT NULL,
    source          TEXT    NOT NULL,
    confidence      REAL    NOT NULL,
    detail          TEXT    NOT NULL DEFAULT '{}',
    created_at      INTEGER NOT NULL
);
CREATE INDEX bot_decisions_conv ON bot_decisions (workspace_id, conversation_id, id);
