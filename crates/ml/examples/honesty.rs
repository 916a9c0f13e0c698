//! The honesty figures of issue 24: the platform's default model search
//! (`SearchSpace::standard` over the feature groups, as `train-injury-risk` runs it) against
//! the true hazard, on the same test rows, for cohorts of 80 and 240 athletes over 24 weeks,
//! under the demo's hazard (`docs/design/hazard-model.md`) and under a second hazard shape the
//! demo does not use (see [`second_hazard`]). Each cohort is one demo season (its own seed);
//! the model trains on the first 70 % of the weeks and is tested on the rest.
//!
//!   cargo run --release -p mhp-ml --example honesty -- [--cohorts N] [--check] [--floor]
//!       [--export DIR] [--only demo|second] [--size TEAMS SUBJECTS WEEKS]
//!
//! Prints, per scenario, the mean over cohorts of the model's test AUC, the true hazard's and
//! their paired difference (with its standard error), and the pooled AUCs. `--check` exits
//! with status 1 when a mean difference exceeds its limit (0.03 at 80 athletes, 0.02 at 240);
//! `--floor` when one falls more than 0.01 below the figure recorded in
//! docs/design/pipelines.md (the default 20 cohorts only): a regression, while the limits are
//! not all met.
//! `--export DIR` writes each cohort's rows (`DIR/{scenario}_{athletes}_{seed}.csv`, with a
//! `test` column and the true hazard), the groups (`DIR/groups.json`) and each evaluated
//! cohort's AUCs (`DIR/results.json`) for `tools/ml/honesty_sklearn.py`, which runs the same
//! search with scikit-learn on the same rows.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::io::Write;
use std::time::Instant;

use mhp_demo::{DemoOrg, DemoSpec, plan};
use mhp_ml::features::{self, FeatureSpec, History, InjurySpan, Observation};
use mhp_ml::rng::Rng;
use mhp_ml::search::{SearchSpace, search};
use mhp_ml::{Dataset, Predictions};

/// The demo's published data as de-identified histories: jump height, asymmetry and body mass
/// per assessment, session-RPE load, time-loss injuries cleared after their time loss.
fn histories(org: &DemoOrg) -> Vec<History> {
    let mut histories: Vec<History> = vec![History::default(); org.subjects.len()];
    for a in &org.assessments {
        histories[a.subject].observations.push(Observation {
            day: a.recorded_at_ms.div_euclid(86_400_000),
            metrics: [
                ("jump_height_m".to_owned(), a.jump_height_m),
                ("asymmetry_pct".to_owned(), a.asymmetry_pct),
                ("body_mass_kg".to_owned(), a.body_mass_kg),
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
    histories
}

fn feature_spec() -> FeatureSpec {
    FeatureSpec {
        metrics: vec![
            "jump_height_m".into(),
            "asymmetry_pct".into(),
            "body_mass_kg".into(),
        ],
        points: vec!["asymmetry_pct".into()],
        horizon_days: 7,
    }
}

/// A hazard of another shape than the demo's, on the same true inputs: load is risky both
/// below and above the usual (a U in ACWR, lowest at 1.0), and a jump-height drop matters only
/// together with asymmetry (an interaction); no threshold terms, no injury history, no sport.
/// Weekly probability from the complementary log-log link, as the demo's.
pub fn second_hazard(w: &mhp_demo::WeeklyRisk) -> f64 {
    let u = ((w.acwr - 1.0) / 0.3).powi(2).min(6.0);
    let drop = w.height_drop_pct.clamp(0.0, 30.0) / 10.0;
    let asym = w.asymmetry_pct.abs().min(30.0) / 10.0;
    let eta = -4.9 + 0.55 * u + 0.9 * drop * asym;
    -(-eta.exp()).exp_m1()
}

#[derive(Clone, Copy, PartialEq)]
enum Hazard {
    Demo,
    Second,
}

impl Hazard {
    fn name(self) -> &'static str {
        match self {
            Hazard::Demo => "demo",
            Hazard::Second => "second",
        }
    }
}

struct Cohort {
    model_auc: f64,
    truth_auc: f64,
    kind: &'static str,
    /// Test (probability, true hazard, label).
    test: Vec<(f64, f64, bool)>,
    test_positives: usize,
    rows: usize,
    seconds: f64,
}

fn cohort(
    hazard: Hazard,
    teams: usize,
    per_team: usize,
    weeks: usize,
    seed: u64,
    export: Option<&str>,
) -> Option<Cohort> {
    let spec = DemoSpec {
        teams,
        subjects_per_team: per_team,
        weeks,
        seed,
        ..DemoSpec::default()
    };
    let org = plan(&spec).unwrap();
    let fspec = feature_spec();
    let hist = histories(&org);
    let known_until = spec.start_day + 7 * weeks as i64;
    let mut data = Dataset::new(fspec.names()).unwrap();
    let mut truth = Vec::new();
    let mut rng = Rng::new(seed ^ 0x005e_ed0f_5ec0);
    for w in &org.weekly_truth {
        let day = spec.start_day + 7 * w.week as i64;
        let row = features::build(&fspec, &hist[w.subject], day, known_until);
        let (h, y) = match hazard {
            Hazard::Demo => (w.hazard, row.label.unwrap()),
            Hazard::Second => {
                let h = second_hazard(w);
                (h, rng.bernoulli(h))
            }
        };
        data.push(&row.values, y, w.week as i64, &[]).unwrap();
        truth.push((w.week as i64, h));
    }
    let cutoff = data.time_cutoff(0.7).unwrap();
    let (train, test) = data.split_by_time(cutoff);
    if let Some(dir) = export {
        write_csv(
            &format!("{dir}/{}_{}_{seed}.csv", hazard.name(), teams * per_team),
            &data,
            &truth,
            cutoff,
        );
    }
    if train.positives() < 2 || test.positives() == 0 || test.positives() == test.n_rows() {
        return None;
    }
    let started = Instant::now();
    let found = search(&SearchSpace::standard(fspec.groups(), 0), &train).unwrap();
    let seconds = started.elapsed().as_secs_f64();
    let test_sel = test.select(found.model.feature_names()).unwrap();
    let p = found.model.predict_dataset(&test_sel).unwrap();
    let h: Vec<f64> = truth
        .iter()
        .filter(|(w, _)| *w >= cutoff)
        .map(|(_, h)| *h)
        .collect();
    let y = test.labels().to_vec();
    let model_auc = Predictions::new(y.clone(), p.clone()).unwrap().roc_auc()?;
    let truth_auc = Predictions::new(y.clone(), h.clone()).unwrap().roc_auc()?;
    Some(Cohort {
        model_auc,
        truth_auc,
        kind: found.model.kind(),
        test: p
            .into_iter()
            .zip(h)
            .zip(y)
            .map(|((p, h), y)| (p, h, y))
            .collect(),
        test_positives: test.positives(),
        rows: data.n_rows(),
        seconds,
    })
}

fn write_csv(path: &str, data: &Dataset, truth: &[(i64, f64)], cutoff: i64) {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let mut header = String::from("time,test,label,hazard");
    for n in data.feature_names() {
        header.push(',');
        header.push_str(n);
    }
    writeln!(f, "{header}").unwrap();
    for (i, row) in data.rows().enumerate() {
        let t = data.times()[i];
        let mut line = format!(
            "{t},{},{},{}",
            u8::from(t >= cutoff),
            u8::from(data.labels()[i]),
            truth[i].1
        );
        for v in row {
            line.push(',');
            if !v.is_nan() {
                line.push_str(&v.to_string());
            }
        }
        writeln!(f, "{line}").unwrap();
    }
    f.flush().unwrap();
}

fn mean_se(v: &[f64]) -> (f64, f64) {
    let n = v.len() as f64;
    let m = v.iter().sum::<f64>() / n;
    let var = v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
    (m, (var / n).sqrt())
}

/// How far below its recorded figure a scenario's difference may fall under `--floor`.
const FLOOR_MARGIN: f64 = 0.01;

fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let mut take = |flag: &str, n: usize| -> Option<Vec<String>> {
        let i = args.iter().position(|a| a == flag)?;
        let v: Vec<String> = args.drain(i..=i + n).skip(1).collect();
        Some(v)
    };
    let cohorts: u64 = take("--cohorts", 1).map_or(20, |v| v[0].parse().unwrap());
    let check = take("--check", 0).is_some();
    let floor = take("--floor", 0).is_some();
    let export = take("--export", 1).map(|v| v[0].clone());
    let only = take("--only", 1).map(|v| v[0].clone());
    let size = take("--size", 3).map(|v| {
        let n: Vec<usize> = v.iter().map(|s| s.parse().unwrap()).collect();
        (n[0], n[1], n[2])
    });
    if let Some(dir) = &export {
        std::fs::create_dir_all(dir).unwrap();
        let groups = serde_json::to_string_pretty(&feature_spec().groups()).unwrap();
        std::fs::write(format!("{dir}/groups.json"), groups).unwrap();
    }
    // (hazard, teams, subjects per team, weeks, limit, the difference recorded in
    // docs/design/pipelines.md for 20 cohorts)
    let mut scenarios = vec![
        (Hazard::Demo, 2, 40, 24, 0.03, Some(-0.052)),
        (Hazard::Demo, 3, 80, 24, 0.02, Some(-0.026)),
        (Hazard::Second, 2, 40, 24, 0.03, Some(-0.039)),
        (Hazard::Second, 3, 80, 24, 0.02, Some(-0.019)),
    ];
    if let Some((t, s, w)) = size {
        scenarios = vec![
            (Hazard::Demo, t, s, w, 0.03, None),
            (Hazard::Second, t, s, w, 0.03, None),
        ];
    }
    if cohorts != 20 {
        scenarios.iter_mut().for_each(|s| s.5 = None);
    }
    if let Some(o) = &only {
        scenarios.retain(|s| s.0.name() == o);
    }
    println!(
        "| hazard | athletes × weeks | cohorts | test injuries (mean) | model AUC | true hazard AUC | difference (± s.e.) | pooled model / truth | models chosen | limit | |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    let mut failed = false;
    let mut fell = false;
    // Per evaluated cohort, for tools/ml/honesty_sklearn.py: mhp-ml's and the truth's AUC.
    let mut exported = Vec::new();
    for (hazard, teams, per_team, weeks, limit, recorded) in scenarios {
        let mut results = Vec::new();
        for seed in 1..=cohorts {
            if let Some(c) = cohort(hazard, teams, per_team, weeks, seed, export.as_deref()) {
                exported.push(serde_json::json!({
                    "hazard": hazard.name(), "athletes": teams * per_team, "seed": seed,
                    "model_auc": c.model_auc, "truth_auc": c.truth_auc, "model": c.kind,
                }));
                results.push(c);
            }
        }
        let models: Vec<f64> = results.iter().map(|c| c.model_auc).collect();
        let truths: Vec<f64> = results.iter().map(|c| c.truth_auc).collect();
        let diffs: Vec<f64> = results.iter().map(|c| c.truth_auc - c.model_auc).collect();
        let (m, _) = mean_se(&models);
        let (t, _) = mean_se(&truths);
        let (d, se) = mean_se(&diffs);
        let pooled = |f: &dyn Fn(&(f64, f64, bool)) -> f64| {
            let (s, y): (Vec<f64>, Vec<bool>) = results
                .iter()
                .flat_map(|c| c.test.iter().map(|r| (f(r), r.2)))
                .unzip();
            Predictions::new(y, s)
                .unwrap()
                .roc_auc()
                .unwrap_or(f64::NAN)
        };
        let (pm, pt) = (pooled(&|r| r.0), pooled(&|r| r.1));
        let mut kinds: Vec<(&str, usize)> = Vec::new();
        for c in &results {
            match kinds.iter_mut().find(|k| k.0 == c.kind) {
                Some(k) => k.1 += 1,
                None => kinds.push((c.kind, 1)),
            }
        }
        let positives =
            results.iter().map(|c| c.test_positives).sum::<usize>() as f64 / results.len() as f64;
        let ok = d <= limit;
        failed |= !ok;
        // A fall of more than 0.01 below the recorded figure is a regression.
        if let Some(r) = recorded.filter(|r| -d < r - FLOOR_MARGIN) {
            eprintln!(
                "  {} × {}: {:+.3} is more than {FLOOR_MARGIN} below the recorded {r:+.3}",
                hazard.name(),
                teams * per_team,
                -d
            );
            fell = true;
        }
        println!(
            "| {} | {} × {weeks} | {} | {positives:.1} | {m:.3} | {t:.3} | {:+.3} ± {se:.3} | {pm:.3} / {pt:.3} | {} | {limit} | {} |",
            hazard.name(),
            teams * per_team,
            results.len(),
            -d,
            kinds
                .iter()
                .map(|(k, n)| format!("{k} {n}"))
                .collect::<Vec<_>>()
                .join(", "),
            if ok { "ok" } else { "MISSED" },
        );
        let secs: f64 = results.iter().map(|c| c.seconds).sum();
        let rows: usize = results.iter().map(|c| c.rows).sum();
        eprintln!(
            "  {} cohorts, {rows} rows in all, searched in {secs:.1} s",
            results.len()
        );
    }
    if let Some(dir) = &export {
        let text = serde_json::to_string_pretty(&exported).unwrap();
        std::fs::write(format!("{dir}/results.json"), text).unwrap();
    }
    if check && failed {
        eprintln!("a limit was missed");
        std::process::exit(1);
    }
    if floor && fell {
        eprintln!("a figure fell below the one recorded");
        std::process::exit(1);
    }
}
