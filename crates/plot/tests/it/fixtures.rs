//! Synthetic inputs: a countermovement-jump force trace and a weekly metric trend, and a
//! strict look at the SVG through an independent XML parser.

use mhp_plot::{Axis, Chart, HBand, Region, Series};

pub const RATE_HZ: f64 = 1000.0;
pub const BODY_WEIGHT_N: f64 = 800.0;

/// Vertical ground reaction force of a countermovement jump, `seconds` long at 1000 Hz:
/// quiet standing, unweighting, braking, propulsion, flight (zero force) and a landing with
/// a sharp impact peak of 4.5 body weights at 3.33 s, then quiet standing again. A small
/// deterministic ripple stands in for noise.
pub fn cmj_force(seconds: f64) -> Trace {
    let n = (seconds * RATE_HZ) as usize;
    (0..n)
        .map(|i| {
            let t = i as f64 / RATE_HZ;
            let ripple = 4.0 * (t * 97.0).sin() + 2.0 * (t * 331.0).cos();
            let bw = BODY_WEIGHT_N;
            let force = match t {
                t if t < 2.0 => bw + ripple,
                t if t < 2.3 => bw - 0.6 * bw * half_sine((t - 2.0) / 0.3) + ripple,
                t if t < 2.55 => bw + 1.2 * bw * half_sine((t - 2.3) / 0.25) + ripple,
                t if t < 2.8 => bw * (1.0 - (t - 2.55) / 0.25) * 2.0 + ripple,
                t if t < 3.3 => 0.0,
                t if t < 3.33 => bw * 4.5 * (t - 3.3) / 0.03,
                t if t < 3.6 => bw + bw * 3.5 * (-(t - 3.33) / 0.05).exp() + ripple,
                _ => bw + ripple,
            };
            (t, force.max(0.0))
        })
        .collect()
}

fn half_sine(phase: f64) -> f64 {
    (phase * std::f64::consts::PI).sin()
}

/// A force trace: `(seconds, newtons)`.
pub type Trace = Vec<(f64, f64)>;

/// Left and right plates' share of a total force.
pub fn plates(total: &[(f64, f64)]) -> (Trace, Trace) {
    let left = total.iter().map(|&(t, f)| (t, f * 0.48)).collect();
    let right = total.iter().map(|&(t, f)| (t, f * 0.52)).collect();
    (left, right)
}

/// The force-time chart of a 10 s dual-plate recording: 3 series × 10 000 points, the five
/// phases shaded.
pub fn dual_plate_chart() -> Chart {
    let total = cmj_force(10.0);
    let (left, right) = plates(&total);
    let phases = [
        (2.0, 2.3, "Unweighting"),
        (2.3, 2.55, "Braking"),
        (2.55, 2.8, "Propulsion"),
        (2.8, 3.3, "Flight"),
        (3.3, 3.6, "Landing"),
    ];
    let mut chart = Chart::new(
        "cmj-1",
        "Countermovement jump, 12 March 2026",
        "Force over time on both plates; peak landing force 3600 N.",
    )
    .with_axes(Axis::new("Time (s)"), Axis::new("Force (N)").with_zero())
    .with_series(Series::line("Total", "series-1", total))
    .with_series(Series::line("Left", "series-2", left))
    .with_series(Series::line("Right", "series-3", right));
    for (x0, x1, label) in phases {
        chart = chart.with_region(Region::new(x0, x1, label, label.to_lowercase()));
    }
    chart
}

/// A weekly jump-height trend over twelve weeks from Monday 2 March 2026 (day 20 514), with
/// markers and the baseline band.
pub fn weekly_trend() -> Chart {
    let start = mhp_plot::days_from_civil(2026, 3, 2) as f64;
    let points = (0..12)
        .map(|w| (start + 7.0 * w as f64, 38.0 + (w as f64 * 0.9).sin() * 2.5))
        .collect();
    Chart::new(
        "trend-jump-height",
        "Jump height, weekly",
        "Jump height stayed within the baseline band for twelve weeks.",
    )
    .with_axes(Axis::dates("Week"), Axis::new("Jump height (cm)"))
    .with_series(Series::line("Jump height", "series-1", points).with_markers())
    .with_band(HBand::new(36.5, 39.5, "Baseline ± SWC"))
}

/// The SVG parsed by roxmltree, with the checks every chart must pass: one `<svg>` root with
/// the accessible name wiring, `<title>` and `<desc>` first, no `style` attribute, no
/// `<style>` or `<script>` element, and no coordinate with more than one decimal.
pub fn checked(svg: &str) -> roxmltree::Document<'_> {
    let doc = roxmltree::Document::parse(svg)
        .unwrap_or_else(|e| panic!("not well-formed XML: {e}\n{svg}"));
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "svg");
    assert_eq!(
        root.tag_name().namespace(),
        Some("http://www.w3.org/2000/svg")
    );
    assert_eq!(root.attribute("role"), Some("img"));
    assert_eq!(root.attribute("class"), Some("chart"));
    let id = root
        .attribute("aria-labelledby")
        .and_then(|ids| ids.strip_suffix("-desc"))
        .and_then(|ids| ids.split_once(' '))
        .map(|(title, _)| title.strip_suffix("-title").unwrap())
        .expect("aria-labelledby=\"{id}-title {id}-desc\"");
    let mut children = root.children().filter(|n| n.is_element());
    let title = children.next().unwrap();
    assert_eq!(title.tag_name().name(), "title");
    assert_eq!(title.attribute("id"), Some(format!("{id}-title").as_str()));
    let desc = children.next().unwrap();
    assert_eq!(desc.tag_name().name(), "desc");
    assert_eq!(desc.attribute("id"), Some(format!("{id}-desc").as_str()));
    for node in doc.descendants().filter(|n| n.is_element()) {
        assert!(
            node.attribute("style").is_none(),
            "style attribute on {node:?}"
        );
        let name = node.tag_name().name();
        assert!(name != "style" && name != "script", "<{name}> element");
        for attr in node.attributes() {
            if matches!(
                attr.name(),
                "d" | "x" | "y" | "x1" | "x2" | "y1" | "y2" | "cx" | "cy"
            ) {
                assert_at_most_one_decimal(attr.value());
            }
        }
    }
    doc
}

fn assert_at_most_one_decimal(value: &str) {
    for number in value.split(|c: char| !(c.is_ascii_digit() || c == '.')) {
        if let Some((_, decimals)) = number.split_once('.') {
            assert!(decimals.len() <= 1, "{number} in {value}");
        }
    }
}

/// Elements with this class among their classes.
pub fn with_class<'a>(
    doc: &'a roxmltree::Document<'a>,
    class: &str,
) -> Vec<roxmltree::Node<'a, 'a>> {
    doc.descendants()
        .filter(|n| {
            n.attribute("class")
                .is_some_and(|c| c.split(' ').any(|c| c == class))
        })
        .collect()
}
