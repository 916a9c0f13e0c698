//! C3D files (the biomechanics standard; "The C3D File Format User Guide",
//! c3d.org): the header, the parameter section and the analog data, read
//! into the vertical force of one or two force plates.
//!
//! What is read:
//!
//! * **Header** (512-byte block 1): parameter block (byte 1), key `0x50`
//!   (byte 2), 3D points per frame (word 2), analog samples per frame (word
//!   3), first and last frame (words 4–5), scale factor (words 7–8, a float;
//!   negative means the data are floats), data start block (word 9), analog
//!   samples per channel per frame (word 10), frame rate (words 11–12).
//! * **Processor type**: byte 4 of the parameter section: 84 Intel
//!   (little-endian integers and IEEE floats), 85 DEC (little-endian
//!   integers; VAX floats, read as IEEE with their 16-bit halves swapped and
//!   divided by 4), 86 MIPS (big-endian integers and IEEE floats).
//! * **Parameters**: groups and parameters (name, id, offset to the next
//!   record, type −1 char / 1 byte / 2 int16 / 4 float, dimensions, data).
//!   Used: `POINT:USED`, `POINT:FRAMES`, `POINT:RATE`, `POINT:DATA_START`;
//!   `ANALOG:USED`, `RATE`, `SCALE` (and `SCALE2`…), `GEN_SCALE`, `OFFSET`
//!   (and `OFFSET2`…), `FORMAT`, `UNITS`, `LABELS`; `FORCE_PLATFORM:USED`,
//!   `TYPE`, `CHANNEL`, `CORNERS`, `ORIGIN`, `CAL_MATRIX`. Parameters win
//!   over the header where both give a value (frame count, channels,
//!   samples per frame), as in ezc3d.
//! * **Analog data**: integer (int16, or uint16 when `ANALOG:FORMAT` is
//!   `UNSIGNED`) or float, per frame after the 3D points, sample by sample,
//!   channel by channel; value = (raw − OFFSET) × SCALE × GEN_SCALE.
//! * **Force plates** of type 1, 2, 3 and 4: Fx, Fy, Fz from their channels
//!   (type 3: the sums of its eight load-cell channels, Fz = fz1 + fz2 +
//!   fz3 + fz4; type 4: the 6×6 calibration matrix applied first), turned
//!   into the lab's vertical with the plate axes from `CORNERS` (as ezc3d
//!   does), with the sign chosen so that a loaded plate reads positive
//!   (files differ in whether they store the action or the reaction).
//!   One plate is a single plate; two are left (the first) and right (the
//!   second), unless their Fz labels name the sides the other way round.
//! * **Centre of pressure**, in the lab's horizontal axes (x, y) and in
//!   metres (`POINT:UNITS` `mm`, `cm` or `m`; millimetres when absent), as
//!   ezc3d computes it: type 1 gives it in its channels; types 2 and 4 from
//!   the moments about the transducer origin moved to the plate's surface
//!   (`ORIGIN`, the vector from the surface centre to the origin, its sign
//!   turned when its z points up), x = −My/Fz and y = Mx/Fz; type 3 from the
//!   load cells' positions (`ORIGIN` x and y) with the `FPCOPPOLY`
//!   correction when given. Each plate's point is placed with its axes and
//!   the centre of its `CORNERS`; two plates are combined by force, and a
//!   plate under 20 N counts for nothing (see
//!   [`crate::recording::CentreOfPressure::of_plates`]).
//!
//! Every offset, count and size is checked against the file: arbitrary
//! bytes give an error, never a panic.

use std::collections::BTreeMap;

use crate::error::ParseError;
use crate::recording::{CentreOfPressure, Metadata, Plates, Recording, SampleRate};

use super::{Format, ParseOptions};

/// Most parameter records read (real files hold a few hundred).
const MAX_RECORDS: usize = 20_000;
/// Most samples per channel read (about 28 hours at 1 kHz).
const MAX_SAMPLES: usize = 100_000_000;
const BLOCK: usize = 512;

fn invalid(problem: &'static str) -> ParseError {
    ParseError::InvalidC3d { problem }
}

fn unsupported(problem: impl Into<String>) -> ParseError {
    ParseError::UnsupportedC3d {
        problem: problem.into(),
    }
}

/// True when `head` starts like a C3D file: a parameter block number
/// (a control byte, never text) then the key byte 0x50.
pub(crate) fn looks_like_c3d(head: &[u8]) -> bool {
    matches!(head, [block, 0x50, ..] if (1..0x20).contains(block) && !block.is_ascii_whitespace())
}

/// The byte order and float format of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Processor {
    Intel,
    Dec,
    Mips,
}

/// Bounds-checked reads in the file's processor format.
#[derive(Debug, Clone, Copy)]
struct Bytes<'a> {
    data: &'a [u8],
    processor: Processor,
}

impl<'a> Bytes<'a> {
    fn slice(&self, at: usize, len: usize) -> Result<&'a [u8], ParseError> {
        let end = at.checked_add(len).ok_or(invalid("an offset overflows"))?;
        self.data
            .get(at..end)
            .ok_or(invalid("the file ends before a section it declares"))
    }

    fn u8(&self, at: usize) -> Result<u8, ParseError> {
        self.data
            .get(at)
            .copied()
            .ok_or(invalid("the file ends before a section it declares"))
    }

    fn i8(&self, at: usize) -> Result<i8, ParseError> {
        self.u8(at).map(|b| i8::from_ne_bytes([b]))
    }

    fn pair(&self, at: usize) -> Result<[u8; 2], ParseError> {
        let s = self.slice(at, 2)?;
        let (Some(&a), Some(&b)) = (s.first(), s.get(1)) else {
            return Err(invalid("the file ends before a section it declares"));
        };
        Ok([a, b])
    }

    fn u16(&self, at: usize) -> Result<u16, ParseError> {
        let b = self.pair(at)?;
        Ok(match self.processor {
            Processor::Mips => u16::from_be_bytes(b),
            Processor::Intel | Processor::Dec => u16::from_le_bytes(b),
        })
    }

    fn i16(&self, at: usize) -> Result<i16, ParseError> {
        self.u16(at).map(|v| i16::from_ne_bytes(v.to_ne_bytes()))
    }

    fn f32(&self, at: usize) -> Result<f32, ParseError> {
        let s = self.slice(at, 4)?;
        let mut b = [0u8; 4];
        for (d, x) in b.iter_mut().zip(s) {
            *d = *x;
        }
        Ok(decode_f32(b, self.processor))
    }
}

/// A float in a processor's format.
fn decode_f32(b: [u8; 4], processor: Processor) -> f32 {
    match processor {
        Processor::Intel => f32::from_le_bytes(b),
        Processor::Mips => f32::from_be_bytes(b),
        // VAX F_floating: the 16-bit halves swapped relative to IEEE, an
        // exponent bias of 128 and the binary point one place further
        // left: read as IEEE, it is four times too large.
        Processor::Dec => f32::from_le_bytes([b[2], b[3], b[0], b[1]]) / 4.0,
    }
}

/// A parameter's data.
#[derive(Debug, Clone, PartialEq)]
enum Value {
    Chars(Vec<u8>),
    Ints(Vec<i32>),
    Floats(Vec<f64>),
}

/// A parameter: its dimensions (first varies fastest) and data.
#[derive(Debug, Clone, PartialEq)]
struct Parameter {
    dims: Vec<usize>,
    value: Value,
}

impl Parameter {
    fn ints(&self) -> Vec<i64> {
        match &self.value {
            Value::Ints(v) => v.iter().map(|&x| i64::from(x)).collect(),
            Value::Floats(v) => v.iter().map(|&x| x.round() as i64).collect(),
            Value::Chars(_) => Vec::new(),
        }
    }

    fn floats(&self) -> Vec<f64> {
        match &self.value {
            Value::Floats(v) => v.clone(),
            Value::Ints(v) => v.iter().map(|&x| f64::from(x)).collect(),
            Value::Chars(_) => Vec::new(),
        }
    }

    fn first_int(&self) -> Option<i64> {
        self.ints().first().copied()
    }

    fn first_float(&self) -> Option<f64> {
        self.floats().first().copied()
    }

    /// Strings of a char array: one per column of the first dimension
    /// (trailing spaces removed); a one-dimensional array is one string.
    fn strings(&self) -> Vec<String> {
        let Value::Chars(bytes) = &self.value else {
            return Vec::new();
        };
        let text = |b: &[u8]| {
            String::from_utf8_lossy(b)
                .trim_end_matches([' ', '\0'])
                .to_owned()
        };
        match self.dims.as_slice() {
            [] | [_] => vec![text(bytes)],
            [len, ..] if *len > 0 => bytes.chunks(*len).map(text).collect(),
            _ => Vec::new(),
        }
    }
}

/// Parameters by `GROUP:NAME` (upper case).
type Parameters = BTreeMap<String, Parameter>;

/// Reads a C3D file into a recording.
pub(crate) fn parse_c3d(data: &[u8], opts: &ParseOptions) -> Result<Recording, ParseError> {
    if data.len() < BLOCK {
        return Err(invalid("shorter than its 512-byte header"));
    }
    if !looks_like_c3d(data) {
        return Err(invalid(
            "the header's second byte is not the C3D key 0x50, or its first is not a block number",
        ));
    }
    let param_block = usize::from(*data.first().unwrap_or(&0));
    let param_start = (param_block - 1) * BLOCK;
    let processor = match data.get(param_start + 3) {
        Some(84) => Processor::Intel,
        Some(85) => Processor::Dec,
        Some(86) => Processor::Mips,
        Some(_) => {
            return Err(unsupported(
                "processor type is not 84 (Intel), 85 (DEC) or 86 (MIPS)",
            ));
        }
        None => {
            return Err(invalid(
                "the parameter section lies beyond the end of the file",
            ));
        }
    };
    let bytes = Bytes { data, processor };
    let header = Header::read(&bytes)?;
    let params = read_parameters(&bytes, param_start)?;
    let layout = Layout::of(&header, &params)?;
    let unsigned = params
        .get("ANALOG:FORMAT")
        .and_then(|p| p.strings().into_iter().next())
        .is_some_and(|f| f.trim().eq_ignore_ascii_case("UNSIGNED"));
    let channels = read_analog(&bytes, &layout, unsigned)?;
    let (plates, cop) = force_plates(&params, &channels, layout.channels)?;
    let rate = opts.sample_rate_hz.unwrap_or(layout.analog_rate);
    let sample_rate = SampleRate::new(rate).ok_or(ParseError::InvalidSampleRate {
        source_name: if opts.sample_rate_hz.is_some() {
            "options"
        } else {
            "header"
        },
    })?;
    let n = plates.len();
    if n == 0 {
        return Err(ParseError::Empty);
    }
    if n < 2 {
        return Err(ParseError::TooFewSamples {
            found: n,
            needed: 2,
        });
    }
    Ok(Recording {
        sample_rate,
        plates,
        cop: Some(cop),
        timing: None,
        metadata: Metadata {
            device: Some("c3d".to_owned()),
            format: Some(Format::C3d),
            ..Metadata::default()
        },
    })
}

/// The header fields the data need.
#[derive(Debug, Clone, Copy)]
struct Header {
    points: usize,
    analog_per_frame: usize,
    first_frame: usize,
    last_frame: usize,
    scale: f32,
    data_start: usize,
    samples_per_frame: usize,
    frame_rate: f32,
}

impl Header {
    fn read(b: &Bytes<'_>) -> Result<Self, ParseError> {
        Ok(Self {
            points: usize::from(b.u16(2)?),
            analog_per_frame: usize::from(b.u16(4)?),
            first_frame: usize::from(b.u16(6)?),
            last_frame: usize::from(b.u16(8)?),
            scale: b.f32(12)?,
            data_start: usize::from(b.u16(16)?),
            samples_per_frame: usize::from(b.u16(18)?),
            frame_rate: b.f32(20)?,
        })
    }
}

/// Reads every group and parameter record of the parameter section.
fn read_parameters(b: &Bytes<'_>, start: usize) -> Result<Parameters, ParseError> {
    let blocks = usize::from(b.u8(start + 2)?).max(1);
    let end = (start + blocks * BLOCK).min(b.data.len());
    let mut groups: BTreeMap<i8, String> = BTreeMap::new();
    let mut raw: Vec<(i8, String, Parameter)> = Vec::new();
    let mut at = start + 4;
    for _ in 0..MAX_RECORDS {
        if at + 2 > end {
            break;
        }
        let name_len = usize::from(b.i8(at)?.unsigned_abs());
        if name_len == 0 {
            break;
        }
        let id = b.i8(at + 1)?;
        let name = String::from_utf8_lossy(b.slice(at + 2, name_len)?)
            .trim()
            .to_ascii_uppercase();
        let offset_at = at + 2 + name_len;
        let next = b.i16(offset_at)?;
        let body = offset_at + 2;
        if id < 0 {
            groups.insert(id.saturating_neg(), name);
        } else if id > 0 {
            raw.push((id, name, read_parameter(b, body)?));
        }
        if next <= 0 {
            break;
        }
        at = offset_at + usize::from(next.unsigned_abs());
    }
    let mut params = Parameters::new();
    for (id, name, p) in raw {
        if let Some(group) = groups.get(&id) {
            params.insert(format!("{group}:{name}"), p);
        }
    }
    Ok(params)
}

/// Reads a parameter's type, dimensions and data at `at`.
fn read_parameter(b: &Bytes<'_>, at: usize) -> Result<Parameter, ParseError> {
    let kind = b.i8(at)?;
    let ndims = usize::from(b.u8(at + 1)?);
    let dims: Vec<usize> = (0..ndims)
        .map(|k| b.u8(at + 2 + k).map(usize::from))
        .collect::<Result<_, _>>()?;
    let count = dims
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .ok_or(invalid("a parameter's dimensions overflow"))?;
    let data = at + 2 + ndims;
    let value = match kind {
        -1 => Value::Chars(b.slice(data, count)?.to_vec()),
        1 => Value::Ints(
            b.slice(data, count)?
                .iter()
                .map(|&x| i32::from(x))
                .collect(),
        ),
        2 => Value::Ints(
            (0..count)
                .map(|k| b.i16(data + 2 * k).map(i32::from))
                .collect::<Result<_, _>>()?,
        ),
        4 => Value::Floats(
            (0..count)
                .map(|k| b.f32(data + 4 * k).map(f64::from))
                .collect::<Result<_, _>>()?,
        ),
        _ => return Err(invalid("a parameter has a type other than -1, 1, 2 or 4")),
    };
    Ok(Parameter { dims, value })
}

/// The data section's shape.
#[derive(Debug, Clone, Copy)]
struct Layout {
    data_start: usize,
    frames: usize,
    points: usize,
    channels: usize,
    samples_per_frame: usize,
    float: bool,
    analog_rate: f64,
}

impl Layout {
    fn of(h: &Header, params: &Parameters) -> Result<Self, ParseError> {
        let get = |name: &str| params.get(name);
        let header_frames = if h.last_frame >= h.first_frame {
            h.last_frame - h.first_frame + 1
        } else {
            0
        };
        // POINT:FRAMES (an unsigned 16-bit count stored signed) wins when set.
        let frames = get("POINT:FRAMES")
            .and_then(Parameter::first_int)
            .map(|f| if f < 0 { f + 65_536 } else { f })
            .and_then(|f| usize::try_from(f).ok())
            .filter(|&f| f > 0)
            .unwrap_or(header_frames);
        let points = get("POINT:USED")
            .and_then(Parameter::first_int)
            .and_then(|p| usize::try_from(p).ok())
            .unwrap_or(h.points);
        let channels = get("ANALOG:USED")
            .and_then(Parameter::first_int)
            .and_then(|c| usize::try_from(c).ok())
            .unwrap_or_else(|| {
                h.analog_per_frame
                    .checked_div(h.samples_per_frame)
                    .unwrap_or(0)
            });
        let point_rate = get("POINT:RATE")
            .and_then(Parameter::first_float)
            .filter(|r| *r > 0.0)
            .unwrap_or(f64::from(h.frame_rate));
        let analog_rate_param = get("ANALOG:RATE")
            .and_then(Parameter::first_float)
            .filter(|r| r.is_finite() && *r > 0.0);
        let samples_per_frame = match analog_rate_param {
            Some(rate) if point_rate > 0.0 => (rate / point_rate).round() as usize,
            _ => h.samples_per_frame,
        }
        .max(1);
        let analog_rate = analog_rate_param.unwrap_or(point_rate * samples_per_frame as f64);
        let data_start = get("POINT:DATA_START")
            .and_then(Parameter::first_int)
            .map(|d| if d < 0 { d + 65_536 } else { d })
            .and_then(|d| usize::try_from(d).ok())
            .filter(|&d| d > 0)
            .unwrap_or(h.data_start);
        if data_start == 0 {
            return Err(invalid("the data start block is 0"));
        }
        if channels == 0 {
            return Err(unsupported(
                "no analog channels: force plates are read from analog data",
            ));
        }
        if frames.saturating_mul(samples_per_frame) > MAX_SAMPLES {
            return Err(invalid("more samples than any recording holds"));
        }
        let float = match get("POINT:SCALE").and_then(Parameter::first_float) {
            Some(scale) if scale != 0.0 => scale < 0.0,
            _ => h.scale < 0.0,
        };
        Ok(Self {
            data_start,
            frames,
            points,
            channels,
            samples_per_frame,
            float,
            analog_rate,
        })
    }
}

/// Reads every analog channel's raw values: `channels[c][i]` (integers
/// as uint16 when `unsigned`).
fn read_analog(b: &Bytes<'_>, l: &Layout, unsigned: bool) -> Result<Vec<Vec<f64>>, ParseError> {
    let size = if l.float { 4 } else { 2 };
    let point_bytes = l
        .points
        .checked_mul(4 * size)
        .ok_or(invalid("a frame size overflows"))?;
    let analog_values = l
        .channels
        .checked_mul(l.samples_per_frame)
        .ok_or(invalid("a frame size overflows"))?;
    let frame_bytes = analog_values
        .checked_mul(size)
        .and_then(|a| a.checked_add(point_bytes))
        .ok_or(invalid("a frame size overflows"))?;
    let start = (l.data_start - 1)
        .checked_mul(BLOCK)
        .ok_or(invalid("the data start overflows"))?;
    let needed = frame_bytes
        .checked_mul(l.frames)
        .and_then(|n| n.checked_add(start))
        .ok_or(invalid("the data size overflows"))?;
    if needed > b.data.len() {
        return Err(invalid("the file ends before the frames it declares"));
    }
    let samples = l.frames * l.samples_per_frame;
    let mut out = vec![Vec::with_capacity(samples); l.channels];
    for frame in 0..l.frames {
        let base = start + frame * frame_bytes + point_bytes;
        for s in 0..l.samples_per_frame {
            for (c, channel) in out.iter_mut().enumerate() {
                let at = base + (s * l.channels + c) * size;
                let raw = if l.float {
                    f64::from(b.f32(at)?)
                } else if unsigned {
                    f64::from(b.u16(at)?)
                } else {
                    f64::from(b.i16(at)?)
                };
                channel.push(raw);
            }
        }
    }
    Ok(out)
}

/// Offset and scale (times GEN_SCALE) of one analog channel.
#[derive(Debug, Clone, Copy)]
struct Scaling {
    offset: f64,
    scale: f64,
}

/// A parameter continued over `NAME`, `NAME2`, `NAME3`… (files with more
/// than 255 channels split long arrays so).
fn continued(params: &Parameters, name: &str) -> Vec<Parameter> {
    let mut out = Vec::new();
    if let Some(p) = params.get(name) {
        out.push(p.clone());
    }
    for k in 2..=64 {
        match params.get(&format!("{name}{k}")) {
            Some(p) => out.push(p.clone()),
            None => break,
        }
    }
    out
}

fn scaling(params: &Parameters, channels: usize) -> Result<Vec<Scaling>, ParseError> {
    let gen_scale = params
        .get("ANALOG:GEN_SCALE")
        .and_then(Parameter::first_float)
        .unwrap_or(1.0);
    let scales: Vec<f64> = continued(params, "ANALOG:SCALE")
        .iter()
        .flat_map(Parameter::floats)
        .collect();
    let unsigned = params
        .get("ANALOG:FORMAT")
        .and_then(|p| p.strings().into_iter().next())
        .is_some_and(|f| f.trim().eq_ignore_ascii_case("UNSIGNED"));
    let offsets: Vec<f64> = continued(params, "ANALOG:OFFSET")
        .iter()
        .flat_map(Parameter::ints)
        .map(|o| {
            if unsigned && o < 0 {
                (o + 65_536) as f64
            } else {
                o as f64
            }
        })
        .collect();
    if scales.len() < channels {
        return Err(invalid("ANALOG:SCALE has fewer entries than ANALOG:USED"));
    }
    Ok((0..channels)
        .map(|c| Scaling {
            offset: offsets.get(c).copied().unwrap_or(0.0),
            scale: scales.get(c).copied().unwrap_or(1.0) * gen_scale,
        })
        .collect())
}

/// The vertical force of each used plate, as one or two plates, and the
/// centre of pressure of them all.
fn force_plates(
    params: &Parameters,
    raw: &[Vec<f64>],
    channels: usize,
) -> Result<(Plates, CentreOfPressure), ParseError> {
    let used = params
        .get("FORCE_PLATFORM:USED")
        .and_then(Parameter::first_int)
        .unwrap_or(0);
    if used < 1 {
        return Err(unsupported(
            "no force plate (FORCE_PLATFORM:USED is 0 or missing); expected one or two plates of type 1, 2, 3 or 4",
        ));
    }
    if used > 2 {
        return Err(unsupported(format!(
            "{used} force plates; MHP reads one or two (left and right)"
        )));
    }
    let scaled = scaling(params, channels)?;
    let value = |c: usize, i: usize| -> f64 {
        let (Some(channel), Some(s)) = (raw.get(c), scaled.get(c)) else {
            return 0.0;
        };
        (channel.get(i).copied().unwrap_or(0.0) - s.offset) * s.scale
    };
    let types = params
        .get("FORCE_PLATFORM:TYPE")
        .map(Parameter::ints)
        .unwrap_or_default();
    let channel_param = params
        .get("FORCE_PLATFORM:CHANNEL")
        .ok_or(invalid("FORCE_PLATFORM:CHANNEL is missing"))?;
    let per_plate = channel_param.dims.first().copied().unwrap_or(0);
    let channel_numbers = channel_param.ints();
    let labels: Vec<String> = continued(params, "ANALOG:LABELS")
        .iter()
        .flat_map(Parameter::strings)
        .collect();
    let units: Vec<String> = continued(params, "ANALOG:UNITS")
        .iter()
        .flat_map(Parameter::strings)
        .collect();
    let samples = raw.first().map_or(0, Vec::len);
    let metres = position_unit(params);
    let mut plates: Vec<(Vec<f64>, String, CentreOfPressure)> = Vec::new();
    for p in 0..used as usize {
        let kind = types.get(p).copied().unwrap_or(0);
        let needed = match kind {
            1 | 2 | 4 => 6,
            3 => 8,
            other => {
                return Err(unsupported(format!(
                    "force plate {} has type {other}; MHP reads types 1, 2, 3 (four load cells) and 4",
                    p + 1
                )));
            }
        };
        if per_plate < needed {
            return Err(invalid(
                "FORCE_PLATFORM:CHANNEL lists fewer channels than the plate type needs",
            ));
        }
        let chans: Vec<usize> = (0..needed)
            .map(|k| {
                channel_numbers
                    .get(p * per_plate + k)
                    .and_then(|&c| usize::try_from(c).ok())
                    .filter(|&c| (1..=channels).contains(&c))
                    .map(|c| c - 1)
                    .ok_or(invalid(
                        "FORCE_PLATFORM:CHANNEL names a channel that does not exist",
                    ))
            })
            .collect::<Result<_, _>>()?;
        let fz_channel = if kind == 3 {
            chans.get(4).copied()
        } else {
            chans.get(2).copied()
        }
        .unwrap_or(0);
        if let Some(unit) = units.get(fz_channel) {
            let u = unit.trim().to_ascii_uppercase();
            if !matches!(u.as_str(), "" | "N" | "NEWTON" | "NEWTONS") {
                return Err(unsupported(
                    "force channels are not in newtons (ANALOG:UNITS); expected N",
                ));
            }
        }
        let cal = calibration(params, p, kind)?;
        let frame = PlateFrame::of(params, p);
        let origin = plate_origin(params, p, kind);
        let poly = cop_polynomial(params, p, kind);
        let mut fz = Vec::with_capacity(samples);
        let mut cop = CentreOfPressure {
            x: Vec::with_capacity(samples),
            y: Vec::with_capacity(samples),
        };
        for i in 0..samples {
            let ch = |k: usize| chans.get(k).map_or(0.0, |&c| value(c, i));
            let (force, on_plate) = match kind {
                1 => {
                    let force = [ch(0), ch(1), ch(2)];
                    (force, [ch(3), ch(4)])
                }
                3 => {
                    let cells = [ch(4), ch(5), ch(6), ch(7)];
                    let force = [ch(0) + ch(1), ch(2) + ch(3), cells.iter().sum()];
                    let moment = add(
                        [
                            origin[1] * (cells[0] + cells[1] - cells[2] - cells[3]),
                            origin[0] * (cells[1] + cells[2] - cells[0] - cells[3]),
                            0.0,
                        ],
                        cross(force, [0.0, 0.0, origin[2]]),
                    );
                    (force, poly.correct(cop_from_moment(force, moment)))
                }
                _ => {
                    let mut data: [f64; 6] = [ch(0), ch(1), ch(2), ch(3), ch(4), ch(5)];
                    if kind == 4 {
                        let row = |r: usize| (0..6).map(|j| cal[r][j] * data[j]).sum::<f64>();
                        data = [row(0), row(1), row(2), row(3), row(4), row(5)];
                    }
                    let force = [data[0], data[1], data[2]];
                    let moment = add([data[3], data[4], data[5]], cross(force, origin));
                    (force, cop_from_moment(force, moment))
                }
            };
            fz.push(frame.vertical(force));
            let [x, y] = frame.place(on_plate);
            cop.x.push(x * metres);
            cop.y.push(y * metres);
        }
        // A loaded plate reads positive, whichever force the file stores.
        let total: f64 = fz.iter().filter(|v| v.is_finite()).sum();
        if total < 0.0 {
            for v in &mut fz {
                *v = -*v;
            }
        }
        let label = labels.get(fz_channel).cloned().unwrap_or_default();
        plates.push((fz, label, cop));
    }
    let cop = CentreOfPressure::of_plates(
        &plates
            .iter()
            .map(|(fz, _, cop)| (fz.as_slice(), cop))
            .collect::<Vec<_>>(),
    );
    let mut plates = plates.into_iter();
    let plates = match (plates.next(), plates.next()) {
        (Some((fz, _, _)), None) => Plates::Single { fz },
        (Some((a, la, _)), Some((b, lb, _))) => {
            let says = |l: &str, side: &str| l.to_ascii_lowercase().contains(side);
            if says(&la, "right") && says(&lb, "left") {
                Plates::Dual { left: b, right: a }
            } else {
                Plates::Dual { left: a, right: b }
            }
        }
        _ => return Err(ParseError::Empty),
    };
    Ok((plates, cop))
}

fn add(a: [f64; 3], b: [f64; 3]) -> [f64; 3] {
    [a[0] + b[0], a[1] + b[1], a[2] + b[2]]
}

fn sub(a: [f64; 3], b: [f64; 3]) -> [f64; 3] {
    [a[0] - b[0], a[1] - b[1], a[2] - b[2]]
}

fn cross(a: [f64; 3], b: [f64; 3]) -> [f64; 3] {
    [
        a[1] * b[2] - a[2] * b[1],
        a[2] * b[0] - a[0] * b[2],
        a[0] * b[1] - a[1] * b[0],
    ]
}

/// The centre of pressure on the plate's surface, in the plate's axes, from
/// the force and the moment about the surface centre: the point where the
/// force meets the surface leaves no horizontal moment.
fn cop_from_moment(force: [f64; 3], moment: [f64; 3]) -> [f64; 2] {
    [-moment[1] / force[2], moment[0] / force[2]]
}

/// Metres per unit of the file's positions (`POINT:UNITS`).
fn position_unit(params: &Parameters) -> f64 {
    let unit = params
        .get("POINT:UNITS")
        .and_then(|p| p.strings().into_iter().next())
        .map(|u| u.trim().to_ascii_lowercase());
    match unit.as_deref() {
        Some("m") => 1.0,
        Some("cm") => 0.01,
        _ => 0.001,
    }
}

/// The plate's transducer origin relative to its surface centre, in the
/// plate's axes (`FORCE_PLATFORM:ORIGIN`): below the surface, so a z that
/// points up means the file stores the opposite vector; type 1 has only
/// the depth.
fn plate_origin(params: &Parameters, plate: usize, kind: i64) -> [f64; 3] {
    let values = params
        .get("FORCE_PLATFORM:ORIGIN")
        .map(Parameter::floats)
        .unwrap_or_default();
    let at = |k: usize| values.get(plate * 3 + k).copied().unwrap_or(0.0);
    let mut origin = [at(0), at(1), at(2)];
    if kind == 1 {
        origin[0] = 0.0;
        origin[1] = 0.0;
    }
    if origin[2] > 0.0 {
        origin = origin.map(|v| -v);
    }
    origin
}

/// A type-3 plate's centre-of-pressure correction (`FORCE_PLATFORM:FPCOPPOLY`,
/// twelve coefficients a plate, Kistler's): none for other types or without
/// the parameter.
#[derive(Debug, Clone, Copy)]
struct CopPolynomial([f64; 12]);

fn cop_polynomial(params: &Parameters, plate: usize, kind: i64) -> CopPolynomial {
    let mut c = [0.0; 12];
    if kind == 3
        && let Some(values) = params
            .get("FORCE_PLATFORM:FPCOPPOLY")
            .map(Parameter::floats)
    {
        for (k, v) in c.iter_mut().enumerate() {
            *v = values.get(plate * 12 + k).copied().unwrap_or(0.0);
        }
    }
    CopPolynomial(c)
}

impl CopPolynomial {
    fn correct(self, [x, y]: [f64; 2]) -> [f64; 2] {
        let c = self.0;
        let dx = (c[0] * y.powi(4) + c[1] * y * y + c[2]) * x.powi(3)
            + (c[3] * y.powi(4) + c[4] * y * y + c[5]) * x;
        let dy = (c[6] * x.powi(4) + c[7] * x * x + c[8]) * y.powi(3)
            + (c[9] * x.powi(4) + c[10] * x * x + c[11]) * y;
        [x - dx, y - dy]
    }
}

/// A plate's axes in the lab (columns x, y, z: x along corner 1 − corner 2,
/// y along corner 1 − corner 4 made square to x, z = x × y, as ezc3d builds
/// them) and the centre of its corners; the lab's own axes without corners.
#[derive(Debug, Clone, Copy)]
struct PlateFrame {
    /// `axes[r][c]`: lab component r of plate axis c.
    axes: [[f64; 3]; 3],
    centre: [f64; 3],
}

impl PlateFrame {
    fn of(params: &Parameters, plate: usize) -> Self {
        let lab = Self {
            axes: [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]],
            centre: [0.0; 3],
        };
        let corners = params
            .get("FORCE_PLATFORM:CORNERS")
            .map(Parameter::floats)
            .unwrap_or_default();
        let corner = |k: usize| -> Option<[f64; 3]> {
            let at = plate * 12 + k * 3;
            Some([
                *corners.get(at)?,
                *corners.get(at + 1)?,
                *corners.get(at + 2)?,
            ])
        };
        let (Some(c0), Some(c1), Some(c2), Some(c3)) = (corner(0), corner(1), corner(2), corner(3))
        else {
            return lab;
        };
        let norm = |a: [f64; 3]| {
            let n = (a[0] * a[0] + a[1] * a[1] + a[2] * a[2]).sqrt();
            if n > 0.0 && n.is_finite() {
                Some([a[0] / n, a[1] / n, a[2] / n])
            } else {
                None
            }
        };
        let x = sub(c0, c1);
        let z = cross(x, sub(c0, c3));
        let y = cross(z, x);
        let (Some(x), Some(y), Some(z)) = (norm(x), norm(y), norm(z)) else {
            return lab;
        };
        let centre = add(add(c0, c1), add(c2, c3)).map(|v| v / 4.0);
        if !centre.iter().all(|v| v.is_finite()) {
            return lab;
        }
        Self {
            axes: [[x[0], y[0], z[0]], [x[1], y[1], z[1]], [x[2], y[2], z[2]]],
            centre,
        }
    }

    /// The lab's vertical component of a force in the plate's axes.
    fn vertical(&self, force: [f64; 3]) -> f64 {
        let r = self.axes[2];
        r[0] * force[0] + r[1] * force[1] + r[2] * force[2]
    }

    /// A point on the plate's surface (plate axes) in the lab's x and y.
    fn place(&self, [px, py]: [f64; 2]) -> [f64; 2] {
        let at = |r: usize| self.axes[r][0] * px + self.axes[r][1] * py + self.centre[r];
        [at(0), at(1)]
    }
}

/// A type-4 plate's 6×6 calibration matrix (`cal[row][column]`, stored
/// with the row index varying fastest); the identity otherwise.
fn calibration(params: &Parameters, plate: usize, kind: i64) -> Result<[[f64; 6]; 6], ParseError> {
    let mut cal = [[0.0; 6]; 6];
    for (k, row) in cal.iter_mut().enumerate() {
        if let Some(x) = row.get_mut(k) {
            *x = 1.0;
        }
    }
    if kind != 4 {
        return Ok(cal);
    }
    let p = params.get("FORCE_PLATFORM:CAL_MATRIX").ok_or(invalid(
        "a type-4 force plate without FORCE_PLATFORM:CAL_MATRIX",
    ))?;
    let values = p.floats();
    if values.is_empty() {
        return Ok(cal);
    }
    let (rows, cols) = (
        p.dims.first().copied().unwrap_or(0),
        p.dims.get(1).copied().unwrap_or(0),
    );
    if rows < 6 || cols < 6 {
        return Err(invalid("FORCE_PLATFORM:CAL_MATRIX is smaller than 6 × 6"));
    }
    let skip = rows * cols;
    for (i, row) in cal.iter_mut().enumerate() {
        for (j, x) in row.iter_mut().enumerate() {
            *x = values
                .get(skip * plate + j * rows + i)
                .copied()
                .ok_or(invalid("FORCE_PLATFORM:CAL_MATRIX has too few values"))?;
        }
    }
    Ok(cal)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dec_floats_read_as_vax() {
        // VAX F_floating 1.0: exponent 129, fraction 0 → bytes 0x80 0x40 0 0.
        assert_eq!(decode_f32([0x80, 0x40, 0, 0], Processor::Dec), 1.0);
        // −2.5: sign set, exponent 130, fraction 0.25 → word 0xC120.
        assert_eq!(decode_f32([0x20, 0xC1, 0, 0], Processor::Dec), -2.5);
        assert_eq!(decode_f32(1.5f32.to_be_bytes(), Processor::Mips), 1.5);
        assert_eq!(decode_f32(1.5f32.to_le_bytes(), Processor::Intel), 1.5);
    }

    #[test]
    fn sniffing() {
        assert!(looks_like_c3d(&[2, 0x50, 0, 0]));
        assert!(!looks_like_c3d(b"2P,fz"));
        assert!(!looks_like_c3d(&[0, 0x50]));
        assert!(!looks_like_c3d(&[b'\n', 0x50]));
    }
}
