//! A person's own account: the units pages show them, their authenticator app (enrolment with a QR code, then recovery
//! codes shown once) and signing out of every device. The API's own functions run underneath
//! (`mfa::begin_totp`, `mfa::confirm_totp`, `auth::end_session`), with their events.
//!
//! The account is the person's, not an organisation's: these pages need a session and nothing
//! more, so that a person whose organisation requires an authenticator can still set one up.

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse as _, Response};
use maud::{Markup, PreEscaped, html};
use mhp_domain::display::{DisplayUnits, ForceUnit, LengthUnit, MassUnit};
use serde::Deserialize;

use super::{CSRF_FIELD, PageGrant, app_error, layout, render, signin};
use crate::api::auth;
use crate::api::mfa::{self, NewAuthenticator};
use crate::authn::Principal;
use crate::{ApiError, AppState};

#[derive(Debug, Deserialize)]
pub struct AccountQuery {
    /// Set when the person came here because their organisation requires an authenticator.
    #[serde(default)]
    required: Option<String>,
    /// Set after the units were saved.
    #[serde(default)]
    saved: Option<String>,
}

/// `GET /account`.
pub async fn page(
    State(state): State<AppState>,
    g: PageGrant,
    Query(q): Query<AccountQuery>,
) -> Response {
    let grant = match g.grant() {
        Ok(grant) => grant,
        Err(r) => return r.into_response(),
    };
    let Principal::User { user, .. } = &grant.principal else {
        return app_error(ApiError::Forbidden);
    };
    let status = match mfa::status(&state, user.id).await {
        Ok(s) => s,
        Err(e) => return app_error(e),
    };
    let main = html! {
        h1 { "Your account" }
        section aria-labelledby="who" {
            h2 id="who" { "Signed in as" }
            p { (user.display_name.as_str()) " · " (user.email.as_str()) }
        }
        section aria-labelledby="authenticator" {
            h2 id="authenticator" { "Authenticator app" }
            @match status.enabled_at {
                Some(at) => {
                    p { "An authenticator app protects your sign-in since " (layout::date(at)) "." }
                    p { "Recovery codes left: " strong { (status.recovery_codes_left) } "." }
                }
                None => {
                    @if q.required.is_some() {
                        p.error role="alert" {
                            "Your organisation requires an authenticator app. Set one up to go on."
                        }
                    }
                    p {
                        "An authenticator app (on your phone or computer) adds a six-digit code "
                        "to your sign-in, so that your password alone does not open your account."
                    }
                    form method="post" action="/account/authenticator" {
                        input type="hidden" name=(CSRF_FIELD) value=(g.csrf);
                        button.primary type="submit" { "Set up an authenticator app" }
                    }
                }
            }
        }
        (units_form(&g.csrf, user.units, q.saved.is_some(), None))
        section aria-labelledby="sessions" {
            h2 id="sessions" { "Sessions" }
            p { "Lost a device, or signed in somewhere you should not have? End every session and API token of your account, here and everywhere else." }
            form method="post" action="/sign-out" {
                input type="hidden" name=(CSRF_FIELD) value=(g.csrf);
                input type="hidden" name="everywhere" value="1";
                button.primary type="submit" { "Sign out everywhere" }
            }
        }
        p { a href="/" { "Back to MHP" } }
    };
    render(layout::bare("Your account", main))
}

/// The units form: one group of choices per kind of value.
fn units_form(csrf: &str, units: DisplayUnits, saved: bool, error: Option<&str>) -> Markup {
    let length = [
        (LengthUnit::Centimetre, "Centimetres (cm)"),
        (LengthUnit::Inch, "Inches (in)"),
    ];
    let mass = [
        (MassUnit::Kilogram, "Kilograms (kg)"),
        (MassUnit::Pound, "Pounds (lb)"),
    ];
    let force = [
        (
            ForceUnit::PerKilogram,
            "Per kilogram of body mass (N/kg, W/kg)",
        ),
        (ForceUnit::Absolute, "As measured (N, W)"),
    ];
    html! {
        section aria-labelledby="units" {
            h2 id="units" { "Units" }
            p { "How pages show values to you. What is stored does not change." }
            @if saved { p.notice role="status" { "Your units are saved." } }
            @if let Some(e) = error { p.error role="alert" { (e) } }
            form.units method="post" action="/account/units" {
                input type="hidden" name=(CSRF_FIELD) value=(csrf);
                fieldset {
                    legend { "Lengths such as jump height" }
                    @for (u, text) in length {
                        label.choice { input type="radio" name="length_unit" value=(u.as_str()) checked[u == units.length]; " " (text) }
                    }
                }
                fieldset {
                    legend { "Body mass" }
                    @for (u, text) in mass {
                        label.choice { input type="radio" name="mass_unit" value=(u.as_str()) checked[u == units.mass]; " " (text) }
                    }
                }
                fieldset {
                    legend { "Force and power" }
                    @for (u, text) in force {
                        label.choice { input type="radio" name="force_unit" value=(u.as_str()) checked[u == units.force]; " " (text) }
                    }
                }
                button.primary type="submit" { "Save units" }
            }
        }
    }
}

/// `POST /account/units`: the units pages show this person.
pub async fn units(State(state): State<AppState>, g: PageGrant, body: Bytes) -> Response {
    let grant = match g.grant() {
        Ok(grant) => grant,
        Err(r) => return r.into_response(),
    };
    let Principal::User { user, .. } = &grant.principal else {
        return app_error(ApiError::Forbidden);
    };
    let fields = super::fields(&body);
    let named = |name: &str| Some(super::field(&fields, name)).filter(|v| !v.is_empty());
    let change = mhp_app::preferences::UnitsChange {
        length: named("length_unit"),
        mass: named("mass_unit"),
        force: named("force_unit"),
    };
    match mhp_app::preferences::set_units(&state.app, user.id, &change).await {
        Ok(_) => axum::response::Redirect::to("/account?saved=units#units").into_response(),
        Err(mhp_app::AppError::Malformed(why)) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            render(layout::bare(
                "Your account",
                html! {
                    h1 { "Your account" }
                    (units_form(&g.csrf, user.units, false, Some(&super::sentence(&why))))
                    p { a href="/account" { "Back to your account" } }
                },
            )),
        )
            .into_response(),
        Err(e) => app_error(e),
    }
}

/// `POST /account/authenticator`: a new secret, pending until its first code confirms it.
pub async fn begin(State(state): State<AppState>, g: PageGrant) -> Response {
    let grant = match g.grant() {
        Ok(grant) => grant,
        Err(r) => return r.into_response(),
    };
    match mfa::begin_totp(&state, grant).await {
        Ok(new) => render(enrol_page(&g.csrf, &new, None)),
        Err(ApiError::Conflict(_)) => axum::response::Redirect::to("/account").into_response(),
        Err(e) => app_error(e),
    }
}

/// `POST /account/authenticator/confirm`: the first code turns the authenticator on; the
/// recovery codes are shown once, and the session continues under a new id.
pub async fn confirm(
    State(state): State<AppState>,
    g: PageGrant,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let grant = match g.grant() {
        Ok(grant) => grant,
        Err(r) => return r.into_response(),
    };
    let code = signin::typed_code(&body);
    match mfa::confirm_totp(&state, &headers, grant, &code).await {
        Ok((started, codes)) => {
            let page = render(codes_page(&codes));
            match auth::with_cookie(page, &started) {
                Ok(r) => r,
                Err(e) => app_error(e),
            }
        }
        Err(ApiError::BadRequest(why)) => {
            // Shown again with the same key, so the person can try the next code.
            let Principal::User { user, .. } = &grant.principal else {
                return app_error(ApiError::Forbidden);
            };
            match mfa::pending_totp(&state, user).await {
                Ok(Some(new)) => (
                    StatusCode::UNPROCESSABLE_ENTITY,
                    render(enrol_page(&g.csrf, &new, Some(&super::sentence(&why)))),
                )
                    .into_response(),
                Ok(None) => axum::response::Redirect::to("/account").into_response(),
                Err(e) => app_error(e),
            }
        }
        Err(ApiError::Conflict(_)) => axum::response::Redirect::to("/account").into_response(),
        Err(e) => app_error(e),
    }
}

fn enrol_page(csrf: &str, new: &NewAuthenticator, error: Option<&str>) -> Markup {
    let key = grouped(new.secret_base32.expose());
    layout::bare(
        "Set up an authenticator app",
        html! {
            div.card.wide {
                h1 { "Set up an authenticator app" }
                ol.steps {
                    li {
                        p { "Scan this code with your authenticator app." }
                        (qr_svg(new.otpauth_uri.expose()))
                    }
                    li {
                        p { "Or type this key into the app by hand:" }
                        p { code.key aria-label="Key" { (key) } }
                    }
                    li {
                        p { "Enter the six-digit code the app now shows." }
                        @if let Some(e) = error {
                            p.error role="alert" { (e) }
                        }
                        form method="post" action="/account/authenticator/confirm" {
                            input type="hidden" name=(CSRF_FIELD) value=(csrf);
                            (signin::code_field(8))
                            button.primary type="submit" { "Turn on" }
                        }
                    }
                }
                p { a href="/account" { "Not now" } }
            }
        },
    )
}

fn codes_page(codes: &[mhp_domain::Secret<String>]) -> Markup {
    layout::bare(
        "Save your recovery codes",
        html! {
            div.card.wide {
                h1 { "Save your recovery codes" }
                p.lead { "Your authenticator app is on." }
                p {
                    "If you lose the device, each of these codes signs you in once in place of "
                    "the six-digit code. Keep them somewhere safe: they are shown only now."
                }
                ul.codes aria-label="Recovery codes" {
                    @for c in codes {
                        li { code { (c.expose()) } }
                    }
                }
                p { a href="/" { "Continue to MHP" } }
            }
        },
    )
}

/// A base32 key in groups of four, easier to type.
fn grouped(key: &str) -> String {
    key.as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The QR code of an `otpauth://` URI as inline SVG: one path of dark modules inside a quiet
/// zone of four, drawn with attributes only (the content security policy forbids inline style).
fn qr_svg(uri: &str) -> Markup {
    let Ok(code) = qrcode::QrCode::with_error_correction_level(uri, qrcode::EcLevel::M) else {
        return html! { p { "The QR code could not be drawn: type the key below instead." } };
    };
    let width = code.width();
    let colors = code.to_colors();
    let quiet = 4;
    let mut d = String::new();
    for y in 0..width {
        let mut x = 0;
        while x < width {
            if colors[y * width + x] == qrcode::Color::Dark {
                let start = x;
                while x < width && colors[y * width + x] == qrcode::Color::Dark {
                    x += 1;
                }
                d.push_str(&format!(
                    "M{} {}h{}v1h-{}z",
                    start + quiet,
                    y + quiet,
                    x - start,
                    x - start
                ));
            } else {
                x += 1;
            }
        }
    }
    let size = width + 2 * quiet;
    PreEscaped(format!(
        r##"<svg class="qr" role="img" aria-label="QR code of your authenticator key" viewBox="0 0 {size} {size}" width="{px}" height="{px}" shape-rendering="crispEdges" xmlns="http://www.w3.org/2000/svg"><rect width="{size}" height="{size}" fill="#fff"/><path d="{d}" fill="#000"/></svg>"##,
        px = size * 5,
    ))
}
