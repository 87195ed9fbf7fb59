//! evident.toml: defaults a team keeps beside its store instead of repeating flags (store path,
//! organisation, source time zone, status map, controls, the keys each role signs with).
//! A flag or its environment variable always wins over the file.

use super::args::{CertificateCommand, Cli, Command, ControlsCommand};
use anyhow::{Context, Result, anyhow};
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// The file's name, looked for in the working directory, then beside the store.
pub const FILE: &str = "evident.toml";

/// What evident.toml may say. Relative paths are relative to the file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub store: Option<PathBuf>,
    pub organisation: Option<String>,
    pub source_tz: Option<String>,
    pub status_map: Option<PathBuf>,
    pub controls: Option<PathBuf>,
    /// Time-Stamping Authorities `pack` asks (RFC 3161 URLs, tried in order).
    #[serde(default)]
    pub tsa: Vec<String>,
    #[serde(default)]
    pub keys: Keys,
    /// `evident pull`: how patient to be, and each source's server and credentials.
    #[serde(default)]
    pub pull: Pull,
}

/// `[pull]` and its `[pull.SOURCE]` tables (docs/pull.md).
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pull {
    /// Attempts after the first for 429, 5xx and broken transfers.
    pub retries: Option<u32>,
    /// Seconds per request.
    pub timeout: Option<u64>,
    /// Seconds for a whole pull.
    pub max_time: Option<u64>,
    /// PEM roots to trust instead of the platform's (an on-premises server with a private CA).
    pub ca_file: Option<PathBuf>,
    pub intune: Option<PullSource>,
    pub jamf: Option<PullSource>,
    pub kandji: Option<PullSource>,
    pub fleet: Option<PullSource>,
    pub snipeit: Option<PullSource>,
    pub google: Option<PullSource>,
}

/// One source's server and credentials. Secrets are named here, never written here: an
/// environment variable (`secret_env`) or a file (`secret_file`).
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PullSource {
    pub url: Option<String>,
    pub token_url: Option<String>,
    pub tenant: Option<String>,
    pub client_id: Option<String>,
    pub secret_env: Option<String>,
    pub secret_file: Option<PathBuf>,
    /// Intune: sign in with this certificate (PEM) instead of a client secret; the secret is then
    /// its private key.
    pub certificate_file: Option<PathBuf>,
    pub customer: Option<String>,
    pub subject: Option<String>,
    pub api: Option<String>,
    pub page_size: Option<u64>,
    pub ca_file: Option<PathBuf>,
}

impl Pull {
    /// The section of a source, if the file has one.
    pub fn source(&self, kind: crate::pull::Kind) -> Option<&PullSource> {
        use crate::pull::Kind;
        match kind {
            Kind::Intune => self.intune.as_ref(),
            Kind::Jamf => self.jamf.as_ref(),
            Kind::Kandji => self.kandji.as_ref(),
            Kind::Fleet => self.fleet.as_ref(),
            Kind::Snipeit => self.snipeit.as_ref(),
            Kind::Google => self.google.as_ref(),
        }
    }
}

/// The private key each role signs with.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Keys {
    pub compliance: Option<PathBuf>,
    pub performer: Option<PathBuf>,
    pub verifier: Option<PathBuf>,
}

impl Config {
    /// Reads a config file; an error names the file, line and column.
    pub fn load(path: &Path) -> Result<Config> {
        let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let mut c: Config = toml::from_str(&text).map_err(|e| {
            let (line, col) = e.span().map_or((1, 1), |s| {
                let before = &text[..s.start.min(text.len())];
                (before.matches('\n').count() + 1, before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1)
            });
            anyhow!(
                "{}:{line}:{col}: {}\nhint: the keys are store, organisation, source_tz, status_map, controls, tsa, [keys] compliance, performer, verifier, and [pull] (docs/pull.md)",
                path.display(),
                e.message()
            )
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        let rebase = |p: &mut Option<PathBuf>| {
            if let Some(v) = p.as_mut().filter(|v| v.is_relative()) {
                *v = base.join(&*v);
            }
        };
        for p in [&mut c.store, &mut c.status_map, &mut c.controls, &mut c.keys.compliance, &mut c.keys.performer, &mut c.keys.verifier, &mut c.pull.ca_file] {
            rebase(p);
        }
        for s in [&mut c.pull.intune, &mut c.pull.jamf, &mut c.pull.kandji, &mut c.pull.fleet, &mut c.pull.snipeit, &mut c.pull.google].into_iter().flatten() {
            rebase(&mut s.secret_file);
            rebase(&mut s.certificate_file);
            rebase(&mut s.ca_file);
        }
        Ok(c)
    }
}

/// The config that applies: `--config` (or EVIDENT_CONFIG), else evident.toml in the working
/// directory, else beside the store named by `--store`; none is fine.
fn find(cli: &Cli) -> Result<Option<(PathBuf, Config)>> {
    let path = match &cli.config {
        Some(p) => Some(p.clone()),
        None => [Some(PathBuf::from(FILE)), cli.store.store.as_ref().map(|s| s.with_file_name(FILE))].into_iter().flatten().find(|p| p.is_file()),
    };
    path.map(|p| Config::load(&p).map(|c| (p, c))).transpose()
}

/// The config's value where the command line gave none.
fn fill<T: Clone>(slot: &mut Option<T>, v: &Option<T>) {
    if slot.is_none() {
        slot.clone_from(v);
    }
}

/// Fills what the command line left out from the config, and the store's default.
pub fn apply(cli: &mut Cli) -> Result<()> {
    let Some((_, c)) = find(cli)? else {
        cli.store.store.get_or_insert_with(|| PathBuf::from("evident.db"));
        return Ok(());
    };
    if cli.store.store.is_none() {
        cli.store.store = Some(c.store.clone().unwrap_or_else(|| PathBuf::from("evident.db")));
    }
    match &mut cli.command {
        Command::Ingest(a) => {
            fill(&mut a.source_tz, &c.source_tz);
            fill(&mut a.status_map, &c.status_map);
        }
        Command::Evaluate(a) => {
            fill(&mut a.scope.dir.controls, &c.controls);
            fill(&mut a.scope.organisation, &c.organisation);
        }
        Command::Pack(a) => {
            fill(&mut a.scope.dir.controls, &c.controls);
            fill(&mut a.scope.organisation, &c.organisation);
            fill(&mut a.key, &c.keys.compliance);
            if a.tsa.is_empty() {
                a.tsa = c.tsa.clone();
            }
        }
        Command::Controls(ControlsCommand::Check { dir, .. } | ControlsCommand::List { dir, .. } | ControlsCommand::Show { dir, .. }) => {
            fill(&mut dir.controls, &c.controls);
        }
        Command::Pull(a) => {
            fill(&mut a.source_tz, &c.source_tz);
            fill(&mut a.status_map, &c.status_map);
            *a.config = c.pull.clone();
        }
        Command::Certificate(CertificateCommand::New(a)) => {
            fill(&mut a.organisation, &c.organisation);
        }
        Command::Certificate(CertificateCommand::Sign(a)) => fill(&mut a.signer.key, &c.keys.performer),
        Command::Certificate(CertificateCommand::Countersign(a)) => fill(&mut a.signer.key, &c.keys.verifier),
        Command::Certificate(CertificateCommand::Revoke(a)) => fill(&mut a.signer.key, &c.keys.performer),
        _ => {}
    }
    Ok(())
}
