//! The random values of an authorization request (state, nonce, PKCE verifier), the PKCE S256
//! challenge (RFC 7636) and the constant-time comparison of values sent back by the browser.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use ring::rand::{SecureRandom as _, SystemRandom};
use subtle::ConstantTimeEq as _;

use crate::FederationError;

/// Bytes of randomness in a state, nonce or verifier (256 bits, well above the 128 required).
const RANDOM_BYTES: usize = 32;

/// A fresh random value, base64url without padding (43 characters, valid as a PKCE verifier).
pub(crate) fn random_token(rng: &SystemRandom) -> Result<String, FederationError> {
    let mut bytes = [0u8; RANDOM_BYTES];
    rng.fill(&mut bytes)
        .map_err(|_| FederationError::Internal("random number generator"))?;
    Ok(B64.encode(bytes))
}

/// The PKCE `code_challenge` for `verifier` with method S256: base64url(SHA-256(verifier)).
pub fn s256_challenge(verifier: &str) -> String {
    B64.encode(ring::digest::digest(
        &ring::digest::SHA256,
        verifier.as_bytes(),
    ))
}

/// Compares two values without revealing through timing where they first differ. (The length
/// may leak; all values compared here have a public, fixed length.)
pub(crate) fn constant_time_eq(a: &str, b: &str) -> bool {
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s256_matches_rfc_7636_appendix_b() {
        assert_eq!(
            s256_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn random_tokens_are_long_fresh_and_url_safe() {
        let rng = SystemRandom::new();
        let a = random_token(&rng).unwrap();
        let b = random_token(&rng).unwrap();
        assert_eq!(a.len(), 43);
        assert_ne!(a, b);
        assert!(
            a.bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
        );
    }

    #[test]
    fn constant_time_comparison() {
        assert!(constant_time_eq("abc", "abc"));
        assert!(!constant_time_eq("abc", "abd"));
        assert!(!constant_time_eq("abc", "abcd"));
        assert!(!constant_time_eq("", "a"));
    }
}
