//! Trains both models on a synthetic injury-like dataset and reports training time,
//! prediction throughput and test AUC.
//!
//! ```text
//! cargo run --release --example train_bench -- [ROWS] [FEATURES]   # default 20000 12
//! ```
#![allow(clippy::print_stdout)]

use std::hint::black_box;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use mhp_ml::{Dataset, MlError, Model, ModelConfig, Predictions, synth};

const SEED: u64 = 2024;
const MISSING_RATE: f64 = 0.05;

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let rows = parse(args.next(), 20_000);
    let features = parse(args.next(), 12);
    let (Some(rows), Some(features)) = (rows, features) else {
        eprintln!("usage: train_bench [ROWS] [FEATURES]");
        return ExitCode::FAILURE;
    };
    match run(rows, features) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("train_bench: {e}");
            ExitCode::FAILURE
        }
    }
}

fn parse(arg: Option<String>, default: usize) -> Option<usize> {
    arg.map_or(Some(default), |a| a.parse().ok())
}

fn run(rows: usize, features: usize) -> Result<(), MlError> {
    let sample = synth::injury_like(rows, features, MISSING_RATE, SEED)?;
    let cutoff = sample.data.time_cutoff(0.7)?;
    let (train, test) = sample.data.split_by_time(cutoff);
    let truth: Vec<f64> = sample
        .data
        .times()
        .iter()
        .zip(&sample.true_probabilities)
        .filter(|(t, _)| **t >= cutoff)
        .map(|(_, p)| *p)
        .collect();
    let true_auc = auc(&test, truth)?;
    println!(
        "data: {} rows x {} features ({} % missing), train {} rows / test {} rows, \
         base rate {:.3}, true-model test AUC {true_auc:.4}",
        sample.data.n_rows(),
        sample.data.n_features(),
        MISSING_RATE * 100.0,
        train.n_rows(),
        test.n_rows(),
        sample.data.positives() as f64 / sample.data.n_rows() as f64,
    );
    for (name, config) in [
        ("logistic", ModelConfig::logistic()),
        ("gradient_boosting", ModelConfig::gradient_boosting()),
    ] {
        bench(name, &config, &train, &test)?;
    }
    Ok(())
}

fn bench(name: &str, config: &ModelConfig, train: &Dataset, test: &Dataset) -> Result<(), MlError> {
    let started = Instant::now();
    let model = Model::fit(config, train)?;
    let training = started.elapsed();

    let probabilities = model.predict_dataset(test)?;
    let test_auc = auc(test, probabilities)?;

    // Repeat whole passes over the test rows for at least half a second.
    let started = Instant::now();
    let mut predictions = 0usize;
    while started.elapsed() < Duration::from_millis(500) {
        for row in test.rows() {
            black_box(model.predict_proba(black_box(row))?);
        }
        predictions += test.n_rows();
    }
    let per_second = predictions as f64 / started.elapsed().as_secs_f64();

    let artifact = model.to_json()?;
    println!(
        "{name:>18}: training {:>8.1} ms | {:>10.0} predictions/s | test AUC {test_auc:.4} | \
         artifact {} bytes",
        training.as_secs_f64() * 1e3,
        per_second,
        artifact.len(),
    );
    Ok(())
}

fn auc(data: &Dataset, probabilities: Vec<f64>) -> Result<f64, MlError> {
    Ok(Predictions::new(data.labels().to_vec(), probabilities)?
        .roc_auc()
        .unwrap_or(f64::NAN))
}
