//! The embedded backend on a real SQLite file in a temporary directory.

use mhp_domain::{AssessmentId, OrgId, SubjectId, TeamId};
use mhp_index::{AssessmentDoc, DocumentIndex, EmbeddedIndex, IndexError, Query, WeekBucket};

use crate::{DAY, MONDAY, WEEK, close, doc, full_doc, metrics};

async fn open() -> (DocumentIndex, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let index = EmbeddedIndex::open(dir.path().join("index.sqlite"))
        .await
        .unwrap();
    (DocumentIndex::Embedded(index), dir)
}

fn q() -> Query {
    Query::default()
}

fn ids(docs: &[AssessmentDoc]) -> Vec<AssessmentId> {
    docs.iter().map(|d| d.id).collect()
}

#[tokio::test]
async fn a_document_comes_back_as_it_went_in() {
    let (index, _dir) = open().await;
    let org = OrgId::new();
    let stored = full_doc(org, TeamId::new());
    index.upsert(std::slice::from_ref(&stored)).await.unwrap();
    index.check().await.unwrap();
    assert_eq!(index.count(org).await.unwrap(), 1);
    let found = index.search(org, &q()).await.unwrap();
    // Exact, including the float 0.1 + 0.2 (the body keeps shortest round-trip JSON).
    assert_eq!(found, vec![stored]);
}

#[tokio::test]
async fn upsert_replaces_teams_labels_and_metrics() {
    let (index, _dir) = open().await;
    let org = OrgId::new();
    let (old_team, new_team) = (TeamId::new(), TeamId::new());
    let mut first = doc(org, SubjectId::new(), MONDAY);
    first.teams = vec![old_team];
    first.flags = vec!["double_bounce".into()];
    first.tags = vec!["old".into()];
    first.metrics = metrics(&[("a", 1.0), ("b", 2.0)]);
    index.upsert(std::slice::from_ref(&first)).await.unwrap();

    let mut second = first.clone();
    second.teams = vec![new_team];
    second.flags = vec!["drift".into()];
    second.tags = vec!["new".into(), "new".into()];
    second.metrics = metrics(&[("b", 3.0)]);
    second.kind = "balance".into();
    index.upsert(std::slice::from_ref(&second)).await.unwrap();
    // Idempotent: the same batch twice changes nothing.
    index.upsert(std::slice::from_ref(&second)).await.unwrap();

    assert_eq!(index.count(org).await.unwrap(), 1);
    let gone = [
        Query {
            team: Some(old_team),
            ..q()
        },
        Query {
            flag: Some("double_bounce".into()),
            ..q()
        },
        Query {
            tag: Some("old".into()),
            ..q()
        },
        Query {
            kind: Some("cmj".into()),
            ..q()
        },
        Query {
            metric_ranges: vec![("a".into(), None, None)],
            ..q()
        },
        Query {
            metric_ranges: vec![("b".into(), Some(2.0), Some(2.0))],
            ..q()
        },
    ];
    for query in gone {
        assert!(
            index.search(org, &query).await.unwrap().is_empty(),
            "{query:?}"
        );
    }
    let found = [
        Query {
            team: Some(new_team),
            ..q()
        },
        Query {
            flag: Some("drift".into()),
            ..q()
        },
        Query {
            tag: Some("new".into()),
            ..q()
        },
        Query {
            kind: Some("balance".into()),
            ..q()
        },
        Query {
            metric_ranges: vec![("b".into(), Some(3.0), Some(3.0))],
            ..q()
        },
    ];
    for query in found {
        assert_eq!(
            index.search(org, &query).await.unwrap(),
            vec![second.clone()],
            "{query:?}"
        );
    }
}

#[tokio::test]
async fn within_one_batch_the_last_copy_of_a_document_wins() {
    let (index, _dir) = open().await;
    let org = OrgId::new();
    let first = full_doc(org, TeamId::new());
    let mut last = first.clone();
    last.teams = vec![TeamId::new()];
    last.metrics = metrics(&[("only", 1.0)]);
    let other = doc(org, SubjectId::new(), MONDAY);
    index
        .upsert(&[first, other.clone(), last.clone()])
        .await
        .unwrap();
    assert_eq!(index.count(org).await.unwrap(), 2);
    assert_eq!(index.search(org, &q()).await.unwrap(), vec![last, other]);
}

#[tokio::test]
async fn large_batches_with_many_metrics_are_written_whole() {
    let (index, _dir) = open().await;
    let org = OrgId::new();
    // 450 documents of 60 metrics: several write chunks and several side-row statements.
    let names: Vec<String> = (0..60).map(|i| format!("m{i}")).collect();
    let docs: Vec<_> = (0..450)
        .map(|i| {
            let mut d = doc(org, SubjectId::new(), MONDAY + i);
            d.metrics = names.iter().map(|n| (n.clone(), i as f64)).collect();
            d.flags = vec!["double_bounce".into()];
            d
        })
        .collect();
    index.upsert(&docs).await.unwrap();
    assert_eq!(index.count(org).await.unwrap(), 450);
    let ranged = Query {
        metric_ranges: vec![("m59".into(), Some(100.0), Some(199.0))],
        limit: 1000,
        ..q()
    };
    assert_eq!(index.search(org, &ranged).await.unwrap().len(), 100);
    let all = index
        .search(org, &Query { limit: 1000, ..q() })
        .await
        .unwrap();
    assert_eq!(all.len(), 450);
    assert!(all.iter().all(|d| d.metrics.len() == 60));
}

#[tokio::test]
async fn delete_removes_only_the_named_documents() {
    let (index, _dir) = open().await;
    let org = OrgId::new();
    let subject = SubjectId::new();
    let docs: Vec<_> = (0..3).map(|i| doc(org, subject, MONDAY + i)).collect();
    index.upsert(&docs).await.unwrap();
    index
        .delete(org, &[docs[0].id, docs[2].id, AssessmentId::new()])
        .await
        .unwrap();
    index.delete(org, &[]).await.unwrap();
    assert_eq!(
        ids(&index.search(org, &q()).await.unwrap()),
        vec![docs[1].id]
    );
    // Side rows went with the documents: a fresh document with a deleted id is clean.
    let mut again = docs[0].clone();
    again.metrics.clear();
    index.upsert(&[again]).await.unwrap();
    assert_eq!(index.count(org).await.unwrap(), 2);
}

#[tokio::test]
async fn every_filter_narrows_the_result() {
    let (index, _dir) = open().await;
    let org = OrgId::new();
    let (team, other_team) = (TeamId::new(), TeamId::new());
    let (alice, bob) = (SubjectId::new(), SubjectId::new());

    let mut a = doc(org, alice, MONDAY);
    a.teams = vec![team];
    a.flags = vec!["double_bounce".into()];
    a.metrics = metrics(&[("jump_height_impulse_m", 0.30), ("asymmetry.rsi_pct", 5.0)]);
    let mut b = doc(org, alice, MONDAY + DAY);
    b.teams = vec![team, other_team];
    b.kind = "balance".into();
    b.tags = vec!["preseason".into()];
    b.metrics = metrics(&[("sway_area_mm2", 120.0)]);
    let mut c = doc(org, bob, MONDAY + 2 * DAY);
    c.teams = vec![other_team];
    c.tags = vec!["preseason".into()];
    c.flags = vec!["drift".into()];
    c.metrics = metrics(&[("jump_height_impulse_m", 0.40), ("asymmetry.rsi_pct", -2.0)]);
    index
        .upsert(&[a.clone(), b.clone(), c.clone()])
        .await
        .unwrap();

    let range = |name: &str, min, max| Query {
        metric_ranges: vec![(name.to_owned(), min, max)],
        ..q()
    };
    let cases: Vec<(Query, Vec<AssessmentId>)> = vec![
        (q(), vec![c.id, b.id, a.id]),
        (
            Query {
                team: Some(team),
                ..q()
            },
            vec![b.id, a.id],
        ),
        (
            Query {
                team: Some(TeamId::new()),
                ..q()
            },
            vec![],
        ),
        (
            Query {
                subject: Some(alice),
                ..q()
            },
            vec![b.id, a.id],
        ),
        (
            Query {
                kind: Some("balance".into()),
                ..q()
            },
            vec![b.id],
        ),
        (
            Query {
                flag: Some("double_bounce".into()),
                ..q()
            },
            vec![a.id],
        ),
        (
            Query {
                tag: Some("preseason".into()),
                ..q()
            },
            vec![c.id, b.id],
        ),
        (
            Query {
                tag: Some("drift".into()),
                ..q()
            },
            vec![],
        ),
        // Time bounds are inclusive at both ends.
        (
            Query {
                from_ms: Some(MONDAY + DAY),
                ..q()
            },
            vec![c.id, b.id],
        ),
        (
            Query {
                to_ms: Some(MONDAY + DAY),
                ..q()
            },
            vec![b.id, a.id],
        ),
        (
            Query {
                from_ms: Some(MONDAY + 1),
                to_ms: Some(MONDAY + 2 * DAY - 1),
                ..q()
            },
            vec![b.id],
        ),
        // Metric ranges: inclusive, one-sided, presence only, dotted names, combined.
        (
            range("jump_height_impulse_m", Some(0.30), Some(0.40)),
            vec![c.id, a.id],
        ),
        (range("jump_height_impulse_m", Some(0.35), None), vec![c.id]),
        (range("jump_height_impulse_m", None, Some(0.30)), vec![a.id]),
        (
            range("jump_height_impulse_m", Some(0.31), Some(0.39)),
            vec![],
        ),
        (range("sway_area_mm2", None, None), vec![b.id]),
        (range("asymmetry.rsi_pct", None, Some(0.0)), vec![c.id]),
        (
            Query {
                metric_ranges: vec![
                    ("jump_height_impulse_m".into(), Some(0.0), None),
                    ("asymmetry.rsi_pct".into(), Some(0.0), None),
                ],
                ..q()
            },
            vec![a.id],
        ),
        // Everything at once.
        (
            Query {
                team: Some(other_team),
                subject: Some(bob),
                kind: Some("cmj".into()),
                flag: Some("drift".into()),
                tag: Some("preseason".into()),
                from_ms: Some(MONDAY),
                to_ms: Some(MONDAY + WEEK),
                metric_ranges: vec![("jump_height_impulse_m".into(), Some(0.4), Some(0.4))],
                limit: 10,
            },
            vec![c.id],
        ),
    ];
    for (query, expected) in cases {
        assert_eq!(
            ids(&index.search(org, &query).await.unwrap()),
            expected,
            "{query:?}"
        );
    }
}

#[tokio::test]
async fn newest_first_with_ties_by_id_and_a_capped_limit() {
    let (index, _dir) = open().await;
    let org = OrgId::new();
    let subject = SubjectId::new();
    // 1005 documents; the last five share one instant.
    let mut docs: Vec<_> = (0..1000)
        .map(|i| doc(org, subject, MONDAY + i * 1000))
        .collect();
    docs.extend((0..5).map(|_| doc(org, subject, MONDAY + 5_000_000)));
    // Insert in a scrambled order so that order cannot come from insertion.
    let mut scrambled = docs.clone();
    scrambled.reverse();
    scrambled.rotate_left(333);
    index.upsert(&scrambled).await.unwrap();

    let mut expected = docs.clone();
    expected.sort_by(|x, y| {
        y.recorded_at_ms
            .cmp(&x.recorded_at_ms)
            .then(y.id.to_string().cmp(&x.id.to_string()))
    });
    let top3 = index.search(org, &Query { limit: 3, ..q() }).await.unwrap();
    assert_eq!(ids(&top3), ids(&expected[..3]));
    let all = index
        .search(org, &Query { limit: 5000, ..q() })
        .await
        .unwrap();
    assert_eq!(all.len(), mhp_index::MAX_LIMIT);
    assert_eq!(ids(&all), ids(&expected[..1000]));
    assert!(
        index
            .search(org, &Query { limit: 0, ..q() })
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        index.search(org, &q()).await.unwrap().len(),
        mhp_index::DEFAULT_LIMIT
    );
}

#[tokio::test]
async fn weekly_buckets_hold_hand_computed_statistics() {
    let (index, _dir) = open().await;
    let org = OrgId::new();
    let team = TeamId::new();
    let metric = "jump_height_impulse_m";
    let mut docs = Vec::new();
    let mut add = |at: i64, value: Option<f64>, in_team: bool| {
        let mut d = doc(org, SubjectId::new(), at);
        if in_team {
            d.teams = vec![team];
        }
        if let Some(v) = value {
            d.metrics = metrics(&[(metric, v), ("other", 1000.0)]);
        }
        docs.push(d);
    };
    // Week of MONDAY: 1..=10, spread from Monday 00:00 to Sunday 23:59:59.999.
    for (i, v) in (1..=10).enumerate() {
        let at = if i == 9 {
            MONDAY + WEEK - 1
        } else {
            MONDAY + i as i64 * DAY / 2
        };
        add(at, Some(f64::from(v)), true);
    }
    // The next week: 8, 2, 4 (unsorted on purpose), starting exactly at Monday 00:00.
    add(MONDAY + WEEK, Some(8.0), true);
    add(MONDAY + WEEK + DAY, Some(2.0), true);
    add(MONDAY + WEEK + 2 * DAY, Some(4.0), true);
    // Left out: another team, no metric.
    add(MONDAY + DAY, Some(99.0), false);
    add(MONDAY + DAY, None, true);
    // Three weeks later, one value: every percentile is that value.
    add(MONDAY + 3 * WEEK + 5, Some(0.5), true);
    index.upsert(&docs).await.unwrap();
    // Another organisation's documents in the same weeks and team id never count.
    let mut foreign = doc(OrgId::new(), SubjectId::new(), MONDAY);
    foreign.teams = vec![team];
    foreign.metrics = metrics(&[(metric, 1e6)]);
    index.upsert(&[foreign]).await.unwrap();

    let team_q = Query {
        team: Some(team),
        ..q()
    };
    let weeks = index.weekly(org, &team_q, metric).await.unwrap();
    let expected = [
        // numpy.percentile(range(1, 11), [10, 50, 90]) = 1.9, 5.5, 9.1
        (MONDAY, 10, 5.5, 1.9, 5.5, 9.1),
        // sorted 2, 4, 8: h = 0.2 -> 2.4; h = 1 -> 4; h = 1.8 -> 4 + 0.8 * 4 = 7.2
        (MONDAY + WEEK, 3, 14.0 / 3.0, 2.4, 4.0, 7.2),
        (MONDAY + 3 * WEEK, 1, 0.5, 0.5, 0.5, 0.5),
    ];
    assert_eq!(weeks.len(), expected.len(), "{weeks:?}");
    for (week, (start, count, mean, p10, p50, p90)) in weeks.iter().zip(expected) {
        assert_eq!((week.week_start_ms, week.count), (start, count));
        close(week.mean, mean);
        close(week.p10, p10);
        close(week.p50, p50);
        close(week.p90, p90);
    }

    // The query's other filters apply too; the limit does not.
    let narrow = Query {
        from_ms: Some(MONDAY + WEEK),
        metric_ranges: vec![(metric.into(), None, Some(5.0))],
        limit: 1,
        ..team_q
    };
    let weeks = index.weekly(org, &narrow, metric).await.unwrap();
    assert_eq!(weeks.len(), 2);
    assert_eq!((weeks[0].count, weeks[1].count), (2, 1));
    close(weeks[0].mean, 3.0);
    assert!(
        index
            .weekly(org, &q(), "absent_metric")
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn organisations_never_see_or_touch_each_other() {
    let (index, _dir) = open().await;
    let (org_a, org_b) = (OrgId::new(), OrgId::new());
    let team = TeamId::new();
    let subject = SubjectId::new();
    // The same assessment id, team, subject and flag in both organisations: only the org tells
    // them apart.
    let mut a = doc(org_a, subject, MONDAY);
    a.teams = vec![team];
    a.flags = vec!["drift".into()];
    a.metrics = metrics(&[("m", 1.0)]);
    let mut b = a.clone();
    b.org = org_b;
    b.pseudonym = "B-side".into();
    b.metrics = metrics(&[("m", 2.0)]);
    index.upsert(&[a.clone(), b.clone()]).await.unwrap();
    assert_eq!(index.count(org_a).await.unwrap(), 1);
    assert_eq!(index.count(org_b).await.unwrap(), 1);

    let everything = Query {
        team: Some(team),
        subject: Some(subject),
        flag: Some("drift".into()),
        metric_ranges: vec![("m".into(), None, None)],
        ..q()
    };
    assert_eq!(
        index.search(org_a, &everything).await.unwrap(),
        vec![a.clone()]
    );
    assert_eq!(
        index.search(org_b, &everything).await.unwrap(),
        vec![b.clone()]
    );
    let weeks = index.weekly(org_a, &everything, "m").await.unwrap();
    assert_eq!(weeks.len(), 1);
    assert_eq!((weeks[0].count, weeks[0].mean), (1, 1.0));

    // Deleting org A's id leaves org B's document with the same id.
    index.delete(org_a, &[a.id]).await.unwrap();
    assert_eq!(index.count(org_a).await.unwrap(), 0);
    assert_eq!(
        index.search(org_b, &everything).await.unwrap(),
        vec![b.clone()]
    );

    // Clearing org A leaves org B, side rows included.
    index.upsert(std::slice::from_ref(&a)).await.unwrap();
    index.clear_org(org_a).await.unwrap();
    assert_eq!(index.count(org_a).await.unwrap(), 0);
    assert!(index.search(org_a, &q()).await.unwrap().is_empty());
    assert!(index.weekly(org_a, &q(), "m").await.unwrap().is_empty());
    assert_eq!(index.search(org_b, &everything).await.unwrap(), vec![b]);
}

#[tokio::test]
async fn clear_org_then_rebuild() {
    let (index, _dir) = open().await;
    let org = OrgId::new();
    let docs: Vec<_> = (0..20)
        .map(|i| {
            let mut d = full_doc(org, TeamId::new());
            d.recorded_at_ms += i;
            d
        })
        .collect();
    index.upsert(&docs).await.unwrap();
    index.clear_org(org).await.unwrap();
    index.clear_org(org).await.unwrap();
    assert_eq!(index.count(org).await.unwrap(), 0);
    index.upsert(&docs).await.unwrap();
    assert_eq!(index.count(org).await.unwrap(), 20);
    assert_eq!(
        index
            .search(
                org,
                &Query {
                    flag: Some("double_bounce".into()),
                    ..q()
                }
            )
            .await
            .unwrap()
            .len(),
        20
    );
}

#[tokio::test]
async fn the_file_keeps_the_documents_across_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("index.sqlite");
    let org = OrgId::new();
    let stored = full_doc(org, TeamId::new());
    {
        let index = EmbeddedIndex::open(&path).await.unwrap();
        index.upsert(std::slice::from_ref(&stored)).await.unwrap();
        index.close().await;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(
            mode & 0o777,
            0o600,
            "the index file is readable by its owner only"
        );
    }
    let index = DocumentIndex::Embedded(EmbeddedIndex::open(&path).await.unwrap());
    index.check().await.unwrap();
    assert_eq!(index.count(org).await.unwrap(), 1);
    assert_eq!(index.search(org, &q()).await.unwrap(), vec![stored]);
}

#[tokio::test]
async fn bad_documents_are_refused_whole_and_errors_quote_nothing() {
    let (index, _dir) = open().await;
    let org = OrgId::new();
    let good = full_doc(org, TeamId::new());
    let mut bad_name = full_doc(org, TeamId::new());
    bad_name.pseudonym = "Secretive-Pseudonym".into();
    bad_name.metrics.insert("Jump Height".into(), 0.3);
    let mut bad_value = full_doc(org, TeamId::new());
    bad_value.metrics.insert("x".into(), f64::NAN);
    let mut bad_flag = full_doc(org, TeamId::new());
    bad_flag.flags.push(String::new());

    for (batch, position) in [
        (vec![good.clone(), bad_name], 1),
        (vec![bad_value, good.clone()], 0),
        (vec![good.clone(), good.clone(), bad_flag], 2),
    ] {
        let err = index.upsert(&batch).await.unwrap_err();
        assert!(
            matches!(err, IndexError::InvalidDocument { position: p, .. } if p == position),
            "{err:?}"
        );
        let text = err.to_string();
        assert!(
            !text.contains("Secretive") && !text.contains("Jump Height"),
            "{text}"
        );
    }
    assert_eq!(
        index.count(org).await.unwrap(),
        0,
        "nothing of a refused batch is written"
    );

    let bad_query = Query {
        metric_ranges: vec![("x'; DROP TABLE docs; --".into(), None, None)],
        ..q()
    };
    let err = index.search(org, &bad_query).await.unwrap_err();
    assert!(matches!(err, IndexError::InvalidQuery(_)), "{err:?}");
    assert!(!err.to_string().contains("DROP"));
    let infinite = Query {
        metric_ranges: vec![("x".into(), Some(f64::INFINITY), None)],
        ..q()
    };
    assert!(matches!(
        index.search(org, &infinite).await.unwrap_err(),
        IndexError::InvalidQuery(_)
    ));
    assert!(matches!(
        index.weekly(org, &q(), "Bad Name").await.unwrap_err(),
        IndexError::InvalidQuery(_)
    ));
}

#[tokio::test]
async fn weekly_of_nothing_is_empty() {
    let (index, _dir) = open().await;
    let weeks: Vec<WeekBucket> = index.weekly(OrgId::new(), &q(), "m").await.unwrap();
    assert!(weeks.is_empty());
    assert_eq!(index.count(OrgId::new()).await.unwrap(), 0);
    index.upsert(&[]).await.unwrap();
}
