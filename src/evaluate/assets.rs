//! State tests over one device at one sample date: who is in each population and what its
//! verdict is. One function per test; the event, leaver and tie-out tests are in `events` and
//! `tie_out`.

use super::Verdict;
use crate::controls::Loaded;
use crate::controls::schema::{TestKind, TestParams};
use crate::model::{Compliance, EncryptionState, EnrollmentState, Instant, Lifecycle, NistCategory, RecoveryKey, WipeResult, WipeTool};
use crate::view::AssetView;
use chrono::NaiveDate;

/// The verdict for one device under one device test; None = not in the population (or a test
/// whose population is not devices).
pub(super) fn judge(c: &Loaded, a: &AssetView, date: NaiveDate) -> Option<Verdict> {
    use TestKind::*;
    match c.control.test {
        InventoryFields => inventory_fields(c, a, date),
        InventoryUnique => inventory_unique(c, a, date),
        DiskEncrypted => disk_encrypted(c, a, date),
        RecoveryKeyEscrowed => recovery_key_escrowed(c, a, date),
        MdmEnrolled => mdm_enrolled(c, a, date),
        MdmCompliant => mdm_compliant(c, a, date),
        RegisterMdmReconciled => register_mdm_reconciled(c, a, date),
        NoEnrollmentAfterDisposal => no_enrollment_after_disposal(c, a, date),
        DisposalSanitized => disposal_sanitized(c, a, date),
        ItadCertified => itad_certified(c, a, date),
        LostEncrypted => lost_encrypted(c, a, date),
        OsSupported => os_supported(c, a, date),
        // Judged over events, leavers or the ingests themselves (events.rs, tie_out.rs), or not
        // at all (no supported export carries an assignment history).
        IpeTieOut | SanitizationMethod | CertificateCountersigned | LeaverDevicesReturned | ReissueWiped => None,
    }
}

/// In-service register assets: a usable serial, a known lifecycle and, when deployed, an owner.
fn inventory_fields(c: &Loaded, a: &AssetView, _date: NaiveDate) -> Option<Verdict> {
    Some({
        if !in_service(a) {
            return None;
        }
        let TestParams::InventoryFields { require_owner_when_deployed: require_owner } = c.params.test else { return None };
        let mut missing = Vec::new();
        if !usable_serial(a) {
            missing.push(format!("usable serial ({})", a.flags.iter().find(|f| f.starts_with("serial_")).map_or("none", |f| f.as_str())));
        }
        if a.lifecycle == Some(Lifecycle::Unknown) {
            missing.push("known lifecycle state".into());
        }
        if require_owner && deployed(a) && a.owner.is_none() {
            missing.push("owner".into());
        }
        if missing.is_empty() { Verdict::pass("serial, lifecycle and owner present") } else { Verdict::fail(format!("missing: {}", missing.join(", "))) }
    })
}

/// Register assets: the serial is on one register record only.
fn inventory_unique(_c: &Loaded, a: &AssetView, _date: NaiveDate) -> Option<Verdict> {
    Some({
        if a.register.is_empty() {
            return None;
        }
        match a.flags.iter().find(|f| f.starts_with("duplicate_serial")) {
            Some(f) => Verdict::fail(format!("serial {} is on {} register records ({f})", a.key, a.register.len())),
            None => Verdict::pass("serial is unique"),
        }
    })
}

/// Deployed assets an MDM knows: every applicable volume encrypted, in a recent report.
fn disk_encrypted(c: &Loaded, a: &AssetView, date: NaiveDate) -> Option<Verdict> {
    Some({
        // Devices no MDM knows are MDM-01's and REC-01's exceptions, not this control's.
        if !deployed(a) || !in_mdm(a) {
            return None;
        }
        let TestParams::DiskEncrypted { max_report_age_days: max } = c.params.test else { return None };
        let fresh = a.enrollments.iter().filter_map(|e| e.last_checkin_at.as_ref()).map(|w| age_days(w, date)).min();
        // "Not applicable" (an iPad's FileVault, a sealed APFS system volume) is neither a
        // pass nor a failure; a device with nothing else is outside this control.
        let applicable: Vec<_> = a.encryption.iter().filter(|e| e.state != EncryptionState::NotApplicable).collect();
        if a.encryption.is_empty() {
            Verdict::fail("no encryption report for this device")
        } else if applicable.is_empty() {
            return None;
        } else if let Some(bad) = applicable.iter().find(|e| e.state != EncryptionState::Encrypted) {
            Verdict::fail(format!("{} volume {} is {}", bad.source, bad.volume.as_deref().unwrap_or("(system)"), bad.state))
        } else if fresh.is_none_or(|d| d > max) {
            Verdict::fail(format!("encrypted, but the newest report is {} days old (allowed {max})", fresh.map_or("?".into(), |d| d.to_string())))
        } else {
            Verdict::pass(format!("all volumes encrypted, report {} days old", fresh.unwrap_or(0)))
        }
    })
}

/// Deployed assets with an encrypted volume whose source reports escrow: the key is escrowed.
fn recovery_key_escrowed(_c: &Loaded, a: &AssetView, _date: NaiveDate) -> Option<Verdict> {
    Some({
        let relevant: Vec<_> = a
            .encryption
            .iter()
            .filter(|e| {
                e.state == EncryptionState::Encrypted
                    && matches!(e.recovery_key, Some(RecoveryKey::EscrowedValid | RecoveryKey::Escrowed | RecoveryKey::Invalid | RecoveryKey::NotEscrowed))
            })
            .collect();
        if !deployed(a) || relevant.is_empty() {
            return None;
        }
        match relevant.iter().find(|e| matches!(e.recovery_key, Some(RecoveryKey::Invalid | RecoveryKey::NotEscrowed))) {
            Some(e) => Verdict::fail(format!("recovery key {}", e.recovery_key.map_or("?", |k| k.as_str()).replace('_', " "))),
            None => Verdict::pass("recovery key escrowed"),
        }
    })
}

/// Deployed register assets: enrolled in an MDM and checked in recently.
fn mdm_enrolled(c: &Loaded, a: &AssetView, date: NaiveDate) -> Option<Verdict> {
    Some({
        if !deployed(a) {
            return None;
        }
        let TestParams::MdmEnrolled { max_checkin_age_days: max } = c.params.test else { return None };
        let enrolled: Vec<_> = a.enrollments.iter().filter(|e| e.state == EnrollmentState::Enrolled).collect();
        if enrolled.is_empty() {
            return Some(Verdict::fail(if a.enrollments.is_empty() { "not enrolled in any MDM" } else { "known to the MDM, but not enrolled" }));
        }
        let age = enrolled.iter().filter_map(|e| e.last_checkin_at.as_ref()).map(|w| age_days(w, date)).min();
        match age {
            Some(d) if d <= max => Verdict::pass(format!("enrolled in {}, checked in {d} days before", enrolled[0].mdm)),
            Some(d) => Verdict::fail(format!("enrolled, but last check-in {d} days before (allowed {max})")),
            None => Verdict::fail("enrolled, but no check-in time"),
        }
    })
}

/// Enrolled devices with a compliance verdict (a grace period is one): compliant, and current.
fn mdm_compliant(c: &Loaded, a: &AssetView, date: NaiveDate) -> Option<Verdict> {
    Some({
        // Typed: a device in its grace period is judged (and not yet compliant); "not
        // evaluated" and "unknown" are no verdict at all.
        let judged: Vec<(&crate::view::Enrolled, Compliance)> = a
            .enrollments
            .iter()
            .filter(|e| e.state == EnrollmentState::Enrolled)
            .filter_map(|e| Some((e, e.compliance?)))
            .filter(|(_, v)| matches!(v, Compliance::Compliant | Compliance::Noncompliant | Compliance::GracePeriod))
            .collect();
        if judged.is_empty() {
            return None;
        }
        let TestParams::MdmCompliant { max_checkin_age_days: max } = c.params.test else { return None };
        let age = judged.iter().filter_map(|(e, _)| e.last_checkin_at.as_ref()).map(|w| age_days(w, date)).min();
        match judged.iter().find(|(_, v)| *v != Compliance::Compliant) {
            Some((e, Compliance::GracePeriod)) => Verdict::fail(format!("{} says noncompliant, in its grace period", e.mdm)),
            Some((e, v)) => Verdict::fail(format!("{} says {}", e.mdm, v.as_str())),
            None => match age {
                Some(d) if d <= max => Verdict::pass(format!("compliant, checked in {d} days before")),
                Some(d) => Verdict::fail(format!("compliant at its last check-in, {d} days before (allowed {max}): no current verdict")),
                None => Verdict::fail("compliant, but no check-in time: no current verdict"),
            },
        }
    })
}

/// Devices in an MDM and deployed register assets: in both.
fn register_mdm_reconciled(_c: &Loaded, a: &AssetView, _date: NaiveDate) -> Option<Verdict> {
    Some({
        let mdm_only = a.flags.contains("not_in_register") && in_mdm(a);
        let register_only = deployed(a) && !in_mdm(a);
        if !(in_mdm(a) || deployed(a)) {
            return None;
        }
        if mdm_only {
            Verdict::fail("in an MDM, not in the register")
        } else if register_only {
            Verdict::fail("deployed in the register, in no MDM")
        } else {
            Verdict::pass("in the register and an MDM")
        }
    })
}

/// Disposed or retired register assets: no live MDM enrolment.
fn no_enrollment_after_disposal(_c: &Loaded, a: &AssetView, _date: NaiveDate) -> Option<Verdict> {
    Some({
        if !matches!(a.lifecycle, Some(Lifecycle::Disposed | Lifecycle::Retired)) {
            return None;
        }
        match a.enrollments.iter().find(|e| e.state == EnrollmentState::Enrolled) {
            Some(e) => Verdict::fail(format!("{} but still enrolled in {}", a.lifecycle.map_or("", |l| l.as_str()), e.mdm)),
            None => Verdict::pass("no live MDM enrolment"),
        }
    })
}

/// Register assets in a disposal lifecycle: a passing wipe or destruction record for every drive.
fn disposal_sanitized(c: &Loaded, a: &AssetView, _date: NaiveDate) -> Option<Verdict> {
    Some({
        let TestParams::DisposalSanitized { lifecycles } = &c.params.test else { return None };
        if a.register.is_empty() || !a.lifecycle.is_some_and(|l| lifecycles.iter().any(|x| x == l.as_str())) {
            return None;
        }
        let ok: Vec<_> = a.wipes.iter().filter(|w| w.result == WipeResult::Success).collect();
        let unwiped: Vec<&String> = a.drives.iter().filter(|d| !ok.iter().any(|w| &w.drive == *d)).collect();
        if ok.is_empty() {
            Verdict::fail("no passing sanitization or destruction record")
        } else if !unwiped.is_empty() && !ok.iter().any(|w| w.nist_category == Some(NistCategory::Destroy)) {
            Verdict::fail(format!("no passing record for drive(s) {}", unwiped.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")))
        } else {
            Verdict::pass(format!("{} by {}", ok[0].nist_category.map_or("sanitized", |c| c.as_str()), ok[0].tool))
        }
    })
}

/// Register assets handed to an ITAD vendor: on one of its certificate lines.
fn itad_certified(c: &Loaded, a: &AssetView, _date: NaiveDate) -> Option<Verdict> {
    Some({
        let TestParams::ItadCertified { lifecycle_labels: labels } = &c.params.test else { return None };
        let label = a.status_label.as_deref().unwrap_or("");
        if a.register.is_empty() || !labels.iter().any(|l| label.starts_with(l.as_str())) {
            return None;
        }
        match a.wipes.iter().find(|w| w.tool == WipeTool::ItadVendor) {
            Some(w) => Verdict::pass(format!("on an ITAD certificate ({})", w.result)),
            None => Verdict::fail("handed to ITAD, on no vendor certificate line"),
        }
    })
}

/// Lost or stolen register assets: encrypted at their last report.
fn lost_encrypted(_c: &Loaded, a: &AssetView, _date: NaiveDate) -> Option<Verdict> {
    Some({
        if a.lifecycle != Some(Lifecycle::LostStolen) {
            return None;
        }
        if !a.encryption.is_empty() && a.encryption.iter().all(|e| e.state == EncryptionState::Encrypted) {
            Verdict::pass("encrypted at its last report")
        } else {
            Verdict::fail("not shown encrypted at its last report")
        }
    })
}

/// Enrolled devices of a platform with a minimum: at or above it, in a recent report.
fn os_supported(c: &Loaded, a: &AssetView, date: NaiveDate) -> Option<Verdict> {
    Some({
        let TestParams::OsSupported { minimum: min, max_checkin_age_days: max } = &c.params.test else { return None };
        let max = *max;
        let judged: Vec<_> = a
            .enrollments
            .iter()
            .filter(|e| e.state == EnrollmentState::Enrolled)
            .filter_map(|e| Some((e.platform?.as_str(), e.os_version.as_deref()?)))
            .filter(|(p, _)| min.contains_key(*p))
            .collect();
        if judged.is_empty() {
            return None;
        }
        let age =
            a.enrollments.iter().filter(|e| e.state == EnrollmentState::Enrolled).filter_map(|e| e.last_checkin_at.as_ref()).map(|w| age_days(w, date)).min();
        match judged.iter().find(|(p, v)| !version_at_least(v, &min[*p])) {
            Some((p, v)) => Verdict::fail(format!("{p} {v} is below the minimum {}", min[*p])),
            None if age.is_none_or(|d| d > max) => Verdict::fail(format!(
                "{} {} reported {} days before (allowed {max}): not a current version",
                judged[0].0,
                judged[0].1,
                age.map_or("?".into(), |d| d.to_string())
            )),
            None => Verdict::pass(format!("{} {}", judged[0].0, judged[0].1)),
        }
    })
}

pub(super) fn in_service(a: &AssetView) -> bool {
    !a.register.is_empty()
        && matches!(a.lifecycle, Some(Lifecycle::Deployed | Lifecycle::InStock | Lifecycle::Pending | Lifecycle::InRepair | Lifecycle::OnOrder))
}

pub(super) fn deployed(a: &AssetView) -> bool {
    !a.register.is_empty() && a.lifecycle == Some(Lifecycle::Deployed)
}

pub(super) fn in_mdm(a: &AssetView) -> bool {
    !a.enrollments.is_empty()
}

pub(super) fn usable_serial(a: &AssetView) -> bool {
    a.key.kind() == crate::view::KeyKind::Serial && !a.flags.iter().any(|f| f.starts_with("serial_"))
}

/// Whole days from a time to the end of `date` (UTC).
pub(super) fn age_days(when: &Instant, date: NaiveDate) -> i64 {
    let end = date.and_hms_opt(23, 59, 59).expect("a valid time").and_utc();
    (end - *when).num_days()
}

/// Compares dotted version strings numerically (15.6.1 ≥ 14.0).
pub(super) fn version_at_least(have: &str, min: &str) -> bool {
    let parse = |s: &str| s.split(['.', ' ', '-']).map(|p| p.parse::<u64>().unwrap_or(0)).collect::<Vec<_>>();
    let (mut a, mut b) = (parse(have), parse(min));
    let n = a.len().max(b.len());
    a.resize(n, 0);
    b.resize(n, 0);
    a >= b
}

pub(super) fn category_rank(c: NistCategory) -> u8 {
    match c {
        NistCategory::Clear => 1,
        NistCategory::Purge => 2,
        NistCategory::Destroy => 3,
        NistCategory::Unknown => 0,
    }
}
