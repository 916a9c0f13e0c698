//! Time-based one-time passwords (RFC 6238: HMAC-SHA1, 30-second steps, 6 digits, one step of
//! clock drift either way) and recovery codes.
//!
//! A code is accepted once: the caller stores the step that matched and passes it back, and
//! codes of that step or earlier are refused (RFC 6238 §5.2).

use hmac::{Hmac, Mac as _};
use mhp_domain::{Secret, Timestamp};
use rand::Rng as _;
use sha1::Sha1;
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;

/// Seconds per step.
pub const STEP_S: i64 = 30;
/// Secret length (RFC 4226 recommends 160 bits).
pub const SECRET_LEN: usize = 20;
/// Recovery codes issued at enrolment.
pub const RECOVERY_CODES: usize = 10;

const BASE32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// A fresh secret.
pub fn new_secret() -> Secret<Vec<u8>> {
    let mut s = vec![0u8; SECRET_LEN];
    rand::rng().fill(&mut s[..]);
    Secret::new(s)
}

/// The HOTP value (RFC 4226 §5.3, dynamic truncation) of a step, as 6 digits.
pub fn code_at(secret: &[u8], step: i64) -> u32 {
    let Ok(mut mac) = Hmac::<Sha1>::new_from_slice(secret) else {
        return u32::MAX;
    };
    mac.update(&step.to_be_bytes());
    let digest = mac.finalize().into_bytes();
    let offset = usize::from(digest[19] & 0x0f);
    let binary = (u32::from(digest[offset] & 0x7f) << 24)
        | (u32::from(digest[offset + 1]) << 16)
        | (u32::from(digest[offset + 2]) << 8)
        | u32::from(digest[offset + 3]);
    binary % 1_000_000
}

/// The step of an instant.
pub fn step_of(now: Timestamp) -> i64 {
    now.as_millis().div_euclid(1000).div_euclid(STEP_S)
}

/// Checks a 6-digit code at `now`, allowing one step of drift either way, refusing steps at or
/// before `last_used_step`. Returns the step that matched.
pub fn verify(
    secret: &[u8],
    code: &str,
    now: Timestamp,
    last_used_step: Option<i64>,
) -> Option<i64> {
    let code = code.trim();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let current = step_of(now);
    let mut matched = None;
    // Check every candidate so the time taken does not depend on which one matches.
    for step in [current - 1, current, current + 1] {
        let expected = format!("{:06}", code_at(secret, step));
        let fresh = last_used_step.is_none_or(|last| step > last);
        if bool::from(expected.as_bytes().ct_eq(code.as_bytes())) && fresh {
            matched = Some(step);
        }
    }
    matched
}

/// RFC 4648 base32 without padding, as authenticator apps expect.
pub fn base32(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(5) * 8);
    for chunk in bytes.chunks(5) {
        let mut buf = [0u8; 5];
        buf[..chunk.len()].copy_from_slice(chunk);
        let n = buf.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
        let chars = (chunk.len() * 8).div_ceil(5);
        for i in 0..chars {
            out.push(char::from(BASE32[((n >> (35 - 5 * i)) & 31) as usize]));
        }
    }
    out
}

/// The `otpauth://` URI an authenticator app scans.
pub fn otpauth_uri(secret: &[u8], issuer: &str, account: &str) -> String {
    let enc = |s: &str| {
        s.bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
                    char::from(b).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect::<String>()
    };
    format!(
        "otpauth://totp/{}:{}?secret={}&issuer={}&algorithm=SHA1&digits=6&period={STEP_S}",
        enc(issuer),
        enc(account),
        base32(secret),
        enc(issuer)
    )
}

/// Fresh recovery codes, `XXXX-XXXX-XXXX-XXXX` (80 random bits each), to show once.
pub fn recovery_codes() -> Vec<Secret<String>> {
    let mut rng = rand::rng();
    (0..RECOVERY_CODES)
        .map(|_| {
            let raw: String = (0..16)
                .map(|_| char::from(BASE32[rng.random_range(0..32)]))
                .collect();
            Secret::new(format!(
                "{}-{}-{}-{}",
                &raw[0..4],
                &raw[4..8],
                &raw[8..12],
                &raw[12..16]
            ))
        })
        .collect()
}

/// The stored form of a recovery code (hex SHA-256 of its normalised text), or `None` when the
/// text cannot be a recovery code. 80-bit codes make a fast hash safe here.
pub fn recovery_code_hash(code: &str) -> Option<String> {
    let normal: String = code
        .chars()
        .filter(|c| !matches!(c, '-' | ' '))
        .map(|c| c.to_ascii_uppercase())
        .collect();
    if normal.len() != 16 || !normal.bytes().all(|b| BASE32.contains(&b)) {
        return None;
    }
    Some(mhp_domain::to_hex(&Sha256::digest(normal.as_bytes())))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 Appendix B, SHA-1, truncated to 6 digits.
    #[test]
    fn rfc_6238_test_vectors() {
        let secret = b"12345678901234567890";
        for (t, expected) in [
            (59_i64, 287_082),
            (1_111_111_109, 81_804),
            (1_111_111_111, 50_471),
            (1_234_567_890, 5_924),
            (2_000_000_000, 279_037),
            (20_000_000_000, 353_130),
        ] {
            assert_eq!(code_at(secret, t / STEP_S), expected, "T={t}");
        }
    }

    #[test]
    fn codes_verify_with_drift_and_only_once() {
        let secret = new_secret();
        let now = Timestamp::from_millis(1_790_000_000_000);
        let step = step_of(now);
        let code = format!("{:06}", code_at(secret.expose(), step));
        assert_eq!(verify(secret.expose(), &code, now, None), Some(step));
        assert_eq!(
            verify(secret.expose(), &code, now, Some(step)),
            None,
            "replay refused"
        );
        let prev = format!("{:06}", code_at(secret.expose(), step - 1));
        assert_eq!(verify(secret.expose(), &prev, now, None), Some(step - 1));
        let old = format!("{:06}", code_at(secret.expose(), step - 3));
        assert_eq!(verify(secret.expose(), &old, now, None), None);
        assert_eq!(verify(secret.expose(), "12345", now, None), None);
        assert_eq!(verify(secret.expose(), "abcdef", now, None), None);
    }

    #[test]
    fn base32_and_uri() {
        assert_eq!(base32(b"foobar"), "MZXW6YTBOI");
        assert_eq!(base32(&[0u8; 20]).len(), 32);
        let uri = otpauth_uri(b"12345678901234567890", "MHP", "jane@example.org");
        assert_eq!(
            uri,
            "otpauth://totp/MHP:jane%40example.org?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\
             &issuer=MHP&algorithm=SHA1&digits=6&period=30"
        );
    }

    #[test]
    fn recovery_codes_hash_after_normalising() {
        let codes = recovery_codes();
        assert_eq!(codes.len(), 10);
        let c = codes[0].expose();
        let h = recovery_code_hash(c).unwrap();
        assert_eq!(
            recovery_code_hash(&c.to_lowercase().replace('-', " ")),
            Some(h)
        );
        assert_eq!(recovery_code_hash("too-short"), None);
        assert_ne!(recovery_code_hash(codes[1].expose()), recovery_code_hash(c));
    }
}
