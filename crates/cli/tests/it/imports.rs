//! Bulk import through the real binary: a roster, its training loads, injuries and
//! return-to-duty decisions in CSV or NDJSON are each taken whole or not at all, every row
//! that cannot be taken reported by number, without its content.

use mhp_test_support::MhpProcess;
use reqwest::StatusCode;
use serde_json::json;

use crate::{MHP, bootstrap_org, json_of};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_roster_is_imported_whole_or_not_at_all_on_sqlite() {
    roster_import(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_roster_is_imported_whole_or_not_at_all_on_postgres() {
    let Some(url) = mhp_test_support::fresh_postgres().await else {
        return;
    };
    roster_import(Some(url)).await;
}

async fn roster_import(database_url: Option<String>) {
    let dir = tempfile::tempdir().unwrap();
    let env: Vec<(&str, &str)> = database_url
        .as_deref()
        .map(|u| vec![("DATABASE_URL", u)])
        .unwrap_or_default();
    let org = bootstrap_org(dir.path(), "Importing", &env);
    let p = MhpProcess::serve(MHP, &["--data-dir", &org.data], &env);
    let c = reqwest::Client::new();
    let api = format!("{}/api/v1/orgs/{}", p.base, org.org);
    let admin = org.admin.as_str();
    let team = json_of(
        c.post(format!("{api}/teams"))
            .bearer_auth(admin)
            .json(&json!({"name": "Backs"}))
            .send()
            .await
            .unwrap(),
        StatusCode::CREATED,
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let import = |body: String, media: &'static str| {
        let c = c.clone();
        let url = format!("{api}/import/subjects");
        async move {
            c.post(url)
                .bearer_auth(admin)
                .header("content-type", media)
                .body(body)
                .send()
                .await
                .unwrap()
        }
    };
    let count = || {
        let c = c.clone();
        let url = format!("{api}/subjects?limit=500&archived=include");
        async move {
            json_of(
                c.get(url).bearer_auth(admin).send().await.unwrap(),
                StatusCode::OK,
            )
            .await["items"]
                .as_array()
                .unwrap()
                .len()
        }
    };

    // Two rows cannot be taken: nothing is stored, both are named, their content is not.
    let bad = format!(
        "name,external_id,birth_date,sex,sport,teams\n\
         \"Quartermain, Ada\",SN-1,1999-04-01,female,Rugby,{team}\n\
         ,SN-2,,,,\n\
         Bo Secret-Name,SN-3,2999-01-01,male,,\n\
         Cy Dup,SN-1,,,,\n"
    );
    let refused = json_of(
        import(bad, "text/csv").await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    let rows: Vec<i64> = refused["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["row"].as_i64().unwrap())
        .collect();
    assert_eq!(rows, [2, 3, 4], "{refused}");
    assert!(!refused.to_string().contains("Secret-Name"), "{refused}");
    assert_eq!(count().await, 0, "nothing stored");

    let good = format!(
        "name,external_id,birth_date,sex,sport,teams\n\
         \"Quartermain, Ada\",SN-1,1999-04-01,female,Rugby,{team}\n\
         Bo Lind,SN-3,2001-02-03,male,,\n"
    );
    let made = json_of(import(good, "text/csv").await, StatusCode::CREATED).await;
    assert_eq!(made["imported"], 2);
    let ada = made["ids"][0].as_str().unwrap().to_owned();
    let bo = made["ids"][1].as_str().unwrap().to_owned();
    let ndjson = format!(
        "{}\n{}\n",
        json!({"name": "Cy Okafor", "external_id": "SN-4", "sex": "other", "teams": [team]}),
        json!({"name": "Di Moreau", "sport": "rowing"})
    );
    let made = json_of(
        import(ndjson, "application/x-ndjson").await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(made["imported"], 2);
    assert_eq!(count().await, 4);
    let first = made["ids"][0].as_str().unwrap();
    let cy = json_of(
        c.get(format!("{api}/subjects/{first}"))
            .bearer_auth(admin)
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(cy["name"], "Cy Okafor");
    let members = json_of(
        c.get(format!("{api}/teams/{team}/subjects"))
            .bearer_auth(admin)
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    let mut names: Vec<&str> = members["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    names.sort_unstable();
    assert_eq!(names, ["Cy Okafor", "Quartermain, Ada"], "{members}");

    // An external id already stored refuses the row, and the import with it.
    let again = import(
        "name,external_id\nEd New,SN-3\nFay New,SN-9\n".into(),
        "text/csv",
    )
    .await;
    let refused = json_of(again, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(refused["errors"][0]["row"], 1, "{refused}");
    assert_eq!(count().await, 4);
    // An unknown column, or a body that is neither, is refused whole.
    let res = import("name,colour\nx,red\n".into(), "text/csv").await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let res = import("{}".into(), "application/json").await;
    assert_eq!(res.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);

    records_import(&c, &api, admin, &ada, &bo).await;
}

/// Loads, injuries and decisions of the roster above (Ada is SN-1, Bo SN-3), each kind
/// refused whole with its bad rows named, then taken; every record is then where the
/// single-record routes show it.
async fn records_import(c: &reqwest::Client, api: &str, admin: &str, ada: &str, bo: &str) {
    let post = |kind: &'static str, body: String, media: &'static str| {
        let c = c.clone();
        let url = format!("{api}/import/{kind}");
        async move {
            c.post(url)
                .bearer_auth(admin)
                .header("content-type", media)
                .body(body)
                .send()
                .await
                .unwrap()
        }
    };
    let get = |path: String| {
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
    let rows_of = |problem: &serde_json::Value| -> Vec<i64> {
        problem["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["row"].as_i64().unwrap())
            .collect()
    };
    let loads_of = |subject: &str| {
        get(format!(
            "/subjects/{subject}/loads?from=2026-01-01&to=2026-12-31"
        ))
    };

    // Loads: an unknown external id, a rating off the scale, a day to come, no subject, and
    // both references at once.
    let bad = format!(
        "subject,external_id,session_date,session_type,duration_min,rpe\n\
         ,SN-1,2026-11-02,training,60,6\n\
         ,SN-404,2026-11-02,training,60,6\n\
         {ada},,2026-11-03,match,80,11\n\
         {ada},,2999-01-01,training,30,3\n\
         ,,2026-11-04,training,30,3\n\
         {bo},SN-3,2026-11-04,training,30,3\n\
         ,SN-3,2026-11-04,training,lots,3\n"
    );
    let refused = json_of(
        post("loads", bad, "text/csv").await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(rows_of(&refused), [2, 3, 4, 5, 6, 7], "{refused}");
    assert!(!refused.to_string().contains("SN-404"), "{refused}");
    assert_eq!(
        loads_of(ada).await["entries"].as_array().unwrap().len(),
        0,
        "nothing stored"
    );

    let good = format!(
        "{}\n{}\n{}\n",
        json!({"external_id": "SN-1", "session_date": "2026-11-02", "session_type": "training", "duration_min": 60, "rpe": 6}),
        json!({"subject": ada, "session_date": "2026-11-03", "session_type": "match", "duration_min": 80, "rpe": 8}),
        json!({"external_id": "SN-3", "session_date": "2026-11-03", "session_type": "training", "duration_min": 45, "rpe": 4}),
    );
    let made = json_of(
        post("loads", good, "application/x-ndjson").await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(made["imported"], 3, "{made}");
    let ada_loads = loads_of(ada).await;
    let mut au: Vec<i64> = ada_loads["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["load_au"].as_i64().unwrap())
        .collect();
    au.sort_unstable();
    assert_eq!(au, [360, 640], "{ada_loads}");
    assert_eq!(loads_of(bo).await["entries"][0]["load_au"], 180);

    // Injuries: a bad side, neither severity nor time loss, an archived-or-unknown subject.
    let bad =
        "external_id,body_region,injury_type,side,mechanism,occurred_on,time_loss_days,notes\n\
               SN-1,knee,ligament_sprain,left,non_contact,2026-11-05,21,Private note\n\
               SN-1,knee,ligament_sprain,upper,non_contact,2026-11-05,21,\n\
               SN-3,ankle,sprain,right,contact,2026-11-05,,\n\
               SN-77,ankle,sprain,right,contact,2026-11-05,3,\n"
            .to_owned();
    let refused = json_of(
        post("injuries", bad, "text/csv").await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(rows_of(&refused), [2, 3, 4], "{refused}");
    assert!(!refused.to_string().contains("Private"), "{refused}");
    assert_eq!(
        get(format!("/subjects/{ada}/injuries")).await,
        json!([]),
        "nothing stored"
    );

    let good =
        "external_id,body_region,injury_type,side,mechanism,occurred_on,time_loss_days,notes\n\
                SN-1,knee,ligament_sprain,left,non_contact,2026-11-05,21,Private note\n\
                SN-3,ankle,sprain,right,contact,2026-11-06,3,\n"
            .to_owned();
    let made = json_of(
        post("injuries", good, "text/csv").await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(made["imported"], 2, "{made}");
    let knee = made["ids"][0].as_str().unwrap().to_owned();
    let ankle = made["ids"][1].as_str().unwrap().to_owned();
    let injuries = get(format!("/subjects/{ada}/injuries")).await;
    assert_eq!(injuries[0]["id"], knee.as_str(), "{injuries}");
    assert_eq!(
        injuries[0]["severity"], "moderate",
        "derived from 21 days: {injuries}"
    );
    assert_eq!(
        injuries[0]["notes"], "Private note",
        "sealed and opened: {injuries}"
    );

    // Decisions: one dated before its injury, one of no injury, an unknown stage.
    let bad = format!(
        "injury,stage,decided_on,restrictions\n\
         {knee},rehabilitation,2026-11-07,No running\n\
         {ankle},cleared,2026-11-01,\n\
         01890000-0000-7000-8000-000000000000,cleared,2026-11-10,\n\
         {knee},healed,2026-11-10,\n"
    );
    let refused = json_of(
        post("decisions", bad, "text/csv").await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(rows_of(&refused), [2, 3, 4], "{refused}");
    let injuries = get(format!("/subjects/{ada}/injuries")).await;
    assert_eq!(
        injuries[0]["decisions"],
        json!([]),
        "nothing stored: {injuries}"
    );

    let good = format!(
        "injury,stage,decided_on,restrictions\n\
         {knee},rehabilitation,2026-11-07,No running\n\
         {knee},cleared,2026-11-20,\n\
         {ankle},cleared,2026-11-09,\n"
    );
    let made = json_of(
        post("decisions", good, "text/csv").await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(made["imported"], 3, "{made}");
    let injuries = get(format!("/subjects/{ada}/injuries")).await;
    assert_eq!(injuries[0]["stage"], "cleared", "{injuries}");
    assert_eq!(
        injuries[0]["decisions"].as_array().unwrap().len(),
        2,
        "{injuries}"
    );
    assert_eq!(
        get(format!("/subjects/{bo}/injuries")).await[0]["stage"],
        "cleared"
    );
}
