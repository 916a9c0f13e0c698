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
    let master_key = || {
        mhp_crypto::MasterKey::load_or_create(&settings.master_key_path())
            .map(|m| CheckpointKey::derive(&m))
            .map_err(|e| Failure::Runtime(anyhow::anyhow!("{e}")))
    };
    if let AuditCommand::PublicKey = command {
        println!("{}", hex(&master_key()?.public()));
        return Ok(());
    }
    let db = crate::serve::open_database(&settings).await?;
    match command {
        AuditCommand::Checkpoint => {
            let key = master_key()?;
            let mut tx = db
                .operator(Access::Write)
                .await
                .context("cannot start a transaction")?;
            let n = audit::checkpoint(&mut tx, &key, SystemClock.now())
                .await
                .context("cannot write checkpoints")?;
            tx.commit().await.context("cannot commit")?;
            println!("{n} checkpoint(s) written");
        }
        AuditCommand::Verify { .. } => {
            let public = match given {
                Some(k) => k,
                None => master_key()?.public(),
            };
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
