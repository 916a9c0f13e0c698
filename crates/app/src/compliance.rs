//! Compliance self-checks: the running deployment checked against the controls a HIPAA or SOC 2
//! auditor asks about, each check with its HIPAA Security Rule citations and SOC 2 criteria, a
//! result (pass, fail, not applicable) and the evidence observed (counts, ages, settings; never
//! a secret, a person or a subject).
//!
//! [`observe`] reads the facts (system of record, key store, object store) and [`evaluate`]
//! judges them with the facts of the deployment the edge gives ([`Deployment`]: what the
//! settings say). `mhp compliance check` prints a report in JSON, OSCAL Assessment Results or AWS
//! Security Hub findings ([`formats`]), or as a printable page (`mhp_server::web`); `mhp serve` runs the checks daily and keeps the
//! history ([`run_schedule`]); the API serves the newest run.

pub mod formats;

use std::time::Duration;

use mhp_crypto::seal::FORMAT_DATA_KEY;
use mhp_storage::repo::backups::LatestGood;
use mhp_storage::repo::compliance::{self as facts, Accounts, ApiKeys, Organisations, RowSecurity};
use mhp_storage::repo::{audit, backups, security};
use mhp_storage::{Access, ObjectKey, StorageError};
use serde::{Deserialize, Serialize};

use crate::App;

const DAY_MS: i64 = 86_400_000;
/// Longest life of an API key, and how long one may go unused.
pub const API_KEY_DAYS: i64 = 90;
/// How long an account may go unused before it counts as dormant.
pub const DORMANT_DAYS: i64 = 90;
/// The oldest an organisation key may be before it counts as unrotated.
pub const KEY_ROTATION_DAYS: i64 = 365;
/// Org admins an organisation may have at the most.
pub const MAX_ORG_ADMINS: i64 = 5;
/// Platform operators an installation may have at the most.
pub const MAX_OPERATORS: i64 = 3;
/// Events a sink may have waiting.
pub const MAX_BACKLOG: i64 = 10_000;

/// A check's result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The control holds.
    Pass,
    /// It does not.
    Fail,
    /// It does not apply to this deployment (the evidence says why).
    NotApplicable,
}

impl Outcome {
    /// The result in words.
    pub const fn label(self) -> &'static str {
        match self {
            Outcome::Pass => "pass",
            Outcome::Fail => "fail",
            Outcome::NotApplicable => "not applicable",
        }
    }
}

/// A control the deployment is checked against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Control {
    /// Stable id (snake case).
    pub id: &'static str,
    /// What holds when it passes.
    pub title: &'static str,
    /// HIPAA Security Rule citations (45 CFR).
    pub hipaa: &'static [&'static str],
    /// SOC 2 trust services criteria.
    pub soc2: &'static [&'static str],
}

const fn control(
    id: &'static str,
    title: &'static str,
    hipaa: &'static [&'static str],
    soc2: &'static [&'static str],
) -> Control {
    Control {
        id,
        title,
        hipaa,
        soc2,
    }
}

/// Every check, in the order reports list them.
pub const CONTROLS: &[Control] = &[
    control(
        "mfa_required_for_privileged_roles",
        "Every organisation requires a second factor of its privileged roles",
        &["164.312(d)", "164.308(a)(5)(ii)(D)"],
        &["CC6.1"],
    ),
    control(
        "platform_operators_use_mfa",
        "Every platform operator has an authenticator",
        &["164.312(d)"],
        &["CC6.1"],
    ),
    control(
        "session_idle_timeout",
        "Sessions end after at most 30 minutes idle",
        &["164.312(a)(2)(iii)"],
        &["CC6.1"],
    ),
    control(
        "session_absolute_timeout",
        "Sessions end at most 12 hours after sign-in",
        &["164.312(a)(2)(iii)"],
        &["CC6.1"],
    ),
    control(
        "access_token_lifetime",
        "Access tokens live at most 15 minutes",
        &["164.312(d)"],
        &["CC6.1"],
    ),
    control(
        "password_policy",
        "Passwords are at least 12 characters and stored as memory-hard hashes",
        &["164.308(a)(5)(ii)(D)"],
        &["CC6.1"],
    ),
    control(
        "sign_in_throttling",
        "Repeated failed sign-ins are slowed and locked out",
        &["164.308(a)(5)(ii)(C)"],
        &["CC6.1", "CC7.2"],
    ),
    control(
        "api_keys_expire",
        "Every API key in force expires within 90 days of issue",
        &["164.308(a)(5)(ii)(D)", "164.312(d)"],
        &["CC6.1"],
    ),
    control(
        "api_keys_in_use",
        "No API key in force has gone unused for 90 days",
        &["164.308(a)(3)(ii)(C)", "164.308(a)(4)(ii)(C)"],
        &["CC6.2", "CC6.3"],
    ),
    control(
        "dormant_accounts_disabled",
        "No enabled account has gone unused for 90 days",
        &["164.308(a)(3)(ii)(C)", "164.308(a)(4)(ii)(C)"],
        &["CC6.2"],
    ),
    control(
        "org_admins_bounded",
        "Every organisation has between 1 and 5 org admins",
        &["164.308(a)(4)(ii)(B)", "164.308(a)(3)(ii)(A)"],
        &["CC6.3"],
    ),
    control(
        "platform_operators_bounded",
        "The installation has between 1 and 3 platform operators",
        &["164.308(a)(4)(ii)(B)", "164.308(a)(3)(ii)(A)"],
        &["CC6.3"],
    ),
    control(
        "phi_identifiers_sealed",
        "Subjects' identifiers are sealed with envelope keys (sampled)",
        &["164.312(a)(2)(iv)", "164.312(c)(1)"],
        &["CC6.1", "C1.1"],
    ),
    control(
        "raw_signals_sealed",
        "Raw force-plate recordings are sealed with envelope keys (sampled)",
        &["164.312(a)(2)(iv)", "164.312(c)(1)"],
        &["CC6.1", "C1.1"],
    ),
    control(
        "master_key_not_local_in_production",
        "In production the master key is held by KMS or Vault, not a local file",
        &["164.312(a)(2)(iv)", "164.308(a)(1)(ii)(B)"],
        &["CC6.1"],
    ),
    control(
        "production_parts_shared",
        "In production no data or key lives in one machine's data directory",
        &["164.308(a)(7)(ii)(B)", "164.312(a)(2)(iv)"],
        &["CC6.1", "A1.2"],
    ),
    control(
        "organisation_keys_rotated",
        "Organisation keys in use are younger than 365 days",
        &["164.312(a)(2)(iv)"],
        &["CC6.1"],
    ),
    control(
        "database_tls",
        "In production the connection to PostgreSQL uses TLS with certificate verification",
        &["164.312(e)(1)", "164.312(e)(2)(ii)"],
        &["CC6.7"],
    ),
    control(
        "public_url_https",
        "In production the public URL is HTTPS",
        &["164.312(e)(1)"],
        &["CC6.7"],
    ),
    control(
        "security_headers",
        "Responses carry HSTS, a content security policy and anti-framing headers",
        &["164.312(e)(1)"],
        &["CC6.6", "CC6.7"],
    ),
    control(
        "egress_private_blocked",
        "Tenant-configured destinations cannot reach private or loopback addresses",
        &["164.312(a)(1)", "164.308(a)(4)(ii)(A)"],
        &["CC6.6"],
    ),
    control(
        "audit_chain_verifies",
        "Every audit chain and checkpoint verifies",
        &["164.312(b)", "164.312(c)(1)", "164.312(c)(2)"],
        &["CC7.2", "CC4.1"],
    ),
    control(
        "audit_checkpoint_recent",
        "The newest audit checkpoint was signed within 2 hours",
        &["164.312(b)", "164.312(c)(2)"],
        &["CC7.2"],
    ),
    control(
        "audit_retention",
        "Audit events are kept at least six years",
        &["164.316(b)(2)(i)", "164.312(b)"],
        &["CC7.2", "C1.2"],
    ),
    control(
        "tenant_row_security_forced",
        "Row-level security is enabled and forced on every table holding organisations' rows",
        &["164.312(a)(1)", "164.308(a)(4)(ii)(A)"],
        &["CC6.1"],
    ),
    control(
        "app_role_cannot_bypass",
        "The application's database role is neither superuser nor BYPASSRLS",
        &["164.312(a)(1)"],
        &["CC6.1", "CC6.3"],
    ),
    control(
        "security_monitoring_on",
        "Security events are monitored and shipped to at least one sink",
        &["164.308(a)(1)(ii)(D)", "164.312(b)"],
        &["CC7.2"],
    ),
    control(
        "siem_backlog_small",
        "Every sink has at most 10,000 security events waiting",
        &["164.308(a)(1)(ii)(D)"],
        &["CC7.2"],
    ),
    control(
        "detection_rules_enabled",
        "Every shipped detection rule is enabled",
        &["164.308(a)(6)(ii)", "164.308(a)(1)(ii)(D)"],
        &["CC7.2", "CC7.3"],
    ),
    control(
        "alerts_triaged",
        "No high or critical alert has stayed open for more than 7 days",
        &["164.308(a)(6)(ii)"],
        &["CC7.3", "CC7.4"],
    ),
    control(
        "erasures_completed",
        "Erased subjects' keys are destroyed within a day",
        &["164.310(d)(2)(i)", "164.310(d)(2)(ii)"],
        &["C1.2", "P4.3"],
    ),
    control(
        "backup_recent",
        "A good backup of the data was made within 26 hours",
        &["164.308(a)(7)(ii)(A)", "164.310(d)(2)(iv)"],
        &["A1.2"],
    ),
    control(
        "key_store_backup_recent",
        "A good backup of the key store, kept apart, was made within 26 hours",
        &["164.308(a)(7)(ii)(A)"],
        &["A1.2"],
    ),
    control(
        "restore_drill_recent",
        "A restore drill passed within 31 days",
        &["164.308(a)(7)(ii)(D)", "164.308(a)(7)(ii)(B)"],
        &["A1.2", "A1.3"],
    ),
    control(
        "migrations_current",
        "The database is at the migration of the running version",
        &["164.312(c)(1)"],
        &["CC8.1"],
    ),
];

/// What the settings of the deployment say, as the edge that runs the checks knows them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deployment {
    /// `development` or `production`.
    pub environment: String,
    /// The master-key provider (`local`, `aws-kms`, `vault-transit`).
    pub key_provider: String,
    /// What production needs and the settings lack (`Settings::production_gaps`).
    pub production_gaps: Vec<String>,
    /// PostgreSQL's `sslmode` (`None` on SQLite).
    pub database_sslmode: Option<String>,
    /// Where MHP is reached.
    pub public_url: String,
    /// Days audit events are kept.
    pub audit_retention_days: u64,
    /// Private, loopback or link-local ranges the egress allows.
    pub egress_private_allowed: Vec<String>,
    /// Whether the egress allows plain HTTP.
    pub egress_allow_http: bool,
    /// Whether the security monitor runs.
    pub monitor: bool,
    /// The security sinks configured, by consumer name (`jsonl`, `opensearch`, `cloudwatch`).
    pub sinks: Vec<String>,
    /// Shipped rules that are switched off.
    pub rules_disabled: Vec<String>,
    /// Rules shipped.
    pub rules_total: usize,
    /// Whether the key store is backed up to a destination of its own.
    pub key_backups_apart: bool,
    /// The headers every response carries (name in lower case, value).
    pub response_headers: Vec<(String, String)>,
}

impl Deployment {
    fn production(&self) -> bool {
        self.environment == "production"
    }
}

/// What [`observe`] read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Observed {
    /// When (ms).
    pub at_ms: i64,
    /// Organisations, MFA policies, admins.
    pub organisations: Organisations,
    /// Accounts.
    pub accounts: Accounts,
    /// API keys.
    pub api_keys: ApiKeys,
    /// Sealed identifiers sampled, and those sealed with envelope keys.
    pub identifiers: (usize, usize),
    /// Raw recordings sampled, and those sealed with envelope keys.
    pub raw: (usize, usize),
    /// Audit verification: chains, events, findings.
    pub audit: (usize, usize, Vec<String>),
    /// When the newest checkpoint was signed.
    pub last_checkpoint_ms: Option<i64>,
    /// PostgreSQL's row-level security (`None` on SQLite).
    pub row_security: Option<RowSecurity>,
    /// Whether the connection to PostgreSQL runs over TLS (`None` on SQLite).
    pub database_tls_in_use: Option<bool>,
    /// Events waiting per consumer of the security streams.
    pub backlogs: Vec<(String, i64)>,
    /// High or critical alerts open for more than 7 days.
    pub stale_alerts: i64,
    /// Subjects erased more than a day ago, and those whose key is still in the key store.
    pub erasures: (usize, usize),
    /// Organisation keys in use, and the age of the oldest (ms).
    pub org_keys: (usize, Option<i64>),
    /// The newest good backup runs by kind.
    pub backups: Vec<LatestGood>,
    /// Whether the database is at this version's migration.
    pub migrations_current: bool,
}

/// Subjects sampled per organisation.
const SAMPLE: i64 = 20;

/// Reads every fact the checks need; `sinks` are the security sinks configured (their consumer
/// names), whose backlogs are counted (all events, for a sink that never ran).
pub async fn observe(app: &App, sinks: &[String]) -> Result<Observed, StorageError> {
    let now = app.now().as_millis();
    let mut tx = app.db.operator(Access::Read).await?;
    let organisations = facts::organisations(&mut tx).await?;
    let accounts = facts::accounts(&mut tx, now - DORMANT_DAYS * DAY_MS).await?;
    let api_keys = facts::api_keys(
        &mut tx,
        now,
        API_KEY_DAYS * DAY_MS,
        now - API_KEY_DAYS * DAY_MS,
    )
    .await?;
    let last_checkpoint_ms = facts::last_checkpoint(&mut tx).await?;
    let row_security = facts::row_security(&mut tx).await?;
    let database_tls_in_use = facts::connection_tls(&mut tx).await?;
    let stale_alerts = facts::stale_alerts(&mut tx, now - 7 * DAY_MS).await?;
    let backups = backups::latest_good(&mut tx).await?;
    let mut backlogs = Vec::new();
    for consumer in sinks {
        let consumer = consumer.clone();
        let mut waiting = 0;
        for stream in mhp_security::event::Stream::ALL {
            let after = security::cursor(&mut tx, &consumer, stream)
                .await?
                .unwrap_or_default();
            waiting += security::backlog(&mut tx, stream, after).await?;
        }
        backlogs.push((consumer, waiting));
    }
    let report = audit::verify(&mut tx, &app.audit_public_keys).await?;
    let audit = (
        report.chains,
        report.events,
        report.findings.iter().map(ToString::to_string).collect(),
    );
    let (mut sealed, mut raw_keys, mut erased) = (Vec::new(), Vec::new(), Vec::new());
    for org in facts::org_ids(&mut tx).await? {
        sealed.extend(facts::sealed_sample(&mut tx, &org, SAMPLE).await?);
        raw_keys.extend(facts::raw_sample(&mut tx, &org, SAMPLE).await?);
        for subject in facts::erased_before(&mut tx, &org, now - DAY_MS).await? {
            erased.push(format!("subject/{org}/{subject}"));
        }
    }
    drop(tx);
    let envelope = |b: &[u8]| b.first() == Some(&FORMAT_DATA_KEY);
    let identifiers = (sealed.len(), sealed.iter().filter(|b| envelope(b)).count());
    let mut raw = (0, 0);
    for key in raw_keys {
        let Ok(key) = ObjectKey::parse(&key) else {
            continue;
        };
        // A missing file is the orphan sweep's business, not a sealing question.
        if let Ok(bytes) = app.objects.get(&key).await {
            raw.0 += 1;
            raw.1 += usize::from(envelope(&bytes));
        }
    }
    let store = app.phi.keys().store();
    let mut with_keys = 0;
    for key_id in &erased {
        if !store.versions(key_id).await?.is_empty() {
            with_keys += 1;
        }
    }
    let org_rows = store.org_keys().await?;
    let current: Vec<i64> = org_rows
        .iter()
        .filter(|r| r.retired_at_ms.is_none())
        .map(|r| r.created_at_ms)
        .collect();
    let org_keys = (current.len(), current.iter().min().map(|c| now - c));
    Ok(Observed {
        at_ms: now,
        organisations,
        accounts,
        api_keys,
        identifiers,
        raw,
        audit,
        last_checkpoint_ms,
        row_security,
        database_tls_in_use,
        backlogs,
        stale_alerts,
        erasures: (erased.len(), with_keys),
        org_keys,
        backups,
        migrations_current: mhp_storage::migrate::status(&app.db).await?.is_current(),
    })
}

/// One check's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Finding {
    /// The control's id.
    pub id: String,
    /// What holds when it passes.
    pub title: String,
    /// HIPAA Security Rule citations.
    pub hipaa: Vec<String>,
    /// SOC 2 criteria.
    pub soc2: Vec<String>,
    /// The result.
    pub outcome: Outcome,
    /// What was observed.
    pub evidence: String,
}

/// Counts by result.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
pub struct Summary {
    /// Checks passed.
    pub passed: usize,
    /// Checks failed.
    pub failed: usize,
    /// Checks that did not apply.
    pub not_applicable: usize,
}

/// A run of every check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Report {
    /// `mhp-compliance-1`.
    pub format: String,
    /// This run's id.
    pub id: String,
    /// When (ms since the epoch).
    pub generated_at_ms: i64,
    /// The MHP version that checked.
    pub mhp_version: String,
    /// The deployment's environment.
    pub environment: String,
    /// Where it is reached.
    pub public_url: String,
    /// Counts by result.
    pub summary: Summary,
    /// Every check, in [`CONTROLS`] order.
    pub findings: Vec<Finding>,
}

fn days(ms: i64) -> i64 {
    ms.div_euclid(DAY_MS)
}

fn hours(ms: i64) -> i64 {
    ms.div_euclid(3_600_000)
}

/// Judges the facts. Pure: the same facts give the same findings.
pub fn evaluate(d: &Deployment, o: &Observed) -> Vec<(&'static Control, Outcome, String)> {
    use Outcome::{Fail, NotApplicable as Na, Pass};
    let now = o.at_ms;
    let pass_if = |ok: bool| if ok { Pass } else { Fail };
    let production = d.production();
    let in_production = |ok: bool, evidence: String| -> (Outcome, String) {
        if production {
            (pass_if(ok), evidence)
        } else {
            (Na, format!("environment is {}: {evidence}", d.environment))
        }
    };
    let age = |kind: &str, limit_ms: i64| -> (Outcome, String) {
        match o.backups.iter().find(|b| b.kind == kind) {
            Some(b) => (
                pass_if(now - b.at_ms <= limit_ms),
                format!("newest good {kind} run {} h ago", hours(now - b.at_ms)),
            ),
            None => (Fail, format!("no good {kind} run recorded")),
        }
    };
    let org = &o.organisations;
    let acc = &o.accounts;
    let keys = &o.api_keys;
    let mut out: Vec<(&'static str, Outcome, String)> = vec![
        (
            "mfa_required_for_privileged_roles",
            pass_if(org.mfa_optional == 0),
            format!(
                "{} of {} organisations leave the second factor optional",
                org.mfa_optional, org.total
            ),
        ),
        (
            "platform_operators_use_mfa",
            pass_if(acc.operators_with_mfa == acc.operators),
            format!(
                "{} of {} platform operators have an authenticator",
                acc.operators_with_mfa, acc.operators
            ),
        ),
        (
            "session_idle_timeout",
            pass_if(mhp_auth::session::IDLE_TIMEOUT_MS <= 30 * 60_000),
            format!(
                "idle timeout {} min",
                mhp_auth::session::IDLE_TIMEOUT_MS / 60_000
            ),
        ),
        (
            "session_absolute_timeout",
            pass_if(mhp_auth::session::ABSOLUTE_TIMEOUT_MS <= 12 * 3_600_000),
            format!(
                "absolute timeout {} h",
                mhp_auth::session::ABSOLUTE_TIMEOUT_MS / 3_600_000
            ),
        ),
        (
            "access_token_lifetime",
            pass_if(mhp_auth::token::ACCESS_TTL_S <= 15 * 60),
            format!(
                "access tokens live {} min",
                mhp_auth::token::ACCESS_TTL_S / 60
            ),
        ),
        (
            "password_policy",
            pass_if(mhp_auth::password::MIN_LEN >= 12),
            format!(
                "minimum length {}, Argon2id hashes",
                mhp_auth::password::MIN_LEN
            ),
        ),
        (
            "sign_in_throttling",
            pass_if(mhp_auth::throttle::FREE_FAILURES <= 10),
            format!(
                "lock after {} failures, growing to {} min",
                mhp_auth::throttle::FREE_FAILURES,
                mhp_auth::throttle::MAX_LOCK_MS / 60_000
            ),
        ),
        (
            "api_keys_expire",
            pass_if(keys.long_lived == 0),
            format!(
                "{} of {} API keys in force live longer than {API_KEY_DAYS} days or never expire",
                keys.long_lived, keys.active
            ),
        ),
        (
            "api_keys_in_use",
            pass_if(keys.unused == 0),
            format!(
                "{} of {} API keys in force unused for {API_KEY_DAYS} days",
                keys.unused, keys.active
            ),
        ),
        (
            "dormant_accounts_disabled",
            pass_if(acc.dormant == 0),
            format!(
                "{} of {} enabled accounts unused for {DORMANT_DAYS} days",
                acc.dormant, acc.enabled
            ),
        ),
        (
            "org_admins_bounded",
            pass_if(org.admins.iter().all(|n| (1..=MAX_ORG_ADMINS).contains(n))),
            format!(
                "{} organisations without an admin, {} with more than {MAX_ORG_ADMINS}",
                org.admins.iter().filter(|n| **n == 0).count(),
                org.admins.iter().filter(|n| **n > MAX_ORG_ADMINS).count()
            ),
        ),
        (
            "platform_operators_bounded",
            pass_if((1..=MAX_OPERATORS).contains(&acc.operators)),
            format!("{} platform operators", acc.operators),
        ),
    ];
    let sampled = |(n, sealed): (usize, usize), what: &str| -> (Outcome, String) {
        if n == 0 {
            (Na, format!("no {what} to sample"))
        } else {
            (
                pass_if(sealed == n),
                format!("{sealed} of {n} sampled {what} sealed with envelope keys"),
            )
        }
    };
    let (r, e) = sampled(o.identifiers, "identifiers");
    out.push(("phi_identifiers_sealed", r, e));
    let (r, e) = sampled(o.raw, "raw recordings");
    out.push(("raw_signals_sealed", r, e));
    let (r, e) = in_production(
        d.key_provider != "local",
        format!("keys.provider = {}", d.key_provider),
    );
    out.push(("master_key_not_local_in_production", r, e));
    let (r, e) = in_production(
        d.production_gaps.is_empty(),
        if d.production_gaps.is_empty() {
            "database, key store, root and objects are shared".to_owned()
        } else {
            d.production_gaps.join("; ")
        },
    );
    out.push(("production_parts_shared", r, e));
    out.push(match o.org_keys {
        (0, _) => (
            "organisation_keys_rotated",
            Na,
            "no organisation key made yet".to_owned(),
        ),
        (n, oldest) => {
            let oldest = oldest.unwrap_or(0);
            (
                "organisation_keys_rotated",
                pass_if(oldest <= KEY_ROTATION_DAYS * DAY_MS),
                format!(
                    "{n} organisation keys in use, the oldest made {} days ago",
                    days(oldest)
                ),
            )
        }
    });
    let (r, e) = match (&d.database_sslmode, o.database_tls_in_use) {
        (None, _) | (_, None) => (
            Na,
            "SQLite in the data directory: no network connection".to_owned(),
        ),
        (Some(mode), Some(tls)) => in_production(
            tls && mode == "verify-full",
            format!("sslmode = {mode}; connection over TLS: {tls}"),
        ),
    };
    out.push(("database_tls", r, e));
    let (r, e) = in_production(
        d.public_url.starts_with("https://"),
        format!(
            "public URL scheme {}",
            d.public_url.split(':').next().unwrap_or("")
        ),
    );
    out.push(("public_url_https", r, e));
    let needed = [
        "strict-transport-security",
        "content-security-policy",
        "x-frame-options",
        "x-content-type-options",
    ];
    let missing: Vec<&str> = needed
        .into_iter()
        .filter(|n| !d.response_headers.iter().any(|(h, _)| h == n))
        .collect();
    out.push((
        "security_headers",
        pass_if(missing.is_empty()),
        if missing.is_empty() {
            let names: Vec<&str> = d.response_headers.iter().map(|(h, _)| h.as_str()).collect();
            format!("every response carries {}", names.join(", "))
        } else {
            format!("missing: {}", missing.join(", "))
        },
    ));
    out.push((
        "egress_private_blocked",
        pass_if(d.egress_private_allowed.is_empty() && !(production && d.egress_allow_http)),
        format!(
            "private ranges allowed: {}; plain HTTP allowed: {}",
            if d.egress_private_allowed.is_empty() {
                "none".to_owned()
            } else {
                d.egress_private_allowed.join(", ")
            },
            d.egress_allow_http
        ),
    ));
    let (chains, events, findings) = &o.audit;
    out.push((
        "audit_chain_verifies",
        pass_if(findings.is_empty()),
        if findings.is_empty() {
            format!("{chains} chains, {events} events verified")
        } else {
            format!(
                "{} findings over {chains} chains; first: {}",
                findings.len(),
                findings[0]
            )
        },
    ));
    out.push(match o.last_checkpoint_ms {
        Some(at) => (
            "audit_checkpoint_recent",
            pass_if(now - at <= 2 * 3_600_000),
            format!("newest checkpoint signed {} min ago", (now - at) / 60_000),
        ),
        None => (
            "audit_checkpoint_recent",
            Fail,
            "no checkpoint signed".to_owned(),
        ),
    });
    out.push((
        "audit_retention",
        pass_if(d.audit_retention_days >= 2190),
        format!("audit.retention_days = {}", d.audit_retention_days),
    ));
    out.push(match &o.row_security {
        None => (
            "tenant_row_security_forced",
            Na,
            "SQLite: one process owns the file; tenancy is enforced by scoped transactions"
                .to_owned(),
        ),
        Some(rs) => (
            "tenant_row_security_forced",
            pass_if(rs.unforced.is_empty()),
            if rs.unforced.is_empty() {
                format!(
                    "{} tenant tables, every one enabled and forced",
                    rs.tenant_tables
                )
            } else {
                format!(
                    "{} of {} tenant tables not enabled and forced: {}",
                    rs.unforced.len(),
                    rs.tenant_tables,
                    rs.unforced.join(", ")
                )
            },
        ),
    });
    out.push(match &o.row_security {
        None => (
            "app_role_cannot_bypass",
            Na,
            "SQLite: no database roles".to_owned(),
        ),
        Some(rs) => (
            "app_role_cannot_bypass",
            pass_if(!rs.role_bypasses),
            format!(
                "role {}: superuser or BYPASSRLS = {}",
                rs.role, rs.role_bypasses
            ),
        ),
    });
    out.push((
        "security_monitoring_on",
        pass_if(d.monitor && !d.sinks.is_empty()),
        format!(
            "monitor {}; sinks: {}",
            if d.monitor { "on" } else { "off" },
            if d.sinks.is_empty() {
                "none".to_owned()
            } else {
                d.sinks.join(", ")
            }
        ),
    ));
    let worst = o.backlogs.iter().map(|(_, n)| *n).max().unwrap_or(0);
    out.push((
        "siem_backlog_small",
        pass_if(worst <= MAX_BACKLOG),
        if o.backlogs.is_empty() {
            "no sink configured".to_owned()
        } else {
            let each: Vec<String> = o
                .backlogs
                .iter()
                .map(|(sink, n)| format!("{sink} {n}"))
                .collect();
            format!("events waiting: {}", each.join(", "))
        },
    ));
    out.push((
        "detection_rules_enabled",
        pass_if(d.monitor && d.rules_disabled.is_empty()),
        if d.rules_disabled.is_empty() {
            format!("{} of {} rules enabled", d.rules_total, d.rules_total)
        } else {
            format!("disabled: {}", d.rules_disabled.join(", "))
        },
    ));
    out.push((
        "alerts_triaged",
        pass_if(o.stale_alerts == 0),
        format!(
            "{} high or critical alerts open for more than 7 days",
            o.stale_alerts
        ),
    ));
    out.push(match o.erasures {
        (0, _) => (
            "erasures_completed",
            Na,
            "no subject erased more than a day ago".to_owned(),
        ),
        (n, kept) => (
            "erasures_completed",
            pass_if(kept == 0),
            format!("{kept} of {n} subjects erased more than a day ago still have a key"),
        ),
    });
    let (r, e) = age("data", 26 * 3_600_000);
    out.push(("backup_recent", r, e));
    let (r, e) = age("key-store", 26 * 3_600_000);
    let (r, e) = if d.key_backups_apart {
        (r, e)
    } else {
        (Fail, format!("backup.keys_to is not set apart; {e}"))
    };
    out.push(("key_store_backup_recent", r, e));
    let (r, e) = age("drill", 31 * DAY_MS);
    out.push(("restore_drill_recent", r, e));
    out.push((
        "migrations_current",
        pass_if(o.migrations_current),
        if o.migrations_current {
            "every migration of this version applied".to_owned()
        } else {
            "migrations pending: run `mhp migrate`".to_owned()
        },
    ));
    out.into_iter()
        .filter_map(|(id, outcome, evidence)| {
            CONTROLS
                .iter()
                .find(|c| c.id == id)
                .map(|c| (c, outcome, evidence))
        })
        .collect()
}

/// Runs every check now.
pub async fn check(app: &App, deployment: &Deployment) -> Result<Report, StorageError> {
    let observed = observe(app, &deployment.sinks).await?;
    Ok(report(app, deployment, &observed))
}

/// The report of `observed`.
pub fn report(app: &App, deployment: &Deployment, observed: &Observed) -> Report {
    let findings: Vec<Finding> = evaluate(deployment, observed)
        .into_iter()
        .map(|(c, outcome, evidence)| Finding {
            id: c.id.to_owned(),
            title: c.title.to_owned(),
            hipaa: c.hipaa.iter().map(|h| format!("45 CFR §{h}")).collect(),
            soc2: c.soc2.iter().map(|s| (*s).to_owned()).collect(),
            outcome,
            evidence,
        })
        .collect();
    let count = |o: Outcome| findings.iter().filter(|f| f.outcome == o).count();
    Report {
        format: "mhp-compliance-1".to_owned(),
        id: uuid::Uuid::now_v7().to_string(),
        generated_at_ms: observed.at_ms,
        mhp_version: app.build.version.to_owned(),
        environment: deployment.environment.clone(),
        public_url: deployment.public_url.clone(),
        summary: Summary {
            passed: count(Outcome::Pass),
            failed: count(Outcome::Fail),
            not_applicable: count(Outcome::NotApplicable),
        },
        findings,
    }
}

/// Keeps a report in the history.
pub async fn record(app: &App, report: &Report) -> Result<(), StorageError> {
    let mut tx = app.db.operator(Access::Write).await?;
    facts::record(
        &mut tx,
        &facts::Run {
            id: report.id.clone(),
            at_ms: report.generated_at_ms,
            passed: report.summary.passed as i64,
            failed: report.summary.failed as i64,
            not_applicable: report.summary.not_applicable as i64,
            report: serde_json::to_string(report).unwrap_or_default(),
        },
    )
    .await?;
    tx.commit().await
}

/// The newest report kept and the `limit` newest runs' summaries (when and counts), for a
/// reader whose read is audited: in organisation `org`'s chain when given, else the platform's.
/// `NotFound` before the first run.
pub async fn read(
    app: &App,
    caller: &crate::Caller,
    org: Option<mhp_domain::OrgId>,
    limit: i64,
) -> Result<(Report, Vec<(i64, Summary)>), crate::AppError> {
    let mut tx = app.db.operator(Access::Write).await?;
    let runs = facts::runs(&mut tx, limit.clamp(1, 400)).await?;
    let newest = runs
        .first()
        .ok_or(crate::AppError::NotFound("compliance run"))?;
    let report: Report = serde_json::from_str(&newest.report).map_err(crate::AppError::internal)?;
    audit::append_as_operator(
        &mut tx,
        org,
        &caller.event(
            "compliance.report.read",
            "compliance_run",
            Some(report.id.clone()),
        ),
        app.now(),
    )
    .await?;
    tx.commit().await?;
    let count = |n: i64| usize::try_from(n).unwrap_or(0);
    let summaries = runs
        .iter()
        .map(|r| {
            (
                r.at_ms,
                Summary {
                    passed: count(r.passed),
                    failed: count(r.failed),
                    not_applicable: count(r.not_applicable),
                },
            )
        })
        .collect();
    Ok((report, summaries))
}

/// The newest `limit` reports kept, newest first.
pub async fn history(app: &App, limit: i64) -> Result<Vec<Report>, StorageError> {
    let mut tx = app.db.operator(Access::Read).await?;
    let runs = facts::runs(&mut tx, limit).await?;
    Ok(runs
        .iter()
        .filter_map(|r| serde_json::from_str(&r.report).ok())
        .collect())
}

/// The lease name of the daily run: one instance runs it.
const LEASE: &str = "compliance";

/// Runs the checks every `every` (daily) and keeps each report, on the instance holding the
/// lease, until `stop` resolves. The first run waits one interval after start unless none is
/// kept yet.
pub async fn run_schedule(
    app: App,
    deployment: Deployment,
    every: Duration,
    holder: String,
    stop: impl std::future::Future<Output = ()>,
) {
    let work = async {
        loop {
            let due = match history(&app, 1).await {
                Ok(last) => last.first().map_or(0, |r| {
                    r.generated_at_ms + i64::try_from(every.as_millis()).unwrap_or(i64::MAX)
                }),
                Err(_) => 0,
            };
            let wait = (due - app.now().as_millis()).max(0);
            tokio::time::sleep(Duration::from_millis(u64::try_from(wait).unwrap_or(0))).await;
            let ran = async {
                let mut tx = app.db.operator(Access::Write).await?;
                let now = app.now();
                let until = mhp_domain::Timestamp::from_millis(
                    now.as_millis() + i64::try_from(every.as_millis()).unwrap_or(i64::MAX) / 2,
                );
                let held = security::take_lease(&mut tx, LEASE, &holder, now, until).await?;
                tx.commit().await?;
                if !held {
                    return Ok(None);
                }
                let report = check(&app, &deployment).await?;
                record(&app, &report).await?;
                Ok::<_, StorageError>(Some(report.summary))
            };
            match ran.await {
                Ok(Some(s)) => tracing::info!(
                    passed = s.passed,
                    failed = s.failed,
                    not_applicable = s.not_applicable,
                    "compliance checks ran"
                ),
                Ok(None) => {}
                Err(e) => tracing::warn!(error = %e, "compliance checks failed to run"),
            }
            // Another instance ran them, or they failed: look again in an hour.
            tokio::time::sleep(Duration::from_secs(3600).min(every)).await;
        }
    };
    tokio::select! {
        () = work => {}
        () = stop => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_control_is_judged_once_with_citations() {
        assert!(CONTROLS.len() >= 30);
        let judged = evaluate(&Deployment::default(), &Observed::default());
        assert_eq!(judged.len(), CONTROLS.len());
        for (c, (j, _, _)) in CONTROLS.iter().zip(&judged) {
            assert_eq!(c.id, j.id, "in catalogue order");
            assert!(!c.hipaa.is_empty() && !c.soc2.is_empty(), "{}", c.id);
            for h in c.hipaa {
                assert!(
                    ["164.308", "164.310", "164.312", "164.316"]
                        .iter()
                        .any(|p| h.starts_with(p)),
                    "{h}"
                );
            }
        }
    }

    #[test]
    fn production_turns_the_local_parts_into_failures() {
        let dev = Deployment {
            environment: "development".into(),
            key_provider: "local".into(),
            public_url: "http://localhost:8080".into(),
            ..Deployment::default()
        };
        let prod = Deployment {
            environment: "production".into(),
            production_gaps: vec!["keys.provider is local".into()],
            ..dev.clone()
        };
        let outcome = |d: &Deployment, id: &str| {
            evaluate(d, &Observed::default())
                .into_iter()
                .find(|(c, _, _)| c.id == id)
                .map(|(_, o, _)| o)
                .unwrap()
        };
        for id in [
            "master_key_not_local_in_production",
            "production_parts_shared",
            "public_url_https",
        ] {
            assert_eq!(outcome(&dev, id), Outcome::NotApplicable, "{id}");
            assert_eq!(outcome(&prod, id), Outcome::Fail, "{id}");
        }
    }
}
