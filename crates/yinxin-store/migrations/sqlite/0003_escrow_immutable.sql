-- yinxin store, SQLite, version 3: escrowed keys are never rewritten and recovery requests are
-- never deleted, so the escrow and its dual-control trail cannot be edited behind the audit log.
-- Kept in step with ../postgres/.

CREATE TRIGGER escrowed_keys_no_update BEFORE UPDATE ON escrowed_keys
BEGIN
    SELECT RAISE(ABORT, 'escrowed keys are never changed');
END;

CREATE TRIGGER key_recoveries_no_delete BEFORE DELETE ON key_recoveries
BEGIN
    SELECT RAISE(ABORT, 'recovery requests are never deleted');
END;
