//! The command line: dispatch, printing, and `anyhow` context. The only module that prints.
#![allow(clippy::disallowed_macros, reason = "the CLI is the one place that prints errors and hints")]

pub mod args;
mod certificate;
mod audit;
pub mod config;
mod pull;

use crate::ingest::{self, Options, Progress, Report};
use crate::model::{Instant, Lifecycle};
use crate::store::Store;
use anyhow::{Context, Result, anyhow, bail};
use args::{Cli, Command, Format, IngestArgs};
use std::io::IsTerminal;
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

/// Writes one line to standard output and returns the write's result: a closed pipe or a full
/// disk is an error the command returns (main ends a closed pipe quietly with exit 0).
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout().lock(), $($arg)*)
    }};
}
pub(crate) use out;

/// Runs a parsed command line and returns the exit code.
pub fn run(mut cli: Cli) -> Result<ExitCode> {
    config::apply(&mut cli)?;
    let store_path = cli.store.store.clone().expect("config::apply sets the store");
    let wait = Duration::from_secs(cli.store.wait);
    let open = || -> Result<Store> {
        Store::open_existing(&store_path, wait).map_err(|e| {
            let hint = e.hint();
            with_hint(e, hint)
        })
    };
    // `ingest` and `pull` make the store when it does not exist yet.
    let create = || -> Result<Store> {
        Store::open(&store_path, wait).map_err(|e| {
            let hint = e.hint();
            with_hint(e, hint)
        })
    };
    match &cli.command {
        Command::Ingest(args) => {
            let opts = options(args)?;
            check_ingest(args, &opts)?;
            let mut store = create()?;
            ingest(&mut store, args, &opts)
        }
        Command::Retract(a) => retract(&mut open()?, a),
        Command::Pull(a) => {
            let opts = Options {
                source_tz: source_tz(a.source_tz.as_deref())?,
                as_of: a.as_of.as_deref().map(parse_as_of).transpose()?,
                status_map: status_map(a.status_map.as_deref())?,
                allow_rejects: a.allow_rejects,
                ..Options::default()
            };
            let mut store = create()?;
            pull::run(&mut store, a, &opts)
        }
        Command::Assets(args) => {
            let store = open()?;
            let view = crate::view::assets(&store)?;
            match args.format {
                Format::Json => out!("{}", serde_json::to_string_pretty(&view)?)?,
                Format::Human => print_assets(&view, args.wide)?,
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Ingests(f) => {
            let store = open()?;
            let rows = store.ingests()?;
            match f.format {
                Format::Json => out!("{}", serde_json::to_string_pretty(&rows)?)?,
                Format::Human => print_ingests(&rows)?,
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Controls(c) => controls_cmd(c),
        Command::Evaluate(a) => {
            let store = open()?;
            evaluate_cmd(&store, a)
        }
        Command::Keygen(a) => keygen(a),
        Command::Pack(a) => {
            let mut store = open()?;
            pack(&mut store, a)
        }
        Command::Certificate(c) => certificate::run(c, &open, &store_path),
        Command::Verify(a) => verify(a),
        Command::Sample(a) => audit::sample(a),
        Command::Trace(a) => audit::trace(a, &open),
        Command::Diff(a) => diff(a),
        Command::Completions { shell } => generated(Some(*shell)),
        Command::Man => generated(None),
    }
}

/// Takes an ingest out of evaluation, with its reason.
fn retract(store: &mut Store, a: &args::RetractArgs) -> Result<ExitCode> {
    if a.reason.trim().is_empty() {
        bail!("--reason is empty\nhint: say why the ingest no longer counts; the reason goes into every later pack");
    }
    store.retract(a.ingest, a.reason.trim()).map_err(|e| {
        let hint = e.hint();
        with_hint(e, hint)
    })?;
    match a.format {
        Format::Json => out!("{}", serde_json::to_string_pretty(&serde_json::json!({"retracted": a.ingest, "reason": a.reason.trim()}))?)?,
        Format::Human => out!("ingest #{} retracted: it stays in the store and in later packs' audit trail, out of evaluation", a.ingest)?,
    }
    Ok(ExitCode::SUCCESS)
}

/// Shell completions (a shell given) or the man page, generated from the argument definitions.
fn generated(shell: Option<clap_complete::Shell>) -> Result<ExitCode> {
    let mut cmd = <args::Cli as clap::CommandFactory>::command();
    let mut buf = Vec::new();
    match shell {
        Some(shell) => clap_complete::generate(shell, &mut cmd, "evident", &mut buf),
        None => clap_mangen::Man::new(cmd).render(&mut buf)?,
    }
    std::io::Write::write_all(&mut std::io::stdout().lock(), &buf)?;
    Ok(ExitCode::SUCCESS)
}

/// Refuses what an ingest cannot do before the store is created or opened.
fn check_ingest(args: &IngestArgs, opts: &Options) -> Result<()> {
    if opts.supersedes.is_some() && args.files.len() != 1 {
        bail!("--supersedes takes exactly one file (the export that corrects that ingest)");
    }
    let stdin = args.files.iter().filter(|f| f.as_os_str() == "-").count();
    if stdin > 1 {
        bail!("`-` (standard input) can be read once per ingest");
    }
    if stdin == 1 && opts.source.is_none() {
        bail!(
            "`-` reads an export from standard input, which has no file name to tell its format by\nhint: name the format with --source (see `evident ingest --help` for the list)"
        );
    }
    Ok(())
}

/// Adds a `hint:` line under the error, as every evident error has where one helps.
fn with_hint<E: std::error::Error + Send + Sync + 'static>(e: E, hint: Option<String>) -> anyhow::Error {
    match hint {
        Some(h) => anyhow!("{e}\nhint: {h}"),
        None => anyhow!(e),
    }
}

/// An encrypted key's passphrase: `--passphrase-file`, else EVIDENT_KEY_PASSPHRASE, else asked
/// on a terminal (not echoed); none otherwise. Never taken from the command line, never printed.
pub(crate) fn passphrase(file: Option<&Path>, what: &str, confirm: bool) -> std::result::Result<Option<crate::sign::Passphrase>, crate::sign::Error> {
    use crate::sign::{Error, Passphrase};
    if let Some(f) = file {
        let text = zeroize::Zeroizing::new(std::fs::read_to_string(f).map_err(|err| Error::Io { path: f.into(), err })?);
        return Ok(Some(Passphrase(zeroize::Zeroizing::new(text.trim_end_matches(['\n', '\r']).to_string()))));
    }
    if let Ok(p) = std::env::var("EVIDENT_KEY_PASSPHRASE") {
        return Ok(Some(Passphrase(zeroize::Zeroizing::new(p))));
    }
    if !(std::io::stdin().is_terminal() && std::io::stderr().is_terminal()) {
        return Ok(None);
    }
    let ask = |prompt: &str| rpassword::prompt_password(prompt).map(zeroize::Zeroizing::new).map_err(|err| Error::Io { path: "/dev/tty".into(), err });
    let first = ask(&format!("passphrase for {what}: "))?;
    if confirm && *ask("again: ")? != *first {
        return Err(Error::BadPassphrase { path: what.into(), why: "the two entries differ".into() });
    }
    Ok(Some(Passphrase(first)))
}

/// Loads a private key, asking for its passphrase only if it is encrypted.
fn load_key(path: &Path, file: Option<&Path>) -> std::result::Result<crate::sign::SecretKey, crate::sign::Error> {
    crate::sign::SecretKey::load_with(path, &|| passphrase(file, &path.display().to_string(), false))
}

fn keygen(a: &args::KeygenArgs) -> Result<ExitCode> {
    let hinted = |e: crate::sign::Error| {
        let h = e.hint().map(String::from);
        with_hint(e, h)
    };
    let pass = if a.no_passphrase { None } else { passphrase(a.passphrase_file.as_deref(), "the new key", true).map_err(hinted)? };
    let files = crate::sign::keygen(a.role, &a.name, &a.out, pass.as_ref()).map_err(hinted)?;
    match a.format {
        Format::Json => out!("{}", serde_json::to_string_pretty(&files)?)?,
        Format::Human => {
            out!("key id      {}", files.key_id)?;
            out!("role        {}", files.role)?;
            let sealed = if pass.is_some() {
                "encrypted with your passphrase"
            } else {
                "NOT encrypted: --passphrase-file, EVIDENT_KEY_PASSPHRASE or a terminal encrypts it"
            };
            out!("private key {} (mode 0600, {sealed}: keep it secret, never share it)", files.private_key.display())?;
            out!("public key  {}", files.public_key.display())?;
            out!("trust line  {} (give this to the auditor)", files.trust_file.display())?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The scope from --as-of / --period, or the date of SOURCE_DATE_EPOCH.
fn scope(a: &args::ScopeArgs) -> Result<crate::ledger::Scope> {
    let epoch_date = std::env::var("SOURCE_DATE_EPOCH").ok().filter(|_| a.as_of.is_none() && a.period.is_none()).map(|v| -> Result<String> {
        let secs: i64 = v.trim().parse().with_context(|| format!("SOURCE_DATE_EPOCH '{v}' is not a number of seconds"))?;
        let t = chrono::DateTime::from_timestamp(secs, 0).ok_or_else(|| anyhow!("SOURCE_DATE_EPOCH '{v}' is out of range"))?;
        Ok(t.format("%Y-%m-%d").to_string())
    });
    let epoch_date = epoch_date.transpose()?;
    crate::ledger::Scope::parse(a.as_of.as_deref().or(epoch_date.as_deref()), a.period.as_deref())
        .map_err(|e| anyhow!("{e}\nhint: packs are dated by the records, never by the clock"))
}

fn library(dir: &args::ControlsDir) -> Result<crate::controls::Library> {
    let path = match &dir.controls {
        Some(p) => p.clone(),
        None if std::path::Path::new("controls").is_dir() => "controls".into(),
        None => return Ok(crate::controls::Library::builtin()),
    };
    crate::controls::Library::load(&path).map_err(|p| {
        let h = p.hint().to_string();
        with_hint(p, Some(h))
    })
}

fn controls_cmd(c: &args::ControlsCommand) -> Result<ExitCode> {
    use args::ControlsCommand::*;
    match c {
        Check { dir, format } => {
            let lib = library(dir)?;
            let maps: usize = lib.controls.iter().map(|l| l.control.maps.len()).sum();
            match format {
                Format::Json => {
                    let catalogs: std::collections::BTreeMap<String, usize> = lib.catalogs.values().map(|c| (c.framework.to_string(), c.items.len())).collect();
                    out!(
                        "{}",
                        serde_json::to_string_pretty(&serde_json::json!({"ok": true, "controls": lib.controls.len(), "mappings": maps, "catalogs": catalogs}))?
                    )?
                }
                Format::Human => {
                    let cats: Vec<String> = lib.catalogs.values().map(|c| format!("{} ({} items)", c.framework, c.items.len())).collect();
                    out!("ok: {} controls, {maps} mappings checked against {}", lib.controls.len(), cats.join(", "))?
                }
            }
        }
        List { dir, format } => {
            let lib = library(dir)?;
            match format {
                Format::Json => out!("{}", serde_json::to_string_pretty(&lib.controls.iter().map(|l| &l.control).collect::<Vec<_>>())?)?,
                Format::Human => {
                    for l in &lib.controls {
                        let c = &l.control;
                        let id = format!("{}@{}", c.id, c.version);
                        let test = serde_json::to_value(c.test)?.as_str().unwrap_or("").to_string();
                        out!("{id:<14} {test:<28} {:<6} {}", serde_json::to_value(c.kind)?.as_str().unwrap_or(""), c.title)?;
                    }
                }
            }
        }
        Show { id, dir, format } => {
            let lib = library(dir)?;
            let l = lib.get(id).ok_or_else(|| anyhow!("no control '{id}'\nhint: `evident controls list` shows the ids"))?;
            match format {
                Format::Json => out!("{}", serde_json::to_string_pretty(&l.control)?)?,
                Format::Human => {
                    let c = &l.control;
                    out!("{}@{}  {}\n  file {} (sha256 {})", c.id, c.version, c.title, l.file, &l.sha256[..16])?;
                    out!(
                        "  test {}  kind {}  nature {}  frequency {}",
                        serde_json::to_value(c.test)?,
                        serde_json::to_value(c.kind)?,
                        serde_json::to_value(c.nature)?,
                        serde_json::to_value(c.frequency)?
                    )?;
                    out!("  {}", c.statement)?;
                    for (k, v) in &c.params {
                        out!("  param {k} = {v}")?;
                    }
                    for m in &c.maps {
                        let title = lib.catalogs.get(&m.framework).and_then(|cat| cat.items.iter().find(|i| i.id == m.id)).map_or("", |i| i.title.as_str());
                        out!(
                            "  maps {} {} {title} [{}; {}; confidence {}]{}",
                            m.framework,
                            m.id,
                            serde_json::to_value(m.relationship)?.as_str().unwrap_or(""),
                            serde_json::to_value(m.rationale)?.as_str().unwrap_or(""),
                            serde_json::to_value(m.confidence)?.as_str().unwrap_or(""),
                            if m.pof.is_empty() { String::new() } else { format!(" PoF: {}", m.pof.join("; ")) }
                        )?;
                    }
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Loads controls and exceptions and evaluates them for the scope: keeping every item (JSON
/// prints them all) or the failing and excepted ones (all the text shows; memory stays flat).
fn run_evaluation(store: &Store, a: &args::ScopeArgs, every_item: bool) -> Result<(crate::controls::Library, crate::evaluate::Evaluation)> {
    let (lib, exceptions, organisation, scope) = evaluation_inputs(a)?;
    let bar = Steps::new();
    let req = crate::evaluate::Request { organisation, scope, cadence: a.cadence, exceptions: &exceptions, progress: &bar };
    let ev = if every_item {
        crate::evaluate::evaluate(store, &lib, &req)?
    } else {
        crate::evaluate::evaluate_into(store, &lib, &req, &mut crate::evaluate::Findings)?
    };
    Ok((lib, ev))
}

type Inputs = (crate::controls::Library, Vec<crate::controls::schema::Exception>, Option<String>, crate::ledger::Scope);

/// The controls, exceptions, organisation and scope an evaluation is asked for.
fn evaluation_inputs(a: &args::ScopeArgs) -> Result<Inputs> {
    let scope = scope(a)?;
    let lib = library(&a.dir)?;
    let exceptions = match &a.exceptions {
        Some(p) => crate::controls::load_exceptions(p, &lib).map_err(|e| {
            let h = e.hint().to_string();
            with_hint(e, Some(h))
        })?,
        None => Vec::new(),
    };
    let organisation = a.organisation.as_deref().map(str::trim).filter(|o| !o.is_empty()).map(String::from);
    Ok((lib, exceptions, organisation, scope))
}

fn evaluate_cmd(store: &Store, a: &args::EvaluateArgs) -> Result<ExitCode> {
    let (lib, ev) = run_evaluation(store, &a.scope, a.format == Format::Json && a.framework.is_none())?;
    let grouped = match a.framework {
        Some(f) => Some(crate::evaluate::by_framework(&ev, &lib, f.key()).ok_or_else(|| anyhow!("no catalog for framework {}", f.key()))?),
        None => None,
    };
    match (a.format, &grouped) {
        (Format::Json, None) => out!("{}", serde_json::to_string_pretty(&ev)?)?,
        (Format::Json, Some(g)) => {
            out!("{}", serde_json::to_string_pretty(&serde_json::json!({"scope": ev.scope, "framework": a.framework.map(|f| f.key()), "criteria": g}))?)?
        }
        (Format::Human, None) => print_evaluation(&ev)?,
        (Format::Human, Some(g)) => print_criteria(g, a.soa)?,
    }
    let denied = match a.deny {
        None => false,
        Some(args::Deny::Fail) => ev.failed(),
        Some(args::Deny::NoEvidence) => ev.failed() || ev.without_evidence(),
    };
    Ok(if denied { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

fn print_evaluation(ev: &crate::evaluate::Evaluation) -> std::io::Result<()> {
    if let Some(o) = &ev.organisation {
        out!("organisation {o}")?;
    }
    out!("evaluation {} (sample dates: {})", ev.scope, ev.sample_dates.iter().map(|d| d.to_string()).collect::<Vec<_>>().join(", "))?;
    for c in &ev.controls {
        let times = if c.dates.len() > 1 { format!(" (items × {} sample dates)", c.dates.len()) } else { String::new() };
        let counts = format!("{} in population{times}: {} pass, {} fail, {} excepted", c.population, c.passed, c.failed, c.excepted);
        let status = match c.status {
            crate::evaluate::Status::NotApplicable => "N/A".to_string(),
            crate::evaluate::Status::NoEvidence => "NO-EV".to_string(),
            s => s.as_str().to_uppercase(),
        };
        // The counts when anything was tested; else why nothing was (missing dates are listed below).
        let without: Vec<_> = c.dates.iter().filter(|d| !d.missing.is_empty()).collect();
        let headline = match &c.note {
            _ if c.population > 0 => counts,
            _ if !without.is_empty() => format!("no evidence in force at {} of {} sample dates", without.len(), c.dates.len()),
            Some(n) => n.clone(),
            None => counts,
        };
        out!("{status:<5} {:<11} {headline}", c.id)?;
        if c.dates.len() > 1 {
            let row: Vec<String> = c.dates.iter().map(|d| format!("{} {} ({})", d.date, d.status.as_str(), d.population)).collect();
            out!("        by date: {}", row.join(" | "))?;
        }
        for d in c.dates.iter().filter(|d| !d.missing.is_empty()) {
            out!("        {} no evidence: {}", d.date, d.missing.join("; "))?;
        }
        if c.out_of_scope > 0 {
            out!("        {} devices out of scope by ownership (not failed)", c.out_of_scope)?;
        }
        for i in c.items.iter().filter(|i| i.outcome != crate::evaluate::Outcome::Pass) {
            out!("        {} {} {}: {}", i.date, i.item, i.asset_tag.as_deref().unwrap_or("-"), i.reason)?;
        }
        for d in c.exceptions.iter().filter(|d| d.disposition == crate::evaluate::DispositionKind::Expired) {
            out!("        exception for {} expired on {}", d.exception.item, d.exception.expires)?;
        }
    }
    for w in &ev.withdrawn {
        let why = match (&w.retracted, &w.superseded_by) {
            (Some(r), _) => format!("retracted: {r}"),
            (None, Some(by)) => format!("superseded by {by}"),
            (None, None) => String::new(),
        };
        out!("withdrawn: {} ({}, as of {}) — {why}; kept in the audit trail, not evaluated", w.file, w.source, w.as_of.as_deref().unwrap_or("undated"))?;
    }
    for e in &ev.unused_exceptions {
        out!("warning: exception for {} under {} matched no failing item", e.item, e.control)?;
    }
    out!("tie-out:")?;
    for t in &ev.tie_out {
        out!(
            "  {:<34} {:<13} read {} = accepted {} + rejected {} + empty {}; {} records stored",
            t.file,
            t.source,
            t.read,
            t.accepted,
            t.rejected,
            t.empty,
            t.records_stored
        )?;
    }
    Ok(())
}

fn print_criteria(g: &[crate::evaluate::Criterion], soa: bool) -> std::io::Result<()> {
    for c in g {
        if soa {
            let by = if c.controls.is_empty() {
                "not evidenced by evident".to_string()
            } else {
                format!("evidenced by {}", c.controls.iter().map(|x| format!("{} ({})", x.id, x.status.as_str())).collect::<Vec<_>>().join(", "))
            };
            out!("{:<7} {:<9} {:<60} {}", c.id, c.status, c.title, by)?;
        } else {
            out!("{:<7} {:<9} {}", c.id, c.status, c.title)?;
            for x in &c.controls {
                out!("          {:<11} {:<14} {:?}/{:?}", x.id, x.status.as_str(), x.relationship, x.confidence)?;
            }
        }
    }
    Ok(())
}

fn pack(store: &mut Store, a: &args::PackArgs) -> Result<ExitCode> {
    if a.scope.organisation.as_deref().is_none_or(|o| o.trim().is_empty()) {
        bail!(
            "a pack names whose evidence it is: --organisation is missing\nhint: --organisation \"Fernhill Labs GmbH\" (or EVIDENT_ORGANISATION); it goes into the results, the report and the OSCAL files"
        );
    }
    let (lib, exceptions, organisation, scope) = evaluation_inputs(&a.scope)?;
    let bar = Steps::new();
    let ereq = crate::evaluate::Request { organisation, scope: scope.clone(), cadence: a.scope.cadence, exceptions: &exceptions, progress: &bar };
    let key_path = a.key.as_deref().ok_or_else(|| anyhow!("no --key\nhint: --key COMPLIANCE_KEY, or `[keys] compliance = \"…\"` in evident.toml"))?;
    let key =
        load_key(key_path, a.passphrase_file.as_deref()).and_then(|k| k.check_role(key_path, crate::sign::Role::Compliance).map(|()| k)).map_err(|e| {
            let h = e.hint().map(String::from);
            with_hint(e, h)
        })?;
    let req = crate::pack::Request { scope, key: &key, out: &a.out, archive: a.archive, controls: Some((&lib, &ereq)), progress: &bar, tsa: &a.tsa };
    let built = crate::pack::build(store, &req).map_err(|e| {
        let h = e.hint();
        with_hint(e, h)
    })?;
    match a.format {
        Format::Json => out!("{}", serde_json::to_string_pretty(&built)?)?,
        Format::Human => {
            out!("pack        {} (seq {})", built.dir.display(), built.seq)?;
            if let Some(ar) = &built.archive {
                out!("archive     {}", ar.display())?;
            }
            out!("files       {} ({} bytes)", built.files, built.bytes)?;
            out!("manifest    sha256 {}", built.manifest_sha256)?;
            out!("merkle root {}", built.merkle_root)?;
            out!("signed by   key {}", built.key_id)?;
            for f in &built.left_out {
                out!("left out    {f}: dated after the scope's end")?;
            }
            for f in &built.undated {
                out!("undated     {f}: included; its records carry no time and it was ingested without --as-of")?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn verify(a: &args::VerifyArgs) -> Result<ExitCode> {
    let trust = crate::sign::TrustList::load(&a.trust).map_err(|e| {
        let h = e.hint().map(String::from);
        with_hint(e, h)
    })?;
    let is_sample = crate::sample::is_sample(&a.pack) || (a.sample_pack.is_some() && !crate::verify::is_certificate(&a.pack));
    if is_sample || a.expect == Some(args::Expect::Sample) {
        return audit::verify_sample(a, &trust);
    }
    let is_certificate = crate::verify::is_certificate(&a.pack);
    match (a.expect, is_certificate) {
        (Some(args::Expect::Pack), true) => bail!("{} is a certificate, not a pack (--expect pack)", safe(&a.pack.display().to_string())),
        (Some(args::Expect::Certificate), false) => {
            bail!("{} is not a certificate (.json or .pdf) (--expect certificate)", safe(&a.pack.display().to_string()))
        }
        _ => {}
    }
    if is_certificate {
        if a.checkpoint.is_some() {
            bail!("--checkpoint applies to packs, not to a certificate");
        }
        return verify_certificate(a, &trust);
    }
    let roots = tsa_roots(&a.tsa_trust)?;
    let out = crate::verify::pack_with(&a.pack, &trust, a.since.as_deref(), roots.as_deref())?;
    match a.format {
        Format::Json => out!("{}", serde_json::to_string_pretty(&out)?)?,
        Format::Human => {
            print_checks(&out.checks, 20)?;
            match (&out.signer, out.verified) {
                (Some(s), true) => {
                    let stamped = out.timestamp.as_ref().map(|t| format!("; time-stamped {t}")).unwrap_or_default();
                    out!("verified: {} seq {} signed by {} ({}, key {}){stamped}", safe(&out.pack), out.seq.unwrap_or(0), safe(&s.name), s.role, s.key_id)?
                }
                _ => out!("NOT verified: {} ({} failed checks)", safe(&out.pack), out.checks.iter().filter(|c| !c.ok).count())?,
            }
        }
    }
    if let (Some(path), true) = (&a.checkpoint, out.verified) {
        std::fs::write(path, crate::ledger::to_jsonl(&out.chain)).with_context(|| format!("writing the checkpoint {}", path.display()))?;
        if a.format == Format::Human {
            out!("checkpoint: {} (seq {}; keep it, and verify the next pack with --since {})", path.display(), out.seq.unwrap_or(0), path.display())?;
        }
    }
    Ok(if out.verified { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

/// The TSA roots of `--tsa-trust` (PEM files), or none when not given.
fn tsa_roots(files: &[std::path::PathBuf]) -> Result<Option<Vec<x509_cert::Certificate>>> {
    if files.is_empty() {
        return Ok(None);
    }
    let mut roots = Vec::new();
    for f in files {
        let pem = std::fs::read(f).with_context(|| format!("reading --tsa-trust {}", f.display()))?;
        let certs = crate::timestamp::load_roots(&pem).map_err(|e| anyhow!("{}: {e}", f.display()))?;
        if certs.is_empty() {
            bail!("{}: no certificate in it\nhint: --tsa-trust takes the TSA's root certificate, PEM", f.display());
        }
        roots.extend(certs);
    }
    Ok(Some(roots))
}

fn diff(a: &args::DiffArgs) -> Result<ExitCode> {
    let d = crate::diff::diff(&a.older, &a.newer)?;
    match a.format {
        Format::Json => out!("{}", serde_json::to_string_pretty(&d)?)?,
        Format::Human => {
            out!("from {} to {}", d.older, d.newer)?;
            let st = |s: &Option<String>| s.clone().unwrap_or_else(|| "absent".into());
            if d.status_changed.is_empty() {
                out!("no control changed status")?;
            }
            for c in &d.status_changed {
                out!(
                    "  {:<11} {} -> {}  (failed {} of {} -> {} of {})",
                    c.id,
                    st(&c.older),
                    st(&c.newer),
                    c.older_failed,
                    c.older_population,
                    c.newer_failed,
                    c.newer_population
                )?;
            }
            for c in &d.counts_changed {
                out!(
                    "  {:<11} still {}; failed {} of {} -> {} of {}",
                    c.id,
                    st(&c.newer),
                    c.older_failed,
                    c.older_population,
                    c.newer_failed,
                    c.newer_population
                )?;
            }
            out!("{} item(s) became exceptions", d.became_exceptions.len())?;
            for i in &d.became_exceptions {
                out!("  + {:<11} {} {}: {}", i.control, i.item, i.asset_tag.as_deref().unwrap_or("-"), i.reason)?;
            }
            out!("{} item(s) stopped being exceptions", d.stopped_being_exceptions.len())?;
            for i in &d.stopped_being_exceptions {
                out!("  - {:<11} {} {} (was: {})", i.control, i.item, i.asset_tag.as_deref().unwrap_or("-"), i.reason)?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// One line per verification check: ok/FAIL, its code, what was found.
fn print_checks(checks: &[crate::verify::Check], width: usize) -> std::io::Result<()> {
    for c in checks {
        out!("{:<4}  {:<width$}  {}", if c.ok { "ok" } else { "FAIL" }, c.code, safe(&c.detail))?;
    }
    Ok(())
}

/// Text from a pack, a certificate or a path, made safe for a terminal: control characters
/// (escape sequences that could paint a forged "verified", carriage returns, bells) are shown as
/// `\u{..}` escapes instead of being interpreted.
pub fn safe(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return std::borrow::Cow::Borrowed(text);
    }
    std::borrow::Cow::Owned(text.chars().map(|c| if c.is_control() { c.escape_unicode().to_string() } else { c.to_string() }).collect())
}

fn verify_certificate(a: &args::VerifyArgs, trust: &crate::sign::TrustList) -> Result<ExitCode> {
    if a.since.is_some() {
        bail!("--since applies to packs, not to a certificate");
    }
    let roots = tsa_roots(&a.tsa_trust)?;
    let mut out = crate::verify::certificate_with(&a.pack, trust, roots.as_deref())?;
    // Given the pack it belongs to: is it still current there (not revoked, not superseded)?
    if let (Some(pack), Some(id), Some(sha)) = (&a.sample_pack, out.id.clone(), out.record_sha256.clone()) {
        out.checks.extend(crate::verify::withdrawn(&id, &sha, pack, trust)?);
        out.verified = out.checks.iter().all(|c| c.ok);
    }
    match a.format {
        Format::Json => out!("{}", serde_json::to_string_pretty(&out)?)?,
        Format::Human => {
            print_checks(&out.checks, 30)?;
            if out.verified {
                let who: Vec<String> = out.signers.iter().map(|s| format!("{} ({}, key {})", s.name, s.role, s.key_id)).collect();
                out!("verified: {} {} signed by {}", safe(&out.certificate), safe(out.id.as_deref().unwrap_or("")), safe(&who.join(" and ")))?;
            } else {
                out!("NOT verified: {} ({} failed checks)", safe(&out.certificate), out.checks.iter().filter(|c| !c.ok).count())?;
            }
        }
    }
    Ok(if out.verified { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

/// Parses `--as-of`: RFC 3339, or a date meaning its end (23:59:59Z) in UTC.
/// `--source-tz` as an IANA zone.
fn source_tz(z: Option<&str>) -> Result<Option<chrono_tz::Tz>> {
    z.map(|z| z.parse::<chrono_tz::Tz>().map_err(|_| anyhow!("--source-tz {z:?} is not an IANA time zone (e.g. Europe/Berlin, UTC)"))).transpose()
}

/// `--status-map`: Snipe-IT status labels to lifecycles.
fn status_map(p: Option<&Path>) -> Result<std::collections::BTreeMap<String, Lifecycle>> {
    let Some(p) = p else { return Ok(Default::default()) };
    let text = std::fs::read_to_string(p).with_context(|| format!("reading --status-map {}", p.display()))?;
    let raw: std::collections::BTreeMap<String, String> = crate::controls::schema::parse(&text)
        .map_err(|e| anyhow!("{}:{}:{}: expected a YAML map of status label: lifecycle ({})", p.display(), e.line, e.column, e.message))?;
    let mut map = std::collections::BTreeMap::new();
    for (label, lc) in raw {
        let v = Lifecycle::parse(&lc).ok_or_else(|| anyhow!("{}: label {label:?}: lifecycle {lc:?} is not one of {}", p.display(), Lifecycle::expected()))?;
        map.insert(label, v);
    }
    Ok(map)
}

pub fn parse_as_of(s: &str) -> Result<Instant> {
    if let Some(t) = ingest::row::parse_offset_datetime(s) {
        return Ok(t);
    }
    let d = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").with_context(|| format!("--as-of {s:?}: expected RFC 3339 or YYYY-MM-DD"))?;
    Ok(d.and_hms_opt(23, 59, 59).expect("valid time").and_utc())
}

fn options(args: &IngestArgs) -> Result<Options> {
    let source_tz = source_tz(args.source_tz.as_deref())?;
    let as_of = args.as_of.as_deref().map(parse_as_of).transpose()?;
    let status_map = status_map(args.status_map.as_deref())?;
    if let Some(f) = &args.date_format
        && chrono::format::StrftimeItems::new(f).any(|i| matches!(i, chrono::format::Item::Error))
    {
        bail!("--date-format {f:?} is not a valid strftime format");
    }
    let mut user_fields = std::collections::BTreeMap::new();
    for f in &args.user_field {
        let known = ingest::blancco::user_field_names();
        match f.split_once('=') {
            Some((k, v)) if known.contains(&k.trim()) && !v.trim().is_empty() => {
                user_fields.insert(k.trim().to_string(), v.trim().to_string());
            }
            _ => bail!("--user-field {f:?}: expected FIELD=NAME with FIELD one of {}", known.join(", ")),
        }
    }
    let mapping = match &args.mapping {
        Some(p) => {
            let text = std::fs::read_to_string(p).with_context(|| format!("reading --mapping {}", p.display()))?;
            Some(ingest::mapping::Mapping::parse(&p.display().to_string(), &text)?)
        }
        None => None,
    };
    Ok(Options {
        source: args.source,
        encoding: args.encoding,
        source_tz,
        as_of,
        date_format: args.date_format.clone(),
        status_map,
        allow_rejects: args.allow_rejects,
        user_fields,
        mapping,
        supersedes: args.supersedes,
        pulled: false,
    })
}

struct Bar(indicatif::ProgressBar);

/// Progress of evaluate and pack on stderr: a spinner while a step's size is unknown, a bar
/// otherwise; nothing when stderr is not a terminal (logs and pipes stay clean).
struct Steps {
    on: bool,
    bar: std::cell::RefCell<Option<indicatif::ProgressBar>>,
}

impl Steps {
    fn new() -> Steps {
        Steps { on: std::io::stderr().is_terminal(), bar: std::cell::RefCell::new(None) }
    }
}

impl crate::evaluate::Progress for Steps {
    fn start(&self, what: &str, total: u64) {
        if !self.on {
            return;
        }
        self.finish();
        let pb = if total == 0 {
            let pb = indicatif::ProgressBar::new_spinner();
            pb.set_style(indicatif::ProgressStyle::with_template("{spinner} {msg} ({elapsed})").expect("valid template"));
            pb.enable_steady_tick(std::time::Duration::from_millis(120));
            pb
        } else {
            let pb = indicatif::ProgressBar::new(total);
            pb.set_style(
                indicatif::ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} ({per_sec}, {eta})").expect("valid template").progress_chars("=> "),
            );
            pb
        };
        pb.set_message(what.to_string());
        *self.bar.borrow_mut() = Some(pb);
    }

    fn advance(&self, n: u64) {
        if let Some(pb) = self.bar.borrow().as_ref() {
            pb.inc(n);
        }
    }

    fn finish(&self) {
        if let Some(pb) = self.bar.borrow_mut().take() {
            pb.finish_and_clear();
        }
    }
}

impl Progress for Bar {
    fn set_position(&self, bytes: u64) {
        self.0.set_position(bytes);
    }
}

fn ingest(store: &mut Store, args: &IngestArgs, opts: &Options) -> Result<ExitCode> {
    let mut failed = false;
    let mut reports = Vec::new();
    // Every file is ingested even if nobody reads the report any more (`| head`): the store is
    // the product, the report a courtesy. A closed pipe stops the printing, not the work.
    let mut print = true;
    let detail = if args.quiet {
        Detail::Quiet
    } else if args.verbose {
        Detail::Verbose
    } else {
        Detail::Normal
    };
    for path in &args.files {
        let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
        // Only a terminal gets a bar, and only for files big enough to wait for.
        let bar = if std::io::stderr().is_terminal() && size > 8 << 20 {
            let pb = indicatif::ProgressBar::new(size);
            pb.set_style(
                indicatif::ProgressStyle::with_template("{msg} [{bar:30}] {bytes}/{total_bytes} ({eta})").expect("valid template").progress_chars("=> "),
            );
            pb.set_message(path.display().to_string());
            Some(Bar(pb))
        } else {
            None
        };
        let progress: &dyn Progress = match &bar {
            Some(b) => b,
            None => &(),
        };
        let result = ingest::ingest_file(store, path, opts, progress);
        if let Some(b) = &bar {
            b.0.finish_and_clear();
        }
        match result {
            Ok(report) => {
                if args.format == Format::Human
                    && print
                    && let Err(e) = print_report(&report, detail)
                {
                    if e.kind() != std::io::ErrorKind::BrokenPipe {
                        return Err(e.into());
                    }
                    print = false;
                }
                reports.push(serde_json::to_value(&report)?);
            }
            Err(e) => {
                failed = true;
                // JSON readers see every file: a failed one with its error, hint and, for
                // rejected rows, the report that names them (nothing of it was stored).
                let mut entry = serde_json::json!({"file": path.display().to_string(), "error": e.to_string(), "hint": e.hint(), "stored": false});
                if let ingest::RunError::Input(ingest::Error::Rejected { report, .. }) = &e {
                    entry["report"] = serde_json::to_value(report)?;
                }
                reports.push(entry);
                eprintln!("error: {e}");
                if let ingest::RunError::Input(ingest::Error::Rejected { report, .. }) = &e {
                    for r in &report.rejections {
                        eprintln!("  {}", r.in_file(&report.file));
                    }
                    let more = report.counts.rejected as usize - report.rejections.len();
                    if more > 0 {
                        eprintln!("  … and {more} more");
                    }
                }
                if let Some(h) = e.hint() {
                    eprintln!("hint: {h}");
                }
            }
        }
    }
    if args.format == Format::Json {
        out!("{}", serde_json::to_string_pretty(&reports)?)?;
    }
    Ok(if failed { ExitCode::from(2) } else { ExitCode::SUCCESS })
}

/// `ingests` as text: one line per ingest, its counts lined up.
fn print_ingests(rows: &[crate::store::IngestRow]) -> std::io::Result<()> {
    // Columns as wide as their widest value, so the counts line up.
    let names: Vec<String> = rows.iter().map(|r| safe(&r.file_name).into_owned()).collect();
    let name_w = names.iter().map(|n| n.chars().count()).max().unwrap_or(0);
    let as_of = |r: &crate::store::IngestRow| r.as_of.clone().unwrap_or_else(|| "(undated)".into());
    let as_of_w = rows.iter().map(|r| as_of(r).len()).max().unwrap_or(0);
    for (r, name) in rows.iter().zip(&names) {
        let state = match (&r.superseded_by, &r.retracted) {
            (_, Some(why)) => format!("; RETRACTED: {}", safe(why)),
            (Some(n), None) => format!("; SUPERSEDED by #{n}"),
            (None, None) => String::new(),
        };
        let unread = r.unread.as_ref().map(|u| format!("; {} {} not read", u.len(), columns(u.len()))).unwrap_or_default();
        out!(
            "#{:<4} {:<13} {name:<name_w$}  as of {:<as_of_w$}  read {} = accepted {} + rejected {} + empty {}; {} {}{unread}; sha256 {}{state}",
            r.id,
            r.source,
            as_of(r),
            r.rows_read,
            r.rows_accepted,
            r.rows_rejected,
            r.rows_empty,
            r.warnings,
            if r.warnings == 1 { "warning" } else { "warnings" },
            &r.sha256[..16]
        )?;
    }
    Ok(())
}

/// A CSV's columns and a JSON record's keys alike: the fields of a row.
fn columns(n: usize) -> &'static str {
    if n == 1 { "field" } else { "fields" }
}

/// How many warnings an ingest report prints: the summary only, the first ten, or all it keeps.
#[derive(Clone, Copy, PartialEq)]
enum Detail {
    Quiet,
    Normal,
    Verbose,
}

/// Warnings shown per file without --verbose: enough to see what is wrong, not a screenful.
const WARNINGS_SHOWN: usize = 10;

fn print_report(r: &Report, detail: Detail) -> std::io::Result<()> {
    if let Some(id) = r.already_ingested {
        out!("{}: already ingested as #{id} (same SHA-256 {}…, same as-of and options); nothing to do", r.file, &r.sha256[..16])?;
        return Ok(());
    }
    let c = r.counts;
    out!(
        "{}: {} — {} rows read: {} accepted, {} rejected, {} empty; {} records; ingest #{}",
        r.file,
        r.source.as_str(),
        c.read,
        c.accepted,
        c.rejected,
        c.empty,
        r.records,
        r.ingest_id.unwrap_or_default()
    )?;
    if detail != Detail::Quiet {
        for w in &r.rejections {
            out!("  rejected: {}", w.in_file(&r.file))?;
        }
    }
    let shown = match detail {
        Detail::Quiet => 0,
        Detail::Normal => WARNINGS_SHOWN.min(r.warnings.len()),
        Detail::Verbose => r.warnings.len(),
    };
    for w in &r.warnings[..shown] {
        out!("  warning: {}", w.in_file(&r.file))?;
    }
    if r.warnings_total as usize > shown {
        out!("  {}", warning_summary(r, shown))?;
    }
    if let Some(unread) = r.unread.as_ref().filter(|u| !u.is_empty()) {
        out!("  not read: {} {}: {} (the file is kept whole in the store)", unread.len(), columns(unread.len()), safe(&unread.join(", ")))?;
    }
    Ok(())
}

/// `270 warnings (10 shown), by field: 'Model Number' 149, 'Status' 49; all are in the store`.
fn warning_summary(r: &Report, shown: usize) -> String {
    let mut kinds: Vec<(&str, u64)> = r.warning_kinds.iter().map(|(f, n)| (if f.is_empty() { "(row)" } else { f.as_str() }, *n)).collect();
    kinds.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let list: Vec<String> = kinds.iter().map(|(f, n)| format!("'{}' {n}", safe(f))).collect();
    let total = r.warnings_total;
    format!("{total} warning{} ({shown} shown), by field: {}; all are in the store", if total == 1 { "" } else { "s" }, list.join(", "))
}

/// The joined view as a table: columns of fixed width, values cut short with `…` (and a line
/// that says so), or with `wide` as wide as their widest value.
fn print_assets(view: &[crate::view::AssetView], wide: bool) -> std::io::Result<()> {
    const HEAD: [&str; 8] = ["KEY", "TAG", "NAME", "LIFECYCLE", "MDM", "ENCRYPTION", "WIPE", "FLAGS"];
    const FIXED: [usize; 7] = [16, 10, 18, 10, 24, 26, 22];
    let rows: Vec<[String; 8]> = view
        .iter()
        .map(|a| {
            let mdm: Vec<String> = a.enrollments.iter().map(|e| format!("{}:{}", e.mdm, e.state)).collect();
            // Device and boot-volume state first; data volumes only when nothing else reports (osquery on a Mac).
            let data = crate::model::EncryptionScope::DataVolume;
            let whole = a.encryption.iter().any(|e| e.scope != data);
            let enc: Vec<String> = a.encryption.iter().filter(|e| !whole || e.scope != data).map(|e| format!("{}:{}", e.source, e.state)).collect();
            let wipe: Vec<String> = a.wipes.iter().map(|w| format!("{}:{}", w.tool, w.result)).collect();
            let flags: Vec<&str> = a.flags.iter().map(String::as_str).collect();
            [
                safe(a.key.as_str()).into_owned(),
                safe(a.asset_tag.as_deref().unwrap_or("-")).into_owned(),
                safe(a.name.as_deref().unwrap_or("-")).into_owned(),
                a.lifecycle.map_or("-", |l| l.as_str()).to_string(),
                or_dash(mdm.join(",")),
                or_dash(enc.join(",")),
                or_dash(wipe.join(",")),
                flags.join(","),
            ]
        })
        .collect();
    let widths: Vec<usize> =
        if wide { (0..7).map(|c| rows.iter().map(|r| r[c].chars().count()).chain([HEAD[c].len()]).max().unwrap_or(0)).collect() } else { FIXED.to_vec() };
    let line = |cells: [&str; 8]| {
        let mut l: String = cells[..7].iter().zip(&widths).map(|(v, w)| format!("{:<w$} ", clip(v, *w))).collect();
        l.push_str(cells[7]);
        l
    };
    out!("{}", line(HEAD))?;
    let mut clipped = false;
    for r in &rows {
        clipped |= r[..7].iter().zip(&widths).any(|(v, w)| v.chars().count() > *w);
        out!("{}", line([&r[0], &r[1], &r[2], &r[3], &r[4], &r[5], &r[6], &r[7]]).trim_end())?;
    }
    out!("{} devices", view.len())?;
    if clipped {
        out!("(values cut short end in …: --wide shows them whole)")?;
    }
    Ok(())
}

fn or_dash(s: String) -> String {
    if s.is_empty() { "-".into() } else { s }
}

fn clip(s: &str, n: usize) -> String {
    if s.chars().count() <= n { s.to_string() } else { format!("{}…", s.chars().take(n - 1).collect::<String>()) }
}
