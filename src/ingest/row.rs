//! Per-row parsing context: turns raw strings into typed values and records, and builds the
//! issues (errors reject the row; warnings keep it) that name line and field.

use crate::model::Issue;
use crate::model::{Instant, Provenance};
use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use sha2::{Digest, Sha256};

/// The context of one input record while it is being mapped.
pub struct RowCtx<'o> {
    pub line: u64,
    pub pointer: Option<String>,
    pub warnings: Vec<Issue>,
    tz: Option<&'o Tz>,
    tz_used: bool,
    raw_sha256: String,
}

/// Result of mapping one row.
pub type RowResult<T> = Result<T, Issue>;

impl<'o> RowCtx<'o> {
    pub fn new(line: u64, pointer: Option<String>, raw: &[u8], tz: Option<&'o Tz>) -> Self {
        RowCtx { line, pointer, warnings: Vec::new(), tz, tz_used: false, raw_sha256: hex_digest(raw) }
    }

    /// Provenance for a record of this row.
    pub fn prov(&self, source_record_id: Option<String>) -> Provenance {
        Provenance { line: self.line, pointer: self.pointer.clone(), source_record_id, raw_sha256: self.raw_sha256.clone(), tz_assumed: self.tz_used }
    }

    /// An issue at this row.
    pub fn issue(&self, field: &str, message: impl Into<String>, raw: Option<&str>) -> Issue {
        Issue {
            line: self.line,
            pointer: self.pointer.clone(),
            field: (!field.is_empty()).then(|| field.to_string()),
            message: message.into(),
            raw: raw.map(str::to_string),
        }
    }

    /// Records a warning: the row is kept.
    pub fn warn(&mut self, field: &str, message: impl Into<String>, raw: Option<&str>) {
        let issue = self.issue(field, message, raw);
        self.warnings.push(issue);
    }

    /// Maps text through a closed table; text not in it becomes `unknown` with a warning that
    /// carries the raw value. Empty text is `unknown` without a warning.
    pub fn vocab<T: Copy + std::fmt::Display>(&mut self, field: &str, raw: &str, map: impl Fn(&str) -> Option<T>, unknown: T) -> T {
        let t = raw.trim();
        if t.is_empty() {
            return unknown;
        }
        match map(t) {
            Some(v) => v,
            None => {
                self.warn(field, format!("value not in the known vocabulary; recorded as {unknown}"), Some(t));
                unknown
            }
        }
    }

    /// A boolean from a closed per-field table of spellings; empty is `None`; anything else rejects.
    pub fn boolean(&self, field: &str, raw: &str, truthy: &[&str], falsy: &[&str]) -> RowResult<Option<bool>> {
        let t = raw.trim();
        if t.is_empty() {
            return Ok(None);
        }
        if truthy.iter().any(|s| s.eq_ignore_ascii_case(t)) {
            Ok(Some(true))
        } else if falsy.iter().any(|s| s.eq_ignore_ascii_case(t)) {
            Ok(Some(false))
        } else {
            Err(self.issue(field, format!("not a boolean (expected one of {})", [truthy, falsy].concat().join(", ")), Some(t)))
        }
    }

    /// A timestamp that carries its offset (`Z`, `+00:00`, `+0000`), any fraction digits.
    /// The sentinels `0001-01-01…` (never) and `9999-12-31…` (no expiry) become `None`.
    pub fn instant(&self, field: &str, raw: &str) -> RowResult<Option<Instant>> {
        let t = raw.trim();
        if t.is_empty() {
            return Ok(None);
        }
        if t.starts_with("0001-01-01") || t.starts_with("9999-12-31") {
            return Ok(None);
        }
        parse_offset_datetime(t)
            .map(Some)
            .ok_or_else(|| self.issue(field, "not a date-time with a UTC offset (expected ISO 8601, e.g. 2025-02-27T07:41:12Z)", Some(t)))
    }

    /// A timestamp without offset, read in the declared source time zone. Without `--source-tz`
    /// the row is rejected: guessing the zone would move every time by hours.
    pub fn local(&mut self, field: &str, raw: &str, formats: &[&str]) -> RowResult<Option<Instant>> {
        let t = raw.trim();
        if t.is_empty() {
            return Ok(None);
        }
        if let Some(i) = parse_offset_datetime(t) {
            return Ok(Some(i));
        }
        let naive = formats
            .iter()
            .find_map(|f| NaiveDateTime::parse_from_str(t, f).ok())
            .ok_or_else(|| self.issue(field, format!("not a date-time in the expected format ({})", formats.join(" or ")), Some(t)))?;
        let Some(tz) = self.tz else {
            return Err(self.issue(field, "date-time has no UTC offset and no --source-tz was given", Some(t)));
        };
        self.tz_used = true;
        match tz.from_local_datetime(&naive) {
            chrono::LocalResult::Single(dt) => Ok(Some(dt.with_timezone(&Utc))),
            chrono::LocalResult::Ambiguous(early, _) => {
                self.warn(field, format!("local time is ambiguous in {tz} (clocks went back); took the earlier instant"), Some(t));
                Ok(Some(early.with_timezone(&Utc)))
            }
            chrono::LocalResult::None => Err(self.issue(field, format!("local time does not exist in {tz} (clocks went forward)"), Some(t))),
        }
    }

    /// A calendar date in one of the given formats.
    pub fn date(&self, field: &str, raw: &str, formats: &[&str]) -> RowResult<Option<NaiveDate>> {
        let t = raw.trim();
        if t.is_empty() {
            return Ok(None);
        }
        formats
            .iter()
            .find_map(|f| NaiveDate::parse_from_str(t, f).ok())
            .map(Some)
            .ok_or_else(|| self.issue(field, format!("not a date in the expected format ({})", formats.join(" or ")), Some(t)))
    }

    /// An identifier (serial, asset tag) must not be an Excel-mangled number.
    pub fn identifier(&self, field: &str, raw: &str) -> RowResult<()> {
        if crate::model::serial::is_scientific_notation(raw) {
            return Err(self.issue(field, "identifier is in scientific notation: Excel turned it into a number and its digits are lost", Some(raw.trim())));
        }
        Ok(())
    }

    /// `20/02/2025` can be day/month or month/day: without a declared `--date-format` it is refused.
    pub fn unambiguous_date(&self, field: &str, raw: &str, declared: Option<&str>) -> RowResult<()> {
        if declared.is_none() && raw.contains('/') {
            return Err(self.issue(field, "date with '/' is ambiguous (day/month order); declare it, e.g. --date-format '%d/%m/%Y'", Some(raw)));
        }
        Ok(())
    }

    /// A serial: refused when Excel mangled it, otherwise classified (`missing` when empty).
    pub fn serial(&self, field: &str, raw: &str, model: Option<&str>) -> RowResult<crate::model::Serial> {
        self.identifier(field, raw)?;
        Ok(crate::model::Serial::new(raw, model))
    }

    /// An integer; empty is `None`.
    pub fn integer(&self, field: &str, raw: &str) -> RowResult<Option<i64>> {
        let t = raw.trim();
        if t.is_empty() {
            return Ok(None);
        }
        t.parse().map(Some).map_err(|_| self.issue(field, "not a whole number", Some(t)))
    }
}

/// Parses `2025-02-27T07:41:12.4417263Z`, `2024-01-26 16:15:36.087016+00:00`,
/// `2019-06-17T16:00:56.384+0000` and `2025-02-20T10:14:02+0100`.
pub fn parse_offset_datetime(t: &str) -> Option<Instant> {
    if let Ok(dt) = DateTime::parse_from_rfc3339(t) {
        return Some(dt.with_timezone(&Utc));
    }
    for f in ["%Y-%m-%dT%H:%M:%S%.f%z", "%Y-%m-%d %H:%M:%S%.f%z", "%Y-%m-%dT%H:%M%z"] {
        if let Ok(dt) = DateTime::parse_from_str(t, f) {
            return Some(dt.with_timezone(&Utc));
        }
    }
    None
}

/// Returns the text if it is not empty after trimming.
pub fn non_empty(s: &str) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_string())
}

/// Lower-case hex SHA-256, without the per-character iterator of `hex::encode`.
pub fn hex_digest(bytes: &[u8]) -> String {
    let mut out = [0u8; 64];
    hex::encode_to_slice(Sha256::digest(bytes), &mut out).expect("64 bytes hold 32 in hex");
    String::from_utf8(out.to_vec()).expect("hex is ASCII")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_in_every_spelling() {
        let want = "2024-01-26T16:15:36.087016Z";
        for t in ["2024-01-26 16:15:36.087016+00:00", "2024-01-26T16:15:36.087016Z", "2024-01-26T17:15:36.087016+0100"] {
            assert_eq!(crate::model::instant_text(&parse_offset_datetime(t).unwrap()), want, "{t}");
        }
        assert_eq!(crate::model::instant_text(&parse_offset_datetime("2025-02-27T07:41:12.4417263Z").unwrap()), "2025-02-27T07:41:12.441726300Z");
    }

    #[test]
    fn local_time_needs_a_zone() {
        let mut r = RowCtx::new(3, None, b"x", None);
        let e = r.local("Checkout Date", "2024-03-20 09:14:00", &["%Y-%m-%d %H:%M:%S"]).unwrap_err();
        assert!(e.message.contains("--source-tz"));
        let tz: Tz = "Europe/Berlin".parse().unwrap();
        let mut r = RowCtx::new(3, None, b"x", Some(&tz));
        let t = r.local("Checkout Date", "2024-03-20 09:14:00", &["%Y-%m-%d %H:%M:%S"]).unwrap().unwrap();
        assert_eq!(crate::model::instant_text(&t), "2024-03-20T08:14:00Z");
        assert!(r.prov(None).tz_assumed);
    }

    #[test]
    fn sentinels_are_none() {
        let r = RowCtx::new(1, None, b"", None);
        assert_eq!(r.instant("x", "0001-01-01T00:00:00Z").unwrap(), None);
        assert_eq!(r.instant("x", "9999-12-31T23:59:59.9999999Z").unwrap(), None);
        assert!(r.instant("x", "yesterday").is_err());
    }
}
