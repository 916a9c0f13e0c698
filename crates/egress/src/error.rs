//! Refusals and failures. Every message is safe to show to the tenant who configured the URL:
//! none contains the URL, an address a name resolved to, or anything the remote host sent.

use std::error::Error as StdError;
use std::fmt;

use crate::Rule;

/// The part of a request that a [`Rule`] refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Where {
    /// The URL's scheme ([`Rule::Scheme`]).
    Scheme,
    /// The URL's host name, before any lookup ([`Rule::SpecialUseName`]).
    Name,
    /// The URL's host, given as an IP address literal.
    Address,
    /// An address the URL's host name resolved to (which address is not said: it could
    /// disclose internal DNS to a tenant).
    Resolved,
    /// The target of a redirect the host answered with (scheme, name or address literal).
    Redirect,
}

/// A destination MHP does not connect to: the rule that refused it and what it applied to.
/// Returned by [`crate::EgressPolicy`]'s checks and, boxed, as the error of the checking DNS
/// resolver inside [`crate::Egress`]; [`Refused::find`] digs it out of an error chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Refused {
    /// The rule that refused the destination.
    pub rule: Rule,
    /// What the rule applied to.
    pub what: Where,
}

impl Refused {
    /// A refusal of `what` by `rule`.
    pub fn new(rule: Rule, what: Where) -> Self {
        Self { rule, what }
    }

    /// The first refusal in `error`'s chain of [`std::error::Error::source`]s (as a
    /// [`Refused`] or an [`EgressError::Refused`]), if any.
    pub fn find(error: &(dyn StdError + 'static)) -> Option<Refused> {
        let mut next = Some(error);
        while let Some(e) = next {
            if let Some(refused) = e.downcast_ref::<Refused>() {
                return Some(*refused);
            }
            if let Some(EgressError::Refused(refused)) = e.downcast_ref::<EgressError>() {
                return Some(*refused);
            }
            next = e.source();
        }
        None
    }

    /// The stable error code, such as `egress_refused_loopback` ([`Rule::code`]).
    pub fn code(&self) -> &'static str {
        self.rule.code()
    }
}

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = self.rule.description();
        match self.what {
            Where::Scheme => write!(f, "the URL uses {what}")?,
            Where::Name | Where::Address => write!(f, "the host is {what}")?,
            Where::Resolved => write!(f, "the host resolves to {what}")?,
            Where::Redirect => write!(f, "the URL redirects to {what}")?,
        }
        f.write_str(", which MHP does not connect to")?;
        match self.rule {
            Rule::Scheme => Ok(()),
            Rule::SpecialUseName => f.write_str(
                "; an operator may allow such names by allowing the ranges they resolve to with \
                 egress.allow_cidrs",
            ),
            _ => f.write_str("; an operator may allow ranges with egress.allow_cidrs"),
        }
    }
}

impl StdError for Refused {}

/// Why an egress request was not made or failed. Messages are safe to show to a tenant; use
/// [`EgressError::code`] for a stable, machine-readable code.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EgressError {
    /// A rule of the [`crate::EgressPolicy`] refused the destination.
    #[error(transparent)]
    Refused(#[from] Refused),
    /// The URL cannot be used for egress (the reason is named).
    #[error("the URL cannot be used: {0}")]
    InvalidUrl(&'static str),
    /// The host name did not resolve to any address.
    #[error("the host name could not be resolved")]
    Unresolvable,
    /// The connection, the request or the response took longer than the configured timeout.
    #[error("the request to the host timed out")]
    Timeout,
    /// No connection (TCP or TLS) could be established to the host.
    #[error("could not connect to the host")]
    Connect,
    /// The exchange with the host failed after connecting (protocol error, connection reset).
    #[error("the exchange with the host failed")]
    Transport,
    /// The response body is larger than the configured limit.
    #[error("the response is larger than {limit} bytes")]
    TooLarge {
        /// The limit, in bytes ([`crate::EgressOptions::max_body`]).
        limit: usize,
    },
    /// The host answered with a status that is not a success ([`crate::ensure_success`]).
    #[error("the host answered with HTTP status {0}")]
    Status(u16),
    /// The host redirected more often than [`crate::Redirects::Checked`] allows.
    #[error("the URL redirects more than {0} times")]
    TooManyRedirects(usize),
    /// The request could not be built (an invalid header value, a body that does not
    /// serialise).
    #[error("the request could not be built")]
    InvalidRequest,
    /// The HTTP client could not be built (TLS set-up).
    #[error("the HTTP client could not be built")]
    Client,
}

impl EgressError {
    /// A stable, machine-readable code: `egress_refused_<rule>` ([`Rule::as_str`]) for
    /// refusals, `egress_<kind>` otherwise.
    pub fn code(&self) -> &'static str {
        match self {
            EgressError::Refused(r) => r.code(),
            EgressError::InvalidUrl(_) => "egress_invalid_url",
            EgressError::Unresolvable => "egress_unresolvable",
            EgressError::Timeout => "egress_timeout",
            EgressError::Connect => "egress_connect",
            EgressError::Transport => "egress_transport",
            EgressError::TooLarge { .. } => "egress_too_large",
            EgressError::Status(_) => "egress_status",
            EgressError::TooManyRedirects(_) => "egress_too_many_redirects",
            EgressError::InvalidRequest => "egress_invalid_request",
            EgressError::Client => "egress_client",
        }
    }

    /// The refusal, when this is one.
    pub fn refused(&self) -> Option<Refused> {
        match self {
            EgressError::Refused(r) => Some(*r),
            _ => None,
        }
    }
}

/// Maps a reqwest error to an [`EgressError`] by kind only: reqwest's own messages carry the
/// URL, so they are never used. A refusal or an [`EgressError`] raised by the checking
/// resolver or the redirect policy is found in the error's chain and returned as is.
pub(crate) fn from_reqwest(error: &reqwest::Error) -> EgressError {
    let mut next: Option<&(dyn StdError + 'static)> = Some(error);
    while let Some(e) = next {
        if let Some(refused) = e.downcast_ref::<Refused>() {
            return EgressError::Refused(*refused);
        }
        if let Some(inner) = e.downcast_ref::<EgressError>() {
            return inner.clone();
        }
        next = e.source();
    }
    if error.is_timeout() {
        EgressError::Timeout
    } else if error.is_connect() {
        EgressError::Connect
    } else if error.is_builder() {
        EgressError::InvalidRequest
    } else {
        EgressError::Transport
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_rule_and_where() {
        let r = Refused::new(Rule::Loopback, Where::Resolved);
        assert_eq!(
            r.to_string(),
            "the host resolves to a loopback address, which MHP does not connect to; an \
             operator may allow ranges with egress.allow_cidrs"
        );
        let r = Refused::new(Rule::LinkLocal, Where::Address);
        assert!(
            r.to_string()
                .starts_with("the host is a link-local address")
        );
        let r = Refused::new(Rule::Scheme, Where::Scheme);
        assert_eq!(
            r.to_string(),
            "the URL uses a scheme other than https, which MHP does not connect to"
        );
        let r = Refused::new(Rule::Private, Where::Redirect);
        assert!(
            r.to_string()
                .starts_with("the URL redirects to a private-network address")
        );
        let e = EgressError::from(Refused::new(Rule::SpecialUseName, Where::Name));
        assert!(
            e.to_string()
                .starts_with("the host is a local or special-use name")
        );
        assert_eq!(e.code(), "egress_refused_special_use_name");
    }

    #[test]
    fn codes() {
        assert_eq!(
            EgressError::Refused(Refused::new(Rule::Loopback, Where::Address)).code(),
            "egress_refused_loopback"
        );
        assert_eq!(
            EgressError::TooLarge { limit: 1 }.code(),
            "egress_too_large"
        );
        assert_eq!(EgressError::Timeout.code(), "egress_timeout");
    }

    #[test]
    fn find_walks_the_chain() {
        #[derive(Debug)]
        struct Outer(Box<dyn StdError + Send + Sync>);
        impl fmt::Display for Outer {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("outer")
            }
        }
        impl StdError for Outer {
            fn source(&self) -> Option<&(dyn StdError + 'static)> {
                Some(&*self.0)
            }
        }
        let refused = Refused::new(Rule::Private, Where::Resolved);
        let chained = Outer(Box::new(Outer(Box::new(refused))));
        assert_eq!(Refused::find(&chained), Some(refused));
        let chained = Outer(Box::new(EgressError::Refused(refused)));
        assert_eq!(Refused::find(&chained), Some(refused));
        let chained = Outer(Box::new(EgressError::Timeout));
        assert_eq!(Refused::find(&chained), None);
    }
}
