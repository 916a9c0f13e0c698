//! Reports for paper: an athlete report and a team report, laid out to print on one or two A4
//! or Letter pages (the print stylesheet drops the navigation and the forms). They read
//! through the same use cases as the pages they summarise, audited alike.

use axum::extract::{Path, State};
use axum::response::{IntoResponse as _, Response};
use maud::{Markup, html};
use mhp_app::dashboard;
use mhp_domain::Permission;
use mhp_domain::display::ForceUnit;

use super::athlete::{body_mass, jump_window, metrics_table};
use super::dashboard::{Context, availability, band, shown, signed};
use super::layout::{self, Section, num};
use super::{PageGrant, app_error, charts, render};
use crate::AppState;

fn heading(title: &str, who: &str, org: &str, today: &str) -> Markup {
    html! {
        div.report-head {
            h1 { (title) ": " (who) }
            p.meta { (org) " · printed " (today) }
            p.noprint { "Print this page (Ctrl+P or ⌘P) for a one- or two-page report on A4 or Letter." }
        }
    }
}

/// `GET /orgs/{org}/reports`: the teams whose reports the caller may print.
pub async fn index(State(state): State<AppState>, g: PageGrant) -> Response {
    let (cx, grant) = match Context::of(&state, &g).await {
        Ok(c) => c,
        Err(r) => return r.into_response(),
    };
    let teams = match cx.teams(&state, &grant).await {
        Ok(t) => t,
        Err(r) => return r.into_response(),
    };
    let org = cx.scope.org();
    let main = html! {
        h1 { "Reports" }
        section aria-labelledby="team-reports" {
            h2 id="team-reports" { "Team reports" }
            @if teams.is_empty() {
                p { "No team here for you yet." }
            }
            ul {
                @for t in &teams {
                    li { a href={"/orgs/" (org) "/teams/" (t.id) "/report"} { (t.name.as_str()) } }
                }
            }
        }
        section aria-labelledby="athlete-reports" {
            h2 id="athlete-reports" { "Athlete reports" }
            p { "Each athlete's page links to their report: open an athlete from the " a href={"/orgs/" (org)} { "dashboard" } "." }
        }
    };
    render(layout::page(&cx.shell(Section::Reports), "Reports", main))
}

/// `GET /orgs/{org}/athletes/{subject}/report`.
pub async fn athlete(
    State(state): State<AppState>,
    g: PageGrant,
    Path((_, subject)): Path<(String, String)>,
) -> Response {
    let (id, cx, grant) = match Context::for_subject(&state, &g, &subject).await {
        Ok(c) => c,
        Err(r) => return r.into_response(),
    };
    let caller = grant.caller();
    let clinical = grant.allows(Permission::ReadClinical);
    let metrics = cx.show.key_metrics();
    let names: Vec<&'static str> = metrics.iter().map(|m| m.name).collect();
    let a =
        match dashboard::athlete(&state.app, &cx.scope, &caller, id, shown(&grant), &names).await {
            Ok(a) => a,
            Err(e) => return app_error(e),
        };
    let mut curve = html! {};
    if clinical
        && let (Some(latest), Some(report)) = (a.assessments.first(), &a.latest_report)
        && let Some((phases, window)) = jump_window(report)
    {
        curve = match dashboard::trace(&state.app, &cx.scope, &caller, latest).await {
            Ok(trace) => html! {
                section.report-part aria-labelledby="r-curve" {
                    h2 id="r-curve" { "Latest jump, " (cx.show.date(latest.recorded_at)) }
                    (charts::force_time("report", &trace, Some(&phases), window, body_mass(report).filter(|_| cx.show.units.force == ForceUnit::PerKilogram)))
                }
            },
            Err(e) => return app_error(e),
        };
    }
    let today = cx.show.local_date(state.app.now().as_millis()).to_string();
    let (a_text, a_class) = availability(a.subject.availability);
    let open: Vec<_> = a
        .injuries
        .iter()
        .filter(|c| c.decisions.last().is_none_or(|d| d.stage != "cleared"))
        .collect();
    let jump = a.series.first();
    let main = html! {
        (heading("Athlete report", &a.subject.name, &cx.org_name, &today))
        p.lead {
            "Availability: " span class={"pill " (a_class)} { (a_text) }
            @if let Some(s) = a.risk.first() {
                " · Injury risk: " (band(Some(s.band.as_str())).0) " (" (num(Some(s.probability * 100.0), 0)) " %, " (s.as_of) ")"
            }
            @if let Some(ext) = &a.subject.external_id { " · ID " (ext) }
        }
        section.report-part aria-labelledby="r-metrics" {
            h2 id="r-metrics" { "Key metrics" }
            (metrics_table(&a, &metrics))
        }
        @if let Some(s) = jump {
            section.report-part aria-labelledby="r-trend" {
                h2 id="r-trend" { "Jump height over time" }
                (charts::metric_trend("report-jump", s, &metrics[0], &cx.show))
            }
        }
        (curve)
        @if clinical {
            section.report-part aria-labelledby="r-injuries" {
                h2 id="r-injuries" { "Open injuries" }
                @if open.is_empty() {
                    p { "None." }
                } @else {
                    ul {
                        @for c in &open {
                            li {
                                (c.injury.occurred_on) ": " (c.injury.body_region.replace('_', " ")) ", "
                                (c.injury.injury_type.replace('_', " ")) " (" (c.injury.side) "), "
                                (c.injury.severity) "; "
                                @match c.decisions.last() {
                                    Some(d) => { "stage " (d.stage.replace('_', " ")) " since " (d.decided_on) }
                                    None => { "no decision yet" }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    render(layout::page(
        &cx.shell(Section::Reports),
        "Athlete report",
        main,
    ))
}

/// `GET /orgs/{org}/teams/{team}/report`.
pub async fn team(
    State(state): State<AppState>,
    g: PageGrant,
    Path((_, team)): Path<(String, String)>,
) -> Response {
    let (team, cx, grant) = match Context::for_team(&state, &g, &team).await {
        Ok(c) => c,
        Err(r) => return r.into_response(),
    };
    let r =
        match dashboard::team_roster(&state.app, &cx.scope, &grant.caller(), team, shown(&grant))
            .await
        {
            Ok(r) => r,
            Err(e) => return app_error(e),
        };
    let today = cx.show.local_date(state.app.now().as_millis()).to_string();
    let out = r
        .rows
        .iter()
        .filter(|x| x.subject.availability != mhp_domain::availability::Availability::Available)
        .count();
    let main = html! {
        (heading("Team report", r.team.name.as_str(), &cx.org_name, &today))
        p.lead {
            (r.rows.len()) " athletes, " (out) " not fully available, "
            (r.rows.iter().filter(|x| !x.attention.is_empty()).count()) " needing attention."
        }
        table.report-roster {
            caption { "Who needs attention first. Jump height in " (cx.show.length_unit()) "." }
            thead { tr {
                th scope="col" { "Athlete" } th scope="col" { "Availability" } th scope="col" { "Risk" }
                th scope="col" class="num" { "Jump height" } th scope="col" class="num" { "Change" }
                th scope="col" class="num" { "Asym. %" } th scope="col" { "Last test" } th scope="col" { "Attention" }
            } }
            tbody {
                @for row in &r.rows {
                    tr {
                        th scope="row" { (row.subject.name) }
                        td { (availability(row.subject.availability).0) }
                        td { (band(row.risk_band.as_deref()).0) }
                        td.num { (cx.show.length(row.jump_height_m)) }
                        td.num { (cx.show.length_change(row.change_m)) @if row.beyond_swc { " *" } }
                        td.num { (signed(row.asymmetry_pct, 1)) }
                        td { (row.last_test.map_or_else(|| "never".to_owned(), |t| cx.show.date(t))) }
                        td { @for (i, a) in row.attention.iter().enumerate() { @if i > 0 { ", " } (a.words()) } }
                    }
                }
            }
        }
        p.meta { "* beyond the smallest worthwhile change"
            @if let Some(w) = r.swc_m { " (" (cx.show.length(Some(w))) " " (cx.show.length_unit()) ")" } "." }
        section.report-part aria-labelledby="r-team-trend" {
            h2 id="r-team-trend" { "Jump height by week" }
            (charts::team_trend(&r.weeks, &cx.show))
        }
    };
    render(layout::page(
        &cx.shell(Section::Reports),
        "Team report",
        main,
    ))
}
