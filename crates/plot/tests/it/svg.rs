//! The SVG as a browser and a screen reader see it.

use mhp_plot::{Axis, Chart, Region, Series};

use crate::fixtures::{checked, dual_plate_chart, weekly_trend, with_class};

#[test]
fn a_ten_second_dual_plate_recording_stays_small() {
    let chart = dual_plate_chart();
    let svg = chart.to_svg();
    eprintln!("3 × 10 000 points: {} bytes", svg.len());
    assert!(svg.len() < 60 * 1024, "{} bytes", svg.len());
    let doc = checked(&svg);
    let paths: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("path"))
        .collect();
    assert_eq!(paths.len(), 3);
    for (path, class) in paths.iter().zip(["series-1", "series-2", "series-3"]) {
        assert_eq!(
            path.attribute("class"),
            Some(format!("series {class}").as_str())
        );
        let d = path.attribute("d").unwrap();
        assert!(d.starts_with('M'));
        assert_eq!(d.matches('M').count(), 1, "no gaps in this trace");
        assert!(d.matches('L').count() < 600);
    }
    // Lines differ by dash pattern, not only by colour.
    let dashes: Vec<_> = paths
        .iter()
        .map(|p| p.attribute("stroke-dasharray"))
        .collect();
    assert_eq!(dashes, [None, Some("6 3"), Some("2 3")]);
}

#[test]
fn title_desc_axes_regions_and_legend() {
    let svg = dual_plate_chart().to_svg();
    let doc = checked(&svg);
    let root = doc.root_element();
    assert_eq!(
        root.attribute("aria-labelledby"),
        Some("cmj-1-title cmj-1-desc")
    );
    assert_eq!(root.attribute("viewBox"), Some("0 0 720 320"));
    let text = |class: &str| -> Vec<String> {
        with_class(&doc, class)
            .iter()
            .map(|n| n.text().unwrap_or_default().to_owned())
            .collect()
    };
    assert_eq!(text("axis-label"), ["Time (s)", "Force (N)"]);
    let x_ticks = text("tick-label");
    assert!(x_ticks.contains(&"0".to_owned()) && x_ticks.contains(&"2000".to_owned()));
    assert_eq!(
        with_class(&doc, "region").len(),
        5 + 5,
        "five spans and five legend swatches"
    );
    assert_eq!(with_class(&doc, "region-braking").len(), 2);
    // Over ten seconds the phases are too narrow for their labels: the legend names them.
    assert!(text("region-label").is_empty());
    assert_eq!(
        text("legend-label"),
        [
            "Total",
            "Left",
            "Right",
            "Unweighting",
            "Braking",
            "Propulsion",
            "Flight",
            "Landing"
        ]
    );
    assert!(!with_class(&doc, "grid").is_empty());
    // Regions come before (behind) the lines, axes after.
    let order: Vec<_> = root
        .children()
        .filter_map(|n| n.attribute("class"))
        .collect();
    let at = |class: &str| order.iter().position(|c| *c == class).unwrap();
    assert!(at("regions") < at("grid") && at("grid") < at("series-group"));
    assert!(at("series-group") < at("axis axis-x"));
}

#[test]
fn spans_wide_enough_carry_their_label() {
    let mut chart = dual_plate_chart();
    chart.x_axis.range = Some((1.8, 3.8));
    let svg = chart.to_svg();
    let doc = checked(&svg);
    let labels: Vec<_> = with_class(&doc, "region-label")
        .iter()
        .map(|n| n.text().unwrap().to_owned())
        .collect();
    assert_eq!(
        labels,
        ["Unweighting", "Braking", "Propulsion", "Flight", "Landing"]
    );
}

#[test]
fn y_axis_from_zero_when_asked() {
    let svg = dual_plate_chart().to_svg();
    let doc = checked(&svg);
    let y_labels: Vec<_> = with_class(&doc, "axis-y")[0]
        .descendants()
        .filter(|n| n.attribute("class") == Some("tick-label"))
        .map(|n| n.text().unwrap().to_owned())
        .collect();
    assert_eq!(y_labels.first().map(String::as_str), Some("0"));
}

#[test]
fn weekly_trend_with_dates_markers_and_band() {
    let svg = weekly_trend().to_svg();
    let doc = checked(&svg);
    let markers: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("circle"))
        .collect();
    assert_eq!(markers.len(), 12 + 1, "twelve weeks and the legend swatch");
    let x_axis = &with_class(&doc, "axis-x")[0];
    let labels: Vec<_> = x_axis
        .descendants()
        .filter(|n| n.attribute("class") == Some("tick-label"))
        .map(|n| n.text().unwrap().to_owned())
        .collect();
    assert!(labels.contains(&"2 Mar".to_owned()), "{labels:?}");
    assert!(
        labels
            .iter()
            .all(|l| l.ends_with("Mar") || l.ends_with("Apr") || l.ends_with("May"))
    );
    assert_eq!(
        with_class(&doc, "band-label")[0].text(),
        Some("Baseline ± SWC")
    );
    // One series, but a band: the legend is there.
    assert_eq!(with_class(&doc, "legend").len(), 1);
}

#[test]
fn one_series_alone_has_no_legend() {
    let chart = Chart::new("c", "t", "d").with_series(Series::line(
        "Force",
        "series-1",
        vec![(0.0, 1.0), (1.0, 2.0)],
    ));
    let svg = chart.to_svg();
    let doc = checked(&svg);
    assert!(with_class(&doc, "legend").is_empty());
}

#[test]
fn user_text_is_escaped() {
    let mut chart = weekly_trend();
    chart.title = "<script>alert('x')</script> & \"friends\"".to_owned();
    chart.desc = "Desc </desc><script>".to_owned();
    chart.series[0].name = "<b>Name</b>".to_owned();
    chart.series[0].class = "\" onload=\"alert(1)".to_owned();
    chart.y_axis.label = "Height <cm> & 'more'".to_owned();
    chart.id = "x\" onmouseover=\"y".to_owned();
    let svg = chart.to_svg();
    assert!(!svg.contains("<script"), "{svg}");
    assert!(!svg.contains("<b>"));
    assert!(!svg.contains("onload=\""));
    assert!(!svg.contains("onmouseover=\""));
    assert!(
        svg.contains("&lt;script&gt;alert(&apos;x&apos;)&lt;/script&gt; &amp; &quot;friends&quot;")
    );
    let doc = checked(&svg);
    let title = doc.descendants().find(|n| n.has_tag_name("title")).unwrap();
    assert_eq!(title.text(), Some(chart.title.as_str()));
    assert_eq!(title.attribute("id"), Some("x--onmouseover--y-title"));
    assert!(
        with_class(&doc, "axis-label")
            .iter()
            .any(|n| n.text() == Some("Height <cm> & 'more'"))
    );
    assert!(doc.descendants().all(|n| n.attribute("onload").is_none()));
}

#[test]
fn gaps_split_the_line() {
    let points = vec![
        (0.0, 1.0),
        (1.0, 2.0),
        (2.0, f64::NAN),
        (3.0, 2.0),
        (4.0, 3.0),
        (5.0, f64::INFINITY),
        (6.0, 1.0),
        (f64::NAN, 1.0),
        (8.0, 2.0),
        (9.0, 3.0),
    ];
    let chart =
        Chart::new("g", "Gaps", "A line with gaps.").with_series(Series::line("y", "", points));
    let svg = chart.to_svg();
    let doc = checked(&svg);
    let path = doc.descendants().find(|n| n.has_tag_name("path")).unwrap();
    assert_eq!(path.attribute("class"), Some("series series-1"));
    assert_eq!(path.attribute("d").unwrap().matches('M').count(), 3);
    // The lone point at x = 6 gets a marker so it does not vanish.
    assert_eq!(
        doc.descendants()
            .filter(|n| n.has_tag_name("circle"))
            .count(),
        1
    );
}

#[test]
fn fixed_ranges_and_regions_outside_them_are_clipped() {
    let chart = Chart::new("f", "Fixed", "A fixed range.")
        .with_axes(
            Axis::new("x").with_range(0.0, 1.0),
            Axis::new("y").with_range(10.0, 0.0),
        )
        .with_series(Series::line(
            "s",
            "series-1",
            vec![(-5.0, -100.0), (0.5, 5.0), (50.0, 1e300)],
        ))
        .with_region(Region::new(-10.0, 0.5, "Left half", "a"))
        .with_region(Region::new(2.0, 3.0, "Outside", "b"));
    let svg = chart.to_svg();
    let doc = checked(&svg);
    let spans: Vec<_> = with_class(&doc, "regions")[0]
        .children()
        .filter(|n| n.has_tag_name("rect"))
        .collect();
    assert_eq!(spans.len(), 1, "the span outside the range is not drawn");
    let root = doc.root_element();
    let group = with_class(&doc, "series-group")[0];
    assert_eq!(group.attribute("clip-path"), Some("url(#f-clip)"));
    assert!(
        root.descendants()
            .any(|n| n.attribute("id") == Some("f-clip"))
    );
}

#[test]
fn same_input_same_bytes() {
    assert_eq!(dual_plate_chart().to_svg(), dual_plate_chart().to_svg());
    assert_eq!(weekly_trend().to_svg(), weekly_trend().to_svg());
}
