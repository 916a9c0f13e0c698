//! Reading force-plate exports (CSV in its many dialects, and JSON) into a
//! [`Recording`].
//!
//! Parsing streams: CSV is read line by line from the caller's `BufRead`
//! into the sample vectors, with one reused line buffer, so memory is the
//! samples themselves plus one line. The input is cut off at
//! [`ParseOptions::max_input_bytes`].

mod csv;
mod json;
pub(crate) mod number;

use std::io::{BufRead, Read, Take};

use crate::error::ParseError;
use crate::recording::{ForceUnit, Recording, SampleRate, TrialKind};

pub use csv::to_mhp_csv;

/// Default input size limit: 256 MiB.
pub const DEFAULT_MAX_INPUT_BYTES: u64 = 256 * 1024 * 1024;

/// Input format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Delimited text: MHP's CSV form or another system's export.
    Csv,
    /// MHP's JSON form.
    Json,
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
    /// The format, when known; `None` detects it from the name and content.
    pub format: Option<Format>,
    /// What test the file holds, overriding its `test` header; `None` uses
    /// the header, or guesses (see [`crate::analyze_recording`]).
    pub kind: Option<TrialKind>,
}

impl Default for ParseOptions {
    fn default() -> Self {
        Self {
            sample_rate_hz: None,
            max_input_bytes: DEFAULT_MAX_INPUT_BYTES,
            format: None,
            kind: None,
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
}

/// Parses a recording. `name_hint` is the file name, used only for its
/// extension (`.json`; anything else is sniffed: a leading `{` means JSON).
pub fn parse_recording(
    name_hint: &str,
    input: impl BufRead,
    opts: &ParseOptions,
) -> Result<Recording, ParseError> {
    // One byte over the limit is read so that "exactly at the limit" passes
    // and "over" is detected.
    let mut reader = LimitedReader::new(input, opts.max_input_bytes);
    let format = match opts.format {
        Some(format) => format,
        None => detect_format(name_hint, &mut reader)?,
    };
    let mut recording = match format {
        Format::Csv => csv::parse_csv(&mut reader, opts)?,
        Format::Json => json::parse_json(&mut reader, opts)?,
    };
    if opts.kind.is_some() {
        recording.metadata.test = opts.kind;
    }
    Ok(recording)
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

/// Picks the format from the name's extension, else from the first
/// non-blank byte.
fn detect_format<R: BufRead>(
    name_hint: &str,
    reader: &mut LimitedReader<R>,
) -> Result<Format, ParseError> {
    let lower = name_hint.to_ascii_lowercase();
    if lower.ends_with(".json") {
        return Ok(Format::Json);
    }
    if lower.ends_with(".csv") || lower.ends_with(".tsv") || lower.ends_with(".txt") {
        return Ok(Format::Csv);
    }
    let head = match reader.inner_mut().fill_buf() {
        Ok(head) => head,
        Err(err) => return Err(ParseError::Io { kind: err.kind() }),
    };
    let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let first = head.iter().find(|b| !b.is_ascii_whitespace());
    Ok(if first == Some(&b'{') {
        Format::Json
    } else {
        Format::Csv
    })
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
    fn rate_values() {
        assert_eq!(parse_rate_value("1000 Hz"), Some(1000.0));
        assert_eq!(parse_rate_value("1000,5"), Some(1000.5));
        assert_eq!(parse_rate_value("fast"), None);
    }
}
