//! JSON inputs: check the syntax once, find where each record of a record array starts (so that
//! errors point inside the file), recognise which API a document came from on a skeleton, and
//! parse the records one at a time: memory follows one record, not the document (a Graph export
//! of a million devices parsed whole is ~9× its size).

use super::{Error, Input};
use serde_json::Value;

/// The top-level keys of a reader's records that it never reads, gathered over every record
/// of a file and reported once in its ingest report (`unread`): what would otherwise be dropped
/// without the user learning it. At most `UNREAD_MAX` distinct keys are kept.
pub struct Unread {
    reads: &'static [&'static str],
    keys: std::collections::BTreeSet<String>,
}

const UNREAD_MAX: usize = 500;

impl Unread {
    /// A collector for a reader that reads these keys of each record.
    pub fn new(reads: &'static [&'static str]) -> Unread {
        Unread { reads, keys: Default::default() }
    }

    /// Notes the keys of one record that are not read.
    pub fn see(&mut self, record: &Value) {
        if let Value::Object(m) = record {
            for k in m.keys() {
                if self.keys.len() < UNREAD_MAX && !self.reads.contains(&k.as_str()) && !self.keys.contains(k) {
                    self.keys.insert(k.clone());
                }
            }
        }
    }

    /// The keys not read, sorted.
    pub fn keys(self) -> Vec<String> {
        self.keys.into_iter().collect()
    }
}

/// Where an element of a record array is: its first line, and its start and end bytes.
pub type Span = (u64, usize, usize);

/// Elements a skeleton keeps of an array at the top or one key down.
const SKELETON_ELEMENTS: usize = 64;

/// A JSON document with valid syntax, its bytes and its skeleton.
pub struct Doc<'a> {
    pub file: &'a str,
    pub bytes: &'a [u8],
    /// The document with each array at the top or one key down (the record arrays: `value`,
    /// `results`, `rows`, …) cut to its first 64 elements: what detection and page metadata
    /// (`@odata.nextLink`, `totalCount`) read. Records come from `records`; a reader of one
    /// object (a single device) takes `whole`.
    pub value: Value,
}

/// A record array of a document: each element parsed when it is reached.
pub struct Records<'d> {
    bytes: &'d [u8],
    spans: Vec<Span>,
}

impl Records<'_> {
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// Each element with its index and span (line, start and end byte). The document's syntax
    /// was checked whole, so an element parses; one that does not is `Value::Null`, which every
    /// reader rejects as "not an object" with its line.
    pub fn iter(&self) -> impl Iterator<Item = (usize, Value, Span)> + '_ {
        self.spans.iter().enumerate().map(|(i, &(line, a, z))| (i, serde_json::from_slice(&self.bytes[a..z]).unwrap_or(Value::Null), (line, a, z)))
    }
}

impl<'a> Doc<'a> {
    pub fn parse(input: &'a Input<'a>) -> Result<Doc<'a>, Error> {
        let invalid = |e: serde_json::Error| {
            let line = if e.line() == 0 { 1 } else { e.line() as u64 };
            let hint = if e.is_eof() { Some("the file ends early: it was cut off while saving or downloading") } else { None };
            Error::bad_file(input.file, line, None, format!("not valid JSON: {e}"), hint)
        };
        // The syntax of the whole document, without building it.
        serde_json::from_slice::<serde::de::IgnoredAny>(input.bytes).map_err(invalid)?;
        let value: Value = serde_json::from_slice(&skeleton(input.bytes)).map_err(invalid)?;
        Ok(Doc { file: input.file, bytes: input.bytes, value })
    }

    /// The whole document, parsed: for a document that is one record.
    pub fn whole(&self) -> Value {
        serde_json::from_slice(self.bytes).unwrap_or(Value::Null)
    }

    /// The array at `path` (object keys from the top), its elements parsed one at a time.
    pub fn records(&self, path: &[&str]) -> Option<Records<'a>> {
        let mut v = &self.value;
        for k in path {
            v = v.get(*k)?;
        }
        v.as_array()?;
        Some(Records { bytes: self.bytes, spans: element_spans(self.bytes, path) })
    }
}

/// The document with every array at the top or one key down cut to its first
/// `SKELETON_ELEMENTS` elements (the bytes are valid JSON: checked before).
fn skeleton(bytes: &[u8]) -> Vec<u8> {
    let mut s = Scanner { b: bytes, i: 0, out: Vec::new() };
    s.cuts(0);
    if s.out.is_empty() {
        return bytes.to_vec();
    }
    let mut out = Vec::with_capacity(1 << 16);
    let mut at = 0;
    for (a, z) in s.out {
        out.extend_from_slice(&bytes[at..a]);
        at = z;
    }
    out.extend_from_slice(&bytes[at..]);
    out
}

/// Top-level keys, for messages.
pub fn top_keys(v: &Value) -> String {
    match v {
        Value::Object(m) => m.keys().take(6).map(|k| format!("'{k}'")).collect::<Vec<_>>().join(", "),
        Value::Array(_) => "(an array)".into(),
        _ => "(a scalar)".into(),
    }
}

/// Byte spans (with start line) of the elements of the array at `path`. A small scanner over
/// already-validated JSON: strings, nesting and the path are all it needs to track.
pub fn element_spans(bytes: &[u8], path: &[&str]) -> Vec<(u64, usize, usize)> {
    let mut s = Scanner { b: bytes, i: 0, out: Vec::new() };
    s.value(Some(path));
    let mut lines = super::text::LineCounter::new(bytes);
    s.out.into_iter().map(|(a, z)| (lines.line_at(a), a, z)).collect()
}

struct Scanner<'b> {
    b: &'b [u8],
    i: usize,
    out: Vec<(usize, usize)>,
}

impl Scanner<'_> {
    /// Records the byte ranges to cut: from the end of an array's last kept element to its
    /// closing bracket, for arrays at `depth` 0 or 1.
    fn cuts(&mut self, depth: usize) {
        self.ws();
        match self.b.get(self.i) {
            Some(b'{') if depth == 0 => {
                self.i += 1;
                while self.next(b'}') {
                    self.string();
                    self.colon();
                    self.cuts(depth + 1);
                }
            }
            Some(b'[') => {
                self.i += 1;
                let mut n = 0;
                let mut kept_end = self.i;
                while self.next(b']') {
                    self.value(None);
                    n += 1;
                    if n == SKELETON_ELEMENTS {
                        kept_end = self.i;
                    }
                }
                if n > SKELETON_ELEMENTS {
                    // Up to the closing bracket (just consumed), which stays.
                    self.out.push((kept_end, self.i - 1));
                }
            }
            _ => self.value(None),
        }
    }

    fn ws(&mut self) {
        while self.i < self.b.len() && self.b[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }

    /// Steps to the next member of an object or array: false once its closing bracket (or the
    /// end) is reached and passed.
    fn next(&mut self, close: u8) -> bool {
        loop {
            self.ws();
            match self.b.get(self.i) {
                Some(c) if *c == close => {
                    self.i += 1;
                    return false;
                }
                None => {
                    self.i += 1;
                    return false;
                }
                Some(b',') => self.i += 1,
                _ => return true,
            }
        }
    }

    /// Past the colon after a key.
    fn colon(&mut self) {
        self.ws();
        if self.b.get(self.i) == Some(&b':') {
            self.i += 1;
        }
    }

    /// Scans one value; `target` is the remaining path when this value is on it.
    fn value(&mut self, target: Option<&[&str]>) {
        self.ws();
        match self.b.get(self.i) {
            Some(b'{') => {
                self.i += 1;
                while self.next(b'}') {
                    let key = self.string();
                    self.colon();
                    let sub = match target {
                        Some([first, rest @ ..]) if key.as_deref() == Some(*first) => Some(rest),
                        _ => None,
                    };
                    self.value(sub);
                }
            }
            Some(b'[') => {
                self.i += 1;
                let collect = matches!(target, Some([]));
                while self.next(b']') {
                    let start = self.i;
                    self.value(None);
                    if collect {
                        self.out.push((start, self.i.min(self.b.len())));
                    }
                }
            }
            Some(b'"') => {
                self.string();
            }
            Some(_) => {
                while self.i < self.b.len() && !matches!(self.b[self.i], b',' | b'}' | b']') && !self.b[self.i].is_ascii_whitespace() {
                    self.i += 1;
                }
            }
            None => {}
        }
    }

    /// Scans a string and returns its text when it has no escapes (keys on a path never do).
    fn string(&mut self) -> Option<String> {
        if self.b.get(self.i) != Some(&b'"') {
            self.i += 1;
            return None;
        }
        self.i += 1;
        let start = self.i;
        let mut escaped = false;
        while self.i < self.b.len() {
            match self.b[self.i] {
                b'\\' => {
                    escaped = true;
                    self.i += 2;
                    continue;
                }
                b'"' => break,
                _ => self.i += 1,
            }
        }
        let end = self.i.min(self.b.len());
        self.i += 1;
        if escaped { None } else { std::str::from_utf8(&self.b[start..end]).ok().map(str::to_string) }
    }
}

/// String at a pointer-like path of keys; numbers and booleans are given as text, null and
/// absent as empty.
pub fn text<'v>(v: &'v Value, path: &[&str]) -> std::borrow::Cow<'v, str> {
    let mut cur = v;
    for k in path {
        match cur.get(*k) {
            Some(next) => cur = next,
            None => return "".into(),
        }
    }
    match cur {
        Value::String(s) => s.as_str().into(),
        Value::Number(n) => n.to_string().into(),
        Value::Bool(b) => b.to_string().into(),
        _ => "".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_skeleton_keeps_64_elements_of_the_record_arrays_and_all_else() {
        let many: Vec<String> =
            (0..100).map(|i| format!("{{\"n\": {i}, \"deep\": [{}]}}", (0..80).map(|k| k.to_string()).collect::<Vec<_>>().join(","))).collect();
        let doc = format!("{{\"total\": 100, \"rows\": [{}], \"next\": \"x\"}}", many.join(",\n"));
        let v: Value = serde_json::from_slice(&skeleton(doc.as_bytes())).unwrap();
        assert_eq!(v["rows"].as_array().unwrap().len(), 64);
        assert_eq!(v["rows"][63]["deep"].as_array().unwrap().len(), 80, "arrays inside a record are whole");
        assert_eq!((v["total"].as_u64(), v["next"].as_str()), (Some(100), Some("x")));
        let top = format!("[{}]", many.join(","));
        assert_eq!(serde_json::from_slice::<Value>(&skeleton(top.as_bytes())).unwrap().as_array().unwrap().len(), 64);
        let small = b"{\"value\": [1, 2]}";
        assert_eq!(skeleton(small), small.to_vec());
    }

    #[test]
    fn finds_element_lines() {
        let j = b"{\"total\": 2,\n \"rows\": [\n  {\"a\": \"x]\\\"\"},\n  {\"b\": [1,\n 2]}\n ]}";
        let spans = element_spans(j, &["rows"]);
        assert_eq!(spans.iter().map(|s| s.0).collect::<Vec<_>>(), vec![3, 4]);
        let top = element_spans(b"[\n{}, \n{\"k\":{}}]", &[]);
        assert_eq!(top.iter().map(|s| s.0).collect::<Vec<_>>(), vec![2, 3]);
    }
}
