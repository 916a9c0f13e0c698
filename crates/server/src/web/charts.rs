//! The pages' charts: SVG from `mhp-plot`, each with a data table beside it for screen readers
//! and for anyone who wants the numbers.

use maud::{Markup, PreEscaped, html};
use mhp_app::dashboard::{MetricSeries, TeamWeek, Trace};
use mhp_biomech::Phases;
use mhp_plot::{Axis, Chart, HBand, Region, Series};

use super::layout::num;
use super::show::{KeyMetric, Show};

fn svg(chart: &Chart) -> Markup {
    html! { figure.chart { (PreEscaped(chart.to_svg())) } }
}

/// The team's weekly jump height: mean, and the 10th and 90th percentiles.
pub fn team_trend(weeks: &[TeamWeek], show: &Show) -> Markup {
    let (scale, unit) = (show.length_scale(), show.length_unit());
    if weeks.is_empty() {
        return html! { p { "No tests yet." } };
    }
    let at = |f: fn(&TeamWeek) -> f64| -> Vec<(f64, f64)> {
        weeks
            .iter()
            .map(|w| {
                #[allow(clippy::cast_precision_loss)]
                let d = w.week.days_since_epoch() as f64;
                (d, f(w) * scale)
            })
            .collect()
    };
    let chart = Chart::new(
        "team-trend",
        "Team jump height by week",
        format!(
            "Weekly mean jump height of the team with its 10th to 90th percentile, over {} weeks.",
            weeks.len()
        ),
    )
    .with_axes(
        Axis::dates("Week"),
        Axis::new(format!("Jump height ({unit})")),
    )
    .with_series(Series::line("Mean", "series-1", at(|w| w.mean)).with_markers())
    .with_series(Series::line("10th percentile", "series-2", at(|w| w.p10)))
    .with_series(Series::line("90th percentile", "series-3", at(|w| w.p90)))
    .with_size(1100, 320);
    html! {
        (svg(&chart))
        details.data {
            summary { "Team trend as a table" }
            table {
                thead { tr { th scope="col" { "Week of" } th scope="col" class="num" { "Athletes" } th scope="col" class="num" { "Mean (" (unit) ")" } th scope="col" class="num" { "10th pct (" (unit) ")" } th scope="col" class="num" { "90th pct (" (unit) ")" } } }
                tbody {
                    @for w in weeks {
                        tr {
                            th scope="row" { (w.week.to_string()) }
                            td.num { (w.athletes) }
                            td.num { (show.length(Some(w.mean))) }
                            td.num { (show.length(Some(w.p10))) }
                            td.num { (show.length(Some(w.p90))) }
                        }
                    }
                }
            }
        }
    }
}

/// One metric of one athlete over time, with their baseline band (the mean ± SD of up to five
/// tests before the latest), in the reader's units and time zone.
pub fn metric_trend(id: &str, s: &MetricSeries, metric: &KeyMetric, show: &Show) -> Markup {
    let KeyMetric {
        label,
        unit,
        scale,
        places,
        ..
    } = *metric;
    if s.points.is_empty() {
        return html! {};
    }
    let points: Vec<(f64, f64)> = s
        .points
        .iter()
        .map(|(t, v)| (show.chart_day(*t), v * scale))
        .collect();
    let earlier: Vec<f64> = s
        .points
        .iter()
        .rev()
        .skip(1)
        .take(mhp_app::dashboard::BASELINE_ASSESSMENTS)
        .map(|p| p.1 * scale)
        .collect();
    let mut chart = Chart::new(
        format!("trend-{id}"),
        format!("{label} over time"),
        format!(
            "{label} of {} tests; the latest is {} {unit}.",
            points.len(),
            num(points.last().map(|p| p.1), places)
        ),
    )
    .with_axes(Axis::dates("Date"), Axis::new(format!("{label} ({unit})")))
    .with_series(Series::line(label, "series-1", points.clone()).with_markers())
    .with_size(440, 280);
    if earlier.len() >= 2 {
        #[allow(clippy::cast_precision_loss)]
        let n = earlier.len() as f64;
        let mean = earlier.iter().sum::<f64>() / n;
        let sd = (earlier.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (n - 1.0)).sqrt();
        chart = chart.with_band(HBand::new(mean - sd, mean + sd, "Baseline ± SD"));
    }
    html! {
        section.metric aria-labelledby={"h-" (id)} {
            h3 id={"h-" (id)} { (label) }
            (svg(&chart))
            details.data {
                summary { (label) " as a table" }
                table {
                    thead { tr { th scope="col" { "Date" } th scope="col" class="num" { (label) " (" (unit) ")" } } }
                    tbody {
                        @for (t, v) in &s.points {
                            tr { th scope="row" { (show.date(*t)) } td.num { (num(Some(v * scale), places)) } }
                        }
                    }
                }
            }
        }
    }
}

/// The phases of a jump as the chart's shaded spans.
fn regions(p: &Phases) -> Vec<Region> {
    vec![
        Region::new(p.onset_s, p.braking_s, "Unweighting", "unweighting"),
        Region::new(p.braking_s, p.propulsion_s, "Braking", "braking"),
        Region::new(p.propulsion_s, p.takeoff_s, "Propulsion", "propulsion"),
        Region::new(p.takeoff_s, p.landing_s, "Flight", "flight"),
        Region::new(p.landing_s, p.landing_end_s, "Landing", "landing"),
    ]
}

/// The force-time curve of a recording between `from_s` and `to_s`, phases shaded, left and
/// right plates beside the total when there were two.
pub fn force_time(id: &str, trace: &Trace, phases: Option<&Phases>, window: (f64, f64)) -> Markup {
    let dt = 1.0 / trace.sample_rate_hz;
    let (from, to) = window;
    let cut = |xs: &[f64]| -> Vec<(f64, f64)> {
        xs.iter()
            .enumerate()
            .map(|(i, f)| {
                #[allow(clippy::cast_precision_loss)]
                let t = i as f64 * dt;
                (t, *f)
            })
            .filter(|(t, _)| *t >= from && *t <= to)
            .collect()
    };
    let mut chart = Chart::new(
        format!("force-{id}"),
        "Force-time curve",
        match phases {
            Some(p) => format!(
                "Vertical force over time: movement begins at {:.2} s, take-off at {:.2} s, landing at {:.2} s.",
                p.onset_s, p.takeoff_s, p.landing_s
            ),
            None => "Vertical force over time.".to_owned(),
        },
    )
    .with_axes(Axis::new("Time (s)"), Axis::new("Force (N)").with_zero())
    .with_size(1100, 380)
    .with_series(Series::line("Total", "series-1", cut(&trace.total)));
    if let Some((left, right)) = &trace.sides {
        chart = chart
            .with_series(Series::line("Left", "series-2", cut(left)))
            .with_series(Series::line("Right", "series-3", cut(right)));
    }
    if let Some(p) = phases {
        for r in regions(p) {
            chart = chart.with_region(r);
        }
    }
    html! {
        (svg(&chart))
        @if let Some(p) = phases {
            details.data {
                summary { "Phases as a table" }
                table {
                    thead { tr { th scope="col" { "Phase" } th scope="col" class="num" { "From (s)" } th scope="col" class="num" { "To (s)" } th scope="col" class="num" { "Duration (s)" } } }
                    tbody {
                        @for r in regions(p) {
                            tr { th scope="row" { (r.label) } td.num { (num(Some(r.x0), 3)) } td.num { (num(Some(r.x1), 3)) } td.num { (num(Some(r.x1 - r.x0), 3)) } }
                        }
                    }
                }
            }
        }
    }
}
