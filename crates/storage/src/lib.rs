//! MHP's system of record.
//!
//! One set of queries serves SQLite (the embedded default) and PostgreSQL (scale-out), through
//! sqlx's `Any` driver: the backends share SQL and differ only in migrations, in how a
//! transaction starts, and in PostgreSQL's row-level security, which is set here and nowhere else.
//!
//! Tenant rows are reachable only through a [`TenantTx`], which is opened from an
//! [`OrgScope`](mhp_domain::OrgScope) and filters by its organisation; named cross-organisation
//! functions take an [`OperatorTx`] instead.

pub mod copy;
pub mod credentials;
mod db;
pub mod direct;
mod error;
pub mod group_commit;
pub mod keystore;
pub mod migrate;
pub mod object_store;
pub mod org_copy;
pub mod repo;
pub mod snapshot;
mod tx;

pub use db::{Backend, Db, DbOptions, PoolStats};
pub use error::StorageError;
pub use group_commit::GroupCommit;
pub use object_store::{
    ObjectInfo, ObjectKey, ObjectStore, RemoteError, RemoteFuture, RemoteObjects,
};
pub use tx::{Access, OperatorTx, TenantTx};
