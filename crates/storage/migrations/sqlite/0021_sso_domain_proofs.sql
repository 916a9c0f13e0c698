-- Proof that an organisation owns an e-mail domain before single sign-on finds it from that
-- domain: a random token per (organisation, domain), published by the domain's owner as a DNS
-- TXT record and checked by MHP. Until proven, a domain leads nobody to the organisation's
-- provider and keeps no one else from claiming it. Keep in step with the other backend's
-- 0021_sso_domain_proofs.sql.
CREATE TABLE sso_domain_proofs (
    org_id         TEXT NOT NULL REFERENCES organizations (id),
    domain         TEXT NOT NULL,
    token          TEXT NOT NULL,
    created_at_ms  INTEGER NOT NULL,
    verified_at_ms INTEGER,
    PRIMARY KEY (org_id, domain)
) STRICT;

-- Discovery reads the proven domains of every organisation.
CREATE INDEX sso_domain_proofs_domain ON sso_domain_proofs (domain);
