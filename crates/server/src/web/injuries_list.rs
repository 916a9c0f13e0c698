//! Injuries, for clinicians: every injury of the organisation not yet cleared, newest first,
//! with its latest return-to-duty stage, each linking to the athlete's page where decisions are
//! recorded. The list is `mhp_app::injuries::open` (recorded as `injury.list`); the names come
//! from the API's own listing, audited as it is.

use std::collections::HashMap;

use axum::extract::State;
use axum::response::{IntoResponse as _, Response};
use maud::html;
use mhp_app::subjects::{Identifiers, Listing};
use mhp_domain::CalendarDate;
use mhp_storage::repo::Page;
use mhp_storage::repo::subjects::{Archived, Filter};

use super::dashboard::Context;
use super::layout::{self, Section};
use super::{PageGrant, app_error, render};
use crate::AppState;

/// `GET /orgs/{org}/injuries`.
pub async fn page(State(state): State<AppState>, g: PageGrant) -> Response {
    let (cx, grant) = match Context::of(&state, &g).await {
        Ok(c) => c,
        Err(r) => return r.into_response(),
    };
    let caller = grant.caller();
    let open = match mhp_app::injuries::open(&state.app, &cx.scope, &caller).await {
        Ok(o) => o,
        Err(e) => return app_error(e),
    };
    let mut names: HashMap<mhp_domain::SubjectId, String> = HashMap::new();
    if !open.is_empty() {
        let listing = Listing {
            filter: Filter {
                team: None,
                term: None,
                sex: None,
                sport: None,
                archived: Archived::Include,
                ids: None,
            },
            page: Page::first(10_000),
            newest_first: false,
            with_risk_bands: false,
        };
        match mhp_app::subjects::list(&state.app, &cx.scope, &caller, Identifiers::All, &listing)
            .await
        {
            Ok(p) => names.extend(p.items.into_iter().map(|s| (s.id, s.name))),
            Err(e) => return app_error(e),
        }
    }
    let today = cx.show.local_date(state.app.now().as_millis());
    let days_since = |d: &str| {
        CalendarDate::parse(d)
            .ok()
            .map(|d| today.days_since_epoch() - d.days_since_epoch())
    };
    let org = cx.scope.org();
    let words = |code: &str| code.replace('_', " ");
    let main = html! {
        h1 { "Injuries" }
        p { "Injuries not yet cleared, newest first. Decisions are recorded on the athlete's page." }
        @if open.is_empty() {
            p { "No open injury." }
        } @else {
            div.table-wrap {
                table {
                    caption { (open.len()) " open injury(ies)." }
                    thead { tr {
                        th scope="col" { "Athlete" } th scope="col" { "Occurred" }
                        th scope="col" class="num" { "Days" } th scope="col" { "Injury" }
                        th scope="col" { "Severity" } th scope="col" { "Return to duty" }
                    } }
                    tbody {
                        @for i in &open {
                            tr {
                                th scope="row" {
                                    a href={"/orgs/" (org) "/athletes/" (i.subject) "#injuries-h"} {
                                        (names.get(&i.subject).map_or("(archived)", String::as_str))
                                    }
                                }
                                td.date { (i.occurred_on) }
                                td.num { (days_since(&i.occurred_on).map_or("–".to_owned(), |d| d.to_string())) }
                                td { (words(&i.body_region)) ", " (words(&i.injury_type)) " (" (i.side) ")" }
                                td { (i.severity) }
                                td {
                                    @match &i.stage {
                                        Some((stage, on)) => { (words(stage)) " since " (on) }
                                        None => { "no decision yet" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    render(layout::page(&cx.shell(Section::Injuries), "Injuries", main))
}
