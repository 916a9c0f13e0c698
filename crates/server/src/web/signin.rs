//! Sign-in with e-mail and password, the authentication code when a second factor is due, and
//! sign-out. The same functions as the API's sign-in run underneath: throttling, lockout,
//! security events and session rotation are theirs.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use mhp_auth::session;
use mhp_domain::Secret;
use serde::Deserialize;

use super::{CSRF_FIELD, PageGrant, app_error, layout, render};
use crate::api::auth::{self, PasswordSignIn};
use crate::api::mfa::{self, SecondFactor};
use crate::api::sso::{self, Discovered};
use crate::authn::RequestMeta;
use crate::{ApiError, AppState};

#[derive(Deserialize)]
struct SignInForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
}

redacted_debug!(SignInForm);

fn sign_in_page(csrf: &str, email: &str, error: Option<&str>) -> Markup {
    layout::bare(
        "Sign in",
        html! {
            div.card.narrow {
                h1 { "Sign in" }
                @if let Some(e) = error {
                    p.error role="alert" id="sign-in-error" { (e) }
                }
                form method="post" action="/sign-in" {
                    input type="hidden" name=(CSRF_FIELD) value=(csrf);
                    div.field {
                        label for="email" { "Email" }
                        input id="email" name="email" type="email" autocomplete="username"
                            required value=(email) autofocus;
                    }
                    div.field {
                        label for="password" { "Password" }
                        input id="password" name="password" type="password"
                            autocomplete="current-password" required;
                    }
                    button.primary type="submit" { "Sign in" }
                }
                p.links {
                    a href="/password-reset" { "Forgot your password?" }
                    " · "
                    a href="/sign-in/sso" { "Sign in with your organisation" }
                }
            }
        },
    )
}

/// `GET /sign-in`.
pub async fn form(g: PageGrant) -> Response {
    render(sign_in_page(&g.csrf, "", None))
}

/// `POST /sign-in`.
pub async fn submit(
    State(state): State<AppState>,
    g: PageGrant,
    meta: RequestMeta,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Ok(f) = serde_urlencoded::from_bytes::<SignInForm>(&body) else {
        return (
            StatusCode::BAD_REQUEST,
            render(sign_in_page(&g.csrf, "", Some("Fill in both fields."))),
        )
            .into_response();
    };
    let email = f.email.trim().to_owned();
    let secret = Secret::new(f.password);
    let again = |status: StatusCode, text: &str| {
        (status, render(sign_in_page(&g.csrf, &email, Some(text)))).into_response()
    };
    match auth::sign_in_with_password(&state, &meta, &headers, &email, secret).await {
        Ok(PasswordSignIn::Started {
            started, totp_on, ..
        }) => {
            let to = if totp_on { "/sign-in/code" } else { "/" };
            with_session(Redirect::to(to).into_response(), &started)
        }
        Ok(PasswordSignIn::SsoRequired) => again(
            StatusCode::FORBIDDEN,
            "Your organisation signs you in through its own identity provider: use \
             \"Sign in with your organisation\" below.",
        ),
        Err(ApiError::Unauthenticated) => again(
            StatusCode::UNAUTHORIZED,
            "The e-mail address or the password is not right.",
        ),
        Err(ApiError::TooManyAttempts(secs)) => again(
            StatusCode::TOO_MANY_REQUESTS,
            &format!(
                "Too many attempts. Try again in {} minute(s).",
                secs.div_ceil(60)
            ),
        ),
        Err(e) => app_error(e),
    }
}

fn with_session(res: Response, started: &session::NewSession) -> Response {
    match auth::with_cookie(res, started) {
        Ok(r) => r,
        Err(e) => app_error(e),
    }
}

fn code_page(csrf: &str, error: Option<&str>) -> Markup {
    layout::bare(
        "Authentication code",
        html! {
            div.card.narrow {
                h1 { "Authentication code" }
                p { "Enter the six-digit code your authenticator app shows, or one of your recovery codes." }
                @if let Some(e) = error {
                    p.error role="alert" { (e) }
                }
                form method="post" action="/sign-in/code" {
                    input type="hidden" name=(CSRF_FIELD) value=(csrf);
                    (code_field(32))
                    button.primary type="submit" { "Continue" }
                }
                form method="post" action="/sign-out" {
                    input type="hidden" name=(CSRF_FIELD) value=(csrf);
                    button.link type="submit" { "Sign out" }
                }
            }
        },
    )
}

/// `GET /sign-in/code`. A session with no code due came here because its organisation requires
/// an authenticator the person has not set up: the account page sets one up.
pub async fn code_form(g: PageGrant) -> Response {
    let pending = g
        .grant
        .as_ref()
        .and_then(|grant| grant.principal.session())
        .is_some_and(|s| s.mfa_pending);
    if !pending {
        return Redirect::to("/account?required=1").into_response();
    }
    render(code_page(&g.csrf, None))
}

fn sso_page(csrf: &str, email: &str, error: Option<&str>) -> Markup {
    layout::bare(
        "Sign in with your organisation",
        html! {
            div.card.narrow {
                h1 { "Sign in with your organisation" }
                p { "Enter your work e-mail address: MHP sends you to your organisation's own sign-in." }
                @if let Some(e) = error {
                    p.error role="alert" { (e) }
                }
                form method="post" action="/sign-in/sso" {
                    input type="hidden" name=(CSRF_FIELD) value=(csrf);
                    div.field {
                        label for="email" { "Email" }
                        input id="email" name="email" type="email" autocomplete="username"
                            required value=(email) autofocus;
                    }
                    button.primary type="submit" { "Continue" }
                }
                p { a href="/sign-in" { "Sign in with a password instead" } }
            }
        },
    )
}

/// `GET /sign-in/sso`.
pub async fn sso_form(g: PageGrant) -> Response {
    render(sso_page(&g.csrf, "", None))
}

#[derive(Deserialize)]
struct SsoForm {
    #[serde(default)]
    email: String,
}

redacted_debug!(SsoForm);

/// `POST /sign-in/sso`: the organisation found from the address's domain, then its provider.
pub async fn sso_submit(State(state): State<AppState>, g: PageGrant, body: Bytes) -> Response {
    let email = serde_urlencoded::from_bytes::<SsoForm>(&body)
        .map(|f| f.email.trim().to_owned())
        .unwrap_or_default();
    let again = |text: &str| {
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            render(sso_page(&g.csrf, &email, Some(text))),
        )
            .into_response()
    };
    match sso::discover(&state, &email).await {
        Ok(Discovered::One(org)) => {
            Redirect::to(&format!("/api/v1/auth/sso/{org}/start")).into_response()
        }
        Ok(Discovered::None) => again(
            "No organisation signs in people of this e-mail domain through its own provider. \
             Sign in with your password, or check the address.",
        ),
        Ok(Discovered::Many) => again(
            "More than one organisation uses this e-mail domain. Ask your administrator for \
             your organisation's sign-in link.",
        ),
        Err(e) => app_error(e),
    }
}

#[derive(Deserialize)]
struct CodeForm {
    #[serde(default)]
    code: String,
}

redacted_debug!(CodeForm);

/// The field an authenticator's code is typed into (`max` characters: recovery codes are
/// longer than the six digits).
pub(super) fn code_field(max: u32) -> Markup {
    html! {
        div.field {
            label for="code" { "Authentication code" }
            input id="code" name="code" type="text" inputmode="numeric"
                autocomplete="one-time-code" required autofocus maxlength=(max);
        }
    }
}

/// The code a form carries, without the spaces people type into it.
pub(super) fn typed_code(body: &[u8]) -> String {
    serde_urlencoded::from_bytes::<CodeForm>(body)
        .map(|f| f.code.trim().replace(' ', ""))
        .unwrap_or_default()
}

/// `POST /sign-in/code`: a six-digit code is a TOTP code; anything longer a recovery code.
pub async fn code_submit(
    State(state): State<AppState>,
    g: PageGrant,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let grant = match g.grant() {
        Ok(grant) => grant,
        Err(r) => return r.into_response(),
    };
    let code = typed_code(&body);
    let factor = if code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()) {
        SecondFactor::Code(code)
    } else {
        SecondFactor::Recovery(code)
    };
    match mfa::finish_second_factor(&state, &headers, grant, factor).await {
        Ok((started, _)) => with_session(Redirect::to("/").into_response(), &started),
        Err(ApiError::Unauthenticated) => (
            StatusCode::UNAUTHORIZED,
            render(code_page(
                &g.csrf,
                Some("That code is not right. Try the current one."),
            )),
        )
            .into_response(),
        Err(ApiError::TooManyAttempts(_)) => (
            StatusCode::TOO_MANY_REQUESTS,
            render(code_page(
                &g.csrf,
                Some("Too many wrong codes. Wait a few minutes and try again."),
            )),
        )
            .into_response(),
        Err(ApiError::BadRequest(_)) => Redirect::to("/").into_response(),
        Err(e) => app_error(e),
    }
}

#[derive(Deserialize)]
struct SignOutForm {
    #[serde(default)]
    everywhere: Option<String>,
}

/// `POST /sign-out`: ends this session (or, with `everywhere`, every session and token).
pub async fn sign_out(State(state): State<AppState>, g: PageGrant, body: Bytes) -> Response {
    let grant = match g.grant() {
        Ok(grant) => grant,
        Err(r) => return r.into_response(),
    };
    let everywhere = serde_urlencoded::from_bytes::<SignOutForm>(&body)
        .ok()
        .and_then(|f| f.everywhere)
        .is_some();
    if let Err(e) = auth::end_session(&state, grant, everywhere).await {
        return app_error(e);
    }
    let mut res = Redirect::to("/sign-in").into_response();
    if let Ok(v) = HeaderValue::from_str(&session::clear_cookie()) {
        res.headers_mut().insert(header::SET_COOKIE, v);
    }
    res
}
