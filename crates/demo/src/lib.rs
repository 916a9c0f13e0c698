//! MHP's demo organisation: a deterministic synthetic organisation (teams, subjects, weekly
//! jump assessments, training load, injuries with return to duty) generated from a documented
//! injury hazard model, and the force-plate files of its assessments on demand.
//!
//! Pure: no I/O, no async, no clock, no randomness but generators seeded from
//! [`DemoSpec::seed`]; the same spec always gives the same organisation and the same bytes.
//! `mhp demo` sends what this crate plans through the same path as real uploads.
//!
//! # Use
//!
//! ```
//! let spec = mhp_demo::DemoSpec { subjects_per_team: 4, weeks: 3, ..Default::default() };
//! let org = mhp_demo::plan(&spec)?;
//! assert_eq!(org.subjects.len(), 12);
//! let csv = mhp_demo::recording_csv(&org, 0)?;
//! assert!(csv.starts_with("# sample_rate_hz: 1000"));
//! # Ok::<(), mhp_demo::DemoError>(())
//! ```
//!
//! # What is generated
//!
//! * [`DemoOrg::teams`]: three by default, "Senior Rugby" (rugby), "Infantry Platoon 2"
//!   (military, 15 % women), "Women's Football" (football); more teams repeat the pattern.
//! * [`DemoOrg::subjects`]: fictional names, external ids `DEMO-000001`…, sex, birth day,
//!   baselines (jump height, body mass, signed asymmetry) by sport and sex.
//! * [`DemoOrg::assessments`]: one countermovement-jump session (3 jumps, dual plate) per
//!   subject and week, on the Monday, except while in time loss (and 3 % missed at random).
//!   [`recording_csv`] turns one into an MHP CSV file.
//! * [`DemoOrg::loads`]: 3–5 sessions a week (session-RPE), from four pre-season weeks before
//!   [`DemoSpec::start_day`] so that the first week has a chronic load.
//! * [`DemoOrg::injuries`]: time-loss injuries with coded region, type, side, severity,
//!   mechanism and return-to-duty stages.
//! * [`DemoOrg::weekly_truth`]: the true hazard and its inputs for every subject-week at risk,
//!   the yardstick for risk models (`docs/design/hazard-model.md`).
//!
//! Dates are days since 1970-01-01 ([`iso_date`] formats them), timestamps unix milliseconds
//! (UTC).

mod calendar;
pub mod injury;
mod load;
pub mod model;
mod random;
mod recording;
mod roster;
mod season;

pub use calendar::{MS_PER_DAY, civil_from_days, days_from_civil, iso_date, weekday};
pub use injury::{return_to_duty, severity_for_time_loss};
pub use recording::{JUMPS_PER_SESSION, NOISE_FRACTION, recording_csv};

use mhp_biomech::synth::SynthError;
use mhp_domain::Sex;

/// The default first Monday of the season: 2025-09-01.
pub const DEFAULT_START_DAY: i64 = days_from_civil(2025, 9, 1);

/// What to generate.
#[derive(Debug, Clone, PartialEq)]
pub struct DemoSpec {
    /// Seed of every random draw.
    pub seed: u64,
    /// Number of teams (1..=12).
    pub teams: usize,
    /// Subjects in each team (1..=500).
    pub subjects_per_team: usize,
    /// Weeks of the season (1..=104).
    pub weeks: usize,
    /// Days since 1970-01-01 of the season's first Monday (years 1900..=2200).
    pub start_day: i64,
    /// Sample rate of the recordings, Hz (200..=10000).
    pub sample_rate_hz: f64,
}

impl Default for DemoSpec {
    fn default() -> Self {
        Self {
            seed: 1,
            teams: 3,
            subjects_per_team: 50,
            weeks: 16,
            start_day: DEFAULT_START_DAY,
            sample_rate_hz: 1000.0,
        }
    }
}

/// Why a demo cannot be generated.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DemoError {
    /// A spec field is out of its range.
    #[error("demo {field} is out of range ({range})")]
    OutOfRange {
        /// The field.
        field: &'static str,
        /// Its accepted range.
        range: &'static str,
    },
    /// No planned assessment has this index.
    #[error("the demo has no assessment {0}")]
    NoSuchAssessment(usize),
    /// The synthetic recording could not be built.
    #[error(transparent)]
    Synth(#[from] SynthError),
}

/// The planned organisation.
#[derive(Debug, Clone, PartialEq)]
pub struct DemoOrg {
    /// The spec it was planned from.
    pub spec: DemoSpec,
    /// Teams.
    pub teams: Vec<DemoTeam>,
    /// Subjects, team by team.
    pub subjects: Vec<DemoSubject>,
    /// Assessments, in order of `recorded_at_ms` (then subject).
    pub assessments: Vec<PlannedAssessment>,
    /// Training sessions, subject by subject, in day order.
    pub loads: Vec<LoadEntry>,
    /// Injuries, in order of `occurred_day` (then subject).
    pub injuries: Vec<DemoInjury>,
    /// The truth of every subject-week at risk, subject by subject, in week order.
    pub weekly_truth: Vec<WeeklyRisk>,
}

/// A team.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoTeam {
    /// Display name, e.g. "Senior Rugby".
    pub name: String,
    /// Sport code: `rugby`, `military` or `football`.
    pub sport: String,
}

/// A subject and their baselines.
#[derive(Debug, Clone, PartialEq)]
pub struct DemoSubject {
    /// Index into [`DemoOrg::teams`].
    pub team: usize,
    /// A fictional full name.
    pub name: String,
    /// Unique in the organisation: `DEMO-000001`, …
    pub external_id: String,
    /// Sex.
    pub sex: Sex,
    /// Days since 1970-01-01.
    pub birth_day: i64,
    /// The team's sport code.
    pub sport: String,
    /// Baseline body mass, kg.
    pub body_mass_kg: f64,
    /// Baseline countermovement-jump height, m.
    pub baseline_jump_height_m: f64,
    /// Baseline signed asymmetry, % (positive: left larger).
    pub baseline_asymmetry_pct: f64,
}

/// One countermovement-jump session to record.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedAssessment {
    /// Index into [`DemoOrg::subjects`].
    pub subject: usize,
    /// Season week, 0-based.
    pub week: usize,
    /// Unix milliseconds (UTC), the Monday of the week.
    pub recorded_at_ms: i64,
    /// Jump height of each of the 3 jumps, m.
    pub jump_height_m: f64,
    /// Signed asymmetry, % (positive: left larger).
    pub asymmetry_pct: f64,
    /// Body mass, kg.
    pub body_mass_kg: f64,
    /// Seed of the recording's noise.
    pub seed: u64,
}

/// One training session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadEntry {
    /// Index into [`DemoOrg::subjects`].
    pub subject: usize,
    /// Days since 1970-01-01.
    pub day: i64,
    /// Lowercase snake_case, e.g. `field`, `gym`, `match`, `ruck_march`, `rehabilitation`.
    pub session_type: String,
    /// Minutes.
    pub duration_min: u32,
    /// Rating of perceived exertion, CR-10 (0..=10).
    pub rpe: u8,
}

impl LoadEntry {
    /// Session-RPE load (Foster et al. 2001), AU.
    pub fn load_au(&self) -> u32 {
        self.duration_min * u32::from(self.rpe)
    }
}

/// A time-loss injury.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoInjury {
    /// Index into [`DemoOrg::subjects`].
    pub subject: usize,
    /// Days since 1970-01-01.
    pub occurred_day: i64,
    /// Lowercase snake_case, e.g. `knee`, `hamstring`, `lower_back`.
    pub body_region: String,
    /// Lowercase snake_case, e.g. `ligament_sprain`, `muscle_strain`, `bone_stress`.
    pub injury_type: String,
    /// `left`, `right`, `bilateral` or `central`.
    pub side: String,
    /// From time loss: `none`, `minimal`, `mild`, `moderate` or `severe`.
    pub severity: String,
    /// `contact`, `non_contact`, `overuse` or `unknown`.
    pub mechanism: String,
    /// Days (at least 1).
    pub time_loss_days: u32,
    /// Return-to-duty decisions in day order (`rest` … `cleared`), the last `cleared` on
    /// `occurred_day + time_loss_days`.
    pub return_to_duty: Vec<(String, i64)>,
}

/// The truth of one subject-week at risk (not in time loss at the week's start).
#[derive(Debug, Clone, PartialEq)]
pub struct WeeklyRisk {
    /// Index into [`DemoOrg::subjects`].
    pub subject: usize,
    /// Season week, 0-based.
    pub week: usize,
    /// Probability of a new time-loss injury during the week.
    pub hazard: f64,
    /// Acute:chronic workload ratio at the start of the week.
    pub acwr: f64,
    /// Drop of this week's jump height from the baseline, %.
    pub height_drop_pct: f64,
    /// This week's signed asymmetry, %.
    pub asymmetry_pct: f64,
    /// Cleared from a time-loss injury within the previous 56 days.
    pub prior_injury: bool,
    /// Whether a new injury occurred during the week.
    pub injured: bool,
    /// Index into [`DemoOrg::assessments`], or `None` when the session was missed.
    pub assessment: Option<usize>,
}

impl DemoOrg {
    /// Share of subjects with at least one injury.
    pub fn injured_subject_share(&self) -> f64 {
        let mut injured = vec![false; self.subjects.len()];
        for i in &self.injuries {
            if let Some(flag) = injured.get_mut(i.subject) {
                *flag = true;
            }
        }
        let n = injured.iter().filter(|x| **x).count();
        n as f64 / self.subjects.len().max(1) as f64
    }

    /// AUC of the true weekly hazard for the week's injury: what a perfect risk model would
    /// reach on this organisation. `None` without both injured and uninjured weeks.
    pub fn hazard_auc(&self) -> Option<f64> {
        let scores: Vec<f64> = self.weekly_truth.iter().map(|w| w.hazard).collect();
        let labels: Vec<bool> = self.weekly_truth.iter().map(|w| w.injured).collect();
        model::auc(&scores, &labels)
    }
}

/// Plans the organisation for `spec`.
pub fn plan(spec: &DemoSpec) -> Result<DemoOrg, DemoError> {
    validate(spec)?;
    let teams: Vec<DemoTeam> = (0..spec.teams).map(roster::team).collect();
    let mut names = std::collections::BTreeSet::new();
    let mut rng = random::Rng::stream(spec.seed, &[ROSTER_STREAM]);
    let mut subjects = Vec::with_capacity(spec.teams * spec.subjects_per_team);
    for team in 0..spec.teams {
        for _ in 0..spec.subjects_per_team {
            let index = subjects.len();
            subjects.push(roster::subject(
                &mut rng,
                team,
                index,
                spec.start_day,
                &mut names,
            ));
        }
    }

    let mut assessments: Vec<(PlannedAssessment, Option<usize>)> = Vec::new();
    let mut loads = Vec::new();
    let mut injuries = Vec::new();
    let mut weekly_truth = Vec::new();
    for (index, subject) in subjects.iter().enumerate() {
        let slot = index % spec.subjects_per_team;
        let season = season::simulate(spec, index, slot, subject);
        let mut row_of = vec![None; season.assessments.len()];
        for (row, w) in season.weekly.iter().enumerate() {
            if let Some(a) = w.assessment
                && let Some(r) = row_of.get_mut(a)
            {
                *r = Some(weekly_truth.len() + row);
            }
        }
        assessments.extend(season.assessments.into_iter().zip(row_of));
        loads.extend(season.loads);
        injuries.extend(season.injuries);
        weekly_truth.extend(season.weekly);
    }

    // Chronological order for uploading; the weekly truth follows its assessment.
    assessments.sort_by_key(|(a, _)| (a.recorded_at_ms, a.subject));
    let mut planned = Vec::with_capacity(assessments.len());
    for (a, row) in assessments {
        if let Some(w) = row.and_then(|r| weekly_truth.get_mut(r)) {
            w.assessment = Some(planned.len());
        }
        planned.push(a);
    }
    injuries.sort_by_key(|i: &DemoInjury| (i.occurred_day, i.subject));
    Ok(DemoOrg {
        spec: spec.clone(),
        teams,
        subjects,
        assessments: planned,
        loads,
        injuries,
        weekly_truth,
    })
}

/// Label of the roster stream.
const ROSTER_STREAM: u64 = 1;

fn validate(spec: &DemoSpec) -> Result<(), DemoError> {
    let out = |field, range| Err(DemoError::OutOfRange { field, range });
    if !(1..=12).contains(&spec.teams) {
        return out("teams", "1..=12");
    }
    if !(1..=500).contains(&spec.subjects_per_team) {
        return out("subjects_per_team", "1..=500");
    }
    if !(1..=104).contains(&spec.weeks) {
        return out("weeks", "1..=104");
    }
    let years = days_from_civil(1900, 1, 1)..=days_from_civil(2200, 1, 1);
    if !years.contains(&spec.start_day) || weekday(spec.start_day) != 0 {
        return out("start_day", "a Monday in 1900..=2200");
    }
    if !(spec.sample_rate_hz.is_finite() && (200.0..=10_000.0).contains(&spec.sample_rate_hz)) {
        return out("sample_rate_hz", "200..=10000");
    }
    Ok(())
}
