//! The command line: dispatch, printing, and `anyhow` context. The only module that prints.

pub mod args;

use crate::ingest::{self, Options, Progress, Report};
use crate::model::{Lifecycle, Instant};
use crate::store::Store;
use anyhow::{Context, Result, anyhow, bail};
use args::{Cli, Command, Format, IngestArgs};
use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::Duration;

/// Runs a parsed command line and returns the exit code.
pub fn run(cli: Cli) -> Result<ExitCode> {
    let open = || -> Result<Store> {
        Store::open(&cli.store.store, Duration::from_secs(cli.store.wait)).map_err(|e| {
            let hint = e.hint();
            anyhow!(e).context(hint.map(|h| format!("hint: {h}")).unwrap_or_default())
        })
    };
    match &cli.command {
        Command::Ingest(args) => {
            let opts = options(args)?;
            let mut store = open()?;
            ingest(&mut store, args, &opts)
        }
        Command::Assets(args) => {
            let store = open()?;
            let view = crate::view::assets(&store)?;
            match args.format {
                Format::Json => println!("{}", serde_json::to_string_pretty(&view)?),
                Format::Human => print_assets(&view),
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Ingests(f) => {
            let store = open()?;
            let rows = store.ingests()?;
            match f.format {
                Format::Json => println!("{}", serde_json::to_string_pretty(&rows)?),
                Format::Human => {
                    for r in rows {
                        println!(
                            "#{:<4} {:<13} {}  read {} = accepted {} + rejected {} + empty {}; {} warnings; sha256 {}",
                            r.id, r.source, r.file_name, r.rows_read, r.rows_accepted, r.rows_rejected, r.rows_empty, r.warnings, &r.sha256[..16]
                        );
                    }
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Keygen(a) => keygen(a),
        Command::Pack(a) => {
            let mut store = open()?;
            pack(&mut store, a)
        }
        Command::Verify(a) => verify(a),
    }
}

/// Adds a `hint:` line under the error, as every evident error has where one helps.
fn with_hint<E: std::error::Error + Send + Sync + 'static>(e: E, hint: Option<String>) -> anyhow::Error {
    match hint {
        Some(h) => anyhow!("{e}\nhint: {h}"),
        None => anyhow!(e),
    }
}

fn keygen(a: &args::KeygenArgs) -> Result<ExitCode> {
    let files = crate::sign::keygen(a.role, &a.name, &a.out).map_err(|e| {
        let h = e.hint().map(String::from);
        with_hint(e, h)
    })?;
    match a.format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&files)?),
        Format::Human => {
            println!("key id      {}", files.key_id);
            println!("role        {}", files.role);
            println!("private key {} (mode 0600: keep it secret, never share it)", files.private_key.display());
            println!("public key  {}", files.public_key.display());
            println!("trust line  {} (give this to the auditor)", files.trust_file.display());
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The pack's scope from --as-of / --period, or the date of SOURCE_DATE_EPOCH.
fn scope(a: &args::PackArgs) -> Result<crate::ledger::Scope> {
    let epoch_date = std::env::var("SOURCE_DATE_EPOCH").ok().filter(|_| a.as_of.is_none() && a.period.is_none()).map(|v| -> Result<String> {
        let secs: i64 = v.trim().parse().with_context(|| format!("SOURCE_DATE_EPOCH '{v}' is not a number of seconds"))?;
        let t = chrono::DateTime::from_timestamp(secs, 0).ok_or_else(|| anyhow!("SOURCE_DATE_EPOCH '{v}' is out of range"))?;
        Ok(t.format("%Y-%m-%d").to_string())
    });
    let epoch_date = epoch_date.transpose()?;
    crate::ledger::Scope::parse(a.as_of.as_deref().or(epoch_date.as_deref()), a.period.as_deref()).map_err(|e| anyhow!("{e}\nhint: packs are dated by the records, never by the clock"))
}

fn pack(store: &mut Store, a: &args::PackArgs) -> Result<ExitCode> {
    let scope = scope(a)?;
    let key = crate::sign::SecretKey::load(&a.key).map_err(|e| {
        let h = e.hint().map(String::from);
        with_hint(e, h)
    })?;
    let req = crate::pack::Request { scope, key: &key, out: &a.out, archive: a.archive };
    let built = crate::pack::build(store, &req).map_err(|e| {
        let h = e.hint();
        with_hint(e, h)
    })?;
    match a.format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&built)?),
        Format::Human => {
            println!("pack        {} (seq {})", built.dir.display(), built.seq);
            if let Some(ar) = &built.archive {
                println!("archive     {}", ar.display());
            }
            println!("files       {} ({} bytes)", built.files, built.bytes);
            println!("manifest    sha256 {}", built.manifest_sha256);
            println!("merkle root {}", built.merkle_root);
            println!("signed by   key {}", built.key_id);
            for f in &built.left_out {
                println!("left out    {f}: dated after the scope's end");
            }
            for f in &built.undated {
                println!("undated     {f}: included; its records carry no time and it was ingested without --as-of");
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
    let out = crate::verify::pack(&a.pack, &trust, a.since.as_deref())?;
    match a.format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&out)?),
        Format::Human => {
            for c in &out.checks {
                println!("{:<4}  {:<20}  {}", if c.ok { "ok" } else { "FAIL" }, c.code, c.detail);
            }
            match (&out.signer, out.verified) {
                (Some(s), true) => println!("verified: {} seq {} signed by {} ({}, key {})", out.pack, out.seq.unwrap_or(0), s.name, s.role, s.key_id),
                _ => println!("NOT verified: {} ({} failed checks)", out.pack, out.checks.iter().filter(|c| !c.ok).count()),
            }
        }
    }
    Ok(if out.verified { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

/// Parses `--as-of`: RFC 3339, or a date meaning its end (23:59:59Z) in UTC.
pub fn parse_as_of(s: &str) -> Result<Instant> {
    if let Some(t) = ingest::row::parse_offset_datetime(s) {
        return Ok(t);
    }
    let d = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").with_context(|| format!("--as-of {s:?}: expected RFC 3339 or YYYY-MM-DD"))?;
    Ok(d.and_hms_opt(23, 59, 59).expect("valid time").and_utc())
}

fn options(args: &IngestArgs) -> Result<Options> {
    let source_tz = match &args.source_tz {
        Some(z) => Some(z.parse::<chrono_tz::Tz>().map_err(|_| anyhow!("--source-tz {z:?} is not an IANA time zone (e.g. Europe/Berlin, UTC)"))?),
        None => None,
    };
    let as_of = args.as_of.as_deref().map(parse_as_of).transpose()?;
    let status_map = match &args.status_map {
        Some(p) => {
            let text = std::fs::read_to_string(p).with_context(|| format!("reading --status-map {}", p.display()))?;
            let raw: std::collections::BTreeMap<String, String> =
                serde_yaml::from_str(&text).with_context(|| format!("{}: expected a YAML map of status label: lifecycle", p.display()))?;
            let mut map = std::collections::BTreeMap::new();
            for (label, lc) in raw {
                let v = Lifecycle::parse(&lc)
                    .ok_or_else(|| anyhow!("{}: label {label:?}: lifecycle {lc:?} is not one of {}", p.display(), Lifecycle::expected()))?;
                map.insert(label, v);
            }
            map
        }
        None => Default::default(),
    };
    if let Some(f) = &args.date_format {
        if chrono::format::StrftimeItems::new(f).any(|i| matches!(i, chrono::format::Item::Error)) {
            bail!("--date-format {f:?} is not a valid strftime format");
        }
    }
    Ok(Options {
        source: args.source,
        encoding: args.encoding,
        source_tz,
        as_of,
        date_format: args.date_format.clone(),
        status_map,
        allow_rejects: args.allow_rejects,
    })
}

struct Bar(indicatif::ProgressBar);

impl Progress for Bar {
    fn set_position(&self, bytes: u64) {
        self.0.set_position(bytes);
    }
}

fn ingest(store: &mut Store, args: &IngestArgs, opts: &Options) -> Result<ExitCode> {
    let mut failed = false;
    let mut reports = Vec::new();
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
        let progress: &dyn Progress = match &bar { Some(b) => b, None => &() };
        let result = ingest::ingest_file(store, path, opts, progress);
        if let Some(b) = &bar {
            b.0.finish_and_clear();
        }
        match result {
            Ok(report) => {
                if args.format == Format::Human {
                    print_report(&report);
                }
                reports.push(report);
            }
            Err(e) => {
                failed = true;
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
        println!("{}", serde_json::to_string_pretty(&reports)?);
    }
    Ok(if failed { ExitCode::from(2) } else { ExitCode::SUCCESS })
}

fn print_report(r: &Report) {
    if let Some(id) = r.already_ingested {
        println!("{}: already ingested as #{id} (same SHA-256 {}…); nothing to do", r.file, &r.sha256[..16]);
        return;
    }
    let c = r.counts;
    println!(
        "{}: {} — {} rows read: {} accepted, {} rejected, {} empty; {} records; ingest #{}",
        r.file,
        r.source.as_str(),
        c.read,
        c.accepted,
        c.rejected,
        c.empty,
        r.records,
        r.ingest_id.unwrap_or_default()
    );
    for w in &r.rejections {
        println!("  rejected: {}", w.in_file(&r.file));
    }
    for w in &r.warnings {
        println!("  warning: {}", w.in_file(&r.file));
    }
    if r.warnings_total as usize > r.warnings.len() {
        println!("  … and {} more warnings (all are in the store)", r.warnings_total as usize - r.warnings.len());
    }
}

fn print_assets(view: &[crate::view::AssetView]) {
    println!("{:<16} {:<10} {:<18} {:<10} {:<24} {:<26} {:<22} FLAGS", "KEY", "TAG", "NAME", "LIFECYCLE", "MDM", "ENCRYPTION", "WIPE");
    for a in view {
        let mdm: Vec<String> = a.enrollments.iter().map(|e| format!("{}:{}", e.mdm, e.state)).collect();
        let enc: Vec<String> = a.encryption.iter().filter(|e| e.scope != "data_volume").map(|e| format!("{}:{}", e.source, e.state)).collect();
        let wipe: Vec<String> = a.wipes.iter().map(|w| format!("{}:{}", w.tool, w.result)).collect();
        let flags: Vec<&str> = a.flags.iter().map(String::as_str).collect();
        println!(
            "{:<16} {:<10} {:<18} {:<10} {:<24} {:<26} {:<22} {}",
            clip(&a.key, 16),
            clip(a.asset_tag.as_deref().unwrap_or("-"), 10),
            clip(a.name.as_deref().unwrap_or("-"), 18),
            a.lifecycle.as_deref().unwrap_or("-"),
            clip(&or_dash(mdm.join(",")), 24),
            clip(&or_dash(enc.join(",")), 26),
            clip(&or_dash(wipe.join(",")), 22),
            flags.join(",")
        );
    }
    println!("{} devices", view.len());
}

fn or_dash(s: String) -> String {
    if s.is_empty() { "-".into() } else { s }
}

fn clip(s: &str, n: usize) -> String {
    if s.chars().count() <= n { s.to_string() } else { format!("{}…", s.chars().take(n - 1).collect::<String>()) }
}
