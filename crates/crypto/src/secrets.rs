//! Secrets from providers, referenced from configuration as `secret://PROVIDER/PATH[#FIELD]`:
//!
//! - `secret://env/NAME`: an environment variable;
//! - `secret://file/ABSOLUTE/PATH`: a file's content (Docker and Kubernetes secrets), trailing
//!   line break removed; with `#FIELD`, one `FIELD=value` line of it;
//! - `secret://aws-sm/NAME#FIELD`, `secret://ssm/NAME`, `secret://vault/MOUNT/PATH#FIELD`:
//!   AWS Secrets Manager, SSM Parameter Store and Vault KV, served by a [`RemoteSecrets`]
//!   (`mhp-cloud`, in builds with its cargo features); without one the reference fails with a
//!   clear error.
//!
//! Values are `Secret<String>` (redacted in Debug and Display, wiped on drop) and cached for a
//! TTL, after which they are read again, so a rotated secret is picked up without a restart.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mhp_domain::Secret;

/// Where a secret lives.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SecretRef {
    /// An environment variable.
    Env(String),
    /// A file, optionally one `FIELD=value` line of it.
    File {
        /// The absolute path.
        path: String,
        /// The field, if the file holds several.
        field: Option<String>,
    },
    /// A cloud or Vault secret (provider name, path, field).
    Remote {
        /// `aws-sm`, `ssm` or `vault`.
        provider: String,
        /// The provider's name for the secret.
        path: String,
        /// The field of a JSON or KV secret.
        field: Option<String>,
    },
}

/// Why a secret could not be had. Never contains the value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    /// Not a `secret://` reference of a known provider.
    #[error("not a secret reference (expected secret://env/NAME, secret://file/PATH, ...)")]
    Malformed,
    /// The provider has nothing under that name.
    #[error("secret {0} not found")]
    NotFound(String),
    /// The provider is not in this build.
    #[error("secret provider {0} is not built into this binary (enable its cargo feature)")]
    Unavailable(String),
    /// Reading failed.
    #[error("secret {0} could not be read: {1}")]
    Read(String, String),
}

impl SecretRef {
    /// Whether a configuration value is a reference rather than a literal.
    pub fn is_reference(value: &str) -> bool {
        value.starts_with("secret://")
    }

    /// Parses a reference.
    pub fn parse(value: &str) -> Result<Self, SecretError> {
        let rest = value
            .strip_prefix("secret://")
            .ok_or(SecretError::Malformed)?;
        let (provider, path) = rest.split_once('/').ok_or(SecretError::Malformed)?;
        let (path, field) = match path.split_once('#') {
            Some((p, f)) if !f.is_empty() => (p, Some(f.to_owned())),
            Some(_) => return Err(SecretError::Malformed),
            None => (path, None),
        };
        if path.is_empty() {
            return Err(SecretError::Malformed);
        }
        match provider {
            "env" if field.is_none() => Ok(SecretRef::Env(path.to_owned())),
            "file" => Ok(SecretRef::File {
                path: format!("/{}", path.trim_start_matches('/')),
                field,
            }),
            "aws-sm" | "ssm" | "vault" => Ok(SecretRef::Remote {
                provider: provider.to_owned(),
                path: path.to_owned(),
                field,
            }),
            _ => Err(SecretError::Malformed),
        }
    }

    /// A name for messages and logs (no value).
    pub fn display_name(&self) -> String {
        match self {
            SecretRef::Env(n) => format!("env/{n}"),
            SecretRef::File { path, field } => match field {
                Some(f) => format!("file{path}#{f}"),
                None => format!("file{path}"),
            },
            SecretRef::Remote { provider, path, .. } => format!("{provider}/{path}"),
        }
    }
}

/// Reads `secret://aws-sm/…`, `secret://ssm/…` and `secret://vault/…` references. Reads block
/// the calling thread (they happen at start-up and when a cached value expires).
pub trait RemoteSecrets: Send + Sync + std::fmt::Debug {
    /// The value of `path` (and `field` of it) at `provider` (`aws-sm`, `ssm`, `vault`).
    fn fetch(
        &self,
        provider: &str,
        path: &str,
        field: Option<&str>,
    ) -> Result<Secret<String>, SecretError>;
}

/// Reads an environment variable by name.
type EnvLookup = Box<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// Resolves references, with a cache.
pub struct Secrets {
    ttl: Duration,
    env: EnvLookup,
    remote: Option<Arc<dyn RemoteSecrets>>,
    cache: Mutex<HashMap<SecretRef, (Instant, Secret<String>)>>,
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Secrets")
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

impl Secrets {
    /// Providers reading the process environment, values cached for `ttl`.
    pub fn new(ttl: Duration) -> Self {
        Self::with_env(ttl, |name| std::env::var(name).ok())
    }

    /// Providers reading the environment through `env` (tests pass a map).
    pub fn with_env(
        ttl: Duration,
        env: impl Fn(&str) -> Option<String> + Send + Sync + 'static,
    ) -> Self {
        Self {
            ttl,
            env: Box::new(env),
            remote: None,
            cache: Mutex::default(),
        }
    }

    /// The same, with cloud providers.
    pub fn with_remote(mut self, remote: Arc<dyn RemoteSecrets>) -> Self {
        self.remote = Some(remote);
        self
    }

    /// The value behind a reference, from the cache while it is fresh.
    pub fn get(&self, reference: &SecretRef) -> Result<Secret<String>, SecretError> {
        if let Ok(cache) = self.cache.lock()
            && let Some((at, value)) = cache.get(reference)
            && at.elapsed() < self.ttl
        {
            return Ok(value.clone());
        }
        let value = self.read(reference)?;
        if let Ok(mut cache) = self.cache.lock() {
            cache.insert(reference.clone(), (Instant::now(), value.clone()));
        }
        Ok(value)
    }

    /// A configuration value: a reference is resolved, a literal is returned as it is.
    pub fn resolve(&self, value: &str) -> Result<Secret<String>, SecretError> {
        if SecretRef::is_reference(value) {
            self.get(&SecretRef::parse(value)?)
        } else {
            Ok(Secret::new(value.to_owned()))
        }
    }

    fn read(&self, reference: &SecretRef) -> Result<Secret<String>, SecretError> {
        let name = reference.display_name();
        match reference {
            SecretRef::Env(var) => (self.env)(var)
                .map(Secret::new)
                .ok_or(SecretError::NotFound(name)),
            SecretRef::File { path, field } => {
                let text = Secret::new(std::fs::read_to_string(path).map_err(|e| {
                    if e.kind() == std::io::ErrorKind::NotFound {
                        SecretError::NotFound(name.clone())
                    } else {
                        SecretError::Read(name.clone(), e.kind().to_string())
                    }
                })?);
                let value = match field {
                    None => text.expose().trim_end_matches(['\n', '\r']).to_owned(),
                    Some(f) => text
                        .expose()
                        .lines()
                        .find_map(|l| l.split_once('=').filter(|(k, _)| k.trim() == f))
                        .map(|(_, v)| v.trim().to_owned())
                        .ok_or(SecretError::NotFound(name))?,
                };
                Ok(Secret::new(value))
            }
            SecretRef::Remote {
                provider,
                path,
                field,
            } => match &self.remote {
                Some(remote) => remote.fetch(provider, path, field.as_deref()),
                None => Err(SecretError::Unavailable(provider.clone())),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_parse() {
        assert_eq!(
            SecretRef::parse("secret://env/DB_PASSWORD"),
            Ok(SecretRef::Env("DB_PASSWORD".into()))
        );
        assert_eq!(
            SecretRef::parse("secret://aws-sm/mhp/prod#db_password"),
            Ok(SecretRef::Remote {
                provider: "aws-sm".into(),
                path: "mhp/prod".into(),
                field: Some("db_password".into())
            })
        );
        for bad in [
            "postgres://x",
            "secret://",
            "secret://env/",
            "secret://nope/x",
            "secret://file/x#",
            "secret://env/A#b",
        ] {
            assert_eq!(SecretRef::parse(bad), Err(SecretError::Malformed), "{bad}");
        }
    }

    #[test]
    fn env_and_file_providers_and_literals() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("db");
        std::fs::write(&file, "hunter2-from-file\n").unwrap();
        let kv = dir.path().join("kv");
        std::fs::write(&kv, "user=mhp\npassword = s3cret\n").unwrap();
        let s = Secrets::with_env(Duration::from_secs(60), |n| {
            (n == "DB_PW").then(|| "from-env".to_owned())
        });
        assert_eq!(
            s.resolve("secret://env/DB_PW").unwrap().expose(),
            "from-env"
        );
        assert_eq!(
            s.resolve(&format!("secret://file{}", file.display()))
                .unwrap()
                .expose(),
            "hunter2-from-file"
        );
        assert_eq!(
            s.resolve(&format!("secret://file{}#password", kv.display()))
                .unwrap()
                .expose(),
            "s3cret"
        );
        assert_eq!(s.resolve("plain value").unwrap().expose(), "plain value");
        assert!(matches!(
            s.resolve("secret://env/MISSING"),
            Err(SecretError::NotFound(_))
        ));
        let err = s.resolve("secret://aws-sm/mhp/prod#db").unwrap_err();
        assert!(err.to_string().contains("cargo feature"), "{err}");
        let shown = format!("{:?}", s.resolve("secret://env/DB_PW").unwrap());
        assert!(!shown.contains("from-env"), "{shown}");
    }

    #[test]
    fn rotated_values_are_read_again_after_the_ttl() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("token");
        std::fs::write(&file, "v1").unwrap();
        let r = format!("secret://file{}", file.display());
        let cached = Secrets::new(Duration::from_secs(3600));
        let fresh = Secrets::new(Duration::ZERO);
        assert_eq!(cached.resolve(&r).unwrap().expose(), "v1");
        assert_eq!(fresh.resolve(&r).unwrap().expose(), "v1");
        std::fs::write(&file, "v2").unwrap();
        assert_eq!(cached.resolve(&r).unwrap().expose(), "v1", "within the TTL");
        assert_eq!(fresh.resolve(&r).unwrap().expose(), "v2", "after the TTL");
    }
}
