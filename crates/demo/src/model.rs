//! The injury hazard model: the ground truth the demo organisation is generated from, and the
//! constants of the week-to-week dynamics that feed it. `docs/design/hazard-model.md` explains
//! every number here; a test keeps the two in step.
//!
//! Each week, at the Monday assessment, a subject who is not in time loss has a discrete-time
//! hazard of a new time-loss injury during that week (complementary log-log link, so that
//! `exp(coefficient)` is a hazard ratio of an underlying piecewise-constant hazard):
//!
//! ```text
//! η = B0 + sport offset
//!     + B_ASYMMETRY    · min(max(0, |asym| − 10), 30) / 10
//!     + B_HEIGHT_DROP  · min(max(0, drop − 5), 30) / 10
//!     + B_ACWR         · max(0, min(acwr, 2) − 1.3) / 0.3
//!     + B_PRIOR_INJURY · [cleared from a time-loss injury in the last 56 days]
//! h = 1 − exp(−exp(η))
//! ```

/// Intercept: a subject with no risk factor in a sport with offset 0 has a weekly hazard of
/// 1 − exp(−exp(−4.6)) ≈ 1.00 %.
pub const B0: f64 = -4.6;
/// Log hazard ratio per 10 percentage points of |asymmetry| beyond the threshold.
pub const B_ASYMMETRY: f64 = 1.2;
/// Log hazard ratio per 10 % of jump-height drop (from the personal baseline) beyond the
/// threshold.
pub const B_HEIGHT_DROP: f64 = 1.2;
/// Log hazard ratio per 0.3 of ACWR beyond the threshold.
pub const B_ACWR: f64 = 1.0;
/// Log hazard ratio of a recent previous injury.
pub const B_PRIOR_INJURY: f64 = 1.0;

/// Offsets on the log hazard by sport code: contact rugby carries more risk, women's football
/// a little less than military training.
pub const SPORT_OFFSETS: [(&str, f64); 3] = [("rugby", 0.3), ("military", 0.0), ("football", -0.1)];

/// The offset of a sport code (0 for an unknown sport).
pub fn sport_offset(sport: &str) -> f64 {
    SPORT_OFFSETS
        .iter()
        .find(|(code, _)| *code == sport)
        .map_or(0.0, |(_, offset)| *offset)
}

/// |Asymmetry| below which asymmetry adds no risk, percentage points.
pub const ASYMMETRY_THRESHOLD_PCT: f64 = 10.0;
/// Scale of the asymmetry term, percentage points.
pub const ASYMMETRY_SCALE_PCT: f64 = 10.0;
/// Height drop below which it adds no risk, %.
pub const HEIGHT_DROP_THRESHOLD_PCT: f64 = 5.0;
/// Scale of the height-drop term, %.
pub const HEIGHT_DROP_SCALE_PCT: f64 = 10.0;
/// Largest excess (beyond its threshold) the asymmetry and height-drop terms count, in the
/// metric's unit.
pub const EXCESS_CAP_PCT: f64 = 30.0;
/// ACWR below which load adds no risk.
pub const ACWR_THRESHOLD: f64 = 1.3;
/// Scale of the ACWR term.
pub const ACWR_SCALE: f64 = 0.3;
/// ACWR above this counts as this (a return from a long lay-off divides by a tiny chronic load).
pub const ACWR_CAP: f64 = 2.0;
/// A previous injury counts as recent when it was cleared at most this many days before the
/// week starts.
pub const PRIOR_INJURY_WINDOW_DAYS: i64 = 56;

/// Days of the acute window.
pub const ACUTE_DAYS: i64 = 7;
/// Days of the chronic window (its weekly average is the denominator).
pub const CHRONIC_DAYS: i64 = 28;
/// Weeks of pre-season training generated before the first assessment, so that the first
/// week's ACWR has a full chronic window.
pub const RUN_IN_WEEKS: i64 = 4;

/// Height drop per unit of ACWR above 1.0, % (acute fatigue).
pub const FATIGUE_DROP_PER_ACWR_PCT: f64 = 10.0;
/// Autoregressive coefficient of weekly readiness (unexplained height variation).
pub const READINESS_AR: f64 = 0.5;
/// SD of the weekly readiness innovation, % of baseline height.
pub const READINESS_SD_PCT: f64 = 2.0;
/// Height gained per week of the season from training, % of baseline.
pub const SEASON_GAIN_PCT_PER_WEEK: f64 = 0.15;
/// SD of the baseline (trait) signed asymmetry across subjects, percentage points.
pub const BASELINE_ASYMMETRY_SD_PCT: f64 = 6.0;
/// Autoregressive coefficient of the weekly asymmetry drift.
pub const ASYMMETRY_DRIFT_AR: f64 = 0.8;
/// SD of the weekly asymmetry drift innovation, percentage points.
pub const ASYMMETRY_DRIFT_SD_PCT: f64 = 2.0;
/// Largest |asymmetry| generated, percentage points (synth accepts left shares 0.2–0.8).
pub const ASYMMETRY_LIMIT_PCT: f64 = 35.0;
/// Asymmetry added on return from an injury: this plus `RETURN_ASYMMETRY_PER_DAY_PCT` per
/// day of time loss (days capped at `RETURN_EFFECT_DAYS_CAP`), toward the uninjured side.
pub const RETURN_ASYMMETRY_PCT: f64 = 6.0;
/// See [`RETURN_ASYMMETRY_PCT`].
pub const RETURN_ASYMMETRY_PER_DAY_PCT: f64 = 0.25;
/// Height drop added on return from an injury: this plus `RETURN_DROP_PER_DAY_PCT` per day of
/// time loss (capped like asymmetry).
pub const RETURN_DROP_PCT: f64 = 4.0;
/// See [`RETURN_DROP_PCT`].
pub const RETURN_DROP_PER_DAY_PCT: f64 = 0.15;
/// Time-loss days beyond which the return effects grow no more.
pub const RETURN_EFFECT_DAYS_CAP: f64 = 40.0;
/// Weekly decay factor of the return effects.
pub const RETURN_DECAY: f64 = 0.75;
/// Probability that a subject has an individual load-spike week.
pub const SPIKE_PROBABILITY: f64 = 0.08;
/// Range of the individual spike multiplier on session durations.
pub const SPIKE_MULTIPLIER: (f64, f64) = (1.5, 1.9);
/// Probability that an available subject misses the week's assessment anyway.
pub const MISSED_ASSESSMENT_PROBABILITY: f64 = 0.03;

/// What the hazard depends on in one subject-week.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RiskFactors {
    /// Signed left/right asymmetry at the assessment, %.
    pub asymmetry_pct: f64,
    /// Drop of jump height from the personal baseline, % (negative: above baseline).
    pub height_drop_pct: f64,
    /// Acute:chronic workload ratio before the week.
    pub acwr: f64,
    /// Cleared from a time-loss injury within [`PRIOR_INJURY_WINDOW_DAYS`].
    pub prior_injury: bool,
    /// The sport's offset on the log hazard.
    pub sport_offset: f64,
}

impl RiskFactors {
    /// The linear predictor η.
    pub fn linear_predictor(&self) -> f64 {
        let asym = excess(
            self.asymmetry_pct.abs(),
            ASYMMETRY_THRESHOLD_PCT,
            EXCESS_CAP_PCT,
        ) / ASYMMETRY_SCALE_PCT;
        let drop = excess(
            self.height_drop_pct,
            HEIGHT_DROP_THRESHOLD_PCT,
            EXCESS_CAP_PCT,
        ) / HEIGHT_DROP_SCALE_PCT;
        let load = excess(self.acwr, ACWR_THRESHOLD, ACWR_CAP - ACWR_THRESHOLD) / ACWR_SCALE;
        let prior = if self.prior_injury { 1.0 } else { 0.0 };
        B0 + self.sport_offset
            + B_ASYMMETRY * asym
            + B_HEIGHT_DROP * drop
            + B_ACWR * load
            + B_PRIOR_INJURY * prior
    }

    /// The weekly hazard h = 1 − exp(−exp(η)), in [0, 1].
    pub fn weekly_hazard(&self) -> f64 {
        let eta = self.linear_predictor();
        if eta.is_nan() {
            return 0.0;
        }
        -(-eta.exp()).exp_m1()
    }
}

/// max(0, value − threshold), at most `cap`; 0 for NaN.
fn excess(value: f64, threshold: f64, cap: f64) -> f64 {
    let e = value - threshold;
    if e > 0.0 { e.min(cap) } else { 0.0 }
}

/// The acute:chronic workload ratio at the start of day `day` (Gabbett 2016; rolling
/// averages, coupled: the acute week is part of the chronic 28 days). `load_on(d)` is the
/// summed session-RPE load of day `d`. 0 when there was no chronic load.
pub fn acwr(load_on: impl Fn(i64) -> f64, day: i64) -> f64 {
    let acute: f64 = (day - ACUTE_DAYS..day).map(&load_on).sum();
    let chronic: f64 = (day - CHRONIC_DAYS..day).map(&load_on).sum::<f64>()
        * (ACUTE_DAYS as f64 / CHRONIC_DAYS as f64);
    if chronic > 0.0 { acute / chronic } else { 0.0 }
}

/// The Mann–Whitney AUC of `scores` against `labels` (ties count one half), or `None` when
/// either class is empty. Used to report how well the true hazard separates injured weeks.
pub fn auc(scores: &[f64], labels: &[bool]) -> Option<f64> {
    let mut pairs: Vec<(f64, bool)> = scores.iter().copied().zip(labels.iter().copied()).collect();
    pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
    let positives = pairs.iter().filter(|p| p.1).count();
    let negatives = pairs.len() - positives;
    if positives == 0 || negatives == 0 {
        return None;
    }
    // Sum of the (mid-)ranks of the positives.
    let mut rank_sum = 0.0;
    let mut i = 0;
    while i < pairs.len() {
        let mut j = i;
        while j < pairs.len() && pairs[j].0.total_cmp(&pairs[i].0).is_eq() {
            j += 1;
        }
        let mid_rank = (i + j + 1) as f64 / 2.0;
        rank_sum += mid_rank * pairs[i..j].iter().filter(|p| p.1).count() as f64;
        i = j;
    }
    let (p, n) = (positives as f64, negatives as f64);
    Some((rank_sum - p * (p + 1.0) / 2.0) / (p * n))
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = include_str!("../../../docs/design/hazard-model.md");

    fn factors() -> RiskFactors {
        RiskFactors {
            asymmetry_pct: 0.0,
            height_drop_pct: 0.0,
            acwr: 1.0,
            prior_injury: false,
            sport_offset: 0.0,
        }
    }

    #[test]
    fn baseline_hazard_is_about_one_percent() {
        let h = factors().weekly_hazard();
        assert!((h - 0.0100).abs() < 0.0002, "{h}");
    }

    #[test]
    fn each_factor_raises_the_hazard_by_its_documented_ratio() {
        let base = factors().linear_predictor();
        let asym = RiskFactors {
            asymmetry_pct: -20.0,
            ..factors()
        };
        assert!((asym.linear_predictor() - base - B_ASYMMETRY).abs() < 1e-12);
        let drop = RiskFactors {
            height_drop_pct: 15.0,
            ..factors()
        };
        assert!((drop.linear_predictor() - base - B_HEIGHT_DROP).abs() < 1e-12);
        let load = RiskFactors {
            acwr: 1.6,
            ..factors()
        };
        assert!((load.linear_predictor() - base - B_ACWR).abs() < 1e-12);
        let capped = RiskFactors {
            acwr: 9.0,
            ..factors()
        };
        let at_cap = RiskFactors {
            acwr: ACWR_CAP,
            ..factors()
        };
        assert_eq!(capped.linear_predictor(), at_cap.linear_predictor());
        let prior = RiskFactors {
            prior_injury: true,
            ..factors()
        };
        assert!((prior.linear_predictor() - base - B_PRIOR_INJURY).abs() < 1e-12);
        let below = RiskFactors {
            asymmetry_pct: 9.9,
            height_drop_pct: 4.9,
            acwr: 1.29,
            ..factors()
        };
        assert_eq!(below.linear_predictor(), base);
    }

    #[test]
    fn acwr_of_steady_load_is_one() {
        assert!((acwr(|_| 300.0, 100) - 1.0).abs() < 1e-12);
        let spike = acwr(|d| if d >= 93 { 600.0 } else { 300.0 }, 100);
        assert!((spike - 2.0 / 1.25).abs() < 1e-12, "{spike}");
        assert_eq!(acwr(|_| 0.0, 100), 0.0);
    }

    #[test]
    fn auc_counts_ties_as_half() {
        assert_eq!(auc(&[1.0, 2.0], &[false, true]), Some(1.0));
        assert_eq!(auc(&[2.0, 1.0], &[false, true]), Some(0.0));
        assert_eq!(auc(&[1.0, 1.0], &[false, true]), Some(0.5));
        assert_eq!(auc(&[1.0], &[true]), None);
    }

    #[test]
    fn the_design_page_states_the_constants() {
        // `{:?}` keeps the decimal point (1.0, not 1); the value must end where the number does.
        for needle in [
            format!("B0 = {B0:?}"),
            format!("B_ASYMMETRY = {B_ASYMMETRY:?}"),
            format!("B_HEIGHT_DROP = {B_HEIGHT_DROP:?}"),
            format!("B_ACWR = {B_ACWR:?}"),
            format!("B_PRIOR_INJURY = {B_PRIOR_INJURY:?}"),
            format!("ACWR_THRESHOLD = {ACWR_THRESHOLD:?}"),
            format!("ACWR_CAP = {ACWR_CAP:?}"),
            format!("ASYMMETRY_THRESHOLD_PCT = {ASYMMETRY_THRESHOLD_PCT:?}"),
            format!("HEIGHT_DROP_THRESHOLD_PCT = {HEIGHT_DROP_THRESHOLD_PCT:?}"),
            format!("PRIOR_INJURY_WINDOW_DAYS = {PRIOR_INJURY_WINDOW_DAYS:?}"),
            format!("FATIGUE_DROP_PER_ACWR_PCT = {FATIGUE_DROP_PER_ACWR_PCT:?}"),
            format!("BASELINE_ASYMMETRY_SD_PCT = {BASELINE_ASYMMETRY_SD_PCT:?}"),
            format!("SPIKE_PROBABILITY = {SPIKE_PROBABILITY:?}"),
            format!("RETURN_DECAY = {RETURN_DECAY:?}"),
            format!("MISSED_ASSESSMENT_PROBABILITY = {MISSED_ASSESSMENT_PROBABILITY:?}"),
        ]
        .into_iter()
        .chain(
            SPORT_OFFSETS
                .iter()
                .map(|(sport, offset)| format!("{sport} {offset:+?}")),
        ) {
            let stated = DOC.match_indices(&needle).any(|(at, _)| {
                let next = DOC[at + needle.len()..].chars().next();
                !next.is_some_and(|c| c.is_ascii_digit() || c == '.')
            });
            assert!(stated, "hazard-model.md lacks `{needle}`");
        }
    }
}
