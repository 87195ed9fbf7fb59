//! Byte-level input handling: byte-order marks, UTF-16, Windows-1252 on request, and line
//! numbers for byte offsets (LF, CRLF and the bare CR of old Mac exports all end a line).

use std::borrow::Cow;

/// How to read the bytes of an input file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Encoding {
    /// UTF-8 (BOM optional), or UTF-16 when the file starts with a UTF-16 BOM.
    #[default]
    Auto,
    /// Windows-1252 ("ANSI" CSV from Excel on Windows); every byte is a character.
    #[value(name = "windows-1252")]
    Windows1252,
}

/// The input as UTF-8 bytes (possibly still invalid UTF-8 for `auto`: readers check per row so
/// that an error can name the line) and what was done to get there.
pub struct Decoded<'a> {
    pub bytes: Cow<'a, [u8]>,
    /// `utf-8`, `utf-8-bom`, `utf-16le-bom`, `utf-16be-bom` or `windows-1252`.
    pub encoding: &'static str,
}

/// Why bytes could not be decoded.
#[derive(Debug, thiserror::Error)]
#[error("line {line}: not valid {encoding}")]
pub struct DecodeError {
    pub line: u64,
    pub encoding: &'static str,
}

/// Strips a BOM and decodes UTF-16 or Windows-1252 into UTF-8.
pub fn decode(bytes: &[u8], encoding: Encoding) -> Result<Decoded<'_>, DecodeError> {
    if encoding == Encoding::Windows1252 {
        let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        let (text, _) = encoding_rs::WINDOWS_1252.decode_without_bom_handling(body);
        return Ok(Decoded { bytes: Cow::Owned(text.into_owned().into_bytes()), encoding: "windows-1252" });
    }
    if let Some(body) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        return Ok(Decoded { bytes: Cow::Borrowed(body), encoding: "utf-8-bom" });
    }
    for (bom, enc, name) in [(&b"\xFF\xFE"[..], encoding_rs::UTF_16LE, "utf-16le-bom"), (&b"\xFE\xFF"[..], encoding_rs::UTF_16BE, "utf-16be-bom")] {
        if let Some(body) = bytes.strip_prefix(bom) {
            return match enc.decode_without_bom_handling_and_without_replacement(body) {
                Some(text) => Ok(Decoded { bytes: Cow::Owned(text.into_owned().into_bytes()), encoding: name }),
                None => {
                    let (lossy, _) = enc.decode_without_bom_handling(body);
                    let at = lossy.find('\u{FFFD}').unwrap_or(0);
                    Err(DecodeError { line: line_of(lossy.as_bytes(), at), encoding: name })
                }
            };
        }
    }
    Ok(Decoded { bytes: Cow::Borrowed(bytes), encoding: "utf-8" })
}

/// 1-based line number of byte `offset`: counts LF, CRLF and bare CR.
pub fn line_of(bytes: &[u8], offset: usize) -> u64 {
    1 + count_line_ends(&bytes[..offset.min(bytes.len())], false)
}

/// Counts line ends in `bytes`; `after_cr` says the byte before `bytes` was a CR (so a leading
/// LF belongs to that CRLF).
pub fn count_line_ends(bytes: &[u8], after_cr: bool) -> u64 {
    let mut n = 0;
    let mut prev_cr = after_cr;
    for &b in bytes {
        match b {
            b'\n' if prev_cr => {}
            b'\n' | b'\r' => n += 1,
            _ => {}
        }
        prev_cr = b == b'\r';
    }
    n
}

/// Incremental line counter for readers that walk forward through a file.
pub struct LineCounter<'a> {
    bytes: &'a [u8],
    offset: usize,
    line: u64,
}

impl<'a> LineCounter<'a> {
    pub fn new(bytes: &'a [u8]) -> Self {
        LineCounter { bytes, offset: 0, line: 1 }
    }

    /// Line of `offset`, which must not be before the previous call's offset.
    pub fn line_at(&mut self, offset: usize) -> u64 {
        let offset = offset.min(self.bytes.len());
        if offset > self.offset {
            let after_cr = self.offset > 0 && self.bytes[self.offset - 1] == b'\r';
            self.line += count_line_ends(&self.bytes[self.offset..offset], after_cr);
            self.offset = offset;
        }
        self.line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_count_every_ending() {
        let b = b"a\r\nb\rc\nd";
        assert_eq!(line_of(b, 0), 1);
        assert_eq!(line_of(b, 3), 2);
        assert_eq!(line_of(b, 5), 3);
        assert_eq!(line_of(b, 7), 4);
        let mut c = LineCounter::new(b);
        assert_eq!(c.line_at(3), 2);
        assert_eq!(c.line_at(7), 4);
    }

    #[test]
    fn decodes_boms() {
        assert_eq!(decode(b"\xEF\xBB\xBFa,b", Encoding::Auto).unwrap().bytes.as_ref(), b"a,b");
        let d = decode(b"\xFF\xFEa\0,\0b\0", Encoding::Auto).unwrap();
        assert_eq!((d.bytes.as_ref(), d.encoding), (&b"a,b"[..], "utf-16le-bom"));
        let d = decode(b"M\xfcller", Encoding::Windows1252).unwrap();
        assert_eq!(std::str::from_utf8(&d.bytes).unwrap(), "Müller");
        assert!(decode(b"\xFF\xFE\x00\xD8", Encoding::Auto).is_err());
    }
}
