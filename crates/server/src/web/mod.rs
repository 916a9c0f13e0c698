//! The web application: server-rendered pages for the people MHP serves (C12 of DESIGN.md).
//!
//! Every page is declared once in [`PAGES`] with what its caller needs, like the API's routes;
//! the pages' gate finds the declaration, checks the form's CSRF token on every write, and then
//! runs the API's own gate ([`crate::api::authz::admit`]): the same authentication, access
//! policy, team reach and refusal events. Pages call the same `mhp_app` use cases as the API,
//! so a page that shows PHI writes the same audit event as the API read.
//!
//! Pages work without JavaScript; `app.js` only sorts tables. Nothing inline: the content
//! security policy allows scripts and styles from this origin only.

/// A `Debug` that names the type and nothing of its fields (forms carry passwords, codes and
/// tokens).
macro_rules! redacted_debug {
    ($t:ty) => {
        impl std::fmt::Debug for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(concat!(stringify!($t), " { .. }"))
            }
        }
    };
}

mod account;
mod assets;
mod athlete;
mod athletes;
mod audit;
mod charts;
pub mod compliance_report;
mod dashboard;
mod datasets;
mod injuries;
mod injuries_list;
mod layout;
mod models;
mod password;
mod pipelines;
mod reports;
mod security;
mod settings;
mod show;
mod signin;
mod start;
mod upload;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use maud::{Markup, html};
use mhp_auth::session;
use mhp_domain::{Permission, Role};

use crate::api::Requirement;
use crate::api::authz::{self, CsrfCheck, Grant};
use crate::authn::{Principal, RequestMeta};
use crate::{ApiError, AppState};

/// The content security policy of pages: everything from this origin only, nothing inline,
/// no framing, forms post only here.
pub const PAGE_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; \
     base-uri 'none'";

/// The name of the form field that carries the CSRF token.
pub const CSRF_FIELD: &str = "_csrf";

/// The cookie that carries the CSRF token of forms shown before sign-in (double submit).
const FORM_COOKIE: &str = "mhp_form";

/// One page route.
#[derive(Debug, Clone, Copy)]
pub struct PageSpec {
    /// The HTTP method.
    pub method: &'static str,
    /// The path template.
    pub path: &'static str,
    /// What the caller needs (the API's requirements).
    pub requirement: Requirement,
}

const fn page(method: &'static str, path: &'static str, requirement: Requirement) -> PageSpec {
    PageSpec {
        method,
        path,
        requirement,
    }
}

use Permission as P;
use Requirement::{InOrg, Member, PendingSession, Public, Session};

/// Every page.
pub const PAGES: &[PageSpec] = &[
    page("GET", "/", Session),
    page("GET", "/sign-in", Public),
    page("POST", "/sign-in", Public),
    page("GET", "/sign-in/code", PendingSession),
    page("POST", "/sign-in/code", PendingSession),
    page("POST", "/sign-out", PendingSession),
    page("GET", "/sign-in/sso", Public),
    page("POST", "/sign-in/sso", Public),
    page("GET", "/password-reset", Public),
    page("POST", "/password-reset", Public),
    page("GET", "/password-reset/new", Public),
    page("POST", "/password-reset/new", Public),
    page("GET", "/invitation", Public),
    page("POST", "/invitation", Public),
    page("GET", "/account", Session),
    page("POST", "/account/units", Session),
    page("POST", "/account/authenticator", Session),
    page("POST", "/account/authenticator/confirm", Session),
    page("GET", "/orgs/{org}", InOrg(P::ReadTeamReadiness)),
    page(
        "GET",
        "/orgs/{org}/teams/{team}",
        InOrg(P::ReadTeamReadiness),
    ),
    page(
        "GET",
        "/orgs/{org}/athletes/{subject}",
        InOrg(P::ReadTeamReadiness),
    ),
    page(
        "POST",
        "/orgs/{org}/athletes/{subject}/injuries",
        InOrg(P::WriteClinical),
    ),
    page(
        "POST",
        "/orgs/{org}/athletes/{subject}/injuries/{injury}/decisions",
        InOrg(P::WriteClinical),
    ),
    page("GET", "/orgs/{org}/reports", InOrg(P::ReadTeamReadiness)),
    page(
        "GET",
        "/orgs/{org}/athletes/{subject}/report",
        InOrg(P::ReadTeamReadiness),
    ),
    page(
        "GET",
        "/orgs/{org}/teams/{team}/report",
        InOrg(P::ReadTeamReadiness),
    ),
    page("GET", "/orgs/{org}/audit", InOrg(P::ReadAudit)),
    page("GET", "/orgs/{org}/security", InOrg(P::ReadSecurityReports)),
    page(
        "POST",
        "/orgs/{org}/security/alerts/{alert}",
        InOrg(P::ManageOrganisation),
    ),
    page("GET", "/orgs/{org}/me", InOrg(P::ReadOwnRecord)),
    page("GET", "/orgs/{org}/start", Member),
    page("GET", "/orgs/{org}/models", InOrg(P::RunPipelines)),
    page(
        "POST",
        "/orgs/{org}/models/versions/{version}/stage",
        InOrg(P::ApproveModels),
    ),
    page(
        "POST",
        "/orgs/{org}/models/{model}/rollback",
        InOrg(P::ApproveModels),
    ),
    page("GET", "/orgs/{org}/pipelines", InOrg(P::RunPipelines)),
    page(
        "POST",
        "/orgs/{org}/pipelines/{pipeline}/runs",
        InOrg(P::RunPipelines),
    ),
    page(
        "POST",
        "/orgs/{org}/pipelines/{pipeline}/schedule",
        InOrg(P::RunPipelines),
    ),
    page("GET", "/orgs/{org}/runs/{run}", InOrg(P::RunPipelines)),
    page("GET", "/orgs/{org}/datasets", InOrg(P::ReadDeidentified)),
    page("GET", "/orgs/{org}/athletes", InOrg(P::ReadTeamReadiness)),
    page("GET", "/orgs/{org}/injuries", InOrg(P::ReadClinical)),
    page(
        "POST",
        "/orgs/{org}/runs/{run}/cancel",
        InOrg(P::RunPipelines),
    ),
    page("GET", "/orgs/{org}/settings", InOrg(P::ManageMembers)),
    page(
        "POST",
        "/orgs/{org}/settings/invitations",
        InOrg(P::ManageMembers),
    ),
    page(
        "POST",
        "/orgs/{org}/settings/members/{user}",
        InOrg(P::ManageMembers),
    ),
    page("POST", "/orgs/{org}/settings/teams", InOrg(P::ManageTeams)),
    page("POST", "/orgs/{org}/settings/staff", InOrg(P::ManageTeams)),
    page(
        "POST",
        "/orgs/{org}/settings/api-keys",
        InOrg(P::ManageMembers),
    ),
    page(
        "POST",
        "/orgs/{org}/settings/api-keys/{key}/revoke",
        InOrg(P::ManageMembers),
    ),
    page(
        "POST",
        "/orgs/{org}/settings/mfa-policy",
        InOrg(P::ManageOrganisation),
    ),
    page(
        "POST",
        "/orgs/{org}/settings/sso",
        InOrg(P::ManageOrganisation),
    ),
    page(
        "POST",
        "/orgs/{org}/settings/sso/domains",
        InOrg(P::ManageOrganisation),
    ),
    page(
        "POST",
        "/orgs/{org}/settings/risk-thresholds",
        InOrg(P::ManageOrganisation),
    ),
    page(
        "POST",
        "/orgs/{org}/settings/organisation",
        InOrg(P::ManageOrganisation),
    ),
    page("GET", "/orgs/{org}/upload", InOrg(P::UploadAssessments)),
    page("POST", "/orgs/{org}/upload", InOrg(P::UploadAssessments)),
];

/// The pages' routes and their static files, behind the pages' gate.
pub fn routes(state: AppState) -> Router<AppState> {
    let pages = Router::new()
        .route("/", get(home))
        .route("/sign-in", get(signin::form).post(signin::submit))
        .route(
            "/sign-in/code",
            get(signin::code_form).post(signin::code_submit),
        )
        .route("/sign-out", post(signin::sign_out))
        .route(
            "/sign-in/sso",
            get(signin::sso_form).post(signin::sso_submit),
        )
        .route(
            "/password-reset",
            get(password::request_form).post(password::request_submit),
        )
        .route(
            "/password-reset/new",
            get(password::new_form).post(password::new_submit),
        )
        .route(
            "/invitation",
            get(password::invitation_form).post(password::invitation_submit),
        )
        .route("/account", get(account::page))
        .route("/account/units", post(account::units))
        .route("/account/authenticator", post(account::begin))
        .route("/account/authenticator/confirm", post(account::confirm))
        .route("/orgs/{org}", get(dashboard::org_home))
        .route("/orgs/{org}/teams/{team}", get(dashboard::team))
        .route("/orgs/{org}/athletes/{subject}", get(athlete::page))
        .route(
            "/orgs/{org}/athletes/{subject}/injuries",
            post(injuries::record),
        )
        .route(
            "/orgs/{org}/athletes/{subject}/injuries/{injury}/decisions",
            post(injuries::decide),
        )
        .route("/orgs/{org}/reports", get(reports::index))
        .route(
            "/orgs/{org}/athletes/{subject}/report",
            get(reports::athlete),
        )
        .route("/orgs/{org}/teams/{team}/report", get(reports::team))
        .route("/orgs/{org}/audit", get(audit::page))
        .route("/orgs/{org}/security", get(security::page))
        .route(
            "/orgs/{org}/security/alerts/{alert}",
            post(security::decide),
        )
        .route("/orgs/{org}/me", get(athlete::own))
        .route("/orgs/{org}/start", get(start::page))
        .route("/orgs/{org}/upload", get(upload::form).post(upload::submit))
        .route("/orgs/{org}/models", get(models::page))
        .route(
            "/orgs/{org}/models/versions/{version}/stage",
            post(models::stage),
        )
        .route(
            "/orgs/{org}/models/{model}/rollback",
            post(models::rollback),
        )
        .route("/orgs/{org}/pipelines", get(pipelines::page))
        .route(
            "/orgs/{org}/pipelines/{pipeline}/runs",
            post(pipelines::start),
        )
        .route(
            "/orgs/{org}/pipelines/{pipeline}/schedule",
            post(pipelines::schedule),
        )
        .route("/orgs/{org}/runs/{run}", get(pipelines::run))
        .route("/orgs/{org}/datasets", get(datasets::page))
        .route("/orgs/{org}/athletes", get(athletes::page))
        .route("/orgs/{org}/injuries", get(injuries_list::page))
        .route("/orgs/{org}/runs/{run}/cancel", post(pipelines::cancel))
        .route("/orgs/{org}/settings", get(settings::page))
        .route("/orgs/{org}/settings/invitations", post(settings::invite))
        .route(
            "/orgs/{org}/settings/members/{user}",
            post(settings::member),
        )
        .route("/orgs/{org}/settings/teams", post(settings::team))
        .route("/orgs/{org}/settings/staff", post(settings::staff))
        .route("/orgs/{org}/settings/api-keys", post(settings::issue_key))
        .route(
            "/orgs/{org}/settings/api-keys/{key}/revoke",
            post(settings::revoke_key),
        )
        .route(
            "/orgs/{org}/settings/mfa-policy",
            post(settings::mfa_policy),
        )
        .route("/orgs/{org}/settings/sso", post(settings::sso_settings))
        .route(
            "/orgs/{org}/settings/sso/domains",
            post(settings::sso_domain),
        )
        .route(
            "/orgs/{org}/settings/organisation",
            post(settings::organisation),
        )
        .route(
            "/orgs/{org}/settings/risk-thresholds",
            post(settings::risk_thresholds),
        )
        .route_layer(axum::middleware::from_fn_with_state(state, gate));
    pages.merge(assets::routes())
}

/// What the pages' gate established: the grant, and (for writes) the form's fields.
#[derive(Debug, Clone)]
pub struct PageGrant {
    /// The API's grant (absent on public pages).
    pub grant: Option<Grant>,
    /// The session's CSRF token, for the forms the page shows.
    pub csrf: String,
}

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for PageGrant {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Response> {
        parts
            .extensions
            .get::<PageGrant>()
            .cloned()
            .ok_or_else(|| error_page(StatusCode::INTERNAL_SERVER_ERROR, None))
    }
}

impl PageGrant {
    /// The grant of a page that needs one.
    pub fn grant(&self) -> Result<&Grant, Refused> {
        self.grant
            .as_ref()
            .ok_or_else(|| Refused::from(error_page(StatusCode::INTERNAL_SERVER_ERROR, None)))
    }
}

/// A page that could not be shown, as the response that says so (boxed: responses are large).
#[derive(Debug)]
pub struct Refused(Box<Response>);

impl From<Response> for Refused {
    fn from(r: Response) -> Self {
        Self(Box::new(r))
    }
}

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        *self.0
    }
}

/// The pages' gate: the page's declaration, the CSRF token of a write, then the API's gate.
async fn gate(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let (mut parts, body) = req.into_parts();
    let (path, method) = authz::route_key(&parts);
    let Some(spec) = PAGES.iter().find(|p| p.path == path && p.method == method) else {
        return error_page(StatusCode::NOT_FOUND, None);
    };
    // A write's body is read here (bounded by the body limit) to find its token.
    let (body, presented) = if parts.method.is_safe() {
        (body, None)
    } else {
        let bytes = match axum::body::to_bytes(body, usize::MAX).await {
            Ok(b) => b,
            Err(_) => return error_page(StatusCode::PAYLOAD_TOO_LARGE, None),
        };
        let token = form_token(&parts.headers, &bytes).await;
        (Body::from(bytes), Some(token.unwrap_or_default()))
    };
    let meta = RequestMeta::from_parts(&parts);
    let mut set_form_cookie = None;
    let csrf = if spec.requirement == Public {
        let cookie = cookie(&parts.headers, FORM_COOKIE).map(str::to_owned);
        if let Some(token) = &presented
            && !cookie
                .as_deref()
                .is_some_and(|c| session::csrf_matches(token, c))
        {
            return csrf_refused();
        }
        match cookie {
            Some(c) if c.len() == 43 => c,
            _ => {
                let (fresh, _) = session::new_opaque();
                let fresh = fresh.expose().clone();
                set_form_cookie = Some(fresh.clone());
                fresh
            }
        }
    } else {
        String::new()
    };
    let grant =
        match authz::admit(&state, &mut parts, spec.requirement, meta, CsrfCheck::Done).await {
            Ok(g) => g,
            Err(e) => return refusal(e),
        };
    let csrf = match &grant {
        None => csrf,
        Some(g) => {
            // Pages are for people signed in here, not for keys or tokens.
            let Some(s) = g.principal.session() else {
                return Redirect::to("/sign-in").into_response();
            };
            if let Some(token) = &presented
                && !session::csrf_matches(token, &s.csrf_token)
            {
                return csrf_refused();
            }
            s.csrf_token.clone()
        }
    };
    parts.extensions.insert(PageGrant { grant, csrf });
    let mut res = next.run(Request::from_parts(parts, body)).await;
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(PAGE_CSP),
    );
    if let Some(token) = set_form_cookie
        && let Ok(v) = HeaderValue::from_str(&format!(
            "{FORM_COOKIE}={token}; Path=/; HttpOnly; Secure; SameSite=Strict"
        ))
    {
        h.append(header::SET_COOKIE, v);
    }
    res
}

/// The CSRF token a form carries: a field of a URL-encoded form, or the first field of a
/// multipart one (upload forms put it first).
async fn form_token(headers: &HeaderMap, body: &Bytes) -> Option<String> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if content_type.starts_with("application/x-www-form-urlencoded") {
        return serde_urlencoded::from_bytes::<Vec<(String, String)>>(body)
            .ok()?
            .into_iter()
            .find(|(k, _)| k == CSRF_FIELD)
            .map(|(_, v)| v);
    }
    if content_type.starts_with("multipart/form-data") {
        let boundary = multer::parse_boundary(content_type).ok()?;
        let bytes = body.clone();
        let stream =
            futures_util::stream::once(async move { Ok::<_, std::convert::Infallible>(bytes) });
        let mut multipart = multer::Multipart::new(stream, boundary);
        while let Ok(Some(field)) = multipart.next_field().await {
            if field.name() == Some(CSRF_FIELD) {
                return field.text().await.ok();
            }
        }
    }
    None
}

/// Turns the API gate's refusal into what a browser should see: sign-in when nobody (or an
/// expired session) calls, the code form when a second factor is due, else an error page.
fn refusal(e: ApiError) -> Response {
    match e {
        ApiError::Unauthenticated => Redirect::to("/sign-in").into_response(),
        ApiError::MfaRequired => Redirect::to("/sign-in/code").into_response(),
        e => {
            let status = e.into_response().status();
            error_page(status, None)
        }
    }
}

fn csrf_refused() -> Response {
    error_page(
        StatusCode::FORBIDDEN,
        Some(
            "This form has expired or did not come from MHP. Go back, reload the page and try again.",
        ),
    )
}

/// Value of a cookie in the request.
fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// An error's text as a sentence of the page.
pub fn sentence(why: &str) -> String {
    let mut s = why.to_owned();
    if let Some(first) = s.get(..1) {
        s.replace_range(..1, &first.to_uppercase());
    }
    if !s.ends_with('.') {
        s.push('.');
    }
    s
}

/// The fields of a form, by name (a name may repeat: checkboxes).
pub fn fields(body: &[u8]) -> Vec<(String, String)> {
    serde_urlencoded::from_bytes(body).unwrap_or_default()
}

pub fn field<'a>(fields: &'a [(String, String)], name: &str) -> &'a str {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map_or("", |(_, v)| v.as_str())
}

/// An error page: a status, a sentence, a way back. Nothing from the request is repeated.
pub fn error_page(status: StatusCode, detail: Option<&str>) -> Response {
    let (title, text) = match status {
        StatusCode::NOT_FOUND => (
            "Not found",
            "There is nothing here, or nothing you may see.",
        ),
        StatusCode::FORBIDDEN => ("Not allowed", "Your role does not allow this page."),
        StatusCode::TOO_MANY_REQUESTS => ("Too many attempts", "Wait a minute and try again."),
        StatusCode::PAYLOAD_TOO_LARGE => ("Too large", "The file is larger than MHP accepts."),
        s if s.is_client_error() => ("Not possible", "MHP could not do this."),
        _ => (
            "Something went wrong",
            "MHP could not show this page. Try again in a moment.",
        ),
    };
    let body = layout::bare(
        title,
        html! {
            h1 { (title) }
            p { (detail.unwrap_or(text)) }
            p { a href="/" { "Go to the start page" } }
        },
    );
    (status, render(body)).into_response()
}

/// A rendered page as a response.
pub fn render(markup: Markup) -> Response {
    (
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        markup.into_string(),
    )
        .into_response()
}

/// A use case's or the API's error as a page.
pub fn app_error(e: impl Into<ApiError>) -> Response {
    let e: ApiError = e.into();
    if let ApiError::Internal(inner) = &e {
        tracing::error!(error = %inner, "page failed");
    }
    refusal(e)
}

/// `/`: the person's first organisation (by name), or sign-in.
async fn home(State(state): State<AppState>, g: PageGrant) -> Response {
    let Ok(grant) = g.grant() else {
        return Redirect::to("/sign-in").into_response();
    };
    let Principal::User { user, .. } = &grant.principal else {
        return Redirect::to("/sign-in").into_response();
    };
    match layout::memberships(&state, user.id).await {
        Ok(m) => match m.first() {
            Some((org, _, roles)) => Redirect::to(&layout::start_page(*org, roles)).into_response(),
            None => error_page(
                StatusCode::FORBIDDEN,
                Some("You are not a member of any organisation yet."),
            ),
        },
        Err(e) => app_error(e),
    }
}

/// Whether any of `roles` grants `permission`.
pub fn may(roles: &[Role], permission: Permission) -> bool {
    mhp_domain::widest_reach(roles, permission).is_some()
}
