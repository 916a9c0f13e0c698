//! The audit log page (auditors, administrators): the organisation's events with filters, a
//! page at a time, and the export of what is filtered. Reading it is recorded (`audit.read`),
//! as the API's read is. Events name people by account id, never by name.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse as _, Response};
use maud::html;
use mhp_domain::CalendarDate;
use mhp_storage::repo::audit::Filter;
use serde::Deserialize;

use super::dashboard::Context;
use super::layout::{self, Section};
use super::show::Show;
use super::{PageGrant, app_error, render};
use crate::AppState;

/// Events shown per page.
const PAGE: u32 = 200;

/// The page's filters, as the form sends them.
#[derive(Debug, Default, Deserialize)]
pub struct AuditFilters {
    #[serde(default)]
    action: String,
    #[serde(default)]
    actor: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    after: Option<i64>,
    /// Set by the "Verify the chain" button.
    #[serde(default)]
    verify: Option<String>,
}

fn some(t: &str) -> Option<String> {
    let t = t.trim();
    (!t.is_empty()).then(|| t.to_owned())
}

/// The moment a filter's day begins (`end`: the day after it), in the organisation's zone.
fn day_ms(show: &Show, field: &str, t: &str, end: bool) -> Result<Option<i64>, String> {
    match some(t) {
        None => Ok(None),
        Some(t) => CalendarDate::parse(&t)
            .map(|d| {
                Some(
                    show.tz
                        .start_of_day_ms(d.days_since_epoch() + i64::from(end)),
                )
            })
            .map_err(|e| format!("{field} {e}")),
    }
}

/// `GET /orgs/{org}/audit`.
pub async fn page(
    State(state): State<AppState>,
    g: PageGrant,
    Query(f): Query<AuditFilters>,
) -> Response {
    let (cx, grant) = match Context::of(&state, &g).await {
        Ok(c) => c,
        Err(r) => return r.into_response(),
    };
    let org = cx.scope.org();
    let dates = day_ms(&cx.show, "from", &f.from, false)
        .and_then(|from| Ok((from, day_ms(&cx.show, "to", &f.to, true)?)));
    let checked = dates.and_then(|(from_ms, to_ms)| {
        mhp_app::audit_log::check(Filter {
            actor: some(&f.actor),
            action: some(&f.action),
            resource_type: None,
            resource_id: None,
            from_ms,
            to_ms,
        })
        .map_err(|e| e.to_string().trim_start_matches("malformed: ").to_owned())
    });
    let (status, events, error) = match checked {
        Ok(filter) => {
            match mhp_app::audit_log::read(
                &state.app,
                &cx.scope,
                &grant.caller(),
                &filter,
                f.after,
                PAGE,
            )
            .await
            {
                Ok(events) => (StatusCode::OK, events, None),
                Err(e) => return app_error(e),
            }
        }
        Err(e) => (StatusCode::UNPROCESSABLE_ENTITY, Vec::new(), Some(e)),
    };
    let mut export = format!("/api/v1/orgs/{org}/audit/export?");
    let mut more = format!("/orgs/{org}/audit?");
    for (k, v) in [("action", &f.action), ("actor", &f.actor)] {
        if let Some(v) = some(v) {
            let pair = serde_urlencoded::to_string([(k, v)]).unwrap_or_default();
            export.push_str(&pair);
            export.push('&');
            more.push_str(&pair);
            more.push('&');
        }
    }
    if let Ok(Some(ms)) = day_ms(&cx.show, "from", &f.from, false) {
        export.push_str(&format!("from_ms={ms}&"));
    }
    if let Ok(Some(ms)) = day_ms(&cx.show, "to", &f.to, true) {
        export.push_str(&format!("to_ms={ms}&"));
    }
    for (k, v) in [("from", &f.from), ("to", &f.to)] {
        if let Some(v) = some(v) {
            more.push_str(&serde_urlencoded::to_string([(k, v)]).unwrap_or_default());
            more.push('&');
        }
    }
    let verified = if f.verify.is_some() {
        match mhp_app::audit_log::verify(&state.app, &cx.scope, &grant.caller()).await {
            Ok(r) => Some(r),
            Err(e) => return app_error(e),
        }
    } else {
        None
    };
    let next = (events.len() == PAGE as usize)
        .then(|| events.last().map(|e| e.seq))
        .flatten();
    let main = html! {
        h1 { "Audit log" }
        p { "Every read and change of the organisation's records, oldest first, times in UTC. People are named by account id." }
        form.search method="get" action={"/orgs/" (org) "/audit"} {
            label for="a-action" { "Action" }
            input id="a-action" name="action" type="text" value=(f.action) placeholder="subject.read or subject.";
            label for="a-actor" { "Actor" }
            input id="a-actor" name="actor" type="text" value=(f.actor) placeholder="user:…";
            label for="a-from" { "From" }
            input id="a-from" name="from" type="date" value=(f.from);
            label for="a-to" { "To" }
            input id="a-to" name="to" type="date" value=(f.to);
            button type="submit" { "Filter" }
        }
        @if let Some(e) = &error {
            p.error role="alert" { (e) }
        }
        p { a href=(export.trim_end_matches(['&', '?'])) download="audit.jsonl" { "Export these events (JSON lines, with their hash chain)" } }
        section aria-labelledby="integrity" {
            h2 id="integrity" { "Integrity" }
            p { "Each event commits to the one before it (a hash chain), and signed checkpoints vouch for the chain's head. Verifying recomputes the organisation's chain and checks every checkpoint." }
            @match &verified {
                Some(r) if r.findings.is_empty() => {
                    p.notice role="status" {
                        "Verified: " (r.events) " events and " (r.checkpoints) " signed checkpoints, no alteration, removal or reordering found."
                        @if r.unchained > 0 { " " (r.unchained) " events from before chaining began are not covered." }
                    }
                }
                Some(r) => {
                    div.error role="alert" {
                        p { "The chain does not verify:" }
                        ul { @for finding in &r.findings { li { (finding.to_string()) } } }
                    }
                }
                None => {
                    form method="get" action={"/orgs/" (org) "/audit"} {
                        input type="hidden" name="verify" value="1";
                        button.primary type="submit" { "Verify the chain" }
                    }
                }
            }
        }
        div.table-wrap {
            table.audit {
                caption { (events.len()) " event(s)" @if next.is_some() { " on this page" } "." }
                thead { tr {
                    th scope="col" { "Time (" (cx.show.tz) ")" } th scope="col" { "Actor" } th scope="col" { "Action" }
                    th scope="col" { "Resource" } th scope="col" { "Outcome" }
                } }
                tbody {
                    @for e in &events {
                        tr {
                            td { (cx.show.date_time(e.at_ms)) }
                            td { (e.actor) }
                            th scope="row" { (e.action) }
                            td { (e.resource_type) @if let Some(id) = &e.resource_id { " " (id) } }
                            td { (e.outcome) }
                        }
                    }
                }
            }
        }
        @if let Some(seq) = next {
            p { a href={(more) "after=" (seq)} { "Next page" } }
        }
    };
    (
        status,
        render(layout::page(&cx.shell(Section::Audit), "Audit log", main)),
    )
        .into_response()
}
