-- Proof that an organisation owns an e-mail domain before single sign-on finds it from that
-- domain: a random token per (organisation, domain), published by the domain's owner as a DNS
-- TXT record and checked by MHP. Until proven, a domain leads nobody to the organisation's
-- provider and keeps no one else from claiming it. Keep in step with the other backend's
-- 0021_sso_domain_proofs.sql.
CREATE TABLE sso_domain_proofs (
    org_id         TEXT NOT NULL REFERENCES organizations (id),
    domain         TEXT NOT NULL,
    token          TEXT NOT NULL,
    created_at_ms  BIGINT NOT NULL,
    verified_at_ms BIGINT,
    PRIMARY KEY (org_id, domain)
);

-- Discovery reads the proven domains of every organisation.
CREATE INDEX sso_domain_proofs_domain ON sso_domain_proofs (domain);

-- The organisation's own; sign-in (before any scope exists) reads every organisation's.
ALTER TABLE sso_domain_proofs ENABLE ROW LEVEL SECURITY;
ALTER TABLE sso_domain_proofs FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON sso_domain_proofs
    USING (org_id = mhp_current_org() OR mhp_operator())
    WITH CHECK (org_id = mhp_current_org() OR mhp_operator());
