//! The clients as MHP sees them: master-key providers for envelope encryption
//! ([`KmsMasterKey`], [`VaultTransitMasterKey`]) and the cloud end of the secrets chain
//! ([`CloudSecrets`]).

use mhp_crypto::envelope::{
    DataKey, KeyError, KeyFuture, MasterKeyProvider, WrapContext, WrappedKey,
};
use mhp_crypto::secrets::{RemoteSecrets, SecretError};
use mhp_domain::Secret;

use crate::CloudError;

fn provider_error(e: CloudError) -> KeyError {
    // The error names the service and its error code, never values.
    KeyError::Provider(e.to_string())
}

/// AWS KMS as the master key: organisation keys are wrapped with `Encrypt` under one KMS key,
/// bound to their name and version by the encryption context. KMS keeps every backing version
/// of a key it rotates (automatic rotation), so rotating within a key is KMS's business.
///
/// Moving to another KMS key (a multi-Region key, so that the key store opens in the recovery
/// Region too) is a new master version: the new key wraps as version N + 1 while the key it
/// replaces, named with its version, still unwraps what it wrapped, until `mhp keys rewrap`
/// has moved everything onto the new one and the old one is dropped from the settings.
#[cfg(feature = "aws")]
#[derive(Debug)]
pub struct KmsMasterKey {
    kms: crate::aws::Kms,
    /// Each version's KMS key (id, ARN or alias).
    keys: std::collections::BTreeMap<u32, String>,
    /// The version that wraps.
    current: u32,
}

#[cfg(feature = "aws")]
impl KmsMasterKey {
    /// The KMS key `key_id` (id, ARN or alias) through `kms`, as master version 1.
    pub fn new(kms: crate::aws::Kms, key_id: impl Into<String>) -> Self {
        Self {
            kms,
            keys: std::collections::BTreeMap::from([(1, key_id.into())]),
            current: 1,
        }
    }

    /// The KMS key `key_id` wrapping as master version `version`, and earlier keys that still
    /// unwrap what they wrapped, by version. Refused when a previous version is not below
    /// `version`, or a version is 0.
    pub fn with_previous(
        kms: crate::aws::Kms,
        version: u32,
        key_id: impl Into<String>,
        previous: impl IntoIterator<Item = (u32, String)>,
    ) -> Result<Self, KeyError> {
        let mut keys = std::collections::BTreeMap::new();
        for (v, key) in previous {
            if v == 0 || v >= version {
                return Err(KeyError::Provider(format!(
                    "a previous KMS key's version ({v}) must be between 1 and {}",
                    version.saturating_sub(1)
                )));
            }
            keys.insert(v, key);
        }
        keys.insert(version, key_id.into());
        Ok(Self {
            kms,
            keys,
            current: version,
        })
    }

    fn key_of(&self, version: u32) -> Result<&str, KeyError> {
        self.keys
            .get(&version)
            .map(String::as_str)
            .ok_or(KeyError::UnknownVersion(version))
    }
}

#[cfg(feature = "aws")]
impl MasterKeyProvider for KmsMasterKey {
    fn name(&self) -> &'static str {
        "aws-kms"
    }

    fn current_version(&self) -> u32 {
        self.current
    }

    fn wrap<'a>(&'a self, key: &'a DataKey, context: &'a WrapContext) -> KeyFuture<'a, WrappedKey> {
        Box::pin(async move {
            let bytes = self
                .kms
                .encrypt(self.key_of(self.current)?, key.expose(), &context.to_map())
                .await
                .map_err(provider_error)?;
            Ok(WrappedKey {
                wrapper_version: self.current,
                bytes,
            })
        })
    }

    fn unwrap<'a>(
        &'a self,
        wrapped: &'a WrappedKey,
        context: &'a WrapContext,
    ) -> KeyFuture<'a, DataKey> {
        Box::pin(async move {
            let key_id = self.key_of(wrapped.wrapper_version)?;
            let plain = self
                .kms
                .decrypt(&wrapped.bytes, &context.to_map(), Some(key_id))
                .await
                .map_err(|e| match e.code() {
                    Some("InvalidCiphertextException" | "IncorrectKeyException") => {
                        KeyError::Unwrap
                    }
                    _ => provider_error(e),
                })?;
            DataKey::from_slice(plain.expose()).ok_or(KeyError::Unwrap)
        })
    }

    fn rotate(&self) -> KeyFuture<'_, u32> {
        Box::pin(async {
            Err(KeyError::Unsupported(
                "AWS KMS rotates its key material itself: enable automatic rotation of the KMS \
                 key (old material keeps decrypting); to move to another KMS key, set \
                 keys.kms_key_id to it with keys.kms_key_version one higher and the old key in \
                 keys.kms_previous_key_ids, then run `mhp keys rewrap`; `mhp keys rotate --org` \
                 rotates MHP's organisation keys"
                    .into(),
            ))
        })
    }

    fn retire(&self, _version: u32) -> KeyFuture<'_, ()> {
        Box::pin(async {
            Err(KeyError::Unsupported(
                "a previous KMS key is retired by removing it from keys.kms_previous_key_ids \
                 once `mhp keys status` shows nothing wrapped by it"
                    .into(),
            ))
        })
    }

    fn live_versions(&self) -> Vec<u32> {
        self.keys.keys().copied().collect()
    }
}

/// Vault's Transit engine as the master key: wrapping is `transit/encrypt` with the wrap
/// context as Transit context, the version is Vault's key version (`vault:vN:`), `rotate`
/// rotates the Transit key. Retiring old versions is Vault's `min_decryption_version`, left to
/// the operator, since backups of the key store may still need them.
#[cfg(feature = "vault")]
#[derive(Debug)]
pub struct VaultTransitMasterKey {
    client: crate::vault::VaultClient,
    key: String,
    /// The newest version seen in an answer (0 before the first).
    latest: std::sync::atomic::AtomicU32,
}

#[cfg(feature = "vault")]
impl VaultTransitMasterKey {
    /// Transit key `key` through `client`.
    pub fn new(client: crate::vault::VaultClient, key: impl Into<String>) -> Self {
        Self {
            client,
            key: key.into(),
            latest: std::sync::atomic::AtomicU32::new(0),
        }
    }

    fn saw(&self, version: u32) {
        self.latest
            .fetch_max(version, std::sync::atomic::Ordering::SeqCst);
    }
}

#[cfg(feature = "vault")]
impl MasterKeyProvider for VaultTransitMasterKey {
    fn name(&self) -> &'static str {
        "vault-transit"
    }

    fn current_version(&self) -> u32 {
        self.latest.load(std::sync::atomic::Ordering::SeqCst).max(1)
    }

    fn wrap<'a>(&'a self, key: &'a DataKey, context: &'a WrapContext) -> KeyFuture<'a, WrappedKey> {
        Box::pin(async move {
            let ciphertext = self
                .client
                .transit_encrypt(&self.key, key.expose(), Some(&context.to_bytes()))
                .await
                .map_err(provider_error)?;
            let version = crate::vault::VaultClient::transit_key_version(&ciphertext)
                .ok_or_else(|| KeyError::Provider("Transit answered no key version".into()))?;
            self.saw(version);
            Ok(WrappedKey {
                wrapper_version: version,
                bytes: ciphertext.into_bytes(),
            })
        })
    }

    fn unwrap<'a>(
        &'a self,
        wrapped: &'a WrappedKey,
        context: &'a WrapContext,
    ) -> KeyFuture<'a, DataKey> {
        Box::pin(async move {
            let ciphertext = std::str::from_utf8(&wrapped.bytes).map_err(|_| KeyError::Unwrap)?;
            let plain = self
                .client
                .transit_decrypt(&self.key, ciphertext, Some(&context.to_bytes()))
                .await
                .map_err(|e| match e.status() {
                    Some(400) => KeyError::Unwrap,
                    _ => provider_error(e),
                })?;
            DataKey::from_slice(plain.expose()).ok_or(KeyError::Unwrap)
        })
    }

    /// Learns the newest version (rotated perhaps in Vault itself) by encrypting a probe: it
    /// needs no permission beyond the ones wrapping needs.
    fn refresh(&self) -> KeyFuture<'_, ()> {
        Box::pin(async move {
            let ciphertext = self
                .client
                .transit_encrypt(&self.key, &[0u8; 32], Some(b"mhp-version-probe"))
                .await
                .map_err(provider_error)?;
            if let Some(v) = crate::vault::VaultClient::transit_key_version(&ciphertext) {
                self.saw(v);
            }
            Ok(())
        })
    }

    fn rotate(&self) -> KeyFuture<'_, u32> {
        Box::pin(async move {
            let v = self
                .client
                .transit_rotate(&self.key)
                .await
                .map_err(provider_error)?;
            self.saw(v);
            Ok(v)
        })
    }

    fn retire(&self, _version: u32) -> KeyFuture<'_, ()> {
        Box::pin(async {
            Err(KeyError::Unsupported(
                "retire Transit key versions in Vault (min_decryption_version) once no backup \
                 of the key store needs them"
                    .into(),
            ))
        })
    }

    fn live_versions(&self) -> Vec<u32> {
        vec![self.current_version()]
    }
}

/// Secrets from AWS Secrets Manager (`secret://aws-sm/NAME[#FIELD]`, a field of a JSON
/// secret), SSM Parameter Store (`secret://ssm/NAME`) and Vault KV version 2
/// (`secret://vault/MOUNT/PATH#FIELD`). Each read runs on a thread of its own with a small
/// runtime and a client made for it (connections never outlive the runtime that opened them),
/// so it can be called from anywhere: at start-up, or inside the server's runtime.
#[derive(Default)]
pub struct CloudSecrets {
    #[cfg(feature = "aws")]
    aws: Option<MakeClient<crate::aws::AwsClient>>,
    #[cfg(feature = "vault")]
    vault: Option<MakeClient<crate::vault::VaultClient>>,
}

/// Makes a client.
type MakeClient<T> = Box<dyn Fn() -> Result<T, CloudError> + Send + Sync>;

impl std::fmt::Debug for CloudSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut d = f.debug_struct("CloudSecrets");
        #[cfg(feature = "aws")]
        d.field("aws", &self.aws.is_some());
        #[cfg(feature = "vault")]
        d.field("vault", &self.vault.is_some());
        d.finish()
    }
}

impl CloudSecrets {
    /// No provider yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Serves `aws-sm` and `ssm` through clients `make` makes.
    #[cfg(feature = "aws")]
    pub fn with_aws(
        mut self,
        make: impl Fn() -> Result<crate::aws::AwsClient, CloudError> + Send + Sync + 'static,
    ) -> Self {
        self.aws = Some(Box::new(make));
        self
    }

    /// Serves `vault` through clients `make` makes.
    #[cfg(feature = "vault")]
    pub fn with_vault(
        mut self,
        make: impl Fn() -> Result<crate::vault::VaultClient, CloudError> + Send + Sync + 'static,
    ) -> Self {
        self.vault = Some(Box::new(make));
        self
    }

    async fn fetch_async(
        &self,
        provider: &str,
        path: &str,
        field: Option<&str>,
    ) -> Result<Secret<String>, SecretError> {
        let name = format!("{provider}/{path}");
        let failed = |e: CloudError| {
            if e.is_not_found() {
                SecretError::NotFound(name.clone())
            } else {
                SecretError::Read(name.clone(), e.to_string())
            }
        };
        let unavailable = || SecretError::Unavailable(provider.to_owned());
        match provider {
            #[cfg(feature = "aws")]
            "aws-sm" => {
                let client = self.aws.as_ref().ok_or_else(unavailable)?().map_err(failed)?;
                let value = crate::aws::SecretsManager::new(client)
                    .get_secret_value(path, None)
                    .await
                    .map_err(failed)?;
                match field {
                    None => Ok(value),
                    Some(f) => {
                        json_field(&value, f).ok_or(SecretError::NotFound(format!("{name}#{f}")))
                    }
                }
            }
            #[cfg(feature = "aws")]
            "ssm" => {
                if field.is_some() {
                    return Err(SecretError::Malformed);
                }
                let client = self.aws.as_ref().ok_or_else(unavailable)?().map_err(failed)?;
                crate::aws::Ssm::new(client)
                    .get_parameter(&format!("/{}", path.trim_start_matches('/')))
                    .await
                    .map_err(failed)
            }
            #[cfg(feature = "vault")]
            "vault" => {
                let client = self.vault.as_ref().ok_or_else(unavailable)?().map_err(failed)?;
                let field = field.ok_or(SecretError::Malformed)?;
                let (mount, rest) = path.split_once('/').ok_or(SecretError::Malformed)?;
                let mut values = client.kv_get(mount, rest).await.map_err(failed)?;
                values
                    .remove(field)
                    .ok_or(SecretError::NotFound(format!("{name}#{field}")))
            }
            _ => {
                let _ = (path, field, failed);
                Err(unavailable())
            }
        }
    }
}

/// One field of a JSON object held in a secret, as text.
#[cfg(feature = "aws")]
fn json_field(secret: &Secret<String>, field: &str) -> Option<Secret<String>> {
    let parsed: serde_json::Value = serde_json::from_str(secret.expose()).ok()?;
    let value = parsed.get(field)?;
    Some(Secret::new(match value {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }))
}

impl RemoteSecrets for CloudSecrets {
    fn fetch(
        &self,
        provider: &str,
        path: &str,
        field: Option<&str>,
    ) -> Result<Secret<String>, SecretError> {
        let name = format!("{provider}/{path}");
        std::thread::scope(|scope| {
            scope
                .spawn(|| {
                    let runtime = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .map_err(|e| SecretError::Read(name.clone(), e.kind().to_string()))?;
                    runtime.block_on(self.fetch_async(provider, path, field))
                })
                .join()
                .unwrap_or_else(|_| Err(SecretError::Read(name.clone(), "reader failed".into())))
        })
    }
}
