//! Calendar dates (`YYYY-MM-DD`) for birth dates, injury days and decisions: no time zone,
//! no time of day, valid in the proleptic Gregorian calendar.

use std::fmt;

/// A calendar date between 1900-01-01 and 2199-12-31.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CalendarDate {
    year: u16,
    month: u8,
    day: u8,
}

/// Why a text is not a calendar date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DateError {
    /// Not of the form `YYYY-MM-DD`.
    #[error("must be a date of the form YYYY-MM-DD")]
    Format,
    /// Of the form, but no such day (2026-02-30) or outside 1900–2199.
    #[error("is not a day of the calendar between 1900 and 2199")]
    Range,
}

const fn is_leap(year: u16) -> bool {
    (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400)
}

const fn days_in_month(year: u16, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(year) => 29,
        2 => 28,
        _ => 0,
    }
}

impl CalendarDate {
    /// Parses `YYYY-MM-DD` exactly (no other separators, no time).
    pub fn parse(text: &str) -> Result<Self, DateError> {
        let b = text.as_bytes();
        let digits = |r: std::ops::Range<usize>| -> Result<u16, DateError> {
            let part = b.get(r).ok_or(DateError::Format)?;
            part.iter().try_fold(0u16, |acc, c| {
                if c.is_ascii_digit() {
                    Ok(acc * 10 + u16::from(c - b'0'))
                } else {
                    Err(DateError::Format)
                }
            })
        };
        if b.len() != 10 || b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
            return Err(DateError::Format);
        }
        let year = digits(0..4)?;
        let month = u8::try_from(digits(5..7)?).map_err(|_| DateError::Range)?;
        let day = u8::try_from(digits(8..10)?).map_err(|_| DateError::Range)?;
        if !(1900..=2199).contains(&year) || day == 0 || day > days_in_month(year, month) {
            return Err(DateError::Range);
        }
        Ok(Self { year, month, day })
    }

    /// The date of a moment in UTC, from milliseconds since the Unix epoch.
    pub fn from_unix_millis(ms: i64) -> Self {
        // Howard Hinnant's civil_from_days.
        let z = ms.div_euclid(86_400_000) + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = yoe + era * 400 + i64::from(month <= 2);
        Self {
            year: u16::try_from(year.clamp(1900, 2199)).unwrap_or(1900),
            month: u8::try_from(month).unwrap_or(1),
            day: u8::try_from(day).unwrap_or(1),
        }
    }

    /// Days since 1970-01-01 (negative before).
    pub fn days_since_epoch(self) -> i64 {
        let y = i64::from(self.year) - i64::from(self.month <= 2);
        let era = y.div_euclid(400);
        let yoe = y.rem_euclid(400);
        let m = i64::from(self.month);
        let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(self.day) - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }

    /// The date `days` days later (earlier when negative).
    pub fn plus_days(self, days: i64) -> Self {
        Self::from_unix_millis((self.days_since_epoch() + days) * 86_400_000)
    }

    /// The Monday of this date's week (weeks run Monday to Sunday).
    pub fn week_start(self) -> Self {
        // 1970-01-01 was a Thursday: the Monday on or before is (days + 3) mod 7 days back.
        let days = self.days_since_epoch();
        self.plus_days(-(days + 3).rem_euclid(7))
    }

    /// Whole years from this date to `on` (an age).
    pub fn years_until(self, on: CalendarDate) -> i64 {
        let mut years = i64::from(on.year) - i64::from(self.year);
        if (on.month, on.day) < (self.month, self.day) {
            years -= 1;
        }
        years
    }
}

impl fmt::Display for CalendarDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_week_starts_on_its_monday() {
        let d = |s: &str| CalendarDate::parse(s).unwrap();
        assert_eq!(d("2026-02-15").week_start(), d("2026-02-09"), "a Sunday");
        assert_eq!(d("2026-02-16").week_start(), d("2026-02-16"), "a Monday");
        assert_eq!(d("1970-01-01").week_start(), d("1969-12-29"));
        assert_eq!(d("2026-03-01").plus_days(-1), d("2026-02-28"));
    }

    #[test]
    fn parses_real_days_only() {
        assert_eq!(
            CalendarDate::parse("2024-02-29").unwrap().to_string(),
            "2024-02-29"
        );
        assert_eq!(CalendarDate::parse("2026-02-29"), Err(DateError::Range));
        assert_eq!(CalendarDate::parse("1900-02-29"), Err(DateError::Range));
        assert_eq!(
            CalendarDate::parse("2000-02-29").unwrap().to_string(),
            "2000-02-29"
        );
        assert_eq!(CalendarDate::parse("2026-13-01"), Err(DateError::Range));
        assert_eq!(CalendarDate::parse("2026-04-31"), Err(DateError::Range));
        assert_eq!(CalendarDate::parse("1899-12-31"), Err(DateError::Range));
        for bad in [
            "2026-1-01",
            "2026/01/01",
            "20260101",
            "2026-01-01T00:00",
            "",
            "２０２６-01-01",
        ] {
            assert_eq!(CalendarDate::parse(bad), Err(DateError::Format), "{bad:?}");
        }
    }

    #[test]
    fn epoch_days_round_trip_and_ages() {
        let d = CalendarDate::parse("2026-11-25").unwrap();
        assert_eq!(
            CalendarDate::from_unix_millis(d.days_since_epoch() * 86_400_000),
            d
        );
        assert_eq!(
            CalendarDate::parse("1970-01-01")
                .unwrap()
                .days_since_epoch(),
            0
        );
        assert_eq!(
            CalendarDate::from_unix_millis(1_790_000_000_000).to_string(),
            "2026-09-21"
        );
        let born = CalendarDate::parse("2000-11-26").unwrap();
        assert_eq!(born.years_until(d), 25);
        assert_eq!(
            born.years_until(CalendarDate::parse("2026-11-26").unwrap()),
            26
        );
    }
}
