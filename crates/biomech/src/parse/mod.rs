//! Reading force-plate exports (CSV in its many dialects, and JSON) into a
//! [`Recording`].
//!
//! Parsing streams: CSV is read line by line from the caller's `BufRead`
//! into the sample vectors, with one reused line buffer, so memory is the
//! samples themselves plus one line. The input is cut off at
//! [`ParseOptions::max_input_bytes`].

mod c3d;
mod csv;
mod json;
pub(crate) mod number;

use std::fmt;
use std::io::{BufRead, Cursor, Read, Take};

use crate::error::ParseError;
use crate::recording::{ForceUnit, Plates, Recording, SampleRate, TrialKind};

pub use csv::to_mhp_csv;

/// Default input size limit: 256 MiB.
pub const DEFAULT_MAX_INPUT_BYTES: u64 = 256 * 1024 * 1024;

/// Input format.
///
/// Serialised (in [`crate::report::RecordingSummary`]) as `"csv"`,
/// `"json"` or `"c3d"`, the same text as [`Format::as_str`] and
/// [`Format::parse`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// Delimited text: MHP's CSV form or another system's export.
    Csv,
    /// MHP's JSON form.
    Json,
    /// C3D, the biomechanics standard (binary; see `parse/c3d.rs`).
    C3d,
}

impl Format {
    /// The stable lowercase code: `"csv"`, `"json"` or `"c3d"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Json => "json",
            Format::C3d => "c3d",
        }
    }

    /// Parses a code written by [`Format::as_str`] (case-insensitive,
    /// surrounding space ignored); `None` for anything else.
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        if text.eq_ignore_ascii_case("csv") {
            Some(Format::Csv)
        } else if text.eq_ignore_ascii_case("json") {
            Some(Format::Json)
        } else if text.eq_ignore_ascii_case("c3d") {
            Some(Format::C3d)
        } else {
            None
        }
    }

    /// The format a file name's extension implies: `.json` is JSON; `.csv`,
    /// `.tsv` and `.txt` are CSV; `.c3d` is C3D (case-insensitive); anything
    /// else says nothing.
    pub fn from_name(name_hint: &str) -> Option<Self> {
        let lower = name_hint.to_ascii_lowercase();
        if lower.ends_with(".json") {
            Some(Format::Json)
        } else if lower.ends_with(".c3d") {
            Some(Format::C3d)
        } else if lower.ends_with(".csv") || lower.ends_with(".tsv") || lower.ends_with(".txt") {
            Some(Format::Csv)
        } else {
            None
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How many leading bytes format detection looks at: a byte-order mark and
/// blank space longer than this before JSON's `{` is not JSON MHP accepts.
pub const SNIFF_BYTES: usize = 64 * 1024;

/// Decides the format of a file, the one rule every caller (the parser, the
/// CLI, the server storing what it received) shares.
///
/// The name's extension decides first (see [`Format::from_name`]). Otherwise
/// the content does: a C3D header (a parameter block number, a control
/// byte, then the key byte 0x50) means C3D; else, after an optional UTF-8
/// byte-order mark and any ASCII blank space, a `{` means JSON and anything
/// else CSV. Only the first
/// [`SNIFF_BYTES`] of `head` are looked at; `head` may be the whole file or
/// any prefix of it at least that long. Content that is empty, blank or
/// longer than that in blank space is CSV (whose parser then says what is
/// wrong with it).
///
/// [`parse_recording`] applies exactly this rule to its stream, so
/// `detect_format(name, bytes)` is the format `parse_recording(name, bytes,
/// ..)` reads and reports (unless [`ParseOptions::format`] fixes it).
pub fn detect_format(name_hint: &str, head: &[u8]) -> Format {
    Format::from_name(name_hint)
        .or_else(|| sniff(head.get(..SNIFF_BYTES).unwrap_or(head)))
        .unwrap_or(Format::Csv)
}

/// UTF-8 byte-order mark.
pub(crate) const BOM: &[u8] = b"\xEF\xBB\xBF";

/// The format the first non-blank byte (after a byte-order mark) implies;
/// `None` while the bytes seen are all blank, or a proper prefix of the
/// byte-order mark, so more input is needed.
fn sniff(head: &[u8]) -> Option<Format> {
    if c3d::looks_like_c3d(head) {
        return Some(Format::C3d);
    }
    // One byte that may begin a C3D header: wait for the key byte.
    if let [first] = head
        && (1..0x20).contains(first)
        && !first.is_ascii_whitespace()
    {
        return None;
    }
    if head.len() < BOM.len() && BOM.starts_with(head) {
        return None;
    }
    first_non_blank(head.strip_prefix(BOM).unwrap_or(head))
}

/// The format the first non-blank byte of `bytes` implies, if any.
fn first_non_blank(bytes: &[u8]) -> Option<Format> {
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace())?;
    Some(if *first == b'{' {
        Format::Json
    } else {
        Format::Csv
    })
}

/// Largest vertical force magnitude accepted as a measurement, newtons
/// (100 kN). Force plates are built for 10–50 kN and landings reach a few
/// kilonewtons, so anything beyond is not a force but a sentinel, an
/// overflow or a unit error (e.g. 1e308). A file none of whose samples is
/// finite and within ±this bound holds no analysable force and is refused
/// ([`ParseError::NoUsableForce`]); a file where only some samples are bad
/// is read, and the analysis flags it.
pub const MAX_PLAUSIBLE_FORCE_N: f64 = 100_000.0;

/// What one column of a delimited file holds, for [`ColumnMap`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ColumnRole {
    /// Time in seconds.
    TimeSeconds,
    /// Time in milliseconds.
    TimeMilliseconds,
    /// Vertical force of a single plate (the file's `units`, else newtons).
    Force,
    /// Vertical force of the left plate (needs [`ColumnRole::ForceRight`]).
    ForceLeft,
    /// Vertical force of the right plate (needs [`ColumnRole::ForceLeft`]).
    ForceRight,
    /// Centre of pressure, medial-lateral, metres (needs [`ColumnRole::CopY`]).
    CopX,
    /// Centre of pressure, anterior-posterior, metres (needs [`ColumnRole::CopX`]).
    CopY,
    /// The left plate's own centre of pressure, medial-lateral, metres (with
    /// the other three plate coordinates: the two plates' are combined by
    /// force; both in one frame).
    LeftCopX,
    /// The left plate's own centre of pressure, anterior-posterior, metres.
    LeftCopY,
    /// The right plate's own centre of pressure, medial-lateral, metres.
    RightCopX,
    /// The right plate's own centre of pressure, anterior-posterior, metres.
    RightCopY,
    /// Load cell 1–4 of a single plate whose four cells are exported
    /// separately; the plate's force is their sum (all four needed).
    LoadCell(u8),
    /// Load cell 1–4 of the left plate.
    LeftLoadCell(u8),
    /// Load cell 1–4 of the right plate.
    RightLoadCell(u8),
    /// Not read.
    Ignore,
}

/// The columns of a delimited file by position, for files whose header
/// names columns the parser does not recognise, or that have no header.
///
/// With a map, the header row's names are not interpreted: column *i* of
/// every row holds `roles[i]`, and the header must have exactly as many
/// columns ([`ParseError::ColumnCountMismatch`] otherwise). A first row of
/// numbers is then data, not a header. Errors name columns by position
/// (`column 2`). Force columns are in the file's declared `units` (newtons
/// when none). JSON input ignores the map.
///
/// ```
/// use mhp_biomech::{ColumnMap, ColumnRole, ParseOptions};
///
/// // `sec,reading`: time in seconds, then single-plate force.
/// let opts = ParseOptions::default()
///     .with_columns(ColumnMap::new([ColumnRole::TimeSeconds, ColumnRole::Force]));
/// let r = mhp_biomech::parse_recording("a.csv", "sec,reading\n0,800\n0.001,801\n".as_bytes(), &opts)?;
/// assert_eq!(r.len(), 2);
/// # Ok::<(), mhp_biomech::ParseError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ColumnMap {
    roles: Vec<ColumnRole>,
}

impl ColumnMap {
    /// A map from each column position (first column first) to its role.
    pub fn new(roles: impl IntoIterator<Item = ColumnRole>) -> Self {
        Self {
            roles: roles.into_iter().collect(),
        }
    }

    /// The roles, first column first.
    pub fn roles(&self) -> &[ColumnRole] {
        &self.roles
    }

    /// The names [`ColumnMap::parse`] takes, for messages.
    pub const NAMES: &'static str = "time_s, time_ms, force, left, right, cop_x, cop_y, \
         left_cop_x, left_cop_y, right_cop_x, right_cop_y, cell1-cell4, left_cell1-left_cell4, right_cell1-right_cell4, ignore";

    /// Reads a map from its text form: one role name a column, comma-separated, first column
    /// first (`time_s,force`; `time_ms,left,right,ignore`); names in [`ColumnMap::NAMES`].
    /// What it refuses it names by position, never by quoting the text.
    pub fn parse(text: &str) -> Result<Self, ColumnMapError> {
        if text.len() > 1024 {
            return Err(ColumnMapError::TooLong);
        }
        let mut roles = Vec::new();
        for (i, name) in text.split(',').enumerate() {
            let role = ColumnRole::from_name(name.trim())
                .ok_or(ColumnMapError::Unknown { position: i + 1 })?;
            roles.push(role);
        }
        if roles.len() > 64 {
            return Err(ColumnMapError::TooLong);
        }
        if !roles.iter().any(|r| {
            matches!(
                r,
                ColumnRole::Force
                    | ColumnRole::ForceLeft
                    | ColumnRole::LoadCell(_)
                    | ColumnRole::LeftLoadCell(_)
            )
        }) {
            return Err(ColumnMapError::NoForce);
        }
        Ok(Self { roles })
    }
}

impl std::fmt::Display for ColumnMap {
    /// The text [`ColumnMap::parse`] reads back.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, role) in self.roles.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            match role {
                ColumnRole::LoadCell(n) => write!(f, "cell{n}")?,
                ColumnRole::LeftLoadCell(n) => write!(f, "left_cell{n}")?,
                ColumnRole::RightLoadCell(n) => write!(f, "right_cell{n}")?,
                other => f.write_str(other.simple_name())?,
            }
        }
        Ok(())
    }
}

/// Why a column map's text was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ColumnMapError {
    /// A name that is not a role.
    #[error("column {position} names no known role (roles: {})", ColumnMap::NAMES)]
    Unknown {
        /// The column, from 1.
        position: usize,
    },
    /// No column holds force.
    #[error("no column holds force: name one force, left/right or load-cell column")]
    NoForce,
    /// More than 64 columns or 1 KiB.
    #[error("at most 64 columns")]
    TooLong,
}

impl ColumnRole {
    fn from_name(name: &str) -> Option<Self> {
        let cell = |rest: &str| match rest {
            "1" => Some(1u8),
            "2" => Some(2),
            "3" => Some(3),
            "4" => Some(4),
            _ => None,
        };
        Some(match name {
            "time_s" => ColumnRole::TimeSeconds,
            "time_ms" => ColumnRole::TimeMilliseconds,
            "force" => ColumnRole::Force,
            "left" => ColumnRole::ForceLeft,
            "right" => ColumnRole::ForceRight,
            "cop_x" => ColumnRole::CopX,
            "cop_y" => ColumnRole::CopY,
            "left_cop_x" => ColumnRole::LeftCopX,
            "left_cop_y" => ColumnRole::LeftCopY,
            "right_cop_x" => ColumnRole::RightCopX,
            "right_cop_y" => ColumnRole::RightCopY,
            "ignore" => ColumnRole::Ignore,
            _ => {
                if let Some(rest) = name.strip_prefix("left_cell") {
                    ColumnRole::LeftLoadCell(cell(rest)?)
                } else if let Some(rest) = name.strip_prefix("right_cell") {
                    ColumnRole::RightLoadCell(cell(rest)?)
                } else if let Some(rest) = name.strip_prefix("cell") {
                    ColumnRole::LoadCell(cell(rest)?)
                } else {
                    return None;
                }
            }
        })
    }

    /// The name of a role without a cell number.
    fn simple_name(self) -> &'static str {
        match self {
            ColumnRole::TimeSeconds => "time_s",
            ColumnRole::TimeMilliseconds => "time_ms",
            ColumnRole::Force => "force",
            ColumnRole::ForceLeft => "left",
            ColumnRole::ForceRight => "right",
            ColumnRole::CopX => "cop_x",
            ColumnRole::CopY => "cop_y",
            ColumnRole::LeftCopX => "left_cop_x",
            ColumnRole::LeftCopY => "left_cop_y",
            ColumnRole::RightCopX => "right_cop_x",
            ColumnRole::RightCopY => "right_cop_y",
            ColumnRole::LoadCell(_)
            | ColumnRole::LeftLoadCell(_)
            | ColumnRole::RightLoadCell(_) => "cell",
            ColumnRole::Ignore => "ignore",
        }
    }
}

/// How to read an input, and what to assume where the file is silent.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ParseOptions {
    /// Sample rate in Hz, for files without a time column or rate header.
    /// When set it overrides the file (the CLI's `--sample-rate`).
    pub sample_rate_hz: Option<f64>,
    /// Largest input accepted, bytes.
    pub max_input_bytes: u64,
    /// The format, when known; `None` applies [`detect_format`].
    pub format: Option<Format>,
    /// What test the file holds, overriding its `test` header; `None` uses
    /// the header, or guesses (see [`crate::analyze_recording`]).
    pub kind: Option<TrialKind>,
    /// The CSV columns by position, overriding the header's names; `None`
    /// recognises columns by name and refuses a header whose force columns
    /// it cannot recognise ([`ParseError::UnknownColumns`]).
    pub columns: Option<ColumnMap>,
    /// The athlete's recent weigh-in, kg, for [`crate::analyze_bytes`]: the
    /// body weight of reps with no steady second of standing anywhere in
    /// the recording (see [`crate::AnalysisOptions::body_mass_kg`]).
    pub body_mass_kg: Option<f64>,
    /// Box height of a drop jump or landing test, m, for
    /// [`crate::analyze_bytes`].
    pub box_height_m: Option<f64>,
    /// The body mass an earlier assessment of the athlete measured, kg, for
    /// [`crate::analyze_bytes`] (see
    /// [`crate::AnalysisOptions::earlier_body_mass_kg`]).
    pub earlier_body_mass_kg: Option<f64>,
}

impl Default for ParseOptions {
    fn default() -> Self {
        Self {
            sample_rate_hz: None,
            max_input_bytes: DEFAULT_MAX_INPUT_BYTES,
            format: None,
            kind: None,
            columns: None,
            body_mass_kg: None,
            box_height_m: None,
            earlier_body_mass_kg: None,
        }
    }
}

impl ParseOptions {
    /// Options with a caller-supplied sample rate.
    pub fn with_sample_rate(mut self, hz: f64) -> Self {
        self.sample_rate_hz = Some(hz);
        self
    }

    /// Options with a different size limit.
    pub fn with_max_input_bytes(mut self, bytes: u64) -> Self {
        self.max_input_bytes = bytes;
        self
    }

    /// Options with the trial kind fixed.
    pub fn with_kind(mut self, kind: TrialKind) -> Self {
        self.kind = Some(kind);
        self
    }

    /// Options with the format fixed.
    pub fn with_format(mut self, format: Format) -> Self {
        self.format = Some(format);
        self
    }

    /// Options with the CSV columns given by position (see [`ColumnMap`]).
    pub fn with_columns(mut self, columns: ColumnMap) -> Self {
        self.columns = Some(columns);
        self
    }

    /// Options with the athlete's recent weigh-in, kg.
    pub fn with_body_mass_kg(mut self, kg: f64) -> Self {
        self.body_mass_kg = Some(kg);
        self
    }

    /// Options with the box height of a drop jump or landing test, m.
    pub fn with_box_height_m(mut self, m: f64) -> Self {
        self.box_height_m = Some(m);
        self
    }

    /// Options with the body mass an earlier assessment measured, kg (the
    /// server passes the athlete's latest within a few weeks when a
    /// recording cannot be weighed otherwise).
    pub fn with_earlier_body_mass_kg(mut self, kg: f64) -> Self {
        self.earlier_body_mass_kg = Some(kg);
        self
    }

    /// The analysis half of these options.
    pub fn analysis_options(&self) -> crate::AnalysisOptions {
        crate::AnalysisOptions {
            body_mass_kg: self.body_mass_kg,
            box_height_m: self.box_height_m,
            earlier_body_mass_kg: self.earlier_body_mass_kg,
        }
    }
}

/// Parses a recording. The format is [`ParseOptions::format`] when set,
/// else [`detect_format`] of `name_hint` (used only for its extension) and
/// the first bytes; it is kept in the recording's
/// [`Metadata::format`](crate::recording::Metadata::format).
///
/// A recording without one analysable force sample (every sample missing,
/// not finite, or beyond ±[`MAX_PLAUSIBLE_FORCE_N`]) is refused with
/// [`ParseError::NoUsableForce`].
pub fn parse_recording(
    name_hint: &str,
    mut input: impl BufRead,
    opts: &ParseOptions,
) -> Result<Recording, ParseError> {
    let (format, head) = match opts.format.or_else(|| Format::from_name(name_hint)) {
        Some(format) => (format, Vec::new()),
        None => sniff_stream(&mut input)?,
    };
    // The bytes sniffing consumed (rarely any) are put back in front, so the
    // parsers see the input unchanged (line numbers, byte-order mark, size
    // limit). Without any, the input is read directly: the JSON parser
    // reads byte by byte, and a chain would cost on every byte.
    let mut recording = if head.is_empty() {
        parse_as(format, input, opts)?
    } else {
        parse_as(format, Cursor::new(head).chain(input), opts)?
    };
    check_usable_force(&recording.plates)?;
    recording.metadata.format = Some(format);
    if opts.kind.is_some() {
        recording.metadata.test = opts.kind;
    }
    Ok(recording)
}

/// Parses the whole input in a known format, within the size limit.
fn parse_as<R: BufRead>(
    format: Format,
    input: R,
    opts: &ParseOptions,
) -> Result<Recording, ParseError> {
    // One byte over the limit is read so that "exactly at the limit" passes
    // and "over" is detected.
    let mut reader = LimitedReader::new(input, opts.max_input_bytes);
    match format {
        Format::Csv => csv::parse_csv(&mut reader, opts),
        Format::Json => json::parse_json(&mut reader, opts),
        Format::C3d => {
            let mut bytes = Vec::new();
            if let Err(err) = reader.read_to_end(&mut bytes) {
                return Err(reader.io_error(&err));
            }
            if reader.exceeded() {
                return Err(reader.too_large());
            }
            c3d::parse_c3d(&bytes, opts)
        }
    }
}

/// Applies [`detect_format`]'s content rule to a stream without losing
/// bytes: returns the format and the bytes consumed to decide it. Nothing
/// is consumed when the reader's first buffer decides (the usual case);
/// otherwise at most [`SNIFF_BYTES`] are taken.
fn sniff_stream<R: BufRead>(input: &mut R) -> Result<(Format, Vec<u8>), ParseError> {
    let mut head: Vec<u8> = Vec::new();
    loop {
        let available = match input.fill_buf() {
            Ok(available) => available,
            Err(err) if err.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(err) => return Err(ParseError::Io { kind: err.kind() }),
        };
        if available.is_empty() {
            return Ok((Format::Csv, head));
        }
        if head.is_empty()
            && let Some(format) = sniff(available.get(..SNIFF_BYTES).unwrap_or(available))
        {
            return Ok((format, head));
        }
        let before = head.len();
        let take = available.len().min(SNIFF_BYTES - before);
        head.extend_from_slice(available.get(..take).unwrap_or(available));
        input.consume(take);
        // Once past a possible byte-order mark, only the new bytes need a
        // look: everything before them was blank.
        let decided = if before < BOM.len() {
            sniff(&head)
        } else {
            first_non_blank(head.get(before..).unwrap_or_default())
        };
        if let Some(format) = decided {
            return Ok((format, head));
        }
        if head.len() >= SNIFF_BYTES {
            return Ok((Format::Csv, head));
        }
    }
}

/// True for a force value that can be a measurement.
fn is_usable_force(newtons: f64) -> bool {
    newtons.is_finite() && newtons.abs() <= MAX_PLAUSIBLE_FORCE_N
}

/// Refuses a recording in which no sample is analysable: with two plates a
/// sample counts when both sides are usable (their sum is what the analysis
/// reads).
fn check_usable_force(plates: &Plates) -> Result<(), ParseError> {
    let any_usable = match plates {
        Plates::Single { fz } => fz.iter().any(|&f| is_usable_force(f)),
        Plates::Dual { left, right } => left
            .iter()
            .zip(right)
            .any(|(&l, &r)| is_usable_force(l) && is_usable_force(r)),
    };
    if any_usable {
        Ok(())
    } else {
        Err(ParseError::NoUsableForce)
    }
}

/// A reader that stops one byte past the caller's limit and remembers that
/// it did.
pub(crate) struct LimitedReader<R> {
    inner: Take<R>,
    limit: u64,
}

impl<R: BufRead> LimitedReader<R> {
    fn new(inner: R, limit: u64) -> Self {
        Self {
            inner: inner.take(limit.saturating_add(1)),
            limit,
        }
    }

    /// True once more than `limit` bytes were read.
    pub(crate) fn exceeded(&self) -> bool {
        self.inner.limit() == 0
    }

    /// The error to report when [`Self::exceeded`].
    pub(crate) fn too_large(&self) -> ParseError {
        ParseError::TooLarge {
            limit_bytes: self.limit,
        }
    }

    /// Maps an I/O error, preferring "too large" when the limit was hit.
    pub(crate) fn io_error(&self, err: &std::io::Error) -> ParseError {
        if self.exceeded() {
            self.too_large()
        } else {
            ParseError::Io { kind: err.kind() }
        }
    }

    pub(crate) fn inner_mut(&mut self) -> &mut Take<R> {
        &mut self.inner
    }
}

/// Resolves the sample rate: the caller's option first, then the file's
/// header, then the timestamps. A header and timestamps that disagree by
/// more than 1 % are an error, since one of them is wrong and flight time
/// depends on which.
pub(crate) fn resolve_sample_rate(
    option_hz: Option<f64>,
    header_hz: Option<f64>,
    timestamps_hz: Option<f64>,
) -> Result<SampleRate, ParseError> {
    if let Some(hz) = option_hz {
        return SampleRate::new(hz).ok_or(ParseError::InvalidSampleRate {
            source_name: "options",
        });
    }
    if let (Some(header), Some(stamps)) = (header_hz, timestamps_hz)
        && ((header - stamps) / header).abs() > 0.01
    {
        return Err(ParseError::SampleRateMismatch);
    }
    if let Some(hz) = header_hz {
        return SampleRate::new(hz).ok_or(ParseError::InvalidSampleRate {
            source_name: "header",
        });
    }
    if let Some(hz) = timestamps_hz {
        return SampleRate::new(hz).ok_or(ParseError::InvalidSampleRate {
            source_name: "timestamps",
        });
    }
    Err(ParseError::MissingSampleRate)
}

/// Parses a sample-rate header value such as `1000`, `1000 Hz`, `1000.0hz`.
pub(crate) fn parse_rate_value(value: &str) -> Option<f64> {
    let lower = value.trim().to_ascii_lowercase();
    let digits = lower.strip_suffix("hz").unwrap_or(&lower).trim();
    let hz = number::parse_field(digits.as_bytes(), true)?;
    hz.is_finite().then_some(hz)
}

/// Parses a `units` header value.
pub(crate) fn parse_unit_value(value: &str) -> Option<ForceUnit> {
    ForceUnit::parse(value)
}

/// Keeps header-derived text short and printable before it goes into an
/// error message (column names only; never values).
pub(crate) fn sanitize_name(name: &str) -> String {
    name.chars().filter(|c| !c.is_control()).take(64).collect()
}

impl<R: BufRead> Read for LimitedReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.inner.read(buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn option_rate_wins() {
        let rate = resolve_sample_rate(Some(500.0), Some(1000.0), None).unwrap();
        assert_eq!(rate.hz(), 500.0);
    }

    #[test]
    fn header_and_timestamps_must_agree() {
        assert!(matches!(
            resolve_sample_rate(None, Some(1000.0), Some(500.0)),
            Err(ParseError::SampleRateMismatch)
        ));
        assert!(resolve_sample_rate(None, Some(1000.0), Some(1000.2)).is_ok());
    }

    #[test]
    fn format_codes_round_trip() {
        for format in [Format::Csv, Format::Json] {
            assert_eq!(Format::parse(format.as_str()), Some(format));
            assert_eq!(format.to_string(), format.as_str());
            assert_eq!(
                serde_json::to_value(format).unwrap(),
                serde_json::Value::from(format.as_str())
            );
        }
        assert_eq!(Format::parse(" JSON "), Some(Format::Json));
        assert_eq!(Format::parse("xml"), None);
    }

    #[test]
    fn detection_rule() {
        let long_blank = [vec![b' '; SNIFF_BYTES], b"{}".to_vec()].concat();
        let cases: [(&str, &[u8], Format); 14] = [
            ("a.json", b"time_s,fz_n", Format::Json),
            ("A.JSON", b"", Format::Json),
            ("a.csv", b"{\"channels\": {}}", Format::Csv),
            ("a.tsv", b"{", Format::Csv),
            ("a.txt", b"{", Format::Csv),
            ("upload", b"{}", Format::Json),
            ("upload", b"\xEF\xBB\xBF{}", Format::Json),
            ("upload", b" \r\n\t\n{}", Format::Json),
            ("upload", b"\xEF\xBB\xBF\r\n  {}", Format::Json),
            ("upload", b"\xEF\xBB\xBFtime_s,fz_n", Format::Csv),
            ("upload", b"", Format::Csv),
            ("upload", b"\xEF\xBB", Format::Csv),
            ("upload", b"\xEF\xBB\xBF\xEF\xBB\xBF{}", Format::Csv),
            ("upload", &long_blank, Format::Csv),
        ];
        for (name, head, expected) in cases {
            assert_eq!(detect_format(name, head), expected, "{name} {head:?}");
        }
        let just_blank = [vec![b' '; SNIFF_BYTES - 1], b"{}".to_vec()].concat();
        assert_eq!(detect_format("upload", &just_blank), Format::Json);
    }

    /// The stream sniffer decides as [`detect_format`] does on the whole
    /// input and loses no byte, whatever the reader's buffer size.
    #[test]
    fn stream_sniffing_agrees_with_detect_format() {
        let long_blank = [vec![b'\n'; SNIFF_BYTES + 10], b"{}".to_vec()].concat();
        let almost = [vec![b' '; SNIFF_BYTES - 1], b"{}".to_vec()].concat();
        let inputs: [&[u8]; 9] = [
            b"{}",
            b"\xEF\xBB\xBF{}",
            b"\xEF\xBB\xBF \r\n\t{}",
            b"   \n\n time_s,fz_n\n",
            b"\xEF\xBBx",
            b"\xEF",
            b"",
            &long_blank,
            &almost,
        ];
        for input in inputs {
            for capacity in [1, 2, 3, 5, 8192] {
                let mut reader = std::io::BufReader::with_capacity(capacity, input);
                let (format, head) = sniff_stream(&mut reader).unwrap();
                assert_eq!(format, detect_format("upload", input), "{capacity}");
                let mut rest = Vec::new();
                reader.read_to_end(&mut rest).unwrap();
                assert_eq!([head, rest].concat(), input, "{capacity}");
            }
        }
    }

    #[test]
    fn force_must_be_usable_somewhere() {
        let single = |fz: Vec<f64>| check_usable_force(&Plates::Single { fz });
        assert!(single(vec![f64::NAN, 800.0, f64::INFINITY]).is_ok());
        assert!(single(vec![MAX_PLAUSIBLE_FORCE_N, f64::NAN]).is_ok());
        assert!(single(vec![-MAX_PLAUSIBLE_FORCE_N, 1e308]).is_ok());
        for bad in [
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            1e308,
            -1e308,
            100_000.5,
        ] {
            assert!(
                matches!(single(vec![bad, bad]), Err(ParseError::NoUsableForce)),
                "{bad}"
            );
        }
        let dual =
            |left: Vec<f64>, right: Vec<f64>| check_usable_force(&Plates::Dual { left, right });
        assert!(dual(vec![f64::NAN, 400.0], vec![400.0, 400.0]).is_ok());
        assert!(matches!(
            dual(vec![f64::NAN, 400.0], vec![400.0, 1e308]),
            Err(ParseError::NoUsableForce)
        ));
        assert_eq!(
            ParseError::NoUsableForce.to_string(),
            "no usable force values: every force sample is missing, not finite or beyond ±100000 N"
        );
    }

    #[test]
    fn rate_values() {
        assert_eq!(parse_rate_value("1000 Hz"), Some(1000.0));
        assert_eq!(parse_rate_value("1000,5"), Some(1000.5));
        assert_eq!(parse_rate_value("fast"), None);
    }
}

#[cfg(test)]
mod column_map_tests {
    use super::*;

    #[test]
    fn a_map_reads_back_what_it_writes() {
        for text in [
            "time_s,force",
            "time_ms,left,right,cop_x,cop_y,ignore",
            "time_s,left_cell1,left_cell2,left_cell3,left_cell4,right_cell1,right_cell2,right_cell3,right_cell4",
            "cell1,cell2,cell3,cell4",
        ] {
            let map = ColumnMap::parse(text).unwrap();
            assert_eq!(map.to_string(), text);
            assert_eq!(ColumnMap::parse(&map.to_string()).unwrap(), map);
        }
        assert_eq!(
            ColumnMap::parse(" time_s , force ").unwrap().roles(),
            &[ColumnRole::TimeSeconds, ColumnRole::Force]
        );
    }

    #[test]
    fn a_map_names_what_it_refuses_by_position() {
        assert_eq!(
            ColumnMap::parse("time_s,secret-name"),
            Err(ColumnMapError::Unknown { position: 2 })
        );
        assert_eq!(
            ColumnMap::parse("cell5"),
            Err(ColumnMapError::Unknown { position: 1 })
        );
        assert_eq!(
            ColumnMap::parse("time_s,cop_x"),
            Err(ColumnMapError::NoForce)
        );
        assert_eq!(
            ColumnMap::parse(""),
            Err(ColumnMapError::Unknown { position: 1 })
        );
        let msg = ColumnMap::parse("time_s,secret-name")
            .unwrap_err()
            .to_string();
        assert!(!msg.contains("secret"), "{msg}");
    }
}
