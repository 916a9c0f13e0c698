//! How a page shows values to its reader: in the units they chose (centimetres or inches,
//! kilograms or pounds, force and power absolute or per kilogram) and dates in the
//! organisation's time zone. Stored values stay SI and UTC; only what is shown changes.

use mhp_domain::display::{DisplayUnits, ForceUnit, TimeZone};
use mhp_domain::{CalendarDate, Timestamp};

use crate::api::Grant;
use crate::authn::Principal;

/// The reader's units and the organisation's time zone.
#[derive(Debug, Clone, Copy, Default)]
pub struct Show {
    /// The reader's units (the defaults for an API key).
    pub units: DisplayUnits,
    /// The organisation's time zone.
    pub tz: TimeZone,
}

/// A metric the athlete page and report show, in the reader's units.
#[derive(Debug, Clone, Copy)]
pub struct KeyMetric {
    /// Its name as stored.
    pub name: &'static str,
    /// Its label.
    pub label: &'static str,
    /// The unit shown.
    pub unit: &'static str,
    /// Multiplies the stored value into the unit shown.
    pub scale: f64,
    /// Decimals shown.
    pub places: usize,
}

impl Show {
    /// What the grant's person chose, in an organisation of time zone `tz`.
    pub fn of(grant: &Grant, tz: TimeZone) -> Self {
        let units = match &grant.principal {
            Principal::User { user, .. } => user.units,
            Principal::ApiKey(_) => DisplayUnits::default(),
        };
        Self { units, tz }
    }

    /// The symbol of lengths.
    pub fn length_unit(&self) -> &'static str {
        self.units.length.symbol()
    }

    /// Multiplies metres into the length unit.
    pub fn length_scale(&self) -> f64 {
        self.units.length.from_metres(1.0)
    }

    /// A length in metres, shown in the reader's unit with its usual decimals (no symbol).
    pub fn length(&self, m: Option<f64>) -> String {
        super::layout::num(
            m.map(|v| self.units.length.from_metres(v)),
            self.units.length.places(),
        )
    }

    /// A signed change of length in metres, in the reader's unit (no symbol).
    pub fn length_change(&self, m: Option<f64>) -> String {
        super::dashboard::signed(
            m.map(|v| self.units.length.from_metres(v)),
            self.units.length.places(),
        )
    }

    /// The symbol of body mass.
    pub fn mass_unit(&self) -> &'static str {
        self.units.mass.symbol()
    }

    /// A body mass in kilograms, in the reader's unit with one decimal (no symbol).
    pub fn mass(&self, kg: Option<f64>) -> String {
        super::layout::num(kg.map(|v| self.units.mass.from_kilograms(v)), 1)
    }

    /// The calendar date of a moment in the organisation's time zone.
    pub fn date(&self, t: Timestamp) -> String {
        self.local_date(t.as_millis()).to_string()
    }

    /// The local calendar date of a moment (ms since the Unix epoch).
    pub fn local_date(&self, ms: i64) -> CalendarDate {
        let (day, _, _) = self.tz.local(ms);
        CalendarDate::from_unix_millis(day.saturating_mul(86_400_000))
    }

    /// Days since 1970-01-01 of a moment's local date and time, as a chart's x.
    pub fn chart_day(&self, t: Timestamp) -> f64 {
        let (day, secs, _) = self.tz.local(t.as_millis());
        #[allow(clippy::cast_precision_loss)]
        let d = day as f64 + secs as f64 / 86_400.0;
        d
    }

    /// A moment as `2026-03-12 14:05:09 CET`, in the organisation's time zone.
    pub fn date_time(&self, ms: i64) -> String {
        let (day, s, abbreviation) = self.tz.local(ms);
        let date = CalendarDate::from_unix_millis(day.saturating_mul(86_400_000));
        format!(
            "{date} {:02}:{:02}:{:02} {abbreviation}",
            s / 3600,
            s / 60 % 60,
            s % 60
        )
    }

    /// The metrics the athlete page and report show, in the reader's units: force and power
    /// absolute or per kilogram as they chose.
    pub fn key_metrics(&self) -> [KeyMetric; 6] {
        let absolute = self.units.force == ForceUnit::Absolute;
        [
            KeyMetric {
                name: "jump_height_impulse_m",
                label: "Jump height",
                unit: self.length_unit(),
                scale: self.length_scale(),
                places: self.units.length.places(),
            },
            KeyMetric {
                name: "rsi_modified",
                label: "RSI modified",
                unit: "m/s",
                scale: 1.0,
                places: 2,
            },
            if absolute {
                KeyMetric {
                    name: "peak_propulsive_power_w",
                    label: "Peak propulsive power",
                    unit: "W",
                    scale: 1.0,
                    places: 0,
                }
            } else {
                KeyMetric {
                    name: "peak_propulsive_power_w_per_kg",
                    label: "Peak propulsive power",
                    unit: "W/kg",
                    scale: 1.0,
                    places: 1,
                }
            },
            if absolute {
                KeyMetric {
                    name: "mean_propulsive_force_n",
                    label: "Mean propulsive force",
                    unit: "N",
                    scale: 1.0,
                    places: 0,
                }
            } else {
                KeyMetric {
                    name: "mean_propulsive_force_n_per_kg",
                    label: "Mean propulsive force",
                    unit: "N/kg",
                    scale: 1.0,
                    places: 1,
                }
            },
            KeyMetric {
                name: "braking_rfd_n_s",
                label: "Braking RFD",
                unit: "N/s",
                scale: 1.0,
                places: 0,
            },
            KeyMetric {
                name: "asymmetry.propulsive_impulse_pct",
                label: "Propulsive impulse asymmetry",
                unit: "%",
                scale: 1.0,
                places: 1,
            },
        ]
    }
}

#[cfg(test)]
mod tests {
    use mhp_domain::display::{LengthUnit, MassUnit};

    use super::*;

    fn show(length: LengthUnit, mass: MassUnit, force: ForceUnit, tz: &str) -> Show {
        Show {
            units: DisplayUnits {
                length,
                mass,
                force,
            },
            tz: TimeZone::parse(tz).unwrap(),
        }
    }

    #[test]
    fn values_follow_the_readers_units() {
        let metric = show(
            LengthUnit::Centimetre,
            MassUnit::Kilogram,
            ForceUnit::PerKilogram,
            "UTC",
        );
        assert_eq!(metric.length(Some(0.4123)), "41.2");
        assert_eq!(metric.mass(Some(80.0)), "80.0");
        let imperial = show(
            LengthUnit::Inch,
            MassUnit::Pound,
            ForceUnit::Absolute,
            "UTC",
        );
        assert_eq!(imperial.length(Some(0.4064)), "16.0");
        assert_eq!(imperial.length_change(Some(-0.0254)), "-1.0");
        assert_eq!(imperial.mass(Some(80.0)), "176.4");
        let names = |s: &Show| s.key_metrics().map(|m| m.name);
        assert!(names(&metric).contains(&"mean_propulsive_force_n_per_kg"));
        assert!(names(&imperial).contains(&"mean_propulsive_force_n"));
        assert!(names(&imperial).contains(&"peak_propulsive_power_w"));
        assert_eq!(imperial.key_metrics()[0].unit, "in");
    }

    #[test]
    fn moments_are_shown_in_the_organisations_zone() {
        // 2026-01-15 23:30:00 UTC.
        let ms = 1_768_519_800_000;
        let utc = Show::default();
        assert_eq!(utc.date_time(ms), "2026-01-15 23:30:00 UTC");
        let oslo = show(
            LengthUnit::Centimetre,
            MassUnit::Kilogram,
            ForceUnit::PerKilogram,
            "Europe/Oslo",
        );
        assert_eq!(oslo.date_time(ms), "2026-01-16 00:30:00 CET");
        assert_eq!(oslo.date(Timestamp::from_millis(ms)), "2026-01-16");
        assert!(
            oslo.chart_day(Timestamp::from_millis(ms)) > utc.chart_day(Timestamp::from_millis(ms))
        );
    }
}
