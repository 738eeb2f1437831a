-- Times are microseconds since the Unix epoch on the database server's clock, except
-- tasks.updated_at and task_history.at (the task's own timestamps, from the writer) and
-- rate_limits.tat (nanoseconds).

CREATE TABLE tasks (
    id TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    -- The task as JSON text (the wire form, key order and timestamps exact; jsonb would
    -- reorder keys).
    body TEXT NOT NULL
);
CREATE INDEX tasks_by_status ON tasks (status, updated_at, id);

CREATE TABLE task_history (
    task_id TEXT NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    seq BIGINT NOT NULL,
    from_status TEXT,
    to_status TEXT NOT NULL,
    -- The wire form of the timestamp.
    at TEXT NOT NULL,
    PRIMARY KEY (task_id, seq)
);

CREATE TABLE snapshots (
    task_id TEXT NOT NULL,
    version BIGINT NOT NULL,
    id TEXT NOT NULL,
    schema_version BIGINT NOT NULL,
    -- The StateSnapshot as JSON text.
    body TEXT NOT NULL,
    PRIMARY KEY (task_id, version)
);
CREATE INDEX snapshots_by_id ON snapshots (id);

CREATE TABLE nonces (
    nonce TEXT PRIMARY KEY,
    expires_at BIGINT NOT NULL
);
CREATE INDEX nonces_by_expiry ON nonces (expires_at);

CREATE TABLE rate_limits (
    key TEXT PRIMARY KEY,
    -- GCRA theoretical arrival time; the row means nothing once it has passed.
    tat BIGINT NOT NULL
);
CREATE INDEX rate_limits_by_tat ON rate_limits (tat);

CREATE TABLE idempotency (
    sender TEXT NOT NULL,
    key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    -- Set while in progress, NULL once completed.
    lease_until BIGINT,
    -- The stored response once completed.
    body BYTEA,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (sender, key)
);
CREATE INDEX idempotency_by_expiry ON idempotency (expires_at);
