//! The key that signs audit-log checkpoints: Ed25519, derived from the master key (HKDF), so it
//! needs no storage of its own and its public half can be printed for offline verification.

use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use hkdf::Hkdf;
use sha2::Sha256;
use zeroize::Zeroize as _;

use crate::MasterKey;

/// Signs audit checkpoints.
pub struct CheckpointKey {
    key: SigningKey,
}

impl std::fmt::Debug for CheckpointKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CheckpointKey([redacted])")
    }
}

impl CheckpointKey {
    /// The key of this master key.
    pub fn derive(master: &MasterKey) -> Self {
        Self::derive_salted(master, b"mhp audit checkpoint v1")
    }

    /// The key that signs backup manifests: a purpose of its own, so that no checkpoint
    /// signature can pass for a manifest's, nor the reverse.
    pub fn derive_for_backups(master: &MasterKey) -> Self {
        Self::derive_salted(master, b"mhp backup manifest v1")
    }

    fn derive_salted(master: &MasterKey, salt: &[u8]) -> Self {
        let hk = Hkdf::<Sha256>::new(Some(salt), master.expose());
        let mut seed = [0u8; 32];
        // 32 bytes is far below HKDF-SHA256's limit, so expand cannot fail.
        let _ = hk.expand(b"ed25519", &mut seed);
        let key = SigningKey::from_bytes(&seed);
        seed.zeroize();
        Self { key }
    }

    /// The public key, to verify checkpoints with.
    pub fn public(&self) -> [u8; 32] {
        self.key.verifying_key().to_bytes()
    }

    /// Signs a message.
    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.key.sign(message).to_bytes()
    }
}

/// Whether `signature` is `public`'s signature of `message` (strict verification).
pub fn verify(public: &[u8], message: &[u8], signature: &[u8]) -> bool {
    let (Ok(pk), Ok(sig)) = (
        <[u8; 32]>::try_from(public),
        Signature::from_slice(signature),
    ) else {
        return false;
    };
    VerifyingKey::from_bytes(&pk).is_ok_and(|k| k.verify_strict(message, &sig).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backup_manifests_and_checkpoints_are_signed_by_different_keys() {
        let master = crate::MasterKey::from_bytes(&[7u8; 32]);
        let checkpoints = CheckpointKey::derive(&master);
        let backups = CheckpointKey::derive_for_backups(&master);
        assert_ne!(checkpoints.public(), backups.public());
        let signature = backups.sign(b"manifest");
        assert!(verify(&backups.public(), b"manifest", &signature));
        assert!(!verify(&checkpoints.public(), b"manifest", &signature));
        assert_eq!(
            backups.public(),
            CheckpointKey::derive_for_backups(&master).public(),
            "derived, so every instance holding the root has the same key"
        );
    }

    #[test]
    fn the_key_is_stable_and_signatures_verify() {
        let dir = tempfile::tempdir().unwrap();
        let master = MasterKey::load_or_create(&dir.path().join("k")).unwrap();
        let a = CheckpointKey::derive(&master);
        let b = CheckpointKey::derive(&master);
        assert_eq!(a.public(), b.public());
        let sig = a.sign(b"chain 0 hash");
        assert!(verify(&a.public(), b"chain 0 hash", &sig));
        assert!(!verify(&a.public(), b"chain 1 hash", &sig));
        let other = MasterKey::load_or_create(&dir.path().join("k2")).unwrap();
        assert!(!verify(
            &CheckpointKey::derive(&other).public(),
            b"chain 0 hash",
            &sig
        ));
        assert!(!verify(&[0; 31], b"x", &sig));
    }
}
