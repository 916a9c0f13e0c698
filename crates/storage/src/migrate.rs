//! Schema migrations, embedded in the binary, one list per backend. Both lists hold the same
//! versions with the same names; a test checks that the resulting schemas have the same tables
//! and columns.
//!
//! Each migration runs in its own transaction with its record in `schema_migrations`. On
//! PostgreSQL an advisory lock serialises instances that start together. A checksum guards
//! against a migration edited after it shipped.

use sha2::{Digest, Sha256};
use sqlx::Row;

use crate::db::{Backend, Db};
use crate::error::StorageError;

/// One schema change.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    /// Applied in increasing order.
    pub version: i64,
    /// A short name.
    pub name: &'static str,
    sql: &'static str,
}

impl Migration {
    /// SHA-256 of the SQL text, hex.
    pub fn checksum(&self) -> String {
        hex(&Sha256::digest(self.sql.as_bytes()))
    }
}

const SQLITE: &[Migration] = &[
    Migration {
        version: 1,
        name: "initial",
        sql: include_str!("../migrations/sqlite/0001_initial.sql"),
    },
    Migration {
        version: 2,
        name: "api_keys",
        sql: include_str!("../migrations/sqlite/0002_api_keys.sql"),
    },
    Migration {
        version: 3,
        name: "sessions",
        sql: include_str!("../migrations/sqlite/0003_sessions.sql"),
    },
    Migration {
        version: 4,
        name: "mfa",
        sql: include_str!("../migrations/sqlite/0004_mfa.sql"),
    },
    Migration {
        version: 5,
        name: "tokens",
        sql: include_str!("../migrations/sqlite/0005_tokens.sql"),
    },
    Migration {
        version: 6,
        name: "invitations",
        sql: include_str!("../migrations/sqlite/0006_invitations.sql"),
    },
    Migration {
        version: 7,
        name: "audit_chain",
        sql: include_str!("../migrations/sqlite/0007_audit_chain.sql"),
    },
    Migration {
        version: 8,
        name: "main_path",
        sql: include_str!("../migrations/sqlite/0008_main_path.sql"),
    },
    Migration {
        version: 9,
        name: "training_load",
        sql: include_str!("../migrations/sqlite/0009_training_load.sql"),
    },
    Migration {
        version: 10,
        name: "sso",
        sql: include_str!("../migrations/sqlite/0010_sso.sql"),
    },
    Migration {
        version: 11,
        name: "erasure",
        sql: include_str!("../migrations/sqlite/0011_erasure.sql"),
    },
    Migration {
        version: 12,
        name: "audit_retention",
        sql: include_str!("../migrations/sqlite/0012_audit_retention.sql"),
    },
    Migration {
        version: 13,
        name: "pipelines",
        sql: include_str!("../migrations/sqlite/0013_pipelines.sql"),
    },
    Migration {
        version: 14,
        name: "tenant_secrets_and_mail_limits",
        sql: include_str!("../migrations/sqlite/0014_tenant_secrets_and_mail_limits.sql"),
    },
    Migration {
        version: 15,
        name: "upload_options",
        sql: include_str!("../migrations/sqlite/0015_upload_options.sql"),
    },
    Migration {
        version: 16,
        name: "upload_weigh_in",
        sql: include_str!("../migrations/sqlite/0016_upload_weigh_in.sql"),
    },
    Migration {
        version: 17,
        name: "upload_columns",
        sql: include_str!("../migrations/sqlite/0017_upload_columns.sql"),
    },
    Migration {
        version: 18,
        name: "metric_index_covers",
        sql: include_str!("../migrations/sqlite/0018_metric_index_covers.sql"),
    },
    Migration {
        version: 19,
        name: "display_preferences",
        sql: include_str!("../migrations/sqlite/0019_display_preferences.sql"),
    },
    Migration {
        version: 20,
        name: "assessment_values",
        sql: include_str!("../migrations/sqlite/0020_assessment_values.sql"),
    },
    Migration {
        version: 21,
        name: "sso_domain_proofs",
        sql: include_str!("../migrations/sqlite/0021_sso_domain_proofs.sql"),
    },
    Migration {
        version: 22,
        name: "training_load_weeks",
        sql: include_str!("../migrations/sqlite/0022_training_load_weeks.sql"),
    },
    Migration {
        version: 23,
        name: "checkpoint_key_version",
        sql: include_str!("../migrations/sqlite/0023_checkpoint_key_version.sql"),
    },
    Migration {
        version: 24,
        name: "security_monitoring",
        sql: include_str!("../migrations/sqlite/0024_security_monitoring.sql"),
    },
    Migration {
        version: 25,
        name: "backup_runs",
        sql: include_str!("../migrations/sqlite/0025_backup_runs.sql"),
    },
    Migration {
        version: 26,
        name: "run_traceparent",
        sql: include_str!("../migrations/sqlite/0026_run_traceparent.sql"),
    },
    Migration {
        version: 27,
        name: "compliance_runs",
        sql: include_str!("../migrations/sqlite/0027_compliance_runs.sql"),
    },
    Migration {
        version: 28,
        name: "earlier_weigh_in",
        sql: include_str!("../migrations/sqlite/0028_earlier_weigh_in.sql"),
    },
    Migration {
        version: 29,
        name: "webhooks",
        sql: include_str!("../migrations/sqlite/0029_webhooks.sql"),
    },
    Migration {
        version: 30,
        name: "api_key_rotation",
        sql: include_str!("../migrations/sqlite/0030_api_key_rotation.sql"),
    },
    Migration {
        version: 31,
        name: "change_feed",
        sql: include_str!("../migrations/sqlite/0031_change_feed.sql"),
    },
    Migration {
        version: 32,
        name: "fhir_exports",
        sql: include_str!("../migrations/sqlite/0032_fhir_exports.sql"),
    },
];

const POSTGRES: &[Migration] = &[
    Migration {
        version: 1,
        name: "initial",
        sql: include_str!("../migrations/postgres/0001_initial.sql"),
    },
    Migration {
        version: 2,
        name: "api_keys",
        sql: include_str!("../migrations/postgres/0002_api_keys.sql"),
    },
    Migration {
        version: 3,
        name: "sessions",
        sql: include_str!("../migrations/postgres/0003_sessions.sql"),
    },
    Migration {
        version: 4,
        name: "mfa",
        sql: include_str!("../migrations/postgres/0004_mfa.sql"),
    },
    Migration {
        version: 5,
        name: "tokens",
        sql: include_str!("../migrations/postgres/0005_tokens.sql"),
    },
    Migration {
        version: 6,
        name: "invitations",
        sql: include_str!("../migrations/postgres/0006_invitations.sql"),
    },
    Migration {
        version: 7,
        name: "audit_chain",
        sql: include_str!("../migrations/postgres/0007_audit_chain.sql"),
    },
    Migration {
        version: 8,
        name: "main_path",
        sql: include_str!("../migrations/postgres/0008_main_path.sql"),
    },
    Migration {
        version: 9,
        name: "training_load",
        sql: include_str!("../migrations/postgres/0009_training_load.sql"),
    },
    Migration {
        version: 10,
        name: "sso",
        sql: include_str!("../migrations/postgres/0010_sso.sql"),
    },
    Migration {
        version: 11,
        name: "erasure",
        sql: include_str!("../migrations/postgres/0011_erasure.sql"),
    },
    Migration {
        version: 12,
        name: "audit_retention",
        sql: include_str!("../migrations/postgres/0012_audit_retention.sql"),
    },
    Migration {
        version: 13,
        name: "pipelines",
        sql: include_str!("../migrations/postgres/0013_pipelines.sql"),
    },
    Migration {
        version: 14,
        name: "tenant_secrets_and_mail_limits",
        sql: include_str!("../migrations/postgres/0014_tenant_secrets_and_mail_limits.sql"),
    },
    Migration {
        version: 15,
        name: "upload_options",
        sql: include_str!("../migrations/postgres/0015_upload_options.sql"),
    },
    Migration {
        version: 16,
        name: "upload_weigh_in",
        sql: include_str!("../migrations/postgres/0016_upload_weigh_in.sql"),
    },
    Migration {
        version: 17,
        name: "upload_columns",
        sql: include_str!("../migrations/postgres/0017_upload_columns.sql"),
    },
    Migration {
        version: 18,
        name: "metric_index_covers",
        sql: include_str!("../migrations/postgres/0018_metric_index_covers.sql"),
    },
    Migration {
        version: 19,
        name: "display_preferences",
        sql: include_str!("../migrations/postgres/0019_display_preferences.sql"),
    },
    Migration {
        version: 20,
        name: "assessment_values",
        sql: include_str!("../migrations/postgres/0020_assessment_values.sql"),
    },
    Migration {
        version: 21,
        name: "sso_domain_proofs",
        sql: include_str!("../migrations/postgres/0021_sso_domain_proofs.sql"),
    },
    Migration {
        version: 22,
        name: "training_load_weeks",
        sql: include_str!("../migrations/postgres/0022_training_load_weeks.sql"),
    },
    Migration {
        version: 23,
        name: "checkpoint_key_version",
        sql: include_str!("../migrations/postgres/0023_checkpoint_key_version.sql"),
    },
    Migration {
        version: 24,
        name: "security_monitoring",
        sql: include_str!("../migrations/postgres/0024_security_monitoring.sql"),
    },
    Migration {
        version: 25,
        name: "backup_runs",
        sql: include_str!("../migrations/postgres/0025_backup_runs.sql"),
    },
    Migration {
        version: 26,
        name: "run_traceparent",
        sql: include_str!("../migrations/postgres/0026_run_traceparent.sql"),
    },
    Migration {
        version: 27,
        name: "compliance_runs",
        sql: include_str!("../migrations/postgres/0027_compliance_runs.sql"),
    },
    Migration {
        version: 28,
        name: "earlier_weigh_in",
        sql: include_str!("../migrations/postgres/0028_earlier_weigh_in.sql"),
    },
    Migration {
        version: 29,
        name: "webhooks",
        sql: include_str!("../migrations/postgres/0029_webhooks.sql"),
    },
    Migration {
        version: 30,
        name: "api_key_rotation",
        sql: include_str!("../migrations/postgres/0030_api_key_rotation.sql"),
    },
    Migration {
        version: 31,
        name: "change_feed",
        sql: include_str!("../migrations/postgres/0031_change_feed.sql"),
    },
    Migration {
        version: 32,
        name: "fhir_exports",
        sql: include_str!("../migrations/postgres/0032_fhir_exports.sql"),
    },
];

/// The migrations built in for a backend.
pub fn migrations(backend: Backend) -> &'static [Migration] {
    match backend {
        Backend::Sqlite => SQLITE,
        Backend::Postgres => POSTGRES,
    }
}

/// Where the database stands against the migrations built into this binary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Status {
    /// Migrations recorded as applied.
    pub applied: usize,
    /// Migrations this binary has.
    pub expected: usize,
}

impl Status {
    /// Whether every built-in migration is applied.
    pub fn is_current(&self) -> bool {
        self.applied == self.expected
    }
}

/// Applies pending migrations and returns the versions applied now.
pub async fn run(db: &Db) -> Result<Vec<i64>, StorageError> {
    let backend = db.backend();
    let create = match backend {
        Backend::Sqlite => {
            "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY NOT NULL, \
             name TEXT NOT NULL, checksum TEXT NOT NULL, applied_at_ms INTEGER NOT NULL) STRICT"
        }
        Backend::Postgres => {
            "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, \
             name TEXT NOT NULL, checksum TEXT NOT NULL, applied_at_ms BIGINT NOT NULL)"
        }
    };
    let mut applied_now = Vec::new();
    for migration in migrations(backend) {
        let mut tx = db.pool().begin_with(begin_statement(backend)).await?;
        if backend == Backend::Postgres {
            // Serialises concurrent instances; released at commit.
            sqlx::query("SELECT pg_advisory_xact_lock(7240531)")
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query(create).execute(&mut *tx).await?;
        let recorded = recorded(&mut tx).await?;
        check_known(backend, &recorded)?;
        if recorded.iter().any(|(v, _)| *v == migration.version) {
            continue;
        }
        sqlx::raw_sql(migration.sql).execute(&mut *tx).await?;
        sqlx::query(
            "INSERT INTO schema_migrations (version, name, checksum, applied_at_ms) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(migration.version)
        .bind(migration.name)
        .bind(migration.checksum())
        .bind(now_ms())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        tracing::info!(
            version = migration.version,
            name = migration.name,
            "migration applied"
        );
        applied_now.push(migration.version);
    }
    Ok(applied_now)
}

/// Compares the database with the built-in migrations, without changing anything.
pub async fn status(db: &Db) -> Result<Status, StorageError> {
    let backend = db.backend();
    let expected = migrations(backend).len();
    let exists_query = match backend {
        Backend::Sqlite => {
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'"
        }
        Backend::Postgres => {
            "SELECT count(*) FROM information_schema.tables \
             WHERE table_schema = current_schema() AND table_name = 'schema_migrations'"
        }
    };
    let mut conn = db.pool().acquire().await?;
    let exists: i64 = sqlx::query_scalar(exists_query)
        .fetch_one(&mut *conn)
        .await?;
    if exists == 0 {
        return Ok(Status {
            applied: 0,
            expected,
        });
    }
    let recorded = recorded(&mut conn).await?;
    check_known(backend, &recorded)?;
    Ok(Status {
        applied: recorded.len(),
        expected,
    })
}

fn begin_statement(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "BEGIN IMMEDIATE",
        Backend::Postgres => "BEGIN",
    }
}

async fn recorded(conn: &mut sqlx::AnyConnection) -> Result<Vec<(i64, String)>, StorageError> {
    let rows = sqlx::query("SELECT version, checksum FROM schema_migrations ORDER BY version")
        .fetch_all(&mut *conn)
        .await?;
    rows.iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
        .collect()
}

fn check_known(backend: Backend, recorded: &[(i64, String)]) -> Result<(), StorageError> {
    let known = migrations(backend);
    for (version, checksum) in recorded {
        let Some(m) = known.iter().find(|m| m.version == *version) else {
            return Err(StorageError::UnknownMigration { version: *version });
        };
        if m.checksum() != *checksum {
            return Err(StorageError::MigrationChanged {
                version: *version,
                name: m.name.to_owned(),
            });
        }
    }
    Ok(())
}

fn now_ms() -> i64 {
    use mhp_domain::Clock as _;
    mhp_domain::SystemClock.now().as_millis()
}

fn hex(bytes: &[u8]) -> String {
    mhp_domain::to_hex(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_backends_have_the_same_migration_list() {
        let names =
            |b| -> Vec<(i64, &str)> { migrations(b).iter().map(|m| (m.version, m.name)).collect() };
        assert_eq!(names(Backend::Sqlite), names(Backend::Postgres));
    }

    #[test]
    fn versions_increase() {
        for b in [Backend::Sqlite, Backend::Postgres] {
            let v: Vec<i64> = migrations(b).iter().map(|m| m.version).collect();
            assert!(v.windows(2).all(|w| w[0] < w[1]), "{v:?}");
        }
    }
}
