//! Credentials as authentication last looked them up, trusted from memory while nothing has
//! changed since ([`mhp_storage::credentials`]): an authenticated request then needs no
//! database round trip to know who is calling.
//!
//! Only acceptance is served from here. Whenever what is cached would refuse a request (a
//! secret that does not match, a key past its expiry, a session idle too long), the caller
//! looks again in the database, which may know better (a session another instance kept
//! alive). An entry is dropped when any credential changes anywhere (the stamp taken before
//! its lookup is then stale), after [`MAX_AGE`] in any case (a process that died between its
//! commit and its announcement), and all of them when [`LIMIT`] entries are held.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mhp_domain::{Timestamp, UserId};
use mhp_storage::credentials::{CredentialChanges, Stamp};
use mhp_storage::repo::api_keys::ApiKey;
use mhp_storage::repo::sessions::Session;
use mhp_storage::repo::users::User;

/// Longest an entry is trusted, even when no change was announced.
pub const MAX_AGE: Duration = Duration::from_secs(60);
/// Most entries of each kind held at once; beyond it the kind starts afresh.
pub const LIMIT: usize = 10_000;

#[derive(Debug)]
struct Entry<T> {
    stamp: Stamp,
    at: Instant,
    value: T,
}

#[derive(Debug)]
struct Shelf<K, T>(Mutex<HashMap<K, Entry<T>>>);

impl<K: Eq + Hash, T: Clone> Shelf<K, T> {
    fn new() -> Self {
        Self(Mutex::new(HashMap::new()))
    }

    fn get<Q>(&self, changes: &CredentialChanges, key: &Q) -> Option<T>
    where
        K: std::borrow::Borrow<Q>,
        Q: Eq + Hash + ?Sized,
    {
        let mut map = self.0.lock().ok()?;
        let entry = map.get(key)?;
        if entry.at.elapsed() < MAX_AGE && changes.is_current(&entry.stamp) {
            return Some(entry.value.clone());
        }
        map.remove(key);
        None
    }

    fn put(&self, key: K, stamp: Stamp, value: T) {
        if let Ok(mut map) = self.0.lock() {
            if map.len() >= LIMIT {
                map.clear();
            }
            map.insert(
                key,
                Entry {
                    stamp,
                    at: Instant::now(),
                    value,
                },
            );
        }
    }

    fn update<Q>(&self, key: &Q, change: impl FnOnce(&mut T))
    where
        K: std::borrow::Borrow<Q>,
        Q: Eq + Hash + ?Sized,
    {
        if let Ok(mut map) = self.0.lock()
            && let Some(entry) = map.get_mut(key)
        {
            change(&mut entry.value);
        }
    }
}

/// The cache of authentication lookups: API keys (with their secret's hash), sessions (with
/// their person) and people (for access tokens).
#[derive(Debug)]
pub struct CredentialCache {
    changes: Arc<CredentialChanges>,
    keys: Shelf<String, (ApiKey, Vec<u8>)>,
    sessions: Shelf<String, (Session, User)>,
    users: Shelf<UserId, User>,
}

impl CredentialCache {
    /// An empty cache whose entries hold while `changes` announces nothing.
    pub fn new(changes: Arc<CredentialChanges>) -> Self {
        Self {
            changes,
            keys: Shelf::new(),
            sessions: Shelf::new(),
            users: Shelf::new(),
        }
    }

    /// What to keep with a lookup about to be made (`None`: do not keep it).
    pub fn stamp(&self) -> Option<Stamp> {
        self.changes.stamp()
    }

    /// An API key and its secret's hash, by the key's id.
    pub fn key(&self, id: &str) -> Option<(ApiKey, Vec<u8>)> {
        self.keys.get(&self.changes, id)
    }

    /// Keeps an API key looked up under `stamp`.
    pub fn put_key(&self, stamp: Option<Stamp>, key: &ApiKey, hash: &[u8]) {
        if let Some(stamp) = stamp {
            self.keys
                .put(key.id.clone(), stamp, (key.clone(), hash.to_vec()));
        }
    }

    /// Notes that a key's last use was recorded at `at`.
    pub fn key_used(&self, id: &str, at: Timestamp) {
        self.keys.update(id, |(key, _)| key.last_used_at = Some(at));
    }

    /// A session and its person, by the hash of the session's cookie.
    pub fn session(&self, id_sha256: &str) -> Option<(Session, User)> {
        self.sessions.get(&self.changes, id_sha256)
    }

    /// Keeps a session and its person looked up under `stamp`.
    pub fn put_session(&self, stamp: Option<Stamp>, session: &Session, user: &User) {
        if let Some(stamp) = stamp {
            self.sessions.put(
                session.id_sha256.clone(),
                stamp,
                (session.clone(), user.clone()),
            );
        }
    }

    /// Notes that a session's last request was recorded at `at`.
    pub fn session_seen(&self, id_sha256: &str, at: Timestamp) {
        self.sessions
            .update(id_sha256, |(s, _)| s.last_seen_at = at);
    }

    /// A person, by id.
    pub fn user(&self, id: UserId) -> Option<User> {
        self.users.get(&self.changes, &id)
    }

    /// Keeps a person looked up under `stamp`.
    pub fn put_user(&self, stamp: Option<Stamp>, user: &User) {
        if let Some(stamp) = stamp {
            self.users.put(user.id, stamp, user.clone());
        }
    }
}
