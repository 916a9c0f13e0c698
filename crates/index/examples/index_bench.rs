//! Timing of the embedded backend at the size of one organisation's season:
//! 150 subjects in 3 teams of 50, one assessment a week for 16 weeks (2,400 documents), 25
//! metrics each.
//!
//! Run in release mode: `cargo run --release -p mhp-index --example index_bench`
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use mhp_domain::{AssessmentId, OrgId, SubjectId, TeamId};
use mhp_index::{AssessmentDoc, DocumentIndex, EmbeddedIndex, Query};

const SUBJECTS: usize = 150;
const TEAM_SIZE: usize = 50;
const WEEKS: i64 = 16;
const METRICS: usize = 25;
/// Monday 2024-01-01 00:00 UTC.
const START: i64 = 1_704_067_200_000;
const WEEK: i64 = 7 * 86_400_000;
const RUNS: usize = 5;
const QUERY_RUNS: usize = 50;

#[tokio::main]
async fn main() {
    let org = OrgId::new();
    let teams: Vec<TeamId> = (0..SUBJECTS / TEAM_SIZE).map(|_| TeamId::new()).collect();
    let docs = season(org, &teams);
    println!(
        "{} documents, {} metrics each, {} teams of {}",
        docs.len(),
        METRICS,
        teams.len(),
        TEAM_SIZE
    );

    let mut one_batch = Vec::new();
    let mut replace_all = Vec::new();
    let mut batches_of_500 = Vec::new();
    let mut weekly = Vec::new();
    let mut search = Vec::new();
    for _ in 0..RUNS {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("index.sqlite");
        let index = DocumentIndex::Embedded(EmbeddedIndex::open(&path).await.unwrap());

        let started = Instant::now();
        index.upsert(&docs).await.unwrap();
        one_batch.push(started.elapsed());

        // The same documents again: every one replaced.
        let started = Instant::now();
        index.upsert(&docs).await.unwrap();
        replace_all.push(started.elapsed());

        // A rebuild as `mhp index rebuild` would run it: clear, then batches of 500.
        let started = Instant::now();
        index.clear_org(org).await.unwrap();
        for chunk in docs.chunks(500) {
            index.upsert(chunk).await.unwrap();
        }
        batches_of_500.push(started.elapsed());
        assert_eq!(index.count(org).await.unwrap(), docs.len() as u64);

        let team_q = Query {
            team: Some(teams[0]),
            ..Query::default()
        };
        for _ in 0..QUERY_RUNS {
            let started = Instant::now();
            let weeks = index
                .weekly(org, &team_q, "jump_height_impulse_m")
                .await
                .unwrap();
            weekly.push(started.elapsed());
            assert_eq!(weeks.len(), WEEKS as usize);
            assert!(weeks.iter().all(|w| w.count == TEAM_SIZE as u64));

            let started = Instant::now();
            let found = index.search(org, &team_q).await.unwrap();
            search.push(started.elapsed());
            assert_eq!(found.len(), 100);
        }
    }
    report("upsert 2400 docs, one call", &mut one_batch);
    report("upsert the same 2400 again (replace)", &mut replace_all);
    report(
        "clear_org + upsert in 5 calls of <=500",
        &mut batches_of_500,
    );
    report("weekly, team of 50 (800 docs), 1 metric", &mut weekly);
    report("search, team of 50, newest 100 docs", &mut search);

    // Size of a fresh file holding the season (closing checkpoints the WAL into it).
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("index.sqlite");
    let index = EmbeddedIndex::open(&path).await.unwrap();
    index.upsert(&docs).await.unwrap();
    index.close().await;
    let size = std::fs::metadata(&path).unwrap().len();
    println!(
        "index file after one upsert of the season: {:.1} MiB ({} bytes a document)",
        size as f64 / 1_048_576.0,
        size / docs.len() as u64
    );
}

fn report(what: &str, times: &mut [Duration]) {
    times.sort();
    let median = times[times.len() / 2];
    let (min, max) = (times[0], times[times.len() - 1]);
    println!(
        "{what:<42} median {:>8.2} ms  (min {:.2}, max {:.2}, n = {})",
        ms(median),
        ms(min),
        ms(max),
        times.len()
    );
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// The season's documents, with deterministic pseudo-random metric values.
fn season(org: OrgId, teams: &[TeamId]) -> Vec<AssessmentDoc> {
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        // xorshift64*: enough spread for timing, no dependency.
        seed ^= seed >> 12;
        seed ^= seed << 25;
        seed ^= seed >> 27;
        (seed.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11) as f64 / (1u64 << 53) as f64
    };
    let names: Vec<String> = std::iter::once("jump_height_impulse_m".to_owned())
        .chain(std::iter::once(
            "asymmetry.propulsive_impulse_pct".to_owned(),
        ))
        .chain((2..METRICS).map(|i| format!("metric_{i:02}")))
        .collect();
    let mut docs = Vec::with_capacity(SUBJECTS * WEEKS as usize);
    for s in 0..SUBJECTS {
        let subject = SubjectId::new();
        let team = teams[s / TEAM_SIZE];
        for w in 0..WEEKS {
            let metrics: BTreeMap<String, f64> =
                names.iter().map(|n| (n.clone(), next() * 100.0)).collect();
            let flags = if next() < 0.1 {
                vec!["double_bounce".to_owned()]
            } else {
                Vec::new()
            };
            docs.push(AssessmentDoc {
                org,
                id: AssessmentId::new(),
                subject,
                pseudonym: format!("P-{s:04}"),
                teams: vec![team],
                recorded_at_ms: START + w * WEEK + (s as i64) * 60_000,
                kind: "cmj".to_owned(),
                analysis_version: "biomech-1.0.0".to_owned(),
                flags,
                tags: vec!["season-2024".to_owned()],
                metrics,
            });
        }
    }
    docs
}
