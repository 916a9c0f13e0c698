//! Calendar weeks and percentiles, as the embedded backend computes them.

use std::collections::BTreeMap;

use crate::WeekBucket;

const DAY_MS: i64 = 86_400_000;
const WEEK_MS: i64 = 7 * DAY_MS;
/// Monday 1969-12-29 00:00 UTC: the Unix epoch fell on a Thursday, three days later.
const MONDAY_BEFORE_EPOCH_MS: i64 = -3 * DAY_MS;

/// The Monday 00:00 UTC that starts the ISO week containing `ms` (ms since the epoch), the
/// same week OpenSearch's `calendar_interval: week` buckets by.
pub fn week_start_ms(ms: i64) -> i64 {
    let since_monday = ms.saturating_sub(MONDAY_BEFORE_EPOCH_MS);
    since_monday.div_euclid(WEEK_MS) * WEEK_MS + MONDAY_BEFORE_EPOCH_MS
}

/// The `p`-quantile (`p` in `[0, 1]`) of values sorted ascending, by linear interpolation
/// between order statistics (Hyndman and Fan type 7): `h = (n - 1) p`,
/// `x[⌊h⌋] + (h - ⌊h⌋) (x[⌊h⌋ + 1] - x[⌊h⌋])`. `None` for no values; `p` is clamped.
pub fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
    let last = sorted.len().checked_sub(1)?;
    let h = last as f64 * p.clamp(0.0, 1.0);
    let lo = h.floor();
    // `lo` is in 0..=last, so the conversion is exact.
    let i = lo as usize;
    let below = *sorted.get(i)?;
    let above = sorted.get(i + 1).copied().unwrap_or(below);
    Some(below + (h - lo) * (above - below))
}

/// Groups `(recorded_at_ms, value)` pairs into calendar weeks, oldest first.
pub(crate) fn weekly_buckets(points: impl IntoIterator<Item = (i64, f64)>) -> Vec<WeekBucket> {
    let mut weeks: BTreeMap<i64, Vec<f64>> = BTreeMap::new();
    for (at, value) in points {
        weeks.entry(week_start_ms(at)).or_default().push(value);
    }
    weeks
        .into_iter()
        .filter_map(|(week_start_ms, mut values)| {
            values.sort_by(f64::total_cmp);
            let count = values.len();
            let mean = values.iter().sum::<f64>() / count as f64;
            Some(WeekBucket {
                week_start_ms,
                count: count as u64,
                mean,
                p10: percentile(&values, 0.10)?,
                p50: percentile(&values, 0.50)?,
                p90: percentile(&values, 0.90)?,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weeks_start_on_monday_midnight_utc() {
        // 2024-01-01 was a Monday.
        let monday = 1_704_067_200_000;
        assert_eq!(week_start_ms(monday), monday);
        assert_eq!(week_start_ms(monday + WEEK_MS - 1), monday);
        assert_eq!(week_start_ms(monday - 1), monday - WEEK_MS);
        assert_eq!(week_start_ms(0), MONDAY_BEFORE_EPOCH_MS);
        assert_eq!(week_start_ms(-WEEK_MS), MONDAY_BEFORE_EPOCH_MS - WEEK_MS);
    }

    #[test]
    fn percentiles_are_type_7() {
        let x = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0];
        // numpy.percentile(range(1, 11), [10, 50, 90]) == [1.9, 5.5, 9.1]
        let p = |q| percentile(&x, q).unwrap();
        assert!((p(0.1) - 1.9).abs() < 1e-12);
        assert!((p(0.5) - 5.5).abs() < 1e-12);
        assert!((p(0.9) - 9.1).abs() < 1e-12);
        assert_eq!(percentile(&[3.0], 0.9), Some(3.0));
        assert_eq!(percentile(&[], 0.5), None);
        assert_eq!(percentile(&x, 1.0), Some(10.0));
        assert_eq!(percentile(&x, 0.0), Some(1.0));
    }
}
