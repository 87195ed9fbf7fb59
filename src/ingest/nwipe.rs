//! nwipe / ShredOS logs: one log holds many drives. Identity comes from the `Found …` line
//! (the status table truncates models), the result from the Drive Status table, the verify
//! mode from the `Total Throughput` line, SANITIZE actions (0.43+) as wipes of their own. Times
//! are local and need --source-tz.

use super::row::non_empty;
use super::{Emitter, Error, Input, Issue};
use crate::model::*;
use chrono::NaiveDateTime;
use std::collections::BTreeMap;

/// True if the bytes look like an nwipe log.
pub fn looks_like(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(64 * 1024)];
    let text = String::from_utf8_lossy(head);
    let stamped = text.lines().filter(|l| parse_stamp(l).is_some()).count();
    stamped > 0 && (text.contains("nwipe") || text.contains("Found /dev/") || text.contains("Invoking method") || text.contains("Drive Status"))
}

#[derive(Default)]
struct Drive {
    dev: String,
    /// Which run of nwipe in the file (a log can hold several appended runs), from 1.
    run: usize,
    first_line: u64,
    bus: Option<String>,
    model: Option<String>,
    size: Option<String>,
    serial: Option<String>,
    method: Option<String>,
    passes: Option<i64>,
    started: Option<(u64, NaiveDateTime)>,
    last: Option<(u64, NaiveDateTime)>,
    verified: Option<bool>,
    blanked: bool,
    /// The final blanking pass completed (`Blanked device`): old logs' only word on the end of a run.
    blank_done: bool,
    status: Option<(u64, String)>,
    table_id: Option<String>,
    lines: Vec<u64>,
    /// Pass, verification and fdatasync error counts from the Error Summary table.
    errors: Option<Vec<i64>>,
    /// ATA/NVMe SANITIZE actions run on the drive (nwipe 0.43+), in log order.
    sanitize: Vec<Sanitize>,
    /// I/O the drive refused: attempts retried (0.39+ retries each failed write or read), the
    /// operations nwipe gave up on, blocks it could not write, and how a reverse wipe ended.
    io: Io,
    /// The machine the run wiped in: nwipe logs `dmidecode -s` keywords (`system-serial-number
    /// = …`) once per run, so a drive joins to its asset.
    host: BTreeMap<String, String>,
}

/// What a run says of the drive's I/O errors.
#[derive(Default)]
struct Io {
    retries: u32,
    gave_up: Vec<String>,
    write_errors: u32,
    reverse_wipe: Option<&'static str>,
}

impl Io {
    /// Reads one message about the drive's I/O; whether it was one.
    fn read(&mut self, msg: &str) -> bool {
        if let Some(at) = msg.find(" (attempt ").filter(|_| msg.contains(" failed on '") || msg.contains(" short ")) {
            let (k, m) = msg[at + 10..].split_once(')').map_or("", |(a, _)| a).split_once('/').unwrap_or(("", ""));
            if k.parse::<u32>().ok().zip(m.parse::<u32>().ok()).is_some_and(|(k, m)| k < m) {
                self.retries += 1;
            }
        } else if let Some(op) = msg.split_once(": giving up ").and_then(|(_, r)| r.split_whitespace().next()) {
            if !self.gave_up.iter().any(|g| g == op) {
                self.gave_up.push(op.to_string());
            }
        } else if msg.starts_with("Write error on ") || msg.starts_with("Partial write on ") {
            self.write_errors += 1;
            if msg.ends_with("starting reverse wipe.") {
                self.reverse_wipe = Some("started, not finished");
            }
        } else if msg.starts_with("Reverse wipe on ") && msg.contains("reached initial bad block") {
            self.reverse_wipe = Some("reached the bad block");
        } else if msg.starts_with("Reverse wipe failed on ") {
            self.reverse_wipe = Some("failed");
        } else {
            return false;
        }
        true
    }

    /// Blocks left unwritten, or an operation given up: the wipe cannot have succeeded.
    fn failed(&self) -> bool {
        self.write_errors > 0 || !self.gave_up.is_empty()
    }

    fn describe(&self) -> String {
        let mut parts = vec![format!("{} write error(s)", self.write_errors)];
        if !self.gave_up.is_empty() {
            parts.push(format!("gave up {}", self.gave_up.join(", ")));
        }
        if let Some(r) = self.reverse_wipe {
            parts.push(format!("reverse wipe {r}"));
        }
        parts.join("; ")
    }
}

/// The `dmidecode -s` keywords nwipe logs that identify the machine.
const HOST_KEYS: &[&str] = &["system-serial-number", "system-uuid", "chassis-serial-number", "chassis-asset-tag", "baseboard-serial-number"];

/// A host value nwipe anonymised (`-q`) is a row of X, not a serial.
fn anonymised(v: &str) -> bool {
    v.len() >= 8 && v.bytes().all(|b| b == b'X')
}

/// The host serial of a drive's run, and the other identity lines for `extra`.
fn host_of(d: &Drive, extra: &mut Extra) -> Serial {
    for (k, v) in &d.host {
        extra.insert(k.replace('-', "_"), if anonymised(v) { "anonymised (nwipe -q)".to_string() } else { v.clone() });
    }
    match d.host.get("system-serial-number").or_else(|| d.host.get("chassis-serial-number")) {
        Some(v) if !anonymised(v) => Serial::new(v, None),
        _ => Serial::missing(),
    }
}

/// One `SANITIZE action '<label>' was successful. / has failed. / has completed.` line.
#[derive(Clone)]
struct Sanitize {
    action: String,
    outcome: String,
    at: NaiveDateTime,
}

/// A destructive SANITIZE action, its technique; `Exit Failure Mode` and `Exit Media
/// Verification` only change the device's state and erase nothing.
fn sanitize_technique(action: &str) -> Option<Technique> {
    match action {
        "Block Erase" => Some(Technique::BlockErase),
        "Crypto Erase" | "Crypto Scramble" => Some(Technique::CryptoErase),
        "Overwrite" => Some(Technique::Sanitize),
        _ => None,
    }
}

/// `/dev/nvme0: SANITIZE action 'Block Erase' was successful.` → (path, action, outcome).
fn sanitize_line(msg: &str) -> Option<(&str, &str, &str)> {
    let (path, rest) = msg.split_once(": SANITIZE action '")?;
    let (action, outcome) = rest.split_once("' ")?;
    Some((path.trim(), action, outcome.trim_end_matches('.').trim()))
}

/// An NVMe controller (`/dev/nvme0`), not a namespace (`/dev/nvme0n1`): nwipe sanitizes through
/// the controller, which erases every namespace on it; the drives are its namespaces.
fn nvme_controller(dev: &str) -> bool {
    dev.strip_prefix("/dev/nvme").is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

fn parse_stamp(line: &str) -> Option<(NaiveDateTime, &str)> {
    let rest = line.strip_prefix('[')?;
    let close = rest.find(']')?;
    let t = NaiveDateTime::parse_from_str(&rest[..close], "%Y/%m/%d %H:%M:%S").ok()?;
    Some((t, rest[close + 1..].trim_start()))
}

/// The device (`/dev/sda`) a message is about, from the known set of prefixes. The entropy
/// source (`Opened entropy source '/dev/urandom'`) and other character devices are not drives.
fn device_in(msg: &str) -> Option<String> {
    let at = msg.find("/dev/")?;
    let dev: String = msg[at..].chars().take_while(|c| !c.is_whitespace() && *c != ',' && *c != '\'').collect();
    let dev = dev.trim_end_matches(['.', ':']).to_string();
    let not_a_drive = matches!(dev.as_str(), "/dev/urandom" | "/dev/random" | "/dev/zero" | "/dev/null" | "/dev/full")
        || dev.starts_with("/dev/tty")
        || msg.contains("entropy source");
    (!not_a_drive).then_some(dev)
}

/// Reads one log.
pub fn read(input: &Input, em: &mut Emitter) -> Result<(), Error> {
    let text = std::str::from_utf8(input.bytes).map_err(|e| {
        Error::bad_file(
            input.file,
            super::text::line_of(input.bytes, e.valid_up_to()),
            None,
            "log is not valid UTF-8",
            Some("pass --encoding windows-1252 if the log was re-saved on Windows"),
        )
    })?;
    if em.opts.source_tz.is_none() {
        let line = text.lines().position(|l| parse_stamp(l).is_some()).map_or(1, |p| p as u64 + 1);
        return Err(Error::bad_file(
            input.file,
            line,
            Some("timestamp"),
            "nwipe writes local time without an offset, and no --source-tz was given",
            Some("pass --source-tz with the wiping machine's zone, e.g. --source-tz Europe/Berlin"),
        ));
    }
    let log = parse_log(text);
    if log.drives.is_empty() {
        return Err(Error::bad_file(input.file, 1, None, "no drive found in the log (no 'Found /dev/…' line and no Drive Status table)", None));
    }
    let verification = match log.mode.as_deref().and_then(|m| m.rsplit('+').next()) {
        Some("VL") => Verification::LastPass,
        Some("VA") => Verification::AllPasses,
        Some("NV") => Verification::None,
        _ => Verification::Unknown,
    };
    let lines: Vec<&str> = text.lines().collect();
    for key in &log.order {
        let d = &log.drives[key];
        let raw: String = d.lines.iter().filter_map(|l| lines.get(*l as usize - 1)).copied().collect::<Vec<_>>().join("\n");
        let place = if log.runs > 1 { format!("{} (run {} of {})", d.dev, d.run, log.runs) } else { d.dev.clone() };
        let mut ctx = em.ctx(d.first_line, Some(place), raw.as_bytes());
        let sanitized: Vec<&Sanitize> = d.sanitize.iter().filter(|s| sanitize_technique(&s.action).is_some()).collect();
        if d.method.is_none() && d.status.is_none() && sanitized.is_empty() {
            // nwipe found the drive but this run never started a wipe: counted, no event.
            ctx.warn("method", format!("{} was found but no wipe was started in this run: counted, no wipe event", d.dev), None);
            em.row(ctx, Ok(Vec::new()))?;
            continue;
        }
        // Each SANITIZE action is its own wipe event; an overwrite after it is another, so
        // that a drive sanitized and then overwritten keeps both (the method table rates each).
        let result = (|| {
            let mut out = Vec::new();
            for s in &sanitized {
                out.push(Record::Wipe(sanitize_record(d, s, &mut ctx, log.version.as_deref())?));
            }
            if d.method.is_some() || d.status.is_some() {
                out.push(Record::Wipe(drive_record(d, &mut ctx, verification, log.mode.as_deref(), log.version.as_deref())?));
            }
            Ok(out)
        })();
        em.row(ctx, result)?;
    }
    Ok(())
}

/// What one log says: each drive it names (in order of first mention), nwipe's version and the
/// verification mode of the `Total Throughput` line.
#[derive(Default)]
struct Log {
    /// Each drive of each run, by `run:device`.
    drives: BTreeMap<String, Drive>,
    order: Vec<String>,
    /// How many runs of nwipe the file holds (each opens its entropy source first).
    runs: usize,
    version: Option<String>,
    mode: Option<String>,
    /// The machine's identity lines, per run.
    hosts: BTreeMap<usize, BTreeMap<String, String>>,
}

impl Log {
    fn drive(&mut self, dev: &str, line: u64) -> &mut Drive {
        let run = self.runs.max(1);
        let key = format!("{run:06}:{dev}");
        if !self.drives.contains_key(&key) {
            self.order.push(key.clone());
        }
        self.drives.entry(key).or_insert_with(|| Drive { dev: dev.to_string(), run, first_line: line, ..Default::default() })
    }
}

impl Log {
    /// A SANITIZE line: on an ATA drive, that drive; on an NVMe controller, each of its
    /// namespaces this run found (or the controller itself, which then has no serial).
    fn sanitize(&mut self, path: &str, s: Sanitize, n: u64) {
        let run = self.runs.max(1);
        let mut targets: Vec<String> = if nvme_controller(path) {
            self.drives.iter().filter(|(_, d)| d.run == run && d.dev.strip_prefix(path).is_some_and(|r| r.starts_with('n'))).map(|(k, _)| k.clone()).collect()
        } else {
            Vec::new()
        };
        if targets.is_empty() {
            self.drive(path, n);
            targets.push(format!("{run:06}:{path}"));
        }
        for key in targets {
            let d = self.drives.get_mut(&key).expect("a drive of this log");
            d.lines.push(n);
            d.last = Some((n, s.at));
            d.sanitize.push(s.clone());
        }
    }
}

/// Reads a log's lines into drives: stamped messages, and the rows of the Drive Status table.
fn parse_log(text: &str) -> Log {
    let mut log = Log::default();
    let mut in_status = false;
    let mut in_errors = false;
    let mut host = BTreeMap::new();
    for (i, line) in text.lines().enumerate() {
        let n = i as u64 + 1;
        if line.contains("Drive Status") || line.contains("Error Summary") {
            (in_status, in_errors) = (line.contains("Drive Status"), line.contains("Error Summary"));
            continue;
        }
        let Some((t, rest)) = parse_stamp(line) else {
            if in_status {
                if let Some((dev, status, id)) = status_row(line) {
                    let d = log.drive(&format!("/dev/{dev}"), n);
                    d.status = Some((n, status));
                    d.table_id = Some(id);
                    d.lines.push(n);
                }
            } else if let Some((dev, counts)) = in_errors.then(|| error_row(line)).flatten() {
                let d = log.drive(&format!("/dev/{dev}"), n);
                d.errors = Some(counts);
                d.lines.push(n);
            }
            continue;
        };
        (in_status, in_errors) = (false, false);
        let msg = message(rest);
        // nwipe logs the machine before it opens its entropy source: these lines open the next run.
        if let Some((k, v)) = msg.split_once(" = ").filter(|(k, _)| HOST_KEYS.contains(k)) {
            host.entry(k.to_string()).or_insert_with(|| v.trim().to_string());
            continue;
        }
        // Every run of nwipe opens its entropy source first: a new run of an appended log.
        if msg.starts_with("Opened entropy source") {
            log.runs += 1;
            log.hosts.insert(log.runs, std::mem::take(&mut host));
            continue;
        }
        if let Some(tp) = rest.strip_prefix("Total Throughput") {
            log.mode = tp.rsplit(", ").next().map(str::to_string);
            continue;
        }
        if log.version.is_none()
            && let Some(v) = msg.strip_prefix("nwipe ").and_then(|v| v.split_whitespace().next())
            && v.chars().next().is_some_and(|c| c.is_ascii_digit())
        {
            log.version = Some(v.to_string());
        }
        if let Some((path, action, outcome)) = sanitize_line(msg) {
            log.sanitize(path, Sanitize { action: action.to_string(), outcome: outcome.to_string(), at: t }, n);
            continue;
        }
        let Some(dev) = device_in(msg) else { continue };
        if nvme_controller(&dev) {
            continue; // controller lines (capabilities, progress): the drives are its namespaces
        }
        let d = log.drive(&dev, n);
        d.lines.push(n);
        d.last = Some((n, t));
        apply(d, msg, n, t);
    }
    if !host.is_empty() {
        log.hosts.entry(log.runs.max(1)).or_default().extend(host);
    }
    for d in log.drives.values_mut() {
        d.host = log.hosts.get(&d.run).cloned().unwrap_or_default();
    }
    log
}

/// One stamped message about a drive: its identity, method, passes, blanking and verification.
fn apply(d: &mut Drive, msg: &str, n: u64, t: NaiveDateTime) {
    if let Some(found) = msg.strip_prefix("Found ") {
        if let Some((left, serial)) = found.rsplit_once(", S/N=") {
            let mut parts = left.splitn(3, ", ");
            let _dev = parts.next();
            d.bus = parts.next().map(str::to_string);
            if let Some(rest) = parts.next() {
                match rest.rsplit_once(", ") {
                    Some((model, size)) => {
                        d.model = non_empty(model);
                        d.size = non_empty(size);
                    }
                    None => d.model = non_empty(rest),
                }
            }
            d.serial = non_empty(serial);
        }
    } else if let Some(s) = msg.split_once(" has serial number ").map(|(_, s)| s) {
        if d.serial.is_none() {
            d.serial = non_empty(s);
        }
    } else if let Some(m) = msg.strip_prefix("Invoking method '") {
        d.method = m.split_once('\'').map(|(m, _)| m.to_string());
        d.started = Some((n, t));
    } else if let Some(p) = msg.strip_prefix("Starting pass ") {
        d.passes = p.split(',').next().and_then(|x| x.split('/').nth(1)).and_then(|x| x.trim().parse().ok());
    } else if msg.starts_with("Blanking device") {
        d.blanked = true;
    } else if msg.starts_with("Blanked device") {
        d.blank_done = true;
    } else if msg.starts_with("[SUCCESS] Verified") || msg.starts_with("Verified that") {
        d.verified = Some(true);
    } else if msg.starts_with("[FAILURE]") {
        d.verified = Some(false);
    } else {
        d.io.read(msg);
    }
}

/// The text of a stamped line after its level: `nwipe: notice: X`, `notice: X` or `X`.
fn message(rest: &str) -> &str {
    let rest = rest.strip_prefix("nwipe:").map_or(rest, str::trim_start);
    match rest.split_once(':') {
        Some((level, m)) if matches!(level.trim(), "notice" | "info" | "warning" | "error" | "fatal" | "debug" | "sanity" | "panic") => m.trim(),
        _ => rest.trim(),
    }
}

/// An Error Summary row: `!    sda |           3 |                    0 |                    0`
/// (pass, verification and, in newer versions, fdatasync errors).
fn error_row(line: &str) -> Option<(String, Vec<i64>)> {
    let cols: Vec<&str> = line.split('|').collect();
    let dev = cols.first()?.trim().trim_start_matches('!').trim();
    let counts: Vec<i64> = cols[1..].iter().map(|c| c.trim().parse().ok()).collect::<Option<_>>()?;
    (!dev.is_empty() && (2..=3).contains(&counts.len())).then(|| (dev.to_string(), counts))
}

/// A Drive Status row: `       sda | Erased |  118MB/s | 02:35:25 | MODEL/SERIAL`.
fn status_row(line: &str) -> Option<(String, String, String)> {
    let cols: Vec<&str> = line.split('|').collect();
    if cols.len() < 5 {
        return None;
    }
    let dev = cols[0].trim().trim_start_matches('!').trim();
    if dev.is_empty() || dev == "Device" {
        return None;
    }
    Some((dev.to_string(), cols[1].trim().to_string(), cols[4].trim().to_string()))
}

/// The drive's serial and model: from its `Found` or `has serial number` line, else from the
/// Drive Status table (whose model is cut at 17 characters).
fn identity(d: &Drive, ctx: &mut super::row::RowCtx) -> Result<(String, Option<String>), Issue> {
    let virtual_dev = ["/dev/loop", "/dev/ram", "/dev/zram"].iter().find(|p| d.dev.strip_prefix(**p).is_some_and(|n| n.bytes().all(|b| b.is_ascii_digit())));
    if virtual_dev.is_some() {
        // A loop device is a file, a ram disk memory: wiping them sanitizes no medium.
        return Err(ctx.issue("device", format!("{} is a virtual block device, not a drive: it is not certified", d.dev), Some(&d.dev)));
    }
    let mut serial = d.serial.clone();
    let mut model = d.model.clone();
    if serial.is_none()
        && let Some(id) = &d.table_id
        && let Some((m, s)) = id.rsplit_once('/')
    {
        ctx.warn("Model/Serial Number", "identity taken from the Drive Status table (no 'Found' line); the model may be truncated", Some(id));
        serial = non_empty(s);
        model = model.or_else(|| non_empty(m));
    }
    let Some(serial) = serial else {
        return Err(ctx.issue("S/N", format!("no serial for {}: neither a 'Found … S/N=' line nor a Drive Status row names it", d.dev), None));
    };
    ctx.identifier("S/N", &serial)?;
    Ok((serial, model))
}

fn drive_record(d: &Drive, ctx: &mut super::row::RowCtx, verification: Verification, mode: Option<&str>, version: Option<&str>) -> Result<Wipe, Issue> {
    let (serial, model) = identity(d, ctx)?;
    let (result, result_raw) = match &d.status {
        Some((_, s)) => {
            let r = match s.trim_matches(|c: char| c == '-' || c.is_whitespace()).to_uppercase().as_str() {
                "ERASED" => WipeResult::Success,
                "FAILED" | "INSANITY" => WipeResult::Failed,
                "UABORTED" | "ABORTED" => WipeResult::Aborted,
                _ => {
                    ctx.warn("Status", "drive status not Erased, FAILED, UABORTED or INSANITY; result recorded as unknown", Some(s));
                    WipeResult::Unknown
                }
            };
            (r, Some(s.clone()))
        }
        // Old nwipe (0.1x) writes no status table: its run ends `Blanked device` once the final
        // blank (verified or not) is done. Anything short of that is not a result.
        None if d.io.failed() => (WipeResult::Failed, Some(d.io.describe())),
        None if d.blank_done && d.verified != Some(false) => (WipeResult::Success, Some("Blanked device".to_string())),
        None => {
            ctx.warn("Status", format!("no Drive Status row and no completed final blank for {}: the run ends before its result (or the log is cut off); result recorded as incomplete", d.dev), None);
            (WipeResult::Incomplete, None)
        }
    };
    let method = d.method.clone();
    let verify_only = method.as_deref().is_some_and(|m| m.starts_with("Verify"));
    if verify_only {
        ctx.warn("method", "a verify-only method reads the drive; it does not sanitize it", method.as_deref());
    }
    let started_at = d.started.map(|(_, t)| at(ctx, t)).transpose()?.flatten();
    let completed_at = d.last.map(|(_, t)| at(ctx, t)).transpose()?.flatten();
    let errors: i64 = d.errors.as_ref().map_or(0, |e| e.iter().sum());
    if errors > 0 && result == WipeResult::Success {
        ctx.warn("Error Summary", format!("{errors} errors in the Error Summary table although the drive status says erased: recorded as failed"), None);
    }
    if d.io.failed() && result == WipeResult::Success {
        ctx.warn("Status", format!("{} although the drive status says erased: recorded as failed", d.io.describe()), None);
    }
    let mut w = drive_wipe(d, ctx, &serial, model, version);
    if d.io.retries > 0 {
        w.extra.insert("io_retries".into(), d.io.retries.to_string());
    }
    if d.io.failed() {
        w.extra.insert("write_errors".into(), d.io.write_errors.to_string());
        w.extra.insert("io_errors".into(), d.io.describe());
    }
    for (k, v) in ["pass_errors", "verify_errors", "fdatasync_errors"].iter().zip(d.errors.iter().flatten()) {
        w.extra.insert((*k).into(), v.to_string());
    }
    if let Some(m) = mode {
        w.extra.insert("mode".into(), m.into());
    }
    if d.blanked {
        w.extra.insert("final_blank".into(), "true".into());
    }
    Ok(Wipe {
        method_raw: method,
        technique: if verify_only || d.method.is_none() { Technique::Unknown } else { Technique::Overwrite },
        nist_category: if verify_only || d.method.is_none() { NistCategory::Unknown } else { NistCategory::Clear },
        passes: d.passes,
        verification: match (verification, d.verified) {
            (Verification::Unknown, Some(true)) => Verification::LastPass,
            (v, _) => v,
        },
        verification_raw: d.verified.map(|v| if v { "verified".to_string() } else { "verification failed".to_string() }),
        result: if (d.verified == Some(false) || errors > 0 || d.io.failed()) && result == WipeResult::Success { WipeResult::Failed } else { result },
        result_raw,
        started_at,
        completed_at,
        errors: d.errors.as_ref().map(|e| e.iter().sum()),
        ..w
    })
}

/// A log time (local, without an offset) as an instant in the --source-tz zone.
fn at(ctx: &mut super::row::RowCtx, t: NaiveDateTime) -> Result<Option<Instant>, Issue> {
    ctx.local("timestamp", &t.format("%Y-%m-%d %H:%M:%S").to_string(), &["%Y-%m-%d %H:%M:%S"])
}

/// What every wipe of one drive shares: its identity, its machine, the tool, and its size and
/// bus in `extra`. The caller says what was done and how it ended (made last: provenance
/// records whether a time needed the source zone).
fn drive_wipe(d: &Drive, ctx: &super::row::RowCtx, serial: &str, model: Option<String>, version: Option<&str>) -> Wipe {
    let mut extra = Extra::new();
    let host_serial = host_of(d, &mut extra);
    if let Some(s) = &d.size {
        extra.insert("size".into(), s.clone());
    }
    if let Some(b) = &d.bus {
        extra.insert("bus".into(), b.clone());
    }
    Wipe {
        prov: ctx.prov(None),
        media_serial: Serial::new(serial, None),
        host_serial,
        asset_tag: None,
        device_name: Some(d.dev.clone()),
        media_type: media_type(d.bus.as_deref(), model.as_deref()),
        media_model: model,
        media_manufacturer: None,
        capacity_bytes: None,
        tool: WipeTool::Nwipe,
        tool_version: version.map(str::to_string),
        method_raw: None,
        technique: Technique::Unknown,
        nist_category: NistCategory::Unknown,
        passes: None,
        verification: Verification::Unknown,
        verification_raw: None,
        result: WipeResult::Unknown,
        result_raw: None,
        started_at: None,
        completed_at: None,
        operator: None,
        organisation: None,
        vendor: None,
        certificate_id: None,
        lot: None,
        report_id: None,
        hpa_dco: HpaDco::Unknown,
        errors: None,
        extra,
    }
}

/// A SANITIZE action as a wipe: block erase, crypto erase/scramble or sanitize overwrite, with
/// the device's own outcome. `has completed` means the device reported neither success nor
/// failure: not a success.
fn sanitize_record(d: &Drive, s: &Sanitize, ctx: &mut super::row::RowCtx, version: Option<&str>) -> Result<Wipe, Issue> {
    let (serial, model) = identity(d, ctx)?;
    let result = match s.outcome.as_str() {
        "was successful" => WipeResult::Success,
        "has failed" => WipeResult::Failed,
        other => {
            ctx.warn(
                "SANITIZE",
                format!("the device reported neither success nor failure of SANITIZE {} ({other}); result recorded as unknown", s.action),
                Some(other),
            );
            WipeResult::Unknown
        }
    };
    let completed_at = at(ctx, s.at)?;
    if d.io.failed() && result == WipeResult::Success {
        ctx.warn("Status", format!("{} although the drive status says erased: recorded as failed", d.io.describe()), None);
    }
    let mut w = drive_wipe(d, ctx, &serial, model, version);
    if d.io.retries > 0 {
        w.extra.insert("io_retries".into(), d.io.retries.to_string());
    }
    if d.io.failed() {
        w.extra.insert("write_errors".into(), d.io.write_errors.to_string());
        w.extra.insert("io_errors".into(), d.io.describe());
    }
    w.extra.insert("sanitize_action".into(), s.action.clone());
    Ok(Wipe {
        method_raw: Some(format!("SANITIZE {}", s.action)),
        technique: sanitize_technique(&s.action).unwrap_or(Technique::Unknown),
        nist_category: NistCategory::Purge,
        result,
        result_raw: Some(s.outcome.clone()),
        completed_at,
        ..w
    })
}

fn media_type(bus: Option<&str>, model: Option<&str>) -> MediaType {
    let bus = bus.unwrap_or("").to_uppercase();
    let model = model.unwrap_or("").to_uppercase();
    if bus.contains("NVME") || model.contains("NVME") {
        MediaType::Nvme
    } else if bus.contains("USB") {
        MediaType::Usb
    } else if model.contains("SSD") {
        MediaType::Ssd
    } else if bus.contains("ATA") || bus.contains("SAS") || bus.contains("SCSI") {
        MediaType::Hdd
    } else {
        MediaType::Unknown
    }
}
