//! The installation root: one per installation, in the key store, wrapped by the master-key
//! provider. A root file of an older installation moves there once without changing a derived
//! key; read-only commands create no key material; `environment = production` refuses parts
//! local to one machine; and (with AWS built in) two servers and a worker on PostgreSQL, with
//! KMS in moto and no key file anywhere, agree on tokens, TOTP, blind indexes, pseudonyms and
//! audit checkpoints.

use std::io::{Read as _, Write as _};
use std::path::Path;
use std::time::Duration;

use mhp_crypto::checkpoint::CheckpointKey;
use mhp_test_support::MhpProcess;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::{MHP, OPS_PASSWORD, bootstrap_org, cookie_of, mhp, post, stderr, stdout};

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn sqlite_count(data: &Path, sql: &str) -> i64 {
    let url = format!("sqlite://{}", data.join("mhp.sqlite").display());
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async {
            use sqlx::Connection as _;
            let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
            sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql.to_owned()))
                .fetch_one(&mut conn)
                .await
                .unwrap()
        })
}

fn serve_once(data: &str) {
    let mut p = MhpProcess::serve(MHP, &["--data-dir", data], &[]);
    // Serving (so the signal handler is in place) before it is asked to stop.
    let addr = p.base.trim_start_matches("http://");
    let mut conn = std::net::TcpStream::connect(addr).unwrap();
    conn.write_all(b"GET /healthz HTTP/1.1\r\nHost: mhp\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut answer = String::new();
    conn.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    p.terminate();
    let code = p.wait(Duration::from_secs(20));
    assert_eq!(code, Some(0), "{}", p.log().join("\n"));
}

#[test]
fn a_root_file_moves_into_the_key_store_once_and_every_derived_key_stays() {
    let dir = tempfile::tempdir().unwrap();
    let o = bootstrap_org(dir.path(), "Old Installation", &[]);
    let data = Path::new(&o.data);
    // The root file an installation of the first wave made at its first start.
    let file = mhp_crypto::MasterKey::load_or_create(&data.join("master.key")).unwrap();
    let public = hex(&CheckpointKey::derive(&file).public());
    drop(file);

    serve_once(&o.data);
    assert!(!data.join("master.key").exists(), "the file is set aside");
    assert!(data.join("master.key.moved").exists());
    let shown = mhp(&["audit", "public-key", "--data-dir", &o.data], &[], None);
    assert_eq!(stdout(&shown).trim(), public, "{}", stderr(&shown));
    let status = mhp(&["keys", "status", "--data-dir", &o.data], &[], None);
    assert!(
        stdout(&status).contains("installation root: version 1, in the key store"),
        "{}",
        stdout(&status)
    );
    let moved = "SELECT count(*) FROM audit_events WHERE action = 'keys.root_moved_to_key_store'";
    assert_eq!(sqlite_count(data, moved), 1);

    // Later starts read the key store only: nothing moves, nothing more is recorded.
    serve_once(&o.data);
    assert_eq!(sqlite_count(data, moved), 1);
    assert_eq!(
        sqlite_count(
            data,
            "SELECT count(*) FROM audit_events WHERE action = 'keys.root_created'"
        ),
        0
    );
    let shown = mhp(&["audit", "public-key", "--data-dir", &o.data], &[], None);
    assert_eq!(stdout(&shown).trim(), public);
    let verify = mhp(&["audit", "verify", "--data-dir", &o.data], &[], None);
    assert!(verify.status.success(), "{}", stdout(&verify));

    // A second root appearing beside the installation's is refused, not used.
    drop(mhp_crypto::MasterKey::load_or_create(&data.join("master.key")).unwrap());
    let out = mhp(&["serve", "--data-dir", &o.data], &[], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("differs from the installation root"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_new_installation_makes_its_root_in_the_key_store_and_records_it() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data_s = data.display().to_string();
    serve_once(&data_s);
    assert!(!data.join("master.key").exists());
    let created = "SELECT count(*) FROM audit_events WHERE action = 'keys.root_created'";
    assert_eq!(sqlite_count(&data, created), 1);
    let first = stdout(&mhp(
        &["audit", "public-key", "--data-dir", &data_s],
        &[],
        None,
    ));
    serve_once(&data_s);
    assert_eq!(sqlite_count(&data, created), 1, "made once");
    let again = stdout(&mhp(
        &["audit", "public-key", "--data-dir", &data_s],
        &[],
        None,
    ));
    assert_eq!(first, again);
    assert_eq!(first.trim().len(), 64, "{first}");
}

fn entries(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn read_only_commands_create_no_key_material() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("never-made");
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    for data in [&missing, &empty] {
        let d = data.display().to_string();
        for (args, says) in [
            (vec!["audit", "verify"], "no local key ring"),
            (vec!["audit", "public-key"], "no local key ring"),
            (vec!["audit", "checkpoint"], "no database"),
            (vec!["keys", "status"], "no local key ring"),
            (vec!["keys", "rewrap"], "no local key ring"),
        ] {
            let mut full = args.clone();
            full.extend(["--data-dir", &d]);
            let out = mhp(&full, &[], None);
            assert_eq!(out.status.code(), Some(1), "{args:?}");
            assert!(stderr(&out).contains(says), "{args:?}: {}", stderr(&out));
        }
        // With a public key given, verify still needs a database, and makes none.
        let out = mhp(
            &[
                "audit",
                "verify",
                "--public-key",
                &"ab".repeat(32),
                "--data-dir",
                &d,
            ],
            &[],
            None,
        );
        assert_eq!(out.status.code(), Some(1));
        assert!(stderr(&out).contains("no database"), "{}", stderr(&out));
        let out = mhp(&["config", "check", "--data-dir", &d], &[], None);
        assert!(out.status.success(), "{}", stderr(&out));
    }
    assert!(!missing.exists(), "{:?}", entries(&missing));
    assert!(entries(&empty).is_empty(), "{:?}", entries(&empty));
}

#[test]
fn production_refuses_parts_local_to_one_machine_and_names_each_setting() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let d = data.display().to_string();
    for command in ["serve", "worker"] {
        let out = mhp(
            &[command, "--data-dir", &d],
            &[("MHP_ENVIRONMENT", "production")],
            None,
        );
        assert_eq!(out.status.code(), Some(2), "{command}");
        let err = stderr(&out);
        for setting in [
            "keys.provider is local",
            "keys.store_url is not set",
            "database.url is not set",
            "object_store.backend is local",
            "http.public_url is not set",
        ] {
            assert!(err.contains(setting), "{command}: {setting} in {err}");
        }
    }
    // A production with the key provider and shared databases named still lacks a shared
    // object store, and says only that.
    let out = mhp(
        &["serve", "--data-dir", &d],
        &[
            ("MHP_ENVIRONMENT", "production"),
            ("MHP_KEYS_PROVIDER", "vault-transit"),
            ("MHP_VAULT_ADDR", "https://vault.example.org"),
            ("MHP_VAULT_TOKEN", "secret://env/VAULT_TOKEN"),
            ("MHP_KEYS_VAULT_TRANSIT_KEY", "mhp"),
            ("MHP_KEYS_STORE_URL", "postgres://keys.example.org/keys"),
            ("DATABASE_URL", "postgres://db.example.org/mhp"),
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("object_store.backend is local"), "{err}");
    assert!(!err.contains("keys.provider"), "{err}");
    assert!(!data.exists(), "nothing made before the refusal");

    // A backup kept in the data directory is lost with the machine: production refuses to make
    // one there (or to drill from there), before anything is written.
    for args in [
        &["backup", "create"][..],
        &["backup", "create", "--key-store"],
        &["backup", "drill"],
    ] {
        let mut args = args.to_vec();
        args.extend(["--data-dir", &d]);
        let out = mhp(&args, &[("MHP_ENVIRONMENT", "production")], None);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(
            stderr(&out).contains("is in this machine's data directory"),
            "{args:?}: {}",
            stderr(&out)
        );
        assert!(!data.exists(), "{args:?}: nothing made before the refusal");
    }

    let out = mhp(
        &["serve", "--data-dir", &d],
        &[("MHP_ENVIRONMENT", "staging")],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("environment: must be development or production"),
        "{}",
        stderr(&out)
    );
}

/// `(cookie, csrf)` of a password sign-in, and whether it waits for the second factor.
async fn sign_in(base: &str) -> (String, String, bool) {
    let res = reqwest::Client::new()
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"email": "ops@example.org", "password": OPS_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let cookie = cookie_of(&res);
    let body: Value = res.json().await.unwrap();
    (
        cookie,
        body["csrf_token"].as_str().unwrap().to_owned(),
        body["mfa_required"] == true,
    )
}

async fn get(base: &str, path: &str, bearer: &str) -> (StatusCode, String) {
    let res = reqwest::Client::new()
        .get(format!("{base}{path}"))
        .bearer_auth(bearer)
        .send()
        .await
        .unwrap();
    (res.status(), res.text().await.unwrap())
}

fn code_at(secret: &[u8], step: i64) -> String {
    format!("{:06}", mhp_auth::totp::code_at(secret, step))
}

async fn checkpoints_signed(p: &MhpProcess) {
    p.wait_for_log(&["audit checkpoints signed"], Duration::from_secs(30))
        .await;
}

/// Enrols the operator's authenticator on `base`; returns the secret and the step its
/// confirmation used.
pub(crate) async fn enrol_totp(base: &str) -> (Vec<u8>, i64) {
    use mhp_domain::Clock as _;
    let (cookie, csrf, _) = sign_in(base).await;
    let res = post(base, "/api/v1/auth/mfa/totp", &cookie, &csrf, json!({})).await;
    assert_eq!(res.status(), StatusCode::OK);
    let secret = mhp_test_support::base32_decode(
        res.json::<Value>().await.unwrap()["secret_base32"]
            .as_str()
            .unwrap(),
    );
    let step = mhp_auth::totp::step_of(mhp_domain::SystemClock.now());
    let res = post(
        base,
        "/api/v1/auth/mfa/totp/confirm",
        &cookie,
        &csrf,
        json!({"code": code_at(&secret, step)}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    (secret, step)
}

/// Signs in on `base` with the second factor at `step`, then asks for an access token.
async fn access_token_after_mfa(base: &str, secret: &[u8], step: i64) -> String {
    let (pending, csrf, mfa) = sign_in(base).await;
    assert!(mfa, "the second factor enrolled on A applies on B");
    let res = post(
        base,
        "/api/v1/auth/mfa/verify",
        &pending,
        &csrf,
        json!({"code": code_at(secret, step)}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK, "B opens the secret A sealed");
    let cookie = cookie_of(&res);
    let csrf = res.json::<Value>().await.unwrap()["csrf_token"]
        .as_str()
        .unwrap()
        .to_owned();
    token_of_session(base, &cookie, &csrf).await
}

/// An access token for a signed-in session.
async fn token_of_session(base: &str, cookie: &str, csrf: &str) -> String {
    let res = post(base, "/api/v1/auth/token", cookie, csrf, json!({})).await;
    assert_eq!(res.status(), StatusCode::OK);
    res.json::<Value>().await.unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotated_root_keeps_opening_and_verifying_and_reindex_moves_the_blind_indexes() {
    let dir = tempfile::tempdir().unwrap();
    let o = bootstrap_org(dir.path(), "Rotating", &[]);
    let run = |args: &[&str]| {
        let mut full = args.to_vec();
        full.extend(["--data-dir", &o.data]);
        mhp(&full, &[], None)
    };
    let org = &o.org;
    let export = |base: &str, id: &str| {
        let path = format!("/api/v1/orgs/{org}/subjects/{id}/export");
        let (base, key) = (base.to_owned(), o.admin.clone());
        async move {
            let (status, body) = get(&base, &path, &key).await;
            assert_eq!(status, StatusCode::OK, "{body}");
            serde_json::from_str::<Value>(&body).unwrap()["deidentified_id"]
                .as_str()
                .unwrap()
                .to_owned()
        }
    };
    let found = |base: &str| {
        let (base, key) = (base.to_owned(), o.admin.clone());
        let path = format!("/api/v1/orgs/{org}/subjects?q=ROT-1");
        async move {
            let (status, body) = get(&base, &path, &key).await;
            assert_eq!(status, StatusCode::OK, "{body}");
            serde_json::from_str::<Value>(&body).unwrap()["items"][0]["id"]
                .as_str()
                .map(str::to_owned)
        }
    };

    // Version 1: a subject found by its external id, a TOTP secret sealed, checkpoints signed.
    let p = MhpProcess::serve(MHP, &["--data-dir", &o.data], &[]);
    checkpoints_signed(&p).await;
    let res = reqwest::Client::new()
        .post(format!("{}/api/v1/orgs/{org}/subjects", p.base))
        .bearer_auth(&o.admin)
        .json(&json!({"name": "Kim Rotation", "external_id": "ROT-1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let kim = res.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let pseudonym_v1 = export(&p.base, &kim).await;
    let (secret, step) = enrol_totp(&p.base).await;
    let public_v1 = stdout(&run(&["audit", "public-key"]));
    drop(p);

    let out = run(&["keys", "rotate", "--root"]);
    assert!(
        stdout(&out).starts_with("installation root: now version 2"),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    let status = stdout(&run(&["keys", "status"]));
    assert!(status.contains("installation root: version 2"), "{status}");
    assert!(
        status.contains("blind indexes and pseudonyms: root version 1"),
        "{status}"
    );

    // Version 2 seals and signs; what version 1 sealed still opens, its indexes still find.
    let p = MhpProcess::serve(MHP, &["--data-dir", &o.data], &[]);
    checkpoints_signed(&p).await;
    access_token_after_mfa(&p.base, &secret, step + 1).await;
    assert_eq!(found(&p.base).await.as_deref(), Some(kim.as_str()));
    assert_eq!(export(&p.base, &kim).await, pseudonym_v1);
    drop(p);
    let public_v2 = stdout(&run(&["audit", "public-key"]));
    assert_ne!(
        public_v1, public_v2,
        "checkpoints are signed by the new version"
    );
    let verify = run(&["audit", "verify"]);
    assert!(verify.status.success(), "{}", stdout(&verify));
    // Offline, with version 1's public key alone, the newer checkpoints do not verify.
    let old_only = run(&["audit", "verify", "--public-key", public_v1.trim()]);
    assert_eq!(old_only.status.code(), Some(1), "{}", stdout(&old_only));

    // Reindex: the blind indexes are recomputed under version 2, pseudonyms follow it.
    let out = run(&["keys", "reindex"]);
    assert!(
        stdout(&out).starts_with(
            "recomputed the blind indexes of 1 subject(s) in 1 organisation(s) with root version 2"
        ),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    let status = stdout(&run(&["keys", "status"]));
    assert!(
        status.contains("blind indexes and pseudonyms: root version 2"),
        "{status}"
    );
    let p = MhpProcess::serve(MHP, &["--data-dir", &o.data], &[]);
    assert_eq!(found(&p.base).await.as_deref(), Some(kim.as_str()));
    assert_ne!(export(&p.base, &kim).await, pseudonym_v1);
    drop(p);
    assert!(run(&["audit", "verify"]).status.success());
    let again = run(&["keys", "reindex"]);
    assert!(
        stdout(&again).contains("nothing to do"),
        "{}",
        stdout(&again)
    );
}

#[cfg(feature = "aws")]
mod shared {
    //! Two `mhp serve` and one `mhp worker`, each with a data directory of its own, on one
    //! PostgreSQL (system of record) and a second database as the key store, with the master
    //! key in KMS and the objects in S3 (both moto), in `environment = production`. Nothing is
    //! shared through files or directories: the root reaches each process from the key store,
    //! unwrapped by KMS.

    use std::collections::BTreeSet;
    use std::path::Path;
    use std::time::{Duration, Instant};

    use mhp_test_support::MhpProcess;
    use mhp_test_support::moto::Moto;
    use reqwest::StatusCode;
    use serde_json::{Value, json};

    use super::{
        access_token_after_mfa, checkpoints_signed, enrol_totp, get, sign_in, token_of_session,
    };
    use crate::{MHP, bootstrap_org, mhp, stdout};

    struct Worker(std::process::Child);

    impl Drop for Worker {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }

    fn key_files(dir: &Path) -> Vec<String> {
        let mut found = Vec::new();
        let mut stack = vec![dir.to_path_buf()];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
                let p = e.path();
                let name = e.file_name().to_string_lossy().into_owned();
                if p.is_dir() {
                    stack.push(p);
                } else if name.contains("master.key")
                    || name.starts_with("kek-v")
                    || name == "keys.sqlite"
                {
                    found.push(p.display().to_string());
                }
            }
        }
        found
    }

    async fn access_token(base: &str) -> String {
        let (cookie, csrf, _) = sign_in(base).await;
        token_of_session(base, &cookie, &csrf).await
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn two_servers_and_a_worker_share_one_root_through_kms_and_no_key_file() {
        let Some(db) = mhp_test_support::fresh_postgres().await else {
            return;
        };
        let Some(key_store) = mhp_test_support::fresh_postgres().await else {
            return;
        };
        let Some(moto) = Moto::start() else {
            return;
        };
        let kms_key = moto.create_kms_key();
        moto.boto3(&format!(
            "aws('s3').create_bucket(Bucket='mhp-shared', \
             CreateBucketConfiguration={{'LocationConstraint': {:?}}})",
            mhp_test_support::moto::REGION
        ));
        let dir = tempfile::tempdir().unwrap();
        let mut owned = moto.env();
        owned.extend([
            ("MHP_ENVIRONMENT", "production".to_owned()),
            ("DATABASE_URL", db.clone()),
            ("MHP_KEYS_STORE_URL", key_store),
            ("MHP_KEYS_PROVIDER", "aws-kms".to_owned()),
            ("MHP_KEYS_KMS_KEY_ID", kms_key.clone()),
            ("MHP_OBJECT_STORE_BACKEND", "s3".to_owned()),
            ("MHP_OBJECT_STORE_BUCKET", "mhp-shared".to_owned()),
            ("MHP_OBJECT_STORE_PREFIX", "installation".to_owned()),
            ("MHP_OBJECT_STORE_KMS_KEY_ID", kms_key),
            ("MHP_PIPELINES_WORKERS", "0".to_owned()),
            ("MHP_PIPELINES_POLL_MS", "100".to_owned()),
            ("MHP_HTTP_PUBLIC_URL", "https://mhp.example.org".to_owned()),
            // As docs/design/backup.md has it on PostgreSQL. With the log filter per layer, the
            // servers lost their "listening" line this way (crates/cli/src/logging.rs).
            ("MHP_BACKUP_SCHEDULE", "off".to_owned()),
        ]);
        let env: Vec<(&str, &str)> = owned.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let data = |name: &str| dir.path().join(name).display().to_string();

        // An operator to sign in with, and a small demo organisation made by an instance of
        // its own (the demo makes the installation's root on the way).
        let ops = bootstrap_org(dir.path(), "Shared Root", &env);
        let demo = crate::demo_org(&data("demo"), &env, 1, 8, 10);
        let (org, admin) = (demo.org, demo.admin);

        let a = MhpProcess::serve(MHP, &["--data-dir", &data("a")], &env);
        checkpoints_signed(&a).await;

        // A token issued by A, and the TOTP secret A sealed, before B exists.
        let from_a = access_token(&a.base).await;
        let (secret, step) = enrol_totp(&a.base).await;
        // A subject found by a blind index of its external id.
        let res = reqwest::Client::new()
            .post(format!("{}/api/v1/orgs/{org}/subjects", a.base))
            .bearer_auth(&admin)
            .json(&json!({"name": "Kim Blindindex", "external_id": "SVC-4711"}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::CREATED);
        let kim = res.json::<Value>().await.unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned();

        let b = MhpProcess::serve(MHP, &["--data-dir", &data("b")], &env);
        checkpoints_signed(&b).await;
        let ops_org = &ops.org;
        let (status, body) = get(&b.base, "/api/v1/me", &from_a).await;
        assert_eq!(status, StatusCode::OK, "A's token on B: {body}");
        // B signs with the key A made (its private half sealed under the root).
        let from_b = access_token_after_mfa(&b.base, &secret, step + 1).await;
        let (status, body) = get(&a.base, &format!("/api/v1/orgs/{ops_org}/teams"), &from_b).await;
        assert_eq!(status, StatusCode::OK, "B's token on A: {body}");
        let (status, body) = get(
            &b.base,
            &format!("/api/v1/orgs/{org}/subjects?q=SVC-4711"),
            &admin,
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        let found: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(found["items"][0]["id"], kim.as_str(), "{found}");

        // The worker builds the de-identified rows; both servers name the same people by them.
        let mut cmd = std::process::Command::new(MHP);
        cmd.args(["worker", "--workers", "1", "--data-dir", &data("w")]);
        mhp_test_support::clean_env(&mut cmd);
        cmd.envs(env.iter().copied())
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        let _w = Worker(cmd.spawn().unwrap());
        let res = reqwest::Client::new()
            .post(format!(
                "{}/api/v1/orgs/{org}/pipelines/train-injury-risk/runs",
                a.base
            ))
            .bearer_auth(&admin)
            .json(&json!({"params": {"season_start": "2025-09-01"}}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::ACCEPTED);
        let run = res.json::<Value>().await.unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let started = Instant::now();
        let csv = loop {
            let (status, body) = get(
                &b.base,
                &format!("/api/v1/orgs/{org}/datasets/{run}/csv"),
                &admin,
            )
            .await;
            if status == StatusCode::OK {
                break body;
            }
            assert!(
                started.elapsed() < Duration::from_secs(120),
                "no dataset: {status} {body}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        };
        let in_dataset: BTreeSet<String> = csv
            .lines()
            .skip(1)
            .filter_map(|l| l.split(',').next().map(str::to_owned))
            .collect();
        assert!(!in_dataset.is_empty(), "{csv}");
        let (_, body) = get(
            &a.base,
            &format!("/api/v1/orgs/{org}/subjects?limit=100"),
            &admin,
        )
        .await;
        let subjects: Value = serde_json::from_str(&body).unwrap();
        let mut named = BTreeSet::new();
        for s in subjects["items"].as_array().unwrap() {
            let id = s["id"].as_str().unwrap();
            let path = format!("/api/v1/orgs/{org}/subjects/{id}/export");
            let (_, on_a) = get(&a.base, &path, &admin).await;
            let (_, on_b) = get(&b.base, &path, &admin).await;
            let on_a: Value = serde_json::from_str(&on_a).unwrap();
            let on_b: Value = serde_json::from_str(&on_b).unwrap();
            assert_eq!(on_a["deidentified_id"], on_b["deidentified_id"]);
            named.insert(on_a["deidentified_id"].as_str().unwrap().to_owned());
        }
        assert!(
            in_dataset.is_subset(&named),
            "the worker's pseudonyms {in_dataset:?} are not the servers' {named:?}"
        );

        // The checkpoints both servers signed verify with the one public key of the root.
        let verify = mhp(&["audit", "verify", "--data-dir", &data("v")], &env, None);
        assert!(verify.status.success(), "{}", stdout(&verify));
        let checked = stdout(&verify);
        let n: u32 = checked
            .split(" checkpoint(s)")
            .next()
            .and_then(|s| s.rsplit(' ').next())
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("{checked}"));
        assert!(n >= 2, "checkpoints of both servers: {checked}");

        // And no process left key material in a file, nor an object in a directory: the
        // recordings and the worker's dataset are in the bucket, under the prefix, encrypted by
        // S3 under the KMS key on top of MHP's sealing.
        assert!(
            key_files(dir.path()).is_empty(),
            "{:?}",
            key_files(dir.path())
        );
        let local_objects: Vec<_> = ["a", "b", "w", "demo", "v"]
            .iter()
            .map(|d| dir.path().join(d).join("objects"))
            .filter(|p| p.exists())
            .collect();
        assert!(local_objects.is_empty(), "{local_objects:?}");
        let (keys, sse) = moto.bucket_contents("mhp-shared");
        assert!(
            keys.iter().any(|k| k.contains("/raw/")),
            "recordings in S3: {keys:?}"
        );
        assert!(
            keys.iter().all(|k| k.starts_with("installation/")),
            "{keys:?}"
        );
        assert_eq!(sse, ["aws:kms"], "{keys:?}");
    }
}
