//! Amazon S3 over its REST protocol, signed with Signature Version 4: the five calls an object
//! store needs (`PutObject` with server-side encryption, `GetObject`, `DeleteObject`,
//! `ListObjectsV2`, `HeadBucket`).
//!
//! Buckets are addressed virtual-hosted (`https://{bucket}.s3.{region}.amazonaws.com/{key}`),
//! or path-style under a configured endpoint (`{endpoint}{bucket}/{key}`: a VPC endpoint, a
//! test server). Every body is signed by its SHA-256 (`x-amz-content-sha256`), which S3
//! checks, so an object altered on the way is refused rather than stored.

use std::time::Duration;

use reqwest::Method;
use url::Url;

use super::sigv4::{payload_hash, uri_encode};
use super::{AwsClient, Signed, xml};
use crate::CloudError;
use crate::http;

const SERVICE: &str = "s3";
/// Largest object read back. Raw recordings, model artifacts and backup parts are far
/// smaller; a larger answer is refused rather than held in memory.
const MAX_OBJECT: usize = 1 << 30;
/// Time-out of a call carrying an object (the client's default suits small answers).
const OBJECT_TIMEOUT: Duration = Duration::from_secs(600);

/// How S3 encrypts what it stores.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerSideEncryption {
    /// SSE-KMS under the key named (id, ARN or alias), or the account's `aws/s3` key when
    /// `None`; with an S3 bucket key, which spares a KMS call per object.
    Kms(Option<String>),
    /// SSE-S3 (AES-256 under keys S3 manages).
    S3,
}

/// An object as a listing names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Object {
    /// Its key.
    pub key: String,
    /// When it was last written, ms since the epoch.
    pub last_modified_ms: i64,
    /// Its size in bytes.
    pub size: u64,
}

/// S3 calls through an [`AwsClient`]. Cheap to clone.
#[derive(Debug, Clone)]
pub struct S3 {
    client: AwsClient,
}

impl S3 {
    /// S3 in the client's region.
    pub fn new(client: AwsClient) -> Self {
        Self { client }
    }

    /// Stores `body` under `key`, replacing any object there.
    pub async fn put_object(
        &self,
        bucket: &str,
        key: &str,
        body: Vec<u8>,
        encryption: &ServerSideEncryption,
    ) -> Result<(), CloudError> {
        let mut headers = vec![("content-type", "application/octet-stream".to_owned())];
        match encryption {
            ServerSideEncryption::Kms(key_id) => {
                headers.push(("x-amz-server-side-encryption", "aws:kms".to_owned()));
                headers.push((
                    "x-amz-server-side-encryption-bucket-key-enabled",
                    "true".to_owned(),
                ));
                if let Some(key_id) = key_id {
                    headers.push((
                        "x-amz-server-side-encryption-aws-kms-key-id",
                        key_id.clone(),
                    ));
                }
            }
            ServerSideEncryption::S3 => {
                headers.push(("x-amz-server-side-encryption", "AES256".to_owned()));
            }
        }
        let response = self
            .call(Method::PUT, bucket, Some(key), &[], headers, body)
            .await?;
        self.finish(response, 1 << 20).await.map(drop)
    }

    /// The object under `key`; [`CloudError::NotFound`] when there is none.
    pub async fn get_object(&self, bucket: &str, key: &str) -> Result<Vec<u8>, CloudError> {
        let response = self
            .call(Method::GET, bucket, Some(key), &[], Vec::new(), Vec::new())
            .await?;
        self.finish(response, MAX_OBJECT).await
    }

    /// Removes the object under `key`; removing an absent object is not an error (S3 answers
    /// both alike).
    pub async fn delete_object(&self, bucket: &str, key: &str) -> Result<(), CloudError> {
        let response = self
            .call(
                Method::DELETE,
                bucket,
                Some(key),
                &[],
                Vec::new(),
                Vec::new(),
            )
            .await?;
        match self.finish(response, 1 << 20).await {
            Ok(_) => Ok(()),
            Err(e) if e.is_not_found() => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Every object whose key starts with `prefix`, in key order, page after page.
    pub async fn list_objects(
        &self,
        bucket: &str,
        prefix: &str,
    ) -> Result<Vec<S3Object>, CloudError> {
        let mut found = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let mut query: Vec<(&str, &str)> = vec![("list-type", "2"), ("prefix", prefix)];
            if let Some(t) = &token {
                query.push(("continuation-token", t));
            }
            let response = self
                .call(Method::GET, bucket, None, &query, Vec::new(), Vec::new())
                .await?;
            let body = self.finish(response, 16 << 20).await?;
            let text =
                std::str::from_utf8(&body).map_err(|_| malformed("a listing is not UTF-8"))?;
            let doc =
                roxmltree::Document::parse(text).map_err(|_| malformed("a listing is not XML"))?;
            for item in doc
                .descendants()
                .filter(|n| n.is_element() && n.tag_name().name() == "Contents")
            {
                let child = |name: &str| {
                    item.children()
                        .find(|n| n.is_element() && n.tag_name().name() == name)
                        .and_then(|n| n.text())
                };
                let key = child("Key").ok_or_else(|| malformed("a listed object has no key"))?;
                let last_modified_ms = child("LastModified")
                    .and_then(super::credentials::iso8601_ms)
                    .ok_or_else(|| malformed("a listed object has no time"))?;
                let size = child("Size")
                    .and_then(|s| s.parse().ok())
                    .ok_or_else(|| malformed("a listed object has no size"))?;
                found.push(S3Object {
                    key: key.to_owned(),
                    last_modified_ms,
                    size,
                });
            }
            let truncated = xml::text_of(&doc, "IsTruncated") == Some("true");
            token = xml::text_of(&doc, "NextContinuationToken").map(str::to_owned);
            if !truncated {
                break;
            }
            if token.is_none() {
                return Err(malformed("a truncated listing has no continuation token"));
            }
        }
        found.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(found)
    }

    /// Succeeds when the bucket exists and the credentials may use it.
    pub async fn head_bucket(&self, bucket: &str) -> Result<(), CloudError> {
        let response = self
            .call(Method::HEAD, bucket, None, &[], Vec::new(), Vec::new())
            .await?;
        self.finish(response, 1 << 20).await.map(drop)
    }

    async fn call(
        &self,
        method: Method,
        bucket: &str,
        key: Option<&str>,
        query: &[(&str, &str)],
        mut headers: Vec<(&'static str, String)>,
        body: Vec<u8>,
    ) -> Result<reqwest::Response, CloudError> {
        if !is_bucket_name(bucket) {
            return Err(CloudError::Config(
                "the S3 bucket name must be 3 to 63 lower-case letters, digits and dashes",
            ));
        }
        if key.is_some_and(|k| k.is_empty() || k.len() > 1024) {
            return Err(CloudError::Config("an S3 key must be 1 to 1024 bytes long"));
        }
        let (base, path) = match self.client.endpoint() {
            Some(endpoint) => (
                endpoint.clone(),
                format!("/{bucket}/{}", key.unwrap_or_default()),
            ),
            None => (
                Url::parse(&format!(
                    "https://{bucket}.s3.{}.amazonaws.com/",
                    self.client.region()
                ))
                .map_err(|_| CloudError::Config("the S3 endpoint cannot be built"))?,
                format!("/{}", key.unwrap_or_default()),
            ),
        };
        let mut url = base;
        url.set_path(&uri_encode(&path, true));
        let encoded_query: Vec<String> = query
            .iter()
            .map(|(n, v)| format!("{}={}", uri_encode(n, false), uri_encode(v, false)))
            .collect();
        url.set_query(
            (!encoded_query.is_empty())
                .then(|| encoded_query.join("&"))
                .as_deref(),
        );
        let payload_sha256 = payload_hash(&body);
        headers.push(("x-amz-content-sha256", payload_sha256.clone()));
        self.client
            .send(Signed {
                service: SERVICE,
                method,
                url,
                path: &path,
                query,
                headers,
                body,
                payload_sha256,
                timeout: Some(OBJECT_TIMEOUT),
            })
            .await
    }

    async fn finish(
        &self,
        response: reqwest::Response,
        limit: usize,
    ) -> Result<Vec<u8>, CloudError> {
        let status = response.status();
        if status.is_success() {
            return http::read_body_up_to(response, SERVICE, limit).await;
        }
        let body = http::read_body_up_to(response, SERVICE, 1 << 16)
            .await
            .unwrap_or_default();
        Err(xml::error(
            SERVICE,
            status.as_u16(),
            std::str::from_utf8(&body).unwrap_or_default(),
        ))
    }
}

fn malformed(what: &'static str) -> CloudError {
    CloudError::Malformed {
        service: SERVICE.to_owned(),
        what,
    }
}

/// The bucket names that work both virtual-hosted over TLS and path-style: 3 to 63 lower-case
/// letters, digits and inner dashes (dots would break the certificate's wildcard).
fn is_bucket_name(name: &str) -> bool {
    (3..=63).contains(&name.len())
        && !name.starts_with('-')
        && !name.ends_with('-')
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_names_fit_a_host_name() {
        assert!(is_bucket_name("mhp-objects-eu-west-1"));
        assert!(!is_bucket_name("ab"));
        assert!(!is_bucket_name("Upper"));
        assert!(!is_bucket_name("with.dot"));
        assert!(!is_bucket_name("-dash"));
        assert!(!is_bucket_name("evil.com/x"));
    }
}
