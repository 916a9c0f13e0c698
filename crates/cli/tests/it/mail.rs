//! Messages to people over SMTP (`[mail]`): an invitation sent by `mhp serve` reaches a real
//! SMTP server (aiosmtpd, STARTTLS required, a certificate of a private authority given by
//! `mail.smtp_ca_file`), is read by Python's e-mail parser, and the token in it signs the
//! person up. Nothing goes to the outbox meanwhile.

use std::time::{Duration, Instant};

use mhp_test_support::MhpProcess;
use mhp_test_support::smtp::SmtpReceiver;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::{MHP, bootstrap_org};

#[tokio::test]
async fn an_invitation_arrives_over_starttls_and_its_token_signs_the_person_up() {
    let mail = tempfile::tempdir().unwrap();
    let Some(relay) = SmtpReceiver::start(mail.path()) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let o = bootstrap_org(dir.path(), "Mailed", &[]);
    let port = relay.port.to_string();
    let ca = SmtpReceiver::ca_file(mail.path()).display().to_string();
    let serve = MhpProcess::serve(
        MHP,
        &["--data-dir", &o.data],
        &[
            ("MHP_MAIL_SMTP_HOST", "127.0.0.1"),
            ("MHP_MAIL_SMTP_PORT", port.as_str()),
            ("MHP_MAIL_SMTP_TLS", "starttls"),
            ("MHP_MAIL_SMTP_CA_FILE", ca.as_str()),
            ("MHP_MAIL_FROM", "MHP <no-reply@mhp.example>"),
        ],
    );
    let http = reqwest::Client::new();
    let invited = http
        .post(format!("{}/api/v1/orgs/{}/invitations", serve.base, o.org))
        .bearer_auth(&o.admin)
        .json(&json!({ "email": "newcomer@example.org", "role": "coach" }))
        .send()
        .await
        .unwrap();
    assert_eq!(invited.status(), StatusCode::CREATED);

    let deadline = Instant::now() + Duration::from_secs(30);
    let message = loop {
        let found = SmtpReceiver::messages(mail.path())
            .into_iter()
            .find(|m| m["rcpt_tos"] == json!(["newcomer@example.org"]));
        if let Some(m) = found {
            break m;
        }
        assert!(
            Instant::now() < deadline,
            "no message reached the SMTP server"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(message["tls"], Value::Bool(true), "{message}");
    assert_eq!(message["mail_from"], "no-reply@mhp.example", "{message}");
    assert_eq!(message["from"], "MHP <no-reply@mhp.example>", "{message}");
    assert_eq!(message["to"], "newcomer@example.org", "{message}");
    assert!(
        !message["subject"].as_str().unwrap_or_default().is_empty(),
        "{message}"
    );
    let token = message["body"]
        .as_str()
        .unwrap_or_default()
        .lines()
        .map(str::trim)
        .find(|l| l.len() == 43)
        .unwrap_or_else(|| panic!("no token in {message}"))
        .to_owned();
    let accepted = http
        .post(format!("{}/api/v1/auth/invitations/accept", serve.base))
        .json(&json!({ "token": token, "display_name": "Newcomer", "password": "a long enough passphrase" }))
        .send()
        .await
        .unwrap();
    assert_eq!(accepted.status(), StatusCode::CREATED);
    let signed_in = http
        .post(format!("{}/api/v1/auth/login", serve.base))
        .json(&json!({ "email": "newcomer@example.org", "password": "a long enough passphrase" }))
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), StatusCode::OK);
    let outbox = std::path::Path::new(&o.data).join("outbox");
    let queued = std::fs::read_dir(&outbox).map_or(0, Iterator::count);
    assert_eq!(queued, 0, "a message went to the outbox as well");
}

/// `mail.transport = "ses"`: the invitation goes through Amazon SES's API (moto, with the
/// `[aws]` settings and credentials a task role would give), is read back by Python's e-mail
/// parser from what SES received, and its token signs the person up. Nothing goes to the
/// outbox.
#[tokio::test]
async fn an_invitation_sent_through_amazon_ses_signs_the_person_up() {
    use mhp_test_support::moto::{self, Moto};

    let Some(aws) = Moto::start() else {
        return;
    };
    aws.boto3(
        "aws('sesv2').create_email_identity(EmailIdentity='mhp.example')\n\
         aws('sesv2').create_configuration_set(ConfigurationSetName='mhp-mail')",
    );
    let dir = tempfile::tempdir().unwrap();
    let o = bootstrap_org(dir.path(), "Mailed by SES", &[]);
    let endpoint = format!("{}/", aws.endpoint);
    let serve = MhpProcess::serve(
        MHP,
        &["--data-dir", &o.data],
        &[
            ("AWS_ACCESS_KEY_ID", moto::ACCESS_KEY_ID),
            ("AWS_SECRET_ACCESS_KEY", moto::SECRET_ACCESS_KEY),
            ("MHP_AWS_REGION", moto::REGION),
            ("MHP_AWS_ENDPOINT", endpoint.as_str()),
            ("MHP_MAIL_TRANSPORT", "ses"),
            ("MHP_MAIL_SES_CONFIGURATION_SET", "mhp-mail"),
            ("MHP_MAIL_FROM", "MHP <no-reply@mhp.example>"),
        ],
    );
    let http = reqwest::Client::new();
    let invited = http
        .post(format!("{}/api/v1/orgs/{}/invitations", serve.base, o.org))
        .bearer_auth(&o.admin)
        .json(&json!({ "email": "newcomer@example.org", "role": "coach" }))
        .send()
        .await
        .unwrap();
    assert_eq!(invited.status(), StatusCode::CREATED);

    let read = format!(
        "import email, json, urllib.request\n\
         data = json.load(urllib.request.urlopen({url:?}))\n\
         out = []\n\
         for m in data['ses'].get('RawMessage', []):\n    \
             p = email.message_from_string(m['raw_data'])\n    \
             out.append({{'source': m['source'], 'to': sorted(set(m['destinations'])), \
             'from': p['From'], 'subject': p['Subject'], \
             'body': p.get_payload(decode=True).decode('utf-8')}})\n\
         print(json.dumps(out))",
        url = format!("{}/moto-api/data.json", aws.endpoint),
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    let message = loop {
        let sent: Value = serde_json::from_str(&aws.boto3(&read)).unwrap();
        if let Some(m) = sent.as_array().and_then(|a| a.first()) {
            assert_eq!(sent.as_array().unwrap().len(), 1, "{sent}");
            break m.clone();
        }
        assert!(Instant::now() < deadline, "no message reached SES");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(message["source"], "no-reply@mhp.example", "{message}");
    assert_eq!(message["to"], json!(["newcomer@example.org"]), "{message}");
    assert_eq!(message["from"], "MHP <no-reply@mhp.example>", "{message}");
    let token = message["body"]
        .as_str()
        .unwrap_or_default()
        .lines()
        .map(str::trim)
        .find(|l| l.len() == 43)
        .unwrap_or_else(|| panic!("no token in {message}"))
        .to_owned();
    let accepted = http
        .post(format!("{}/api/v1/auth/invitations/accept", serve.base))
        .json(&json!({ "token": token, "display_name": "Newcomer", "password": "a long enough passphrase" }))
        .send()
        .await
        .unwrap();
    assert_eq!(accepted.status(), StatusCode::CREATED);
    let outbox = std::path::Path::new(&o.data).join("outbox");
    assert_eq!(std::fs::read_dir(&outbox).map_or(0, Iterator::count), 0);
}
