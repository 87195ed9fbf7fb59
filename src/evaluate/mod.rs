//! Evaluates the controls against the store: per control the full population with each item's
//! outcome and the records behind it, exceptions with their dispositions, the tie-out of every
//! source, and the regrouping by framework criterion (with uncovered criteria and an ISO 27001
//! Statement-of-Applicability view). State controls run at every sample date of the scope;
//! event controls over the events up to the scope's end. A date whose inputs were not in force
//! (`evidence`) is `no_evidence`: it is never judged, never a pass.

pub mod evidence;

use crate::controls::schema::{Exception, Kind, TestKind};
use crate::controls::{Library, Loaded};
use crate::ledger::Scope;
use crate::store::{Store, query::LeaverRow};
use crate::view::AssetView;
use chrono::{Datelike, NaiveDate};
use evidence::{Check, Evidence, InForce, Observation};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// Pass, fail, or excepted (a failing item covered by an exception valid on its date).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Pass,
    Fail,
    Excepted,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Pass,
    Fail,
    /// The inputs the test reads were missing or stale at some sample date: nothing can be said.
    NoEvidence,
    /// Evidence was in force and the population was truly empty.
    NotApplicable,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Pass => "pass",
            Outcome::Fail => "fail",
            Outcome::Excepted => "excepted",
        }
    }
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::NoEvidence => "no_evidence",
            Status::NotApplicable => "not_applicable",
        }
    }
}

/// One member of a control's population.
#[derive(Debug, Clone, Serialize)]
pub struct Item {
    /// The sample date a state control was tested at.
    pub date: NaiveDate,
    /// The device key (serial, or tag:/drive:/record:) or the ingested file.
    pub item: String,
    pub asset_tag: Option<String>,
    pub outcome: Outcome,
    pub reason: String,
    /// `source:file@sha:line[pointer]` of the records behind the outcome.
    pub records: Vec<String>,
}

/// One sample date of a control: what was tested, on what evidence.
#[derive(Debug, Clone, Serialize)]
pub struct DateResult {
    pub date: NaiveDate,
    pub status: Status,
    pub population: usize,
    pub passed: usize,
    pub failed: usize,
    pub excepted: usize,
    /// The export of each input the test read, as it stood on this date.
    pub evidence: Vec<InForce>,
    /// Inputs missing or stale on this date (then the date is `no_evidence` and not judged).
    pub missing: Vec<String>,
}

/// An exception and what became of it.
#[derive(Debug, Clone, Serialize)]
pub struct Disposition {
    pub exception: Exception,
    /// `applied` (excused a failing item on a date inside its window), `expired` (a failing item
    /// dated after it expired: fails the control), `not_yet_valid` (a failing item dated before
    /// `valid_from`: not covered). An exception that matched nothing is in `unused_exceptions`.
    pub disposition: &'static str,
}

/// One control's result.
#[derive(Debug, Clone, Serialize)]
pub struct ControlResult {
    pub id: String,
    pub version: u32,
    pub title: String,
    pub test: TestKind,
    pub kind: Kind,
    pub file: String,
    pub sha256: String,
    pub status: Status,
    /// Why a control is not applicable or has no evidence.
    pub note: Option<String>,
    pub params: BTreeMap<String, serde_json::Value>,
    /// Items × sample dates: a device tested at three dates counts three times.
    pub population: usize,
    pub passed: usize,
    pub failed: usize,
    pub excepted: usize,
    /// Devices left out because of their ownership (`ownership` param; personal devices by
    /// default), summed over sample dates: out of scope, not failed.
    pub out_of_scope: usize,
    /// The result at each sample date (event and data controls: one, at the scope's end).
    pub dates: Vec<DateResult>,
    pub items: Vec<Item>,
    pub exceptions: Vec<Disposition>,
}

/// The tie-out of one ingested export (IPE).
#[derive(Debug, Clone, Serialize)]
pub struct TieOut {
    pub file: String,
    pub source: String,
    pub sha256: String,
    pub as_of: Option<String>,
    pub read: i64,
    pub accepted: i64,
    pub rejected: i64,
    pub empty: i64,
    pub records_stored: i64,
}

/// A framework item with the controls that evidence it.
#[derive(Debug, Clone, Serialize)]
pub struct Criterion {
    pub id: String,
    pub title: String,
    pub legacy: Vec<String>,
    /// pass / fail / no_evidence (a control mapped to it had no evidence in force) / uncovered
    /// (no control with a population maps to it).
    pub status: &'static str,
    pub controls: Vec<CriterionControl>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CriterionControl {
    pub id: String,
    pub status: Status,
    pub relationship: crate::controls::schema::Relationship,
    pub confidence: crate::controls::schema::Confidence,
    pub pof: Vec<String>,
}

/// Everything `evaluate` found.
#[derive(Debug, Clone, Serialize)]
pub struct Evaluation {
    /// Whose evidence it is (`--organisation`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub organisation: Option<String>,
    pub scope: Scope,
    pub sample_dates: Vec<NaiveDate>,
    pub controls: Vec<ControlResult>,
    pub tie_out: Vec<TieOut>,
    /// Ingests dated in scope that no longer count: superseded by a correction or retracted.
    pub withdrawn: Vec<Withdrawn>,
    pub unused_exceptions: Vec<Exception>,
}

/// An ingest kept in the audit trail but out of evaluation.
#[derive(Debug, Clone, Serialize)]
pub struct Withdrawn {
    pub file: String,
    pub source: String,
    pub sha256: String,
    pub as_of: Option<String>,
    /// The file name and as-of of the ingest that replaced it.
    pub superseded_by: Option<String>,
    pub retracted: Option<String>,
}

impl Evaluation {
    pub fn failed(&self) -> bool {
        self.controls.iter().any(|c| c.status == Status::Fail)
    }

    pub fn without_evidence(&self) -> bool {
        self.controls.iter().any(|c| c.status == Status::NoEvidence)
    }
}

/// How often state controls are sampled in a period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Cadence {
    Weekly,
    Monthly,
    Quarterly,
}

/// The dates state controls are tested at: the as-of date, or every cadence step's last day
/// inside the period, always ending on the period's last day.
pub fn sample_dates(scope: &Scope, cadence: Cadence) -> Vec<NaiveDate> {
    let (from, to) = match scope {
        Scope::AsOf { date } => return vec![*date],
        Scope::Period { from, to } => (*from, *to),
    };
    let mut out = Vec::new();
    let mut d = from;
    loop {
        let next = match cadence {
            Cadence::Weekly => d + chrono::Days::new(6),
            Cadence::Monthly | Cadence::Quarterly => {
                let months = if cadence == Cadence::Monthly { 1 } else { 3 };
                let first = NaiveDate::from_ymd_opt(d.year(), d.month(), 1).expect("valid") + chrono::Months::new(months);
                first.pred_opt().expect("valid")
            }
        };
        if next >= to {
            break;
        }
        out.push(next);
        d = next.succ_opt().expect("valid");
    }
    out.push(to);
    out
}

/// Inputs of one evaluation.
pub struct Request<'a> {
    pub organisation: Option<String>,
    pub scope: Scope,
    pub cadence: Cadence,
    pub exceptions: &'a [Exception],
}

fn in_service(a: &AssetView) -> bool {
    !a.register.is_empty() && matches!(a.lifecycle.as_deref(), Some("deployed" | "in_stock" | "pending" | "in_repair" | "on_order"))
}

fn deployed(a: &AssetView) -> bool {
    !a.register.is_empty() && a.lifecycle.as_deref() == Some("deployed")
}

fn in_mdm(a: &AssetView) -> bool {
    !a.enrollments.is_empty()
}

fn usable_serial(a: &AssetView) -> bool {
    !(a.key.starts_with("tag:") || a.key.starts_with("record:") || a.key.starts_with("drive:")) && !a.flags.iter().any(|f| f.starts_with("serial_"))
}

/// Days from an RFC 3339 time to the end of `date` (UTC); None if the time does not parse.
fn age_days(when: &str, date: NaiveDate) -> Option<i64> {
    let t = chrono::DateTime::parse_from_rfc3339(when).ok()?.with_timezone(&chrono::Utc);
    let end = date.and_hms_opt(23, 59, 59)?.and_utc();
    Some((end - t).num_days())
}

fn param_days(c: &Loaded, name: &str, default: u64) -> i64 {
    c.control.params.get(name).and_then(|v| v.as_u64()).unwrap_or(default) as i64
}

fn param_strings(c: &Loaded, name: &str) -> Vec<String> {
    c.control.params.get(name).and_then(|v| v.as_array()).map(|a| a.iter().filter_map(|s| s.as_str().map(String::from)).collect()).unwrap_or_default()
}

fn param_map(c: &Loaded, name: &str) -> BTreeMap<String, String> {
    c.control.params.get(name).and_then(|v| v.as_object()).map(|m| m.iter().filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string()))).collect()).unwrap_or_default()
}

/// Compares dotted version strings numerically (15.6.1 ≥ 14.0).
fn version_at_least(have: &str, min: &str) -> bool {
    let parse = |s: &str| s.split(['.', ' ', '-']).map(|p| p.parse::<u64>().unwrap_or(0)).collect::<Vec<_>>();
    let (mut a, mut b) = (parse(have), parse(min));
    let n = a.len().max(b.len());
    a.resize(n, 0);
    b.resize(n, 0);
    a >= b
}

fn category_rank(c: &str) -> u8 {
    match c {
        "clear" => 1,
        "purge" => 2,
        "destroy" => 3,
        _ => 0,
    }
}

/// (outcome, reason) for one device under one state or event test; None = not in the population.
fn judge(c: &Loaded, a: &AssetView, date: NaiveDate) -> Option<(bool, String)> {
    let t = c.control.test;
    Some(match t {
        TestKind::InventoryFields => {
            if !in_service(a) {
                return None;
            }
            let require_owner = c.control.params.get("require_owner_when_deployed").and_then(|v| v.as_bool()).unwrap_or(true);
            let mut missing = Vec::new();
            if !usable_serial(a) {
                missing.push(format!("usable serial ({})", a.flags.iter().find(|f| f.starts_with("serial_")).map_or("none", |f| f.as_str())));
            }
            if a.lifecycle.as_deref() == Some("unknown") {
                missing.push("known lifecycle state".into());
            }
            if require_owner && deployed(a) && a.owner.is_none() {
                missing.push("owner".into());
            }
            if missing.is_empty() { (true, "serial, lifecycle and owner present".into()) } else { (false, format!("missing: {}", missing.join(", "))) }
        }
        TestKind::InventoryUnique => {
            if a.register.is_empty() {
                return None;
            }
            match a.flags.iter().find(|f| f.starts_with("duplicate_serial")) {
                Some(f) => (false, format!("serial {} is on {} register records ({f})", a.key, a.register.len())),
                None => (true, "serial is unique".into()),
            }
        }
        TestKind::DiskEncrypted => {
            // Devices no MDM knows are MDM-01's and REC-01's exceptions, not this control's.
            if !deployed(a) || !in_mdm(a) {
                return None;
            }
            let max = param_days(c, "max_report_age_days", 7);
            let fresh = a.enrollments.iter().filter_map(|e| e.last_checkin_at.as_deref()).filter_map(|w| age_days(w, date)).min();
            // "Not applicable" (an iPad's FileVault, a sealed APFS system volume) is neither a
            // pass nor a failure; a device with nothing else is outside this control.
            let applicable: Vec<_> = a.encryption.iter().filter(|e| e.state != "not_applicable").collect();
            if a.encryption.is_empty() {
                (false, "no encryption report for this device".into())
            } else if applicable.is_empty() {
                return None;
            } else if let Some(bad) = applicable.iter().find(|e| e.state != "encrypted") {
                (false, format!("{} volume {} is {}", bad.source, bad.volume.as_deref().unwrap_or("(system)"), bad.state))
            } else if fresh.is_none_or(|d| d > max) {
                (false, format!("encrypted, but the newest report is {} days old (allowed {max})", fresh.map_or("?".into(), |d| d.to_string())))
            } else {
                (true, format!("all volumes encrypted, report {} days old", fresh.unwrap_or(0)))
            }
        }
        TestKind::RecoveryKeyEscrowed => {
            let relevant: Vec<_> = a.encryption.iter().filter(|e| e.state == "encrypted" && matches!(e.recovery_key.as_deref(), Some("escrowed_valid" | "escrowed" | "invalid" | "not_escrowed"))).collect();
            if !deployed(a) || relevant.is_empty() {
                return None;
            }
            match relevant.iter().find(|e| matches!(e.recovery_key.as_deref(), Some("invalid" | "not_escrowed"))) {
                Some(e) => (false, format!("recovery key {}", e.recovery_key.as_deref().unwrap_or("?").replace('_', " "))),
                None => (true, "recovery key escrowed".into()),
            }
        }
        TestKind::MdmEnrolled => {
            if !deployed(a) {
                return None;
            }
            let max = param_days(c, "max_checkin_age_days", 7);
            let enrolled: Vec<_> = a.enrollments.iter().filter(|e| e.state == "enrolled").collect();
            if enrolled.is_empty() {
                return Some((false, if a.enrollments.is_empty() { "not enrolled in any MDM".into() } else { "known to the MDM, but not enrolled".into() }));
            }
            let age = enrolled.iter().filter_map(|e| e.last_checkin_at.as_deref()).filter_map(|w| age_days(w, date)).min();
            match age {
                Some(d) if d <= max => (true, format!("enrolled in {}, checked in {d} days before", enrolled[0].mdm)),
                Some(d) => (false, format!("enrolled, but last check-in {d} days before (allowed {max})")),
                None => (false, "enrolled, but no check-in time".into()),
            }
        }
        TestKind::MdmCompliant => {
            use crate::model::Compliance;
            // Typed: a device in its grace period is judged (and not yet compliant); "not
            // evaluated" and "unknown" are no verdict at all.
            let judged: Vec<(&crate::view::Enrolled, Compliance)> = a
                .enrollments
                .iter()
                .filter(|e| e.state == "enrolled")
                .filter_map(|e| Some((e, Compliance::parse(e.compliance.as_deref()?)?)))
                .filter(|(_, v)| matches!(v, Compliance::Compliant | Compliance::Noncompliant | Compliance::GracePeriod))
                .collect();
            if judged.is_empty() {
                return None;
            }
            let max = param_days(c, "max_checkin_age_days", 7);
            let age = judged.iter().filter_map(|(e, _)| e.last_checkin_at.as_deref()).filter_map(|w| age_days(w, date)).min();
            match judged.iter().find(|(_, v)| *v != Compliance::Compliant) {
                Some((e, Compliance::GracePeriod)) => (false, format!("{} says noncompliant, in its grace period", e.mdm)),
                Some((e, v)) => (false, format!("{} says {}", e.mdm, v.as_str())),
                None => match age {
                    Some(d) if d <= max => (true, format!("compliant, checked in {d} days before")),
                    Some(d) => (false, format!("compliant at its last check-in, {d} days before (allowed {max}): no current verdict")),
                    None => (false, "compliant, but no check-in time: no current verdict".into()),
                },
            }
        }
        TestKind::RegisterMdmReconciled => {
            let mdm_only = a.flags.contains("not_in_register") && in_mdm(a);
            let register_only = deployed(a) && !in_mdm(a);
            if !(in_mdm(a) || deployed(a)) {
                return None;
            }
            if mdm_only {
                (false, "in an MDM, not in the register".into())
            } else if register_only {
                (false, "deployed in the register, in no MDM".into())
            } else {
                (true, "in the register and an MDM".into())
            }
        }
        TestKind::NoEnrollmentAfterDisposal => {
            if !matches!(a.lifecycle.as_deref(), Some("disposed" | "retired")) {
                return None;
            }
            match a.enrollments.iter().find(|e| e.state == "enrolled") {
                Some(e) => (false, format!("{} but still enrolled in {}", a.lifecycle.as_deref().unwrap_or(""), e.mdm)),
                None => (true, "no live MDM enrolment".into()),
            }
        }
        TestKind::DisposalSanitized => {
            let lifecycles = param_strings(c, "lifecycles");
            let lifecycles = if lifecycles.is_empty() { vec!["disposed".to_string()] } else { lifecycles };
            if a.register.is_empty() || !a.lifecycle.as_ref().is_some_and(|l| lifecycles.contains(l)) {
                return None;
            }
            let ok: Vec<_> = a.wipes.iter().filter(|w| w.result == "success").collect();
            let unwiped: Vec<&String> = a.drives.iter().filter(|d| !ok.iter().any(|w| &w.drive == *d)).collect();
            if ok.is_empty() {
                (false, "no passing sanitization or destruction record".into())
            } else if !unwiped.is_empty() && !ok.iter().any(|w| w.nist_category.as_deref() == Some("destroy")) {
                (false, format!("no passing record for drive(s) {}", unwiped.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")))
            } else {
                (true, format!("{} by {}", ok[0].nist_category.as_deref().unwrap_or("sanitized"), ok[0].tool))
            }
        }
        TestKind::ItadCertified => {
            let labels = param_strings(c, "lifecycle_labels");
            let label = a.status_label.as_deref().unwrap_or("");
            if a.register.is_empty() || !labels.iter().any(|l| label.starts_with(l.as_str())) {
                return None;
            }
            match a.wipes.iter().find(|w| w.tool == "itad_vendor") {
                Some(w) => (true, format!("on an ITAD certificate ({})", w.result)),
                None => (false, "handed to ITAD, on no vendor certificate line".into()),
            }
        }
        TestKind::LostEncrypted => {
            if a.lifecycle.as_deref() != Some("lost_stolen") {
                return None;
            }
            if !a.encryption.is_empty() && a.encryption.iter().all(|e| e.state == "encrypted") {
                (true, "encrypted at its last report".into())
            } else {
                (false, "not shown encrypted at its last report".into())
            }
        }
        TestKind::OsSupported => {
            let min = param_map(c, "minimum");
            let judged: Vec<_> = a.enrollments.iter().filter(|e| e.state == "enrolled").filter_map(|e| Some((e.platform.as_deref()?, e.os_version.as_deref()?))).filter(|(p, _)| min.contains_key(*p)).collect();
            if judged.is_empty() {
                return None;
            }
            let max = param_days(c, "max_checkin_age_days", 7);
            let age = a.enrollments.iter().filter(|e| e.state == "enrolled").filter_map(|e| e.last_checkin_at.as_deref()).filter_map(|w| age_days(w, date)).min();
            match judged.iter().find(|(p, v)| !version_at_least(v, &min[*p])) {
                Some((p, v)) => (false, format!("{p} {v} is below the minimum {}", min[*p])),
                None if age.is_none_or(|d| d > max) => (false, format!("{} {} reported {} days before (allowed {max}): not a current version", judged[0].0, judged[0].1, age.map_or("?".into(), |d| d.to_string()))),
                None => (true, format!("{} {}", judged[0].0, judged[0].1)),
            }
        }
        _ => return None,
    })
}

/// Every wipe in scope, judged one by one: a period's population is the events inside it; an
/// as-of date's, every event up to it.
fn wipe_events(views: &[AssetView], scope: &Scope, judge: &dyn Fn(&crate::view::Wiped) -> Option<(bool, String)>) -> Vec<Item> {
    let (start, end) = (scope.start(), scope.end());
    let mut out = Vec::new();
    for a in views {
        for w in &a.wipes {
            let when = w.completed_at.as_deref().and_then(|t| t.get(..10)).and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok());
            if when.is_some_and(|d| d > end || start.is_some_and(|s| d < s)) {
                continue;
            }
            let Some((pass, reason)) = judge(w) else { continue };
            out.push(Item {
                date: when.unwrap_or(end),
                item: format!("drive:{}", w.drive),
                asset_tag: a.asset_tag.clone(),
                outcome: if pass { Outcome::Pass } else { Outcome::Fail },
                reason,
                records: a.records.clone(),
            });
        }
    }
    out
}

/// Event tests over single wipes (each sanitization is one member of the population).
fn judge_wipes(c: &Loaded, views: &[AssetView], scope: &Scope) -> Vec<Item> {
    let min = param_map(c, "minimum");
    wipe_events(views, scope, &|w| {
        let media = w.media_type.as_deref().unwrap_or("unknown");
        let need = min.get(media).or_else(|| min.get("unknown")).map_or("purge", String::as_str);
        let got = w.nist_category.as_deref().unwrap_or("unknown");
        Some(if w.result != "success" {
            (false, format!("{} reported {} on drive {}", w.tool, w.result, w.drive))
        } else if category_rank(got) < category_rank(need) {
            (false, format!("{got} on {media} media; policy needs at least {need}"))
        } else {
            (true, format!("{got} on {media} media (policy: {need}), {}", w.tool))
        })
    })
}

/// RET-01: every leaver whose last day is in scope is one member of the population. Their
/// devices are the register's assets whose owner is the leaver's email, username or employee id,
/// on their last day or at the scope's end; each must be back (no longer assigned to
/// them) once the allowed days have passed, or marked lost with a wipe on record.
fn judge_leavers(c: &Loaded, views: &BTreeMap<NaiveDate, Vec<AssetView>>, inputs: &Inputs, scope: &Scope) -> Vec<Item> {
    let (leavers, before) = (inputs.leavers, inputs.on_last_day);
    let (start, end) = (scope.start(), scope.end());
    let days = param_days(c, "max_days_after_termination", 14);
    let empty = Vec::new();
    let at_end = views.get(&end).unwrap_or(&empty);
    let mut out = Vec::new();
    for l in leavers {
        let Ok(last_day) = NaiveDate::parse_from_str(&l.termination_date, "%Y-%m-%d") else { continue };
        if last_day > end || start.is_some_and(|s| last_day < s) {
            continue;
        }
        let ids: Vec<String> = [&l.email, &l.username, &l.employee_id].into_iter().flatten().map(|s| s.to_lowercase()).collect();
        let theirs = |a: &&AssetView| a.owner_ids.iter().any(|o| ids.contains(o)) || a.owner.as_ref().is_some_and(|o| ids.contains(&o.to_lowercase()));
        let due = last_day + chrono::Duration::days(days);
        let mut reasons = Vec::new();
        let mut pass = true;
        let mut records = vec![format!("{}:{}:{}", l.source, l.file_name, l.line)];
        let held: Vec<&AssetView> = at_end.iter().filter(theirs).collect();
        for a in &held {
            records.extend(a.records.iter().cloned());
            let name = a.asset_tag.clone().unwrap_or_else(|| a.key.clone());
            if a.lifecycle.as_deref() == Some("lost_stolen") {
                if a.wipes.iter().any(|w| w.result == "success") {
                    reasons.push(format!("{name} marked lost, wipe on record"));
                } else {
                    pass = false;
                    reasons.push(format!("{name} marked lost with no wipe on record"));
                }
            } else if end > due {
                pass = false;
                reasons.push(format!("{name} still assigned {} days after the last day (due {due})", (end - last_day).num_days()));
            } else {
                reasons.push(format!("{name} still assigned, due back by {due}"));
            }
        }
        // What they held on their last day (the register as ingested up to then) and gave back.
        let mut returned: BTreeSet<String> = BTreeSet::new();
        for a in before.range(..=last_day).next_back().map_or(&empty, |(_, v)| v).iter().filter(theirs) {
            if !held.iter().any(|h| h.key == a.key) {
                returned.insert(a.asset_tag.clone().unwrap_or_else(|| a.key.clone()));
            }
        }
        for r in &returned {
            reasons.push(format!("{r} no longer assigned by {end}"));
        }
        if held.is_empty() && returned.is_empty() {
            reasons.push(format!("no device assigned to them in the register on {last_day} or {end}"));
        }
        let who = l.email.clone().or_else(|| l.username.clone()).or_else(|| l.employee_id.clone()).unwrap_or_default();
        let mut seen = BTreeSet::new();
        records.retain(|r| seen.insert(r.clone()));
        out.push(Item {
            date: last_day,
            item: format!("leaver:{who}"),
            asset_tag: held.first().and_then(|a| a.asset_tag.clone()),
            outcome: if pass { Outcome::Pass } else { Outcome::Fail },
            reason: format!("left {last_day}: {}", reasons.join("; ")),
            records,
        });
    }
    out
}

fn tie_outs(store: &Store, end: NaiveDate) -> Result<Vec<TieOut>, crate::store::Error> {
    let end_text = end.format("%Y-%m-%d").to_string();
    let mut out = Vec::new();
    for i in store.ingests()? {
        if !i.live() || i.as_of.as_deref().is_some_and(|a| a.get(..10).is_some_and(|d| d > end_text.as_str())) {
            continue;
        }
        out.push(TieOut {
            records_stored: store.records_of(i.id)?,
            file: i.file_name,
            source: i.source,
            sha256: i.sha256,
            as_of: i.as_of,
            read: i.rows_read,
            accepted: i.rows_accepted,
            rejected: i.rows_rejected,
            empty: i.rows_empty,
        });
    }
    out.sort_by(|a, b| a.sha256.cmp(&b.sha256));
    Ok(out)
}

fn ipe_items(c: &Loaded, ties: &[TieOut], date: NaiveDate) -> Vec<Item> {
    let allow = c.control.params.get("allow_rejections").and_then(|v| v.as_bool()).unwrap_or(false);
    ties.iter()
        .map(|t| {
            let sums = t.read == t.accepted + t.rejected + t.empty;
            let (pass, reason) = if !sums {
                (false, format!("read {} ≠ accepted {} + rejected {} + empty {}", t.read, t.accepted, t.rejected, t.empty))
            } else if t.rejected > 0 && !allow {
                (false, format!("{} rows rejected: the population is incomplete", t.rejected))
            } else if t.accepted > 0 && t.records_stored == 0 {
                (false, "accepted rows, but no records stored".into())
            } else {
                (true, format!("read {} = accepted {} + rejected {} + empty {}; {} records stored", t.read, t.accepted, t.rejected, t.empty, t.records_stored))
            };
            Item { date, item: t.file.clone(), asset_tag: None, outcome: if pass { Outcome::Pass } else { Outcome::Fail }, reason, records: vec![format!("{}:{}", t.source, t.sha256)] }
        })
        .collect()
}

/// Runs every control of `lib` over the store for the request's scope.
pub fn evaluate(store: &Store, lib: &Library, req: &Request) -> Result<Evaluation, crate::store::Error> {
    let dates = sample_dates(&req.scope, req.cadence);
    let mut views: BTreeMap<NaiveDate, Vec<AssetView>> = BTreeMap::new();
    for d in &dates {
        views.insert(*d, crate::view::assets_until(store, &d.format("%Y-%m-%d").to_string())?);
    }
    let ties = tie_outs(store, req.scope.end())?;
    let (observations, withdrawn) = observations(store, req.scope.end())?;
    let certs = attestations(store)?;
    let leavers = store.leavers_until(&req.scope.end().format("%Y-%m-%d").to_string())?;
    // The register as it stood on each leaver's last day: what they had to give back. The view
    // only changes on the days ingests are dated, so it is built once per such day (keyed by it)
    // and a last day reads the newest one on or before it.
    let dated: BTreeSet<NaiveDate> = store.ingests()?.into_iter().filter_map(|i| i.as_of.and_then(|a| NaiveDate::parse_from_str(a.get(..10)?, "%Y-%m-%d").ok())).collect();
    let mut on_last_day: BTreeMap<NaiveDate, Vec<AssetView>> = BTreeMap::new();
    for l in &leavers {
        let Ok(d) = NaiveDate::parse_from_str(&l.termination_date, "%Y-%m-%d") else { continue };
        let day = dated.range(..=d).next_back().copied().unwrap_or(NaiveDate::MIN);
        if d <= req.scope.end() && !on_last_day.contains_key(&day) {
            on_last_day.insert(day, crate::view::assets_until(store, &l.termination_date)?);
        }
    }
    let mut ev = evaluate_views(lib, req, &views, ties, &Inputs { certs: &certs, leavers: &leavers, on_last_day: &on_last_day, observations: &observations });
    ev.withdrawn = withdrawn;
    Ok(ev)
}

/// Every live ingest as evidence of the kinds of record it holds; and the ingests dated up to
/// `end` that were superseded or retracted.
fn observations(store: &Store, end: NaiveDate) -> Result<(Vec<Observation>, Vec<Withdrawn>), crate::store::Error> {
    let ingests = store.ingests()?;
    let by_id: BTreeMap<i64, &crate::store::IngestRow> = ingests.iter().map(|i| (i.id, i)).collect();
    let mut out = Vec::new();
    for (id, table) in store.ingest_tables()? {
        let Some(i) = by_id.get(&id) else { continue };
        let kinds: &[Evidence] = match table {
            "asset" => &[Evidence::Register],
            "enrollment" => &[Evidence::Mdm],
            "encryption" => &[Evidence::Encryption],
            "wipe" => &[Evidence::Wipes],
            "leaver" => &[Evidence::Leavers],
            _ => &[],
        };
        for &kind in kinds {
            out.push(Observation { kind, file: i.file_name.clone(), sha256: i.sha256.clone(), as_of: i.as_of_date() });
        }
    }
    let withdrawn = ingests
        .iter()
        .filter(|i| !i.live() && i.as_of_date().is_none_or(|d| d <= end))
        .map(|i| Withdrawn {
            file: i.file_name.clone(),
            source: i.source.clone(),
            sha256: i.sha256.clone(),
            as_of: i.as_of.clone(),
            superseded_by: i.superseded_by.and_then(|n| by_id.get(&n)).map(|n| format!("{} (as of {})", n.file_name, n.as_of.as_deref().unwrap_or("undated"))),
            retracted: i.retracted.clone(),
        })
        .collect();
    Ok((out, withdrawn))
}

/// What the evaluation reads beside the per-asset views: signed certificates and leavers.
#[derive(Debug, Clone, Copy)]
pub struct Inputs<'a> {
    pub certs: &'a [Attestation],
    pub leavers: &'a [LeaverRow],
    /// The per-asset view as of each day an ingest is dated (and `NaiveDate::MIN`: undated only),
    /// for the days leavers left: a last day reads the newest key on or before it.
    pub on_last_day: &'a BTreeMap<NaiveDate, Vec<AssetView>>,
    /// Every live ingest as evidence: what was in force at each sample date.
    pub observations: &'a [Observation],
}

/// What DISP-03 needs of one certificate for one drive: are both signatures there and valid,
/// by two different keys. (Whether the keys are trusted is the auditor's `evident verify`.)
#[derive(Debug, Clone)]
pub struct Attestation {
    pub drive: String,
    pub certificate: String,
    pub signed: bool,
    pub countersigned: bool,
    pub independent: bool,
}

fn attestations(store: &Store) -> Result<Vec<Attestation>, crate::store::Error> {
    let mut out = Vec::new();
    for s in store.certificates()? {
        let Ok(c) = crate::certificate::Certificate::from_slice(&s.body) else { continue };
        let (checks, _) = crate::certificate::verify(&c, &crate::sign::TrustList::default());
        let ok = |code: &str| checks.iter().any(|k| k.code == code && k.ok);
        let hash_ok = ok("record-hash");
        let independent = !checks.iter().any(|k| k.code == "countersigner-not-independent");
        for m in &c.record.media {
            out.push(Attestation {
                drive: crate::model::serial::Serial::new(&m.serial, None).key,
                certificate: c.record.id.clone(),
                signed: hash_ok && ok("signature"),
                countersigned: hash_ok && ok("countersignature"),
                independent,
            });
        }
    }
    Ok(out)
}

/// DISP-03: every successful sanitization in scope has a certificate, signed and countersigned
/// by two different keys.
fn judge_attested(views: &[AssetView], scope: &Scope, certs: &[Attestation]) -> Vec<Item> {
    wipe_events(views, scope, &|w| {
        if w.result != "success" {
            return None;
        }
        let mine: Vec<&Attestation> = certs.iter().filter(|c| c.drive == w.drive).collect();
        let best = mine.iter().find(|c| c.signed && c.countersigned && c.independent).or(mine.first());
        Some(match best {
            None => (false, format!("drive {} has no certificate of sanitization", w.drive)),
            Some(c) if c.signed && c.countersigned && c.independent => (true, format!("certificate {} signed and countersigned", c.certificate)),
            Some(c) if !c.signed => (false, format!("certificate {} has no valid performer signature", c.certificate)),
            Some(c) if !c.countersigned => (false, format!("certificate {} has no valid countersignature", c.certificate)),
            Some(c) => (false, format!("certificate {} was countersigned with the performer's own key", c.certificate)),
        })
    })
}

/// The evaluation itself, on the joined view at each sample date (a pure function: the
/// property tests drive it with generated fleets).
pub fn evaluate_views(lib: &Library, req: &Request, views: &BTreeMap<NaiveDate, Vec<AssetView>>, ties: Vec<TieOut>, inputs: &Inputs) -> Evaluation {
    let certs = inputs.certs;
    let dates: Vec<NaiveDate> = views.keys().copied().collect();
    let end = req.scope.end();
    let empty = Vec::new();
    let at_end = views.get(&end).unwrap_or(&empty);
    let mut used = vec![false; req.exceptions.len()];
    let mut controls = Vec::new();
    for c in &lib.controls {
        let test = c.control.test;
        // State controls at every sample date; event and data controls once, at the end.
        let special = matches!(test, TestKind::IpeTieOut | TestKind::SanitizationMethod | TestKind::CertificateCountersigned | TestKind::LeaverDevicesReturned);
        let at: Vec<NaiveDate> = if c.control.kind == Kind::State && !special { dates.clone() } else { vec![end] };
        let max_age = param_days(c, "max_evidence_age_days", 35);
        let checks: BTreeMap<NaiveDate, Check> = at
            .iter()
            .map(|d| {
                let mut ch = evidence::check(inputs.observations, evidence::needs(test), *d, max_age);
                ch.missing.extend(evidence::missing_always(test).map(String::from));
                // Certificates are made in evident, not ingested: none at all is a missing input.
                if test == TestKind::CertificateCountersigned && certs.is_empty() {
                    ch.missing.push("no certificate of sanitization is in the store (`evident certificate new`, docs/certificates.md)".into());
                }
                (*d, ch)
            })
            .collect();
        let in_force = |d: &NaiveDate| checks.get(d).is_some_and(|ch| ch.missing.is_empty());
        let mut items: Vec<Item> = Vec::new();
        let mut out_of_scope = 0;
        match test {
            _ if !in_force(&end) && at.len() == 1 => {}
            TestKind::IpeTieOut => items = ipe_items(c, &ties, end),
            TestKind::SanitizationMethod => items = judge_wipes(c, at_end, &req.scope),
            TestKind::CertificateCountersigned => items = judge_attested(at_end, &req.scope, certs),
            TestKind::LeaverDevicesReturned => items = judge_leavers(c, views, inputs, &req.scope),
            _ => {
                let owned = param_strings(c, "ownership");
                let owned = if owned.is_empty() { vec!["corporate".to_string(), "unknown".to_string()] } else { owned };
                for d in at.iter().filter(|d| in_force(d)) {
                    for a in views.get(d).unwrap_or(&empty) {
                        let Some((pass, reason)) = judge(c, a, *d) else { continue };
                        if !owned.contains(&a.ownership.clone().unwrap_or_else(|| "unknown".into())) {
                            out_of_scope += 1;
                            continue;
                        }
                        items.push(Item { date: *d, item: a.key.clone(), asset_tag: a.asset_tag.clone(), outcome: if pass { Outcome::Pass } else { Outcome::Fail }, reason, records: a.records.clone() });
                    }
                }
            }
        }
        let exceptions = apply_exceptions(&c.control.id, &mut items, req.exceptions, &mut used);
        let count = |o: Outcome, d: Option<NaiveDate>| items.iter().filter(|i| i.outcome == o && d.is_none_or(|d| i.date == d)).count();
        let (passed, failed, excepted) = (count(Outcome::Pass, None), count(Outcome::Fail, None), count(Outcome::Excepted, None));
        let per_date: Vec<DateResult> = checks
            .iter()
            .map(|(d, ch)| {
                // Event and data controls have one date: every item (events carry their own dates).
                let only = (at.len() > 1).then_some(*d);
                let (p, f, e) = (count(Outcome::Pass, only), count(Outcome::Fail, only), count(Outcome::Excepted, only));
                let status = if !ch.missing.is_empty() {
                    Status::NoEvidence
                } else if f > 0 {
                    Status::Fail
                } else if p + e > 0 {
                    Status::Pass
                } else {
                    Status::NotApplicable
                };
                DateResult { date: *d, status, population: p + f + e, passed: p, failed: f, excepted: e, evidence: ch.in_force.clone(), missing: ch.missing.clone() }
            })
            .collect();
        let expired = exceptions.iter().any(|d| d.disposition == "expired");
        let no_evidence: Vec<String> = per_date.iter().filter(|d| d.status == Status::NoEvidence).map(|d| format!("{}: {}", d.date, d.missing.join("; "))).collect();
        let status = if failed > 0 || expired {
            Status::Fail
        } else if !no_evidence.is_empty() {
            Status::NoEvidence
        } else if items.is_empty() {
            Status::NotApplicable
        } else {
            Status::Pass
        };
        let note = match status {
            _ if !no_evidence.is_empty() => Some(format!("no evidence in force at {} of {} sample dates — {}", no_evidence.len(), per_date.len(), no_evidence.join(" | "))),
            Status::NotApplicable if out_of_scope > 0 => Some(format!("evidence in force; the population is empty ({out_of_scope} devices out of scope by ownership)")),
            Status::NotApplicable => Some("evidence in force; the population is empty at every sample date".to_string()),
            _ => None,
        };
        controls.push(ControlResult {
            id: c.control.id.clone(),
            version: c.control.version,
            title: c.control.title.clone(),
            test,
            kind: c.control.kind,
            file: c.file.clone(),
            sha256: c.sha256.clone(),
            status,
            note,
            params: c.control.params.clone(),
            population: items.len(),
            passed,
            failed,
            excepted,
            out_of_scope,
            dates: per_date,
            items,
            exceptions,
        });
    }
    let unused_exceptions = req.exceptions.iter().zip(&used).filter(|(_, u)| !**u).map(|(e, _)| e.clone()).collect();
    Evaluation { organisation: req.organisation.clone(), scope: req.scope.clone(), sample_dates: dates, controls, tie_out: ties, withdrawn: Vec::new(), unused_exceptions }
}

fn matches_item(e: &Exception, i: &Item) -> bool {
    let want = e.item.trim();
    i.item.eq_ignore_ascii_case(want) || i.asset_tag.as_deref().is_some_and(|t| t.eq_ignore_ascii_case(want))
}

/// An exception covers a failing item whose date is inside its window (`valid_from` to
/// `expires`, both included): each sample date is judged on its own, so an exception that ran out
/// on 09-30 covers 09-30 and fails 10-31.
fn apply_exceptions(control: &str, items: &mut [Item], exceptions: &[Exception], used: &mut [bool]) -> Vec<Disposition> {
    let mut out = Vec::new();
    for (k, e) in exceptions.iter().enumerate() {
        if !e.control.eq_ignore_ascii_case(control) {
            continue;
        }
        let hits: Vec<usize> = items.iter().enumerate().filter(|(_, i)| i.outcome == Outcome::Fail && matches_item(e, i)).map(|(n, _)| n).collect();
        if hits.is_empty() {
            continue;
        }
        used[k] = true;
        let (mut applied, mut expired, mut early) = (false, false, false);
        for n in hits {
            let date = items[n].date;
            if date > e.expires {
                expired = true;
                items[n].reason = format!("{} — exception expired on {}", items[n].reason, e.expires);
            } else if e.valid_from.is_some_and(|f| date < f) {
                early = true;
                items[n].reason = format!("{} — exception valid only from {}", items[n].reason, e.valid_from.expect("checked"));
            } else {
                applied = true;
                items[n].outcome = Outcome::Excepted;
                items[n].reason = format!("{} — excepted until {} ({}; approved by {})", items[n].reason, e.expires, e.reason, e.approved_by);
            }
        }
        for (on, disposition) in [(applied, "applied"), (expired, "expired"), (early, "not_yet_valid")] {
            if on {
                out.push(Disposition { exception: e.clone(), disposition });
            }
        }
    }
    out
}

/// The results regrouped by the items of one framework catalog.
pub fn by_framework(ev: &Evaluation, lib: &Library, framework: &str) -> Option<Vec<Criterion>> {
    let cat = lib.catalogs.get(framework)?;
    let status_of: BTreeMap<&str, Status> = ev.controls.iter().map(|c| (c.id.as_str(), c.status)).collect();
    let mut out = Vec::new();
    for it in &cat.items {
        let mut controls = Vec::new();
        for l in &lib.controls {
            for m in l.control.maps.iter().filter(|m| m.framework == framework && m.id == it.id) {
                controls.push(CriterionControl {
                    id: l.control.id.clone(),
                    status: status_of.get(l.control.id.as_str()).copied().unwrap_or(Status::NotApplicable),
                    relationship: m.relationship,
                    confidence: m.confidence,
                    pof: m.pof.clone(),
                });
            }
        }
        let any = |s: Status| controls.iter().any(|c| c.status == s);
        // A criterion one of whose controls had no evidence is not shown as passing.
        let status = if any(Status::Fail) {
            "fail"
        } else if any(Status::NoEvidence) {
            "no_evidence"
        } else if any(Status::Pass) {
            "pass"
        } else {
            "uncovered"
        };
        out.push(Criterion { id: it.id.clone(), title: it.title.clone(), legacy: it.legacy.clone(), status, controls });
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::view::{Encrypted, Enrolled, Wiped};
    use proptest::prelude::*;
    use std::collections::BTreeSet;

    const LIFECYCLES: [&str; 6] = ["deployed", "in_stock", "retired", "disposed", "lost_stolen", "unknown"];

    fn asset(i: usize, lc: usize, enrolled: u8, enc: u8, wiped: u8, flag: u8, age: i64) -> AssetView {
        let as_of = NaiveDate::from_ymd_opt(2026, 10, 31).unwrap();
        let checkin = (as_of - chrono::Days::new(age as u64)).format("%Y-%m-%dT12:00:00Z").to_string();
        let mut flags = BTreeSet::new();
        match flag {
            1 => {
                flags.insert("duplicate_serial:snipeit_csv".to_string());
            }
            2 => {
                flags.insert("serial_placeholder".to_string());
            }
            _ => {}
        }
        AssetView {
            key: format!("SN{i:06}"),
            asset_tag: Some(format!("T-{i}")),
            name: None,
            model: None,
            lifecycle: Some(LIFECYCLES[lc].into()),
            status_label: Some("Ready to Deploy".into()),
            owner: (i % 5 != 0).then(|| format!("u{i}@x.example")),
            owner_ids: Vec::new(),
            ownership: None,
            sources: BTreeSet::new(),
            register: vec![format!("snipeit_csv:r.csv:{i}")],
            enrollments: match enrolled {
                0 => vec![],
                e => vec![Enrolled {
                    mdm: "intune".into(),
                    state: if e == 1 { "enrolled".into() } else { "unenrolled".into() },
                    last_checkin_at: Some(checkin),
                    compliance: Some(if e == 3 { "noncompliant".into() } else { "compliant".into() }),
                    platform: Some("windows".into()),
                    os_version: Some("10.0.22631".into()),
                }],
            },
            encryption: match enc {
                0 => vec![],
                e => vec![Encrypted { source: "intune_graph".into(), scope: "os".into(), volume: None, state: if e == 1 { "encrypted".into() } else { "not_encrypted".into() }, recovery_key: Some("escrowed".into()) }],
            },
            drives: BTreeSet::new(),
            wipes: match wiped {
                0 => vec![],
                w => vec![Wiped { drive: format!("D{i}"), tool: "nwipe".into(), method: None, result: if w == 1 { "success".into() } else { "failed".into() }, nist_category: Some("purge".into()), completed_at: Some("2026-09-01T00:00:00Z".into()), media_type: Some("ssd".into()) }],
            },
            flags,
            records: vec![format!("snipeit_csv:r.csv:{i}")],
        }
    }

    fn compliant(i: usize) -> AssetView {
        asset(i, 0, 1, 1, 0, 0, 1)
    }

    fn run(views: Vec<AssetView>) -> Evaluation {
        let lib = Library::builtin();
        let scope = Scope::AsOf { date: NaiveDate::from_ymd_opt(2026, 10, 31).unwrap() };
        let req = Request { organisation: None, scope: scope.clone(), cadence: Cadence::Monthly, exceptions: &[] };
        let fresh = |kind| Observation { kind, file: "x".into(), sha256: "00".repeat(32), as_of: Some(scope.end()) };
        let observations = [Evidence::Register, Evidence::Mdm, Evidence::Encryption, Evidence::Wipes, Evidence::Leavers].map(fresh);
        evaluate_views(&lib, &req, &BTreeMap::from([(scope.end(), views)]), Vec::new(), &Inputs { certs: &[], leavers: &[], on_last_day: &BTreeMap::new(), observations: &observations })
    }

    /// Which assets a test is about, restated from the controls' definitions.
    fn in_scope(test: TestKind, a: &AssetView) -> usize {
        let lc = a.lifecycle.as_deref().unwrap_or("");
        let enrolled = a.enrollments.iter().any(|e| e.state == "enrolled");
        match test {
            TestKind::InventoryFields => matches!(lc, "deployed" | "in_stock") as usize,
            TestKind::InventoryUnique => 1,
            TestKind::DiskEncrypted => (lc == "deployed" && !a.enrollments.is_empty()) as usize,
            TestKind::RecoveryKeyEscrowed => (lc == "deployed" && a.encryption.iter().any(|e| e.state == "encrypted")) as usize,
            TestKind::MdmEnrolled => (lc == "deployed") as usize,
            TestKind::MdmCompliant => enrolled as usize,
            TestKind::RegisterMdmReconciled => (lc == "deployed" || !a.enrollments.is_empty()) as usize,
            TestKind::NoEnrollmentAfterDisposal => matches!(lc, "disposed" | "retired") as usize,
            TestKind::DisposalSanitized => (lc == "disposed") as usize,
            TestKind::SanitizationMethod => a.wipes.len(),
            TestKind::LostEncrypted => (lc == "lost_stolen") as usize,
            TestKind::OsSupported => enrolled as usize,
            // No certificate in the store (these runs have none): no evidence, no population.
            TestKind::ItadCertified | TestKind::IpeTieOut | TestKind::LeaverDevicesReturned | TestKind::CertificateCountersigned | TestKind::ReissueWiped => 0,
        }
    }

    fn fleet() -> impl Strategy<Value = Vec<AssetView>> {
        proptest::collection::vec((0usize..6, 0u8..4, 0u8..3, 0u8..3, 0u8..3, 0i64..20), 0..30)
            .prop_map(|v| v.into_iter().enumerate().map(|(i, (lc, en, enc, w, f, age))| asset(i, lc, en, enc, w, f, age)).collect())
    }

    #[test]
    fn a_fleet_of_compliant_devices_passes_every_applicable_control() {
        let ev = run((0..5).map(|i| compliant(i * 5 + 1)).collect());
        for c in &ev.controls {
            assert_ne!(c.status, Status::Fail, "{}: {:?}", c.id, c.items.iter().find(|i| i.outcome == Outcome::Fail));
        }
        assert_eq!(ev.controls.iter().find(|c| c.id == "ENC-01").unwrap().status, Status::Pass);
    }

    proptest! {
        #[test]
        fn adding_a_compliant_asset_never_turns_a_pass_into_a_fail(views in fleet()) {
            let before = run(views.clone());
            let mut more = views;
            more.push(compliant(999_999));
            let after = run(more);
            for (b, a) in before.controls.iter().zip(&after.controls) {
                prop_assert!(!(b.status == Status::Pass && a.status == Status::Fail), "{} went from pass to fail", b.id);
            }
        }

        #[test]
        fn the_population_is_exactly_the_in_scope_items(views in fleet()) {
            let ev = run(views.clone());
            for c in &ev.controls {
                let want: usize = views.iter().map(|a| in_scope(c.test, a)).sum();
                prop_assert_eq!(c.population, want, "{}", c.id);
                prop_assert_eq!(c.passed + c.failed + c.excepted, c.population, "{}", c.id);
            }
        }
    }

    #[test]
    fn period_sample_dates_end_each_month_and_the_period() {
        let s = Scope::Period { from: NaiveDate::from_ymd_opt(2026, 1, 15).unwrap(), to: NaiveDate::from_ymd_opt(2026, 3, 20).unwrap() };
        let d: Vec<String> = sample_dates(&s, Cadence::Monthly).iter().map(|d| d.to_string()).collect();
        assert_eq!(d, ["2026-01-31", "2026-02-28", "2026-03-20"]);
    }
}
