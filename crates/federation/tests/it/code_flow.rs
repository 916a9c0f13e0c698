//! The authorization code flow end to end against a real provider.

use std::sync::Arc;
use std::time::Duration;

use mhp_domain::{Role, Secret};
use mhp_egress::{Egress, EgressOptions, EgressPolicy, Redirects, parse_cidrs};
use mhp_federation::{Federation, FederationError, ProviderConfig, TokenProblem};

use crate::oidc_provider::{CLIENT_ID, OidcProvider, REDIRECT_URI, TestClock, authorize};

const SECRET: &str = "e2e-client-secret-with:colon&amp";

fn config(issuer: &str) -> ProviderConfig {
    let mut cfg = ProviderConfig::new(
        issuer,
        CLIENT_ID,
        Secret::new(SECRET.to_owned()),
        REDIRECT_URI,
    );
    cfg.allowed_domains = vec!["clinic.example".into()];
    cfg.role_claim = Some("groups".into());
    cfg.role_map = vec![
        ("mhp-clinicians".into(), Role::Clinician),
        ("mhp-admins".into(), Role::OrgAdmin),
    ];
    cfg
}

/// An egress client under `policy`, as the server builds it.
fn egress(policy: EgressPolicy) -> Egress {
    Egress::new(
        policy,
        EgressOptions {
            timeout: Duration::from_secs(10),
            max_body: 1024 * 1024,
            redirects: Redirects::None,
        },
    )
    .unwrap()
}

/// The test provider listens on loopback over plain http: allowed here, as an operator would
/// allow an on-premises provider.
fn federation() -> (Federation, Arc<TestClock>) {
    let clock = Arc::new(TestClock::default());
    let policy = EgressPolicy::new(parse_cidrs("127.0.0.0/8").unwrap(), true);
    let federation = Federation::new(egress(policy), clock.clone()).unwrap();
    (federation, clock)
}

#[tokio::test]
async fn a_user_of_an_allowed_domain_signs_in_with_mapped_roles_once() {
    let Some(op) = OidcProvider::start(0, "RS256", SECRET) else {
        return;
    };
    let (federation, _) = federation();
    let cfg = config(&op.issuer);

    let (url, pending) = federation.begin(&cfg).await.unwrap();
    assert!(url.starts_with(&format!("{}/auth?", op.issuer)), "{url}");
    assert!(url.contains("code_challenge_method=S256"));
    assert!(url.contains("scope=openid+email+profile"));
    let stored = serde_json::to_string(&pending).unwrap();
    let pending: mhp_federation::PendingLogin = serde_json::from_str(&stored).unwrap();

    let callback = authorize(&url, "alice").await;
    assert_eq!(callback.query.get("iss"), Some(&op.issuer));
    let who = federation
        .complete(&cfg, &pending, &callback.code, &callback.state)
        .await
        .unwrap();
    assert_eq!(who.issuer, op.issuer);
    assert_eq!(who.subject, "alice-0001");
    assert_eq!(who.email.as_str(), "alice@clinic.example");
    assert!(who.email_verified);
    assert_eq!(who.name.as_deref(), Some("Alice Example"));
    assert_eq!(who.roles, vec![Role::OrgAdmin, Role::Clinician]);

    // The same code again (a replayed callback): the provider refuses it.
    let replay = federation
        .complete(&cfg, &pending, &callback.code, &callback.state)
        .await;
    assert_eq!(
        replay.map(|_| ()),
        Err(FederationError::TokenRejected {
            error: "invalid_grant".into()
        })
    );
}

#[tokio::test]
async fn other_domains_and_unverified_addresses_are_refused() {
    let Some(op) = OidcProvider::start(0, "RS256", SECRET) else {
        return;
    };
    let (federation, _) = federation();
    let cfg = config(&op.issuer);
    for (user, refusal) in [
        ("bob", FederationError::DomainNotAllowed),
        ("carol", FederationError::EmailUnverified),
    ] {
        let (url, pending) = federation.begin(&cfg).await.unwrap();
        let callback = authorize(&url, user).await;
        let result = federation
            .complete(&cfg, &pending, &callback.code, &callback.state)
            .await;
        assert_eq!(result.map(|_| ()), Err(refusal), "{user}");
    }

    // Alice without any mapped group and no default role.
    let mut cfg = config(&op.issuer);
    cfg.role_map = vec![("someone-else".into(), Role::Auditor)];
    let (url, pending) = federation.begin(&cfg).await.unwrap();
    let callback = authorize(&url, "alice").await;
    let result = federation
        .complete(&cfg, &pending, &callback.code, &callback.state)
        .await;
    assert_eq!(result.map(|_| ()), Err(FederationError::NoRole));
}

#[tokio::test]
async fn tampered_state_foreign_pending_login_and_late_callbacks_are_refused() {
    let Some(op) = OidcProvider::start(0, "RS256", SECRET) else {
        return;
    };
    let (federation, clock) = federation();
    let cfg = config(&op.issuer);
    let (url, pending) = federation.begin(&cfg).await.unwrap();
    let callback = authorize(&url, "alice").await;

    let mut tampered = callback.state.clone();
    tampered.replace_range(0..1, if tampered.starts_with('A') { "B" } else { "A" });
    let result = federation
        .complete(&cfg, &pending, &callback.code, &tampered)
        .await;
    assert_eq!(result.map(|_| ()), Err(FederationError::StateMismatch));

    // Another login's state (an attacker's own, injected into the victim's browser).
    let (_, other_pending) = federation.begin(&cfg).await.unwrap();
    let result = federation
        .complete(&cfg, &other_pending, &callback.code, &callback.state)
        .await;
    assert_eq!(result.map(|_| ()), Err(FederationError::StateMismatch));

    // A pending login of another organisation's provider configuration.
    let mut other_cfg = config(&op.issuer);
    other_cfg.client_id = "another-client".into();
    let result = federation
        .complete(&other_cfg, &pending, &callback.code, &callback.state)
        .await;
    assert_eq!(result.map(|_| ()), Err(FederationError::LoginExpired));

    // Ten minutes later the pending login has expired (the code was never redeemed).
    clock.advance(Duration::from_secs(10 * 60));
    let result = federation
        .complete(&cfg, &pending, &callback.code, &callback.state)
        .await;
    assert_eq!(result.map(|_| ()), Err(FederationError::LoginExpired));
}

#[tokio::test]
async fn a_wrong_client_secret_or_issuer_is_refused() {
    let Some(op) = OidcProvider::start(0, "RS256", SECRET) else {
        return;
    };
    let (federation, _) = federation();

    let mut cfg = config(&op.issuer);
    cfg.client_secret = Secret::new("not-the-secret".into());
    let (url, pending) = federation.begin(&cfg).await.unwrap();
    let callback = authorize(&url, "alice").await;
    let result = federation
        .complete(&cfg, &pending, &callback.code, &callback.state)
        .await;
    assert_eq!(
        result.map(|_| ()),
        Err(FederationError::TokenRejected {
            error: "invalid_client".into()
        })
    );

    // The same provider under another name than the one it gives itself.
    let cfg = config(&format!("http://localhost:{}", op.port));
    let result = federation.begin(&cfg).await;
    assert_eq!(result.map(|_| ()), Err(FederationError::IssuerMismatch));
    let cfg = config(&format!("{}/", op.issuer));
    let result = federation.begin(&cfg).await;
    assert_eq!(result.map(|_| ()), Err(FederationError::IssuerMismatch));
}

#[tokio::test]
async fn a_rotated_signing_key_is_fetched_on_an_unknown_kid() {
    let Some(first) = OidcProvider::start(0, "RS256", SECRET) else {
        return;
    };
    let (federation, clock) = federation();
    let cfg = config(&first.issuer);
    let (url, pending) = federation.begin(&cfg).await.unwrap();
    let callback = authorize(&url, "alice").await;
    federation
        .complete(&cfg, &pending, &callback.code, &callback.state)
        .await
        .unwrap();

    // The provider restarts on the same address with a new key (new kid, and ES256 this time);
    // discovery and the old key set are still cached.
    let port = first.port;
    drop(first);
    // Discovery is cached: starting a sign-in needs no request to the (stopped) provider.
    assert!(federation.begin(&cfg).await.is_ok());
    let second = OidcProvider::start(port, "ES256", SECRET).unwrap();
    assert_eq!(second.issuer, cfg.issuer);

    // Within 30 s of the last fetch the key set is not fetched again.
    let (url, pending) = federation.begin(&cfg).await.unwrap();
    let callback = authorize(&url, "alice").await;
    let result = federation
        .complete(&cfg, &pending, &callback.code, &callback.state)
        .await;
    assert_eq!(
        result.map(|_| ()),
        Err(FederationError::IdToken(TokenProblem::UnknownKey))
    );

    // Later, the unknown kid makes the relying party fetch the new key set.
    clock.advance(Duration::from_secs(31));
    let (url, pending) = federation.begin(&cfg).await.unwrap();
    let callback = authorize(&url, "alice").await;
    let who = federation
        .complete(&cfg, &pending, &callback.code, &callback.state)
        .await
        .unwrap();
    assert_eq!(who.subject, "alice-0001");
    assert_eq!(who.roles, vec![Role::OrgAdmin, Role::Clinician]);

    // After an hour the cached metadata is stale and fetched again.
    drop(second);
    clock.advance(Duration::from_secs(60 * 60));
    let result = federation.begin(&cfg).await;
    assert!(
        matches!(result, Err(FederationError::Unreachable(_))),
        "{result:?}"
    );
}

#[tokio::test]
async fn a_provider_on_an_address_the_operator_did_not_allow_is_refused() {
    let Some(op) = OidcProvider::start(0, "RS256", SECRET) else {
        return;
    };
    let clock: Arc<TestClock> = Arc::new(TestClock::default());
    // Plain http refused by default...
    let strict = Federation::new(egress(EgressPolicy::strict()), clock.clone()).unwrap();
    let result = strict.begin(&config(&op.issuer)).await;
    assert_eq!(
        result.map(|_| ()),
        Err(FederationError::EgressRefused("scheme"))
    );
    // ...and loopback even where http is allowed.
    let http_only = Federation::new(egress(EgressPolicy::new(Vec::new(), true)), clock).unwrap();
    let result = http_only.begin(&config(&op.issuer)).await;
    assert_eq!(
        result.map(|_| ()),
        Err(FederationError::EgressRefused("loopback"))
    );
}

#[tokio::test]
async fn every_accepted_signing_algorithm_verifies() {
    for alg in ["PS256", "ES256", "EdDSA"] {
        let Some(op) = OidcProvider::start(0, alg, SECRET) else {
            return;
        };
        let (federation, _) = federation();
        let cfg = config(&op.issuer);
        let (url, pending) = federation.begin(&cfg).await.unwrap();
        let callback = authorize(&url, "alice").await;
        let who = federation
            .complete(&cfg, &pending, &callback.code, &callback.state)
            .await
            .unwrap_or_else(|e| panic!("{alg}: {e}"));
        assert_eq!(who.subject, "alice-0001", "{alg}");
    }
}
