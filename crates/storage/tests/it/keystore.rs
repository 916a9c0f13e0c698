//! The key store on SQLite and PostgreSQL: versions, re-wrapping, retiring, and destruction
//! that leaves no copy of the wrapped key in the SQLite files.

use mhp_storage::StorageError;
use mhp_storage::keystore::{KeyStore, WrappedRow};

fn row(key_id: &str, version: u32, by: &str, by_version: u32, fill: u8) -> WrappedRow {
    WrappedRow {
        key_id: key_id.into(),
        version,
        org_id: "org-a".into(),
        wrapped_by: by.into(),
        wrapper_version: by_version,
        wrapped: vec![fill; 60],
        retired_at_ms: None,
        created_at_ms: 1_000,
    }
}

async fn versions_rewrap_retire_and_destroy(store: KeyStore) {
    store
        .insert(&row("org/a", 1, "master", 1, 1))
        .await
        .unwrap();
    store
        .insert(&row("subject/s1", 1, "org/a", 1, 2))
        .await
        .unwrap();
    store
        .insert(&row("subject/s2", 1, "org/a", 1, 3))
        .await
        .unwrap();
    assert!(matches!(
        store.insert(&row("org/a", 1, "master", 1, 9)).await,
        Err(StorageError::Conflict { .. })
    ));
    assert_eq!(store.get("org/a", 1).await.unwrap().wrapped, vec![1; 60]);

    // A new organisation key version: the old one retires, both still read.
    store
        .insert(&row("org/a", 2, "master", 1, 4))
        .await
        .unwrap();
    assert_eq!(store.retire_below("org/a", 2, 2_000).await.unwrap(), 1);
    assert_eq!(store.current("org/a").await.unwrap().unwrap().version, 2);
    assert_eq!(
        store.get("org/a", 1).await.unwrap().retired_at_ms,
        Some(2_000)
    );
    assert_eq!(store.highest_version("org/a").await.unwrap(), 2);
    assert_eq!(store.highest_version("org/none").await.unwrap(), 0);

    // Subject keys still wrapped by version 1 are the re-wrap job's work.
    let todo = store.wrapped_by_other_than("org/a", 2, 10).await.unwrap();
    assert_eq!(todo.len(), 2);
    assert!(store.rewrap(&todo[0], 2, &[7; 60]).await.unwrap());
    assert!(
        !store.rewrap(&todo[0], 2, &[8; 60]).await.unwrap(),
        "a stale work item changes nothing"
    );
    let uses = store.wrapper_use().await.unwrap();
    let count = |by: &str, v: u32| {
        uses.iter()
            .find(|u| u.wrapped_by == by && u.wrapper_version == v)
            .map_or(0, |u| u.keys)
    };
    assert_eq!((count("org/a", 1), count("org/a", 2)), (1, 1));
    assert_eq!(store.org_keys().await.unwrap().len(), 2);

    assert_eq!(store.destroy("subject/s1").await.unwrap(), 1);
    assert!(matches!(
        store.get("subject/s1", 1).await,
        Err(StorageError::NotFound { .. })
    ));
    assert!(store.get("subject/s2", 1).await.is_ok());
    assert_eq!(store.destroy_org("org-a").await.unwrap(), 3);
    assert!(store.current("org/a").await.unwrap().is_none());
}

#[tokio::test]
async fn key_store_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keys.db");
    let store = KeyStore::open(&format!("sqlite://{}?mode=rwc", path.display()))
        .await
        .unwrap();
    // A recognisable wrapped key, to look for in the files after it is destroyed.
    let marker: Vec<u8> = (0u8..60).map(|i| i.wrapping_mul(37) ^ 0xA5).collect();
    let mut secret = row("subject/gone", 1, "org/b", 1, 0);
    secret.wrapped = marker.clone();
    store.insert(&secret).await.unwrap();
    let on_disk = |dir: &std::path::Path| -> Vec<u8> {
        let mut all = Vec::new();
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            all.extend(std::fs::read(entry.path()).unwrap_or_default());
        }
        all
    };
    // Checkpoint so that the row is in the main file before it is destroyed.
    store.destroy("subject/nothing").await.unwrap();
    assert!(
        on_disk(dir.path())
            .windows(60)
            .any(|w| w == marker.as_slice()),
        "the wrapped key is on disk before destruction"
    );
    assert_eq!(store.destroy("subject/gone").await.unwrap(), 1);
    assert!(
        !on_disk(dir.path())
            .windows(60)
            .any(|w| w == marker.as_slice()),
        "no copy of a destroyed key remains in the key store's files"
    );
    versions_rewrap_retire_and_destroy(store).await;
}

#[tokio::test]
async fn key_store_postgres() {
    let Some(url) = mhp_test_support::fresh_postgres().await else {
        return;
    };
    let store = KeyStore::open(&url).await.unwrap();
    versions_rewrap_retire_and_destroy(store).await;
}
