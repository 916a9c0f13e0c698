//! An ONNX model made by scikit-learn (tools/ml/make_risk_onnx.py) imported through the API:
//! checked against the platform's feature schema and scikit-learn's own probabilities, refused
//! when broken, approved into production, then scoring and evaluation run with it.

use std::time::Duration;

use axum::body::Body;
use axum::http::Request;
use base64::Engine as _;
use mhp_demo::{DemoSpec, iso_date, plan};
use mhp_domain::pipeline::{RISK_MODEL, SCORE_ALL, TRAIN};
use mhp_domain::{Role, Timestamp};
use mhp_storage::Access;
use mhp_storage::repo::api_keys::{self, NewApiKey};
use mhp_storage::repo::models;
use mhp_storage::repo::risk;
use serde_json::{Value, json};
use tower::ServiceExt as _;

use crate::support::{output, run_ok as run};
use crate::{Backend, Env, env, seed};

const ONNX: &[u8] = include_bytes!("../fixtures/risk_logistic.onnx");
const CHECKS: &str = include_str!("../fixtures/risk_logistic.json");

async fn api_key(env: &Env, role: Role) -> String {
    let minted = mhp_auth::api_key::mint();
    let mut tx = env.tx(Access::Write).await;
    api_keys::create(
        &mut tx,
        &NewApiKey {
            id: &minted.id,
            name: "test",
            role,
            secret_sha256: &minted.secret_sha256,
            created_by: "test",
            expires_at: Timestamp::from_millis(env.state.app.clock.now().as_millis() + 86_400_000),
        },
        env.state.app.clock.now(),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    minted.token.expose().clone()
}

async fn call(env: &Env, key: &str, method: &str, path: &str, body: &Value) -> (u16, Value) {
    let router = mhp_server::router(env.state.clone(), &mhp_server::HttpConfig::default());
    let req = Request::builder()
        .method(method)
        .uri(format!("/api/v1/orgs/{}{path}", env.scope.org()))
        .header("authorization", format!("Bearer {key}"))
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap();
    let res = router.oneshot(req).await.unwrap();
    let status = res.status().as_u16();
    let bytes = axum::body::to_bytes(res.into_body(), 1 << 24)
        .await
        .unwrap();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

async fn an_imported_model_is_checked_approved_and_scores(backend: Backend) {
    let spec = DemoSpec {
        teams: 2,
        subjects_per_team: 40,
        weeks: 20,
        ..DemoSpec::default()
    };
    let org = plan(&spec).unwrap();
    let end = spec.start_day + 7 * spec.weeks as i64;
    let Some(env) = env(
        backend,
        Timestamp::from_millis(end * 86_400_000 + 3_600_000),
    )
    .await
    else {
        return;
    };
    seed::store(&env, &org).await;
    let scientist = api_key(&env, Role::DataScientist).await;
    let admin = api_key(&env, Role::OrgAdmin).await;
    let checks: Value = serde_json::from_str(CHECKS).unwrap();
    let upload = |onnx: &[u8], features: &Value| {
        json!({
            "onnx_base64": base64::engine::general_purpose::STANDARD.encode(onnx),
            "features": features,
            "samples": checks["samples"],
            "expected": checks["expected"],
            "tolerance": 1e-4,
            "reference": checks["reference"],
        })
    };
    let path = format!("/models/{RISK_MODEL}/onnx");

    // Refused, with a reason, and nothing registered: a truncated file, the wrong schema,
    // probabilities that are not scikit-learn's.
    let (status, problem) = call(
        &env,
        &scientist,
        "POST",
        &path,
        &upload(&ONNX[..200], &checks["features"]),
    )
    .await;
    assert_eq!(status, 422, "{problem}");
    let mut wrong = checks["features"].clone();
    wrong.as_array_mut().unwrap().swap(0, 1);
    let (status, problem) = call(&env, &scientist, "POST", &path, &upload(ONNX, &wrong)).await;
    assert_eq!(status, 422);
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("platform's injury-risk features"),
        "{problem}"
    );
    let mut lying = upload(ONNX, &checks["features"]);
    lying["expected"][0] = json!(0.999);
    let (status, problem) = call(&env, &scientist, "POST", &path, &lying).await;
    assert_eq!(status, 422, "{problem}");
    let mut tx = env.tx(Access::Read).await;
    assert!(
        models::versions(&mut tx, RISK_MODEL)
            .await
            .unwrap()
            .is_empty()
    );
    drop(tx);

    // Accepted: a candidate until a person approves it.
    let (status, v) = call(
        &env,
        &scientist,
        "POST",
        &path,
        &upload(ONNX, &checks["features"]),
    )
    .await;
    assert_eq!(status, 201, "{v}");
    assert_eq!(
        (v["kind"].as_str(), v["stage"].as_str()),
        (Some("onnx"), Some("candidate"))
    );
    let id = v["id"].as_str().unwrap().to_owned();
    let stage = json!({ "stage": "production" });
    let (status, _) = call(
        &env,
        &scientist,
        "POST",
        &format!("/model-versions/{id}/stage"),
        &stage,
    )
    .await;
    assert_eq!(status, 403, "a data scientist cannot approve");
    let (status, v) = call(
        &env,
        &admin,
        "POST",
        &format!("/model-versions/{id}/stage"),
        &stage,
    )
    .await;
    assert_eq!((status, v["stage"].as_str()), (200, Some("production")));

    // Scores come from the imported model, with explanations.
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let config = mhp_pipelines::WorkerConfig {
        poll: Duration::from_millis(50),
        ..mhp_pipelines::WorkerConfig::new("onnx-test")
    };
    let registry = std::sync::Arc::new(mhp_pipelines::catalogue().unwrap());
    mhp_pipelines::start(&env.state.app, registry, 1, &config, &stopped);
    run(&env, SCORE_ALL, json!({ "as_of": iso_date(end) })).await;
    let mut tx = env.tx(Access::Read).await;
    let scores = risk::latest(&mut tx).await.unwrap();
    drop(tx);
    assert!(scores.len() > 40, "{}", scores.len());
    for s in &scores {
        assert_eq!(s.model_version.to_string(), id);
        assert!(s.probability > 0.0 && s.probability < 1.0);
        let top: Vec<Value> = serde_json::from_str(&s.contributions_json).unwrap();
        assert_eq!(top.len(), 3);
    }
    // A trained candidate is judged against the imported production model on the same rows.
    let train = run(
        &env,
        TRAIN,
        json!({ "as_of": iso_date(end), "season_start": iso_date(spec.start_day) }),
    )
    .await;
    let ev = output(&env, train, "evaluate").await;
    assert_eq!(ev["production"]["version_id"].as_str(), Some(id.as_str()));
    assert!(
        ev["production"]["evaluation"]["overall"]["roc_auc"]
            .as_f64()
            .unwrap()
            > 0.5
    );
    let _ = stop.send(true);
}

crate::on_both_backends!(an_imported_model_is_checked_approved_and_scores);
