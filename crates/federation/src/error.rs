//! What can go wrong in a federated sign-in. Messages name the failed check only: never a token,
//! an authorization code, a client secret, an e-mail address or anything else the provider or
//! the browser sent, because they end up in logs.

/// A federated sign-in that failed, or a provider that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FederationError {
    /// The organisation's provider configuration is unusable (the field is named).
    #[error("invalid SSO configuration: {0}")]
    InvalidConfig(&'static str),
    /// A provider URL is not https (http is allowed for loopback hosts only) or not a URL.
    #[error("insecure or invalid identity provider URL: {0}")]
    InsecureUrl(&'static str),
    /// The provider's address is one MHP does not connect to (loopback, private, link-local and
    /// other internal ranges, plain http), by the egress rules of `mhp_egress`; the rule is
    /// named.
    #[error("identity provider address refused ({0})")]
    EgressRefused(&'static str),
    /// The provider could not be reached, timed out or answered with an error status.
    #[error("identity provider unreachable ({0})")]
    Unreachable(&'static str),
    /// The discovery document or the key set is malformed or incomplete.
    #[error("identity provider metadata invalid: {0}")]
    BadMetadata(&'static str),
    /// The discovery document names another issuer than the one configured.
    #[error("identity provider issuer does not match the configuration")]
    IssuerMismatch,
    /// The pending login is older than [`crate::LOGIN_TTL_S`] or belongs to another provider.
    #[error("sign-in attempt expired or does not belong to this provider")]
    LoginExpired,
    /// The `state` of the callback is not the one of the pending login.
    #[error("sign-in state mismatch")]
    StateMismatch,
    /// The token endpoint refused the code (used twice, expired, wrong verifier...). `error`
    /// is the OAuth error code when it is a plain one (`invalid_grant`), otherwise `other`.
    #[error("identity provider refused the authorization code ({error})")]
    TokenRejected {
        /// The OAuth error code, reduced to `[a-z_]`.
        error: String,
    },
    /// The ID token failed validation.
    #[error("ID token invalid: {0}")]
    IdToken(#[from] TokenProblem),
    /// The ID token carries no usable `email` claim.
    #[error("identity provider sent no usable e-mail address")]
    EmailMissing,
    /// The provider does not say the e-mail address is verified.
    #[error("e-mail address not verified by the identity provider")]
    EmailUnverified,
    /// The e-mail address's domain is not one of the organisation's allowed domains.
    #[error("e-mail domain not allowed for this organisation")]
    DomainNotAllowed,
    /// No role could be mapped and the organisation has no default role.
    #[error("no MHP role for this identity")]
    NoRole,
    /// The operating system's random number generator or the HTTP client failed.
    #[error("internal error: {0}")]
    Internal(&'static str),
}

/// Why an ID token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenProblem {
    /// Not a compact JWS of three base64url parts with JSON header and claims.
    #[error("malformed")]
    Malformed,
    /// `alg` is not one of RS256, PS256, ES256, EdDSA (`none` and HS* never are).
    #[error("algorithm not allowed")]
    AlgorithmNotAllowed,
    /// The header carries `crit`, which this relying party does not understand.
    #[error("critical header not understood")]
    CriticalHeader,
    /// No key of the provider's key set has this `kid` (after one refetch).
    #[error("unknown signing key")]
    UnknownKey,
    /// The key named by `kid` is not a key for `alg` (type, curve, `alg` or `use` differ).
    #[error("key does not match algorithm")]
    KeyMismatch,
    /// The signature does not verify.
    #[error("bad signature")]
    BadSignature,
    /// `iss` is not the discovered issuer.
    #[error("wrong issuer")]
    WrongIssuer,
    /// `aud` does not contain the client id, or `azp` is not the client id.
    #[error("wrong audience")]
    WrongAudience,
    /// `exp` has passed (beyond the leeway).
    #[error("expired")]
    Expired,
    /// `iat` or `nbf` lies in the future (beyond the leeway).
    #[error("not yet valid")]
    NotYetValid,
    /// `nonce` is missing or not the pending login's.
    #[error("nonce mismatch")]
    NonceMismatch,
    /// `sub` is missing or empty.
    #[error("subject missing")]
    SubjectMissing,
}

impl FederationError {
    /// Stable, machine-readable code for problem+json and logs.
    pub const fn code(&self) -> &'static str {
        match self {
            FederationError::InvalidConfig(_) => "sso_config_invalid",
            FederationError::InsecureUrl(_) => "sso_insecure_url",
            FederationError::EgressRefused(_) => "sso_egress_refused",
            FederationError::Unreachable(_) => "idp_unreachable",
            FederationError::BadMetadata(_) => "idp_metadata_invalid",
            FederationError::IssuerMismatch => "idp_issuer_mismatch",
            FederationError::LoginExpired => "sso_login_expired",
            FederationError::StateMismatch => "sso_state_mismatch",
            FederationError::TokenRejected { .. } => "idp_code_rejected",
            FederationError::IdToken(_) => "id_token_invalid",
            FederationError::EmailMissing => "sso_email_missing",
            FederationError::EmailUnverified => "sso_email_unverified",
            FederationError::DomainNotAllowed => "sso_domain_not_allowed",
            FederationError::NoRole => "sso_no_role",
            FederationError::Internal(_) => "sso_internal",
        }
    }

    /// Whether the fault lies with the provider or the configuration rather than with the
    /// person signing in (the server answers 502 rather than 401/403 for these).
    pub const fn is_provider_fault(&self) -> bool {
        matches!(
            self,
            FederationError::InvalidConfig(_)
                | FederationError::InsecureUrl(_)
                | FederationError::EgressRefused(_)
                | FederationError::Unreachable(_)
                | FederationError::BadMetadata(_)
                | FederationError::IssuerMismatch
        )
    }
}

/// Reduces an OAuth error code from a provider to something safe to log.
pub(crate) fn sanitize_oauth_error(code: Option<&str>) -> String {
    match code {
        Some(c)
            if !c.is_empty()
                && c.len() <= 40
                && c.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') =>
        {
            c.to_owned()
        }
        _ => "other".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_stable_snake_case() {
        let all = [
            FederationError::InvalidConfig("issuer"),
            FederationError::InsecureUrl("issuer"),
            FederationError::Unreachable("timeout"),
            FederationError::EgressRefused("loopback"),
            FederationError::BadMetadata("jwks"),
            FederationError::IssuerMismatch,
            FederationError::LoginExpired,
            FederationError::StateMismatch,
            FederationError::TokenRejected {
                error: "invalid_grant".into(),
            },
            FederationError::IdToken(TokenProblem::Expired),
            FederationError::EmailMissing,
            FederationError::EmailUnverified,
            FederationError::DomainNotAllowed,
            FederationError::NoRole,
            FederationError::Internal("rng"),
        ];
        for e in all {
            let code = e.code();
            assert!(
                code.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                "{code}"
            );
        }
    }

    #[test]
    fn provider_error_codes_are_reduced_to_safe_text() {
        assert_eq!(sanitize_oauth_error(Some("invalid_grant")), "invalid_grant");
        assert_eq!(sanitize_oauth_error(Some("code abc123 is bad")), "other");
        assert_eq!(sanitize_oauth_error(Some("Invalid_Grant")), "other");
        assert_eq!(sanitize_oauth_error(None), "other");
    }
}
