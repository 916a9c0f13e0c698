//! Dependencies point inward (STYLE.md): each crate may depend only on crates of a lower layer,
//! and the pure crates on nothing that does I/O. A new crate must be given a layer here (and a
//! place in ARCHITECTURE.md) before the test passes.

use std::collections::BTreeMap;
use std::process::Command;

use serde_json::Value;

/// Layer of each workspace crate; a normal dependency must go to a strictly lower layer.
const LAYERS: &[(&str, u8)] = &[
    ("mhp-domain", 0),
    ("mhp-biomech", 0),
    ("mhp-ml", 0),
    ("mhp-plot", 0),
    ("mhp-crypto", 1),
    ("mhp-demo", 1),
    // Security events in OCSF and the detection rules: pure, but with serde (rule files, state).
    ("mhp-security", 1),
    // The egress guard: I/O, but beneath every crate that talks to tenant-chosen addresses.
    ("mhp-egress", 1),
    // Trace context (and, with `otel`, the OTLP exporter): beneath every crate that makes spans.
    ("mhp-telemetry", 1),
    ("mhp-storage", 2),
    ("mhp-auth", 2),
    ("mhp-federation", 2),
    ("mhp-index", 2),
    ("mhp-cloud", 2),
    // The application layer: use cases every edge calls.
    ("mhp-app", 3),
    // The edges: HTTP and the workers, side by side (neither depends on the other).
    ("mhp-server", 4),
    ("mhp-pipelines", 4),
    ("mhp-cli", 5),
    ("mhp-test-support", 6),
];

/// Crates that must stay pure: no async runtime, database, HTTP or serialisation framework.
const PURE: &[&str] = &[
    "mhp-domain",
    "mhp-biomech",
    "mhp-demo",
    "mhp-ml",
    "mhp-plot",
];
const IMPURE: &[&str] = &["tokio", "sqlx", "axum", "hyper", "reqwest", "tower"];

#[test]
fn dependencies_point_inward() {
    let out = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: Value = serde_json::from_slice(&out.stdout).unwrap();
    let layers: BTreeMap<&str, u8> = LAYERS.iter().copied().collect();
    let mut problems = Vec::new();
    let packages = meta["packages"].as_array().unwrap();
    assert!(packages.len() >= 7);
    for package in packages {
        let name = package["name"].as_str().unwrap();
        let Some(&layer) = layers.get(name) else {
            problems.push(format!(
                "{name} has no layer: add it to LAYERS and ARCHITECTURE.md"
            ));
            continue;
        };
        for dep in package["dependencies"].as_array().unwrap() {
            if dep["kind"].as_str() == Some("dev") {
                continue;
            }
            let dep_name = dep["name"].as_str().unwrap();
            if let Some(&dep_layer) = layers.get(dep_name)
                && dep_layer >= layer
            {
                problems.push(format!(
                    "{name} (layer {layer}) depends on {dep_name} (layer {dep_layer})"
                ));
            }
            if PURE.contains(&name) && IMPURE.contains(&dep_name) {
                problems.push(format!("{name} must stay pure but depends on {dep_name}"));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "layering broken:\n{}",
        problems.join("\n")
    );
}
