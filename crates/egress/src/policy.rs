//! The policy: which schemes and destinations are allowed, and the checks of URLs, addresses
//! and resolved names against it.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use ipnet::IpNet;
use url::{Host, Url};

use crate::rules::{classify, classify_name, embedded_v4};
use crate::{EgressError, Refused, Rule, Where};

/// How long a lookup by [`EgressPolicy::resolve`] may take.
pub const RESOLVE_TIMEOUT: Duration = Duration::from_secs(10);

/// What egress is allowed: the operator-allowed address ranges, which override every address
/// [`Rule`], and whether plain http is accepted. The default is [`EgressPolicy::strict`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EgressPolicy {
    /// Ranges MHP may connect to even though a rule refuses them (an identity provider on the
    /// internal network, say). Single addresses are `/32` or `/128` ranges.
    pub allowed: Vec<IpNet>,
    /// Whether `http://` URLs are accepted besides `https://`.
    pub allow_http: bool,
}

impl EgressPolicy {
    /// Nothing allowed beyond public addresses, https only.
    pub fn strict() -> Self {
        Self::default()
    }

    /// A policy allowing `allowed` ranges and, with `allow_http`, plain http.
    pub fn new(allowed: Vec<IpNet>, allow_http: bool) -> Self {
        Self {
            allowed,
            allow_http,
        }
    }

    /// Whether `ip` is inside an operator-allowed range (an IPv6 address embedding an IPv4
    /// address also when the IPv4 address is).
    pub fn is_allowed(&self, ip: IpAddr) -> bool {
        let embedded = match ip {
            IpAddr::V6(v6) => embedded_v4(v6).map(IpAddr::V4),
            IpAddr::V4(_) => None,
        };
        self.allowed
            .iter()
            .any(|net| net.contains(&ip) || embedded.is_some_and(|v4| net.contains(&v4)))
    }

    /// `Ok` when no rule refuses `ip` ([`classify`]) or it is inside an allowed range; the
    /// refusal names [`Where::Address`].
    pub fn check_ip(&self, ip: IpAddr) -> Result<(), Refused> {
        match classify(ip) {
            Some(rule) if !self.is_allowed(ip) => Err(Refused::new(rule, Where::Address)),
            _ => Ok(()),
        }
    }

    /// Checks a host name before any lookup: a local or special-use name ([`classify_name`])
    /// is refused, unless the operator allowed some ranges. Then such a name is looked up, and
    /// passes only if every address it resolves to is in an allowed range (see
    /// [`EgressPolicy::resolve`]): `keycloak.auth.svc.cluster.local` can be allowed by
    /// allowing the cluster's range, `localhost` only by allowing loopback.
    pub fn check_name(&self, name: &str) -> Result<(), Refused> {
        match classify_name(name) {
            Some(rule) if self.allowed.is_empty() => Err(Refused::new(rule, Where::Name)),
            _ => Ok(()),
        }
    }

    /// Checks a URL without any lookup: the scheme is https (or http when allowed), there is
    /// no user name or password, there is a host, and that host passes [`Self::check_ip`]
    /// (an address literal) or [`Self::check_name`] (a name).
    ///
    /// The `url` crate has already normalised the numeric spellings of IPv4 addresses
    /// (`127.1`, `2130706433`, `0x7f000001`) in http(s) URLs to `127.0.0.1`, so they are
    /// checked as addresses.
    pub fn check_url(&self, url: &Url) -> Result<(), EgressError> {
        match url.scheme() {
            "https" => {}
            "http" if self.allow_http => {}
            _ => return Err(Refused::new(Rule::Scheme, Where::Scheme).into()),
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(EgressError::InvalidUrl(
                "it must not contain a user name or password",
            ));
        }
        match url.host() {
            None => Err(EgressError::InvalidUrl("it has no host")),
            Some(Host::Ipv4(ip)) => Ok(self.check_ip(IpAddr::V4(ip))?),
            Some(Host::Ipv6(ip)) => Ok(self.check_ip(IpAddr::V6(ip))?),
            Some(Host::Domain(name)) => Ok(self.check_name(name)?),
        }
    }

    /// [`Self::check_url`], then the host name is resolved and refused if any address it
    /// resolves to is refused. For when a tenant saves a setting, to tell them early: a name
    /// that does not resolve (yet) passes, since every connection is checked again by
    /// [`crate::Egress`].
    pub async fn check_url_resolved(&self, url: &Url) -> Result<(), EgressError> {
        self.check_url(url)?;
        if let Some(Host::Domain(name)) = url.host() {
            let port = url.port_or_known_default().unwrap_or(443);
            match self.resolve(name, port).await {
                Ok(_) | Err(EgressError::Unresolvable | EgressError::Timeout) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Resolves `host` (a name, or an address literal, bracketed or not) with the system
    /// resolver and returns its addresses with `port`, refusing the whole lookup if any
    /// address is refused ([`Where::Resolved`]; an address literal gives [`Where::Address`]).
    /// A special-use name is refused before the lookup without allowed ranges, and after it
    /// when an address is outside them (see [`Self::check_name`]).
    ///
    /// Connect to exactly these addresses, not to the name: a second lookup could answer
    /// differently (DNS rebinding). [`crate::Egress`] does so for HTTP; a raw TCP sink (syslog)
    /// should use this function.
    pub async fn resolve(&self, host: &str, port: u16) -> Result<Vec<SocketAddr>, EgressError> {
        self.resolve_with(host, port, true).await
    }

    /// [`Self::resolve`]; `name_rules: false` skips the special-use name rules (tests only).
    pub(crate) async fn resolve_with(
        &self,
        host: &str,
        port: u16,
        name_rules: bool,
    ) -> Result<Vec<SocketAddr>, EgressError> {
        let bare = host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(host);
        if let Ok(ip) = bare.parse::<IpAddr>() {
            self.check_ip(ip)?;
            return Ok(vec![SocketAddr::new(ip, port)]);
        }
        let special = name_rules && classify_name(bare).is_some();
        if special {
            self.check_name(bare)?;
        }
        let addrs: Vec<SocketAddr> = match tokio::time::timeout(
            RESOLVE_TIMEOUT,
            tokio::net::lookup_host((bare, port)),
        )
        .await
        {
            Err(_) => return Err(EgressError::Timeout),
            Ok(Err(_)) => return Err(EgressError::Unresolvable),
            Ok(Ok(addrs)) => addrs.collect(),
        };
        if addrs.is_empty() {
            return Err(EgressError::Unresolvable);
        }
        for addr in &addrs {
            let ip = addr.ip();
            if special && !self.is_allowed(ip) {
                // A special-use name reaches operator-allowed ranges only.
                let refused = match classify(ip) {
                    Some(rule) => Refused::new(rule, Where::Resolved),
                    None => Refused::new(Rule::SpecialUseName, Where::Name),
                };
                return Err(refused.into());
            }
            self.check_ip(ip)
                .map_err(|r| Refused::new(r.rule, Where::Resolved))?;
        }
        Ok(addrs)
    }
}

/// Parses a list of IP ranges in CIDR notation (`10.0.0.0/8`, `fd00::/8`) or single addresses
/// (`192.0.2.10`, `::1`), separated by commas and/or white space. An empty list is fine.
/// Host bits are cleared (`10.1.2.3/8` is `10.0.0.0/8`).
pub fn parse_cidrs(list: &str) -> Result<Vec<IpNet>, CidrError> {
    list.split(|c: char| c == ',' || c.is_whitespace())
        .filter(|entry| !entry.is_empty())
        .map(|entry| {
            entry
                .parse::<IpNet>()
                .map(|net| net.trunc())
                .or_else(|_| entry.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| CidrError {
                    entry: entry.to_owned(),
                })
        })
        .collect()
}

/// An entry of a CIDR list ([`parse_cidrs`]) that is neither a range nor an address.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("\"{entry}\" is not an IP address or a CIDR range (such as 10.0.0.0/8 or fd00::/8)")]
pub struct CidrError {
    /// The entry, as written.
    pub entry: String,
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    fn refused(policy: &EgressPolicy, s: &str) -> Refused {
        match policy.check_url(&url(s)) {
            Err(EgressError::Refused(r)) => r,
            other => panic!("{s}: {other:?}"),
        }
    }

    #[test]
    fn every_spelling_of_an_internal_host_is_refused() {
        let strict = EgressPolicy::strict();
        let cases = [
            ("https://127.0.0.1/", Rule::Loopback, Where::Address),
            ("https://localhost/", Rule::SpecialUseName, Where::Name),
            ("https://localhost./", Rule::SpecialUseName, Where::Name),
            ("https://LocalHost:8443/", Rule::SpecialUseName, Where::Name),
            ("https://127.1/", Rule::Loopback, Where::Address),
            ("https://2130706433/", Rule::Loopback, Where::Address),
            ("https://0x7f000001/", Rule::Loopback, Where::Address),
            ("https://0177.0.0.1/", Rule::Loopback, Where::Address),
            ("https://127.0.0.1./", Rule::Loopback, Where::Address),
            ("https://0.0.0.0/", Rule::Unspecified, Where::Address),
            ("https://0/", Rule::Unspecified, Where::Address),
            ("https://[::1]/", Rule::Loopback, Where::Address),
            ("https://[::]/", Rule::Unspecified, Where::Address),
            (
                "https://[::ffff:127.0.0.1]/",
                Rule::Loopback,
                Where::Address,
            ),
            ("https://[::ffff:7f00:1]/", Rule::Loopback, Where::Address),
            ("https://169.254.169.254/", Rule::LinkLocal, Where::Address),
            (
                "https://[fd00:ec2::254]/",
                Rule::UniqueLocal,
                Where::Address,
            ),
            (
                "https://metadata.google.internal/",
                Rule::SpecialUseName,
                Where::Name,
            ),
            ("https://metadata/", Rule::SpecialUseName, Where::Name),
            ("https://10.1.2.3/", Rule::Private, Where::Address),
            ("https://172.16.0.1/", Rule::Private, Where::Address),
            ("https://192.168.0.1/", Rule::Private, Where::Address),
            (
                "https://100.64.0.1/",
                Rule::SharedAddressSpace,
                Where::Address,
            ),
            ("https://[fd00::1]/", Rule::UniqueLocal, Where::Address),
            ("https://[fe80::1]/", Rule::LinkLocal, Where::Address),
            ("https://[fec0::1]/", Rule::SiteLocal, Where::Address),
            ("https://224.0.0.1/", Rule::Multicast, Where::Address),
            ("https://[ff02::1]/", Rule::Multicast, Where::Address),
            ("https://255.255.255.255/", Rule::Reserved, Where::Address),
            ("https://192.0.2.1/", Rule::SpecialPurpose, Where::Address),
            (
                "https://[2001:db8::1]/",
                Rule::SpecialPurpose,
                Where::Address,
            ),
            ("https://[::127.0.0.1]/", Rule::Loopback, Where::Address),
            ("https://[64:ff9b::7f00:1]/", Rule::Loopback, Where::Address),
            ("https://[2002:7f00:1::]/", Rule::Loopback, Where::Address),
            ("https://[64:ff9b:1::1]/", Rule::Translation, Where::Address),
            ("https://[2001::1]/", Rule::Translation, Where::Address),
            ("https://printer.local/", Rule::SpecialUseName, Where::Name),
            (
                "https://router.home.arpa/",
                Rule::SpecialUseName,
                Where::Name,
            ),
        ];
        for (s, rule, what) in cases {
            assert_eq!(refused(&strict, s), Refused::new(rule, what), "{s}");
        }
    }

    #[test]
    fn public_destinations_pass() {
        let strict = EgressPolicy::strict();
        for s in [
            "https://93.184.216.34/",
            "https://[2606:4700::1111]/",
            "https://[::ffff:93.184.216.34]/",
            "https://idp.example.com/.well-known/openid-configuration",
            "https://login.microsoftonline.com:443/tenant/v2.0",
            "https://idp.example.com./",
        ] {
            assert_eq!(strict.check_url(&url(s)), Ok(()), "{s}");
        }
    }

    #[test]
    fn http_only_when_allowed_and_other_schemes_never() {
        let strict = EgressPolicy::strict();
        assert_eq!(
            refused(&strict, "http://idp.example.com/"),
            Refused::new(Rule::Scheme, Where::Scheme)
        );
        let lax = EgressPolicy::new(vec![], true);
        assert_eq!(lax.check_url(&url("http://idp.example.com/")), Ok(()));
        // Still subject to the address rules.
        assert_eq!(refused(&lax, "http://127.0.0.1:8080/").rule, Rule::Loopback);
        for s in [
            "ftp://idp.example.com/",
            "file:///etc/passwd",
            "gopher://idp.example.com/",
            "ws://idp.example.com/",
            "data:text/plain,hi",
        ] {
            assert_eq!(
                refused(&lax, s),
                Refused::new(Rule::Scheme, Where::Scheme),
                "{s}"
            );
        }
    }

    #[test]
    fn userinfo_is_refused() {
        let strict = EgressPolicy::strict();
        for s in [
            "https://user@idp.example.com/",
            "https://user:pw@idp.example.com/",
            "https://:pw@idp.example.com/",
        ] {
            assert!(
                matches!(strict.check_url(&url(s)), Err(EgressError::InvalidUrl(_))),
                "{s}"
            );
        }
    }

    #[test]
    fn allowed_ranges_override_address_rules_only_inside_them() {
        let policy = EgressPolicy::new(parse_cidrs("127.0.0.0/8").unwrap(), false);
        assert_eq!(policy.check_url(&url("https://127.0.0.1/")), Ok(()));
        assert_eq!(policy.check_url(&url("https://127.1/")), Ok(()));
        // The IPv4-mapped form of an allowed address is allowed too.
        assert_eq!(
            policy.check_url(&url("https://[::ffff:127.0.0.1]/")),
            Ok(())
        );
        assert_eq!(refused(&policy, "https://10.0.0.1/").rule, Rule::Private);
        assert_eq!(refused(&policy, "https://[::1]/").rule, Rule::Loopback);
        assert_eq!(
            refused(&policy, "https://169.254.169.254/").rule,
            Rule::LinkLocal
        );
        // Allowing ranges does not allow http.
        assert_eq!(refused(&policy, "http://127.0.0.1/").rule, Rule::Scheme);

        let single = EgressPolicy::new(parse_cidrs("10.0.0.5").unwrap(), false);
        assert_eq!(single.check_url(&url("https://10.0.0.5/")), Ok(()));
        assert_eq!(refused(&single, "https://10.0.0.6/").rule, Rule::Private);
    }

    #[test]
    fn special_use_names_are_deferred_to_resolution_when_ranges_are_allowed() {
        let policy = EgressPolicy::new(parse_cidrs("10.0.0.0/8").unwrap(), false);
        assert_eq!(
            policy.check_url(&url("https://keycloak.auth.svc.cluster.local/")),
            Ok(())
        );
        assert_eq!(policy.check_url(&url("https://localhost/")), Ok(()));
    }

    #[test]
    fn cidr_lists() {
        assert_eq!(parse_cidrs("").unwrap(), vec![]);
        assert_eq!(parse_cidrs(" , ").unwrap(), vec![]);
        let nets = parse_cidrs("10.0.0.0/8, fd00::/8 192.0.2.10,::1\n10.1.2.3/16").unwrap();
        let expected: Vec<IpNet> = [
            "10.0.0.0/8",
            "fd00::/8",
            "192.0.2.10/32",
            "::1/128",
            "10.1.0.0/16",
        ]
        .iter()
        .map(|s| s.parse().unwrap())
        .collect();
        assert_eq!(nets, expected);
        let err = parse_cidrs("10.0.0.0/8, intranet").unwrap_err();
        assert_eq!(err.entry, "intranet");
        assert!(
            err.to_string()
                .contains("\"intranet\" is not an IP address")
        );
        assert!(parse_cidrs("10.0.0.0/33").is_err());
        assert!(parse_cidrs("10.0.0/8").is_err());
    }

    #[tokio::test]
    async fn resolver_refuses_a_name_resolving_to_loopback() {
        // The DNS path itself: `localhost` (from /etc/hosts) with the name rule skipped.
        let strict = EgressPolicy::strict();
        assert_eq!(
            strict.resolve_with("localhost", 443, false).await,
            Err(Refused::new(Rule::Loopback, Where::Resolved).into())
        );
        // With the name rule, before any lookup.
        assert_eq!(
            strict.resolve("localhost", 443).await,
            Err(Refused::new(Rule::SpecialUseName, Where::Name).into())
        );
        // Allowed ranges that do not cover loopback: looked up, then refused by address.
        let policy = EgressPolicy::new(parse_cidrs("10.0.0.0/8").unwrap(), false);
        assert_eq!(
            policy.resolve("localhost", 443).await,
            Err(Refused::new(Rule::Loopback, Where::Resolved).into())
        );
        // Allowed ranges that cover it: the checked addresses, with the port.
        let policy = EgressPolicy::new(parse_cidrs("127.0.0.0/8 ::1").unwrap(), false);
        let addrs = policy.resolve("localhost", 8443).await.unwrap();
        assert!(!addrs.is_empty());
        assert!(
            addrs
                .iter()
                .all(|a| a.ip().is_loopback() && a.port() == 8443)
        );
    }

    #[tokio::test]
    async fn resolver_checks_address_literals() {
        let strict = EgressPolicy::strict();
        assert_eq!(
            strict.resolve("[::1]", 80).await,
            Err(Refused::new(Rule::Loopback, Where::Address).into())
        );
        assert_eq!(
            strict.resolve("93.184.216.34", 80).await.unwrap(),
            vec!["93.184.216.34:80".parse().unwrap()]
        );
    }

    #[tokio::test]
    async fn check_url_resolved() {
        let strict = EgressPolicy::strict();
        assert_eq!(
            strict
                .check_url_resolved(&url("https://localhost/"))
                .await
                .unwrap_err()
                .code(),
            "egress_refused_special_use_name"
        );
        let policy = EgressPolicy::new(parse_cidrs("10.0.0.0/8").unwrap(), false);
        assert_eq!(
            policy
                .check_url_resolved(&url("https://localhost/"))
                .await
                .unwrap_err()
                .code(),
            "egress_refused_loopback"
        );
        // A name that does not resolve (no DNS here, or a reserved TLD) passes at save time.
        assert_eq!(
            strict
                .check_url_resolved(&url("https://idp.example.invalid/"))
                .await,
            Ok(())
        );
        assert_eq!(
            strict
                .check_url_resolved(&url("https://93.184.216.34/"))
                .await,
            Ok(())
        );
    }
}
