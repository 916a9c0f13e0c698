//! `mhp demo` builds an organisation through the API; the document index serves it and
//! `mhp index rebuild` rebuilds it from SQL.

use mhp_test_support::MhpProcess;
use serde_json::Value;

use crate::{MHP, mhp, printed_id, stderr, stdout};

#[tokio::test]
async fn the_demo_organisation_is_searchable_and_the_index_rebuilds() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data").display().to_string();
    let out = mhp(
        &[
            "demo",
            "--data-dir",
            &data,
            "--teams",
            "2",
            "--subjects-per-team",
            "4",
            "--weeks",
            "3",
        ],
        &[],
        None,
    );
    let org = printed_id(&out, "organisation:");
    let text = stdout(&out);
    let key = text
        .lines()
        .find_map(|l| {
            l.split_once("(shown once, expires in 30 days): ")
                .map(|(_, k)| k.to_owned())
        })
        .unwrap();
    let counts: Vec<usize> = text
        .lines()
        .find(|l| l.contains(" subjects, "))
        .unwrap()
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|n| n.parse().ok())
        .collect();
    let (teams, subjects, assessments) = (counts[0], counts[1], counts[2]);
    assert_eq!((teams, subjects), (2, 8), "{text}");
    assert!(assessments >= 20, "{text}");
    assert!(
        !stderr(&out).contains(&key),
        "the key is printed once, on stdout only"
    );

    let p = MhpProcess::serve(MHP, &["--data-dir", &data], &[]);
    let c = reqwest::Client::new();
    let api = format!("{}/api/v1/orgs/{org}", p.base);
    let get = |url: String| {
        let c = c.clone();
        let key = key.clone();
        async move {
            let res = c.get(url).bearer_auth(key).send().await.unwrap();
            assert_eq!(res.status(), 200);
            res.json::<Value>().await.unwrap()
        }
    };
    let listed = get(format!("{api}/subjects?limit=500")).await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 8);
    let docs = get(format!("{api}/analytics/assessments?limit=1000")).await;
    assert_eq!(docs.as_array().unwrap().len(), assessments);
    assert!(
        docs[0]["metrics"]["jump_height_impulse_m"]
            .as_f64()
            .unwrap()
            > 0.1
    );
    assert!(docs[0].get("name").is_none() && docs[0]["pseudonym"].is_string());
    let weeks = get(format!(
        "{api}/analytics/weekly?metric=jump_height_impulse_m"
    ))
    .await;
    let weeks = weeks.as_array().unwrap();
    assert_eq!(weeks.len(), 3, "{weeks:?}");
    for w in weeks {
        let (p10, p50, p90) = (
            w["p10"].as_f64().unwrap(),
            w["p50"].as_f64().unwrap(),
            w["p90"].as_f64().unwrap(),
        );
        assert!(p10 <= p50 && p50 <= p90 && (0.1..0.8).contains(&p50), "{w}");
    }
    // A range filter narrows; an unknown metric name is refused.
    let high = get(format!(
        "{api}/analytics/assessments?metric=jump_height_impulse_m&min=0.4&limit=1000"
    ))
    .await;
    assert!(high.as_array().unwrap().len() < assessments);
    let res = c
        .get(format!(
            "{api}/analytics/weekly?metric=Robert'); DROP TABLE docs;--"
        ))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    drop(p);

    // The index is rebuilt from SQL after it is lost.
    std::fs::remove_file(std::path::Path::new(&data).join("index.sqlite")).unwrap();
    let rebuilt = mhp(&["index", "rebuild", "--data-dir", &data], &[], None);
    assert_eq!(rebuilt.status.code(), Some(0), "{}", stderr(&rebuilt));
    assert_eq!(
        stdout(&rebuilt).trim(),
        format!("indexed {assessments} assessment(s) of 1 organisation(s)")
    );
}
