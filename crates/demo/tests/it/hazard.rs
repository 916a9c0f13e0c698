use mhp_demo::model::{self, RiskFactors};

use crate::orgs;

#[test]
fn injury_rate_is_in_the_documented_band() {
    let shares: Vec<f64> = orgs().iter().map(|o| o.injured_subject_share()).collect();
    eprintln!("injured subjects per seed: {shares:?}");
    for s in &shares {
        assert!((0.10..=0.35).contains(s), "{shares:?}");
    }
    let mean = shares.iter().sum::<f64>() / shares.len() as f64;
    assert!((0.15..=0.30).contains(&mean), "{mean}");
}

#[test]
fn injuries_are_drawn_from_the_stated_hazard() {
    let rows = orgs().iter().flat_map(|o| &o.weekly_truth);
    let expected: f64 = rows.clone().map(|w| w.hazard).sum();
    let observed = rows.clone().filter(|w| w.injured).count() as f64;
    eprintln!("injured weeks: {observed}, expected {expected:.1}");
    assert!((observed - expected).abs() < 4.0 * expected.sqrt());
    let injuries: usize = orgs().iter().map(|o| o.injuries.len()).sum();
    assert_eq!(injuries as f64, observed);
    // Every row's hazard is the model's value for its own factors.
    for org in orgs() {
        for w in &org.weekly_truth {
            let offset = model::sport_offset(&org.subjects[w.subject].sport);
            let factors = RiskFactors {
                asymmetry_pct: w.asymmetry_pct,
                height_drop_pct: w.height_drop_pct,
                acwr: w.acwr,
                prior_injury: w.prior_injury,
                sport_offset: offset,
            };
            assert!((factors.weekly_hazard() - w.hazard).abs() < 1e-12);
        }
    }
}

#[test]
fn the_true_hazard_separates_injured_weeks() {
    let rows: Vec<_> = orgs().iter().flat_map(|o| &o.weekly_truth).collect();
    let scores: Vec<f64> = rows.iter().map(|w| w.hazard).collect();
    let labels: Vec<bool> = rows.iter().map(|w| w.injured).collect();
    let auc = model::auc(&scores, &labels).unwrap();
    let per_seed: Vec<f64> = orgs().iter().map(|o| o.hazard_auc().unwrap()).collect();
    eprintln!("AUC of the true hazard: pooled {auc:.3}, per seed {per_seed:.3?}");
    assert!(auc > 0.65, "{auc}");

    let mut sorted: Vec<(f64, bool)> = scores.iter().copied().zip(labels).collect();
    sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
    let decile = sorted.len() / 10;
    let rate =
        |part: &[(f64, bool)]| part.iter().filter(|x| x.1).count() as f64 / part.len() as f64;
    let (low, high) = (
        rate(&sorted[..decile]),
        rate(&sorted[sorted.len() - decile..]),
    );
    eprintln!("weekly injury rate: lowest hazard decile {low:.4}, highest {high:.4}");
    assert!(high > 3.0 * low.max(0.002), "{low} {high}");
}

#[test]
fn metrics_move_the_way_the_model_says() {
    let rows: Vec<_> = orgs().iter().flat_map(|o| &o.weekly_truth).collect();
    let mean = |f: &dyn Fn(&&mhp_demo::WeeklyRisk) -> bool,
                g: &dyn Fn(&mhp_demo::WeeklyRisk) -> f64| {
        let sel: Vec<f64> = rows.iter().filter(|w| f(w)).map(|w| g(w)).collect();
        sel.iter().sum::<f64>() / sel.len().max(1) as f64
    };
    // Load spikes lower jump height.
    let spiked = mean(&|w| w.acwr > 1.4, &|w| w.height_drop_pct);
    let steady = mean(&|w| w.acwr < 1.1, &|w| w.height_drop_pct);
    assert!(spiked > steady + 3.0, "{spiked} {steady}");
    // Returning from injury: more asymmetry and lower jumps than otherwise, most in the first
    // week back (the first row after an injured week; rows are subject by subject in week
    // order), less over the whole recent-injury window.
    let mut first_back = Vec::new();
    for org in orgs() {
        for pair in org.weekly_truth.windows(2) {
            if pair[0].injured && pair[1].subject == pair[0].subject {
                first_back.push(&pair[1]);
            }
        }
    }
    let n = first_back.len() as f64;
    let back = first_back
        .iter()
        .map(|w| w.asymmetry_pct.abs())
        .sum::<f64>()
        / n;
    let back_drop = first_back.iter().map(|w| w.height_drop_pct).sum::<f64>() / n;
    let never = mean(&|w| !w.prior_injury, &|w| w.asymmetry_pct.abs());
    let never_drop = mean(&|w| !w.prior_injury, &|w| w.height_drop_pct);
    let recent = mean(&|w| w.prior_injury, &|w| w.asymmetry_pct.abs());
    eprintln!(
        "|asymmetry|: first week back {back:.1}, recent injury {recent:.1}, otherwise {never:.1}; \
         height drop: first week back {back_drop:.1} %, otherwise {never_drop:.1} %"
    );
    assert!(back > never + 5.0, "{back} {never}");
    assert!(recent > never + 1.5, "{recent} {never}");
    assert!(back_drop > never_drop + 4.0, "{back_drop} {never_drop}");
}

#[test]
fn acwr_and_height_drop_can_be_recomputed_from_the_published_data() {
    let org = &orgs()[0];
    let mut daily: std::collections::BTreeMap<(usize, i64), f64> = Default::default();
    for l in &org.loads {
        *daily.entry((l.subject, l.day)).or_default() += f64::from(l.load_au());
    }
    for w in &org.weekly_truth {
        let monday = org.spec.start_day + 7 * w.week as i64;
        let sum = |from: i64| -> f64 {
            (from..monday)
                .map(|d| daily.get(&(w.subject, d)).copied().unwrap_or(0.0))
                .sum()
        };
        let acwr = sum(monday - 7) / (sum(monday - 28) / 4.0);
        assert!((acwr - w.acwr).abs() < 1e-9, "{acwr} {}", w.acwr);
        if let Some(a) = w.assessment {
            let baseline = org.subjects[w.subject].baseline_jump_height_m;
            let drop = 100.0 * (1.0 - org.assessments[a].jump_height_m / baseline);
            assert!((drop - w.height_drop_pct).abs() < 1e-9);
        }
    }
}
