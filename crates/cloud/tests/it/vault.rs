//! `VaultClient` against `VaultStandIn`.

use mhp_cloud::CloudError;
use mhp_cloud::standin::VaultStandIn;
use mhp_cloud::vault::VaultClient;
use mhp_domain::Secret;
use serde_json::json;

use crate::assert_reveals_nothing;

const TOKEN: &str = "hvs.StandInToken0123456789abcdef";
const WRONG_TOKEN: &str = "hvs.WrongToken0123456789abcdefgh";
const PLAINTEXT: &[u8] = b"Jane Doe, born 1990-04-01, ACL reconstruction";
const PLAINTEXT_TEXT: &str = "Jane Doe";
const CONTEXT: &[u8] = b"org-1/subjects/name";

async fn standin() -> VaultStandIn {
    VaultStandIn::start(Secret::new(TOKEN.to_owned()), None)
        .await
        .unwrap()
}

fn client(standin: &VaultStandIn, token: &str) -> VaultClient {
    VaultClient::new(standin.addr(), Secret::new(token.to_owned()), None).unwrap()
}

#[track_caller]
fn assert_refused(result: Result<impl std::fmt::Debug, CloudError>, status: u16, code: &str) {
    let error = result.unwrap_err();
    assert_eq!(
        (error.status(), error.code()),
        (Some(status), Some(code)),
        "{error}"
    );
    assert_reveals_nothing(&error, &[TOKEN, WRONG_TOKEN, PLAINTEXT_TEXT]);
}

#[tokio::test]
async fn transit_round_trips_with_its_context() {
    let standin = standin().await;
    let vault = client(&standin, TOKEN);
    let ciphertext = vault
        .transit_encrypt("org-key", PLAINTEXT, Some(CONTEXT))
        .await
        .unwrap();
    assert!(ciphertext.starts_with("vault:v1:"), "{ciphertext}");
    assert!(!ciphertext.contains(PLAINTEXT_TEXT));
    assert_eq!(VaultClient::transit_key_version(&ciphertext), Some(1));

    let plain = vault
        .transit_decrypt("org-key", &ciphertext, Some(CONTEXT))
        .await
        .unwrap();
    assert_eq!(plain.expose(), PLAINTEXT);
    assert_eq!(standin.request_count("/v1/transit/encrypt/org-key"), 1);
    assert_eq!(standin.request_count("/v1/transit/decrypt/org-key"), 1);

    let without = vault
        .transit_encrypt("plain-key", b"x", None)
        .await
        .unwrap();
    let plain = vault
        .transit_decrypt("plain-key", &without, None)
        .await
        .unwrap();
    assert_eq!(plain.expose(), b"x");
}

#[tokio::test]
async fn transit_refuses_another_context_or_key() {
    let standin = standin().await;
    let vault = client(&standin, TOKEN);
    let ciphertext = vault
        .transit_encrypt("org-key", PLAINTEXT, Some(CONTEXT))
        .await
        .unwrap();
    let failed = "cipher: message authentication failed";
    assert_refused(
        vault
            .transit_decrypt("org-key", &ciphertext, Some(b"org-2/subjects/name"))
            .await,
        400,
        failed,
    );
    assert_refused(
        vault.transit_decrypt("org-key", &ciphertext, None).await,
        400,
        failed,
    );
    vault
        .transit_encrypt("other-key", b"x", None)
        .await
        .unwrap();
    assert_refused(
        vault
            .transit_decrypt("other-key", &ciphertext, Some(CONTEXT))
            .await,
        400,
        failed,
    );
    assert_refused(
        vault
            .transit_decrypt("no-such-key", &ciphertext, Some(CONTEXT))
            .await,
        400,
        "encryption key not found",
    );
    assert_refused(
        vault
            .transit_decrypt("org-key", "not-a-ciphertext", Some(CONTEXT))
            .await,
        400,
        "invalid ciphertext: no prefix",
    );
    assert_refused(
        vault
            .transit_decrypt("org-key", "vault:v7:AAAA", Some(CONTEXT))
            .await,
        400,
        "invalid key version",
    );
}

#[tokio::test]
async fn rotation_keeps_old_versions_and_rewrap_moves_to_the_newest() {
    let standin = standin().await;
    let vault = client(&standin, TOKEN);
    let v1 = vault
        .transit_encrypt("org-key", PLAINTEXT, Some(CONTEXT))
        .await
        .unwrap();
    assert_eq!(standin.rotate("org-key"), 2);
    assert_eq!(standin.rotate("org-key"), 3);
    assert_eq!(standin.latest_version("org-key"), Some(3));

    let v3 = vault
        .transit_encrypt("org-key", PLAINTEXT, Some(CONTEXT))
        .await
        .unwrap();
    assert_eq!(VaultClient::transit_key_version(&v3), Some(3));
    let old = vault
        .transit_decrypt("org-key", &v1, Some(CONTEXT))
        .await
        .unwrap();
    assert_eq!(old.expose(), PLAINTEXT);

    let rewrapped = vault
        .transit_rewrap("org-key", &v1, Some(CONTEXT))
        .await
        .unwrap();
    assert_eq!(VaultClient::transit_key_version(&rewrapped), Some(3));
    assert_ne!(rewrapped, v1);
    let plain = vault
        .transit_decrypt("org-key", &rewrapped, Some(CONTEXT))
        .await
        .unwrap();
    assert_eq!(plain.expose(), PLAINTEXT);

    assert_refused(
        vault.transit_rewrap("org-key", &v1, Some(b"org-2")).await,
        400,
        "cipher: message authentication failed",
    );
}

#[tokio::test]
async fn a_wrong_token_or_namespace_is_denied_without_revealing_it() {
    let standin = standin().await;
    standin.put_kv("secret", "mhp/db", json!({ "password": "db-password-v1" }));
    let stranger = client(&standin, WRONG_TOKEN);
    assert_refused(
        stranger.transit_encrypt("org-key", PLAINTEXT, None).await,
        403,
        "permission denied",
    );
    let e = stranger.kv_get("secret", "mhp/db").await.unwrap_err();
    assert_eq!(e.to_string(), "vault answered HTTP 403 (permission denied)");
    assert_reveals_nothing(&e, &[WRONG_TOKEN, "db-password-v1"]);
    assert!(!format!("{stranger:?}").contains(WRONG_TOKEN));

    let namespaced = VaultStandIn::start(Secret::new(TOKEN.to_owned()), Some("team-a".into()))
        .await
        .unwrap();
    namespaced.put_kv("secret", "mhp/db", json!({ "password": "db-password-v1" }));
    let in_ns = |ns: Option<&str>| {
        VaultClient::new(
            namespaced.addr(),
            Secret::new(TOKEN.to_owned()),
            ns.map(str::to_owned),
        )
        .unwrap()
    };
    assert!(
        in_ns(Some("team-a"))
            .kv_get("secret", "mhp/db")
            .await
            .is_ok()
    );
    assert_refused(
        in_ns(None).kv_get("secret", "mhp/db").await,
        403,
        "permission denied",
    );
    assert_refused(
        in_ns(Some("team-b")).kv_get("secret", "mhp/db").await,
        403,
        "permission denied",
    );
}

#[tokio::test]
async fn kv_reads_the_newest_version_as_text() {
    let standin = standin().await;
    let vault = client(&standin, TOKEN);
    standin.put_kv(
        "secret",
        "mhp/db",
        json!({ "password": "db-password-v1", "port": 5432, "tls": { "verify": true } }),
    );
    let values = vault.kv_get("secret", "mhp/db").await.unwrap();
    let shown: Vec<(&str, &str)> = values
        .iter()
        .map(|(k, v)| (k.as_str(), v.expose().as_str()))
        .collect();
    assert_eq!(
        shown,
        [
            ("password", "db-password-v1"),
            ("port", "5432"),
            ("tls", r#"{"verify":true}"#)
        ]
    );
    assert!(!format!("{values:?}").contains("db-password-v1"));

    standin.put_kv("secret", "mhp/db", json!({ "password": "db-password-v2" }));
    let values = vault.kv_get("secret", "mhp/db").await.unwrap();
    assert_eq!(values["password"].expose(), "db-password-v2");
    assert_eq!(standin.request_count("/v1/secret/data/mhp/db"), 2);

    standin.put_kv("kv/team-a", "app config", json!({ "key": "v" }));
    let values = vault.kv_get("kv/team-a", "app config").await.unwrap();
    assert_eq!(values["key"].expose(), "v");

    let e = vault.kv_get("secret", "mhp/none").await.unwrap_err();
    assert!(e.is_not_found(), "{e}");
    assert_eq!(e.to_string(), "vault has no such resource");
    standin.delete_kv("secret", "mhp/db");
    let e = vault.kv_get("secret", "mhp/db").await.unwrap_err();
    assert!(e.is_not_found(), "{e}");
    assert_reveals_nothing(&e, &["db-password-v1", "db-password-v2", TOKEN]);

    assert!(matches!(
        vault.kv_get("secret", "../sys/seal").await,
        Err(CloudError::Config(_))
    ));
}
