//! The OpenSearch backend against a STAND-IN: OpenSearch cannot run on this machine (no
//! container runtime, no network beyond package registries), so each test starts a small HTTP
//! server in-process that records every request and answers with canned responses shaped like
//! OpenSearch's (taken from its REST API documentation). The tests check the exact requests
//! the backend sends (bulk NDJSON lines, the organisation term in every read, the index
//! template, the date histogram) and how it reads answers (hits, aggregation buckets, bulk and
//! HTTP errors). They do not prove that a real cluster accepts the mapping or computes the same
//! numbers; that needs a run against a real cluster.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use mhp_domain::{AssessmentId, OrgId, Secret, SubjectId, TeamId};
use mhp_index::{
    DocumentIndex, IndexError, OpenSearchAuth, OpenSearchIndex, Query, RequestSigner, SignFuture,
    WeekBucket,
};
use serde_json::{Value, json};

use crate::{MONDAY, WEEK, doc, full_doc, metrics};

/// One request as the stand-in received it.
#[derive(Debug, Clone)]
struct Recorded {
    method: Method,
    /// Path and query, e.g. `/mhp-assessments/_bulk?refresh=wait_for`.
    target: String,
    content_type: Option<String>,
    authorization: Option<String>,
    /// The test signer's header (see [`TestSigner`]).
    signed: Option<String>,
    body: String,
}

impl Recorded {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap()
    }

    fn ndjson(&self) -> Vec<Value> {
        assert!(self.body.ends_with('\n'), "NDJSON ends with a newline");
        self.body
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect()
    }
}

#[derive(Default)]
struct Script {
    requests: Vec<Recorded>,
    answers: VecDeque<(u16, Value)>,
}

/// The stand-in server: answers requests in order from the script.
struct StandIn {
    url: String,
    script: Arc<Mutex<Script>>,
}

impl StandIn {
    async fn start(answers: Vec<(u16, Value)>) -> Self {
        let script = Arc::new(Mutex::new(Script {
            requests: Vec::new(),
            answers: answers.into(),
        }));
        let app = Router::new().fallback(answer).with_state(script.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { url, script }
    }

    fn index(&self) -> DocumentIndex {
        DocumentIndex::OpenSearch(
            OpenSearchIndex::new(&self.url, "mhp-test", OpenSearchAuth::None).unwrap(),
        )
    }

    fn requests(&self) -> Vec<Recorded> {
        let script = self.script.lock().unwrap();
        assert!(
            script.answers.is_empty(),
            "unused answers: {:?}",
            script.answers
        );
        script.requests.clone()
    }
}

async fn answer(
    State(script): State<Arc<Mutex<Script>>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, [(&'static str, &'static str); 1], String) {
    let header = |name: &str| headers.get(name).map(|v| v.to_str().unwrap().to_owned());
    let mut script = script.lock().unwrap();
    script.requests.push(Recorded {
        method,
        target: uri.path_and_query().unwrap().to_string(),
        content_type: header("content-type"),
        authorization: header("authorization"),
        signed: header("x-test-signature"),
        body: String::from_utf8(body.to_vec()).unwrap(),
    });
    let (status, body) = script.answers.pop_front().unwrap_or((
        599,
        json!({ "error": { "type": "stand_in_out_of_answers" } }),
    ));
    (
        StatusCode::from_u16(status).unwrap(),
        [("content-type", "application/json")],
        body.to_string(),
    )
}

fn org_term(org: OrgId) -> Value {
    json!({ "term": { "org": org.to_string() } })
}

/// The filters of a recorded `_search`, `_count` or `_delete_by_query`, checking that the first
/// is the organisation's term.
#[track_caller]
fn filters_of(request: &Recorded, org: OrgId) -> Vec<Value> {
    let filters = request.json()["query"]["bool"]["filter"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(filters.first(), Some(&org_term(org)), "{}", request.body);
    filters
}

fn bulk_ok(actions: &[(&str, u16)]) -> Value {
    let items: Vec<Value> = actions
        .iter()
        .map(|(action, status)| json!({ *action: { "_index": "mhp-test-assessments", "_id": "x", "status": status } }))
        .collect();
    json!({ "took": 3, "errors": false, "items": items })
}

#[tokio::test]
async fn ensure_schema_installs_the_template_then_creates_the_index() {
    let os = StandIn::start(vec![
        (200, json!({ "acknowledged": true })),
        (
            400,
            json!({ "error": { "type": "resource_already_exists_exception", "reason": "index [mhp-test-assessments/abc] already exists" }, "status": 400 }),
        ),
    ])
    .await;
    os.index().ensure_schema().await.unwrap();
    let requests = os.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[0].method, Method::PUT);
    assert_eq!(requests[0].target, "/_index_template/mhp-test-assessments");
    let keyword = json!({ "type": "keyword" });
    assert_eq!(
        requests[0].json(),
        json!({
            "index_patterns": ["mhp-test-assessments"],
            "priority": 100,
            "_meta": { "managed_by": "mhp", "schema_version": 1 },
            "template": { "mappings": {
                "dynamic": "strict",
                "dynamic_templates": [
                    { "metrics_as_double": { "path_match": "metrics.*", "match_mapping_type": "double", "mapping": { "type": "double" } } },
                    { "metric_integers_as_double": { "path_match": "metrics.*", "match_mapping_type": "long", "mapping": { "type": "double" } } },
                ],
                "properties": {
                    "org": keyword, "id": keyword, "subject": keyword, "pseudonym": keyword,
                    "teams": keyword, "recorded_at": { "type": "date", "format": "epoch_millis" },
                    "kind": keyword, "analysis_version": keyword, "flags": keyword, "tags": keyword,
                    "metrics": { "type": "object", "dynamic": true },
                },
            } },
        })
    );
    assert_eq!(requests[1].method, Method::PUT);
    assert_eq!(requests[1].target, "/mhp-test-assessments");
}

#[tokio::test]
async fn upsert_sends_bulk_ndjson_with_org_scoped_ids_and_credentials() {
    let os = StandIn::start(vec![(200, bulk_ok(&[("index", 201), ("index", 200)]))]).await;
    let index = DocumentIndex::OpenSearch(
        OpenSearchIndex::new(
            &os.url,
            "mhp-test",
            OpenSearchAuth::Basic {
                user: "mhp-writer".into(),
                password: Secret::new("s3cret".to_owned()),
            },
        )
        .unwrap(),
    );
    let org = OrgId::new();
    let team = TeamId::new();
    let first = full_doc(org, team);
    let second = doc(org, SubjectId::new(), MONDAY);
    index
        .upsert(&[first.clone(), second.clone()])
        .await
        .unwrap();

    let requests = os.requests();
    assert_eq!(requests.len(), 1);
    let bulk = &requests[0];
    assert_eq!(bulk.method, Method::POST);
    assert_eq!(bulk.target, "/mhp-test-assessments/_bulk?refresh=wait_for");
    assert_eq!(bulk.content_type.as_deref(), Some("application/x-ndjson"));
    // "mhp-writer:s3cret" in base64.
    assert_eq!(
        bulk.authorization.as_deref(),
        Some("Basic bWhwLXdyaXRlcjpzM2NyZXQ=")
    );
    assert_eq!(
        bulk.ndjson(),
        vec![
            json!({ "index": { "_id": format!("{org}:{}", first.id) } }),
            json!({
                "org": org.to_string(),
                "id": first.id.to_string(),
                "subject": first.subject.to_string(),
                "pseudonym": "Falcon-17",
                "teams": first.teams.iter().map(ToString::to_string).collect::<Vec<_>>(),
                "recorded_at": first.recorded_at_ms,
                "kind": "cmj",
                "analysis_version": "biomech-1.2.0",
                "flags": ["double_bounce"],
                "tags": ["preseason", "baseline"],
                "metrics": {
                    "asymmetry.propulsive_impulse_pct": -4.1,
                    "jump_height_impulse_m": 0.3125,
                    "rsi_modified": 0.1 + 0.2,
                },
            }),
            json!({ "index": { "_id": format!("{org}:{}", second.id) } }),
            json!({
                "org": org.to_string(),
                "id": second.id.to_string(),
                "subject": second.subject.to_string(),
                "pseudonym": "P-0001",
                "teams": [],
                "recorded_at": MONDAY,
                "kind": "cmj",
                "analysis_version": "biomech-1.0.0",
                "flags": [],
                "tags": [],
                "metrics": {},
            }),
        ]
    );
}

#[tokio::test]
async fn large_upserts_are_split_into_bulk_requests_of_500() {
    let org = OrgId::new();
    let docs: Vec<_> = (0..501)
        .map(|i| doc(org, SubjectId::new(), MONDAY + i))
        .collect();
    let os = StandIn::start(vec![
        (200, bulk_ok(&[("index", 201); 500])),
        (200, bulk_ok(&[("index", 201)])),
    ])
    .await;
    os.index().upsert(&docs).await.unwrap();
    let requests = os.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[0].ndjson().len(), 1000);
    assert_eq!(requests[1].ndjson().len(), 2);
}

#[tokio::test]
async fn bulk_item_errors_fail_the_call_without_quoting_the_document() {
    let reason = "failed to parse field [metrics.jump_height_impulse_m] of type [double] in document with id 'x'. Preview of field's value: 'Falcon-17'";
    let os = StandIn::start(vec![(
        200,
        json!({
            "took": 2,
            "errors": true,
            "items": [
                { "index": { "_id": "a", "status": 201 } },
                { "index": { "_id": "b", "status": 400, "error": { "type": "mapper_parsing_exception", "reason": reason } } },
            ],
        }),
    )])
    .await;
    let org = OrgId::new();
    let docs = [full_doc(org, TeamId::new()), full_doc(org, TeamId::new())];
    let err = os.index().upsert(&docs).await.unwrap_err();
    match &err {
        IndexError::Bulk {
            failed,
            total,
            first_status,
            first_type,
            ..
        } => {
            assert_eq!((*failed, *total, *first_status), (1, 2, 400));
            assert_eq!(first_type, "mapper_parsing_exception");
        }
        other => panic!("{other:?}"),
    }
    let text = err.to_string();
    assert!(
        !text.contains("Falcon") && !text.contains("Preview"),
        "{text}"
    );
    assert_eq!(
        text,
        "1 of 2 items of a bulk upsert failed (first: HTTP 400, mapper_parsing_exception)"
    );
}

#[tokio::test]
async fn a_bulk_answer_with_the_wrong_number_of_items_is_an_error() {
    let os = StandIn::start(vec![(200, bulk_ok(&[("index", 201)]))]).await;
    let org = OrgId::new();
    let docs = [doc(org, SubjectId::new(), 1), doc(org, SubjectId::new(), 2)];
    let err = os.index().upsert(&docs).await.unwrap_err();
    assert!(
        matches!(err, IndexError::BadResponse("bulk upsert")),
        "{err:?}"
    );
    os.requests();
}

#[tokio::test]
async fn delete_names_the_organisation_in_every_id_and_ignores_missing_documents() {
    let os = StandIn::start(vec![(
        200,
        json!({ "took": 1, "errors": false, "items": [
            { "delete": { "_id": "a", "status": 200, "result": "deleted" } },
            { "delete": { "_id": "b", "status": 404, "result": "not_found" } },
        ] }),
    )])
    .await;
    let org = OrgId::new();
    let ids = [AssessmentId::new(), AssessmentId::new()];
    os.index().delete(org, &ids).await.unwrap();
    os.index().delete(org, &[]).await.unwrap();
    let requests = os.requests();
    assert_eq!(requests.len(), 1, "an empty delete sends nothing");
    assert_eq!(
        requests[0].target,
        "/mhp-test-assessments/_bulk?refresh=wait_for"
    );
    assert_eq!(
        requests[0].ndjson(),
        vec![
            json!({ "delete": { "_id": format!("{org}:{}", ids[0]) } }),
            json!({ "delete": { "_id": format!("{org}:{}", ids[1]) } }),
        ]
    );
}

#[tokio::test]
async fn clear_org_deletes_by_a_query_on_the_organisation() {
    let os = StandIn::start(vec![
        (200, json!({ "took": 5, "deleted": 12, "failures": [] })),
        (
            200,
            json!({ "took": 5, "deleted": 3, "failures": [ { "index": "mhp-test-assessments", "id": "x", "cause": { "type": "version_conflict_engine_exception" } } ] }),
        ),
    ])
    .await;
    let org = OrgId::new();
    let index = os.index();
    index.clear_org(org).await.unwrap();
    let err = index.clear_org(org).await.unwrap_err();
    assert!(
        matches!(err, IndexError::DeleteByQuery { failures: 1 }),
        "{err:?}"
    );
    let requests = os.requests();
    for request in &requests {
        assert_eq!(request.method, Method::POST);
        assert_eq!(
            request.target,
            "/mhp-test-assessments/_delete_by_query?refresh=true&conflicts=proceed"
        );
        assert_eq!(
            request.json(),
            json!({ "query": { "bool": { "filter": [org_term(org)] } } })
        );
    }
}

#[tokio::test]
async fn search_sends_every_filter_after_the_organisation_and_reads_the_hits() {
    let org = OrgId::new();
    let team = TeamId::new();
    let subject = SubjectId::new();
    let newer = full_doc(org, team);
    let mut older = doc(org, subject, MONDAY - WEEK);
    older.metrics = metrics(&[("jump_height_impulse_m", 0.25)]);
    let source = |d: &mhp_index::AssessmentDoc| {
        json!({
            "org": d.org.to_string(), "id": d.id.to_string(), "subject": d.subject.to_string(),
            "pseudonym": d.pseudonym, "teams": d.teams.iter().map(ToString::to_string).collect::<Vec<_>>(),
            "recorded_at": d.recorded_at_ms, "kind": d.kind, "analysis_version": d.analysis_version,
            "flags": d.flags, "tags": d.tags, "metrics": d.metrics,
        })
    };
    let hits = json!({
        "took": 4, "timed_out": false,
        "hits": { "max_score": null, "hits": [
            { "_index": "mhp-test-assessments", "_id": "1", "_score": null, "_source": source(&newer), "sort": [1, "b"] },
            { "_index": "mhp-test-assessments", "_id": "2", "_score": null, "_source": source(&older), "sort": [0, "a"] },
        ] },
    });
    let os = StandIn::start(vec![(200, hits), (200, json!({ "hits": { "hits": [] } }))]).await;
    let index = os.index();

    let found = index.search(org, &Query::default()).await.unwrap();
    assert_eq!(found, vec![newer, older]);

    let everything = Query {
        team: Some(team),
        subject: Some(subject),
        kind: Some("cmj".into()),
        flag: Some("double_bounce".into()),
        tag: Some("preseason".into()),
        from_ms: Some(MONDAY),
        to_ms: Some(MONDAY + WEEK),
        metric_ranges: vec![
            ("jump_height_impulse_m".into(), Some(0.2), Some(0.5)),
            ("asymmetry.propulsive_impulse_pct".into(), None, Some(10.0)),
            ("rsi_modified".into(), None, None),
        ],
        limit: 5000,
    };
    assert!(index.search(org, &everything).await.unwrap().is_empty());

    let requests = os.requests();
    for request in &requests {
        assert_eq!(request.method, Method::POST);
        assert_eq!(request.target, "/mhp-test-assessments/_search");
    }
    assert_eq!(
        requests[0].json(),
        json!({
            "size": 100,
            "track_total_hits": false,
            "query": { "bool": { "filter": [org_term(org)] } },
            "sort": [ { "recorded_at": "desc" }, { "id": "desc" } ],
        })
    );
    assert_eq!(
        requests[1].json(),
        json!({
            "size": 1000,
            "track_total_hits": false,
            "query": { "bool": { "filter": [
                org_term(org),
                { "term": { "teams": team.to_string() } },
                { "term": { "subject": subject.to_string() } },
                { "term": { "kind": "cmj" } },
                { "term": { "flags": "double_bounce" } },
                { "term": { "tags": "preseason" } },
                { "range": { "recorded_at": { "gte": MONDAY, "lte": MONDAY + WEEK, "format": "epoch_millis" } } },
                { "range": { "metrics.jump_height_impulse_m": { "gte": 0.2, "lte": 0.5 } } },
                { "range": { "metrics.asymmetry.propulsive_impulse_pct": { "lte": 10.0 } } },
                { "exists": { "field": "metrics.rsi_modified" } },
            ] } },
            "sort": [ { "recorded_at": "desc" }, { "id": "desc" } ],
        })
    );
}

#[tokio::test]
async fn a_hit_of_another_organisation_is_refused() {
    let (mine, theirs) = (OrgId::new(), OrgId::new());
    let foreign = doc(theirs, SubjectId::new(), MONDAY);
    let os = StandIn::start(vec![(
        200,
        json!({ "hits": { "hits": [ { "_id": "x", "_source": {
            "org": theirs.to_string(), "id": foreign.id.to_string(), "subject": foreign.subject.to_string(),
            "pseudonym": "P-0001", "teams": [], "recorded_at": MONDAY, "kind": "cmj",
            "analysis_version": "v", "flags": [], "tags": [], "metrics": {},
        } } ] } }),
    )])
    .await;
    let err = os
        .index()
        .search(mine, &Query::default())
        .await
        .unwrap_err();
    assert!(matches!(err, IndexError::TenantMismatch), "{err:?}");
    filters_of(&os.requests()[0], mine);
}

#[tokio::test]
async fn weekly_asks_for_a_monday_week_histogram_and_reads_its_buckets() {
    let org = OrgId::new();
    let team = TeamId::new();
    let answer = json!({
        "took": 7, "timed_out": false, "hits": { "hits": [] },
        "aggregations": { "weeks": { "buckets": [
            { "key_as_string": "1704067200000", "key": MONDAY, "doc_count": 10,
              "mean": { "value": 5.5 },
              "pct": { "values": [ { "key": 10.0, "value": 1.9 }, { "key": 50.0, "value": 5.5 }, { "key": 90.0, "value": 9.1 } ] } },
            { "key_as_string": "1704672000000", "key": MONDAY + WEEK, "doc_count": 3,
              "mean": { "value": 4.666666666666667 },
              "pct": { "values": [ { "key": 10.0, "value": 2.4 }, { "key": 50.0, "value": 4.0 }, { "key": 90.0, "value": 7.2 } ] } },
        ] } },
    });
    let os = StandIn::start(vec![(200, answer)]).await;
    let q = Query {
        team: Some(team),
        from_ms: Some(MONDAY),
        limit: 7,
        ..Query::default()
    };
    let weeks = os
        .index()
        .weekly(org, &q, "jump_height_impulse_m")
        .await
        .unwrap();
    assert_eq!(
        weeks,
        vec![
            WeekBucket {
                week_start_ms: MONDAY,
                count: 10,
                mean: 5.5,
                p10: 1.9,
                p50: 5.5,
                p90: 9.1
            },
            WeekBucket {
                week_start_ms: MONDAY + WEEK,
                count: 3,
                mean: 4.666666666666667,
                p10: 2.4,
                p50: 4.0,
                p90: 7.2,
            },
        ]
    );
    let requests = os.requests();
    assert_eq!(requests[0].target, "/mhp-test-assessments/_search");
    assert_eq!(
        requests[0].json(),
        json!({
            "size": 0,
            "track_total_hits": false,
            "query": { "bool": { "filter": [
                org_term(org),
                { "term": { "teams": team.to_string() } },
                { "range": { "recorded_at": { "gte": MONDAY, "format": "epoch_millis" } } },
                { "exists": { "field": "metrics.jump_height_impulse_m" } },
            ] } },
            "aggs": { "weeks": {
                "date_histogram": {
                    "field": "recorded_at",
                    "calendar_interval": "week",
                    "time_zone": "UTC",
                    "min_doc_count": 1,
                },
                "aggs": {
                    "mean": { "avg": { "field": "metrics.jump_height_impulse_m" } },
                    "pct": { "percentiles": {
                        "field": "metrics.jump_height_impulse_m",
                        "percents": [10, 50, 90],
                        "keyed": false,
                    } },
                },
            } },
        })
    );
}

#[tokio::test]
async fn a_bucket_without_values_is_an_unexpected_answer() {
    let os = StandIn::start(vec![(
        200,
        json!({ "aggregations": { "weeks": { "buckets": [
            { "key": MONDAY, "doc_count": 0, "mean": { "value": null },
              "pct": { "values": [ { "key": 10.0, "value": null }, { "key": 50.0, "value": null }, { "key": 90.0, "value": null } ] } },
        ] } } }),
    )])
    .await;
    let err = os
        .index()
        .weekly(OrgId::new(), &Query::default(), "m")
        .await
        .unwrap_err();
    assert!(matches!(err, IndexError::BadResponse("weekly")), "{err:?}");
    os.requests();
}

#[tokio::test]
async fn count_filters_on_the_organisation() {
    let os = StandIn::start(vec![(
        200,
        json!({ "count": 42, "_shards": { "total": 1 } }),
    )])
    .await;
    let org = OrgId::new();
    assert_eq!(os.index().count(org).await.unwrap(), 42);
    let requests = os.requests();
    assert_eq!(requests[0].method, Method::POST);
    assert_eq!(requests[0].target, "/mhp-test-assessments/_count");
    assert_eq!(
        requests[0].json(),
        json!({ "query": { "bool": { "filter": [org_term(org)] } } })
    );
}

#[tokio::test]
async fn two_organisations_reads_and_writes_carry_only_their_own_organisation() {
    let (org_a, org_b) = (OrgId::new(), OrgId::new());
    let weekly_empty = json!({ "aggregations": { "weeks": { "buckets": [] } } });
    let os = StandIn::start(vec![
        (200, bulk_ok(&[("index", 201)])),
        (200, bulk_ok(&[("index", 201)])),
        (200, json!({ "hits": { "hits": [] } })),
        (200, weekly_empty.clone()),
        (200, json!({ "count": 0 })),
        (200, json!({ "failures": [] })),
        (200, bulk_ok(&[("delete", 404)])),
    ])
    .await;
    let index = os.index();
    let shared_id = AssessmentId::new();
    let mut a = doc(org_a, SubjectId::new(), MONDAY);
    a.id = shared_id;
    let mut b = a.clone();
    b.org = org_b;
    index.upsert(&[a]).await.unwrap();
    index.upsert(&[b]).await.unwrap();
    index.search(org_b, &Query::default()).await.unwrap();
    index.weekly(org_b, &Query::default(), "m").await.unwrap();
    index.count(org_b).await.unwrap();
    index.clear_org(org_b).await.unwrap();
    index.delete(org_b, &[shared_id]).await.unwrap();

    let requests = os.requests();
    // The same assessment id in two organisations makes two documents.
    assert_eq!(
        requests[0].ndjson()[0]["index"]["_id"],
        format!("{org_a}:{shared_id}")
    );
    assert_eq!(
        requests[1].ndjson()[0]["index"]["_id"],
        format!("{org_b}:{shared_id}")
    );
    for read in &requests[2..6] {
        filters_of(read, org_b);
        assert!(!read.body.contains(&org_a.to_string()));
    }
    assert_eq!(
        requests[6].ndjson()[0]["delete"]["_id"],
        format!("{org_b}:{shared_id}")
    );
}

#[tokio::test]
async fn http_errors_name_the_operation_and_the_error_class_only() {
    let os = StandIn::start(vec![
        (
            404,
            json!({ "error": { "type": "index_not_found_exception", "reason": "no such index [mhp-test-assessments] Falcon-17", "index": "mhp-test-assessments" }, "status": 404 }),
        ),
        (401, json!({ "error": "Unauthorized" })),
        (200, json!("not what was asked for")),
    ])
    .await;
    let index = os.index();
    let org = OrgId::new();
    let err = index.search(org, &Query::default()).await.unwrap_err();
    assert!(
        matches!(&err, IndexError::Http { operation: "search", status: 404, error_type: Some(t) } if t == "index_not_found_exception"),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "the index service answered HTTP 404 to search (index_not_found_exception)"
    );
    let err = index.count(org).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "the index service answered HTTP 401 to count"
    );
    let err = index.count(org).await.unwrap_err();
    assert!(matches!(err, IndexError::BadResponse("count")), "{err:?}");
    os.requests();
}

#[tokio::test]
async fn check_wants_a_cluster_that_is_not_red_and_an_existing_index() {
    let os = StandIn::start(vec![
        (200, json!({ "cluster_name": "c", "status": "yellow" })),
        (200, json!({})),
        (200, json!({ "cluster_name": "c", "status": "red" })),
        (200, json!({ "cluster_name": "c", "status": "green" })),
        (404, json!({})),
    ])
    .await;
    let index = os.index();
    index.check().await.unwrap();
    assert!(matches!(
        index.check().await.unwrap_err(),
        IndexError::NotReady(_)
    ));
    assert!(matches!(
        index.check().await.unwrap_err(),
        IndexError::NotReady(_)
    ));
    let requests = os.requests();
    assert_eq!(requests[0].method, Method::GET);
    assert_eq!(requests[0].target, "/_cluster/health");
    assert_eq!(requests[1].method, Method::HEAD);
    assert_eq!(requests[1].target, "/mhp-test-assessments");
}

#[tokio::test]
async fn an_unreachable_cluster_is_unavailable() {
    // Bind a port, then free it, so that nothing listens there.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let index =
        DocumentIndex::OpenSearch(OpenSearchIndex::new(&url, "mhp", OpenSearchAuth::None).unwrap());
    let err = index.count(OrgId::new()).await.unwrap_err();
    assert!(
        matches!(
            err,
            IndexError::Unavailable {
                operation: "count",
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn settings_are_checked_when_the_client_is_made() {
    let secret = || OpenSearchAuth::Basic {
        user: "u".to_owned(),
        password: Secret::new("p".to_owned()),
    };
    let none = || OpenSearchAuth::None;
    let refused = [
        ("http://search.internal:9200", "mhp", secret()),
        ("ftp://search.internal", "mhp", none()),
        ("https://u:p@search.internal", "mhp", none()),
        ("https://search.internal/?x=1", "mhp", none()),
        ("not a url", "mhp", none()),
        ("https://search.internal", "MHP", none()),
        ("https://search.internal", "-mhp", none()),
        ("https://search.internal", "mhp/other", none()),
        ("https://search.internal", "", none()),
    ];
    for (url, prefix, credentials) in refused {
        let err = OpenSearchIndex::new(url, prefix, credentials).unwrap_err();
        assert!(
            matches!(err, IndexError::Config(_)),
            "{url} {prefix}: {err:?}"
        );
        assert!(!err.to_string().contains("p@"), "{err}");
    }
    let accepted = [
        ("https://search.internal:9200", secret()),
        ("http://search.internal:9200", none()),
        ("http://127.0.0.1:9200", secret()),
        ("http://localhost:9200", secret()),
        ("http://[::1]:9200", secret()),
    ];
    for (url, credentials) in accepted {
        let index = OpenSearchIndex::new(url, "mhp-prod_1", credentials).unwrap();
        assert_eq!(index.index_name(), "mhp-prod_1-assessments");
        assert!(
            !format!("{index:?}").contains("\"p\""),
            "the password never prints"
        );
    }
}

/// A signer for the stand-in: its header names the method, the path and query, and the body's
/// length and checksum it was given, so the test can check that what was signed is what was
/// sent. (The AWS signer itself is checked against botocore and moto in mhp-cloud.)
#[derive(Debug, Default)]
struct TestSigner {
    fail: bool,
}

fn signature_of(method: &str, target: &str, body: &[u8]) -> String {
    let sum = body.iter().fold(0u64, |acc, b| {
        acc.wrapping_mul(31).wrapping_add(u64::from(*b))
    });
    format!("{method} {target} {} {sum}", body.len())
}

impl RequestSigner for TestSigner {
    fn sign<'a>(
        &'a self,
        method: &'a str,
        url: &'a reqwest::Url,
        body: &'a [u8],
    ) -> SignFuture<'a> {
        Box::pin(async move {
            if self.fail {
                return Err("no credentials".to_owned());
            }
            let target = match url.query() {
                Some(q) => format!("{}?{q}", url.path()),
                None => url.path().to_owned(),
            };
            let mut headers = reqwest::header::HeaderMap::new();
            headers.insert(
                "x-test-signature",
                signature_of(method, &target, body).parse().unwrap(),
            );
            Ok(headers)
        })
    }
}

/// With a signer, every request (reads, bulk writes, the template, health) carries the headers
/// it made over exactly the method, URL and body sent; when it cannot sign, nothing is sent.
#[tokio::test]
async fn signed_requests_carry_a_signature_of_what_is_sent() {
    let os = StandIn::start(vec![
        (200, json!({ "status": "green" })),
        (200, json!({})),
        (200, bulk_ok(&[("index", 201)])),
        (200, json!({ "count": 1 })),
    ])
    .await;
    let signed = |signer: TestSigner| {
        OpenSearchIndex::new(
            &format!("{}/proxy/os", os.url),
            "mhp",
            OpenSearchAuth::Signed(Arc::new(signer)),
        )
        .unwrap()
    };
    let index = signed(TestSigner::default());
    let org = OrgId::new();
    index.check().await.unwrap();
    index
        .upsert(&[doc(org, SubjectId::new(), MONDAY)])
        .await
        .unwrap();
    assert_eq!(index.count(org).await.unwrap(), 1);
    let requests = os.requests();
    assert_eq!(requests.len(), 4);
    for r in &requests {
        assert_eq!(
            r.signed.as_deref(),
            Some(signature_of(r.method.as_str(), &r.target, r.body.as_bytes()).as_str()),
            "{} {}",
            r.method,
            r.target
        );
        assert_eq!(r.authorization, None);
    }
    assert_eq!(
        requests[2].target,
        "/proxy/os/mhp-assessments/_bulk?refresh=wait_for"
    );

    let err = signed(TestSigner { fail: true })
        .count(org)
        .await
        .unwrap_err();
    assert!(matches!(err, IndexError::Signing { .. }), "{err:?}");
    assert_eq!(os.requests().len(), 4, "nothing sent unsigned");

    // Signatures, like passwords, go over https or to a loopback address only.
    let err = OpenSearchIndex::new(
        "http://search.internal:9200",
        "mhp",
        OpenSearchAuth::Signed(Arc::new(TestSigner::default())),
    )
    .unwrap_err();
    assert!(matches!(err, IndexError::Config(_)), "{err:?}");
}

#[tokio::test]
async fn a_base_url_with_a_path_keeps_it() {
    let os = StandIn::start(vec![(200, json!({ "count": 1 }))]).await;
    let index =
        OpenSearchIndex::new(&format!("{}/proxy/os", os.url), "mhp", OpenSearchAuth::None).unwrap();
    assert_eq!(index.count(OrgId::new()).await.unwrap(), 1);
    assert_eq!(os.requests()[0].target, "/proxy/os/mhp-assessments/_count");
}
