-- yinxin store, PostgreSQL, version 3: escrowed keys are never rewritten and recovery requests
-- are never deleted, so the escrow and its dual-control trail cannot be edited behind the audit
-- log. Kept in step with ../sqlite/.

CREATE TRIGGER escrowed_keys_no_update BEFORE UPDATE ON escrowed_keys
    FOR EACH ROW EXECUTE FUNCTION yinxin_refuse('escrowed keys are never changed');

CREATE TRIGGER key_recoveries_no_delete BEFORE DELETE ON key_recoveries
    FOR EACH ROW EXECUTE FUNCTION yinxin_refuse('recovery requests are never deleted');
