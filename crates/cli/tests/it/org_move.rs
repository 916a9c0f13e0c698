//! `mhp org export` and `mhp org import`: an organisation moved from a SQLite installation to a
//! PostgreSQL one and back to another SQLite one, each installation with its own key ring and
//! root. What the root made is re-made (authenticator secrets, blind indexes, checkpoints);
//! the rest arrives as it was.

use std::path::Path;

use mhp_domain::Clock as _;
use mhp_test_support::MhpProcess;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::{MHP, OPS_PASSWORD, cookie_of, mhp, post, stderr, stdout};

fn json_line(out: &std::process::Output) -> Value {
    assert!(out.status.success(), "{}{}", stdout(out), stderr(out));
    serde_json::from_str(stdout(out).trim()).unwrap()
}

async fn login(base: &str, email: &str, password: &str) -> (reqwest::Response, String) {
    let res = reqwest::Client::new()
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({ "email": email, "password": password }))
        .send()
        .await
        .unwrap();
    let cookie = cookie_of(&res);
    (res, cookie)
}

async fn get(base: &str, path: &str, key: &str) -> Value {
    let res = reqwest::Client::new()
        .get(format!("{base}{path}"))
        .bearer_auth(key)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK, "{path}");
    res.json().await.unwrap()
}

/// A code for the current step, or for the one after `used` (a step is good once).
fn code(secret: &[u8], used: i64) -> (String, i64) {
    let step = mhp_auth::totp::step_of(mhp_domain::SystemClock.now()).max(used + 1);
    (
        format!("{:06}", mhp_auth::totp::code_at(secret, step)),
        step,
    )
}

/// What a reader of the organisation sees: its subjects, one subject's full record (less the
/// moment of export and the de-identified id, which the installation's root makes), and what
/// a search by name finds.
async fn records(base: &str, org: &str, key: &str, name: &str) -> (Value, Value, Value) {
    let subjects = get(base, &format!("/api/v1/orgs/{org}/subjects?limit=100"), key).await;
    let first = subjects["items"][0]["id"].as_str().unwrap().to_owned();
    let mut record = get(
        base,
        &format!("/api/v1/orgs/{org}/subjects/{first}/export"),
        key,
    )
    .await;
    record["exported_at_ms"] = Value::Null;
    record["deidentified_id"] = Value::Null;
    let found = get(
        base,
        &format!(
            "/api/v1/orgs/{org}/subjects?q={}",
            name.split_whitespace().next().unwrap()
        ),
        key,
    )
    .await;
    (subjects, record, found["items"].clone())
}

fn flip_a_byte(from: &Path, to: &Path) {
    let mut bytes = std::fs::read(from).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x01;
    std::fs::write(to, bytes).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_organisation_moves_between_installations_of_either_backend() {
    let Some(url) = mhp_test_support::fresh_postgres().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name).display().to_string();
    let (a, b, c) = (path("a"), path("b"), path("c"));
    let warn = [("MHP_LOG_LEVEL", "warn")];
    let on_pg = [
        ("MHP_LOG_LEVEL", "warn"),
        ("MHP_DATABASE_URL", url.as_str()),
    ];

    // The source: the demo organisation on SQLite; its clinician enrols an authenticator.
    let demo = crate::demo_org(&a, &warn, 1, 3, 2);
    let (org, admin) = (demo.org.clone(), demo.admin.clone());
    let person = |role: &str| -> (String, String) {
        let line = demo
            .printed
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("{role} ")))
            .unwrap();
        let parts: Vec<&str> = line.split_whitespace().collect();
        (parts[1].to_owned(), parts[2].to_owned())
    };
    let (clinician, clinician_password) = person("clinician");
    let (coach, _) = person("coach");
    let source = MhpProcess::serve(MHP, &["--data-dir", &a], &[]);
    let (res, cookie) = login(&source.base, &clinician, &clinician_password).await;
    assert_eq!(res.status(), StatusCode::OK);
    let csrf = res.json::<Value>().await.unwrap()["csrf_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let res = post(
        &source.base,
        "/api/v1/auth/mfa/totp",
        &cookie,
        &csrf,
        json!({}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let secret = mhp_test_support::base32_decode(
        res.json::<Value>().await.unwrap()["secret_base32"]
            .as_str()
            .unwrap(),
    );
    let (confirm, used) = code(&secret, 0);
    let res = post(
        &source.base,
        "/api/v1/auth/mfa/totp/confirm",
        &cookie,
        &csrf,
        json!({ "code": confirm }),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let first = get(
        &source.base,
        &format!("/api/v1/orgs/{org}/subjects?limit=1"),
        &admin,
    )
    .await;
    let name = first["items"][0]["name"].as_str().unwrap().to_owned();
    let before = records(&source.base, &org, &admin, &name).await;
    assert_eq!(before.2.as_array().unwrap().len(), 1, "{}", before.2);
    source
        .wait_for_log(
            &["audit checkpoints signed"],
            std::time::Duration::from_secs(30),
        )
        .await;
    drop(source);

    let (file, key) = (path("org.mhpx"), path("org.key"));
    let exported = json_line(&mhp(
        &[
            "org",
            "export",
            &org,
            "--to",
            &file,
            "--key-to",
            &key,
            "--data-dir",
            &a,
        ],
        &warn,
        None,
    ));
    assert_eq!(
        exported["transfer_key"],
        Value::Null,
        "the key went to its file"
    );
    assert!(exported["objects"].as_u64().unwrap() > 0, "{exported}");
    let file_text = std::fs::read(&file).unwrap();
    assert!(
        !String::from_utf8_lossy(&file_text).contains(&org),
        "the file does not even name the organisation"
    );

    // The target: PostgreSQL, whose operator already has an account for the coach's address.
    let boot = mhp(
        &[
            "admin",
            "bootstrap",
            "--org",
            "Elsewhere",
            "--email",
            &coach,
            "--password-stdin",
            "--data-dir",
            &b,
        ],
        &on_pg,
        Some(&format!("{OPS_PASSWORD}\n")),
    );
    assert!(boot.status.success(), "{}", stderr(&boot));

    // A wrong key and an altered file are refused, and leave nothing behind.
    let wrong = path("wrong.key");
    std::fs::write(&wrong, format!("mhp-transfer-v1:{}\n", "ab".repeat(32))).unwrap();
    let refused = mhp(
        &[
            "org",
            "import",
            &file,
            "--key-file",
            &wrong,
            "--data-dir",
            &b,
        ],
        &on_pg,
        None,
    );
    assert_eq!(refused.status.code(), Some(2), "{}", stderr(&refused));
    assert!(
        stderr(&refused).contains("does not open"),
        "{}",
        stderr(&refused)
    );
    let altered = path("altered.mhpx");
    flip_a_byte(Path::new(&file), Path::new(&altered));
    let refused = mhp(
        &[
            "org",
            "import",
            &altered,
            "--key-file",
            &key,
            "--data-dir",
            &b,
        ],
        &on_pg,
        None,
    );
    assert_eq!(refused.status.code(), Some(2), "{}", stderr(&refused));
    assert!(
        std::fs::read_dir(Path::new(&b).join("objects"))
            .map(|d| d.count())
            .unwrap_or(0)
            == 0,
        "no object was written"
    );

    let imported = json_line(&mhp(
        &["org", "import", &file, "--key-file", &key, "--data-dir", &b],
        &on_pg,
        None,
    ));
    assert_eq!(imported["org"], org.as_str());
    assert_eq!(imported["objects"], exported["objects"]);
    assert_eq!(imported["people_linked"], 1, "{imported}");
    assert_eq!(imported["subjects_indexed"], 3, "{imported}");
    for table in ["subjects", "assessments", "training_loads", "api_keys"] {
        assert_eq!(imported["rows"][table], exported["rows"][table], "{table}");
    }
    let again = mhp(
        &["org", "import", &file, "--key-file", &key, "--data-dir", &b],
        &on_pg,
        None,
    );
    assert_eq!(again.status.code(), Some(2));
    assert!(stderr(&again).contains("exists on this installation already"));
    let audit = mhp(&["audit", "verify", "--data-dir", &b], &on_pg, None);
    assert!(audit.status.success(), "{}", stdout(&audit));

    // The target serves the same records; its root found the subject by name; the clinician's
    // authenticator works there; the coach signs in with the account the target had.
    let target = MhpProcess::serve(MHP, &["--data-dir", &b], &on_pg[1..]);
    let after = records(&target.base, &org, &admin, &name).await;
    assert_eq!(after, before);
    let (res, pending) = login(&target.base, &clinician, &clinician_password).await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["mfa_required"], true, "{body}");
    let res = post(
        &target.base,
        "/api/v1/auth/mfa/verify",
        &pending,
        body["csrf_token"].as_str().unwrap(),
        json!({ "code": code(&secret, used).0 }),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK, "the secret was sealed again");
    let (res, _) = login(&target.base, &coach, OPS_PASSWORD).await;
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "the coach keeps the target's account"
    );
    drop(target);

    // And back to SQLite, from PostgreSQL.
    let (file2, key2) = (path("back.mhpx"), path("back.key"));
    json_line(&mhp(
        &[
            "org",
            "export",
            &org,
            "--to",
            &file2,
            "--key-to",
            &key2,
            "--data-dir",
            &b,
        ],
        &on_pg,
        None,
    ));
    let back = json_line(&mhp(
        &[
            "org",
            "import",
            &file2,
            "--key-file",
            &key2,
            "--data-dir",
            &c,
        ],
        &warn,
        None,
    ));
    assert_eq!(back["people_linked"], 0, "{back}");
    let audit = mhp(&["audit", "verify", "--data-dir", &c], &warn, None);
    assert!(audit.status.success(), "{}", stdout(&audit));
    let returned = MhpProcess::serve(MHP, &["--data-dir", &c], &[]);
    assert_eq!(records(&returned.base, &org, &admin, &name).await, before);
}
