//! Injury-risk features from one subject's de-identified history.
//!
//! The same function builds training rows (with the label "a time-loss injury begins within
//! the horizon") and scoring rows (as of today, label unknown), so a model is served the
//! features it learnt from. Days are counted from 1970-01-01. Missing values are `NaN`.
//!
//! Per metric named in [`FeatureSpec::metrics`]: the latest value, the mean of the last
//! [`ROLLING`] values, and the change of the latest from the subject's own baseline (median
//! of their first [`BASELINE_N`] values), in % of the baseline, or in points for metrics that
//! are already percentages (see [`FeatureSpec::points`]). For signed metrics (asymmetry) the
//! absolute latest value too. Then load: acute (7 days) and chronic (28 days, weekly average)
//! session-RPE load and their coupled ratio (ACWR, as `docs/design/hazard-model.md` defines
//! it), the chronic mean and the ratio missing until the load history covers the 28 days (see
//! [`LoadWindows`]); and
//! injury history: cleared from a time-loss injury within [`RECENT_INJURY_DAYS`],
//! earlier injuries counted.

use std::collections::BTreeMap;

/// Values averaged by the rolling features.
pub const ROLLING: usize = 3;
/// Values whose median is the personal baseline.
pub const BASELINE_N: usize = 3;
/// A return to play within this many days counts as a recent injury.
pub const RECENT_INJURY_DAYS: i64 = 56;
/// Days of the acute load window.
pub const ACUTE_DAYS: i64 = 7;
/// Days of the chronic load window.
pub const CHRONIC_DAYS: i64 = 28;

/// Session-RPE load in the windows before a day: the acute window ([`ACUTE_DAYS`]), the
/// chronic window ([`CHRONIC_DAYS`]) as a weekly mean, and their coupled ratio (ACWR; Gabbett
/// 2016, Br J Sports Med 50:273). The one definition of the platform: the risk features and
/// the monitoring API both use it.
///
/// The ratio needs history: until the subject's load history covers the chronic window, the
/// chronic mean counts days that were never recorded as rest and the ratio is inflated (4.0
/// in a first week of steady load), so it is missing instead. The history covers the window
/// when their first recorded session falls in the window's first week or before it: sessions
/// follow a weekly plan, so a first session on the Wednesday of a week means that week was
/// recorded (its Monday and Tuesday were rest), not that the record began mid-week.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LoadWindows {
    /// Load of the acute window, in arbitrary units.
    pub acute: f64,
    /// Load of the chronic window divided by its weeks.
    pub chronic_weekly: f64,
    /// Whether the load history covers the chronic window.
    pub covered: bool,
}

impl LoadWindows {
    /// The windows ending just before `end_day` (days since 1970-01-01; loads on `end_day`
    /// itself are not counted), over `(day, load)` pairs in any order. `history_from` is the
    /// first day of the subject's load history (their first session), `None` without one.
    pub fn before(
        loads: impl IntoIterator<Item = (i64, f64)>,
        end_day: i64,
        history_from: Option<i64>,
    ) -> Self {
        let (mut acute, mut chronic) = (0.0, 0.0);
        for (d, load) in loads {
            if d < end_day && d >= end_day - CHRONIC_DAYS {
                chronic += load;
                if d >= end_day - ACUTE_DAYS {
                    acute += load;
                }
            }
        }
        #[allow(clippy::cast_precision_loss)]
        let weeks = CHRONIC_DAYS as f64 / ACUTE_DAYS as f64;
        Self {
            acute,
            chronic_weekly: chronic / weeks,
            covered: history_from.is_some_and(|f| f < end_day - CHRONIC_DAYS + ACUTE_DAYS),
        }
    }

    /// Acute over chronic weekly load; `None` without chronic load or before the history
    /// covers the chronic window.
    pub fn ratio(&self) -> Option<f64> {
        (self.covered && self.chronic_weekly > 0.0).then(|| self.acute / self.chronic_weekly)
    }
}

/// One assessment's metrics.
#[derive(Debug, Clone, PartialEq)]
pub struct Observation {
    /// Day of the assessment.
    pub day: i64,
    /// Metric name → value.
    pub metrics: BTreeMap<String, f64>,
}

/// A time-loss injury as a label: when it began and when the subject was cleared (`None`
/// while still out).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InjurySpan {
    /// First day of time loss.
    pub occurred_day: i64,
    /// Day of the return to full participation, if any yet.
    pub cleared_day: Option<i64>,
}

/// Everything the features read about one subject, de-identified.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct History {
    /// Assessments, any order.
    pub observations: Vec<Observation>,
    /// `(day, session-RPE load in AU)`, any order.
    pub loads: Vec<(i64, f64)>,
    /// Time-loss injuries, any order.
    pub injuries: Vec<InjurySpan>,
}

/// Which features to build.
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureSpec {
    /// Metric names, e.g. `jump_height_m`, `asymmetry_pct`.
    pub metrics: Vec<String>,
    /// Metrics whose change from baseline is a difference in points, not a ratio in % (those
    /// already in %, such as asymmetry). Also the signed ones given an absolute value.
    pub points: Vec<String>,
    /// Days ahead in which an injury makes the label true.
    pub horizon_days: i64,
}

/// Every metric the biomechanics engine reports for a countermovement jump, as it is stored
/// with an assessment (asymmetry indices under `asymmetry.`): the candidate features of the
/// injury-risk models. The two the first models read come first, so their feature names and
/// positions are those of models trained and imported before the list grew (the fields of
/// `mhp_biomech::cmj::CmjMetrics` and its `Asymmetry`).
pub const CMJ_METRICS: [&str; 36] = [
    "jump_height_impulse_m",
    "asymmetry.propulsive_impulse_pct",
    "body_mass_kg",
    "body_weight_n",
    "body_weight_sd_n",
    "jump_height_flight_m",
    "takeoff_velocity_m_s",
    "flight_time_s",
    "peak_propulsive_force_n",
    "peak_propulsive_force_n_per_kg",
    "mean_propulsive_force_n",
    "mean_propulsive_force_n_per_kg",
    "peak_propulsive_power_w",
    "peak_propulsive_power_w_per_kg",
    "mean_propulsive_power_w",
    "mean_propulsive_power_w_per_kg",
    "peak_braking_force_n",
    "braking_rfd_n_s",
    "concentric_impulse_n_s",
    "eccentric_impulse_n_s",
    "unweighting_impulse_n_s",
    "countermovement_depth_m",
    "unweighting_duration_s",
    "braking_duration_s",
    "propulsion_duration_s",
    "landing_duration_s",
    "time_to_takeoff_s",
    "rsi_modified",
    "landing_peak_force_n",
    "landing_peak_force_bw",
    "asymmetry.body_weight_pct",
    "asymmetry.peak_propulsive_force_pct",
    "asymmetry.mean_propulsive_force_pct",
    "asymmetry.peak_braking_force_pct",
    "asymmetry.landing_peak_force_pct",
    "asymmetry.braking_impulse_pct",
];

/// A named set of related features that a model search keeps or drops together and an
/// explanation speaks of as one reason: a metric's level, its change from the subject's own
/// baseline, the training load, the injury history.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FeatureGroup {
    /// E.g. `jump_height_impulse_m:level`, `load`.
    pub name: String,
    /// What it is about.
    pub kind: GroupKind,
    /// The feature names, in the spec's order.
    pub features: Vec<String>,
}

/// What a [`FeatureGroup`] describes.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum GroupKind {
    /// A metric's latest and recent values (and the absolute value of a signed one).
    Level {
        /// The metric.
        metric: String,
    },
    /// A metric's change from the subject's baseline.
    Change {
        /// The metric.
        metric: String,
    },
    /// Session-RPE load: acute, chronic, their ratio.
    Load,
    /// Recent and earlier injuries.
    InjuryHistory,
}

impl FeatureSpec {
    /// The platform's injury-risk features: every metric the engine reports for a
    /// countermovement jump ([`CMJ_METRICS`]; asymmetry indices are signed percentages),
    /// training load and injury history, time-loss injury within 7 days. Training, scoring
    /// and the check of an imported model's schema all use this one; a model reads the groups
    /// its search kept ([`FeatureSpec::groups`]).
    pub fn injury_risk() -> Self {
        let metrics: Vec<String> = CMJ_METRICS.iter().map(|m| (*m).to_owned()).collect();
        let points = metrics
            .iter()
            .filter(|m| m.starts_with("asymmetry."))
            .cloned()
            .collect();
        Self {
            metrics,
            points,
            horizon_days: 7,
        }
    }

    /// The features by group: per metric its level (`{metric}_latest`, `_mean3`, `_abs`) and
    /// its change from baseline, then load and injury history. Every name of
    /// [`FeatureSpec::names`] is in exactly one group.
    pub fn groups(&self) -> Vec<FeatureGroup> {
        let mut out = Vec::new();
        for m in &self.metrics {
            let mut level = vec![format!("{m}_latest"), format!("{m}_mean{ROLLING}")];
            if self.points.contains(m) {
                level.push(format!("{m}_abs"));
            }
            out.push(FeatureGroup {
                name: format!("{m}:level"),
                kind: GroupKind::Level { metric: m.clone() },
                features: level,
            });
            out.push(FeatureGroup {
                name: format!("{m}:change"),
                kind: GroupKind::Change { metric: m.clone() },
                features: vec![format!("{m}_change_from_baseline")],
            });
        }
        out.push(FeatureGroup {
            name: "load".into(),
            kind: GroupKind::Load,
            features: vec![
                "load_acute_7d".into(),
                "load_chronic_28d".into(),
                "acwr".into(),
            ],
        });
        out.push(FeatureGroup {
            name: "injury_history".into(),
            kind: GroupKind::InjuryHistory,
            features: vec!["recent_injury".into(), "previous_injuries".into()],
        });
        out
    }

    /// The names of the features [`build`] returns, in order.
    pub fn names(&self) -> Vec<String> {
        let mut names = Vec::new();
        for m in &self.metrics {
            names.push(format!("{m}_latest"));
            names.push(format!("{m}_mean{ROLLING}"));
            names.push(format!("{m}_change_from_baseline"));
            if self.points.contains(m) {
                names.push(format!("{m}_abs"));
            }
        }
        for n in [
            "load_acute_7d",
            "load_chronic_28d",
            "acwr",
            "recent_injury",
            "previous_injuries",
        ] {
            names.push(n.to_owned());
        }
        names
    }
}

/// One row of features for one day.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// The day the row describes (features use what was known before it ended).
    pub day: i64,
    /// Values in the order of [`FeatureSpec::names`].
    pub values: Vec<f64>,
    /// Whether a time-loss injury began in `[day, day + horizon)`; `None` when the horizon
    /// reaches past `known_until`.
    pub label: Option<bool>,
}

/// Whether the subject starts `day` out with an injury (one that began before it and has not
/// ended by it). Such a day is not at risk: it gets no training row and no score. The spans
/// come from `mhp_domain::availability` (the pipelines' de-identified view builds them): an
/// injury ends with a clearance, else on its expected return.
pub fn in_time_loss(history: &History, day: i64) -> bool {
    history
        .injuries
        .iter()
        .any(|i| i.occurred_day < day && i.cleared_day.is_none_or(|c| c > day))
}

fn median(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// The features of `history` as of `day`, using assessments up to and including `day`, load
/// strictly before it, and injuries that began before it. `known_until` is the last day whose
/// injuries are known (today, for training data): the label is `None` when the horizon
/// reaches beyond it.
pub fn build(spec: &FeatureSpec, history: &History, day: i64, known_until: i64) -> Row {
    let mut observations: Vec<&Observation> = history
        .observations
        .iter()
        .filter(|o| o.day <= day)
        .collect();
    observations.sort_by_key(|o| o.day);

    // At most four values per metric and five for load and injuries (see `names`).
    let mut values = Vec::with_capacity(spec.metrics.len() * 4 + 5);
    for m in &spec.metrics {
        let series: Vec<f64> = observations
            .iter()
            .filter_map(|o| o.metrics.get(m).copied())
            .filter(|v| v.is_finite())
            .collect();
        let latest = series.last().copied().unwrap_or(f64::NAN);
        let tail = &series[series.len().saturating_sub(ROLLING)..];
        let mean = if tail.is_empty() {
            f64::NAN
        } else {
            tail.iter().sum::<f64>() / tail.len() as f64
        };
        let baseline = median(series.iter().take(BASELINE_N).copied().collect());
        let is_points = spec.points.contains(m);
        let change = if series.len() <= BASELINE_N {
            // Still building the baseline: no change to speak of yet.
            f64::NAN
        } else if is_points {
            latest.abs() - baseline.abs()
        } else if baseline.abs() > f64::EPSILON {
            (latest - baseline) / baseline * 100.0
        } else {
            f64::NAN
        };
        values.push(latest);
        values.push(mean);
        values.push(change);
        if is_points {
            values.push(latest.abs());
        }
    }

    // Load history: from the first recorded session (whatever came after `day` is not read).
    let first_load = history.loads.iter().map(|l| l.0).min();
    let load = LoadWindows::before(history.loads.iter().copied(), day, first_load);
    let acute = load.acute;
    // Like the ratio, the chronic mean is missing until the history covers its window.
    let chronic = if load.covered {
        load.chronic_weekly
    } else {
        f64::NAN
    };
    let acwr = load.ratio().unwrap_or(f64::NAN);
    values.push(acute);
    values.push(chronic);
    values.push(acwr);

    let recent = history.injuries.iter().any(|i| {
        i.cleared_day
            .is_some_and(|c| c <= day && day - c <= RECENT_INJURY_DAYS)
    });
    let previous = history
        .injuries
        .iter()
        .filter(|i| i.occurred_day < day)
        .count();
    values.push(if recent { 1.0 } else { 0.0 });
    values.push(previous as f64);

    let label = (day + spec.horizon_days - 1 <= known_until).then(|| {
        history
            .injuries
            .iter()
            .any(|i| i.occurred_day >= day && i.occurred_day < day + spec.horizon_days)
    });
    Row { day, values, label }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::float_cmp)]

    use super::*;

    fn spec() -> FeatureSpec {
        FeatureSpec {
            metrics: vec!["height".into(), "asym".into()],
            points: vec!["asym".into()],
            horizon_days: 7,
        }
    }

    fn obs(day: i64, height: f64, asym: f64) -> Observation {
        Observation {
            day,
            metrics: [("height".to_owned(), height), ("asym".to_owned(), asym)].into(),
        }
    }

    fn history() -> History {
        History {
            observations: vec![
                obs(21, 0.36, -12.0),
                obs(0, 0.40, 2.0),
                obs(7, 0.42, 4.0),
                obs(14, 0.38, 3.0),
            ],
            // 100 AU a day for four weeks, then 300 a day in the last week before day 28.
            loads: (0..28)
                .map(|d| (d, if d >= 21 { 300.0 } else { 100.0 }))
                .collect(),
            injuries: vec![InjurySpan {
                occurred_day: 30,
                cleared_day: Some(40),
            }],
        }
    }

    fn value(row: &Row, name: &str) -> f64 {
        let i = spec().names().iter().position(|n| n == name).unwrap();
        row.values[i]
    }

    #[test]
    fn metrics_against_the_personal_baseline() {
        let row = build(&spec(), &history(), 28, 100);
        assert_eq!(row.values.len(), spec().names().len());
        assert_eq!(value(&row, "height_latest"), 0.36);
        assert!((value(&row, "height_mean3") - (0.42 + 0.38 + 0.36) / 3.0).abs() < 1e-12);
        // Baseline: median of 0.40, 0.42, 0.38 = 0.40; 0.36 is 10 % below.
        assert!((value(&row, "height_change_from_baseline") + 10.0).abs() < 1e-9);
        // Asymmetry in points: |−12| − |median(2, 4, 3)| = 9.
        assert_eq!(value(&row, "asym_change_from_baseline"), 9.0);
        assert_eq!(value(&row, "asym_abs"), 12.0);
    }

    #[test]
    fn no_change_while_the_baseline_is_being_built_and_no_future_data() {
        let row = build(&spec(), &history(), 14, 100);
        assert_eq!(value(&row, "height_latest"), 0.38);
        assert!(value(&row, "height_change_from_baseline").is_nan());
        let before = build(&spec(), &history(), -1, 100);
        assert!(value(&before, "height_latest").is_nan());
        assert!(value(&before, "acwr").is_nan());
    }

    #[test]
    fn coupled_acute_chronic_ratio() {
        let row = build(&spec(), &history(), 28, 100);
        assert_eq!(value(&row, "load_acute_7d"), 2100.0);
        // (21 × 100 + 7 × 300) / 4 = 1050.
        assert_eq!(value(&row, "load_chronic_28d"), 1050.0);
        assert_eq!(value(&row, "acwr"), 2.0);
    }

    #[test]
    fn no_ratio_until_the_load_history_covers_the_chronic_window() {
        // Loads from day 0: on day 14 the chronic window reaches back to day −14, where nothing
        // was recorded; the coupled ratio would be 4.0 for any steady load.
        let h = history();
        let early = build(&spec(), &h, 14, 100);
        assert!(value(&early, "acwr").is_nan(), "{}", value(&early, "acwr"));
        assert!(value(&early, "load_chronic_28d").is_nan());
        assert_eq!(value(&early, "load_acute_7d"), 700.0);
        // Covered from day 22, when the first session (day 0) falls in the first week of
        // the chronic window [−6, 22).
        assert_eq!(value(&build(&spec(), &h, 28, 100), "acwr"), 2.0);
        assert!(!value(&build(&spec(), &h, 22, 100), "acwr").is_nan());
        assert!(value(&build(&spec(), &h, 21, 100), "acwr").is_nan());
        let w = LoadWindows::before([(0, 100.0)], 14, None);
        assert_eq!(w.ratio(), None);
    }

    #[test]
    fn labels_and_injury_history() {
        let h = history();
        assert_eq!(build(&spec(), &h, 28, 100).label, Some(true));
        assert_eq!(build(&spec(), &h, 21, 100).label, Some(false));
        // The horizon reaches past what is known: no label.
        assert_eq!(build(&spec(), &h, 28, 30).label, None);
        assert!(in_time_loss(&h, 35));
        // The day an injury begins is still a day at risk: it is the day of the event.
        assert!(!in_time_loss(&h, 30));
        assert!(!in_time_loss(&h, 40));
        let after = build(&spec(), &h, 50, 100);
        assert_eq!(value(&after, "recent_injury"), 1.0);
        assert_eq!(value(&after, "previous_injuries"), 1.0);
        let long_after = build(&spec(), &h, 40 + RECENT_INJURY_DAYS + 1, 200);
        assert_eq!(value(&long_after, "recent_injury"), 0.0);
    }
}
