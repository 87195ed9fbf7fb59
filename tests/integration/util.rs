//! Running the binary against a temporary store.

use std::path::{Path, PathBuf};

/// The project root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The shared corpus beside the project; a missing corpus fails the test (it never skips).
pub fn corpus() -> PathBuf {
    let dir = root().join("../shared/corpus");
    assert!(dir.is_dir(), "the corpus must be at {} (CI has shared/ beside the project)", dir.display());
    dir
}

/// The example organisation's exports besides the register (examples/snipeit-assets.csv, which
/// needs its as-of date and status map), in the order examples/demo.sh ingests them.
pub const EXAMPLE_EXPORTS: &[&str] = &[
    "intune-managed-devices.json",
    "jamf-computers-inventory.json",
    "kandji-devices.json",
    "osquery-results.log",
    "nwipe-2026-09-14.log",
    "itad-certificates.csv",
    "blancco-FH-LOT-2610.xml",
    "hr-leavers.csv",
];

/// Output of one run.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `evident --store STORE ARGS…`.
pub fn evident(store: &Path, args: &[&str]) -> Run {
    let out = assert_cmd::Command::cargo_bin("evident")
        .expect("binary built")
        .arg("--store")
        .arg(store)
        .args(args)
        .env_remove("EVIDENT_STORE")
        .env_remove("EVIDENT_KEY_PASSPHRASE")
        .output()
        .expect("evident runs");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Counts rows in a store table (through SQLite directly, not through evident).
pub fn count(store: &Path, sql: &str) -> i64 {
    let c = rusqlite::Connection::open(store).expect("store opens");
    c.query_row(sql, [], |r| r.get(0)).expect("query runs")
}
