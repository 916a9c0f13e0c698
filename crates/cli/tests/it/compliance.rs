//! `mhp compliance check` on a real PostgreSQL deployment: a hardened baseline, then the same
//! deployment weakened (MFA optional for admins, an old unused API key, audit rows altered,
//! row-level security off on a table, a local master key with `production` set) fails exactly
//! the expected checks and no other changes. The OSCAL and Security Hub forms are validated by
//! NIST compliance-trestle and botocore; the API serves the newest run.

use std::collections::BTreeMap;

use mhp_test_support::MhpProcess;
use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::Connection as _;

use crate::{MHP, bootstrap_org, mhp, stderr, stdout};

fn check(data: &str, env: &[(&str, &str)], extra: &[&str]) -> String {
    let mut args = vec!["compliance", "check", "--data-dir", data];
    args.extend(extra);
    let out = mhp(&args, env, None);
    assert!(out.status.success(), "{}", stderr(&out));
    stdout(&out)
}

fn outcomes(report: &str) -> BTreeMap<String, String> {
    let report: Value = serde_json::from_str(report).unwrap();
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["id"].as_str().unwrap().to_owned(),
                f["outcome"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_weakened_deployment_fails_exactly_the_expected_checks() {
    let Some(url) = mhp_test_support::fresh_postgres().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let env = [
        ("MHP_DATABASE_URL", url.as_str()),
        ("MHP_LOG_LEVEL", "warn"),
    ];
    let o = bootstrap_org(dir.path(), "Checked", &env);
    let org = o.org.clone();

    // Hardened: the organisation requires a second factor of privileged roles, the operator
    // has an authenticator, the server signs a checkpoint.
    let server = MhpProcess::serve(MHP, &["--data-dir", &o.data], &env[..1]);
    let res = reqwest::Client::new()
        .put(format!("{}/api/v1/orgs/{org}/mfa-policy", server.base))
        .bearer_auth(&o.admin)
        .json(&json!({"policy": "privileged"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    crate::root::enrol_totp(&server.base).await;
    server
        .wait_for_log(
            &["audit checkpoints signed"],
            std::time::Duration::from_secs(30),
        )
        .await;

    let baseline = outcomes(&check(&o.data, &env, &[]));
    assert!(baseline.len() >= 30, "{baseline:?}");
    let targeted = [
        "mfa_required_for_privileged_roles",
        "api_keys_expire",
        "api_keys_in_use",
        "audit_chain_verifies",
        "tenant_row_security_forced",
        "master_key_not_local_in_production",
        "production_parts_shared",
        "database_tls",
        "public_url_https",
    ];
    for id in targeted {
        assert_ne!(
            baseline[id], "fail",
            "{id} holds on the hardened deployment"
        );
    }

    // Weakened: MFA optional through the API, then, around MHP as an intruder or a careless
    // operator would: a key made 120 days ago and never used, an audit event altered, and
    // row-level security switched off on a table; then checked with `production` set over the
    // local key ring.
    let res = reqwest::Client::new()
        .put(format!("{}/api/v1/orgs/{org}/mfa-policy", server.base))
        .bearer_auth(&o.admin)
        .json(&json!({"policy": "optional"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    drop(server);
    let mut pg = sqlx::PgConnection::connect(&url).await.unwrap();
    let old = 1_000i64 * 86_400 * 120;
    for sql in [
        "SELECT set_config('mhp.operator', 'on', false)".to_owned(),
        format!(
            "UPDATE api_keys SET created_at_ms = created_at_ms - {old}, last_used_at_ms = NULL"
        ),
        "ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only".to_owned(),
        format!(
            "UPDATE audit_events SET actor = 'someone else' WHERE chain = '{org}' AND chain_index = 0"
        ),
        "ALTER TABLE teams NO FORCE ROW LEVEL SECURITY".to_owned(),
    ] {
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
            .execute(&mut pg)
            .await
            .unwrap();
    }
    pg.close().await.unwrap();
    let production = [env[0], env[1], ("MHP_ENVIRONMENT", "production")];
    let weakened_json = check(&o.data, &production, &[]);
    let weakened = outcomes(&weakened_json);
    for (id, before) in &baseline {
        if targeted.contains(&id.as_str()) {
            assert_eq!(weakened[id], "fail", "{id} fails once weakened");
        } else {
            assert_eq!(&weakened[id], before, "{id} did not change");
        }
    }
    let evidence: Value = serde_json::from_str(&weakened_json).unwrap();
    let said = |id: &str| {
        evidence["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["id"] == id)
            .unwrap()["evidence"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert!(said("tenant_row_security_forced").contains("teams"));
    assert!(said("master_key_not_local_in_production").contains("keys.provider = local"));
    assert!(
        !weakened_json.contains(&url),
        "no database URL in the evidence"
    );

    // The other forms, validated by implementations that are not MHP's.
    let oscal = check(&o.data, &production, &["--format", "oscal"]);
    if let Some(summary) = mhp_test_support::compliance::validate("oscal", &oscal) {
        assert!(summary.contains("not-satisfied"), "{summary}");
    }
    let asff = check(
        &o.data,
        &production,
        &["--format", "asff", "--aws-account-id", "123456789012"],
    );
    if let Some(summary) = mhp_test_support::compliance::validate("asff", &asff) {
        assert!(summary.contains("FAILED"), "{summary}");
    }
    let refused = mhp(
        &[
            "compliance",
            "check",
            "--format",
            "asff",
            "--data-dir",
            &o.data,
        ],
        &production,
        None,
    );
    assert_eq!(refused.status.code(), Some(2), "asff needs the account");
    let html = check(&o.data, &production, &["--format", "html"]);
    assert!(html.starts_with("<!doctype html>"));
    assert!(html.contains("<td class=\"result\">fail</td>"));

    // The API serves the newest run and the history, to the organisation's auditors too.
    let server = MhpProcess::serve(MHP, &["--data-dir", &o.data], &env[..1]);
    let res = reqwest::Client::new()
        .get(format!(
            "{}/api/v1/orgs/{org}/compliance/report?history=10",
            server.base
        ))
        .bearer_auth(&o.admin)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    assert!(body["history"].as_array().unwrap().len() >= 4, "{body}");
    assert_eq!(
        body["report"]["summary"]["failed"].as_u64().unwrap() as usize,
        body["report"]["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["outcome"] == "fail")
            .count()
    );
}
