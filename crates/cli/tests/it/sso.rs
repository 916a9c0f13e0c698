//! Single sign-on end to end: the real binary, a real OpenID provider (panva's oidc-provider
//! under Node, `tools/oidc-provider`), the browser played with plain HTTP. Just-in-time
//! provisioning, role mapping, refusals, and an organisation that requires SSO refusing
//! password sign-in.

use mhp_test_support::MhpProcess;
use mhp_test_support::oidc::{CLIENT_ID, OidcProvider, authorize};
use reqwest::StatusCode;
use reqwest::header::{ACCEPT, COOKIE, LOCATION, SET_COOKIE};
use serde_json::{Value, json};

use crate::{MHP, OPS_PASSWORD, bootstrap_org};

const CLIENT_SECRET: &str = "a-client-secret-for-tests-only";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn cookie(res: &reqwest::Response, name: &str) -> Option<String> {
    res.headers().get_all(SET_COOKIE).iter().find_map(|v| {
        let pair = v.to_str().ok()?.split(';').next()?;
        let (n, value) = pair.split_once('=')?;
        (n == name && !value.is_empty()).then(|| value.to_owned())
    })
}

struct Sso<'a> {
    base: &'a str,
    org: &'a str,
    callback: &'a str,
}

impl Sso<'_> {
    /// Starts at MHP, signs in at the provider as `who`, comes back: MHP's answer to an API
    /// client.
    async fn sign_in(&self, who: &str, p: &MhpProcess) -> (reqwest::Response, String) {
        self.sign_in_accepting(who, p, "*/*").await
    }

    /// The same, as a client that accepts `accept` (a browser asks for HTML first).
    async fn sign_in_accepting(
        &self,
        who: &str,
        p: &MhpProcess,
        accept: &str,
    ) -> (reqwest::Response, String) {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let start = http
            .get(format!("{}/api/v1/auth/sso/{}/start", self.base, self.org))
            .send()
            .await
            .unwrap();
        assert_eq!(start.status(), StatusCode::SEE_OTHER);
        let flight = cookie(&start, "mhp_sso").expect("sign-in cookie");
        let to = start.headers()[LOCATION].to_str().unwrap().to_owned();
        let back = authorize(&to, who, self.callback).await;
        let url = format!(
            "{}/api/v1/auth/sso/callback?code={}&state={}",
            self.base, back.code, back.state
        );
        let res = http
            .get(&url)
            .header(COOKIE, format!("mhp_sso={flight}"))
            .header(ACCEPT, accept)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{e}; server log:\n{}", p.log().join("\n")));
        (res, format!("{url}|{flight}"))
    }
}

#[tokio::test]
async fn sso_provisions_maps_roles_and_can_be_required() {
    // The address MHP says it is reached at (its redirect URI); the test intercepts the
    // provider's redirect there and calls the running server itself.
    let public = format!("http://127.0.0.1:{}", free_port());
    let callback = format!("{public}/api/v1/auth/sso/callback");
    let Some(provider) = OidcProvider::start(0, "ES256", CLIENT_SECRET, &callback) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let crate::BootstrappedOrg { data, org, admin } = bootstrap_org(dir.path(), "Clinic", &[]);
    let p = MhpProcess::serve(
        MHP,
        &["--data-dir", &data],
        &[
            ("MHP_HTTP_PUBLIC_URL", public.as_str()),
            // The provider runs on this machine, over plain http.
            ("MHP_EGRESS_ALLOW_CIDRS", "127.0.0.0/8"),
            ("MHP_EGRESS_ALLOW_HTTP", "true"),
            ("CLINIC_SSO_CLIENT_SECRET", CLIENT_SECRET),
        ],
    );
    let base = p.base.clone();
    let c = reqwest::Client::new();
    let config = json!({
        "issuer": provider.issuer, "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "allowed_domains": ["clinic.example"], "role_claim": "groups",
        "role_map": {"mhp-clinicians": "clinician", "mhp-admins": "org_admin"},
        "required": false,
    });
    // A reference into the platform's secrets is refused: the secret is given by value.
    let mut bad = config.clone();
    bad["client_secret"] = json!("secret://env/CLINIC_SSO_CLIENT_SECRET");
    let res = c
        .put(format!("{base}/api/v1/orgs/{org}/sso"))
        .bearer_auth(&admin)
        .json(&bad)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let res = c
        .put(format!("{base}/api/v1/orgs/{org}/sso"))
        .bearer_auth(&admin)
        .json(&config)
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "{}",
        res.text().await.unwrap()
    );

    let sso = Sso {
        base: &base,
        org: &org,
        callback: &callback,
    };
    // Alice: provisioned just in time with her mapped roles; a session that works.
    let (res, replay) = sso.sign_in("alice", &p).await;
    assert_eq!(res.status(), StatusCode::OK);
    let session = cookie(&res, mhp_auth::session::COOKIE).expect("session cookie");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["provisioned"], true);
    assert_eq!(body["user"]["email"], "alice@clinic.example");
    assert_eq!(body["roles"], json!(["org_admin", "clinician"]));
    let me = c
        .get(format!("{base}/api/v1/auth/session"))
        .header(COOKIE, format!("{}={session}", mhp_auth::session::COOKIE))
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), StatusCode::OK);
    let members: Value = c
        .get(format!("{base}/api/v1/orgs/{org}/members"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        members.to_string().contains("alice@clinic.example"),
        "{members}"
    );

    // The same person again: linked, not provisioned twice.
    let (res, _) = sso.sign_in("alice", &p).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.json::<Value>().await.unwrap()["provisioned"], false);

    // A browser lands in the application, signed in; a refusal is a page that says why.
    const BROWSER: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
    let (res, _) = sso.sign_in_accepting("alice", &p, BROWSER).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(res.headers()[LOCATION], "/");
    let session = cookie(&res, mhp_auth::session::COOKIE).expect("session cookie");
    let home = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(format!("{base}/"))
        .header(COOKIE, format!("{}={session}", mhp_auth::session::COOKIE))
        .send()
        .await
        .unwrap();
    assert_eq!(home.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        home.headers()[LOCATION].to_str().unwrap(),
        format!("/orgs/{org}")
    );
    let (res, _) = sso.sign_in_accepting("bob", &p, BROWSER).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(res.text().await.unwrap().contains("sso_domain_not_allowed"));

    // Refusals: another domain, an unverified address, a replayed callback.
    for (who, reason) in [
        ("bob", "sso_domain_not_allowed"),
        ("carol", "sso_email_unverified"),
    ] {
        let (res, _) = sso.sign_in(who, &p).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{who}");
        assert!(cookie(&res, mhp_auth::session::COOKIE).is_none());
        let problem: Value = res.json().await.unwrap();
        assert_eq!(problem["code"], "sso-failed");
        assert!(
            problem["detail"].as_str().unwrap().contains(reason),
            "{problem}"
        );
    }
    let (url, flight) = replay.split_once('|').unwrap();
    let res = c
        .get(url)
        .header(COOKIE, format!("mhp_sso={flight}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);

    // Required SSO: the operator's password no longer signs in (to this organisation's members).
    let login_url = format!("{base}/api/v1/auth/login");
    let login = |c: reqwest::Client| {
        let url = login_url.clone();
        async move {
            c.post(url)
                .json(&json!({"email": "ops@example.org", "password": OPS_PASSWORD}))
                .send()
                .await
                .unwrap()
        }
    };
    assert_eq!(login(c.clone()).await.status(), StatusCode::OK);
    let mut required = config.clone();
    required["required"] = json!(true);
    let res = c
        .put(format!("{base}/api/v1/orgs/{org}/sso"))
        .bearer_auth(&admin)
        .json(&required)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let res = login(c.clone()).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(res.json::<Value>().await.unwrap()["code"], "sso-required");

    // Nothing secret in the log.
    for line in p.log() {
        assert!(
            !line.contains(CLIENT_SECRET),
            "client secret logged: {line}"
        );
        assert!(
            !line.contains("alice@clinic.example"),
            "e-mail logged: {line}"
        );
    }
}

/// Finds an organisation from an address through the sign-in page's "Sign in with your
/// organisation" form: the page's answer (status and `Location`).
async fn discovered(base: &str, email: &str) -> (StatusCode, String) {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = http
        .get(format!("{base}/sign-in/sso"))
        .send()
        .await
        .unwrap();
    let jar: Vec<String> = page
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok()?.split(';').next().map(str::to_owned))
        .collect();
    let body = page.text().await.unwrap();
    let token = body
        .split("name=\"_csrf\" value=\"")
        .nth(1)
        .and_then(|t| t.split('"').next())
        .expect("the form's token")
        .to_owned();
    let res = http
        .post(format!("{base}/sign-in/sso"))
        .header(COOKIE, jar.join("; "))
        .form(&[("_csrf", token.as_str()), ("email", email)])
        .send()
        .await
        .unwrap();
    let location = res
        .headers()
        .get(LOCATION)
        .map(|l| l.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (res.status(), location)
}

#[tokio::test]
async fn a_domain_leads_to_the_organisation_only_once_its_dns_proves_the_organisation_owns_it() {
    let Some(mut dns) = mhp_test_support::dns::DnsServer::start() else {
        return;
    };
    let public = format!("http://127.0.0.1:{}", free_port());
    let callback = format!("{public}/api/v1/auth/sso/callback");
    let Some(provider) = OidcProvider::start(0, "ES256", CLIENT_SECRET, &callback) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let crate::BootstrappedOrg { data, org, admin } = bootstrap_org(dir.path(), "Clinic", &[]);
    let other = crate::mhp(
        &[
            "admin",
            "org-create",
            "--name",
            "Squatters",
            "--data-dir",
            &data,
        ],
        &[],
        None,
    );
    let squatters = crate::printed_id(&other, "organisation:");
    let squatter_admin = crate::printed_token(&crate::mhp(
        &[
            "admin",
            "api-key",
            "create",
            "--org",
            &squatters,
            "--role",
            "org_admin",
            "--name",
            "it",
            "--data-dir",
            &data,
        ],
        &[],
        None,
    ));
    let dns_server = dns.addr.to_string();
    let p = MhpProcess::serve(
        MHP,
        &["--data-dir", &data],
        &[
            ("MHP_HTTP_PUBLIC_URL", public.as_str()),
            ("MHP_EGRESS_ALLOW_CIDRS", "127.0.0.0/8"),
            ("MHP_EGRESS_ALLOW_HTTP", "true"),
            ("MHP_EGRESS_DNS_SERVER", dns_server.as_str()),
        ],
    );
    let base = p.base.clone();
    let c = reqwest::Client::new();
    let configure = |token: &str, org: &str, domains: &[&str]| {
        c.put(format!("{base}/api/v1/orgs/{org}/sso"))
            .bearer_auth(token)
            .json(&json!({
                "issuer": provider.issuer, "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET, "allowed_domains": domains,
                "default_role": "clinician",
            }))
            .send()
    };
    // A tenant lists a domain that is not theirs first: listing it proves nothing, and keeps
    // nobody from it.
    let res = configure(&squatter_admin, &squatters, &["clinic.example"])
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let res = configure(&admin, &org, &["Clinic.Example"]).await.unwrap();
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "{}",
        res.text().await.unwrap()
    );
    let view: Value = res.json().await.unwrap();
    let domain = &view["domains"][0];
    assert_eq!(domain["domain"], "clinic.example");
    assert_eq!(domain["proven"], false);
    assert_eq!(domain["txt_name"], "_mhp-verification.clinic.example");
    let value = domain["txt_value"].as_str().unwrap().to_owned();
    assert!(
        value.starts_with("mhp-verification=") && value.len() > 40,
        "{value}"
    );
    let (status, _) = discovered(&base, "ana@clinic.example").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "not proven yet");

    // Checked before the record exists, then with a wrong value: refused in words.
    let verify = |token: &str, org: &str| {
        c.post(format!(
            "{base}/api/v1/orgs/{org}/sso/domains/clinic.example/verify"
        ))
        .bearer_auth(token)
        .send()
    };
    let res = verify(&admin, &org).await.unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let problem: Value = res.json().await.unwrap();
    assert_eq!(problem["code"], "domain-not-proven", "{problem}");
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("_mhp-verification.clinic.example"),
        "{problem}"
    );
    dns.set_txt(
        "_mhp-verification.clinic.example",
        &["v=spf1 -all", "mhp-verification=someone-elses-token"],
    );
    let res = verify(&admin, &org).await.unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // The squatter's own token is not published, so it cannot prove the domain either.
    let res = verify(&squatter_admin, &squatters).await.unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // The owner publishes the record (beside others): proven, and the domain leads to them.
    dns.set_txt(
        "_mhp-verification.clinic.example",
        &["v=spf1 -all", value.as_str()],
    );
    let res = verify(&admin, &org).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let proven: Value = res.json().await.unwrap();
    assert_eq!(proven["proven"], true, "{proven}");
    assert!(proven["proven_at_ms"].as_i64().is_some());
    let (status, location) = discovered(&base, "Ana@Clinic.Example").await;
    assert_eq!(
        (status, location.as_str()),
        (
            StatusCode::SEE_OTHER,
            format!("/api/v1/auth/sso/{org}/start").as_str()
        )
    );
    let view: Value = c
        .get(format!("{base}/api/v1/orgs/{org}/sso"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(view["domains"][0]["proven"], true, "{view}");

    // Now the domain is the owner's: another tenant can neither prove it nor list it anew.
    dns.set_txt("_mhp-verification.clinic.example", &[value.as_str()]);
    let res = verify(&squatter_admin, &squatters).await.unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let problem: Value = res.json().await.unwrap();
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("another organisation"),
        "{problem}"
    );
    let res = configure(
        &squatter_admin,
        &squatters,
        &["clinic.example", "squat.example"],
    )
    .await
    .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // Checked again while the record stays: the proof stays.
    let recheck = || {
        crate::mhp(
            &["admin", "sso-recheck", "--data-dir", &data],
            &[("MHP_EGRESS_DNS_SERVER", dns_server.as_str())],
            None,
        )
    };
    let out = recheck();
    assert!(
        crate::stdout(&out).starts_with("1 proven domain(s) checked; 0 withdrawn"),
        "{}{}",
        crate::stdout(&out),
        crate::stderr(&out)
    );
    // The domain changes hands and its new DNS has no proof: withdrawn, audited, and the domain
    // leads nowhere until the organisation proves it again.
    dns.set_txt("_mhp-verification.clinic.example", &["v=spf1 -all"]);
    let out = recheck();
    let said = crate::stdout(&out);
    assert!(
        said.starts_with("1 proven domain(s) checked; 1 withdrawn")
            && said.contains(&format!("withdrawn: clinic.example (organisation {org})")),
        "{said}"
    );
    let (status, _) = discovered(&base, "ana@clinic.example").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let events: Value = c
        .get(format!(
            "{base}/api/v1/orgs/{org}/audit?action=organisation.sso_domain_unproven"
        ))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        events["items"][0]["resource_id"], "clinic.example",
        "{events}"
    );
    assert_eq!(
        events["items"][0]["actor"], "system:sso-domains",
        "{events}"
    );
    dns.set_txt("_mhp-verification.clinic.example", &[value.as_str()]);
    let res = verify(&admin, &org).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);

    // The owner re-saving its settings keeps the proof; dropping the domain loses it.
    let res = configure(&admin, &org, &["clinic.example"]).await.unwrap();
    let view: Value = res.json().await.unwrap();
    assert_eq!(view["domains"][0]["proven"], true, "{view}");
    let res = configure(&admin, &org, &["other.example"]).await.unwrap();
    let view: Value = res.json().await.unwrap();
    assert_eq!(view["domains"][0]["domain"], "other.example");
    assert_eq!(view["domains"][0]["proven"], false);
    let (status, _) = discovered(&base, "ana@clinic.example").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
}
