//! HTTP for pulls: rustls with the platform's roots (or a private CA's), the proxy from the
//! environment, per-request timeouts inside a bound on the whole pull, retries with backoff on
//! 429 and 5xx that honour Retry-After, bounded bodies, and request URLs with secrets removed.

use super::Error;
use std::time::{Duration, Instant};

/// The largest response body read, per request.
pub const BODY_LIMIT: u64 = 256 << 20;

/// Longest single wait between two attempts, whatever Retry-After asks.
const MAX_WAIT: Duration = Duration::from_secs(300);

/// How patient a pull is.
#[derive(Debug, Clone)]
pub struct Policy {
    /// Attempts after the first, for 429, 5xx and broken connections.
    pub retries: u32,
    /// Each request, connect to last byte.
    pub timeout: Duration,
    /// The whole pull.
    pub max_time: Duration,
    /// The first backoff; each retry doubles it (when the server gives no Retry-After).
    pub backoff: Duration,
}

impl Default for Policy {
    fn default() -> Policy {
        Policy { retries: 4, timeout: Duration::from_secs(60), max_time: Duration::from_secs(3600), backoff: Duration::from_secs(1) }
    }
}

/// A response as received.
pub struct Response {
    pub status: u16,
    pub body: Vec<u8>,
}

/// A request.
pub enum Request<'a> {
    Get { url: &'a str, bearer: Option<&'a str> },
    Form { url: &'a str, form: &'a [(&'a str, &'a str)] },
}

impl Request<'_> {
    fn url(&self) -> &str {
        match self {
            Request::Get { url, .. } | Request::Form { url, .. } => url,
        }
    }
}

/// One pull's HTTP client.
pub struct Client {
    agent: ureq::Agent,
    policy: Policy,
    deadline: Instant,
    clock: fn() -> chrono::DateTime<chrono::Utc>,
    /// Told of each retry (what failed, how long it waits).
    pub on_retry: Box<dyn Fn(&str)>,
}

impl Client {
    /// A client trusting the platform's roots, or only the certificates in `ca_file` (PEM).
    /// `clock` reads Retry-After dates.
    pub fn new(policy: Policy, ca_file: Option<&std::path::Path>, clock: fn() -> chrono::DateTime<chrono::Utc>) -> Result<Client, Error> {
        use ureq::tls::{RootCerts, TlsConfig};
        let roots = match ca_file {
            None => RootCerts::PlatformVerifier,
            Some(p) => {
                let pem = std::fs::read(p).map_err(|e| Error::Config(format!("ca_file {}: {e}", p.display())))?;
                let mut certs = Vec::new();
                for item in ureq::tls::parse_pem(&pem) {
                    match item {
                        Ok(ureq::tls::PemItem::Certificate(c)) => certs.push(c),
                        Ok(_) => {}
                        Err(e) => return Err(Error::Config(format!("ca_file {}: {e}", p.display()))),
                    }
                }
                if certs.is_empty() {
                    return Err(Error::Config(format!("ca_file {}: no PEM certificate in it", p.display())));
                }
                RootCerts::Specific(std::sync::Arc::new(certs))
            }
        };
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(policy.timeout))
            .http_status_as_error(false)
            // A redirect could carry the Authorization header to another host: refused instead.
            .max_redirects(0)
            .user_agent(concat!("evident/", env!("CARGO_PKG_VERSION")))
            .tls_config(TlsConfig::builder().root_certs(roots).build())
            .build()
            .into();
        let deadline = Instant::now() + policy.max_time;
        Ok(Client { agent, policy, deadline, clock, on_retry: Box::new(|_| {}) })
    }

    /// Sends a request, retrying 429, 5xx and broken transfers with backoff (Retry-After when
    /// the server gives one) until it answers otherwise, the retries run out, or the pull's time
    /// is up. Other statuses are returned for the caller to judge.
    pub fn send(&self, req: &Request) -> Result<Response, Error> {
        let shown = redact(req.url());
        check_scheme(req.url())?;
        let mut attempt = 0;
        loop {
            let (failure, wait) = match self.once(req) {
                Ok((r, _)) if !(r.status == 429 || r.status >= 500) => return Ok(r),
                Ok((r, retry_after)) => (format!("HTTP {}", r.status), retry_after),
                Err(Failed { message, transient: true }) => (message, None),
                // A refused certificate or an unknown host does not get better by waiting.
                Err(Failed { message, transient: false }) => return Err(Error::Http { url: shown, message }),
            };
            let wait = wait.unwrap_or(self.policy.backoff * 2u32.saturating_pow(attempt)).min(MAX_WAIT);
            if attempt >= self.policy.retries {
                let n = attempt + 1;
                return Err(Error::Http { url: shown, message: format!("{failure}, after {n} attempt{}", if n == 1 { "" } else { "s" }) });
            }
            if Instant::now() + wait >= self.deadline {
                return Err(Error::Http { url: shown, message: format!("{failure}; retrying would pass the pull's max_time") });
            }
            (self.on_retry)(&format!("{shown}: {failure}; retrying in {} s", wait.as_secs_f32()));
            std::thread::sleep(wait);
            attempt += 1;
        }
    }

    /// One attempt: the response and its Retry-After, or why the transfer failed.
    fn once(&self, req: &Request) -> Result<(Response, Option<Duration>), Failed> {
        let left = self.deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(Failed { message: "the pull's max_time is up".into(), transient: false });
        }
        let result = match req {
            Request::Get { url, bearer } => {
                let mut r = self.agent.get(*url).header("Accept", "application/json");
                if let Some(t) = bearer {
                    r = r.header("Authorization", &format!("Bearer {t}"));
                }
                r.config().timeout_global(Some(left.min(self.policy.timeout))).build().call()
            }
            Request::Form { url, form } => {
                let r = self.agent.post(*url).header("Accept", "application/json");
                r.config().timeout_global(Some(left.min(self.policy.timeout))).build().send_form(form.iter().copied())
            }
        };
        let mut resp = result.map_err(|e| Failed::of(&e, ""))?;
        let status = resp.status().as_u16();
        let retry_after = resp.headers().get("retry-after").and_then(|v| v.to_str().ok()).and_then(|v| retry_after(v, (self.clock)()));
        let body = resp.body_mut().with_config().limit(BODY_LIMIT).read_to_vec().map_err(|e| Failed::of(&e, "reading the body: "))?;
        Ok((Response { status, body }, retry_after))
    }
}

/// A transfer that failed, and whether trying again may help.
struct Failed {
    message: String,
    transient: bool,
}

impl Failed {
    fn of(e: &ureq::Error, context: &str) -> Failed {
        use std::io::ErrorKind::*;
        let transient = match e {
            ureq::Error::Timeout(_) | ureq::Error::ConnectionFailed => true,
            ureq::Error::Io(io) => {
                matches!(io.kind(), ConnectionReset | ConnectionAborted | ConnectionRefused | UnexpectedEof | BrokenPipe | TimedOut | Interrupted)
            }
            _ => false,
        };
        Failed { message: format!("{context}{}", describe(e)), transient }
    }
}

/// A transport error in words, without the URL (the caller names it, redacted).
fn describe(e: &ureq::Error) -> String {
    match e {
        ureq::Error::Timeout(t) => format!("timed out ({t})"),
        ureq::Error::BodyExceedsLimit(n) => format!("the body is larger than {n} bytes"),
        ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => "the connection closed before the whole body arrived".into(),
        other => other.to_string(),
    }
}

/// Retry-After as seconds or an HTTP date (RFC 9110 §10.2.3).
fn retry_after(v: &str, now: chrono::DateTime<chrono::Utc>) -> Option<Duration> {
    if let Ok(s) = v.trim().parse::<u64>() {
        return Some(Duration::from_secs(s));
    }
    let at = chrono::DateTime::parse_from_rfc2822(v.trim()).ok()?;
    Some((at.with_timezone(&chrono::Utc) - now).to_std().unwrap_or_default())
}

/// Bearer tokens and client secrets go to https servers only; plain http is allowed to this
/// machine (a local proxy, a test server), nowhere else.
fn check_scheme(url: &str) -> Result<(), Error> {
    let lower = url.to_ascii_lowercase();
    if lower.starts_with("https://") {
        return Ok(());
    }
    if let Some(rest) = lower.strip_prefix("http://") {
        let host = rest.split(['/', '?']).next().unwrap_or_default();
        let host = host.rsplit_once('@').map_or(host, |(_, h)| h);
        let name = if host.starts_with('[') { host.split(']').next().map(|h| &h[1..]).unwrap_or_default() } else { host.split(':').next().unwrap_or_default() };
        if matches!(name, "localhost" | "127.0.0.1" | "::1") {
            return Ok(());
        }
        return Err(Error::Config(format!("{}: credentials are sent only over https (plain http only to localhost)", redact(url))));
    }
    Err(Error::Config(format!("{}: not an http(s) URL", redact(url))))
}

/// Query parameters whose values are secrets (or grant one).
const SECRET_PARAMS: &[&str] =
    &["access_token", "token", "api_key", "apikey", "key", "client_secret", "secret", "password", "code", "assertion", "sig", "signature"];

/// The URL as it may be stored and printed: user information and secret query values replaced.
pub fn redact(url: &str) -> String {
    let (base, query) = url.split_once('?').map_or((url, None), |(b, q)| (b, Some(q)));
    let base = match base.split_once("://") {
        Some((scheme, rest)) => {
            let (host, path) = rest.split_once('/').map_or((rest, None), |(h, p)| (h, Some(p)));
            let host = host.rsplit_once('@').map_or(host.to_string(), |(_, h)| format!("REDACTED@{h}"));
            match path {
                Some(p) => format!("{scheme}://{host}/{p}"),
                None => format!("{scheme}://{host}"),
            }
        }
        None => base.to_string(),
    };
    let Some(query) = query else { return base };
    let params: Vec<String> = query
        .split('&')
        .map(|kv| match kv.split_once('=') {
            Some((k, _)) if SECRET_PARAMS.contains(&k.to_ascii_lowercase().as_str()) => format!("{k}=REDACTED"),
            _ => kv.to_string(),
        })
        .collect();
    format!("{base}?{}", params.join("&"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_leave_urls_and_plain_http_stays_local() {
        assert_eq!(redact("https://u:p@h.example/api?a=1&api_key=s3&key=x"), "https://REDACTED@h.example/api?a=1&api_key=REDACTED&key=REDACTED");
        assert_eq!(redact("https://h.example/v1/devices?pageToken=abc"), "https://h.example/v1/devices?pageToken=abc");
        assert!(check_scheme("http://127.0.0.1:8080/x").is_ok());
        assert!(check_scheme("http://[::1]:80/x").is_ok());
        assert!(check_scheme("http://jamf.example/x").is_err());
        assert!(check_scheme("http://localhost.evil.example/x").is_err());
        assert!(check_scheme("ftp://h/x").is_err());
        let now = chrono::DateTime::parse_from_rfc3339("2026-12-03T10:00:00Z").unwrap().to_utc();
        assert_eq!(retry_after("7", now), Some(Duration::from_secs(7)));
        assert_eq!(retry_after("Thu, 03 Dec 2026 10:00:30 GMT", now), Some(Duration::from_secs(30)));
        assert_eq!(retry_after("Mon, 01 Jan 2001 00:00:00 GMT", now), Some(Duration::ZERO));
        assert_eq!(retry_after("soon", now), None);
    }
}
