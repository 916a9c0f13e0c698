//! Bulk imports: rows of CSV (a header line naming the columns) or NDJSON (one JSON object a
//! line), read into named text fields, so each kind of record checks its rows with the rules
//! its single-record form uses and reports every row it cannot take, by number.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::AppError;

/// Most rows one import may hold.
pub const MAX_ROWS: usize = 5000;

/// How an import is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// CSV with a header line.
    Csv,
    /// One JSON object a line.
    Ndjson,
}

impl Format {
    /// The format a media type names (`text/csv`, `application/x-ndjson`).
    pub fn of_media_type(media_type: &str) -> Option<Self> {
        let essence = media_type.split(';').next().unwrap_or("").trim();
        match essence {
            "text/csv" => Some(Format::Csv),
            "application/x-ndjson" | "application/ndjson" | "application/jsonl" => {
                Some(Format::Ndjson)
            }
            _ => None,
        }
    }
}

/// A row that cannot be taken: its number (the first data row is 1) and why, without its
/// content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowError {
    /// The row's number.
    pub row: usize,
    /// What is wrong with it.
    pub error: String,
}

/// One row's fields by column name (empty fields left out).
pub type Row = BTreeMap<String, String>;

/// The rows read, each with its number, and the rows that could not be read.
pub type Rows = (Vec<(usize, Row)>, Vec<RowError>);

/// The rows of `body`, each with its number; `columns` are the names a row may have. An
/// unknown column, a file that does not parse as its format, no rows or too many are refused
/// whole; a row that does not parse is a row error.
pub fn rows(format: Format, body: &[u8], columns: &[&str]) -> Result<Rows, AppError> {
    let unknown = |name: &str| {
        AppError::malformed(format!(
            "column {name:?} is not one of {}",
            columns.join(", ")
        ))
    };
    let mut out = Vec::new();
    let mut errors = Vec::new();
    match format {
        Format::Csv => {
            let mut reader = csv::ReaderBuilder::new()
                .trim(csv::Trim::All)
                .from_reader(body);
            let header: Vec<String> = reader
                .headers()
                .map_err(|_| AppError::malformed("the CSV has no header line"))?
                .iter()
                .map(str::to_owned)
                .collect();
            if let Some(h) = header.iter().find(|h| !columns.contains(&h.as_str())) {
                return Err(unknown(h));
            }
            for (i, record) in reader.records().enumerate() {
                let row = i + 1;
                match record {
                    Ok(r) => {
                        let fields = header
                            .iter()
                            .zip(r.iter())
                            .filter(|(_, v)| !v.is_empty())
                            .map(|(h, v)| (h.clone(), v.to_owned()))
                            .collect();
                        out.push((row, fields));
                    }
                    Err(_) => errors.push(RowError {
                        row,
                        error: "the line is not a CSV record of the header's columns".into(),
                    }),
                }
                if out.len() + errors.len() > MAX_ROWS {
                    break;
                }
            }
        }
        Format::Ndjson => {
            let text = std::str::from_utf8(body)
                .map_err(|_| AppError::malformed("the body is not UTF-8 text"))?;
            for (i, line) in text.lines().filter(|l| !l.trim().is_empty()).enumerate() {
                let row = i + 1;
                let Ok(serde_json::Value::Object(map)) = serde_json::from_str(line) else {
                    errors.push(RowError {
                        row,
                        error: "the line is not a JSON object".into(),
                    });
                    continue;
                };
                let mut fields = Row::new();
                for (k, v) in map {
                    if !columns.contains(&k.as_str()) {
                        return Err(unknown(&k));
                    }
                    let text = match v {
                        serde_json::Value::Null => continue,
                        serde_json::Value::String(s) => s,
                        serde_json::Value::Array(items) => items
                            .iter()
                            .map(|x| x.as_str().map_or_else(|| x.to_string(), str::to_owned))
                            .collect::<Vec<_>>()
                            .join(";"),
                        other => other.to_string(),
                    };
                    if !text.is_empty() {
                        fields.insert(k, text);
                    }
                }
                out.push((row, fields));
                if out.len() + errors.len() > MAX_ROWS {
                    break;
                }
            }
        }
    }
    if out.len() + errors.len() > MAX_ROWS {
        return Err(AppError::malformed(format!(
            "an import holds at most {MAX_ROWS} rows"
        )));
    }
    if out.is_empty() && errors.is_empty() {
        return Err(AppError::malformed("the import holds no rows"));
    }
    Ok((out, errors))
}

/// The subject a row of loads or injuries names: by MHP's id (`subject`) or by the
/// organisation's own external id (`external_id`), exactly one of the two.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubjectRef {
    /// MHP's id.
    Id(mhp_domain::SubjectId),
    /// The external id (service number, club id), found through its blind index.
    External(String),
}

impl SubjectRef {
    /// The reference `row` holds, or why it holds none.
    pub fn of(row: &Row) -> Result<Self, String> {
        match (row.get("subject"), row.get("external_id")) {
            (Some(id), None) => mhp_domain::SubjectId::parse(id)
                .map(SubjectRef::Id)
                .map_err(|_| "subject is not a subject id".to_owned()),
            (None, Some(e)) => Ok(SubjectRef::External(e.clone())),
            (Some(_), Some(_)) => Err("give subject or external_id, not both".to_owned()),
            (None, None) => Err("subject or external_id is required".to_owned()),
        }
    }

    /// The subject of the transaction's organisation it names, if there is one that records
    /// may be added to (not archived, not erased).
    pub async fn resolve(
        &self,
        tx: &mut mhp_storage::TenantTx,
        phi: &crate::phi::Phi,
        org: mhp_domain::OrgId,
    ) -> Result<Option<mhp_domain::SubjectId>, AppError> {
        use mhp_storage::StorageError;
        use mhp_storage::repo::subjects;
        let id = match self {
            SubjectRef::Id(id) => *id,
            SubjectRef::External(e) => {
                let Some(index) = phi.subject_keys(org, "", Some(e)).external_id else {
                    return Ok(None);
                };
                match subjects::id_by_external_index(tx, &index).await? {
                    Some(id) => id,
                    None => return Ok(None),
                }
            }
        };
        match subjects::get(tx, id).await {
            Ok(_) => Ok(Some(id)),
            Err(StorageError::NotFound { .. }) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }
}

/// A checked record whose subject an import row names.
pub trait ForSubject {
    /// Gives the record its subject, once resolved.
    fn set_subject(&mut self, subject: mhp_domain::SubjectId);
}

/// Resolves each checked row's subject in the transaction: the records whose subject is one
/// of the organisation's (not archived), and a row error for each other.
pub async fn resolve_subjects<T: ForSubject>(
    tx: &mut mhp_storage::TenantTx,
    phi: &crate::phi::Phi,
    org: mhp_domain::OrgId,
    checked: Vec<(usize, SubjectRef, T)>,
    errors: &mut Vec<RowError>,
) -> Result<Vec<T>, AppError> {
    let mut ready = Vec::with_capacity(checked.len());
    for (row, subject, mut record) in checked {
        match subject.resolve(tx, phi, org).await? {
            Some(id) => {
                record.set_subject(id);
                ready.push(record);
            }
            None => errors.push(RowError {
                row,
                error: "the subject is not one of the organisation's (or is archived)".into(),
            }),
        }
    }
    Ok(ready)
}

/// The field `name` of `row` as a whole number, when present.
pub fn whole_number(row: &Row, name: &str) -> Result<Option<u32>, String> {
    row.get(name)
        .map(|v| {
            v.parse::<u32>()
                .map_err(|_| format!("{name} must be a whole number"))
        })
        .transpose()
}

/// The detail of a checking error, for a row's report; other errors are not the row's.
pub fn row_error(row: usize, e: AppError) -> Result<RowError, AppError> {
    match e {
        AppError::Malformed(detail) | AppError::Invalid { detail, .. } => {
            Ok(RowError { row, error: detail })
        }
        e => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const COLUMNS: &[&str] = &["name", "sex", "teams"];

    #[test]
    fn csv_and_ndjson_read_into_the_same_rows() {
        let csv = b"name,sex,teams\n\"Quartermain, Ada\",female,a;b\nBo,,\n";
        let ndjson = br#"{"name": "Quartermain, Ada", "sex": "female", "teams": ["a", "b"]}
{"name": "Bo", "sex": null}
"#;
        let (a, ea) = rows(Format::Csv, csv, COLUMNS).unwrap();
        let (b, eb) = rows(Format::Ndjson, ndjson, COLUMNS).unwrap();
        assert!(ea.is_empty() && eb.is_empty());
        assert_eq!(a, b);
        assert_eq!(a[0].1["name"], "Quartermain, Ada");
        assert_eq!(a[0].1["teams"], "a;b");
        assert!(!a[1].1.contains_key("sex"));
    }

    #[test]
    fn unknown_columns_are_refused_whole_and_bad_lines_by_number() {
        assert!(rows(Format::Csv, b"name,colour\nx,red\n", COLUMNS).is_err());
        assert!(rows(Format::Ndjson, br#"{"name":"x","colour":"red"}"#, COLUMNS).is_err());
        let (ok, errors) = rows(Format::Ndjson, b"{\"name\":\"x\"}\nnot json\n", COLUMNS).unwrap();
        assert_eq!(ok.len(), 1);
        assert_eq!(errors[0].row, 2);
        assert!(rows(Format::Csv, b"name\n", COLUMNS).is_err(), "no rows");
        assert_eq!(
            Format::of_media_type("text/csv; charset=utf-8"),
            Some(Format::Csv)
        );
    }
}
