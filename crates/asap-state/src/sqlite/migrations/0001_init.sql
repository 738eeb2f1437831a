-- Times are microseconds since the Unix epoch, except rate_limits.tat (nanoseconds).

CREATE TABLE tasks (
    id TEXT PRIMARY KEY NOT NULL,
    status TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    -- The task as JSON (the wire form, timestamps exact).
    body TEXT NOT NULL
);
CREATE INDEX tasks_by_status ON tasks (status, updated_at);

CREATE TABLE task_history (
    task_id TEXT NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    from_status TEXT,
    to_status TEXT NOT NULL,
    -- The wire form of the timestamp.
    at TEXT NOT NULL,
    PRIMARY KEY (task_id, seq)
) WITHOUT ROWID;

CREATE TABLE snapshots (
    task_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    id TEXT NOT NULL,
    schema_version INTEGER NOT NULL,
    -- The StateSnapshot as JSON.
    body TEXT NOT NULL,
    PRIMARY KEY (task_id, version)
);
CREATE INDEX snapshots_by_id ON snapshots (id);

CREATE TABLE nonces (
    nonce TEXT PRIMARY KEY NOT NULL,
    expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX nonces_by_expiry ON nonces (expires_at);

CREATE TABLE rate_limits (
    key TEXT PRIMARY KEY NOT NULL,
    -- GCRA theoretical arrival time; the row means nothing once it has passed.
    tat INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX rate_limits_by_tat ON rate_limits (tat);

CREATE TABLE idempotency (
    sender TEXT NOT NULL,
    key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    -- Set while in progress, NULL once completed.
    lease_until INTEGER,
    -- The stored response once completed.
    body BLOB,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (sender, key)
) WITHOUT ROWID;
CREATE INDEX idempotency_by_expiry ON idempotency (expires_at);
