//! Declarative mappings (research/inputs.md §8.5): a YAML file that says how the columns of a
//! CSV, or the keys of a JSON array, become canonical records, so a new CSV- or JSON-shaped
//! source is one file and its fixtures, not code. The same rules as the built-in readers hold:
//! unknown enum text is `unknown` with a warning, an unparsable date or identifier rejects the row.

use super::json::{Doc, text};
use super::row::{RowCtx, RowResult, non_empty};
use super::table::{Row, Table, norm_header};
use super::{Emitter, Error, Input};
use crate::model::*;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A mapping file as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Spec {
    /// Short name of the source, e.g. `acme_register_csv`.
    pub id: String,
    pub reader: ReaderSpec,
    /// Record kinds each row becomes.
    pub emits: Vec<Emit>,
    /// Canonical field (`serial`, `lifecycle`, `encryption.state`) → where its value comes from.
    pub fields: BTreeMap<String, Field>,
}

/// How the file is read.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum ReaderSpec {
    /// A CSV (delimiter, BOM and encoding sniffed as for every CSV source).
    Csv,
    /// A JSON array, at `records` (a JSON pointer, `/data/items`; empty for a top-level array).
    Json {
        #[serde(default)]
        records: String,
    },
}

/// A canonical record kind a mapping can emit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Emit {
    Asset,
    Enrollment,
    Encryption,
    Wipe,
    Leaver,
}

impl Emit {
    fn name(self) -> &'static str {
        match self {
            Emit::Asset => "asset",
            Emit::Enrollment => "enrollment",
            Emit::Encryption => "encryption",
            Emit::Wipe => "wipe",
            Emit::Leaver => "leaver",
        }
    }
}

/// Where one canonical field's value comes from.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Field {
    /// Column names (any case) or JSON key paths (`user.email`); the first non-empty wins.
    #[serde(default)]
    pub from: Vec<String>,
    /// A fixed value instead (`mdm: {const: other}`).
    #[serde(rename = "const")]
    pub constant: Option<String>,
    /// Source text → canonical text, for enum fields.
    #[serde(default)]
    pub map: BTreeMap<String, String>,
    /// Canonical value when the source is empty.
    pub default: Option<String>,
    /// strftime formats, for date and time fields.
    #[serde(default)]
    pub formats: Vec<String>,
    /// An empty value rejects the row.
    #[serde(default)]
    pub required: bool,
}

/// The kinds of value a canonical field holds.
#[derive(Clone, Copy)]
enum Ty {
    Text,
    Serial,
    Date,
    Time,
    Int,
    Enum(fn() -> String, fn(&str) -> bool),
}

macro_rules! en {
    ($t:ty) => {
        Ty::Enum(<$t>::expected, |s| <$t>::parse(s).is_some())
    };
}

/// Every field a mapping may name, per record kind.
fn fields_of(kind: Emit) -> &'static [(&'static str, Ty)] {
    use Ty::*;
    match kind {
        Emit::Asset => &[
            ("serial", Serial),
            ("asset_tag", Text),
            ("name", Text),
            ("manufacturer", Text),
            ("model", Text),
            ("model_id", Text),
            ("category", Text),
            ("device_class", en!(DeviceClass)),
            ("owner.email", Text),
            ("owner.username", Text),
            ("owner.name", Text),
            ("ownership", en!(Ownership)),
            ("lifecycle", en!(Lifecycle)),
            ("location", Text),
            ("purchase_date", Date),
            ("warranty_end", Date),
            ("eol_date", Date),
            ("last_seen_at", Time),
            ("last_audit_at", Time),
        ],
        Emit::Enrollment => &[
            ("serial", Serial),
            ("asset_tag", Text),
            ("hostname", Text),
            ("manufacturer", Text),
            ("model", Text),
            ("mdm", en!(Mdm)),
            ("state", en!(EnrollmentState)),
            ("method", en!(EnrollmentMethod)),
            ("enrolled_at", Time),
            ("last_checkin_at", Time),
            ("compliance", en!(Compliance)),
            ("platform", en!(Platform)),
            ("os_version", Text),
            ("user_principal", Text),
            ("ownership", en!(Ownership)),
        ],
        Emit::Encryption => &[
            ("serial", Serial),
            ("scope", en!(EncryptionScope)),
            ("volume", Text),
            ("state", en!(EncryptionState)),
            ("method", en!(EncryptionMethod)),
            ("cipher", Text),
            ("percent", Int),
            ("recovery_key", en!(RecoveryKey)),
            ("key_type", en!(KeyType)),
            ("observed_at", Time),
        ],
        Emit::Wipe => &[
            ("media_serial", Serial),
            ("host_serial", Serial),
            ("asset_tag", Text),
            ("media_type", en!(MediaType)),
            ("media_model", Text),
            ("media_manufacturer", Text),
            ("capacity_bytes", Int),
            ("method", Text),
            ("nist_category", en!(NistCategory)),
            ("passes", Int),
            ("verification", en!(Verification)),
            ("result", en!(WipeResult)),
            ("started_at", Time),
            ("completed_at", Time),
            ("operator", Text),
            ("vendor", Text),
            ("certificate_id", Text),
            ("lot", Text),
            ("report_id", Text),
            ("errors", Int),
        ],
        Emit::Leaver => &[("employee_id", Text), ("email", Text), ("username", Text), ("display_name", Text), ("termination_date", Date)],
    }
}

/// A checked mapping, as kept in the ingest's options (its id, hash and text make the ingest
/// reproducible).
#[derive(Debug, Clone, Serialize)]
pub struct Mapping {
    pub id: String,
    pub file: String,
    pub sha256: String,
    pub text: String,
    #[serde(skip)]
    pub spec: Spec,
}

/// Why a mapping file cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("{file}: {message}")]
pub struct MappingError {
    pub file: String,
    pub message: String,
}

impl Mapping {
    /// Parses and checks a mapping file: every field is known for an emitted kind, every mapped
    /// enum value is canonical, every field has a source.
    pub fn parse(file: &str, text: &str) -> Result<Mapping, MappingError> {
        let err = |message: String| MappingError { file: file.to_string(), message };
        let spec: Spec =
            crate::controls::schema::parse(text).map_err(|e| err(format!("not a mapping file: line {} column {}: {}", e.line, e.column, e.message)))?;
        if spec.emits.is_empty() {
            return Err(err("`emits` names no record kind (asset, enrollment, encryption, wipe, leaver)".into()));
        }
        for (key, f) in &spec.fields {
            let ty = field_type(&spec.emits, key).ok_or_else(|| {
                let known: Vec<&str> = spec.emits.iter().flat_map(|k| fields_of(*k).iter().map(|(n, _)| *n)).collect();
                err(format!(
                    "field '{key}' is not a field of {}; known: {}",
                    spec.emits.iter().map(|e| e.name()).collect::<Vec<_>>().join(", "),
                    known.join(", ")
                ))
            })?;
            if f.from.is_empty() && f.constant.is_none() {
                return Err(err(format!("field '{key}' needs `from` (column names) or `const`")));
            }
            if let Ty::Enum(expected, valid) = ty {
                for v in f.map.values().chain(f.default.iter()).chain(f.constant.iter()) {
                    if !valid(v) {
                        return Err(err(format!("field '{key}': '{v}' is not one of {}", expected())));
                    }
                }
            }
            for fmt in &f.formats {
                if chrono::format::StrftimeItems::new(fmt).any(|i| matches!(i, chrono::format::Item::Error)) {
                    return Err(err(format!("field '{key}': '{fmt}' is not a strftime format")));
                }
            }
        }
        let required: &[(Emit, &[&str])] = &[(Emit::Leaver, &["termination_date"]), (Emit::Wipe, &["method", "completed_at"])];
        for (kind, keys) in required {
            for k in keys.iter().filter(|_| spec.emits.contains(kind)) {
                if !spec.fields.contains_key(*k) && !spec.fields.contains_key(&format!("{}.{k}", kind.name())) {
                    return Err(err(format!("a {} mapping needs the field '{k}'", kind.name())));
                }
            }
        }
        Ok(Mapping { id: spec.id.clone(), file: file.to_string(), sha256: super::row::hex_digest(text.as_bytes()), text: text.to_string(), spec })
    }
}

/// The type of `key` (`serial`, or `encryption.state` for one kind only) among the emitted kinds.
fn field_type(emits: &[Emit], key: &str) -> Option<Ty> {
    let (kind, name) = match key.split_once('.') {
        Some((k, n)) if emits.iter().any(|e| e.name() == k) => (emits.iter().find(|e| e.name() == k).copied(), n),
        _ => (None, key),
    };
    let kinds: Vec<Emit> = kind.map_or_else(|| emits.to_vec(), |k| vec![k]);
    kinds.iter().find_map(|k| fields_of(*k).iter().find(|(n, _)| *n == name).map(|(_, t)| *t))
}

/// One input row as the mapping sees it: a value per source name.
trait Source {
    fn get(&self, name: &str) -> String;
}

struct CsvRow<'a, 'r> {
    /// Source name as the mapping writes it → its column (looked up once per file).
    columns: &'a BTreeMap<&'a str, Option<usize>>,
    row: &'a Row<'r>,
}

impl Source for CsvRow<'_, '_> {
    fn get(&self, name: &str) -> String {
        self.row.get(self.columns.get(name).copied().flatten()).to_string()
    }
}

impl Source for serde_json::Value {
    fn get(&self, name: &str) -> String {
        let path: Vec<&str> = name.split('.').collect();
        text(self, &path).into_owned()
    }
}

/// Reads the file through the mapping.
pub fn read(input: &Input, em: &mut Emitter, m: &Mapping) -> Result<(), Error> {
    match &m.spec.reader {
        ReaderSpec::Csv => {
            let table = Table::open(input)?;
            for (key, f) in m.spec.fields.iter().filter(|(_, f)| f.required && !f.from.is_empty()) {
                let names: Vec<String> = f.from.iter().map(|n| norm_header(n)).collect();
                table.require(key, &names.iter().map(String::as_str).collect::<Vec<_>>())?;
            }
            let columns: BTreeMap<&str, Option<usize>> =
                m.spec.fields.values().flat_map(|f| f.from.iter()).map(|n| (n.as_str(), table.col(&[&norm_header(n)]))).collect();
            let used: Vec<Option<usize>> = columns.values().copied().collect();
            for w in table.header_warnings() {
                em.warning(w)?;
            }
            table.for_each_row(em, |row, ctx| {
                let src = CsvRow { columns: &columns, row };
                let extra = table.extra(row, &used);
                records(m, &src, extra, ctx)
            })
        }
        ReaderSpec::Json { records: pointer } => {
            let doc = Doc::parse(input)?;
            let path: Vec<&str> = pointer.split('/').filter(|s| !s.is_empty()).collect();
            let Some(items) = doc.records(&path) else {
                return Err(Error::bad_file(input.file, 1, Some(pointer), format!("no JSON array at '{pointer}' (the mapping's reader.records)"), None));
            };
            for (i, item, (line, a, z)) in items.iter() {
                let mut ctx = em.ctx(line, Some(format!("{pointer}/{i}")), &doc.bytes[a..z]);
                let result = if item.is_object() { records(m, &item, Extra::new(), &mut ctx) } else { Err(ctx.issue("", "record is not a JSON object", None)) };
                em.row(ctx, result)?;
            }
            Ok(())
        }
    }
}

/// The values of one row, read through the mapping for one record kind.
struct Values<'a> {
    m: &'a Mapping,
    kind: Emit,
    src: &'a dyn Source,
}

impl Values<'_> {
    /// The field's spec and its source name (for messages): `encryption.state` before `state`.
    fn spec(&self, name: &str) -> Option<(&Field, String)> {
        let scoped = format!("{}.{name}", self.kind.name());
        let (key, f) = self.m.spec.fields.get_key_value(&scoped).or_else(|| self.m.spec.fields.get_key_value(name))?;
        let shown = f.from.iter().find(|c| !self.src.get(c).trim().is_empty()).or(f.from.first()).cloned().unwrap_or_else(|| key.clone());
        Some((f, shown))
    }

    /// The raw text for a field (after `const`), empty when not mapped or empty.
    fn raw(&self, name: &str, ctx: &RowCtx) -> RowResult<(String, String)> {
        let Some((f, shown)) = self.spec(name) else { return Ok((String::new(), name.to_string())) };
        let v = match &f.constant {
            Some(c) => c.clone(),
            None => f.from.iter().map(|c| self.src.get(c)).find(|v| !v.trim().is_empty()).unwrap_or_default(),
        };
        if f.required && v.trim().is_empty() {
            return Err(ctx.issue(&shown, format!("{name} is required by mapping {}", self.m.id), None));
        }
        Ok((v.trim().to_string(), shown))
    }

    fn text(&self, name: &str, ctx: &RowCtx) -> RowResult<Option<String>> {
        Ok(non_empty(&self.raw(name, ctx)?.0))
    }

    fn serial(&self, name: &str, model: Option<&str>, ctx: &RowCtx) -> RowResult<Serial> {
        let (v, shown) = self.raw(name, ctx)?;
        ctx.serial(&shown, &v, model)
    }

    /// An enum through the field's `map` (exact, then any case), then the canonical text itself.
    fn vocab<T: Copy + std::fmt::Display>(&self, name: &str, parse: fn(&str) -> Option<T>, unknown: T, ctx: &mut RowCtx) -> RowResult<T> {
        let (v, shown) = self.raw(name, ctx)?;
        let Some((f, _)) = self.spec(name) else { return Ok(unknown) };
        if v.is_empty() {
            return Ok(f.default.as_deref().and_then(parse).unwrap_or(unknown));
        }
        let mapped = f.map.get(&v).or_else(|| f.map.iter().find(|(k, _)| k.eq_ignore_ascii_case(&v)).map(|(_, c)| c));
        Ok(ctx.vocab(&shown, &v, |t| mapped.and_then(|c| parse(c)).or_else(|| parse(&t.to_lowercase())), unknown))
    }

    fn date(&self, name: &str, ctx: &RowCtx) -> RowResult<Option<chrono::NaiveDate>> {
        let (v, shown) = self.raw(name, ctx)?;
        let formats = self.formats(name, &["%Y-%m-%d"]);
        ctx.date(&shown, &v, &formats.iter().map(String::as_str).collect::<Vec<_>>())
    }

    fn time(&self, name: &str, ctx: &mut RowCtx) -> RowResult<Option<Instant>> {
        let (v, shown) = self.raw(name, ctx)?;
        let formats = self.formats(name, &["%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S"]);
        ctx.local(&shown, &v, &formats.iter().map(String::as_str).collect::<Vec<_>>())
    }

    fn int(&self, name: &str, ctx: &RowCtx) -> RowResult<Option<i64>> {
        let (v, shown) = self.raw(name, ctx)?;
        ctx.integer(&shown, &v)
    }

    fn formats(&self, name: &str, defaults: &[&str]) -> Vec<String> {
        match self.spec(name) {
            Some((f, _)) if !f.formats.is_empty() => f.formats.clone(),
            _ => defaults.iter().map(|s| s.to_string()).collect(),
        }
    }
}

fn records(m: &Mapping, src: &dyn Source, extra: Extra, ctx: &mut RowCtx) -> RowResult<Vec<Record>> {
    let mut out = Vec::new();
    for kind in &m.spec.emits {
        let v = Values { m, kind: *kind, src };
        out.push(match kind {
            Emit::Asset => asset(&v, extra.clone(), ctx)?,
            Emit::Enrollment => enrollment(&v, extra.clone(), ctx)?,
            Emit::Encryption => encryption(&v, ctx)?,
            Emit::Wipe => wipe(&v, extra.clone(), ctx)?,
            Emit::Leaver => leaver(&v, extra.clone(), ctx)?,
        });
    }
    Ok(out)
}

fn asset(v: &Values, extra: Extra, ctx: &mut RowCtx) -> RowResult<Record> {
    let model = v.text("model", ctx)?;
    let lifecycle_label = v.text("lifecycle", ctx)?;
    let owner = Owner { email: v.text("owner.email", ctx)?, username: v.text("owner.username", ctx)?, display_name: v.text("owner.name", ctx)? };
    let assigned = owner.email.is_some() || owner.username.is_some() || owner.display_name.is_some();
    Ok(Record::Asset(Asset {
        prov: ctx.prov(None),
        serial: v.serial("serial", model.as_deref(), ctx)?,
        asset_tag: v.text("asset_tag", ctx)?,
        name: v.text("name", ctx)?,
        manufacturer: v.text("manufacturer", ctx)?,
        model_id: v.text("model_id", ctx)?,
        category: v.text("category", ctx)?,
        device_class: v.vocab("device_class", DeviceClass::parse, DeviceClass::Unknown, ctx)?,
        assignee_kind: if assigned { AssigneeKind::User } else { AssigneeKind::None },
        owner,
        ownership: v.vocab("ownership", Ownership::parse, Ownership::Unknown, ctx)?,
        lifecycle: v.vocab("lifecycle", Lifecycle::parse, Lifecycle::Unknown, ctx)?,
        lifecycle_label,
        purchase_date: v.date("purchase_date", ctx)?,
        warranty_end: v.date("warranty_end", ctx)?,
        eol_date: v.date("eol_date", ctx)?,
        location: v.text("location", ctx)?,
        last_seen_at: v.time("last_seen_at", ctx)?,
        last_audit_at: v.time("last_audit_at", ctx)?,
        model,
        extra,
    }))
}

fn enrollment(v: &Values, extra: Extra, ctx: &mut RowCtx) -> RowResult<Record> {
    let model = v.text("model", ctx)?;
    let state_raw = v.text("state", ctx)?;
    let compliance_raw = v.text("compliance", ctx)?;
    Ok(Record::Enrollment(Enrollment {
        prov: ctx.prov(None),
        serial: v.serial("serial", model.as_deref(), ctx)?,
        asset_tag: v.text("asset_tag", ctx)?,
        hostname: v.text("hostname", ctx)?,
        manufacturer: v.text("manufacturer", ctx)?,
        mdm: v.vocab("mdm", Mdm::parse, Mdm::Other, ctx)?,
        state: v.vocab("state", EnrollmentState::parse, EnrollmentState::Unknown, ctx)?,
        state_raw,
        method: v.vocab("method", EnrollmentMethod::parse, EnrollmentMethod::Unknown, ctx)?,
        supervised: None,
        enrolled_at: v.time("enrolled_at", ctx)?,
        last_checkin_at: v.time("last_checkin_at", ctx)?,
        compliance: v.vocab("compliance", Compliance::parse, Compliance::Unknown, ctx)?,
        compliance_raw,
        platform: v.vocab("platform", Platform::parse, Platform::Other, ctx)?,
        os_version: v.text("os_version", ctx)?,
        user_principal: v.text("user_principal", ctx)?,
        ownership: v.vocab("ownership", Ownership::parse, Ownership::Unknown, ctx)?,
        model,
        extra,
    }))
}

fn encryption(v: &Values, ctx: &mut RowCtx) -> RowResult<Record> {
    Ok(Record::Encryption(Encryption {
        prov: ctx.prov(None),
        serial: v.serial("serial", None, ctx)?,
        source_kind: "mapping",
        scope: v.vocab("scope", EncryptionScope::parse, EncryptionScope::Device, ctx)?,
        volume: v.text("volume", ctx)?,
        state_raw: v.text("state", ctx)?,
        state: v.vocab("state", EncryptionState::parse, EncryptionState::Unknown, ctx)?,
        method: v.vocab("method", EncryptionMethod::parse, EncryptionMethod::Unknown, ctx)?,
        cipher: v.text("cipher", ctx)?,
        percent: v.int("percent", ctx)?,
        recovery_key: v.vocab("recovery_key", RecoveryKey::parse, RecoveryKey::Unknown, ctx)?,
        key_type: v.vocab("key_type", KeyType::parse, KeyType::Unknown, ctx)?,
        observed_at: v.time("observed_at", ctx)?,
    }))
}

fn wipe(v: &Values, extra: Extra, ctx: &mut RowCtx) -> RowResult<Record> {
    let method = v.text("method", ctx)?.ok_or_else(|| ctx.issue("method", "sanitization method is required", None))?;
    let (technique, derived) = super::itad::classify_method(&method);
    let declared = v.vocab("nist_category", NistCategory::parse, NistCategory::Unknown, ctx)?;
    let completed_at = v.time("completed_at", ctx)?;
    if completed_at.is_none() {
        return Err(ctx.issue("completed_at", "completion date is required", None));
    }
    Ok(Record::Wipe(Wipe {
        prov: ctx.prov(v.text("certificate_id", ctx)?),
        media_serial: v.serial("media_serial", None, ctx)?,
        host_serial: v.serial("host_serial", None, ctx)?,
        asset_tag: v.text("asset_tag", ctx)?,
        device_name: None,
        media_type: v.vocab("media_type", MediaType::parse, MediaType::Unknown, ctx)?,
        media_model: v.text("media_model", ctx)?,
        media_manufacturer: v.text("media_manufacturer", ctx)?,
        capacity_bytes: v.int("capacity_bytes", ctx)?,
        tool: WipeTool::Other,
        tool_version: None,
        method_raw: Some(method),
        technique,
        nist_category: if declared == NistCategory::Unknown { derived } else { declared },
        passes: v.int("passes", ctx)?,
        verification_raw: v.text("verification", ctx)?,
        verification: v.vocab("verification", Verification::parse, Verification::Unknown, ctx)?,
        result_raw: v.text("result", ctx)?,
        result: v.vocab("result", WipeResult::parse, WipeResult::Unknown, ctx)?,
        started_at: v.time("started_at", ctx)?,
        completed_at,
        operator: v.text("operator", ctx)?,
        organisation: None,
        vendor: v.text("vendor", ctx)?,
        certificate_id: v.text("certificate_id", ctx)?,
        lot: v.text("lot", ctx)?,
        report_id: v.text("report_id", ctx)?,
        hpa_dco: HpaDco::Unknown,
        errors: v.int("errors", ctx)?,
        extra,
    }))
}

fn leaver(v: &Values, extra: Extra, ctx: &mut RowCtx) -> RowResult<Record> {
    let (employee_id, email, username) = (v.text("employee_id", ctx)?, v.text("email", ctx)?.map(|e| e.to_lowercase()), v.text("username", ctx)?);
    super::hr::named(ctx, "email", [&employee_id, &email, &username])?;
    let termination_date = v.date("termination_date", ctx)?.ok_or_else(|| ctx.issue("termination_date", "termination date is required", None))?;
    Ok(Record::Leaver(Leaver {
        prov: ctx.prov(employee_id.clone()),
        employee_id,
        email,
        username,
        display_name: v.text("display_name", ctx)?,
        termination_date,
        extra,
    }))
}
