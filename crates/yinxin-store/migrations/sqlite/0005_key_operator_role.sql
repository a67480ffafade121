-- A fourth role, key-operator (uses the platform's signing and envelope keys). SQLite cannot
-- change a CHECK constraint in place, so the table is rebuilt with the same rows.
CREATE TABLE api_tokens_new (
    id          TEXT PRIMARY KEY NOT NULL,
    name        TEXT NOT NULL,
    role        TEXT NOT NULL CHECK (role IN ('admin', 'ra-operator', 'auditor', 'key-operator')),
    secret_hash BLOB NOT NULL,
    created_by  TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    disabled    BIGINT NOT NULL DEFAULT 0
);
INSERT INTO api_tokens_new (id, name, role, secret_hash, created_by, created_at, disabled)
    SELECT id, name, role, secret_hash, created_by, created_at, disabled FROM api_tokens;
DROP TABLE api_tokens;
ALTER TABLE api_tokens_new RENAME TO api_tokens;
