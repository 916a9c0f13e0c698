//! The proleptic Gregorian calendar for date axes, after Howard Hinnant's `civil_from_days`
//! and `days_from_civil` (<https://howardhinnant.github.io/date_algorithms.html>).

/// Year, month (1–12) and day (1–31) of a day counted from 1970-01-01 (day 0). Exact for
/// any day a chart can show; at the far ends of `i64` it saturates rather than overflow.
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days.saturating_add(719_468);
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097); // [0, 146096]
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365]
    let mp = (5 * doy + 2) / 153; // [0, 11], March first
    let day = doy - (153 * mp + 2) / 5 + 1; // [1, 31]
    let month = if mp < 10 { mp + 3 } else { mp - 9 }; // [1, 12]
    let year = (yoe + era * 400).saturating_add(i64::from(month <= 2));
    (year, month as u32, day as u32)
}

/// Days from 1970-01-01 to a date; `month` 1–12, `day` 1–31 (out-of-range values roll over
/// the way the arithmetic takes them, and years near the ends of `i64` saturate; neither
/// panics).
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let (month, day) = (i64::from(month), i64::from(day));
    let year = if month <= 2 {
        year.saturating_sub(1)
    } else {
        year
    };
    let era = year.div_euclid(400);
    let yoe = year.rem_euclid(400); // [0, 399]
    let mp = (month + 9) % 12; // March = 0
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era.saturating_mul(146_097).saturating_add(doe - 719_468)
}

/// English three-letter month name, 1-based.
pub(crate) fn month_abbrev(month: u32) -> &'static str {
    const NAMES: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    month
        .checked_sub(1)
        .and_then(|m| NAMES.get(m as usize))
        .copied()
        .unwrap_or("???")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(20_524), (2026, 3, 12));
        assert_eq!(days_from_civil(2026, 3, 12), 20_524);
        assert_eq!(days_from_civil(1900, 3, 1), -25_508);
        assert_eq!(civil_from_days(-25_509), (1900, 2, 28));
    }

    #[test]
    fn round_trip_over_centuries() {
        for days in (-800_000..800_000).step_by(97) {
            let (y, m, d) = civil_from_days(days);
            assert!((1..=12).contains(&m) && (1..=31).contains(&d));
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }

    #[test]
    fn extremes_do_not_panic() {
        for days in [i64::MIN, i64::MIN + 1, i64::MAX - 1, i64::MAX] {
            let (y, m, d) = civil_from_days(days);
            let _ = days_from_civil(y, m, d);
        }
        for year in [i64::MIN, i64::MAX] {
            for month in [0, 1, 2, 3, 12, 13, u32::MAX] {
                let _ = days_from_civil(year, month, u32::MAX);
            }
        }
    }

    #[test]
    fn month_names() {
        assert_eq!(month_abbrev(1), "Jan");
        assert_eq!(month_abbrev(12), "Dec");
        assert_eq!(month_abbrev(0), "???");
    }
}
