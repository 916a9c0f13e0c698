//! Subjects: the athletes and service members of an organisation, and the use cases that act
//! on a person's whole record. Identifiers are sealed on the way in and opened on the way out;
//! every read of them is audited before it is answered (a listing reads in a read transaction
//! and records the read in a short write transaction that commits before the caller sees
//! anything); search goes through blind indexes.

use std::collections::HashMap;

use mhp_domain::availability::Availability;
use mhp_domain::{CalendarDate, DisplayName, OrgId, OrgScope, Sex, SubjectId, TeamId, Timestamp};
use mhp_storage::repo::assessments::{self, Assessment};
use mhp_storage::repo::subjects::{Filter, NewSubject, Subject};
use mhp_storage::repo::{Page, injuries, risk, subjects, teams};
use mhp_storage::{Access, ObjectKey, StorageError, TenantTx};

use crate::phi::{FieldAt, Phi, SubjectPhi};
use crate::{App, AppError, Caller};

/// A subject as a person sees it: the identifiers they may see, opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubjectView {
    /// The subject.
    pub id: SubjectId,
    /// The clinical pseudonym.
    pub pseudonym: String,
    /// The name.
    pub name: String,
    /// The birth date, for those who may read clinical records.
    pub birth_date: Option<CalendarDate>,
    /// The organisation's own identifier, for those who may read clinical records.
    pub external_id: Option<String>,
    /// Sex.
    pub sex: Option<Sex>,
    /// Sport or unit speciality.
    pub sport: Option<String>,
    /// What their injuries allow today.
    pub availability: Availability,
    /// When the record was made.
    pub created_at: Timestamp,
    /// When it last changed.
    pub updated_at: Timestamp,
    /// When it was archived.
    pub archived_at: Option<Timestamp>,
    /// The latest injury-risk band, on team rosters.
    pub risk_band: Option<String>,
}

/// Which identifiers of a subject a caller sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Identifiers {
    /// Name, birth date and external id (callers who may read clinical records).
    All,
    /// The name only: staff who see readiness, not records (coaches, commanders).
    NameOnly,
}

fn at<'a>(org: OrgId, column: &'a str, row: &'a str) -> FieldAt<'a> {
    FieldAt {
        org,
        table: "subjects",
        column,
        row,
    }
}

/// Opens a stored subject with the identifiers `shown`; the others are not even unsealed. An
/// erased subject is [`AppError::Gone`].
pub async fn open(
    phi: &Phi,
    org: OrgId,
    s: &Subject,
    availability: Availability,
    shown: Identifiers,
) -> Result<SubjectView, AppError> {
    if s.erased_at.is_some() {
        return Err(AppError::Gone("subject"));
    }
    let row = s.id.to_string();
    let phi = phi.for_read(org, s.id).await?;
    let all = shown == Identifiers::All;
    let birth_date = if all {
        phi.open_opt(at(org, "birth_date", &row), s.birth_date.as_ref())?
            .map(|d| CalendarDate::parse(&d))
            .transpose()
            .map_err(|_| AppError::internal("a stored birth date does not parse"))?
    } else {
        None
    };
    Ok(SubjectView {
        name: phi.open(at(org, "name", &row), &s.name)?,
        birth_date,
        external_id: if all {
            phi.open_opt(at(org, "external_id", &row), s.external_id.as_ref())?
        } else {
            None
        },
        id: s.id,
        pseudonym: s.pseudonym.clone(),
        sex: s.sex,
        sport: s.sport.clone(),
        availability,
        created_at: s.created_at,
        updated_at: s.updated_at,
        archived_at: s.archived_at,
        risk_band: None,
    })
}

/// A subject's fields as entered (an API body, a form), before they are checked.
#[derive(Debug, Clone, Default)]
pub struct SubjectDraft {
    /// The name.
    pub name: String,
    /// `YYYY-MM-DD`.
    pub birth_date: Option<String>,
    /// The organisation's own identifier.
    pub external_id: Option<String>,
    /// `female`, `male`, `other` or `unknown`.
    pub sex: Option<String>,
    /// Sport or unit speciality.
    pub sport: Option<String>,
}

/// Changes to a subject as entered: `None` keeps a field, `Some(None)` clears it.
#[derive(Debug, Clone, Default)]
pub struct SubjectChanges {
    /// A new name.
    pub name: Option<String>,
    /// A new birth date, or none.
    pub birth_date: Option<Option<String>>,
    /// A new external id, or none.
    pub external_id: Option<Option<String>>,
    /// A new sex, or none.
    pub sex: Option<Option<String>>,
    /// A new sport, or none.
    pub sport: Option<Option<String>>,
}

/// The fields of a subject, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubjectFields {
    name: String,
    birth_date: Option<CalendarDate>,
    external_id: Option<String>,
    sex: Option<Sex>,
    sport: Option<String>,
}

impl SubjectFields {
    /// Checks a draft; `today` bounds the birth date.
    pub fn check(draft: &SubjectDraft, today: CalendarDate) -> Result<Self, AppError> {
        Ok(Self {
            name: check_name(&draft.name)?,
            birth_date: check_birth_date(draft.birth_date.as_deref(), today)?,
            external_id: draft
                .external_id
                .as_deref()
                .map(check_external_id)
                .transpose()?,
            sex: draft.sex.as_deref().map(check_sex).transpose()?,
            sport: draft.sport.as_deref().map(check_sport).transpose()?,
        })
    }
}

fn check_external_id(text: &str) -> Result<String, AppError> {
    let t = text.trim();
    if t.is_empty() || t.chars().count() > 64 || t.chars().any(char::is_control) {
        return Err(AppError::malformed(
            "external_id must be 1 to 64 characters without control characters",
        ));
    }
    Ok(t.to_owned())
}

/// Checks a sport: 1 to 40 letters, digits, spaces, '-' or '_', lower-cased.
pub fn check_sport(text: &str) -> Result<String, AppError> {
    let t = text.trim().to_lowercase();
    let ok = !t.is_empty()
        && t.len() <= 40
        && t.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | ' '));
    if !ok {
        return Err(AppError::malformed(
            "sport must be 1 to 40 letters, digits, spaces, '-' or '_'",
        ));
    }
    Ok(t)
}

/// Checks a sex.
pub fn check_sex(text: &str) -> Result<Sex, AppError> {
    Sex::parse(text)
        .ok_or_else(|| AppError::malformed("sex must be female, male, other or unknown"))
}

fn check_name(text: &str) -> Result<String, AppError> {
    DisplayName::parse(text)
        .map(|n| n.to_string())
        .map_err(|e| AppError::malformed(format!("name {e}")))
}

fn check_birth_date(
    text: Option<&str>,
    today: CalendarDate,
) -> Result<Option<CalendarDate>, AppError> {
    let date = text
        .map(|t| {
            CalendarDate::parse(t)
                .map_err(|e| AppError::invalid(crate::Code::InvalidDate, format!("birth_date {e}")))
        })
        .transpose()?;
    if date.is_some_and(|d| d > today) {
        return Err(AppError::invalid(
            crate::Code::InvalidDate,
            "birth_date is in the future",
        ));
    }
    Ok(date)
}

/// Seals checked fields for storage.
fn seal(
    phi: &Phi,
    sealer: &SubjectPhi<'_>,
    org: OrgId,
    id: SubjectId,
    f: &SubjectFields,
) -> Result<NewSubject, AppError> {
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

fn conflict_on_external_id(e: StorageError) -> AppError {
    match e {
        StorageError::Conflict { .. } => AppError::Conflict("a subject with this external_id"),
        e => e.into(),
    }
}

fn ids_of(found: &[Subject]) -> Vec<SubjectId> {
    found.iter().map(|s| s.id).collect()
}

/// Availability of the organisation's subjects on `today`: the worst of what their injuries
/// allow (`mhp_domain::availability`, the rule the risk pipelines use too). Subjects without
/// a restriction are left out.
pub async fn availability_on(
    tx: &mut TenantTx,
    today: CalendarDate,
) -> Result<HashMap<SubjectId, Availability>, AppError> {
    let courses = injuries::courses_on(tx, &today.to_string()).await?;
    Ok(availability_of(&courses, today))
}

/// What the injuries' courses leave each subject today: only those not available.
fn availability_of(
    courses: &[injuries::CourseRow],
    today: CalendarDate,
) -> HashMap<SubjectId, Availability> {
    let day = today.days_since_epoch();
    let mut worst: HashMap<SubjectId, Availability> = HashMap::new();
    for row in courses {
        let Some(course) = row.course() else {
            continue;
        };
        let a = course.state_on(day).availability();
        let e = worst.entry(row.subject).or_insert(Availability::Available);
        *e = (*e).max(a);
    }
    worst.retain(|_, a| *a != Availability::Available);
    worst
}

/// Opens one stored subject, with what their injuries allow today.
pub async fn open_today(
    app: &App,
    tx: &mut TenantTx,
    s: &Subject,
    shown: Identifiers,
) -> Result<SubjectView, AppError> {
    let availability = availability_on(tx, app.today())
        .await?
        .get(&s.id)
        .copied()
        .unwrap_or(Availability::Available);
    open(&app.phi, tx.org(), s, availability, shown).await
}

/// What a listing asks for.
#[derive(Debug, Clone)]
pub struct Listing {
    /// Which subjects.
    pub filter: Filter,
    /// Where the page starts and how long it is.
    pub page: Page<SubjectId>,
    /// Newest first (else oldest first).
    pub newest_first: bool,
    /// With each subject's latest risk band (team rosters: what staff act on).
    pub with_risk_bands: bool,
}

/// A page of subjects and the cursor of the next one.
#[derive(Debug, Clone)]
pub struct SubjectPage {
    /// The subjects.
    pub items: Vec<SubjectView>,
    /// Where the next page starts, when there is one.
    pub next: Option<SubjectId>,
}

/// Makes a subject, puts them on `teams`, and records it; answers the subject as stored.
pub async fn create(
    app: &App,
    scope: &OrgScope,
    caller: &Caller,
    fields: &SubjectFields,
    teams: &[TeamId],
) -> Result<SubjectView, AppError> {
    let org = scope.org();
    let id = SubjectId::new();
    // The subject's key is made first, in the key store: a failed insert below leaves only an
    // unused key behind.
    let sealer = app.phi.for_write(org, id).await?;
    let new = seal(&app.phi, &sealer, org, id, fields)?;
    let now = app.now();
    let mut tx = app.db.tenant(scope, Access::Write).await?;
    let subject = subjects::create_with_id(&mut tx, id, new, now)
        .await
        .map_err(conflict_on_external_id)?;
    for team in teams {
        teams::get(&mut tx, *team).await?;
        subjects::add_to_team(&mut tx, *team, id, now).await?;
    }
    caller
        .record(
            &mut tx,
            "subject.create",
            "subject",
            Some(id.to_string()),
            now,
        )
        .await?;
    let out = open(
        &app.phi,
        org,
        &subject,
        Availability::Available,
        Identifiers::All,
    )
    .await?;
    tx.commit().await?;
    Ok(out)
}

/// The columns of a subjects import (`teams`: team ids separated by `;`).
pub const IMPORT_COLUMNS: &[&str] = &["name", "external_id", "birth_date", "sex", "sport", "teams"];

/// Imports subjects (CSV or NDJSON, [`IMPORT_COLUMNS`]): every row is checked as a single
/// subject is (and external ids once in the file); when any row cannot be taken, nothing is
/// stored and every such row is reported by number; otherwise all are made, put on their
/// teams and recorded in one transaction. Returns the new subjects' ids in row order.
pub async fn import(
    app: &App,
    scope: &OrgScope,
    caller: &Caller,
    format: crate::import::Format,
    body: &[u8],
) -> Result<Result<Vec<SubjectId>, Vec<crate::import::RowError>>, AppError> {
    use crate::import::RowError;
    let (rows, mut errors) = crate::import::rows(format, body, IMPORT_COLUMNS)?;
    let today = app.today();
    let mut checked = Vec::new();
    let mut external_ids = std::collections::HashSet::new();
    for (row, f) in rows {
        let draft = SubjectDraft {
            name: f.get("name").cloned().unwrap_or_default(),
            birth_date: f.get("birth_date").cloned(),
            external_id: f.get("external_id").cloned(),
            sex: f.get("sex").cloned(),
            sport: f.get("sport").cloned(),
        };
        let fields = match SubjectFields::check(&draft, today) {
            Ok(fields) => fields,
            Err(AppError::Malformed(detail) | AppError::Invalid { detail, .. }) => {
                errors.push(RowError { row, error: detail });
                continue;
            }
            Err(e) => return Err(e),
        };
        if let Some(e) = &fields.external_id
            && !external_ids.insert(e.clone())
        {
            errors.push(RowError {
                row,
                error: "external_id is given to an earlier row too".into(),
            });
            continue;
        }
        let teams = f
            .get("teams")
            .map(|t| {
                t.split(';')
                    .map(str::trim)
                    .filter(|t| !t.is_empty())
                    .map(TeamId::parse)
                    .collect::<Result<Vec<_>, _>>()
            })
            .transpose();
        match teams {
            Ok(teams) => checked.push((row, fields, teams.unwrap_or_default())),
            Err(_) => errors.push(RowError {
                row,
                error: "teams holds a malformed team id".into(),
            }),
        }
    }
    if !errors.is_empty() {
        errors.sort_by_key(|e| e.row);
        return Ok(Err(errors));
    }
    let org = scope.org();
    // Keys first, in the key store (as for one subject): a refused import leaves unused keys.
    let mut sealed = Vec::with_capacity(checked.len());
    for (row, fields, teams) in &checked {
        let id = SubjectId::new();
        let sealer = app.phi.for_write(org, id).await?;
        sealed.push((*row, id, seal(&app.phi, &sealer, org, id, fields)?, teams));
    }
    let now = app.now();
    let mut tx = app.db.tenant(scope, Access::Write).await?;
    let mut ids = Vec::with_capacity(sealed.len());
    for (row, id, new, team_ids) in sealed {
        match subjects::create_with_id(&mut tx, id, new, now).await {
            Ok(_) => {}
            Err(StorageError::Conflict { .. }) => {
                // Nothing is stored: the transaction is dropped with the first such row.
                return Ok(Err(vec![RowError {
                    row,
                    error: "a subject with this external_id exists".into(),
                }]));
            }
            Err(e) => return Err(e.into()),
        }
        for team in team_ids {
            match teams::get(&mut tx, *team).await {
                Ok(_) => {}
                Err(StorageError::NotFound { .. }) => {
                    return Ok(Err(vec![RowError {
                        row,
                        error: "teams names a team the organisation does not have".into(),
                    }]));
                }
                Err(e) => return Err(e.into()),
            }
            subjects::add_to_team(&mut tx, *team, id, now).await?;
        }
        caller
            .record(
                &mut tx,
                "subject.create",
                "subject",
                Some(id.to_string()),
                now,
            )
            .await?;
        ids.push(id);
    }
    tx.commit().await?;
    Ok(Ok(ids))
}

/// A page of subjects with the identifiers `shown`. The rows are read (beside other readers)
/// and opened, then the read is recorded ([`Caller::record_read`]) and its event commits
/// before anything is returned: every answer that carries identifiers has its audit event,
/// and the single writer's lock is not held while rows are read and opened.
pub async fn list(
    app: &App,
    scope: &OrgScope,
    caller: &Caller,
    shown: Identifiers,
    listing: &Listing,
) -> Result<SubjectPage, AppError> {
    let org = scope.org();
    let now = app.now();
    let today = app.today();
    let day = today.to_string();
    // The page, the injuries' courses and (when asked) the page's newest scores, in one snapshot.
    let (found, courses, scores) = if let Some(mut read) = app.db.direct_read(scope)? {
        // SQLite: the same reads on this thread (mhp_storage::direct).
        if let Some(team) = listing.filter.team {
            teams::get_direct(&mut read, team)?;
        }
        let found = subjects::search_direct(
            &mut read,
            &listing.filter,
            listing.page,
            listing.newest_first,
        )?;
        let courses = injuries::courses_on_direct(&mut read, &day)?;
        let scores = if listing.with_risk_bands {
            risk::latest_of_direct(&mut read, &ids_of(&found))?
        } else {
            Vec::new()
        };
        (found, courses, scores)
    } else {
        let mut tx = app.db.tenant(scope, Access::Read).await?;
        if let Some(team) = listing.filter.team {
            teams::get(&mut tx, team).await?;
        }
        let found =
            subjects::search(&mut tx, &listing.filter, listing.page, listing.newest_first).await?;
        let courses = injuries::courses_on(&mut tx, &day).await?;
        let scores = if listing.with_risk_bands {
            risk::latest_of(&mut tx, &ids_of(&found)).await?
        } else {
            Vec::new()
        };
        (found, courses, scores)
    };
    let availability = availability_of(&courses, today);
    let bands: HashMap<SubjectId, String> = scores
        .into_iter()
        .map(|score| (score.subject, score.band))
        .collect();
    let mut items = Vec::with_capacity(found.len());
    for s in &found {
        let a = availability
            .get(&s.id)
            .copied()
            .unwrap_or(Availability::Available);
        let mut view = open(&app.phi, org, s, a, shown).await?;
        view.risk_band = bands.get(&s.id).cloned();
        items.push(view);
    }
    let full = found.len() == usize::try_from(listing.page.limit.clamp(1, 500)).unwrap_or(0);
    let next = full.then(|| found.last().map(|s| s.id)).flatten();
    // Opening identifiers is a PHI read: one event per listing.
    caller
        .record_read(app, scope, "subject.list", "subject", None, now)
        .await?;
    Ok(SubjectPage { items, next })
}

/// One subject, archived or not (history stays readable), with every identifier; the read is
/// recorded ([`Caller::record_read`]) before it is answered.
pub async fn get(
    app: &App,
    scope: &OrgScope,
    caller: &Caller,
    id: SubjectId,
) -> Result<SubjectView, AppError> {
    let now = app.now();
    let out = {
        let mut tx = app.db.tenant(scope, Access::Read).await?;
        let s = subjects::get_including_archived(&mut tx, id).await?;
        open_today(app, &mut tx, &s, Identifiers::All).await?
    };
    caller
        .record_read(
            app,
            scope,
            "subject.read",
            "subject",
            Some(id.to_string()),
            now,
        )
        .await?;
    Ok(out)
}

/// Changes a subject: fields given replace, cleared ones go; answers the subject as stored.
pub async fn update(
    app: &App,
    scope: &OrgScope,
    caller: &Caller,
    id: SubjectId,
    changes: &SubjectChanges,
) -> Result<SubjectView, AppError> {
    let org = scope.org();
    let now = app.now();
    let today = app.today();
    let mut tx = app.db.tenant(scope, Access::Write).await?;
    let current = subjects::get(&mut tx, id).await?;
    let row = id.to_string();
    let phi = app.phi.for_write(org, id).await?;
    let fields = SubjectFields {
        name: match &changes.name {
            Some(n) => check_name(n)?,
            None => phi.open(at(org, "name", &row), &current.name)?,
        },
        birth_date: match &changes.birth_date {
            Some(v) => check_birth_date(v.as_deref(), today)?,
            None => phi
                .open_opt(at(org, "birth_date", &row), current.birth_date.as_ref())?
                .map(|d| CalendarDate::parse(&d))
                .transpose()
                .map_err(|_| AppError::internal("a stored birth date does not parse"))?,
        },
        external_id: match &changes.external_id {
            Some(v) => v.as_deref().map(check_external_id).transpose()?,
            None => phi.open_opt(at(org, "external_id", &row), current.external_id.as_ref())?,
        },
        sex: match &changes.sex {
            Some(v) => v.as_deref().map(check_sex).transpose()?,
            None => current.sex,
        },
        sport: match &changes.sport {
            Some(v) => v.as_deref().map(check_sport).transpose()?,
            None => current.sport.clone(),
        },
    };
    let new = seal(&app.phi, &phi, org, id, &fields)?;
    let updated = subjects::update(&mut tx, id, new, now)
        .await
        .map_err(conflict_on_external_id)?;
    let out = open_today(app, &mut tx, &updated, Identifiers::All).await?;
    caller
        .record(&mut tx, "subject.update", "subject", Some(row), now)
        .await?;
    tx.commit().await?;
    // Sex and sport choose norms populations.
    app.populations.forget(org);
    Ok(out)
}

/// Archives a subject (history kept).
pub async fn archive(
    app: &App,
    scope: &OrgScope,
    caller: &Caller,
    id: SubjectId,
) -> Result<(), AppError> {
    let now = app.now();
    let mut tx = app.db.tenant(scope, Access::Write).await?;
    subjects::archive(&mut tx, id, now).await?;
    caller
        .record(
            &mut tx,
            "subject.archive",
            "subject",
            Some(id.to_string()),
            now,
        )
        .await?;
    tx.commit().await?;
    app.populations.forget(scope.org());
    Ok(())
}

/// Puts a subject on a team's roster. Idempotent.
pub async fn add_to_team(
    app: &App,
    scope: &OrgScope,
    caller: &Caller,
    team: TeamId,
    id: SubjectId,
) -> Result<(), AppError> {
    let now = app.now();
    let mut tx = app.db.tenant(scope, Access::Write).await?;
    teams::get(&mut tx, team).await?;
    subjects::get(&mut tx, id).await?;
    subjects::add_to_team(&mut tx, team, id, now).await?;
    caller
        .record(
            &mut tx,
            "team.subject_add",
            "team",
            Some(team.to_string()),
            now,
        )
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Every assessment of a subject, oldest page first (newest first within the listing order).
pub async fn all_assessments(
    tx: &mut TenantTx,
    subject: SubjectId,
) -> Result<Vec<Assessment>, StorageError> {
    let mut out = Vec::new();
    let mut after = None;
    loop {
        let page = assessments::list_for_subject(tx, subject, Page { after, limit: 500 }).await?;
        let done = page.len() < 500;
        after = page.last().map(|a| a.id);
        out.extend(page);
        if done {
            return Ok(out);
        }
    }
}

/// What an erasure did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Erasure {
    /// Key versions destroyed in the key store (0 when a background sweep finishes the job).
    pub keys_destroyed: u64,
    /// Raw recordings removed from the object store.
    pub raw_objects_deleted: u64,
}

/// Erases a subject for good. The row is marked erased (out of every listing, team and
/// search) with its audit event in one transaction; then the subject's key is destroyed, so
/// its identifiers, notes and raw signals can never be read again, in this database or in any
/// backup of it; then the raw files go.
pub async fn erase(
    app: &App,
    scope: &OrgScope,
    caller: &Caller,
    id: SubjectId,
) -> Result<Erasure, AppError> {
    let org = scope.org();
    let now = app.now();
    let mut tx = app.db.tenant(scope, Access::Write).await?;
    let raw: Vec<String> = all_assessments(&mut tx, id)
        .await?
        .into_iter()
        .map(|a| a.raw_object_key)
        .collect();
    subjects::erase(&mut tx, id, now).await?;
    caller
        .record(
            &mut tx,
            "subject.erase",
            "subject",
            Some(id.to_string()),
            now,
        )
        .await?;
    tx.commit().await?;
    app.populations.forget(org);
    // Committed: from here the subject reads as erased. Should destroying the key fail, the
    // background sweep ([`crate::keys::sweep_erased`]) destroys it on its next pass.
    let keys_destroyed = app.phi.keys().shred_subject(org, id).await?;
    let mut raw_objects_deleted = 0;
    for key in raw {
        let deleted = match ObjectKey::parse(&key) {
            Ok(k) => app.objects.delete(&k).await,
            Err(e) => Err(e),
        };
        match deleted {
            Ok(()) => raw_objects_deleted += 1,
            // Unreadable already (its key is gone); logged without the key's path.
            Err(e) => tracing::warn!(error = %e, "a raw file of an erased subject stays"),
        }
    }
    Ok(Erasure {
        keys_destroyed,
        raw_objects_deleted,
    })
}

/// Recomputes the blind indexes of every subject of the organisation (archived ones too; erased
/// ones have none) under `blind`, the indexer of a newer version of the installation root, in
/// one transaction with the organisation's audit event (`subjects.reindex`). Returns how many
/// subjects were indexed.
pub async fn reindex(
    app: &App,
    scope: &OrgScope,
    caller: &Caller,
    blind: &mhp_crypto::blind::BlindIndexer,
    root_version: u32,
) -> Result<u64, AppError> {
    let org = scope.org();
    let mut tx = app.db.tenant(scope, Access::Write).await?;
    let mut n = 0;
    for s in subjects::all_not_erased(&mut tx).await? {
        let view = open(&app.phi, org, &s, Availability::Available, Identifiers::All).await?;
        let keys = crate::phi::search_keys(blind, org, &view.name, view.external_id.as_deref());
        subjects::replace_search_keys(&mut tx, s.id, &keys).await?;
        n += 1;
    }
    caller
        .record(
            &mut tx,
            "subjects.reindex",
            "organisation",
            Some(format!("root v{root_version}")),
            app.now(),
        )
        .await?;
    tx.commit().await?;
    Ok(n)
}
