//! The chain of packs: each pack names its predecessor by the SHA-256 of its manifest.json and
//! carries the ledger of every earlier pack. These checks prove a newer chain extends an older
//! one (no pack rewritten, dropped, forked or replayed), the idea of Certificate Transparency.

use crate::check::Code;
use serde::{Deserialize, Serialize};

/// What a pack covers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Scope {
    /// The state on one date (SOC 2 Type I).
    AsOf { date: chrono::NaiveDate },
    /// A period, both ends included (SOC 2 Type II).
    Period { from: chrono::NaiveDate, to: chrono::NaiveDate },
}

impl Scope {
    /// The last day the pack covers.
    pub fn end(&self) -> chrono::NaiveDate {
        match self {
            Scope::AsOf { date } => *date,
            Scope::Period { to, .. } => *to,
        }
    }

    /// The first day a period covers; None for a date (everything up to it).
    pub fn start(&self) -> Option<chrono::NaiveDate> {
        match self {
            Scope::AsOf { .. } => None,
            Scope::Period { from, .. } => Some(*from),
        }
    }

    /// `FROM..TO` or a date.
    pub fn parse(as_of: Option<&str>, period: Option<&str>) -> Result<Scope, String> {
        let date = |s: &str| chrono::NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").map_err(|_| format!("'{s}' is not a date (YYYY-MM-DD)"));
        match (as_of, period) {
            (Some(d), None) => Ok(Scope::AsOf { date: date(d)? }),
            (None, Some(p)) => {
                let (a, b) = p.split_once("..").ok_or_else(|| format!("period '{p}' must be FROM..TO, e.g. 2026-01-01..2026-06-30"))?;
                let (from, to) = (date(a)?, date(b)?);
                if from > to {
                    return Err(format!("period '{p}' ends before it starts"));
                }
                Ok(Scope::Period { from, to })
            }
            _ => Err("give exactly one of --as-of DATE or --period FROM..TO".into()),
        }
    }
}

impl std::fmt::Display for Scope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Scope::AsOf { date } => write!(f, "as of {date}"),
            Scope::Period { from, to } => write!(f, "period {from}..{to}"),
        }
    }
}

/// One pack in the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    pub seq: u64,
    pub scope: Scope,
    pub manifest_sha256: String,
    pub prev: Option<String>,
    pub key_id: String,
}

/// ledger.jsonl: one RFC 8785 canonical JSON object per line, oldest first.
pub fn to_jsonl(entries: &[Entry]) -> Vec<u8> {
    let mut out = Vec::new();
    for e in entries {
        out.extend(serde_jcs::to_vec(e).expect("an entry serialises"));
        out.push(b'\n');
    }
    out
}

pub fn parse_jsonl(bytes: &[u8]) -> Result<Vec<Entry>, String> {
    let text = std::str::from_utf8(bytes).map_err(|_| "ledger is not UTF-8".to_string())?;
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| serde_json::from_str(l).map_err(|e| format!("ledger line {}: {e}", i + 1)))
        .collect()
}

/// A chain finding: its code (FORMAT.md lists them) and what was seen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub code: Code,
    pub detail: String,
}

fn finding(code: Code, detail: String) -> Finding {
    Finding { code, detail }
}

/// A chain on its own: seq 1, 2, 3… and each entry naming the one before it.
pub fn check_links(chain: &[Entry]) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut prev: Option<&Entry> = None;
    for e in chain {
        let want_seq = prev.map_or(1, |p| p.seq + 1);
        if e.seq > want_seq {
            out.push(finding(Code::ChainGap, format!("seq {} follows seq {}: {} missing", e.seq, want_seq - 1, e.seq - want_seq)));
        } else if e.seq < want_seq {
            out.push(finding(Code::ChainRollback, format!("seq {} comes after seq {}", e.seq, want_seq - 1)));
        }
        let want_prev = prev.map(|p| p.manifest_sha256.as_str());
        if e.prev.as_deref() != want_prev {
            out.push(finding(
                Code::ChainPrevMismatch,
                format!("seq {} names predecessor {} but the chain has {}", e.seq, short(e.prev.as_deref()), short(want_prev)),
            ));
        }
        prev = Some(e);
    }
    out
}

fn short(h: Option<&str>) -> String {
    h.map_or("none".into(), |h| h.chars().take(16).collect())
}

/// `newer` (a pack's ledger plus its own entry) must extend `older` unchanged.
pub fn check_extends(older: &[Entry], newer: &[Entry]) -> Vec<Finding> {
    let (Some(old_head), Some(new_head)) = (older.last(), newer.last()) else { return Vec::new() };
    // Strictly newer: a pack checked against its own chain (or an older one's) proves nothing.
    // (Another pack at the same seq is a fork, reported below.)
    if old_head.seq > new_head.seq || old_head == new_head {
        return vec![finding(
            Code::ChainRollback,
            format!("the pack is seq {}, not newer than the trusted seq {}: --since must name an older pack or checkpoint", new_head.seq, old_head.seq),
        )];
    }
    let mut out = Vec::new();
    for o in older {
        match newer.iter().find(|n| n.seq == o.seq) {
            None => out.push(finding(Code::ChainGap, format!("seq {} of the trusted chain is missing from this pack's ledger", o.seq))),
            Some(n) if n == o => {}
            Some(n) if o.seq == old_head.seq => out.push(finding(
                Code::ChainFork,
                format!(
                    "seq {} is {} here but {} in the trusted chain: two packs claim the same place",
                    o.seq,
                    short(Some(&n.manifest_sha256)),
                    short(Some(&o.manifest_sha256))
                ),
            )),
            Some(n) => out.push(finding(
                Code::LedgerRewritten,
                format!("seq {} reads {} here but {} in the trusted chain", o.seq, short(Some(&n.manifest_sha256)), short(Some(&o.manifest_sha256))),
            )),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn chain(n: u64) -> Vec<Entry> {
        let mut out: Vec<Entry> = Vec::new();
        for seq in 1..=n {
            out.push(Entry {
                seq,
                scope: Scope::AsOf { date: chrono::NaiveDate::from_ymd_opt(2026, 1, seq as u32).unwrap() },
                manifest_sha256: format!("{seq:064x}"),
                prev: out.last().map(|p| p.manifest_sha256.clone()),
                key_id: "k".into(),
            });
        }
        out
    }

    fn codes(f: &[Finding]) -> Vec<&'static str> {
        f.iter().map(|f| f.code.as_str()).collect()
    }

    #[test]
    fn extensions_pass_and_each_break_has_its_code() {
        let c = chain(4);
        assert!(check_links(&c).is_empty());
        assert!(check_extends(&c[..2], &c).is_empty());
        assert_eq!(codes(&check_extends(&c, &c[..2])), ["chain-rollback"]);
        let mut fork = c.clone();
        fork[1].manifest_sha256 = "f".repeat(64);
        // A second pack at the trusted head's seq (alone, or built on): a fork.
        assert_eq!(codes(&check_extends(&c[..2], &fork[..2])), ["chain-fork"]);
        assert_eq!(codes(&check_extends(&c[..2], &fork[..3])), ["chain-fork"]);
        // The same pack against its own chain is not newer: it proves nothing.
        assert_eq!(codes(&check_extends(&c[..2], &c[..2])), ["chain-rollback"]);
        assert_eq!(codes(&check_extends(&c[..3], &fork)), ["ledger-rewritten"]);
        let mut gap = c.clone();
        gap.remove(2);
        assert_eq!(codes(&check_links(&gap)), ["chain-gap", "chain-prev-mismatch"]);
    }

    proptest! {
        #[test]
        fn a_prefix_is_always_extended_and_never_the_reverse(n in 2u64..20, k in 1u64..19) {
            let c = chain(n);
            let k = (k % (n - 1)) as usize + 1;
            prop_assert!(check_extends(&c[..k], &c).is_empty());
            prop_assert_eq!(codes(&check_extends(&c, &c[..k])), vec!["chain-rollback"]);
        }
    }
}
