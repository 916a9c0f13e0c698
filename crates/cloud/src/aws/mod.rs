//! AWS over its JSON 1.1 protocol, signed with Signature Version 4: the transport
//! ([`AwsClient`]) and the three services MHP uses, [`Kms`], [`SecretsManager`] and [`Ssm`].
//!
//! Every call is `POST /` to `https://{service}.{region}.amazonaws.com` (or the configured
//! endpoint) with `Content-Type: application/x-amz-json-1.1` and `X-Amz-Target` naming the
//! operation. Errors come back as a JSON body whose `__type` names the error class; that class
//! is all this client keeps of it.

pub mod sigv4;

mod credentials;
mod kms;
mod logs;
mod s3;
mod secrets;
mod ses;
mod xml;

use std::sync::Arc;

use mhp_domain::{Clock, SystemClock};
use reqwest::header::{HeaderMap, HeaderValue};
use serde_json::Value;
use url::Url;
use zeroize::Zeroizing;

use crate::CloudError;
use crate::http;

pub use credentials::{AwsCredentials, ContainerToken, CredentialProvider, CredentialSource};
pub use kms::{EncryptionContext, Kms};
pub use logs::LogStream;
pub use s3::{S3, S3Object, ServerSideEncryption};
pub use secrets::{SecretsManager, Ssm};
pub use ses::Ses;

/// The content type of the AWS JSON 1.1 protocol.
pub const JSON_1_1: &str = "application/x-amz-json-1.1";

/// Signs and sends AWS JSON 1.1 calls for one region. Cheap to clone.
#[derive(Debug, Clone)]
pub struct AwsClient {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    http: reqwest::Client,
    region: String,
    credentials: Arc<CredentialProvider>,
    endpoint: Option<Url>,
    clock: Arc<dyn Clock>,
}

impl AwsClient {
    /// A client for `region` signing with fixed credentials. `endpoint` replaces
    /// `https://{service}.{region}.amazonaws.com` for every service (a VPC endpoint, a
    /// stand-in in tests); it must be https, or http to a loopback address, with the path `/`.
    /// Requests are signed at the machine's time; see [`AwsClient::with_clock`].
    pub fn new(
        region: &str,
        credentials: AwsCredentials,
        endpoint: Option<Url>,
    ) -> Result<Self, CloudError> {
        let provider = CredentialProvider::fixed(credentials)?;
        Self::with_provider(region, Arc::new(provider), endpoint)
    }

    /// A client for `region` signing with the credentials `provider` holds (shared by every
    /// client of the process, so temporary credentials are fetched once for all).
    pub fn with_provider(
        region: &str,
        credentials: Arc<CredentialProvider>,
        endpoint: Option<Url>,
    ) -> Result<Self, CloudError> {
        if !is_dns_label_text(region) {
            return Err(CloudError::Config(
                "the AWS region must be lower-case letters, digits and dashes",
            ));
        }
        if let Some(url) = &endpoint {
            http::check_endpoint(url)?;
            if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
                return Err(CloudError::Config(
                    "the AWS endpoint must have the path / and no query",
                ));
            }
        }
        Ok(Self {
            inner: Arc::new(Inner {
                http: http::client()?,
                region: region.to_owned(),
                credentials,
                endpoint,
                clock: Arc::new(SystemClock),
            }),
        })
    }

    /// The same client signing at the time `clock` tells (tests, or a clock corrected for
    /// skew).
    pub fn with_clock(self, clock: Arc<dyn Clock>) -> Self {
        let inner = &self.inner;
        Self {
            inner: Arc::new(Inner {
                http: inner.http.clone(),
                region: inner.region.clone(),
                credentials: inner.credentials.clone(),
                endpoint: inner.endpoint.clone(),
                clock,
            }),
        }
    }

    /// The region calls are signed for.
    pub fn region(&self) -> &str {
        &self.inner.region
    }

    /// The endpoint every service is reached at, when one is configured.
    pub fn endpoint(&self) -> Option<&Url> {
        self.inner.endpoint.as_ref()
    }

    /// Calls operation `target` (`TrentService.Encrypt`) of `service` (its signing name,
    /// `kms`) with a JSON body, and returns the JSON answer. An error answer becomes
    /// [`CloudError::Http`] with the error's class (`AccessDeniedException`), or
    /// [`CloudError::NotFound`] for the classes that mean "no such thing".
    pub async fn call(
        &self,
        service: &str,
        target: &str,
        body: Value,
    ) -> Result<Value, CloudError> {
        let body = Zeroizing::new(body.to_string().into_bytes());
        let answer = self.call_raw(service, target, &body).await?;
        parse_answer(service, &answer)
    }

    /// Signs and sends one call; the raw answer on success. Callers that send or receive
    /// secrets use this directly so that their buffers are wiped.
    pub(crate) async fn call_raw(
        &self,
        service: &str,
        target: &str,
        body: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, CloudError> {
        if !is_dns_label_text(service) {
            return Err(CloudError::Config(
                "the AWS service name must be lower-case letters, digits and dashes",
            ));
        }
        let response = self
            .send(Signed {
                service,
                method: reqwest::Method::POST,
                url: self.url(service)?,
                path: "/",
                query: &[],
                headers: vec![
                    ("content-type", JSON_1_1.to_owned()),
                    ("x-amz-target", target.to_owned()),
                ],
                body: body.to_vec(),
                payload_sha256: sigv4::payload_hash(body),
                timeout: None,
            })
            .await?;
        let status = response.status();
        let header_type = response
            .headers()
            .get("x-amzn-errortype")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let answer = http::read_body(response, service).await?;
        if status.is_success() {
            return Ok(answer);
        }
        Err(error_from_answer(
            service,
            status.as_u16(),
            &answer,
            header_type.as_deref(),
        ))
    }

    /// Signs `request` with the provider's credentials at the clock's time and sends it; the
    /// response whatever its status (the caller reads and maps it).
    pub(crate) async fn send(&self, request: Signed<'_>) -> Result<reqwest::Response, CloudError> {
        let mut headers = self
            .sign(ToSign {
                service: request.service,
                method: request.method.as_str(),
                url: &request.url,
                path: request.path,
                query: request.query,
                headers: &request.headers,
                payload_sha256: &request.payload_sha256,
            })
            .await?;
        // The caller's trace, passed on (unsigned, as AWS's own SDKs send X-Amzn-Trace-Id).
        mhp_telemetry::inject(&mut headers);
        let mut builder = self
            .inner
            .http
            .request(request.method, request.url)
            .headers(headers)
            .body(request.body);
        if let Some(timeout) = request.timeout {
            builder = builder.timeout(timeout);
        }
        builder
            .send()
            .await
            .map_err(|e| http::transport(request.service, e))
    }

    /// Signs a request that another client sends (OpenSearch's REST calls, service `es`):
    /// the headers to add to it, `host`, `x-amz-date`, `x-amz-content-sha256`, the session
    /// token with temporary credentials, and `authorization`. The path and query are signed as
    /// `url` holds them; the request must be sent to that URL with that body unchanged.
    pub async fn signed_headers(
        &self,
        service: &str,
        method: &str,
        url: &Url,
        body: &[u8],
    ) -> Result<HeaderMap, CloudError> {
        if !is_dns_label_text(service) {
            return Err(CloudError::Config(
                "the AWS service name must be lower-case letters, digits and dashes",
            ));
        }
        let path = percent_encoding::percent_decode_str(url.path())
            .decode_utf8()
            .map_err(|_| CloudError::Config("the request's path is not UTF-8"))?;
        let pairs: Vec<(String, String)> = url.query_pairs().into_owned().collect();
        let query: Vec<(&str, &str)> = pairs
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let payload_sha256 = sigv4::payload_hash(body);
        self.sign(ToSign {
            service,
            method,
            url,
            path: &path,
            query: &query,
            headers: &[("x-amz-content-sha256", payload_sha256.clone())],
            payload_sha256: &payload_sha256,
        })
        .await
    }

    /// The headers of a request signed with the provider's credentials at the clock's time:
    /// `host`, `x-amz-date`, `headers`, the session token and `authorization`.
    async fn sign(&self, request: ToSign<'_>) -> Result<HeaderMap, CloudError> {
        let ToSign {
            service,
            method,
            url,
            path,
            query,
            headers,
            payload_sha256,
        } = request;
        let credentials = self.inner.credentials.get().await?;
        let host = host_header(url)?;
        let date = sigv4::AmzDate::from_timestamp(self.inner.clock.now()).ok_or(
            CloudError::Config("the clock is outside the years 1 to 9999"),
        )?;
        let mut signed: Vec<(&str, &str)> = vec![("host", &host), ("x-amz-date", date.as_str())];
        signed.extend(headers.iter().map(|(n, v)| (*n, v.as_str())));
        if let Some(token) = &credentials.session_token {
            signed.push(("x-amz-security-token", token.expose()));
        }
        let scope = sigv4::Scope {
            date: &date,
            region: &self.inner.region,
            service,
        };
        let signature = sigv4::sign(
            &sigv4::Request {
                method,
                path,
                query,
                headers: &signed,
                payload_sha256,
            },
            &scope,
            &credentials.access_key_id,
            &credentials.secret_access_key,
        );

        let mut out = HeaderMap::new();
        out.insert(reqwest::header::HOST, plain_header(&host)?);
        out.insert("x-amz-date", plain_header(date.as_str())?);
        for (name, value) in headers {
            out.insert(*name, plain_header(value)?);
        }
        if let Some(token) = &credentials.session_token {
            out.insert(
                "x-amz-security-token",
                http::secret_header(
                    token.expose(),
                    "the AWS session token cannot be sent in a header",
                )?,
            );
        }
        out.insert(
            reqwest::header::AUTHORIZATION,
            http::secret_header(
                &signature.authorization,
                "the AWS signature cannot be sent in a header",
            )?,
        );
        Ok(out)
    }

    fn url(&self, service: &str) -> Result<Url, CloudError> {
        match &self.inner.endpoint {
            Some(url) => Ok(url.clone()),
            None => Url::parse(&format!(
                "https://{service}.{}.amazonaws.com/",
                self.inner.region
            ))
            .map_err(|_| CloudError::Config("the AWS endpoint cannot be built")),
        }
    }
}

/// What [`AwsClient::sign`] signs: the parts of [`Signed`] without the body.
struct ToSign<'a> {
    service: &'a str,
    method: &'a str,
    url: &'a Url,
    path: &'a str,
    query: &'a [(&'a str, &'a str)],
    headers: &'a [(&'static str, String)],
    payload_sha256: &'a str,
}

/// One request to sign and send ([`AwsClient::send`]).
pub(crate) struct Signed<'a> {
    /// The signing name of the service (`kms`, `s3`).
    pub service: &'a str,
    pub method: reqwest::Method,
    /// Where it goes, path and query percent-encoded as [`sigv4::uri_encode`] does.
    pub url: Url,
    /// The same path, not encoded, as the signer takes it.
    pub path: &'a str,
    /// The same query, not encoded.
    pub query: &'a [(&'a str, &'a str)],
    /// Headers sent and signed besides `host`, `x-amz-date` and the session token; no
    /// secret among them.
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
    /// [`sigv4::payload_hash`] of the body.
    pub payload_sha256: String,
    /// A time-out other than the client's (large objects).
    pub timeout: Option<std::time::Duration>,
}

/// Parses a success answer; an empty body is an empty object (some operations answer so).
pub(crate) fn parse_answer(service: &str, answer: &[u8]) -> Result<Value, CloudError> {
    if answer.is_empty() {
        return Ok(Value::Object(serde_json::Map::new()));
    }
    serde_json::from_slice(answer).map_err(|_| CloudError::Malformed {
        service: service.to_owned(),
        what: "the answer is not JSON",
    })
}

/// The error classes that mean "no such key, secret or parameter".
const NOT_FOUND: [&str; 4] = [
    "ResourceNotFoundException",
    "NotFoundException",
    "ParameterNotFound",
    "ParameterVersionNotFound",
];

/// Maps an error answer: the class from the body's `__type` (or the `x-amzn-ErrorType`
/// header), without the namespace (`com.amazonaws.kms#`) or the documentation URL that may
/// follow a `:`. The `message` is never read.
fn error_from_answer(
    service: &str,
    status: u16,
    answer: &[u8],
    header_type: Option<&str>,
) -> CloudError {
    #[derive(serde::Deserialize)]
    struct ErrorBody {
        #[serde(rename = "__type")]
        kind: Option<String>,
    }
    let from_body = serde_json::from_slice::<ErrorBody>(answer)
        .ok()
        .and_then(|b| b.kind);
    let code = from_body
        .as_deref()
        .or(header_type)
        .and_then(error_class)
        .map(str::to_owned);
    let service = service.to_owned();
    match code {
        Some(c) if NOT_FOUND.contains(&c.as_str()) => CloudError::NotFound {
            service,
            code: Some(c),
        },
        code => CloudError::Http {
            service,
            status,
            code,
        },
    }
}

/// `com.amazonaws.kms#NotFoundException` and `NotFoundException:http://…` → `NotFoundException`;
/// `None` unless the result is a plain identifier of at most 100 characters.
fn error_class(raw: &str) -> Option<&str> {
    let without_namespace = raw.rsplit('#').next().unwrap_or(raw);
    let class = without_namespace
        .split(':')
        .next()
        .unwrap_or(without_namespace)
        .trim();
    let plain = !class.is_empty()
        && class.len() <= 100
        && class
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.');
    plain.then_some(class)
}

/// Lower-case letters, digits and inner dashes: what can stand in a host name.
fn is_dns_label_text(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 63
        && !text.starts_with('-')
        && !text.ends_with('-')
        && text
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// The `Host` header exactly as signed: the host, and the port when it is not the scheme's
/// default.
fn host_header(url: &Url) -> Result<String, CloudError> {
    let host = url
        .host_str()
        .ok_or(CloudError::Config("the AWS endpoint has no host"))?;
    Ok(match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    })
}

fn plain_header(value: &str) -> Result<HeaderValue, CloudError> {
    HeaderValue::from_str(value)
        .map_err(|_| CloudError::Config("a value cannot be sent in an HTTP header"))
}

#[cfg(test)]
mod tests {
    use mhp_domain::Secret;

    use super::*;

    #[test]
    fn credentials_come_from_the_lookup() {
        let vars = |name: &str| match name {
            "AWS_ACCESS_KEY_ID" => Some("AKIDEXAMPLE".to_owned()),
            "AWS_SECRET_ACCESS_KEY" => Some("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".to_owned()),
            "AWS_SESSION_TOKEN" => Some(String::new()),
            _ => None,
        };
        let c = AwsCredentials::from_lookup(vars).unwrap();
        assert_eq!(c.access_key_id, "AKIDEXAMPLE");
        assert_eq!(
            c.secret_access_key.expose(),
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
        );
        assert!(c.session_token.is_none(), "empty counts as absent");
        assert!(!format!("{c:?}").contains("EXAMPLEKEY"));

        let missing = AwsCredentials::from_lookup(|name| {
            (name == "AWS_ACCESS_KEY_ID").then(|| "AKID".to_owned())
        })
        .unwrap_err();
        assert_eq!(
            missing.to_string(),
            "invalid cloud client configuration: AWS_SECRET_ACCESS_KEY is not set"
        );
    }

    #[test]
    fn session_token_is_read_when_present() {
        let c = AwsCredentials::from_lookup(|name| {
            Some(match name {
                "AWS_ACCESS_KEY_ID" => "ASIAEXAMPLE".to_owned(),
                _ => format!("{name}-value"),
            })
        })
        .unwrap();
        assert_eq!(
            c.session_token.as_ref().map(|t| t.expose().as_str()),
            Some("AWS_SESSION_TOKEN-value")
        );
    }

    #[test]
    fn error_classes_lose_namespace_and_url() {
        assert_eq!(
            error_class("com.amazonaws.kms#NotFoundException"),
            Some("NotFoundException")
        );
        assert_eq!(
            error_class("ValidationException:http://internal.amazon.com/coral/"),
            Some("ValidationException")
        );
        assert_eq!(
            error_class("AccessDeniedException"),
            Some("AccessDeniedException")
        );
        assert_eq!(error_class(""), None);
        assert_eq!(error_class("has spaces and a secret"), None);
    }

    #[test]
    fn error_answers_keep_the_class_and_never_the_message() {
        let e = error_from_answer(
            "kms",
            400,
            br#"{"__type":"ValidationException","message":"Value 'hunter2' at 'plaintext' failed"}"#,
            None,
        );
        assert_eq!(e.code(), Some("ValidationException"));
        assert!(!e.to_string().contains("hunter2"));

        let e = error_from_answer(
            "secretsmanager",
            400,
            br#"{"__type":"com.amazonaws.secretsmanager#ResourceNotFoundException"}"#,
            None,
        );
        assert!(e.is_not_found());

        let e = error_from_answer("ssm", 400, b"not json", Some("ParameterNotFound"));
        assert!(e.is_not_found());

        let e = error_from_answer("kms", 500, b"", None);
        assert_eq!(e.to_string(), "kms answered HTTP 500");
    }

    #[test]
    fn regions_and_endpoints_are_checked() {
        let creds = || AwsCredentials {
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: Secret::new("s".into()),
            session_token: None,
        };
        assert!(AwsClient::new("eu-west-1", creds(), None).is_ok());
        assert!(AwsClient::new("eu-west-1.evil.com/", creds(), None).is_err());
        assert!(AwsClient::new("", creds(), None).is_err());
        let url = |s: &str| Some(Url::parse(s).unwrap());
        assert!(AwsClient::new("eu-west-1", creds(), url("http://127.0.0.1:9/")).is_ok());
        assert!(AwsClient::new("eu-west-1", creds(), url("http://kms.example/")).is_err());
        assert!(AwsClient::new("eu-west-1", creds(), url("https://kms.example/x")).is_err());
        let mut bad = creds();
        bad.access_key_id = "AKID\n".into();
        assert!(AwsClient::new("eu-west-1", bad, None).is_err());
    }

    #[test]
    fn host_headers_carry_non_default_ports() {
        let h = |s: &str| host_header(&Url::parse(s).unwrap()).unwrap();
        assert_eq!(
            h("https://kms.eu-west-1.amazonaws.com/"),
            "kms.eu-west-1.amazonaws.com"
        );
        assert_eq!(h("https://kms.example:443/"), "kms.example");
        assert_eq!(h("http://127.0.0.1:8080/"), "127.0.0.1:8080");
        assert_eq!(h("http://[::1]:8080/"), "[::1]:8080");
    }
}
