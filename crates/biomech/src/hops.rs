//! Repeated hops and the CMJ with rebound: one trial per ground contact
//! between two flights, with its reactive strength index.
//!
//! Contacts and flights are timed with the CMJ's take-off and landing rule
//! (two samples below, or at and above, 5 SD of the unloaded plate in
//! flight, at least 20 N). A contact longer than [`MAX_HOP_CONTACT_S`] is
//! a pause between sets, not a hop. The reactive strength index is jump
//! height from flight time over contact time (Flanagan & Comyns 2008,
//! Strength Cond J 30(5):32–38, "The use of contact time and the reactive
//! strength index to optimize fast stretch-shortening cycle training"); the
//! flight-to-contact ratio is given beside it. On one leg (a single-leg hop
//! test), each contact's side is the loaded plate, or the side the file
//! names for one plate, and the report's summary compares the sides.

use serde::Serialize;

use crate::analysis::{Context, Trial, loaded_side};
use crate::cmj::refine_flight;
use crate::flags::{Flag, FlagCode};
use crate::recording::{GRAVITY, Side};
use crate::report::Metrics;
use crate::segment::Flight;
use crate::signal::max_at;

/// Longest ground contact counted as a hop, s.
pub const MAX_HOP_CONTACT_S: f64 = 1.0;

/// One ground contact between two flights.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HopMetrics {
    /// Position of the contact in its sequence of hops, from 1.
    pub hop: usize,
    /// Landing to take-off, s.
    pub contact_time_s: f64,
    /// The flight after the contact, s.
    pub flight_time_s: f64,
    /// The flight before the contact, s.
    pub preceding_flight_time_s: f64,
    /// g·t_flight² / 8 of the flight after the contact, m.
    pub jump_height_flight_m: f64,
    /// Reactive strength index: `jump_height_flight_m` / `contact_time_s`,
    /// m/s (Flanagan & Comyns 2008).
    pub rsi: f64,
    /// Flight time / contact time.
    pub flight_contact_ratio: f64,
    /// Largest force of the contact, N.
    pub peak_force_n: f64,
    /// Landing to the largest force, s.
    pub time_to_peak_force_s: f64,
    /// `peak_force_n` / body weight, when the recording or a weigh-in gives
    /// body weight.
    pub peak_force_bw: Option<f64>,
    /// The leg of a single-leg hop; absent for hops on both legs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub side: Option<Side>,
}

/// The trials of a hop recording: one per contact between two flights.
pub(crate) fn trials(ctx: &Context<'_>, single_leg: bool) -> Vec<Trial> {
    let signal = &ctx.signal;
    let rate = signal.rate;
    let max_contact = rate.samples(MAX_HOP_CONTACT_S);
    let bw = ctx
        .recording_weighing
        .map(|w| w.mean)
        .or(ctx.weigh_in.map(|w| w.kg * GRAVITY));
    let mut out = Vec::new();
    for stretch in &ctx.segments.stretches {
        // Flights refined with their own thresholds, in order.
        let flights: Vec<Result<Flight, Flag>> = stretch
            .flights
            .iter()
            .enumerate()
            .map(|(i, f)| {
                let lo = if i == 0 {
                    stretch.start
                } else {
                    stretch
                        .flights
                        .get(i - 1)
                        .map_or(stretch.start, |p| p.landing)
                };
                let hi = stretch
                    .flights
                    .get(i + 1)
                    .map_or(stretch.end, |n| n.takeoff);
                refine_flight(signal, *f, lo, hi)
            })
            .collect();
        let mut hop = 0usize;
        for (i, pair) in flights.windows(2).enumerate() {
            let (Some(before), Some(after)) = (pair.first(), pair.get(1)) else {
                continue;
            };
            let (Some(seg_before), Some(seg_after)) =
                (stretch.flights.get(i), stretch.flights.get(i + 1))
            else {
                continue;
            };
            if seg_after.takeoff - seg_before.landing > max_contact {
                hop = 0;
                continue;
            }
            hop += 1;
            let (start, end) = (seg_before.landing, seg_after.takeoff);
            let (before, after) = match (before, after) {
                (Ok(b), Ok(a)) => (*b, *a),
                (Err(flag), _) | (_, Err(flag)) => {
                    out.push(Trial::blocked(start, end, flag.clone()));
                    continue;
                }
            };
            let mut flags = Vec::new();
            let side = if single_leg {
                match hop_side(ctx, before.landing..after.takeoff) {
                    Ok(side) => Some(side),
                    Err(flag) => {
                        flags.push(flag);
                        None
                    }
                }
            } else {
                None
            };
            let m = hop_metrics(ctx, hop, before, after, bw, side);
            let mut trial = Trial::of(start, end, Ok((Metrics::Hop(Box::new(m)), flags)));
            trial.checked = Some((before.landing, after.takeoff));
            out.push(trial);
        }
    }
    if out.is_empty() {
        out.push(Trial::blocked(
            0,
            signal.len(),
            Flag::new(
                FlagCode::NoFlight,
                "no ground contact between two flights: no hop",
            ),
        ));
    }
    out
}

fn hop_side(ctx: &Context<'_>, range: std::ops::Range<usize>) -> Result<Side, Flag> {
    if ctx.signal.sides.is_some() {
        return loaded_side(&ctx.signal, range).ok_or_else(|| {
            Flag::new(
                FlagCode::SideUnknown,
                "both plates carried load during this contact: not on one leg",
            )
        });
    }
    ctx.recording.metadata.side.ok_or_else(|| {
        Flag::new(
            FlagCode::SideUnknown,
            "one plate and no side in the file (test: single_leg_hop_left or _right): no limb symmetry",
        )
    })
}

fn hop_metrics(
    ctx: &Context<'_>,
    hop: usize,
    before: Flight,
    after: Flight,
    bw: Option<f64>,
    side: Option<Side>,
) -> HopMetrics {
    let dt = ctx.rate().dt();
    let contact = (after.takeoff - before.landing) as f64 * dt;
    let flight = (after.landing - after.takeoff) as f64 * dt;
    let height = GRAVITY * flight * flight / 8.0;
    let (peak_index, peak) =
        max_at(&ctx.signal.total, before.landing..after.takeoff).unwrap_or((before.landing, 0.0));
    HopMetrics {
        hop,
        contact_time_s: contact,
        flight_time_s: flight,
        preceding_flight_time_s: (before.landing - before.takeoff) as f64 * dt,
        jump_height_flight_m: height,
        rsi: if contact > 0.0 { height / contact } else { 0.0 },
        flight_contact_ratio: if contact > 0.0 { flight / contact } else { 0.0 },
        peak_force_n: peak,
        time_to_peak_force_s: (peak_index - before.landing) as f64 * dt,
        peak_force_bw: bw.filter(|b| *b > 0.0).map(|b| peak / b),
        side,
    }
}
