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

/// One HTTP request: method, target, lower-case headers and body.
pub type Request = (String, String, std::collections::BTreeMap<String, String>, Vec<u8>);

/// Reads one HTTP/1.1 request (the body by Content-Length), for the servers tests start on
/// loopback (a TSA, mock APIs, a proxy).
pub fn read_request(s: &mut std::net::TcpStream) -> Option<Request> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let end = loop {
        let n = std::io::Read::read(s, &mut chunk).ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break p;
        }
    };
    let head = String::from_utf8_lossy(&buf[..end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let (method, target) = (first.next()?.to_string(), first.next()?.to_string());
    let headers: std::collections::BTreeMap<String, String> =
        lines.filter_map(|l| l.split_once(':')).map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string())).collect();
    let len: usize = headers.get("content-length").and_then(|v| v.parse().ok()).unwrap_or(0);
    let mut body = buf[end + 4..].to_vec();
    while body.len() < len {
        let n = std::io::Read::read(s, &mut chunk).ok()?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    Some((method, target, headers, body))
}
