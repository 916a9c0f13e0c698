//! The feature builder against the demo organisation's truth (`docs/design/hazard-model.md`):
//! fed the demo's published load and injuries, it must reproduce the ACWR, the recent-injury
//! flag and the weekly outcome that generated the injuries, week by week.

use mhp_demo::{DemoSpec, plan};
use mhp_ml::features;

use crate::demo_histories;

#[test]
fn features_reproduce_the_demo_truth() {
    let org = plan(&DemoSpec::default()).unwrap();
    let spec = demo_histories::feature_spec();
    let names = spec.names();
    let at = |name: &str| names.iter().position(|n| n == name).unwrap();
    let histories = demo_histories::histories(&org);

    let known_until = org.spec.start_day + 7 * org.spec.weeks as i64;
    let (mut injured, mut recent) = (0, 0);
    for truth in &org.weekly_truth {
        let h = &histories[truth.subject];
        let day = org.spec.start_day + 7 * truth.week as i64;
        assert!(
            !features::in_time_loss(h, day),
            "weeks at risk are not in time loss"
        );
        let row = features::build(&spec, h, day, known_until);
        let acwr = row.values[at("acwr")];
        if truth.acwr == 0.0 {
            assert!(acwr.is_nan());
        } else {
            assert!((acwr - truth.acwr).abs() < 1e-9, "{acwr} vs {}", truth.acwr);
        }
        assert_eq!(row.label, Some(truth.injured));
        assert_eq!(row.values[at("recent_injury")] == 1.0, truth.prior_injury);
        if let Some(a) = truth.assessment {
            let height = row.values[at("jump_height_m_latest")];
            assert_eq!(height, org.assessments[a].jump_height_m);
        }
        injured += usize::from(truth.injured);
        recent += usize::from(truth.prior_injury);
    }
    // The comparison means something only if both outcomes and both flags occur.
    assert!(
        injured > 10 && recent > 10,
        "{injured} injured, {recent} recent"
    );
}
