//! What can go wrong. Messages name the operation, a position or an error class, never document
//! content (pseudonyms, metric values, ids of documents), so they are safe to log.

/// An index operation failed.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    /// A document handed to `upsert` cannot be indexed.
    #[error("document {position} of the batch is invalid: {problem}")]
    InvalidDocument {
        /// Zero-based position in the batch.
        position: usize,
        /// What is wrong, in fixed words.
        problem: &'static str,
    },
    /// A query cannot be run.
    #[error("invalid query: {0}")]
    InvalidQuery(&'static str),
    /// The backend's settings are unusable.
    #[error("invalid index configuration: {0}")]
    Config(&'static str),
    /// The embedded index's database failed.
    #[error("embedded index database error during {operation}")]
    Database {
        /// What was being done.
        operation: &'static str,
        /// The driver's error (SQL errors name tables and columns, never bound values).
        #[source]
        source: sqlx::Error,
    },
    /// The embedded index file was written by a newer version of MHP.
    #[error(
        "the embedded index file has schema version {found}, newer than this build's {supported}"
    )]
    SchemaTooNew {
        /// Version in the file.
        found: i64,
        /// Newest version this build knows.
        supported: i64,
    },
    /// The index service could not be reached (connection, time-out, TLS).
    #[error("the index service could not be reached during {operation}")]
    Unavailable {
        /// What was being done.
        operation: &'static str,
        /// The transport error.
        #[source]
        source: reqwest::Error,
    },
    /// A request could not be signed (no credentials could be had).
    #[error("the request to {operation} could not be signed: {reason}")]
    Signing {
        /// What was being done.
        operation: &'static str,
        /// Why, without a secret.
        reason: String,
    },
    /// The index service answered with an HTTP error.
    #[error("the index service answered HTTP {status} to {operation}{}", error_type.as_deref().map(|t| format!(" ({t})")).unwrap_or_default())]
    Http {
        /// What was being done.
        operation: &'static str,
        /// HTTP status.
        status: u16,
        /// OpenSearch's error class (`error.type`, e.g. `index_not_found_exception`); its
        /// `reason` is left out because it can quote document content.
        error_type: Option<String>,
    },
    /// Some items of a bulk request failed.
    #[error(
        "{failed} of {total} items of a bulk {operation} failed (first: HTTP {first_status}, {first_type})"
    )]
    Bulk {
        /// What was being done.
        operation: &'static str,
        /// Items that failed.
        failed: usize,
        /// Items sent.
        total: usize,
        /// Status of the first failed item.
        first_status: u16,
        /// Error class of the first failed item.
        first_type: String,
    },
    /// A `_delete_by_query` reported failures.
    #[error("{failures} failures while clearing an organisation")]
    DeleteByQuery {
        /// Number of failures reported.
        failures: usize,
    },
    /// The index service answered something this client cannot read.
    #[error("unexpected response from the index service to {0}")]
    BadResponse(&'static str),
    /// A stored or returned document is not one this crate wrote.
    #[error("a stored document is corrupt")]
    Corrupt,
    /// The backend returned a document of another organisation than the one asked for. Never
    /// expected; checked as a second wall behind the organisation filter.
    #[error("the index returned a document of another organisation")]
    TenantMismatch,
    /// The backend answers but is not ready for use.
    #[error("the index is not ready: {0}")]
    NotReady(&'static str),
}
