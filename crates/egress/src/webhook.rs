//! Signed webhooks in the Standard Webhooks form (standardwebhooks.com): every POST carries
//! `webhook-id` (the message's id, the same on every retry, so a receiver drops duplicates),
//! `webhook-timestamp` (seconds since the epoch, so it refuses replays) and `webhook-signature`
//! (`v1,` and the base64 of HMAC-SHA256 over `id.timestamp.body` keyed by the secret). Secrets
//! are written `whsec_` and the base64 of their bytes. Requests go through an [`Egress`], so a
//! webhook cannot reach what the egress policy refuses.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac as _};
use reqwest::header::{CONTENT_TYPE, HeaderName, HeaderValue};
use sha2::Sha256;

use crate::{Egress, EgressError, Url};

const PREFIX: &str = "whsec_";

/// A webhook's signing secret, held as the keyed MAC it makes. Printing it shows `[redacted]`.
#[derive(Clone)]
pub struct WebhookSecret(Hmac<Sha256>);

impl std::fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WebhookSecret([redacted])")
    }
}

/// Why a secret was refused. Never quotes it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a webhook secret is `whsec_` and the base64 of 24 to 64 random bytes")]
pub struct BadSecret;

impl WebhookSecret {
    /// Reads `whsec_<base64>`.
    pub fn parse(text: &str) -> Result<Self, BadSecret> {
        let mut bytes = text
            .trim()
            .strip_prefix(PREFIX)
            .and_then(|b| STANDARD.decode(b).ok())
            .ok_or(BadSecret)?;
        let mac = (24..=64)
            .contains(&bytes.len())
            .then(|| <Hmac<Sha256>>::new_from_slice(&bytes).ok())
            .flatten();
        bytes.iter_mut().for_each(|b| *b = 0);
        mac.map(Self).ok_or(BadSecret)
    }

    /// A new random secret (32 bytes) and its text, `whsec_…`, to show its owner once.
    pub fn generate() -> (String, Self) {
        use rand::Rng as _;
        let mut bytes = [0u8; 32];
        rand::rng().fill(&mut bytes);
        let text = format!("{PREFIX}{}", STANDARD.encode(bytes));
        bytes.iter_mut().for_each(|b| *b = 0);
        // 32 bytes of base64 always parse.
        let secret = Self::parse(&text).unwrap_or_else(|_| unreachable!("a generated secret"));
        (text, secret)
    }

    /// The `webhook-signature` value of a message.
    pub fn sign(&self, id: &str, timestamp_s: i64, body: &[u8]) -> String {
        let mut mac = self.0.clone();
        mac.update(id.as_bytes());
        mac.update(b".");
        mac.update(timestamp_s.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
    }
}

/// A destination for signed messages.
#[derive(Debug, Clone)]
pub struct Webhook {
    egress: Egress,
    url: Url,
    secret: WebhookSecret,
}

impl Webhook {
    /// Messages to `url`, signed with `secret`, sent through `egress`.
    pub fn new(egress: Egress, url: Url, secret: WebhookSecret) -> Self {
        Self {
            egress,
            url,
            secret,
        }
    }

    /// Posts one JSON message; a 2xx answer is success.
    pub async fn send(&self, id: &str, timestamp_s: i64, body: Vec<u8>) -> Result<(), EgressError> {
        let status = post_signed(
            &self.egress,
            &self.url,
            &[&self.secret],
            id,
            timestamp_s,
            body,
        )
        .await?;
        ensure_status(status)
    }
}

/// Whether a status is a success; any other is [`EgressError::Status`].
pub fn ensure_status(status: u16) -> Result<(), EgressError> {
    if (200..300).contains(&status) {
        Ok(())
    } else {
        Err(EgressError::Status(status))
    }
}

/// Posts one JSON message to `url` signed by each of `secrets` (while a rotated secret overlaps
/// the new one, both sign: `webhook-signature` lists one `v1,` signature per secret, separated
/// by spaces, and a receiver that knows either accepts it). Returns the answer's status,
/// whatever it is; the answer's body is not read.
pub async fn post_signed(
    egress: &Egress,
    url: &Url,
    secrets: &[&WebhookSecret],
    id: &str,
    timestamp_s: i64,
    body: Vec<u8>,
) -> Result<u16, EgressError> {
    let signature = secrets
        .iter()
        .map(|s| s.sign(id, timestamp_s, &body))
        .collect::<Vec<_>>()
        .join(" ");
    let header = |v: &str| HeaderValue::from_str(v).map_err(|_| EgressError::InvalidRequest);
    let request = egress
        .post(url.clone())?
        .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
        .header(HeaderName::from_static("webhook-id"), header(id)?)
        .header(
            HeaderName::from_static("webhook-timestamp"),
            header(&timestamp_s.to_string())?,
        )
        .header(
            HeaderName::from_static("webhook-signature"),
            header(&signature)?,
        )
        .body(body);
    Ok(egress.send(request).await?.status().as_u16())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_as_the_specification_example() {
        // The example of the Standard Webhooks specification (spec/standard-webhooks.md).
        let secret = WebhookSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let body = br#"{"test": 2432232314}"#;
        assert_eq!(
            secret.sign("msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn generated_secrets_are_distinct_and_read_back() {
        let (a, sa) = WebhookSecret::generate();
        let (b, _) = WebhookSecret::generate();
        assert_ne!(a, b);
        assert!(a.starts_with("whsec_"));
        let again = WebhookSecret::parse(&a).unwrap();
        assert_eq!(again.sign("msg_1", 1, b"{}"), sa.sign("msg_1", 1, b"{}"));
    }

    #[test]
    fn refuses_what_is_not_a_secret() {
        for bad in [
            "",
            "whsec_",
            "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "whsec_not base64",
            "whsec_AAAA",
        ] {
            assert_eq!(WebhookSecret::parse(bad).unwrap_err(), BadSecret, "{bad}");
        }
    }
}
