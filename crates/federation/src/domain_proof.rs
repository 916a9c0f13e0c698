//! Proof that an organisation owns an e-mail domain: the domain's DNS publishes a TXT record
//! `_mhp-verification.<domain>` holding `mhp-verification=<token>`, the token MHP drew for that
//! organisation and domain. The way identity providers and workplace suites prove a domain
//! (a record only the domain's owner can publish), asked of the operator's resolver
//! (hickory-resolver) or of one DNS server the operator names.

use std::net::SocketAddr;
use std::time::Duration;

use hickory_resolver::TokioResolver;
use hickory_resolver::config::{ConnectionConfig, NameServerConfig, ResolverConfig};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::net::{DnsError, NetError};
use hickory_resolver::proto::rr::RData;

/// The prefix of the TXT record's name.
pub const RECORD_PREFIX: &str = "_mhp-verification";
/// The prefix of the TXT record's value.
pub const VALUE_PREFIX: &str = "mhp-verification=";

/// The name of the TXT record that proves `domain`.
pub fn record_name(domain: &str) -> String {
    format!("{RECORD_PREFIX}.{domain}")
}

/// The value the TXT record must hold for `token`.
pub fn record_value(token: &str) -> String {
    format!("{VALUE_PREFIX}{token}")
}

/// Why a proof could not be looked for.
#[derive(Debug, thiserror::Error)]
pub enum ProofError {
    /// The resolver could not be set up (no usable system configuration).
    #[error("the DNS resolver could not be set up: {0}")]
    Setup(String),
    /// The DNS did not answer (timeout, refused, server failure).
    #[error("the DNS did not answer")]
    Unanswered,
}

/// Looks for domain proofs in DNS.
#[derive(Clone)]
pub struct DomainProver {
    resolver: TokioResolver,
}

impl std::fmt::Debug for DomainProver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DomainProver").finish_non_exhaustive()
    }
}

impl DomainProver {
    /// A prover asking `server` (UDP, then TCP for long answers), or the system's resolvers
    /// (`/etc/resolv.conf`) when `None`. Answers are not cached: an owner who has just published
    /// the record is believed on the next check.
    pub fn new(server: Option<SocketAddr>) -> Result<Self, ProofError> {
        let provider = TokioRuntimeProvider::default();
        let mut builder = match server {
            Some(addr) => {
                let connection = |mut c: ConnectionConfig| {
                    c.port = addr.port();
                    c
                };
                let ns = NameServerConfig::new(
                    addr.ip(),
                    true,
                    vec![
                        connection(ConnectionConfig::udp()),
                        connection(ConnectionConfig::tcp()),
                    ],
                );
                TokioResolver::builder_with_config(
                    ResolverConfig::from_name_servers(vec![ns]),
                    provider,
                )
            }
            None => {
                TokioResolver::builder(provider).map_err(|e| ProofError::Setup(e.to_string()))?
            }
        };
        let options = builder.options_mut();
        options.cache_size = 0;
        options.timeout = Duration::from_secs(3);
        options.attempts = 2;
        // The name is always absolute: no search domains appended.
        options.ndots = 0;
        let resolver = builder
            .build()
            .map_err(|e| ProofError::Setup(e.to_string()))?;
        Ok(Self { resolver })
    }

    /// Whether `domain`'s DNS publishes the proof of `token`. A name with no such record (or
    /// no TXT records at all) is `Ok(false)`; only a DNS that does not answer is an error.
    pub async fn is_proven(&self, domain: &str, token: &str) -> Result<bool, ProofError> {
        let name = format!("{}.", record_name(domain));
        let want = record_value(token);
        let lookup = match self.resolver.txt_lookup(name).await {
            Ok(l) => l,
            Err(NetError::Dns(DnsError::NoRecordsFound(_))) => return Ok(false),
            Err(_) => return Err(ProofError::Unanswered),
        };
        Ok(lookup.answers().iter().any(|record| match &record.data {
            RData::TXT(txt) => {
                // A TXT record's strings are one value, split at 255 bytes.
                let value: Vec<u8> = txt
                    .txt_data
                    .iter()
                    .flat_map(|s| s.iter().copied())
                    .collect();
                value == want.as_bytes()
            }
            _ => false,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_record_is_named_under_the_domain_and_holds_the_token() {
        assert_eq!(
            record_name("clinic.example"),
            "_mhp-verification.clinic.example"
        );
        assert_eq!(record_value("abc123"), "mhp-verification=abc123");
    }
}
