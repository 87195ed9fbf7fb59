//! Every check code `verify` can report is one `Code` (src/check.rs), unique, and documented
//! where users look for it: docs/FORMAT.md (packs) or docs/certificates.md (certificates).

use crate::util::root;
use evident::check::Code;
use std::collections::BTreeSet;

#[test]
fn every_check_code_is_unique_and_documented() {
    let texts: Vec<&str> = Code::ALL.iter().map(|c| c.as_str()).collect();
    let unique: BTreeSet<&str> = texts.iter().copied().collect();
    assert_eq!(unique.len(), texts.len(), "two codes print alike: {texts:?}");
    // The codes this suite relies on elsewhere are among them (the list is the real one).
    for must in [
        "file-hash-mismatch",
        "chain-fork",
        "ledger-rewritten",
        "countersigner-not-independent",
        "archive-not-canonical",
        "path-unsafe",
        "encoding-not-canonical",
        "pdf-rendering-skipped",
    ] {
        assert!(unique.contains(must), "{must}");
    }
    let docs = std::fs::read_to_string(root().join("docs/FORMAT.md")).unwrap() + &std::fs::read_to_string(root().join("docs/certificates.md")).unwrap();
    let missing: Vec<&&str> = texts.iter().filter(|c| !docs.contains(&format!("`{c}`"))).collect();
    assert!(missing.is_empty(), "undocumented check codes: {missing:?}");
}
