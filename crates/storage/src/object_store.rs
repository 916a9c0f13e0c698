//! The object store: raw signals, model artifacts and backups. The embedded default is a local
//! directory, whose objects are written atomically (temporary file, fsync, rename), so a reader
//! never sees half an object. A store that instances share (S3) is a [`RemoteObjects`] given
//! by the binary, which builds it from the settings (`mhp-cloud` behind the `aws` feature);
//! this crate knows only the trait.

use std::fmt;
use std::future::Future;
use std::io;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;

use tokio::io::AsyncWriteExt as _;
use tracing::Instrument as _;

use crate::StorageError;

/// A validated object key: 1 to 512 characters of `[A-Za-z0-9._-]` in `/`-separated segments,
/// none of them empty, `.` or `..`. Keys carry ids, never PHI.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ObjectKey(String);

impl ObjectKey {
    /// Checks the key rules.
    pub fn parse(key: &str) -> Result<Self, StorageError> {
        let ok = !key.is_empty()
            && key.len() <= 512
            && key.split('/').all(|seg| {
                !seg.is_empty()
                    && seg != "."
                    && seg != ".."
                    && !seg.starts_with(".tmp-")
                    && seg
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
            });
        if ok {
            Ok(Self(key.to_owned()))
        } else {
            Err(StorageError::InvalidObjectKey)
        }
    }

    /// The key.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Where objects live.
#[derive(Debug, Clone)]
pub enum ObjectStore {
    /// A directory on the local file system.
    Local(LocalDir),
    /// A store other processes share (S3), made by the binary.
    Remote(Arc<dyn RemoteObjects>),
}

/// What a remote store's calls return: a boxed future, so the trait can be used as an object.
pub type RemoteFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, RemoteError>> + Send + 'a>>;

/// A remote store's failure. Its message names the service and its error code, never an
/// object's content or a credential.
pub type RemoteError = Box<dyn std::error::Error + Send + Sync>;

/// An object store in a service (S3): the five calls [`ObjectStore`] needs, keys already
/// checked ([`ObjectKey`]). Writes must be atomic: a reader sees the old object or the new
/// one, never part of one (S3's `PutObject` is).
pub trait RemoteObjects: fmt::Debug + Send + Sync {
    /// Stores `bytes` under `key`, replacing any object there.
    fn put<'a>(&'a self, key: &'a str, bytes: &'a [u8]) -> RemoteFuture<'a, ()>;
    /// The object, or `None` when there is none.
    fn get<'a>(&'a self, key: &'a str) -> RemoteFuture<'a, Option<Vec<u8>>>;
    /// Removes the object; an absent one is not an error.
    fn delete<'a>(&'a self, key: &'a str) -> RemoteFuture<'a, ()>;
    /// The objects under `prefix` with their keys as given to `put` and when each was
    /// written.
    fn list<'a>(
        &'a self,
        prefix: &'a str,
    ) -> RemoteFuture<'a, Vec<(String, std::time::SystemTime)>>;
    /// Succeeds when the store answers and may be used (readiness).
    fn check(&self) -> RemoteFuture<'_, ()>;
    /// Where it is, for logs and `config check` (`s3://bucket/prefix/`); no credential.
    fn describe(&self) -> String;
}

fn remote(error: RemoteError) -> StorageError {
    StorageError::ObjectStore(io::Error::other(error))
}

impl ObjectStore {
    /// A store in a local directory, created (mode 0700) if missing.
    pub async fn local(root: impl Into<PathBuf>) -> Result<Self, StorageError> {
        Ok(ObjectStore::Local(LocalDir::open(root.into()).await?))
    }

    /// Where objects are, for logs (`local directory`, `s3://bucket/prefix/`).
    pub fn describe(&self) -> String {
        match self {
            ObjectStore::Local(_) => "local directory".to_owned(),
            ObjectStore::Remote(r) => r.describe(),
        }
    }

    /// Stores an object, replacing any object with the same key.
    pub async fn put(&self, key: &ObjectKey, bytes: &[u8]) -> Result<(), StorageError> {
        let work = async {
            match self {
                ObjectStore::Local(dir) => dir.put(key, bytes).await,
                ObjectStore::Remote(r) => r.put(key.as_str(), bytes).await.map_err(remote),
            }
        };
        work.instrument(self.span("object_store.put")).await
    }

    /// Reads an object; `NotFound` when absent.
    pub async fn get(&self, key: &ObjectKey) -> Result<Vec<u8>, StorageError> {
        let work = async {
            match self {
                ObjectStore::Local(dir) => dir.get(key).await,
                ObjectStore::Remote(r) => r
                    .get(key.as_str())
                    .await
                    .map_err(remote)?
                    .ok_or(StorageError::NotFound { entity: "object" }),
            }
        };
        work.instrument(self.span("object_store.get")).await
    }

    /// Removes an object; removing an absent object is not an error.
    pub async fn delete(&self, key: &ObjectKey) -> Result<(), StorageError> {
        let work = async {
            match self {
                ObjectStore::Local(dir) => dir.delete(key).await,
                ObjectStore::Remote(r) => r.delete(key.as_str()).await.map_err(remote),
            }
        };
        work.instrument(self.span("object_store.delete")).await
    }

    /// The span of one call, for traces (debug level: made only when spans are exported). It
    /// names the operation and the backend, never the key.
    fn span(&self, operation: &'static str) -> tracing::Span {
        let backend = match self {
            ObjectStore::Local(_) => "local",
            ObjectStore::Remote(_) => "remote",
        };
        tracing::debug_span!(target: "mhp::trace", "object_store", otel.name = operation,
            otel.kind = "client", backend)
    }

    /// Checks that the store answers (for readiness).
    pub async fn check(&self) -> Result<(), StorageError> {
        match self {
            ObjectStore::Local(dir) => dir.check().await,
            ObjectStore::Remote(r) => r.check().await.map_err(remote),
        }
    }

    /// The objects whose keys start with `prefix` (a folder such as `orgs/{org}/raw/`), with
    /// when each was last written, in key order. Files that are not objects (temporaries of a
    /// write in progress, names that are not keys) are left out.
    pub async fn list(&self, prefix: &str) -> Result<Vec<ObjectInfo>, StorageError> {
        match self {
            ObjectStore::Local(dir) => dir.list(prefix).await,
            ObjectStore::Remote(r) => {
                let mut found: Vec<ObjectInfo> = r
                    .list(prefix)
                    .await
                    .map_err(remote)?
                    .into_iter()
                    .filter_map(|(key, modified)| {
                        ObjectKey::parse(&key)
                            .ok()
                            .map(|key| ObjectInfo { key, modified })
                    })
                    .collect();
                found.sort_by(|a, b| a.key.as_str().cmp(b.key.as_str()));
                Ok(found)
            }
        }
    }
}

/// An object as [`ObjectStore::list`] finds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectInfo {
    /// Its key.
    pub key: ObjectKey,
    /// When it was last written.
    pub modified: std::time::SystemTime,
}

/// A local directory holding objects as files.
#[derive(Debug, Clone)]
pub struct LocalDir {
    root: PathBuf,
}

impl LocalDir {
    async fn open(root: PathBuf) -> Result<Self, StorageError> {
        create_private_dir(&root).await?;
        Ok(Self { root })
    }

    fn path(&self, key: &ObjectKey) -> PathBuf {
        self.root.join(key.as_str())
    }

    async fn put(&self, key: &ObjectKey, bytes: &[u8]) -> Result<(), StorageError> {
        let path = self.path(key);
        let parent = path.parent().unwrap_or(&self.root).to_path_buf();
        create_private_dir(&parent).await?;
        let tmp = parent.join(format!(".tmp-{}", uuid::Uuid::new_v4().simple()));
        let write = async {
            let mut file = tokio::fs::File::create(&tmp).await?;
            file.write_all(bytes).await?;
            file.sync_all().await?;
            tokio::fs::rename(&tmp, &path).await
        };
        if let Err(e) = write.await {
            let _ = tokio::fs::remove_file(&tmp).await;
            return Err(StorageError::ObjectStore(e));
        }
        Ok(())
    }

    async fn get(&self, key: &ObjectKey) -> Result<Vec<u8>, StorageError> {
        match tokio::fs::read(self.path(key)).await {
            Ok(b) => Ok(b),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                Err(StorageError::NotFound { entity: "object" })
            }
            Err(e) => Err(StorageError::ObjectStore(e)),
        }
    }

    async fn delete(&self, key: &ObjectKey) -> Result<(), StorageError> {
        match tokio::fs::remove_file(self.path(key)).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(StorageError::ObjectStore(e)),
        }
    }

    async fn list(&self, prefix: &str) -> Result<Vec<ObjectInfo>, StorageError> {
        let root = self.root.clone();
        let start = root.join(prefix.trim_end_matches('/'));
        tokio::task::spawn_blocking(move || {
            let mut found = Vec::new();
            let mut pending = vec![start];
            while let Some(dir) = pending.pop() {
                let entries = match std::fs::read_dir(&dir) {
                    Ok(e) => e,
                    Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                    Err(e) => return Err(StorageError::ObjectStore(e)),
                };
                for entry in entries {
                    let entry = entry.map_err(StorageError::ObjectStore)?;
                    let meta = entry.metadata().map_err(StorageError::ObjectStore)?;
                    let path = entry.path();
                    if meta.is_dir() {
                        pending.push(path);
                        continue;
                    }
                    let Some(key) = path
                        .strip_prefix(&root)
                        .ok()
                        .and_then(|p| p.to_str())
                        .and_then(|k| ObjectKey::parse(k).ok())
                    else {
                        continue;
                    };
                    let modified = meta.modified().map_err(StorageError::ObjectStore)?;
                    found.push(ObjectInfo { key, modified });
                }
            }
            found.sort_by(|a, b| a.key.as_str().cmp(b.key.as_str()));
            Ok(found)
        })
        .await
        .map_err(|e| StorageError::ObjectStore(io::Error::other(e)))?
    }

    async fn check(&self) -> Result<(), StorageError> {
        let meta = tokio::fs::metadata(&self.root)
            .await
            .map_err(StorageError::ObjectStore)?;
        if meta.is_dir() {
            Ok(())
        } else {
            Err(StorageError::ObjectStore(io::Error::other(
                "object store root is not a directory",
            )))
        }
    }
}

async fn create_private_dir(path: &Path) -> Result<(), StorageError> {
    let path = path.to_path_buf();
    tokio::task::spawn_blocking(move || {
        use std::os::unix::fs::DirBuilderExt as _;
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&path)
    })
    .await
    .map_err(|e| StorageError::ObjectStore(io::Error::other(e)))?
    .map_err(StorageError::ObjectStore)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_cannot_escape_the_store() {
        for bad in [
            "",
            "../etc/passwd",
            "a//b",
            "/abs",
            "a/./b",
            "a/..",
            "sp ace",
            "a/.tmp-x",
        ] {
            assert!(ObjectKey::parse(bad).is_err(), "{bad:?}");
        }
        assert!(ObjectKey::parse("orgs/0192/raw/abc.csv.enc").is_ok());
    }

    #[tokio::test]
    async fn objects_are_listed_by_prefix_without_temporaries() {
        let dir = tempfile::tempdir().unwrap();
        let store = ObjectStore::local(dir.path().join("objects"))
            .await
            .unwrap();
        for k in [
            "orgs/a/raw/1.sealed",
            "orgs/a/raw/2.sealed",
            "orgs/b/raw/3.sealed",
        ] {
            store
                .put(&ObjectKey::parse(k).unwrap(), b"x")
                .await
                .unwrap();
        }
        std::fs::write(dir.path().join("objects/orgs/a/raw/.tmp-half"), b"x").unwrap();
        let keys = |v: Vec<ObjectInfo>| {
            v.into_iter()
                .map(|o| o.key.as_str().to_owned())
                .collect::<Vec<_>>()
        };
        assert_eq!(
            keys(store.list("orgs/a/raw/").await.unwrap()),
            ["orgs/a/raw/1.sealed", "orgs/a/raw/2.sealed"]
        );
        assert_eq!(keys(store.list("orgs/").await.unwrap()).len(), 3);
        assert!(store.list("orgs/none/raw/").await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn objects_round_trip_and_delete() {
        let dir = tempfile::tempdir().unwrap();
        let store = ObjectStore::local(dir.path().join("objects"))
            .await
            .unwrap();
        let key = ObjectKey::parse("a/b/c.bin").unwrap();
        store.put(&key, b"first").await.unwrap();
        store.put(&key, b"second").await.unwrap();
        assert_eq!(store.get(&key).await.unwrap(), b"second");
        store.delete(&key).await.unwrap();
        store.delete(&key).await.unwrap();
        assert!(matches!(
            store.get(&key).await,
            Err(StorageError::NotFound { .. })
        ));
        store.check().await.unwrap();
    }
}
