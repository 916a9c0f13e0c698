//! `mhp backup`: backups of the system of record and the object store, and of the key store
//! apart; their verification, restore, retention and the restore drill
//! (`mhp_app::backup`, `docs/design/backup.md`).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use clap::Subcommand;
use mhp_app::backup::{self, Backups, Kind, RestoreTarget, Retention};
use mhp_domain::{Clock as _, SystemClock};
use mhp_storage::repo::backups::BackupRun;
use serde_json::json;

use crate::Failure;
use crate::root::RootUse;
use crate::settings::{LoadNotes, Settings};

/// `mhp backup …`
#[derive(Debug, Subcommand)]
pub enum BackupCommand {
    /// Back up the system of record and every object now (or, with --key-store, the key
    /// store, to its own destination). Prints the manifest's summary as JSON.
    Create {
        /// Back up the key store instead (to backup.keys_to).
        #[arg(long)]
        key_store: bool,
    },
    /// The complete backups in the destination, oldest first, one JSON object a line.
    List {
        /// The key store's backups.
        #[arg(long)]
        key_store: bool,
    },
    /// Check a backup end to end (manifest MAC and signature, every part and object opened
    /// and matched against its digest) without restoring it. Exit 1 when it does not verify.
    Verify {
        /// The backup's id.
        id: String,
        /// It is a key-store backup.
        #[arg(long)]
        key_store: bool,
    },
    /// Restore a backup into the (empty) data directory: the SQLite database and the objects;
    /// with --key-store, the key store's file. The restored rows, audit chains and digests are
    /// checked before it reports success.
    Restore {
        /// The backup's id.
        id: String,
        /// It is a key-store backup.
        #[arg(long)]
        key_store: bool,
    },
    /// Remove the backups the retention (backup.daily, weekly, monthly) does not keep, and
    /// blobs no kept backup lists.
    Prune {
        /// The key store's backups.
        #[arg(long)]
        key_store: bool,
    },
    /// Restore the newest backup (and the newest key-store backup) into a scratch directory,
    /// verify its audit chain, digests and rows, start a server on it until ready, and print
    /// JSON with the RTO (seconds to ready) and RPO (age of the newest restored write).
    Drill,
}

fn kind(key_store: bool) -> Kind {
    if key_store {
        Kind::KeyStore
    } else {
        Kind::Data
    }
}

fn runtime(e: impl std::fmt::Display) -> Failure {
    Failure::Runtime(anyhow::anyhow!("{e}"))
}

/// Backups in the configured destination, with the installation's key provider and, for data
/// backups, its root (from the key store). Key-store backups need only the provider: they are
/// what a lost key store is restored from.
async fn backups(settings: &Settings, keys_dest: bool) -> Result<(Backups, String), Failure> {
    let (provider, roots) = if keys_dest {
        let env = crate::cloud::process_env();
        (crate::cloud::master_provider(settings, &env, false)?, None)
    } else {
        let file = crate::root::read_file(settings)?;
        let (keys, held) = crate::root::open(settings, RootUse::Existing, file).await?;
        (keys.provider().clone(), Some(Arc::new(held.root.roots)))
    };
    backups_with(settings, keys_dest, provider, roots).await
}

/// Backups in the destination `keys_dest` says, with the key provider and root given.
async fn backups_with(
    settings: &Settings,
    keys_dest: bool,
    provider: Arc<dyn mhp_crypto::envelope::MasterKeyProvider>,
    roots: Option<Arc<mhp_crypto::Roots>>,
) -> Result<(Backups, String), Failure> {
    let env = crate::cloud::process_env();
    let (destination, label) = crate::cloud::backup_store(settings, &env, keys_dest).await?;
    Ok((
        Backups {
            destination,
            provider,
            roots,
            clock: Arc::new(SystemClock),
            mhp_version: env!("CARGO_PKG_VERSION").to_owned(),
        },
        label,
    ))
}

/// The backups `mhp serve` makes on `backup.schedule`, or `None` when it is off or the system
/// of record is PostgreSQL (whose backups are pgBackRest's or the platform's:
/// docs/design/backup.md).
pub async fn scheduled(
    settings: &Settings,
    db: &mhp_storage::Db,
    objects: &mhp_storage::ObjectStore,
    keys: &Arc<mhp_app::keys::Keys>,
    roots: &Arc<mhp_crypto::Roots>,
) -> Result<Option<backup::Scheduled>, Failure> {
    if settings.backup.schedule == "off" {
        return Ok(None);
    }
    if db.backend() != mhp_storage::Backend::Sqlite {
        tracing::info!(target: "mhp::backup",
            "backup.schedule is for the embedded database: PostgreSQL is backed up by pgBackRest \
             or the platform (docs/design/backup.md)");
        return Ok(None);
    }
    let cron = mhp_app::schedule::CronSchedule::parse(&settings.backup.schedule, "UTC")
        .map_err(|e| Failure::Invalid(format!("backup.schedule: {e}")))?;
    let data = backups_with(
        settings,
        false,
        keys.provider().clone(),
        Some(roots.clone()),
    )
    .await?;
    let key_backups = backups_with(settings, true, keys.provider().clone(), None).await?;
    let scratch = settings.data_dir.join("tmp");
    std::fs::create_dir_all(&scratch).context("cannot make the scratch directory")?;
    Ok(Some(backup::Scheduled {
        cron,
        data,
        keys: key_backups,
        retention: Retention {
            daily: settings.backup.daily,
            weekly: settings.backup.weekly,
            monthly: settings.backup.monthly,
        },
        db: db.clone(),
        objects: objects.clone(),
        key_store: keys.clone(),
        scratch,
        holder: holder(),
    }))
}

/// This process as the holder of a lease on scheduled work: host and process id.
pub fn holder() -> String {
    format!("{}:{}", crate::hostname(), std::process::id())
}

/// Runs a `mhp backup` command.
pub async fn run(
    settings: Settings,
    notes: LoadNotes,
    command: BackupCommand,
) -> Result<(), Failure> {
    crate::logging::init(&settings.log, &notes);
    // In production a backup kept in the data directory is lost with the machine: creating one
    // there, or drilling from there, is refused before anything is written.
    let writes_or_drills = match &command {
        BackupCommand::Create { key_store } => vec![*key_store],
        BackupCommand::Drill => vec![false, true],
        _ => Vec::new(),
    };
    for keys in writes_or_drills {
        if let Some(why) = settings.local_backup_destination(keys) {
            return Err(Failure::Invalid(why));
        }
    }
    match command {
        BackupCommand::Create { key_store } => create(&settings, key_store).await,
        BackupCommand::List { key_store } => {
            let (b, _) = backups(&settings, key_store).await?;
            for m in b.list().await.map_err(runtime)? {
                if m.kind != kind(key_store) {
                    continue;
                }
                println!("{}", summary(&m));
            }
            Ok(())
        }
        BackupCommand::Verify { id, key_store } => {
            let (b, _) = backups(&settings, key_store).await?;
            backup::check_id(&id).map_err(|e| Failure::Invalid(e.to_string()))?;
            let verified = b.verify(&id).await.map_err(runtime)?;
            println!("{}", serde_json::to_string(&verified).map_err(runtime)?);
            Ok(())
        }
        BackupCommand::Restore { id, key_store } => restore(&settings, &id, key_store).await,
        BackupCommand::Prune { key_store } => {
            let (b, label) = backups(&settings, key_store).await?;
            let retention = Retention {
                daily: settings.backup.daily,
                weekly: settings.backup.weekly,
                monthly: settings.backup.monthly,
            };
            let pruned = b
                .prune(kind(key_store), &retention)
                .await
                .map_err(runtime)?;
            println!("{}", serde_json::to_string(&pruned).map_err(runtime)?);
            let db = crate::serve::open_existing_database(&settings).await?;
            let recorded = backup::record(
                &db,
                &SystemClock,
                "backup.pruned",
                &BackupRun::done(
                    if key_store { "key-store" } else { "data" },
                    None,
                    label,
                    SystemClock.now().as_millis(),
                    format!(
                        "pruned: kept {}, removed {}",
                        pruned.kept.len(),
                        pruned.removed.len()
                    ),
                ),
            )
            .await;
            db.close().await;
            recorded.context("cannot record the pruning")?;
            Ok(())
        }
        BackupCommand::Drill => drill(&settings).await,
    }
}

fn summary(m: &backup::Manifest) -> serde_json::Value {
    json!({
        "id": m.id,
        "kind": m.kind,
        "taken_at_ms": m.taken_at_ms,
        "completed_at_ms": m.completed_at_ms,
        "mhp_version": m.mhp_version,
        "bytes": m.size(),
        "parts": m.parts.len(),
        "objects": m.objects.len(),
        "rows": m.rows.values().sum::<i64>(),
        "newest_write_ms": m.newest_write_ms,
    })
}

async fn create(settings: &Settings, key_store: bool) -> Result<(), Failure> {
    let (b, label) = backups(settings, key_store).await?;
    let db = crate::serve::open_existing_database(settings).await?;
    let scratch = settings.data_dir.join("tmp");
    std::fs::create_dir_all(&scratch).context("cannot make the scratch directory")?;
    let made = if key_store {
        let store = mhp_storage::keystore::KeyStore::open(&settings.key_store_url())
            .await
            .context("cannot open the key store")?;
        let made = b.create_key_store(&store, &scratch).await;
        store.close().await;
        made
    } else {
        let objects = crate::cloud::object_store(settings, &crate::cloud::process_env()).await?;
        b.create_data(&db, &objects, &scratch).await
    };
    let run = backup::run_of(
        kind(key_store),
        &label,
        &made,
        SystemClock.now().as_millis(),
    );
    let action = if key_store {
        "backup.key_store_created"
    } else {
        "backup.created"
    };
    let recorded = backup::record(&db, &SystemClock, action, &run).await;
    db.close().await;
    let made = made.map_err(runtime)?;
    recorded.context("cannot record the backup")?;
    let mut out = summary(&made.manifest);
    out["objects_copied"] = json!(made.objects_copied);
    out["objects_reused"] = json!(made.objects_reused);
    out["bytes_written"] = json!(made.bytes_written);
    println!("{out}");
    Ok(())
}

/// The public keys of the installation root's versions, to verify a restored audit log.
fn audit_keys(b: &Backups) -> Vec<[u8; 32]> {
    b.roots
        .as_ref()
        .map(|r| {
            r.versions()
                .map(|(_, k)| mhp_crypto::checkpoint::CheckpointKey::derive(k).public())
                .collect()
        })
        .unwrap_or_default()
}

async fn restore(settings: &Settings, id: &str, key_store: bool) -> Result<(), Failure> {
    backup::check_id(id).map_err(|e| Failure::Invalid(e.to_string()))?;
    let (b, label) = backups(settings, key_store).await?;
    let target = if key_store {
        let url = settings.key_store_url();
        let Some(path) = sqlite_file(&url) else {
            return Err(Failure::Invalid(
                "keys.store_url: a key-store backup restores into a SQLite key store".into(),
            ));
        };
        RestoreTarget {
            database: path,
            objects: None,
            audit_public_keys: Vec::new(),
        }
    } else {
        let objects = crate::cloud::object_store(settings, &crate::cloud::process_env()).await?;
        if !objects
            .list("")
            .await
            .context("cannot read the object store")?
            .is_empty()
        {
            return Err(Failure::Invalid(
                "the object store holds objects already: restore into an empty one".into(),
            ));
        }
        RestoreTarget {
            // With database.url, the backup's database is restored into a scratch file first
            // and copied from there into the configured database.
            database: if settings.database.url.is_some() {
                settings
                    .data_dir
                    .join("tmp")
                    .join(format!("restore-{id}.sqlite"))
            } else {
                settings.data_dir.join("mhp.sqlite")
            },
            objects: Some(objects),
            audit_public_keys: audit_keys(&b),
        }
    };
    if let Some(parent) = target.database.parent() {
        std::fs::create_dir_all(parent).context("cannot make the data directory")?;
    }
    let restored = if !key_store && settings.database.url.is_some() {
        // Into the configured database (PostgreSQL): migrated here, and refused by the copy
        // unless it holds no data.
        let db = crate::serve::open_database(settings).await?;
        let done = async {
            mhp_storage::migrate::run(&db)
                .await
                .context("cannot migrate the target database")?;
            b.restore_to_database(id, &db, &target)
                .await
                .map_err(anyhow::Error::from)
        }
        .await;
        db.close().await;
        done.map_err(Failure::Runtime)?
    } else {
        b.restore(id, &target).await.map_err(runtime)?
    };
    if !key_store {
        let db = crate::serve::open_existing_database(settings).await?;
        let recorded = backup::record(
            &db,
            &SystemClock,
            "backup.restored",
            &BackupRun::done(
                "data",
                Some(id.to_owned()),
                label,
                SystemClock.now().as_millis(),
                format!("{} rows, {} objects", restored.rows, restored.objects),
            ),
        )
        .await;
        db.close().await;
        recorded.context("cannot record the restore")?;
    }
    println!("{}", serde_json::to_string(&restored).map_err(runtime)?);
    Ok(())
}

/// The file of a `sqlite:` URL.
fn sqlite_file(url: &str) -> Option<PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next()?;
    (!path.is_empty() && path != ":memory:").then(|| PathBuf::from(path))
}

/// A server on the restored copy, stopped on drop.
struct Scratch {
    child: Option<std::process::Child>,
    dir: PathBuf,
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

async fn drill(settings: &Settings) -> Result<(), Failure> {
    let started = Instant::now();
    let (data, label) = backups(settings, false).await?;
    let Some(latest) = data
        .list()
        .await
        .map_err(runtime)?
        .into_iter()
        .rev()
        .find(|m| m.kind == Kind::Data)
    else {
        return Err(Failure::Runtime(anyhow::anyhow!(
            "no backup in {label} to drill: run `mhp backup create` first"
        )));
    };
    let dir =
        settings
            .data_dir
            .join("drills")
            .join(format!("{}-{}", latest.id, std::process::id()));
    std::fs::create_dir_all(&dir).context("cannot make the drill directory")?;
    let mut scratch = Scratch {
        child: None,
        dir: dir.clone(),
    };
    let result = drill_in(settings, &data, &latest, &mut scratch, started).await;
    drop(scratch);
    let db = crate::serve::open_existing_database(settings).await?;
    let run = BackupRun {
        kind: "drill",
        backup_id: Some(latest.id.clone()),
        destination: label,
        at_ms: SystemClock.now().as_millis(),
        ok: result.is_ok(),
        bytes: None,
        rto_ms: result.as_ref().ok().map(|r| r.rto_ms),
        rpo_ms: result.as_ref().ok().and_then(|r| r.rpo_ms),
        detail: match &result {
            Ok(r) => r.report.to_string(),
            Err(Failure::Invalid(e)) => e.clone(),
            Err(Failure::Runtime(e)) => format!("{e:#}"),
        },
    };
    let recorded = backup::record(&db, &SystemClock, "backup.drilled", &run).await;
    db.close().await;
    let drilled = result?;
    recorded.context("cannot record the drill")?;
    println!("{}", drilled.report);
    Ok(())
}

struct Drilled {
    report: serde_json::Value,
    rto_ms: i64,
    rpo_ms: Option<i64>,
}

async fn drill_in(
    settings: &Settings,
    data: &Backups,
    latest: &backup::Manifest,
    scratch: &mut Scratch,
    started: Instant,
) -> Result<Drilled, Failure> {
    let dir = scratch.dir.clone();
    // The key store: the newest key-store backup restored beside the data, else the live one
    // (read only by the drill's server).
    let (keys, _) = backups(settings, true).await?;
    let key_backup = keys
        .list()
        .await
        .map_err(runtime)?
        .into_iter()
        .rev()
        .find(|m| m.kind == Kind::KeyStore);
    let key_store_url = match &key_backup {
        Some(m) => {
            let file = dir.join("keys.sqlite");
            keys.restore(
                &m.id,
                &RestoreTarget {
                    database: file.clone(),
                    objects: None,
                    audit_public_keys: Vec::new(),
                },
            )
            .await
            .map_err(runtime)?;
            format!("sqlite://{}?mode=rwc", file.display())
        }
        None => settings.key_store_url(),
    };
    let objects_dir = dir.join("objects");
    let objects = mhp_storage::ObjectStore::local(&objects_dir)
        .await
        .context("cannot make the drill's object store")?;
    let restored = data
        .restore(
            &latest.id,
            &RestoreTarget {
                database: dir.join("mhp.sqlite"),
                objects: Some(objects),
                audit_public_keys: audit_keys(data),
            },
        )
        .await
        .map_err(runtime)?;

    // A server on the copy, on a loopback port of its own: no workers, no monitor, nothing
    // sent anywhere; the key provider is the installation's.
    let exe = std::env::current_exe().context("cannot find this program")?;
    let log = dir.join("serve.log");
    let log_file = std::fs::File::create(&log).context("cannot make the drill's log")?;
    let mut cmd = std::process::Command::new(exe);
    cmd.args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(&dir)
        .env_remove("DATABASE_URL")
        .env(
            "MHP_DATABASE_URL",
            format!("sqlite://{}?mode=rwc", dir.join("mhp.sqlite").display()),
        )
        .env("MHP_ENVIRONMENT", "development")
        .env("MHP_OBJECT_STORE_BACKEND", "local")
        .env("MHP_OBJECT_STORE_PATH", &objects_dir)
        .env("MHP_KEYS_STORE_URL", &key_store_url)
        .env("MHP_KEYS_KEYRING_DIR", settings.keyring_dir())
        .env("MHP_KEYS_MASTER_KEY_FILE", dir.join("no-master.key"))
        .env("MHP_PIPELINES_WORKERS", "0")
        .env("MHP_SECURITY_MONITOR", "false")
        .env("MHP_LOG_FORMAT", "json")
        .env("MHP_LOG_LEVEL", "info")
        .stdin(std::process::Stdio::null())
        .stdout(
            log_file
                .try_clone()
                .context("cannot share the drill's log")?,
        )
        .stderr(log_file);
    scratch.child = Some(cmd.spawn().context("cannot start the drill's server")?);
    let addr = wait_for_address(&log, scratch, Duration::from_secs(120)).await?;
    let socket: std::net::SocketAddr = addr
        .parse()
        .context("the drill's server logged an address that is not one")?;
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let ready = tokio::task::spawn_blocking(move || {
            crate::healthcheck::get(
                socket,
                &socket.to_string(),
                "/readyz",
                Duration::from_secs(5),
            )
        })
        .await
        .is_ok_and(|r| r.is_ok_and(|status| (200..300).contains(&status)));
        if ready {
            break;
        }
        if Instant::now() > deadline {
            return Err(Failure::Runtime(anyhow::anyhow!(
                "the restored server was not ready in 120 s (log: {})",
                tail(&log)
            )));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let rto_ms = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
    let now = SystemClock.now().as_millis();
    let rpo_ms = latest.newest_write_ms.map(|w| (now - w).max(0));
    let report = json!({
        "backup": latest.id,
        "key_store_backup": key_backup.as_ref().map(|m| m.id.clone()),
        "rto_s": rto_ms as f64 / 1000.0,
        "rpo_s": rpo_ms.map(|r| r as f64 / 1000.0),
        "rows": restored.rows,
        "objects": restored.objects,
        "audit_events_verified": restored.audit_events,
        "ready": true,
    });
    Ok(Drilled {
        report,
        rto_ms,
        rpo_ms,
    })
}

/// Reads the address the drill's server logged when it started listening.
async fn wait_for_address(
    log: &Path,
    scratch: &mut Scratch,
    limit: Duration,
) -> Result<String, Failure> {
    let deadline = Instant::now() + limit;
    loop {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        for line in text.lines() {
            if let Ok(v) = serde_json::from_str::<serde_json::Value>(line)
                && v["message"] == "listening"
                && let Some(addr) = v["addr"].as_str()
            {
                return Ok(addr.to_owned());
            }
        }
        if let Some(child) = scratch.child.as_mut()
            && let Ok(Some(status)) = child.try_wait()
        {
            return Err(Failure::Runtime(anyhow::anyhow!(
                "the restored server stopped ({status}): {}",
                tail(log)
            )));
        }
        if Instant::now() > deadline {
            return Err(Failure::Runtime(anyhow::anyhow!(
                "the restored server did not start listening (log: {})",
                tail(log)
            )));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The last lines of a log, for an error message.
fn tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(5)..].join(" | ")
}
