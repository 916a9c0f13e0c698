//! A risk model trained on the demo organisation's features, judged against the true hazard
//! on the same later weeks (docs/design/hazard-model.md). Uses the planned values, not
//! measured recordings: how close can the features get when measurement is perfect?
//!
//!   cargo run --release -p mhp-ml --example demo_truth [TEAMS] [SUBJECTS_PER_TEAM] [WEEKS] [SEED] [--export PATH]
//!
//! `--export PATH` also writes the rows it trains and tests on as CSV, for
//! `tools/ml/sklearn_compare.py`: `subject,time,sex,sport,label,hazard,<features…>`, with the
//! subject as an opaque index, the week as time, the label as 0/1, the true weekly hazard, and an
//! empty cell for a missing value.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::io::Write;
use std::time::Instant;

#[path = "../tests/it/demo_histories.rs"]
mod demo_histories;

use mhp_demo::{DemoSpec, plan};
use mhp_ml::features;
use mhp_ml::{Dataset, Model, ModelConfig, Predictions};

fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let export = args.iter().position(|a| a == "--export").map(|i| {
        let path = args.get(i + 1).cloned().expect("--export needs a path");
        args.drain(i..=i + 1);
        path
    });
    let arg = |i: usize, d: usize| args.get(i).map_or(d, |a| a.parse().unwrap());
    let spec = DemoSpec {
        teams: arg(0, 12),
        subjects_per_team: arg(1, 200),
        weeks: arg(2, 40),
        seed: arg(3, 1) as u64,
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
    let mut csv = export.as_ref().map(|_| {
        let mut header = String::from("subject,time,sex,sport,label,hazard");
        for name in data.feature_names() {
            header.push(',');
            header.push_str(&csv_field(name));
        }
        vec![header]
    });
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
        if let Some(lines) = csv.as_mut() {
            let mut line = format!(
                "{},{},{},{},{},{}",
                truth.subject,
                truth.week,
                csv_field(&sex),
                csv_field(&s.sport),
                u8::from(row.label.unwrap()),
                truth.hazard
            );
            for v in &row.values {
                line.push(',');
                if !v.is_nan() {
                    line.push_str(&v.to_string());
                }
            }
            lines.push(line);
        }
    }
    if let (Some(path), Some(lines)) = (&export, &csv) {
        let mut file = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
        for line in lines {
            writeln!(file, "{line}").unwrap();
        }
        file.flush().unwrap();
        println!("exported {} rows to {path}", lines.len() - 1);
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
        (
            // As scikit-learn's HistGradientBoostingClassifier can (tools/ml/sklearn_compare.py).
            "boosting, slow and shallow, no subsample",
            ModelConfig::GradientBoosting {
                n_trees: 300,
                learning_rate: 0.03,
                max_depth: 3,
                min_samples_leaf: 100,
                subsample: 1.0,
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
        let metrics = Predictions::new(test.labels().to_vec(), p)
            .unwrap()
            .metrics();
        let auc = metrics.roc_auc.unwrap();
        println!(
            "{name}: trained in {:.0} ms, test AUC {auc:.4} ({:+.4} against the truth), \
             PR AUC {:.4}, Brier {:.5}",
            took.as_secs_f64() * 1e3,
            auc - truth_auc,
            metrics.pr_auc.unwrap(),
            metrics.brier
        );
    }
}

/// A CSV cell, quoted when it holds a comma, a quote or a line break.
fn csv_field(value: &str) -> String {
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_owned()
    }
}
