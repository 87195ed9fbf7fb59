//! Blancco Drive Eraser reports (XML): single, bulk (`<root>` of many `<report>`s) and the
//! layout with `<blancco_data>` at the root. Blancco publishes no schema, so the `entries/entry`
//! tree is flattened generically into dotted keys and only the keys below are interpreted; the
//! customer's own `user_data` fields (asset id, lot) are named by configuration (`--user-field`).

use super::row::{RowCtx, RowResult, non_empty};
use super::{Emitter, Error, Input};
use crate::model::*;
use roxmltree::Node;
use std::collections::BTreeMap;

/// The `user_data` field names tried for each canonical field when `--user-field` names none.
pub const USER_FIELD_DEFAULTS: &[(&str, &[&str])] = &[
    ("asset_tag", &["Asset ID", "Asset Tag", "AssetTag", "Asset Number", "Asset No"]),
    ("lot", &["Lot Number", "Lot", "Lot ID", "Lot No"]),
    ("operator", &["Technician", "Operator", "Performed By"]),
];

/// Canonical fields `--user-field` may name.
pub fn user_field_names() -> Vec<&'static str> {
    USER_FIELD_DEFAULTS.iter().map(|(k, _)| *k).collect()
}

/// Whether the bytes look like a Blancco report (before parsing the whole document).
pub fn looks_like(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(64 * 1024)];
    let head = String::from_utf8_lossy(head);
    head.trim_start_matches('\u{feff}').trim_start().starts_with('<') && head.contains("blancco_")
}

/// A flattened `entries` element: dotted key → (value, line).
type Flat = BTreeMap<String, (String, u64)>;

fn name_of<'a>(n: &Node<'a, '_>) -> &'a str {
    n.attribute("name").unwrap_or("")
}

fn children<'a, 'i, 't>(n: Node<'a, 'i>, tag: &'t str) -> impl Iterator<Item = Node<'a, 'i>> + use<'a, 'i, 't> {
    n.children().filter(move |c| c.is_element() && c.tag_name().name() == tag)
}

fn child_entries<'a, 'i>(n: Node<'a, 'i>, name: &'static str) -> impl Iterator<Item = Node<'a, 'i>> {
    children(n, "entries").filter(move |c| name_of(c) == name)
}

fn line_of(doc: &roxmltree::Document, n: &Node) -> u64 {
    doc.text_pos_at(n.range().start).row as u64
}

/// Flattens an `entries` element into `key`, `sub.key`, `sub[1].key` (an index only where a
/// name repeats among siblings), so that nothing in it is lost and any key can be mapped.
fn flatten(doc: &roxmltree::Document, n: Node, prefix: &str, out: &mut Flat) {
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    for c in n.children().filter(|c| c.is_element()) {
        let tag = c.tag_name().name();
        let name = if tag == "entry" || tag == "entries" { name_of(&c) } else { tag };
        let repeats =
            n.children().filter(|s| s.is_element() && s.tag_name().name() == tag && (tag != "entries" && tag != "entry" || name_of(s) == name)).count() > 1;
        let i = seen.entry(name).or_default();
        let key = match (prefix.is_empty(), repeats) {
            (true, false) => name.to_string(),
            (true, true) => format!("{name}[{i}]"),
            (false, false) => format!("{prefix}.{name}"),
            (false, true) => format!("{prefix}.{name}[{i}]"),
        };
        *i += 1;
        if c.children().any(|g| g.is_element()) {
            flatten(doc, c, &key, out);
        } else {
            out.insert(key, (c.text().unwrap_or("").trim().to_string(), line_of(doc, &c)));
        }
    }
}

/// An XPath to an element, with positions where a name repeats among siblings.
fn xpath(n: Node) -> String {
    let mut parts = Vec::new();
    for a in n.ancestors().filter(|a| a.is_element()) {
        let tag = a.tag_name().name();
        let same: Vec<_> = a.parent().map(|p| children(p, tag).collect()).unwrap_or_default();
        if same.len() > 1 {
            let pos = same.iter().position(|s| *s == a).unwrap_or(0) + 1;
            parts.push(format!("{tag}[{pos}]"));
        } else {
            parts.push(tag.to_string());
        }
    }
    parts.reverse();
    format!("/{}", parts.join("/"))
}

/// Reads every report in the document. Each report is one row of the population: it becomes a
/// wipe record per erasure and a media link per disk of the machine.
pub fn read(input: &Input, em: &mut Emitter) -> Result<(), Error> {
    let text = std::str::from_utf8(input.bytes).map_err(|e| {
        let line = super::text::line_of(input.bytes, e.valid_up_to());
        Error::bad_file(input.file, line, None, "not valid UTF-8", Some("the file is damaged or in another encoding"))
    })?;
    let opts = roxmltree::ParsingOptions { allow_dtd: false, ..Default::default() };
    let doc = roxmltree::Document::parse_with_options(text, opts).map_err(|e| {
        let line = match e {
            roxmltree::Error::UnexpectedEndOfStream => super::text::line_of(input.bytes, input.bytes.len()),
            _ => e.pos().row as u64,
        };
        Error::bad_file(input.file, line, None, format!("not well-formed XML: {e}"), Some("the export is cut short or damaged; export it again"))
    })?;
    let reports: Vec<Node> = doc.descendants().filter(|n| n.is_element() && n.tag_name().name() == "blancco_data").collect();
    if reports.is_empty() {
        return Err(Error::bad_file(input.file, 1, Some("blancco_data"), "no <blancco_data> element: this is not a Blancco erasure report", None));
    }
    let fields = user_fields(&em.opts.user_fields);
    let mut seen: BTreeMap<String, u64> = BTreeMap::new();
    for data in reports {
        // A report's user data sits beside its blancco_data (inside <report>), or inside it.
        let report = data.parent().filter(|p| p.is_element() && p.tag_name().name() == "report").unwrap_or(data);
        let mut ctx = em.ctx(line_of(&doc, &report), Some(xpath(report)), &input.bytes[report.range()]);
        let result = map_report(&doc, data, report, &fields, &mut ctx);
        if let Some(id) = document_id(data) {
            // The same report twice in one bulk export would count its erasures twice.
            match seen.get(&id) {
                Some(first) => ctx.warn("document_id", format!("report also on line {first} of this export: both are kept (duplicate)"), Some(&id)),
                None => {
                    seen.insert(id, ctx.line);
                }
            }
        }
        em.row(ctx, result)?;
        em.progress(report.range().end as u64);
    }
    Ok(())
}

/// Canonical field → `user_data` names to try, with `--user-field` taking the place of the defaults.
fn user_fields(configured: &BTreeMap<String, String>) -> Vec<(&'static str, Vec<String>)> {
    USER_FIELD_DEFAULTS
        .iter()
        .map(|(k, defaults)| match configured.get(*k) {
            Some(name) => (*k, vec![name.clone()]),
            None => (*k, defaults.iter().map(|d| d.to_string()).collect()),
        })
        .collect()
}

/// The customer's fields, by their own names (`user_data/entries[@name=fields]/entry`).
fn user_data(doc: &roxmltree::Document, report: Node) -> Flat {
    let mut out = Flat::new();
    for ud in report.descendants().filter(|n| n.is_element() && n.tag_name().name() == "user_data") {
        for e in ud.descendants().filter(|n| n.is_element() && n.tag_name().name() == "entry") {
            out.entry(name_of(&e).to_string()).or_insert_with(|| (e.text().unwrap_or("").trim().to_string(), line_of(doc, &e)));
        }
    }
    out
}

fn document_id(data: Node) -> Option<String> {
    data.descendants().find(|n| n.is_element() && n.tag_name().name() == "document_id").and_then(|n| n.text()).and_then(non_empty)
}

/// The first value named `name` under `under` (a `<name>` element or an `<entry name="name">`):
/// Blancco writes report metadata both ways across versions.
fn named(under: Option<Node>, name: &str) -> Option<String> {
    under?
        .descendants()
        .find(|n| n.is_element() && (n.tag_name().name() == name || (n.tag_name().name() == "entry" && name_of(n) == name)))
        .and_then(|n| n.text())
        .and_then(non_empty)
}

/// What the report says of itself (Appendix G of SP 800-88: who, with which tool and version,
/// and whether the report was verified): product name and version from the document log,
/// the erasure person from the company information, `verified` from the description.
struct Meta {
    product: Option<String>,
    version: Option<String>,
    person: Option<String>,
    verified: Option<String>,
}

fn meta(data: Node) -> Meta {
    let description = children(data, "description").next();
    Meta {
        product: named(description, "product_name"),
        version: named(description, "product_version"),
        person: named(Some(data), "erasure_person"),
        verified: named(description, "verified"),
    }
}

struct Machine {
    serial: Serial,
    disks: Vec<Flat>,
}

fn machine(doc: &roxmltree::Document, data: Node, ctx: &RowCtx) -> RowResult<Machine> {
    let hw = children(data, "blancco_hardware_report").next();
    let mut system = Flat::new();
    if let Some(s) = hw.and_then(|h| child_entries(h, "system").next()) {
        flatten(doc, s, "", &mut system);
    }
    let get = |k: &str| system.get(k).map(|(v, _)| v.clone()).unwrap_or_default();
    let serial = ctx.serial("system.serial", &get("serial"), non_empty(&get("model")).as_deref())?;
    let mut disks = Vec::new();
    for list in hw.into_iter().flat_map(|h| child_entries(h, "disks")) {
        for d in child_entries(list, "disk") {
            let mut f = Flat::new();
            flatten(doc, d, "", &mut f);
            disks.push(f);
        }
    }
    Ok(Machine { serial, disks })
}

fn map_report(doc: &roxmltree::Document, data: Node, report: Node, fields: &[(&'static str, Vec<String>)], ctx: &mut RowCtx) -> RowResult<Vec<Record>> {
    let document_id = document_id(data);
    let m = machine(doc, data, ctx)?;
    let user = user_data(doc, report);
    let pick = |canon: &str| -> Option<(String, String)> {
        let names = &fields.iter().find(|(k, _)| *k == canon)?.1;
        names.iter().find_map(|n| user.iter().find(|(k, _)| k.eq_ignore_ascii_case(n)).and_then(|(k, (v, _))| non_empty(v).map(|v| (k.clone(), v))))
    };
    let asset_tag = pick("asset_tag");
    if let Some((k, v)) = &asset_tag {
        ctx.identifier(&format!("user_data.{k}"), v)?;
    }
    let lot = pick("lot");
    let meta = meta(data);
    // A technician typed into user_data (or named by --user-field) wins; else the report's own.
    let operator = pick("operator").or_else(|| meta.person.clone().map(|p| ("erasure_person".to_string(), p)));
    let used: Vec<&String> = [&asset_tag, &lot, &operator].into_iter().flatten().map(|(k, _)| k).collect();
    let mut user_extra = Extra::new();
    for (k, (v, _)) in &user {
        if !used.contains(&k) {
            user_extra.insert(format!("user_data.{k}"), v.clone());
        }
    }
    for (k, v) in [("product_name", &meta.product), ("report_verified", &meta.verified), ("erasure_person", &meta.person)] {
        if let Some(v) = v {
            user_extra.insert(k.to_string(), v.clone());
        }
    }
    let erasures: Vec<Node> =
        children(data, "blancco_erasure_report").flat_map(|r| child_entries(r, "erasures")).flat_map(|l| child_entries(l, "erasure")).collect();
    let mut out = Vec::new();
    // Every drive the machine reported links to it, so a drive left unerased is still known.
    if m.serial.join_key().is_some() {
        for d in &m.disks {
            let s = d.get("serial").map(|(v, _)| v.as_str()).unwrap_or("");
            if !s.is_empty() {
                let media_serial = ctx.serial("disks.disk.serial", s, None)?;
                out.push(Record::MediaLink(MediaLink {
                    prov: ctx.prov(document_id.clone()),
                    media_serial,
                    host_serial: m.serial.clone(),
                    media_model: d.get("model").and_then(|(v, _)| non_empty(v)),
                }));
            }
        }
    }
    if erasures.is_empty() {
        ctx.warn("blancco_erasure_report", "the report has no erasure: counted, no wipe record", document_id.as_deref());
        return Ok(out);
    }
    let (row_line, row_pointer) = (ctx.line, ctx.pointer.clone());
    for e in erasures {
        // Issues and provenance name the erasure itself, not only its report.
        ctx.line = line_of(doc, &e);
        ctx.pointer = Some(xpath(e));
        let mut f = Flat::new();
        flatten(doc, e, "", &mut f);
        let wipe = erasure(&f, &m, ctx)?;
        out.push(Record::Wipe(Wipe {
            prov: ctx.prov(document_id.clone()),
            asset_tag: asset_tag.as_ref().map(|(_, v)| v.clone()),
            lot: lot.as_ref().map(|(_, v)| v.clone()),
            operator: operator.as_ref().map(|(_, v)| v.clone()),
            report_id: document_id.clone(),
            tool_version: meta.version.clone().or(wipe.tool_version),
            extra: {
                let mut x = wipe.extra;
                x.extend(user_extra.clone());
                x
            },
            ..wipe
        }));
    }
    ctx.line = row_line;
    ctx.pointer = row_pointer;
    Ok(out)
}

const ERASURE_KEYS: &[&str] = &[
    "state",
    "erasure_standard_name",
    "start_time",
    "end_time",
    "total_errors",
    "overwriting_rounds",
    "verification",
    "target.serial",
    "target.type",
    "target.model",
    "target.vendor",
    "target.capacity",
    "target.interface_type",
];

fn erasure(f: &Flat, m: &Machine, ctx: &mut RowCtx) -> RowResult<Wipe> {
    let get = |k: &str| f.get(k).map(|(v, _)| v.as_str()).unwrap_or("");
    let mut media_raw = get("target.serial").to_string();
    if media_raw.is_empty() && m.disks.len() == 1 {
        // A machine with one disk: the erasure can only be of that disk.
        media_raw = m.disks[0].get("serial").map(|(v, _)| v.clone()).unwrap_or_default();
    }
    if media_raw.is_empty() {
        return Err(ctx.issue(
            "target.serial",
            "the erasure names no drive serial (target.serial) and the machine has more than one disk: it cannot be tied to a drive",
            None,
        ));
    }
    let media = ctx.serial("target.serial", &media_raw, None)?;
    let disk = m.disks.iter().find(|d| d.get("serial").is_some_and(|(v, _)| crate::model::serial::normalize(v) == media.key));
    let disk_get = |k: &str| disk.and_then(|d| d.get(k)).map(|(v, _)| v.as_str()).unwrap_or("");
    let state = get("state");
    if state.is_empty() {
        return Err(ctx.issue("state", "the erasure has no state: its result is not known", None));
    }
    let result = ctx.vocab("state", state, erasure_state, WipeResult::Unknown);
    let method = get("erasure_standard_name");
    if method.is_empty() {
        return Err(ctx.issue("erasure_standard_name", "the erasure names no erasure standard", None));
    }
    let (technique, nist_category) = classify(method);
    if technique == Technique::Unknown && nist_category == NistCategory::Unknown {
        ctx.warn("erasure_standard_name", "erasure standard not recognised; technique and NIST category recorded as unknown", Some(method));
    }
    let started_at = ctx.local("start_time", get("start_time"), TIME_FORMATS)?;
    let completed_at = ctx.local("end_time", get("end_time"), TIME_FORMATS)?;
    if completed_at.is_none() && started_at.is_none() {
        return Err(ctx.issue("end_time", "the erasure has neither start_time nor end_time: it cannot be dated", None));
    }
    let type_raw =
        [get("target.type"), disk_get("type"), get("target.interface_type"), disk_get("interface_type")].into_iter().find(|t| !t.is_empty()).unwrap_or("");
    let media_type = ctx.vocab("target.type", type_raw, super::itad::media_type, MediaType::Unknown);
    let capacity_raw = if get("target.capacity").is_empty() { disk_get("capacity") } else { get("target.capacity") };
    let verification_raw = get("verification");
    let verification = ctx.vocab("verification", verification_raw, super::itad::verification, Verification::Unknown);
    let mut extra = Extra::new();
    for (k, (v, _)) in f {
        if !ERASURE_KEYS.contains(&k.as_str()) {
            extra.insert(format!("erasure.{k}"), v.clone());
        }
    }
    Ok(Wipe {
        prov: Provenance::default(),
        media_serial: media,
        host_serial: m.serial.clone(),
        asset_tag: None,
        device_name: None,
        media_type,
        media_model: non_empty(if get("target.model").is_empty() { disk_get("model") } else { get("target.model") }),
        media_manufacturer: non_empty(if get("target.vendor").is_empty() { disk_get("vendor") } else { get("target.vendor") }),
        capacity_bytes: ctx.integer("target.capacity", capacity_raw)?,
        tool: WipeTool::Blancco,
        tool_version: None,
        method_raw: Some(method.to_string()),
        technique,
        nist_category,
        passes: ctx.integer("overwriting_rounds", get("overwriting_rounds"))?,
        verification,
        verification_raw: non_empty(verification_raw),
        result,
        result_raw: Some(state.to_string()),
        started_at,
        completed_at,
        operator: None,
        organisation: None,
        vendor: None,
        certificate_id: None,
        lot: None,
        report_id: None,
        hpa_dco: HpaDco::Unknown,
        errors: ctx.integer("total_errors", get("total_errors"))?,
        extra,
    })
}

/// Blancco writes `2025-02-20T10:14:02+0100`; a time without offset needs `--source-tz`.
const TIME_FORMATS: &[&str] = &["%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S%.f"];

fn erasure_state(s: &str) -> Option<WipeResult> {
    Some(match s.to_lowercase().as_str() {
        "successful" | "success" | "completed" => WipeResult::Success,
        "failed" | "unsuccessful" | "error" | "failure" => WipeResult::Failed,
        "aborted" | "cancelled" | "canceled" | "interrupted" | "stopped" => WipeResult::Aborted,
        _ => return None,
    })
}

/// Technique and NIST SP 800-88 category of a Blancco erasure standard. A standard that names
/// its 800-88 category is taken at its word; the rest go through the vendor-method rules.
pub fn classify(standard: &str) -> (Technique, NistCategory) {
    let s = standard.to_lowercase();
    if s.contains("800-88") || s.contains("800 88") {
        if s.contains("purge") {
            // Blancco purges with the drive's own sanitize / secure-erase commands unless the
            // standard names a narrower technique (cryptographic erase, block erase).
            let (t, _) = super::itad::classify_method(standard);
            return (if t == Technique::Unknown { Technique::Sanitize } else { t }, NistCategory::Purge);
        }
        if s.contains("clear") {
            return (Technique::Overwrite, NistCategory::Clear);
        }
    }
    if s.contains("hmg") || s.contains("5220") || s.contains("bsi") || s.contains("aperiodic") || s.contains("overwrit") {
        return (Technique::Overwrite, NistCategory::Clear);
    }
    super::itad::classify_method(standard)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standards_map_to_800_88_categories() {
        assert_eq!(classify("NIST 800-88 Purge"), (Technique::Sanitize, NistCategory::Purge));
        assert_eq!(classify("NIST 800-88 Clear"), (Technique::Overwrite, NistCategory::Clear));
        assert_eq!(classify("NIST 800-88 Purge (Cryptographic Erase)"), (Technique::CryptoErase, NistCategory::Purge));
        assert_eq!(classify("HMG Infosec Standard 5, Higher Standard"), (Technique::Overwrite, NistCategory::Clear));
        assert_eq!(classify("U.S. DoD 5220.22-M"), (Technique::Overwrite, NistCategory::Clear));
        assert_eq!(classify("Blancco SSD Erasure"), (Technique::Unknown, NistCategory::Unknown));
    }

    fn flat_of(xml: &str) -> Flat {
        let doc = roxmltree::Document::parse(xml).unwrap();
        let mut f = Flat::new();
        flatten(&doc, doc.root_element(), "", &mut f);
        f
    }

    #[test]
    fn flattening_keeps_every_entry_and_indexes_repeats() {
        let f = flat_of(
            r#"<entries name="erasure"><entry name="state">Successful</entry><entries name="target"><entry name="serial">A1</entry></entries><entries name="pass"><entry name="n">1</entry></entries><entries name="pass"><entry name="n">2</entry></entries></entries>"#,
        );
        let keys: Vec<_> = f.iter().map(|(k, (v, _))| format!("{k}={v}")).collect();
        assert_eq!(keys, ["pass[0].n=1", "pass[1].n=2", "state=Successful", "target.serial=A1"]);
    }
}
