-- yinxin store, PostgreSQL, version 7: dual control by persons. The administrator list is
-- formed once at a ceremony (each member registers a certificate by signing its nonce); API
-- tokens belong to a member (admins) or to nobody (operators); privileged operations are
-- approval requests that K members sign. Kept in step with ../sqlite/.

CREATE TABLE admin_formation (
    id         TEXT PRIMARY KEY NOT NULL,
    nonce      BYTEA NOT NULL,
    size       BIGINT NOT NULL CHECK (size >= 1),
    approvals  BIGINT NOT NULL CHECK (approvals >= 1 AND approvals <= size),
    joined     BIGINT NOT NULL DEFAULT 0 CHECK (joined <= size),
    opened_at  BIGINT NOT NULL,
    closed_at  BIGINT
);

CREATE TABLE admin_members (
    id              TEXT PRIMARY KEY NOT NULL,
    name            TEXT NOT NULL,
    certificate_der BYTEA NOT NULL,
    key_id          BYTEA NOT NULL UNIQUE,
    added_at        BIGINT NOT NULL,
    removed_at      BIGINT
);

CREATE TRIGGER admin_members_no_delete BEFORE DELETE ON admin_members
    FOR EACH ROW EXECUTE FUNCTION yinxin_refuse('administrators are removed, never deleted');

ALTER TABLE api_tokens ADD COLUMN member TEXT REFERENCES admin_members (id);

CREATE TABLE approval_requests (
    id              TEXT PRIMARY KEY NOT NULL,
    operation       TEXT NOT NULL,
    target          TEXT NOT NULL,
    parameters      TEXT NOT NULL,
    parameters_hash BYTEA NOT NULL,
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
    signature   BYTEA NOT NULL,
    approved_at BIGINT NOT NULL,
    PRIMARY KEY (request_id, member)
);

CREATE TRIGGER approvals_no_update BEFORE UPDATE ON approvals
    FOR EACH ROW EXECUTE FUNCTION yinxin_refuse('approvals are never changed');
CREATE TRIGGER approvals_no_delete BEFORE DELETE ON approvals
    FOR EACH ROW EXECUTE FUNCTION yinxin_refuse('approvals are never deleted');
CREATE TRIGGER approval_requests_no_delete BEFORE DELETE ON approval_requests
    FOR EACH ROW EXECUTE FUNCTION yinxin_refuse('approval requests are never deleted');
