//! CloudWatch Logs' `PutLogEvents` (AWS JSON 1.1, service `logs`): the security events' sink on
//! AWS. The log group is the deployment's (Terraform makes it, with its retention and KMS key);
//! the stream is made here when missing.

use serde_json::{Value, json};

use super::AwsClient;
use crate::CloudError;

const SERVICE: &str = "logs";

/// Most events in one `PutLogEvents` call.
pub const MAX_EVENTS: usize = 10_000;
/// Most bytes in one call: the messages' UTF-8 bytes plus 26 bytes per event.
pub const MAX_BYTES: usize = 1_048_576;
/// What CloudWatch adds to each message's size.
pub const EVENT_OVERHEAD: usize = 26;
/// Longest message.
pub const MAX_MESSAGE: usize = 1_048_576 - EVENT_OVERHEAD;

/// One log stream of one log group. Cheap to clone.
#[derive(Debug, Clone)]
pub struct LogStream {
    client: AwsClient,
    group: String,
    stream: String,
}

impl LogStream {
    /// The stream `stream` of the group `group`.
    pub fn new(client: AwsClient, group: &str, stream: &str) -> Result<Self, CloudError> {
        let valid = |s: &str, max: usize| {
            !s.is_empty()
                && s.len() <= max
                && s.bytes().all(|b| {
                    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'/' | b'.' | b'#')
                })
        };
        if !valid(group, 512) {
            return Err(CloudError::Config(
                "the log group name must be 1-512 of letters, digits, _ - / . #",
            ));
        }
        if !valid(stream, 512) || stream.contains(':') {
            return Err(CloudError::Config(
                "the log stream name must be 1-512 of letters, digits, _ - / . #",
            ));
        }
        Ok(Self {
            client,
            group: group.to_owned(),
            stream: stream.to_owned(),
        })
    }

    /// The group's name.
    pub fn group(&self) -> &str {
        &self.group
    }

    /// Makes the stream; one that exists already is not an error.
    pub async fn ensure_stream(&self) -> Result<(), CloudError> {
        let made = self
            .client
            .call(
                SERVICE,
                "Logs_20140328.CreateLogStream",
                json!({ "logGroupName": self.group, "logStreamName": self.stream }),
            )
            .await;
        match made {
            Ok(_) => Ok(()),
            Err(e) if e.code() == Some("ResourceAlreadyExistsException") => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Puts `messages`, all stamped `at_ms` (the delivery's time: CloudWatch refuses events
    /// older than its retention or out of order across calls; each message carries its own
    /// time), in as many calls as the limits need. Every message must be at most
    /// [`MAX_MESSAGE`] bytes. A missing stream is made and the call repeated once. An event
    /// CloudWatch rejects fails the whole put, so that it is delivered again rather than lost.
    pub async fn put(&self, messages: &[String], at_ms: i64) -> Result<(), CloudError> {
        if messages
            .iter()
            .any(|m| m.len() > MAX_MESSAGE || m.is_empty())
        {
            return Err(CloudError::Config(
                "a log message is empty or larger than CloudWatch takes",
            ));
        }
        let mut start = 0;
        while start < messages.len() {
            let mut end = start;
            let mut bytes = 0;
            while end < messages.len()
                && end - start < MAX_EVENTS
                && bytes + messages[end].len() + EVENT_OVERHEAD <= MAX_BYTES
            {
                bytes += messages[end].len() + EVENT_OVERHEAD;
                end += 1;
            }
            self.put_batch(&messages[start..end], at_ms).await?;
            start = end;
        }
        Ok(())
    }

    async fn put_batch(&self, messages: &[String], at_ms: i64) -> Result<(), CloudError> {
        let events: Vec<Value> = messages
            .iter()
            .map(|m| json!({ "timestamp": at_ms, "message": m }))
            .collect();
        let body = json!({
            "logGroupName": self.group,
            "logStreamName": self.stream,
            "logEvents": events,
        });
        let answer = match self
            .client
            .call(SERVICE, "Logs_20140328.PutLogEvents", body.clone())
            .await
        {
            Err(e) if e.code() == Some("ResourceNotFoundException") => {
                self.ensure_stream().await?;
                self.client
                    .call(SERVICE, "Logs_20140328.PutLogEvents", body)
                    .await?
            }
            other => other?,
        };
        if answer
            .get("rejectedLogEventsInfo")
            .is_some_and(|r| !r.is_null())
        {
            return Err(CloudError::Malformed {
                service: SERVICE.to_owned(),
                what: "CloudWatch Logs rejected some events of the batch",
            });
        }
        Ok(())
    }
}
