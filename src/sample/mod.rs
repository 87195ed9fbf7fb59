//! Audit samples drawn from a verified pack (`evident-sample/1`, docs/FORMAT.md §8): the items
//! ranked by a SHA-256 anyone can recompute from the seed, the pack and the population file, the
//! smallest taken, the whole signed by the auditor; and the check that re-derives a sample.

pub mod workpaper;

use crate::certificate::record::Signature;
use crate::check::{Check, Code};
use crate::ledger::Scope;
use crate::pack::format::{FileEntry, MANIFEST, Manifest};
use crate::sign::{PublicKey, Role, SecretKey, Standing, TrustList, Trusted};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

pub const FORMAT: &str = "evident-sample/1";
/// The ranking rule: SHA-256 over `SEED\nMANIFEST_SHA256\nPOPULATION_PATH\nITEM\n`, smallest first.
pub const RULE: &str = "sha256-rank/1";
/// The largest sample file `verify` reads (a genuine one of 25 items is a few kilobytes).
const SAMPLE_FILE_MAX: u64 = 64 << 20;
/// The longest population line read: a genuine one is well under a kilobyte.
const LINE_MAX: u64 = 16 << 20;

/// What a sample may be drawn from besides a JSONL file of the pack: a directory of the
/// manifest, each file one item (the certificates, the raw exports).
pub const LISTINGS: [&str; 2] = ["certificates/", "sources/"];

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Verify(#[from] crate::verify::Error),
    #[error("{pack} does not verify ({failed}): a sample is drawn only from a pack that verifies")]
    PackNotVerified { pack: String, failed: String },
    #[error("{pack} has no population {path}")]
    NoPopulation { pack: String, path: String, hint: String },
    #[error("{path}:{line}: {why}")]
    BadLine { path: String, line: u64, why: String },
    #[error("{path} changed while it was read: its SHA-256 is not the one the manifest names")]
    Changed { path: String },
    #[error("--seed: {0}")]
    BadSeed(String),
    #[error("{path}: {why}")]
    BadTable { path: PathBuf, why: String },
    #[error("{0}")]
    Usage(String),
    #[error("{path}: {err}")]
    Io { path: PathBuf, err: std::io::Error },
}

impl Error {
    pub fn hint(&self) -> Option<String> {
        match self {
            Error::NoPopulation { hint, .. } => Some(hint.clone()),
            Error::PackNotVerified { .. } => Some("run `evident verify PACK --trust FILE` to see what fails".into()),
            Error::BadSeed(_) => Some("a seed is text you choose (a dice roll, a number): printable, no line breaks, at most 200 bytes".into()),
            _ => None,
        }
    }
}

/// How many items to take: a fixed number, or by population size (a table of bands).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum SizeRule {
    Fixed(u64),
    Table(Vec<Band>),
}

/// One band of a size table: populations up to `up_to` (the last band: any larger) take all
/// items, `take` items, or `percent` of them rounded up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Band {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub up_to: Option<u64>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub all: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub take: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub percent: Option<u64>,
}

impl SizeRule {
    /// The default table (one audit firm's published guidance; the AICPA prescribes none):
    /// up to 5 → all; 6–50 → 5; 51–250 → 10 % rounded up; over 250 → 25.
    pub fn default_table() -> SizeRule {
        let band = |up_to, all, take, percent| Band { up_to, all, take, percent };
        SizeRule::Table(vec![
            band(Some(5), true, None, None),
            band(Some(50), false, Some(5), None),
            band(Some(250), false, None, Some(10)),
            band(None, false, Some(25), None),
        ])
    }

    /// Reads a size table (TOML: `[[band]]` entries with `up_to` and one of `all`, `take`, `percent`).
    pub fn load_table(path: &Path) -> Result<SizeRule, Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct File {
            band: Vec<Band>,
        }
        let bad = |why: String| Error::BadTable { path: path.into(), why };
        let text = std::fs::read_to_string(path).map_err(|err| Error::Io { path: path.into(), err })?;
        let file: File = toml::from_str(&text).map_err(|e| bad(e.to_string().trim().replace('\n', " ")))?;
        let rule = SizeRule::Table(file.band);
        rule.check().map_err(bad)?;
        Ok(rule)
    }

    /// A table's bands ascend, the last has no bound and every one says exactly one size.
    fn check(&self) -> Result<(), String> {
        let SizeRule::Table(bands) = self else { return Ok(()) };
        if bands.is_empty() {
            return Err("a size table needs at least one [[band]]".into());
        }
        let mut last = None;
        for (i, b) in bands.iter().enumerate() {
            let n = i + 1;
            if usize::from(b.all) + usize::from(b.take.is_some()) + usize::from(b.percent.is_some()) != 1 {
                return Err(format!("band {n}: give exactly one of all = true, take = N, percent = P"));
            }
            if b.percent.is_some_and(|p| p == 0 || p > 100) {
                return Err(format!("band {n}: percent must be 1 to 100"));
            }
            match (b.up_to, i + 1 == bands.len()) {
                (Some(_), true) => return Err(format!("band {n}: the last band has no up_to (it takes every larger population)")),
                (None, false) => return Err(format!("band {n}: every band but the last needs up_to")),
                (Some(u), false) if last.is_some_and(|l| u <= l) => return Err(format!("band {n}: up_to must grow from band to band")),
                _ => last = b.up_to,
            }
        }
        Ok(())
    }

    /// The sample size for a population of `n` items (never more than `n`).
    pub fn size(&self, n: u64) -> u64 {
        let k = match self {
            SizeRule::Fixed(k) => *k,
            SizeRule::Table(bands) => {
                let Some(b) = bands.iter().find(|b| b.up_to.is_none_or(|u| n <= u)) else { return 0 };
                match (b.all, b.take, b.percent) {
                    (true, ..) => n,
                    (_, Some(t), _) => t,
                    (_, _, Some(p)) => (n * p).div_ceil(100),
                    _ => 0,
                }
            }
        };
        k.min(n)
    }
}

/// The pack a sample was drawn from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackRef {
    pub manifest_sha256: String,
    pub key_id: String,
    pub seq: u64,
    pub scope: Scope,
}

/// The population: a file of the pack (or a directory of its manifest) and how many items it held.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Population {
    /// `results/controls/ID/DATE.jsonl`, another JSONL file of the pack, or `certificates/`, `sources/`.
    pub path: String,
    /// SHA-256 of that file (of manifest.json for a directory).
    pub sha256: String,
    pub control: Option<String>,
    pub date: Option<chrono::NaiveDate>,
    /// Only items with these outcomes (e.g. the exceptions: fail, excepted); empty: every item.
    pub outcomes: Vec<String>,
    /// Items in the population (after `outcomes`).
    pub items: u64,
}

/// One selected item: its rank, the line of the population file, that line as written, and the
/// records (`source:file@sha12:line[:pointer]`) behind it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Item {
    pub rank: String,
    pub item: String,
    pub line: u64,
    pub entry: serde_json::Map<String, serde_json::Value>,
    pub records: Vec<String>,
}

/// What the auditor signs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sample {
    pub format: String,
    pub pack: PackRef,
    pub population: Population,
    pub seed: String,
    pub rule: String,
    pub size: SizeRule,
    pub selected: Vec<Item>,
}

/// The sample file: the sample, its hash and the auditor's signature over its canonical bytes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SampleFile {
    pub sample: Sample,
    pub sample_sha256: String,
    pub auditor_signature: Signature,
    /// An RFC 3161 reply (the TSA's DER TimeStampResp, hex) over the raw bytes of the auditor's
    /// signature: when the sample was drawn, said by a TSA (outside what is signed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<String>,
}

/// The canonical bytes of a sample (RFC 8785): strings, integers and maps, as the certificate
/// record's (`record::jcs` says why this cannot fail).
pub fn canonical(sample: &Sample) -> Vec<u8> {
    crate::certificate::record::jcs(sample)
}

impl SampleFile {
    /// Signs a sample with the auditor's key.
    pub fn sign(sample: Sample, key: &SecretKey) -> SampleFile {
        let bytes = canonical(&sample);
        let public = key.public();
        let auditor_signature = Signature {
            role: Role::Auditor,
            key_id: public.key_id(),
            public_key: public.raw_hex(),
            signature: hex::encode(key.sign(&bytes)),
            name: None,
            signed_at: None,
        };
        SampleFile { sample, sample_sha256: hex::encode(Sha256::digest(&bytes)), auditor_signature, timestamp: None }
    }

    /// The raw bytes of the auditor's signature (what a timestamp covers).
    pub fn signature_bytes(&self) -> Vec<u8> {
        hex::decode(&self.auditor_signature.signature).unwrap_or_default()
    }

    /// The file bytes: canonical JSON and a newline.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut b = crate::certificate::record::jcs(self);
        b.push(b'\n');
        b
    }
}

/// The rank of an item: what the stock recipe of docs/FORMAT.md §8 computes with sha256sum.
pub fn rank(seed: &str, manifest_sha256: &str, path: &str, item: &str) -> [u8; 32] {
    Sha256::digest(format!("{seed}\n{manifest_sha256}\n{path}\n{item}\n")).into()
}

/// A seed is the auditor's text: printable, one line, short.
pub fn check_seed(seed: &str) -> Result<(), Error> {
    if seed.is_empty() || seed.len() > 200 || seed.chars().any(char::is_control) {
        return Err(Error::BadSeed(format!("{:?} is empty, longer than 200 bytes, or holds a control character", seed.chars().take(40).collect::<String>())));
    }
    Ok(())
}

/// A pack that verified, with its manifest as read.
pub struct Verified {
    pub path: PathBuf,
    pub manifest: Manifest,
    pub manifest_sha256: String,
    pub outcome: crate::verify::Outcome,
}

/// Verifies the pack and reads its manifest: a sample is drawn only from a pack that verifies.
pub fn verified_pack(pack: &Path, trust: &TrustList) -> Result<Verified, Error> {
    let outcome = crate::verify::pack(pack, trust, None)?;
    let show = pack.display().to_string();
    if !outcome.verified {
        let failed: Vec<&str> = outcome.checks.iter().filter(|c| !c.ok).map(|c| c.code.as_str()).collect();
        return Err(Error::PackNotVerified { pack: show, failed: failed.join(", ") });
    }
    let mut bytes = Vec::new();
    let mut r = crate::verify::open_member(pack, MANIFEST)?.ok_or_else(|| Error::Changed { path: MANIFEST.into() })?;
    r.by_ref().take(64 << 20).read_to_end(&mut bytes).map_err(|err| Error::Io { path: pack.into(), err })?;
    let manifest_sha256 = hex::encode(Sha256::digest(&bytes));
    if outcome.manifest_sha256.as_deref() != Some(manifest_sha256.as_str()) {
        return Err(Error::Changed { path: MANIFEST.into() });
    }
    let manifest: Manifest = serde_json::from_slice(&bytes).map_err(|_| Error::Changed { path: MANIFEST.into() })?;
    Ok(Verified { path: pack.into(), manifest, manifest_sha256, outcome })
}

/// What to draw from: a control's population at a date, or a named population of the pack.
pub enum Choice<'a> {
    Control { id: &'a str, date: Option<chrono::NaiveDate> },
    Path(&'a str),
}

impl Verified {
    fn file(&self, path: &str) -> Option<&FileEntry> {
        self.manifest.files.iter().find(|f| f.path == path)
    }

    /// Every population a sample may be drawn from: each JSONL file under results/, and the listings.
    pub fn populations(&self) -> Vec<String> {
        let mut all: Vec<String> =
            self.manifest.files.iter().filter(|f| f.path.starts_with("results/") && f.path.ends_with(".jsonl")).map(|f| f.path.clone()).collect();
        all.extend(LISTINGS.iter().map(|s| s.to_string()));
        all
    }

    /// The population file a choice names, checked against the manifest.
    pub fn resolve(&self, choice: &Choice) -> Result<String, Error> {
        let missing = |path: String, hint: String| Error::NoPopulation { pack: self.path.display().to_string(), path, hint };
        match choice {
            Choice::Control { id, date: Some(d) } => {
                let path = format!("results/controls/{id}/{d}.jsonl");
                let dates = self.control_dates(id);
                match self.file(&path) {
                    Some(_) => Ok(path),
                    None => Err(missing(path, format!("{id} has populations at: {}", if dates.is_empty() { "none".into() } else { dates.join(", ") }))),
                }
            }
            Choice::Control { id, date: None } => {
                let dates = self.control_dates(id);
                match dates.as_slice() {
                    [one] => Ok(format!("results/controls/{id}/{one}.jsonl")),
                    [] => Err(missing(
                        format!("results/controls/{id}/"),
                        "the controls with populations are in results/controls/ (see the pack's evaluation.json)".into(),
                    )),
                    many => Err(missing(
                        format!("results/controls/{id}/"),
                        format!("{id} has one population per sample date: give --sample-date, one of {}", many.join(", ")),
                    )),
                }
            }
            Choice::Path(p) if LISTINGS.contains(p) || (self.file(p).is_some() && self.populations().iter().any(|q| q == p)) => Ok(p.to_string()),
            Choice::Path(p) => Err(missing(p.to_string(), format!("the pack's populations: {}", self.populations().join(", ")))),
        }
    }

    fn control_dates(&self, id: &str) -> Vec<String> {
        let prefix = format!("results/controls/{id}/");
        self.manifest.files.iter().filter_map(|f| f.path.strip_prefix(&prefix)?.strip_suffix(".jsonl").map(String::from)).collect()
    }

    fn reader(&self, path: &str) -> Result<BufReader<Box<dyn Read>>, Error> {
        let r = crate::verify::open_member(&self.path, path)?.ok_or_else(|| Error::Changed { path: path.into() })?;
        Ok(BufReader::with_capacity(1 << 20, r))
    }

    /// Reads a JSONL file of the pack line by line (bounded), checking its SHA-256 against the
    /// manifest at the end: `f` sees (line number, bytes).
    fn each_line(&self, path: &str, f: &mut LineFn) -> Result<(), Error> {
        let want = self.file(path).map(|e| e.sha256.clone()).ok_or_else(|| Error::Changed { path: path.into() })?;
        let mut r = self.reader(path)?;
        let mut h = Sha256::new();
        let mut buf = Vec::new();
        let mut n = 0;
        loop {
            buf.clear();
            let k = r.by_ref().take(LINE_MAX).read_until(b'\n', &mut buf).map_err(|err| Error::Io { path: self.path.join(path), err })?;
            if k == 0 {
                break;
            }
            h.update(&buf);
            n += 1;
            if buf.last() != Some(&b'\n') {
                return Err(Error::BadLine { path: path.into(), line: n, why: "a line that does not end (or is over 16 MiB)".into() });
            }
            f(n, &buf[..buf.len() - 1])?;
        }
        if hex::encode(h.finalize()) != want {
            return Err(Error::Changed { path: path.into() });
        }
        Ok(())
    }
}

/// Sees each line of a population file: its number and its bytes.
type LineFn<'a> = dyn FnMut(u64, &[u8]) -> Result<(), Error> + 'a;

/// What a population line says of its item.
#[derive(Deserialize)]
struct Line {
    item: Option<String>,
    key: Option<String>,
    outcome: Option<String>,
    records: Option<Vec<String>>,
}

fn parse_line(path: &str, n: u64, bytes: &[u8]) -> Result<(Line, String), Error> {
    let bad = |why: String| Error::BadLine { path: path.into(), line: n, why };
    let line: Line = serde_json::from_slice(bytes).map_err(|e| bad(format!("not a JSON object: {e}")))?;
    let item = line.item.clone().or_else(|| line.key.clone()).ok_or_else(|| bad("no item (nor key)".into()))?;
    if item.contains(['\n', '\r']) {
        return Err(bad("an item holds a line break: the stock recipe could not rank it".into()));
    }
    Ok((line, item))
}

/// What a sample is asked to be.
pub struct Request<'a> {
    pub path: &'a str,
    pub outcomes: &'a [String],
    pub seed: &'a str,
    pub size: &'a SizeRule,
}

/// Draws a sample from a verified pack: every item of the population ranked, the smallest
/// `size` taken, each with its line and records. The same pack and request give the same sample.
pub fn draw(pack: &Verified, req: &Request) -> Result<Sample, Error> {
    check_seed(req.seed)?;
    if let Err(why) = req.size.check() {
        return Err(Error::Usage(why));
    }
    for o in req.outcomes {
        if !["pass", "fail", "excepted"].contains(&o.as_str()) {
            return Err(Error::Usage(format!("--outcome {o:?}: one of pass, fail, excepted")));
        }
    }
    let m = &pack.manifest_sha256;
    let path = req.path;
    let (ranked, sha256) = if LISTINGS.contains(&path) {
        if !req.outcomes.is_empty() {
            return Err(Error::Usage(format!("--outcome applies to a population file, not to the listing {path}")));
        }
        let items = pack.manifest.files.iter().filter(|f| f.path.starts_with(path) && !f.path.ends_with(".ingest.json"));
        (items.enumerate().map(|(i, f)| (rank(req.seed, m, path, &f.path), f.path.clone(), i as u64 + 1)).collect::<Vec<_>>(), m.clone())
    } else {
        let mut ranked = Vec::new();
        pack.each_line(path, &mut |n, bytes| {
            let (line, item) = parse_line(path, n, bytes)?;
            if req.outcomes.is_empty() || line.outcome.as_ref().is_some_and(|o| req.outcomes.contains(o)) {
                ranked.push((rank(req.seed, m, path, &item), item, n));
            }
            Ok(())
        })?;
        (ranked, pack.file(path).map(|f| f.sha256.clone()).unwrap_or_default())
    };
    let population = ranked.len() as u64;
    let ranked = select(ranked, req.size.size(population) as usize);
    let selected = details(pack, path, ranked)?;
    let (control, date) = control_and_date(path);
    let mut outcomes = req.outcomes.to_vec();
    outcomes.sort();
    outcomes.dedup();
    Ok(Sample {
        format: FORMAT.into(),
        pack: PackRef { manifest_sha256: m.clone(), key_id: pack.manifest.key_id.clone(), seq: pack.manifest.seq, scope: pack.manifest.scope.clone() },
        population: Population { path: path.into(), sha256, control, date, outcomes, items: population },
        seed: req.seed.into(),
        rule: RULE.into(),
        size: req.size.clone(),
        selected,
    })
}

/// The rule's selection: by rank, then item (byte order), the first `k`; whatever order the
/// population came in.
pub fn select(mut ranked: Vec<([u8; 32], String, u64)>, k: usize) -> Vec<([u8; 32], String, u64)> {
    ranked.sort_unstable();
    ranked.truncate(k);
    ranked
}

/// `results/controls/ID/DATE.jsonl` → (ID, DATE); `results/assets/DATE.jsonl` → (none, DATE).
fn control_and_date(path: &str) -> (Option<String>, Option<chrono::NaiveDate>) {
    let date = |s: &str| chrono::NaiveDate::parse_from_str(s.strip_suffix(".jsonl")?, "%Y-%m-%d").ok();
    match path.split('/').collect::<Vec<_>>().as_slice() {
        ["results", "controls", id, file] => (date(file).map(|_| id.to_string()), date(file)),
        ["results", "assets", file] => (None, date(file)),
        _ => (None, None),
    }
}

/// The selected items in rank order, each with its population line and its records: an event
/// item's own, a device's from its line in `results/assets/DATE.jsonl`.
fn details(pack: &Verified, path: &str, ranked: Vec<([u8; 32], String, u64)>) -> Result<Vec<Item>, Error> {
    use std::collections::HashMap;
    let mut by_line: HashMap<u64, usize> = ranked.iter().enumerate().map(|(i, r)| (r.2, i)).collect();
    let mut items: Vec<Item> =
        ranked.into_iter().map(|(r, item, line)| Item { rank: hex::encode(r), item, line, entry: serde_json::Map::new(), records: Vec::new() }).collect();
    if LISTINGS.contains(&path) {
        for it in &mut items {
            if let Some(f) = pack.file(&it.item) {
                it.entry.insert("sha256".into(), f.sha256.clone().into());
                it.entry.insert("size".into(), f.size.into());
            }
        }
        return Ok(items);
    }
    let mut devices: HashMap<String, usize> = HashMap::new();
    pack.each_line(path, &mut |n, bytes| {
        let Some(i) = by_line.remove(&n) else { return Ok(()) };
        let (line, _) = parse_line(path, n, bytes)?;
        items[i].entry = serde_json::from_slice(bytes).map_err(|e| Error::BadLine { path: path.into(), line: n, why: e.to_string() })?;
        match line.records {
            Some(r) => items[i].records = r,
            None => {
                devices.insert(items[i].item.clone(), i);
            }
        }
        Ok(())
    })?;
    let assets = match control_and_date(path) {
        (Some(_), Some(d)) => format!("results/assets/{d}.jsonl"),
        _ => return Ok(items),
    };
    if devices.is_empty() || pack.file(&assets).is_none() {
        return Ok(items);
    }
    pack.each_line(&assets, &mut |n, bytes| {
        // Most lines are not sampled: look at the key before parsing the whole line.
        let (line, key) = parse_line(&assets, n, bytes)?;
        if let Some(i) = devices.remove(&key) {
            items[i].records = line.records.unwrap_or_default();
        }
        Ok(())
    })?;
    Ok(items)
}

/// The verdict on a sample file.
#[derive(Debug, Serialize)]
pub struct Outcome {
    /// Always `sample`.
    pub kind: &'static str,
    pub sample: String,
    pub pack: String,
    pub verified: bool,
    pub auditor: Option<Trusted>,
    pub population: Option<String>,
    pub selected: Option<usize>,
    pub checks: Vec<Check>,
}

/// Whether a file is a sample: its canonical JSON starts with the auditor's signature.
pub fn is_sample(path: &Path) -> bool {
    let mut head = [0u8; 22];
    std::fs::File::open(path).and_then(|mut f| f.read_exact(&mut head)).is_ok() && head.starts_with(b"{\"auditor_signature\":")
}

/// Verifies a sample file against its pack: the auditor's signature and trust, the pack's own
/// verification, that the sample names this pack and this population as they are, and that the
/// selection is the one the rule derives.
pub fn verify(sample_path: &Path, pack_path: &Path, trust: &TrustList, tsa_roots: Option<&[x509_cert::Certificate]>) -> Result<Outcome, Error> {
    let mut out = Outcome {
        kind: "sample",
        sample: sample_path.display().to_string(),
        pack: pack_path.display().to_string(),
        verified: false,
        auditor: None,
        population: None,
        selected: None,
        checks: Vec::new(),
    };
    let push = |checks: &mut Vec<Check>, code, ok, detail: String| checks.push(Check { code, ok, detail });
    let io = |err| Error::Io { path: sample_path.into(), err };
    let mut bytes = Vec::new();
    std::fs::File::open(sample_path).and_then(|f| f.take(SAMPLE_FILE_MAX + 1).read_to_end(&mut bytes)).map_err(io)?;
    if bytes.len() as u64 > SAMPLE_FILE_MAX {
        push(&mut out.checks, Code::FileTooLarge, false, format!("more than {SAMPLE_FILE_MAX} bytes; not read"));
        return Ok(out);
    }
    let file: SampleFile = match serde_json::from_slice(&bytes) {
        Ok(f) => f,
        Err(e) => {
            push(&mut out.checks, Code::SampleInvalid, false, format!("not an evident sample: {e}"));
            return Ok(out);
        }
    };
    if file.to_bytes() != bytes {
        push(&mut out.checks, Code::SampleNotCanonical, false, "the file is not the canonical JSON evident writes (RFC 8785 and a newline)".into());
    }
    let (signed, auditor) = signature(&file, trust, &mut out.checks);
    out.auditor = auditor;
    out.population = Some(file.sample.population.path.clone());
    out.selected = Some(file.sample.selected.len());
    if !signed {
        // Nothing is re-derived from a sample no trusted auditor signed.
        return Ok(out);
    }
    against_pack(&file.sample, pack_path, trust, &mut out.checks)?;
    timestamp(&file, tsa_roots, &mut out.checks);
    out.verified = out.checks.iter().all(|c| c.ok);
    Ok(out)
}

/// The sample's timestamp, over the auditor's signature: checked against the TSA roots when
/// given, else said to be there and unchecked.
fn timestamp(file: &SampleFile, roots: Option<&[x509_cert::Certificate]>, checks: &mut Vec<Check>) {
    use crate::timestamp::Failure;
    let mut push = |code, ok, detail: String| checks.push(Check { code, ok, detail });
    let (reply, roots) = match (&file.timestamp, roots) {
        (None, None) => return,
        (None, Some(_)) => return push(Code::TimestampMissing, false, "--tsa-trust asks for a timestamp, and the sample has none".into()),
        (Some(_), None) => return push(Code::TimestampUnchecked, true, "a timestamp, not checked: give --tsa-trust ROOT.pem to check it".into()),
        (Some(r), Some(roots)) => (r, roots),
    };
    let digest: [u8; 32] = Sha256::digest(file.signature_bytes()).into();
    match hex::decode(reply).map_err(|_| Failure::Invalid("the reply is not hex".into())).and_then(|r| crate::timestamp::verify(&r, &digest, roots)) {
        Ok(s) => push(Code::Timestamp, true, format!("the auditor's signature existed at {} (RFC 3161, {})", s.gen_time.to_rfc3339(), s.tsa)),
        Err(f) => push(f.code(), false, f.to_string()),
    }
}

/// The hash, signature and trust of the auditor's signature; whether all held.
fn signature(file: &SampleFile, trust: &TrustList, checks: &mut Vec<Check>) -> (bool, Option<Trusted>) {
    let mut push = |code, ok, detail: String| checks.push(Check { code, ok, detail });
    let bytes = canonical(&file.sample);
    let hash = hex::encode(Sha256::digest(&bytes));
    if hash != file.sample_sha256 {
        push(Code::SampleHashMismatch, false, format!("the sample hashes to {hash}, the file says {}", file.sample_sha256));
        return (false, None);
    }
    push(Code::SampleHash, true, format!("sha256 {hash}"));
    let s = &file.auditor_signature;
    let Some(key) = PublicKey::from_raw_hex(&s.public_key).filter(|_| s.public_key.len() == 64 && s.public_key == s.public_key.to_lowercase()) else {
        push(Code::KeyInvalid, false, "the auditor's public key is not 64 lowercase hex digits of an Ed25519 key".into());
        return (false, None);
    };
    if key.key_id() != s.key_id {
        push(Code::KeyMismatch, false, format!("key id {} is not the key's ({})", s.key_id, key.key_id()));
        return (false, None);
    }
    let sig = hex::decode(&s.signature).ok().filter(|b| b.len() == 64 && s.signature == s.signature.to_lowercase());
    if s.role != Role::Auditor || !sig.is_some_and(|sig| key.verify(&bytes, &sig)) {
        push(Code::SignatureInvalid, false, format!("the auditor signature by key {} does not verify over the sample", s.key_id));
        return (false, None);
    }
    push(Code::Signature, true, format!("Ed25519 by key {}", s.key_id));
    match trust.standing(&key, Role::Auditor) {
        Standing::Trusted(t) => {
            push(Code::KeyTrusted, true, format!("{} (auditor)", t.name));
            (true, Some(t.clone()))
        }
        Standing::Untrusted => {
            push(Code::KeyUntrusted, false, format!("key {} is not in the trust list", s.key_id));
            (false, None)
        }
        Standing::OtherRoles { name, roles } => {
            push(Code::KeyWrongRole, false, format!("key {} is {name}'s, trusted as {} but not as auditor", s.key_id, roles.join(", ")));
            (false, None)
        }
    }
}

/// The pack verifies, is the one the sample names, holds the population as sampled, and the
/// rule gives the same selection.
fn against_pack(sample: &Sample, pack_path: &Path, trust: &TrustList, checks: &mut Vec<Check>) -> Result<(), Error> {
    let mut push = |code, ok, detail: String| checks.push(Check { code, ok, detail });
    let pack = match verified_pack(pack_path, trust) {
        Ok(p) => p,
        Err(Error::PackNotVerified { failed, .. }) => {
            push(Code::PackInvalid, false, format!("the pack does not verify: {failed}"));
            return Ok(());
        }
        Err(e) => return Err(e),
    };
    push(Code::Pack, true, format!("seq {} verifies", pack.manifest.seq));
    if pack.manifest_sha256 != sample.pack.manifest_sha256 {
        push(
            Code::PackMismatch,
            false,
            format!("the sample was drawn from the pack whose manifest hashes to {}; this one's is {}", sample.pack.manifest_sha256, pack.manifest_sha256),
        );
        return Ok(());
    }
    let p = &sample.population;
    let path = match pack.resolve(&Choice::Path(&p.path)) {
        Ok(path) => path,
        Err(_) => {
            push(Code::PopulationMismatch, false, format!("the pack holds no population {}", p.path));
            return Ok(());
        }
    };
    let req = Request { path: &path, outcomes: &p.outcomes, seed: &sample.seed, size: &sample.size };
    let again = match draw(&pack, &req) {
        Ok(s) => s,
        Err(e @ (Error::BadSeed(_) | Error::Usage(_))) => {
            push(Code::SampleMismatch, false, format!("the sample's own request is not one evident draws: {e}"));
            return Ok(());
        }
        Err(e) => return Err(e),
    };
    if again.population != *p {
        push(
            Code::PopulationMismatch,
            false,
            format!(
                "{}: the pack's is {} item(s) with SHA-256 {}; the sample names {} item(s), {}",
                p.path, again.population.items, again.population.sha256, p.items, p.sha256
            ),
        );
        return Ok(());
    }
    push(Code::Population, true, format!("{} ({} items, sha256 {})", p.path, p.items, p.sha256));
    match first_difference(&again, sample) {
        None => push(Code::Selection, true, format!("{} item(s) re-derived from seed {:?} by {}", sample.selected.len(), sample.seed, RULE)),
        Some(why) => push(Code::SampleMismatch, false, why),
    }
    Ok(())
}

/// Where a sample departs from the one the rule derives.
fn first_difference(derived: &Sample, signed: &Sample) -> Option<String> {
    if derived.rule != signed.rule || derived.format != signed.format || derived.pack != signed.pack {
        return Some(format!("the sample's rule or pack reference is not {RULE} over this pack"));
    }
    if derived.selected.len() != signed.selected.len() {
        return Some(format!("the rule takes {} item(s) of {}; the sample lists {}", derived.selected.len(), derived.population.items, signed.selected.len()));
    }
    derived.selected.iter().zip(&signed.selected).enumerate().find(|(_, (a, b))| a != b).map(|(i, (a, b))| {
        if a.item != b.item {
            format!("item {} of the selection is {}, the rule gives {}", i + 1, b.item, a.item)
        } else {
            format!("item {} ({}) is not as the population file says it (line {}, its fields or records)", i + 1, a.item, a.line)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_table_sizes() {
        let t = SizeRule::default_table();
        let sizes: Vec<u64> = [0, 1, 5, 6, 50, 51, 250, 251, 100_000].iter().map(|&n| t.size(n)).collect();
        assert_eq!(sizes, [0, 1, 5, 5, 5, 6, 25, 25, 25]);
        assert_eq!(SizeRule::Fixed(10).size(3), 3);
    }

    #[test]
    fn size_tables_that_do_not_cover_every_population_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let write = |text: &str| {
            let p = dir.path().join("t.toml");
            std::fs::write(&p, text).unwrap();
            SizeRule::load_table(&p)
        };
        assert!(write("[[band]]\nup_to = 10\nall = true\n[[band]]\npercent = 20\n").is_ok());
        for (text, says) in [
            ("[[band]]\nup_to = 10\nall = true\n", "last band has no up_to"),
            ("[[band]]\nup_to = 10\nall = true\ntake = 3\n[[band]]\ntake = 4\n", "exactly one"),
            ("[[band]]\nup_to = 10\nall = true\n[[band]]\nup_to = 5\ntake = 2\n[[band]]\ntake = 4\n", "grow"),
            ("[[band]]\npercent = 120\n", "1 to 100"),
            ("[[band]]\nsize = 3\n", "unknown field"),
        ] {
            let e = write(text).unwrap_err().to_string();
            assert!(e.contains(says), "{text}: {e}");
        }
    }

    proptest::proptest! {
        /// The selection is the k smallest ranks of the population, in rank order, whatever order
        /// the population is read in; the default size table never takes more than the population, nor
        /// fewer items from a larger one.
        #[test]
        fn selection_is_the_k_smallest_ranks_in_any_order(
            items in proptest::collection::btree_set("[A-Z0-9:]{1,12}", 0..60),
            seed in "[a-z0-9 ]{1,20}",
            k in 0usize..70,
            rotate in 0usize..60,
        ) {
            let items: Vec<String> = items.into_iter().collect();
            let ranked = |v: &[String]| v.iter().enumerate().map(|(i, it)| (rank(&seed, "ab", "p.jsonl", it), it.clone(), i as u64)).collect::<Vec<_>>();
            let mut rotated = items.clone();
            rotated.rotate_left(rotate.min(items.len()));
            let a: Vec<String> = select(ranked(&items), k).into_iter().map(|r| r.1).collect();
            let b: Vec<String> = select(ranked(&rotated), k).into_iter().map(|r| r.1).collect();
            proptest::prop_assert_eq!(&a, &b);
            proptest::prop_assert_eq!(a.len(), k.min(items.len()));
            let mut all: Vec<(String, String)> = items.iter().map(|it| (hex::encode(rank(&seed, "ab", "p.jsonl", it)), it.clone())).collect();
            all.sort();
            let want: Vec<String> = all.into_iter().take(k).map(|(_, it)| it).collect();
            proptest::prop_assert_eq!(a, want, "the hex ranks sorted as text (the stock recipe) give the same list");
            let t = SizeRule::default_table();
            let n = items.len() as u64;
            proptest::prop_assert!(t.size(n) <= n && t.size(n) <= t.size(n + 1), "the default table never takes more than the population, nor fewer from a larger one");
        }
    }

    #[test]
    fn rank_is_sha256_of_four_lines() {
        let r = rank("42", "ab", "results/x.jsonl", "SN1");
        assert_eq!(hex::encode(r), hex::encode(Sha256::digest(b"42\nab\nresults/x.jsonl\nSN1\n")));
    }
}
