//! Monitoring: training load with the acute:chronic workload ratio, and norms (a subject's
//! percentile and T-score in a reference population, change from their own baseline against
//! the smallest worthwhile change, with the reliability of each value). The API's monitoring
//! endpoints, the dashboard and the athlete page read them here.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mhp_domain::{CalendarDate, OrgId, OrgScope, Sex, SubjectId};
use mhp_ml::features::LoadWindows;
use mhp_ml::reliability::{Session, reliability};
use mhp_storage::Access;
use mhp_storage::repo::assessments::{self, MetricValue};
use mhp_storage::repo::loads::{self, LoadEntry};
use mhp_storage::repo::subjects;
use serde::Serialize;

#[cfg(doc)]
use crate::assessments::KEY_METRICS;
use crate::dashboard::BASELINE_ASSESSMENTS;
use crate::{App, AppError};

/// How long a norms population is reused. The pages of a team's athletes read the same one,
/// and it changes only with uploads: this process forgets an organisation's populations at each
/// upload and re-analysis ([`PopulationCache::forget`]); another instance's upload, or a change
/// of an athlete's sex or sport, shows within this time.
pub const POPULATION_TTL: Duration = Duration::from_secs(30);

/// Who a population is: the organisation, its filters and the metrics read.
type PopulationKey = (OrgId, Option<String>, Option<String>, Vec<&'static str>);
/// Each metric's reference values (every subject's latest).
type Reference = Arc<BTreeMap<String, Vec<f64>>>;

/// Norms populations read lately, per organisation and filter (values of no one in particular:
/// each is a list of numbers per metric).
#[derive(Debug, Default)]
pub struct PopulationCache {
    entries: Mutex<HashMap<PopulationKey, (Instant, Reference)>>,
}

/// Most populations held; beyond it the cache starts afresh.
const POPULATIONS_HELD: usize = 1000;

impl PopulationCache {
    fn get(&self, key: &PopulationKey) -> Option<Reference> {
        let entries = self.entries.lock().ok()?;
        let (at, reference) = entries.get(key)?;
        (at.elapsed() < POPULATION_TTL).then(|| reference.clone())
    }

    fn put(&self, key: PopulationKey, reference: Reference) {
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= POPULATIONS_HELD {
                entries.clear();
            }
            entries.insert(key, (Instant::now(), reference));
        }
    }

    /// Forgets an organisation's populations: an upload or a re-analysis changed them.
    pub fn forget(&self, org: OrgId) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.retain(|(o, ..), _| *o != org);
        }
    }
}

/// Fewest reference values for percentiles and T-scores to be shown.
pub const MIN_POPULATION: usize = 5;
/// Days of the chronic window.
pub const CHRONIC_DAYS: i64 = 28;
/// A ratio above this is a spike in load worth a look (Gabbett 2016's "danger zone").
pub const ACWR_SPIKE: f64 = 1.5;

/// The acute:chronic workload ratio on a day: the last 7 days' load over the weekly mean of
/// the last 28 (rolling averages, Gabbett 2016, Br J Sports Med 50:273). Reported as a
/// monitoring figure only: its use to predict injury is disputed (Impellizzeri et al. 2020,
/// Int J Sports Physiol Perform 15:907), which is why the risk models learn from raw loads.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Acwr {
    /// The day, `YYYY-MM-DD`, its sessions included.
    pub as_of: String,
    /// Load of the 7 days up to `as_of`, AU.
    pub acute_7d_au: i64,
    /// Weekly mean of the 28 days up to `as_of`, AU.
    pub chronic_weekly_au: f64,
    /// Acute over chronic, to three places; null until the history covers the 28 days.
    pub ratio: Option<f64>,
}

/// The ratio as of a day from `(day, load)` pairs, that day's sessions included
/// (`mhp_ml::features::LoadWindows`, the definition the risk features use): `None` until the
/// subject's load history, which begins on `first_session`, covers the 28 days (its first week
/// at least).
pub fn acwr_of(
    loads: impl IntoIterator<Item = (CalendarDate, i64)>,
    as_of: CalendarDate,
    first_session: Option<CalendarDate>,
) -> Acwr {
    #[allow(clippy::cast_precision_loss)]
    let loads = loads
        .into_iter()
        .map(|(d, au)| (d.days_since_epoch(), au as f64));
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

/// [`acwr_of`] over stored sessions (a day that does not parse is left out).
pub fn acwr(
    entries: &[LoadEntry],
    as_of: CalendarDate,
    first_session: Option<CalendarDate>,
) -> Acwr {
    acwr_of(
        entries.iter().filter_map(|e| {
            CalendarDate::parse(&e.session_date)
                .ok()
                .map(|d| (d, e.load_au))
        }),
        as_of,
        first_session,
    )
}

/// A subject's sessions in a span and the ratio on its last day.
#[derive(Debug, Clone)]
pub struct Loads {
    /// First day listed.
    pub from: CalendarDate,
    /// Last day listed, the ratio's day.
    pub to: CalendarDate,
    /// The sessions from `from` to `to`, by day.
    pub entries: Vec<LoadEntry>,
    /// The ratio on `to`.
    pub acwr: Acwr,
}

/// A subject's sessions from `from` to `to` and the ratio on `to`. Without dates: the `days`
/// days up to today, or, when the subject has no session in the last 28, up to their latest
/// session (a history loaded from an earlier season shows its recent sessions rather than
/// nothing).
pub async fn subject_loads(
    app: &App,
    scope: &OrgScope,
    subject: SubjectId,
    (from, to): (Option<CalendarDate>, Option<CalendarDate>),
    days: i64,
) -> Result<Loads, AppError> {
    let mut tx = app.db.tenant(scope, Access::Read).await?;
    subjects::get_including_archived(&mut tx, subject).await?;
    let (first, last) = match loads::session_span(&mut tx, subject).await? {
        Some((f, l)) => (CalendarDate::parse(&f).ok(), CalendarDate::parse(&l).ok()),
        None => (None, None),
    };
    let to = to.unwrap_or_else(|| latest_day(app.today(), last.filter(|_| from.is_none())));
    let from = from.unwrap_or_else(|| to.plus_days(-(days.max(1) - 1)));
    if from > to {
        return Err(AppError::malformed("from is after to"));
    }
    // The ratio needs the 28 days before `to` whatever the listing shows.
    let window = to.plus_days(-(CHRONIC_DAYS - 1)).min(from);
    let all =
        loads::list_for_subject(&mut tx, subject, &window.to_string(), &to.to_string()).await?;
    let ratio = acwr(&all, to, first);
    let shown = from.to_string();
    let entries = all
        .into_iter()
        .filter(|e| e.session_date >= shown)
        .collect();
    Ok(Loads {
        from,
        to,
        entries,
        acwr: ratio,
    })
}

/// The subject's sessions recorded at or after `since_ms` (a listing by `updated_since`: the
/// feed says when the subject's load first changed after the cursor).
pub async fn loads_recorded_since(
    app: &App,
    scope: &OrgScope,
    subject: SubjectId,
    since_ms: i64,
) -> Result<Vec<LoadEntry>, AppError> {
    let mut tx = app.db.tenant(scope, Access::Read).await?;
    subjects::get_including_archived(&mut tx, subject).await?;
    Ok(loads::recorded_since(&mut tx, subject, since_ms).await?)
}

/// The day load is shown up to: today, or the latest session when none lies in the last 28
/// days.
pub fn latest_day(today: CalendarDate, last_session: Option<CalendarDate>) -> CalendarDate {
    match last_session {
        Some(last) if last < today.plus_days(-(CHRONIC_DAYS - 1)) => last,
        _ => today,
    }
}

/// Percentile rank of `x` among `values` (share below, half of the ties), 0–100.
pub fn percentile_rank(values: &[f64], x: f64) -> f64 {
    let below = values.iter().filter(|v| **v < x).count();
    let equal = values.iter().filter(|v| **v == x).count();
    #[allow(clippy::cast_precision_loss)]
    let p = (below as f64 + equal as f64 / 2.0) / values.len().max(1) as f64 * 100.0;
    (p * 10.0).round() / 10.0
}

/// Mean and sample standard deviation (NaN where undefined).
pub fn mean_sd(values: &[f64]) -> (f64, f64) {
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

/// Whom a subject is compared with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Population {
    /// Everyone in the organisation.
    #[default]
    Organisation,
    /// Those of the subject's sex.
    Sex,
    /// Those of the subject's sport.
    Sport,
}

impl Population {
    /// From its name (`organisation`, `sex`, `sport`).
    pub fn parse(s: &str) -> Result<Self, AppError> {
        match s {
            "organisation" => Ok(Self::Organisation),
            "sex" => Ok(Self::Sex),
            "sport" => Ok(Self::Sport),
            _ => Err(AppError::malformed(
                "population must be organisation, sex or sport",
            )),
        }
    }

    /// Its name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Organisation => "organisation",
            Self::Sex => "sex",
            Self::Sport => "sport",
        }
    }
}

/// One key metric of a subject against the population and their own baseline.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct MetricNorm {
    /// The metric's name as stored.
    pub metric: &'static str,
    /// The latest assessment's value.
    pub value: Option<f64>,
    /// How many subjects' latest values the reference holds.
    pub population_size: usize,
    /// Their mean (when at least five).
    pub population_mean: Option<f64>,
    /// Percentile rank of `value` among them, 0–100.
    pub percentile: Option<f64>,
    /// 50 + 10·z.
    pub t_score: Option<f64>,
    /// Mean of up to five earlier assessments.
    pub baseline: Option<f64>,
    /// How many earlier assessments the baseline holds.
    pub baseline_assessments: usize,
    /// `value` − `baseline`.
    pub change: Option<f64>,
    /// The change as a share of the baseline, %.
    pub change_pct: Option<f64>,
    /// 0.2 × the between-subject SD.
    pub smallest_worthwhile_change: Option<f64>,
    /// Whether the change exceeds it.
    pub meaningful_change: Option<bool>,
    /// SD of the latest assessment's reps over their mean.
    pub within_session_cv_pct: Option<f64>,
    /// Reps in the latest assessment.
    pub latest_reps: Option<u32>,
    /// Typical error between the baseline assessments (SD of consecutive differences / √2).
    pub typical_error: Option<f64>,
    /// Minimal detectable change at 95 % (1.96 × √2 × typical error).
    pub mdc95: Option<f64>,
    /// Whether the change from baseline exceeds the minimal detectable change.
    pub change_exceeds_mdc95: Option<bool>,
}

/// A subject's key metrics against a population.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Norms {
    /// `organisation`, `sex` or `sport`.
    pub population: &'static str,
    /// The latest assessment.
    pub assessment_id: Option<String>,
    /// When it was recorded.
    pub recorded_at_ms: Option<i64>,
    /// One per metric asked for.
    pub metrics: Vec<MetricNorm>,
}

/// For each of `metrics` (the API asks for [`KEY_METRICS`]) of the subject's latest
/// assessment, the percentile and T-score (50 + 10·z) among the reference population (the
/// values of each one's latest countermovement jump), and the change from the
/// subject's baseline (mean of up to 5 earlier assessments) against the smallest worthwhile
/// change, 0.2 × the between-subject SD (Hopkins 2004, Sportscience 8:1), and beside each
/// value its reliability (`mhp_ml::reliability`): the within-session CV of the latest
/// assessment's reps, the typical error between the baseline assessments and the minimal
/// detectable change, with whether the change exceeds it.
pub async fn norms(
    app: &App,
    scope: &OrgScope,
    subject: SubjectId,
    population: Population,
    metrics: &[&'static str],
) -> Result<Norms, AppError> {
    let mut tx = app.db.tenant(scope, Access::Read).await?;
    let s = subjects::get_including_archived(&mut tx, subject).await?;
    let (sex, sport): (Option<&str>, Option<String>) = match population {
        Population::Organisation => (None, None),
        Population::Sex => (Some(s.sex.unwrap_or(Sex::Unknown).as_str()), None),
        Population::Sport => (None, Some(s.sport.clone().unwrap_or_default())),
    };
    let mine = assessments::subject_metric_values(&mut tx, subject, metrics).await?;
    let latest = mine.last().map(|m| (m.assessment, m.recorded_at));
    let key: PopulationKey = (
        scope.org(),
        sex.map(str::to_owned),
        sport.clone(),
        metrics.to_vec(),
    );
    let reference = match app.populations.get(&key) {
        Some(reference) => reference,
        None => {
            // The latest value of each subject: one voice per person.
            let mut reference: BTreeMap<String, Vec<f64>> = BTreeMap::new();
            for (_, metric, v) in
                assessments::latest_metric_values(&mut tx, metrics, sex, sport.as_deref()).await?
            {
                reference.entry(metric).or_default().push(v);
            }
            let reference = Arc::new(reference);
            app.populations.put(key, reference.clone());
            reference
        }
    };
    let mut out = Vec::new();
    for metric in metrics {
        let series: Vec<&MetricValue> = mine.iter().filter(|m| m.metric == *metric).collect();
        let population = reference.get(*metric).map_or(&[][..], Vec::as_slice);
        out.push(metric_norm(metric, &series, population));
    }
    Ok(Norms {
        population: population.as_str(),
        assessment_id: latest.map(|(a, _)| a.to_string()),
        recorded_at_ms: latest.map(|(_, t)| t.as_millis()),
        metrics: out,
    })
}

/// One metric's norm from the subject's values (oldest first) and the population's latest.
fn metric_norm(metric: &'static str, series: &[&MetricValue], reference: &[f64]) -> MetricNorm {
    let value = series.last().map(|m| m.value);
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
    let earlier: Vec<f64> = baseline_sessions.iter().map(|s| s.mean).collect();
    let reliability = series
        .last()
        .map(|m| reliability(session(m), &baseline_sessions))
        .unwrap_or_default();
    let (mean, sd) = mean_sd(reference);
    let enough = reference.len() >= MIN_POPULATION;
    let baseline = (!earlier.is_empty()).then(|| mean_sd(&earlier).0);
    let change = value.zip(baseline).map(|(v, b)| v - b);
    let swc = (enough && sd.is_finite()).then_some(0.2 * sd);
    MetricNorm {
        metric,
        // As the assessment summary shows it.
        value: value.and_then(|v| round(v, 6)),
        population_size: reference.len(),
        population_mean: if enough { round(mean, 6) } else { None },
        percentile: value
            .filter(|_| enough)
            .map(|v| percentile_rank(reference, v)),
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
    }
}

#[cfg(test)]
mod tests {
    use mhp_domain::{AssessmentId, Timestamp};

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
            created_at: Timestamp::from_millis(0),
        }
    }

    fn day(s: &str) -> CalendarDate {
        CalendarDate::parse(s).unwrap_or_else(|_| unreachable!())
    }

    #[test]
    fn acwr_uses_seven_and_twenty_eight_day_windows() {
        let as_of = day("2026-03-28");
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
    fn load_is_shown_up_to_today_or_the_last_session_of_a_past_season() {
        let today = day("2026-12-06");
        assert_eq!(latest_day(today, None), today);
        assert_eq!(latest_day(today, Some(day("2026-12-01"))), today);
        assert_eq!(
            latest_day(today, Some(day("2026-11-09"))),
            today,
            "27 days back"
        );
        assert_eq!(
            latest_day(today, Some(day("2026-11-08"))),
            day("2026-11-08")
        );
        assert_eq!(
            latest_day(today, Some(day("2025-10-20"))),
            day("2025-10-20")
        );
    }

    #[test]
    fn percentiles_and_t_scores() {
        let v = [1.0, 2.0, 3.0, 4.0];
        assert!((percentile_rank(&v, 3.0) - 62.5).abs() < 1e-9);
        assert!((percentile_rank(&v, 9.0) - 100.0).abs() < 1e-9);
        let (m, sd) = mean_sd(&v);
        assert!((m - 2.5).abs() < 1e-12 && (sd - 1.290_994_448_7).abs() < 1e-9);
        assert!(mean_sd(&[2.0]).1.is_nan());
    }

    #[test]
    fn a_norm_needs_five_in_the_population_and_compares_with_the_earlier_tests() {
        let subject = SubjectId::new();
        let value = |v: f64, k: i64| MetricValue {
            assessment: AssessmentId::new(),
            subject,
            recorded_at: Timestamp::from_millis(k),
            metric: "jump_height_impulse_m".into(),
            value: v,
            sd: None,
            trials: 3,
        };
        let mine = [value(0.30, 1), value(0.32, 2), value(0.40, 3)];
        let series: Vec<&MetricValue> = mine.iter().collect();
        let few = metric_norm("jump_height_impulse_m", &series, &[0.3, 0.4, 0.5, 0.4]);
        assert_eq!((few.percentile, few.t_score), (None, None));
        assert_eq!(few.baseline, Some(0.31));
        assert_eq!(few.baseline_assessments, 2);
        assert_eq!(few.change, Some(0.09));
        let reference = [0.3, 0.4, 0.5, 0.4, 0.4];
        let n = metric_norm("jump_height_impulse_m", &series, &reference);
        assert_eq!(n.percentile, Some(50.0));
        assert_eq!(n.t_score, Some(50.0));
        assert_eq!(n.meaningful_change, Some(true), "0.09 against 0.2 × 0.0707");
    }
}
