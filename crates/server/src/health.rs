//! Liveness, readiness and metrics endpoints.

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::AppState;
use crate::metrics::Snapshot;
use crate::problem::Problem;

/// How long a readiness dependency may take before it counts as down.
const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

/// Liveness: the process serves HTTP. Touches nothing else, so a slow database never gets a
/// healthy instance restarted.
pub async fn healthz() -> Response {
    (
        [(
            axum::http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        r#"{"status":"ok"}"#,
    )
        .into_response()
}

/// Readiness: not shutting down, the database answers, its migrations are current, the object
/// store is there. A load balancer sends traffic only while this says 200.
pub async fn readyz(State(state): State<AppState>) -> Response {
    if state.readiness.is_draining() {
        return Problem::for_status(StatusCode::SERVICE_UNAVAILABLE)
            .with_detail("shutting down")
            .into_response();
    }
    let migrations =
        tokio::time::timeout(CHECK_TIMEOUT, mhp_storage::migrate::status(&state.app.db));
    let objects = tokio::time::timeout(CHECK_TIMEOUT, state.app.objects.check());
    let (migrations, objects) = tokio::join!(migrations, objects);
    let database = match migrations {
        Ok(Ok(status)) if status.is_current() => "ok".to_owned(),
        Ok(Ok(status)) => format!(
            "migrations pending: {} of {} applied",
            status.applied, status.expected
        ),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "readiness: database check failed");
            "unreachable or failing".to_owned()
        }
        Err(_) => "timed out".to_owned(),
    };
    let object_store = match objects {
        Ok(Ok(())) => "ok",
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "readiness: object store check failed");
            "failing"
        }
        Err(_) => "timed out",
    };
    let checks = json!({
        "database": database,
        "backend": state.app.db.backend().as_str(),
        "object_store": object_store,
    });
    if database == "ok" && object_store == "ok" {
        Json(json!({ "status": "ready", "checks": checks })).into_response()
    } else {
        Problem::for_status(StatusCode::SERVICE_UNAVAILABLE)
            .with_detail("a dependency is not ready")
            .with_checks(checks)
            .into_response()
    }
}

/// Prometheus metrics.
pub async fn metrics(State(state): State<AppState>) -> Response {
    let queues = queue_stats(&state).await;
    let (alerts, backups) = async {
        let Ok(mut tx) = state.app.db.operator(mhp_storage::Access::Read).await else {
            return (None, None);
        };
        let alerts = mhp_storage::repo::security::alert_counts(&mut tx)
            .await
            .ok();
        let backups = mhp_storage::repo::backups::latest_good(&mut tx).await.ok();
        (alerts, backups)
    }
    .await;
    let body = state.metrics.render(&Snapshot {
        backups,
        now_ms: state.app.clock.now().as_millis(),
        queues,
        security_sinks: state.app.security.sinks(),
        security_progress: state.app.security.progress(),
        webhooks: state.app.webhooks.figures(),
        read_events: state.app.read_events.figures(),
        alerts,
        pool: state.app.db.pool_stats(),
        backend: state.app.db.backend().as_str(),
        version: state.app.build.version,
        ready: !state.readiness.is_draining(),
    });
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        body,
    )
        .into_response()
}

/// Queue figures of every catalogue pipeline (zeros for idle ones), so an autoscaler sees
/// every series; `None` when the database did not answer.
async fn queue_stats(state: &AppState) -> Option<Vec<mhp_storage::repo::pipelines::QueueStat>> {
    use mhp_storage::repo::pipelines::{self as queue, QueueStat};
    let mut tx = state
        .app
        .db
        .operator(mhp_storage::Access::Read)
        .await
        .ok()?;
    let mut stats = queue::queue_stats(&mut tx, state.app.clock.now())
        .await
        .ok()?;
    for p in mhp_domain::pipeline::CATALOGUE {
        if !stats.iter().any(|s| s.pipeline == p.name) {
            stats.push(QueueStat {
                pipeline: p.name.to_owned(),
                due: 0,
                pending: 0,
                running: 0,
                oldest_due_age_ms: 0,
            });
        }
    }
    stats.sort_by(|a, b| a.pipeline.cmp(&b.pipeline));
    Some(stats)
}

/// Discovery of MHP's own issuer (OpenID Connect Discovery 1.0 §3, RFC 8414): the issuer of
/// the access tokens (the public URL), where its keys are (the JWKS) and its token endpoint, so
/// that another service can verify MHP's tokens with an off-the-shelf library. MHP signs access
/// tokens for its API (audience `mhp-api`, EdDSA); it is not an OpenID provider for other
/// applications, so there is no authorization endpoint and no ID token: the fields say so.
pub async fn openid_configuration(State(state): State<AppState>) -> Response {
    let issuer = &state.identity.token_keys.issuer;
    let document = json!({
        "issuer": issuer,
        "jwks_uri": format!("{issuer}/.well-known/jwks.json"),
        // Tokens come from a signed-in session (`POST /api/v1/auth/token`), not from an
        // authorization endpoint: no response type issues one.
        "response_types_supported": ["none"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["EdDSA"],
        "claims_supported": ["iss", "sub", "aud", "exp", "iat", "nbf", "amr"],
        // Machine clients (an API key is the client): RFC 6749 §4.4.
        "token_endpoint": format!("{issuer}{}", crate::oauth::TOKEN_PATH),
        "grant_types_supported": ["client_credentials"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
    });
    (
        [(header::CACHE_CONTROL, "public, max-age=300")],
        Json(document),
    )
        .into_response()
}

/// The public keys that verify access tokens (RFC 7517).
pub async fn jwks(State(state): State<AppState>) -> Result<Response, crate::ApiError> {
    let set = state
        .identity
        .token_keys
        .jwks(&state.app.db, state.app.clock.now())
        .await?;
    Ok(([(header::CACHE_CONTROL, "public, max-age=300")], Json(set)).into_response())
}
