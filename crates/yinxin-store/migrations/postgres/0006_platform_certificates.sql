-- yinxin store, PostgreSQL, version 6: platform certificates (CAs, OCSP signers, TSA, the
-- server's envelope and signing identities, later its TLS certificate) carry a flag set when the
-- platform issues them, so status changes, renewals and re-keys check the flag, never the profile
-- name. Every certificate the platform issued itself was requested by 'system'. The flag is never
-- cleared. Kept in step with ../sqlite/.

ALTER TABLE certificates ADD COLUMN platform BIGINT NOT NULL DEFAULT 0;

UPDATE certificates SET platform = 1 WHERE requested_by = 'system';

CREATE INDEX certificates_platform ON certificates (platform) WHERE platform = 1;

CREATE FUNCTION yinxin_platform_kept() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.platform = 1 AND NEW.platform <> 1 THEN
        RAISE EXCEPTION 'a platform certificate stays one';
    END IF;
    RETURN NEW;
END;
$$;

CREATE TRIGGER certificates_platform_kept BEFORE UPDATE OF platform ON certificates
    FOR EACH ROW EXECUTE FUNCTION yinxin_platform_kept();
