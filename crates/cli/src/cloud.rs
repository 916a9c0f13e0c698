//! The cloud parts the settings name, in builds with the `aws` and `vault` features: the
//! master-key provider (local key ring, AWS KMS, Vault Transit), the secrets chain
//! (environment and files, plus AWS Secrets Manager, SSM Parameter Store and Vault KV) and the
//! object store (a local directory, or S3).

use std::sync::Arc;
use std::time::Duration;

use mhp_crypto::envelope::{LocalKeyring, MasterKeyProvider};
use mhp_crypto::secrets::Secrets;

use crate::Failure;
use crate::settings::Settings;

/// Reads an environment variable (the process's, or a test's map).
pub type Env = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// The process environment.
pub fn process_env() -> Env {
    Arc::new(|name| std::env::var(name).ok())
}

/// The secrets chain, values cached for `ttl`.
pub fn secrets(settings: &Settings, ttl: Duration, env: Env) -> Result<Secrets, String> {
    let lookup = env.clone();
    let chain = Secrets::with_env(ttl, move |n| lookup(n));
    #[cfg(any(feature = "aws", feature = "vault"))]
    {
        let mut remote = mhp_cloud::adapters::CloudSecrets::new();
        #[cfg(feature = "aws")]
        if let Some(make) = aws_maker(settings, &env)? {
            remote = remote.with_aws(make);
        }
        #[cfg(feature = "vault")]
        if let Some(make) = vault_maker(settings, &env)? {
            remote = remote.with_vault(make);
        }
        Ok(chain.with_remote(Arc::new(remote)))
    }
    #[cfg(not(any(feature = "aws", feature = "vault")))]
    {
        let _ = settings;
        Ok(chain)
    }
}

/// Makes AWS clients from the settings and the standard credential chain
/// (`mhp_cloud::aws::CredentialSource`: environment, web identity, container endpoint,
/// instance metadata); `None` when no region is known (AWS is then not in use). The clients
/// one maker makes share one credential provider, so temporary credentials are fetched once
/// for all of them.
#[cfg(feature = "aws")]
type MakeAws =
    Box<dyn Fn() -> Result<mhp_cloud::aws::AwsClient, mhp_cloud::CloudError> + Send + Sync>;

#[cfg(feature = "aws")]
fn aws_maker(settings: &Settings, env: &Env) -> Result<Option<MakeAws>, String> {
    let Some(region) = settings.aws.region.clone().or_else(|| env("AWS_REGION")) else {
        return Ok(None);
    };
    let endpoint = settings
        .aws
        .endpoint
        .as_deref()
        .map(|e| {
            e.parse::<url::Url>()
                .map_err(|_| "aws.endpoint: not a URL".to_owned())
        })
        .transpose()?;
    // Fail at start-up, not at the first call, when the settings cannot work.
    let source = mhp_cloud::aws::CredentialSource::from_lookup(|n| env(n))
        .map_err(|e| format!("aws: {e}"))?;
    let provider = Arc::new(
        mhp_cloud::aws::CredentialProvider::new(source, &region, endpoint.as_ref())
            .map_err(|e| format!("aws: {e}"))?,
    );
    let make = move || {
        mhp_cloud::aws::AwsClient::with_provider(&region, provider.clone(), endpoint.clone())
    };
    make().map_err(|e| format!("aws: {e}"))?;
    Ok(Some(Box::new(make)))
}

/// One AWS client from the settings for `what` (named in the error when no region is known).
#[cfg(feature = "aws")]
fn aws_client(
    settings: &Settings,
    env: &Env,
    what: &str,
) -> Result<mhp_cloud::aws::AwsClient, Failure> {
    let make = aws_maker(settings, env)
        .map_err(Failure::Invalid)?
        .ok_or_else(|| {
            Failure::Invalid(format!(
                "aws.region: is required for {what} (or AWS_REGION)"
            ))
        })?;
    make().map_err(|e| Failure::Invalid(format!("aws: {e}")))
}

#[cfg(feature = "vault")]
type MakeVault =
    Box<dyn Fn() -> Result<mhp_cloud::vault::VaultClient, mhp_cloud::CloudError> + Send + Sync>;

#[cfg(feature = "vault")]
fn vault_maker(settings: &Settings, env: &Env) -> Result<Option<MakeVault>, String> {
    let (Some(addr), Some(token_ref)) = (&settings.vault.addr, &settings.vault.token) else {
        return Ok(None);
    };
    let addr: url::Url = addr
        .parse()
        .map_err(|_| "vault.addr: not a URL".to_owned())?;
    let lookup = env.clone();
    let token = Secrets::with_env(Duration::ZERO, move |n| lookup(n))
        .resolve(token_ref)
        .map_err(|e| format!("vault.token: {e}"))?;
    let namespace = settings.vault.namespace.clone();
    let make =
        move || mhp_cloud::vault::VaultClient::new(addr.clone(), token.clone(), namespace.clone());
    make().map_err(|e| format!("vault: {e}"))?;
    Ok(Some(Box::new(make)))
}

/// The master-key provider the settings name; the local key ring is made when missing only
/// when `create` says so.
pub fn master_provider(
    settings: &Settings,
    env: &Env,
    create: bool,
) -> Result<Arc<dyn MasterKeyProvider>, Failure> {
    let _ = env;
    match settings.keys.provider.as_str() {
        "local" => {
            let dir = settings.keyring_dir();
            let ring = if create {
                LocalKeyring::open(&dir)
            } else {
                LocalKeyring::open_existing(&dir)
            }
            .map_err(|e| Failure::Runtime(anyhow::anyhow!("{e}")))?;
            Ok(Arc::new(ring))
        }
        #[cfg(feature = "aws")]
        "aws-kms" => {
            let client = aws_client(settings, env, "aws-kms")?;
            let key_id = settings.keys.kms_key_id.clone().unwrap_or_default();
            let previous = settings
                .kms_previous_keys()
                .map_err(|e| Failure::Invalid(e.to_string()))?;
            Ok(Arc::new(
                mhp_cloud::adapters::KmsMasterKey::with_previous(
                    mhp_cloud::aws::Kms::new(client),
                    settings.keys.kms_key_version,
                    key_id,
                    previous,
                )
                .map_err(|e| Failure::Invalid(format!("keys: {e}")))?,
            ))
        }
        #[cfg(feature = "vault")]
        "vault-transit" => {
            let make = vault_maker(settings, env)
                .map_err(Failure::Invalid)?
                .ok_or_else(|| {
                    Failure::Invalid(
                        "vault.addr and vault.token: are required for vault-transit".into(),
                    )
                })?;
            let client = make().map_err(|e| Failure::Invalid(format!("vault: {e}")))?;
            let key = settings.keys.vault_transit_key.clone().unwrap_or_default();
            Ok(Arc::new(mhp_cloud::adapters::VaultTransitMasterKey::new(
                client, key,
            )))
        }
        other => Err(Failure::Invalid(format!(
            "keys.provider: {other} is not built into this binary (build with the cargo feature \
             aws or vault)"
        ))),
    }
}

/// How the OpenSearch document index authenticates (`index.opensearch_*`).
pub fn opensearch_auth(
    settings: &Settings,
    env: &Env,
) -> Result<mhp_index::OpenSearchAuth, Failure> {
    let i = &settings.index;
    opensearch_auth_of(
        settings,
        env,
        "index",
        i.opensearch_auth.as_deref(),
        i.opensearch_username.as_deref(),
        i.opensearch_password.as_deref(),
    )
}

/// How an OpenSearch cluster of `<section>` authenticates: HTTP Basic with the password
/// resolved from its reference, or each request signed with AWS SigV4 (service `es`) by the
/// `[aws]` credential chain in a build with the `aws` feature.
fn opensearch_auth_of(
    settings: &Settings,
    env: &Env,
    section: &str,
    auth: Option<&str>,
    user: Option<&str>,
    password: Option<&str>,
) -> Result<mhp_index::OpenSearchAuth, Failure> {
    use crate::settings::OpenSearchAuthKind;
    let kind =
        crate::settings::opensearch_auth_kind(section, auth, user.is_some(), password.is_some())
            .map_err(|e| Failure::Invalid(e.to_string()))?;
    match kind {
        OpenSearchAuthKind::None => Ok(mhp_index::OpenSearchAuth::None),
        OpenSearchAuthKind::Basic => {
            let (Some(user), Some(reference)) = (user, password) else {
                return Err(Failure::Invalid(format!(
                    "{section}.opensearch_auth: basic needs a user and a password"
                )));
            };
            let password = secrets(settings, Duration::ZERO, env.clone())
                .map_err(Failure::Invalid)?
                .resolve(reference)
                .map_err(|e| Failure::Invalid(format!("{section}.opensearch_password: {e}")))?;
            Ok(mhp_index::OpenSearchAuth::Basic {
                user: user.to_owned(),
                password,
            })
        }
        OpenSearchAuthKind::AwsSigV4 => {
            #[cfg(feature = "aws")]
            {
                let client = aws_client(
                    settings,
                    env,
                    &format!("{section}.opensearch_auth = aws-sigv4"),
                )?;
                Ok(mhp_index::OpenSearchAuth::Signed(Arc::new(
                    OpenSearchSigner(client),
                )))
            }
            #[cfg(not(feature = "aws"))]
            Err(Failure::Invalid(format!(
                "{section}.opensearch_auth: aws-sigv4 needs a build with the aws feature"
            )))
        }
    }
}

/// The OpenSearch SIEM sink of security events (`security.opensearch_url`).
pub fn opensearch_sink(settings: &Settings, env: &Env) -> Result<mhp_app::siem::Sink, Failure> {
    let s = &settings.security;
    let auth = opensearch_auth_of(
        settings,
        env,
        "security",
        s.opensearch_auth.as_deref(),
        s.opensearch_username.as_deref(),
        s.opensearch_password.as_deref(),
    )?;
    let index = mhp_index::SecurityEventIndex::new(&s.opensearch_url, &s.opensearch_prefix, auth)
        .map_err(|e| Failure::Invalid(format!("security.opensearch_url: {e}")))?;
    Ok(mhp_app::siem::Sink::Remote(Arc::new(OpenSearchSink {
        index,
        schema: tokio::sync::OnceCell::new(),
    })))
}

/// Security events into an OpenSearch cluster; the template is installed before the first
/// delivery (and again after a failed attempt).
#[derive(Debug)]
struct OpenSearchSink {
    index: mhp_index::SecurityEventIndex,
    schema: tokio::sync::OnceCell<()>,
}

impl mhp_app::siem::RemoteSink for OpenSearchSink {
    fn name(&self) -> &'static str {
        "opensearch"
    }

    fn deliver<'a>(
        &'a self,
        lines: &'a [String],
        _now: mhp_domain::Timestamp,
    ) -> mhp_app::siem::Delivery<'a> {
        Box::pin(async move {
            let refused = |e: mhp_index::IndexError| {
                mhp_app::siem::SinkError::new(format!("OpenSearch: {e}"))
            };
            self.schema
                .get_or_try_init(|| self.index.ensure_schema())
                .await
                .map_err(refused)?;
            self.index.store(lines).await.map_err(refused)
        })
    }
}

/// The CloudWatch Logs sink of security events (`security.cloudwatch_log_group`): a stream of
/// this instance (host and process) in the group, with the `[aws]` credential chain.
pub fn cloudwatch_sink(settings: &Settings, env: &Env) -> Result<mhp_app::siem::Sink, Failure> {
    #[cfg(feature = "aws")]
    {
        let client = aws_client(settings, env, "security.cloudwatch_log_group")?;
        let host = crate::hostname();
        let stream: String = format!("mhp/{host}/{}", std::process::id())
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || "_-/.#".contains(c) {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let logs = mhp_cloud::aws::LogStream::new(
            client,
            &settings.security.cloudwatch_log_group,
            &stream,
        )
        .map_err(|e| Failure::Invalid(format!("security.cloudwatch_log_group: {e}")))?;
        Ok(mhp_app::siem::Sink::Remote(Arc::new(CloudWatchSink(logs))))
    }
    #[cfg(not(feature = "aws"))]
    {
        let _ = (settings, env);
        Err(Failure::Invalid(
            "security.cloudwatch_log_group: needs a build with the aws feature".into(),
        ))
    }
}

/// Security events into CloudWatch Logs, one OCSF event per log event.
#[cfg(feature = "aws")]
#[derive(Debug)]
struct CloudWatchSink(mhp_cloud::aws::LogStream);

#[cfg(feature = "aws")]
impl mhp_app::siem::RemoteSink for CloudWatchSink {
    fn name(&self) -> &'static str {
        "cloudwatch"
    }

    fn deliver<'a>(
        &'a self,
        lines: &'a [String],
        now: mhp_domain::Timestamp,
    ) -> mhp_app::siem::Delivery<'a> {
        Box::pin(async move {
            self.0
                .put(lines, now.as_millis())
                .await
                .map_err(|e| mhp_app::siem::SinkError::new(format!("CloudWatch Logs: {e}")))
        })
    }
}

/// Signs OpenSearch's requests for an IAM-only Amazon OpenSearch Service domain.
#[cfg(feature = "aws")]
#[derive(Debug)]
struct OpenSearchSigner(mhp_cloud::aws::AwsClient);

#[cfg(feature = "aws")]
impl mhp_index::RequestSigner for OpenSearchSigner {
    fn sign<'a>(
        &'a self,
        method: &'a str,
        url: &'a url::Url,
        body: &'a [u8],
    ) -> mhp_index::SignFuture<'a> {
        Box::pin(async move {
            self.0
                .signed_headers("es", method, url, body)
                .await
                .map_err(|e| e.to_string())
        })
    }
}

/// The object store the settings name: the local directory (made when missing), or S3 in a
/// build with the `aws` feature.
pub async fn object_store(
    settings: &Settings,
    env: &Env,
) -> Result<mhp_storage::ObjectStore, Failure> {
    use crate::settings::ObjectBackend;
    match settings.object_store.backend {
        ObjectBackend::Local => {
            let _ = env;
            mhp_storage::ObjectStore::local(settings.object_store_path())
                .await
                .map_err(|e| Failure::Runtime(anyhow::anyhow!("cannot open the object store: {e}")))
        }
        ObjectBackend::S3 => {
            let o = &settings.object_store;
            s3_store(
                settings,
                env,
                o.bucket.clone().unwrap_or_default(),
                o.prefix.clone().unwrap_or_default(),
            )
        }
    }
}

/// The store backups go to (`backup.to`, or `backup.keys_to` when `keys`).
pub async fn backup_store(
    settings: &Settings,
    env: &Env,
    keys: bool,
) -> Result<(mhp_storage::ObjectStore, String), Failure> {
    use crate::settings::BackupDestination;
    let destination = if keys {
        settings.key_backup_destination()
    } else {
        settings.backup_destination()
    };
    let label = destination.label();
    let store = match destination {
        BackupDestination::Dir(dir) => mhp_storage::ObjectStore::local(dir)
            .await
            .map_err(|e| Failure::Runtime(anyhow::anyhow!("cannot open {label}: {e}")))?,
        BackupDestination::S3 { bucket, prefix } => s3_store(settings, env, bucket, prefix)?,
    };
    Ok((store, label))
}

/// An S3 bucket (under `prefix`, which may be empty) as an object store, with the `[aws]`
/// settings and credentials; objects encrypted with SSE-KMS (`object_store.kms_key_id`, else
/// the account's `aws/s3` key).
fn s3_store(
    settings: &Settings,
    env: &Env,
    bucket: String,
    prefix: String,
) -> Result<mhp_storage::ObjectStore, Failure> {
    #[cfg(feature = "aws")]
    {
        let client = aws_client(settings, env, "S3")?;
        Ok(mhp_storage::ObjectStore::Remote(Arc::new(S3Objects {
            s3: mhp_cloud::aws::S3::new(client),
            bucket,
            prefix: if prefix.is_empty() {
                prefix
            } else {
                format!("{prefix}/")
            },
            encryption: mhp_cloud::aws::ServerSideEncryption::Kms(
                settings.object_store.kms_key_id.clone(),
            ),
        })))
    }
    #[cfg(not(feature = "aws"))]
    {
        let _ = (settings, env, bucket, prefix);
        Err(Failure::Invalid(
            "S3 is not built into this binary (build with the cargo feature aws)".into(),
        ))
    }
}

/// S3 as MHP's remote object store: every key under the configured prefix, every object
/// encrypted by S3 with SSE-KMS (the objects are sealed by MHP already; this is the second,
/// at-rest layer the bucket's policy can insist on).
#[cfg(feature = "aws")]
#[derive(Debug)]
struct S3Objects {
    s3: mhp_cloud::aws::S3,
    bucket: String,
    /// `""`, or folders ending in `/`.
    prefix: String,
    encryption: mhp_cloud::aws::ServerSideEncryption,
}

#[cfg(feature = "aws")]
impl mhp_storage::RemoteObjects for S3Objects {
    fn put<'a>(&'a self, key: &'a str, bytes: &'a [u8]) -> mhp_storage::RemoteFuture<'a, ()> {
        Box::pin(async move {
            let key = format!("{}{key}", self.prefix);
            self.s3
                .put_object(&self.bucket, &key, bytes.to_vec(), &self.encryption)
                .await
                .map_err(Into::into)
        })
    }

    fn get<'a>(&'a self, key: &'a str) -> mhp_storage::RemoteFuture<'a, Option<Vec<u8>>> {
        Box::pin(async move {
            let key = format!("{}{key}", self.prefix);
            match self.s3.get_object(&self.bucket, &key).await {
                Ok(bytes) => Ok(Some(bytes)),
                Err(e) if e.is_not_found() => Ok(None),
                Err(e) => Err(e.into()),
            }
        })
    }

    fn delete<'a>(&'a self, key: &'a str) -> mhp_storage::RemoteFuture<'a, ()> {
        Box::pin(async move {
            let key = format!("{}{key}", self.prefix);
            self.s3
                .delete_object(&self.bucket, &key)
                .await
                .map_err(Into::into)
        })
    }

    fn list<'a>(
        &'a self,
        prefix: &'a str,
    ) -> mhp_storage::RemoteFuture<'a, Vec<(String, std::time::SystemTime)>> {
        Box::pin(async move {
            let full = format!("{}{prefix}", self.prefix);
            let listed = self.s3.list_objects(&self.bucket, &full).await?;
            Ok(listed
                .into_iter()
                .filter_map(|o| {
                    let key = o.key.strip_prefix(&self.prefix)?.to_owned();
                    let at = std::time::UNIX_EPOCH
                        + Duration::from_millis(u64::try_from(o.last_modified_ms).ok()?);
                    Some((key, at))
                })
                .collect())
        })
    }

    fn check(&self) -> mhp_storage::RemoteFuture<'_, ()> {
        Box::pin(async move { self.s3.head_bucket(&self.bucket).await.map_err(Into::into) })
    }

    fn describe(&self) -> String {
        format!("s3://{}/{}", self.bucket, self.prefix)
    }
}

/// Where messages to people go: the SMTP relay `[mail]` names (its password resolved from its
/// reference), Amazon SES, or the outbox in the data directory.
pub fn notifier(settings: &Settings, env: &Env) -> Result<mhp_app::notify::Notifier, Failure> {
    use crate::settings::MailTransport;
    use mhp_app::notify::{Notifier, Smtp, SmtpSettings};
    let m = &settings.mail;
    let host = match (m.transport(), m.smtp_host.as_deref()) {
        (MailTransport::Outbox, _) => {
            return Ok(Notifier::Outbox(settings.data_dir.join("outbox")));
        }
        (MailTransport::Ses, _) => return ses_notifier(settings, env),
        (MailTransport::Smtp, Some(host)) => host,
        (MailTransport::Smtp, None) => {
            return Err(Failure::Invalid(
                "mail.smtp_host: is needed with mail.transport = \"smtp\"".into(),
            ));
        }
    };
    let tls = m.tls().map_err(|e| Failure::Invalid(e.to_string()))?;
    let credentials = match (m.smtp_username.as_deref(), m.smtp_password.as_deref()) {
        (Some(user), Some(reference)) => {
            let password = secrets(settings, Duration::ZERO, env.clone())
                .map_err(Failure::Invalid)?
                .resolve(reference)
                .map_err(|e| Failure::Invalid(format!("mail.smtp_password: {e}")))?;
            Some((user.to_owned(), password))
        }
        (None, None) => None,
        _ => {
            return Err(Failure::Invalid(
                "mail.smtp_password: mail.smtp_username and mail.smtp_password go together".into(),
            ));
        }
    };
    let extra_ca_pem = match &m.smtp_ca_file {
        Some(path) => Some(std::fs::read(path).map_err(|e| {
            Failure::Invalid(format!("mail.smtp_ca_file: {}: {e}", path.display()))
        })?),
        None => None,
    };
    let smtp = Smtp::new(SmtpSettings {
        host,
        port: m.smtp_port,
        tls,
        credentials,
        extra_ca_pem,
        from: m.from.as_deref().unwrap_or_default(),
    })
    .map_err(|e| Failure::Invalid(format!("mail: {e}")))?;
    Ok(Notifier::Smtp(Box::new(smtp)))
}

/// Messages through Amazon SES's API with the `[aws]` credential chain (the task role on ECS).
fn ses_notifier(settings: &Settings, env: &Env) -> Result<mhp_app::notify::Notifier, Failure> {
    #[cfg(feature = "aws")]
    {
        let m = &settings.mail;
        let client = aws_client(settings, env, "mail.transport = \"ses\"")?;
        let ses = mhp_cloud::aws::Ses::new(client, m.ses_configuration_set.as_deref())
            .map_err(|e| Failure::Invalid(format!("mail.ses_configuration_set: {e}")))?;
        let mail = mhp_app::notify::ApiMail::new(
            Arc::new(SesMail(ses)),
            m.from.as_deref().unwrap_or_default(),
        )
        .map_err(|e| Failure::Invalid(format!("mail.from: {e}")))?;
        Ok(mhp_app::notify::Notifier::Api(Box::new(mail)))
    }
    #[cfg(not(feature = "aws"))]
    {
        let _ = (settings, env);
        Err(Failure::Invalid(
            "mail.transport: ses needs a build with the aws feature".into(),
        ))
    }
}

/// Amazon SES as the notifier's mail API.
#[cfg(feature = "aws")]
#[derive(Debug)]
struct SesMail(mhp_cloud::aws::Ses);

#[cfg(feature = "aws")]
impl mhp_app::notify::MailApi for SesMail {
    fn name(&self) -> &'static str {
        "ses"
    }

    fn send_raw<'a>(
        &'a self,
        from: &'a str,
        to: &'a str,
        raw: &'a [u8],
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), String>> + Send + 'a>> {
        Box::pin(async move {
            // The error keeps SES's class and status, never its message (which may quote
            // the recipient).
            self.0
                .send_raw(from, to, raw)
                .await
                .map(drop)
                .map_err(|e| format!("Amazon SES: {e}"))
        })
    }
}
