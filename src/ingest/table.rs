//! Generic CSV: delimiter sniffing, header aliases (case- and space-insensitive), duplicate and
//! empty header names, per-row UTF-8 checks and field counts, and exact line numbers.

use super::text::LineCounter;
use super::{Emitter, Error, Input};
use crate::model::Extra;
use crate::model::Issue;
use csv::ByteRecord;
use std::collections::HashMap;

/// An opened CSV with its header resolved.
pub struct Table<'a> {
    pub input: &'a Input<'a>,
    delimiter: u8,
    /// Header names as written (trimmed, one formula-escape backtick removed).
    pub headers: Vec<String>,
    /// Normalised header name → column indices, in file order.
    index: HashMap<String, Vec<usize>>,
    /// Key of each column in `extra` (`(column N)` for an empty or repeated header).
    extra_keys: Vec<String>,
    /// Columns a reader looked up (`col`), so that the ones it did not read can be reported.
    read: Vec<std::cell::Cell<bool>>,
}

/// One data row: its fields as UTF-8, with where it is.
pub struct Row<'r> {
    pub fields: Vec<&'r str>,
    pub line: u64,
    pub raw: &'r [u8],
}

/// Lower-case, single spaces: `Serial  Number` and `serial number` are the same header.
pub fn norm_header(h: &str) -> String {
    h.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase()
}

/// Removes the backtick that Snipe-IT (league/csv EscapeFormula) puts before `= + - @`.
pub fn unescape_formula(v: &str) -> &str {
    match v.strip_prefix('`') {
        Some(rest) if rest.starts_with(['=', '+', '-', '@']) => rest,
        _ => v,
    }
}

impl<'a> Table<'a> {
    /// Reads the header line; an empty file or a header-only file are fine, a missing header is not.
    pub fn open(input: &'a Input<'a>) -> Result<Table<'a>, Error> {
        let delimiter = sniff_delimiter(input.bytes);
        let mut rdr = builder(delimiter).from_reader(input.bytes);
        let mut rec = ByteRecord::new();
        let has = rdr.read_byte_record(&mut rec).map_err(|e| Error::bad_file(input.file, 1, None, format!("cannot read the header row: {e}"), None))?;
        if !has || rec.iter().all(|f| f.iter().all(u8::is_ascii_whitespace)) {
            return Err(Error::bad_file(input.file, 1, None, "file is empty: no header row", Some("export the file again")));
        }
        let mut headers = Vec::with_capacity(rec.len());
        for (i, f) in rec.iter().enumerate() {
            let h = std::str::from_utf8(f).map_err(|_| {
                Error::bad_file(
                    input.file,
                    1,
                    Some(&format!("column {}", i + 1)),
                    "header is not valid UTF-8",
                    Some("pass --encoding windows-1252 if the file was saved by Excel on Windows"),
                )
            })?;
            headers.push(unescape_formula(h.trim()).to_string());
        }
        let mut index: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, h) in headers.iter().enumerate() {
            index.entry(norm_header(h)).or_default().push(i);
        }
        let extra_keys = headers
            .iter()
            .enumerate()
            .map(|(i, h)| {
                let first = index.get(&norm_header(h)).and_then(|c| c.first()) == Some(&i);
                if h.is_empty() || !first { format!("{h} (column {})", i + 1) } else { h.clone() }
            })
            .collect();
        let read = vec![std::cell::Cell::new(false); headers.len()];
        Ok(Table { input, delimiter, headers, index, extra_keys, read })
    }

    /// The first column whose header is one of `aliases` (already normalised).
    /// The column counts as read from then on.
    pub fn col(&self, aliases: &[&str]) -> Option<usize> {
        let c = aliases.iter().filter_map(|a| self.index.get(*a).and_then(|v| v.first().copied())).min();
        if let Some(c) = c {
            self.read[c].set(true);
        }
        c
    }

    /// The columns no reader looked up, by the name `extra` gives them (`(column N)` for an empty
    /// or repeated header), in file order: what the user must be told evident did not read.
    pub fn unread(&self) -> Vec<String> {
        self.read.iter().enumerate().filter(|(_, r)| !r.get()).map(|(i, _)| self.extra_keys[i].trim_start().to_string()).collect()
    }

    pub fn has_any(&self, aliases: &[&str]) -> bool {
        aliases.iter().any(|a| self.index.contains_key(*a))
    }

    pub fn has_all(&self, aliases: &[&str]) -> bool {
        aliases.iter().all(|a| self.index.contains_key(*a))
    }

    /// The first few header names, for messages.
    pub fn header_summary(&self) -> String {
        let shown: Vec<&str> = self.headers.iter().take(8).map(String::as_str).collect();
        format!("{}{}", shown.join(", "), if self.headers.len() > 8 { ", …" } else { "" })
    }

    /// Fails the file if none of `aliases` is present.
    pub fn require(&self, what: &str, aliases: &[&str]) -> Result<usize, Error> {
        self.col(aliases).ok_or_else(|| {
            Error::bad_file(
                self.input.file,
                1,
                Some(what),
                format!("missing column: expected a header named one of {}", aliases.iter().map(|a| format!("'{a}'")).collect::<Vec<_>>().join(", ")),
                Some("export the column (headers are matched without regard to case)"),
            )
        })
    }

    /// Warnings for duplicate header names (the first column is used; the others are kept as extra).
    pub fn header_warnings(&self) -> Vec<Issue> {
        let mut out = Vec::new();
        let mut seen: Vec<&String> = Vec::new();
        for (name, cols) in &self.index {
            if cols.len() > 1 && !name.is_empty() && !seen.contains(&name) {
                seen.push(name);
                out.push(Issue {
                    line: 1,
                    pointer: None,
                    field: Some(self.headers[cols[0]].clone()),
                    message: format!(
                        "header appears in columns {}; the first is used, the others are kept as extra",
                        cols.iter().map(|c| (c + 1).to_string()).collect::<Vec<_>>().join(" and ")
                    ),
                    raw: None,
                });
            }
        }
        out.sort_by(|a, b| a.field.cmp(&b.field));
        out
    }

    /// Unused columns of a row, keyed by header (`(column N)` for an empty or repeated header).
    pub fn extra(&self, row: &Row, used: &[Option<usize>]) -> Extra {
        let mut extra = Extra::new();
        for (i, v) in row.fields.iter().enumerate() {
            if v.trim().is_empty() || used.contains(&Some(i)) {
                continue;
            }
            extra.insert(self.extra_keys[i].clone(), v.to_string());
        }
        extra
    }

    /// Walks every data row: empty rows are counted, rows with the wrong field count or invalid
    /// UTF-8 are rejected, the rest go to `map`.
    pub fn for_each_row(
        &self,
        em: &mut Emitter,
        mut map: impl FnMut(&Row, &mut super::row::RowCtx) -> Result<Vec<crate::model::Record>, Issue>,
    ) -> Result<(), Error> {
        let bytes = self.input.bytes;
        let mut rdr = builder(self.delimiter).from_reader(bytes);
        let mut rec = ByteRecord::new();
        let mut lines = LineCounter::new(bytes);
        let mut first = true;
        let mut n: u64 = 0;
        loop {
            let start = rdr.position().byte() as usize;
            let more = match rdr.read_byte_record(&mut rec) {
                Ok(more) => more,
                Err(e) => {
                    let line = lines.line_at(start);
                    return Err(Error::bad_file(self.input.file, line, None, format!("CSV cannot be read: {e}"), None));
                }
            };
            if !more {
                break;
            }
            let end = rdr.position().byte() as usize;
            if first {
                first = false;
                continue;
            }
            n += 1;
            if n.is_multiple_of(65_536) {
                em.progress(end as u64);
            }
            let line = lines.line_at(start);
            let raw = trim_line_end(&bytes[start..end]);
            if rec.iter().all(|f| f.iter().all(u8::is_ascii_whitespace)) {
                em.empty_row();
                continue;
            }
            let mut ctx = em.ctx(line, None, raw);
            if rec.len() != self.headers.len() {
                let issue =
                    ctx.issue("", format!("row has {} fields but the header has {} (a lost quote or a stray delimiter?)", rec.len(), self.headers.len()), None);
                em.row(ctx, Err(issue))?;
                continue;
            }
            let mut fields = Vec::with_capacity(rec.len());
            let mut bad = None;
            for (i, f) in rec.iter().enumerate() {
                match std::str::from_utf8(f) {
                    Ok(s) => fields.push(s),
                    Err(e) => {
                        bad = Some(ctx.issue(
                            &self.headers[i],
                            format!(
                                "not valid UTF-8 (byte 0x{:02X}); pass --encoding windows-1252 if the file was saved by Excel on Windows",
                                f[e.valid_up_to()]
                            ),
                            None,
                        ));
                        break;
                    }
                }
            }
            if let Some(issue) = bad {
                em.row(ctx, Err(issue))?;
                continue;
            }
            let row = Row { fields, line, raw };
            let result = map(&row, &mut ctx);
            em.row(ctx, result)?;
        }
        em.progress(bytes.len() as u64);
        Ok(())
    }
}

impl Row<'_> {
    /// The value of a column, trimmed; empty when the column is absent.
    pub fn get(&self, col: Option<usize>) -> &str {
        col.and_then(|c| self.fields.get(c)).map(|s| s.trim()).unwrap_or("")
    }
}

fn builder(delimiter: u8) -> csv::ReaderBuilder {
    let mut b = csv::ReaderBuilder::new();
    b.has_headers(false).flexible(true).delimiter(delimiter);
    b
}

fn trim_line_end(b: &[u8]) -> &[u8] {
    let mut end = b.len();
    while end > 0 && matches!(b[end - 1], b'\n' | b'\r') {
        end -= 1;
    }
    &b[..end]
}

/// Picks `,` `;` or tab by counting them outside quotes in the first line.
fn sniff_delimiter(bytes: &[u8]) -> u8 {
    let mut counts = [0usize; 3];
    let mut quoted = false;
    for &b in bytes.iter().take(64 * 1024) {
        match b {
            b'"' => quoted = !quoted,
            b'\n' | b'\r' if !quoted => break,
            b',' if !quoted => counts[0] += 1,
            b';' if !quoted => counts[1] += 1,
            b'\t' if !quoted => counts[2] += 1,
            _ => {}
        }
    }
    let best = (0..3).max_by_key(|i| (counts[*i], 3 - i)).unwrap_or(0);
    if counts[best] == 0 { b',' } else { [b',', b';', b'\t'][best] }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_delimiters() {
        assert_eq!(sniff_delimiter(b"a;b;c\n1,2;3;4"), b';');
        assert_eq!(sniff_delimiter(b"\"a,b\";c\n"), b';');
        assert_eq!(sniff_delimiter(b"a\tb\n"), b'\t');
        assert_eq!(sniff_delimiter(b"a,b\n"), b',');
    }

    #[test]
    fn formula_escape() {
        assert_eq!(unescape_formula("`- wiped"), "- wiped");
        assert_eq!(unescape_formula("`=1+1"), "=1+1");
        assert_eq!(unescape_formula("`plain"), "`plain");
    }
}
