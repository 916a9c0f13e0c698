//! Injuries: what, where, how, how long, and the return-to-duty stages.

use crate::DemoInjury;
use crate::random::Rng;
use crate::roster::Sport;

/// Coded sides.
pub const SIDES: [&str; 4] = ["left", "right", "bilateral", "central"];
/// Coded severities, by time loss (see [`severity_for_time_loss`]).
pub const SEVERITIES: [&str; 5] = ["none", "minimal", "mild", "moderate", "severe"];
/// Coded mechanisms.
pub const MECHANISMS: [&str; 4] = ["contact", "non_contact", "overuse", "unknown"];
/// Return-to-duty stages in order.
pub const RTD_STAGES: [&str; 5] = [
    "rest",
    "rehabilitation",
    "modified_duty",
    "full_training",
    "cleared",
];
/// Where in the time loss each stage before `cleared` starts, as a fraction of it.
const RTD_FRACTIONS: [f64; 4] = [0.0, 0.15, 0.45, 0.75];
/// SD of log time loss around a pattern's median.
const TIME_LOSS_LOG_SD: f64 = 0.6;
/// Longest time loss generated, days.
const MAX_TIME_LOSS_DAYS: f64 = 365.0;
/// Share of two-sided injuries among those that can be either.
const BILATERAL_SHARE: f64 = 0.15;

/// Severity from time-loss days: 0 days none, 1–3 minimal, 4–7 mild, 8–28 moderate, more than
/// 28 severe. These are the time-loss bands of the football consensus (Fuller et al. 2006, Br J
/// Sports Med 40:193–201); the IOC consensus statement (Bahr et al. 2020, Br J Sports Med
/// 54:372–389, "… methods for recording and reporting of epidemiological data on injury and
/// illness in sport 2020") likewise measures severity as days of time loss, until the athlete
/// is fully available for training and competition.
pub const fn severity_for_time_loss(days: u32) -> &'static str {
    match days {
        0 => "none",
        1..=3 => "minimal",
        4..=7 => "mild",
        8..=28 => "moderate",
        _ => "severe",
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sides {
    /// Left or right.
    Lateral,
    /// Left, right or both.
    LateralOrBilateral,
    /// Head or trunk.
    Central,
}

/// An injury pattern: region, type, sides, median time loss (days), mechanism weights
/// (contact, non-contact, overuse, unknown) and relative frequency by sport (rugby,
/// military, football).
struct Pattern {
    region: &'static str,
    kind: &'static str,
    sides: Sides,
    median_days: f64,
    mechanism: [f64; 4],
    frequency: [f64; 3],
}

const fn pattern(
    region: &'static str,
    kind: &'static str,
    sides: Sides,
    median_days: f64,
    mechanism: [f64; 4],
    frequency: [f64; 3],
) -> Pattern {
    Pattern {
        region,
        kind,
        sides,
        median_days,
        mechanism,
        frequency,
    }
}

// Proportions after the usual pictures: hamstring strains, ankle and knee sprains lead in
// football; contact injuries (shoulder, concussion, contusion) are common in rugby; bone
// stress, tendinopathy and low-back pain in military training.
#[rustfmt::skip]
const PATTERNS: &[Pattern] = &[
    // region, type, sides, median days, mechanism weights (contact, non-contact, overuse,
    // unknown), frequency (rugby, military, football): see `Pattern`.
    pattern("hamstring",  "muscle_strain",    Sides::Lateral,            14.0,  [0.05, 0.9, 0.02, 0.03],  [14.0, 6.0, 16.0]),
    pattern("knee",       "ligament_sprain",  Sides::Lateral,            21.0,  [0.5, 0.45, 0.0, 0.05],   [9.0, 5.0, 11.0]),
    pattern("knee",       "ligament_rupture", Sides::Lateral,            240.0, [0.4, 0.58, 0.0, 0.02],   [1.0, 1.0, 3.0]),
    pattern("ankle",      "ligament_sprain",  Sides::Lateral,            12.0,  [0.45, 0.5, 0.0, 0.05],   [10.0, 10.0, 14.0]),
    pattern("shoulder",   "dislocation",      Sides::Lateral,            35.0,  [0.9, 0.05, 0.0, 0.05],   [5.0, 1.0, 1.0]),
    pattern("shoulder",   "ligament_sprain",  Sides::Lateral,            14.0,  [0.8, 0.1, 0.05, 0.05],   [7.0, 3.0, 1.0]),
    pattern("head",       "concussion",       Sides::Central,            12.0,  [0.97, 0.0, 0.0, 0.03],   [10.0, 2.0, 4.0]),
    pattern("thigh",      "contusion",        Sides::Lateral,            4.0,   [0.95, 0.0, 0.0, 0.05],   [10.0, 3.0, 5.0]),
    pattern("lower_back", "muscle_strain",    Sides::Central,            8.0,   [0.05, 0.55, 0.35, 0.05], [5.0, 12.0, 4.0]),
    pattern("lower_leg",  "bone_stress",      Sides::LateralOrBilateral, 50.0,  [0.0, 0.0, 0.97, 0.03],   [1.0, 12.0, 3.0]),
    pattern("achilles",   "tendinopathy",     Sides::Lateral,            18.0,  [0.0, 0.1, 0.85, 0.05],   [2.0, 6.0, 3.0]),
    pattern("knee",       "tendinopathy",     Sides::LateralOrBilateral, 14.0,  [0.0, 0.1, 0.85, 0.05],   [2.0, 4.0, 5.0]),
    pattern("groin",      "muscle_strain",    Sides::Lateral,            10.0,  [0.05, 0.75, 0.15, 0.05], [5.0, 2.0, 8.0]),
    pattern("calf",       "muscle_strain",    Sides::Lateral,            12.0,  [0.05, 0.85, 0.05, 0.05], [5.0, 4.0, 5.0]),
    pattern("foot",       "bone_stress",      Sides::Lateral,            60.0,  [0.0, 0.0, 0.97, 0.03],   [1.0, 6.0, 2.0]),
    pattern("hand",       "fracture",         Sides::Lateral,            28.0,  [0.9, 0.05, 0.0, 0.05],   [3.0, 1.0, 1.0]),
];

/// Draws an injury to `subject` on `day`. `asymmetry_pct` (positive: left stronger) tilts
/// one-sided injuries toward the weaker side.
pub(crate) fn draw(
    rng: &mut Rng,
    sport: Sport,
    subject: usize,
    day: i64,
    asymmetry_pct: f64,
) -> DemoInjury {
    let column = match sport {
        Sport::Rugby => 0,
        Sport::Military => 1,
        Sport::Football => 2,
    };
    let weights: Vec<f64> = PATTERNS.iter().map(|p| p.frequency[column]).collect();
    let p = &PATTERNS[rng.weighted(&weights)];
    let left = rng.chance((0.5 - 0.02 * asymmetry_pct).clamp(0.2, 0.8));
    let side = match p.sides {
        Sides::Central => "central",
        Sides::LateralOrBilateral if rng.chance(BILATERAL_SHARE) => "bilateral",
        _ if left => "left",
        _ => "right",
    };
    let mechanism = MECHANISMS[rng.weighted(&p.mechanism)];
    let days = (p.median_days * (TIME_LOSS_LOG_SD * rng.normal()).exp())
        .round()
        .clamp(1.0, MAX_TIME_LOSS_DAYS) as u32;
    DemoInjury {
        subject,
        occurred_day: day,
        body_region: p.region.to_owned(),
        injury_type: p.kind.to_owned(),
        side: side.to_owned(),
        severity: severity_for_time_loss(days).to_owned(),
        mechanism: mechanism.to_owned(),
        time_loss_days: days,
        return_to_duty: return_to_duty(day, days),
    }
}

/// The return-to-duty decisions: `rest` on the day of injury, `cleared` on the day time loss
/// ends, and the stages between at fixed fractions of the time loss when they fall on a day
/// of their own (a two-day injury goes straight from rest to cleared).
pub fn return_to_duty(occurred_day: i64, time_loss_days: u32) -> Vec<(String, i64)> {
    let cleared = occurred_day + i64::from(time_loss_days);
    let mut stages: Vec<(String, i64)> = Vec::with_capacity(RTD_STAGES.len());
    for (stage, fraction) in RTD_STAGES.iter().zip(RTD_FRACTIONS) {
        let day = occurred_day + (fraction * f64::from(time_loss_days)).round() as i64;
        let after_previous = stages.last().is_none_or(|(_, d)| day > *d);
        if after_previous && (day < cleared || stages.is_empty()) {
            stages.push(((*stage).to_owned(), day));
        }
    }
    stages.push(("cleared".to_owned(), cleared));
    stages
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severity_bands() {
        let cases = [
            (0, "none"),
            (1, "minimal"),
            (3, "minimal"),
            (4, "mild"),
            (7, "mild"),
        ];
        for (days, want) in cases {
            assert_eq!(severity_for_time_loss(days), want);
        }
        assert_eq!(severity_for_time_loss(8), "moderate");
        assert_eq!(severity_for_time_loss(28), "moderate");
        assert_eq!(severity_for_time_loss(29), "severe");
    }

    #[test]
    fn stages_are_ordered_and_end_cleared() {
        assert_eq!(
            return_to_duty(100, 1),
            vec![("rest".to_owned(), 100), ("cleared".to_owned(), 101)]
        );
        let long = return_to_duty(100, 40);
        let names: Vec<&str> = long.iter().map(|(s, _)| s.as_str()).collect();
        assert_eq!(names, RTD_STAGES);
        assert_eq!(long.last().map(|s| s.1), Some(140));
        for days in 1..200 {
            let stages = return_to_duty(0, days);
            assert!(stages.windows(2).all(|w| w[0].1 < w[1].1), "{days}");
            assert_eq!(stages.last().map(|s| s.1), Some(i64::from(days)));
        }
    }
}
