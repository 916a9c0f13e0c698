//! Datasets, for data scientists: what each training run's `dataset` step built (subject-weeks,
//! pseudonymous subjects, injuries, the feature columns), the model versions trained on it (by
//! the fingerprint their lineage records) and the rows as CSV through the API's export
//! (`mhp_app::datasets`, audited as `dataset.export`). Nothing here names a person.

use axum::extract::State;
use axum::response::{IntoResponse as _, Response};
use maud::{Markup, html};
use mhp_app::datasets::DatasetSummary;
use mhp_storage::repo::models::ModelVersion;
use serde_json::Value;

use super::dashboard::Context;
use super::layout::{self, Section, num};
use super::{PageGrant, app_error, render};
use crate::AppState;

/// Datasets shown.
const SHOWN: u32 = 100;

/// The versions whose lineage names the dataset's fingerprint.
fn trained_on<'a>(
    d: &DatasetSummary,
    models: &'a [(String, Vec<ModelVersion>)],
) -> Vec<(&'a str, &'a ModelVersion)> {
    models
        .iter()
        .flat_map(|(name, versions)| versions.iter().map(move |v| (name.as_str(), v)))
        .filter(|(_, v)| {
            serde_json::from_str::<Value>(&v.lineage_json)
                .ok()
                .and_then(|l| l.get("dataset_fingerprint")?.as_str().map(str::to_owned))
                .is_some_and(|f| f == d.fingerprint)
        })
        .collect()
}

/// `GET /orgs/{org}/datasets`.
pub async fn page(State(state): State<AppState>, g: PageGrant) -> Response {
    let (cx, _) = match Context::of(&state, &g).await {
        Ok(c) => c,
        Err(r) => return r.into_response(),
    };
    let sets = match mhp_app::datasets::list(&state.app, &cx.scope, SHOWN).await {
        Ok(s) => s,
        Err(e) => return app_error(e),
    };
    let models = match mhp_app::scoring::models(&state.app, &cx.scope).await {
        Ok(m) => m,
        Err(e) => return app_error(e),
    };
    let org = cx.scope.org();
    let main = html! {
        h1 { "Datasets" }
        p {
            "De-identified training rows, one per athlete and week: keyed pseudonyms, sex, sport, "
            "the week's features and whether a time-loss injury followed. Each training run builds "
            "one; a download is recorded in the audit log."
        }
        @if sets.is_empty() {
            p { "No dataset yet. Start " a href={"/orgs/" (org) "/pipelines"} { "train-injury-risk" } " to build one." }
        } @else {
            div.table-wrap {
                table {
                    caption { "Datasets, newest first." }
                    thead { tr {
                        th scope="col" { "Built" }
                        th scope="col" { "As of" }
                        th scope="col" class="num" { "Rows" }
                        th scope="col" class="num" { "Athletes" }
                        th scope="col" class="num" { "Injuries" }
                        th scope="col" class="num" { "Features" }
                        th scope="col" { "Models trained on it" }
                        th scope="col" { "Rows as CSV" }
                    } }
                    tbody {
                        @for d in &sets {
                            (row(org, d, &trained_on(d, &models), &cx))
                        }
                    }
                }
            }
            @if let Some(d) = sets.first() {
                section aria-labelledby="features-h" {
                    h2 id="features-h" { "Features of the newest dataset" }
                    p.meta { "Fingerprint " code { (d.fingerprint) } }
                    details.data {
                        summary { "The " (d.features.len()) " feature columns, in order" }
                        ol.columns { @for f in &d.features { li { code { (f) } } } }
                    }
                }
            }
        }
    };
    render(layout::page(&cx.shell(Section::Datasets), "Datasets", main))
}

fn row(
    org: mhp_domain::OrgId,
    d: &DatasetSummary,
    trained: &[(&str, &ModelVersion)],
    cx: &Context,
) -> Markup {
    #[allow(clippy::cast_precision_loss)]
    let rate = (d.rows > 0).then(|| d.positives as f64 * 100.0 / d.rows as f64);
    html! {
        tr {
            th scope="row" { a href={"/orgs/" (org) "/runs/" (d.run)} { (cx.show.date_time(d.built_at.as_millis())) } }
            td { (d.as_of) }
            td.num { (d.rows) }
            td.num { (d.subjects) }
            td.num { (d.positives) " (" (num(rate, 1)) " %)"
                @if d.stale_injuries > 0 { " · " (d.stale_injuries) " open too long" } }
            td.num { (d.features.len()) }
            td {
                @if trained.is_empty() { "none" }
                @for (i, (name, v)) in trained.iter().enumerate() {
                    @if i > 0 { ", " }
                    a href={"/orgs/" (org) "/models"} { (name) " v" (v.version) } " (" (v.stage.as_str()) ")"
                }
            }
            td { a href={"/api/v1/orgs/" (org) "/datasets/" (d.run) "/csv"} download={"dataset-" (d.run) ".csv"} { "Download" span.visually-hidden { " the dataset built " (cx.show.date_time(d.built_at.as_millis())) } } }
        }
    }
}
