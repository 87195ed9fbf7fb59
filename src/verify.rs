//! Offline verification of a pack (directory or archive): every file's hash, the Merkle root,
//! SHA256SUMS against the manifest, the signature, the key's trust and role, the chain, and
//! `--since` consistency. Each failure carries its own code (docs/FORMAT.md lists them).

use crate::ledger::{self, Entry};
use crate::pack::archive;
use crate::pack::format::{self as pack, FileEntry, Manifest};
use crate::sign::{PublicKey, Role, Standing, TrustList, Trusted};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

pub use crate::check::{Check, Code};

/// The verdict on a pack.
#[derive(Debug, Serialize)]
pub struct Outcome {
    /// Always `pack`: scripts can tell a pack's verdict from a certificate's.
    pub kind: &'static str,
    pub pack: String,
    pub verified: bool,
    pub signer: Option<Trusted>,
    pub seq: Option<u64>,
    pub manifest_sha256: Option<String>,
    pub checks: Vec<Check>,
    /// When a trusted TSA says the manifest existed (RFC 3161 genTime), if `--tsa-trust` checked it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<String>,
    /// The chain this pack vouches for, ending with its own entry: what `--checkpoint` writes.
    #[serde(skip)]
    pub chain: Vec<Entry>,
}

/// Could not run at all (exit 2): the pack or trust list cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{path}: {err}")]
    Io { path: PathBuf, err: std::io::Error },
    #[error(transparent)]
    Key(#[from] crate::sign::Error),
    #[error("{0}: neither a pack directory, a .tar pack nor a ledger.jsonl")]
    NotAPack(PathBuf),
}

/// Where a pack's bytes are.
enum Source {
    Dir { dir: PathBuf, files: Vec<String> },
    Archive { path: PathBuf, members: Vec<archive::Member> },
}

/// Small files every check needs, and the hash of every file.
struct Contents {
    /// path → (size, sha256) for every file present.
    hashes: BTreeMap<String, (u64, String)>,
    small: BTreeMap<String, Vec<u8>>,
}

const SMALL: [&str; 6] = [pack::MANIFEST, pack::SIGNATURE, pack::SUMS, pack::SIGNER, pack::LEDGER, pack::TIMESTAMP];
/// The files outside the manifest's list: the manifest, its signature, the sums, the timestamp.
const UNLISTED: [&str; 4] = [pack::MANIFEST, pack::SIGNATURE, pack::SUMS, pack::TIMESTAMP];

/// The largest certificate file (JSON or PDF) `verify` reads: a genuine one is a few hundred
/// kilobytes, a lot certificate of thousands of drives a few megabytes.
const CERTIFICATE_FILE_MAX: u64 = 16 << 20;

/// Certificates of sanitization a pack carries, checked as `verify CERT` checks them. A genuine
/// one is a few kilobytes; a larger file is not read (and fails as `certificate-invalid`).
const CERTIFICATE_MAX: u64 = 1 << 20;

/// The most of each small file `verify` reads into memory before the signature is checked; a
/// larger one is not read and fails as `file-too-large` (a genuine one is far smaller).
fn small_limit(name: &str) -> u64 {
    match name {
        pack::SIGNATURE => 1024,
        pack::TIMESTAMP => crate::timestamp::MAX_BYTES as u64,
        pack::SIGNER => 16 << 10,
        _ => 64 << 20,
    }
}

fn is_pack_certificate(path: &str) -> bool {
    path.strip_prefix("certificates/").is_some_and(|f| !f.contains('/')) && path.ends_with(".json")
}

/// The revocations a pack carries (`certificates/revocations/ID.json`).
fn is_pack_revocation(path: &str) -> bool {
    path.strip_prefix("certificates/revocations/").is_some_and(|f| !f.contains('/')) && path.ends_with(".json")
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |source| Error::Io { path: path.into(), err: source }
}

fn hash_reader(mut r: impl Read, buf: &mut [u8]) -> std::io::Result<(u64, String)> {
    let mut h = Sha256::new();
    let mut n = 0u64;
    loop {
        let k = r.read(buf)?;
        if k == 0 {
            break;
        }
        h.update(&buf[..k]);
        n += k as u64;
    }
    Ok((n, hex::encode(h.finalize())))
}

/// Hashes jobs on every core: one reader per core with a fixed 1 MiB buffer, so memory does not
/// grow with the pack. Largest files first keeps the cores busy to the end.
fn hash_all<J: Sync>(jobs: &[J], size: impl Fn(&J) -> u64, open: impl Fn(&J) -> std::io::Result<Box<dyn Read>> + Sync) -> Vec<std::io::Result<(u64, String)>> {
    let mut order: Vec<usize> = (0..jobs.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(size(&jobs[i])));
    let next = std::sync::atomic::AtomicUsize::new(0);
    type Slot = std::sync::Mutex<Option<std::io::Result<(u64, String)>>>;
    let results: Vec<Slot> = jobs.iter().map(|_| std::sync::Mutex::new(None)).collect();
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get()).min(jobs.len().max(1));
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                let mut buf = vec![0u8; 1 << 20];
                loop {
                    let k = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(&i) = order.get(k) else { break };
                    let r = open(&jobs[i]).and_then(|r| hash_reader(r, &mut buf));
                    *results[i].lock().expect("no poisoned lock") = Some(r);
                }
            });
        }
    });
    results.into_iter().map(|m| m.into_inner().expect("no poisoned lock").expect("every job ran")).collect()
}

impl Source {
    fn read(&self) -> Result<Contents, Error> {
        match self {
            Source::Dir { dir, files } => {
                let open = |f: &String| archive::open_regular(&dir.join(f));
                let results = hash_all(files, |f| std::fs::symlink_metadata(dir.join(f)).map_or(0, |m| m.len()), |f| Ok(Box::new(open(f)?)));
                let mut hashes = BTreeMap::new();
                for (f, r) in files.iter().zip(results) {
                    hashes.insert(f.clone(), r.map_err(io(&dir.join(f)))?);
                }
                let mut small = BTreeMap::new();
                for name in SMALL {
                    // Read before any signature is checked: bounded, and only a regular file.
                    if hashes.get(name).is_some_and(|(size, _)| *size <= small_limit(name)) {
                        let mut b = Vec::new();
                        open(&name.to_string()).and_then(|f| f.take(small_limit(name)).read_to_end(&mut b)).map_err(io(&dir.join(name)))?;
                        small.insert(name.to_string(), b);
                    }
                }
                for (f, (size, _)) in hashes.iter().filter(|(f, (size, _))| (is_pack_certificate(f) || is_pack_revocation(f)) && *size <= CERTIFICATE_MAX) {
                    let mut b = Vec::with_capacity(*size as usize);
                    open(f).and_then(|h| h.take(CERTIFICATE_MAX).read_to_end(&mut b)).map_err(io(&dir.join(f)))?;
                    small.insert(f.clone(), b);
                }
                Ok(Contents { hashes, small })
            }
            Source::Archive { path, members } => {
                let open = |m: &archive::Member| -> std::io::Result<Box<dyn Read>> {
                    use std::io::Seek;
                    let mut f = std::fs::File::open(path)?;
                    f.seek(std::io::SeekFrom::Start(m.offset))?;
                    Ok(Box::new(f.take(m.size)))
                };
                let results = hash_all(members, |m| m.size, open);
                let mut hashes = BTreeMap::new();
                let mut small = BTreeMap::new();
                for (m, r) in members.iter().zip(results) {
                    let r = r.map_err(io(path))?;
                    if r.0 != m.size {
                        return Err(Error::Io { path: path.clone(), err: std::io::Error::other(format!("archive ends inside '{}'", m.path)) });
                    }
                    hashes.insert(m.path.clone(), r);
                    if (SMALL.contains(&m.path.as_str()) && m.size <= small_limit(&m.path))
                        || ((is_pack_certificate(&m.path) || is_pack_revocation(&m.path)) && m.size <= CERTIFICATE_MAX)
                    {
                        let mut b = Vec::new();
                        open(m).and_then(|mut r| r.read_to_end(&mut b)).map_err(io(path))?;
                        small.insert(m.path.clone(), b);
                    }
                }
                Ok(Contents { hashes, small })
            }
        }
    }
}

struct Report {
    checks: Vec<Check>,
}

impl Report {
    fn ok(&mut self, code: Code, detail: impl Into<String>) {
        self.checks.push(Check { code, ok: true, detail: detail.into() });
    }
    fn fail(&mut self, code: Code, detail: impl Into<String>) {
        self.checks.push(Check { code, ok: false, detail: detail.into() });
    }
    fn failed(&self) -> bool {
        self.checks.iter().any(|c| !c.ok)
    }
}

/// Opens a pack: a directory, or a .tar after its safety pass. `Ok(Err(..))` is an unsafe archive.
fn open(path: &Path) -> Result<Result<Source, String>, Error> {
    if path.is_dir() {
        return Ok(archive::walk_strict(path).map_err(io(path))?.map(|files| Source::Dir { dir: path.into(), files }));
    }
    if path.is_file() {
        return Ok(archive::members(path).map_err(io(path))?.map(|members| Source::Archive { path: path.into(), members }));
    }
    Err(Error::NotAPack(path.into()))
}

/// Opens one file of a pack (directory or archive) for reading, after the same safety pass
/// `verify` makes: `Ok(None)` when the pack does not hold it. The caller checks its hash
/// against a verified manifest before trusting a byte of it.
pub fn open_member(path: &Path, member: &str) -> Result<Option<Box<dyn Read>>, Error> {
    let unsafe_pack = |why: String| Error::Io { path: path.into(), err: std::io::Error::other(why) };
    match open(path)?.map_err(unsafe_pack)? {
        Source::Dir { dir, files } => match files.iter().find(|f| *f == member) {
            Some(f) => Ok(Some(Box::new(archive::open_regular(&dir.join(f)).map_err(io(&dir.join(f)))?))),
            None => Ok(None),
        },
        Source::Archive { path, members } => match members.into_iter().find(|m| m.path == member) {
            Some(m) => {
                use std::io::Seek;
                let mut f = std::fs::File::open(&path).map_err(io(&path))?;
                f.seek(std::io::SeekFrom::Start(m.offset)).map_err(io(&path))?;
                Ok(Some(Box::new(f.take(m.size))))
            }
            None => Ok(None),
        },
    }
}

/// The pack's timestamp (`manifest.tsr`): checked against the auditor's TSA roots when given
/// (signature, chain, EKU, imprint over manifest.json), else said to be present and unchecked;
/// under `--since`, not older than the older pack's own timestamp.
fn check_timestamp(c: &Contents, since: Option<&Path>, roots: Option<&[x509_cert::Certificate]>, r: &mut Report, out: &mut Outcome) -> Result<(), Error> {
    let (Some(mbytes), tsr) = (c.small.get(pack::MANIFEST), c.small.get(pack::TIMESTAMP)) else { return Ok(()) };
    let (tsr, roots) = match (tsr, roots) {
        (None, None) => return Ok(()),
        (None, Some(_)) => {
            r.fail(Code::TimestampMissing, "no manifest.tsr: --tsa-trust asks for a timestamp, and the pack has none");
            return Ok(());
        }
        (Some(_), None) => {
            r.ok(Code::TimestampUnchecked, "manifest.tsr is present, not checked: give --tsa-trust ROOT.pem to check it");
            return Ok(());
        }
        (Some(t), Some(roots)) => (t, roots),
    };
    let sha: [u8; 32] = Sha256::digest(mbytes).into();
    let stamp = match crate::timestamp::verify(tsr, &sha, roots) {
        Ok(s) => s,
        Err(f) => {
            r.fail(f.code(), format!("manifest.tsr: {f}"));
            return Ok(());
        }
    };
    out.timestamp = Some(stamp.gen_time.to_rfc3339());
    r.ok(Code::Timestamp, format!("manifest.json existed at {} (RFC 3161, {}, serial {})", stamp.gen_time.to_rfc3339(), stamp.tsa, stamp.serial));
    let Some(older) = since.filter(|p| p.extension().is_none_or(|e| e != "jsonl")) else { return Ok(()) };
    let Ok(src) = open(older)? else { return Ok(()) };
    let oc = src.read()?;
    if let (Some(om), Some(ot)) = (oc.small.get(pack::MANIFEST), oc.small.get(pack::TIMESTAMP)) {
        let osha: [u8; 32] = Sha256::digest(om).into();
        if let Ok(old) = crate::timestamp::verify(ot, &osha, roots)
            && old.gen_time > stamp.gen_time
        {
            let (new, old) = (stamp.gen_time.to_rfc3339(), old.gen_time.to_rfc3339());
            r.fail(Code::TimestampBackwards, format!("this pack is time-stamped {new}, before the older pack ({old}): the chain's timestamps go backwards"));
        }
    }
    Ok(())
}

/// The chain a trusted older pack or ledger vouches for (its ledger plus its own entry).
fn older_chain(path: &Path) -> Result<Result<Vec<Entry>, String>, Error> {
    if path.is_file() && path.extension().is_some_and(|e| e == "jsonl") {
        let mut bytes = Vec::new();
        std::fs::File::open(path).and_then(|f| f.take(64 << 20).read_to_end(&mut bytes)).map_err(io(path))?;
        return Ok(ledger::parse_jsonl(&bytes));
    }
    let src = match open(path)? {
        Ok(s) => s,
        Err(why) => return Ok(Err(why)),
    };
    let c = src.read()?;
    let (Some(m), Some(l)) = (c.small.get(pack::MANIFEST), c.small.get(pack::LEDGER)) else {
        return Ok(Err("it has no manifest.json or ledger.jsonl".into()));
    };
    let manifest: Manifest = match serde_json::from_slice(m) {
        Ok(m) => m,
        Err(e) => return Ok(Err(format!("its manifest.json does not parse: {e}"))),
    };
    let mut chain = match ledger::parse_jsonl(l) {
        Ok(c) => c,
        Err(e) => return Ok(Err(e)),
    };
    chain.push(manifest.entry(&hex::encode(Sha256::digest(m))));
    Ok(Ok(chain))
}

/// Verifies the pack at `path` against the auditor's trust list.
pub fn pack(path: &Path, trust: &TrustList, since: Option<&Path>) -> Result<Outcome, Error> {
    pack_with(path, trust, since, None)
}

/// Verifies a pack, and its RFC 3161 timestamp against the TSA roots when they are given.
pub fn pack_with(path: &Path, trust: &TrustList, since: Option<&Path>, tsa_roots: Option<&[x509_cert::Certificate]>) -> Result<Outcome, Error> {
    let mut out = Outcome {
        timestamp: None,
        kind: "pack",
        pack: path.display().to_string(),
        verified: false,
        signer: None,
        seq: None,
        manifest_sha256: None,
        checks: Vec::new(),
        chain: Vec::new(),
    };
    let mut r = Report { checks: Vec::new() };
    let src = match open(path)? {
        Ok(s) => s,
        Err(why) if path.is_dir() => {
            r.fail(Code::PathUnsafe, format!("{why}; nothing was read"));
            out.checks = r.checks;
            return Ok(out);
        }
        Err(why) => {
            r.fail(Code::ArchiveUnsafe, format!("{why}; nothing was read or extracted"));
            out.checks = r.checks;
            return Ok(out);
        }
    };
    if let Source::Archive { members, .. } = &src {
        r.ok(Code::ArchiveSafe, format!("{} entries, no links, no '..' or absolute paths, no duplicates", members.len()));
    }
    let c = src.read()?;
    for name in SMALL {
        if c.hashes.contains_key(name) && !c.small.contains_key(name) {
            r.fail(Code::FileTooLarge, format!("{name}: {} bytes, more than the {} a genuine one can have; not read", c.hashes[name].0, small_limit(name)));
        }
    }
    check_contents(&c, trust, since, &mut r, &mut out)?;
    check_timestamp(&c, since, tsa_roots, &mut r, &mut out)?;
    if let Source::Archive { path, members } = &src {
        // An archive is accepted only as the exact bytes evident writes of its members: then
        // GNU tar, unzip or Python extract the very files that were hashed, and nothing else.
        let scope = c.small.get(pack::MANIFEST).and_then(|m| serde_json::from_slice::<Manifest>(m).ok()).map(|m| m.scope);
        match scope {
            None => r.fail(Code::ArchiveNotCanonical, "no readable manifest to rebuild the archive from"),
            Some(scope) => match archive::canonical(path, &scope, members).map_err(io(path))? {
                Ok(()) => r.ok(Code::ArchiveCanonical, "byte for byte the archive evident writes of these files: nothing hidden, nothing extracts differently"),
                Err(why) => r.fail(Code::ArchiveNotCanonical, why),
            },
        }
    }
    out.verified = !r.failed();
    out.checks = r.checks;
    Ok(out)
}

fn check_contents(c: &Contents, trust: &TrustList, since: Option<&Path>, r: &mut Report, out: &mut Outcome) -> Result<(), Error> {
    let Some(mbytes) = c.small.get(pack::MANIFEST) else {
        r.fail(Code::FileMissing, "manifest.json: nothing can be checked without it");
        return Ok(());
    };
    let manifest_sha256 = hex::encode(Sha256::digest(mbytes));
    out.manifest_sha256 = Some(manifest_sha256.clone());
    let format = serde_json::from_slice::<serde_json::Value>(mbytes).ok().and_then(|v| v.get("format").and_then(|f| f.as_str()).map(String::from));
    match format.as_deref() {
        Some(pack::FORMAT) => {}
        Some(other) => {
            r.fail(Code::FormatUnsupported, format!("manifest says format '{other}'; this evident reads '{}'", pack::FORMAT));
            return Ok(());
        }
        None => {}
    }
    let manifest: Manifest = match serde_json::from_slice(mbytes) {
        Ok(m) => m,
        Err(e) => {
            r.fail(Code::ManifestInvalid, format!("manifest.json: {e}"));
            return Ok(());
        }
    };
    out.seq = Some(manifest.seq);
    if manifest.to_canonical() != *mbytes {
        r.fail(Code::ManifestNotCanonical, "manifest.json is not in RFC 8785 canonical form");
    }
    r.ok(Code::Format, format!("{} (evident {}), {}, seq {}", manifest.format, manifest.tool.version, manifest.scope, manifest.seq));
    check_signature(c, &manifest, mbytes, trust, r, out);
    check_files(c, &manifest, r);
    check_sums(c, &manifest, &manifest_sha256, r);
    out.chain = check_chain(c, &manifest, &manifest_sha256, since, r)?;
    check_chain_signers(&out.chain, trust, r);
    check_certificates(c, &manifest, trust, r);
    Ok(())
}

/// Every certificate of sanitization the pack carries must verify on its own (canonical record,
/// record hash, both signatures, trusted keys in their roles, independence): a pack must not
/// carry a forged certificate behind a valid pack signature.
fn check_certificates(c: &Contents, m: &Manifest, trust: &TrustList, r: &mut Report) {
    let listed: Vec<&str> = m.files.iter().map(|f| f.path.as_str()).filter(|p| is_pack_certificate(p)).collect();
    if listed.is_empty() {
        return;
    }
    let mut bad = 0;
    for path in &listed {
        let Some(bytes) = c.small.get(*path) else {
            if c.hashes.contains_key(*path) {
                bad += 1;
                r.fail(Code::CertificateInvalid, format!("{path}: larger than {CERTIFICATE_MAX} bytes; not read"));
            }
            continue;
        };
        let failed: Vec<String> = match crate::certificate::record::Certificate::from_slice(bytes) {
            Err(e) => vec![format!("certificate-invalid ({e})")],
            Ok(cert) => {
                let mut failed = Vec::new();
                if cert.to_bytes() != *bytes {
                    failed.push(Code::CertificateNotCanonical.to_string());
                }
                let (checks, _) = crate::certificate::record::verify(&cert, trust);
                failed.extend(checks.iter().filter(|k| !k.ok).map(|k| format!("{} ({})", k.code, k.detail)));
                failed
            }
        };
        if !failed.is_empty() {
            bad += 1;
            r.fail(Code::CertificateInvalid, format!("{path}: {}", failed.join("; ")));
        }
    }
    // Each revocation must be one a trusted performer or verifier signed, in canonical form.
    for path in m.files.iter().map(|f| f.path.as_str()).filter(|p| is_pack_revocation(p)) {
        let why = match c.small.get(path).map(|b| (b, serde_json::from_slice::<crate::certificate::record::RevocationFile>(b))) {
            None => Some(format!("larger than {CERTIFICATE_MAX} bytes; not read")),
            Some((_, Err(e))) => Some(format!("not a revocation: {e}")),
            Some((b, Ok(f))) if f.to_bytes() != *b => Some("not in canonical form".into()),
            Some((_, Ok(f))) => f.check(trust).err(),
        };
        if let Some(why) = why {
            bad += 1;
            r.fail(Code::RevocationInvalid, format!("{path}: {why}"));
        }
    }
    if bad == 0 {
        r.ok(
            Code::Certificates,
            format!("{} certificates of sanitization verify: canonical, signed and countersigned by trusted keys in their roles", listed.len()),
        );
    }
}

fn check_signature(c: &Contents, m: &Manifest, mbytes: &[u8], trust: &TrustList, r: &mut Report, out: &mut Outcome) {
    let Some(pem) = c.small.get(pack::SIGNER) else {
        r.fail(Code::KeyMissing, "signer.pub.pem is missing");
        return;
    };
    let key = match std::str::from_utf8(pem).map_err(|e| e.to_string()).and_then(|t| PublicKey::from_pem(t, Path::new(pack::SIGNER)).map_err(|e| e.to_string()))
    {
        Ok(k) => k,
        Err(e) => {
            r.fail(Code::KeyInvalid, e);
            return;
        }
    };
    if key.key_id() != m.key_id {
        r.fail(Code::KeyMismatch, format!("manifest names key {} but signer.pub.pem is key {}", m.key_id, key.key_id()));
    }
    match c.small.get(pack::SIGNATURE) {
        None => r.fail(Code::SignatureMissing, "manifest.sig is missing"),
        Some(sig) if key.verify(mbytes, sig) => r.ok(Code::Signature, format!("Ed25519 over manifest.json by key {}", key.key_id())),
        Some(sig) => r.fail(Code::SignatureInvalid, format!("manifest.sig ({} bytes) is not key {}'s signature over manifest.json", sig.len(), key.key_id())),
    }
    match trust.standing(&key, Role::Compliance) {
        Standing::Untrusted => r.fail(Code::KeyUntrusted, format!("key {} is not in the trust list", key.key_id())),
        Standing::Trusted(t) => {
            r.ok(Code::KeyTrusted, format!("key {} = {} ({})", t.key_id, t.name, t.role));
            out.signer = Some(t.clone());
        }
        Standing::OtherRoles { name, roles } => r.fail(
            Code::KeyWrongRole,
            format!("key {} ({name}) is trusted as {}, but packs must be signed by a compliance key", key.key_id(), roles.join(", ")),
        ),
    }
}

fn check_files(c: &Contents, m: &Manifest, r: &mut Report) {
    let before = r.checks.len();
    let mut bytes = 0u64;
    let mut listed = std::collections::BTreeSet::new();
    let hex64 = |s: &str| s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    if let Some(bad) = m.files.iter().find(|f| !hex64(&f.sha256)) {
        r.fail(Code::ManifestInvalid, format!("{}: sha256 is not 64 lowercase hex digits", bad.path.escape_debug()));
    }
    for f in &m.files {
        listed.insert(f.path.as_str());
        match c.hashes.get(&f.path) {
            None => r.fail(Code::FileMissing, format!("{}: in the manifest, not in the pack", f.path)),
            Some((size, sha)) if *size != f.size || *sha != f.sha256 => r.fail(
                Code::FileHashMismatch,
                format!("{}: {} bytes, sha256 {} (manifest: {} bytes, {})", f.path, size, &sha[..16], f.size, f.sha256.chars().take(16).collect::<String>()),
            ),
            Some((size, _)) => bytes += size,
        }
    }
    for p in c.hashes.keys() {
        if !listed.contains(p.as_str()) && !UNLISTED.contains(&p.as_str()) {
            r.fail(Code::FileUnexpected, format!("{p}: in the pack, not in the manifest"));
        }
    }
    let mut sorted = m.files.clone();
    sorted.sort();
    sorted.dedup_by(|a, b| a.path == b.path);
    if sorted != m.files {
        r.fail(Code::ManifestInvalid, "manifest files are not sorted by path, or repeat a path");
    }
    if r.checks.len() == before {
        r.ok(Code::Files, format!("{} files, {} bytes, each matches its size and SHA-256", m.files.len(), bytes));
    }
    let root = pack::merkle_root(&m.files);
    if root == m.merkle_root {
        r.ok(Code::MerkleRoot, format!("{root} over {} files", m.files.len()));
    } else {
        r.fail(Code::MerkleMismatch, format!("recomputed {root}, manifest says {}", m.merkle_root));
    }
}

fn check_sums(c: &Contents, m: &Manifest, manifest_sha256: &str, r: &mut Report) {
    let Some(sums) = c.small.get(pack::SUMS) else {
        r.fail(Code::FileMissing, "SHA256SUMS is missing");
        return;
    };
    let want = pack::sums_text(&m.files, manifest_sha256);
    if *sums == want.as_bytes() {
        r.ok(Code::Sums, "SHA256SUMS lists exactly the manifest's files and manifest.json");
        return;
    }
    let have = String::from_utf8_lossy(sums);
    let have: std::collections::BTreeSet<&str> = have.lines().collect();
    let wanted: std::collections::BTreeSet<&str> = want.lines().collect();
    let diff: Vec<String> = have.symmetric_difference(&wanted).take(3).map(|l| format!("'{l}'")).collect();
    r.fail(Code::SumsMismatch, format!("SHA256SUMS disagrees with manifest.json: {}", diff.join(", ")));
}

fn check_chain(c: &Contents, m: &Manifest, manifest_sha256: &str, since: Option<&Path>, r: &mut Report) -> Result<Vec<Entry>, Error> {
    let ledger_bytes = c.small.get(pack::LEDGER).cloned().unwrap_or_default();
    let mut chain = match ledger::parse_jsonl(&ledger_bytes) {
        Ok(c) => c,
        Err(e) => {
            r.fail(Code::LedgerInvalid, e);
            return Ok(Vec::new());
        }
    };
    chain.push(m.entry(manifest_sha256));
    let findings = ledger::check_links(&chain);
    if findings.is_empty() {
        r.ok(Code::Chain, format!("seq {} with {} earlier packs, each naming its predecessor", m.seq, chain.len() - 1));
    }
    for f in findings {
        r.fail(f.code, f.detail);
    }
    if let Some(older) = since {
        match older_chain(older)? {
            Err(why) => r.fail(Code::SinceInvalid, format!("{}: {why}", older.display())),
            Ok(old) => {
                let findings = ledger::check_extends(&old, &chain);
                if findings.is_empty() {
                    r.ok(Code::Since, format!("extends the trusted chain up to seq {} unchanged", old.last().map_or(0, |e| e.seq)));
                }
                for f in findings {
                    r.fail(f.code, f.detail);
                }
            }
        }
    }
    Ok(chain)
}

/// Every earlier pack of the chain was signed by a compliance key: a key the trust list holds only
/// for another role (a performer's, say) is named. A key the list does not hold at all is not a
/// finding here (keys rotate; the older pack was verified with its own list).
fn check_chain_signers(chain: &[Entry], trust: &TrustList, r: &mut Report) {
    for e in chain.iter().rev().skip(1) {
        let entries = trust.by_key_id(&e.key_id);
        if !entries.is_empty() && !entries.iter().any(|t| t.role == Role::Compliance) {
            let roles: Vec<&str> = entries.iter().map(|t| t.role.as_str()).collect();
            r.fail(
                Code::KeyWrongRole,
                format!(
                    "pack seq {} of the chain was signed by key {} ({}), trusted as {}, not as compliance",
                    e.seq,
                    e.key_id,
                    entries[0].name,
                    roles.join(", ")
                ),
            );
        }
    }
}

/// Files of a manifest, for tests and tools that reseal packs.
pub fn manifest_files(dir: &Path) -> std::io::Result<Vec<FileEntry>> {
    let mut out = Vec::new();
    let mut buf = vec![0u8; 1 << 20];
    for rel in archive::walk(dir)? {
        if UNLISTED.contains(&rel.as_str()) {
            continue;
        }
        let (size, sha256) = hash_reader(std::fs::File::open(dir.join(&rel))?, &mut buf)?;
        out.push(FileEntry { path: rel, size, sha256 });
    }
    Ok(out)
}

/// The verdict on a certificate (JSON, or a PDF that embeds it).
#[derive(Debug, Serialize)]
pub struct CertificateOutcome {
    /// Always `certificate`.
    pub kind: &'static str,
    pub certificate: String,
    pub id: Option<String>,
    pub record_sha256: Option<String>,
    pub verified: bool,
    pub signers: Vec<Trusted>,
    pub checks: Vec<Check>,
}

/// Verifies a certificate file. A PDF must carry exactly one attached certificate, and must be
/// byte for byte the rendering of it: so neither its attachment nor its printed pages can be
/// swapped or edited without the verdict failing.
pub fn certificate(path: &Path, trust: &TrustList) -> Result<CertificateOutcome, Error> {
    certificate_with(path, trust, None)
}

/// Verifies a certificate file, and its signatures' RFC 3161 timestamps against the TSA roots
/// when they are given.
pub fn certificate_with(path: &Path, trust: &TrustList, tsa_roots: Option<&[x509_cert::Certificate]>) -> Result<CertificateOutcome, Error> {
    use crate::certificate::{pdf, record::Certificate};
    let mut out = CertificateOutcome {
        kind: "certificate",
        certificate: path.display().to_string(),
        id: None,
        record_sha256: None,
        verified: false,
        signers: Vec::new(),
        checks: Vec::new(),
    };
    let Some(bytes) = read_certificate(path)? else {
        out.checks.push(Check { code: Code::FileTooLarge, ok: false, detail: format!("more than {CERTIFICATE_FILE_MAX} bytes; not read") });
        return Ok(out);
    };
    let mut checks = Vec::new();
    let is_pdf = bytes.starts_with(b"%PDF-");
    let json = if is_pdf {
        match pdf::attachment(&bytes) {
            Ok(j) => {
                checks.push(Check { code: Code::PdfAttachment, ok: true, detail: format!("one attached certificate.json ({} bytes)", j.len()) });
                j
            }
            Err(e) => {
                checks.push(Check { code: Code::PdfAttachmentMissing, ok: false, detail: e });
                out.checks = checks;
                return Ok(out);
            }
        }
    } else {
        bytes.clone()
    };
    let cert = match Certificate::from_slice(&json) {
        Ok(c) => c,
        Err(e) => {
            checks.push(Check { code: Code::CertificateInvalid, ok: false, detail: e });
            out.checks = checks;
            return Ok(out);
        }
    };
    if cert.to_bytes() != json {
        checks.push(Check {
            code: Code::CertificateNotCanonical,
            ok: false,
            detail: "the file is not the canonical JSON evident writes (RFC 8785 and a newline)".into(),
        });
    }
    let (more, signers) = crate::certificate::record::verify(&cert, trust);
    checks.extend(more);
    if is_pdf {
        checks.push(rendering(&cert, &json, &bytes, checks.iter().all(|c| c.ok)));
    }
    checks.extend(certificate_timestamps(&cert, tsa_roots));
    out.verified = checks.iter().all(|c| c.ok);
    out.id = Some(cert.record.id.clone());
    out.record_sha256 = Some(cert.record_sha256.clone());
    out.signers = signers;
    out.checks = checks;
    Ok(out)
}

/// Each timestamp of a certificate, over the raw bytes of the signature it names: checked
/// against the TSA roots when given, else said to be there and unchecked.
fn certificate_timestamps(cert: &crate::certificate::record::Certificate, roots: Option<&[x509_cert::Certificate]>) -> Vec<Check> {
    let check = |code, ok, detail: String| Check { code, ok, detail };
    let Some(roots) = roots else {
        return if cert.timestamps.is_empty() {
            Vec::new()
        } else {
            vec![check(Code::TimestampUnchecked, true, format!("{} timestamp(s), not checked: give --tsa-trust ROOT.pem to check them", cert.timestamps.len()))]
        };
    };
    if cert.timestamps.is_empty() {
        return vec![check(Code::TimestampMissing, false, "--tsa-trust asks for a timestamp, and the certificate has none".into())];
    }
    cert.timestamps
        .iter()
        .map(|t| {
            let over = serde_json::to_value(t.over).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default();
            let (Some(sig), Ok(reply)) = (cert.signature_bytes(t.over), hex::decode(&t.reply)) else {
                return check(Code::TimestampInvalid, false, format!("{over}: no such signature, or the reply is not hex"));
            };
            let digest: [u8; 32] = Sha256::digest(&sig).into();
            match crate::timestamp::verify(&reply, &digest, roots) {
                Ok(s) => check(Code::Timestamp, true, format!("{over} existed at {} (RFC 3161, {}, serial {})", s.gen_time.to_rfc3339(), s.tsa, s.serial)),
                Err(f) => check(f.code(), false, format!("{over}: {f}")),
            }
        })
        .collect()
}

/// Whether a pack withdraws a certificate: a revocation of it that a trusted performer or
/// verifier signed, or a correction that supersedes it and verifies itself.
pub fn withdrawn(id: &str, record_sha256: &str, pack_path: &Path, trust: &TrustList) -> Result<Vec<Check>, Error> {
    use crate::certificate::record::{Certificate, RevocationFile};
    let read = |member: &str| -> Result<Option<Vec<u8>>, Error> {
        let Some(r) = open_member(pack_path, member)? else { return Ok(None) };
        let mut b = Vec::new();
        r.take(CERTIFICATE_MAX + 1).read_to_end(&mut b).map_err(io(pack_path))?;
        Ok((b.len() as u64 <= CERTIFICATE_MAX).then_some(b))
    };
    let manifest: Manifest = match read(pack::MANIFEST)?.and_then(|m| serde_json::from_slice(&m).ok()) {
        Some(m) => m,
        None => return Err(Error::NotAPack(pack_path.into())),
    };
    let mut checks = Vec::new();
    for f in manifest.files.iter().filter(|f| is_pack_revocation(&f.path)) {
        let Some(r) = read(&f.path)?.and_then(|b| serde_json::from_slice::<RevocationFile>(&b).ok()) else { continue };
        if r.revocation.certificate == id && r.revocation.record_sha256 == record_sha256 {
            match r.check(trust) {
                Ok(t) => checks.push(Check {
                    code: Code::CertificateRevoked,
                    ok: false,
                    detail: format!("revoked on {} by {} ({}): {}", r.revocation.revoked_at, t.name, t.role, r.revocation.reason),
                }),
                Err(why) => checks.push(Check {
                    code: Code::RevocationInvalid,
                    ok: false,
                    detail: format!("{}: a revocation of it that does not verify: {why}", f.path),
                }),
            }
        }
    }
    for f in manifest.files.iter().filter(|f| is_pack_certificate(&f.path)) {
        let Some(c) = read(&f.path)?.and_then(|b| Certificate::from_slice(&b).ok()) else { continue };
        if c.record.supersedes.as_deref() == Some(id) && crate::certificate::record::verify(&c, trust).0.iter().all(|k| k.ok) {
            checks.push(Check {
                code: Code::CertificateSuperseded,
                ok: false,
                detail: format!("superseded by {} ({})", c.record.id, c.record.correction.as_deref().unwrap_or("no reason given")),
            });
        }
    }
    if checks.is_empty() {
        checks.push(Check { code: Code::Current, ok: true, detail: format!("{} neither revokes nor supersedes it", pack_path.display()) });
    }
    Ok(checks)
}

/// A certificate file's bytes, read only if it is not larger than a genuine one can be (None).
fn read_certificate(path: &Path) -> Result<Option<Vec<u8>>, Error> {
    let io_err = |err| Error::Io { path: path.to_path_buf(), err };
    let file = std::fs::File::open(path).map_err(io_err)?;
    if file.metadata().map_err(io_err)?.len() > CERTIFICATE_FILE_MAX {
        return Ok(None);
    }
    let mut bytes = Vec::new();
    file.take(CERTIFICATE_FILE_MAX + 1).read_to_end(&mut bytes).map_err(io_err)?;
    Ok((bytes.len() as u64 <= CERTIFICATE_FILE_MAX).then_some(bytes))
}

/// Whether a PDF is exactly the rendering of its attached record. Typst runs only on a record
/// whose hash, signatures and keys all checked out: nothing expensive on bytes nobody trusted
/// signed.
fn rendering(cert: &crate::certificate::record::Certificate, json: &[u8], pdf_bytes: &[u8], verified: bool) -> Check {
    if !verified {
        return Check { code: Code::PdfRenderingSkipped, ok: false, detail: "the attached record did not verify, so its rendering was not compared".into() };
    }
    // Rendered again as the PDF says it was (its evident version, kept template and typst
    // release), else as this build renders.
    let again = crate::certificate::pdf::renderer_of(pdf_bytes)
        .and_then(|creator| crate::certificate::pdf::render_as_attached(cert, json, &creator))
        .unwrap_or_else(|| crate::certificate::pdf::render_parts(cert, json));
    match again {
        Ok(again) if again == pdf_bytes => {
            Check { code: Code::PdfRendering, ok: true, detail: "the PDF is exactly the rendering of its attached record".into() }
        }
        Ok(_) => {
            let ours = crate::certificate::pdf::renderer();
            let detail = match crate::certificate::pdf::renderer_of(pdf_bytes) {
                Some(theirs) if theirs != ours => format!(
                    "the PDF differs from the rendering of its attached record; it names another renderer ({}), this is {ours}: check it with that evident, or its record with `evident verify` on the attached JSON",
                    theirs.chars().filter(|c| !c.is_control()).collect::<String>()
                ),
                _ => "the PDF differs from the rendering of its attached record: its pages or its attachment were changed".into(),
            };
            Check { code: Code::PdfRenderingMismatch, ok: false, detail }
        }
        Err(e) => Check { code: Code::PdfRenderingMismatch, ok: false, detail: format!("the attached record does not render: {e}") },
    }
}

/// Whether a path names a certificate rather than a pack.
pub fn is_certificate(path: &Path) -> bool {
    path.is_file()
        && path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("pdf") || (e.eq_ignore_ascii_case("json") && path.file_name().is_some_and(|n| n != "manifest.json")))
}
