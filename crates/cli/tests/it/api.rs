//! The API through the real binary: an operator issues keys from the command line, devices and
//! admins call the API with them, and one organisation cannot read another's.

use std::time::Duration;

use mhp_test_support::MhpProcess;
use serde_json::{Value, json};

use crate::{MHP, mhp, printed_id, printed_token, stderr};

async fn keys_teams_and_tenant_isolation(env: Vec<(&str, String)>) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data").display().to_string();
    let env_ref: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let run = |args: &[&str]| {
        let mut full: Vec<&str> = args.to_vec();
        full.extend(["--data-dir", &data]);
        mhp(&full, &env_ref, None)
    };

    let boot = run(&[
        "admin",
        "bootstrap",
        "--org",
        "Alpha",
        "--email",
        "ops@example.org",
    ]);
    assert_eq!(boot.status.code(), Some(0), "{}", stderr(&boot));
    let alpha = printed_id(&boot, "organisation:");
    let bravo_out = run(&["admin", "org-create", "--name", "Bravo"]);
    assert_eq!(bravo_out.status.code(), Some(0), "{}", stderr(&bravo_out));
    let bravo = printed_id(&bravo_out, "organisation:");

    let alpha_admin = printed_token(&run(&[
        "admin",
        "api-key",
        "create",
        "--org",
        &alpha,
        "--role",
        "org_admin",
        "--name",
        "admin tool",
    ]));
    let bravo_admin = printed_token(&run(&[
        "admin",
        "api-key",
        "create",
        "--org",
        &bravo,
        "--role",
        "org_admin",
        "--name",
        "admin tool",
    ]));
    let bad = run(&[
        "admin", "api-key", "create", "--org", &alpha, "--role", "root", "--name", "x",
    ]);
    assert_eq!(bad.status.code(), Some(2));

    let p = MhpProcess::serve(MHP, &["--data-dir", &data], &env_ref);
    let c = reqwest::Client::new();
    let teams = format!("{}/api/v1/orgs/{alpha}/teams", p.base);

    let res = c
        .post(&teams)
        .bearer_auth(&alpha_admin)
        .json(&json!({ "name": "Forwards" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let listed: Value = c
        .get(&teams)
        .bearer_auth(&alpha_admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed[0]["name"], "Forwards", "{listed}");

    // Bravo's admin cannot read or write Alpha's teams: not found, nothing written.
    let res = c
        .get(&teams)
        .bearer_auth(&bravo_admin)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    let res = c
        .post(&teams)
        .bearer_auth(&bravo_admin)
        .json(&json!({ "name": "Intruders" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    let listed: Value = c
        .get(&teams)
        .bearer_auth(&alpha_admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 1);

    // A device key may not list teams.
    let device = printed_token(&run(&[
        "admin", "api-key", "create", "--org", &alpha, "--role", "device", "--name", "plate 1",
    ]));
    let res = c.get(&teams).bearer_auth(&device).send().await.unwrap();
    assert_eq!(res.status(), 403);

    // Revoked from the command line while the server runs: refused at once.
    let device_id = device.split('_').nth(1).unwrap().to_owned();
    let revoked = run(&[
        "admin", "api-key", "revoke", "--org", &alpha, "--id", &device_id,
    ]);
    assert_eq!(revoked.status.code(), Some(0), "{}", stderr(&revoked));
    let last_request = "api-test-revoked-key";
    let res = c
        .get(format!("{}/api/v1/me", p.base))
        .bearer_auth(&device)
        .header("x-request-id", last_request)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);

    // The refusal reached the security stream, and the request's own log line (written when it
    // was answered, after everything it logged) is in: the log of every request above is
    // complete. No token appears in it.
    let request_id = format!("\"request_id\":\"{last_request}\"");
    p.wait_for_log(
        &["\"target\":\"mhp::security\"", &request_id],
        Duration::from_secs(10),
    )
    .await;
    p.wait_for_log(
        &["\"message\":\"request\"", "\"status\":401", &request_id],
        Duration::from_secs(10),
    )
    .await;
    for line in p.log() {
        for secret in [&alpha_admin, &bravo_admin, &device] {
            assert!(!line.contains(secret.as_str()), "token logged: {line}");
        }
    }
}

#[tokio::test]
async fn api_keys_and_tenant_isolation_on_sqlite() {
    keys_teams_and_tenant_isolation(vec![]).await;
}

#[tokio::test]
async fn api_keys_and_tenant_isolation_on_postgres() {
    let Some(url) = mhp_test_support::fresh_postgres().await else {
        return;
    };
    keys_teams_and_tenant_isolation(vec![("DATABASE_URL", url)]).await;
}
