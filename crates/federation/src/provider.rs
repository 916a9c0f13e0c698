//! Talking to the provider: discovery, the key set (cached per issuer) and the token endpoint.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64_STD;
use mhp_domain::{Clock, Timestamp};
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderValue};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use url::form_urlencoded;
use zeroize::Zeroizing;

use mhp_egress::{Egress, EgressError};

use crate::config::secure_url;
use crate::error::sanitize_oauth_error;
use crate::jws::{Jwk, JwkSet};
use crate::{FederationError, PendingLogin, ProviderConfig};

/// How long discovery documents and key sets are reused before they are fetched again.
pub const METADATA_TTL_S: i64 = 60 * 60;
/// Least time between two fetches of one issuer's key set caused by an unknown `kid`.
pub const JWKS_REFETCH_MIN_S: i64 = 30;

/// How the client authenticates at the token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ClientAuth {
    Basic,
    Post,
}

/// The parts of the discovery document this relying party uses, checked.
#[derive(Debug, Clone)]
pub(crate) struct Metadata {
    pub(crate) issuer: String,
    pub(crate) authorization_endpoint: url::Url,
    pub(crate) token_endpoint: url::Url,
    pub(crate) jwks_uri: url::Url,
    pub(crate) client_auth: ClientAuth,
}

#[derive(Deserialize)]
struct Discovery {
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
    jwks_uri: String,
    #[serde(default)]
    token_endpoint_auth_methods_supported: Option<Vec<String>>,
    #[serde(default)]
    code_challenge_methods_supported: Option<Vec<String>>,
}

#[derive(Deserialize)]
struct TokenResponse {
    #[serde(default)]
    id_token: Option<String>,
}

#[derive(Deserialize)]
struct OAuthError {
    #[serde(default)]
    error: Option<String>,
}

/// What is cached for one issuer.
#[derive(Debug, Clone)]
struct Cached {
    metadata: Arc<Metadata>,
    keys: Arc<Vec<Jwk>>,
    /// When discovery and keys were fetched together.
    fetched_at: Timestamp,
    /// When the keys were last fetched (or a refetch was last attempted).
    keys_fetched_at: Timestamp,
}

/// The egress client and the per-issuer cache.
#[derive(Debug)]
pub(crate) struct Providers {
    egress: Egress,
    clock: Arc<dyn Clock>,
    cache: Mutex<HashMap<String, Cached>>,
}

impl Providers {
    pub(crate) fn new(egress: Egress, clock: Arc<dyn Clock>) -> Self {
        Self {
            egress,
            clock,
            cache: Mutex::new(HashMap::new()),
        }
    }

    pub(crate) fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// The provider's metadata and keys, from the cache while younger than [`METADATA_TTL_S`].
    pub(crate) async fn get(
        &self,
        issuer: &str,
    ) -> Result<(Arc<Metadata>, Arc<Vec<Jwk>>), FederationError> {
        let now = self.now();
        if let Some(c) = self.lock().get(issuer)
            && age_s(c.fetched_at, now) < METADATA_TTL_S
        {
            return Ok((c.metadata.clone(), c.keys.clone()));
        }
        let metadata = Arc::new(self.discover(issuer).await?);
        let keys = Arc::new(self.fetch_keys(&metadata).await?);
        let now = self.now();
        self.lock().insert(
            issuer.to_owned(),
            Cached {
                metadata: metadata.clone(),
                keys: keys.clone(),
                fetched_at: now,
                keys_fetched_at: now,
            },
        );
        Ok((metadata, keys))
    }

    /// Fetches the key set again after a token named an unknown `kid`, at most once per
    /// [`JWKS_REFETCH_MIN_S`] per issuer (so forged `kid`s cannot make MHP hammer the
    /// provider). `None` when rate-limited.
    pub(crate) async fn refetch_keys(
        &self,
        metadata: &Metadata,
    ) -> Result<Option<Arc<Vec<Jwk>>>, FederationError> {
        let now = self.now();
        {
            let mut cache = self.lock();
            let Some(c) = cache.get_mut(&metadata.issuer) else {
                return Ok(None);
            };
            if age_s(c.keys_fetched_at, now) < JWKS_REFETCH_MIN_S {
                return Ok(None);
            }
            // Claim the slot before fetching, so concurrent callbacks do not all refetch.
            c.keys_fetched_at = now;
        }
        let keys = Arc::new(self.fetch_keys(metadata).await?);
        if let Some(c) = self.lock().get_mut(&metadata.issuer) {
            c.keys = keys.clone();
        }
        Ok(Some(keys))
    }

    async fn discover(&self, issuer: &str) -> Result<Metadata, FederationError> {
        let base = self.secure_url(issuer, "issuer")?;
        let url = format!(
            "{}/.well-known/openid-configuration",
            base.as_str().trim_end_matches('/')
        );
        let url = self.secure_url(&url, "issuer")?;
        let doc: Discovery = self.get_json(url, "discovery").await?;
        // OpenID Connect Discovery 4.3: the issuer must be the one the document was fetched for.
        if doc.issuer != issuer {
            return Err(FederationError::IssuerMismatch);
        }
        let client_auth = match &doc.token_endpoint_auth_methods_supported {
            // The default of the specification.
            None => ClientAuth::Basic,
            Some(m) if m.iter().any(|s| s == "client_secret_basic") => ClientAuth::Basic,
            Some(m) if m.iter().any(|s| s == "client_secret_post") => ClientAuth::Post,
            Some(_) => {
                return Err(FederationError::BadMetadata(
                    "token_endpoint_auth_methods_supported",
                ));
            }
        };
        if let Some(methods) = &doc.code_challenge_methods_supported
            && !methods.iter().any(|m| m == "S256")
        {
            return Err(FederationError::BadMetadata(
                "code_challenge_methods_supported",
            ));
        }
        Ok(Metadata {
            issuer: doc.issuer,
            authorization_endpoint: self
                .secure_url(&doc.authorization_endpoint, "authorization_endpoint")?,
            token_endpoint: self.secure_url(&doc.token_endpoint, "token_endpoint")?,
            jwks_uri: self.secure_url(&doc.jwks_uri, "jwks_uri")?,
            client_auth,
        })
    }

    async fn fetch_keys(&self, metadata: &Metadata) -> Result<Vec<Jwk>, FederationError> {
        let set: JwkSet = self.get_json(metadata.jwks_uri.clone(), "jwks").await?;
        Ok(set.keys)
    }

    /// Exchanges the authorization code for tokens and returns the ID token.
    pub(crate) async fn exchange_code(
        &self,
        metadata: &Metadata,
        cfg: &ProviderConfig,
        pending: &PendingLogin,
        code: &str,
    ) -> Result<Zeroizing<String>, FederationError> {
        let (body, authorization) = token_request(metadata.client_auth, cfg, pending, code)?;
        let mut request = self
            .egress
            .post(metadata.token_endpoint.clone())
            .map_err(|e| egress_error(&e))?
            .header(ACCEPT, HeaderValue::from_static("application/json"))
            .header(
                CONTENT_TYPE,
                HeaderValue::from_static("application/x-www-form-urlencoded"),
            );
        if let Some(value) = authorization {
            request = request.header(AUTHORIZATION, value);
        }
        let response = self
            .egress
            .send(request.body(body.as_str().to_owned()))
            .await
            .map_err(|e| egress_error(&e))?;
        let status = response.status();
        if status.is_success() {
            let tokens: TokenResponse = self.read_json(response, "token response").await?;
            return tokens
                .id_token
                .map(Zeroizing::new)
                .ok_or(FederationError::BadMetadata(
                    "token response without id_token",
                ));
        }
        if status.is_client_error() {
            let error = self
                .read_json::<OAuthError>(response, "token error")
                .await
                .ok()
                .and_then(|e| e.error);
            return Err(FederationError::TokenRejected {
                error: sanitize_oauth_error(error.as_deref()),
            });
        }
        Err(FederationError::Unreachable("token endpoint error status"))
    }

    async fn get_json<T: DeserializeOwned>(
        &self,
        url: url::Url,
        what: &'static str,
    ) -> Result<T, FederationError> {
        let request = self
            .egress
            .get(url)
            .map_err(|e| egress_error(&e))?
            .header(ACCEPT, HeaderValue::from_static("application/json"));
        let response = self
            .egress
            .send(request)
            .await
            .map_err(|e| egress_error(&e))?;
        if !response.status().is_success() {
            return Err(FederationError::Unreachable("error status"));
        }
        self.read_json(response, what).await
    }

    /// Reads a JSON body of at most the egress client's size limit.
    async fn read_json<T: DeserializeOwned>(
        &self,
        response: reqwest::Response,
        what: &'static str,
    ) -> Result<T, FederationError> {
        let mut body = self
            .egress
            .read_body(response)
            .await
            .map_err(|e| egress_error(&e))?;
        let parsed = serde_json::from_slice(&body).map_err(|_| FederationError::BadMetadata(what));
        zeroize::Zeroize::zeroize(&mut body);
        parsed
    }

    fn secure_url(&self, s: &str, what: &'static str) -> Result<url::Url, FederationError> {
        secure_url(s, what)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Cached>> {
        // The map is always left consistent; a panic elsewhere must not disable SSO.
        self.cache.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The form body of the token request and, for `client_secret_basic`, the `Authorization`
/// header.
fn token_request(
    client_auth: ClientAuth,
    cfg: &ProviderConfig,
    pending: &PendingLogin,
    code: &str,
) -> Result<(Zeroizing<String>, Option<HeaderValue>), FederationError> {
    let mut form = form_urlencoded::Serializer::new(String::new());
    form.append_pair("grant_type", "authorization_code")
        .append_pair("code", code)
        .append_pair("redirect_uri", pending.redirect_uri())
        .append_pair("code_verifier", pending.pkce_verifier());
    let authorization = match client_auth {
        ClientAuth::Basic => {
            // RFC 6749 2.3.1: id and secret are form-encoded before base64.
            let user: String = form_urlencoded::byte_serialize(cfg.client_id.as_bytes()).collect();
            let pass: Zeroizing<String> = Zeroizing::new(
                form_urlencoded::byte_serialize(cfg.client_secret.expose().as_bytes()).collect(),
            );
            let credentials = Zeroizing::new(format!("{user}:{}", pass.as_str()));
            let header =
                Zeroizing::new(format!("Basic {}", B64_STD.encode(credentials.as_bytes())));
            let mut value = HeaderValue::from_str(&header)
                .map_err(|_| FederationError::InvalidConfig("client_secret"))?;
            value.set_sensitive(true);
            Some(value)
        }
        ClientAuth::Post => {
            form.append_pair("client_id", &cfg.client_id)
                .append_pair("client_secret", cfg.client_secret.expose());
            None
        }
    };
    Ok((Zeroizing::new(form.finish()), authorization))
}

/// Names the kind of failure only: the egress guard's refusal names its rule, never an address
/// or the URL.
fn egress_error(e: &EgressError) -> FederationError {
    match e {
        EgressError::Refused(r) => FederationError::EgressRefused(r.rule.as_str()),
        EgressError::Timeout => FederationError::Unreachable("timeout"),
        EgressError::Connect | EgressError::Unresolvable => {
            FederationError::Unreachable("connection failed")
        }
        EgressError::TooLarge { .. } => FederationError::BadMetadata("response too large"),
        EgressError::InvalidUrl(_) => FederationError::InsecureUrl("endpoint"),
        _ => FederationError::Unreachable("transport error"),
    }
}

fn age_s(then: Timestamp, now: Timestamp) -> i64 {
    now.as_millis().saturating_sub(then.as_millis()) / 1000
}

#[cfg(test)]
mod tests {
    use mhp_domain::{Secret, Timestamp};

    use super::*;

    fn setup() -> (ProviderConfig, PendingLogin) {
        let cfg = ProviderConfig::new(
            "https://idp.example.com",
            "mhp client",
            Secret::new("p@ss:w&rd".to_owned()),
            "https://mhp.example/cb",
        );
        let pending = PendingLogin::new(
            cfg.issuer.clone(),
            cfg.client_id.clone(),
            cfg.redirect_uri.clone(),
            "state".into(),
            "nonce".into(),
            "verifier".into(),
            Timestamp::from_millis(0),
        );
        (cfg, pending)
    }

    #[test]
    fn client_secret_basic_form_encodes_before_base64() {
        let (cfg, pending) = setup();
        let (body, auth) = token_request(ClientAuth::Basic, &cfg, &pending, "the code").unwrap();
        assert_eq!(
            body.as_str(),
            "grant_type=authorization_code&code=the+code&redirect_uri=https%3A%2F%2Fmhp.example%2Fcb&code_verifier=verifier"
        );
        let auth = auth.unwrap();
        assert!(auth.is_sensitive());
        let encoded = auth.to_str().unwrap().strip_prefix("Basic ").unwrap();
        let decoded = B64_STD.decode(encoded).unwrap();
        assert_eq!(decoded, b"mhp+client:p%40ss%3Aw%26rd");
    }

    #[test]
    fn client_secret_post_puts_the_credentials_in_the_body() {
        let (cfg, pending) = setup();
        let (body, auth) = token_request(ClientAuth::Post, &cfg, &pending, "c").unwrap();
        assert!(auth.is_none());
        assert!(
            body.ends_with("&client_id=mhp+client&client_secret=p%40ss%3Aw%26rd"),
            "{}",
            body.as_str()
        );
    }
}
