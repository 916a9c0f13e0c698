//! FHIR exports checked by an implementation that is not MHP's: `tools/fhir/validate.py`
//! (fhir.resources, FHIR R4B models) under the Python of `target/fhir-venv` (or
//! `MHP_TEST_FHIR_PYTHON`), installed by `scripts/test.sh` from `tools/fhir/requirements.txt`.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::Command;

/// Validates exports of one subject's FHIR Bundle (each a JSON text): every resource parses
/// as FHIR R4B, body weight follows the vital-signs profile, MHP's code systems are https
/// canonical URLs and the Observation ids agree across the exports. Returns the validator's
/// report, or `None` (after a notice) when it is not installed and `MHP_TEST_REQUIRE_FHIR=1` is
/// not set. Panics with the validator's findings when a check fails.
pub fn validate(bundles: &[&str]) -> Option<String> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let python = std::env::var_os("MHP_TEST_FHIR_PYTHON")
        .map_or_else(|| root.join("target/fhir-venv/bin/python"), PathBuf::from);
    if !python.exists() {
        let msg = "fhir.resources is not installed: run `python3 -m venv target/fhir-venv && \
                   target/fhir-venv/bin/pip install -r tools/fhir/requirements.txt`";
        if std::env::var("MHP_TEST_REQUIRE_FHIR").as_deref() == Ok("1") {
            panic!("{msg} (MHP_TEST_REQUIRE_FHIR=1)");
        }
        let _ = writeln!(std::io::stderr(), "SKIPPED (FHIR validation): {msg}");
        return None;
    }
    let dir = tempfile::tempdir().expect("a temporary directory");
    let files: Vec<PathBuf> = bundles
        .iter()
        .enumerate()
        .map(|(i, text)| {
            let file = dir.path().join(format!("bundle-{i}.json"));
            std::fs::write(&file, text).expect("the bundle file");
            file
        })
        .collect();
    let out = Command::new(python)
        .arg(root.join("tools/fhir/validate.py"))
        .args(&files)
        .output()
        .expect("run the FHIR validator");
    let report = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "FHIR validation failed:\n{report}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(report)
}
