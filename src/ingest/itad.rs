//! ITAD vendor certificate-of-destruction CSV: no standard exists, so headers are matched by
//! alias and the date format must be declared when it is ambiguous (`20/02/2025`).

use super::row::{RowCtx, RowResult, non_empty};
use super::table::{Row, Table};
use super::{Emitter, Error};
use crate::model::*;

const CERT: &[&str] =
    &["certificate_number", "certificate number", "certificate no.", "certificate no", "certificate #", "cod number", "cod", "certificate id"];
const LOT: &[&str] = &["lot_number", "lot number", "lot no.", "lot no", "lot", "lot #"];
const TAG: &[&str] = &["asset_tag", "asset tag", "asset id", "asset number"];
const DEVICE_SERIAL: &[&str] = &["device_serial", "device serial", "system serial", "host serial", "device serial number"];
const MEDIA_SERIAL: &[&str] =
    &["media_serial", "media serial", "drive serial", "hdd serial", "disk serial", "serial no.", "serial no", "s/n", "serial number", "serial"];
const MEDIA_TYPE: &[&str] = &["media_type", "media type", "drive type", "media"];
const MANUFACTURER: &[&str] = &["manufacturer", "make", "brand"];
const MODEL: &[&str] = &["model"];
const METHOD: &[&str] = &["sanitization_method", "sanitization method", "method", "destruction method", "erasure method"];
const CATEGORY: &[&str] = &["nist_category", "nist category", "nist 800-88 category", "category"];
const VERIFICATION: &[&str] = &["verification", "verification method", "verified"];
const RESULT: &[&str] = &["result", "status", "outcome"];
const COMPLETED: &[&str] =
    &["completed_at", "completed at", "date destroyed", "destruction date", "date sanitized", "date of destruction", "completed", "date"];
const TECHNICIAN: &[&str] = &["technician", "operator", "performed by"];
const VENDOR: &[&str] = &["vendor", "itad vendor", "processor"];

/// Columns that mark an ITAD certificate CSV.
pub const DETECT: &[&str] =
    &["certificate_number", "certificate number", "sanitization_method", "date destroyed", "destruction method", "nist_category", "media_serial", "cod number"];

/// Technique and NIST SP 800-88 category from a vendor's free-text method (research/inputs.md §6.4).
pub fn classify_method(method: &str) -> (Technique, NistCategory) {
    let m = method.to_lowercase();
    let has = |w: &[&str]| w.iter().any(|x| m.contains(x));
    if has(&["shred"]) {
        (Technique::Shred, NistCategory::Destroy)
    } else if has(&["disintegrat", "pulveri", "crush", "punch", "drill"]) {
        (Technique::Disintegrate, NistCategory::Destroy)
    } else if has(&["inciner", "melt", "smelt"]) {
        (Technique::Incinerate, NistCategory::Destroy)
    } else if has(&["degauss"]) {
        (Technique::Degauss, NistCategory::Purge)
    } else if has(&["crypto", "cryptographic"]) {
        (Technique::CryptoErase, NistCategory::Purge)
    } else if has(&["block erase"]) {
        (Technique::BlockErase, NistCategory::Purge)
    } else if has(&["secure erase", "secure-erase"]) {
        (Technique::SecureErase, NistCategory::Purge)
    } else if has(&["sanitize"]) {
        (Technique::Sanitize, NistCategory::Purge)
    } else if has(&["overwrite", "wipe", "wiped", "dod", "gutmann", "zero", "pass", "prng"]) {
        (Technique::Overwrite, NistCategory::Clear)
    } else {
        (Technique::Unknown, NistCategory::Unknown)
    }
}

pub(crate) fn media_type(t: &str) -> Option<MediaType> {
    let t = t.to_lowercase();
    Some(if t.contains("nvme") {
        MediaType::Nvme
    } else if t.contains("ssd") || t.contains("flash") {
        MediaType::Ssd
    } else if t.contains("hdd") || t.contains("hard") {
        MediaType::Hdd
    } else if t.contains("usb") {
        MediaType::Usb
    } else if t.contains("phone") || t.contains("mobile") || t.contains("tablet") {
        MediaType::Mobile
    } else if t.contains("tape") || t.contains("optical") {
        MediaType::Other
    } else {
        return None;
    })
}

pub(crate) fn verification(t: &str) -> Option<Verification> {
    let t = t.to_lowercase();
    Some(if t.contains("sample") {
        Verification::Sample
    } else if t.contains("visual") {
        // Looking at the destroyed item: verification for Destroy, and for nothing else (a
        // certificate treats it as unverified on any other technique).
        Verification::Visual
    } else if t.contains("full") || t.contains("read-back") || t.contains("readback") || t.contains("100%") {
        Verification::Full
    } else if t.contains("last") {
        Verification::LastPass
    } else if t.contains("all") {
        Verification::AllPasses
    } else if t == "none" || t == "no" {
        Verification::None
    } else {
        return None;
    })
}

fn result(t: &str) -> Option<WipeResult> {
    Some(match t.to_lowercase().as_str() {
        "pass" | "passed" | "success" | "successful" | "complete" | "completed" | "destroyed" | "verified" | "erased" | "ok" => WipeResult::Success,
        "fail" | "failed" | "failure" | "error" => WipeResult::Failed,
        "aborted" | "cancelled" | "canceled" | "incomplete" => WipeResult::Aborted,
        _ => return None,
    })
}

/// Reads the certificate CSV.
pub fn read(table: &Table, em: &mut Emitter) -> Result<(), Error> {
    let method_c = Some(table.require("sanitization_method", METHOD)?);
    let date_c = Some(table.require("completed_at", COMPLETED)?);
    let (tag, dev, media) = (table.col(TAG), table.col(DEVICE_SERIAL), table.col(MEDIA_SERIAL));
    if tag.is_none() && dev.is_none() && media.is_none() {
        table.require("media_serial", MEDIA_SERIAL)?;
    }
    let cols = [
        table.col(CERT),
        table.col(LOT),
        table.col(MEDIA_TYPE),
        table.col(MANUFACTURER),
        table.col(MODEL),
        table.col(CATEGORY),
        table.col(VERIFICATION),
        table.col(RESULT),
        table.col(TECHNICIAN),
        table.col(VENDOR),
    ];
    let [cert, lot, mtype, manufacturer, model, category, verif, res, tech, vendor] = cols;
    let mut used = cols.to_vec();
    used.extend([method_c, date_c, tag, dev, media]);
    for w in table.header_warnings() {
        em.warning(w)?;
    }
    let date_fmt = em.opts.date_format.clone();
    let h = |c: Option<usize>, d: &str| c.map(|c| table.headers[c].clone()).unwrap_or_else(|| d.to_string());
    table.for_each_row(em, |row: &Row, ctx: &mut RowCtx| {
        for c in [tag, dev, media] {
            ctx.identifier(&h(c, ""), row.get(c))?;
        }
        if row.get(tag).is_empty() && row.get(dev).is_empty() && row.get(media).is_empty() {
            return Err(ctx.issue(&h(media, "media_serial"), "row names no media serial, device serial or asset tag: it cannot be tied to anything", None));
        }
        let method = row.get(method_c);
        if method.is_empty() {
            return Err(ctx.issue(&h(method_c, "sanitization_method"), "sanitization method is required", None));
        }
        let (technique, derived) = classify_method(method);
        if technique == Technique::Unknown {
            ctx.warn(&h(method_c, "sanitization_method"), "method not recognised; technique and category recorded as unknown", Some(method));
        }
        let nist = declared_category(ctx, &h(category, "nist_category"), row.get(category), derived);
        let date_raw = row.get(date_c);
        let date_field = h(date_c, "completed_at");
        let completed_at = completed(ctx, &date_field, date_raw, date_fmt.as_deref())?;
        if completed_at.is_none() {
            return Err(ctx.issue(&date_field, "completion date is required", None));
        }
        let res_raw = row.get(res);
        let mt_raw = row.get(mtype);
        let ver_raw = row.get(verif);
        let media_type = ctx.vocab(&h(mtype, "media_type"), mt_raw, media_type, MediaType::Unknown);
        let ver = ctx.vocab(&h(verif, "verification"), ver_raw, verification, Verification::Unknown);
        let result = ctx.vocab(&h(res, "result"), res_raw, result, WipeResult::Unknown);
        let model_v = non_empty(row.get(model));
        let cert_v = non_empty(row.get(cert));
        Ok(vec![Record::Wipe(Wipe {
            prov: ctx.prov(cert_v.clone()),
            media_serial: if row.get(media).is_empty() { Serial::missing() } else { Serial::new(row.get(media), None) },
            host_serial: if row.get(dev).is_empty() { Serial::missing() } else { Serial::new(row.get(dev), model_v.as_deref()) },
            asset_tag: non_empty(row.get(tag)),
            device_name: None,
            media_type,
            media_model: model_v,
            media_manufacturer: non_empty(row.get(manufacturer)),
            capacity_bytes: None,
            tool: WipeTool::ItadVendor,
            tool_version: None,
            method_raw: Some(method.to_string()),
            technique,
            nist_category: nist,
            passes: None,
            verification: ver,
            verification_raw: non_empty(ver_raw),
            result,
            result_raw: non_empty(res_raw),
            started_at: None,
            completed_at,
            operator: non_empty(row.get(tech)),
            organisation: None,
            vendor: non_empty(row.get(vendor)),
            certificate_id: cert_v,
            lot: non_empty(row.get(lot)),
            report_id: None,
            hpa_dco: HpaDco::Unknown,
            errors: None,
            extra: table.extra(row, &used),
        })])
    })
}

/// The NIST category the vendor declares, checked against the one its method reads as: an
/// unrecognised or contradicting declaration is warned about (the declaration is kept).
fn declared_category(ctx: &mut RowCtx, field: &str, declared_raw: &str, derived: NistCategory) -> NistCategory {
    let nist = match declared_raw.to_lowercase().as_str() {
        "" => derived,
        "clear" => NistCategory::Clear,
        "purge" => NistCategory::Purge,
        "destroy" | "destruction" => NistCategory::Destroy,
        other => {
            let other = other.to_string();
            ctx.warn(field, "category not Clear, Purge or Destroy; the method's category is used", Some(&other));
            derived
        }
    };
    if derived != NistCategory::Unknown && nist != derived && !declared_raw.is_empty() {
        ctx.warn(field, format!("vendor declares {nist} but the method reads as {derived} (NIST SP 800-88); recorded as declared"), Some(declared_raw));
    }
    nist
}

/// The completion time: a date and time in the source's time zone, or a date alone meaning its
/// midnight there. A day/month order that cannot be told apart needs `--date-format`.
fn completed(ctx: &mut RowCtx, field: &str, raw: &str, date_fmt: Option<&str>) -> RowResult<Option<crate::model::Instant>> {
    ctx.unambiguous_date(field, raw, date_fmt)?;
    let mut formats = vec!["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"];
    if let Some(f) = date_fmt {
        formats.insert(0, f);
    }
    let is_date_only = formats.iter().all(|f| chrono::NaiveDateTime::parse_from_str(raw, f).is_err());
    if !is_date_only || raw.is_empty() {
        return ctx.local(field, raw, &formats);
    }
    let mut dfmts = vec!["%Y-%m-%d"];
    if let Some(f) = date_fmt {
        dfmts.insert(0, f);
    }
    let d = ctx.date(field, raw, &dfmts)?;
    let with_midnight = d.map(|d| d.format("%Y-%m-%d 00:00:00").to_string()).unwrap_or_default();
    ctx.local(field, &with_midnight, &["%Y-%m-%d %H:%M:%S"])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_map_to_800_88_categories() {
        assert_eq!(classify_method("Shred 6mm"), (Technique::Shred, NistCategory::Destroy));
        assert_eq!(classify_method("Cryptographic Erase (NVMe Sanitize)"), (Technique::CryptoErase, NistCategory::Purge));
        assert_eq!(classify_method("Overwrite 1 pass"), (Technique::Overwrite, NistCategory::Clear));
        assert_eq!(classify_method("Degauss"), (Technique::Degauss, NistCategory::Purge));
        assert_eq!(classify_method("Wiped"), (Technique::Overwrite, NistCategory::Clear));
        assert_eq!(classify_method("Recycled"), (Technique::Unknown, NistCategory::Unknown));
    }
}
