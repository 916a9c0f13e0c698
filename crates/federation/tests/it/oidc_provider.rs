//! The shared OpenID provider harness (mhp-test-support), with this crate's redirect URI.

pub use mhp_test_support::oidc::{CLIENT_ID, Callback, TestClock};

/// Where the provider sends the browser back; nothing listens there, the test reads the
/// `Location` header instead.
pub const REDIRECT_URI: &str = "http://127.0.0.1:9/api/v1/auth/sso/callback";

pub struct OidcProvider;

impl OidcProvider {
    /// Starts the provider with [`REDIRECT_URI`] registered.
    pub fn start(
        port: u16,
        alg: &str,
        client_secret: &str,
    ) -> Option<mhp_test_support::oidc::OidcProvider> {
        mhp_test_support::oidc::OidcProvider::start(port, alg, client_secret, REDIRECT_URI)
    }
}

/// Plays the browser until the provider redirects to [`REDIRECT_URI`].
pub async fn authorize(authorization_url: &str, login_hint: &str) -> Callback {
    mhp_test_support::oidc::authorize(authorization_url, login_hint, REDIRECT_URI).await
}
