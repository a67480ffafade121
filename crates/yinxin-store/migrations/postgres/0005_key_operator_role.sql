-- A fourth role, key-operator (uses the platform's signing and envelope keys).
ALTER TABLE api_tokens DROP CONSTRAINT api_tokens_role_check;
ALTER TABLE api_tokens ADD CONSTRAINT api_tokens_role_check
    CHECK (role IN ('admin', 'ra-operator', 'auditor', 'key-operator'));
