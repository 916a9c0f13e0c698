//! `mhp serve`: opens everything the settings name and serves HTTP until SIGTERM or Ctrl-C.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context as _;
use mhp_domain::SystemClock;
use mhp_server::{AppParts, AppState, BuildInfo};
use mhp_storage::{Db, ObjectStore, migrate};

use crate::Failure;
use crate::logging;
use crate::root::{self, RootUse};
use crate::settings::{LoadNotes, Settings};

pub async fn run(settings: Settings, notes: LoadNotes) -> Result<(), Failure> {
    let _traces = logging::init_with_traces(&settings, &notes, "mhp-server")?;
    let listen = settings.listen_addr()?;

    settings.check_environment().map_err(Failure::Invalid)?;
    let file = root::read_file(&settings)?;
    create_private_dir(&settings.data_dir)?;
    let opened = open_parts(&settings, RootUse::Create, file).await?;

    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    let addr = listener.local_addr().context("listener address")?;
    let mut settings = settings;
    if settings.http.public_url.is_none() {
        // The address actually bound (a port of 0 becomes the real one).
        settings.http.public_url = Some(format!("http://{addr}"));
    }
    let db = opened.db.clone();
    let roots = Arc::new(opened.roots);
    let backups =
        crate::backup_cmd::scheduled(&settings, &opened.db, &opened.objects, &opened.keys, &roots)
            .await?;
    let state = app_state(&settings, opened.db, opened.objects, opened.keys, &roots).await?;
    if let Some(backups) = backups {
        tokio::spawn(mhp_app::backup::run_schedule(
            backups,
            std::future::pending(),
        ));
    }
    tokio::spawn(mhp_app::keys::run_upkeep(
        state.app.clone(),
        std::time::Duration::from_secs(settings.keys.rewrap_interval_s),
        std::future::pending(),
    ));
    if let Some(prover) = state.identity.domain_prover.clone() {
        tokio::spawn(mhp_app::sso_domains::run_rechecks(
            state.app.clone(),
            prover,
            mhp_app::sso_domains::RECHECK_EVERY,
            std::future::pending(),
        ));
    }
    tokio::spawn(mhp_app::sweep::run_sweeps(
        state.app.clone(),
        std::time::Duration::from_secs(3600),
        std::future::pending(),
    ));
    let (version, current) = roots.current();
    spawn_checkpoints(
        db.clone(),
        mhp_crypto::checkpoint::CheckpointKey::derive(current),
        version,
    );
    spawn_statistics(db.clone());
    // Security monitoring stops before the database closes. A pass in hand is abandoned at its
    // next step: only a commit moves a cursor, so the next start resumes where it stood.
    let (stop_monitoring, monitoring_stopped) = tokio::sync::watch::channel(false);
    let until_stopped = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|stop| *stop).await;
    };
    let monitor = Arc::new(security_monitor(&settings)?);
    tokio::spawn(mhp_app::compliance::run_schedule(
        state.app.clone(),
        crate::compliance_cmd::deployment(&settings, &monitor.sink_names())?,
        std::time::Duration::from_secs(86_400),
        crate::backup_cmd::holder(),
        std::future::pending(),
    ));
    let mut monitoring = Vec::new();
    if settings.security.monitor {
        monitoring.push(tokio::spawn(mhp_app::siem::run(
            state.app.clone(),
            monitor,
            std::time::Duration::from_millis(settings.security.interval_ms),
            until_stopped(monitoring_stopped.clone()),
        )));
    } else {
        tracing::warn!(target: "mhp::security",
            "security monitoring is off (security.monitor = false): events wait in the outbox");
    }
    // Organisations' webhooks: made from the audit log and the signals, sent with retries.
    let dispatcher = mhp_app::webhooks::Dispatcher::new(
        mhp_server::egress_client(settings.egress.policy()?)
            .map_err(|e| Failure::Runtime(anyhow::anyhow!("egress client: {e}")))?,
    );
    monitoring.push(tokio::spawn(mhp_app::webhooks::run(
        state.app.clone(),
        Arc::new(dispatcher),
        mhp_app::webhooks::INTERVAL,
        until_stopped(monitoring_stopped.clone()),
    )));
    // FHIR Bulk Data exports: written by the instance holding their lease, resumed after a
    // restart; expired files removed.
    monitoring.push(tokio::spawn(mhp_server::run_fhir_exports(
        state.clone(),
        std::time::Duration::from_secs(5),
        until_stopped(monitoring_stopped.clone()),
    )));
    monitoring.push(tokio::spawn(mhp_app::siem::run_verifications(
        state.app.clone(),
        std::time::Duration::from_secs(settings.security.verify_interval_s),
        until_stopped(monitoring_stopped),
    )));
    let (stop_workers, workers_stopped) = tokio::sync::watch::channel(false);
    let workers = start_workers(
        &state,
        &settings,
        settings.pipelines.workers,
        &workers_stopped,
    )?;
    let config = settings.http_config();
    let router = mhp_server::router(state.clone(), &config);
    tracing::info!(
        addr = %addr,
        backend = db.backend().as_str(),
        version = env!("CARGO_PKG_VERSION"),
        "listening"
    );
    mhp_server::serve(
        listener,
        router,
        state.readiness.clone(),
        &config,
        shutdown_signal(),
    )
    .await
    .context("server failed")?;
    stop_pipeline_workers(&stop_workers, workers, config.shutdown_grace).await;
    let _ = stop_monitoring.send(true);
    let all = async {
        for task in monitoring {
            let _ = task.await;
        }
    };
    if tokio::time::timeout(config.shutdown_grace, all)
        .await
        .is_err()
    {
        tracing::warn!(target: "mhp::security", "security monitoring still busy at shutdown");
    }
    db.close().await;
    tracing::info!("stopped");
    Ok(())
}

/// The security monitor the settings describe: the JSON-lines sink, OpenSearch and CloudWatch
/// Logs when named, and the rule pack.
pub fn security_monitor(settings: &Settings) -> Result<mhp_app::siem::Monitor, Failure> {
    let pack = settings.security.rule_pack()?;
    let mut sinks = vec![mhp_app::siem::Sink::JsonLines(
        mhp_app::siem::JsonLines::new(
            settings.security.events_dir(&settings.data_dir),
            settings.security.events_max_mb.saturating_mul(1024 * 1024),
        ),
    )];
    if !settings.security.opensearch_url.is_empty() {
        sinks.push(crate::cloud::opensearch_sink(
            settings,
            &crate::cloud::process_env(),
        )?);
    }
    if !settings.security.cloudwatch_log_group.is_empty() {
        sinks.push(crate::cloud::cloudwatch_sink(
            settings,
            &crate::cloud::process_env(),
        )?);
    }
    sinks.extend(crate::syslog_sink::sink(settings)?);
    sinks.extend(crate::alert_sinks::sinks(settings)?);
    Ok(mhp_app::siem::Monitor::new(
        sinks,
        pack,
        env!("CARGO_PKG_VERSION"),
    ))
}

/// Starts `count` pipeline workers and the scheduler (none when `count` is 0).
pub fn start_workers(
    state: &AppState,
    settings: &Settings,
    count: u32,
    stop: &tokio::sync::watch::Receiver<bool>,
) -> Result<Vec<tokio::task::JoinHandle<()>>, Failure> {
    if count == 0 {
        return Ok(Vec::new());
    }
    let registry = mhp_pipelines::catalogue().map_err(|e| Failure::Runtime(anyhow::anyhow!(e)))?;
    Ok(mhp_pipelines::start(
        &state.app,
        Arc::new(registry),
        count as usize,
        &settings.worker_config(),
        stop,
    ))
}

/// Asks the workers to stop and gives the jobs in hand `grace` to finish; a job still running
/// then is left to its lease (another worker takes it over).
pub async fn stop_pipeline_workers(
    stop: &tokio::sync::watch::Sender<bool>,
    workers: Vec<tokio::task::JoinHandle<()>>,
    grace: std::time::Duration,
) {
    let _ = stop.send(true);
    let all = async {
        for w in workers {
            let _ = w.await;
        }
    };
    if tokio::time::timeout(grace, all).await.is_err() {
        tracing::warn!("pipeline jobs still running at shutdown; their leases will expire");
    }
}

/// Refreshes the query planner's statistics at start and every hour, as the data grows
/// (`Db::refresh_statistics`).
fn spawn_statistics(db: mhp_storage::Db) {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(std::time::Duration::from_secs(3600));
        loop {
            every.tick().await;
            if let Err(e) = db.refresh_statistics().await {
                tracing::warn!(error = %e, "refreshing the planner's statistics failed");
            }
        }
    });
}

/// Signs the audit chains' heads every hour (and once at start), so that events cut from the end
/// of a chain are detectable.
fn spawn_checkpoints(
    db: mhp_storage::Db,
    key: mhp_crypto::checkpoint::CheckpointKey,
    key_version: u32,
) {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(std::time::Duration::from_secs(3600));
        loop {
            every.tick().await;
            let result = async {
                use mhp_domain::Clock as _;
                let mut tx = db.operator(mhp_storage::Access::Write).await?;
                let n = mhp_storage::repo::audit::checkpoint(
                    &mut tx,
                    &key,
                    key_version,
                    SystemClock.now(),
                )
                .await?;
                tx.commit().await?;
                Ok::<_, mhp_storage::StorageError>(n)
            };
            match result.await {
                Ok(n) => tracing::info!(checkpoints = n, "audit checkpoints signed"),
                Err(e) => tracing::error!(error = %e, "audit checkpoint failed"),
            }
        }
    });
}

/// Opens the document index the settings name and makes sure its schema is there.
pub async fn open_index(settings: &Settings) -> Result<mhp_index::DocumentIndex, Failure> {
    let index = match settings.index.backend.as_str() {
        "opensearch" => {
            let url = settings.index.opensearch_url.clone().unwrap_or_default();
            let auth = crate::cloud::opensearch_auth(settings, &crate::cloud::process_env())?;
            mhp_index::DocumentIndex::OpenSearch(
                mhp_index::OpenSearchIndex::new(&url, &settings.index.opensearch_prefix, auth)
                    .map_err(|e| Failure::Invalid(format!("index: {e}")))?,
            )
        }
        _ => mhp_index::DocumentIndex::Embedded(
            mhp_index::EmbeddedIndex::open(settings.data_dir.join("index.sqlite"))
                .await
                .context("cannot open the document index")?,
        ),
    };
    index
        .ensure_schema()
        .await
        .context("cannot prepare the document index")?;
    Ok(index)
}

/// The application state over an open database, object store, key store and root.
pub async fn app_state(
    settings: &Settings,
    db: Db,
    objects: ObjectStore,
    keys: Arc<mhp_app::keys::Keys>,
    roots: &mhp_crypto::Roots,
) -> Result<AppState, Failure> {
    let index = open_index(settings).await?;
    Ok(AppState::new(AppParts {
        app: mhp_app::AppParts {
            db,
            objects,
            clock: Arc::new(SystemClock),
            roots,
            notifier: crate::cloud::notifier(settings, &crate::cloud::process_env())?,
            build: BuildInfo {
                version: env!("CARGO_PKG_VERSION"),
            },
            index,
            keys,
        },
        sso: mhp_server::SsoOptions {
            public_url: settings.public_url(),
            dns_server: settings.egress.dns_server()?,
        },
        egress: mhp_server::egress_client(settings.egress.policy()?)
            .map_err(|e| Failure::Runtime(anyhow::anyhow!("egress client: {e}")))?,
        mail_limits: mhp_server::api::MailLimits {
            per_address_per_hour: settings.auth.mail_per_address_per_hour,
            invitations_per_org_per_hour: settings.auth.invitations_per_org_per_hour,
        },
    }))
}

/// Opens everything a command that works on the data needs, without serving: the key store and
/// the installation root (which must exist: such commands create no key material), the object
/// store and the database.
pub async fn open_state(settings: &Settings) -> Result<AppState, Failure> {
    open_state_for(settings, RootUse::Existing).await
}

/// [`open_state`], making the root when `usage` allows (`mhp worker`, `mhp demo`).
pub async fn open_state_for(settings: &Settings, usage: RootUse) -> Result<AppState, Failure> {
    let o = open_parts(settings, usage, root::read_file(settings)?).await?;
    app_state(settings, o.db, o.objects, o.keys, &o.roots).await
}

/// [`open_state_for`], with the installation root beside it (for commands that derive keys
/// from it: `mhp org export` and `import`).
pub async fn open_state_with_roots(
    settings: &Settings,
    usage: RootUse,
) -> Result<(AppState, mhp_crypto::Roots), Failure> {
    let o = open_parts(settings, usage, root::read_file(settings)?).await?;
    let state = app_state(settings, o.db, o.objects, o.keys, &o.roots).await?;
    Ok((state, o.roots))
}

/// What the state is made over.
struct Opened {
    db: Db,
    objects: ObjectStore,
    keys: Arc<mhp_app::keys::Keys>,
    roots: mhp_crypto::Roots,
}

/// The key store and the root, the database (a root made or moved is recorded there) and the
/// object store.
async fn open_parts(
    settings: &Settings,
    usage: RootUse,
    file: root::RootFile,
) -> Result<Opened, Failure> {
    let (keys, held) = root::open(settings, usage, file).await?;
    let db = match usage {
        RootUse::Create => open_database(settings).await?,
        RootUse::Existing => open_existing_database(settings).await?,
    };
    held.record(&db).await?;
    let objects = crate::cloud::object_store(settings, &crate::cloud::process_env()).await?;
    Ok(Opened {
        db,
        objects,
        keys,
        roots: held.root.roots,
    })
}

/// Every organisation in use (for commands that work across them).
pub async fn organisations(
    state: &AppState,
) -> Result<Vec<mhp_storage::repo::orgs::Organization>, Failure> {
    let mut tx = state
        .app
        .db
        .operator(mhp_storage::Access::Read)
        .await
        .context("cannot start a transaction")?;
    Ok(mhp_storage::repo::orgs::list_all(&mut tx)
        .await
        .context("cannot list organisations")?)
}

/// Connects to the database (with start-up retries) and brings its schema up to date, or checks
/// that it is, when automatic migration is off.
pub async fn open_database(settings: &Settings) -> Result<Db, Failure> {
    let url = settings.database_url();
    let db = Db::connect(&url, &settings.db_options())
        .await
        .context("cannot open the database")?;
    if settings.database.auto_migrate {
        migrate::run(&db)
            .await
            .context("cannot migrate the database")?;
    } else {
        let status = migrate::status(&db)
            .await
            .context("cannot read the schema version")?;
        if !status.is_current() {
            return Err(Failure::Runtime(anyhow::anyhow!(
                "the database needs migrations ({} of {} applied): run `mhp migrate`",
                status.applied,
                status.expected
            )));
        }
    }
    Ok(db)
}

/// [`open_database`] for commands that must not create one: the embedded SQLite file must
/// exist already.
pub async fn open_existing_database(settings: &Settings) -> Result<Db, Failure> {
    if settings.database.url.is_none() {
        let file = settings.data_dir.join("mhp.sqlite");
        if !file.exists() {
            return Err(Failure::Runtime(anyhow::anyhow!(
                "no database at {}: `mhp serve` creates it (or set database.url)",
                file.display()
            )));
        }
    }
    open_database(settings).await
}

/// Creates the data directory with mode 0700 when missing.
pub fn create_private_dir(dir: &Path) -> Result<(), Failure> {
    use std::os::unix::fs::DirBuilderExt as _;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .with_context(|| format!("cannot create the data directory {}", dir.display()))
        .map_err(Failure::Runtime)
}

/// Resolves on SIGTERM (orchestrators) or SIGINT (Ctrl-C).
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => tracing::info!(signal = "SIGINT", "signal received"),
        () = term => tracing::info!(signal = "SIGTERM", "signal received"),
    }
}
