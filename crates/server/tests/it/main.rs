//! The server's router and middleware, served on a random port over a real SQLite database.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod keys;
mod matrix;
mod norms;
mod pages;
mod sign_in;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::routing::{get, post};
use mhp_domain::{OrgName, OrgScope, SystemClock, TeamName};
use mhp_server::{ApiError, ApiJson, AppState, HttpConfig, Readiness};
use mhp_storage::repo::{Page, orgs, teams};
use mhp_storage::{Access, Db, DbOptions, migrate};
use reqwest::StatusCode;
use serde_json::Value;
use tokio::sync::oneshot;

/// A queued run of the pipeline `name` in `org`, asked for through the API.
pub async fn fixture_run(s: &Server, org: &OrgScope, name: &str) -> mhp_domain::RunId {
    let now = s.state.app.clock.now();
    let mut tx = s.state.app.db.tenant(org, Access::Write).await.unwrap();
    let run = mhp_storage::repo::pipelines::enqueue(
        &mut tx,
        &mhp_storage::repo::pipelines::NewRun {
            pipeline: mhp_domain::pipeline::pipeline(name).unwrap(),
            trigger: mhp_domain::pipeline::Trigger::Api,
            requested_by: "test",
            params_json: "{}",
            not_before: now,
        },
        now,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    run
}

/// A training run of `org` whose `dataset` step succeeded with a small de-identified file
/// (two pseudonyms, one feature), sealed in the object store as the step seals it.
pub async fn fixture_dataset(s: &Server, org: &OrgScope) -> mhp_domain::RunId {
    use mhp_app::datasets::{DatasetFile, DatasetRow};
    let now = s.state.app.clock.now();
    let run = fixture_run(s, org, mhp_domain::pipeline::TRAIN).await;
    let row = |subject: &str, day: i64, value: f64, label: bool| DatasetRow {
        subject: subject.into(),
        day,
        sex: "female".into(),
        sport: "rugby".into(),
        age_years: Some(24),
        values: vec![Some(value)],
        label,
    };
    let file = DatasetFile::without_empty_columns(
        vec!["jump_height_z".into()],
        7,
        vec![
            row("p-one", 20_000, 0.5, false),
            row("p-two", 20_007, -1.25, true),
        ],
    );
    let key = format!("pipelines/{}/{run}/dataset.json", org.org());
    mhp_app::artifacts::put(
        s.state.app.phi.keys(),
        &s.state.app.objects,
        org.org(),
        &mhp_storage::ObjectKey::parse(&key).unwrap(),
        &serde_json::to_vec(&file).unwrap(),
    )
    .await
    .unwrap();
    let output = serde_json::json!({
        "artifact": key, "fingerprint": "ab".repeat(32), "rows": 2, "positives": 1,
        "subjects": 2, "stale_injuries": 0, "features": ["jump_height_z"], "as_of": "2024-10-20",
    });
    let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&s.url)
        .await
        .unwrap();
    sqlx::query(
        "UPDATE pipeline_jobs SET status = 'succeeded', output_json = $1, finished_at_ms = $2 \
         WHERE run_id = $3 AND step = 'dataset'",
    )
    .bind(output.to_string())
    .bind(now.as_millis())
    .bind(run.to_string())
    .execute(&mut conn)
    .await
    .unwrap();
    // Its evaluation's per-row predictions.
    let predictions = mhp_app::datasets::PredictionsFile {
        cutoff_day: 20_007,
        moderate: 0.05,
        high: 0.1,
        rows: vec![mhp_app::datasets::PredictionRow {
            subject: "p-two".into(),
            day: 20_007,
            label: true,
            probability: 0.2,
        }],
    };
    let key = format!("pipelines/{}/{run}/predictions.json", org.org());
    mhp_app::artifacts::put(
        s.state.app.phi.keys(),
        &s.state.app.objects,
        org.org(),
        &mhp_storage::ObjectKey::parse(&key).unwrap(),
        &serde_json::to_vec(&predictions).unwrap(),
    )
    .await
    .unwrap();
    sqlx::query(
        "UPDATE pipeline_jobs SET status = 'succeeded', output_json = $1, finished_at_ms = $2 \
         WHERE run_id = $3 AND step = 'evaluate'",
    )
    .bind(serde_json::json!({ "predictions": { "artifact": key, "rows": 1 } }).to_string())
    .bind(now.as_millis())
    .bind(run.to_string())
    .execute(&mut conn)
    .await
    .unwrap();
    run
}

#[allow(missing_debug_implementations)]
pub struct Server {
    pub base: String,
    pub state: AppState,
    pub org: OrgScope,
    pub url: String,
    pub outbox: std::path::PathBuf,
    /// Holds `/test/held` requests open until the test lets them go.
    pub held: Held,
    stop: Option<oneshot::Sender<()>>,
    done: tokio::task::JoinHandle<std::io::Result<()>>,
    _dir: mhp_test_support::SqliteDb,
}

/// The gate of `/test/held`: the handler counts itself in, then waits for the release, so a
/// test knows when a request is in flight and decides when it ends.
#[derive(Clone, Debug)]
pub struct Held {
    started: Arc<tokio::sync::watch::Sender<u32>>,
    release: Arc<tokio::sync::watch::Sender<bool>>,
}

impl Held {
    fn new() -> Self {
        Self {
            started: Arc::new(tokio::sync::watch::Sender::new(0)),
            release: Arc::new(tokio::sync::watch::Sender::new(false)),
        }
    }

    /// Waits (at most 10 s) until `n` held requests have reached their handler.
    pub async fn wait_started(&self, n: u32) {
        let mut started = self.started.subscribe();
        tokio::time::timeout(Duration::from_secs(10), started.wait_for(|s| *s >= n))
            .await
            .unwrap_or_else(|_| panic!("{n} held request(s) never reached the handler"))
            .unwrap();
    }

    /// Lets every held request (and any later one) answer.
    pub fn release(&self) {
        self.release.send_replace(true);
    }
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct NewTeam {
    name: String,
}

/// A route that writes, to show that refused requests write nothing.
async fn create_team(
    State((state, org)): State<(AppState, OrgScope)>,
    ApiJson(body): ApiJson<NewTeam>,
) -> Result<StatusCode, ApiError> {
    let name =
        TeamName::parse(&body.name).map_err(|e| ApiError::BadRequest(format!("name {e}")))?;
    let mut tx = state.app.db.tenant(&org, Access::Write).await?;
    teams::create(&mut tx, &name, state.app.clock.now()).await?;
    tx.commit().await?;
    Ok(StatusCode::CREATED)
}

/// Slower than a request time-out a test sets.
async fn slow() -> &'static str {
    tokio::time::sleep(Duration::from_millis(600)).await;
    "done"
}

/// In flight until the test releases it.
async fn held(State(gate): State<Held>) -> &'static str {
    let mut release = gate.release.subscribe();
    gate.started.send_modify(|n| *n += 1);
    let _ = release.wait_for(|go| *go).await;
    "done"
}

pub async fn spawn(config: HttpConfig) -> Server {
    spawn_with_clock(config, Arc::new(SystemClock)).await
}

pub async fn spawn_with_clock(config: HttpConfig, clock: Arc<dyn mhp_domain::Clock>) -> Server {
    let fresh = mhp_test_support::fresh_sqlite();
    let db = Db::connect(&fresh.url, &DbOptions::default())
        .await
        .unwrap();
    migrate::run(&db).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let state = mhp_server::local_state_at(fresh.dir.path(), db.clone(), clock, &base)
        .await
        .unwrap();
    let mut tx = db.operator(Access::Write).await.unwrap();
    let org = orgs::create(
        &mut tx,
        &OrgName::parse("Test org").unwrap(),
        state.app.clock.now(),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let org = OrgScope::for_operator(org.id, "test");

    let test_routes = Router::new()
        .route("/test/teams", post(create_team))
        .with_state((state.clone(), org));
    let gate = Held::new();
    let held_route = Router::new()
        .route("/test/held", get(held))
        .with_state(gate.clone());
    let app = mhp_server::routes(&state)
        .route("/test/slow", get(slow))
        .with_state(state.clone())
        .merge(test_routes)
        .merge(held_route);
    let app = mhp_server::with_layers(app, state.clone(), &config);

    let (stop, stopped) = oneshot::channel::<()>();
    let readiness: Arc<Readiness> = state.readiness.clone();
    let done = tokio::spawn(async move {
        mhp_server::serve(listener, app, readiness, &config, async {
            let _ = stopped.await;
        })
        .await
    });
    Server {
        base,
        state,
        org,
        url: fresh.url.clone(),
        outbox: fresh.dir.path().join("outbox"),
        held: gate,
        stop: Some(stop),
        done,
        _dir: fresh,
    }
}

async fn team_count(s: &Server) -> usize {
    let mut tx = s.state.app.db.tenant(&s.org, Access::Read).await.unwrap();
    teams::list(&mut tx, Page::first(500)).await.unwrap().len()
}

pub fn quick() -> HttpConfig {
    HttpConfig {
        body_limit_bytes: 1024,
        request_timeout: Duration::from_secs(5),
        drain_delay: Duration::from_millis(300),
        shutdown_grace: Duration::from_secs(5),
        trusted_proxies: Vec::new(),
    }
}

pub async fn problem(res: reqwest::Response, status: StatusCode) -> Value {
    assert_eq!(res.status(), status);
    assert_eq!(
        res.headers()["content-type"].to_str().unwrap(),
        "application/problem+json"
    );
    let request_id = res.headers()["x-request-id"].to_str().unwrap().to_owned();
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["status"], status.as_u16());
    assert_eq!(body["request_id"], request_id.as_str(), "{body}");
    assert!(
        body["type"]
            .as_str()
            .unwrap()
            .starts_with("urn:mhp:problem:")
    );
    body
}

#[tokio::test]
async fn health_and_readiness_answer_with_security_headers() {
    let s = spawn(quick()).await;
    let c = reqwest::Client::new();
    let res = c.get(format!("{}/healthz", s.base)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    for (h, v) in [
        ("x-content-type-options", "nosniff"),
        ("x-frame-options", "DENY"),
        ("referrer-policy", "no-referrer"),
        ("cache-control", "no-store"),
    ] {
        assert_eq!(res.headers()[h], v, "{h}");
    }
    assert!(
        res.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("default-src 'none'")
    );
    let ready: Value = c
        .get(format!("{}/readyz", s.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ready["status"], "ready");
    assert_eq!(ready["checks"]["database"], "ok");
    assert_eq!(ready["checks"]["backend"], "sqlite");
}

#[tokio::test]
async fn request_ids_are_echoed_when_plain_and_minted_otherwise() {
    let s = spawn(quick()).await;
    let c = reqwest::Client::new();
    let get = |id: &'static str| {
        c.get(format!("{}/healthz", s.base))
            .header("x-request-id", id)
            .send()
    };
    let res = get("abc-123_x.y").await.unwrap();
    assert_eq!(res.headers()["x-request-id"], "abc-123_x.y");
    let res = get("evil\"id with spaces").await.unwrap();
    let minted = res.headers()["x-request-id"].to_str().unwrap();
    assert_ne!(minted, "evil\"id with spaces");
    assert_eq!(minted.len(), 36, "{minted}");
}

#[tokio::test]
async fn unknown_routes_and_methods_get_problem_details() {
    let s = spawn(quick()).await;
    let c = reqwest::Client::new();
    let res = c
        .get(format!("{}/nope?name=Jane", s.base))
        .send()
        .await
        .unwrap();
    let body = problem(res, StatusCode::NOT_FOUND).await;
    assert_eq!(body["code"], "not-found");
    assert!(!body.to_string().contains("Jane"));

    let res = c
        .delete(format!("{}/healthz", s.base))
        .send()
        .await
        .unwrap();
    assert!(res.headers()["allow"].to_str().unwrap().contains("GET"));
    let body = problem(res, StatusCode::METHOD_NOT_ALLOWED).await;
    assert_eq!(body["code"], "method-not-allowed");
}

#[tokio::test]
async fn bad_bodies_are_refused_and_write_nothing() {
    let s = spawn(quick()).await;
    let c = reqwest::Client::new();
    let url = format!("{}/test/teams", s.base);

    // Over the limit, announced by Content-Length.
    let big = format!(r#"{{"name": "{}"}}"#, "x".repeat(4096));
    let res = c
        .post(&url)
        .header("content-type", "application/json")
        .body(big.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["connection"], "close");
    assert_eq!(
        problem(res, StatusCode::PAYLOAD_TOO_LARGE).await["code"],
        "payload-too-large"
    );

    // Over the limit, streamed without a length.
    let chunks = futures_stream(big);
    let res = c
        .post(&url)
        .header("content-type", "application/json")
        .body(reqwest::Body::wrap_stream(chunks))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);

    // Malformed JSON: the position, never the content.
    let res = c
        .post(&url)
        .header("content-type", "application/json")
        .body(r#"{"name": "Jane Doe""#)
        .send()
        .await
        .unwrap();
    let body = problem(res, StatusCode::BAD_REQUEST).await;
    assert!(!body.to_string().contains("Jane"), "{body}");

    let res = c
        .post(&url)
        .header("content-type", "application/json")
        .body(r#"{"name": 12}"#)
        .send()
        .await
        .unwrap();
    let body = problem(res, StatusCode::BAD_REQUEST).await;
    assert!(
        body["detail"].as_str().unwrap().contains("wrong type"),
        "{body}"
    );

    let res = c
        .post(&url)
        .header("content-type", "text/plain")
        .body("x")
        .send()
        .await
        .unwrap();
    problem(res, StatusCode::UNSUPPORTED_MEDIA_TYPE).await;

    assert_eq!(team_count(&s).await, 0);

    // A good body writes once; the same name again is a conflict.
    let good = || {
        c.post(&url)
            .header("content-type", "application/json")
            .body(r#"{"name": "Forwards"}"#)
            .send()
    };
    assert_eq!(good().await.unwrap().status(), StatusCode::CREATED);
    let body = problem(good().await.unwrap(), StatusCode::CONFLICT).await;
    assert_eq!(body["detail"], "team already exists");
    assert_eq!(team_count(&s).await, 1);
}

fn futures_stream(
    body: String,
) -> impl futures_core::Stream<Item = Result<Vec<u8>, std::io::Error>> + Send + 'static {
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = body
        .into_bytes()
        .chunks(256)
        .map(|c| Ok(c.to_vec()))
        .collect();
    tokio_stream::iter(chunks)
}

#[tokio::test]
async fn metrics_count_requests_by_route_template() {
    let s = spawn(quick()).await;
    let c = reqwest::Client::new();
    for _ in 0..3 {
        c.get(format!("{}/healthz", s.base)).send().await.unwrap();
    }
    c.get(format!("{}/no/such/route", s.base))
        .send()
        .await
        .unwrap();
    let text = c
        .get(format!("{}/metrics", s.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        text.contains(r#"mhp_http_requests_total{method="GET",route="/healthz",status="200"} 3"#),
        "{text}"
    );
    assert!(
        text.contains(r#"mhp_http_requests_total{method="GET",route="unmatched",status="404"} 1"#),
        "{text}"
    );
    assert!(text.contains("mhp_db_pool_max_connections"), "{text}");
    assert!(!text.contains("/no/such/route"));
}

#[tokio::test]
async fn shutdown_turns_readiness_off_first_and_lets_requests_finish() {
    let mut s = spawn(quick()).await;
    let c = reqwest::Client::new();
    let in_flight = tokio::spawn({
        let c = c.clone();
        let url = format!("{}/test/held", s.base);
        async move { c.get(url).send().await.unwrap().text().await.unwrap() }
    });
    // The request is in flight once its handler has begun; it stays so until released.
    s.held.wait_started(1).await;
    s.stop.take().unwrap().send(()).unwrap();

    // Draining (the server has turned readiness off; the listener stays open for the drain
    // delay, 300 ms): readiness says no, liveness still yes.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !s.state.readiness.is_draining() {
        assert!(
            std::time::Instant::now() < deadline,
            "shutdown never turned readiness off"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let res = c.get(format!("{}/readyz", s.base)).send().await.unwrap();
    let body = problem(res, StatusCode::SERVICE_UNAVAILABLE).await;
    assert_eq!(body["detail"], "shutting down");
    let res = c.get(format!("{}/healthz", s.base)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);

    // After the drain delay the listener closes while the request is still in flight ...
    let addr = s.base.trim_start_matches("http://").to_owned();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while tokio::net::TcpStream::connect(&addr).await.is_ok() {
        assert!(
            std::time::Instant::now() < deadline,
            "the listener never closed"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    // ... and it is still answered.
    s.held.release();
    assert_eq!(in_flight.await.unwrap(), "done");
    tokio::time::timeout(Duration::from_secs(5), s.done)
        .await
        .expect("server stops after the grace period at the latest")
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn the_configured_body_limit_is_the_limit() {
    // axum's extractors stop at 2 MiB of their own accord; the setting must decide instead, or
    // a 60 s dual-plate recording (2.4 MB) is refused whatever the operator configured.
    const MIB: usize = 1024 * 1024;
    let s = spawn(HttpConfig {
        body_limit_bytes: 8 * MIB,
        ..quick()
    })
    .await;
    let c = reqwest::Client::new();
    let url = format!("{}/test/teams", s.base);
    let body = |size: usize| format!(r#"{{"name": "{}"}}"#, "x".repeat(size));
    // 3 MiB reaches the handler, which refuses the name for its own reason.
    let res = c
        .post(&url)
        .header("content-type", "application/json")
        .body(body(3 * MIB))
        .send()
        .await
        .unwrap();
    assert_ne!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert!(res.status().is_client_error(), "{}", res.status());
    // 9 MiB is over the setting.
    let res = c
        .post(&url)
        .header("content-type", "application/json")
        .body(body(9 * MIB))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(team_count(&s).await, 0);
}

#[tokio::test]
async fn answers_are_compressed_when_asked_and_keep_their_headers() {
    let s = spawn(quick()).await;
    let c = reqwest::Client::new();
    for path in ["/metrics", "/no/such/route"] {
        let res = c
            .get(format!("{}{path}", s.base))
            .header("accept-encoding", "gzip")
            .send()
            .await
            .unwrap();
        let headers = res.headers().clone();
        assert_eq!(headers["content-encoding"], "gzip", "{path}");
        assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
        assert!(headers.contains_key("x-request-id"), "{path}");
        let body = res.bytes().await.unwrap();
        assert_eq!(&body[..2], &[0x1f, 0x8b], "{path}: a gzip stream");
    }
    // Not asked: not compressed.
    let res = c.get(format!("{}/metrics", s.base)).send().await.unwrap();
    assert!(!res.headers().contains_key("content-encoding"));
}

#[tokio::test]
async fn slow_requests_time_out_with_problem_details() {
    let s = spawn(HttpConfig {
        request_timeout: Duration::from_millis(100),
        ..quick()
    })
    .await;
    let res = reqwest::get(format!("{}/test/slow", s.base)).await.unwrap();
    assert_eq!(
        problem(res, StatusCode::REQUEST_TIMEOUT).await["code"],
        "timeout"
    );
}
