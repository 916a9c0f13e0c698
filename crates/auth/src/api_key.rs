//! API keys for devices and integrations.
//!
//! A key reads `mhp_<id>_<secret>`: `id` (12 characters) is public, stored as is and shown in
//! listings; `secret` (43 characters, 256 random bits, base64url) is shown once at creation and
//! stored only as its SHA-256. A slow password hash would add nothing to a 256-bit secret and
//! would cost every device request an Argon2 run.

use mhp_domain::Secret;
use rand::Rng as _;
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;

const PREFIX: &str = "mhp_";
const ID_LEN: usize = 12;
const SECRET_BYTES: usize = 32;
const ID_ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";

/// A newly minted key: the full token (show once), its public id and the hash to store.
#[derive(Debug)]
pub struct NewApiKey {
    /// The whole key, for the caller, once.
    pub token: Secret<String>,
    /// The public id.
    pub id: String,
    /// SHA-256 of the secret part.
    pub secret_sha256: [u8; 32],
}

/// A presented key, split into its public id and the hash of its secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresentedKey {
    /// The public id, to look the stored key up.
    pub id: String,
    secret_sha256: [u8; 32],
}

impl PresentedKey {
    /// Parses `mhp_<id>_<secret>`; anything else is not an API key.
    pub fn parse(token: &str) -> Option<Self> {
        let rest = token.strip_prefix(PREFIX)?;
        let (id, secret) = rest.split_once('_')?;
        let id_ok = id.len() == ID_LEN && id.bytes().all(|b| ID_ALPHABET.contains(&b));
        let secret_ok = secret.len() == 43
            && secret
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !(id_ok && secret_ok) {
            return None;
        }
        Some(Self {
            id: id.to_owned(),
            secret_sha256: Sha256::digest(secret.as_bytes()).into(),
        })
    }

    /// Whether the presented secret matches the stored hash, in constant time.
    pub fn matches(&self, stored_sha256: &[u8]) -> bool {
        stored_sha256.len() == 32 && bool::from(self.secret_sha256.ct_eq(stored_sha256))
    }
}

/// Mints a key.
pub fn mint() -> NewApiKey {
    let mut rng = rand::rng();
    let id: String = (0..ID_LEN)
        .map(|_| char::from(ID_ALPHABET[rng.random_range(0..ID_ALPHABET.len())]))
        .collect();
    mint_secret(id)
}

/// A new secret for the key `id` (a rotation keeps the id: listings and audit events go on
/// naming the same key).
pub fn mint_secret(id: String) -> NewApiKey {
    let mut rng = rand::rng();
    let mut secret_bytes = [0u8; SECRET_BYTES];
    rng.fill(&mut secret_bytes);
    let secret = Secret::new(base64url(&secret_bytes));
    let secret_sha256 = Sha256::digest(secret.expose().as_bytes()).into();
    NewApiKey {
        token: Secret::new(format!("{PREFIX}{id}_{}", secret.expose())),
        id,
        secret_sha256,
    }
}

/// Unpadded base64url (RFC 4648 §5).
pub(crate) fn base64url(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_minted_key_parses_and_matches_only_itself() {
        let key = mint();
        let token = key.token.expose();
        assert!(token.starts_with("mhp_"));
        assert_eq!(token.len(), 4 + 12 + 1 + 43);
        let presented = PresentedKey::parse(token).unwrap();
        assert_eq!(presented.id, key.id);
        assert!(presented.matches(&key.secret_sha256));
        let other = mint();
        assert!(!presented.matches(&other.secret_sha256));
        assert!(!presented.matches(&[0u8; 31]));
    }

    #[test]
    fn malformed_keys_are_not_keys() {
        let good = mint();
        let t = good.token.expose();
        for bad in [
            "",
            "mhp_",
            "Bearer x",
            &t[..t.len() - 1],
            &t.replace("mhp_", "mhx_"),
            &format!("{t}x"),
            "mhp_ABCDEFGHIJKL_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        ] {
            assert!(PresentedKey::parse(bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn base64url_has_no_padding() {
        assert_eq!(base64url(b"\xff\xff\xff"), "____");
        assert_eq!(base64url(b"a"), "YQ");
        assert_eq!(base64url(&[0u8; 32]).len(), 43);
    }
}
