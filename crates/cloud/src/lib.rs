//! Thin HTTP clients for the cloud services MHP uses for key management and secrets, so the
//! core needs no heavy SDK.
//!
//! This crate owns the wire protocols and nothing above them: AWS Signature Version 4
//! (`aws::sigv4`), the AWS JSON 1.1 protocol (`aws::AwsClient`) with KMS (`aws::Kms`),
//! Secrets Manager (`aws::SecretsManager`) and SSM Parameter Store (`aws::Ssm`), and
//! HashiCorp Vault's Transit and KV version 2 engines (`vault::VaultClient`). Envelope
//! encryption, caching and rotation policy belong to `mhp-crypto`, which calls these clients.
//!
//! It is network code, so every client sits behind a cargo feature, all off by default:
//!
//! | feature | what it adds |
//! | --- | --- |
//! | `aws` | module `aws`: credentials, the signer, `AwsClient`, `Kms`, `SecretsManager`, `Ssm` |
//! | `vault` | module `vault`: `VaultClient` (Transit, KV v2) |
//! | `standin` | module `standin`: in-process stand-ins for AWS and Vault, for tests only (implies both) |
//!
//! Without features the crate is only [`CloudError`].
//!
//! Secrets (credentials, tokens, plaintexts, secret values) travel as
//! `mhp_domain::Secret`, and no error of this crate carries one: errors name the service, the
//! HTTP status and the service's error code, never a request body or a value.

mod error;

pub use error::CloudError;

#[cfg(any(feature = "aws", feature = "vault"))]
mod http;

#[cfg(feature = "aws")]
mod mac;

#[cfg(feature = "aws")]
pub mod aws;

#[cfg(feature = "vault")]
pub mod vault;

#[cfg(feature = "standin")]
pub mod standin;

#[cfg(any(feature = "aws", feature = "vault"))]
pub mod adapters;
