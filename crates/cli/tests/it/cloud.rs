//! The binary with its cloud features against the stand-ins (AWS and Vault cannot run here):
//! AWS KMS and Vault Transit as the master key, the database URL read from AWS Secrets
//! Manager, the Vault token from the environment.

use std::sync::Arc;

use mhp_cloud::aws::AwsCredentials;
use mhp_cloud::standin::{AwsStandIn, VaultStandIn};
use mhp_domain::{Secret, SystemClock};
use mhp_test_support::MhpProcess;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::{MHP, mhp, printed_id, printed_token, stderr, stdout};

const SECRET_KEY: &str = "CliStandInSecretAccessKey/0123456789abcd";

/// The AWS stand-in, in eu-west-1, accepting the test's credentials.
async fn aws_standin() -> AwsStandIn {
    AwsStandIn::start(
        "eu-west-1",
        AwsCredentials {
            access_key_id: "AKIDCLI".into(),
            secret_access_key: Secret::new(SECRET_KEY.into()),
            session_token: None,
        },
        Arc::new(SystemClock),
    )
    .await
    .unwrap()
}

async fn subject_round_trip(env: &[(&str, &str)], data: &str) -> (String, String, String) {
    let run = |args: &[&str]| {
        let mut full: Vec<&str> = args.to_vec();
        full.extend(["--data-dir", data]);
        mhp(&full, env, None)
    };
    let org = printed_id(
        &run(&[
            "admin",
            "bootstrap",
            "--org",
            "Cloudy",
            "--email",
            "ops@example.org",
        ]),
        "organisation:",
    );
    let admin = printed_token(&run(&[
        "admin",
        "api-key",
        "create",
        "--org",
        &org,
        "--role",
        "org_admin",
        "--name",
        "a",
    ]));
    let p = MhpProcess::serve(MHP, &["--data-dir", data], env);
    let res = reqwest::Client::new()
        .post(format!("{}/api/v1/orgs/{org}/subjects", p.base))
        .bearer_auth(&admin)
        .json(&json!({"name": "Kim Cloudwright"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let body: Value = res.json().await.unwrap();
    (org, admin, body["id"].as_str().unwrap().to_owned())
}

async fn read_name(env: &[(&str, &str)], data: &str, org: &str, key: &str, id: &str) -> String {
    let p = MhpProcess::serve(MHP, &["--data-dir", data], env);
    let res = reqwest::Client::new()
        .get(format!("{}/api/v1/orgs/{org}/subjects/{id}", p.base))
        .bearer_auth(key)
        .send()
        .await
        .unwrap();
    let status = res.status();
    let body: Value = res.json().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{body}");
    body["name"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws_kms_wraps_the_keys_and_secrets_manager_holds_the_database_url() {
    let standin = aws_standin().await;
    standin.create_key("mhp-master");
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data").display().to_string();
    let db_url = format!(
        "sqlite://{}/elsewhere.sqlite?mode=rwc",
        dir.path().display()
    );
    standin.put_secret("mhp/db", &json!({ "url": db_url }).to_string());
    let endpoint = standin.endpoint().to_string();
    let env = [
        ("AWS_ACCESS_KEY_ID", "AKIDCLI"),
        ("AWS_SECRET_ACCESS_KEY", SECRET_KEY),
        ("MHP_AWS_REGION", "eu-west-1"),
        ("MHP_AWS_ENDPOINT", endpoint.as_str()),
        ("MHP_KEYS_PROVIDER", "aws-kms"),
        ("MHP_KEYS_KMS_KEY_ID", "mhp-master"),
        ("MHP_DATABASE_URL", "secret://aws-sm/mhp/db#url"),
    ];
    let (org, admin, id) = subject_round_trip(&env, &data).await;
    assert!(
        dir.path().join("elsewhere.sqlite").exists(),
        "the database is where the secret said"
    );
    assert_eq!(
        standin.request_count("TrentService.Encrypt"),
        2,
        "the installation root and one org key"
    );
    assert!(
        !std::path::Path::new(&data).join("master.key").exists()
            && !std::path::Path::new(&data).join("keyring").exists(),
        "no key file in the data directory: KMS wraps the root"
    );
    let decrypts = standin.request_count("TrentService.Decrypt");
    // A new process unwraps the organisation key through KMS again.
    assert_eq!(
        read_name(&env, &data, &org, &admin, &id).await,
        "Kim Cloudwright"
    );
    assert!(standin.request_count("TrentService.Decrypt") > decrypts);

    let rotate = mhp(
        &["keys", "rotate", "--master", "--data-dir", &data],
        &env,
        None,
    );
    assert_eq!(rotate.status.code(), Some(1));
    assert!(
        stderr(&rotate).contains("automatic rotation"),
        "{}",
        stderr(&rotate)
    );
    let status = mhp(&["keys", "status", "--data-dir", &data], &env, None);
    assert!(
        stdout(&status).starts_with("provider: aws-kms"),
        "{}",
        stdout(&status)
    );

    // Wrong credentials: a clear start-up failure that shows no secret.
    let mut bad = env.to_vec();
    bad[1] = (
        "AWS_SECRET_ACCESS_KEY",
        "WrongSecretAccessKey/000000000000000000",
    );
    let out = mhp(&["keys", "status", "--data-dir", &data], &bad, None);
    assert_ne!(out.status.code(), Some(0));
    assert!(
        stderr(&out).contains("InvalidSignatureException"),
        "{}",
        stderr(&out)
    );
    assert!(!stderr(&out).contains("WrongSecret"), "{}", stderr(&out));
}

/// Moving to another KMS key (a single-Region key replaced by a multi-Region one): the new key
/// wraps as version 2 while the old one, named as version 1, still unwraps; `mhp keys rewrap`
/// moves the installation root and the organisation keys onto the new key, after which the
/// old one is no longer needed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws_kms_moves_to_another_key_with_a_rewrap() {
    let standin = aws_standin().await;
    standin.create_key("mhp-single-region");
    standin.create_key("mhp-multi-region");
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data").display().to_string();
    let endpoint = standin.endpoint().to_string();
    let base = vec![
        ("AWS_ACCESS_KEY_ID", "AKIDCLI"),
        ("AWS_SECRET_ACCESS_KEY", SECRET_KEY),
        ("MHP_AWS_REGION", "eu-west-1"),
        ("MHP_AWS_ENDPOINT", endpoint.as_str()),
        ("MHP_KEYS_PROVIDER", "aws-kms"),
    ];
    let with = |extra: &[(&'static str, &'static str)]| {
        let mut env = base.clone();
        env.extend_from_slice(extra);
        env
    };
    let old = with(&[("MHP_KEYS_KMS_KEY_ID", "mhp-single-region")]);
    let new_only = with(&[
        ("MHP_KEYS_KMS_KEY_ID", "mhp-multi-region"),
        ("MHP_KEYS_KMS_KEY_VERSION", "2"),
    ]);
    let moving = with(&[
        ("MHP_KEYS_KMS_KEY_ID", "mhp-multi-region"),
        ("MHP_KEYS_KMS_KEY_VERSION", "2"),
        ("MHP_KEYS_KMS_PREVIOUS_KEY_IDS", "1=mhp-single-region"),
    ]);
    let (org, admin, id) = subject_round_trip(&old, &data).await;

    // The new key alone opens nothing wrapped by the old one, and says which version it lacks.
    let refused = mhp(&["keys", "rewrap", "--data-dir", &data], &new_only, None);
    assert_ne!(refused.status.code(), Some(0));
    assert!(
        stderr(&refused).contains("master key version 1 is not available"),
        "{}",
        stderr(&refused)
    );

    // Both named: the re-wrap moves the root and the organisation key onto version 2.
    let encrypts = standin.request_count("TrentService.Encrypt");
    let rewrap = mhp(&["keys", "rewrap", "--data-dir", &data], &moving, None);
    assert_eq!(rewrap.status.code(), Some(0), "{}", stderr(&rewrap));
    assert_eq!(
        standin.request_count("TrentService.Encrypt") - encrypts,
        2,
        "the installation root and one organisation key wrapped by the new key: {}",
        stdout(&rewrap)
    );
    let status = mhp(&["keys", "status", "--data-dir", &data], &moving, None);
    assert_eq!(status.status.code(), Some(0), "{}", stderr(&status));

    // From now on the new key alone serves the installation: the subject's name opens.
    assert_eq!(
        read_name(&new_only, &data, &org, &admin, &id).await,
        "Kim Cloudwright"
    );
    let again = mhp(&["keys", "rewrap", "--data-dir", &data], &new_only, None);
    assert_eq!(again.status.code(), Some(0), "{}", stderr(&again));

    // Versions that do not fit are refused before anything starts, naming the setting.
    for (previous, version) in [("2=mhp-single-region", "2"), ("one=mhp-single-region", "2")] {
        let bad = with(&[
            ("MHP_KEYS_KMS_KEY_ID", "mhp-multi-region"),
            ("MHP_KEYS_KMS_KEY_VERSION", version),
            ("MHP_KEYS_KMS_PREVIOUS_KEY_IDS", previous),
        ]);
        let out = mhp(&["config", "check", "--data-dir", &data], &bad, None);
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        assert!(
            stderr(&out).contains("keys.kms_previous_key_ids"),
            "{}",
            stderr(&out)
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vault_transit_wraps_the_keys_and_rotates_with_a_rewrap() {
    let token = "hvs.cli-standin-token";
    let standin = VaultStandIn::start(Secret::new(token.into()), None)
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data").display().to_string();
    let addr = standin.addr().to_string();
    let env = [
        ("MHP_VAULT_ADDR", addr.trim_end_matches('/')),
        ("MHP_VAULT_TOKEN", "secret://env/MHP_TEST_VAULT_TOKEN"),
        ("MHP_TEST_VAULT_TOKEN", token),
        ("MHP_KEYS_PROVIDER", "vault-transit"),
        ("MHP_KEYS_VAULT_TRANSIT_KEY", "mhp-master"),
    ];
    let (org, admin, id) = subject_round_trip(&env, &data).await;
    let run = |args: &[&str]| {
        let mut full: Vec<&str> = args.to_vec();
        full.extend(["--data-dir", &data]);
        mhp(&full, &env, None)
    };
    let rotate = run(&["keys", "rotate", "--master"]);
    assert!(
        stdout(&rotate).starts_with("master key: now version 2"),
        "{}{}",
        stdout(&rotate),
        stderr(&rotate)
    );
    assert_eq!(standin.latest_version("mhp-master"), Some(2));
    let rewrap = run(&["keys", "rewrap"]);
    assert!(
        stdout(&rewrap).starts_with("re-wrapped 1 organisation key(s)"),
        "{}{}",
        stdout(&rewrap),
        stderr(&rewrap)
    );
    assert_eq!(
        read_name(&env, &data, &org, &admin, &id).await,
        "Kim Cloudwright"
    );
}

/// What an OpenSearch stand-in received: method, path and query, headers, body.
type Received = Arc<std::sync::Mutex<Vec<(String, String, axum::http::HeaderMap, Vec<u8>)>>>;

/// `index.opensearch_auth = "aws-sigv4"`: `mhp serve` signs every request to an IAM-only
/// OpenSearch domain with the credential chain's keys for service `es`, over the exact body
/// sent, and sends no password. The cluster is a stand-in that records what it receives and
/// recomputes each signature with mhp-cloud's signer (which botocore and moto check in
/// mhp-cloud's tests).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_signs_its_requests_to_an_iam_only_opensearch_domain() {
    use axum::http::{HeaderMap, Method, Uri};
    use mhp_cloud::aws::sigv4;
    let received: Received = Arc::default();
    let app = axum::Router::new()
        .fallback(
            |axum::extract::State(r): axum::extract::State<Received>,
             method: Method,
             uri: Uri,
             headers: HeaderMap,
             body: axum::body::Bytes| async move {
                let target = uri.path_and_query().unwrap().to_string();
                let health = target.starts_with("/_cluster/health");
                r.lock()
                    .unwrap()
                    .push((method.to_string(), target, headers, body.to_vec()));
                if health {
                    axum::Json(json!({ "status": "green" }))
                } else {
                    axum::Json(json!({ "acknowledged": true }))
                }
            },
        )
        .with_state(received.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });

    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data").display().to_string();
    let env = [
        ("AWS_ACCESS_KEY_ID", "AKIDSEARCH"),
        ("AWS_SECRET_ACCESS_KEY", SECRET_KEY),
        ("MHP_AWS_REGION", "eu-west-1"),
        ("MHP_INDEX_BACKEND", "opensearch"),
        ("MHP_INDEX_OPENSEARCH_URL", url.as_str()),
        ("MHP_INDEX_OPENSEARCH_AUTH", "aws-sigv4"),
    ];
    let p = MhpProcess::serve(MHP, &["--data-dir", &data], &env);
    let ready = reqwest::get(format!("{}/readyz", p.base)).await.unwrap();
    assert_eq!(
        ready.status(),
        StatusCode::OK,
        "{}",
        ready.text().await.unwrap()
    );
    p.terminate();

    let received = received.lock().unwrap().clone();
    assert!(
        received
            .iter()
            .any(|r| r.1.starts_with("/_index_template/"))
            && received.iter().any(|r| r.1 == "/mhp-assessments"),
        "the template and the index at start: {:?}",
        received.iter().map(|r| &r.1).collect::<Vec<_>>()
    );
    let secret = Secret::new(SECRET_KEY.to_owned());
    for (method, target, headers, body) in &received {
        let header = |name: &str| headers.get(name).unwrap().to_str().unwrap().to_owned();
        let authorization = sigv4::Authorization::parse(&header("authorization")).unwrap();
        assert_eq!(authorization.access_key_id, "AKIDSEARCH");
        assert_eq!(
            (
                authorization.region.as_str(),
                authorization.service.as_str()
            ),
            ("eu-west-1", "es")
        );
        assert_eq!(header("x-amz-content-sha256"), sigv4::payload_hash(body));
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        let query: Vec<(&str, &str)> = query
            .split('&')
            .filter(|q| !q.is_empty())
            .map(|q| q.split_once('=').unwrap_or((q, "")))
            .collect();
        let names: Vec<String> = authorization.signed_headers.clone();
        let values: Vec<(String, String)> = names.iter().map(|n| (n.clone(), header(n))).collect();
        let signed: Vec<(&str, &str)> = values
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        let date = sigv4::AmzDate::parse(&header("x-amz-date")).unwrap();
        let expected = sigv4::sign(
            &sigv4::Request {
                method,
                path,
                query: &query,
                headers: &signed,
                payload_sha256: &sigv4::payload_hash(body),
            },
            &sigv4::Scope {
                date: &date,
                region: "eu-west-1",
                service: "es",
            },
            "AKIDSEARCH",
            &secret,
        );
        assert_eq!(
            expected.authorization,
            header("authorization"),
            "{method} {target}"
        );
    }
}
