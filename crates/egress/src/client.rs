//! The guarded HTTP client.

use std::error::Error as StdError;
use std::fmt::Display;
use std::sync::Arc;
use std::time::Duration;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, RequestBuilder, Response};
use serde::Serialize;
use url::Url;

use crate::error::from_reqwest;
use crate::{EgressError, EgressPolicy, Refused, Where};

/// Whether redirects are followed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Redirects {
    /// Not followed: a 3xx response is returned as it is.
    None,
    /// Followed up to this many times, each target checked with
    /// [`EgressPolicy::check_url`] (a refusal names [`Where::Redirect`]) and its name resolved
    /// through the checking resolver like any other. One more is
    /// [`EgressError::TooManyRedirects`].
    Checked(usize),
}

/// Limits of an [`Egress`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EgressOptions {
    /// Limit of the connection (lookup, TCP and TLS), and of the whole exchange from connecting
    /// to the end of the response body.
    pub timeout: Duration,
    /// Largest response body [`Egress::read_body`] accepts, in bytes.
    pub max_body: usize,
    /// Whether redirects are followed.
    pub redirects: Redirects,
}

impl Default for EgressOptions {
    /// 10 s, 1 MiB, no redirects.
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(10),
            max_body: 1024 * 1024,
            redirects: Redirects::None,
        }
    }
}

/// An HTTP client that connects only where its [`EgressPolicy`] allows.
///
/// * URLs are checked ([`EgressPolicy::check_url`]) when a request is made ([`Egress::get`],
///   [`Egress::post`], [`Egress::request`]) and again when it is sent: hyper does not look up
///   address literals, so this is what refuses `https://127.0.0.1/`.
/// * Names are looked up by a resolver that refuses the whole lookup if any address is
///   refused, and otherwise hands exactly the checked addresses to the connector: there is no
///   second lookup that DNS rebinding could answer differently.
/// * Proxies are switched off (a proxy would connect on MHP's behalf, unchecked), including
///   those of `HTTP_PROXY` and friends.
/// * Redirects are refused or checked hop by hop ([`Redirects`]); no `Referer` is sent.
/// * Requests can only be sent by [`Egress::send`], which maps failures to [`EgressError`]s
///   that never contain the URL or anything the host sent.
///
/// Cloning is cheap (the connection pool is shared).
#[derive(Clone, Debug)]
pub struct Egress {
    client: reqwest::Client,
    policy: Arc<EgressPolicy>,
    max_body: usize,
}

impl Egress {
    /// A client for `policy` with `options`. Fails only if the TLS set-up fails.
    pub fn new(policy: EgressPolicy, options: EgressOptions) -> Result<Self, EgressError> {
        let policy = Arc::new(policy);
        let redirect = match options.redirects {
            Redirects::None => reqwest::redirect::Policy::none(),
            Redirects::Checked(max) => {
                let policy = Arc::clone(&policy);
                reqwest::redirect::Policy::custom(move |attempt| {
                    // `previous` starts with the original URL.
                    if attempt.previous().len() > max {
                        return attempt.error(EgressError::TooManyRedirects(max));
                    }
                    match policy.check_url(attempt.url()) {
                        Ok(()) => attempt.follow(),
                        Err(EgressError::Refused(r)) => {
                            attempt.error(Refused::new(r.rule, Where::Redirect))
                        }
                        Err(e) => attempt.error(e),
                    }
                })
            }
        };
        let client = reqwest::Client::builder()
            .no_proxy()
            .dns_resolver(Arc::new(CheckingResolver {
                policy: Arc::clone(&policy),
            }))
            .connect_timeout(options.timeout)
            .timeout(options.timeout)
            .redirect(redirect)
            .referer(false)
            // The scheme is checked by `check_url`, which may allow http; `https_only` would
            // refuse http for every policy.
            .https_only(false)
            .user_agent(concat!("mhp/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|_| EgressError::Client)?;
        Ok(Self {
            client,
            policy,
            max_body: options.max_body,
        })
    }

    /// The policy this client enforces.
    pub fn policy(&self) -> &EgressPolicy {
        &self.policy
    }

    /// A GET request to `url`, once it passes [`EgressPolicy::check_url`].
    pub fn get(&self, url: Url) -> Result<GuardedRequest, EgressError> {
        self.request(Method::GET, url)
    }

    /// A POST request to `url`, once it passes [`EgressPolicy::check_url`].
    pub fn post(&self, url: Url) -> Result<GuardedRequest, EgressError> {
        self.request(Method::POST, url)
    }

    /// A request with `method` to `url`, once it passes [`EgressPolicy::check_url`].
    pub fn request(&self, method: Method, url: Url) -> Result<GuardedRequest, EgressError> {
        self.policy.check_url(&url)?;
        Ok(GuardedRequest {
            inner: self.client.request(method, url),
        })
    }

    /// Sends `request` (checking its URL once more) and returns the response, whatever its
    /// status (see [`ensure_success`]). A destination refused by the policy, here, by the
    /// resolver or on a redirect, is [`EgressError::Refused`].
    pub async fn send(&self, request: GuardedRequest) -> Result<Response, EgressError> {
        let (_, request) = request.inner.build_split();
        let request = request.map_err(|_| EgressError::InvalidRequest)?;
        self.policy.check_url(request.url())?;
        self.client
            .execute(request)
            .await
            .map_err(|e| from_reqwest(&e))
    }

    /// The body of `response`, read chunk by chunk and abandoned with
    /// [`EgressError::TooLarge`] as soon as it exceeds [`EgressOptions::max_body`].
    pub async fn read_body(&self, mut response: Response) -> Result<Vec<u8>, EgressError> {
        let too_large = EgressError::TooLarge {
            limit: self.max_body,
        };
        if response
            .content_length()
            .is_some_and(|n| n > self.max_body as u64)
        {
            return Err(too_large);
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| from_reqwest(&e))? {
            if body.len().saturating_add(chunk.len()) > self.max_body {
                return Err(too_large);
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }
}

/// `response` if its status is a success (2xx), [`EgressError::Status`] otherwise.
pub fn ensure_success(response: Response) -> Result<Response, EgressError> {
    let status = response.status();
    if status.is_success() {
        Ok(response)
    } else {
        Err(EgressError::Status(status.as_u16()))
    }
}

/// A request whose URL passed the policy, to be completed and then sent by [`Egress::send`]
/// (the only way to send it). The methods mirror those of [`reqwest::RequestBuilder`]; none
/// can change the host.
#[derive(Debug)]
#[must_use = "a request does nothing until it is passed to Egress::send"]
pub struct GuardedRequest {
    inner: RequestBuilder,
}

impl GuardedRequest {
    /// Adds a header.
    pub fn header(self, name: HeaderName, value: HeaderValue) -> Self {
        self.map(|r| r.header(name, value))
    }

    /// Adds headers.
    pub fn headers(self, headers: HeaderMap) -> Self {
        self.map(|r| r.headers(headers))
    }

    /// Sets the body.
    pub fn body(self, body: impl Into<reqwest::Body>) -> Self {
        self.map(|r| r.body(body))
    }

    /// Sets a URL-encoded form body (`application/x-www-form-urlencoded`).
    pub fn form<T: Serialize + ?Sized>(self, form: &T) -> Self {
        self.map(|r| r.form(form))
    }

    /// Sets a JSON body (`application/json`).
    pub fn json<T: Serialize + ?Sized>(self, json: &T) -> Self {
        self.map(|r| r.json(json))
    }

    /// Appends URL-encoded parameters to the query string.
    pub fn query<T: Serialize + ?Sized>(self, query: &T) -> Self {
        self.map(|r| r.query(query))
    }

    /// Sets HTTP basic authentication (the header is marked sensitive).
    pub fn basic_auth<U: Display, P: Display>(self, username: U, password: Option<P>) -> Self {
        self.map(|r| r.basic_auth(username, password))
    }

    /// Sets a bearer token (the header is marked sensitive).
    pub fn bearer_auth<T: Display>(self, token: T) -> Self {
        self.map(|r| r.bearer_auth(token))
    }

    /// Sets the total timeout of this request in place of [`EgressOptions::timeout`] (which
    /// still limits the connection).
    pub fn timeout(self, timeout: Duration) -> Self {
        self.map(|r| r.timeout(timeout))
    }

    fn map(self, f: impl FnOnce(RequestBuilder) -> RequestBuilder) -> Self {
        Self {
            inner: f(self.inner),
        }
    }
}

/// The resolver of every [`Egress`] client: [`EgressPolicy::resolve`]. Its error is the boxed
/// [`Refused`] (or an [`EgressError`] for a failed lookup).
#[derive(Debug)]
struct CheckingResolver {
    policy: Arc<EgressPolicy>,
}

impl Resolve for CheckingResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = Arc::clone(&self.policy);
        let host = name.as_str().to_owned();
        Box::pin(async move {
            // Port 0: the connector puts in the URL's port, or the scheme's.
            match policy.resolve(&host, 0).await {
                Ok(addrs) => Ok(Box::new(addrs.into_iter()) as Addrs),
                Err(EgressError::Refused(refused)) => {
                    Err(Box::new(refused) as Box<dyn StdError + Send + Sync>)
                }
                Err(e) => Err(Box::new(e) as Box<dyn StdError + Send + Sync>),
            }
        })
    }
}
