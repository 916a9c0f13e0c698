//! Messages to people (invitations, password resets). The embedded default is an outbox: one
//! JSON file per message in a private directory, which an operator or a mail relay picks up.
//! Messages hold single-use secrets, so they never go to a log; the log records only that a
//! message was queued, by its file name.

use std::path::PathBuf;

use mhp_domain::{Email, Secret};
use serde_json::json;

/// A message to one person.
#[derive(Debug)]
pub struct Message {
    /// The recipient.
    pub to: Email,
    /// The subject line.
    pub subject: &'static str,
    /// The body, which may carry a secret link.
    pub body: Secret<String>,
}

/// Where messages go.
#[derive(Debug, Clone)]
pub enum Notifier {
    /// Files in a directory (created 0700, files 0600).
    Outbox(PathBuf),
}

impl Notifier {
    /// Queues a message.
    pub async fn send(&self, message: &Message) -> std::io::Result<()> {
        match self {
            Notifier::Outbox(dir) => {
                let dir = dir.clone();
                let name = format!("{}.json", uuid::Uuid::now_v7());
                let content = serde_json::to_vec_pretty(&json!({
                    "to": message.to.as_str(),
                    "subject": message.subject,
                    "body": message.body.expose(),
                }))
                .map_err(std::io::Error::other)?;
                let file = name.clone();
                tokio::task::spawn_blocking(move || write_private(&dir, &file, &content))
                    .await
                    .map_err(std::io::Error::other)??;
                tracing::info!(message = %name, "notification queued in the outbox");
                Ok(())
            }
        }
    }
}

fn write_private(dir: &std::path::Path, name: &str, content: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _};
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)?;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(dir.join(name))?;
    f.write_all(content)?;
    f.sync_all()
}
