//! `AwsClient`, `Kms`, `SecretsManager` and `Ssm` against `AwsStandIn`, for what moto does not
//! check (moto.rs covers the services' answers with signatures checked by moto): signatures
//! stale or for another region, session tokens left out, requests forged by hand, KMS's own
//! error names, transport errors.

use std::collections::BTreeMap;
use std::sync::Arc;

use mhp_cloud::CloudError;
use mhp_cloud::aws::sigv4::{self, AmzDate};
use mhp_cloud::aws::{AwsClient, AwsCredentials, JSON_1_1, Kms, SecretsManager, Ssm};
use mhp_cloud::standin::AwsStandIn;
use mhp_domain::{Clock, FixedClock, Secret, Timestamp};
use serde_json::json;

use crate::assert_reveals_nothing;

const REGION: &str = "eu-west-1";
const ACCESS_KEY_ID: &str = "AKIDSTANDIN";
const SECRET_ACCESS_KEY: &str = "StandInSecretAccessKey/0123456789abcdefghij";
const WRONG_SECRET: &str = "WrongSecretAccessKey/0123456789abcdefghijk";
const SESSION_TOKEN: &str = "FwoGZXIvYXdzEStandInSessionToken0123456789==";
/// 2024-05-31T16:08:37Z.
const NOW_MS: i64 = 1_717_171_717_000;
const PLAINTEXT: &[u8] = b"Jane Doe, born 1990-04-01, ACL reconstruction";
const PLAINTEXT_TEXT: &str = "Jane Doe";

fn credentials(secret: &str, token: Option<&str>) -> AwsCredentials {
    AwsCredentials {
        access_key_id: ACCESS_KEY_ID.to_owned(),
        secret_access_key: Secret::new(secret.to_owned()),
        session_token: token.map(|t| Secret::new(t.to_owned())),
    }
}

fn clock_at(ms: i64) -> Arc<dyn Clock> {
    Arc::new(FixedClock(Timestamp::from_millis(ms)))
}

async fn standin() -> AwsStandIn {
    let standin = AwsStandIn::start(
        REGION,
        credentials(SECRET_ACCESS_KEY, None),
        clock_at(NOW_MS),
    )
    .await
    .unwrap();
    standin.create_key("key-1");
    standin.create_key("key-2");
    standin
}

fn client_for(standin: &AwsStandIn, region: &str, creds: AwsCredentials, now_ms: i64) -> AwsClient {
    AwsClient::new(region, creds, Some(standin.endpoint()))
        .unwrap()
        .with_clock(clock_at(now_ms))
}

fn client(standin: &AwsStandIn) -> AwsClient {
    client_for(
        standin,
        REGION,
        credentials(SECRET_ACCESS_KEY, None),
        NOW_MS,
    )
}

fn context(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

#[track_caller]
fn assert_code(result: Result<impl std::fmt::Debug, CloudError>, code: &str) -> CloudError {
    let error = result.unwrap_err();
    assert_eq!(error.code(), Some(code), "{error}");
    assert_reveals_nothing(
        &error,
        &[
            SECRET_ACCESS_KEY,
            WRONG_SECRET,
            SESSION_TOKEN,
            PLAINTEXT_TEXT,
        ],
    );
    error
}

#[tokio::test]
async fn kms_refuses_another_context_key_or_tampered_blob() {
    let standin = standin().await;
    let kms = Kms::new(client(&standin));
    let ctx = context(&[("org", "org-1")]);
    let blob = kms.encrypt("key-1", PLAINTEXT, &ctx).await.unwrap();

    let other_org = context(&[("org", "org-2")]);
    let e = assert_code(
        kms.decrypt(&blob, &other_org, None).await,
        "InvalidCiphertextException",
    );
    assert_eq!(e.status(), Some(400));
    assert_code(
        kms.decrypt(&blob, &BTreeMap::new(), None).await,
        "InvalidCiphertextException",
    );
    let more = context(&[("org", "org-1"), ("extra", "x")]);
    assert_code(
        kms.decrypt(&blob, &more, None).await,
        "InvalidCiphertextException",
    );
    assert_code(
        kms.decrypt(&blob, &ctx, Some("key-2")).await,
        "IncorrectKeyException",
    );
    let mut tampered = blob.clone();
    let last = tampered.len() - 1;
    tampered[last] ^= 1;
    assert_code(
        kms.decrypt(&tampered, &ctx, None).await,
        "InvalidCiphertextException",
    );
}

#[tokio::test]
async fn a_wrong_secret_is_refused_without_revealing_either_secret() {
    let standin = standin().await;
    standin.put_secret("mhp/db", "db-password-v1");
    let wrong = client_for(&standin, REGION, credentials(WRONG_SECRET, None), NOW_MS);
    let e = assert_code(
        SecretsManager::new(wrong.clone())
            .get_secret_value("mhp/db", None)
            .await,
        "InvalidSignatureException",
    );
    assert_eq!(
        e.to_string(),
        "secretsmanager answered HTTP 400 (InvalidSignatureException)"
    );
    assert_reveals_nothing(&e, &["db-password-v1"]);
    assert_code(
        Kms::new(wrong.clone())
            .encrypt("key-1", PLAINTEXT, &BTreeMap::new())
            .await,
        "InvalidSignatureException",
    );
    let shown = format!("{wrong:?}");
    assert!(!shown.contains(WRONG_SECRET), "{shown}");

    let mut unknown = credentials(SECRET_ACCESS_KEY, None);
    unknown.access_key_id = "AKIDUNKNOWN".into();
    let stranger = client_for(&standin, REGION, unknown, NOW_MS);
    assert_code(
        Ssm::new(stranger).get_parameter("/mhp/pepper").await,
        "UnrecognizedClientException",
    );
}

#[tokio::test]
async fn signatures_must_be_fresh_and_for_the_right_region() {
    let standin = standin().await;
    standin.put_parameter("/mhp/pepper", "pepper-value");
    let at = |ms: i64| {
        Ssm::new(client_for(
            &standin,
            REGION,
            credentials(SECRET_ACCESS_KEY, None),
            ms,
        ))
    };

    let minute = 60_000;
    assert!(
        at(NOW_MS - 4 * minute)
            .get_parameter("/mhp/pepper")
            .await
            .is_ok()
    );
    assert!(
        at(NOW_MS + 4 * minute)
            .get_parameter("/mhp/pepper")
            .await
            .is_ok()
    );
    assert_code(
        at(NOW_MS - 10 * minute).get_parameter("/mhp/pepper").await,
        "InvalidSignatureException",
    );
    assert_code(
        at(NOW_MS + 10 * minute).get_parameter("/mhp/pepper").await,
        "InvalidSignatureException",
    );

    let elsewhere = client_for(
        &standin,
        "us-east-1",
        credentials(SECRET_ACCESS_KEY, None),
        NOW_MS,
    );
    assert_code(
        Ssm::new(elsewhere).get_parameter("/mhp/pepper").await,
        "InvalidSignatureException",
    );
}

#[tokio::test]
async fn temporary_credentials_need_their_session_token() {
    let standin = AwsStandIn::start(
        REGION,
        credentials(SECRET_ACCESS_KEY, Some(SESSION_TOKEN)),
        clock_at(NOW_MS),
    )
    .await
    .unwrap();
    standin.put_parameter("/mhp/pepper", "pepper-value");
    let with = |token: Option<&str>| {
        Ssm::new(client_for(
            &standin,
            REGION,
            credentials(SECRET_ACCESS_KEY, token),
            NOW_MS,
        ))
    };
    let value = with(Some(SESSION_TOKEN))
        .get_parameter("/mhp/pepper")
        .await
        .unwrap();
    assert_eq!(value.expose(), "pepper-value");
    assert_code(
        with(None).get_parameter("/mhp/pepper").await,
        "UnrecognizedClientException",
    );
    assert_code(
        with(Some("FwoGZXIvYXdzEOtherSessionToken"))
            .get_parameter("/mhp/pepper")
            .await,
        "UnrecognizedClientException",
    );
}

/// A request signed by hand, to show what the stand-in refuses that the client never sends.
struct HandSigned<'a> {
    date: Option<&'a str>,
    target: Option<&'a str>,
    signed: &'a [&'a str],
    authorization: bool,
    body_sent: &'a str,
}

impl Default for HandSigned<'_> {
    fn default() -> Self {
        Self {
            date: Some("20240531T160837Z"),
            target: Some("AmazonSSM.GetParameter"),
            signed: &["content-type", "host", "x-amz-date", "x-amz-target"],
            authorization: true,
            body_sent: r#"{"Name":"/mhp/pepper","WithDecryption":true}"#,
        }
    }
}

async fn send_by_hand(standin: &AwsStandIn, r: HandSigned<'_>) -> (u16, serde_json::Value) {
    let url = standin.endpoint();
    let host = format!("127.0.0.1:{}", url.port().unwrap());
    let body = r#"{"Name":"/mhp/pepper","WithDecryption":true}"#;
    let mut present: Vec<(&str, &str)> = vec![("content-type", JSON_1_1), ("host", &host)];
    if let Some(d) = r.date {
        present.push(("x-amz-date", d));
    }
    if let Some(t) = r.target {
        present.push(("x-amz-target", t));
    }
    let to_sign: Vec<(&str, &str)> = present
        .iter()
        .copied()
        .filter(|(n, _)| r.signed.contains(n))
        .collect();
    let date = AmzDate::parse("20240531T160837Z").unwrap();
    let payload = sigv4::payload_hash(body.as_bytes());
    let signature = sigv4::sign(
        &sigv4::Request {
            method: "POST",
            path: "/",
            query: &[],
            headers: &to_sign,
            payload_sha256: &payload,
        },
        &sigv4::Scope {
            date: &date,
            region: REGION,
            service: "ssm",
        },
        ACCESS_KEY_ID,
        &Secret::new(SECRET_ACCESS_KEY.to_owned()),
    );
    let mut request = reqwest::Client::new()
        .post(url)
        .body(r.body_sent.to_owned());
    for (name, value) in &present {
        if *name != "host" {
            request = request.header(*name, *value);
        }
    }
    if r.authorization {
        request = request.header("authorization", signature.authorization);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

#[tokio::test]
async fn the_standin_verifies_what_the_client_never_gets_wrong() {
    let standin = standin().await;
    standin.put_parameter("/mhp/pepper", "pepper-value");

    // The hand-signed request itself is right: it is answered.
    let (status, answer) = send_by_hand(&standin, HandSigned::default()).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["Parameter"]["Value"], "pepper-value");

    let refused = [
        (
            HandSigned {
                authorization: false,
                ..HandSigned::default()
            },
            403,
            "MissingAuthenticationTokenException",
        ),
        (
            HandSigned {
                signed: &["content-type", "host", "x-amz-date"],
                ..HandSigned::default()
            },
            400,
            "IncompleteSignatureException",
        ),
        (
            HandSigned {
                signed: &["content-type", "x-amz-date", "x-amz-target"],
                ..HandSigned::default()
            },
            400,
            "IncompleteSignatureException",
        ),
        (
            // x-amz-date listed as signed but not sent.
            HandSigned {
                date: None,
                signed: &["content-type", "host", "x-amz-target"],
                ..HandSigned::default()
            },
            400,
            "IncompleteSignatureException",
        ),
        (
            HandSigned {
                body_sent: r#"{"Name":"/mhp/other","WithDecryption":true}"#,
                ..HandSigned::default()
            },
            400,
            "InvalidSignatureException",
        ),
    ];
    for (request, status, kind) in refused {
        let (got_status, answer) = send_by_hand(&standin, request).await;
        assert_eq!(
            (got_status, answer["__type"].as_str()),
            (status, Some(kind)),
            "{answer}"
        );
        assert!(!answer.to_string().contains("pepper-value"));
    }
}

#[tokio::test]
async fn the_generic_call_speaks_json_and_maps_unknown_operations() {
    let standin = standin().await;
    let client = client(&standin);
    let answer = client
        .call(
            "kms",
            "TrentService.Encrypt",
            json!({ "KeyId": "key-1", "Plaintext": "aGVsbG8=" }),
        )
        .await
        .unwrap();
    assert!(answer["CiphertextBlob"].is_string(), "{answer}");
    assert_eq!(answer["KeyId"], standin.key_arn("key-1"));

    let e = client
        .call("kms", "TrentService.ScheduleKeyDeletion", json!({}))
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("UnknownOperationException"));
    // Signed for another service than the operation's.
    let e = client
        .call(
            "ssm",
            "TrentService.Encrypt",
            json!({ "KeyId": "key-1", "Plaintext": "aGVsbG8=" }),
        )
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("InvalidSignatureException"));
    assert_eq!(standin.total_requests(), 3);
}

#[tokio::test]
async fn an_unreachable_endpoint_is_a_transport_error() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let endpoint = url::Url::parse(&format!("http://127.0.0.1:{port}/")).unwrap();
    let client =
        AwsClient::new(REGION, credentials(SECRET_ACCESS_KEY, None), Some(endpoint)).unwrap();
    let e = Kms::new(client)
        .encrypt("key-1", PLAINTEXT, &BTreeMap::new())
        .await
        .unwrap_err();
    assert!(
        matches!(
            e,
            CloudError::Transport {
                kind: "connect",
                ..
            }
        ),
        "{e:?}"
    );
    assert_reveals_nothing(&e, &[SECRET_ACCESS_KEY, PLAINTEXT_TEXT]);
}
