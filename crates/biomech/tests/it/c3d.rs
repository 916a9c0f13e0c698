//! The C3D reader against files written here, to the C3D user guide's
//! layout (a small writer of our own): every processor format, integer and
//! float storage, force-plate types 1 to 4, labels naming the sides,
//! refusals that name what is supported, and arbitrary or damaged bytes.

use mhp_biomech::recording::Plates;
use mhp_biomech::synth::{self, CmjSpec};
use mhp_biomech::{
    Format, ParseError, ParseOptions, analyze_bytes, detect_format, parse_recording,
};
use proptest::prelude::*;
use proptest::test_runner::RngSeed;

/// Processor codes of the C3D parameter section.
const INTEL: u8 = 84;
const DEC: u8 = 85;
const MIPS: u8 = 86;

/// What to write.
#[derive(Debug, Clone)]
struct Spec {
    processor: u8,
    float: bool,
    unsigned: bool,
    samples_per_frame: usize,
    analog_rate: f64,
    /// Plate type and its vertical force in newtons, per plate.
    plates: Vec<(i16, Vec<f64>)>,
    /// The Fz label of each plate.
    labels: Vec<&'static str>,
    /// Plates' z axes point down into them (the action force reads
    /// positive), or up.
    z_down: bool,
}

impl Spec {
    fn new(plates: Vec<(i16, Vec<f64>)>) -> Self {
        Self {
            processor: INTEL,
            float: false,
            unsigned: false,
            samples_per_frame: 10,
            analog_rate: 1000.0,
            labels: vec!["Fz1", "Fz2", "Fz3"],
            plates,
            z_down: true,
        }
    }
}

/// Bytes in a processor's format.
struct Out {
    processor: u8,
    bytes: Vec<u8>,
}

impl Out {
    fn u8(&mut self, v: u8) {
        self.bytes.push(v);
    }
    fn i8(&mut self, v: i8) {
        self.bytes.push(v.to_ne_bytes()[0]);
    }
    fn u16(&mut self, v: u16) {
        let b = if self.processor == MIPS {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        };
        self.bytes.extend(b);
    }
    fn i16(&mut self, v: i16) {
        self.u16(u16::from_ne_bytes(v.to_ne_bytes()));
    }
    fn f32(&mut self, v: f32) {
        let b = match self.processor {
            MIPS => v.to_be_bytes(),
            // VAX F_floating: four times the IEEE value, halves swapped.
            DEC => {
                let b = (v * 4.0).to_le_bytes();
                [b[2], b[3], b[0], b[1]]
            }
            _ => v.to_le_bytes(),
        };
        self.bytes.extend(b);
    }
    fn pad_to_block(&mut self) {
        while !self.bytes.len().is_multiple_of(512) {
            self.bytes.push(0);
        }
    }
}

enum Data {
    Int(Vec<i16>),
    Float(Vec<f32>),
    Chars(Vec<u8>),
}

struct Param {
    group: i8,
    name: &'static str,
    dims: Vec<u8>,
    data: Data,
}

fn chars(strings: &[&str], len: usize) -> (Vec<u8>, Vec<u8>) {
    let mut out = Vec::new();
    for s in strings {
        let mut b = s.as_bytes().to_vec();
        b.resize(len, b' ');
        out.extend(b);
    }
    (vec![len as u8, strings.len() as u8], out)
}

/// Writes a C3D file: header, parameters (POINT, ANALOG, FORCE_PLATFORM),
/// two 3D points and the analog channels per frame.
fn write(spec: &Spec) -> Vec<u8> {
    let n = spec.plates.first().map_or(0, |p| p.1.len());
    let spf = spec.samples_per_frame;
    let frames = n / spf;
    // Channels: each plate's, in order.
    let mut channels: Vec<Vec<f64>> = Vec::new();
    let mut channel_numbers: Vec<i16> = Vec::new();
    let mut per_plate = 0usize;
    let mut cal = Vec::new();
    for (kind, fz) in &spec.plates {
        let sign = if spec.z_down { 1.0 } else { -1.0 };
        let fz: Vec<f64> = fz.iter().map(|f| sign * f).collect();
        let zero = vec![0.0; n];
        let fx = vec![100.0; n];
        let set: Vec<Vec<f64>> = match kind {
            3 => vec![
                zero.clone(),
                zero.clone(),
                zero.clone(),
                zero.clone(),
                fz.iter().map(|f| 0.30 * f).collect(),
                fz.iter().map(|f| 0.20 * f).collect(),
                fz.iter().map(|f| 0.25 * f).collect(),
                fz.iter().map(|f| 0.25 * f).collect(),
            ],
            // Fz = 2·ch3 + 0.1·ch1 through the calibration matrix.
            4 => vec![
                fx.clone(),
                zero.clone(),
                fz.iter().map(|f| (f - 10.0) / 2.0).collect(),
                zero.clone(),
                zero.clone(),
                zero.clone(),
            ],
            _ => vec![
                zero.clone(),
                zero.clone(),
                fz.clone(),
                zero.clone(),
                zero.clone(),
                zero.clone(),
            ],
        };
        per_plate = per_plate.max(set.len());
        let first = channels.len();
        for (k, c) in set.into_iter().enumerate() {
            channel_numbers.push((first + k + 1) as i16);
            channels.push(c);
        }
        let mut m = [0.0f32; 36];
        for k in 0..6 {
            m[k * 6 + k] = 1.0;
        }
        if *kind == 4 {
            // cal(row 2, column 2) = 2, cal(row 2, column 0) = 0.1; stored
            // with the row index varying fastest: element (i, j) at j·6 + i.
            m[2 * 6 + 2] = 2.0;
            m[2] = 0.1;
        }
        cal.extend(m);
    }
    // Plates with fewer channels than the widest are padded with channel 1.
    let plates = spec.plates.len();
    let mut channel_param = Vec::new();
    let mut k = 0;
    for (kind, _) in &spec.plates {
        let count = if *kind == 3 { 8 } else { 6 };
        for j in 0..per_plate {
            channel_param.push(if j < count { channel_numbers[k + j] } else { 1 });
        }
        k += count;
    }
    let used = channels.len();
    let scale: Vec<f32> = (0..used).map(|c| 0.25 + 0.05 * (c % 3) as f32).collect();
    let gen_scale = 2.0f32;
    let offsets: Vec<i16> = (0..used)
        .map(|c| if spec.unsigned { 2048 } else { (c % 4) as i16 })
        .collect();
    let labels: Vec<String> = (0..used).map(|c| format!("CH{c}")).collect();
    let mut label_refs: Vec<&str> = labels.iter().map(String::as_str).collect();
    // The Fz channel of each plate carries the plate's label.
    let mut first = 0;
    for (p, (kind, _)) in spec.plates.iter().enumerate() {
        let fz = if *kind == 3 { first + 4 } else { first + 2 };
        if let Some(l) = spec.labels.get(p) {
            label_refs[fz] = l;
        }
        first += if *kind == 3 { 8 } else { 6 };
    }
    let units: Vec<&str> = (0..used).map(|_| "N").collect();
    let (label_dims, label_bytes) = chars(&label_refs, 8);
    let (unit_dims, unit_bytes) = chars(&units, 2);
    let mut corners = Vec::new();
    let mut origin = Vec::new();
    for p in 0..plates {
        let x0 = p as f32 * 600.0;
        // Corners 1..4; x from corner 2 to 1, y from corner 4 to 1.
        let c: [[f32; 3]; 4] = if spec.z_down {
            // x = (+), y = (−): z = x × y points down.
            [
                [x0 + 500.0, 0.0, 0.0],
                [x0, 0.0, 0.0],
                [x0, 400.0, 0.0],
                [x0 + 500.0, 400.0, 0.0],
            ]
        } else {
            [
                [x0 + 500.0, 400.0, 0.0],
                [x0, 400.0, 0.0],
                [x0, 0.0, 0.0],
                [x0 + 500.0, 0.0, 0.0],
            ]
        };
        for corner in c {
            corners.extend(corner);
        }
        origin.extend([0.0f32, 0.0, -40.0]);
    }
    let mut params = vec![
        Param {
            group: 1,
            name: "USED",
            dims: vec![],
            data: Data::Int(vec![2]),
        },
        Param {
            group: 1,
            name: "SCALE",
            dims: vec![],
            data: Data::Float(vec![if spec.float { -0.1 } else { 0.1 }]),
        },
        Param {
            group: 1,
            name: "RATE",
            dims: vec![],
            data: Data::Float(vec![(spec.analog_rate / spf as f64) as f32]),
        },
        Param {
            group: 1,
            name: "FRAMES",
            dims: vec![],
            data: Data::Int(vec![frames as u16 as i16]),
        },
        Param {
            group: 2,
            name: "USED",
            dims: vec![],
            data: Data::Int(vec![used as i16]),
        },
        Param {
            group: 2,
            name: "LABELS",
            dims: label_dims,
            data: Data::Chars(label_bytes),
        },
        Param {
            group: 2,
            name: "UNITS",
            dims: unit_dims,
            data: Data::Chars(unit_bytes),
        },
        Param {
            group: 2,
            name: "SCALE",
            dims: vec![used as u8],
            data: Data::Float(scale.clone()),
        },
        Param {
            group: 2,
            name: "GEN_SCALE",
            dims: vec![],
            data: Data::Float(vec![gen_scale]),
        },
        Param {
            group: 2,
            name: "OFFSET",
            dims: vec![used as u8],
            data: Data::Int(offsets.clone()),
        },
        Param {
            group: 2,
            name: "RATE",
            dims: vec![],
            data: Data::Float(vec![spec.analog_rate as f32]),
        },
        Param {
            group: 3,
            name: "USED",
            dims: vec![],
            data: Data::Int(vec![plates as i16]),
        },
        Param {
            group: 3,
            name: "TYPE",
            dims: vec![plates as u8],
            data: Data::Int(spec.plates.iter().map(|p| p.0).collect()),
        },
        Param {
            group: 3,
            name: "CHANNEL",
            dims: vec![per_plate as u8, plates as u8],
            data: Data::Int(channel_param),
        },
        Param {
            group: 3,
            name: "CORNERS",
            dims: vec![3, 4, plates as u8],
            data: Data::Float(corners),
        },
        Param {
            group: 3,
            name: "ORIGIN",
            dims: vec![3, plates as u8],
            data: Data::Float(origin),
        },
        Param {
            group: 3,
            name: "CAL_MATRIX",
            dims: vec![6, 6, plates as u8],
            data: Data::Float(cal),
        },
    ];
    if spec.unsigned {
        let (dims, bytes) = chars(&["UNSIGNED"], 8);
        params.push(Param {
            group: 2,
            name: "FORMAT",
            dims: vec![dims[0]],
            data: Data::Chars(bytes),
        });
    }
    // Parameter section.
    let mut ps = Out {
        processor: spec.processor,
        bytes: Vec::new(),
    };
    for (id, name) in [(-1i8, "POINT"), (-2, "ANALOG"), (-3, "FORCE_PLATFORM")] {
        ps.i8(name.len() as i8);
        ps.i8(id);
        ps.bytes.extend(name.as_bytes());
        ps.i16(3);
        ps.u8(0);
    }
    let count = params.len();
    for (i, p) in params.iter().enumerate() {
        ps.i8(p.name.len() as i8);
        ps.i8(p.group);
        ps.bytes.extend(p.name.as_bytes());
        let mut body = Out {
            processor: spec.processor,
            bytes: Vec::new(),
        };
        match &p.data {
            Data::Chars(_) => body.i8(-1),
            Data::Int(_) => body.i8(2),
            Data::Float(_) => body.i8(4),
        }
        body.u8(p.dims.len() as u8);
        body.bytes.extend(&p.dims);
        match &p.data {
            Data::Chars(c) => body.bytes.extend(c),
            Data::Int(v) => v.iter().for_each(|&x| body.i16(x)),
            Data::Float(v) => v.iter().for_each(|&x| body.f32(x)),
        }
        body.u8(0);
        let next = if i + 1 == count {
            0
        } else {
            body.bytes.len() as i16 + 2
        };
        ps.i16(next);
        ps.bytes.extend(body.bytes);
    }
    let param_blocks = (ps.bytes.len() + 4).div_ceil(512);
    let data_start = 2 + param_blocks;
    // POINT:DATA_START too.
    let mut out = Out {
        processor: spec.processor,
        bytes: Vec::new(),
    };
    out.u8(2);
    out.u8(0x50);
    out.u16(2);
    out.u16((used * spf) as u16);
    out.u16(1);
    out.u16(frames.min(65_535) as u16);
    out.u16(0);
    out.f32(if spec.float { -0.1 } else { 0.1 });
    out.u16(data_start as u16);
    out.u16(spf as u16);
    out.f32((spec.analog_rate / spf as f64) as f32);
    out.pad_to_block();
    out.u8(1);
    out.u8(0x50);
    out.u8(param_blocks as u8);
    out.u8(spec.processor);
    out.bytes.extend(&ps.bytes);
    out.pad_to_block();
    assert_eq!(out.bytes.len(), (data_start - 1) * 512);
    for frame in 0..frames {
        for point in 0..2 {
            for v in [10.0f32 * point as f32, 20.0, 30.0, 0.0] {
                if spec.float {
                    out.f32(v);
                } else {
                    out.i16((v * 10.0) as i16);
                }
            }
        }
        for s in 0..spf {
            let i = frame * spf + s;
            for (c, channel) in channels.iter().enumerate() {
                let units = channel[i] / f64::from(scale[c] * gen_scale) + f64::from(offsets[c]);
                if spec.float {
                    out.f32(units as f32);
                } else if spec.unsigned {
                    out.u16(units.round() as u16);
                } else {
                    out.i16(units.round() as i16);
                }
            }
        }
    }
    out.bytes
}

fn jump(left_share: Option<f64>) -> synth::Synthetic {
    synth::cmj(&CmjSpec {
        left_share,
        ..CmjSpec::default()
    })
    .unwrap()
}

fn sides(s: &synth::Synthetic) -> Vec<Vec<f64>> {
    match &s.recording.plates {
        Plates::Single { fz } => vec![fz.clone()],
        Plates::Dual { left, right } => vec![left.clone(), right.clone()],
    }
}

fn read(bytes: &[u8]) -> Result<mhp_biomech::Recording, ParseError> {
    parse_recording("trial.c3d", bytes, &ParseOptions::default())
}

fn assert_close(got: &[f64], want: &[f64], tolerance: f64) {
    assert_eq!(got.len(), want.len());
    let worst = got
        .iter()
        .zip(want)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    assert!(worst <= tolerance, "worst difference {worst} > {tolerance}");
}

#[test]
fn every_processor_and_storage_reads_back_the_forces() {
    let s = jump(Some(0.45));
    let want = sides(&s);
    // Trim to whole frames.
    let n = want[0].len() / 10 * 10;
    let want: Vec<Vec<f64>> = want.iter().map(|w| w[..n].to_vec()).collect();
    for processor in [INTEL, DEC, MIPS] {
        for float in [false, true] {
            let spec = Spec {
                processor,
                float,
                ..Spec::new(vec![(2, want[0].clone()), (2, want[1].clone())])
            };
            let r = read(&write(&spec)).unwrap_or_else(|e| panic!("{processor} {float}: {e}"));
            assert_eq!(r.sample_rate.hz(), 1000.0);
            assert_eq!(r.metadata.format, Some(Format::C3d));
            let Plates::Dual { left, right } = &r.plates else {
                panic!("dual expected")
            };
            // Integers quantise to half a step (0.5–0.7 N here); floats to
            // f32 precision.
            let tolerance = if float { 1e-3 } else { 0.36 };
            assert_close(left, &want[0], tolerance);
            assert_close(right, &want[1], tolerance);
        }
    }
}

#[test]
fn plate_types_one_to_four_give_the_vertical_force() {
    let s = jump(None);
    let fz = sides(&s)[0].clone();
    let n = fz.len() / 10 * 10;
    let fz = fz[..n].to_vec();
    for kind in [1, 2, 3, 4] {
        for z_down in [true, false] {
            let spec = Spec {
                float: true,
                z_down,
                ..Spec::new(vec![(kind, fz.clone())])
            };
            let r = read(&write(&spec)).unwrap_or_else(|e| panic!("type {kind}: {e}"));
            let Plates::Single { fz: got } = &r.plates else {
                panic!("single expected")
            };
            assert_close(got, &fz, 2e-3);
        }
    }
}

#[test]
fn a_c3d_jump_analyses_like_its_csv() {
    let s = jump(Some(0.5));
    let want = sides(&s);
    let bytes = write(&Spec {
        float: true,
        ..Spec::new(vec![(2, want[0].clone()), (2, want[1].clone())])
    });
    let opts = ParseOptions::default();
    let from_c3d = analyze_bytes("upload", bytes.as_slice(), &opts).unwrap();
    assert_eq!(from_c3d.recording.format, Some(Format::C3d));
    let csv = mhp_biomech::to_mhp_csv(&s.recording);
    let from_csv = analyze_bytes("a.csv", csv.as_bytes(), &opts).unwrap();
    let height = |r: &mhp_biomech::Report| match &r.trials[0].metrics {
        Some(mhp_biomech::Metrics::Cmj(m)) => m.jump_height_impulse_m,
        other => panic!("{other:?}"),
    };
    assert!((height(&from_c3d) - height(&from_csv)).abs() < 1e-3);
    assert!((height(&from_c3d) - 0.35).abs() < 0.01);
    assert_eq!(detect_format("upload", &bytes), Format::C3d);
}

#[test]
fn labels_name_the_sides_and_unsigned_integers_are_read() {
    let s = jump(Some(0.4));
    let want = sides(&s);
    let spec = Spec {
        labels: vec!["Right Fz", "Left Fz"],
        unsigned: true,
        ..Spec::new(vec![(2, want[1].clone()), (2, want[0].clone())])
    };
    let r = read(&write(&spec)).unwrap();
    let Plates::Dual { left, right } = &r.plates else {
        panic!("dual expected")
    };
    let n = left.len();
    assert_close(left, &want[0][..n], 0.36);
    assert_close(right, &want[1][..n], 0.36);
}

#[test]
fn unsupported_files_are_refused_with_what_is_supported() {
    let fz = sides(&jump(None))[0][..1000].to_vec();
    let code = |spec: &Spec| read(&write(spec)).unwrap_err();
    let three = Spec::new(vec![(2, fz.clone()), (2, fz.clone()), (2, fz.clone())]);
    let err = code(&three);
    assert_eq!(err.code(), "unsupported_c3d");
    assert!(err.to_string().contains("one or two"), "{err}");
    let err = code(&Spec::new(vec![(5, fz.clone())]));
    assert!(err.to_string().contains("types 1, 2, 3"), "{err}");
    let mut bytes = write(&Spec::new(vec![(2, fz.clone())]));
    bytes[512 + 3] = 83;
    let err = read(&bytes).unwrap_err();
    assert_eq!(err.code(), "unsupported_c3d");
    assert!(err.to_string().contains("84 (Intel)"), "{err}");
    let bytes = write(&Spec::new(vec![(2, fz)]));
    let err = read(&bytes[..bytes.len() - 100]).unwrap_err();
    assert_eq!(err.code(), "invalid_c3d");
    assert_eq!(
        err.to_string(),
        "not a readable C3D file: the file ends before the frames it declares"
    );
}

fn valid_file() -> Vec<u8> {
    let fz = sides(&jump(None))[0][..600].to_vec();
    write(&Spec::new(vec![(3, fz)]))
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 256,
        failure_persistence: None,
        rng_seed: RngSeed::Fixed(0x6333_6466),
        ..ProptestConfig::default()
    })]

    /// Random bytes behind a C3D key, and a valid file with random bytes
    /// changed, inserted or cut: an answer, never a panic.
    #[test]
    fn arbitrary_and_damaged_c3d_never_panics(
        random in prop::collection::vec(any::<u8>(), 0..4096),
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..24),
        cut in any::<prop::sample::Index>(),
        mode in 0u8..3,
    ) {
        let bytes = match mode {
            0 => [vec![2u8, 0x50], random].concat(),
            1 => {
                let mut b = valid_file();
                for (at, v) in &edits {
                    let i = at.index(b.len());
                    b[i] = *v;
                }
                b
            }
            _ => {
                let b = valid_file();
                let keep = cut.index(b.len());
                b[..keep].to_vec()
            }
        };
        if let Ok(report) = analyze_bytes("x.c3d", bytes.as_slice(), &ParseOptions::default()) {
            let text = format!("{:?}", report.trials);
            prop_assert!(!text.contains("NaN") && !text.contains("inf"));
        }
    }
}
