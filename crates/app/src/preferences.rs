//! The units a person sees values in. Values are stored SI whatever is chosen here; the choice
//! changes only what pages show (the organisation's time zone is in [`crate::orgs`]).

use mhp_domain::UserId;
use mhp_domain::display::{DisplayUnits, ForceUnit, LengthUnit, MassUnit};
use mhp_storage::Access;
use mhp_storage::repo::users;

use crate::{App, AppError};

/// A units choice as forms and the API send it: each code optional, unchanged when absent.
#[derive(Debug, Clone, Default)]
pub struct UnitsChange<'a> {
    /// `cm` or `in`.
    pub length: Option<&'a str>,
    /// `kg` or `lb`.
    pub mass: Option<&'a str>,
    /// `n` or `n_per_kg`.
    pub force: Option<&'a str>,
}

impl UnitsChange<'_> {
    /// `current` with this change applied, or which field is wrong.
    pub fn apply(&self, current: DisplayUnits) -> Result<DisplayUnits, AppError> {
        let bad = |e: mhp_domain::display::UnitError| AppError::malformed(e.to_string());
        Ok(DisplayUnits {
            length: self
                .length
                .map(LengthUnit::parse)
                .transpose()
                .map_err(bad)?
                .unwrap_or(current.length),
            mass: self
                .mass
                .map(MassUnit::parse)
                .transpose()
                .map_err(bad)?
                .unwrap_or(current.mass),
            force: self
                .force
                .map(ForceUnit::parse)
                .transpose()
                .map_err(bad)?
                .unwrap_or(current.force),
        })
    }
}

/// Changes the units a person sees (their own account only), and returns them.
pub async fn set_units(
    app: &App,
    user: UserId,
    change: &UnitsChange<'_>,
) -> Result<DisplayUnits, AppError> {
    let mut tx = app.db.operator(Access::Write).await?;
    let current = users::get_as_operator(&mut tx, user).await?;
    let units = change.apply(current.units)?;
    users::set_units(&mut tx, user, units).await?;
    tx.commit().await?;
    Ok(units)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_keeps_what_it_does_not_name_and_refuses_strangers() {
        let current = DisplayUnits::default();
        let changed = UnitsChange {
            length: Some("in"),
            ..UnitsChange::default()
        }
        .apply(current)
        .unwrap();
        assert_eq!(changed.length, LengthUnit::Inch);
        assert_eq!(changed.mass, current.mass);
        assert_eq!(changed.force, current.force);
        let e = UnitsChange {
            mass: Some("stone"),
            ..UnitsChange::default()
        }
        .apply(current)
        .unwrap_err();
        assert!(e.to_string().contains("mass unit"), "{e}");
    }
}
