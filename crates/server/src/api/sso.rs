//! Single sign-on per organisation (OpenID Connect, through `mhp_federation`): an org admin
//! sets the provider; people start at `/api/v1/auth/sso/{org}/start`, sign in at their
//! provider and come back to `/api/v1/auth/sso/callback`, where MHP links or provisions their
//! account (just in time), sets their roles from the provider's claims and starts a session.
//! The organisation can require SSO, which refuses password sign-in to its members.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use mhp_auth::events::{Actor, AuthEvent};
use mhp_auth::session;
use mhp_crypto::seal::Place;
use mhp_crypto::secrets::SecretRef;
use mhp_domain::{DisplayName, OrgId, Role, SealedBytes, Secret, Timestamp};
use mhp_federation::{FederationError, PendingLogin, ProviderConfig, domain_proof};
use mhp_storage::Access;
use mhp_storage::repo::{sso, users};
use serde::{Deserialize, Serialize};

use super::auth::{presented_session, start_session, with_cookie};
use super::{Grant, path_id};
use crate::authn::RequestMeta;
use crate::{ApiError, ApiJson, AppState, Problem, security};

/// The cookie that ties a browser to its sign-in in flight.
pub const SSO_COOKIE: &str = "mhp_sso";
const CALLBACK: &str = "/api/v1/auth/sso/callback";

/// An organisation's provider, as an org admin sets it (`PUT`). The client secret is given by
/// value and is write-only: it is sealed with the organisation's key and never returned.
#[derive(Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SsoSettings {
    /// The provider's issuer identifier (`https://login.example.com/tenant/v2.0`). It must be
    /// https and must not resolve to a loopback, private, link-local or other internal address
    /// unless the operator allowed that range (`egress.allow_cidrs`).
    pub issuer: String,
    /// MHP's client id at the provider.
    pub client_id: String,
    /// MHP's client secret at the provider: the value itself (write-only). Omit it to keep the
    /// secret set before; required the first time. `secret://` references are refused: a tenant
    /// never names the platform's secrets.
    #[serde(default)]
    pub client_secret: Option<String>,
    /// Scopes asked for (`openid` is always sent).
    #[serde(default)]
    pub scopes: Vec<String>,
    /// E-mail domains whose people may sign in (exact, case-insensitive).
    pub allowed_domains: Vec<String>,
    /// The claim holding group or role names (`groups`, `roles`, `realm_access.roles`).
    #[serde(default)]
    pub role_claim: Option<String>,
    /// Claim value → MHP role (`org_admin`, `clinician`, `coach`, `athlete`, ...).
    #[serde(default)]
    pub role_map: std::collections::BTreeMap<String, String>,
    /// The role of people with no mapped claim value; none refuses them.
    #[serde(default)]
    pub default_role: Option<String>,
    /// Whether members must sign in through the provider (passwords refused).
    #[serde(default)]
    pub required: bool,
}

impl std::fmt::Debug for SsoSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SsoSettings")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "<redacted>"),
            )
            .finish_non_exhaustive()
    }
}

/// The provider settings as stored (in `org_sso.config_json`) and shown: everything but the
/// secret, which is kept sealed beside them.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SsoProvider {
    /// The provider's issuer identifier.
    pub issuer: String,
    /// MHP's client id at the provider.
    pub client_id: String,
    /// Scopes asked for (`openid` is always sent).
    #[serde(default)]
    pub scopes: Vec<String>,
    /// E-mail domains whose people may sign in.
    pub allowed_domains: Vec<String>,
    /// The claim holding group or role names.
    #[serde(default)]
    pub role_claim: Option<String>,
    /// Claim value → MHP role.
    #[serde(default)]
    pub role_map: std::collections::BTreeMap<String, String>,
    /// The role of people with no mapped claim value.
    #[serde(default)]
    pub default_role: Option<String>,
    /// Whether members must sign in through the provider.
    #[serde(default)]
    pub required: bool,
}

/// An organisation's provider as shown: the settings, and whether (and when) a client secret
/// is set; the secret itself is never returned.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct SsoView {
    /// The settings.
    #[serde(flatten)]
    pub provider: SsoProvider,
    /// Whether a client secret is set.
    pub client_secret_set: bool,
    /// When the client secret was last set (ms since the Unix epoch).
    pub client_secret_set_at_ms: Option<i64>,
    /// Each allowed domain with its proof of ownership: people are found from a domain's
    /// addresses only once the organisation has proven it owns the domain.
    pub domains: Vec<DomainStatus>,
}

/// An allowed domain and its proof of ownership: a DNS TXT record `txt_name` holding
/// `txt_value`, published by the domain's owner, then checked
/// (`POST /api/v1/orgs/{org}/sso/domains/{domain}/verify`).
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct DomainStatus {
    /// The domain, lowercase.
    pub domain: String,
    /// Whether MHP found the record.
    pub proven: bool,
    /// When (ms since the Unix epoch).
    pub proven_at_ms: Option<i64>,
    /// The TXT record's name.
    pub txt_name: String,
    /// The value it must hold.
    pub txt_value: String,
}

impl From<sso::DomainProof> for DomainStatus {
    fn from(p: sso::DomainProof) -> Self {
        Self {
            txt_name: domain_proof::record_name(&p.domain),
            txt_value: domain_proof::record_value(&p.token),
            proven: p.verified_at.is_some(),
            proven_at_ms: p.verified_at.map(Timestamp::as_millis),
            domain: p.domain,
        }
    }
}

impl SsoSettings {
    fn split(self) -> (SsoProvider, Option<Secret<String>>) {
        let secret = self.client_secret.map(Secret::new);
        let provider = SsoProvider {
            issuer: self.issuer,
            client_id: self.client_id,
            scopes: self.scopes,
            allowed_domains: self.allowed_domains,
            role_claim: self.role_claim,
            role_map: self.role_map,
            default_role: self.default_role,
            required: self.required,
        };
        (provider, secret)
    }
}

fn invalid(detail: impl Into<String>) -> ApiError {
    ApiError::Invalid {
        code: mhp_app::Code::InvalidSsoConfig,
        detail: detail.into(),
    }
}

fn role(name: &str, field: &str) -> Result<Role, ApiError> {
    match Role::parse(name) {
        Ok(Role::Device) | Err(_) => Err(invalid(format!(
            "{field}: {name:?} is not a role a person can hold"
        ))),
        Ok(r) => Ok(r),
    }
}

/// Where an organisation's client secret is sealed: bound to the organisation, so a sealed
/// value copied to another organisation's row does not open.
fn secret_place(org: OrgId, row: &str) -> Place<'_> {
    Place {
        org: Some(org),
        table: "org_sso",
        column: "client_secret_sealed",
        row,
    }
}

/// The provider configuration of stored settings with their secret.
fn provider(
    state: &AppState,
    s: &SsoProvider,
    secret: Secret<String>,
) -> Result<ProviderConfig, ApiError> {
    let mut cfg = ProviderConfig::new(
        s.issuer.clone(),
        s.client_id.clone(),
        secret,
        format!("{}{CALLBACK}", state.identity.public_url),
    );
    if !s.scopes.is_empty() {
        cfg.scopes.clone_from(&s.scopes);
    }
    cfg.allowed_domains = s.allowed_domains.iter().map(|d| d.to_lowercase()).collect();
    cfg.role_claim.clone_from(&s.role_claim);
    cfg.role_map = s
        .role_map
        .iter()
        .map(|(k, v)| Ok((k.clone(), role(v, "role_map")?)))
        .collect::<Result<_, ApiError>>()?;
    cfg.default_role = s
        .default_role
        .as_deref()
        .map(|r| role(r, "default_role"))
        .transpose()?;
    cfg.validate()
        .map_err(|e| invalid(format!("the configuration is not usable ({})", e.code())))?;
    Ok(cfg)
}

/// A stored configuration: its settings and sealed secret, as kept.
struct Stored {
    provider: SsoProvider,
    secret: Option<SealedBytes>,
    secret_set_at: Option<Timestamp>,
}

fn stored(config: sso::SsoConfig) -> Result<Stored, ApiError> {
    // A configuration of an earlier version may still hold a `client_secret` reference in its
    // JSON: it is ignored (never resolved), and sign-in waits for a secret set by value.
    let provider: SsoProvider =
        serde_json::from_str(&config.config_json).map_err(|e| ApiError::Internal(Box::new(e)))?;
    Ok(Stored {
        provider,
        secret: config.client_secret_sealed,
        secret_set_at: config.client_secret_set_at,
    })
}

impl Stored {
    fn view(self, proofs: Vec<sso::DomainProof>) -> SsoView {
        SsoView {
            provider: self.provider,
            client_secret_set: self.secret.is_some(),
            client_secret_set_at_ms: self.secret_set_at.map(Timestamp::as_millis),
            domains: proofs.into_iter().map(DomainStatus::from).collect(),
        }
    }
}

/// The allowed domains as kept: trimmed, lowercase, each once.
fn domains_of(settings: &SsoProvider) -> Vec<String> {
    let mut domains: Vec<String> = settings
        .allowed_domains
        .iter()
        .map(|d| d.trim().to_lowercase())
        .collect();
    domains.sort();
    domains.dedup();
    domains
}

/// Refuses an issuer MHP must not connect to (the same egress rules every connection to it
/// passes again).
async fn check_issuer(state: &AppState, issuer: &str) -> Result<(), ApiError> {
    let url = url::Url::parse(issuer).map_err(|_| invalid("issuer: not a URL"))?;
    state
        .identity
        .egress
        .policy()
        .check_url_resolved(&url)
        .await
        .map_err(|e| ApiError::Invalid {
            code: mhp_app::Code::EgressRefused,
            detail: format!("issuer: {e}"),
        })
}

/// `PUT /api/v1/orgs/{org}/sso`
pub async fn put(
    State(state): State<AppState>,
    grant: Grant,
    ApiJson(body): ApiJson<SsoSettings>,
) -> Result<Json<SsoView>, ApiError> {
    Ok(Json(configure(&state, &grant, body).await?))
}

/// Sets the organisation's provider: checked (the issuer against the egress rules, each domain
/// kept to one organisation), the secret sealed with the organisation's key, with its event.
/// The API and the settings page call it.
pub(crate) async fn configure(
    state: &AppState,
    grant: &Grant,
    body: SsoSettings,
) -> Result<SsoView, ApiError> {
    if body.allowed_domains.is_empty() {
        return Err(invalid("allowed_domains must name at least one domain"));
    }
    let (settings, secret) = body.split();
    if let Some(secret) = &secret {
        if secret.expose().is_empty() {
            return Err(invalid("client_secret must not be empty"));
        }
        if SecretRef::is_reference(secret.expose()) {
            return Err(invalid(
                "client_secret takes the secret's value: references into the platform's \
                 secrets are not accepted",
            ));
        }
    }
    // Checked with a stand-in secret when none is given (the stored one is kept).
    let check = secret
        .clone()
        .unwrap_or_else(|| Secret::new("kept".to_owned()));
    provider(state, &settings, check)?;
    let org = grant.org()?;
    let domains = domains_of(&settings);
    if let Some(domain) = proven_elsewhere(state, org.org(), &domains).await? {
        return Err(invalid(format!(
            "allowed_domains: {domain} is proven to belong to another organisation, whose \
             provider signs its people in; a domain belongs to one organisation"
        )));
    }
    check_issuer(state, &settings.issuer).await?;
    let org_text = org.org().to_string();
    let place = secret_place(org.org(), &org_text);
    let sealed = match &secret {
        Some(s) => Some(
            state
                .app
                .phi
                .keys()
                .seal_for_org(s.expose().as_bytes(), &place)
                .await?,
        ),
        None => None,
    };
    let json = serde_json::to_string(&settings).map_err(|e| ApiError::Internal(Box::new(e)))?;
    let now = state.app.clock.now();
    let actor = grant.principal.actor();
    let mut tx = state.app.db.tenant(&org, Access::Write).await?;
    let before = sso::config(&mut tx).await?;
    let was_required = before.as_ref().is_some_and(|c| c.required);
    // The secret shown as set: the one just given, else the one kept.
    let secret_set_at = match &sealed {
        Some(_) => Some(now),
        None => before
            .filter(|c| c.client_secret_sealed.is_some())
            .and_then(|c| c.client_secret_set_at),
    };
    if secret_set_at.is_none() {
        return Err(invalid("client_secret is required when none is set yet"));
    }
    sso::put_config(
        &mut tx,
        &json,
        settings.required,
        sealed.as_ref(),
        &actor.audit_name(),
        now,
    )
    .await?;
    // Each domain kept keeps its proof; a new one waits for its owner's TXT record.
    sso::keep_domains(
        &mut tx,
        &domains,
        |_| uuid::Uuid::new_v4().simple().to_string(),
        now,
    )
    .await?;
    let proofs = sso::domain_proofs(&mut tx).await?;
    let event = AuthEvent::SsoConfigured {
        required: settings.required,
        weakened: was_required && !settings.required,
    };
    security::record_in(&mut tx, &actor, &event, &grant.meta, now).await?;
    tx.commit().await?;
    Ok(SsoView {
        provider: settings,
        client_secret_set: true,
        client_secret_set_at_ms: secret_set_at.map(Timestamp::as_millis),
        domains: proofs.into_iter().map(DomainStatus::from).collect(),
    })
}

/// `GET /api/v1/orgs/{org}/sso`: the provider, or `null` when none is set.
pub async fn get(
    State(state): State<AppState>,
    grant: Grant,
) -> Result<Json<Option<SsoView>>, ApiError> {
    Ok(Json(view(&state, &grant).await?))
}

/// The organisation's provider as shown (never its secret), or `None`.
pub(crate) async fn view(state: &AppState, grant: &Grant) -> Result<Option<SsoView>, ApiError> {
    let mut tx = state.app.db.tenant(&grant.org()?, Access::Read).await?;
    let Some(config) = sso::config(&mut tx).await? else {
        return Ok(None);
    };
    let proofs = sso::domain_proofs(&mut tx).await?;
    Ok(Some(stored(config)?.view(proofs)))
}

/// `POST /api/v1/orgs/{org}/sso/domains/{domain}/verify`: looks for the domain's proof in
/// DNS; proven, the domain leads people of its addresses to the organisation's provider.
pub async fn verify_domain(
    State(state): State<AppState>,
    grant: Grant,
    Path((_, domain)): Path<(String, String)>,
) -> Result<Json<DomainStatus>, ApiError> {
    Ok(Json(prove_domain(&state, &grant, &domain).await?))
}

/// Checks the organisation's proof of `domain` in DNS and records it when found (with its
/// event); a proof not found, or a domain proven by another organisation, is refused in words.
/// The API and the settings page call it.
pub(crate) async fn prove_domain(
    state: &AppState,
    grant: &Grant,
    domain: &str,
) -> Result<DomainStatus, ApiError> {
    let domain = domain.trim().to_lowercase();
    let org = grant.org()?;
    let proof = {
        let mut tx = state.app.db.tenant(&org, Access::Read).await?;
        sso::domain_proofs(&mut tx)
            .await?
            .into_iter()
            .find(|p| p.domain == domain)
            .ok_or(ApiError::NotFound("single sign-on domain"))?
    };
    if proof.verified_at.is_some() {
        return Ok(proof.into());
    }
    if proven_elsewhere(state, org.org(), std::slice::from_ref(&domain))
        .await?
        .is_some()
    {
        return Err(ApiError::Invalid {
            code: mhp_app::Code::DomainNotProven,
            detail: format!("{domain} is proven to belong to another organisation"),
        });
    }
    let prover = state
        .identity
        .domain_prover
        .as_ref()
        .ok_or(ApiError::Unavailable)?;
    let status = DomainStatus::from(proof.clone());
    match prover.is_proven(&domain, &proof.token).await {
        Ok(true) => {}
        Ok(false) => {
            return Err(ApiError::Invalid {
                code: mhp_app::Code::DomainNotProven,
                detail: format!(
                    "no TXT record {} holding {} was found; publish it in the domain's DNS and \
                     check again (a new record can take a while to reach resolvers)",
                    status.txt_name, status.txt_value
                ),
            });
        }
        Err(_) => return Err(ApiError::Unavailable),
    }
    let now = state.app.clock.now();
    let mut tx = state.app.db.tenant(&org, Access::Write).await?;
    sso::mark_proven(&mut tx, &domain, now).await?;
    grant
        .record(
            &mut tx,
            "organisation.sso_domain_proven",
            "sso_domain",
            Some(domain.clone()),
            now,
        )
        .await?;
    tx.commit().await?;
    Ok(DomainStatus {
        proven: true,
        proven_at_ms: Some(now.as_millis()),
        ..status
    })
}

/// The provider configuration of an organisation, its secret opened; `Err(reason)` when it
/// cannot be used for sign-in.
async fn sign_in_config(
    state: &AppState,
    org: OrgId,
) -> Result<Result<ProviderConfig, &'static str>, ApiError> {
    let config = {
        let mut tx = state.app.db.operator(Access::Read).await?;
        sso::config_as_operator(&mut tx, org).await?
    };
    let Some(config) = config else {
        return Ok(Err("sso_not_configured"));
    };
    let stored = stored(config)?;
    let Some(sealed) = &stored.secret else {
        return Ok(Err("sso_client_secret_not_set"));
    };
    let org_text = org.to_string();
    let opened = state
        .app
        .phi
        .keys()
        .open_for_org(sealed, &secret_place(org, &org_text))
        .await?;
    let secret = String::from_utf8(opened.expose().clone())
        .map_err(|_| ApiError::Internal("a client secret is not text".into()))?;
    Ok(Ok(provider(state, &stored.provider, Secret::new(secret))?))
}

fn federation(state: &AppState) -> Result<&mhp_federation::Federation, ApiError> {
    state
        .identity
        .federation
        .as_ref()
        .ok_or(ApiError::Unavailable)
}

fn pending_place(org: OrgId, id_sha256: &str) -> Place<'_> {
    Place {
        org: Some(org),
        table: "sso_pending",
        column: "pending_sealed",
        row: id_sha256,
    }
}

/// A refused sign-in: recorded, and answered alike whatever the reason (the reason code is
/// safe to show and helps people tell their administrator what went wrong).
async fn refuse(
    state: &AppState,
    meta: &RequestMeta,
    org: Option<OrgId>,
    reason: &'static str,
    html: bool,
) -> Response {
    let event = AuthEvent::SsoSignInFailed { reason };
    security::record_standalone(state, &Actor::Anonymous, org, &event, meta).await;
    if html {
        return crate::web::error_page(
            StatusCode::UNAUTHORIZED,
            Some(&format!(
                "Single sign-on did not sign you in (reason: {reason}). Try again from the \
                 sign-in page, or tell your administrator the reason."
            )),
        );
    }
    Problem::new(
        StatusCode::UNAUTHORIZED,
        mhp_app::Code::SsoFailed,
        "Single sign-on failed",
    )
    .with_detail(format!("reason: {reason}"))
    .with_request_id(meta.request_id.clone())
    .into_response()
}

/// A domain of `domains` that another organisation has proven to own (its provider signs in
/// people of that domain), if any: a proven domain leads to one organisation, so that finding
/// it from an address is never a guess and no tenant can draw another's people to its own
/// provider. A domain merely listed elsewhere keeps nobody from it.
async fn proven_elsewhere(
    state: &AppState,
    org: OrgId,
    domains: &[String],
) -> Result<Option<String>, ApiError> {
    let proven = {
        let mut tx = state.app.db.operator(Access::Read).await?;
        sso::proven_domains_as_operator(&mut tx).await?
    };
    Ok(domains
        .iter()
        .find(|d| {
            proven
                .iter()
                .any(|(other, theirs)| *other != org && theirs == *d)
        })
        .cloned())
}

/// What finding an organisation from an e-mail address came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Discovered {
    /// No organisation has proven the address's domain.
    None,
    /// This one has.
    One(OrgId),
    /// More than one has (an operator's records disagree): the person needs their
    /// organisation's own sign-in link.
    Many,
}

/// The organisation whose provider signs in people of `email`'s domain ("home realm
/// discovery" for the sign-in page).
pub(crate) async fn discover(state: &AppState, email: &str) -> Result<Discovered, ApiError> {
    let Ok(email) = mhp_domain::Email::parse(email.trim()) else {
        return Ok(Discovered::None);
    };
    let Some((_, domain)) = email.as_str().rsplit_once('@') else {
        return Ok(Discovered::None);
    };
    let domain = domain.to_lowercase();
    let proven = {
        let mut tx = state.app.db.operator(Access::Read).await?;
        sso::proven_domains_as_operator(&mut tx).await?
    };
    let orgs: Vec<OrgId> = proven
        .into_iter()
        .filter(|(_, d)| *d == domain)
        .map(|(org, _)| org)
        .collect();
    Ok(match orgs.as_slice() {
        [] => Discovered::None,
        [org] => Discovered::One(*org),
        _ => Discovered::Many,
    })
}

/// Whether the caller is a browser navigating (it asks for HTML first): the sign-in's ends are
/// then pages of the application instead of JSON.
fn wants_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"))
}

/// `GET /api/v1/auth/sso/{org}/start`: redirects the browser to the organisation's provider.
pub async fn start(
    State(state): State<AppState>,
    meta: RequestMeta,
    headers: HeaderMap,
    Path(org): Path<String>,
) -> Result<Response, ApiError> {
    let html = wants_html(&headers);
    let org = path_id(&org, "organisation", OrgId::parse)?;
    let federation = federation(&state)?;
    let cfg = match sign_in_config(&state, org).await? {
        Ok(cfg) => cfg,
        Err("sso_not_configured") => {
            return Err(ApiError::NotFound("single sign-on configuration"));
        }
        Err(reason) => return Ok(refuse(&state, &meta, Some(org), reason, html).await),
    };
    let (url, pending) = match federation.begin(&cfg).await {
        Ok(v) => v,
        Err(e) => return Ok(refuse(&state, &meta, Some(org), e.code(), html).await),
    };
    let (cookie, id_sha256) = session::new_opaque();
    let json =
        Secret::new(serde_json::to_vec(&pending).map_err(|e| ApiError::Internal(Box::new(e)))?);
    let sealed = state
        .identity
        .sso_sealer
        .seal(json.expose(), &pending_place(org, &id_sha256))
        .map_err(|_| ApiError::Internal("sealing failed".into()))?;
    let now = state.app.clock.now();
    let mut tx = state.app.db.operator(Access::Write).await?;
    sso::put_pending(&mut tx, &id_sha256, org, &sealed, now, pending.expires_at()).await?;
    tx.commit().await?;
    let mut res = (StatusCode::SEE_OTHER, [(header::LOCATION, url)]).into_response();
    let set = format!(
        "{SSO_COOKIE}={}; Path=/api/v1/auth/sso; Max-Age={}; HttpOnly; Secure; SameSite=Lax",
        cookie.expose(),
        mhp_federation::LOGIN_TTL_S
    );
    res.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_str(&set).map_err(|e| ApiError::Internal(Box::new(e)))?,
    );
    Ok(res)
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

fn sso_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| {
            let (name, value) = pair.trim().split_once('=')?;
            (name == SSO_COOKIE && !value.is_empty() && value.len() <= 128)
                .then(|| value.to_owned())
        })
}

/// `GET /api/v1/auth/sso/callback`: completes the sign-in the provider sends the browser back
/// with.
pub async fn callback(
    State(state): State<AppState>,
    meta: RequestMeta,
    headers: HeaderMap,
    Query(q): Query<CallbackQuery>,
) -> Result<Response, ApiError> {
    let now = state.app.clock.now();
    let html = wants_html(&headers);
    let Some(cookie) = sso_cookie(&headers) else {
        return Ok(refuse(&state, &meta, None, "sso_no_login_in_flight", html).await);
    };
    let Some(id_sha256) = session::presented_id_hash(&cookie) else {
        return Ok(refuse(&state, &meta, None, "sso_no_login_in_flight", html).await);
    };
    let taken = {
        let mut tx = state.app.db.operator(Access::Write).await?;
        let taken = sso::take_pending(&mut tx, &id_sha256, now).await?;
        tx.commit().await?;
        taken
    };
    let Some((org, sealed)) = taken else {
        return Ok(refuse(&state, &meta, None, "sso_no_login_in_flight", html).await);
    };
    if q.error.is_some() {
        return Ok(refuse(&state, &meta, Some(org), "sso_provider_refused", html).await);
    }
    let (Some(code), Some(returned_state)) = (q.code, q.state) else {
        return Ok(refuse(&state, &meta, Some(org), "sso_callback_incomplete", html).await);
    };
    let opened = state
        .identity
        .sso_sealer
        .open(&sealed, &pending_place(org, &id_sha256))
        .map_err(|_| ApiError::Internal("a sign-in in flight did not open".into()))?;
    let pending: PendingLogin =
        serde_json::from_slice(opened.expose()).map_err(|e| ApiError::Internal(Box::new(e)))?;
    let cfg = match sign_in_config(&state, org).await? {
        Ok(cfg) => cfg,
        Err(reason) => return Ok(refuse(&state, &meta, Some(org), reason, html).await),
    };
    let identity = match federation(&state)?
        .complete(&cfg, &pending, &code, &returned_state)
        .await
    {
        Ok(id) => id,
        Err(e) => {
            let reason = match e {
                FederationError::Internal(_) => {
                    return Err(ApiError::Internal("federation".into()));
                }
                e => e.code(),
            };
            return Ok(refuse(&state, &meta, Some(org), reason, html).await);
        }
    };
    sign_in(&state, &meta, &headers, org, &identity, now, html).await
}

async fn sign_in(
    state: &AppState,
    meta: &RequestMeta,
    headers: &HeaderMap,
    org: OrgId,
    identity: &mhp_federation::FederatedIdentity,
    now: Timestamp,
    html: bool,
) -> Result<Response, ApiError> {
    let mut tx = state.app.db.operator(Access::Write).await?;
    let linked = sso::identity(&mut tx, org, &identity.issuer, &identity.subject).await?;
    let (user, provisioned) = match linked {
        Some(user) => (users::get_as_operator(&mut tx, user).await?, false),
        None => {
            let (user, provisioned) = match users::find_by_email(&mut tx, &identity.email).await? {
                Some((user, _)) => (user, false),
                None => {
                    // A new account must not look like an existing member's address.
                    let members = users::member_emails_as_operator(&mut tx, org).await?;
                    if members.iter().any(|m| identity.email.is_confusable_with(m)) {
                        drop(tx);
                        return Ok(
                            refuse(state, meta, Some(org), "sso_email_confusable", html).await
                        );
                    }
                    let fallback = identity.email.as_str().split('@').next().unwrap_or("User");
                    let name = identity
                        .name
                        .as_deref()
                        .and_then(|n| DisplayName::parse(n).ok())
                        .or_else(|| DisplayName::parse(fallback).ok())
                        .ok_or_else(|| ApiError::Internal("no usable display name".into()))?;
                    let user = users::create(
                        &mut tx,
                        &users::NewUser {
                            email: &identity.email,
                            display_name: &name,
                            password_hash: None,
                            password_change_required: false,
                            platform_role: None,
                        },
                        now,
                    )
                    .await?;
                    (user, true)
                }
            };
            sso::link_identity(
                &mut tx,
                org,
                &identity.issuer,
                &identity.subject,
                user.id,
                now,
            )
            .await?;
            (user, provisioned)
        }
    };
    // The provider is the source of truth for the roles of its people in this organisation.
    users::set_roles_as_operator(&mut tx, org, user.id, &identity.roles, now).await?;
    let previous = presented_session(headers);
    // The provider authenticated the person, with its own second factor where its policy asks.
    let started = start_session(
        &mut tx,
        &user,
        meta,
        false,
        Some(now),
        previous.as_deref(),
        now,
    )
    .await?;
    let actor = Actor::User(user.id.to_string());
    let event = AuthEvent::SsoSignInSucceeded { provisioned };
    security::record_user_event(&mut tx, &actor, Some(user.id), &event, meta, now).await?;
    tx.commit().await?;
    let body = SsoSignedIn {
        user: super::auth::UserRef::of(&user),
        csrf_token: started.csrf_token.clone(),
        mfa_required: false,
        password_change_required: false,
        provisioned,
        roles: identity.roles.iter().map(|r| r.as_str()).collect(),
    };
    // A browser lands in the application; an API client reads the answer.
    let answer = if html {
        (StatusCode::SEE_OTHER, [(header::LOCATION, "/")]).into_response()
    } else {
        (StatusCode::OK, Json(body)).into_response()
    };
    let mut res = with_cookie(answer, &started)?;
    // The sign-in in flight is over: clear its cookie.
    res.headers_mut().append(
        header::SET_COOKIE,
        HeaderValue::from_static(
            "mhp_sso=; Path=/api/v1/auth/sso; Max-Age=0; HttpOnly; Secure; SameSite=Lax",
        ),
    );
    Ok(res)
}

/// The answer to a single sign-on callback (the session cookie comes with it).
#[derive(Debug, serde::Serialize, schemars::JsonSchema)]
pub struct SsoSignedIn {
    user: super::auth::UserRef,
    /// Send it in `X-CSRF-Token` with every cookie-authenticated write.
    csrf_token: String,
    /// Always false: the identity provider verified the person.
    mfa_required: bool,
    /// Always false: the account has no password of MHP's.
    password_change_required: bool,
    /// The account was made by this sign-in (just-in-time provisioning).
    provisioned: bool,
    /// The roles the provider's claims gave in the organisation.
    #[schemars(schema_with = "super::sets::many::<super::sets::RoleSet>")]
    roles: Vec<&'static str>,
}
