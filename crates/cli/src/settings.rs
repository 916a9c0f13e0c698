//! Typed settings, read once: built-in defaults, then the TOML file (`--config` / `MHP_CONFIG`),
//! then `MHP_*` environment variables (and `DATABASE_URL`), then command-line flags. Every
//! problem is reported as one line naming the key.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// A setting that is wrong: which key, and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid configuration: {key}: {problem}")]
pub struct ConfigError {
    /// The key (`database.max_connections`) or variable (`MHP_LISTEN`) at fault.
    pub key: String,
    /// What is wrong, without repeating secret values.
    pub problem: String,
}

impl ConfigError {
    fn new(key: impl Into<String>, problem: impl Into<String>) -> Self {
        Self {
            key: key.into(),
            problem: problem.into(),
        }
    }
}

/// Everything MHP can be configured with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// `development` (the default) or `production`: in production `mhp serve` and `mhp worker`
    /// refuse to start on parts that live in one machine's data directory (the local key
    /// ring, the embedded key store, SQLite, the local object store).
    pub environment: String,
    /// Where the embedded defaults keep their files.
    pub data_dir: PathBuf,
    /// The HTTP listen address.
    pub listen: String,
    /// The system of record.
    pub database: DatabaseSettings,
    /// HTTP limits and shutdown.
    pub http: HttpSettings,
    /// Logging.
    pub log: LogSettings,
    /// Traces.
    pub telemetry: TelemetrySettings,
    /// The object store.
    pub object_store: ObjectStoreSettings,
    pub backup: BackupSettings,
    /// Key providers.
    pub keys: KeySettings,
    /// The audit log.
    pub audit: AuditSettings,
    /// AWS services.
    pub aws: AwsSettings,
    /// HashiCorp Vault.
    pub vault: VaultSettings,
    /// Sign-in.
    pub auth: AuthSettings,
    /// Requests to addresses tenants choose.
    pub egress: EgressSettings,
    /// The document index.
    pub index: IndexSettings,
    /// Pipeline workers.
    pub pipelines: PipelineSettings,
    /// Security monitoring: the SIEM sinks and the detection rules.
    pub security: SecuritySettings,
    /// Messages to people: the outbox, or an SMTP relay.
    pub mail: MailSettings,
    /// `database.url` resolved, when it is a `secret://` reference.
    #[serde(skip)]
    pub resolved_database_url: Option<mhp_domain::Secret<String>>,
}

/// `[database]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseSettings {
    /// `sqlite://...` or `postgres://...`; unset means a SQLite file in the data directory.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Most pooled connections.
    pub max_connections: u32,
    /// How long a request waits for a connection, in milliseconds.
    pub acquire_timeout_ms: u64,
    /// How long start-up keeps retrying an unreachable database, in seconds.
    pub startup_timeout_s: u64,
    /// Longest a statement may run (PostgreSQL), in seconds.
    pub statement_timeout_s: u64,
    /// Whether `serve` and `admin` apply pending migrations at start.
    pub auto_migrate: bool,
}

/// `[http]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpSettings {
    /// Largest request body, in bytes.
    pub body_limit_bytes: u64,
    /// Longest a request may take, in seconds.
    pub request_timeout_s: u64,
    /// How long readiness is off before the listener closes at shutdown, in milliseconds.
    pub drain_delay_ms: u64,
    /// How long in-flight requests get at shutdown, in seconds.
    pub shutdown_grace_s: u64,
    /// The address people and identity providers reach MHP at (`https://mhp.example.org`);
    /// unset means `http://` and the listen address. SSO redirect URIs are built from it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_url: Option<String>,
    /// Load balancers and proxies in front of MHP, as CIDRs (the VPC's range behind an AWS
    /// load balancer): their `X-Forwarded-For` names the client. None by default, so a client
    /// cannot choose the address that throttling, the audit log and monitoring record.
    pub trusted_proxies: Vec<String>,
}

/// `[index]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IndexSettings {
    /// `embedded` (a SQLite file in the data directory) or `opensearch`.
    pub backend: String,
    /// OpenSearch's address (`https://search.internal:9200`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub opensearch_url: Option<String>,
    /// Prefix of the index name (`<prefix>-assessments`).
    pub opensearch_prefix: String,
    /// OpenSearch user, when it asks for basic authentication.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub opensearch_username: Option<String>,
    /// Its password, as a `secret://` reference.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub opensearch_password: Option<String>,
    /// How requests authenticate: `none`, `basic` (the user and password above) or
    /// `aws-sigv4` (each request signed for service `es` with the `[aws]` credential chain: an
    /// IAM-only Amazon OpenSearch Service domain). Unset: `basic` when a user is set, else
    /// `none`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub opensearch_auth: Option<String>,
}

impl Default for IndexSettings {
    fn default() -> Self {
        Self {
            backend: "embedded".to_owned(),
            opensearch_url: None,
            opensearch_prefix: "mhp".to_owned(),
            opensearch_username: None,
            opensearch_password: None,
            opensearch_auth: None,
        }
    }
}

/// How requests to OpenSearch authenticate (`index.opensearch_auth`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenSearchAuthKind {
    /// Not at all.
    None,
    /// HTTP Basic with `opensearch_username` and `opensearch_password`.
    Basic,
    /// AWS Signature Version 4, service `es`.
    AwsSigV4,
}

impl IndexSettings {
    /// The authentication the settings ask for, checked against the user and password given.
    pub fn auth(&self) -> Result<OpenSearchAuthKind, ConfigError> {
        opensearch_auth_kind(
            "index",
            self.opensearch_auth.as_deref(),
            self.opensearch_username.is_some(),
            self.opensearch_password.is_some(),
        )
    }
}

/// The authentication `<section>.opensearch_auth` asks for: unset means `basic` when a user is
/// set, else `none`; `basic` needs a user and a password, the others neither.
pub fn opensearch_auth_kind(
    section: &str,
    auth: Option<&str>,
    user: bool,
    password: bool,
) -> Result<OpenSearchAuthKind, ConfigError> {
    let key = format!("{section}.opensearch_auth");
    let kind = match auth {
        None if user => OpenSearchAuthKind::Basic,
        None | Some("none") => OpenSearchAuthKind::None,
        Some("basic") => OpenSearchAuthKind::Basic,
        Some("aws-sigv4") => OpenSearchAuthKind::AwsSigV4,
        Some(_) => return Err(ConfigError::new(key, "must be none, basic or aws-sigv4")),
    };
    match kind {
        OpenSearchAuthKind::Basic if !(user && password) => Err(ConfigError::new(
            key,
            format!("basic needs {section}.opensearch_username and {section}.opensearch_password"),
        )),
        OpenSearchAuthKind::None | OpenSearchAuthKind::AwsSigV4 if user || password => {
            Err(ConfigError::new(
                key,
                format!(
                    "{section}.opensearch_username and _password are for basic authentication only"
                ),
            ))
        }
        _ => Ok(kind),
    }
}

/// `[pipelines]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PipelineSettings {
    /// Workers `mhp serve` runs in its own process (0: none; then run `mhp worker`).
    pub workers: u32,
    /// Lease of a claimed job, in seconds: a worker that stops beating loses its job after it.
    pub lease_s: u64,
    /// Poll interval of an idle worker, in milliseconds.
    pub poll_ms: u64,
    /// Where `mhp worker` serves `/metrics` (and `/healthz`), or `off`.
    pub metrics_listen: String,
}

impl Default for PipelineSettings {
    fn default() -> Self {
        Self {
            workers: 2,
            lease_s: 30,
            poll_ms: 1000,
            metrics_listen: "127.0.0.1:9464".to_owned(),
        }
    }
}

/// `[auth]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthSettings {
    /// Password-reset and invitation messages to one address per hour; past it, 429.
    pub mail_per_address_per_hour: u32,
    /// Invitations one organisation sends per hour; past it, 429.
    pub invitations_per_org_per_hour: u32,
}

impl Default for AuthSettings {
    fn default() -> Self {
        let limits = mhp_server::api::MailLimits::default();
        Self {
            mail_per_address_per_hour: limits.per_address_per_hour,
            invitations_per_org_per_hour: limits.invitations_per_org_per_hour,
        }
    }
}

/// `[egress]`: requests to addresses a tenant chooses (single sign-on providers). Every such
/// request goes through `mhp_egress`, which refuses loopback, private, link-local,
/// unique-local, multicast and other internal addresses, and plain http.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EgressSettings {
    /// Internal ranges MHP may connect to all the same, as CIDRs (`10.20.0.0/16` for an
    /// on-premises identity provider). None by default.
    pub allow_cidrs: Vec<String>,
    /// Allow plain http (tests and local development only; never on a deployed instance).
    pub allow_http: bool,
    /// The DNS server (`ip:port`) asked for the TXT records that prove an organisation owns an
    /// e-mail domain; empty: the system's resolvers (`/etc/resolv.conf`).
    pub dns_server: String,
}

impl EgressSettings {
    /// The policy these settings describe.
    pub fn policy(&self) -> Result<mhp_egress::EgressPolicy, ConfigError> {
        let allowed = mhp_egress::parse_cidrs(&self.allow_cidrs.join(","))
            .map_err(|e| ConfigError::new("egress.allow_cidrs", e.to_string()))?;
        Ok(mhp_egress::EgressPolicy::new(allowed, self.allow_http))
    }

    /// The DNS server named, if any.
    pub fn dns_server(&self) -> Result<Option<std::net::SocketAddr>, ConfigError> {
        let text = self.dns_server.trim();
        if text.is_empty() {
            return Ok(None);
        }
        text.parse().map(Some).map_err(|_| {
            ConfigError::new(
                "egress.dns_server",
                "must be an address and port, such as 10.0.0.2:53",
            )
        })
    }
}

/// `[mail]`: where invitations, password resets and alerts go: the outbox (`<data_dir>/outbox`,
/// one file per message; the default without `smtp_host`), an SMTP relay (the default with
/// `smtp_host`), or Amazon SES's API (`transport = "ses"`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MailSettings {
    /// `outbox`, `smtp` or `ses` (SES API version 2, with the `[aws]` region, endpoint and
    /// credentials; builds with the `aws` feature). Unset: `smtp` when `smtp_host` is set,
    /// else `outbox`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transport: Option<MailTransport>,
    /// The SES configuration set messages are sent with (its TLS policy, suppression list and
    /// event destinations), for `ses`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ses_configuration_set: Option<String>,
    /// The relay's host name (Amazon SES: `email-smtp.<region>.amazonaws.com`).
    pub smtp_host: Option<String>,
    /// Its port; default 465 for `implicit`, 587 for `starttls`, 25 for `none`.
    pub smtp_port: Option<u16>,
    /// `starttls` (required, the default), `implicit` (TLS from the first byte), or `none`
    /// (a relay on the same host or tests; refused in production).
    pub smtp_tls: String,
    /// The user the relay wants, if any.
    pub smtp_username: Option<String>,
    /// Its password, as a `secret://` reference.
    pub smtp_password: Option<String>,
    /// A certificate authority (PEM file) to trust besides the Mozilla roots, for a relay
    /// with a certificate of the organisation's own authority.
    pub smtp_ca_file: Option<PathBuf>,
    /// The sender: `MHP <no-reply@example.org>` or a bare address (required with `smtp_host`).
    pub from: Option<String>,
}

/// How messages to people leave.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MailTransport {
    /// Files in `<data_dir>/outbox`.
    Outbox,
    /// The relay of `smtp_host`.
    Smtp,
    /// Amazon SES's `SendEmail`.
    Ses,
}

impl Default for MailSettings {
    fn default() -> Self {
        Self {
            transport: None,
            ses_configuration_set: None,
            smtp_host: None,
            smtp_port: None,
            smtp_tls: "starttls".to_owned(),
            smtp_username: None,
            smtp_password: None,
            smtp_ca_file: None,
            from: None,
        }
    }
}

impl MailSettings {
    /// How the relay is reached, as the settings say.
    pub fn tls(&self) -> Result<mhp_app::notify::SmtpTls, ConfigError> {
        match self.smtp_tls.as_str() {
            "starttls" => Ok(mhp_app::notify::SmtpTls::StartTls),
            "implicit" => Ok(mhp_app::notify::SmtpTls::Implicit),
            "none" => Ok(mhp_app::notify::SmtpTls::None),
            _ => Err(ConfigError::new(
                "mail.smtp_tls",
                "must be starttls, implicit or none",
            )),
        }
    }

    /// The transport the settings choose.
    pub fn transport(&self) -> MailTransport {
        self.transport.unwrap_or(if self.smtp_host.is_some() {
            MailTransport::Smtp
        } else {
            MailTransport::Outbox
        })
    }

    fn validate(&self, production: bool) -> Result<(), ConfigError> {
        let tls = self.tls()?;
        let transport = self.transport();
        if transport != MailTransport::Ses && self.ses_configuration_set.is_some() {
            return Err(ConfigError::new(
                "mail.ses_configuration_set",
                "is for mail.transport = \"ses\"",
            ));
        }
        match transport {
            MailTransport::Outbox => {
                return if self.smtp_host.is_some() {
                    Err(ConfigError::new(
                        "mail.smtp_host",
                        "is for mail.transport = \"smtp\" (the outbox was chosen)",
                    ))
                } else {
                    Ok(())
                };
            }
            MailTransport::Ses => {
                if self.smtp_host.is_some() || self.smtp_username.is_some() {
                    return Err(ConfigError::new(
                        "mail.smtp_host",
                        "is for mail.transport = \"smtp\" (SES is reached by its API, with the [aws] credentials)",
                    ));
                }
                if let Some(set) = &self.ses_configuration_set
                    && (set.is_empty()
                        || set.len() > 64
                        || !set
                            .bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
                {
                    return Err(ConfigError::new(
                        "mail.ses_configuration_set",
                        "must be 1-64 letters, digits, - and _",
                    ));
                }
                return self.need_sender("ses");
            }
            MailTransport::Smtp => {}
        }
        let Some(host) = self.smtp_host.as_deref() else {
            return Err(ConfigError::new(
                "mail.smtp_host",
                "is needed with mail.transport = \"smtp\"",
            ));
        };
        if host.trim().is_empty() || host.contains(['/', ' ', '@']) {
            return Err(ConfigError::new(
                "mail.smtp_host",
                "must be a host name or address",
            ));
        }
        self.need_sender("smtp")?;
        if self.smtp_username.is_some() != self.smtp_password.is_some() {
            return Err(ConfigError::new(
                "mail.smtp_password",
                "mail.smtp_username and mail.smtp_password go together",
            ));
        }
        if production && tls == mhp_app::notify::SmtpTls::None {
            return Err(ConfigError::new(
                "mail.smtp_tls",
                "none is refused in production (messages carry sign-in links)",
            ));
        }
        Ok(())
    }

    fn need_sender(&self, transport: &str) -> Result<(), ConfigError> {
        if self.from.as_deref().is_none_or(|f| f.trim().is_empty()) {
            return Err(ConfigError::new(
                "mail.from",
                format!("is needed with mail.transport = \"{transport}\" (the sender's address)"),
            ));
        }
        Ok(())
    }
}

/// `[log]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogSettings {
    /// A tracing filter: `info`, `debug`, `info,mhp=debug`.
    pub level: String,
    /// `auto` (the default: `pretty` when standard error is a terminal, else `json`), `json`
    /// (one object a line) or `pretty`.
    pub format: LogFormat,
}

/// `[telemetry]`: OpenTelemetry traces.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TelemetrySettings {
    /// A collector's OTLP/HTTP traces URL, used as given (`http://127.0.0.1:4318/v1/traces`):
    /// spans of requests, database transactions, object-store calls and pipeline steps are
    /// sent there. Unset: none are. Needs a build with the `otel` feature.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub otlp_endpoint: Option<String>,
    /// Share of new traces sampled, 0 to 1; a request that brings a `traceparent` keeps its
    /// caller's decision.
    pub sample_ratio: f64,
}

impl Default for TelemetrySettings {
    fn default() -> Self {
        Self {
            otlp_endpoint: None,
            sample_ratio: 1.0,
        }
    }
}

impl TelemetrySettings {
    fn validate(&self) -> Result<(), ConfigError> {
        if !(0.0..=1.0).contains(&self.sample_ratio) {
            return Err(ConfigError::new(
                "telemetry.sample_ratio",
                "must be between 0 and 1",
            ));
        }
        let Some(endpoint) = &self.otlp_endpoint else {
            return Ok(());
        };
        if !mhp_telemetry::ENABLED {
            return Err(ConfigError::new(
                "telemetry.otlp_endpoint",
                "needs a build with the otel feature",
            ));
        }
        let authority = endpoint
            .strip_prefix("http://")
            .or_else(|| endpoint.strip_prefix("https://"))
            .map(|rest| rest.split('/').next().unwrap_or_default());
        let valid = authority.is_some_and(|a| !a.is_empty() && !a.contains('@'))
            && !endpoint.contains(char::is_whitespace);
        if !valid {
            return Err(ConfigError::new(
                "telemetry.otlp_endpoint",
                "must be an http or https URL such as http://127.0.0.1:4318/v1/traces",
            ));
        }
        Ok(())
    }
}

/// How log lines look.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable on a terminal, JSON otherwise (a container, a file, a pipe).
    Auto,
    /// One JSON object a line, for machines.
    Json,
    /// Human-readable.
    Pretty,
}

/// `[object_store]`: raw recordings, model artifacts, audit archives.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ObjectStoreSettings {
    /// `local` (a directory: the embedded default) or `s3` (builds with the `aws` feature; the
    /// region, endpoint and credentials are those of `[aws]`).
    pub backend: ObjectBackend,
    /// The local directory; unset means `objects` in the data directory.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<PathBuf>,
    /// The S3 bucket.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bucket: Option<String>,
    /// A folder in the bucket under which every key goes (`mhp/eu-west-1`), so installations
    /// can share a bucket; unset means the bucket's top.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
    /// The KMS key S3 encrypts objects under (id, ARN or alias); unset means the account's
    /// `aws/s3` key. Objects are always stored with SSE-KMS, on top of MHP's own sealing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kms_key_id: Option<String>,
}

/// An S3 bucket name that works virtual-hosted over TLS and path-style: 3 to 63 lower-case
/// letters, digits and inner dashes.
fn is_bucket_name(bucket: &str) -> bool {
    (3..=63).contains(&bucket.len())
        && !bucket.starts_with('-')
        && !bucket.ends_with('-')
        && bucket
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// Folders of letters, digits, `.`, `_` and `-` joined by `/` (no empty, `.` or `..` one).
fn is_prefix(prefix: &str) -> bool {
    prefix.len() <= 200
        && prefix.split('/').all(|seg| {
            !seg.is_empty()
                && seg != "."
                && seg != ".."
                && seg
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        })
}

/// Where backups go: a directory, or an S3 bucket and prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BackupDestination {
    /// A local (or mounted) directory.
    Dir(PathBuf),
    /// `s3://bucket/prefix`.
    S3 {
        /// The bucket.
        bucket: String,
        /// Folders under which everything goes; may be empty.
        prefix: String,
    },
}

impl BackupDestination {
    /// Reads `s3://BUCKET[/PREFIX]` or a directory path.
    pub fn parse(text: &str) -> Result<Self, String> {
        if let Some(rest) = text.strip_prefix("s3://") {
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            let prefix = prefix.trim_end_matches('/');
            if !is_bucket_name(bucket) || !(prefix.is_empty() || is_prefix(prefix)) {
                return Err(
                    "must be s3://BUCKET/PREFIX (a bucket of lower-case letters, digits and \
                     dashes; folders of letters, digits, '.', '_' and '-') or a directory"
                        .to_owned(),
                );
            }
            return Ok(Self::S3 {
                bucket: bucket.to_owned(),
                prefix: prefix.to_owned(),
            });
        }
        if text.contains("://") {
            return Err("must be a directory or s3://BUCKET/PREFIX".to_owned());
        }
        if text.is_empty() {
            return Err("must not be empty".to_owned());
        }
        Ok(Self::Dir(PathBuf::from(text)))
    }

    /// As written in logs and records.
    pub fn label(&self) -> String {
        match self {
            Self::Dir(dir) => dir.display().to_string(),
            Self::S3 { bucket, prefix } if prefix.is_empty() => format!("s3://{bucket}/"),
            Self::S3 { bucket, prefix } => format!("s3://{bucket}/{prefix}/"),
        }
    }
}

/// Where objects live.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ObjectBackend {
    /// A directory of this machine.
    #[default]
    Local,
    /// An S3 bucket every instance shares.
    S3,
}

/// `[backup]`: where `mhp backup` writes and how many backups it keeps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BackupSettings {
    /// Where backups of the system of record and the objects go: a directory, or
    /// `s3://BUCKET/PREFIX` (builds with the `aws` feature); unset means `backups` in the data
    /// directory, which survives no loss of the machine.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    /// Where backups of the key store go, apart from the data's; unset means `key-backups`
    /// in the data directory.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keys_to: Option<String>,
    /// When `mhp serve` backs up the embedded database, the objects and the key store, then
    /// prunes: a 5-field cron expression in UTC, or `off`. One instance takes each time.
    pub schedule: String,
    /// Keep the newest backup of each of this many days…
    pub daily: u32,
    /// …weeks…
    pub weekly: u32,
    /// …and months.
    pub monthly: u32,
}

impl Default for BackupSettings {
    fn default() -> Self {
        Self {
            to: None,
            keys_to: None,
            schedule: "30 2 * * *".to_owned(),
            daily: 7,
            weekly: 4,
            monthly: 12,
        }
    }
}

/// `[keys]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KeySettings {
    /// The local master key file (root of keys derived per purpose); unset means `master.key`
    /// in the data directory.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub master_key_file: Option<PathBuf>,
    /// Who holds the master key that wraps organisation keys: `local` (key files in
    /// `keyring_dir`), `aws-kms` or `vault-transit` (builds with those cargo features).
    pub provider: String,
    /// The local key ring's directory; unset means `keyring` in the data directory.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keyring_dir: Option<PathBuf>,
    /// The key store (wrapped data keys), kept apart from the system of record so its
    /// backups never carry keys; unset means `keys.sqlite` in the data directory. Several
    /// instances on PostgreSQL must share one: point it at a database of its own.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub store_url: Option<String>,
    /// How long unwrapped data keys stay in memory, in seconds (also how long a key destroyed
    /// by another instance may still open on this one).
    pub cache_ttl_s: u64,
    /// How often the background job re-wraps keys onto the newest versions, in seconds.
    pub rewrap_interval_s: u64,
    /// AWS KMS key (id, ARN or alias) for `aws-kms`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kms_key_id: Option<String>,
    /// The master version `kms_key_id` wraps as (`aws-kms`): 1 unless the installation moved
    /// to another KMS key, which then wraps as the next version.
    pub kms_key_version: u32,
    /// Earlier KMS keys that still unwrap what they wrapped, as `VERSION=KEY` (`aws-kms`):
    /// kept until `mhp keys rewrap` has moved everything onto `kms_key_id` (and as long as a
    /// backup wrapped by them may be restored).
    pub kms_previous_key_ids: Vec<String>,
    /// Transit key name for `vault-transit`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vault_transit_key: Option<String>,
}

impl Default for KeySettings {
    fn default() -> Self {
        Self {
            master_key_file: None,
            provider: "local".to_owned(),
            keyring_dir: None,
            store_url: None,
            cache_ttl_s: 300,
            rewrap_interval_s: 600,
            kms_key_id: None,
            kms_key_version: 1,
            kms_previous_key_ids: Vec::new(),
            vault_transit_key: None,
        }
    }
}

/// `[audit]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuditSettings {
    /// How long audit events are kept before `mhp audit prune` may archive and remove them, in
    /// days: at least 2190 (six years, as HIPAA expects of documentation), which the database
    /// enforces whatever this says.
    pub retention_days: u64,
}

impl Default for AuditSettings {
    fn default() -> Self {
        Self {
            retention_days: 2190,
        }
    }
}

/// `[security]`: security monitoring (C8). Every security event is written in OCSF to the
/// JSON-lines sink and evaluated by the detection rules.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SecuritySettings {
    /// Whether `mhp serve` ships security events and runs the detection rules. Only for
    /// measuring what monitoring costs (`scripts/bench-siem.sh`): the compliance checks
    /// report it off as a failure; events stay in the outbox meanwhile.
    pub monitor: bool,
    /// Where the JSON-lines sink writes `security-events.jsonl`; empty: `<data_dir>/security`.
    pub events_dir: String,
    /// The size at which the sink's file is rotated, in MiB (it is rotated daily as well).
    pub events_max_mb: u64,
    /// A rule pack replacing the shipped one (TOML, `[[rule]]` tables); empty: the shipped
    /// pack.
    pub rules_file: String,
    /// Tuning of single rules by id: `enabled`, `window_s`, `threshold`, `distinct`, `idle_s`.
    pub rules: std::collections::BTreeMap<String, mhp_security::rules::Tuning>,
    /// How often the monitor ships and evaluates, in milliseconds.
    pub interval_ms: u64,
    /// An OpenSearch cluster that also receives every security event (the SIEM; index
    /// `<opensearch_prefix>-security-events`, one document per event, id = its uid). Empty:
    /// none.
    pub opensearch_url: String,
    /// Prefix of the security-event index.
    pub opensearch_prefix: String,
    /// `none`, `basic` or `aws-sigv4`, as `index.opensearch_auth`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub opensearch_auth: Option<String>,
    /// The user for basic authentication.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub opensearch_username: Option<String>,
    /// Its password, as a `secret://` reference.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub opensearch_password: Option<String>,
    /// A CloudWatch Logs group that also receives every security event (one OCSF event per log
    /// event; builds with the `aws` feature, the `[aws]` region and credentials). The group is
    /// the deployment's; each instance writes its own stream. Empty: none.
    pub cloudwatch_log_group: String,
    /// A syslog receiver (`host:port`) that also receives every security event: RFC 5424
    /// messages over TLS (RFC 5425), for Wazuh managers and other SIEMs. Empty: none.
    pub syslog_address: String,
    /// A PEM file of the CA that signed the syslog receiver's certificate, trusted beside the
    /// public roots (a private CA).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub syslog_ca_file: Option<PathBuf>,
    /// Where alerts are posted as they are raised, signed in the Standard Webhooks form (one
    /// POST per alert, its OCSF Detection Finding as the body; through the egress policy).
    /// Empty: none.
    pub webhook_url: String,
    /// The webhook's signing secret (`whsec_…`), as a `secret://` reference.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub webhook_secret: Option<String>,
    /// Addresses every alert is mailed to through the notifier (the outbox by default).
    pub alert_emails: Vec<String>,
    /// How often the whole audit log is verified (and an alert raised when it fails), in
    /// seconds; also once at start.
    pub verify_interval_s: u64,
}

impl Default for SecuritySettings {
    fn default() -> Self {
        Self {
            monitor: true,
            events_dir: String::new(),
            events_max_mb: 100,
            rules_file: String::new(),
            rules: std::collections::BTreeMap::new(),
            interval_ms: 1000,
            opensearch_url: String::new(),
            opensearch_prefix: "mhp".to_owned(),
            opensearch_auth: None,
            opensearch_username: None,
            opensearch_password: None,
            cloudwatch_log_group: String::new(),
            syslog_address: String::new(),
            syslog_ca_file: None,
            webhook_url: String::new(),
            webhook_secret: None,
            alert_emails: Vec::new(),
            verify_interval_s: 86_400,
        }
    }
}

impl SecuritySettings {
    /// The rule pack: the shipped one or the operator's file, with the tuning applied.
    pub fn rule_pack(&self) -> Result<mhp_security::rules::RulePack, ConfigError> {
        let pack = if self.rules_file.is_empty() {
            mhp_security::rules::RulePack::parse(mhp_security::rules::SHIPPED)
        } else {
            let text = std::fs::read_to_string(&self.rules_file).map_err(|e| {
                ConfigError::new(
                    "security.rules_file",
                    format!("cannot read it: {}", e.kind()),
                )
            })?;
            mhp_security::rules::RulePack::parse(&text)
        }
        .map_err(|e| ConfigError::new("security.rules_file", e.to_string()))?;
        pack.tune(&self.rules)
            .map_err(|e| ConfigError::new("security.rules", e.to_string()))
    }

    /// The JSON-lines sink's directory.
    pub fn events_dir(&self, data_dir: &std::path::Path) -> PathBuf {
        if self.events_dir.is_empty() {
            data_dir.join("security")
        } else {
            PathBuf::from(&self.events_dir)
        }
    }
}

/// `[aws]`: the AWS services of builds with the `aws` feature (KMS, Secrets Manager, SSM).
/// Credentials come from `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AwsSettings {
    /// The region (else `AWS_REGION`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// An endpoint for every AWS service (VPC endpoints, tests); path `/`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
}

/// `[vault]`: HashiCorp Vault for builds with the `vault` feature (Transit, KV).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct VaultSettings {
    /// Vault's address (`https://vault.internal:8200`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub addr: Option<String>,
    /// The token, as a `secret://env/…` or `secret://file/…` reference (never the token).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// The namespace (Vault Enterprise, HCP).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            environment: "development".to_owned(),
            data_dir: PathBuf::from("./mhp-data"),
            listen: "127.0.0.1:8080".to_owned(),
            database: DatabaseSettings::default(),
            http: HttpSettings::default(),
            log: LogSettings::default(),
            telemetry: TelemetrySettings::default(),
            object_store: ObjectStoreSettings::default(),
            backup: BackupSettings::default(),
            keys: KeySettings::default(),
            audit: AuditSettings::default(),
            aws: AwsSettings::default(),
            vault: VaultSettings::default(),
            auth: AuthSettings::default(),
            egress: EgressSettings::default(),
            index: IndexSettings::default(),
            pipelines: PipelineSettings::default(),
            security: SecuritySettings::default(),
            mail: MailSettings::default(),
            resolved_database_url: None,
        }
    }
}

impl Default for DatabaseSettings {
    fn default() -> Self {
        Self {
            url: None,
            max_connections: 10,
            acquire_timeout_ms: 5_000,
            startup_timeout_s: 30,
            statement_timeout_s: 30,
            auto_migrate: true,
        }
    }
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            body_limit_bytes: 64 * 1024 * 1024,
            request_timeout_s: 60,
            drain_delay_ms: 2_000,
            shutdown_grace_s: 20,
            public_url: None,
            trusted_proxies: Vec::new(),
        }
    }
}

impl Default for LogSettings {
    fn default() -> Self {
        Self {
            level: "info,sqlx=warn".to_owned(),
            format: LogFormat::Auto,
        }
    }
}

/// How a variable's text becomes a TOML value.
#[derive(Debug, Clone, Copy)]
enum Kind {
    Text,
    Integer,
    /// A decimal number.
    Number,
    Boolean,
    /// Comma-separated values.
    List,
}

/// The environment variables MHP reads, and the key each one sets. `MHP_CONFIG` names the file.
const ENV: &[(&str, &str, Kind)] = &[
    ("MHP_ENVIRONMENT", "environment", Kind::Text),
    ("MHP_DATA_DIR", "data_dir", Kind::Text),
    ("MHP_LISTEN", "listen", Kind::Text),
    ("DATABASE_URL", "database.url", Kind::Text),
    ("MHP_DATABASE_URL", "database.url", Kind::Text),
    (
        "MHP_DATABASE_MAX_CONNECTIONS",
        "database.max_connections",
        Kind::Integer,
    ),
    (
        "MHP_DATABASE_ACQUIRE_TIMEOUT_MS",
        "database.acquire_timeout_ms",
        Kind::Integer,
    ),
    (
        "MHP_DATABASE_STARTUP_TIMEOUT_S",
        "database.startup_timeout_s",
        Kind::Integer,
    ),
    (
        "MHP_DATABASE_STATEMENT_TIMEOUT_S",
        "database.statement_timeout_s",
        Kind::Integer,
    ),
    (
        "MHP_DATABASE_AUTO_MIGRATE",
        "database.auto_migrate",
        Kind::Boolean,
    ),
    (
        "MHP_HTTP_BODY_LIMIT_BYTES",
        "http.body_limit_bytes",
        Kind::Integer,
    ),
    (
        "MHP_HTTP_REQUEST_TIMEOUT_S",
        "http.request_timeout_s",
        Kind::Integer,
    ),
    ("MHP_HTTP_PUBLIC_URL", "http.public_url", Kind::Text),
    ("MHP_INDEX_BACKEND", "index.backend", Kind::Text),
    ("MHP_PIPELINES_WORKERS", "pipelines.workers", Kind::Integer),
    ("MHP_PIPELINES_LEASE_S", "pipelines.lease_s", Kind::Integer),
    ("MHP_PIPELINES_POLL_MS", "pipelines.poll_ms", Kind::Integer),
    (
        "MHP_INDEX_OPENSEARCH_URL",
        "index.opensearch_url",
        Kind::Text,
    ),
    (
        "MHP_INDEX_OPENSEARCH_AUTH",
        "index.opensearch_auth",
        Kind::Text,
    ),
    (
        "MHP_AUTH_MAIL_PER_ADDRESS_PER_HOUR",
        "auth.mail_per_address_per_hour",
        Kind::Integer,
    ),
    (
        "MHP_AUTH_INVITATIONS_PER_ORG_PER_HOUR",
        "auth.invitations_per_org_per_hour",
        Kind::Integer,
    ),
    ("MHP_EGRESS_ALLOW_CIDRS", "egress.allow_cidrs", Kind::List),
    ("MHP_EGRESS_ALLOW_HTTP", "egress.allow_http", Kind::Boolean),
    ("MHP_EGRESS_DNS_SERVER", "egress.dns_server", Kind::Text),
    ("MHP_SECURITY_MONITOR", "security.monitor", Kind::Boolean),
    ("MHP_SECURITY_EVENTS_DIR", "security.events_dir", Kind::Text),
    (
        "MHP_SECURITY_OPENSEARCH_URL",
        "security.opensearch_url",
        Kind::Text,
    ),
    (
        "MHP_SECURITY_OPENSEARCH_AUTH",
        "security.opensearch_auth",
        Kind::Text,
    ),
    (
        "MHP_SECURITY_CLOUDWATCH_LOG_GROUP",
        "security.cloudwatch_log_group",
        Kind::Text,
    ),
    (
        "MHP_SECURITY_SYSLOG_ADDRESS",
        "security.syslog_address",
        Kind::Text,
    ),
    (
        "MHP_SECURITY_SYSLOG_CA_FILE",
        "security.syslog_ca_file",
        Kind::Text,
    ),
    (
        "MHP_SECURITY_WEBHOOK_URL",
        "security.webhook_url",
        Kind::Text,
    ),
    (
        "MHP_SECURITY_WEBHOOK_SECRET",
        "security.webhook_secret",
        Kind::Text,
    ),
    ("MHP_MAIL_TRANSPORT", "mail.transport", Kind::Text),
    (
        "MHP_MAIL_SES_CONFIGURATION_SET",
        "mail.ses_configuration_set",
        Kind::Text,
    ),
    ("MHP_MAIL_SMTP_HOST", "mail.smtp_host", Kind::Text),
    ("MHP_MAIL_SMTP_PORT", "mail.smtp_port", Kind::Integer),
    ("MHP_MAIL_SMTP_TLS", "mail.smtp_tls", Kind::Text),
    ("MHP_MAIL_SMTP_USERNAME", "mail.smtp_username", Kind::Text),
    ("MHP_MAIL_SMTP_PASSWORD", "mail.smtp_password", Kind::Text),
    ("MHP_MAIL_SMTP_CA_FILE", "mail.smtp_ca_file", Kind::Text),
    ("MHP_MAIL_FROM", "mail.from", Kind::Text),
    (
        "MHP_SECURITY_ALERT_EMAILS",
        "security.alert_emails",
        Kind::List,
    ),
    (
        "MHP_HTTP_TRUSTED_PROXIES",
        "http.trusted_proxies",
        Kind::List,
    ),
    ("MHP_SECURITY_RULES_FILE", "security.rules_file", Kind::Text),
    (
        "MHP_SECURITY_INTERVAL_MS",
        "security.interval_ms",
        Kind::Integer,
    ),
    (
        "MHP_SECURITY_VERIFY_INTERVAL_S",
        "security.verify_interval_s",
        Kind::Integer,
    ),
    (
        "MHP_HTTP_DRAIN_DELAY_MS",
        "http.drain_delay_ms",
        Kind::Integer,
    ),
    (
        "MHP_HTTP_SHUTDOWN_GRACE_S",
        "http.shutdown_grace_s",
        Kind::Integer,
    ),
    ("MHP_LOG_LEVEL", "log.level", Kind::Text),
    ("MHP_LOG_FORMAT", "log.format", Kind::Text),
    (
        "MHP_TELEMETRY_OTLP_ENDPOINT",
        "telemetry.otlp_endpoint",
        Kind::Text,
    ),
    (
        "MHP_TELEMETRY_SAMPLE_RATIO",
        "telemetry.sample_ratio",
        Kind::Number,
    ),
    (
        "MHP_PIPELINES_METRICS_LISTEN",
        "pipelines.metrics_listen",
        Kind::Text,
    ),
    ("MHP_BACKUP_TO", "backup.to", Kind::Text),
    ("MHP_BACKUP_KEYS_TO", "backup.keys_to", Kind::Text),
    ("MHP_BACKUP_SCHEDULE", "backup.schedule", Kind::Text),
    ("MHP_BACKUP_DAILY", "backup.daily", Kind::Integer),
    ("MHP_BACKUP_WEEKLY", "backup.weekly", Kind::Integer),
    ("MHP_BACKUP_MONTHLY", "backup.monthly", Kind::Integer),
    (
        "MHP_OBJECT_STORE_BACKEND",
        "object_store.backend",
        Kind::Text,
    ),
    ("MHP_OBJECT_STORE_PATH", "object_store.path", Kind::Text),
    ("MHP_OBJECT_STORE_BUCKET", "object_store.bucket", Kind::Text),
    ("MHP_OBJECT_STORE_PREFIX", "object_store.prefix", Kind::Text),
    (
        "MHP_OBJECT_STORE_KMS_KEY_ID",
        "object_store.kms_key_id",
        Kind::Text,
    ),
    ("MHP_KEYS_PROVIDER", "keys.provider", Kind::Text),
    ("MHP_KEYS_STORE_URL", "keys.store_url", Kind::Text),
    ("MHP_KEYS_KEYRING_DIR", "keys.keyring_dir", Kind::Text),
    ("MHP_KEYS_CACHE_TTL_S", "keys.cache_ttl_s", Kind::Integer),
    (
        "MHP_KEYS_REWRAP_INTERVAL_S",
        "keys.rewrap_interval_s",
        Kind::Integer,
    ),
    ("MHP_KEYS_KMS_KEY_ID", "keys.kms_key_id", Kind::Text),
    (
        "MHP_KEYS_KMS_KEY_VERSION",
        "keys.kms_key_version",
        Kind::Integer,
    ),
    (
        "MHP_KEYS_KMS_PREVIOUS_KEY_IDS",
        "keys.kms_previous_key_ids",
        Kind::List,
    ),
    (
        "MHP_AUDIT_RETENTION_DAYS",
        "audit.retention_days",
        Kind::Integer,
    ),
    ("MHP_AWS_REGION", "aws.region", Kind::Text),
    ("MHP_AWS_ENDPOINT", "aws.endpoint", Kind::Text),
    ("MHP_VAULT_ADDR", "vault.addr", Kind::Text),
    ("MHP_VAULT_TOKEN", "vault.token", Kind::Text),
    ("MHP_VAULT_NAMESPACE", "vault.namespace", Kind::Text),
    (
        "MHP_KEYS_VAULT_TRANSIT_KEY",
        "keys.vault_transit_key",
        Kind::Text,
    ),
    (
        "MHP_KEYS_MASTER_KEY_FILE",
        "keys.master_key_file",
        Kind::Text,
    ),
];

/// Variables with the `MHP_` prefix that are not settings but are known.
const OTHER_KNOWN: &[&str] = &["MHP_CONFIG"];

/// Every environment variable MHP reads, with the setting it sets (`MHP_CONFIG` names the file).
pub fn env_vars() -> impl Iterator<Item = (&'static str, &'static str)> {
    ENV.iter()
        .map(|(var, key, _)| (*var, *key))
        .chain(OTHER_KNOWN.iter().map(|var| (*var, "(the settings file)")))
}

/// Flags given on the command line; they win over everything else.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// `--data-dir`
    pub data_dir: Option<PathBuf>,
    /// `--listen`
    pub listen: Option<String>,
}

/// What loading produced besides the settings: warnings to show once logging is up.
#[derive(Debug, Clone, Default)]
pub struct LoadNotes {
    /// Unknown `MHP_*` variables, probably typos.
    pub unknown_env: Vec<String>,
}

impl Settings {
    /// The pipeline workers' behaviour (heartbeat at a third of the lease).
    pub fn worker_config(&self) -> mhp_pipelines::WorkerConfig {
        let lease = std::time::Duration::from_secs(self.pipelines.lease_s);
        mhp_pipelines::WorkerConfig {
            lease,
            heartbeat: lease / 3,
            poll: std::time::Duration::from_millis(self.pipelines.poll_ms),
            ..mhp_pipelines::WorkerConfig::new(mhp_pipelines::engine::default_worker_name())
        }
    }

    /// Loads and validates the settings from a file (if any), an environment and flags.
    pub fn load(
        file: Option<&Path>,
        env: &BTreeMap<String, String>,
        flags: &Overrides,
    ) -> Result<(Self, LoadNotes), ConfigError> {
        let mut table = match file {
            Some(path) => read_file(path)?,
            None => toml::Table::new(),
        };
        let mut notes = LoadNotes::default();
        // DATABASE_URL comes before MHP_DATABASE_URL in ENV, so the latter wins.
        for (var, key, kind) in ENV {
            if let Some(text) = env.get(*var) {
                set_key(&mut table, key, to_value(var, text, *kind)?);
            }
        }
        for var in env.keys() {
            let known = ENV.iter().any(|(v, _, _)| v == var) || OTHER_KNOWN.contains(&var.as_str());
            if var.starts_with("MHP_") && !var.starts_with("MHP_TEST_") && !known {
                notes.unknown_env.push(var.clone());
            }
        }
        if let Some(dir) = &flags.data_dir {
            set_key(
                &mut table,
                "data_dir",
                toml::Value::String(dir.display().to_string()),
            );
        }
        if let Some(listen) = &flags.listen {
            set_key(&mut table, "listen", toml::Value::String(listen.clone()));
        }
        let mut settings: Settings = serde_path_to_error::deserialize(toml::Value::Table(table))
            .map_err(|e| {
                let key = e.path().to_string();
                // serde's message may quote the value; never do so for a key that can hold a
                // secret. Keep the first line (toml appends the key path on a second one).
                let problem = if key.contains("url") {
                    "has the wrong type (expected a URL string)".to_owned()
                } else {
                    let full = e.into_inner().to_string();
                    full.lines().next().unwrap_or_default().to_owned()
                };
                ConfigError::new(
                    if key == "." {
                        "(top level)".into()
                    } else {
                        key
                    },
                    problem,
                )
            })?;
        if let Some(url) = settings.database.url.as_deref()
            && mhp_crypto::secrets::SecretRef::is_reference(url)
        {
            let lookup = env.clone();
            let secrets = crate::cloud::secrets(
                &settings,
                std::time::Duration::ZERO,
                std::sync::Arc::new(move |n: &str| {
                    lookup.get(n).cloned().or_else(|| std::env::var(n).ok())
                }),
            )
            .map_err(|e| ConfigError::new("database.url", e))?;
            let value = secrets
                .resolve(url)
                .map_err(|e| ConfigError::new("database.url", e.to_string()))?;
            settings.resolved_database_url = Some(value);
        }
        settings.validate()?;
        Ok((settings, notes))
    }

    fn validate(&self) -> Result<(), ConfigError> {
        if !matches!(self.environment.as_str(), "development" | "production") {
            return Err(ConfigError::new(
                "environment",
                "must be development or production",
            ));
        }
        if self.data_dir.as_os_str().is_empty() {
            return Err(ConfigError::new("data_dir", "must not be empty"));
        }
        self.listen_addr()?;
        if self.database.url.is_some()
            && mhp_storage::Backend::from_url(&self.database_url()).is_err()
        {
            return Err(ConfigError::new(
                "database.url",
                "must start with sqlite:, postgres: or postgresql:",
            ));
        }
        let d = &self.database;
        if !(1..=1000).contains(&d.max_connections) {
            return Err(ConfigError::new(
                "database.max_connections",
                "must be between 1 and 1000",
            ));
        }
        for (key, v) in [
            ("database.acquire_timeout_ms", d.acquire_timeout_ms),
            ("database.statement_timeout_s", d.statement_timeout_s),
            ("http.request_timeout_s", self.http.request_timeout_s),
            ("http.body_limit_bytes", self.http.body_limit_bytes),
        ] {
            if v == 0 {
                return Err(ConfigError::new(key, "must be greater than 0"));
            }
        }
        if self.pipelines.workers > 64 {
            return Err(ConfigError::new(
                "pipelines.workers",
                "must be between 0 and 64",
            ));
        }
        if !(3..=3600).contains(&self.pipelines.lease_s) {
            return Err(ConfigError::new(
                "pipelines.lease_s",
                "must be between 3 and 3600",
            ));
        }
        if self.pipelines.metrics_listen != "off"
            && self
                .pipelines
                .metrics_listen
                .parse::<std::net::SocketAddr>()
                .is_err()
        {
            return Err(ConfigError::new(
                "pipelines.metrics_listen",
                "must be an address such as 127.0.0.1:9464, or off",
            ));
        }
        if !(10..=60_000).contains(&self.pipelines.poll_ms) {
            return Err(ConfigError::new(
                "pipelines.poll_ms",
                "must be between 10 and 60000",
            ));
        }
        match (self.index.backend.as_str(), &self.index.opensearch_url) {
            ("embedded", _) | ("opensearch", Some(_)) => {}
            ("opensearch", None) => {
                return Err(ConfigError::new(
                    "index.opensearch_url",
                    "is required when index.backend is opensearch",
                ));
            }
            _ => {
                return Err(ConfigError::new(
                    "index.backend",
                    "must be embedded or opensearch",
                ));
            }
        }
        self.index.auth()?;
        opensearch_auth_kind(
            "security",
            self.security.opensearch_auth.as_deref(),
            self.security.opensearch_username.is_some(),
            self.security.opensearch_password.is_some(),
        )?;
        self.telemetry.validate()?;
        self.validate_keys()?;
        self.validate_object_store()?;
        self.validate_backup()?;
        self.egress.policy()?;
        self.mail.validate(self.environment == "production")?;
        mhp_egress::parse_cidrs(&self.http.trusted_proxies.join(","))
            .map_err(|e| ConfigError::new("http.trusted_proxies", e.to_string()))?;
        self.security.rule_pack()?;
        if !(100..=60_000).contains(&self.security.interval_ms) {
            return Err(ConfigError::new(
                "security.interval_ms",
                "must be between 100 and 60000",
            ));
        }
        if !(1..=10_240).contains(&self.security.events_max_mb) {
            return Err(ConfigError::new(
                "security.events_max_mb",
                "must be between 1 and 10240",
            ));
        }
        if !(60..=604_800).contains(&self.security.verify_interval_s) {
            return Err(ConfigError::new(
                "security.verify_interval_s",
                "must be between 60 and 604800",
            ));
        }
        for (key, v) in [
            (
                "auth.mail_per_address_per_hour",
                self.auth.mail_per_address_per_hour,
            ),
            (
                "auth.invitations_per_org_per_hour",
                self.auth.invitations_per_org_per_hour,
            ),
        ] {
            if !(1..=10_000).contains(&v) {
                return Err(ConfigError::new(key, "must be between 1 and 10000"));
            }
        }
        if !(2190..=36_500).contains(&self.audit.retention_days) {
            return Err(ConfigError::new(
                "audit.retention_days",
                "must be between 2190 (six years, as HIPAA expects) and 36500",
            ));
        }
        if let Some(url) = &self.http.public_url {
            let ok = (url.starts_with("https://") || url.starts_with("http://"))
                && !url.ends_with('/')
                && !url.contains(['?', '#', ' ']);
            if !ok {
                return Err(ConfigError::new(
                    "http.public_url",
                    "must be an http(s) URL without a trailing slash, query or fragment",
                ));
            }
        }
        if self.http.body_limit_bytes > 4 * 1024 * 1024 * 1024 {
            return Err(ConfigError::new(
                "http.body_limit_bytes",
                "must be at most 4 GiB",
            ));
        }
        if tracing_subscriber::EnvFilter::try_new(&self.log.level).is_err() {
            return Err(ConfigError::new(
                "log.level",
                "is not a valid filter (for example: info, debug, info,mhp=debug)",
            ));
        }
        Ok(())
    }

    /// `keys.kms_previous_key_ids` as (version, key): each `VERSION=KEY`, every version below
    /// `keys.kms_key_version` and named once.
    pub fn kms_previous_keys(&self) -> Result<Vec<(u32, String)>, ConfigError> {
        let k = &self.keys;
        let mut out: Vec<(u32, String)> = Vec::new();
        for entry in &k.kms_previous_key_ids {
            let parsed = entry
                .split_once('=')
                .and_then(|(v, key)| Some((v.trim().parse::<u32>().ok()?, key.trim())))
                .filter(|(v, key)| *v >= 1 && !key.is_empty());
            let Some((version, key)) = parsed else {
                return Err(ConfigError::new(
                    "keys.kms_previous_key_ids",
                    "each entry must be VERSION=KEY (a version from 1, a KMS key id, ARN or alias)",
                ));
            };
            if version >= k.kms_key_version {
                return Err(ConfigError::new(
                    "keys.kms_previous_key_ids",
                    format!(
                        "version {version} must be below keys.kms_key_version ({})",
                        k.kms_key_version
                    ),
                ));
            }
            if out.iter().any(|(v, _)| *v == version) {
                return Err(ConfigError::new(
                    "keys.kms_previous_key_ids",
                    format!("version {version} is named twice"),
                ));
            }
            out.push((version, key.to_owned()));
        }
        Ok(out)
    }

    fn validate_keys(&self) -> Result<(), ConfigError> {
        let k = &self.keys;
        let need = |key: &str, value: &Option<String>| match value {
            Some(v) if !v.is_empty() => Ok(()),
            _ => Err(ConfigError::new(
                key,
                format!("is required when keys.provider is {}", k.provider),
            )),
        };
        match k.provider.as_str() {
            "local" => {}
            "aws-kms" => need("keys.kms_key_id", &k.kms_key_id)?,
            "vault-transit" => {
                need("vault.addr", &self.vault.addr)?;
                need("vault.token", &self.vault.token)?;
                need("keys.vault_transit_key", &k.vault_transit_key)?;
            }
            _ => {
                return Err(ConfigError::new(
                    "keys.provider",
                    "must be local, aws-kms or vault-transit",
                ));
            }
        }
        if k.provider != "aws-kms" && (k.kms_key_version != 1 || !k.kms_previous_key_ids.is_empty())
        {
            return Err(ConfigError::new(
                "keys.kms_key_version",
                "and keys.kms_previous_key_ids apply only with keys.provider = aws-kms",
            ));
        }
        if k.kms_key_version == 0 {
            return Err(ConfigError::new(
                "keys.kms_key_version",
                "must be 1 or more",
            ));
        }
        self.kms_previous_keys()?;
        if let Some(t) = &self.vault.token
            && !mhp_crypto::secrets::SecretRef::is_reference(t)
        {
            return Err(ConfigError::new(
                "vault.token",
                "must be a secret:// reference, never the token itself",
            ));
        }
        if let Some(url) = &k.store_url
            && !mhp_crypto::secrets::SecretRef::is_reference(url)
            && mhp_storage::Backend::from_url(url).is_err()
        {
            return Err(ConfigError::new(
                "keys.store_url",
                "must start with sqlite:, postgres: or postgresql:",
            ));
        }
        if k.store_url.is_some() && k.store_url.as_deref() == self.database.url.as_deref() {
            return Err(ConfigError::new(
                "keys.store_url",
                "must name a database apart from database.url (backups of the system of \
                 record must not carry the keys)",
            ));
        }
        for (key, v) in [
            ("keys.cache_ttl_s", k.cache_ttl_s),
            ("keys.rewrap_interval_s", k.rewrap_interval_s),
        ] {
            if v == 0 || v > 86_400 {
                return Err(ConfigError::new(key, "must be between 1 and 86400"));
            }
        }
        Ok(())
    }

    fn validate_object_store(&self) -> Result<(), ConfigError> {
        let o = &self.object_store;
        if o.backend == ObjectBackend::S3
            && !is_bucket_name(o.bucket.as_deref().unwrap_or_default())
        {
            return Err(ConfigError::new(
                "object_store.bucket",
                "is required when object_store.backend is s3: 3 to 63 lower-case letters, \
                 digits and dashes",
            ));
        }
        if let Some(prefix) = &o.prefix
            && !is_prefix(prefix)
        {
            return Err(ConfigError::new(
                "object_store.prefix",
                "must be folders of letters, digits, '.', '_' and '-' joined by '/', \
                 without a leading or trailing '/'",
            ));
        }
        if o.kms_key_id.as_deref().is_some_and(|k| {
            k.is_empty() || k.len() > 2048 || k.bytes().any(|b| !b.is_ascii_graphic())
        }) {
            return Err(ConfigError::new(
                "object_store.kms_key_id",
                "must be a KMS key id, ARN or alias",
            ));
        }
        Ok(())
    }

    fn validate_backup(&self) -> Result<(), ConfigError> {
        let b = &self.backup;
        for (key, dest) in [("backup.to", &b.to), ("backup.keys_to", &b.keys_to)] {
            if let Some(dest) = dest
                && let Err(problem) = BackupDestination::parse(dest)
            {
                return Err(ConfigError::new(key, problem));
            }
        }
        if b.schedule != "off" {
            mhp_app::schedule::CronSchedule::parse(&b.schedule, "UTC")
                .map_err(|e| ConfigError::new("backup.schedule", format!("{e}, or off")))?;
        }
        if b.to.is_some() && b.to == b.keys_to {
            return Err(ConfigError::new(
                "backup.keys_to",
                "must differ from backup.to: the keys are kept apart from the data they open",
            ));
        }
        for (key, v, most) in [
            ("backup.daily", b.daily, 366),
            ("backup.weekly", b.weekly, 520),
            ("backup.monthly", b.monthly, 1200),
        ] {
            if v > most {
                return Err(ConfigError::new(key, format!("must be at most {most}")));
            }
        }
        Ok(())
    }

    /// Where data backups go.
    pub fn backup_destination(&self) -> BackupDestination {
        self.backup
            .to
            .as_deref()
            .and_then(|d| BackupDestination::parse(d).ok())
            .unwrap_or_else(|| BackupDestination::Dir(self.data_dir.join("backups")))
    }

    /// Where key-store backups go.
    pub fn key_backup_destination(&self) -> BackupDestination {
        self.backup
            .keys_to
            .as_deref()
            .and_then(|d| BackupDestination::parse(d).ok())
            .unwrap_or_else(|| BackupDestination::Dir(self.data_dir.join("key-backups")))
    }

    /// What `environment = production` needs and these settings lack, each naming its setting
    /// (empty in development). Every instance of a production installation must share the root,
    /// the keys and the data: nothing may live in one machine's data directory.
    pub fn production_gaps(&self) -> Vec<String> {
        if self.environment != "production" {
            return Vec::new();
        }
        let mut gaps = Vec::new();
        if self.keys.provider == "local" {
            gaps.push(
                "keys.provider is local (key files in this machine's data directory): set \
                 aws-kms or vault-transit"
                    .to_owned(),
            );
        }
        if self.keys.store_url.is_none() {
            gaps.push(
                "keys.store_url is not set (a key store in this machine's data directory): \
                 name a database every instance shares"
                    .to_owned(),
            );
        }
        if self.database.url.is_none() {
            gaps.push(
                "database.url is not set (SQLite in this machine's data directory): name the \
                 PostgreSQL database"
                    .to_owned(),
            );
        }
        if self.keys.master_key_file.is_some() {
            gaps.push(
                "keys.master_key_file is set: the installation root comes from the key store, \
                 not from a file (start once in development to move it there)"
                    .to_owned(),
            );
        }
        if self.object_store.backend == ObjectBackend::Local {
            gaps.push(
                "object_store.backend is local (objects in this machine's data directory): set \
                 s3 and object_store.bucket"
                    .to_owned(),
            );
        }
        if self.http.public_url.is_none() {
            gaps.push(
                "http.public_url is not set (sign-in links and SSO redirects would name the \
                 listen address): set the address users reach MHP at"
                    .to_owned(),
            );
        }
        gaps
    }

    /// In production, why `mhp backup` must not write to (or drill from) the destination of
    /// `backup.keys_to` (`keys`) or `backup.to`: it is this machine's data directory, which a
    /// replaced machine or container loses with the backups. `None` when it may.
    pub fn local_backup_destination(&self, keys: bool) -> Option<String> {
        if self.environment != "production" {
            return None;
        }
        let (key, destination) = if keys {
            ("backup.keys_to", self.key_backup_destination())
        } else {
            ("backup.to", self.backup_destination())
        };
        match destination {
            BackupDestination::Dir(dir) if dir.starts_with(&self.data_dir) => Some(format!(
                "{key} is in this machine's data directory ({}): in production name an s3:// \
                 destination or a shared mount",
                dir.display()
            )),
            _ => None,
        }
    }

    /// Refuses production settings with local parts, naming every setting that is missing.
    pub fn check_environment(&self) -> Result<(), String> {
        let gaps = self.production_gaps();
        if gaps.is_empty() {
            return Ok(());
        }
        Err(format!(
            "environment = production refuses to start on parts local to one machine:\n  - {}",
            gaps.join("\n  - ")
        ))
    }

    /// The key store URL in effect.
    pub fn key_store_url(&self) -> String {
        self.keys.store_url.clone().unwrap_or_else(|| {
            format!(
                "sqlite://{}?mode=rwc",
                self.data_dir.join("keys.sqlite").display()
            )
        })
    }

    /// The local key ring directory in effect.
    pub fn keyring_dir(&self) -> PathBuf {
        self.keys
            .keyring_dir
            .clone()
            .unwrap_or_else(|| self.data_dir.join("keyring"))
    }

    /// The address MHP is reached at, without a trailing slash.
    pub fn public_url(&self) -> String {
        self.http
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", self.listen))
    }

    /// The listen address, parsed.
    pub fn listen_addr(&self) -> Result<SocketAddr, ConfigError> {
        self.listen.parse().map_err(|_| {
            ConfigError::new("listen", "must be an address and port, like 127.0.0.1:8080")
        })
    }

    /// The database URL in effect: the configured one, or a SQLite file in the data directory.
    pub fn database_url(&self) -> String {
        if let Some(resolved) = &self.resolved_database_url {
            return resolved.expose().clone();
        }
        match &self.database.url {
            Some(url) => url.clone(),
            None => format!(
                "sqlite://{}?mode=rwc",
                self.data_dir.join("mhp.sqlite").display()
            ),
        }
    }

    /// The object store directory in effect.
    pub fn object_store_path(&self) -> PathBuf {
        self.object_store
            .path
            .clone()
            .unwrap_or_else(|| self.data_dir.join("objects"))
    }

    /// The master key file in effect.
    pub fn master_key_path(&self) -> PathBuf {
        self.keys
            .master_key_file
            .clone()
            .unwrap_or_else(|| self.data_dir.join("master.key"))
    }

    /// Pool settings for storage.
    pub fn db_options(&self) -> mhp_storage::DbOptions {
        let d = &self.database;
        mhp_storage::DbOptions {
            max_connections: d.max_connections,
            acquire_timeout: Duration::from_millis(d.acquire_timeout_ms),
            startup_timeout: Duration::from_secs(d.startup_timeout_s),
            statement_timeout: Duration::from_secs(d.statement_timeout_s),
        }
    }

    /// HTTP settings for the server.
    pub fn http_config(&self) -> mhp_server::HttpConfig {
        let h = &self.http;
        mhp_server::HttpConfig {
            body_limit_bytes: usize::try_from(h.body_limit_bytes).unwrap_or(usize::MAX),
            request_timeout: Duration::from_secs(h.request_timeout_s),
            drain_delay: Duration::from_millis(h.drain_delay_ms),
            shutdown_grace: Duration::from_secs(h.shutdown_grace_s),
            // Checked by `validate`; an entry that does not parse is never trusted.
            trusted_proxies: mhp_egress::parse_cidrs(&h.trusted_proxies.join(","))
                .unwrap_or_default(),
        }
    }

    /// The effective settings as TOML, with every default filled in and secrets redacted.
    pub fn to_redacted_toml(&self) -> String {
        let mut shown = self.clone();
        shown.database.url = Some(match &self.resolved_database_url {
            // A reference is shown as written: it names the secret, not its value.
            Some(_) => self.database.url.clone().unwrap_or_default(),
            None => redact_url(&self.database_url()),
        });
        if self.object_store.backend == ObjectBackend::Local {
            shown.object_store.path = Some(self.object_store_path());
        }
        shown.backup.to = Some(self.backup_destination().label());
        shown.backup.keys_to = Some(self.key_backup_destination().label());
        shown.keys.master_key_file = Some(self.master_key_path());
        shown.keys.keyring_dir = Some(self.keyring_dir());
        shown.keys.store_url = Some(redact_url(&self.key_store_url()));
        // A `secret://` reference names the secret and is shown; a value given as it is is not.
        let hide = |v: &Option<String>| {
            v.as_ref().map(|s| {
                if mhp_crypto::secrets::SecretRef::is_reference(s) {
                    s.clone()
                } else {
                    "[redacted]".to_owned()
                }
            })
        };
        shown.security.webhook_secret = hide(&self.security.webhook_secret);
        shown.security.opensearch_password = hide(&self.security.opensearch_password);
        shown.index.opensearch_password = hide(&self.index.opensearch_password);
        shown.mail.smtp_password = hide(&self.mail.smtp_password);
        toml::to_string(&shown).unwrap_or_else(|e| format!("# could not render: {e}\n"))
    }
}

fn read_file(path: &Path) -> Result<toml::Table, ConfigError> {
    let key = format!("config file {}", path.display());
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError::new(&key, e.to_string()))?;
    text.parse::<toml::Table>().map_err(|e| {
        let line = e
            .span()
            .map(|s| text[..s.start.min(text.len())].lines().count().max(1));
        let problem = e.message().to_owned();
        match line {
            Some(l) => ConfigError::new(format!("{key}, line {l}"), problem),
            None => ConfigError::new(key, problem),
        }
    })
}

fn to_value(var: &str, text: &str, kind: Kind) -> Result<toml::Value, ConfigError> {
    match kind {
        Kind::Text => Ok(toml::Value::String(text.to_owned())),
        Kind::Integer => text
            .trim()
            .parse::<i64>()
            .map(toml::Value::Integer)
            .map_err(|_| ConfigError::new(var, "must be a whole number")),
        Kind::Number => text
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|n| n.is_finite())
            .map(toml::Value::Float)
            .ok_or_else(|| ConfigError::new(var, "must be a number")),
        Kind::List => Ok(toml::Value::Array(
            text.split(',')
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(|v| toml::Value::String(v.to_owned()))
                .collect(),
        )),
        Kind::Boolean => match text.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" => Ok(toml::Value::Boolean(true)),
            "false" | "0" | "no" | "off" => Ok(toml::Value::Boolean(false)),
            _ => Err(ConfigError::new(var, "must be true or false")),
        },
    }
}

fn set_key(table: &mut toml::Table, dotted: &str, value: toml::Value) {
    let mut parts: Vec<&str> = dotted.split('.').collect();
    let Some(last) = parts.pop() else { return };
    let mut t = table;
    for p in parts {
        let entry = t
            .entry(p.to_owned())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        if !entry.is_table() {
            *entry = toml::Value::Table(toml::Table::new());
        }
        let toml::Value::Table(inner) = entry else {
            return;
        };
        t = inner;
    }
    t.insert(last.to_owned(), value);
}

/// Hides the password of a URL: `postgres://mhp:secret@db/mhp` → `postgres://mhp:***@db/mhp`.
/// Query parameters that carry secrets (`password=`, `sslpassword=`) are hidden too.
pub fn redact_url(url: &str) -> String {
    let mut out = url.to_owned();
    if let Some(scheme_end) = out.find("://") {
        let rest_start = scheme_end + 3;
        let authority_end = out[rest_start..]
            .find('/')
            .map_or(out.len(), |i| rest_start + i);
        if let Some(at) = out[rest_start..authority_end].rfind('@') {
            let userinfo = &out[rest_start..rest_start + at];
            if let Some(colon) = userinfo.find(':') {
                let start = rest_start + colon + 1;
                out.replace_range(start..rest_start + at, "***");
            }
        }
    }
    if let Some(q) = out.find('?') {
        let (base, query) = out.split_at(q + 1);
        let query: Vec<String> = query
            .split('&')
            .map(|kv| match kv.split_once('=') {
                Some((k, _)) if k.to_ascii_lowercase().contains("password") => format!("{k}=***"),
                _ => kv.to_owned(),
            })
            .collect();
        out = format!("{base}{}", query.join("&"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn load(file: Option<&str>, e: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mhp.toml");
        if let Some(text) = file {
            std::fs::write(&path, text).unwrap();
        }
        Settings::load(file.map(|_| path.as_path()), &env(e), &Overrides::default()).map(|(s, _)| s)
    }

    #[test]
    fn no_configuration_means_embedded_defaults() {
        let s = load(None, &[]).unwrap();
        assert_eq!(s, Settings::default());
        assert_eq!(s.database_url(), "sqlite://./mhp-data/mhp.sqlite?mode=rwc");
        assert_eq!(s.listen_addr().unwrap().to_string(), "127.0.0.1:8080");
    }

    #[test]
    fn the_s3_object_store_needs_a_bucket_and_fits_production() {
        let err = load(None, &[("MHP_OBJECT_STORE_BACKEND", "s3")]).unwrap_err();
        assert_eq!(err.key, "object_store.bucket");
        let err = load(None, &[("MHP_OBJECT_STORE_BACKEND", "gcs")]).unwrap_err();
        assert_eq!(err.key, "object_store.backend");
        assert!(
            err.problem.contains("local") && err.problem.contains("s3"),
            "{err:?}"
        );
        for prefix in ["/abs", "trailing/", "a//b", "a/../b", "sp ace"] {
            let err = load(
                None,
                &[
                    ("MHP_OBJECT_STORE_BACKEND", "s3"),
                    ("MHP_OBJECT_STORE_BUCKET", "mhp-data"),
                    ("MHP_OBJECT_STORE_PREFIX", prefix),
                ],
            )
            .unwrap_err();
            assert_eq!(err.key, "object_store.prefix", "{prefix}");
        }
        let production = [
            ("MHP_ENVIRONMENT", "production"),
            ("MHP_KEYS_PROVIDER", "aws-kms"),
            ("MHP_KEYS_KMS_KEY_ID", "alias/mhp"),
            ("MHP_KEYS_STORE_URL", "postgres://keys.internal/keys"),
            ("DATABASE_URL", "postgres://db.internal/mhp"),
            ("MHP_HTTP_PUBLIC_URL", "https://mhp.example.org"),
            ("MHP_BACKUP_TO", "s3://mhp-backups/mhp"),
            ("MHP_BACKUP_KEYS_TO", "s3://mhp-key-backups/mhp"),
        ];
        let local = load(None, &production).unwrap();
        let gaps = local.production_gaps();
        assert_eq!(gaps.len(), 1, "{gaps:?}");
        assert!(
            gaps[0].starts_with("object_store.backend is local"),
            "{gaps:?}"
        );
        let mut shared = production.to_vec();
        shared.extend([
            ("MHP_OBJECT_STORE_BACKEND", "s3"),
            ("MHP_OBJECT_STORE_BUCKET", "mhp-data"),
            ("MHP_OBJECT_STORE_PREFIX", "eu-west-1/mhp"),
        ]);
        let s3 = load(None, &shared).unwrap();
        assert!(
            s3.production_gaps().is_empty(),
            "{:?}",
            s3.production_gaps()
        );
        assert!(s3.check_environment().is_ok());
    }

    #[test]
    fn production_names_its_public_address_and_keeps_backups_off_the_machine() {
        let shared = [
            ("MHP_ENVIRONMENT", "production"),
            ("MHP_DATA_DIR", "/data"),
            ("MHP_KEYS_PROVIDER", "aws-kms"),
            ("MHP_KEYS_KMS_KEY_ID", "alias/mhp"),
            ("MHP_KEYS_STORE_URL", "postgres://keys.internal/keys"),
            ("DATABASE_URL", "postgres://db.internal/mhp"),
            ("MHP_OBJECT_STORE_BACKEND", "s3"),
            ("MHP_OBJECT_STORE_BUCKET", "mhp-data"),
        ];
        let settings = |extra: &[(&'static str, &'static str)]| {
            let mut env = shared.to_vec();
            env.extend_from_slice(extra);
            load(None, &env).unwrap()
        };
        let bare = settings(&[]);
        let gaps = bare.production_gaps();
        assert_eq!(gaps.len(), 1, "{gaps:?}");
        assert!(
            gaps[0].starts_with("http.public_url is not set"),
            "{gaps:?}"
        );
        // Backups: the defaults, and a directory inside the data directory, stay on the machine;
        // a mount elsewhere is the operator's to share.
        for keys in [false, true] {
            let why = bare.local_backup_destination(keys).unwrap_or_default();
            assert!(why.contains("this machine's data directory"), "{why}");
        }
        let placed = settings(&[
            ("MHP_BACKUP_TO", "/data/b"),
            ("MHP_BACKUP_KEYS_TO", "/mnt/key-backups"),
        ]);
        assert!(placed.local_backup_destination(false).is_some());
        assert!(placed.local_backup_destination(true).is_none());
        let s3 = settings(&[("MHP_BACKUP_TO", "s3://mhp-backups/m")]);
        assert!(s3.local_backup_destination(false).is_none());
        // Development needs none of it.
        let dev = load(None, &[]).unwrap();
        assert!(dev.production_gaps().is_empty());
        assert!(dev.local_backup_destination(false).is_none());
    }

    #[test]
    fn file_then_environment_then_flags() {
        let file = "listen = \"127.0.0.1:9000\"\n[database]\nmax_connections = 20\n";
        let s = load(Some(file), &[]).unwrap();
        assert_eq!(s.listen, "127.0.0.1:9000");
        assert_eq!(s.database.max_connections, 20);

        let s = load(
            Some(file),
            &[
                ("MHP_LISTEN", "0.0.0.0:9100"),
                ("MHP_DATABASE_MAX_CONNECTIONS", "30"),
                ("DATABASE_URL", "postgres://a@h/x"),
                ("MHP_DATABASE_AUTO_MIGRATE", "false"),
            ],
        )
        .unwrap();
        assert_eq!(s.listen, "0.0.0.0:9100");
        assert_eq!(s.database.max_connections, 30);
        assert_eq!(s.database_url(), "postgres://a@h/x");
        assert!(!s.database.auto_migrate);

        let (s, _) = Settings::load(
            None,
            &env(&[("MHP_LISTEN", "0.0.0.0:9100")]),
            &Overrides {
                data_dir: Some("/srv/mhp".into()),
                listen: Some("127.0.0.1:1".into()),
            },
        )
        .unwrap();
        assert_eq!(s.listen, "127.0.0.1:1");
        assert_eq!(s.data_dir, PathBuf::from("/srv/mhp"));
    }

    #[test]
    fn mhp_database_url_wins_over_database_url() {
        let s = load(
            None,
            &[
                ("DATABASE_URL", "postgres://a@h/one"),
                ("MHP_DATABASE_URL", "postgres://a@h/two"),
            ],
        )
        .unwrap();
        assert_eq!(s.database_url(), "postgres://a@h/two");
    }

    #[test]
    fn every_error_names_its_key() {
        type Case<'a> = (Option<&'a str>, &'a [(&'a str, &'a str)], &'a str);
        let cases: &[Case<'_>] = &[
            (
                Some("[database]\nmax_connections = 0\n"),
                &[],
                "database.max_connections",
            ),
            (
                Some("[database]\nmax_connections = \"many\"\n"),
                &[],
                "database.max_connections",
            ),
            (Some("[database]\nmax_conections = 3\n"), &[], "database"),
            (Some("listen = \"localhost\"\n"), &[], "listen"),
            (Some("[log]\nformat = \"xml\"\n"), &[], "log.format"),
            (Some("listen = \n"), &[], "line 1"),
            (
                None,
                &[("MHP_DATABASE_MAX_CONNECTIONS", "lots")],
                "MHP_DATABASE_MAX_CONNECTIONS",
            ),
            (
                None,
                &[("MHP_DATABASE_AUTO_MIGRATE", "perhaps")],
                "MHP_DATABASE_AUTO_MIGRATE",
            ),
            (None, &[("DATABASE_URL", "mysql://x")], "database.url"),
            (None, &[("MHP_LOG_LEVEL", "info,[")], "log.level"),
        ];
        for (file, e, key) in cases {
            let err = load(*file, e).unwrap_err();
            let line = err.to_string();
            assert!(err.key.contains(key), "{line} should name {key}");
            assert!(!line.contains('\n'), "one line: {line:?}");
        }
    }

    #[test]
    fn unknown_mhp_variables_are_reported() {
        let (_, notes) = Settings::load(
            None,
            &env(&[
                ("MHP_LISTN", "x"),
                ("MHP_CONFIG", "f"),
                ("MHP_TEST_PG_URL", "y"),
            ]),
            &Overrides::default(),
        )
        .unwrap();
        assert_eq!(notes.unknown_env, vec!["MHP_LISTN".to_owned()]);
    }

    #[test]
    fn the_database_url_may_come_from_a_secret_provider() {
        let s = load(
            None,
            &[
                ("DATABASE_URL", "secret://env/PG_URL"),
                ("PG_URL", "postgres://mhp:pw9@db/mhp"),
            ],
        )
        .unwrap();
        assert_eq!(s.database_url(), "postgres://mhp:pw9@db/mhp");
        let shown = s.to_redacted_toml();
        assert!(shown.contains("url = \"secret://env/PG_URL\""), "{shown}");
        assert!(!shown.contains("pw9"), "{shown}");
        assert!(!format!("{s:?}").contains("pw9"));

        let err = load(None, &[("DATABASE_URL", "secret://env/NOPE")]).unwrap_err();
        assert_eq!(err.key, "database.url");
        assert!(err.problem.contains("not found"), "{err}");
        let err = load(None, &[("DATABASE_URL", "secret://aws-sm/mhp/prod#url")]).unwrap_err();
        assert!(err.problem.contains("cargo feature"), "{err}");
        let err = load(
            None,
            &[("DATABASE_URL", "secret://env/BAD"), ("BAD", "mysql://x")],
        )
        .unwrap_err();
        assert_eq!(err.key, "database.url");
    }

    #[test]
    fn secrets_are_redacted() {
        assert_eq!(
            redact_url("postgres://mhp:s3cr3t@db:5432/mhp?sslmode=require&password=x"),
            "postgres://mhp:***@db:5432/mhp?sslmode=require&password=***"
        );
        assert_eq!(redact_url("postgres://mhp@db/mhp"), "postgres://mhp@db/mhp");
        let s = load(None, &[("DATABASE_URL", "postgres://mhp:s3cr3t@db/mhp")]).unwrap();
        let shown = s.to_redacted_toml();
        assert!(!shown.contains("s3cr3t"), "{shown}");
        assert!(shown.contains("postgres://mhp:***@db/mhp"), "{shown}");
    }
}
