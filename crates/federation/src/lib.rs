//! SSO federation: MHP as an OpenID Connect relying party of each organisation's own identity
//! provider (Entra ID, Okta, Keycloak, Cognito...), with the authorization code flow, PKCE
//! (S256) and a confidential client.
//!
//! # Use
//!
//! ```no_run
//! # use std::sync::Arc;
//! # use mhp_domain::{Role, Secret, SystemClock};
//! # use mhp_federation::{Federation, FederationError, ProviderConfig};
//! # async fn demo() -> Result<(), FederationError> {
//! let egress = mhp_egress::Egress::new(
//!     mhp_egress::EgressPolicy::strict(),
//!     mhp_egress::EgressOptions::default(),
//! )
//! .map_err(|_| FederationError::Internal("egress client"))?;
//! let federation = Federation::new(egress, Arc::new(SystemClock))?;
//! let mut cfg = ProviderConfig::new(
//!     "https://idp.example.com",
//!     "mhp",
//!     Secret::new("resolved from secret://...".to_owned()),
//!     "https://mhp.example.com/api/v1/auth/sso/callback",
//! );
//! cfg.allowed_domains = vec!["clinic.example".into()];
//! cfg.role_claim = Some("groups".into());
//! cfg.role_map = vec![("mhp-clinicians".into(), Role::Clinician)];
//!
//! // GET /api/v1/auth/sso/{org}/start: keep `pending` server-side, bound to the browser by a
//! // cookie, and redirect (303) to `url`.
//! let (url, pending) = federation.begin(&cfg).await?;
//!
//! // GET /api/v1/auth/sso/callback?code=..&state=..: take `pending` out of storage (use it
//! // once), then
//! # let (code, state) = ("", "");
//! let who = federation.complete(&cfg, &pending, code, state).await?;
//! // link (who.issuer, who.subject) to an MHP user with who.roles, start a session.
//! # Ok(()) }
//! ```
//!
//! * [`Federation::begin`] fetches the provider's metadata (cached) and returns the
//!   authorization URL with fresh `state` and `nonce` (256 random bits each) and a PKCE S256
//!   challenge, and the [`PendingLogin`] that holds them. It lives [`LOGIN_TTL_S`] (10 minutes,
//!   by the injected clock) and serialises with serde.
//! * [`Federation::complete`] checks that the pending login belongs to this provider and has
//!   not expired, compares `state` in constant time, exchanges the code at the token endpoint
//!   (`client_secret_basic`, or `client_secret_post` when discovery offers only that; with the
//!   PKCE verifier), validates the ID token and maps it to a [`FederatedIdentity`].
//!
//! # What is checked
//!
//! * Every request to the provider (discovery, key set, token endpoint) goes through the
//!   [`mhp_egress::Egress`] it is given: https only, no loopback, private, link-local or other
//!   internal address unless the operator allowed that range, the address checked being the one
//!   connected to, bounded time and size. The issuer is set by an org admin, so this is what
//!   keeps a tenant from making MHP connect inside its network. Redirects are not followed.
//! * Discovery (`{issuer}/.well-known/openid-configuration`) must name exactly the configured
//!   issuer. Discovery and the key set are cached per issuer for [`METADATA_TTL_S`] (1 h).
//!   A token signed with a `kid` missing from the cached set causes one refetch of the set, at
//!   most once per [`JWKS_REFETCH_MIN_S`] (30 s) per issuer, so key rotation at the provider
//!   works without a restart.
//! * ID token: signature by a key of the provider's set with RS256, PS256, ES256 or EdDSA
//!   (`none` and HS* are refused; the key's type, curve, `alg`, `use` must fit the algorithm);
//!   `iss` equal to the discovered issuer; `aud` containing the client id, and `azp` equal to
//!   it when present (required with several audiences); `exp`, `iat`, `nbf` with at most
//!   [`LEEWAY_S`] (60 s) of skew; `nonce` equal to the pending login's; `sub` present.
//! * E-mail: the `email` claim must be in the ID token (the user-info endpoint is not used) and
//!   `email_verified` must be `true`. A provider that omits `email_verified` is treated as not
//!   vouching for the address and its users are refused: otherwise anyone able to register an
//!   address at the provider could claim an allowed domain. The domain must be one of
//!   [`ProviderConfig::allowed_domains`] (exact, case-insensitive; empty refuses everyone).
//! * Roles: the values of [`ProviderConfig::role_claim`] (a string or an array of strings; a
//!   dotted name such as `realm_access.roles` reaches into nested objects when no top-level
//!   claim has that name) are mapped through [`ProviderConfig::role_map`]; with no mapped
//!   role, [`ProviderConfig::default_role`] applies; with none, [`FederationError::NoRole`].
//!
//! A code can be redeemed once; the server must delete the pending login on first use (the
//! provider refuses a replayed code anyway).
//!
//! Errors ([`FederationError`]) carry a stable [`FederationError::code`] for problem+json; their
//! messages never contain tokens, codes, secrets or e-mail addresses.
//!
//! Layer 2 (beside storage and auth): depends on `mhp-domain` and `mhp-egress` among MHP
//! crates, does HTTP only through the egress guard, never reads the environment or the system
//! time (a [`mhp_domain::Clock`] comes in).

mod config;
pub mod domain_proof;
mod error;
mod id_token;
mod jws;
mod pending;
mod pkce;
mod provider;

use std::sync::Arc;

use mhp_domain::Clock;
use ring::rand::SystemRandom;

pub use config::{DEFAULT_SCOPES, ProviderConfig};
pub use error::{FederationError, TokenProblem};
pub use id_token::{FederatedIdentity, LEEWAY_S};
pub use pending::{LOGIN_TTL_S, PendingLogin};
pub use pkce::s256_challenge;
pub use provider::{JWKS_REFETCH_MIN_S, METADATA_TTL_S};

/// Longest authorization code accepted from the callback.
const MAX_CODE_LEN: usize = 4096;

/// The relying party: an HTTP client and the per-issuer cache of discovery documents and key
/// sets. Make one per process and share it (it is `Send + Sync`).
#[derive(Debug)]
pub struct Federation {
    providers: provider::Providers,
    rng: SystemRandom,
}

impl Federation {
    /// A relying party whose requests to providers all go through `egress` (its policy, time
    /// and size limits), and which reads the time from `clock` (pending-login expiry, token
    /// times, cache ages).
    pub fn new(egress: mhp_egress::Egress, clock: Arc<dyn Clock>) -> Result<Self, FederationError> {
        Ok(Self {
            providers: provider::Providers::new(egress, clock),
            rng: SystemRandom::new(),
        })
    }

    /// Starts a sign-in: returns the provider URL to redirect the browser to, and the
    /// [`PendingLogin`] the server keeps until the callback.
    pub async fn begin(
        &self,
        cfg: &ProviderConfig,
    ) -> Result<(String, PendingLogin), FederationError> {
        cfg.validate()?;
        let (metadata, _) = self.providers.get(&cfg.issuer).await?;
        let state = pkce::random_token(&self.rng)?;
        let nonce = pkce::random_token(&self.rng)?;
        let verifier = pkce::random_token(&self.rng)?;
        let mut url = metadata.authorization_endpoint.clone();
        url.query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", &cfg.client_id)
            .append_pair("redirect_uri", &cfg.redirect_uri)
            .append_pair("scope", &cfg.scope_param())
            .append_pair("state", &state)
            .append_pair("nonce", &nonce)
            .append_pair("code_challenge", &s256_challenge(&verifier))
            .append_pair("code_challenge_method", "S256");
        let pending = PendingLogin::new(
            cfg.issuer.clone(),
            cfg.client_id.clone(),
            cfg.redirect_uri.clone(),
            state,
            nonce,
            verifier,
            self.providers.now(),
        );
        Ok((url.into(), pending))
    }

    /// Finishes a sign-in from the callback's `code` and `state`: checks the pending login
    /// and the state, redeems the code and validates the ID token (see the crate docs).
    ///
    /// The server handles an `error` parameter on the callback (the person cancelled) itself,
    /// and deletes `pending` whatever the outcome.
    pub async fn complete(
        &self,
        cfg: &ProviderConfig,
        pending: &PendingLogin,
        code: &str,
        state: &str,
    ) -> Result<FederatedIdentity, FederationError> {
        if pending.issuer() != cfg.issuer
            || pending.client_id() != cfg.client_id
            || pending.redirect_uri() != cfg.redirect_uri
            || pending.is_expired(self.providers.now())
        {
            return Err(FederationError::LoginExpired);
        }
        if !pkce::constant_time_eq(state, pending.state()) {
            return Err(FederationError::StateMismatch);
        }
        if code.is_empty() || code.len() > MAX_CODE_LEN || code.chars().any(char::is_control) {
            return Err(FederationError::TokenRejected {
                error: "invalid_request".to_owned(),
            });
        }
        let (metadata, keys) = self.providers.get(&cfg.issuer).await?;
        let id_token = self
            .providers
            .exchange_code(&metadata, cfg, pending, code)
            .await?;
        let expected = id_token::Expected {
            issuer: &metadata.issuer,
            client_id: &cfg.client_id,
            nonce: pending.nonce(),
            now_s: self.providers.now().as_millis().div_euclid(1000),
        };
        let claims = match id_token::validate(&id_token, &keys, &expected) {
            Err(TokenProblem::UnknownKey) => {
                // The provider may have rotated its keys since they were cached.
                let Some(fresh) = self.providers.refetch_keys(&metadata).await? else {
                    return Err(TokenProblem::UnknownKey.into());
                };
                id_token::validate(&id_token, &fresh, &expected)?
            }
            other => other?,
        };
        id_token::identify(cfg, claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send<T: Send>(_: &T) {}
    fn assert_send_sync<T: Send + Sync>() {}

    // The server calls these from axum handlers, whose futures must be `Send`.
    #[test]
    fn futures_are_send_and_the_federation_is_shareable() {
        assert_send_sync::<Federation>();
        assert_send_sync::<PendingLogin>();
        let egress = mhp_egress::Egress::new(
            mhp_egress::EgressPolicy::strict(),
            mhp_egress::EgressOptions::default(),
        )
        .unwrap();
        let federation = Federation::new(egress, Arc::new(mhp_domain::SystemClock)).unwrap();
        let cfg = ProviderConfig::new(
            "https://idp.example.com",
            "mhp",
            mhp_domain::Secret::new("s".to_owned()),
            "https://mhp.example/cb",
        );
        let begin = federation.begin(&cfg);
        assert_send(&begin);
        drop(begin);
        let pending = PendingLogin::new(
            cfg.issuer.clone(),
            cfg.client_id.clone(),
            cfg.redirect_uri.clone(),
            "s".into(),
            "n".into(),
            "v".into(),
            mhp_domain::Timestamp::from_millis(0),
        );
        let complete = federation.complete(&cfg, &pending, "code", "s");
        assert_send(&complete);
    }
}
