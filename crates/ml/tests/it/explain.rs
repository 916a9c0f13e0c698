//! Explanations by group against the demo's known hazard: on the rows where the true hazard
//! is high, the top reason names the hazard's dominant term.

use mhp_demo::model as truth;
use mhp_demo::{DemoSpec, plan};
use mhp_ml::explain::{metric_words, reasons};
use mhp_ml::features;
use mhp_ml::search::{SearchSpace, search};
use mhp_ml::{Dataset, Model, ModelConfig};

use crate::demo_histories;

fn excess(v: f64, threshold: f64, cap: f64) -> f64 {
    (v - threshold).clamp(0.0, cap)
}

#[test]
fn the_top_reason_is_the_true_hazards_dominant_term_on_high_risk_rows() {
    let spec = DemoSpec {
        teams: 6,
        subjects_per_team: 150,
        weeks: 30,
        ..DemoSpec::default()
    };
    let org = plan(&spec).unwrap();
    let fspec = demo_histories::feature_spec();
    let histories = demo_histories::histories(&org);
    let known_until = spec.start_day + 7 * spec.weeks as i64;
    let mut data = Dataset::new(fspec.names()).unwrap();
    for w in &org.weekly_truth {
        let day = spec.start_day + 7 * w.week as i64;
        let row = features::build(&fspec, &histories[w.subject], day, known_until);
        data.push(&row.values, row.label.unwrap(), w.week as i64, &[])
            .unwrap();
    }
    let cutoff = data.time_cutoff(0.7).unwrap();
    let (train, _) = data.split_by_time(cutoff);
    let groups = fspec.groups();
    let found = search(&SearchSpace::standard(groups.clone(), 0), &train).unwrap();
    let model = &found.model;

    // High-risk test rows: a true weekly hazard of 5 % or more (about 2.5× the base rate).
    let (mut high, mut matched) = (0, 0);
    for (i, w) in org.weekly_truth.iter().enumerate() {
        if (w.week as i64) < cutoff || w.hazard < 0.05 {
            continue;
        }
        let terms = [
            (
                "asymmetry_pct",
                truth::B_ASYMMETRY * excess(w.asymmetry_pct.abs(), 10.0, 30.0) / 10.0,
            ),
            (
                "jump_height_m:change",
                truth::B_HEIGHT_DROP * excess(w.height_drop_pct, 5.0, 30.0) / 10.0,
            ),
            (
                "load",
                truth::B_ACWR * excess(w.acwr.min(2.0), 1.3, 0.7) / 0.3,
            ),
            (
                "injury_history",
                truth::B_PRIOR_INJURY * f64::from(u8::from(w.prior_injury)),
            ),
        ];
        let dominant = terms.iter().max_by(|a, b| a.1.total_cmp(&b.1)).unwrap().0;
        let row = data.select(model.feature_names()).unwrap();
        let top = reasons(model, row.row(i).unwrap(), &groups, 3).unwrap();
        high += 1;
        if top.first().is_some_and(|r| r.group == dominant) {
            matched += 1;
        }
    }
    let share = f64::from(matched) / f64::from(high);
    eprintln!("top reason = dominant term on {matched} of {high} high-risk rows ({share:.2})");
    assert!(high >= 100, "{high}");
    // The issue asks for 80 %; measured 85 % (333 of 390) since the search's linear model bends
    // at knots (76 % with straight lines).
    assert!(share >= 0.80, "{matched} of {high}");
}

#[test]
fn correlated_features_of_a_group_add_up_and_reasons_are_plain_words() {
    let names: Vec<String> = [
        "jump_height_m_latest",
        "jump_height_m_mean3",
        "jump_height_m_change_from_baseline",
        "load_acute_7d",
        "load_chronic_28d",
        "acwr",
    ]
    .map(String::from)
    .to_vec();
    // Latest and mean height nearly equal, so a model may weigh them in opposite directions.
    let mut rng = mhp_ml::rng::Rng::new(3);
    let mut data = Dataset::new(names.clone()).unwrap();
    for t in 0..4000 {
        let h = 0.4 + 0.05 * rng.normal();
        let change = 10.0 * rng.normal();
        let acwr = 1.0 + 0.3 * rng.normal();
        let eta = -3.0 - 0.15 * change + 2.0 * (acwr - 1.0);
        let y = rng.bernoulli(1.0 / (1.0 + (-eta).exp()));
        data.push(
            &[
                h,
                h + 0.002 * rng.normal(),
                change,
                2000.0 * acwr,
                2000.0,
                acwr,
            ],
            y,
            t / 100,
            &[],
        )
        .unwrap();
    }
    let model = Model::fit(&ModelConfig::logistic(), &data).unwrap();
    let spec = features::FeatureSpec {
        metrics: vec!["jump_height_m".into()],
        points: vec![],
        horizon_days: 7,
    };
    let groups = spec.groups();
    let row = [0.36, 0.361, -8.04, 3200.0, 2000.0, 1.6];
    let r = reasons(&model, &row, &groups, 5).unwrap();
    let contributions = model.contributions(&row).unwrap();
    let level: f64 = contributions[..2].iter().map(|c| c.1).sum();
    let by_group = |g: &str| r.iter().find(|x| x.group == g).unwrap();
    assert!((by_group("jump_height_m:level").contribution - level).abs() < 1e-12);
    assert_eq!(
        by_group("jump_height_m:change").text,
        "jump height 8 % below own baseline"
    );
    assert_eq!(
        by_group("load").text,
        "load this week 1.6 × the last month's"
    );
    assert_eq!(by_group("jump_height_m:level").text, "jump height 0.360");
    let total: f64 = r.iter().map(|x| x.contribution).sum();
    let all: f64 = contributions.iter().map(|c| c.1).sum();
    assert!((total - all).abs() < 1e-9);
    assert_eq!(
        metric_words("asymmetry.propulsive_impulse_pct"),
        "asymmetry of propulsive impulse"
    );
    assert_eq!(
        metric_words("peak_propulsive_force_n_per_kg"),
        "peak propulsive force"
    );
}
