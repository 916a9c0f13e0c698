//! The athlete page: availability, the latest force-time curve with its phases, key metrics
//! against the athlete's own baseline, trends, injuries with their return-to-duty decisions,
//! and risk with its reasons in plain words. Coaches see readiness (availability, metric
//! trends, risk band), not clinical records: as in the API, the raw curve, injuries and the
//! reasons behind a score are for clinical readers.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse as _, Response};
use maud::{Markup, html};
use mhp_app::dashboard::{self, Athlete};
use mhp_app::monitoring::{self, Loads, Norms, Population};
use mhp_domain::display::ForceUnit;
use mhp_domain::{AssessmentId, Permission, SubjectId};
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
    Query(view): Query<View>,
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
        Forms {
            view,
            ..Forms::default()
        },
    )
    .await
}

/// `GET /orgs/{org}/me`: an athlete's own record, everything in it.
pub async fn own(
    State(state): State<AppState>,
    g: PageGrant,
    Query(view): Query<View>,
) -> Response {
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
                Forms {
                    view,
                    ..Forms::default()
                },
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

/// What the reader asked the page to show: two jumps to compare, the population of the norms.
#[derive(Debug, Default, serde::Deserialize)]
pub struct View {
    /// The first jump to compare (an assessment id).
    a: Option<String>,
    /// The second.
    b: Option<String>,
    /// `organisation`, `sex` or `sport`.
    population: Option<String>,
}

/// The injury and decision forms' state when the page is shown again after a refusal, and
/// what the reader asked the page to show.
#[derive(Debug, Default)]
pub struct Forms {
    /// Jumps to compare, the norms' population.
    pub view: View,
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
    // Norms and the comparison of two jumps read clinical records, as in the API.
    let population = forms
        .view
        .population
        .as_deref()
        .and_then(|p| Population::parse(p).ok())
        .unwrap_or_default();
    // Three reads at once on their own connections: the athlete (with its audit event), their
    // load, and the norms' population.
    let norms = async {
        if clinical {
            monitoring::norms(&state.app, &cx.scope, id, population, &names)
                .await
                .map(Some)
        } else {
            Ok(None)
        }
    };
    // The athlete and then their latest curve (raw signals are clinical records, as in the
    // API), beside the load and the norms.
    let athlete_and_curve = async {
        let athlete = dashboard::athlete(&state.app, &cx.scope, &caller, id, shown, &names).await?;
        let latest = athlete
            .assessments
            .first()
            .zip(athlete.latest_report.as_ref());
        let trace = match latest {
            Some((a, report)) if clinical && jump_window(report).is_some() => {
                Some(dashboard::trace(&state.app, &cx.scope, &caller, a).await?)
            }
            _ => None,
        };
        Ok::<_, mhp_app::AppError>((athlete, trace))
    };
    let (athlete, loads, norms) = tokio::join!(
        athlete_and_curve,
        monitoring::subject_loads(&state.app, &cx.scope, id, (None, None), 7 * LOAD_WEEKS),
        norms
    );
    let ((athlete, trace), loads, norms) = match (athlete, loads, norms) {
        (Ok(a), Ok(l), Ok(n)) => (a, l, n),
        (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => return app_error(e),
    };
    // The latest jump whose phases the engine found, its phases shaded.
    let per_kg = cx.show.units.force == ForceUnit::PerKilogram;
    let mut curve = html! { p { "No countermovement jump yet." } };
    if let (Some(trace), Some(a), Some(report)) = (
        &trace,
        athlete.assessments.first(),
        athlete.latest_report.as_ref(),
    ) && let Some((phases, window)) = jump_window(report)
    {
        curve = html! {
            p.meta { "Recorded " (cx.show.date(a.recorded_at)) ", " (trace.sample_rate_hz) " Hz, "
                (if trace.sides.is_some() { "two plates" } else { "one plate" })
                @if let Some(kg) = body_mass(report) { ", body mass " (cx.show.mass(Some(kg))) " " (cx.show.mass_unit()) }
                "." }
            (charts::force_time("latest", trace, Some(&phases), window, body_mass(report).filter(|_| per_kg)))
        };
    }
    let compared = if clinical {
        match compare(state, cx, &caller, &athlete, &forms.view, per_kg).await {
            Ok(m) => m,
            Err(e) => return app_error(e),
        }
    } else {
        html! {}
    };
    let (a_text, a_class) = availability(athlete.subject.availability);
    let writer = grant.allows(Permission::WriteClinical);
    let write = Write {
        base: format!("/orgs/{}/athletes/{id}/injuries", cx.scope.org()),
        csrf: cx.csrf.clone(),
        today: cx.show.local_date(state.app.now().as_millis()).to_string(),
        forms,
    };
    let page_url = if section == Section::Mine {
        format!("/orgs/{}/me", cx.scope.org())
    } else {
        format!("/orgs/{}/athletes/{id}", cx.scope.org())
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
        @if let Some(n) = &norms {
            section aria-labelledby="norms-h" {
                h2 id="norms-h" { "Norms" }
                (norms_table(n, &metrics, &page_url))
            }
        }
        @if clinical {
            section aria-labelledby="compare-h" {
                h2 id="compare-h" { "Compare two jumps" }
                (compared)
            }
        }
        section aria-labelledby="load-h" {
            h2 id="load-h" { "Training load" }
            (load(&loads, clinical))
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

/// Weeks of training load the page shows.
const LOAD_WEEKS: i64 = dashboard::LOAD_WEEKS;

/// The form choosing two of the athlete's countermovement jumps, and their curves overlaid when
/// two were chosen (each read recorded as the API's assessment read is).
async fn compare(
    state: &AppState,
    cx: &Context,
    caller: &mhp_app::Caller,
    athlete: &Athlete,
    view: &View,
    per_kg: bool,
) -> Result<Markup, mhp_app::AppError> {
    let jumps: Vec<&mhp_storage::repo::assessments::Assessment> = athlete
        .assessments
        .iter()
        .filter(|a| a.kind == "cmj")
        .collect();
    if jumps.len() < 2 {
        return Ok(html! { p { "Two countermovement jumps are needed to compare." } });
    }
    let find = |v: &Option<String>| {
        v.as_deref()
            .and_then(|s| AssessmentId::parse(s).ok())
            .and_then(|id| jumps.iter().copied().find(|a| a.id == id))
    };
    let asked = view.a.is_some() || view.b.is_some();
    let chosen = find(&view.a).zip(find(&view.b));
    // Unchosen, the form offers the latest and the one before.
    let (sel_a, sel_b) = chosen.map_or((jumps[0].id, jumps[1].id), |(a, b)| (a.id, b.id));
    let label = |a: &mhp_storage::repo::assessments::Assessment| {
        cx.show.date_time(a.recorded_at.as_millis())
    };
    let mut drawn = html! {};
    let mut problem = None;
    if let Some((a, b)) = chosen {
        if a.id == b.id {
            problem = Some("Choose two different jumps.");
        } else {
            let mut shown = Vec::new();
            for j in [a, b] {
                let report = dashboard::report(&state.app, &cx.scope, j).await?;
                let Some((phases, _)) = report.as_ref().and_then(jump_window) else {
                    problem = Some("The engine found no complete jump in one of these recordings.");
                    break;
                };
                let trace = dashboard::trace(&state.app, &cx.scope, caller, j).await?;
                let kg = report.as_ref().and_then(body_mass).filter(|_| per_kg);
                shown.push((label(j), trace, phases, kg));
            }
            if let [(la, ta, pa, ka), (lb, tb, pb, kb)] = shown.as_slice() {
                let one = |label: &String,
                           trace,
                           phases: &mhp_biomech::Phases,
                           kg: &Option<f64>| charts::Jump {
                    label: label.clone(),
                    trace,
                    phases: *phases,
                    per_kg: *kg,
                };
                drawn = charts::force_overlay(&one(la, ta, pa, ka), &one(lb, tb, pb, kb));
            }
        }
    } else if asked {
        problem = Some("Choose two of this athlete's jumps.");
    }
    let choice = |name: &str, text: &str, chosen: AssessmentId| {
        html! {
            label for={"jump-" (name)} { (text) }
            select id={"jump-" (name)} name=(name) {
                @for j in &jumps { option value=(j.id) selected[j.id == chosen] { (label(j)) } }
            }
        }
    };
    Ok(html! {
        form.inline method="get" action="#compare-h" {
            @if let Some(p) = view.population.as_deref() { input type="hidden" name="population" value=(p); }
            (choice("a", "First jump", sel_a))
            (choice("b", "Second jump", sel_b))
            button type="submit" { "Compare" }
        }
        @if let Some(p) = problem { p.error role="alert" { (p) } }
        (drawn)
    })
}

/// The latest value of each key metric against the population (percentile, T-score) and
/// against the athlete's own baseline (change, smallest worthwhile change, whether it is beyond
/// the minimal detectable change).
fn norms_table(n: &Norms, metrics: &[KeyMetric], page_url: &str) -> Markup {
    let population = match n.population {
        "sex" => "athletes of the same sex",
        "sport" => "athletes of the same sport",
        _ => "the organisation's athletes",
    };
    html! {
        form.inline method="get" action={(page_url) "#norms-h"} {
            label for="population" { "Compare with" }
            select id="population" name="population" {
                option value="organisation" selected[n.population == "organisation"] { "the organisation" }
                option value="sex" selected[n.population == "sex"] { "the same sex" }
                option value="sport" selected[n.population == "sport"] { "the same sport" }
            }
            button type="submit" { "Show" }
        }
        div.table-wrap {
            table.norms {
                caption { "The latest test against " (population) " (each one's latest countermovement jump; percentiles need five) and against the athlete's own baseline. T-score: 50 + 10 × standard scores. Change: from the baseline, in bold when beyond the smallest worthwhile change (SWC, 0.2 × the spread between athletes). Reliability: CV, the spread of the latest test's reps; MDC95, the change measurement error alone explains at 95 % (from the typical error between the baseline tests)." }
                thead { tr {
                    th scope="col" { "Metric" }
                    th scope="col" class="num" { "Latest" }
                    th scope="col" class="num" { "Percentile" }
                    th scope="col" class="num" { "T-score" }
                    th scope="col" class="num" { "Change" }
                    th scope="col" class="num" { abbr title="smallest worthwhile change" { "SWC" } }
                    th scope="col" class="num" { abbr title="coefficient of variation over the latest test's reps" { "CV" } " (%)" }
                    th scope="col" class="num" { abbr title="the minimal detectable change at 95 %: what measurement error explains" { "MDC95" } }
                    th scope="col" { "Beyond MDC95" }
                } }
                tbody {
                    @for (m, k) in n.metrics.iter().zip(metrics) {
                        @let KeyMetric { label, unit, scale, places, .. } = *k;
                        tr {
                            th scope="row" { (label) " (" (unit) ")" }
                            td.num { (num(m.value.map(|v| v * scale), places)) }
                            td.num { (num(m.percentile, 0)) }
                            td.num { (num(m.t_score, 1)) }
                            td.num {
                                @if m.meaningful_change == Some(true) {
                                    strong { (signed(m.change.map(|c| c * scale), places)) span.visually-hidden { " beyond the smallest worthwhile change" } }
                                } @else {
                                    (signed(m.change.map(|c| c * scale), places))
                                }
                            }
                            td.num { (num(m.smallest_worthwhile_change.map(|w| w * scale), places)) }
                            td.num { (num(m.within_session_cv_pct, 1)) }
                            td.num { (num(m.mdc95.map(|w| w * scale), places)) }
                            td { (match m.change_exceeds_mdc95 { Some(true) => "yes", Some(false) => "no", None => "–" }) }
                        }
                    }
                }
            }
        }
    }
}

/// The athlete's weekly load over the last weeks, the workload ratio today, and (for clinical
/// readers, as in the API) the sessions of the last 28 days.
fn load(l: &Loads, clinical: bool) -> Markup {
    let mut weeks: std::collections::BTreeMap<mhp_domain::CalendarDate, i64> =
        std::collections::BTreeMap::new();
    for e in &l.entries {
        if let Ok(d) = mhp_domain::CalendarDate::parse(&e.session_date) {
            let monday = d.week_start();
            *weeks.entry(monday).or_default() += e.load_au;
        }
    }
    let recent_from = l.to.plus_days(-(monitoring::CHRONIC_DAYS - 1)).to_string();
    let recent: Vec<_> = l
        .entries
        .iter()
        .filter(|e| e.session_date >= recent_from)
        .rev()
        .collect();
    let a = &l.acwr;
    html! {
        @if l.entries.is_empty() {
            p { "No training load recorded." }
        } @else {
            p {
                @if let Some(r) = a.ratio {
                    "Acute:chronic workload ratio on " (a.as_of) ": "
                    @if r > monitoring::ACWR_SPIKE { strong.change.bad { (num(Some(r), 2)) " (a spike)" } } @else { strong { (num(Some(r), 2)) } }
                    " — " (a.acute_7d_au) " AU in the last 7 days against a weekly mean of " (num(Some(a.chronic_weekly_au), 0)) " AU over 28."
                } @else {
                    "No workload ratio yet: it needs 28 days of recorded load."
                }
            }
            (charts::athlete_load(&weeks.into_iter().collect::<Vec<_>>()))
            @if clinical && !recent.is_empty() {
                details.data {
                    summary { "Sessions of the last 28 days" }
                    table {
                        thead { tr { th scope="col" { "Day" } th scope="col" { "Session" } th scope="col" class="num" { "Minutes" } th scope="col" class="num" { "RPE" } th scope="col" class="num" { "Load (AU)" } } }
                        tbody {
                            @for e in &recent {
                                tr { th scope="row" { (e.session_date) } td { (words(&e.session_type)) } td.num { (e.duration_min) } td.num { (e.rpe) } td.num { (e.load_au) } }
                            }
                        }
                    }
                }
            }
        }
    }
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
pub fn body_mass(report: &Value) -> Option<f64> {
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
