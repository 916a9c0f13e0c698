//! The security page (administrators, auditors): the organisation's security alerts, newest
//! first, by status, with their acknowledgement and resolution (administrators; a reason is
//! required to resolve), and the deployment's newest compliance self-check. Reads and changes
//! are recorded as the API's are.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse as _, Redirect, Response};
use maud::html;
use mhp_app::alerts::{self, StatusChange};
use mhp_app::compliance::Outcome;
use mhp_domain::Permission;
use mhp_storage::repo::security::{AlertFilter, AlertStatus};
use serde::Deserialize;

use super::dashboard::Context;
use super::layout::{self, Section};
use super::{CSRF_FIELD, PageGrant, app_error, may, render};
use crate::{ApiError, AppState};

/// The page's filter.
#[derive(Debug, Default, Deserialize)]
pub struct Filter {
    #[serde(default)]
    status: String,
}

/// `GET /orgs/{org}/security`.
pub async fn page(
    State(state): State<AppState>,
    g: PageGrant,
    Query(f): Query<Filter>,
) -> Response {
    let (cx, grant) = match Context::of(&state, &g).await {
        Ok(c) => c,
        Err(r) => return r.into_response(),
    };
    let org = cx.scope.org();
    let status = match f.status.as_str() {
        "" => Some(AlertStatus::Open),
        "all" => None,
        s => match AlertStatus::parse(s) {
            Some(s) => Some(s),
            None => {
                return app_error(ApiError::BadRequest(
                    "status must be open, acknowledged, resolved or all".into(),
                ));
            }
        },
    };
    let filter = AlertFilter {
        status,
        rule_id: None,
        since: None,
    };
    let found = match alerts::list(&state.app, &cx.scope, &grant.caller(), &filter, 200).await {
        Ok(a) => a,
        Err(e) => return app_error(e),
    };
    let compliance =
        match mhp_app::compliance::read(&state.app, &grant.caller(), Some(org), 1).await {
            Ok((report, _)) => Some(report),
            Err(mhp_app::AppError::NotFound(_)) => None,
            Err(e) => return app_error(e),
        };
    let decide = may(&cx.roles, Permission::ManageOrganisation);
    let shown = if f.status.is_empty() {
        "open"
    } else {
        f.status.as_str()
    };
    let main = html! {
        h1 { "Security" }
        p { "Alerts the detection rules raised about this organisation, and the deployment's newest compliance self-check. Times are in " (cx.show.tz) "." }
        section aria-labelledby="alerts" {
            h2 id="alerts" { "Alerts" }
            form.search method="get" action={"/orgs/" (org) "/security"} {
                label for="s-status" { "Status" }
                select id="s-status" name="status" {
                    @for s in ["open", "acknowledged", "resolved", "all"] {
                        option value=(s) selected[s == shown] { (s) }
                    }
                }
                button type="submit" { "Show" }
            }
            @if found.is_empty() {
                p role="status" { "No " (shown) " alert." }
            } @else {
                div.table-wrap {
                    table {
                        caption { (found.len()) " " (shown) " alert(s), newest first." }
                        thead { tr {
                            th scope="col" { "Alert" } th scope="col" { "Severity" }
                            th scope="col" { "About" } th scope="col" { "Events" }
                            th scope="col" { "First" } th scope="col" { "Latest" }
                            th scope="col" { "Status" }
                            @if decide { th scope="col" { "Decision" } }
                        } }
                        tbody {
                            @for a in &found {
                                tr {
                                    th scope="row" {
                                        (a.title) br; small { code { (a.rule_id) } @if let Some(t) = &a.technique { " · ATT&CK " (t) } }
                                    }
                                    td { (a.severity) }
                                    td { code { (a.entity) } }
                                    td { (a.event_count) }
                                    td { (cx.show.date_time(a.first_at.as_millis())) }
                                    td { (cx.show.date_time(a.last_at.as_millis())) }
                                    td {
                                        (a.status.as_str())
                                        @if let Some(by) = &a.status_by { br; small { "by " (by) } }
                                        @if let Some(r) = &a.status_reason { br; small { (r) } }
                                    }
                                    @if decide {
                                        td {
                                            form method="post" action={"/orgs/" (org) "/security/alerts/" (a.id)} {
                                                input type="hidden" name=(CSRF_FIELD) value=(cx.csrf);
                                                label for={"r-" (a.id)} { "Reason" }
                                                input id={"r-" (a.id)} name="reason" type="text" maxlength="1000";
                                                @if a.status != AlertStatus::Acknowledged && a.status != AlertStatus::Resolved {
                                                    button type="submit" name="status" value="acknowledged" { "Acknowledge" }
                                                }
                                                @if a.status != AlertStatus::Resolved {
                                                    button type="submit" name="status" value="resolved" { "Resolve" }
                                                } @else {
                                                    button type="submit" name="status" value="open" { "Reopen" }
                                                }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        section aria-labelledby="compliance" {
            h2 id="compliance" { "Compliance self-check" }
            @match &compliance {
                None => p { "No self-check has run yet: `mhp serve` runs one at start and daily, `mhp compliance check` on demand." }
                Some(r) => {
                    p {
                        "Checked " (cx.show.date_time(r.generated_at_ms)) ": "
                        strong { (r.summary.passed) " passed, " (r.summary.failed) " failed" }
                        ", " (r.summary.not_applicable) " not applicable."
                    }
                    @let failed: Vec<_> = r.findings.iter().filter(|x| x.outcome == Outcome::Fail).collect();
                    @if !failed.is_empty() {
                        div.table-wrap {
                            table {
                                caption { "Checks that failed" }
                                thead { tr { th scope="col" { "Check" } th scope="col" { "Citations" } th scope="col" { "Evidence" } } }
                                tbody {
                                    @for x in failed {
                                        tr {
                                            th scope="row" { (x.title) br; small { code { (x.id) } } }
                                            td { (x.hipaa.join("; ")) br; (x.soc2.join(", ")) }
                                            td { (x.evidence) }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    (
        StatusCode::OK,
        render(layout::page(&cx.shell(Section::Security), "Security", main)),
    )
        .into_response()
}

/// `POST /orgs/{org}/security/alerts/{alert}`: acknowledge, resolve (with a reason) or reopen.
pub async fn decide(
    State(state): State<AppState>,
    g: PageGrant,
    Path((_, alert)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let grant = match g.grant() {
        Ok(grant) => grant,
        Err(r) => return r.into_response(),
    };
    let scope = match grant.org() {
        Ok(s) => s,
        Err(e) => return app_error(e),
    };
    let fields = serde_urlencoded::from_bytes::<Vec<(String, String)>>(&body).unwrap_or_default();
    let field = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let change = match StatusChange::parse(&field("status").unwrap_or_default(), field("reason")) {
        Ok(c) => c,
        Err(e) => return app_error(e),
    };
    if uuid::Uuid::parse_str(&alert).is_err() {
        return app_error(ApiError::NotFound("alert"));
    }
    match alerts::set_status(&state.app, &scope, &grant.caller(), &alert, &change).await {
        Ok(_) => Redirect::to(&format!("/orgs/{}/security", scope.org())).into_response(),
        Err(e) => app_error(e),
    }
}
