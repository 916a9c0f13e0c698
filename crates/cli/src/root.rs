//! The installation root at start-up: the key store and the master-key provider the settings
//! name, and the root they hold. `mhp serve`, `mhp worker` and `mhp demo` make the root when the
//! key store holds none (moving the root file of an older installation there, once, audited);
//! every other command only reads what exists and creates no key material.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;
use mhp_app::keys::{InstallationRoot, Keys, RootOrigin};
use mhp_domain::{Clock as _, SystemClock};
use mhp_storage::Access;
use mhp_storage::repo::audit::{self, AuditEvent};

use crate::Failure;
use crate::settings::Settings;

/// Whether a command may create key material.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RootUse {
    /// Long-running processes and `mhp demo`: the local key ring, the embedded key store and the
    /// root are made when missing.
    Create,
    /// Every other command: what is missing is an error that names it, and nothing is made.
    Existing,
}

fn runtime(e: impl std::fmt::Display) -> Failure {
    Failure::Runtime(anyhow::anyhow!("{e}"))
}

/// Opens the key store and the master-key provider the settings name.
async fn open_keys(settings: &Settings, usage: RootUse) -> Result<Arc<Keys>, Failure> {
    let master = crate::cloud::master_provider(
        settings,
        &crate::cloud::process_env(),
        usage == RootUse::Create,
    )?;
    if usage == RootUse::Existing && settings.keys.store_url.is_none() {
        let file = settings.data_dir.join("keys.sqlite");
        if !file.exists() {
            return Err(runtime(format_args!(
                "no key store at {}: `mhp serve` creates it (or set keys.store_url)",
                file.display()
            )));
        }
    }
    let url = crate::cloud::secrets(
        settings,
        std::time::Duration::ZERO,
        crate::cloud::process_env(),
    )
    .map_err(Failure::Invalid)?
    .resolve(&settings.key_store_url())
    .map_err(|e| Failure::Invalid(format!("keys.store_url: {e}")))?;
    let store = mhp_storage::keystore::KeyStore::open(url.expose())
        .await
        .context("cannot open the key store")?;
    if settings.keys.store_url.is_none() && settings.database.url.is_some() {
        tracing::warn!(
            "keys.store_url is not set: wrapped keys are kept in the data directory; several \
             instances must share one key store (a database of its own)"
        );
    }
    Ok(Arc::new(Keys::new(
        store,
        master,
        Arc::new(SystemClock),
        std::time::Duration::from_secs(settings.keys.cache_ttl_s),
    )))
}

/// The root file of an older installation (`keys.master_key_file`, `master.key` in the data
/// directory), if there is one.
#[derive(Debug)]
pub struct RootFile {
    key: Option<mhp_crypto::MasterKey>,
    path: PathBuf,
}

/// Reads the root file, if there is one. Read before anything else at start-up, so that a file
/// others may read stops the start before anything is made.
pub fn read_file(settings: &Settings) -> Result<RootFile, Failure> {
    let path = settings.master_key_path();
    let key = mhp_crypto::MasterKey::load_existing(&path).map_err(runtime)?;
    Ok(RootFile { key, path })
}

/// The key store, the master-key provider and the installation root. With [`RootUse::Create`]
/// the root is made when the key store holds none: from the root `file` of an older
/// installation when there is one, so no derived key changes, else from fresh random bytes.
/// With [`RootUse::Existing`] a root file not yet moved is read where it is.
pub async fn open(
    settings: &Settings,
    usage: RootUse,
    file: RootFile,
) -> Result<(Arc<Keys>, Held), Failure> {
    let keys = open_keys(settings, usage).await?;
    let moved_from = file.key.is_some().then_some(file.path);
    let root = match usage {
        RootUse::Create => keys
            .root_or_create(file.key.as_ref())
            .await
            .map_err(runtime)?,
        RootUse::Existing => match (keys.root().await.map_err(runtime)?, file.key) {
            (Some(root), _) => root,
            (None, Some(key)) => InstallationRoot {
                roots: mhp_crypto::Roots::single(key),
                origin: RootOrigin::Stored,
            },
            (None, None) => {
                return Err(runtime(
                    "the key store holds no installation root: `mhp serve` (or `mhp worker`) \
                     creates it",
                ));
            }
        },
    };
    Ok((keys, Held { root, moved_from }))
}

/// The root in hand, and the root file it may have been moved from.
#[derive(Debug)]
pub struct Held {
    /// The root.
    pub root: InstallationRoot,
    /// The root file read at this start, if any.
    moved_from: Option<PathBuf>,
}

impl Held {
    /// Writes the platform's audit event of a root made or moved at this start, then sets the
    /// moved file aside (`….moved`), so later starts read the key store only. An interrupted
    /// move is finished by the next start: the file still agrees with the stored root.
    pub async fn record(&self, db: &mhp_storage::Db) -> Result<(), Failure> {
        let action = match self.root.origin {
            RootOrigin::Stored => return Ok(()),
            RootOrigin::Generated => "keys.root_created",
            RootOrigin::Imported => "keys.root_moved_to_key_store",
        };
        let mut tx = db
            .operator(Access::Write)
            .await
            .context("cannot start a transaction")?;
        // A root is only ever made or moved as version 1.
        let event = AuditEvent::outside_request("system", action, "key", Some("root v1".into()));
        audit::append_as_operator(&mut tx, None, &event, SystemClock.now())
            .await
            .context("cannot write the audit event")?;
        tx.commit().await.context("cannot commit")?;
        if let (RootOrigin::Imported, Some(file)) = (self.root.origin, &self.moved_from) {
            let aside = moved_name(file);
            std::fs::rename(file, &aside).with_context(|| {
                format!(
                    "the root is in the key store; cannot move {}",
                    file.display()
                )
            })?;
            tracing::warn!(
                from = %file.display(),
                to = %aside.display(),
                "the installation root was moved into the key store; the old file is no longer \
                 read: delete it once the key store's backups hold the root"
            );
        } else {
            tracing::info!("installation root created in the key store");
        }
        Ok(())
    }
}

fn moved_name(file: &Path) -> PathBuf {
    let mut name = file.as_os_str().to_owned();
    name.push(".moved");
    PathBuf::from(name)
}
