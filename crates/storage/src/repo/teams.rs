//! Teams (squads, units, clinics' groups) of an organisation.

use mhp_domain::{TeamId, TeamName, Timestamp, UserId};

use super::{Page, conflict_if_none, parse_id};
use rusqlite::types::Value;

use crate::direct::{Columns, DirectRead};
use crate::{StorageError, TenantTx};

/// A team.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Team {
    /// Its id.
    pub id: TeamId,
    /// Its name, unique in the organisation.
    pub name: TeamName,
    /// When it was created.
    pub created_at: Timestamp,
}

fn from_row<R: Columns + ?Sized>(row: &R) -> Result<Team, StorageError> {
    let id = row.text("id")?;
    let name = row.text("name")?;
    Ok(Team {
        id: parse_id(&id, "team id", TeamId::parse)?,
        name: TeamName::parse(&name).map_err(|_| StorageError::Corrupt { what: "team name" })?,
        created_at: Timestamp::from_millis(row.int("created_at_ms")?),
    })
}

/// Creates a team in the transaction's organisation.
pub async fn create(
    tx: &mut TenantTx,
    name: &TeamName,
    now: Timestamp,
) -> Result<Team, StorageError> {
    let team = Team {
        id: TeamId::new(),
        name: name.clone(),
        created_at: now,
    };
    let inserted = sqlx::query(
        "INSERT INTO teams (id, org_id, name, created_at_ms) VALUES ($1, $2, $3, $4) \
         ON CONFLICT DO NOTHING RETURNING id",
    )
    .bind(team.id.to_string())
    .bind(tx.org_key())
    .bind(team.name.as_str())
    .bind(now.as_millis())
    .fetch_optional(tx.conn())
    .await?;
    conflict_if_none(inserted, "team")?;
    Ok(team)
}

/// A team of the transaction's organisation.
pub async fn get(tx: &mut TenantTx, id: TeamId) -> Result<Team, StorageError> {
    let row = sqlx::query(GET)
        .bind(tx.org_key())
        .bind(id.to_string())
        .fetch_one(tx.conn())
        .await
        .map_err(StorageError::from_sqlx_as("team"))?;
    from_row(&row)
}

const GET: &str = "SELECT id, name, created_at_ms FROM teams \
                   WHERE org_id = $1 AND id = $2 AND archived_at_ms IS NULL";

/// [`get`] in a one-hop read.
pub fn get_direct(read: &mut DirectRead<'_>, id: TeamId) -> Result<Team, StorageError> {
    let org = Value::Text(read.org_key().to_owned());
    read.rows(GET, &[org, Value::Text(id.to_string())], |row| {
        from_row(row)
    })?
    .pop()
    .ok_or(StorageError::NotFound { entity: "team" })
}

/// The organisation's teams that are not archived, oldest first.
pub async fn list(tx: &mut TenantTx, page: Page<TeamId>) -> Result<Vec<Team>, StorageError> {
    let rows = sqlx::query(
        "SELECT id, name, created_at_ms FROM teams \
         WHERE org_id = $1 AND archived_at_ms IS NULL AND id > $2 ORDER BY id LIMIT $3",
    )
    .bind(tx.org_key())
    .bind(page.after.map(|a| a.to_string()).unwrap_or_default())
    .bind(page.capped_limit())
    .fetch_all(tx.conn())
    .await?;
    rows.iter().map(from_row).collect()
}

/// Renames a team; a name taken in the organisation is a conflict.
pub async fn rename(tx: &mut TenantTx, id: TeamId, name: &TeamName) -> Result<Team, StorageError> {
    let current = get(tx, id).await?;
    let taken = sqlx::query("SELECT id FROM teams WHERE org_id = $1 AND name = $2 AND id <> $3")
        .bind(tx.org_key())
        .bind(name.as_str())
        .bind(id.to_string())
        .fetch_optional(tx.conn())
        .await?;
    if taken.is_some() {
        return Err(StorageError::Conflict { entity: "team" });
    }
    sqlx::query("UPDATE teams SET name = $1 WHERE org_id = $2 AND id = $3")
        .bind(name.as_str())
        .bind(tx.org_key())
        .bind(id.to_string())
        .execute(tx.conn())
        .await?;
    Ok(Team {
        name: name.clone(),
        ..current
    })
}

/// Archives a team: it disappears from listings, its history stays.
pub async fn archive(tx: &mut TenantTx, id: TeamId, now: Timestamp) -> Result<(), StorageError> {
    let done = sqlx::query(
        "UPDATE teams SET archived_at_ms = $1 \
         WHERE org_id = $2 AND id = $3 AND archived_at_ms IS NULL",
    )
    .bind(now.as_millis())
    .bind(tx.org_key())
    .bind(id.to_string())
    .execute(tx.conn())
    .await?;
    if done.rows_affected() == 0 {
        return Err(StorageError::NotFound { entity: "team" });
    }
    Ok(())
}

/// Makes a user staff (coach, commander) of a team of the transaction's organisation.
pub async fn add_staff(
    tx: &mut TenantTx,
    team: TeamId,
    user: UserId,
    now: Timestamp,
) -> Result<(), StorageError> {
    sqlx::query(
        "INSERT INTO team_staff (org_id, team_id, user_id, created_at_ms) \
         VALUES ($1, $2, $3, $4) ON CONFLICT (org_id, team_id, user_id) DO NOTHING",
    )
    .bind(tx.org_key())
    .bind(team.to_string())
    .bind(user.to_string())
    .bind(now.as_millis())
    .execute(tx.conn())
    .await
    .map_err(not_found_on_fk("team"))?;
    Ok(())
}

/// The teams a user is staff of, in the transaction's organisation.
pub async fn staffed_by(tx: &mut TenantTx, user: UserId) -> Result<Vec<TeamId>, StorageError> {
    let ids: Vec<String> = sqlx::query_scalar(
        "SELECT team_id FROM team_staff WHERE org_id = $1 AND user_id = $2 ORDER BY team_id",
    )
    .bind(tx.org_key())
    .bind(user.to_string())
    .fetch_all(tx.conn())
    .await?;
    ids.iter()
        .map(|s| parse_id(s, "team id", TeamId::parse))
        .collect()
}

/// Every (team, staff member) pair of the transaction's organisation.
pub async fn staff(tx: &mut TenantTx) -> Result<Vec<(TeamId, UserId)>, StorageError> {
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT team_id, user_id FROM team_staff WHERE org_id = $1 ORDER BY team_id, user_id",
    )
    .bind(tx.org_key())
    .fetch_all(tx.conn())
    .await?;
    rows.iter()
        .map(|(t, u)| {
            Ok((
                parse_id(t, "team id", TeamId::parse)?,
                parse_id(u, "user id", UserId::parse)?,
            ))
        })
        .collect()
}

/// Maps a foreign-key violation (the referenced row is absent in this organisation) to
/// not-found, so a caller learns nothing about other tenants' ids.
pub(crate) fn not_found_on_fk(entity: &'static str) -> impl Fn(sqlx::Error) -> StorageError {
    move |e| match &e {
        sqlx::Error::Database(db) if db.is_foreign_key_violation() => {
            StorageError::NotFound { entity }
        }
        _ => StorageError::Database(e),
    }
}
