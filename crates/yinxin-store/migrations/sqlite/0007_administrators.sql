-- yinxin store, SQLite, version 7: dual control by persons. The administrator list is formed
-- once at a ceremony (each member registers a certificate by signing its nonce); API tokens
-- belong to a member (admins) or to nobody (operators); privileged operations are approval
-- requests that K members sign. Kept in step with ../postgres/.

CREATE TABLE admin_formation (
    id         TEXT PRIMARY KEY NOT NULL,
    nonce      BLOB NOT NULL,
    size       BIGINT NOT NULL CHECK (size >= 1),
    approvals  BIGINT NOT NULL CHECK (approvals >= 1 AND approvals <= size),
    joined     BIGINT NOT NULL DEFAULT 0 CHECK (joined <= size),
    opened_at  BIGINT NOT NULL,
    closed_at  BIGINT
);

CREATE TABLE admin_members (
    id              TEXT PRIMARY KEY NOT NULL,
    name            TEXT NOT NULL,
    certificate_der BLOB NOT NULL,
    key_id          BLOB NOT NULL UNIQUE,
    added_at        BIGINT NOT NULL,
    removed_at      BIGINT
);

CREATE TRIGGER admin_members_no_delete BEFORE DELETE ON admin_members
BEGIN
    SELECT RAISE(ABORT, 'administrators are removed, never deleted');
END;

ALTER TABLE api_tokens ADD COLUMN member TEXT REFERENCES admin_members (id);

CREATE TABLE approval_requests (
    id              TEXT PRIMARY KEY NOT NULL,
    operation       TEXT NOT NULL,
    target          TEXT NOT NULL,
    parameters      TEXT NOT NULL,
    parameters_hash BLOB NOT NULL,
    requested_by    TEXT NOT NULL REFERENCES admin_members (id),
    requested_at    BIGINT NOT NULL,
    expires_at      BIGINT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('open', 'executed', 'cancelled', 'rejected')),
    result          TEXT,
    closed_at       BIGINT
);

CREATE TABLE approvals (
    request_id  TEXT NOT NULL REFERENCES approval_requests (id),
    member      TEXT NOT NULL REFERENCES admin_members (id),
    signature   BLOB NOT NULL,
    approved_at BIGINT NOT NULL,
    PRIMARY KEY (request_id, member)
);

CREATE TRIGGER approvals_no_update BEFORE UPDATE ON approvals
BEGIN
    SELECT RAISE(ABORT, 'approvals are never changed');
END;
CREATE TRIGGER approvals_no_delete BEFORE DELETE ON approvals
BEGIN
    SELECT RAISE(ABORT, 'approvals are never deleted');
END;
CREATE TRIGGER approval_requests_no_delete BEFORE DELETE ON approval_requests
BEGIN
    SELECT RAISE(ABORT, 'approval requests are never deleted');
END;
