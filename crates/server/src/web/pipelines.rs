//! Pipelines: the catalogue with each pipeline's steps and schedule, a run started from a
//! button, the latest runs, and a run's page with its steps and its log; schedules are set and
//! removed here too. The same use cases as the API run underneath (`mhp_app::runs::{start,
//! cancel, put_schedule, delete_schedule, list, detail, schedules}`). Runs read and write
//! de-identified data: their pages name no person, and the log says what the steps said.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::{IntoResponse as _, Redirect, Response};
use maud::html;
use mhp_domain::RunId;
use mhp_domain::pipeline::{self, Trigger};
use mhp_storage::repo::Page;
use mhp_storage::repo::pipelines::RunStatus;
use serde_json::Map;

use super::dashboard::Context;
use super::layout::{self, Section};
use super::{CSRF_FIELD, PageGrant, app_error, render};
use crate::{ApiError, AppState};

fn status_pill(status: RunStatus) -> maud::Markup {
    let class = match status {
        RunStatus::Succeeded => "ok",
        RunStatus::Failed => "bad",
        RunStatus::Cancelled => "none",
        RunStatus::Queued | RunStatus::Running => "warn",
    };
    html! { span class={"pill " (class)} { (status.as_str()) } }
}

/// `GET /orgs/{org}/pipelines`.
pub async fn page(State(state): State<AppState>, g: PageGrant) -> Response {
    show(&state, &g, None).await
}

/// A schedule form refused: which pipeline's, what was entered, and why.
struct RefusedSchedule<'a> {
    pipeline: &'a str,
    cron: &'a str,
    timezone: &'a str,
    why: String,
}

/// The page, with a refused schedule shown again beside its form (422) when there is one.
async fn show(state: &AppState, g: &PageGrant, refused: Option<RefusedSchedule<'_>>) -> Response {
    let (cx, _) = match Context::of(state, g).await {
        Ok(c) => c,
        Err(r) => return r.into_response(),
    };
    let org = cx.scope.org();
    let schedules = match mhp_app::runs::schedules(&state.app, &cx.scope).await {
        Ok(s) => s,
        Err(e) => return app_error(e),
    };
    let runs = match mhp_app::runs::list(&state.app, &cx.scope, None, Page::first(50)).await {
        Ok(r) => r,
        Err(e) => return app_error(e),
    };
    let csrf = cx.csrf.as_str();
    let refused_here = |name: &str| refused.as_ref().filter(|r| r.pipeline == name);
    let main = html! {
        h1 { "Pipelines" }
        @for p in pipeline::CATALOGUE {
            @let schedule = schedules.iter().find(|s| s.pipeline == p.name);
            section aria-labelledby={"pipeline-" (p.name)} {
                h2 id={"pipeline-" (p.name)} { (p.name) }
                p { (p.description) }
                p.meta { "Steps: " (p.steps.iter().map(|s| s.name).collect::<Vec<_>>().join(" → ")) }
                @if p.params.iter().any(|d| d.required) {
                    p.meta { "Started by the platform when it needs one (it takes a "
                        (p.params.iter().filter(|d| d.required).map(|d| d.name).collect::<Vec<_>>().join(", ")) ")." }
                } @else {
                    form method="post" action={"/orgs/" (org) "/pipelines/" (p.name) "/runs"} {
                        input type="hidden" name=(CSRF_FIELD) value=(csrf);
                        button.primary type="submit" aria-label={"Start a run of " (p.name)} { "Start a run" }
                    }
                }
                h3 { "Schedule" }
                @match schedule {
                    Some(s) => {
                        p {
                            code { (s.cron) } " (" (s.timezone) ")"
                            @if !s.enabled { ", paused" }
                            ". Next: " (cx.show.date_time(s.next_fire.as_millis()))
                            @if let Some(last) = s.last_fire { ". Last: " (cx.show.date_time(last.as_millis())) }
                            "."
                        }
                    }
                    None => { p { "None." } }
                }
                @if !p.params.iter().any(|d| d.required) {
                    @let again = refused_here(p.name);
                    @if let Some(r) = again {
                        p.error role="alert" id={"schedule-error-" (p.name)} { "The schedule was not saved: " (r.why) }
                    }
                    form.inline method="post" action={"/orgs/" (org) "/pipelines/" (p.name) "/schedule"} {
                        input type="hidden" name=(CSRF_FIELD) value=(csrf);
                        div.field {
                            label for={"cron-" (p.name)} { "Cron (minute hour day month weekday)" }
                            input id={"cron-" (p.name)} name="cron" type="text" required placeholder="0 3 * * *"
                                aria-invalid=[again.map(|_| "true")]
                                value=(again.map_or_else(|| schedule.map_or("", |s| s.cron.as_str()), |r| r.cron));
                        }
                        div.field {
                            label for={"tz-" (p.name)} { "Time zone" }
                            input id={"tz-" (p.name)} name="timezone" type="text" required
                                value=(again.map_or_else(|| schedule.map_or(cx.show.tz.name(), |s| s.timezone.as_str()), |r| r.timezone));
                        }
                        button.primary type="submit" aria-label={"Save the schedule of " (p.name)} { "Save the schedule" }
                    }
                    @if schedule.is_some() {
                        form method="post" action={"/orgs/" (org) "/pipelines/" (p.name) "/schedule"} {
                            input type="hidden" name=(CSRF_FIELD) value=(csrf);
                            input type="hidden" name="remove" value="1";
                            button.danger type="submit" aria-label={"Remove the schedule of " (p.name)} { "Remove the schedule" }
                        }
                    }
                }
            }
        }
        section aria-labelledby="runs" {
            h2 id="runs" { "Latest runs" }
            @if runs.is_empty() {
                p { "No run yet." }
            } @else {
                div.table-wrap {
                    table {
                        caption { "The newest " (runs.len()) " runs." }
                        thead { tr { th scope="col" { "Run" } th scope="col" { "Pipeline" } th scope="col" { "Started by" } th scope="col" { "Asked for" } th scope="col" { "Status" } } }
                        tbody {
                            @for r in &runs {
                                tr {
                                    th scope="row" { a href={"/orgs/" (org) "/runs/" (r.id)} { (r.id.to_string().get(..8).unwrap_or("run")) } }
                                    td { (r.pipeline) }
                                    td { (trigger_text(r.trigger)) }
                                    td { (cx.show.date_time(r.created_at.as_millis())) }
                                    td { (status_pill(r.status)) }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    let status = if refused.is_some() {
        axum::http::StatusCode::UNPROCESSABLE_ENTITY
    } else {
        axum::http::StatusCode::OK
    };
    (
        status,
        render(layout::page(
            &cx.shell(Section::Pipelines),
            "Pipelines",
            main,
        )),
    )
        .into_response()
}

fn trigger_text(t: Trigger) -> &'static str {
    match t {
        Trigger::Schedule => "its schedule",
        Trigger::Api => "a person or the API",
        Trigger::Cli => "the command line",
        Trigger::Event => "an event (a new test)",
    }
}

/// `GET /orgs/{org}/runs/{run}`: the run, its steps and its log.
pub async fn run(
    State(state): State<AppState>,
    g: PageGrant,
    Path((_, run)): Path<(String, String)>,
) -> Response {
    let (cx, _) = match Context::of(&state, &g).await {
        Ok(c) => c,
        Err(r) => return r.into_response(),
    };
    let Ok(id) = RunId::parse(&run) else {
        return app_error(ApiError::NotFound("pipeline run"));
    };
    let d = match mhp_app::runs::detail(&state.app, &cx.scope, id, 1000).await {
        Ok(d) => d,
        Err(e) => return app_error(e),
    };
    let org = cx.scope.org();
    let open = matches!(d.run.status, RunStatus::Queued | RunStatus::Running);
    let main = html! {
        h1 { "Run of " (d.run.pipeline) }
        p.lead {
            (status_pill(d.run.status))
            " Asked for " (cx.show.date_time(d.run.created_at.as_millis())) " by " (trigger_text(d.run.trigger))
            @if let Some(f) = d.run.finished_at { ", ended " (cx.show.date_time(f.as_millis())) }
            "."
        }
        @if let Some(e) = &d.run.error { p.error { (e) } }
        @if open {
            p.meta { "Reload the page to follow the run." }
            @if !d.run.cancel_requested {
                form method="post" action={"/orgs/" (org) "/runs/" (id) "/cancel"} {
                    input type="hidden" name=(CSRF_FIELD) value=(cx.csrf);
                    button.danger type="submit" { "Cancel the run" }
                }
            } @else {
                p { "Cancelling: a running step stops at its next heartbeat." }
            }
        }
        section aria-labelledby="steps" {
            h2 id="steps" { "Steps" }
            div.table-wrap {
                table {
                    thead { tr { th scope="col" { "Step" } th scope="col" { "Status" } th scope="col" class="num" { "Attempts" } th scope="col" { "Started" } th scope="col" { "Ended" } th scope="col" { "Error" } } }
                    tbody {
                        @for j in &d.steps {
                            tr {
                                th scope="row" { (j.step) }
                                td { (j.status) }
                                td.num { (j.attempts) " of " (j.max_attempts) }
                                td { (j.started_at.map(|t| cx.show.date_time(t.as_millis())).unwrap_or_default()) }
                                td { (j.finished_at.map(|t| cx.show.date_time(t.as_millis())).unwrap_or_default()) }
                                td { (j.error.as_deref().unwrap_or("")) }
                            }
                        }
                    }
                }
            }
        }
        section aria-labelledby="log" {
            h2 id="log" { "Log" }
            @if d.log.is_empty() {
                p { "Nothing logged yet." }
            } @else {
                div.table-wrap {
                    table.log {
                        thead { tr { th scope="col" { "When" } th scope="col" { "Step" } th scope="col" { "Level" } th scope="col" { "Message" } } }
                        tbody {
                            @for l in &d.log {
                                tr {
                                    td { (cx.show.date_time(l.at.as_millis())) }
                                    td { (l.step) " #" (l.attempt) }
                                    td { (l.level) }
                                    td { (l.message) }
                                }
                            }
                        }
                    }
                }
            }
        }
        p { a href={"/orgs/" (org) "/pipelines"} { "All pipelines and runs" } }
    };
    render(layout::page(
        &cx.shell(Section::Pipelines),
        "Pipeline run",
        main,
    ))
}

fn pipeline_named(name: &str) -> Result<&'static pipeline::PipelineDef, ApiError> {
    pipeline::pipeline(name).ok_or(ApiError::NotFound("pipeline"))
}

/// `POST /orgs/{org}/pipelines/{pipeline}/runs`: starts a run with its defaults, then shows it.
pub async fn start(
    State(state): State<AppState>,
    g: PageGrant,
    Path((_, name)): Path<(String, String)>,
) -> Response {
    let grant = match g.grant() {
        Ok(grant) => grant,
        Err(r) => return r.into_response(),
    };
    let started = async {
        let def = pipeline_named(&name)?;
        let scope = grant.org()?;
        let run = mhp_app::runs::start(
            &state.app,
            &scope,
            &grant.caller(),
            def,
            &Map::new(),
            Trigger::Api,
        )
        .await?;
        Ok::<_, ApiError>(format!("/orgs/{}/runs/{}", scope.org(), run.id))
    }
    .await;
    match started {
        Ok(to) => Redirect::to(&to).into_response(),
        Err(e) => app_error(e),
    }
}

/// `POST /orgs/{org}/runs/{run}/cancel`.
pub async fn cancel(
    State(state): State<AppState>,
    g: PageGrant,
    Path((_, run)): Path<(String, String)>,
) -> Response {
    let grant = match g.grant() {
        Ok(grant) => grant,
        Err(r) => return r.into_response(),
    };
    let done = async {
        let id = RunId::parse(&run).map_err(|_| ApiError::NotFound("pipeline run"))?;
        let scope = grant.org()?;
        mhp_app::runs::cancel(&state.app, &scope, &grant.caller(), id).await?;
        Ok::<_, ApiError>(format!("/orgs/{}/runs/{id}", scope.org()))
    }
    .await;
    match done {
        Ok(to) => Redirect::to(&to).into_response(),
        Err(e) => app_error(e),
    }
}

/// `POST /orgs/{org}/pipelines/{pipeline}/schedule`: sets the schedule, or removes it.
pub async fn schedule(
    State(state): State<AppState>,
    g: PageGrant,
    Path((_, name)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let grant = match g.grant() {
        Ok(grant) => grant,
        Err(r) => return r.into_response(),
    };
    let f = super::fields(&body);
    let field = |n: &str| super::field(&f, n).trim();
    let done = async {
        let def = pipeline_named(&name)?;
        let scope = grant.org()?;
        if field("remove").is_empty() {
            let request = mhp_app::runs::ScheduleRequest {
                cron: field("cron").to_owned(),
                timezone: Some(field("timezone"))
                    .filter(|t| !t.is_empty())
                    .unwrap_or("UTC")
                    .to_owned(),
                params: Map::new(),
                enabled: true,
            };
            mhp_app::runs::put_schedule(&state.app, &scope, &grant.caller(), def, &request).await?;
        } else {
            mhp_app::runs::delete_schedule(&state.app, &scope, &grant.caller(), def).await?;
        }
        Ok::<_, ApiError>(format!("/orgs/{}/pipelines", scope.org()))
    }
    .await;
    match done {
        Ok(to) => Redirect::to(&to).into_response(),
        Err(ApiError::BadRequest(why) | ApiError::Invalid { detail: why, .. }) => {
            let again = RefusedSchedule {
                pipeline: &name,
                cron: field("cron"),
                timezone: field("timezone"),
                why: super::sentence(&why),
            };
            show(&state, &g, Some(again)).await
        }
        Err(e) => app_error(e),
    }
}
