//! Users (people and devices that sign in) and their memberships in organisations.

use mhp_domain::display::{DisplayUnits, ForceUnit, LengthUnit, MassUnit};
use mhp_domain::{DisplayName, Email, OrgId, PlatformRole, Role, Timestamp, UserId};
use sqlx::Row;
use sqlx::any::AnyRow;

use super::{conflict_if_none, parse_id};
use crate::{OperatorTx, StorageError, TenantTx};

/// A user account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// Its id.
    pub id: UserId,
    /// Its e-mail address (the sign-in name).
    pub email: Email,
    /// The name shown in pages.
    pub display_name: DisplayName,
    /// The deployment-wide role, if any.
    pub platform_role: Option<PlatformRole>,
    /// Set when the user must choose a new password at next sign-in.
    pub password_change_required_at: Option<Timestamp>,
    /// When it was created.
    pub created_at: Timestamp,
    /// The units pages show them.
    pub units: DisplayUnits,
}

/// What it takes to create a user.
#[derive(Debug, Clone)]
pub struct NewUser<'a> {
    /// The sign-in name.
    pub email: &'a Email,
    /// The name shown in pages.
    pub display_name: &'a DisplayName,
    /// A PHC-format password hash, or none (SSO-only, or not yet set).
    pub password_hash: Option<&'a str>,
    /// Whether the password is a one-time secret to be replaced at first sign-in.
    pub password_change_required: bool,
    /// The deployment-wide role, if any.
    pub platform_role: Option<PlatformRole>,
}

/// A member of an organisation with their roles there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// The user.
    pub user: User,
    /// Their roles in the organisation, in a stable order.
    pub roles: Vec<Role>,
}

fn from_row(row: &AnyRow) -> Result<User, StorageError> {
    let id: String = row.try_get("id")?;
    let email: String = row.try_get("email")?;
    let display_name: String = row.try_get("display_name")?;
    let platform_role: Option<String> = row.try_get("platform_role")?;
    let change: Option<i64> = row.try_get("password_change_required_at_ms")?;
    Ok(User {
        id: parse_id(&id, "user id", UserId::parse)?,
        email: Email::from_stored(email),
        display_name: DisplayName::parse(&display_name).map_err(|_| StorageError::Corrupt {
            what: "display name",
        })?,
        platform_role: platform_role
            .map(|r| PlatformRole::parse(&r))
            .transpose()
            .map_err(|_| StorageError::Corrupt {
                what: "platform role",
            })?,
        password_change_required_at: change.map(Timestamp::from_millis),
        created_at: Timestamp::from_millis(row.try_get("created_at_ms")?),
        units: units_from_row(row)?,
    })
}

fn units_from_row(row: &AnyRow) -> Result<DisplayUnits, StorageError> {
    let corrupt = |_| StorageError::Corrupt {
        what: "display units",
    };
    let length: String = row.try_get("length_unit")?;
    let mass: String = row.try_get("mass_unit")?;
    let force: String = row.try_get("force_unit")?;
    Ok(DisplayUnits {
        length: LengthUnit::parse(&length).map_err(corrupt)?,
        mass: MassUnit::parse(&mass).map_err(corrupt)?,
        force: ForceUnit::parse(&force).map_err(corrupt)?,
    })
}

/// Creates a user (operator function: sign-up and bootstrap; invitations come later).
pub async fn create(
    tx: &mut OperatorTx,
    new: &NewUser<'_>,
    now: Timestamp,
) -> Result<User, StorageError> {
    let user = User {
        id: UserId::new(),
        email: new.email.clone(),
        display_name: new.display_name.clone(),
        platform_role: new.platform_role,
        password_change_required_at: new.password_change_required.then_some(now),
        created_at: now,
        units: DisplayUnits::default(),
    };
    let inserted = sqlx::query(
        "INSERT INTO users (id, email, display_name, password_hash, \
         password_change_required_at_ms, platform_role, created_at_ms) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING RETURNING id",
    )
    .bind(user.id.to_string())
    .bind(user.email.as_str())
    .bind(user.display_name.as_str())
    .bind(new.password_hash)
    .bind(user.password_change_required_at.map(Timestamp::as_millis))
    .bind(user.platform_role.map(PlatformRole::as_str))
    .bind(now.as_millis())
    .fetch_optional(tx.conn())
    .await?;
    conflict_if_none(inserted, "user")?;
    Ok(user)
}

/// How many platform operators exist (operator function).
pub async fn count_platform_operators(tx: &mut OperatorTx) -> Result<i64, StorageError> {
    Ok(sqlx::query_scalar(
        "SELECT count(*) FROM users WHERE platform_role = 'operator' AND disabled_at_ms IS NULL",
    )
    .fetch_one(tx.conn())
    .await?)
}

/// Finds an enabled user by e-mail and returns it with its password hash (operator function,
/// for sign-in).
pub async fn find_by_email(
    tx: &mut OperatorTx,
    email: &Email,
) -> Result<Option<(User, Option<String>)>, StorageError> {
    let row = sqlx::query(
        "SELECT id, email, display_name, platform_role, password_change_required_at_ms, \
         created_at_ms, length_unit, mass_unit, force_unit, password_hash FROM users \
         WHERE email = $1 AND disabled_at_ms IS NULL",
    )
    .bind(email.as_str())
    .fetch_optional(tx.conn())
    .await?;
    row.map(|r| Ok((from_row(&r)?, r.try_get("password_hash")?)))
        .transpose()
}

/// An enabled user by id (operator function, for sessions).
pub async fn get_as_operator(tx: &mut OperatorTx, id: UserId) -> Result<User, StorageError> {
    let row = sqlx::query(
        "SELECT id, email, display_name, platform_role, password_change_required_at_ms, \
         created_at_ms, length_unit, mass_unit, force_unit FROM users \
         WHERE id = $1 AND disabled_at_ms IS NULL",
    )
    .bind(id.to_string())
    .fetch_one(tx.conn())
    .await
    .map_err(StorageError::from_sqlx_as("user"))?;
    from_row(&row)
}

/// Replaces a user's password hash, e.g. when sign-in finds it hashed with older parameters
/// (operator function).
pub async fn set_password_hash(
    tx: &mut OperatorTx,
    id: UserId,
    hash: &str,
) -> Result<(), StorageError> {
    tx.credentials_changed();
    sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
        .bind(hash)
        .bind(id.to_string())
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// Sets the units pages show a user (operator function: a person's own account).
pub async fn set_units(
    tx: &mut OperatorTx,
    id: UserId,
    units: DisplayUnits,
) -> Result<(), StorageError> {
    tx.credentials_changed();
    sqlx::query("UPDATE users SET length_unit = $1, mass_unit = $2, force_unit = $3 WHERE id = $4")
        .bind(units.length.as_str())
        .bind(units.mass.as_str())
        .bind(units.force.as_str())
        .bind(id.to_string())
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// Sets a new password chosen by the user and lifts any demand to change it (operator function).
pub async fn change_password(
    tx: &mut OperatorTx,
    id: UserId,
    hash: &str,
) -> Result<(), StorageError> {
    tx.credentials_changed();
    sqlx::query(
        "UPDATE users SET password_hash = $1, password_change_required_at_ms = NULL WHERE id = $2",
    )
    .bind(hash)
    .bind(id.to_string())
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Grants a role in an organisation (operator function, for bootstrap and provisioning).
pub async fn grant_as_operator(
    tx: &mut OperatorTx,
    org: OrgId,
    user: UserId,
    role: Role,
    now: Timestamp,
) -> Result<(), StorageError> {
    insert_membership(tx.conn(), org, user, role, now).await
}

/// Grants a role in the transaction's organisation. Granting a role held already is a no-op.
pub async fn grant(
    tx: &mut TenantTx,
    user: UserId,
    role: Role,
    now: Timestamp,
) -> Result<(), StorageError> {
    let org = tx.org();
    insert_membership(tx.conn(), org, user, role, now).await
}

async fn insert_membership(
    conn: &mut sqlx::AnyConnection,
    org: OrgId,
    user: UserId,
    role: Role,
    now: Timestamp,
) -> Result<(), StorageError> {
    sqlx::query(
        "INSERT INTO memberships (org_id, user_id, role, created_at_ms) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (org_id, user_id, role) DO NOTHING",
    )
    .bind(org.to_string())
    .bind(user.to_string())
    .bind(role.as_str())
    .bind(now.as_millis())
    .execute(conn)
    .await
    .map_err(StorageError::from_sqlx_as("membership"))?;
    Ok(())
}

/// Replaces a member's roles in the transaction's organisation; an empty list removes them.
/// Not-found when the user is no member here.
pub async fn set_roles(
    tx: &mut TenantTx,
    user: UserId,
    new_roles: &[Role],
    now: Timestamp,
) -> Result<(), StorageError> {
    if roles(tx, user).await?.is_empty() {
        return Err(StorageError::NotFound { entity: "member" });
    }
    sqlx::query("DELETE FROM memberships WHERE org_id = $1 AND user_id = $2")
        .bind(tx.org_key())
        .bind(user.to_string())
        .execute(tx.conn())
        .await?;
    let org = tx.org();
    for role in new_roles {
        insert_membership(tx.conn(), org, user, *role, now).await?;
    }
    Ok(())
}

/// Replaces a user's roles in an organisation (operator function, for single sign-on, whose
/// provider decides the roles); the user becomes a member if they were not one.
pub async fn set_roles_as_operator(
    tx: &mut OperatorTx,
    org: OrgId,
    user: UserId,
    new_roles: &[Role],
    now: Timestamp,
) -> Result<(), StorageError> {
    sqlx::query("DELETE FROM memberships WHERE org_id = $1 AND user_id = $2")
        .bind(org.to_string())
        .bind(user.to_string())
        .execute(tx.conn())
        .await?;
    for role in new_roles {
        insert_membership(tx.conn(), org, user, *role, now).await?;
    }
    Ok(())
}

/// The organisations a person belongs to, with their roles there, by organisation name: where
/// the web application may take them after sign-in (operator function: no scope exists yet).
pub async fn memberships_as_operator(
    tx: &mut OperatorTx,
    user: UserId,
) -> Result<Vec<(OrgId, String, Vec<Role>)>, StorageError> {
    let rows = sqlx::query(
        "SELECT m.org_id, o.name, m.role FROM memberships m JOIN organizations o ON o.id = m.org_id \
         WHERE m.user_id = $1 ORDER BY o.name, m.org_id, m.role",
    )
    .bind(user.to_string())
    .fetch_all(tx.conn())
    .await?;
    let mut out: Vec<(OrgId, String, Vec<Role>)> = Vec::new();
    for row in &rows {
        let org: String = row.try_get("org_id")?;
        let org = parse_id(&org, "org id", OrgId::parse)?;
        let name: String = row.try_get("name")?;
        let role: String = row.try_get("role")?;
        let role = Role::parse(&role).map_err(|_| StorageError::Corrupt { what: "role" })?;
        match out.last_mut() {
            Some((o, _, roles)) if *o == org => roles.push(role),
            _ => out.push((org, name, vec![role])),
        }
    }
    Ok(out)
}

/// The user's roles in the transaction's organisation (empty when not a member).
pub async fn roles(tx: &mut TenantTx, user: UserId) -> Result<Vec<Role>, StorageError> {
    let names: Vec<String> = sqlx::query_scalar(
        "SELECT role FROM memberships WHERE org_id = $1 AND user_id = $2 ORDER BY role",
    )
    .bind(tx.org_key())
    .bind(user.to_string())
    .fetch_all(tx.conn())
    .await?;
    let mut roles = names
        .iter()
        .map(|n| Role::parse(n).map_err(|_| StorageError::Corrupt { what: "role" }))
        .collect::<Result<Vec<_>, _>>()?;
    roles.sort();
    Ok(roles)
}

/// The e-mail addresses of an organisation's members, for sign-in before any scope exists
/// (single sign-on compares a new address with them).
pub async fn member_emails_as_operator(
    tx: &mut OperatorTx,
    org: OrgId,
) -> Result<Vec<Email>, StorageError> {
    let emails: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT u.email FROM memberships m JOIN users u ON u.id = m.user_id \
         WHERE m.org_id = $1 AND u.disabled_at_ms IS NULL ORDER BY u.email",
    )
    .bind(org.to_string())
    .fetch_all(tx.conn())
    .await?;
    Ok(emails.into_iter().map(Email::from_stored).collect())
}

/// The organisation's members with their roles, by user id.
pub async fn members(tx: &mut TenantTx) -> Result<Vec<Member>, StorageError> {
    let rows = sqlx::query(
        "SELECT u.id, u.email, u.display_name, u.platform_role, \
         u.password_change_required_at_ms, u.created_at_ms, u.length_unit, u.mass_unit, \
         u.force_unit, m.role \
         FROM memberships m JOIN users u ON u.id = m.user_id \
         WHERE m.org_id = $1 AND u.disabled_at_ms IS NULL ORDER BY u.id, m.role",
    )
    .bind(tx.org_key())
    .fetch_all(tx.conn())
    .await?;
    let mut members: Vec<Member> = Vec::new();
    for row in &rows {
        let user = from_row(row)?;
        let role_name: String = row.try_get("role")?;
        let role = Role::parse(&role_name).map_err(|_| StorageError::Corrupt { what: "role" })?;
        match members.last_mut() {
            Some(last) if last.user.id == user.id => last.roles.push(role),
            _ => members.push(Member {
                user,
                roles: vec![role],
            }),
        }
    }
    for m in &mut members {
        m.roles.sort();
    }
    Ok(members)
}
