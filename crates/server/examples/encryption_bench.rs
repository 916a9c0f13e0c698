//! What envelope encryption costs on the main path, measured on this machine:
//!
//! - storing a subject (identifiers sealed with the subject's key, blind indexes computed, row
//!   and name words inserted in one SQLite transaction) against storing the same row with the
//!   identifiers unsealed and no indexes;
//! - a 10 s dual-plate recording at 1000 Hz sealed into the object store against written as
//!   it is, and read back and opened against read as it is;
//! - making a subject's key (generate, wrap with the organisation key, insert into the key
//!   store), which happens once per subject.
//!
//! `cargo run --release -p mhp-server --example encryption_bench [N]` (N subjects, default 2000)
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use mhp_app::keys::Keys;
use mhp_app::phi::{FieldAt, Phi};
use mhp_biomech::synth::{self, CmjSpec};
use mhp_crypto::envelope::LocalKeyring;
use mhp_domain::{Clock as _, OrgName, OrgScope, SealedBytes, SubjectId, SystemClock};
use mhp_storage::keystore::KeyStore;
use mhp_storage::repo::orgs;
use mhp_storage::repo::subjects::{self, NewSubject, SearchKeys};
use mhp_storage::{Access, Db, DbOptions, ObjectKey, ObjectStore, migrate};

fn per_op(total: Duration, n: usize) -> f64 {
    total.as_secs_f64() * 1e6 / n as f64
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .map_or(2000, |a| a.parse().expect("N subjects"));
    let dir = tempfile::tempdir().unwrap();
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("mhp.sqlite").display()
    );
    let db = Db::connect(&url, &DbOptions::default()).await.unwrap();
    migrate::run(&db).await.unwrap();
    let master = mhp_crypto::Roots::single(
        mhp_crypto::MasterKey::load_or_create(&dir.path().join("master.key")).unwrap(),
    );
    let ring = LocalKeyring::open(&dir.path().join("keyring")).unwrap();
    let store = KeyStore::open(&format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("keys.sqlite").display()
    ))
    .await
    .unwrap();
    let keys = Arc::new(Keys::new(
        store,
        Arc::new(ring),
        Arc::new(SystemClock),
        Duration::from_secs(3600),
    ));
    let phi = Phi::new(&master, keys.clone());
    let objects = ObjectStore::local(dir.path().join("objects"))
        .await
        .unwrap();
    let org = {
        let mut tx = db.operator(Access::Write).await.unwrap();
        let o = orgs::create(
            &mut tx,
            &OrgName::parse("Bench").unwrap(),
            SystemClock.now(),
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        o.id
    };
    let scope = OrgScope::for_command_line(org);

    // Subject keys, made ahead (once per subject in real life: at creation).
    let ids: Vec<SubjectId> = (0..n).map(|_| SubjectId::new()).collect();
    let t = Instant::now();
    for id in &ids {
        phi.for_write(org, *id).await.unwrap();
    }
    let key_creation = per_op(t.elapsed(), n);

    let name = "Alexandra Quartermain-Smythe";
    let birth = "1999-04-01";
    // External ids are unique in an organisation (their blind index is), so each gets its own.
    let store_subject = |id: SubjectId, sealed: bool| {
        let phi = &phi;
        let db = &db;
        let scope = &scope;
        async move {
            let row = id.to_string();
            let external = format!("SN-{}", &row[row.len() - 12..]);
            let external = external.as_str();
            let at = |column| FieldAt {
                org,
                table: "subjects",
                column,
                row: &row,
            };
            let new = if sealed {
                let s = phi.for_write(org, id).await.unwrap();
                NewSubject {
                    name: s.seal(at("name"), name).unwrap(),
                    birth_date: Some(s.seal(at("birth_date"), birth).unwrap()),
                    external_id: Some(s.seal(at("external_id"), external).unwrap()),
                    sex: None,
                    sport: Some("rugby".into()),
                    user: None,
                    search: phi.subject_keys(org, name, Some(external)),
                }
            } else {
                NewSubject {
                    name: SealedBytes::from_ciphertext(name.as_bytes().to_vec()),
                    birth_date: Some(SealedBytes::from_ciphertext(birth.as_bytes().to_vec())),
                    external_id: Some(SealedBytes::from_ciphertext(external.as_bytes().to_vec())),
                    sex: None,
                    sport: Some("rugby".into()),
                    user: None,
                    search: SearchKeys::default(),
                }
            };
            let mut tx = db.tenant(scope, Access::Write).await.unwrap();
            subjects::create_with_id(&mut tx, id, new, SystemClock.now())
                .await
                .unwrap();
            tx.commit().await.unwrap();
        }
    };
    // Alternate halves so that neither variant gets the emptier table.
    let (mut with, mut without) = (Duration::ZERO, Duration::ZERO);
    for (i, id) in ids.iter().enumerate() {
        let plain_id = SubjectId::new();
        let t = Instant::now();
        if i % 2 == 0 {
            store_subject(*id, true).await;
            with += t.elapsed();
            let t = Instant::now();
            store_subject(plain_id, false).await;
            without += t.elapsed();
        } else {
            store_subject(plain_id, false).await;
            without += t.elapsed();
            let t = Instant::now();
            store_subject(*id, true).await;
            with += t.elapsed();
        }
    }
    let (subject_with, subject_without) = (per_op(with, n), per_op(without, n));

    // A 10 s dual-plate recording: three jumps with quiet standing, 1000 Hz, as uploaded.
    let jumps = synth::cmj(&CmjSpec {
        jumps: 3,
        ..CmjSpec::default()
    })
    .unwrap();
    let csv = mhp_biomech::to_mhp_csv(&jumps.recording).into_bytes();
    let seconds = jumps.recording.len() as f64 / jumps.recording.sample_rate.hz();
    let rounds = 200;
    let subject = ids[0];
    let (mut put_with, mut put_without, mut get_with, mut get_without) = (
        Duration::ZERO,
        Duration::ZERO,
        Duration::ZERO,
        Duration::ZERO,
    );
    for i in 0..rounds {
        let sealed_key = ObjectKey::parse(&format!("bench/sealed-{i}")).unwrap();
        let plain_key = ObjectKey::parse(&format!("bench/plain-{i}")).unwrap();
        let aid = format!("a{i}");
        let t = Instant::now();
        let sealed = phi
            .for_write(org, subject)
            .await
            .unwrap()
            .seal_raw(org, &aid, &csv)
            .unwrap();
        objects.put(&sealed_key, &sealed).await.unwrap();
        put_with += t.elapsed();
        let t = Instant::now();
        objects.put(&plain_key, &csv).await.unwrap();
        put_without += t.elapsed();

        let t = Instant::now();
        let back = objects.get(&sealed_key).await.unwrap();
        let opened = phi
            .for_read(org, subject)
            .await
            .unwrap()
            .open_raw(org, &aid, back)
            .unwrap();
        get_with += t.elapsed();
        assert_eq!(opened.len(), csv.len());
        let t = Instant::now();
        let plain = objects.get(&plain_key).await.unwrap();
        get_without += t.elapsed();
        assert_eq!(plain.len(), csv.len());
    }

    println!("envelope encryption overhead (SQLite, local key ring, {n} subjects, release build)");
    println!(
        "subject key made once per subject (generate, wrap, key store insert): {key_creation:.1} µs"
    );
    println!(
        "store a subject: sealed + blind indexes {subject_with:.1} µs, unsealed {subject_without:.1} µs, ratio {:.2}",
        subject_with / subject_without
    );
    println!(
        "10 s dual-plate recording ({seconds:.1} s, {} KiB CSV): seal + put {:.1} µs, put {:.1} µs, ratio {:.2}",
        csv.len() / 1024,
        per_op(put_with, rounds),
        per_op(put_without, rounds),
        put_with.as_secs_f64() / put_without.as_secs_f64()
    );
    println!(
        "  read back: get + open {:.1} µs, get {:.1} µs, ratio {:.2}",
        per_op(get_with, rounds),
        per_op(get_without, rounds),
        get_with.as_secs_f64() / get_without.as_secs_f64()
    );
}
