-- yinxin store, SQLite, version 1. Append-only: never edit an applied migration, add a new one.
-- Times are i64 milliseconds since the Unix epoch (UTC); binary values are BLOBs; flags would be
-- INTEGER 0/1 (the sqlx Any driver has no BOOLEAN).

CREATE TABLE cas (
    name            TEXT PRIMARY KEY NOT NULL,
    algorithm       TEXT NOT NULL,
    certificate_der BLOB NOT NULL,
    key_ref         TEXT NOT NULL,
    created_at      BIGINT NOT NULL
);

CREATE TABLE certificates (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    ca                TEXT NOT NULL REFERENCES cas (name),
    serial            BLOB NOT NULL,
    subject           TEXT NOT NULL,
    organisation      TEXT,
    profile           TEXT NOT NULL,
    not_before        BIGINT NOT NULL,
    not_after         BIGINT NOT NULL,
    der               BLOB NOT NULL,
    requested_by      TEXT NOT NULL,
    status            TEXT NOT NULL DEFAULT 'valid' CHECK (status IN ('valid', 'on_hold', 'revoked')),
    revoked_at        BIGINT,
    revocation_reason BIGINT,
    UNIQUE (ca, serial)
);
CREATE INDEX certificates_subject ON certificates (subject);
CREATE INDEX certificates_organisation ON certificates (organisation);
CREATE INDEX certificates_ca_status ON certificates (ca, status);

-- Issued certificates are never forgotten.
CREATE TRIGGER certificates_no_delete BEFORE DELETE ON certificates
BEGIN
    SELECT RAISE(ABORT, 'issued certificates are never deleted');
END;

CREATE TABLE crl_numbers (
    ca   TEXT PRIMARY KEY NOT NULL REFERENCES cas (name),
    last BIGINT NOT NULL
);

CREATE TABLE audit_log (
    seq       BIGINT PRIMARY KEY NOT NULL,
    time_ms   BIGINT NOT NULL,
    actor     TEXT NOT NULL,
    action    TEXT NOT NULL,
    target    TEXT NOT NULL,
    outcome   TEXT NOT NULL,
    details   TEXT NOT NULL,
    prev_hash BLOB NOT NULL,
    hash      BLOB NOT NULL
);

-- The audit log is append-only.
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;

CREATE TABLE vault_blobs (
    name TEXT PRIMARY KEY NOT NULL,
    data BLOB NOT NULL
);
