//! Password hashing (Argon2id) and policy.
//!
//! Parameters follow the OWASP Password Storage Cheat Sheet's first Argon2id configuration:
//! m = 19 MiB, t = 2, p = 1. Hashes are stored in PHC string format, which records the
//! parameters, so they can be raised later and old hashes rehashed at sign-in.

use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use mhp_domain::Secret;
use rand::Rng as _;

/// Shortest password accepted (NIST SP 800-63B asks for at least 8; we ask for 12).
pub const MIN_LEN: usize = 12;
/// Longest password accepted; long enough for any passphrase, short enough to bound hashing.
pub const MAX_LEN: usize = 128;

/// A password that breaks the policy. The message never repeats the password.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    /// Fewer than [`MIN_LEN`] characters.
    #[error("password must be at least {MIN_LEN} characters")]
    TooShort,
    /// More than [`MAX_LEN`] characters.
    #[error("password must be at most {MAX_LEN} characters")]
    TooLong,
    /// Contains control characters.
    #[error("password must not contain control characters")]
    ControlCharacter,
    /// A common or easily guessed password (a well-known word or keyboard run, however
    /// decorated with digits and symbols).
    #[error("password is too common or too easy to guess; a passphrase of several words works")]
    Common,
}

/// Hashing failed (only on a broken random source or impossible parameters).
#[derive(Debug, thiserror::Error)]
#[error("password hashing failed")]
pub struct HashError;

/// Checks a candidate password against the policy. Length counts characters, not bytes.
pub fn check_policy(password: &str) -> Result<(), PolicyError> {
    let len = password.chars().count();
    if len < MIN_LEN {
        return Err(PolicyError::TooShort);
    }
    if len > MAX_LEN {
        return Err(PolicyError::TooLong);
    }
    if password.chars().any(char::is_control) {
        return Err(PolicyError::ControlCharacter);
    }
    if crate::common::is_common(password) {
        return Err(PolicyError::Common);
    }
    Ok(())
}

fn argon2() -> Result<Argon2<'static>, HashError> {
    let params = Params::new(19 * 1024, 2, 1, None).map_err(|_| HashError)?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// Hashes a password with a fresh random salt, in PHC string format.
pub fn hash(password: &Secret<String>) -> Result<String, HashError> {
    let mut salt_bytes = [0u8; 16];
    rand::rng().fill(&mut salt_bytes);
    let salt = SaltString::encode_b64(&salt_bytes).map_err(|_| HashError)?;
    let hash = argon2()?
        .hash_password(password.expose().as_bytes(), &salt)
        .map_err(|_| HashError)?;
    Ok(hash.to_string())
}

/// Whether `password` matches `stored` (a PHC string). The comparison runs in constant time;
/// a malformed stored hash never matches.
pub fn verify(password: &Secret<String>, stored: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(stored) else {
        return false;
    };
    let Ok(a) = argon2() else { return false };
    a.verify_password(password.expose().as_bytes(), &parsed)
        .is_ok()
}

/// Whether a stored hash was made with other parameters than today's and should be replaced
/// at the next successful sign-in.
pub fn needs_rehash(stored: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(stored) else {
        return true;
    };
    let Ok(current) = argon2() else { return false };
    let params = current.params();
    parsed.algorithm.as_str() != "argon2id"
        || Params::try_from(&parsed).map_or(true, |p| {
            p.m_cost() != params.m_cost()
                || p.t_cost() != params.t_cost()
                || p.p_cost() != params.p_cost()
        })
}

/// A hash to verify against when the account does not exist, so that an unknown e-mail takes
/// as long as a wrong password.
pub fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| {
        hash(&one_time_secret()).unwrap_or_else(|_| {
            "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$\
             aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                .to_owned()
        })
    })
}

/// A one-time secret for a first sign-in: 24 characters from a 56-letter alphabet without
/// look-alikes (about 139 bits), to be replaced by the user.
pub fn one_time_secret() -> Secret<String> {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    let mut rng = rand::rng();
    let s: String = (0..24)
        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
        .collect();
    Secret::new(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_verifies_against_its_own_hash_only() {
        let pw = Secret::new("correct horse battery".to_owned());
        let h = hash(&pw).unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(verify(&pw, &h));
        assert!(!verify(
            &Secret::new("correct horse battery!".to_owned()),
            &h
        ));
        assert!(!verify(&pw, "not a hash"));
        assert_ne!(h, hash(&pw).unwrap(), "salts must differ");
    }

    #[test]
    fn hashes_with_old_parameters_need_rehashing() {
        let pw = Secret::new("correct horse battery".to_owned());
        assert!(!needs_rehash(&hash(&pw).unwrap()));
        let weak = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(8192, 1, 1, None).unwrap(),
        );
        let salt = SaltString::encode_b64(b"0123456789abcdef").unwrap();
        let old = weak
            .hash_password(b"correct horse battery", &salt)
            .unwrap()
            .to_string();
        assert!(verify(&pw, &old), "old hashes still verify");
        assert!(needs_rehash(&old));
        assert!(needs_rehash("garbage"));
        assert!(!verify(&pw, dummy_hash()));
    }

    #[test]
    fn the_policy_counts_characters() {
        assert_eq!(check_policy("short"), Err(PolicyError::TooShort));
        assert_eq!(check_policy("éàüöçñéàüöçñ"), Ok(()));
        assert_eq!(check_policy(&"é".repeat(12)), Err(PolicyError::Common));
        assert_eq!(check_policy("Password2024!"), Err(PolicyError::Common));
        assert_eq!(check_policy(&"x".repeat(129)), Err(PolicyError::TooLong));
        assert_eq!(
            check_policy("twelve chars\n"),
            Err(PolicyError::ControlCharacter)
        );
    }

    #[test]
    fn one_time_secrets_pass_the_policy_and_differ() {
        let a = one_time_secret();
        let b = one_time_secret();
        assert_eq!(check_policy(a.expose()), Ok(()));
        assert_ne!(a.expose(), b.expose());
    }
}
