//! The organisation's settings, for its administrators: members and their roles, invitations,
//! teams and their staff, API keys (the token shown once), the second-factor policy and single
//! sign-on. Every form calls the API's own function for the same change (`members::
//! change_roles`, `invite::send_invitation`, `keys::issue`, `keys::revoke_key`,
//! `mfa::set_org_policy`, `sso::configure`) or the `mhp_app` use case (`teams::create`,
//! `teams::add_staff`), so checks, events and audit are theirs; a form that succeeds comes
//! back to the page (post, redirect, get) with a sentence saying what changed.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse as _, Redirect, Response};
use maud::{Markup, html};
use mhp_domain::display::TimeZone;
use mhp_domain::{MfaPolicy, OrgId, Permission, Role, TeamId, TeamName, UserId};
use mhp_storage::repo::Page;
use serde::Deserialize;

use super::dashboard::Context;
use super::layout::{self, Section};
use super::{CSRF_FIELD, PageGrant, Refused, app_error, field, fields, may, render, sentence};
use crate::api::{invite, keys, members, mfa, sso};
use crate::{ApiError, AppState};

/// What the page says above its sections.
enum Notice {
    /// A change made (one of [`DONE`]'s keys).
    Done(&'static str),
    /// A change refused, in words.
    Refused(String),
}

/// The sentences of changes made, by the key the redirect carries.
const DONE: &[(&str, &str)] = &[
    ("invited", "The invitation is on its way."),
    (
        "roles",
        "The member's roles are changed; their sessions ended.",
    ),
    ("removed", "The member is removed from the organisation."),
    ("team", "The team is made."),
    ("staff", "The member is staff of the team now."),
    ("revoked", "The API key is revoked."),
    ("policy", "The second-factor policy is changed."),
    ("sso", "Single sign-on is set."),
    (
        "domain",
        "The domain is proven: people of its addresses are led to your provider.",
    ),
    (
        "thresholds",
        "The risk bands are changed; they apply to scores made from now on.",
    ),
    (
        "organisation",
        "The organisation is changed; its pages show dates in its time zone.",
    ),
];

#[derive(Debug, Deserialize)]
pub struct SettingsQuery {
    #[serde(default)]
    done: Option<String>,
}

/// `GET /orgs/{org}/settings`.
pub async fn page(
    State(state): State<AppState>,
    g: PageGrant,
    Query(q): Query<SettingsQuery>,
) -> Response {
    let notice = q
        .done
        .as_deref()
        .and_then(|d| DONE.iter().find(|(k, _)| *k == d))
        .map(|(k, _)| Notice::Done(k));
    match settings(&state, &g, notice).await {
        Ok(r) => r,
        Err(r) => r.into_response(),
    }
}

/// A role in a word.
fn role_label(role: Role) -> &'static str {
    match role {
        Role::OrgAdmin => "Administrator",
        Role::Clinician => "Clinician",
        Role::Coach => "Coach",
        Role::Athlete => "Athlete",
        Role::DataScientist => "Data scientist",
        Role::Auditor => "Auditor",
        Role::Device => "Device",
    }
}

/// Roles a person can hold (devices get keys).
fn person_roles() -> impl Iterator<Item = Role> {
    Role::ALL.into_iter().filter(|r| *r != Role::Device)
}

async fn settings(
    state: &AppState,
    g: &PageGrant,
    notice: Option<Notice>,
) -> Result<Response, Refused> {
    let (cx, grant) = Context::of(state, g).await?;
    let org = cx.scope.org();
    let members = members::members(state, &grant).await.map_err(app_error)?;
    let teams = mhp_app::teams::list(
        &state.app,
        &cx.scope,
        mhp_app::teams::TeamsShown::All,
        Page::first(500),
    )
    .await
    .map_err(app_error)?;
    let staff = mhp_app::teams::staff(&state.app, &cx.scope)
        .await
        .map_err(app_error)?;
    let keys = keys::keys(state, &grant).await.map_err(app_error)?;
    let manage_org = may(&cx.roles, Permission::ManageOrganisation);
    let (policy, provider, bands) = if manage_org {
        (
            Some(mfa::org_policy(state, &grant).await.map_err(app_error)?),
            sso::view(state, &grant).await.map_err(app_error)?,
            Some(
                mhp_app::scoring::thresholds(&state.app, &cx.scope)
                    .await
                    .map_err(app_error)?,
            ),
        )
    } else {
        (None, None, None)
    };
    let names: BTreeMap<UserId, &str> = members
        .iter()
        .map(|m| (m.user.id, m.user.display_name.as_str()))
        .collect();
    let now = state.app.clock.now();
    let csrf = cx.csrf.as_str();
    let status = match &notice {
        Some(Notice::Refused(_)) => StatusCode::UNPROCESSABLE_ENTITY,
        _ => StatusCode::OK,
    };
    let main = html! {
        h1 { "Settings" }
        @if manage_org {
            (organisation_section(org, csrf, &cx))
        }
        @match &notice {
            Some(Notice::Done(key)) => {
                @if let Some((_, text)) = DONE.iter().find(|(k, _)| k == key) {
                    p.notice role="status" { (text) }
                }
            }
            Some(Notice::Refused(text)) => { p.error role="alert" { (text) } }
            None => {}
        }
        section aria-labelledby="members" {
            h2 id="members" { "Members" }
            div.table-wrap {
                table {
                    caption { (members.len()) " members" }
                    thead { tr { th scope="col" { "Name" } th scope="col" { "Email" } th scope="col" { "Roles" } th scope="col" { "Change" } } }
                    tbody {
                        @for m in &members {
                            @let id = m.user.id;
                            tr {
                                th scope="row" { (m.user.display_name.as_str()) }
                                td { (m.user.email.as_str()) }
                                td { (m.roles.iter().map(|r| role_label(*r)).collect::<Vec<_>>().join(", ")) }
                                td {
                                    details {
                                        summary { "Roles of " (m.user.display_name.as_str()) }
                                        form method="post" action={"/orgs/" (org) "/settings/members/" (id)} {
                                            input type="hidden" name=(CSRF_FIELD) value=(csrf);
                                            fieldset {
                                                legend { "Roles" }
                                                @for r in person_roles() {
                                                    @let field = format!("role-{id}-{}", r.as_str());
                                                    div.check {
                                                        input type="checkbox" id=(field) name="role" value=(r.as_str()) checked[m.roles.contains(&r)];
                                                        label for=(field) { (role_label(r)) }
                                                    }
                                                }
                                            }
                                            button.primary type="submit" { "Save roles" }
                                        }
                                        form method="post" action={"/orgs/" (org) "/settings/members/" (id)} {
                                            input type="hidden" name=(CSRF_FIELD) value=(csrf);
                                            input type="hidden" name="remove" value="1";
                                            button.danger type="submit" { "Remove from the organisation" }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            h3 { "Invite a person" }
            form.inline method="post" action={"/orgs/" (org) "/settings/invitations"} {
                input type="hidden" name=(CSRF_FIELD) value=(csrf);
                div.field {
                    label for="invite-email" { "Email" }
                    input id="invite-email" name="email" type="email" required autocomplete="off";
                }
                div.field {
                    label for="invite-role" { "Role" }
                    select id="invite-role" name="role" {
                        @for r in person_roles() {
                            option value=(r.as_str()) selected[r == Role::Coach] { (role_label(r)) }
                        }
                    }
                }
                button.primary type="submit" { "Send the invitation" }
            }
        }
        section aria-labelledby="teams" {
            h2 id="teams" { "Teams" }
            div.table-wrap {
                table {
                    caption { (teams.len()) " teams" }
                    thead { tr { th scope="col" { "Team" } th scope="col" { "Staff" } } }
                    tbody {
                        @for t in &teams {
                            tr {
                                th scope="row" { (t.name.as_str()) }
                                td {
                                    (staff.iter().filter(|(team, _)| *team == t.id)
                                        .filter_map(|(_, u)| names.get(u).copied())
                                        .collect::<Vec<_>>().join(", "))
                                }
                            }
                        }
                    }
                }
            }
            div.grid {
                form method="post" action={"/orgs/" (org) "/settings/teams"} {
                    h3 { "New team" }
                    input type="hidden" name=(CSRF_FIELD) value=(csrf);
                    div.field {
                        label for="team-name" { "Team name" }
                        input id="team-name" name="name" type="text" required maxlength="200";
                    }
                    button.primary type="submit" { "Make the team" }
                }
                @if !teams.is_empty() && !members.is_empty() {
                    form method="post" action={"/orgs/" (org) "/settings/staff"} {
                        h3 { "Add staff to a team" }
                        input type="hidden" name=(CSRF_FIELD) value=(csrf);
                        div.field {
                            label for="staff-team" { "Team" }
                            select id="staff-team" name="team" {
                                @for t in &teams { option value=(t.id) { (t.name.as_str()) } }
                            }
                        }
                        div.field {
                            label for="staff-member" { "Member" }
                            select id="staff-member" name="user" {
                                @for m in &members { option value=(m.user.id) { (m.user.display_name.as_str()) " (" (m.user.email.as_str()) ")" } }
                            }
                        }
                        button.primary type="submit" { "Add to the team" }
                    }
                }
            }
        }
        section aria-labelledby="keys" {
            h2 id="keys" { "API keys" }
            p { "Devices and integrations sign in with an API key. Its token is shown once, when it is issued." }
            @if !keys.is_empty() {
                div.table-wrap {
                    table {
                        caption { (keys.len()) " keys" }
                        thead { tr { th scope="col" { "Name" } th scope="col" { "Role" } th scope="col" { "Issued" } th scope="col" { "Expires" } th scope="col" { "Last used" } th scope="col" { "State" } } }
                        tbody {
                            @for k in &keys {
                                tr {
                                    th scope="row" { (k.name) }
                                    td { (role_label(k.role)) }
                                    td { (cx.show.date(k.created_at)) }
                                    td { (cx.show.date(k.expires_at)) }
                                    td { (k.last_used_at.map(layout::date).unwrap_or_else(|| "never".into())) }
                                    td {
                                        @if k.revoked_at.is_some() {
                                            "revoked"
                                        } @else if k.expires_at <= now {
                                            "expired"
                                        } @else {
                                            form method="post" action={"/orgs/" (org) "/settings/api-keys/" (k.id) "/revoke"} {
                                                input type="hidden" name=(CSRF_FIELD) value=(csrf);
                                                button.danger type="submit" aria-label={"Revoke " (k.name)} { "Revoke" }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            h3 { "Issue a key" }
            form.inline method="post" action={"/orgs/" (org) "/settings/api-keys"} {
                input type="hidden" name=(CSRF_FIELD) value=(csrf);
                div.field {
                    label for="key-name" { "Key name" }
                    input id="key-name" name="name" type="text" required maxlength="100";
                }
                div.field {
                    label for="key-role" { "Role" }
                    select id="key-role" name="role" {
                        @for r in Role::ALL {
                            option value=(r.as_str()) selected[r == Role::Device] { (role_label(r)) }
                        }
                    }
                }
                div.field {
                    label for="key-days" { "Days until it expires" }
                    input id="key-days" name="days" type="number" min="1" max="730" value="90" required;
                }
                button.primary type="submit" { "Issue the key" }
            }
        }
        @if let Some(policy) = policy {
            section aria-labelledby="security" {
                h2 id="security" { "Sign-in security" }
                form.inline method="post" action={"/orgs/" (org) "/settings/mfa-policy"} {
                    input type="hidden" name=(CSRF_FIELD) value=(csrf);
                    div.field {
                        label for="mfa-policy" { "Authenticator app required for" }
                        select id="mfa-policy" name="policy" {
                            @for (p, text) in [
                                (MfaPolicy::Optional, "Nobody (each person decides)"),
                                (MfaPolicy::Privileged, "Administrators, clinicians and auditors"),
                                (MfaPolicy::Everyone, "Everyone"),
                            ] {
                                option value=(p.as_str()) selected[p == policy] { (text) }
                            }
                        }
                    }
                    button.primary type="submit" { "Save the policy" }
                }
                (sso_section(org, csrf, provider.as_ref()))
            }
        }
        @if let Some(bands) = bands {
            section aria-labelledby="bands" {
                h2 id="bands" { "Risk bands" }
                p {
                    "A score's band comes from its probability of a time-loss injury in the next "
                    "seven days. New bands apply to scores made from now on."
                }
                form.inline method="post" action={"/orgs/" (org) "/settings/risk-thresholds"} {
                    input type="hidden" name=(CSRF_FIELD) value=(csrf);
                    div.field {
                        label for="band-moderate" { "Moderate from (%)" }
                        input id="band-moderate" name="moderate" type="number" min="0.1" max="99" step="0.1" required value=(percent(bands.moderate));
                    }
                    div.field {
                        label for="band-high" { "High from (%)" }
                        input id="band-high" name="high" type="number" min="0.1" max="99.9" step="0.1" required value=(percent(bands.high));
                    }
                    button.primary type="submit" { "Save the bands" }
                }
            }
        }
    };
    let page = layout::page(&cx.shell(Section::Settings), "Settings", main);
    Ok((status, render(page)).into_response())
}

/// The organisation's name and the time zone its pages show dates in.
fn organisation_section(org: OrgId, csrf: &str, cx: &Context) -> Markup {
    html! {
        section aria-labelledby="organisation" {
            h2 id="organisation" { "Organisation" }
            form.inline method="post" action={"/orgs/" (org) "/settings/organisation"} {
                input type="hidden" name=(CSRF_FIELD) value=(csrf);
                div.field {
                    label for="org-name" { "Name" }
                    input id="org-name" name="name" type="text" required maxlength="120" value=(cx.org_name);
                }
                div.field {
                    label for="org-tz" { "Time zone" }
                    input id="org-tz" name="time_zone" type="text" required list="time-zones"
                        autocomplete="off" aria-describedby="org-tz-hint" value=(cx.show.tz.name());
                    span.meta id="org-tz-hint" { "An IANA name such as Europe/Oslo or America/Chicago. Dates and times on every page of the organisation follow it." }
                    datalist id="time-zones" {
                        @for z in TimeZone::names() { option value=(z) {} }
                    }
                }
                button.primary type="submit" { "Save" }
            }
        }
    }
}

/// `POST /orgs/{org}/settings/organisation`: the name (when changed) and the time zone.
pub async fn organisation(State(state): State<AppState>, g: PageGrant, body: Bytes) -> Response {
    let f = fields(&body);
    let r = match Context::of(&state, &g).await {
        Ok((cx, grant)) => {
            let name = field(&f, "name").trim();
            let change = mhp_app::orgs::OrgChange {
                name: (name != cx.org_name).then_some(name),
                time_zone: Some(field(&f, "time_zone")),
            };
            mhp_app::orgs::update(&state.app, &cx.scope, &grant.caller(), &change)
                .await
                .map(|_| ())
                .map_err(ApiError::from)
        }
        Err(r) => return r.into_response(),
    };
    after(&state, &g, "organisation", r).await
}

fn sso_section(org: OrgId, csrf: &str, provider: Option<&sso::SsoView>) -> Markup {
    let p = provider.map(|v| &v.provider);
    let map = p
        .map(|p| {
            p.role_map
                .iter()
                .map(|(k, v)| format!("{k} = {v}"))
                .collect::<Vec<_>>()
                .join("\n")
        })
        .unwrap_or_default();
    html! {
        h3 { "Single sign-on" }
        @match provider {
            Some(v) => {
                p {
                    "People of " strong { (v.provider.allowed_domains.join(", ")) }
                    " sign in through " code { (v.provider.issuer) } "."
                    @if v.provider.required { " Passwords are refused to members." }
                    @if !v.client_secret_set { " No client secret is set yet: sign-in waits for one." }
                }
            }
            None => { p { "Not set: members sign in with their password." } }
        }
        @if let Some(v) = provider.filter(|v| !v.domains.is_empty()) {
            table.domains {
                caption { "Each domain leads its people to your provider once you prove the organisation owns it: publish the TXT record in the domain's DNS, then check it." }
                thead { tr { th scope="col" { "Domain" } th scope="col" { "Proof" } th scope="col" { "TXT record" } } }
                tbody {
                    @for d in &v.domains {
                        tr {
                            th scope="row" { (d.domain) }
                            td {
                                @if d.proven { span.pill.ok { "Proven" } } @else {
                                    span.pill.warn { "Not proven" }
                                    form.inline method="post" action={"/orgs/" (org) "/settings/sso/domains"} {
                                        input type="hidden" name=(CSRF_FIELD) value=(csrf);
                                        input type="hidden" name="domain" value=(d.domain);
                                        button type="submit" aria-label={"Check the DNS of " (d.domain)} { "Check DNS" }
                                    }
                                }
                            }
                            td { code { (d.txt_name) } " " code { (d.txt_value) } }
                        }
                    }
                }
            }
        }
        details {
            summary { @if provider.is_some() { "Change single sign-on" } @else { "Set up single sign-on" } }
            form method="post" action={"/orgs/" (org) "/settings/sso"} {
                input type="hidden" name=(CSRF_FIELD) value=(csrf);
                div.field {
                    label for="sso-issuer" { "Issuer" }
                    input id="sso-issuer" name="issuer" type="url" required placeholder="https://login.example.com" value=(p.map(|p| p.issuer.as_str()).unwrap_or(""));
                }
                div.field {
                    label for="sso-client" { "Client id" }
                    input id="sso-client" name="client_id" type="text" required value=(p.map(|p| p.client_id.as_str()).unwrap_or(""));
                }
                div.field {
                    label for="sso-secret" { "Client secret" }
                    input id="sso-secret" name="client_secret" type="password" autocomplete="off" aria-describedby="sso-secret-hint";
                    span.meta id="sso-secret-hint" { "Leave empty to keep the secret set before. It is never shown again." }
                }
                div.field {
                    label for="sso-domains" { "E-mail domains" }
                    input id="sso-domains" name="allowed_domains" type="text" required aria-describedby="sso-domains-hint" value=(p.map(|p| p.allowed_domains.join(", ")).unwrap_or_default());
                    span.meta id="sso-domains-hint" { "Separated by commas. Each is proven by a DNS record before it leads people here; a domain proven by another organisation is refused." }
                }
                div.field {
                    label for="sso-claim" { "Claim holding groups or roles" }
                    input id="sso-claim" name="role_claim" type="text" placeholder="groups" value=(p.and_then(|p| p.role_claim.as_deref()).unwrap_or(""));
                }
                div.field {
                    label for="sso-map" { "Groups to roles" }
                    textarea id="sso-map" name="role_map" rows="4" aria-describedby="sso-map-hint" { (map) }
                    span.meta id="sso-map-hint" { "One per line: group = role (org_admin, clinician, coach, athlete, auditor, data_scientist)." }
                }
                div.field {
                    label for="sso-default" { "Role of people with no mapped group" }
                    select id="sso-default" name="default_role" {
                        option value="" { "None: refuse them" }
                        @for r in person_roles() {
                            option value=(r.as_str()) selected[p.and_then(|p| p.default_role.as_deref()) == Some(r.as_str())] { (role_label(r)) }
                        }
                    }
                }
                div.check {
                    input id="sso-required" name="required" type="checkbox" value="1" checked[p.is_some_and(|p| p.required)];
                    label for="sso-required" { "Members must sign in through the provider (passwords refused)" }
                }
                button.primary type="submit" { "Save single sign-on" }
            }
        }
    }
}

/// The page again after a change: with its sentence when done, or the refusal in words when a
/// check failed (anything else is an error page).
async fn after(
    state: &AppState,
    g: &PageGrant,
    done: &'static str,
    r: Result<(), ApiError>,
) -> Response {
    let org = match g
        .grant()
        .and_then(|grant| grant.org().map_err(|e| Refused::from(app_error(e))))
    {
        Ok(scope) => scope.org(),
        Err(r) => return r.into_response(),
    };
    let refusal = match r {
        Ok(()) => {
            return Redirect::to(&format!("/orgs/{org}/settings?done={done}")).into_response();
        }
        Err(ApiError::BadRequest(text)) => text,
        Err(ApiError::Invalid { detail, .. }) => detail,
        Err(ApiError::Conflict(what)) => format!("{what} exists already"),
        Err(ApiError::NotFound(what)) => format!("no such {what} in the organisation"),
        Err(ApiError::TooManyAttempts(secs)) => format!(
            "too many messages; try again in {} minute(s)",
            secs.div_ceil(60)
        ),
        Err(e) => return app_error(e),
    };
    let text = sentence(&refusal);
    match settings(state, g, Some(Notice::Refused(text))).await {
        Ok(r) => r,
        Err(r) => r.into_response(),
    }
}

/// `POST /orgs/{org}/settings/invitations`.
pub async fn invite(State(state): State<AppState>, g: PageGrant, body: Bytes) -> Response {
    let f = fields(&body);
    let r = match g.grant() {
        Ok(grant) => {
            invite::send_invitation(&state, grant, field(&f, "email").trim(), field(&f, "role"))
                .await
                .map(|_| ())
        }
        Err(r) => return r.into_response(),
    };
    after(&state, &g, "invited", r).await
}

/// `POST /orgs/{org}/settings/members/{user}`: the roles checked, or removal.
pub async fn member(
    State(state): State<AppState>,
    g: PageGrant,
    Path((_, user)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let f = fields(&body);
    let Ok(user) = UserId::parse(&user) else {
        return after(&state, &g, "roles", Err(ApiError::NotFound("member"))).await;
    };
    let remove = !field(&f, "remove").is_empty();
    let roles: Vec<String> = if remove {
        Vec::new()
    } else {
        f.iter()
            .filter(|(k, _)| k == "role")
            .map(|(_, v)| v.clone())
            .collect()
    };
    if !remove && roles.is_empty() {
        let r = Err(ApiError::BadRequest(
            "choose at least one role, or remove the member".into(),
        ));
        return after(&state, &g, "roles", r).await;
    }
    let r = match g.grant() {
        Ok(grant) => members::change_roles(&state, grant, user, &roles).await,
        Err(r) => return r.into_response(),
    };
    after(&state, &g, if remove { "removed" } else { "roles" }, r).await
}

/// `POST /orgs/{org}/settings/teams`.
pub async fn team(State(state): State<AppState>, g: PageGrant, body: Bytes) -> Response {
    let f = fields(&body);
    let r = match g.grant() {
        Ok(grant) => match TeamName::parse(field(&f, "name")) {
            Err(e) => Err(ApiError::BadRequest(format!("team name {e}"))),
            Ok(name) => match grant.org() {
                Ok(scope) => mhp_app::teams::create(&state.app, &scope, &grant.caller(), &name)
                    .await
                    .map(|_| ())
                    .map_err(ApiError::from),
                Err(e) => Err(e),
            },
        },
        Err(r) => return r.into_response(),
    };
    after(&state, &g, "team", r).await
}

/// `POST /orgs/{org}/settings/staff`.
pub async fn staff(State(state): State<AppState>, g: PageGrant, body: Bytes) -> Response {
    let f = fields(&body);
    let (Ok(team), Ok(user)) = (
        TeamId::parse(field(&f, "team")),
        UserId::parse(field(&f, "user")),
    ) else {
        return after(
            &state,
            &g,
            "staff",
            Err(ApiError::BadRequest("choose a team and a member".into())),
        )
        .await;
    };
    let r = match g.grant() {
        Ok(grant) => match grant.org() {
            Ok(scope) => mhp_app::teams::add_staff(&state.app, &scope, &grant.caller(), team, user)
                .await
                .map_err(ApiError::from),
            Err(e) => Err(e),
        },
        Err(r) => return r.into_response(),
    };
    after(&state, &g, "staff", r).await
}

/// `POST /orgs/{org}/settings/api-keys`: the token, shown once on a page of its own.
pub async fn issue_key(State(state): State<AppState>, g: PageGrant, body: Bytes) -> Response {
    let f = fields(&body);
    let grant = match g.grant() {
        Ok(grant) => grant,
        Err(r) => return r.into_response(),
    };
    let Ok(days) = field(&f, "days").trim().parse::<u32>() else {
        return after(
            &state,
            &g,
            "revoked",
            Err(ApiError::BadRequest(
                "days until it expires must be a whole number".into(),
            )),
        )
        .await;
    };
    match keys::issue(
        &state,
        grant,
        field(&f, "name").trim(),
        field(&f, "role"),
        Some(days),
    )
    .await
    {
        Ok((key, token)) => {
            let (cx, _) = match Context::of(&state, &g).await {
                Ok(c) => c,
                Err(r) => return r.into_response(),
            };
            let org = cx.scope.org();
            let main = html! {
                h1 { "API key issued" }
                section {
                    p { "The key " strong { (key.name) } " (" (role_label(key.role)) ") works until " (cx.show.date(key.expires_at)) "." }
                    p { strong { "Copy its token now: it is shown only this once." } " MHP keeps only its hash." }
                    p { code.key aria-label="Token" { (token.expose()) } }
                    p { "Send it in the " code { "Authorization: Bearer" } " header." }
                }
                p { a href={"/orgs/" (org) "/settings"} { "Back to the settings" } }
            };
            render(layout::page(
                &cx.shell(Section::Settings),
                "API key issued",
                main,
            ))
        }
        Err(e) => after(&state, &g, "revoked", Err(e)).await,
    }
}

/// `POST /orgs/{org}/settings/api-keys/{key}/revoke`.
pub async fn revoke_key(
    State(state): State<AppState>,
    g: PageGrant,
    Path((_, key)): Path<(String, String)>,
) -> Response {
    let r = match g.grant() {
        Ok(grant) => keys::revoke_key(&state, grant, key).await,
        Err(r) => return r.into_response(),
    };
    after(&state, &g, "revoked", r).await
}

/// `POST /orgs/{org}/settings/mfa-policy`.
pub async fn mfa_policy(State(state): State<AppState>, g: PageGrant, body: Bytes) -> Response {
    let f = fields(&body);
    let r = match g.grant() {
        Ok(grant) => mfa::set_org_policy(&state, grant, field(&f, "policy"))
            .await
            .map(|_| ()),
        Err(r) => return r.into_response(),
    };
    after(&state, &g, "policy", r).await
}

/// A probability as a percentage, for a form.
fn percent(p: f64) -> String {
    let text = format!("{:.2}", p * 100.0);
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// `POST /orgs/{org}/settings/risk-thresholds`: the bands, given in percent.
pub async fn risk_thresholds(State(state): State<AppState>, g: PageGrant, body: Bytes) -> Response {
    let f = fields(&body);
    let pct = |name: &str| {
        field(&f, name)
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
    };
    let r = match (pct("moderate"), pct("high"), g.grant()) {
        (_, _, Err(r)) => return r.into_response(),
        (Some(moderate), Some(high), Ok(grant)) => match grant.org() {
            Ok(scope) => {
                let t = mhp_storage::repo::risk::Thresholds {
                    moderate: moderate / 100.0,
                    high: high / 100.0,
                };
                mhp_app::scoring::set_thresholds(&state.app, &scope, &grant.caller(), t)
                    .await
                    .map_err(ApiError::from)
                    .map_err(|e| match e {
                        ApiError::BadRequest(_) => ApiError::BadRequest(
                            "the bands must satisfy 0 % < moderate < high < 100 %".into(),
                        ),
                        e => e,
                    })
            }
            Err(e) => Err(e),
        },
        _ => Err(ApiError::BadRequest(
            "give both bands as percentages".into(),
        )),
    };
    after(&state, &g, "thresholds", r).await
}

/// `POST /orgs/{org}/settings/sso`.
pub async fn sso_settings(State(state): State<AppState>, g: PageGrant, body: Bytes) -> Response {
    let f = fields(&body);
    let mut role_map = BTreeMap::new();
    for line in field(&f, "role_map")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
    {
        let Some((group, role)) = line.split_once('=') else {
            let r = Err(ApiError::BadRequest(format!(
                "groups to roles: write each line as group = role (not {line:?})"
            )));
            return after(&state, &g, "sso", r).await;
        };
        role_map.insert(group.trim().to_owned(), role.trim().to_owned());
    }
    let text = |name: &str| Some(field(&f, name).trim().to_owned()).filter(|v| !v.is_empty());
    let grant = match g.grant() {
        Ok(grant) => grant,
        Err(r) => return r.into_response(),
    };
    // The form does not show the scopes: those set through the API are kept.
    let scopes = match sso::view(&state, grant).await {
        Ok(v) => v.map(|v| v.provider.scopes).unwrap_or_default(),
        Err(e) => return app_error(e),
    };
    let settings = sso::SsoSettings {
        issuer: field(&f, "issuer").trim().to_owned(),
        client_id: field(&f, "client_id").trim().to_owned(),
        client_secret: text("client_secret"),
        scopes,
        allowed_domains: field(&f, "allowed_domains")
            .split(',')
            .map(|d| d.trim().to_owned())
            .filter(|d| !d.is_empty())
            .collect(),
        role_claim: text("role_claim"),
        role_map,
        default_role: text("default_role"),
        required: !field(&f, "required").is_empty(),
    };
    let r = sso::configure(&state, grant, settings).await.map(|_| ());
    after(&state, &g, "sso", r).await
}

/// `POST /orgs/{org}/settings/sso/domains`: checks a domain's proof in DNS.
pub async fn sso_domain(State(state): State<AppState>, g: PageGrant, body: Bytes) -> Response {
    let f = fields(&body);
    let grant = match g.grant() {
        Ok(grant) => grant,
        Err(r) => return r.into_response(),
    };
    let r = sso::prove_domain(&state, grant, field(&f, "domain"))
        .await
        .map(|_| ());
    after(&state, &g, "domain", r).await
}
