//! Norms over a reference population built in storage: percentiles, T-scores, baselines and
//! the smallest worthwhile change, as the API reports them.

use mhp_domain::{AssessmentId, Role, Sex, SubjectId, Timestamp};
use mhp_storage::Access;
use mhp_storage::repo::assessments::{self, AnalysisResult, Assessment, Source};
use mhp_storage::repo::subjects::{self, NewSubject};
use reqwest::StatusCode;
use serde_json::Value;

use crate::matrix::{far_future, key};
use crate::{Server, quick, spawn};

async fn subject(s: &Server, sex: Sex) -> SubjectId {
    let id = SubjectId::new();
    let row = id.to_string();
    let at = mhp_app::phi::FieldAt {
        org: s.org.org(),
        table: "subjects",
        column: "name",
        row: &row,
    };
    let new = NewSubject {
        name: s
            .state
            .app
            .phi
            .for_write(at.org, id)
            .await
            .unwrap()
            .seal(at, "Person")
            .unwrap(),
        birth_date: None,
        external_id: None,
        sex: Some(sex),
        sport: Some("rugby".into()),
        user: None,
        search: Default::default(),
    };
    let mut tx = s.state.app.db.tenant(&s.org, Access::Write).await.unwrap();
    subjects::create_with_id(&mut tx, id, new, s.state.app.clock.now())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    id
}

/// An assessment of two trials whose jump heights average `height`.
async fn assessment(s: &Server, subject: SubjectId, day: i64, height: f64) {
    let at = Timestamp::from_millis(1_760_000_000_000 + day * 86_400_000);
    let a = Assessment {
        id: AssessmentId::new(),
        subject,
        kind: "cmj".into(),
        recorded_at: at,
        source: Source::User,
        uploaded_by: "test".into(),
        format: "csv".into(),
        raw_object_key: "x".into(),
        raw_sha256: "00".into(),
        raw_bytes: 1,
        idempotency_key: None,
        analysis_version: "v".into(),
        created_at: at,
        options: Default::default(),
    };
    let r = AnalysisResult {
        analysis_version: "v".into(),
        computed_at: at,
        trials: 2,
        blocked_trials: 0,
        report_json: "{}".into(),
        metrics: vec![
            (0, "jump_height_impulse_m".into(), height - 0.01),
            (1, "jump_height_impulse_m".into(), height + 0.01),
        ],
    };
    let mut tx = s.state.app.db.tenant(&s.org, Access::Write).await.unwrap();
    assessments::create(&mut tx, &a, &r).await.unwrap();
    tx.commit().await.unwrap();
}

#[tokio::test]
async fn percentiles_t_scores_and_change_from_baseline() {
    let s = spawn(quick()).await;
    let (_, admin) = key(&s, &s.org, Role::Clinician, far_future(&s)).await;
    // Five others at 0.30, 0.32, 0.34, 0.36, 0.38 (their latest; earlier values do not count).
    let mut others = Vec::new();
    for (i, h) in [0.30, 0.32, 0.34, 0.36, 0.38].into_iter().enumerate() {
        let other = subject(&s, if i % 2 == 0 { Sex::Male } else { Sex::Female }).await;
        assessment(&s, other, 0, 0.10).await;
        assessment(&s, other, 1, h).await;
        others.push(other);
    }
    // The subject: a baseline of 0.40 over three sessions, then 0.35.
    let me = subject(&s, Sex::Female).await;
    for day in 0..3 {
        assessment(&s, me, day, 0.40).await;
    }
    assessment(&s, me, 5, 0.35).await;

    let url = format!("{}/api/v1/orgs/{}/subjects/{me}/norms", s.base, s.org.org());
    let res = reqwest::Client::new()
        .get(&url)
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    let m = body["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["metric"] == "jump_height_impulse_m")
        .unwrap()
        .clone();
    // Population: 0.30 0.32 0.34 0.35 0.36 0.38 → mean 0.341667, sample SD 0.028577.
    assert_eq!(m["population_size"], 6, "{m}");
    assert!((m["value"].as_f64().unwrap() - 0.35).abs() < 1e-9);
    assert!(
        (m["percentile"].as_f64().unwrap() - 58.3).abs() < 1e-9,
        "{m}"
    );
    assert!((m["t_score"].as_f64().unwrap() - 52.9).abs() < 1e-9, "{m}");
    assert!((m["baseline"].as_f64().unwrap() - 0.40).abs() < 1e-9);
    assert_eq!(m["baseline_assessments"], 3);
    assert!((m["change"].as_f64().unwrap() + 0.05).abs() < 1e-9);
    assert!((m["change_pct"].as_f64().unwrap() + 12.5).abs() < 1e-9);
    assert!(
        (m["smallest_worthwhile_change"].as_f64().unwrap() - 0.005715).abs() < 1e-6,
        "{m}"
    );
    assert_eq!(m["meaningful_change"], true);

    // Against women only: the subject and two others — too few for percentiles.
    let body: Value = reqwest::Client::new()
        .get(format!("{url}?population=sex"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let m = &body["metrics"][0];
    assert_eq!(body["population"], "sex");
    assert_eq!(m["population_size"], 3, "{body}");
    assert!(m["percentile"].is_null() && m["t_score"].is_null());
    assert!(
        m["baseline"].as_f64().is_some(),
        "the baseline does not depend on the population"
    );

    // An athlete archived leaves the population at once, though populations are reused.
    let res = reqwest::Client::new()
        .delete(format!(
            "{}/api/v1/orgs/{}/subjects/{}",
            s.base,
            s.org.org(),
            others[0]
        ))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let m = jump_height_norm(&url, &admin).await;
    assert_eq!(m["population_size"], 5, "{m}");
}

/// The norm of jump height in the answer of `url`.
async fn jump_height_norm(url: &str, key: &str) -> Value {
    let body: Value = reqwest::Client::new()
        .get(url)
        .bearer_auth(key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    body["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["metric"] == "jump_height_impulse_m")
        .unwrap()
        .clone()
}

/// Reliability beside the value, computed by hand: the latest assessment's two reps differ by
/// 0.02 (SD 0.014142 over 0.35: CV 4.04 %); baseline means 0.40 0.42 0.39 0.41 differ by 0.02,
/// −0.03, 0.02 (SD 0.028868, typical error 0.020412, MDC95 0.056580); the change from the
/// baseline mean 0.405 is −0.055, inside the MDC95.
#[tokio::test]
async fn reliability_beside_the_value() {
    let s = spawn(quick()).await;
    let (_, clinician) = key(&s, &s.org, Role::Clinician, far_future(&s)).await;
    let me = subject(&s, Sex::Male).await;
    for (day, h) in [0.40, 0.42, 0.39, 0.41].into_iter().enumerate() {
        assessment(&s, me, i64::try_from(day).unwrap(), h).await;
    }
    assessment(&s, me, 9, 0.35).await;
    let url = format!("{}/api/v1/orgs/{}/subjects/{me}/norms", s.base, s.org.org());
    let m = &jump_height_norm(&url, &clinician).await;
    let f = |k: &str| m[k].as_f64().unwrap_or_else(|| panic!("{k} in {m}"));
    assert!((f("within_session_cv_pct") - 4.04).abs() < 1e-9, "{m}");
    assert_eq!(m["latest_reps"], 2);
    assert!((f("typical_error") - 0.020412).abs() < 1e-6, "{m}");
    assert!((f("mdc95") - 0.05658).abs() < 1e-6, "{m}");
    assert!((f("change") + 0.055).abs() < 1e-9, "{m}");
    assert_eq!(m["change_exceeds_mdc95"], false, "{m}");
}

#[tokio::test]
async fn the_openapi_document_and_its_page_are_served() {
    let s = spawn(quick()).await;
    let res = reqwest::get(format!("{}/api/v1/openapi.json", s.base))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let doc: Value = res.json().await.unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    for r in mhp_server::api::ROUTES {
        assert!(
            doc["paths"][r.path][r.method.to_ascii_lowercase()].is_object(),
            "{} {} missing from the document",
            r.method,
            r.path
        );
    }
    let res = reqwest::get(format!("{}/api/v1/docs", s.base))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let csp = res.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        csp.contains("script-src 'sha256-") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    let page = res.text().await.unwrap();
    assert!(page.contains("/api/v1/openapi.json"));
}
