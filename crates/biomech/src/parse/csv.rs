//! Delimited-text exports: MHP's CSV form and other systems' dialects.
//!
//! The parser is a small state machine over lines: preamble (metadata and
//! comments), one header row, then data rows. Data rows are split in place
//! and each wanted field is parsed straight into its channel vector; no row
//! is allocated.

use std::fmt::Write as _;
use std::io::BufRead;

use super::number::parse_field;
use super::{
    ColumnMap, ColumnRole, LimitedReader, ParseOptions, parse_rate_value, parse_unit_value,
    resolve_sample_rate, sanitize_name,
};
use crate::error::ParseError;
use crate::recording::{
    CentreOfPressure, ForceUnit, Metadata, Plates, Recording, Side, Subject, Timing, TrialKind,
};

/// Longest line accepted, bytes. A longer "line" is binary data or a file
/// without line breaks; refusing it keeps memory bounded by one line.
const MAX_LINE_BYTES: usize = 64 * 1024;

/// Writes a recording in MHP's CSV form (see the crate docs). Time is
/// written as `index / rate`, forces in newtons with 3 decimals, the
/// centre of pressure in metres with 6 decimals.
pub fn to_mhp_csv(recording: &Recording) -> String {
    let rate = recording.sample_rate;
    let mut out = String::with_capacity(recording.len() * 32 + 128);
    // Writing to a String cannot fail; the results are ignored on purpose.
    let _ = writeln!(out, "# sample_rate_hz: {}", rate.hz());
    let _ = writeln!(out, "# units: N");
    if let Some(test) = recording.metadata.test {
        match recording.metadata.side {
            Some(side) => {
                let _ = writeln!(out, "# test: {}_{}", test.code(), side.code());
            }
            None => {
                let _ = writeln!(out, "# test: {}", test.code());
            }
        }
    }
    if let Some(kg) = recording.metadata.body_mass_kg {
        let _ = writeln!(out, "# body_mass_kg: {kg}");
    }
    if let Some(device) = &recording.metadata.device {
        let _ = writeln!(out, "# device: {device}");
    }
    if let Some(subject) = &recording.metadata.subject {
        let _ = writeln!(out, "# subject: {}", subject.expose());
    }
    out.push_str(match recording.plates {
        Plates::Single { .. } => "time_s,fz_n",
        Plates::Dual { .. } => "time_s,fz_left_n,fz_right_n",
    });
    if recording.cop.is_some() {
        out.push_str(",cop_x_m,cop_y_m");
    }
    out.push('\n');
    for i in 0..recording.len() {
        let t = i as f64 * rate.dt();
        let _ = write!(out, "{t:.6}");
        match &recording.plates {
            Plates::Single { fz } => {
                let _ = write!(out, ",{:.3}", fz.get(i).copied().unwrap_or(f64::NAN));
            }
            Plates::Dual { left, right } => {
                let l = left.get(i).copied().unwrap_or(f64::NAN);
                let r = right.get(i).copied().unwrap_or(f64::NAN);
                let _ = write!(out, ",{l:.3},{r:.3}");
            }
        }
        if let Some(cop) = &recording.cop {
            let x = cop.x.get(i).copied().unwrap_or(f64::NAN);
            let y = cop.y.get(i).copied().unwrap_or(f64::NAN);
            let _ = write!(out, ",{x:.6},{y:.6}");
        }
        out.push('\n');
    }
    out
}

/// Parses delimited text into a recording.
pub(crate) fn parse_csv<R: BufRead>(
    reader: &mut LimitedReader<R>,
    opts: &ParseOptions,
) -> Result<Recording, ParseError> {
    let mut preamble = Preamble::default();
    let mut line = Vec::with_capacity(256);
    let mut line_no = 0usize;
    let mut body: Option<Body> = None;
    // Vendor exports put a block of metadata above the header, in lines the
    // parser does not all know: the header is the last such line before
    // the first row of data (a row of units under it is skipped). A row is
    // data when it fits the candidate header (numbers where it has
    // channels) or is all numbers.
    let mut pending: Option<Pending> = None;

    while read_line(reader, &mut line, line_no + 1)? {
        line_no += 1;
        let text = strip_line(&line, line_no == 1);
        if let Some(body) = body.as_mut() {
            body.push_row(text, line_no)?;
            continue;
        }
        match classify_preamble(text, line_no)? {
            PreambleLine::Skip => {}
            PreambleLine::Meta(key, value) => preamble.apply(key, value, line_no)?,
            PreambleLine::Header(header) => {
                let fits = pending.as_ref().is_some_and(|p| p.fits(header));
                if opts.columns.is_none() && !fits && !is_number_row(header) {
                    if pending.is_some()
                        && let Some(unit) = units_row(header)
                    {
                        preamble.units_row(unit, line_no)?;
                        if let Some(p) = pending.as_mut() {
                            p.relayout(preamble.unit);
                        }
                        continue;
                    }
                    pending = Some(Pending::new(header, line_no, preamble.unit));
                    continue;
                }
                let mut new_body = match pending.take() {
                    Some(p) => Body::new(p.layout?),
                    None => Body::new(Layout::from_header(
                        header,
                        line_no,
                        preamble.unit,
                        opts.columns.as_ref(),
                    )?),
                };
                if new_body.layout.headerless || fits || is_number_row(header) {
                    new_body.push_row(text, line_no)?;
                }
                body = Some(new_body);
            }
        }
    }
    if body.is_none()
        && let Some(p) = pending
    {
        // A header and no data: its errors first, then "empty".
        p.layout?;
    }
    let Some(body) = body else {
        return Err(ParseError::Empty);
    };
    body.finish(preamble, opts)
}

/// Reads one line (without its `\n`) into `line`. False at end of input.
fn read_line<R: BufRead>(
    reader: &mut LimitedReader<R>,
    line: &mut Vec<u8>,
    line_no: usize,
) -> Result<bool, ParseError> {
    line.clear();
    let mut read_any = false;
    loop {
        let available = match reader.inner_mut().fill_buf() {
            Ok(available) => available,
            Err(err) if err.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(err) => return Err(reader.io_error(&err)),
        };
        if available.is_empty() {
            if reader.exceeded() {
                return Err(reader.too_large());
            }
            return Ok(read_any);
        }
        read_any = true;
        let (chunk, used, done) = match available.iter().position(|&b| b == b'\n') {
            Some(end) => (&available[..end], end + 1, true),
            None => (available, available.len(), false),
        };
        if line.len() + chunk.len() > MAX_LINE_BYTES {
            if reader.exceeded() {
                return Err(reader.too_large());
            }
            return Err(ParseError::LineTooLong { line: line_no });
        }
        line.extend_from_slice(chunk);
        reader.inner_mut().consume(used);
        if done {
            if reader.exceeded() {
                return Err(reader.too_large());
            }
            return Ok(true);
        }
    }
}

/// A candidate header row and the layout it gives.
struct Pending {
    header: String,
    line: usize,
    layout: Result<Layout, ParseError>,
}

impl Pending {
    fn new(header: &str, line: usize, unit: Option<ForceUnit>) -> Self {
        Self {
            header: header.to_owned(),
            line,
            layout: Layout::from_header(header, line, unit, None),
        }
    }

    /// Rebuilds the layout once a units row has declared the force unit.
    fn relayout(&mut self, unit: Option<ForceUnit>) {
        self.layout = Layout::from_header(&self.header, self.line, unit, None);
    }

    /// True when `row` is data under this header: as many fields, and a
    /// number in every field the header gives a channel.
    fn fits(&self, row: &str) -> bool {
        let Ok(layout) = &self.layout else {
            return false;
        };
        let fields: Vec<&str> = match layout.delimiter {
            Some(d) => row.split(char::from(d)).collect(),
            None => vec![row],
        };
        let n = layout.channels.len();
        let fields = match fields.len() {
            k if k == n => fields,
            k if k == n + 1 && fields.last().is_some_and(|f| f.trim().is_empty()) => {
                fields.get(..n).unwrap_or_default().to_vec()
            }
            _ => return false,
        };
        layout
            .channels
            .iter()
            .zip(&fields)
            .filter(|(c, _)| **c != Channel::Skip)
            .all(|(_, f)| parse_field(f.as_bytes(), layout.decimal_comma).is_some())
    }
}

/// True for a row of numbers (data, not a header): every field parses.
fn is_number_row(line: &str) -> bool {
    let delimiter = detect_delimiter(line);
    let decimal_comma = delimiter != Some(b',');
    let fields: Vec<&str> = match delimiter {
        Some(d) => line.split(char::from(d)).collect(),
        None => vec![line],
    };
    let trailing = delimiter.is_some_and(|d| line.ends_with(char::from(d))) && fields.len() > 1;
    fields
        .get(..fields.len() - usize::from(trailing))
        .unwrap_or_default()
        .iter()
        .all(|f| parse_field(f.as_bytes(), decimal_comma).is_some())
}

/// A row of units under a header (`s,N,N`, `ms;kgf;kgf;mm;mm`): the force
/// unit it names for force columns, `Some(None)` when it names none.
fn units_row(line: &str) -> Option<Option<ForceUnit>> {
    let fields: Vec<String> = match detect_delimiter(line) {
        Some(d) => line.split(char::from(d)).map(normalize_name).collect(),
        None => vec![normalize_name(line)],
    };
    let unit_word = |w: &str| {
        is_unit_word(w)
            || matches!(
                w,
                "" | "s" | "sec" | "ms" | "msec" | "m" | "mm" | "cm" | "nm" | "n_m" | "v" | "deg"
            )
    };
    if fields.iter().any(|f| !unit_word(f)) || fields.iter().all(String::is_empty) {
        return None;
    }
    let forces: Vec<ForceUnit> = fields
        .iter()
        .filter(|f| is_unit_word(f))
        .filter_map(|f| ForceUnit::parse(f))
        .collect();
    let first = forces.first().copied();
    Some(first.filter(|u| forces.iter().all(|f| f == u)))
}

/// Drops the trailing `\r` and, on the first line, a UTF-8 byte-order mark.
fn strip_line(line: &[u8], first: bool) -> &[u8] {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    if first {
        line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line)
    } else {
        line
    }
}

/// Metadata collected before the header row.
#[derive(Default)]
struct Preamble {
    rate_hz: Option<f64>,
    unit: Option<ForceUnit>,
    metadata: Metadata,
}

/// A metadata key this crate understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MetaKey {
    SampleRate,
    Units,
    Subject,
    Test,
    Device,
    BodyMass,
}

impl MetaKey {
    /// Recognises a key after normalisation (lowercase, runs of
    /// non-alphanumerics as one `_`).
    fn parse(raw: &str) -> Option<Self> {
        match normalize_name(raw).as_str() {
            "sample_rate_hz"
            | "sample_rate"
            | "sampling_rate"
            | "sampling_rate_hz"
            | "sample_frequency"
            | "sampling_frequency"
            | "sampling_frequency_hz"
            | "frequency"
            | "frequency_hz"
            | "rate"
            | "rate_hz"
            | "fs"
            | "samplerate"
            | "sample_rate_in_hz" => Some(MetaKey::SampleRate),
            "units" | "unit" | "force_units" | "force_unit" | "unit_of_force" => {
                Some(MetaKey::Units)
            }
            "subject" | "subject_id" | "subject_name" | "athlete" | "athlete_name"
            | "participant" | "patient" | "name" => Some(MetaKey::Subject),
            "test" | "test_type" | "protocol" | "trial_type" => Some(MetaKey::Test),
            "device" | "plate" | "system" | "device_model" | "instrument" | "force_plate"
            | "force_platform" | "plate_type" | "plate_model" | "hardware" => Some(MetaKey::Device),
            "body_mass" | "body_mass_kg" | "mass" | "mass_kg" | "body_weight_kg" | "weight_kg"
            | "bodyweight_kg" | "athlete_mass" | "athlete_weight_kg" | "system_mass" => {
                Some(MetaKey::BodyMass)
            }
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            MetaKey::SampleRate => "sample_rate_hz",
            MetaKey::Units => "units",
            MetaKey::Subject => "subject",
            MetaKey::Test => "test",
            MetaKey::Device => "device",
            MetaKey::BodyMass => "body_mass_kg",
        }
    }
}

impl Preamble {
    /// A row of units under the header: its force unit, unless the
    /// metadata already declared another.
    fn units_row(&mut self, unit: Option<ForceUnit>, line: usize) -> Result<(), ParseError> {
        match (self.unit, unit) {
            (Some(declared), Some(unit)) if declared != unit => Err(ParseError::InvalidMetadata {
                line,
                key: "units".to_owned(),
            }),
            (None, Some(unit)) => {
                self.unit = Some(unit);
                self.metadata.declared_unit = Some(unit);
                Ok(())
            }
            _ => Ok(()),
        }
    }

    fn apply(&mut self, key: MetaKey, value: &str, line: usize) -> Result<(), ParseError> {
        let invalid = || ParseError::InvalidMetadata {
            line,
            key: key.name().to_owned(),
        };
        let value = value.trim().trim_matches('"').trim();
        match key {
            MetaKey::SampleRate => {
                self.rate_hz = Some(parse_rate_value(value).ok_or_else(invalid)?)
            }
            MetaKey::Units => {
                let unit = parse_unit_value(value).ok_or_else(invalid)?;
                self.unit = Some(unit);
                self.metadata.declared_unit = Some(unit);
            }
            MetaKey::Subject => self.metadata.subject = Some(Subject::new(value)),
            // An unknown test name is not fatal: the analysis then guesses
            // the kind from the signal.
            MetaKey::Test => {
                self.metadata.test = TrialKind::parse(value);
                self.metadata.side = Side::from_test(value);
            }
            MetaKey::Device => self.metadata.device = Some(value.chars().take(128).collect()),
            MetaKey::BodyMass => {
                self.metadata.body_mass_kg = Some(parse_mass_value(value).ok_or_else(invalid)?)
            }
        }
        Ok(())
    }
}

/// A body mass such as `72.5`, `72,5 kg`, `160 lb` (to kg).
fn parse_mass_value(value: &str) -> Option<f64> {
    let lower = value.trim().to_ascii_lowercase();
    let (digits, scale) = if let Some(d) = lower.strip_suffix("lbs").or(lower.strip_suffix("lb")) {
        (
            d,
            crate::recording::NEWTONS_PER_LBF / crate::recording::GRAVITY,
        )
    } else {
        (lower.strip_suffix("kg").unwrap_or(&lower), 1.0)
    };
    let kg = parse_field(digits.trim().as_bytes(), true)? * scale;
    (kg.is_finite() && kg > 0.0).then_some(kg)
}

/// What a line before the header row is.
enum PreambleLine<'a> {
    /// Blank, or a comment.
    Skip,
    /// A metadata line.
    Meta(MetaKey, &'a str),
    /// The header row (or the first data row of a headerless file).
    Header(&'a str),
}

/// Sorts a preamble line into metadata, comment or header.
fn classify_preamble(line: &[u8], line_no: usize) -> Result<PreambleLine<'_>, ParseError> {
    let text = std::str::from_utf8(line).map_err(|_| ParseError::NotText { line: line_no })?;
    if text.contains('\0') {
        return Err(ParseError::NotText { line: line_no });
    }
    let trimmed = text.trim();
    if trimmed.is_empty() || trimmed.chars().all(|c| matches!(c, ',' | ';' | '\t')) {
        return Ok(PreambleLine::Skip);
    }
    if let Some(comment) = trimmed.strip_prefix('#') {
        return Ok(match split_meta(comment) {
            Some((key, value)) => PreambleLine::Meta(key, value),
            None => PreambleLine::Skip,
        });
    }
    Ok(match split_meta(trimmed) {
        Some((key, value)) => PreambleLine::Meta(key, value),
        None => PreambleLine::Header(trimmed),
    })
}

/// Splits `key: value`, `key = value` or `key<delimiter>value` when the key
/// is one MHP knows.
fn split_meta(text: &str) -> Option<(MetaKey, &str)> {
    if let Some(pos) = text.find([':', '=']) {
        let (key, value) = (&text[..pos], &text[pos + 1..]);
        if let Some(key) = MetaKey::parse(key) {
            return Some((key, value));
        }
    }
    let mut fields = text
        .split([',', ';', '\t'])
        .filter(|f| !f.trim().is_empty());
    let key = MetaKey::parse(fields.next()?)?;
    let value = fields.next()?;
    if fields.next().is_some() {
        return None;
    }
    Some((key, value))
}

/// Lowercases and turns every run of non-alphanumerics into one `_`.
fn normalize_name(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for c in raw.trim().chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('_') {
            out.push('_');
        }
    }
    while out.ends_with('_') {
        out.pop();
    }
    out
}

/// Where one field of a row goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Channel {
    Skip,
    Time,
    Total,
    Left,
    Right,
    CopX,
    CopY,
    /// A side's plate's own centre of pressure (combined by force).
    PlateCopX(Plate),
    PlateCopY(Plate),
    /// Load cell 1–4 of the single plate (`Total`) or of a side's plate.
    Cell(Plate, u8),
}

/// Which plate a load cell belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Plate {
    Total,
    Left,
    Right,
}

impl Plate {
    fn index(self) -> usize {
        match self {
            Plate::Total => 0,
            Plate::Left => 1,
            Plate::Right => 2,
        }
    }

    /// The plate's own force channel.
    fn channel(self) -> Channel {
        match self {
            Plate::Total => Channel::Total,
            Plate::Left => Channel::Left,
            Plate::Right => Channel::Right,
        }
    }

    const ALL: [Plate; 3] = [Plate::Total, Plate::Left, Plate::Right];
}

/// What a header column was recognised as.
#[derive(Debug, Clone, Copy, PartialEq)]
enum ColumnClass {
    Time {
        scale: f64,
    },
    Force {
        side: Channel,
        unit: Option<ForceUnit>,
        /// A load cell's number (1–4), for plates that export each cell.
        cell: Option<u8>,
    },
    Cop {
        axis: Channel,
        scale: f64,
        /// The plate whose own centre of pressure it is, for two plates.
        side: Option<Plate>,
    },
    Ignored,
    Unknown,
}

/// The column layout decided from the header row.
struct Layout {
    channels: Vec<Channel>,
    names: Vec<String>,
    delimiter: Option<u8>,
    decimal_comma: bool,
    time_scale: f64,
    cop_scale: f64,
    force_scale: f64,
    header_trailing_delimiter: bool,
    headerless: bool,
}

impl Layout {
    fn from_header(
        header: &str,
        line: usize,
        declared: Option<ForceUnit>,
        columns: Option<&ColumnMap>,
    ) -> Result<Self, ParseError> {
        let delimiter = detect_delimiter(header);
        let fields: Vec<&str> = match delimiter {
            Some(d) => header.split(char::from(d)).collect(),
            None => vec![header],
        };
        // A comma can be the decimal mark only when it is not the delimiter.
        let decimal_comma = delimiter != Some(b',');
        let all_numbers = fields
            .iter()
            .all(|f| parse_field(f.as_bytes(), decimal_comma).is_some());
        if let Some(map) = columns {
            return Self::mapped(map, header, &fields, delimiter, line, declared);
        }
        if all_numbers {
            return Self::headerless(fields.len(), delimiter, line, declared);
        }
        let classes: Vec<ColumnClass> = fields.iter().map(|f| classify_column(f)).collect();
        let mut layout = Self {
            channels: vec![Channel::Skip; fields.len()],
            names: fields
                .iter()
                .zip(&classes)
                .enumerate()
                .map(|(i, (f, class))| match class {
                    // An unrecognised "header" may be anything, even a
                    // line naming the subject: refer to it by position.
                    ColumnClass::Unknown => position_name(i),
                    _ => sanitize_name(f.trim().trim_matches('"')),
                })
                .collect(),
            delimiter,
            decimal_comma,
            time_scale: 1.0,
            cop_scale: 1.0,
            force_scale: declared.unwrap_or(ForceUnit::Newton).to_newtons(),
            header_trailing_delimiter: delimiter.is_some_and(|d| header.ends_with(char::from(d))),
            headerless: false,
        };
        layout.assign(&classes, line, declared)?;
        Ok(layout)
    }

    /// Columns by the caller's [`ColumnMap`]: the header's names are not
    /// read, a first row of numbers is data, columns are named by position.
    fn mapped(
        map: &ColumnMap,
        header: &str,
        fields: &[&str],
        delimiter: Option<u8>,
        line: usize,
        declared: Option<ForceUnit>,
    ) -> Result<Self, ParseError> {
        let trailing_delimiter = delimiter.is_some_and(|d| header.ends_with(char::from(d)));
        // A trailing delimiter adds an empty last field, not a column.
        let columns = fields
            .get(..fields.len() - usize::from(trailing_delimiter && fields.len() > 1))
            .unwrap_or(fields);
        let found = columns.len();
        let decimal_comma = delimiter != Some(b',');
        let headerless = columns
            .iter()
            .all(|f| parse_field(f.as_bytes(), decimal_comma).is_some());
        // Data rows keep a trailing delimiter only when the header row had
        // one; a first row that is data is split like every other row.
        let width = if headerless { found } else { fields.len() };
        let roles = map.roles();
        if roles.len() != found {
            return Err(ParseError::ColumnCountMismatch {
                line,
                expected: roles.len(),
                found,
            });
        }
        let mut layout = Self {
            channels: vec![Channel::Skip; width],
            names: (0..width).map(position_name).collect(),
            delimiter,
            decimal_comma,
            time_scale: 1.0,
            cop_scale: 1.0,
            force_scale: declared.unwrap_or(ForceUnit::Newton).to_newtons(),
            header_trailing_delimiter: trailing_delimiter && !headerless,
            headerless,
        };
        for (i, role) in roles.iter().enumerate() {
            let channel = match role {
                ColumnRole::TimeSeconds => Channel::Time,
                ColumnRole::TimeMilliseconds => {
                    layout.time_scale = 0.001;
                    Channel::Time
                }
                ColumnRole::Force => Channel::Total,
                ColumnRole::ForceLeft => Channel::Left,
                ColumnRole::ForceRight => Channel::Right,
                ColumnRole::CopX => Channel::CopX,
                ColumnRole::CopY => Channel::CopY,
                ColumnRole::LeftCopX => Channel::PlateCopX(Plate::Left),
                ColumnRole::LeftCopY => Channel::PlateCopY(Plate::Left),
                ColumnRole::RightCopX => Channel::PlateCopX(Plate::Right),
                ColumnRole::RightCopY => Channel::PlateCopY(Plate::Right),
                ColumnRole::LoadCell(k) => Channel::Cell(Plate::Total, *k),
                ColumnRole::LeftLoadCell(k) => Channel::Cell(Plate::Left, *k),
                ColumnRole::RightLoadCell(k) => Channel::Cell(Plate::Right, *k),
                ColumnRole::Ignore => Channel::Skip,
            };
            layout.set(i, channel, line)?;
        }
        layout.check_pairs(line)?;
        Ok(layout)
    }

    /// A file whose first row is numbers: one column is force; more cannot
    /// be told apart.
    fn headerless(
        count: usize,
        delimiter: Option<u8>,
        line: usize,
        declared: Option<ForceUnit>,
    ) -> Result<Self, ParseError> {
        if count != 1 {
            return Err(ParseError::MissingHeader { line });
        }
        Ok(Self {
            channels: vec![Channel::Total],
            names: vec![position_name(0)],
            delimiter,
            decimal_comma: true,
            time_scale: 1.0,
            cop_scale: 1.0,
            force_scale: declared.unwrap_or(ForceUnit::Newton).to_newtons(),
            header_trailing_delimiter: false,
            headerless: true,
        })
    }

    /// Maps classified columns to channels, checking pairs and duplicates.
    fn assign(
        &mut self,
        classes: &[ColumnClass],
        line: usize,
        declared: Option<ForceUnit>,
    ) -> Result<(), ParseError> {
        let has_force = classes
            .iter()
            .any(|c| matches!(c, ColumnClass::Force { .. }));
        let unknown: Vec<usize> = (0..classes.len())
            .filter(|&i| classes.get(i) == Some(&ColumnClass::Unknown))
            .collect();
        let mut column_unit: Option<ForceUnit> = None;
        for (i, class) in classes.iter().enumerate() {
            let channel = match *class {
                ColumnClass::Time { scale } => {
                    self.time_scale = scale;
                    Channel::Time
                }
                ColumnClass::Force { side, unit, cell } => {
                    if let Some(unit) = unit {
                        if declared.is_some_and(|d| d != unit) {
                            return Err(ParseError::UnitConflict {
                                line,
                                column: self.name(i),
                            });
                        }
                        column_unit = Some(unit);
                    }
                    match (cell, side) {
                        (Some(k), Channel::Left) => Channel::Cell(Plate::Left, k),
                        (Some(k), Channel::Right) => Channel::Cell(Plate::Right, k),
                        (Some(k), _) => Channel::Cell(Plate::Total, k),
                        (None, side) => side,
                    }
                }
                ColumnClass::Cop { axis, scale, side } => {
                    self.cop_scale = scale;
                    match (side, axis) {
                        (Some(plate), Channel::CopX) => Channel::PlateCopX(plate),
                        (Some(plate), _) => Channel::PlateCopY(plate),
                        (None, axis) => axis,
                    }
                }
                ColumnClass::Ignored | ColumnClass::Unknown => Channel::Skip,
            };
            self.set(i, channel, line)?;
        }
        if !has_force && !unknown.is_empty() {
            // Columns with names the parser does not know are not guessed
            // to be force (`foo,bar` is not a pair of plates): the caller
            // names them, or passes a column map.
            return Err(ParseError::UnknownColumns {
                line,
                columns: unknown.iter().map(|i| i + 1).collect(),
            });
        }
        if let Some(unit) = column_unit {
            self.force_scale = unit.to_newtons();
        }
        self.check_pairs(line)
    }

    fn set(&mut self, i: usize, channel: Channel, line: usize) -> Result<(), ParseError> {
        if channel != Channel::Skip && self.channels.contains(&channel) {
            return Err(ParseError::DuplicateColumn {
                line,
                column: self.name(i),
            });
        }
        if let Some(slot) = self.channels.get_mut(i) {
            *slot = channel;
        }
        Ok(())
    }

    /// Left needs right, x needs y; with both sides present a total column
    /// is redundant and skipped. Load cells stand for their plate's force
    /// when the plate has no force column of its own, and then all four
    /// must be there.
    fn check_pairs(&mut self, line: usize) -> Result<(), ParseError> {
        for plate in Plate::ALL {
            let cells: Vec<(usize, u8)> = self
                .channels
                .iter()
                .enumerate()
                .filter_map(|(i, c)| match c {
                    Channel::Cell(p, k) if *p == plate => Some((i, *k)),
                    _ => None,
                })
                .collect();
            let Some(&(first, _)) = cells.first() else {
                continue;
            };
            if self.channels.contains(&plate.channel()) {
                for &(i, _) in &cells {
                    if let Some(c) = self.channels.get_mut(i) {
                        *c = Channel::Skip;
                    }
                }
                continue;
            }
            let mut numbers: Vec<u8> = cells.iter().map(|&(_, k)| k).collect();
            numbers.sort_unstable();
            if numbers != [1, 2, 3, 4] {
                return Err(ParseError::IncompleteLoadCells {
                    line,
                    column: self.name(first),
                });
            }
        }
        let pos_x = self.channels.iter().position(|&c| c == Channel::CopX);
        let pos_y = self.channels.iter().position(|&c| c == Channel::CopY);
        if let (Some(i), None) | (None, Some(i)) = (pos_x, pos_y) {
            return Err(ParseError::UnpairedColumn {
                line,
                column: self.name(i),
            });
        }
        let has_plate = |channels: &[Channel], plate: Plate| {
            channels
                .iter()
                .any(|c| *c == plate.channel() || matches!(c, Channel::Cell(p, _) if *p == plate))
        };
        let (left, right) = (
            has_plate(&self.channels, Plate::Left),
            has_plate(&self.channels, Plate::Right),
        );
        if left != right {
            let lone = self.channels.iter().position(|c| {
                matches!(
                    c,
                    Channel::Left | Channel::Right | Channel::Cell(Plate::Left | Plate::Right, _)
                )
            });
            return Err(ParseError::UnpairedColumn {
                line,
                column: self.name(lone.unwrap_or_default()),
            });
        }
        let dual = left && right;
        if dual {
            for c in &mut self.channels {
                if matches!(c, Channel::Total | Channel::Cell(Plate::Total, _)) {
                    *c = Channel::Skip;
                }
            }
        }
        if !dual && !has_plate(&self.channels, Plate::Total) {
            return Err(ParseError::NoForceColumn { line });
        }
        self.check_plate_cop(dual, line)
    }

    /// Each plate's own centre of pressure needs both plates and all four
    /// coordinates; beside a combined one it is not read.
    fn check_plate_cop(&mut self, dual: bool, line: usize) -> Result<(), ParseError> {
        let sided: Vec<usize> = (0..self.channels.len())
            .filter(|&i| {
                matches!(
                    self.channels.get(i),
                    Some(Channel::PlateCopX(_) | Channel::PlateCopY(_))
                )
            })
            .collect();
        let Some(&first) = sided.first() else {
            return Ok(());
        };
        if self.has(Channel::CopX) {
            for i in sided {
                if let Some(c) = self.channels.get_mut(i) {
                    *c = Channel::Skip;
                }
            }
            return Ok(());
        }
        let all = [
            Channel::PlateCopX(Plate::Left),
            Channel::PlateCopY(Plate::Left),
            Channel::PlateCopX(Plate::Right),
            Channel::PlateCopY(Plate::Right),
        ];
        if !dual || all.iter().any(|c| !self.has(*c)) || sided.len() != all.len() {
            return Err(ParseError::UnpairedColumn {
                line,
                column: self.name(first),
            });
        }
        Ok(())
    }

    /// True when each plate's own centre of pressure is read (and combined).
    fn has_plate_cop(&self) -> bool {
        self.has(Channel::PlateCopX(Plate::Left))
    }

    fn name(&self, i: usize) -> String {
        self.names.get(i).cloned().unwrap_or_default()
    }

    fn has(&self, channel: Channel) -> bool {
        self.channels.contains(&channel)
    }

    /// True when the plate's force comes from its four load cells.
    fn has_cells(&self, plate: Plate) -> bool {
        self.channels
            .iter()
            .any(|c| matches!(c, Channel::Cell(p, _) if *p == plate))
    }

    /// True for two plates.
    fn is_dual(&self) -> bool {
        self.has(Channel::Left) || self.has_cells(Plate::Left)
    }
}

/// Tab if the header has one, else semicolon, else comma, else none (one
/// column).
fn detect_delimiter(header: &str) -> Option<u8> {
    [b'\t', b';', b',']
        .into_iter()
        .find(|&d| header.as_bytes().contains(&d))
}

/// Recognises a header column by the words in its name.
fn classify_column(raw: &str) -> ColumnClass {
    let name = normalize_name(raw.trim().trim_matches('"'));
    if name.is_empty() {
        return ColumnClass::Ignored;
    }
    let words: Vec<&str> = name.split('_').collect();
    let has = |w: &str| words.contains(&w);

    if has("time") || has("timestamp") || (has("t") && words.len() <= 2) {
        let scale = if has("ms") || has("msec") { 0.001 } else { 1.0 };
        return ColumnClass::Time { scale };
    }
    if has("cop") || has("copx") || has("copy") || has("cp") {
        let axis = if has("x") || has("copx") || has("ml") {
            Channel::CopX
        } else if has("y") || has("copy") || has("ap") {
            Channel::CopY
        } else {
            return ColumnClass::Ignored;
        };
        let scale = if has("mm") {
            0.001
        } else if has("cm") {
            0.01
        } else {
            1.0
        };
        let side = if words
            .iter()
            .any(|w| matches!(*w, "left" | "l" | "lt" | "links"))
        {
            Some(Plate::Left)
        } else if words
            .iter()
            .any(|w| matches!(*w, "right" | "r" | "rt" | "rechts"))
        {
            Some(Plate::Right)
        } else {
            None
        };
        return ColumnClass::Cop { axis, scale, side };
    }
    let horizontal = has("x") || has("y") || has("fx") || has("fy");
    let moment = words
        .iter()
        .any(|w| matches!(*w, "mx" | "my" | "mz" | "tz" | "moment" | "torque"));
    if horizontal || moment {
        return ColumnClass::Ignored;
    }
    let cell = load_cell(&words);
    let vertical = cell.is_some()
        || words.iter().any(|w| {
            matches!(
                *w,
                "fz" | "force" | "z" | "vgrf" | "grf" | "load" | "fzl" | "fzr" | "lfz" | "rfz"
            )
        });
    if !vertical {
        // A name that is only a side (`Left`, `Rechts (N)`) is that plate's
        // force; single letters are not enough.
        let side = match words.first() {
            Some(&("left" | "links")) => Channel::Left,
            Some(&("right" | "rechts")) => Channel::Right,
            _ => return ColumnClass::Unknown,
        };
        if words.iter().skip(1).all(|w| is_unit_word(w)) {
            return ColumnClass::Force {
                side,
                unit: unit_in(&words),
                cell: None,
            };
        }
        return ColumnClass::Unknown;
    }
    let side = if words
        .iter()
        .any(|w| matches!(*w, "left" | "l" | "fzl" | "lfz" | "lt"))
    {
        Channel::Left
    } else if words
        .iter()
        .any(|w| matches!(*w, "right" | "r" | "fzr" | "rfz" | "rt"))
    {
        Channel::Right
    } else {
        Channel::Total
    };
    ColumnClass::Force {
        side,
        unit: unit_in(&words),
        cell,
    }
}

/// The number of a load-cell column: `fz1`…`fz4`, `fz_3`, `lc2`,
/// `load_cell_4`, `cell1` (a bare number counts only beside `fz`, `cell`,
/// `lc` or `load`).
fn load_cell(words: &[&str]) -> Option<u8> {
    let number = |t: &str| match t {
        "1" => Some(1),
        "2" => Some(2),
        "3" => Some(3),
        "4" => Some(4),
        _ => None,
    };
    let joined = words.iter().find_map(|w| {
        ["fz", "lc", "cell", "loadcell"]
            .iter()
            .find_map(|p| w.strip_prefix(p).and_then(number))
    });
    let cell_word = words
        .iter()
        .any(|w| matches!(*w, "fz" | "cell" | "lc" | "load" | "loadcell"));
    joined.or_else(|| {
        cell_word
            .then(|| words.iter().find_map(|w| number(w)))
            .flatten()
    })
}

/// A word of a column name that names a force unit.
fn is_unit_word(word: &str) -> bool {
    matches!(
        word,
        "kgf" | "kg" | "kp" | "lbf" | "lb" | "lbs" | "n" | "newton" | "newtons"
    )
}

/// The force unit a column name's words declare, if any.
fn unit_in(words: &[&str]) -> Option<ForceUnit> {
    let has = |w: &str| words.contains(&w);
    if has("kgf") || has("kg") || has("kp") {
        Some(ForceUnit::KilogramForce)
    } else if has("lbf") || has("lb") || has("lbs") {
        Some(ForceUnit::PoundForce)
    } else if has("n") || has("newton") || has("newtons") {
        Some(ForceUnit::Newton)
    } else {
        None
    }
}

/// How errors name a column the parser did not recognise: by its 1-based
/// position, never by the file's text.
fn position_name(index: usize) -> String {
    format!("column {}", index + 1)
}

/// Data rows accumulated so far.
struct Body {
    layout: Layout,
    expected_fields: usize,
    /// This row's running sums of load cells, per plate.
    cells: [f64; 3],
    /// Plates whose force is the sum of their load cells.
    cell_plates: Vec<Plate>,
    total: Vec<f64>,
    left: Vec<f64>,
    right: Vec<f64>,
    cop_x: Vec<f64>,
    cop_y: Vec<f64>,
    /// Each plate's own centre of pressure (left, right), when exported so.
    plate_cop: [CentreOfPressure; 2],
    time: TimeTrack,
}

/// Running statistics of the time column; the timestamps themselves are not
/// kept.
#[derive(Default)]
struct TimeTrack {
    first: Option<f64>,
    last: f64,
    min_step: f64,
    max_step: f64,
    count: usize,
}

impl TimeTrack {
    fn push(&mut self, t: f64, line: usize) -> Result<(), ParseError> {
        if self.first.is_none() {
            self.first = Some(t);
            self.min_step = f64::INFINITY;
            self.max_step = 0.0;
        } else {
            let step = t - self.last;
            if step.is_nan() || step <= 0.0 {
                return Err(ParseError::TimeNotIncreasing { line });
            }
            self.min_step = self.min_step.min(step);
            self.max_step = self.max_step.max(step);
        }
        self.last = t;
        self.count += 1;
        Ok(())
    }

    /// Timing statistics and the rate they imply, with two or more stamps.
    fn summary(&self) -> Option<(Timing, f64)> {
        let first = self.first?;
        if self.count < 2 {
            return None;
        }
        let mean_step = (self.last - first) / (self.count - 1) as f64;
        let timing = Timing {
            min_step_s: self.min_step,
            max_step_s: self.max_step,
            mean_step_s: mean_step,
        };
        Some((timing, 1.0 / mean_step))
    }
}

impl Body {
    fn new(layout: Layout) -> Self {
        let expected_fields = layout.channels.len();
        let cell_plates = Plate::ALL
            .into_iter()
            .filter(|p| layout.has_cells(*p))
            .collect();
        Self {
            layout,
            expected_fields,
            cells: [0.0; 3],
            cell_plates,
            total: Vec::new(),
            left: Vec::new(),
            right: Vec::new(),
            cop_x: Vec::new(),
            cop_y: Vec::new(),
            plate_cop: [
                CentreOfPressure {
                    x: Vec::new(),
                    y: Vec::new(),
                },
                CentreOfPressure {
                    x: Vec::new(),
                    y: Vec::new(),
                },
            ],
            time: TimeTrack::default(),
        }
    }

    /// Parses one data row into the channel vectors.
    fn push_row(&mut self, row: &[u8], line: usize) -> Result<(), ParseError> {
        if is_blank_row(row, self.layout.delimiter) || row.first() == Some(&b'#') {
            return Ok(());
        }
        let mut found = 0usize;
        let mut last_blank = false;
        match self.layout.delimiter {
            Some(d) => {
                for field in row.split(|&b| b == d) {
                    self.push_field(found, field, line)?;
                    last_blank = field.iter().all(u8::is_ascii_whitespace);
                    found += 1;
                }
            }
            None => {
                self.push_field(0, row, line)?;
                found = 1;
            }
        }
        // A trailing delimiter (an empty last field) the header does not
        // have is not a column.
        if found == self.expected_fields + 1 && last_blank && !self.layout.header_trailing_delimiter
        {
            found -= 1;
        }
        if found != self.expected_fields {
            return Err(ParseError::FieldCount {
                line,
                expected: self.expected_fields,
                found,
            });
        }
        for plate in &self.cell_plates {
            let sum = self.cells.get(plate.index()).copied().unwrap_or(0.0);
            match plate {
                Plate::Total => self.total.push(sum),
                Plate::Left => self.left.push(sum),
                Plate::Right => self.right.push(sum),
            }
        }
        self.cells = [0.0; 3];
        Ok(())
    }

    fn push_field(&mut self, index: usize, field: &[u8], line: usize) -> Result<(), ParseError> {
        let channel = match self.layout.channels.get(index) {
            Some(Channel::Skip) | None => return Ok(()),
            Some(&channel) => channel,
        };
        let invalid = || ParseError::InvalidNumber {
            line,
            column: self.layout.name(index),
        };
        let value = parse_field(field, self.layout.decimal_comma).ok_or_else(invalid)?;
        match channel {
            Channel::Time => {
                let t = value * self.layout.time_scale;
                if !t.is_finite() {
                    return Err(invalid());
                }
                self.time.push(t, line)?;
            }
            Channel::Total => self.total.push(value * self.layout.force_scale),
            Channel::Left => self.left.push(value * self.layout.force_scale),
            Channel::Right => self.right.push(value * self.layout.force_scale),
            Channel::CopX => self.cop_x.push(value * self.layout.cop_scale),
            Channel::CopY => self.cop_y.push(value * self.layout.cop_scale),
            Channel::PlateCopX(plate) | Channel::PlateCopY(plate) => {
                let side = usize::from(plate == Plate::Right);
                if let Some(cop) = self.plate_cop.get_mut(side) {
                    let v = value * self.layout.cop_scale;
                    if matches!(channel, Channel::PlateCopX(_)) {
                        cop.x.push(v);
                    } else {
                        cop.y.push(v);
                    }
                }
            }
            Channel::Cell(plate, _) => {
                if let Some(sum) = self.cells.get_mut(plate.index()) {
                    *sum += value * self.layout.force_scale;
                }
            }
            Channel::Skip => {}
        }
        Ok(())
    }

    /// Builds the recording once all rows are in.
    fn finish(self, preamble: Preamble, opts: &ParseOptions) -> Result<Recording, ParseError> {
        let dual = self.layout.is_dual();
        let samples = if dual {
            self.left.len()
        } else {
            self.total.len()
        };
        if samples == 0 {
            return Err(ParseError::Empty);
        }
        if samples < 2 {
            return Err(ParseError::TooFewSamples {
                found: samples,
                needed: 2,
            });
        }
        let summary = self.time.summary();
        let sample_rate = resolve_sample_rate(
            opts.sample_rate_hz,
            preamble.rate_hz,
            summary.map(|(_, hz)| hz),
        )?;
        let cop = if self.layout.has_plate_cop() {
            let [left, right] = &self.plate_cop;
            Some(CentreOfPressure::combined(
                &self.left,
                &self.right,
                left,
                right,
            ))
        } else {
            self.layout.has(Channel::CopX).then_some(CentreOfPressure {
                x: self.cop_x,
                y: self.cop_y,
            })
        };
        let plates = if dual {
            Plates::Dual {
                left: self.left,
                right: self.right,
            }
        } else {
            Plates::Single { fz: self.total }
        };
        Ok(Recording {
            sample_rate,
            plates,
            cop,
            timing: summary.map(|(timing, _)| timing),
            metadata: preamble.metadata,
        })
    }
}

/// A row of only whitespace and delimiters (spreadsheets pad with these).
fn is_blank_row(row: &[u8], delimiter: Option<u8>) -> bool {
    match row.first() {
        None => true,
        Some(&b) if b.is_ascii_whitespace() || Some(b) == delimiter => row
            .iter()
            .all(|&b| b.is_ascii_whitespace() || Some(b) == delimiter),
        Some(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::parse_recording;

    fn parse(text: &str) -> Result<Recording, ParseError> {
        parse_recording("x.csv", text.as_bytes(), &ParseOptions::default())
    }

    #[test]
    fn mhp_single_plate() {
        let r = parse("# sample_rate_hz: 1000\ntime_s,fz_n\n0.000,800.5\n0.001,801\n").unwrap();
        assert_eq!(r.sample_rate.hz(), 1000.0);
        assert_eq!(
            r.plates,
            Plates::Single {
                fz: vec![800.5, 801.0]
            }
        );
    }

    #[test]
    fn mhp_dual_plate_kgf_with_cop() {
        let r = parse(
            "# units: kgf\n# subject: A\ntime_s,fz_left_kgf,fz_right_kgf,cop_x_m,cop_y_m\n0,40,41,0.01,0.02\n0.002,40,41,0.01,0.02\n",
        )
        .unwrap();
        assert_eq!(r.sample_rate.hz(), 500.0);
        let Plates::Dual { left, .. } = &r.plates else {
            panic!("not dual")
        };
        assert!((left[0] - 40.0 * 9.806_65).abs() < 1e-9);
        assert!(r.cop.is_some());
        assert_eq!(r.metadata.subject.as_ref().map(Subject::expose), Some("A"));
    }

    #[test]
    fn semicolon_decimal_comma_no_time() {
        let r = parse("Sample Rate: 500 Hz\nLinks;Rechts\n400,5;399,5\n401,0;398,0\n").unwrap();
        assert_eq!(r.sample_rate.hz(), 500.0);
        assert_eq!(
            r.plates,
            Plates::Dual {
                left: vec![400.5, 401.0],
                right: vec![399.5, 398.0]
            }
        );
    }

    #[test]
    fn tab_separated_named_sides_time_in_ms() {
        let r =
            parse("Time (ms)\tFz Left (N)\tFz Right (N)\tFx\n0\t1\t2\t9\n1\t1\t2\t9\n2\t1\t2\t9\n")
                .unwrap();
        assert!((r.sample_rate.hz() - 1000.0).abs() < 1e-9);
        assert_eq!(r.plates.len(), 3);
    }

    #[test]
    fn single_column_without_header_needs_rate() {
        let err = parse("800\n801\n").unwrap_err();
        assert!(matches!(err, ParseError::MissingSampleRate), "{err}");
        let r = parse_recording(
            "x.txt",
            "800\n801\n".as_bytes(),
            &ParseOptions::default().with_sample_rate(1000.0),
        )
        .unwrap();
        assert_eq!(r.len(), 2);
    }

    #[test]
    fn errors_name_line_and_column() {
        let err = parse("time_s,fz_n\n0,1\n0.001,abc\n").unwrap_err();
        assert_eq!(err.to_string(), "line 3: column 'fz_n' is not a number");
        let err = parse("time_s,fz_n\n0,1\n0.001\n").unwrap_err();
        assert_eq!(err.line(), Some(3));
        let err = parse("time_s,fz_left_n\n0,1\n").unwrap_err();
        assert!(matches!(err, ParseError::UnpairedColumn { .. }), "{err}");
    }

    /// The refusal every unrecognised header gets: by position, with the
    /// names the parser accepts, never the file's own words.
    fn assert_unknown_columns(text: &str, positions: &str, hidden: &[&str]) {
        let err = parse(text).unwrap_err();
        assert_eq!(err.code(), "unknown_columns", "{err}");
        assert_eq!(err.line(), Some(1));
        let message = err.to_string();
        for expected in [
            "line 1: no column is recognised as vertical force",
            positions,
            "time_s or time_ms",
            "fz_n for one plate",
            "fz_left_n and fz_right_n for two",
            "cop_x_m and cop_y_m",
            "column map",
        ] {
            assert!(message.contains(expected), "{expected:?} not in {message}");
        }
        for word in hidden {
            assert!(!format!("{err} {err:?}").contains(word), "{word} echoed");
        }
    }

    #[test]
    fn unknown_columns_are_refused_not_guessed() {
        assert_unknown_columns(
            "foo,bar\n400,400\n401,399\n",
            "(columns 1 and 2 not recognised)",
            &["foo", "bar"],
        );
        assert_unknown_columns(
            "sec,reading\n0.000,800\n0.001,801\n",
            "(columns 1 and 2 not recognised)",
            &["sec,", "reading"],
        );
        assert_unknown_columns("kraft\n800\n801\n", "(column 1 not recognised)", &["kraft"]);
        // A recognised time column does not make an unknown one force.
        assert_unknown_columns(
            "time_s;Jane Roe\n0;800\n0,001;801\n",
            "(column 2 not recognised)",
            &["Jane"],
        );
    }

    #[test]
    fn headers_without_force_or_unknown_columns_keep_their_error() {
        let err = parse("time_s,cop_x_m,cop_y_m\n0,0,0\n0.001,0,0\n").unwrap_err();
        assert!(
            matches!(err, ParseError::NoForceColumn { line: 1 }),
            "{err}"
        );
    }

    #[test]
    fn unknown_columns_beside_a_recognised_force_are_ignored() {
        let r = parse("time_s,fz_n,marker\n0,800,a\n0.001,801,b\n").unwrap();
        assert_eq!(
            r.plates,
            Plates::Single {
                fz: vec![800.0, 801.0]
            }
        );
    }

    #[test]
    fn bare_side_names_are_plates_in_either_order() {
        let r = parse("Sample Rate: 500 Hz\nRechts;Links\n400,5;399,5\n401,0;398,0\n").unwrap();
        assert_eq!(
            r.plates,
            Plates::Dual {
                left: vec![399.5, 398.0],
                right: vec![400.5, 401.0]
            }
        );
        let r = parse("time_s,Left (kgf),Right (kgf)\n0,40,41\n0.001,40,41\n").unwrap();
        let Plates::Dual { left, .. } = &r.plates else {
            panic!("not dual")
        };
        assert!((left[0] - 40.0 * 9.806_65).abs() < 1e-9);
        // A side word with other words is not a force name.
        assert!(matches!(
            parse("left foot,right foot\n1,2\n3,4\n"),
            Err(ParseError::UnknownColumns { .. })
        ));
    }

    fn parse_mapped(text: &str, roles: &[ColumnRole]) -> Result<Recording, ParseError> {
        let opts = ParseOptions::default()
            .with_sample_rate(1000.0)
            .with_columns(ColumnMap::new(roles.iter().copied()));
        parse_recording("x.csv", text.as_bytes(), &opts)
    }

    #[test]
    fn a_column_map_reads_unknown_columns() {
        let opts = ParseOptions::default()
            .with_columns(ColumnMap::new([ColumnRole::TimeSeconds, ColumnRole::Force]));
        let r = parse_recording(
            "x.csv",
            "sec,reading\n0.000,800\n0.001,801\n".as_bytes(),
            &opts,
        )
        .unwrap();
        assert!((r.sample_rate.hz() - 1000.0).abs() < 1e-6);
        assert_eq!(
            r.plates,
            Plates::Single {
                fz: vec![800.0, 801.0]
            }
        );
        let r = parse_mapped(
            "foo,bar\n400,399\n401,398\n",
            &[ColumnRole::ForceLeft, ColumnRole::ForceRight],
        )
        .unwrap();
        assert_eq!(
            r.plates,
            Plates::Dual {
                left: vec![400.0, 401.0],
                right: vec![399.0, 398.0]
            }
        );
    }

    #[test]
    fn a_column_map_overrides_names_and_reads_headerless_rows() {
        // The header's own names are not interpreted.
        let r = parse_mapped(
            "fz_left_n,fz_right_n\n400,399\n401,398\n",
            &[ColumnRole::Ignore, ColumnRole::Force],
        )
        .unwrap();
        assert_eq!(
            r.plates,
            Plates::Single {
                fz: vec![399.0, 398.0]
            }
        );
        // A first row of numbers is data; ms time is scaled.
        let opts = ParseOptions::default().with_columns(ColumnMap::new([
            ColumnRole::TimeMilliseconds,
            ColumnRole::ForceLeft,
            ColumnRole::ForceRight,
        ]));
        let r = parse_recording("x.csv", "0;400,5;399\n2;401;398\n".as_bytes(), &opts).unwrap();
        assert!((r.sample_rate.hz() - 500.0).abs() < 1e-6);
        assert_eq!(r.len(), 2);
        // Trailing delimiters, on a header or on headerless rows.
        let roles = [ColumnRole::ForceLeft, ColumnRole::ForceRight];
        assert_eq!(parse_mapped("a,b,\n1,2,\n3,4,\n", &roles).unwrap().len(), 2);
        assert_eq!(parse_mapped("1,2,\n3,4,\n", &roles).unwrap().len(), 2);
    }

    #[test]
    fn column_map_errors_name_positions() {
        let err = parse_mapped("a,b,c\n1,2,3\n", &[ColumnRole::Force]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "line 1: 3 column(s) in the file but 1 in the column map"
        );
        assert_eq!(err.code(), "column_count_mismatch");
        let err = parse_mapped(
            "Jane,Roe\n1,2\n3,x\n",
            &[ColumnRole::Ignore, ColumnRole::Force],
        )
        .unwrap_err();
        assert_eq!(err.to_string(), "line 3: column 'column 2' is not a number");
        let err =
            parse_mapped("a,b\n1,2\n", &[ColumnRole::ForceLeft, ColumnRole::Ignore]).unwrap_err();
        assert!(matches!(err, ParseError::UnpairedColumn { .. }), "{err}");
        let err = parse_mapped("a,b\n1,2\n", &[ColumnRole::Force, ColumnRole::Force]).unwrap_err();
        assert!(matches!(err, ParseError::DuplicateColumn { .. }), "{err}");
    }

    #[test]
    fn side_and_body_mass_round_trip_through_mhp_csv() {
        let r = parse(
            "# sample_rate_hz: 500\n# test: single_leg_hop_right\n# body_mass_kg: 71.5\nfz_n\n700\n701\n",
        )
        .unwrap();
        assert_eq!(r.metadata.test, Some(TrialKind::SingleLegHop));
        assert_eq!(r.metadata.side, Some(Side::Right));
        assert_eq!(r.metadata.body_mass_kg, Some(71.5));
        let again = parse(&to_mhp_csv(&r)).unwrap();
        assert_eq!(again.metadata.test, r.metadata.test);
        assert_eq!(again.metadata.side, r.metadata.side);
        assert_eq!(again.metadata.body_mass_kg, r.metadata.body_mass_kg);
    }

    #[test]
    fn round_trip_through_mhp_csv() {
        let r = parse("# sample_rate_hz: 1000\n# test: cmj\ntime_s,fz_n\n0,800.5\n0.001,801\n")
            .unwrap();
        let again = parse(&to_mhp_csv(&r)).unwrap();
        assert_eq!(r.plates, again.plates);
        assert_eq!(r.sample_rate, again.sample_rate);
        assert_eq!(r.metadata.test, again.metadata.test);
    }
}
