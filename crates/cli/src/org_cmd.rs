//! `mhp org`: moving an organisation between installations (`mhp_app::org_move`): `export`
//! writes it to a sealed transfer file and prints the key that opens it; `import` brings it
//! into this installation. Both are audited (the organisation's chain; the import in the
//! platform's too).

use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use clap::Subcommand;
use mhp_app::org_move::{self, MoveError, TransferKey};
use mhp_domain::OrgId;
use mhp_storage::Access;
use serde_json::json;

use crate::Failure;
use crate::logging;
use crate::root::RootUse;
use crate::settings::{LoadNotes, Settings};

/// `mhp org …`
#[derive(Debug, Subcommand)]
pub enum OrgCommand {
    /// Write an organisation (rows, objects, keys, audit chain) to a new transfer file for
    /// `mhp org import` on another installation, sealed with a key made for it. The key is
    /// written to --key-to, or printed in the JSON summary: keep it apart from the file. The
    /// organisation stays here (docs/runbooks/move-an-organisation.md).
    Export {
        /// The organisation: its id or its name.
        org: String,
        /// The transfer file to write (must not exist).
        #[arg(long, value_name = "FILE")]
        to: PathBuf,
        /// Write the transfer key to this new file (mode 0600) instead of printing it.
        #[arg(long, value_name = "FILE")]
        key_to: Option<PathBuf>,
    },
    /// Bring an organisation from a transfer file into this installation: refused when it
    /// exists here. People who have an account here already are linked to it; everyone signs
    /// in again.
    Import {
        /// The transfer file.
        file: PathBuf,
        /// The file holding the transfer key that `mhp org export` made.
        #[arg(long, value_name = "FILE")]
        key_file: PathBuf,
    },
}

fn failed(e: MoveError) -> Failure {
    match e {
        e @ (MoveError::WrongKey
        | MoveError::NotAKey
        | MoveError::Malformed(_)
        | MoveError::Exists(_)
        | MoveError::AuditChain(_)) => Failure::Invalid(e.to_string()),
        e => Failure::Runtime(anyhow::anyhow!("{e}")),
    }
}

/// The organisation an argument names: its id, or else its name.
async fn organisation(state: &mhp_server::AppState, named: &str) -> Result<OrgId, Failure> {
    if let Ok(id) = OrgId::parse(named) {
        return Ok(id);
    }
    let mut tx = state
        .app
        .db
        .operator(Access::Read)
        .await
        .context("cannot start a transaction")?;
    let orgs = mhp_storage::repo::orgs::list_all(&mut tx)
        .await
        .context("cannot list the organisations")?;
    orgs.into_iter()
        .find(|o| o.name.as_str() == named)
        .map(|o| o.id)
        .ok_or_else(|| Failure::Invalid(format!("no organisation has the id or name {named:?}")))
}

fn write_key(path: &Path, key: &TransferKey) -> Result<(), Failure> {
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    writeln!(file, "{}", key.to_text().expose())
        .and_then(|()| file.sync_all())
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

pub async fn run(settings: Settings, notes: LoadNotes, command: OrgCommand) -> Result<(), Failure> {
    logging::init(&settings.log, &notes);
    let scratch = settings.data_dir.join("tmp");
    std::fs::create_dir_all(&scratch).context("cannot make the scratch directory")?;
    let caller = mhp_app::Caller::cli();
    match command {
        OrgCommand::Export { org, to, key_to } => {
            let (state, roots) =
                crate::serve::open_state_with_roots(&settings, RootUse::Existing).await?;
            let org = organisation(&state, &org).await?;
            let done = org_move::export(&state.app, &roots, org, &to, &scratch, &caller).await;
            state.app.db.close().await;
            let exported = done.map_err(failed)?;
            let key = match &key_to {
                Some(path) => {
                    write_key(path, &exported.key)?;
                    None
                }
                None => Some(exported.key.to_text().expose().clone()),
            };
            println!(
                "{}",
                json!({
                    "org": exported.org.to_string(),
                    "file": to,
                    "bytes": exported.bytes,
                    "objects": exported.objects,
                    "rows": exported.rows,
                    "key_file": key_to,
                    "transfer_key": key,
                })
            );
        }
        OrgCommand::Import { file, key_file } => {
            let text = std::fs::read_to_string(&key_file)
                .with_context(|| format!("cannot read {}", key_file.display()))?;
            let key = TransferKey::parse(&text).map_err(failed)?;
            // A new installation may import before it ever served: the root is made then.
            let (state, roots) =
                crate::serve::open_state_with_roots(&settings, RootUse::Create).await?;
            let done = org_move::import(&state.app, &roots, &file, &key, &scratch, &caller).await;
            state.app.db.close().await;
            let imported = done.map_err(failed)?;
            println!(
                "{}",
                json!({
                    "org": imported.org.to_string(),
                    "rows": imported.rows,
                    "objects": imported.objects,
                    "people_linked": imported.people_linked,
                    "people_added": imported.people_added,
                    "subjects_indexed": imported.subjects_indexed,
                    "documents_indexed": imported.documents_indexed,
                })
            );
        }
    }
    Ok(())
}
