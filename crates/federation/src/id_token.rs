//! ID token validation (OpenID Connect Core 3.1.3.7) and the mapping of a validated token to
//! an MHP identity: e-mail, allowed domain, roles.

use std::fmt;

use mhp_domain::{Email, Role};
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::jws::{Jwk, Jws};
use crate::{FederationError, ProviderConfig, TokenProblem};

/// Clock skew tolerated on `exp`, `iat` and `nbf`, in seconds.
pub const LEEWAY_S: i64 = 60;

/// Longest display name kept from the provider; longer ones are dropped.
const MAX_NAME_CHARS: usize = 200;

/// Someone who signed in through their organisation's provider.
#[derive(Clone, PartialEq, Eq)]
pub struct FederatedIdentity {
    /// The provider's issuer identifier.
    pub issuer: String,
    /// The provider's stable id of the person (`sub`); (issuer, subject) is the key to link an
    /// MHP user to, not the e-mail address, which can change hands.
    pub subject: String,
    /// The verified e-mail address, normalised (lower-case).
    pub email: Email,
    /// Whether the provider vouched for the address; always `true` today, since unverified
    /// addresses are refused.
    pub email_verified: bool,
    /// The display name, when the provider sent a usable one.
    pub name: Option<String>,
    /// The MHP roles mapped from the role claim (or the default role), sorted, without
    /// duplicates, never empty.
    pub roles: Vec<Role>,
}

impl fmt::Debug for FederatedIdentity {
    // The e-mail address and the name are personal data: keep them out of logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FederatedIdentity")
            .field("issuer", &self.issuer)
            .field("subject", &self.subject)
            .field("email", &"[redacted]")
            .field("email_verified", &self.email_verified)
            .field("roles", &self.roles)
            .finish_non_exhaustive()
    }
}

/// What the ID token must match.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Expected<'a> {
    /// The issuer of the discovery document (equal to the configured one).
    pub(crate) issuer: &'a str,
    pub(crate) client_id: &'a str,
    pub(crate) nonce: &'a str,
    /// Now, in seconds since the epoch.
    pub(crate) now_s: i64,
}

/// The registered claims checked here; everything else stays in `other` for the role claim.
#[derive(Debug, Deserialize)]
pub(crate) struct Claims {
    iss: String,
    #[serde(default)]
    sub: String,
    aud: Audience,
    #[serde(default)]
    azp: Option<String>,
    exp: NumericDate,
    iat: NumericDate,
    #[serde(default)]
    nbf: Option<NumericDate>,
    #[serde(default)]
    nonce: Option<String>,
    #[serde(default)]
    email: Option<Value>,
    #[serde(default)]
    email_verified: Option<Value>,
    #[serde(default)]
    name: Option<Value>,
    #[serde(flatten)]
    other: Map<String, Value>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Audience {
    One(String),
    Many(Vec<String>),
}

/// Seconds since the epoch; some providers write fractions.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(untagged)]
enum NumericDate {
    Int(i64),
    Float(f64),
}

impl NumericDate {
    #[allow(clippy::cast_possible_truncation)] // saturating by definition of `as` for f64→i64
    fn seconds(self) -> i64 {
        match self {
            NumericDate::Int(s) => s,
            NumericDate::Float(f) => f as i64,
        }
    }
}

/// Verifies the signature of `token` with `keys` and checks its claims against `expected`.
pub(crate) fn validate(
    token: &str,
    keys: &[Jwk],
    expected: &Expected<'_>,
) -> Result<Claims, TokenProblem> {
    let jws = Jws::parse(token)?;
    let payload = jws.verify(keys)?;
    let claims: Claims = serde_json::from_slice(payload).map_err(|_| TokenProblem::Malformed)?;
    check_claims(&claims, expected)?;
    Ok(claims)
}

fn check_claims(claims: &Claims, expected: &Expected<'_>) -> Result<(), TokenProblem> {
    if claims.iss != expected.issuer {
        return Err(TokenProblem::WrongIssuer);
    }
    let audiences: &[String] = match &claims.aud {
        Audience::One(a) => std::slice::from_ref(a),
        Audience::Many(many) => many,
    };
    if !audiences.iter().any(|a| a == expected.client_id) {
        return Err(TokenProblem::WrongAudience);
    }
    // Core 3.1.3.7 (4, 5): with several audiences azp must be present; when present it must be
    // this client.
    match &claims.azp {
        Some(azp) if azp != expected.client_id => return Err(TokenProblem::WrongAudience),
        None if audiences.len() > 1 => return Err(TokenProblem::WrongAudience),
        _ => {}
    }
    if expected.now_s > claims.exp.seconds().saturating_add(LEEWAY_S) {
        return Err(TokenProblem::Expired);
    }
    let not_before = [Some(claims.iat), claims.nbf]
        .into_iter()
        .flatten()
        .map(NumericDate::seconds)
        .max()
        .unwrap_or(i64::MIN);
    if not_before > expected.now_s.saturating_add(LEEWAY_S) {
        return Err(TokenProblem::NotYetValid);
    }
    let nonce_ok = claims
        .nonce
        .as_deref()
        .is_some_and(|n| crate::pkce::constant_time_eq(n, expected.nonce));
    if !nonce_ok {
        return Err(TokenProblem::NonceMismatch);
    }
    if claims.sub.is_empty() || claims.sub.len() > 255 {
        return Err(TokenProblem::SubjectMissing);
    }
    Ok(())
}

/// Turns validated claims into an identity: verified e-mail in an allowed domain, and roles.
///
/// `email_verified` must be `true` (or the string `"true"`, as some providers write it);
/// a provider that omits it is treated as not vouching for the address, so its users are
/// refused: an unverified address would let anyone who can register one at the provider claim
/// an allowed domain.
pub(crate) fn identify(
    cfg: &ProviderConfig,
    claims: Claims,
) -> Result<FederatedIdentity, FederationError> {
    let email = claims
        .email
        .as_ref()
        .and_then(Value::as_str)
        .and_then(|s| Email::parse(s).ok())
        .ok_or(FederationError::EmailMissing)?;
    let verified = match &claims.email_verified {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s.eq_ignore_ascii_case("true"),
        _ => false,
    };
    if !verified {
        return Err(FederationError::EmailUnverified);
    }
    if !domain_allowed(&email, &cfg.allowed_domains) {
        return Err(FederationError::DomainNotAllowed);
    }
    let roles = map_roles(cfg, &claims.other)?;
    Ok(FederatedIdentity {
        issuer: claims.iss,
        subject: claims.sub,
        email,
        email_verified: verified,
        name: claims
            .name
            .as_ref()
            .and_then(Value::as_str)
            .and_then(clean_name),
        roles,
    })
}

/// Whether the address's domain is one of `allowed`: exact, case-insensitive, no subdomains.
pub(crate) fn domain_allowed(email: &Email, allowed: &[String]) -> bool {
    let Some((_, domain)) = email.as_str().rsplit_once('@') else {
        return false;
    };
    allowed.iter().any(|d| {
        let d = d.trim();
        let d = d.strip_prefix('@').unwrap_or(d);
        d.eq_ignore_ascii_case(domain)
    })
}

/// The MHP roles for the claim values, sorted and deduplicated, or the default role.
pub(crate) fn map_roles(
    cfg: &ProviderConfig,
    claims: &Map<String, Value>,
) -> Result<Vec<Role>, FederationError> {
    let values = cfg
        .role_claim
        .as_deref()
        .and_then(|name| find_claim(claims, name))
        .map(claim_strings)
        .unwrap_or_default();
    let mut roles: Vec<Role> = cfg
        .role_map
        .iter()
        .filter(|(value, _)| values.contains(&value.as_str()))
        .map(|(_, role)| *role)
        .collect();
    roles.sort();
    roles.dedup();
    if roles.is_empty() {
        roles.extend(cfg.default_role);
    }
    if roles.is_empty() {
        return Err(FederationError::NoRole);
    }
    Ok(roles)
}

/// A claim by name; when no top-level claim has the name and it contains dots, the dotted path
/// through nested objects (Keycloak's `realm_access.roles`).
fn find_claim<'a>(claims: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    if let Some(v) = claims.get(name) {
        return Some(v);
    }
    let mut parts = name.split('.');
    let mut value = claims.get(parts.next()?)?;
    for part in parts {
        value = value.as_object()?.get(part)?;
    }
    Some(value)
}

/// The strings of a claim that is a string or an array (non-string members are ignored).
fn claim_strings(value: &Value) -> Vec<&str> {
    match value {
        Value::String(s) => vec![s.as_str()],
        Value::Array(items) => items.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

fn clean_name(name: &str) -> Option<String> {
    let name = name.trim();
    let usable = !name.is_empty()
        && name.chars().count() <= MAX_NAME_CHARS
        && !name.chars().any(char::is_control);
    usable.then(|| name.to_owned())
}

#[cfg(test)]
mod tests {
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
    use mhp_domain::Secret;
    use ring::rand::SystemRandom;
    use ring::signature::{
        ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair, KeyPair as _,
    };
    use serde_json::json;

    use super::*;

    const ISS: &str = "https://idp.example.com";
    const NOW: i64 = 1_750_000_000;

    enum Signer {
        Es256(EcdsaKeyPair),
        Ed25519(Ed25519KeyPair),
    }

    struct TestKey {
        kid: String,
        signer: Signer,
        rng: SystemRandom,
    }

    impl TestKey {
        fn es256(kid: &str) -> Self {
            let rng = SystemRandom::new();
            let pkcs8 =
                EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
            let pair =
                EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng)
                    .unwrap();
            Self {
                kid: kid.into(),
                signer: Signer::Es256(pair),
                rng,
            }
        }

        fn ed25519(kid: &str) -> Self {
            let rng = SystemRandom::new();
            let pkcs8 = Ed25519KeyPair::generate_pkcs8(&rng).unwrap();
            let pair = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap();
            Self {
                kid: kid.into(),
                signer: Signer::Ed25519(pair),
                rng,
            }
        }

        fn alg(&self) -> &'static str {
            match self.signer {
                Signer::Es256(_) => "ES256",
                Signer::Ed25519(_) => "EdDSA",
            }
        }

        fn jwk(&self) -> Jwk {
            let value = match &self.signer {
                Signer::Es256(pair) => {
                    let point = pair.public_key().as_ref();
                    json!({"kty": "EC", "crv": "P-256", "kid": self.kid, "use": "sig", "alg": "ES256",
                           "x": B64.encode(&point[1..33]), "y": B64.encode(&point[33..65])})
                }
                Signer::Ed25519(pair) => {
                    json!({"kty": "OKP", "crv": "Ed25519", "kid": self.kid,
                           "x": B64.encode(pair.public_key().as_ref())})
                }
            };
            serde_json::from_value(value).unwrap()
        }

        fn sign_with_header(&self, header: &Value, claims: &Value) -> String {
            let input = format!(
                "{}.{}",
                B64.encode(header.to_string()),
                B64.encode(claims.to_string())
            );
            let sig = match &self.signer {
                Signer::Es256(pair) => pair
                    .sign(&self.rng, input.as_bytes())
                    .unwrap()
                    .as_ref()
                    .to_vec(),
                Signer::Ed25519(pair) => pair.sign(input.as_bytes()).as_ref().to_vec(),
            };
            format!("{input}.{}", B64.encode(sig))
        }

        fn sign(&self, claims: &Value) -> String {
            self.sign_with_header(
                &json!({"alg": self.alg(), "kid": self.kid, "typ": "JWT"}),
                claims,
            )
        }
    }

    fn claims() -> Value {
        json!({
            "iss": ISS, "sub": "user-1", "aud": "mhp", "exp": NOW + 300, "iat": NOW - 5,
            "nonce": "n-123", "email": "Ana@Clinic.Example", "email_verified": true,
            "name": "Ana Example", "groups": ["clinicians", "staff"],
        })
    }

    fn with(mut base: Value, key: &str, value: Value) -> Value {
        base[key] = value;
        base
    }

    fn without(mut base: Value, key: &str) -> Value {
        base.as_object_mut().unwrap().remove(key);
        base
    }

    fn expected() -> Expected<'static> {
        Expected {
            issuer: ISS,
            client_id: "mhp",
            nonce: "n-123",
            now_s: NOW,
        }
    }

    fn config() -> ProviderConfig {
        let mut c = ProviderConfig::new(
            ISS,
            "mhp",
            Secret::new("s".into()),
            "https://mhp.example/cb",
        );
        c.allowed_domains = vec!["clinic.example".into()];
        c.role_claim = Some("groups".into());
        c.role_map = vec![
            ("clinicians".into(), Role::Clinician),
            ("admins".into(), Role::OrgAdmin),
            ("staff".into(), Role::Clinician),
        ];
        c
    }

    fn check(key: &TestKey, claims: &Value) -> Result<Claims, TokenProblem> {
        validate(&key.sign(claims), &[key.jwk()], &expected())
    }

    fn sign_in(key: &TestKey, claims: &Value) -> Result<FederatedIdentity, FederationError> {
        let c = check(key, claims)?;
        identify(&config(), c)
    }

    #[test]
    fn a_good_token_yields_the_identity() {
        for key in [TestKey::es256("k1"), TestKey::ed25519("k2")] {
            let id = sign_in(&key, &claims()).unwrap();
            assert_eq!(id.issuer, ISS);
            assert_eq!(id.subject, "user-1");
            assert_eq!(id.email.as_str(), "ana@clinic.example");
            assert!(id.email_verified);
            assert_eq!(id.name.as_deref(), Some("Ana Example"));
            assert_eq!(id.roles, vec![Role::Clinician]);
            assert!(!format!("{id:?}").contains("ana@"));
        }
    }

    #[test]
    fn wrong_issuer_audience_or_azp_is_refused() {
        let key = TestKey::es256("k1");
        let cases = [
            (
                with(claims(), "iss", json!("https://idp.example.com/")),
                TokenProblem::WrongIssuer,
            ),
            (
                with(claims(), "iss", json!("https://evil.example")),
                TokenProblem::WrongIssuer,
            ),
            (
                with(claims(), "aud", json!("other-client")),
                TokenProblem::WrongAudience,
            ),
            (
                with(claims(), "aud", json!(["other", "mhp"])),
                TokenProblem::WrongAudience,
            ),
            (
                with(
                    with(claims(), "aud", json!(["other", "mhp"])),
                    "azp",
                    json!("other"),
                ),
                TokenProblem::WrongAudience,
            ),
            (
                with(claims(), "azp", json!("other")),
                TokenProblem::WrongAudience,
            ),
        ];
        for (c, problem) in cases {
            assert_eq!(check(&key, &c).map(|_| ()), Err(problem), "{c}");
        }
        let several = with(
            with(claims(), "aud", json!(["other", "mhp"])),
            "azp",
            json!("mhp"),
        );
        assert!(check(&key, &several).is_ok());
    }

    #[test]
    fn time_claims_allow_sixty_seconds_of_skew_and_no_more() {
        let key = TestKey::es256("k1");
        assert!(check(&key, &with(claims(), "exp", json!(NOW - 60))).is_ok());
        assert_eq!(
            check(&key, &with(claims(), "exp", json!(NOW - 61))).map(|_| ()),
            Err(TokenProblem::Expired)
        );
        assert!(check(&key, &with(claims(), "iat", json!(NOW + 60))).is_ok());
        assert_eq!(
            check(&key, &with(claims(), "iat", json!(NOW + 61))).map(|_| ()),
            Err(TokenProblem::NotYetValid)
        );
        assert_eq!(
            check(&key, &with(claims(), "nbf", json!(NOW + 120))).map(|_| ()),
            Err(TokenProblem::NotYetValid)
        );
        assert!(check(&key, &with(claims(), "exp", json!((NOW + 10) as f64 + 0.5))).is_ok());
        for missing in ["exp", "iat", "aud", "iss"] {
            assert_eq!(
                check(&key, &without(claims(), missing)).map(|_| ()),
                Err(TokenProblem::Malformed),
                "{missing}"
            );
        }
    }

    #[test]
    fn nonce_and_subject_are_required() {
        let key = TestKey::ed25519("k1");
        assert_eq!(
            check(&key, &with(claims(), "nonce", json!("n-124"))).map(|_| ()),
            Err(TokenProblem::NonceMismatch)
        );
        assert_eq!(
            check(&key, &without(claims(), "nonce")).map(|_| ()),
            Err(TokenProblem::NonceMismatch)
        );
        assert_eq!(
            check(&key, &without(claims(), "sub")).map(|_| ()),
            Err(TokenProblem::SubjectMissing)
        );
    }

    #[test]
    fn unsigned_hmac_and_foreign_tokens_are_refused() {
        let key = TestKey::es256("k1");
        let good = key.sign(&claims());
        let (input, _) = good.rsplit_once('.').unwrap();
        let (_, payload) = input.split_once('.').unwrap();

        let none = format!("{}.{payload}.", B64.encode(r#"{"alg":"none","kid":"k1"}"#));
        assert_eq!(
            validate(&none, &[key.jwk()], &expected()).map(|_| ()),
            Err(TokenProblem::AlgorithmNotAllowed)
        );
        // An HMAC keyed with the public key's bytes: the classic algorithm confusion.
        let hs = key.sign_with_header(&json!({"alg": "HS256", "kid": "k1"}), &claims());
        assert_eq!(
            validate(&hs, &[key.jwk()], &expected()).map(|_| ()),
            Err(TokenProblem::AlgorithmNotAllowed)
        );
        // The header claims EdDSA, the key is ES256.
        let confused = key.sign_with_header(&json!({"alg": "EdDSA", "kid": "k1"}), &claims());
        assert_eq!(
            validate(&confused, &[key.jwk()], &expected()).map(|_| ()),
            Err(TokenProblem::KeyMismatch)
        );
        // Signed by a key that is not the provider's, under a kid the provider has.
        let impostor = TestKey::es256("k1");
        assert_eq!(
            validate(&impostor.sign(&claims()), &[key.jwk()], &expected()).map(|_| ()),
            Err(TokenProblem::BadSignature)
        );
        // Payload swapped after signing.
        let forged_payload = B64.encode(with(claims(), "sub", json!("admin")).to_string());
        let (header, rest) = good.split_once('.').unwrap();
        let (_, sig) = rest.split_once('.').unwrap();
        let forged = format!("{header}.{forged_payload}.{sig}");
        assert_eq!(
            validate(&forged, &[key.jwk()], &expected()).map(|_| ()),
            Err(TokenProblem::BadSignature)
        );
    }

    #[test]
    fn unknown_kid_is_reported_for_a_refetch() {
        let key = TestKey::es256("new-key");
        let old = TestKey::es256("old-key");
        assert_eq!(
            validate(&key.sign(&claims()), &[old.jwk()], &expected()).map(|_| ()),
            Err(TokenProblem::UnknownKey)
        );
        assert!(validate(&key.sign(&claims()), &[old.jwk(), key.jwk()], &expected()).is_ok());
    }

    #[test]
    fn email_must_be_present_verified_and_in_an_allowed_domain() {
        let key = TestKey::es256("k1");
        assert_eq!(
            sign_in(&key, &with(claims(), "email_verified", json!(false))).map(|_| ()),
            Err(FederationError::EmailUnverified)
        );
        assert_eq!(
            sign_in(&key, &without(claims(), "email_verified")).map(|_| ()),
            Err(FederationError::EmailUnverified)
        );
        assert!(sign_in(&key, &with(claims(), "email_verified", json!("true"))).is_ok());
        assert_eq!(
            sign_in(&key, &without(claims(), "email")).map(|_| ()),
            Err(FederationError::EmailMissing)
        );
        assert_eq!(
            sign_in(&key, &with(claims(), "email", json!("not-an-address"))).map(|_| ()),
            Err(FederationError::EmailMissing)
        );
        for other in [
            "ana@elsewhere.example",
            "ana@sub.clinic.example",
            "ana@clinic.example.evil",
        ] {
            assert_eq!(
                sign_in(&key, &with(claims(), "email", json!(other))).map(|_| ()),
                Err(FederationError::DomainNotAllowed),
                "{other}"
            );
        }
    }

    #[test]
    fn domains_match_exactly_and_case_insensitively() {
        let email = Email::parse("Ana@Clinic.EXAMPLE").unwrap();
        assert!(domain_allowed(&email, &["clinic.example".into()]));
        assert!(domain_allowed(&email, &["CLINIC.example".into()]));
        assert!(domain_allowed(&email, &["@clinic.example".into()]));
        assert!(!domain_allowed(&email, &[]));
        assert!(!domain_allowed(&email, &["example".into()]));
        assert!(!domain_allowed(&email, &["linic.example".into()]));
        let sub = Email::parse("ana@eu.clinic.example").unwrap();
        assert!(!domain_allowed(&sub, &["clinic.example".into()]));
    }

    #[test]
    fn roles_are_mapped_deduplicated_or_defaulted() {
        let mut cfg = config();
        let map = |v: Value| v.as_object().cloned().unwrap();
        assert_eq!(
            map_roles(
                &cfg,
                &map(json!({"groups": ["staff", "admins", "clinicians", "other", 7]}))
            ),
            Ok(vec![Role::OrgAdmin, Role::Clinician])
        );
        assert_eq!(
            map_roles(&cfg, &map(json!({"groups": "admins"}))),
            Ok(vec![Role::OrgAdmin])
        );
        assert_eq!(
            map_roles(&cfg, &map(json!({"groups": ["Admins"]}))),
            Err(FederationError::NoRole)
        );
        assert_eq!(
            map_roles(&cfg, &map(json!({}))),
            Err(FederationError::NoRole)
        );
        assert_eq!(
            map_roles(&cfg, &map(json!({"groups": {"admins": true}}))),
            Err(FederationError::NoRole)
        );
        cfg.default_role = Some(Role::Athlete);
        assert_eq!(
            map_roles(&cfg, &map(json!({"groups": ["other"]}))),
            Ok(vec![Role::Athlete])
        );
        assert_eq!(
            map_roles(&cfg, &map(json!({"groups": ["admins"]}))),
            Ok(vec![Role::OrgAdmin])
        );
        cfg.role_claim = Some("realm_access.roles".into());
        assert_eq!(
            map_roles(
                &cfg,
                &map(json!({"realm_access": {"roles": ["clinicians"]}}))
            ),
            Ok(vec![Role::Clinician])
        );
        cfg.role_claim = Some("https://mhp.example/roles".into());
        assert_eq!(
            map_roles(&cfg, &map(json!({"https://mhp.example/roles": ["admins"]}))),
            Ok(vec![Role::OrgAdmin])
        );
        cfg.role_claim = None;
        assert_eq!(
            map_roles(&cfg, &map(json!({"groups": ["admins"]}))),
            Ok(vec![Role::Athlete])
        );
    }

    #[test]
    fn names_are_cleaned() {
        assert_eq!(clean_name("  Ana  "), Some("Ana".into()));
        assert_eq!(clean_name(""), None);
        assert_eq!(clean_name("Ana\nEvil"), None);
        assert_eq!(clean_name(&"x".repeat(201)), None);
    }
}
