//! JSON inputs: parse once, find the line where each record of a record array starts (so that
//! errors point inside the file), and recognise which API a document came from.

use super::{Error, Input};
use serde_json::Value;

/// Where an element of a record array is: its first line, and its start and end bytes.
pub type Span = (u64, usize, usize);

/// A parsed JSON document with its bytes.
pub struct Doc<'a> {
    pub file: &'a str,
    pub bytes: &'a [u8],
    pub value: Value,
}

impl<'a> Doc<'a> {
    pub fn parse(input: &'a Input<'a>) -> Result<Doc<'a>, Error> {
        let value: Value = serde_json::from_slice(input.bytes).map_err(|e| {
            let line = if e.line() == 0 { 1 } else { e.line() as u64 };
            let hint = if e.is_eof() { Some("the file ends early: it was cut off while saving or downloading") } else { None };
            Error::bad_file(input.file, line, None, format!("not valid JSON: {e}"), hint)
        })?;
        Ok(Doc { file: input.file, bytes: input.bytes, value })
    }

    /// The array at `path` (object keys from the top) with the line where each element starts.
    pub fn records(&self, path: &[&str]) -> Option<(&Vec<Value>, Vec<Span>)> {
        let mut v = &self.value;
        for k in path {
            v = v.get(*k)?;
        }
        let arr = v.as_array()?;
        let spans = element_spans(self.bytes, path);
        Some((arr, spans))
    }

    /// Line and bytes of element `i` (falls back to line 1 if the scan disagrees with serde).
    pub fn span(spans: &[(u64, usize, usize)], i: usize) -> (u64, usize, usize) {
        spans.get(i).copied().unwrap_or((1, 0, 0))
    }
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
    fn ws(&mut self) {
        while self.i < self.b.len() && self.b[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }

    /// Scans one value; `target` is the remaining path when this value is on it.
    fn value(&mut self, target: Option<&[&str]>) {
        self.ws();
        match self.b.get(self.i) {
            Some(b'{') => {
                self.i += 1;
                loop {
                    self.ws();
                    match self.b.get(self.i) {
                        Some(b'}') | None => {
                            self.i += 1;
                            return;
                        }
                        Some(b',') => {
                            self.i += 1;
                            continue;
                        }
                        _ => {}
                    }
                    let key = self.string();
                    self.ws();
                    if self.b.get(self.i) == Some(&b':') {
                        self.i += 1;
                    }
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
                loop {
                    self.ws();
                    match self.b.get(self.i) {
                        Some(b']') | None => {
                            self.i += 1;
                            return;
                        }
                        Some(b',') => {
                            self.i += 1;
                            continue;
                        }
                        _ => {}
                    }
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
    fn finds_element_lines() {
        let j = b"{\"total\": 2,\n \"rows\": [\n  {\"a\": \"x]\\\"\"},\n  {\"b\": [1,\n 2]}\n ]}";
        let spans = element_spans(j, &["rows"]);
        assert_eq!(spans.iter().map(|s| s.0).collect::<Vec<_>>(), vec![3, 4]);
        let top = element_spans(b"[\n{}, \n{\"k\":{}}]", &[]);
        assert_eq!(top.iter().map(|s| s.0).collect::<Vec<_>>(), vec![2, 3]);
    }
}
