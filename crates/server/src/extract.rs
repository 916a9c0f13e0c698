//! Request extractors that fail with problem details and never echo the request's content.

use axum::extract::{FromRequest, Request};
use axum::http::{StatusCode, header};
use bytes::Bytes;
use serde::de::DeserializeOwned;

use crate::ApiError;

/// A JSON body. Refuses other media types (415), bodies over the limit (413) and malformed or
/// mis-shaped JSON (400, naming the line and column and, where safe, the field).
#[derive(Debug, Clone)]
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|m| {
                let m = m.trim();
                m.eq_ignore_ascii_case("application/json")
                    || (m.starts_with("application/") && m.ends_with("+json"))
            });
        if !is_json {
            return Err(ApiError::UnsupportedMediaType);
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::PayloadTooLarge
            } else {
                ApiError::BadRequest("the request body could not be read".into())
            }
        })?;
        serde_json::from_slice(&bytes)
            .map(ApiJson)
            .map_err(|e| ApiError::BadRequest(describe_json_error(&e)))
    }
}

/// Describes a JSON error by position and kind. serde's messages for type errors quote the
/// offending value (which may be a name or a birth date), so only messages about fields, which
/// name the schema rather than the data, are passed on.
fn describe_json_error(e: &serde_json::Error) -> String {
    use serde_json::error::Category;
    let at = format!("line {}, column {}", e.line(), e.column());
    match e.classify() {
        Category::Syntax => format!("malformed JSON at {at}"),
        Category::Eof => "the JSON body ends too early".to_owned(),
        Category::Io => "the request body could not be read".to_owned(),
        Category::Data => {
            let msg = e.to_string();
            let safe = ["missing field `", "unknown field `", "duplicate field `"]
                .iter()
                .any(|p| msg.starts_with(p));
            match (safe, msg.split_once(" at line")) {
                (true, Some((head, _))) => format!("{head} (at {at})"),
                _ => format!("a value has the wrong type or is out of range at {at}"),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        name: String,
        age: u8,
    }

    fn err(json: &str) -> String {
        describe_json_error(&serde_json::from_str::<Body>(json).unwrap_err())
    }

    #[test]
    fn type_errors_do_not_echo_the_value() {
        let msg = err(r#"{"name": "Jane Doe", "age": "Jane Doe"}"#);
        assert!(!msg.contains("Jane"), "{msg}");
        assert!(msg.contains("wrong type"), "{msg}");
    }

    #[test]
    fn field_errors_name_the_field() {
        assert_eq!(
            err(r#"{"age": 3}"#),
            "missing field `name` (at line 1, column 10)"
        );
        assert!(err(r#"{"name": "x", "age": 3, "nick": 1}"#).starts_with("unknown field `nick`"));
        assert_eq!(err(r#"{"name": "#), "the JSON body ends too early");
        assert_eq!(err("{nope}"), "malformed JSON at line 1, column 2");
    }
}
