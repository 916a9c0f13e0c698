//! Compliance reports checked by implementations that are not MHP's: `tools/compliance/validate.py`
//! (NIST compliance-trestle for OSCAL, botocore for Security Hub findings) under the Python of
//! `target/compliance-venv`, installed by `scripts/test.sh` from
//! `tools/compliance/requirements.txt`.

use std::process::Command;

/// Validates `text` as `kind` (`oscal` or `asff`); returns the validator's summary line, or
/// `None` (after a notice) when it is not installed and `MHP_TEST_REQUIRE_COMPLIANCE=1` is not
/// set. Panics with the validator's findings when the document does not validate.
pub fn validate(kind: &str, text: &str) -> Option<String> {
    let python = crate::tool_python(
        "compliance",
        "MHP_TEST_REQUIRE_COMPLIANCE",
        "compliance validation",
    )?;
    let dir = tempfile::tempdir().expect("a temporary directory");
    let file = dir.path().join(format!("report.{kind}.json"));
    std::fs::write(&file, text).expect("the report file");
    let out = Command::new(python)
        .arg(crate::repo_root().join("tools/compliance/validate.py"))
        .arg(kind)
        .arg(&file)
        .output()
        .expect("run the compliance validator");
    let report = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{kind} validation failed:\n{report}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(report.trim().to_owned())
}
