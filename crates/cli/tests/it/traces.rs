//! Traces over OTLP, received by a real OTLP/HTTP receiver (`tools/otlp/receive.py`, which
//! decodes with OpenTelemetry's own protobuf messages): `mhp serve` takes a caller's W3C
//! `traceparent`, makes server spans named by route templates with database and object-store
//! spans under them, passes the context on to the services it calls (OpenSearch here), and the
//! pipeline steps a request enqueued link back to it: a training run to the request that asked
//! for it, an upload's scoring run to the upload.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mhp_test_support::MhpProcess;
use mhp_test_support::otlp::OtlpReceiver;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::MHP;

const TRAIN_TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const TRAIN_PARENT: &str = "00f067aa0ba902b7";
const UPLOAD_TRACE: &str = "0af7651916cd43dd8448eb211c80319c";
const UPLOAD_PARENT: &str = "b7ad6b7169203331";

/// The `traceparent` headers an OpenSearch stand-in received.
type Seen = Arc<Mutex<Vec<String>>>;

/// An OpenSearch stand-in that answers what `mhp serve` asks at start and on uploads (a bulk
/// answer with one item per action) and records each request's `traceparent`.
async fn opensearch() -> (String, Seen) {
    use axum::http::{HeaderMap, Uri};
    let seen: Seen = Arc::default();
    let app = axum::Router::new()
        .fallback(
            |axum::extract::State(seen): axum::extract::State<Seen>,
             uri: Uri,
             headers: HeaderMap,
             body: String| async move {
                if let Some(tp) = headers.get("traceparent").and_then(|v| v.to_str().ok()) {
                    seen.lock().unwrap().push(tp.to_owned());
                }
                if uri.path().ends_with("/_bulk") {
                    let items: Vec<Value> = body
                        .lines()
                        .filter(|l| l.contains("\"index\"") || l.contains("\"delete\""))
                        .map(|_| json!({ "index": { "status": 201 } }))
                        .collect();
                    axum::Json(json!({ "errors": false, "items": items }))
                } else if uri.path().starts_with("/_cluster/health") {
                    axum::Json(json!({ "status": "green" }))
                } else {
                    axum::Json(json!({ "acknowledged": true }))
                }
            },
        )
        .with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, seen)
}

fn traceparent(trace: &str, parent: &str) -> String {
    format!("00-{trace}-{parent}-01")
}

/// Waits until `done` holds for the spans received, and returns them.
async fn spans_until(
    receiver: &OtlpReceiver,
    what: &str,
    done: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    let started = Instant::now();
    loop {
        let spans = receiver.spans().await;
        if done(&spans) {
            return spans;
        }
        if started.elapsed() > Duration::from_secs(60) {
            // Each name once, with how many spans bear it and how many of them have links.
            let mut names = std::collections::BTreeMap::<String, (usize, usize)>::new();
            for s in &spans {
                let e = names
                    .entry(s["name"].as_str().unwrap_or("?").to_owned())
                    .or_default();
                e.0 += 1;
                e.1 += usize::from(s["links"].as_array().is_some_and(|l| !l.is_empty()));
            }
            panic!(
                "{what}: not among {} spans (name: spans, linked): {names:?}",
                spans.len()
            );
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn find(spans: &[Value], pred: impl Fn(&Value) -> bool) -> Option<&Value> {
    spans.iter().find(|s| pred(s))
}

fn links_to(span: &Value, trace: &str, parent: &str) -> bool {
    span["links"].as_array().is_some_and(|l| {
        l.iter()
            .any(|l| l["trace_id"] == trace && l["span_id"] == parent)
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spans_reach_an_otlp_receiver_with_their_parents_and_links() {
    let Some(receiver) = OtlpReceiver::start() else {
        return;
    };
    let (search, seen) = opensearch().await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data").display().to_string();
    let demo = crate::demo_org(&data, &[], 2, 15, 12);
    let (org, key) = (demo.org, demo.admin);
    let endpoint = receiver.traces_url();
    let env = [
        ("MHP_TELEMETRY_OTLP_ENDPOINT", endpoint.as_str()),
        ("MHP_INDEX_BACKEND", "opensearch"),
        ("MHP_INDEX_OPENSEARCH_URL", search.as_str()),
        ("MHP_PIPELINES_POLL_MS", "100"),
    ];
    let p = MhpProcess::serve(MHP, &["--data-dir", &data], &env);
    let c = reqwest::Client::new();
    let api = format!("{}/api/v1/orgs/{org}", p.base);

    // Training asked for by a caller inside a trace; the model it makes goes into production
    // (the first one does), so uploads are scored.
    let res = c
        .post(format!("{api}/pipelines/train-injury-risk/runs"))
        .bearer_auth(&key)
        .header("traceparent", traceparent(TRAIN_TRACE, TRAIN_PARENT))
        .json(&json!({ "params": { "season_start": "2025-09-01" } }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    let run = res.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let started = Instant::now();
    let trained = loop {
        let run: Value = c
            .get(format!("{api}/pipeline-runs/{run}"))
            .bearer_auth(&key)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if run["status"] == "succeeded" {
            break run;
        }
        assert!(
            run["status"] != "failed" && started.elapsed() < Duration::from_secs(300),
            "training: {run}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    // Into production, unless the promotion gate put it there already.
    let register = trained["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["step"] == "register")
        .unwrap();
    if register["output"]["promoted"] != true {
        let version = register["output"]["version_id"].as_str().unwrap();
        let res = c
            .post(format!("{api}/model-versions/{version}/stage"))
            .bearer_auth(&key)
            .json(&json!({ "stage": "production" }))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
    }

    // An upload inside another trace, and its score.
    let subject = crate::first_subject(&c, &api, &key).await;
    let csv = crate::cmj_csv();
    let res = c
        .post(format!("{api}/subjects/{subject}/assessments"))
        .bearer_auth(&key)
        .header("traceparent", traceparent(UPLOAD_TRACE, UPLOAD_PARENT))
        .header("content-type", "text/csv")
        .body(csv)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);

    let spans = spans_until(&receiver, "the upload's scoring step", |spans| {
        spans.iter().any(|s| {
            s["name"] == "score-subject score"
                && s["links"].as_array().is_some_and(|l| !l.is_empty())
        })
    })
    .await;
    p.terminate();

    // The upload: a server span named by its route, child of the caller's span.
    let upload = find(&spans, |s| {
        s["name"] == "POST /api/v1/orgs/{org}/subjects/{subject}/assessments"
            && s["trace_id"] == UPLOAD_TRACE
    })
    .expect("the upload's span");
    assert_eq!(upload["parent_span_id"], UPLOAD_PARENT);
    assert_eq!(upload["kind"], "SPAN_KIND_SERVER");
    assert_eq!(upload["service"], "mhp-server");
    assert_eq!(upload["attributes"]["http.response.status_code"], "201");
    let upload_id = upload["span_id"].as_str().unwrap();
    // Its database transactions and the raw signal's write, under it.
    for (name, kind) in [
        ("db.transaction", "SPAN_KIND_CLIENT"),
        ("object_store.put", "SPAN_KIND_CLIENT"),
    ] {
        let child = find(&spans, |s| {
            s["name"] == name && s["parent_span_id"] == upload_id
        })
        .unwrap_or_else(|| panic!("no {name} under the upload"));
        assert_eq!(child["trace_id"], UPLOAD_TRACE);
        assert_eq!(child["kind"], kind);
    }
    // The scoring step: its own trace, linked to the upload, with its own database work.
    let score = find(&spans, |s| s["name"] == "score-subject score").unwrap();
    assert!(links_to(score, UPLOAD_TRACE, upload_id), "{score}");
    assert_eq!(score["kind"], "SPAN_KIND_CONSUMER");
    let score_id = score["span_id"].as_str().unwrap();
    assert!(
        find(&spans, |s| s["name"] == "db.transaction"
            && s["parent_span_id"] == score_id)
        .is_some(),
        "no database span under the scoring step"
    );

    // Training: the request's span, and each of the run's steps linked to it.
    let train = find(&spans, |s| {
        s["name"] == "POST /api/v1/orgs/{org}/pipelines/{pipeline}/runs"
    })
    .expect("the training request's span");
    assert_eq!(train["trace_id"], TRAIN_TRACE);
    assert_eq!(train["parent_span_id"], TRAIN_PARENT);
    let train_id = train["span_id"].as_str().unwrap();
    for step in ["dataset", "train", "evaluate", "register"] {
        let name = format!("train-injury-risk {step}");
        let span =
            find(&spans, |s| s["name"] == name.as_str()).unwrap_or_else(|| panic!("no {name}"));
        assert!(links_to(span, TRAIN_TRACE, train_id), "{span}");
    }
    // Model artifacts written under the steps.
    assert!(
        spans.iter().any(|s| s["name"] == "object_store.put"
            && spans.iter().any(|t| t["span_id"] == s["parent_span_id"]
                && t["name"]
                    .as_str()
                    .is_some_and(|n| n.starts_with("train-injury-risk")))),
        "no artifact write under a training step"
    );

    // Passed on: the upload's document went to OpenSearch inside the upload's trace.
    let seen = seen.lock().unwrap().clone();
    assert!(
        seen.iter()
            .any(|tp| tp.starts_with(&format!("00-{UPLOAD_TRACE}-"))),
        "OpenSearch saw {seen:?}"
    );
    // Spans carry names, ids and outcome words: never a subject's name or a recording.
    let text = serde_json::to_string(&spans).unwrap();
    assert!(
        !text.contains("time_s") && !text.contains("force_n"),
        "a recording in a span"
    );
}
