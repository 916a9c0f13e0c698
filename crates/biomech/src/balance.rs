//! Balance (and plank hold) sway analysis from the centre of pressure.
//!
//! Definitions follow Prieto et al. 1996 (IEEE Trans Biomed Eng
//! 43(9):956–966, "Measures of postural steadiness: differences between
//! healthy young and elderly adults"): path length is the summed distance
//! between consecutive CoP samples; mean velocity is path length over
//! duration; ranges are max − min along each axis. The 95 % ellipse is the
//! prediction ellipse expected to hold 95 % of CoP samples, with the
//! finite-sample F factor recommended by Schubert & Kirchner 2014 (Gait
//! Posture 39(1):518–522, "Ellipse area calculations and their
//! applicability in posturography"):
//!
//! area = π · k · √(s_x² s_y² − s_xy²),  k = 2(n+1)(n−1) / (n(n−2)) · F₀.₉₅(2, n−2)
//!
//! For large n, k tends to χ²₀.₉₅(2) = 5.991 and to Prieto's 2·F.

use serde::Serialize;

use crate::flags::{Flag, FlagCode};
use crate::recording::{CentreOfPressure, GRAVITY, SampleRate};
use crate::signal::mean_sd;

/// Shortest balance or plank trial analysed, s.
pub const MIN_BALANCE_S: f64 = 5.0;
/// Time dropped at an end of a trial where the subject stepped on or off
/// the plate, s (the CoP is meaningless while weight shifts onto the plate).
pub const STEP_TRIM_S: f64 = 0.5;

/// Sway metrics, SI units. `x` is medial-lateral (ML), `y`
/// anterior-posterior (AP).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BalanceMetrics {
    /// Analysed duration, s.
    pub duration_s: f64,
    /// Mean vertical force / g, kg (for a plank, the load on the plate).
    pub body_mass_kg: f64,
    /// Total CoP path length, m (Prieto et al. 1996).
    pub path_length_m: f64,
    /// Path length / duration, m/s (Prieto et al. 1996).
    pub mean_velocity_m_s: f64,
    /// 95 % prediction ellipse area, m² (Schubert & Kirchner 2014).
    pub ellipse_area_95_m2: f64,
    /// Anterior-posterior range, m.
    pub range_ap_m: f64,
    /// Medial-lateral range, m.
    pub range_ml_m: f64,
    /// Anterior-posterior SD, m.
    pub sd_ap_m: f64,
    /// Medial-lateral SD, m.
    pub sd_ml_m: f64,
}

/// The 95 % prediction-ellipse area for `n` samples with the given
/// covariance (Schubert & Kirchner 2014).
pub fn ellipse_area_95(n: usize, var_x: f64, var_y: f64, cov_xy: f64) -> f64 {
    if n < 3 {
        return 0.0;
    }
    let nf = n as f64;
    let k = 2.0 * (nf + 1.0) * (nf - 1.0) / (nf * (nf - 2.0)) * f_quantile_2(0.95, nf - 2.0);
    let det = (var_x * var_y - cov_xy * cov_xy).max(0.0);
    std::f64::consts::PI * k * det.sqrt()
}

/// Quantile of the F(2, m) distribution, closed form: its CDF is
/// 1 − (1 + 2x/m)^(−m/2).
fn f_quantile_2(p: f64, m: f64) -> f64 {
    (m / 2.0) * ((1.0 - p).powf(-2.0 / m) - 1.0)
}

/// Analyses one balance or plank trial over samples `[span.0, span.1)`.
pub(crate) fn analyze_balance(
    total: &[f64],
    cop: Option<&CentreOfPressure>,
    span: (usize, usize),
    rate: SampleRate,
) -> Result<BalanceMetrics, Flag> {
    let Some(cop) = cop else {
        return Err(Flag::new(
            FlagCode::NoCentreOfPressure,
            "sway needs centre-of-pressure columns (cop_x_m, cop_y_m)",
        ));
    };
    let trim = rate.samples(STEP_TRIM_S);
    let start = if span.0 > 0 { span.0 + trim } else { span.0 };
    let end = if span.1 < total.len() {
        span.1.saturating_sub(trim)
    } else {
        span.1
    };
    if end <= start || end - start < rate.samples(MIN_BALANCE_S) {
        return Err(Flag::new(
            FlagCode::TrialTooShort,
            "less than 5 s of standing on the plate",
        ));
    }
    let (Some(x), Some(y), Some(f)) = (
        cop.x.get(start..end),
        cop.y.get(start..end),
        total.get(start..end),
    ) else {
        return Err(Flag::new(
            FlagCode::TrialTooShort,
            "centre of pressure is shorter than force",
        ));
    };
    Ok(sway(x, y, f, rate))
}

fn sway(x: &[f64], y: &[f64], f: &[f64], rate: SampleRate) -> BalanceMetrics {
    let n = x.len();
    let duration = n as f64 * rate.dt();
    let path: f64 = x
        .windows(2)
        .zip(y.windows(2))
        .map(|(a, b)| (a[1] - a[0]).hypot(b[1] - b[0]))
        .sum();
    let (mx, sx) = mean_sd(x);
    let (my, sy) = mean_sd(y);
    let cov = if n > 1 {
        x.iter()
            .zip(y)
            .map(|(a, b)| (a - mx) * (b - my))
            .sum::<f64>()
            / (n as f64 - 1.0)
    } else {
        0.0
    };
    let (mean_force, _) = mean_sd(f);
    BalanceMetrics {
        duration_s: duration,
        body_mass_kg: mean_force / GRAVITY,
        path_length_m: path,
        mean_velocity_m_s: path / duration,
        ellipse_area_95_m2: ellipse_area_95(n, sx * sx, sy * sy, cov),
        range_ap_m: range(y),
        range_ml_m: range(x),
        sd_ap_m: sy,
        sd_ml_m: sx,
    }
}

fn range(v: &[f64]) -> f64 {
    let lo = v.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if hi >= lo { hi - lo } else { 0.0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn f_quantile_matches_tables() {
        // F(0.95; 2, 10) = 4.103, F(0.95; 2, 120) = 3.072 (standard tables).
        assert!((f_quantile_2(0.95, 10.0) - 4.1028).abs() < 1e-3);
        assert!((f_quantile_2(0.95, 120.0) - 3.0718).abs() < 1e-3);
    }

    #[test]
    fn large_sample_factor_tends_to_chi_square() {
        let area = ellipse_area_95(1_000_000, 1.0, 1.0, 0.0);
        assert!((area / std::f64::consts::PI - 5.991).abs() < 1e-2);
    }

    #[test]
    fn path_and_range_of_a_square() {
        let x = [0.0, 0.01, 0.01, 0.0, 0.0];
        let y = [0.0, 0.0, 0.01, 0.01, 0.0];
        let f = [800.0; 5];
        let m = sway(&x, &y, &f, SampleRate::new(100.0).unwrap());
        assert!((m.path_length_m - 0.04).abs() < 1e-12);
        assert!((m.range_ap_m - 0.01).abs() < 1e-12);
        assert!((m.mean_velocity_m_s - 0.04 / 0.05).abs() < 1e-12);
    }
}
