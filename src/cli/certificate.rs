//! `evident certificate new | sign | countersign | render`: batches of certificate files, with a
//! progress bar on a terminal, and the store kept in step with the files.

use super::args::{self, CertificateCommand, Format};
use super::{out, with_hint};
use crate::certificate::{self, Certificate, Issue, Selection};
use crate::store::Store;
use anyhow::{Context, Result, anyhow};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

fn cert_err(e: certificate::Error) -> anyhow::Error {
    let h = e.hint();
    with_hint(e, h)
}

/// A bar on a terminal for batches; nothing otherwise (logs and pipes stay clean).
fn bar(len: usize, what: &str) -> indicatif::ProgressBar {
    if len < 2 || !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let pb = indicatif::ProgressBar::new(len as u64);
    pb.set_style(indicatif::ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} ({per_sec}, {eta})").expect("valid template").progress_chars("=> "));
    pb.set_message(what.to_string());
    pb
}

pub fn run(c: &CertificateCommand, store: &dyn Fn() -> Result<Store>, store_path: &Path) -> Result<ExitCode> {
    match c {
        CertificateCommand::New(a) => new(a, &mut store()?),
        CertificateCommand::Sign(a) => sign(a, false, store, store_path),
        CertificateCommand::Countersign(a) => sign(a, true, store, store_path),
        CertificateCommand::Render(a) => render(a),
        CertificateCommand::Import(a) => import(a, &mut store()?),
        CertificateCommand::Revoke(a) => revoke(a, &mut store()?),
    }
}

fn import(a: &args::CertificateImportArgs, store: &mut Store) -> Result<ExitCode> {
    let files = certificate::files(&a.certificates).map_err(cert_err)?;
    if files.is_empty() {
        return Err(anyhow!("no certificate files in {}", a.certificates.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")));
    }
    let done = certificate::import(store, &files).map_err(cert_err)?;
    match a.format {
        Format::Json => out!("{}", serde_json::to_string_pretty(&done)?)?,
        Format::Human => {
            for d in &done {
                let state = match (d.signed, d.countersigned) {
                    (true, true) => "signed and countersigned",
                    (true, false) => "signed",
                    _ => "unsigned",
                };
                out!("{}  {state}, {}  {}", super::safe(&d.id), d.outcome, super::safe(&d.file))?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn new(a: &args::CertificateNewArgs, store: &mut Store) -> Result<ExitCode> {
    if !a.all && a.drive.is_empty() && a.asset.is_empty() && a.lot.is_empty() {
        return Err(anyhow!("nothing selected\nhint: give --drive, --asset, --lot or --all"));
    }
    let methods = match &a.method_table {
        Some(p) => {
            let text = std::fs::read_to_string(p).with_context(|| format!("reading --method-table {}", p.display()))?;
            Some(certificate::method::Table::parse(&text).map_err(|e| anyhow!("{}: {e}", p.display()))?)
        }
        None => None,
    };
    let issue = Issue {
        performer: a.performer.clone(),
        organisation: a.organisation.clone(),
        classification: a.classification.clone(),
        destination: a.destination.clone(),
        methods,
        unverified: a.unverified,
        supersedes: a.supersedes.clone().zip(a.reason.clone()),
    };
    if let Some(old) = &a.supersedes
        && !store.certificates()?.iter().any(|c| c.id == *old)
    {
        return Err(anyhow!(
            "--supersedes {}: the store holds no such certificate\nhint: the id is COS- and 16 hex digits, as `certificate new` printed it",
            super::safe(old)
        ));
    }
    let sel = Selection { drives: a.drive.clone(), assets: a.asset.clone(), lots: a.lot.clone(), all: a.all, per: a.per, skip_failed: a.skip_failed };
    let built = certificate::build(store, &sel, &issue).map_err(cert_err)?;
    std::fs::create_dir_all(&a.out).with_context(|| format!("creating {}", a.out.display()))?;
    // The files and the store change together: neither if either fails.
    let targets = certificate::write_all(&built.certificates, &a.out, &mut || certificate::keep(store, &built.certificates)).map_err(cert_err)?;
    match a.format {
        Format::Json => out!("{}", serde_json::to_string_pretty(&serde_json::json!({"certificates": targets, "skipped": built.skipped}))?)?,
        Format::Human => {
            for (c, p) in built.certificates.iter().zip(&targets) {
                let cats: Vec<&str> = c.record.media.iter().map(|m| m.category.as_str()).collect();
                out!("{}  {} drive(s), {}  {}", c.record.id, c.record.media.len(), cats.join("/"), p.display())?;
            }
            for s in &built.skipped {
                out!("skipped     {s}")?;
            }
            out!("{} certificate(s), unsigned: next `evident certificate sign --key PERFORMER_KEY {}`", targets.len(), a.out.display())?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn sign(a: &args::CertificateSignArgs, counter: bool, store: &dyn Fn() -> Result<Store>, store_path: &Path) -> Result<ExitCode> {
    let role = if counter { "verifier" } else { "performer" };
    let key_path = a.signer.key.as_deref().ok_or_else(|| anyhow!("no --key\nhint: --key KEY, or `[keys] {role} = \"…\"` in evident.toml"))?;
    let key = super::load_key(key_path, a.signer.passphrase_file.as_deref()).map_err(|e| {
        let h = e.hint().map(String::from);
        with_hint(e, h)
    })?;
    let want = if counter { crate::sign::Role::Verifier } else { crate::sign::Role::Performer };
    key.check_role(key_path, want).map_err(|e| {
        let h = e.hint().map(String::from);
        with_hint(e, h)
    })?;
    let files = certificate::files(&a.certificates).map_err(cert_err)?;
    if files.is_empty() {
        return Err(anyhow!("no certificate files in {}", a.certificates.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")));
    }
    let pb = bar(files.len(), if counter { "countersigning" } else { "signing" });
    let who = signer(&a.signer, &key, key_path)?;
    let mut signed = certificate::sign_all(&files, &key, &who, counter, &|| pb.inc(1)).map_err(cert_err)?;
    pb.finish_and_clear();
    if !a.tsa.is_empty() {
        time_stamp(&mut signed, counter, &a.tsa)?;
    }
    // Keep the store in step when there is one (signing elsewhere needs no store); the files
    // change only once the store has taken them, and the store only if every file was written.
    let mut keep = || -> std::result::Result<(), certificate::Error> {
        if store_path.exists() {
            let mut s = store().map_err(|e| certificate::Error::File { path: store_path.display().to_string(), message: format!("{e:#}") })?;
            certificate::keep(&mut s, &signed)?;
        }
        Ok(())
    };
    certificate::save_all(&signed, &files, &mut keep).map_err(cert_err)?;
    let key_id = key.public().key_id();
    match a.format {
        Format::Json => out!("{}", serde_json::to_string_pretty(&serde_json::json!({"key_id": key_id, "certificates": files}))?)?,
        Format::Human => out!("{} {} certificate(s) with key {key_id}", if counter { "countersigned" } else { "signed" }, files.len())?,
    }
    Ok(ExitCode::SUCCESS)
}

/// Who signs and when: `--name`, else the name in the key's `.trust` file; `--signed-at`, else
/// SOURCE_DATE_EPOCH, else the clock (the one time evident reads from it: a signature's own).
#[allow(clippy::disallowed_methods, reason = "a signature's signing time is a fact of the signing, read from the clock when not given")]
fn signer(a: &args::SignerArgs, key: &crate::sign::SecretKey, key_path: &Path) -> Result<certificate::Signer> {
    let name = match (&a.name, key.declared_name(key_path)) {
        (Some(n), _) if !n.trim().is_empty() => n.trim().to_string(),
        (None, Some(n)) => n,
        _ => {
            return Err(anyhow!(
                "no name for the signature\nhint: give --name \"Your Name\" as your trust line has it (keygen writes NAME.trust beside the key)"
            ));
        }
    };
    let at = match (&a.signed_at, std::env::var("SOURCE_DATE_EPOCH").ok()) {
        (Some(t), _) => chrono::DateTime::parse_from_rfc3339(t).with_context(|| format!("--signed-at {t:?}: expected RFC 3339"))?.with_timezone(&chrono::Utc),
        (None, Some(e)) => e
            .trim()
            .parse::<i64>()
            .ok()
            .and_then(|s| chrono::DateTime::from_timestamp(s, 0))
            .ok_or_else(|| anyhow!("SOURCE_DATE_EPOCH {e:?} is not seconds since 1970"))?,
        (None, None) => chrono::Utc::now(),
    };
    Ok(certificate::Signer { name, signed_at: at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true) })
}

/// Withdraws a stored certificate: a revocation signed by a performer's or verifier's key, the
/// file written and the store updated together.
fn revoke(a: &args::CertificateRevokeArgs, store: &mut Store) -> Result<ExitCode> {
    use crate::certificate::record::{REVOCATION_FORMAT, Revocation, RevocationFile, Signature};
    let key_path = a
        .signer
        .key
        .as_deref()
        .ok_or_else(|| anyhow!("no --key\nhint: --key KEY (a performer's or verifier's), or `[keys] performer = \"…\"` in evident.toml"))?;
    let key = super::load_key(key_path, a.signer.passphrase_file.as_deref()).map_err(|e| {
        let h = e.hint().map(String::from);
        with_hint(e, h)
    })?;
    let role = if key.check_role(key_path, crate::sign::Role::Performer).is_ok() { crate::sign::Role::Performer } else { crate::sign::Role::Verifier };
    key.check_role(key_path, role).map_err(|e| {
        let h = e.hint().map(String::from);
        with_hint(e, h)
    })?;
    let stored =
        store.certificates()?.into_iter().find(|c| c.id == a.id).ok_or_else(|| anyhow!("{}: the store holds no such certificate", super::safe(&a.id)))?;
    if a.reason.trim().is_empty() {
        return Err(anyhow!("--reason: say why the certificate is withdrawn"));
    }
    let who = signer(&a.signer, &key, key_path)?;
    let revocation = Revocation {
        format: REVOCATION_FORMAT.into(),
        certificate: stored.id.clone(),
        record_sha256: stored.record_sha256.clone(),
        reason: a.reason.trim().into(),
        revoked_at: who.signed_at.clone(),
    };
    let p = key.public();
    let mut signature =
        Signature { role, key_id: p.key_id(), public_key: p.raw_hex(), signature: String::new(), name: Some(who.name), signed_at: Some(who.signed_at) };
    signature.signature = hex::encode(key.sign(&RevocationFile::message(&revocation, &signature)));
    let file = RevocationFile { revocation, signature };
    std::fs::create_dir_all(&a.out).with_context(|| format!("creating {}", a.out.display()))?;
    let path = a.out.join(format!("{}.revocation.json", stored.id));
    let bytes = file.to_bytes();
    let mut f =
        std::fs::OpenOptions::new().write(true).create_new(true).open(&path).with_context(|| format!("writing {} (never overwritten)", path.display()))?;
    std::io::Write::write_all(&mut f, &bytes).with_context(|| format!("writing {}", path.display()))?;
    if let Err(e) = store.put_revocation(&stored.id, &bytes) {
        let _ = std::fs::remove_file(&path);
        return Err(e.into());
    }
    match a.format {
        Format::Json => out!("{}", serde_json::to_string_pretty(&serde_json::json!({"revocation": path, "certificate": stored.id}))?)?,
        Format::Human => out!("revoked {} ({}): {}", super::safe(&stored.id), super::safe(&a.reason), path.display())?,
    }
    Ok(ExitCode::SUCCESS)
}

/// Asks the TSAs (in order, the first that answers well) for a token over each certificate's new
/// signature; before any file or the store changes, so a TSA that fails leaves both as they were.
fn time_stamp(signed: &mut [Certificate], counter: bool, tsa: &[String]) -> Result<()> {
    use crate::certificate::record::{Over, TimeStamp};
    let over = if counter { Over::VerifierSignature } else { Over::PerformerSignature };
    let pb = bar(signed.len(), "time-stamping");
    for c in signed.iter_mut() {
        let bytes = c.signature_bytes(over).ok_or_else(|| anyhow!("{}: no signature to time-stamp", c.record.id))?;
        let digest: [u8; 32] = <sha2::Sha256 as sha2::Digest>::digest(&bytes).into();
        let reply = crate::timestamp::fetch_any(tsa, &digest, std::time::Duration::from_secs(30))
            .map_err(|why| anyhow!("no Time-Stamping Authority gave a valid token, so nothing was signed: {why}"))?;
        c.timestamps.push(TimeStamp { over, reply: hex::encode(reply) });
        pb.inc(1);
    }
    pb.finish_and_clear();
    Ok(())
}

fn render(a: &args::CertificateRenderArgs) -> Result<ExitCode> {
    let files = certificate::files(&a.certificates).map_err(cert_err)?;
    let mut jobs: Vec<(Certificate, PathBuf)> = Vec::with_capacity(files.len());
    for f in &files {
        let c = Certificate::load(f).map_err(cert_err)?;
        certificate::renderable(&c, a.draft).map_err(|e| anyhow!("{}: {e}", f.display()))?;
        let out = match &a.out {
            Some(d) => d.join(f.with_extension("pdf").file_name().expect("a file name")),
            None => f.with_extension("pdf"),
        };
        jobs.push((c, out));
    }
    if let Some(d) = &a.out {
        std::fs::create_dir_all(d).with_context(|| format!("creating {}", d.display()))?;
    }
    let pb = bar(jobs.len(), "rendering");
    let done = certificate::render_files(&jobs, a.draft, &|| pb.inc(1));
    pb.finish_and_clear();
    done.map_err(|e| anyhow!("{e}\nhint: PDFs already written are complete; run render again"))?;
    match a.format {
        Format::Json => out!("{}", serde_json::to_string_pretty(&jobs.iter().map(|(_, p)| p).collect::<Vec<_>>())?)?,
        Format::Human => {
            for (c, p) in &jobs {
                let state = match (&c.performer_signature, &c.verifier_signature) {
                    (Some(_), Some(_)) => "signed and countersigned",
                    (Some(_), None) => "signed, not countersigned",
                    _ => "DRAFT, not signed",
                };
                out!("{}  {state}  {}", c.record.id, p.display())?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
