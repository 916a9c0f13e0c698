//! Errors at the edge, as RFC 9457 problem details. This is the one place where errors turn into
//! HTTP responses: every handler returns [`ApiError`], and the normalising middleware turns any
//! other error response (an unknown route, a refused method, a body over the limit) into the
//! same shape. Details name what was wrong with the request and never echo its content.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use mhp_app::Code;
use serde::Serialize;

/// The media type of problem details.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// A problem-details body. `code` is a stable machine-readable name; `type` is derived from it.
#[derive(Debug, Clone, Serialize)]
pub struct Problem {
    #[serde(rename = "type")]
    type_uri: String,
    title: &'static str,
    status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    detail: Option<String>,
    code: Code,
    #[serde(skip_serializing_if = "Option::is_none")]
    request_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    checks: Option<serde_json::Value>,
    /// The rows of an import that cannot be taken (`[{row, error}]`).
    #[serde(skip_serializing_if = "Option::is_none")]
    errors: Option<serde_json::Value>,
}

impl Problem {
    /// A problem with a stable code and a title that does not change between occurrences.
    pub fn new(status: StatusCode, code: Code, title: &'static str) -> Self {
        Self {
            type_uri: format!("urn:mhp:problem:{code}"),
            title,
            status: status.as_u16(),
            detail: None,
            code,
            request_id: None,
            checks: None,
            errors: None,
        }
    }

    /// The generic problem for a status code, used when no handler said more.
    pub fn for_status(status: StatusCode) -> Self {
        let (code, title) = match status {
            StatusCode::BAD_REQUEST => (Code::BadRequest, "The request is malformed"),
            StatusCode::UNAUTHORIZED => (Code::Unauthenticated, "Authentication is required"),
            StatusCode::FORBIDDEN => (Code::Forbidden, "Not allowed"),
            StatusCode::NOT_FOUND => (Code::NotFound, "Not found"),
            StatusCode::METHOD_NOT_ALLOWED => (Code::MethodNotAllowed, "Method not allowed"),
            StatusCode::NOT_ACCEPTABLE => (Code::NotAcceptable, "Not acceptable"),
            StatusCode::REQUEST_TIMEOUT => (Code::Timeout, "The request took too long"),
            StatusCode::CONFLICT => (Code::Conflict, "Conflict"),
            StatusCode::PAYLOAD_TOO_LARGE => {
                (Code::PayloadTooLarge, "The request body is too large")
            }
            StatusCode::UNSUPPORTED_MEDIA_TYPE => {
                (Code::UnsupportedMediaType, "Unsupported media type")
            }
            StatusCode::UNPROCESSABLE_ENTITY => (Code::Invalid, "The request is not valid"),
            StatusCode::TOO_MANY_REQUESTS => (Code::RateLimited, "Too many requests"),
            StatusCode::SERVICE_UNAVAILABLE => (Code::Unavailable, "Service unavailable"),
            s if s.is_server_error() => (Code::Internal, "Internal error"),
            _ => (Code::Error, "Request failed"),
        };
        Self::new(status, code, title)
    }

    /// Adds a human-readable explanation specific to this occurrence.
    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    /// Adds the request id, so a user can quote it to support.
    pub fn with_request_id(mut self, id: Option<String>) -> Self {
        self.request_id = id;
        self
    }

    /// Adds the rows of an import that cannot be taken.
    pub fn with_errors(mut self, errors: serde_json::Value) -> Self {
        self.errors = Some(errors);
        self
    }

    /// Adds the readiness checks.
    pub fn with_checks(mut self, checks: serde_json::Value) -> Self {
        self.checks = Some(checks);
        self
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }
}

/// The code system of MHP's problem codes in an OperationOutcome (the `code` of problem
/// details).
pub const PROBLEM_CODE_SYSTEM: &str = "https://fhir.mhp.health/CodeSystem/problem";

impl Problem {
    /// The same problem as a FHIR OperationOutcome, for FHIR clients (the Bulk Data IG answers
    /// errors so): one issue whose `code` is FHIR's issue type for the status, whose `details`
    /// carry MHP's problem code and title, and whose `diagnostics` the detail and request id.
    pub fn operation_outcome(&self) -> Response {
        let status = self.status();
        let issue_type = match status {
            StatusCode::BAD_REQUEST | StatusCode::UNPROCESSABLE_ENTITY => "invalid",
            StatusCode::UNAUTHORIZED => "login",
            StatusCode::FORBIDDEN => "forbidden",
            StatusCode::NOT_FOUND => "not-found",
            StatusCode::GONE => "deleted",
            StatusCode::CONFLICT => "conflict",
            StatusCode::PAYLOAD_TOO_LARGE => "too-costly",
            StatusCode::METHOD_NOT_ALLOWED
            | StatusCode::NOT_ACCEPTABLE
            | StatusCode::UNSUPPORTED_MEDIA_TYPE => "not-supported",
            StatusCode::TOO_MANY_REQUESTS => "throttled",
            StatusCode::REQUEST_TIMEOUT | StatusCode::GATEWAY_TIMEOUT => "timeout",
            StatusCode::SERVICE_UNAVAILABLE => "transient",
            _ => "exception",
        };
        let mut diagnostics = self.detail.clone().unwrap_or_else(|| self.title.to_owned());
        if let Some(id) = &self.request_id {
            diagnostics.push_str(&format!(" (request id {id})"));
        }
        let body = serde_json::json!({
            "resourceType": "OperationOutcome",
            "issue": [{
                "severity": if status.is_server_error() { "fatal" } else { "error" },
                "code": issue_type,
                "details": {
                    "coding": [{ "system": PROBLEM_CODE_SYSTEM, "code": self.code.to_string() }],
                    "text": self.title,
                },
                "diagnostics": diagnostics,
            }],
        });
        let mut res = (status, body.to_string()).into_response();
        res.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/fhir+json"),
        );
        res
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = self.status();
        let body = serde_json::to_vec(&self).unwrap_or_else(|_| b"{}".to_vec());
        let mut res = (status, body).into_response();
        res.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        // Kept beside the body so the middleware can add the request id without parsing.
        res.extensions_mut().insert(self);
        res
    }
}

/// What a handler can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The request is malformed; the detail says how, without echoing content.
    #[error("bad request: {0}")]
    BadRequest(String),
    /// The path exists, but not with this method.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// The body is not of a media type the route takes.
    #[error("unsupported media type")]
    UnsupportedMediaType,
    /// The body is over the size limit.
    #[error("payload too large")]
    PayloadTooLarge,
    /// No credentials, or credentials that do not authenticate. Deliberately uninformative.
    #[error("unauthenticated")]
    Unauthenticated,
    /// A second factor is due: verify it, or enrol one if the organisation demands it.
    #[error("second factor required")]
    MfaRequired,
    /// A cookie-authenticated write without the session's CSRF token.
    #[error("csrf token missing or wrong")]
    CsrfRejected,
    /// Too many attempts; try again after the given number of seconds.
    #[error("too many attempts")]
    TooManyAttempts(u64),
    /// Authenticated, but the role does not allow this.
    #[error("forbidden")]
    Forbidden,
    /// Authenticated in the organisation, but no role of the caller grants the permission the
    /// route needs (named in the problem's detail, so a client knows what to ask for).
    #[error("forbidden: {0:?} missing")]
    MissingPermission(mhp_domain::Permission),
    /// No such resource in the caller's scope.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// A unique value is taken.
    #[error("{0} already exists")]
    Conflict(&'static str),
    /// The resource was erased (its keys destroyed); it will not come back.
    #[error("{0} erased")]
    Gone(&'static str),
    /// The request is well-formed but its content cannot be accepted (an unreadable
    /// force-plate file, a date that does not exist). `code` is stable; `detail` says what to
    /// fix without echoing the content.
    #[error("unprocessable: {code}")]
    Invalid {
        /// Stable machine-readable reason.
        code: Code,
        /// What was wrong.
        detail: String,
    },
    /// Rows of an import cannot be taken (nothing was stored): each by number and why.
    #[error("unprocessable rows")]
    InvalidRows(Vec<mhp_app::import::RowError>),
    /// A dependency is down; try again later.
    #[error("service unavailable")]
    Unavailable,
    /// A fault of ours. The cause is logged, never sent.
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl From<mhp_storage::StorageError> for ApiError {
    fn from(e: mhp_storage::StorageError) -> Self {
        use mhp_storage::StorageError as S;
        match e {
            S::NotFound { entity } => ApiError::NotFound(entity),
            S::Conflict { entity } => ApiError::Conflict(entity),
            e if e.is_transient() => ApiError::Unavailable,
            e => ApiError::Internal(Box::new(e)),
        }
    }
}

impl From<mhp_app::AppError> for ApiError {
    fn from(e: mhp_app::AppError) -> Self {
        use mhp_app::AppError as A;
        match e {
            A::NotFound(what) => ApiError::NotFound(what),
            A::Conflict(what) => ApiError::Conflict(what),
            A::Gone(what) => ApiError::Gone(what),
            A::Malformed(detail) => ApiError::BadRequest(detail),
            A::Invalid { code, detail } => ApiError::Invalid { code, detail },
            A::Unavailable(_) => ApiError::Unavailable,
            A::Internal(cause) => ApiError::Internal(cause),
        }
    }
}

impl From<mhp_app::keys::KeysError> for ApiError {
    fn from(e: mhp_app::keys::KeysError) -> Self {
        mhp_app::AppError::from(e).into()
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let problem = match &self {
            ApiError::BadRequest(detail) => {
                Problem::for_status(StatusCode::BAD_REQUEST).with_detail(detail.clone())
            }
            ApiError::UnsupportedMediaType => {
                Problem::for_status(StatusCode::UNSUPPORTED_MEDIA_TYPE)
                    .with_detail("send the body as application/json")
            }
            ApiError::PayloadTooLarge => Problem::for_status(StatusCode::PAYLOAD_TOO_LARGE),
            ApiError::MethodNotAllowed => Problem::for_status(StatusCode::METHOD_NOT_ALLOWED),
            ApiError::Unauthenticated => {
                let mut res = Problem::for_status(StatusCode::UNAUTHORIZED).into_response();
                res.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"mhp\""),
                );
                return res;
            }
            ApiError::MfaRequired => Problem::new(
                StatusCode::FORBIDDEN,
                Code::MfaRequired,
                "A second factor is required",
            )
            .with_detail(
                "verify your authenticator code at /api/v1/auth/mfa/verify, or enrol one at \
                 /api/v1/auth/mfa/totp",
            ),
            ApiError::CsrfRejected => Problem::new(
                StatusCode::FORBIDDEN,
                Code::Csrf,
                "CSRF token missing or wrong",
            )
            .with_detail("send the session's token in the X-CSRF-Token header"),
            ApiError::TooManyAttempts(secs) => {
                let mut res = Problem::for_status(StatusCode::TOO_MANY_REQUESTS).into_response();
                if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
                    res.headers_mut().insert(header::RETRY_AFTER, v);
                }
                return res;
            }
            ApiError::Forbidden => Problem::for_status(StatusCode::FORBIDDEN)
                .with_detail("your role does not allow this"),
            ApiError::MissingPermission(p) => Problem::for_status(StatusCode::FORBIDDEN)
                .with_detail(format!(
                    "your roles in this organisation do not grant the permission {}",
                    p.as_str()
                )),
            ApiError::NotFound(what) => {
                Problem::for_status(StatusCode::NOT_FOUND).with_detail(format!("{what} not found"))
            }
            ApiError::Gone(what) => Problem::new(StatusCode::GONE, Code::Erased, "Erased")
                .with_detail(format!(
                    "the {what} was erased and its data can no longer be read"
                )),
            ApiError::Conflict(what) => Problem::for_status(StatusCode::CONFLICT)
                .with_detail(format!("{what} already exists")),
            ApiError::Invalid { code, detail } => Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                *code,
                "The request's content cannot be accepted",
            )
            .with_detail(detail.clone()),
            ApiError::InvalidRows(rows) => Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                Code::Invalid,
                "The request's content cannot be accepted",
            )
            .with_detail(format!(
                "{} row(s) cannot be taken; nothing was stored",
                rows.len()
            ))
            .with_errors(serde_json::to_value(rows).unwrap_or_default()),
            ApiError::Unavailable => Problem::for_status(StatusCode::SERVICE_UNAVAILABLE),
            ApiError::Internal(cause) => {
                tracing::error!(error = %cause, "internal error");
                Problem::for_status(StatusCode::INTERNAL_SERVER_ERROR)
            }
        };
        problem.into_response()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use http_body_util::BodyExt as _;

    use super::*;

    async fn render(e: ApiError) -> String {
        let res = e.into_response();
        let status = res.status().as_u16();
        let media = res
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let body = res.into_body().collect().await.unwrap().to_bytes();
        let body = if body.is_empty() {
            "(empty)".to_owned()
        } else {
            String::from_utf8(body.to_vec()).unwrap()
        };
        format!("{status} {media} {body}\n")
    }

    /// The bodies clients see: a change of wording or code shows up as a diff to review
    /// (`UPDATE_EXPECT=1` accepts it). Causes of internal errors never appear.
    #[tokio::test]
    async fn problem_bodies_match_their_snapshot() {
        let mut out = String::new();
        for e in [
            ApiError::BadRequest("after is not an assessment id".into()),
            ApiError::Unauthenticated,
            ApiError::MfaRequired,
            ApiError::MissingPermission(mhp_domain::Permission::ReadClinical),
            ApiError::NotFound("subject"),
            ApiError::Gone("subject"),
            ApiError::Conflict("team name"),
            ApiError::Invalid {
                code: mhp_app::Code::InvalidRecording,
                detail: "no column holds force".into(),
            },
            ApiError::TooManyAttempts(30),
            ApiError::Unavailable,
            ApiError::Internal("a secret cause: postgres://user:pw@db".into()),
            mhp_app::AppError::Gone("subject").into(),
        ] {
            out.push_str(&render(e).await);
        }
        expect_test::expect![[r#"
            400 application/problem+json {"type":"urn:mhp:problem:bad-request","title":"The request is malformed","status":400,"detail":"after is not an assessment id","code":"bad-request"}
            401 application/problem+json {"type":"urn:mhp:problem:unauthenticated","title":"Authentication is required","status":401,"code":"unauthenticated"}
            403 application/problem+json {"type":"urn:mhp:problem:mfa-required","title":"A second factor is required","status":403,"detail":"verify your authenticator code at /api/v1/auth/mfa/verify, or enrol one at /api/v1/auth/mfa/totp","code":"mfa-required"}
            403 application/problem+json {"type":"urn:mhp:problem:forbidden","title":"Not allowed","status":403,"detail":"your roles in this organisation do not grant the permission read_clinical","code":"forbidden"}
            404 application/problem+json {"type":"urn:mhp:problem:not-found","title":"Not found","status":404,"detail":"subject not found","code":"not-found"}
            410 application/problem+json {"type":"urn:mhp:problem:erased","title":"Erased","status":410,"detail":"the subject was erased and its data can no longer be read","code":"erased"}
            409 application/problem+json {"type":"urn:mhp:problem:conflict","title":"Conflict","status":409,"detail":"team name already exists","code":"conflict"}
            422 application/problem+json {"type":"urn:mhp:problem:invalid-recording","title":"The request's content cannot be accepted","status":422,"detail":"no column holds force","code":"invalid-recording"}
            429 application/problem+json {"type":"urn:mhp:problem:rate-limited","title":"Too many requests","status":429,"code":"rate-limited"}
            503 application/problem+json {"type":"urn:mhp:problem:unavailable","title":"Service unavailable","status":503,"code":"unavailable"}
            500 application/problem+json {"type":"urn:mhp:problem:internal","title":"Internal error","status":500,"code":"internal"}
            410 application/problem+json {"type":"urn:mhp:problem:erased","title":"Erased","status":410,"detail":"the subject was erased and its data can no longer be read","code":"erased"}
        "#]]
        .assert_eq(&out);
    }
}
