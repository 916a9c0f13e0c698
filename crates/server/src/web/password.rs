//! The pages the messages link to: asking for a password reset, choosing the new password, and
//! accepting an invitation. The API's own functions run underneath (`invite::ask_reset`,
//! `invite::reset_password`, `invite::accept_invitation`), with their limits on mail, their
//! single-use tokens and their events.
//!
//! The link's token travels in the query of the page that shows the form (the messages cannot
//! carry anything else), then in the form's body; pages send no `Referer` and the request log
//! names the route, never the query.

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse as _, Response};
use maud::{Markup, html};
use mhp_auth::password;
use serde::Deserialize;

use super::{CSRF_FIELD, PageGrant, app_error, layout, render, sentence};
use crate::api::invite;
use crate::authn::RequestMeta;
use crate::{ApiError, AppState};

fn policy_hint() -> String {
    format!(
        "At least {} characters. A few unrelated words make a good one.",
        password::MIN_LEN
    )
}

fn request_page(csrf: &str, sent: bool, error: Option<&str>) -> Markup {
    layout::bare(
        "Reset your password",
        html! {
            div.card.narrow {
                h1 { "Reset your password" }
                @if sent {
                    p role="status" {
                        "If an account uses that address, a message with a link to choose a new "
                        "password is on its way. The link works for one hour, once."
                    }
                    p { a href="/sign-in" { "Back to sign-in" } }
                } @else {
                    p { "Enter the e-mail address you sign in with. We send a link to choose a new password." }
                    @if let Some(e) = error {
                        p.error role="alert" { (e) }
                    }
                    form method="post" action="/password-reset" {
                        input type="hidden" name=(CSRF_FIELD) value=(csrf);
                        div.field {
                            label for="email" { "Email" }
                            input id="email" name="email" type="email" autocomplete="username"
                                required autofocus;
                        }
                        button.primary type="submit" { "Send the link" }
                    }
                    p { a href="/sign-in" { "Back to sign-in" } }
                }
            }
        },
    )
}

/// `GET /password-reset`.
pub async fn request_form(g: PageGrant) -> Response {
    render(request_page(&g.csrf, false, None))
}

#[derive(Deserialize)]
struct EmailForm {
    #[serde(default)]
    email: String,
}

redacted_debug!(EmailForm);

/// `POST /password-reset`: answers alike whether the address has an account or not.
pub async fn request_submit(
    State(state): State<AppState>,
    g: PageGrant,
    meta: RequestMeta,
    body: Bytes,
) -> Response {
    let email = serde_urlencoded::from_bytes::<EmailForm>(&body)
        .map(|f| f.email)
        .unwrap_or_default();
    match invite::ask_reset(&state, meta, &email).await {
        Ok(()) => render(request_page(&g.csrf, true, None)),
        Err(ApiError::TooManyAttempts(secs)) => (
            StatusCode::TOO_MANY_REQUESTS,
            render(request_page(
                &g.csrf,
                false,
                Some(&format!(
                    "Too many messages to this address. Try again in {} minute(s).",
                    secs.div_ceil(60)
                )),
            )),
        )
            .into_response(),
        Err(e) => app_error(e),
    }
}

#[derive(Deserialize)]
pub struct TokenQuery {
    #[serde(default)]
    token: String,
}

redacted_debug!(TokenQuery);

fn new_password_page(csrf: &str, token: &str, error: Option<&str>) -> Markup {
    layout::bare(
        "Choose a new password",
        html! {
            div.card.narrow {
                h1 { "Choose a new password" }
                @if let Some(e) = error {
                    p.error role="alert" { (e) }
                }
                form method="post" action="/password-reset/new" {
                    input type="hidden" name=(CSRF_FIELD) value=(csrf);
                    input type="hidden" name="token" value=(token);
                    (password_fields("New password"))
                    button.primary type="submit" { "Set the password" }
                }
                p.meta { "Every session of your account ends: sign in again everywhere with the new password." }
            }
        },
    )
}

/// The password and its repetition, with the policy as their description.
fn password_fields(label: &str) -> Markup {
    html! {
        div.field {
            label for="password" { (label) }
            input id="password" name="password" type="password" autocomplete="new-password"
                required minlength=(password::MIN_LEN) maxlength=(password::MAX_LEN)
                aria-describedby="password-hint";
            span.meta id="password-hint" { (policy_hint()) }
        }
        div.field {
            label for="repeat" { "Repeat the password" }
            input id="repeat" name="repeat" type="password" autocomplete="new-password" required;
        }
    }
}

/// `GET /password-reset/new?token=…`: the form (the token is checked when it is used).
pub async fn new_form(g: PageGrant, Query(q): Query<TokenQuery>) -> Response {
    render(new_password_page(&g.csrf, q.token.trim(), None))
}

#[derive(Deserialize)]
struct NewPasswordForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    repeat: String,
}

redacted_debug!(NewPasswordForm);

/// `POST /password-reset/new`.
pub async fn new_submit(
    State(state): State<AppState>,
    g: PageGrant,
    meta: RequestMeta,
    body: Bytes,
) -> Response {
    let Ok(f) = serde_urlencoded::from_bytes::<NewPasswordForm>(&body) else {
        return app_error(ApiError::BadRequest("the form is not readable".into()));
    };
    let again = |text: &str| {
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            render(new_password_page(&g.csrf, &f.token, Some(text))),
        )
            .into_response()
    };
    if f.password != f.repeat {
        return again("The two passwords differ. Type the same password twice.");
    }
    match invite::reset_password(&state, &meta, &f.token, f.password.clone()).await {
        Ok(()) => render(layout::bare(
            "Password changed",
            html! {
                div.card.narrow {
                    h1 { "Password changed" }
                    p role="status" { "Your new password is set, and every session of your account has ended." }
                    p { a href="/sign-in" { "Sign in" } }
                }
            },
        )),
        Err(ApiError::BadRequest(why)) => again(&sentence(&why)),
        Err(e) => app_error(e),
    }
}

fn invitation_page(
    csrf: &str,
    token: &str,
    view: &invite::InvitationView,
    error: Option<&str>,
) -> Markup {
    layout::bare(
        "Accept your invitation",
        html! {
            div.card.narrow {
                h1 { "Accept your invitation" }
                p.lead { "Join " strong { (view.org_name) } " as " (role_name(view.role)) "." }
                p.meta { "Invitation for " (view.email.as_str()) }
                @if let Some(e) = error {
                    p.error role="alert" { (e) }
                }
                form method="post" action="/invitation" {
                    input type="hidden" name=(CSRF_FIELD) value=(csrf);
                    input type="hidden" name="token" value=(token);
                    div.field {
                        label for="name" { "Your name" }
                        input id="name" name="display_name" type="text" autocomplete="name"
                            required maxlength="200" autofocus;
                    }
                    @if view.has_account {
                        p { "You have an MHP account with this address: sign in with its password after joining." }
                    } @else {
                        (password_fields("Password"))
                    }
                    button.primary type="submit" { "Join" }
                }
            }
        },
    )
}

/// A role in words.
fn role_name(role: mhp_domain::Role) -> &'static str {
    use mhp_domain::Role as R;
    match role {
        R::OrgAdmin => "an administrator",
        R::Clinician => "a clinician",
        R::Coach => "a coach",
        R::Athlete => "an athlete",
        R::Auditor => "an auditor",
        R::DataScientist => "a data scientist",
        R::Device => "a device",
    }
}

fn link_invalid() -> Response {
    super::error_page(
        StatusCode::NOT_FOUND,
        Some(
            "This invitation link is invalid, used or expired. Ask whoever invited you to send a new one.",
        ),
    )
}

/// `GET /invitation?token=…`: what the invitation offers, and the form to accept it.
pub async fn invitation_form(
    State(state): State<AppState>,
    g: PageGrant,
    Query(q): Query<TokenQuery>,
) -> Response {
    let token = q.token.trim();
    match invite::invitation(&state, token).await {
        Ok(Some(view)) => render(invitation_page(&g.csrf, token, &view, None)),
        Ok(None) => link_invalid(),
        Err(e) => app_error(e),
    }
}

#[derive(Deserialize)]
struct AcceptForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    password: Option<String>,
    #[serde(default)]
    repeat: Option<String>,
}

redacted_debug!(AcceptForm);

/// `POST /invitation`.
pub async fn invitation_submit(
    State(state): State<AppState>,
    g: PageGrant,
    meta: RequestMeta,
    body: Bytes,
) -> Response {
    let Ok(f) = serde_urlencoded::from_bytes::<AcceptForm>(&body) else {
        return app_error(ApiError::BadRequest("the form is not readable".into()));
    };
    let view = match invite::invitation(&state, &f.token).await {
        Ok(Some(v)) => v,
        Ok(None) => return link_invalid(),
        Err(e) => return app_error(e),
    };
    let again = |text: &str| {
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            render(invitation_page(&g.csrf, &f.token, &view, Some(text))),
        )
            .into_response()
    };
    let password = if view.has_account {
        None
    } else {
        if f.password != f.repeat {
            return again("The two passwords differ. Type the same password twice.");
        }
        f.password.clone().filter(|p| !p.is_empty())
    };
    match invite::accept_invitation(&state, &meta, &f.token, f.display_name.trim(), password).await
    {
        Ok(_) => render(layout::bare(
            "Invitation accepted",
            html! {
                div.card.narrow {
                    h1 { "Welcome to " (view.org_name) }
                    p role="status" { "You joined as " (role_name(view.role)) "." }
                    p { a href="/sign-in" { "Sign in" } }
                }
            },
        )),
        Err(ApiError::BadRequest(why)) => {
            again(&sentence(&why.replace("display_name", "your name")))
        }
        Err(e) => app_error(e),
    }
}
