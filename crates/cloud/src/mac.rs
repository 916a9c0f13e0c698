//! HMAC-SHA256 and SHA-256 in the shapes the signer and the stand-ins use.

use hmac::digest::Key;
use hmac::digest::KeyInit;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use zeroize::Zeroize;

/// SHA-256's block size, which is HMAC-SHA256's key size.
const BLOCK: usize = 64;

/// HMAC-SHA256 of `data` under `key`, for a key of any length.
pub(crate) fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; 32] {
    // RFC 2104 prepares the key so: longer than a block, it is hashed; shorter, padded with
    // zeros. Doing it here hands HMAC a block-sized key, whose constructor cannot fail, instead
    // of the slice constructor whose (impossible) error would need handling.
    let mut block = [0u8; BLOCK];
    if key.len() > BLOCK {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let mut mac = <Hmac<Sha256> as KeyInit>::new(Key::<Hmac<Sha256>>::from_slice(&block));
    block.zeroize();
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// Lower-case hex SHA-256 of `data`.
pub(crate) fn sha256_hex(data: &[u8]) -> String {
    mhp_domain::to_hex(&Sha256::digest(data))
}

/// Compares two byte strings in time that depends on their lengths only.
#[cfg(feature = "standin")]
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference(key: &[u8], data: &[u8]) -> [u8; 32] {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap();
        mac.update(data);
        mac.finalize().into_bytes().into()
    }

    #[test]
    fn agrees_with_the_slice_constructor_for_every_key_length() {
        for len in [0, 1, 31, 32, 44, 63, 64, 65, 100, 200] {
            let key: Vec<u8> = (0..len).map(|i| (i * 7 + 3) as u8).collect();
            assert_eq!(
                hmac_sha256(&key, b"data"),
                reference(&key, b"data"),
                "{len}"
            );
        }
    }

    #[test]
    fn rfc_4231_test_case_2() {
        let mac = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(
            mhp_domain::to_hex(&mac),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[cfg(feature = "standin")]
    #[test]
    fn constant_time_eq_compares() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
