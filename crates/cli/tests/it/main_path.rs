//! The main path through the real binary, on SQLite and on PostgreSQL: a team and a subject,
//! an upload by a device key (retried with the same Idempotency-Key), metrics read back, an
//! injury and its clearance, the FHIR export, and another organisation refused.

use mhp_biomech::synth::{self, CmjSpec};
use mhp_biomech::to_mhp_csv;
use mhp_test_support::MhpProcess;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::{MHP, json_of, mhp, printed_id, printed_token, stderr, stdout};

/// GETs `url` with `key` and expects 200 with JSON.
async fn get_ok(c: &reqwest::Client, url: impl reqwest::IntoUrl, key: &str) -> Value {
    json_of(
        c.get(url).bearer_auth(key).send().await.unwrap(),
        StatusCode::OK,
    )
    .await
}

async fn main_path(env: Vec<(&str, String)>) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data").display().to_string();
    let env_ref: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let run = |args: &[&str]| {
        let mut full: Vec<&str> = args.to_vec();
        full.extend(["--data-dir", &data]);
        mhp(&full, &env_ref, None)
    };
    let alpha = printed_id(
        &run(&[
            "admin",
            "bootstrap",
            "--org",
            "Alpha",
            "--email",
            "ops@example.org",
        ]),
        "organisation:",
    );
    let bravo = printed_id(
        &run(&["admin", "org-create", "--name", "Bravo"]),
        "organisation:",
    );
    let key = |org: &str, role: &str| {
        printed_token(&run(&[
            "admin", "api-key", "create", "--org", org, "--role", role, "--name", role,
        ]))
    };
    let admin = key(&alpha, "org_admin");
    let device = key(&alpha, "device");
    let intruder = key(&bravo, "org_admin");
    let auditor = key(&alpha, "auditor");

    let p = MhpProcess::serve(MHP, &["--data-dir", &data], &env_ref);
    let c = reqwest::Client::new();
    let api = format!("{}/api/v1/orgs/{alpha}", p.base);

    let team = json_of(
        c.post(format!("{api}/teams"))
            .bearer_auth(&admin)
            .json(&json!({"name": "Forwards"}))
            .send()
            .await
            .unwrap(),
        StatusCode::CREATED,
    )
    .await;
    let team_id = team["id"].as_str().unwrap();
    let subject = json_of(
        c.post(format!("{api}/subjects"))
            .bearer_auth(&admin)
            .json(&json!({
                "name": "Ada Quartermain", "external_id": "SN-4471", "birth_date": "1999-04-01",
                "sex": "female", "sport": "Rugby", "team_ids": [team_id],
            }))
            .send()
            .await
            .unwrap(),
        StatusCode::CREATED,
    )
    .await;
    let sid = subject["id"].as_str().unwrap().to_owned();
    assert_eq!(subject["name"], "Ada Quartermain");
    assert_eq!(subject["sport"], "rugby");
    assert_eq!(subject["availability"], "available");

    // Search by blind index: the external id in another spelling, a word of the name.
    for q in ["sn4471", "quartermain", "Ada%20Quartermain"] {
        let found = get_ok(&c, format!("{api}/subjects?q={q}"), &admin).await;
        assert_eq!(found["items"].as_array().unwrap().len(), 1, "{q}: {found}");
    }
    let none = get_ok(&c, format!("{api}/subjects?q=quarter"), &admin).await;
    assert!(none["items"].as_array().unwrap().is_empty());

    // The device uploads a session of two jumps; the retry counts once.
    let jumps = synth::cmj(&CmjSpec {
        body_mass_kg: 68.0,
        takeoff_velocity_m_s: synth::takeoff_velocity_for_height(0.33),
        left_share: Some(synth::left_share_for_asymmetry(7.0)),
        jumps: 2,
        seed: 11,
        ..CmjSpec::default()
    })
    .unwrap();
    let csv = to_mhp_csv(&jumps.recording);
    let upload = |body: String, idem: &str| {
        c.post(format!("{api}/subjects/{sid}/assessments"))
            .bearer_auth(&device)
            .header("content-type", "text/csv")
            .header("idempotency-key", idem)
            .body(body)
            .send()
    };
    let first = json_of(
        upload(csv.clone(), "plate-7-0001").await.unwrap(),
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(first["kind"], "cmj");
    assert_eq!(first["source"], "device");
    assert_eq!(first["trials"], 2);
    assert_eq!(first["blocked_trials"], 0);
    let height = first["summary"]["jump_height_impulse_m"].as_f64().unwrap();
    assert!((height - 0.33).abs() < 0.01, "{height}");
    let asym = first["summary"]["asymmetry.propulsive_impulse_pct"]
        .as_f64()
        .unwrap();
    assert!((asym - 7.0).abs() < 1.0, "{asym}");
    assert!(
        first["report"]["trials"][1]["metrics"]["rsi_modified"].is_number(),
        "{first}"
    );
    let aid = first["id"].as_str().unwrap().to_owned();

    let retry = upload(csv.clone(), "plate-7-0001").await.unwrap();
    assert_eq!(retry.headers()["idempotent-replayed"], "true");
    let retry = json_of(retry, StatusCode::OK).await;
    assert_eq!(retry["id"], aid.as_str());
    let reused = json_of(
        upload(
            csv.replace("# units: N", "# units: N\n# device: other"),
            "plate-7-0001",
        )
        .await
        .unwrap(),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(reused["code"], "idempotency-key-reused");

    // An unreadable file: a clear problem, nothing stored.
    let bad = json_of(
        upload(
            "# sample_rate_hz: 1000\ntime_s,fz_n\n0.000,800\n0.001,abc\n".into(),
            "plate-7-0002",
        )
        .await
        .unwrap(),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(bad["code"], "invalid-recording");
    assert!(bad["detail"].as_str().unwrap().contains("line 4"), "{bad}");
    // Devices upload; they do not read.
    let res = c
        .get(format!("{api}/subjects/{sid}/assessments"))
        .bearer_auth(&device)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let listed = get_ok(&c, format!("{api}/subjects/{sid}/assessments"), &admin).await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 1, "{listed}");
    let read = get_ok(&c, format!("{api}/assessments/{aid}"), &admin).await;
    assert_eq!(read["versions"].as_array().unwrap().len(), 1);
    assert_eq!(read["report"]["trials"].as_array().unwrap().len(), 2);

    // The raw file lies sealed in the object store.
    let mut sealed_files = Vec::new();
    let mut stack = vec![std::path::PathBuf::from(&data).join("objects")];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let path = e.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                sealed_files.push(std::fs::read(&path).unwrap());
            }
        }
    }
    assert_eq!(
        sealed_files.len(),
        1,
        "one raw file, none from the refused uploads"
    );
    assert!(!sealed_files[0].windows(6).any(|w| w == b"time_s"));

    // An injury makes the subject unavailable; a clearance makes them available again.
    let injury = json_of(
        c.post(format!("{api}/subjects/{sid}/injuries"))
            .bearer_auth(&admin)
            .json(&json!({
                "body_region": "hamstring", "injury_type": "muscle_strain", "side": "left",
                "mechanism": "non_contact", "occurred_on": "2026-01-10", "time_loss_days": 12,
                "notes": "Felt a pull in the last sprint",
            }))
            .send()
            .await
            .unwrap(),
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(injury["severity"], "moderate");
    assert_eq!(injury["stage"], "reported");
    let iid = injury["id"].as_str().unwrap();
    let s_url = format!("{api}/subjects/{sid}");
    // Its time loss ended on 2026-01-22 (occurred + 12 days): without a decision saying
    // otherwise the subject is available again (mhp_domain::availability).
    assert_eq!(
        get_ok(&c, &s_url, &admin).await["availability"],
        "available"
    );
    // A decision after the expected return overrides it: still out.
    let setback = json_of(
        c.post(format!("{api}/injuries/{iid}/decisions"))
            .bearer_auth(&admin)
            .json(&json!({"stage": "rehabilitation", "decided_on": "2026-01-24"}))
            .send()
            .await
            .unwrap(),
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(setback["availability"], "unavailable");
    assert_eq!(
        get_ok(&c, &s_url, &admin).await["availability"],
        "unavailable"
    );
    for (stage, day) in [("modified_duty", "2026-01-26"), ("cleared", "2026-02-02")] {
        let after = json_of(
            c.post(format!("{api}/injuries/{iid}/decisions"))
                .bearer_auth(&admin)
                .json(&json!({"stage": stage, "decided_on": day, "restrictions": "No sprinting"}))
                .send()
                .await
                .unwrap(),
            StatusCode::CREATED,
        )
        .await;
        assert_eq!(after["stage"], stage);
    }
    assert_eq!(
        get_ok(&c, &s_url, &admin).await["availability"],
        "available"
    );
    assert_eq!(injury["stale"], false, "a time loss ends: never stale");
    // An injury with neither a time loss nor a decision stays open, and after 28 days it is
    // flagged stale for the clinician rather than given a guessed end.
    let other = json_of(
        c.post(format!("{api}/subjects"))
            .bearer_auth(&admin)
            .json(&json!({ "name": "Sam Unresolved" }))
            .send()
            .await
            .unwrap(),
        StatusCode::CREATED,
    )
    .await;
    let open = json_of(
        c.post(format!(
            "{api}/subjects/{}/injuries",
            other["id"].as_str().unwrap()
        ))
        .bearer_auth(&admin)
        .json(&json!({
            "body_region": "ankle", "injury_type": "sprain", "side": "right",
            "mechanism": "contact", "occurred_on": "2026-01-05", "severity": "mild",
        }))
        .send()
        .await
        .unwrap(),
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(open["stale"], true, "{open}");
    assert_eq!(open["availability"], "unavailable", "{open}");
    let roster = get_ok(&c, format!("{api}/teams/{team_id}/subjects"), &admin).await;
    assert_eq!(roster["items"][0]["id"], sid.as_str());

    // Training load, norms and the team's metrics as CSV.
    for (day, minutes, rpe) in [("2026-01-20", 60, 5), ("2026-01-21", 90, 7)] {
        let res = c
            .post(format!("{api}/subjects/{sid}/loads"))
            .bearer_auth(&admin)
            .json(&json!({"session_date": day, "session_type": "training", "duration_min": minutes, "rpe": rpe}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::CREATED);
    }
    let loads = get_ok(
        &c,
        format!("{api}/subjects/{sid}/loads?to=2026-01-21"),
        &admin,
    )
    .await;
    assert_eq!(loads["entries"].as_array().unwrap().len(), 2);
    assert_eq!(loads["acwr"]["acute_7d_au"], 300 + 630);
    // Without dates, a history older than four weeks still shows its latest sessions.
    let recent = get_ok(&c, format!("{api}/subjects/{sid}/loads"), &admin).await;
    assert_eq!(recent, loads, "the 28 days up to the latest session");
    let norms = get_ok(&c, format!("{api}/subjects/{sid}/norms"), &admin).await;
    let jump = norms["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["metric"] == "jump_height_impulse_m")
        .unwrap();
    assert_eq!(jump["value"].as_f64().unwrap(), height);
    assert_eq!(jump["population_size"], 1);
    assert!(
        jump["percentile"].is_null(),
        "too few for a percentile: {jump}"
    );
    let res = c
        .get(format!("{api}/teams/{team_id}/metrics.csv"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let csv = res.text().await.unwrap();
    let mut lines = csv.lines();
    assert!(
        lines.next().unwrap().starts_with(
            "subject_id,pseudonym,name,assessment_id,recorded_at,jump_height_impulse_m"
        )
    );
    let row = lines.next().unwrap();
    assert!(
        row.contains("Ada Quartermain") && row.contains(&aid),
        "{row}"
    );

    // FHIR R4: the patient and the jump metrics, LOINC where a code exists.
    let res = c
        .get(format!("{api}/subjects/{sid}/fhir"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["content-type"], "application/fhir+json");
    let bundle = json_of(res, StatusCode::OK).await;
    assert_eq!(bundle["resourceType"], "Bundle");
    let entries = bundle["entry"].as_array().unwrap();
    assert_eq!(entries[0]["resource"]["resourceType"], "Patient");
    assert_eq!(entries[0]["resource"]["birthDate"], "1999-04-01");
    let codes: Vec<&str> = entries[1..]
        .iter()
        .map(|e| e["resource"]["code"]["coding"][0]["code"].as_str().unwrap())
        .collect();
    assert!(codes.contains(&"29463-7"), "{codes:?}");
    assert!(codes.contains(&"cmj-jump-height-impulse"), "{codes:?}");
    // Checked by FHIR's own models, twice exported: the same Observation ids both times.
    let again = c
        .get(format!("{api}/subjects/{sid}/fhir"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    if let Some(report) = mhp_test_support::fhir::validate(&[&bundle.to_string(), &again]) {
        assert!(report.starts_with("ok: 2 export(s)"), "{report}");
    }
    let record = get_ok(&c, format!("{api}/subjects/{sid}/export"), &admin).await;
    assert_eq!(record["assessments"].as_array().unwrap().len(), 1);
    assert_eq!(
        record["injuries"][0]["notes"],
        "Felt a pull in the last sprint"
    );

    // An assessment computed by an older engine is recomputed from its sealed raw file; both
    // results stay.
    let db_url = env
        .iter()
        .find(|(k, _)| *k == "DATABASE_URL")
        .map(|(_, v)| v.clone())
        .unwrap_or_else(|| format!("sqlite://{data}/mhp.sqlite"));
    age_assessment(&db_url, &alpha, &aid).await;
    let dry = run(&["reanalyze", "--dry-run"]);
    assert!(
        stdout(&dry).starts_with("1 assessment(s) not at analysis version"),
        "{}",
        stdout(&dry)
    );
    let again = run(&["reanalyze"]);
    assert_eq!(again.status.code(), Some(0), "{}", stderr(&again));
    assert!(
        stdout(&again).starts_with("re-analysed 1 assessment(s)"),
        "{}",
        stdout(&again)
    );
    let read = get_ok(&c, format!("{api}/assessments/{aid}"), &admin).await;
    let versions: Vec<&str> = read["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["analysis_version"].as_str().unwrap())
        .collect();
    assert_eq!(
        versions,
        vec!["cmj-0.9.0/balance-0.9.0", mhp_biomech::ANALYSIS_VERSION]
    );
    assert_eq!(read["analysis_version"], mhp_biomech::ANALYSIS_VERSION);
    assert_eq!(
        read["summary"]["jump_height_impulse_m"].as_f64().unwrap(),
        height
    );
    assert!(stdout(&run(&["reanalyze", "--dry-run"])).starts_with("0 assessment(s)"));

    // The auditor's view: who touched this subject, as a page and as JSON lines.
    let events = get_ok(
        &c,
        format!("{api}/audit?resource_id={sid}&action=subject."),
        &auditor,
    )
    .await;
    let actions: Vec<&str> = events["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for want in [
        "subject.create",
        "subject.read",
        "subject.export",
        "subject.export_fhir",
    ] {
        assert!(actions.contains(&want), "{want} missing from {actions:?}");
    }
    assert!(actions.iter().all(|a| a.starts_with("subject.")));
    let res = c
        .get(format!("{api}/audit/export?action=assessment.create"))
        .bearer_auth(&auditor)
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["content-type"], "application/x-ndjson");
    let lines = res.text().await.unwrap();
    let exported: Vec<Value> = lines
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        exported.len(),
        1,
        "one stored upload, the replay and refusals wrote none"
    );
    assert_eq!(exported[0]["resource_id"], aid.as_str());
    assert!(exported[0]["hash"].as_str().unwrap().len() == 64);
    assert!(!lines.contains("Quartermain"));
    let res = c
        .get(format!("{api}/audit"))
        .bearer_auth(&device)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);

    // Another organisation: not found, whatever it asks for.
    for url in [
        format!("{api}/subjects/{sid}"),
        format!("{api}/assessments/{aid}"),
        format!("{}/api/v1/orgs/{bravo}/subjects/{sid}", p.base),
        format!("{}/api/v1/orgs/{bravo}/assessments/{aid}", p.base),
        format!("{api}/audit"),
    ] {
        let res = c.get(&url).bearer_auth(&intruder).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{url}");
    }

    // Refusals do not echo what they refuse.
    let refused = c
        .post(format!("{api}/subjects"))
        .bearer_auth(&admin)
        .json(&json!({"name": "Ada Quartermain", "birth_date": "1999-04-01-x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let refused = refused.text().await.unwrap();
    let last_request = "main-path-last-request";
    let metrics = c
        .get(format!("{}/metrics", p.base))
        .header("x-request-id", last_request)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    // Every request above was answered, so what it wrote is on disk; the last one's log line
    // (written when it was answered, after everything the requests before it logged) is in, so
    // the log of them all is complete.
    p.wait_for_log(
        &[
            "\"message\":\"request\"",
            &format!("\"request_id\":\"{last_request}\""),
        ],
        std::time::Duration::from_secs(10),
    )
    .await;

    // No identifier, birth date or note reaches the log, the metrics, an error response, or
    // any file of the data directory in plain text (database, log of writes, key store, index,
    // objects, outbox): only sealed.
    let mut files = Vec::new();
    collect_files(std::path::Path::new(&data), &mut files);
    assert!(files.len() > 5, "{} files", files.len());
    for phi in [
        "Quartermain",
        "SN-4471",
        "1999-04-01",
        "Felt a pull",
        "No sprinting",
    ] {
        for line in p.log() {
            assert!(!line.contains(phi), "PHI logged: {line}");
        }
        assert!(!metrics.contains(phi), "PHI in /metrics");
        assert!(!refused.contains(phi), "PHI echoed: {refused}");
        for (path, bytes) in &files {
            assert!(
                !bytes.windows(phi.len()).any(|w| w == phi.as_bytes()),
                "{phi} in plain text in {}",
                path.display()
            );
        }
    }
}

fn collect_files(dir: &std::path::Path, out: &mut Vec<(std::path::PathBuf, Vec<u8>)>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        if entry.file_type().unwrap().is_dir() {
            collect_files(&entry.path(), out);
        } else {
            out.push((entry.path(), std::fs::read(entry.path()).unwrap()));
        }
    }
}

/// Rewrites an assessment as if an older engine had computed it (its metrics dropped).
pub(crate) async fn age_assessment(url: &str, org: &str, id: &str) {
    use sqlx::Connection as _;
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(url).await.unwrap();
    let mut tx = conn.begin().await.unwrap();
    if url.starts_with("postgres") {
        sqlx::query("SELECT set_config('mhp.org_id', $1, true)")
            .bind(org)
            .execute(&mut *tx)
            .await
            .unwrap();
    }
    for sql in [
        "DELETE FROM assessment_metrics WHERE assessment_id = $1",
        "UPDATE assessment_results SET analysis_version = 'cmj-0.9.0/balance-0.9.0', \
         computed_at_ms = computed_at_ms - 1000 WHERE assessment_id = $1",
        "UPDATE assessments SET analysis_version = 'cmj-0.9.0/balance-0.9.0' WHERE id = $1",
    ] {
        let done = sqlx::query(sql).bind(id).execute(&mut *tx).await.unwrap();
        assert!(
            done.rows_affected() > 0 || sql.starts_with("DELETE"),
            "{sql}"
        );
    }
    tx.commit().await.unwrap();
}

#[tokio::test]
async fn main_path_on_sqlite() {
    main_path(vec![]).await;
}

#[tokio::test]
async fn main_path_on_postgres() {
    let Some(url) = mhp_test_support::fresh_postgres().await else {
        return;
    };
    main_path(vec![("DATABASE_URL", url)]).await;
}
