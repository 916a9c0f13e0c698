//! AWS Key Management Service: `Encrypt`, `Decrypt` and `GenerateDataKey` of symmetric keys,
//! always with an encryption context (KMS's additional authenticated data).

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use mhp_domain::Secret;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::AwsClient;
use crate::CloudError;

/// KMS's signing name.
const SERVICE: &str = "kms";

/// KMS calls through an [`AwsClient`]. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Kms {
    client: AwsClient,
}

/// An encryption context: names and values bound to a ciphertext, needed again to decrypt.
/// Not secret (CloudTrail logs it), so it must hold no personal data.
pub type EncryptionContext = BTreeMap<String, String>;

impl Kms {
    /// KMS in the client's region.
    pub fn new(client: AwsClient) -> Self {
        Self { client }
    }

    /// Encrypts at most 4 KiB under `key_id` (key id, key ARN, alias name or alias ARN), bound
    /// to `context`. Returns the ciphertext blob.
    pub async fn encrypt(
        &self,
        key_id: &str,
        plaintext: &[u8],
        context: &EncryptionContext,
    ) -> Result<Vec<u8>, CloudError> {
        #[derive(Serialize)]
        #[serde(rename_all = "PascalCase")]
        struct Request<'a> {
            key_id: &'a str,
            plaintext: &'a str,
            #[serde(skip_serializing_if = "is_empty")]
            encryption_context: &'a EncryptionContext,
        }
        let plaintext = Zeroizing::new(STANDARD.encode(plaintext));
        let body = to_body(&Request {
            key_id,
            plaintext: &plaintext,
            encryption_context: context,
        })?;
        let answer: CiphertextAnswer = self.call("TrentService.Encrypt", &body).await?;
        decode(&answer.ciphertext_blob, "CiphertextBlob is not base64")
    }

    /// Decrypts a ciphertext blob with the context it was encrypted with. With `key_id`, KMS
    /// refuses a blob of another key (`IncorrectKeyException`); without, it takes the key from
    /// the blob.
    pub async fn decrypt(
        &self,
        ciphertext: &[u8],
        context: &EncryptionContext,
        key_id: Option<&str>,
    ) -> Result<Secret<Vec<u8>>, CloudError> {
        #[derive(Serialize)]
        #[serde(rename_all = "PascalCase")]
        struct Request<'a> {
            ciphertext_blob: &'a str,
            #[serde(skip_serializing_if = "is_empty")]
            encryption_context: &'a EncryptionContext,
            #[serde(skip_serializing_if = "Option::is_none")]
            key_id: Option<&'a str>,
        }
        let blob = STANDARD.encode(ciphertext);
        let body = to_body(&Request {
            ciphertext_blob: &blob,
            encryption_context: context,
            key_id,
        })?;
        let answer: PlaintextAnswer = self.call("TrentService.Decrypt", &body).await?;
        let encoded = Zeroizing::new(answer.plaintext);
        Ok(Secret::new(decode(&encoded, "Plaintext is not base64")?))
    }

    /// A fresh 256-bit data key under `key_id`, bound to `context`: the key itself (use it,
    /// never store it) and its ciphertext blob (store it; [`Kms::decrypt`] gives the key back).
    pub async fn generate_data_key(
        &self,
        key_id: &str,
        context: &EncryptionContext,
    ) -> Result<(Secret<Vec<u8>>, Vec<u8>), CloudError> {
        #[derive(Serialize)]
        #[serde(rename_all = "PascalCase")]
        struct Request<'a> {
            key_id: &'a str,
            key_spec: &'static str,
            #[serde(skip_serializing_if = "is_empty")]
            encryption_context: &'a EncryptionContext,
        }
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct Answer {
            ciphertext_blob: String,
            plaintext: String,
        }
        let body = to_body(&Request {
            key_id,
            key_spec: "AES_256",
            encryption_context: context,
        })?;
        let answer: Answer = self.call("TrentService.GenerateDataKey", &body).await?;
        let encoded = Zeroizing::new(answer.plaintext);
        let key = Secret::new(decode(&encoded, "Plaintext is not base64")?);
        if key.expose().len() != 32 {
            return Err(malformed("the data key is not 256 bits"));
        }
        let blob = decode(&answer.ciphertext_blob, "CiphertextBlob is not base64")?;
        Ok((key, blob))
    }

    async fn call<T: for<'de> Deserialize<'de>>(
        &self,
        target: &str,
        body: &[u8],
    ) -> Result<T, CloudError> {
        let answer = self.client.call_raw(SERVICE, target, body).await?;
        serde_json::from_slice(&answer)
            .map_err(|_| malformed("the answer lacks the fields KMS documents"))
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CiphertextAnswer {
    ciphertext_blob: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PlaintextAnswer {
    plaintext: String,
}

fn is_empty(context: &&EncryptionContext) -> bool {
    context.is_empty()
}

/// Serialises a request into a buffer that is wiped when dropped.
fn to_body(request: &impl Serialize) -> Result<Zeroizing<Vec<u8>>, CloudError> {
    serde_json::to_vec(request)
        .map(Zeroizing::new)
        .map_err(|_| CloudError::Config("the KMS request cannot be serialised"))
}

fn decode(encoded: &str, what: &'static str) -> Result<Vec<u8>, CloudError> {
    STANDARD.decode(encoded).map_err(|_| malformed(what))
}

fn malformed(what: &'static str) -> CloudError {
    CloudError::Malformed {
        service: SERVICE.to_owned(),
        what,
    }
}
