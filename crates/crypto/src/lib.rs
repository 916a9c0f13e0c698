//! Key material and sealing. The installation root ([`MasterKey`]) is the root of keys derived
//! per purpose (token-key sealing, blind indexes, pseudonyms, audit checkpoints); it lives in the
//! key store, wrapped by the master-key provider (`mhp_app::keys::Keys::root`), and a root file
//! of an older installation is read once to move it there. [`envelope`] holds the data keys of
//! organisations and subjects and the master-key providers that wrap them; [`seal`] encrypts
//! values with either.

pub mod blind;
pub mod checkpoint;
pub mod envelope;
pub mod pseudonym;
pub mod seal;
pub mod secrets;

use std::fs::{self, OpenOptions};
use std::io::{self, Write as _};
use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};

use mhp_domain::Secret;
use rand::TryRngCore as _;

/// Length of a master key in bytes (AES-256).
pub const MASTER_KEY_LEN: usize = 32;

const HEADER: &str = "mhp-master-key-v1:";

/// Why a master key file could not be used. The key itself is never part of a message.
#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    /// Group or others may read or write the file.
    #[error(
        "master key file {path} is accessible by group or others (mode {mode:04o}); \
         run `chmod 600 {path}`"
    )]
    TooOpen {
        /// The file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// The file is not a master key file of this format.
    #[error("master key file {path} is malformed")]
    Malformed {
        /// The file.
        path: PathBuf,
    },
    /// The file could not be read or created.
    #[error("master key file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What the system said.
        source: io::Error,
    },
}

/// The master key: wraps every data key. Printing it shows `[redacted]`; it is wiped on drop.
#[derive(Debug)]
pub struct MasterKey {
    bytes: Secret<[u8; MASTER_KEY_LEN]>,
    created: bool,
}

impl MasterKey {
    /// Loads the key from `path`, or creates it there (mode 0600, fresh random bytes from the
    /// operating system) when the file does not exist. A file that group or others can access
    /// is refused.
    pub fn load_or_create(path: &Path) -> Result<Self, KeyFileError> {
        match fs::metadata(path) {
            Ok(_) => Self::load(path),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Self::create(path),
            Err(source) => Err(KeyFileError::Io {
                path: path.to_owned(),
                source,
            }),
        }
    }

    /// Reads the key file at `path`, or `None` when there is none (never creates one).
    pub fn load_existing(path: &Path) -> Result<Option<Self>, KeyFileError> {
        match fs::metadata(path) {
            Ok(_) => Self::load(path).map(Some),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(KeyFileError::Io {
                path: path.to_owned(),
                source,
            }),
        }
    }

    /// A root from its bytes (as unwrapped from the key store).
    pub fn from_bytes(bytes: &[u8; MASTER_KEY_LEN]) -> Self {
        Self {
            bytes: Secret::new(*bytes),
            created: false,
        }
    }

    /// Fresh random bytes from the operating system.
    pub fn generate() -> Result<Self, KeyFileError> {
        let mut bytes = [0u8; MASTER_KEY_LEN];
        rand::rngs::OsRng
            .try_fill_bytes(&mut bytes)
            .map_err(|e| KeyFileError::Io {
                path: PathBuf::new(),
                source: io::Error::other(e),
            })?;
        let key = Self::from_bytes(&bytes);
        zeroize::Zeroize::zeroize(&mut bytes);
        Ok(Self {
            created: true,
            ..key
        })
    }

    /// Whether this call created the key (a new file, or fresh bytes).
    pub fn was_created(&self) -> bool {
        self.created
    }

    /// Whether two roots are the same, compared in constant time.
    pub fn same_as(&self, other: &Self) -> bool {
        use subtle::ConstantTimeEq as _;
        self.expose().ct_eq(other.expose()).into()
    }

    /// The key bytes, for the crypto layer only.
    pub fn expose(&self) -> &[u8; MASTER_KEY_LEN] {
        self.bytes.expose()
    }

    fn load(path: &Path) -> Result<Self, KeyFileError> {
        let io_err = |source| KeyFileError::Io {
            path: path.to_owned(),
            source,
        };
        let meta = fs::metadata(path).map_err(io_err)?;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(KeyFileError::TooOpen {
                path: path.to_owned(),
                mode,
            });
        }
        let text = Secret::new(fs::read_to_string(path).map_err(io_err)?);
        let malformed = || KeyFileError::Malformed {
            path: path.to_owned(),
        };
        let hex = text
            .expose()
            .trim_end()
            .strip_prefix(HEADER)
            .ok_or_else(malformed)?;
        let bytes = decode_hex(hex).ok_or_else(malformed)?;
        Ok(Self {
            bytes: Secret::new(bytes),
            created: false,
        })
    }

    fn create(path: &Path) -> Result<Self, KeyFileError> {
        let io_err = |source| KeyFileError::Io {
            path: path.to_owned(),
            source,
        };
        let mut bytes = [0u8; MASTER_KEY_LEN];
        rand::rngs::OsRng
            .try_fill_bytes(&mut bytes)
            .map_err(|e| io_err(io::Error::other(e)))?;
        let key = Secret::new(bytes);
        let text = Secret::new(format!("{HEADER}{}\n", encode_hex(key.expose())));
        // create_new: never overwrite a key that appeared meanwhile.
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
            .map_err(io_err)?;
        file.write_all(text.expose().as_bytes()).map_err(io_err)?;
        file.sync_all().map_err(io_err)?;
        Ok(Self {
            bytes: key,
            created: true,
        })
    }
}

/// Every version of the installation root this process holds. New seals and checkpoint
/// signatures use the newest ([`Roots::current`]); values sealed or signed under an older
/// version still open and verify while it is held. Blind indexes and pseudonyms are keyed by
/// one version ([`Roots::index`], the oldest not retired) until `mhp keys reindex` moves them to
/// the newest (docs/design/root.md).
#[derive(Debug)]
pub struct Roots {
    older: std::collections::BTreeMap<u32, MasterKey>,
    newest: (u32, MasterKey),
    index: u32,
}

impl Roots {
    /// The versions held and the one blind indexes and pseudonyms use; `None` when there is
    /// no version or `index` is not one of them.
    pub fn new(
        mut versions: std::collections::BTreeMap<u32, MasterKey>,
        index: u32,
    ) -> Option<Self> {
        let newest = versions.pop_last()?;
        (newest.0 == index || versions.contains_key(&index)).then_some(Self {
            older: versions,
            newest,
            index,
        })
    }

    /// One root as version 1 (tests, tools).
    pub fn single(key: MasterKey) -> Self {
        Self {
            older: std::collections::BTreeMap::new(),
            newest: (1, key),
            index: 1,
        }
    }

    /// The newest version: new seals and checkpoint signatures.
    pub fn current(&self) -> (u32, &MasterKey) {
        (self.newest.0, &self.newest.1)
    }

    /// The version blind indexes and pseudonyms are keyed by.
    pub fn index(&self) -> (u32, &MasterKey) {
        match self.older.get(&self.index) {
            Some(k) => (self.index, k),
            None => self.current(),
        }
    }

    /// Every version held, oldest first.
    pub fn versions(&self) -> impl Iterator<Item = (u32, &MasterKey)> {
        self.older
            .iter()
            .map(|(v, k)| (*v, k))
            .chain(std::iter::once(self.current()))
    }
}

fn encode_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    s
}

fn decode_hex(s: &str) -> Option<[u8; MASTER_KEY_LEN]> {
    let s = s.as_bytes();
    if s.len() != MASTER_KEY_LEN * 2 {
        return None;
    }
    let nibble = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    };
    let mut out = [0u8; MASTER_KEY_LEN];
    for (i, pair) in s.chunks_exact(2).enumerate() {
        out[i] = (nibble(pair[0])? << 4) | nibble(pair[1])?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_key_is_created_private_and_loads_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("master.key");
        let created = MasterKey::load_or_create(&path).unwrap();
        assert!(created.was_created());
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let loaded = MasterKey::load_or_create(&path).unwrap();
        assert!(!loaded.was_created());
        assert_eq!(created.expose(), loaded.expose());
        assert_ne!(created.expose(), &[0u8; MASTER_KEY_LEN]);
    }

    #[test]
    fn a_key_readable_by_others_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("master.key");
        MasterKey::load_or_create(&path).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        let err = MasterKey::load_or_create(&path).unwrap_err();
        assert!(matches!(err, KeyFileError::TooOpen { mode: 0o644, .. }));
        assert!(err.to_string().contains("chmod 600"), "{err}");
    }

    #[test]
    fn a_malformed_key_file_is_refused_without_echoing_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("master.key");
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
            .unwrap();
        f.write_all(b"mhp-master-key-v1:deadbeef-secretish\n")
            .unwrap();
        let err = MasterKey::load_or_create(&path).unwrap_err();
        assert!(matches!(err, KeyFileError::Malformed { .. }));
        assert!(!err.to_string().contains("deadbeef"));
    }

    #[test]
    fn the_key_never_prints() {
        let dir = tempfile::tempdir().unwrap();
        let key = MasterKey::load_or_create(&dir.path().join("k")).unwrap();
        let shown = format!("{key:?}");
        assert!(!shown.contains(&encode_hex(key.expose())), "{shown}");
    }
}
