//! The adapters MHP uses, against the stand-ins: KMS and Vault Transit as master-key
//! providers, and the cloud end of the secrets chain (with the TTL cache of
//! `mhp_crypto::secrets::Secrets` picking up a rotated value).

use std::sync::Arc;
use std::time::Duration;

use mhp_cloud::adapters::{CloudSecrets, KmsMasterKey, VaultTransitMasterKey};
use mhp_cloud::aws::{AwsClient, AwsCredentials, Kms};
use mhp_cloud::standin::{AwsStandIn, VaultStandIn};
use mhp_cloud::vault::VaultClient;
use mhp_crypto::envelope::{DataKey, KeyError, MasterKeyProvider, WrapContext};
use mhp_crypto::secrets::{SecretError, Secrets};
use mhp_domain::{Secret, SystemClock};
use serde_json::json;

const REGION: &str = "eu-west-1";

fn credentials() -> AwsCredentials {
    AwsCredentials {
        access_key_id: "AKIDADAPTER".to_owned(),
        secret_access_key: Secret::new("AdapterSecretAccessKey/0123456789abcdef".to_owned()),
        session_token: None,
    }
}

async fn aws() -> AwsStandIn {
    let standin = AwsStandIn::start(REGION, credentials(), Arc::new(SystemClock))
        .await
        .unwrap();
    standin.create_key("mhp-master");
    standin
}

fn ctx(id: &str, version: u32) -> WrapContext {
    WrapContext {
        key_id: id.into(),
        version,
    }
}

#[tokio::test]
async fn kms_wraps_organisation_keys_bound_to_their_name() {
    let standin = aws().await;
    let client = AwsClient::new(REGION, credentials(), Some(standin.endpoint())).unwrap();
    let kms = KmsMasterKey::new(Kms::new(client), "mhp-master");
    let key = DataKey::generate().unwrap();
    let wrapped = kms.wrap(&key, &ctx("org/a", 1)).await.unwrap();
    assert_eq!(wrapped.wrapper_version, 1);
    assert!(!wrapped.bytes.windows(32).any(|w| w == key.expose()));
    let back = kms.unwrap(&wrapped, &ctx("org/a", 1)).await.unwrap();
    assert_eq!(back.expose(), key.expose());
    assert!(matches!(
        kms.unwrap(&wrapped, &ctx("org/b", 1)).await,
        Err(KeyError::Unwrap)
    ));
    assert!(matches!(kms.rotate().await, Err(KeyError::Unsupported(_))));
    assert_eq!(standin.request_count("TrentService.Decrypt"), 2);
}

#[tokio::test]
async fn vault_transit_wraps_rotates_and_still_unwraps_older_versions() {
    let token = Secret::new("hvs.adapter-token".to_owned());
    let standin = VaultStandIn::start(token.clone(), None).await.unwrap();
    let client = VaultClient::new(standin.addr(), token, None).unwrap();
    let transit = VaultTransitMasterKey::new(client, "mhp-master");
    let key = DataKey::generate().unwrap();
    let v1 = transit.wrap(&key, &ctx("org/a", 1)).await.unwrap();
    assert_eq!((v1.wrapper_version, transit.current_version()), (1, 1));
    assert_eq!(transit.rotate().await.unwrap(), 2);
    assert_eq!(standin.latest_version("mhp-master"), Some(2));
    let v2 = transit.wrap(&key, &ctx("org/a", 1)).await.unwrap();
    assert_eq!(v2.wrapper_version, 2);
    for wrapped in [&v1, &v2] {
        let back = transit.unwrap(wrapped, &ctx("org/a", 1)).await.unwrap();
        assert_eq!(back.expose(), key.expose());
    }
    assert!(matches!(
        transit.unwrap(&v2, &ctx("subject/x", 1)).await,
        Err(KeyError::Unwrap)
    ));
}

// Multi-threaded: a read blocks its caller's thread (as in the server, whose runtime has
// several), while the stand-ins answer on this runtime.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_secrets_chain_reads_aws_and_vault_and_sees_rotation_after_its_ttl() {
    let aws = aws().await;
    aws.put_secret("mhp/prod", r#"{"db_password":"pw-one","port":5432}"#);
    aws.put_parameter("/mhp/prod/api", "param-one");
    let token = Secret::new("hvs.adapter-token".to_owned());
    let vault = VaultStandIn::start(token.clone(), None).await.unwrap();
    vault.put_kv("secret", "mhp/sso", json!({"client_secret": "vault-one"}));

    let endpoint = aws.endpoint();
    let addr = vault.addr();
    let remote = CloudSecrets::new()
        .with_aws(move || AwsClient::new(REGION, credentials(), Some(endpoint.clone())))
        .with_vault(move || VaultClient::new(addr.clone(), token.clone(), None));
    let remote = Arc::new(remote);
    let cached = Secrets::new(Duration::from_secs(3600)).with_remote(remote.clone());
    let fresh = Secrets::new(Duration::ZERO).with_remote(remote);
    let read = |s: &Secrets, r: &str| s.resolve(r).map(|v| v.expose().clone());

    assert_eq!(
        read(&cached, "secret://aws-sm/mhp/prod#db_password").unwrap(),
        "pw-one"
    );
    assert_eq!(
        read(&cached, "secret://aws-sm/mhp/prod#port").unwrap(),
        "5432"
    );
    assert_eq!(
        read(&cached, "secret://ssm/mhp/prod/api").unwrap(),
        "param-one"
    );
    assert_eq!(
        read(&cached, "secret://vault/secret/mhp/sso#client_secret").unwrap(),
        "vault-one"
    );

    aws.put_secret("mhp/prod", r#"{"db_password":"pw-two"}"#);
    vault.put_kv("secret", "mhp/sso", json!({"client_secret": "vault-two"}));
    assert_eq!(
        read(&cached, "secret://aws-sm/mhp/prod#db_password").unwrap(),
        "pw-one"
    );
    assert_eq!(
        read(&fresh, "secret://aws-sm/mhp/prod#db_password").unwrap(),
        "pw-two"
    );
    assert_eq!(
        read(&fresh, "secret://vault/secret/mhp/sso#client_secret").unwrap(),
        "vault-two"
    );

    for (reference, want) in [
        ("secret://aws-sm/mhp/none#x", "not found"),
        ("secret://aws-sm/mhp/prod#nofield", "not found"),
        ("secret://ssm/mhp/none", "not found"),
        ("secret://vault/secret/mhp/sso#nofield", "not found"),
    ] {
        let err = fresh.resolve(reference).unwrap_err();
        assert!(
            matches!(err, SecretError::NotFound(_)),
            "{reference}: {err}"
        );
        assert!(err.to_string().contains(want), "{err}");
        assert!(!err.to_string().contains("pw-"), "{err}");
    }
    // A wrong AWS secret key: a clear refusal that shows no secret.
    let endpoint = aws.endpoint();
    let wrong = CloudSecrets::new().with_aws(move || {
        let mut c = credentials();
        c.secret_access_key = Secret::new("WrongSecretAccessKey/000000000000000000".into());
        AwsClient::new(REGION, c, Some(endpoint.clone()))
    });
    let err = Secrets::new(Duration::ZERO)
        .with_remote(Arc::new(wrong))
        .resolve("secret://aws-sm/mhp/prod#db_password")
        .unwrap_err();
    let shown = err.to_string();
    assert!(shown.contains("InvalidSignatureException"), "{shown}");
    assert!(
        !shown.contains("Wrong") && !shown.contains("pw-"),
        "{shown}"
    );
}
