//! Keeping the document index in step with SQL, the system of record: each stored or
//! re-analysed assessment is indexed after its transaction commits (a failure is logged and
//! repaired by `mhp index rebuild`, never fails the upload), and a rebuild reindexes an
//! organisation from SQL. Documents carry the subject's pseudonym, never identifiers.

use mhp_domain::{OrgId, OrgScope, TeamId};
use mhp_index::AssessmentDoc;
use mhp_storage::repo::assessments::{self, AnalysisResult, Assessment};
use mhp_storage::repo::{Page, subjects};
use mhp_storage::{Access, TenantTx};

use crate::{App, AppError};

/// The document of an assessment's current result.
pub async fn document(
    tx: &mut TenantTx,
    a: &Assessment,
    result: &AnalysisResult,
) -> Result<AssessmentDoc, AppError> {
    let subject = subjects::get_including_archived(tx, a.subject).await?;
    let teams = subjects::teams_of(tx, a.subject).await?;
    Ok(document_of(tx.org(), subject.pseudonym, teams, a, result))
}

/// An assessment's document from what is known of its subject (pseudonym, teams).
pub fn document_of(
    org: OrgId,
    pseudonym: String,
    teams: Vec<TeamId>,
    a: &Assessment,
    result: &AnalysisResult,
) -> AssessmentDoc {
    let metrics = crate::assessments::metric_means(result);
    let report: serde_json::Value = serde_json::from_str(&result.report_json).unwrap_or_default();
    let mut flags: Vec<String> = report["trials"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|t| t["flags"].as_array().cloned().unwrap_or_default())
        .filter_map(|f| f["code"].as_str().map(str::to_owned))
        .collect();
    flags.sort();
    flags.dedup();
    AssessmentDoc {
        org,
        id: a.id,
        subject: a.subject,
        pseudonym,
        teams,
        recorded_at_ms: a.recorded_at.as_millis(),
        kind: a.kind.clone(),
        analysis_version: a.analysis_version.clone(),
        flags,
        tags: vec![format!(
            "source:{}",
            a.uploaded_by.split(':').next().unwrap_or("")
        )],
        metrics,
    }
}

/// Indexes one assessment after its change committed; failures are logged (ids only).
pub async fn index_one(app: &App, scope: &OrgScope, a: &Assessment, result: &AnalysisResult) {
    let outcome = async {
        let mut tx = app.db.tenant(scope, Access::Read).await?;
        let doc = document(&mut tx, a, result).await?;
        drop(tx);
        Ok::<_, AppError>(doc)
    }
    .await;
    match outcome {
        Ok(doc) => index_document(app, doc).await,
        Err(e) => not_indexed(a.id, &e),
    }
}

/// Indexes a document made after its assessment's change committed; failures are logged.
pub async fn index_document(app: &App, doc: AssessmentDoc) {
    let id = doc.id;
    if let Err(e) = app.index.upsert(&[doc]).await {
        not_indexed(id, &e);
    }
}

fn not_indexed(id: mhp_domain::AssessmentId, e: &dyn std::fmt::Display) {
    tracing::warn!(assessment = %id, error = %e,
        "assessment not indexed; `mhp index rebuild` repairs the index");
}

/// Rebuilds an organisation's documents from SQL; returns how many were indexed.
pub async fn rebuild_org(app: &App, scope: &OrgScope) -> Result<u64, AppError> {
    let index = &app.index;
    index
        .clear_org(scope.org())
        .await
        .map_err(|e| AppError::Internal(Box::new(e)))?;
    let mut after = None;
    let mut n = 0u64;
    loop {
        let mut tx = app.db.tenant(scope, Access::Read).await?;
        let page = assessments::list_all(&mut tx, Page { after, limit: 200 }).await?;
        let Some(last) = page.last() else { break };
        after = Some(last.id);
        let mut docs = Vec::with_capacity(page.len());
        for a in &page {
            let result = assessments::current_result(&mut tx, a).await?;
            docs.push(document(&mut tx, a, &result).await?);
        }
        drop(tx);
        index
            .upsert(&docs)
            .await
            .map_err(|e| AppError::Internal(Box::new(e)))?;
        n += docs.len() as u64;
    }
    Ok(n)
}
