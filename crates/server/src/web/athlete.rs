//! The athlete page: availability, the latest force-time curve with its phases, key metrics
//! against the athlete's own baseline, trends, injuries with their return-to-duty decisions,
//! and risk with its reasons in plain words. Coaches see readiness (availability, metric
//! trends, risk band), not clinical records: as in the API, the raw curve, injuries and the
//! reasons behind a score are for clinical readers.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse as _, Response};
use maud::{Markup, html};
use mhp_app::dashboard::{self, Athlete};
use mhp_domain::{Permission, SubjectId};
use serde_json::Value;

use mhp_app::subjects::Identifiers;
use mhp_storage::Access;
use mhp_storage::repo::subjects as subject_rows;

use super::dashboard::{Context, availability, band, shown, signed};
use super::injuries::{DecisionForm, InjuryForm, decision_form, injury_form};
use super::layout::{self, Section, num};
use super::show::KeyMetric;
use super::{PageGrant, app_error, charts, error_page, render};
use crate::AppState;
use crate::authn::Principal;

/// `GET /orgs/{org}/athletes/{subject}`: the gate has checked that the subject lies in the
/// caller's reach (a coach's own teams).
pub async fn page(
    State(state): State<AppState>,
    g: PageGrant,
    Path((_, subject)): Path<(String, String)>,
) -> Response {
    let (id, cx, grant) = match Context::for_subject(&state, &g, &subject).await {
        Ok(c) => c,
        Err(r) => return r.into_response(),
    };
    let clinical = grant.allows(Permission::ReadClinical);
    show(
        &state,
        &cx,
        &grant,
        id,
        shown(&grant),
        clinical,
        Section::Dashboard,
        Forms::default(),
    )
    .await
}

/// `GET /orgs/{org}/me`: an athlete's own record, everything in it.
pub async fn own(State(state): State<AppState>, g: PageGrant) -> Response {
    let (cx, grant) = match Context::of(&state, &g).await {
        Ok(c) => c,
        Err(r) => return r.into_response(),
    };
    let Principal::User { user, .. } = &grant.principal else {
        return error_page(StatusCode::FORBIDDEN, None);
    };
    let mine = async {
        let mut tx = state.app.db.tenant(&cx.scope, Access::Read).await?;
        subject_rows::of_user(&mut tx, user.id).await
    }
    .await;
    match mine {
        Ok(Some(s)) => {
            show(
                &state,
                &cx,
                &grant,
                s.id,
                Identifiers::All,
                true,
                Section::Mine,
                Forms::default(),
            )
            .await
        }
        Ok(None) => render(layout::page(
            &cx.shell(Section::Mine),
            "My results",
            html! {
                h1 { "My results" }
                p { "No athlete record is linked to your account here yet. Ask your clinician or administrator to link it." }
            },
        )),
        Err(e) => app_error(e),
    }
}

/// The injury and decision forms' state when the page is shown again after a refusal.
#[derive(Debug, Default)]
pub struct Forms {
    /// The injury form as entered, and why it was refused.
    pub injury: Option<(InjuryForm, String)>,
    /// A decision form as entered (on which injury), and why it was refused.
    pub decision: Option<(mhp_domain::InjuryId, DecisionForm, String)>,
}

/// Renders an athlete's page for the caller.
#[allow(clippy::too_many_arguments)]
pub async fn show(
    state: &AppState,
    cx: &Context,
    grant: &crate::api::authz::Grant,
    id: SubjectId,
    shown: Identifiers,
    clinical: bool,
    section: Section,
    forms: Forms,
) -> Response {
    let caller = grant.caller();
    let metrics = cx.show.key_metrics();
    let names: Vec<&'static str> = metrics.iter().map(|m| m.name).collect();
    let athlete = match dashboard::athlete(&state.app, &cx.scope, &caller, id, shown, &names).await
    {
        Ok(a) => a,
        Err(e) => return app_error(e),
    };
    // The latest jump whose phases the engine found: its curve is drawn (raw signals are
    // clinical records, as in the API).
    let mut curve = html! { p { "No countermovement jump yet." } };
    if clinical
        && let (Some(a), Some(report)) = (athlete.assessments.first(), &athlete.latest_report)
        && let Some((phases, window)) = jump_window(report)
    {
        curve = match dashboard::trace(&state.app, &cx.scope, &caller, a).await {
            Ok(trace) => html! {
                p.meta { "Recorded " (cx.show.date(a.recorded_at)) ", " (trace.sample_rate_hz) " Hz, "
                    (if trace.sides.is_some() { "two plates" } else { "one plate" })
                    @if let Some(kg) = body_mass(report) { ", body mass " (cx.show.mass(Some(kg))) " " (cx.show.mass_unit()) }
                    "." }
                (charts::force_time("latest", &trace, Some(&phases), window))
            },
            Err(e) => return app_error(e),
        };
    }
    let (a_text, a_class) = availability(athlete.subject.availability);
    let writer = grant.allows(Permission::WriteClinical);
    let write = Write {
        base: format!("/orgs/{}/athletes/{id}/injuries", cx.scope.org()),
        csrf: cx.csrf.clone(),
        today: cx.show.local_date(state.app.now().as_millis()).to_string(),
        forms,
    };
    let main = html! {
        h1 { (athlete.subject.name) }
        @if section != Section::Mine {
            a.action href={"/orgs/" (cx.scope.org()) "/athletes/" (id) "/report"} { "Athlete report to print" }
        } @else {
            a.action href={"/api/v1/orgs/" (cx.scope.org()) "/me/record"} download="my-record.json" { "Download my record (JSON)" }
            " "
            a.action href={"/api/v1/orgs/" (cx.scope.org()) "/me/fhir"} download="my-record.fhir.json" { "Download my record (FHIR)" }
        }
        p.lead {
            span class={"pill " (a_class)} { (a_text) }
            @if let Some(sport) = &athlete.subject.sport { " · " (sport) }
            @if let Some(ext) = &athlete.subject.external_id { " · ID " (ext) }
        }
        @if clinical {
            section aria-labelledby="curve-h" {
                h2 id="curve-h" { "Latest jump" }
                (curve)
            }
        }
        section aria-labelledby="metrics-h" {
            h2 id="metrics-h" { "Key metrics" }
            (metrics_table(&athlete, &metrics))
        }
        section aria-labelledby="trends-h" {
            h2 id="trends-h" { "Trends" }
            div.grid {
                @for (s, m) in athlete.series.iter().zip(&metrics) {
                    (charts::metric_trend(&s.metric.replace('.', "-"), s, m, &cx.show))
                }
            }
        }
        section aria-labelledby="risk-h" {
            h2 id="risk-h" { "Injury risk" }
            (risk(&athlete, clinical))
        }
        @if clinical {
            section aria-labelledby="injuries-h" {
                h2 id="injuries-h" { "Injuries and return to duty" }
                (injuries(&athlete, writer.then_some(&write)))
            }
        }
    };
    let title = if section == Section::Mine {
        "My results"
    } else {
        "Athlete"
    };
    render(layout::page(&cx.shell(section), title, main))
}

/// The phases of the stored report's first jump with phases, and the span to draw: half a
/// second before movement to a third of a second after the landing ends.
pub fn jump_window(report: &Value) -> Option<(mhp_biomech::Phases, (f64, f64))> {
    let trials = report.get("trials")?.as_array()?;
    let p = trials.iter().find_map(|t| t.get("phases"))?;
    let f = |k: &str| p.get(k).and_then(Value::as_f64);
    let phases = mhp_biomech::Phases {
        onset_s: f("onset_s")?,
        braking_s: f("braking_s")?,
        propulsion_s: f("propulsion_s")?,
        takeoff_s: f("takeoff_s")?,
        landing_s: f("landing_s")?,
        landing_end_s: f("landing_end_s")?,
    };
    let window = ((phases.onset_s - 0.5).max(0.0), phases.landing_end_s + 0.3);
    Some((phases, window))
}

/// The body mass the stored report's first jump weighed, kg.
fn body_mass(report: &Value) -> Option<f64> {
    report
        .get("trials")?
        .as_array()?
        .iter()
        .find_map(|t| t.get("metrics")?.get("body_mass_kg")?.as_f64())
}

pub fn metrics_table(a: &Athlete, metrics: &[KeyMetric]) -> Markup {
    html! {
        table.metrics {
            caption { "Latest value against the athlete's own baseline (mean of up to five earlier tests)." }
            thead { tr { th scope="col" { "Metric" } th scope="col" class="num" { "Latest" } th scope="col" class="num" { "Baseline" } th scope="col" class="num" { "Change" } th scope="col" class="num" { "Tests" } } }
            tbody {
                @for (s, m) in a.series.iter().zip(metrics) {
                    @let latest = s.points.last().map(|p| p.1 * m.scale);
                    @let base = s.baseline.map(|b| b * m.scale);
                    tr {
                        th scope="row" { (m.label) " (" (m.unit) ")" }
                        td.num { (num(latest, m.places)) }
                        td.num { (num(base, m.places)) }
                        td.num { (signed(latest.zip(base).map(|(l, b)| l - b), m.places)) }
                        td.num { (s.points.len()) }
                    }
                }
            }
        }
    }
}

fn risk(a: &Athlete, clinical: bool) -> Markup {
    let Some(latest) = a.risk.first() else {
        return html! { p { "Not scored yet: a model in production scores every new test." } };
    };
    let reasons: Vec<String> = serde_json::from_str::<Vec<Value>>(&latest.contributions_json)
        .unwrap_or_default()
        .iter()
        .filter(|c| c.get("contribution").and_then(Value::as_f64).unwrap_or(0.0) > 0.0)
        .filter_map(|c| c.get("reason").and_then(Value::as_str).map(str::to_owned))
        .collect();
    let (b_text, b_class) = band(Some(latest.band.as_str()));
    html! {
        p { "Latest band: " span class={"pill " (b_class)} { (b_text) } " (" (num(Some(latest.probability * 100.0), 0)) " % chance of a time-loss injury within the model's horizon, as of " (latest.as_of) ")." }
        @if clinical && !reasons.is_empty() {
            p { "What raises it:" }
            ul.reasons { @for r in &reasons { li { (r) } } }
        }
        details.data {
            summary { "Risk history" }
            table {
                thead { tr { th scope="col" { "Day" } th scope="col" { "Band" } th scope="col" class="num" { "Probability %" } } }
                tbody {
                    @for s in &a.risk {
                        tr { th scope="row" { (s.as_of) } td { (band(Some(s.band.as_str())).0) } td.num { (num(Some(s.probability * 100.0), 1)) } }
                    }
                }
            }
        }
    }
}

fn words(code: &str) -> String {
    code.replace('_', " ")
}

/// What the injury forms need.
struct Write {
    /// `/orgs/{org}/athletes/{subject}/injuries`.
    base: String,
    csrf: String,
    today: String,
    forms: Forms,
}

fn injuries(a: &Athlete, write: Option<&Write>) -> Markup {
    html! {
        @if let Some(w) = write {
            (injury_form(&w.base, &w.csrf, w.forms.injury.as_ref(), &w.today))
        }
        @if a.injuries.is_empty() {
            p { "No injuries recorded." }
        } @else {
            table.injuries {
                thead { tr {
                    th scope="col" { "Occurred" }
                    th scope="col" { "Injury" }
                    th scope="col" { "Severity" }
                    th scope="col" { "Return to duty" }
                } }
                tbody {
                    @for c in &a.injuries {
                        tr {
                            th scope="row" { (c.injury.occurred_on) }
                            td { (words(&c.injury.body_region)) ", " (words(&c.injury.injury_type)) " (" (c.injury.side) ")" }
                            td { (c.injury.severity) }
                            td {
                                @if c.decisions.is_empty() { "no decision yet" }
                                ol.timeline {
                                    @for d in &c.decisions {
                                        li { (d.decided_on) ": " (words(&d.stage)) }
                                    }
                                }
                                @if let Some(w) = write {
                                    @if c.decisions.last().is_none_or(|d| d.stage != "cleared") {
                                        (decision_form(&format!("{}/{}/decisions", w.base, c.injury.id), &w.csrf, c.injury.id, w.forms.decision.as_ref(), &w.today))
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
