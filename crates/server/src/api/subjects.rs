//! Subjects: the athletes and service members of an organisation. The handlers parse, call
//! the use cases of [`mhp_app::subjects`] (which seal, open, search and audit) and render.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use mhp_app::subjects::{
    self as app, Identifiers, Listing, SubjectChanges, SubjectDraft, SubjectFields, SubjectView,
};
use mhp_domain::{SubjectId, TeamId};
use mhp_storage::repo::Page;
use mhp_storage::repo::subjects::{Archived, Filter};
use serde::{Deserialize, Serialize};

use super::{Grant, double_option, path_id};
use crate::{ApiError, ApiJson, AppState};

/// A subject as the API shows it.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct SubjectOut {
    pub(crate) id: String,
    pub(crate) pseudonym: String,
    pub(crate) name: String,
    pub(crate) birth_date: Option<String>,
    pub(crate) external_id: Option<String>,
    #[schemars(schema_with = "super::sets::maybe::<super::sets::SexSet>")]
    pub(crate) sex: Option<&'static str>,
    pub(crate) sport: Option<String>,
    #[schemars(schema_with = "super::sets::one::<super::sets::Availability>")]
    pub(crate) availability: &'static str,
    pub(crate) created_at_ms: i64,
    pub(crate) updated_at_ms: i64,
    pub(crate) archived_at_ms: Option<i64>,
    /// The latest injury-risk band (`low`, `moderate`, `high`), on team rosters; `null` when
    /// the subject has no score yet or elsewhere.
    #[schemars(schema_with = "super::sets::maybe::<super::sets::Band>")]
    pub(crate) risk_band: Option<String>,
}

impl From<SubjectView> for SubjectOut {
    fn from(v: SubjectView) -> Self {
        Self {
            id: v.id.to_string(),
            pseudonym: v.pseudonym,
            name: v.name,
            birth_date: v.birth_date.map(|d| d.to_string()),
            external_id: v.external_id,
            sex: v.sex.map(mhp_domain::Sex::as_str),
            sport: v.sport,
            availability: v.availability.as_str(),
            created_at_ms: v.created_at.as_millis(),
            updated_at_ms: v.updated_at.as_millis(),
            archived_at_ms: v.archived_at.map(|t| t.as_millis()),
            risk_band: v.risk_band,
        }
    }
}

/// A page of a listing and the cursor of the next one.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct PageOut<T> {
    pub items: Vec<T>,
    /// The next page's `after` (none on the last page, and with `updated_since`).
    pub next: Option<String>,
    /// With `updated_since`: what was erased since the cursor (delete it from a mirror).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tombstones: Option<Vec<Tombstone>>,
    /// With `updated_since`: the cursor to pass as `updated_since` next time (the same one
    /// when nothing changed: poll again later).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_since: Option<String>,
}

impl<T> PageOut<T> {
    /// A page of a listing by `after`.
    pub fn page(items: Vec<T>, next: Option<String>) -> Self {
        Self {
            items,
            next,
            tombstones: None,
            next_since: None,
        }
    }

    /// The changes of a listing by `updated_since`.
    pub fn changes(items: Vec<T>, since: mhp_app::changes::Since) -> Self {
        Self {
            items,
            next: None,
            tombstones: Some(
                since
                    .erased
                    .into_iter()
                    .map(|(id, at_ms)| Tombstone {
                        id,
                        erased_at_ms: at_ms,
                    })
                    .collect(),
            ),
            next_since: Some(since.next),
        }
    }
}

/// A resource erased (with everything recorded of it) since the listing's cursor.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct Tombstone {
    pub id: String,
    pub erased_at_ms: i64,
}

/// The changes a listing by `updated_since` covers: at most `limit` of the feed.
pub(crate) async fn changes_since(
    state: &AppState,
    grant: &Grant,
    updated_since: &str,
    kind: &'static str,
    limit: u32,
    after_too: bool,
) -> Result<mhp_app::changes::Since, ApiError> {
    if after_too {
        return Err(ApiError::BadRequest(
            "give after (pages) or updated_since (changes), not both".into(),
        ));
    }
    Ok(mhp_app::changes::since(&state.app, &grant.org()?, updated_since, kind, limit).await?)
}

/// Which identifiers `grant` may see: all of them with the clinical-read permission, the name
/// only for staff who see readiness, not records (coaches, commanders).
pub(crate) fn identifiers_for(grant: &Grant) -> Identifiers {
    if grant.allows(mhp_domain::Permission::ReadClinical) {
        Identifiers::All
    } else {
        Identifiers::NameOnly
    }
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSubjectIn {
    name: String,
    birth_date: Option<String>,
    external_id: Option<String>,
    #[serde(default)]
    #[schemars(schema_with = "super::sets::maybe::<super::sets::SexSet>")]
    sex: Option<String>,
    sport: Option<String>,
    #[serde(default)]
    team_ids: Vec<String>,
}

/// `POST /api/v1/orgs/{org}/subjects`
pub async fn create(
    State(state): State<AppState>,
    grant: Grant,
    ApiJson(body): ApiJson<NewSubjectIn>,
) -> Result<(StatusCode, Json<SubjectOut>), ApiError> {
    let draft = SubjectDraft {
        name: body.name,
        birth_date: body.birth_date,
        external_id: body.external_id,
        sex: body.sex,
        sport: body.sport,
    };
    let fields = SubjectFields::check(&draft, state.app.today())?;
    let team_ids = body
        .team_ids
        .iter()
        .map(|t| {
            TeamId::parse(t)
                .map_err(|_| ApiError::BadRequest("team_ids holds a malformed id".into()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let view = app::create(
        &state.app,
        &grant.org()?,
        &grant.caller(),
        &fields,
        &team_ids,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(view.into())))
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    after: Option<String>,
    limit: Option<u32>,
    /// A cursor of the change feed or of an earlier listing's `next_since` (`0.0`: from the
    /// beginning): only the subjects made, changed or archived since, and the erased ones as
    /// `tombstones` (archived subjects included unless `archived` says otherwise).
    updated_since: Option<String>,
    team: Option<String>,
    q: Option<String>,
    #[serde(default)]
    #[schemars(schema_with = "super::sets::maybe::<super::sets::SexSet>")]
    sex: Option<String>,
    sport: Option<String>,
    archived: Option<String>,
    sort: Option<String>,
}

fn after_of(q: &ListQuery) -> Result<Option<SubjectId>, ApiError> {
    q.after
        .as_deref()
        .map(SubjectId::parse)
        .transpose()
        .map_err(|_| ApiError::BadRequest("after is not a subject id".into()))
}

/// `GET /api/v1/orgs/{org}/subjects`: filters `team`, `q` (exact external id, whole name or one
/// word of it), `sex`, `sport`, `archived` (`exclude`, `only`, `include`); `sort` `created`
/// or `-created` (default); pages by `after` and `limit` (at most 500).
pub async fn list(
    State(state): State<AppState>,
    grant: Grant,
    Query(q): Query<ListQuery>,
) -> Result<Json<PageOut<SubjectOut>>, ApiError> {
    let scope = grant.org()?;
    let org = scope.org();
    let newest_first = match q.sort.as_deref() {
        None | Some("-created") => true,
        Some("created") => false,
        Some(_) => {
            return Err(ApiError::BadRequest(
                "sort must be created or -created".into(),
            ));
        }
    };
    let term = match q.q.as_deref() {
        Some(text) => Some(
            state
                .app
                .phi
                .search_term(org, text)
                .ok_or_else(|| ApiError::BadRequest("q must not be blank".into()))?,
        ),
        None => None,
    };
    let filter = Filter {
        team: q
            .team
            .as_deref()
            .map(TeamId::parse)
            .transpose()
            .map_err(|_| ApiError::BadRequest("team is not a team id".into()))?,
        term,
        sex: q.sex.as_deref().map(app::check_sex).transpose()?,
        sport: q.sport.as_deref().map(app::check_sport).transpose()?,
        archived: match q.archived.as_deref() {
            None if q.updated_since.is_some() => Archived::Include,
            None | Some("exclude") => Archived::Exclude,
            Some("only") => Archived::Only,
            Some("include") => Archived::Include,
            Some(_) => {
                return Err(ApiError::BadRequest(
                    "archived must be exclude, only or include".into(),
                ));
            }
        },
        ids: None,
    };
    let listing = Listing {
        filter,
        page: Page {
            after: after_of(&q)?,
            limit: q.limit.unwrap_or(100).clamp(1, 500),
        },
        newest_first,
        with_risk_bands: false,
    };
    render_listing(&state, &grant, listing, q.updated_since.as_deref()).await
}

/// A page of `listing`, or with `updated_since` the subjects of it that changed since.
async fn render_listing(
    state: &AppState,
    grant: &Grant,
    mut listing: Listing,
    updated_since: Option<&str>,
) -> Result<Json<PageOut<SubjectOut>>, ApiError> {
    let Some(cursor) = updated_since else {
        return render_page(state, grant, &listing).await;
    };
    // At most a page's worth of changes, so that every changed subject fits the page.
    let since = changes_since(
        state,
        grant,
        cursor,
        "subject",
        listing.page.limit,
        listing.page.after.is_some(),
    )
    .await?;
    let ids = since
        .changed
        .iter()
        .filter_map(|id| SubjectId::parse(id).ok())
        .collect();
    listing.filter.ids = Some(ids);
    let page = app::list(
        &state.app,
        &grant.org()?,
        &grant.caller(),
        identifiers_for(grant),
        &listing,
    )
    .await?;
    Ok(Json(PageOut::changes(
        page.items.into_iter().map(SubjectOut::from).collect(),
        since,
    )))
}

/// `GET /api/v1/orgs/{org}/teams/{team}/subjects`: a team's roster with availability and each
/// athlete's latest risk band, for its staff (coaches reach only the teams they coach: the
/// gate answers 404 for others).
pub async fn list_team(
    State(state): State<AppState>,
    grant: Grant,
    Path((_, team)): Path<(String, String)>,
    Query(q): Query<ListQuery>,
) -> Result<Json<PageOut<SubjectOut>>, ApiError> {
    let team = path_id(&team, "team", TeamId::parse)?;
    let listing = Listing {
        filter: Filter {
            team: Some(team),
            ..Filter::default()
        },
        page: Page {
            after: after_of(&q)?,
            limit: q.limit.unwrap_or(100).clamp(1, 500),
        },
        newest_first: false,
        with_risk_bands: true,
    };
    render_listing(&state, &grant, listing, q.updated_since.as_deref()).await
}

async fn render_page(
    state: &AppState,
    grant: &Grant,
    listing: &Listing,
) -> Result<Json<PageOut<SubjectOut>>, ApiError> {
    let page = app::list(
        &state.app,
        &grant.org()?,
        &grant.caller(),
        identifiers_for(grant),
        listing,
    )
    .await?;
    Ok(Json(PageOut::page(
        page.items.into_iter().map(SubjectOut::from).collect(),
        page.next.map(|s| s.to_string()),
    )))
}

/// `GET /api/v1/orgs/{org}/subjects/{subject}` (archived subjects too: history stays).
pub async fn get(
    State(state): State<AppState>,
    grant: Grant,
    Path((_, id)): Path<(String, String)>,
) -> Result<Json<SubjectOut>, ApiError> {
    let id = path_id(&id, "subject", SubjectId::parse)?;
    let view = app::get(&state.app, &grant.org()?, &grant.caller(), id).await?;
    Ok(Json(view.into()))
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SubjectPatch {
    name: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    birth_date: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    external_id: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schemars(schema_with = "super::sets::maybe::<super::sets::SexSet>")]
    sex: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    sport: Option<Option<String>>,
}

/// `PATCH /api/v1/orgs/{org}/subjects/{subject}`: fields given replace, `null` clears.
pub async fn update(
    State(state): State<AppState>,
    grant: Grant,
    Path((_, id)): Path<(String, String)>,
    ApiJson(patch): ApiJson<SubjectPatch>,
) -> Result<Json<SubjectOut>, ApiError> {
    let id = path_id(&id, "subject", SubjectId::parse)?;
    let changes = SubjectChanges {
        name: patch.name,
        birth_date: patch.birth_date,
        external_id: patch.external_id,
        sex: patch.sex,
        sport: patch.sport,
    };
    let view = app::update(&state.app, &grant.org()?, &grant.caller(), id, &changes).await?;
    Ok(Json(view.into()))
}

/// `DELETE /api/v1/orgs/{org}/subjects/{subject}`: archives (history kept).
pub async fn archive(
    State(state): State<AppState>,
    grant: Grant,
    Path((_, id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let id = path_id(&id, "subject", SubjectId::parse)?;
    app::archive(&state.app, &grant.org()?, &grant.caller(), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `PUT /api/v1/orgs/{org}/teams/{team}/subjects/{subject}`: puts a subject on a team's
/// roster. Idempotent.
pub async fn add_to_team(
    State(state): State<AppState>,
    grant: Grant,
    Path((_, team, id)): Path<(String, String, String)>,
) -> Result<StatusCode, ApiError> {
    let team = path_id(&team, "team", TeamId::parse)?;
    let id = path_id(&id, "subject", SubjectId::parse)?;
    app::add_to_team(&state.app, &grant.org()?, &grant.caller(), team, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// What an erasure did.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct ErasureOut {
    /// The erased subject.
    pub subject_id: String,
    /// Key versions destroyed in the key store (0 when a background sweep finishes the job).
    pub keys_destroyed: u64,
    /// Raw recordings removed from the object store.
    pub raw_objects_deleted: u64,
}

/// `POST /api/v1/orgs/{org}/subjects/{subject}/erase`: erases a subject for good. The row is
/// marked erased (out of every listing, team and search) with its audit event in one
/// transaction; then the subject's key is destroyed, so its identifiers, notes and raw signals
/// can never be read again, in this database or in any backup of it; then the raw files go.
pub async fn erase(
    State(state): State<AppState>,
    grant: Grant,
    Path((_, id)): Path<(String, String)>,
) -> Result<Json<ErasureOut>, ApiError> {
    let id = path_id(&id, "subject", SubjectId::parse)?;
    let done = mhp_app::subjects::erase(&state.app, &grant.org()?, &grant.caller(), id).await?;
    let mhp_app::subjects::Erasure {
        keys_destroyed,
        raw_objects_deleted,
    } = done;
    Ok(Json(ErasureOut {
        subject_id: id.to_string(),
        keys_destroyed,
        raw_objects_deleted,
    }))
}
