//! Notifications of security alerts, as consumers of the security stream like the SIEM sinks
//! (`mhp_app::siem`): they see every OCSF event, act on the Detection Findings (class 2004,
//! one per alert raised) and move their cursors only once every alert of a batch is out, so an
//! alert is notified at least once, whatever goes down meanwhile.
//!
//! - `webhook` (`security.webhook_url`): one POST per alert, the finding as the body, signed in
//!   the Standard Webhooks form (`mhp_egress::webhook`); a retry carries the same `webhook-id`,
//!   so the receiver drops duplicates. After a refusal it waits before trying again, doubling
//!   the wait from 1 s up to 5 min.
//! - `email` (`security.alert_emails`): one message per alert and address through the notifier
//!   (the outbox by default).
//!
//! A consumer that starts (a webhook configured today) does not send the alerts of the past: a
//! finding raised more than a day before it is seen is history and is passed over.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mhp_app::notify::{Message, Notifier};
use mhp_app::siem::{Delivery, RemoteSink, Sink, SinkError};
use mhp_domain::{Email, Secret, Timestamp};
use mhp_egress::webhook::{Webhook, WebhookSecret};
use serde_json::Value;

use crate::Failure;
use crate::settings::Settings;

/// The OCSF class of alerts.
const DETECTION_FINDING: u64 = 2004;
/// Older findings are history when a consumer first sees them.
const HISTORY_MS: i64 = 86_400_000;

/// The alerts among `lines`: (event uid, the line, the finding).
fn alerts(lines: &[String], now: Timestamp) -> Vec<(String, &String, Value)> {
    // Most events are not alerts: only lines that can be are parsed (the monitor writes compact
    // JSON, so an alert's line holds `"class_uid":2004` as it is).
    let alert = format!("\"class_uid\":{DETECTION_FINDING}");
    lines
        .iter()
        .filter(|line| line.contains(&alert))
        .filter_map(|line| {
            let v: Value = serde_json::from_str(line).ok()?;
            if v["class_uid"].as_u64() != Some(DETECTION_FINDING) {
                return None;
            }
            if v["time"]
                .as_i64()
                .is_some_and(|t| now.as_millis() - t > HISTORY_MS)
            {
                return None;
            }
            let uid = v["metadata"]["uid"].as_str()?.to_owned();
            Some((uid, line, v))
        })
        .collect()
}

/// Waits between attempts after refusals: 1 s, doubling to 5 min.
#[derive(Debug, Default)]
struct Backoff(Mutex<Option<(u32, Instant)>>);

impl Backoff {
    fn ready(&self) -> bool {
        self.0
            .lock()
            .map(|s| s.is_none_or(|(_, until)| Instant::now() >= until))
            .unwrap_or(true)
    }

    fn failed(&self) {
        if let Ok(mut s) = self.0.lock() {
            let n = s.map_or(0, |(n, _)| n.saturating_add(1));
            let wait = Duration::from_secs(1u64 << n.min(9)).min(Duration::from_secs(300));
            *s = Some((n, Instant::now() + wait));
        }
    }

    fn succeeded(&self) {
        if let Ok(mut s) = self.0.lock() {
            *s = None;
        }
    }
}

/// Alerts posted to a webhook.
#[derive(Debug)]
struct WebhookSink {
    webhook: Webhook,
    backoff: Backoff,
}

impl RemoteSink for WebhookSink {
    fn name(&self) -> &'static str {
        "webhook"
    }

    fn deliver<'a>(&'a self, lines: &'a [String], now: Timestamp) -> Delivery<'a> {
        Box::pin(async move {
            let alerts = alerts(lines, now);
            if alerts.is_empty() {
                return Ok(());
            }
            if !self.backoff.ready() {
                return Err(SinkError::new("webhook: waiting before the next attempt"));
            }
            for (uid, line, _) in alerts {
                let sent = self
                    .webhook
                    .send(&uid, now.as_millis() / 1000, line.clone().into_bytes())
                    .await;
                if let Err(e) = sent {
                    self.backoff.failed();
                    return Err(SinkError::new(format!("webhook: {e}")));
                }
            }
            self.backoff.succeeded();
            Ok(())
        })
    }
}

/// Alerts mailed through the notifier.
#[derive(Debug)]
struct EmailSink {
    notifier: Notifier,
    to: Vec<Email>,
}

fn text(v: &Value, uid: &str) -> String {
    let info = &v["finding_info"];
    let s = |x: &Value| x.as_str().unwrap_or("").to_owned();
    format!(
        "A security alert was raised.\n\nRule: {}\nAlert: {}\nSeverity: {}\nOrganisation: {}\n\
         What: {}\nEvent: {}\n\nRead and acknowledge it at GET /api/v1/security/alerts (platform \
         operator) or the organisation's /security/alerts.\n",
        s(&info["analytic"]["uid"]),
        s(&info["title"]),
        s(&v["severity"]),
        v["metadata"]["tenant_uid"]
            .as_str()
            .unwrap_or("the platform"),
        s(&info["desc"]),
        uid,
    )
}

impl RemoteSink for EmailSink {
    fn name(&self) -> &'static str {
        "email"
    }

    fn deliver<'a>(&'a self, lines: &'a [String], now: Timestamp) -> Delivery<'a> {
        Box::pin(async move {
            for (uid, _, v) in alerts(lines, now) {
                for to in &self.to {
                    self.notifier
                        .send(&Message {
                            to: to.clone(),
                            subject: "MHP security alert",
                            body: Secret::new(text(&v, &uid)),
                        })
                        .await
                        .map_err(|e| SinkError::new(format!("email: {}", e.kind())))?;
                }
            }
            Ok(())
        })
    }
}

/// The notification sinks the settings ask for.
pub fn sinks(settings: &Settings) -> Result<Vec<Sink>, Failure> {
    let s = &settings.security;
    let mut out = Vec::new();
    if !s.webhook_url.is_empty() {
        let url = mhp_egress::Url::parse(&s.webhook_url)
            .map_err(|_| Failure::Invalid("security.webhook_url: not a URL".into()))?;
        let policy = settings.egress.policy()?;
        policy
            .check_url(&url)
            .map_err(|e| Failure::Invalid(format!("security.webhook_url: {e}")))?;
        let reference = s.webhook_secret.as_deref().ok_or_else(|| {
            Failure::Invalid(
                "security.webhook_secret: a webhook needs its signing secret (whsec_…) as a \
                 secret:// reference"
                    .into(),
            )
        })?;
        let secret = crate::cloud::secrets(settings, Duration::ZERO, crate::cloud::process_env())
            .map_err(Failure::Invalid)?
            .resolve(reference)
            .map_err(|e| Failure::Invalid(format!("security.webhook_secret: {e}")))?;
        let secret = WebhookSecret::parse(secret.expose())
            .map_err(|e| Failure::Invalid(format!("security.webhook_secret: {e}")))?;
        let egress = mhp_server::egress_client(policy)
            .map_err(|e| Failure::Runtime(anyhow::anyhow!("egress client: {e}")))?;
        out.push(Sink::Remote(Arc::new(WebhookSink {
            webhook: Webhook::new(egress, url, secret),
            backoff: Backoff::default(),
        })));
    }
    if !s.alert_emails.is_empty() {
        let to = s
            .alert_emails
            .iter()
            .map(|a| {
                Email::parse(a).map_err(|_| {
                    Failure::Invalid("security.alert_emails: not an e-mail address".into())
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        out.push(Sink::Remote(Arc::new(EmailSink {
            notifier: crate::cloud::notifier(settings, &crate::cloud::process_env())?,
            to,
        })));
    }
    Ok(out)
}
