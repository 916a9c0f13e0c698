//! Which addresses and host names are refused, and by which rule.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The rule that refuses a destination. [`Rule::as_str`] is a stable name (for logs, metrics
/// and the error codes of [`crate::EgressError::code`]); [`Rule::description`] says what it
/// means in words a tenant understands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Rule {
    /// The URL's scheme is not https (or http, where the policy allows it).
    Scheme,
    /// A host name that is local or special-use by definition: `localhost`, `*.localhost`,
    /// `*.local`, `*.localdomain`, `*.internal`, `*.arpa` (with `*.home.arpa`), and names
    /// without a dot (`metadata`), which resolve through the local search domains.
    SpecialUseName,
    /// 127.0.0.0/8, ::1.
    Loopback,
    /// 0.0.0.0/8 ("this network", which reaches the local host), ::.
    Unspecified,
    /// 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16.
    Private,
    /// 100.64.0.0/10, the carrier-grade NAT range (also used inside some clouds).
    SharedAddressSpace,
    /// 169.254.0.0/16, fe80::/10: where cloud metadata services (169.254.169.254) live.
    LinkLocal,
    /// fc00::/7, the IPv6 counterpart of private ranges.
    UniqueLocal,
    /// fec0::/10, deprecated but still routed by some networks.
    SiteLocal,
    /// 224.0.0.0/4, ff00::/8.
    Multicast,
    /// 240.0.0.0/4 with the broadcast address 255.255.255.255, and IPv6 outside the global
    /// unicast range 2000::/3 that no other rule names (the rest of ::/8 and so on).
    Reserved,
    /// Documentation, benchmarking and protocol-assignment ranges: 192.0.0.0/24, 192.0.2.0/24,
    /// 198.18.0.0/15, 198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32, 3fff::/20, 100::/64 and
    /// the IETF protocol assignments 2001::/23.
    SpecialPurpose,
    /// IPv6 translation and tunnelling ranges whose IPv4 end cannot be checked: the local-use
    /// NAT64 prefix 64:ff9b:1::/48 and Teredo 2001::/32. (Well-known NAT64 64:ff9b::/96, 6to4
    /// 2002::/16, IPv4-mapped and IPv4-compatible addresses are judged by the IPv4 address they
    /// embed instead.)
    Translation,
}

impl Rule {
    /// Every rule, in declaration order.
    pub const ALL: [Rule; 13] = [
        Rule::Scheme,
        Rule::SpecialUseName,
        Rule::Loopback,
        Rule::Unspecified,
        Rule::Private,
        Rule::SharedAddressSpace,
        Rule::LinkLocal,
        Rule::UniqueLocal,
        Rule::SiteLocal,
        Rule::Multicast,
        Rule::Reserved,
        Rule::SpecialPurpose,
        Rule::Translation,
    ];

    /// The rule's stable name, in snake case (`loopback`, `link_local`...).
    pub fn as_str(self) -> &'static str {
        match self {
            Rule::Scheme => "scheme",
            Rule::SpecialUseName => "special_use_name",
            Rule::Loopback => "loopback",
            Rule::Unspecified => "unspecified",
            Rule::Private => "private",
            Rule::SharedAddressSpace => "shared_address_space",
            Rule::LinkLocal => "link_local",
            Rule::UniqueLocal => "unique_local",
            Rule::SiteLocal => "site_local",
            Rule::Multicast => "multicast",
            Rule::Reserved => "reserved",
            Rule::SpecialPurpose => "special_purpose",
            Rule::Translation => "translation",
        }
    }

    /// The stable error code of a refusal by this rule: `egress_refused_` and [`Rule::as_str`].
    pub fn code(self) -> &'static str {
        match self {
            Rule::Scheme => "egress_refused_scheme",
            Rule::SpecialUseName => "egress_refused_special_use_name",
            Rule::Loopback => "egress_refused_loopback",
            Rule::Unspecified => "egress_refused_unspecified",
            Rule::Private => "egress_refused_private",
            Rule::SharedAddressSpace => "egress_refused_shared_address_space",
            Rule::LinkLocal => "egress_refused_link_local",
            Rule::UniqueLocal => "egress_refused_unique_local",
            Rule::SiteLocal => "egress_refused_site_local",
            Rule::Multicast => "egress_refused_multicast",
            Rule::Reserved => "egress_refused_reserved",
            Rule::SpecialPurpose => "egress_refused_special_purpose",
            Rule::Translation => "egress_refused_translation",
        }
    }

    /// What the rule refuses, as a noun phrase that completes "the host is ..." or "the host
    /// resolves to ...".
    pub fn description(self) -> &'static str {
        match self {
            Rule::Scheme => "a scheme other than https",
            Rule::SpecialUseName => {
                "a local or special-use name (such as localhost, *.local, *.internal, *.arpa or \
                 a name without a dot)"
            }
            Rule::Loopback => "a loopback address",
            Rule::Unspecified => "an unspecified (\"this network\") address",
            Rule::Private => "a private-network address",
            Rule::SharedAddressSpace => "a carrier-grade NAT (shared address space) address",
            Rule::LinkLocal => "a link-local address (where cloud metadata services live)",
            Rule::UniqueLocal => "an IPv6 unique-local address",
            Rule::SiteLocal => "an IPv6 site-local address",
            Rule::Multicast => "a multicast address",
            Rule::Reserved => "a reserved or broadcast address",
            Rule::SpecialPurpose => "a documentation, benchmarking or protocol-assignment address",
            Rule::Translation => {
                "an IPv6 translation or tunnelling address whose IPv4 end cannot be checked"
            }
        }
    }

    /// Whether the rule is about addresses, so that operator-allowed ranges override it.
    pub fn is_address_rule(self) -> bool {
        !matches!(self, Rule::Scheme | Rule::SpecialUseName)
    }
}

impl std::fmt::Display for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The rule that refuses `ip`, or `None` for an address MHP may connect to (before
/// operator-allowed ranges, see [`crate::EgressPolicy::check_ip`]).
///
/// IPv6 addresses that embed an IPv4 address (IPv4-mapped `::ffff:a.b.c.d`, IPv4-translated
/// `::ffff:0:a.b.c.d`, IPv4-compatible `::a.b.c.d`, NAT64 `64:ff9b::a.b.c.d`, 6to4
/// `2002:aabb:ccdd::`) are judged by that IPv4 address.
pub fn classify(ip: IpAddr) -> Option<Rule> {
    match ip {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => classify_v6(v6),
    }
}

fn classify_v4(ip: Ipv4Addr) -> Option<Rule> {
    let rule = match ip.octets() {
        [0, ..] => Rule::Unspecified,
        [10, ..] => Rule::Private,
        [100, 64..=127, ..] => Rule::SharedAddressSpace,
        [127, ..] => Rule::Loopback,
        [169, 254, ..] => Rule::LinkLocal,
        [172, 16..=31, ..] => Rule::Private,
        [192, 0, 0 | 2, _] | [198, 18 | 19, ..] | [198, 51, 100, _] | [203, 0, 113, _] => {
            Rule::SpecialPurpose
        }
        [192, 168, ..] => Rule::Private,
        [224..=239, ..] => Rule::Multicast,
        [240..=255, ..] => Rule::Reserved,
        _ => return None,
    };
    Some(rule)
}

fn classify_v6(ip: Ipv6Addr) -> Option<Rule> {
    if ip.is_unspecified() {
        return Some(Rule::Unspecified);
    }
    if ip.is_loopback() {
        return Some(Rule::Loopback);
    }
    if let Some(v4) = embedded_v4(ip) {
        return classify_v4(v4);
    }
    let rule = match ip.segments() {
        [0x0064, 0xff9b, 0x0001, ..] | [0x2001, 0x0000, ..] => Rule::Translation,
        [0x2001, 0x0000..=0x01ff | 0x0db8, ..]
        | [0x3fff, 0x0000..=0x0fff, ..]
        | [0x0100, 0, 0, 0, ..] => Rule::SpecialPurpose,
        [0xfc00..=0xfdff, ..] => Rule::UniqueLocal,
        [0xfe80..=0xfebf, ..] => Rule::LinkLocal,
        [0xfec0..=0xfeff, ..] => Rule::SiteLocal,
        [0xff00..=0xffff, ..] => Rule::Multicast,
        [0x2000..=0x3fff, ..] => return None,
        _ => Rule::Reserved,
    };
    Some(rule)
}

/// The IPv4 address an IPv6 address carries and is delivered to: IPv4-mapped
/// (`::ffff:0:0/96`), IPv4-translated (`::ffff:0:0:0/96`), IPv4-compatible (`::/96` but for
/// `::` and `::1`), well-known NAT64 (`64:ff9b::/96`) and 6to4 (`2002::/16`, bits 16..48).
pub(crate) fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let pair = match s {
        [0, 0, 0, 0, 0, 0xffff, hi, lo]
        | [0, 0, 0, 0, 0xffff, 0, hi, lo]
        | [0x0064, 0xff9b, 0, 0, 0, 0, hi, lo]
        | [0x2002, hi, lo, ..] => (hi, lo),
        [0, 0, 0, 0, 0, 0, hi, lo] if !(hi == 0 && lo <= 1) => (hi, lo),
        _ => return None,
    };
    let [a, b] = pair.0.to_be_bytes();
    let [c, d] = pair.1.to_be_bytes();
    Some(Ipv4Addr::new(a, b, c, d))
}

/// Suffixes of names that are local or special-use by definition (RFC 6761, RFC 6762,
/// RFC 8375, and `.internal`, which clouds use for metadata: `metadata.google.internal`).
const SPECIAL_SUFFIXES: [&str; 5] = [".localhost", ".local", ".localdomain", ".internal", ".arpa"];

/// [`Rule::SpecialUseName`] when `name` is a local or special-use host name: `localhost`,
/// `*.localhost`, `*.local`, `*.localdomain`, `*.internal`, `*.arpa` (so `*.home.arpa` and the
/// reverse-lookup zones), or a single label (no dot: `metadata`, which resolves through the
/// local search domains). Case and trailing dots (`localhost.`) do not matter. `None`
/// otherwise (the name may still resolve to a refused address).
pub fn classify_name(name: &str) -> Option<Rule> {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    let special = !name.contains('.') || SPECIAL_SUFFIXES.iter().any(|s| name.ends_with(s));
    special.then_some(Rule::SpecialUseName)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn rule(s: &str) -> Option<Rule> {
        classify(s.parse().unwrap())
    }

    #[test]
    fn ipv4_ranges() {
        let cases = [
            ("0.0.0.0", Some(Rule::Unspecified)),
            ("0.255.1.2", Some(Rule::Unspecified)),
            ("10.1.2.3", Some(Rule::Private)),
            ("100.63.255.255", None),
            ("100.64.0.1", Some(Rule::SharedAddressSpace)),
            ("100.127.255.255", Some(Rule::SharedAddressSpace)),
            ("100.128.0.0", None),
            ("127.0.0.1", Some(Rule::Loopback)),
            ("127.255.255.254", Some(Rule::Loopback)),
            ("169.254.169.254", Some(Rule::LinkLocal)),
            ("169.253.1.1", None),
            ("172.15.255.255", None),
            ("172.16.0.1", Some(Rule::Private)),
            ("172.31.255.255", Some(Rule::Private)),
            ("172.32.0.0", None),
            ("192.0.0.170", Some(Rule::SpecialPurpose)),
            ("192.0.1.1", None),
            ("192.0.2.1", Some(Rule::SpecialPurpose)),
            ("192.168.1.1", Some(Rule::Private)),
            ("192.169.0.1", None),
            ("198.17.255.255", None),
            ("198.18.0.1", Some(Rule::SpecialPurpose)),
            ("198.19.255.255", Some(Rule::SpecialPurpose)),
            ("198.20.0.0", None),
            ("198.51.100.7", Some(Rule::SpecialPurpose)),
            ("203.0.113.9", Some(Rule::SpecialPurpose)),
            ("224.0.0.1", Some(Rule::Multicast)),
            ("239.255.255.250", Some(Rule::Multicast)),
            ("240.0.0.1", Some(Rule::Reserved)),
            ("255.255.255.255", Some(Rule::Reserved)),
            ("1.1.1.1", None),
            ("8.8.8.8", None),
            ("93.184.216.34", None),
            ("223.255.255.255", None),
        ];
        for (ip, expected) in cases {
            assert_eq!(rule(ip), expected, "{ip}");
        }
    }

    #[test]
    fn ipv6_ranges() {
        let cases = [
            ("::", Some(Rule::Unspecified)),
            ("::1", Some(Rule::Loopback)),
            ("fe80::1", Some(Rule::LinkLocal)),
            ("febf::1", Some(Rule::LinkLocal)),
            ("fec0::1", Some(Rule::SiteLocal)),
            ("fc00::1", Some(Rule::UniqueLocal)),
            ("fd00::1", Some(Rule::UniqueLocal)),
            ("ff02::1", Some(Rule::Multicast)),
            ("2001:db8::1", Some(Rule::SpecialPurpose)),
            ("2001:2::1", Some(Rule::SpecialPurpose)),
            ("3fff::1", Some(Rule::SpecialPurpose)),
            ("100::1", Some(Rule::SpecialPurpose)),
            ("100:0:0:1::1", Some(Rule::Reserved)),
            ("2001::1", Some(Rule::Translation)),
            (
                "2001:0:4136:e378:8000:63bf:3fff:fdd2",
                Some(Rule::Translation),
            ),
            ("64:ff9b:1::a00:1", Some(Rule::Translation)),
            ("::2:0:0:1", Some(Rule::Reserved)),
            ("5f00::1", Some(Rule::Reserved)),
            ("4000::1", Some(Rule::Reserved)),
            ("2606:4700::1111", None),
            ("2a00:1450:4001:80b::200e", None),
            ("2001:200::1", None),
            ("3ffe::1", None),
        ];
        for (ip, expected) in cases {
            assert_eq!(rule(ip), expected, "{ip}");
        }
    }

    #[test]
    fn ipv6_with_embedded_ipv4_is_judged_by_it() {
        let cases = [
            ("::ffff:127.0.0.1", Some(Rule::Loopback)),
            ("::ffff:7f00:1", Some(Rule::Loopback)),
            ("::ffff:169.254.169.254", Some(Rule::LinkLocal)),
            ("::ffff:10.0.0.1", Some(Rule::Private)),
            ("::ffff:0:127.0.0.1", Some(Rule::Loopback)),
            ("::127.0.0.1", Some(Rule::Loopback)),
            ("::10.0.0.1", Some(Rule::Private)),
            ("::0.0.0.2", Some(Rule::Unspecified)),
            ("64:ff9b::7f00:1", Some(Rule::Loopback)),
            ("64:ff9b::a9fe:a9fe", Some(Rule::LinkLocal)),
            ("2002:7f00:1::", Some(Rule::Loopback)),
            ("2002:a00:1::1", Some(Rule::Private)),
            ("2002:a9fe:a9fe:1234::1", Some(Rule::LinkLocal)),
            ("::ffff:93.184.216.34", None),
            ("::93.184.216.34", None),
            ("64:ff9b::5db8:d822", None),
            ("2002:5db8:d822::1", None),
        ];
        for (ip, expected) in cases {
            assert_eq!(rule(ip), expected, "{ip}");
        }
    }

    #[test]
    fn special_use_names() {
        for name in [
            "localhost",
            "localhost.",
            "LOCALHOST",
            "localhost..",
            "app.localhost",
            "printer.local",
            "printer.local.",
            "host.localdomain",
            "metadata.google.internal",
            "metadata.google.internal.",
            "router.home.arpa",
            "1.0.0.127.in-addr.arpa",
            "metadata",
            "intranet.",
            "",
            ".",
        ] {
            assert_eq!(classify_name(name), Some(Rule::SpecialUseName), "{name}");
        }
        for name in [
            "idp.example.com",
            "example.com.",
            "login.microsoftonline.com",
            "local.example.com",
            "internal.example.org",
            "localhost.example.com",
        ] {
            assert_eq!(classify_name(name), None, "{name}");
        }
    }

    #[test]
    fn names_and_codes_are_stable_and_distinct() {
        let mut names = std::collections::HashSet::new();
        for rule in Rule::ALL {
            assert!(names.insert(rule.as_str()));
            assert_eq!(rule.code(), format!("egress_refused_{}", rule.as_str()));
            assert!(!rule.description().is_empty());
        }
    }
}
