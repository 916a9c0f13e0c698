//! The team dashboard: who needs attention first, with availability, risk band and its change
//! since last week, latest jump height against the athlete's own baseline, asymmetry and last
//! test; the team's weekly trend below.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use mhp_app::dashboard::{self, Roster, RosterRow};
use mhp_app::subjects::Identifiers;
use mhp_domain::availability::Availability;
use mhp_domain::{OrgScope, Permission, SubjectId, TeamId};
use mhp_storage::Access;
use mhp_storage::repo::orgs;

use super::layout::{self, Section, Shell, num};
use super::show::Show;
use super::{PageGrant, Refused, app_error, charts, error_page, render};
use crate::AppState;
use crate::api::authz::{Grant, GrantReach};

/// What every page inside an organisation needs for its shell.
pub struct Context {
    /// The organisation's scope, from the gate.
    pub scope: OrgScope,
    /// Its name.
    pub org_name: String,
    /// The caller's roles there.
    pub roles: Vec<mhp_domain::Role>,
    /// The session's CSRF token.
    pub csrf: String,
    /// The reader's units and the organisation's time zone.
    pub show: Show,
}

impl Context {
    /// The context of a page the gate let through.
    pub async fn of(state: &AppState, g: &PageGrant) -> Result<(Self, Grant), Refused> {
        let grant = g.grant()?.clone();
        let scope = grant.org().map_err(|e| Refused::from(app_error(e)))?;
        let mut tx = state
            .app
            .db
            .tenant(&scope, Access::Read)
            .await
            .map_err(|e| Refused::from(app_error(e)))?;
        let org = orgs::current(&mut tx)
            .await
            .map_err(|e| Refused::from(app_error(e)))?;
        drop(tx);
        Ok((
            Self {
                scope,
                org_name: org.name.as_str().to_owned(),
                roles: grant.roles().to_vec(),
                csrf: g.csrf.clone(),
                show: Show::of(&grant, org.time_zone),
            },
            grant,
        ))
    }

    /// The teams the grant reaches, by name (a coach's own, everyone's for the rest).
    pub async fn teams(
        &self,
        state: &AppState,
        grant: &Grant,
    ) -> Result<Vec<mhp_storage::repo::teams::Team>, Refused> {
        let reach = match &grant.reach {
            GrantReach::Teams(mine) => Some(mine.as_slice()),
            _ => None,
        };
        dashboard::teams_in_reach(&state.app, &self.scope, reach)
            .await
            .map_err(|e| Refused::from(app_error(e)))
    }

    /// The page of one subject named by the path: its id and the page's context (the gate
    /// checked the subject against the caller's reach).
    pub async fn for_subject(
        state: &AppState,
        g: &PageGrant,
        subject: &str,
    ) -> Result<(SubjectId, Self, Grant), Refused> {
        let id = SubjectId::parse(subject)
            .map_err(|_| Refused::from(error_page(StatusCode::NOT_FOUND, None)))?;
        let (cx, grant) = Self::of(state, g).await?;
        Ok((id, cx, grant))
    }

    /// The page of one team named by the path: its id and the page's context (the gate
    /// checked the team against the caller's reach).
    pub async fn for_team(
        state: &AppState,
        g: &PageGrant,
        team: &str,
    ) -> Result<(TeamId, Self, Grant), Refused> {
        let id = TeamId::parse(team)
            .map_err(|_| Refused::from(error_page(StatusCode::NOT_FOUND, None)))?;
        let (cx, grant) = Self::of(state, g).await?;
        Ok((id, cx, grant))
    }

    /// The shell of a page in `section`.
    pub fn shell(&self, section: Section) -> Shell<'_> {
        Shell {
            org: self.scope.org(),
            org_name: &self.org_name,
            roles: &self.roles,
            csrf: &self.csrf,
            section,
        }
    }
}

/// Which identifiers the caller sees: all to clinical readers, names to staff.
pub fn shown(grant: &Grant) -> Identifiers {
    if grant.allows(Permission::ReadClinical) {
        Identifiers::All
    } else {
        Identifiers::NameOnly
    }
}

/// `GET /orgs/{org}`: the first team the caller reaches.
pub async fn org_home(State(state): State<AppState>, g: PageGrant) -> Response {
    let (cx, grant) = match Context::of(&state, &g).await {
        Ok(c) => c,
        Err(r) => return r.into_response(),
    };
    let teams = match cx.teams(&state, &grant).await {
        Ok(t) => t,
        Err(r) => return r.into_response(),
    };
    match teams.first() {
        Some(t) => {
            Redirect::to(&format!("/orgs/{}/teams/{}", cx.scope.org(), t.id)).into_response()
        }
        None => render(layout::page(
            &cx.shell(Section::Dashboard),
            "Dashboard",
            html! {
                h1 { "Dashboard" }
                p { "There is no team here for you yet. An administrator adds teams and names their staff." }
            },
        )),
    }
}

/// `GET /orgs/{org}/teams/{team}`.
pub async fn team(
    State(state): State<AppState>,
    g: PageGrant,
    Path((_, team)): Path<(String, String)>,
) -> Response {
    let (team, cx, grant) = match Context::for_team(&state, &g, &team).await {
        Ok(c) => c,
        Err(r) => return r.into_response(),
    };
    let teams = match cx.teams(&state, &grant).await {
        Ok(t) => t,
        Err(r) => return r.into_response(),
    };
    let roster =
        match dashboard::team_roster(&state.app, &cx.scope, &grant.caller(), team, shown(&grant))
            .await
        {
            Ok(r) => r,
            Err(e) => return app_error(e),
        };
    let org = cx.scope.org();
    let main = html! {
        h1 { "Dashboard" }
        @if teams.len() > 1 {
            nav.teams aria-label="Teams" {
                ul {
                    @for t in &teams {
                        li {
                            @if t.id == team {
                                a href={"/orgs/" (org) "/teams/" (t.id)} aria-current="page" { (t.name.as_str()) }
                            } @else {
                                a href={"/orgs/" (org) "/teams/" (t.id)} { (t.name.as_str()) }
                            }
                        }
                    }
                }
            }
        }
        (summary(&roster))
        a.action href={"/orgs/" (org) "/teams/" (team) "/report"} { "Team report to print" }
        (table(org, &roster, &cx.show))
        section aria-labelledby="trend-h" {
            h2 id="trend-h" { "Team trend: jump height by week" }
            (charts::team_trend(&roster.weeks, &cx.show))
        }
        section aria-labelledby="load-h" {
            h2 id="load-h" { "Training load by week" }
            p.meta { "Session-RPE load (minutes × rating of exertion, in arbitrary units) summed per athlete and week, over " (dashboard::LOAD_WEEKS) " weeks up to " (roster.load_as_of) ". The roster's ACWR is the 7 days' load up to that day over the weekly mean of the 28; over " (mhp_app::monitoring::ACWR_SPIKE) " is flagged as a spike." }
            (charts::team_load(&roster.load_weeks))
        }
    };
    render(layout::page(
        &cx.shell(Section::Dashboard),
        "Dashboard",
        main,
    ))
}

fn summary(r: &Roster) -> Markup {
    let count = |a: Availability| {
        r.rows
            .iter()
            .filter(|x| x.subject.availability == a)
            .count()
    };
    let attention = r.rows.iter().filter(|x| !x.attention.is_empty()).count();
    let high = r
        .rows
        .iter()
        .filter(|x| x.risk_band.as_deref() == Some("high"))
        .count();
    html! {
        h2.team-name { (r.team.name.as_str()) }
        dl.tiles {
            div { dt { "Athletes" } dd { (r.rows.len()) } }
            div { dt { "Available" } dd { (count(Availability::Available)) } }
            div { dt { "Not cleared" } dd { (count(Availability::ModifiedDuty) + count(Availability::FullTraining)) } }
            div { dt { "Unavailable" } dd { (count(Availability::Unavailable)) } }
            div { dt { "High risk" } dd { (high) } }
            div { dt { "Need attention" } dd { (attention) } }
        }
    }
}

/// The availability's words and its class.
pub fn availability(a: Availability) -> (&'static str, &'static str) {
    match a {
        Availability::Available => ("Available", "ok"),
        Availability::FullTraining => ("Full training", "warn"),
        Availability::ModifiedDuty => ("Modified duty", "warn"),
        Availability::Unavailable => ("Unavailable", "bad"),
    }
}

/// A risk band's words and class.
pub fn band(b: Option<&str>) -> (&'static str, &'static str) {
    match b {
        Some("high") => ("High", "bad"),
        Some("moderate") => ("Moderate", "warn"),
        Some("low") => ("Low", "ok"),
        _ => ("Not scored", "none"),
    }
}

fn band_rank(b: Option<&str>) -> u8 {
    match b {
        Some("high") => 3,
        Some("moderate") => 2,
        Some("low") => 1,
        _ => 0,
    }
}

fn band_change(row: &RosterRow) -> Markup {
    let now = band_rank(row.risk_band.as_deref());
    let before = band_rank(row.risk_band_week_ago.as_deref());
    html! {
        @if row.risk_band_week_ago.is_some() && now > before {
            span.delta.up title="higher than a week ago" { " ▲" span.visually-hidden { " up since last week" } }
        } @else if row.risk_band_week_ago.is_some() && now < before {
            span.delta.down title="lower than a week ago" { " ▼" span.visually-hidden { " down since last week" } }
        }
    }
}

fn table(org: mhp_domain::OrgId, r: &Roster, show: &Show) -> Markup {
    let unit = show.length_unit();
    let sort = |v: Option<f64>| num(v.map(|m| m * show.length_scale()), 2);
    html! {
        div.filter {
            label for="roster-filter" { "Filter athletes" }
            input id="roster-filter" type="search" data-filter="roster" autocomplete="off";
        }
        div.table-wrap {
            table.roster.sortable id="roster" {
                caption { "Athletes, who needs attention first. Jump height in " (unit) "; "
                    @if let Some(w) = r.swc_m { "smallest worthwhile change " (show.length(Some(w))) " " (unit) "." }
                    @else { "the smallest worthwhile change needs five athletes with tests." }
                    " ACWR on " (r.load_as_of) "." }
                thead {
                    tr {
                        th scope="col" { "Athlete" }
                        th scope="col" { "Availability" }
                        th scope="col" { "Risk" }
                        th scope="col" class="num" { "Jump height" }
                        th scope="col" class="num" { "Baseline" }
                        th scope="col" class="num" { "Change" }
                        th scope="col" class="num" { "Asymmetry %" }
                        th scope="col" class="num" { abbr title="acute:chronic workload ratio" { "ACWR" } }
                        th scope="col" { "Last test" }
                        th scope="col" { "Needs attention" }
                    }
                }
                tbody {
                    @for row in &r.rows {
                        @let (a_text, a_class) = availability(row.subject.availability);
                        @let (b_text, b_class) = band(row.risk_band.as_deref());
                        tr {
                            th scope="row" data-sort=(row.subject.name) {
                                a href={"/orgs/" (org) "/athletes/" (row.subject.id)} { (row.subject.name) }
                            }
                            td data-sort=(row.subject.availability as u8) { span class={"pill " (a_class)} { (a_text) } }
                            td data-sort=(band_rank(row.risk_band.as_deref())) { span class={"pill " (b_class)} { (b_text) } (band_change(row)) }
                            td.num data-sort=(sort(row.jump_height_m)) { (show.length(row.jump_height_m)) }
                            td.num data-sort=(sort(row.baseline_m)) { (show.length(row.baseline_m)) }
                            td.num data-sort=(sort(row.change_m)) {
                                @if row.beyond_swc {
                                    strong class={"change " (if row.change_m.unwrap_or(0.0) < 0.0 { "bad" } else { "ok" })} {
                                        (show.length_change(row.change_m))
                                        span.visually-hidden { " beyond the smallest worthwhile change" }
                                    }
                                } @else {
                                    (show.length_change(row.change_m))
                                }
                            }
                            td.num data-sort=(num(row.asymmetry_pct, 2)) { (signed(row.asymmetry_pct, 1)) }
                            td.num data-sort=(num(row.acwr, 3)) {
                                @if row.acwr.is_some_and(|r| r > mhp_app::monitoring::ACWR_SPIKE) {
                                    strong.change.bad { (num(row.acwr, 2)) span.visually-hidden { " a load spike" } }
                                } @else {
                                    (num(row.acwr, 2))
                                }
                            }
                            td.date data-sort=(row.last_test.map_or(0, |t| t.as_millis())) {
                                (row.last_test.map_or_else(|| "never".to_owned(), |t| show.date(t)))
                            }
                            td data-sort=(row.attention.first().map_or(99, |a| *a as u8)) {
                                @for (i, a) in row.attention.iter().enumerate() {
                                    @if i > 0 { ", " }
                                    (a.words())
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// A signed number with `places` decimals (no "-0.0"), or a dash.
pub fn signed(v: Option<f64>, places: usize) -> String {
    match v {
        Some(x) if x.is_finite() => {
            let text = format!("{x:+.places$}");
            if text[1..].chars().all(|c| c == '0' || c == '.') {
                text[1..].to_owned()
            } else {
                text
            }
        }
        _ => "–".to_owned(),
    }
}
