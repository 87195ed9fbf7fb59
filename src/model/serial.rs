//! Serial numbers as join keys: normalisation (NFKC, no whitespace or control characters,
//! upper case) and a quality verdict, so that placeholder and virtual-machine serials never join.

use super::vocab::SerialQuality;
use serde::Serialize;
use unicode_normalization::UnicodeNormalization;

/// A serial as the source wrote it, its normalised key and its quality.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Serial {
    /// The text as found in the export (after the source's own unescaping).
    pub raw: String,
    /// NFKC, whitespace and control characters removed, upper case.
    pub key: String,
    /// Whether `key` may be used to join records.
    pub quality: SerialQuality,
}

/// Serials that vendors, agents and exports write when there is no real one. Compared against
/// the normalised key with `.` `-` `_` `/` and spaces removed.
const PLACEHOLDERS: &[&str] = &[
    "TOBEFILLEDBYOEM",
    "DEFAULTSTRING",
    "SYSTEMSERIALNUMBER",
    "CHASSISSERIALNUMBER",
    "SERIALNUMBER",
    "NOTAVAILABLE",
    "NOTAPPLICABLE",
    "NOTSPECIFIED",
    "NA",
    "NONE",
    "NULL",
    "NIL",
    "INVALID",
    "UNKNOWN",
    "REDACTED",
    "[REDACTED]",
    "0123456789",
    "123456789",
    "1234567890",
    "OEM",
    "XXXXXXXXXX",
];

/// Model or serial prefixes that mark a virtual machine.
const VIRTUAL_SERIAL_PREFIXES: &[&str] = &["VMWARE-", "PARALLELS-", "VIRTUALBOX-", "QEMU", "XEN-", "GOOGLE-"];
const VIRTUAL_MODELS: &[&str] = &[
    "virtualbox",
    "vmware virtual platform",
    "vmware7,1",
    "vmware20,1",
    "virtual machine",
    "kvm",
    "standard pc (q35 + ich9, 2009)",
    "standard pc (i440fx + piix, 1996)",
    "hvm domu",
    "parallels virtual platform",
    "google compute engine",
];

impl Serial {
    /// Classifies a serial; `model` (if the source has one) helps recognise virtual machines.
    pub fn new(raw: &str, model: Option<&str>) -> Serial {
        let key = normalize(raw);
        let quality = classify(&key, model);
        Serial { raw: raw.to_string(), key, quality }
    }

    /// A serial that the source did not give at all.
    pub fn missing() -> Serial {
        Serial { raw: String::new(), key: String::new(), quality: SerialQuality::Missing }
    }

    /// The key, if it may be used to join records.
    pub fn join_key(&self) -> Option<&str> {
        (self.quality == SerialQuality::Ok).then_some(self.key.as_str())
    }
}

/// NFKC, drop whitespace and control characters (NBSP, tabs from copy-paste), upper case.
pub fn normalize(raw: &str) -> String {
    // ASCII is already NFKC: skip the Unicode tables for the common case.
    if raw.is_ascii() {
        return raw.bytes().filter(|b| !b.is_ascii_whitespace() && !b.is_ascii_control()).map(|b| b.to_ascii_uppercase() as char).collect();
    }
    raw.nfkc().filter(|c| !c.is_whitespace() && !c.is_control() && !is_invisible(*c)).flat_map(char::to_uppercase).collect()
}

fn is_invisible(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}' | '\u{00AD}')
}

fn classify(key: &str, model: Option<&str>) -> SerialQuality {
    if key.is_empty() {
        return SerialQuality::Missing;
    }
    if let Some(model) = model {
        let model = model.trim().to_lowercase();
        if VIRTUAL_MODELS.iter().any(|m| model == *m) {
            return SerialQuality::Virtual;
        }
    }
    if VIRTUAL_SERIAL_PREFIXES.iter().any(|p| key.starts_with(p)) {
        return SerialQuality::Virtual;
    }
    let squashed: String = key.chars().filter(|c| !matches!(c, '.' | '-' | '_' | '/')).collect();
    if PLACEHOLDERS.contains(&squashed.as_str()) || PLACEHOLDERS.contains(&key) {
        return SerialQuality::Placeholder;
    }
    // One character repeated ("0", "000000", "XXXX"): no manufacturer issues such serials.
    let mut chars = squashed.chars();
    if let Some(first) = chars.next()
        && chars.all(|c| c == first)
    {
        return SerialQuality::Placeholder;
    }
    if key.chars().count() < 4 || key.chars().count() > 64 {
        return SerialQuality::Malformed;
    }
    if !key.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/' | ':' | '+' | '#')) {
        return SerialQuality::Malformed;
    }
    SerialQuality::Ok
}

/// An asset tag key: NFKC, trimmed, whitespace removed, upper case; `None` when empty.
pub fn tag_key(raw: &str) -> Option<String> {
    let key = normalize(raw);
    (!key.is_empty()).then_some(key)
}

/// True for text that Excel made from a long number (`6.37702E+15`): the digits are gone.
/// Matches `^\d([.,]\d+)?E\+\d+$`, Excel's own rendering; `12E45` stays a possible serial.
pub fn is_scientific_notation(text: &str) -> bool {
    let t = text.trim().as_bytes();
    let digits = |s: &[u8]| !s.is_empty() && s.iter().all(u8::is_ascii_digit);
    let Some(e) = t.iter().position(|b| *b == b'E' || *b == b'e') else { return false };
    let (mantissa, rest) = (&t[..e], &t[e + 1..]);
    let Some(exp) = rest.strip_prefix(b"+") else { return false };
    let mantissa_ok = match mantissa {
        [d] => d.is_ascii_digit(),
        [d, sep, frac @ ..] => d.is_ascii_digit() && (*sep == b'.' || *sep == b',') && digits(frac),
        [] => false,
    };
    mantissa_ok && digits(exp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_case_space_and_nfkc() {
        assert_eq!(normalize(" c7qk2m4xj9\u{a0}"), "C7QK2M4XJ9");
        assert_eq!(normalize("ｃ７ｑｋ\t2m4xj9"), "C7QK2M4XJ9");
        assert_eq!(Serial::new("c7qk2m4xj9 ", None).join_key(), Some("C7QK2M4XJ9"));
    }

    #[test]
    fn placeholders_and_virtual_do_not_join() {
        for raw in ["To Be Filled By O.E.M.", "Default string", "0", "N/A", "0123456789", "[REDACTED]", "000000"] {
            assert_eq!(Serial::new(raw, None).quality, SerialQuality::Placeholder, "{raw}");
        }
        assert_eq!(Serial::new("VMware-42 14 6f ea 3b", None).quality, SerialQuality::Virtual);
        assert_eq!(Serial::new("0", Some("VirtualBox")).quality, SerialQuality::Virtual);
        assert_eq!(Serial::new("", None).quality, SerialQuality::Missing);
        assert_eq!(Serial::new("ab", None).quality, SerialQuality::Malformed);
        assert_eq!(Serial::new("S/N:Ä123", None).quality, SerialQuality::Malformed);
        assert_eq!(Serial::new("0", None).join_key(), None);
    }

    #[test]
    fn recognises_excel_scientific_notation() {
        for t in ["6.37702E+15", "5.02E+18", "3.56938E+14", "1E+12", "1,2E+46"] {
            assert!(is_scientific_notation(t), "{t}");
        }
        for t in ["C02T705EGTF1", "1786VM80X07", "E+15", "6.3E", "ABCE+15", "12E45", "12E+45"] {
            assert!(!is_scientific_notation(t), "{t}");
        }
    }
}
