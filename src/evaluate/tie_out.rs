//! The tie-out of every ingested export (IPE-TIE): rows read = accepted + rejected + empty, and
//! the records stored, per live ingest dated up to the scope's end.

use super::{Item, Outcome, TieOut};
use crate::controls::Loaded;
use crate::store::Store;
use chrono::NaiveDate;

pub(super) fn tie_outs(store: &Store, end: NaiveDate) -> Result<Vec<TieOut>, crate::store::Error> {
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

pub(super) fn ipe_items(c: &Loaded, ties: &[TieOut], date: NaiveDate) -> Vec<Item> {
    let allow = matches!(c.params.test, crate::controls::schema::TestParams::IpeTieOut { allow_rejections: true });
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
            Item {
                date,
                item: crate::view::ItemKey::new(crate::view::KeyKind::Export, &t.file),
                asset_tag: None,
                outcome: if pass { Outcome::Pass } else { Outcome::Fail },
                reason,
                records: vec![format!("{}:{}@{}", t.source, t.file, t.sha256.get(..12).unwrap_or(&t.sha256))],
            }
        })
        .collect()
}
