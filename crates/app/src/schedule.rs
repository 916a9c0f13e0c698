//! Cron expressions of pipeline schedules, read in an IANA time zone.

use std::str::FromStr as _;

use chrono::{TimeZone as _, Utc};
use chrono_tz::Tz;
use croner::Cron;
use mhp_domain::Timestamp;

/// A checked schedule: its expression and time zone.
#[derive(Debug, Clone)]
pub struct CronSchedule {
    cron: Cron,
    tz: Tz,
}

impl CronSchedule {
    /// Parses a 5-field expression (minute hour day-of-month month day-of-week; names, ranges,
    /// lists and steps allowed) in the named time zone (`Europe/Oslo`, `UTC`).
    ///
    /// # Errors
    /// A short reason that names the part that is wrong.
    pub fn parse(expression: &str, timezone: &str) -> Result<Self, String> {
        let tz = Tz::from_str(timezone).map_err(|_| {
            "timezone must be an IANA time zone name such as Europe/Oslo".to_owned()
        })?;
        if expression.split_whitespace().count() != 5 {
            return Err(
                "cron must have 5 fields: minute hour day-of-month month day-of-week".into(),
            );
        }
        let cron =
            Cron::from_str(expression).map_err(|_| "cron expression is invalid".to_owned())?;
        Ok(Self { cron, tz })
    }

    /// The first firing time strictly after `after`, or `None` if there is none (an expression
    /// that never matches, such as 30 February).
    pub fn next_after(&self, after: Timestamp) -> Option<Timestamp> {
        let utc = Utc.timestamp_millis_opt(after.as_millis()).single()?;
        let local = utc.with_timezone(&self.tz);
        let next = self.cron.find_next_occurrence(&local, false).ok()?;
        Some(Timestamp::from_millis(next.timestamp_millis()))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn ms(s: &str) -> Timestamp {
        Timestamp::from_millis(
            chrono::DateTime::parse_from_rfc3339(s)
                .unwrap()
                .timestamp_millis(),
        )
    }

    #[test]
    fn fires_at_local_time_across_daylight_saving() {
        let s = CronSchedule::parse("0 3 * * *", "Europe/Oslo").unwrap();
        // Winter: 03:00 in Oslo is 02:00 UTC; summer: 01:00 UTC.
        assert_eq!(
            s.next_after(ms("2026-01-10T12:00:00Z")),
            Some(ms("2026-01-11T02:00:00Z"))
        );
        assert_eq!(
            s.next_after(ms("2026-07-10T12:00:00Z")),
            Some(ms("2026-07-11T01:00:00Z"))
        );
        // Strictly after: a time that is itself a firing time moves on a day.
        assert_eq!(
            s.next_after(ms("2026-07-11T01:00:00Z")),
            Some(ms("2026-07-12T01:00:00Z"))
        );
        let mondays = CronSchedule::parse("30 6 * * MON", "UTC").unwrap();
        assert_eq!(
            mondays.next_after(ms("2026-12-04T00:00:00Z")),
            Some(ms("2026-12-07T06:30:00Z"))
        );
    }

    #[test]
    fn bad_expressions_and_zones_are_named() {
        assert!(
            CronSchedule::parse("0 3 * * *", "Mars/Olympus")
                .unwrap_err()
                .contains("timezone")
        );
        assert!(
            CronSchedule::parse("0 3 * *", "UTC")
                .unwrap_err()
                .contains("5 fields")
        );
        assert!(
            CronSchedule::parse("99 3 * * *", "UTC")
                .unwrap_err()
                .contains("invalid")
        );
    }
}
