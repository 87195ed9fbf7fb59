//! `evident pull`: each source's server and credentials from evident.toml (secrets from the
//! environment or files it names), one pull per source, a line per page, a summary per source.

use super::args::{Format, PullArgs};
use super::config::PullSource;
use super::out;
use crate::ingest::Options;
use crate::pull::auth::{Auth, Secret, Tokens};
use crate::pull::http::{Client, Policy};
use crate::pull::sources::{Plan, max_page_size};
use crate::pull::{Error, Kind};
use crate::store::Store;
use anyhow::{Result, bail};
use std::process::ExitCode;
use std::time::Duration;

/// The time of a fetch is a fact of the fetch, like a signature's signing time: it comes from the
/// clock. It is recorded with each page; `--as-of` fixes what the records are as of.
#[allow(clippy::disallowed_methods, reason = "a fetch's own time, recorded with the page")]
fn now() -> chrono::DateTime<chrono::Utc> {
    chrono::Utc::now()
}

pub(super) fn run(store: &mut Store, a: &PullArgs, opts: &Options) -> Result<ExitCode> {
    let kinds: Vec<Kind> = if a.all {
        let k: Vec<Kind> = Kind::ALL.into_iter().filter(|k| a.config.source(*k).is_some()).collect();
        if k.is_empty() {
            bail!("--all: evident.toml has no [pull.SOURCE] table\nhint: docs/pull.md shows each source's table");
        }
        k
    } else {
        a.sources.clone()
    };
    let mut results = Vec::new();
    let mut failed = false;
    for kind in kinds {
        match pull_one(store, a, opts, kind) {
            Ok(report) => {
                if a.format == Format::Human {
                    summary(&report)?;
                }
                results.push(serde_json::to_value(&report)?);
            }
            Err(e) => {
                failed = true;
                let hint = e.hint();
                eprintln!("error: {}: {e}", kind.as_str());
                if let Error::Ingest(boxed) = &e
                    && let crate::ingest::RunError::Input(crate::ingest::Error::Rejected { report, .. }) = boxed.as_ref()
                {
                    for r in &report.rejections {
                        eprintln!("  {}", super::safe(&r.in_file(&report.file).to_string()));
                    }
                }
                if let Some(h) = &hint {
                    eprintln!("hint: {h}");
                }
                results.push(serde_json::json!({"source": kind, "error": e.to_string(), "hint": hint, "stored": false}));
            }
        }
    }
    if a.format == Format::Json {
        out!("{}", serde_json::to_string_pretty(&results)?)?;
    }
    Ok(if failed { ExitCode::from(2) } else { ExitCode::SUCCESS })
}

fn pull_one(store: &mut Store, a: &PullArgs, opts: &Options, kind: Kind) -> Result<crate::pull::PullReport, Error> {
    let cfg = a.config.source(kind).ok_or_else(|| Error::Config(format!("evident.toml has no [pull.{}] table (its server and credentials)", kind.as_str())))?;
    let (plan, auth) = setup(kind, cfg)?;
    let c = &a.config;
    let policy = Policy {
        retries: c.retries.unwrap_or(Policy::default().retries),
        timeout: c.timeout.map_or(Policy::default().timeout, Duration::from_secs),
        max_time: c.max_time.map_or(Policy::default().max_time, Duration::from_secs),
        ..Policy::default()
    };
    let ca = a.ca_file.as_deref().or(cfg.ca_file.as_deref()).or(c.ca_file.as_deref());
    let mut client = Client::new(policy, ca, now)?;
    if !a.quiet {
        client.on_retry = Box::new(|m| eprintln!("warning: {}", super::safe(m)));
    }
    let mut tokens = Tokens::new(auth);
    let quiet = a.quiet;
    crate::pull::into_store(store, &plan, &client, &mut tokens, opts, now, &|f, so_far| {
        if !quiet {
            eprintln!("{} page {}: {} items ({so_far} so far), HTTP {}", kind.as_str(), f.page + 1, f.items, f.status);
        }
    })
}

fn summary(r: &crate::pull::PullReport) -> std::io::Result<()> {
    let o = &r.outcome;
    let total = match o.reported_total {
        Some(t) => format!("the source's total {t} ({}) matches", o.total_basis),
        None => "the source states no total".into(),
    };
    let (first, last) = (r.ingests.first().and_then(|p| p.ingest_id), r.ingests.last().and_then(|p| p.ingest_id));
    let rejected: u64 = r.ingests.iter().map(|p| p.counts.rejected).sum();
    let warnings: u64 = r.ingests.iter().map(|p| p.warnings_total).sum();
    let ingests = match (first, last) {
        (Some(f), Some(l)) if f != l => format!("ingests #{f}–#{l}"),
        (Some(f), _) => format!("ingest #{f}"),
        _ => "no ingest".into(),
    };
    out!(
        "pulled {}: {} items in {} pages from {} ({total}); {ingests}, pull #{}; {rejected} rejected, {warnings} warnings",
        r.source.as_str(),
        o.items,
        o.pages,
        super::safe(&r.server),
        r.pull_id
    )
}

/// The source's list and how to sign in to it, from its table.
fn setup(kind: Kind, cfg: &PullSource) -> Result<(Plan, Auth), Error> {
    let need = |v: &Option<String>, key: &str| v.clone().filter(|s| !s.trim().is_empty()).ok_or_else(|| missing(kind, key));
    let google_api = cfg.api.clone().unwrap_or_else(|| "chromeos".into());
    if kind == Kind::Google && !matches!(google_api.as_str(), "chromeos" | "devices") {
        return Err(Error::Config(format!("[pull.google] api = {google_api:?}: expected \"chromeos\" or \"devices\"")));
    }
    let default_base = match (kind, google_api.as_str()) {
        (Kind::Google, "devices") => Some("https://cloudidentity.googleapis.com"),
        _ => kind.default_base(),
    };
    let base = cfg.url.clone().or(default_base.map(String::from)).ok_or_else(|| missing(kind, "url"))?.trim_end_matches('/').to_string();
    let max = max_page_size(kind);
    let page_size = cfg.page_size.unwrap_or(max);
    if page_size == 0 || page_size > max {
        return Err(Error::Config(format!("[pull.{}] page_size = {page_size}: expected 1 to {max}", kind.as_str())));
    }
    let customer = match (cfg.customer.clone(), google_api.as_str()) {
        (Some(c), "devices") if !c.starts_with("customers/") => format!("customers/{c}"),
        (Some(c), _) => c,
        (None, "devices") => "customers/my_customer".into(),
        (None, _) => "my_customer".into(),
    };
    let plan = Plan { kind, base: base.clone(), page_size, customer, google_api: google_api.clone() };
    let secret = secret(kind, cfg)?;
    let auth = match kind {
        Kind::Kandji | Kind::Fleet | Kind::Snipeit => Auth::Bearer(secret),
        Kind::Intune => {
            let tenant = need(&cfg.tenant, "tenant")?;
            let token_url = cfg.token_url.clone().unwrap_or_else(|| format!("https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token"));
            let (client_id, scope) = (need(&cfg.client_id, "client_id")?, Some("https://graph.microsoft.com/.default".to_string()));
            match &cfg.certificate_file {
                Some(p) => {
                    let pem = std::fs::read(p).map_err(|e| Error::Config(format!("[pull.intune] certificate_file {}: {e}", p.display())))?;
                    Auth::client_assertion(token_url, client_id, &pem, &secret, scope)?
                }
                None => Auth::ClientCredentials { token_url, client_id, secret, scope },
            }
        }
        Kind::Jamf => Auth::ClientCredentials {
            token_url: cfg.token_url.clone().unwrap_or_else(|| format!("{base}/api/oauth/token")),
            client_id: need(&cfg.client_id, "client_id")?,
            secret,
            scope: None,
        },
        Kind::Google => {
            let scope = if google_api == "devices" {
                "https://www.googleapis.com/auth/cloud-identity.devices.readonly"
            } else {
                "https://www.googleapis.com/auth/admin.directory.device.chromeos.readonly"
            };
            Auth::service_account(&secret, scope, cfg.subject.clone(), cfg.token_url.clone())?
        }
    };
    Ok((plan, auth))
}

fn missing(kind: Kind, key: &str) -> Error {
    Error::Config(format!("[pull.{}] needs {key}", kind.as_str()))
}

/// The source's secret: the file `secret_file` names, else the variable `secret_env` names, else
/// EVIDENT_<SOURCE>_SECRET. For Google it is the service account's key file (JSON).
fn secret(kind: Kind, cfg: &PullSource) -> Result<Secret, Error> {
    if let Some(p) = &cfg.secret_file {
        let text = std::fs::read_to_string(p).map_err(|e| Error::Config(format!("[pull.{}] secret_file {}: {e}", kind.as_str(), p.display())))?;
        let text = zeroize::Zeroizing::new(text);
        return Ok(Secret::new(text.trim_end_matches(['\n', '\r']).to_string()));
    }
    let var = cfg.secret_env.clone().unwrap_or_else(|| format!("EVIDENT_{}_SECRET", kind.as_str().to_ascii_uppercase()));
    match std::env::var(&var) {
        Ok(v) if !v.is_empty() => Ok(Secret::new(v)),
        _ => Err(Error::Config(format!(
            "[pull.{}]: no secret: set the environment variable {var}, or name a file with secret_file (never on the command line)",
            kind.as_str()
        ))),
    }
}
