//! Organisations.

use mhp_domain::display::TimeZone;
use mhp_domain::{OrgId, OrgName, Timestamp};
use sqlx::Row;
use sqlx::any::AnyRow;

use super::{conflict_if_none, parse_id};
use crate::{OperatorTx, StorageError, TenantTx};

/// An organisation (tenant).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Organization {
    /// Its id.
    pub id: OrgId,
    /// Its name.
    pub name: OrgName,
    /// When it was created.
    pub created_at: Timestamp,
    /// The time zone its pages show dates in.
    pub time_zone: TimeZone,
}

fn from_row(row: &AnyRow) -> Result<Organization, StorageError> {
    let id: String = row.try_get("id")?;
    let name: String = row.try_get("name")?;
    Ok(Organization {
        id: parse_id(&id, "organisation id", OrgId::parse)?,
        name: OrgName::parse(&name).map_err(|_| StorageError::Corrupt {
            what: "organisation name",
        })?,
        created_at: Timestamp::from_millis(row.try_get("created_at_ms")?),
        time_zone: TimeZone::parse(&row.try_get::<String, _>("time_zone")?).map_err(|_| {
            StorageError::Corrupt {
                what: "organisation time zone",
            }
        })?,
    })
}

/// Creates an organisation (operator function).
pub async fn create(
    tx: &mut OperatorTx,
    name: &OrgName,
    now: Timestamp,
) -> Result<Organization, StorageError> {
    let org = Organization {
        id: OrgId::new(),
        name: name.clone(),
        created_at: now,
        time_zone: TimeZone::default(),
    };
    let inserted = sqlx::query(
        "INSERT INTO organizations (id, name, created_at_ms) VALUES ($1, $2, $3) \
         ON CONFLICT DO NOTHING RETURNING id",
    )
    .bind(org.id.to_string())
    .bind(org.name.as_str())
    .bind(now.as_millis())
    .fetch_optional(tx.conn())
    .await?;
    conflict_if_none(inserted, "organisation")?;
    Ok(org)
}

/// Every organisation that is not archived, oldest first (operator function).
pub async fn list_all(tx: &mut OperatorTx) -> Result<Vec<Organization>, StorageError> {
    let rows = sqlx::query(
        "SELECT id, name, created_at_ms, time_zone FROM organizations \
         WHERE archived_at_ms IS NULL ORDER BY id",
    )
    .fetch_all(tx.conn())
    .await?;
    rows.iter().map(from_row).collect()
}

/// An organisation by id, unless archived (operator function: pages shown before any scope,
/// such as an invitation's).
pub async fn get_as_operator(
    tx: &mut OperatorTx,
    org: OrgId,
) -> Result<Option<Organization>, StorageError> {
    let row = sqlx::query(
        "SELECT id, name, created_at_ms, time_zone FROM organizations \
         WHERE id = $1 AND archived_at_ms IS NULL",
    )
    .bind(org.to_string())
    .fetch_optional(tx.conn())
    .await?;
    row.as_ref().map(from_row).transpose()
}

/// The organisation the transaction serves.
pub async fn current(tx: &mut TenantTx) -> Result<Organization, StorageError> {
    let row =
        sqlx::query("SELECT id, name, created_at_ms, time_zone FROM organizations WHERE id = $1")
            .bind(tx.org_key())
            .fetch_one(tx.conn())
            .await
            .map_err(StorageError::from_sqlx_as("organisation"))?;
    from_row(&row)
}

/// Sets the time zone the organisation's pages show dates in.
pub async fn set_time_zone(tx: &mut TenantTx, zone: TimeZone) -> Result<(), StorageError> {
    sqlx::query("UPDATE organizations SET time_zone = $1 WHERE id = $2")
        .bind(zone.name())
        .bind(tx.org_key())
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// Renames the transaction's organisation; a name another organisation holds is a conflict.
pub async fn rename(tx: &mut TenantTx, name: &OrgName) -> Result<Organization, StorageError> {
    let current = current(tx).await?;
    let done = sqlx::query(
        "UPDATE organizations SET name = $1 WHERE id = $2 \
         AND NOT EXISTS (SELECT 1 FROM organizations o WHERE o.name = $1 AND o.id <> $2)",
    )
    .bind(name.as_str())
    .bind(tx.org_key())
    .execute(tx.conn())
    .await
    // Row-level security hides other organisations from the check: the unique index decides.
    .map_err(StorageError::from_sqlx_as("organisation"))?;
    if done.rows_affected() == 0 {
        return Err(StorageError::Conflict {
            entity: "organisation",
        });
    }
    Ok(Organization {
        name: name.clone(),
        ..current
    })
}
