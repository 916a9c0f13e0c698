//! Sealing: AES-256-GCM with a random 96-bit nonce and associated data that binds each
//! ciphertext to where it lives (organisation, table, column, row), so a ciphertext copied to
//! another row or tenant does not open.
//!
//! Format: `FORMAT | key version (u32, big-endian) | nonce (12) | ciphertext and tag`, where
//! FORMAT is `0x01` for keys derived from the master key per purpose (HKDF-SHA256; system
//! secrets, and PHI written before envelope encryption) and `0x02` for data keys of the
//! envelope ([`crate::envelope`]): then the version names the data key version, and the owner
//! of the key (organisation or subject) follows from the place.

use aes_gcm::aead::{Aead as _, KeyInit as _, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use hkdf::Hkdf;
use mhp_domain::{OrgId, SealedBytes, Secret};
use rand::TryRngCore as _;
use sha2::Sha256;
use zeroize::Zeroize as _;

use crate::envelope::DataKey;
use crate::{MasterKey, Roots};

/// Format byte of values sealed with a key derived from the master key.
pub const FORMAT_DERIVED: u8 = 1;
/// Format byte of values sealed with an envelope data key.
pub const FORMAT_DATA_KEY: u8 = 2;
const DERIVED_VERSION: u32 = 1;
const HEADER_LEN: usize = 1 + 4 + 12;

/// The format byte and key version of a sealed value, if it has a header at all.
pub fn header(sealed: &SealedBytes) -> Option<(u8, u32)> {
    let b = sealed.as_bytes();
    if b.len() < HEADER_LEN + 16 {
        return None;
    }
    Some((b[0], u32::from_be_bytes([b[1], b[2], b[3], b[4]])))
}

/// Why sealing or opening failed. Never says more: a wrong key, a moved ciphertext and a
/// tampered one look the same.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    /// The ciphertext does not open with this key and this associated data.
    #[error("sealed value does not open here (wrong key, wrong place, or altered)")]
    Open,
    /// The ciphertext is not in a format this build knows.
    #[error("sealed value has an unknown format or key version")]
    Format,
    /// The system's random source failed.
    #[error("random source unavailable")]
    Random,
}

/// Where a sealed value lives. Part of the authenticated data of its ciphertext.
#[derive(Debug, Clone, Copy)]
pub struct Place<'a> {
    /// The organisation, for tenant data.
    pub org: Option<OrgId>,
    /// The table.
    pub table: &'a str,
    /// The column.
    pub column: &'a str,
    /// The row's id.
    pub row: &'a str,
}

impl Place<'_> {
    /// Length-prefixed fields, so no two places encode alike.
    fn encode(&self) -> Vec<u8> {
        let org = self.org.map(|o| o.to_string()).unwrap_or_default();
        let mut out = Vec::with_capacity(64);
        for field in [org.as_str(), self.table, self.column, self.row] {
            out.extend_from_slice(&u32::try_from(field.len()).unwrap_or(u32::MAX).to_be_bytes());
            out.extend_from_slice(field.as_bytes());
        }
        out
    }
}

/// Seals and opens values for one purpose.
pub struct Sealer {
    cipher: Aes256Gcm,
    format: u8,
    version: u32,
    /// Older versions of a derived sealer: they open what they sealed, and seal nothing.
    older: Vec<(u32, Aes256Gcm)>,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer([redacted])")
    }
}

impl Sealer {
    /// The sealer for `purpose` ("users.totp", ...), derived from the master key.
    pub fn derive(master: &MasterKey, purpose: &str) -> Self {
        Self {
            cipher: derived_cipher(master, purpose),
            format: FORMAT_DERIVED,
            version: DERIVED_VERSION,
            older: Vec::new(),
        }
    }

    /// The sealer for `purpose` under every version of the installation root: it seals with
    /// the newest (the header names the version) and opens what any version held sealed.
    pub fn derive_versions(roots: &Roots, purpose: &str) -> Self {
        let (version, current) = roots.current();
        Self {
            cipher: derived_cipher(current, purpose),
            format: FORMAT_DERIVED,
            version,
            older: roots
                .versions()
                .filter(|(v, _)| *v != version)
                .map(|(v, k)| (v, derived_cipher(k, purpose)))
                .collect(),
        }
    }

    /// The sealer of version `version` of an envelope data key.
    pub fn with_data_key(key: &DataKey, version: u32) -> Self {
        Self {
            cipher: Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(key.expose())),
            format: FORMAT_DATA_KEY,
            version,
            older: Vec::new(),
        }
    }

    /// Seals `plaintext` for `place`.
    pub fn seal(&self, plaintext: &[u8], place: &Place<'_>) -> Result<SealedBytes, SealError> {
        let mut nonce = [0u8; 12];
        rand::rngs::OsRng
            .try_fill_bytes(&mut nonce)
            .map_err(|_| SealError::Random)?;
        let aad = place.encode();
        let ct = self
            .cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad: &aad,
                },
            )
            .map_err(|_| SealError::Open)?;
        let mut out = Vec::with_capacity(HEADER_LEN + ct.len());
        out.push(self.format);
        out.extend_from_slice(&self.version.to_be_bytes());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ct);
        Ok(SealedBytes::from_ciphertext(out))
    }

    /// Opens a value sealed for `place`.
    pub fn open(
        &self,
        sealed: &SealedBytes,
        place: &Place<'_>,
    ) -> Result<Secret<Vec<u8>>, SealError> {
        let b = sealed.as_bytes();
        let cipher = match header(sealed) {
            Some((f, v)) if f == self.format && v == self.version => &self.cipher,
            Some((f, v)) if f == self.format => self
                .older
                .iter()
                .find_map(|(o, c)| (*o == v).then_some(c))
                .ok_or(SealError::Format)?,
            _ => return Err(SealError::Format),
        };
        let aad = place.encode();
        cipher
            .decrypt(
                Nonce::from_slice(&b[5..17]),
                Payload {
                    msg: &b[17..],
                    aad: &aad,
                },
            )
            .map(Secret::new)
            .map_err(|_| SealError::Open)
    }
}

/// The AES-256-GCM key of `purpose` under `master` (HKDF-SHA256).
fn derived_cipher(master: &MasterKey, purpose: &str) -> Aes256Gcm {
    let hk = Hkdf::<Sha256>::new(Some(b"mhp seal v1"), master.expose());
    let mut key = [0u8; 32];
    // 32 bytes is far below HKDF-SHA256's output limit, so expand cannot fail.
    let _ = hk.expand(purpose.as_bytes(), &mut key);
    let cipher = Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&key));
    key.zeroize();
    cipher
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sealer(purpose: &str) -> (tempfile::TempDir, Sealer) {
        let dir = tempfile::tempdir().unwrap();
        let key = MasterKey::load_or_create(&dir.path().join("k")).unwrap();
        (dir, Sealer::derive(&key, purpose))
    }

    fn place(row: &str) -> Place<'_> {
        Place {
            org: None,
            table: "users",
            column: "totp_secret_sealed",
            row,
        }
    }

    #[test]
    fn a_rotated_root_seals_with_its_newest_version_and_opens_every_version() {
        let dir = tempfile::tempdir().unwrap();
        let key = |n: &str| MasterKey::load_or_create(&dir.path().join(n)).unwrap();
        let v1 = Roots::single(key("a"));
        let both = Roots::new(
            std::collections::BTreeMap::from([(1, key("a")), (2, key("b"))]),
            1,
        )
        .unwrap();
        let (old, new) = (
            Sealer::derive_versions(&v1, "users.totp"),
            Sealer::derive_versions(&both, "users.totp"),
        );
        let sealed_v1 = old.seal(b"one", &place("u1")).unwrap();
        let sealed_v2 = new.seal(b"two", &place("u1")).unwrap();
        assert_eq!(header(&sealed_v1), Some((FORMAT_DERIVED, 1)));
        assert_eq!(header(&sealed_v2), Some((FORMAT_DERIVED, 2)));
        assert_eq!(new.open(&sealed_v1, &place("u1")).unwrap().expose(), b"one");
        assert_eq!(new.open(&sealed_v2, &place("u1")).unwrap().expose(), b"two");
        assert_eq!(
            old.open(&sealed_v2, &place("u1")).unwrap_err(),
            SealError::Format,
            "a process that holds only version 1 cannot open version 2"
        );
        // A file's root, and the first version in the key store, seal alike.
        let plain = Sealer::derive(&key("a"), "users.totp");
        assert_eq!(
            plain.open(&sealed_v1, &place("u1")).unwrap().expose(),
            b"one"
        );
        assert_eq!(both.index().0, 1);
        assert_eq!(both.current().0, 2);
        assert!(Roots::new(std::collections::BTreeMap::from([(2, key("b"))]), 1).is_none());
    }

    #[test]
    fn sealed_values_open_only_in_their_place() {
        let (_d, s) = sealer("users.totp");
        let sealed = s.seal(b"JBSWY3DPEHPK3PXP", &place("u1")).unwrap();
        assert_eq!(
            s.open(&sealed, &place("u1")).unwrap().expose(),
            b"JBSWY3DPEHPK3PXP"
        );
        assert_eq!(s.open(&sealed, &place("u2")), Err(SealError::Open));
        let other_org = Place {
            org: Some(OrgId::new()),
            ..place("u1")
        };
        assert_eq!(s.open(&sealed, &other_org), Err(SealError::Open));
        assert!(
            !sealed
                .as_bytes()
                .windows(16)
                .any(|w| w == b"JBSWY3DPEHPK3PXP")
        );
    }

    #[test]
    fn other_purposes_and_tampering_do_not_open() {
        let (dir, s) = sealer("users.totp");
        let key = MasterKey::load_or_create(&dir.path().join("k")).unwrap();
        let other = Sealer::derive(&key, "subjects.name");
        let sealed = s.seal(b"secret", &place("u1")).unwrap();
        assert_eq!(other.open(&sealed, &place("u1")), Err(SealError::Open));
        let mut bytes = sealed.into_bytes();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        assert_eq!(
            s.open(&SealedBytes::from_ciphertext(bytes), &place("u1")),
            Err(SealError::Open)
        );
        assert_eq!(
            s.open(&SealedBytes::from_ciphertext(vec![9; 40]), &place("u1")),
            Err(SealError::Format)
        );
    }

    #[test]
    fn data_key_sealers_name_their_version_and_open_only_their_own() {
        let key = DataKey::generate().unwrap();
        let v3 = Sealer::with_data_key(&key, 3);
        let sealed = v3.seal(b"Ada", &place("s1")).unwrap();
        assert_eq!(header(&sealed), Some((FORMAT_DATA_KEY, 3)));
        assert_eq!(v3.open(&sealed, &place("s1")).unwrap().expose(), b"Ada");
        let v4 = Sealer::with_data_key(&key, 4);
        assert_eq!(v4.open(&sealed, &place("s1")), Err(SealError::Format));
        let other = Sealer::with_data_key(&DataKey::generate().unwrap(), 3);
        assert_eq!(other.open(&sealed, &place("s1")), Err(SealError::Open));
        let (_d, derived) = sealer("x");
        assert_eq!(derived.open(&sealed, &place("s1")), Err(SealError::Format));
    }

    #[test]
    fn sealing_twice_gives_different_ciphertexts() {
        let (_d, s) = sealer("x");
        assert_ne!(
            s.seal(b"a", &place("r")).unwrap(),
            s.seal(b"a", &place("r")).unwrap()
        );
    }
}
