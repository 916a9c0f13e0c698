//! Word that a credential changed, so that credentials looked up once can be trusted from
//! memory until then.
//!
//! Authenticating a request reads its API key, session or user: one statement, yet on a hot
//! read path the dearest part of the request (a round trip to SQLite's connection thread, or
//! three to PostgreSQL). A cache of those lookups is only safe if a revocation takes effect
//! at once, everywhere. So every transaction that changes what a lookup reads (a key
//! revoked or rotated, a session revoked, a user's password, second factor or settings
//! changed) says so ([`crate::TenantTx::credentials_changed`],
//! [`crate::OperatorTx::credentials_changed`]), and its commit tells everyone:
//!
//! - this process, through a counter in memory, bumped right after the commit;
//! - other processes on the same SQLite file (the command line revoking a key beside
//!   `mhp serve`, another server on the same host), through a file beside the database that
//!   grows by one byte per change (`<database>-credentials`): a lookup's stamp holds its
//!   length and inode, read with one `stat`, so a change committed anywhere is seen by the
//!   next request everywhere.
//!
//! On PostgreSQL nothing is cached. Other instances could only hear of a change
//! asynchronously (`LISTEN`/`NOTIFY`), which would leave a revoked credential working on
//! them for as long as the notification takes; every lookup there stays a query.
//!
//! A [`Stamp`] is taken *before* the lookup it describes: a change that commits after it makes
//! the stamp stale, whichever of the two the lookup saw. Writes that no cached decision rests
//! on (a key's or session's last-use time, a new key or session, which no cache holds yet)
//! bump nothing. A test in this crate fails when a statement that writes those tables is in
//! a function that does not call `credentials_changed`.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Where credential changes are announced.
#[derive(Debug)]
pub struct CredentialChanges {
    /// Changes committed by this process.
    local: AtomicU64,
    /// SQLite: the file other processes grow.
    file: Option<PathBuf>,
    /// PostgreSQL: nothing is cached.
    postgres: bool,
}

/// What was current when a lookup started; see [`CredentialChanges::is_current`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    local: u64,
    shared: (u64, u64),
}

impl CredentialChanges {
    /// For a SQLite file database at `path` (announced through `<path>-credentials`).
    pub(crate) fn sqlite_file(path: &Path) -> Self {
        let mut name = path.as_os_str().to_owned();
        name.push("-credentials");
        Self::new(Some(PathBuf::from(name)), false)
    }

    /// For a database only this process uses (SQLite in memory).
    pub(crate) fn in_process() -> Self {
        Self::new(None, false)
    }

    /// For PostgreSQL: nothing is cached.
    pub(crate) fn postgres() -> Self {
        Self::new(None, true)
    }

    fn new(file: Option<PathBuf>, postgres: bool) -> Self {
        Self {
            local: AtomicU64::new(0),
            file,
            postgres,
        }
    }

    /// The stamp to keep with a lookup made now; `None` when nothing may be cached
    /// (PostgreSQL).
    pub fn stamp(&self) -> Option<Stamp> {
        if self.postgres {
            return None;
        }
        Some(Stamp {
            local: self.local.load(Ordering::Acquire),
            shared: self.shared(),
        })
    }

    /// Whether nothing changed since `stamp` was taken.
    pub fn is_current(&self, stamp: &Stamp) -> bool {
        self.stamp().as_ref() == Some(stamp)
    }

    fn shared(&self) -> (u64, u64) {
        use std::os::unix::fs::MetadataExt as _;
        match &self.file {
            // A file that is missing or unreadable reads as (0, 0): it only ever grows, so a
            // stamp taken while it existed does not match it.
            Some(path) => std::fs::metadata(path).map_or((0, 0), |m| (m.ino(), m.len())),
            None => (0, 0),
        }
    }

    /// After a commit that changed credentials: this process's counter, then the file.
    pub(crate) fn committed(&self) {
        self.local.fetch_add(1, Ordering::AcqRel);
        if let Some(path) = &self.file
            && let Err(e) = append_one(path)
        {
            // Other processes keep what they cached until their entries age out.
            tracing::error!(error = %e, "could not announce a credential change to other processes");
        }
    }
}

fn append_one(path: &Path) -> std::io::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .mode(0o600)
        .open(path)?
        .write_all(b"+")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_in_this_process_or_another_makes_stamps_stale() {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = dir.path().join("mhp.sqlite");
        let here = CredentialChanges::sqlite_file(&db);
        let other = CredentialChanges::sqlite_file(&db);
        let before = here.stamp().expect("SQLite always stamps");
        assert!(here.is_current(&before));
        here.committed();
        assert!(!here.is_current(&before), "a change here");
        let seen = here.stamp().expect("stamp");
        let elsewhere = other.stamp().expect("stamp");
        other.committed();
        assert!(!here.is_current(&seen), "a change by another process");
        assert!(!other.is_current(&elsewhere));
    }

    /// Every statement in this crate that changes a row authentication looks up (`api_keys`,
    /// `sessions`, `users`) sits in a function that announces the change, except the writes
    /// no cached decision rests on.
    #[test]
    fn every_write_to_a_credential_table_announces_itself() {
        // (function, why it need not announce)
        const EXEMPT: &[(&str, &str)] = &[
            ("create", "a new key, session or person is in no cache yet"),
            ("touch", "last-use times: the cache keeps its own"),
            ("import_org", "people who arrive are in no cache yet"),
        ];
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut files = vec![src.join("org_copy.rs")];
        for entry in std::fs::read_dir(src.join("repo")).expect("repo dir") {
            files.push(entry.expect("entry").path());
        }
        let write = writes_credentials;
        let mut unannounced = Vec::new();
        let mut seen = 0;
        for file in files {
            let text = std::fs::read_to_string(&file).expect("source");
            // Split into functions at each `fn ` at the start of a line (after indentation).
            let mut starts: Vec<usize> = text
                .match_indices("fn ")
                .map(|(i, _)| i)
                .filter(|&i| {
                    text[..i].ends_with("async ")
                        || text[..i].ends_with('\n')
                        || text[..i].ends_with("pub ")
                })
                .collect();
            starts.push(text.len());
            for pair in starts.windows(2) {
                let body = &text[pair[0]..pair[1]];
                if !write(body) {
                    continue;
                }
                seen += 1;
                let name: String = body[3..]
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                let announces = body.contains("credentials_changed()")
                    || body.contains("credential_changes().committed()");
                if !announces && !EXEMPT.iter().any(|(f, _)| *f == name) {
                    unannounced.push(format!("{}: {name}", file.display()));
                }
            }
        }
        assert!(
            seen >= 10,
            "the scan found only {seen} writes: is it still reading the sources?"
        );
        assert!(
            unannounced.is_empty(),
            "writes that do not announce a credential change: {unannounced:?}"
        );
    }

    /// Whether `body` holds a statement that inserts, updates or deletes rows of a credential
    /// table.
    fn writes_credentials(body: &str) -> bool {
        let upper = body.to_uppercase();
        ["API_KEYS", "SESSIONS", "USERS"].iter().any(|table| {
            [
                "UPDATE ",
                "DELETE FROM ",
                "INSERT INTO ",
                "INSERT OR IGNORE INTO ",
            ]
            .iter()
            .any(|verb| {
                upper.contains(&format!("{verb}{table} "))
                    || upper.contains(&format!("{verb}{table}\n"))
            })
        })
    }

    #[test]
    fn postgres_caches_nothing() {
        let changes = CredentialChanges::postgres();
        assert_eq!(changes.stamp(), None);
        changes.committed();
        assert_eq!(changes.stamp(), None);
    }
}
