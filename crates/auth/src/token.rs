//! Access tokens: JWTs signed with Ed25519 (`alg: EdDSA`, RFC 8037), and nothing else.
//!
//! Verification accepts exactly one algorithm, so `alg: none` and algorithm confusion (an HMAC
//! "signed" with a public key) cannot get through; the key is chosen by `kid` among the keys
//! the server published; `iss`, `aud`, `exp` and `nbf` are checked with a small leeway; a `crit`
//! header is refused. Refresh tokens are opaque random strings handled by the server.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use mhp_domain::Secret;
use rand::Rng as _;
use serde::{Deserialize, Serialize};

/// How long an access token lives.
pub const ACCESS_TTL_S: i64 = 15 * 60;
/// Clock skew tolerated on `exp` and `nbf`.
pub const LEEWAY_S: i64 = 30;
/// The audience of MHP's own API.
pub const AUDIENCE: &str = "mhp-api";
/// Longest token considered.
const MAX_LEN: usize = 8192;

/// A token's claims.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// Issuer.
    pub iss: String,
    /// Audience.
    pub aud: String,
    /// The user's id.
    pub sub: String,
    /// Expiry, seconds since the epoch.
    pub exp: i64,
    /// Not before.
    pub nbf: i64,
    /// Issued at.
    pub iat: i64,
    /// The token's id.
    pub jti: String,
    /// How the user authenticated (RFC 8176): `pwd`, and `otp` after a second factor.
    pub amr: Vec<String>,
}

#[derive(Debug, Serialize, Deserialize)]
struct Header {
    alg: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    typ: Option<String>,
    kid: String,
    #[serde(default, skip_serializing)]
    crit: Option<serde_json::Value>,
}

/// Why a token was refused. The server answers every one of them with the same 401.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Not three base64url parts of sane size, or not JSON.
    #[error("malformed token")]
    Malformed,
    /// Another algorithm than EdDSA, or a critical header we do not understand.
    #[error("algorithm not accepted")]
    Algorithm,
    /// `alg: none`: an unsigned token.
    #[error("unsigned token")]
    AlgNone,
    /// No published key has that id.
    #[error("unknown key")]
    UnknownKey,
    /// The signature does not verify.
    #[error("bad signature")]
    Signature,
    /// Wrong issuer or audience.
    #[error("wrong issuer or audience")]
    Audience,
    /// Expired, or not valid yet.
    #[error("expired or not yet valid")]
    Time,
}

impl TokenError {
    /// Whether the token was forged rather than merely stale or garbled: unsigned, signed with
    /// another algorithm, or with a signature that does not verify. Monitoring counts these per
    /// address (`token_forgery`).
    pub const fn forgery(&self) -> Option<&'static str> {
        match self {
            TokenError::AlgNone => Some("token_alg_none"),
            TokenError::Algorithm => Some("token_foreign_alg"),
            TokenError::Signature => Some("token_bad_signature"),
            TokenError::Malformed
            | TokenError::UnknownKey
            | TokenError::Audience
            | TokenError::Time => None,
        }
    }
}

/// Fresh Ed25519 key material: the private seed (to seal) and the public key (to publish).
pub fn new_key() -> (Secret<[u8; 32]>, [u8; 32]) {
    let mut seed = [0u8; 32];
    rand::rng().fill(&mut seed);
    let public = SigningKey::from_bytes(&seed).verifying_key().to_bytes();
    (Secret::new(seed), public)
}

/// A random token id or key id (128 bits, base64url).
pub fn random_id() -> String {
    let mut b = [0u8; 16];
    rand::rng().fill(&mut b);
    B64.encode(b)
}

/// Signs claims with a key's private seed.
pub fn sign(claims: &Claims, kid: &str, seed: &[u8; 32]) -> Result<String, TokenError> {
    let header = Header {
        alg: "EdDSA".to_owned(),
        typ: Some("JWT".to_owned()),
        kid: kid.to_owned(),
        crit: None,
    };
    let h = serde_json::to_vec(&header).map_err(|_| TokenError::Malformed)?;
    let c = serde_json::to_vec(claims).map_err(|_| TokenError::Malformed)?;
    let input = format!("{}.{}", B64.encode(h), B64.encode(c));
    let sig = SigningKey::from_bytes(seed).sign(input.as_bytes());
    Ok(format!("{input}.{}", B64.encode(sig.to_bytes())))
}

/// The key id a token names, without trusting anything else in it.
pub fn key_id(token: &str) -> Result<String, TokenError> {
    let (header, _, _) = split(token)?;
    Ok(header.kid)
}

/// Verifies a token against `public` (the key its `kid` names) and checks its claims at `now_s`.
pub fn verify(
    token: &str,
    public: &[u8; 32],
    issuer: &str,
    now_s: i64,
) -> Result<Claims, TokenError> {
    let (_, signing_input, sig) = split(token)?;
    let key = VerifyingKey::from_bytes(public).map_err(|_| TokenError::UnknownKey)?;
    key.verify_strict(signing_input.as_bytes(), &sig)
        .map_err(|_| TokenError::Signature)?;
    let payload = signing_input
        .split('.')
        .nth(1)
        .ok_or(TokenError::Malformed)?;
    let bytes = B64.decode(payload).map_err(|_| TokenError::Malformed)?;
    let claims: Claims = serde_json::from_slice(&bytes).map_err(|_| TokenError::Malformed)?;
    if claims.iss != issuer || claims.aud != AUDIENCE {
        return Err(TokenError::Audience);
    }
    if now_s >= claims.exp + LEEWAY_S || now_s + LEEWAY_S < claims.nbf {
        return Err(TokenError::Time);
    }
    Ok(claims)
}

fn split(token: &str) -> Result<(Header, &str, Signature), TokenError> {
    if token.len() > MAX_LEN {
        return Err(TokenError::Malformed);
    }
    let mut parts = token.split('.');
    let (Some(h), Some(p), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(TokenError::Malformed);
    };
    let header_bytes = B64.decode(h).map_err(|_| TokenError::Malformed)?;
    let header: Header =
        serde_json::from_slice(&header_bytes).map_err(|_| TokenError::Malformed)?;
    if header.alg.eq_ignore_ascii_case("none") {
        return Err(TokenError::AlgNone);
    }
    if header.alg != "EdDSA" || header.crit.is_some() {
        return Err(TokenError::Algorithm);
    }
    let sig_bytes = B64.decode(s).map_err(|_| TokenError::Malformed)?;
    let sig = Signature::from_slice(&sig_bytes).map_err(|_| TokenError::Signature)?;
    let signing_input = &token[..h.len() + 1 + p.len()];
    Ok((header, signing_input, sig))
}

/// A public key as a JWK (RFC 8037).
pub fn jwk(kid: &str, public: &[u8; 32]) -> serde_json::Value {
    serde_json::json!({
        "kty": "OKP",
        "crv": "Ed25519",
        "x": B64.encode(public),
        "kid": kid,
        "use": "sig",
        "alg": "EdDSA",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(now: i64) -> Claims {
        Claims {
            iss: "https://mhp.example".into(),
            aud: AUDIENCE.into(),
            sub: "user-1".into(),
            exp: now + ACCESS_TTL_S,
            nbf: now,
            iat: now,
            jti: random_id(),
            amr: vec!["pwd".into()],
        }
    }

    #[test]
    fn a_signed_token_verifies_and_names_its_key() {
        let (seed, public) = new_key();
        let c = claims(1_000);
        let t = sign(&c, "k1", seed.expose()).unwrap();
        assert_eq!(key_id(&t).unwrap(), "k1");
        assert_eq!(
            verify(&t, &public, "https://mhp.example", 1_000).unwrap(),
            c
        );
    }

    #[test]
    fn time_issuer_audience_and_key_are_checked() {
        let (seed, public) = new_key();
        let (_, other) = new_key();
        let t = sign(&claims(1_000), "k1", seed.expose()).unwrap();
        assert_eq!(
            verify(&t, &other, "https://mhp.example", 1_000),
            Err(TokenError::Signature)
        );
        assert_eq!(
            verify(&t, &public, "https://evil.example", 1_000),
            Err(TokenError::Audience)
        );
        assert_eq!(
            verify(
                &t,
                &public,
                "https://mhp.example",
                1_000 + ACCESS_TTL_S + LEEWAY_S
            ),
            Err(TokenError::Time)
        );
        assert_eq!(
            verify(&t, &public, "https://mhp.example", 1_000 - LEEWAY_S - 1),
            Err(TokenError::Time)
        );
        let mut wrong_aud = claims(1_000);
        wrong_aud.aud = "someone-else".into();
        let t = sign(&wrong_aud, "k1", seed.expose()).unwrap();
        assert_eq!(
            verify(&t, &public, "https://mhp.example", 1_000),
            Err(TokenError::Audience)
        );
    }

    #[test]
    fn alg_none_confusion_and_tampering_are_refused() {
        let (seed, public) = new_key();
        let t = sign(&claims(1_000), "k1", seed.expose()).unwrap();
        let parts: Vec<&str> = t.split('.').collect();
        let forge_header = |h: &str| format!("{}.{}.{}", B64.encode(h), parts[1], parts[2]);
        assert_eq!(
            verify(
                &forge_header(r#"{"alg":"none","kid":"k1"}"#),
                &public,
                "https://mhp.example",
                1_000
            ),
            Err(TokenError::AlgNone)
        );
        for header in [
            r#"{"alg":"HS256","kid":"k1"}"#,
            r#"{"alg":"ES256","kid":"k1"}"#,
            r#"{"alg":"EdDSA","kid":"k1","crit":["exp"]}"#,
        ] {
            assert_eq!(
                verify(&forge_header(header), &public, "https://mhp.example", 1_000),
                Err(TokenError::Algorithm),
                "{header}"
            );
        }
        let unsigned = format!("{}.{}.", parts[0], parts[1]);
        assert!(verify(&unsigned, &public, "https://mhp.example", 1_000).is_err());
        let mut admin = claims(1_000);
        admin.sub = "admin".into();
        let swapped = format!(
            "{}.{}.{}",
            parts[0],
            B64.encode(serde_json::to_vec(&admin).unwrap()),
            parts[2]
        );
        assert_eq!(
            verify(&swapped, &public, "https://mhp.example", 1_000),
            Err(TokenError::Signature)
        );
        for bad in ["", "a.b", "a.b.c.d", &"x".repeat(9000)] {
            assert!(
                verify(bad, &public, "https://mhp.example", 1_000).is_err(),
                "{bad:.20}"
            );
        }
    }

    #[test]
    fn jwks_entries_follow_rfc_8037() {
        let (_, public) = new_key();
        let j = jwk("k1", &public);
        assert_eq!(j["kty"], "OKP");
        assert_eq!(j["crv"], "Ed25519");
        assert_eq!(B64.decode(j["x"].as_str().unwrap()).unwrap(), public);
    }
}
