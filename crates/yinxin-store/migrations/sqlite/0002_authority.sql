-- yinxin store, SQLite, version 2: what the authority needs beyond certificates.
-- Append-only: never edit an applied migration, add a new one. Kept in step with ../postgres/.

-- Keys the platform signs with that are not CAs (OCSP signers, later the TSA): certificate and
-- the vault label (or PKCS#11 URI) of the key; never the key.
CREATE TABLE service_keys (
    name            TEXT PRIMARY KEY NOT NULL,
    ca              TEXT NOT NULL REFERENCES cas (name),
    purpose         TEXT NOT NULL,
    certificate_der BLOB NOT NULL,
    key_ref         TEXT NOT NULL,
    created_at      BIGINT NOT NULL
);

-- API credentials: the id is public, only a hash of the secret is kept.
CREATE TABLE api_tokens (
    id          TEXT PRIMARY KEY NOT NULL,
    name        TEXT NOT NULL,
    role        TEXT NOT NULL CHECK (role IN ('admin', 'ra-operator', 'auditor')),
    secret_hash BLOB NOT NULL,
    created_by  TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    disabled    BIGINT NOT NULL DEFAULT 0
);

-- Escrowed encryption keys of dual certificates, wrapped under the vault's master key.
CREATE TABLE escrowed_keys (
    ca         TEXT NOT NULL,
    serial     BLOB NOT NULL,
    wrapped    TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (ca, serial),
    FOREIGN KEY (ca, serial) REFERENCES certificates (ca, serial)
);
CREATE TRIGGER escrowed_keys_no_delete BEFORE DELETE ON escrowed_keys
BEGIN
    SELECT RAISE(ABORT, 'escrowed keys are never deleted');
END;

-- Dual-control recovery of escrowed keys: one administrator asks, another approves.
CREATE TABLE key_recoveries (
    id           TEXT PRIMARY KEY NOT NULL,
    ca           TEXT NOT NULL,
    serial       BLOB NOT NULL,
    requested_by TEXT NOT NULL,
    requested_at BIGINT NOT NULL,
    approved_by  TEXT,
    approved_at  BIGINT,
    FOREIGN KEY (ca, serial) REFERENCES escrowed_keys (ca, serial),
    CHECK (approved_by IS NULL OR approved_by <> requested_by)
);

-- The newest CRL of each CA, shared by every node.
CREATE TABLE crls (
    ca          TEXT PRIMARY KEY NOT NULL REFERENCES cas (name),
    number      BIGINT NOT NULL,
    this_update BIGINT NOT NULL,
    next_update BIGINT NOT NULL,
    der         BLOB NOT NULL
);
