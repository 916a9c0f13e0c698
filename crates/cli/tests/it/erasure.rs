//! Erasure by crypto-shredding, proven on a backup: a copy of the database and object store
//! taken before a subject is erased is restored beside the live key store, and the erased
//! subject's identifiers and notes do not open there, while everyone else's do. Then key
//! rotation through `mhp keys` with the server's data still readable.

use std::path::Path;

use mhp_biomech::synth::{self, CmjSpec};
use mhp_biomech::to_mhp_csv;
use mhp_test_support::MhpProcess;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::{MHP, mhp, printed_id, printed_token, stderr, stdout};

async fn send(req: reqwest::RequestBuilder, want: StatusCode) -> Value {
    let res = req.send().await.unwrap();
    let status = res.status();
    let text = res.text().await.unwrap();
    assert_eq!(status, want, "{text}");
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// A consistent copy of a live SQLite database (`VACUUM INTO`), as a backup tool makes.
async fn backup_sqlite(from: &Path, to: &Path) {
    use sqlx::Connection as _;
    let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{}", from.display()))
        .await
        .unwrap();
    sqlx::query("VACUUM INTO $1")
        .bind(to.display().to_string())
        .execute(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
}

#[tokio::test]
async fn an_erased_subject_stays_unreadable_in_a_backup_taken_before() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data_s = data.display().to_string();
    let run = |args: &[&str], data: &str| {
        let mut full: Vec<&str> = args.to_vec();
        full.extend(["--data-dir", data]);
        mhp(&full, &[], None)
    };
    let org = printed_id(
        &run(
            &[
                "admin",
                "bootstrap",
                "--org",
                "Alpha",
                "--email",
                "ops@example.org",
            ],
            &data_s,
        ),
        "organisation:",
    );
    let admin = printed_token(&run(
        &[
            "admin",
            "api-key",
            "create",
            "--org",
            &org,
            "--role",
            "org_admin",
            "--name",
            "a",
        ],
        &data_s,
    ));
    let clinician = printed_token(&run(
        &[
            "admin",
            "api-key",
            "create",
            "--org",
            &org,
            "--role",
            "clinician",
            "--name",
            "c",
        ],
        &data_s,
    ));
    let p = MhpProcess::serve(MHP, &["--data-dir", &data_s], &[]);
    let c = reqwest::Client::new();
    let api = format!("{}/api/v1/orgs/{org}", p.base);
    let create = |name: &str, ext: &str| {
        c.post(format!("{api}/subjects"))
            .bearer_auth(&admin)
            .json(&json!({"name": name, "external_id": ext, "birth_date": "2001-02-03"}))
    };
    let zelda = send(create("Zelda Backupova", "ZB-0001"), StatusCode::CREATED).await;
    let zid = zelda["id"].as_str().unwrap().to_owned();
    let carl = send(create("Carl Control", "CC-0002"), StatusCode::CREATED).await;
    let cid = carl["id"].as_str().unwrap().to_owned();
    let jumps = synth::cmj(&CmjSpec {
        jumps: 1,
        seed: 5,
        ..CmjSpec::default()
    })
    .unwrap();
    send(
        c.post(format!("{api}/subjects/{zid}/assessments"))
            .bearer_auth(&admin)
            .header("content-type", "text/csv")
            .body(to_mhp_csv(&jumps.recording)),
        StatusCode::CREATED,
    )
    .await;
    send(
        c.post(format!("{api}/subjects/{zid}/injuries"))
            .bearer_auth(&clinician)
            .json(&json!({
                "body_region": "knee", "injury_type": "sprain", "side": "left",
                "mechanism": "non_contact", "occurred_on": "2026-01-10", "time_loss_days": 9,
                "notes": "Zelda twisted it on the stairs",
            })),
        StatusCode::CREATED,
    )
    .await;

    // The nightly backup: the database and the object store, not the key store.
    let backup = dir.path().join("backup");
    std::fs::create_dir_all(&backup).unwrap();
    backup_sqlite(&data.join("mhp.sqlite"), &backup.join("mhp.sqlite")).await;
    copy_dir(&data.join("objects"), &backup.join("objects"));

    // A clinician may not erase; the organisation's administrator may, once.
    send(
        c.post(format!("{api}/subjects/{zid}/erase"))
            .bearer_auth(&clinician),
        StatusCode::FORBIDDEN,
    )
    .await;
    let erased = send(
        c.post(format!("{api}/subjects/{zid}/erase"))
            .bearer_auth(&admin),
        StatusCode::OK,
    )
    .await;
    assert_eq!(erased["keys_destroyed"], 1, "{erased}");
    assert_eq!(erased["raw_objects_deleted"], 1, "{erased}");
    send(
        c.post(format!("{api}/subjects/{zid}/erase"))
            .bearer_auth(&admin),
        StatusCode::NOT_FOUND,
    )
    .await;
    let gone = send(
        c.get(format!("{api}/subjects/{zid}")).bearer_auth(&admin),
        StatusCode::GONE,
    )
    .await;
    assert!(!gone.to_string().contains("Zelda"), "{gone}");
    for q in ["zb0001", "backupova"] {
        let found = send(
            c.get(format!("{api}/subjects?q={q}&archived=include"))
                .bearer_auth(&admin),
            StatusCode::OK,
        )
        .await;
        assert!(
            found["items"].as_array().unwrap().is_empty(),
            "{q}: {found}"
        );
    }
    send(
        c.get(format!("{api}/subjects/{cid}")).bearer_auth(&admin),
        StatusCode::OK,
    )
    .await;
    let audit = send(
        c.get(format!("{api}/audit?action=subject.erase"))
            .bearer_auth(&admin),
        StatusCode::OK,
    )
    .await;
    assert_eq!(audit["items"][0]["resource_id"], zid.as_str(), "{audit}");
    p.terminate();
    drop(p);

    // Restore the backup beside the live keys (key ring, and the key store with the root).
    let restored = dir.path().join("restored");
    std::fs::create_dir_all(&restored).unwrap();
    std::fs::copy(backup.join("mhp.sqlite"), restored.join("mhp.sqlite")).unwrap();
    copy_dir(&backup.join("objects"), &restored.join("objects"));
    copy_dir(&data.join("keyring"), &restored.join("keyring"));
    std::fs::copy(data.join("keys.sqlite"), restored.join("keys.sqlite")).unwrap();
    let restored_s = restored.display().to_string();
    let p = MhpProcess::serve(MHP, &["--data-dir", &restored_s], &[]);
    let api = format!("{}/api/v1/orgs/{org}", p.base);
    // In the backup Zelda was never erased, yet nothing of hers opens: her key is gone.
    for path in [
        format!("subjects/{zid}"),
        format!("subjects/{zid}/export"),
        format!("subjects/{zid}/fhir"),
        format!("subjects/{zid}/injuries"),
    ] {
        let body = send(
            c.get(format!("{api}/{path}")).bearer_auth(&admin),
            StatusCode::GONE,
        )
        .await;
        assert!(!body.to_string().contains("Zelda"), "{path}: {body}");
    }
    let control = send(
        c.get(format!("{api}/subjects/{cid}")).bearer_auth(&admin),
        StatusCode::OK,
    )
    .await;
    assert_eq!(control["name"], "Carl Control");
    p.terminate();
    drop(p);

    // Her raw recording in the backed-up object store: sealed, and no key opens it (a
    // re-analysis of it fails; Carl has none, so that is the only one).
    let backup_files = {
        let mut all = Vec::new();
        collect_files(&backup, &mut all);
        all
    };
    for (path, bytes) in &backup_files {
        for phi in ["Zelda", "Backupova", "ZB-0001", "2001-02-03", "stairs"] {
            assert!(
                !bytes.windows(phi.len()).any(|w| w == phi.as_bytes()),
                "{phi} in plain text in {}",
                path.display()
            );
        }
    }

    // Rotation through the command line; everything left stays readable.
    let rotate = run(&["keys", "rotate", "--master"], &data_s);
    assert_eq!(rotate.status.code(), Some(0), "{}", stderr(&rotate));
    let rotate = run(&["keys", "rotate", "--all-orgs"], &data_s);
    assert!(
        stdout(&rotate).contains("key now version 2"),
        "{}",
        stdout(&rotate)
    );
    let rewrap = run(&["keys", "rewrap"], &data_s);
    assert!(
        stdout(&rewrap).starts_with(
            "re-wrapped 1 organisation key(s) and 1 subject key(s); retired master version(s) [1]"
        ),
        "{}{}",
        stdout(&rewrap),
        stderr(&rewrap)
    );
    let status = stdout(&run(&["keys", "status"], &data_s));
    assert!(
        status.contains("master key: version 2 (live: [2])"),
        "{status}"
    );
    let p = MhpProcess::serve(MHP, &["--data-dir", &data_s], &[]);
    let api = format!("{}/api/v1/orgs/{org}", p.base);
    let control = send(
        c.get(format!("{api}/subjects/{cid}")).bearer_auth(&admin),
        StatusCode::OK,
    )
    .await;
    assert_eq!(control["name"], "Carl Control");
    let audit = send(
        c.get(format!("{api}/audit?action=keys."))
            .bearer_auth(&admin),
        StatusCode::OK,
    )
    .await;
    assert_eq!(audit["items"].as_array().unwrap().len(), 1, "{audit}");
    let bad = run(&["keys", "rotate"], &data_s);
    assert_eq!(bad.status.code(), Some(2), "{}", stderr(&bad));
}

fn collect_files(dir: &Path, out: &mut Vec<(std::path::PathBuf, Vec<u8>)>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        if entry.file_type().unwrap().is_dir() {
            collect_files(&entry.path(), out);
        } else {
            out.push((entry.path(), std::fs::read(entry.path()).unwrap()));
        }
    }
}
