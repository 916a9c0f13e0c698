//! Is a change real? Reliability of one athlete's metric, beside its value.
//!
//! - **Within-session coefficient of variation**: the SD of the latest session's reps over
//!   their mean, in %. How repeatable the athlete is inside one test.
//! - **Typical error** between sessions (Hopkins 2000, Sports Med 30:1–15): the SD of the
//!   differences between consecutive session means, over √2, from the baseline sessions (the
//!   ones before the latest, so the change being judged does not inflate its own yardstick).
//!   It includes real week-to-week variation, so it is conservative.
//! - **Minimal detectable change** at 95 % (Weir 2005, J Strength Cond Res 19:231): 1.96 × √2 ×
//!   typical error. A change larger than this is unlikely to be measurement noise.
//!
//! The smallest worthwhile change (0.2 × between-athlete SD) is the population's, computed
//! beside the norms; a change is worth acting on when it exceeds both.

/// One session (assessment) of a metric: the mean over its reps, their SD and how many.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Session {
    /// Mean over the session's reps.
    pub mean: f64,
    /// Sample SD over the reps (`None` with fewer than two).
    pub sd: Option<f64>,
    /// Reps with a value.
    pub reps: u32,
}

/// Reliability figures of one athlete's metric. `None` where the data cannot say.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Reliability {
    /// Within-session CV of the latest session, in %.
    pub within_session_cv_pct: Option<f64>,
    /// Typical error between baseline sessions, in the metric's unit.
    pub typical_error: Option<f64>,
    /// Minimal detectable change at 95 %, in the metric's unit.
    pub mdc95: Option<f64>,
    /// Baseline sessions the typical error came from.
    pub baseline_sessions: usize,
}

/// The figures from the latest session and the baseline sessions before it (oldest first; at
/// least three give two differences, the fewest a typical error is computed from).
pub fn reliability(latest: Session, baseline: &[Session]) -> Reliability {
    let within_session_cv_pct = match latest.sd {
        Some(sd) if latest.reps >= 2 && latest.mean.abs() > f64::EPSILON && sd.is_finite() => {
            Some(sd / latest.mean.abs() * 100.0)
        }
        _ => None,
    };
    let diffs: Vec<f64> = baseline.windows(2).map(|w| w[1].mean - w[0].mean).collect();
    let typical_error = (diffs.len() >= 2)
        .then(|| sample_sd(&diffs) / std::f64::consts::SQRT_2)
        .filter(|te| te.is_finite());
    Reliability {
        within_session_cv_pct,
        typical_error,
        mdc95: typical_error.map(|te| 1.96 * std::f64::consts::SQRT_2 * te),
        baseline_sessions: baseline.len(),
    }
}

fn sample_sd(values: &[f64]) -> f64 {
    #[allow(clippy::cast_precision_loss)]
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let ss: f64 = values.iter().map(|v| (v - mean).powi(2)).sum();
    (ss / (n - 1.0)).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(mean: f64) -> Session {
        Session {
            mean,
            sd: Some(0.01),
            reps: 2,
        }
    }

    #[test]
    fn figures_match_a_hand_computation() {
        // Baseline means 0.40 0.42 0.39 0.41: differences 0.02 −0.03 0.02, sample SD 0.028868,
        // typical error 0.020412, MDC95 0.056580. Latest: SD 0.014142 over mean 0.35 → 4.0406 %.
        let latest = Session {
            mean: 0.35,
            sd: Some(0.02 / std::f64::consts::SQRT_2),
            reps: 2,
        };
        let r = reliability(latest, &[s(0.40), s(0.42), s(0.39), s(0.41)]);
        assert!(
            (r.within_session_cv_pct.unwrap_or(0.0) - 4.040_610).abs() < 1e-5,
            "{r:?}"
        );
        assert!(
            (r.typical_error.unwrap_or(0.0) - 0.020_412).abs() < 1e-6,
            "{r:?}"
        );
        assert!((r.mdc95.unwrap_or(0.0) - 0.056_580).abs() < 1e-6, "{r:?}");
        assert_eq!(r.baseline_sessions, 4);
    }

    #[test]
    fn too_little_data_says_nothing() {
        let one_rep = Session {
            mean: 0.3,
            sd: None,
            reps: 1,
        };
        let r = reliability(one_rep, &[s(0.40), s(0.41)]);
        assert_eq!(r.within_session_cv_pct, None);
        assert_eq!(r.typical_error, None, "one difference is not enough");
        assert_eq!(r.mdc95, None);
        let zero_mean = Session {
            mean: 0.0,
            sd: Some(1.0),
            reps: 3,
        };
        assert_eq!(reliability(zero_mean, &[]).within_session_cv_pct, None);
    }
}
