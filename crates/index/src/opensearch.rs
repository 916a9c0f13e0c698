//! The OpenSearch backend, over its REST API.
//!
//! One index, `<prefix>-assessments`, for every organisation, with `org` as a `keyword` field
//! that every read filters on (a `term` in the `bool` filter, added by [`org_filtered`], the
//! only builder of queries) and that every document id embeds (`_id` = `<org>:<id>`, so a write
//! or delete addressed by one organisation cannot land on another's document). One index rather
//! than one per tenant because MHP has many small organisations: an index per tenant costs
//! shards (memory and file handles on every node) per organisation, multiplies mapping updates
//! and pushes a cluster towards its shard limits, while one shared mapping keeps the cluster
//! small. The price is that isolation rests on the filter, which is why it is built in exactly
//! one place, tested, and checked again on every returned document.
//!
//! Mapping (installed as the index template `<prefix>-assessments`): `keyword` for ids, kind,
//! analysis version, flags, tags and the pseudonym; `date` (`epoch_millis`) for `recorded_at`;
//! `metrics` an `object` whose fields are mapped to `double` by dynamic templates. A plain
//! object (rather than `nested` or `flat_object`) makes every metric a real numeric field:
//! range filters, `avg` and `percentiles` work on `metrics.<name>` directly and fast. `nested`
//! would need nested queries and aggregations for the same; `flat_object` stores values as
//! keywords, so it cannot average. The cost, a mapping field per metric name, is bounded: names
//! come from the analysis engine (tens of them), not from users. The rest of the mapping is
//! `strict`, so a stray field is refused instead of mapped.
//!
//! Writes use `_bulk` (NDJSON) with `refresh=wait_for`, so a search after a write sees it, as
//! on the embedded backend.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use mhp_domain::{AssessmentId, OrgId, Secret};
use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode, Url};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::doc::{Body, validate_docs, validate_metric, validate_query};
use crate::{AssessmentDoc, IndexError, Query, WeekBucket};

/// Documents per `_bulk` request, so that a rebuild sends bounded bodies.
const BULK_CHUNK: usize = 500;
/// Time-out of one request to OpenSearch.
const TIMEOUT: Duration = Duration::from_secs(60);
/// Longest accepted index prefix.
const MAX_PREFIX: usize = 100;

/// A future that signs a request: the headers to add, or why it cannot be signed.
pub type SignFuture<'a> = Pin<Box<dyn Future<Output = Result<HeaderMap, String>> + Send + 'a>>;

/// Signs requests to the cluster: AWS Signature Version 4 for an IAM-only Amazon OpenSearch
/// Service domain (service `es`), made by the caller from its credential chain, so this crate
/// needs no cloud client. Given the method, the full URL and the exact body sent, it returns
/// the headers to add.
pub trait RequestSigner: Send + Sync + std::fmt::Debug {
    /// The headers that authenticate this request.
    fn sign<'a>(&'a self, method: &'a str, url: &'a Url, body: &'a [u8]) -> SignFuture<'a>;
}

/// How requests to the cluster authenticate.
#[derive(Debug, Clone, Default)]
pub enum OpenSearchAuth {
    /// Not at all (a cluster on a private network without security, development).
    #[default]
    None,
    /// HTTP Basic authentication (OpenSearch's security plugin with internal users).
    Basic {
        /// The user.
        user: String,
        /// Its password.
        password: Secret<String>,
    },
    /// Each request signed by the signer (AWS SigV4 for an IAM-only domain).
    Signed(Arc<dyn RequestSigner>),
}

impl OpenSearchAuth {
    fn sends_credentials(&self) -> bool {
        !matches!(self, Self::None)
    }
}

/// The index in an OpenSearch cluster.
#[derive(Debug)]
pub struct OpenSearchIndex {
    http: reqwest::Client,
    /// Base URL, ending in `/`.
    base: Url,
    /// `<prefix>-assessments`, the index and its template's name.
    index: String,
    auth: OpenSearchAuth,
}

impl OpenSearchIndex {
    /// A client for the cluster at `base_url` (e.g. `https://search.internal:9200`), using the
    /// index `<index_prefix>-assessments`, authenticating as `auth` says: credentials and
    /// signatures go only over https (or to a loopback address, for development), never in
    /// clear over a network. The prefix is lowercase letters, digits, `-` and `_`, starting with a letter or
    /// digit.
    pub fn new(
        base_url: &str,
        index_prefix: &str,
        auth: OpenSearchAuth,
    ) -> Result<Self, IndexError> {
        if !valid_prefix(index_prefix) {
            return Err(IndexError::Config("the index prefix is not valid"));
        }
        Self::with_index(base_url, format!("{index_prefix}-assessments"), auth)
    }

    /// A client of the cluster at `base_url` for the index `index` (a valid name: checked by
    /// the caller's prefix).
    pub(crate) fn with_index(
        base_url: &str,
        index: String,
        auth: OpenSearchAuth,
    ) -> Result<Self, IndexError> {
        let mut base =
            Url::parse(base_url).map_err(|_| IndexError::Config("the base URL is not valid"))?;
        match base.scheme() {
            "https" => {}
            "http" if !auth.sends_credentials() || is_loopback(&base) => {}
            "http" => {
                return Err(IndexError::Config(
                    "credentials are sent only over https (or to a loopback address)",
                ));
            }
            _ => return Err(IndexError::Config("the base URL must be http or https")),
        }
        if !base.username().is_empty() || base.password().is_some() {
            return Err(IndexError::Config(
                "credentials belong in the credentials setting, not in the URL",
            ));
        }
        if base.query().is_some() || base.fragment().is_some() {
            return Err(IndexError::Config(
                "the base URL must not have a query or fragment",
            ));
        }
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        let http = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .connect_timeout(Duration::from_secs(10))
            // Credentials go to the configured cluster only.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("mhp-index/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|_| IndexError::Config("the HTTP client cannot be built"))?;
        Ok(Self {
            http,
            base,
            index,
            auth,
        })
    }

    /// The name of the index (and of its template).
    pub fn index_name(&self) -> &str {
        &self.index
    }

    /// Installs (or updates) the index template, then creates the index if it does not exist.
    /// A template change applies to indexes created after it; an existing index keeps its
    /// mapping until it is recreated (the index can always be rebuilt from SQL).
    pub async fn ensure_schema(&self) -> Result<(), IndexError> {
        let operation = "install the index template";
        let path = format!("_index_template/{}", self.index);
        let body = template_body(&self.index);
        let (status, answer) = self
            .send(operation, Method::PUT, &path, Payload::Json(&body))
            .await?;
        expect_success(operation, status, &answer)?;

        let operation = "create the index";
        let (status, answer) = self
            .send(
                operation,
                Method::PUT,
                &self.index,
                Payload::Json(&json!({})),
            )
            .await?;
        if status == StatusCode::BAD_REQUEST
            && error_type(&answer).as_deref() == Some("resource_already_exists_exception")
        {
            return Ok(());
        }
        expect_success(operation, status, &answer)
    }

    /// See [`crate::DocumentIndex::upsert`].
    pub async fn upsert(&self, docs: &[AssessmentDoc]) -> Result<(), IndexError> {
        validate_docs(docs)?;
        for chunk in docs.chunks(BULK_CHUNK) {
            let mut lines = String::new();
            for doc in chunk {
                let action = json!({ "index": { "_id": doc_id(doc.org, doc.id) } });
                push_line(&mut lines, &action)?;
                push_line(&mut lines, &Body::from_doc(doc))?;
            }
            self.bulk("upsert", lines, chunk.len()).await?;
        }
        Ok(())
    }

    /// See [`crate::DocumentIndex::delete`].
    pub async fn delete(&self, org: OrgId, ids: &[AssessmentId]) -> Result<(), IndexError> {
        for chunk in ids.chunks(BULK_CHUNK) {
            let mut lines = String::new();
            for id in chunk {
                push_line(
                    &mut lines,
                    &json!({ "delete": { "_id": doc_id(org, *id) } }),
                )?;
            }
            self.bulk("delete", lines, chunk.len()).await?;
        }
        Ok(())
    }

    /// See [`crate::DocumentIndex::clear_org`].
    pub async fn clear_org(&self, org: OrgId) -> Result<(), IndexError> {
        let operation = "clear";
        let path = format!(
            "{}/_delete_by_query?refresh=true&conflicts=proceed",
            self.index
        );
        let body = json!({ "query": org_filtered(org, &Query::default(), Vec::new()) });
        let (status, answer) = self
            .send(operation, Method::POST, &path, Payload::Json(&body))
            .await?;
        expect_success(operation, status, &answer)?;
        let parsed: DeleteByQueryResponse = parse(operation, &answer)?;
        if parsed.failures.is_empty() {
            Ok(())
        } else {
            Err(IndexError::DeleteByQuery {
                failures: parsed.failures.len(),
            })
        }
    }

    /// See [`crate::DocumentIndex::search`].
    pub async fn search(&self, org: OrgId, q: &Query) -> Result<Vec<AssessmentDoc>, IndexError> {
        validate_query(q)?;
        let limit = q.effective_limit();
        if limit == 0 {
            return Ok(Vec::new());
        }
        let operation = "search";
        let body = search_body(org, q, limit);
        let answer = self.post_json(operation, "_search", &body).await?;
        let parsed: SearchResponse = parse(operation, &answer)?;
        parsed
            .hits
            .hits
            .into_iter()
            .map(|hit| hit.source.into_doc(org))
            .collect()
    }

    /// See [`crate::DocumentIndex::weekly`].
    pub async fn weekly(
        &self,
        org: OrgId,
        q: &Query,
        metric: &str,
    ) -> Result<Vec<WeekBucket>, IndexError> {
        validate_query(q)?;
        validate_metric(metric)?;
        let operation = "weekly";
        let body = weekly_body(org, q, metric);
        let answer = self.post_json(operation, "_search", &body).await?;
        let parsed: WeeklyResponse = parse(operation, &answer)?;
        parsed
            .aggregations
            .weeks
            .buckets
            .into_iter()
            .map(|b| b.into_week(operation))
            .collect()
    }

    /// See [`crate::DocumentIndex::count`].
    pub async fn count(&self, org: OrgId) -> Result<u64, IndexError> {
        let operation = "count";
        let body = json!({ "query": org_filtered(org, &Query::default(), Vec::new()) });
        let answer = self.post_json(operation, "_count", &body).await?;
        let parsed: CountResponse = parse(operation, &answer)?;
        Ok(parsed.count)
    }

    /// See [`crate::DocumentIndex::check`]: the cluster is not red and the index exists.
    pub async fn check(&self) -> Result<(), IndexError> {
        let operation = "check the cluster";
        let (status, answer) = self
            .send(operation, Method::GET, "_cluster/health", Payload::None)
            .await?;
        expect_success(operation, status, &answer)?;
        let health: HealthResponse = parse(operation, &answer)?;
        if health.status == "red" {
            return Err(IndexError::NotReady("the cluster status is red"));
        }
        let operation = "check the index";
        let (status, answer) = self
            .send(operation, Method::HEAD, &self.index, Payload::None)
            .await?;
        if status == StatusCode::NOT_FOUND {
            return Err(IndexError::NotReady("the index does not exist yet"));
        }
        expect_success(operation, status, &answer)
    }

    /// Sends one `_bulk` request of `items` actions and fails if any item failed.
    pub(crate) async fn bulk(
        &self,
        what: &'static str,
        lines: String,
        items: usize,
    ) -> Result<(), IndexError> {
        let operation = if what == "upsert" {
            "bulk upsert"
        } else {
            "bulk delete"
        };
        let path = format!("{}/_bulk?refresh=wait_for", self.index);
        let (status, answer) = self
            .send(operation, Method::POST, &path, Payload::Ndjson(lines))
            .await?;
        expect_success(operation, status, &answer)?;
        let parsed: BulkResponse = parse(operation, &answer)?;
        if parsed.items.len() != items {
            return Err(IndexError::BadResponse(operation));
        }
        // A delete of a missing document answers 404 without an error: not a failure.
        let failures: Vec<&BulkItemResult> = parsed
            .items
            .iter()
            .flat_map(|item| item.values())
            .filter(|result| result.error.is_some())
            .collect();
        match failures.first() {
            None => Ok(()),
            Some(first) => Err(IndexError::Bulk {
                operation: what,
                failed: failures.len(),
                total: items,
                first_status: first.status,
                first_type: first
                    .error
                    .as_ref()
                    .and_then(|e| e.get("type"))
                    .and_then(Value::as_str)
                    .unwrap_or("unknown")
                    .to_owned(),
            }),
        }
    }

    /// POSTs a JSON body to `<index>/<endpoint>` and returns the successful answer's bytes.
    async fn post_json(
        &self,
        operation: &'static str,
        endpoint: &str,
        body: &Value,
    ) -> Result<Vec<u8>, IndexError> {
        let path = format!("{}/{endpoint}", self.index);
        let (status, answer) = self
            .send(operation, Method::POST, &path, Payload::Json(body))
            .await?;
        expect_success(operation, status, &answer)?;
        Ok(answer)
    }

    pub(crate) async fn send(
        &self,
        operation: &'static str,
        method: Method,
        path: &str,
        payload: Payload<'_>,
    ) -> Result<(StatusCode, Vec<u8>), IndexError> {
        let url = self
            .base
            .join(path)
            .map_err(|_| IndexError::Config("the base URL cannot take a path"))?;
        let (content_type, body) = match payload {
            Payload::None => (None, Vec::new()),
            Payload::Json(body) => (
                Some("application/json"),
                serde_json::to_vec(body).map_err(|_| IndexError::BadResponse(operation))?,
            ),
            Payload::Ndjson(lines) => (Some("application/x-ndjson"), lines.into_bytes()),
        };
        let mut request = self.http.request(method.clone(), url.clone());
        // The caller's trace goes on to the cluster (not signed: only the signer's headers are).
        let mut trace = HeaderMap::new();
        mhp_telemetry::inject(&mut trace);
        request = request.headers(trace);
        if let Some(content_type) = content_type {
            request = request.header(reqwest::header::CONTENT_TYPE, content_type);
        }
        match &self.auth {
            OpenSearchAuth::None => {}
            OpenSearchAuth::Basic { user, password } => {
                request = request.basic_auth(user, Some(password.expose()));
            }
            OpenSearchAuth::Signed(signer) => {
                let headers = signer
                    .sign(method.as_str(), &url, &body)
                    .await
                    .map_err(|reason| IndexError::Signing { operation, reason })?;
                request = request.headers(headers);
            }
        }
        if !body.is_empty() {
            request = request.body(body);
        }
        let unavailable = |source| IndexError::Unavailable { operation, source };
        let response = request.send().await.map_err(unavailable)?;
        let status = response.status();
        let bytes = response.bytes().await.map_err(unavailable)?;
        Ok((status, bytes.to_vec()))
    }
}

pub(crate) enum Payload<'a> {
    None,
    Json(&'a Value),
    Ndjson(String),
}

/// `_id` of a document: the organisation and the assessment, so that ids of two organisations
/// can never collide and a delete names its organisation.
fn doc_id(org: OrgId, id: AssessmentId) -> String {
    format!("{org}:{id}")
}

/// The `bool` query of every read: a `term` on the organisation first, then the query's
/// filters, then `extra`. The only place reads are filtered.
fn org_filtered(org: OrgId, q: &Query, extra: Vec<Value>) -> Value {
    let mut filter = vec![json!({ "term": { "org": org.to_string() } })];
    if let Some(team) = q.team {
        filter.push(json!({ "term": { "teams": team.to_string() } }));
    }
    if let Some(subject) = q.subject {
        filter.push(json!({ "term": { "subject": subject.to_string() } }));
    }
    if let Some(kind) = &q.kind {
        filter.push(json!({ "term": { "kind": kind } }));
    }
    if let Some(flag) = &q.flag {
        filter.push(json!({ "term": { "flags": flag } }));
    }
    if let Some(tag) = &q.tag {
        filter.push(json!({ "term": { "tags": tag } }));
    }
    if q.from_ms.is_some() || q.to_ms.is_some() {
        let mut range = serde_json::Map::new();
        if let Some(from) = q.from_ms {
            range.insert("gte".into(), from.into());
        }
        if let Some(to) = q.to_ms {
            range.insert("lte".into(), to.into());
        }
        range.insert("format".into(), "epoch_millis".into());
        filter.push(json!({ "range": { "recorded_at": range } }));
    }
    for (metric, min, max) in &q.metric_ranges {
        filter.push(metric_filter(metric, *min, *max));
    }
    filter.extend(extra);
    json!({ "bool": { "filter": filter } })
}

fn metric_filter(metric: &str, min: Option<f64>, max: Option<f64>) -> Value {
    let field = format!("metrics.{metric}");
    if min.is_none() && max.is_none() {
        return json!({ "exists": { "field": field } });
    }
    let mut range = serde_json::Map::new();
    if let Some(min) = min {
        range.insert("gte".into(), json!(min));
    }
    if let Some(max) = max {
        range.insert("lte".into(), json!(max));
    }
    json!({ "range": { field: range } })
}

fn search_body(org: OrgId, q: &Query, limit: usize) -> Value {
    json!({
        "size": limit,
        "track_total_hits": false,
        "query": org_filtered(org, q, Vec::new()),
        "sort": [ { "recorded_at": "desc" }, { "id": "desc" } ],
    })
}

fn weekly_body(org: OrgId, q: &Query, metric: &str) -> Value {
    let field = format!("metrics.{metric}");
    json!({
        "size": 0,
        "track_total_hits": false,
        // Only documents that have the metric count, as in the embedded backend.
        "query": org_filtered(org, q, vec![json!({ "exists": { "field": field } })]),
        "aggs": {
            "weeks": {
                // Calendar weeks start on Monday 00:00 in the time zone, here UTC.
                "date_histogram": {
                    "field": "recorded_at",
                    "calendar_interval": "week",
                    "time_zone": "UTC",
                    "min_doc_count": 1,
                },
                "aggs": {
                    "mean": { "avg": { "field": field } },
                    "pct": {
                        "percentiles": {
                            "field": field,
                            "percents": [10, 50, 90],
                            "keyed": false,
                        },
                    },
                },
            },
        },
    })
}

fn template_body(index: &str) -> Value {
    let keyword = json!({ "type": "keyword" });
    json!({
        "index_patterns": [index],
        "priority": 100,
        "_meta": { "managed_by": "mhp", "schema_version": 1 },
        "template": {
            "mappings": {
                "dynamic": "strict",
                "dynamic_templates": [
                    { "metrics_as_double": {
                        "path_match": "metrics.*",
                        "match_mapping_type": "double",
                        "mapping": { "type": "double" },
                    } },
                    { "metric_integers_as_double": {
                        "path_match": "metrics.*",
                        "match_mapping_type": "long",
                        "mapping": { "type": "double" },
                    } },
                ],
                "properties": {
                    "org": keyword,
                    "id": keyword,
                    "subject": keyword,
                    "pseudonym": keyword,
                    "teams": keyword,
                    "recorded_at": { "type": "date", "format": "epoch_millis" },
                    "kind": keyword,
                    "analysis_version": keyword,
                    "flags": keyword,
                    "tags": keyword,
                    "metrics": { "type": "object", "dynamic": true },
                },
            },
        },
    })
}

pub(crate) fn push_line(
    lines: &mut String,
    value: &impl serde::Serialize,
) -> Result<(), IndexError> {
    let line = serde_json::to_string(value)
        .map_err(|_| IndexError::Config("a document cannot be written as JSON"))?;
    lines.push_str(&line);
    lines.push('\n');
    Ok(())
}

pub(crate) fn expect_success(
    operation: &'static str,
    status: StatusCode,
    answer: &[u8],
) -> Result<(), IndexError> {
    if status.is_success() {
        Ok(())
    } else {
        Err(IndexError::Http {
            operation,
            status: status.as_u16(),
            error_type: error_type(answer),
        })
    }
}

/// `error.type` of an OpenSearch error answer; the `reason` is never read because it can quote
/// document content.
pub(crate) fn error_type(answer: &[u8]) -> Option<String> {
    let value: Value = serde_json::from_slice(answer).ok()?;
    let kind = value.get("error")?.get("type")?.as_str()?;
    // Error classes are short identifiers; anything else is not passed on.
    let plausible = kind.len() <= 100
        && kind
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.');
    plausible.then(|| kind.to_owned())
}

fn parse<'a, T: Deserialize<'a>>(
    operation: &'static str,
    answer: &'a [u8],
) -> Result<T, IndexError> {
    serde_json::from_slice(answer).map_err(|_| IndexError::BadResponse(operation))
}

pub(crate) fn valid_prefix(prefix: &str) -> bool {
    let mut bytes = prefix.bytes();
    let first_ok = bytes
        .next()
        .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    first_ok
        && prefix.len() <= MAX_PREFIX
        && bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

fn is_loopback(url: &Url) -> bool {
    let Some(host) = url.host_str() else {
        return false;
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[derive(Deserialize)]
struct BulkResponse {
    items: Vec<std::collections::HashMap<String, BulkItemResult>>,
}

#[derive(Deserialize)]
struct BulkItemResult {
    status: u16,
    #[serde(default)]
    error: Option<Value>,
}

#[derive(Deserialize)]
struct DeleteByQueryResponse {
    #[serde(default)]
    failures: Vec<Value>,
}

#[derive(Deserialize)]
struct SearchResponse {
    hits: SearchHits,
}

#[derive(Deserialize)]
struct SearchHits {
    hits: Vec<SearchHit>,
}

#[derive(Deserialize)]
struct SearchHit {
    #[serde(rename = "_source")]
    source: Body,
}

#[derive(Deserialize)]
struct CountResponse {
    count: u64,
}

#[derive(Deserialize)]
struct HealthResponse {
    status: String,
}

#[derive(Deserialize)]
struct WeeklyResponse {
    aggregations: WeeklyAggregations,
}

#[derive(Deserialize)]
struct WeeklyAggregations {
    weeks: WeeklyHistogram,
}

#[derive(Deserialize)]
struct WeeklyHistogram {
    buckets: Vec<WeeklyBucket>,
}

#[derive(Deserialize)]
struct WeeklyBucket {
    key: i64,
    doc_count: u64,
    mean: SingleValue,
    pct: Percentiles,
}

#[derive(Deserialize)]
struct SingleValue {
    value: Option<f64>,
}

#[derive(Deserialize)]
struct Percentiles {
    values: Vec<PercentileValue>,
}

#[derive(Deserialize)]
struct PercentileValue {
    key: f64,
    value: Option<f64>,
}

impl WeeklyBucket {
    fn into_week(self, operation: &'static str) -> Result<WeekBucket, IndexError> {
        let bad = || IndexError::BadResponse(operation);
        let at = |percent: f64| {
            self.pct
                .values
                .iter()
                .find(|v| (v.key - percent).abs() < 1e-9)
                .and_then(|v| v.value)
                .ok_or_else(bad)
        };
        Ok(WeekBucket {
            week_start_ms: self.key,
            count: self.doc_count,
            mean: self.mean.value.ok_or_else(bad)?,
            p10: at(10.0)?,
            p50: at(50.0)?,
            p90: at(90.0)?,
        })
    }
}
