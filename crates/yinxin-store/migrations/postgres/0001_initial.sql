-- yinxin store, PostgreSQL, version 1. Append-only: never edit an applied migration, add a new one.
-- Times are BIGINT milliseconds since the Unix epoch (UTC); binary values are BYTEA; flags would
-- be BIGINT 0/1 (the sqlx Any driver has no BOOLEAN). Kept in step with ../sqlite/.

CREATE TABLE cas (
    name            TEXT PRIMARY KEY NOT NULL,
    algorithm       TEXT NOT NULL,
    certificate_der BYTEA NOT NULL,
    key_ref         TEXT NOT NULL,
    created_at      BIGINT NOT NULL
);

CREATE TABLE certificates (
    id                BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ca                TEXT NOT NULL REFERENCES cas (name),
    serial            BYTEA NOT NULL,
    subject           TEXT NOT NULL,
    organisation      TEXT,
    profile           TEXT NOT NULL,
    not_before        BIGINT NOT NULL,
    not_after         BIGINT NOT NULL,
    der               BYTEA NOT NULL,
    requested_by      TEXT NOT NULL,
    status            TEXT NOT NULL DEFAULT 'valid' CHECK (status IN ('valid', 'on_hold', 'revoked')),
    revoked_at        BIGINT,
    revocation_reason BIGINT,
    UNIQUE (ca, serial)
);
CREATE INDEX certificates_subject ON certificates (subject);
CREATE INDEX certificates_organisation ON certificates (organisation);
CREATE INDEX certificates_ca_status ON certificates (ca, status);

CREATE FUNCTION yinxin_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '%', TG_ARGV[0];
END;
$$;

-- Issued certificates are never forgotten.
CREATE TRIGGER certificates_no_delete BEFORE DELETE ON certificates
    FOR EACH ROW EXECUTE FUNCTION yinxin_refuse('issued certificates are never deleted');

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
    prev_hash BYTEA NOT NULL,
    hash      BYTEA NOT NULL
);

-- The audit log is append-only.
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION yinxin_refuse('the audit log is append-only');

CREATE TABLE vault_blobs (
    name TEXT PRIMARY KEY NOT NULL,
    data BYTEA NOT NULL
);
