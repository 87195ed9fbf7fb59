//! Event tests: every wipe in scope (DISP-02), every successful sanitization's certificate
//! (DISP-03), every leaver whose last day is in scope (RET-01). Each event is one member of the
//! population, dated by the event itself.

use super::assets::category_rank;
use super::{Inputs, Item, Outcome, Verdict};
use crate::controls::Loaded;
use crate::controls::schema::TestParams;
use crate::ledger::Scope;
use crate::model::{Lifecycle, NistCategory, WipeResult};
use crate::store::Store;
use crate::view::{AssetView, ItemKey, KeyKind};
use chrono::NaiveDate;
use std::collections::{BTreeMap, BTreeSet};

/// Every wipe in scope, judged one by one: a period's population is the events inside it; an
/// as-of date's, every event up to it.
pub(super) fn wipe_events(views: &[AssetView], scope: &Scope, judge: &dyn Fn(&crate::view::Wiped) -> Option<Verdict>) -> Vec<Item> {
    let (start, end) = (scope.start(), scope.end());
    let mut out = Vec::new();
    for a in views {
        for w in &a.wipes {
            let when = w.completed_at.map(|t| t.date_naive());
            if when.is_some_and(|d| d > end || start.is_some_and(|s| d < s)) {
                continue;
            }
            let Some(Verdict { pass, reason }) = judge(w) else { continue };
            out.push(Item {
                date: when.unwrap_or(end),
                item: ItemKey::new(KeyKind::Drive, &w.drive),
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
pub(super) fn judge_wipes(c: &Loaded, views: &[AssetView], scope: &Scope) -> Vec<Item> {
    let empty = std::collections::BTreeMap::new();
    let min = match &c.params.test {
        TestParams::SanitizationMethod { minimum } => minimum,
        _ => &empty,
    };
    wipe_events(views, scope, &|w| {
        let media = w.media_type.map_or("unknown", |m| m.as_str());
        let need = min.get(media).or_else(|| min.get("unknown")).map_or("purge", String::as_str);
        let got = w.nist_category.unwrap_or(NistCategory::Unknown);
        Some(if w.result != WipeResult::Success {
            Verdict::fail(format!("{} reported {} on drive {}", w.tool, w.result, w.drive))
        } else if category_rank(got) < NistCategory::parse(need).map_or(0, category_rank) {
            Verdict::fail(format!("{got} on {media} media; policy needs at least {need}"))
        } else {
            Verdict::pass(format!("{got} on {media} media (policy: {need}), {}", w.tool))
        })
    })
}

/// RET-01: every leaver whose last day is in scope is one member of the population. Their
/// devices are the register's assets whose owner is the leaver's email, username or employee id,
/// on their last day or at the scope's end; each must be back (no longer assigned to
/// them) once the allowed days have passed, or marked lost with a wipe on record.
pub(super) fn judge_leavers(c: &Loaded, views: &BTreeMap<NaiveDate, Vec<AssetView>>, inputs: &Inputs, scope: &Scope) -> Vec<Item> {
    let (leavers, before) = (inputs.leavers, inputs.on_last_day);
    let (start, end) = (scope.start(), scope.end());
    let days = match c.params.test {
        TestParams::LeaverDevicesReturned { max_days_after_termination } => max_days_after_termination,
        _ => 14,
    };
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
            let name = a.asset_tag.clone().unwrap_or_else(|| a.key.to_string());
            if a.lifecycle == Some(Lifecycle::LostStolen) {
                if a.wipes.iter().any(|w| w.result == WipeResult::Success) {
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
                returned.insert(a.asset_tag.clone().unwrap_or_else(|| a.key.to_string()));
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
            item: ItemKey::new(KeyKind::Leaver, &who),
            asset_tag: held.first().and_then(|a| a.asset_tag.clone()),
            outcome: if pass { Outcome::Pass } else { Outcome::Fail },
            reason: format!("left {last_day}: {}", reasons.join("; ")),
            records,
        });
    }
    out
}

/// Every name a leaver is known by (email, username, employee id), lower case.
pub(super) fn leaver_ids(leavers: &[crate::store::query::LeaverRow]) -> BTreeSet<String> {
    leavers.iter().flat_map(|l| [&l.email, &l.username, &l.employee_id]).flatten().map(|s| s.to_lowercase()).collect()
}

/// Whether a device is assigned to any of `ids` (as RET-01 finds a leaver's devices).
pub(super) fn owned_by(a: &AssetView, ids: &BTreeSet<String>) -> bool {
    !ids.is_empty() && (a.owner_ids.iter().any(|o| ids.contains(o)) || a.owner.as_ref().is_some_and(|o| ids.contains(&o.to_lowercase())))
}

/// What DISP-03 needs of one certificate for one drive: are both signatures there and valid,
/// by two different keys. (Whether the keys are trusted is the auditor's `evident verify`.)
#[derive(Debug, Clone)]
pub struct Attestation {
    pub drive: String,
    pub certificate: String,
    pub signed: bool,
    pub countersigned: bool,
    /// Revoked, or superseded by a correction: it attests nothing any more (why, if so).
    pub withdrawn: Option<String>,
    pub independent: bool,
}

pub(super) fn attestations(store: &Store) -> Result<Vec<Attestation>, crate::store::Error> {
    let mut out = Vec::new();
    // A certificate withdrawn (revoked, or superseded by a correction) attests nothing.
    let revoked: std::collections::BTreeSet<String> = store.revocations()?.into_iter().map(|(id, _)| id).collect();
    let stored = store.certificates()?;
    let parsed: Vec<_> = stored.iter().filter_map(|s| crate::certificate::record::Certificate::from_slice(&s.body).ok()).collect();
    let superseded: std::collections::BTreeSet<&str> = parsed.iter().filter_map(|c| c.record.supersedes.as_deref()).collect();
    for c in &parsed {
        let withdrawn = if revoked.contains(&c.record.id) {
            Some("was revoked")
        } else if superseded.contains(c.record.id.as_str()) {
            Some("was superseded by a correction")
        } else {
            None
        };
        let status = c.signature_status();
        for m in &c.record.media {
            out.push(Attestation {
                drive: crate::model::serial::Serial::new(&m.serial, None).key,
                certificate: c.record.id.clone(),
                signed: status.signed,
                countersigned: status.countersigned,
                withdrawn: withdrawn.map(String::from),
                independent: status.independent,
            });
        }
    }
    Ok(out)
}

/// DISP-03: every successful sanitization in scope has a certificate, signed and countersigned
/// by two different keys.
pub(super) fn judge_attested(views: &[AssetView], scope: &Scope, certs: &[Attestation]) -> Vec<Item> {
    wipe_events(views, scope, &|w| {
        if w.result != WipeResult::Success {
            return None;
        }
        let mine: Vec<&Attestation> = certs.iter().filter(|c| c.drive == w.drive).collect();
        let current: Vec<&&Attestation> = mine.iter().filter(|c| c.withdrawn.is_none()).collect();
        let best = current.iter().find(|c| c.signed && c.countersigned && c.independent).or(current.first()).copied();
        Some(match best {
            None if !mine.is_empty() => Verdict::fail(format!(
                "drive {} has no current certificate: {}",
                w.drive,
                mine.iter().map(|c| format!("{} {}", c.certificate, c.withdrawn.as_deref().unwrap_or(""))).collect::<Vec<_>>().join("; ")
            )),
            None => Verdict::fail(format!("drive {} has no certificate of sanitization", w.drive)),
            Some(c) if c.signed && c.countersigned && c.independent => Verdict::pass(format!("certificate {} signed and countersigned", c.certificate)),
            Some(c) if !c.signed => Verdict::fail(format!("certificate {} has no valid performer signature", c.certificate)),
            Some(c) if !c.countersigned => Verdict::fail(format!("certificate {} has no valid countersignature", c.certificate)),
            Some(c) => Verdict::fail(format!("certificate {} was countersigned with the performer's own key", c.certificate)),
        })
    })
}
