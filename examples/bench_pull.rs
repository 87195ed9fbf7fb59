//! Benchmark: `pull intune` of N managed devices (default 200,000) from a Microsoft Graph mock this
//! process serves on loopback, 1,000 devices a page as Graph pages them, each page generated when
//! asked. Prints the time, devices per second and evident's peak RSS (the mock's pages are
//! generated one at a time, so the figure is the pull's).
//! Run: `cargo run --release --example bench_pull [DEVICES]`
#![allow(clippy::disallowed_macros, reason = "examples and benchmarks print their figures")]

use std::io::{Read, Write};
use std::time::Instant;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const PAGE: usize = 1000;

/// One managedDevice as Graph returns it with the fields evident selects.
fn device(i: usize) -> String {
    format!(
        r#"{{"id":"6a1f{i:08x}-c8ff-4996-91ae-85484de46cfc","deviceName":"LT-{i:07}","managedDeviceName":"user{i}_Windows","serialNumber":"PF{i:08X}","model":"ThinkPad T14 Gen 4","manufacturer":"LENOVO","operatingSystem":"Windows","osVersion":"10.0.22631.4890","deviceType":"windowsRT","managementAgent":"mdm","managementState":"managed","managedDeviceOwnerType":"company","deviceEnrollmentType":"windowsAzureADJoin","deviceRegistrationState":"registered","complianceState":"{}","isSupervised":false,"isEncrypted":{},"jailBroken":"Unknown","joinType":"azureADJoined","lastSyncDateTime":"2026-11-29T{:02}:{:02}:11Z","enrolledDateTime":"2025-03-19T10:02:33Z","azureADDeviceId":"0c4c{i:08x}-2f55-4a8e-9a57-0c4c7e0f1a21","userPrincipalName":"p{i}@corp.example","emailAddress":"p{i}@corp.example"}}"#,
        if i.is_multiple_of(11) { "noncompliant" } else { "compliant" },
        !i.is_multiple_of(13),
        i % 24,
        i % 60
    )
}

/// Serves `/token` and the device list, a page per request.
fn serve(n: usize) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    let base = format!("http://{}", listener.local_addr().expect("bound"));
    let url = base.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            let mut buf = Vec::new();
            let mut chunk = [0u8; 8192];
            while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                match s.read(&mut chunk) {
                    Ok(0) | Err(_) => break,
                    Ok(k) => buf.extend_from_slice(&chunk[..k]),
                }
            }
            let head = String::from_utf8_lossy(&buf).into_owned();
            let target = head.split(' ').nth(1).unwrap_or("/").to_string();
            let body = if head.starts_with("POST") {
                r#"{"access_token":"bench-token","token_type":"Bearer","expires_in":3599}"#.to_string()
            } else {
                let page: usize = target.split("$skiptoken=").nth(1).and_then(|t| t.parse().ok()).unwrap_or(0);
                let items: Vec<String> = (page * PAGE..((page + 1) * PAGE).min(n)).map(device).collect();
                let next = if (page + 1) * PAGE < n {
                    format!(r#","@odata.nextLink":"{base}/v1.0/deviceManagement/managedDevices?$skiptoken={}""#, page + 1)
                } else {
                    String::new()
                };
                format!(
                    r#"{{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#deviceManagement/managedDevices","@odata.count":{n},"value":[{}]{next}}}"#,
                    items.join(",")
                )
            };
            let _ = write!(s, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len());
        }
    });
    url
}

fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status.lines().find_map(|l| l.strip_prefix("VmHWM:")).and_then(|v| v.split_whitespace().next()?.parse().ok()).unwrap_or(0)
}

/// A fixed clock: the figures do not depend on the time.
fn clock() -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339("2026-11-30T02:00:00Z").expect("a valid time").to_utc()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    use evident::pull::{auth, http, sources};
    let n: usize = std::env::args().nth(1).map(|s| s.parse()).transpose()?.unwrap_or(200_000);
    let url = serve(n);
    let dir = std::env::temp_dir().join(format!("evident-bench-pull-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let mut store = evident::store::Store::open(&dir.join("s.db"), std::time::Duration::from_secs(5))?;
    let plan =
        sources::Plan { kind: evident::pull::Kind::Intune, base: format!("{url}/v1.0"), page_size: 1000, customer: String::new(), google_api: String::new() };
    let client = http::Client::new(http::Policy::default(), None, clock)?;
    let mut tokens = auth::Tokens::new(auth::Auth::ClientCredentials {
        token_url: format!("{url}/tenant/oauth2/v2.0/token"),
        client_id: "bench".into(),
        secret: auth::Secret::new("bench-secret".into()),
        scope: None,
    });
    let t = Instant::now();
    let report = evident::pull::into_store(&mut store, &plan, &client, &mut tokens, &evident::ingest::Options::default(), clock, &|_, _| {})?;
    let secs = t.elapsed().as_secs_f64();
    let read: u64 = report.ingests.iter().map(|r| r.counts.read).sum();
    assert_eq!(read as usize, n, "every device read");
    assert_eq!(report.outcome.items as usize, n);
    println!("pull intune: {n} devices in {} pages, {secs:.2} s, {:.0} devices/s", report.outcome.pages, n as f64 / secs);
    println!("  peak RSS {:.0} MiB", peak_rss_kib() as f64 / 1024.0);
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
