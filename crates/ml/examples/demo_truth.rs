//! A risk model trained on the demo organisation's features, judged against the true hazard
//! on the same later weeks (docs/design/hazard-model.md). Uses the planned values, not
//! measured recordings: how close can the features get when measurement is perfect?
//!
//!   cargo run --release -p mhp-ml --example demo_truth [TEAMS] [SUBJECTS_PER_TEAM] [WEEKS] [SEED]
#![allow(clippy::unwrap_used, clippy::print_stdout)]

use std::time::Instant;

use mhp_demo::{DemoSpec, plan};
use mhp_ml::features::{self, FeatureSpec, History, InjurySpan, Observation};
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
    let fspec = FeatureSpec {
        metrics: vec!["jump_height_m".into(), "asymmetry_pct".into()],
        points: vec!["asymmetry_pct".into()],
        horizon_days: 7,
    };
    let mut histories: Vec<History> = vec![History::default(); org.subjects.len()];
    for a in &org.assessments {
        histories[a.subject].observations.push(Observation {
            day: a.recorded_at_ms.div_euclid(86_400_000),
            metrics: [
                ("jump_height_m".to_owned(), a.jump_height_m),
                ("asymmetry_pct".to_owned(), a.asymmetry_pct),
            ]
            .into(),
        });
    }
    for l in &org.loads {
        histories[l.subject]
            .loads
            .push((l.day, f64::from(l.load_au())));
    }
    for i in &org.injuries {
        histories[i.subject].injuries.push(InjurySpan {
            occurred_day: i.occurred_day,
            cleared_day: Some(i.occurred_day + i64::from(i.time_loss_days)),
        });
    }
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
