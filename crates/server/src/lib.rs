//! MHP's HTTP server: the router, the middleware every request passes through, problem details,
//! and a serve loop that shuts down gracefully (readiness turns off first, then in-flight
//! requests finish).
//!
//! The binary builds an [`AppState`] from its settings and calls [`serve`]; tests do the same on
//! a random port.

pub mod api;
pub mod authn;
pub mod credential_cache;
mod extract;
mod health;
mod local;
mod metrics;
pub mod middleware;
pub mod oauth;
pub mod openapi;
mod problem;
pub mod security;
pub mod tokens;
pub mod web;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use axum::routing::get;
use mhp_app::App;
use tokio::net::TcpListener;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;

pub use api::fhir_bulk::run as run_fhir_exports;
pub use extract::ApiJson;
pub use local::{LocalError, local_state, local_state_at};
pub use metrics::HttpMetrics;
pub use mhp_app::BuildInfo;
pub use middleware::{REQUEST_ID, RequestId};
pub use problem::{ApiError, PROBLEM_JSON, Problem};

/// Whether the instance should receive traffic.
#[derive(Debug, Default)]
pub struct Readiness {
    draining: AtomicBool,
}

impl Readiness {
    /// From now on `/readyz` answers 503.
    pub fn start_draining(&self) {
        self.draining.store(true, Ordering::SeqCst);
    }

    /// Whether shutdown has begun.
    pub fn is_draining(&self) -> bool {
        self.draining.load(Ordering::SeqCst)
    }
}

/// Everything handlers share, by concern: the application (storage, keys, index: the same
/// [`App`] the workers and the command line use), identity (sign-in, tokens, federation), and
/// the instance's own serving state. A handle: cloning it (as every request and extractor
/// does) is one reference count.
#[derive(Debug, Clone)]
pub struct AppState(Arc<SharedState>);

impl std::ops::Deref for AppState {
    type Target = SharedState;

    fn deref(&self) -> &SharedState {
        &self.0
    }
}

/// What an [`AppState`] holds.
#[derive(Debug)]
pub struct SharedState {
    /// The application layer.
    pub app: App,
    /// Sign-in, sessions, tokens and single sign-on.
    pub identity: Arc<Identity>,
    /// Readiness, flipped at shutdown.
    pub readiness: Arc<Readiness>,
    /// Request metrics.
    pub metrics: Arc<HttpMetrics>,
}

/// What sign-in, tokens and single sign-on need.
#[derive(Debug)]
pub struct Identity {
    /// Seals TOTP secrets.
    pub totp_sealer: mhp_crypto::seal::Sealer,
    /// Access-token signing keys.
    pub token_keys: tokens::TokenKeys,
    /// The OpenID Connect relying party for organisations' single sign-on (`None` when its
    /// HTTP client could not be built; SSO then answers 503).
    pub federation: Option<mhp_federation::Federation>,
    /// Seals sign-ins in flight.
    pub sso_sealer: mhp_crypto::seal::Sealer,
    /// The one way out to addresses a tenant chooses (SSO providers): refuses internal
    /// addresses and plain http unless the operator allowed them. Cheap to clone.
    pub egress: mhp_egress::Egress,
    /// Limits on password-reset and invitation messages.
    pub mail_limits: api::invite::MailLimits,
    /// Where MHP is reached, without a trailing slash.
    pub public_url: String,
    /// Looks for proofs of domain ownership in DNS (`None` when no resolver could be set up;
    /// checking a domain then answers 503).
    pub domain_prover: Option<mhp_federation::domain_proof::DomainProver>,
    /// API keys, sessions and people as authentication last looked them up.
    pub credentials: credential_cache::CredentialCache,
}

/// Single sign-on settings.
#[derive(Debug, Clone)]
pub struct SsoOptions {
    /// The address people and identity providers reach MHP at, without a trailing slash.
    pub public_url: String,
    /// The DNS server asked for proofs of domain ownership (`None`: the system's resolvers).
    pub dns_server: Option<std::net::SocketAddr>,
}

/// Time limit of a request to a tenant-chosen address.
const EGRESS_TIMEOUT: Duration = Duration::from_secs(10);
/// Largest answer read from a tenant-chosen address.
const EGRESS_MAX_BODY: usize = 1024 * 1024;

impl AppState {
    /// A state with fresh readiness and metrics; sealing keys are derived from the installation
    /// root (the newest version seals, every version opens).
    pub fn new(parts: AppParts<'_>) -> Self {
        let AppParts {
            app,
            sso,
            egress,
            mail_limits,
        } = parts;
        let roots = app.roots;
        let federation = match mhp_federation::Federation::new(egress.clone(), app.clock.clone()) {
            Ok(f) => Some(f),
            Err(e) => {
                tracing::error!(error = %e, "single sign-on is unavailable");
                None
            }
        };
        let domain_prover = match mhp_federation::domain_proof::DomainProver::new(sso.dns_server) {
            Ok(p) => Some(p),
            Err(e) => {
                tracing::error!(error = %e, "domain proofs cannot be checked");
                None
            }
        };
        let credentials =
            credential_cache::CredentialCache::new(app.db.credential_changes().clone());
        let identity = Identity {
            totp_sealer: mhp_crypto::seal::Sealer::derive_versions(
                roots,
                mhp_app::org_move::TOTP_SEALING,
            ),
            // The issuer is where the instance is reached: other services find its keys from
            // there (`/.well-known/openid-configuration`, then the JWKS).
            token_keys: tokens::TokenKeys::new(
                sso.public_url.trim_end_matches('/').to_owned(),
                mhp_crypto::seal::Sealer::derive_versions(roots, "signing_keys.private"),
            ),
            federation,
            sso_sealer: mhp_crypto::seal::Sealer::derive_versions(roots, "sso_pending.login"),
            egress,
            mail_limits,
            public_url: sso.public_url,
            domain_prover,
            credentials,
        };
        let app = App::new(app);
        Self(Arc::new(SharedState {
            app,
            identity: Arc::new(identity),
            readiness: Arc::default(),
            metrics: Arc::default(),
        }))
    }
}

/// What an [`AppState`] is made from.
#[derive(Debug)]
pub struct AppParts<'a> {
    /// What the application layer is made from (storage, clock, master key, keys, index).
    pub app: mhp_app::AppParts<'a>,
    /// Single sign-on settings.
    pub sso: SsoOptions,
    /// Requests to tenant-chosen addresses (build it with [`egress_client`]).
    pub egress: mhp_egress::Egress,
    /// Limits on password-reset and invitation messages.
    pub mail_limits: api::invite::MailLimits,
}

/// The egress client for tenant-chosen addresses under `policy`: bounded time and size, no
/// redirects (providers' endpoints are used as discovered).
pub fn egress_client(
    policy: mhp_egress::EgressPolicy,
) -> Result<mhp_egress::Egress, mhp_egress::EgressError> {
    mhp_egress::Egress::new(
        policy,
        mhp_egress::EgressOptions {
            timeout: EGRESS_TIMEOUT,
            max_body: EGRESS_MAX_BODY,
            redirects: mhp_egress::Redirects::None,
        },
    )
}

/// HTTP settings.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// Largest request body accepted; larger ones get 413.
    pub body_limit_bytes: usize,
    /// Longest a request may take; slower ones get 408.
    pub request_timeout: Duration,
    /// At shutdown, how long readiness stays off before the listener closes, so load balancers
    /// stop sending traffic first.
    pub drain_delay: Duration,
    /// At shutdown, how long in-flight requests get to finish.
    pub shutdown_grace: Duration,
    /// Proxies (load balancers) whose `X-Forwarded-For` is believed: the client's address is
    /// the rightmost one not among them. None by default: the peer is the client.
    pub trusted_proxies: Vec<mhp_egress::IpNet>,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            body_limit_bytes: 1024 * 1024,
            request_timeout: Duration::from_secs(30),
            drain_delay: Duration::from_secs(2),
            shutdown_grace: Duration::from_secs(20),
            trusted_proxies: Vec::new(),
        }
    }
}

/// What `mhp worker` serves: `/metrics` (the pipeline queues, the database pool, the process)
/// and `/healthz`, nothing of the API.
pub fn metrics_router(state: AppState) -> Router {
    Router::new()
        .route("/metrics", get(health::metrics))
        .route("/healthz", get(health::healthz))
        .with_state(state)
}

/// The application's routes with every layer applied.
pub fn router(state: AppState, config: &HttpConfig) -> Router {
    with_layers(routes(&state).with_state(state.clone()), state, config)
}

/// Routes without state, so tests can add their own before the layers.
pub fn routes(state: &AppState) -> Router<AppState> {
    Router::new()
        .merge(api::routes(state.clone()))
        .merge(web::routes(state.clone()))
        .route("/api/v1/openapi.json", get(openapi::serve_document))
        .route("/api/v1/docs", get(openapi::docs_page))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(health::metrics))
        .route("/.well-known/jwks.json", get(health::jwks))
        .route(oauth::TOKEN_PATH, axum::routing::post(oauth::token))
        .route(
            "/.well-known/openid-configuration",
            get(health::openid_configuration),
        )
        .fallback(|| async { ApiError::NotFound("route") })
}

/// Wraps every route of `router` (and its fallback) in the middleware, outermost first: the
/// frame (request id, client address, security headers), observation, compression, problem
/// details, time-out, body limit.
pub fn with_layers(router: Router, state: AppState, config: &HttpConfig) -> Router {
    use axum::middleware::{from_fn, from_fn_with_state};
    // One stack, applied once: Router::layer wraps every route in what it is given, and each
    // wrapping is a boxed service cloned (and a boxed future made) on every request, so seven
    // layers added one by one were seven clones per request. ServiceBuilder's first layer runs
    // first.
    let stack = tower::ServiceBuilder::new()
        .layer(from_fn_with_state(
            Arc::new(config.trusted_proxies.clone()),
            middleware::frame,
        ))
        .layer(from_fn_with_state(state, middleware::observe))
        .layer(tower_http::compression::CompressionLayer::new().gzip(true))
        .layer(from_fn(middleware::problem_details))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            config.request_timeout,
        ))
        // The time-out's own answer needs a body type with a default: axum's.
        .map_response(axum::response::IntoResponse::into_response)
        .layer(RequestBodyLimitLayer::new(config.body_limit_bytes))
        // axum's body extractors (JSON, bytes, multipart) stop at 2 MiB by default; the
        // configured limit is the limit, enforced once by the layer above.
        .layer(axum::extract::DefaultBodyLimit::max(
            config.body_limit_bytes,
        ));
    router.layer(stack)
}

/// Serves `router` on `listener` until `shutdown` resolves, then: readiness off, wait
/// `drain_delay`, stop accepting, let in-flight requests finish for up to `shutdown_grace`.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    readiness: Arc<Readiness>,
    config: &HttpConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let drain_delay = config.drain_delay;
    let grace = config.shutdown_grace;
    let stopping = Arc::new(tokio::sync::Notify::new());
    let stop_signal = stopping.clone();
    let graceful = async move {
        shutdown.await;
        readiness.start_draining();
        tracing::info!(
            drain_ms = drain_delay.as_millis() as u64,
            "shutdown requested: readiness off"
        );
        tokio::time::sleep(drain_delay).await;
        tracing::info!("no longer accepting connections; finishing in-flight requests");
        stop_signal.notify_one();
    };
    let server = axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(graceful);
    tokio::select! {
        result = async { server.await } => {
            tracing::info!("server stopped");
            result
        }
        () = async { stopping.notified().await; tokio::time::sleep(grace).await } => {
            tracing::warn!(grace_s = grace.as_secs(), "grace period over; dropping open connections");
            Ok(())
        }
    }
}
