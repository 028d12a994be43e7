-- Routing: teams, agent presence and load, per-inbox settings, rules, and
-- the queue (open, unassigned conversations with queued_at set).
CREATE TABLE teams (
    id           INTEGER PRIMARY KEY,
    workspace_id INTEGER NOT NULL REFERENCES workspaces(id),
    name         TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    UNIQUE (workspace_id, name)
);
CREATE TABLE team_members (
    workspace_id INTEGER NOT NULL REFERENCES workspaces(id),
    team_id      INTEGER NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    agent_id     INTEGER NOT NULL REFERENCES agents(id),
    PRIMARY KEY (team_id, agent_id)
);
CREATE INDEX team_members_agent ON team_members (workspace_id, agent_id);

-- One row per agent who ever declared a status or connected; the row is
-- also the lock a claim takes before checking the agent's capacity.
CREATE TABLE agent_routing (
    agent_id         INTEGER PRIMARY KEY REFERENCES agents(id),
    workspace_id     INTEGER NOT NULL REFERENCES workspaces(id),
    availability     TEXT    NOT NULL DEFAULT 'offline' CHECK (availability IN ('online', 'away', 'offline')),
    last_seen_at     INTEGER NOT NULL DEFAULT 0,
    last_assigned_at INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX agent_routing_workspace ON agent_routing (workspace_id);

CREATE TABLE inbox_routing (
    inbox_id           INTEGER PRIMARY KEY REFERENCES inboxes(id),
    workspace_id       INTEGER NOT NULL REFERENCES workspaces(id),
    policy             TEXT    NOT NULL CHECK (policy IN ('least_loaded', 'round_robin', 'manual')),
    default_capacity   INTEGER NOT NULL,
    sticky             INTEGER NOT NULL,
    team_ids           TEXT    NOT NULL DEFAULT '[]',
    business_hours     TEXT    NOT NULL DEFAULT 'null',
    auto_resolve_after INTEGER NOT NULL DEFAULT 0,
    remind_after       INTEGER NOT NULL DEFAULT 0,
    rr_last_agent_id   INTEGER NOT NULL DEFAULT 0,
    updated_at         INTEGER NOT NULL
);

CREATE TABLE routing_rules (
    id           INTEGER PRIMARY KEY,
    workspace_id INTEGER NOT NULL REFERENCES workspaces(id),
    inbox_id     INTEGER REFERENCES inboxes(id),
    name         TEXT    NOT NULL,
    position     INTEGER NOT NULL,
    enabled      INTEGER NOT NULL,
    rule         TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);
CREATE INDEX routing_rules_workspace ON routing_rules (workspace_id, position, id);

ALTER TABLE conversations ADD COLUMN team_id INTEGER REFERENCES teams(id) ON DELETE SET NULL;
ALTER TABLE conversations ADD COLUMN queued_at INTEGER;
ALTER TABLE conversations ADD COLUMN reminded_seq INTEGER NOT NULL DEFAULT 0;
-- The queue order's first key, derived so no writer can forget it.
ALTER TABLE conversations ADD COLUMN priority_rank INTEGER GENERATED ALWAYS AS (
    CASE priority WHEN 'urgent' THEN 4 WHEN 'high' THEN 3 WHEN 'medium' THEN 2 WHEN 'low' THEN 1 ELSE 0 END) VIRTUAL;
CREATE INDEX conversations_queue ON conversations (workspace_id, inbox_id, priority_rank DESC, queued_at, id)
    WHERE assignee_id IS NULL AND status = 'open' AND queued_at IS NOT NULL;
CREATE INDEX conversations_load ON conversations (workspace_id, assignee_id, status);
CREATE INDEX conversations_idle ON conversations (workspace_id, inbox_id, last_activity_at)
    WHERE status IN ('open', 'pending');
