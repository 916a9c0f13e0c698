//! A stand-in for HashiCorp Vault: token check, the Transit engine (encrypt, decrypt, rewrap,
//! with key versions and context binding) and KV version 2 reads.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use mhp_domain::Secret;
use serde_json::{Value, json};

use super::cipher::Keys;
use super::{Server, header_text, json_response, lock};
use crate::mac::constant_time_eq;

/// An in-process stand-in for Vault (see the [module documentation](super)). Point a
/// [`VaultClient`](crate::vault::VaultClient) at [`VaultStandIn::addr`].
///
/// Every request must carry the token given to [`VaultStandIn::start`] in `X-Vault-Token`
/// (and the namespace, when one was given, in `X-Vault-Namespace`); otherwise it answers 403
/// `permission denied`. Transit lives at `/v1/transit/`; any other mount serves KV version 2
/// reads (`GET /v1/{mount}/data/{path}`).
#[derive(Debug)]
pub struct VaultStandIn {
    server: Server,
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    token: Secret<String>,
    namespace: Option<String>,
    keys: Keys,
    state: Mutex<VaultState>,
}

#[derive(Debug, Default)]
struct VaultState {
    /// Transit key name → latest version (versions 1..=latest all decrypt).
    transit: BTreeMap<String, u32>,
    /// (mount, path) → versions of the secret's data, oldest first.
    kv: BTreeMap<(String, String), Vec<Value>>,
    /// Request path → number of requests.
    requests: BTreeMap<String, usize>,
}

/// The Transit engine's mount.
const TRANSIT: &str = "transit";

/// An error answer: status and Vault's `errors`.
type Fault = (StatusCode, &'static str);

impl VaultStandIn {
    /// Starts the stand-in on an ephemeral port of 127.0.0.1, accepting `token` only, and
    /// requiring `namespace` when given.
    pub async fn start(token: Secret<String>, namespace: Option<String>) -> std::io::Result<Self> {
        let (listener, url) = Server::bind().await?;
        let shared = Arc::new(Shared {
            token,
            namespace,
            keys: Keys::new(url.as_str()),
            state: Mutex::new(VaultState::default()),
        });
        let router = Router::new()
            .fallback(handle)
            .with_state(Arc::clone(&shared));
        let server = Server::serve(listener, url, router);
        Ok(Self { server, shared })
    }

    /// The address to give the client: `http://127.0.0.1:<port>/`.
    pub fn addr(&self) -> url::Url {
        self.server.url.clone()
    }

    /// Rotates Transit key `key` (creating it when absent) and returns its new latest version.
    /// Older versions still decrypt; encrypt and rewrap use the newest.
    pub fn rotate(&self, key: &str) -> u32 {
        let mut state = lock(&self.shared.state);
        let version = state.transit.entry(key.to_owned()).or_insert(0);
        *version += 1;
        *version
    }

    /// The latest version of Transit key `key`, if it exists.
    pub fn latest_version(&self, key: &str) -> Option<u32> {
        lock(&self.shared.state).transit.get(key).copied()
    }

    /// Writes a new version of the KV version 2 secret at `mount`/`path` (`data` is the
    /// secret's object of keys and values).
    pub fn put_kv(&self, mount: &str, path: &str, data: Value) {
        lock(&self.shared.state)
            .kv
            .entry((mount.to_owned(), path.to_owned()))
            .or_default()
            .push(data);
    }

    /// Deletes the KV secret at `mount`/`path` with all its versions.
    pub fn delete_kv(&self, mount: &str, path: &str) {
        lock(&self.shared.state)
            .kv
            .remove(&(mount.to_owned(), path.to_owned()));
    }

    /// How many requests arrived for `path` (`/v1/transit/decrypt/org-key`), answered or
    /// refused.
    pub fn request_count(&self, path: &str) -> usize {
        lock(&self.shared.state)
            .requests
            .get(path)
            .copied()
            .unwrap_or(0)
    }
}

async fn handle(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    *lock(&shared.state)
        .requests
        .entry(uri.path().to_owned())
        .or_insert(0) += 1;
    match answer(&shared, &method, &uri, &headers, &body) {
        Ok(value) => json_response(StatusCode::OK, "application/json", value.to_string()),
        Err((status, error)) => {
            let errors: Vec<&str> = if error.is_empty() {
                vec![]
            } else {
                vec![error]
            };
            json_response(
                status,
                "application/json",
                json!({ "errors": errors }).to_string(),
            )
        }
    }
}

fn answer(
    shared: &Shared,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Value, Fault> {
    let token_ok = header_text(headers, "x-vault-token")
        .is_some_and(|t| constant_time_eq(t.as_bytes(), shared.token.expose().as_bytes()));
    let namespace_ok = shared
        .namespace
        .as_deref()
        .is_none_or(|ns| header_text(headers, "x-vault-namespace") == Some(ns));
    if !token_ok || !namespace_ok {
        return Err((StatusCode::FORBIDDEN, "permission denied"));
    }
    let Some(segments) = uri.path().strip_prefix("/v1/").and_then(|rest| {
        rest.split('/')
            .map(percent_decode)
            .collect::<Option<Vec<_>>>()
    }) else {
        return Err(not_found());
    };
    let parts: Vec<&str> = segments.iter().map(String::as_str).collect();
    if *method == Method::POST {
        if let [TRANSIT, "keys", key, "rotate"] = parts.as_slice() {
            let mut state = lock(&shared.state);
            let version = state.transit.entry((*key).to_owned()).or_insert(0);
            *version += 1;
            return Ok(json!({ "data": { "name": key, "latest_version": *version } }));
        }
        if let [TRANSIT, operation, key] = parts.as_slice() {
            let Ok(Value::Object(input)) = serde_json::from_slice::<Value>(body) else {
                return Err(bad("failed to parse JSON input"));
            };
            return match *operation {
                "encrypt" => transit_encrypt(shared, key, &input),
                "decrypt" => transit_decrypt(shared, key, &input),
                "rewrap" => transit_rewrap(shared, key, &input),
                _ => Err(not_found()),
            };
        }
    }
    if *method == Method::GET {
        // KV version 2: /v1/{mount}/data/{path}, the mount possibly of several segments.
        if let Some(at) = parts.iter().position(|p| *p == "data") {
            let (mount, path) = (&parts[..at], &parts[at + 1..]);
            if !mount.is_empty() && !path.is_empty() && mount != [TRANSIT] {
                return kv_read(shared, &mount.join("/"), &path.join("/"));
            }
        }
    }
    Err(not_found())
}

type Input = serde_json::Map<String, Value>;

fn transit_encrypt(shared: &Shared, key: &str, input: &Input) -> Result<Value, Fault> {
    let plaintext = Secret::new(
        base64_field(input, "plaintext")?.ok_or_else(|| bad("missing plaintext to encrypt"))?,
    );
    let context = base64_field(input, "context")?.unwrap_or_default();
    // Vault creates a missing key on first encryption (when policy allows).
    let version = {
        let mut state = lock(&shared.state);
        *state.transit.entry(key.to_owned()).or_insert(1)
    };
    let ciphertext = seal(shared, key, version, &context, plaintext.expose());
    Ok(json!({ "data": { "ciphertext": ciphertext, "key_version": version } }))
}

fn transit_decrypt(shared: &Shared, key: &str, input: &Input) -> Result<Value, Fault> {
    let plaintext = Secret::new(open(shared, key, input)?);
    Ok(json!({ "data": { "plaintext": STANDARD.encode(plaintext.expose()) } }))
}

fn transit_rewrap(shared: &Shared, key: &str, input: &Input) -> Result<Value, Fault> {
    let plaintext = Secret::new(open(shared, key, input)?);
    let context = base64_field(input, "context")?.unwrap_or_default();
    let latest = lock(&shared.state)
        .transit
        .get(key)
        .copied()
        .ok_or_else(|| bad("encryption key not found"))?;
    let ciphertext = seal(shared, key, latest, &context, plaintext.expose());
    Ok(json!({ "data": { "ciphertext": ciphertext, "key_version": latest } }))
}

fn kv_read(shared: &Shared, mount: &str, path: &str) -> Result<Value, Fault> {
    let state = lock(&shared.state);
    let Some(versions) = state.kv.get(&(mount.to_owned(), path.to_owned())) else {
        return Err(not_found());
    };
    let Some(data) = versions.last() else {
        return Err(not_found());
    };
    Ok(json!({
        "data": {
            "data": data,
            "metadata": {
                "created_time": "2024-01-01T00:00:00Z",
                "deletion_time": "",
                "destroyed": false,
                "version": versions.len(),
            }
        }
    }))
}

/// `vault:v<version>:<base64 of the sealed plaintext>`, bound to the key, its version and the
/// context.
fn seal(shared: &Shared, key: &str, version: u32, context: &[u8], plaintext: &[u8]) -> String {
    let material = shared.keys.key(&format!("transit/{key}/{version}"));
    let sealed = shared.keys.seal(&material, context, plaintext);
    format!("vault:v{version}:{}", STANDARD.encode(sealed))
}

/// Decrypts the request's `ciphertext` with its `context`, with Vault's error texts.
fn open(shared: &Shared, key: &str, input: &Input) -> Result<Vec<u8>, Fault> {
    let ciphertext = match input.get("ciphertext") {
        Some(Value::String(c)) => c.as_str(),
        _ => return Err(bad("missing ciphertext to decrypt")),
    };
    let context = base64_field(input, "context")?.unwrap_or_default();
    let Some(latest) = lock(&shared.state).transit.get(key).copied() else {
        return Err(bad("encryption key not found"));
    };
    let Some(rest) = ciphertext.strip_prefix("vault:v") else {
        return Err(bad("invalid ciphertext: no prefix"));
    };
    let Some((version, encoded)) = rest.split_once(':') else {
        return Err(bad("invalid ciphertext: wrong number of fields"));
    };
    let version: u32 = version
        .parse()
        .map_err(|_| bad("invalid ciphertext: version number could not be decoded"))?;
    if version == 0 || version > latest {
        return Err(bad("invalid key version"));
    }
    let sealed = STANDARD
        .decode(encoded)
        .map_err(|_| bad("invalid ciphertext: could not decode"))?;
    let material = shared.keys.key(&format!("transit/{key}/{version}"));
    shared
        .keys
        .open(&material, &context, &sealed)
        .ok_or_else(|| bad("cipher: message authentication failed"))
}

/// A base64 field: `None` when absent or empty.
fn base64_field(input: &Input, field: &'static str) -> Result<Option<Vec<u8>>, Fault> {
    match input.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::String(s)) => STANDARD
            .decode(s)
            .map(Some)
            .map_err(|_| bad("failed to base64-decode a field")),
        Some(_) => Err(bad("a field has the wrong type")),
    }
}

fn bad(error: &'static str) -> Fault {
    (StatusCode::BAD_REQUEST, error)
}

/// Vault answers a missing path with 404 and an empty `errors` list.
fn not_found() -> Fault {
    (StatusCode::NOT_FOUND, "")
}

/// Decodes `%XX` escapes of a URL path segment; `None` for a bad escape or bytes that are not
/// UTF-8.
fn percent_decode(segment: &str) -> Option<String> {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            if !hex.bytes().all(|c| c.is_ascii_hexdigit()) {
                return None;
            }
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("a%20b%2Fc").as_deref(), Some("a b/c"));
        assert_eq!(percent_decode("%E1%88%B4").as_deref(), Some("ሴ"));
        assert_eq!(percent_decode("%2"), None);
        assert_eq!(percent_decode("%zz"), None);
        assert_eq!(percent_decode("%+1"), None);
        assert_eq!(percent_decode("%FF"), None);
    }
}
