#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! mhp-egress against real sockets: refused destinations are never connected to, allowed ones
//! work, and the limits hold.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use mhp_egress::{
    Egress, EgressError, EgressOptions, EgressPolicy, Redirects, Refused, Rule, Url, Where,
    parse_cidrs,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// A listener on `ip`:0 that counts the connections it accepts and answers each request
/// (read up to the end of its head) with `respond(head)`, or never when it returns `None`.
struct Server {
    addr: SocketAddr,
    accepted: Arc<AtomicUsize>,
}

impl Server {
    async fn start<F>(ip: &str, respond: F) -> Self
    where
        F: Fn(&str, SocketAddr) -> Option<Vec<u8>> + Send + Sync + 'static,
    {
        let listener = TcpListener::bind((ip, 0)).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let accepted = Arc::new(AtomicUsize::new(0));
        let count = Arc::clone(&accepted);
        let respond = Arc::new(respond);
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                count.fetch_add(1, Ordering::SeqCst);
                let respond = Arc::clone(&respond);
                tokio::spawn(async move {
                    let mut head = Vec::new();
                    let mut buf = [0u8; 1024];
                    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                        match stream.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => head.extend_from_slice(&buf[..n]),
                        }
                    }
                    let head = String::from_utf8_lossy(&head).into_owned();
                    match respond(&head, addr) {
                        Some(response) => {
                            let _ = stream.write_all(&response).await;
                            let _ = stream.shutdown().await;
                        }
                        None => tokio::time::sleep(Duration::from_secs(30)).await,
                    }
                });
            }
        });
        Self { addr, accepted }
    }

    /// A server that must never be connected to.
    async fn trap(ip: &str) -> Self {
        Self::start(ip, |_, _| Some(ok(b"ok"))).await
    }

    fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }

    fn url(&self, scheme: &str, host: &str, path: &str) -> Url {
        Url::parse(&format!("{scheme}://{host}:{}{path}", self.addr.port())).unwrap()
    }
}

fn ok(body: &[u8]) -> Vec<u8> {
    let mut r = format!(
        "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    r.extend_from_slice(body);
    r
}

fn redirect(location: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 302 Found\r\nlocation: {location}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
    )
    .into_bytes()
}

fn options(redirects: Redirects) -> EgressOptions {
    EgressOptions {
        timeout: Duration::from_secs(5),
        max_body: 64,
        redirects,
    }
}

fn refusal(result: Result<impl std::fmt::Debug, EgressError>) -> Refused {
    match result {
        Err(EgressError::Refused(r)) => r,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[tokio::test]
async fn refused_destinations_are_never_connected_to() {
    let trap = Server::trap("127.0.0.1").await;
    let strict = Egress::new(EgressPolicy::strict(), options(Redirects::Checked(5))).unwrap();
    let strict_http = Egress::new(
        EgressPolicy::new(vec![], true),
        options(Redirects::Checked(5)),
    )
    .unwrap();
    for egress in [&strict, &strict_http] {
        for host in [
            "127.0.0.1",
            "127.1",
            "2130706433",
            "0x7f000001",
            "0.0.0.0",
            "[::ffff:127.0.0.1]",
            "[::ffff:7f00:1]",
            "[::127.0.0.1]",
            "[64:ff9b::7f00:1]",
            "[2002:7f00:1::]",
            "localhost",
            "localhost.",
            "runsc",
        ] {
            for scheme in ["https", "http"] {
                let url = trap.url(scheme, host, "/");
                let r = refusal(egress.get(url.clone()));
                if egress.policy().allow_http || scheme == "https" {
                    assert_ne!(r.rule, Rule::Scheme, "{url}");
                } else {
                    assert_eq!(r.rule, Rule::Scheme, "{url}");
                }
            }
        }
    }
    assert_eq!(trap.accepted(), 0);
}

#[tokio::test]
async fn the_resolver_refuses_names_that_resolve_to_refused_addresses() {
    let trap = Server::trap("127.0.0.1").await;
    // Allowing some other range defers the special-use name rule to the lookup, so `localhost`
    // reaches the checking resolver inside the client (a public name resolving to loopback
    // would take the same path, but needs DNS).
    let policy = EgressPolicy::new(parse_cidrs("10.0.0.0/8").unwrap(), true);
    let egress = Egress::new(policy, options(Redirects::None)).unwrap();
    for host in ["localhost", "runsc"] {
        let request = egress.get(trap.url("http", host, "/")).unwrap();
        let err = egress.send(request).await.unwrap_err();
        assert_eq!(
            err,
            EgressError::Refused(Refused::new(Rule::Loopback, Where::Resolved)),
            "{host}"
        );
        assert_eq!(err.code(), "egress_refused_loopback");
        assert!(!err.to_string().contains("127.0.0.1"));
        assert!(!err.to_string().contains(&trap.addr.port().to_string()));
    }
    assert_eq!(trap.accepted(), 0);
}

#[tokio::test]
async fn redirects_to_refused_destinations_are_not_followed() {
    // 127.0.0.2 is loopback like 127.0.0.1 but outside the single allowed address.
    let trap = Server::trap("127.0.0.2").await;
    let trap_port = trap.addr.port();
    let target = Arc::new(std::sync::Mutex::new(String::new()));
    let location = Arc::clone(&target);
    let allowed = Server::start("127.0.0.1", move |_, _| {
        Some(redirect(&location.lock().unwrap()))
    })
    .await;
    let policy = EgressPolicy::new(parse_cidrs("127.0.0.1").unwrap(), true);
    let egress = Egress::new(policy.clone(), options(Redirects::Checked(3))).unwrap();

    for (location, rule) in [
        (format!("http://127.0.0.2:{trap_port}/"), Rule::Loopback),
        (format!("http://2130706434:{trap_port}/"), Rule::Loopback),
        (
            format!("http://[::ffff:127.0.0.2]:{trap_port}/"),
            Rule::Loopback,
        ),
        (
            "http://169.254.169.254/latest/meta-data/".to_owned(),
            Rule::LinkLocal,
        ),
        ("http://10.0.0.1/".to_owned(), Rule::Private),
        (format!("ftp://127.0.0.1:{trap_port}/"), Rule::Scheme),
    ] {
        *target.lock().unwrap() = location.clone();
        let request = egress
            .get(allowed.url("http", "127.0.0.1", "/start"))
            .unwrap();
        let r = refusal(egress.send(request).await);
        assert_eq!(r, Refused::new(rule, Where::Redirect), "{location}");
    }
    assert_eq!(trap.accepted(), 0);

    // Without following, the 3xx comes back as it is.
    let no_follow = Egress::new(policy, options(Redirects::None)).unwrap();
    let request = no_follow
        .get(allowed.url("http", "127.0.0.1", "/start"))
        .unwrap();
    let response = no_follow.send(request).await.unwrap();
    assert_eq!(response.status().as_u16(), 302);
    assert_eq!(
        mhp_egress::ensure_success(response).unwrap_err(),
        EgressError::Status(302)
    );
    assert_eq!(trap.accepted(), 0);
}

#[tokio::test]
async fn redirects_within_policy_are_followed_up_to_the_limit() {
    let server = Server::start("127.0.0.1", |head, addr| {
        let path = head.split_whitespace().nth(1).unwrap_or("/").to_owned();
        match path.strip_prefix("/hop/") {
            Some(n) => {
                let n: u32 = n.parse().unwrap();
                if n == 0 {
                    Some(ok(b"done"))
                } else {
                    Some(redirect(&format!("http://{addr}/hop/{}", n - 1)))
                }
            }
            None => Some(ok(b"?")),
        }
    })
    .await;
    let policy = EgressPolicy::new(parse_cidrs("127.0.0.0/8").unwrap(), true);
    let egress = Egress::new(policy, options(Redirects::Checked(2))).unwrap();

    let request = egress
        .get(server.url("http", "127.0.0.1", "/hop/2"))
        .unwrap();
    let response = egress.send(request).await.unwrap();
    assert_eq!(egress.read_body(response).await.unwrap(), b"done");

    let request = egress
        .get(server.url("http", "127.0.0.1", "/hop/3"))
        .unwrap();
    assert_eq!(
        egress.send(request).await.unwrap_err(),
        EgressError::TooManyRedirects(2)
    );
}

#[tokio::test]
async fn allowed_destinations_work_and_bodies_are_limited() {
    let server = Server::start("127.0.0.1", |head, _| {
        let path = head.split_whitespace().nth(1).unwrap_or("/");
        Some(match path {
            "/big" => ok(&[b'x'; 65]),
            "/exact" => ok(&[b'x'; 64]),
            // No content-length: the body ends when the connection closes, so only counting
            // the chunks can stop it.
            "/unsized" => {
                let mut r = b"HTTP/1.1 200 OK\r\nconnection: close\r\n\r\n".to_vec();
                r.extend_from_slice(&[b'y'; 1000]);
                r
            }
            "/echo?a=1&b=x+y" if head.contains("authorization: Bearer t0ken") => ok(b"echo"),
            "/form"
                if head.starts_with("POST ")
                    && head.contains("authorization: Basic Y2xpZW50OnNlY3JldA==") =>
            {
                ok(b"form")
            }
            _ => ok(b"ok"),
        })
    })
    .await;
    let policy = EgressPolicy::new(parse_cidrs("127.0.0.0/8").unwrap(), true);
    let egress = Egress::new(policy, options(Redirects::None)).unwrap();

    let response = egress
        .send(egress.get(server.url("http", "127.0.0.1", "/")).unwrap())
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(egress.read_body(response).await.unwrap(), b"ok");

    // Through the resolver: localhost resolves to an allowed address.
    let response = egress
        .send(egress.get(server.url("http", "localhost", "/")).unwrap())
        .await
        .unwrap();
    assert_eq!(egress.read_body(response).await.unwrap(), b"ok");

    let request = egress
        .get(server.url("http", "127.0.0.1", "/echo"))
        .unwrap()
        .query(&[("a", "1"), ("b", "x y")])
        .bearer_auth("t0ken");
    let response = egress.send(request).await.unwrap();
    assert_eq!(egress.read_body(response).await.unwrap(), b"echo");

    let response = egress
        .send(
            egress
                .get(server.url("http", "127.0.0.1", "/exact"))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(egress.read_body(response).await.unwrap().len(), 64);

    for path in ["/big", "/unsized"] {
        let response = egress
            .send(egress.get(server.url("http", "127.0.0.1", path)).unwrap())
            .await
            .unwrap();
        assert_eq!(
            egress.read_body(response).await.unwrap_err(),
            EgressError::TooLarge { limit: 64 },
            "{path}"
        );
    }

    // https to an allowed address passes the policy as well.
    assert!(egress.post(server.url("https", "127.0.0.1", "/")).is_ok());

    let request = egress
        .post(server.url("http", "127.0.0.1", "/form"))
        .unwrap()
        .form(&[("grant_type", "authorization_code")])
        .basic_auth("client", Some("secret"));
    let response = egress.send(request).await.unwrap();
    assert_eq!(egress.read_body(response).await.unwrap(), b"form");
}

#[tokio::test]
async fn failures_say_what_failed_but_not_where() {
    let silent = Server::start("127.0.0.1", |_, _| None).await;
    let policy = EgressPolicy::new(parse_cidrs("127.0.0.0/8").unwrap(), true);
    let egress = Egress::new(
        policy,
        EgressOptions {
            timeout: Duration::from_millis(300),
            ..options(Redirects::None)
        },
    )
    .unwrap();
    let err = egress
        .send(
            egress
                .get(silent.url("http", "127.0.0.1", "/secret-path"))
                .unwrap(),
        )
        .await
        .unwrap_err();
    assert_eq!(err, EgressError::Timeout);
    assert!(!err.to_string().contains("secret-path"));

    // Nothing listens there any more.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let url = Url::parse(&format!("http://127.0.0.1:{port}/secret-path")).unwrap();
    let err = egress.send(egress.get(url).unwrap()).await.unwrap_err();
    assert_eq!(err, EgressError::Connect);
    assert_eq!(err.code(), "egress_connect");
    assert!(!err.to_string().contains("secret-path"));
}
