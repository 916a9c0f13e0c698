//! Web sessions: an opaque id in a cookie, stored server-side only as its SHA-256, with idle and
//! absolute timeouts, and a synchronizer token against cross-site request forgery.

use mhp_domain::{Secret, Timestamp};
use rand::Rng as _;
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;

use crate::api_key::base64url;

/// The cookie's name.
pub const COOKIE: &str = "mhp_session";
/// A session ends after this long without a request (OWASP ASVS 3.3: 30 minutes or less for
/// sensitive data).
pub const IDLE_TIMEOUT_MS: i64 = 30 * 60 * 1000;
/// A session ends this long after sign-in, however busy.
pub const ABSOLUTE_TIMEOUT_MS: i64 = 12 * 60 * 60 * 1000;

/// A new session's secrets: the cookie value (to the browser only), its hash (to the database),
/// and the CSRF token.
#[derive(Debug)]
pub struct NewSession {
    /// The cookie value.
    pub id: Secret<String>,
    /// Hex SHA-256 of the id, the stored key.
    pub id_sha256: String,
    /// The token state-changing requests must echo in `X-CSRF-Token`.
    pub csrf_token: String,
}

/// Mints a session: 256 random bits for the id, 256 for the CSRF token.
pub fn mint() -> NewSession {
    let id = Secret::new(random_token());
    let id_sha256 = hash_id(id.expose());
    NewSession {
        id,
        id_sha256,
        csrf_token: random_token(),
    }
}

/// A fresh opaque secret (256 bits, base64url) and the hex SHA-256 under which to store it; for
/// refresh tokens and other bearer secrets that live server-side.
pub fn new_opaque() -> (Secret<String>, String) {
    let secret = Secret::new(random_token());
    let hash = hash_id(secret.expose());
    (secret, hash)
}

/// The stored key of a presented cookie value, or `None` when it cannot be one of ours.
pub fn presented_id_hash(cookie_value: &str) -> Option<String> {
    let ok = cookie_value.len() == 43
        && cookie_value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    ok.then(|| hash_id(cookie_value))
}

/// Whether a presented CSRF token equals the session's, in constant time.
pub fn csrf_matches(presented: &str, expected: &str) -> bool {
    presented.len() == expected.len() && bool::from(presented.as_bytes().ct_eq(expected.as_bytes()))
}

/// When a session that was created at `created` and last seen at `last_seen` expires.
pub fn expires_at(created: Timestamp, last_seen: Timestamp) -> Timestamp {
    let idle = last_seen.as_millis().saturating_add(IDLE_TIMEOUT_MS);
    let absolute = created.as_millis().saturating_add(ABSOLUTE_TIMEOUT_MS);
    Timestamp::from_millis(idle.min(absolute))
}

/// The `Set-Cookie` value for a new session.
pub fn set_cookie(id: &Secret<String>) -> Secret<String> {
    Secret::new(format!(
        "{COOKIE}={}; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age={}",
        id.expose(),
        ABSOLUTE_TIMEOUT_MS / 1000
    ))
}

/// The `Set-Cookie` value that removes the cookie.
pub fn clear_cookie() -> String {
    format!("{COOKIE}=; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age=0")
}

/// Finds our cookie's value in a `Cookie` header.
pub fn cookie_value(header: &str) -> Option<&str> {
    header
        .split(';')
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == COOKIE)
        .map(|(_, v)| v)
}

fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill(&mut bytes);
    base64url(&bytes)
}

fn hash_id(id: &str) -> String {
    mhp_domain::to_hex(&Sha256::digest(id.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_id_is_found_again_by_its_hash_only() {
        let s = mint();
        assert_eq!(presented_id_hash(s.id.expose()), Some(s.id_sha256.clone()));
        assert_ne!(s.id_sha256, *s.id.expose());
        assert_eq!(presented_id_hash("short"), None);
        assert_eq!(presented_id_hash(&"a;".repeat(21)), None);
    }

    #[test]
    fn idle_and_absolute_timeouts() {
        let t0 = Timestamp::from_millis(1_000_000);
        assert_eq!(expires_at(t0, t0).as_millis(), 1_000_000 + IDLE_TIMEOUT_MS);
        let late = Timestamp::from_millis(1_000_000 + ABSOLUTE_TIMEOUT_MS - 60_000);
        assert_eq!(
            expires_at(t0, late).as_millis(),
            1_000_000 + ABSOLUTE_TIMEOUT_MS
        );
    }

    #[test]
    fn cookies_are_locked_down_and_parsed() {
        let s = mint();
        let c = set_cookie(&s.id);
        for attr in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/"] {
            assert!(c.expose().contains(attr), "{attr}");
        }
        let header = format!("theme=dark; {COOKIE}={}; other=1", s.id.expose());
        assert_eq!(cookie_value(&header), Some(s.id.expose().as_str()));
        assert_eq!(cookie_value("theme=dark"), None);
    }

    #[test]
    fn csrf_tokens_compare_exactly() {
        let s = mint();
        assert!(csrf_matches(&s.csrf_token, &s.csrf_token));
        assert!(!csrf_matches(&s.csrf_token[1..], &s.csrf_token));
        assert!(!csrf_matches("", &s.csrf_token));
    }
}
