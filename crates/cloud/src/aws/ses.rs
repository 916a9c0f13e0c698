//! Amazon SES (API version 2, REST with JSON, signing name `ses`): `SendEmail` with raw MIME
//! content, the mail transport of deployments on AWS. The caller builds the message (headers
//! and body); SES takes it as it is, signs it with DKIM for a verified identity and delivers
//! it. Calls go to `https://email.{region}.amazonaws.com/v2/email/outbound-emails`, or to the
//! configured endpoint with that path.

use base64::Engine as _;
use reqwest::Method;
use serde_json::json;
use url::Url;
use zeroize::Zeroizing;

use super::sigv4::payload_hash;
use super::{AwsClient, Signed};
use crate::{CloudError, http};

const SERVICE: &str = "ses";
const PATH: &str = "/v2/email/outbound-emails";
/// SES's limit on a raw message (40 MB after base64 encoding; MHP's messages are a few KiB).
const MAX_RAW: usize = 30 << 20;

/// SES v2 through an [`AwsClient`]. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Ses {
    client: AwsClient,
    configuration_set: Option<String>,
}

impl Ses {
    /// SES in the client's region; messages are sent with `configuration_set` (its event
    /// destinations, suppression and TLS policy) when one is named.
    pub fn new(client: AwsClient, configuration_set: Option<&str>) -> Result<Self, CloudError> {
        if let Some(name) = configuration_set
            && (name.is_empty()
                || name.len() > 64
                || !name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
        {
            return Err(CloudError::Config(
                "the SES configuration set name must be 1-64 letters, digits, - and _",
            ));
        }
        Ok(Self {
            client,
            configuration_set: configuration_set.map(str::to_owned),
        })
    }

    /// Sends `raw` (a whole MIME message, its headers naming sender and recipient) from `from`
    /// (an address of a verified identity) to `to`; the message id SES gave it.
    ///
    /// Errors carry SES's error class (`MessageRejected`, `AccountSuspendedException`,
    /// `SendingPausedException`, `TooManyRequestsException`) and never the message's text,
    /// which may quote the recipient.
    pub async fn send_raw(&self, from: &str, to: &str, raw: &[u8]) -> Result<String, CloudError> {
        if raw.is_empty() || raw.len() > MAX_RAW {
            return Err(CloudError::Config(
                "a message for SES must be between 1 byte and 30 MiB",
            ));
        }
        let mut body = json!({
            "FromEmailAddress": from,
            "Destination": { "ToAddresses": [to] },
            "Content": { "Raw": { "Data": base64::engine::general_purpose::STANDARD.encode(raw) } },
        });
        if let Some(set) = &self.configuration_set {
            body["ConfigurationSetName"] = json!(set);
        }
        // The body holds a sign-in link or a reset token: its buffer is wiped once sent.
        let body = Zeroizing::new(body.to_string().into_bytes());
        let url = self.url()?;
        let payload_sha256 = payload_hash(&body);
        let response = self
            .client
            .send(Signed {
                service: SERVICE,
                method: Method::POST,
                url,
                path: PATH,
                query: &[],
                headers: vec![("content-type", "application/json".to_owned())],
                body: body.to_vec(),
                payload_sha256,
                timeout: None,
            })
            .await?;
        let status = response.status();
        let header_type = response
            .headers()
            .get("x-amzn-errortype")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let answer = http::read_body(response, SERVICE).await?;
        if !status.is_success() {
            return Err(super::error_from_answer(
                SERVICE,
                status.as_u16(),
                &answer,
                header_type.as_deref(),
            ));
        }
        let parsed = super::parse_answer(SERVICE, &answer)?;
        parsed
            .get("MessageId")
            .and_then(|v| v.as_str())
            .filter(|id| !id.is_empty() && id.len() <= 256)
            .map(str::to_owned)
            .ok_or(CloudError::Malformed {
                service: SERVICE.to_owned(),
                what: "the answer names no message id",
            })
    }

    fn url(&self) -> Result<Url, CloudError> {
        let mut url = match self.client.endpoint() {
            Some(endpoint) => endpoint.clone(),
            None => Url::parse(&format!(
                "https://email.{}.amazonaws.com/",
                self.client.region()
            ))
            .map_err(|_| CloudError::Config("the SES endpoint cannot be built"))?,
        };
        url.set_path(PATH);
        Ok(url)
    }
}
