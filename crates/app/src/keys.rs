//! The key hierarchy at work: organisation and subject data keys, kept wrapped in the key
//! store (apart from the system of record), unwrapped on demand through the master-key
//! provider and cached for a short while.
//!
//! ```text
//! master key (local ring, KMS, Vault) ──wraps──▶ org/{org} v1, v2, …
//! org/{org} vN ──wraps──▶ subject/{org}/{subject} v1 ──seals──▶ identifiers, notes, raw signals
//! ```
//!
//! Rotation: `mhp keys rotate` adds a master or organisation key version; new wraps use it at
//! once, and [`Keys::rewrap`] (run in the background by `mhp serve`, or by `mhp keys rewrap`)
//! moves every wrapped key onto the newest versions, then retires the versions nothing uses.
//! Shredding destroys a subject's (or an organisation's) keys in the key store.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mhp_crypto::envelope::{
    DataKey, KeyError, MasterKeyProvider, WrapContext, WrappedKey, unwrap_with, wrap_with,
};
use mhp_crypto::seal::{self, Place, Sealer};
use mhp_domain::{Clock, OrgId, SealedBytes, Secret, SubjectId};
use mhp_storage::StorageError;
use mhp_storage::keystore::{KeyStore, WrappedRow};

/// Why a key could not be had. Never carries key material.
#[derive(Debug, thiserror::Error)]
pub enum KeysError {
    /// The key was destroyed (the subject or organisation was erased).
    #[error("the key was destroyed")]
    Shredded,
    /// The master-key provider failed or refused.
    #[error(transparent)]
    Provider(#[from] KeyError),
    /// The key store failed.
    #[error("key store: {0}")]
    Store(#[from] StorageError),
    /// A root key file disagrees with the installation root the key store holds.
    #[error(
        "the root key file differs from the installation root in the key store: two roots \
         would split the installation; move the file away"
    )]
    RootFileDiffers,
    /// A value could not be sealed, or did not open under the key its header names (altered,
    /// moved to another place, or not sealed by an organisation key).
    #[error("a value sealed with an organisation key did not seal or open")]
    Seal,
}

/// Name of an organisation's key.
pub fn org_key_id(org: OrgId) -> String {
    format!("org/{org}")
}

/// Name of a subject's key. The organisation is part of it, so a subject id named in another
/// organisation's request can never reach (or make) this organisation's key.
pub fn subject_key_id(org: OrgId, subject: SubjectId) -> String {
    format!("subject/{org}/{subject}")
}

const MASTER: &str = "master";

/// Name of the installation root in the key store.
pub const ROOT_KEY_ID: &str = "root";
/// The `org_id` column of the root's rows: it belongs to no organisation, so no erasure of one
/// reaches it.
const INSTALLATION: &str = "installation";

/// The root version blind indexes and pseudonyms use, from the root's rows (oldest first): the
/// oldest not retired (`mhp keys reindex` retires the versions below the one it moved them to).
fn index_version(rows: &[WrappedRow]) -> Option<u32> {
    rows.iter()
        .find(|r| r.retired_at_ms.is_none())
        .or(rows.last())
        .map(|r| r.version)
}

/// Where the installation root came from at this start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RootOrigin {
    /// The key store held it.
    Stored,
    /// It was made now (a new installation).
    Generated,
    /// A root file of an older installation was moved into the key store now, or had been
    /// moved by an earlier start that did not finish.
    Imported,
}

/// The installation root, unwrapped: every instance unwraps the same one, so tokens, blind
/// indexes, pseudonyms and audit checkpoints agree across instances.
#[derive(Debug)]
pub struct InstallationRoot {
    /// Every version of the root the key store holds.
    pub roots: mhp_crypto::Roots,
    /// Where it came from at this start.
    pub origin: RootOrigin,
}

/// What one re-wrap pass did.
#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RewrapReport {
    /// Organisation key versions moved onto the current master key version.
    pub org_keys_rewrapped: u64,
    /// Subject keys moved onto their organisation's current key version.
    pub subject_keys_rewrapped: u64,
    /// Versions of the installation root moved onto the current master key version.
    pub root_versions_rewrapped: u64,
    /// Master key versions retired because nothing used them any more.
    pub master_versions_retired: Vec<u32>,
}

/// Key counts by wrapping key, for `mhp keys status`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct KeyStatus {
    /// The master-key provider.
    pub provider: &'static str,
    /// The master key version new wraps use.
    pub master_current: u32,
    /// Master key versions that can still unwrap.
    pub master_live: Vec<u32>,
    /// The installation root's newest version and the one blind indexes and pseudonyms use
    /// (`None`: not made yet).
    pub root: Option<(u32, u32)>,
    /// `(wrapping key, version, keys wrapped)`.
    pub wrapped: Vec<(String, u32, i64)>,
}

/// An organisation's keys on their way to another installation ([`Keys::export_org`]).
#[derive(Debug, Default)]
pub struct OrgKeys {
    /// Every version of the organisation's key, unwrapped, with its row (dates, retirement).
    pub org: Vec<(WrappedRow, DataKey)>,
    /// Its subjects' keys, wrapped by versions of the organisation's key.
    pub subjects: Vec<WrappedRow>,
}

/// Data keys: creation, unwrapping (cached), rotation, re-wrapping and destruction.
pub struct Keys {
    store: KeyStore,
    master: Arc<dyn MasterKeyProvider>,
    clock: Arc<dyn Clock>,
    ttl: Duration,
    /// Unwrapped keys, each with its cipher ready (the AES key schedule and GHASH key made
    /// once, not on every field opened; wiped on drop like the key).
    cache: Mutex<HashMap<(String, u32), Unwrapped>>,
    /// Current version of each key, so a read needs no key store query while it is fresh.
    current: Mutex<HashMap<String, (Instant, u32)>>,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keys")
            .field("provider", &self.master.name())
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

/// An unwrapped key in the cache.
struct Unwrapped {
    at: Instant,
    key: DataKey,
    sealer: Arc<Sealer>,
}

/// Most unwrapped keys held at once; beyond it the cache starts afresh.
const CACHE_LIMIT: usize = 10_000;

impl Keys {
    /// Keys in `store`, wrapped by `master`; unwrapped keys are kept in memory for `ttl` (so a
    /// key destroyed by another instance stops opening within `ttl`).
    pub fn new(
        store: KeyStore,
        master: Arc<dyn MasterKeyProvider>,
        clock: Arc<dyn Clock>,
        ttl: Duration,
    ) -> Self {
        Self {
            store,
            master,
            clock,
            ttl,
            cache: Mutex::default(),
            current: Mutex::default(),
        }
    }

    /// The master-key provider that wraps the keys (backups wrap theirs with it too).
    pub fn provider(&self) -> &Arc<dyn MasterKeyProvider> {
        &self.master
    }

    /// The key store.
    pub fn store(&self) -> &KeyStore {
        &self.store
    }

    /// What `take` picks from a fresh cache entry of the key version.
    fn cached_with<T>(
        &self,
        key_id: &str,
        version: u32,
        take: impl FnOnce(&Unwrapped) -> T,
    ) -> Option<T> {
        let cache = self.cache.lock().ok()?;
        let u = cache.get(&(key_id.to_owned(), version))?;
        (u.at.elapsed() < self.ttl).then(|| take(u))
    }

    fn cached(&self, key_id: &str, version: u32) -> Option<DataKey> {
        self.cached_with(key_id, version, |u| u.key.clone())
    }

    fn cached_sealer(&self, key_id: &str, version: u32) -> Option<Arc<Sealer>> {
        self.cached_with(key_id, version, |u| Arc::clone(&u.sealer))
    }

    fn remember(&self, key_id: &str, version: u32, key: &DataKey) {
        if let Ok(mut cache) = self.cache.lock() {
            if cache.len() >= CACHE_LIMIT {
                cache.clear();
            }
            cache.insert(
                (key_id.to_owned(), version),
                Unwrapped {
                    at: Instant::now(),
                    key: key.clone(),
                    sealer: Arc::new(Sealer::with_data_key(key, version)),
                },
            );
        }
    }

    fn forget(&self, key_id: &str) {
        if let Ok(mut cache) = self.cache.lock() {
            cache.retain(|(id, _), _| id != key_id);
        }
        if let Ok(mut current) = self.current.lock() {
            current.remove(key_id);
        }
    }

    /// The current version of a key: from memory while fresh, else from the store.
    async fn current_version(&self, key_id: &str) -> Result<Option<u32>, KeysError> {
        if let Ok(current) = self.current.lock()
            && let Some((at, v)) = current.get(key_id)
            && at.elapsed() < self.ttl
        {
            return Ok(Some(*v));
        }
        let row = self.store.current(key_id).await?;
        let version = row.as_ref().map(|r| r.version);
        if let Some(row) = row {
            self.unwrap_row(&row).await?;
            self.note_current(key_id, row.version);
        }
        Ok(version)
    }

    fn note_current(&self, key_id: &str, version: u32) {
        if let Ok(mut current) = self.current.lock() {
            if current.len() >= CACHE_LIMIT {
                current.clear();
            }
            current.insert(key_id.to_owned(), (Instant::now(), version));
        }
    }

    /// Unwraps a stored key version (through its organisation key for subject keys).
    async fn unwrap_row(&self, row: &WrappedRow) -> Result<DataKey, KeysError> {
        if let Some(k) = self.cached(&row.key_id, row.version) {
            return Ok(k);
        }
        let context = WrapContext {
            key_id: row.key_id.clone(),
            version: row.version,
        };
        let key = if row.wrapped_by == MASTER {
            let wrapped = WrappedKey {
                wrapper_version: row.wrapper_version,
                bytes: row.wrapped.clone(),
            };
            self.master.unwrap(&wrapped, &context).await?
        } else {
            let wrapping = self
                .version_of(&row.wrapped_by, row.wrapper_version)
                .await?;
            unwrap_with(&wrapping, &row.wrapped, &context)?
        };
        self.remember(&row.key_id, row.version, &key);
        Ok(key)
    }

    async fn version_of(&self, key_id: &str, version: u32) -> Result<DataKey, KeysError> {
        if let Some(k) = self.cached(key_id, version) {
            return Ok(k);
        }
        let row = match self.store.get(key_id, version).await {
            Err(StorageError::NotFound { .. }) => return Err(KeysError::Shredded),
            other => other?,
        };
        Box::pin(self.unwrap_row(&row)).await
    }

    /// Wraps a fresh key version of `key_id`: by the master key for organisation keys, by the
    /// organisation's current key for subject keys.
    async fn create(
        &self,
        key_id: &str,
        version: u32,
        org: OrgId,
        parent: Option<&str>,
    ) -> Result<(u32, DataKey), KeysError> {
        let key = DataKey::generate()?;
        let context = WrapContext {
            key_id: key_id.to_owned(),
            version,
        };
        let (wrapped_by, wrapper_version, wrapped) = match parent {
            None => {
                // Another process may have rotated the master key since we looked.
                self.master.refresh().await?;
                let w = self.master.wrap(&key, &context).await?;
                (MASTER.to_owned(), w.wrapper_version, w.bytes)
            }
            Some(parent) => {
                let (pv, pk) = Box::pin(self.current_org(org)).await?;
                (parent.to_owned(), pv, wrap_with(&pk, &key, &context)?)
            }
        };
        let row = WrappedRow {
            key_id: key_id.to_owned(),
            version,
            org_id: org.to_string(),
            wrapped_by,
            wrapper_version,
            wrapped,
            retired_at_ms: None,
            created_at_ms: self.clock.now().as_millis(),
        };
        match self.store.insert(&row).await {
            Ok(()) => {
                self.remember(key_id, version, &key);
                self.note_current(key_id, version);
                Ok((version, key))
            }
            // Another request made the same version first: use theirs.
            Err(StorageError::Conflict { .. }) => {
                let theirs = self.store.get(key_id, version).await?;
                Ok((version, self.unwrap_row(&theirs).await?))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// The organisation's current key, made on first use.
    pub async fn current_org(&self, org: OrgId) -> Result<(u32, DataKey), KeysError> {
        let id = org_key_id(org);
        match self.current_version(&id).await? {
            Some(v) => Ok((v, self.version_of(&id, v).await?)),
            None => {
                let next = self.store.highest_version(&id).await? + 1;
                self.create(&id, next, org, None).await
            }
        }
    }

    /// One version of the organisation's key, to open what it sealed (`Shredded` once the
    /// organisation's keys were destroyed).
    pub async fn org_version(&self, org: OrgId, version: u32) -> Result<DataKey, KeysError> {
        self.version_of(&org_key_id(org), version).await
    }

    /// Seals `bytes` for `place` with the organisation's current key; the sealed value's header
    /// names the key version, so it opens after rotation (artifacts, tenant-supplied secrets).
    pub async fn seal_for_org(
        &self,
        bytes: &[u8],
        place: &Place<'_>,
    ) -> Result<SealedBytes, KeysError> {
        let org = place.org.ok_or(KeysError::Seal)?;
        let (version, data_key) = self.current_org(org).await?;
        Sealer::with_data_key(&data_key, version)
            .seal(bytes, place)
            .map_err(|_| KeysError::Seal)
    }

    /// Opens what [`Keys::seal_for_org`] sealed for `place`.
    pub async fn open_for_org(
        &self,
        sealed: &SealedBytes,
        place: &Place<'_>,
    ) -> Result<Secret<Vec<u8>>, KeysError> {
        let org = place.org.ok_or(KeysError::Seal)?;
        let Some((seal::FORMAT_DATA_KEY, version)) = seal::header(sealed) else {
            return Err(KeysError::Seal);
        };
        let data_key = self.org_version(org, version).await?;
        Sealer::with_data_key(&data_key, version)
            .open(sealed, place)
            .map_err(|_| KeysError::Seal)
    }

    /// The subject's current key, made on first use (when the subject is created).
    pub async fn subject_for_write(
        &self,
        org: OrgId,
        subject: SubjectId,
    ) -> Result<(u32, DataKey), KeysError> {
        let id = subject_key_id(org, subject);
        match self.current_version(&id).await? {
            Some(v) => Ok((v, self.version_of(&id, v).await?)),
            None => {
                let parent = org_key_id(org);
                self.create(&id, 1, org, Some(&parent)).await
            }
        }
    }

    /// The subject's current key as a ready cipher (shared while the key is cached), or `None`
    /// when it has none: it was destroyed, or the subject's data predates envelope encryption.
    pub async fn subject_sealer_for_read(
        &self,
        org: OrgId,
        subject: SubjectId,
    ) -> Result<Option<(u32, Arc<Sealer>)>, KeysError> {
        let id = subject_key_id(org, subject);
        let Some(v) = self.current_version(&id).await? else {
            return Ok(None);
        };
        if let Some(sealer) = self.cached_sealer(&id, v) {
            return Ok(Some((v, sealer)));
        }
        match self.version_of(&id, v).await {
            Ok(k) => Ok(Some((v, Arc::new(Sealer::with_data_key(&k, v))))),
            Err(KeysError::Shredded) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// One version of a subject's key, to open what it sealed.
    /// Destroys a subject's key: everything sealed with it is unreadable from now on, in the
    /// database and in every backup of it.
    pub async fn shred_subject(&self, org: OrgId, subject: SubjectId) -> Result<u64, KeysError> {
        let id = subject_key_id(org, subject);
        let n = self.store.destroy(&id).await?;
        self.forget(&id);
        Ok(n)
    }

    /// Destroys every key of an organisation (the customer has left).
    pub async fn shred_org(&self, org: OrgId) -> Result<u64, KeysError> {
        let n = self.store.destroy_org(&org.to_string()).await?;
        self.forget_all();
        Ok(n)
    }

    /// One organisation's keys, to move it to another installation ([`crate::org_move`]):
    /// every version of its own key unwrapped, its subjects' keys as they are wrapped by them.
    pub async fn export_org(&self, org: OrgId) -> Result<OrgKeys, KeysError> {
        let own = org_key_id(org);
        let subjects = format!("subject/{org}/");
        let mut out = OrgKeys::default();
        for row in self.store.of_org(&org.to_string()).await? {
            if row.key_id == own && row.wrapped_by == MASTER {
                let key = self.unwrap_row(&row).await?;
                out.org.push((row, key));
            } else if row.key_id.starts_with(&subjects) && row.wrapped_by == own {
                out.subjects.push(row);
            } else {
                return Err(KeysError::Store(StorageError::Corrupt {
                    what: "a key of the organisation that is neither its own nor a subject's",
                }));
            }
        }
        Ok(out)
    }

    /// Stores an organisation's keys brought from another installation: its own versions
    /// wrapped by this installation's master key, its subjects' as they came (their wrapping
    /// key came with them). Refused when the key store holds any key of the organisation; on
    /// failure, what was stored is destroyed again.
    pub async fn import_org(&self, org: OrgId, keys: &OrgKeys) -> Result<(), KeysError> {
        let org_text = org.to_string();
        if !self.store.of_org(&org_text).await?.is_empty() {
            return Err(KeysError::Store(StorageError::Conflict {
                entity: "organisation key",
            }));
        }
        let own = org_key_id(org);
        let subjects = format!("subject/{org}/");
        let stored = async {
            self.master.refresh().await?;
            for (row, key) in &keys.org {
                if row.key_id != own {
                    return Err(KeysError::Seal);
                }
                let context = WrapContext {
                    key_id: own.clone(),
                    version: row.version,
                };
                let w = self.master.wrap(key, &context).await?;
                self.store
                    .insert(&WrappedRow {
                        key_id: own.clone(),
                        version: row.version,
                        org_id: org_text.clone(),
                        wrapped_by: MASTER.to_owned(),
                        wrapper_version: w.wrapper_version,
                        wrapped: w.bytes,
                        retired_at_ms: row.retired_at_ms,
                        created_at_ms: row.created_at_ms,
                    })
                    .await?;
            }
            for row in &keys.subjects {
                if !row.key_id.starts_with(&subjects) || row.wrapped_by != own {
                    return Err(KeysError::Seal);
                }
                self.store
                    .insert(&WrappedRow {
                        org_id: org_text.clone(),
                        ..row.clone()
                    })
                    .await?;
            }
            Ok(())
        }
        .await;
        if stored.is_err() {
            self.store.destroy_org(&org_text).await?;
            self.forget_all();
        }
        stored
    }

    /// Destroys the keys of an organisation whose import did not finish.
    pub async fn abandon_import(&self, org: OrgId) -> Result<(), KeysError> {
        self.store.destroy_org(&org.to_string()).await?;
        self.forget_all();
        Ok(())
    }

    fn forget_all(&self) {
        if let Ok(mut cache) = self.cache.lock() {
            cache.clear();
        }
        if let Ok(mut current) = self.current.lock() {
            current.clear();
        }
    }

    /// The installation root held by the key store (every version), or `None` when it holds
    /// none. Creates nothing.
    pub async fn root(&self) -> Result<Option<InstallationRoot>, KeysError> {
        let rows = self.store.versions(ROOT_KEY_ID).await?;
        let Some(index) = index_version(&rows) else {
            return Ok(None);
        };
        let mut versions = std::collections::BTreeMap::new();
        for row in &rows {
            let key = self.unwrap_row(row).await?;
            versions.insert(row.version, mhp_crypto::MasterKey::from_bytes(key.expose()));
        }
        let roots = mhp_crypto::Roots::new(versions, index)
            .ok_or(KeysError::Store(StorageError::NotFound { entity: "key" }))?;
        Ok(Some(InstallationRoot {
            roots,
            origin: RootOrigin::Stored,
        }))
    }

    /// The installation root, made when the key store holds none: from `file` (the root file of
    /// an installation older than the key store's root, moved without changing any derived
    /// key) or from fresh random bytes. Wrapped by the master-key provider, so every instance
    /// that shares the key store and the provider unwraps the same root. Two instances starting
    /// at once agree: the second one's insert conflicts and it takes the first one's root.
    ///
    /// A `file` that is not the stored root's first version is refused: two roots would split
    /// the installation.
    pub async fn root_or_create(
        &self,
        file: Option<&mhp_crypto::MasterKey>,
    ) -> Result<InstallationRoot, KeysError> {
        if let Some(stored) = self.root().await? {
            return Self::agree(stored, file);
        }
        let (key, origin) = match file {
            Some(f) => (
                mhp_crypto::MasterKey::from_bytes(f.expose()),
                RootOrigin::Imported,
            ),
            None => (
                mhp_crypto::MasterKey::generate().map_err(|_| KeyError::Random)?,
                RootOrigin::Generated,
            ),
        };
        match self.insert_root(&key, 1).await {
            Ok(()) => Ok(InstallationRoot {
                roots: mhp_crypto::Roots::single(key),
                origin,
            }),
            // Another instance made it first: theirs is the installation's.
            Err(KeysError::Store(StorageError::Conflict { .. })) => match self.root().await? {
                Some(theirs) => Self::agree(theirs, file),
                None => Err(KeysError::Store(StorageError::NotFound { entity: "key" })),
            },
            Err(e) => Err(e),
        }
    }

    /// Wraps `key` as version `version` of the root and stores it (a conflict when that version
    /// exists).
    async fn insert_root(
        &self,
        key: &mhp_crypto::MasterKey,
        version: u32,
    ) -> Result<(), KeysError> {
        let bytes = DataKey::from_slice(key.expose()).ok_or(KeyError::Random)?;
        let context = WrapContext {
            key_id: ROOT_KEY_ID.to_owned(),
            version,
        };
        self.master.refresh().await?;
        let w = self.master.wrap(&bytes, &context).await?;
        let row = WrappedRow {
            key_id: ROOT_KEY_ID.to_owned(),
            version,
            org_id: INSTALLATION.to_owned(),
            wrapped_by: MASTER.to_owned(),
            wrapper_version: w.wrapper_version,
            wrapped: w.bytes,
            retired_at_ms: None,
            created_at_ms: self.clock.now().as_millis(),
        };
        Ok(self.store.insert(&row).await?)
    }

    /// A new version of the installation root, from fresh random bytes: instances started from
    /// now on seal and sign with it; blind indexes and pseudonyms stay on their version until
    /// [`Keys::retire_roots_below`] (after `mhp keys reindex` recomputed the blind indexes).
    pub async fn rotate_root(&self) -> Result<u32, KeysError> {
        let next = self.store.highest_version(ROOT_KEY_ID).await? + 1;
        let key = mhp_crypto::MasterKey::generate().map_err(|_| KeyError::Random)?;
        self.insert_root(&key, next).await?;
        Ok(next)
    }

    /// Retires the root's versions below `version` for blind indexes and pseudonyms (they
    /// still open what they sealed and verify what they signed).
    pub async fn retire_roots_below(&self, version: u32) -> Result<(), KeysError> {
        self.store
            .retire_below(ROOT_KEY_ID, version, self.clock.now().as_millis())
            .await?;
        Ok(())
    }

    /// The stored root, checked against a root file that claims to be its first version.
    fn agree(
        mut stored: InstallationRoot,
        file: Option<&mhp_crypto::MasterKey>,
    ) -> Result<InstallationRoot, KeysError> {
        if let Some(file) = file {
            let first = stored
                .roots
                .versions()
                .find(|(v, _)| *v == 1)
                .map(|(_, k)| k);
            if !first.is_some_and(|k| file.same_as(k)) {
                return Err(KeysError::RootFileDiffers);
            }
            stored.origin = RootOrigin::Imported;
        }
        Ok(stored)
    }

    /// A new master key version; new organisation keys are wrapped with it at once, existing
    /// ones by the next re-wrap pass.
    pub async fn rotate_master(&self) -> Result<u32, KeysError> {
        Ok(self.master.rotate().await?)
    }

    /// A new version of the organisation's key; new subject keys are wrapped with it at once,
    /// existing ones by the next re-wrap pass. Older versions are retired (they still unwrap).
    pub async fn rotate_org(&self, org: OrgId) -> Result<u32, KeysError> {
        let id = org_key_id(org);
        let next = self.store.highest_version(&id).await? + 1;
        let (version, _) = self.create(&id, next, org, None).await?;
        self.store
            .retire_below(&id, version, self.clock.now().as_millis())
            .await?;
        self.note_current(&id, version);
        Ok(version)
    }

    /// One re-wrap pass over at most `batch` keys of each kind: organisation keys onto the
    /// current master version, subject keys onto their organisation's current version; then
    /// master versions that wrap nothing are retired.
    pub async fn rewrap(&self, batch: i64) -> Result<RewrapReport, KeysError> {
        let mut report = RewrapReport::default();
        self.master.refresh().await?;
        let master_now = self.master.current_version();
        for row in self
            .store
            .wrapped_by_other_than(MASTER, master_now, batch)
            .await?
        {
            let key = self.unwrap_row(&row).await?;
            let context = WrapContext {
                key_id: row.key_id.clone(),
                version: row.version,
            };
            let w = self.master.wrap(&key, &context).await?;
            if self.store.rewrap(&row, w.wrapper_version, &w.bytes).await? {
                if row.key_id == ROOT_KEY_ID {
                    report.root_versions_rewrapped += 1;
                } else {
                    report.org_keys_rewrapped += 1;
                }
            }
        }
        for org_row in self.store.org_keys().await? {
            if org_row.retired_at_ms.is_some() {
                continue;
            }
            let org_key = self.unwrap_row(&org_row).await?;
            for row in self
                .store
                .wrapped_by_other_than(&org_row.key_id, org_row.version, batch)
                .await?
            {
                let key = self.unwrap_row(&row).await?;
                let context = WrapContext {
                    key_id: row.key_id.clone(),
                    version: row.version,
                };
                let bytes = wrap_with(&org_key, &key, &context)?;
                if self.store.rewrap(&row, org_row.version, &bytes).await? {
                    report.subject_keys_rewrapped += 1;
                }
            }
        }
        let used: Vec<u32> = self
            .store
            .wrapper_use()
            .await?
            .into_iter()
            .filter(|u| u.wrapped_by == MASTER)
            .map(|u| u.wrapper_version)
            .collect();
        for v in self.master.live_versions() {
            if v != self.master.current_version() && !used.contains(&v) {
                match self.master.retire(v).await {
                    Ok(()) => report.master_versions_retired.push(v),
                    // Providers that manage their own versions (KMS) retire nothing.
                    Err(KeyError::Unsupported(_)) => {}
                    Err(e) => return Err(e.into()),
                }
            }
        }
        Ok(report)
    }

    /// Counts for `mhp keys status`.
    pub async fn status(&self) -> Result<KeyStatus, KeysError> {
        self.master.refresh().await?;
        Ok(KeyStatus {
            provider: self.master.name(),
            master_current: self.master.current_version(),
            master_live: self.master.live_versions(),
            root: {
                let rows = self.store.versions(ROOT_KEY_ID).await?;
                rows.last()
                    .zip(index_version(&rows))
                    .map(|(newest, index)| (newest.version, index))
            },
            wrapped: self
                .store
                .wrapper_use()
                .await?
                .into_iter()
                .map(|u| (u.wrapped_by, u.wrapper_version, u.keys))
                .collect(),
        })
    }
}

/// Destroys the keys of erased subjects that an interrupted erasure left in the key store.
/// Returns how many key versions it destroyed.
pub async fn sweep_erased(app: &crate::App) -> Result<u64, crate::AppError> {
    use mhp_storage::Access;
    use mhp_storage::repo::{orgs, subjects};
    let orgs = {
        let mut tx = app.db.operator(Access::Read).await?;
        orgs::list_all(&mut tx).await?
    };
    let mut destroyed = 0;
    for org in orgs {
        let scope =
            mhp_domain::OrgScope::for_operator(org.id, "destroying the keys of erased subjects");
        let erased = {
            let mut tx = app.db.tenant(&scope, Access::Read).await?;
            subjects::erased_ids(&mut tx).await?
        };
        for subject in erased {
            destroyed += app.phi.keys().shred_subject(org.id, subject).await?;
        }
    }
    Ok(destroyed)
}

/// The key upkeep of `mhp serve`: every `every`, a re-wrap pass and a sweep of erased
/// subjects' keys, until `stop` resolves. Errors are logged (never with key material) and
/// retried on the next tick.
pub async fn run_upkeep(
    app: crate::App,
    every: Duration,
    stop: impl std::future::Future<Output = ()>,
) {
    let mut stop = std::pin::pin!(stop);
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = &mut stop => return,
            _ = tick.tick() => {}
        }
        match app.phi.keys().rewrap(500).await {
            Ok(r) if r == RewrapReport::default() => {}
            Ok(r) => tracing::info!(
                org_keys = r.org_keys_rewrapped,
                root_versions = r.root_versions_rewrapped,
                subject_keys = r.subject_keys_rewrapped,
                retired = ?r.master_versions_retired,
                "keys re-wrapped"
            ),
            Err(e) => tracing::warn!(error = %e, "key re-wrap pass failed"),
        }
        match sweep_erased(&app).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(keys = n, "keys of erased subjects destroyed"),
            Err(e) => tracing::warn!(error = %e, "erasure sweep failed"),
        }
    }
}
