//! The start page of roles whose pages are still to come (auditors, data scientists): what
//! they may open today, as downloads from the API their session already reaches.

use axum::extract::State;
use axum::response::{IntoResponse as _, Response};
use maud::html;
use mhp_domain::Permission;

use super::dashboard::Context;
use super::layout::{self, Section};
use super::{PageGrant, may, render};
use crate::AppState;

/// `GET /orgs/{org}/start`.
pub async fn page(State(state): State<AppState>, g: PageGrant) -> Response {
    let (cx, _) = match Context::of(&state, &g).await {
        Ok(c) => c,
        Err(r) => return r.into_response(),
    };
    let org = cx.scope.org();
    let roles = &cx.roles;
    let main = html! {
        h1 { "Start" }
        p { "Signed in to " (cx.org_name) ". What your role opens here:" }
        ul {
            @if may(roles, Permission::ReadTeamReadiness) {
                li { a href={"/orgs/" (org)} { "The team dashboard" } }
            }
            @if may(roles, Permission::ReadOwnRecord) {
                li { a href={"/orgs/" (org) "/me"} { "Your own results" } }
            }
            @if may(roles, Permission::ReadAudit) {
                li { a href={"/api/v1/orgs/" (org) "/audit/export"} download { "The audit log, every event with its hash chain (JSON lines)" } }
                li { a href={"/api/v1/orgs/" (org) "/audit"} { "The latest audit events (JSON)" } }
            }
            @if may(roles, Permission::RunPipelines) {
                li { a href={"/api/v1/orgs/" (org) "/models"} { "Models and their versions, with metrics (JSON)" } }
                li { a href={"/api/v1/orgs/" (org) "/pipeline-runs"} { "Pipeline runs (JSON)" } }
                li { a href={"/api/v1/orgs/" (org) "/pipelines"} { "Pipelines and their schedules (JSON)" } }
            }
        }
        p { "The API's own description is at " a href="/api/v1/docs" { "/api/v1/docs" } "." }
    };
    render(layout::page(&cx.shell(Section::Start), "Start", main))
}
