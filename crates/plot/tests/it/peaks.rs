//! LTTB on a real-looking signal: the landing's impact peak survives, the ends stay, the
//! count is bounded.

use mhp_plot::lttb;
use proptest::prelude::*;

use crate::fixtures::{BODY_WEIGHT_N, cmj_force};

fn peak(points: &[(f64, f64)]) -> (f64, f64) {
    points.iter().copied().fold(
        (f64::NAN, f64::NEG_INFINITY),
        |a, p| if p.1 > a.1 { p } else { a },
    )
}

#[test]
fn keeps_the_landing_peak_of_a_jump() {
    let trace = cmj_force(10.0);
    let (t, force) = peak(&trace);
    assert!(
        force > 4.0 * BODY_WEIGHT_N && (3.3..3.4).contains(&t),
        "{t} s {force} N"
    );
    for threshold in [600, 300, 100, 50] {
        let out = lttb(&trace, threshold);
        assert_eq!(out.len(), threshold);
        assert_eq!(peak(&out), (t, force), "threshold {threshold}");
        // The flight's zero force survives too.
        assert!(
            out.iter()
                .any(|&(t, f)| (2.8..3.3).contains(&t) && f == 0.0)
        );
    }
}

#[test]
fn plain_decimation_would_have_lost_it() {
    // Why LTTB and not every n-th sample: the same budget by striding misses the peak.
    let trace = cmj_force(10.0);
    let strided: Vec<_> = trace.iter().copied().step_by(trace.len() / 50).collect();
    assert!(peak(&strided).1 < peak(&trace).1);
}

proptest! {
    #[test]
    fn endpoints_and_count(
        ys in prop::collection::vec(-1e6f64..1e6, 0..400),
        threshold in 0usize..500,
    ) {
        let points: Vec<(f64, f64)> = ys.iter().enumerate().map(|(i, &y)| (i as f64, y)).collect();
        let out = lttb(&points, threshold);
        if threshold < 3 || points.len() <= threshold {
            prop_assert_eq!(&out, &points);
        } else {
            prop_assert_eq!(out.len(), threshold);
            prop_assert_eq!(out.first(), points.first());
            prop_assert_eq!(out.last(), points.last());
            // Every kept point is an input point, in x order.
            prop_assert!(out.windows(2).all(|w| w[0].0 < w[1].0));
            prop_assert!(out.iter().all(|p| points[p.0 as usize] == *p));
        }
    }
}
