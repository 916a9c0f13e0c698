//! Athletes: everyone the caller reaches (a coach's own teams, one by one; everyone at once for
//! clinicians and administrators), searchable by name, with availability and risk band, each linking to their page. The
//! listing is `mhp_app::subjects::list`, the API's, so the read is audited as the API's is;
//! the name searched for is matched by its keyed search term and never stored or logged.

use axum::extract::{Query, State};
use axum::response::{IntoResponse as _, Response};
use maud::html;
use mhp_app::subjects::{Listing, SubjectView};
use mhp_storage::repo::Page;
use mhp_storage::repo::subjects::{Archived, Filter};
use serde::Deserialize;

use super::dashboard::{Context, availability, band, shown};
use super::layout::{self, Section};
use super::{PageGrant, app_error, render};
use crate::AppState;
use crate::api::GrantReach;

/// Athletes listed per team at most.
const PER_TEAM: u32 = 500;

#[derive(Debug, Default, Deserialize)]
pub struct AthletesQuery {
    /// A name to find.
    #[serde(default)]
    q: String,
}

/// `GET /orgs/{org}/athletes`.
pub async fn page(
    State(state): State<AppState>,
    g: PageGrant,
    Query(query): Query<AthletesQuery>,
) -> Response {
    let (cx, grant) = match Context::of(&state, &g).await {
        Ok(c) => c,
        Err(r) => return r.into_response(),
    };
    let q = query.q.trim();
    let term = (!q.is_empty())
        .then(|| state.app.phi.search_term(cx.scope.org(), q))
        .flatten();
    // Staff of teams see their teams one by one; the rest see everyone at once (athletes on
    // no team too).
    let groups: Vec<(String, Option<mhp_domain::TeamId>)> = match &grant.reach {
        GrantReach::Teams(_) => match cx.teams(&state, &grant).await {
            Ok(teams) => teams
                .iter()
                .map(|t| (t.name.as_str().to_owned(), Some(t.id)))
                .collect(),
            Err(r) => return r.into_response(),
        },
        _ => vec![("Everyone".to_owned(), None)],
    };
    let mut by_team: Vec<(String, Vec<SubjectView>)> = Vec::new();
    // A name that makes no search term matches nobody (rather than everybody).
    if q.is_empty() || term.is_some() {
        for (name, team) in groups {
            let listing = Listing {
                filter: Filter {
                    team,
                    term: term.clone(),
                    sex: None,
                    sport: None,
                    archived: Archived::Exclude,
                    ids: None,
                },
                page: Page::first(PER_TEAM),
                newest_first: false,
                with_risk_bands: true,
            };
            let caller = grant.caller();
            match mhp_app::subjects::list(&state.app, &cx.scope, &caller, shown(&grant), &listing)
                .await
            {
                Ok(mut p) => {
                    p.items.sort_by(|a, b| a.name.cmp(&b.name));
                    if !p.items.is_empty() {
                        by_team.push((name, p.items));
                    }
                }
                Err(e) => return app_error(e),
            }
        }
    }
    let org = cx.scope.org();
    let found: usize = by_team.iter().map(|(_, s)| s.len()).sum();
    let main = html! {
        h1 { "Athletes" }
        form.search method="get" action={"/orgs/" (org) "/athletes"} role="search" {
            label for="q" { "Find an athlete by name" }
            input id="q" name="q" type="search" value=(q) autocomplete="off";
            button type="submit" { "Search" }
        }
        @if !q.is_empty() {
            p role="status" { (found) " athlete(s) found. " a href={"/orgs/" (org) "/athletes"} { "Show everyone" } }
        }
        @if by_team.is_empty() && q.is_empty() {
            p { "There is nobody here for you yet." }
        }
        @for (team, people) in &by_team {
            section aria-label=(team) {
                h2 { (team) }
                div.table-wrap {
                    table {
                        thead { tr {
                            th scope="col" { "Athlete" } th scope="col" { "Sport" }
                            th scope="col" { "Availability" } th scope="col" { "Risk" }
                        } }
                        tbody {
                            @for s in people {
                                @let (a_text, a_class) = availability(s.availability);
                                @let (b_text, b_class) = band(s.risk_band.as_deref());
                                tr {
                                    th scope="row" { a href={"/orgs/" (org) "/athletes/" (s.id)} { (s.name) } }
                                    td { (s.sport.as_deref().unwrap_or("–")) }
                                    td { span class={"pill " (a_class)} { (a_text) } }
                                    td { span class={"pill " (b_class)} { (b_text) } }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    render(layout::page(&cx.shell(Section::Athletes), "Athletes", main))
}
