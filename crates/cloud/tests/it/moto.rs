//! S3 and the credential chain against moto (`moto[server]`, an independent implementation of
//! AWS's APIs), whose IAM mode recomputes every signature with botocore and checks that the
//! access key exists and is allowed: a request signed wrongly, or with credentials that were
//! not fetched again after a rotation, is refused.
//!
//! The container credentials endpoint and the EC2 instance metadata service cannot run here;
//! each is a small server in this file that answers as the real one documents (the metadata
//! one only to IMDSv2 requests). The credentials they hand out are real IAM keys in moto.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, put};
use mhp_cloud::aws::{
    AwsClient, AwsCredentials, CredentialProvider, CredentialSource, S3, ServerSideEncryption,
};
use mhp_domain::{Clock, Secret, Timestamp};
use mhp_test_support::clock::TestClock;
use mhp_test_support::moto::{self, Moto};
use serde_json::{Value, json};

const BUCKET: &str = "mhp-objects";

fn endpoint(moto: &Moto) -> url::Url {
    format!("{}/", moto.endpoint).parse().unwrap()
}

fn s3_with(moto: &Moto, provider: CredentialProvider, clock: Arc<dyn Clock>) -> S3 {
    let provider = Arc::new(provider.with_clock(clock.clone()));
    let client = AwsClient::with_provider(moto::REGION, provider, Some(endpoint(moto)))
        .unwrap()
        .with_clock(clock);
    S3::new(client)
}

fn fixed(access_key_id: &str, secret: &str) -> AwsCredentials {
    AwsCredentials {
        access_key_id: access_key_id.to_owned(),
        secret_access_key: Secret::new(secret.to_owned()),
        session_token: None,
    }
}

fn now_clock() -> Arc<TestClock> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis();
    Arc::new(TestClock::starting_at(Timestamp::from_millis(
        i64::try_from(now).unwrap(),
    )))
}

fn iso(ms: i64) -> String {
    let seconds = ms / 1000;
    let date = mhp_cloud::aws::sigv4::AmzDate::from_unix_seconds(seconds).unwrap();
    let s = date.as_str();
    format!(
        "{}-{}-{}T{}:{}:{}Z",
        &s[0..4],
        &s[4..6],
        &s[6..8],
        &s[9..11],
        &s[11..13],
        &s[13..15]
    )
}

async fn serve(router: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await });
    addr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn objects_are_stored_encrypted_read_back_and_listed_page_by_page() {
    let Some(moto) = Moto::start() else {
        return;
    };
    let key_id = moto.boto3(&format!(
        "aws('s3').create_bucket(Bucket={BUCKET:?}, \
         CreateBucketConfiguration={{'LocationConstraint': {region:?}}})\n\
         print(aws('kms').create_key()['KeyMetadata']['KeyId'])",
        region = moto::REGION
    ));
    let s3 = s3_with(
        &moto,
        CredentialProvider::fixed(fixed(moto::ACCESS_KEY_ID, moto::SECRET_ACCESS_KEY)).unwrap(),
        now_clock(),
    );
    let body: Vec<u8> = (0..200_000u32).map(|i| (i * 7 % 251) as u8).collect();
    s3.put_object(
        BUCKET,
        "orgs/a/raw/1.bin",
        body.clone(),
        &ServerSideEncryption::Kms(Some(key_id.clone())),
    )
    .await
    .unwrap();

    // boto3 reads what MHP wrote: the same bytes, encrypted under the key named.
    let seen: Value = serde_json::from_str(&moto.boto3(&format!(
        "import hashlib, json\n\
         o = aws('s3').get_object(Bucket={BUCKET:?}, Key='orgs/a/raw/1.bin')\n\
         print(json.dumps({{'sse': o.get('ServerSideEncryption'), 'kms': o.get('SSEKMSKeyId'), \
         'sha': hashlib.sha256(o['Body'].read()).hexdigest()}}))"
    )))
    .unwrap();
    assert_eq!(seen["sse"], "aws:kms", "{seen}");
    assert!(seen["kms"].as_str().unwrap().contains(&key_id), "{seen}");
    let sha = mhp_cloud::aws::sigv4::payload_hash(&body);
    assert_eq!(seen["sha"], sha.as_str());
    assert_eq!(
        s3.get_object(BUCKET, "orgs/a/raw/1.bin").await.unwrap(),
        body
    );

    // What boto3 wrote, MHP lists: more than a page (S3 answers 1,000 keys a page).
    moto.boto3(&format!(
        "s3 = aws('s3')\n\
         for i in range(1003):\n    s3.put_object(Bucket={BUCKET:?}, Key=f'many/{{i:05}}', Body=b'x' * (i % 5))"
    ));
    let listed = s3.list_objects(BUCKET, "many/").await.unwrap();
    assert_eq!(listed.len(), 1003);
    assert_eq!(listed[0].key, "many/00000");
    assert_eq!(listed[1002].key, "many/01002");
    assert_eq!(listed[4].size, 4);
    let age = now_clock().now().as_millis() - listed[0].last_modified_ms;
    assert!((0..600_000).contains(&age), "listed time {age} ms ago");
    let under_a = s3.list_objects(BUCKET, "orgs/a/").await.unwrap();
    assert_eq!(under_a.len(), 1);
    assert_eq!(under_a[0].size, 200_000);

    // Absent things are NotFound; deleting twice is no error.
    s3.delete_object(BUCKET, "orgs/a/raw/1.bin").await.unwrap();
    s3.delete_object(BUCKET, "orgs/a/raw/1.bin").await.unwrap();
    let gone = s3.get_object(BUCKET, "orgs/a/raw/1.bin").await.unwrap_err();
    assert!(gone.is_not_found(), "{gone}");
    s3.head_bucket(BUCKET).await.unwrap();
    let missing = s3.head_bucket("no-such-bucket").await.unwrap_err();
    assert!(missing.is_not_found(), "{missing}");
    let refused = s3
        .put_object("Bad.Bucket", "k", vec![], &ServerSideEncryption::S3)
        .await
        .unwrap_err();
    assert!(refused.to_string().contains("bucket name"), "{refused}");
}

/// What the container endpoint and the metadata service hand out, and how often they were
/// asked.
#[derive(Clone, Default)]
struct Handed {
    credentials: Arc<Mutex<Value>>,
    hits: Arc<Mutex<u32>>,
}

async fn container_endpoint(State(h): State<Handed>, headers: HeaderMap) -> (StatusCode, String) {
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some("container-token") {
        return (StatusCode::UNAUTHORIZED, String::new());
    }
    *h.hits.lock().unwrap() += 1;
    (StatusCode::OK, h.credentials.lock().unwrap().to_string())
}

async fn imds_token(headers: HeaderMap) -> (StatusCode, String) {
    if headers.contains_key("x-aws-ec2-metadata-token-ttl-seconds") {
        (StatusCode::OK, "imds-session".to_owned())
    } else {
        (StatusCode::BAD_REQUEST, String::new())
    }
}

fn imds_session(headers: &HeaderMap) -> bool {
    headers
        .get("x-aws-ec2-metadata-token")
        .and_then(|v| v.to_str().ok())
        == Some("imds-session")
}

async fn imds_roles(headers: HeaderMap) -> (StatusCode, String) {
    if imds_session(&headers) {
        (StatusCode::OK, "mhp-instance-role".to_owned())
    } else {
        // An IMDSv2-only instance refuses requests without a session token.
        (StatusCode::UNAUTHORIZED, String::new())
    }
}

async fn imds_role(State(h): State<Handed>, headers: HeaderMap) -> (StatusCode, String) {
    if !imds_session(&headers) {
        return (StatusCode::UNAUTHORIZED, String::new());
    }
    *h.hits.lock().unwrap() += 1;
    let mut answer = h.credentials.lock().unwrap().clone();
    answer["Code"] = json!("Success");
    answer["Type"] = json!("AWS-HMAC");
    (StatusCode::OK, answer.to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn moto_checks_the_signatures_of_credentials_from_every_source_of_the_chain() {
    // Seven requests go unchecked: six to set IAM up, then the web identity exchange, which
    // AWS takes unsigned and moto's IAM mode would otherwise refuse.
    let Some(moto) = Moto::start_with(&[("INITIAL_NO_AUTH_ACTION_COUNT", "7")]) else {
        return;
    };
    let iam: Value = serde_json::from_str(&moto.boto3(
        "import json\n\
         iam = aws('iam')\n\
         allow = json.dumps({'Version': '2012-10-17', 'Statement': [{'Effect': 'Allow', \
         'Action': '*', 'Resource': '*'}]})\n\
         iam.create_user(UserName='mhp')\n\
         iam.put_user_policy(UserName='mhp', PolicyName='all', PolicyDocument=allow)\n\
         k1 = iam.create_access_key(UserName='mhp')['AccessKey']\n\
         k2 = iam.create_access_key(UserName='mhp')['AccessKey']\n\
         trust = json.dumps({'Version': '2012-10-17', 'Statement': [{'Effect': 'Allow', \
         'Principal': {'Federated': 'arn:aws:iam::123456789012:oidc-provider/oidc.eks'}, \
         'Action': 'sts:AssumeRoleWithWebIdentity'}]})\n\
         role = iam.create_role(RoleName='mhp-task', AssumeRolePolicyDocument=trust)['Role']\n\
         iam.put_role_policy(RoleName='mhp-task', PolicyName='all', PolicyDocument=allow)\n\
         print(json.dumps({'k1': [k1['AccessKeyId'], k1['SecretAccessKey']], \
         'k2': [k2['AccessKeyId'], k2['SecretAccessKey']], 'role': role['Arn']}))",
    ))
    .unwrap();
    let pair = |k: &str| {
        (
            iam[k][0].as_str().unwrap().to_owned(),
            iam[k][1].as_str().unwrap().to_owned(),
        )
    };
    let (k1, s1) = pair("k1");
    let (k2, s2) = pair("k2");
    let clock = now_clock();

    // 1. Web identity: a token file exchanged with STS for the role's temporary credentials
    //    (the seventh request, unchecked); every later request is checked.
    let dir = tempfile::tempdir().unwrap();
    let token_file = dir.path().join("token");
    std::fs::write(
        &token_file,
        "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJtaHAifQ.c2ln\n",
    )
    .unwrap();
    let role = iam["role"].as_str().unwrap().to_owned();
    let source = CredentialSource::from_lookup(|name| match name {
        "AWS_WEB_IDENTITY_TOKEN_FILE" => Some(token_file.display().to_string()),
        "AWS_ROLE_ARN" => Some(role.clone()),
        "AWS_ROLE_SESSION_NAME" => Some("mhp-test".to_owned()),
        _ => None,
    })
    .unwrap();
    assert_eq!(source.describe(), "web identity token");
    let provider = CredentialProvider::new(source, moto::REGION, Some(&endpoint(&moto)))
        .unwrap()
        .with_clock(clock.clone());
    let assumed = provider.get().await.unwrap();
    assert!(assumed.access_key_id.starts_with("ASIA"), "{assumed:?}");
    assert!(assumed.session_token.is_some());
    moto.boto3_as(
        &k1,
        &s1,
        &format!(
            "aws('s3').create_bucket(Bucket={BUCKET:?}, \
             CreateBucketConfiguration={{'LocationConstraint': {region:?}}})",
            region = moto::REGION
        ),
    );
    let web = s3_with(&moto, provider, clock.clone());
    // A key with characters that must be percent-encoded the same way on both sides.
    let odd = "orgs/web identity/a+b=c,é.bin";
    web.put_object(
        BUCKET,
        odd,
        b"from the role".to_vec(),
        &ServerSideEncryption::Kms(None),
    )
    .await
    .unwrap();
    assert_eq!(web.get_object(BUCKET, odd).await.unwrap(), b"from the role");

    // A wrong secret is refused: moto really checks signatures.
    let forged = s3_with(
        &moto,
        CredentialProvider::fixed(fixed(&k1, "not-the-secret")).unwrap(),
        clock.clone(),
    );
    let refused = forged.get_object(BUCKET, odd).await.unwrap_err();
    assert!(
        refused.to_string().contains("SignatureDoesNotMatch"),
        "{refused}"
    );
    crate::assert_reveals_nothing(&refused, &["not-the-secret", &s1]);

    // 2. The container endpoint (an ECS task role), with its authorisation token in a file:
    //    first the key k1, expiring in six minutes.
    let handed = Handed::default();
    let expires = clock.now().as_millis() + 6 * 60 * 1000;
    *handed.credentials.lock().unwrap() = json!({
        "AccessKeyId": k1, "SecretAccessKey": s1, "Token": null,
        "Expiration": iso(expires), "RoleArn": "arn:aws:iam::123456789012:role/mhp-task",
    });
    let addr = serve(
        Router::new()
            .route("/v2/credentials/task", get(container_endpoint))
            .with_state(handed.clone()),
    )
    .await;
    let token_path = dir.path().join("container-token");
    std::fs::write(&token_path, "container-token\n").unwrap();
    let full_uri = format!("http://{addr}/v2/credentials/task");
    let lookup = |token: &str| {
        let token = token.to_owned();
        let full_uri = full_uri.clone();
        move |name: &str| match name {
            "AWS_CONTAINER_CREDENTIALS_FULL_URI" => Some(full_uri.clone()),
            "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE" => Some(token.clone()),
            _ => None,
        }
    };
    let source = CredentialSource::from_lookup(lookup(&token_path.display().to_string())).unwrap();
    assert_eq!(source.describe(), "container credentials endpoint");
    let container = s3_with(
        &moto,
        CredentialProvider::new(source, moto::REGION, None).unwrap(),
        clock.clone(),
    );
    assert_eq!(
        container.get_object(BUCKET, odd).await.unwrap(),
        b"from the role"
    );
    assert_eq!(
        container.get_object(BUCKET, odd).await.unwrap(),
        b"from the role"
    );
    assert_eq!(*handed.hits.lock().unwrap(), 1, "held between calls");

    // The task's credentials rotate: the endpoint now hands out k2, and k1 is deleted. Four
    // minutes on, within five minutes of k1's expiry, the provider fetches again; with k1
    // still held, moto would refuse the call.
    *handed.credentials.lock().unwrap() = json!({
        "AccessKeyId": k2, "SecretAccessKey": s2, "Token": null,
        "Expiration": iso(expires + 60 * 60 * 1000),
    });
    moto.boto3_as(
        &k2,
        &s2,
        &format!("aws('iam').delete_access_key(UserName='mhp', AccessKeyId={k1:?})"),
    );
    let stale = container.get_object(BUCKET, odd).await.unwrap_err();
    assert!(stale.to_string().contains("403"), "k1 is gone: {stale}");
    clock.advance(Duration::from_secs(4 * 60));
    assert_eq!(
        container.get_object(BUCKET, odd).await.unwrap(),
        b"from the role"
    );
    assert_eq!(*handed.hits.lock().unwrap(), 2);

    // A wrong token is refused by the endpoint, and said so without the token.
    let bad_token = dir.path().join("bad-token");
    std::fs::write(&bad_token, "guess").unwrap();
    let source = CredentialSource::from_lookup(lookup(&bad_token.display().to_string())).unwrap();
    let unauthorised = CredentialProvider::new(source, moto::REGION, None)
        .unwrap()
        .get()
        .await
        .unwrap_err();
    assert!(unauthorised.to_string().contains("401"), "{unauthorised}");
    crate::assert_reveals_nothing(&unauthorised, &["guess"]);

    // 3. The instance metadata service, IMDSv2: a session token, the role's name, then its
    //    credentials (k2).
    let imds = Handed::default();
    *imds.credentials.lock().unwrap() = json!({
        "AccessKeyId": k2, "SecretAccessKey": s2, "Token": null,
        "Expiration": iso(clock.now().as_millis() + 60 * 60 * 1000),
        "LastUpdated": iso(clock.now().as_millis()),
    });
    let addr = serve(
        Router::new()
            .route("/latest/api/token", put(imds_token))
            .route(
                "/latest/meta-data/iam/security-credentials/",
                get(imds_roles),
            )
            .route(
                "/latest/meta-data/iam/security-credentials/mhp-instance-role",
                get(imds_role),
            )
            .with_state(imds.clone()),
    )
    .await;
    let metadata = format!("http://{addr}");
    let source = CredentialSource::from_lookup(|name| {
        (name == "AWS_EC2_METADATA_SERVICE_ENDPOINT").then(|| metadata.clone())
    })
    .unwrap();
    assert_eq!(source.describe(), "instance metadata service");
    let instance = s3_with(
        &moto,
        CredentialProvider::new(source, moto::REGION, None).unwrap(),
        clock.clone(),
    );
    instance
        .put_object(
            BUCKET,
            "orgs/imds",
            b"v2".to_vec(),
            &ServerSideEncryption::S3,
        )
        .await
        .unwrap();
    assert_eq!(
        instance.get_object(BUCKET, "orgs/imds").await.unwrap(),
        b"v2"
    );
    assert_eq!(*imds.hits.lock().unwrap(), 1);
}

/// KMS, Secrets Manager and SSM Parameter Store against moto, signatures checked by its IAM
/// mode: what was sealed opens with its context only, rotated secrets read by stage, secure
/// parameters decrypted; absent things are NotFound, and no error carries a value.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kms_secrets_and_parameters_answer_as_aws_does() {
    use std::collections::BTreeMap;

    use mhp_cloud::aws::{Kms, SecretsManager, Ssm};

    // Three requests go unchecked: the IAM user, its policy and its access key.
    let Some(moto) = Moto::start_with(&[("INITIAL_NO_AUTH_ACTION_COUNT", "3")]) else {
        return;
    };
    let user: Value = serde_json::from_str(&moto.boto3(
        "import json\n\
         iam = aws('iam')\n\
         iam.create_user(UserName='mhp')\n\
         iam.put_user_policy(UserName='mhp', PolicyName='all', PolicyDocument=json.dumps(\
         {'Version': '2012-10-17', 'Statement': [{'Effect': 'Allow', 'Action': '*', \
         'Resource': '*'}]}))\n\
         k = iam.create_access_key(UserName='mhp')['AccessKey']\n\
         print(json.dumps([k['AccessKeyId'], k['SecretAccessKey']]))",
    ))
    .unwrap();
    let (id, secret) = (user[0].as_str().unwrap(), user[1].as_str().unwrap());
    let setup: Value = serde_json::from_str(&moto.boto3_as(
        id,
        secret,
        "import json\n\
         kms = aws('kms')\n\
         a = kms.create_key()['KeyMetadata']['KeyId']\n\
         b = kms.create_key()['KeyMetadata']['KeyId']\n\
         sm = aws('secretsmanager')\n\
         sm.create_secret(Name='mhp/db', SecretString='db-password-v1')\n\
         sm.put_secret_value(SecretId='mhp/db', SecretString='db-password-v2')\n\
         aws('ssm').put_parameter(Name='/mhp/pepper', Value='pepper-v1', Type='SecureString')\n\
         print(json.dumps([a, b]))",
    ))
    .unwrap();
    let (key_a, key_b) = (setup[0].as_str().unwrap(), setup[1].as_str().unwrap());
    let client = AwsClient::new(moto::REGION, fixed(id, secret), Some(endpoint(&moto))).unwrap();
    let kms = Kms::new(client.clone());
    let ctx: BTreeMap<String, String> = BTreeMap::from([
        ("mhp_key".into(), "org/1".into()),
        ("mhp_key_version".into(), "1".into()),
    ]);

    let plaintext = b"a data key of thirty-two bytes..";
    let blob = kms.encrypt(key_a, plaintext, &ctx).await.unwrap();
    assert!(!blob.windows(8).any(|w| w == &plaintext[..8]));
    assert_eq!(
        kms.decrypt(&blob, &ctx, None).await.unwrap().expose(),
        plaintext
    );
    assert_eq!(
        kms.decrypt(&blob, &ctx, Some(key_a))
            .await
            .unwrap()
            .expose(),
        plaintext
    );
    let other = BTreeMap::from([("mhp_key".to_owned(), "org/2".to_owned())]);
    let refused = kms.decrypt(&blob, &other, None).await.unwrap_err();
    assert_eq!(
        refused.code(),
        Some("InvalidCiphertextException"),
        "{refused}"
    );
    let mut tampered = blob.clone();
    let last = tampered.len() - 1;
    tampered[last] ^= 1;
    assert!(kms.decrypt(&tampered, &ctx, None).await.is_err());
    // A blob of another key is refused (moto names it AccessDeniedException where KMS says
    // IncorrectKeyException; the stand-in test holds the client to KMS's name).
    let wrong_key = kms.decrypt(&blob, &ctx, Some(key_b)).await.unwrap_err();
    assert_eq!(wrong_key.status(), Some(400), "{wrong_key}");
    crate::assert_reveals_nothing(&wrong_key, &["a data key"]);

    let (data_key, wrapped) = kms.generate_data_key(key_a, &ctx).await.unwrap();
    assert_eq!(data_key.expose().len(), 32);
    assert_eq!(
        kms.decrypt(&wrapped, &ctx, None).await.unwrap().expose(),
        data_key.expose()
    );
    let missing = kms
        .encrypt("00000000-0000-0000-0000-000000000000", b"x", &ctx)
        .await
        .unwrap_err();
    assert!(missing.is_not_found(), "{missing}");

    let sm = SecretsManager::new(client.clone());
    assert_eq!(
        sm.get_secret_value("mhp/db", None).await.unwrap().expose(),
        "db-password-v2"
    );
    assert_eq!(
        sm.get_secret_value("mhp/db", Some("AWSPREVIOUS"))
            .await
            .unwrap()
            .expose(),
        "db-password-v1"
    );
    let none = sm.get_secret_value("mhp/none", None).await.unwrap_err();
    assert!(none.is_not_found(), "{none}");
    crate::assert_reveals_nothing(&none, &["db-password"]);

    let ssm = Ssm::new(client);
    assert_eq!(
        ssm.get_parameter("/mhp/pepper").await.unwrap().expose(),
        "pepper-v1"
    );
    let gone = ssm.get_parameter("/mhp/missing").await.unwrap_err();
    assert!(gone.is_not_found(), "{gone}");
}

/// Requests signed for another client (OpenSearch's REST calls, service `es`): botocore's
/// `SigV4Auth`, an independent signer, computes the same signature for each (a GET with a
/// query, a HEAD, a PUT, an NDJSON POST under a path prefix, with temporary credentials), and
/// moto's IAM mode accepts a signed call to its OpenSearch API and refuses one signed with a
/// wrong secret.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_signed_for_opensearch_verify_with_botocore_and_moto() {
    let Some(python) = moto::python() else {
        return;
    };
    let clock = now_clock();
    let temporary = AwsCredentials {
        access_key_id: "ASIAEXAMPLETEMP".to_owned(),
        secret_access_key: Secret::new("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".to_owned()),
        session_token: Some(Secret::new("FwoGZXIvYXdzEXAMPLE+/token=".to_owned())),
    };
    let client = AwsClient::new("eu-west-1", temporary, None)
        .unwrap()
        .with_clock(clock.clone());
    let base = "https://search-mhp-abc.eu-west-1.es.amazonaws.com";
    let cases: Vec<(&str, String, Vec<u8>)> = vec![
        ("GET", format!("{base}/_cluster/health"), Vec::new()),
        ("HEAD", format!("{base}/mhp-assessments"), Vec::new()),
        (
            "PUT",
            format!("{base}/_index_template/mhp-assessments"),
            br#"{"index_patterns":["mhp-assessments"]}"#.to_vec(),
        ),
        (
            "POST",
            format!("{base}/proxy/os/mhp-assessments/_bulk?refresh=wait_for"),
            b"{\"index\":{\"_id\":\"a:b\"}}\n{\"org\":\"a\"}\n".to_vec(),
        ),
        (
            "POST",
            format!("{base}/mhp-assessments/_delete_by_query?refresh=true&conflicts=proceed"),
            br#"{"query":{"term":{"org":"a"}}}"#.to_vec(),
        ),
    ];
    let mut signed = Vec::new();
    for (method, url, body) in &cases {
        let headers = client
            .signed_headers("es", method, &url.parse().unwrap(), body)
            .await
            .unwrap();
        let text = |name: &str| headers.get(name).unwrap().to_str().unwrap().to_owned();
        assert_eq!(
            text("x-amz-content-sha256"),
            mhp_cloud::aws::sigv4::payload_hash(body)
        );
        signed.push(json!({
            "method": method,
            "url": url,
            "body": String::from_utf8(body.clone()).unwrap(),
            "date": text("x-amz-date"),
            "headers": {
                "host": text("host"),
                "x-amz-date": text("x-amz-date"),
                "x-amz-content-sha256": text("x-amz-content-sha256"),
                "x-amz-security-token": text("x-amz-security-token"),
            },
            "authorization": text("authorization"),
        }));
    }
    let script = r#"
import json, sys
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
creds = Credentials('ASIAEXAMPLETEMP', 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', 'FwoGZXIvYXdzEXAMPLE+/token=')
out = []
for case in json.load(sys.stdin):
    request = AWSRequest(method=case['method'], url=case['url'], data=case['body'].encode(), headers=case['headers'])
    request.context['timestamp'] = case['date']
    auth = SigV4Auth(creds, 'es', 'eu-west-1')
    canonical = auth.canonical_request(request)
    signature = auth.signature(auth.string_to_sign(request, canonical), request)
    out.append(signature)
print(json.dumps(out))
"#;
    let mut child = std::process::Command::new(&python)
        .args(["-c", script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write as _;
        let mut stdin = child.stdin.take().unwrap();
        stdin
            .write_all(serde_json::to_string(&signed).unwrap().as_bytes())
            .unwrap();
    }
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let expected: Vec<String> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(expected.len(), cases.len());
    for (case, signature) in signed.iter().zip(&expected) {
        let authorization = case["authorization"].as_str().unwrap();
        assert!(
            authorization.ends_with(&format!("Signature={signature}")),
            "{} {}: botocore signs {signature}, MHP sent {authorization}",
            case["method"],
            case["url"]
        );
        assert!(authorization.contains("/eu-west-1/es/aws4_request"));
    }

    // moto, in IAM mode, checks the signature of a call to its OpenSearch API (signing name
    // `es`) with an IAM user's keys.
    let Some(moto) = Moto::start_with(&[("INITIAL_NO_AUTH_ACTION_COUNT", "3")]) else {
        return;
    };
    let keys: Value = serde_json::from_str(&moto.boto3(
        "import json\n\
         iam = aws('iam')\n\
         iam.create_user(UserName='search')\n\
         iam.put_user_policy(UserName='search', PolicyName='all', PolicyDocument=json.dumps(\
         {'Version': '2012-10-17', 'Statement': [{'Effect': 'Allow', 'Action': '*', \
         'Resource': '*'}]}))\n\
         k = iam.create_access_key(UserName='search')['AccessKey']\n\
         print(json.dumps([k['AccessKeyId'], k['SecretAccessKey']]))",
    ))
    .unwrap();
    let client = AwsClient::new(
        moto::REGION,
        fixed(keys[0].as_str().unwrap(), keys[1].as_str().unwrap()),
        Some(endpoint(&moto)),
    )
    .unwrap();
    let url: url::Url = format!("{}/2021-01-01/opensearch/domain", moto.endpoint)
        .parse()
        .unwrap();
    let http = reqwest::Client::new();
    let create = |name: &str| json!({ "DomainName": name }).to_string().into_bytes();
    let headers = client
        .signed_headers("es", "POST", &url, &create("mhp-search"))
        .await
        .unwrap();
    let answer = http
        .post(url.clone())
        .headers(headers.clone())
        .body(create("mhp-search"))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200, "{}", answer.text().await.unwrap());
    let answer: Value = answer.json().await.unwrap();
    assert_eq!(answer["DomainStatus"]["DomainName"], "mhp-search");
    // The same call signed with a wrong secret is refused. (moto does not compare the body
    // with its signed hash; botocore's recomputation above covers the body.)
    let forged = AwsClient::new(
        moto::REGION,
        fixed(keys[0].as_str().unwrap(), "not-the-secret"),
        Some(endpoint(&moto)),
    )
    .unwrap()
    .signed_headers("es", "POST", &url, &create("mhp-other"))
    .await
    .unwrap();
    let refused = http
        .post(url)
        .headers(forged)
        .body(create("mhp-other"))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);
}

/// Amazon SES v2 `SendEmail` with raw content: moto keeps the message as SES received it, and
/// Python's e-mail parser reads back the sender, recipient, subject and body MHP built. A
/// sender without a verified identity is refused with SES's class, and the error quotes
/// neither the message nor the addresses.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ses_sends_the_raw_message_and_refuses_an_unverified_sender() {
    use mhp_cloud::aws::Ses;

    let Some(moto) = Moto::start() else {
        return;
    };
    moto.boto3(
        "aws('sesv2').create_email_identity(EmailIdentity='mhp.example')\n\
         aws('sesv2').create_configuration_set(ConfigurationSetName='mhp-mail')",
    );
    let client = AwsClient::new(
        moto::REGION,
        fixed(moto::ACCESS_KEY_ID, moto::SECRET_ACCESS_KEY),
        Some(endpoint(&moto)),
    )
    .unwrap();
    let ses = Ses::new(client.clone(), Some("mhp-mail")).unwrap();
    let raw = "From: MHP <no-reply@mhp.example>\r\nTo: kim@example.org\r\n\
               Subject: Reset your password\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\
               Follow https://mhp.example/reset#token-123\r\n";
    let id = ses
        .send_raw("no-reply@mhp.example", "kim@example.org", raw.as_bytes())
        .await
        .unwrap();
    assert!(!id.is_empty());
    let seen: Value = serde_json::from_str(&moto.boto3(&format!(
        "import email, json, urllib.request\n\
         data = json.load(urllib.request.urlopen({url:?}))\n\
         out = []\n\
         for m in data['ses']['RawMessage']:\n    \
             p = email.message_from_string(m['raw_data'])\n    \
             out.append({{'id': m['id'], 'source': m['source'], 'to': sorted(set(m['destinations'])), \
             'from': p['From'], 'subject': p['Subject'], 'body': p.get_payload()}})\n\
         print(json.dumps(out))",
        url = format!("{}/moto-api/data.json", moto.endpoint),
    )))
    .unwrap();
    assert_eq!(seen.as_array().unwrap().len(), 1, "{seen}");
    let m = &seen[0];
    assert_eq!(m["id"], id.as_str(), "{seen}");
    assert_eq!(m["source"], "no-reply@mhp.example", "{seen}");
    assert_eq!(m["to"], json!(["kim@example.org"]), "{seen}");
    assert_eq!(m["from"], "MHP <no-reply@mhp.example>", "{seen}");
    assert_eq!(m["subject"], "Reset your password", "{seen}");
    assert!(
        m["body"].as_str().unwrap().contains("reset#token-123"),
        "{seen}"
    );

    let refused = Ses::new(client, None)
        .unwrap()
        .send_raw(
            "someone@elsewhere.example",
            "kim@example.org",
            raw.as_bytes(),
        )
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Some("MessageRejected"), "{refused}");
    crate::assert_reveals_nothing(&refused, &["kim@", "elsewhere", "token-123"]);
    assert!(
        Ses::new(
            AwsClient::new(
                moto::REGION,
                fixed(moto::ACCESS_KEY_ID, moto::SECRET_ACCESS_KEY),
                None
            )
            .unwrap(),
            Some("a set/with a slash")
        )
        .is_err()
    );
}
