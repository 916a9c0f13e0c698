//! The chart: what to draw ([`Chart`], [`Axis`], [`Series`], [`Region`], [`HBand`]) and how it
//! becomes SVG ([`Chart::to_svg`]).

use std::fmt::Write as _;

use crate::lttb::lttb;
use crate::svg::{class_list, num, push_escaped, push_num, token};
use crate::ticks::{Tick, date_ticks, number_ticks};

/// Most points a series is drawn with; longer series are downsampled with [`lttb`]. A
/// 10 s recording at 1000 Hz is 10 000 samples; 600 points over a chart a few hundred pixels
/// wide keep every visible feature.
pub const MAX_POINTS_PER_SERIES: usize = 600;

/// One chart: a title and a summary for screen readers, two axes, lines, shaded spans and a
/// band. Build it with [`Chart::new`] and the `with_` methods, or fill the fields directly.
#[derive(Debug, Clone, PartialEq)]
pub struct Chart {
    /// Unique on the page: the ids of `<title>` and `<desc>` are `{id}-title` and
    /// `{id}-desc`. Characters other than ASCII letters, digits, `-` and `_` become `-`.
    pub id: String,
    /// Goes into `<title>` (not drawn; the page shows its own heading).
    pub title: String,
    /// Goes into `<desc>`: a one-sentence summary for screen readers.
    pub desc: String,
    /// The horizontal axis.
    pub x_axis: Axis,
    /// The vertical axis.
    pub y_axis: Axis,
    /// Lines (and markers), drawn in order; the n-th series gets the n-th dash pattern.
    pub series: Vec<Series>,
    /// Vertical shaded spans, drawn behind the lines.
    pub regions: Vec<Region>,
    /// A horizontal band, drawn behind the lines.
    pub band: Option<HBand>,
    /// Width of the `viewBox` (at least 160); the SVG scales with CSS.
    pub width: u32,
    /// Height of the `viewBox` (at least 120).
    pub height: u32,
}

/// An axis: its label, its range and how its ticks read.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Axis {
    /// Label with the unit, e.g. "Time (s)" or "Force (N)".
    pub label: String,
    /// A fixed range `(min, max)`; `None` takes the data's range, padded a little. Ignored
    /// unless both ends are finite and differ.
    pub range: Option<(f64, f64)>,
    /// Numbers or dates.
    pub kind: AxisKind,
    /// Stretch the data's range to include zero (a force axis from 0 N). A fixed range wins.
    pub include_zero: bool,
}

/// How an axis' values read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AxisKind {
    /// Plain numbers, ticks at 1, 2, 2.5 and 5 × 10^k.
    #[default]
    Number,
    /// Days since 1970-01-01 (UTC; fractions are times of day), ticks on whole days, Mondays,
    /// first days of months or years, labelled "12 Mar", "12 Mar 2026", "Mar 2026" or "2026".
    /// Convert unix seconds with `seconds / 86_400.0`.
    Date,
}

/// A line (and optionally markers) through points in x order.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Shown in the legend.
    pub name: String,
    /// Class(es) of the line, its markers and its legend swatch, e.g. "series-1"; the page's
    /// CSS gives it a colour. Empty means `series-{n}` (1-based position).
    pub class: String,
    /// `(x, y)` in x order; a non-finite x or y is a gap that splits the line.
    pub points: Vec<(f64, f64)>,
    /// Draw a small circle at each point (trends with weekly points).
    pub markers: bool,
}

/// A vertical shaded span `[x0, x1]`, e.g. a phase of a countermovement jump.
#[derive(Debug, Clone, PartialEq)]
pub struct Region {
    /// Left edge, in x units.
    pub x0: f64,
    /// Right edge, in x units.
    pub x1: f64,
    /// Written at the top of the span when it fits, and in the legend.
    pub label: String,
    /// Kind of span, e.g. "braking": the span's class is `region region-{kind}`.
    pub kind: String,
}

/// A horizontal band `[lo, hi]`, e.g. the athlete's baseline ± smallest worthwhile change.
#[derive(Debug, Clone, PartialEq)]
pub struct HBand {
    /// Lower edge, in y units.
    pub lo: f64,
    /// Upper edge, in y units.
    pub hi: f64,
    /// Written inside the band at its right end, and in the legend.
    pub label: String,
}

impl Chart {
    /// A chart 720 × 320 with no series yet and unlabelled numeric axes.
    pub fn new(id: impl Into<String>, title: impl Into<String>, desc: impl Into<String>) -> Chart {
        Chart {
            id: id.into(),
            title: title.into(),
            desc: desc.into(),
            x_axis: Axis::default(),
            y_axis: Axis::default(),
            series: Vec::new(),
            regions: Vec::new(),
            band: None,
            width: 720,
            height: 320,
        }
    }

    /// With these axes.
    pub fn with_axes(mut self, x_axis: Axis, y_axis: Axis) -> Chart {
        self.x_axis = x_axis;
        self.y_axis = y_axis;
        self
    }

    /// With one more series.
    pub fn with_series(mut self, series: Series) -> Chart {
        self.series.push(series);
        self
    }

    /// With one more shaded span.
    pub fn with_region(mut self, region: Region) -> Chart {
        self.regions.push(region);
        self
    }

    /// With a horizontal band.
    pub fn with_band(mut self, band: HBand) -> Chart {
        self.band = Some(band);
        self
    }

    /// With this `viewBox` size.
    pub fn with_size(mut self, width: u32, height: u32) -> Chart {
        self.width = width;
        self.height = height;
        self
    }

    /// The chart as one `<svg>` element, ready to be placed inline in HTML.
    ///
    /// No `style` attribute and no `<style>` element: classes say what each element is
    /// (`chart`; `legend`, `swatch`, `legend-label`; `regions`, `region region-{kind}`,
    /// `region-label region-label-{kind}`; `band`, `band-edge`, `band-label`; `grid`;
    /// `series-group`, `series` plus the series' class on the path, `markers` plus the
    /// series' class on its circles; `axis axis-x`, `axis axis-y`, `axis-line`, `tick`,
    /// `tick-label`, `axis-label`; `frame` and `no-data` when there is nothing to draw), and
    /// presentation attributes give defaults that work in black on white: everything is drawn
    /// in `currentColor` (so CSS `color` on a class colours it), each series with its own dash
    /// pattern.
    pub fn to_svg(&self) -> String {
        Layout::new(self).render(self)
    }
}

impl Axis {
    /// A numeric axis with this label.
    pub fn new(label: impl Into<String>) -> Axis {
        Axis {
            label: label.into(),
            ..Axis::default()
        }
    }

    /// A date axis (values are days since 1970-01-01) with this label.
    pub fn dates(label: impl Into<String>) -> Axis {
        Axis {
            label: label.into(),
            kind: AxisKind::Date,
            ..Axis::default()
        }
    }

    /// With a fixed range.
    pub fn with_range(mut self, min: f64, max: f64) -> Axis {
        self.range = Some((min, max));
        self
    }

    /// Stretched to include zero.
    pub fn with_zero(mut self) -> Axis {
        self.include_zero = true;
        self
    }
}

impl Series {
    /// A line without markers.
    pub fn line(
        name: impl Into<String>,
        class: impl Into<String>,
        points: Vec<(f64, f64)>,
    ) -> Series {
        Series {
            name: name.into(),
            class: class.into(),
            points,
            markers: false,
        }
    }

    /// With a circle at each point.
    pub fn with_markers(mut self) -> Series {
        self.markers = true;
        self
    }
}

impl Region {
    /// A span `[x0, x1]` of a kind, with a label.
    pub fn new(x0: f64, x1: f64, label: impl Into<String>, kind: impl Into<String>) -> Region {
        Region {
            x0,
            x1,
            label: label.into(),
            kind: kind.into(),
        }
    }
}

impl HBand {
    /// A band `[lo, hi]` with a label.
    pub fn new(lo: f64, hi: f64, label: impl Into<String>) -> HBand {
        HBand {
            lo,
            hi,
            label: label.into(),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Layout and drawing.

const MIN_WIDTH: u32 = 160;
const MIN_HEIGHT: u32 = 120;
/// Font size on the root element; text widths below are estimates for it.
const FONT_SIZE: f64 = 12.0;
/// Average advance of a character at [`FONT_SIZE`] in a sans-serif face, a little generous.
const CHAR_WIDTH: f64 = 7.0;
const LEGEND_ROW: f64 = 18.0;
const SWATCH: f64 = 20.0;
const TICK: f64 = 5.0;
const MARKER_RADIUS: f64 = 3.0;
/// Pixel coordinates are clamped to this far outside the view box (a point far outside a
/// fixed range would otherwise print enormous numbers; the clip path hides it anyway).
const FAR: f64 = 10_000.0;
/// Dash pattern of the n-th series (cycled), so lines stay apart in grey print.
const DASHES: [Option<&str>; 6] = [
    None,
    Some("6 3"),
    Some("2 3"),
    Some("8 3 2 3"),
    Some("12 4"),
    Some("4 2 1 2"),
];
/// Fill opacity of a region of the n-th kind (cycled), so neighbouring phases differ even
/// without a stylesheet.
const REGION_OPACITY: [&str; 2] = ["0.08", "0.16"];

/// A linear map from data values to view-box coordinates.
#[derive(Debug, Clone, Copy)]
struct Scale {
    lo: f64,
    hi: f64,
    from: f64,
    to: f64,
}

impl Scale {
    fn map(self, value: f64) -> f64 {
        let at = self.from + (value - self.lo) / (self.hi - self.lo) * (self.to - self.from);
        if at.is_finite() {
            at.clamp(-FAR, FAR)
        } else {
            self.from
        }
    }
}

/// The plot area in view-box coordinates.
#[derive(Debug, Clone, Copy)]
struct Area {
    left: f64,
    top: f64,
    right: f64,
    bottom: f64,
}

impl Area {
    fn width(self) -> f64 {
        self.right - self.left
    }
    fn height(self) -> f64 {
        self.bottom - self.top
    }
}

/// A legend entry: its swatch and its text.
#[derive(Debug, Clone)]
enum Entry {
    Line {
        class: String,
        dash: Option<&'static str>,
        markers: bool,
    },
    Region {
        class: String,
        opacity: &'static str,
    },
    Band,
}

#[derive(Debug, Clone)]
struct LegendItem {
    entry: Entry,
    label: String,
    x: f64,
    row: usize,
}

/// Everything measured before drawing.
#[derive(Debug)]
struct Layout {
    id: String,
    width: f64,
    height: f64,
    area: Area,
    /// `None` when no series has a finite point: the chart says "No data".
    scales: Option<(Scale, Scale)>,
    x_ticks: Vec<Tick>,
    y_ticks: Vec<Tick>,
    legend: Vec<LegendItem>,
    /// The n-th distinct region kind, for its fill opacity.
    region_kinds: Vec<String>,
}

impl Layout {
    fn new(chart: &Chart) -> Layout {
        let width = f64::from(chart.width.max(MIN_WIDTH));
        let height = f64::from(chart.height.max(MIN_HEIGHT));
        let region_kinds = region_kinds(&chart.regions);
        let legend_rows_width = width - 24.0;
        let (legend, rows) = legend(chart, &region_kinds, legend_rows_width);
        let top = 10.0 + rows as f64 * LEGEND_ROW;

        let x_range = x_range(chart);
        let y_range = y_range(chart);
        let (Some(x_range), Some(y_range)) = (x_range, y_range) else {
            let area = Area {
                left: 12.0,
                top,
                right: width - 12.0,
                bottom: height - 12.0,
            };
            return Layout {
                id: token(&chart.id, "chart"),
                width,
                height,
                area,
                scales: None,
                x_ticks: Vec::new(),
                y_ticks: Vec::new(),
                legend,
                region_kinds,
            };
        };

        let y_target = ((height - top - 48.0) / 40.0).clamp(2.0, 10.0) as usize;
        let y_ticks = ticks(chart.y_axis.kind, y_range, y_target);
        let widest_y = y_ticks
            .iter()
            .map(|t| t.label.chars().count())
            .max()
            .unwrap_or(1);
        let y_label_room = if chart.y_axis.label.is_empty() {
            0.0
        } else {
            FONT_SIZE + 8.0
        };
        let left =
            (8.0 + y_label_room + widest_y as f64 * CHAR_WIDTH + TICK + 4.0).min(width / 3.0);
        let x_label_room = if chart.x_axis.label.is_empty() {
            0.0
        } else {
            FONT_SIZE + 8.0
        };
        let area = Area {
            left,
            top,
            right: width - 16.0,
            bottom: (height - 8.0 - x_label_room - FONT_SIZE - TICK - 4.0).max(top + 20.0),
        };
        // Room for a label of about 12 characters per tick.
        let x_target = (area.width() / (12.0 * CHAR_WIDTH)).clamp(2.0, 12.0) as usize;
        let x_ticks = ticks(chart.x_axis.kind, x_range, x_target);
        let scales = (
            Scale {
                lo: x_range.0,
                hi: x_range.1,
                from: area.left,
                to: area.right,
            },
            Scale {
                lo: y_range.0,
                hi: y_range.1,
                from: area.bottom,
                to: area.top,
            },
        );
        Layout {
            id: token(&chart.id, "chart"),
            width,
            height,
            area,
            scales: Some(scales),
            x_ticks,
            y_ticks,
            legend,
            region_kinds,
        }
    }

    fn render(&self, chart: &Chart) -> String {
        let mut out = String::with_capacity(16 * 1024);
        let id = &self.id;
        let _ = writeln!(
            out,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {} {}\" role=\"img\" \
             aria-labelledby=\"{id}-title {id}-desc\" class=\"chart\" font-family=\"sans-serif\" \
             font-size=\"{}\" fill=\"currentColor\">",
            num(self.width),
            num(self.height),
            num(FONT_SIZE),
        );
        let _ = write!(out, "<title id=\"{id}-title\">");
        push_escaped(&mut out, &chart.title);
        let _ = write!(out, "</title>\n<desc id=\"{id}-desc\">");
        push_escaped(&mut out, &chart.desc);
        out.push_str("</desc>\n");
        self.draw_legend(&mut out);
        match self.scales {
            Some((x, y)) => {
                let a = self.area;
                let _ = writeln!(
                    out,
                    "<defs><clipPath id=\"{id}-clip\"><rect x=\"{}\" y=\"{}\" width=\"{}\" \
                     height=\"{}\"/></clipPath></defs>",
                    num(a.left),
                    num(a.top),
                    num(a.width()),
                    num(a.height()),
                );
                self.draw_regions(&mut out, chart, x);
                self.draw_band(&mut out, chart, y);
                self.draw_grid(&mut out, x, y);
                self.draw_series(&mut out, chart, x, y);
                self.draw_axes(&mut out, chart, x, y);
            }
            None => self.draw_no_data(&mut out),
        }
        out.push_str("</svg>\n");
        out
    }

    fn draw_legend(&self, out: &mut String) {
        if self.legend.is_empty() {
            return;
        }
        out.push_str("<g class=\"legend\">\n");
        for item in &self.legend {
            let x = 12.0 + item.x;
            let y = 8.0 + item.row as f64 * LEGEND_ROW + LEGEND_ROW / 2.0;
            match &item.entry {
                Entry::Line {
                    class,
                    dash,
                    markers,
                } => {
                    let _ = write!(
                        out,
                        "<g class=\"swatch series {class}\"><line x1=\"{}\" y1=\"{}\" x2=\"{}\" \
                         y2=\"{}\" fill=\"none\" stroke=\"currentColor\" stroke-width=\"2\"{}/>",
                        num(x),
                        num(y),
                        num(x + SWATCH),
                        num(y),
                        dash_attr(*dash),
                    );
                    if *markers {
                        let _ = write!(
                            out,
                            "<circle cx=\"{}\" cy=\"{}\" r=\"{}\"/>",
                            num(x + SWATCH / 2.0),
                            num(y),
                            num(MARKER_RADIUS),
                        );
                    }
                    out.push_str("</g>\n");
                }
                Entry::Region { class, opacity } => {
                    let _ = writeln!(
                        out,
                        "<rect class=\"swatch {class}\" x=\"{}\" y=\"{}\" width=\"{}\" \
                         height=\"10\" fill-opacity=\"{opacity}\" stroke=\"currentColor\" \
                         stroke-opacity=\"0.4\"/>",
                        num(x),
                        num(y - 5.0),
                        num(SWATCH),
                    );
                }
                Entry::Band => {
                    let _ = writeln!(
                        out,
                        "<rect class=\"swatch band\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"10\" \
                         fill-opacity=\"0.12\" stroke=\"currentColor\" stroke-opacity=\"0.4\" \
                         stroke-dasharray=\"3 2\"/>",
                        num(x),
                        num(y - 5.0),
                        num(SWATCH),
                    );
                }
            }
            let _ = write!(
                out,
                "<text class=\"legend-label\" x=\"{}\" y=\"{}\">",
                num(x + SWATCH + 6.0),
                num(y + 4.0),
            );
            push_escaped(out, &item.label);
            out.push_str("</text>\n");
        }
        out.push_str("</g>\n");
    }

    fn draw_regions(&self, out: &mut String, chart: &Chart, x: Scale) {
        let spans: Vec<(&Region, f64, f64)> = chart
            .regions
            .iter()
            .filter(|r| r.x0.is_finite() && r.x1.is_finite())
            .map(|r| {
                let (a, b) = (x.map(r.x0.min(r.x1)), x.map(r.x0.max(r.x1)));
                (r, a.max(self.area.left), b.min(self.area.right))
            })
            .filter(|(_, a, b)| b > a)
            .collect();
        if spans.is_empty() {
            return;
        }
        let (top, height) = (self.area.top, self.area.height());
        out.push_str("<g class=\"regions\">\n");
        for (region, a, b) in spans {
            let kind = token(&region.kind, "span");
            let _ = writeln!(
                out,
                "<rect class=\"region region-{kind}\" x=\"{}\" y=\"{}\" width=\"{}\" \
                 height=\"{}\" fill-opacity=\"{}\"/>",
                num(a),
                num(top),
                num(b - a),
                num(height),
                self.region_opacity(&kind),
            );
            let label_width = region.label.chars().count() as f64 * CHAR_WIDTH;
            if !region.label.is_empty() && label_width + 4.0 <= b - a {
                let _ = write!(
                    out,
                    "<text class=\"region-label region-label-{kind}\" x=\"{}\" y=\"{}\" \
                     text-anchor=\"middle\">",
                    num((a + b) / 2.0),
                    num(top + FONT_SIZE + 2.0),
                );
                push_escaped(out, &region.label);
                out.push_str("</text>\n");
            }
        }
        out.push_str("</g>\n");
    }

    fn region_opacity(&self, kind: &str) -> &'static str {
        let n = self
            .region_kinds
            .iter()
            .position(|k| k == kind)
            .unwrap_or(0);
        REGION_OPACITY[n % REGION_OPACITY.len()]
    }

    fn draw_band(&self, out: &mut String, chart: &Chart, y: Scale) {
        let Some(band) = &chart.band else { return };
        if !(band.lo.is_finite() && band.hi.is_finite()) {
            return;
        }
        let a = self.area;
        let upper = y.map(band.lo.max(band.hi)).max(a.top);
        let lower = y.map(band.lo.min(band.hi)).min(a.bottom);
        if lower < upper {
            return;
        }
        out.push_str("<g class=\"band\">\n");
        let _ = writeln!(
            out,
            "<rect class=\"band\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" \
             fill-opacity=\"0.12\"/>",
            num(a.left),
            num(upper),
            num(a.width()),
            num(lower - upper),
        );
        for edge in [upper, lower] {
            let _ = writeln!(
                out,
                "<line class=\"band-edge\" x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" \
                 stroke=\"currentColor\" stroke-opacity=\"0.4\" stroke-dasharray=\"3 2\"/>",
                num(a.left),
                num(edge),
                num(a.right),
                num(edge),
            );
        }
        if !band.label.is_empty() {
            let _ = write!(
                out,
                "<text class=\"band-label\" x=\"{}\" y=\"{}\" text-anchor=\"end\">",
                num(a.right - 4.0),
                num(upper + FONT_SIZE),
            );
            push_escaped(out, &band.label);
            out.push_str("</text>\n");
        }
        out.push_str("</g>\n");
    }

    fn draw_grid(&self, out: &mut String, x: Scale, y: Scale) {
        let a = self.area;
        out.push_str(
            "<g class=\"grid\" fill=\"none\" stroke=\"currentColor\" stroke-opacity=\"0.15\">\n",
        );
        for tick in &self.x_ticks {
            let at = num(x.map(tick.value));
            let _ = writeln!(
                out,
                "<line x1=\"{at}\" y1=\"{}\" x2=\"{at}\" y2=\"{}\"/>",
                num(a.top),
                num(a.bottom),
            );
        }
        for tick in &self.y_ticks {
            let at = num(y.map(tick.value));
            let _ = writeln!(
                out,
                "<line x1=\"{}\" y1=\"{at}\" x2=\"{}\" y2=\"{at}\"/>",
                num(a.left),
                num(a.right),
            );
        }
        out.push_str("</g>\n");
    }

    fn draw_series(&self, out: &mut String, chart: &Chart, x: Scale, y: Scale) {
        let _ = writeln!(
            out,
            "<g class=\"series-group\" clip-path=\"url(#{}-clip)\">",
            self.id
        );
        for (n, series) in chart.series.iter().enumerate() {
            let class = series_class(series, n);
            let runs: Vec<Vec<(f64, f64)>> = finite_runs(&series.points)
                .into_iter()
                .map(|run| downsample(run, series.points.len()))
                .map(|run| {
                    run.into_iter()
                        .map(|(px, py)| (x.map(px), y.map(py)))
                        .collect()
                })
                .collect();
            let mut d = String::new();
            let mut lone = Vec::new();
            for run in &runs {
                if run.len() == 1 {
                    lone.extend_from_slice(run);
                    continue;
                }
                push_run(&mut d, run);
            }
            if !d.is_empty() {
                let _ = writeln!(
                    out,
                    "<path class=\"series {class}\" d=\"{d}\" fill=\"none\" \
                     stroke=\"currentColor\" stroke-width=\"1.5\" stroke-linejoin=\"round\"{}/>",
                    dash_attr(DASHES[n % DASHES.len()]),
                );
            }
            // A point with no neighbour is invisible as a line: it always gets a marker.
            let markers: Vec<(f64, f64)> = if series.markers { runs.concat() } else { lone };
            if !markers.is_empty() {
                let _ = writeln!(out, "<g class=\"markers {class}\">");
                for (cx, cy) in markers {
                    let _ = writeln!(
                        out,
                        "<circle cx=\"{}\" cy=\"{}\" r=\"{}\"/>",
                        num(cx),
                        num(cy),
                        num(MARKER_RADIUS),
                    );
                }
                out.push_str("</g>\n");
            }
        }
        out.push_str("</g>\n");
    }

    fn draw_axes(&self, out: &mut String, chart: &Chart, x: Scale, y: Scale) {
        let a = self.area;
        out.push_str("<g class=\"axis axis-x\">\n");
        let _ = writeln!(
            out,
            "<line class=\"axis-line\" x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" \
             stroke=\"currentColor\"/>",
            num(a.left),
            num(a.bottom),
            num(a.right),
            num(a.bottom),
        );
        for tick in &self.x_ticks {
            let at = num(x.map(tick.value));
            let _ = write!(
                out,
                "<line class=\"tick\" x1=\"{at}\" y1=\"{}\" x2=\"{at}\" y2=\"{}\" \
                 stroke=\"currentColor\"/><text class=\"tick-label\" x=\"{at}\" y=\"{}\" \
                 text-anchor=\"middle\">",
                num(a.bottom),
                num(a.bottom + TICK),
                num(a.bottom + TICK + FONT_SIZE + 2.0),
            );
            push_escaped(out, &tick.label);
            out.push_str("</text>\n");
        }
        if !chart.x_axis.label.is_empty() {
            let _ = write!(
                out,
                "<text class=\"axis-label\" x=\"{}\" y=\"{}\" text-anchor=\"middle\">",
                num((a.left + a.right) / 2.0),
                num(self.height - 8.0),
            );
            push_escaped(out, &chart.x_axis.label);
            out.push_str("</text>\n");
        }
        out.push_str("</g>\n<g class=\"axis axis-y\">\n");
        let _ = writeln!(
            out,
            "<line class=\"axis-line\" x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" \
             stroke=\"currentColor\"/>",
            num(a.left),
            num(a.top),
            num(a.left),
            num(a.bottom),
        );
        for tick in &self.y_ticks {
            let at = y.map(tick.value);
            let _ = write!(
                out,
                "<line class=\"tick\" x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" \
                 stroke=\"currentColor\"/><text class=\"tick-label\" x=\"{}\" y=\"{}\" \
                 text-anchor=\"end\">",
                num(a.left - TICK),
                num(at),
                num(a.left),
                num(at),
                num(a.left - TICK - 3.0),
                num(at + 4.0),
            );
            push_escaped(out, &tick.label);
            out.push_str("</text>\n");
        }
        if !chart.y_axis.label.is_empty() {
            let (lx, ly) = (8.0 + FONT_SIZE, (a.top + a.bottom) / 2.0);
            let _ = write!(
                out,
                "<text class=\"axis-label\" x=\"{}\" y=\"{}\" text-anchor=\"middle\" \
                 transform=\"rotate(-90 {} {})\">",
                num(lx),
                num(ly),
                num(lx),
                num(ly),
            );
            push_escaped(out, &chart.y_axis.label);
            out.push_str("</text>\n");
        }
        out.push_str("</g>\n");
    }

    fn draw_no_data(&self, out: &mut String) {
        let a = self.area;
        let _ = writeln!(
            out,
            "<rect class=\"frame\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"none\" \
             stroke=\"currentColor\" stroke-opacity=\"0.3\"/>",
            num(a.left),
            num(a.top),
            num(a.width()),
            num(a.height()),
        );
        let _ = writeln!(
            out,
            "<text class=\"no-data\" x=\"{}\" y=\"{}\" text-anchor=\"middle\">No data</text>",
            num((a.left + a.right) / 2.0),
            num((a.top + a.bottom) / 2.0 + 4.0),
        );
    }
}

fn ticks(kind: AxisKind, (lo, hi): (f64, f64), target: usize) -> Vec<Tick> {
    match kind {
        AxisKind::Number => number_ticks(lo, hi, target),
        AxisKind::Date => date_ticks(lo, hi, target),
    }
}

fn series_class(series: &Series, n: usize) -> String {
    class_list(&series.class, &format!("series-{}", n + 1))
}

fn dash_attr(dash: Option<&str>) -> String {
    dash.map(|d| format!(" stroke-dasharray=\"{d}\""))
        .unwrap_or_default()
}

/// Distinct region kinds (as class tokens) in order of first appearance.
fn region_kinds(regions: &[Region]) -> Vec<String> {
    let mut kinds: Vec<String> = Vec::new();
    for region in regions {
        let kind = token(&region.kind, "span");
        if !kinds.contains(&kind) {
            kinds.push(kind);
        }
    }
    kinds
}

/// The legend's entries laid out in rows `available` wide, and the number of rows. Shown when
/// there is more than one series, or any region or band.
fn legend(chart: &Chart, region_kinds: &[String], available: f64) -> (Vec<LegendItem>, usize) {
    let shown = chart.series.len() > 1 || !chart.regions.is_empty() || chart.band.is_some();
    if !shown {
        return (Vec::new(), 0);
    }
    let mut entries: Vec<(Entry, String)> = chart
        .series
        .iter()
        .enumerate()
        .map(|(n, s)| {
            let entry = Entry::Line {
                class: series_class(s, n),
                dash: DASHES[n % DASHES.len()],
                markers: s.markers,
            };
            (entry, s.name.clone())
        })
        .collect();
    for (n, kind) in region_kinds.iter().enumerate() {
        let label = chart
            .regions
            .iter()
            .find(|r| token(&r.kind, "span") == *kind)
            .map(|r| r.label.clone())
            .unwrap_or_default();
        let entry = Entry::Region {
            class: format!("region region-{kind}"),
            opacity: REGION_OPACITY[n % REGION_OPACITY.len()],
        };
        entries.push((entry, label));
    }
    if let Some(band) = &chart.band {
        entries.push((Entry::Band, band.label.clone()));
    }
    let mut items = Vec::with_capacity(entries.len());
    let (mut x, mut row) = (0.0, 0);
    for (entry, label) in entries {
        let width = SWATCH + 6.0 + label.chars().count() as f64 * CHAR_WIDTH + 16.0;
        if x > 0.0 && x + width > available {
            x = 0.0;
            row += 1;
        }
        items.push(LegendItem {
            entry,
            label,
            x,
            row,
        });
        x += width;
    }
    (items, row + 1)
}

/// The x range: the axis' fixed range, else the finite points' range padded by 2 %.
fn x_range(chart: &Chart) -> Option<(f64, f64)> {
    let data = extent(points(chart).map(|(x, _)| x))?;
    if let Some(fixed) = fixed(chart.x_axis.range) {
        return Some(fixed);
    }
    Some(pad(data, 0.02, chart.x_axis.include_zero))
}

/// The y range: the axis' fixed range, else the finite points' (and the band's) range padded
/// by 5 %, with zero when asked for.
fn y_range(chart: &Chart) -> Option<(f64, f64)> {
    let data = extent(points(chart).map(|(_, y)| y))?;
    if let Some(fixed) = fixed(chart.y_axis.range) {
        return Some(fixed);
    }
    let band = chart
        .band
        .iter()
        .flat_map(|b| [b.lo, b.hi])
        .filter(|v| v.is_finite());
    let (lo, hi) = extent(band.chain([data.0, data.1]))?;
    Some(pad((lo, hi), 0.05, chart.y_axis.include_zero))
}

/// The points of every series where both x and y are finite.
fn points(chart: &Chart) -> impl Iterator<Item = (f64, f64)> + '_ {
    chart
        .series
        .iter()
        .flat_map(|s| s.points.iter().copied())
        .filter(|(x, y)| x.is_finite() && y.is_finite())
}

fn extent(values: impl Iterator<Item = f64>) -> Option<(f64, f64)> {
    values.fold(None, |acc, v| match acc {
        None => Some((v, v)),
        Some((lo, hi)) => Some((lo.min(v), hi.max(v))),
    })
}

fn fixed(range: Option<(f64, f64)>) -> Option<(f64, f64)> {
    let (a, b) = range?;
    let usable = a.is_finite() && b.is_finite() && a != b && (b - a).is_finite();
    usable.then(|| (a.min(b), a.max(b)))
}

/// Widens a data range by `fraction` of its span on each side (a single value by a tenth of
/// itself, or by 1), without padding past zero when zero is an end the caller asked for.
fn pad((lo, hi): (f64, f64), fraction: f64, include_zero: bool) -> (f64, f64) {
    let (lo, hi) = if include_zero {
        (lo.min(0.0), hi.max(0.0))
    } else {
        (lo, hi)
    };
    let span = hi - lo;
    let margin = if span > 0.0 && span.is_finite() {
        span * fraction
    } else {
        (lo.abs() * 0.1).max(1.0)
    };
    let (mut new_lo, mut new_hi) = (lo - margin, hi + margin);
    if include_zero && lo == 0.0 {
        new_lo = 0.0;
    }
    if include_zero && hi == 0.0 {
        new_hi = 0.0;
    }
    // A span beyond f64 (±MAX) cannot be mapped; keep the data's own ends then.
    if !(new_hi - new_lo).is_finite() {
        return (lo, hi.max(lo + f64::EPSILON));
    }
    (new_lo, new_hi)
}

/// Maximal runs of points with finite x and y; anything else is a gap.
fn finite_runs(points: &[(f64, f64)]) -> Vec<&[(f64, f64)]> {
    points
        .split(|(x, y)| !(x.is_finite() && y.is_finite()))
        .filter(|run| !run.is_empty())
        .collect()
}

/// A run downsampled to its share of [`MAX_POINTS_PER_SERIES`] (at least 3 points: LTTB's
/// smallest output with a point between the ends).
fn downsample(run: &[(f64, f64)], series_len: usize) -> Vec<(f64, f64)> {
    let share = MAX_POINTS_PER_SERIES as f64 * run.len() as f64 / series_len.max(1) as f64;
    lttb(run, (share.floor() as usize).max(3))
}

/// Appends "M x y L x y …" for one run, skipping points that print the same as the last one.
fn push_run(d: &mut String, run: &[(f64, f64)]) {
    let mut last = String::new();
    for (i, &(x, y)) in run.iter().enumerate() {
        let mut point = num(x);
        point.push(' ');
        push_num(&mut point, y);
        if i > 0 && point == last {
            continue;
        }
        d.push(if i == 0 { 'M' } else { 'L' });
        d.push_str(&point);
        last = point;
    }
}
