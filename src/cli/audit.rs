//! The auditor's commands: `sample` (draw and sign a sample from a verified pack, with its
//! workpaper), `verify SAMPLE --pack` (re-derive it), and `trace` (one device, every record).

use super::args::{self, Format, SampleArgs, TraceArgs};
use super::{out, safe, with_hint};
use anyhow::{Context, Result, bail};
use std::process::ExitCode;

fn hinted(e: crate::sample::Error) -> anyhow::Error {
    let h = e.hint();
    with_hint(e, h)
}

fn trust(path: &std::path::Path) -> Result<crate::sign::TrustList> {
    crate::sign::TrustList::load(path).map_err(|e| {
        let h = e.hint().map(String::from);
        with_hint(e, h)
    })
}

/// Writes a new file whole (refusing to replace one), so a sample is never silently redrawn.
fn write_new(path: &std::path::Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .with_context(|| format!("writing {} (an existing file is never replaced)", path.display()))?;
    f.write_all(bytes).and_then(|()| f.sync_all()).with_context(|| format!("writing {}", path.display()))
}

pub(super) fn sample(a: &SampleArgs) -> Result<ExitCode> {
    use crate::sample::{Choice, Request, SampleFile, SizeRule};
    crate::sample::check_seed(&a.seed).map_err(hinted)?;
    let size = match (a.size, &a.size_table) {
        (Some(n), _) => SizeRule::Fixed(n),
        (None, Some(t)) => SizeRule::load_table(t).map_err(hinted)?,
        (None, None) => SizeRule::default_table(),
    };
    for p in [Some(&a.out), a.xlsx.as_ref(), a.csv.as_ref()].into_iter().flatten() {
        if p.exists() {
            bail!("{} exists: a sample is never overwritten (draw again into a new file)", p.display());
        }
    }
    let key =
        super::load_key(&a.key, a.passphrase_file.as_deref()).and_then(|k| k.check_role(&a.key, crate::sign::Role::Auditor).map(|()| k)).map_err(|e| {
            let h = e.hint().map(String::from);
            with_hint(e, h)
        })?;
    let pack = crate::sample::verified_pack(&a.pack, &trust(&a.trust)?).map_err(hinted)?;
    let choice = match (&a.control, &a.population) {
        (Some(id), _) => Choice::Control { id, date: a.sample_date },
        (None, Some(p)) => Choice::Path(p),
        (None, None) => bail!("give --control ID or --population PATH"),
    };
    let path = pack.resolve(&choice).map_err(hinted)?;
    let drawn = crate::sample::draw(&pack, &Request { path: &path, outcomes: &a.outcome, seed: &a.seed, size: &size }).map_err(hinted)?;
    let mut file = SampleFile::sign(drawn, &key);
    if !a.tsa.is_empty() {
        let digest: [u8; 32] = <sha2::Sha256 as sha2::Digest>::digest(file.signature_bytes()).into();
        let reply = crate::timestamp::fetch_any(&a.tsa, &digest, std::time::Duration::from_secs(30))
            .map_err(|why| anyhow::anyhow!("no Time-Stamping Authority gave a valid token, so no sample was written: {why}"))?;
        file.timestamp = Some(hex::encode(reply));
    }
    let xlsx = a.xlsx.as_ref().map(|_| crate::sample::workpaper::xlsx(&file)).transpose().context("building the .xlsx workpaper")?;
    write_new(&a.out, &file.to_bytes())?;
    if let (Some(p), Some(b)) = (&a.xlsx, xlsx) {
        write_new(p, &b)?;
    }
    if let Some(p) = &a.csv {
        write_new(p, &crate::sample::workpaper::csv(&file))?;
    }
    let s = &file.sample;
    match a.format {
        Format::Json => out!("{}", serde_json::to_string_pretty(&file)?)?,
        Format::Human => {
            out!("population  {} ({} items{}, sha256 {})", s.population.path, s.population.items, outcomes(&s.population.outcomes), s.population.sha256)?;
            out!("pack        seq {}, manifest sha256 {}", s.pack.seq, s.pack.manifest_sha256)?;
            out!("seed        {:?} ({})", safe(&s.seed), s.rule)?;
            out!("selected    {} item(s)", s.selected.len())?;
            for (i, it) in s.selected.iter().enumerate() {
                let field = |k: &str| it.entry.get(k).and_then(|v| v.as_str()).unwrap_or("-").to_string();
                out!("  {:>3}  {:<24} {:<10} {:<8} {}", i + 1, safe(&it.item), safe(&field("asset_tag")), safe(&field("outcome")), safe(&field("reason")))?;
            }
            out!("sample      {} (signed by auditor key {})", a.out.display(), file.auditor_signature.key_id)?;
            for p in [&a.xlsx, &a.csv].into_iter().flatten() {
                out!("workpaper   {}", p.display())?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn outcomes(o: &[String]) -> String {
    if o.is_empty() { String::new() } else { format!(" with outcome {}", o.join(" or ")) }
}

pub(super) fn verify_sample(a: &args::VerifyArgs, trust: &crate::sign::TrustList) -> Result<ExitCode> {
    if a.since.is_some() || a.checkpoint.is_some() {
        bail!("--since and --checkpoint apply to packs; a sample is checked against the pack it names (--pack)");
    }
    if matches!(a.expect, Some(args::Expect::Pack | args::Expect::Certificate)) {
        bail!("{} is a sample (--expect {:?})", safe(&a.pack.display().to_string()), a.expect.map(|e| format!("{e:?}").to_lowercase()).unwrap_or_default());
    }
    let Some(pack) = &a.sample_pack else {
        bail!("{} is a sample: give the pack it was drawn from with --pack PACK", safe(&a.pack.display().to_string()));
    };
    let roots = super::tsa_roots(&a.tsa_trust)?;
    let out = crate::sample::verify(&a.pack, pack, trust, roots.as_deref()).map_err(hinted)?;
    match a.format {
        Format::Json => out!("{}", serde_json::to_string_pretty(&out)?)?,
        Format::Human => {
            super::print_checks(&out.checks, 20)?;
            match (&out.auditor, out.verified) {
                (Some(s), true) => out!(
                    "verified: {} {} item(s) of {} re-derived, signed by {} (auditor, key {})",
                    safe(&out.sample),
                    out.selected.unwrap_or(0),
                    safe(out.population.as_deref().unwrap_or("")),
                    safe(&s.name),
                    s.key_id
                )?,
                _ => out!("NOT verified: {} ({} failed checks)", safe(&out.sample), out.checks.iter().filter(|c| !c.ok).count())?,
            }
        }
    }
    Ok(if out.verified { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

pub(super) fn trace(a: &TraceArgs, open: &dyn Fn() -> Result<crate::store::Store>) -> Result<ExitCode> {
    if a.pack.is_some() && (a.scope.as_of.is_some() || a.scope.period.is_some()) {
        bail!("--as-of and --period trace the store; a pack holds its own outcomes");
    }
    let t = match &a.pack {
        Some(p) => {
            let Some(t) = &a.trust else { bail!("--trust FILE: a pack is traced only once it verifies") };
            let pack = crate::sample::verified_pack(p, &trust(t)?).map_err(hinted)?;
            crate::trace::pack(&pack, &a.key)?
        }
        None => {
            let store = open()?;
            let mut t = crate::trace::store(&store, &a.key)?;
            if a.scope.as_of.is_some() || a.scope.period.is_some() {
                let (_, ev) = super::run_evaluation(&store, &a.scope, true)?;
                crate::trace::add_outcomes(&mut t, &ev);
            }
            t
        }
    };

    match a.format {
        Format::Json => out!("{}", serde_json::to_string_pretty(&t)?)?,
        Format::Human => print_trace(&t)?,
    }
    Ok(ExitCode::SUCCESS)
}

fn print_trace(t: &crate::trace::Trace) -> std::io::Result<()> {
    out!("device      {} (asked: {})", safe(&t.devices.join(", ")), safe(&t.key))?;
    for d in &t.dates {
        let s = |k: &str| d.asset.get(k).map(|v| v.as_str().map_or_else(|| v.to_string(), String::from)).unwrap_or_default();
        out!(
            "view        {} at {}: tag {}, {} ({}), sources {}",
            d.date.as_deref().unwrap_or("latest"),
            safe(&d.at),
            safe(&s("asset_tag")),
            safe(&s("lifecycle")),
            safe(&s("status_label")),
            safe(&s("sources"))
        )?;
    }
    if !t.controls.is_empty() {
        out!("controls")?;
    }
    for c in &t.controls {
        out!("  {:<11} {}  {:<24} {:<8} {}  ({})", safe(&c.control), c.date, safe(&c.item), c.outcome, safe(&c.reason), safe(&c.at))?;
    }
    out!("records")?;
    for r in &t.records {
        out!("  {}", safe(&r.reference))?;
        out!("    in {} line {}{}", safe(&r.file), r.line, r.pointer.as_ref().map(|p| format!(" at {}", safe(p))).unwrap_or_default())?;
        match &r.raw {
            Some(raw) => {
                for l in raw.lines() {
                    out!("    | {}", safe(l))?;
                }
            }
            None => out!("    (the export is not at hand)")?,
        }
    }
    for c in &t.certificates {
        let state = match (c.signed, c.countersigned) {
            (true, true) => "signed and countersigned",
            (true, false) => "signed, not countersigned",
            _ => "not signed",
        };
        out!("certificate {} {} (media {}; {state})", safe(&c.id), safe(&c.file), safe(&c.media.join(", ")))?;
    }
    Ok(())
}
