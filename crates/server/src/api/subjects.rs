//! Subjects: the athletes and service members of an organisation. Identifiers are sealed on
//! the way in and opened on the way out; every read of them is audited before it is answered
//! (a roster reads in a read transaction and records the read in a short write transaction
//! that commits before the answer); search goes through blind indexes.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use mhp_domain::availability::Availability;
use mhp_domain::{CalendarDate, DisplayName, OrgId, Sex, SubjectId, TeamId};
use mhp_storage::repo::subjects::{self, Archived, Filter, NewSubject, Subject};
use mhp_storage::repo::{Page, injuries, risk, teams};
use mhp_storage::{Access, TenantTx};
use serde::{Deserialize, Serialize};

use super::{Grant, date_field, double_option, path_id};
use crate::{ApiError, ApiJson, AppState};
use mhp_app::phi::{FieldAt, Phi, SubjectPhi};

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

/// A page of a listing and the cursor of the next one.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct PageOut<T> {
    pub items: Vec<T>,
    pub next: Option<String>,
}

fn at<'a>(org: OrgId, column: &'a str, row: &'a str) -> FieldAt<'a> {
    FieldAt {
        org,
        table: "subjects",
        column,
        row,
    }
}

/// Which identifiers of a subject a caller sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Identifiers {
    /// Name, birth date and external id (callers who may read clinical records).
    All,
    /// The name only: staff who see readiness, not records (coaches, commanders).
    NameOnly,
}

impl Identifiers {
    /// What `grant` may see.
    pub(crate) fn for_grant(grant: &Grant) -> Self {
        if grant.allows(mhp_domain::Permission::ReadClinical) {
            Identifiers::All
        } else {
            Identifiers::NameOnly
        }
    }
}

/// Opens a stored subject for the API (all identifiers).
pub(crate) async fn open(
    phi: &Phi,
    org: OrgId,
    s: &Subject,
    availability: &'static str,
) -> Result<SubjectOut, ApiError> {
    open_as(phi, org, s, availability, Identifiers::All).await
}

/// Opens a stored subject with the identifiers `shown`; the others are not even unsealed.
pub(crate) async fn open_as(
    phi: &Phi,
    org: OrgId,
    s: &Subject,
    availability: &'static str,
    shown: Identifiers,
) -> Result<SubjectOut, ApiError> {
    if s.erased_at.is_some() {
        return Err(ApiError::Gone("subject"));
    }
    let row = s.id.to_string();
    let phi = phi.for_read(org, s.id).await?;
    let all = shown == Identifiers::All;
    Ok(SubjectOut {
        name: phi.open(at(org, "name", &row), &s.name)?,
        birth_date: if all {
            phi.open_opt(at(org, "birth_date", &row), s.birth_date.as_ref())?
        } else {
            None
        },
        external_id: if all {
            phi.open_opt(at(org, "external_id", &row), s.external_id.as_ref())?
        } else {
            None
        },
        id: row,
        pseudonym: s.pseudonym.clone(),
        sex: s.sex.map(Sex::as_str),
        sport: s.sport.clone(),
        availability,
        created_at_ms: s.created_at.as_millis(),
        updated_at_ms: s.updated_at.as_millis(),
        archived_at_ms: s.archived_at.map(|t| t.as_millis()),
        risk_band: None,
    })
}

/// The fields of a subject, checked.
struct Fields {
    name: String,
    birth_date: Option<CalendarDate>,
    external_id: Option<String>,
    sex: Option<Sex>,
    sport: Option<String>,
}

fn check_external_id(text: &str) -> Result<String, ApiError> {
    let t = text.trim();
    if t.is_empty() || t.chars().count() > 64 || t.chars().any(char::is_control) {
        return Err(ApiError::BadRequest(
            "external_id must be 1 to 64 characters without control characters".into(),
        ));
    }
    Ok(t.to_owned())
}

fn check_sport(text: &str) -> Result<String, ApiError> {
    let t = text.trim().to_lowercase();
    let ok = !t.is_empty()
        && t.len() <= 40
        && t.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | ' '));
    if !ok {
        return Err(ApiError::BadRequest(
            "sport must be 1 to 40 letters, digits, spaces, '-' or '_'".into(),
        ));
    }
    Ok(t)
}

fn check_sex(text: &str) -> Result<Sex, ApiError> {
    Sex::parse(text)
        .ok_or_else(|| ApiError::BadRequest("sex must be female, male, other or unknown".into()))
}

fn check_name(text: &str) -> Result<String, ApiError> {
    DisplayName::parse(text)
        .map(|n| n.to_string())
        .map_err(|e| ApiError::BadRequest(format!("name {e}")))
}

fn check_birth_date(
    state: &AppState,
    text: Option<&str>,
) -> Result<Option<CalendarDate>, ApiError> {
    let date = date_field("birth_date", text)?;
    let today = CalendarDate::from_unix_millis(state.app.clock.now().as_millis());
    if date.is_some_and(|d| d > today) {
        return Err(ApiError::Invalid {
            code: "invalid-date",
            detail: "birth_date is in the future".into(),
        });
    }
    Ok(date)
}

/// Seals checked fields for storage.
fn seal(
    phi: &Phi,
    sealer: &SubjectPhi<'_>,
    org: OrgId,
    id: SubjectId,
    f: &Fields,
) -> Result<NewSubject, ApiError> {
    let row = id.to_string();
    Ok(NewSubject {
        name: sealer.seal(at(org, "name", &row), &f.name)?,
        birth_date: f
            .birth_date
            .map(|d| sealer.seal(at(org, "birth_date", &row), &d.to_string()))
            .transpose()?,
        external_id: f
            .external_id
            .as_deref()
            .map(|e| sealer.seal(at(org, "external_id", &row), e))
            .transpose()?,
        sex: f.sex,
        sport: f.sport.clone(),
        user: None,
        search: phi.subject_keys(org, &f.name, f.external_id.as_deref()),
    })
}

fn conflict_on_external_id(e: mhp_storage::StorageError) -> ApiError {
    match e {
        mhp_storage::StorageError::Conflict { .. } => {
            ApiError::Conflict("a subject with this external_id")
        }
        e => e.into(),
    }
}

/// Availability of subjects today: the worst of what their injuries allow
/// (`mhp_domain::availability`, the rule the risk pipelines use too): `unavailable`,
/// `modified_duty`, `full_training`, `available`. Subjects without a restriction are left out.
pub(crate) async fn availability_map(
    tx: &mut TenantTx,
    state: &AppState,
) -> Result<std::collections::HashMap<SubjectId, &'static str>, ApiError> {
    let today = CalendarDate::from_unix_millis(state.app.clock.now().as_millis());
    let courses = injuries::courses_on(tx, &today.to_string()).await?;
    let day = today.days_since_epoch();
    let mut worst: std::collections::HashMap<SubjectId, Availability> =
        std::collections::HashMap::new();
    for row in &courses {
        let Some(course) = row.course() else {
            continue;
        };
        let a = course.state_on(day).availability();
        let e = worst.entry(row.subject).or_insert(Availability::Available);
        *e = (*e).max(a);
    }
    Ok(worst
        .into_iter()
        .filter(|(_, a)| *a != Availability::Available)
        .map(|(s, a)| (s, a.as_str()))
        .collect())
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
    let fields = Fields {
        name: check_name(&body.name)?,
        birth_date: check_birth_date(&state, body.birth_date.as_deref())?,
        external_id: body
            .external_id
            .as_deref()
            .map(check_external_id)
            .transpose()?,
        sex: body.sex.as_deref().map(check_sex).transpose()?,
        sport: body.sport.as_deref().map(check_sport).transpose()?,
    };
    let team_ids = body
        .team_ids
        .iter()
        .map(|t| {
            TeamId::parse(t)
                .map_err(|_| ApiError::BadRequest("team_ids holds a malformed id".into()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let scope = grant.org()?;
    let org = scope.org();
    let id = SubjectId::new();
    // The subject's key is made first, in the key store: a failed insert below leaves only an
    // unused key behind.
    let sealer = state.app.phi.for_write(org, id).await?;
    let new = seal(&state.app.phi, &sealer, org, id, &fields)?;
    let now = state.app.clock.now();
    let mut tx = state.app.db.tenant(&scope, Access::Write).await?;
    let subject = subjects::create_with_id(&mut tx, id, new, now)
        .await
        .map_err(conflict_on_external_id)?;
    for team in team_ids {
        teams::get(&mut tx, team).await?;
        subjects::add_to_team(&mut tx, team, id, now).await?;
    }
    grant
        .record(
            &mut tx,
            "subject.create",
            "subject",
            Some(id.to_string()),
            now,
        )
        .await?;
    let out = open(&state.app.phi, org, &subject, "available").await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(out)))
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    after: Option<String>,
    limit: Option<u32>,
    team: Option<String>,
    q: Option<String>,
    #[serde(default)]
    #[schemars(schema_with = "super::sets::maybe::<super::sets::SexSet>")]
    sex: Option<String>,
    sport: Option<String>,
    archived: Option<String>,
    sort: Option<String>,
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
    let after = q
        .after
        .as_deref()
        .map(SubjectId::parse)
        .transpose()
        .map_err(|_| ApiError::BadRequest("after is not a subject id".into()))?;
    let limit = q.limit.unwrap_or(100).clamp(1, 500);
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
        sex: q.sex.as_deref().map(check_sex).transpose()?,
        sport: q.sport.as_deref().map(check_sport).transpose()?,
        archived: match q.archived.as_deref() {
            None | Some("exclude") => Archived::Exclude,
            Some("only") => Archived::Only,
            Some("include") => Archived::Include,
            Some(_) => {
                return Err(ApiError::BadRequest(
                    "archived must be exclude, only or include".into(),
                ));
            }
        },
    };
    list_page(&state, &grant, filter, Page { after, limit }, newest_first).await
}

/// `GET /api/v1/orgs/{org}/teams/{team}/subjects`: a team's roster with availability, for
/// its staff (coaches reach only the teams they coach: the gate answers 404 for others).
pub async fn list_team(
    State(state): State<AppState>,
    grant: Grant,
    Path((_, team)): Path<(String, String)>,
    Query(q): Query<ListQuery>,
) -> Result<Json<PageOut<SubjectOut>>, ApiError> {
    // The gate answered 404 for a team outside the caller's reach.
    let team = path_id(&team, "team", TeamId::parse)?;
    let after = q
        .after
        .as_deref()
        .map(SubjectId::parse)
        .transpose()
        .map_err(|_| ApiError::BadRequest("after is not a subject id".into()))?;
    let filter = Filter {
        team: Some(team),
        ..Filter::default()
    };
    let page = Page {
        after,
        limit: q.limit.unwrap_or(100).clamp(1, 500),
    };
    {
        let mut tx = state.app.db.tenant(&grant.org()?, Access::Read).await?;
        teams::get(&mut tx, team).await?;
    }
    list_page(&state, &grant, filter, page, false).await
}

async fn list_page(
    state: &AppState,
    grant: &Grant,
    filter: Filter,
    page: Page<SubjectId>,
    newest_first: bool,
) -> Result<Json<PageOut<SubjectOut>>, ApiError> {
    let scope = grant.org()?;
    let org = scope.org();
    let now = state.app.clock.now();
    // Read (concurrently with other readers), open the identifiers, then record the read in a
    // short write transaction of its own that commits before anything is answered: every
    // answer that carries identifiers has its audit and a failed audit write fails the
    // request, without holding the single writer's lock while rows are read and opened.
    let (found, availability, bands) = {
        let mut tx = state.app.db.tenant(&scope, Access::Read).await?;
        let found = subjects::search(&mut tx, &filter, page, newest_first).await?;
        let availability = availability_map(&mut tx, state).await?;
        // A team roster carries each athlete's latest risk band: what staff act on.
        let bands: HashMap<SubjectId, String> = if filter.team.is_some() {
            risk::latest(&mut tx)
                .await?
                .into_iter()
                .map(|score| (score.subject, score.band))
                .collect()
        } else {
            HashMap::new()
        };
        (found, availability, bands)
    };
    let shown = Identifiers::for_grant(grant);
    let mut items = Vec::with_capacity(found.len());
    for s in &found {
        let a = availability.get(&s.id).copied().unwrap_or("available");
        let mut out = open_as(&state.app.phi, org, s, a, shown).await?;
        out.risk_band = bands.get(&s.id).cloned();
        items.push(out);
    }
    let next = (found.len() == page.limit.clamp(1, 500) as usize)
        .then(|| found.last().map(|s| s.id.to_string()))
        .flatten();
    // Opening identifiers is a PHI read: one event per listing.
    let mut tx = state.app.db.tenant(&scope, Access::Write).await?;
    grant
        .record(&mut tx, "subject.list", "subject", None, now)
        .await?;
    tx.commit().await?;
    Ok(Json(PageOut { items, next }))
}

/// `GET /api/v1/orgs/{org}/subjects/{subject}` (archived subjects too: history stays).
pub async fn get(
    State(state): State<AppState>,
    grant: Grant,
    Path((_, id)): Path<(String, String)>,
) -> Result<Json<SubjectOut>, ApiError> {
    let id = path_id(&id, "subject", SubjectId::parse)?;
    let scope = grant.org()?;
    let now = state.app.clock.now();
    let mut tx = state.app.db.tenant(&scope, Access::Write).await?;
    let s = subjects::get_including_archived(&mut tx, id).await?;
    let availability = availability_map(&mut tx, &state).await?;
    let out = open(
        &state.app.phi,
        scope.org(),
        &s,
        availability.get(&id).copied().unwrap_or("available"),
    )
    .await?;
    grant
        .record(
            &mut tx,
            "subject.read",
            "subject",
            Some(id.to_string()),
            now,
        )
        .await?;
    tx.commit().await?;
    Ok(Json(out))
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
    let scope = grant.org()?;
    let org = scope.org();
    let now = state.app.clock.now();
    let mut tx = state.app.db.tenant(&scope, Access::Write).await?;
    let current = subjects::get(&mut tx, id).await?;
    let row = id.to_string();
    let phi = state.app.phi.for_write(org, id).await?;
    let fields = Fields {
        name: match &patch.name {
            Some(n) => check_name(n)?,
            None => phi.open(at(org, "name", &row), &current.name)?,
        },
        birth_date: match &patch.birth_date {
            Some(v) => check_birth_date(&state, v.as_deref())?,
            None => phi
                .open_opt(at(org, "birth_date", &row), current.birth_date.as_ref())?
                .map(|d| CalendarDate::parse(&d))
                .transpose()
                .map_err(|_| ApiError::Internal("a stored birth date does not parse".into()))?,
        },
        external_id: match &patch.external_id {
            Some(v) => v.as_deref().map(check_external_id).transpose()?,
            None => phi.open_opt(at(org, "external_id", &row), current.external_id.as_ref())?,
        },
        sex: match &patch.sex {
            Some(v) => v.as_deref().map(check_sex).transpose()?,
            None => current.sex,
        },
        sport: match &patch.sport {
            Some(v) => v.as_deref().map(check_sport).transpose()?,
            None => current.sport.clone(),
        },
    };
    let new = seal(&state.app.phi, &phi, org, id, &fields)?;
    let updated = subjects::update(&mut tx, id, new, now)
        .await
        .map_err(conflict_on_external_id)?;
    let availability = availability_map(&mut tx, &state).await?;
    let out = open(
        &state.app.phi,
        org,
        &updated,
        availability.get(&id).copied().unwrap_or("available"),
    )
    .await?;
    grant
        .record(&mut tx, "subject.update", "subject", Some(row), now)
        .await?;
    tx.commit().await?;
    Ok(Json(out))
}

/// `DELETE /api/v1/orgs/{org}/subjects/{subject}`: archives (history kept).
pub async fn archive(
    State(state): State<AppState>,
    grant: Grant,
    Path((_, id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let id = path_id(&id, "subject", SubjectId::parse)?;
    let now = state.app.clock.now();
    let mut tx = state.app.db.tenant(&grant.org()?, Access::Write).await?;
    subjects::archive(&mut tx, id, now).await?;
    grant
        .record(
            &mut tx,
            "subject.archive",
            "subject",
            Some(id.to_string()),
            now,
        )
        .await?;
    tx.commit().await?;
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
    let now = state.app.clock.now();
    let mut tx = state.app.db.tenant(&grant.org()?, Access::Write).await?;
    teams::get(&mut tx, team).await?;
    subjects::get(&mut tx, id).await?;
    subjects::add_to_team(&mut tx, team, id, now).await?;
    grant
        .record(
            &mut tx,
            "team.subject_add",
            "team",
            Some(team.to_string()),
            now,
        )
        .await?;
    tx.commit().await?;
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
