use crate::{mhp, stderr, stdout};

fn data_dir_args(dir: &tempfile::TempDir) -> Vec<String> {
    vec![
        "--data-dir".into(),
        dir.path().join("data").display().to_string(),
    ]
}

fn bootstrap(
    dir: &tempfile::TempDir,
    extra: &[&str],
    env: &[(&str, &str)],
    stdin: Option<&str>,
) -> std::process::Output {
    let base = data_dir_args(dir);
    let mut args: Vec<&str> = vec!["admin", "bootstrap"];
    args.extend(base.iter().map(String::as_str));
    args.extend_from_slice(extra);
    mhp(&args, env, stdin)
}

fn bootstraps_once(env: &[(&str, &str)]) {
    let dir = tempfile::tempdir().unwrap();
    let out = bootstrap(
        &dir,
        &["--org", "Alpha Rugby", "--email", "Ops@Example.org"],
        env,
        None,
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("organisation: Alpha Rugby ("), "{text}");
    assert!(
        text.contains("platform operator: ops@example.org"),
        "{text}"
    );
    let secret = text
        .lines()
        .find_map(|l| l.split("first sign-in): ").nth(1))
        .expect("a one-time password is printed");
    assert_eq!(secret.len(), 24);
    assert!(
        !stderr(&out).contains(secret),
        "the secret is printed once, not logged"
    );

    // A second bootstrap changes nothing.
    let again = bootstrap(
        &dir,
        &["--org", "Bravo", "--email", "b@example.org"],
        env,
        None,
    );
    assert_eq!(again.status.code(), Some(1));
    assert!(
        stderr(&again).contains("already bootstrapped"),
        "{}",
        stderr(&again)
    );
}

#[test]
fn bootstrap_on_embedded_defaults() {
    bootstraps_once(&[]);
}

#[tokio::test]
async fn bootstrap_on_postgres() {
    let Some(url) = mhp_test_support::fresh_postgres().await else {
        return;
    };
    tokio::task::spawn_blocking(move || bootstraps_once(&[("DATABASE_URL", &url)]))
        .await
        .unwrap();
}

#[test]
fn bootstrap_reads_the_password_from_stdin_and_checks_it() {
    let dir = tempfile::tempdir().unwrap();
    let args = [
        "--org",
        "Alpha",
        "--email",
        "ops@example.org",
        "--password-stdin",
    ];
    let short = bootstrap(&dir, &args, &[], Some("too-short\n"));
    assert_eq!(short.status.code(), Some(2));
    assert!(stderr(&short).contains("at least 12 characters"));
    assert!(
        !dir.path().join("data").exists(),
        "a refused password creates nothing"
    );

    let bad_email = bootstrap(&dir, &["--org", "Alpha", "--email", "nope"], &[], None);
    assert_eq!(bad_email.status.code(), Some(2));
    assert!(stderr(&bad_email).contains("--email is not a valid e-mail address"));

    let ok = bootstrap(&dir, &args, &[], Some("a long enough passphrase\n"));
    assert_eq!(ok.status.code(), Some(0), "{}", stderr(&ok));
    assert!(!stdout(&ok).contains("one-time password"));
    assert!(!stdout(&ok).contains("passphrase") && !stderr(&ok).contains("passphrase"));
}

#[test]
fn migrate_applies_then_reports_up_to_date() {
    let dir = tempfile::tempdir().unwrap();
    let base = data_dir_args(&dir);
    let args: Vec<&str> = std::iter::once("migrate")
        .chain(base.iter().map(String::as_str))
        .collect();
    let first = mhp(&args, &[], None);
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    assert!(
        stdout(&first).starts_with(
            "applied 32 migration(s): 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32;"
        ),
        "{}",
        stdout(&first)
    );
    let second = mhp(&args, &[], None);
    assert_eq!(
        stdout(&second).trim(),
        "database is up to date (32 migrations)"
    );
}

#[test]
fn audit_verify_passes_then_names_an_edited_event() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let d = data.to_str().unwrap();
    let boot = mhp(
        &[
            "admin",
            "bootstrap",
            "--org",
            "Alpha",
            "--email",
            "ops@example.org",
            "--data-dir",
            d,
        ],
        &[],
        None,
    );
    assert_eq!(boot.status.code(), Some(0), "{}", stderr(&boot));
    let cp = mhp(&["audit", "checkpoint", "--data-dir", d], &[], None);
    assert_eq!(
        stdout(&cp).trim(),
        "2 checkpoint(s) written",
        "{}",
        stderr(&cp)
    );
    let ok = mhp(&["audit", "verify", "--data-dir", d], &[], None);
    assert_eq!(ok.status.code(), Some(0), "{}{}", stdout(&ok), stderr(&ok));
    assert!(
        // The operator's sign-up, the organisation's creation, and the root the first
        // checkpoint made (keys.root_created).
        stdout(&ok).contains("2 chain(s), 4 event(s), 2 checkpoint(s)"),
        "{}",
        stdout(&ok)
    );

    // Offline, with the public key alone.
    let pk = stdout(&mhp(&["audit", "public-key", "--data-dir", d], &[], None))
        .trim()
        .to_owned();
    assert_eq!(pk.len(), 64);
    let ok = mhp(
        &["audit", "verify", "--data-dir", d, "--public-key", &pk],
        &[],
        None,
    );
    assert_eq!(ok.status.code(), Some(0));

    // Someone with the database file edits history.
    let db = data.join("mhp.sqlite");
    let status = std::process::Command::new("python3")
        .arg("-c")
        .arg(
            "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); \
             c.execute('DROP TRIGGER audit_events_no_update'); \
             c.execute(\"UPDATE audit_events SET actor='nobody' WHERE action='membership.grant'\"); \
             c.commit()",
        )
        .arg(&db)
        .status()
        .unwrap();
    assert!(status.success());
    let bad = mhp(&["audit", "verify", "--data-dir", d], &[], None);
    assert_eq!(bad.status.code(), Some(1));
    assert!(stdout(&bad).contains("FAIL chain"), "{}", stdout(&bad));
    assert!(stdout(&bad).contains("was altered"), "{}", stdout(&bad));
}

/// Events older than six years leave through `mhp audit prune`: archived as JSON lines in the
/// object store, removed, and the log still verifies from the anchor.
#[tokio::test]
async fn audit_prune_archives_old_events_and_the_log_still_verifies() {
    use mhp_domain::{Clock as _, OrgName, OrgScope, SystemClock, Timestamp};
    use mhp_storage::repo::audit::{self, AuditEvent, Outcome};
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let d = data.to_str().unwrap().to_owned();
    let run = |args: &[&str]| {
        let mut full = args.to_vec();
        full.extend(["--data-dir", &d]);
        mhp(&full, &[], None)
    };
    assert_eq!(run(&["migrate"]).status.code(), Some(0));
    // An organisation with seven years of history, written through the storage layer.
    let db = mhp_storage::Db::connect(
        &format!("sqlite://{}?mode=rwc", data.join("mhp.sqlite").display()),
        &mhp_storage::DbOptions::default(),
    )
    .await
    .unwrap();
    let old = SystemClock.now().as_millis() - 7 * 365 * 86_400_000;
    let mut tx = db.operator(mhp_storage::Access::Write).await.unwrap();
    let org = mhp_storage::repo::orgs::create(
        &mut tx,
        &OrgName::parse("Old Org").unwrap(),
        Timestamp::from_millis(old),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let scope = OrgScope::for_operator(org.id, "test");
    let event = |i: i64| AuditEvent {
        actor: "user:old".into(),
        action: "subject.read",
        resource_type: "subject",
        resource_id: Some(format!("s{i}")),
        outcome: Outcome::Success,
        request_id: None,
        source_ip: None,
        user_agent: None,
        detail: None,
    };
    let mut tx = db.tenant(&scope, mhp_storage::Access::Write).await.unwrap();
    for i in 0..4 {
        audit::append(&mut tx, &event(i), Timestamp::from_millis(old + i))
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
    assert_eq!(run(&["audit", "checkpoint"]).status.code(), Some(0));
    // A young event after the checkpoint: it stays.
    let mut tx = db.tenant(&scope, mhp_storage::Access::Write).await.unwrap();
    audit::append(&mut tx, &event(9), SystemClock.now())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    db.close().await;

    let dry = run(&["audit", "prune", "--dry-run"]);
    assert!(
        stdout(&dry).contains("would remove 4 event(s) older than 2190 days"),
        "{}{}",
        stdout(&dry),
        stderr(&dry)
    );
    let pruned = run(&["audit", "prune"]);
    assert_eq!(pruned.status.code(), Some(0), "{}", stderr(&pruned));
    assert!(
        stdout(&pruned).contains("removed 4 event(s)"),
        "{}",
        stdout(&pruned)
    );
    let archive = data.join(format!("objects/audit-archive/{}/0-3.jsonl", org.id));
    let lines = std::fs::read_to_string(&archive).unwrap();
    assert_eq!(lines.lines().count(), 4);
    assert!(lines.lines().all(|l| l.contains("\"hash\":")));
    let ok = run(&["audit", "verify"]);
    assert_eq!(ok.status.code(), Some(0), "{}{}", stdout(&ok), stderr(&ok));
    let again = run(&["audit", "prune"]);
    assert!(
        stdout(&again).contains("removed 0 event(s)"),
        "{}",
        stdout(&again)
    );
    let short = mhp(
        &["config", "check", "--data-dir", &d],
        &[("MHP_AUDIT_RETENTION_DAYS", "30")],
        None,
    );
    assert_eq!(short.status.code(), Some(2));
    assert!(
        stderr(&short).contains("audit.retention_days"),
        "{}",
        stderr(&short)
    );
}
