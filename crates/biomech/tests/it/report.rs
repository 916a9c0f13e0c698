//! Snapshot of the JSON report and table for one deterministic recording.

use expect_test::expect;
use mhp_biomech::synth::{self, CmjSpec};
use mhp_biomech::{ParseOptions, analyze_bytes, to_mhp_csv};

fn report() -> mhp_biomech::Report {
    let spec = CmjSpec {
        body_mass_kg: 80.0,
        takeoff_velocity_m_s: synth::takeoff_velocity_for_height(0.35),
        sample_rate_hz: 1000.0,
        noise_fraction: 0.005,
        left_share: Some(synth::left_share_for_asymmetry(5.0)),
        jumps: 1,
        seed: 7,
    };
    let csv = to_mhp_csv(&synth::cmj(&spec).unwrap().recording);
    analyze_bytes("synthetic.csv", csv.as_bytes(), &ParseOptions::default()).unwrap()
}

#[test]
fn json_report_snapshot() {
    let json = serde_json::to_string_pretty(&report().to_json()).unwrap();
    expect![[r#"
        {
          "analysis_version": "cmj-1.1.0/balance-1.2.0/squat_jump-1.0.0/drop_jump-1.0.0/hops-1.0.0/imtp-1.0.0/landing-1.0.0",
          "file": "synthetic.csv",
          "recording": {
            "centre_of_pressure": false,
            "duration_s": 5.864,
            "format": "csv",
            "kind_source": "given",
            "plates": "dual",
            "sample_rate_hz": 1000.0,
            "samples": 5864
          },
          "trials": [
            {
              "end_s": 5.864,
              "flags": [],
              "index": 0,
              "kind": "cmj",
              "metrics": {
                "asymmetry": {
                  "body_weight_pct": 5.008379,
                  "braking_impulse_pct": 4.734597,
                  "landing_peak_force_pct": 5.007586,
                  "mean_propulsive_force_pct": 4.97311,
                  "peak_braking_force_pct": 4.738861,
                  "peak_propulsive_force_pct": 4.220013,
                  "propulsive_impulse_pct": 4.923705
                },
                "body_mass_kg": 79.991328,
                "body_weight_n": 784.446957,
                "body_weight_sd_n": 3.852369,
                "braking_duration_s": 0.187,
                "braking_rfd_n_s": 4374.187166,
                "concentric_impulse_n_s": 209.487564,
                "countermovement_depth_m": 0.242574,
                "eccentric_impulse_n_s": 61.692767,
                "flight_time_s": 0.534,
                "jump_height_flight_m": 0.349553,
                "jump_height_impulse_m": 0.349808,
                "landing_duration_s": 0.319,
                "landing_peak_force_bw": 2.404355,
                "landing_peak_force_n": 1886.089,
                "mean_propulsive_force_n": 1326.420235,
                "mean_propulsive_force_n_per_kg": 16.58205,
                "mean_propulsive_power_w": 2181.42347,
                "mean_propulsive_power_w_per_kg": 27.27075,
                "peak_braking_force_n": 1596.252,
                "peak_propulsive_force_n": 1813.268,
                "peak_propulsive_force_n_per_kg": 22.668307,
                "peak_propulsive_power_w": 3231.397992,
                "peak_propulsive_power_w_per_kg": 40.396854,
                "propulsion_duration_s": 0.388,
                "rsi_modified": 0.37533,
                "takeoff_velocity_m_s": 2.619328,
                "time_to_takeoff_s": 0.932,
                "unweighting_duration_s": 0.357,
                "unweighting_impulse_n_s": -61.656797
              },
              "phases": {
                "braking_s": 2.355,
                "landing_end_s": 3.783,
                "landing_s": 3.464,
                "onset_s": 1.998,
                "propulsion_s": 2.542,
                "takeoff_s": 2.93
              },
              "start_s": 0.0
            }
          ]
        }"#]]
    .assert_eq(&json);
}

#[test]
fn table_snapshot() {
    expect![[r#"
        file: synthetic.csv
        analysis version: cmj-1.1.0/balance-1.2.0/squat_jump-1.0.0/drop_jump-1.0.0/hops-1.0.0/imtp-1.0.0/landing-1.0.0
        recording: dual plate, 1000 Hz, 5864 samples, 5.86 s

        trial 0 (cmj) 0.000-5.864 s
          asymmetry.body_weight_pct                    5.0084
          asymmetry.braking_impulse_pct                4.7346
          asymmetry.landing_peak_force_pct             5.0076
          asymmetry.mean_propulsive_force_pct          4.9731
          asymmetry.peak_braking_force_pct             4.7389
          asymmetry.peak_propulsive_force_pct          4.2200
          asymmetry.propulsive_impulse_pct             4.9237
          body_mass_kg                                79.9913
          body_weight_n                              784.4470
          body_weight_sd_n                             3.8524
          braking_duration_s                           0.1870
          braking_rfd_n_s                           4374.1872
          concentric_impulse_n_s                     209.4876
          countermovement_depth_m                      0.2426
          eccentric_impulse_n_s                       61.6928
          flight_time_s                                0.5340
          jump_height_flight_m                         0.3496
          jump_height_impulse_m                        0.3498
          landing_duration_s                           0.3190
          landing_peak_force_bw                        2.4044
          landing_peak_force_n                      1886.0890
          mean_propulsive_force_n                   1326.4202
          mean_propulsive_force_n_per_kg              16.5821
          mean_propulsive_power_w                   2181.4235
          mean_propulsive_power_w_per_kg              27.2707
          peak_braking_force_n                      1596.2520
          peak_propulsive_force_n                   1813.2680
          peak_propulsive_force_n_per_kg              22.6683
          peak_propulsive_power_w                   3231.3980
          peak_propulsive_power_w_per_kg              40.3969
          propulsion_duration_s                        0.3880
          rsi_modified                                 0.3753
          takeoff_velocity_m_s                         2.6193
          time_to_takeoff_s                            0.9320
          unweighting_duration_s                       0.3570
          unweighting_impulse_n_s                    -61.6568
    "#]]
    .assert_eq(&report().render_table());
}

#[test]
fn same_input_same_output() {
    assert_eq!(
        report().to_json().to_string(),
        report().to_json().to_string()
    );
}
