-- Tenant-supplied secrets by value, and limits on mail. Keep in step with the other backend's
-- 0014_tenant_secrets_and_mail_limits.sql.
--
-- The SSO client secret was a `secret://` reference resolved with the platform's own secrets
-- chain, which let an org admin name the server's secrets. It is now given by value and stored
-- sealed with the organisation's key (bound to organisation, table, column and row); a
-- reference kept in config_json by an earlier version is no longer resolved, and sign-in through
-- such a configuration is refused until an org admin sets the secret again.
ALTER TABLE org_sso ADD COLUMN client_secret_sealed BYTEA;
ALTER TABLE org_sso ADD COLUMN client_secret_set_at_ms BIGINT;

-- Messages sent per key (a hash of an address, or an organisation) in fixed windows, so that
-- password-reset and invitation mail is limited across every instance.
CREATE TABLE mail_counters (
    key              TEXT PRIMARY KEY NOT NULL,
    window_start_ms  BIGINT NOT NULL,
    sent             BIGINT NOT NULL
);

-- Counted before any organisation is chosen (password resets): only the operator context.
ALTER TABLE mail_counters ENABLE ROW LEVEL SECURITY;
ALTER TABLE mail_counters FORCE ROW LEVEL SECURITY;
CREATE POLICY operator_only ON mail_counters USING (mhp_operator()) WITH CHECK (mhp_operator());
