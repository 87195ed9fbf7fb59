//! Snipe-IT: the custom asset report and asset-import CSVs, and `/api/v1/hardware` JSON.
//! Status labels become a lifecycle through a per-install map, then the label's `(meta)`.

use super::json::{Doc, text};
use super::row::{RowCtx, non_empty};
use super::table::{Row, Table, unescape_formula};
use super::{Emitter, Error, Issue};
use crate::model::*;
use serde_json::Value;
use std::collections::BTreeMap;

/// Columns that identify a Snipe-IT asset export (at least one must be present).
pub const CSV_ID_COLUMNS: &[&str] = &["asset tag", "assettag", "serial", "serial number", "serial no.", "serial no", "seriennummer", "inventarnummer"];

const TAG: &[&str] = &["asset tag", "assettag", "tag", "inventarnummer"];
const SERIAL: &[&str] = &["serial", "serial number", "serial no.", "serial no", "seriennummer", "numéro de série", "número de serie"];
const NAME: &[&str] = &["asset name", "item name", "name", "item_name"];
const MODEL: &[&str] = &["model", "model name", "modell"];
const MODEL_NO: &[&str] = &["model no.", "model number", "model no", "model num", "modellnummer"];
const CATEGORY: &[&str] = &["category", "kategorie"];
const MANUFACTURER: &[&str] = &["manufacturer", "hersteller"];
const STATUS: &[&str] = &["status"];
const PURCHASED: &[&str] = &["purchased", "purchase date", "kaufdatum"];
const EOL: &[&str] = &["eol", "eol date", "asset eol date"];
const WARRANTY: &[&str] = &["warranty expires"];
const LOCATION: &[&str] = &["location", "standort"];
const CHECKED_OUT: &[&str] = &["checked out", "checked out to"];
const TYPE: &[&str] = &["type", "checkout type"];
const USERNAME: &[&str] = &["username", "checked out to: username", "user name"];
const EMAIL: &[&str] = &["email", "checked out to: email", "e-mail"];
const FULL_NAME: &[&str] = &["full name", "fullname"];
const FIRST: &[&str] = &["checked out to: first name", "first name"];
const LAST: &[&str] = &["checked out to: last name", "last name"];
const LAST_AUDIT: &[&str] = &["last audit"];
const ID: &[&str] = &["id"];
const BYOD: &[&str] = &["byod"];

/// Built-in label names (Snipe-IT's seeded labels and common ones). A per-install map wins.
fn builtin_label(label: &str) -> Option<Lifecycle> {
    Some(match label.to_lowercase().as_str() {
        "ready to deploy" | "deployable" | "in stock" | "spare" => Lifecycle::InStock,
        "deployed" | "in use" | "assigned" => Lifecycle::Deployed,
        "pending" => Lifecycle::Pending,
        "on order" | "ordered" => Lifecycle::OnOrder,
        "out for diagnostics" | "out for repair" | "in repair" | "repair" => Lifecycle::InRepair,
        "broken - not fixable" | "broken" => Lifecycle::Broken,
        "lost/stolen" | "lost" | "stolen" => Lifecycle::LostStolen,
        "archived" | "retired" | "end of life" => Lifecycle::Retired,
        "disposed" | "recycled" | "destroyed" | "sold" => Lifecycle::Disposed,
        _ => return None,
    })
}

/// Lifecycle from a label and its `(meta)`: install map, then assignment, then label, then meta.
fn lifecycle(ctx: &mut RowCtx, field: &str, label: &str, meta: &str, map: &BTreeMap<String, Lifecycle>) -> Lifecycle {
    if label.is_empty() && meta.is_empty() {
        return Lifecycle::Unknown;
    }
    if let Some(l) = map.iter().find(|(k, _)| k.eq_ignore_ascii_case(label)).map(|(_, v)| *v) {
        return l;
    }
    if meta.eq_ignore_ascii_case("deployed") {
        return Lifecycle::Deployed;
    }
    if let Some(l) = builtin_label(label) {
        return l;
    }
    match meta.to_lowercase().as_str() {
        "deployable" => Lifecycle::InStock,
        "pending" => Lifecycle::Pending,
        "archived" => Lifecycle::Retired,
        _ => {
            let shown = if meta.is_empty() { label.to_string() } else { format!("{label} ({meta})") };
            ctx.warn(
                field,
                "status label not in the status map or Snipe-IT's defaults; lifecycle recorded as unknown (add it with --status-map)",
                Some(&shown),
            );
            Lifecycle::Unknown
        }
    }
}

/// Splits `Ready to Deploy (deployed)` into label and meta.
fn split_status(s: &str) -> (&str, &str) {
    let s = s.trim();
    if let Some(open) = s.rfind(" (")
        && s.ends_with(')')
    {
        let meta = &s[open + 2..s.len() - 1];
        if ["deployed", "deployable", "pending", "undeployable", "archived"].contains(&meta.to_lowercase().as_str()) {
            return (&s[..open], meta);
        }
    }
    (s, "")
}

/// A device class from a free-text category or model name.
pub fn device_class(category: &str) -> DeviceClass {
    let c = category.to_lowercase();
    let has = |w: &[&str]| w.iter().any(|x| c.contains(x));
    if c.is_empty() {
        DeviceClass::Unknown
    } else if has(&["laptop", "notebook", "macbook", "chromebook"]) {
        DeviceClass::Laptop
    } else if has(&["desktop", "workstation", "imac", "mac mini", "mac studio"]) {
        DeviceClass::Desktop
    } else if has(&["server"]) {
        DeviceClass::Server
    } else if has(&["phone", "mobile"]) {
        DeviceClass::Mobile
    } else if has(&["tablet", "ipad"]) {
        DeviceClass::Tablet
    } else if has(&["drive", "disk", "ssd", "hdd", "storage"]) {
        DeviceClass::Media
    } else {
        DeviceClass::Other
    }
}

/// Dates: ISO, or the importer's slashed dates read month-first as Snipe-IT's importer does
/// (PHP strtotime), unless --date-format says otherwise.
fn import_date(ctx: &RowCtx, field: &str, raw: &str, fmt: Option<&str>) -> Result<Option<chrono::NaiveDate>, Issue> {
    let t = raw.trim();
    if let Some(f) = fmt {
        return ctx.date(field, t, &["%Y-%m-%d", f]);
    }
    let two_digit_year = t.rsplit('/').next().is_some_and(|y| y.len() == 2);
    let us = if two_digit_year { "%m/%d/%y" } else { "%m/%d/%Y" };
    ctx.date(field, t, &["%Y-%m-%d", us])
}

/// Reads the custom asset report / import CSV.
pub fn read_csv(table: &Table, em: &mut Emitter) -> Result<(), Error> {
    let tag = table.col(TAG);
    let serial = table.col(SERIAL);
    if tag.is_none() && serial.is_none() {
        table.require("Asset Tag", TAG)?;
    }
    let cols = [
        table.col(NAME),
        table.col(MODEL),
        table.col(MODEL_NO),
        table.col(CATEGORY),
        table.col(MANUFACTURER),
        table.col(STATUS),
        table.col(PURCHASED),
        table.col(EOL),
        table.col(WARRANTY),
        table.col(LOCATION),
        table.col(CHECKED_OUT),
        table.col(TYPE),
        table.col(USERNAME),
        table.col(EMAIL),
        table.col(FULL_NAME),
        table.col(FIRST),
        table.col(LAST),
        table.col(LAST_AUDIT),
        table.col(ID),
        table.col(BYOD),
    ];
    let [
        name,
        model,
        model_no,
        category,
        manufacturer,
        status,
        purchased,
        eol,
        warranty,
        location,
        checked_out,
        kind,
        username,
        email,
        full,
        first,
        last,
        audit,
        id,
        byod,
    ] = cols;
    let mut used: Vec<Option<usize>> = cols.to_vec();
    used.extend([tag, serial]);
    for w in table.header_warnings() {
        em.warning(w)?;
    }
    let opts = em.opts;
    let date_fmt = opts.date_format.clone();
    table.for_each_row(em, |row: &Row, ctx: &mut RowCtx| {
        let get = |c: Option<usize>| unescape_formula(row.get(c));
        let tag_v = get(tag);
        let serial_v = get(serial);
        let tag_field = tag.map(|c| table.headers[c].as_str()).unwrap_or("Asset Tag");
        let serial_field = serial.map(|c| table.headers[c].as_str()).unwrap_or("Serial");
        ctx.identifier(serial_field, serial_v)?;
        ctx.identifier(tag_field, tag_v)?;
        if tag_v.is_empty() && serial_v.is_empty() {
            return Err(ctx.issue(tag_field, "row has neither an asset tag nor a serial: it cannot be identified", None));
        }
        let h = |c: Option<usize>, d: &'static str| c.map(|c| table.headers[c].clone()).unwrap_or_else(|| d.to_string());
        let model_v = non_empty(get(model));
        let model_no_v = get(model_no);
        if crate::model::serial::is_scientific_notation(model_no_v) {
            ctx.warn(&h(model_no, "Model No."), "looks like Excel scientific notation: the digits are lost (kept as found)", Some(model_no_v));
        }
        let (label, meta) = split_status(get(status));
        let lc = lifecycle(ctx, &h(status, "Status"), label, meta, &opts.status_map);
        let display = non_empty(get(full)).or_else(|| non_empty(&format!("{} {}", get(first), get(last))));
        let (assignee_kind, owner) = assignee(ctx, &h(kind, "Type"), get(kind), non_empty(get(username)), non_empty(get(email)), display, get(checked_out));
        let byod_v = ctx.boolean(&h(byod, "BYOD"), get(byod), &["1", "yes", "true"], &["0", "no", "false"])?;
        let df = date_fmt.as_deref();
        let asset = Asset {
            prov: ctx.prov(non_empty(get(id))),
            serial: if serial_v.is_empty() { Serial::missing() } else { Serial::new(serial_v, model_v.as_deref()) },
            asset_tag: non_empty(tag_v),
            name: non_empty(get(name)),
            manufacturer: non_empty(get(manufacturer)),
            device_class: device_class(&format!("{} {}", get(category), model_v.as_deref().unwrap_or(""))),
            category: non_empty(get(category)),
            model: model_v,
            model_id: non_empty(model_no_v),
            owner,
            assignee_kind,
            ownership: if byod_v == Some(true) { Ownership::Personal } else { Ownership::Corporate },
            lifecycle: lc,
            lifecycle_label: non_empty(get(status)),
            purchase_date: import_date(ctx, &h(purchased, "Purchased"), get(purchased), df)?,
            warranty_end: import_date(ctx, &h(warranty, "Warranty Expires"), get(warranty), df)?,
            eol_date: import_date(ctx, &h(eol, "EOL"), get(eol), df)?,
            location: non_empty(get(location)),
            last_seen_at: None,
            last_audit_at: ctx.local(&h(audit, "Last Audit"), get(audit), &["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M"])?,
            extra: table.extra(row, &used).into_iter().map(|(k, v)| (k, unescape_formula(&v).to_string())).collect(),
        };
        Ok(vec![Record::Asset(asset)])
    })
}

/// Who an asset is checked out to: a user (by username, email and name), a location, another
/// asset, or nobody. An empty type with a user named means a user.
fn assignee(
    ctx: &mut RowCtx,
    field: &str,
    kind_raw: &str,
    user: Option<String>,
    mail: Option<String>,
    display: Option<String>,
    checked_out: &str,
) -> (AssigneeKind, Owner) {
    let kind_v = kind_raw.to_lowercase();
    let kind = match kind_v.as_str() {
        "user" => AssigneeKind::User,
        "location" => AssigneeKind::Location,
        "asset" => AssigneeKind::Asset,
        "" if user.is_some() || mail.is_some() => AssigneeKind::User,
        "" if !checked_out.is_empty() => AssigneeKind::User,
        "" => AssigneeKind::None,
        other => {
            ctx.warn(field, "checkout type not user, location or asset; recorded as none", Some(other));
            AssigneeKind::None
        }
    };
    let owner = if kind == AssigneeKind::User {
        Owner { email: mail, username: user, display_name: display.or_else(|| non_empty(checked_out)) }
    } else {
        Owner::default()
    };
    (kind, owner)
}

/// Decodes the HTML entities Snipe-IT's API puts in strings (`&quot;`, `&amp;`).
fn html(s: &str) -> String {
    html_escape::decode_html_entities(s).into_owned()
}

fn html_opt(v: &Value, path: &[&str]) -> Option<String> {
    non_empty(&html(&text(v, path)))
}

/// A `/api/v1/hardware` page: `rows` and `total`.
pub fn detect_api(v: &serde_json::Value) -> bool {
    v.as_object().is_some_and(|o| o.contains_key("rows") && o.contains_key("total"))
}

/// Reads `/api/v1/hardware` (one page: `{"total": N, "rows": [...]}`).
pub fn read_api(doc: &Doc, em: &mut Emitter) -> Result<(), Error> {
    let Some(rows) = doc.records(&["rows"]) else {
        return Err(Error::bad_file(doc.file, 1, Some("rows"), "expected the Snipe-IT envelope {\"total\": N, \"rows\": [...]}", None));
    };
    let total = doc.value.get("total").and_then(Value::as_u64);
    if let Some(total) = total.filter(|t| *t as usize > rows.len()) {
        em.incomplete(
            "total",
            format!("this page holds {} of {total} assets; ingest the other pages (offset/limit) too, or the register is incomplete", rows.len()),
        )?;
    }
    let opts = em.opts;
    let mut unread = super::json::Unread::new(API_READS);
    for (i, r, (line, a, z)) in rows.iter() {
        unread.see(&r);
        let mut ctx = em.ctx(line, Some(format!("/rows/{i}")), &doc.bytes[a..z]);
        let result = api_row(&r, &mut ctx, opts).map(|a| vec![Record::Asset(a)]);
        em.row(ctx, result)?;
    }
    em.unread = Some(unread.keys());
    Ok(())
}

/// The keys of a hardware row the API reader reads.
const API_READS: &[&str] = &[
    "id",
    "name",
    "asset_tag",
    "serial",
    "model",
    "model_number",
    "manufacturer",
    "category",
    "status_label",
    "assigned_to",
    "location",
    "rtd_location",
    "company",
    "supplier",
    "notes",
    "order_number",
    "purchase_cost",
    "purchase_date",
    "warranty_months",
    "warranty_expires",
    "asset_eol_date",
    "byod",
    "last_audit_date",
    "last_checkin",
    "last_checkout",
    "expected_checkin",
    "created_at",
    "updated_at",
    "deleted_at",
    "custom_fields",
];

fn api_row(r: &Value, ctx: &mut RowCtx, opts: &super::Options) -> Result<Asset, Issue> {
    if !r.is_object() {
        return Err(ctx.issue("", "asset is not a JSON object", None));
    }
    let serial_v = html(&text(r, &["serial"]));
    let tag_v = html(&text(r, &["asset_tag"]));
    ctx.identifier("serial", &serial_v)?;
    ctx.identifier("asset_tag", &tag_v)?;
    if serial_v.trim().is_empty() && tag_v.trim().is_empty() {
        return Err(ctx.issue("asset_tag", "asset has neither an asset tag nor a serial: it cannot be identified", None));
    }
    let model = html_opt(r, &["model", "name"]);
    let label = html(&text(r, &["status_label", "name"]));
    let meta = text(r, &["status_label", "status_meta"]).into_owned();
    let status_type = text(r, &["status_label", "status_type"]).into_owned();
    let meta_used = if meta.is_empty() { status_type.clone() } else { meta.clone() };
    let lc = lifecycle(ctx, "status_label", label.trim(), &meta_used, &opts.status_map);
    let assignee_kind = match text(r, &["assigned_to", "type"]).as_ref() {
        "user" => AssigneeKind::User,
        "location" => AssigneeKind::Location,
        "asset" => AssigneeKind::Asset,
        "" => AssigneeKind::None,
        other => {
            let other = other.to_string();
            ctx.warn("assigned_to.type", "assignee type not user, location or asset; recorded as none", Some(&other));
            AssigneeKind::None
        }
    };
    let owner = if assignee_kind == AssigneeKind::User {
        Owner {
            email: html_opt(r, &["assigned_to", "email"]),
            username: html_opt(r, &["assigned_to", "username"]),
            display_name: html_opt(r, &["assigned_to", "name"]),
        }
    } else {
        Owner::default()
    };
    let mut extra = Extra::new();
    for key in ["notes", "order_number", "purchase_cost", "warranty_months", "byod"] {
        if let Some(v) = html_opt(r, &[key]) {
            extra.insert(key.to_string(), v);
        }
    }
    for key in ["company", "supplier", "rtd_location"] {
        if let Some(v) = html_opt(r, &[key, "name"]) {
            extra.insert(key.to_string(), v);
        }
    }
    for key in ["last_checkin", "last_checkout", "created_at", "updated_at", "deleted_at", "expected_checkin"] {
        if let Some(v) = non_empty(&text(r, &[key, "datetime"])) {
            extra.insert(key.to_string(), v);
        }
    }
    if let Some(loc) = html_opt(r, &["assigned_to", "name"])
        && assignee_kind != AssigneeKind::User
    {
        extra.insert("assigned_to".into(), loc);
    }
    if !status_type.is_empty() {
        extra.insert("status_type".into(), status_type);
    }
    if let Some(Value::Object(cf)) = r.get("custom_fields") {
        for (name, f) in cf {
            if let Some(v) = non_empty(&html(&text(f, &["value"]))) {
                extra.insert(format!("custom: {}", html(name)), v);
            }
        }
    }
    let date = |ctx: &RowCtx, key: &str| -> Result<Option<chrono::NaiveDate>, Issue> {
        let v = text(r, &[key, "date"]);
        let v = if v.is_empty() { text(r, &[key]) } else { v };
        ctx.date(key, &v, &["%Y-%m-%d"])
    };
    let byod = matches!(r.get("byod"), Some(Value::Bool(true)) | Some(Value::Number(_))) && text(r, &["byod"]) != "0";
    let label_shown = if label.is_empty() {
        None
    } else if meta.is_empty() {
        Some(label.clone())
    } else {
        Some(format!("{label} ({meta})"))
    };
    Ok(Asset {
        prov: ctx.prov(non_empty(&text(r, &["id"]))),
        serial: if serial_v.trim().is_empty() { Serial::missing() } else { Serial::new(&serial_v, model.as_deref()) },
        asset_tag: non_empty(&tag_v),
        name: html_opt(r, &["name"]),
        manufacturer: html_opt(r, &["manufacturer", "name"]),
        device_class: device_class(&format!("{} {}", html(&text(r, &["category", "name"])), model.as_deref().unwrap_or(""))),
        category: html_opt(r, &["category", "name"]),
        model,
        model_id: html_opt(r, &["model_number"]),
        owner,
        assignee_kind,
        ownership: if byod { Ownership::Personal } else { Ownership::Corporate },
        lifecycle: lc,
        lifecycle_label: label_shown,
        purchase_date: date(ctx, "purchase_date")?,
        warranty_end: date(ctx, "warranty_expires")?,
        eol_date: date(ctx, "asset_eol_date")?,
        location: html_opt(r, &["location", "name"]),
        last_seen_at: None,
        last_audit_at: ctx.local("last_audit_date", &text(r, &["last_audit_date", "datetime"]), &["%Y-%m-%d %H:%M:%S"])?,
        extra,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_split_and_lifecycle() {
        assert_eq!(split_status("Ready to Deploy (deployed)"), ("Ready to Deploy", "deployed"));
        assert_eq!(split_status("Broken (beyond repair)"), ("Broken (beyond repair)", ""));
        let mut ctx = RowCtx::new(2, None, b"", None);
        let map = BTreeMap::from([("Sent to ITAD".to_string(), Lifecycle::Disposed)]);
        assert_eq!(lifecycle(&mut ctx, "Status", "Ready to Deploy", "deployed", &map), Lifecycle::Deployed);
        assert_eq!(lifecycle(&mut ctx, "Status", "Ready to Deploy", "deployable", &map), Lifecycle::InStock);
        assert_eq!(lifecycle(&mut ctx, "Status", "Sent to ITAD", "archived", &map), Lifecycle::Disposed);
        assert_eq!(lifecycle(&mut ctx, "Status", "Shelf 3", "archived", &map), Lifecycle::Retired);
        assert!(ctx.warnings.is_empty());
        assert_eq!(lifecycle(&mut ctx, "Status", "Pending Diagnostics", "", &map), Lifecycle::Unknown);
        assert_eq!(ctx.warnings.len(), 1);
    }
}
