//! FHIR Bulk Data export through the real binary: kick-off answers 202 with the status URL,
//! the status answers 202 then the manifest, the NDJSON files hold the same resources as the
//! per-subject export (validated by fhir.resources, an implementation that is not MHP's, with
//! the same Observation ids), a group is a team, the files need the caller's credentials, and
//! a deleted export's files are gone.

use std::time::{Duration, Instant};

use mhp_test_support::MhpProcess;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::{MHP, bootstrap_org, cmj_csv, json_of};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bulk_export_of_patients_and_of_a_group() {
    let dir = tempfile::tempdir().unwrap();
    let org = bootstrap_org(dir.path(), "Bulk", &[]);
    let p = MhpProcess::serve(MHP, &["--data-dir", &org.data], &[]);
    let c = reqwest::Client::new();
    let api = format!("{}/api/v1/orgs/{}", p.base, org.org);
    let admin = org.admin.as_str();
    let team = json_of(
        c.post(format!("{api}/teams"))
            .bearer_auth(admin)
            .json(&json!({"name": "Forwards"}))
            .send()
            .await
            .unwrap(),
        StatusCode::CREATED,
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut ids = Vec::new();
    for (name, teams) in [("Ada Bulkley", json!([team])), ("Bo Elsewhere", json!([]))] {
        let s = json_of(
            c.post(format!("{api}/subjects"))
                .bearer_auth(admin)
                .json(&json!({"name": name, "sex": "female", "team_ids": teams}))
                .send()
                .await
                .unwrap(),
            StatusCode::CREATED,
        )
        .await;
        let id = s["id"].as_str().unwrap().to_owned();
        let res = c
            .post(format!("{api}/subjects/{id}/assessments"))
            .bearer_auth(admin)
            .header("content-type", "text/csv")
            .body(cmj_csv())
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::CREATED);
        ids.push(id);
    }

    // Kick-off, then the status until the manifest.
    let export = |path: String| {
        let c = c.clone();
        async move {
            let res = c
                .get(path)
                .bearer_auth(admin)
                .header("accept", "application/fhir+json")
                .header("prefer", "respond-async")
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), StatusCode::ACCEPTED);
            let status_url = res.headers()["content-location"]
                .to_str()
                .unwrap()
                .to_owned();
            let deadline = Instant::now() + Duration::from_secs(60);
            loop {
                let res = c.get(&status_url).bearer_auth(admin).send().await.unwrap();
                if res.status() == StatusCode::OK {
                    assert!(res.headers().contains_key("expires"));
                    let manifest: Value = res.json().await.unwrap();
                    break (status_url, manifest);
                }
                assert_eq!(res.status(), StatusCode::ACCEPTED);
                assert_eq!(res.headers()["x-progress"], "in progress");
                assert!(Instant::now() < deadline, "the export did not finish");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    };
    let (_, all) = export(format!("{api}/fhir/Patient/$export")).await;
    assert_eq!(all["requiresAccessToken"], true);
    assert!(
        all["request"]
            .as_str()
            .unwrap()
            .ends_with("/fhir/Patient/$export")
    );
    assert_eq!(all["error"], json!([]));
    let outputs = all["output"].as_array().unwrap();
    let types: Vec<&str> = outputs
        .iter()
        .map(|o| o["type"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["Patient", "Observation"]);
    assert_eq!(outputs[0]["count"], 2);
    let download = |url: String, key: Option<&str>| {
        let c = c.clone();
        let key = key.map(str::to_owned);
        async move {
            let mut req = c.get(url);
            if let Some(k) = key {
                req = req.bearer_auth(k);
            }
            req.send().await.unwrap()
        }
    };
    // The files need the caller's credentials.
    let url = outputs[0]["url"].as_str().unwrap().to_owned();
    assert_eq!(
        download(url.clone(), None).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let res = download(url, Some(admin)).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "application/fhir+ndjson");
    let patients: Vec<Value> = res
        .text()
        .await
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let mut exported: Vec<&str> = patients.iter().map(|p| p["id"].as_str().unwrap()).collect();
    exported.sort_unstable();
    let mut expected: Vec<&str> = ids.iter().map(String::as_str).collect();
    expected.sort_unstable();
    assert_eq!(exported, expected);

    // The group (the team) holds its member only.
    let (group_status, group) = export(format!(
        "{api}/fhir/Group/{team}/$export?_type=Patient,Observation"
    ))
    .await;
    let mut resources: Vec<Value> = Vec::new();
    for o in group["output"].as_array().unwrap() {
        let res = download(o["url"].as_str().unwrap().to_owned(), Some(admin)).await;
        let text = res.text().await.unwrap();
        assert_eq!(text.lines().count() as u64, o["count"].as_u64().unwrap());
        resources.extend(
            text.lines()
                .map(|l| serde_json::from_str::<Value>(l).unwrap()),
        );
    }
    let patient_ids: Vec<&str> = resources
        .iter()
        .filter(|r| r["resourceType"] == "Patient")
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(patient_ids, [ids[0].as_str()]);
    for o in resources
        .iter()
        .filter(|r| r["resourceType"] == "Observation")
    {
        assert_eq!(o["subject"]["reference"], format!("Patient/{}", ids[0]));
    }
    // The bulk resources are the per-subject export's, with the same ids: validated together.
    let as_bundle = json!({
        "resourceType": "Bundle",
        "type": "collection",
        "entry": resources.iter().map(|r| json!({
            "fullUrl": format!("urn:uuid:{}", r["id"].as_str().unwrap()),
            "resource": r,
        })).collect::<Vec<_>>(),
    });
    let single = c
        .get(format!("{api}/subjects/{}/fhir", ids[0]))
        .bearer_auth(admin)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    mhp_test_support::fhir::validate(&[&as_bundle.to_string(), &single]);

    // `_since` after everything: nothing changed, no file.
    let (_, later) = export(format!(
        "{api}/fhir/Patient/$export?_since=2999-01-01T00:00:00Z"
    ))
    .await;
    assert_eq!(later["output"], json!([]));
    // Refusals are clear, and FHIR's: OperationOutcomes (fhir.resources validates them, and
    // their issue types against FHIR's value set), for the handler's own refusals, the gate's
    // and the router's.
    let mut outcomes = Vec::new();
    for (bad, token, status, issue) in [
        (
            "_type=Condition",
            Some(admin),
            StatusCode::BAD_REQUEST,
            "invalid",
        ),
        (
            "_since=yesterday",
            Some(admin),
            StatusCode::BAD_REQUEST,
            "invalid",
        ),
        (
            "_outputFormat=text/csv",
            Some(admin),
            StatusCode::BAD_REQUEST,
            "invalid",
        ),
        ("", None, StatusCode::UNAUTHORIZED, "login"),
    ] {
        let mut req = c.get(format!("{api}/fhir/Patient/$export?{bad}"));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let res = req.send().await.unwrap();
        assert_eq!(res.status(), status, "{bad}");
        assert_eq!(
            res.headers()["content-type"],
            "application/fhir+json",
            "{bad}"
        );
        let outcome: serde_json::Value = res.json().await.unwrap();
        assert_eq!(outcome["resourceType"], "OperationOutcome", "{outcome}");
        assert_eq!(outcome["issue"][0]["code"], issue, "{outcome}");
        outcomes.push(outcome.to_string());
    }
    let unknown = c
        .get(format!("{api}/fhir/bulk/0123456789abcdef0123456789abcdef"))
        .bearer_auth(admin)
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    let outcome: serde_json::Value = unknown.json().await.unwrap();
    assert_eq!(outcome["issue"][0]["code"], "not-found", "{outcome}");
    assert_eq!(
        outcome["issue"][0]["details"]["coding"][0]["code"], "not-found",
        "MHP's problem code: {outcome}"
    );
    outcomes.push(outcome.to_string());
    let outcomes: Vec<&str> = outcomes.iter().map(String::as_str).collect();
    mhp_test_support::fhir::validate(&outcomes);

    // Deleted: the status and the files are gone.
    let file = group["output"][0]["url"].as_str().unwrap().to_owned();
    let res = c
        .delete(&group_status)
        .bearer_auth(admin)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    assert_eq!(
        c.get(&group_status)
            .bearer_auth(admin)
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        download(file, Some(admin)).await.status(),
        StatusCode::NOT_FOUND
    );

    // Each subject exported is an audited read.
    let audit = json_of(
        c.get(format!("{api}/audit?action=subject.export_fhir&limit=100"))
            .bearer_auth(admin)
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert!(audit["items"].as_array().unwrap().len() >= 4, "{audit}");
}

/// An export outlives the instance that was asked: while another instance holds the export
/// lease (one that then stops, its lease left to run out), the export waits in the database;
/// this instance is killed; the next one, once the lease is free, writes it, attributed to
/// the person who asked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_export_asked_before_a_kill_is_written_by_the_next_instance() {
    use sqlx::Connection as _;

    let dir = tempfile::tempdir().unwrap();
    let org = bootstrap_org(dir.path(), "Durable bulk", &[]);
    let db = format!(
        "sqlite://{}",
        std::path::Path::new(&org.data).join("mhp.sqlite").display()
    );
    let lease = |until_ms: i64| {
        let db = db.clone();
        async move {
            let mut conn = sqlx::SqliteConnection::connect(&db).await.unwrap();
            sqlx::query(
                "INSERT INTO security_leases (name, holder, until_ms) \
                 VALUES ('fhir-exports', 'an-instance-that-stopped', $1) \
                 ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, \
                 until_ms = excluded.until_ms",
            )
            .bind(until_ms)
            .execute(&mut conn)
            .await
            .unwrap();
        }
    };
    lease(i64::MAX / 2).await;

    let c = reqwest::Client::new();
    let admin = org.admin.as_str();
    let mut first = MhpProcess::serve(MHP, &["--data-dir", &org.data], &[]);
    let api = format!("{}/api/v1/orgs/{}", first.base, org.org);
    let subject = json_of(
        c.post(format!("{api}/subjects"))
            .bearer_auth(admin)
            .json(&json!({"name": "Cy Durable", "sex": "male"}))
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
        .get(format!("{api}/fhir/Patient/$export"))
        .bearer_auth(admin)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    let job = res.headers()["content-location"]
        .to_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();
    first.kill();
    // The killed instance never held the lease: the export waits in the database.
    let mut conn = sqlx::SqliteConnection::connect(&db).await.unwrap();
    let (status,): (String,) = sqlx::query_as("SELECT status FROM fhir_exports WHERE id = $1")
        .bind(&job)
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(status, "in_progress");
    drop(conn);

    lease(0).await;
    let second = MhpProcess::serve(MHP, &["--data-dir", &org.data], &[]);
    let api = format!("{}/api/v1/orgs/{}", second.base, org.org);
    let status_url = format!("{api}/fhir/bulk/{job}");
    let deadline = Instant::now() + Duration::from_secs(60);
    let manifest = loop {
        let res = c.get(&status_url).bearer_auth(admin).send().await.unwrap();
        if res.status() == StatusCode::OK {
            break res.json::<Value>().await.unwrap();
        }
        assert_eq!(res.status(), StatusCode::ACCEPTED, "still in progress");
        assert!(
            Instant::now() < deadline,
            "the next instance never wrote the export"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(manifest["output"][0]["type"], "Patient", "{manifest}");
    let file = manifest["output"][0]["url"]
        .as_str()
        .unwrap()
        .replace(&first.base, &second.base);
    let ndjson = c
        .get(file)
        .bearer_auth(admin)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let patient: Value = serde_json::from_str(ndjson.lines().next().unwrap()).unwrap();
    assert_eq!(patient["id"], subject.as_str());
    // The read is the asker's, recorded by the instance that wrote it.
    let actors = |action: &'static str| {
        let c = c.clone();
        let url = format!("{api}/audit?action={action}&limit=10");
        async move {
            let audit = json_of(
                c.get(url).bearer_auth(admin).send().await.unwrap(),
                StatusCode::OK,
            )
            .await;
            audit["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["actor"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        }
    };
    let asked = actors("fhir.bulk_export").await;
    assert_eq!(asked.len(), 1);
    assert_eq!(actors("subject.export_fhir").await, asked);
}
