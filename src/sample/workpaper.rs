//! The auditor's workpaper for a sample: one row per selected item with its evidence references
//! and empty "tested by / result / notes" columns, as .xlsx or CSV. Text from the pack is data:
//! a cell that a spreadsheet would read as a formula is escaped.

use super::{Sample, SampleFile};
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook, XlsxError};

/// The columns of the sample sheet, in order.
pub const COLUMNS: [&str; 13] =
    ["#", "item", "asset tag", "date", "outcome", "reason", "records", "population line", "rank", "tested by", "tested on", "result", "notes"];

/// Whether a spreadsheet would take this text for a formula (or a DDE call): it starts with
/// `=`, `+`, `-`, `@`, a tab or a carriage return (OWASP's list).
pub fn formula_like(text: &str) -> bool {
    text.starts_with(['=', '+', '-', '@', '\t', '\r'])
}

/// A CSV cell: formula-like text gets a leading `'`, which spreadsheets show as text.
pub fn csv_cell(text: &str) -> String {
    if formula_like(text) { format!("'{text}") } else { text.to_string() }
}

fn field(item: &super::Item, name: &str) -> String {
    match item.entry.get(name) {
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(serde_json::Value::Null) | None => String::new(),
        Some(v) => v.to_string(),
    }
}

/// The cells of each selected item, in `COLUMNS` order (the last four left for the tester).
fn rows(sample: &Sample) -> Vec<[String; 13]> {
    sample
        .selected
        .iter()
        .enumerate()
        .map(|(i, it)| {
            let date = Some(field(it, "date")).filter(|d| !d.is_empty()).or(sample.population.date.map(|d| d.to_string())).unwrap_or_default();
            [
                (i + 1).to_string(),
                it.item.clone(),
                field(it, "asset_tag"),
                date,
                field(it, "outcome"),
                field(it, "reason"),
                it.records.join("\n"),
                format!("{}:{}", sample.population.path, it.line),
                it.rank.clone(),
                String::new(),
                String::new(),
                String::new(),
                String::new(),
            ]
        })
        .collect()
}

/// What the sample is, as label/value pairs (the first sheet, and the CSV's header comment).
fn about(file: &SampleFile) -> Vec<(&'static str, String)> {
    let s = &file.sample;
    let size = match &s.size {
        super::SizeRule::Fixed(n) => format!("fixed: {n}"),
        super::SizeRule::Table(_) => "by population size (the table is in the sample file)".into(),
    };
    vec![
        ("format", s.format.clone()),
        ("pack manifest sha256", s.pack.manifest_sha256.clone()),
        ("pack seq", s.pack.seq.to_string()),
        ("pack key id", s.pack.key_id.clone()),
        ("population", s.population.path.clone()),
        ("population sha256", s.population.sha256.clone()),
        ("population items", s.population.items.to_string()),
        ("outcomes sampled", if s.population.outcomes.is_empty() { "all".into() } else { s.population.outcomes.join(", ") }),
        ("seed", s.seed.clone()),
        ("rule", s.rule.clone()),
        ("size", size),
        ("selected", s.selected.len().to_string()),
        ("sample sha256", file.sample_sha256.clone()),
        ("auditor key id", file.auditor_signature.key_id.clone()),
        ("re-derive", "evident verify SAMPLE.json --pack PACK --trust FILE, or the recipe in the pack's docs/FORMAT.md §8".into()),
    ]
}

/// The workpaper as an .xlsx file: sheet "sample" (one row per item) and sheet "about".
/// Every cell is a string cell; formula-like text also carries Excel's quote prefix, so it
/// stays text when edited. Its document date is the pack's scope end: same sample, same bytes.
pub fn xlsx(file: &SampleFile) -> Result<Vec<u8>, XlsxError> {
    let mut book = Workbook::new();
    let end = file.sample.pack.scope.end();
    use chrono::Datelike;
    let when = ExcelDateTime::from_ymd(end.year() as u16, end.month() as u8, end.day() as u8)?;
    book.set_properties(&rust_xlsxwriter::DocProperties::new().set_creation_datetime(&when).set_title("evident audit sample"));
    let bold = Format::new().set_bold();
    let text = Format::new().set_text_wrap();
    let quoted = Format::new().set_text_wrap().set_quote_prefix();
    let sheet = book.add_worksheet();
    sheet.set_name("sample")?;
    for (c, name) in COLUMNS.iter().enumerate() {
        sheet.write_string_with_format(0, c as u16, *name, &bold)?;
    }
    for (r, row) in rows(&file.sample).iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            let f = if formula_like(cell) { &quoted } else { &text };
            sheet.write_string_with_format(r as u32 + 1, c as u16, cell, f)?;
        }
    }
    for (c, width) in [4, 22, 12, 11, 9, 40, 60, 40, 18, 14, 12, 10, 30].iter().enumerate() {
        sheet.set_column_width(c as u16, *width)?;
    }
    sheet.set_freeze_panes(1, 0)?;
    let sheet = book.add_worksheet();
    sheet.set_name("about")?;
    for (r, (label, value)) in about(file).iter().enumerate() {
        sheet.write_string_with_format(r as u32, 0, *label, &bold)?;
        sheet.write_string_with_format(r as u32, 1, value, if formula_like(value) { &quoted } else { &text })?;
    }
    sheet.set_column_width(0, 22)?;
    sheet.set_column_width(1, 80)?;
    book.save_to_buffer()
}

/// The workpaper as CSV (RFC 4180, a header row), formula-like cells prefixed with `'`.
pub fn csv(file: &SampleFile) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    // Writing to a Vec cannot fail, and every row has the header's length.
    w.write_record(COLUMNS).expect("a CSV row");
    for row in rows(&file.sample) {
        w.write_record(row.iter().map(|c| csv_cell(c))).expect("a CSV row");
    }
    w.into_inner().expect("a Vec flushes")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_like_cells_are_escaped_in_csv() {
        for bad in ["=HYPERLINK(\"http://x\")", "+1", "-2+3", "@SUM(A1)", "\tx", "\rx"] {
            assert!(formula_like(bad), "{bad:?}");
            assert_eq!(csv_cell(bad), format!("'{bad}"));
        }
        assert_eq!(csv_cell("C02RQP8SYU72"), "C02RQP8SYU72");
    }
}
