//! The syslog sink (`security.syslog_address`): every security event as an RFC 5424 message
//! over TLS (RFC 5425), octet-counted, for Wazuh managers and other SIEMs that take syslog.
//!
//! A message is `<PRI>1 TIMESTAMP HOST mhp PID MSGID - JSON`: facility 13 (log audit), the
//! severity from the OCSF event's, MSGID the OCSF class without spaces (`Authentication`,
//! `DetectionFinding`), no structured data, and the OCSF event as the message (the decoders of
//! `deploy/wazuh/` read it as JSON). The connection is kept and made again after an error; a
//! batch is acknowledged once every message of it is written and flushed (syslog has no
//! receipts: what the receiver lost after that is not known here).

use std::sync::Arc;
use std::time::Duration;

use mhp_app::siem::{Delivery, RemoteSink, Sink, SinkError};
use mhp_domain::Timestamp;
use rustls_pki_types::pem::PemObject as _;
use rustls_pki_types::{CertificateDer, ServerName};
use serde_json::Value;
use tokio::io::AsyncWriteExt as _;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use crate::Failure;
use crate::settings::Settings;

/// Facility 13, log audit.
const FACILITY: u32 = 13;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The syslog severity (RFC 5424) of an OCSF `severity_id`.
fn severity(ocsf: u64) -> u32 {
    match ocsf {
        6 => 1, // fatal: alert
        5 => 2, // critical
        4 => 3, // high: error
        3 => 4, // medium: warning
        2 => 5, // low: notice
        _ => 6, // informational, unknown: informational
    }
}

/// One event as an RFC 5424 message.
pub fn message(line: &str, host: &str, pid: u32) -> String {
    let v: Value = serde_json::from_str(line).unwrap_or(Value::Null);
    let pri = FACILITY * 8 + severity(v["severity_id"].as_u64().unwrap_or(1));
    let time = v["time"]
        .as_i64()
        .and_then(chrono::DateTime::from_timestamp_millis)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let msgid: String = v["class_name"]
        .as_str()
        .unwrap_or("-")
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(32)
        .collect();
    let msgid = if msgid.is_empty() {
        "-".to_owned()
    } else {
        msgid
    };
    format!("<{pri}>1 {time} {host} mhp {pid} {msgid} - {line}")
}

/// Messages to one syslog receiver over TLS.
struct SyslogSink {
    address: String,
    server: ServerName<'static>,
    tls: TlsConnector,
    host: String,
    conn: tokio::sync::Mutex<Option<TlsStream<TcpStream>>>,
}

impl std::fmt::Debug for SyslogSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SyslogSink")
            .field("address", &self.address)
            .finish_non_exhaustive()
    }
}

impl SyslogSink {
    async fn connect(&self) -> Result<TlsStream<TcpStream>, SinkError> {
        let tcp = tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(&self.address))
            .await
            .map_err(|_| SinkError::new("syslog: the connection timed out"))?
            .map_err(|e| SinkError::new(format!("syslog: cannot connect: {}", e.kind())))?;
        tokio::time::timeout(CONNECT_TIMEOUT, self.tls.connect(self.server.clone(), tcp))
            .await
            .map_err(|_| SinkError::new("syslog: the TLS handshake timed out"))?
            .map_err(|e| SinkError::new(format!("syslog: TLS: {e}")))
    }
}

/// Whether a kept connection is still open: the receiver sends nothing after the handshake, so
/// anything readable (its close, an alert) or an error means it is gone.
fn alive(stream: &TlsStream<TcpStream>) -> bool {
    let (tcp, _) = stream.get_ref();
    matches!(
        tcp.try_read(&mut [0u8; 1]),
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock
    )
}

impl RemoteSink for SyslogSink {
    fn name(&self) -> &'static str {
        "syslog"
    }

    fn deliver<'a>(&'a self, lines: &'a [String], _now: Timestamp) -> Delivery<'a> {
        Box::pin(async move {
            let mut held = self.conn.lock().await;
            // A receiver that went away leaves a connection that still takes one write into
            // the void: such a connection is made again first.
            let mut stream = match held.take().filter(alive) {
                Some(s) => s,
                None => self.connect().await?,
            };
            let pid = std::process::id();
            let mut frames = Vec::new();
            for line in lines {
                let m = message(line, &self.host, pid);
                frames.extend_from_slice(format!("{} ", m.len()).as_bytes());
                frames.extend_from_slice(m.as_bytes());
            }
            let written = async {
                stream.write_all(&frames).await?;
                stream.flush().await
            };
            match tokio::time::timeout(CONNECT_TIMEOUT, written).await {
                Ok(Ok(())) => {
                    *held = Some(stream);
                    Ok(())
                }
                Ok(Err(e)) => Err(SinkError::new(format!("syslog: write: {}", e.kind()))),
                Err(_) => Err(SinkError::new("syslog: the write timed out")),
            }
        })
    }
}

/// The syslog sink the settings ask for, if any.
pub fn sink(settings: &Settings) -> Result<Option<Sink>, Failure> {
    let s = &settings.security;
    if s.syslog_address.is_empty() {
        return Ok(None);
    }
    let invalid = |what: String| Failure::Invalid(format!("security.syslog_address: {what}"));
    let (host, port) = s
        .syslog_address
        .rsplit_once(':')
        .filter(|(h, p)| !h.is_empty() && p.parse::<u16>().is_ok())
        .ok_or_else(|| invalid("host:port expected".into()))?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let server = ServerName::try_from(host.to_owned())
        .map_err(|_| invalid("not a host name or address".into()))?;
    let mut roots = tokio_rustls::rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    if let Some(ca) = &s.syslog_ca_file {
        let certs = CertificateDer::pem_file_iter(ca)
            .and_then(|i| i.collect::<Result<Vec<_>, _>>())
            .map_err(|_| {
                Failure::Invalid("security.syslog_ca_file: not a readable PEM file".into())
            })?;
        for cert in certs {
            roots.add(cert).map_err(|_| {
                Failure::Invalid("security.syslog_ca_file: a certificate does not parse".into())
            })?;
        }
    }
    let config = tokio_rustls::rustls::ClientConfig::builder_with_provider(Arc::new(
        tokio_rustls::rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| Failure::Runtime(anyhow::anyhow!("TLS: {e}")))?
    .with_root_certificates(roots)
    .with_no_client_auth();
    // RFC 5424's HOSTNAME is printable ASCII without spaces.
    let this_host = Some(crate::hostname())
        .filter(|h| h.is_ascii() && !h.contains(' '))
        .unwrap_or_else(|| "mhp".to_owned());
    Ok(Some(Sink::Remote(Arc::new(SyslogSink {
        address: format!("{host}:{port}"),
        server,
        tls: TlsConnector::from(Arc::new(config)),
        host: this_host,
        conn: tokio::sync::Mutex::new(None),
    }))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_becomes_an_rfc_5424_message() {
        let line = r#"{"class_name":"Detection Finding","severity_id":4,"time":1790000000123}"#;
        assert_eq!(
            message(line, "web-1", 42),
            format!("<107>1 2026-09-21T14:13:20.123Z web-1 mhp 42 DetectionFinding - {line}")
        );
    }
}
