//! `mhp keys`: the state of the key hierarchy, rotation of master and organisation keys, and
//! re-wrapping (which `mhp serve` also runs in the background). Rotations are security actions:
//! each writes an audit event (the platform's chain for the master key, the organisation's for
//! its key) before it is reported done.

use anyhow::Context as _;
use mhp_domain::{Clock as _, OrgId, OrgScope, SystemClock};
use mhp_storage::Access;
use mhp_storage::repo::audit::{self, AuditEvent};

use crate::Failure;
use crate::logging;
use crate::settings::{LoadNotes, Settings};

/// `mhp keys ...`
#[derive(Debug, clap::Subcommand)]
pub enum KeysCommand {
    /// The master-key provider, its versions, and how many keys each wrapping version wraps.
    Status,
    /// Create a new key version; new writes use it at once, existing keys are re-wrapped by
    /// the background job (or `mhp keys rewrap`), and old versions retire when unused.
    Rotate {
        /// Rotate the master key.
        #[arg(long, conflicts_with_all = ["org", "all_orgs", "root"])]
        master: bool,
        /// Add a version of the installation root: instances started from now on seal and sign
        /// audit checkpoints with it, and every version still opens and verifies; blind indexes
        /// and pseudonyms move to it with `mhp keys reindex`.
        #[arg(long, conflicts_with_all = ["org", "all_orgs"])]
        root: bool,
        /// Rotate this organisation's key.
        #[arg(long, value_name = "ORG_ID", conflicts_with = "all_orgs")]
        org: Option<String>,
        /// Rotate every organisation's key.
        #[arg(long)]
        all_orgs: bool,
    },
    /// Re-wrap every key onto the newest versions now, and retire versions nothing uses.
    Rewrap,
    /// Recompute every subject's blind indexes under the newest version of the installation
    /// root, then move the pseudonyms of de-identified views to it (restart every instance
    /// afterwards, so that they search and pseudonymise with it).
    Reindex,
}

fn runtime_err(e: impl std::fmt::Display) -> Failure {
    Failure::Runtime(anyhow::anyhow!("{e}"))
}

pub async fn run(
    settings: Settings,
    notes: LoadNotes,
    command: KeysCommand,
) -> Result<(), Failure> {
    logging::init(&settings.log, &notes);
    let state = crate::serve::open_state(&settings).await?;
    let keys = state.app.phi.keys().clone();
    match command {
        KeysCommand::Status => {
            let s = keys.status().await.map_err(runtime_err)?;
            println!("provider: {}", s.provider);
            println!(
                "master key: version {} (live: {:?})",
                s.master_current, s.master_live
            );
            match s.root {
                Some((newest, index)) => {
                    println!("installation root: version {newest}, in the key store");
                    println!("blind indexes and pseudonyms: root version {index}");
                }
                None => println!("installation root: not in the key store"),
            }
            for (by, version, n) in &s.wrapped {
                println!("wrapped by {by} v{version}: {n} key version(s)");
            }
        }
        KeysCommand::Rotate { root: true, .. } => {
            let v = keys.rotate_root().await.map_err(runtime_err)?;
            record(&state, None, "keys.rotate_root", format!("root v{v}")).await?;
            println!(
                "installation root: now version {v}; restart every instance to seal and sign with \
                 it; blind indexes and pseudonyms move to it with `mhp keys reindex`"
            );
        }
        KeysCommand::Reindex => {
            let roots = keys
                .root()
                .await
                .map_err(runtime_err)?
                .ok_or_else(|| runtime_err("the key store holds no installation root"))?
                .roots;
            let (current, key) = roots.current();
            if roots.index().0 == current {
                println!(
                    "blind indexes and pseudonyms already use root version {current}: nothing to do"
                );
            } else {
                let blind = mhp_crypto::blind::BlindIndexer::derive(key);
                let caller = mhp_app::Caller::cli();
                let orgs = crate::serve::organisations(&state).await?;
                let mut subjects = 0;
                for org in &orgs {
                    let scope = OrgScope::for_command_line(org.id);
                    subjects +=
                        mhp_app::subjects::reindex(&state.app, &scope, &caller, &blind, current)
                            .await
                            .map_err(runtime_err)?;
                }
                keys.retire_roots_below(current)
                    .await
                    .map_err(runtime_err)?;
                record(&state, None, "keys.reindex", format!("root v{current}")).await?;
                println!(
                    "recomputed the blind indexes of {subjects} subject(s) in {} organisation(s) \
                     with root version {current}; pseudonyms use it from now on; restart every \
                     instance",
                    orgs.len()
                );
            }
        }
        KeysCommand::Rotate {
            master,
            org,
            all_orgs,
            root: false,
        } => {
            let targets: Vec<OrgId> = if all_orgs {
                crate::serve::organisations(&state)
                    .await?
                    .into_iter()
                    .map(|o| o.id)
                    .collect()
            } else if let Some(org) = org {
                vec![
                    OrgId::parse(&org)
                        .map_err(|_| Failure::Invalid(format!("--org: {org:?} is not an id")))?,
                ]
            } else if master {
                Vec::new()
            } else {
                return Err(Failure::Invalid(
                    "say what to rotate: --master, --org ORG_ID or --all-orgs".into(),
                ));
            };
            if master {
                let v = keys.rotate_master().await.map_err(runtime_err)?;
                record(&state, None, "keys.rotate_master", format!("v{v}")).await?;
                println!(
                    "master key: now version {v}; existing keys are re-wrapped by `mhp keys rewrap` or the server's background job"
                );
            }
            for org in targets {
                let v = keys.rotate_org(org).await.map_err(runtime_err)?;
                record(&state, Some(org), "keys.rotate_org", format!("v{v}")).await?;
                println!("organisation {org}: key now version {v}");
            }
        }
        KeysCommand::Rewrap => {
            let mut total = mhp_app::keys::RewrapReport::default();
            loop {
                let r = keys.rewrap(500).await.map_err(runtime_err)?;
                if r == mhp_app::keys::RewrapReport::default() {
                    break;
                }
                total.org_keys_rewrapped += r.org_keys_rewrapped;
                total.root_versions_rewrapped += r.root_versions_rewrapped;
                total.subject_keys_rewrapped += r.subject_keys_rewrapped;
                total
                    .master_versions_retired
                    .extend(r.master_versions_retired);
            }
            let swept = mhp_app::keys::sweep_erased(&state.app)
                .await
                .map_err(runtime_err)?;
            println!(
                "re-wrapped {} organisation key(s) and {} subject key(s); retired master \
                 version(s) {:?}; destroyed {swept} key(s) of erased subjects; re-wrapped {} \
                 version(s) of the installation root",
                total.org_keys_rewrapped,
                total.subject_keys_rewrapped,
                total.master_versions_retired,
                total.root_versions_rewrapped
            );
        }
    }
    state.app.db.close().await;
    Ok(())
}

/// The audit event of a rotation, in the organisation's chain or the platform's.
async fn record(
    state: &mhp_server::AppState,
    org: Option<OrgId>,
    action: &'static str,
    version: String,
) -> Result<(), Failure> {
    let mut tx = state
        .app
        .db
        .operator(Access::Write)
        .await
        .context("cannot start a transaction")?;
    let event = AuditEvent::outside_request("cli", action, "key", Some(version));
    audit::append_as_operator(&mut tx, org, &event, SystemClock.now())
        .await
        .context("cannot write the audit event")?;
    tx.commit().await.context("cannot commit")?;
    Ok(())
}
