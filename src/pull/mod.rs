//! Fetching a source's whole device list from its API: every page, each kept byte for byte as
//! an ingest read by the source's own reader, the pages' sum checked against the total the
//! source states, all in one store transaction (every page, or nothing).

pub mod auth;
pub mod http;
pub mod sources;

use crate::ingest::{Options, Report, RunError, SourceKind};
use crate::store::{PullSummary, PulledPage, Store};
use auth::Tokens;
use chrono::{DateTime, Utc};
use http::{Client, Request};
use sources::Plan;

/// The sources evident pulls from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, clap::ValueEnum, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// Microsoft Intune through Microsoft Graph (`managedDevices`).
    Intune,
    /// Jamf Pro API (`/api/v1/computers-inventory`).
    Jamf,
    /// Kandji API (`/api/v1/devices`).
    Kandji,
    /// Fleet (`/api/v1/fleet/hosts`).
    Fleet,
    /// Snipe-IT (`/api/v1/hardware`).
    Snipeit,
    /// Google Admin SDK ChromeOS devices, or Cloud Identity devices.
    Google,
}

impl Kind {
    pub const ALL: [Kind; 6] = [Kind::Intune, Kind::Jamf, Kind::Kandji, Kind::Fleet, Kind::Snipeit, Kind::Google];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Intune => "intune",
            Kind::Jamf => "jamf",
            Kind::Kandji => "kandji",
            Kind::Fleet => "fleet",
            Kind::Snipeit => "snipeit",
            Kind::Google => "google",
        }
    }

    /// The reader that reads its pages.
    pub fn reader(self) -> SourceKind {
        match self {
            Kind::Intune => SourceKind::IntuneGraph,
            Kind::Jamf => SourceKind::JamfApi,
            Kind::Kandji => SourceKind::KandjiApi,
            Kind::Fleet => SourceKind::FleetApi,
            Kind::Snipeit => SourceKind::SnipeitApi,
            Kind::Google => SourceKind::GoogleApi,
        }
    }
}

/// Why a pull failed. The store is as it was.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Config(String),
    #[error("{url}: {message}")]
    Http { url: String, message: String },
    #[error("{url}: HTTP {status}{}", if .detail.is_empty() { String::new() } else { format!(": {}", .detail) })]
    Status { url: String, status: u16, detail: String },
    #[error("signing in at {url} failed: HTTP {status}: {detail}")]
    Auth { url: String, status: u16, detail: String },
    #[error("{source_name} page {page} ({url}): {message}")]
    Page { source_name: &'static str, url: String, page: u64, message: String },
    #[error("{source_name}: the pages hold {fetched} items but the source says {reported} ({basis}); nothing was stored")]
    Total { source_name: &'static str, fetched: u64, reported: u64, basis: String },
    #[error("{source_name} page {page}: {items} items fetched but the reader read {read} rows; nothing was stored")]
    TieOut { source_name: &'static str, page: u64, items: u64, read: u64 },
    #[error(transparent)]
    Ingest(Box<RunError>),
    #[error(transparent)]
    Store(#[from] crate::store::Error),
}

impl From<RunError> for Error {
    fn from(e: RunError) -> Error {
        Error::Ingest(Box::new(e))
    }
}

impl Error {
    pub fn hint(&self) -> Option<String> {
        let unchanged = "the store was not changed";
        match self {
            Error::Config(_) => Some("see docs/pull.md for each source's settings in evident.toml".into()),
            Error::Http { .. } => Some(format!("{unchanged}; check the URL, the network or proxy (HTTPS_PROXY), and --ca-file for a private CA")),
            Error::Status { status: 401 | 403, .. } => Some(format!("{unchanged}; the credentials lack read access to the device list")),
            Error::Status { .. } | Error::Page { .. } => Some(format!("{unchanged}; run the pull again")),
            Error::Auth { .. } => Some(format!("{unchanged}; check the client id, the secret and (Intune) the tenant")),
            Error::Total { .. } => Some(format!("{unchanged}; the list changed during the pull or the API hides items from these credentials: pull again")),
            Error::TieOut { .. } => Some(format!("{unchanged}; the reader and the page disagree on what a row is: report it with the page's request")),
            Error::Ingest(e) => e.hint(),
            Error::Store(e) => e.hint(),
        }
    }
}

/// A page's first bytes for an error message: printable, short, never a terminal escape.
pub fn snippet(body: &[u8]) -> String {
    let s = String::from_utf8_lossy(&body[..body.len().min(200)]);
    s.chars().map(|c| if c.is_control() { ' ' } else { c }).collect::<String>().trim().to_string()
}

/// One page as fetched.
pub struct Fetched<'a> {
    /// From 0.
    pub page: u64,
    /// The request, secrets removed.
    pub url: String,
    pub status: u16,
    pub fetched_at: DateTime<Utc>,
    pub body: &'a [u8],
    pub items: u64,
}

/// What a pull fetched, in sum.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Outcome {
    pub pages: u64,
    pub items: u64,
    pub reported_total: Option<u64>,
    pub total_basis: String,
    /// Tokens fetched (2 or more when one expired during the pull).
    pub tokens: u32,
}

/// Refuses a pull that never ends (a server that keeps linking).
const MAX_PAGES: u64 = 1_000_000;

/// Fetches every page of `plan`'s list, handing each to `on_page`, and checks their sum against
/// the total the source states. A 401 gets one new token and one more try.
pub fn run(
    plan: &Plan,
    client: &Client,
    tokens: &mut Tokens,
    clock: fn() -> DateTime<Utc>,
    on_page: &mut dyn FnMut(Fetched) -> Result<(), Error>,
) -> Result<Outcome, Error> {
    let name = plan.kind.as_str();
    let (mut reported, mut basis) = (None, "none".to_string());
    if let Some(url) = plan.count_url() {
        let r = get(client, tokens, clock, &url)?;
        reported = Some(sources::read_count(&r.body).map_err(|m| Error::Page { source_name: name, url: http::redact(&url), page: 0, message: m })?);
        basis = format!("GET {}", http::redact(&url));
    }
    let (mut url, mut n, mut items) = (plan.first(), 0u64, 0u64);
    let mut seen = std::collections::HashSet::new();
    loop {
        let r = get(client, tokens, clock, &url)?;
        let fetched_at = clock();
        let info = plan.read(&r.body, n, items).map_err(|m| plan.kind.bad_page(&url, n, m))?;
        if let Some(t) = info.total {
            match reported {
                Some(prev) if prev != t && plan.count_url().is_none() => {
                    return Err(plan.kind.bad_page(&url, n, format!("the total changed during the pull ({prev}, now {t}); nothing was stored")));
                }
                None => (reported, basis) = (Some(t), total_field(plan.kind).into()),
                _ => {}
            }
        }
        on_page(Fetched { page: n, url: http::redact(&url), status: r.status, fetched_at, body: &r.body, items: info.items })?;
        items += info.items;
        n += 1;
        match info.next {
            None => break,
            Some(next) if !seen.insert(next.clone()) => {
                return Err(plan.kind.bad_page(&next, n, "the server links back to a page already fetched".into()));
            }
            Some(next) if n >= MAX_PAGES => return Err(plan.kind.bad_page(&next, n, format!("more than {MAX_PAGES} pages"))),
            Some(next) => url = next,
        }
    }
    if let Some(t) = reported.filter(|t| *t != items) {
        return Err(Error::Total { source_name: name, fetched: items, reported: t, basis });
    }
    Ok(Outcome { pages: n, items, reported_total: reported, total_basis: basis, tokens: tokens.fetched })
}

/// Where each source's page states the total.
fn total_field(kind: Kind) -> &'static str {
    match kind {
        Kind::Intune => "@odata.count",
        Kind::Jamf => "totalCount",
        Kind::Snipeit => "total",
        _ => "none",
    }
}

/// A GET with the current token; on 401, one new token and one more try.
fn get(client: &Client, tokens: &mut Tokens, clock: fn() -> DateTime<Utc>, url: &str) -> Result<http::Response, Error> {
    let mut refreshed = false;
    loop {
        let token = tokens.get(client, clock().timestamp())?;
        let r = client.send(&Request::Get { url, bearer: Some(&token) })?;
        match r.status {
            200 => return Ok(r),
            401 if !refreshed && tokens.expire() => refreshed = true,
            status => return Err(Error::Status { url: http::redact(url), status, detail: snippet(&r.body) }),
        }
    }
}

/// What a pull into the store did.
#[derive(Debug, serde::Serialize)]
pub struct PullReport {
    pub source: Kind,
    pub pull_id: i64,
    pub server: String,
    pub started_at: String,
    pub finished_at: String,
    #[serde(flatten)]
    pub outcome: Outcome,
    /// Each page's ingest report, in page order.
    pub ingests: Vec<Report>,
}

/// Pulls `plan`'s list into the store in one transaction: each page an ingest read by the
/// source's reader (as of `opts.as_of`, else the pull's start), tied out against the items the
/// page holds; the pull's sum checked against the source's total. Any failure stores nothing.
pub fn into_store(
    store: &mut Store,
    plan: &Plan,
    client: &Client,
    tokens: &mut Tokens,
    opts: &Options,
    clock: fn() -> DateTime<Utc>,
    progress: &dyn Fn(&Fetched, u64),
) -> Result<PullReport, Error> {
    let started = clock();
    let started_text = crate::model::instant_text(&started);
    let server = http::redact(&plan.base);
    let mut tx = store.begin_pull(plan.kind.as_str(), &server, &started_text)?;
    let pull_id = tx.pull_id();
    let mut opts = opts.clone();
    opts.source = Some(plan.kind.reader());
    opts.pulled = true;
    opts.as_of = opts.as_of.or(Some(started));
    let stamp = started.format("%Y%m%dT%H%M%SZ");
    let mut pages = Vec::new();
    let mut total = 0;
    let outcome = run(plan, client, tokens, clock, &mut |f| {
        let sha256 = crate::ingest::row::hex_digest(f.body);
        let name = format!("{}-{stamp}-page-{:04}.json", plan.kind.as_str(), f.page + 1);
        let ingest = tx.begin_ingest(&name, f.body, &sha256)?;
        let report = crate::ingest::ingest_in(ingest, &name, f.body, sha256, &opts, &())?;
        let read = report.counts.read;
        if read != f.items {
            return Err(Error::TieOut { source_name: plan.kind.as_str(), page: f.page + 1, items: f.items, read });
        }
        let fetched_at = crate::model::instant_text(&f.fetched_at);
        let ingest_id = report.ingest_id.expect("a committed ingest has an id");
        tx.page(&PulledPage { ingest_id, page: f.page + 1, url: &f.url, status: f.status, fetched_at: &fetched_at, items: f.items })?;
        total += f.items;
        progress(&f, total);
        pages.push(report);
        Ok(())
    })?;
    let finished = crate::model::instant_text(&clock());
    tx.commit(&PullSummary {
        finished_at: &finished,
        pages: outcome.pages,
        items: outcome.items,
        reported_total: outcome.reported_total,
        total_basis: &outcome.total_basis,
    })?;
    Ok(PullReport { source: plan.kind, pull_id, server, started_at: started_text, finished_at: finished, outcome, ingests: pages })
}
