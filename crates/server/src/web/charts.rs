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

/// What a weekly band chart shows.
struct Weekly<'a> {
    id: &'a str,
    title: &'a str,
    /// The quantity in words ("jump height", "training load per athlete").
    what: &'a str,
    /// "Jump height", "Load".
    label: &'a str,
    unit: &'a str,
    scale: f64,
    places: usize,
    /// "Athletes" column: "Athletes tested", "Athletes who trained".
    counted: &'a str,
    empty: &'a str,
}

/// A team's weekly mean with its 10th to 90th percentile, and the table beside it.
fn weekly_band(w: &Weekly<'_>, weeks: &[TeamWeek]) -> Markup {
    if weeks.is_empty() {
        return html! { p { (w.empty) } };
    }
    let at = |f: fn(&TeamWeek) -> f64| -> Vec<(f64, f64)> {
        weeks
            .iter()
            .map(|wk| {
                #[allow(clippy::cast_precision_loss)]
                let d = wk.week.days_since_epoch() as f64;
                (d, f(wk) * w.scale)
            })
            .collect()
    };
    let chart = Chart::new(
        w.id,
        w.title,
        format!(
            "Weekly mean {} of the team with its 10th to 90th percentile, over {} weeks.",
            w.what,
            weeks.len()
        ),
    )
    .with_axes(
        Axis::dates("Week"),
        Axis::new(format!("{} ({})", w.label, w.unit)),
    )
    .with_series(Series::line("Mean", "series-1", at(|x| x.mean)).with_markers())
    .with_series(Series::line("10th percentile", "series-2", at(|x| x.p10)))
    .with_series(Series::line("90th percentile", "series-3", at(|x| x.p90)))
    .with_size(1100, 320);
    let v = |x: f64| num(Some(x * w.scale), w.places);
    html! {
        (svg(&chart))
        details.data {
            summary { (w.title) " as a table" }
            table {
                thead { tr { th scope="col" { "Week of" } th scope="col" class="num" { (w.counted) } th scope="col" class="num" { "Mean (" (w.unit) ")" } th scope="col" class="num" { "10th pct (" (w.unit) ")" } th scope="col" class="num" { "90th pct (" (w.unit) ")" } } }
                tbody {
                    @for wk in weeks {
                        tr {
                            th scope="row" { (wk.week.to_string()) }
                            td.num { (wk.athletes) }
                            td.num { (v(wk.mean)) }
                            td.num { (v(wk.p10)) }
                            td.num { (v(wk.p90)) }
                        }
                    }
                }
            }
        }
    }
}

/// The team's weekly jump height: mean, and the 10th and 90th percentiles.
pub fn team_trend(weeks: &[TeamWeek], show: &Show) -> Markup {
    weekly_band(
        &Weekly {
            id: "team-trend",
            title: "Team jump height by week",
            what: "jump height",
            label: "Jump height",
            unit: show.length_unit(),
            scale: show.length_scale(),
            places: show.units.length.places(),
            counted: "Athletes",
            empty: "No tests yet.",
        },
        weeks,
    )
}

/// The team's weekly training load per athlete who trained (session-RPE, AU).
pub fn team_load(weeks: &[TeamWeek]) -> Markup {
    weekly_band(
        &Weekly {
            id: "team-load",
            title: "Team training load by week",
            what: "training load per athlete",
            label: "Load",
            unit: "AU",
            scale: 1.0,
            places: 0,
            counted: "Athletes who trained",
            empty: "No training load recorded in these weeks.",
        },
        weeks,
    )
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
        let (mean, sd) = mhp_app::monitoring::mean_sd(&earlier);
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

/// Forces as the reader reads them: newtons, or per kilogram of the body mass the engine
/// weighed (`per_kg`).
fn forces(xs: &[f64], per_kg: Option<f64>) -> Vec<f64> {
    match per_kg {
        Some(kg) if kg > 0.0 => xs.iter().map(|f| f / kg).collect(),
        _ => xs.to_vec(),
    }
}

fn force_axis(per_kg: Option<f64>) -> Axis {
    Axis::new(if per_kg.is_some_and(|kg| kg > 0.0) {
        "Force (N/kg)"
    } else {
        "Force (N)"
    })
    .with_zero()
}

/// The samples of `xs` from `from` to `to` seconds as `(t - shift, x)`.
fn cut(xs: &[f64], rate_hz: f64, (from, to): (f64, f64), shift: f64) -> Vec<(f64, f64)> {
    let dt = 1.0 / rate_hz;
    xs.iter()
        .enumerate()
        .map(|(i, f)| {
            #[allow(clippy::cast_precision_loss)]
            let t = i as f64 * dt;
            (t, *f)
        })
        .filter(|(t, _)| *t >= from && *t <= to)
        .map(|(t, f)| (t - shift, f))
        .collect()
}

/// The force-time curve of a recording between `from_s` and `to_s`, phases shaded, left and
/// right plates beside the total when there were two; in newtons, or per kilogram of body
/// mass when `per_kg` holds it.
pub fn force_time(
    id: &str,
    trace: &Trace,
    phases: Option<&Phases>,
    window: (f64, f64),
    per_kg: Option<f64>,
) -> Markup {
    let rate = trace.sample_rate_hz;
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
    .with_axes(Axis::new("Time (s)"), force_axis(per_kg))
    .with_size(1100, 380)
    .with_series(Series::line(
        "Total",
        "series-1",
        cut(&forces(&trace.total, per_kg), rate, window, 0.0),
    ));
    if let Some((left, right)) = &trace.sides {
        chart = chart
            .with_series(Series::line(
                "Left",
                "series-2",
                cut(&forces(left, per_kg), rate, window, 0.0),
            ))
            .with_series(Series::line(
                "Right",
                "series-3",
                cut(&forces(right, per_kg), rate, window, 0.0),
            ));
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

/// One jump to overlay: its label (when it was recorded), curve, phases and body mass.
pub struct Jump<'a> {
    /// "2026-03-12 14:05", in the reader's time zone.
    pub label: String,
    /// The curve.
    pub trace: &'a Trace,
    /// Its phases.
    pub phases: Phases,
    /// Body mass, kg, when forces are shown per kilogram.
    pub per_kg: Option<f64>,
}

/// Two jumps' total force on one chart, aligned at the onset of movement, with their phase
/// durations side by side.
pub fn force_overlay(a: &Jump<'_>, b: &Jump<'_>) -> Markup {
    let span = |j: &Jump<'_>| {
        (
            (j.phases.onset_s - 0.5).max(0.0),
            j.phases.landing_end_s + 0.3,
        )
    };
    let per_kg = a.per_kg.zip(b.per_kg).map(|(x, _)| x);
    let line = |j: &Jump<'_>, class: &str| {
        Series::line(
            j.label.clone(),
            class,
            cut(
                &forces(&j.trace.total, per_kg.and(j.per_kg)),
                j.trace.sample_rate_hz,
                span(j),
                j.phases.onset_s,
            ),
        )
    };
    let chart = Chart::new(
        "force-overlay",
        "Two jumps compared",
        format!(
            "Total vertical force of the jumps of {} and {}, aligned at the onset of movement (0 s).",
            a.label, b.label
        ),
    )
    .with_axes(Axis::new("Time from onset (s)"), force_axis(per_kg))
    .with_size(1100, 380)
    .with_series(line(a, "series-1"))
    .with_series(line(b, "series-2"));
    let durations = |p: &Phases| {
        regions(p)
            .into_iter()
            .map(|r| (r.label, r.x1 - r.x0))
            .collect::<Vec<_>>()
    };
    html! {
        (svg(&chart))
        details.data {
            summary { "Phase durations of the two jumps" }
            table {
                thead { tr { th scope="col" { "Phase" } th scope="col" class="num" { (a.label) " (s)" } th scope="col" class="num" { (b.label) " (s)" } } }
                tbody {
                    @for ((label, da), (_, db)) in durations(&a.phases).into_iter().zip(durations(&b.phases)) {
                        tr { th scope="row" { (label) } td.num { (num(Some(da), 3)) } td.num { (num(Some(db), 3)) } }
                    }
                }
            }
        }
    }
}

/// An athlete's training load by week (session-RPE, AU).
pub fn athlete_load(weeks: &[(mhp_domain::CalendarDate, i64)]) -> Markup {
    #[allow(clippy::cast_precision_loss)]
    let points: Vec<(f64, f64)> = weeks
        .iter()
        .map(|(w, au)| (w.days_since_epoch() as f64, *au as f64))
        .collect();
    let chart = Chart::new(
        "athlete-load",
        "Training load by week",
        format!(
            "Weekly session-RPE load over {} weeks; the latest week {} AU.",
            weeks.len(),
            weeks.last().map_or(0, |w| w.1)
        ),
    )
    .with_axes(Axis::dates("Week"), Axis::new("Load (AU)").with_zero())
    .with_series(Series::line("Weekly load", "series-1", points).with_markers())
    .with_size(1100, 280);
    html! {
        (svg(&chart))
        details.data {
            summary { "Weekly load as a table" }
            table {
                thead { tr { th scope="col" { "Week of" } th scope="col" class="num" { "Load (AU)" } } }
                tbody {
                    @for (w, au) in weeks {
                        tr { th scope="row" { (w.to_string()) } td.num { (au) } }
                    }
                }
            }
        }
    }
}
