use mhp_demo::{DemoError, DemoSpec, plan, recording_csv};

#[test]
fn same_spec_same_org_and_bytes_other_seed_differs() {
    let spec = DemoSpec {
        subjects_per_team: 10,
        weeks: 6,
        ..DemoSpec::default()
    };
    let a = plan(&spec).unwrap();
    let b = plan(&spec).unwrap();
    assert_eq!(a, b);
    let last = a.assessments.len() - 1;
    assert_eq!(recording_csv(&a, 0).unwrap(), recording_csv(&b, 0).unwrap());
    assert_eq!(
        recording_csv(&a, last).unwrap(),
        recording_csv(&b, last).unwrap()
    );

    let other = plan(&DemoSpec { seed: 2, ..spec }).unwrap();
    assert_ne!(a.subjects, other.subjects);
    assert_ne!(a.assessments, other.assessments);
    assert_ne!(a.loads, other.loads);
    assert_ne!(
        recording_csv(&a, 0).unwrap(),
        recording_csv(&other, 0).unwrap()
    );
}

#[test]
fn a_subject_does_not_depend_on_the_size_of_the_organisation() {
    let small = plan(&DemoSpec {
        teams: 1,
        subjects_per_team: 5,
        ..DemoSpec::default()
    })
    .unwrap();
    let large = plan(&DemoSpec {
        teams: 1,
        subjects_per_team: 50,
        ..DemoSpec::default()
    })
    .unwrap();
    let first = |org: &mhp_demo::DemoOrg| {
        org.weekly_truth
            .iter()
            .filter(|w| w.subject == 0)
            .map(|w| (w.week, w.hazard, w.injured))
            .collect::<Vec<_>>()
    };
    assert_eq!(first(&small), first(&large));
}

#[test]
fn spec_ranges_are_checked() {
    let bad = [
        DemoSpec {
            teams: 0,
            ..DemoSpec::default()
        },
        DemoSpec {
            subjects_per_team: 501,
            ..DemoSpec::default()
        },
        DemoSpec {
            weeks: 0,
            ..DemoSpec::default()
        },
        DemoSpec {
            start_day: mhp_demo::DEFAULT_START_DAY + 1,
            ..DemoSpec::default()
        },
        DemoSpec {
            sample_rate_hz: f64::NAN,
            ..DemoSpec::default()
        },
    ];
    for spec in bad {
        assert!(
            matches!(plan(&spec), Err(DemoError::OutOfRange { .. })),
            "{spec:?}"
        );
    }
    let org = plan(&DemoSpec {
        subjects_per_team: 2,
        weeks: 1,
        ..DemoSpec::default()
    })
    .unwrap();
    assert_eq!(
        recording_csv(&org, org.assessments.len()),
        Err(DemoError::NoSuchAssessment(org.assessments.len()))
    );
}
