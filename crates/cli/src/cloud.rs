//! The cloud parts the settings name, in builds with the `aws` and `vault` features: the
//! master-key provider (local key ring, AWS KMS, Vault Transit) and the secrets chain
//! (environment and files, plus AWS Secrets Manager, SSM Parameter Store and Vault KV).

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

/// Makes AWS clients from the settings and the standard credential variables; `None` when no
/// region is known (AWS is then not in use).
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
    let env = env.clone();
    let make = move || {
        let credentials = mhp_cloud::aws::AwsCredentials::from_lookup(|n| env(n))?;
        mhp_cloud::aws::AwsClient::new(&region, credentials, endpoint.clone())
    };
    // Fail at start-up, not at the first read, when the settings cannot work.
    make().map_err(|e| format!("aws: {e}"))?;
    Ok(Some(Box::new(make)))
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
            let make = aws_maker(settings, env)
                .map_err(Failure::Invalid)?
                .ok_or_else(|| {
                    Failure::Invalid("aws.region: is required for aws-kms (or AWS_REGION)".into())
                })?;
            let client = make().map_err(|e| Failure::Invalid(format!("aws: {e}")))?;
            let key_id = settings.keys.kms_key_id.clone().unwrap_or_default();
            Ok(Arc::new(mhp_cloud::adapters::KmsMasterKey::new(
                mhp_cloud::aws::Kms::new(client),
                key_id,
            )))
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
