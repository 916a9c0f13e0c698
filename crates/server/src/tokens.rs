//! Access-token signing keys: made on demand, rotated every 30 days, published for 60, the
//! private half sealed at rest. Instances share keys through the database and cache them; an
//! unknown `kid` (a key another instance just made) triggers a reload, at most every 5 seconds.

use std::sync::RwLock;

use mhp_auth::token;
use mhp_crypto::seal::{Place, Sealer};
use mhp_domain::{Secret, Timestamp};
use mhp_storage::repo::tokens::{self, SigningKey};
use mhp_storage::{Access, Db};

use crate::ApiError;

/// A key signs for this long after it is made.
const SIGN_FOR_MS: i64 = 30 * 86_400_000;
/// A key is published (verifies) for this long after it is made.
const PUBLISH_FOR_MS: i64 = 60 * 86_400_000;
/// Reload the cache at most this often on an unknown key id.
const RELOAD_MS: i64 = 5_000;

#[derive(Debug, Default)]
struct Snapshot {
    loaded_at_ms: i64,
    keys: Vec<SigningKey>,
}

/// The signing keys and the issuer name tokens carry.
#[derive(Debug)]
pub struct TokenKeys {
    /// The `iss` of every token.
    pub issuer: String,
    sealer: Sealer,
    cache: RwLock<Snapshot>,
}

fn place(kid: &str) -> Place<'_> {
    Place {
        org: None,
        table: "signing_keys",
        column: "private_sealed",
        row: kid,
    }
}

impl TokenKeys {
    /// Keys sealed with `sealer`, tokens issued as `issuer`.
    pub fn new(issuer: String, sealer: Sealer) -> Self {
        Self {
            issuer,
            sealer,
            cache: RwLock::default(),
        }
    }

    async fn reload(&self, db: &Db, now: Timestamp) -> Result<Vec<SigningKey>, ApiError> {
        let since = Timestamp::from_millis(now.as_millis() - PUBLISH_FOR_MS);
        let mut tx = db.operator(Access::Read).await?;
        let keys = tokens::signing_keys_since(&mut tx, since).await?;
        drop(tx);
        if let Ok(mut c) = self.cache.write() {
            *c = Snapshot {
                loaded_at_ms: now.as_millis(),
                keys: keys.clone(),
            };
        }
        Ok(keys)
    }

    fn cached(&self) -> Snapshot {
        self.cache.read().map_or_else(
            |_| Snapshot::default(),
            |c| Snapshot {
                loaded_at_ms: c.loaded_at_ms,
                keys: c.keys.clone(),
            },
        )
    }

    /// The key to sign with now, made if none is young enough.
    pub async fn signing_key(
        &self,
        db: &Db,
        now: Timestamp,
    ) -> Result<(String, Secret<[u8; 32]>), ApiError> {
        let fresh = |k: &SigningKey| now.as_millis() - k.created_at.as_millis() < SIGN_FOR_MS;
        let mut keys = self.cached().keys;
        if !keys.iter().any(fresh) {
            keys = self.reload(db, now).await?;
        }
        let key = match keys.into_iter().find(|k| fresh(k)) {
            Some(k) => k,
            None => self.make_key(db, now).await?,
        };
        let seed = self
            .sealer
            .open(&key.private, &place(&key.kid))
            .map_err(|e| ApiError::Internal(Box::new(e)))?;
        let bytes: [u8; 32] = seed
            .expose()
            .as_slice()
            .try_into()
            .map_err(|_| ApiError::Internal("signing key has the wrong length".into()))?;
        Ok((key.kid, Secret::new(bytes)))
    }

    async fn make_key(&self, db: &Db, now: Timestamp) -> Result<SigningKey, ApiError> {
        let (seed, public) = token::new_key();
        let kid = token::random_id();
        let private = self
            .sealer
            .seal(seed.expose(), &place(&kid))
            .map_err(|e| ApiError::Internal(Box::new(e)))?;
        let key = SigningKey {
            kid,
            private,
            public: public.to_vec(),
            created_at: now,
        };
        let mut tx = db.operator(Access::Write).await?;
        tokens::add_signing_key(&mut tx, &key).await?;
        tx.commit().await?;
        tracing::info!(kid = %key.kid, "new access-token signing key");
        self.reload(db, now).await?;
        Ok(key)
    }

    /// The public key with this id, if it is published.
    pub async fn public_key(
        &self,
        db: &Db,
        kid: &str,
        now: Timestamp,
    ) -> Result<Option<[u8; 32]>, ApiError> {
        let snap = self.cached();
        let find = |keys: &[SigningKey]| {
            keys.iter()
                .find(|k| k.kid == kid)
                .and_then(|k| <[u8; 32]>::try_from(k.public.as_slice()).ok())
        };
        if let Some(k) = find(&snap.keys) {
            return Ok(Some(k));
        }
        if now.as_millis() - snap.loaded_at_ms < RELOAD_MS {
            return Ok(None);
        }
        Ok(find(&self.reload(db, now).await?))
    }

    /// The published keys as a JWK set.
    pub async fn jwks(&self, db: &Db, now: Timestamp) -> Result<serde_json::Value, ApiError> {
        let keys = self.reload(db, now).await?;
        let jwks: Vec<serde_json::Value> = keys
            .iter()
            .filter_map(|k| {
                <[u8; 32]>::try_from(k.public.as_slice())
                    .ok()
                    .map(|p| token::jwk(&k.kid, &p))
            })
            .collect();
        Ok(serde_json::json!({ "keys": jwks }))
    }
}
