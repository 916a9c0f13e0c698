//! Uploads as practitioners send them, through the real binary: recordings past axum's 2 MiB
//! default (raw and multipart), files that needed options at upload and are reanalysed with
//! them, refused files that write nothing, the sweep of raw files no row refers to, and the
//! database files' permissions.

use std::os::unix::fs::PermissionsExt as _;
use std::time::{Duration, SystemTime};

use mhp_biomech::synth::{self, BalanceSpec, CmjSpec};
use mhp_biomech::to_mhp_csv;
use mhp_test_support::MhpProcess;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::{MHP, bootstrap_org, mhp, stderr, stdout};

/// A 90 s single-plate balance recording at 1000 Hz with centre of pressure: about 3.5 MB.
fn long_balance() -> String {
    to_mhp_csv(
        &synth::balance(&BalanceSpec {
            sample_rate_hz: 1000.0,
            duration_s: 90.0,
            ..BalanceSpec::default()
        })
        .unwrap(),
    )
}

/// A dual-plate jump without a time column or rate header: readable only with `sample_rate_hz`.
fn jump_without_rate() -> String {
    let jump = synth::cmj(&CmjSpec {
        left_share: Some(synth::left_share_for_asymmetry(4.0)),
        ..CmjSpec::default()
    })
    .unwrap();
    to_mhp_csv(&jump.recording)
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| l.split_once(',').map_or(l, |(_, rest)| rest))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A dual-plate jump whose header names its columns as no known export does.
fn foreign_header_jump() -> String {
    let jump = synth::cmj(&CmjSpec::default()).unwrap();
    let csv = to_mhp_csv(&jump.recording);
    let mut lines = csv.lines().filter(|l| !l.starts_with('#'));
    let header = lines.next().unwrap();
    assert_eq!(header.split(',').count(), 3, "{header}");
    std::iter::once("sec,plate_a,plate_b")
        .chain(lines)
        .collect::<Vec<_>>()
        .join("\n")
}

fn multipart(name: &str, content: &str) -> (String, Vec<u8>) {
    let boundary = "mhp-test-boundary-7d1c";
    let mut body = Vec::new();
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n\
             Content-Type: text/csv\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(content.as_bytes());
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// The body of a 201 answer (the problem's text in the failure message otherwise).
async fn created(res: reqwest::Response) -> Value {
    let status = res.status();
    let text = res.text().await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{text}");
    serde_json::from_str(&text).unwrap()
}

fn set_age(path: &std::path::Path, age: Duration) {
    let file = std::fs::File::options().write(true).open(path).unwrap();
    file.set_modified(SystemTime::now() - age).unwrap();
}

#[tokio::test]
async fn large_recordings_options_for_reanalysis_and_the_orphan_sweep() {
    let dir = tempfile::tempdir().unwrap();
    let o = bootstrap_org(dir.path(), "Lab", &[]);
    let p = MhpProcess::serve(MHP, &["--data-dir", &o.data], &[]);
    let api = format!("{}/api/v1/orgs/{}", p.base, o.org);
    let c = reqwest::Client::new();
    let res = c
        .post(format!("{api}/subjects"))
        .bearer_auth(&o.admin)
        .json(&json!({ "name": "Pat Example" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let subject = res.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let uploads = format!("{api}/subjects/{subject}/assessments");

    // Past 2 MiB, as the body and as a form: the configured limit (64 MiB) is the limit.
    let balance = long_balance();
    assert!(balance.len() > 3 * 1024 * 1024, "{}", balance.len());
    let post = |url: String, content_type: Option<String>, body: Vec<u8>| {
        let mut req = c.post(url).bearer_auth(&o.admin).body(body);
        if let Some(ct) = content_type {
            req = req.header("content-type", ct);
        }
        async move { req.send().await.unwrap() }
    };
    let csv = || Some("text/csv".to_owned());
    created(post(uploads.clone(), csv(), balance.clone().into_bytes()).await).await;
    let (content_type, form) = multipart("balance.csv", &balance);
    created(post(uploads.clone(), Some(content_type), form).await).await;

    // A file that needs its sampling rate from the query; the stored assessment keeps it.
    let jump = created(
        post(
            format!("{uploads}?sample_rate_hz=1000&kind=cmj"),
            csv(),
            jump_without_rate().into_bytes(),
        )
        .await,
    )
    .await;
    let jump_id = jump["id"].as_str().unwrap().to_owned();

    // JSON behind a byte-order mark and blank lines is read, and stored, as JSON.
    let recording = synth::cmj(&CmjSpec::default()).unwrap().recording;
    let fz = match &recording.plates {
        mhp_biomech::Plates::Single { fz } => fz.clone(),
        mhp_biomech::Plates::Dual { left, right } => {
            left.iter().zip(right).map(|(l, r)| l + r).collect()
        }
    };
    let body = format!(
        "\u{feff}\n  {}",
        json!({ "sample_rate_hz": recording.sample_rate.hz(), "test": "cmj",
                "channels": { "fz": fz } })
    );
    let stored = created(post(uploads.clone(), None, body.into_bytes()).await).await;
    assert_eq!(stored["raw"]["format"], "json");

    // Refused with the reason, and nothing written: no assessment, no raw file.
    let raw = std::path::Path::new(&o.data).join(format!("objects/orgs/{}/raw", o.org));
    let files = || std::fs::read_dir(&raw).unwrap().count();
    let before = files();
    let nan_rows = "time_s,fz_n\n".to_owned()
        + &(0..3000)
            .map(|i| format!("{:.3},NaN\n", f64::from(i) / 1000.0))
            .collect::<String>();
    let huge_rows = "time_s,fz_n\n".to_owned()
        + &(0..3000)
            .map(|i| format!("{:.3},1e308\n", f64::from(i) / 1000.0))
            .collect::<String>();
    for (file, code, says) in [
        (
            "foo,bar\n1,2\n3,4\n".to_owned(),
            "invalid-recording",
            "expected time_s",
        ),
        (
            "sec,reading\n0.001,700\n0.002,701\n".to_owned(),
            "invalid-recording",
            "fz_n",
        ),
        (nan_rows, "invalid-recording", "no usable force"),
        (huge_rows, "invalid-recording", "no usable force"),
    ] {
        let res = post(uploads.clone(), csv(), file.into_bytes()).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let problem: Value = res.json().await.unwrap();
        assert_eq!(problem["code"], code);
        assert!(
            problem["detail"].as_str().unwrap().contains(says),
            "{problem}"
        );
    }
    assert_eq!(files(), before, "a refused file leaves no raw file");

    // Unless the upload says which column is which: the same kind of header, mapped.
    let mapped_file = foreign_header_jump();
    let res = post(
        format!("{uploads}?columns=time_s,plate"),
        csv(),
        mapped_file.clone().into_bytes(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let problem: Value = res.json().await.unwrap();
    assert!(
        problem["detail"].as_str().unwrap().contains("column 2"),
        "{problem}"
    );
    assert_eq!(files(), before, "a refused map leaves no raw file");
    let mapped = created(
        post(
            format!("{uploads}?columns=time_s,left,right"),
            csv(),
            mapped_file.into_bytes(),
        )
        .await,
    )
    .await;
    let mapped_id = mapped["id"].as_str().unwrap().to_owned();
    assert_eq!(mapped["kind"], "cmj", "{mapped}");
    assert_eq!(mapped["trials"], 1, "{mapped}");
    assert_eq!(mapped["blocked_trials"], 0, "{mapped}");
    let listed: Value = c
        .get(&uploads)
        .bearer_auth(&o.admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        listed["items"].as_array().map(Vec::len),
        Some(5),
        "{listed}"
    );
    drop(p);

    // An older engine's result is recomputed from the raw file, read as the upload read it.
    let db = format!("sqlite://{}/mhp.sqlite", o.data);
    crate::main_path::age_assessment(&db, &o.org, &jump_id).await;
    crate::main_path::age_assessment(&db, &o.org, &mapped_id).await;
    let again = mhp(&["reanalyze", "--data-dir", &o.data], &[], None);
    assert_eq!(again.status.code(), Some(0), "{}", stderr(&again));
    assert!(
        stdout(&again).starts_with("re-analysed 2 assessment(s)"),
        "{}",
        stdout(&again)
    );

    // Raw files: the five uploads' (made old), an old one no row refers to, a fresh one.
    let referenced: Vec<_> = std::fs::read_dir(&raw)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(referenced.len(), 5);
    for f in &referenced {
        set_age(f, Duration::from_secs(3 * 3600));
    }
    let orphan = raw.join("0192aaaa-0000-7000-8000-000000000001.sealed");
    std::fs::write(&orphan, b"sealed bytes of a crashed upload").unwrap();
    set_age(&orphan, Duration::from_secs(2 * 3600));
    let in_flight = raw.join("0192aaaa-0000-7000-8000-000000000002.sealed");
    std::fs::write(&in_flight, b"an upload whose row is not committed yet").unwrap();
    let p = MhpProcess::serve(MHP, &["--data-dir", &o.data], &[]);
    p.wait_for_log(
        &[
            "swept raw files that no assessment refers to",
            "\"removed\":1",
        ],
        Duration::from_secs(30),
    )
    .await;
    assert!(!orphan.exists());
    assert!(in_flight.exists(), "younger than the grace period");
    assert!(referenced.iter().all(|f| f.exists()));

    // The database files are the owner's alone.
    let mut files = Vec::new();
    for entry in std::fs::read_dir(&o.data).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.contains(".sqlite") {
            let mode = entry.metadata().unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{name}");
            files.push(name);
        }
    }
    for name in ["mhp.sqlite", "keys.sqlite", "index.sqlite"] {
        assert!(files.iter().any(|f| f == name), "{name} in {files:?}");
    }
}

/// Two jumps with sway between them and no steady second anywhere: nothing can weigh the athlete
/// from the recording alone.
fn jumps_without_a_steady_second() -> String {
    use mhp_biomech::synth::session::{SessionSpec, session};
    to_mhp_csv(
        &session(&SessionSpec::jumps_without_a_steady_second())
            .unwrap()
            .recording,
    )
}

/// The flag codes of every trial of an assessment as the API shows it.
fn flag_codes(a: &Value) -> Vec<String> {
    a["report"]["trials"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|t| t["flags"].as_array().cloned().unwrap_or_default())
        .filter_map(|f| f["code"].as_str().map(str::to_owned))
        .collect()
}

/// The assessment `id` after its result was made an older engine's and `mhp reanalyze` ran
/// (the server stopped meanwhile), read back through a server started again.
async fn reanalysed(o: &crate::BootstrappedOrg, id: &str) -> Value {
    let db = format!("sqlite://{}/mhp.sqlite", o.data);
    crate::main_path::age_assessment(&db, &o.org, id).await;
    let again = mhp(&["reanalyze", "--data-dir", &o.data], &[], None);
    assert_eq!(again.status.code(), Some(0), "{}", stderr(&again));
    let p = MhpProcess::serve(MHP, &["--data-dir", &o.data], &[]);
    reqwest::Client::new()
        .get(format!("{}/api/v1/orgs/{}/assessments/{id}", p.base, o.org))
        .bearer_auth(&o.admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// An upload's weigh-in weighs the athlete when the recording cannot (flagged), is stored with
/// the assessment, and a reanalysis reads the file with it again; without it nothing is guessed.
#[tokio::test]
async fn a_weigh_in_at_upload_weighs_and_is_kept_for_reanalysis() {
    let dir = tempfile::tempdir().unwrap();
    let o = bootstrap_org(dir.path(), "Weigh", &[]);
    let p = MhpProcess::serve(MHP, &["--data-dir", &o.data], &[]);
    let api = format!("{}/api/v1/orgs/{}", p.base, o.org);
    let c = reqwest::Client::new();
    let subject = created(
        c.post(format!("{api}/subjects"))
            .bearer_auth(&o.admin)
            .json(&json!({ "name": "Sam Example" }))
            .send()
            .await
            .unwrap(),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let uploads = format!("{api}/subjects/{subject}/assessments");
    let file = jumps_without_a_steady_second();
    let upload = |query: &'static str| {
        c.post(format!("{uploads}{query}"))
            .bearer_auth(&o.admin)
            .header("content-type", "text/csv")
            .body(file.clone())
            .send()
    };

    let unweighed = created(upload("").await.unwrap()).await;
    assert_eq!(unweighed["blocked_trials"], 2, "{unweighed}");
    assert!(
        flag_codes(&unweighed)
            .iter()
            .all(|f| f == "no_stable_weighing")
    );

    for bad in ["?body_mass_kg=5", "?body_mass_kg=NaN", "?box_height_m=9"] {
        let res = upload(bad).await.unwrap();
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{bad}");
    }

    let weighed = created(upload("?body_mass_kg=80").await.unwrap()).await;
    assert_eq!(weighed["blocked_trials"], 0, "{weighed}");
    assert!(
        flag_codes(&weighed)
            .iter()
            .any(|f| f == "body_weight_from_weigh_in"),
        "{weighed}"
    );
    let height = weighed["summary"]["jump_height_impulse_m"]
        .as_f64()
        .unwrap();
    assert!((height - 0.29).abs() < 0.02, "{height}");
    let id = weighed["id"].as_str().unwrap().to_owned();
    drop(p);

    // An older engine's result is recomputed from the raw file with the stored weigh-in.
    let read = reanalysed(&o, &id).await;
    assert_eq!(read["analysis_version"], mhp_biomech::ANALYSIS_VERSION);
    assert_eq!(read["blocked_trials"], 0, "{read}");
    let again_height = read["summary"]["jump_height_impulse_m"].as_f64().unwrap();
    assert!(
        (again_height - height).abs() < 1e-9,
        "{again_height} against {height}"
    );
}

/// Without a steady second and without a weigh-in, the athlete's latest assessment of the last
/// 30 days that weighed them on the plate weighs the recording (flagged, and stored so that a
/// reanalysis weighs it alike). An older assessment, another athlete's, or a body mass that was
/// itself a weigh-in is never used: then nothing is guessed.
#[tokio::test]
async fn an_earlier_assessment_weighs_a_recording_nothing_else_can() {
    let dir = tempfile::tempdir().unwrap();
    let o = bootstrap_org(dir.path(), "Earlier", &[]);
    let p = MhpProcess::serve(MHP, &["--data-dir", &o.data], &[]);
    let api = format!("{}/api/v1/orgs/{}", p.base, o.org);
    let c = reqwest::Client::new();
    let new_subject = |name: &'static str| {
        let c = c.clone();
        let api = api.clone();
        let admin = o.admin.clone();
        async move {
            created(
                c.post(format!("{api}/subjects"))
                    .bearer_auth(&admin)
                    .json(&json!({ "name": name }))
                    .send()
                    .await
                    .unwrap(),
            )
            .await["id"]
                .as_str()
                .unwrap()
                .to_owned()
        }
    };
    let upload = |subject: &str, file: String, query: String| {
        c.post(format!("{api}/subjects/{subject}/assessments{query}"))
            .bearer_auth(&o.admin)
            .header("content-type", "text/csv")
            .body(file)
            .send()
    };
    let day = 86_400_000_i64;
    let now = i64::try_from(
        SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap()
            .as_millis(),
    )
    .unwrap();
    let at = |days_ago: i64| format!("?recorded_at_ms={}", now - days_ago * day);
    let steady = to_mhp_csv(&synth::cmj(&CmjSpec::default()).unwrap().recording);

    // Sam jumped on a steady plate 10 days ago (80 kg measured), and 40 days ago.
    let sam = new_subject("Sam Example").await;
    let measured = created(upload(&sam, steady.clone(), at(10)).await.unwrap()).await;
    assert_eq!(measured["blocked_trials"], 0, "{measured}");
    created(upload(&sam, steady.clone(), at(40)).await.unwrap()).await;
    let weighed = created(
        upload(&sam, jumps_without_a_steady_second(), at(0))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(weighed["blocked_trials"], 0, "{weighed}");
    let codes = flag_codes(&weighed);
    assert!(
        codes
            .iter()
            .all(|f| f == "body_weight_from_earlier_assessment")
            && codes.len() == 2,
        "{weighed}"
    );
    let height = weighed["summary"]["jump_height_impulse_m"]
        .as_f64()
        .unwrap();
    assert!((height - 0.29).abs() < 0.02, "{height}");
    let id = weighed["id"].as_str().unwrap().to_owned();

    // Alex's only steady assessment is 40 days old, and Sam's is not Alex's: nothing weighs.
    let alex = new_subject("Alex Example").await;
    created(upload(&alex, steady.clone(), at(40)).await.unwrap()).await;
    let refused = created(
        upload(&alex, jumps_without_a_steady_second(), at(0))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(refused["blocked_trials"], 2, "{refused}");
    assert!(
        flag_codes(&refused)
            .iter()
            .all(|f| f == "no_stable_weighing")
    );

    // Kim's recent assessment was weighed by a weigh-in, not on the plate: not a measurement.
    let kim = new_subject("Kim Example").await;
    let guessed = created(
        upload(
            &kim,
            jumps_without_a_steady_second(),
            format!("{}&body_mass_kg=80", at(5)),
        )
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(guessed["blocked_trials"], 0, "{guessed}");
    let refused = created(
        upload(&kim, jumps_without_a_steady_second(), at(0))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(refused["blocked_trials"], 2, "{refused}");
    drop(p);

    // An older engine's result is recomputed with the stored earlier body mass.
    let read = reanalysed(&o, &id).await;
    assert_eq!(read["analysis_version"], mhp_biomech::ANALYSIS_VERSION);
    assert_eq!(read["blocked_trials"], 0, "{read}");
    assert!(
        flag_codes(&read)
            .iter()
            .all(|f| f == "body_weight_from_earlier_assessment"),
        "{read}"
    );
    let again_height = read["summary"]["jump_height_impulse_m"].as_f64().unwrap();
    assert!(
        (again_height - height).abs() < 1e-9,
        "{again_height} against {height}"
    );
}
