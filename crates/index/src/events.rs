//! Security events in an OpenSearch cluster: the SIEM sink of the reference deployment (a
//! second cluster, apart from the document index).
//!
//! One index, `<prefix>-security-events`, of OCSF events as MHP writes them, each stored with
//! `_id` = its `metadata.uid`: a batch delivered again after a crash (at-least-once delivery)
//! overwrites the same documents instead of adding copies. The mapping indexes the fields a
//! SIEM searches and aggregates on (time, class, activity, severity, status, tenant, actor,
//! source address, finding) and keeps the rest in `_source` only (`dynamic: false`): OCSF
//! events of different classes give one field different shapes, which dynamic mapping would
//! turn into refused documents, and a refused document would hold the sink's backlog forever.

use serde_json::{Value, json};

use crate::IndexError;
use crate::opensearch::{OpenSearchAuth, OpenSearchIndex, Payload, expect_success, push_line};

/// Events per `_bulk` request.
const CHUNK: usize = 500;

/// The security-event index of one cluster.
#[derive(Debug)]
pub struct SecurityEventIndex {
    cluster: OpenSearchIndex,
}

impl SecurityEventIndex {
    /// The index `<prefix>-security-events` of the cluster at `base_url`, authenticating as
    /// `auth` says (as for [`OpenSearchIndex::new`]).
    pub fn new(base_url: &str, prefix: &str, auth: OpenSearchAuth) -> Result<Self, IndexError> {
        if !crate::opensearch::valid_prefix(prefix) {
            return Err(IndexError::Config("the index prefix is not valid"));
        }
        Ok(Self {
            cluster: OpenSearchIndex::with_index(
                base_url,
                format!("{prefix}-security-events"),
                auth,
            )?,
        })
    }

    /// The index's name (and its template's).
    pub fn index_name(&self) -> &str {
        self.cluster.index_name()
    }

    /// Installs (or updates) the index template.
    pub async fn ensure_schema(&self) -> Result<(), IndexError> {
        let operation = "install the security-event template";
        let path = format!("_index_template/{}", self.index_name());
        let body = template_body(self.index_name());
        let (status, answer) = self
            .cluster
            .send(operation, reqwest::Method::PUT, &path, Payload::Json(&body))
            .await?;
        expect_success(operation, status, &answer)
    }

    /// Stores `lines` (one OCSF event each, JSON): all of them, or an error. Each line must
    /// carry `metadata.uid`.
    pub async fn store(&self, lines: &[String]) -> Result<(), IndexError> {
        for chunk in lines.chunks(CHUNK) {
            let mut body = String::new();
            for (position, line) in chunk.iter().enumerate() {
                let event: Value =
                    serde_json::from_str(line).map_err(|_| IndexError::InvalidDocument {
                        position,
                        problem: "not a JSON object",
                    })?;
                let Some(uid) = event
                    .get("metadata")
                    .and_then(|m| m.get("uid"))
                    .and_then(Value::as_str)
                else {
                    return Err(IndexError::InvalidDocument {
                        position,
                        problem: "no metadata.uid",
                    });
                };
                push_line(&mut body, &json!({ "index": { "_id": uid } }))?;
                body.push_str(line.trim_end());
                body.push('\n');
            }
            self.cluster.bulk("upsert", body, chunk.len()).await?;
        }
        Ok(())
    }
}

fn template_body(index: &str) -> Value {
    let keyword = json!({ "type": "keyword" });
    let integer = json!({ "type": "integer" });
    json!({
        "index_patterns": [index],
        "priority": 100,
        "_meta": { "managed_by": "mhp", "schema_version": 1, "format": "OCSF 1.8.0" },
        "template": {
            "mappings": {
                "dynamic": false,
                "properties": {
                    "time": { "type": "date", "format": "epoch_millis" },
                    "class_uid": integer,
                    "category_uid": integer,
                    "activity_id": integer,
                    "type_uid": { "type": "long" },
                    "severity_id": integer,
                    "status_id": integer,
                    "message": { "type": "text" },
                    "metadata": { "properties": {
                        "uid": keyword,
                        "tenant_uid": keyword,
                        "product": { "properties": { "name": keyword, "version": keyword } },
                    } },
                    "actor": { "properties": { "user": { "properties": {
                        "uid": keyword,
                        "type": keyword,
                    } } } },
                    "src_endpoint": { "properties": { "ip": { "type": "ip", "ignore_malformed": true } } },
                    "finding_info": { "properties": {
                        "uid": keyword,
                        "title": keyword,
                    } },
                },
            },
        },
    })
}
