//! MHP's charts: force-time curves and metric trends drawn as inline SVG on the server.
//!
//! The web pages run under a strict Content Security Policy (`style-src 'self'`, no inline
//! styles, no inline script), so a chart may carry no `style` attribute and no `<style>`
//! element: every element says what it is with a `class` (styled by the page's stylesheet)
//! and only SVG presentation attributes give defaults (`fill="none"`,
//! `stroke="currentColor"`, a dash pattern per series so lines stay apart when printed in
//! grey). The charts we need are few: lines, markers, shaded spans, a horizontal band and two
//! axes. That is why this crate is written by hand rather than on plotters: plotters' SVG
//! backend bakes colours and fonts into each element with no classes, titles or ARIA labels,
//! and its default features bring in a system font loader (`font-kit`) for text layout.
//!
//! The crate is pure: no I/O, no async, no serde. Output is deterministic (same input, same
//! bytes), so pages can be cached and charts compared in tests.
//!
//! * [`lttb`]: Largest-Triangle-Three-Buckets downsampling, so a 10 000-sample force trace
//!   becomes a few hundred points without losing its peaks.
//! * [`nice_ticks`]: axis ticks at 1, 2, 2.5 and 5 × 10^k.
//! * [`Chart::to_svg`]: the chart itself.
//! * [`civil_from_days`], [`days_from_civil`]: the calendar of date axes, whose values are
//!   days since 1970-01-01.
#![warn(missing_docs)]

mod chart;
mod date;
mod lttb;
mod svg;
mod ticks;

pub use chart::{Axis, AxisKind, Chart, HBand, MAX_POINTS_PER_SERIES, Region, Series};
pub use date::{civil_from_days, days_from_civil};
pub use lttb::lttb;
pub use ticks::nice_ticks;
