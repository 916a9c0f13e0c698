//! `mhp healthcheck`: a container health check without curl. Sends one HTTP/1.1 GET over a
//! plain TCP connection and exits 0 on a 2xx answer, 1 otherwise.

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs as _};
use std::time::Duration;

use crate::Failure;
use crate::settings::Settings;

/// Checks `url` (default: `/readyz` on the configured listen address).
pub fn run(settings: &Settings, url: Option<&str>, timeout: Duration) -> Result<(), Failure> {
    let (addr, host, path) = match url {
        Some(u) => parse_url(u)?,
        None => {
            let mut addr = settings.listen_addr()?;
            if addr.ip().is_unspecified() {
                // Listening on every interface: ask through loopback.
                addr.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
            }
            (addr, addr.to_string(), "/readyz".to_owned())
        }
    };
    let status = get(addr, &host, &path, timeout)
        .map_err(|e| Failure::Runtime(anyhow::anyhow!("healthcheck {host}{path}: {e}")))?;
    if (200..300).contains(&status) {
        println!("ok: {status}");
        Ok(())
    } else {
        Err(Failure::Runtime(anyhow::anyhow!(
            "healthcheck {host}{path}: status {status}"
        )))
    }
}

fn parse_url(url: &str) -> Result<(SocketAddr, String, String), Failure> {
    let invalid = || {
        Failure::Invalid(format!(
            "--url must look like http://HOST:PORT/PATH, not {url:?}"
        ))
    };
    let rest = url.strip_prefix("http://").ok_or_else(invalid)?;
    let (host, path) = match rest.find('/') {
        Some(i) => (&rest[..i], rest[i..].to_owned()),
        None => (rest, "/".to_owned()),
    };
    let addr = host
        .to_socket_addrs()
        .ok()
        .and_then(|mut a| a.next())
        .ok_or_else(invalid)?;
    Ok((addr, host.to_owned(), path))
}

/// Sends one `GET path` to `addr` and returns the answer's status.
pub fn get(addr: SocketAddr, host: &str, path: &str, timeout: Duration) -> std::io::Result<u16> {
    let mut stream = TcpStream::connect_timeout(&addr, timeout)?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: mhp-healthcheck\r\nConnection: close\r\n\r\n"
    )?;
    let mut head = [0u8; 64];
    let mut len = 0;
    while len < 12 {
        let n = stream.read(&mut head[len..])?;
        if n == 0 {
            break;
        }
        len += n;
    }
    let line = std::str::from_utf8(&head[..len]).unwrap_or_default();
    line.strip_prefix("HTTP/1.1 ")
        .or_else(|| line.strip_prefix("HTTP/1.0 "))
        .and_then(|s| s.get(..3))
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other("not an HTTP response"))
}
