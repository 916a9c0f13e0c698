//! A stand-in for AWS KMS, Secrets Manager and SSM Parameter Store: one server for the three,
//! answering the AWS JSON 1.1 protocol after verifying each request's Signature Version 4
//! signature with the credentials it was started with.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use mhp_domain::{Clock, Secret};
use serde_json::{Value, json};

use super::cipher::Keys;
use super::{Server, header_text, json_response, lock};
use crate::aws::sigv4::{self, AmzDate, Authorization};
use crate::aws::{AwsCredentials, JSON_1_1};
use crate::mac::constant_time_eq;

/// How far a request's `X-Amz-Date` may be from the stand-in's clock, as AWS allows.
const MAX_SKEW_SECONDS: i64 = 5 * 60;
/// The account the stand-in's ARNs name (AWS's documentation example account).
const ACCOUNT: &str = "111122223333";
/// Largest plaintext KMS encrypts directly.
const MAX_KMS_PLAINTEXT: usize = 4096;

/// An in-process stand-in for AWS KMS, Secrets Manager and SSM (see the [module
/// documentation](super)). Its endpoint serves all three services; point an
/// [`AwsClient`](crate::aws::AwsClient) at [`AwsStandIn::endpoint`].
///
/// Every request must carry a valid Signature Version 4 signature made with the credentials
/// given to [`AwsStandIn::start`], for the stand-in's region and the operation's service, with
/// an `X-Amz-Date` within 5 minutes of the stand-in's clock. Otherwise it answers as AWS does:
/// `MissingAuthenticationTokenException`, `IncompleteSignatureException`,
/// `UnrecognizedClientException` (unknown access key or session token) or
/// `InvalidSignatureException` (wrong secret, scope or time).
#[derive(Debug)]
pub struct AwsStandIn {
    server: Server,
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    region: String,
    credentials: AwsCredentials,
    clock: Arc<dyn Clock>,
    keys: Keys,
    state: Mutex<AwsState>,
}

#[derive(Debug, Default)]
struct AwsState {
    /// KMS key ids that exist.
    kms_keys: Vec<String>,
    secrets: BTreeMap<String, SecretVersions>,
    parameters: BTreeMap<String, Parameter>,
    requests: BTreeMap<String, usize>,
}

#[derive(Debug)]
struct SecretVersions {
    version: u64,
    current: Secret<String>,
    previous: Option<Secret<String>>,
}

#[derive(Debug)]
struct Parameter {
    version: u64,
    value: Secret<String>,
}

/// An error answer: status, `__type`, `message`.
type Fault = (StatusCode, &'static str, &'static str);

impl AwsStandIn {
    /// Starts the stand-in on an ephemeral port of 127.0.0.1, accepting requests signed for
    /// `region` with `credentials` (and their session token, required when given) at the time
    /// `clock` tells.
    pub async fn start(
        region: &str,
        credentials: AwsCredentials,
        clock: Arc<dyn Clock>,
    ) -> std::io::Result<Self> {
        let (listener, url) = Server::bind().await?;
        let shared = Arc::new(Shared {
            region: region.to_owned(),
            credentials,
            clock,
            keys: Keys::new(url.as_str()),
            state: Mutex::new(AwsState::default()),
        });
        let router = Router::new()
            .fallback(handle)
            .with_state(Arc::clone(&shared));
        let server = Server::serve(listener, url, router);
        Ok(Self { server, shared })
    }

    /// The endpoint to give the client: `http://127.0.0.1:<port>/`.
    pub fn endpoint(&self) -> url::Url {
        self.server.url.clone()
    }

    /// Creates a KMS symmetric key with id `key_id` (a UUID in AWS; any text here).
    pub fn create_key(&self, key_id: &str) {
        let mut state = lock(&self.shared.state);
        if !state.kms_keys.iter().any(|k| k == key_id) {
            state.kms_keys.push(key_id.to_owned());
        }
    }

    /// The ARN the stand-in reports for KMS key `key_id`; accepted wherever a key id is.
    pub fn key_arn(&self, key_id: &str) -> String {
        key_arn(&self.shared.region, key_id)
    }

    /// Stores a new version of Secrets Manager secret `secret_id` as `AWSCURRENT`; the former
    /// current version becomes `AWSPREVIOUS`, as a rotation does.
    pub fn put_secret(&self, secret_id: &str, value: &str) {
        let mut state = lock(&self.shared.state);
        let value = Secret::new(value.to_owned());
        match state.secrets.remove(secret_id) {
            Some(old) => {
                let versions = SecretVersions {
                    version: old.version + 1,
                    previous: Some(old.current.clone()),
                    current: value,
                };
                state.secrets.insert(secret_id.to_owned(), versions);
            }
            None => {
                let versions = SecretVersions {
                    version: 1,
                    current: value,
                    previous: None,
                };
                state.secrets.insert(secret_id.to_owned(), versions);
            }
        }
    }

    /// Deletes a Secrets Manager secret.
    pub fn delete_secret(&self, secret_id: &str) {
        lock(&self.shared.state).secrets.remove(secret_id);
    }

    /// Stores a new version of SSM `SecureString` parameter `name`.
    pub fn put_parameter(&self, name: &str, value: &str) {
        let mut state = lock(&self.shared.state);
        let version = state.parameters.get(name).map_or(1, |p| p.version + 1);
        let value = Secret::new(value.to_owned());
        state
            .parameters
            .insert(name.to_owned(), Parameter { version, value });
    }

    /// Deletes an SSM parameter.
    pub fn delete_parameter(&self, name: &str) {
        lock(&self.shared.state).parameters.remove(name);
    }

    /// How many requests arrived with `X-Amz-Target: target` (`TrentService.Decrypt`),
    /// answered or refused.
    pub fn request_count(&self, target: &str) -> usize {
        lock(&self.shared.state)
            .requests
            .get(target)
            .copied()
            .unwrap_or(0)
    }

    /// How many requests arrived in all.
    pub fn total_requests(&self) -> usize {
        lock(&self.shared.state).requests.values().sum()
    }
}

fn key_arn(region: &str, key_id: &str) -> String {
    format!("arn:aws:kms:{region}:{ACCOUNT}:key/{key_id}")
}

async fn handle(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let target = header_text(&headers, "x-amz-target").unwrap_or_default();
    *lock(&shared.state)
        .requests
        .entry(target.to_owned())
        .or_insert(0) += 1;
    match answer(&shared, &method, &uri, &headers, &body, target) {
        Ok(value) => json_response(StatusCode::OK, JSON_1_1, value.to_string()),
        Err((status, kind, message)) => json_response(
            status,
            JSON_1_1,
            json!({ "__type": kind, "message": message }).to_string(),
        ),
    }
}

fn answer(
    shared: &Shared,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
    target: &str,
) -> Result<Value, Fault> {
    let Some(service) = service_of(target) else {
        return Err(bad("UnknownOperationException", "unknown X-Amz-Target"));
    };
    if method != Method::POST || uri.path() != "/" {
        return Err(bad(
            "UnknownOperationException",
            "the JSON protocol is POST /",
        ));
    }
    verify_signature(shared, method, uri, headers, body, service)?;
    if header_text(headers, "content-type") != Some(JSON_1_1) {
        return Err(bad(
            "SerializationException",
            "Content-Type must be application/x-amz-json-1.1",
        ));
    }
    let Ok(Value::Object(input)) = serde_json::from_slice::<Value>(body) else {
        return Err(bad(
            "SerializationException",
            "the body is not a JSON object",
        ));
    };
    match target {
        "TrentService.Encrypt" => kms_encrypt(shared, &input),
        "TrentService.Decrypt" => kms_decrypt(shared, &input),
        "TrentService.GenerateDataKey" => kms_generate_data_key(shared, &input),
        "secretsmanager.GetSecretValue" => get_secret_value(shared, &input),
        "AmazonSSM.GetParameter" => get_parameter(shared, &input),
        _ => Err(bad("UnknownOperationException", "unknown X-Amz-Target")),
    }
}

/// The signing name of the service an operation belongs to.
fn service_of(target: &str) -> Option<&'static str> {
    match target {
        "TrentService.Encrypt" | "TrentService.Decrypt" | "TrentService.GenerateDataKey" => {
            Some("kms")
        }
        "secretsmanager.GetSecretValue" => Some("secretsmanager"),
        "AmazonSSM.GetParameter" => Some("ssm"),
        _ => None,
    }
}

/// Checks the request's signature as AWS does: header present and well formed, known access
/// key and session token, required headers signed, scope and time right, and the signature
/// recomputed over what arrived equal to the one sent.
fn verify_signature(
    shared: &Shared,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
    service: &str,
) -> Result<(), Fault> {
    let Some(header) = header_text(headers, "authorization") else {
        return Err((
            StatusCode::FORBIDDEN,
            "MissingAuthenticationTokenException",
            "Missing Authentication Token",
        ));
    };
    let Some(auth) = Authorization::parse(header) else {
        return Err(bad(
            "IncompleteSignatureException",
            "the Authorization header is not a Signature Version 4 header",
        ));
    };
    let credentials = &shared.credentials;
    if auth.access_key_id != credentials.access_key_id {
        return Err(unrecognized());
    }
    let signs = |name: &str| auth.signed_headers.iter().any(|h| h == name);
    for required in ["host", "x-amz-date", "x-amz-target"] {
        if !signs(required) {
            return Err(bad(
                "IncompleteSignatureException",
                "host, x-amz-date and x-amz-target must be signed",
            ));
        }
    }
    if auth
        .signed_headers
        .iter()
        .any(|name| !headers.contains_key(name.as_str()))
    {
        return Err(bad(
            "IncompleteSignatureException",
            "a signed header is missing from the request",
        ));
    }
    let sent_token = header_text(headers, "x-amz-security-token");
    match (&credentials.session_token, sent_token) {
        (None, None) => {}
        (Some(expected), Some(sent))
            if constant_time_eq(expected.expose().as_bytes(), sent.as_bytes())
                && signs("x-amz-security-token") => {}
        _ => return Err(unrecognized()),
    }

    let Some(date) = header_text(headers, "x-amz-date").and_then(AmzDate::parse) else {
        return Err(bad(
            "IncompleteSignatureException",
            "X-Amz-Date is missing or not of the form YYYYMMDDTHHMMSSZ",
        ));
    };
    if auth.date != date.date() {
        return Err(invalid_signature(
            "the credential scope's date is not the date of X-Amz-Date",
        ));
    }
    if auth.region != shared.region {
        return Err(invalid_signature(
            "the credential scope names another region",
        ));
    }
    if auth.service != service {
        return Err(invalid_signature(
            "the credential scope names another service",
        ));
    }
    let now = shared.clock.now().as_millis().div_euclid(1000);
    let skew = date.unix_seconds() - now;
    if skew < -MAX_SKEW_SECONDS {
        return Err(invalid_signature("Signature expired"));
    }
    if skew > MAX_SKEW_SECONDS {
        return Err(invalid_signature("Signature not yet current"));
    }

    let mut signed: Vec<(&str, &str)> = Vec::new();
    for name in &auth.signed_headers {
        for value in headers.get_all(name.as_str()) {
            let Ok(value) = value.to_str() else {
                return Err(invalid_signature("a signed header is not text"));
            };
            signed.push((name.as_str(), value));
        }
    }
    let query: Vec<(String, String)> = uri
        .query()
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .into_owned()
                .collect()
        })
        .unwrap_or_default();
    let query: Vec<(&str, &str)> = query
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    let payload = sigv4::payload_hash(body);
    let request = sigv4::Request {
        method: method.as_str(),
        path: uri.path(),
        query: &query,
        headers: &signed,
        payload_sha256: &payload,
    };
    let scope = sigv4::Scope {
        date: &date,
        region: &shared.region,
        service,
    };
    let expected = sigv4::sign(
        &request,
        &scope,
        &credentials.access_key_id,
        &credentials.secret_access_key,
    );
    if !constant_time_eq(expected.signature.as_bytes(), auth.signature.as_bytes()) {
        return Err(invalid_signature(
            "The request signature we calculated does not match the signature you provided.",
        ));
    }
    Ok(())
}

fn kms_encrypt(shared: &Shared, input: &Input) -> Result<Value, Fault> {
    let key_id = resolve_key(shared, required_text(input, "KeyId")?)?;
    let plaintext = Secret::new(base64_field(input, "Plaintext")?);
    if plaintext.expose().is_empty() || plaintext.expose().len() > MAX_KMS_PLAINTEXT {
        return Err(bad(
            "ValidationException",
            "Plaintext must be 1 to 4096 bytes",
        ));
    }
    let context = encryption_context(input)?;
    let blob = seal_blob(shared, &key_id, &context, plaintext.expose());
    Ok(json!({
        "CiphertextBlob": STANDARD.encode(blob),
        "KeyId": key_arn(&shared.region, &key_id),
        "EncryptionAlgorithm": "SYMMETRIC_DEFAULT",
    }))
}

fn kms_decrypt(shared: &Shared, input: &Input) -> Result<Value, Fault> {
    let blob = base64_field(input, "CiphertextBlob")?;
    let context = encryption_context(input)?;
    let Some((key_id, sealed)) = split_blob(&blob) else {
        return Err(invalid_ciphertext());
    };
    if let Some(asked) = optional_text(input, "KeyId")?
        && resolve_key(shared, asked)? != key_id
    {
        return Err(bad(
            "IncorrectKeyException",
            "the ciphertext was not encrypted under the KMS key given",
        ));
    }
    if !lock(&shared.state).kms_keys.contains(&key_id) {
        return Err(invalid_ciphertext());
    }
    let key = shared.keys.key(&format!("kms/{key_id}"));
    let Some(plaintext) = shared
        .keys
        .open(&key, &aad(&key_id, &context), sealed)
        .map(Secret::new)
    else {
        return Err(invalid_ciphertext());
    };
    Ok(json!({
        "KeyId": key_arn(&shared.region, &key_id),
        "Plaintext": STANDARD.encode(plaintext.expose()),
        "EncryptionAlgorithm": "SYMMETRIC_DEFAULT",
    }))
}

fn kms_generate_data_key(shared: &Shared, input: &Input) -> Result<Value, Fault> {
    let key_id = resolve_key(shared, required_text(input, "KeyId")?)?;
    let length = match optional_text(input, "KeySpec")? {
        Some("AES_256") => 32,
        Some("AES_128") => 16,
        _ => {
            return Err(bad(
                "ValidationException",
                "KeySpec must be AES_256 or AES_128",
            ));
        }
    };
    let context = encryption_context(input)?;
    let fresh = Secret::new(shared.keys.fresh());
    let data_key = fresh.expose().get(..length).unwrap_or_default();
    let blob = seal_blob(shared, &key_id, &context, data_key);
    Ok(json!({
        "CiphertextBlob": STANDARD.encode(blob),
        "Plaintext": STANDARD.encode(data_key),
        "KeyId": key_arn(&shared.region, &key_id),
    }))
}

fn get_secret_value(shared: &Shared, input: &Input) -> Result<Value, Fault> {
    let secret_id = required_text(input, "SecretId")?;
    let stage = optional_text(input, "VersionStage")?.unwrap_or("AWSCURRENT");
    let state = lock(&shared.state);
    let not_found = || {
        bad(
            "ResourceNotFoundException",
            "Secrets Manager can't find the specified secret.",
        )
    };
    let versions = state.secrets.get(secret_id).ok_or_else(not_found)?;
    let (value, version) = match stage {
        "AWSCURRENT" => (&versions.current, versions.version),
        "AWSPREVIOUS" => (
            versions.previous.as_ref().ok_or_else(not_found)?,
            versions.version - 1,
        ),
        _ => return Err(not_found()),
    };
    Ok(json!({
        "ARN": format!("arn:aws:secretsmanager:{}:{ACCOUNT}:secret:{secret_id}", shared.region),
        "Name": secret_id,
        "VersionId": format!("v{version}"),
        "SecretString": value.expose(),
        "VersionStages": [stage],
        "CreatedDate": 1_700_000_000,
    }))
}

fn get_parameter(shared: &Shared, input: &Input) -> Result<Value, Fault> {
    let name = required_text(input, "Name")?;
    let decrypt = input.get("WithDecryption").and_then(Value::as_bool) == Some(true);
    let state = lock(&shared.state);
    let Some(parameter) = state.parameters.get(name) else {
        return Err(bad("ParameterNotFound", "the parameter does not exist"));
    };
    // Without decryption a SecureString comes back as KMS ciphertext; the stand-in's is a
    // fixed text that no test could mistake for the value.
    let value = if decrypt {
        parameter.value.expose().as_str()
    } else {
        "AQICAHhStandInEncryptedSecureString"
    };
    Ok(json!({
        "Parameter": {
            "Name": name,
            "Type": "SecureString",
            "Value": value,
            "Version": parameter.version,
            "ARN": format!("arn:aws:ssm:{}:{ACCOUNT}:parameter/{}", shared.region, name.trim_start_matches('/')),
            "DataType": "text",
        }
    }))
}

type Input = serde_json::Map<String, Value>;

/// A key id or key ARN of an existing key → the key id.
fn resolve_key(shared: &Shared, given: &str) -> Result<String, Fault> {
    let prefix = key_arn(&shared.region, "");
    let key_id = given.strip_prefix(&prefix).unwrap_or(given);
    if lock(&shared.state).kms_keys.iter().any(|k| k == key_id) {
        Ok(key_id.to_owned())
    } else {
        Err(bad("NotFoundException", "the KMS key does not exist"))
    }
}

/// The stand-in's ciphertext blob: version 1, the key id (as real blobs carry the key's
/// identity), then the sealed plaintext bound to the key id and the encryption context.
fn seal_blob(
    shared: &Shared,
    key_id: &str,
    context: &BTreeMap<String, String>,
    plaintext: &[u8],
) -> Vec<u8> {
    let key = shared.keys.key(&format!("kms/{key_id}"));
    let sealed = shared.keys.seal(&key, &aad(key_id, context), plaintext);
    let id = key_id.as_bytes();
    let mut blob = vec![1u8];
    blob.extend_from_slice(&u16::try_from(id.len()).unwrap_or(u16::MAX).to_be_bytes());
    blob.extend_from_slice(id);
    blob.extend_from_slice(&sealed);
    blob
}

fn split_blob(blob: &[u8]) -> Option<(String, &[u8])> {
    let (&version, rest) = blob.split_first()?;
    if version != 1 {
        return None;
    }
    let len = usize::from(u16::from_be_bytes([*rest.first()?, *rest.get(1)?]));
    let id = rest.get(2..2 + len)?;
    let sealed = rest.get(2 + len..)?;
    Some((String::from_utf8(id.to_vec()).ok()?, sealed))
}

/// The associated data: key id and the context in canonical (sorted) JSON.
fn aad(key_id: &str, context: &BTreeMap<String, String>) -> Vec<u8> {
    let mut aad = key_id.as_bytes().to_vec();
    aad.push(0);
    aad.extend_from_slice(json!(context).to_string().as_bytes());
    aad
}

fn encryption_context(input: &Input) -> Result<BTreeMap<String, String>, Fault> {
    match input.get("EncryptionContext") {
        None | Some(Value::Null) => Ok(BTreeMap::new()),
        Some(Value::Object(map)) => map
            .iter()
            .map(|(k, v)| match v {
                Value::String(s) => Ok((k.clone(), s.clone())),
                _ => Err(bad(
                    "ValidationException",
                    "EncryptionContext values must be strings",
                )),
            })
            .collect(),
        Some(_) => Err(bad(
            "ValidationException",
            "EncryptionContext must be an object",
        )),
    }
}

fn required_text<'a>(input: &'a Input, field: &'static str) -> Result<&'a str, Fault> {
    optional_text(input, field)?
        .ok_or_else(|| bad("ValidationException", "a required field is missing"))
}

fn optional_text<'a>(input: &'a Input, field: &'static str) -> Result<Option<&'a str>, Fault> {
    match input.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(bad("SerializationException", "a field has the wrong type")),
    }
}

fn base64_field(input: &Input, field: &'static str) -> Result<Vec<u8>, Fault> {
    STANDARD
        .decode(required_text(input, field)?)
        .map_err(|_| bad("SerializationException", "a blob field is not base64"))
}

fn bad(kind: &'static str, message: &'static str) -> Fault {
    (StatusCode::BAD_REQUEST, kind, message)
}

fn unrecognized() -> Fault {
    bad(
        "UnrecognizedClientException",
        "The security token included in the request is invalid.",
    )
}

fn invalid_signature(message: &'static str) -> Fault {
    bad("InvalidSignatureException", message)
}

fn invalid_ciphertext() -> Fault {
    bad(
        "InvalidCiphertextException",
        "the ciphertext, key or encryption context is not the one encrypted with",
    )
}
