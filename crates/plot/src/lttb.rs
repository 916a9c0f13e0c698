//! Largest-Triangle-Three-Buckets downsampling (Sveinn Steinarsson, "Downsampling Time Series
//! for Visual Representation", 2013).

/// Largest-Triangle-Three-Buckets downsampling (Steinarsson 2013): keeps the first and the
/// last point and returns at most `threshold` points; all points when there are no more than
/// `threshold` of them, or when `threshold < 3`.
///
/// `points` must be in x order. Between the two ends, the points are cut into `threshold - 2`
/// buckets and each bucket keeps the point that makes the largest triangle with the point
/// kept before it and the mean of the next bucket, so peaks (a landing's impact) survive
/// where plain decimation would step over them. Non-finite values do not panic, but the
/// caller should split a series at its gaps first (the chart does).
pub fn lttb(points: &[(f64, f64)], threshold: usize) -> Vec<(f64, f64)> {
    let n = points.len();
    if threshold < 3 || n <= threshold {
        return points.to_vec();
    }
    let buckets = threshold - 2;
    let mut out = Vec::with_capacity(threshold);
    out.push(points[0]);
    let mut kept = points[0];
    for i in 0..buckets {
        let (start, end) = (bucket_start(i, buckets, n), bucket_start(i + 1, buckets, n));
        let next_end = bucket_start(i + 2, buckets, n);
        let (avg_x, avg_y) = mean(&points[end..next_end]);
        let mut best = points[start];
        let mut best_area = f64::NEG_INFINITY;
        for &(x, y) in &points[start..end] {
            // Twice the triangle's area; the factor does not change which point wins.
            let area = ((kept.0 - avg_x) * (y - kept.1) - (kept.0 - x) * (avg_y - kept.1)).abs();
            if area > best_area {
                best_area = area;
                best = (x, y);
            }
        }
        out.push(best);
        kept = best;
    }
    out.push(points[n - 1]);
    out
}

/// First index of bucket `k` of `buckets` over the inner points `1..n-1`; bucket `buckets`
/// is the last point alone, and its end is `n`.
fn bucket_start(k: usize, buckets: usize, n: usize) -> usize {
    if k > buckets {
        return n;
    }
    // In u128 so that k * (n - 2) cannot overflow.
    let inner = (n - 2) as u128;
    1 + (k as u128 * inner / buckets as u128) as usize
}

fn mean(points: &[(f64, f64)]) -> (f64, f64) {
    if points.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    let (sx, sy) = points
        .iter()
        .fold((0.0, 0.0), |(sx, sy), &(x, y)| (sx + x, sy + y));
    let count = points.len() as f64;
    (sx / count, sy / count)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ramp(n: usize) -> Vec<(f64, f64)> {
        (0..n).map(|i| (i as f64, (i as f64 * 0.1).sin())).collect()
    }

    #[test]
    fn short_input_and_small_threshold_come_back_whole() {
        assert_eq!(lttb(&[], 10), Vec::<(f64, f64)>::new());
        assert_eq!(lttb(&ramp(5), 10), ramp(5));
        assert_eq!(lttb(&ramp(5), 5), ramp(5));
        assert_eq!(lttb(&ramp(50), 2), ramp(50));
        assert_eq!(lttb(&ramp(50), 0), ramp(50));
    }

    #[test]
    fn exactly_threshold_points_with_both_ends() {
        for (n, threshold) in [(4, 3), (10, 3), (100, 7), (1000, 600), (10_001, 600)] {
            let points = ramp(n);
            let out = lttb(&points, threshold);
            assert_eq!(out.len(), threshold, "n={n} threshold={threshold}");
            assert_eq!(out[0], points[0]);
            assert_eq!(out[threshold - 1], points[n - 1]);
            assert!(out.windows(2).all(|w| w[0].0 < w[1].0), "x order kept");
        }
    }

    #[test]
    fn buckets_cover_the_inner_points_without_gaps() {
        for (n, buckets) in [(5, 1), (5, 2), (10, 7), (10_000, 598)] {
            assert_eq!(bucket_start(0, buckets, n), 1);
            assert_eq!(bucket_start(buckets, buckets, n), n - 1);
            assert_eq!(bucket_start(buckets + 1, buckets, n), n);
            for k in 0..buckets {
                assert!(bucket_start(k, buckets, n) < bucket_start(k + 1, buckets, n));
            }
        }
    }

    #[test]
    fn non_finite_values_do_not_panic() {
        let points: Vec<(f64, f64)> = (0..100)
            .map(|i| (i as f64, if i % 7 == 0 { f64::NAN } else { f64::INFINITY }))
            .collect();
        assert_eq!(lttb(&points, 10).len(), 10);
    }
}
