//! `mhp migrate` and `mhp admin bootstrap`.

use std::io::Read as _;

use anyhow::Context as _;
use clap::Args;
use mhp_auth::password;
use mhp_domain::{
    Clock as _, DisplayName, Email, OrgName, PlatformRole, Role, Secret, SystemClock,
};
use mhp_storage::repo::audit::AuditEvent;
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

/// `mhp admin org-create --name NAME`
pub async fn org_create(settings: Settings, notes: LoadNotes, name: &str) -> Result<(), Failure> {
    let name = OrgName::parse(name).map_err(|e| Failure::Invalid(format!("--name {e}")))?;
    logging::init(&settings.log, &notes);
    let db = crate::serve::open_database(&settings).await?;
    let now = SystemClock.now();
    let mut tx = db
        .operator(Access::Write)
        .await
        .context("cannot start a transaction")?;
    let org = orgs::create(&mut tx, &name, now)
        .await
        .map_err(|e| Failure::Runtime(anyhow::anyhow!("cannot create the organisation: {e}")))?;
    let event = AuditEvent::outside_request(
        "cli",
        "organisation.create",
        "organisation",
        Some(org.id.to_string()),
    );
    audit::append_as_operator(&mut tx, Some(org.id), &event, now)
        .await
        .context("cannot write the audit event")?;
    tx.commit().await.context("cannot commit")?;
    db.close().await;
    println!("organisation: {} ({})", org.name, org.id);
    Ok(())
}

/// `mhp admin api-key`
#[derive(Debug, clap::Subcommand)]
pub enum ApiKeyCommand {
    /// Issue a key; its token is printed once.
    Create {
        /// The organisation's id.
        #[arg(long, value_name = "ORG_ID")]
        org: String,
        /// The role the key acts with (device for force plates).
        #[arg(long, value_name = "ROLE")]
        role: String,
        /// What the key is for.
        #[arg(long, value_name = "NAME")]
        name: String,
        /// Days until it expires (1 to 730).
        #[arg(long, value_name = "DAYS", default_value_t = 90)]
        expires_days: u32,
    },
    /// Revoke a key by its public id.
    Revoke {
        /// The organisation's id.
        #[arg(long, value_name = "ORG_ID")]
        org: String,
        /// The key's public id.
        #[arg(long, value_name = "KEY_ID")]
        id: String,
    },
}

/// Issues an API key from the command line, with its audit event, in the caller's
/// transaction; returns the stored key and its token (to be shown once).
pub async fn issue_api_key(
    tx: &mut mhp_storage::TenantTx,
    role: Role,
    name: &str,
    expires_at: mhp_domain::Timestamp,
    now: mhp_domain::Timestamp,
) -> Result<
    (
        mhp_storage::repo::api_keys::ApiKey,
        mhp_domain::Secret<String>,
    ),
    Failure,
> {
    use mhp_auth::events::{Actor, AuthEvent};
    use mhp_storage::repo::api_keys::{self, NewApiKey};
    let minted = mhp_auth::api_key::mint();
    let key = api_keys::create(
        tx,
        &NewApiKey {
            id: &minted.id,
            name,
            role,
            secret_sha256: &minted.secret_sha256,
            created_by: "cli",
            expires_at,
        },
        now,
    )
    .await
    .context("cannot store the key")?;
    let event = AuthEvent::ApiKeyIssued {
        key_id: key.id.clone(),
        role,
    };
    mhp_server::security::record_in(
        tx,
        &Actor::Cli,
        &event,
        &mhp_server::authn::RequestMeta::default(),
        now,
    )
    .await
    .context("cannot write the audit event")?;
    Ok((key, minted.token))
}

pub async fn api_key(
    settings: Settings,
    notes: LoadNotes,
    command: ApiKeyCommand,
) -> Result<(), Failure> {
    use mhp_auth::events::{Actor, AuthEvent};
    use mhp_server::authn::RequestMeta;
    use mhp_server::security;
    use mhp_storage::repo::api_keys;

    // Validate everything before touching the database.
    enum Plan {
        Create {
            role: Role,
            name: mhp_domain::KeyName,
            days: u32,
        },
        Revoke {
            id: String,
        },
    }
    let (org_arg, plan) = match command {
        ApiKeyCommand::Create {
            org,
            role,
            name,
            expires_days,
        } => {
            let role = Role::parse(&role).map_err(|e| Failure::Invalid(format!("--role: {e}")))?;
            let name = mhp_domain::KeyName::parse(&name)
                .map_err(|e| Failure::Invalid(format!("--name {e}")))?;
            if !(1..=730).contains(&expires_days) {
                return Err(Failure::Invalid(
                    "--expires-days must be between 1 and 730".into(),
                ));
            }
            let plan = Plan::Create {
                role,
                name,
                days: expires_days,
            };
            (org, plan)
        }
        ApiKeyCommand::Revoke { org, id } => (org, Plan::Revoke { id }),
    };
    let org =
        mhp_domain::OrgId::parse(&org_arg).map_err(|e| Failure::Invalid(format!("--org: {e}")))?;
    let scope = mhp_domain::OrgScope::for_command_line(org);

    logging::init(&settings.log, &notes);
    let db = crate::serve::open_database(&settings).await?;
    let now = SystemClock.now();
    let meta = RequestMeta::default();
    let mut op = db
        .operator(Access::Read)
        .await
        .context("cannot start a transaction")?;
    let known = orgs::list_all(&mut op)
        .await
        .context("cannot read organisations")?;
    drop(op);
    if !known.iter().any(|o| o.id == org) {
        return Err(Failure::Runtime(anyhow::anyhow!(
            "no organisation with id {org}"
        )));
    }
    let mut tx = db
        .tenant(&scope, Access::Write)
        .await
        .context("cannot start a transaction")?;
    match plan {
        Plan::Create { role, name, days } => {
            let expires_at =
                mhp_domain::Timestamp::from_millis(now.as_millis() + i64::from(days) * 86_400_000);
            let (key, token) = issue_api_key(&mut tx, role, name.as_str(), expires_at, now).await?;
            tx.commit().await.context("cannot commit")?;
            println!(
                "api key {} ({}), role {}, expires in {days} days",
                key.id, key.name, role
            );
            println!("token (shown once): {}", token.expose());
        }
        Plan::Revoke { id } => {
            api_keys::revoke(&mut tx, &id, now)
                .await
                .map_err(|e| Failure::Runtime(anyhow::anyhow!("cannot revoke {id}: {e}")))?;
            let event = AuthEvent::ApiKeyRevoked { key_id: id.clone() };
            security::record_in(&mut tx, &Actor::Cli, &event, &meta, now)
                .await
                .context("cannot write the audit event")?;
            tx.commit().await.context("cannot commit")?;
            println!("api key {id} revoked");
        }
    }
    db.close().await;
    Ok(())
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
        let event = AuditEvent::outside_request("cli", action, resource_type, Some(resource_id));
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

/// `mhp admin sso-recheck`: every proven SSO domain looked up again now.
pub async fn sso_recheck(settings: Settings, notes: LoadNotes) -> Result<(), Failure> {
    logging::init(&settings.log, &notes);
    let state = crate::serve::open_state(&settings).await?;
    let prover = state.identity.domain_prover.clone().ok_or_else(|| {
        Failure::Runtime(anyhow::anyhow!(
            "the DNS resolver could not be set up (egress.dns_server, /etc/resolv.conf)"
        ))
    })?;
    let report = mhp_app::sso_domains::recheck(&state.app, &prover)
        .await
        .map_err(|e| Failure::Runtime(anyhow::anyhow!("{e}")))?;
    println!(
        "{} proven domain(s) checked; {} withdrawn; {} without an answer from DNS (kept)",
        report.checked,
        report.withdrawn.len(),
        report.unanswered
    );
    for (org, domain) in &report.withdrawn {
        println!("withdrawn: {domain} (organisation {org}): its TXT record is no longer published");
    }
    state.app.db.close().await;
    Ok(())
}
