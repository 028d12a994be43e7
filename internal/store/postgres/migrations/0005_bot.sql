-- The AI bot (issue 7): knowledge base, intents, plugins, settings, usage
-- and records. Messages gain an optional meta document (NULL when empty).
ALTER TABLE messages ADD COLUMN meta JSONB;

CREATE TABLE kb_faqs (
    id           BIGSERIAL PRIMARY KEY,
    workspace_id BIGINT  NOT NULL REFERENCES workspaces(id),
    category     TEXT    NOT NULL DEFAULT '',
    answer       TEXT    NOT NULL,
    questions    JSONB   NOT NULL DEFAULT '[]',
    enabled      BOOLEAN NOT NULL DEFAULT TRUE,
    created_at   TIMESTAMPTZ NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX kb_faqs_ws ON kb_faqs (workspace_id, id);

CREATE TABLE kb_documents (
    id           BIGSERIAL PRIMARY KEY,
    workspace_id BIGINT  NOT NULL REFERENCES workspaces(id),
    title        TEXT    NOT NULL,
    format       TEXT    NOT NULL,
    passages     BIGINT  NOT NULL DEFAULT 0,
    created_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX kb_documents_ws ON kb_documents (workspace_id, id);

CREATE TABLE kb_passages (
    id           BIGSERIAL PRIMARY KEY,
    workspace_id BIGINT  NOT NULL,
    document_id  BIGINT  NOT NULL REFERENCES kb_documents(id) ON DELETE CASCADE,
    seq          BIGINT  NOT NULL,
    title        TEXT    NOT NULL DEFAULT '',
    text         TEXT    NOT NULL,
    embedding    BYTEA
);
CREATE INDEX kb_passages_ws ON kb_passages (workspace_id, id);
CREATE INDEX kb_passages_doc ON kb_passages (document_id);

CREATE TABLE kb_synonyms (
    workspace_id BIGINT  PRIMARY KEY REFERENCES workspaces(id),
    groups       JSONB   NOT NULL DEFAULT '[]'
);

CREATE TABLE kb_index (
    workspace_id BIGINT  PRIMARY KEY REFERENCES workspaces(id),
    fingerprint  TEXT    NOT NULL,
    data         BYTEA    NOT NULL
);

CREATE TABLE bot_intents (
    id           BIGSERIAL PRIMARY KEY,
    workspace_id BIGINT  NOT NULL REFERENCES workspaces(id),
    name         TEXT    NOT NULL,
    definition   JSONB   NOT NULL,
    enabled      BOOLEAN NOT NULL DEFAULT TRUE,
    updated_at   TIMESTAMPTZ NOT NULL,
    UNIQUE (workspace_id, name)
);

CREATE TABLE bot_plugins (
    id           BIGSERIAL PRIMARY KEY,
    workspace_id BIGINT  NOT NULL REFERENCES workspaces(id),
    name         TEXT    NOT NULL,
    url          TEXT    NOT NULL,
    secret       TEXT    NOT NULL,
    priority     BIGINT  NOT NULL DEFAULT 0,
    timeout_ms   BIGINT  NOT NULL DEFAULT 0,
    enabled      BOOLEAN NOT NULL DEFAULT TRUE,
    created_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX bot_plugins_ws ON bot_plugins (workspace_id, id);

CREATE TABLE bot_settings (
    workspace_id BIGINT  NOT NULL REFERENCES workspaces(id),
    inbox_id     BIGINT  NOT NULL REFERENCES inboxes(id),
    settings     JSONB   NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (workspace_id, inbox_id)
);

CREATE TABLE llm_settings (
    workspace_id BIGINT  PRIMARY KEY REFERENCES workspaces(id),
    settings     JSONB   NOT NULL,
    api_key_enc  BYTEA,
    updated_at   TIMESTAMPTZ NOT NULL
);

CREATE TABLE llm_usage (
    workspace_id      BIGINT  NOT NULL REFERENCES workspaces(id),
    day               TEXT    NOT NULL,
    requests          BIGINT  NOT NULL DEFAULT 0,
    prompt_tokens     BIGINT  NOT NULL DEFAULT 0,
    completion_tokens BIGINT  NOT NULL DEFAULT 0,
    cost              DOUBLE PRECISION    NOT NULL DEFAULT 0,
    PRIMARY KEY (workspace_id, day)
);

CREATE TABLE bot_feedback (
    workspace_id    BIGINT  NOT NULL REFERENCES workspaces(id),
    conversation_id BIGINT  NOT NULL,
    message_id      BIGINT  NOT NULL,
    helpful         BOOLEAN NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (workspace_id, message_id)
);

CREATE TABLE bot_unanswered (
    id              BIGSERIAL PRIMARY KEY,
    workspace_id    BIGINT  NOT NULL REFERENCES workspaces(id),
    conversation_id BIGINT  NOT NULL,
    question        TEXT    NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL
);
CREATE INDEX bot_unanswered_ws ON bot_unanswered (workspace_id, id);

CREATE TABLE bot_decisions (
    id              BIGSERIAL PRIMARY KEY,
    workspace_id    BIGINT  NOT NULL REFERENCES workspaces(id),
    conversation_id BIGINT  NOT NULL,
    message_id      BIGINT  NOT NULL,
    question        TEXT    NOT NULL,
    outcome         TEXT    NOT NULL,
    source          TEXT    NOT NULL,
    confidence      DOUBLE PRECISION    NOT NULL,
    detail          JSONB   NOT NULL DEFAULT '{}',
    created_at      TIMESTAMPTZ NOT NULL
);
CREATE INDEX bot_decisions_conv ON bot_decisions (workspace_id, conversation_id, id);
