//! `mhp backup` with the real binary: a demo organisation backed up (incrementally), the key
//! store apart; altered, truncated and mixed backups refused by name; a restore into a new
//! data directory, from the key ring alone, that serves the same records; the drill's RTO and
//! RPO in JSON and in `/metrics`; retention.

use std::path::Path;

use mhp_test_support::MhpProcess;
use reqwest::StatusCode;
use serde_json::Value;

use crate::{MHP, mhp, stderr, stdout};

/// Something done to a copy of the destination.
type Damage<'a> = Box<dyn Fn(&Path) + 'a>;

fn json_line(out: &std::process::Output) -> Value {
    assert_eq!(out.status.code(), Some(0), "{}", stderr(out));
    let text = stdout(out);
    serde_json::from_str(text.lines().last().unwrap_or_default())
        .unwrap_or_else(|e| panic!("{e}: {text}"))
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// Every file under `dir` (none when it does not exist).
fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            if entry.file_type().unwrap().is_dir() {
                pending.push(entry.path());
            } else {
                found.push(entry.path());
            }
        }
    }
    found
}

async fn get(base: &str, path: &str, key: &str) -> (StatusCode, String) {
    let res = reqwest::Client::new()
        .get(format!("{base}{path}"))
        .bearer_auth(key)
        .send()
        .await
        .unwrap();
    (res.status(), res.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backups_restore_from_the_key_ring_alone_and_refuse_what_was_altered() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data").display().to_string();
    let dest = dir.path().join("backups");
    let keys_dest = dir.path().join("key-backups");
    let keyring = dir.path().join("data/keyring").display().to_string();
    let dest_s = dest.display().to_string();
    let key_store_url = format!("sqlite://{data}/keys.sqlite?mode=rwc");
    let keys_dest_s = keys_dest.display().to_string();
    let env = [
        ("MHP_LOG_LEVEL", "warn"),
        ("MHP_BACKUP_TO", dest_s.as_str()),
        ("MHP_BACKUP_KEYS_TO", keys_dest_s.as_str()),
        ("MHP_KEYS_KEYRING_DIR", keyring.as_str()),
    ];
    let demo = crate::demo_org(&data, &env, 1, 4, 2);
    let (org, admin) = (demo.org, demo.admin);

    // A first backup copies every object; a second copies none of them again.
    let first = json_line(&mhp(&["backup", "create", "--data-dir", &data], &env, None));
    let objects = first["objects"].as_u64().unwrap();
    assert!(objects > 0, "{first}");
    assert_eq!(first["objects_copied"], objects);
    let keys = json_line(&mhp(
        &["backup", "create", "--key-store", "--data-dir", &data],
        &env,
        None,
    ));
    assert_eq!(keys["kind"], "key-store");
    let second = json_line(&mhp(&["backup", "create", "--data-dir", &data], &env, None));
    assert_eq!(second["objects_copied"], 0, "{second}");
    assert_eq!(second["objects_reused"], objects);
    assert!(
        second["bytes_written"].as_u64().unwrap() < first["bytes_written"].as_u64().unwrap(),
        "{second}"
    );
    let id = second["id"].as_str().unwrap().to_owned();
    let listed = stdout(&mhp(&["backup", "list", "--data-dir", &data], &env, None));
    assert_eq!(listed.lines().count(), 2, "{listed}");
    let verified = json_line(&mhp(
        &["backup", "verify", &id, "--data-dir", &data],
        &env,
        None,
    ));
    assert_eq!(verified["objects"], objects);

    // Altered, truncated, deleted or mixed: each refused, naming what does not match. Each
    // case works on a copy of the destination.
    let first_id = first["id"].as_str().unwrap();
    let part = format!("backups/{id}/parts/mhp.sqlite.00000");
    let cases: Vec<(&str, Damage, &str)> = vec![
        (
            "a flipped byte in a part",
            Box::new(|d: &Path| {
                let p = d.join(&part);
                let mut b = std::fs::read(&p).unwrap();
                let at = b.len() / 2;
                b[at] ^= 1;
                std::fs::write(&p, b).unwrap();
            }),
            "part 0 does not open",
        ),
        (
            "a truncated part",
            Box::new(|d: &Path| {
                let p = d.join(&part);
                let b = std::fs::read(&p).unwrap();
                std::fs::write(&p, &b[..b.len() - 4096]).unwrap();
            }),
            "part 0 does not open",
        ),
        (
            "a deleted blob",
            Box::new(|d: &Path| {
                let blob = std::fs::read_dir(d.join("blobs")).unwrap().next().unwrap();
                std::fs::remove_file(blob.unwrap().path()).unwrap();
            }),
            "is missing",
        ),
        (
            "an edited manifest",
            Box::new(|d: &Path| {
                let p = d.join(format!("backups/{id}/manifest.json"));
                let text = std::fs::read_to_string(&p).unwrap();
                std::fs::write(&p, text.replacen("\"users\": ", "\"users\": 1", 1)).unwrap();
            }),
            "MAC does not match",
        ),
        (
            "another backup's seal",
            Box::new(|d: &Path| {
                std::fs::copy(
                    d.join(format!("backups/{first_id}/manifest.sig")),
                    d.join(format!("backups/{id}/manifest.sig")),
                )
                .unwrap();
            }),
            "MAC does not match",
        ),
        (
            "a part of another backup",
            Box::new(|d: &Path| {
                std::fs::copy(
                    d.join(format!("backups/{first_id}/parts/mhp.sqlite.00000")),
                    d.join(&part),
                )
                .unwrap();
            }),
            "part 0 does not open",
        ),
    ];
    for (what, damage, expected) in cases {
        let copy = dir.path().join("damaged");
        let _ = std::fs::remove_dir_all(&copy);
        copy_dir(&dest, &copy);
        damage(&copy);
        let copy_s = copy.display().to_string();
        let mut damaged_env = env.to_vec();
        damaged_env[1] = ("MHP_BACKUP_TO", copy_s.as_str());
        damaged_env.push(("MHP_KEYS_STORE_URL", key_store_url.as_str()));
        let out = mhp(
            &["backup", "verify", &id, "--data-dir", &data],
            &damaged_env,
            None,
        );
        assert_eq!(out.status.code(), Some(1), "{what}: {}", stdout(&out));
        assert!(stderr(&out).contains(expected), "{what}: {}", stderr(&out));
        // A restore of it is refused alike, and leaves nothing behind.
        let target = dir.path().join("damaged-restore");
        let target_s = target.display().to_string();
        let out = mhp(
            &["backup", "restore", &id, "--data-dir", &target_s],
            &damaged_env,
            None,
        );
        assert_eq!(out.status.code(), Some(1), "{what}: {}", stdout(&out));
        assert!(stderr(&out).contains(expected), "{what}: {}", stderr(&out));
        assert!(!target.join("mhp.sqlite").exists(), "{what}");
        let left: Vec<_> = walk(&target.join("objects"));
        assert!(left.is_empty(), "{what}: {left:?}");
    }

    // A new machine with the key ring alone (kept apart, as the local provider's root of
    // trust): the key store first, then the data.
    let new = dir.path().join("new").display().to_string();
    let out = mhp(&["backup", "restore", &id, "--data-dir", &new], &env, None);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("no key store"), "{}", stderr(&out));
    let key_id = keys["id"].as_str().unwrap();
    json_line(&mhp(
        &[
            "backup",
            "restore",
            key_id,
            "--key-store",
            "--data-dir",
            &new,
        ],
        &env,
        None,
    ));
    let restored = json_line(&mhp(
        &["backup", "restore", &id, "--data-dir", &new],
        &env,
        None,
    ));
    assert_eq!(restored["objects"], objects);
    assert!(restored["audit_events"].as_u64().unwrap() > 0, "{restored}");
    let again = mhp(&["backup", "restore", &id, "--data-dir", &new], &env, None);
    assert_eq!(again.status.code(), Some(2), "{}", stderr(&again));
    assert!(
        stderr(&again).contains("holds objects already"),
        "{}",
        stderr(&again)
    );

    // Both serve the same records, raw files included (sealed objects that open).
    // (The servers log at info: their start is read from the log.)
    let serve_env = &env[1..];
    let original = MhpProcess::serve(MHP, &["--data-dir", &data], serve_env);
    let copy = MhpProcess::serve(MHP, &["--data-dir", &new], serve_env);
    let (status, subjects) = get(
        &original.base,
        &format!("/api/v1/orgs/{org}/subjects?limit=100"),
        &admin,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (_, on_copy) = get(
        &copy.base,
        &format!("/api/v1/orgs/{org}/subjects?limit=100"),
        &admin,
    )
    .await;
    assert_eq!(subjects, on_copy);
    let subjects: Value = serde_json::from_str(&subjects).unwrap();
    let subject = subjects["items"][0]["id"].as_str().unwrap();
    let path = format!("/api/v1/orgs/{org}/subjects/{subject}/export");
    let (status, exported) = get(&original.base, &path, &admin).await;
    assert_eq!(status, StatusCode::OK);
    let (status, exported_copy) = get(&copy.base, &path, &admin).await;
    assert_eq!(status, StatusCode::OK, "{exported_copy}");
    let mut exported: Value = serde_json::from_str(&exported).unwrap();
    let mut exported_copy: Value = serde_json::from_str(&exported_copy).unwrap();
    exported["exported_at_ms"] = Value::Null;
    exported_copy["exported_at_ms"] = Value::Null;
    assert_eq!(exported, exported_copy);
    // The sealed raw files, byte for byte.
    let objects_of = |root: &str| {
        let base = Path::new(root).join("objects");
        let mut files: Vec<(String, Vec<u8>)> = walk(&base)
            .into_iter()
            .map(|p| {
                (
                    p.strip_prefix(&base).unwrap().display().to_string(),
                    std::fs::read(&p).unwrap(),
                )
            })
            .collect();
        files.sort();
        files
    };
    let (before, after) = (objects_of(&data), objects_of(&new));
    assert_eq!(before.len() as u64, objects);
    assert!(before == after, "the restored objects differ");
    drop(copy);

    // The drill: a server on a restored copy, ready; RTO and RPO in JSON and in /metrics.
    let drilled = json_line(&mhp(&["backup", "drill", "--data-dir", &data], &env, None));
    assert_eq!(drilled["ready"], true, "{drilled}");
    assert_eq!(drilled["backup"], id.as_str());
    assert_eq!(drilled["key_store_backup"], key_id);
    let rto = drilled["rto_s"].as_f64().unwrap();
    assert!(rto > 0.0 && rto < 120.0, "{drilled}");
    assert!(drilled["rpo_s"].as_f64().unwrap() >= 0.0, "{drilled}");
    assert!(
        !Path::new(&data)
            .join("drills")
            .read_dir()
            .unwrap()
            .any(|_| true),
        "the drill's scratch copy is removed"
    );
    let metrics = reqwest::get(format!("{}/metrics", original.base))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for series in [
        "mhp_backup_last_success_timestamp_seconds{kind=\"data\"}",
        "mhp_backup_last_success_timestamp_seconds{kind=\"key-store\"}",
        "mhp_backup_age_seconds{kind=\"drill\"}",
        "mhp_backup_drill_rto_seconds",
        "mhp_backup_drill_rpo_seconds",
    ] {
        assert!(metrics.contains(series), "{series} in\n{metrics}");
    }
    drop(original);

    // Retention of nothing but the newest: the older backup goes, the newest still verifies
    // (its blobs, written by the older one, stay).
    let mut keep_one = env.to_vec();
    keep_one.extend([
        ("MHP_BACKUP_DAILY", "0"),
        ("MHP_BACKUP_WEEKLY", "0"),
        ("MHP_BACKUP_MONTHLY", "0"),
    ]);
    let pruned = json_line(&mhp(
        &["backup", "prune", "--data-dir", &data],
        &keep_one,
        None,
    ));
    assert_eq!(pruned["removed"], serde_json::json!([first_id]), "{pruned}");
    assert_eq!(pruned["kept"], serde_json::json!([id]), "{pruned}");
    json_line(&mhp(
        &["backup", "verify", &id, "--data-dir", &data],
        &env,
        None,
    ));
    let audit = mhp(&["audit", "verify", "--data-dir", &data], &env, None);
    assert!(audit.status.success(), "{}", stdout(&audit));
}

/// `base` with the log level and, when given, the database URL.
fn env_on<'a>(
    base: &[(&'a str, &'a str)],
    db: Option<&'a str>,
    log: &'a str,
) -> Vec<(&'a str, &'a str)> {
    let mut env = base.to_vec();
    env.push(("MHP_LOG_LEVEL", log));
    if let Some(db) = db {
        env.push(("MHP_DATABASE_URL", db));
    }
    env
}

/// PostgreSQL backed up through MHP: a logical copy of every row (read in one snapshot, as the
/// application's role through row-level security) in the same portable form as the embedded
/// database's, restored into another PostgreSQL database and into a SQLite data directory; both
/// serve the same records as the original. A restore into a database that holds data is refused
/// and leaves it as it was.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgresql_is_backed_up_logically_and_restored_into_either_backend() {
    let Some(url) = mhp_test_support::fresh_postgres().await else {
        return;
    };
    let Some(other) = mhp_test_support::fresh_postgres().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name).display().to_string();
    let (data, dest, keyring) = (path("data"), path("backups"), path("keyring"));
    let keys_dest = path("key-backups");
    let base = [
        ("MHP_BACKUP_TO", dest.as_str()),
        ("MHP_BACKUP_KEYS_TO", keys_dest.as_str()),
        ("MHP_KEYS_KEYRING_DIR", keyring.as_str()),
    ];
    let original_env = env_on(&base, Some(&url), "warn");
    let demo = crate::demo_org(&data, &original_env, 1, 4, 2);
    let (org, admin) = (demo.org, demo.admin);
    let made = json_line(&mhp(
        &["backup", "create", "--data-dir", &data],
        &original_env,
        None,
    ));
    let id = made["id"].as_str().unwrap().to_owned();
    assert!(made["objects"].as_u64().unwrap() > 0, "{made}");
    let keys = json_line(&mhp(
        &["backup", "create", "--key-store", "--data-dir", &data],
        &original_env,
        None,
    ));
    let key_id = keys["id"].as_str().unwrap().to_owned();

    // Into another PostgreSQL database, and into a SQLite data directory: each on a new
    // machine with the key ring alone (the key store restored first).
    let restore_into = |data: &str, db: Option<&str>| {
        let env = env_on(&base, db, "warn");
        json_line(&mhp(
            &[
                "backup",
                "restore",
                &key_id,
                "--key-store",
                "--data-dir",
                data,
            ],
            &env,
            None,
        ));
        json_line(&mhp(
            &["backup", "restore", &id, "--data-dir", data],
            &env,
            None,
        ))
    };
    let (pg_data, sqlite_data) = (path("on-postgres"), path("on-sqlite"));
    let into_pg = restore_into(&pg_data, Some(&other));
    let into_sqlite = restore_into(&sqlite_data, None);
    for restored in [&into_pg, &into_sqlite] {
        assert_eq!(restored["objects"], made["objects"], "{restored}");
        assert!(restored["audit_events"].as_u64().unwrap() > 0, "{restored}");
    }
    assert!(!Path::new(&pg_data).join("mhp.sqlite").exists());
    assert!(Path::new(&sqlite_data).join("mhp.sqlite").exists());

    // A database that holds data is not restored into: the copy is refused before a row is
    // written, and the objects the restore had put down are removed again.
    let again = path("again");
    let again_env = env_on(&base, Some(&url), "warn");
    json_line(&mhp(
        &[
            "backup",
            "restore",
            &key_id,
            "--key-store",
            "--data-dir",
            &again,
        ],
        &again_env,
        None,
    ));
    let refused = mhp(
        &["backup", "restore", &id, "--data-dir", &again],
        &again_env,
        None,
    );
    assert_eq!(refused.status.code(), Some(1), "{}", stderr(&refused));
    assert!(
        stderr(&refused).contains("holds data already"),
        "{}",
        stderr(&refused)
    );
    assert!(walk(&Path::new(&again).join("objects")).is_empty());

    // The three serve the same records.
    let serve = |data: &str, db: Option<&str>| {
        MhpProcess::serve(MHP, &["--data-dir", data], &env_on(&base, db, "info")[..])
    };
    let servers = [
        serve(&data, Some(&url)),
        serve(&pg_data, Some(&other)),
        serve(&sqlite_data, None),
    ];
    let mut seen = Vec::new();
    for server in &servers {
        let (status, subjects) = get(
            &server.base,
            &format!("/api/v1/orgs/{org}/subjects?limit=100"),
            &admin,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{subjects}");
        let subjects: Value = serde_json::from_str(&subjects).unwrap();
        let first = subjects["items"][0]["id"].as_str().unwrap().to_owned();
        let (status, export) = get(
            &server.base,
            &format!("/api/v1/orgs/{org}/subjects/{first}/export"),
            &admin,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{export}");
        let mut export: Value = serde_json::from_str(&export).unwrap();
        export["exported_at_ms"] = Value::Null;
        seen.push((subjects, export));
    }
    assert!(
        seen[0].0["items"].as_array().unwrap().len() == 4,
        "{}",
        seen[0].0
    );
    assert_eq!(seen[0], seen[1], "restored into PostgreSQL");
    assert_eq!(seen[0], seen[2], "restored into SQLite");
    drop(servers);
    // The drill restores the PostgreSQL installation's backup and serves it until ready.
    let drilled = json_line(&mhp(
        &["backup", "drill", "--data-dir", &data],
        &original_env,
        None,
    ));
    assert_eq!(drilled["ready"], true, "{drilled}");
    assert_eq!(drilled["backup"], id.as_str());
    eprintln!("drill of a PostgreSQL installation's backup: {drilled}");
    let audit = mhp(
        &["audit", "verify", "--data-dir", &pg_data],
        &env_on(&base, Some(&other), "warn"),
        None,
    );
    assert!(audit.status.success(), "{}", stdout(&audit));
}

/// Backups in S3 (moto): made, verified and drilled from the bucket, every piece stored with
/// SSE-KMS.
#[cfg(feature = "aws")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backups_go_to_s3_and_are_drilled_from_there() {
    let Some(moto) = mhp_test_support::moto::Moto::start() else {
        return;
    };
    moto.boto3(&format!(
        "aws('s3').create_bucket(Bucket='mhp-backups', \
         CreateBucketConfiguration={{'LocationConstraint': {:?}}})",
        mhp_test_support::moto::REGION
    ));
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data").display().to_string();
    let mut owned = moto.env();
    owned.extend([
        ("MHP_LOG_LEVEL", "warn".to_owned()),
        ("MHP_BACKUP_TO", "s3://mhp-backups/site-a".to_owned()),
        (
            "MHP_BACKUP_KEYS_TO",
            "s3://mhp-backups/site-a-keys".to_owned(),
        ),
    ]);
    let env: Vec<(&str, &str)> = owned.iter().map(|(k, v)| (*k, v.as_str())).collect();
    crate::demo_org(&data, &env, 1, 2, 1);
    let made = json_line(&mhp(&["backup", "create", "--data-dir", &data], &env, None));
    assert!(made["objects"].as_u64().unwrap() > 0, "{made}");
    let id = made["id"].as_str().unwrap();
    json_line(&mhp(
        &["backup", "create", "--key-store", "--data-dir", &data],
        &env,
        None,
    ));
    json_line(&mhp(
        &["backup", "verify", id, "--data-dir", &data],
        &env,
        None,
    ));
    let drilled = json_line(&mhp(&["backup", "drill", "--data-dir", &data], &env, None));
    assert_eq!(drilled["ready"], true, "{drilled}");
    assert!(drilled["key_store_backup"].is_string(), "{drilled}");

    let (keys, sse) = moto.bucket_contents("mhp-backups");
    assert!(
        keys.contains(&format!("site-a/backups/{id}/manifest.json")),
        "{keys:?}"
    );
    assert!(
        keys.iter().any(|k| k.starts_with("site-a/blobs/")),
        "{keys:?}"
    );
    assert!(
        keys.iter().any(|k| k.starts_with("site-a-keys/backups/")),
        "{keys:?}"
    );
    assert_eq!(sse, ["aws:kms"], "{keys:?}");
}

/// `mhp serve` backs up on `backup.schedule` (every minute here): data and key store, recorded,
/// and a backup that verifies.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_backs_up_on_its_schedule() {
    let dir = tempfile::tempdir().unwrap();
    let org = crate::bootstrap_org(dir.path(), "Scheduled", &[]);
    let env = [("MHP_BACKUP_SCHEDULE", "* * * * *")];
    let server = MhpProcess::serve(MHP, &["--data-dir", &org.data], &env);
    let started = std::time::Instant::now();
    let metrics = loop {
        let text = reqwest::get(format!("{}/metrics", server.base))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        if text.contains("mhp_backup_last_success_timestamp_seconds{kind=\"key-store\"}") {
            break text;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(100),
            "no scheduled backup within a minute and a half:\n{}",
            server.log().join("\n")
        );
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    };
    assert!(
        metrics.contains("mhp_backup_last_success_timestamp_seconds{kind=\"data\"}"),
        "{metrics}"
    );
    let listed = mhp(&["backup", "list", "--data-dir", &org.data], &[], None);
    let first: Value = serde_json::from_str(stdout(&listed).lines().next().unwrap()).unwrap();
    let id = first["id"].as_str().unwrap();
    json_line(&mhp(
        &["backup", "verify", id, "--data-dir", &org.data],
        &[],
        None,
    ));
}
