//! Bulk import through the real binary: a roster in CSV or NDJSON is taken whole or not at
//! all, every row that cannot be taken reported by number, without its content.

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
}
