//! The egress guard: every HTTP request whose target a tenant can influence (SSO discovery,
//! key set and token endpoints; later webhooks and SIEM sinks) goes through an [`Egress`], so
//! that a tenant cannot make MHP connect to its own host, its network or the cloud's metadata
//! service (server-side request forgery).
//!
//! # Use
//!
//! ```no_run
//! # use mhp_egress::{Egress, EgressError, EgressOptions, EgressPolicy, Redirects, Url};
//! # async fn demo() -> Result<(), EgressError> {
//! // From the operator's configuration (egress.allow_cidrs): usually nothing.
//! let policy = EgressPolicy::new(mhp_egress::parse_cidrs("10.20.0.0/16").unwrap_or_default(), false);
//!
//! // When a tenant saves a URL: refuse early what can be refused (a name that does not resolve
//! // yet passes).
//! let url = Url::parse("https://idp.example.com/.well-known/openid-configuration")
//!     .map_err(|_| EgressError::InvalidUrl("not a URL"))?;
//! policy.check_url_resolved(&url).await?;
//!
//! // When using it: everything is checked again, at connection time.
//! let egress = Egress::new(policy, EgressOptions { redirects: Redirects::None, ..Default::default() })?;
//! let response = egress.send(egress.get(url)?).await?;
//! let body = egress.read_body(mhp_egress::ensure_success(response)?).await?;
//! # let _ = body; Ok(()) }
//! ```
//!
//! # Rules
//!
//! * **Scheme**: https only; http only when [`EgressPolicy::allow_http`]. No user name or
//!   password in the URL.
//! * **Names** ([`classify_name`]): `localhost`, `*.localhost`, `*.local`, `*.localdomain`,
//!   `*.internal` (`metadata.google.internal`), `*.arpa` (`*.home.arpa`) and names without a
//!   dot (`metadata`) are refused before any lookup. Case and trailing dots do not matter.
//! * **Addresses** ([`classify`]): loopback, unspecified (`0.0.0.0/8`, `::`), private,
//!   shared (`100.64.0.0/10`), link-local (`169.254.0.0/16` with the metadata service,
//!   `fe80::/10`), unique-local, site-local, multicast, reserved and broadcast
//!   (`240.0.0.0/4`, IPv6 outside `2000::/3`), documentation, benchmarking and protocol
//!   ranges. IPv6 addresses embedding an IPv4 address (mapped, compatible, NAT64, 6to4) are
//!   judged by it; the local NAT64 prefix and Teredo, whose IPv4 end cannot be checked, are
//!   refused. See [`Rule`] for the exact ranges.
//! * Address literals in URLs are checked as written; the `url` crate normalises the numeric
//!   IPv4 spellings (`127.1`, `2130706433`, `0x7f000001`) first.
//! * Names are checked again at **every connection**: the resolver of [`Egress`] refuses the
//!   lookup if **any** address is refused, and connects to exactly the addresses it checked
//!   (no second lookup, so DNS rebinding does not get through). Proxies are off. Redirects are
//!   not followed, or followed with each hop checked ([`Redirects`]).
//!
//! # Operator overrides
//!
//! [`EgressPolicy::allowed`] (configured as `egress.allow_cidrs`, parsed by [`parse_cidrs`])
//! overrides every address rule for the addresses inside it, e.g. an identity provider on the
//! internal network. It also lets special-use names be looked up, which then pass only if
//! **every** address they resolve to is inside an allowed range (so allowing `10.0.0.0/8`
//! makes `idp.corp.internal` → `10.1.2.3` usable, but not `localhost`).
//!
//! # Refusals
//!
//! A refusal is [`EgressError::Refused`] holding a [`Refused`]: the [`Rule`] and [`Where`] it
//! applied (scheme, name, address literal, resolved address, redirect). Messages never contain
//! the URL, the addresses a name resolved to, or anything the host sent, so they can be shown
//! to the tenant; [`EgressError::code`] gives stable codes such as
//! `egress_refused_loopback`. Code that sees a reqwest error directly can find a refusal with
//! [`Refused::find`].

mod client;
mod error;
mod policy;
mod rules;
pub mod webhook;

pub use client::{Egress, EgressOptions, GuardedRequest, Redirects, ensure_success};
pub use error::{EgressError, Refused, Where};
pub use policy::{CidrError, EgressPolicy, RESOLVE_TIMEOUT, parse_cidrs};
pub use rules::{Rule, classify, classify_name};

/// The IP network type of [`EgressPolicy::allowed`].
pub use ipnet::IpNet;
/// The HTTP client library, for the types [`Egress`] works with (`Response`, `header`...).
pub use reqwest;
/// The URL type [`Egress`] and [`EgressPolicy`] take.
pub use url::Url;
