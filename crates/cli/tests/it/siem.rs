//! Security monitoring through the real binary: a working session on the demo organisation
//! raises no alert; then each shipped rule's attack is enacted and exactly the expected alerts
//! appear; every event the JSON-lines sink wrote validates against the OCSF 1.8.0 schema
//! (`tools/ocsf/validate.py`); a tampered audit log raises its alert after a restart.
//!
//! Attackers' addresses are varied with `X-Forwarded-For`, which the server believes because
//! the test names 127.0.0.1 a trusted proxy. Two rules need time to pass (an account unused for
//! 90 days, an API key older than a day): their history is written into the database with old
//! times, as the months would have written it.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use mhp_domain::{Clock as _, Email, SystemClock, Timestamp};
use mhp_storage::Access;
use mhp_storage::repo::audit::{self, AuditEvent};
use mhp_test_support::MhpProcess;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::{MHP, OPS_PASSWORD, bootstrap_org, cookie_of, mhp, printed_token};

const DAY_MS: i64 = 86_400_000;

struct Server {
    p: MhpProcess,
    c: reqwest::Client,
}

impl Server {
    fn start(data: &str) -> Self {
        Self::with(
            data,
            &[
                ("MHP_HTTP_TRUSTED_PROXIES", "127.0.0.1/32"),
                ("MHP_SECURITY_INTERVAL_MS", "200"),
            ],
        )
    }

    /// `mhp serve` on `data` with `env`.
    fn with(data: &str, env: &[(&str, &str)]) -> Self {
        Self {
            p: MhpProcess::serve(MHP, &["--data-dir", data], env),
            c: reqwest::Client::new(),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.p.base)
    }

    /// A request from `ip` (through the trusted proxy).
    fn from(&self, method: reqwest::Method, path: &str, ip: &str) -> reqwest::RequestBuilder {
        self.c
            .request(method, self.url(path))
            .header("x-forwarded-for", ip)
    }

    async fn login(&self, email: &str, password: &str, ip: &str) -> reqwest::Response {
        self.from(reqwest::Method::POST, "/api/v1/auth/login", ip)
            .json(&json!({ "email": email, "password": password }))
            .send()
            .await
            .unwrap()
    }

    async fn metric(&self, name: &str) -> f64 {
        let text = self
            .c
            .get(self.url("/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        text.lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0.0)
    }

    /// Sends `n` requests with a made-up API key: `n` refusals, each a security event.
    async fn refusals(&self, n: usize) {
        for _ in 0..n {
            let res = self
                .c
                .get(self.url("/api/v1/me"))
                .bearer_auth("mhp_not-a-real-key")
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        }
    }

    /// Waits until `/metrics` shows `sink` refusing batches with at least `waiting` events in
    /// its backlog.
    async fn sink_stalled(&self, sink: &str, waiting: f64) {
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        while self
            .metric(&format!(
                "mhp_security_delivery_errors_total{{sink=\"{sink}\"}}"
            ))
            .await
            < 1.0
            || self
                .metric(&format!("mhp_security_backlog_events{{sink=\"{sink}\"}}"))
                .await
                < waiting
        {
            assert!(
                std::time::Instant::now() < deadline,
                "no delivery error or backlog counted for {sink}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until `sink`'s backlog is empty.
    async fn sink_drained(&self, sink: &str) {
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        while self
            .metric(&format!("mhp_security_backlog_events{{sink=\"{sink}\"}}"))
            .await
            > 0.0
        {
            assert!(
                std::time::Instant::now() < deadline,
                "the backlog of {sink} was not delivered"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until the monitor has made two passes after now: everything written before has
    /// been shipped and evaluated.
    async fn caught_up(&self) {
        let start = self.metric("mhp_security_monitor_passes_total").await;
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        while self.metric("mhp_security_monitor_passes_total").await < start + 2.0 {
            assert!(
                std::time::Instant::now() < deadline,
                "the security monitor made no progress"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

async fn json_of(res: reqwest::Response, want: StatusCode) -> Value {
    let status = res.status();
    let text = res.text().await.unwrap();
    assert_eq!(status, want, "{text}");
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

async fn db(data: &str) -> mhp_storage::Db {
    mhp_storage::Db::connect(
        &format!("sqlite://{}", Path::new(data).join("mhp.sqlite").display()),
        &mhp_storage::DbOptions::default(),
    )
    .await
    .unwrap()
}

async fn user_id(db: &mhp_storage::Db, email: &str) -> String {
    let mut tx = db.operator(Access::Read).await.unwrap();
    let (user, _) = mhp_storage::repo::users::find_by_email(&mut tx, &Email::parse(email).unwrap())
        .await
        .unwrap()
        .unwrap();
    user.id.to_string()
}

/// Writes a platform event as it would have been written `ago_ms` ago.
async fn write_past(db: &mhp_storage::Db, event: &AuditEvent, ago_ms: i64) {
    let mut tx = db.operator(Access::Write).await.unwrap();
    let at = Timestamp::from_millis(SystemClock.now().as_millis() - ago_ms);
    audit::append_as_operator(&mut tx, None, event, at)
        .await
        .unwrap();
    tx.commit().await.unwrap();
}

/// Every alert the platform operator sees: (rule, entity) → count.
async fn alerts(s: &Server, operator: &str) -> (BTreeMap<(String, String), usize>, Vec<Value>) {
    let body = json_of(
        s.c.get(s.url("/api/v1/security/alerts?limit=1000"))
            .header("cookie", operator)
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    let items = body["items"].as_array().unwrap().clone();
    let mut seen = BTreeMap::new();
    for a in &items {
        *seen
            .entry((
                a["rule_id"].as_str().unwrap().to_owned(),
                a["entity"].as_str().unwrap().to_owned(),
            ))
            .or_insert(0) += 1;
    }
    (seen, items)
}

#[tokio::test]
async fn each_attack_raises_exactly_its_alert_and_a_working_session_none() {
    let dir = tempfile::tempdir().unwrap();
    let alpha = bootstrap_org(dir.path(), "Alpha", &[]);
    let data = alpha.data.clone();
    // The demo organisation, in the same installation.
    let demo = crate::demo_org(&data, &[], 1, 4, 2);
    let (demo_org, demo_key) = (demo.org.clone(), demo.admin.clone());
    let demo_text = demo.printed.clone();
    let person = |role: &str| -> (String, String) {
        let line = demo_text
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("{role} ")))
            .unwrap();
        let parts: Vec<&str> = line.split_whitespace().collect();
        (parts[1].to_owned(), parts[2].to_owned())
    };
    let (coach_email, coach_password) = person("coach");
    let (athlete_email, _) = person("athlete");
    let (clinician_email, _) = person("clinician");

    // An API key made three days ago, known to the monitor from its issue event.
    let old_key = printed_token(&mhp(
        &[
            "admin",
            "api-key",
            "create",
            "--org",
            &alpha.org,
            "--role",
            "clinician",
            "--name",
            "old",
            "--data-dir",
            &data,
        ],
        &[],
        None,
    ));
    let old_key_id = old_key.split('_').nth(1).unwrap().to_owned();
    let store = db(&data).await;
    write_past(
        &store,
        &AuditEvent::outside_request("cli", "apikey.issue", "api_key", Some(old_key_id.clone())),
        3 * DAY_MS,
    )
    .await;
    // The coach last signed in 100 days ago.
    let coach = user_id(&store, &coach_email).await;
    let athlete = user_id(&store, &athlete_email).await;
    let clinician = user_id(&store, &clinician_email).await;
    let mut past_sign_in = AuditEvent::outside_request(
        &format!("user:{coach}"),
        "auth.sign_in",
        "user",
        Some(coach.clone()),
    );
    past_sign_in.source_ip = Some("127.0.0.1".into());
    write_past(&store, &past_sign_in, 100 * DAY_MS).await;
    store.close().await;

    let s = Server::with(
        &data,
        &[
            ("MHP_HTTP_TRUSTED_PROXIES", "127.0.0.1/32"),
            ("MHP_SECURITY_INTERVAL_MS", "200"),
            // Alpha's webhook receiver is on this machine: the operator allows it.
            ("MHP_EGRESS_ALLOW_CIDRS", "127.0.0.1/32"),
            ("MHP_EGRESS_ALLOW_HTTP", "true"),
        ],
    );
    let local = "127.0.0.1";
    // Alpha's own webhook for its alerts, received as its auditors would.
    let hook_secret = dir.path().join("alpha-hook-secret");
    let alpha_hook = mhp_test_support::webhooks::WebhookReceiver::start(
        &format!("@{}", hook_secret.display()),
        0,
    );
    if let Some(receiver) = &alpha_hook {
        let hook = json_of(
            s.c.post(s.url(&format!("/api/v1/orgs/{}/webhooks", alpha.org)))
                .bearer_auth(&alpha.admin)
                .json(
                    &json!({ "url": receiver.url, "role": "auditor", "events": ["alert.raised"] }),
                )
                .send()
                .await
                .unwrap(),
            StatusCode::CREATED,
        )
        .await;
        std::fs::write(&hook_secret, hook["secret"].as_str().unwrap()).unwrap();
    }

    // A working session: the operator signs in; the demo's administrator reads the roster,
    // every athlete, their assessments and norms; a clinician signs in and out.
    let res = s.login("ops@example.org", OPS_PASSWORD, local).await;
    assert_eq!(res.status(), StatusCode::OK);
    let operator = cookie_of(&res);
    let demo_api = format!("/api/v1/orgs/{demo_org}");
    let list = json_of(
        s.c.get(s.url(&format!("{demo_api}/subjects?limit=100")))
            .bearer_auth(&demo_key)
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    for subject in list["items"].as_array().unwrap() {
        let id = subject["id"].as_str().unwrap();
        for path in [
            format!("{demo_api}/subjects/{id}"),
            format!("{demo_api}/subjects/{id}/assessments"),
        ] {
            let res =
                s.c.get(s.url(&path))
                    .bearer_auth(&demo_key)
                    .send()
                    .await
                    .unwrap();
            assert_eq!(res.status(), StatusCode::OK, "{path}");
        }
    }
    s.caught_up().await;
    let (seen, _) = alerts(&s, &operator).await;
    assert!(seen.is_empty(), "a working session raised alerts: {seen:?}");

    // The attacks, one address each.
    let mut expected: BTreeMap<(String, String), usize> = BTreeMap::new();
    let mut expect = |rule: &str, entity: String| {
        *expected.entry((rule.to_owned(), entity)).or_insert(0) += 1;
    };

    // brute_force_account: ten wrong passwords for one account.
    for _ in 0..10 {
        let res = s
            .login(&athlete_email, "not the password", "198.51.100.10")
            .await;
        assert!(
            matches!(res.status().as_u16(), 401 | 429),
            "{}",
            res.status()
        );
    }
    expect("brute_force_account", format!("user.uid={athlete}"));

    // password_spraying: one address, ten accounts.
    for i in 0..10 {
        s.login(
            &format!("spray{i}@example.net"),
            "Winter2026!",
            "198.51.100.20",
        )
        .await;
    }
    expect("password_spraying", "src_endpoint.ip=198.51.100.20".into());

    // credential_stuffing: twenty accounts from five addresses.
    for i in 0..20 {
        let ip = format!("198.51.100.{}", 31 + i % 5);
        s.login(&format!("leaked{i}@example.net"), "hunter2hunter2", &ip)
            .await;
    }
    expect("credential_stuffing", "all".into());

    // dormant_account_use: the coach, silent for 100 days, signs in.
    let res = s
        .login(&coach_email, &coach_password, "198.51.100.45")
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    expect("dormant_account_use", format!("user.uid={coach}"));

    // mfa_failure_burst: the operator enrols an authenticator; a second sign-in gets five
    // wrong codes.
    let csrf = |body: &Value| body["csrf_token"].as_str().unwrap().to_owned();
    let res = s.login("ops@example.org", OPS_PASSWORD, local).await;
    let enrolling = cookie_of(&res);
    let token = csrf(&json_of(res, StatusCode::OK).await);
    let post = |path: &str, cookie: &str, csrf: &str, ip: &str, body: Value| {
        s.from(reqwest::Method::POST, path, ip)
            .header("cookie", cookie.to_owned())
            .header("x-csrf-token", csrf.to_owned())
            .json(&body)
            .send()
    };
    let enrol = json_of(
        post(
            "/api/v1/auth/mfa/totp",
            &enrolling,
            &token,
            local,
            json!({}),
        )
        .await
        .unwrap(),
        StatusCode::OK,
    )
    .await;
    let secret = mhp_test_support::base32_decode(enrol["secret_base32"].as_str().unwrap());
    let code = |step: i64| format!("{:06}", mhp_auth::totp::code_at(&secret, step));
    let step = mhp_auth::totp::step_of(SystemClock.now());
    let res = post(
        "/api/v1/auth/mfa/totp/confirm",
        &enrolling,
        &token,
        local,
        json!({ "code": code(step) }),
    )
    .await
    .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    // Turning the factor on starts a new session (the others end): the operator's from now.
    let operator = cookie_of(&res);
    let token = csrf(&json_of(res, StatusCode::OK).await);
    let res = s
        .login("ops@example.org", OPS_PASSWORD, "198.51.100.50")
        .await;
    let pending = cookie_of(&res);
    let pending_csrf = csrf(&json_of(res, StatusCode::OK).await);
    let wrong = if code(step + 5) == "000000" {
        "111111"
    } else {
        "000000"
    };
    for _ in 0..5 {
        let res = post(
            "/api/v1/auth/mfa/verify",
            &pending,
            &pending_csrf,
            "198.51.100.50",
            json!({ "code": wrong }),
        )
        .await
        .unwrap();
        assert!(!res.status().is_success());
    }
    let operator_id = {
        let store = db(&data).await;
        let id = user_id(&store, "ops@example.org").await;
        store.close().await;
        id
    };
    expect("mfa_failure_burst", format!("user.uid={operator_id}"));

    // refresh_token_reuse: a rotated refresh token presented again.
    let pair = json_of(
        post("/api/v1/auth/token", &operator, &token, local, json!({}))
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    let refresh = pair["refresh_token"].as_str().unwrap().to_owned();
    let access = pair["access_token"].as_str().unwrap().to_owned();
    for want in [StatusCode::OK, StatusCode::UNAUTHORIZED] {
        let res = s
            .from(
                reqwest::Method::POST,
                "/api/v1/auth/token/refresh",
                "198.51.100.55",
            )
            .json(&json!({ "refresh_token": refresh }))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), want);
    }
    expect("refresh_token_reuse", format!("user.uid={operator_id}"));

    // token_forgery: a tampered signature, an unsigned token and another algorithm.
    let parts: Vec<&str> = access.split('.').collect();
    // The signature with its first character changed; headers naming `none` and HS256
    // (base64url of `{"alg":"none","kid":"x"}` and `{"alg":"HS256","kid":"x"}`).
    let flipped = if parts[2].starts_with('A') { "B" } else { "A" };
    let forged = [
        format!("{}.{}.{flipped}{}", parts[0], parts[1], &parts[2][1..]),
        format!("eyJhbGciOiJub25lIiwia2lkIjoieCJ9.{}.", parts[1]),
        format!(
            "eyJhbGciOiJIUzI1NiIsImtpZCI6IngifQ.{}.{}",
            parts[1], parts[2]
        ),
    ];
    for t in &forged {
        let res = s
            .from(reqwest::Method::GET, "/api/v1/me", "198.51.100.60")
            .bearer_auth(t)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    expect("token_forgery", "src_endpoint.ip=198.51.100.60".into());

    // privilege_escalation: the demo's clinician is made an administrator.
    let res = s
        .from(
            reqwest::Method::PUT,
            &format!("{demo_api}/members/{clinician}/roles"),
            local,
        )
        .bearer_auth(&demo_key)
        .json(&json!({ "roles": ["org_admin"] }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let privilege_entity = "privilege_escalation";

    // mass_phi_access: one key reads fifty subjects' records.
    let api = format!("/api/v1/orgs/{}", alpha.org);
    let mut ids = Vec::new();
    for i in 0..50 {
        let created = json_of(
            s.c.post(s.url(&format!("{api}/subjects")))
                .bearer_auth(&alpha.admin)
                .json(&json!({ "name": format!("Person {i}"), "external_id": format!("P-{i:03}") }))
                .send()
                .await
                .unwrap(),
            StatusCode::CREATED,
        )
        .await;
        ids.push(created["id"].as_str().unwrap().to_owned());
    }
    for id in &ids {
        let res = s
            .from(
                reqwest::Method::GET,
                &format!("{api}/subjects/{id}"),
                "198.51.100.70",
            )
            .bearer_auth(&alpha.admin)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
    }
    let admin_key_id = alpha.admin.split('_').nth(1).unwrap().to_owned();
    expect("mass_phi_access", format!("actor.user.uid={admin_key_id}"));

    // cross_tenant_probing: twenty guesses at ids that are not the organisation's.
    for _ in 0..20 {
        let res = s
            .from(
                reqwest::Method::GET,
                &format!("{api}/subjects/{}", mhp_domain::SubjectId::new()),
                "198.51.100.70",
            )
            .bearer_auth(&alpha.admin)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
    }
    expect(
        "cross_tenant_probing",
        format!("actor.user.uid={admin_key_id}"),
    );

    // erasure_burst: five erasures within the hour.
    for id in &ids[..5] {
        let res =
            s.c.post(s.url(&format!("{api}/subjects/{id}/erase")))
                .bearer_auth(&alpha.admin)
                .send()
                .await
                .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
    }
    expect(
        "erasure_burst",
        format!("metadata.tenant_uid={}", alpha.org),
    );

    // security_setting_weakened: the MFA policy raised, then lowered.
    for policy in ["everyone", "optional"] {
        let res =
            s.c.put(s.url(&format!("{api}/mfa-policy")))
                .bearer_auth(&alpha.admin)
                .json(&json!({ "policy": policy }))
                .send()
                .await
                .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
    }
    expect(
        "security_setting_weakened",
        format!(
            "metadata.tenant_uid={},metadata.event_code=organisation.mfa_policy",
            alpha.org
        ),
    );

    // api_key_new_address: the three-day-old key, from an address never seen for it.
    let res = s
        .from(
            reqwest::Method::GET,
            &format!("{api}/subjects?limit=1"),
            "203.0.113.80",
        )
        .bearer_auth(&old_key)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    // A list is not a subject's record, so only the key's use is news.
    let res = s
        .from(
            reqwest::Method::GET,
            &format!("{api}/subjects/{}", ids[10]),
            "203.0.113.80",
        )
        .bearer_auth(&old_key)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    expect(
        "api_key_new_address",
        format!("actor.user.uid={old_key_id}"),
    );

    s.caught_up().await;
    let (seen, items) = alerts(&s, &operator).await;
    let mut seen_rest = seen.clone();
    let escalations: Vec<_> = seen
        .keys()
        .filter(|(rule, _)| rule == privilege_entity)
        .cloned()
        .collect();
    assert_eq!(escalations.len(), 1, "one grant of org_admin: {seen:?}");
    seen_rest.remove(&escalations[0]);
    assert_eq!(
        seen_rest, expected,
        "alerts raised (left) against expected (right)"
    );
    assert_eq!(
        items.len(),
        expected.len() + 1,
        "each alert once: {items:#?}"
    );

    // The organisation's administrator sees their organisation's alerts only.
    let own = json_of(
        s.c.get(s.url(&format!("{api}/security/alerts")))
            .bearer_auth(&alpha.admin)
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    let mut own_rules: Vec<&str> = own["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["rule_id"].as_str().unwrap())
        .collect();
    own_rules.sort_unstable();
    assert_eq!(
        own_rules,
        vec![
            "api_key_new_address",
            "cross_tenant_probing",
            "erasure_burst",
            "mass_phi_access",
            "security_setting_weakened"
        ]
    );
    // Alpha's webhook was told of each of its alerts (and of no other organisation's).
    if let Some(receiver) = &alpha_hook {
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        let told = loop {
            let mut told: Vec<String> = receiver
                .attempts()
                .iter()
                .map(|a| {
                    assert_eq!(a["verified"], true, "{a}");
                    assert_eq!(a["body"]["type"], "alert.raised", "{a}");
                    assert_eq!(a["body"]["data"]["organisation_id"], alpha.org.as_str());
                    a["body"]["data"]["rule_id"].as_str().unwrap().to_owned()
                })
                .collect();
            told.sort_unstable();
            if told.len() >= own_rules.len() || std::time::Instant::now() > deadline {
                break told;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        };
        assert_eq!(told, own_rules, "alert.raised messages");
    }
    // Resolving needs a reason; acknowledging is audited.
    let first = own["items"][0]["id"].as_str().unwrap();
    let res =
        s.c.patch(s.url(&format!("{api}/security/alerts/{first}")))
            .bearer_auth(&alpha.admin)
            .json(&json!({ "status": "resolved" }))
            .send()
            .await
            .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let done = json_of(
        s.c.patch(s.url(&format!("{api}/security/alerts/{first}")))
            .bearer_auth(&alpha.admin)
            .json(&json!({ "status": "resolved", "reason": "drill" }))
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(done["status"], "resolved");
    // Another organisation's alert is not there for them.
    let escalation = items
        .iter()
        .find(|a| a["rule_id"] == privilege_entity)
        .unwrap();
    assert_eq!(escalation["org_id"], demo_org.as_str());
    let res =
        s.c.patch(s.url(&format!(
            "{api}/security/alerts/{}",
            escalation["id"].as_str().unwrap()
        )))
        .bearer_auth(&alpha.admin)
        .json(&json!({ "status": "acknowledged" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    // An API key never reaches the platform's view.
    let res =
        s.c.get(s.url("/api/v1/security/alerts"))
            .bearer_auth(&alpha.admin)
            .send()
            .await
            .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);

    // Alert counts are in /metrics.
    assert_eq!(
        s.metric("mhp_security_alerts{rule=\"erasure_burst\",severity=\"high\",status=\"open\"}")
            .await,
        1.0
    );

    // The audit log altered behind the application's back: verification at the next start
    // raises the alarm.
    s.p.terminate();
    drop(s);
    {
        use sqlx::Connection as _;
        let mut conn = sqlx::SqliteConnection::connect(&format!(
            "sqlite://{}",
            Path::new(&data).join("mhp.sqlite").display()
        ))
        .await
        .unwrap();
        sqlx::query("DROP TRIGGER audit_events_no_update")
            .execute(&mut conn)
            .await
            .unwrap();
        sqlx::query(
            "UPDATE audit_events SET actor = 'user:someone-else' \
             WHERE seq = (SELECT min(seq) FROM audit_events WHERE action = 'subject.erase')",
        )
        .execute(&mut conn)
        .await
        .unwrap();
        conn.close().await.unwrap();
    }
    // The operator's session outlives the restart.
    let s = Server::start(&data);
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let (seen, _) = alerts(&s, &operator).await;
        if seen.contains_key(&("audit_chain_broken".to_owned(), "all".to_owned())) {
            // Nothing else new: the rules resumed from their saved state.
            assert_eq!(seen.len(), expected.len() + 2, "{seen:?}");
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no audit_chain_broken alert: {seen:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    s.caught_up().await;

    // Every event the sink wrote is valid OCSF, ids unique, and no secret or address book
    // entry leaked into it.
    let file = Path::new(&data)
        .join("security")
        .join("security-events.jsonl");
    let text = std::fs::read_to_string(&file).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let findings = lines.iter().filter(|e| e["class_uid"] == 2004).count();
    assert_eq!(
        findings,
        expected.len() + 2,
        "one Detection Finding per alert"
    );
    for secret in [
        OPS_PASSWORD,
        coach_password.as_str(),
        old_key.as_str(),
        alpha.admin.as_str(),
        refresh.as_str(),
        access.as_str(),
    ] {
        assert!(!text.contains(secret), "a secret reached the SIEM");
    }
    for email in [
        athlete_email.as_str(),
        coach_email.as_str(),
        "spray0@example.net",
        "ops@example.org",
    ] {
        assert!(!text.contains(email), "an address reached the SIEM");
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tools/ocsf/validate.py");
    let out = std::process::Command::new("python3")
        .arg(&script)
        .arg("--min-events")
        .arg(lines.len().to_string())
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The uids (`metadata.uid`) of the events in the JSON-lines sink's file.
fn jsonl_uids(data: &str) -> std::collections::BTreeSet<String> {
    let text =
        std::fs::read_to_string(Path::new(data).join("security/security-events.jsonl")).unwrap();
    text.lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            v["metadata"]["uid"].as_str().unwrap().to_owned()
        })
        .collect()
}

/// The uids of the events CloudWatch Logs holds in `group` (boto3, every stream).
#[cfg(feature = "aws")]
fn cloudwatch_uids(
    moto: &mhp_test_support::moto::Moto,
    group: &str,
) -> std::collections::BTreeSet<String> {
    let out = moto.boto3(&format!(
        "import json\n\
         logs = aws('logs')\n\
         uids = []\n\
         for page in logs.get_paginator('filter_log_events').paginate(logGroupName={group:?}):\n    \
         uids += [json.loads(e['message'])['metadata']['uid'] for e in page['events']]\n\
         print(json.dumps(uids))"
    ));
    serde_json::from_str::<Vec<String>>(&out)
        .unwrap()
        .into_iter()
        .collect()
}

/// CloudWatch Logs as a second sink (moto): every event the JSON-lines sink has reaches it;
/// while it is down the events wait (delivery errors and a backlog in `/metrics`, the file sink
/// unaffected), and once it is back every one of them arrives.
#[cfg(feature = "aws")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cloudwatch_logs_receives_every_event_and_a_sink_down_loses_none() {
    use mhp_test_support::moto::Moto;
    const GROUP: &str = "mhp-security-events";
    let Some(moto) = Moto::start() else {
        return;
    };
    let make_group = |moto: &Moto| {
        moto.boto3(&format!(
            "aws('logs').create_log_group(logGroupName={GROUP:?})"
        ));
    };
    make_group(&moto);
    let dir = tempfile::tempdir().unwrap();
    let org = bootstrap_org(dir.path(), "Cloud Watchers", &[]);
    let mut env: Vec<(&str, String)> = moto.env();
    env.extend([
        ("MHP_SECURITY_CLOUDWATCH_LOG_GROUP", GROUP.to_owned()),
        ("MHP_SECURITY_INTERVAL_MS", "200".to_owned()),
    ]);
    let env_ref: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let s = Server {
        p: MhpProcess::serve(MHP, &["--data-dir", &org.data], &env_ref),
        c: reqwest::Client::new(),
    };
    s.refusals(3).await;
    s.caught_up().await;
    let before = jsonl_uids(&org.data);
    assert!(before.len() >= 3, "{before:?}");
    let arrived = cloudwatch_uids(&moto, GROUP);
    assert!(
        before.is_subset(&arrived),
        "missing in CloudWatch: {:?}",
        before.difference(&arrived)
    );

    // CloudWatch down: the events wait, counted; the file sink goes on.
    let port = moto.port();
    drop(moto);
    s.refusals(4).await;
    s.sink_stalled("cloudwatch", 4.0).await;
    assert!(jsonl_uids(&org.data).len() >= before.len() + 4);

    // Back (a new moto on the same port, the group made again): every event arrives.
    let moto = Moto::start_on(port, &[]).unwrap();
    make_group(&moto);
    s.sink_drained("cloudwatch").await;
    let all = jsonl_uids(&org.data);
    let arrived = cloudwatch_uids(&moto, GROUP);
    let waited: Vec<&String> = all.difference(&before).collect();
    assert!(waited.len() >= 4, "{waited:?}");
    for uid in waited {
        assert!(arrived.contains(uid), "{uid} was lost");
    }
}

/// What an OpenSearch stand-in holds: documents by `_id`, the template, and whether it is down.
#[derive(Default)]
struct Siem {
    docs: std::sync::Mutex<BTreeMap<String, Value>>,
    template: std::sync::Mutex<Option<Value>>,
    down: std::sync::atomic::AtomicBool,
    /// While set, `_bulk` requests are counted in `held` and left unanswered.
    hold: std::sync::atomic::AtomicBool,
    held: std::sync::atomic::AtomicUsize,
}

/// An OpenSearch stand-in (OpenSearch cannot run here): it answers the index template and
/// `_bulk` as OpenSearch documents them, keeps the documents by `_id`, and answers 503 while
/// down.
async fn siem_stand_in() -> (String, std::sync::Arc<Siem>) {
    use axum::http::{StatusCode as Status, Uri};
    let siem = std::sync::Arc::new(Siem::default());
    let app = axum::Router::new()
        .fallback(
            |axum::extract::State(siem): axum::extract::State<std::sync::Arc<Siem>>,
             uri: Uri,
             body: String| async move {
                if siem.down.load(std::sync::atomic::Ordering::SeqCst) {
                    return (
                        Status::SERVICE_UNAVAILABLE,
                        axum::Json(json!({ "error": { "type": "unavailable" } })),
                    );
                }
                if uri.path().starts_with("/_index_template/") {
                    *siem.template.lock().unwrap() = serde_json::from_str(&body).ok();
                    return (Status::OK, axum::Json(json!({ "acknowledged": true })));
                }
                assert_eq!(uri.path(), "/mhp-security-events/_bulk");
                if siem.hold.load(std::sync::atomic::Ordering::SeqCst) {
                    siem.held.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    while siem.hold.load(std::sync::atomic::Ordering::SeqCst) {
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                    // The sender is gone by now (killed); this answer reaches no one.
                    return (
                        Status::SERVICE_UNAVAILABLE,
                        axum::Json(json!({ "error": { "type": "held" } })),
                    );
                }
                let lines: Vec<Value> = body
                    .lines()
                    .map(|l| serde_json::from_str(l).unwrap())
                    .collect();
                let mut items = Vec::new();
                for pair in lines.chunks(2) {
                    let id = pair[0]["index"]["_id"].as_str().unwrap().to_owned();
                    siem.docs.lock().unwrap().insert(id, pair[1].clone());
                    items.push(json!({ "index": { "status": 201 } }));
                }
                (
                    Status::OK,
                    axum::Json(json!({ "errors": false, "items": items })),
                )
            },
        )
        .with_state(siem.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, siem)
}

/// OpenSearch as the SIEM sink: every event of the file reaches it as one document whose id is
/// the event's uid (so a repeated delivery overwrites rather than duplicates), under a template
/// that maps only the fields a SIEM searches; while it is down the events wait, and once back
/// every one of them arrives; a kill -9 with a batch in flight loses none of it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opensearch_receives_every_event_by_uid_and_a_sink_down_loses_none() {
    let (url, siem) = siem_stand_in().await;
    let dir = tempfile::tempdir().unwrap();
    let org = bootstrap_org(dir.path(), "Open Searchers", &[]);
    let s = Server {
        p: MhpProcess::serve(
            MHP,
            &["--data-dir", &org.data],
            &[
                ("MHP_SECURITY_OPENSEARCH_URL", url.as_str()),
                ("MHP_SECURITY_INTERVAL_MS", "200"),
            ],
        ),
        c: reqwest::Client::new(),
    };
    let stored = |siem: &Siem| -> std::collections::BTreeSet<String> {
        siem.docs.lock().unwrap().keys().cloned().collect()
    };
    s.refusals(3).await;
    s.caught_up().await;
    let before = jsonl_uids(&org.data);
    assert!(before.len() >= 3);
    assert!(
        before.is_subset(&stored(&siem)),
        "{:?}",
        before.difference(&stored(&siem))
    );
    for (id, doc) in siem.docs.lock().unwrap().iter() {
        assert_eq!(doc["metadata"]["uid"], id.as_str());
    }
    let template = siem.template.lock().unwrap().clone().expect("the template");
    assert_eq!(template["index_patterns"], json!(["mhp-security-events"]));
    assert_eq!(template["template"]["mappings"]["dynamic"], false);

    siem.down.store(true, std::sync::atomic::Ordering::SeqCst);
    s.refusals(3).await;
    s.sink_stalled("opensearch", 3.0).await;
    siem.down.store(false, std::sync::atomic::Ordering::SeqCst);
    s.sink_drained("opensearch").await;
    let all = jsonl_uids(&org.data);
    assert!(all.len() >= before.len() + 3);
    assert!(
        all.is_subset(&stored(&siem)),
        "lost: {:?}",
        all.difference(&stored(&siem))
    );

    // kill -9 while a batch is in flight (sent, not yet acknowledged): the restarted server
    // delivers it again, and nothing is lost.
    siem.hold.store(true, std::sync::atomic::Ordering::SeqCst);
    s.refusals(3).await;
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while siem.held.load(std::sync::atomic::Ordering::SeqCst) == 0 {
        assert!(std::time::Instant::now() < deadline, "no batch was sent");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let in_flight = jsonl_uids(&org.data);
    let Server { mut p, c } = s;
    p.kill();
    siem.hold.store(false, std::sync::atomic::Ordering::SeqCst);
    assert!(
        !in_flight.is_subset(&stored(&siem)),
        "the held batch must not have been stored before the kill"
    );
    let s = Server {
        p: MhpProcess::serve(
            MHP,
            &["--data-dir", &org.data],
            &[
                ("MHP_SECURITY_OPENSEARCH_URL", url.as_str()),
                ("MHP_SECURITY_INTERVAL_MS", "200"),
            ],
        ),
        c,
    };
    // The new server takes the monitor over once the killed one's lease (30 s) has expired.
    s.caught_up().await;
    s.sink_drained("opensearch").await;
    assert!(
        in_flight.is_subset(&stored(&siem)),
        "lost in the kill: {:?}",
        in_flight.difference(&stored(&siem))
    );
}

/// Alerts are posted to a webhook, signed as Standard Webhooks says (verified by the reference
/// library, not MHP's code), and mailed through the notifier; a refused delivery is tried again
/// later with the same `webhook-id`, so the receiver can drop the duplicate.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alerts_reach_a_signed_webhook_and_the_mail_retried_after_a_refusal() {
    let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    let Some(receiver) = mhp_test_support::webhooks::WebhookReceiver::start(secret, 1) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let org = bootstrap_org(dir.path(), "Notified", &[]);
    let s = Server::with(
        &org.data,
        &[
            ("MHP_HTTP_TRUSTED_PROXIES", "127.0.0.1/32"),
            ("MHP_SECURITY_INTERVAL_MS", "200"),
            ("MHP_SECURITY_WEBHOOK_URL", receiver.url.as_str()),
            (
                "MHP_SECURITY_WEBHOOK_SECRET",
                "secret://env/ALERT_HOOK_SECRET",
            ),
            ("ALERT_HOOK_SECRET", secret),
            ("MHP_SECURITY_ALERT_EMAILS", "secops@example.org"),
            // The receiver is on this machine: the operator allows it.
            ("MHP_EGRESS_ALLOW_CIDRS", "127.0.0.1/32"),
            ("MHP_EGRESS_ALLOW_HTTP", "true"),
        ],
    );
    for _ in 0..10 {
        let res = s
            .login("ops@example.org", "not the password", "198.51.100.7")
            .await;
        assert!(
            matches!(res.status().as_u16(), 401 | 429),
            "{}",
            res.status()
        );
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while receiver
        .attempts()
        .iter()
        .filter(|a| a["refused"] == false)
        .count()
        == 0
    {
        assert!(
            std::time::Instant::now() < deadline,
            "no delivery accepted: {:?}",
            receiver.attempts()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let attempts = receiver.attempts();
    assert!(
        attempts.len() >= 2,
        "refused once, then delivered: {attempts:?}"
    );
    assert!(attempts[0]["refused"] == true);
    for a in &attempts {
        assert_eq!(a["verified"], true, "{a}");
        assert_eq!(
            a["id"], attempts[0]["id"],
            "one alert, the same id on every attempt"
        );
        assert_eq!(a["body"]["class_uid"], 2004);
        assert_eq!(
            a["body"]["finding_info"]["analytic"]["uid"],
            "brute_force_account"
        );
        assert_eq!(a["body"]["metadata"]["uid"], a["id"]);
    }
    // The same alert, mailed.
    let outbox = Path::new(&org.data).join("outbox");
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let mail = loop {
        let found = std::fs::read_dir(&outbox)
            .into_iter()
            .flatten()
            .filter_map(|e| std::fs::read_to_string(e.ok()?.path()).ok())
            .filter_map(|t| serde_json::from_str::<Value>(&t).ok())
            .find(|m| m["subject"] == "MHP security alert");
        if let Some(m) = found {
            break m;
        }
        assert!(std::time::Instant::now() < deadline, "no alert mail");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(mail["to"], "secops@example.org");
    let body = mail["body"].as_str().unwrap();
    assert!(body.contains("brute_force_account"), "{body}");
    assert!(body.contains(attempts[0]["id"].as_str().unwrap()), "{body}");
    assert!(!body.contains("not the password"));
}

/// The uids of the events the syslog receiver in `dir` parsed, checking every message on the
/// way: it parses as RFC 5424 (a parser that is not MHP's), facility log audit, from `mhp`,
/// its MSGID the OCSF class, its message the OCSF event.
fn syslog_uids(dir: &Path) -> std::collections::BTreeSet<String> {
    mhp_test_support::syslog::SyslogReceiver::messages(dir)
        .iter()
        .map(|m| {
            assert_eq!(m["ok"], true, "{m}");
            assert_eq!(m["facility"], "audit", "{m}");
            assert_eq!(m["appname"], "mhp", "{m}");
            let event: Value = serde_json::from_str(m["msg"].as_str().unwrap()).unwrap();
            assert_eq!(
                m["msgid"].as_str().unwrap(),
                event["class_name"].as_str().unwrap().replace(' ', "")
            );
            event["metadata"]["uid"].as_str().unwrap().to_owned()
        })
        .collect()
}

/// Syslog over TLS (RFC 5425) receives every event; with the receiver down the events wait,
/// and a receiver started again on the same port gets them all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn syslog_over_tls_receives_every_event_and_a_receiver_down_loses_none() {
    use mhp_test_support::syslog::SyslogReceiver;
    let logs = tempfile::tempdir().unwrap();
    let Some(first) = SyslogReceiver::start(logs.path(), 0) else {
        return;
    };
    let port = first.port;
    let address = format!("127.0.0.1:{port}");
    let ca = SyslogReceiver::ca_file(logs.path()).display().to_string();
    let dir = tempfile::tempdir().unwrap();
    let org = bootstrap_org(dir.path(), "Syslogged", &[]);
    let s = Server::with(
        &org.data,
        &[
            ("MHP_SECURITY_SYSLOG_ADDRESS", address.as_str()),
            ("MHP_SECURITY_SYSLOG_CA_FILE", ca.as_str()),
            ("MHP_SECURITY_INTERVAL_MS", "200"),
        ],
    );
    // Waits until every event of the JSON-lines file has reached the receiver; their count.
    let all_received = async |what: &str| {
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        loop {
            let (wanted, got) = (jsonl_uids(&org.data), syslog_uids(logs.path()));
            if !wanted.is_empty() && wanted.is_subset(&got) {
                return wanted.len();
            }
            assert!(
                std::time::Instant::now() < deadline,
                "{what}: {} of {} events received",
                got.len(),
                wanted.len()
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    };
    s.refusals(3).await;
    s.caught_up().await;
    let before = all_received("with the receiver up").await;
    drop(first);
    s.refusals(3).await;
    s.sink_stalled("syslog", 3.0).await;
    let _second = SyslogReceiver::start(logs.path(), port).unwrap();
    s.sink_drained("syslog").await;
    let after = all_received("after the receiver came back").await;
    assert!(after >= before + 3, "{before} then {after}");
}
