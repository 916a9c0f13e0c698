//! The model registry: named models per organisation, their versions with lineage and metrics,
//! and the stages a version moves through (candidate → staging → production → archived).
//! At most one version of a model is in production (a unique index says so).

use mhp_domain::{ModelVersionId, RunId, Timestamp};
use sqlx::Row;
use sqlx::any::AnyRow;

use super::parse_id;
use crate::{StorageError, TenantTx};

/// The stage of a model version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stage {
    /// Registered, not yet in use.
    Candidate,
    /// Being tried (scored beside production, not shown).
    Staging,
    /// The version scores are made with.
    Production,
    /// Retired.
    Archived,
}

impl Stage {
    /// As stored.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Candidate => "candidate",
            Self::Staging => "staging",
            Self::Production => "production",
            Self::Archived => "archived",
        }
    }

    /// Parses the stored form.
    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::Candidate,
            Self::Staging,
            Self::Production,
            Self::Archived,
        ]
        .into_iter()
        .find(|x| x.as_str() == s)
    }
}

/// A model version as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelVersion {
    /// Its id.
    pub id: ModelVersionId,
    /// The model's name.
    pub model: String,
    /// 1, 2, ... per model.
    pub version: i64,
    /// `native` (an `mhp_ml::Model` artifact) or `onnx`.
    pub kind: String,
    /// Where.
    pub stage: Stage,
    /// Object-store key of the sealed artifact.
    pub artifact_key: String,
    /// SHA-256 (hex) of the artifact before sealing.
    pub artifact_sha256: String,
    /// The feature names it expects, in order (JSON array).
    pub features_json: String,
    /// Lineage (JSON object): dataset fingerprint, code version, parameters, training run.
    pub lineage_json: String,
    /// Evaluation (JSON object).
    pub metrics_json: String,
    /// The run that trained it, when a pipeline did.
    pub training_run: Option<String>,
    /// Audit name of who registered it.
    pub created_by: String,
    /// When it was registered.
    pub created_at: Timestamp,
    /// When it last went into production (cleared when it was rolled back).
    pub promoted_at: Option<Timestamp>,
    /// When its stage last changed.
    pub stage_changed_at: Timestamp,
}

/// A version to register.
#[derive(Debug, Clone)]
pub struct NewVersion<'a> {
    /// Its id (chosen by the caller, which names the artifact after it).
    pub id: ModelVersionId,
    /// The model's name (created on first use).
    pub model: &'a str,
    /// `native` or `onnx`.
    pub kind: &'a str,
    /// Object-store key of the sealed artifact.
    pub artifact_key: &'a str,
    /// SHA-256 (hex) of the artifact before sealing.
    pub artifact_sha256: &'a str,
    /// Feature names (JSON array).
    pub features_json: &'a str,
    /// Lineage (JSON object).
    pub lineage_json: &'a str,
    /// Evaluation (JSON object).
    pub metrics_json: &'a str,
    /// The training run, if any: registering twice from one run returns the first version.
    pub training_run: Option<RunId>,
    /// Audit name of who registers it.
    pub created_by: &'a str,
}

const COLUMNS: &str = "v.id, m.name, v.version, v.kind, v.stage, v.artifact_key, \
     v.artifact_sha256, v.features_json, v.lineage_json, v.metrics_json, v.training_run_id, \
     v.created_by, v.created_at_ms, v.promoted_at_ms, v.stage_changed_at_ms";

fn from_row(row: &AnyRow) -> Result<ModelVersion, StorageError> {
    let id: String = row.try_get("id")?;
    let stage: String = row.try_get("stage")?;
    Ok(ModelVersion {
        id: parse_id(&id, "model version id", ModelVersionId::parse)?,
        model: row.try_get("name")?,
        version: row.try_get("version")?,
        kind: row.try_get("kind")?,
        stage: Stage::parse(&stage).ok_or(StorageError::Corrupt {
            what: "model stage",
        })?,
        artifact_key: row.try_get("artifact_key")?,
        artifact_sha256: row.try_get("artifact_sha256")?,
        features_json: row.try_get("features_json")?,
        lineage_json: row.try_get("lineage_json")?,
        metrics_json: row.try_get("metrics_json")?,
        training_run: row.try_get("training_run_id")?,
        created_by: row.try_get("created_by")?,
        created_at: Timestamp::from_millis(row.try_get("created_at_ms")?),
        promoted_at: row
            .try_get::<Option<i64>, _>("promoted_at_ms")?
            .map(Timestamp::from_millis),
        stage_changed_at: Timestamp::from_millis(row.try_get("stage_changed_at_ms")?),
    })
}

async fn model_id(tx: &mut TenantTx, name: &str, now: Timestamp) -> Result<String, StorageError> {
    sqlx::query(
        "INSERT INTO models (id, org_id, name, created_at_ms) VALUES ($1, $2, $3, $4) \
         ON CONFLICT DO NOTHING",
    )
    .bind(uuid::Uuid::now_v7().to_string())
    .bind(tx.org_key())
    .bind(name)
    .bind(now.as_millis())
    .execute(tx.conn())
    .await?;
    Ok(
        sqlx::query_scalar("SELECT id FROM models WHERE org_id = $1 AND name = $2")
            .bind(tx.org_key())
            .bind(name)
            .fetch_one(tx.conn())
            .await?,
    )
}

/// Registers a candidate version (the next number of its model). Registering again from the
/// same training run returns the version registered the first time, unchanged.
pub async fn register(
    tx: &mut TenantTx,
    new: &NewVersion<'_>,
    now: Timestamp,
) -> Result<ModelVersion, StorageError> {
    let model = model_id(tx, new.model, now).await?;
    if let Some(run) = new.training_run {
        let sql = format!(
            "SELECT {COLUMNS} FROM model_versions v JOIN models m ON m.id = v.model_id \
             WHERE v.org_id = $1 AND v.model_id = $2 AND v.training_run_id = $3"
        );
        if let Some(row) = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tx.org_key())
            .bind(model.as_str())
            .bind(run.to_string())
            .fetch_optional(tx.conn())
            .await?
        {
            return from_row(&row);
        }
    }
    let next: i64 = sqlx::query_scalar(
        "SELECT COALESCE(MAX(version), 0) + 1 FROM model_versions \
         WHERE org_id = $1 AND model_id = $2",
    )
    .bind(tx.org_key())
    .bind(model.as_str())
    .fetch_one(tx.conn())
    .await?;
    sqlx::query(
        "INSERT INTO model_versions (id, org_id, model_id, version, kind, stage, artifact_key, \
         artifact_sha256, features_json, lineage_json, metrics_json, training_run_id, \
         created_by, created_at_ms, stage_changed_at_ms) \
         VALUES ($1, $2, $3, $4, $5, 'candidate', $6, $7, $8, $9, $10, $11, $12, $13, $13)",
    )
    .bind(new.id.to_string())
    .bind(tx.org_key())
    .bind(model.as_str())
    .bind(next)
    .bind(new.kind)
    .bind(new.artifact_key)
    .bind(new.artifact_sha256)
    .bind(new.features_json)
    .bind(new.lineage_json)
    .bind(new.metrics_json)
    .bind(new.training_run.map(|r| r.to_string()))
    .bind(new.created_by)
    .bind(now.as_millis())
    .execute(tx.conn())
    .await?;
    get(tx, new.id).await
}

/// A version of one of the organisation's models.
pub async fn get(tx: &mut TenantTx, id: ModelVersionId) -> Result<ModelVersion, StorageError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM model_versions v JOIN models m ON m.id = v.model_id \
         WHERE v.org_id = $1 AND v.id = $2"
    );
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(tx.org_key())
        .bind(id.to_string())
        .fetch_optional(tx.conn())
        .await?
        .ok_or(StorageError::NotFound {
            entity: "model version",
        })?;
    from_row(&row)
}

/// The versions of a model, newest first.
pub async fn versions(tx: &mut TenantTx, model: &str) -> Result<Vec<ModelVersion>, StorageError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM model_versions v JOIN models m ON m.id = v.model_id \
         WHERE v.org_id = $1 AND m.name = $2 ORDER BY v.version DESC LIMIT 500"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(tx.org_key())
        .bind(model)
        .fetch_all(tx.conn())
        .await?;
    rows.iter().map(from_row).collect()
}

/// The organisation's model names, alphabetically.
pub async fn names(tx: &mut TenantTx) -> Result<Vec<String>, StorageError> {
    Ok(
        sqlx::query_scalar("SELECT name FROM models WHERE org_id = $1 ORDER BY name")
            .bind(tx.org_key())
            .fetch_all(tx.conn())
            .await?,
    )
}

/// The model's production version, if it has one.
pub async fn production(
    tx: &mut TenantTx,
    model: &str,
) -> Result<Option<ModelVersion>, StorageError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM model_versions v JOIN models m ON m.id = v.model_id \
         WHERE v.org_id = $1 AND m.name = $2 AND v.stage = 'production'"
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(tx.org_key())
        .bind(model)
        .fetch_optional(tx.conn())
        .await?
        .as_ref()
        .map(from_row)
        .transpose()
}

/// Moves a version to `stage`. Into production, the model's current production version is
/// archived first. Returns the version as it is now, and the one it displaced.
pub async fn set_stage(
    tx: &mut TenantTx,
    id: ModelVersionId,
    stage: Stage,
    now: Timestamp,
) -> Result<(ModelVersion, Option<ModelVersion>), StorageError> {
    let version = get(tx, id).await?;
    if version.stage == stage {
        return Ok((version, None));
    }
    let mut displaced = None;
    if stage == Stage::Production
        && let Some(current) = production(tx, &version.model).await?
    {
        archive(tx, current.id, false, now).await?;
        displaced = Some(get(tx, current.id).await?);
    }
    sqlx::query(
        "UPDATE model_versions SET stage = $3, stage_changed_at_ms = $4, \
         promoted_at_ms = CASE WHEN $3 = 'production' THEN $4 ELSE promoted_at_ms END \
         WHERE org_id = $1 AND id = $2",
    )
    .bind(tx.org_key())
    .bind(id.to_string())
    .bind(stage.as_str())
    .bind(now.as_millis())
    .execute(tx.conn())
    .await?;
    Ok((get(tx, id).await?, displaced))
}

async fn archive(
    tx: &mut TenantTx,
    id: ModelVersionId,
    rolled_back: bool,
    now: Timestamp,
) -> Result<(), StorageError> {
    sqlx::query(
        "UPDATE model_versions SET stage = 'archived', stage_changed_at_ms = $3, \
         promoted_at_ms = CASE WHEN $4 = 1 THEN NULL ELSE promoted_at_ms END \
         WHERE org_id = $1 AND id = $2",
    )
    .bind(tx.org_key())
    .bind(id.to_string())
    .bind(now.as_millis())
    .bind(i64::from(rolled_back))
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Rolls the model back: its production version is archived (and can no longer be rolled back
/// to), and the version that was in production before it returns. Returns `(restored,
/// withdrawn)`; `NotFound` when there is no production version or none before it.
pub async fn rollback(
    tx: &mut TenantTx,
    model: &str,
    now: Timestamp,
) -> Result<(ModelVersion, ModelVersion), StorageError> {
    let current = production(tx, model).await?.ok_or(StorageError::NotFound {
        entity: "production model version",
    })?;
    let sql = format!(
        "SELECT {COLUMNS} FROM model_versions v JOIN models m ON m.id = v.model_id \
         WHERE v.org_id = $1 AND m.name = $2 AND v.stage = 'archived' \
           AND v.promoted_at_ms IS NOT NULL \
         ORDER BY v.promoted_at_ms DESC, v.version DESC LIMIT 1"
    );
    let previous = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(tx.org_key())
        .bind(model)
        .fetch_optional(tx.conn())
        .await?
        .ok_or(StorageError::NotFound {
            entity: "earlier production model version",
        })?;
    let previous = from_row(&previous)?;
    archive(tx, current.id, true, now).await?;
    sqlx::query(
        "UPDATE model_versions SET stage = 'production', stage_changed_at_ms = $3 \
         WHERE org_id = $1 AND id = $2",
    )
    .bind(tx.org_key())
    .bind(previous.id.to_string())
    .bind(now.as_millis())
    .execute(tx.conn())
    .await?;
    Ok((get(tx, previous.id).await?, get(tx, current.id).await?))
}
