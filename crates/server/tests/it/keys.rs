//! Envelope encryption at work: subject keys seal PHI, destroying one makes its data
//! unreadable, rotation re-wraps without losing anything, and values sealed before envelope
//! encryption still open.

use std::sync::Arc;
use std::time::Duration;

use mhp_app::keys::{Keys, RewrapReport};
use mhp_app::phi::{FieldAt, Phi};
use mhp_crypto::envelope::{LocalKeyring, MasterKeyProvider as _};
use mhp_crypto::seal::{Place, Sealer};
use mhp_domain::{OrgId, SubjectId, SystemClock};
use mhp_storage::keystore::KeyStore;

fn name_at(org: OrgId, row: &str) -> FieldAt<'_> {
    FieldAt {
        org,
        table: "subjects",
        column: "name",
        row,
    }
}

async fn keys_in(dir: &std::path::Path, ttl: Duration) -> Arc<Keys> {
    let ring = LocalKeyring::open(&dir.join("keyring")).unwrap();
    let store = KeyStore::open(&format!(
        "sqlite://{}?mode=rwc",
        dir.join("keys.sqlite").display()
    ))
    .await
    .unwrap();
    Arc::new(Keys::new(store, Arc::new(ring), Arc::new(SystemClock), ttl))
}

#[tokio::test]
async fn destroying_a_subject_key_makes_its_fields_and_raw_signals_unreadable() {
    let dir = tempfile::tempdir().unwrap();
    let master = mhp_crypto::Roots::single(
        mhp_crypto::MasterKey::load_or_create(&dir.path().join("master.key")).unwrap(),
    );
    let keys = keys_in(dir.path(), Duration::from_secs(60)).await;
    let phi = Phi::new(&master, keys.clone());
    let org = OrgId::new();
    let (gone, kept) = (SubjectId::new(), SubjectId::new());
    let (gone_row, kept_row) = (gone.to_string(), kept.to_string());

    let sealer = phi.for_write(org, gone).await.unwrap();
    let name = sealer
        .seal(name_at(org, &gone_row), "Zelda Backupova")
        .unwrap();
    let raw = sealer.seal_raw(org, "a1", b"t,fz\n0,700\n").unwrap();
    let kept_name = phi
        .for_write(org, kept)
        .await
        .unwrap()
        .seal(name_at(org, &kept_row), "Carl Control")
        .unwrap();
    // Another organisation naming the same subject id gets a key of its own, which opens
    // nothing of this one's.
    let other = OrgId::new();
    let intruder = phi.for_write(other, gone).await.unwrap();
    assert!(intruder.open(name_at(org, &gone_row), &name).is_err());

    let reader = phi.for_read(org, gone).await.unwrap();
    assert_eq!(
        reader.open(name_at(org, &gone_row), &name).unwrap(),
        "Zelda Backupova"
    );
    assert_eq!(
        reader.open_raw(org, "a1", raw.clone()).unwrap(),
        b"t,fz\n0,700\n"
    );
    // Bound to its place: the name does not open as another row's.
    assert!(reader.open(name_at(org, &kept_row), &name).is_err());

    assert_eq!(keys.shred_subject(org, gone).await.unwrap(), 1);
    let after = phi.for_read(org, gone).await.unwrap();
    assert!(matches!(
        after.open(name_at(org, &gone_row), &name),
        Err(mhp_app::AppError::Gone(_))
    ));
    assert!(matches!(
        after.open_raw(org, "a1", raw.clone()),
        Err(mhp_app::AppError::Gone(_))
    ));
    // A fresh process (no cache) cannot open it either; the other subject is untouched.
    let fresh = Phi::new(&master, keys_in(dir.path(), Duration::from_secs(60)).await);
    assert!(matches!(
        fresh
            .for_read(org, gone)
            .await
            .unwrap()
            .open_raw(org, "a1", raw),
        Err(mhp_app::AppError::Gone(_))
    ));
    assert_eq!(
        fresh
            .for_read(org, kept)
            .await
            .unwrap()
            .open(name_at(org, &kept_row), &kept_name)
            .unwrap(),
        "Carl Control"
    );
}

#[tokio::test]
async fn values_sealed_before_envelope_encryption_still_open() {
    let dir = tempfile::tempdir().unwrap();
    let master = mhp_crypto::Roots::single(
        mhp_crypto::MasterKey::load_or_create(&dir.path().join("master.key")).unwrap(),
    );
    let phi = Phi::new(&master, keys_in(dir.path(), Duration::from_secs(60)).await);
    let (org, subject) = (OrgId::new(), SubjectId::new());
    let row = subject.to_string();
    let legacy = Sealer::derive(master.current().1, "phi.fields")
        .seal(
            b"Old Timer",
            &Place {
                org: Some(org),
                table: "subjects",
                column: "name",
                row: &row,
            },
        )
        .unwrap();
    // No subject key exists yet, and none is needed to read it.
    let reader = phi.for_read(org, subject).await.unwrap();
    assert_eq!(
        reader.open(name_at(org, &row), &legacy).unwrap(),
        "Old Timer"
    );
    assert!(matches!(
        reader.seal(name_at(org, &row), "x"),
        Err(mhp_app::AppError::Gone(_))
    ));
}

#[tokio::test]
async fn rotation_rewraps_every_key_and_retires_what_nothing_uses() {
    let dir = tempfile::tempdir().unwrap();
    let master = mhp_crypto::Roots::single(
        mhp_crypto::MasterKey::load_or_create(&dir.path().join("master.key")).unwrap(),
    );
    let keys = keys_in(dir.path(), Duration::from_secs(60)).await;
    let phi = Phi::new(&master, keys.clone());
    let org = OrgId::new();
    let subjects: Vec<SubjectId> = (0..3).map(|_| SubjectId::new()).collect();
    let mut sealed = Vec::new();
    for s in &subjects {
        let row = s.to_string();
        let v = phi
            .for_write(org, *s)
            .await
            .unwrap()
            .seal(name_at(org, &row), &format!("Person {row}"))
            .unwrap();
        sealed.push((*s, row, v));
    }
    assert_eq!(keys.rewrap(100).await.unwrap(), RewrapReport::default());

    // A new master version: the organisation key moves onto it, version 1 retires.
    assert_eq!(keys.rotate_master().await.unwrap(), 2);
    let report = keys.rewrap(100).await.unwrap();
    assert_eq!(report.org_keys_rewrapped, 1);
    assert_eq!(report.master_versions_retired, vec![1]);
    assert!(dir.path().join("keyring/kek-v1.key.retired").exists());

    // A new organisation key version: new subject keys use it at once, old ones move onto it.
    assert_eq!(keys.rotate_org(org).await.unwrap(), 2);
    let newcomer = SubjectId::new();
    phi.for_write(org, newcomer).await.unwrap();
    let report = keys.rewrap(100).await.unwrap();
    assert_eq!(report.subject_keys_rewrapped, 3);
    assert_eq!(keys.rewrap(100).await.unwrap(), RewrapReport::default());
    let status = keys.status().await.unwrap();
    assert_eq!(status.master_current, 2);
    assert_eq!(status.master_live, vec![2]);
    let org_key = format!("org/{org}");
    assert!(
        status
            .wrapped
            .iter()
            .filter(|(by, _, _)| by == &org_key)
            .all(|(_, v, _)| *v == 2),
        "{:?}",
        status.wrapped
    );

    // Everything still opens in a fresh process, with master version 1 gone for good.
    let ring = LocalKeyring::open(&dir.path().join("keyring")).unwrap();
    assert_eq!(ring.live_versions(), vec![2]);
    let fresh = Phi::new(&master, keys_in(dir.path(), Duration::from_secs(60)).await);
    for (s, row, v) in &sealed {
        let opened = fresh
            .for_read(org, *s)
            .await
            .unwrap()
            .open(name_at(org, row), v)
            .unwrap();
        assert_eq!(opened, format!("Person {row}"));
    }
}
