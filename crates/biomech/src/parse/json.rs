//! MHP's JSON form:
//!
//! ```json
//! { "sample_rate_hz": 1000, "units": "N", "test": "cmj",
//!   "channels": { "fz_left": [..], "fz_right": [..], "cop_x": [..], "cop_y": [..] } }
//! ```
//!
//! `fz` replaces `fz_left`/`fz_right` for a single plate. `units`,
//! `subject`, `test` and `device` are optional. Unknown fields are ignored.

use std::io::BufRead;

use serde::Deserialize;

use super::{Format, LimitedReader, ParseOptions, resolve_sample_rate};
use crate::error::ParseError;
use crate::recording::{
    CentreOfPressure, ForceUnit, Metadata, Plates, Recording, Side, Subject, TrialKind,
};

#[derive(Deserialize)]
struct JsonRecording {
    sample_rate_hz: Option<f64>,
    units: Option<String>,
    subject: Option<String>,
    test: Option<String>,
    device: Option<String>,
    body_mass_kg: Option<f64>,
    channels: Option<JsonChannels>,
}

#[derive(Deserialize)]
struct JsonChannels {
    fz: Option<Vec<f64>>,
    fz_left: Option<Vec<f64>>,
    fz_right: Option<Vec<f64>>,
    cop_x: Option<Vec<f64>>,
    cop_y: Option<Vec<f64>>,
}

/// Parses MHP's JSON form. serde_json reads straight from the stream into
/// the channel vectors.
pub(crate) fn parse_json<R: BufRead>(
    reader: &mut LimitedReader<R>,
    opts: &ParseOptions,
) -> Result<Recording, ParseError> {
    skip_bom(reader)?;
    let parsed: Result<JsonRecording, serde_json::Error> = serde_json::from_reader(&mut *reader);
    if reader.exceeded() {
        return Err(reader.too_large());
    }
    let doc = parsed.map_err(|err| describe(&err))?;
    build(doc, opts)
}

/// Consumes a leading UTF-8 byte-order mark, which serde_json does not
/// accept (editors on Windows write one). Byte by byte, so a mark split
/// across the reader's buffers is still found.
fn skip_bom<R: BufRead>(reader: &mut LimitedReader<R>) -> Result<(), ParseError> {
    for (matched, &expected) in super::BOM.iter().enumerate() {
        let next = loop {
            match reader.inner_mut().fill_buf() {
                Ok(available) => break available.first().copied(),
                Err(err) if err.kind() == std::io::ErrorKind::Interrupted => {}
                Err(err) => return Err(reader.io_error(&err)),
            }
        };
        if next != Some(expected) {
            // Part of a mark is not one: bytes that are not text.
            return if matched == 0 {
                Ok(())
            } else {
                Err(ParseError::Json {
                    line: 1,
                    problem: "malformed JSON",
                })
            };
        }
        reader.inner_mut().consume(1);
    }
    Ok(())
}

/// serde_json's messages quote the offending input (which may be a subject
/// name); this keeps only the line and the kind of problem.
fn describe(err: &serde_json::Error) -> ParseError {
    use serde_json::error::Category;
    let problem = match err.classify() {
        Category::Io => "cannot read input",
        Category::Syntax => "malformed JSON",
        Category::Eof => "JSON ends early (truncated file?)",
        Category::Data => {
            "a JSON value has the wrong type (channels hold arrays of numbers, sample_rate_hz a number, metadata strings)"
        }
    };
    ParseError::Json {
        line: err.line().max(1),
        problem,
    }
}

fn build(doc: JsonRecording, opts: &ParseOptions) -> Result<Recording, ParseError> {
    let shape = |problem| ParseError::JsonShape { problem };
    let unit = match doc.units.as_deref() {
        Some(text) => Some(ForceUnit::parse(text).ok_or(shape("'units' must be N, kgf or lbf"))?),
        None => None,
    };
    let scale = unit.unwrap_or(ForceUnit::Newton).to_newtons();
    let channels = doc.channels.ok_or(shape("missing 'channels' object"))?;
    let plates = match (channels.fz, channels.fz_left, channels.fz_right) {
        (_, Some(left), Some(right)) => Plates::Dual {
            left: scaled(left, scale),
            right: scaled(right, scale),
        },
        (_, Some(_), None) | (_, None, Some(_)) => {
            return Err(shape("channels need both 'fz_left' and 'fz_right'"));
        }
        (Some(fz), None, None) => Plates::Single {
            fz: scaled(fz, scale),
        },
        (None, None, None) => {
            return Err(shape("channels need 'fz', or 'fz_left' and 'fz_right'"));
        }
    };
    let cop = match (channels.cop_x, channels.cop_y) {
        (Some(x), Some(y)) => Some(CentreOfPressure { x, y }),
        (None, None) => None,
        _ => return Err(shape("channels need both 'cop_x' and 'cop_y'")),
    };
    check_lengths(&plates, cop.as_ref())?;
    let sample_rate = resolve_sample_rate(opts.sample_rate_hz, doc.sample_rate_hz, None)?;
    Ok(Recording {
        sample_rate,
        plates,
        cop,
        timing: None,
        metadata: Metadata {
            subject: doc.subject.map(Subject::new),
            test: doc.test.as_deref().and_then(TrialKind::parse),
            side: doc.test.as_deref().and_then(Side::from_test),
            device: doc.device,
            declared_unit: unit,
            format: Some(Format::Json),
            body_mass_kg: doc.body_mass_kg.filter(|kg| kg.is_finite()),
        },
    })
}

fn scaled(mut values: Vec<f64>, scale: f64) -> Vec<f64> {
    if scale != 1.0 {
        for v in &mut values {
            *v *= scale;
        }
    }
    values
}

fn check_lengths(plates: &Plates, cop: Option<&CentreOfPressure>) -> Result<(), ParseError> {
    let n = plates.len();
    let dual_ok = match plates {
        Plates::Dual { left, right } => left.len() == right.len(),
        Plates::Single { .. } => true,
    };
    let cop_ok = cop.is_none_or(|c| c.x.len() == n && c.y.len() == n);
    if !dual_ok || !cop_ok {
        return Err(ParseError::JsonShape {
            problem: "channels have different lengths",
        });
    }
    match n {
        0 => Err(ParseError::Empty),
        1 => Err(ParseError::TooFewSamples {
            found: 1,
            needed: 2,
        }),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use crate::error::ParseError;
    use crate::parse::{ParseOptions, parse_recording};
    use crate::recording::Plates;

    #[test]
    fn dual_plate_json() {
        let text = r#"{"sample_rate_hz": 1000, "subject": "Jane",
            "channels": {"fz_left": [400, 401], "fz_right": [399, 398]}}"#;
        let r = parse_recording("a.json", text.as_bytes(), &ParseOptions::default()).unwrap();
        assert_eq!(r.plates.len(), 2);
        assert!(matches!(r.plates, Plates::Dual { .. }));
    }

    #[test]
    fn type_errors_do_not_quote_input() {
        let text =
            "{\"sample_rate_hz\": 1000,\n\"subject\": 42,\n\"channels\": {\"fz\": [\"Jane\"]}}";
        let err = parse_recording("a.json", text.as_bytes(), &ParseOptions::default()).unwrap_err();
        assert!(matches!(err, ParseError::Json { line: 2, .. }), "{err}");
        let text = "{\"sample_rate_hz\": 1000, \"channels\": {\"fz\": [\"Jane\"]}}";
        let err = parse_recording("a.json", text.as_bytes(), &ParseOptions::default()).unwrap_err();
        assert!(!format!("{err} {err:?}").contains("Jane"));
    }

    #[test]
    fn sniffed_without_extension() {
        let text = r#" {"sample_rate_hz": 500, "channels": {"fz": [1, 2, 3]}}"#;
        let r = parse_recording("upload", text.as_bytes(), &ParseOptions::default()).unwrap();
        assert_eq!(r.sample_rate.hz(), 500.0);
    }
}
