//! The stand-ins' authenticated cipher. NOT FOR REAL DATA: HMAC-SHA256 in counter mode as the
//! keystream and HMAC-SHA256 over the associated data, nonce and ciphertext as the tag
//! (encrypt-then-MAC), with nonces from a counter. It gives the stand-ins what the tests need
//! of a real service: ciphertexts that do not decrypt under another key or another context,
//! and that do not survive tampering.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::mac::{constant_time_eq, hmac_sha256};

/// Nonce length.
const NONCE: usize = 16;
/// Tag length.
const TAG: usize = 32;

/// Key material and the nonce counter of one stand-in. `Debug` leaves out the seed.
pub(crate) struct Keys {
    seed: [u8; 32],
    counter: AtomicU64,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keys").finish_non_exhaustive()
    }
}

impl Keys {
    /// Keys for a stand-in, derived from `label` (its address makes them differ between
    /// stand-ins running at once).
    pub(crate) fn new(label: &str) -> Self {
        Self {
            seed: hmac_sha256(b"mhp-cloud stand-in seed", label.as_bytes()),
            counter: AtomicU64::new(1),
        }
    }

    /// The key named `name` (a KMS key id, `transit/<key>/<version>`).
    pub(crate) fn key(&self, name: &str) -> [u8; 32] {
        hmac_sha256(&self.seed, format!("key:{name}").as_bytes())
    }

    /// 32 fresh bytes, never the same twice in this stand-in (data keys).
    pub(crate) fn fresh(&self) -> [u8; 32] {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        hmac_sha256(&self.seed, format!("fresh:{n}").as_bytes())
    }

    /// Encrypts `plaintext` under `key`, bound to `aad`: nonce ‖ ciphertext ‖ tag.
    pub(crate) fn seal(&self, key: &[u8; 32], aad: &[u8], plaintext: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; NONCE];
        nonce[..8].copy_from_slice(&self.counter.fetch_add(1, Ordering::Relaxed).to_be_bytes());
        let mut out = Vec::with_capacity(NONCE + plaintext.len() + TAG);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(plaintext);
        apply_keystream(key, &nonce, &mut out[NONCE..]);
        let tag = tag(key, aad, &out);
        out.extend_from_slice(&tag);
        out
    }

    /// Decrypts what [`Keys::seal`] made with the same key and `aad`; `None` otherwise.
    pub(crate) fn open(&self, key: &[u8; 32], aad: &[u8], sealed: &[u8]) -> Option<Vec<u8>> {
        if sealed.len() < NONCE + TAG {
            return None;
        }
        let (body, given_tag) = sealed.split_at(sealed.len() - TAG);
        if !constant_time_eq(&tag(key, aad, body), given_tag) {
            return None;
        }
        let (nonce, ciphertext) = body.split_at(NONCE);
        let mut plaintext = ciphertext.to_vec();
        apply_keystream(key, nonce, &mut plaintext);
        Some(plaintext)
    }
}

fn apply_keystream(key: &[u8; 32], nonce: &[u8], data: &mut [u8]) {
    let stream_key = hmac_sha256(key, b"stream");
    for (block, chunk) in data.chunks_mut(32).enumerate() {
        let mut input = nonce.to_vec();
        input.extend_from_slice(&(block as u64).to_be_bytes());
        let pad = hmac_sha256(&stream_key, &input);
        for (byte, p) in chunk.iter_mut().zip(pad) {
            *byte ^= p;
        }
    }
}

/// The tag over the associated data (length-prefixed, so it cannot run into the nonce) and
/// nonce ‖ ciphertext.
fn tag(key: &[u8; 32], aad: &[u8], nonce_and_ciphertext: &[u8]) -> [u8; 32] {
    let tag_key = hmac_sha256(key, b"tag");
    let mut input = (aad.len() as u64).to_be_bytes().to_vec();
    input.extend_from_slice(aad);
    input.extend_from_slice(nonce_and_ciphertext);
    hmac_sha256(&tag_key, &input)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_other_keys_contexts_and_tampering() {
        let keys = Keys::new("test");
        let key = keys.key("a");
        let plaintext = b"a plaintext longer than one 32-byte keystream block, to cross it";
        let sealed = keys.seal(&key, b"ctx", plaintext);
        assert!(!sealed.windows(9).any(|w| w == b"plaintext"));
        assert_eq!(keys.open(&key, b"ctx", &sealed).unwrap(), plaintext);
        assert_eq!(keys.open(&key, b"other", &sealed), None);
        assert_eq!(keys.open(&keys.key("b"), b"ctx", &sealed), None);
        let mut tampered = sealed.clone();
        tampered[NONCE] ^= 1;
        assert_eq!(keys.open(&key, b"ctx", &tampered), None);
        assert_eq!(keys.open(&key, b"ctx", &sealed[..NONCE + TAG - 1]), None);
        assert_ne!(
            keys.seal(&key, b"ctx", plaintext),
            sealed,
            "fresh nonce each time"
        );
        assert_eq!(
            keys.open(&key, b"", &keys.seal(&key, b"", b"")).unwrap(),
            b""
        );
    }

    #[test]
    fn stand_ins_have_different_keys() {
        assert_ne!(Keys::new("one").key("k"), Keys::new("two").key("k"));
        let keys = Keys::new("one");
        assert_ne!(keys.fresh(), keys.fresh());
    }
}
