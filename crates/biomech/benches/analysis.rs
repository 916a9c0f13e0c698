//! Benchmarks: parse and analyse a 10 s dual-plate 1000 Hz CSV, and analyse
//! the same recording already in memory; ten reps with short pauses (every
//! rep weighed on the recording's steadiest second). `cargo bench -p
//! mhp-biomech`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use divan::counter::BytesCount;
use divan::{Bencher, black_box};
use mhp_biomech::recording::Plates;
use mhp_biomech::synth::session::{CmjRep, Event, SessionSpec, session};
use mhp_biomech::synth::{self, CmjSpec};
use mhp_biomech::{
    ParseOptions, Recording, analyze_bytes, analyze_recording, parse_recording, to_mhp_csv,
};

fn main() {
    divan::main();
}

/// Two jumps, dual plate, 1000 Hz, cut to exactly 10 s.
fn recording() -> Recording {
    let mut r = synth::cmj(&CmjSpec {
        jumps: 2,
        ..CmjSpec::default()
    })
    .unwrap()
    .recording;
    if let Plates::Dual { left, right } = &mut r.plates {
        left.truncate(10_000);
        right.truncate(10_000);
    }
    r
}

#[divan::bench]
fn parse_csv_10s_dual_1khz(bencher: Bencher) {
    let csv = to_mhp_csv(&recording());
    bencher.counter(BytesCount::of_str(&csv)).bench(|| {
        parse_recording("a.csv", black_box(csv.as_bytes()), &ParseOptions::default()).unwrap()
    });
}

#[divan::bench]
fn parse_and_analyze_csv_10s_dual_1khz(bencher: Bencher) {
    let csv = to_mhp_csv(&recording());
    bencher.counter(BytesCount::of_str(&csv)).bench(|| {
        analyze_bytes("a.csv", black_box(csv.as_bytes()), &ParseOptions::default()).unwrap()
    });
}

#[divan::bench]
fn analyze_in_memory_10s_dual_1khz(bencher: Bencher) {
    let r = recording();
    assert_eq!(analyze_recording(&r).trials.len(), 2);
    bencher.bench(|| analyze_recording(black_box(&r)));
}

#[divan::bench]
fn analyze_in_memory_10_reps_short_pauses_dual_1khz(bencher: Bencher) {
    let mut events = vec![Event::Quiet { seconds: 1.5 }];
    for i in 0..10 {
        events.push(Event::Cmj(CmjRep::for_height(0.25 + 0.01 * f64::from(i))));
        events.push(Event::Quiet { seconds: 0.5 });
    }
    let r = session(&SessionSpec {
        events,
        ..SessionSpec::default()
    })
    .unwrap()
    .recording;
    assert_eq!(analyze_recording(&r).trials.len(), 10);
    bencher.bench(|| analyze_recording(black_box(&r)));
}

#[divan::bench]
fn parse_json_10s_dual_1khz(bencher: Bencher) {
    let r = recording();
    let Plates::Dual { left, right } = &r.plates else {
        panic!("dual expected")
    };
    let json = serde_json::json!({"sample_rate_hz": 1000, "channels": {"fz_left": left, "fz_right": right}}).to_string();
    bencher.counter(BytesCount::of_str(&json)).bench(|| {
        parse_recording(
            "a.json",
            black_box(json.as_bytes()),
            &ParseOptions::default(),
        )
        .unwrap()
    });
}
