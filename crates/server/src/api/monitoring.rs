//! Monitoring: training load (session-RPE and the acute:chronic workload ratio), norms (a
//! subject's percentile and T-score in a reference population, change from their own baseline
//! against the smallest worthwhile change) and a team's metrics as CSV.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use mhp_domain::{CalendarDate, Sex, SubjectId, TeamId};
use mhp_storage::Access;
use mhp_storage::repo::assessments::{self, MetricValue};
use mhp_storage::repo::loads::{self, LoadEntry};
use mhp_storage::repo::{subjects, teams};
use serde::{Deserialize, Serialize};

use super::{Grant, date_field, path_id};
use crate::{ApiError, ApiJson, AppState};
use mhp_app::assessments::KEY_METRICS;
use mhp_app::phi::FieldAt;
use mhp_ml::features::LoadWindows;
use mhp_ml::reliability::{Session, reliability};

/// Fewest reference values for percentiles and T-scores to be shown.
pub const MIN_POPULATION: usize = 5;
/// Assessments before the latest that make a subject's baseline.
pub const BASELINE_ASSESSMENTS: usize = 5;

fn today(state: &AppState) -> CalendarDate {
    CalendarDate::from_unix_millis(state.app.clock.now().as_millis())
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewLoad {
    session_date: String,
    session_type: String,
    duration_min: u32,
    rpe: u8,
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct LoadOut {
    id: String,
    session_date: String,
    session_type: String,
    duration_min: i64,
    rpe: i64,
    load_au: i64,
}

impl From<LoadEntry> for LoadOut {
    fn from(e: LoadEntry) -> Self {
        Self {
            id: e.id,
            session_date: e.session_date,
            session_type: e.session_type,
            duration_min: e.duration_min,
            rpe: e.rpe,
            load_au: e.load_au,
        }
    }
}

/// `POST /api/v1/orgs/{org}/subjects/{subject}/loads`: one session's load (Foster's
/// session-RPE: duration in minutes × CR-10 rating).
pub async fn add_load(
    State(state): State<AppState>,
    grant: Grant,
    Path((_, subject)): Path<(String, String)>,
    ApiJson(body): ApiJson<NewLoad>,
) -> Result<(StatusCode, Json<LoadOut>), ApiError> {
    let subject = path_id(&subject, "subject", SubjectId::parse)?;
    let day = date_field("session_date", Some(&body.session_date))?
        .ok_or_else(|| ApiError::BadRequest("session_date is required".into()))?;
    if day > today(&state) {
        return Err(ApiError::Invalid {
            code: mhp_app::Code::InvalidDate,
            detail: "session_date is in the future".into(),
        });
    }
    let t = body.session_type.as_str();
    if t.is_empty()
        || t.len() > 40
        || !t
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    {
        return Err(ApiError::BadRequest(
            "session_type must be a lowercase snake_case code of at most 40 characters".into(),
        ));
    }
    if !(1..=600).contains(&body.duration_min) {
        return Err(ApiError::BadRequest("duration_min must be 1 to 600".into()));
    }
    if body.rpe > 10 {
        return Err(ApiError::BadRequest(
            "rpe must be 0 to 10 (CR-10 scale)".into(),
        ));
    }
    let new = mhp_app::loads::NewLoad {
        subject,
        session_date: day,
        session_type: t.to_owned(),
        duration_min: body.duration_min,
        rpe: u32::from(body.rpe),
    };
    let entry = mhp_app::loads::record(&state.app, &grant.org()?, &grant.caller(), new).await?;
    Ok((StatusCode::CREATED, Json(entry.into())))
}

/// The acute:chronic workload ratio on a day: the last 7 days' load over the weekly mean of
/// the last 28 (rolling averages, Gabbett 2016, Br J Sports Med 50:273). Reported as a
/// monitoring figure only: its use to predict injury is disputed (Impellizzeri et al. 2020,
/// Int J Sports Physiol Perform 15:907), which is why the risk models learn from raw loads.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Acwr {
    as_of: String,
    acute_7d_au: i64,
    chronic_weekly_au: f64,
    ratio: Option<f64>,
}

/// The ratio as of a day, that day's sessions included (`mhp_ml::features::LoadWindows`, the
/// definition the risk features use): `None` until the subject's load history, which begins
/// on `first_session`, covers the 28 days (its first week at least).
pub(crate) fn acwr(
    entries: &[LoadEntry],
    as_of: CalendarDate,
    first_session: Option<CalendarDate>,
) -> Acwr {
    #[allow(clippy::cast_precision_loss)]
    let loads = entries.iter().filter_map(|e| {
        CalendarDate::parse(&e.session_date)
            .ok()
            .map(|d| (d.days_since_epoch(), e.load_au as f64))
    });
    let w = LoadWindows::before(
        loads,
        as_of.days_since_epoch() + 1,
        first_session.map(CalendarDate::days_since_epoch),
    );
    #[allow(clippy::cast_possible_truncation)]
    Acwr {
        as_of: as_of.to_string(),
        // Sums of whole numbers of units, exact in f64.
        acute_7d_au: w.acute.round() as i64,
        chronic_weekly_au: w.chronic_weekly,
        ratio: w.ratio().map(|r| (r * 1000.0).round() / 1000.0),
    }
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LoadQuery {
    from: Option<String>,
    to: Option<String>,
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct LoadsOut {
    entries: Vec<LoadOut>,
    acwr: Acwr,
}

/// `GET /api/v1/orgs/{org}/subjects/{subject}/loads?from=&to=`: sessions and the ratio on
/// `to`. Without dates: the 28 days up to today, or, when the subject has no session in them,
/// the 28 days up to their latest session (a history loaded from an earlier season shows its
/// recent sessions rather than nothing).
pub async fn list_loads(
    State(state): State<AppState>,
    grant: Grant,
    Path((_, subject)): Path<(String, String)>,
    Query(q): Query<LoadQuery>,
) -> Result<Json<LoadsOut>, ApiError> {
    let subject = path_id(&subject, "subject", SubjectId::parse)?;
    let asked_to = date_field("to", q.to.as_deref())?;
    let asked_from = date_field("from", q.from.as_deref())?;
    let mut tx = state.app.db.tenant(&grant.org()?, Access::Read).await?;
    subjects::get_including_archived(&mut tx, subject).await?;
    let days_before = |d: CalendarDate, n: i64| {
        CalendarDate::from_unix_millis((d.days_since_epoch() - n) * 86_400_000)
    };
    let (first, last) = match loads::session_span(&mut tx, subject).await? {
        Some((f, l)) => (CalendarDate::parse(&f).ok(), CalendarDate::parse(&l).ok()),
        None => (None, None),
    };
    let to = match asked_to {
        Some(to) => to,
        None => {
            let today = today(&state);
            match last {
                Some(last) if asked_from.is_none() && last < days_before(today, 27) => last,
                _ => today,
            }
        }
    };
    let from = asked_from.unwrap_or_else(|| days_before(to, 27));
    if from > to {
        return Err(ApiError::BadRequest("from is after to".into()));
    }
    // The ratio needs the 28 days before `to` whatever the listing shows.
    let window = days_before(to, 27).min(from);
    let all =
        loads::list_for_subject(&mut tx, subject, &window.to_string(), &to.to_string()).await?;
    let ratio = acwr(&all, to, first);
    let from = from.to_string();
    let entries = all
        .into_iter()
        .filter(|e| e.session_date >= from)
        .map(LoadOut::from)
        .collect();
    Ok(Json(LoadsOut {
        entries,
        acwr: ratio,
    }))
}

/// Percentile rank of `x` among `values` (share below, half of the ties), 0–100.
pub(crate) fn percentile_rank(values: &[f64], x: f64) -> f64 {
    let below = values.iter().filter(|v| **v < x).count();
    let equal = values.iter().filter(|v| **v == x).count();
    #[allow(clippy::cast_precision_loss)]
    let p = (below as f64 + equal as f64 / 2.0) / values.len().max(1) as f64 * 100.0;
    (p * 10.0).round() / 10.0
}

/// Mean and sample standard deviation.
pub(crate) fn mean_sd(values: &[f64]) -> (f64, f64) {
    #[allow(clippy::cast_precision_loss)]
    let n = values.len() as f64;
    if values.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    let mean = values.iter().sum::<f64>() / n;
    if values.len() < 2 {
        return (mean, f64::NAN);
    }
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, var.sqrt())
}

fn round(x: f64, places: i32) -> Option<f64> {
    let f = 10f64.powi(places);
    x.is_finite().then(|| (x * f).round() / f)
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NormsQuery {
    population: Option<String>,
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct MetricNorm {
    metric: &'static str,
    value: Option<f64>,
    population_size: usize,
    population_mean: Option<f64>,
    percentile: Option<f64>,
    t_score: Option<f64>,
    baseline: Option<f64>,
    baseline_assessments: usize,
    change: Option<f64>,
    change_pct: Option<f64>,
    smallest_worthwhile_change: Option<f64>,
    meaningful_change: Option<bool>,
    /// SD of the latest assessment's reps over their mean.
    within_session_cv_pct: Option<f64>,
    /// Reps in the latest assessment.
    latest_reps: Option<u32>,
    /// Typical error between the baseline assessments (SD of consecutive differences / √2).
    typical_error: Option<f64>,
    /// Minimal detectable change at 95 % (1.96 × √2 × typical error).
    mdc95: Option<f64>,
    /// Whether the change from baseline exceeds the minimal detectable change.
    change_exceeds_mdc95: Option<bool>,
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct NormsOut {
    population: &'static str,
    assessment_id: Option<String>,
    recorded_at_ms: Option<i64>,
    metrics: Vec<MetricNorm>,
}

/// `GET /api/v1/orgs/{org}/subjects/{subject}/norms?population=organisation|sex|sport`: for
/// each key metric of the subject's latest assessment, the percentile and T-score
/// (50 + 10·z) among the latest values of the reference population (the organisation, or
/// its subjects of the same sex, or sport), and the change from the subject's baseline (mean
/// of up to 5 earlier assessments) against the smallest worthwhile change, 0.2 × the
/// between-subject SD (Hopkins 2004, Sportscience 8:1), and beside each value its reliability
/// (`mhp_ml::reliability`): the within-session CV of the latest assessment's reps, the typical
/// error between the baseline assessments and the minimal detectable change, with whether the
/// change exceeds it.
pub async fn norms(
    State(state): State<AppState>,
    grant: Grant,
    Path((_, subject)): Path<(String, String)>,
    Query(q): Query<NormsQuery>,
) -> Result<Json<NormsOut>, ApiError> {
    let subject = path_id(&subject, "subject", SubjectId::parse)?;
    let mut tx = state.app.db.tenant(&grant.org()?, Access::Read).await?;
    let s = subjects::get_including_archived(&mut tx, subject).await?;
    let (population, sex, sport): (&'static str, Option<&str>, Option<String>) =
        match q.population.as_deref() {
            None | Some("organisation") => ("organisation", None, None),
            Some("sex") => ("sex", Some(s.sex.unwrap_or(Sex::Unknown).as_str()), None),
            Some("sport") => ("sport", None, Some(s.sport.clone().unwrap_or_default())),
            Some(_) => {
                return Err(ApiError::BadRequest(
                    "population must be organisation, sex or sport".into(),
                ));
            }
        };
    let mine = assessments::subject_metric_values(&mut tx, subject).await?;
    let latest = mine.last().map(|m| (m.assessment, m.recorded_at));
    let mut out = Vec::new();
    for metric in KEY_METRICS {
        let series: Vec<&MetricValue> = mine.iter().filter(|m| m.metric == *metric).collect();
        let value = series.last().map(|m| m.value);
        let earlier: Vec<f64> = series
            .iter()
            .rev()
            .skip(1)
            .take(BASELINE_ASSESSMENTS)
            .map(|m| m.value)
            .collect();
        let session = |m: &MetricValue| Session {
            mean: m.value,
            sd: m.sd,
            reps: m.trials,
        };
        // The baseline sessions, oldest first, as the typical error compares them.
        let baseline_sessions: Vec<Session> = series
            .iter()
            .rev()
            .skip(1)
            .take(BASELINE_ASSESSMENTS)
            .rev()
            .map(|m| session(m))
            .collect();
        let reliability = series
            .last()
            .map(|m| reliability(session(m), &baseline_sessions))
            .unwrap_or_default();
        let all = assessments::metric_values(&mut tx, metric, sex, sport.as_deref()).await?;
        // The latest value of each subject: one voice per person.
        let mut last: BTreeMap<SubjectId, f64> = BTreeMap::new();
        for m in all {
            last.insert(m.subject, m.value);
        }
        let reference: Vec<f64> = last.into_values().collect();
        let (mean, sd) = mean_sd(&reference);
        let enough = reference.len() >= MIN_POPULATION;
        let baseline = (!earlier.is_empty()).then(|| mean_sd(&earlier).0);
        let change = value.zip(baseline).map(|(v, b)| v - b);
        let swc = (enough && sd.is_finite()).then_some(0.2 * sd);
        out.push(MetricNorm {
            metric,
            // As the assessment summary shows it.
            value: value.and_then(|v| round(v, 6)),
            population_size: reference.len(),
            population_mean: if enough { round(mean, 6) } else { None },
            percentile: value
                .filter(|_| enough)
                .map(|v| percentile_rank(&reference, v)),
            t_score: value
                .filter(|_| enough && sd > 0.0)
                .and_then(|v| round(50.0 + 10.0 * (v - mean) / sd, 1)),
            baseline: baseline.and_then(|b| round(b, 6)),
            baseline_assessments: earlier.len(),
            change: change.and_then(|c| round(c, 6)),
            change_pct: change
                .zip(baseline)
                .filter(|(_, b)| *b != 0.0)
                .and_then(|(c, b)| round(c / b.abs() * 100.0, 2)),
            smallest_worthwhile_change: swc.and_then(|w| round(w, 6)),
            meaningful_change: change.zip(swc).map(|(c, w)| c.abs() > w),
            within_session_cv_pct: reliability.within_session_cv_pct.and_then(|v| round(v, 2)),
            latest_reps: series.last().map(|m| m.trials),
            typical_error: reliability.typical_error.and_then(|v| round(v, 6)),
            mdc95: reliability.mdc95.and_then(|v| round(v, 6)),
            change_exceeds_mdc95: change.zip(reliability.mdc95).map(|(c, m)| c.abs() > m),
        });
    }
    Ok(Json(NormsOut {
        population,
        assessment_id: latest.map(|(a, _)| a.to_string()),
        recorded_at_ms: latest.map(|(_, t)| t.as_millis()),
        metrics: out,
    }))
}

/// Quotes a CSV field, and defuses values a spreadsheet would run as a formula.
fn csv_field(text: &str) -> String {
    let safe = if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_owned()
    };
    if safe.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", safe.replace('"', "\"\""))
    } else {
        safe
    }
}

/// `GET /api/v1/orgs/{org}/teams/{team}/metrics.csv`: one row per assessment of the team's
/// subjects with the key metrics (means over trials), for spreadsheets.
pub async fn team_csv(
    State(state): State<AppState>,
    grant: Grant,
    Path((_, team)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    // The gate answered 404 for a team outside the caller's reach.
    let team = path_id(&team, "team", TeamId::parse)?;
    let scope = grant.org()?;
    let org = scope.org();
    let now = state.app.clock.now();
    let mut tx = state.app.db.tenant(&scope, Access::Write).await?;
    teams::get(&mut tx, team).await?;
    let values = assessments::team_metric_values(&mut tx, team).await?;
    let mut rows: BTreeMap<(i64, String), (SubjectId, BTreeMap<String, f64>)> = BTreeMap::new();
    for v in values {
        if KEY_METRICS.contains(&v.metric.as_str()) {
            rows.entry((v.recorded_at.as_millis(), v.assessment.to_string()))
                .or_insert_with(|| (v.subject, BTreeMap::new()))
                .1
                .insert(v.metric, v.value);
        }
    }
    let mut names: BTreeMap<SubjectId, Option<(String, String)>> = BTreeMap::new();
    let mut csv = String::from("subject_id,pseudonym,name,assessment_id,recorded_at");
    for m in KEY_METRICS {
        csv.push(',');
        csv.push_str(m);
    }
    csv.push('\n');
    for ((at, assessment), (subject, metrics)) in rows {
        if let std::collections::btree_map::Entry::Vacant(slot) = names.entry(subject) {
            let s = subjects::get_including_archived(&mut tx, subject).await?;
            if s.erased_at.is_some() {
                slot.insert(None);
                continue;
            }
            let row = subject.to_string();
            let name = state.app.phi.for_read(org, subject).await?.open(
                FieldAt {
                    org,
                    table: "subjects",
                    column: "name",
                    row: &row,
                },
                &s.name,
            )?;
            slot.insert(Some((s.pseudonym, name)));
        }
        // Erased subjects leave the export with their key.
        let Some((pseudonym, name)) = names.get(&subject).cloned().flatten() else {
            continue;
        };
        let day = CalendarDate::from_unix_millis(at);
        let mut line = format!(
            "{subject},{pseudonym},{},{assessment},{day}",
            csv_field(&name)
        );
        for m in KEY_METRICS {
            line.push(',');
            if let Some(v) = metrics.get(*m) {
                line.push_str(&format!("{}", (v * 1e6).round() / 1e6));
            }
        }
        csv.push_str(&line);
        csv.push('\n');
    }
    grant
        .record(
            &mut tx,
            "team.export_metrics",
            "team",
            Some(team.to_string()),
            now,
        )
        .await?;
    tx.commit().await?;
    let mut res = csv.into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    res.headers_mut().insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"team-metrics.csv\""),
    );
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(day: &str, load: i64) -> LoadEntry {
        LoadEntry {
            id: day.into(),
            subject: SubjectId::new(),
            session_date: day.into(),
            session_type: "training".into(),
            duration_min: 60,
            rpe: 5,
            load_au: load,
            recorded_by: "t".into(),
            created_at: mhp_domain::Timestamp::from_millis(0),
        }
    }

    #[test]
    fn acwr_uses_seven_and_twenty_eight_day_windows() {
        let as_of = CalendarDate::parse("2026-03-28").unwrap_or_else(|_| unreachable!());
        let entries = vec![
            entry("2026-02-28", 1000), // 28 days before: outside both windows
            entry("2026-03-01", 400),  // day 27: chronic only
            entry("2026-03-21", 400),  // day 7: chronic only
            entry("2026-03-22", 300),  // day 6: both
            entry("2026-03-28", 500),  // today: both
        ];
        let first = CalendarDate::parse("2026-02-28").ok();
        let a = acwr(&entries, as_of, first);
        assert_eq!(a.acute_7d_au, 800);
        assert!((a.chronic_weekly_au - 400.0).abs() < 1e-9);
        assert_eq!(a.ratio, Some(2.0));
        assert_eq!(acwr(&[], as_of, None).ratio, None);
        // A history that began inside the chronic window gives no ratio yet.
        let short = acwr(&entries[2..], as_of, CalendarDate::parse("2026-03-21").ok());
        assert_eq!(short.ratio, None);
        assert_eq!(short.acute_7d_au, 800);
    }

    #[test]
    fn percentiles_t_scores_and_csv_fields() {
        let v = [1.0, 2.0, 3.0, 4.0];
        assert!((percentile_rank(&v, 3.0) - 62.5).abs() < 1e-9);
        assert!((percentile_rank(&v, 9.0) - 100.0).abs() < 1e-9);
        let (m, sd) = mean_sd(&v);
        assert!((m - 2.5).abs() < 1e-12 && (sd - 1.290_994_448_7).abs() < 1e-9);
        assert!(mean_sd(&[2.0]).1.is_nan());
        assert_eq!(csv_field("Smith, Jo"), "\"Smith, Jo\"");
        assert_eq!(csv_field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_field("Ann"), "Ann");
    }
}
