//! The results regrouped by the items of one framework catalog (SOC 2, ISO/IEC 27001, ISO/IEC
//! 19770-1), with the criteria no control evidences.

use super::{Criterion, CriterionControl, Evaluation, Status};
use crate::controls::Library;
use std::collections::BTreeMap;

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
