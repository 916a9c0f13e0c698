//! `mhp migrate` and `mhp admin bootstrap`.

use std::io::Read as _;

use anyhow::Context as _;
use clap::Args;
use mhp_auth::password;
use mhp_domain::{
    Clock as _, DisplayName, Email, OrgName, PlatformRole, Role, Secret, SystemClock,
};
use mhp_storage::repo::audit::{AuditEvent, Outcome};
use mhp_storage::repo::users::NewUser;
use mhp_storage::repo::{audit, orgs, users};
use mhp_storage::{Access, Db, migrate};

use crate::serve::create_private_dir;
use crate::settings::{LoadNotes, Settings};
use crate::{Failure, logging};

/// `mhp admin bootstrap`
#[derive(Debug, Args)]
pub struct BootstrapArgs {
    /// Name of the first organisation.
    #[arg(long, value_name = "NAME")]
    org: String,
    /// E-mail address of the first platform operator (also the organisation's admin).
    #[arg(long, value_name = "EMAIL")]
    email: String,
    /// Display name of the operator.
    #[arg(long, value_name = "NAME", default_value = "Platform operator")]
    name: String,
    /// Read the password from standard input instead of printing a one-time secret.
    #[arg(long)]
    password_stdin: bool,
}

pub async fn migrate(settings: Settings, notes: LoadNotes) -> Result<(), Failure> {
    logging::init(&settings.log, &notes);
    if settings.database.url.is_none() {
        create_private_dir(&settings.data_dir)?;
    }
    let db = Db::connect(&settings.database_url(), &settings.db_options())
        .await
        .context("cannot open the database")?;
    let applied = migrate::run(&db).await.context("migration failed")?;
    let status = migrate::status(&db)
        .await
        .context("cannot read the schema version")?;
    if applied.is_empty() {
        println!("database is up to date ({} migrations)", status.applied);
    } else {
        println!(
            "applied {} migration(s): {}; database is up to date ({} migrations)",
            applied.len(),
            applied
                .iter()
                .map(i64::to_string)
                .collect::<Vec<_>>()
                .join(", "),
            status.applied
        );
    }
    db.close().await;
    Ok(())
}

pub async fn bootstrap(
    settings: Settings,
    notes: LoadNotes,
    args: BootstrapArgs,
) -> Result<(), Failure> {
    // Validate every input before touching anything.
    let org_name = OrgName::parse(&args.org).map_err(|e| Failure::Invalid(format!("--org {e}")))?;
    let email = Email::parse(&args.email).map_err(|e| Failure::Invalid(format!("--email {e}")))?;
    let display_name =
        DisplayName::parse(&args.name).map_err(|e| Failure::Invalid(format!("--name {e}")))?;
    let (secret, one_time) = if args.password_stdin {
        (read_password_stdin()?, false)
    } else {
        (password::one_time_secret(), true)
    };
    password::check_policy(secret.expose()).map_err(|e| Failure::Invalid(e.to_string()))?;
    let hash = password::hash(&secret).map_err(|e| Failure::Runtime(e.into()))?;

    logging::init(&settings.log, &notes);
    if settings.database.url.is_none() {
        create_private_dir(&settings.data_dir)?;
    }
    let db = crate::serve::open_database(&settings).await?;
    let now = SystemClock.now();

    let mut tx = db
        .operator(Access::Write)
        .await
        .context("cannot start a transaction")?;
    let operators = users::count_platform_operators(&mut tx)
        .await
        .context("cannot read users")?;
    if operators > 0 {
        return Err(Failure::Runtime(anyhow::anyhow!(
            "already bootstrapped: a platform operator exists; nothing was changed"
        )));
    }
    let org = orgs::create(&mut tx, &org_name, now)
        .await
        .context("cannot create the organisation")?;
    let user = users::create(
        &mut tx,
        &NewUser {
            email: &email,
            display_name: &display_name,
            password_hash: Some(&hash),
            password_change_required: one_time,
            platform_role: Some(PlatformRole::Operator),
        },
        now,
    )
    .await
    .context("cannot create the operator")?;
    users::grant_as_operator(&mut tx, org.id, user.id, Role::OrgAdmin, now)
        .await
        .context("cannot grant the organisation admin role")?;
    for (org_id, action, resource_type, resource_id) in [
        (None, "platform.bootstrap", "user", user.id.to_string()),
        (
            Some(org.id),
            "organisation.create",
            "organisation",
            org.id.to_string(),
        ),
        (
            Some(org.id),
            "membership.grant",
            "user",
            user.id.to_string(),
        ),
    ] {
        let event = AuditEvent {
            actor: "cli".to_owned(),
            action,
            resource_type,
            resource_id: Some(resource_id),
            outcome: Outcome::Success,
            request_id: None,
            source_ip: None,
            user_agent: None,
        };
        audit::append_as_operator(&mut tx, org_id, &event, now)
            .await
            .context("cannot write the audit event")?;
    }
    tx.commit().await.context("cannot commit")?;
    db.close().await;

    println!("organisation: {} ({})", org.name, org.id);
    println!(
        "platform operator: {} ({}), org_admin of {}",
        user.email, user.id, org.name
    );
    if one_time {
        println!(
            "one-time password (shown once; it must be changed at first sign-in): {}",
            secret.expose()
        );
    }
    Ok(())
}

/// Reads the password from standard input: everything up to end of input, without the final
/// line break. At most 4 KiB, so a mistaken pipe cannot fill memory.
fn read_password_stdin() -> Result<Secret<String>, Failure> {
    let mut buf = Vec::new();
    std::io::stdin()
        .take(4096)
        .read_to_end(&mut buf)
        .context("cannot read the password from standard input")?;
    let text = String::from_utf8(buf)
        .map_err(|_| Failure::Invalid("the password is not valid UTF-8".into()))?;
    let trimmed = text
        .strip_suffix("\r\n")
        .or_else(|| text.strip_suffix('\n'))
        .unwrap_or(&text)
        .to_owned();
    Ok(Secret::new(trimmed))
}
