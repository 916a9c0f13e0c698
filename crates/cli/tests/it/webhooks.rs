//! An organisation's webhooks through the real binary: every message is verified by the
//! Standard Webhooks reference library (`tools/webhooks/receive.py`, not MHP's code); a refused
//! attempt is tried again with the same `webhook-id`; the delivery log shows each attempt; a
//! redelivery sends the same message again; after a rotation both secrets sign; bodies carry
//! ids and codes, never a name or a note; addresses the egress rules refuse cannot be saved.

use std::time::{Duration, Instant};

use mhp_test_support::MhpProcess;
use mhp_test_support::webhooks::WebhookReceiver;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::{MHP, bootstrap_org, cmj_csv, json_of};

/// Waits up to a minute for an attempt that `pick` accepts.
async fn wait_for(receiver: &WebhookReceiver, what: &str, pick: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(found) = receiver.attempts().into_iter().find(|a| pick(a)) {
            return found;
        }
        assert!(
            Instant::now() < deadline,
            "no {what}: {:?}",
            receiver.attempts()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_webhooks_on_sqlite() {
    signed_webhooks_retry_log_redeliver_and_rotate(None).await;
}

/// The same on PostgreSQL (row-level security on the webhook tables, the dispatcher's
/// cursor behind the snapshot horizon).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_webhooks_on_postgres() {
    let Some(url) = mhp_test_support::fresh_postgres().await else {
        return;
    };
    signed_webhooks_retry_log_redeliver_and_rotate(Some(url)).await;
}

async fn signed_webhooks_retry_log_redeliver_and_rotate(database_url: Option<String>) {
    let dir = tempfile::tempdir().unwrap();
    let secrets = dir.path().join("secrets");
    let Some(receiver) = WebhookReceiver::start(&format!("@{}", secrets.display()), 1) else {
        return;
    };
    let mut env = vec![
        // The receiver is on this machine: the operator allows it, and only it.
        ("MHP_EGRESS_ALLOW_CIDRS", "127.0.0.1/32"),
        ("MHP_EGRESS_ALLOW_HTTP", "true"),
    ];
    if let Some(url) = &database_url {
        env.push(("DATABASE_URL", url.as_str()));
    }
    let org = bootstrap_org(dir.path(), "Hooked", &env[2..]);
    let p = MhpProcess::serve(MHP, &["--data-dir", &org.data], &env);
    let c = reqwest::Client::new();
    let api = format!("{}/api/v1/orgs/{}", p.base, org.org);
    let admin = org.admin.as_str();

    // Addresses the egress rules refuse, and events the role may not read, are not saved.
    for (url, role, events, code) in [
        (
            "http://10.1.2.3/hook",
            "clinician",
            json!(["injury.created"]),
            "egress-refused",
        ),
        (
            "http://169.254.169.254/latest",
            "clinician",
            json!(["injury.created"]),
            "egress-refused",
        ),
        (
            "ftp://example.org/x",
            "clinician",
            json!(["injury.created"]),
            "egress-refused",
        ),
        (
            receiver.url.as_str(),
            "coach",
            json!(["injury.created"]),
            "invalid",
        ),
        (
            receiver.url.as_str(),
            "clinician",
            json!(["alert.raised"]),
            "invalid",
        ),
    ] {
        let res = c
            .post(format!("{api}/webhooks"))
            .bearer_auth(admin)
            .json(&json!({ "url": url, "role": role, "events": events }))
            .send()
            .await
            .unwrap();
        let body = json_of(res, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert!(
            body["type"].as_str().unwrap().ends_with(code),
            "{url} {role}: {body}"
        );
    }
    let bad = c
        .post(format!("{api}/webhooks"))
        .bearer_auth(admin)
        .json(&json!({ "url": receiver.url, "role": "clinician", "events": ["x.y"] }))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    let listed = json_of(
        c.get(format!("{api}/webhooks"))
            .bearer_auth(admin)
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(listed, json!([]), "nothing refused was kept");

    let created = json_of(
        c.post(format!("{api}/webhooks"))
            .bearer_auth(admin)
            .json(&json!({
                "url": receiver.url, "role": "clinician", "description": "EHR bridge",
                "events": ["assessment.created", "injury.created", "rtd.decision", "injury.updated"],
            }))
            .send()
            .await
            .unwrap(),
        StatusCode::CREATED,
    )
    .await;
    let hook = created["id"].as_str().unwrap().to_owned();
    let first_secret = created["secret"].as_str().unwrap().to_owned();
    assert!(first_secret.starts_with("whsec_"));
    std::fs::write(&secrets, &first_secret).unwrap();
    let shown = json_of(
        c.get(format!("{api}/webhooks/{hook}"))
            .bearer_auth(admin)
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert!(
        shown.get("secret").is_none(),
        "the secret is shown once: {shown}"
    );
    assert!(!shown.to_string().contains(&first_secret["whsec_".len()..]));
    assert_eq!(shown["role"], "clinician");

    // A subject, an upload, an injury and a decision.
    let subject = json_of(
        c.post(format!("{api}/subjects"))
            .bearer_auth(admin)
            .json(&json!({ "name": "Ada Hookworth", "sex": "female" }))
            .send()
            .await
            .unwrap(),
        StatusCode::CREATED,
    )
    .await;
    let sid = subject["id"].as_str().unwrap().to_owned();
    let assessment = json_of(
        c.post(format!("{api}/subjects/{sid}/assessments"))
            .bearer_auth(admin)
            .header("content-type", "text/csv")
            .body(cmj_csv())
            .send()
            .await
            .unwrap(),
        StatusCode::CREATED,
    )
    .await;
    let aid = assessment["id"].as_str().unwrap().to_owned();

    // The first attempt is refused (503); the retry, 5 s later, carries the same id.
    let delivered = wait_for(&receiver, "accepted assessment.created", |a| {
        a["refused"] == false && a["body"]["type"] == "assessment.created"
    })
    .await;
    let attempts = receiver.attempts();
    assert_eq!(attempts[0]["refused"], true);
    assert_eq!(
        attempts[0]["id"], delivered["id"],
        "the retry is the same message"
    );
    for a in &attempts {
        assert_eq!(a["verified"], true, "{a}");
    }
    let data = &delivered["body"]["data"];
    assert_eq!(data["assessment_id"], aid.as_str());
    assert_eq!(data["subject_id"], sid.as_str());
    assert_eq!(data["kind"], "cmj");
    assert_eq!(data["organisation_id"], org.org.as_str());
    assert!(
        delivered["body"]["timestamp"]
            .as_str()
            .unwrap()
            .ends_with('Z')
    );
    let message = delivered["id"].as_str().unwrap().to_owned();
    assert!(message.starts_with("msg_"));

    // The delivery log: delivered after two attempts, a 503 then a 204.
    let log = json_of(
        c.get(format!("{api}/webhooks/{hook}/deliveries"))
            .bearer_auth(admin)
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    let entry = log
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["id"] == message.as_str())
        .unwrap_or_else(|| panic!("{message} in {log}"));
    assert_eq!(entry["status"], "delivered", "{entry}");
    assert_eq!(entry["attempts"], 2);
    let detail = json_of(
        c.get(format!("{api}/webhooks/{hook}/deliveries/{message}"))
            .bearer_auth(admin)
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    let made = detail["attempts_made"].as_array().unwrap();
    assert_eq!(made.len(), 2, "{detail}");
    assert_eq!(made[0]["status"], 503);
    assert_eq!(made[0]["error"], "status_503");
    assert_eq!(made[1]["status"], 204);
    assert!(made[1]["error"].is_null());

    // A redelivery sends the same message again, marked as asked for.
    let before = receiver.attempts().len();
    let res = c
        .post(format!(
            "{api}/webhooks/{hook}/deliveries/{message}/redeliver"
        ))
        .bearer_auth(admin)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    let deadline = Instant::now() + Duration::from_secs(30);
    while receiver.attempts().len() == before {
        assert!(Instant::now() < deadline, "no redelivery");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(receiver.attempts()[before]["id"], message.as_str());
    let deadline = Instant::now() + Duration::from_secs(30);
    let redelivered = loop {
        let detail = json_of(
            c.get(format!("{api}/webhooks/{hook}/deliveries/{message}"))
                .bearer_auth(admin)
                .send()
                .await
                .unwrap(),
            StatusCode::OK,
        )
        .await;
        if detail["attempts_made"].as_array().unwrap().len() == 3 {
            break detail;
        }
        assert!(
            Instant::now() < deadline,
            "the redelivery is not logged: {detail}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(redelivered["attempts_made"][2]["manual"], true);
    assert_eq!(redelivered["status"], "delivered");

    // Rotation: the new secret is shown once; the old one signs beside it for the overlap.
    let rotated = json_of(
        c.post(format!("{api}/webhooks/{hook}/rotate-secret"))
            .bearer_auth(admin)
            .json(&json!({ "overlap_hours": 24 }))
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    let second_secret = rotated["secret"].as_str().unwrap().to_owned();
    assert_ne!(second_secret, first_secret);
    assert_eq!(rotated["secret_version"], 2);
    assert!(rotated["previous_secret_expires_at_ms"].is_i64());
    std::fs::write(&secrets, format!("{first_secret},{second_secret}")).unwrap();

    let injury = json_of(
        c.post(format!("{api}/subjects/{sid}/injuries"))
            .bearer_auth(admin)
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
    let iid = injury["id"].as_str().unwrap().to_owned();
    let created = wait_for(&receiver, "injury.created", |a| {
        a["body"]["type"] == "injury.created"
    })
    .await;
    assert_eq!(
        created["verified_by"],
        json!([true, true]),
        "both secrets sign: {created}"
    );
    assert_eq!(created["signatures"], 2);
    assert_eq!(created["body"]["data"]["injury_id"], iid.as_str());
    assert_eq!(created["body"]["data"]["body_region"], "hamstring");

    let decided = json_of(
        c.post(format!("{api}/injuries/{iid}/decisions"))
            .bearer_auth(admin)
            .json(&json!({"stage": "rehabilitation", "decided_on": "2026-01-24"}))
            .send()
            .await
            .unwrap(),
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(decided["stage"], "rehabilitation");
    let decision = wait_for(&receiver, "rtd.decision", |a| {
        a["body"]["type"] == "rtd.decision"
    })
    .await;
    assert_eq!(decision["body"]["data"]["stage"], "rehabilitation");
    assert_eq!(decision["body"]["data"]["injury_id"], iid.as_str());
    let updated = wait_for(&receiver, "injury.updated", |a| {
        a["body"]["type"] == "injury.updated"
    })
    .await;
    assert_eq!(updated["body"]["data"]["stage"], "rehabilitation");
    assert_ne!(updated["id"], decision["id"], "one message per event type");

    // Bodies carry ids and codes: no name, no note, no date of the person.
    for a in receiver.attempts() {
        let text = a["body"].to_string();
        for phi in ["Hookworth", "Ada", "Felt a pull", "2026-01-10"] {
            assert!(!text.contains(phi), "{phi} in {text}");
        }
    }

    // A rotation ends the overlap of the one before at once: only the newest two sign.
    let third = json_of(
        c.post(format!("{api}/webhooks/{hook}/rotate-secret"))
            .bearer_auth(admin)
            .json(&json!({ "overlap_hours": 0 }))
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert!(third["previous_secret_expires_at_ms"].is_null(), "{third}");
    let third_secret = third["secret"].as_str().unwrap().to_owned();
    std::fs::write(&secrets, format!("{second_secret},{third_secret}")).unwrap();
    let n = receiver.attempts().len();
    json_of(
        c.post(format!("{api}/injuries/{iid}/decisions"))
            .bearer_auth(admin)
            .json(&json!({"stage": "cleared", "decided_on": "2026-02-02"}))
            .send()
            .await
            .unwrap(),
        StatusCode::CREATED,
    )
    .await;
    let cleared = wait_for(&receiver, "the clearance", |a| {
        a["body"]["type"] == "rtd.decision" && a["body"]["data"]["stage"] == "cleared"
    })
    .await;
    assert_eq!(cleared["verified_by"], json!([false, true]), "{cleared}");
    assert!(receiver.attempts().len() > n);

    // The attempts are counted in /metrics: the refused one and those delivered (an attempt
    // is counted once recorded, just after the receiver answered: read until it shows).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let metrics = c
            .get(format!("{}/metrics", p.base))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let figure = |name: &str| -> f64 {
            metrics
                .lines()
                .find_map(|l| l.strip_prefix(name)?.trim().parse().ok())
                .unwrap_or_else(|| panic!("{name} in {metrics}"))
        };
        let counted = figure("mhp_webhook_attempts_total{result=\"failed\"}") >= 1.0
            && figure("mhp_webhook_attempts_total{result=\"delivered\"}") >= 5.0
            && figure("mhp_webhook_messages_total") >= 5.0;
        if counted {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the webhook figures never reached what was sent: {metrics}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    // Deleted: gone from the API, and nothing more is made for it.
    let res = c
        .delete(format!("{api}/webhooks/{hook}"))
        .bearer_auth(admin)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let res = c
        .get(format!("{api}/webhooks/{hook}"))
        .bearer_auth(admin)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);

    // Every change of a webhook is in the audit log.
    let audit = json_of(
        c.get(format!("{api}/audit?limit=1000"))
            .bearer_auth(admin)
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    let text = audit.to_string();
    for action in [
        "webhook.create",
        "webhook.redeliver",
        "webhook.rotate_secret",
        "webhook.delete",
    ] {
        assert!(text.contains(action), "{action} not audited");
    }
}
