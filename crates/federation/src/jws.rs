//! Compact JWS parsing and signature verification against a provider's JSON Web Key Set.
//!
//! Only asymmetric algorithms are accepted: RS256, PS256, ES256 and EdDSA (also under its
//! fully-specified name Ed25519, RFC 9864). `none` and HS* are refused before any key is looked
//! at, so neither an unsigned token nor an HMAC keyed with a public key can pass. The key is
//! chosen by `kid`, and must be of the type and curve the algorithm needs, with a matching
//! `alg`, `use` and `key_ops` when the JWK states them. Verification is ring's.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use ring::signature::{self, RsaPublicKeyComponents, UnparsedPublicKey};
use serde::Deserialize;

use crate::TokenProblem;

/// Longest token considered (ID tokens with many groups can be long).
const MAX_TOKEN_LEN: usize = 64 * 1024;

/// A signing algorithm this relying party accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Alg {
    Rs256,
    Ps256,
    Es256,
    EdDsa,
}

impl Alg {
    fn parse(s: &str) -> Option<Self> {
        match s {
            "RS256" => Some(Alg::Rs256),
            "PS256" => Some(Alg::Ps256),
            "ES256" => Some(Alg::Es256),
            "EdDSA" | "Ed25519" => Some(Alg::EdDsa),
            _ => None,
        }
    }
}

/// One key of a JWK Set. Every member is optional so that keys of kinds this relying party does
/// not use (encryption keys, `oct`, other curves) are skipped instead of failing the whole set.
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct Jwk {
    #[serde(default)]
    kty: Option<String>,
    #[serde(default)]
    kid: Option<String>,
    #[serde(default, rename = "use")]
    use_: Option<String>,
    #[serde(default)]
    key_ops: Option<Vec<String>>,
    #[serde(default)]
    alg: Option<String>,
    #[serde(default)]
    crv: Option<String>,
    #[serde(default)]
    n: Option<String>,
    #[serde(default)]
    e: Option<String>,
    #[serde(default)]
    x: Option<String>,
    #[serde(default)]
    y: Option<String>,
}

/// A JWK Set (`jwks_uri`).
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct JwkSet {
    pub(crate) keys: Vec<Jwk>,
}

#[derive(Deserialize)]
struct Header {
    alg: String,
    #[serde(default)]
    kid: Option<String>,
    #[serde(default)]
    crit: Option<serde_json::Value>,
}

/// A compact JWS whose header has been checked, signature not yet verified.
#[derive(Debug)]
pub(crate) struct Jws<'a> {
    alg: Alg,
    kid: Option<String>,
    signing_input: &'a str,
    payload: Vec<u8>,
    signature: Vec<u8>,
}

impl<'a> Jws<'a> {
    /// Splits and decodes a compact JWS and checks its header.
    pub(crate) fn parse(token: &'a str) -> Result<Self, TokenProblem> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(TokenProblem::Malformed);
        }
        let mut parts = token.split('.');
        let (Some(h), Some(p), Some(s), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(TokenProblem::Malformed);
        };
        let header_bytes = B64.decode(h).map_err(|_| TokenProblem::Malformed)?;
        let header: Header =
            serde_json::from_slice(&header_bytes).map_err(|_| TokenProblem::Malformed)?;
        let alg = Alg::parse(&header.alg).ok_or(TokenProblem::AlgorithmNotAllowed)?;
        if header.crit.is_some() {
            return Err(TokenProblem::CriticalHeader);
        }
        let payload = B64.decode(p).map_err(|_| TokenProblem::Malformed)?;
        let signature = B64.decode(s).map_err(|_| TokenProblem::Malformed)?;
        let signing_input = &token[..h.len() + 1 + p.len()];
        Ok(Self {
            alg,
            kid: header.kid,
            signing_input,
            payload,
            signature,
        })
    }

    /// Verifies the signature with a key of `keys` and returns the payload.
    ///
    /// With a `kid`, the key with that `kid` must exist (else [`TokenProblem::UnknownKey`],
    /// upon which the caller may refetch the set) and suit the algorithm. Without one, every
    /// key that suits the algorithm is tried (providers with a single key often omit it).
    pub(crate) fn verify(&self, keys: &[Jwk]) -> Result<&[u8], TokenProblem> {
        match &self.kid {
            Some(kid) => {
                let key = keys
                    .iter()
                    .find(|k| k.kid.as_deref() == Some(kid.as_str()))
                    .ok_or(TokenProblem::UnknownKey)?;
                let public = PublicKey::for_alg(key, self.alg)?;
                public.verify(self.signing_input.as_bytes(), &self.signature)?;
            }
            None => {
                let candidates: Vec<PublicKey> = keys
                    .iter()
                    .filter_map(|k| PublicKey::for_alg(k, self.alg).ok())
                    .collect();
                if candidates.is_empty() {
                    return Err(TokenProblem::UnknownKey);
                }
                let verified = candidates.iter().any(|p| {
                    p.verify(self.signing_input.as_bytes(), &self.signature)
                        .is_ok()
                });
                if !verified {
                    return Err(TokenProblem::BadSignature);
                }
            }
        }
        Ok(&self.payload)
    }
}

/// A key ready for one algorithm.
enum PublicKey {
    Rsa { n: Vec<u8>, e: Vec<u8>, pss: bool },
    P256(Vec<u8>),
    Ed25519(Vec<u8>),
}

impl PublicKey {
    fn for_alg(jwk: &Jwk, alg: Alg) -> Result<Self, TokenProblem> {
        if jwk.use_.as_deref().is_some_and(|u| u != "sig") {
            return Err(TokenProblem::KeyMismatch);
        }
        if jwk
            .key_ops
            .as_ref()
            .is_some_and(|ops| !ops.iter().any(|op| op == "verify"))
        {
            return Err(TokenProblem::KeyMismatch);
        }
        if let Some(key_alg) = &jwk.alg
            && Alg::parse(key_alg) != Some(alg)
        {
            return Err(TokenProblem::KeyMismatch);
        }
        let kty = jwk.kty.as_deref();
        let crv = jwk.crv.as_deref();
        match alg {
            Alg::Rs256 | Alg::Ps256 if kty == Some("RSA") => Ok(PublicKey::Rsa {
                n: strip_leading_zeros(b64_member(&jwk.n)?),
                e: strip_leading_zeros(b64_member(&jwk.e)?),
                pss: alg == Alg::Ps256,
            }),
            Alg::Es256 if kty == Some("EC") && crv == Some("P-256") => {
                let x = b64_member(&jwk.x)?;
                let y = b64_member(&jwk.y)?;
                if x.len() != 32 || y.len() != 32 {
                    return Err(TokenProblem::KeyMismatch);
                }
                let mut point = Vec::with_capacity(65);
                point.push(0x04);
                point.extend_from_slice(&x);
                point.extend_from_slice(&y);
                Ok(PublicKey::P256(point))
            }
            Alg::EdDsa if kty == Some("OKP") && crv == Some("Ed25519") => {
                let x = b64_member(&jwk.x)?;
                if x.len() != 32 {
                    return Err(TokenProblem::KeyMismatch);
                }
                Ok(PublicKey::Ed25519(x))
            }
            _ => Err(TokenProblem::KeyMismatch),
        }
    }

    fn verify(&self, message: &[u8], sig: &[u8]) -> Result<(), TokenProblem> {
        let result = match self {
            PublicKey::Rsa { n, e, pss } => {
                let params = if *pss {
                    &signature::RSA_PSS_2048_8192_SHA256
                } else {
                    &signature::RSA_PKCS1_2048_8192_SHA256
                };
                RsaPublicKeyComponents { n, e }.verify(params, message, sig)
            }
            PublicKey::P256(point) => {
                UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, point)
                    .verify(message, sig)
            }
            PublicKey::Ed25519(x) => {
                UnparsedPublicKey::new(&signature::ED25519, x).verify(message, sig)
            }
        };
        result.map_err(|_| TokenProblem::BadSignature)
    }
}

fn b64_member(member: &Option<String>) -> Result<Vec<u8>, TokenProblem> {
    let s = member.as_deref().ok_or(TokenProblem::KeyMismatch)?;
    B64.decode(s).map_err(|_| TokenProblem::KeyMismatch)
}

/// RFC 7518 asks for the shortest big-endian form; some providers pad with a zero byte anyway,
/// which ring would refuse.
fn strip_leading_zeros(mut bytes: Vec<u8>) -> Vec<u8> {
    let zeros = bytes.iter().take_while(|b| **b == 0).count();
    bytes.drain(..zeros);
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 7515 appendix A.2: a JWS signed with RS256, and the RSA public key.
    const RFC7515_A2_TOKEN: &str = "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5jujGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqvhJ1phCnvWh6IeYI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrBp0igcN_IoypGlUPQGe77Rw";
    const RFC7515_A2_N: &str = "ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ";
    const RFC7515_A2_E: &str = "AQAB";

    fn rsa_jwk(kid: Option<&str>, alg: Option<&str>) -> Jwk {
        Jwk {
            kty: Some("RSA".into()),
            kid: kid.map(Into::into),
            alg: alg.map(Into::into),
            n: Some(RFC7515_A2_N.into()),
            e: Some(RFC7515_A2_E.into()),
            ..Jwk::default()
        }
    }

    #[test]
    fn rs256_verifies_the_rfc_7515_example() {
        let jws = Jws::parse(RFC7515_A2_TOKEN).unwrap();
        assert_eq!(jws.alg, Alg::Rs256);
        let payload = jws.verify(&[rsa_jwk(None, Some("RS256"))]).unwrap();
        assert!(payload.starts_with(b"{\"iss\":\"joe\""));
    }

    #[test]
    fn rs256_tampered_payload_is_refused() {
        let mut parts: Vec<&str> = RFC7515_A2_TOKEN.split('.').collect();
        let other =
            B64.encode(br#"{"iss":"joe","exp":1300819380,"http://example.com/is_root":false}"#);
        parts[1] = &other;
        let token = parts.join(".");
        let jws = Jws::parse(&token).unwrap();
        assert_eq!(
            jws.verify(&[rsa_jwk(None, None)]),
            Err(TokenProblem::BadSignature)
        );
    }

    #[test]
    fn rsa_key_cannot_serve_another_algorithm() {
        let jws = Jws::parse(RFC7515_A2_TOKEN).unwrap();
        assert_eq!(
            jws.verify(&[rsa_jwk(None, Some("PS256"))]),
            Err(TokenProblem::UnknownKey)
        );
        let mut enc = rsa_jwk(None, None);
        enc.use_ = Some("enc".into());
        assert_eq!(jws.verify(&[enc]), Err(TokenProblem::UnknownKey));
    }

    #[test]
    fn none_and_hmac_are_refused_before_any_key() {
        for alg in ["none", "HS256", "HS512", "RS512", "ES384", "", "rs256"] {
            let header = B64.encode(format!(r#"{{"alg":"{alg}","kid":"k1"}}"#));
            let token = format!("{header}.{}.", B64.encode(b"{}"));
            assert_eq!(
                Jws::parse(&token).map(|_| ()),
                Err(TokenProblem::AlgorithmNotAllowed),
                "{alg}"
            );
        }
    }

    #[test]
    fn malformed_and_critical_headers_are_refused() {
        for token in ["", "a.b", "a.b.c.d", "!!!.e30.", "e30.e30.e30"] {
            assert!(Jws::parse(token).is_err(), "{token}");
        }
        let header = B64.encode(r#"{"alg":"RS256","crit":["exp"]}"#);
        let token = format!("{header}.e30.AA");
        assert_eq!(
            Jws::parse(&token).map(|_| ()),
            Err(TokenProblem::CriticalHeader)
        );
    }

    #[test]
    fn kid_must_name_a_key_of_the_set() {
        let header = B64.encode(r#"{"alg":"RS256","kid":"rotated"}"#);
        let token = format!("{header}.e30.AA");
        let jws = Jws::parse(&token).unwrap();
        assert_eq!(jws.kid.as_deref(), Some("rotated"));
        assert_eq!(
            jws.verify(&[rsa_jwk(Some("old"), None)]),
            Err(TokenProblem::UnknownKey)
        );
    }

    #[test]
    fn leading_zero_bytes_are_removed() {
        assert_eq!(strip_leading_zeros(vec![0, 0, 1, 0]), vec![1, 0]);
        assert_eq!(strip_leading_zeros(vec![1, 2]), vec![1, 2]);
    }
}
