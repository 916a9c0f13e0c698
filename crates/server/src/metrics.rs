//! Prometheus text exposition (format 0.0.4) of request counts, latency histograms, pool gauges
//! and build information. Labels are route templates, methods and status codes: bounded sets
//! that never hold an id or a value from a request.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use mhp_app::metrics::Histogram;
use mhp_storage::PoolStats;

/// Authentication outcomes of this process, counted where they are recorded
/// (`security::emit`): a process-wide tally, like the process figures, not a per-router one.
#[derive(Debug, Default)]
pub struct AuthCounts {
    sign_in_failed: AtomicU64,
    sign_in_throttled: AtomicU64,
    account_locked: AtomicU64,
    mfa_failed: AtomicU64,
    token_reuse: AtomicU64,
    credentials_refused: AtomicU64,
}

/// The process's authentication tally.
pub static AUTH: AuthCounts = AuthCounts {
    sign_in_failed: AtomicU64::new(0),
    sign_in_throttled: AtomicU64::new(0),
    account_locked: AtomicU64::new(0),
    mfa_failed: AtomicU64::new(0),
    token_reuse: AtomicU64::new(0),
    credentials_refused: AtomicU64::new(0),
};

impl AuthCounts {
    /// Counts `event` if it is one of the refusals tallied.
    pub fn count(&self, event: &mhp_auth::events::AuthEvent) {
        use mhp_auth::events::AuthEvent as E;
        let counter = match event {
            E::SignInFailed { throttled: false } => &self.sign_in_failed,
            E::SignInFailed { throttled: true } => &self.sign_in_throttled,
            E::AccountLocked { .. } => &self.account_locked,
            E::MfaChecked { passed: false } => &self.mfa_failed,
            E::TokenReuseDetected => &self.token_reuse,
            E::AuthenticationFailed { .. } => &self.credentials_refused,
            _ => return,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    fn write(&self, out: &mut String) -> std::fmt::Result {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        writeln!(
            out,
            "# HELP mhp_auth_sign_in_failures_total Password sign-ins refused: wrong \
             credentials, or refused unchecked while the account or address was throttled."
        )?;
        writeln!(out, "# TYPE mhp_auth_sign_in_failures_total counter")?;
        writeln!(
            out,
            "mhp_auth_sign_in_failures_total{{throttled=\"false\"}} {}",
            get(&self.sign_in_failed)
        )?;
        writeln!(
            out,
            "mhp_auth_sign_in_failures_total{{throttled=\"true\"}} {}",
            get(&self.sign_in_throttled)
        )?;
        counter(
            out,
            "mhp_auth_account_locks_total",
            "Accounts locked for every address after too many failed sign-ins.",
            get(&self.account_locked),
        )?;
        counter(
            out,
            "mhp_auth_mfa_failures_total",
            "Second factors that did not match.",
            get(&self.mfa_failed),
        )?;
        counter(
            out,
            "mhp_auth_refresh_token_reuse_total",
            "Refresh tokens presented twice (their family revoked).",
            get(&self.token_reuse),
        )?;
        counter(
            out,
            "mhp_auth_credentials_refused_total",
            "API requests whose credentials did not authenticate (missing, invalid, expired, \
             forged).",
            get(&self.credentials_refused),
        )?;
        Ok(())
    }
}

/// Writes one unlabelled counter with its help and type lines. (deploy/prometheus/
/// check_metrics.py reads the names given to it and to [`gauge`] as exported.)
fn counter(out: &mut String, name: &str, help: &str, value: u64) -> std::fmt::Result {
    series(out, name, help, "counter", value)
}

/// Writes one unlabelled gauge with its help and type lines.
fn gauge(
    out: &mut String,
    name: &str,
    help: &str,
    value: impl std::fmt::Display,
) -> std::fmt::Result {
    series(out, name, help, "gauge", value)
}

fn series(
    out: &mut String,
    name: &str,
    help: &str,
    kind: &str,
    value: impl std::fmt::Display,
) -> std::fmt::Result {
    writeln!(out, "# HELP {name} {help}")?;
    writeln!(out, "# TYPE {name} {kind}")?;
    writeln!(out, "{name} {value}")
}

/// The process's own figures from `/proc/self` (Linux), in the names Prometheus's client
/// libraries use: CPU seconds, resident memory, open and allowed file descriptors, start time.
/// Read by hand: four small files, where a procfs crate would bring a dependency tree.
pub fn write_process(out: &mut String) -> std::fmt::Result {
    // USER_HZ, the unit of /proc's CPU times, is 100 on every Linux architecture's user ABI.
    const TICKS_PER_SECOND: f64 = 100.0;
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which is in parentheses and may hold spaces).
    let fields: Vec<&str> = stat
        .rsplit_once(") ")
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let field = |n: usize| -> Option<f64> { fields.get(n - 3)?.parse().ok() };
    if let (Some(utime), Some(stime)) = (field(14), field(15)) {
        series(
            out,
            "process_cpu_seconds_total",
            "User and system CPU time spent.",
            "counter",
            (utime + stime) / TICKS_PER_SECOND,
        )?;
    }
    let boot_time: Option<f64> = std::fs::read_to_string("/proc/stat").ok().and_then(|s| {
        s.lines()
            .find_map(|l| l.strip_prefix("btime ").and_then(|v| v.trim().parse().ok()))
    });
    if let (Some(start), Some(boot)) = (field(22), boot_time) {
        gauge(
            out,
            "process_start_time_seconds",
            "Start time of the process since the epoch.",
            boot + start / TICKS_PER_SECOND,
        )?;
    }
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kib = |key: &str| -> Option<f64> {
        status.lines().find_map(|l| {
            l.strip_prefix(key)?
                .trim()
                .strip_suffix("kB")?
                .trim()
                .parse::<f64>()
                .ok()
        })
    };
    if let Some(rss) = kib("VmRSS:") {
        gauge(
            out,
            "process_resident_memory_bytes",
            "Resident memory size.",
            rss * 1024.0,
        )?;
    }
    if let Some(virt) = kib("VmSize:") {
        gauge(
            out,
            "process_virtual_memory_bytes",
            "Virtual memory size.",
            virt * 1024.0,
        )?;
    }
    if let Ok(fds) = std::fs::read_dir("/proc/self/fd") {
        gauge(
            out,
            "process_open_fds",
            "Open file descriptors.",
            fds.count(),
        )?;
    }
    let max_fds = std::fs::read_to_string("/proc/self/limits")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Max open files"))
                .and_then(|l| l.split_whitespace().nth(3))
                .and_then(|v| v.parse::<u64>().ok())
        });
    if let Some(max) = max_fds {
        gauge(
            out,
            "process_max_fds",
            "Most open file descriptors allowed.",
            max,
        )?;
    }
    Ok(())
}

/// Upper bounds of the latency buckets, in seconds. 0.3 is the read-latency objective's bound
/// (docs/design/observability.md): the share of reads within it is a bucket, not an estimate.
const BUCKETS: [f64; 15] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.3, 0.5, 1.0, 2.5, 5.0, 10.0,
];

#[derive(Debug, Default)]
struct Series {
    requests: BTreeMap<(&'static str, &'static str, u16), u64>,
    latency: BTreeMap<(&'static str, &'static str), Histogram>,
    /// Route templates seen so far, each stored once for the life of the process, so that
    /// recording a request allocates nothing. The set is bounded: templates come from the
    /// route table (or are "unmatched"), never from a request's path.
    routes: HashMap<String, &'static str>,
}

impl Series {
    fn route(&mut self, template: &str) -> &'static str {
        if let Some(r) = self.routes.get(template) {
            return r;
        }
        let r: &'static str = Box::leak(template.to_owned().into_boxed_str());
        self.routes.insert(template.to_owned(), r);
        r
    }
}

/// HTTP request metrics, recorded by the observing middleware, and counters of the work that
/// requests leave for after their answer.
#[derive(Debug, Default)]
pub struct HttpMetrics {
    series: Mutex<Series>,
    resets_processed: AtomicU64,
    mail_limited: AtomicU64,
}

/// What the exposition reports beside the request series.
#[derive(Debug, Clone)]
pub struct Snapshot<'a> {
    /// The pool's figures.
    pub pool: PoolStats,
    /// "sqlite" or "postgres".
    pub backend: &'static str,
    /// The build's version.
    pub version: &'a str,
    /// Whether the instance accepts traffic.
    pub ready: bool,
    /// The pipeline queue per pipeline (`None` when it could not be read).
    pub queues: Option<Vec<mhp_storage::repo::pipelines::QueueStat>>,
    /// Security monitoring's sinks: delivered, refused batches, backlog.
    pub security_sinks: std::collections::BTreeMap<&'static str, mhp_app::siem::SinkFigures>,
    /// Alerts by rule, severity and status (`None` when they could not be read).
    pub alerts: Option<Vec<(String, String, String, i64)>>,
    /// The monitor's passes and the events its rules evaluated.
    pub security_progress: (u64, u64),
    /// Group commit of read events: transactions and the events they committed.
    pub read_events: mhp_storage::group_commit::Figures,
    /// Webhooks: messages made, attempts delivered, attempts failed, deliveries given up.
    pub webhooks: (u64, u64, u64, u64),
    /// The newest good backup of each kind (`data`, `key-store`, `drill`): when, and a
    /// drill's RTO and RPO in ms (`None` when they could not be read).
    pub backups: Option<Vec<mhp_storage::repo::backups::LatestGood>>,
    /// The time of the scrape (ms since the epoch), for ages.
    pub now_ms: i64,
}

impl HttpMetrics {
    /// Counts a password-reset request whose work (after the answer) is done, whether or not
    /// the address had an account.
    pub fn reset_processed(&self) {
        self.resets_processed.fetch_add(1, Ordering::Relaxed);
    }

    /// Password-reset requests whose work is done since start.
    pub fn resets_processed(&self) -> u64 {
        self.resets_processed.load(Ordering::Relaxed)
    }

    /// Counts a message refused by the limits on mail.
    pub fn mail_limited(&self) {
        self.mail_limited.fetch_add(1, Ordering::Relaxed);
    }

    /// Records one finished request.
    pub fn record(&self, method: &'static str, route: &str, status: u16, elapsed: Duration) {
        let Ok(mut s) = self.series.lock() else {
            return;
        };
        let route = s.route(route);
        *s.requests.entry((method, route, status)).or_default() += 1;
        s.latency
            .entry((method, route))
            .or_insert_with(|| Histogram::new(&BUCKETS))
            .observe(elapsed);
    }

    /// Renders every series in the Prometheus text format.
    pub fn render(&self, snap: &Snapshot<'_>) -> String {
        let mut out = String::with_capacity(4096);
        let _ = self.write(&mut out, snap);
        out
    }

    fn write(&self, out: &mut String, snap: &Snapshot<'_>) -> std::fmt::Result {
        writeln!(out, "# HELP mhp_build_info Build information; always 1.")?;
        writeln!(out, "# TYPE mhp_build_info gauge")?;
        writeln!(
            out,
            "mhp_build_info{{version=\"{}\",backend=\"{}\"}} 1",
            escape(snap.version),
            snap.backend
        )?;
        writeln!(
            out,
            "# HELP mhp_ready Whether the instance accepts traffic."
        )?;
        writeln!(out, "# TYPE mhp_ready gauge")?;
        writeln!(out, "mhp_ready {}", u8::from(snap.ready))?;

        writeln!(
            out,
            "# HELP mhp_password_reset_requests_processed_total Password-reset requests whose \
             work after the answer is done (known and unknown addresses alike)."
        )?;
        writeln!(
            out,
            "# TYPE mhp_password_reset_requests_processed_total counter"
        )?;
        writeln!(
            out,
            "mhp_password_reset_requests_processed_total {}",
            self.resets_processed()
        )?;
        writeln!(
            out,
            "# HELP mhp_mail_rate_limited_total Password-reset and invitation messages refused \
             by the limits per address and organisation."
        )?;
        writeln!(out, "# TYPE mhp_mail_rate_limited_total counter")?;
        writeln!(
            out,
            "mhp_mail_rate_limited_total {}",
            self.mail_limited.load(Ordering::Relaxed)
        )?;

        writeln!(
            out,
            "# HELP mhp_db_pool_connections Open database connections by state."
        )?;
        writeln!(out, "# TYPE mhp_db_pool_connections gauge")?;
        let PoolStats { size, idle, max } = snap.pool;
        writeln!(out, "mhp_db_pool_connections{{state=\"idle\"}} {idle}")?;
        writeln!(
            out,
            "mhp_db_pool_connections{{state=\"in_use\"}} {}",
            size - idle
        )?;
        writeln!(out, "# HELP mhp_db_pool_max_connections The pool's limit.")?;
        writeln!(out, "# TYPE mhp_db_pool_max_connections gauge")?;
        writeln!(out, "mhp_db_pool_max_connections {max}")?;

        if let Some(queues) = &snap.queues {
            writeln!(
                out,
                "# HELP mhp_pipeline_jobs Pipeline jobs by state: due (waiting for a worker), \
                 pending (backing off or waiting for earlier steps), running."
            )?;
            writeln!(out, "# TYPE mhp_pipeline_jobs gauge")?;
            for q in queues {
                let p = escape(&q.pipeline);
                for (state, n) in [
                    ("due", q.due),
                    ("pending", q.pending),
                    ("running", q.running),
                ] {
                    writeln!(
                        out,
                        "mhp_pipeline_jobs{{pipeline=\"{p}\",state=\"{state}\"}} {n}"
                    )?;
                }
            }
            writeln!(
                out,
                "# HELP mhp_pipeline_oldest_due_seconds Age of the oldest job waiting for a worker."
            )?;
            writeln!(out, "# TYPE mhp_pipeline_oldest_due_seconds gauge")?;
            for q in queues {
                writeln!(
                    out,
                    "mhp_pipeline_oldest_due_seconds{{pipeline=\"{}\"}} {}",
                    escape(&q.pipeline),
                    q.oldest_due_age_ms as f64 / 1000.0
                )?;
            }
        }

        if !snap.security_sinks.is_empty() {
            writeln!(
                out,
                "# HELP mhp_security_events_delivered_total Security events delivered to a SIEM sink."
            )?;
            writeln!(out, "# TYPE mhp_security_events_delivered_total counter")?;
            for (sink, f) in &snap.security_sinks {
                writeln!(
                    out,
                    "mhp_security_events_delivered_total{{sink=\"{sink}\"}} {}",
                    f.delivered
                )?;
            }
            writeln!(
                out,
                "# HELP mhp_security_delivery_errors_total Batches a SIEM sink refused (kept for later)."
            )?;
            writeln!(out, "# TYPE mhp_security_delivery_errors_total counter")?;
            for (sink, f) in &snap.security_sinks {
                writeln!(
                    out,
                    "mhp_security_delivery_errors_total{{sink=\"{sink}\"}} {}",
                    f.errors
                )?;
            }
            writeln!(
                out,
                "# HELP mhp_security_backlog_events Security events waiting for a SIEM sink."
            )?;
            writeln!(out, "# TYPE mhp_security_backlog_events gauge")?;
            for (sink, f) in &snap.security_sinks {
                writeln!(
                    out,
                    "mhp_security_backlog_events{{sink=\"{sink}\"}} {}",
                    f.backlog
                )?;
            }
        }
        writeln!(
            out,
            "# HELP mhp_security_monitor_passes_total Passes of the security monitor (ship, evaluate)."
        )?;
        writeln!(out, "# TYPE mhp_security_monitor_passes_total counter")?;
        writeln!(
            out,
            "mhp_security_monitor_passes_total {}",
            snap.security_progress.0
        )?;
        writeln!(
            out,
            "# HELP mhp_security_events_evaluated_total Security events the detection rules evaluated."
        )?;
        writeln!(out, "# TYPE mhp_security_events_evaluated_total counter")?;
        writeln!(
            out,
            "mhp_security_events_evaluated_total {}",
            snap.security_progress.1
        )?;
        let (made, delivered, failed, gave_up) = snap.webhooks;
        counter(
            out,
            "mhp_webhook_messages_total",
            "Webhook messages made for organisations' endpoints.",
            made,
        )?;
        writeln!(
            out,
            "# HELP mhp_webhook_attempts_total Webhook delivery attempts by result (failed: an answer that is not 2xx, or none)."
        )?;
        writeln!(out, "# TYPE mhp_webhook_attempts_total counter")?;
        writeln!(
            out,
            "mhp_webhook_attempts_total{{result=\"delivered\"}} {delivered}"
        )?;
        writeln!(
            out,
            "mhp_webhook_attempts_total{{result=\"failed\"}} {failed}"
        )?;
        counter(
            out,
            "mhp_webhook_deliveries_given_up_total",
            "Webhook deliveries that failed for three days and were given up.",
            gave_up,
        )?;
        writeln!(
            out,
            "# HELP mhp_audit_read_batches_total Transactions that committed read events together (group commit)."
        )?;
        writeln!(out, "# TYPE mhp_audit_read_batches_total counter")?;
        writeln!(
            out,
            "mhp_audit_read_batches_total {}",
            snap.read_events.batches
        )?;
        writeln!(
            out,
            "# HELP mhp_audit_read_events_total Audit events of reads committed by group commit."
        )?;
        writeln!(out, "# TYPE mhp_audit_read_events_total counter")?;
        writeln!(
            out,
            "mhp_audit_read_events_total {}",
            snap.read_events.events
        )?;
        if let Some(alerts) = &snap.alerts {
            writeln!(
                out,
                "# HELP mhp_security_alerts Security alerts by rule, severity and status."
            )?;
            writeln!(out, "# TYPE mhp_security_alerts gauge")?;
            for (rule, severity, status, n) in alerts {
                writeln!(
                    out,
                    "mhp_security_alerts{{rule=\"{}\",severity=\"{}\",status=\"{}\"}} {n}",
                    escape(rule),
                    escape(severity),
                    escape(status)
                )?;
            }
        }

        AUTH.write(out)?;
        write_process(out)?;
        mhp_app::metrics::PIPELINES.write(out)?;
        if let Some(backups) = &snap.backups {
            writeln!(
                out,
                "# HELP mhp_backup_last_success_timestamp_seconds When the newest good backup \
                 (kind data, key-store) or restore drill (kind drill) ended."
            )?;
            writeln!(
                out,
                "# TYPE mhp_backup_last_success_timestamp_seconds gauge"
            )?;
            for b in backups {
                writeln!(
                    out,
                    "mhp_backup_last_success_timestamp_seconds{{kind=\"{}\"}} {}",
                    escape(&b.kind),
                    b.at_ms as f64 / 1000.0
                )?;
            }
            writeln!(
                out,
                "# HELP mhp_backup_age_seconds Age of the newest good backup or restore drill."
            )?;
            writeln!(out, "# TYPE mhp_backup_age_seconds gauge")?;
            for b in backups {
                writeln!(
                    out,
                    "mhp_backup_age_seconds{{kind=\"{}\"}} {}",
                    escape(&b.kind),
                    (snap.now_ms - b.at_ms).max(0) as f64 / 1000.0
                )?;
            }
            if let Some(drill) = backups.iter().find(|b| b.kind == "drill") {
                writeln!(
                    out,
                    "# HELP mhp_backup_drill_rto_seconds Seconds from the newest passed drill's \
                     start to a server ready on the restored copy."
                )?;
                writeln!(out, "# TYPE mhp_backup_drill_rto_seconds gauge")?;
                writeln!(
                    out,
                    "mhp_backup_drill_rto_seconds {}",
                    drill.rto_ms.unwrap_or_default() as f64 / 1000.0
                )?;
                writeln!(
                    out,
                    "# HELP mhp_backup_drill_rpo_seconds Age of the newest write the newest \
                     passed drill restored."
                )?;
                writeln!(out, "# TYPE mhp_backup_drill_rpo_seconds gauge")?;
                writeln!(
                    out,
                    "mhp_backup_drill_rpo_seconds {}",
                    drill.rpo_ms.unwrap_or_default() as f64 / 1000.0
                )?;
            }
        }

        let Ok(s) = self.series.lock() else {
            return Ok(());
        };
        writeln!(
            out,
            "# HELP mhp_http_requests_total HTTP requests by route and status."
        )?;
        writeln!(out, "# TYPE mhp_http_requests_total counter")?;
        for ((method, route, status), n) in &s.requests {
            writeln!(
                out,
                "mhp_http_requests_total{{method=\"{method}\",route=\"{}\",status=\"{status}\"}} {n}",
                escape(route)
            )?;
        }
        writeln!(
            out,
            "# HELP mhp_http_request_duration_seconds HTTP request latency by route."
        )?;
        writeln!(out, "# TYPE mhp_http_request_duration_seconds histogram")?;
        for ((method, route), h) in &s.latency {
            let labels = format!("method=\"{method}\",route=\"{}\"", escape(route));
            h.write(out, "mhp_http_request_duration_seconds", &labels)?;
        }
        Ok(())
    }
}

fn escape(label: &str) -> String {
    label
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use mhp_storage::repo::backups::LatestGood;

    use super::*;

    #[test]
    fn requests_land_in_cumulative_buckets() {
        let m = HttpMetrics::default();
        m.record("GET", "/healthz", 200, Duration::from_micros(300));
        m.record("GET", "/healthz", 200, Duration::from_millis(30));
        m.record("GET", "/healthz", 503, Duration::from_secs(20));
        let text = m.render(&Snapshot {
            backups: Some(vec![
                LatestGood {
                    kind: "data".to_owned(),
                    at_ms: 1_796_000_000_000,
                    rto_ms: None,
                    rpo_ms: None,
                },
                LatestGood {
                    kind: "drill".to_owned(),
                    at_ms: 1_796_000_100_000,
                    rto_ms: Some(1_800),
                    rpo_ms: Some(6_500),
                },
            ]),
            now_ms: 1_796_000_200_000,
            queues: None,
            security_sinks: Default::default(),
            alerts: None,
            security_progress: (0, 0),
            webhooks: (0, 0, 0, 0),
            read_events: mhp_storage::group_commit::Figures {
                batches: 0,
                events: 0,
            },
            pool: PoolStats {
                size: 3,
                idle: 1,
                max: 10,
            },
            backend: "sqlite",
            version: "0.1.0",
            ready: true,
        });
        for line in [
            r#"mhp_http_requests_total{method="GET",route="/healthz",status="200"} 2"#,
            r#"mhp_http_requests_total{method="GET",route="/healthz",status="503"} 1"#,
            r#"mhp_http_request_duration_seconds_bucket{method="GET",route="/healthz",le="0.0005"} 1"#,
            r#"mhp_http_request_duration_seconds_bucket{method="GET",route="/healthz",le="0.05"} 2"#,
            r#"mhp_http_request_duration_seconds_bucket{method="GET",route="/healthz",le="10"} 2"#,
            r#"mhp_http_request_duration_seconds_bucket{method="GET",route="/healthz",le="+Inf"} 3"#,
            r#"mhp_http_request_duration_seconds_count{method="GET",route="/healthz"} 3"#,
            r#"mhp_db_pool_connections{state="in_use"} 2"#,
            r#"mhp_build_info{version="0.1.0",backend="sqlite"} 1"#,
            r#"mhp_backup_last_success_timestamp_seconds{kind="data"} 1796000000"#,
            r#"mhp_backup_age_seconds{kind="data"} 200"#,
            r#"mhp_backup_age_seconds{kind="drill"} 100"#,
            "mhp_backup_drill_rto_seconds 1.8",
            "mhp_backup_drill_rpo_seconds 6.5",
        ] {
            assert!(text.lines().any(|l| l == line), "missing {line}\n{text}");
        }
        assert!(
            text.contains("# TYPE mhp_auth_sign_in_failures_total counter"),
            "{text}"
        );
        // The process's figures are real readings of /proc.
        for name in [
            "process_cpu_seconds_total",
            "process_resident_memory_bytes",
            "process_open_fds",
            "process_max_fds",
            "process_start_time_seconds",
        ] {
            let value: f64 = text
                .lines()
                .find_map(|l| l.strip_prefix(&format!("{name} ")))
                .unwrap_or_else(|| panic!("missing {name}\n{text}"))
                .parse()
                .unwrap();
            assert!(
                value > 0.0 || name == "process_cpu_seconds_total",
                "{name} {value}"
            );
        }
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
