//! Proofs of single sign-on e-mail domains, kept true. A proven domain leads people who sign in
//! with its addresses to one organisation's identity provider; a domain that changes hands (or
//! whose owner drops the record) must stop doing so. [`recheck`] looks every proven domain's
//! TXT record up again and withdraws the proofs the DNS no longer publishes, each in the
//! organisation's audit chain (`organisation.sso_domain_unproven`). A DNS that does not answer
//! withdraws nothing: only a definite answer without the record does.

use std::time::Duration;

use mhp_domain::{OrgId, OrgScope};
use mhp_federation::domain_proof::DomainProver;
use mhp_storage::Access;
use mhp_storage::repo::sso;

use crate::{App, AppError, Caller};

/// What one pass found.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Recheck {
    /// Proven domains looked up.
    pub checked: usize,
    /// Proofs withdrawn: `(organisation, domain)`.
    pub withdrawn: Vec<(OrgId, String)>,
    /// Domains whose DNS did not answer (kept as they were).
    pub unanswered: usize,
}

/// How often `mhp serve` checks the proofs again.
pub const RECHECK_EVERY: Duration = Duration::from_secs(24 * 3600);

/// Looks every proven domain up again and withdraws the proofs that are no longer published.
pub async fn recheck(app: &App, prover: &DomainProver) -> Result<Recheck, AppError> {
    let proofs = {
        let mut tx = app.db.operator(Access::Read).await?;
        sso::proven_proofs_as_operator(&mut tx).await?
    };
    let caller = Caller::system("system:sso-domains");
    let mut out = Recheck::default();
    for (org, proof) in proofs {
        out.checked += 1;
        match prover.is_proven(&proof.domain, &proof.token).await {
            Ok(true) => {}
            Ok(false) => {
                let scope =
                    OrgScope::for_operator(org, "withdrawing an SSO domain whose proof is gone");
                let mut tx = app.db.tenant(&scope, Access::Write).await?;
                if sso::unprove(&mut tx, &proof.domain).await? {
                    caller
                        .record(
                            &mut tx,
                            "organisation.sso_domain_unproven",
                            "sso_domain",
                            Some(proof.domain.clone()),
                            app.now(),
                        )
                        .await?;
                }
                tx.commit().await?;
                out.withdrawn.push((org, proof.domain));
            }
            Err(_) => out.unanswered += 1,
        }
    }
    Ok(out)
}

/// `mhp serve`'s daily pass of [`recheck`] (the first one a day after start, so restarts do not
/// query every domain), until `stop` resolves. Errors are logged and retried on the next tick.
pub async fn run_rechecks(
    app: App,
    prover: DomainProver,
    every: Duration,
    stop: impl std::future::Future<Output = ()>,
) {
    let mut stop = std::pin::pin!(stop);
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = &mut stop => return,
            _ = tick.tick() => {}
        }
        match recheck(&app, &prover).await {
            Ok(r) if r.withdrawn.is_empty() && r.unanswered == 0 => {}
            Ok(r) => tracing::warn!(
                checked = r.checked,
                withdrawn = r.withdrawn.len(),
                unanswered = r.unanswered,
                "SSO domain proofs checked again"
            ),
            Err(e) => tracing::warn!(error = %e, "checking SSO domain proofs failed"),
        }
    }
}
