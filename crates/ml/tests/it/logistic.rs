//! Logistic regression against data drawn from a logistic model.

use mhp_ml::{Dataset, Model, ModelConfig, synth};

use crate::{auc, auc_of, split};

fn logistic(l2: f64) -> ModelConfig {
    ModelConfig::Logistic {
        l2,
        max_iter: 100,
        tol: 1e-10,
    }
}

fn fitted(model: &Model) -> &mhp_ml::LogisticModel {
    match model {
        Model::Logistic(m) => m,
        _ => panic!("expected a logistic model"),
    }
}

#[test]
fn recovers_the_coefficients_of_the_generating_model() {
    let truth = [0.8, -0.5, 0.3];
    let sample = synth::logistic(40_000, -1.0, &truth, 11).unwrap();
    let model = Model::fit(&logistic(1e-3), &sample.data).unwrap();
    let m = fitted(&model);
    assert!(m.converged());
    assert!(m.iterations() <= 12, "{} Newton steps", m.iterations());
    let (intercept, weights) = m.raw_coefficients();
    for (j, (got, want)) in weights.iter().zip(truth).enumerate() {
        assert!((got - want).abs() < 0.05, "x{j}: {got} vs {want}");
    }
    assert!((intercept + 1.0).abs() < 0.1, "intercept {intercept}");
}

#[test]
fn test_auc_is_close_to_the_true_models() {
    let sample = synth::logistic(30_000, -1.5, &[1.0, -0.4, 0.2, 0.0], 5).unwrap();
    let (train, test, truth) = split(&sample);
    let model = Model::fit(&ModelConfig::logistic(), &train).unwrap();
    let model_auc = auc(&model, &test);
    let true_auc = auc_of(&test, &truth);
    assert!(true_auc > 0.75, "true AUC {true_auc}");
    assert!(
        (model_auc - true_auc).abs() < 0.01,
        "{model_auc} vs {true_auc}"
    );
}

#[test]
fn the_fit_is_the_optimum_of_the_penalised_log_loss() {
    // Stationarity of Σ log-loss + (l2/2)‖w‖² on standardised data, intercept unpenalised:
    // this is what makes the fit equal to scikit-learn's LogisticRegression(C = 1/l2).
    let sample = synth::logistic(3_000, -0.5, &[0.6, -0.3, 0.2], 21).unwrap();
    let l2 = 25.0;
    let model = Model::fit(&logistic(l2), &sample.data).unwrap();
    let m = fitted(&model);
    let mut gradient = vec![0.0; 4];
    for (row, &y) in sample.data.rows().zip(sample.data.labels()) {
        let r = model.predict_proba(row).unwrap() - f64::from(u8::from(y));
        gradient[0] += r;
        for j in 0..3 {
            gradient[j + 1] += r * (row[j] - m.means()[j]) / m.scales()[j];
        }
    }
    for j in 0..3 {
        gradient[j + 1] += l2 * m.weights()[j];
    }
    for g in &gradient {
        assert!(g.abs() / 3_000.0 < 1e-9, "gradient {gradient:?}");
    }
    // The penalty really acts: a weaker one gives larger weights, the intercept is free.
    let weak = Model::fit(&logistic(0.01), &sample.data).unwrap();
    let norm = |m: &mhp_ml::LogisticModel| m.weights().iter().map(|w| w * w).sum::<f64>();
    assert!(norm(fitted(&weak)) > norm(m) * 1.01);
}

#[test]
fn missing_values_are_imputed_with_the_training_mean() {
    let sample = synth::injury_like(4_000, 6, 0.2, 3).unwrap();
    let model = Model::fit(&ModelConfig::logistic(), &sample.data).unwrap();
    let m = fitted(&model);
    for row in sample.data.rows() {
        let p = model.predict_proba(row).unwrap();
        assert!(p.is_finite() && p > 0.0 && p < 1.0);
    }
    // A row with every value missing sits at the training means: it predicts the intercept.
    let missing = [f64::NAN; 6];
    assert_eq!(model.predict_log_odds(&missing).unwrap(), m.intercept());
    let at_means: Vec<f64> = m.means().to_vec();
    let z = model.predict_log_odds(&at_means).unwrap();
    assert!((z - m.intercept()).abs() < 1e-12);
    // Missing values still let the model learn: x0 carries a real effect.
    assert!(m.weights()[0] > 0.3, "weights {:?}", m.weights());
}

#[test]
fn a_constant_feature_gets_no_weight() {
    let sample = synth::logistic(2_000, 0.0, &[1.0], 4).unwrap();
    let mut data = Dataset::new(vec!["x0".into(), "constant".into()]).unwrap();
    for (i, row) in sample.data.rows().enumerate() {
        let y = sample.data.labels()[i];
        data.push(&[row[0], 3.0], y, 0, &[]).unwrap();
    }
    let model = Model::fit(&logistic(0.0), &data).unwrap();
    let m = fitted(&model);
    assert_eq!(m.scales()[1], 1.0);
    assert_eq!(m.weights()[1], 0.0);
    assert!(m.converged());
}
