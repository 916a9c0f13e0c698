//! Upload: pick the athlete, choose one or many force-plate files; each file is analysed and
//! stored by the same use case as the API's upload, and its outcome shown beside its name, in
//! words when it was refused.

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use maud::{Markup, html};
use mhp_app::AppError;
use mhp_app::assessments::{Upload, metric_means};
use mhp_app::subjects::{self, Listing};
use mhp_domain::{OrgScope, SubjectId};
use mhp_storage::Access;
use mhp_storage::repo::Page;
use mhp_storage::repo::assessments::UploadOptions;
use mhp_storage::repo::subjects::{Archived, Filter};
use serde::Deserialize;

use super::dashboard::{Context, shown};
use super::layout::{self, Section};
use super::{CSRF_FIELD, PageGrant, app_error, render};
use crate::AppState;
use crate::api::authz::{Grant, GrantReach};

/// Files one upload form may carry.
const MAX_FILES: usize = 50;

#[derive(Debug, Deserialize)]
pub struct UploadQuery {
    /// Narrows the athlete list.
    q: Option<String>,
}

/// The outcome of one file.
#[derive(Debug)]
struct FileOutcome {
    name: String,
    result: Result<(String, Option<f64>, usize), String>,
}

async fn athletes(
    state: &AppState,
    cx: &Context,
    grant: &Grant,
    q: Option<&str>,
) -> Result<Vec<(SubjectId, String)>, AppError> {
    let term = q
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .and_then(|t| state.app.phi.search_term(cx.scope.org(), t));
    let listing = Listing {
        filter: Filter {
            team: None,
            term,
            sex: None,
            sport: None,
            archived: Archived::Exclude,
            ids: None,
        },
        page: Page::first(500),
        newest_first: false,
        with_risk_bands: false,
    };
    let page = subjects::list(
        &state.app,
        &cx.scope,
        &grant.caller(),
        shown(grant),
        &listing,
    )
    .await?;
    let mut out: Vec<(SubjectId, String)> =
        page.items.into_iter().map(|s| (s.id, s.name)).collect();
    out.sort_by(|a, b| a.1.cmp(&b.1));
    Ok(out)
}

fn page(
    cx: &Context,
    people: &[(SubjectId, String)],
    chosen: Option<SubjectId>,
    q: &str,
    outcomes: &[FileOutcome],
    error: Option<&str>,
) -> Markup {
    let org = cx.scope.org();
    let main = html! {
        h1 { "Upload" }
        p { "Force-plate recordings: MHP's CSV or JSON, vendor CSV exports or C3D. Each file is analysed as it arrives." }
        form.search method="get" action={"/orgs/" (org) "/upload"} {
            label for="q" { "Find an athlete" }
            input id="q" name="q" type="search" value=(q) autocomplete="off";
            button type="submit" { "Search" }
        }
        @if let Some(e) = error {
            p.error role="alert" { (e) }
        }
        form method="post" action={"/orgs/" (org) "/upload"} enctype="multipart/form-data" {
            input type="hidden" name=(CSRF_FIELD) value=(cx.csrf);
            div.field {
                label for="subject" { "Athlete" }
                select id="subject" name="subject" required {
                    option value="" { "Choose an athlete" }
                    @for (id, name) in people {
                        @if Some(*id) == chosen {
                            option value=(id) selected { (name) }
                        } @else {
                            option value=(id) { (name) }
                        }
                    }
                }
            }
            div.field {
                label for="files" { "Files" }
                input id="files" name="files" type="file" multiple required
                    accept=".csv,.json,.c3d,.txt,text/csv,application/json";
            }
            button.primary type="submit" { "Upload and analyse" }
        }
        @if !outcomes.is_empty() {
            section aria-labelledby="results-h" {
                h2 id="results-h" { "Results" }
                ul.outcomes {
                    @for o in outcomes {
                        @match &o.result {
                            Ok((kind, height, trials)) => li.ok {
                                strong { (o.name) } ": analysed, " (trials) " trial(s) of " (kind)
                                @if let Some(h) = height { ", jump height " (cx.show.length(Some(*h))) " " (cx.show.length_unit()) }
                                "."
                            },
                            Err(e) => li.bad { strong { (o.name) } ": not stored. " (e) },
                        }
                    }
                }
                @if let Some(id) = chosen {
                    p { a href={"/orgs/" (org) "/athletes/" (id)} { "Open the athlete's page" } }
                }
            }
        }
    };
    layout::page(&cx.shell(Section::Upload), "Upload", main)
}

/// `GET /orgs/{org}/upload`.
pub async fn form(
    State(state): State<AppState>,
    g: PageGrant,
    Query(query): Query<UploadQuery>,
) -> Response {
    let (cx, grant) = match Context::of(&state, &g).await {
        Ok(c) => c,
        Err(r) => return r.into_response(),
    };
    let q = query.q.unwrap_or_default();
    match athletes(&state, &cx, &grant, Some(&q)).await {
        Ok(people) => render(page(&cx, &people, None, &q, &[], None)),
        Err(e) => app_error(e),
    }
}

/// Whether the grant reaches the subject (the form names it in its body, where the gate does
/// not look).
async fn reaches(
    state: &AppState,
    scope: &OrgScope,
    grant: &Grant,
    subject: SubjectId,
) -> Result<bool, AppError> {
    match &grant.reach {
        GrantReach::Organisation => Ok(true),
        GrantReach::OwnRecord => Ok(false),
        GrantReach::Teams(mine) => {
            let mut tx = state.app.db.tenant(scope, Access::Read).await?;
            let teams = mhp_storage::repo::subjects::teams_of(&mut tx, subject).await?;
            Ok(teams.iter().any(|t| mine.contains(t)))
        }
    }
}

/// In words for the person who sent the file.
fn refusal(e: &AppError) -> String {
    match e {
        AppError::Invalid { detail, .. } | AppError::Malformed(detail) => {
            let mut s = detail.clone();
            if let Some(first) = s.get(0..1) {
                let upper = first.to_uppercase();
                s.replace_range(0..1, &upper);
            }
            if !s.ends_with('.') {
                s.push('.');
            }
            s
        }
        AppError::NotFound(what) => format!("The {what} was not found."),
        _ => "MHP could not store it; try again in a moment.".to_owned(),
    }
}

/// `POST /orgs/{org}/upload`: a multipart form with the CSRF token, `subject` and `files`.
pub async fn submit(
    State(state): State<AppState>,
    g: PageGrant,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (cx, grant) = match Context::of(&state, &g).await {
        Ok(c) => c,
        Err(r) => return r.into_response(),
    };
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let Ok(boundary) = multer::parse_boundary(content_type) else {
        return app_error(AppError::malformed(
            "the form must be sent as multipart/form-data",
        ));
    };
    let stream = futures_util::stream::once(async move { Ok::<_, std::convert::Infallible>(body) });
    let mut multipart = multer::Multipart::new(stream, boundary);
    let mut subject: Option<SubjectId> = None;
    let mut files: Vec<(String, Bytes)> = Vec::new();
    let mut form_error = None;
    loop {
        match multipart.next_field().await {
            Ok(Some(field)) => {
                let name = field.name().unwrap_or_default().to_owned();
                let file_name = field.file_name().map(|n| {
                    n.chars()
                        .filter(|c| !c.is_control())
                        .take(120)
                        .collect::<String>()
                });
                let Ok(bytes) = field.bytes().await else {
                    form_error = Some("The form could not be read; send it again.");
                    break;
                };
                match name.as_str() {
                    "subject" => {
                        subject = std::str::from_utf8(&bytes)
                            .ok()
                            .and_then(|s| SubjectId::parse(s).ok());
                    }
                    "files" if file_name.as_deref().is_some_and(|n| !n.is_empty()) => {
                        if files.len() >= MAX_FILES {
                            form_error = Some("At most 50 files at a time.");
                            break;
                        }
                        files.push((file_name.unwrap_or_default(), bytes));
                    }
                    _ => {}
                }
            }
            Ok(None) => break,
            Err(_) => {
                form_error = Some("The form could not be read; send it again.");
                break;
            }
        }
    }
    let people = match athletes(&state, &cx, &grant, None).await {
        Ok(p) => p,
        Err(e) => return app_error(e),
    };
    let refuse = |status: StatusCode, text: &str, chosen: Option<SubjectId>| {
        (
            status,
            render(page(&cx, &people, chosen, "", &[], Some(text))),
        )
            .into_response()
    };
    if let Some(e) = form_error {
        return refuse(StatusCode::BAD_REQUEST, e, subject);
    }
    let Some(subject) = subject else {
        return refuse(StatusCode::UNPROCESSABLE_ENTITY, "Choose an athlete.", None);
    };
    match reaches(&state, &cx.scope, &grant, subject).await {
        Ok(true) => {}
        Ok(false) => {
            return refuse(
                StatusCode::NOT_FOUND,
                "That athlete is not one you may upload for.",
                None,
            );
        }
        Err(e) => return app_error(e),
    }
    if files.is_empty() {
        return refuse(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Choose at least one file.",
            Some(subject),
        );
    }
    let caller = grant.caller();
    let mut outcomes = Vec::with_capacity(files.len());
    for (name, bytes) in files {
        let done = mhp_app::assessments::ingest(
            &state.app,
            &cx.scope,
            &caller,
            Upload {
                subject,
                body: bytes,
                declared: mhp_biomech::Format::from_name(&name),
                options: UploadOptions::default(),
                recorded_at: state.app.now(),
                idempotency_key: None,
            },
        )
        .await;
        let result = match done {
            Ok(d) => {
                let means = metric_means(&d.result);
                Ok((
                    d.assessment.kind.replace('_', " "),
                    means.get(mhp_app::dashboard::JUMP_HEIGHT).copied(),
                    usize::try_from(d.result.trials).unwrap_or(0),
                ))
            }
            Err(e) if e.is_transient() || matches!(e, AppError::Internal(_)) => {
                if let AppError::Internal(inner) = &e {
                    tracing::error!(error = %inner, "upload from a page failed");
                }
                Err(refusal(&e))
            }
            Err(e) => Err(refusal(&e)),
        };
        outcomes.push(FileOutcome { name, result });
    }
    let any_failed = outcomes.iter().any(|o| o.result.is_err());
    let status = if any_failed && outcomes.iter().all(|o| o.result.is_err()) {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    (
        status,
        render(page(&cx, &people, Some(subject), "", &outcomes, None)),
    )
        .into_response()
}

use axum::response::IntoResponse as _;
