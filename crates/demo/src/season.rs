//! The season simulation: one subject at a time, week by week, from the pre-season run-in to
//! the last week. See `docs/design/hazard-model.md` for the process in words.

use crate::calendar::MS_PER_DAY;
use crate::injury;
use crate::load::{self, Availability};
use crate::model::{
    self, ASYMMETRY_DRIFT_AR, ASYMMETRY_DRIFT_SD_PCT, ASYMMETRY_LIMIT_PCT,
    FATIGUE_DROP_PER_ACWR_PCT, MISSED_ASSESSMENT_PROBABILITY, PRIOR_INJURY_WINDOW_DAYS,
    READINESS_AR, READINESS_SD_PCT, RETURN_ASYMMETRY_PCT, RETURN_ASYMMETRY_PER_DAY_PCT,
    RETURN_DECAY, RETURN_DROP_PCT, RETURN_DROP_PER_DAY_PCT, RETURN_EFFECT_DAYS_CAP, RUN_IN_WEEKS,
    RiskFactors, SEASON_GAIN_PCT_PER_WEEK,
};
use crate::random::{Rng, derive_seed};
use crate::roster::{self, round_to};
use crate::{DemoInjury, DemoSpec, DemoSubject, LoadEntry, PlannedAssessment, WeeklyRisk};

/// Label of the subjects' season streams.
const SEASON_STREAM: u64 = 2;
/// Label of the recordings' noise seeds.
const RECORDING_STREAM: u64 = 3;
/// Autoregressive coefficient of the body-mass deviation.
const MASS_AR: f64 = 0.7;
/// SD of the weekly body-mass innovation, kg.
const MASS_SD_KG: f64 = 0.5;
/// Minutes between subjects at a team's testing session.
const MINUTES_PER_SUBJECT: i64 = 2;
/// Jump heights are kept in this range, m.
const HEIGHT_RANGE_M: (f64, f64) = (0.08, 0.80);

/// One subject's generated season (indexes local to the subject).
#[derive(Debug, Default)]
pub(crate) struct SubjectSeason {
    pub assessments: Vec<PlannedAssessment>,
    pub loads: Vec<LoadEntry>,
    pub injuries: Vec<DemoInjury>,
    /// Weekly truth, with `assessment` as an index into `assessments`.
    pub weekly: Vec<WeeklyRisk>,
}

/// The asymmetry and height drop an injury leaves on return, decaying weekly.
#[derive(Debug, Clone, Copy)]
struct ReturnEffect {
    cleared_day: i64,
    asymmetry_pct: f64,
    drop_pct: f64,
}

impl ReturnEffect {
    /// The effect's factor on `day`: 1 in the first week back, then × `RETURN_DECAY` a week.
    fn factor(&self, day: i64) -> f64 {
        if day < self.cleared_day {
            return 0.0;
        }
        let weeks = (day - self.cleared_day) / 7;
        RETURN_DECAY.powi(i32::try_from(weeks).unwrap_or(i32::MAX))
    }
}

/// Simulates subject `index` (`slot` is its place in the team's testing order).
pub(crate) fn simulate(
    spec: &DemoSpec,
    index: usize,
    slot: usize,
    subject: &DemoSubject,
) -> SubjectSeason {
    let sport = roster::sport(subject.team);
    let mut rng = Rng::stream(spec.seed, &[SEASON_STREAM, index as u64]);
    let first_day = spec.start_day - RUN_IN_WEEKS * 7;
    let mut daily = vec![0.0; (RUN_IN_WEEKS as usize + spec.weeks) * 7];
    let mut out = SubjectSeason::default();
    let mut readiness = 0.0;
    let mut drift = 0.0;
    let mut mass_dev = 0.0;
    let mut effect: Option<ReturnEffect> = None;

    for week in -RUN_IN_WEEKS..spec.weeks as i64 {
        let week_start = spec.start_day + 7 * week;
        if week >= 0 {
            readiness = READINESS_AR * readiness + READINESS_SD_PCT * rng.normal();
            drift = ASYMMETRY_DRIFT_AR * drift + ASYMMETRY_DRIFT_SD_PCT * rng.normal();
            mass_dev = MASS_AR * mass_dev + MASS_SD_KG * rng.normal();
            let miss_draw = rng.unit();
            let injury_draw = rng.unit();
            let in_time_loss = out
                .injuries
                .last()
                .is_some_and(|i| week_start < cleared_day(i));
            if !in_time_loss {
                let load_on = |d: i64| {
                    usize::try_from(d - first_day)
                        .ok()
                        .and_then(|i| daily.get(i))
                        .copied()
                        .unwrap_or(0.0)
                };
                let acwr = model::acwr(load_on, week_start);
                let (effect_asym, effect_drop) = effect.map_or((0.0, 0.0), |e| {
                    let f = e.factor(week_start);
                    (e.asymmetry_pct * f, e.drop_pct * f)
                });
                let drop = FATIGUE_DROP_PER_ACWR_PCT * (acwr - 1.0).max(0.0) + readiness
                    - SEASON_GAIN_PCT_PER_WEEK * week as f64
                    + effect_drop;
                let baseline = subject.baseline_jump_height_m;
                let height = round_to(
                    (baseline * (1.0 - drop / 100.0)).clamp(HEIGHT_RANGE_M.0, HEIGHT_RANGE_M.1),
                    4,
                );
                let height_drop_pct = 100.0 * (1.0 - height / baseline);
                let asymmetry_pct = round_to(
                    (subject.baseline_asymmetry_pct + drift + effect_asym)
                        .clamp(-ASYMMETRY_LIMIT_PCT, ASYMMETRY_LIMIT_PCT),
                    2,
                );
                let prior_injury = out.injuries.iter().any(|i| {
                    let since = week_start - cleared_day(i);
                    (0..=PRIOR_INJURY_WINDOW_DAYS).contains(&since)
                });
                let factors = RiskFactors {
                    asymmetry_pct,
                    height_drop_pct,
                    acwr,
                    prior_injury,
                    sport_offset: model::sport_offset(sport.code()),
                };
                let hazard = factors.weekly_hazard();
                let assessment = (miss_draw > MISSED_ASSESSMENT_PROBABILITY).then(|| {
                    let minute = sport.testing_minute() + MINUTES_PER_SUBJECT * slot as i64;
                    out.assessments.push(PlannedAssessment {
                        subject: index,
                        week: week as usize,
                        recorded_at_ms: week_start * MS_PER_DAY + minute * 60_000,
                        jump_height_m: height,
                        asymmetry_pct,
                        body_mass_kg: round_to(subject.body_mass_kg + mass_dev, 1),
                        seed: derive_seed(
                            spec.seed,
                            &[RECORDING_STREAM, index as u64, week as u64],
                        ),
                    });
                    out.assessments.len() - 1
                });
                let injured = injury_draw <= hazard;
                if injured {
                    let day = week_start + rng.below(7) as i64;
                    let injury = injury::draw(&mut rng, sport, index, day, asymmetry_pct);
                    effect = Some(return_effect(&mut rng, &injury));
                    out.injuries.push(injury);
                }
                out.weekly.push(WeeklyRisk {
                    subject: index,
                    week: week as usize,
                    hazard,
                    acwr,
                    height_drop_pct,
                    asymmetry_pct,
                    prior_injury,
                    injured,
                    assessment,
                });
            }
        }
        let injuries = &out.injuries;
        let sessions = load::week_sessions(&mut rng, sport, week, week_start, |day| {
            availability(injuries, day)
        });
        for s in sessions {
            if let Some(slot) = usize::try_from(s.day - first_day)
                .ok()
                .and_then(|i| daily.get_mut(i))
            {
                *slot += s.load();
            }
            out.loads.push(LoadEntry {
                subject: index,
                day: s.day,
                session_type: s.kind.to_owned(),
                duration_min: s.minutes,
                rpe: s.rpe,
            });
        }
    }
    out
}

fn cleared_day(injury: &DemoInjury) -> i64 {
    injury.occurred_day + i64::from(injury.time_loss_days)
}

/// The stage in force on `day`: the latest decision on or before it, for the injury whose
/// time loss covers the day (the day of injury itself is a normal day: it happened there).
fn availability(injuries: &[DemoInjury], day: i64) -> Availability {
    let Some(injury) = injuries
        .iter()
        .find(|i| i.occurred_day < day && day < cleared_day(i))
    else {
        return Availability::Full;
    };
    let stage = injury
        .return_to_duty
        .iter()
        .rev()
        .find(|(_, d)| *d <= day)
        .map_or("rest", |(s, _)| s.as_str());
    match stage {
        "rest" => Availability::Rest,
        "rehabilitation" => Availability::Rehabilitation,
        "modified_duty" => Availability::ModifiedDuty,
        "full_training" => Availability::FullTraining,
        _ => Availability::Full,
    }
}

/// What an injury leaves behind: asymmetry toward the uninjured side (positive asymmetry is
/// left-dominant, so a left injury pushes it negative; a central or bilateral injury half as
/// much, either way) and a height deficit, both growing with time loss.
fn return_effect(rng: &mut Rng, injury: &DemoInjury) -> ReturnEffect {
    let days = f64::from(injury.time_loss_days).min(RETURN_EFFECT_DAYS_CAP);
    let magnitude = RETURN_ASYMMETRY_PCT + RETURN_ASYMMETRY_PER_DAY_PCT * days;
    let either_way = if rng.chance(0.5) { 0.5 } else { -0.5 };
    let sign = match injury.side.as_str() {
        "left" => -1.0,
        "right" => 1.0,
        _ => either_way,
    };
    ReturnEffect {
        cleared_day: cleared_day(injury),
        asymmetry_pct: sign * magnitude,
        drop_pct: RETURN_DROP_PCT + RETURN_DROP_PER_DAY_PCT * days,
    }
}
