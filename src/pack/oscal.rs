//! The evaluation in NIST OSCAL 1.2.1, for GRC tools: assessment results (one observation per
//! control and sample date naming its population file, one per failing or excepted item, one
//! finding per control, back-matter with the SHA-256 of every source), the assessment plan, system
//! security plan and catalogs they resolve to, the crosswalk as a mapping collection, and the
//! whole as a compliance-trestle signed package. RFC 8785 canonical JSON throughout; UUIDs derived
//! from content: the same pack gives the same bytes. They grow with the findings, not the fleet.

use crate::controls::Library;
use crate::controls::schema::Relationship;
use crate::evaluate::{Evaluation, Status};
use crate::view::{ItemKey, KeyKind};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// The OSCAL release the files are written in (compliance-trestle 5.x reads it).
pub const OSCAL_VERSION: &str = "1.2.1";
/// The OSCAL files of a pack, under results/ (the mapping's framework catalogs are named by
/// `framework_catalog_file`).
pub const ASSESSMENT_RESULTS: &str = "oscal-assessment-results.json";
pub const ASSESSMENT_PLAN: &str = "oscal-assessment-plan.json";
pub const SYSTEM_SECURITY_PLAN: &str = "oscal-system-security-plan.json";
pub const CATALOG: &str = "oscal-catalog.json";
pub const MAPPING_COLLECTION: &str = "oscal-mapping-collection.json";
/// compliance-trestle's signing manifest of the OSCAL files, and its DSSE envelope.
pub const PACKAGE: &str = "oscal-package.json";
pub const PACKAGE_SIGNATURE: &str = "oscal-package.dsse.json";
const MEDIA_TYPE: &str = "application/oscal+json";
const PACKAGE_PREDICATE: &str = "https://oscal-compass.github.io/compliance-trestle/predicates/oscal-package/v1";
const DSSE_PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";

/// A value as RFC 8785 canonical JSON. OSCAL values here hold strings, integers, booleans and
/// maps; for those, JCS is serde_json's own encoding (same string escapes, integers as written)
/// with each object's keys sorted by UTF-16 code units. A float (none is written) goes through
/// serde_jcs, whose number form JCS specifies.
pub fn canonical(v: &Value) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    if write_canonical(v, &mut out).is_err() {
        return serde_jcs::to_vec(v).expect("an OSCAL value serialises");
    }
    out
}

/// Writes `v` canonically; `Err` on a float, which it leaves to serde_jcs.
fn write_canonical(v: &Value, out: &mut Vec<u8>) -> Result<(), ()> {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<(&String, &Value)> = m.iter().collect();
            keys.sort_by(|a, b| a.0.encode_utf16().cmp(b.0.encode_utf16()));
            out.push(b'{');
            for (i, (k, v)) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                serde_json::to_writer(&mut *out, k).map_err(|_| ())?;
                out.push(b':');
                write_canonical(v, out)?;
            }
            out.push(b'}');
        }
        Value::Array(a) => {
            out.push(b'[');
            for (i, v) in a.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_canonical(v, out)?;
            }
            out.push(b']');
        }
        Value::Number(n) if n.is_f64() => return Err(()),
        other => serde_json::to_writer(&mut *out, other).map_err(|_| ())?,
    }
    Ok(())
}
/// Our namespace for props OSCAL does not define (serial numbers, outcomes, confidence).
pub const NS: &str = "https://evident.dev/ns/oscal";

/// A version-5-shaped UUID from a SHA-256 of the parts: stable across runs.
pub fn uuid(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0]);
    }
    let mut b: [u8; 16] = h.finalize()[..16].try_into().expect("16 bytes");
    b[6] = (b[6] & 0x0f) | 0x50;
    b[8] = (b[8] & 0x3f) | 0x80;
    let x = hex::encode(b);
    format!("{}-{}-{}-{}-{}", &x[..8], &x[8..12], &x[12..16], &x[16..20], &x[20..])
}

/// OSCAL strings may not be empty or start/end with whitespace.
fn text(s: &str) -> String {
    let t = s.trim();
    if t.is_empty() { "(none)".into() } else { t.to_string() }
}

fn prop(name: &str, value: &str) -> Value {
    json!({"name": name, "value": text(value)})
}

fn ours(name: &str, value: &str) -> Value {
    json!({"name": name, "ns": NS, "value": text(value)})
}

/// A source file inside the pack, for back-matter.
pub struct Source<'a> {
    pub file_name: &'a str,
    pub path: &'a str,
    pub sha256: &'a str,
    pub kind: &'a str,
}

fn media_type(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or("") {
        "csv" => "text/csv",
        "json" => "application/json",
        "xml" => "application/xml",
        _ => "text/plain",
    }
}

/// `control-id` in OSCAL token form: `ENC-01` → `enc-01`.
fn control_id(id: &str) -> String {
    id.to_ascii_lowercase()
}

/// Stand-ins for the arrays that grow with the findings, replaced as the file is written.
const INVENTORY: &str = "\u{0}inventory-items\u{0}";
const OBSERVATIONS: &str = "\u{0}observations\u{0}";
const FINDINGS: &str = "\u{0}findings\u{0}";

/// Writes the assessment results of one pack, compact: the inventory items and observations are
/// written one at a time (never the whole document in memory).
pub fn write_assessment_results(out: &mut dyn std::io::Write, ev: &Evaluation, lib: &Library, sources: &[Source], seq: u64) -> std::io::Result<()> {
    let scope = &ev.scope;
    let scope_text = scope.to_string();
    let mut resources: Vec<Value> = sources.iter().map(resource).collect();
    for c in &ev.controls {
        for f in &c.populations {
            resources.push(json!({
                "uuid": uuid(&["resource", &f.sha256, &f.path]),
                "title": format!("{} population at {}", c.id, f.date),
                "description": "every item judged, one JSON object per line: date, item, asset_tag, outcome, reason, records",
                "rlinks": [{"href": format!("../{}", f.path), "media-type": "application/jsonl", "hashes": [{"algorithm": "SHA-256", "value": f.sha256}]}],
            }));
        }
    }
    // A record reference names its export by the first 12 hex digits of its SHA-256.
    let by_sha: BTreeMap<&str, String> = sources.iter().map(|s| (s.sha256.get(..12).unwrap_or(s.sha256), uuid(&["resource", s.sha256, s.path]))).collect();
    let inventory = inventory(ev);
    let observed = ev.controls.iter().any(|c| !c.populations.is_empty() || c.items.iter().any(|i| i.outcome != crate::evaluate::Outcome::Pass));
    let skeleton = skeleton(ev, &scope_text, seq, !inventory.is_empty(), observed, resources);
    // Canonical (keys sorted), so the file's SHA-256 is its RFC 8785 digest: the findings come
    // before the inventory and the observations, so they are made first, emitting nothing.
    let mut findings = Vec::new();
    for c in &ev.controls {
        findings.push(control_results(c, lib, &scope_text, &inventory, &by_sha, None)?);
    }
    let text = String::from_utf8(canonical(&skeleton)).map_err(std::io::Error::other)?;
    let mut places: Vec<(usize, &str)> = [FINDINGS, INVENTORY, OBSERVATIONS]
        .into_iter()
        .filter_map(|m| {
            let quoted = String::from_utf8(canonical(&Value::String(m.into()))).ok()?;
            text.find(&quoted).map(|at| (at, m))
        })
        .collect();
    places.sort();
    let mut at = 0;
    for (start, marker) in places {
        let quoted = String::from_utf8(canonical(&Value::String(marker.into()))).map_err(std::io::Error::other)?;
        out.write_all(&text.as_bytes()[at..start])?;
        at = start + quoted.len();
        let mut list = List::new(out);
        match marker {
            INVENTORY => {
                for (key, (tag, id)) in &inventory {
                    list.item(&inventory_item(key, tag.as_deref(), id))?;
                }
            }
            OBSERVATIONS => {
                for c in &ev.controls {
                    control_results(c, lib, &scope_text, &inventory, &by_sha, Some(&mut |o| list.item(&o)))?;
                }
            }
            _ => {
                for f in &findings {
                    list.item(f)?;
                }
            }
        }
        list.end()?;
    }
    out.write_all(&text.as_bytes()[at..])
}

/// A JSON array written one element at a time.
struct List<'w> {
    out: &'w mut dyn std::io::Write,
    first: bool,
}

impl<'w> List<'w> {
    fn new(out: &'w mut dyn std::io::Write) -> List<'w> {
        List { out, first: true }
    }

    fn item(&mut self, v: &Value) -> std::io::Result<()> {
        self.out.write_all(if self.first { b"[" } else { b"," })?;
        self.first = false;
        self.out.write_all(&canonical(v))
    }

    fn end(self) -> std::io::Result<()> {
        self.out.write_all(if self.first { b"[]" } else { b"]" })
    }
}

/// The document around the arrays that grow: their places hold the stand-ins.
fn skeleton(ev: &Evaluation, scope_text: &str, seq: u64, items: bool, observed: bool, resources: Vec<Value>) -> Value {
    let scope = &ev.scope;
    let end = format!("{}T23:59:59Z", scope.end());
    let start = format!("{}T00:00:00Z", scope.start().unwrap_or(scope.end()));
    let mut result = json!({
        "uuid": uuid(&["result", scope_text, &seq.to_string()]),
        "title": format!("evident evaluation {scope_text}"),
        "description": format!("Every evident control tested on the records of this pack; sample dates {}.", ev.sample_dates.iter().map(|d| d.to_string()).collect::<Vec<_>>().join(", ")),
        "start": start,
        "end": end,
        "reviewed-controls": {"control-selections": [{"include-controls": ev.controls.iter().map(|c| json!({"control-id": control_id(&c.id)})).collect::<Vec<_>>()}]},
    });
    if items {
        result["local-definitions"] = json!({"inventory-items": INVENTORY});
    }
    if observed {
        result["observations"] = Value::String(OBSERVATIONS.into());
    }
    if !ev.controls.is_empty() {
        result["findings"] = Value::String(FINDINGS.into());
    }
    let mut ar = json!({
        "uuid": uuid(&["assessment-results", scope_text, &seq.to_string()]),
        "metadata": {
            "title": format!("evident evidence pack {seq}: {scope_text}"),
            "last-modified": end,
            "version": seq.to_string(),
            "oscal-version": OSCAL_VERSION,
            "remarks": "Generated by evident from the signed pack it is part of. The assessment plan, system security plan and catalog it resolves to are beside it; controls/ holds the control definitions as evident reads them.",
        },
        "import-ap": {"href": ASSESSMENT_PLAN},
        "results": [result],
    });
    if let Some(org) = &ev.organisation {
        // Whose evidence this is: the organisation as an OSCAL party.
        ar["metadata"]["parties"] = json!([{"uuid": uuid(&["party", org]), "type": "organization", "name": org}]);
        ar["metadata"]["title"] = Value::String(format!("{org}: evident evidence pack {seq}: {scope_text}"));
    }
    if !resources.is_empty() {
        ar["back-matter"] = json!({"resources": resources});
    }
    json!({"assessment-results": ar})
}

/// One raw export as a back-matter resource, with its SHA-256.
fn resource(s: &Source) -> Value {
    json!({
        "uuid": uuid(&["resource", s.sha256, s.path]),
        "title": text(s.file_name),
        "description": format!("{} export, kept byte for byte in the pack", s.kind),
        "rlinks": [{"href": format!("../{}", s.path), "media-type": media_type(s.file_name), "hashes": [{"algorithm": "SHA-256", "value": s.sha256}]}],
    })
}

/// Every item with a per-item observation (failing or excepted), once: its asset tag and its uuid.
fn inventory(ev: &Evaluation) -> BTreeMap<ItemKey, (Option<String>, String)> {
    let mut inventory = BTreeMap::new();
    for c in &ev.controls {
        for i in c.items.iter().filter(|i| i.outcome != crate::evaluate::Outcome::Pass) {
            inventory.entry(i.item.clone()).or_insert_with(|| (i.asset_tag.clone(), uuid(&["item", i.item.as_str()])));
        }
    }
    inventory
}

fn inventory_item(key: &ItemKey, tag: Option<&str>, id: &str) -> Value {
    let mut props = Vec::new();
    let what = key.value();
    let kind = match key.kind() {
        KeyKind::Drive => "drive",
        KeyKind::Tag => "asset tag only",
        KeyKind::Record => "record",
        KeyKind::Export => "source file",
        KeyKind::Leaver => "leaver",
        KeyKind::Serial => "device",
    };
    if let Some(t) = tag {
        props.push(prop("asset-tag", t));
    }
    props.push(prop("asset-id", key.as_str()));
    if kind == "device" || kind == "drive" {
        props.push(ours("serial-number", what));
    }
    props.push(ours("item-kind", kind));
    json!({"uuid": id, "description": format!("{kind} {what}"), "props": props})
}

/// One control: an observation per sample date naming the population file (every item, passes
/// included), one per failing or excepted item (with the records behind it as relevant evidence),
/// and its finding, with one `sample-date-status` prop per sample date.
fn control_results(
    c: &crate::evaluate::ControlResult,
    lib: &Library,
    scope_text: &str,
    inventory: &BTreeMap<ItemKey, (Option<String>, String)>,
    by_sha: &BTreeMap<&str, String>,
    mut emit: Option<&mut dyn FnMut(Value) -> std::io::Result<()>>,
) -> std::io::Result<Value> {
    let mut related = Vec::new();
    for f in &c.populations {
        let id = uuid(&["population", scope_text, &c.id, &f.date.to_string()]);
        let d = c.dates.iter().find(|d| d.date == f.date);
        let counts = d.map_or(String::new(), |d| format!(": {} pass, {} fail, {} excepted", d.passed, d.failed, d.excepted));
        related.push(json!({"observation-uuid": id}));
        let Some(emit) = emit.as_mut() else { continue };
        emit(json!({
            "uuid": id,
            "title": format!("{} population at {}", c.id, f.date),
            "description": format!("Every item {} judged at {}, one JSON object per line with its outcome, reason and records ({} items{counts}).", c.id, f.date, f.items),
            "props": [ours("control", &c.id), ours("sample-date", &f.date.to_string()), ours("population", &f.items.to_string())],
            "methods": ["TEST"],
            "types": ["control-objective"],
            "relevant-evidence": [{"href": format!("#{}", uuid(&["resource", &f.sha256, &f.path])), "description": format!("population file {}", f.path)}],
            "collected": format!("{}T23:59:59Z", f.date),
        }))?;
    }
    for (n, i) in c.items.iter().filter(|i| i.outcome != crate::evaluate::Outcome::Pass).enumerate() {
        let id = uuid(&["observation", scope_text, &c.id, i.item.as_str(), &i.date.to_string(), &n.to_string()]);
        related.push(json!({"observation-uuid": id}));
        let Some(emit) = emit.as_mut() else { continue };
        // `source:file@sha12:line[:pointer]`: the export is found by its hash.
        let evidence: Vec<Value> = i
            .records
            .iter()
            .filter_map(|r| {
                let (_, sha) = r.split(':').nth(1)?.rsplit_once('@')?;
                Some(json!({"href": format!("#{}", by_sha.get(sha)?), "description": text(r)}))
            })
            .collect();
        let mut o = json!({
            "uuid": id,
            "title": format!("{} on {}", c.id, i.item),
            "description": text(&i.reason),
            "props": [ours("control", &c.id), ours("outcome", i.outcome.as_str()), ours("sample-date", &i.date.to_string())],
            "methods": ["TEST"],
            "types": ["control-objective"],
            "subjects": [{"subject-uuid": inventory[&i.item].1, "type": "inventory-item"}],
            "collected": format!("{}T23:59:59Z", i.date),
        });
        if !evidence.is_empty() {
            o["relevant-evidence"] = Value::Array(evidence);
        }
        emit(o)?;
    }
    Ok(finding(c, lib, scope_text, related))
}

/// A control's finding: its status against its objective, per sample date, and the observations
/// behind it.
fn finding(c: &crate::evaluate::ControlResult, lib: &Library, scope_text: &str, related: Vec<Value>) -> Value {
    let (state, reason) = match c.status {
        Status::Pass => ("satisfied", "pass"),
        Status::Fail => ("not-satisfied", "fail"),
        Status::NoEvidence | Status::NotApplicable => ("not-satisfied", "other"),
    };
    // The per-date picture: a period is only as good as its worst sample date.
    let props: Vec<Value> = [ours("status", c.status.as_str()), ours("population", &c.population.to_string())]
        .into_iter()
        .chain(c.dates.iter().map(|d| {
            let what = if d.missing.is_empty() { format!("{} tested, {} failed", d.population, d.failed) } else { d.missing.join("; ") };
            ours("sample-date-status", &format!("{} {}: {what}", d.date, d.status.as_str()))
        }))
        .collect();
    let statement = lib.get(&c.id).map_or(c.title.clone(), |l| l.control.statement.clone());
    let note =
        c.note.as_deref().map(|n| format!(" {}: {n}.", if c.status == Status::NoEvidence { "No evidence in force" } else { "Note" })).unwrap_or_default();
    let mut f = json!({
        "uuid": uuid(&["finding", scope_text, &c.id]),
        "title": format!("{}@{}: {}", c.id, c.version, c.title),
        "description": format!("{} Population {}: {} pass, {} fail, {} excepted.{note}", text(&statement), c.population, c.passed, c.failed, c.excepted),
        "props": props,
        "target": {"type": "objective-id", "target-id": format!("{}_obj", control_id(&c.id)), "status": {"state": state, "reason": reason}},
    });
    if !related.is_empty() {
        f["related-observations"] = Value::Array(related);
    }
    f
}

fn metadata(title: &str, last_modified: &str, version: &str) -> Value {
    json!({"title": title, "last-modified": last_modified, "version": version, "oscal-version": OSCAL_VERSION})
}

/// The controls a pack evaluated, as OSCAL control selections.
fn reviewed(ev: &Evaluation) -> Value {
    json!({"control-selections": [{"include-controls": ev.controls.iter().map(|c| json!({"control-id": control_id(&c.id)})).collect::<Vec<_>>()}]})
}

/// The assessment plan the results import: the controls tested, and the system they were tested on.
pub fn assessment_plan(ev: &Evaluation, seq: u64) -> Value {
    let scope = ev.scope.to_string();
    let end = format!("{}T23:59:59Z", ev.scope.end());
    json!({"assessment-plan": {
        "uuid": uuid(&["assessment-plan", &scope, &seq.to_string()]),
        "metadata": metadata(&format!("evident assessment plan, pack {seq}: {scope}"), &end, &seq.to_string()),
        "import-ssp": {"href": SYSTEM_SECURITY_PLAN},
        "reviewed-controls": reviewed(ev),
        "terms-and-conditions": {"parts": [{"name": "method", "title": "How evident tests", "prose": "Each control is a test over the organisation's own exports (asset register, MDM, disk encryption, media wipes), run at each sample date on the evidence in force then; every item judged is in the pack's population files, and every export byte for byte under sources/."}]},
    }})
}

/// The system the controls were tested on: the organisation's endpoint fleet as its records
/// describe it. Minimal: what OSCAL requires, and the controls implemented.
pub fn system_security_plan(ev: &Evaluation, seq: u64) -> Value {
    let scope = ev.scope.to_string();
    let end = format!("{}T23:59:59Z", ev.scope.end());
    let org = ev.organisation.clone().unwrap_or_else(|| "the organisation".into());
    let id = uuid(&["system", &org]);
    json!({"system-security-plan": {
        "uuid": uuid(&["system-security-plan", &scope, &seq.to_string()]),
        "metadata": metadata(&format!("{org}: endpoint fleet, as evident pack {seq} evaluated it"), &end, &seq.to_string()),
        "import-profile": {"href": CATALOG},
        "system-characteristics": {
            "system-ids": [{"identifier-type": "http://ietf.org/rfc/rfc4122", "id": id}],
            "system-name": text(&org),
            "description": format!("The IT assets of {org} (endpoints and their storage media) as its asset register, MDM, encryption and media-wipe records describe them; evaluated by evident for {scope}."),
            "system-information": {"information-types": [{
                "title": "IT asset, enrollment, encryption and sanitization records",
                "description": "The exports evident ingested, kept byte for byte in the pack.",
                "confidentiality-impact": {"base": "fips-199-moderate"},
                "integrity-impact": {"base": "fips-199-moderate"},
                "availability-impact": {"base": "fips-199-low"},
            }]},
            "status": {"state": "operational"},
            "authorization-boundary": {"description": "Every device the exports of this pack name, and the media wiped from them."},
        },
        "system-implementation": {
            "users": [{"uuid": uuid(&["user", &org, "compliance"]), "title": "Compliance lead", "description": "Ingests the exports and signs the evidence pack."}],
            "components": [{"uuid": id, "type": "this-system", "title": text(&org), "description": "The endpoint fleet.", "status": {"state": "operational"}}],
        },
        "control-implementation": {
            "description": "The controls of evident's catalog, each tested on the fleet's records.",
            "implemented-requirements": ev.controls.iter().map(|c| json!({"uuid": uuid(&["requirement", &org, &c.id]), "control-id": control_id(&c.id)})).collect::<Vec<_>>(),
        },
    }})
}

/// evident's controls as an OSCAL catalog: each control's statement, and its assessment objective
/// (what the results' findings target: `<id>_obj`).
pub fn catalog(lib: &Library, last_modified: &str) -> Value {
    let version = lib.controls.iter().map(|l| format!("{}@{}", l.control.id, l.control.version)).collect::<Vec<_>>().join(" ");
    let controls: Vec<Value> = lib
        .controls
        .iter()
        .map(|l| {
            let id = control_id(&l.control.id);
            json!({
                "id": id,
                "title": text(&l.control.title),
                "props": [prop("label", &l.control.id), ours("version", &l.control.version.to_string())],
                "parts": [
                    {"id": format!("{id}_smt"), "name": "statement", "prose": text(&l.control.statement)},
                    {"id": format!("{id}_obj"), "name": "assessment-objective", "prose": format!("The {} test passes on every item of the population at every sample date.", l.control.id)},
                ],
            })
        })
        .collect();
    json!({"catalog": {
        "uuid": uuid(&["catalog", &version]),
        "metadata": metadata("evident controls", last_modified, &uuid(&["catalog-version", &version])[..8]),
        "controls": controls,
    }})
}

/// A framework item id as an OSCAL token (which must start with a letter): `4.3` → `clause-4.3`.
fn framework_control_id(id: &str) -> String {
    let t: String = id.chars().map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') { c } else { '-' }).collect();
    if t.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') { t } else { format!("clause-{t}") }
}

/// The file of a framework's catalog, under results/.
pub fn framework_catalog_file(framework: &str) -> String {
    let safe: String = framework.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '_' }).collect();
    format!("oscal-catalog-{safe}.json")
}

/// A framework catalog (controls/frameworks/*.yaml: ids and titles) as an OSCAL catalog, so the
/// mapping's targets resolve.
pub fn framework_catalog(c: &crate::controls::schema::Catalog, last_modified: &str) -> Value {
    json!({"catalog": {
        "uuid": uuid(&["framework-catalog", &c.framework, &c.edition]),
        "metadata": metadata(&text(&c.title), last_modified, &text(&c.edition)),
        "controls": c.items.iter().map(|i| json!({"id": framework_control_id(&i.id), "title": text(&i.title), "props": [prop("label", &i.id)]})).collect::<Vec<_>>(),
    }})
}

/// compliance-trestle's signing manifest of the OSCAL files (name and uri relative to it), and
/// the in-toto Statement its DSSE envelope signs: each file's SHA-256 over its RFC 8785 bytes
/// (the files are written canonical, so it is the file's own SHA-256).
pub fn package(artifacts: &[(&str, &str)], primary: &str) -> (Value, Value) {
    let listed: Vec<Value> = artifacts.iter().map(|(name, _)| json!({"name": name, "uri": name, "mediaType": MEDIA_TYPE})).collect();
    let manifest = json!({"primaryArtifact": primary, "artifacts": listed});
    let statement = json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": artifacts.iter().map(|(name, sha)| json!({"name": name, "digest": {"sha256": sha}})).collect::<Vec<_>>(),
        "predicateType": PACKAGE_PREDICATE,
        "predicate": {"tool": "compliance-trestle", "manifestVersion": "v1", "primaryArtifact": primary, "artifacts": listed},
    });
    (manifest, statement)
}

/// The DSSE envelope of a Statement, signed by `sign` over DSSE's pre-authentication encoding.
pub fn envelope(statement: &Value, key_id: &str, sign: &dyn Fn(&[u8]) -> [u8; 64]) -> Value {
    use base64::Engine;
    let payload = canonical(statement);
    let mut pae = format!("DSSEv1 {} {DSSE_PAYLOAD_TYPE} {} ", DSSE_PAYLOAD_TYPE.len(), payload.len()).into_bytes();
    pae.extend_from_slice(&payload);
    let b64 = base64::engine::general_purpose::STANDARD;
    json!({"payload": b64.encode(&payload), "payloadType": DSSE_PAYLOAD_TYPE, "signatures": [{"keyid": key_id, "sig": b64.encode(sign(&pae))}]})
}

/// Our crosswalk (controls/*.yaml `maps`) as an OSCAL mapping collection, one mapping per framework.
pub fn mapping_collection(lib: &Library, last_modified: &str) -> Value {
    let mut per_fw: BTreeMap<&str, Vec<Value>> = BTreeMap::new();
    for l in &lib.controls {
        for m in &l.control.maps {
            let rel = match m.relationship {
                Relationship::Equal => "equivalent-to",
                Relationship::Subset => "subset-of",
                Relationship::Superset => "superset-of",
                Relationship::Intersect => "intersects-with",
                Relationship::NoRelationship => "no-relationship",
            };
            let mut props = vec![
                ours("rationale", serde_json::to_value(m.rationale).ok().and_then(|v| v.as_str().map(String::from)).as_deref().unwrap_or("unknown")),
                ours("confidence", serde_json::to_value(m.confidence).ok().and_then(|v| v.as_str().map(String::from)).as_deref().unwrap_or("unknown")),
            ];
            for p in &m.pof {
                props.push(ours("point-of-focus", p));
            }
            per_fw.entry(m.framework.as_str()).or_default().push(json!({
                "uuid": uuid(&["map", &l.control.id, &m.framework, &m.id]),
                "relationship": rel,
                "sources": [{"type": "control", "id-ref": control_id(&l.control.id)}],
                "targets": [{"type": "control", "id-ref": framework_control_id(&m.id)}],
                "props": props,
            }));
        }
    }
    let mappings: Vec<Value> = per_fw
        .into_iter()
        .map(|(fw, maps)| {
            json!({
                "uuid": uuid(&["mapping", fw]),
                "source-resource": {"type": "catalog", "href": CATALOG},
                "target-resource": {"type": "catalog", "href": framework_catalog_file(fw), "props": [ours("framework", fw)]},
                "maps": maps,
            })
        })
        .collect();
    let version = lib.controls.iter().map(|l| format!("{}@{}", l.control.id, l.control.version)).collect::<Vec<_>>().join(" ");
    json!({"mapping-collection": {
        "uuid": uuid(&["mapping-collection", &version]),
        "metadata": {
            "title": "evident controls mapped to SOC 2, ISO/IEC 27001:2022 and ISO/IEC 19770-1",
            "last-modified": last_modified,
            "version": uuid(&["mapping-version", &version])[..8].to_string(),
            "oscal-version": OSCAL_VERSION,
            "remarks": "Relationships follow NIST IR 8477 set theory; rationale and confidence per map are evident props.",
        },
        "provenance": {
            "method": "human",
            "matching-rationale": "semantic",
            "status": "draft",
            "mapping-description": "Each evident control (controls/*.yaml) mapped to the framework items it gives evidence for, with the relationship, rationale and confidence its author recorded.",
        },
        "mappings": mappings,
    }})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_is_what_serde_jcs_writes() {
        let v = json!({"b": [1, -2, true, null, "x\u{1}\u{7f}\u{2028}\"\\é😀\n"], "a": {"z": "", "é": 1, "\u{1F600}": 2, "\u{FB01}": 3}, "A": 0});
        assert_eq!(canonical(&v), serde_jcs::to_vec(&v).unwrap());
        assert_eq!(canonical(&json!({"f": 1.5})), serde_jcs::to_vec(&json!({"f": 1.5})).unwrap());
    }
}
