//! Teams of an organisation: squads, units, clinics' groups. Staff (coaches, commanders) reach
//! the subjects of the teams they are staff of.

use mhp_domain::{OrgScope, TeamId, TeamName, UserId};
use mhp_storage::repo::teams::{self, Team};
use mhp_storage::repo::{Page, users};
use mhp_storage::{Access, StorageError};

use crate::{App, AppError, Caller};

/// Which teams a caller sees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TeamsShown<'a> {
    /// Every team of the organisation.
    All,
    /// The teams they are staff of.
    Only(&'a [TeamId]),
    /// None (an athlete's own record reaches no team).
    None,
}

/// A page of the teams `shown`, by id.
pub async fn list(
    app: &App,
    scope: &OrgScope,
    shown: TeamsShown<'_>,
    page: Page<TeamId>,
) -> Result<Vec<Team>, AppError> {
    let mut tx = app.db.tenant(scope, Access::Read).await?;
    Ok(match shown {
        TeamsShown::All => teams::list(&mut tx, page).await?,
        // A coach's teams are a handful, paged here by id like the full list.
        TeamsShown::Only(ids) => {
            let mut ids: Vec<TeamId> = ids
                .iter()
                .copied()
                .filter(|id| page.after.is_none_or(|a| *id > a))
                .collect();
            ids.sort();
            let mut out = Vec::new();
            for id in ids.into_iter().take(page.limit.clamp(1, 500) as usize) {
                match teams::get(&mut tx, id).await {
                    Ok(t) => out.push(t),
                    // Archived since the grant was made.
                    Err(StorageError::NotFound { .. }) => {}
                    Err(e) => return Err(e.into()),
                }
            }
            out
        }
        TeamsShown::None => Vec::new(),
    })
}

/// Who is staff of which team (the settings page), as (team, member) pairs.
pub async fn staff(app: &App, scope: &OrgScope) -> Result<Vec<(TeamId, UserId)>, AppError> {
    let mut tx = app.db.tenant(scope, Access::Read).await?;
    Ok(teams::staff(&mut tx).await?)
}

/// Makes a team.
pub async fn create(
    app: &App,
    scope: &OrgScope,
    caller: &Caller,
    name: &TeamName,
) -> Result<Team, AppError> {
    let now = app.now();
    let mut tx = app.db.tenant(scope, Access::Write).await?;
    let team = teams::create(&mut tx, name, now).await?;
    caller
        .record(
            &mut tx,
            "team.create",
            "team",
            Some(team.id.to_string()),
            now,
        )
        .await?;
    tx.commit().await?;
    Ok(team)
}

/// Makes a member of the organisation staff of a team. Idempotent.
pub async fn add_staff(
    app: &App,
    scope: &OrgScope,
    caller: &Caller,
    team: TeamId,
    user: UserId,
) -> Result<(), AppError> {
    let now = app.now();
    let mut tx = app.db.tenant(scope, Access::Write).await?;
    if users::roles(&mut tx, user).await?.is_empty() {
        return Err(AppError::NotFound("member"));
    }
    teams::get(&mut tx, team).await?;
    teams::add_staff(&mut tx, team, user, now).await?;
    caller
        .record(
            &mut tx,
            "team.staff_add",
            "team",
            Some(team.to_string()),
            now,
        )
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Renames a team.
pub async fn rename(
    app: &App,
    scope: &OrgScope,
    caller: &Caller,
    team: TeamId,
    name: &TeamName,
) -> Result<Team, AppError> {
    let now = app.now();
    let mut tx = app.db.tenant(scope, Access::Write).await?;
    let renamed = teams::rename(&mut tx, team, name).await?;
    caller
        .record(&mut tx, "team.rename", "team", Some(team.to_string()), now)
        .await?;
    tx.commit().await?;
    Ok(renamed)
}

/// Archives a team (its history stays).
pub async fn archive(
    app: &App,
    scope: &OrgScope,
    caller: &Caller,
    team: TeamId,
) -> Result<(), AppError> {
    let now = app.now();
    let mut tx = app.db.tenant(scope, Access::Write).await?;
    teams::archive(&mut tx, team, now).await?;
    caller
        .record(&mut tx, "team.archive", "team", Some(team.to_string()), now)
        .await?;
    tx.commit().await?;
    Ok(())
}
