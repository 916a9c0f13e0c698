//! Signing in with a password: sessions, cookies, sign-out, time-outs and throttling.

use std::net::IpAddr;
use std::sync::Arc;

use mhp_auth::password;
use mhp_domain::{Clock, DisplayName, Email, Role, Secret};
use mhp_storage::Access;
use mhp_storage::repo::users::{self, NewUser};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::{Server, quick, spawn_with_clock};

use mhp_test_support::clock::TestClock;

const PASSWORD: &str = "correct horse battery staple";

async fn setup() -> (Server, Arc<TestClock>) {
    let clock = Arc::new(TestClock::default());
    let s = spawn_with_clock(quick(), clock.clone()).await;
    let hash = password::hash(&Secret::new(PASSWORD.to_owned())).unwrap();
    let mut tx = s.state.app.db.operator(Access::Write).await.unwrap();
    let user = users::create(
        &mut tx,
        &NewUser {
            email: &Email::parse("jane@example.org").unwrap(),
            display_name: &DisplayName::parse("Jane").unwrap(),
            password_hash: Some(&hash),
            password_change_required: false,
            platform_role: None,
        },
        clock.now(),
    )
    .await
    .unwrap();
    users::grant_as_operator(&mut tx, s.org.org(), user.id, Role::OrgAdmin, clock.now())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    (s, clock)
}

fn client_from(addr: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(addr.parse::<IpAddr>().unwrap())
        .build()
        .unwrap()
}

async fn login(s: &Server, c: &reqwest::Client, email: &str, pw: &str) -> reqwest::Response {
    c.post(format!("{}/api/v1/auth/login", s.base))
        .json(&json!({ "email": email, "password": pw }))
        .send()
        .await
        .unwrap()
}

/// Signs in and returns (cookie header value, csrf token).
async fn session(s: &Server, c: &reqwest::Client) -> (String, String) {
    let res = login(s, c, "jane@example.org", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::OK);
    let set_cookie = res.headers()["set-cookie"].to_str().unwrap().to_owned();
    for attr in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/"] {
        assert!(set_cookie.contains(attr), "{attr} missing: {set_cookie}");
    }
    let cookie = set_cookie.split(';').next().unwrap().to_owned();
    let body: Value = res.json().await.unwrap();
    (cookie, body["csrf_token"].as_str().unwrap().to_owned())
}

async fn me(s: &Server, cookie: &str) -> StatusCode {
    reqwest::Client::new()
        .get(format!("{}/api/v1/me", s.base))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test]
async fn wrong_password_and_unknown_account_look_the_same() {
    let (s, _) = setup().await;
    let c = reqwest::Client::new();
    let wrong = login(&s, &c, "jane@example.org", "not the password at all").await;
    let unknown = login(&s, &c, "nobody@example.org", "not the password at all").await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(unknown.status(), StatusCode::UNAUTHORIZED);
    assert!(wrong.headers().get("set-cookie").is_none());
    let strip = |v: Value| {
        let mut v = v;
        v.as_object_mut().unwrap().remove("request_id");
        v
    };
    assert_eq!(
        strip(wrong.json().await.unwrap()),
        strip(unknown.json().await.unwrap())
    );
}

#[tokio::test]
async fn a_session_works_until_signed_out() {
    let (s, _) = setup().await;
    let c = reqwest::Client::new();
    let (cookie, csrf) = session(&s, &c).await;
    assert_eq!(me(&s, &cookie).await, StatusCode::OK);
    let teams = format!("{}/api/v1/orgs/{}/teams", s.base, s.org.org());
    let res = c
        .post(&teams)
        .header("cookie", &cookie)
        .header("x-csrf-token", &csrf)
        .json(&json!({ "name": "Forwards" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);

    let res = c
        .post(format!("{}/api/v1/auth/logout", s.base))
        .header("cookie", &cookie)
        .header("x-csrf-token", &csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert!(
        res.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    assert_eq!(me(&s, &cookie).await, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn signing_out_everywhere_ends_every_session() {
    let (s, _) = setup().await;
    let c = reqwest::Client::new();
    let (laptop, csrf) = session(&s, &c).await;
    let (phone, _) = session(&s, &c).await;
    assert_eq!(me(&s, &phone).await, StatusCode::OK);
    let res = c
        .post(format!("{}/api/v1/auth/logout-all", s.base))
        .header("cookie", &laptop)
        .header("x-csrf-token", &csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(me(&s, &laptop).await, StatusCode::UNAUTHORIZED);
    assert_eq!(me(&s, &phone).await, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn signing_in_again_replaces_the_presented_session() {
    let (s, _) = setup().await;
    let c = reqwest::Client::new();
    let (old, _) = session(&s, &c).await;
    let res = c
        .post(format!("{}/api/v1/auth/login", s.base))
        .header("cookie", &old)
        .json(&json!({ "email": "jane@example.org", "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let new = res.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    assert_ne!(new, old);
    assert_eq!(me(&s, &old).await, StatusCode::UNAUTHORIZED);
    assert_eq!(me(&s, &new).await, StatusCode::OK);
}

#[tokio::test]
async fn idle_sessions_expire() {
    let (s, clock) = setup().await;
    let (cookie, _) = session(&s, &reqwest::Client::new()).await;
    clock.advance_minutes(20);
    assert_eq!(
        me(&s, &cookie).await,
        StatusCode::OK,
        "activity keeps it alive"
    );
    clock.advance_minutes(20);
    assert_eq!(me(&s, &cookie).await, StatusCode::OK);
    clock.advance_minutes(31);
    assert_eq!(
        me(&s, &cookie).await,
        StatusCode::UNAUTHORIZED,
        "31 idle minutes end it"
    );
}

/// A counter of `/metrics` (the tests of this binary share the process's tally, so callers
/// compare increases, never values).
async fn counted(s: &Server, series: &str) -> u64 {
    let text = reqwest::get(format!("{}/metrics", s.base))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or_else(|| panic!("no {series} in\n{text}"))
}

#[tokio::test]
async fn failures_lock_the_address_not_the_owner() {
    let (s, clock) = setup().await;
    let failed = "mhp_auth_sign_in_failures_total{throttled=\"false\"}";
    let throttled = "mhp_auth_sign_in_failures_total{throttled=\"true\"}";
    let (failed_before, throttled_before) =
        (counted(&s, failed).await, counted(&s, throttled).await);
    let attacker = client_from("127.0.0.1");
    for _ in 0..5 {
        let res = login(&s, &attacker, "jane@example.org", "guess guess guess").await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    // Locked from that address: even the right password is refused, with a time to wait.
    let res = login(&s, &attacker, "jane@example.org", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=30).contains(&wait), "{wait}");

    // The owner, from their own address, is not locked out.
    let owner = client_from("127.0.0.2");
    assert_eq!(
        login(&s, &owner, "jane@example.org", PASSWORD)
            .await
            .status(),
        StatusCode::OK
    );

    // The lock passes; the next failure locks for twice as long.
    clock.advance_minutes(1);
    assert_eq!(
        login(&s, &attacker, "jane@example.org", "guess again!")
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    let res = login(&s, &attacker, "jane@example.org", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((31..=60).contains(&wait), "{wait}");
    clock.advance_minutes(2);
    assert_eq!(
        login(&s, &attacker, "jane@example.org", PASSWORD)
            .await
            .status(),
        StatusCode::OK
    );
    // Six wrong passwords and two refusals while locked, in the process's metrics.
    assert!(counted(&s, failed).await >= failed_before + 6);
    assert!(counted(&s, throttled).await >= throttled_before + 2);
}

#[tokio::test]
async fn sign_in_events_are_audited_without_secrets() {
    let (s, _) = setup().await;
    let c = reqwest::Client::new();
    login(&s, &c, "jane@example.org", "wrong wrong wrong").await;
    session(&s, &c).await;
    // The audit rows are platform-level (no organisation); read them raw.
    let url = s.url.clone();
    let mut conn = <sqlx::SqliteConnection as sqlx::Connection>::connect(&url)
        .await
        .unwrap();
    let rows: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT action, outcome, actor FROM audit_events WHERE action = 'auth.sign_in' ORDER BY seq",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(
        (rows[0].0.as_str(), rows[0].1.as_str()),
        ("auth.sign_in", "denied")
    );
    assert_eq!(rows[1].1, "success");
    let all: Vec<(String,)> = sqlx::query_as(
        "SELECT coalesce(resource_id,'') || actor || coalesce(user_agent,'') FROM audit_events",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    for (text,) in all {
        assert!(
            !text.contains("wrong") && !text.contains(PASSWORD) && !text.contains("jane"),
            "{text}"
        );
    }
}

fn code_now(secret: &[u8], clock: &TestClock) -> String {
    let step = mhp_auth::totp::step_of(clock.now());
    format!("{:06}", mhp_auth::totp::code_at(secret, step))
}

fn cookie_of(res: &reqwest::Response) -> String {
    res.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned()
}

async fn post(s: &Server, path: &str, cookie: &str, csrf: &str, body: Value) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("{}{path}", s.base))
        .header("cookie", cookie)
        .header("x-csrf-token", csrf)
        .json(&body)
        .send()
        .await
        .unwrap()
}

/// Enrols Jane's authenticator; returns (secret, recovery codes, cookie, csrf).
async fn enrol(s: &Server, clock: &TestClock) -> (Vec<u8>, Vec<String>, String, String) {
    let (cookie, csrf) = session(s, &reqwest::Client::new()).await;
    let res = post(s, "/api/v1/auth/mfa/totp", &cookie, &csrf, json!({})).await;
    assert_eq!(res.status(), StatusCode::OK);
    let begun: Value = res.json().await.unwrap();
    assert!(
        begun["otpauth_uri"]
            .as_str()
            .unwrap()
            .starts_with("otpauth://totp/MHP:")
    );
    let secret = mhp_test_support::base32_decode(begun["secret_base32"].as_str().unwrap());
    let bad = post(
        s,
        "/api/v1/auth/mfa/totp/confirm",
        &cookie,
        &csrf,
        json!({ "code": "000000" }),
    )
    .await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    let res = post(
        s,
        "/api/v1/auth/mfa/totp/confirm",
        &cookie,
        &csrf,
        json!({ "code": code_now(&secret, clock) }),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let new_cookie = cookie_of(&res);
    let body: Value = res.json().await.unwrap();
    let codes: Vec<String> = body["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(codes.len(), 10);
    // Privilege went up: the old session id is dead, the new one works.
    assert_eq!(me(s, &cookie).await, StatusCode::UNAUTHORIZED);
    assert_eq!(me(s, &new_cookie).await, StatusCode::OK);
    (
        secret,
        codes,
        new_cookie,
        body["csrf_token"].as_str().unwrap().to_owned(),
    )
}

#[tokio::test]
async fn totp_enrolment_then_sign_in_needs_the_second_factor() {
    let (s, clock) = setup().await;
    let (secret, _, _, _) = enrol(&s, &clock).await;
    clock.advance_minutes(1);

    let res = login(&s, &reqwest::Client::new(), "jane@example.org", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::OK);
    let pending = cookie_of(&res);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["mfa_required"], true);
    let csrf = body["csrf_token"].as_str().unwrap().to_owned();

    // The password alone opens nothing.
    let res = reqwest::Client::new()
        .get(format!("{}/api/v1/me", s.base))
        .header("cookie", &pending)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(res.json::<Value>().await.unwrap()["code"], "mfa-required");

    let wrong = post(
        &s,
        "/api/v1/auth/mfa/verify",
        &pending,
        &csrf,
        json!({ "code": "123456" }),
    )
    .await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let code = code_now(&secret, &clock);
    let res = post(
        &s,
        "/api/v1/auth/mfa/verify",
        &pending,
        &csrf,
        json!({ "code": code }),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let full = cookie_of(&res);
    assert_ne!(full, pending);
    assert_eq!(me(&s, &full).await, StatusCode::OK);
    assert_eq!(me(&s, &pending).await, StatusCode::UNAUTHORIZED);

    // The same code cannot be used again.
    let res = login(&s, &reqwest::Client::new(), "jane@example.org", PASSWORD).await;
    let pending = cookie_of(&res);
    let csrf = res.json::<Value>().await.unwrap()["csrf_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let replay = post(
        &s,
        "/api/v1/auth/mfa/verify",
        &pending,
        &csrf,
        json!({ "code": code }),
    )
    .await;
    assert_eq!(replay.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_recovery_code_works_once() {
    let (s, clock) = setup().await;
    let (_, codes, _, _) = enrol(&s, &clock).await;
    for expected in [StatusCode::OK, StatusCode::UNAUTHORIZED] {
        let res = login(&s, &reqwest::Client::new(), "jane@example.org", PASSWORD).await;
        let pending = cookie_of(&res);
        let csrf = res.json::<Value>().await.unwrap()["csrf_token"]
            .as_str()
            .unwrap()
            .to_owned();
        let res = post(
            &s,
            "/api/v1/auth/mfa/verify",
            &pending,
            &csrf,
            json!({ "recovery_code": codes[3].to_lowercase() }),
        )
        .await;
        assert_eq!(res.status(), expected);
        if expected == StatusCode::OK {
            assert_eq!(res.json::<Value>().await.unwrap()["recovery_codes_left"], 9);
        }
    }
}

#[tokio::test]
async fn the_organisation_policy_demands_a_second_factor_of_privileged_roles() {
    let (s, clock) = setup().await;
    let teams = format!("/api/v1/orgs/{}/teams", s.org.org());
    let policy = format!("/api/v1/orgs/{}/mfa-policy", s.org.org());
    let (cookie, csrf) = session(&s, &reqwest::Client::new()).await;
    let res = reqwest::Client::new()
        .put(format!("{}{policy}", s.base))
        .header("cookie", &cookie)
        .header("x-csrf-token", &csrf)
        .json(&json!({ "policy": "privileged" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);

    // Jane is an org admin without a second factor: the organisation's routes are closed...
    let get = |cookie: String| {
        let url = format!("{}{teams}", s.base);
        async move {
            reqwest::Client::new()
                .get(url)
                .header("cookie", cookie)
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    assert_eq!(get(cookie.clone()).await, StatusCode::FORBIDDEN);
    // ...until she enrols, which lifts this session.
    let (_, _, lifted, _) = enrol(&s, &clock).await;
    assert_eq!(get(lifted).await, StatusCode::OK);
}

#[tokio::test]
async fn access_tokens_refresh_once_and_expire() {
    let (s, clock) = setup().await;
    let c = reqwest::Client::new();
    let (cookie, csrf) = session(&s, &c).await;
    let res = post(&s, "/api/v1/auth/token", &cookie, &csrf, json!({})).await;
    assert_eq!(res.status(), StatusCode::OK);
    let pair: Value = res.json().await.unwrap();
    let access = pair["access_token"].as_str().unwrap().to_owned();
    let refresh = pair["refresh_token"].as_str().unwrap().to_owned();
    assert_eq!(pair["expires_in"], 900);

    // A bearer token needs no CSRF token: it does not travel by itself.
    let teams = format!("{}/api/v1/orgs/{}/teams", s.base, s.org.org());
    let res = c
        .post(&teams)
        .bearer_auth(&access)
        .json(&json!({ "name": "T" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let me: Value = c
        .get(format!("{}/api/v1/me", s.base))
        .bearer_auth(&access)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["kind"], "user");

    // The published key verifies the token.
    let jwks: Value = c
        .get(format!("{}/.well-known/jwks.json", s.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let kid = mhp_auth::token::key_id(&access).unwrap();
    let jwk = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == kid.as_str())
        .unwrap();
    use base64::Engine as _;
    let x = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(jwk["x"].as_str().unwrap())
        .unwrap();
    let public: [u8; 32] = x.try_into().unwrap();
    let now_s = clock.now().as_millis() / 1000;
    // The issuer is the instance's public URL, as its discovery document says, and that
    // document leads to the same keys.
    let discovery: Value = c
        .get(format!("{}/.well-known/openid-configuration", s.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let issuer = discovery["issuer"].as_str().unwrap();
    assert!(issuer.starts_with("http"), "{discovery}");
    assert_eq!(
        discovery["jwks_uri"],
        format!("{issuer}/.well-known/jwks.json"),
        "{discovery}"
    );
    assert!(mhp_auth::token::verify(&access, &public, issuer, now_s).is_ok());
    assert!(mhp_auth::token::verify(&access, &public, "urn:mhp", now_s).is_err());
    // Another implementation (panva's jose, under Node) verifies the token from the discovery
    // document alone, as a service beside MHP would.
    let discovery_url = format!("{}/.well-known/openid-configuration", s.base);
    if let Some(claims) =
        mhp_test_support::oidc::verify_with_jose(&discovery_url, &access, now_s).await
    {
        assert_eq!(claims["iss"], issuer, "{claims}");
        assert_eq!(claims["aud"], "mhp-api", "{claims}");
        assert_eq!(claims["alg"], "EdDSA", "{claims}");
    }

    // Refresh works once; a second use revokes the whole family, the new token too.
    let refreshed = |t: String| {
        let url = format!("{}/api/v1/auth/token/refresh", s.base);
        async move {
            reqwest::Client::new()
                .post(url)
                .json(&json!({ "refresh_token": t }))
                .send()
                .await
                .unwrap()
        }
    };
    let res = refreshed(refresh.clone()).await;
    assert_eq!(res.status(), StatusCode::OK);
    let second: Value = res.json().await.unwrap();
    let next_refresh = second["refresh_token"].as_str().unwrap().to_owned();
    assert_eq!(refreshed(refresh).await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        refreshed(next_refresh).await.status(),
        StatusCode::UNAUTHORIZED
    );

    // Access tokens are short-lived.
    clock.advance_minutes(16);
    let res = c
        .get(format!("{}/api/v1/me", s.base))
        .bearer_auth(&access)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn signing_out_everywhere_revokes_refresh_tokens() {
    let (s, _) = setup().await;
    let (cookie, csrf) = session(&s, &reqwest::Client::new()).await;
    let pair: Value = post(&s, "/api/v1/auth/token", &cookie, &csrf, json!({}))
        .await
        .json()
        .await
        .unwrap();
    let res = post(&s, "/api/v1/auth/logout-all", &cookie, &csrf, json!({})).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let res = reqwest::Client::new()
        .post(format!("{}/api/v1/auth/token/refresh", s.base))
        .json(&json!({ "refresh_token": pair["refresh_token"] }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

/// Waits until `n` password-reset requests have done their work after the answer.
pub(crate) async fn resets_processed(s: &Server, n: u64) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while s.state.metrics.resets_processed() < n {
        assert!(
            std::time::Instant::now() < deadline,
            "reset requests processed: {} of {n}",
            s.state.metrics.resets_processed()
        );
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
}

/// The token in the newest outbox message to `to`, and how many messages there are for them.
fn outbox_token(s: &Server, to: &str) -> (Option<String>, usize) {
    let mut found: Vec<(String, Value)> = std::fs::read_dir(&s.outbox)
        .map(|d| {
            d.filter_map(Result::ok)
                .map(|e| {
                    let v: Value =
                        serde_json::from_slice(&std::fs::read(e.path()).unwrap()).unwrap();
                    (e.file_name().to_string_lossy().into_owned(), v)
                })
                .filter(|(_, v)| v["to"] == to)
                .collect()
        })
        .unwrap_or_default();
    found.sort_by(|a, b| a.0.cmp(&b.0));
    let token = found.last().map(|(_, v)| {
        v["body"]
            .as_str()
            .unwrap()
            .lines()
            .find(|l| l.len() == 43)
            .unwrap()
            .to_owned()
    });
    (token, found.len())
}

#[tokio::test]
async fn an_invitation_creates_the_account_once() {
    let (s, clock) = setup().await;
    let c = reqwest::Client::new();
    let (cookie, csrf) = session(&s, &c).await;
    let invite = format!("/api/v1/orgs/{}/invitations", s.org.org());
    let res = post(
        &s,
        &invite,
        &cookie,
        &csrf,
        json!({ "email": "Coach@Example.org", "role": "coach" }),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let (token, n) = outbox_token(&s, "coach@example.org");
    assert_eq!(n, 1);
    let token = token.unwrap();

    let accept = |body: Value| {
        let url = format!("{}/api/v1/auth/invitations/accept", s.base);
        async move {
            reqwest::Client::new()
                .post(url)
                .json(&body)
                .send()
                .await
                .unwrap()
        }
    };
    let weak =
        accept(json!({ "token": token, "display_name": "Coach", "password": "short" })).await;
    assert_eq!(
        weak.status(),
        StatusCode::BAD_REQUEST,
        "the policy applies; the token is not spent"
    );
    let ok = accept(
        json!({ "token": token, "display_name": "Coach", "password": "a coach's long passphrase" }),
    )
    .await;
    assert_eq!(ok.status(), StatusCode::CREATED);
    let again = accept(
        json!({ "token": token, "display_name": "Coach", "password": "a coach's long passphrase" }),
    )
    .await;
    assert_eq!(again.status(), StatusCode::BAD_REQUEST);

    // The new coach signs in and sees the teams, not the members.
    let res = login(&s, &c, "coach@example.org", "a coach's long passphrase").await;
    assert_eq!(res.status(), StatusCode::OK);
    let coach = cookie_of(&res);
    let get = |path: String| status_of(format!("{}{path}", s.base), coach.clone());
    assert_eq!(
        get(format!("/api/v1/orgs/{}/teams", s.org.org())).await,
        StatusCode::OK
    );
    assert_eq!(
        get(format!("/api/v1/orgs/{}/members", s.org.org())).await,
        StatusCode::FORBIDDEN
    );

    // Invitations expire.
    post(
        &s,
        &invite,
        &cookie,
        &csrf,
        json!({ "email": "late@example.org", "role": "athlete" }),
    )
    .await;
    let (late, _) = outbox_token(&s, "late@example.org");
    clock.advance_minutes(7 * 24 * 60 + 1);
    let res = accept(json!({ "token": late.unwrap(), "display_name": "Late", "password": "a long enough passphrase" })).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_password_reset_replaces_the_password_and_ends_sessions() {
    let (s, clock) = setup().await;
    let c = reqwest::Client::new();
    let (old_session, _) = session(&s, &c).await;
    let ask = |email: &str| {
        let url = format!("{}/api/v1/auth/password-reset", s.base);
        let body = json!({ "email": email });
        async move {
            reqwest::Client::new()
                .post(url)
                .json(&body)
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    // The same answer whether the account exists or not; only the real one gets a message,
    // prepared after the answer.
    assert_eq!(ask("nobody@example.org").await, StatusCode::ACCEPTED);
    resets_processed(&s, 1).await;
    assert_eq!(outbox_token(&s, "nobody@example.org").1, 0);
    assert_eq!(ask("jane@example.org").await, StatusCode::ACCEPTED);
    resets_processed(&s, 2).await;
    let token = outbox_token(&s, "jane@example.org").0.unwrap();

    let complete = |token: String, pw: &str| {
        let url = format!("{}/api/v1/auth/password-reset/complete", s.base);
        let body = json!({ "token": token, "password": pw });
        async move {
            reqwest::Client::new()
                .post(url)
                .json(&body)
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    assert_eq!(
        complete(token.clone(), "a brand new passphrase").await,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        complete(token, "another new passphrase").await,
        StatusCode::BAD_REQUEST,
        "single use"
    );
    assert_eq!(me(&s, &old_session).await, StatusCode::UNAUTHORIZED);
    assert_eq!(
        login(&s, &c, "jane@example.org", PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        login(&s, &c, "jane@example.org", "a brand new passphrase")
            .await
            .status(),
        StatusCode::OK
    );

    // Reset links last an hour.
    assert_eq!(ask("jane@example.org").await, StatusCode::ACCEPTED);
    resets_processed(&s, 3).await;
    let token = outbox_token(&s, "jane@example.org").0.unwrap();
    clock.advance_minutes(61);
    assert_eq!(
        complete(token, "yet another passphrase").await,
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn a_role_change_ends_the_members_sessions() {
    let (s, clock) = setup().await;
    let coach = coach_with_password(&s, &clock).await;
    let c = reqwest::Client::new();
    let res = login(&s, &c, "coach@example.org", "the coach's passphrase").await;
    let coach_cookie = cookie_of(&res);
    assert_eq!(me(&s, &coach_cookie).await, StatusCode::OK);

    let (admin, csrf) = session(&s, &c).await;
    let roles = format!("/api/v1/orgs/{}/members/{}/roles", s.org.org(), coach.id);
    let put = |body: Value, path: String| {
        let url = format!("{}{path}", s.base);
        let (admin, csrf) = (admin.clone(), csrf.clone());
        async move {
            reqwest::Client::new()
                .put(url)
                .header("cookie", admin)
                .header("x-csrf-token", csrf)
                .json(&body)
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    assert_eq!(
        put(json!({ "roles": ["root"] }), roles.clone()).await,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        me(&s, &coach_cookie).await,
        StatusCode::OK,
        "a refused change ends nothing"
    );
    assert_eq!(
        put(json!({ "roles": ["clinician"] }), roles.clone()).await,
        StatusCode::NO_CONTENT
    );
    assert_eq!(me(&s, &coach_cookie).await, StatusCode::UNAUTHORIZED);
    let stranger = format!(
        "/api/v1/orgs/{}/members/{}/roles",
        s.org.org(),
        mhp_domain::UserId::new()
    );
    assert_eq!(
        put(json!({ "roles": ["coach"] }), stranger).await,
        StatusCode::NOT_FOUND
    );

    let mut tx = s.state.app.db.tenant(&s.org, Access::Read).await.unwrap();
    assert_eq!(
        users::roles(&mut tx, coach.id).await.unwrap(),
        vec![Role::Clinician]
    );
}

#[tokio::test]
async fn oversized_credentials_are_refused_plainly() {
    let (s, _) = setup().await;
    let res = reqwest::Client::new()
        .get(format!("{}/api/v1/me", s.base))
        .header(
            "authorization",
            format!("Bearer mhp_{}", "a".repeat(10_000)),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let res = reqwest::Client::new()
        .get(format!("{}/api/v1/me", s.base))
        .header("cookie", format!("mhp_session={}", "a".repeat(10_000)))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn coaches_see_the_teams_they_coach() {
    let (s, clock) = setup().await;
    let coach = coach_with_password(&s, &clock).await;
    let c = reqwest::Client::new();
    let (admin, csrf) = session(&s, &c).await;
    let teams_url = format!("/api/v1/orgs/{}/teams", s.org.org());
    let mut ids = Vec::new();
    for name in ["Forwards", "Backs", "Academy"] {
        let res = post(&s, &teams_url, &admin, &csrf, json!({ "name": name })).await;
        ids.push(
            res.json::<Value>().await.unwrap()["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    for team in [&ids[0], &ids[2]] {
        let res = c
            .put(format!("{}{teams_url}/{team}/staff/{}", s.base, coach.id))
            .header("cookie", &admin)
            .header("x-csrf-token", &csrf)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
    }
    let res = post(
        &s,
        &format!("/api/v1/orgs/{}/subjects", s.org.org()),
        &admin,
        &csrf,
        json!({ "name": "Ada Quartermain", "birth_date": "1999-04-01",
                "external_id": "SN-4471", "team_ids": [ids[0]] }),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let ada =
        mhp_domain::SubjectId::parse(res.json::<Value>().await.unwrap()["id"].as_str().unwrap())
            .unwrap();
    // A score of a model, as the pipeline writes it.
    {
        use mhp_storage::repo::risk;
        let version = crate::matrix::fixture_model_version(&s, &s.org).await;
        let mut tx = s.state.app.db.tenant(&s.org, Access::Write).await.unwrap();
        risk::put(
            &mut tx,
            &risk::Score {
                subject: ada,
                as_of: "2026-03-02".into(),
                model_version: version,
                probability: 0.31,
                band: "high".into(),
                contributions_json: "[]".into(),
                run: None,
                scored_at: clock.now(),
            },
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
    }
    let res = login(&s, &c, "coach@example.org", "the coach's passphrase").await;
    let coach_cookie = cookie_of(&res);
    // Least privilege: the roster names the coach's athletes, without birth dates or external
    // ids; who may read records sees them.
    let roster = |cookie: String| {
        let url = format!("{}{teams_url}/{}/subjects", s.base, ids[0]);
        async move {
            let page: Value = reqwest::Client::new()
                .get(url)
                .header("cookie", cookie)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            page["items"][0].clone()
        }
    };
    let seen = roster(coach_cookie.clone()).await;
    assert_eq!(seen["name"], "Ada Quartermain");
    assert_eq!(
        seen["risk_band"], "high",
        "coaches see their teams' risk bands"
    );
    assert!(
        seen["birth_date"].is_null() && seen["external_id"].is_null(),
        "{seen}"
    );
    let seen = roster(admin.clone()).await;
    assert_eq!(
        (seen["birth_date"].as_str(), seen["external_id"].as_str()),
        (Some("1999-04-01"), Some("SN-4471"))
    );
    let list = |cookie: String, query: &'static str| {
        let url = format!("{}{teams_url}{query}", s.base);
        async move {
            let v: Value = reqwest::Client::new()
                .get(url)
                .header("cookie", cookie)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            v.as_array()
                .unwrap()
                .iter()
                .map(|t| t["name"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        list(coach_cookie.clone(), "").await,
        ["Forwards", "Academy"]
    );
    assert_eq!(list(coach_cookie.clone(), "?limit=1").await, ["Forwards"]);
    assert_eq!(list(admin, "").await, ["Forwards", "Backs", "Academy"]);
    // A team they do not coach is not there for them: the gate answers 404, like for a team
    // that does not exist; their own team's roster and metrics are there.
    let status = |path: String| {
        status_of(
            format!("{}{teams_url}/{path}", s.base),
            coach_cookie.clone(),
        )
    };
    for path in ["subjects", "metrics.csv"] {
        assert_eq!(status(format!("{}/{path}", ids[0])).await, StatusCode::OK);
        assert_eq!(
            status(format!("{}/{path}", ids[1])).await,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            status(format!("{}/{path}", mhp_domain::TeamId::new())).await,
            StatusCode::NOT_FOUND
        );
    }
}

/// The status of a GET with a session cookie.
async fn status_of(url: String, cookie: String) -> StatusCode {
    reqwest::Client::new()
        .get(url)
        .header("cookie", cookie)
        .send()
        .await
        .unwrap()
        .status()
}

/// coach@example.org, a coach of the test organisation, password "the coach's passphrase".
async fn coach_with_password(s: &Server, clock: &TestClock) -> users::User {
    let hash = password::hash(&Secret::new("the coach's passphrase".to_owned())).unwrap();
    let mut tx = s.state.app.db.operator(Access::Write).await.unwrap();
    let coach = users::create(
        &mut tx,
        &NewUser {
            email: &Email::parse("coach@example.org").unwrap(),
            display_name: &DisplayName::parse("Coach").unwrap(),
            password_hash: Some(&hash),
            password_change_required: false,
            platform_role: None,
        },
        clock.now(),
    )
    .await
    .unwrap();
    users::grant_as_operator(&mut tx, s.org.org(), coach.id, Role::Coach, clock.now())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    coach
}
