//! How pages show numbers and moments to a person: the units each person chooses (centimetres
//! or inches, kilograms or pounds, force and power absolute or per kilogram of body mass) and
//! the organisation's time zone. Stored values stay SI and UTC; these only change what is shown.

use std::fmt;
use std::str::FromStr as _;

use thiserror::Error;

/// A unit choice that is not one of the known codes.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{what} must be one of {allowed}")]
pub struct UnitError {
    what: &'static str,
    allowed: &'static str,
}

/// How lengths (jump height, depth) are shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LengthUnit {
    /// Centimetres.
    #[default]
    Centimetre,
    /// Inches.
    Inch,
}

/// How body mass is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MassUnit {
    /// Kilograms.
    #[default]
    Kilogram,
    /// Pounds (avoirdupois).
    Pound,
}

/// How force and power are shown: as measured, or divided by body mass.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ForceUnit {
    /// Newtons and watts.
    Absolute,
    /// Newtons and watts per kilogram of body mass.
    #[default]
    PerKilogram,
}

/// Metres in an inch (exact, by the 1959 international yard).
const METRES_PER_INCH: f64 = 0.0254;
/// Kilograms in a pound (exact, by the 1959 international pound).
const KG_PER_POUND: f64 = 0.453_592_37;

impl LengthUnit {
    /// Every choice, in the order forms list them.
    pub const ALL: [Self; 2] = [Self::Centimetre, Self::Inch];

    /// The stored code.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Centimetre => "cm",
            Self::Inch => "in",
        }
    }

    /// Parses a stored code.
    pub fn parse(s: &str) -> Result<Self, UnitError> {
        Self::ALL
            .into_iter()
            .find(|u| u.as_str() == s)
            .ok_or(UnitError {
                what: "length unit",
                allowed: "cm, in",
            })
    }

    /// The symbol shown beside a value.
    pub fn symbol(self) -> &'static str {
        self.as_str()
    }

    /// Metres in this unit.
    pub fn from_metres(self, m: f64) -> f64 {
        match self {
            Self::Centimetre => m * 100.0,
            Self::Inch => m / METRES_PER_INCH,
        }
    }

    /// Decimals worth showing for a jump-sized length.
    pub fn places(self) -> usize {
        1
    }
}

impl MassUnit {
    /// Every choice, in the order forms list them.
    pub const ALL: [Self; 2] = [Self::Kilogram, Self::Pound];

    /// The stored code.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Kilogram => "kg",
            Self::Pound => "lb",
        }
    }

    /// Parses a stored code.
    pub fn parse(s: &str) -> Result<Self, UnitError> {
        Self::ALL
            .into_iter()
            .find(|u| u.as_str() == s)
            .ok_or(UnitError {
                what: "mass unit",
                allowed: "kg, lb",
            })
    }

    /// The symbol shown beside a value.
    pub fn symbol(self) -> &'static str {
        self.as_str()
    }

    /// Kilograms in this unit.
    pub fn from_kilograms(self, kg: f64) -> f64 {
        match self {
            Self::Kilogram => kg,
            Self::Pound => kg / KG_PER_POUND,
        }
    }

    /// A value in this unit as kilograms (what a form in pounds stores).
    pub fn to_kilograms(self, v: f64) -> f64 {
        match self {
            Self::Kilogram => v,
            Self::Pound => v * KG_PER_POUND,
        }
    }
}

impl ForceUnit {
    /// Every choice, in the order forms list them.
    pub const ALL: [Self; 2] = [Self::PerKilogram, Self::Absolute];

    /// The stored code.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Absolute => "n",
            Self::PerKilogram => "n_per_kg",
        }
    }

    /// Parses a stored code.
    pub fn parse(s: &str) -> Result<Self, UnitError> {
        Self::ALL
            .into_iter()
            .find(|u| u.as_str() == s)
            .ok_or(UnitError {
                what: "force unit",
                allowed: "n, n_per_kg",
            })
    }
}

/// A person's choice of units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DisplayUnits {
    /// Lengths.
    pub length: LengthUnit,
    /// Body mass.
    pub mass: MassUnit,
    /// Force and power.
    pub force: ForceUnit,
}

/// A time zone of the IANA database, by name (`Europe/Oslo`); `UTC` by default.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct TimeZone(chrono_tz::Tz);

impl Default for TimeZone {
    fn default() -> Self {
        Self(chrono_tz::Tz::UTC)
    }
}

impl fmt::Debug for TimeZone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TimeZone({})", self.0.name())
    }
}

impl fmt::Display for TimeZone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.name())
    }
}

/// A time zone name the IANA database does not hold.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("time zone must be an IANA time zone name such as Europe/Oslo or America/Chicago")]
pub struct TimeZoneError;

impl TimeZone {
    /// Parses an IANA name (exact spelling, as the database has it).
    pub fn parse(s: &str) -> Result<Self, TimeZoneError> {
        if s.len() > 64 {
            return Err(TimeZoneError);
        }
        chrono_tz::Tz::from_str(s)
            .map(Self)
            .map_err(|_| TimeZoneError)
    }

    /// The IANA name.
    pub fn name(self) -> &'static str {
        self.0.name()
    }

    /// The zone itself, for date arithmetic.
    pub fn tz(self) -> chrono_tz::Tz {
        self.0
    }

    /// Every zone the database holds, by name (for pickers).
    pub fn names() -> impl Iterator<Item = &'static str> {
        chrono_tz::TZ_VARIANTS.iter().map(|z| z.name())
    }

    /// The moment (ms since the Unix epoch) the local day `day` (days since 1970-01-01) begins:
    /// local midnight, or the first local time of that day where a daylight-saving change
    /// skips midnight.
    pub fn start_of_day_ms(self, day: i64) -> i64 {
        use chrono::TimeZone as _;
        let utc_midnight = day.saturating_mul(86_400_000);
        let Some(mut local) = chrono::DateTime::from_timestamp_millis(utc_midnight)
            .and_then(|d| d.date_naive().and_hms_opt(0, 0, 0))
        else {
            return utc_midnight;
        };
        // No zone skips more than a few hours of a day.
        for _ in 0..12 {
            if let Some(t) = self.0.from_local_datetime(&local).earliest() {
                return t.timestamp_millis();
            }
            local += chrono::Duration::minutes(30);
        }
        utc_midnight
    }

    /// The local date and time of a moment (ms since the Unix epoch): days since 1970-01-01
    /// of the local date, seconds since local midnight, and the zone's abbreviation then.
    pub fn local(self, ms: i64) -> (i64, i64, String) {
        use chrono::{Offset as _, TimeZone as _};
        let Some(utc) = chrono::DateTime::from_timestamp_millis(ms) else {
            let day = ms.div_euclid(86_400_000);
            return (day, ms.rem_euclid(86_400_000) / 1000, "UTC".to_owned());
        };
        let offset = self.0.offset_from_utc_datetime(&utc.naive_utc());
        let shift = i64::from(offset.fix().local_minus_utc());
        let local_s = ms.div_euclid(1000) + shift;
        (
            local_s.div_euclid(86_400),
            local_s.rem_euclid(86_400),
            offset.to_string(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions_are_exact_to_the_definitions() {
        assert!((LengthUnit::Inch.from_metres(0.0254) - 1.0).abs() < 1e-12);
        assert!((LengthUnit::Centimetre.from_metres(0.4) - 40.0).abs() < 1e-12);
        assert!((MassUnit::Pound.from_kilograms(0.453_592_37) - 1.0).abs() < 1e-12);
        let lb = MassUnit::Pound.to_kilograms(180.0);
        assert!((MassUnit::Pound.from_kilograms(lb) - 180.0).abs() < 1e-9);
    }

    #[test]
    fn codes_round_trip_and_strangers_are_refused() {
        for u in LengthUnit::ALL {
            assert_eq!(LengthUnit::parse(u.as_str()), Ok(u));
        }
        for u in MassUnit::ALL {
            assert_eq!(MassUnit::parse(u.as_str()), Ok(u));
        }
        for u in ForceUnit::ALL {
            assert_eq!(ForceUnit::parse(u.as_str()), Ok(u));
        }
        assert!(LengthUnit::parse("ft").is_err());
        assert!(ForceUnit::parse("N").is_err());
    }

    #[test]
    fn local_time_follows_the_zone_and_its_daylight_saving() {
        let oslo = TimeZone::parse("Europe/Oslo").unwrap();
        // 2026-01-15 23:30 UTC is 00:30 on the 16th in Oslo (CET, UTC+1).
        let winter = 1_768_519_800_000;
        let (day, secs, abbr) = oslo.local(winter);
        assert_eq!(
            crate::CalendarDate::from_unix_millis(day * 86_400_000).to_string(),
            "2026-01-16"
        );
        assert_eq!(secs, 30 * 60);
        assert_eq!(abbr, "CET");
        // 2026-07-15 12:00 UTC is 14:00 CEST.
        let (_, secs, abbr) = oslo.local(1_784_116_800_000);
        assert_eq!((secs, abbr.as_str()), (14 * 3600, "CEST"));
        let chicago = TimeZone::parse("America/Chicago").unwrap();
        let (day, _, abbr) = chicago.local(winter);
        assert_eq!(
            crate::CalendarDate::from_unix_millis(day * 86_400_000).to_string(),
            "2026-01-15"
        );
        assert_eq!(abbr, "CST");
        assert_eq!(TimeZone::default().local(winter).2, "UTC");
    }

    #[test]
    fn a_local_day_begins_at_local_midnight() {
        let oslo = TimeZone::parse("Europe/Oslo").unwrap();
        let day = crate::CalendarDate::parse("2026-01-16")
            .unwrap()
            .days_since_epoch();
        // Midnight in Oslo in winter is 23:00 UTC the day before.
        assert_eq!(
            oslo.start_of_day_ms(day),
            1_768_519_800_000 - 30 * 60 * 1000
        );
        assert_eq!(TimeZone::default().start_of_day_ms(day), day * 86_400_000);
        // Santiago skipped midnight on 2026-09-06 (clocks went from 00:00 to 01:00).
        let santiago = TimeZone::parse("America/Santiago").unwrap();
        let skipped = crate::CalendarDate::parse("2026-09-06")
            .unwrap()
            .days_since_epoch();
        let start = santiago.start_of_day_ms(skipped);
        let (d, secs, _) = santiago.local(start);
        assert_eq!((d, secs), (skipped, 3600));
    }

    #[test]
    fn unknown_zones_are_refused() {
        assert!(TimeZone::parse("Mars/Olympus").is_err());
        assert!(TimeZone::parse("").is_err());
        assert!(TimeZone::parse(&"A".repeat(200)).is_err());
        assert_eq!(TimeZone::parse("UTC").unwrap().name(), "UTC");
    }
}
