//! One organisation's identity provider, as the server stores it.

use mhp_domain::{Role, Secret};
use url::Url;

use crate::FederationError;

/// The scopes asked for when the configuration names none.
pub const DEFAULT_SCOPES: [&str; 3] = ["openid", "email", "profile"];

/// How one organisation signs in through its own OpenID provider.
#[derive(Debug, Clone)]
pub struct ProviderConfig {
    /// The provider's issuer identifier, e.g. `https://idp.example.com/realms/army`. Compared
    /// exactly (no trailing-slash normalisation) with the discovery document and the ID token.
    /// `http` is accepted only for loopback hosts (tests).
    pub issuer: String,
    /// MHP's client id at the provider.
    pub client_id: String,
    /// MHP's client secret at the provider, resolved by the caller from a `secret://` reference.
    pub client_secret: Secret<String>,
    /// Where the provider sends the browser back (MHP's callback route), registered at the
    /// provider exactly so.
    pub redirect_uri: String,
    /// Scopes to request; `openid` is added when missing. Empty means [`DEFAULT_SCOPES`].
    pub scopes: Vec<String>,
    /// E-mail domains accepted, matched exactly and case-insensitively (`clinic.example` does
    /// not admit `sub.clinic.example`). Empty refuses everyone.
    pub allowed_domains: Vec<String>,
    /// The ID token claim holding group or role names (`groups`, `roles`): a string or an array
    /// of strings. `None`: only [`ProviderConfig::default_role`] applies.
    pub role_claim: Option<String>,
    /// Claim value → MHP role. Values are compared exactly (case-sensitive), as providers
    /// hand them out (names or GUIDs).
    pub role_map: Vec<(String, Role)>,
    /// The role given when no mapped value is present; `None` refuses such sign-ins.
    pub default_role: Option<Role>,
}

impl ProviderConfig {
    /// A configuration with the default scopes, no allowed domain, no role mapping and no
    /// default role: fill those in before use.
    pub fn new(
        issuer: impl Into<String>,
        client_id: impl Into<String>,
        client_secret: Secret<String>,
        redirect_uri: impl Into<String>,
    ) -> Self {
        Self {
            issuer: issuer.into(),
            client_id: client_id.into(),
            client_secret,
            redirect_uri: redirect_uri.into(),
            scopes: DEFAULT_SCOPES.iter().map(|s| (*s).to_owned()).collect(),
            allowed_domains: Vec::new(),
            role_claim: None,
            role_map: Vec::new(),
            default_role: None,
        }
    }

    /// Checks what can be checked without the network; the server may call it when an
    /// organisation admin saves the configuration. It accepts http for loopback hosts, which
    /// [`crate::Federation`] still refuses unless built with
    /// [`crate::Federation::allow_loopback_http`].
    pub fn validate(&self) -> Result<(), FederationError> {
        let issuer = secure_url(&self.issuer, "issuer")?;
        if issuer.query().is_some() || issuer.fragment().is_some() {
            return Err(FederationError::InvalidConfig("issuer"));
        }
        if self.client_id.is_empty() || self.client_id.chars().any(char::is_control) {
            return Err(FederationError::InvalidConfig("client_id"));
        }
        if self.client_secret.expose().is_empty() {
            return Err(FederationError::InvalidConfig("client_secret"));
        }
        let redirect = Url::parse(&self.redirect_uri)
            .map_err(|_| FederationError::InvalidConfig("redirect_uri"))?;
        if redirect.fragment().is_some() || !matches!(redirect.scheme(), "https" | "http") {
            return Err(FederationError::InvalidConfig("redirect_uri"));
        }
        if self
            .scopes
            .iter()
            .any(|s| s.is_empty() || s.chars().any(|c| c.is_whitespace() || c.is_control()))
        {
            return Err(FederationError::InvalidConfig("scopes"));
        }
        if self.role_claim.as_deref() == Some("") {
            return Err(FederationError::InvalidConfig("role_claim"));
        }
        Ok(())
    }

    /// The scopes to send, `openid` first and always present.
    pub(crate) fn scope_param(&self) -> String {
        let configured: Vec<&str> = if self.scopes.is_empty() {
            DEFAULT_SCOPES.to_vec()
        } else {
            self.scopes.iter().map(String::as_str).collect()
        };
        let mut scopes = vec!["openid"];
        for s in configured {
            if !scopes.contains(&s) {
                scopes.push(s);
            }
        }
        scopes.join(" ")
    }
}

/// Parses a URL of the provider: http(s), a host, no user name or password. Whether MHP may
/// connect to it (https only, no internal address unless the operator allowed it) is the egress
/// guard's decision, made at every request (`mhp_egress`).
pub(crate) fn secure_url(s: &str, what: &'static str) -> Result<Url, FederationError> {
    let url = Url::parse(s).map_err(|_| FederationError::InsecureUrl(what))?;
    if !url.username().is_empty() || url.password().is_some() || url.host().is_none() {
        return Err(FederationError::InsecureUrl(what));
    }
    match url.scheme() {
        "https" | "http" => Ok(url),
        _ => Err(FederationError::InsecureUrl(what)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(issuer: &str) -> ProviderConfig {
        ProviderConfig::new(
            issuer,
            "mhp",
            Secret::new("s3cret".to_owned()),
            "https://mhp.example/api/v1/auth/sso/callback",
        )
    }

    #[test]
    fn provider_urls_are_http_or_https_with_a_host_and_no_credentials() {
        assert!(secure_url("https://idp.example.com", "issuer").is_ok());
        // Plain http and the address are the egress guard's to judge, at every request.
        assert!(secure_url("http://127.0.0.1:8080", "issuer").is_ok());
        for bad in [
            "ftp://idp.example.com",
            "https://user:pw@idp.example.com",
            "https://:pw@idp.example.com",
            "not a url",
            "file:///etc/passwd",
        ] {
            assert_eq!(
                secure_url(bad, "issuer").map(|_| ()),
                Err(FederationError::InsecureUrl("issuer")),
                "{bad}"
            );
        }
    }

    #[test]
    fn validate_names_the_broken_field() {
        assert_eq!(config("https://idp.example.com").validate(), Ok(()));
        assert_eq!(
            config("ftp://idp.example.com").validate(),
            Err(FederationError::InsecureUrl("issuer"))
        );
        assert_eq!(
            config("https://idp.example.com/?tenant=1").validate(),
            Err(FederationError::InvalidConfig("issuer"))
        );
        let mut c = config("https://idp.example.com");
        c.client_secret = Secret::new(String::new());
        assert_eq!(
            c.validate(),
            Err(FederationError::InvalidConfig("client_secret"))
        );
        let mut c = config("https://idp.example.com");
        c.scopes = vec!["openid email".into()];
        assert_eq!(c.validate(), Err(FederationError::InvalidConfig("scopes")));
    }

    #[test]
    fn openid_scope_is_always_first() {
        let mut c = config("https://idp.example.com");
        assert_eq!(c.scope_param(), "openid email profile");
        c.scopes = vec![
            "email".into(),
            "groups".into(),
            "openid".into(),
            "email".into(),
        ];
        assert_eq!(c.scope_param(), "openid email groups");
        c.scopes = Vec::new();
        assert_eq!(c.scope_param(), "openid email profile");
    }
}
