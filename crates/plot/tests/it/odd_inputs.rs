//! Inputs that must not panic and must still give a well-formed chart.

use mhp_plot::{Axis, Chart, HBand, Region, Series, nice_ticks};
use proptest::prelude::*;

use crate::fixtures::{checked, with_class};

fn chart_of(points: Vec<(f64, f64)>) -> Chart {
    Chart::new("odd", "Odd", "An odd input.")
        .with_axes(Axis::new("x"), Axis::new("y"))
        .with_series(Series::line("s", "series-1", points))
}

#[test]
fn no_data_says_so() {
    let nan = f64::NAN;
    let cases = [
        Chart::new("empty", "", ""),
        chart_of(Vec::new()),
        chart_of(vec![(nan, nan), (1.0, nan), (nan, 2.0)]),
        chart_of(vec![(f64::INFINITY, 1.0), (2.0, f64::NEG_INFINITY)]),
    ];
    for chart in cases {
        let svg = chart.to_svg();
        let doc = checked(&svg);
        let no_data = with_class(&doc, "no-data");
        assert_eq!(no_data.len(), 1, "{svg}");
        assert_eq!(no_data[0].text(), Some("No data"));
    }
}

#[test]
fn degenerate_data_gives_a_chart() {
    let cases = [
        vec![(1.0, 5.0)],
        vec![(0.0, 5.0), (1.0, 5.0), (2.0, 5.0)],
        vec![(3.0, 0.0), (3.0, 1.0)],
        vec![(0.0, 0.0), (0.0, 0.0)],
        vec![(-f64::MAX, -f64::MAX), (f64::MAX, f64::MAX)],
        vec![(0.0, 1e-300), (1e-300, 0.0)],
        vec![(0.0, 1e15), (1.0, -1e15)],
        vec![(5.0, 1.0), (1.0, 2.0), (3.0, 3.0)],
    ];
    for points in cases {
        let svg = chart_of(points.clone()).to_svg();
        let doc = checked(&svg);
        assert!(with_class(&doc, "no-data").is_empty(), "{points:?}");
        assert!(!with_class(&doc, "axis-y").is_empty());
    }
}

#[test]
fn odd_settings() {
    let base = chart_of(vec![(0.0, 1.0), (1.0, 2.0)]);
    let mut cases = vec![
        base.clone().with_size(0, 0),
        base.clone().with_size(u32::MAX, u32::MAX),
        base.clone().with_axes(
            Axis::new("x").with_range(f64::NAN, 1.0),
            Axis::new("y").with_range(3.0, 3.0),
        ),
        base.clone()
            .with_axes(Axis::dates("d"), Axis::dates("d").with_zero()),
        base.clone()
            .with_axes(Axis::dates("d").with_range(-1e300, 1e300), Axis::new("y"))
            .with_band(HBand::new(f64::NAN, 1.0, "nan band")),
        base.clone()
            .with_band(HBand::new(100.0, -100.0, "reversed"))
            .with_region(Region::new(1.0, 0.0, "reversed", ""))
            .with_region(Region::new(f64::NAN, 0.0, "nan", "k"))
            .with_region(Region::new(0.0, 1.0, "", "<>")),
    ];
    let mut many = base.clone();
    for i in 0..40 {
        many.series.push(Series::line(
            "a rather long series name ".repeat(i % 3),
            format!("series-{i}"),
            vec![(i as f64, 1.0), (i as f64 + 1.0, f64::NAN)],
        ));
    }
    cases.push(many);
    for chart in cases {
        checked(&chart.to_svg());
    }
}

#[test]
fn nice_ticks_never_explode() {
    let values = [
        0.0,
        -0.0,
        1e-300,
        -1e300,
        1e308,
        f64::MAX,
        f64::MIN_POSITIVE,
        7.0,
    ];
    for &a in &values {
        for &b in &values {
            for target in [0, 1, 5, 1000] {
                let ticks = nice_ticks(a, b, target);
                assert!(ticks.len() <= 101, "{a} {b} {target}");
                assert!(ticks.iter().all(|t| t.is_finite()));
            }
        }
    }
}

fn any_f64() -> impl Strategy<Value = f64> {
    prop_oneof![
        4 => -1e4f64..1e4,
        1 => Just(f64::NAN),
        1 => Just(f64::INFINITY),
        1 => Just(0.0),
        1 => any::<f64>(),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn any_input_gives_a_well_formed_chart(
        points in prop::collection::vec((any_f64(), any_f64()), 0..50),
        title in any::<String>(),
        label in any::<String>(),
        markers in any::<bool>(),
        dates in any::<bool>(),
        zero in any::<bool>(),
    ) {
        let x_axis = if dates { Axis::dates(label.clone()) } else { Axis::new(label.clone()) };
        let mut y_axis = Axis::new(label.clone());
        y_axis.include_zero = zero;
        let mut series = Series::line(label.clone(), label.clone(), points);
        series.markers = markers;
        let chart = Chart::new(label.clone(), title, label.clone())
            .with_axes(x_axis, y_axis)
            .with_series(series)
            .with_region(Region::new(0.0, 1.0, label.clone(), label.clone()))
            .with_band(HBand::new(0.0, 1.0, label));
        let svg = chart.to_svg();
        checked(&svg);
        prop_assert_eq!(svg, chart.to_svg());
    }
}
