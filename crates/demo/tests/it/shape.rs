use std::collections::{BTreeMap, BTreeSet};

use mhp_demo::injury::{MECHANISMS, RTD_STAGES, SEVERITIES, SIDES};
use mhp_demo::{DemoOrg, MS_PER_DAY, severity_for_time_loss};
use mhp_domain::Sex;

use crate::orgs;

fn is_code(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
}

/// Whether `subject` is in time loss on `day` (the day of injury is not).
fn in_time_loss(org: &DemoOrg, subject: usize, day: i64) -> bool {
    org.injuries.iter().any(|i| {
        i.subject == subject
            && i.occurred_day < day
            && day < i.occurred_day + i64::from(i.time_loss_days)
    })
}

#[test]
fn default_org_has_three_teams_of_fifty_with_unique_ids() {
    for org in orgs() {
        let teams: Vec<(&str, &str)> = org
            .teams
            .iter()
            .map(|t| (t.name.as_str(), t.sport.as_str()))
            .collect();
        assert_eq!(
            teams,
            [
                ("Senior Rugby", "rugby"),
                ("Infantry Platoon 2", "military"),
                ("Women's Football", "football")
            ]
        );
        assert_eq!(org.subjects.len(), 150);
        let ids: BTreeSet<&str> = org
            .subjects
            .iter()
            .map(|s| s.external_id.as_str())
            .collect();
        let names: BTreeSet<&str> = org.subjects.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(ids.len(), 150);
        assert_eq!(names.len(), 150);
        for s in &org.subjects {
            assert!(s.external_id.starts_with("DEMO-"));
            assert_eq!(s.sport, org.teams[s.team].sport);
            assert_eq!(org.subjects.iter().filter(|t| t.team == s.team).count(), 50);
            if s.sport == "football" || s.sport == "rugby" {
                let want = if s.sport == "football" {
                    Sex::Female
                } else {
                    Sex::Male
                };
                assert_eq!(s.sex, want);
            }
            let age = (org.spec.start_day - s.birth_day) as f64 / 365.25;
            assert!((17.0..=33.0).contains(&age), "{age}");
            assert!((55.0..=110.0).contains(&s.body_mass_kg));
            assert!((0.22..=0.55).contains(&s.baseline_jump_height_m));
            assert!(s.baseline_asymmetry_pct.abs() <= 20.0);
        }
        let women = org.subjects.iter().filter(|s| s.sex == Sex::Female).count();
        assert!((52..=70).contains(&women), "{women}");
    }
}

#[test]
fn weekly_assessments_except_in_time_loss() {
    for org in orgs() {
        let weeks = org.spec.weeks;
        let mut missed_at_risk = 0;
        let mut at_risk = 0;
        for subject in 0..org.subjects.len() {
            let mine: Vec<_> = org
                .assessments
                .iter()
                .filter(|a| a.subject == subject)
                .collect();
            let by_week: BTreeMap<usize, usize> = mine.iter().fold(BTreeMap::new(), |mut m, a| {
                *m.entry(a.week).or_default() += 1;
                m
            });
            assert!(by_week.values().all(|n| *n == 1), "two in a week");
            for week in 0..weeks {
                let monday = org.spec.start_day + 7 * week as i64;
                let out = in_time_loss(org, subject, monday);
                let assessed = by_week.contains_key(&week);
                assert!(!(out && assessed), "assessed during time loss");
                if !out {
                    at_risk += 1;
                    missed_at_risk += usize::from(!assessed);
                }
            }
        }
        let missed = missed_at_risk as f64 / at_risk as f64;
        assert!(missed < 0.06, "{missed}");
        assert!(org.assessments.len() > 150 * weeks * 85 / 100);
        for pair in org.assessments.windows(2) {
            assert!(pair[0].recorded_at_ms <= pair[1].recorded_at_ms);
        }
        for a in &org.assessments {
            let day = a.recorded_at_ms.div_euclid(MS_PER_DAY);
            assert_eq!(day, org.spec.start_day + 7 * a.week as i64);
            assert_eq!(mhp_demo::weekday(day), 0);
            assert!((0.08..=0.8).contains(&a.jump_height_m));
            assert!(a.asymmetry_pct.abs() <= 35.0);
            assert!((50.0..=115.0).contains(&a.body_mass_kg));
        }
        // The truth links back to its assessment.
        for w in &org.weekly_truth {
            if let Some(i) = w.assessment {
                let a = &org.assessments[i];
                assert_eq!((a.subject, a.week), (w.subject, w.week));
                assert_eq!(a.asymmetry_pct, w.asymmetry_pct);
            }
        }
        let linked = org
            .weekly_truth
            .iter()
            .filter(|w| w.assessment.is_some())
            .count();
        assert_eq!(linked, org.assessments.len());
    }
}

#[test]
fn three_to_five_sessions_a_week_when_not_injured() {
    for org in orgs() {
        let first = org.spec.start_day - 28;
        let mut per_week: BTreeMap<(usize, i64), usize> = BTreeMap::new();
        for l in &org.loads {
            assert!(l.day >= first);
            assert!((10..=300).contains(&l.duration_min));
            assert!(l.rpe <= 10);
            assert!(is_code(&l.session_type), "{}", l.session_type);
            *per_week
                .entry((l.subject, (l.day - first) / 7))
                .or_default() += 1;
        }
        let weeks = org.spec.weeks as i64 + 4;
        for subject in 0..org.subjects.len() {
            for week in 0..weeks {
                let start = first + 7 * week;
                let injured = (start..start + 8).any(|d| in_time_loss(org, subject, d));
                let n = per_week.get(&(subject, week)).copied().unwrap_or(0);
                if injured {
                    assert!(n <= 5);
                } else {
                    assert!((3..=5).contains(&n), "subject {subject} week {week}: {n}");
                }
            }
        }
        let mean_weekly_load = org
            .loads
            .iter()
            .map(|l| f64::from(l.load_au()))
            .sum::<f64>()
            / (org.subjects.len() as f64 * weeks as f64);
        assert!(
            (1200.0..3000.0).contains(&mean_weekly_load),
            "{mean_weekly_load}"
        );
    }
}

#[test]
fn injuries_use_the_coded_values_and_return_to_duty_ends_cleared() {
    let mut by_sport: BTreeMap<&str, BTreeMap<&str, usize>> = BTreeMap::new();
    for org in orgs() {
        for i in &org.injuries {
            assert!(SIDES.contains(&i.side.as_str()));
            assert!(SEVERITIES.contains(&i.severity.as_str()));
            assert!(MECHANISMS.contains(&i.mechanism.as_str()));
            assert!(is_code(&i.body_region) && is_code(&i.injury_type));
            assert!(i.time_loss_days >= 1);
            assert_eq!(i.severity, severity_for_time_loss(i.time_loss_days));
            let first_day = org.spec.start_day;
            assert!((first_day..first_day + 7 * org.spec.weeks as i64).contains(&i.occurred_day));
            let stages = &i.return_to_duty;
            assert_eq!(
                stages.first().map(|s| (s.0.as_str(), s.1)),
                Some(("rest", i.occurred_day))
            );
            assert_eq!(
                stages.last().map(|s| (s.0.as_str(), s.1)),
                Some(("cleared", i.occurred_day + i64::from(i.time_loss_days)))
            );
            let order: Vec<usize> = stages
                .iter()
                .map(|(s, _)| RTD_STAGES.iter().position(|x| x == s).unwrap())
                .collect();
            assert!(order.windows(2).all(|w| w[0] < w[1]), "{stages:?}");
            assert!(stages.windows(2).all(|w| w[0].1 < w[1].1), "{stages:?}");
            let sport = org.subjects[i.subject].sport.as_str();
            *by_sport
                .entry(sport)
                .or_default()
                .entry(i.mechanism.as_str())
                .or_default() += 1;
        }
        // No new injury while still in time loss from the previous one.
        for subject in 0..org.subjects.len() {
            let mine: Vec<_> = org
                .injuries
                .iter()
                .filter(|i| i.subject == subject)
                .collect();
            for w in mine.windows(2) {
                assert!(w[1].occurred_day >= w[0].occurred_day + i64::from(w[0].time_loss_days));
            }
        }
    }
    let share = |sport: &str, mechanism: &str| {
        let m = &by_sport[sport];
        m.get(mechanism).copied().unwrap_or(0) as f64 / m.values().sum::<usize>() as f64
    };
    assert!(share("rugby", "contact") > 0.35, "{by_sport:?}");
    assert!(
        share("military", "overuse") > share("rugby", "overuse"),
        "{by_sport:?}"
    );
}
