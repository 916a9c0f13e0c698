//! The server-side half of an authorization request, kept between `begin` and `complete`.

use std::fmt;

use mhp_domain::Timestamp;
use serde::{Deserialize, Serialize};
use zeroize::Zeroize as _;

/// How long a sign-in may take between the redirect to the provider and the callback.
pub const LOGIN_TTL_S: i64 = 10 * 60;

/// A sign-in under way: the state, nonce and PKCE verifier of one authorization request, and
/// the provider it went to.
///
/// The server keeps it on its side (never in the browser: the verifier and nonce must stay
/// secret), bound to the browser by a cookie, and hands it back to
/// [`crate::Federation::complete`] once, then deletes it. It serialises with serde so it can
/// be stored; `Debug` prints no secret value, and the values are wiped from memory on drop.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PendingLogin {
    issuer: String,
    client_id: String,
    redirect_uri: String,
    state: String,
    nonce: String,
    pkce_verifier: String,
    created_at_ms: i64,
}

impl PendingLogin {
    pub(crate) fn new(
        issuer: String,
        client_id: String,
        redirect_uri: String,
        state: String,
        nonce: String,
        pkce_verifier: String,
        created_at: Timestamp,
    ) -> Self {
        Self {
            issuer,
            client_id,
            redirect_uri,
            state,
            nonce,
            pkce_verifier,
            created_at_ms: created_at.as_millis(),
        }
    }

    /// The issuer the request went to.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// When the request was made.
    pub fn created_at(&self) -> Timestamp {
        Timestamp::from_millis(self.created_at_ms)
    }

    /// When the sign-in stops being accepted ([`LOGIN_TTL_S`] after it began).
    pub fn expires_at(&self) -> Timestamp {
        Timestamp::from_millis(self.created_at_ms.saturating_add(LOGIN_TTL_S * 1000))
    }

    /// Whether the sign-in is no longer accepted at `now` (also when `now` lies before its
    /// start, which only a stored value tampered with or a clock gone backwards can cause).
    pub fn is_expired(&self, now: Timestamp) -> bool {
        now >= self.expires_at() || now.as_millis() < self.created_at_ms.saturating_sub(60_000)
    }

    pub(crate) fn client_id(&self) -> &str {
        &self.client_id
    }

    pub(crate) fn redirect_uri(&self) -> &str {
        &self.redirect_uri
    }

    pub(crate) fn state(&self) -> &str {
        &self.state
    }

    pub(crate) fn nonce(&self) -> &str {
        &self.nonce
    }

    pub(crate) fn pkce_verifier(&self) -> &str {
        &self.pkce_verifier
    }
}

impl fmt::Debug for PendingLogin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PendingLogin")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("created_at_ms", &self.created_at_ms)
            .finish_non_exhaustive()
    }
}

impl Drop for PendingLogin {
    fn drop(&mut self) {
        self.state.zeroize();
        self.nonce.zeroize();
        self.pkce_verifier.zeroize();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pending(at: i64) -> PendingLogin {
        PendingLogin::new(
            "https://idp.example".into(),
            "mhp".into(),
            "https://mhp.example/cb".into(),
            "the-state".into(),
            "the-nonce".into(),
            "the-verifier".into(),
            Timestamp::from_millis(at),
        )
    }

    #[test]
    fn expires_after_ten_minutes() {
        let p = pending(1_000_000);
        assert!(!p.is_expired(Timestamp::from_millis(1_000_000)));
        assert!(!p.is_expired(Timestamp::from_millis(1_000_000 + 599_999)));
        assert!(p.is_expired(Timestamp::from_millis(1_000_000 + 600_000)));
        assert!(p.is_expired(Timestamp::from_millis(1_000_000 - 61_000)));
    }

    #[test]
    fn round_trips_through_json_and_never_prints_secrets() {
        let p = pending(42);
        let json = serde_json::to_string(&p).unwrap();
        let back: PendingLogin = serde_json::from_str(&json).unwrap();
        assert_eq!(back, p);
        let debug = format!("{p:?}");
        for secret in ["the-state", "the-nonce", "the-verifier"] {
            assert!(!debug.contains(secret), "{debug}");
        }
    }
}
