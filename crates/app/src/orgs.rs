//! The organisation itself: its name and the time zone its pages show dates in, changed by
//! its administrators.

use mhp_domain::display::TimeZone;
use mhp_domain::{OrgName, OrgScope};
use mhp_storage::Access;
use mhp_storage::repo::orgs::{self, Organization};

use crate::{App, AppError, Caller};

/// A change to the organisation: each part optional, unchanged when absent.
#[derive(Debug, Clone, Default)]
pub struct OrgChange<'a> {
    /// A new name.
    pub name: Option<&'a str>,
    /// A new time zone (an IANA name such as `Europe/Oslo`).
    pub time_zone: Option<&'a str>,
}

/// The organisation of `scope`.
pub async fn current(app: &App, scope: &OrgScope) -> Result<Organization, AppError> {
    let mut tx = app.db.tenant(scope, Access::Read).await?;
    Ok(orgs::current(&mut tx).await?)
}

/// Applies `change` in one transaction, each part audited with it (`organisation.rename`,
/// `organisation.time_zone`); both parts are checked before anything is written.
pub async fn update(
    app: &App,
    scope: &OrgScope,
    caller: &Caller,
    change: &OrgChange<'_>,
) -> Result<Organization, AppError> {
    let name = change
        .name
        .map(OrgName::parse)
        .transpose()
        .map_err(|e| AppError::malformed(format!("name {e}")))?;
    let zone = change
        .time_zone
        .map(|z| TimeZone::parse(z.trim()))
        .transpose()
        .map_err(|e| AppError::malformed(e.to_string()))?;
    if name.is_none() && zone.is_none() {
        return Err(AppError::malformed("name or time_zone is required"));
    }
    let now = app.now();
    let mut tx = app.db.tenant(scope, Access::Write).await?;
    let org_id = Some(scope.org().to_string());
    if let Some(name) = &name {
        orgs::rename(&mut tx, name).await?;
        caller
            .record(
                &mut tx,
                "organisation.rename",
                "organisation",
                org_id.clone(),
                now,
            )
            .await?;
    }
    if let Some(zone) = zone {
        orgs::set_time_zone(&mut tx, zone).await?;
        caller
            .record(
                &mut tx,
                "organisation.time_zone",
                "organisation",
                org_id,
                now,
            )
            .await?;
    }
    let org = orgs::current(&mut tx).await?;
    tx.commit().await?;
    Ok(org)
}
