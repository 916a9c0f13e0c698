//! An instance whose every part lives under one local directory (the embedded defaults: a
//! keyring and key store, the object store, the document index and the mail outbox), over a
//! database the caller opened. For running the server in-process: the server's and the
//! workers' tests, benchmarks and tools. `mhp serve` builds its state from its settings.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use mhp_app::notify::Notifier;
use mhp_domain::Clock;
use mhp_storage::{Db, ObjectStore};

use crate::{AppParts, AppState, BuildInfo, SsoOptions};

/// Why a local instance could not be set up.
pub type LocalError = Box<dyn std::error::Error + Send + Sync>;

/// The state of an instance in `dir` over `db` (migrated by the caller), with `clock`.
/// Identity providers on this machine are allowed (loopback addresses), as an in-process
/// instance talks to providers run beside it; data keys stay cached for a minute.
pub async fn local_state(
    dir: &Path,
    db: Db,
    clock: Arc<dyn Clock>,
) -> Result<AppState, LocalError> {
    local_state_at(dir, db, clock, "http://127.0.0.1:9").await
}

/// [`local_state`] for an instance reached at `public_url` (the issuer of its tokens, the base
/// of its links), for callers that bind their listener first.
pub async fn local_state_at(
    dir: &Path,
    db: Db,
    clock: Arc<dyn Clock>,
    public_url: &str,
) -> Result<AppState, LocalError> {
    let objects = ObjectStore::local(dir.join("objects")).await?;
    let ring = mhp_crypto::envelope::LocalKeyring::open(&dir.join("keyring"))?;
    let store = mhp_storage::keystore::KeyStore::open(&format!(
        "sqlite://{}?mode=rwc",
        dir.join("keys.sqlite").display()
    ))
    .await?;
    let keys = Arc::new(mhp_app::keys::Keys::new(
        store,
        Arc::new(ring),
        clock.clone(),
        Duration::from_secs(60),
    ));
    let roots = keys.root_or_create(None).await?.roots;
    let index = mhp_index::DocumentIndex::Embedded(
        mhp_index::EmbeddedIndex::open(dir.join("index.sqlite")).await?,
    );
    let egress = crate::egress_client(mhp_egress::EgressPolicy::new(
        mhp_egress::parse_cidrs("127.0.0.0/8, ::1/128")?,
        true,
    ))?;
    Ok(AppState::new(AppParts {
        app: mhp_app::AppParts {
            keys,
            db,
            objects,
            clock,
            roots: &roots,
            notifier: Notifier::Outbox(dir.join("outbox")),
            build: BuildInfo { version: "local" },
            index,
        },
        egress,
        mail_limits: Default::default(),
        sso: SsoOptions {
            public_url: public_url.to_owned(),
            dns_server: None,
        },
    }))
}
