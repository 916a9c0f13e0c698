//! Tenant-directed requests and the sign-in edges, through the real binary: the egress guard
//! (every spelling of loopback, cloud metadata and private ranges refused when an org admin saves
//! it and again at every connection, with local listeners that prove nothing was connected to),
//! the same time for known and unknown accounts, limits on mail and the account-wide lockout
//! across two instances on PostgreSQL, and look-alike addresses.

use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use mhp_test_support::MhpProcess;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::{BootstrappedOrg, MHP, OPS_PASSWORD, bootstrap_org};

const PASSWORD: &str = OPS_PASSWORD;

type Org = BootstrappedOrg;

fn bootstrap(dir: &std::path::Path, env: &[(&str, &str)]) -> Org {
    bootstrap_org(dir, "Clinic", env)
}

/// A client whose connections leave from `source` (a loopback address), so that the server sees
/// requests from several addresses.
fn client_from(source: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(source.parse::<IpAddr>().ok())
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Listeners on one port of 127.0.0.1 and ::1 that count the connections they accept.
struct Listeners {
    port: u16,
    accepted: Arc<AtomicUsize>,
}

async fn listeners() -> Listeners {
    let v4 = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = v4.local_addr().unwrap().port();
    let accepted = Arc::new(AtomicUsize::new(0));
    let mut all = vec![v4];
    // IPv6 may be off on a machine; the IPv6 spellings are refused before any connection anyway.
    if let Ok(v6) = tokio::net::TcpListener::bind(("::1", port)).await {
        all.push(v6);
    }
    for listener in all {
        let accepted = accepted.clone();
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                accepted.fetch_add(1, Ordering::SeqCst);
                drop(socket);
            }
        });
    }
    Listeners { port, accepted }
}

/// Sets the organisation's provider with `issuer` and a client secret.
async fn put_sso(base: &str, o: &Org, issuer: &str) -> (StatusCode, Value) {
    let body = json!({
        "issuer": issuer, "client_id": "mhp", "client_secret": "a-client-secret",
        "allowed_domains": ["example.org"], "default_role": "athlete",
    });
    put_sso_body(base, o, &body).await
}

/// `PUT …/sso` with `body`, as the org admin: the status and the JSON answer.
async fn put_sso_body(base: &str, o: &Org, body: &Value) -> (StatusCode, Value) {
    let res = reqwest::Client::new()
        .put(format!("{base}/api/v1/orgs/{}/sso", o.org))
        .bearer_auth(&o.admin)
        .json(body)
        .send()
        .await
        .unwrap();
    let status = res.status();
    (status, res.json().await.unwrap_or(Value::Null))
}

async fn start_sso(base: &str, o: &Org) -> (StatusCode, Value) {
    let res = client_from("127.0.0.1")
        .get(format!("{base}/api/v1/auth/sso/{}/start", o.org))
        .send()
        .await
        .unwrap();
    let status = res.status();
    (status, res.json().await.unwrap_or(Value::Null))
}

/// The machine's own name, which resolves (through /etc/hosts or DNS) to one of its addresses:
/// loopback or a private address, both refused.
fn own_hostname() -> String {
    let out = std::process::Command::new("hostname").output().unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

#[tokio::test]
async fn the_egress_guard_never_connects_to_an_internal_address() {
    let dir = tempfile::tempdir().unwrap();
    let o = bootstrap(dir.path(), &[]);
    let l = listeners().await;
    let p = l.port;
    let host = own_hostname();
    let resolved: Vec<IpAddr> = tokio::net::lookup_host((host.as_str(), p))
        .await
        .map(|a| a.map(|s| s.ip()).collect())
        .unwrap_or_default();
    assert!(
        resolved
            .iter()
            .all(|ip| ip.is_loopback() || matches!(ip, IpAddr::V4(v4) if v4.is_private())),
        "this test expects the machine's name {host} to resolve to an internal address: {resolved:?}"
    );

    // Saved by an org admin: every spelling is refused, with the rule named.
    let serve = MhpProcess::serve(MHP, &["--data-dir", &o.data], &[]);
    let spellings = [
        format!("https://127.0.0.1:{p}"),
        format!("https://localhost:{p}"),
        format!("https://127.1:{p}"),
        format!("https://2130706433:{p}"),
        format!("https://0x7f000001:{p}"),
        format!("https://0.0.0.0:{p}"),
        format!("https://[::1]:{p}"),
        format!("https://[::ffff:127.0.0.1]:{p}"),
        format!("https://{host}:{p}"),
        "https://169.254.169.254".to_owned(),
        "https://metadata.google.internal".to_owned(),
        "https://10.1.2.3".to_owned(),
        "https://[fd00::1]".to_owned(),
        format!("http://127.0.0.1:{p}"),
        "http://idp.example.com".to_owned(),
    ];
    for issuer in &spellings {
        let (status, body) = put_sso(&serve.base, &o, issuer).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{issuer}: {body}");
        assert_eq!(body["code"], "egress-refused", "{issuer}: {body}");
        let detail = body["detail"].as_str().unwrap();
        assert!(
            [
                "loopback",
                "unspecified",
                "link-local",
                "private",
                "unique-local",
                "special-use",
                "https"
            ]
            .iter()
            .any(|rule| detail.contains(rule)),
            "{issuer}: the rule is named: {detail}"
        );
        assert!(!detail.contains("127.0.0.1"), "no address in {detail}");
    }
    drop(serve);

    // Saved while an operator allowed loopback, then the allowance is withdrawn: every
    // connection is checked again, for an address and for a name that resolves to one.
    for issuer in [
        format!("https://127.0.0.1:{p}"),
        format!("https://{host}:{p}"),
    ] {
        let allowing = MhpProcess::serve(
            MHP,
            &["--data-dir", &o.data],
            &[("MHP_EGRESS_ALLOW_CIDRS", "127.0.0.0/8,::1/128")],
        );
        let (status, body) = put_sso(&allowing.base, &o, &issuer).await;
        assert_eq!(status, StatusCode::OK, "{issuer}: {body}");
        assert_eq!(body["client_secret_set"], true);
        assert!(body.get("client_secret").is_none(), "write-only: {body}");
        drop(allowing);
        let strict = MhpProcess::serve(MHP, &["--data-dir", &o.data], &[]);
        let (status, body) = start_sso(&strict.base, &o).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{issuer}: {body}");
        assert_eq!(body["detail"], "reason: sso_egress_refused", "{issuer}");
    }
    assert_eq!(
        l.accepted.load(Ordering::SeqCst),
        0,
        "a refused address was connected to"
    );

    // The control: where the operator allows loopback, MHP does connect (and the listeners
    // count it), so the zero above is not for want of trying.
    let allowing = MhpProcess::serve(
        MHP,
        &["--data-dir", &o.data],
        &[("MHP_EGRESS_ALLOW_CIDRS", "127.0.0.0/8")],
    );
    let (status, body) = put_sso(&allowing.base, &o, &format!("https://127.0.0.1:{p}")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = start_sso(&allowing.base, &o).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(body["detail"], "reason: idp_unreachable", "{body}");
    assert!(l.accepted.load(Ordering::SeqCst) >= 1);
}

#[tokio::test]
async fn a_tenant_cannot_make_the_server_read_its_secrets() {
    // The escapes of the first wave: an org admin named the server's own secrets as the SSO
    // client secret and received the resolved value at a token endpoint of their own.
    let dir = tempfile::tempdir().unwrap();
    let o = bootstrap(dir.path(), &[]);
    let master = format!("{}/keyring/kek-v1.key", o.data);
    let serve = MhpProcess::serve(
        MHP,
        &["--data-dir", &o.data],
        &[
            ("MHP_TEST_PLATFORM_SECRET", "the-platform-secret"),
            ("MHP_EGRESS_ALLOW_CIDRS", "127.0.0.0/8"),
        ],
    );
    for reference in [
        "secret://env/MHP_TEST_PLATFORM_SECRET".to_owned(),
        "secret://env/DATABASE_URL".to_owned(),
        format!("secret://file{master}"),
        "secret://file/etc/passwd".to_owned(),
        "secret://aws-sm/other-org/sso#client_secret".to_owned(),
        "secret://vault/secret/mhp/sso#client_secret".to_owned(),
    ] {
        let config = json!({
            "issuer": "https://127.0.0.1:9", "client_id": "mhp", "client_secret": reference,
            "allowed_domains": ["example.org"],
        });
        let (status, body) = put_sso_body(&serve.base, &o, &config).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{reference}");
        let detail = body["detail"].as_str().unwrap();
        assert!(detail.contains("references"), "{detail}");
        // Nothing tells whether such a secret, file or variable exists.
        assert!(
            !detail.contains("resolve") && !detail.contains("exist"),
            "{detail}"
        );
    }
    // Nothing was stored, so no secret can be on its way anywhere.
    let res = reqwest::Client::new()
        .get(format!("{}/api/v1/orgs/{}/sso", serve.base, o.org))
        .bearer_auth(&o.admin)
        .send()
        .await
        .unwrap();
    assert_eq!(res.json::<Value>().await.unwrap(), Value::Null);

    // A value is kept sealed and never shown; the settings can change without resending it.
    let (status, body) = put_sso(&serve.base, &o, "https://127.0.0.1:9").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let mut without = json!({
        "issuer": "https://127.0.0.1:9", "client_id": "mhp-2", "allowed_domains": ["example.org"],
    });
    let (status, shown) = put_sso_body(&serve.base, &o, &without).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(shown["client_id"], "mhp-2");
    assert_eq!(shown["client_secret_set"], true);
    assert!(!shown.to_string().contains("a-client-secret"), "{shown}");
    for file in ["mhp.sqlite", "mhp.sqlite-wal"] {
        let bytes = std::fs::read(format!("{}/{file}", o.data)).unwrap_or_default();
        assert!(
            !bytes.windows(15).any(|w| w == b"a-client-secret"),
            "the secret is sealed at rest ({file})"
        );
    }
    // Unknown fields are refused (no other way to smuggle a reference in).
    without["client_secret_ref"] = json!("secret://env/MHP_TEST_PLATFORM_SECRET");
    let (status, _) = put_sso_body(&serve.base, &o, &without).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

/// Median of durations, in seconds.
fn median(mut v: Vec<Duration>) -> f64 {
    v.sort();
    v[v.len() / 2].as_secs_f64()
}

/// The larger of two medians over the smaller.
fn ratio(a: &[Duration], b: &[Duration]) -> f64 {
    let (a, b) = (median(a.to_vec()), median(b.to_vec()));
    a.max(b) / a.min(b)
}

async fn metric(base: &str, name: &str) -> u64 {
    let text = reqwest::get(format!("{base}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{name} ")))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

/// Waits until the server has done the work of `n` password-reset requests.
async fn resets_done(base: &str, n: u64) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while metric(base, "mhp_password_reset_requests_processed_total").await < n {
        assert!(Instant::now() < deadline, "reset requests not processed");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

async fn timed(req: reqwest::RequestBuilder) -> (StatusCode, Duration) {
    let start = Instant::now();
    let status = req.send().await.unwrap().status();
    (status, start.elapsed())
}

fn outbox_tokens(data: &str, to: &str) -> Vec<String> {
    let mut files: Vec<_> = std::fs::read_dir(format!("{data}/outbox"))
        .map(|d| d.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default();
    files.sort();
    files
        .iter()
        .filter_map(|f| serde_json::from_slice::<Value>(&std::fs::read(f).unwrap()).ok())
        .filter(|v| v["to"] == to)
        .filter_map(|v| {
            v["body"]
                .as_str()?
                .lines()
                .find(|l| l.len() == 43)
                .map(str::to_owned)
        })
        .collect()
}

/// Pairs timed per kind of request.
const TRIES: usize = 25;
/// Pairs measured first and not counted (connections, caches and the dummy hash warm up).
const WARM_UP: usize = 3;

/// Times [`TRIES`] pairs (after [`WARM_UP`] uncounted ones) of a request for an existing
/// account (`member{n}@example.org`) and one for no account (`nobody{n}@`), alternating which
/// goes first so that neither always follows the other's work. `call(email, pair, calls)`
/// makes one request (the `calls`-th) and returns its time.
async fn time_pairs<F, Fut>(mut call: F) -> (Vec<Duration>, Vec<Duration>)
where
    F: FnMut(String, usize, u64) -> Fut,
    Fut: std::future::Future<Output = Duration>,
{
    let (mut existing, mut unknown) = (Vec::new(), Vec::new());
    let mut calls = 0;
    for pair in 0..WARM_UP + TRIES {
        let order = if pair % 2 == 0 {
            [true, false]
        } else {
            [false, true]
        };
        for known in order {
            let email = if known {
                format!("member{}@example.org", pair % TRIES)
            } else {
                format!("nobody{pair}@example.org")
            };
            calls += 1;
            let took = call(email, pair, calls).await;
            match (pair >= WARM_UP, known) {
                (false, _) => {}
                (true, true) => existing.push(took),
                (true, false) => unknown.push(took),
            }
        }
    }
    (existing, unknown)
}

/// Timing is measured alone: `scripts/test.sh` runs the ignored tests after the others, one at
/// a time, so that no other test's server competes for the two cores while it measures.
#[tokio::test]
#[ignore = "timing: run alone by scripts/test.sh (cargo test -- --ignored --test-threads=1)"]
async fn known_and_unknown_accounts_take_the_same_time() {
    let dir = tempfile::tempdir().unwrap();
    let o = bootstrap(dir.path(), &[]);
    let serve = MhpProcess::serve(
        MHP,
        &["--data-dir", &o.data],
        &[("MHP_AUTH_MAIL_PER_ADDRESS_PER_HOUR", "100")],
    );
    let base = &serve.base;
    let admin = reqwest::Client::new();

    // Accounts with passwords, made through invitations; their acceptance is timed against
    // acceptances that make a new account.
    let invite = |email: String| {
        admin
            .post(format!("{base}/api/v1/orgs/{}/invitations", o.org))
            .bearer_auth(&o.admin)
            .json(&json!({ "email": email, "role": "coach" }))
            .send()
    };
    let accept = |token: String| {
        client_from("127.0.0.4")
            .post(format!("{base}/api/v1/auth/invitations/accept"))
            .json(&json!({ "token": token, "display_name": "Member", "password": PASSWORD }))
    };
    for i in 0..TRIES {
        let email = format!("member{i}@example.org");
        assert_eq!(
            invite(email.clone()).await.unwrap().status(),
            StatusCode::CREATED
        );
        let token = outbox_tokens(&o.data, &email).pop().unwrap();
        assert_eq!(
            accept(token).send().await.unwrap().status(),
            StatusCode::CREATED
        );
    }
    let (mut existing, mut fresh) = (Vec::new(), Vec::new());
    for i in 0..TRIES {
        // An existing account invited again (as an athlete), and an address with none.
        let known = format!("member{i}@example.org");
        let unknown = format!("newcomer{i}@example.org");
        invite(known.clone()).await.unwrap();
        invite(unknown.clone()).await.unwrap();
        let (s1, t1) = timed(accept(outbox_tokens(&o.data, &known).pop().unwrap())).await;
        let (s2, t2) = timed(accept(outbox_tokens(&o.data, &unknown).pop().unwrap())).await;
        assert_eq!((s1, s2), (StatusCode::CREATED, StatusCode::CREATED));
        existing.push(t1);
        fresh.push(t2);
    }
    let accept_ratio = ratio(&existing, &fresh);

    // Password reset: the answer comes before the work, which is awaited before the next try
    // so that it does not slow the next answer down.
    let reset = |email: &str| {
        client_from("127.0.0.3")
            .post(format!("{base}/api/v1/auth/password-reset"))
            .json(&json!({ "email": email }))
    };
    let (existing, unknown) = time_pairs(|email, _, calls| async move {
        let (status, took) = timed(reset(&email)).await;
        assert_eq!(status, StatusCode::ACCEPTED);
        resets_done(base, calls).await;
        took
    })
    .await;
    let reset_ratio = ratio(&existing, &unknown);
    assert_eq!(outbox_tokens(&o.data, "nobody0@example.org").len(), 0);
    assert_eq!(outbox_tokens(&o.data, "member0@example.org").len(), 4);

    // Sign-in with a wrong password: an account's and no account's failures alike.
    // Each pair from an address of its own: the per-address throttle (30 failures) must not
    // answer for the server.
    let login = |email: String, pair: usize| {
        client_from(&format!("127.0.2.{}", pair + 1))
            .post(format!("{base}/api/v1/auth/login"))
            .json(&json!({ "email": email, "password": "not the password at all" }))
    };
    let (existing, unknown) = time_pairs(|email, pair, _| async move {
        let (status, took) = timed(login(email, pair)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        took
    })
    .await;
    let login_ratio = ratio(&existing, &unknown);
    println!(
        "median-time ratios, existing vs unknown account over {TRIES} tries each: \
         password reset {reset_ratio:.3}, invitation acceptance {accept_ratio:.3}, \
         sign-in {login_ratio:.3}"
    );
    for (what, r) in [
        ("password reset", reset_ratio),
        ("invitation acceptance", accept_ratio),
        ("sign-in", login_ratio),
    ] {
        assert!(r <= 1.2, "{what}: median-time ratio {r:.3}");
    }
}

/// Two instances on one PostgreSQL database and one data directory.
fn two_instances(o: &Org, url: &str, env: &[(&str, &str)]) -> (MhpProcess, MhpProcess) {
    let mut all = vec![("DATABASE_URL", url)];
    all.extend_from_slice(env);
    (
        MhpProcess::serve(MHP, &["--data-dir", &o.data], &all),
        MhpProcess::serve(MHP, &["--data-dir", &o.data], &all),
    )
}

#[tokio::test]
async fn mail_is_limited_across_instances() {
    let Some(url) = mhp_test_support::fresh_postgres().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let o = bootstrap(dir.path(), &[("DATABASE_URL", &url)]);
    let (a, b) = two_instances(&o, &url, &[("MHP_AUTH_INVITATIONS_PER_ORG_PER_HOUR", "8")]);
    let bases = [a.base.as_str(), b.base.as_str()];
    let c = reqwest::Client::new();

    // Five resets an hour per address, counted by both instances together; the sixth is
    // refused with Retry-After, for an unknown address alike.
    for email in ["ops@example.org", "nobody@example.org"] {
        for i in 0..6 {
            let res = c
                .post(format!("{}/api/v1/auth/password-reset", bases[i % 2]))
                .json(&json!({ "email": email }))
                .send()
                .await
                .unwrap();
            if i < 5 {
                assert_eq!(res.status(), StatusCode::ACCEPTED, "{email} #{i}");
            } else {
                assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS, "{email} #{i}");
                let wait: u64 = res.headers()["retry-after"]
                    .to_str()
                    .unwrap()
                    .parse()
                    .unwrap();
                assert!((1..=3600).contains(&wait), "{wait}");
            }
        }
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    while metric(&a.base, "mhp_password_reset_requests_processed_total").await
        + metric(&b.base, "mhp_password_reset_requests_processed_total").await
        < 10
    {
        assert!(Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(outbox_tokens(&o.data, "ops@example.org").len(), 5);

    // Invitations: five to one address, then the organisation's eight an hour.
    let invite = |i: usize, email: &str| {
        c.post(format!(
            "{}/api/v1/orgs/{}/invitations",
            bases[i % 2],
            o.org
        ))
        .bearer_auth(&o.admin)
        .json(&json!({ "email": email, "role": "athlete" }))
        .send()
    };
    let mut statuses = Vec::new();
    for i in 0..6 {
        statuses.push(
            invite(i, "invitee@example.org")
                .await
                .unwrap()
                .status()
                .as_u16(),
        );
    }
    for i in 0..3 {
        let email = format!("other{i}@example.org");
        statuses.push(invite(i, &email).await.unwrap().status().as_u16());
    }
    assert_eq!(statuses, [201, 201, 201, 201, 201, 429, 201, 201, 429]);
    assert_eq!(outbox_tokens(&o.data, "invitee@example.org").len(), 5);
    assert!(metric(&a.base, "mhp_mail_rate_limited_total").await > 0);
}

#[tokio::test]
async fn an_account_is_locked_across_addresses_and_instances() {
    let Some(url) = mhp_test_support::fresh_postgres().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let o = bootstrap(dir.path(), &[("DATABASE_URL", &url)]);
    let (a, b) = two_instances(&o, &url, &[]);
    let bases = [a.base.as_str(), b.base.as_str()];
    let login = |i: usize, password: &str| {
        client_from(&format!("127.0.1.{}", i + 1))
            .post(format!("{}/api/v1/auth/login", bases[i % 2]))
            .json(&json!({ "email": "ops@example.org", "password": password }))
            .send()
    };
    // Ten failures, each from another address and alternating instances: no address is
    // locked by itself, the account is.
    for i in 0..10 {
        let res = login(i, "a wrong password").await.unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "#{i}");
    }
    let res = login(10, PASSWORD).await.unwrap();
    assert_eq!(
        res.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "the right password waits too"
    );
    let wait: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=30).contains(&wait), "{wait}");
    let logged =
        a.log().into_iter().chain(b.log()).any(|l| {
            l.contains("\"action\":\"auth.account_lock\"") && !l.contains("ops@example.org")
        });
    assert!(logged, "the lock is a security event, without the address");

    // The owner resets the password, which lifts the lock.
    let res = reqwest::Client::new()
        .post(format!("{}/api/v1/auth/password-reset", a.base))
        .json(&json!({ "email": "ops@example.org" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    resets_done(&a.base, 1).await;
    let token = outbox_tokens(&o.data, "ops@example.org").pop().unwrap();
    let res = reqwest::Client::new()
        .post(format!("{}/api/v1/auth/password-reset/complete", b.base))
        .json(&json!({ "token": token, "password": "a new and long passphrase" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let res = login(11, "a new and long passphrase").await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn look_alike_addresses_do_not_become_accounts() {
    let dir = tempfile::tempdir().unwrap();
    let o = bootstrap(dir.path(), &[]);
    let serve = MhpProcess::serve(MHP, &["--data-dir", &o.data], &[]);
    let invite = |email: &str| {
        reqwest::Client::new()
            .post(format!("{}/api/v1/orgs/{}/invitations", serve.base, o.org))
            .bearer_auth(&o.admin)
            .json(&json!({ "email": email, "role": "coach" }))
            .send()
    };
    // Invisible and bidirectional characters: refused outright.
    for email in [
        "ops\u{200b}@example.org",
        "ops\u{2060}@example.org",
        "ops@exa\u{00ad}mple.org",
        "\u{202e}gro.elpmaxe@spo",
        "ops\u{200e}@example.org",
    ] {
        let res = invite(email).await.unwrap();
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{email:?}");
        let body = res.text().await.unwrap();
        assert!(!body.contains("ops"), "the address is not echoed: {body}");
    }
    // A Cyrillic "о" in place of the Latin one: looks like the member's address.
    let res = invite("\u{043e}ps@example.org").await.unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        res.json::<Value>().await.unwrap()["code"],
        "email-confusable"
    );
    // Fullwidth letters and an upper-case domain are the member's own address once normalised.
    let res = invite("ｏｐｓ@EXAMPLE.org").await.unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(
        res.json::<Value>().await.unwrap()["email"],
        "ops@example.org"
    );
    // An internationalised domain is kept in its ASCII form.
    let res = invite("coach@bücher.example").await.unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(
        res.json::<Value>().await.unwrap()["email"],
        "coach@xn--bcher-kva.example"
    );
    // Signing in with a look-alike of a real address is an unknown account.
    let res = reqwest::Client::new()
        .post(format!("{}/api/v1/auth/login", serve.base))
        .json(&json!({ "email": "ops\u{200b}@example.org", "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}
