//! A risk model trained on the demo organisation's features, judged against the true hazard
//! on the same later weeks (docs/design/hazard-model.md). Uses the planned values, not
//! measured recordings: how close can the features get when measurement is perfect?
//!
//!   cargo run --release -p mhp-ml --example demo_truth [TEAMS] [SUBJECTS_PER_TEAM] [WEEKS] [SEED]
#![allow(clippy::unwrap_used, clippy::print_stdout)]

use std::time::Instant;

#[path = "../tests/it/demo_histories.rs"]
mod demo_histories;

use mhp_demo::{DemoSpec, plan};
use mhp_ml::features;
use mhp_ml::{Dataset, Model, ModelConfig, Predictions};

fn main() {
    let arg = |i: usize, d: usize| std::env::args().nth(i).map_or(d, |a| a.parse().unwrap());
    let spec = DemoSpec {
        teams: arg(1, 12),
        subjects_per_team: arg(2, 200),
        weeks: arg(3, 40),
        seed: arg(4, 1) as u64,
        ..DemoSpec::default()
    };
    let t = Instant::now();
    let org = plan(&spec).unwrap();
    let planned = t.elapsed();
    let fspec = demo_histories::feature_spec();
    let histories = demo_histories::histories(&org);
    let known_until = spec.start_day + 7 * spec.weeks as i64;
    let mut data = Dataset::new(fspec.names()).unwrap();
    let mut hazards = Vec::new();
    let t = Instant::now();
    for truth in &org.weekly_truth {
        let day = spec.start_day + 7 * truth.week as i64;
        let row = features::build(&fspec, &histories[truth.subject], day, known_until);
        let s = &org.subjects[truth.subject];
        let sex = format!("{:?}", s.sex);
        data.push(
            &row.values,
            row.label.unwrap(),
            truth.week as i64,
            &[("sex", &sex), ("sport", &s.sport)],
        )
        .unwrap();
        hazards.push((truth.week as i64, truth.hazard, truth.injured));
    }
    let built = t.elapsed();
    let cutoff = data.time_cutoff(0.7).unwrap();
    let (train, test) = data.split_by_time(cutoff);
    let (h, y): (Vec<f64>, Vec<bool>) = hazards
        .iter()
        .filter(|(w, _, _)| *w >= cutoff)
        .map(|(_, h, y)| (*h, *y))
        .unzip();
    let truth_auc = Predictions::new(y, h).unwrap().metrics().roc_auc.unwrap();
    println!(
        "demo {} subjects × {} weeks: {} rows ({} injured), planned in {:.1} s, features in {:.2} s",
        org.subjects.len(),
        spec.weeks,
        data.n_rows(),
        data.positives(),
        planned.as_secs_f64(),
        built.as_secs_f64()
    );
    println!(
        "test: weeks ≥ {cutoff}, {} rows, {} injured; true hazard AUC {truth_auc:.3}",
        test.n_rows(),
        test.positives()
    );
    for (name, config) in [
        ("logistic", ModelConfig::logistic()),
        ("boosting, defaults", ModelConfig::gradient_boosting()),
        (
            "boosting, slow and shallow",
            ModelConfig::GradientBoosting {
                n_trees: 300,
                learning_rate: 0.03,
                max_depth: 3,
                min_samples_leaf: 100,
                subsample: 0.8,
                n_bins: 64,
                seed: 0,
                l2: 10.0,
            },
        ),
    ] {
        let t = Instant::now();
        let model = Model::fit(&config, &train).unwrap();
        let took = t.elapsed();
        let p = model.predict_dataset(&test).unwrap();
        let auc = Predictions::new(test.labels().to_vec(), p)
            .unwrap()
            .metrics()
            .roc_auc
            .unwrap();
        println!(
            "{name}: trained in {:.0} ms, test AUC {auc:.3} ({:+.3} against the truth)",
            took.as_secs_f64() * 1e3,
            auc - truth_auc
        );
    }
}
