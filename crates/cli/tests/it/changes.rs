//! Incremental sync through the real binary: a mirror reads the change feed page by page with
//! the cursor it was given, sees every change in commit order (archivals and erasures as
//! tombstones), never the same change twice, nothing of another organisation, and a cursor read
//! again gives the same page. The listings take the same cursors as `updated_since`: the
//! subjects changed since, the erased ones as tombstones, the subject's assessments changed
//! since.

use mhp_test_support::MhpProcess;
use reqwest::StatusCode;
use serde_json::json;

use crate::{MHP, bootstrap_org, cmj_csv, json_of, mhp, printed_id, printed_token};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mirror_follows_the_change_feed_on_sqlite() {
    change_feed(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mirror_follows_the_change_feed_on_postgres() {
    let Some(url) = mhp_test_support::fresh_postgres().await else {
        return;
    };
    change_feed(Some(url)).await;
}

async fn change_feed(database_url: Option<String>) {
    let dir = tempfile::tempdir().unwrap();
    let env: Vec<(&str, &str)> = database_url
        .as_deref()
        .map(|u| vec![("DATABASE_URL", u)])
        .unwrap_or_default();
    let org = bootstrap_org(dir.path(), "Mirrored", &env);
    // Another organisation in the same installation, with changes of its own.
    let other = printed_id(
        &mhp(
            &[
                "admin",
                "org-create",
                "--name",
                "Elsewhere",
                "--data-dir",
                &org.data,
            ],
            &env,
            None,
        ),
        "organisation:",
    );
    let other_admin = printed_token(&mhp(
        &[
            "admin",
            "api-key",
            "create",
            "--org",
            &other,
            "--role",
            "org_admin",
            "--name",
            "x",
            "--data-dir",
            &org.data,
        ],
        &env,
        None,
    ));
    let p = MhpProcess::serve(MHP, &["--data-dir", &org.data], &env);
    let c = reqwest::Client::new();
    let api = format!("{}/api/v1/orgs/{}", p.base, org.org);
    let admin = org.admin.as_str();
    let feed = |after: Option<String>, extra: &str| {
        let c = c.clone();
        let mut url = format!("{api}/changes?limit=2{extra}");
        if let Some(a) = after {
            url.push_str(&format!("&after={a}"));
        }
        let admin = admin.to_owned();
        async move {
            json_of(
                c.get(url).bearer_auth(admin).send().await.unwrap(),
                StatusCode::OK,
            )
            .await
        }
    };
    let start = feed(None, "").await;
    assert_eq!(start["items"], json!([]), "{start}");
    let origin = start["next"].as_str().unwrap().to_owned();

    let subject = |name: &'static str| {
        let c = c.clone();
        let api = api.clone();
        async move {
            json_of(
                c.post(format!("{api}/subjects"))
                    .bearer_auth(admin)
                    .json(&json!({ "name": name }))
                    .send()
                    .await
                    .unwrap(),
                StatusCode::CREATED,
            )
            .await["id"]
                .as_str()
                .unwrap()
                .to_owned()
        }
    };
    let kept = subject("Kept Person").await;
    let gone = subject("Gone Person").await;
    let res = c
        .post(format!("{}/api/v1/orgs/{other}/subjects", p.base))
        .bearer_auth(&other_admin)
        .json(&json!({ "name": "Not Theirs" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let res = c
        .patch(format!("{api}/subjects/{kept}"))
        .bearer_auth(admin)
        .json(&json!({ "sport": "rugby" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let assessment = json_of(
        c.post(format!("{api}/subjects/{kept}/assessments"))
            .bearer_auth(admin)
            .header("content-type", "text/csv")
            .body(cmj_csv())
            .send()
            .await
            .unwrap(),
        StatusCode::CREATED,
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let injury = json_of(
        c.post(format!("{api}/subjects/{kept}/injuries"))
            .bearer_auth(admin)
            .json(&json!({
                "body_region": "knee", "injury_type": "sprain", "side": "left",
                "mechanism": "contact", "occurred_on": "2026-11-02", "time_loss_days": 10,
            }))
            .send()
            .await
            .unwrap(),
        StatusCode::CREATED,
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let res = c
        .post(format!("{api}/injuries/{injury}/decisions"))
        .bearer_auth(admin)
        .json(&json!({"stage": "cleared", "decided_on": "2026-11-20"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    // Reads change nothing.
    let res = c
        .get(format!("{api}/subjects/{kept}"))
        .bearer_auth(admin)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let res = c
        .delete(format!("{api}/subjects/{gone}"))
        .bearer_auth(admin)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let res = c
        .post(format!("{api}/subjects/{gone}/erase"))
        .bearer_auth(admin)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);

    // Page by page, two at a time, from the cursor the empty feed gave. On PostgreSQL a change
    // shows once every transaction older than it has ended (the server's own background work
    // may hold one for a moment), so the mirror reads again until it has caught up.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let (seen, cursors, first_page) = loop {
        let mut seen: Vec<(String, String, String)> = Vec::new();
        let mut cursors: Vec<String> = Vec::new();
        let mut after = Some(origin.clone());
        let mut first_page = None;
        loop {
            let page = feed(after.clone(), "").await;
            first_page.get_or_insert_with(|| page.clone());
            let items = page["items"].as_array().unwrap();
            assert!(items.len() <= 2);
            if items.is_empty() {
                assert_eq!(
                    page["next"].as_str(),
                    after.as_deref(),
                    "an empty page keeps the cursor"
                );
                break;
            }
            for i in items {
                cursors.push(i["cursor"].as_str().unwrap().to_owned());
                seen.push((
                    i["kind"].as_str().unwrap().to_owned(),
                    i["id"].as_str().unwrap().to_owned(),
                    i["change"].as_str().unwrap().to_owned(),
                ));
            }
            assert_eq!(page["next"], items.last().unwrap()["cursor"]);
            after = page["next"].as_str().map(str::to_owned);
        }
        if seen.len() >= 8 || std::time::Instant::now() > deadline {
            break (seen, cursors, first_page);
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    };
    let s = |k: &str, id: &str, c: &str| (k.to_owned(), id.to_owned(), c.to_owned());
    assert_eq!(
        seen,
        vec![
            s("subject", &kept, "created"),
            s("subject", &gone, "created"),
            s("subject", &kept, "updated"),
            s("assessment", &assessment, "created"),
            s("injury", &injury, "created"),
            s("injury", &injury, "updated"),
            s("subject", &gone, "archived"),
            s("subject", &gone, "erased"),
        ],
        "every change once, in order, nothing of the other organisation"
    );
    let unique: std::collections::HashSet<&String> = cursors.iter().collect();
    assert_eq!(unique.len(), cursors.len(), "no change twice: {cursors:?}");
    // The same cursor gives the same page.
    assert_eq!(feed(Some(origin.clone()), "").await, first_page.unwrap());
    // Only the kinds asked for.
    let injuries = feed(Some(origin), "&kinds=injury").await;
    let kinds: Vec<&str> = injuries["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["injury", "injury"]);
    // A cursor that is not one, or a kind there is not, is a clear refusal.
    for query in ["after=yesterday", "kinds=patients", "limit=0"] {
        let res = c
            .get(format!("{api}/changes?{query}"))
            .bearer_auth(admin)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{query}");
    }

    // The subject listing by `updated_since`: the cursor before everything gives Kept (made,
    // then changed) as an item and Gone as a tombstone, never the other organisation's.
    let list = |path: String| {
        let c = c.clone();
        let url = format!("{api}{path}");
        async move {
            json_of(
                c.get(url).bearer_auth(admin).send().await.unwrap(),
                StatusCode::OK,
            )
            .await
        }
    };
    let changed = list("/subjects?updated_since=0.0".to_owned()).await;
    let names: Vec<&str> = changed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    assert_eq!(names, [kept.as_str()], "{changed}");
    assert_eq!(
        changed["items"][0]["sport"], "rugby",
        "the current state: {changed}"
    );
    assert_eq!(changed["tombstones"][0]["id"], gone.as_str(), "{changed}");
    assert_eq!(
        changed["tombstones"].as_array().unwrap().len(),
        1,
        "{changed}"
    );
    assert_eq!(changed["next"], serde_json::Value::Null);
    let next_since = changed["next_since"].as_str().unwrap().to_owned();
    // From the cursor of Kept's update on: nothing of Kept's making, only what came after.
    let after_update = &cursors[2];
    let later = list(format!("/subjects?updated_since={after_update}")).await;
    assert_eq!(later["items"], json!([]), "{later}");
    assert_eq!(later["tombstones"][0]["id"], gone.as_str(), "{later}");
    // Nothing since the last cursor: nothing listed, the same cursor back.
    let nothing = list(format!("/subjects?updated_since={next_since}")).await;
    assert_eq!(nothing["items"], json!([]));
    assert_eq!(nothing["tombstones"], json!([]));
    assert_eq!(nothing["next_since"], next_since.as_str());
    // A change after it shows, and only it.
    let res = c
        .patch(format!("{api}/subjects/{kept}"))
        .bearer_auth(admin)
        .json(&json!({ "sport": "sevens" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let fresh = loop {
        let page = list(format!("/subjects?updated_since={next_since}")).await;
        if !page["items"].as_array().unwrap().is_empty() || std::time::Instant::now() > deadline {
            break page;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    };
    assert_eq!(fresh["items"][0]["sport"], "sevens", "{fresh}");
    assert_eq!(fresh["tombstones"], json!([]));
    // The subject's assessments since the cursor before the assessment, and since after it.
    let made = list(format!(
        "/subjects/{kept}/assessments?updated_since={}",
        cursors[2]
    ))
    .await;
    assert_eq!(made["items"][0]["id"], assessment.as_str(), "{made}");
    let none = list(format!(
        "/subjects/{kept}/assessments?updated_since={}",
        cursors[3]
    ))
    .await;
    assert_eq!(none["items"], json!([]), "{none}");
    // The subject's injuries since the cursor before the injury: it, with the cursor for next
    // time in the Link header; since after its decision: none.
    let res = c
        .get(format!(
            "{api}/subjects/{kept}/injuries?updated_since={}",
            cursors[3]
        ))
        .bearer_auth(admin)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let link = res.headers()["link"].to_str().unwrap().to_owned();
    assert!(link.ends_with("rel=\"next\""), "{link}");
    assert!(
        link.contains(&format!("/subjects/{kept}/injuries?updated_since=")),
        "{link}"
    );
    let listed: serde_json::Value = res.json().await.unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");
    assert_eq!(listed[0]["id"], injury.as_str());
    let none = list(format!(
        "/subjects/{kept}/injuries?updated_since={}",
        cursors[5]
    ))
    .await;
    assert_eq!(none, json!([]));
    // Sessions: one recorded after a cursor shows, and only it; the ratio is today's.
    let before = fresh["next_since"].as_str().unwrap().to_owned();
    let res = c
        .post(format!("{api}/subjects/{kept}/loads"))
        .bearer_auth(admin)
        .json(&json!({"session_date": "2026-11-30", "session_type": "training", "duration_min": 60, "rpe": 5}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let sessions = loop {
        let page = list(format!("/subjects/{kept}/loads?updated_since={before}")).await;
        if !page["entries"].as_array().unwrap().is_empty() || std::time::Instant::now() > deadline {
            break page;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    };
    assert_eq!(
        sessions["entries"].as_array().unwrap().len(),
        1,
        "{sessions}"
    );
    assert_eq!(sessions["entries"][0]["load_au"], 300);
    assert!(sessions["acwr"].is_object(), "{sessions}");
    let after_load = sessions["next_since"].as_str().unwrap();
    let nothing = list(format!("/subjects/{kept}/loads?updated_since={after_load}")).await;
    assert_eq!(nothing["entries"], json!([]), "{nothing}");

    // A cursor and a page at once, or a cursor that is not one, are refused.
    for query in [
        "updated_since=soon",
        "updated_since=0.0&after=01890000-0000-7000-8000-000000000000",
    ] {
        let res = c
            .get(format!("{api}/subjects?{query}"))
            .bearer_auth(admin)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{query}");
    }
}
