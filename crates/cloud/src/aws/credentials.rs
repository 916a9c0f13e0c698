//! Where AWS credentials come from: the standard chain of AWS's SDKs, in their order, and a
//! provider that keeps the temporary ones fresh.
//!
//! 1. The environment: `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`.
//! 2. A web identity token (EKS service accounts, IRSA): `AWS_WEB_IDENTITY_TOKEN_FILE` and
//!    `AWS_ROLE_ARN` (`AWS_ROLE_SESSION_NAME` optional), exchanged with STS
//!    (`AssumeRoleWithWebIdentity`, an unsigned call) for temporary credentials. The token file
//!    is read again at every exchange, since the kubelet rotates it.
//! 3. The container credentials endpoint (an ECS task role, EKS Pod Identity):
//!    `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` (under `http://169.254.170.2`) or
//!    `AWS_CONTAINER_CREDENTIALS_FULL_URI`, with the token of
//!    `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE` or `AWS_CONTAINER_AUTHORIZATION_TOKEN` as the
//!    `Authorization` header.
//! 4. The EC2 instance metadata service, version 2 only (a session token first, then the
//!    role's credentials), at `AWS_EC2_METADATA_SERVICE_ENDPOINT` or `http://169.254.169.254`;
//!    skipped when `AWS_EC2_METADATA_DISABLED=true`.
//!
//! The shared configuration files (`~/.aws/credentials`, profiles) are not read: a server is
//! given its role by the platform, not by a home directory.
//!
//! Temporary credentials are fetched again five minutes before they expire (or half-way
//! through their life when that is shorter); when the source cannot be reached then, the ones
//! held keep being used until they really expire.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use mhp_domain::{Clock, Secret, SystemClock};
use serde::Deserialize;
use url::{Host, Url};
use zeroize::Zeroizing;

use crate::CloudError;
use crate::http;

use super::sigv4::AmzDate;
use super::xml;

/// An access key pair, with the session token of temporary credentials.
#[derive(Debug, Clone)]
pub struct AwsCredentials {
    /// The access key id (`AKIA…`, `ASIA…`); an identifier, not a secret.
    pub access_key_id: String,
    /// The secret access key.
    pub secret_access_key: Secret<String>,
    /// The session token of temporary credentials (STS, instance roles).
    pub session_token: Option<Secret<String>>,
}

impl AwsCredentials {
    /// Reads `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and `AWS_SESSION_TOKEN` (optional)
    /// from the process environment. Meant for the binary, which reads settings once; libraries
    /// take credentials as arguments.
    pub fn from_env() -> Result<Self, CloudError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the same variables through `lookup`. An empty value counts as absent.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, CloudError> {
        let get = |name: &str| lookup(name).filter(|v| !v.is_empty());
        let access_key_id =
            get("AWS_ACCESS_KEY_ID").ok_or(CloudError::Config("AWS_ACCESS_KEY_ID is not set"))?;
        let secret_access_key = get("AWS_SECRET_ACCESS_KEY")
            .map(Secret::new)
            .ok_or(CloudError::Config("AWS_SECRET_ACCESS_KEY is not set"))?;
        let session_token = get("AWS_SESSION_TOKEN").map(Secret::new);
        let credentials = Self {
            access_key_id,
            secret_access_key,
            session_token,
        };
        credentials.check()?;
        Ok(credentials)
    }

    /// Refuses an access key id that could not be a real one (it goes into a header as is).
    pub(crate) fn check(&self) -> Result<(), CloudError> {
        let plain = !self.access_key_id.is_empty()
            && self.access_key_id.len() <= 128
            && self
                .access_key_id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric());
        if plain {
            Ok(())
        } else {
            Err(CloudError::Config(
                "the AWS access key id must be letters and digits",
            ))
        }
    }
}

/// The host of ECS's container credentials endpoint, under which a relative URI is read.
const ECS_HOST: &str = "169.254.170.2";
/// The instance metadata service's default endpoint.
const IMDS_ENDPOINT: &str = "http://169.254.169.254/";
/// How long an instance metadata session token lives (six hours, the most allowed).
const IMDS_TOKEN_TTL_S: &str = "21600";
/// Refresh this long before temporary credentials expire.
const REFRESH_BEFORE_MS: i64 = 5 * 60 * 1000;
/// Time-out of one call to the container endpoint or the instance metadata service: they are
/// on the host, so a slow answer means they are not there.
const LOCAL_TIMEOUT: Duration = Duration::from_secs(5);

/// Where credentials come from (see the module's chain).
#[derive(Debug, Clone)]
pub enum CredentialSource {
    /// Fixed credentials (the environment's access key pair).
    Static(AwsCredentials),
    /// A web identity token exchanged with STS.
    WebIdentity {
        /// The file holding the token (re-read at each exchange).
        token_file: PathBuf,
        /// The role to assume.
        role_arn: String,
        /// The session name STS records.
        session_name: String,
    },
    /// The container credentials endpoint.
    Container {
        /// The endpoint.
        url: Url,
        /// Its authorisation token, if any.
        token: Option<ContainerToken>,
    },
    /// The EC2 instance metadata service (IMDSv2).
    InstanceMetadata {
        /// Its base URL.
        endpoint: Url,
    },
}

/// The authorisation token of the container credentials endpoint.
#[derive(Debug, Clone)]
pub enum ContainerToken {
    /// Given in `AWS_CONTAINER_AUTHORIZATION_TOKEN`.
    Value(Secret<String>),
    /// In the file `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE` names (read at each fetch).
    File(PathBuf),
}

impl CredentialSource {
    /// The first source of the chain the variables read through `lookup` describe. An empty
    /// value counts as absent.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, CloudError> {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        if get("AWS_ACCESS_KEY_ID").is_some() || get("AWS_SECRET_ACCESS_KEY").is_some() {
            return AwsCredentials::from_lookup(&lookup).map(Self::Static);
        }
        if let Some(token_file) = get("AWS_WEB_IDENTITY_TOKEN_FILE") {
            let role_arn = get("AWS_ROLE_ARN").ok_or(CloudError::Config(
                "AWS_WEB_IDENTITY_TOKEN_FILE is set without AWS_ROLE_ARN",
            ))?;
            let session_name = get("AWS_ROLE_SESSION_NAME").unwrap_or_else(|| "mhp".to_owned());
            let plain_name = session_name.len() <= 64
                && session_name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"=,.@-_".contains(&b));
            if !plain_name {
                return Err(CloudError::Config(
                    "AWS_ROLE_SESSION_NAME must be at most 64 of A-Z a-z 0-9 =,.@-_",
                ));
            }
            return Ok(Self::WebIdentity {
                token_file: PathBuf::from(token_file),
                role_arn,
                session_name,
            });
        }
        let relative = get("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
        let full = get("AWS_CONTAINER_CREDENTIALS_FULL_URI");
        if relative.is_some() || full.is_some() {
            let url = match (relative, full) {
                (Some(relative), _) => {
                    if !relative.starts_with('/') {
                        return Err(CloudError::Config(
                            "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI must start with /",
                        ));
                    }
                    Url::parse(&format!("http://{ECS_HOST}{relative}")).map_err(|_| {
                        CloudError::Config("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI is not a path")
                    })?
                }
                (None, Some(full)) => {
                    let url = Url::parse(&full).map_err(|_| {
                        CloudError::Config("AWS_CONTAINER_CREDENTIALS_FULL_URI is not a URL")
                    })?;
                    check_container_url(&url)?;
                    url
                }
                (None, None) => unreachable!("one of them is set"),
            };
            let token = match get("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE") {
                Some(file) => Some(ContainerToken::File(PathBuf::from(file))),
                None => get("AWS_CONTAINER_AUTHORIZATION_TOKEN")
                    .map(|t| ContainerToken::Value(Secret::new(t))),
            };
            return Ok(Self::Container { url, token });
        }
        if get("AWS_EC2_METADATA_DISABLED").is_some_and(|v| v.eq_ignore_ascii_case("true")) {
            return Err(CloudError::Config(
                "no AWS credentials: none in the environment, no web identity, no container \
                 endpoint, and the instance metadata service is disabled",
            ));
        }
        let endpoint =
            get("AWS_EC2_METADATA_SERVICE_ENDPOINT").unwrap_or_else(|| IMDS_ENDPOINT.to_owned());
        let endpoint = Url::parse(&endpoint)
            .map_err(|_| CloudError::Config("AWS_EC2_METADATA_SERVICE_ENDPOINT is not a URL"))?;
        check_metadata_url(&endpoint)?;
        Ok(Self::InstanceMetadata { endpoint })
    }

    /// The source in fixed words, for logs and `config check`.
    pub fn describe(&self) -> &'static str {
        match self {
            Self::Static(_) => "environment",
            Self::WebIdentity { .. } => "web identity token",
            Self::Container { .. } => "container credentials endpoint",
            Self::InstanceMetadata { .. } => "instance metadata service",
        }
    }
}

/// The container endpoint must be https, or plain http on the host: loopback, or the
/// addresses ECS and EKS serve it on.
fn check_container_url(url: &Url) -> Result<(), CloudError> {
    let on_host = match url.host() {
        Some(Host::Ipv4(ip)) => {
            ip.is_loopback()
                || ip.octets() == [169, 254, 170, 2]
                || ip.octets() == [169, 254, 170, 23]
        }
        Some(Host::Ipv6(ip)) => {
            ip.is_loopback() || ip.segments() == [0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x23]
        }
        Some(Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        None => false,
    };
    let ok = url.username().is_empty()
        && url.password().is_none()
        && (url.scheme() == "https" || (url.scheme() == "http" && on_host));
    if ok {
        Ok(())
    } else {
        Err(CloudError::Config(
            "AWS_CONTAINER_CREDENTIALS_FULL_URI must be https, or http to loopback or the \
             container endpoint's link-local address",
        ))
    }
}

/// The metadata service is plain http on its link-local address (or loopback, for tests).
fn check_metadata_url(url: &Url) -> Result<(), CloudError> {
    let ok_host = match url.host() {
        Some(Host::Ipv4(ip)) => ip.is_loopback() || ip.octets() == [169, 254, 169, 254],
        Some(Host::Ipv6(ip)) => {
            ip.is_loopback() || ip.segments() == [0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254]
        }
        Some(Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        None => false,
    };
    let ok = url.username().is_empty()
        && url.password().is_none()
        && matches!(url.scheme(), "http" | "https")
        && ok_host;
    if ok {
        Ok(())
    } else {
        Err(CloudError::Config(
            "AWS_EC2_METADATA_SERVICE_ENDPOINT must be the metadata service's link-local \
             address (or loopback)",
        ))
    }
}

/// Credentials of one source, fetched when first needed and again before they expire. Shared
/// by every client of a process (`Arc`), so each fetch serves them all.
#[derive(Debug)]
pub struct CredentialProvider {
    source: CredentialSource,
    /// STS for web identity: the configured endpoint, else the region's.
    sts: Url,
    http: reqwest::Client,
    clock: Arc<dyn Clock>,
    held: tokio::sync::Mutex<Option<Held>>,
}

#[derive(Debug, Clone)]
struct Held {
    credentials: AwsCredentials,
    /// When they stop working (ms since the epoch); `None` for fixed credentials.
    expires_ms: Option<i64>,
    /// When to fetch again.
    refresh_ms: Option<i64>,
}

impl CredentialProvider {
    /// A provider over `source`. `region` and `endpoint` say where STS is (web identity); the
    /// endpoint, if any, is the one every AWS service of the process uses.
    pub fn new(
        source: CredentialSource,
        region: &str,
        endpoint: Option<&Url>,
    ) -> Result<Self, CloudError> {
        let sts = match endpoint {
            Some(url) => url.clone(),
            None => Url::parse(&format!("https://sts.{region}.amazonaws.com/"))
                .map_err(|_| CloudError::Config("the STS endpoint cannot be built"))?,
        };
        let held = match &source {
            CredentialSource::Static(credentials) => {
                credentials.check()?;
                Some(Held {
                    credentials: credentials.clone(),
                    expires_ms: None,
                    refresh_ms: None,
                })
            }
            _ => None,
        };
        Ok(Self {
            source,
            sts,
            http: http::client()?,
            clock: Arc::new(SystemClock),
            held: tokio::sync::Mutex::new(held),
        })
    }

    /// Fixed credentials.
    pub fn fixed(credentials: AwsCredentials) -> Result<Self, CloudError> {
        Self::new(CredentialSource::Static(credentials), "us-east-1", None)
    }

    /// The same provider reading expiry against `clock` (tests).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The source, for logs and `config check`.
    pub fn source(&self) -> &CredentialSource {
        &self.source
    }

    /// Credentials to sign with now: the held ones while fresh, else fetched again. When the
    /// fetch fails, the held ones serve until they expire.
    pub async fn get(&self) -> Result<AwsCredentials, CloudError> {
        let now = self.clock.now().as_millis();
        let mut held = self.held.lock().await;
        if let Some(h) = held.as_ref()
            && h.refresh_ms.is_none_or(|at| now < at)
        {
            return Ok(h.credentials.clone());
        }
        match self.fetch(now).await {
            Ok(fresh) => {
                let credentials = fresh.credentials.clone();
                *held = Some(fresh);
                Ok(credentials)
            }
            Err(e) => match held.as_ref() {
                Some(h) if h.expires_ms.is_none_or(|at| now < at) => Ok(h.credentials.clone()),
                _ => Err(e),
            },
        }
    }

    async fn fetch(&self, now: i64) -> Result<Held, CloudError> {
        let (credentials, expires_ms) = match &self.source {
            CredentialSource::Static(credentials) => (credentials.clone(), None),
            CredentialSource::WebIdentity {
                token_file,
                role_arn,
                session_name,
            } => {
                self.web_identity(token_file, role_arn, session_name)
                    .await?
            }
            CredentialSource::Container { url, token } => {
                self.container(url, token.as_ref()).await?
            }
            CredentialSource::InstanceMetadata { endpoint } => self.instance(endpoint).await?,
        };
        credentials.check()?;
        let refresh_ms = expires_ms.map(|at: i64| {
            let life = at.saturating_sub(now);
            at - REFRESH_BEFORE_MS.min(life / 2)
        });
        Ok(Held {
            credentials,
            expires_ms,
            refresh_ms,
        })
    }

    async fn web_identity(
        &self,
        token_file: &PathBuf,
        role_arn: &str,
        session_name: &str,
    ) -> Result<(AwsCredentials, Option<i64>), CloudError> {
        const SERVICE: &str = "sts";
        let token = Zeroizing::new(
            tokio::fs::read_to_string(token_file)
                .await
                .map_err(|_| CloudError::Config("the web identity token file cannot be read"))?,
        );
        let body = Zeroizing::new(
            url::form_urlencoded::Serializer::new(String::new())
                .append_pair("Action", "AssumeRoleWithWebIdentity")
                .append_pair("Version", "2011-06-15")
                .append_pair("RoleArn", role_arn)
                .append_pair("RoleSessionName", session_name)
                .append_pair("WebIdentityToken", token.trim())
                .finish(),
        );
        let response = self
            .http
            .post(self.sts.clone())
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded; charset=utf-8",
            )
            .body(body.as_bytes().to_vec())
            .send()
            .await
            .map_err(|e| http::transport(SERVICE, e))?;
        let status = response.status();
        let answer = http::read_body(response, SERVICE).await?;
        let text = std::str::from_utf8(&answer).map_err(|_| malformed(SERVICE, "not UTF-8"))?;
        if !status.is_success() {
            return Err(xml::error(SERVICE, status.as_u16(), text));
        }
        let doc = roxmltree::Document::parse(text)
            .map_err(|_| malformed(SERVICE, "the answer is not XML"))?;
        let field = |name: &str| xml::text_of(&doc, name).map(str::to_owned);
        let credentials = AwsCredentials {
            access_key_id: field("AccessKeyId")
                .ok_or_else(|| malformed(SERVICE, "no AccessKeyId"))?,
            secret_access_key: Secret::new(
                field("SecretAccessKey").ok_or_else(|| malformed(SERVICE, "no SecretAccessKey"))?,
            ),
            session_token: field("SessionToken").map(Secret::new),
        };
        let expires = field("Expiration")
            .as_deref()
            .map(|t| iso8601_ms(t).ok_or_else(|| malformed(SERVICE, "the expiry is not a time")))
            .transpose()?;
        Ok((credentials, expires))
    }

    async fn container(
        &self,
        url: &Url,
        token: Option<&ContainerToken>,
    ) -> Result<(AwsCredentials, Option<i64>), CloudError> {
        const SERVICE: &str = "container-credentials";
        let mut request = self.http.get(url.clone()).timeout(LOCAL_TIMEOUT);
        if let Some(token) = token {
            let value = match token {
                ContainerToken::Value(v) => Zeroizing::new(v.expose().clone()),
                ContainerToken::File(path) => {
                    Zeroizing::new(tokio::fs::read_to_string(path).await.map_err(|_| {
                        CloudError::Config("the container authorisation token file cannot be read")
                    })?)
                }
            };
            request = request.header(
                reqwest::header::AUTHORIZATION,
                http::secret_header(
                    value.trim(),
                    "the container authorisation token cannot be sent in a header",
                )?,
            );
        }
        let response = request
            .send()
            .await
            .map_err(|e| http::transport(SERVICE, e))?;
        let status = response.status();
        let answer = http::read_body(response, SERVICE).await?;
        if !status.is_success() {
            return Err(CloudError::Http {
                service: SERVICE.to_owned(),
                status: status.as_u16(),
                code: None,
            });
        }
        json_credentials(SERVICE, &answer)
    }

    async fn instance(&self, endpoint: &Url) -> Result<(AwsCredentials, Option<i64>), CloudError> {
        const SERVICE: &str = "instance-metadata";
        let at = |path: &str| {
            endpoint
                .join(path)
                .map_err(|_| CloudError::Config("the metadata path cannot be joined"))
        };
        let checked = |response: reqwest::Response| async move {
            let status = response.status();
            let body = http::read_body(response, SERVICE).await?;
            if status.is_success() {
                Ok(body)
            } else {
                Err(CloudError::Http {
                    service: SERVICE.to_owned(),
                    status: status.as_u16(),
                    code: None,
                })
            }
        };
        let token = checked(
            self.http
                .put(at("latest/api/token")?)
                .header("x-aws-ec2-metadata-token-ttl-seconds", IMDS_TOKEN_TTL_S)
                .timeout(LOCAL_TIMEOUT)
                .send()
                .await
                .map_err(|e| http::transport(SERVICE, e))?,
        )
        .await?;
        let token = std::str::from_utf8(&token)
            .map_err(|_| malformed(SERVICE, "the session token is not text"))?;
        let token = http::secret_header(
            token.trim(),
            "the metadata session token cannot be sent in a header",
        )?;
        let base = "latest/meta-data/iam/security-credentials/";
        let roles = checked(
            self.http
                .get(at(base)?)
                .header("x-aws-ec2-metadata-token", token.clone())
                .timeout(LOCAL_TIMEOUT)
                .send()
                .await
                .map_err(|e| http::transport(SERVICE, e))?,
        )
        .await?;
        let role = std::str::from_utf8(&roles)
            .ok()
            .and_then(|r| r.lines().next())
            .map(str::trim)
            .filter(|r| {
                !r.is_empty()
                    && r.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"+=,.@-_".contains(&b))
            })
            .ok_or_else(|| malformed(SERVICE, "the instance has no role"))?
            .to_owned();
        let answer = checked(
            self.http
                .get(at(&format!("{base}{role}"))?)
                .header("x-aws-ec2-metadata-token", token)
                .timeout(LOCAL_TIMEOUT)
                .send()
                .await
                .map_err(|e| http::transport(SERVICE, e))?,
        )
        .await?;
        json_credentials(SERVICE, &answer)
    }
}

/// The JSON the container endpoint and the metadata service answer with.
fn json_credentials(
    service: &str,
    answer: &[u8],
) -> Result<(AwsCredentials, Option<i64>), CloudError> {
    #[derive(Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct Answer {
        code: Option<String>,
        access_key_id: String,
        secret_access_key: String,
        token: Option<String>,
        expiration: Option<String>,
    }
    let answer: Answer = serde_json::from_slice(answer)
        .map_err(|_| malformed(service, "the credentials are not the expected JSON"))?;
    if answer.code.as_deref().is_some_and(|c| c != "Success") {
        return Err(malformed(service, "the credentials' code is not Success"));
    }
    let expires = answer
        .expiration
        .as_deref()
        .map(|t| iso8601_ms(t).ok_or_else(|| malformed(service, "the expiry is not a time")))
        .transpose()?;
    Ok((
        AwsCredentials {
            access_key_id: answer.access_key_id,
            secret_access_key: Secret::new(answer.secret_access_key),
            session_token: answer.token.map(Secret::new),
        },
        expires,
    ))
}

fn malformed(service: &str, what: &'static str) -> CloudError {
    CloudError::Malformed {
        service: service.to_owned(),
        what,
    }
}

/// `2026-12-06T18:30:00Z` (fractions of a second allowed and dropped, `Z` or `+00:00`) as
/// milliseconds since the epoch.
pub(crate) fn iso8601_ms(text: &str) -> Option<i64> {
    let text = text.trim();
    let text = text
        .strip_suffix('Z')
        .or_else(|| text.strip_suffix("+00:00"))?;
    let whole = text.split('.').next()?;
    let (date, time) = whole.split_once('T')?;
    if date.len() != 10 || time.len() != 8 {
        return None;
    }
    let basic = format!("{}T{}Z", date.replace('-', ""), time.replace(':', ""));
    AmzDate::parse(&basic).map(|d| d.unix_seconds() * 1000)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    #[test]
    fn the_chain_takes_the_first_source_configured() {
        let all = [
            ("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"),
            ("AWS_SECRET_ACCESS_KEY", "secret"),
            ("AWS_WEB_IDENTITY_TOKEN_FILE", "/var/run/token"),
            ("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/mhp"),
            (
                "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
                "/v2/credentials/abc",
            ),
        ];
        let source = CredentialSource::from_lookup(lookup(&all)).unwrap();
        assert_eq!(source.describe(), "environment");
        let source = CredentialSource::from_lookup(lookup(&all[2..])).unwrap();
        let CredentialSource::WebIdentity { session_name, .. } = &source else {
            panic!("{source:?}")
        };
        assert_eq!(session_name, "mhp");
        let source = CredentialSource::from_lookup(lookup(&all[4..])).unwrap();
        let CredentialSource::Container { url, token } = &source else {
            panic!("{source:?}")
        };
        assert_eq!(url.as_str(), "http://169.254.170.2/v2/credentials/abc");
        assert!(token.is_none());
        let source = CredentialSource::from_lookup(lookup(&[])).unwrap();
        let CredentialSource::InstanceMetadata { endpoint } = &source else {
            panic!("{source:?}")
        };
        assert_eq!(endpoint.as_str(), "http://169.254.169.254/");
        let disabled =
            CredentialSource::from_lookup(lookup(&[("AWS_EC2_METADATA_DISABLED", "true")]));
        assert!(disabled.is_err());
    }

    #[test]
    fn half_given_sources_are_refused_with_the_variable_named() {
        let err = CredentialSource::from_lookup(lookup(&[("AWS_ACCESS_KEY_ID", "AKID")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("AWS_SECRET_ACCESS_KEY"), "{err}");
        let err = CredentialSource::from_lookup(lookup(&[(
            "AWS_WEB_IDENTITY_TOKEN_FILE",
            "/var/run/token",
        )]))
        .unwrap_err()
        .to_string();
        assert!(err.contains("AWS_ROLE_ARN"), "{err}");
        let err = CredentialSource::from_lookup(lookup(&[(
            "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
            "v2/credentials",
        )]))
        .unwrap_err()
        .to_string();
        assert!(err.contains("start with /"), "{err}");
    }

    #[test]
    fn container_endpoints_stay_on_the_host_unless_https() {
        let full = |url: &str| {
            CredentialSource::from_lookup(lookup(&[("AWS_CONTAINER_CREDENTIALS_FULL_URI", url)]))
                .is_ok()
        };
        assert!(full("http://127.0.0.1:8080/creds"));
        assert!(full("http://169.254.170.23/v1/credentials"));
        assert!(full("http://[fd00:ec2::23]/v1/credentials"));
        assert!(full("https://creds.example.org/role"));
        assert!(!full("http://10.0.0.8/creds"));
        assert!(!full("http://169.254.169.254/latest/meta-data"));
        assert!(!full("https://user:pw@creds.example.org/"));
        let metadata = |url: &str| {
            CredentialSource::from_lookup(lookup(&[("AWS_EC2_METADATA_SERVICE_ENDPOINT", url)]))
                .is_ok()
        };
        assert!(metadata("http://169.254.169.254"));
        assert!(metadata("http://[fd00:ec2::254]"));
        assert!(metadata("http://127.0.0.1:9999"));
        assert!(!metadata("http://10.1.2.3"));
    }

    #[test]
    fn iso_times_read_as_milliseconds() {
        assert_eq!(iso8601_ms("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(iso8601_ms("2026-12-06T18:30:05Z"), Some(1_796_581_805_000));
        assert_eq!(
            iso8601_ms("2026-12-06T18:30:05.123Z"),
            iso8601_ms("2026-12-06T18:30:05+00:00")
        );
        assert_eq!(iso8601_ms("2026-12-06 18:30:05"), None);
        assert_eq!(iso8601_ms("2026-13-06T18:30:05Z"), None);
        assert_eq!(iso8601_ms("2026-12-06T18:30:05+02:00"), None);
    }

    #[test]
    fn fixed_credentials_never_expire() {
        let provider = CredentialProvider::fixed(AwsCredentials {
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: Secret::new("s".into()),
            session_token: None,
        })
        .unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let got = rt.block_on(provider.get()).unwrap();
        assert_eq!(got.access_key_id, "AKIDEXAMPLE");
        assert!(
            CredentialProvider::fixed(AwsCredentials {
                access_key_id: "AKID EXAMPLE".into(),
                secret_access_key: Secret::new("s".into()),
                session_token: None,
            })
            .is_err()
        );
    }
}
