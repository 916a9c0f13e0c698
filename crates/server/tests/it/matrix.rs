//! The authorization matrix: every API route × every role × the caller's own organisation and
//! another one, with the expected answer written out by hand. Adding a route to the server
//! without adding it here fails `the_matrix_covers_every_route`.

use std::collections::BTreeSet;

use mhp_auth::api_key;
use mhp_domain::{OrgName, OrgScope, Role, Timestamp};
use mhp_server::api::ROUTES;
use mhp_storage::Access;
use mhp_storage::repo::api_keys::{self, NewApiKey};
use mhp_storage::repo::{Page, audit, orgs, teams};
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::{Server, quick, spawn};

const ALL: &[Role] = &Role::ALL;

/// (method, path, roles allowed in their own organisation). Other organisations: never.
const MATRIX: &[(&str, &str, &[Role])] = &[
    ("GET", "/api/v1/me", ALL),
    (
        "GET",
        "/api/v1/orgs/{org}/teams",
        &[Role::OrgAdmin, Role::Clinician, Role::Coach],
    ),
    ("POST", "/api/v1/orgs/{org}/teams", &[Role::OrgAdmin]),
    ("GET", "/api/v1/orgs/{org}/members", &[Role::OrgAdmin]),
    ("GET", "/api/v1/orgs/{org}/api-keys", &[Role::OrgAdmin]),
    ("POST", "/api/v1/orgs/{org}/api-keys", &[Role::OrgAdmin]),
    (
        "DELETE",
        "/api/v1/orgs/{org}/api-keys/{key}",
        &[Role::OrgAdmin],
    ),
];

/// Routes anyone may call.
const PUBLIC: &[&str] = &["/healthz", "/readyz", "/metrics"];

/// Stores a key directly and returns (id, token).
async fn key(s: &Server, org: &OrgScope, role: Role, expires_at: Timestamp) -> (String, String) {
    let minted = api_key::mint();
    let mut tx = s.state.db.tenant(org, Access::Write).await.unwrap();
    api_keys::create(
        &mut tx,
        &NewApiKey {
            id: &minted.id,
            name: "matrix",
            role,
            secret_sha256: &minted.secret_sha256,
            created_by: "test",
            expires_at,
        },
        s.state.clock.now(),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    (minted.id, minted.token.expose().clone())
}

fn far_future(s: &Server) -> Timestamp {
    Timestamp::from_millis(s.state.clock.now().as_millis() + 86_400_000)
}

async fn second_org(s: &Server) -> OrgScope {
    let mut tx = s.state.db.operator(Access::Write).await.unwrap();
    let org = orgs::create(
        &mut tx,
        &OrgName::parse("Other org").unwrap(),
        s.state.clock.now(),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    OrgScope::for_org(org.id)
}

async fn call(
    s: &Server,
    method: &str,
    path: &str,
    token: Option<&str>,
    n: usize,
) -> reqwest::Response {
    let c = reqwest::Client::new();
    let mut req = c.request(
        Method::from_bytes(method.as_bytes()).unwrap(),
        format!("{}{path}", s.base),
    );
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if method == "POST" {
        let body = if path.ends_with("/teams") {
            json!({ "name": format!("Team {n}") })
        } else {
            json!({ "name": format!("Key {n}"), "role": "device" })
        };
        req = req.json(&body);
    }
    req.send().await.unwrap()
}

async fn concrete(s: &Server, template: &str, target: &OrgScope) -> String {
    let mut path = template.replace("{org}", &target.org().to_string());
    if path.contains("{key}") {
        let (id, _) = key(s, target, Role::Device, far_future(s)).await;
        path = path.replace("{key}", &id);
    }
    path
}

#[test]
fn the_matrix_covers_every_route() {
    let served: BTreeSet<(&str, &str)> = ROUTES.iter().map(|r| (r.method, r.path)).collect();
    let tested: BTreeSet<(&str, &str)> = MATRIX.iter().map(|(m, p, _)| (*m, *p)).collect();
    assert_eq!(served, tested, "every API route needs a row in MATRIX");
}

#[tokio::test]
async fn every_route_every_role_own_and_other_organisation() {
    let s = spawn(quick()).await;
    let own = s.org;
    let other = second_org(&s).await;
    let mut n = 0;
    let mut team_creations = 0;
    for (method, template, allowed) in MATRIX {
        let org_route = template.contains("{org}");
        for role in Role::ALL {
            for (caller_org, is_own) in [(own, true), (other, false)] {
                if !org_route && !is_own {
                    continue;
                }
                let (_, token) = key(&s, &caller_org, role, far_future(&s)).await;
                let path = concrete(&s, template, &own).await;
                n += 1;
                let res = call(&s, method, &path, Some(&token), n).await;
                let status = res.status();
                let expected_ok = is_own && allowed.contains(&role);
                let case = format!(
                    "{method} {template} as {role} of {}",
                    if is_own { "own org" } else { "other org" }
                );
                if expected_ok {
                    assert!(
                        status.is_success(),
                        "{case}: expected success, got {status}"
                    );
                    if *method == "POST" && template.ends_with("/teams") {
                        team_creations += 1;
                    }
                } else if !is_own {
                    assert_eq!(status, StatusCode::NOT_FOUND, "{case}");
                } else {
                    assert_eq!(status, StatusCode::FORBIDDEN, "{case}");
                }
            }
        }
        // No credentials, and a forged secret, are refused the same way.
        let path = concrete(&s, template, &own).await;
        let res = call(&s, method, &path, None, 0).await;
        assert_eq!(
            res.status(),
            StatusCode::UNAUTHORIZED,
            "{method} {template} anonymous"
        );
        assert!(res.headers().contains_key("www-authenticate"));
        let (_, token) = key(&s, &own, Role::OrgAdmin, far_future(&s)).await;
        let forged = format!("{}AAAA", &token[..token.len() - 4]);
        let res = call(&s, method, &path, Some(&forged), 0).await;
        assert_eq!(
            res.status(),
            StatusCode::UNAUTHORIZED,
            "{method} {template} forged"
        );
    }

    // Refused writes wrote nothing: only the allowed team creations exist.
    let mut tx = s.state.db.tenant(&own, Access::Read).await.unwrap();
    assert_eq!(
        teams::list(&mut tx, Page::first(500)).await.unwrap().len(),
        team_creations
    );
    drop(tx);
    let mut tx = s.state.db.tenant(&other, Access::Read).await.unwrap();
    assert!(
        teams::list(&mut tx, Page::first(500))
            .await
            .unwrap()
            .is_empty()
    );
    // Refusals were audited in the caller's organisation.
    assert!(audit::count(&mut tx).await.unwrap() > 0);

    for path in PUBLIC {
        let res = reqwest::get(format!("{}{path}", s.base)).await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{path}");
    }
}

#[tokio::test]
async fn revoked_and_expired_keys_stop_working() {
    let s = spawn(quick()).await;
    let (admin_id, admin) = key(&s, &s.org, Role::OrgAdmin, far_future(&s)).await;
    let me = call(&s, "GET", "/api/v1/me", Some(&admin), 0).await;
    assert_eq!(me.status(), StatusCode::OK);
    let body: serde_json::Value = me.json().await.unwrap();
    assert_eq!(body["role"], "org_admin");
    assert_eq!(body["key_id"], admin_id.as_str());

    // Issue a device key through the API: the token comes back once, then only metadata.
    let res = call(
        &s,
        "POST",
        &format!("/api/v1/orgs/{}/api-keys", s.org.org()),
        Some(&admin),
        1,
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let issued: serde_json::Value = res.json().await.unwrap();
    let device = issued["token"].as_str().unwrap().to_owned();
    let device_id = issued["id"].as_str().unwrap().to_owned();
    let listed = call(
        &s,
        "GET",
        &format!("/api/v1/orgs/{}/api-keys", s.org.org()),
        Some(&admin),
        0,
    )
    .await
    .text()
    .await
    .unwrap();
    assert!(
        listed.contains(&device_id) && !listed.contains(&device),
        "{listed}"
    );
    assert_eq!(
        call(&s, "GET", "/api/v1/me", Some(&device), 0)
            .await
            .status(),
        StatusCode::OK
    );

    let res = call(
        &s,
        "DELETE",
        &format!("/api/v1/orgs/{}/api-keys/{device_id}", s.org.org()),
        Some(&admin),
        0,
    )
    .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let res = call(&s, "GET", "/api/v1/me", Some(&device), 0).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);

    let past = Timestamp::from_millis(s.state.clock.now().as_millis() - 1);
    let (_, expired) = key(&s, &s.org, Role::OrgAdmin, past).await;
    let res = call(&s, "GET", "/api/v1/me", Some(&expired), 0).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    // The two responses are indistinguishable from an unknown key.
    let body = res.text().await.unwrap();
    assert!(
        !body.contains("expired") && !body.contains("revoked"),
        "{body}"
    );
}
