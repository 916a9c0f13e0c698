//! Evaluation overall and per group.

use mhp_ml::{Dataset, Evaluation, MlError, Model, ModelConfig, synth};

use crate::split;

#[test]
fn evaluates_overall_and_every_group() {
    let sample = synth::injury_like(5_000, 6, 0.05, 8).unwrap();
    let (train, test, _) = split(&sample);
    let model = Model::fit(&ModelConfig::logistic(), &train).unwrap();
    let evaluation = Evaluation::of(&model, &test).unwrap();

    let overall = &evaluation.overall;
    assert_eq!(overall.rows, test.n_rows());
    assert_eq!(overall.positives, test.positives());
    assert!(overall.roc_auc.unwrap() > 0.65);
    let base_rate = test.positives() as f64 / test.n_rows() as f64;
    assert!(overall.pr_auc.unwrap() > base_rate);
    assert!(overall.brier > 0.0 && overall.brier < base_rate);
    assert!(overall.log_loss > 0.0);
    assert_eq!(overall.calibration.len(), 10);
    assert_eq!(
        overall.calibration.iter().map(|b| b.count).sum::<usize>(),
        test.n_rows()
    );
    assert!(
        overall
            .calibration
            .windows(2)
            .all(|w| w[0].mean_predicted <= w[1].mean_predicted)
    );

    let keys: Vec<(&str, &str)> = evaluation
        .groups
        .iter()
        .map(|g| (g.key.as_str(), g.value.as_str()))
        .collect();
    assert_eq!(
        keys,
        [
            ("sport", "football"),
            ("sport", "military"),
            ("sport", "rugby"),
            ("sex", "F"),
            ("sex", "M")
        ]
    );
    for key in ["sport", "sex"] {
        let rows: usize = evaluation
            .groups
            .iter()
            .filter(|g| g.key == key)
            .map(|g| g.metrics.rows)
            .sum();
        assert_eq!(rows, test.n_rows());
    }
    assert!(evaluation.group("sex", "F").is_some());
    assert!(evaluation.group("sex", "X").is_none());

    let json = serde_json::to_string(&evaluation).unwrap();
    let back: Evaluation = serde_json::from_str(&json).unwrap();
    assert_eq!(back, evaluation);
}

#[test]
fn a_group_with_one_class_has_no_auc() {
    let mut data = Dataset::new(vec!["x".into()]).unwrap();
    let rows = [
        (0.9, true, "A"),
        (0.2, false, "A"),
        (0.6, false, "A"),
        (0.4, false, "B"),
        (0.3, false, "B"),
    ];
    for (i, (x, y, site)) in rows.iter().enumerate() {
        data.push(&[*x], *y, i as i64, &[("site", site)]).unwrap();
    }
    let p: Vec<f64> = rows.iter().map(|r| r.0).collect();
    let evaluation = Evaluation::from_probabilities(&data, p).unwrap();
    assert_eq!(evaluation.overall.roc_auc, Some(1.0));
    let a = evaluation.group("site", "A").unwrap();
    assert_eq!(a.roc_auc, Some(1.0));
    assert_eq!(a.pr_auc, Some(1.0));
    let b = evaluation.group("site", "B").unwrap();
    assert_eq!(b.rows, 2);
    assert_eq!(b.roc_auc, None);
    assert_eq!(b.pr_auc, None);
    assert!((b.brier - (0.16 + 0.09) / 2.0).abs() < 1e-12);
}

#[test]
fn a_dataset_with_other_features_is_refused() {
    let sample = synth::injury_like(1_000, 5, 0.0, 1).unwrap();
    let model = Model::fit(&ModelConfig::logistic(), &sample.data).unwrap();
    let other = synth::injury_like(100, 6, 0.0, 1).unwrap();
    assert_eq!(
        Evaluation::of(&model, &other.data),
        Err(MlError::FeatureNamesMismatch { position: 5 })
    );
    let renamed = Dataset::from_rows(
        vec![
            "a".into(),
            "x1".into(),
            "x2".into(),
            "x3".into(),
            "x4".into(),
        ],
        &[vec![0.0; 5]],
        &[true],
        &[0],
    )
    .unwrap();
    assert_eq!(
        Evaluation::of(&model, &renamed),
        Err(MlError::FeatureNamesMismatch { position: 0 })
    );
}
