//! Axis ticks and their labels: "nice" numbers for value axes, calendar steps for date axes.

use crate::date::{civil_from_days, days_from_civil, month_abbrev};

/// "Nice" axis ticks (1, 2, 2.5, 5 × 10^k steps) inside [min, max], about `target` of them.
///
/// The step is the smallest nice number that gives no more than `target` intervals, so the
/// count is near `target` and never far above it. Ticks are whole multiples of the step
/// computed without accumulating error (0.3, not 0.30000000000000004). `min > max` is taken
/// the other way round; `min == max` gives that one value; a non-finite bound gives none.
pub fn nice_ticks(min: f64, max: f64, target: usize) -> Vec<f64> {
    number_ticks(min, max, target)
        .into_iter()
        .map(|t| t.value)
        .collect()
}

/// A tick: where it is and what it says.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Tick {
    pub(crate) value: f64,
    pub(crate) label: String,
}

/// More ticks than this are never drawn, whatever the input.
const MAX_TICKS: usize = 100;

/// A nice step: `mantissa × 10^exponent`.
#[derive(Debug, Clone, Copy)]
struct Step {
    mantissa: f64,
    exponent: i32,
}

impl Step {
    fn for_span(span: f64, target: usize) -> Step {
        let raw = span / target.max(1) as f64;
        let exponent = raw.log10().floor() as i32;
        let normalised = raw / 10f64.powi(exponent);
        for mantissa in [1.0, 2.0, 2.5, 5.0] {
            // A hair of tolerance so that a span of exactly 5 × step picks that step.
            if mantissa >= normalised * (1.0 - 1e-9) {
                return Step { mantissa, exponent };
            }
        }
        Step {
            mantissa: 1.0,
            exponent: exponent.saturating_add(1),
        }
    }

    fn size(self) -> f64 {
        self.mantissa * 10f64.powi(self.exponent)
    }

    /// `i` steps from zero, exact whenever the decimal value is representable: dividing by a
    /// power of ten instead of multiplying by its inexact inverse gives 0.3 for 3 × 0.1.
    fn nth(self, i: f64) -> f64 {
        if self.exponent < 0 {
            i * self.mantissa / 10f64.powi(-self.exponent)
        } else {
            i * self.mantissa * 10f64.powi(self.exponent)
        }
    }

    /// Decimals that show every multiple of the step exactly.
    fn decimals(self) -> usize {
        let extra = i32::from(self.mantissa == 2.5);
        (extra - self.exponent).max(0) as usize
    }

    fn label(self, value: f64) -> String {
        let scientific = !(-6..=6).contains(&self.exponent);
        let label = match (scientific, value == 0.0) {
            (true, true) => "0".to_owned(),
            (true, false) => format!("{value:e}"),
            (false, _) => format!("{value:.*}", self.decimals()),
        };
        // A tick at zero computed from a negative multiple would say "-0".
        if label
            .trim_start_matches('-')
            .chars()
            .all(|c| c == '0' || c == '.')
        {
            return label.trim_start_matches('-').to_owned();
        }
        label
    }
}

/// Ticks of a value axis with their labels.
pub(crate) fn number_ticks(min: f64, max: f64, target: usize) -> Vec<Tick> {
    if !min.is_finite() || !max.is_finite() {
        return Vec::new();
    }
    let (min, max) = if min <= max { (min, max) } else { (max, min) };
    let span = max - min;
    let step = (span > 0.0 && span.is_finite()).then(|| Step::for_span(span, target));
    // No step, or one that is no normal f64 power of ten (spans near the ends of f64).
    let Some(step) = step.filter(|step| (-300..=300).contains(&step.exponent)) else {
        // Label the ends; there is no step to speak of.
        let mut ticks = vec![Tick {
            value: min,
            label: plain_label(min),
        }];
        if span != 0.0 {
            ticks.push(Tick {
                value: max,
                label: plain_label(max),
            });
        }
        return ticks;
    };
    let size = step.size();
    // Tolerance for ends that land on a tick up to rounding.
    let eps = size * 1e-9;
    let first = ((min - eps) / size).ceil();
    let mut ticks = Vec::new();
    for k in 0..MAX_TICKS {
        let value = step.nth(first + k as f64);
        // `max + eps` itself can overflow to infinity near f64::MAX.
        if value > max + eps || !value.is_finite() {
            break;
        }
        ticks.push(Tick {
            value,
            label: step.label(value),
        });
    }
    ticks
}

fn plain_label(value: f64) -> String {
    if value.abs() >= 1e7 || (value != 0.0 && value.abs() < 1e-4) {
        return format!("{value:e}");
    }
    let label = format!("{value:.3}");
    let label = label.trim_end_matches('0').trim_end_matches('.');
    if label == "-0" {
        return "0".to_owned();
    }
    label.to_owned()
}

/// Dates the date axis can show: ±10 million days (about ±27 000 years) from 1970; beyond
/// that the axis falls back to numbers rather than overflow the calendar arithmetic.
const DATE_LIMIT: f64 = 1e7;

/// How far apart date ticks are.
#[derive(Debug, Clone, Copy, PartialEq)]
enum DateStep {
    Days(i64),
    /// Every `n` weeks, on Mondays.
    Weeks(i64),
    Months(i64),
    Years(i64),
}

impl DateStep {
    /// Rough length in days, for choosing the step.
    fn approx_days(self) -> f64 {
        match self {
            DateStep::Days(n) => n as f64,
            DateStep::Weeks(n) => 7.0 * n as f64,
            DateStep::Months(n) => 30.44 * n as f64,
            DateStep::Years(n) => 365.25 * n as f64,
        }
    }
}

const DATE_STEPS: &[DateStep] = &[
    DateStep::Days(1),
    DateStep::Days(2),
    DateStep::Weeks(1),
    DateStep::Weeks(2),
    DateStep::Months(1),
    DateStep::Months(2),
    DateStep::Months(3),
    DateStep::Months(6),
    DateStep::Years(1),
    DateStep::Years(2),
    DateStep::Years(5),
    DateStep::Years(10),
    DateStep::Years(20),
    DateStep::Years(50),
    DateStep::Years(100),
    DateStep::Years(200),
    DateStep::Years(500),
    DateStep::Years(1000),
    DateStep::Years(2000),
    DateStep::Years(5000),
    DateStep::Years(10_000),
];

/// Ticks of a date axis whose values are days since 1970-01-01 (fractions are times of day),
/// at whole days, Mondays, first days of months or of years; labelled "12 Mar" (with the
/// year, "12 Mar 2026", when the axis spans more than one year), "Mar 2026" or "2026".
pub(crate) fn date_ticks(min: f64, max: f64, target: usize) -> Vec<Tick> {
    if !(min.abs() <= DATE_LIMIT && max.abs() <= DATE_LIMIT) {
        return number_ticks(min, max, target);
    }
    let (min, max) = if min <= max { (min, max) } else { (max, min) };
    let span = max - min;
    let target = target.max(1) as f64;
    let step = DATE_STEPS
        .iter()
        .copied()
        .find(|step| span / step.approx_days() <= target)
        .unwrap_or(DateStep::Years(10_000));
    let (first, last) = (min.ceil() as i64, max.floor() as i64);
    let days: Vec<i64> = match step {
        DateStep::Days(n) => (first..=last).filter(|d| d.rem_euclid(n) == 0).collect(),
        DateStep::Weeks(n) => {
            // 1970-01-05 (day 4) was a Monday.
            (first..=last)
                .filter(|d| (d - 4).rem_euclid(7 * n) == 0)
                .collect()
        }
        DateStep::Months(n) => month_starts(first, last, n),
        DateStep::Years(n) => year_starts(first, last, n),
    };
    let (first_year, _, _) = civil_from_days(first);
    let (last_year, _, _) = civil_from_days(last);
    let one_year = first_year == last_year;
    days.into_iter()
        .take(MAX_TICKS)
        .map(|d| Tick {
            value: d as f64,
            label: date_label(d, step, one_year),
        })
        .collect()
}

fn month_starts(first: i64, last: i64, every: i64) -> Vec<i64> {
    let (year, month, _) = civil_from_days(first);
    // Months counted from year 0, so "every 3 months" falls on Jan, Apr, Jul, Oct.
    let mut index = year * 12 + i64::from(month) - 1;
    index += (every - index.rem_euclid(every)) % every;
    let mut out = Vec::new();
    loop {
        let day = days_from_civil(index.div_euclid(12), index.rem_euclid(12) as u32 + 1, 1);
        if day > last || out.len() >= MAX_TICKS {
            return out;
        }
        if day >= first {
            out.push(day);
        }
        index += every;
    }
}

fn year_starts(first: i64, last: i64, every: i64) -> Vec<i64> {
    let (year, _, _) = civil_from_days(first);
    let mut year = year + (every - year.rem_euclid(every)) % every;
    let mut out = Vec::new();
    loop {
        let day = days_from_civil(year, 1, 1);
        if day > last || out.len() >= MAX_TICKS {
            return out;
        }
        if day >= first {
            out.push(day);
        }
        year += every;
    }
}

fn date_label(days: i64, step: DateStep, one_year: bool) -> String {
    let (year, month, day) = civil_from_days(days);
    let month = month_abbrev(month);
    match step {
        DateStep::Days(_) | DateStep::Weeks(_) if one_year => format!("{day} {month}"),
        DateStep::Days(_) | DateStep::Weeks(_) => format!("{day} {month} {year}"),
        DateStep::Months(_) => format!("{month} {year}"),
        DateStep::Years(_) => format!("{year}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(ticks: &[Tick]) -> Vec<&str> {
        ticks.iter().map(|t| t.label.as_str()).collect()
    }

    #[test]
    fn nice_ticks_examples() {
        assert_eq!(nice_ticks(0.0, 10.0, 5), [0.0, 2.0, 4.0, 6.0, 8.0, 10.0]);
        assert_eq!(
            nice_ticks(0.0, 1.0, 10),
            [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]
        );
        assert_eq!(
            nice_ticks(-120.0, 2480.0, 6),
            [0.0, 500.0, 1000.0, 1500.0, 2000.0]
        );
        assert_eq!(nice_ticks(0.0, 10.0, 4), [0.0, 2.5, 5.0, 7.5, 10.0]);
        assert_eq!(nice_ticks(10.0, 0.0, 5), nice_ticks(0.0, 10.0, 5));
        assert_eq!(nice_ticks(3.0, 3.0, 5), [3.0]);
        assert_eq!(nice_ticks(0.0, 1.0, 0), [0.0, 1.0]);
        assert!(nice_ticks(f64::NAN, 1.0, 5).is_empty());
        assert!(nice_ticks(0.0, f64::INFINITY, 5).is_empty());
    }

    #[test]
    fn labels_have_just_the_decimals_the_step_needs() {
        assert_eq!(
            labels(&number_ticks(0.0, 0.35, 4)),
            ["0.0", "0.1", "0.2", "0.3"]
        );
        assert_eq!(
            labels(&number_ticks(0.0, 10.0, 4)),
            ["0.0", "2.5", "5.0", "7.5", "10.0"]
        );
        assert_eq!(
            labels(&number_ticks(-1000.0, 2500.0, 8)),
            ["-1000", "-500", "0", "500", "1000", "1500", "2000", "2500"]
        );
        assert_eq!(
            labels(&number_ticks(-0.05, 0.05, 2)),
            ["-0.05", "0.00", "0.05"]
        );
        assert_eq!(
            labels(&number_ticks(0.0, 3e9, 3)),
            ["0", "1e9", "2e9", "3e9"]
        );
        assert_eq!(labels(&number_ticks(2.5, 2.5, 5)), ["2.5"]);
    }

    #[test]
    fn spans_near_the_ends_of_f64_do_not_overflow() {
        assert_eq!(number_ticks(-f64::MAX, f64::MAX, 5).len(), 2);
        assert_eq!(nice_ticks(0.0, f64::MAX, 5), [0.0, f64::MAX]);
        assert_eq!(
            nice_ticks(0.0, f64::MIN_POSITIVE, 1000),
            [0.0, f64::MIN_POSITIVE]
        );
    }

    #[test]
    fn date_ticks_by_days_weeks_months_years() {
        let mar_1 = days_from_civil(2026, 3, 1) as f64;
        assert_eq!(
            labels(&date_ticks(mar_1, mar_1 + 5.0, 6)),
            ["1 Mar", "2 Mar", "3 Mar", "4 Mar", "5 Mar", "6 Mar"]
        );
        // Six weeks: Mondays (2 March 2026 is a Monday).
        assert_eq!(
            labels(&date_ticks(mar_1, mar_1 + 41.0, 6)),
            ["2 Mar", "9 Mar", "16 Mar", "23 Mar", "30 Mar", "6 Apr"]
        );
        let jan_1 = days_from_civil(2026, 1, 1) as f64;
        assert_eq!(
            labels(&date_ticks(jan_1 - 10.0, jan_1 + 170.0, 6)),
            [
                "Jan 2026", "Feb 2026", "Mar 2026", "Apr 2026", "May 2026", "Jun 2026"
            ]
        );
        assert_eq!(
            labels(&date_ticks(jan_1, jan_1 + 365.0 * 3.0, 6)),
            [
                "Jan 2026", "Jul 2026", "Jan 2027", "Jul 2027", "Jan 2028", "Jul 2028"
            ]
        );
        assert_eq!(
            labels(&date_ticks(0.0, 365.25 * 30.0, 6)),
            ["1970", "1975", "1980", "1985", "1990", "1995", "2000"]
        );
        // Across a new year the day labels carry the year.
        assert_eq!(
            labels(&date_ticks(jan_1 - 2.0, jan_1 + 1.0, 6)),
            ["30 Dec 2025", "31 Dec 2025", "1 Jan 2026", "2 Jan 2026"]
        );
    }

    #[test]
    fn date_ticks_out_of_calendar_range_fall_back_to_numbers() {
        assert_eq!(labels(&date_ticks(0.0, 1e12, 2)), ["0", "5e11", "1e12"]);
        assert!(date_ticks(f64::NAN, 1.0, 5).is_empty());
    }
}
