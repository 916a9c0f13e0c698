//! HashiCorp Vault over its HTTP API: the Transit engine (encryption as a service, with key
//! versions and rewrapping) and the KV version 2 engine (secret values).
//!
//! Every request carries `X-Vault-Token` and, on Vault Enterprise, `X-Vault-Namespace`. An
//! error answer's `errors` list is kept in [`CloudError`] with anything this client sent as a
//! secret (the token, a plaintext) cut out.

use std::collections::BTreeMap;
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use mhp_domain::Secret;
use reqwest::Method;
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderValue};
use serde::{Deserialize, Serialize};
use url::Url;
use zeroize::Zeroizing;

use crate::CloudError;
use crate::http;

/// The service name in errors.
const SERVICE: &str = "vault";
/// Where the Transit engine is mounted unless told otherwise.
pub const DEFAULT_TRANSIT_MOUNT: &str = "transit";
/// Longest error text kept from an answer.
const MAX_ERROR_TEXT: usize = 300;

/// A Vault client authenticated by a token. Cheap to clone.
#[derive(Debug, Clone)]
pub struct VaultClient {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    http: reqwest::Client,
    addr: Url,
    token: Secret<String>,
    namespace: Option<String>,
    transit_mount: String,
}

impl VaultClient {
    /// A client for the Vault at `addr` (`https://vault.internal:8200`; plain http only to a
    /// loopback address), sending `token`, and `namespace` when given (Vault Enterprise).
    pub fn new(
        addr: Url,
        token: Secret<String>,
        namespace: Option<String>,
    ) -> Result<Self, CloudError> {
        http::check_endpoint(&addr)?;
        if addr.cannot_be_a_base() || addr.query().is_some() || addr.fragment().is_some() {
            return Err(CloudError::Config(
                "the Vault address must be a base URL without query",
            ));
        }
        if token.expose().is_empty() {
            return Err(CloudError::Config("the Vault token is empty"));
        }
        http::secret_header(token.expose(), "the Vault token cannot be sent in a header")?;
        if let Some(ns) = &namespace {
            HeaderValue::from_str(ns).map_err(|_| {
                CloudError::Config("the Vault namespace cannot be sent in a header")
            })?;
        }
        Ok(Self {
            inner: Arc::new(Inner {
                http: http::client()?,
                addr,
                token,
                namespace,
                transit_mount: DEFAULT_TRANSIT_MOUNT.to_owned(),
            }),
        })
    }

    /// The same client with the Transit engine mounted at `mount` instead of `transit`.
    pub fn with_transit_mount(self, mount: &str) -> Result<Self, CloudError> {
        segments(mount)?;
        let inner = &self.inner;
        Ok(Self {
            inner: Arc::new(Inner {
                http: inner.http.clone(),
                addr: inner.addr.clone(),
                token: inner.token.clone(),
                namespace: inner.namespace.clone(),
                transit_mount: mount.to_owned(),
            }),
        })
    }

    /// Encrypts `plaintext` under Transit key `key` (Vault creates the key on first use when
    /// the token's policy allows). `context` is required for keys created with `derived`, and
    /// must be given again to decrypt. Returns `vault:v<version>:<base64>`.
    pub async fn transit_encrypt(
        &self,
        key: &str,
        plaintext: &[u8],
        context: Option<&[u8]>,
    ) -> Result<String, CloudError> {
        #[derive(Serialize)]
        struct Request<'a> {
            plaintext: &'a str,
            #[serde(skip_serializing_if = "Option::is_none")]
            context: Option<&'a str>,
        }
        let encoded = Zeroizing::new(STANDARD.encode(plaintext));
        let context = context.map(|c| STANDARD.encode(c));
        let body = json_body(&Request {
            plaintext: &encoded,
            context: context.as_deref(),
        })?;
        let as_text = Zeroizing::new(String::from_utf8_lossy(plaintext).into_owned());
        let url = self.transit_url("encrypt", key)?;
        let answer = self
            .send(Method::POST, url, Some(&body), &[&encoded, &as_text])
            .await?;
        let data: CiphertextData = parse_data(&answer)?;
        checked_ciphertext(data.ciphertext)
    }

    /// Decrypts a `vault:v…` ciphertext of key `key`, with the context it was encrypted with.
    /// Any older version of the key still decrypts unless Vault's `min_decryption_version`
    /// forbids it.
    pub async fn transit_decrypt(
        &self,
        key: &str,
        ciphertext: &str,
        context: Option<&[u8]>,
    ) -> Result<Secret<Vec<u8>>, CloudError> {
        #[derive(Deserialize)]
        struct PlaintextData {
            plaintext: String,
        }
        let context = context.map(|c| STANDARD.encode(c));
        let body = json_body(&CiphertextRequest {
            ciphertext,
            context: context.as_deref(),
        })?;
        let url = self.transit_url("decrypt", key)?;
        let answer = self.send(Method::POST, url, Some(&body), &[]).await?;
        let data: PlaintextData = parse_data(&answer)?;
        let encoded = Zeroizing::new(data.plaintext);
        STANDARD
            .decode(encoded.as_bytes())
            .map(Secret::new)
            .map_err(|_| malformed("plaintext is not base64"))
    }

    /// Re-encrypts a ciphertext under the newest version of `key` without the plaintext ever
    /// leaving Vault. Returns the new `vault:v…` ciphertext.
    pub async fn transit_rewrap(
        &self,
        key: &str,
        ciphertext: &str,
        context: Option<&[u8]>,
    ) -> Result<String, CloudError> {
        let context = context.map(|c| STANDARD.encode(c));
        let body = json_body(&CiphertextRequest {
            ciphertext,
            context: context.as_deref(),
        })?;
        let url = self.transit_url("rewrap", key)?;
        let answer = self.send(Method::POST, url, Some(&body), &[]).await?;
        let data: CiphertextData = parse_data(&answer)?;
        checked_ciphertext(data.ciphertext)
    }

    /// Rotates Transit key `key` (`POST /v1/{transit}/keys/{key}/rotate`): later encryptions
    /// use the new version, older ones still decrypt. Returns the new latest version.
    pub async fn transit_rotate(&self, key: &str) -> Result<u32, CloudError> {
        #[derive(Deserialize)]
        struct KeyData {
            latest_version: u32,
        }
        if key.contains('/') {
            return Err(CloudError::Config("a Transit key name cannot contain '/'"));
        }
        let mut parts = segments(&self.inner.transit_mount)?;
        parts.push("keys");
        parts.extend(segments(key)?);
        parts.push("rotate");
        let url = self.url(&parts)?;
        let answer = self.send(Method::POST, url, Some(b"{}"), &[]).await?;
        let data: KeyData = parse_data(&answer)?;
        Ok(data.latest_version)
    }

    /// The key version a Transit ciphertext was made with: `3` for `vault:v3:…`; `None` when
    /// the text is not a Transit ciphertext.
    pub fn transit_key_version(ciphertext: &str) -> Option<u32> {
        let rest = ciphertext.strip_prefix("vault:v")?;
        let (digits, _) = rest.split_once(':')?;
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        digits.parse::<u32>().ok().filter(|v| *v >= 1)
    }

    /// The newest version of the KV version 2 secret at `path` under `mount`
    /// (`GET /v1/{mount}/data/{path}`): its keys and values, non-string values as JSON text.
    /// A missing or deleted secret is [`CloudError::NotFound`].
    pub async fn kv_get(
        &self,
        mount: &str,
        path: &str,
    ) -> Result<BTreeMap<String, Secret<String>>, CloudError> {
        #[derive(Deserialize)]
        struct KvData {
            data: Option<serde_json::Map<String, serde_json::Value>>,
        }
        let mut parts = segments(mount)?;
        parts.push("data");
        parts.extend(segments(path)?);
        let url = self.url(&parts)?;
        let answer = self.send(Method::GET, url, None, &[]).await?;
        let data: KvData = parse_data(&answer)?;
        let Some(values) = data.data else {
            return Err(CloudError::NotFound {
                service: SERVICE.to_owned(),
                code: Some("deleted".to_owned()),
            });
        };
        Ok(values
            .into_iter()
            .map(|(name, value)| {
                let text = match value {
                    serde_json::Value::String(s) => s,
                    other => other.to_string(),
                };
                (name, Secret::new(text))
            })
            .collect())
    }

    fn transit_url(&self, operation: &str, key: &str) -> Result<Url, CloudError> {
        if key.contains('/') {
            return Err(CloudError::Config("a Transit key name cannot contain '/'"));
        }
        let mut parts = segments(&self.inner.transit_mount)?;
        parts.push(operation);
        parts.extend(segments(key)?);
        self.url(&parts)
    }

    /// `{addr}/v1/{parts…}`, each part percent-encoded as one path segment.
    fn url(&self, parts: &[&str]) -> Result<Url, CloudError> {
        let mut url = self.inner.addr.clone();
        url.path_segments_mut()
            .map_err(|_| CloudError::Config("the Vault address must be a base URL"))?
            .pop_if_empty()
            .push("v1")
            .extend(parts);
        Ok(url)
    }

    /// Sends one request; the raw answer on success. `sensitive` are texts of the request that
    /// must not come back in an error (the token always is one).
    async fn send(
        &self,
        method: Method,
        url: Url,
        body: Option<&[u8]>,
        sensitive: &[&str],
    ) -> Result<Zeroizing<Vec<u8>>, CloudError> {
        let inner = &self.inner;
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-vault-token",
            http::secret_header(
                inner.token.expose(),
                "the Vault token cannot be sent in a header",
            )?,
        );
        if let Some(ns) = &inner.namespace {
            headers.insert(
                "x-vault-namespace",
                HeaderValue::from_str(ns).map_err(|_| {
                    CloudError::Config("the Vault namespace cannot be sent in a header")
                })?,
            );
        }
        headers.insert("x-vault-request", HeaderValue::from_static("true"));
        let mut request = inner.http.request(method, url).headers(headers);
        if let Some(body) = body {
            request = request
                .header(CONTENT_TYPE, "application/json")
                .body(body.to_vec());
        }
        let response = request
            .send()
            .await
            .map_err(|e| http::transport(SERVICE, e))?;
        let status = response.status();
        let answer = http::read_body(response, SERVICE).await?;
        if status.is_success() {
            return Ok(answer);
        }
        let mut hidden: Vec<&str> = sensitive.to_vec();
        hidden.push(inner.token.expose());
        let code = error_text(&answer, &hidden);
        if status == reqwest::StatusCode::NOT_FOUND {
            return Err(CloudError::NotFound {
                service: SERVICE.to_owned(),
                code,
            });
        }
        Err(CloudError::Http {
            service: SERVICE.to_owned(),
            status: status.as_u16(),
            code,
        })
    }
}

#[derive(Serialize)]
struct CiphertextRequest<'a> {
    ciphertext: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    context: Option<&'a str>,
}

#[derive(Deserialize)]
struct CiphertextData {
    ciphertext: String,
}

/// Vault's answers wrap the result in `data`.
#[derive(Deserialize)]
struct Answer<T> {
    data: Option<T>,
}

fn parse_data<T: for<'de> Deserialize<'de>>(answer: &[u8]) -> Result<T, CloudError> {
    serde_json::from_slice::<Answer<T>>(answer)
        .map_err(|_| malformed("the answer lacks the fields the API documents"))?
        .data
        .ok_or_else(|| malformed("the answer has no data"))
}

fn checked_ciphertext(ciphertext: String) -> Result<String, CloudError> {
    if VaultClient::transit_key_version(&ciphertext).is_none() {
        return Err(malformed("the ciphertext is not of the form vault:vN:…"));
    }
    Ok(ciphertext)
}

/// Splits a mount or path on `/` into segments, refusing empty, `.` and `..` segments (which
/// would address another path than the one named).
fn segments(path: &str) -> Result<Vec<&str>, CloudError> {
    let parts: Vec<&str> = path.split('/').collect();
    if parts
        .iter()
        .any(|p| p.is_empty() || *p == "." || *p == "..")
    {
        return Err(CloudError::Config(
            "a Vault mount, path or key name has an empty, '.' or '..' segment",
        ));
    }
    Ok(parts)
}

fn json_body(request: &impl Serialize) -> Result<Zeroizing<Vec<u8>>, CloudError> {
    serde_json::to_vec(request)
        .map(Zeroizing::new)
        .map_err(|_| CloudError::Config("the Vault request cannot be serialised"))
}

/// Vault's `errors`, joined by `; `, with every sensitive text replaced by `[redacted]` and
/// cut to [`MAX_ERROR_TEXT`] characters; `None` when there are none.
fn error_text(answer: &[u8], sensitive: &[&str]) -> Option<String> {
    #[derive(Deserialize)]
    struct Errors {
        #[serde(default)]
        errors: Vec<serde_json::Value>,
    }
    let errors = serde_json::from_slice::<Errors>(answer).ok()?.errors;
    let mut text = errors
        .iter()
        .filter_map(serde_json::Value::as_str)
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .collect::<Vec<_>>()
        .join("; ");
    // Short texts are left alone: cutting "a" out of every message would redact nothing
    // secret and make the message unreadable.
    for secret in sensitive.iter().filter(|s| s.len() >= 4) {
        text = text.replace(secret, "[redacted]");
    }
    if text.chars().count() > MAX_ERROR_TEXT {
        text = text.chars().take(MAX_ERROR_TEXT).collect::<String>() + "…";
    }
    (!text.is_empty()).then_some(text)
}

fn malformed(what: &'static str) -> CloudError {
    CloudError::Malformed {
        service: SERVICE.to_owned(),
        what,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(addr: &str) -> VaultClient {
        VaultClient::new(
            Url::parse(addr).unwrap(),
            Secret::new("s.token".into()),
            None,
        )
        .unwrap()
    }

    #[test]
    fn key_versions_come_from_the_prefix() {
        let v = VaultClient::transit_key_version;
        assert_eq!(v("vault:v1:abcd"), Some(1));
        assert_eq!(v("vault:v12:abcd"), Some(12));
        assert_eq!(v("vault:v0:abcd"), None);
        assert_eq!(v("vault:v:abcd"), None);
        assert_eq!(v("vault:v+1:abcd"), None);
        assert_eq!(v("vault:v1"), None);
        assert_eq!(v("vault:v99999999999:x"), None);
        assert_eq!(v("kms:v1:abcd"), None);
    }

    #[test]
    fn urls_encode_each_segment_and_refuse_traversal() {
        let c = client("https://vault.internal:8200/");
        assert_eq!(
            c.transit_url("encrypt", "org-key").unwrap().as_str(),
            "https://vault.internal:8200/v1/transit/encrypt/org-key"
        );
        assert!(c.transit_url("encrypt", "../sys").is_err());
        assert!(c.transit_url("encrypt", "a/b").is_err());
        assert_eq!(
            c.url(&["secret", "data", "a b", "c?d"]).unwrap().as_str(),
            "https://vault.internal:8200/v1/secret/data/a%20b/c%3Fd"
        );
        assert!(segments("a//b").is_err());
        assert!(segments("a/../b").is_err());
        assert_eq!(segments("team/app").unwrap(), ["team", "app"]);

        let behind_proxy = client("https://gateway.internal/vault");
        assert_eq!(
            behind_proxy.url(&["secret", "data", "x"]).unwrap().as_str(),
            "https://gateway.internal/vault/v1/secret/data/x"
        );
        let mounted = client("https://vault.internal/")
            .with_transit_mount("kms/transit")
            .unwrap();
        assert_eq!(
            mounted.transit_url("rewrap", "k").unwrap().as_str(),
            "https://vault.internal/v1/kms/transit/rewrap/k"
        );
    }

    #[test]
    fn settings_are_checked() {
        let url = |s: &str| Url::parse(s).unwrap();
        let token = || Secret::new("s.token".to_owned());
        assert!(VaultClient::new(url("http://vault.internal:8200"), token(), None).is_err());
        assert!(
            VaultClient::new(
                url("http://127.0.0.1:8200"),
                Secret::new(String::new()),
                None
            )
            .is_err()
        );
        assert!(
            VaultClient::new(
                url("http://127.0.0.1:8200"),
                Secret::new("a\nb".into()),
                None
            )
            .is_err()
        );
        assert!(
            VaultClient::new(url("http://127.0.0.1:8200"), token(), Some("ns\n".into())).is_err()
        );
        let c = VaultClient::new(url("http://127.0.0.1:8200"), token(), Some("team".into()));
        assert!(!format!("{c:?}").contains("s.token"));
    }

    #[test]
    fn error_texts_hide_what_was_sent_as_secret() {
        let answer =
            br#"{"errors":["bad input: hunter2-plaintext","token s.token-abcdef unknown"]}"#;
        let text = error_text(answer, &["hunter2-plaintext", "s.token-abcdef"]).unwrap();
        assert_eq!(text, "bad input: [redacted]; token [redacted] unknown");
        assert_eq!(error_text(br#"{"errors":[]}"#, &[]), None);
        assert_eq!(error_text(b"<html>", &[]), None);
        let long = format!(r#"{{"errors":["{}"]}}"#, "x".repeat(1000));
        assert_eq!(
            error_text(long.as_bytes(), &[]).unwrap().chars().count(),
            MAX_ERROR_TEXT + 1
        );
    }
}
