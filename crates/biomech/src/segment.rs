//! Splitting a recording into trials.
//!
//! The plate is "unloaded" where total force is below a threshold. An
//! unloaded run between 80 ms and 1.2 s inside the recording is a flight;
//! a longer one, or one at either end of the file, means nobody is on the
//! plate. Loaded stretches between such off-plate runs hold the trials: for
//! jumps, one trial per flight (split half-way between one landing and the
//! next take-off); for balance and plank, one trial per loaded stretch.

use crate::recording::SampleRate;

/// Shortest unloaded run taken as a flight, s (a 3 cm hop flies 156 ms).
pub const MIN_FLIGHT_S: f64 = 0.08;
/// Longest unloaded run taken as a flight, s (a 1 m jump flies 0.9 s);
/// longer means the subject stepped off.
pub const MAX_FLIGHT_S: f64 = 1.2;
/// A second flight starting within this time of a landing is a double
/// bounce of the same trial, not a new jump, s.
pub const DOUBLE_BOUNCE_GAP_S: f64 = 1.0;
/// Floor of the unloaded threshold, N (Street et al. 2001, J Appl Biomech
/// 17:43–54, "Sources of error in determining countermovement jump height
/// with the impulse method", used 10–20 N; 20 N is robust to plate drift).
pub const MIN_UNLOADED_THRESHOLD_N: f64 = 20.0;

/// One flight: indices of the first unloaded sample (take-off) and the
/// first loaded sample after it (landing).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Flight {
    /// First sample below the threshold.
    pub takeoff: usize,
    /// First sample at or above the threshold after take-off.
    pub landing: usize,
}

/// A span of samples `[start, end)` that holds one trial.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    /// First sample.
    pub start: usize,
    /// One past the last sample.
    pub end: usize,
    /// The jump's flight, when there is one.
    pub flight: Option<Flight>,
    /// Whether another flight followed within [`DOUBLE_BOUNCE_GAP_S`].
    pub double_bounce: bool,
}

/// Threshold for "nobody on the plate" over the whole recording: 5 % of
/// the 90th-percentile force (≈ body weight, since most samples are quiet
/// standing), at least [`MIN_UNLOADED_THRESHOLD_N`]. Scaling with load keeps
/// plate noise, which grows with load on real amplifiers, from splitting a
/// flight.
pub fn unloaded_threshold(total: &[f64]) -> f64 {
    if total.is_empty() {
        return MIN_UNLOADED_THRESHOLD_N;
    }
    let mut sorted = total.to_vec();
    let k = (sorted.len() * 9) / 10;
    let k = k.min(sorted.len() - 1);
    let (_, p90, _) = sorted.select_nth_unstable_by(k, f64::total_cmp);
    (0.05 * *p90).max(MIN_UNLOADED_THRESHOLD_N)
}

/// Trials of a jump recording.
pub fn jump_spans(total: &[f64], rate: SampleRate, threshold: f64) -> Vec<Span> {
    let runs = unloaded_runs(total, threshold, rate);
    let (flights, stretches) = classify_runs(&runs, total.len(), rate);
    let mut spans = Vec::new();
    for stretch in stretches {
        let inside: Vec<Flight> = flights
            .iter()
            .copied()
            .filter(|f| f.takeoff >= stretch.start && f.landing <= stretch.end)
            .collect();
        split_stretch(&stretch, &inside, rate, &mut spans);
    }
    spans
}

/// Trials of a balance or plank recording: every loaded stretch, split
/// at any unloaded run of 80 ms or more.
pub fn loaded_spans(total: &[f64], rate: SampleRate, threshold: f64) -> Vec<Span> {
    let runs = unloaded_runs(total, threshold, rate);
    let min_len = rate.samples(MIN_FLIGHT_S).max(1);
    let mut spans = Vec::new();
    let mut start = 0usize;
    for &(a, b) in runs.iter().filter(|(a, b)| b - a >= min_len) {
        if a > start {
            spans.push(loaded(start, a));
        }
        start = b;
    }
    if total.len() > start {
        spans.push(loaded(start, total.len()));
    }
    spans
}

fn loaded(start: usize, end: usize) -> Span {
    Span {
        start,
        end,
        flight: None,
        double_bounce: false,
    }
}

/// Maximal runs `[start, end)` below `threshold`, with gaps of up to 3 ms
/// (a noise spike) bridged.
fn unloaded_runs(total: &[f64], threshold: f64, rate: SampleRate) -> Vec<(usize, usize)> {
    let bridge = rate.samples(0.003).max(2);
    let mut runs: Vec<(usize, usize)> = Vec::new();
    let mut i = 0;
    while i < total.len() {
        if total.get(i).is_some_and(|&f| f < threshold) {
            let start = i;
            while total.get(i).is_some_and(|&f| f < threshold) {
                i += 1;
            }
            match runs.last_mut() {
                Some(last) if start - last.1 <= bridge => last.1 = i,
                _ => runs.push((start, i)),
            }
        } else {
            i += 1;
        }
    }
    runs
}

/// Sorts unloaded runs into flights and off-plate periods; returns the
/// flights and the loaded stretches between off-plate periods.
fn classify_runs(runs: &[(usize, usize)], n: usize, rate: SampleRate) -> (Vec<Flight>, Vec<Span>) {
    let min_flight = rate.samples(MIN_FLIGHT_S).max(1);
    let max_flight = rate.samples(MAX_FLIGHT_S);
    let mut flights = Vec::new();
    let mut stretches = Vec::new();
    let mut start = 0usize;
    for &(a, b) in runs {
        let at_edge = a == 0 || b == n;
        let len = b - a;
        if !at_edge && (min_flight..=max_flight).contains(&len) {
            flights.push(Flight {
                takeoff: a,
                landing: b,
            });
        } else if at_edge || len > max_flight {
            if a > start {
                stretches.push(loaded(start, a));
            }
            start = b;
        }
    }
    if n > start {
        stretches.push(loaded(start, n));
    }
    (flights, stretches)
}

/// Splits one loaded stretch into jump trials.
fn split_stretch(stretch: &Span, flights: &[Flight], rate: SampleRate, out: &mut Vec<Span>) {
    let min_len = rate.samples(1.0);
    if flights.is_empty() {
        // A stretch without a flight is a failed jump or a step-off, unless
        // it is too short to be anything (stepping across the plate).
        if stretch.end - stretch.start >= min_len {
            out.push(*stretch);
        }
        return;
    }
    let groups = group_bounces(flights, rate);
    let mut start = stretch.start;
    for (g, group) in groups.iter().enumerate() {
        let end = match groups.get(g + 1) {
            Some(next) => group.last_landing + (next.first.takeoff - group.last_landing) / 2,
            None => stretch.end,
        };
        out.push(Span {
            start,
            end,
            flight: Some(group.first),
            double_bounce: group.bounces > 0,
        });
        start = end;
    }
}

struct BounceGroup {
    first: Flight,
    last_landing: usize,
    bounces: usize,
}

/// Groups flights that follow a landing within [`DOUBLE_BOUNCE_GAP_S`].
fn group_bounces(flights: &[Flight], rate: SampleRate) -> Vec<BounceGroup> {
    let gap = rate.samples(DOUBLE_BOUNCE_GAP_S);
    let mut groups: Vec<BounceGroup> = Vec::new();
    for &flight in flights {
        match groups.last_mut() {
            Some(group) if flight.takeoff - group.last_landing < gap => {
                group.last_landing = flight.landing;
                group.bounces += 1;
            }
            _ => groups.push(BounceGroup {
                first: flight,
                last_landing: flight.landing,
                bounces: 0,
            }),
        }
    }
    groups
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rate() -> SampleRate {
        SampleRate::new(100.0).unwrap()
    }

    #[test]
    fn two_jumps_make_two_trials() {
        let mut f = vec![800.0; 1000];
        f[300..350].fill(0.0);
        f[700..750].fill(0.0);
        let spans = jump_spans(&f, rate(), 40.0);
        assert_eq!(spans.len(), 2);
        assert_eq!(spans[0].flight.map(|x| x.takeoff), Some(300));
        assert_eq!(spans[1].start, 350 + (700 - 350) / 2);
    }

    #[test]
    fn step_off_is_not_a_flight() {
        let mut f = vec![800.0; 1000];
        f[300..600].fill(0.0);
        let spans = jump_spans(&f, rate(), 40.0);
        assert_eq!(spans.len(), 2);
        assert!(spans.iter().all(|s| s.flight.is_none()));
    }

    #[test]
    fn quick_second_flight_is_a_double_bounce() {
        let mut f = vec![800.0; 1000];
        f[300..350].fill(0.0);
        f[380..400].fill(0.0);
        let spans = jump_spans(&f, rate(), 40.0);
        assert_eq!(spans.len(), 1);
        assert!(spans[0].double_bounce);
    }

    #[test]
    fn threshold_has_a_floor() {
        assert_eq!(unloaded_threshold(&[0.0; 10]), MIN_UNLOADED_THRESHOLD_N);
        assert_eq!(unloaded_threshold(&[1000.0; 10]), 50.0);
    }
}
