//! Secret values: AWS Secrets Manager's `GetSecretValue` and SSM Parameter Store's
//! `GetParameter` (with decryption, for `SecureString` parameters).

use mhp_domain::Secret;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::AwsClient;
use crate::CloudError;

/// Secrets Manager calls through an [`AwsClient`]. Cheap to clone.
#[derive(Debug, Clone)]
pub struct SecretsManager {
    client: AwsClient,
}

impl SecretsManager {
    /// Secrets Manager in the client's region.
    pub fn new(client: AwsClient) -> Self {
        Self { client }
    }

    /// The `SecretString` of a secret (name or ARN), of the version labelled `version_stage`
    /// (`AWSCURRENT` when `None`; `AWSPREVIOUS` during a rotation). A missing secret or stage
    /// is [`CloudError::NotFound`]; a binary-only secret is [`CloudError::Malformed`].
    pub async fn get_secret_value(
        &self,
        secret_id: &str,
        version_stage: Option<&str>,
    ) -> Result<Secret<String>, CloudError> {
        const SERVICE: &str = "secretsmanager";
        #[derive(Serialize)]
        #[serde(rename_all = "PascalCase")]
        struct Request<'a> {
            secret_id: &'a str,
            #[serde(skip_serializing_if = "Option::is_none")]
            version_stage: Option<&'a str>,
        }
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct Answer {
            secret_string: Option<String>,
        }
        let body = body(&Request {
            secret_id,
            version_stage,
        })?;
        let answer = self
            .client
            .call_raw(SERVICE, "secretsmanager.GetSecretValue", &body)
            .await?;
        let answer: Answer = parse(SERVICE, &answer)?;
        answer
            .secret_string
            .map(Secret::new)
            .ok_or_else(|| CloudError::Malformed {
                service: SERVICE.to_owned(),
                what: "the secret has no SecretString (binary secrets are not read)",
            })
    }
}

/// SSM Parameter Store calls through an [`AwsClient`]. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Ssm {
    client: AwsClient,
}

impl Ssm {
    /// Parameter Store in the client's region.
    pub fn new(client: AwsClient) -> Self {
        Self { client }
    }

    /// The value of a parameter (name or ARN), decrypted when it is a `SecureString`. A
    /// missing parameter is [`CloudError::NotFound`] (`ParameterNotFound`).
    pub async fn get_parameter(&self, name: &str) -> Result<Secret<String>, CloudError> {
        const SERVICE: &str = "ssm";
        #[derive(Serialize)]
        #[serde(rename_all = "PascalCase")]
        struct Request<'a> {
            name: &'a str,
            with_decryption: bool,
        }
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct Answer {
            parameter: Parameter,
        }
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct Parameter {
            value: String,
        }
        let body = body(&Request {
            name,
            with_decryption: true,
        })?;
        let answer = self
            .client
            .call_raw(SERVICE, "AmazonSSM.GetParameter", &body)
            .await?;
        let answer: Answer = parse(SERVICE, &answer)?;
        Ok(Secret::new(answer.parameter.value))
    }
}

fn body(request: &impl Serialize) -> Result<Zeroizing<Vec<u8>>, CloudError> {
    serde_json::to_vec(request)
        .map(Zeroizing::new)
        .map_err(|_| CloudError::Config("the request cannot be serialised"))
}

fn parse<T: for<'de> Deserialize<'de>>(service: &str, answer: &[u8]) -> Result<T, CloudError> {
    serde_json::from_slice(answer).map_err(|_| CloudError::Malformed {
        service: service.to_owned(),
        what: "the answer lacks the fields the API documents",
    })
}
