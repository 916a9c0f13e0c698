//! Force-plate files of planned assessments, through biomech's synthetic jump generator.

use mhp_biomech::recording::Subject;
use mhp_biomech::synth::{self, CmjSpec};

use crate::{DemoError, DemoOrg};

/// Jumps in each recorded session.
pub const JUMPS_PER_SESSION: usize = 3;
/// Force noise SD as a fraction of body weight.
pub const NOISE_FRACTION: f64 = 0.005;
/// The `device` header of demo files.
const DEVICE: &str = "mhp-demo-dual-plate";

/// The MHP CSV file of planned assessment `assessment`: a dual-plate session of
/// [`JUMPS_PER_SESSION`] countermovement jumps at the planned height, asymmetry and body mass,
/// with noise seeded by [`crate::PlannedAssessment::seed`], and the subject's external id in
/// the `subject` header.
pub fn recording_csv(org: &DemoOrg, assessment: usize) -> Result<String, DemoError> {
    let a = org
        .assessments
        .get(assessment)
        .ok_or(DemoError::NoSuchAssessment(assessment))?;
    let spec = CmjSpec {
        body_mass_kg: a.body_mass_kg,
        takeoff_velocity_m_s: synth::takeoff_velocity_for_height(a.jump_height_m),
        sample_rate_hz: org.spec.sample_rate_hz,
        noise_fraction: NOISE_FRACTION,
        left_share: Some(synth::left_share_for_asymmetry(a.asymmetry_pct)),
        jumps: JUMPS_PER_SESSION,
        seed: a.seed,
    };
    let mut synthetic = synth::cmj(&spec)?;
    let metadata = &mut synthetic.recording.metadata;
    metadata.device = Some(DEVICE.to_owned());
    metadata.subject = org
        .subjects
        .get(a.subject)
        .map(|s| Subject::new(s.external_id.clone()));
    Ok(mhp_biomech::to_mhp_csv(&synthetic.recording))
}
