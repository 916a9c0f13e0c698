//! The middleware every request passes through, outermost first: the frame (request id, client
//! address, security headers), observation (log line and metrics), and the normalising of error
//! responses into problem details.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tracing::Instrument as _;

use crate::AppState;
use crate::problem::Problem;

/// The header carrying the request id, in and out.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The client's address: the peer's, or behind a trusted proxy the one it forwarded.
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub std::net::IpAddr);

/// The client behind `peer`: the TCP peer's address, unless the peer is a trusted proxy, in
/// which case the rightmost address of `X-Forwarded-For` that is not a trusted proxy (addresses
/// to its left were written by the client and prove nothing). Throttling, audit events and
/// security monitoring all use it.
pub fn forwarded_client(
    peer: std::net::IpAddr,
    headers: &axum::http::HeaderMap,
    trusted: &[mhp_egress::IpNet],
) -> std::net::IpAddr {
    let is_trusted = |ip: &std::net::IpAddr| trusted.iter().any(|n| n.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    let mut client = peer;
    // Every X-Forwarded-For header, in order, as one list; walked from the right.
    let hops: Vec<std::net::IpAddr> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .map(|h| h.parse::<std::net::IpAddr>())
        .collect::<Result<_, _>>()
        .unwrap_or_default();
    for hop in hops.iter().rev() {
        client = *hop;
        if !is_trusted(hop) {
            break;
        }
    }
    client
}

/// The request id, as stored in request extensions (shared: the layers that keep it past the
/// handler clone a reference, not the text).
#[derive(Debug, Clone)]
pub struct RequestId(pub std::sync::Arc<str>);

/// The outermost layer, framing every request and response: takes the caller's `x-request-id`
/// when it is short and plain (at most 64 of `[A-Za-z0-9._-]`), otherwise mints one, and
/// stores it for handlers; finds the client's address ([`forwarded_client`]); on the way out,
/// returns the request id and sets [`HARDENING`]. One layer rather than three: each layer is
/// a boxed future and a clone of the stack below it on every request.
pub async fn frame(
    State(trusted): State<std::sync::Arc<Vec<mhp_egress::IpNet>>>,
    mut req: Request,
    next: Next,
) -> Response {
    let id = req
        .headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|s| {
            !s.is_empty()
                && s.len() <= 64
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        })
        // A random id (version 4, from a thread-local generator): a time-ordered one takes a
        // process-wide lock for its counter on every request.
        .map_or_else(
            || {
                let mut text = [0u8; uuid::fmt::Hyphenated::LENGTH];
                std::sync::Arc::from(&*uuid::Uuid::new_v4().hyphenated().encode_lower(&mut text))
            },
            std::sync::Arc::from,
        );
    let peer = req
        .extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip());
    if let Some(peer) = peer {
        let client = forwarded_client(peer, req.headers(), &trusted);
        req.extensions_mut().insert(ClientIp(client));
    }
    let header = HeaderValue::from_str(&id).ok();
    req.extensions_mut().insert(RequestId(id));
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    for (name, value) in HARDENING_HEADERS.iter() {
        h.entry(name).or_insert_with(|| value.clone());
    }
    if let Some(v) = header {
        h.insert(REQUEST_ID, v);
    }
    res
}

/// Logs one line per request (method, route template, status, duration, request id; never the
/// path's values, the query or a body) and records the request's metrics.
pub async fn observe(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = method_label(req.method());
    let matched = req.extensions().get::<MatchedPath>().cloned();
    let route = matched.as_ref().map_or("unmatched", MatchedPath::as_str);
    let request_id = req.extensions().get::<RequestId>().map_or("", |r| &*r.0);
    // A server span named by the route template; a caller's `traceparent` becomes its parent.
    let span = tracing::info_span!(
        "request",
        otel.name = %format_args!("{method} {route}"),
        otel.kind = "server",
        request_id = %request_id,
        method,
        route = %route,
        http.response.status_code = tracing::field::Empty,
    );
    mhp_telemetry::set_parent(&span, req.headers());
    let res = next.run(req).instrument(span.clone()).await;
    let elapsed = started.elapsed();
    let status = res.status().as_u16();
    span.record("http.response.status_code", status);
    state.metrics.record(method, route, status, elapsed);
    span.in_scope(|| {
        tracing::info!(
            target: "mhp::http",
            status,
            duration_ms = elapsed.as_secs_f64() * 1000.0,
            "request"
        );
    });
    res
}

/// Headers that harden every response (a header a handler set already is kept), set by
/// [`frame`]. The API
/// serves no HTML, so the content security policy forbids everything; pages set their own. The
/// compliance checks read this list.
pub const HARDENING: &[(&str, &str)] = &[
    ("x-content-type-options", "nosniff"),
    ("x-frame-options", "DENY"),
    ("referrer-policy", "no-referrer"),
    (
        "content-security-policy",
        "default-src 'none'; frame-ancestors 'none'; base-uri 'none'",
    ),
    (
        "strict-transport-security",
        "max-age=63072000; includeSubDomains",
    ),
    ("cache-control", "no-store"),
    ("cross-origin-opener-policy", "same-origin"),
    ("cross-origin-resource-policy", "same-origin"),
    (
        "permissions-policy",
        "camera=(), microphone=(), geolocation=()",
    ),
];

/// [`HARDENING`] as header names and values, made once.
static HARDENING_HEADERS: std::sync::LazyLock<Vec<(HeaderName, HeaderValue)>> =
    std::sync::LazyLock::new(|| {
        HARDENING
            .iter()
            .map(|(name, value)| {
                (
                    HeaderName::from_static(name),
                    HeaderValue::from_static(value),
                )
            })
            .collect()
    });

/// Marks an error response whose body a protocol defines (OAuth 2.0's token errors): problem
/// details leave it as it is.
#[derive(Debug, Clone, Copy)]
pub struct OwnErrorBody;

/// Turns every error response that is not already problem details (unknown route, refused
/// method, body over the limit, time-out, framework rejections) into problem details, dropping
/// the framework's text, which may quote the request.
pub async fn problem_details(req: Request, next: Next) -> Response {
    let request_id = req.extensions().get::<RequestId>().map(|r| r.0.clone());
    let fhir = is_fhir_bulk(req.uri().path());
    let res = next.run(req).await;
    let status = res.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return res;
    }
    // A protocol that has its own error bodies (OAuth's token endpoint) keeps them.
    if res.extensions().get::<OwnErrorBody>().is_some() {
        return res;
    }
    // Pages answer their own errors in HTML, for people.
    if res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"))
    {
        return res;
    }
    let mut res = render_problem(res, request_id, fhir);
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        // The body was refused unread: the connection cannot carry another request.
        res.headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    res
}

/// Whether `path` is one of the FHIR Bulk Data routes (kick-off, status, files), whose errors
/// are OperationOutcomes as the IG asks.
pub(crate) fn is_fhir_bulk(path: &str) -> bool {
    let Some(rest) = path.strip_prefix("/api/v1/orgs/") else {
        return false;
    };
    let kick_off = path.ends_with("/$export") || path.ends_with("/%24export");
    rest.contains("/fhir/bulk/")
        || (kick_off && (rest.contains("/fhir/Patient/") || rest.contains("/fhir/Group/")))
}

fn render_problem(res: Response, request_id: Option<std::sync::Arc<str>>, fhir: bool) -> Response {
    // A handler's problem is rendered again with the request id; anything else becomes the
    // generic problem for its status. FHIR clients get it as an OperationOutcome.
    let problem = res
        .extensions()
        .get::<Problem>()
        .cloned()
        .unwrap_or_else(|| Problem::for_status(res.status()))
        .with_request_id(request_id.map(|id| id.to_string()));
    let mut out = if fhir {
        problem.operation_outcome()
    } else {
        problem.into_response()
    };
    for keep in [header::ALLOW, header::RETRY_AFTER, header::WWW_AUTHENTICATE] {
        if let Some(v) = res.headers().get(&keep) {
            out.headers_mut().insert(keep, v.clone());
        }
    }
    out
}

fn method_label(m: &Method) -> &'static str {
    match *m {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "OTHER",
    }
}
