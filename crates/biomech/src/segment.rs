//! Splitting a recording into stretches on the plate, flights and reps.
//!
//! The plate is *unloaded* where total force is below a threshold (5 % of
//! the 90th-percentile block mean, at least 20 N). An unloaded run of
//! 80 ms–1.2 s inside the recording is a *flight* only when the force before
//! it shows a push and the force after it a landing (each above 1.15 × the
//! standing level): stepping off the plate and back on, which unloads it
//! just as long, shows neither. Every other unloaded run of 80 ms or more
//! (at either end of the recording, longer than 1.2 s, or a step) takes the
//! athlete off the plate, and the loaded *stretches* between such runs hold
//! the trials.
//!
//! Within a stretch, flights are grouped into reps: a flight that follows
//! a landing within 1 s, without a countermovement in between, is a rebound
//! (a double bounce of a CMJ, or the next hop of a hop test); any other
//! flight starts a new rep with its own onset. A countermovement is a dip
//! below 90 % of the standing level lasting at least 30 ms, followed by a
//! rise above 110 % of it, after the landing has loaded the plate and at
//! least 0.5 s after it.

use crate::signal::Signal;

/// Shortest unloaded run taken as a flight, s (a 3 cm hop flies 156 ms).
pub const MIN_FLIGHT_S: f64 = 0.08;
/// Longest unloaded run taken as a flight, s (a 1 m jump flies 0.9 s);
/// longer means the subject stepped off.
pub const MAX_FLIGHT_S: f64 = 1.2;
/// A second flight starting within this time of a landing, without a
/// countermovement between, is a rebound of the same rep, s.
pub const DOUBLE_BOUNCE_GAP_S: f64 = 1.0;
/// Floor of the unloaded threshold, N (Street et al. 2001, J Appl Biomech
/// 17:43–54, "Sources of error in determining countermovement jump height
/// with the impulse method", used 10–20 N; 20 N is robust to plate drift).
pub const MIN_UNLOADED_THRESHOLD_N: f64 = 20.0;
/// A flight needs force above this multiple of the standing level within
/// [`PUSH_WINDOW_S`] before take-off and within [`IMPACT_WINDOW_S`] after
/// landing; stepping off and on stays below it.
pub const PUSH_MIN_LEVEL: f64 = 1.15;
/// How far before take-off the push is looked for, s.
pub const PUSH_WINDOW_S: f64 = 0.5;
/// How far after landing the impact is looked for, s.
pub const IMPACT_WINDOW_S: f64 = 0.3;
/// Gaps of at most this length inside an unloaded run are noise, s.
const BRIDGE_S: f64 = 0.003;
/// A countermovement dip lasts at least this long, s.
const DIP_MIN_S: f64 = 0.03;
/// A contact shorter than this holds no countermovement (landing
/// absorption alone takes about this long), s.
const MIN_REP_CONTACT_S: f64 = 0.5;

/// One flight: indices of the first unloaded sample (take-off) and the
/// first loaded sample after it (landing).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Flight {
    /// First sample below the threshold.
    pub takeoff: usize,
    /// First sample at or above the threshold after take-off.
    pub landing: usize,
}

/// A loaded stretch between two off-plate periods.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Stretch {
    /// First sample.
    pub start: usize,
    /// One past the last sample.
    pub end: usize,
    /// True when the stretch began with the athlete arriving on the plate
    /// from off it (not at the start of the recording).
    pub arrived: bool,
    /// Flights inside, in time order.
    pub flights: Vec<Flight>,
}

/// The recording cut into stretches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Segments {
    /// Loaded stretches, in time order.
    pub stretches: Vec<Stretch>,
    /// Unloaded runs of flight length that were not flights (steps off and
    /// on), `[start, end)`.
    pub gaps: Vec<(usize, usize)>,
}

impl Segments {
    /// True when any stretch holds a flight.
    pub fn any_flight(&self) -> bool {
        self.stretches.iter().any(|s| !s.flights.is_empty())
    }

    /// True when the athlete left the plate (a flight or a step) within
    /// [`DOUBLE_BOUNCE_GAP_S`] after sample `landing` and before `before`.
    pub fn left_again(&self, landing: usize, before: usize, gap: usize) -> bool {
        let soon = |start: usize| start > landing && start < before && start - landing < gap;
        self.gaps.iter().any(|&(a, _)| soon(a))
            || self
                .stretches
                .iter()
                .flat_map(|s| &s.flights)
                .any(|f| soon(f.takeoff))
    }
}

/// Cuts a recording into stretches and flights; `level` is the standing
/// force (body weight) that pushes and landings are measured against.
pub(crate) fn segment(signal: &Signal<'_>, threshold: f64, level: f64) -> Segments {
    let rate = signal.rate;
    let n = signal.len();
    let min_flight = rate.samples(MIN_FLIGHT_S).max(1);
    let max_flight = rate.samples(MAX_FLIGHT_S);
    let mut stretches = Vec::new();
    let mut gaps = Vec::new();
    let mut flights = Vec::new();
    let mut start = 0usize;
    let mut arrived = false;
    for (a, b) in unloaded_runs(signal, threshold) {
        let at_edge = a == 0 || b == n;
        let len = b - a;
        if len < min_flight && !at_edge {
            continue;
        }
        if !at_edge && len <= max_flight {
            if is_jump(signal, a, b, level) {
                flights.push(Flight {
                    takeoff: a,
                    landing: b,
                });
                continue;
            }
            gaps.push((a, b));
        }
        if a > start {
            stretches.push(Stretch {
                start,
                end: a,
                arrived,
                flights: std::mem::take(&mut flights),
            });
        }
        flights.clear();
        start = b;
        arrived = true;
    }
    if n > start {
        stretches.push(Stretch {
            start,
            end: n,
            arrived,
            flights,
        });
    }
    Segments { stretches, gaps }
}

/// Loaded stretches for balance and plank: every stretch between unloaded
/// runs of 80 ms or more, `[start, end)`.
pub(crate) fn loaded_spans(signal: &Signal<'_>, threshold: f64) -> Vec<(usize, usize)> {
    let min_len = signal.rate.samples(MIN_FLIGHT_S).max(1);
    let n = signal.len();
    let mut spans = Vec::new();
    let mut start = 0usize;
    for (a, b) in unloaded_runs(signal, threshold) {
        if b - a < min_len && a != 0 && b != n {
            continue;
        }
        if a > start {
            spans.push((start, a));
        }
        start = b;
    }
    if n > start {
        spans.push((start, n));
    }
    spans
}

/// Groups a stretch's flights into reps: each rep is its first flight and
/// the rebounds that follow it (see the module documentation).
pub(crate) fn group_reps(signal: &Signal<'_>, flights: &[Flight], level: f64) -> Vec<Vec<Flight>> {
    let gap = signal.rate.samples(DOUBLE_BOUNCE_GAP_S);
    let mut reps: Vec<Vec<Flight>> = Vec::new();
    for &flight in flights {
        let rebound = reps.last().and_then(|rep| rep.last()).is_some_and(|last| {
            flight.takeoff - last.landing < gap
                && !has_countermovement(signal, last.landing, flight.takeoff, level)
        });
        match reps.last_mut() {
            Some(rep) if rebound => rep.push(flight),
            _ => reps.push(vec![flight]),
        }
    }
    reps
}

/// Whether the contact `[landing, takeoff)` holds a countermovement: after
/// the force first reaches the standing level, a dip below 90 % of it for
/// at least 30 ms, later followed by force above 110 % of it.
pub(crate) fn has_countermovement(
    signal: &Signal<'_>,
    landing: usize,
    takeoff: usize,
    level: f64,
) -> bool {
    let rate = signal.rate;
    if takeoff.saturating_sub(landing) < rate.samples(MIN_REP_CONTACT_S) {
        return false;
    }
    let f = signal.total.get(landing..takeoff).unwrap_or_default();
    let Some(loaded) = f.iter().position(|&x| x >= level) else {
        return false;
    };
    let min_dip = rate.samples(DIP_MIN_S).max(1);
    let (low, high) = (0.9 * level, 1.1 * level);
    let mut run = 0usize;
    let mut dipped = false;
    for &x in f.iter().skip(loaded) {
        if x < low {
            run += 1;
            if run >= min_dip {
                dipped = true;
            }
        } else {
            run = 0;
            if dipped && x > high {
                return true;
            }
        }
    }
    false
}

/// A flight candidate `[a, b)` is a jump when a push precedes it and an
/// impact follows it.
fn is_jump(signal: &Signal<'_>, a: usize, b: usize, level: f64) -> bool {
    let rate = signal.rate;
    let limit = PUSH_MIN_LEVEL * level;
    let before = a.saturating_sub(rate.samples(PUSH_WINDOW_S))..a;
    let after = b..(b + rate.samples(IMPACT_WINDOW_S)).min(signal.len());
    let above = |r: std::ops::Range<usize>| {
        signal
            .total
            .get(r)
            .unwrap_or_default()
            .iter()
            .any(|&x| x >= limit)
    };
    above(before) && above(after)
}

/// Maximal runs `[start, end)` below `threshold`, with gaps of up to 3 ms
/// (a noise spike) bridged. A block whose minimum is at or above the
/// threshold is loaded without reading its samples; only the others (the
/// flights and the moments around them) are read sample by sample.
pub(crate) fn unloaded_runs(signal: &Signal<'_>, threshold: f64) -> Vec<(usize, usize)> {
    let bridge = signal.rate.samples(BRIDGE_S).max(2);
    let mut runs: Vec<(usize, usize)> = Vec::new();
    let mut push = |a: usize, b: usize| match runs.last_mut() {
        Some(last) if a - last.1 <= bridge => last.1 = b,
        _ => runs.push((a, b)),
    };
    let mut open: Option<usize> = None;
    for (k, block) in signal.blocks.iter().enumerate() {
        let range = signal.block_samples(k, k + 1);
        if block.min >= threshold {
            if let Some(a) = open.take() {
                push(a, range.start);
            }
            continue;
        }
        let offset = range.start;
        let samples = signal.total.get(range).unwrap_or_default();
        let mut j = 0;
        while j < samples.len() {
            let rest = samples.get(j..).unwrap_or_default();
            match open {
                None => match rest.iter().position(|&x| x < threshold) {
                    Some(p) => {
                        open = Some(offset + j + p);
                        j += p + 1;
                    }
                    None => break,
                },
                Some(a) => match rest.iter().position(|&x| x >= threshold) {
                    Some(p) => {
                        push(a, offset + j + p);
                        open = None;
                        j += p + 1;
                    }
                    None => break,
                },
            }
        }
    }
    if let Some(a) = open {
        push(a, signal.len());
    }
    runs
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recording::{Metadata, Plates, Recording, SampleRate};

    fn rec(fz: Vec<f64>) -> Recording {
        Recording {
            sample_rate: SampleRate::new(100.0).unwrap(),
            plates: Plates::Single { fz },
            cop: None,
            timing: None,
            metadata: Metadata::default(),
        }
    }

    /// A push before and an impact after each unloaded run.
    fn jump(f: &mut [f64], takeoff: usize, landing: usize) {
        f[takeoff - 10..takeoff].fill(1400.0);
        f[takeoff..landing].fill(0.0);
        f[landing..landing + 10].fill(1600.0);
    }

    #[test]
    fn two_jumps_in_one_stretch() {
        let mut f = vec![800.0; 1000];
        jump(&mut f, 300, 350);
        jump(&mut f, 700, 750);
        let r = rec(f);
        let s = Signal::new(&r);
        let seg = segment(&s, 40.0, 800.0);
        assert_eq!(seg.stretches.len(), 1);
        assert_eq!(seg.stretches[0].flights.len(), 2);
        assert_eq!(group_reps(&s, &seg.stretches[0].flights, 800.0).len(), 2);
    }

    #[test]
    fn a_step_off_and_on_is_not_a_flight() {
        let mut f = vec![800.0; 1000];
        f[300..360].fill(0.0);
        let r = rec(f);
        let s = Signal::new(&r);
        let seg = segment(&s, 40.0, 800.0);
        assert_eq!(seg.stretches.len(), 2);
        assert!(!seg.any_flight());
        assert_eq!(seg.gaps, vec![(300, 360)]);
        assert!(seg.stretches[1].arrived && !seg.stretches[0].arrived);
    }

    #[test]
    fn long_unloaded_run_ends_a_stretch() {
        let mut f = vec![800.0; 1000];
        f[300..600].fill(0.0);
        let r = rec(f);
        let seg = segment(&Signal::new(&r), 40.0, 800.0);
        assert_eq!(seg.stretches.len(), 2);
        assert!(seg.gaps.is_empty());
    }

    #[test]
    fn quick_second_flight_is_a_rebound() {
        let mut f = vec![800.0; 1000];
        jump(&mut f, 300, 350);
        jump(&mut f, 380, 400);
        let r = rec(f);
        let s = Signal::new(&r);
        let seg = segment(&s, 40.0, 800.0);
        let reps = group_reps(&s, &seg.stretches[0].flights, 800.0);
        assert_eq!(reps.len(), 1);
        assert_eq!(reps[0].len(), 2);
    }

    #[test]
    fn a_countermovement_starts_a_new_rep_even_soon_after_landing() {
        let mut f = vec![800.0; 1000];
        jump(&mut f, 300, 350);
        // Landing absorbed, then a dip and a push: a new jump 0.9 s later.
        f[370..400].fill(500.0);
        jump(&mut f, 440, 480);
        let r = rec(f);
        let s = Signal::new(&r);
        let seg = segment(&s, 40.0, 800.0);
        assert_eq!(group_reps(&s, &seg.stretches[0].flights, 800.0).len(), 2);
    }

    #[test]
    fn runs_are_found_across_blocks_with_noise_bridged() {
        let mut f = vec![800.0; 400];
        f[13..97].fill(0.0);
        f[50] = 900.0; // one noisy sample inside the run
        f[398..].fill(0.0);
        let r = rec(f);
        let s = Signal::new(&r);
        assert_eq!(unloaded_runs(&s, 40.0), vec![(13, 97), (398, 400)]);
    }
}
