//! Machine clients through the real binary: an API key is an OAuth 2.0 client, and an OAuth
//! library that is not MHP's (oauthlib, `tools/oauth/client_credentials.py`) finds the token
//! endpoint by discovery, gets a token with the client credentials grant (HTTP Basic or in the
//! body) and calls the API with it, as the key's role in the key's organisation. Rotation keeps
//! the old secret for the overlap; revocation stops the key's tokens at once.

use mhp_test_support::MhpProcess;
use mhp_test_support::oauth::{ClientAuth, client_credentials};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::{MHP, bootstrap_org, json_of};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_api_key_is_an_oauth_client_scoped_rotated_and_revoked_as_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let org = bootstrap_org(dir.path(), "Clients", &[]);
    let p = MhpProcess::serve(MHP, &["--data-dir", &org.data], &[]);
    let c = reqwest::Client::new();
    let api = format!("{}/api/v1/orgs/{}", p.base, org.org);
    let key = |role: &'static str| {
        let c = c.clone();
        let api = api.clone();
        let admin = org.admin.clone();
        async move {
            let made = json_of(
                c.post(format!("{api}/api-keys"))
                    .bearer_auth(&admin)
                    .json(&json!({ "name": format!("{role} client"), "role": role }))
                    .send()
                    .await
                    .unwrap(),
                StatusCode::CREATED,
            )
            .await;
            (
                made["id"].as_str().unwrap().to_owned(),
                made["token"].as_str().unwrap().to_owned(),
            )
        }
    };
    let (ehr, ehr_secret) = key("clinician").await;
    let (plate, plate_secret) = key("device").await;
    let subjects = format!("/api/v1/orgs/{}/subjects", org.org);

    let discovery = json_of(
        c.get(format!("{}/.well-known/openid-configuration", p.base))
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        discovery["token_endpoint"],
        format!("{}/oauth/token", discovery["issuer"].as_str().unwrap())
    );

    // The library gets a token both ways and reads the roster as a clinician.
    for auth in [ClientAuth::Basic, ClientAuth::Post] {
        let Some(out) = client_credentials(&p.base, &ehr, &ehr_secret, &subjects, auth) else {
            return;
        };
        assert_eq!(out["status"], 200, "{auth:?}: {out}");
        assert_eq!(out["token"]["token_type"], "Bearer");
        assert_eq!(out["token"]["expires_in"], 900);
        assert_eq!(out["token"]["scope"], json!(["clinician"]));
        assert!(out["token"].get("refresh_token").is_none(), "{out}");
        assert!(out["body"]["items"].is_array(), "{out}");
    }
    // A device's token may not read the roster: the key's role, not more.
    let out =
        client_credentials(&p.base, &plate, &plate_secret, &subjects, ClientAuth::Basic).unwrap();
    assert_eq!(out["status"], 403, "{out}");
    // Another key's secret, or a client id that is not the secret's, is an invalid client.
    for (id, secret) in [(&ehr, &plate_secret), (&plate, &ehr_secret)] {
        let out = client_credentials(&p.base, id, secret, &subjects, ClientAuth::Basic).unwrap();
        assert_eq!(out["error"], "invalid_client", "{out}");
        assert_eq!(out["status_code"], 401);
    }

    // Rotation: the new secret works, and the old one for the overlap; a second rotation with
    // no overlap leaves only the newest.
    let rotate = |overlap: u32| {
        let c = c.clone();
        let url = format!("{api}/api-keys/{ehr}/rotate");
        let admin = org.admin.clone();
        async move {
            let res = c
                .post(url)
                .bearer_auth(&admin)
                .json(&json!({ "overlap_hours": overlap }))
                .send()
                .await
                .unwrap();
            let rotated = json_of(res, StatusCode::OK).await;
            rotated["token"].as_str().unwrap().to_owned()
        }
    };
    let second = rotate(24).await;
    assert_ne!(second, ehr_secret);
    for secret in [&ehr_secret, &second] {
        let out = client_credentials(&p.base, &ehr, secret, &subjects, ClientAuth::Post).unwrap();
        assert_eq!(out["status"], 200, "{out}");
    }
    let res = c
        .get(format!("{}{subjects}", p.base))
        .bearer_auth(&ehr_secret)
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "the old key works directly too, for the overlap"
    );
    let third = rotate(0).await;
    for (secret, works) in [(&ehr_secret, false), (&second, false), (&third, true)] {
        let out = client_credentials(&p.base, &ehr, secret, &subjects, ClientAuth::Basic).unwrap();
        if works {
            assert_eq!(out["status"], 200, "{out}");
        } else {
            assert_eq!(out["error"], "invalid_client", "{out}");
        }
    }

    // Protocol errors are OAuth's own answers, not problem details.
    let token_url = format!("{}/oauth/token", p.base);
    let res = c
        .post(&token_url)
        .basic_auth(&ehr, Some(&third))
        .form(&[("grant_type", "password")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["cache-control"], "no-store");
    let body = json_of(res, StatusCode::BAD_REQUEST).await;
    assert_eq!(body["error"], "unsupported_grant_type");
    let res = c
        .post(&token_url)
        .basic_auth(&ehr, Some(&third))
        .form(&[("grant_type", "client_credentials"), ("scope", "org_admin")])
        .send()
        .await
        .unwrap();
    assert_eq!(
        json_of(res, StatusCode::BAD_REQUEST).await["error"],
        "invalid_scope"
    );
    let res = c
        .post(&token_url)
        .json(&json!({ "grant_type": "client_credentials" }))
        .send()
        .await
        .unwrap();
    assert_eq!(
        json_of(res, StatusCode::BAD_REQUEST).await["error"],
        "invalid_request"
    );

    // Revocation stops a token already issued, at its next request.
    let token = json_of(
        c.post(&token_url)
            .basic_auth(&ehr, Some(&third))
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let read = |t: String| c.get(format!("{}{subjects}", p.base)).bearer_auth(t).send();
    assert_eq!(read(token.clone()).await.unwrap().status(), StatusCode::OK);
    let res = c
        .delete(format!("{api}/api-keys/{ehr}"))
        .bearer_auth(&org.admin)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        read(token).await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );

    // Issues and rotations are in the organisation's audit log, named by key.
    let audit = json_of(
        c.get(format!("{api}/audit?action=token.issue&limit=1000"))
            .bearer_auth(&org.admin)
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    let issued: Vec<&Value> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["detail"] == "client_credentials")
        .collect();
    assert!(issued.len() >= 6, "{audit}");
    assert!(
        issued
            .iter()
            .all(|e| e["actor"].as_str().unwrap().starts_with("apikey:"))
    );
    let rotations = json_of(
        c.get(format!("{api}/audit?action=apikey.rotate"))
            .bearer_auth(&org.admin)
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        rotations["items"].as_array().unwrap().len(),
        2,
        "{rotations}"
    );
}
