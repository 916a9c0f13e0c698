//! What the web application's team dashboard and athlete page show, assembled from the same
//! repositories the API reads and audited as the API's reads are: a roster that says who needs
//! attention first, and one athlete's trends, latest force-time curve, injuries and risk.

use std::collections::{BTreeMap, HashMap};

use mhp_domain::availability::Availability;
use mhp_domain::{CalendarDate, OrgScope, SubjectId, TeamId, Timestamp};
use mhp_storage::Access;
use mhp_storage::repo::assessments::{self, Assessment, SubjectSeries};
use mhp_storage::repo::injuries::{self, Decision, Injury};
use mhp_storage::repo::loads;
use mhp_storage::repo::risk::{self, Score};
use mhp_storage::repo::subjects::{Archived, Filter};
use mhp_storage::repo::teams::{self, Team};
use mhp_storage::repo::{Page, subjects as subject_rows};

use crate::monitoring;
use crate::subjects::{self, Identifiers, Listing, SubjectView};
use crate::{App, AppError, Caller};

/// The metric the roster leads with: jump height by impulse-momentum, m.
pub const JUMP_HEIGHT: &str = "jump_height_impulse_m";
/// The asymmetry the roster shows: propulsive impulse, left against right, %.
pub const ASYMMETRY: &str = "asymmetry.propulsive_impulse_pct";
/// Earlier assessments that make a baseline (the norms endpoint's rule).
pub const BASELINE_ASSESSMENTS: usize = 5;
/// Asymmetry beyond this, in either direction, is worth a look (%).
pub const ASYMMETRY_ATTENTION_PCT: f64 = 10.0;
/// Largest roster shown on one page.
const MAX_ROSTER: u32 = 500;

/// One athlete's line on the team dashboard.
#[derive(Debug, Clone)]
pub struct RosterRow {
    /// Who (identifiers as the caller may see them).
    pub subject: SubjectView,
    /// When their latest assessment was recorded.
    pub last_test: Option<Timestamp>,
    /// Latest jump height, m.
    pub jump_height_m: Option<f64>,
    /// Their own baseline: the mean of up to five earlier assessments, m.
    pub baseline_m: Option<f64>,
    /// Latest minus baseline, m.
    pub change_m: Option<f64>,
    /// Whether the change exceeds the team's smallest worthwhile change.
    pub beyond_swc: bool,
    /// Latest propulsive-impulse asymmetry, % (dual plates only).
    pub asymmetry_pct: Option<f64>,
    /// Latest risk band.
    pub risk_band: Option<String>,
    /// The band a week ago, to show its change.
    pub risk_band_week_ago: Option<String>,
    /// The acute:chronic workload ratio on the roster's `load_as_of` (`None` until 28 days of
    /// load are recorded).
    pub acwr: Option<f64>,
    /// Why they need attention, most urgent first (empty: nothing to act on).
    pub attention: Vec<Attention>,
}

/// A reason to look at an athlete first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Attention {
    /// Injured and out.
    Unavailable,
    /// Injured, on modified duty or full training but not yet cleared.
    Restricted,
    /// In the high risk band.
    HighRisk,
    /// Jump height dropped beyond the smallest worthwhile change.
    BelowBaseline,
    /// Asymmetry beyond ±10 %.
    Asymmetry,
    /// The acute:chronic workload ratio above 1.5.
    LoadSpike,
    /// No test in the last 14 days.
    NotTested,
}

impl Attention {
    /// In words, for the page.
    pub fn words(self) -> &'static str {
        match self {
            Attention::Unavailable => "unavailable",
            Attention::Restricted => "not cleared",
            Attention::HighRisk => "high risk",
            Attention::BelowBaseline => "jump height below baseline",
            Attention::Asymmetry => "asymmetry over 10 %",
            Attention::LoadSpike => "load spike (ACWR over 1.5)",
            Attention::NotTested => "not tested for 14 days",
        }
    }
}

/// One week of the team: the mean and the 10th–90th percentile band over its athletes of each
/// one's latest jump height that week (m), or of each one's load that week (AU).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TeamWeek {
    /// Monday of the week.
    pub week: CalendarDate,
    /// Athletes tested, or who trained.
    pub athletes: usize,
    /// Mean.
    pub mean: f64,
    /// 10th percentile.
    pub p10: f64,
    /// 90th percentile.
    pub p90: f64,
}

/// Weeks of training load the dashboard shows.
pub const LOAD_WEEKS: i64 = 12;

/// The team dashboard.
#[derive(Debug, Clone)]
pub struct Roster {
    /// The team shown.
    pub team: Team,
    /// Athletes, who needs attention first.
    pub rows: Vec<RosterRow>,
    /// The team's smallest worthwhile change in jump height (0.2 × between-athlete SD), m.
    pub swc_m: Option<f64>,
    /// Weekly jump height, oldest first.
    pub weeks: Vec<TeamWeek>,
    /// Weekly training load per athlete who trained, AU, oldest first (the last
    /// [`LOAD_WEEKS`] weeks up to `load_as_of`).
    pub load_weeks: Vec<TeamWeek>,
    /// The day the ratios are of: today, or the team's latest session when none lies in the
    /// last 28 days.
    pub load_as_of: CalendarDate,
}

/// The teams `reach` lets the caller open, by name.
pub async fn teams_in_reach(
    app: &App,
    scope: &OrgScope,
    reach: Option<&[TeamId]>,
) -> Result<Vec<Team>, AppError> {
    let mut tx = app.db.tenant(scope, Access::Read).await?;
    let mut all = teams::list(&mut tx, Page::first(200)).await?;
    if let Some(mine) = reach {
        all.retain(|t| mine.contains(&t.id));
    }
    all.sort_by(|a, b| a.name.as_str().cmp(b.name.as_str()));
    Ok(all)
}

/// The dashboard of `team`: its athletes with availability, risk band and its change since a
/// week ago, latest jump height against their own baseline, asymmetry, workload ratio and last
/// test, sorted by who needs attention first; and the team's weekly jump height and training
/// load. Opening the names is recorded as the API's roster read is (`subject.list`).
pub async fn team_roster(
    app: &App,
    scope: &OrgScope,
    caller: &Caller,
    team: TeamId,
    shown: Identifiers,
) -> Result<Roster, AppError> {
    let listing = Listing {
        filter: Filter {
            team: Some(team),
            term: None,
            sex: None,
            sport: None,
            archived: Archived::Exclude,
            ids: None,
        },
        page: Page::first(MAX_ROSTER),
        newest_first: false,
        with_risk_bands: true,
    };
    let today = app.today();
    let week_ago = today.plus_days(-7);
    // Three reads on three connections at once (SQLite's readers do not wait for each other
    // in WAL mode): the listing with its audit event, the season of jump heights (for the
    // baselines and the team trend), and the latest asymmetries.
    let asymmetries = async {
        let mut tx = app.db.tenant(scope, Access::Read).await?;
        Ok::<_, AppError>(assessments::team_latest_of(&mut tx, team, ASYMMETRY).await?)
    };
    let others = async {
        let mut tx = app.db.tenant(scope, Access::Read).await?;
        let team_row = teams::get(&mut tx, team).await?;
        let heights = assessments::team_series_of(&mut tx, team, &[JUMP_HEIGHT]).await?;
        let before: HashMap<SubjectId, String> = risk::latest_as_of(&mut tx, &week_ago.to_string())
            .await?
            .into_iter()
            .map(|s| (s.subject, s.band))
            .collect();
        Ok::<_, AppError>((team_row, heights, before))
    };
    let team_loads = async {
        let mut tx = app.db.tenant(scope, Access::Read).await?;
        let last = loads::team_latest_day(&mut tx, team, &today.to_string())
            .await?
            .and_then(|d| CalendarDate::parse(&d).ok());
        // A season loaded from the past shows its last weeks rather than nothing.
        let as_of = monitoring::latest_day(today, last);
        let day = |n: i64| as_of.plus_days(-n).to_string();
        let monday = as_of.week_start();
        let weeks: Vec<String> = (0..LOAD_WEEKS)
            .rev()
            .map(|k| monday.plus_days(-7 * k).to_string())
            .collect();
        let summary = loads::team_load_summary(
            &mut tx,
            team,
            &loads::LoadDays {
                as_of: &as_of.to_string(),
                acute_from: &day(6),
                chronic_from: &day(monitoring::CHRONIC_DAYS - 1),
                covered_by: &day(21),
                weeks: &weeks,
            },
        )
        .await?;
        Ok::<_, AppError>((summary, weeks, as_of))
    };
    let (page, others, asymmetries, team_loads) = tokio::join!(
        subjects::list(app, scope, caller, shown, &listing),
        others,
        asymmetries,
        team_loads
    );
    let page = page?;
    let (team_loads, load_weeks, load_as_of) = team_loads?;
    let ratios: HashMap<SubjectId, Option<f64>> = team_loads
        .iter()
        .map(|m| (m.subject, member_acwr(m, load_as_of)))
        .collect();
    let (team_row, mut values, before) = others?;
    values.extend(asymmetries?);
    let mut by_subject: HashMap<SubjectId, Vec<&SubjectSeries>> = HashMap::new();
    for v in &values {
        by_subject.entry(v.subject).or_default().push(v);
    }
    let latest_heights: Vec<f64> = page
        .items
        .iter()
        .filter_map(|s| latest(by_subject.get(&s.id), JUMP_HEIGHT).map(|(_, v)| v))
        .collect();
    let swc_m = (latest_heights.len() >= 5).then(|| 0.2 * monitoring::mean_sd(&latest_heights).1);
    let now = app.now();
    let mut rows: Vec<RosterRow> = page
        .items
        .into_iter()
        .map(|subject| {
            let mine = by_subject.get(&subject.id);
            let height = latest(mine, JUMP_HEIGHT);
            let earlier: Vec<f64> = series_of(mine, JUMP_HEIGHT)
                .iter()
                .rev()
                .skip(1)
                .take(BASELINE_ASSESSMENTS)
                .map(|(_, v)| *v)
                .collect();
            let baseline_m = (!earlier.is_empty()).then(|| monitoring::mean_sd(&earlier).0);
            let change_m = height.map(|(_, h)| h).zip(baseline_m).map(|(h, b)| h - b);
            let beyond_swc = change_m.zip(swc_m).is_some_and(|(c, w)| c.abs() > w);
            let last_test = mine.and_then(|m| {
                m.iter()
                    .filter_map(|s| s.points.last().map(|(t, _)| *t))
                    .max()
            });
            let asymmetry_pct = latest(mine, ASYMMETRY).map(|(_, v)| v);
            let acwr = ratios.get(&subject.id).copied().flatten();
            let mut attention = Vec::new();
            match subject.availability {
                Availability::Unavailable => attention.push(Attention::Unavailable),
                Availability::ModifiedDuty | Availability::FullTraining => {
                    attention.push(Attention::Restricted);
                }
                Availability::Available => {}
            }
            if subject.risk_band.as_deref() == Some("high") {
                attention.push(Attention::HighRisk);
            }
            if beyond_swc && change_m.is_some_and(|c| c < 0.0) {
                attention.push(Attention::BelowBaseline);
            }
            if asymmetry_pct.is_some_and(|a| a.abs() > ASYMMETRY_ATTENTION_PCT) {
                attention.push(Attention::Asymmetry);
            }
            if acwr.is_some_and(|r| r > monitoring::ACWR_SPIKE) {
                attention.push(Attention::LoadSpike);
            }
            if last_test.is_none_or(|t| now.as_millis() - t.as_millis() > 14 * 86_400_000) {
                attention.push(Attention::NotTested);
            }
            RosterRow {
                risk_band_week_ago: before.get(&subject.id).cloned(),
                risk_band: subject.risk_band.clone(),
                subject,
                last_test,
                jump_height_m: height.map(|(_, h)| h),
                baseline_m,
                change_m,
                beyond_swc,
                asymmetry_pct,
                acwr,
                attention,
            }
        })
        .collect();
    // Who needs attention first: the most urgent reason, then how many, then by name.
    rows.sort_by(|a, b| {
        let first = |r: &RosterRow| r.attention.first().copied();
        match (first(a), first(b)) {
            (Some(x), Some(y)) => x
                .cmp(&y)
                .then(b.attention.len().cmp(&a.attention.len()))
                .then_with(|| a.subject.name.cmp(&b.subject.name)),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => a.subject.name.cmp(&b.subject.name),
        }
    });
    Ok(Roster {
        team: team_row,
        rows,
        swc_m,
        weeks: weekly(&values),
        load_weeks: weekly_load(&team_loads, &load_weeks),
        load_as_of,
    })
}

/// A subject's points of a metric, oldest first (none when it has none).
fn series_of<'a>(mine: Option<&Vec<&'a SubjectSeries>>, metric: &str) -> &'a [(Timestamp, f64)] {
    mine.and_then(|m| m.iter().find(|s| s.metric == metric))
        .map_or(&[], |s| s.points.as_slice())
}

/// A subject's latest point of a metric.
fn latest(mine: Option<&Vec<&SubjectSeries>>, metric: &str) -> Option<(Timestamp, f64)> {
    series_of(mine, metric).last().copied()
}

/// Linear-interpolated percentile of sorted values, `q` in [0, 1].
fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    #[allow(clippy::cast_precision_loss)]
    let pos = q * (sorted.len() - 1) as f64;
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let lo = pos.floor() as usize;
    let hi = (lo + 1).min(sorted.len() - 1);
    let at = |i: usize| sorted.get(i).copied().unwrap_or(f64::NAN);
    #[allow(clippy::cast_precision_loss)]
    let frac = pos - lo as f64;
    at(lo) + (at(hi) - at(lo)) * frac
}

/// The Monday of the week holding `t` (UTC).
pub fn week_of(t: Timestamp) -> CalendarDate {
    CalendarDate::from_unix_millis(t.as_millis()).week_start()
}

/// A member's workload ratio as of `as_of` from their window sums: the sums stand in for the
/// sessions (the acute load on the day, the rest of the chronic load a week before), so the
/// ratio is the one `monitoring::acwr_of` gives every reader.
fn member_acwr(m: &loads::MemberLoad, as_of: CalendarDate) -> Option<f64> {
    let earlier = as_of.plus_days(-7);
    let covered_from = m.covered.then(|| as_of.plus_days(-21));
    monitoring::acwr_of(
        [(as_of, m.acute_au), (earlier, m.chronic_au - m.acute_au)],
        as_of,
        covered_from,
    )
    .ratio
}

/// Each week's load of each athlete who trained (a sum over zero), spread over the athletes.
fn weekly_load(members: &[loads::MemberLoad], weeks: &[String]) -> Vec<TeamWeek> {
    let mut by_week: BTreeMap<CalendarDate, BTreeMap<SubjectId, f64>> = BTreeMap::new();
    for m in members {
        for (monday, au) in weeks.iter().zip(&m.weeks_au) {
            let Ok(week) = CalendarDate::parse(monday) else {
                continue;
            };
            if *au > 0 {
                #[allow(clippy::cast_precision_loss)]
                by_week
                    .entry(week)
                    .or_default()
                    .insert(m.subject, *au as f64);
            }
        }
    }
    band_by_week(by_week)
}

/// Mean and 10th–90th percentile of each week's values, one per athlete.
fn band_by_week(weeks: BTreeMap<CalendarDate, BTreeMap<SubjectId, f64>>) -> Vec<TeamWeek> {
    weeks
        .into_iter()
        .map(|(week, by_athlete)| {
            let mut xs: Vec<f64> = by_athlete.into_values().collect();
            xs.sort_by(f64::total_cmp);
            TeamWeek {
                week,
                athletes: xs.len(),
                mean: monitoring::mean_sd(&xs).0,
                p10: percentile(&xs, 0.1),
                p90: percentile(&xs, 0.9),
            }
        })
        .collect()
}

fn weekly(values: &[SubjectSeries]) -> Vec<TeamWeek> {
    let mut weeks: BTreeMap<CalendarDate, BTreeMap<SubjectId, f64>> = BTreeMap::new();
    for s in values.iter().filter(|s| s.metric == JUMP_HEIGHT) {
        // Oldest first: the latest value of the week wins.
        for (at, v) in &s.points {
            weeks.entry(week_of(*at)).or_default().insert(s.subject, *v);
        }
    }
    band_by_week(weeks)
}

/// One metric over time for one athlete.
#[derive(Debug, Clone)]
pub struct MetricSeries {
    /// The metric's name as stored.
    pub metric: &'static str,
    /// (when recorded, value), oldest first.
    pub points: Vec<(Timestamp, f64)>,
    /// Mean of up to five assessments before the latest.
    pub baseline: Option<f64>,
}

/// An injury with its return-to-duty decisions, oldest decision first.
#[derive(Debug, Clone)]
pub struct InjuryCourse {
    /// The injury.
    pub injury: Injury,
    /// Its decisions.
    pub decisions: Vec<Decision>,
}

/// The force-time curve of an assessment, as the engine read its raw file.
#[derive(Debug, Clone)]
pub struct Trace {
    /// Sample rate, Hz.
    pub sample_rate_hz: f64,
    /// Total vertical force, N.
    pub total: Vec<f64>,
    /// Left and right plates, when there were two.
    pub sides: Option<(Vec<f64>, Vec<f64>)>,
}

/// The athlete page.
#[derive(Debug, Clone)]
pub struct Athlete {
    /// Who.
    pub subject: SubjectView,
    /// The key metrics over time.
    pub series: Vec<MetricSeries>,
    /// Assessments, newest first (at most 200).
    pub assessments: Vec<Assessment>,
    /// The engine's report of the latest assessment, as stored (JSON).
    pub latest_report: Option<serde_json::Value>,
    /// Injuries, newest first, with their decisions.
    pub injuries: Vec<InjuryCourse>,
    /// Risk scores, newest first (at most 60).
    pub risk: Vec<Score>,
}

/// One athlete's page: identifiers, key metric trends, assessments and the latest report,
/// injuries with their return-to-duty decisions and risk history; recorded as the API's
/// subject read is (`subject.read`), committed before the page is answered.
pub async fn athlete(
    app: &App,
    scope: &OrgScope,
    caller: &Caller,
    id: SubjectId,
    shown: Identifiers,
    metrics: &[&'static str],
) -> Result<Athlete, AppError> {
    let now = app.now();
    let mut tx = app.db.tenant(scope, Access::Read).await?;
    let s = subject_rows::get_including_archived(&mut tx, id).await?;
    let subject = subjects::open_today(app, &mut tx, &s, shown).await?;
    let values = assessments::subject_metric_values(&mut tx, id, metrics).await?;
    let list = assessments::list_for_subject(&mut tx, id, Page::first(200)).await?;
    let latest_report = match list.first() {
        Some(a) => {
            serde_json::from_str(&assessments::current_result(&mut tx, a).await?.report_json).ok()
        }
        None => None,
    };
    let mut courses = Vec::new();
    for injury in injuries::list_for_subject(&mut tx, id).await? {
        let decisions = injuries::decisions(&mut tx, injury.id).await?;
        courses.push(InjuryCourse { injury, decisions });
    }
    let risk = risk::history(&mut tx, id, 60).await?;
    drop(tx);
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
    let series = metrics
        .iter()
        .map(|metric| {
            let points: Vec<(Timestamp, f64)> = values
                .iter()
                .filter(|v| v.metric == *metric)
                .map(|v| (v.recorded_at, v.value))
                .collect();
            let earlier: Vec<f64> = points
                .iter()
                .rev()
                .skip(1)
                .take(BASELINE_ASSESSMENTS)
                .map(|p| p.1)
                .collect();
            MetricSeries {
                metric,
                baseline: (!earlier.is_empty()).then(|| monitoring::mean_sd(&earlier).0),
                points,
            }
        })
        .collect();
    Ok(Athlete {
        subject,
        series,
        assessments: list,
        latest_report,
        injuries: courses,
        risk,
    })
}

/// The force-time curve of one of the athlete's assessments, read from its sealed raw file as
/// the engine reads it; recorded as the API's assessment read is (`assessment.read`).
pub async fn trace(
    app: &App,
    scope: &OrgScope,
    caller: &Caller,
    a: &Assessment,
) -> Result<Trace, AppError> {
    let (raw, opts) = crate::assessments::read_raw(app, scope, a).await?;
    let recording = tokio::task::spawn_blocking(move || {
        mhp_biomech::parse_recording("upload", std::io::Cursor::new(raw), &opts)
    })
    .await
    .map_err(AppError::internal)?
    .map_err(|e| AppError::internal(format!("a stored raw file no longer parses: {e}")))?;
    let now = app.now();
    caller
        .record_read(
            app,
            scope,
            "assessment.read",
            "assessment",
            Some(a.id.to_string()),
            now,
        )
        .await?;
    let sides = match &recording.plates {
        mhp_biomech::Plates::Dual { left, right } => Some((left.clone(), right.clone())),
        mhp_biomech::Plates::Single { .. } => None,
    };
    Ok(Trace {
        sample_rate_hz: recording.sample_rate.hz(),
        total: recording.plates.total(),
        sides,
    })
}

/// The engine's stored report of one of the athlete's assessments (its current result), as
/// JSON: where the phases of its jumps are, to align two curves.
pub async fn report(
    app: &App,
    scope: &OrgScope,
    a: &Assessment,
) -> Result<Option<serde_json::Value>, AppError> {
    let mut tx = app.db.tenant(scope, Access::Read).await?;
    let result = assessments::current_result(&mut tx, a).await?;
    Ok(serde_json::from_str(&result.report_json).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 86_400_000;

    fn date_of_day(day: i64) -> CalendarDate {
        CalendarDate::from_unix_millis(day * DAY)
    }

    fn series(subject: SubjectId, metric: &str, points: &[(i64, f64)]) -> SubjectSeries {
        SubjectSeries {
            subject,
            metric: metric.to_owned(),
            points: points
                .iter()
                .map(|(d, v)| (Timestamp::from_millis(d * DAY), *v))
                .collect(),
        }
    }

    #[test]
    fn a_week_counts_each_athletes_latest_jump_once() {
        // Day 4 (1970-01-05) is a Monday.
        let (a, b) = (SubjectId::new(), SubjectId::new());
        let values = vec![
            series(a, JUMP_HEIGHT, &[(4, 0.30), (6, 0.34), (12, 0.40)]),
            series(b, JUMP_HEIGHT, &[(5, 0.20)]),
            series(a, ASYMMETRY, &[(4, 50.0)]),
        ];
        let weeks = weekly(&values);
        assert_eq!(weeks.len(), 2);
        assert_eq!(weeks[0].week, date_of_day(4));
        assert_eq!(weeks[0].athletes, 2, "a's two jumps of the week count once");
        assert!(
            (weeks[0].mean - 0.27).abs() < 1e-12,
            "the latest of the week: 0.34"
        );
        assert!((weeks[0].p10 - 0.214).abs() < 1e-12);
        assert!((weeks[0].p90 - 0.326).abs() < 1e-12);
        assert_eq!((weeks[1].week, weeks[1].athletes), (date_of_day(11), 1));
    }

    #[test]
    fn a_weeks_load_is_each_athletes_sum_spread_over_those_who_trained() {
        let (a, b) = (SubjectId::new(), SubjectId::new());
        let weeks = vec![date_of_day(4).to_string(), date_of_day(11).to_string()];
        let member = |subject, weeks_au: Vec<i64>| loads::MemberLoad {
            subject,
            acute_au: 0,
            chronic_au: 0,
            covered: false,
            weeks_au,
        };
        let w = weekly_load(
            &[member(a, vec![800, 100]), member(b, vec![200, 0])],
            &weeks,
        );
        assert_eq!(w.len(), 2);
        assert_eq!((w[0].week, w[0].athletes), (date_of_day(4), 2));
        assert!((w[0].mean - 500.0).abs() < 1e-9, "a 800, b 200");
        assert!((w[0].p90 - 740.0).abs() < 1e-9);
        assert_eq!(
            (w[1].week, w[1].athletes),
            (date_of_day(11), 1),
            "b did not train"
        );
        assert!((w[1].mean - 100.0).abs() < 1e-9);
    }

    #[test]
    fn a_members_ratio_from_window_sums_is_the_ratio_of_their_sessions() {
        let as_of = date_of_day(100);
        let m = loads::MemberLoad {
            subject: SubjectId::new(),
            acute_au: 900,
            chronic_au: 1800,
            covered: true,
            weeks_au: vec![],
        };
        // 900 over a weekly mean of 1800 / 4 = 450.
        assert_eq!(member_acwr(&m, as_of), Some(2.0));
        let sessions = [(date_of_day(98), 900), (date_of_day(80), 900)];
        let direct = monitoring::acwr_of(sessions, as_of, Some(date_of_day(75))).ratio;
        assert_eq!(member_acwr(&m, as_of), direct);
        let young = loads::MemberLoad {
            covered: false,
            ..m
        };
        assert_eq!(member_acwr(&young, as_of), None, "history too short");
    }

    #[test]
    fn the_latest_point_and_the_earlier_ones_come_from_the_named_metric() {
        let a = SubjectId::new();
        let mine = [
            series(a, ASYMMETRY, &[(1, 12.0), (9, 3.0)]),
            series(a, JUMP_HEIGHT, &[(1, 0.30), (2, 0.31), (3, 0.35)]),
        ];
        let refs: Vec<&SubjectSeries> = mine.iter().collect();
        let at = latest(Some(&refs), JUMP_HEIGHT).map(|(t, v)| (t.as_millis() / DAY, v));
        assert_eq!(at, Some((3, 0.35)));
        assert_eq!(latest(Some(&refs), ASYMMETRY).map(|(_, v)| v), Some(3.0));
        assert_eq!(series_of(Some(&refs), "unknown_metric").len(), 0);
        assert_eq!(latest(None, JUMP_HEIGHT), None);
    }
}
