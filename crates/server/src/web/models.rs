//! Models: every model's versions with their test metrics, the calibration of the version in
//! production (or the newest) as a plot and a table, its metrics per group, and the decisions
//! a person takes (approve for production, archive, roll back) through the same use cases as
//! the API (`mhp_app::scoring::{decide_stage, rollback}`). Nothing here names a person: models
//! are trained on de-identified rows.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::{IntoResponse as _, Redirect, Response};
use maud::{Markup, PreEscaped, html};
use mhp_domain::{ModelVersionId, Permission};
use mhp_ml::{CalibrationBin, Evaluation};
use mhp_plot::{Axis, Chart, Series};
use mhp_storage::repo::models::{ModelVersion, Stage};

use super::dashboard::Context;
use super::layout::{self, Section, num};
use super::{CSRF_FIELD, PageGrant, app_error, may, render};
use crate::{ApiError, AppState};

/// `GET /orgs/{org}/models`.
pub async fn page(State(state): State<AppState>, g: PageGrant) -> Response {
    let (cx, _) = match Context::of(&state, &g).await {
        Ok(c) => c,
        Err(r) => return r.into_response(),
    };
    let models = match mhp_app::scoring::models(&state.app, &cx.scope).await {
        Ok(m) => m,
        Err(e) => return app_error(e),
    };
    let org = cx.scope.org();
    let decide = may(&cx.roles, Permission::ApproveModels);
    let main = html! {
        h1 { "Models" }
        @if models.is_empty() {
            p { "No model yet. Train one from " a href={"/orgs/" (org) "/pipelines"} { "Pipelines" } " (" (mhp_domain::pipeline::TRAIN) ")." }
        }
        @for (name, versions) in &models {
            section aria-labelledby={"model-" (name)} {
                h2 id={"model-" (name)} { (name) }
                (versions_table(org, versions, decide, &cx.csrf, &cx.show))
                @if decide && versions.iter().any(|v| v.stage == Stage::Production) {
                    form method="post" action={"/orgs/" (org) "/models/" (name) "/rollback"} {
                        input type="hidden" name=(CSRF_FIELD) value=(cx.csrf);
                        button.danger type="submit" { "Roll back production to the version before" }
                    }
                }
                @if let Some(v) = versions.iter().find(|v| v.stage == Stage::Production).or(versions.first()) {
                    (evaluation(v))
                }
            }
        }
    };
    render(layout::page(&cx.shell(Section::Models), "Models", main))
}

fn evaluation_of(v: &ModelVersion) -> Option<Evaluation> {
    serde_json::from_str(&v.metrics_json).ok()
}

fn stage_text(stage: Stage) -> &'static str {
    match stage {
        Stage::Candidate => "candidate (waits for a person)",
        Stage::Staging => "staging",
        Stage::Production => "production",
        Stage::Archived => "archived",
    }
}

fn versions_table(
    org: mhp_domain::OrgId,
    versions: &[ModelVersion],
    decide: bool,
    csrf: &str,
    show: &super::show::Show,
) -> Markup {
    html! {
        div.table-wrap {
            table {
                caption { "Versions, newest first, with their metrics on the weeks held out for the test." }
                thead {
                    tr {
                        th scope="col" { "Version" }
                        th scope="col" { "Stage" }
                        th scope="col" { "Kind" }
                        th scope="col" { "Trained" }
                        th scope="col" class="num" { "Test rows" }
                        th scope="col" class="num" { "Injuries" }
                        th scope="col" class="num" { "ROC AUC" }
                        th scope="col" class="num" { "Brier" }
                        th scope="col" class="num" { "Calibration error" }
                        @if decide { th scope="col" { "Decision" } }
                    }
                }
                tbody {
                    @for v in versions {
                        @let e = evaluation_of(v);
                        @let m = e.as_ref().map(|e| &e.overall);
                        tr {
                            th scope="row" { "v" (v.version) }
                            td { (stage_text(v.stage)) }
                            td { (v.kind) }
                            td { (show.date(v.created_at)) }
                            td.num { (m.map_or("–".into(), |m| m.rows.to_string())) }
                            td.num { (m.map_or("–".into(), |m| m.positives.to_string())) }
                            td.num { (num(m.and_then(|m| m.roc_auc), 3)) }
                            td.num { (num(m.map(|m| m.brier), 4)) }
                            td.num { (num(m.map(|m| m.calibration_error), 4)) }
                            @if decide {
                                td {
                                    @if matches!(v.stage, Stage::Candidate | Stage::Staging) {
                                        form.row method="post" action={"/orgs/" (org) "/models/versions/" (v.id) "/stage"} {
                                            input type="hidden" name=(CSRF_FIELD) value=(csrf);
                                            button.primary type="submit" name="stage" value="production" aria-label={"Approve v" (v.version) " for production"} { "Approve for production" }
                                            " "
                                            button.danger type="submit" name="stage" value="archived" aria-label={"Archive v" (v.version)} { "Archive" }
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

/// The calibration plot and table of a version, and its metrics per group.
fn evaluation(v: &ModelVersion) -> Markup {
    let Some(e) = evaluation_of(v) else {
        return html! { p { "v" (v.version) " carries no evaluation (an imported model)." } };
    };
    html! {
        h3 { "Calibration of v" (v.version) }
        p {
            "Each point is a tenth of the test rows, by predicted risk: the mean predicted risk "
            "against the share of those rows that were injured. A calibrated model lies on the diagonal."
        }
        (calibration_chart(&v.model, v.version, &e.overall.calibration))
        @if !e.groups.is_empty() {
            div.table-wrap {
                table {
                    caption { "Metrics of v" (v.version) " per group (the test rows of each)." }
                    thead { tr { th scope="col" { "Group" } th scope="col" class="num" { "Rows" } th scope="col" class="num" { "Injuries" } th scope="col" class="num" { "ROC AUC" } th scope="col" class="num" { "Calibration error" } } }
                    tbody {
                        @for g in &e.groups {
                            tr {
                                th scope="row" { (g.key) " = " (g.value) }
                                td.num { (g.metrics.rows) }
                                td.num { (g.metrics.positives) }
                                td.num { (num(g.metrics.roc_auc, 3)) }
                                td.num { (num(Some(g.metrics.calibration_error), 4)) }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn calibration_chart(model: &str, version: i64, bins: &[CalibrationBin]) -> Markup {
    if bins.is_empty() {
        return html! { p { "No calibration table." } };
    }
    let points: Vec<(f64, f64)> = bins
        .iter()
        .map(|b| (b.mean_predicted * 100.0, b.observed_rate * 100.0))
        .collect();
    let top = points
        .iter()
        .flat_map(|(x, y)| [*x, *y])
        .fold(1.0_f64, f64::max)
        .min(100.0);
    let chart = Chart::new(
        format!("calibration-{model}-{version}"),
        format!("Calibration of {model} v{version}"),
        format!(
            "Observed injury rate against mean predicted risk in {} bins of the test rows, with \
             the diagonal of perfect calibration.",
            bins.len()
        ),
    )
    .with_axes(
        Axis::new("Mean predicted risk (%)").with_range(0.0, top),
        Axis::new("Observed injury rate (%)").with_range(0.0, top),
    )
    .with_series(Series::line(
        "Perfect calibration",
        "series-2",
        vec![(0.0, 0.0), (top, top)],
    ))
    .with_series(Series::line("Model", "series-1", points).with_markers())
    .with_size(560, 400);
    html! {
        figure.chart.narrow { (PreEscaped(chart.to_svg())) }
        details.data {
            summary { "Calibration as a table" }
            table {
                thead { tr { th scope="col" { "Bin" } th scope="col" class="num" { "Rows" } th scope="col" class="num" { "Predicted (%)" } th scope="col" class="num" { "Observed (%)" } } }
                tbody {
                    @for (i, b) in bins.iter().enumerate() {
                        tr {
                            th scope="row" { (i + 1) }
                            td.num { (b.count) }
                            td.num { (num(Some(b.mean_predicted * 100.0), 1)) }
                            td.num { (num(Some(b.observed_rate * 100.0), 1)) }
                        }
                    }
                }
            }
        }
    }
}

/// `POST /orgs/{org}/models/versions/{version}/stage`: approve for production, or archive.
pub async fn stage(
    State(state): State<AppState>,
    g: PageGrant,
    Path((_, version)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let grant = match g.grant() {
        Ok(grant) => grant,
        Err(r) => return r.into_response(),
    };
    let Ok(id) = ModelVersionId::parse(&version) else {
        return app_error(ApiError::NotFound("model version"));
    };
    let wanted = serde_urlencoded::from_bytes::<Vec<(String, String)>>(&body)
        .unwrap_or_default()
        .into_iter()
        .find(|(k, _)| k == "stage")
        .and_then(|(_, v)| Stage::parse(&v))
        .filter(|s| matches!(s, Stage::Production | Stage::Archived));
    let Some(stage) = wanted else {
        return app_error(ApiError::BadRequest(
            "stage must be production or archived".into(),
        ));
    };
    let scope = match grant.org() {
        Ok(s) => s,
        Err(e) => return app_error(e),
    };
    match mhp_app::scoring::decide_stage(&state.app, &scope, &grant.caller(), id, stage).await {
        Ok(_) => Redirect::to(&format!("/orgs/{}/models", scope.org())).into_response(),
        Err(e) => app_error(e),
    }
}

/// `POST /orgs/{org}/models/{model}/rollback`.
pub async fn rollback(
    State(state): State<AppState>,
    g: PageGrant,
    Path((_, model)): Path<(String, String)>,
) -> Response {
    let grant = match g.grant() {
        Ok(grant) => grant,
        Err(r) => return r.into_response(),
    };
    let scope = match grant.org() {
        Ok(s) => s,
        Err(e) => return app_error(e),
    };
    match mhp_app::scoring::rollback(&state.app, &scope, &grant.caller(), &model).await {
        Ok(_) => Redirect::to(&format!("/orgs/{}/models", scope.org())).into_response(),
        Err(mhp_app::AppError::Conflict(_)) => super::error_page(
            axum::http::StatusCode::CONFLICT,
            Some("There is no earlier version to roll back to."),
        ),
        Err(e) => app_error(e),
    }
}
