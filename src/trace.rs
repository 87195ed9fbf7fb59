//! One device traced through a pack (or the store): its line in each joined view, every record
//! behind it with the raw bytes of that row in the export, each control's outcome for it at each
//! sample date, and the certificates that name it. What an auditor follows by hand, in one place.

use crate::certificate::record::Certificate;
use crate::sample::Verified;
use serde::Serialize;
use std::io::{BufRead, BufReader, Read};

/// The most of one row shown: a genuine row is far smaller.
const ROW_MAX: usize = 64 << 10;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Sample(#[from] crate::sample::Error),
    #[error(transparent)]
    Verify(#[from] crate::verify::Error),
    #[error(transparent)]
    Store(#[from] crate::store::Error),
    #[error("{path}: {err}")]
    Io { path: String, err: std::io::Error },
    #[error("no device, asset tag or item {0:?} in {1}")]
    NotFound(String, String),
}

/// The device in one joined view: the sample date, where its line is, and the line.
#[derive(Debug, Serialize)]
pub struct AtDate {
    pub date: Option<String>,
    pub at: String,
    pub asset: serde_json::Value,
}

/// One record, where it is, and the raw bytes of its row.
#[derive(Debug, Serialize)]
pub struct Row {
    pub reference: String,
    pub source: String,
    /// The raw export inside the pack (or the file name in the store).
    pub file: String,
    pub line: u64,
    pub pointer: Option<String>,
    /// The row as the export has it (lossy UTF-8; cut at 64 KiB); none when the export is not at hand.
    pub raw: Option<String>,
}

/// A control's outcome for the device (or one of its drives) at a sample date.
#[derive(Debug, Serialize)]
pub struct ControlOutcome {
    pub control: String,
    pub date: String,
    pub item: String,
    pub outcome: String,
    pub reason: String,
    pub at: String,
}

/// A certificate that names the device or one of its drives.
#[derive(Debug, Serialize)]
pub struct CertificateRef {
    pub id: String,
    pub file: String,
    pub media: Vec<String>,
    pub signed: bool,
    pub countersigned: bool,
}

/// Everything found on one device.
#[derive(Debug, Serialize)]
pub struct Trace {
    pub key: String,
    pub devices: Vec<String>,
    pub dates: Vec<AtDate>,
    pub controls: Vec<ControlOutcome>,
    pub records: Vec<Row>,
    pub certificates: Vec<CertificateRef>,
}

fn text(v: &serde_json::Value, k: &str) -> String {
    v.get(k).and_then(|s| s.as_str()).unwrap_or("").to_string()
}

/// Whether an asset line is the device asked for: its key or asset tag (case does not matter).
fn is_device(asset: &serde_json::Value, key: &str) -> bool {
    [text(asset, "key"), text(asset, "asset_tag")].iter().any(|k| !k.is_empty() && k.eq_ignore_ascii_case(key))
}

/// What names the device in a population: its key, its tag, its drives.
struct Names {
    keys: std::collections::BTreeSet<String>,
    tags: std::collections::BTreeSet<String>,
    drives: std::collections::BTreeSet<String>,
}

impl Names {
    fn of(key: &str, assets: &[AtDate]) -> Names {
        let mut n = Names { keys: [key.to_string()].into(), tags: Default::default(), drives: Default::default() };
        for a in assets {
            n.keys.insert(text(&a.asset, "key"));
            n.tags.insert(text(&a.asset, "asset_tag"));
            for d in a.asset.get("drives").and_then(|d| d.as_array()).into_iter().flatten().filter_map(|d| d.as_str()) {
                n.drives.insert(d.to_string());
            }
        }
        n.tags.remove("");
        n
    }

    fn item(&self, item: &str, tag: &str) -> bool {
        let bare = item.split_once(':').map_or(item, |(_, v)| v);
        self.keys.iter().any(|k| k.eq_ignore_ascii_case(item) || k.eq_ignore_ascii_case(bare))
            || (!tag.is_empty() && self.tags.contains(tag))
            || self.drives.contains(bare)
    }
}

/// Traces a device through a verified pack.
pub fn pack(pack: &Verified, key: &str) -> Result<Trace, Error> {
    let files: Vec<String> = pack.manifest.files.iter().map(|f| f.path.clone()).collect();
    let mut dates = Vec::new();
    for path in files.iter().filter(|p| p.starts_with("results/assets/") && p.ends_with(".jsonl")) {
        let date = path.trim_start_matches("results/assets/").trim_end_matches(".jsonl").to_string();
        each_json_line(pack, path, &mut |n, v| {
            if is_device(&v, key) {
                dates.push(AtDate { date: Some(date.clone()), at: format!("{path}:{n}"), asset: v });
            }
        })?;
    }
    let names = Names::of(key, &dates);
    let mut controls = Vec::new();
    let mut refs: Vec<String> = dates
        .iter()
        .flat_map(|d| d.asset.get("records").and_then(|r| r.as_array()).cloned().unwrap_or_default())
        .filter_map(|r| r.as_str().map(String::from))
        .collect();
    for path in files.iter().filter(|p| p.starts_with("results/controls/") && p.ends_with(".jsonl")) {
        let mut parts = path.trim_start_matches("results/controls/").trim_end_matches(".jsonl").splitn(2, '/');
        let (control, date) = (parts.next().unwrap_or("").to_string(), parts.next().unwrap_or("").to_string());
        each_json_line(pack, path, &mut |n, v| {
            if names.item(&text(&v, "item"), &text(&v, "asset_tag")) {
                refs.extend(v.get("records").and_then(|r| r.as_array()).into_iter().flatten().filter_map(|r| r.as_str().map(String::from)));
                let date = Some(text(&v, "date")).filter(|d| !d.is_empty()).unwrap_or(date.clone());
                controls.push(ControlOutcome {
                    control: control.clone(),
                    date,
                    item: text(&v, "item"),
                    outcome: text(&v, "outcome"),
                    reason: text(&v, "reason"),
                    at: format!("{path}:{n}"),
                });
            }
        })?;
    }
    let certificates = certificates(pack, &files, &names)?;
    if dates.is_empty() && controls.is_empty() && certificates.is_empty() {
        return Err(Error::NotFound(key.into(), pack.path.display().to_string()));
    }
    refs.sort();
    refs.dedup();
    let sources: Vec<&String> = files.iter().filter(|p| p.starts_with("sources/") && !p.ends_with(".ingest.json")).collect();
    let mut records = Vec::new();
    for r in refs {
        let mut row = parse_reference(&r);
        if let Some(file) = sources
            .iter()
            .find(|p| p.strip_prefix("sources/").is_some_and(|f| row.file.split_once('@').is_some_and(|(name, sha)| f == format!("{sha}-{name}"))))
        {
            let reader =
                crate::verify::open_member(&pack.path, file)?.ok_or_else(|| Error::Io { path: file.to_string(), err: std::io::ErrorKind::NotFound.into() })?;
            row.raw = Some(raw_row(reader, file, row.line).map_err(|err| Error::Io { path: file.to_string(), err })?);
            row.file = file.to_string();
        }
        records.push(row);
    }
    let mut devices: Vec<String> = dates.iter().map(|d| text(&d.asset, "key")).collect();
    devices.sort();
    devices.dedup();
    Ok(Trace { key: key.into(), devices, dates, controls, records, certificates })
}

/// Traces a device through the store's joined view (every record ingested, no sample date):
/// records and raw rows, and the certificates the store holds. Control outcomes belong to a pack.
pub fn store(store: &crate::store::Store, key: &str) -> Result<Trace, Error> {
    let assets: Vec<AtDate> = crate::view::assets(store)?
        .into_iter()
        .filter_map(|a| serde_json::to_value(&a).ok())
        .filter(|v| is_device(v, key))
        .map(|asset| AtDate { date: None, at: "store".into(), asset })
        .collect();
    let names = Names::of(key, &assets);
    let mut certificates = Vec::new();
    for c in store.certificates()? {
        if let Some(r) = certificate_ref(&c.body, &format!("store:{}", c.id), &names) {
            certificates.push(r);
        }
    }
    if assets.is_empty() && certificates.is_empty() {
        return Err(Error::NotFound(key.into(), "the store".into()));
    }
    let ingests = store.ingests()?;
    let mut refs: Vec<String> = assets
        .iter()
        .flat_map(|d| d.asset.get("records").and_then(|r| r.as_array()).cloned().unwrap_or_default())
        .filter_map(|r| r.as_str().map(String::from))
        .collect();
    refs.sort();
    refs.dedup();
    let mut records = Vec::new();
    for r in refs {
        let mut row = parse_reference(&r);
        let found = row.file.split_once('@').and_then(|(name, sha)| ingests.iter().find(|i| i.file_name == name && i.sha256.starts_with(sha)));
        if let Some(i) = found {
            let mut bytes = Vec::new();
            store.blob_to(&i.sha256, &mut bytes)?;
            row.raw = Some(raw_row(&bytes[..], &i.file_name, row.line).map_err(|err| Error::Io { path: i.file_name.clone(), err })?);
            row.file = format!("{} (sha256 {})", i.file_name, i.sha256);
        }
        records.push(row);
    }
    let mut devices: Vec<String> = assets.iter().map(|d| text(&d.asset, "key")).collect();
    devices.dedup();
    Ok(Trace { key: key.into(), devices, dates: assets, controls: Vec::new(), records, certificates })
}

/// Adds each control's outcome for the device (and its drives) from an evaluation of the store.
pub fn add_outcomes(t: &mut Trace, ev: &crate::evaluate::Evaluation) {
    let names = Names::of(&t.key, &t.dates);
    for c in &ev.controls {
        for i in c.items.iter().filter(|i| names.item(i.item.as_str(), i.asset_tag.as_deref().unwrap_or(""))) {
            t.controls.push(ControlOutcome {
                control: c.id.clone(),
                date: i.date.to_string(),
                item: i.item.as_str().to_string(),
                outcome: i.outcome.as_str().to_string(),
                reason: i.reason.clone(),
                at: format!("evaluation of the store, {}", ev.scope),
            });
        }
    }
}

fn each_json_line(pack: &Verified, path: &str, f: &mut dyn FnMut(u64, serde_json::Value)) -> Result<(), Error> {
    let r = crate::verify::open_member(&pack.path, path)?.ok_or_else(|| Error::Io { path: path.into(), err: std::io::ErrorKind::NotFound.into() })?;
    for (i, line) in BufReader::new(r).lines().enumerate() {
        let line = line.map_err(|err| Error::Io { path: path.into(), err })?;
        if let Ok(v) = serde_json::from_str(&line) {
            f(i as u64 + 1, v);
        }
    }
    Ok(())
}

fn certificates(pack: &Verified, files: &[String], names: &Names) -> Result<Vec<CertificateRef>, Error> {
    let mut out = Vec::new();
    for path in files.iter().filter(|p| p.starts_with("certificates/") && p.ends_with(".json")) {
        let Some(r) = crate::verify::open_member(&pack.path, path)? else { continue };
        let mut bytes = Vec::new();
        r.take(1 << 20).read_to_end(&mut bytes).map_err(|err| Error::Io { path: path.clone(), err })?;
        out.extend(certificate_ref(&bytes, path, names));
    }
    Ok(out)
}

fn certificate_ref(bytes: &[u8], file: &str, names: &Names) -> Option<CertificateRef> {
    let c = Certificate::from_slice(bytes).ok()?;
    let media: Vec<String> = c.record.media.iter().map(|m| m.serial.clone()).collect();
    let asset = c.record.asset.as_ref();
    let hit =
        asset.is_some_and(|a| names.item(&a.key, a.asset_tag.as_deref().unwrap_or(""))) || media.iter().any(|m| names.drives.contains(m) || names.item(m, ""));
    let s = c.signature_status();
    hit.then(|| CertificateRef { id: c.record.id.clone(), file: file.into(), media, signed: s.signed, countersigned: s.countersigned })
}

/// `source:file@sha12:line[:pointer]` taken apart (the pointer may hold colons).
fn parse_reference(r: &str) -> Row {
    let (source, rest) = r.split_once(':').unwrap_or(("", r));
    let (file, rest) = match rest.find('@').and_then(|at| rest[at..].find(':').map(|c| at + c)) {
        Some(i) => (&rest[..i], &rest[i + 1..]),
        None => (rest, ""),
    };
    let (line, pointer) = rest.split_once(':').map_or((rest, None), |(l, p)| (l, Some(p.to_string())));
    Row { reference: r.into(), source: source.into(), file: file.into(), line: line.parse().unwrap_or(0), pointer, raw: None }
}

/// The raw bytes of the row that starts at `line`: a CSV record (its quoted line breaks
/// included), a JSON value (from its opening bracket to the matching close), an XML element,
/// or the line itself.
pub fn raw_row(r: impl Read, name: &str, line: u64) -> std::io::Result<String> {
    let mut r = BufReader::new(r);
    let mut buf = Vec::new();
    for _ in 1..line {
        buf.clear();
        if r.read_until(b'\n', &mut buf)? == 0 {
            return Ok(String::new());
        }
    }
    let mut row = Vec::new();
    let mut scan = Scan::new(name);
    loop {
        buf.clear();
        if r.read_until(b'\n', &mut buf)? == 0 || row.len() >= ROW_MAX {
            break;
        }
        let done = scan.feed(&buf);
        row.extend_from_slice(&buf);
        if done {
            break;
        }
    }
    row.truncate(ROW_MAX);
    while row.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
        row.pop();
    }
    Ok(String::from_utf8_lossy(&row).into_owned())
}

/// Where a row ends, fed line by line.
enum Scan {
    Csv { quotes: usize },
    Json { depth: i64, started: bool, in_string: bool, escaped: bool },
    Xml { name: Option<String>, depth: i64 },
    Line,
}

impl Scan {
    fn new(name: &str) -> Scan {
        let ext = name.rsplit('.').next().unwrap_or("").to_ascii_lowercase();
        match ext.as_str() {
            "csv" | "tsv" => Scan::Csv { quotes: 0 },
            "json" => Scan::Json { depth: 0, started: false, in_string: false, escaped: false },
            "xml" => Scan::Xml { name: None, depth: 0 },
            _ => Scan::Line,
        }
    }

    /// Takes one more line; whether the row ends with it.
    fn feed(&mut self, line: &[u8]) -> bool {
        match self {
            Scan::Line => true,
            Scan::Csv { quotes } => {
                *quotes += line.iter().filter(|b| **b == b'"').count();
                *quotes % 2 == 0
            }
            Scan::Json { depth, started, in_string, escaped } => {
                for &b in line {
                    match (b, *in_string) {
                        (_, true) if *escaped => *escaped = false,
                        (b'\\', true) => *escaped = true,
                        (b'"', _) if *started => *in_string = !*in_string,
                        (b'{' | b'[', false) => {
                            *started = true;
                            *depth += 1;
                        }
                        (b'}' | b']', false) if *started => *depth -= 1,
                        _ => {}
                    }
                    if *started && *depth == 0 {
                        return true;
                    }
                }
                !*started
            }
            Scan::Xml { name, depth } => {
                let text = String::from_utf8_lossy(line);
                if name.is_none() {
                    let tag: String = text.trim_start().trim_start_matches('<').chars().take_while(|c| c.is_alphanumeric() || "_-:.".contains(*c)).collect();
                    if tag.is_empty() {
                        return true;
                    }
                    *name = Some(tag);
                }
                let n = name.as_deref().unwrap_or("");
                let opens = text.matches(&format!("<{n}>")).count() + text.matches(&format!("<{n} ")).count();
                let closes = text.matches(&format!("</{n}>")).count() + text.matches("/>").count().min(opens);
                *depth += opens as i64 - closes as i64;
                *depth <= 0
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_end_where_their_format_says() {
        let csv = "a,b\n1,\"two\nlines\"\n3,x\n";
        assert_eq!(raw_row(csv.as_bytes(), "x.csv", 2).unwrap(), "1,\"two\nlines\"");
        let json = "{\n \"value\": [\n  {\n   \"a\": \"}\",\n   \"b\": [1]\n  },\n  {}\n ]\n}\n";
        assert_eq!(raw_row(json.as_bytes(), "x.json", 3).unwrap(), "  {\n   \"a\": \"}\",\n   \"b\": [1]\n  },");
        let xml = "<root>\n<report id=\"1\">\n<report>x</report>\n</report>\n<report/>\n</root>\n";
        assert_eq!(raw_row(xml.as_bytes(), "x.xml", 2).unwrap(), "<report id=\"1\">\n<report>x</report>\n</report>");
        assert_eq!(raw_row("a\nb\n".as_bytes(), "x.log", 2).unwrap(), "b");
    }

    #[test]
    fn references_split_with_colons_in_the_pointer() {
        let r = parse_reference("nwipe_log:nwipe-2026-09-14.log@604aff8a5199:2:/dev/sda");
        assert_eq!((r.source.as_str(), r.file.as_str(), r.line, r.pointer.as_deref()), ("nwipe_log", "nwipe-2026-09-14.log@604aff8a5199", 2, Some("/dev/sda")));
        let r = parse_reference("snipeit_csv:snipeit-assets.csv@9038d311993d:34");
        assert_eq!((r.line, r.pointer), (34, None));
    }
}
