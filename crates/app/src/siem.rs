//! Security monitoring at work (C8): ships every security event to the SIEM sinks in OCSF and
//! runs the detection rules over them, raising alerts.
//!
//! The events are already durable where they are written: the audit log (in the transaction
//! of the change it describes) and `security_signals` (refusals outside any organisation,
//! not-found probes, raised alerts). Each consumer (every sink, and the rules) reads them from
//! its own cursor (`repo::security::read_after`) and moves the cursor only after the batch is
//! delivered (a sink) or evaluated and its alerts stored (the rules, in one transaction with
//! their state). So a sink that is down keeps its backlog and receives it later, a kill -9
//! loses nothing acknowledged, and a delivery repeated after a crash carries the same
//! `metadata.uid` for the SIEM to drop. One instance at a time does this work (a lease in the
//! database); the others stand by.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Duration;

use mhp_domain::{OrgId, Timestamp};
use mhp_security::SecurityEvent;
use mhp_security::event::Stream;
use mhp_security::fields::Fields as _;
use mhp_security::ocsf::{self, Product};
use mhp_security::rules::{Engine, Raised, RulePack, Seen, SeenAt, SeenKey, State};
use mhp_storage::repo::audit::AuditEvent;
use mhp_storage::repo::security::{self as repo, Cursor, NewAlert, SeenRow};
use mhp_storage::{Access, StorageError};

use crate::App;

/// The rules' consumer name (their cursors and state).
pub const RULES: &str = "rules";

/// The lease's name.
const LEASE: &str = "security-monitor";

/// How long a lease lasts without renewal.
const LEASE_MS: i64 = 30_000;

/// Signals are kept this long after every consumer has passed them (the audit log keeps its
/// own events for six years).
pub const SIGNAL_RETENTION_MS: i64 = 90 * 86_400_000;

/// Where security events go besides the rules.
#[derive(Debug)]
pub enum Sink {
    /// JSON lines in a local directory, the embedded default.
    JsonLines(JsonLines),
    /// A sink outside the process (CloudWatch Logs), made by the command line from its
    /// settings.
    Remote(Arc<dyn RemoteSink>),
}

/// A future that delivers a batch to a remote sink.
pub type Delivery<'a> =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), SinkError>> + Send + 'a>>;

/// A sink outside the process: given one OCSF event per line (JSON), it stores all of them or
/// fails (the batch is then delivered again later, with the same `metadata.uid`s).
pub trait RemoteSink: Send + Sync + std::fmt::Debug {
    /// The consumer name: its cursors in the database and its `sink` label in `/metrics`.
    /// Stable: renaming it makes the sink start from the beginning.
    fn name(&self) -> &'static str;

    /// Delivers `lines` at `now`.
    fn deliver<'a>(&'a self, lines: &'a [String], now: Timestamp) -> Delivery<'a>;
}

impl Sink {
    /// The consumer name (its cursors, its metrics label).
    pub fn name(&self) -> &'static str {
        match self {
            Sink::JsonLines(_) => "jsonl",
            Sink::Remote(r) => r.name(),
        }
    }

    /// Delivers a batch (nothing is acknowledged unless all of it is stored) and counts it in
    /// `status`, or counts and logs the refusal; true when delivered.
    async fn deliver(&self, batch: &Batch, now: Timestamp, status: &Status) -> bool {
        let result = match self {
            Sink::JsonLines(j) => {
                let j = j.clone();
                let text = batch.lines.clone();
                tokio::task::spawn_blocking(move || j.append_lines(&text, now))
                    .await
                    .map_err(|e| SinkError(format!("writer stopped: {e}")))
                    .and_then(|r| r)
            }
            Sink::Remote(r) => {
                let lines: Vec<String> = batch.lines.lines().map(str::to_owned).collect();
                r.deliver(&lines, now).await
            }
        };
        match result {
            Ok(()) => {
                status.update(self.name(), |f| f.delivered += batch.count);
                true
            }
            Err(e) => {
                tracing::warn!(target: "mhp::security", sink = self.name(), error = %e,
                    "security events not delivered; they wait in the outbox");
                status.update(self.name(), |f| f.errors += 1);
                false
            }
        }
    }
}

/// A batch of events as the sinks take it.
#[derive(Debug)]
struct Batch {
    /// One OCSF event per line.
    lines: Arc<String>,
    /// How many events.
    count: u64,
}

impl Batch {
    fn of<T: serde::Serialize>(events: &[T]) -> Self {
        let mut text = Vec::with_capacity(events.len() * 1024);
        for e in events {
            // An OCSF event always serialises (its keys are strings); to_writer skips the
            // formatter that Display goes through.
            if serde_json::to_writer(&mut text, e).is_ok() {
                text.push(b'\n');
            }
        }
        Self {
            lines: Arc::new(String::from_utf8(text).unwrap_or_default()),
            count: events.len() as u64,
        }
    }
}

/// A sink that did not take a batch (the text names the sink's problem, never an event).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct SinkError(String);

impl SinkError {
    /// A refusal saying `what` (no event, secret or credential in it).
    pub fn new(what: impl Into<String>) -> Self {
        Self(what.into())
    }
}

/// The JSON-lines sink: `security-events.jsonl` in its directory (0600), rotated to
/// `security-events-<day>.<n>.jsonl` when it passes its size or the day (UTC) changes.
#[derive(Debug, Clone)]
pub struct JsonLines {
    dir: PathBuf,
    max_bytes: u64,
    /// Serialises writers (one monitor per process; the lease keeps other processes off).
    lock: Arc<std::sync::Mutex<()>>,
}

/// The current file's name.
pub const JSONL_FILE: &str = "security-events.jsonl";

impl JsonLines {
    /// A sink writing into `dir` (made 0700 when missing), rotating past `max_bytes`.
    pub fn new(dir: PathBuf, max_bytes: u64) -> Self {
        Self {
            dir,
            max_bytes: max_bytes.max(1024),
            lock: Arc::default(),
        }
    }

    /// The current file.
    pub fn path(&self) -> PathBuf {
        self.dir.join(JSONL_FILE)
    }

    /// Appends events as lines and syncs the file, rotating it first when it is full or of
    /// another day.
    pub fn append<T: serde::Serialize>(
        &self,
        events: &[T],
        now: Timestamp,
    ) -> Result<(), SinkError> {
        self.append_lines(&Batch::of(events).lines, now)
    }

    /// Appends lines already made (each ending with a new line).
    fn append_lines(&self, text: &str, now: Timestamp) -> Result<(), SinkError> {
        let _held = self
            .lock
            .lock()
            .map_err(|_| SinkError("writer poisoned".into()))?;
        let io = |what: &str, e: std::io::Error| SinkError(format!("{what}: {}", e.kind()));
        create_private_dir(&self.dir).map_err(|e| io("cannot create the events directory", e))?;
        let path = self.path();
        let today = mhp_domain::CalendarDate::from_unix_millis(now.as_millis()).to_string();
        if let Ok(meta) = std::fs::metadata(&path) {
            let written_day = meta
                .modified()
                .ok()
                .and_then(|m| m.duration_since(std::time::UNIX_EPOCH).ok())
                .and_then(|d| i64::try_from(d.as_millis()).ok())
                .map(|ms| mhp_domain::CalendarDate::from_unix_millis(ms).to_string());
            let full = meta.len() > 0 && meta.len() + text.len() as u64 > self.max_bytes;
            let stale = meta.len() > 0 && written_day.as_deref().is_some_and(|d| d != today);
            if full || stale {
                let day = written_day.unwrap_or_else(|| today.clone());
                let mut n = 1;
                let rotated = loop {
                    let p = self.dir.join(format!("security-events-{day}.{n}.jsonl"));
                    if !p.exists() {
                        break p;
                    }
                    n += 1;
                };
                std::fs::rename(&path, rotated).map_err(|e| io("cannot rotate", e))?;
            }
        }
        let mut options = std::fs::OpenOptions::new();
        options.create(true).append(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt as _;
            options.mode(0o600);
        }
        let mut file = options.open(&path).map_err(|e| io("cannot open", e))?;
        file.write_all(text.as_bytes())
            .map_err(|e| io("cannot write", e))?;
        file.sync_data().map_err(|e| io("cannot sync", e))?;
        Ok(())
    }
}

fn create_private_dir(dir: &std::path::Path) -> std::io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt as _;
        b.mode(0o700);
    }
    b.create(dir)
}

/// Figures of the monitor, for `/metrics`.
#[derive(Debug, Default)]
pub struct Status {
    sinks: std::sync::Mutex<BTreeMap<&'static str, SinkFigures>>,
    /// Events the rules evaluated.
    pub evaluated: AtomicU64,
    /// Passes completed as the lease holder.
    pub passes: AtomicU64,
    /// When a tick last finished, ms (0: never).
    pub last_tick_ms: AtomicI64,
}

/// One sink's figures.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SinkFigures {
    /// Events delivered.
    pub delivered: u64,
    /// Batches refused.
    pub errors: u64,
    /// Events waiting, as last counted.
    pub backlog: i64,
}

impl Status {
    /// Every sink's figures, by name.
    pub fn sinks(&self) -> BTreeMap<&'static str, SinkFigures> {
        self.sinks.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// Passes completed, events evaluated.
    pub fn progress(&self) -> (u64, u64) {
        (
            self.passes.load(Ordering::Relaxed),
            self.evaluated.load(Ordering::Relaxed),
        )
    }

    fn update(&self, sink: &'static str, f: impl FnOnce(&mut SinkFigures)) {
        if let Ok(mut s) = self.sinks.lock() {
            f(s.entry(sink).or_default());
        }
    }
}

/// The monitor: its sinks, its rules and who it is (for the lease).
#[derive(Debug)]
pub struct Monitor {
    sinks: Vec<Sink>,
    pack: RulePack,
    product: Product,
    holder: String,
    batch: u32,
}

/// What one batch did.
#[derive(Debug, Default, Clone, Copy)]
struct Step {
    evaluated: u64,
    raised: u64,
    delivered: u64,
    /// Whether a stream gave a full batch (more may be waiting).
    full: bool,
}

/// What one pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Pass {
    /// Whether this instance held the lease (nothing was done otherwise).
    pub leader: bool,
    /// Events delivered to sinks.
    pub delivered: u64,
    /// Events the rules evaluated.
    pub evaluated: u64,
    /// Alerts raised.
    pub raised: u64,
}

impl Monitor {
    /// A monitor shipping to `sinks` and evaluating `pack`.
    pub fn new(sinks: Vec<Sink>, pack: RulePack, version: &str) -> Self {
        Self {
            sinks,
            pack,
            product: Product {
                version: version.to_owned(),
            },
            holder: uuid::Uuid::new_v4().to_string(),
            batch: 5000,
        }
    }

    /// The rules it evaluates.
    pub fn pack(&self) -> &RulePack {
        &self.pack
    }

    /// The sinks' consumer names.
    pub fn sink_names(&self) -> Vec<&'static str> {
        self.sinks.iter().map(Sink::name).collect()
    }

    /// One event in OCSF.
    pub fn ocsf<'a>(&'a self, event: &'a SecurityEvent) -> ocsf::Event<'a> {
        ocsf::Event::of(event, &self.product, &self.pack)
    }

    /// Ships and evaluates until each consumer has caught up (or a sink refuses), if this
    /// instance holds the lease.
    pub async fn pass(&self, app: &App) -> Result<Pass, StorageError> {
        let now = app.now();
        let mut tx = app.db.operator(Access::Write).await?;
        let leader = repo::take_lease(
            &mut tx,
            LEASE,
            &self.holder,
            now,
            Timestamp::from_millis(now.as_millis() + LEASE_MS),
        )
        .await?;
        tx.commit().await?;
        let mut pass = Pass {
            leader,
            ..Pass::default()
        };
        if !leader {
            return Ok(pass);
        }
        // The rules read each batch once; sinks in step with them receive it converted once
        // and move with the rules' cursors. A sink that fell behind (it was down) catches up
        // on its own afterwards, and is in step again once both reach the end.
        // Batch after batch while they come back full (a backlog); a batch that is not full
        // means the end was reached, and what arrives meanwhile waits for the next pass, so
        // that a steady trickle of events is taken in one batch a pass, not one at a time.
        loop {
            let step = self.evaluate(app).await?;
            pass.evaluated += step.evaluated;
            pass.raised += step.raised;
            pass.delivered += step.delivered;
            if !step.full {
                break;
            }
        }
        pass.delivered += self.ship_all(app).await?;
        app.security
            .evaluated
            .fetch_add(pass.evaluated, Ordering::Relaxed);
        app.security
            .last_tick_ms
            .store(app.now().as_millis(), Ordering::Relaxed);
        app.security.passes.fetch_add(1, Ordering::Relaxed);
        Ok(pass)
    }

    /// Delivers every stream's new events to every sink; returns how many were delivered.
    /// [`Monitor::pass`] does it under the lease; a caller alone on its database (a benchmark,
    /// a tool) may call it directly.
    pub async fn ship_all(&self, app: &App) -> Result<u64, StorageError> {
        let mut delivered = 0;
        for sink in &self.sinks {
            delivered += self.ship(app, sink).await?;
        }
        Ok(delivered)
    }

    /// Delivers every stream's new events to one sink; stops at its first refusal.
    async fn ship(&self, app: &App, sink: &Sink) -> Result<u64, StorageError> {
        let mut delivered = 0;
        for stream in Stream::ALL {
            loop {
                let mut tx = app.db.operator(Access::Read).await?;
                let after = repo::cursor(&mut tx, sink.name(), stream)
                    .await?
                    .unwrap_or_default();
                let batch = repo::read_after(&mut tx, stream, after, self.batch).await?;
                drop(tx);
                let Some((last, _)) = batch.last() else { break };
                let last = *last;
                let n = batch.len() as u64;
                let lines: Vec<ocsf::Event<'_>> = batch.iter().map(|(_, e)| self.ocsf(e)).collect();
                if !sink
                    .deliver(&Batch::of(&lines), app.now(), &app.security)
                    .await
                {
                    self.count_backlog(app, sink.name()).await;
                    return Ok(delivered);
                }
                let mut tx = app.db.operator(Access::Write).await?;
                repo::set_cursor(&mut tx, sink.name(), stream, last, app.now()).await?;
                tx.commit().await?;
                delivered += n;
                if n < u64::from(self.batch) {
                    break;
                }
            }
        }
        self.count_backlog(app, sink.name()).await;
        Ok(delivered)
    }

    /// Counts what waits for a consumer (for `/metrics`).
    async fn count_backlog(&self, app: &App, consumer: &'static str) {
        let count = async {
            let mut tx = app.db.operator(Access::Read).await?;
            let mut total = 0;
            for stream in Stream::ALL {
                let after = repo::cursor(&mut tx, consumer, stream)
                    .await?
                    .unwrap_or_default();
                total += repo::backlog(&mut tx, stream, after).await?;
            }
            Ok::<_, StorageError>(total)
        };
        if let Ok(n) = count.await {
            app.security.update(consumer, |f| f.backlog = n);
        }
    }

    /// Evaluates the next batch of each stream (merged by time), delivers it to the sinks in
    /// step with the rules, and stores what it raised, the rules' state and the cursors in one
    /// transaction.
    async fn evaluate(&self, app: &App) -> Result<Step, StorageError> {
        let mut tx = app.db.operator(Access::Read).await?;
        let state = match repo::rule_state(&mut tx, RULES).await? {
            Some(json) => serde_json::from_str::<State>(&json).unwrap_or_else(|e| {
                tracing::warn!(target: "mhp::security", error = %e,
                    "the rules' saved state does not read; starting afresh");
                State::default()
            }),
            None => State::default(),
        };
        let mut read: Vec<Vec<(Cursor, SecurityEvent)>> = Vec::new();
        let mut moved: Vec<(Stream, Cursor)> = Vec::new();
        let mut in_step: Vec<&Sink> = self.sinks.iter().collect();
        let mut full = false;
        for stream in Stream::ALL {
            let after = repo::cursor(&mut tx, RULES, stream)
                .await?
                .unwrap_or_default();
            let mut kept = Vec::with_capacity(in_step.len());
            for sink in in_step {
                if repo::cursor(&mut tx, sink.name(), stream)
                    .await?
                    .unwrap_or_default()
                    == after
                {
                    kept.push(sink);
                }
            }
            in_step = kept;
            let events = repo::read_after(&mut tx, stream, after, self.batch).await?;
            full |= events.len() >= self.batch as usize;
            if let Some((last, _)) = events.last() {
                moved.push((stream, *last));
            }
            read.push(events);
        }
        // The streams merged by time (a stable sort keeps each stream's order).
        let mut events: Vec<ocsf::Event<'_>> =
            read.iter().flatten().map(|(_, e)| self.ocsf(e)).collect();
        if events.is_empty() {
            return Ok(Step::default());
        }
        events.sort_by_key(|e| e.time_ms());
        let mut engine = Engine::new(self.pack.clone(), state);
        let mut seen = Seen::default();
        for key in engine.seen_keys(&events) {
            if let Some((first_ms, last_ms)) =
                repo::seen(&mut tx, &key.kind, &key.entity, &key.value).await?
            {
                seen.load(key, SeenAt { first_ms, last_ms });
            }
        }
        drop(tx);
        let mut delivered_to = Vec::new();
        let lines = (!in_step.is_empty()).then(|| Batch::of(&events));
        for sink in in_step {
            let Some(lines) = &lines else { break };
            if sink.deliver(lines, app.now(), &app.security).await {
                delivered_to.push(sink.name());
            }
        }
        let now = app.now();
        let raised = engine.evaluate(&events, &mut seen, now.as_millis());
        let state_json = serde_json::to_string(&engine.state).unwrap_or_else(|_| "{}".into());
        let mut tx = app.db.operator(Access::Write).await?;
        let mut new_alerts = 0;
        for r in &raised {
            match r {
                Raised::New {
                    rule,
                    entity,
                    org,
                    first_ms,
                    events,
                } => {
                    let Some(def) = self.pack.get(rule) else {
                        continue;
                    };
                    let stored = repo::insert_alert(
                        &mut tx,
                        &NewAlert {
                            rule_id: rule,
                            org: org.as_deref(),
                            entity,
                            severity: def.severity.as_str(),
                            technique: def.technique.as_ref().map(|t| t.id.as_str()),
                            title: &def.title,
                            first_at: Timestamp::from_millis(*first_ms),
                            event_count: i64::from(*events),
                        },
                    )
                    .await?;
                    if let Some(id) = stored {
                        new_alerts += 1;
                        let org = org.as_deref().and_then(|o| OrgId::parse(o).ok());
                        let signal = AuditEvent::outside_request(
                            "system:security-monitor",
                            "alert.raised",
                            "alert",
                            Some(id),
                        )
                        .with_detail(format!("{rule} {entity}"));
                        repo::append_signal(&mut tx, org, &signal, now).await?;
                        tracing::warn!(target: "mhp::security", rule = rule.as_str(),
                            severity = def.severity.as_str(), "security alert raised");
                    }
                }
                Raised::More {
                    rule,
                    entity,
                    first_ms,
                    last_ms,
                } => {
                    repo::extend_alert(
                        &mut tx,
                        rule,
                        entity,
                        Timestamp::from_millis(*first_ms),
                        Timestamp::from_millis(*last_ms),
                    )
                    .await?;
                }
            }
        }
        for (key, at) in seen.changed() {
            let SeenKey {
                kind,
                entity,
                value,
            } = key.clone();
            repo::put_seen(
                &mut tx,
                &SeenRow {
                    kind,
                    entity,
                    value,
                    first_ms: at.first_ms,
                    last_ms: at.last_ms,
                },
            )
            .await?;
        }
        repo::put_rule_state(&mut tx, RULES, &state_json, now).await?;
        for (stream, at) in moved {
            repo::set_cursor(&mut tx, RULES, stream, at, now).await?;
            for sink in &delivered_to {
                repo::set_cursor(&mut tx, sink, stream, at, now).await?;
            }
        }
        tx.commit().await?;
        Ok(Step {
            evaluated: events.len() as u64,
            raised: new_alerts,
            delivered: events.len() as u64 * delivered_to.len() as u64,
            full,
        })
    }

    /// Removes signals every consumer passed more than [`SIGNAL_RETENTION_MS`] ago.
    pub async fn prune(&self, app: &App) -> Result<u64, StorageError> {
        let mut consumers = self.sink_names();
        consumers.push(RULES);
        let mut tx = app.db.operator(Access::Write).await?;
        let n = repo::prune_signals(
            &mut tx,
            &consumers,
            Timestamp::from_millis(app.now().as_millis() - SIGNAL_RETENTION_MS),
        )
        .await?;
        tx.commit().await?;
        Ok(n)
    }
}

/// Runs the monitor every `every` (and prunes old signals hourly) until `stop` resolves.
pub async fn run(
    app: App,
    monitor: Arc<Monitor>,
    every: Duration,
    stop: impl std::future::Future<Output = ()>,
) {
    let work = async {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut last_prune = std::time::Instant::now();
        loop {
            tick.tick().await;
            if let Err(e) = monitor.pass(&app).await {
                tracing::warn!(target: "mhp::security", error = %e, "security monitoring pass failed");
            }
            if last_prune.elapsed() > Duration::from_secs(3600) {
                last_prune = std::time::Instant::now();
                if let Err(e) = monitor.prune(&app).await {
                    tracing::warn!(target: "mhp::security", error = %e, "pruning signals failed");
                }
            }
        }
    };
    tokio::select! {
        () = work => {}
        () = stop => {}
    }
}

/// Records a signal: a security event that is not an audit record (a refusal outside any
/// organisation, a not-found answer on an organisation's route). A failed write is logged; the
/// request is answered either way.
pub async fn record_signal(app: &App, org: Option<OrgId>, event: &AuditEvent) {
    let write = async {
        let mut tx = app.db.operator(Access::Write).await?;
        repo::append_signal(&mut tx, org, event, app.now()).await?;
        tx.commit().await
    };
    if let Err(e) = write.await {
        tracing::error!(target: "mhp::security", error = %e, "could not record a security signal");
    }
}

/// Verifies the whole audit log (every chain and checkpoint) and records the result as a
/// signal (`audit.verify`; a failure raises `audit_chain_broken`). Returns the findings.
pub async fn verify_audit_log(app: &App) -> Result<usize, StorageError> {
    let mut tx = app.db.operator(Access::Read).await?;
    let report = mhp_storage::repo::audit::verify(&mut tx, &app.audit_public_keys).await?;
    drop(tx);
    let findings = report.findings.len();
    let mut event =
        AuditEvent::outside_request("system:security-monitor", "audit.verify", "audit_log", None)
            .with_detail(format!("findings_{findings}"));
    if findings > 0 {
        event.outcome = mhp_storage::repo::audit::Outcome::Failure;
        tracing::error!(target: "mhp::security", findings, "the audit log does not verify");
    }
    record_signal(app, None, &event).await;
    Ok(findings)
}

/// Verifies the audit log at start and then every `every`, until `stop` resolves.
pub async fn run_verifications(
    app: App,
    every: Duration,
    stop: impl std::future::Future<Output = ()>,
) {
    let work = async {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(e) = verify_audit_log(&app).await {
                tracing::warn!(target: "mhp::security", error = %e, "audit verification failed to run");
            }
        }
    };
    tokio::select! {
        () = work => {}
        () = stop => {}
    }
}
