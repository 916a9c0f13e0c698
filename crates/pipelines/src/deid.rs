//! The de-identified view: all that pipeline steps may know about an organisation's subjects.
//!
//! Each subject appears under a keyed pseudonym (`mhp_crypto::pseudonym`), with age in whole
//! years (capped at 90), sex, sport or unit role, metric history, training load and injuries
//! as coded labels. The types below have no field for a name, birth date, external id, note or
//! any free text, and they are what steps receive; a test serialises a view of the demo
//! organisation and searches it for every identifier. The link back from pseudonym to subject
//! ([`Linker`]) exists only to write scores, and is not part of the view.

use std::collections::{BTreeMap, HashMap};

use mhp_app::App;
use mhp_app::phi::FieldAt;
use mhp_domain::{CalendarDate, OrgScope, SubjectId};
use mhp_ml::features::{FeatureSpec, History, InjurySpan, Observation};
use mhp_storage::Access;
use mhp_storage::repo::{assessments, injuries, loads, subjects};
use serde::Serialize;

use crate::StepError;

/// Ages above this are reported as this (HIPAA Safe Harbor groups ages over 89).
pub const AGE_CAP: i64 = 90;

const DAY_MS: i64 = 86_400_000;

/// The injury-risk features ([`FeatureSpec::injury_risk`]).
pub fn risk_feature_spec() -> FeatureSpec {
    FeatureSpec::injury_risk()
}

/// An injury as a label.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InjuryLabel {
    /// Day it began (days since 1970-01-01).
    pub occurred_day: i64,
    /// Day the injury ended (cleared, or its expected return without a decision overriding
    /// it; `mhp_domain::availability`), if it has by the view's date.
    pub cleared_day: Option<i64>,
    /// Open on the view's date with neither a time loss nor a decision for longer than
    /// `mhp_domain::availability::STALE_AFTER_DAYS`: it still counts as time loss (no end is
    /// guessed), and the dataset step reports it for a clinician to complete.
    pub stale: bool,
    /// Body region code.
    pub body_region: String,
    /// Injury type code.
    pub injury_type: String,
    /// Severity code.
    pub severity: String,
    /// Days lost, when known.
    pub time_loss_days: Option<i64>,
}

/// One subject, de-identified.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeidSubject {
    /// Keyed pseudonym, stable across runs, specific to the organisation.
    pub id: String,
    /// Whole years at the view's date, capped at [`AGE_CAP`]; `None` when unknown.
    pub age_years: Option<i64>,
    /// `female`, `male`, `other`, or `None`.
    pub sex: Option<String>,
    /// Sport or unit role.
    pub sport: Option<String>,
    /// Whether the subject is in use (not archived): only those are scored.
    pub active: bool,
    /// Metric observations (by day), load and time-loss spans, as the feature builder reads
    /// them.
    #[serde(serialize_with = "ser_history")]
    pub history: History,
    /// Injuries with their codes.
    pub injuries: Vec<InjuryLabel>,
}

fn ser_history<S: serde::Serializer>(h: &History, s: S) -> Result<S::Ok, S::Error> {
    #[derive(Serialize)]
    struct H<'a> {
        observations: Vec<(i64, &'a BTreeMap<String, f64>)>,
        loads: &'a [(i64, f64)],
        injuries: Vec<(i64, Option<i64>)>,
    }
    H {
        observations: h.observations.iter().map(|o| (o.day, &o.metrics)).collect(),
        loads: &h.loads,
        injuries: h
            .injuries
            .iter()
            .map(|i| (i.occurred_day, i.cleared_day))
            .collect(),
    }
    .serialize(s)
}

/// An organisation's subjects as pipelines see them, as of a day.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeidView {
    /// The view's date (days since 1970-01-01): nothing after it is in it.
    pub as_of_day: i64,
    /// The subjects, ordered by pseudonym.
    pub subjects: Vec<DeidSubject>,
}

/// Pseudonym → subject, held by the scoring step to write scores; never given to a step's
/// computations.
#[derive(Debug, Default)]
pub struct Linker(HashMap<String, SubjectId>);

impl Linker {
    /// The subject behind a pseudonym of this view.
    pub fn subject(&self, pseudonym: &str) -> Option<SubjectId> {
        self.0.get(pseudonym).copied()
    }
}

fn day_of(date: &str) -> Option<i64> {
    CalendarDate::parse(date)
        .ok()
        .map(CalendarDate::days_since_epoch)
}

/// Loads the view of the organisation (or of one subject) as of `as_of`: observations, loads
/// and injuries after that day are left out.
///
/// # Errors
/// Storage and key errors (transient).
pub async fn load(
    state: &App,
    scope: &OrgScope,
    only: Option<SubjectId>,
    as_of: CalendarDate,
) -> Result<(DeidView, Linker), StepError> {
    let org = scope.org();
    let spec = risk_feature_spec();
    let metric_names: Vec<&str> = spec.metrics.iter().map(String::as_str).collect();
    let mut tx = state.db.tenant(scope, Access::Read).await?;
    let rows = match only {
        Some(id) => {
            let s = subjects::get(&mut tx, id).await?;
            if s.erased_at.is_some() {
                Vec::new()
            } else {
                vec![s]
            }
        }
        None => subjects::all_not_erased(&mut tx).await?,
    };
    let metrics = assessments::org_metric_values(&mut tx, &metric_names, only).await?;
    let sessions = loads::org_loads(&mut tx, only).await?;
    let labels = injuries::org_labels(&mut tx, only).await?;
    drop(tx);

    let as_of_day = as_of.days_since_epoch();
    let mut linker = HashMap::new();
    let mut by_subject: HashMap<SubjectId, DeidSubject> = HashMap::new();
    for s in rows {
        let row = s.id.to_string();
        let age_years = match &s.birth_date {
            Some(sealed) => {
                let phi = state.phi.for_read(org, s.id).await?;
                let text = phi.open(
                    FieldAt {
                        org,
                        table: "subjects",
                        column: "birth_date",
                        row: &row,
                    },
                    sealed,
                )?;
                CalendarDate::parse(&text)
                    .ok()
                    .map(|b| b.years_until(as_of).clamp(0, AGE_CAP))
            }
            None => None,
        };
        let id = state.pseudonyms.of(org, s.id);
        linker.insert(id.clone(), s.id);
        by_subject.insert(
            s.id,
            DeidSubject {
                id,
                age_years,
                sex: s.sex.map(|x| x.as_str().to_owned()),
                sport: s.sport.clone(),
                active: s.archived_at.is_none(),
                history: History::default(),
                injuries: Vec::new(),
            },
        );
    }
    // Metrics arrive one row per (assessment, metric): gather them per assessment.
    let mut per_assessment: BTreeMap<(SubjectId, i64, String), Observation> = BTreeMap::new();
    for m in metrics {
        let day = m.recorded_at.as_millis().div_euclid(DAY_MS);
        if day > as_of_day || !by_subject.contains_key(&m.subject) {
            continue;
        }
        per_assessment
            .entry((
                m.subject,
                m.recorded_at.as_millis(),
                m.assessment.to_string(),
            ))
            .or_insert_with(|| Observation {
                day,
                metrics: BTreeMap::new(),
            })
            .metrics
            .insert(m.metric, m.value);
    }
    for ((subject, _, _), obs) in per_assessment {
        if let Some(s) = by_subject.get_mut(&subject) {
            s.history.observations.push(obs);
        }
    }
    for (subject, date, load_au) in sessions {
        if let (Some(s), Some(day)) = (by_subject.get_mut(&subject), day_of(&date))
            && day <= as_of_day
        {
            s.history.loads.push((day, load_au as f64));
        }
    }
    for l in labels {
        let (Some(s), Some(occurred)) = (by_subject.get_mut(&l.subject), day_of(&l.occurred_on))
        else {
            continue;
        };
        if occurred > as_of_day {
            continue;
        }
        // The one availability rule (`mhp_domain::availability`): the injury ends with a
        // clearance, else on its expected return; what is decided after the view's date is not
        // known in it.
        let course = l.course();
        let cleared = course.as_ref().and_then(|c| c.return_day(as_of_day));
        let stale = course
            .as_ref()
            .is_some_and(|c| c.state_on(as_of_day).is_stale());
        s.history.injuries.push(InjurySpan {
            occurred_day: occurred,
            cleared_day: cleared,
        });
        s.injuries.push(InjuryLabel {
            occurred_day: occurred,
            cleared_day: cleared,
            stale,
            body_region: l.body_region,
            injury_type: l.injury_type,
            severity: l.severity,
            time_loss_days: l.time_loss_days,
        });
    }
    let mut subjects: Vec<DeidSubject> = by_subject.into_values().collect();
    subjects.sort_by(|a, b| a.id.cmp(&b.id));
    Ok((
        DeidView {
            as_of_day,
            subjects,
        },
        Linker(linker),
    ))
}
