//! Every failure code `verify` can report is documented where users look for it: docs/FORMAT.md
//! (packs) or docs/certificates.md (certificates). The codes are read from the sources.

use crate::util::root;
use std::collections::BTreeSet;

/// The string literal right after `at` (skipping whitespace), if there is one.
fn literal_after(text: &str, at: usize) -> Option<(&str, &str)> {
    let rest = text[at..].trim_start();
    let rest = rest.strip_prefix('"')?;
    let end = rest.find('"')?;
    Some((&rest[..end], &rest[end + 1..]))
}

fn failure_codes(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let is_code = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_lowercase() || b == b'-' || b.is_ascii_digit());
    for call in ["r.fail(", "finding(", "push("] {
        for (i, _) in text.match_indices(call) {
            if let Some((code, after)) = literal_after(text, i + call.len()) {
                // push(code, ok, …): only the ones that fail.
                let fails = call != "push(" || after.trim_start().trim_start_matches(',').trim_start().starts_with("false");
                if is_code(code) && fails {
                    out.insert(code.to_string());
                }
            }
        }
    }
    for (i, _) in text.match_indices("code: \"") {
        if let Some((code, after)) = literal_after(text, i + "code:".len()) {
            if is_code(code) && after.trim_start().starts_with(", ok: false") {
                out.insert(code.to_string());
            }
        }
    }
    for (i, _) in text.match_indices("} else { \"") {
        if let Some((code, _)) = literal_after(text, i + "} else {".len()) {
            if is_code(code) && code.contains('-') {
                out.insert(code.to_string());
            }
        }
    }
    out
}

#[test]
fn every_failure_code_is_documented() {
    let src = |p: &str| std::fs::read_to_string(root().join(p)).unwrap();
    let codes: BTreeSet<String> = ["src/verify.rs", "src/certificate/mod.rs", "src/certificate/record.rs", "src/ledger.rs"].iter().flat_map(|p| failure_codes(&src(p))).collect();
    // The reader finds the codes it must (a guard against the scan silently finding nothing).
    for must in ["file-hash-mismatch", "chain-fork", "ledger-rewritten", "countersigner-not-independent", "record-hash-mismatch", "archive-not-canonical", "path-unsafe", "encoding-not-canonical", "pdf-rendering-skipped"] {
        assert!(codes.contains(must), "the scan misses {must}: {codes:?}");
    }
    let docs = src("docs/FORMAT.md") + &src("docs/certificates.md");
    let missing: Vec<&String> = codes.iter().filter(|c| !docs.contains(&format!("`{c}`"))).collect();
    assert!(missing.is_empty(), "undocumented failure codes: {missing:?}");
}
