//! Backups of an installation, their verification, restore and retention
//! (`docs/design/backup.md`).
//!
//! A backup is written to a destination (an [`ObjectStore`]: a directory, or S3) as
//!
//! ```text
//! backups/<id>/parts/<file>.<n>   the database copy in parts of 64 MiB, each sealed
//! backups/<id>/manifest.sig       the manifest's MAC (and, for data backups, its signature)
//! backups/<id>/manifest.json      what the backup holds; written last: no manifest, no backup
//! blobs/<sha256>                  each object of the object store, sealed, shared by backups
//! ```
//!
//! Every backup has a data key of its own, generated for it and wrapped by the installation's
//! master-key provider (bound to `backup/<id>`); parts and blobs are sealed with it
//! (AES-256-GCM, associated data naming the backup, file and part, or the blob's digest), so a
//! part moved to another place or backup does not open. Objects are copied incrementally: a
//! blob already in the destination under a digest the latest backup lists is not copied again;
//! the manifest then carries the wrapped key that sealed it. The manifest records the SHA-256 of
//! every part and object, the rows of every table and the heads of the audit chains; it is
//! authenticated by a MAC under the backup's key and, for data backups, signed with an Ed25519
//! key derived from the installation root. A backup altered, truncated or mixed with another is
//! refused by [`Backups::verify`] and [`Backups::restore`], naming what does not match.
//!
//! The key store is backed up apart ([`Kind::KeyStore`]), to a destination and with a retention
//! of its own: the trade-off with erasure by crypto-shredding is in the design note.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use mhp_crypto::Roots;
use mhp_crypto::checkpoint::CheckpointKey;
use mhp_crypto::envelope::{DataKey, KeyError, MasterKeyProvider, WrapContext, WrappedKey};
use mhp_crypto::seal::{Place, Sealer};
use mhp_domain::{Clock, SealedBytes, from_hex, to_hex};
use mhp_storage::keystore::KeyStore;
use mhp_storage::snapshot::Inventory;
use mhp_storage::{Db, ObjectKey, ObjectStore, StorageError};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

/// The format of everything this module writes.
pub const FORMAT: &str = "mhp-backup-1";
/// The database copy is cut into parts of this size, so that no object is larger.
const PART_BYTES: usize = 64 << 20;
/// Unreferenced blobs and unfinished backups younger than this are left alone by
/// [`Backups::prune`]: a backup being written references its blobs only at its end.
const GRACE_MS: i64 = 6 * 60 * 60 * 1000;
const MAC_PURPOSE: &str = "backup manifest";

/// What is backed up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// The system of record and the object store.
    Data,
    /// The key store (wrapped keys and the installation root).
    KeyStore,
}

impl Kind {
    fn file(self) -> &'static str {
        match self {
            Kind::Data => "mhp.sqlite",
            Kind::KeyStore => "keys.sqlite",
        }
    }
}

/// A data key wrapped by the master-key provider, as a manifest carries it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestKey {
    /// The provider's version that wrapped it.
    pub wrapper_version: u32,
    /// The wrapped bytes, hex.
    pub wrapped: String,
}

/// One part of the database copy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Part {
    /// Its number, from 0.
    pub index: u32,
    /// Its length in bytes.
    pub size: u64,
    /// SHA-256 of its bytes, hex.
    pub sha256: String,
}

/// One object of the object store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectEntry {
    /// Its key in the object store.
    pub key: String,
    /// Its length in bytes.
    pub size: u64,
    /// SHA-256 of its bytes, hex: the blob's name.
    pub sha256: String,
    /// The backup whose key sealed the blob (this one, or an earlier one for an object that
    /// did not change).
    pub sealed_by: String,
}

/// What a backup holds. Written last; its presence makes the backup complete.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// [`FORMAT`].
    pub format: String,
    /// `YYYYMMDDTHHMMSSZ-xxxxxxxx`: sorts by time.
    pub id: String,
    /// What it holds.
    pub kind: Kind,
    /// When the copy was taken (ms since the epoch).
    pub taken_at_ms: i64,
    /// When the backup was complete.
    pub completed_at_ms: i64,
    /// The MHP version that wrote it.
    pub mhp_version: String,
    /// The database engine of the copy (`sqlite`).
    pub backend: String,
    /// The master-key provider that wrapped the keys (`local`, `aws-kms`, `vault-transit`).
    pub provider: String,
    /// The data keys its parts and blobs are sealed with, by the backup that made each.
    pub keys: BTreeMap<String, ManifestKey>,
    /// The database copy.
    pub parts: Vec<Part>,
    /// The objects (data backups).
    pub objects: Vec<ObjectEntry>,
    /// Rows of every table in the copy.
    pub rows: BTreeMap<String, i64>,
    /// The last link of every audit chain in the copy: chain, index, hash.
    pub audit_heads: Vec<(String, i64, String)>,
    /// When the newest audit event of the copy was written: how old the newest write a
    /// restore brings back is (the recovery point).
    pub newest_write_ms: Option<i64>,
}

impl Manifest {
    /// Bytes backed up: the copy's parts and the objects.
    pub fn size(&self) -> u64 {
        self.parts.iter().map(|p| p.size).sum::<u64>()
            + self.objects.iter().map(|o| o.size).sum::<u64>()
    }
}

/// The manifest's authentication, stored beside it.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct ManifestSeal {
    /// HMAC-SHA256 of the manifest's bytes under the backup's own data key, hex.
    mac: String,
    /// The installation root version whose backup key signed it (data backups).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    root_version: Option<u32>,
    /// Ed25519 signature of the manifest's bytes, hex (data backups).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    signature: Option<String>,
}

/// Why a backup could not be made, checked or restored. Names what failed, never content.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// The destination, the database or the object store failed.
    #[error("{0}")]
    Storage(#[from] StorageError),
    /// The key provider could not wrap or unwrap a backup key.
    #[error("backup key: {0}")]
    Keys(#[from] KeyError),
    /// A local file could not be read or written.
    #[error("{what}: {source}")]
    Io {
        /// Which file, in fixed words or its path.
        what: String,
        /// What the system said.
        source: std::io::Error,
    },
    /// No complete backup with that id.
    #[error("no backup {0} in the destination")]
    NotFound(String),
    /// The backup does not verify: altered, truncated, or not what its manifest says.
    #[error("backup {id} does not verify: {what}")]
    Damaged {
        /// The backup.
        id: String,
        /// What does not match.
        what: String,
    },
    /// What was asked cannot be done (an id that is not one, a target that is not empty).
    #[error("{0}")]
    Invalid(String),
}

impl BackupError {
    fn damaged(id: &str, what: impl Into<String>) -> Self {
        Self::Damaged {
            id: id.to_owned(),
            what: what.into(),
        }
    }
}

/// How many backups [`Backups::prune`] keeps: the newest of each of the last `daily` days,
/// `weekly` weeks (from Monday) and `monthly` months that have one, and always the newest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Retention {
    /// Days.
    pub daily: u32,
    /// Weeks.
    pub weekly: u32,
    /// Months.
    pub monthly: u32,
}

impl Default for Retention {
    fn default() -> Self {
        Self {
            daily: 7,
            weekly: 4,
            monthly: 12,
        }
    }
}

/// What [`Backups::create_data`] and [`Backups::create_key_store`] did.
#[derive(Debug, Clone, Serialize)]
pub struct Created {
    /// The manifest written.
    pub manifest: Manifest,
    /// Objects copied now.
    pub objects_copied: u64,
    /// Objects already in the destination, not copied again.
    pub objects_reused: u64,
    /// Bytes written to the destination (sealed).
    pub bytes_written: u64,
}

/// What [`Backups::verify`] checked.
#[derive(Debug, Clone, Serialize)]
pub struct Verified {
    /// The backup.
    pub id: String,
    /// Parts opened and matched.
    pub parts: u64,
    /// Objects opened and matched.
    pub objects: u64,
    /// Bytes checked.
    pub bytes: u64,
}

/// What [`Backups::restore`] wrote and found.
#[derive(Debug, Clone, Serialize)]
pub struct Restored {
    /// The backup.
    pub id: String,
    /// The database file written.
    pub database: PathBuf,
    /// Objects written.
    pub objects: u64,
    /// Rows of the restored database, equal to the manifest's.
    pub rows: i64,
    /// Audit events verified in the restored database (data backups).
    pub audit_events: usize,
    /// The manifest's newest write.
    pub newest_write_ms: Option<i64>,
}

/// What [`Backups::prune`] removed and kept.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Pruned {
    /// Backups kept.
    pub kept: Vec<String>,
    /// Backups removed.
    pub removed: Vec<String>,
    /// Unfinished backups removed (parts without a manifest, older than the grace period).
    pub unfinished_removed: u64,
    /// Blobs no kept backup lists, removed.
    pub blobs_removed: u64,
}

/// Where restored files go.
#[derive(Debug)]
pub struct RestoreTarget {
    /// The database file to write (must not exist).
    pub database: PathBuf,
    /// The object store to write objects into (data backups).
    pub objects: Option<ObjectStore>,
    /// The public keys of the installation root's versions, to verify the restored audit log
    /// (data backups).
    pub audit_public_keys: Vec<[u8; 32]>,
}

/// Backups in one destination, made and read with the installation's key provider.
#[derive(Debug, Clone)]
pub struct Backups {
    /// Where backups are.
    pub destination: ObjectStore,
    /// Wraps and unwraps backup keys.
    pub provider: Arc<dyn MasterKeyProvider>,
    /// The installation root: signs data backups' manifests and verifies them.
    pub roots: Option<Arc<Roots>>,
    /// The time source.
    pub clock: Arc<dyn Clock>,
    /// This build's version, recorded in manifests.
    pub mhp_version: String,
}

/// Checks a backup id as [`new_id`] makes them: `YYYYMMDDTHHMMSSZ-` and 8 hex digits.
pub fn check_id(id: &str) -> Result<(), BackupError> {
    let b = id.as_bytes();
    let ok = b.len() == 25
        && b[..8].iter().all(u8::is_ascii_digit)
        && b[8] == b'T'
        && b[9..15].iter().all(u8::is_ascii_digit)
        && b[15] == b'Z'
        && b[16] == b'-'
        && b[17..]
            .iter()
            .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(c));
    if ok {
        Ok(())
    } else {
        Err(BackupError::Invalid(
            "a backup id looks like 20261206T181500Z-0a1b2c3d".to_owned(),
        ))
    }
}

/// Orders backups by when they were taken: ids name the second only, and two backups of one
/// second (a scheduled one beside a command, or two commands) would sort by their random
/// suffix, making "the latest" a coin toss.
fn oldest_first(backups: &mut [Manifest]) {
    backups.sort_by_key(|m| (m.taken_at_ms, m.completed_at_ms, m.id.clone()));
}

fn new_id(now_ms: i64) -> String {
    let at = chrono::DateTime::from_timestamp_millis(now_ms).unwrap_or_default();
    let random = uuid::Uuid::new_v4().simple().to_string();
    format!("{}-{}", at.format("%Y%m%dT%H%M%SZ"), &random[..8])
}

fn key(text: &str) -> Result<ObjectKey, BackupError> {
    ObjectKey::parse(text).map_err(BackupError::from)
}

fn manifest_key(id: &str) -> Result<ObjectKey, BackupError> {
    key(&format!("backups/{id}/manifest.json"))
}

fn seal_key(id: &str) -> Result<ObjectKey, BackupError> {
    key(&format!("backups/{id}/manifest.sig"))
}

fn part_key(id: &str, kind: Kind, index: u32) -> Result<ObjectKey, BackupError> {
    key(&format!("backups/{id}/parts/{}.{index:05}", kind.file()))
}

fn blob_key(sha256: &str) -> Result<ObjectKey, BackupError> {
    key(&format!("blobs/{sha256}"))
}

fn wrap_context(id: &str) -> WrapContext {
    WrapContext {
        key_id: format!("backup/{id}"),
        version: 1,
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    to_hex(&Sha256::digest(bytes))
}

fn part_place<'a>(column: &'a str, row: &'a str) -> Place<'a> {
    Place {
        org: None,
        table: "backup",
        column,
        row,
    }
}

fn blob_place(sha256: &str) -> Place<'_> {
    Place {
        org: None,
        table: "backup-blob",
        column: "",
        row: sha256,
    }
}

/// Seals off the async threads: parts are up to 64 MiB.
async fn seal(
    key: &DataKey,
    plain: Vec<u8>,
    column: String,
    row: String,
) -> Result<Vec<u8>, BackupError> {
    let key = key.clone();
    tokio::task::spawn_blocking(move || {
        Sealer::with_data_key(&key, 1)
            .seal(&plain, &part_place(&column, &row))
            .map(SealedBytes::into_bytes)
    })
    .await
    .map_err(|e| BackupError::Invalid(format!("sealing stopped: {e}")))?
    .map_err(|_| BackupError::Invalid("the random source failed".to_owned()))
}

impl Backups {
    async fn unwrap_key(&self, owner: &str, entry: &ManifestKey) -> Result<DataKey, BackupError> {
        let bytes = from_hex(&entry.wrapped)
            .ok_or_else(|| BackupError::damaged(owner, "a wrapped key is not hex"))?;
        Ok(self
            .provider
            .unwrap(
                &WrappedKey {
                    wrapper_version: entry.wrapper_version,
                    bytes,
                },
                &wrap_context(owner),
            )
            .await?)
    }

    /// Writes the manifest (its seal first, the manifest last: a backup is complete once
    /// its manifest is there).
    async fn finish(&self, manifest: &Manifest, key: &DataKey) -> Result<u64, BackupError> {
        let bytes = serde_json::to_vec_pretty(manifest)
            .map_err(|e| BackupError::Invalid(format!("the manifest cannot be written: {e}")))?;
        let (root_version, signature) = match (manifest.kind, &self.roots) {
            (Kind::Data, Some(roots)) => {
                let (version, root) = roots.current();
                let signer = CheckpointKey::derive_for_backups(root);
                (Some(version), Some(to_hex(&signer.sign(&bytes))))
            }
            (Kind::Data, None) => {
                return Err(BackupError::Invalid(
                    "a data backup is signed with the installation root, which is not open"
                        .to_owned(),
                ));
            }
            (Kind::KeyStore, _) => (None, None),
        };
        let sealed = ManifestSeal {
            mac: to_hex(&key.mac(MAC_PURPOSE, &bytes)),
            root_version,
            signature,
        };
        let seal_bytes = serde_json::to_vec(&sealed)
            .map_err(|e| BackupError::Invalid(format!("the seal cannot be written: {e}")))?;
        self.destination
            .put(&seal_key(&manifest.id)?, &seal_bytes)
            .await?;
        self.destination
            .put(&manifest_key(&manifest.id)?, &bytes)
            .await?;
        Ok(u64::try_from(bytes.len() + seal_bytes.len()).unwrap_or(u64::MAX))
    }

    /// A fresh key for backup `id`, and its wrapped form.
    async fn new_key(&self, id: &str) -> Result<(DataKey, ManifestKey), BackupError> {
        let key = DataKey::generate()?;
        let wrapped = self.provider.wrap(&key, &wrap_context(id)).await?;
        Ok((
            key,
            ManifestKey {
                wrapper_version: wrapped.wrapper_version,
                wrapped: to_hex(&wrapped.bytes),
            },
        ))
    }

    /// Seals the database copy at `file` into parts.
    async fn write_parts(
        &self,
        id: &str,
        kind: Kind,
        key: &DataKey,
        file: &Path,
    ) -> Result<(Vec<Part>, u64), BackupError> {
        let io = |source| BackupError::Io {
            what: "the database copy".to_owned(),
            source,
        };
        let mut input = tokio::fs::File::open(file).await.map_err(io)?;
        let mut parts = Vec::new();
        let mut written = 0u64;
        for index in 0u32.. {
            let mut plain = Vec::with_capacity(PART_BYTES);
            (&mut input)
                .take(PART_BYTES as u64)
                .read_to_end(&mut plain)
                .await
                .map_err(io)?;
            if plain.is_empty() && index > 0 {
                break;
            }
            let last = plain.len() < PART_BYTES;
            let part = Part {
                index,
                size: plain.len() as u64,
                sha256: sha256_hex(&plain),
            };
            let sealed = seal(key, plain, kind.file().to_owned(), format!("{id}/{index}")).await?;
            written += sealed.len() as u64;
            self.destination
                .put(&part_key(id, kind, index)?, &sealed)
                .await?;
            parts.push(part);
            if last {
                break;
            }
        }
        Ok((parts, written))
    }

    /// Backs up the system of record (an online copy) and every object of `objects`.
    /// `scratch` is a directory for the copy, on the same machine; the copy is removed after.
    pub async fn create_data(
        &self,
        db: &Db,
        objects: &ObjectStore,
        scratch: &Path,
    ) -> Result<Created, BackupError> {
        let taken_at_ms = self.clock.now().as_millis();
        let id = new_id(taken_at_ms);
        let copy = scratch.join(format!("backup-{id}.sqlite"));
        let result = async {
            db.snapshot_to(&copy).await?;
            let inventory = inspect(&copy).await?;
            let (key, wrapped) = self.new_key(&id).await?;
            let (parts, mut written) = self.write_parts(&id, Kind::Data, &key, &copy).await?;
            let _ = tokio::fs::remove_file(&copy).await;

            // Objects: what the latest complete backup already holds is not copied again.
            let previous = self.latest(Kind::Data).await?;
            let mut known: BTreeMap<String, String> = BTreeMap::new();
            let mut carried: BTreeMap<String, ManifestKey> = BTreeMap::new();
            if let Some(previous) = &previous {
                let present: BTreeSet<String> = self
                    .destination
                    .list("blobs/")
                    .await?
                    .into_iter()
                    .filter_map(|o| o.key.as_str().strip_prefix("blobs/").map(str::to_owned))
                    .collect();
                for o in &previous.objects {
                    if present.contains(&o.sha256) {
                        known.insert(o.sha256.clone(), o.sealed_by.clone());
                    }
                }
                carried = previous.keys.clone();
            }
            let mut keys = BTreeMap::from([(id.clone(), wrapped)]);
            let mut entries = Vec::new();
            let (mut copied, mut reused) = (0u64, 0u64);
            for info in objects.list("").await? {
                let bytes = match objects.get(&info.key).await {
                    Ok(b) => b,
                    // Removed since it was listed (an erasure, the orphan sweep): not part of
                    // the state being saved.
                    Err(StorageError::NotFound { .. }) => continue,
                    Err(e) => return Err(e.into()),
                };
                let sha256 = sha256_hex(&bytes);
                let sealed_by = match known.get(&sha256) {
                    Some(by) => {
                        reused += 1;
                        by.clone()
                    }
                    None => {
                        let sealed = Sealer::with_data_key(&key, 1)
                            .seal(&bytes, &blob_place(&sha256))
                            .map_err(|_| BackupError::Invalid("the random source failed".into()))?
                            .into_bytes();
                        written += sealed.len() as u64;
                        self.destination.put(&blob_key(&sha256)?, &sealed).await?;
                        known.insert(sha256.clone(), id.clone());
                        copied += 1;
                        id.clone()
                    }
                };
                if let Some(k) = carried.get(&sealed_by) {
                    keys.entry(sealed_by.clone()).or_insert_with(|| k.clone());
                }
                entries.push(ObjectEntry {
                    key: info.key.as_str().to_owned(),
                    size: bytes.len() as u64,
                    sha256,
                    sealed_by,
                });
            }
            let manifest = Manifest {
                format: FORMAT.to_owned(),
                id: id.clone(),
                kind: Kind::Data,
                taken_at_ms,
                completed_at_ms: self.clock.now().as_millis(),
                mhp_version: self.mhp_version.clone(),
                backend: "sqlite".to_owned(),
                provider: self.provider.name().to_owned(),
                keys,
                parts,
                objects: entries,
                rows: inventory.rows,
                audit_heads: inventory.audit_heads,
                newest_write_ms: inventory.newest_write_ms,
            };
            written += self.finish(&manifest, &key).await?;
            Ok(Created {
                manifest,
                objects_copied: copied,
                objects_reused: reused,
                bytes_written: written,
            })
        }
        .await;
        let _ = tokio::fs::remove_file(&copy).await;
        result
    }

    /// Backs up the key store (an online copy). `scratch` as for [`Backups::create_data`].
    pub async fn create_key_store(
        &self,
        store: &KeyStore,
        scratch: &Path,
    ) -> Result<Created, BackupError> {
        let taken_at_ms = self.clock.now().as_millis();
        let id = new_id(taken_at_ms);
        let copy = scratch.join(format!("backup-{id}.keys.sqlite"));
        let result = async {
            store.snapshot_to(&copy).await?;
            let inventory = inspect_keys(&copy).await?;
            let (key, wrapped) = self.new_key(&id).await?;
            let (parts, mut written) = self.write_parts(&id, Kind::KeyStore, &key, &copy).await?;
            let manifest = Manifest {
                format: FORMAT.to_owned(),
                id: id.clone(),
                kind: Kind::KeyStore,
                taken_at_ms,
                completed_at_ms: self.clock.now().as_millis(),
                mhp_version: self.mhp_version.clone(),
                backend: "sqlite".to_owned(),
                provider: self.provider.name().to_owned(),
                keys: BTreeMap::from([(id.clone(), wrapped)]),
                parts,
                objects: Vec::new(),
                rows: inventory.rows,
                audit_heads: Vec::new(),
                newest_write_ms: None,
            };
            written += self.finish(&manifest, &key).await?;
            Ok(Created {
                manifest,
                objects_copied: 0,
                objects_reused: 0,
                bytes_written: written,
            })
        }
        .await;
        let _ = tokio::fs::remove_file(&copy).await;
        result
    }

    /// The complete backups in the destination, oldest first. A manifest that does not parse
    /// is listed by nothing (and reported by `verify`).
    pub async fn list(&self) -> Result<Vec<Manifest>, BackupError> {
        let mut found = Vec::new();
        for info in self.destination.list("backups/").await? {
            let Some(id) = info
                .key
                .as_str()
                .strip_prefix("backups/")
                .and_then(|k| k.strip_suffix("/manifest.json"))
            else {
                continue;
            };
            if check_id(id).is_err() {
                continue;
            }
            let bytes = self.destination.get(&info.key).await?;
            if let Ok(m) = serde_json::from_slice::<Manifest>(&bytes)
                && m.id == id
                && m.format == FORMAT
            {
                found.push(m);
            }
        }
        oldest_first(&mut found);
        Ok(found)
    }

    async fn latest(&self, kind: Kind) -> Result<Option<Manifest>, BackupError> {
        Ok(self
            .list()
            .await?
            .into_iter()
            .rev()
            .find(|m| m.kind == kind))
    }

    /// Reads backup `id`'s manifest and checks its MAC and signature; returns it with its own
    /// key unwrapped.
    pub async fn open_manifest(&self, id: &str) -> Result<(Manifest, DataKey), BackupError> {
        check_id(id)?;
        let bytes = match self.destination.get(&manifest_key(id)?).await {
            Ok(b) => b,
            Err(StorageError::NotFound { .. }) => return Err(BackupError::NotFound(id.to_owned())),
            Err(e) => return Err(e.into()),
        };
        let seal_bytes = match self.destination.get(&seal_key(id)?).await {
            Ok(b) => b,
            Err(StorageError::NotFound { .. }) => {
                return Err(BackupError::damaged(id, "the manifest's seal is missing"));
            }
            Err(e) => return Err(e.into()),
        };
        let manifest: Manifest = serde_json::from_slice(&bytes)
            .map_err(|_| BackupError::damaged(id, "the manifest does not parse"))?;
        let sealed: ManifestSeal = serde_json::from_slice(&seal_bytes)
            .map_err(|_| BackupError::damaged(id, "the manifest's seal does not parse"))?;
        if manifest.id != id || manifest.format != FORMAT {
            return Err(BackupError::damaged(
                id,
                "the manifest is another backup's, or of another format",
            ));
        }
        let own = manifest
            .keys
            .get(id)
            .ok_or_else(|| BackupError::damaged(id, "the manifest has no key of its own"))?;
        let key = self.unwrap_key(id, own).await.map_err(|e| match e {
            BackupError::Keys(KeyError::Unwrap) => BackupError::damaged(
                id,
                "its key does not unwrap (altered, or another installation's)",
            ),
            other => other,
        })?;
        let mac = from_hex(&sealed.mac).unwrap_or_default();
        if !key.verify_mac(MAC_PURPOSE, &bytes, &mac) {
            return Err(BackupError::damaged(
                id,
                "the manifest was altered (its MAC does not match)",
            ));
        }
        if manifest.kind == Kind::Data {
            let roots = self.roots.as_ref().ok_or_else(|| {
                BackupError::Invalid(
                    "a data backup's signature is checked with the installation root, which is \
                     not open"
                        .to_owned(),
                )
            })?;
            let (Some(version), Some(signature)) = (sealed.root_version, &sealed.signature) else {
                return Err(BackupError::damaged(id, "the manifest is not signed"));
            };
            let signature = from_hex(signature).unwrap_or_default();
            let signed = roots.versions().any(|(v, root)| {
                v == version
                    && mhp_crypto::checkpoint::verify(
                        &CheckpointKey::derive_for_backups(root).public(),
                        &bytes,
                        &signature,
                    )
            });
            if !signed {
                return Err(BackupError::damaged(
                    id,
                    "the manifest's signature does not verify with this installation's root",
                ));
            }
        }
        Ok((manifest, key))
    }

    /// The keys a manifest's blobs are sealed with, unwrapped.
    async fn blob_keys(
        &self,
        manifest: &Manifest,
        own: &DataKey,
    ) -> Result<BTreeMap<String, DataKey>, BackupError> {
        let mut keys = BTreeMap::from([(manifest.id.clone(), own.clone())]);
        for by in manifest.objects.iter().map(|o| &o.sealed_by) {
            if keys.contains_key(by) {
                continue;
            }
            let entry = manifest.keys.get(by).ok_or_else(|| {
                BackupError::damaged(&manifest.id, format!("no key for blobs sealed by {by}"))
            })?;
            let key = self.unwrap_key(by, entry).await?;
            keys.insert(by.clone(), key);
        }
        Ok(keys)
    }

    /// Reads and opens part `part` of a manifest's copy, checking its digest.
    async fn read_part(
        &self,
        manifest: &Manifest,
        key: &DataKey,
        part: &Part,
    ) -> Result<Vec<u8>, BackupError> {
        let id = &manifest.id;
        let sealed = match self
            .destination
            .get(&part_key(id, manifest.kind, part.index)?)
            .await
        {
            Ok(b) => b,
            Err(StorageError::NotFound { .. }) => {
                return Err(BackupError::damaged(
                    id,
                    format!("part {} is missing", part.index),
                ));
            }
            Err(e) => return Err(e.into()),
        };
        let column = manifest.kind.file().to_owned();
        let row = format!("{id}/{}", part.index);
        let key = key.clone();
        let plain = tokio::task::spawn_blocking(move || {
            Sealer::with_data_key(&key, 1)
                .open(
                    &SealedBytes::from_ciphertext(sealed),
                    &part_place(&column, &row),
                )
                .map(|p| p.expose().clone())
        })
        .await
        .map_err(|e| BackupError::Invalid(format!("opening stopped: {e}")))?
        .map_err(|_| {
            BackupError::damaged(
                id,
                format!("part {} does not open (altered or moved)", part.index),
            )
        })?;
        if plain.len() as u64 != part.size || sha256_hex(&plain) != part.sha256 {
            return Err(BackupError::damaged(
                id,
                format!("part {} is not the one recorded", part.index),
            ));
        }
        Ok(plain)
    }

    /// Reads and opens an object's blob, checking its digest.
    async fn read_blob(
        &self,
        manifest: &Manifest,
        keys: &BTreeMap<String, DataKey>,
        object: &ObjectEntry,
    ) -> Result<Vec<u8>, BackupError> {
        let id = &manifest.id;
        let missing =
            || BackupError::damaged(id, format!("the blob of object {} is missing", object.key));
        let sealed = match self.destination.get(&blob_key(&object.sha256)?).await {
            Ok(b) => b,
            Err(StorageError::NotFound { .. }) => return Err(missing()),
            Err(e) => return Err(e.into()),
        };
        let key = keys.get(&object.sealed_by).ok_or_else(missing)?;
        let plain = Sealer::with_data_key(key, 1)
            .open(
                &SealedBytes::from_ciphertext(sealed),
                &blob_place(&object.sha256),
            )
            .map_err(|_| {
                BackupError::damaged(
                    id,
                    format!("the blob of object {} does not open", object.key),
                )
            })?;
        let plain = plain.expose().clone();
        if plain.len() as u64 != object.size || sha256_hex(&plain) != object.sha256 {
            return Err(BackupError::damaged(
                id,
                format!("the blob of object {} is not the one recorded", object.key),
            ));
        }
        Ok(plain)
    }

    /// Checks backup `id` end to end: the manifest's MAC and signature, then every part and
    /// every object opened and matched against its digest. Writes nothing.
    pub async fn verify(&self, id: &str) -> Result<Verified, BackupError> {
        let (manifest, key) = self.open_manifest(id).await?;
        let mut bytes = 0u64;
        for part in &manifest.parts {
            bytes += self.read_part(&manifest, &key, part).await?.len() as u64;
        }
        let keys = self.blob_keys(&manifest, &key).await?;
        for object in &manifest.objects {
            bytes += self.read_blob(&manifest, &keys, object).await?.len() as u64;
        }
        Ok(Verified {
            id: id.to_owned(),
            parts: manifest.parts.len() as u64,
            objects: manifest.objects.len() as u64,
            bytes,
        })
    }

    /// Restores backup `id` into `target`: the database file (which must not exist) and, for
    /// data backups, the objects (into a store that holds none); then opens the restored
    /// database and checks that it holds the rows the manifest recorded, that its audit chains
    /// end where they ended, and that they verify. On any failure what it wrote is removed.
    pub async fn restore(&self, id: &str, target: &RestoreTarget) -> Result<Restored, BackupError> {
        let (manifest, key) = self.open_manifest(id).await?;
        self.restore_opened(&manifest, &key, target).await
    }

    /// [`Backups::restore`] of a manifest already opened.
    async fn restore_opened(
        &self,
        manifest: &Manifest,
        key: &DataKey,
        target: &RestoreTarget,
    ) -> Result<Restored, BackupError> {
        if tokio::fs::try_exists(&target.database)
            .await
            .unwrap_or(true)
        {
            return Err(BackupError::Invalid(format!(
                "{} exists: restore into a place that holds no database",
                target.database.display()
            )));
        }
        let result = self.restore_into(manifest, key, target).await;
        if result.is_err() {
            remove_database_file(&target.database).await;
            remove_objects(manifest, target).await;
        }
        result
    }

    /// Restores data backup `id` into `db` (PostgreSQL, or a SQLite database elsewhere than the
    /// data directory), which must be at this version's migration and hold no data: the
    /// backup's database is restored and checked as [`Backups::restore`] does into
    /// `target.database` (a scratch file, removed after), then every row is copied into `db`
    /// in one transaction, then `db`'s rows are counted against the manifest and its audit
    /// chains verified. On any failure `db` holds nothing of it and the objects are removed.
    pub async fn restore_to_database(
        &self,
        id: &str,
        db: &Db,
        target: &RestoreTarget,
    ) -> Result<Restored, BackupError> {
        let (manifest, key) = self.open_manifest(id).await?;
        if manifest.kind != Kind::Data {
            return Err(BackupError::Invalid(
                "only a data backup restores into a database".to_owned(),
            ));
        }
        let restored = self.restore_opened(&manifest, &key, target).await?;
        let copied = async {
            let file = open_file(&target.database).await?;
            let copied = mhp_storage::copy::copy_database(&file, db).await;
            file.close().await;
            let copied = copied?;
            for (table, n) in &manifest.rows {
                if mhp_storage::copy::is_bookkeeping(table) {
                    continue;
                }
                if copied.rows.get(table) != Some(n) {
                    return Err(BackupError::damaged(
                        id,
                        format!("{table}: {n} rows in the backup, not as many copied"),
                    ));
                }
            }
            let mut tx = db.operator(mhp_storage::Access::Read).await?;
            let report =
                mhp_storage::repo::audit::verify(&mut tx, &target.audit_public_keys).await?;
            drop(tx);
            if let Some(finding) = report.findings.first() {
                return Err(BackupError::damaged(
                    id,
                    format!("the copied audit log does not verify: {finding}"),
                ));
            }
            Ok(())
        }
        .await;
        remove_database_file(&target.database).await;
        if let Err(e) = copied {
            remove_objects(&manifest, target).await;
            return Err(e);
        }
        Ok(restored)
    }

    async fn restore_into(
        &self,
        manifest: &Manifest,
        key: &DataKey,
        target: &RestoreTarget,
    ) -> Result<Restored, BackupError> {
        use std::os::unix::fs::OpenOptionsExt as _;
        let id = &manifest.id;
        let io = |source| BackupError::Io {
            what: target.database.display().to_string(),
            source,
        };
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&target.database)
            .map_err(io)?;
        let mut out = tokio::fs::File::from_std(file);
        for part in &manifest.parts {
            let plain = self.read_part(manifest, key, part).await?;
            out.write_all(&plain).await.map_err(io)?;
        }
        out.sync_all().await.map_err(io)?;
        drop(out);

        let mut objects = 0u64;
        if manifest.kind == Kind::Data {
            let store = target.objects.as_ref().ok_or_else(|| {
                BackupError::Invalid("a data backup restores objects too: name where".to_owned())
            })?;
            let keys = self.blob_keys(manifest, key).await?;
            for object in &manifest.objects {
                let plain = self.read_blob(manifest, &keys, object).await?;
                store.put(&key_of(id, &object.key)?, &plain).await?;
                objects += 1;
            }
        }

        let (inventory, audit_events) = match manifest.kind {
            Kind::Data => {
                let db = open_file(&target.database).await?;
                let checked = async {
                    let inventory = db.inventory().await?;
                    let mut tx = db.operator(mhp_storage::Access::Read).await?;
                    let report =
                        mhp_storage::repo::audit::verify(&mut tx, &target.audit_public_keys)
                            .await?;
                    drop(tx);
                    Ok::<_, StorageError>((inventory, report))
                }
                .await;
                db.close().await;
                let (inventory, report) = checked?;
                if let Some(finding) = report.findings.first() {
                    return Err(BackupError::damaged(
                        id,
                        format!("the restored audit log does not verify: {finding}"),
                    ));
                }
                (inventory, report.events)
            }
            Kind::KeyStore => (inspect_keys(&target.database).await?, 0),
        };
        if inventory.rows != manifest.rows {
            let differs: Vec<&String> = manifest
                .rows
                .keys()
                .chain(inventory.rows.keys())
                .filter(|t| manifest.rows.get(*t) != inventory.rows.get(*t))
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect();
            return Err(BackupError::damaged(
                id,
                format!("the restored rows differ from the manifest's in {differs:?}"),
            ));
        }
        if inventory.audit_heads != manifest.audit_heads {
            return Err(BackupError::damaged(
                id,
                "the restored audit chains do not end where the manifest says",
            ));
        }
        Ok(Restored {
            id: id.clone(),
            database: target.database.clone(),
            objects,
            rows: inventory.rows.values().sum(),
            audit_events,
            newest_write_ms: manifest.newest_write_ms,
        })
    }

    /// Applies `retention` to the backups of `kind`, then removes what no kept backup needs:
    /// unfinished backups and unreferenced blobs older than the grace period.
    pub async fn prune(&self, kind: Kind, retention: &Retention) -> Result<Pruned, BackupError> {
        let now = self.clock.now().as_millis();
        let all = self.list().await?;
        let of_kind: Vec<&Manifest> = all.iter().filter(|m| m.kind == kind).collect();
        let keep = retained(&of_kind, retention);
        let mut pruned = Pruned::default();
        for m in &of_kind {
            if keep.contains(&m.id) {
                pruned.kept.push(m.id.clone());
            } else {
                // The manifest first: from then on the backup does not count.
                self.destination.delete(&manifest_key(&m.id)?).await?;
                self.remove_prefix(&format!("backups/{}/", m.id)).await?;
                pruned.removed.push(m.id.clone());
            }
        }
        // Backups started and never finished.
        let complete: BTreeSet<&str> = all.iter().map(|m| m.id.as_str()).collect();
        let mut unfinished: BTreeMap<String, i64> = BTreeMap::new();
        for info in self.destination.list("backups/").await? {
            let Some(id) = info
                .key
                .as_str()
                .strip_prefix("backups/")
                .and_then(|k| k.split('/').next())
            else {
                continue;
            };
            if complete.contains(id) {
                continue;
            }
            let at = millis(info.modified);
            let newest = unfinished.entry(id.to_owned()).or_insert(at);
            *newest = (*newest).max(at);
        }
        for (id, newest) in unfinished {
            if now - newest > GRACE_MS {
                self.remove_prefix(&format!("backups/{id}/")).await?;
                pruned.unfinished_removed += 1;
            }
        }
        // Blobs that no remaining data backup lists.
        let removed: BTreeSet<&str> = pruned.removed.iter().map(String::as_str).collect();
        let referenced: BTreeSet<&str> = all
            .iter()
            .filter(|m| !removed.contains(m.id.as_str()))
            .flat_map(|m| m.objects.iter().map(|o| o.sha256.as_str()))
            .collect();
        for info in self.destination.list("blobs/").await? {
            let Some(sha) = info.key.as_str().strip_prefix("blobs/") else {
                continue;
            };
            if !referenced.contains(sha) && now - millis(info.modified) > GRACE_MS {
                self.destination.delete(&info.key).await?;
                pruned.blobs_removed += 1;
            }
        }
        Ok(pruned)
    }

    async fn remove_prefix(&self, prefix: &str) -> Result<(), BackupError> {
        for info in self.destination.list(prefix).await? {
            self.destination.delete(&info.key).await?;
        }
        Ok(())
    }
}

/// The record of a backup made (or not): its id, size and a summary, or the error.
pub fn run_of(
    kind: Kind,
    destination: &str,
    made: &Result<Created, BackupError>,
    at_ms: i64,
) -> mhp_storage::repo::backups::BackupRun {
    mhp_storage::repo::backups::BackupRun {
        kind: match kind {
            Kind::Data => "data",
            Kind::KeyStore => "key-store",
        },
        backup_id: made.as_ref().ok().map(|c| c.manifest.id.clone()),
        destination: destination.to_owned(),
        at_ms,
        ok: made.is_ok(),
        bytes: made
            .as_ref()
            .ok()
            .map(|c| i64::try_from(c.bytes_written).unwrap_or(i64::MAX)),
        rto_ms: None,
        rpo_ms: None,
        detail: match made {
            Ok(c) => format!(
                "{} part(s), {} object(s) copied, {} reused",
                c.manifest.parts.len(),
                c.objects_copied,
                c.objects_reused
            ),
            Err(e) => e.to_string(),
        },
    }
}

/// Records a backup or a drill in the system of record (`backup_runs`) with its audit event,
/// in one transaction: `action` is `backup.created`, `backup.key_store_created`,
/// `backup.restored`, `backup.pruned` or `backup.drilled`.
pub async fn record(
    db: &Db,
    clock: &dyn Clock,
    action: &'static str,
    run: &mhp_storage::repo::backups::BackupRun,
) -> Result<(), StorageError> {
    let mut tx = db.operator(mhp_storage::Access::Write).await?;
    mhp_storage::repo::backups::record(&mut tx, run).await?;
    let outcome = if run.ok {
        mhp_storage::repo::audit::Outcome::Success
    } else {
        mhp_storage::repo::audit::Outcome::Failure
    };
    let mut event = mhp_storage::repo::audit::AuditEvent::outside_request(
        "cli",
        action,
        "backup",
        run.backup_id.clone(),
    )
    .with_detail(run.kind);
    event.outcome = outcome;
    mhp_storage::repo::audit::append_as_operator(&mut tx, None, &event, clock.now()).await?;
    tx.commit().await
}

/// What `mhp serve` backs up on its schedule: the system of record and the objects, then the
/// key store, each pruned after; one instance per firing (a lease).
#[derive(Debug)]
pub struct Scheduled {
    /// When (UTC).
    pub cron: crate::schedule::CronSchedule,
    /// Data backups, with their destination's label.
    pub data: (Backups, String),
    /// Key-store backups, with their destination's label.
    pub keys: (Backups, String),
    /// What pruning keeps.
    pub retention: Retention,
    /// The system of record.
    pub db: Db,
    /// The objects.
    pub objects: ObjectStore,
    /// The key store.
    pub key_store: Arc<crate::keys::Keys>,
    /// A directory for the copies.
    pub scratch: PathBuf,
    /// This instance, as the lease names it.
    pub holder: String,
}

/// How long the lease of one firing lasts: longer than a backup takes, shorter than a day.
const SCHEDULE_LEASE_MS: i64 = 60 * 60 * 1000;

/// Backs up at every firing of `s.cron` until `stop` completes.
pub async fn run_schedule(s: Scheduled, stop: impl std::future::Future<Output = ()>) {
    tokio::pin!(stop);
    loop {
        let now = s.data.0.clock.now();
        let Some(next) = s.cron.next_after(now) else {
            return;
        };
        let wait = u64::try_from(next.as_millis() - now.as_millis()).unwrap_or(0);
        tokio::select! {
            () = &mut stop => return,
            () = tokio::time::sleep(std::time::Duration::from_millis(wait)) => {}
        }
        match take_turn(&s).await {
            Ok(true) => run_scheduled(&s).await,
            Ok(false) => {}
            Err(e) => tracing::warn!(target: "mhp::backup", error = %e,
                "scheduled backup skipped: its lease could not be read"),
        }
    }
}

async fn take_turn(s: &Scheduled) -> Result<bool, StorageError> {
    let now = s.data.0.clock.now();
    let until = mhp_domain::Timestamp::from_millis(now.as_millis() + SCHEDULE_LEASE_MS);
    let mut tx = s.db.operator(mhp_storage::Access::Write).await?;
    let taken =
        mhp_storage::repo::security::take_lease(&mut tx, "backup-schedule", &s.holder, now, until)
            .await?;
    tx.commit().await?;
    Ok(taken)
}

/// One scheduled run: each step recorded (and audited) as it ends, good or failed.
pub async fn run_scheduled(s: &Scheduled) {
    let clock = s.data.0.clock.clone();
    let made = s.data.0.create_data(&s.db, &s.objects, &s.scratch).await;
    let data_run = run_of(Kind::Data, &s.data.1, &made, clock.now().as_millis());
    let made_keys = s
        .keys
        .0
        .create_key_store(s.key_store.store(), &s.scratch)
        .await;
    let key_run = run_of(
        Kind::KeyStore,
        &s.keys.1,
        &made_keys,
        clock.now().as_millis(),
    );
    for (action, r) in [
        ("backup.created", &data_run),
        ("backup.key_store_created", &key_run),
    ] {
        if !r.ok {
            tracing::error!(target: "mhp::backup", kind = r.kind, error = %r.detail,
                "scheduled backup failed");
        }
        if let Err(e) = record(&s.db, clock.as_ref(), action, r).await {
            tracing::error!(target: "mhp::backup", error = %e, "a backup could not be recorded");
        }
    }
    for (b, kind) in [(&s.data.0, Kind::Data), (&s.keys.0, Kind::KeyStore)] {
        if let Err(e) = b.prune(kind, &s.retention).await {
            tracing::warn!(target: "mhp::backup", error = %e, "pruning backups failed");
        }
    }
    if made.is_ok() && made_keys.is_ok() {
        tracing::info!(target: "mhp::backup", "scheduled backups made");
    }
}

fn key_of(id: &str, object: &str) -> Result<ObjectKey, BackupError> {
    ObjectKey::parse(object)
        .map_err(|_| BackupError::damaged(id, "an object key in the manifest is not a key"))
}

fn millis(at: std::time::SystemTime) -> i64 {
    at.duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Which day, week or month a backup's date falls in.
type Bucket = fn(chrono::NaiveDate) -> (i32, u32);

/// The ids `retention` keeps among `backups` (oldest first): the newest of each of the last
/// `daily` days, `weekly` weeks and `monthly` months that have a backup, and the newest.
pub fn retained(backups: &[&Manifest], retention: &Retention) -> BTreeSet<String> {
    use chrono::Datelike as _;
    let mut keep = BTreeSet::new();
    let newest_first: Vec<&&Manifest> = backups.iter().rev().collect();
    if let Some(newest) = newest_first.first() {
        keep.insert(newest.id.clone());
    }
    let buckets: [(u32, Bucket); 3] = [
        (retention.daily, |d| (d.year(), d.ordinal())),
        (retention.weekly, |d| {
            let w = d.iso_week();
            (w.year(), w.week())
        }),
        (retention.monthly, |d| (d.year(), d.month())),
    ];
    for (slots, bucket_of) in buckets {
        let mut seen = BTreeSet::new();
        for m in &newest_first {
            if seen.len() >= slots as usize {
                break;
            }
            let day = chrono::DateTime::from_timestamp_millis(m.taken_at_ms)
                .unwrap_or_default()
                .date_naive();
            if seen.insert(bucket_of(day)) {
                keep.insert(m.id.clone());
            }
        }
    }
    keep
}

/// Opens a SQLite file as a database (a copy or a restore).
async fn open_file(path: &Path) -> Result<Db, StorageError> {
    let url = format!("sqlite://{}", path.display());
    Db::connect(
        &url,
        &mhp_storage::DbOptions {
            max_connections: 2,
            ..mhp_storage::DbOptions::default()
        },
    )
    .await
}

/// Removes a restored database file and its SQLite companions.
async fn remove_database_file(database: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let mut path = database.as_os_str().to_owned();
        path.push(suffix);
        let _ = tokio::fs::remove_file(PathBuf::from(path)).await;
    }
}

/// Removes the objects a failed restore wrote (the store held none before: the caller checks).
async fn remove_objects(manifest: &Manifest, target: &RestoreTarget) {
    if let Some(store) = &target.objects {
        for object in &manifest.objects {
            if let Ok(k) = ObjectKey::parse(&object.key) {
                let _ = store.delete(&k).await;
            }
        }
    }
}

/// What a copy of the system of record holds.
async fn inspect(path: &Path) -> Result<Inventory, StorageError> {
    let db = open_file(path).await?;
    let inventory = db.inventory().await;
    db.close().await;
    inventory
}

/// What a copy of the key store holds.
async fn inspect_keys(path: &Path) -> Result<Inventory, StorageError> {
    let url = format!("sqlite://{}", path.display());
    let store = KeyStore::open(&url).await?;
    let inventory = store.inventory().await;
    store.close().await;
    inventory
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest(id: &str, taken_at_ms: i64) -> Manifest {
        Manifest {
            format: FORMAT.to_owned(),
            id: id.to_owned(),
            kind: Kind::Data,
            taken_at_ms,
            completed_at_ms: taken_at_ms,
            mhp_version: "test".to_owned(),
            backend: "sqlite".to_owned(),
            provider: "local".to_owned(),
            keys: BTreeMap::new(),
            parts: Vec::new(),
            objects: Vec::new(),
            rows: BTreeMap::new(),
            audit_heads: Vec::new(),
            newest_write_ms: None,
        }
    }

    #[test]
    fn ids_sort_by_time_and_are_checked() {
        let a = new_id(1_796_581_805_000);
        assert!(a.starts_with("20261206T183005Z-"), "{a}");
        check_id(&a).unwrap();
        assert!(check_id("20261206T183005Z-0A1B2C3D").is_err());
        assert!(check_id("../../etc").is_err());
        assert!(check_id("20261206T183005Z-0a1b2c3").is_err());
        assert!(new_id(1_000) < new_id(2_000_000));
    }

    #[test]
    fn backups_of_one_second_are_ordered_by_when_they_were_taken() {
        // The later backup's random suffix sorts first.
        let mut both = vec![
            manifest("20261207T085239Z-a8fc0565", 1_796_633_559_400),
            manifest("20261207T085239Z-6a13c8b5", 1_796_633_559_900),
        ];
        oldest_first(&mut both);
        assert_eq!(both[1].id, "20261207T085239Z-6a13c8b5");
        both.reverse();
        oldest_first(&mut both);
        assert_eq!(both[1].id, "20261207T085239Z-6a13c8b5");
    }

    #[test]
    fn retention_keeps_the_newest_of_each_day_week_and_month() {
        const DAY: i64 = 86_400_000;
        // Two backups a day for 400 days, starting on a Monday (2025-01-06).
        let start = 1_736_121_600_000;
        let all: Vec<Manifest> = (0..800)
            .map(|i| manifest(&format!("b{i:04}"), start + i * DAY / 2 + 3_600_000))
            .collect();
        let refs: Vec<&Manifest> = all.iter().collect();
        let keep = retained(
            &refs,
            &Retention {
                daily: 7,
                weekly: 4,
                monthly: 12,
            },
        );
        // 7 days (the later backup of each), 4 weeks and 12 months overlap at the newest end.
        assert!(keep.contains("b0799"));
        assert!(
            !keep.contains("b0798"),
            "the earlier backup of the last day goes"
        );
        for day in 0..7 {
            assert!(keep.contains(&format!("b{:04}", 799 - 2 * day)));
        }
        assert!(
            keep.len() >= 7 + 12 - 2 && keep.len() <= 7 + 4 + 12,
            "{keep:?}"
        );
        let none = retained(
            &refs,
            &Retention {
                daily: 0,
                weekly: 0,
                monthly: 0,
            },
        );
        assert_eq!(
            none,
            BTreeSet::from(["b0799".to_owned()]),
            "the newest always stays"
        );
    }
}
