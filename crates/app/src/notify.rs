//! Messages to people (invitations, password resets, alerts). The embedded default is an
//! outbox: one JSON file per message in a private directory, which an operator or a mail relay
//! picks up. With an SMTP relay configured they are sent there instead (lettre; TLS required
//! unless the settings say otherwise outside production), or to a mail service's API (Amazon
//! SES, given by the command line as a [`MailApi`]). Messages hold single-use secrets, so they
//! never go to a log; the log records only that a message was queued or sent.

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;

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
    /// An SMTP relay.
    Smtp(Box<Smtp>),
    /// A mail service's API.
    Api(Box<ApiMail>),
}

/// A mail service reached by its API (Amazon SES's `SendEmail`), which takes a whole MIME
/// message: the edge that knows the service implements it.
pub trait MailApi: Send + Sync + std::fmt::Debug {
    /// The service's name for the log (`ses`).
    fn name(&self) -> &'static str;
    /// Sends `raw` (headers and body) from `from` to `to`. The error names what went wrong
    /// without the message or the recipient.
    fn send_raw<'a>(
        &'a self,
        from: &'a str,
        to: &'a str,
        raw: &'a [u8],
    ) -> Pin<Box<dyn Future<Output = Result<(), String>> + Send + 'a>>;
}

/// Messages built here and handed to a [`MailApi`].
#[derive(Debug, Clone)]
pub struct ApiMail {
    api: Arc<dyn MailApi>,
    from: lettre::message::Mailbox,
}

impl ApiMail {
    /// Sends through `api` from `from` (`MHP <no-reply@example.org>` or a bare address).
    pub fn new(api: Arc<dyn MailApi>, from: &str) -> Result<Self, String> {
        let from = from
            .parse()
            .map_err(|_| "the sender is not an e-mail address".to_owned())?;
        Ok(Self { api, from })
    }

    async fn send(&self, message: &Message) -> std::io::Result<()> {
        let email = build(&self.from, message)?;
        // The formatted message holds the link: its buffer is wiped once sent.
        let raw = zeroize::Zeroizing::new(email.formatted());
        self.api
            .send_raw(self.from.email.as_ref(), message.to.as_str(), &raw)
            .await
            .map_err(std::io::Error::other)?;
        tracing::info!(service = self.api.name(), "notification sent");
        Ok(())
    }
}

/// The MIME message: plain text, from the sender to the recipient.
fn build(from: &lettre::message::Mailbox, message: &Message) -> std::io::Result<lettre::Message> {
    let to: lettre::message::Mailbox = message
        .to
        .as_str()
        .parse()
        .map_err(|_| std::io::Error::other("the recipient is not an e-mail address"))?;
    lettre::Message::builder()
        .from(from.clone())
        .to(to)
        .subject(message.subject)
        .header(lettre::message::header::ContentType::TEXT_PLAIN)
        .body(message.body.expose().clone())
        .map_err(|e| std::io::Error::other(format!("the message could not be built: {e}")))
}

/// How the relay is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpTls {
    /// TLS from the first byte (`smtps`, port 465 by default).
    Implicit,
    /// `STARTTLS`, required: a relay that does not offer it is not sent to (port 587).
    StartTls,
    /// No TLS at all (a relay on the same host, tests). Never in production.
    None,
}

/// An SMTP relay and the sender's address.
#[derive(Clone)]
pub struct Smtp {
    transport: lettre::AsyncSmtpTransport<lettre::Tokio1Executor>,
    from: lettre::message::Mailbox,
    relay: String,
}

impl std::fmt::Debug for Smtp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Smtp")
            .field("relay", &self.relay)
            .field("from", &self.from.email.to_string())
            .finish_non_exhaustive()
    }
}

/// What the SMTP notifier is made from.
#[derive(Debug)]
pub struct SmtpSettings<'a> {
    /// The relay's host name (or address).
    pub host: &'a str,
    /// Its port; `None`: the usual one for `tls`.
    pub port: Option<u16>,
    /// How the connection is protected.
    pub tls: SmtpTls,
    /// The user and password the relay wants, if any.
    pub credentials: Option<(String, Secret<String>)>,
    /// A certificate authority (PEM) to trust besides the Mozilla roots: a relay inside the
    /// organisation with a certificate of its own authority.
    pub extra_ca_pem: Option<Vec<u8>>,
    /// The sender: `MHP <no-reply@example.org>` or a bare address.
    pub from: &'a str,
}

impl Smtp {
    /// The notifier for `settings`; an error names what is wrong (without the password).
    pub fn new(settings: SmtpSettings<'_>) -> Result<Self, String> {
        use lettre::AsyncSmtpTransport as T;
        let from: lettre::message::Mailbox = settings
            .from
            .parse()
            .map_err(|_| "the sender is not an e-mail address".to_owned())?;
        let builder = match settings.tls {
            SmtpTls::Implicit => T::<lettre::Tokio1Executor>::relay(settings.host),
            SmtpTls::StartTls => T::<lettre::Tokio1Executor>::starttls_relay(settings.host),
            SmtpTls::None => Ok(T::<lettre::Tokio1Executor>::builder_dangerous(
                settings.host,
            )),
        }
        .map_err(|e| format!("the relay's host: {e}"))?;
        let mut builder = builder.timeout(Some(std::time::Duration::from_secs(20)));
        if let Some(pem) = &settings.extra_ca_pem {
            use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
            let ca = Certificate::from_pem(pem).map_err(|_| {
                "the certificate authority file is not a PEM certificate".to_owned()
            })?;
            let parameters = TlsParameters::builder(settings.host.to_owned())
                .add_root_certificate(ca)
                .build_rustls()
                .map_err(|e| format!("TLS settings: {e}"))?;
            builder = match settings.tls {
                SmtpTls::Implicit => builder.tls(Tls::Wrapper(parameters)),
                SmtpTls::StartTls => builder.tls(Tls::Required(parameters)),
                SmtpTls::None => {
                    return Err("a certificate authority is for TLS, and TLS is off".to_owned());
                }
            };
        }
        if let Some(port) = settings.port {
            builder = builder.port(port);
        }
        if let Some((user, password)) = settings.credentials {
            builder =
                builder.credentials(lettre::transport::smtp::authentication::Credentials::new(
                    user,
                    password.expose().clone(),
                ));
        }
        Ok(Self {
            transport: builder.build(),
            from,
            relay: settings.host.to_owned(),
        })
    }

    async fn send(&self, message: &Message) -> std::io::Result<()> {
        use lettre::AsyncTransport as _;
        let email = build(&self.from, message)?;
        self.transport
            .send(email)
            .await
            .map_err(|e| std::io::Error::other(smtp_failure(&e)))?;
        tracing::info!(relay = %self.relay, "notification sent by SMTP");
        Ok(())
    }
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
            Notifier::Smtp(smtp) => smtp.send(message).await,
            Notifier::Api(api) => api.send(message).await,
        }
    }
}

/// What went wrong, without the relay's own text: a rejection often quotes the recipient's
/// address, which must not reach a log.
fn smtp_failure(e: &lettre::transport::smtp::Error) -> String {
    let code = e
        .status()
        .map(|c| format!(" (reply {c})"))
        .unwrap_or_default();
    if e.is_permanent() {
        format!("the SMTP relay refused the message{code}")
    } else if e.is_transient() {
        format!("the SMTP relay deferred the message{code}")
    } else if e.is_timeout() {
        "the SMTP relay did not answer in time".to_owned()
    } else if e.is_tls() {
        "TLS with the SMTP relay failed".to_owned()
    } else {
        "the SMTP relay could not be reached or broke off".to_owned()
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
