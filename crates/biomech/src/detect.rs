//! Detecting the test kind from the signal, when neither the caller nor
//! the file says what was recorded.
//!
//! The rules, in order:
//!
//! 1. Without any flight: an arrival on the plate from off it with an
//!    impact (force above 1.5 × body weight within 300 ms) is a **landing**;
//!    force held 30 % above body weight for 0.5 s is an **isometric pull**;
//!    centre-of-pressure data is a **balance** test; anything else is
//!    analysed as a **CMJ** (whose trial then says `no_flight`).
//! 2. An arrival from off the plate that leaves it again within 1 s is a
//!    **drop jump**.
//! 3. A rebound (a flight within 1 s of a landing, with no countermovement
//!    between) reaching at least half the height of the flight before it
//!    makes the recording a **hop test** (a CMJ with rebound, or repeated
//!    hops).
//! 4. Otherwise each jump from standing is a **CMJ** when an unweighting
//!    precedes its push and a **squat jump** when it does not; the
//!    majority decides.
//! 5. On two plates, when one plate carries less than 20 % of the force
//!    before every jump, the test is the **single-leg** form.
//!
//! When the evidence is split (some jumps one way, some another; a single
//! rebound; a landing and a pull in one recording) the kind is the majority's
//! and every trial carries `kind_uncertain` naming the alternative.

use crate::analysis::{Context, loaded_side};
use crate::cmj::{onset_band, unweighting_start};
use crate::drop_jump::MAX_DROP_CONTACT_S;
use crate::flags::FlagCode;
use crate::hops::MAX_HOP_CONTACT_S;
use crate::recording::TrialKind;
use crate::segment::{Stretch, group_reps, has_countermovement};
use crate::signal::max_of;
use crate::weighing::first_steady;

/// The detected kind and, when another kind fits almost as well, why.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Detection {
    /// The kind to analyse as.
    pub kind: TrialKind,
    /// A message naming the alternative, when the evidence is split.
    pub doubt: Option<String>,
}

impl Detection {
    fn sure(kind: TrialKind) -> Self {
        Self { kind, doubt: None }
    }

    fn unsure(kind: TrialKind, alternative: TrialKind, why: &str) -> Self {
        Self {
            kind,
            doubt: Some(format!(
                "the kind was detected from the signal as {} but it may be {} ({why}); pass the kind to be sure",
                kind.code(),
                alternative.code()
            )),
        }
    }
}

/// Detects the kind of a recording whose kind nobody gave.
pub(crate) fn detect_kind(ctx: &Context<'_>) -> Detection {
    let rate = ctx.rate();
    let stretches = &ctx.segments.stretches;
    let impact = |s: &Stretch| {
        s.arrived
            && max_of(
                &ctx.signal.total,
                s.start..(s.start + rate.samples(0.3)).min(s.end),
            ) >= 1.5 * ctx.level
    };
    if !ctx.segments.any_flight() {
        let landing = stretches.iter().any(impact);
        let pull = has_pull(ctx);
        return match (landing, pull) {
            (true, true) => Detection::unsure(
                TrialKind::Landing,
                TrialKind::Imtp,
                "it shows a landing and a held pull",
            ),
            (true, false) => Detection::sure(TrialKind::Landing),
            (false, true) => Detection::sure(TrialKind::Imtp),
            (false, false) if ctx.recording.cop.is_some() => Detection::sure(TrialKind::Balance),
            (false, false) => Detection::sure(TrialKind::Cmj),
        };
    }
    let drop_contact = rate.samples(MAX_DROP_CONTACT_S);
    let drops = stretches
        .iter()
        .filter(|s| {
            s.arrived
                && s.flights
                    .first()
                    .is_some_and(|f| f.takeoff - s.start <= drop_contact)
        })
        .count();
    let single_leg = single_leg(ctx);
    if drops > 0 {
        return Detection::sure(TrialKind::DropJump);
    }
    let (rebounds, big_rebounds) = rebounds(ctx);
    if big_rebounds > 0 {
        let kind = if single_leg {
            TrialKind::SingleLegHop
        } else {
            TrialKind::RepeatedHops
        };
        return if big_rebounds == 1 && rebounds == 1 {
            Detection::unsure(
                kind,
                TrialKind::Cmj,
                "a single rebound could be a double bounce",
            )
        } else {
            Detection::sure(kind)
        };
    }
    let (cmj, squat) = countermovement_votes(ctx);
    let (cmj_kind, sj_kind) = (
        if single_leg {
            TrialKind::SingleLegCmj
        } else {
            TrialKind::Cmj
        },
        TrialKind::SquatJump,
    );
    match (cmj, squat) {
        (0, 0) => Detection::sure(cmj_kind),
        (_, 0) => Detection::sure(cmj_kind),
        (0, _) => Detection::sure(sj_kind),
        (c, s) if c >= s => Detection::unsure(
            cmj_kind,
            sj_kind,
            &format!("{s} of {} jumps pushed without a countermovement", c + s),
        ),
        (c, s) => Detection::unsure(
            sj_kind,
            cmj_kind,
            &format!("{c} of {} jumps began with a countermovement", c + s),
        ),
    }
}

/// Force held at least 30 % above the first steady standing for 0.5 s
/// (the recording's steadiest second may be the held pull itself).
fn has_pull(ctx: &Context<'_>) -> bool {
    let Some(level) = first_steady(&ctx.signal, ctx.threshold).map(|w| w.mean) else {
        return false;
    };
    let needed = ctx
        .rate()
        .samples(0.5)
        .div_ceil(ctx.signal.block_len)
        .max(1);
    let mut run = 0usize;
    for k in 0..ctx.signal.blocks.len() {
        if ctx.signal.block_mean(k) > 1.3 * level {
            run += 1;
            if run >= needed {
                return true;
            }
        } else {
            run = 0;
        }
    }
    false
}

/// Rebound contacts, and those whose flight reaches at least half the
/// height (70 % of the flight time) of the flight before.
fn rebounds(ctx: &Context<'_>) -> (usize, usize) {
    let max_contact = ctx.rate().samples(MAX_HOP_CONTACT_S);
    let (mut all, mut big) = (0, 0);
    for s in &ctx.segments.stretches {
        for pair in s.flights.windows(2) {
            let (Some(a), Some(b)) = (pair.first(), pair.get(1)) else {
                continue;
            };
            if b.takeoff - a.landing > max_contact
                || has_countermovement(&ctx.signal, a.landing, b.takeoff, ctx.level)
            {
                continue;
            }
            all += 1;
            let (fa, fb) = (a.landing - a.takeoff, b.landing - b.takeoff);
            if fb as f64 >= 0.7 * fa as f64 {
                big += 1;
            }
        }
    }
    (all, big)
}

/// Jumps from standing with an unweighting before the push, and without.
fn countermovement_votes(ctx: &Context<'_>) -> (usize, usize) {
    let band = onset_band(ctx.recording_weighing.map_or(0.01 * ctx.level, |w| w.sd));
    let (mut cmj, mut squat) = (0, 0);
    for s in &ctx.segments.stretches {
        let mut lo = s.start;
        for rep in group_reps(&ctx.signal, &s.flights, ctx.level) {
            let (Some(first), Some(last)) = (rep.first(), rep.last()) else {
                continue;
            };
            match unweighting_start(&ctx.signal, ctx.level, band, lo, first.takeoff) {
                Ok(_) => cmj += 1,
                Err(flag) if flag.code == FlagCode::PhaseDetectionFailed => squat += 1,
                Err(_) => {}
            }
            lo = last.landing;
        }
    }
    (cmj, squat)
}

/// On two plates: one plate carries under 20 % of the force in the second
/// before every jump.
fn single_leg(ctx: &Context<'_>) -> bool {
    if ctx.signal.sides.is_none() {
        return false;
    }
    let before = ctx.rate().samples(1.0);
    let mut jumps = 0;
    for s in &ctx.segments.stretches {
        for f in &s.flights {
            let range = f.takeoff.saturating_sub(before).max(s.start)..f.takeoff;
            if loaded_side(&ctx.signal, range).is_none() {
                return false;
            }
            jumps += 1;
        }
    }
    jumps > 0
}
