//! Envelope encryption: data keys, and the master-key providers that wrap them.
//!
//! Every organisation has a data key and every subject a key of its own. Subject keys are
//! wrapped by their organisation's key and organisation keys by a master key held by a
//! [`MasterKeyProvider`]: the local key ring (the embedded default, [`LocalKeyring`]), AWS KMS or
//! Vault Transit (behind cargo features). A wrapped key is bound to its name and version by the
//! associated data ([`WrapContext`]), so a wrapped key moved to another subject does not unwrap.
//!
//! Destroying a subject's wrapped key makes everything sealed with it unreadable, wherever a
//! copy of the ciphertext lives (crypto-shredding).

use std::collections::BTreeMap;
use std::fs::{self, OpenOptions};
use std::future::Future;
use std::io::{self, Write as _};
use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::RwLock;

use aes_gcm::aead::{Aead as _, KeyInit as _, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use mhp_domain::Secret;
use rand::TryRngCore as _;
use zeroize::Zeroize as _;

/// Length of a data key in bytes (AES-256).
pub const DATA_KEY_LEN: usize = 32;

/// A data key in the clear. Printing it shows `[redacted]`; it is wiped on drop.
#[derive(Debug, Clone)]
pub struct DataKey(Secret<[u8; DATA_KEY_LEN]>);

impl DataKey {
    /// A fresh key from the operating system's random source.
    pub fn generate() -> Result<Self, KeyError> {
        let mut bytes = [0u8; DATA_KEY_LEN];
        rand::rngs::OsRng
            .try_fill_bytes(&mut bytes)
            .map_err(|_| KeyError::Random)?;
        Ok(Self(Secret::new(bytes)))
    }

    /// A key from bytes that a provider unwrapped; `None` unless exactly 32 bytes.
    pub fn from_slice(bytes: &[u8]) -> Option<Self> {
        let arr: [u8; DATA_KEY_LEN] = bytes.try_into().ok()?;
        Some(Self(Secret::new(arr)))
    }

    /// The key bytes, for the crypto layer and providers only.
    pub fn expose(&self) -> &[u8; DATA_KEY_LEN] {
        self.0.expose()
    }

    /// HMAC-SHA256 of `message` under a key derived from this one for `purpose` (HKDF), so
    /// the tag never reuses the encryption key itself.
    pub fn mac(&self, purpose: &str, message: &[u8]) -> [u8; 32] {
        use hmac::Mac as _;
        let hk = hkdf::Hkdf::<sha2::Sha256>::new(Some(b"mhp mac v1"), self.expose());
        // HMAC pads a short key with zeros to the hash's block: deriving 32 bytes into a
        // 64-byte block is that padding, and takes the constructor that cannot fail.
        let mut block = [0u8; 64];
        // 32 bytes is far below HKDF-SHA256's limit, so expand cannot fail.
        let _ = hk.expand(purpose.as_bytes(), &mut block[..32]);
        let mut mac = <hmac::Hmac<sha2::Sha256> as hmac::digest::KeyInit>::new(&block.into());
        block.zeroize();
        mac.update(message);
        mac.finalize().into_bytes().into()
    }

    /// Whether `tag` is [`DataKey::mac`] of `message` for `purpose` (compared in constant
    /// time).
    pub fn verify_mac(&self, purpose: &str, message: &[u8], tag: &[u8]) -> bool {
        use subtle::ConstantTimeEq as _;
        let expected = self.mac(purpose, message);
        tag.len() == expected.len() && bool::from(expected.ct_eq(tag))
    }
}

/// A data key wrapped by another key: the wrapping key's version and the ciphertext.
#[derive(Clone, PartialEq, Eq)]
pub struct WrappedKey {
    /// Version of the key that wrapped it (master key version, or organisation key version).
    pub wrapper_version: u32,
    /// The wrapped bytes; opaque, provider-specific.
    pub bytes: Vec<u8>,
}

impl std::fmt::Debug for WrappedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "WrappedKey(v{}, {} bytes)",
            self.wrapper_version,
            self.bytes.len()
        )
    }
}

/// What a wrapped key is bound to: its name (`org/…`, `subject/…`) and version. Providers
/// pass it as associated data (local ring, Vault Transit context) or encryption context (KMS).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrapContext {
    /// The key's name.
    pub key_id: String,
    /// The key's version.
    pub version: u32,
}

impl WrapContext {
    /// Length-prefixed bytes, for associated data.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.key_id.len() + 16);
        out.extend_from_slice(b"mhp-wrap-v1");
        out.extend_from_slice(
            &u32::try_from(self.key_id.len())
                .unwrap_or(u32::MAX)
                .to_be_bytes(),
        );
        out.extend_from_slice(self.key_id.as_bytes());
        out.extend_from_slice(&self.version.to_be_bytes());
        out
    }

    /// The same as a string map, for KMS's encryption context.
    pub fn to_map(&self) -> BTreeMap<String, String> {
        BTreeMap::from([
            ("mhp_key".to_owned(), self.key_id.clone()),
            ("mhp_key_version".to_owned(), self.version.to_string()),
        ])
    }
}

/// Why a key could not be wrapped, unwrapped or rotated. Never contains key material.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The wrapped key does not unwrap here (wrong master key, wrong context, or altered).
    #[error("wrapped key does not unwrap (wrong master key or context, or altered)")]
    Unwrap,
    /// The wrapping key version is not known to this provider.
    #[error("master key version {0} is not available")]
    UnknownVersion(u32),
    /// The key provider could not be reached or refused.
    #[error("key provider: {0}")]
    Provider(String),
    /// This provider rotates its keys itself.
    #[error("{0}")]
    Unsupported(String),
    /// Reading or writing a key file failed.
    #[error("key file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What the system said.
        source: io::Error,
    },
    /// A key file is not in this format, or is readable by others.
    #[error("key file {0} is malformed or accessible by group or others (chmod 600)")]
    BadFile(PathBuf),
    /// The system's random source failed.
    #[error("random source unavailable")]
    Random,
    /// Key material that must exist does not (and this caller may not create it).
    #[error("{0}")]
    Missing(String),
}

/// A boxed future, so providers can be trait objects.
pub type KeyFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, KeyError>> + Send + 'a>>;

/// Holds the master key and wraps data keys with it. Implementations: [`LocalKeyring`], and AWS
/// KMS and Vault Transit behind cargo features.
pub trait MasterKeyProvider: std::fmt::Debug + Send + Sync {
    /// A short name for logs and `mhp keys status`: `local`, `aws-kms`, `vault-transit`.
    fn name(&self) -> &'static str;

    /// The version new wraps use.
    fn current_version(&self) -> u32;

    /// Wraps `key` under the current master key version, bound to `context`.
    fn wrap<'a>(&'a self, key: &'a DataKey, context: &'a WrapContext) -> KeyFuture<'a, WrappedKey>;

    /// Unwraps a key wrapped by [`MasterKeyProvider::wrap`] for the same context.
    fn unwrap<'a>(
        &'a self,
        wrapped: &'a WrappedKey,
        context: &'a WrapContext,
    ) -> KeyFuture<'a, DataKey>;

    /// Creates a new master key version that later wraps use; returns it.
    fn rotate(&self) -> KeyFuture<'_, u32>;

    /// Notices versions created by another process (`mhp keys rotate` beside `mhp serve`, or
    /// a rotation in the provider's own console).
    fn refresh(&self) -> KeyFuture<'_, ()> {
        Box::pin(async { Ok(()) })
    }

    /// Retires a version no wrapped key uses any more: it wraps and unwraps nothing after.
    fn retire(&self, version: u32) -> KeyFuture<'_, ()>;

    /// Versions that can still unwrap.
    fn live_versions(&self) -> Vec<u32>;
}

/// Seals `key` under `wrapping` (AES-256-GCM, random nonce): `nonce (12) | ciphertext+tag`.
pub fn wrap_with(
    wrapping: &DataKey,
    key: &DataKey,
    context: &WrapContext,
) -> Result<Vec<u8>, KeyError> {
    let cipher = Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(wrapping.expose()));
    let mut nonce = [0u8; 12];
    rand::rngs::OsRng
        .try_fill_bytes(&mut nonce)
        .map_err(|_| KeyError::Random)?;
    let aad = context.to_bytes();
    let ct = cipher
        .encrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: key.expose(),
                aad: &aad,
            },
        )
        .map_err(|_| KeyError::Unwrap)?;
    let mut out = Vec::with_capacity(12 + ct.len());
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&ct);
    Ok(out)
}

/// Opens what [`wrap_with`] sealed.
pub fn unwrap_with(
    wrapping: &DataKey,
    wrapped: &[u8],
    context: &WrapContext,
) -> Result<DataKey, KeyError> {
    if wrapped.len() != 12 + DATA_KEY_LEN + 16 {
        return Err(KeyError::Unwrap);
    }
    let cipher = Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(wrapping.expose()));
    let aad = context.to_bytes();
    let plain = Secret::new(
        cipher
            .decrypt(
                Nonce::from_slice(&wrapped[..12]),
                Payload {
                    msg: &wrapped[12..],
                    aad: &aad,
                },
            )
            .map_err(|_| KeyError::Unwrap)?,
    );
    DataKey::from_slice(plain.expose()).ok_or(KeyError::Unwrap)
}

const RING_HEADER: &str = "mhp-kek-v1:";
const RETIRED: &str = ".retired";

/// The embedded default provider: key-encryption keys in files `kek-v{N}.key` (mode 0600) of
/// a directory beside the master key file. `rotate` adds a version; `retire` renames the file
/// to `kek-v{N}.key.retired`, after which it wraps and unwraps nothing (the operator deletes it
/// once no backup of the key store needs it).
#[derive(Debug)]
pub struct LocalKeyring {
    dir: PathBuf,
    keys: RwLock<BTreeMap<u32, DataKey>>,
}

impl LocalKeyring {
    /// Opens the ring in `dir` (created 0700 if missing) and creates version 1 if it is empty.
    pub fn open(dir: &Path) -> Result<Self, KeyError> {
        let io_err = |source| KeyError::Io {
            path: dir.to_owned(),
            source,
        };
        if !dir.exists() {
            fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)
                .map_err(io_err)?;
        }
        let ring = Self {
            dir: dir.to_owned(),
            keys: RwLock::new(BTreeMap::new()),
        };
        ring.reload()?;
        if ring.live_versions().is_empty() && ring.retired_versions()?.is_empty() {
            ring.create_version(1)?;
        }
        Ok(ring)
    }

    /// Opens a ring that must exist already: creates neither the directory nor a key (for
    /// commands that only read, such as `mhp keys status` and `mhp audit verify`).
    pub fn open_existing(dir: &Path) -> Result<Self, KeyError> {
        let ring = Self {
            dir: dir.to_owned(),
            keys: RwLock::new(BTreeMap::new()),
        };
        if dir.exists() {
            ring.reload()?;
        }
        if ring.live_versions().is_empty() {
            return Err(KeyError::Missing(format!(
                "no local key ring at {} (`mhp serve` creates it)",
                dir.display()
            )));
        }
        Ok(ring)
    }

    fn file(&self, version: u32) -> PathBuf {
        self.dir.join(format!("kek-v{version}.key"))
    }

    /// Versions whose files were retired.
    pub fn retired_versions(&self) -> Result<Vec<u32>, KeyError> {
        Ok(self
            .scan()?
            .into_iter()
            .filter_map(|(v, retired)| retired.then_some(v))
            .collect())
    }

    /// `(version, retired)` of every file in the ring.
    fn scan(&self) -> Result<Vec<(u32, bool)>, KeyError> {
        let entries = fs::read_dir(&self.dir).map_err(|source| KeyError::Io {
            path: self.dir.clone(),
            source,
        })?;
        let mut out = Vec::new();
        for entry in entries.flatten() {
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            let (stem, retired) = match name.strip_suffix(RETIRED) {
                Some(s) => (s, true),
                None => (name, false),
            };
            if let Some(v) = stem
                .strip_prefix("kek-v")
                .and_then(|s| s.strip_suffix(".key"))
                .and_then(|s| s.parse::<u32>().ok())
            {
                out.push((v, retired));
            }
        }
        out.sort_unstable();
        Ok(out)
    }

    fn load_file(path: &Path) -> Result<DataKey, KeyError> {
        let meta = fs::metadata(path).map_err(|source| KeyError::Io {
            path: path.to_owned(),
            source,
        })?;
        if meta.permissions().mode() & 0o077 != 0 {
            return Err(KeyError::BadFile(path.to_owned()));
        }
        let text = Secret::new(fs::read_to_string(path).map_err(|source| KeyError::Io {
            path: path.to_owned(),
            source,
        })?);
        text.expose()
            .trim_end()
            .strip_prefix(RING_HEADER)
            .and_then(decode_key)
            .ok_or_else(|| KeyError::BadFile(path.to_owned()))
    }

    fn create_version(&self, version: u32) -> Result<(), KeyError> {
        let key = DataKey::generate()?;
        let path = self.file(version);
        let io_err = |source| KeyError::Io {
            path: path.clone(),
            source,
        };
        let text = Secret::new(format!(
            "{RING_HEADER}{}\n",
            mhp_domain::to_hex(key.expose())
        ));
        // create_new: two processes rotating at once cannot overwrite each other's key.
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
            .map_err(io_err)?;
        file.write_all(text.expose().as_bytes()).map_err(io_err)?;
        file.sync_all().map_err(io_err)?;
        if let Ok(mut keys) = self.keys.write() {
            keys.insert(version, key);
        }
        Ok(())
    }

    /// Reads the ring's files again (versions another process added or retired).
    fn reload(&self) -> Result<(), KeyError> {
        let mut found = BTreeMap::new();
        for (version, retired) in self.scan()? {
            if !retired {
                found.insert(version, Self::load_file(&self.file(version))?);
            }
        }
        if let Ok(mut keys) = self.keys.write() {
            *keys = found;
        }
        Ok(())
    }

    fn key(&self, version: u32) -> Result<DataKey, KeyError> {
        if let Some(k) = self.keys.read().ok().and_then(|k| k.get(&version).cloned()) {
            return Ok(k);
        }
        // Perhaps another process rotated since.
        self.reload()?;
        self.keys
            .read()
            .ok()
            .and_then(|k| k.get(&version).cloned())
            .ok_or(KeyError::UnknownVersion(version))
    }
}

fn decode_key(hex: &str) -> Option<DataKey> {
    let s = hex.as_bytes();
    if s.len() != DATA_KEY_LEN * 2 {
        return None;
    }
    let nibble = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    };
    let mut bytes = [0u8; DATA_KEY_LEN];
    let mut ok = true;
    for (i, pair) in s.chunks_exact(2).enumerate() {
        match (nibble(pair[0]), nibble(pair[1])) {
            (Some(hi), Some(lo)) => bytes[i] = (hi << 4) | lo,
            _ => ok = false,
        }
    }
    let key = ok.then(|| DataKey::from_slice(&bytes)).flatten();
    bytes.zeroize();
    key
}

impl MasterKeyProvider for LocalKeyring {
    fn name(&self) -> &'static str {
        "local"
    }

    fn current_version(&self) -> u32 {
        self.live_versions().last().copied().unwrap_or(1)
    }

    fn wrap<'a>(&'a self, key: &'a DataKey, context: &'a WrapContext) -> KeyFuture<'a, WrappedKey> {
        Box::pin(async move {
            let version = self.current_version();
            let kek = self.key(version)?;
            Ok(WrappedKey {
                wrapper_version: version,
                bytes: wrap_with(&kek, key, context)?,
            })
        })
    }

    fn unwrap<'a>(
        &'a self,
        wrapped: &'a WrappedKey,
        context: &'a WrapContext,
    ) -> KeyFuture<'a, DataKey> {
        Box::pin(async move {
            let kek = self.key(wrapped.wrapper_version)?;
            unwrap_with(&kek, &wrapped.bytes, context)
        })
    }

    fn rotate(&self) -> KeyFuture<'_, u32> {
        Box::pin(async move {
            self.reload()?;
            let highest = self.scan()?.into_iter().map(|(v, _)| v).max().unwrap_or(0);
            let next = highest.saturating_add(1);
            self.create_version(next)?;
            Ok(next)
        })
    }

    fn refresh(&self) -> KeyFuture<'_, ()> {
        Box::pin(async { self.reload() })
    }

    fn retire(&self, version: u32) -> KeyFuture<'_, ()> {
        Box::pin(async move {
            if version == self.current_version() {
                return Err(KeyError::Unsupported(
                    "the current master key version cannot be retired".into(),
                ));
            }
            let from = self.file(version);
            let to = self.dir.join(format!("kek-v{version}.key{RETIRED}"));
            fs::rename(&from, &to).map_err(|source| KeyError::Io { path: from, source })?;
            if let Ok(mut keys) = self.keys.write() {
                keys.remove(&version);
            }
            Ok(())
        })
    }

    fn live_versions(&self) -> Vec<u32> {
        self.keys
            .read()
            .map(|k| k.keys().copied().collect())
            .unwrap_or_default()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn macs_depend_on_key_purpose_and_message() {
        let key = DataKey::generate().unwrap();
        let other = DataKey::generate().unwrap();
        let tag = key.mac("backup manifest", b"manifest");
        assert!(key.verify_mac("backup manifest", b"manifest", &tag));
        assert!(!key.verify_mac("backup manifest", b"manifesT", &tag));
        assert!(!key.verify_mac("other purpose", b"manifest", &tag));
        assert!(!other.verify_mac("backup manifest", b"manifest", &tag));
        assert!(!key.verify_mac("backup manifest", b"manifest", &tag[..31]));
        assert_ne!(tag, key.mac("backup manifest", b"manifest2"));
    }

    fn ctx(id: &str, version: u32) -> WrapContext {
        WrapContext {
            key_id: id.into(),
            version,
        }
    }

    fn block_on<F: Future>(f: F) -> F::Output {
        // The local ring never awaits anything, so one poll finishes it.
        let waker = std::task::Waker::noop();
        let mut cx = std::task::Context::from_waker(waker);
        let mut f = std::pin::pin!(f);
        match f.as_mut().poll(&mut cx) {
            std::task::Poll::Ready(v) => v,
            std::task::Poll::Pending => panic!("the local ring does not wait"),
        }
    }

    #[test]
    fn keys_wrap_and_unwrap_only_in_their_context() {
        let dir = tempfile::tempdir().unwrap();
        let ring = LocalKeyring::open(&dir.path().join("ring")).unwrap();
        let key = DataKey::generate().unwrap();
        let wrapped = block_on(ring.wrap(&key, &ctx("subject/a", 1))).unwrap();
        assert_eq!(wrapped.wrapper_version, 1);
        let back = block_on(ring.unwrap(&wrapped, &ctx("subject/a", 1))).unwrap();
        assert_eq!(back.expose(), key.expose());
        for other in [ctx("subject/b", 1), ctx("subject/a", 2)] {
            assert!(matches!(
                block_on(ring.unwrap(&wrapped, &other)),
                Err(KeyError::Unwrap)
            ));
        }
        assert!(
            !wrapped
                .bytes
                .windows(DATA_KEY_LEN)
                .any(|w| w == key.expose())
        );
        let mode = fs::metadata(dir.path().join("ring/kek-v1.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn rotation_adds_a_version_old_wraps_still_open_and_retired_versions_do_not() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ring");
        let ring = LocalKeyring::open(&path).unwrap();
        let key = DataKey::generate().unwrap();
        let old = block_on(ring.wrap(&key, &ctx("org/x", 1))).unwrap();
        assert_eq!(block_on(ring.rotate()).unwrap(), 2);
        let new = block_on(ring.wrap(&key, &ctx("org/x", 1))).unwrap();
        assert_eq!(new.wrapper_version, 2);
        assert!(block_on(ring.unwrap(&old, &ctx("org/x", 1))).is_ok());

        // Another process sees version 2 without restarting.
        let other = LocalKeyring::open(&path).unwrap();
        assert_eq!(other.current_version(), 2);
        assert!(matches!(
            block_on(ring.retire(2)),
            Err(KeyError::Unsupported(_))
        ));
        block_on(ring.retire(1)).unwrap();
        assert_eq!(ring.live_versions(), vec![2]);
        assert!(matches!(
            block_on(ring.unwrap(&old, &ctx("org/x", 1))),
            Err(KeyError::UnknownVersion(1))
        ));
        assert_eq!(ring.retired_versions().unwrap(), vec![1]);
        // A reopened ring neither revives nor recreates version 1.
        let reopened = LocalKeyring::open(&path).unwrap();
        assert_eq!(reopened.live_versions(), vec![2]);
        assert_eq!(block_on(reopened.rotate()).unwrap(), 3);
    }

    #[test]
    fn a_ring_file_readable_by_others_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ring");
        LocalKeyring::open(&path).unwrap();
        fs::set_permissions(path.join("kek-v1.key"), fs::Permissions::from_mode(0o644)).unwrap();
        let err = LocalKeyring::open(&path).unwrap_err();
        assert!(err.to_string().contains("chmod 600"), "{err}");
    }
}
