//! Keyed pseudonyms for the de-identified data pipelines read.
//!
//! A pipeline's subject id is HMAC-SHA-256 under a key derived from the master key, over the
//! organisation and the subject id, truncated to 96 bits: stable (a subject keeps it across
//! runs, so histories line up), different in every organisation, and not reversible or
//! joinable to the clinical pages without the key. It is deliberately not the random
//! `subjects.pseudonym` that clinicians see.

use hkdf::Hkdf;
use hmac::{Hmac, Mac as _};
use mhp_domain::{OrgId, SubjectId};
use sha2::Sha256;
use zeroize::Zeroize as _;

use crate::MasterKey;

/// Computes pipeline pseudonyms. Holds only the derived key.
pub struct Pseudonymizer {
    key: [u8; 32],
}

impl std::fmt::Debug for Pseudonymizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pseudonymizer([redacted])")
    }
}

impl Drop for Pseudonymizer {
    fn drop(&mut self) {
        self.key.zeroize();
    }
}

impl Pseudonymizer {
    /// Derives the pseudonym key from the master key (HKDF-SHA-256 with its own label).
    pub fn derive(master: &MasterKey) -> Self {
        let hk = Hkdf::<Sha256>::new(Some(b"mhp pipeline pseudonym v1"), master.expose());
        let mut key = [0u8; 32];
        // 32 bytes is far below HKDF-SHA-256's output limit; expand cannot fail here.
        let _ = hk.expand(b"pipeline-pseudonym", &mut key);
        Self { key }
    }

    /// The subject's pseudonym in its organisation: `P` and 24 lowercase hex characters.
    pub fn of(&self, org: OrgId, subject: SubjectId) -> String {
        let mut tag = [0u8; 32];
        // HMAC takes keys of any length; new_from_slice cannot fail.
        if let Ok(mut mac) = <Hmac<Sha256>>::new_from_slice(&self.key) {
            mac.update(org.as_uuid().as_bytes());
            mac.update(subject.as_uuid().as_bytes());
            tag.copy_from_slice(&mac.finalize().into_bytes());
        }
        format!("P{}", mhp_domain::to_hex(&tag[..12]))
    }

    /// A stand-in for an account name that matches no account (a failed sign-in with an
    /// unknown e-mail address): `unknown:` and 24 hex characters, the same for the same
    /// (normalised) name, so monitoring can count the distinct accounts an address tries
    /// without the names entering any log.
    pub fn unknown_account(&self, name: &str) -> String {
        let mut tag = [0u8; 32];
        if let Ok(mut mac) = <Hmac<Sha256>>::new_from_slice(&self.key) {
            mac.update(b"mhp unknown sign-in account v1\0");
            mac.update(name.trim().to_lowercase().as_bytes());
            tag.copy_from_slice(&mac.finalize().into_bytes());
        }
        format!("unknown:{}", mhp_domain::to_hex(&tag[..12]))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn stable_per_key_and_organisation() {
        let dir = tempfile::tempdir().unwrap();
        let k1 = MasterKey::load_or_create(&dir.path().join("a")).unwrap();
        let k2 = MasterKey::load_or_create(&dir.path().join("b")).unwrap();
        let (p1, p2) = (Pseudonymizer::derive(&k1), Pseudonymizer::derive(&k2));
        let (a, b, s) = (OrgId::new(), OrgId::new(), SubjectId::new());
        let id = p1.of(a, s);
        assert_eq!(id.len(), 25);
        assert!(id.starts_with('P'));
        assert_eq!(p1.of(a, s), id);
        assert_ne!(p1.of(b, s), id);
        assert_ne!(p1.of(a, SubjectId::new()), id);
        assert_ne!(p2.of(a, s), id);
        assert!(!id.contains(&s.to_string()[..8]));
    }
}
