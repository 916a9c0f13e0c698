//! `mhp audit verify | checkpoint | public-key`: the audit log's hash chains, checked offline.

use anyhow::Context as _;
use clap::Subcommand;
use mhp_crypto::checkpoint::CheckpointKey;
use mhp_domain::{Clock as _, SystemClock};
use mhp_storage::Access;
use mhp_storage::repo::audit;

use crate::settings::{LoadNotes, Settings};
use crate::{Failure, logging};

/// `mhp audit`
#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Recompute every chain and check every checkpoint; exit 1 naming the first bad event.
    Verify {
        /// The checkpoint public key (hex), for verifying away from the master key; default: the
        /// key derived from this installation's master key.
        #[arg(long, value_name = "HEX")]
        public_key: Option<String>,
    },
    /// Sign the head of every chain that moved since its last checkpoint.
    Checkpoint,
    /// Print the checkpoint public key (hex), to verify elsewhere.
    PublicKey,
    /// Archive, then remove, events older than `audit.retention_days` (never younger than six
    /// years: the database refuses), up to the newest signed checkpoint before the first younger
    /// event; verification resumes from there. Archives go to the object store as JSON lines
    /// (`audit-archive/CHAIN/FIRST-LAST.jsonl`), hashes included, so they verify on their own.
    Prune {
        /// Only say what would be archived and removed.
        #[arg(long)]
        dry_run: bool,
    },
}

pub async fn run(
    settings: Settings,
    notes: LoadNotes,
    command: AuditCommand,
) -> Result<(), Failure> {
    let given = match &command {
        AuditCommand::Verify {
            public_key: Some(hex),
        } => Some(parse_hex(hex).ok_or_else(|| {
            Failure::Invalid("--public-key must be 64 hexadecimal characters".into())
        })?),
        _ => None,
    };
    logging::init(&settings.log, &notes);
    if let AuditCommand::PublicKey = command {
        let roots = read_roots(&settings).await?;
        println!(
            "{}",
            hex(&CheckpointKey::derive(roots.current().1).public())
        );
        return Ok(());
    }
    // Verifying reads the root (never makes it); a public key given on the line needs none.
    let trusted: Vec<[u8; 32]> = match (&command, given) {
        (AuditCommand::Verify { .. }, None) => read_roots(&settings)
            .await?
            .versions()
            .map(|(_, k)| CheckpointKey::derive(k).public())
            .collect(),
        (_, Some(given)) => vec![given],
        _ => Vec::new(),
    };
    let db = crate::serve::open_existing_database(&settings).await?;
    match command {
        AuditCommand::Checkpoint => {
            // Signing is the root's first use on an installation that has not served yet: it
            // is made then (recorded), as `mhp serve` would.
            let file = crate::root::read_file(&settings)?;
            let (_, held) =
                crate::root::open(&settings, crate::root::RootUse::Create, file).await?;
            held.record(&db).await?;
            let (version, current) = held.root.roots.current();
            let key = CheckpointKey::derive(current);
            let mut tx = db
                .operator(Access::Write)
                .await
                .context("cannot start a transaction")?;
            let n = audit::checkpoint(&mut tx, &key, version, SystemClock.now())
                .await
                .context("cannot write checkpoints")?;
            tx.commit().await.context("cannot commit")?;
            println!("{n} checkpoint(s) written");
        }
        AuditCommand::Verify { .. } => {
            let public = trusted;
            let mut tx = db
                .operator(Access::Read)
                .await
                .context("cannot start a transaction")?;
            let report = audit::verify(&mut tx, &public)
                .await
                .context("cannot read the audit log")?;
            // Back to the pool before it closes: closing waits for every connection.
            drop(tx);
            println!(
                "{} chain(s), {} event(s), {} checkpoint(s) checked; {} event(s) from before chaining",
                report.chains, report.events, report.checkpoints, report.unchained
            );
            if !report.findings.is_empty() {
                for f in &report.findings {
                    println!("FAIL {f}");
                }
                db.close().await;
                return Err(Failure::Runtime(anyhow::anyhow!(
                    "the audit log does not verify ({} finding(s))",
                    report.findings.len()
                )));
            }
            println!("ok: every chain and checkpoint verifies");
        }
        AuditCommand::Prune { dry_run } => {
            let now = SystemClock.now();
            let cutoff = now.as_millis()
                - i64::try_from(settings.audit.retention_days)
                    .unwrap_or(i64::MAX / 86_400_000)
                    .saturating_mul(86_400_000);
            let objects =
                crate::cloud::object_store(&settings, &crate::cloud::process_env()).await?;
            let mut tx = db
                .operator(Access::Write)
                .await
                .context("cannot start a transaction")?;
            let plans = audit::prune_plan(&mut tx, cutoff, now, 100_000)
                .await
                .context("cannot read the audit log")?;
            let mut total = 0;
            for plan in &plans {
                let (Some(first), Some(last)) = (plan.events.first(), plan.events.last()) else {
                    continue;
                };
                let key = mhp_storage::ObjectKey::parse(&format!(
                    "audit-archive/{}/{}-{}.jsonl",
                    plan.chain, first.chain_index, last.chain_index
                ))
                .context("archive name")?;
                println!(
                    "{} {} event(s) of chain {} (through event {}) to {}",
                    if dry_run { "would archive" } else { "archived" },
                    plan.events.len(),
                    plan.chain,
                    plan.through_index,
                    key.as_str()
                );
                if dry_run {
                    total += u64::try_from(plan.events.len()).unwrap_or(u64::MAX);
                    continue;
                }
                objects
                    .put(&key, archive_lines(&plan.events).as_bytes())
                    .await
                    .context("cannot write the archive")?;
                total += audit::prune(&mut tx, plan, now)
                    .await
                    .context("cannot remove archived events")?;
            }
            if dry_run {
                drop(tx);
            } else {
                tx.commit().await.context("cannot commit")?;
            }
            println!(
                "{} {total} event(s) older than {} days",
                if dry_run { "would remove" } else { "removed" },
                settings.audit.retention_days
            );
        }
        AuditCommand::PublicKey => {}
    }
    db.close().await;
    Ok(())
}

fn hex(bytes: &[u8]) -> String {
    mhp_domain::to_hex(bytes)
}

fn parse_hex(s: &str) -> Option<[u8; 32]> {
    let s = s.trim();
    if s.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, chunk) in s.as_bytes().chunks(2).enumerate() {
        let text = std::str::from_utf8(chunk).ok()?;
        out[i] = u8::from_str_radix(text, 16).ok()?;
    }
    Some(out)
}

/// One JSON object a line, every field of the event and its chain hashes.
fn archive_lines(events: &[audit::ArchivedEvent]) -> String {
    let mut out = String::new();
    for e in events {
        let line = serde_json::json!({
            "id": e.id,
            "at_ms": e.at_ms,
            "org_id": e.org,
            "actor": e.actor,
            "action": e.action,
            "resource_type": e.resource_type,
            "resource_id": e.resource_id,
            "outcome": e.outcome,
            "request_id": e.request_id,
            "source_ip": e.source_ip,
            "user_agent": e.user_agent,
            "detail": e.detail,
            "chain": e.chain,
            "chain_index": e.chain_index,
            "prev_hash": e.prev_hash,
            "hash": e.hash,
        });
        out.push_str(&line.to_string());
        out.push('\n');
    }
    out
}

/// Every version of the installation root (read, never made).
async fn read_roots(settings: &Settings) -> Result<mhp_crypto::Roots, Failure> {
    let file = crate::root::read_file(settings)?;
    let (_, held) = crate::root::open(settings, crate::root::RootUse::Existing, file).await?;
    Ok(held.root.roots)
}
