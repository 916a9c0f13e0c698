//! The OAuth 2.0 token endpoint for machine clients: the client credentials grant (RFC 6749
//! §4.4). An API key is the client: its public id is the `client_id` and the key itself
//! (`mhp_<id>_<secret>`) the `client_secret`, so a client is scoped to the key's one
//! organisation and role, rotated and revoked as the key is. The access token is short-lived
//! (15 minutes), signed as every MHP access token (EdDSA, the issuer's key set), and names the
//! key (`sub` = `apikey:<id>`): every request made with it looks the key up again, so a revoked
//! key's tokens stop at once. No refresh token (§4.4.3).
//!
//! Answers are OAuth's own (§5.1, §5.2): `{"access_token", "token_type", "expires_in"}`, or
//! `{"error", "error_description"}` with 400 or 401, never problem details, which OAuth
//! client libraries do not read.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use mhp_auth::api_key::PresentedKey;
use mhp_auth::events::{Actor, AuthEvent, AuthFailure};
use mhp_storage::Access;
use mhp_storage::repo::api_keys;
use serde_json::json;

use crate::authn::RequestMeta;
use crate::middleware::OwnErrorBody;
use crate::{ApiError, AppState, security};

/// Where clients ask for tokens.
pub const TOKEN_PATH: &str = "/oauth/token";

/// A token endpoint error (RFC 6749 §5.2).
fn error(status: StatusCode, code: &'static str, description: &str, basic: bool) -> Response {
    let mut res = (
        status,
        [
            (header::CACHE_CONTROL, "no-store"),
            (header::PRAGMA, "no-cache"),
        ],
        axum::Json(json!({ "error": code, "error_description": description })),
    )
        .into_response();
    if basic && status == StatusCode::UNAUTHORIZED {
        res.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"mhp\", charset=\"UTF-8\""),
        );
    }
    res.extensions_mut().insert(OwnErrorBody);
    res
}

/// The client's credentials from `Authorization: Basic` (client_secret_basic, the id and
/// secret form-encoded, §2.3.1) or the body (client_secret_post); both at once is refused.
fn credentials(
    headers: &HeaderMap,
    form: &[(String, String)],
) -> Result<(String, String, bool), &'static str> {
    let field = |name: &str| form.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "));
    match (basic, field("client_secret")) {
        (Some(_), Some(_)) => Err("use one client authentication method, not two"),
        (Some(b64), None) => {
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(b64.trim())
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .ok_or("the Basic credentials are not base64 of id:secret")?;
            let (id, secret) = decoded
                .split_once(':')
                .ok_or("the Basic credentials are not base64 of id:secret")?;
            let unescape = |s: &str| {
                url::form_urlencoded::parse(format!("x={s}").as_bytes())
                    .next()
                    .map(|(_, v)| v.into_owned())
                    .unwrap_or_default()
            };
            Ok((unescape(id), unescape(secret), true))
        }
        (None, Some(secret)) => {
            let id = field("client_id").ok_or("client_id is missing")?;
            Ok((id, secret, false))
        }
        (None, None) => Err("the client did not authenticate"),
    }
}

/// `POST /oauth/token`.
pub async fn token(
    State(state): State<AppState>,
    meta: RequestMeta,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match issue(&state, &meta, &headers, &body).await {
        Ok(res) | Err(Refusal::Answer(res)) => res,
        Err(Refusal::Api(e)) => e.into_response(),
    }
}

enum Refusal {
    Answer(Response),
    Api(ApiError),
}

impl From<ApiError> for Refusal {
    fn from(e: ApiError) -> Self {
        Refusal::Api(e)
    }
}

impl From<mhp_storage::StorageError> for Refusal {
    fn from(e: mhp_storage::StorageError) -> Self {
        Refusal::Api(e.into())
    }
}

async fn issue(
    state: &AppState,
    meta: &RequestMeta,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Response, Refusal> {
    let bad =
        |d: &str| Refusal::Answer(error(StatusCode::BAD_REQUEST, "invalid_request", d, false));
    let form_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !form_type {
        return Err(bad(
            "the body must be application/x-www-form-urlencoded (RFC 6749 §4.4.2)",
        ));
    }
    let form: Vec<(String, String)> =
        serde_urlencoded::from_bytes(body).map_err(|_| bad("the body is not a form"))?;
    // Parameters sent without a value are treated as omitted; none may be repeated (§3.1).
    let mut names: Vec<&str> = form.iter().map(|(k, _)| k.as_str()).collect();
    names.sort_unstable();
    if names.windows(2).any(|w| w[0] == w[1]) {
        return Err(bad("a parameter is repeated"));
    }
    let grant = form.iter().find(|(k, _)| k == "grant_type").map(|(_, v)| v);
    match grant.map(String::as_str) {
        Some("client_credentials") => {}
        Some(_) => {
            return Err(Refusal::Answer(error(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                "only client_credentials is granted here",
                false,
            )));
        }
        None => return Err(bad("grant_type is missing")),
    }
    // Scopes are the key's role; a client may ask for none, or for exactly that.
    let (id, secret, basic) = credentials(headers, &form)
        .map_err(|d| Refusal::Answer(error(StatusCode::UNAUTHORIZED, "invalid_client", d, true)))?;
    let refused = |basic: bool| {
        Refusal::Answer(error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "the client credentials are not valid",
            basic,
        ))
    };
    let presented = PresentedKey::parse(&secret).filter(|p| p.id == id);
    let Some(presented) = presented else {
        refuse(state, meta, None).await;
        return Err(refused(basic));
    };
    let now = state.app.clock.now();
    let mut tx = state.app.db.operator_lookup().await?;
    let found = api_keys::find_for_authentication(&mut tx, &presented.id).await?;
    let Some((key, stored)) = found else {
        drop(tx);
        refuse(state, meta, None).await;
        return Err(refused(basic));
    };
    let matches = presented.matches(&stored)
        || api_keys::previous_secret(&mut tx, &key.id, now)
            .await?
            .is_some_and(|h| presented.matches(&h));
    drop(tx);
    if !matches || !key.is_active(now) {
        refuse(state, meta, Some(&key)).await;
        return Err(refused(basic));
    }
    if let Some((_, scope)) = form.iter().find(|(k, _)| k == "scope")
        && !scope
            .split(' ')
            .all(|s| s.is_empty() || s == key.role.as_str())
    {
        return Err(Refusal::Answer(error(
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            "a client's only scope is its key's role",
            false,
        )));
    }
    let signing = state
        .identity
        .token_keys
        .signing_key(&state.app.db, now)
        .await?;
    use mhp_auth::token::{self, Claims};
    let now_s = now.as_millis() / 1000;
    let claims = Claims {
        iss: state.identity.token_keys.issuer.clone(),
        aud: token::AUDIENCE.to_owned(),
        sub: format!("apikey:{}", key.id),
        exp: now_s + token::ACCESS_TTL_S,
        nbf: now_s,
        iat: now_s,
        jti: token::random_id(),
        amr: Vec::new(),
    };
    let (kid, seed) = &signing;
    let access =
        token::sign(&claims, kid, seed.expose()).map_err(|e| ApiError::Internal(Box::new(e)))?;
    // The issue is in the key's organisation's audit log before the token leaves.
    let actor = Actor::ApiKey(key.id.clone());
    let event = AuthEvent::ClientTokenIssued {
        key_id: key.id.clone(),
    };
    let mut tx = state.app.db.operator(Access::Write).await?;
    let record = security::audit_event(&actor, &event, meta);
    mhp_storage::repo::audit::append_as_operator(&mut tx, Some(key.org), &record, now).await?;
    tx.commit().await?;
    security::emit(&actor, Some(key.org), &event, meta);
    Ok((
        StatusCode::OK,
        [
            (header::CACHE_CONTROL, "no-store"),
            (header::PRAGMA, "no-cache"),
        ],
        axum::Json(json!({
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": token::ACCESS_TTL_S,
            "scope": key.role.as_str(),
        })),
    )
        .into_response())
}

async fn refuse(state: &AppState, meta: &RequestMeta, key: Option<&api_keys::ApiKey>) {
    let event = AuthEvent::AuthenticationFailed {
        failure: AuthFailure::Invalid,
        key_id: key.map(|k| k.id.clone()),
    };
    security::record_standalone(state, &Actor::Anonymous, key.map(|k| k.org), &event, meta).await;
}
