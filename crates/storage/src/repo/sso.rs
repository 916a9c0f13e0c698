//! Single sign-on: an organisation's provider configuration (its client secret sealed with the
//! organisation's key, apart from the settings), sign-ins in flight, and links from a provider's
//! subject to a user.

use mhp_domain::{OrgId, SealedBytes, Timestamp, UserId};
use sqlx::Row;

use super::{conflict_if_none, parse_id};
use crate::{OperatorTx, StorageError, TenantTx};

/// An organisation's SSO configuration as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SsoConfig {
    /// The organisation.
    pub org: OrgId,
    /// The provider settings, JSON (the server owns their shape).
    pub config_json: String,
    /// Whether members must sign in through the provider.
    pub required: bool,
    /// Who set it.
    pub updated_by: String,
    /// When.
    pub updated_at: Timestamp,
    /// The client secret, sealed by the server with the organisation's key; `None` when none
    /// was given (or only an earlier version's `secret://` reference, no longer resolved).
    pub client_secret_sealed: Option<SealedBytes>,
    /// When the client secret was last set.
    pub client_secret_set_at: Option<Timestamp>,
}

fn config_from(row: &sqlx::any::AnyRow) -> Result<SsoConfig, StorageError> {
    let org: String = row.try_get("org_id")?;
    let required: i64 = row.try_get("sso_required")?;
    Ok(SsoConfig {
        org: parse_id(&org, "organisation id", OrgId::parse)?,
        config_json: row.try_get("config_json")?,
        required: required != 0,
        updated_by: row.try_get("updated_by")?,
        updated_at: Timestamp::from_millis(row.try_get("updated_at_ms")?),
        client_secret_sealed: row
            .try_get::<Option<Vec<u8>>, _>("client_secret_sealed")?
            .map(SealedBytes::from_ciphertext),
        client_secret_set_at: row
            .try_get::<Option<i64>, _>("client_secret_set_at_ms")?
            .map(Timestamp::from_millis),
    })
}

const SELECT: &str = "SELECT org_id, config_json, sso_required, updated_by, updated_at_ms, \
     client_secret_sealed, client_secret_set_at_ms FROM org_sso";

/// Sets the organisation's configuration (replacing any). `client_secret` replaces the stored
/// secret when given and keeps it when `None`.
pub async fn put_config(
    tx: &mut TenantTx,
    config_json: &str,
    required: bool,
    client_secret: Option<&SealedBytes>,
    updated_by: &str,
    now: Timestamp,
) -> Result<(), StorageError> {
    let set_at = client_secret.map(|_| now.as_millis());
    sqlx::query(
        "INSERT INTO org_sso (org_id, config_json, sso_required, updated_by, updated_at_ms, \
         client_secret_sealed, client_secret_set_at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7) \
         ON CONFLICT (org_id) DO UPDATE SET \
         config_json = excluded.config_json, sso_required = excluded.sso_required, \
         updated_by = excluded.updated_by, updated_at_ms = excluded.updated_at_ms, \
         client_secret_sealed = COALESCE(excluded.client_secret_sealed, \
                                         org_sso.client_secret_sealed), \
         client_secret_set_at_ms = COALESCE(excluded.client_secret_set_at_ms, \
                                            org_sso.client_secret_set_at_ms)",
    )
    .bind(tx.org_key())
    .bind(config_json)
    .bind(i64::from(required))
    .bind(updated_by)
    .bind(now.as_millis())
    .bind(client_secret.map(|s| s.as_bytes().to_vec()))
    .bind(set_at)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// The transaction's organisation's configuration, if it has one.
pub async fn config(tx: &mut TenantTx) -> Result<Option<SsoConfig>, StorageError> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!("{SELECT} WHERE org_id = $1")))
        .bind(tx.org_key())
        .fetch_optional(tx.conn())
        .await?;
    row.as_ref().map(config_from).transpose()
}

/// An organisation's configuration, for sign-in (before any scope exists).
pub async fn config_as_operator(
    tx: &mut OperatorTx,
    org: OrgId,
) -> Result<Option<SsoConfig>, StorageError> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!("{SELECT} WHERE org_id = $1")))
        .bind(org.to_string())
        .fetch_optional(tx.conn())
        .await?;
    row.as_ref().map(config_from).transpose()
}

/// Every organisation's configuration (operator function: finding an organisation from an
/// e-mail domain, and keeping domains to one organisation each).
pub async fn configs_as_operator(tx: &mut OperatorTx) -> Result<Vec<SsoConfig>, StorageError> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!("{SELECT} ORDER BY org_id")))
        .fetch_all(tx.conn())
        .await?;
    rows.iter().map(config_from).collect()
}

/// Whether any organisation the user belongs to requires single sign-on.
pub async fn required_for_user(tx: &mut OperatorTx, user: UserId) -> Result<bool, StorageError> {
    let row = sqlx::query(
        "SELECT COUNT(*) AS n FROM org_sso s JOIN memberships m ON m.org_id = s.org_id \
         WHERE m.user_id = $1 AND s.sso_required = 1",
    )
    .bind(user.to_string())
    .fetch_one(tx.conn())
    .await?;
    let n: i64 = row.try_get("n")?;
    Ok(n > 0)
}

/// Keeps a sign-in in flight.
pub async fn put_pending(
    tx: &mut OperatorTx,
    id_sha256: &str,
    org: OrgId,
    sealed: &SealedBytes,
    now: Timestamp,
    expires_at: Timestamp,
) -> Result<(), StorageError> {
    // Expired sign-ins go as new ones come.
    sqlx::query("DELETE FROM sso_pending WHERE expires_at_ms < $1")
        .bind(now.as_millis())
        .execute(tx.conn())
        .await?;
    let inserted = sqlx::query(
        "INSERT INTO sso_pending (id_sha256, org_id, pending_sealed, created_at_ms, \
         expires_at_ms) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING RETURNING id_sha256",
    )
    .bind(id_sha256)
    .bind(org.to_string())
    .bind(sealed.as_bytes().to_vec())
    .bind(now.as_millis())
    .bind(expires_at.as_millis())
    .fetch_optional(tx.conn())
    .await?;
    conflict_if_none(inserted, "sign-in")
}

/// Takes a sign-in in flight (it can be used once), if it exists and has not expired.
pub async fn take_pending(
    tx: &mut OperatorTx,
    id_sha256: &str,
    now: Timestamp,
) -> Result<Option<(OrgId, SealedBytes)>, StorageError> {
    let row = sqlx::query(
        "DELETE FROM sso_pending WHERE id_sha256 = $1 RETURNING org_id, pending_sealed, \
         expires_at_ms",
    )
    .bind(id_sha256)
    .fetch_optional(tx.conn())
    .await?;
    let Some(row) = row else { return Ok(None) };
    let expires: i64 = row.try_get("expires_at_ms")?;
    if expires < now.as_millis() {
        return Ok(None);
    }
    let org: String = row.try_get("org_id")?;
    let sealed: Vec<u8> = row.try_get("pending_sealed")?;
    Ok(Some((
        parse_id(&org, "organisation id", OrgId::parse)?,
        SealedBytes::from_ciphertext(sealed),
    )))
}

/// The user a provider's subject is linked to in an organisation (two organisations may share
/// one provider tenant; each links on its own).
pub async fn identity(
    tx: &mut OperatorTx,
    org: OrgId,
    issuer: &str,
    subject: &str,
) -> Result<Option<UserId>, StorageError> {
    let row = sqlx::query(
        "SELECT user_id FROM user_identities WHERE org_id = $1 AND issuer = $2 AND subject = $3",
    )
    .bind(org.to_string())
    .bind(issuer)
    .bind(subject)
    .fetch_optional(tx.conn())
    .await?;
    let Some(row) = row else { return Ok(None) };
    let user: String = row.try_get("user_id")?;
    Ok(Some(parse_id(&user, "user id", UserId::parse)?))
}

/// Links a provider's subject to a user.
pub async fn link_identity(
    tx: &mut OperatorTx,
    org: OrgId,
    issuer: &str,
    subject: &str,
    user: UserId,
    now: Timestamp,
) -> Result<(), StorageError> {
    let inserted = sqlx::query(
        "INSERT INTO user_identities (issuer, subject, user_id, org_id, created_at_ms) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING RETURNING user_id",
    )
    .bind(issuer)
    .bind(subject)
    .bind(user.to_string())
    .bind(org.to_string())
    .bind(now.as_millis())
    .fetch_optional(tx.conn())
    .await?;
    conflict_if_none(inserted, "identity")
}

/// A domain an organisation's provider signs people in for, and the proof that the
/// organisation owns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DomainProof {
    /// The domain, lowercase.
    pub domain: String,
    /// The random value the domain's DNS must publish.
    pub token: String,
    /// When the proof was asked for.
    pub created_at: Timestamp,
    /// When MHP found it published (`None`: not yet).
    pub verified_at: Option<Timestamp>,
}

fn proof_from(row: &sqlx::any::AnyRow) -> Result<DomainProof, StorageError> {
    Ok(DomainProof {
        domain: row.try_get("domain")?,
        token: row.try_get("token")?,
        created_at: Timestamp::from_millis(row.try_get("created_at_ms")?),
        verified_at: row
            .try_get::<Option<i64>, _>("verified_at_ms")?
            .map(Timestamp::from_millis),
    })
}

/// The organisation's domains with their proofs, by domain.
pub async fn domain_proofs(tx: &mut TenantTx) -> Result<Vec<DomainProof>, StorageError> {
    let rows = sqlx::query(
        "SELECT domain, token, created_at_ms, verified_at_ms FROM sso_domain_proofs \
         WHERE org_id = $1 ORDER BY domain",
    )
    .bind(tx.org_key())
    .fetch_all(tx.conn())
    .await?;
    rows.iter().map(proof_from).collect()
}

/// Keeps the organisation's proofs to `domains` (lowercase): a domain kept keeps its token and
/// its proof, a new one gets `token_for(domain)`, a removed one loses its proof.
pub async fn keep_domains(
    tx: &mut TenantTx,
    domains: &[String],
    token_for: impl Fn(&str) -> String,
    now: Timestamp,
) -> Result<(), StorageError> {
    for old in domain_proofs(tx).await? {
        if !domains.contains(&old.domain) {
            sqlx::query("DELETE FROM sso_domain_proofs WHERE org_id = $1 AND domain = $2")
                .bind(tx.org_key())
                .bind(&old.domain)
                .execute(tx.conn())
                .await?;
        }
    }
    for domain in domains {
        sqlx::query(
            "INSERT INTO sso_domain_proofs (org_id, domain, token, created_at_ms) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (org_id, domain) DO NOTHING",
        )
        .bind(tx.org_key())
        .bind(domain)
        .bind(token_for(domain))
        .bind(now.as_millis())
        .execute(tx.conn())
        .await?;
    }
    Ok(())
}

/// Records that the organisation's proof of `domain` was found published.
pub async fn mark_proven(
    tx: &mut TenantTx,
    domain: &str,
    now: Timestamp,
) -> Result<(), StorageError> {
    let done = sqlx::query(
        "UPDATE sso_domain_proofs SET verified_at_ms = $3 WHERE org_id = $1 AND domain = $2",
    )
    .bind(tx.org_key())
    .bind(domain)
    .bind(now.as_millis())
    .execute(tx.conn())
    .await?;
    if done.rows_affected() == 0 {
        return Err(StorageError::NotFound {
            entity: "single sign-on domain",
        });
    }
    Ok(())
}

/// Withdraws the proof of the organisation's `domain` (its DNS no longer publishes it): the
/// domain leads nowhere until it is proven again. Whether there was a proof to withdraw.
pub async fn unprove(tx: &mut TenantTx, domain: &str) -> Result<bool, StorageError> {
    let done = sqlx::query(
        "UPDATE sso_domain_proofs SET verified_at_ms = NULL \
         WHERE org_id = $1 AND domain = $2 AND verified_at_ms IS NOT NULL",
    )
    .bind(tx.org_key())
    .bind(domain)
    .execute(tx.conn())
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Every proven domain of every organisation with its proof (operator function: checking that
/// the proofs are still published).
pub async fn proven_proofs_as_operator(
    tx: &mut OperatorTx,
) -> Result<Vec<(OrgId, DomainProof)>, StorageError> {
    let rows = sqlx::query(
        "SELECT org_id, domain, token, created_at_ms, verified_at_ms FROM sso_domain_proofs \
         WHERE verified_at_ms IS NOT NULL ORDER BY domain, org_id",
    )
    .fetch_all(tx.conn())
    .await?;
    rows.iter()
        .map(|row| {
            let org: String = row.try_get("org_id")?;
            Ok((
                parse_id(&org, "organisation id", OrgId::parse)?,
                proof_from(row)?,
            ))
        })
        .collect()
}

/// Every proven domain of every organisation whose provider has a client secret, as
/// `(organisation, domain)` (operator function: finding an organisation from an e-mail
/// address, and keeping a proven domain to its owner).
pub async fn proven_domains_as_operator(
    tx: &mut OperatorTx,
) -> Result<Vec<(OrgId, String)>, StorageError> {
    let rows = sqlx::query(
        "SELECT p.org_id, p.domain FROM sso_domain_proofs p \
         JOIN org_sso s ON s.org_id = p.org_id \
         WHERE p.verified_at_ms IS NOT NULL AND s.client_secret_sealed IS NOT NULL \
         ORDER BY p.domain, p.org_id",
    )
    .fetch_all(tx.conn())
    .await?;
    rows.iter()
        .map(|row| {
            let org: String = row.try_get("org_id")?;
            Ok((
                parse_id(&org, "organisation id", OrgId::parse)?,
                row.try_get("domain")?,
            ))
        })
        .collect()
}
