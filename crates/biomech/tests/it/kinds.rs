//! The other force-plate tests, on generated traces with known truth:
//! squat jump, drop jump, hops, single-leg CMJ and hops, isometric
//! mid-thigh pull and landing. Each is analysed with its kind given and
//! detected from the signal. Tolerances: contact and flight times within
//! one sample, RSI within 2 %, peak force within 0.5 %, RFD within 2 %.

use mhp_biomech::synth::session::{
    CmjRep, DropRep, Event, PlateSetup, PullRep, Rebound, SessionSpec, SessionSynthetic,
    SquatJumpRep, session,
};
use mhp_biomech::synth::takeoff_velocity_for_height;
use mhp_biomech::{
    AnalysisOptions, FlagCode, KindSource, Metrics, Report, TrialKind, analyze_recording,
    analyze_recording_with,
};

const G: f64 = 9.806_65;

fn run(spec: &SessionSpec) -> (SessionSynthetic, Report) {
    let s = session(spec).unwrap();
    let report = analyze_recording(&s.recording);
    (s, report)
}

fn codes(report: &Report, i: usize) -> Vec<FlagCode> {
    report.trials[i].flags.iter().map(|f| f.code).collect()
}

fn within(what: &str, got: f64, want: f64, tolerance: f64) {
    assert!(
        (got - want).abs() <= tolerance,
        "{what}: {got} vs {want} (tolerance {tolerance})"
    );
}

fn within_pct(what: &str, got: f64, want: f64, pct: f64) {
    assert!(
        ((got - want) / want).abs() * 100.0 <= pct,
        "{what}: {got} vs {want} (more than {pct} % apart)"
    );
}

/// The same recording without its `test`: the detected kind, and whether
/// it is flagged uncertain.
fn detected(spec: &SessionSpec) -> (TrialKind, bool) {
    let spec = SessionSpec {
        test: None,
        ..spec.clone()
    };
    let report = analyze_recording(&session(&spec).unwrap().recording);
    assert_eq!(report.recording.kind_source, KindSource::Detected);
    let uncertain = report
        .trials
        .iter()
        .any(|t| t.flags.iter().any(|f| f.code == FlagCode::KindUncertain));
    (report.trials[0].kind, uncertain)
}

fn squat_jump_spec(rate: f64, dip: f64) -> SessionSpec {
    SessionSpec {
        sample_rate_hz: rate,
        test: Some(TrialKind::SquatJump),
        events: vec![
            Event::Quiet { seconds: 1.5 },
            Event::SquatJump(SquatJumpRep {
                takeoff_velocity_m_s: takeoff_velocity_for_height(0.3),
                hold_s: 2.0,
                dip_fraction: dip,
            }),
            Event::Quiet { seconds: 1.5 },
        ],
        ..SessionSpec::default()
    }
}

#[test]
fn squat_jump_height_flight_and_peak_force() {
    for rate in [500.0, 1000.0, 2000.0] {
        let (s, report) = run(&squat_jump_spec(rate, 0.0));
        assert_eq!(report.trials.len(), 1, "{}", report.render_table());
        assert!(codes(&report, 0).is_empty(), "{:?}", codes(&report, 0));
        let Some(Metrics::SquatJump(m)) = &report.trials[0].metrics else {
            panic!("{}", report.render_table())
        };
        let truth = &s.events[0];
        let flight = truth.flights[0];
        within(
            "impulse height",
            m.jump_height_impulse_m,
            flight.height_m,
            0.01,
        );
        within(
            "flight time",
            m.flight_time_s,
            flight.flight_time_s,
            1.0 / rate + 1e-9,
        );
        within_pct("peak force", m.peak_force_n, truth.peak_force_n, 0.5);
        within_pct("body weight", m.body_weight_n, truth.body_weight_n, 0.5);
        assert_eq!(m.countermovement_dip_n, 0.0);
        assert!(m.asymmetry.is_some());
    }
    assert_eq!(
        detected(&squat_jump_spec(1000.0, 0.0)),
        (TrialKind::SquatJump, false)
    );
}

#[test]
fn a_squat_jump_with_a_dip_is_flagged_and_its_impulse_counts_the_dip() {
    let (s, report) = run(&squat_jump_spec(1000.0, 0.2));
    assert_eq!(codes(&report, 0), vec![FlagCode::Countermovement]);
    let Some(Metrics::SquatJump(m)) = &report.trials[0].metrics else {
        panic!("{}", report.render_table())
    };
    within(
        "impulse height",
        m.jump_height_impulse_m,
        s.events[0].flights[0].height_m,
        0.01,
    );
    // The deepest sample: the dip plus a few SD of noise.
    within(
        "dip",
        m.countermovement_dip_n,
        0.2 * s.events[0].body_weight_n,
        20.0,
    );
}

fn drop_jump_spec(rate: f64, then_step_off: bool) -> SessionSpec {
    let mut events = vec![Event::Drop(DropRep {
        drop_height_m: 0.4,
        landing_s: 1.0,
        rebounds: vec![Rebound {
            contact_s: 0.22,
            takeoff_velocity_m_s: 2.1,
        }],
    })];
    if then_step_off {
        events.push(Event::Quiet { seconds: 0.3 });
        events.push(Event::Off { seconds: 0.5 });
    } else {
        events.push(Event::Quiet { seconds: 1.5 });
    }
    SessionSpec {
        sample_rate_hz: rate,
        start_off_plate: true,
        test: Some(TrialKind::DropJump),
        events,
        ..SessionSpec::default()
    }
}

#[test]
fn drop_jump_contact_flight_rsi_and_drop_height() {
    for rate in [500.0, 1000.0, 2000.0] {
        let spec = drop_jump_spec(rate, false);
        let s = session(&spec).unwrap();
        let report = analyze_recording_with(
            &s.recording,
            &AnalysisOptions::default().with_box_height_m(0.45),
        );
        assert_eq!(report.trials.len(), 1, "{}", report.render_table());
        assert!(codes(&report, 0).is_empty(), "{:?}", codes(&report, 0));
        let Some(Metrics::DropJump(m)) = &report.trials[0].metrics else {
            panic!("{}", report.render_table())
        };
        let truth = &s.events[0];
        let (contact, flight) = (truth.contacts[0], truth.flights[0]);
        let dt = 1.0 / rate + 1e-9;
        within("contact time", m.contact_time_s, contact.contact_time_s, dt);
        within("flight time", m.flight_time_s, flight.flight_time_s, dt);
        within_pct("rsi", m.rsi, contact.rsi(&flight), 2.0);
        within_pct("peak force", m.peak_force_n, contact.peak_force_n, 0.5);
        let v_td = truth.touchdown_velocity_m_s.unwrap();
        within_pct(
            "touchdown velocity",
            m.touchdown_velocity_m_s.unwrap(),
            v_td,
            1.0,
        );
        within(
            "drop height",
            m.drop_height_m.unwrap(),
            v_td * v_td / (2.0 * G),
            0.01,
        );
        within("take-off velocity", m.takeoff_velocity_m_s, 2.1, 0.02);
        assert_eq!(m.box_height_m, Some(0.45));
        assert_eq!(
            serde_json::to_value(m.drop_height_method).unwrap(),
            "reverse_integration"
        );
    }
    assert_eq!(
        detected(&drop_jump_spec(1000.0, false)),
        (TrialKind::DropJump, false)
    );
}

#[test]
fn without_standing_still_after_a_drop_jump_the_drop_height_comes_from_flight_time() {
    let spec = SessionSpec {
        events: vec![
            Event::Quiet { seconds: 1.5 },
            Event::Off { seconds: 1.5 },
            // The drop jump, then the athlete steps off at once.
            Event::Drop(DropRep {
                drop_height_m: 0.4,
                landing_s: 1.0,
                rebounds: vec![Rebound {
                    contact_s: 0.22,
                    takeoff_velocity_m_s: 2.1,
                }],
            }),
            Event::Quiet { seconds: 0.3 },
            Event::Off { seconds: 0.5 },
        ],
        test: Some(TrialKind::DropJump),
        ..SessionSpec::default()
    };
    let (s, report) = run(&spec);
    let dj = report
        .trials
        .iter()
        .find_map(|t| match &t.metrics {
            Some(Metrics::DropJump(m)) => Some((m, t)),
            _ => None,
        })
        .unwrap();
    assert!(
        dj.1.flags
            .iter()
            .any(|f| f.code == FlagCode::DropHeightFromFlightTime)
    );
    let v_td = s.events[0].touchdown_velocity_m_s.unwrap();
    within(
        "drop height",
        dj.0.drop_height_m.unwrap(),
        v_td * v_td / (2.0 * G),
        0.02,
    );
}

fn hops_spec(rate: f64, plates: PlateSetup) -> SessionSpec {
    let rebounds = [
        (0.20, 1.6),
        (0.22, 1.7),
        (0.25, 1.5),
        (0.18, 1.4),
        (0.3, 1.8),
    ]
    .map(|(contact_s, v)| Rebound {
        contact_s,
        takeoff_velocity_m_s: v,
    })
    .to_vec();
    SessionSpec {
        sample_rate_hz: rate,
        plates,
        test: Some(TrialKind::RepeatedHops),
        events: vec![
            Event::Quiet { seconds: 1.5 },
            Event::Cmj(CmjRep {
                rebounds,
                ..CmjRep::for_height(0.25)
            }),
            Event::Quiet { seconds: 1.5 },
        ],
        ..SessionSpec::default()
    }
}

#[test]
fn hops_each_contact_with_its_rsi() {
    for rate in [500.0, 1000.0, 2000.0] {
        let (s, report) = run(&hops_spec(rate, PlateSetup::Single));
        let truth = &s.events[0];
        assert_eq!(report.trials.len(), 5, "{}", report.render_table());
        let dt = 1.0 / rate + 1e-9;
        for (i, trial) in report.trials.iter().enumerate() {
            let Some(Metrics::Hop(m)) = &trial.metrics else {
                panic!("{}", report.render_table())
            };
            let (contact, flight) = (truth.contacts[i], truth.flights[i + 1]);
            assert_eq!(m.hop, i + 1);
            within("contact time", m.contact_time_s, contact.contact_time_s, dt);
            within("flight time", m.flight_time_s, flight.flight_time_s, dt);
            within_pct("rsi", m.rsi, contact.rsi(&flight), 2.0);
            within_pct("peak force", m.peak_force_n, contact.peak_force_n, 0.5);
            within_pct(
                "peak force bw",
                m.peak_force_bw.unwrap(),
                contact.peak_force_n / truth.body_weight_n,
                0.5,
            );
        }
        let summary = report.summary.as_ref().unwrap().hops.as_ref().unwrap();
        assert_eq!(summary.hops, 5);
    }
    assert_eq!(
        detected(&hops_spec(1000.0, PlateSetup::Single)),
        (TrialKind::RepeatedHops, false)
    );
}

/// Reps on the left leg (all force on the left plate), then on the right.
fn single_leg_spec(hops: bool) -> SessionSpec {
    let rep = |h: f64| {
        if hops {
            Event::Cmj(CmjRep {
                rebounds: vec![
                    Rebound {
                        contact_s: 0.25,
                        takeoff_velocity_m_s: takeoff_velocity_for_height(h),
                    };
                    3
                ],
                ..CmjRep::for_height(h)
            })
        } else {
            Event::Cmj(CmjRep::for_height(h))
        }
    };
    SessionSpec {
        plates: PlateSetup::Dual { left_share: 1.0 },
        test: Some(if hops {
            TrialKind::SingleLegHop
        } else {
            TrialKind::SingleLegCmj
        }),
        events: vec![
            Event::Quiet { seconds: 1.5 },
            rep(0.20),
            Event::Quiet { seconds: 1.5 },
            rep(0.20),
            Event::Quiet { seconds: 1.2 },
            Event::StepOffOn { off_seconds: 2.0 },
            Event::Stance { left_share: 0.0 },
            Event::Quiet { seconds: 1.5 },
            rep(0.16),
            Event::Quiet { seconds: 1.5 },
            rep(0.16),
            Event::Quiet { seconds: 1.5 },
        ],
        ..SessionSpec::default()
    }
}

#[test]
fn single_leg_jumps_per_side_with_limb_symmetry() {
    let (s, report) = run(&single_leg_spec(false));
    assert_eq!(report.trials.len(), 4, "{}", report.render_table());
    for (i, trial) in report.trials.iter().enumerate() {
        let Some(Metrics::Cmj(m)) = &trial.metrics else {
            panic!("{}", report.render_table())
        };
        let want = if i < 2 { "left" } else { "right" };
        assert_eq!(serde_json::to_value(m.side).unwrap(), want);
        within(
            "height",
            m.jump_height_impulse_m,
            s.events[i].flights[0].height_m,
            0.01,
        );
        assert!(m.asymmetry.is_none());
    }
    let lsi = &report.summary.as_ref().unwrap().limb_symmetry["jump_height_impulse_m"];
    assert_eq!((lsi.left_reps, lsi.right_reps), (2, 2));
    within("lsi", lsi.limb_symmetry_index_pct.unwrap(), 80.0, 3.0);
    assert!(lsi.asymmetry_pct.unwrap() > 0.0);
    assert_eq!(
        detected(&single_leg_spec(false)),
        (TrialKind::SingleLegCmj, false)
    );
}

#[test]
fn single_leg_hops_per_side_with_limb_symmetry() {
    let (_, report) = run(&single_leg_spec(true));
    assert_eq!(report.trials.len(), 12, "{}", report.render_table());
    let lsi = &report.summary.as_ref().unwrap().limb_symmetry["rsi"];
    assert_eq!((lsi.left_reps, lsi.right_reps), (6, 6));
    // Same contact time, heights 0.20 and 0.16 m: RSI 80 % on the right.
    within("lsi", lsi.limb_symmetry_index_pct.unwrap(), 80.0, 3.0);
    assert_eq!(
        detected(&single_leg_spec(true)),
        (TrialKind::SingleLegHop, false)
    );
}

fn pull_spec(rate: f64, noise: f64) -> SessionSpec {
    SessionSpec {
        sample_rate_hz: rate,
        noise_fraction: noise,
        test: Some(TrialKind::Imtp),
        events: vec![
            Event::Quiet { seconds: 2.0 },
            Event::Pull(PullRep {
                peak_net_force_bw: 2.2,
                rise_time_constant_s: 0.12,
                hold_s: 3.0,
            }),
            Event::Quiet { seconds: 1.0 },
        ],
        ..SessionSpec::default()
    }
}

#[test]
fn isometric_pull_onset_peak_rfd_and_impulse() {
    for rate in [500.0, 1000.0, 2000.0] {
        let (s, report) = run(&pull_spec(rate, 0.001));
        assert_eq!(report.trials.len(), 1, "{}", report.render_table());
        assert!(codes(&report, 0).is_empty(), "{:?}", codes(&report, 0));
        let Some(Metrics::Imtp(m)) = &report.trials[0].metrics else {
            panic!("{}", report.render_table())
        };
        let clean = &s.clean_total;
        let truth = &s.events[0];
        let bw = truth.body_weight_n;
        // The onset the definition gives on the clean trace.
        let onset = (truth.start..clean.len())
            .find(|&i| clean[i] > m.onset_threshold_n)
            .unwrap();
        let dt = 1.0 / rate;
        let n = |ms: f64| (ms / 1000.0 * rate).round() as usize;
        within_pct("peak force", m.peak_force_n, truth.peak_force_n, 0.5);
        within_pct(
            "net peak force",
            m.net_peak_force_n,
            truth.peak_force_n - bw,
            0.5,
        );
        within_pct(
            "force at 100 ms",
            m.force_at_100ms_n,
            clean[onset + n(100.0)],
            0.5,
        );
        within_pct(
            "force at 200 ms",
            m.force_at_200ms_n,
            clean[onset + n(200.0)],
            0.5,
        );
        let rfd = |ms: f64| (clean[onset + n(ms)] - clean[onset]) / (n(ms) as f64 * dt);
        let impulse = |ms: f64| {
            (0..n(ms))
                .map(|k| 0.5 * ((clean[onset + k] - bw) + (clean[onset + k + 1] - bw)) * dt)
                .sum::<f64>()
        };
        for (ms, got_rfd, got_impulse) in [
            (50.0, m.rfd_0_50ms_n_s, m.impulse_0_50ms_n_s),
            (100.0, m.rfd_0_100ms_n_s, m.impulse_0_100ms_n_s),
            (150.0, m.rfd_0_150ms_n_s, m.impulse_0_150ms_n_s),
            (200.0, m.rfd_0_200ms_n_s, m.impulse_0_200ms_n_s),
            (250.0, m.rfd_0_250ms_n_s, m.impulse_0_250ms_n_s),
        ] {
            within_pct(&format!("rfd 0-{ms} ms"), got_rfd, rfd(ms), 2.0);
            within_pct(&format!("impulse 0-{ms} ms"), got_impulse, impulse(ms), 2.0);
        }
    }
    assert_eq!(
        detected(&pull_spec(1000.0, 0.005)),
        (TrialKind::Imtp, false)
    );
}

fn landing_spec(rate: f64) -> SessionSpec {
    SessionSpec {
        sample_rate_hz: rate,
        noise_fraction: 0.002,
        start_off_plate: true,
        test: Some(TrialKind::Landing),
        events: vec![
            Event::Drop(DropRep {
                drop_height_m: 0.3,
                landing_s: 1.0,
                rebounds: Vec::new(),
            }),
            Event::Quiet { seconds: 2.0 },
        ],
        ..SessionSpec::default()
    }
}

#[test]
fn landing_peak_force_stabilisation_and_drop_height() {
    for rate in [500.0, 1000.0, 2000.0] {
        let (s, report) = run(&landing_spec(rate));
        assert_eq!(report.trials.len(), 1, "{}", report.render_table());
        assert!(codes(&report, 0).is_empty(), "{:?}", codes(&report, 0));
        let Some(Metrics::Landing(m)) = &report.trials[0].metrics else {
            panic!("{}", report.render_table())
        };
        let truth = &s.events[0];
        let clean = &s.clean_total;
        let bw = truth.body_weight_n;
        let peak = clean.iter().copied().fold(f64::MIN, f64::max);
        within_pct("peak force", m.peak_force_n, peak, 0.5);
        within_pct("peak force bw", m.peak_force_bw, peak / bw, 0.5);
        // Time to stabilisation by its definition on the clean trace.
        let hold = rate as usize;
        let stable = (truth.start..clean.len())
            .find(|&i| {
                clean
                    .get(i..i + hold)
                    .is_some_and(|w| w.iter().all(|f| (f - bw).abs() <= 0.05 * bw))
            })
            .unwrap();
        within(
            "time to stabilisation",
            m.time_to_stabilisation_s.unwrap(),
            (stable - truth.start) as f64 / rate,
            0.02,
        );
        let v_td = truth.touchdown_velocity_m_s.unwrap();
        within(
            "drop height",
            m.drop_height_m.unwrap(),
            v_td * v_td / (2.0 * G),
            0.01,
        );
    }
    assert_eq!(detected(&landing_spec(1000.0)), (TrialKind::Landing, false));
}

#[test]
fn mixed_jumps_leave_the_detected_kind_in_doubt() {
    let spec = SessionSpec {
        events: vec![
            Event::Quiet { seconds: 1.5 },
            Event::Cmj(CmjRep::for_height(0.3)),
            Event::Quiet { seconds: 1.5 },
            Event::Cmj(CmjRep::for_height(0.3)),
            Event::Quiet { seconds: 1.5 },
            Event::SquatJump(SquatJumpRep {
                takeoff_velocity_m_s: takeoff_velocity_for_height(0.25),
                hold_s: 2.0,
                dip_fraction: 0.0,
            }),
            Event::Quiet { seconds: 1.5 },
        ],
        ..SessionSpec::default()
    };
    assert_eq!(detected(&spec), (TrialKind::Cmj, true));
}
