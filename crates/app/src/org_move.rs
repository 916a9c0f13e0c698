//! Moving an organisation to another installation (another instance, region or backend):
//! `mhp org export ORG --to FILE` on the source, `mhp org import FILE` on the target.
//!
//! What travels: the organisation's rows ([`mhp_storage::org_copy`] says table by table), its
//! objects (raw recordings, datasets, model artifacts), its keys and its audit chain. What
//! differs between installations is re-made on the target:
//!
//! - **Keys.** Every version of the organisation's key travels unwrapped inside the file and is
//!   wrapped by the target's master key on import; subject keys travel as they are, wrapped by
//!   those versions. Sealed PHI, artifacts and tenant secrets open on the target unchanged.
//! - **What the installation root made.** Authenticator secrets (sealed with a root-derived
//!   key) travel opened and are sealed again by the target; blind indexes are recomputed with
//!   the target's root; PHI sealed before envelope encryption (format 1, root-derived) is
//!   re-sealed under its subject's key on export. De-identified pseudonyms (root-derived) are
//!   the target's from then on, as after `mhp keys reindex`.
//! - **People.** A person who has an account on the target already (same id, or same e-mail
//!   address) keeps it and is linked to the organisation; others come with their password
//!   hash and authenticator; no platform role travels; everyone signs in again.
//! - **The audit chain** travels whole (events, indexes, hashes, the anchor of a pruned
//!   chain). The import checks it against the source's checkpoints (their public keys are in
//!   the file), continues it with its own `org.import` event, and signs its head (and the
//!   anchor) with the target's key.
//!
//! The file is sealed with a transfer key made for it and shown once by the export: the file
//! alone reveals nothing, not even which organisation it holds. Its frames are numbered
//! inside their authenticated data, so a frame removed, repeated or moved is refused, and the
//! manifest, last, says what came before it. The source keeps the organisation
//! (docs/runbooks/move-an-organisation.md).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use mhp_crypto::Roots;
use mhp_crypto::checkpoint::CheckpointKey;
use mhp_crypto::envelope::DataKey;
use mhp_crypto::seal::{FORMAT_DERIVED, Place, Sealer};
use mhp_domain::{OrgId, OrgScope, SealedBytes, Secret, SubjectId, from_hex, to_hex};
use mhp_storage::keystore::WrappedRow;
use mhp_storage::org_copy::{self, SealedField};
use mhp_storage::repo::audit;
use mhp_storage::{Access, Db, ObjectKey, StorageError};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use crate::keys::{KeysError, OrgKeys};
use crate::phi::FieldAt;
use crate::{App, AppError, Caller};

/// The file's format, in its header and manifest.
pub const FORMAT: &str = "mhp-org-transfer-v1";
const MAGIC: &[u8] = b"MHP-ORG-TRANSFER-1\n";
const KEY_PREFIX: &str = "mhp-transfer-v1:";
/// The purpose of the root-derived key that seals authenticator secrets (`users` table).
pub const TOTP_SEALING: &str = "users.totp_secret";
/// Bytes of the database copy per frame.
const CHUNK: usize = 4 << 20;
/// The largest frame a reader accepts (an object is one frame).
const MAX_FRAME: u32 = 1 << 30;

/// Where an organisation's objects are kept: raw recordings, pipeline outputs, imported models.
fn object_prefixes(org: OrgId) -> [String; 3] {
    [
        format!("orgs/{org}/"),
        format!("pipelines/{org}/"),
        format!("models/{org}/"),
    ]
}

/// Where a person's authenticator secret is sealed (its place in the `users` table).
pub fn totp_place(user: &str) -> Place<'_> {
    Place {
        org: None,
        table: "users",
        column: "totp_secret_sealed",
        row: user,
    }
}

/// Why a move failed. Never carries key material or PHI.
#[derive(Debug, thiserror::Error)]
pub enum MoveError {
    /// The transfer file could not be written or read.
    #[error("the transfer file: {0}")]
    File(#[from] std::io::Error),
    /// The file is not a transfer file of this format, or not whole.
    #[error("not a whole transfer file: {0}")]
    Malformed(&'static str),
    /// The key does not open the file.
    #[error(
        "the transfer key does not open this file (the key of another export, or an altered \
         file)"
    )]
    WrongKey,
    /// The text given is not a transfer key.
    #[error("not a transfer key (it starts with {KEY_PREFIX} and 64 hexadecimal digits follow)")]
    NotAKey,
    /// The organisation exists on this installation already.
    #[error("organisation {0} exists on this installation already: an import never merges")]
    Exists(OrgId),
    /// The organisation's audit chain in the file does not verify.
    #[error("the organisation's audit chain in the file does not verify: {0}")]
    AuditChain(String),
    /// A use case, the database, the key store or the object store failed.
    #[error(transparent)]
    App(#[from] AppError),
}

impl From<StorageError> for MoveError {
    fn from(e: StorageError) -> Self {
        MoveError::App(e.into())
    }
}

impl From<KeysError> for MoveError {
    fn from(e: KeysError) -> Self {
        MoveError::App(e.into())
    }
}

/// The key that seals one transfer file; shown once by the export, given to the import.
pub struct TransferKey(DataKey);

impl std::fmt::Debug for TransferKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TransferKey([redacted])")
    }
}

impl TransferKey {
    /// A fresh key.
    pub fn generate() -> Result<Self, MoveError> {
        Ok(Self(DataKey::generate().map_err(KeysError::from)?))
    }

    /// The key as text: `mhp-transfer-v1:` and 64 hexadecimal digits.
    pub fn to_text(&self) -> Secret<String> {
        Secret::new(format!("{KEY_PREFIX}{}", to_hex(self.0.expose())))
    }

    /// Reads a key from its text (surrounding white space ignored).
    pub fn parse(text: &str) -> Result<Self, MoveError> {
        let hex = text
            .trim()
            .strip_prefix(KEY_PREFIX)
            .ok_or(MoveError::NotAKey)?;
        let bytes = Secret::new(from_hex(hex).ok_or(MoveError::NotAKey)?);
        DataKey::from_slice(bytes.expose())
            .map(Self)
            .ok_or(MoveError::NotAKey)
    }

    fn sealer(&self) -> Sealer {
        Sealer::with_data_key(&self.0, 1)
    }
}

/// The first frame: enough to refuse early.
#[derive(Debug, Serialize, Deserialize)]
struct Header {
    format: String,
    org: String,
    exported_at_ms: i64,
}

/// A byte string's length and digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Digest {
    size: u64,
    sha256: String,
}

impl Digest {
    fn of(bytes: &[u8]) -> Self {
        Self {
            size: bytes.len() as u64,
            sha256: to_hex(&Sha256::digest(bytes)),
        }
    }
}

/// One key version in the manifest: `bytes` is the key itself for the organisation's versions,
/// the wrapped key for subjects'.
#[derive(Serialize, Deserialize)]
struct MovedKey {
    key_id: String,
    version: u32,
    wrapped_by: String,
    wrapper_version: u32,
    bytes: String,
    retired_at_ms: Option<i64>,
    created_at_ms: i64,
}

impl MovedKey {
    fn of(row: &WrappedRow, bytes: &[u8]) -> Self {
        Self {
            key_id: row.key_id.clone(),
            version: row.version,
            wrapped_by: row.wrapped_by.clone(),
            wrapper_version: row.wrapper_version,
            bytes: to_hex(bytes),
            retired_at_ms: row.retired_at_ms,
            created_at_ms: row.created_at_ms,
        }
    }

    fn row(&self, org: OrgId) -> Result<(WrappedRow, Vec<u8>), MoveError> {
        let bytes = from_hex(&self.bytes).ok_or(MoveError::Malformed("a key is not hex"))?;
        Ok((
            WrappedRow {
                key_id: self.key_id.clone(),
                version: self.version,
                org_id: org.to_string(),
                wrapped_by: self.wrapped_by.clone(),
                wrapper_version: self.wrapper_version,
                wrapped: bytes.clone(),
                retired_at_ms: self.retired_at_ms,
                created_at_ms: self.created_at_ms,
            },
            bytes,
        ))
    }
}

/// The last frame: what the file holds.
#[derive(Serialize, Deserialize)]
struct Manifest {
    format: String,
    org: String,
    exported_at_ms: i64,
    mhp_version: String,
    rows: BTreeMap<String, i64>,
    database: Digest,
    objects: Vec<(String, Digest)>,
    org_keys: Vec<MovedKey>,
    subject_keys: Vec<MovedKey>,
    /// Authenticator secrets, opened (hex), by person.
    totp_secrets: BTreeMap<String, String>,
    /// The source's checkpoint keys (hex), to verify the chain's checkpoints.
    audit_public_keys: Vec<String>,
    /// Frames before this one.
    frames: u64,
}

/// What an export wrote.
#[derive(Debug)]
pub struct Exported {
    /// The organisation.
    pub org: OrgId,
    /// Rows per table.
    pub rows: BTreeMap<String, i64>,
    /// Objects.
    pub objects: usize,
    /// The file's size.
    pub bytes: u64,
    /// The key that opens it (shown once).
    pub key: TransferKey,
}

/// What an import brought in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Imported {
    /// The organisation.
    pub org: OrgId,
    /// Rows per table.
    pub rows: BTreeMap<String, i64>,
    /// Objects.
    pub objects: usize,
    /// People who had an account here already, now linked to the organisation.
    pub people_linked: usize,
    /// People whose accounts came with the organisation.
    pub people_added: usize,
    /// Subjects whose blind indexes were recomputed.
    pub subjects_indexed: u64,
    /// Assessments put in the document index.
    pub documents_indexed: u64,
}

/// A scratch SQLite file that is removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(dir: &Path, what: &str) -> Self {
        let nonce = to_hex(&uuid::Uuid::now_v7().as_bytes()[10..]);
        Self(dir.join(format!("org-{what}-{nonce}.sqlite")))
    }

    async fn open(&self) -> Result<Db, MoveError> {
        let text = self
            .0
            .to_str()
            .ok_or(MoveError::Malformed("the scratch path is not UTF-8"))?;
        Ok(Db::connect(
            &format!("sqlite://{text}"),
            &mhp_storage::DbOptions {
                max_connections: 1,
                ..mhp_storage::DbOptions::default()
            },
        )
        .await?)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        mhp_storage::snapshot::remove_sqlite(&self.0);
    }
}

fn frame_place(index: u64) -> String {
    format!("frame {index}")
}

/// Writes sealed, numbered frames.
struct FrameWriter {
    file: tokio::io::BufWriter<tokio::fs::File>,
    sealer: Sealer,
    next: u64,
    bytes: u64,
}

impl FrameWriter {
    async fn frame(&mut self, kind: u8, parts: &[&[u8]]) -> Result<(), MoveError> {
        let mut bytes = Vec::with_capacity(1 + parts.iter().map(|p| p.len()).sum::<usize>());
        bytes.push(kind);
        for p in parts {
            bytes.extend_from_slice(p);
        }
        let plain = Secret::new(bytes);
        let row = frame_place(self.next);
        let sealed = self
            .sealer
            .seal(
                plain.expose(),
                &Place {
                    org: None,
                    table: "org_transfer",
                    column: "frame",
                    row: &row,
                },
            )
            .map_err(|_| KeysError::Seal)?;
        let len = u32::try_from(sealed.as_bytes().len())
            .ok()
            .filter(|l| *l <= MAX_FRAME)
            .ok_or(MoveError::Malformed(
                "an object too large for a transfer file",
            ))?;
        self.file.write_all(&len.to_be_bytes()).await?;
        self.file.write_all(sealed.as_bytes()).await?;
        self.next += 1;
        self.bytes += 4 + u64::from(len);
        Ok(())
    }
}

/// Reads sealed, numbered frames.
struct FrameReader {
    file: tokio::io::BufReader<tokio::fs::File>,
    sealer: Sealer,
    next: u64,
}

impl FrameReader {
    /// The next frame's kind and payload, or `None` at the end of the file.
    async fn frame(&mut self) -> Result<Option<(u8, Secret<Vec<u8>>)>, MoveError> {
        let mut len = [0u8; 4];
        match self.file.read_exact(&mut len).await {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
            Err(e) => return Err(e.into()),
        }
        let len = u32::from_be_bytes(len);
        if len > MAX_FRAME {
            return Err(MoveError::Malformed(
                "a frame longer than any export writes",
            ));
        }
        let mut sealed = vec![0u8; len as usize];
        self.file
            .read_exact(&mut sealed)
            .await
            .map_err(|_| MoveError::Malformed("the file ends inside a frame"))?;
        let row = frame_place(self.next);
        let plain = self
            .sealer
            .open(
                &SealedBytes::from_ciphertext(sealed),
                &Place {
                    org: None,
                    table: "org_transfer",
                    column: "frame",
                    row: &row,
                },
            )
            .map_err(|_| MoveError::WrongKey)?;
        self.next += 1;
        let kind = *plain
            .expose()
            .first()
            .ok_or(MoveError::Malformed("an empty frame"))?;
        Ok(Some((kind, Secret::new(plain.expose()[1..].to_vec()))))
    }
}

const HEADER: u8 = b'H';
const DATABASE: u8 = b'D';
const OBJECT: u8 = b'O';
const MANIFEST: u8 = b'M';

/// Writes organisation `org` to a new file at `to` (mode 0600, never over an existing file),
/// sealed with a new transfer key, which it returns. `scratch` holds the transfer database
/// while it is made (removed after). The export is audited in the organisation's chain before
/// the copy is taken, so the file carries its own record.
pub async fn export(
    app: &App,
    roots: &Roots,
    org: OrgId,
    to: &Path,
    scratch: &Path,
    caller: &Caller,
) -> Result<Exported, MoveError> {
    {
        let mut tx = app.db.operator(Access::Write).await?;
        if !org_copy::org_exists(&mut tx, org).await? {
            return Err(AppError::NotFound("organisation").into());
        }
        audit::append_as_operator(
            &mut tx,
            Some(org),
            &caller.event("org.export", "organisation", Some(org.to_string())),
            app.now(),
        )
        .await?;
        tx.commit().await?;
    }
    let exported_at_ms = app.now().as_millis();
    let copy = Scratch::new(scratch, "export");
    let rows = org_copy::export_org(&app.db, org, &copy.0).await?.rows;
    let db = copy.open().await?;
    let prepared = prepare_export(app, roots, org, &db).await;
    db.close().await;
    let (totp_secrets, raw_owners) = prepared?;
    let keys = app.phi.keys().export_org(org).await?;

    let key = TransferKey::generate()?;
    let file = tokio::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(to)
        .await?;
    let mut out = FrameWriter {
        file: tokio::io::BufWriter::new(file),
        sealer: key.sealer(),
        next: 0,
        bytes: MAGIC.len() as u64,
    };
    let written = async {
        out.file.write_all(MAGIC).await?;
        let header = serde_json::to_vec(&Header {
            format: FORMAT.to_owned(),
            org: org.to_string(),
            exported_at_ms,
        })
        .map_err(AppError::internal)?;
        out.frame(HEADER, &[&header]).await?;
        let database = tokio::fs::read(&copy.0).await?;
        for chunk in database.chunks(CHUNK) {
            out.frame(DATABASE, &[chunk]).await?;
        }
        let mut objects = Vec::new();
        for prefix in object_prefixes(org) {
            for info in app.objects.list(&prefix).await? {
                let name = info.key.as_str().to_owned();
                let mut bytes = app.objects.get(&info.key).await?;
                if let Some(owner) = raw_owners.get(&name).filter(|_| is_legacy(&bytes)) {
                    match reseal_raw(app, org, owner, bytes).await? {
                        Some(sealed) => bytes = sealed,
                        None => continue,
                    }
                }
                let key_len = u16::try_from(name.len())
                    .map_err(|_| MoveError::Malformed("an object key too long"))?;
                out.frame(OBJECT, &[&key_len.to_be_bytes(), name.as_bytes(), &bytes])
                    .await?;
                objects.push((name, Digest::of(&bytes)));
            }
        }
        let manifest = Manifest {
            format: FORMAT.to_owned(),
            org: org.to_string(),
            exported_at_ms,
            mhp_version: app.build.version.to_owned(),
            rows: rows.clone(),
            database: Digest::of(&database),
            objects,
            org_keys: keys
                .org
                .iter()
                .map(|(row, k)| MovedKey::of(row, k.expose()))
                .collect(),
            subject_keys: keys
                .subjects
                .iter()
                .map(|row| MovedKey::of(row, &row.wrapped))
                .collect(),
            totp_secrets,
            audit_public_keys: roots
                .versions()
                .map(|(_, k)| to_hex(&CheckpointKey::derive(k).public()))
                .collect(),
            frames: out.next,
        };
        let count = manifest.objects.len();
        let json = Secret::new(serde_json::to_vec(&manifest).map_err(AppError::internal)?);
        out.frame(MANIFEST, &[json.expose()]).await?;
        out.file.flush().await?;
        out.file.get_ref().sync_all().await?;
        Ok::<_, MoveError>(count)
    }
    .await;
    match written {
        Ok(objects) => Ok(Exported {
            org,
            rows,
            objects,
            bytes: out.bytes,
            key,
        }),
        Err(e) => {
            drop(out);
            let _ = tokio::fs::remove_file(to).await;
            Err(e)
        }
    }
}

/// The raw recordings of the transfer database by object key: assessment and subject.
type RawOwners = BTreeMap<String, (String, String)>;

/// Makes the transfer database independent of this installation's root: authenticator
/// secrets come out opened (returned, by person, hex), identifiers and notes sealed before
/// envelope encryption are re-sealed under their subject's key (those of erased subjects,
/// which only the root still opens, are dropped). Returns the secrets and the raw recordings'
/// owners, whose files are re-sealed as they are written ([`reseal_raw`]).
async fn prepare_export(
    app: &App,
    roots: &Roots,
    org: OrgId,
    db: &Db,
) -> Result<(BTreeMap<String, String>, RawOwners), MoveError> {
    let totp = Sealer::derive_versions(roots, TOTP_SEALING);
    let mut secrets = BTreeMap::new();
    for user in org_copy::moved_users(db).await? {
        if let Some(sealed) = user.totp_secret_sealed {
            let opened = totp
                .open(&SealedBytes::from_ciphertext(sealed), &totp_place(&user.id))
                .map_err(|_| KeysError::Seal)?;
            secrets.insert(user.id.clone(), to_hex(opened.expose()));
            org_copy::set_totp_secret(db, &user.id, None).await?;
        }
    }
    for field in org_copy::sealed_fields(db).await? {
        if !is_legacy(&field.sealed) {
            continue;
        }
        let resealed = reseal_field(app, org, &field).await?;
        org_copy::replace_sealed(db, &field, resealed.as_ref().map(SealedBytes::as_bytes)).await?;
    }
    let raw = org_copy::raw_objects(db)
        .await?
        .into_iter()
        .map(|(key, assessment, subject)| (key, (assessment, subject)))
        .collect();
    Ok((secrets, raw))
}

/// A raw recording sealed before envelope encryption, sealed again under its subject's key, or
/// `None` when the subject has no key any more (erased: the recording stays behind).
async fn reseal_raw(
    app: &App,
    org: OrgId,
    (assessment, subject): &(String, String),
    bytes: Vec<u8>,
) -> Result<Option<Vec<u8>>, MoveError> {
    let subject = SubjectId::parse(subject)
        .map_err(|_| MoveError::Malformed("a subject id in the database"))?;
    let phi = app.phi.for_read(org, subject).await?;
    let plain = phi.open_raw(org, assessment, bytes)?;
    match phi.seal_raw(org, assessment, &plain) {
        Ok(sealed) => Ok(Some(sealed)),
        Err(AppError::Gone(_)) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Whether a sealed value's header says it was sealed with a root-derived key (format 1).
fn is_legacy(bytes: &[u8]) -> bool {
    bytes.first() == Some(&FORMAT_DERIVED)
}

/// A legacy value sealed again under its subject's key, or `None` when the subject has no key
/// any more (erased).
async fn reseal_field(
    app: &App,
    org: OrgId,
    field: &SealedField,
) -> Result<Option<SealedBytes>, MoveError> {
    let subject = SubjectId::parse(&field.subject)
        .map_err(|_| MoveError::Malformed("a subject id in the database"))?;
    let phi = app.phi.for_read(org, subject).await?;
    let at = FieldAt {
        org,
        table: field.table,
        column: field.column,
        row: &field.row,
    };
    let text = phi.open(at, &SealedBytes::from_ciphertext(field.sealed.clone()))?;
    match phi.seal(at, &text) {
        Ok(sealed) => Ok(Some(sealed)),
        Err(AppError::Gone(_)) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// What was read from a transfer file, checked against its manifest.
struct Opened {
    org: OrgId,
    manifest: Manifest,
    database: Scratch,
    /// Objects, each in a private scratch file: key, file.
    objects: Vec<(ObjectKey, Scratch)>,
}

/// Reads the whole file into scratch files and checks every digest before anything is
/// written to this installation.
async fn open_file(
    app: &App,
    from: &Path,
    key: &TransferKey,
    scratch: &Path,
) -> Result<Opened, MoveError> {
    let mut file = tokio::io::BufReader::new(tokio::fs::File::open(from).await?);
    let mut magic = vec![0u8; MAGIC.len()];
    file.read_exact(&mut magic)
        .await
        .map_err(|_| MoveError::Malformed("not an MHP organisation transfer file"))?;
    if magic != MAGIC {
        return Err(MoveError::Malformed(
            "not an MHP organisation transfer file",
        ));
    }
    let mut frames = FrameReader {
        file,
        sealer: key.sealer(),
        next: 0,
    };
    let header: Header = match frames.frame().await? {
        Some((HEADER, h)) => serde_json::from_slice(h.expose())
            .map_err(|_| MoveError::Malformed("the header does not parse"))?,
        _ => {
            return Err(MoveError::Malformed(
                "the file does not start with its header",
            ));
        }
    };
    if header.format != FORMAT {
        return Err(MoveError::Malformed(
            "a transfer format this version does not read",
        ));
    }
    let org = OrgId::parse(&header.org).map_err(|_| MoveError::Malformed("the organisation id"))?;
    {
        let mut tx = app.db.operator(Access::Read).await?;
        if org_copy::org_exists(&mut tx, org).await? {
            return Err(MoveError::Exists(org));
        }
    }
    let database = Scratch::new(scratch, "import");
    let mut db_file = tokio::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&database.0)
        .await?;
    let mut db_hash = Sha256::new();
    let mut db_size = 0u64;
    let mut objects: Vec<(ObjectKey, Scratch, Digest)> = Vec::new();
    let prefixes = object_prefixes(org);
    let manifest: Manifest = loop {
        match frames.frame().await? {
            Some((DATABASE, chunk)) if objects.is_empty() => {
                db_hash.update(chunk.expose());
                db_size += chunk.expose().len() as u64;
                db_file.write_all(chunk.expose()).await?;
            }
            Some((OBJECT, body)) => {
                let body = body.expose();
                let key_len = body
                    .get(..2)
                    .map(|b| usize::from(u16::from_be_bytes([b[0], b[1]])))
                    .ok_or(MoveError::Malformed("an object frame"))?;
                let name = body
                    .get(2..2 + key_len)
                    .and_then(|b| std::str::from_utf8(b).ok())
                    .ok_or(MoveError::Malformed("an object's key"))?;
                // Only the organisation's own places: a file cannot write elsewhere.
                if !prefixes.iter().any(|p| name.starts_with(p.as_str())) {
                    return Err(MoveError::Malformed("an object outside the organisation"));
                }
                let object_key =
                    ObjectKey::parse(name).map_err(|_| MoveError::Malformed("an object's key"))?;
                let bytes = &body[2 + key_len..];
                let file = Scratch::new(scratch, "object");
                tokio::fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .mode(0o600)
                    .open(&file.0)
                    .await?
                    .write_all(bytes)
                    .await?;
                objects.push((object_key, file, Digest::of(bytes)));
            }
            Some((MANIFEST, m)) => {
                break serde_json::from_slice(m.expose())
                    .map_err(|_| MoveError::Malformed("the manifest does not parse"))?;
            }
            Some(_) => return Err(MoveError::Malformed("a frame out of place")),
            None => return Err(MoveError::Malformed("the file ends before its manifest")),
        }
    };
    db_file.sync_all().await?;
    drop(db_file);
    if frames.frame().await?.is_some() {
        return Err(MoveError::Malformed("frames after the manifest"));
    }
    let listed: Vec<(String, Digest)> = objects
        .iter()
        .map(|(k, _, d)| (k.as_str().to_owned(), d.clone()))
        .collect();
    if manifest.format != FORMAT
        || manifest.org != header.org
        || manifest.frames + 1 != frames.next
        || manifest.database
            != (Digest {
                size: db_size,
                sha256: to_hex(&db_hash.finalize()),
            })
        || manifest.objects != listed
    {
        return Err(MoveError::Malformed(
            "the manifest does not match the frames",
        ));
    }
    Ok(Opened {
        org,
        manifest,
        database,
        objects: objects.into_iter().map(|(k, f, _)| (k, f)).collect(),
    })
}

/// Brings an organisation from a transfer file into this installation. Refused when the
/// organisation exists here; nothing is written until the whole file has been read and
/// checked, the rows commit in one transaction with the audit events that describe the
/// import, and keys and objects stored before it are removed again if it fails.
pub async fn import(
    app: &App,
    roots: &Roots,
    from: &Path,
    key: &TransferKey,
    scratch: &Path,
    caller: &Caller,
) -> Result<Imported, MoveError> {
    let opened = open_file(app, from, key, scratch).await?;
    let db = opened.database.open().await?;
    let result = import_opened(app, roots, &opened, &db, caller).await;
    db.close().await;
    result
}

async fn import_opened(
    app: &App,
    roots: &Roots,
    opened: &Opened,
    db: &Db,
    caller: &Caller,
) -> Result<Imported, MoveError> {
    let org = opened.org;
    let manifest = &opened.manifest;
    // The chain as the source signed it.
    let public: Vec<[u8; 32]> = manifest
        .audit_public_keys
        .iter()
        .map(|k| {
            from_hex(k)
                .and_then(|b| <[u8; 32]>::try_from(b).ok())
                .ok_or(MoveError::Malformed("a checkpoint key"))
        })
        .collect::<Result<_, _>>()?;
    {
        let mut tx = db.operator(Access::Read).await?;
        let report = audit::verify(&mut tx, &public).await?;
        if let Some(first) = report.findings.first() {
            return Err(MoveError::AuditChain(first.to_string()));
        }
    }

    // People: linked to an account here, or brought with a secret sealed here.
    let totp = Sealer::derive_versions(roots, TOTP_SEALING);
    let (mut linked, mut added) = (0, 0);
    for user in org_copy::moved_users(db).await? {
        let existing = {
            let mut tx = app.db.operator(Access::Read).await?;
            org_copy::existing_user(&mut tx, &user.id, &user.email).await?
        };
        if let Some(here) = existing {
            org_copy::merge_user(db, &user.id, &here).await?;
            linked += 1;
            continue;
        }
        if let Some(hex) = manifest.totp_secrets.get(&user.id) {
            let secret =
                Secret::new(from_hex(hex).ok_or(MoveError::Malformed("a secret is not hex"))?);
            let sealed = totp
                .seal(secret.expose(), &totp_place(&user.id))
                .map_err(|_| KeysError::Seal)?;
            org_copy::set_totp_secret(db, &user.id, Some(sealed.as_bytes())).await?;
        }
        added += 1;
    }
    org_copy::clear_platform_roles(db).await?;

    // Keys, wrapped by this installation's master key.
    let mut keys = OrgKeys::default();
    for k in &manifest.org_keys {
        let (row, bytes) = k.row(org)?;
        let bytes = Secret::new(bytes);
        let key = DataKey::from_slice(bytes.expose()).ok_or(MoveError::Malformed("a key"))?;
        keys.org.push((
            WrappedRow {
                wrapped: Vec::new(),
                ..row
            },
            key,
        ));
    }
    for k in &manifest.subject_keys {
        keys.subjects.push(k.row(org)?.0);
    }
    app.phi.keys().import_org(org, &keys).await?;

    let mut stored = Vec::new();
    let done = async {
        // Blind indexes under this installation's root, and the import's own event, in the
        // organisation's chain, where the chain continues.
        let scope = OrgScope::for_command_line(org);
        let here = App {
            db: db.clone(),
            ..app.clone()
        };
        let (version, index_root) = roots.index();
        let blind = mhp_crypto::blind::BlindIndexer::derive(index_root);
        let subjects_indexed =
            crate::subjects::reindex(&here, &scope, caller, &blind, version).await?;
        {
            let mut tx = db.tenant(&scope, Access::Write).await?;
            caller
                .record(
                    &mut tx,
                    "org.import",
                    "organisation",
                    Some(org.to_string()),
                    app.now(),
                )
                .await?;
            tx.commit().await?;
        }
        for (key, file) in &opened.objects {
            let bytes = tokio::fs::read(&file.0).await?;
            app.objects.put(key, &bytes).await?;
            stored.push(key.clone());
        }
        let (key_version, current) = roots.current();
        let signer = CheckpointKey::derive(current);
        let mut tx = app.db.operator(Access::Write).await?;
        let rows = org_copy::import_org(db, &mut tx, org).await?.rows;
        audit::append_as_operator(
            &mut tx,
            None,
            &caller.event("org.import", "organisation", Some(org.to_string())),
            app.now(),
        )
        .await?;
        audit::checkpoint_anchor(&mut tx, &org.to_string(), &signer, key_version, app.now())
            .await?;
        audit::checkpoint(&mut tx, &signer, key_version, app.now()).await?;
        tx.commit().await?;
        Ok::<_, MoveError>((rows, subjects_indexed))
    }
    .await;
    let (rows, subjects_indexed) = match done {
        Ok(d) => d,
        Err(e) => {
            for key in &stored {
                let _ = app.objects.delete(key).await;
            }
            app.phi.keys().abandon_import(org).await?;
            return Err(e);
        }
    };
    let documents_indexed =
        crate::indexing::rebuild_org(app, &OrgScope::for_command_line(org)).await?;
    Ok(Imported {
        org,
        rows,
        objects: stored.len(),
        people_linked: linked,
        people_added: added,
        subjects_indexed,
        documents_indexed,
    })
}
