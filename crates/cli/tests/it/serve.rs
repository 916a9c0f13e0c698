use std::os::unix::fs::PermissionsExt as _;
use std::time::Duration;

use mhp_test_support::MhpProcess;
use serde_json::Value;

use crate::{MHP, mhp, stderr};

const QUICK: &[(&str, &str)] = &[
    ("MHP_HTTP_DRAIN_DELAY_MS", "700"),
    ("MHP_HTTP_BODY_LIMIT_BYTES", "4096"),
];

/// Starts, answers health, readiness and metrics, refuses oversized bodies, and shuts down
/// gracefully on SIGTERM.
async fn serves_until_sigterm(env: &[(&str, &str)], backend: &str) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut p = MhpProcess::serve(MHP, &["--data-dir", data.to_str().unwrap()], env);
    let c = reqwest::Client::new();
    wait_ready(&c, &p.base).await;

    let res = c.get(format!("{}/healthz", p.base)).send().await.unwrap();
    assert_eq!(res.status(), 200);

    // The container health check reaches readiness through the binary itself.
    let check = mhp(
        &["healthcheck", "--url", &format!("{}/readyz", p.base)],
        &[],
        None,
    );
    assert_eq!(check.status.code(), Some(0), "{}", stderr(&check));
    assert_eq!(res.headers()["x-content-type-options"], "nosniff");

    let ready: Value = c
        .get(format!("{}/readyz", p.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ready["status"], "ready", "{ready}");
    assert_eq!(ready["checks"]["backend"], backend);

    // Over the body limit: problem details, 413.
    let res = c
        .post(format!("{}/healthz", p.base))
        .body(vec![b'x'; 64 * 1024])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 413);
    assert_eq!(res.headers()["content-type"], "application/problem+json");

    let metrics = c
        .get(format!("{}/metrics", p.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics
            .contains(r#"mhp_http_requests_total{method="GET",route="/healthz",status="200"} 1"#),
        "{metrics}"
    );
    assert!(metrics.contains(&format!(r#"backend="{backend}""#)));

    // The embedded defaults are in place, the key ring private; the installation root lives
    // in the key store, wrapped by the ring, not in a file of its own.
    let key = data.join("keyring/kek-v1.key");
    assert_eq!(
        std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert!(data.join("keys.sqlite").is_file());
    assert!(!data.join("master.key").exists());
    assert!(data.join("objects").is_dir());
    if backend == "sqlite" {
        assert!(data.join("mhp.sqlite").is_file());
    }

    // SIGTERM: readiness turns off first (the server logs it once it has), while the listener
    // still accepts for the drain delay (700 ms); then the process exits cleanly.
    p.terminate();
    p.wait_for_log(
        &["\"message\":\"shutdown requested: readiness off\""],
        Duration::from_secs(10),
    )
    .await;
    let res = c.get(format!("{}/readyz", p.base)).send().await.unwrap();
    assert_eq!(res.status(), 503);
    let check = mhp(
        &["healthcheck", "--url", &format!("{}/readyz", p.base)],
        &[],
        None,
    );
    assert_eq!(check.status.code(), Some(1), "draining is not healthy");
    assert!(stderr(&check).contains("status 503"), "{}", stderr(&check));
    assert_eq!(p.wait(Duration::from_secs(20)), Some(0));

    // "stopped" is the last line the process writes: once it is in, the log is complete. The
    // phases came in order.
    p.wait_for_log(&["\"message\":\"stopped\""], Duration::from_secs(10))
        .await;
    let log = p.log();
    let at = |message: &str| {
        let needle = format!("\"message\":\"{message}\"");
        log.iter()
            .position(|l| l.contains(&needle))
            .unwrap_or_else(|| panic!("no {message:?} in the log:\n{}", log.join("\n")))
    };
    let phases = [
        at("shutdown requested: readiness off"),
        at("no longer accepting connections; finishing in-flight requests"),
        at("server stopped"),
        at("stopped"),
    ];
    assert!(phases.is_sorted(), "{phases:?}:\n{}", log.join("\n"));

    // Every log line is one JSON object, and none holds a request body.
    for line in &log {
        let v: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        assert!(v["level"].is_string());
        assert!(!line.contains("xxxxxxxx"), "{line}");
    }
}

/// Polls `/readyz` until it answers 200 (at most 30 s).
async fn wait_ready(c: &reqwest::Client, base: &str) {
    for _ in 0..300 {
        if let Ok(res) = c.get(format!("{base}/readyz")).send().await
            && res.status() == 200
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{base} never became ready");
}

#[test]
fn healthcheck_fails_when_nothing_answers() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = mhp(
        &[
            "healthcheck",
            "--url",
            &format!("http://127.0.0.1:{port}/readyz"),
        ],
        &[],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    let bad = mhp(&["healthcheck", "--url", "ftp://x"], &[], None);
    assert_eq!(bad.status.code(), Some(2));
}

#[tokio::test]
async fn serves_on_embedded_defaults() {
    serves_until_sigterm(QUICK, "sqlite").await;
}

#[tokio::test]
async fn serves_on_postgres() {
    let Some(url) = mhp_test_support::fresh_postgres().await else {
        return;
    };
    let mut env = QUICK.to_vec();
    env.push(("DATABASE_URL", &url));
    serves_until_sigterm(&env, "postgres").await;
}

#[test]
fn a_master_key_readable_by_others_stops_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("master.key");
    std::fs::write(&key, "mhp-master-key-v1:00\n").unwrap();
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = mhp(
        &["serve", "--data-dir", dir.path().to_str().unwrap()],
        &[],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("accessible by group or others"), "{err}");
    assert!(err.contains("chmod 600"), "{err}");
    assert!(
        !dir.path().join("mhp.sqlite").exists(),
        "nothing created before the refusal"
    );
}

#[test]
fn an_unreachable_database_is_retried_then_reported() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = tempfile::tempdir().unwrap();
    let url = format!("postgres://mhp:topsecret-pw@127.0.0.1:{port}/mhp");
    let started = std::time::Instant::now();
    let out = mhp(
        &["serve", "--data-dir", dir.path().to_str().unwrap()],
        &[
            ("DATABASE_URL", &url),
            ("MHP_DATABASE_STARTUP_TIMEOUT_S", "2"),
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(started.elapsed() >= Duration::from_secs(1));
    let err = stderr(&out);
    assert!(err.contains("database unreachable after"), "{err}");
    assert!(
        err.contains("not reachable yet"),
        "retries are logged: {err}"
    );
    assert!(!err.contains("topsecret"), "{err}");
}
