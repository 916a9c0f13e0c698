//! Prints the demo organisation's figures for a number of seeds (default 8): injured share of
//! subjects, weekly injury rate, the AUC of the true hazard (realised, and expected under the
//! model), and how long planning and one recording take:
//! `cargo run --release -p mhp-demo --example demo_stats [SEEDS]`.
#![allow(clippy::print_stdout)]

use std::time::Instant;

fn main() -> Result<(), mhp_demo::DemoError> {
    let seeds: u64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(8);
    let (mut shares, mut expected, mut scores, mut labels) = (vec![], vec![], vec![], vec![]);
    let mut tally: std::collections::BTreeMap<String, usize> = Default::default();
    for seed in 1..=seeds {
        let spec = mhp_demo::DemoSpec {
            seed,
            ..Default::default()
        };
        let started = Instant::now();
        let org = mhp_demo::plan(&spec)?;
        let planned = started.elapsed();
        let rows = org.weekly_truth.len() as f64;
        let share = |f: &dyn Fn(&mhp_demo::WeeklyRisk) -> bool| {
            100.0 * org.weekly_truth.iter().filter(|w| f(w)).count() as f64 / rows
        };
        let hazards: Vec<f64> = org.weekly_truth.iter().map(|w| w.hazard).collect();
        let exp_auc = expected_auc(&hazards);
        println!(
            "seed {seed}: {} subjects, {} assessments, {} loads, {} injuries; injured subjects \
             {:.1} %, weekly rate {:.2} % (mean hazard {:.2} %); AUC {:.3} (expected {exp_auc:.3}); \
             ACWR > 1.3 {:.1} %, |asym| > 10 {:.1} %, drop > 5 {:.1} %, prior {:.1} %; plan {planned:?}",
            org.subjects.len(),
            org.assessments.len(),
            org.loads.len(),
            org.injuries.len(),
            100.0 * org.injured_subject_share(),
            share(&|w| w.injured),
            100.0 * hazards.iter().sum::<f64>() / rows,
            org.hazard_auc().unwrap_or(f64::NAN),
            share(&|w| w.acwr > 1.3),
            share(&|w| w.asymmetry_pct.abs() > 10.0),
            share(&|w| w.height_drop_pct > 5.0),
            share(&|w| w.prior_injury),
        );
        if seed == 1 {
            let started = Instant::now();
            let mut bytes = 0;
            for i in 0..20 {
                bytes += mhp_demo::recording_csv(&org, i)?.len();
            }
            println!(
                "one recording: {} bytes in {:?} (mean of 20)",
                bytes / 20,
                started.elapsed() / 20
            );
        }
        for i in &org.injuries {
            let sport = &org.subjects[i.subject].sport;
            *tally.entry(format!("severity {}", i.severity)).or_default() += 1;
            *tally
                .entry(format!("{sport} mechanism {}", i.mechanism))
                .or_default() += 1;
            *tally.entry(format!("{sport} injuries")).or_default() += 1;
        }
        shares.push(org.injured_subject_share());
        expected.push(exp_auc);
        scores.extend(hazards);
        labels.extend(org.weekly_truth.iter().map(|w| w.injured));
    }
    let n = shares.len() as f64;
    let injured = labels.iter().filter(|x| **x).count() as f64;
    let prevalence = injured / labels.len() as f64;
    let brier = |p: &dyn Fn(usize) -> f64| {
        labels
            .iter()
            .enumerate()
            .map(|(i, y)| (p(i) - f64::from(u8::from(*y))).powi(2))
            .sum::<f64>()
            / labels.len() as f64
    };
    println!(
        "Brier score: true hazard {:.5}, constant {prevalence:.4} {:.5}",
        brier(&|i| scores[i]),
        brier(&|_| prevalence)
    );
    for (k, v) in &tally {
        println!("{k}: {v}");
    }
    let mean = shares.iter().sum::<f64>() / n;
    let (lo, hi) = shares
        .iter()
        .fold((f64::MAX, f64::MIN), |(a, b), x| (a.min(*x), b.max(*x)));
    println!(
        "{seeds} seeds: injured subjects mean {:.1} % (min {:.1}, max {:.1}); {} at-risk weeks, \
         weekly injury rate {:.2} %; pooled AUC {:.3}; mean expected AUC {:.3}",
        100.0 * mean,
        100.0 * lo,
        100.0 * hi,
        labels.len(),
        100.0 * prevalence,
        mhp_demo::model::auc(&scores, &labels).unwrap_or(f64::NAN),
        expected.iter().sum::<f64>() / n,
    );
    Ok(())
}

/// The AUC expected when labels are drawn from the hazards themselves:
/// Σ h_i (1 − h_j) [h_i > h_j] / Σ h_i (1 − h_j) over pairs i ≠ j (ties count one half).
fn expected_auc(h: &[f64]) -> f64 {
    let mut sorted = h.to_vec();
    sorted.sort_by(f64::total_cmp);
    // Walking up in score order, `below` is Σ (1 − h_j) over strictly lower scores.
    let (mut num, mut below, mut i) = (0.0, 0.0, 0);
    while i < sorted.len() {
        let mut j = i;
        while j < sorted.len() && sorted[j] == sorted[i] {
            j += 1;
        }
        let group = &sorted[i..j];
        let pos: f64 = group.iter().sum();
        let neg: f64 = group.iter().map(|x| 1.0 - x).sum();
        let self_pairs: f64 = group.iter().map(|x| x * (1.0 - x)).sum();
        num += pos * below + 0.5 * (pos * neg - self_pairs);
        below += neg;
        i = j;
    }
    let pos: f64 = h.iter().sum();
    let neg: f64 = h.iter().map(|x| 1.0 - x).sum();
    let self_pairs: f64 = h.iter().map(|x| x * (1.0 - x)).sum();
    num / (pos * neg - self_pairs)
}
