//! Evidence in force: for each control and sample date, whether the exports its test reads were
//! observed on or before that date and recently enough to speak for it. A date without them is
//! `no_evidence`, never a pass and never "not applicable".

use crate::controls::schema::TestKind;
use chrono::NaiveDate;
use serde::Serialize;

/// The kinds of input a test reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Evidence {
    /// An asset register (Snipe-IT, a mapped register).
    Register,
    /// An MDM's device list (Intune, Jamf, Kandji, Fleet, Google).
    Mdm,
    /// A disk-encryption report (an MDM's encryption fields, osquery).
    Encryption,
    /// Wipe records (nwipe, Blancco, ITAD certificates): events, not snapshots.
    Wipes,
    /// An HR leaver list.
    Leavers,
    /// Any export at all (the tie-out of every ingest).
    Ingests,
}

impl Evidence {
    pub fn describe(self) -> &'static str {
        match self {
            Evidence::Register => "asset register",
            Evidence::Mdm => "MDM device list",
            Evidence::Encryption => "disk-encryption report",
            Evidence::Wipes => "wipe records",
            Evidence::Leavers => "HR leaver list",
            Evidence::Ingests => "ingested export",
        }
    }

    /// Snapshots speak for a date only while they are fresh; event records add to the record and
    /// never go stale (a wipe done in July is still done in October; so is a termination on an
    /// HR list). An event record counts from its as-of on, or from any date if it is undated.
    fn goes_stale(self) -> bool {
        !matches!(self, Evidence::Wipes | Evidence::Leavers | Evidence::Ingests)
    }
}

/// The inputs each test reads.
pub fn needs(test: TestKind) -> &'static [Evidence] {
    use Evidence::*;
    use TestKind::*;
    match test {
        InventoryFields | InventoryUnique | DisposalSanitized | ItadCertified | LostEncrypted => &[Register],
        DiskEncrypted => &[Register, Mdm, Encryption],
        RecoveryKeyEscrowed => &[Register, Encryption],
        MdmEnrolled | RegisterMdmReconciled | NoEnrollmentAfterDisposal => &[Register, Mdm],
        MdmCompliant | OsSupported => &[Mdm],
        SanitizationMethod | CertificateCountersigned => &[Wipes],
        LeaverDevicesReturned => &[Leavers, Register],
        IpeTieOut => &[Ingests],
        // Nothing we ingest carries an assignment history: see `missing_always`.
        ReissueWiped => &[Register],
    }
}

/// Inputs a test needs that no supported export carries yet.
pub fn missing_always(test: TestKind) -> Option<&'static str> {
    match test {
        TestKind::ReissueWiped => Some("needs the register's assignment history, which no ingested export carries"),
        _ => None,
    }
}

/// One live ingest as evidence of one kind.
#[derive(Debug, Clone, Serialize)]
pub struct Observation {
    pub kind: Evidence,
    pub file: String,
    pub sha256: String,
    /// The day the export speaks for (UTC), if it is dated.
    pub as_of: Option<NaiveDate>,
}

/// The observation a sample date rests on, for one kind of input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InForce {
    pub kind: Evidence,
    pub file: String,
    /// The first 12 hex digits of the export's SHA-256 (its file in the pack's sources/).
    pub sha256: String,
    pub as_of: Option<NaiveDate>,
    /// Days from the export's as-of to the sample date.
    pub age_days: Option<i64>,
}

/// For one sample date: what was in force, and what was missing or stale.
#[derive(Debug, Clone, Default)]
pub struct Check {
    pub in_force: Vec<InForce>,
    pub missing: Vec<String>,
}

/// Which inputs in `needs` were in force at `date`: the newest observation of each kind dated on
/// or before it and at most `max_age` days old. Undated snapshots cannot show they were in force.
pub fn check(observations: &[Observation], needs: &[Evidence], date: NaiveDate, max_age: i64) -> Check {
    let mut out = Check::default();
    for &kind in needs {
        let of_kind = || observations.iter().filter(move |o| kind == Evidence::Ingests || o.kind == kind);
        let newest = of_kind().filter(|o| o.as_of.is_some_and(|d| d <= date)).max_by(|a, b| (a.as_of, &a.sha256).cmp(&(b.as_of, &b.sha256)));
        let undated = of_kind().find(|o| o.as_of.is_none());
        match (newest, undated) {
            (Some(o), _) => {
                let age = (date - o.as_of.expect("dated")).num_days();
                if kind.goes_stale() && age > max_age {
                    out.missing.push(format!(
                        "the newest {} ({}, as of {}) is {age} days old on {date} (allowed {max_age})",
                        kind.describe(),
                        o.file,
                        o.as_of.expect("dated")
                    ));
                } else {
                    out.in_force.push(InForce { kind, file: o.file.clone(), sha256: short(&o.sha256), as_of: o.as_of, age_days: Some(age) });
                }
            }
            (None, Some(o)) if !kind.goes_stale() => {
                out.in_force.push(InForce { kind, file: o.file.clone(), sha256: short(&o.sha256), as_of: None, age_days: None })
            }
            (None, Some(o)) => out.missing.push(format!("no {} dated on or before {date} ({} is undated: ingest it with --as-of)", kind.describe(), o.file)),
            (None, None) if of_kind().next().is_some() => {
                out.missing.push(format!("no {} dated on or before {date} (the first is dated later)", kind.describe()))
            }
            (None, None) => out.missing.push(format!("no {} is ingested", kind.describe())),
        }
    }
    out
}

fn short(sha256: &str) -> String {
    sha256.chars().take(12).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn obs(kind: Evidence, as_of: Option<&str>) -> Observation {
        Observation { kind, file: format!("{kind:?}.csv"), sha256: "ab".repeat(32), as_of: as_of.map(d) }
    }

    #[test]
    fn a_date_before_the_first_export_or_long_after_the_last_has_no_evidence() {
        let o = [obs(Evidence::Register, Some("2026-10-25")), obs(Evidence::Mdm, Some("2026-10-25"))];
        let need = [Evidence::Register, Evidence::Mdm];
        assert_eq!(check(&o, &need, d("2026-10-31"), 35).missing, Vec::<String>::new());
        let july = check(&o, &need, d("2026-07-31"), 35);
        assert_eq!(july.missing.len(), 2, "{:?}", july.missing);
        assert!(july.missing[0].contains("dated later"), "{:?}", july.missing);
        let later = check(&o, &need, d("2026-12-31"), 35);
        assert!(later.missing[0].contains("67 days old"), "{:?}", later.missing);
    }

    #[test]
    fn wipe_logs_do_not_go_stale_and_undated_snapshots_are_not_in_force() {
        let o = [obs(Evidence::Wipes, Some("2021-01-01")), obs(Evidence::Register, None)];
        assert!(check(&o, &[Evidence::Wipes], d("2026-10-31"), 35).missing.is_empty());
        let reg = check(&o, &[Evidence::Register], d("2026-10-31"), 35);
        assert!(reg.missing[0].contains("undated"), "{:?}", reg.missing);
        assert!(check(&[], &[Evidence::Leavers], d("2026-10-31"), 35).missing[0].contains("no HR leaver list is ingested"));
        assert!(check(&[obs(Evidence::Leavers, None)], &[Evidence::Leavers], d("2026-10-31"), 35).missing.is_empty());
    }
}
