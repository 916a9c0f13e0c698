//! Parse errors: what went wrong and where, fit to show a user.
//!
//! No variant carries a sample value or any header value: a file's `subject`
//! line is PHI, and values are raw signal. Errors name the line number and
//! the column instead: by its header name when the parser recognised it
//! (so the name is one of its own words), by position (`column 2`) when it
//! did not, or when a [`crate::ColumnMap`] gave the columns.

/// Why a file could not be read as a recording.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ParseError {
    /// The reader failed.
    #[error("cannot read input: {kind}")]
    Io {
        /// The I/O error kind (its message is not kept: it could quote paths).
        kind: std::io::ErrorKind,
    },
    /// The input is larger than the caller's limit.
    #[error("input exceeds the size limit of {limit_bytes} bytes")]
    TooLarge {
        /// The limit in force.
        limit_bytes: u64,
    },
    /// The input holds nothing but blank lines or metadata.
    #[error("input is empty: no samples found")]
    Empty,
    /// A line is not UTF-8 text (a binary file, or a wrong encoding).
    #[error("line {line}: not text (binary data or an encoding other than UTF-8)")]
    NotText {
        /// 1-based line number.
        line: usize,
    },
    /// A line is longer than any force-plate export writes (binary data, or
    /// a file without line breaks).
    #[error("line {line}: line too long (over 64 KiB)")]
    LineTooLong {
        /// 1-based line number.
        line: usize,
    },
    /// The first non-metadata line is numbers, but there is more than one
    /// column, so the columns cannot be told apart.
    #[error(
        "line {line}: no header row; add one naming the columns (e.g. time_s,fz_left_n,fz_right_n)"
    )]
    MissingHeader {
        /// 1-based line number.
        line: usize,
    },
    /// The header row names no column that holds vertical force.
    #[error(
        "line {line}: cannot tell which columns hold vertical force; name them fz_n, or fz_left_n and fz_right_n"
    )]
    NoForceColumn {
        /// 1-based line number of the header row.
        line: usize,
    },
    /// No header column is recognised as vertical force, and some columns
    /// are not recognised at all: the parser will not guess which of them
    /// is force (pass a [`crate::ColumnMap`] to say).
    #[error(
        "line {line}: no column is recognised as vertical force ({} not recognised); expected {}; or give a column map saying which column holds what",
        describe_positions(.columns),
        EXPECTED_COLUMNS
    )]
    UnknownColumns {
        /// 1-based line number of the header row.
        line: usize,
        /// 1-based positions of the unrecognised columns (their names are
        /// the file's own words and are not repeated).
        columns: Vec<usize>,
    },
    /// A [`crate::ColumnMap`] was given for a different number of columns
    /// than the file has.
    #[error("line {line}: {found} column(s) in the file but {expected} in the column map")]
    ColumnCountMismatch {
        /// 1-based line number of the header (or first) row.
        line: usize,
        /// Columns in the map.
        expected: usize,
        /// Columns in the file.
        found: usize,
    },
    /// Two header columns map to the same channel.
    #[error("line {line}: column '{column}' duplicates another column for the same channel")]
    DuplicateColumn {
        /// 1-based line number of the header row.
        line: usize,
        /// The offending column name, as the header spelled it.
        column: String,
    },
    /// Only one of left and right force is present, or only one CoP axis.
    #[error(
        "line {line}: column '{column}' has no partner (need both left and right, or both cop_x and cop_y)"
    )]
    UnpairedColumn {
        /// 1-based line number of the header row.
        line: usize,
        /// The column that lacks its partner.
        column: String,
    },
    /// Some of a plate's four load-cell columns are there, not all.
    #[error(
        "line {line}: column '{column}' is one of a plate's four load cells, but not all four are there (expected fz1, fz2, fz3 and fz4; left_fz1 to left_fz4 and right_fz1 to right_fz4 for two plates)"
    )]
    IncompleteLoadCells {
        /// 1-based line number of the header row.
        line: usize,
        /// One of the load-cell columns present.
        column: String,
    },
    /// A data row has the wrong number of fields.
    #[error("line {line}: expected {expected} fields, found {found}")]
    FieldCount {
        /// 1-based line number.
        line: usize,
        /// Fields in the header row.
        expected: usize,
        /// Fields in this row.
        found: usize,
    },
    /// A field that should hold a number does not.
    #[error("line {line}: column '{column}' is not a number")]
    InvalidNumber {
        /// 1-based line number.
        line: usize,
        /// Column name from the header row.
        column: String,
    },
    /// A metadata line has a value this crate cannot use.
    #[error("line {line}: metadata '{key}' has an invalid value")]
    InvalidMetadata {
        /// 1-based line number.
        line: usize,
        /// The metadata key (e.g. `sample_rate_hz`, `units`).
        key: String,
    },
    /// The force unit declared in a column name disagrees with the `units` line.
    #[error("line {line}: column '{column}' declares a unit that contradicts the 'units' metadata")]
    UnitConflict {
        /// 1-based line number of the header row.
        line: usize,
        /// The column name.
        column: String,
    },
    /// Timestamps do not increase.
    #[error("line {line}: time does not increase")]
    TimeNotIncreasing {
        /// 1-based line number.
        line: usize,
    },
    /// No sample rate in the file, the timestamps, or the caller's options.
    #[error(
        "no sample rate: the file has no time column and no sample_rate_hz line; pass the rate (e.g. --sample-rate 1000)"
    )]
    MissingSampleRate,
    /// A sample rate was given but is out of range.
    #[error(
        "sample rate from {source_name} is outside 50..=100000 Hz (a time column in ms? name it time_ms)"
    )]
    InvalidSampleRate {
        /// Where the rate came from: `options`, `header`, `timestamps`.
        source_name: &'static str,
    },
    /// The sample-rate header and the timestamps disagree by more than 1 %.
    #[error("the sample_rate_hz header and the time column disagree by more than 1 %")]
    SampleRateMismatch,
    /// JSON that is not well formed, or has a value of the wrong type.
    #[error("line {line}: {problem}")]
    Json {
        /// 1-based line number where the JSON parser stopped.
        line: usize,
        /// What is wrong, without quoting the input.
        problem: &'static str,
    },
    /// A JSON field MHP requires is missing, or channels are inconsistent.
    #[error("{problem}")]
    JsonShape {
        /// What is missing or inconsistent.
        problem: &'static str,
    },
    /// No force sample can be analysed: every one is missing (NaN), infinite
    /// or beyond ±[`crate::MAX_PLAUSIBLE_FORCE_N`].
    #[error(
        "no usable force values: every force sample is missing, not finite or beyond ±{} N",
        crate::MAX_PLAUSIBLE_FORCE_N
    )]
    NoUsableForce,
    /// Too few samples to analyse anything.
    #[error("too few samples ({found}); at least {needed} are needed")]
    TooFewSamples {
        /// Samples found.
        found: usize,
        /// Samples needed.
        needed: usize,
    },
    /// A C3D file whose structure is broken (truncated, a section or
    /// parameter out of bounds, a missing parameter the data needs).
    #[error("not a readable C3D file: {problem}")]
    InvalidC3d {
        /// What is wrong, in the reader's words.
        problem: &'static str,
    },
    /// A well-formed C3D file this reader does not take (the message names
    /// what it does take).
    #[error("unsupported C3D file: {problem}")]
    UnsupportedC3d {
        /// What is unsupported and what is expected.
        problem: String,
    },
    /// An option the caller passed is out of range.
    #[error("option {option} is out of range ({range})")]
    InvalidOption {
        /// The option.
        option: &'static str,
        /// Its accepted range.
        range: &'static str,
    },
}

impl ParseError {
    /// The 1-based line the error refers to, when it refers to one, so a
    /// command line can print `FILE:LINE: message`.
    pub fn line(&self) -> Option<usize> {
        match self {
            ParseError::NotText { line }
            | ParseError::MissingHeader { line }
            | ParseError::LineTooLong { line }
            | ParseError::NoForceColumn { line }
            | ParseError::UnknownColumns { line, .. }
            | ParseError::ColumnCountMismatch { line, .. }
            | ParseError::DuplicateColumn { line, .. }
            | ParseError::UnpairedColumn { line, .. }
            | ParseError::IncompleteLoadCells { line, .. }
            | ParseError::FieldCount { line, .. }
            | ParseError::InvalidNumber { line, .. }
            | ParseError::InvalidMetadata { line, .. }
            | ParseError::UnitConflict { line, .. }
            | ParseError::TimeNotIncreasing { line }
            | ParseError::Json { line, .. } => Some(*line),
            ParseError::Io { .. }
            | ParseError::TooLarge { .. }
            | ParseError::Empty
            | ParseError::MissingSampleRate
            | ParseError::InvalidSampleRate { .. }
            | ParseError::SampleRateMismatch
            | ParseError::JsonShape { .. }
            | ParseError::NoUsableForce
            | ParseError::TooFewSamples { .. }
            | ParseError::InvalidC3d { .. }
            | ParseError::UnsupportedC3d { .. }
            | ParseError::InvalidOption { .. } => None,
        }
    }

    /// The message without its `line N: ` prefix, for callers that print
    /// the location themselves: `eprintln!("{file}:{line}: {}", err.detail())`.
    pub fn detail(&self) -> String {
        let text = self.to_string();
        match self.line() {
            Some(line) => {
                let prefix = format!("line {line}: ");
                text.strip_prefix(&prefix)
                    .map_or_else(|| text.clone(), str::to_owned)
            }
            None => text,
        }
    }

    /// A stable snake_case code for the error, for APIs (problem+json).
    pub fn code(&self) -> &'static str {
        match self {
            ParseError::Io { .. } => "io",
            ParseError::TooLarge { .. } => "too_large",
            ParseError::Empty => "empty",
            ParseError::NotText { .. } => "not_text",
            ParseError::MissingHeader { .. } => "missing_header",
            ParseError::LineTooLong { .. } => "line_too_long",
            ParseError::NoForceColumn { .. } => "no_force_column",
            ParseError::UnknownColumns { .. } => "unknown_columns",
            ParseError::ColumnCountMismatch { .. } => "column_count_mismatch",
            ParseError::DuplicateColumn { .. } => "duplicate_column",
            ParseError::UnpairedColumn { .. } => "unpaired_column",
            ParseError::IncompleteLoadCells { .. } => "incomplete_load_cells",
            ParseError::FieldCount { .. } => "field_count",
            ParseError::InvalidNumber { .. } => "invalid_number",
            ParseError::InvalidMetadata { .. } => "invalid_metadata",
            ParseError::UnitConflict { .. } => "unit_conflict",
            ParseError::TimeNotIncreasing { .. } => "time_not_increasing",
            ParseError::MissingSampleRate => "missing_sample_rate",
            ParseError::InvalidSampleRate { .. } => "invalid_sample_rate",
            ParseError::SampleRateMismatch => "sample_rate_mismatch",
            ParseError::Json { .. } => "invalid_json",
            ParseError::JsonShape { .. } => "invalid_json_shape",
            ParseError::NoUsableForce => "no_usable_force",
            ParseError::TooFewSamples { .. } => "too_few_samples",
            ParseError::InvalidC3d { .. } => "invalid_c3d",
            ParseError::UnsupportedC3d { .. } => "unsupported_c3d",
            ParseError::InvalidOption { .. } => "invalid_option",
        }
    }
}

/// The column names the CSV parser recognises, for error messages. Keep in
/// step with `classify_column` in `parse/csv.rs`.
const EXPECTED_COLUMNS: &str = "time_s or time_ms (or a name with time, t or timestamp), \
fz_n for one plate (or a name with fz, force, z, grf, vgrf or load), \
fz_left_n and fz_right_n for two (such names with left, l or lt and right, r or rt; fzl/lfz and fzr/rfz; \
or left and right, links and rechts, alone), \
or a plate's four load cells fz1 to fz4 (left_fz1 to left_fz4 and right_fz1 to right_fz4 for two plates), \
optionally cop_x_m and cop_y_m (cop or cp with x or ml and with y or ap; copx and copy)";

/// Most column positions an error lists before summarising the rest.
const MAX_LISTED_POSITIONS: usize = 8;

/// `column 2`, `columns 1 and 2`, `columns 1, 2 and 3`, `columns 1, 2, …, 8 and 4 more`.
fn describe_positions(columns: &[usize]) -> String {
    let shown: Vec<String> = columns
        .iter()
        .take(MAX_LISTED_POSITIONS)
        .map(ToString::to_string)
        .collect();
    let rest = columns.len().saturating_sub(shown.len());
    match (shown.as_slice(), rest) {
        ([], _) => "no column".to_owned(),
        ([one], 0) => format!("column {one}"),
        ([init @ .., last], 0) => format!("columns {} and {last}", init.join(", ")),
        (all, more) => format!("columns {} and {more} more", all.join(", ")),
    }
}
