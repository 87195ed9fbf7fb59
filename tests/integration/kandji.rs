//! Kandji's tri-state traps: `filevault_enabled: null` (an iPad) is not applicable, a missing
//! FileVault section or an empty `encrypted` is unknown, booleans written as strings are read as
//! booleans, `user: ""` is nobody — and none of them ever becomes "not encrypted".

use crate::util::{corpus, evident, root};

fn states(store: &std::path::Path, serial: &str) -> Vec<(String, Option<String>, String, String)> {
    let c = rusqlite::Connection::open(store).unwrap();
    let mut st = c.prepare("SELECT scope, volume, state, recovery_key FROM encryption WHERE serial_key = ?1 ORDER BY scope, volume").unwrap();
    st.query_map([serial], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))).unwrap().map(Result::unwrap).collect()
}

fn ingest(file: &std::path::Path) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("s.db");
    let r = evident(&store, &["ingest", "--source-tz", "UTC", file.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("kandji_api"), "detected as Kandji: {}", r.stdout);
    (dir, store)
}

#[test]
fn filevault_null_on_an_ipad_is_not_applicable_never_not_encrypted() {
    let (_d, store) = ingest(&root().join("tests/fixtures/kandji_api/details-ipad-filevault-null.json"));
    assert_eq!(states(&store, "H4TPX9V2QR"), vec![("device".into(), None, "not_applicable".into(), "not_applicable".into())]);
}

#[test]
fn missing_filevault_and_empty_volume_flags_are_unknown() {
    let (_d, store) = ingest(&root().join("tests/fixtures/kandji_api/details-mac-unknowns.json"));
    let got = states(&store, "C9VN4R7TKQ");
    let want: Vec<(String, Option<String>, String, String)> = vec![
        ("boot_volume".into(), Some("Macintosh HD".into()), "not_applicable".into(), "unknown".into()),
        ("data_volume".into(), Some("Macintosh HD - Data".into()), "unknown".into(), "unknown".into()),
        ("data_volume".into(), Some("Scratch".into()), "not_encrypted".into(), "unknown".into()),
        ("device".into(), None, "unknown".into(), "unknown".into()),
    ];
    assert_eq!(got, want);
    // `supervised: ""` is unknown (NULL), not false; the user object gives the email.
    let c = rusqlite::Connection::open(&store).unwrap();
    let (sup, user): (Option<i64>, Option<String>) =
        c.query_row("SELECT supervised, user_principal FROM enrollment", [], |r| Ok((r.get(0)?, r.get(1)?))).unwrap();
    assert_eq!((sup, user.as_deref()), (None, Some("j.mbeki@fernhill.example")));
}

#[test]
fn list_booleans_as_strings_and_empty_user() {
    let (_d, store) = ingest(&root().join("tests/fixtures/kandji_api/good.json"));
    let c = rusqlite::Connection::open(&store).unwrap();
    let rows: Vec<(String, String, Option<String>)> = c
        .prepare("SELECT serial_key, state, user_principal FROM enrollment ORDER BY serial_key")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        rows,
        vec![
            ("C9VN4R7TKQ".into(), "enrolled".into(), Some("j.mbeki@fernhill.example".into())),
            ("H4TPX9V2QR".into(), "enrolled".into(), None),
            ("K7WQ3N2XLP".into(), "enrolled".into(), Some("rosa.lindqvist@fernhill.example".into())),
            ("M2KX7FQ4WD".into(), "unenrolled".into(), Some("t.okafor@fernhill.example".into())),
        ]
    );
    // The list says nothing about encryption: no encryption record is invented.
    assert_eq!(crate::util::count(&store, "SELECT count(*) FROM encryption"), 0);
}

#[test]
fn corpus_details_keep_the_sealed_system_volume_out_of_enc_01() {
    let (_d, store) = ingest(&corpus().join("kandji/api-v1-devices-id-details.json"));
    let got = states(&store, "C02D91CNPV4M");
    assert!(got.contains(&("device".into(), None, "encrypted".into(), "not_escrowed".into())), "{got:?}");
    assert!(got.contains(&("boot_volume".into(), Some("Macintosh HD".into()), "not_applicable".into(), "unknown".into())), "{got:?}");
    assert!(got.contains(&("data_volume".into(), Some("Macintosh HD - Data".into()), "encrypted".into(), "unknown".into())), "{got:?}");
    assert!(!got.iter().any(|g| g.2 == "not_encrypted"), "{got:?}");
}
