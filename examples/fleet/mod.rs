//! A generated fleet of N devices: a Snipe-IT register and an Intune Graph export with the shapes
//! of examples/ (same serials, one device in fifty failing each kind of test), for bench_scale and
//! for the test that a pack of it keeps every per-item outcome.

use std::io::Write;
use std::path::{Path, PathBuf};

/// Per fifty devices: 47 deployed, one in stock, one in repair, one disposed; of the deployed, one
/// is unencrypted, one not compliant, one has not synced since August and two are in the register
/// only (not enrolled): the pack carries findings as well as passes.
pub fn generate(dir: &Path, n: usize) -> std::io::Result<(PathBuf, PathBuf)> {
    let csv = dir.join("snipeit-assets.csv");
    let mut f = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(&csv)?);
    f.write_all(
        "\u{feff}ID,Company,Asset Name,Asset Tag,Model,Model No.,Category,Manufacturer,Serial,Purchased,Cost,Location,Checked Out,Type,Username,Email,Status,Last Checkin Date,Notes\n"
            .as_bytes(),
    )?;
    let models = ["Latitude 7440", "ThinkPad T14 Gen 4", "OptiPlex 7010", "EliteBook 840 G10"];
    for i in 0..n {
        let (status, user) = match i % 50 {
            47 => ("Ready to Deploy (deployable)", ",,,".to_string()),
            48 => ("Out for Repair (undeployable)", ",,,".to_string()),
            49 => ("Disposed (archived)", ",,,".to_string()),
            _ => ("Ready to Deploy (deployed)", format!("Person {i},user,p{i},p{i}@corp.example")),
        };
        writeln!(
            f,
            "{},Acme GmbH,LT-{i:07},A-{i:07},{},,Laptops,Dell,{},2024-{:02}-{:02},\"1,099.00\",Berlin HQ,{user},{status},2026-10-{:02},",
            100 + i,
            models[i % 4],
            serial(i),
            1 + i % 12,
            1 + i % 28,
            1 + i % 28
        )?;
    }
    f.flush()?;
    let json = dir.join("intune-managed-devices.json");
    let mut f = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(&json)?);
    f.write_all(b"{\n \"@odata.context\": \"https://graph.microsoft.com/v1.0/$metadata#deviceManagement/managedDevices\",\n \"value\": [")?;
    let mut first = true;
    for i in 0..n {
        // Every 25th deployed device is in the register only (not enrolled).
        if i % 50 == 13 || i % 50 == 38 {
            continue;
        }
        let encrypted = i % 50 != 7;
        let compliance = if i % 50 == 21 { "noncompliant" } else { "compliant" };
        let sync = if i % 50 == 29 { "2026-08-02T10:20:45Z".to_string() } else { format!("2026-10-{:02}T10:20:45Z", 25 + i % 7) };
        write!(
            f,
            "{}\n  {{\n   \"id\": \"{:08x}-2f55-4a8e-9a57-{:012x}\",\n   \"deviceName\": \"ACME-WIN-{i:07}\",\n   \"serialNumber\": \"{}\",\n   \"manufacturer\": \"Dell Inc.\",\n   \"model\": \"{}\",\n   \"operatingSystem\": \"Windows\",\n   \"osVersion\": \"10.0.22631.4890\",\n   \"userPrincipalName\": \"p{i}@corp.example\",\n   \"managedDeviceOwnerType\": \"company\",\n   \"enrolledDateTime\": \"2025-03-11T08:11:02Z\",\n   \"lastSyncDateTime\": \"{sync}\",\n   \"complianceState\": \"{compliance}\",\n   \"managementAgent\": \"mdm\",\n   \"deviceEnrollmentType\": \"windowsAzureADJoin\",\n   \"isEncrypted\": {encrypted},\n   \"isSupervised\": false\n  }}",
            if first { "" } else { "," },
            i,
            i * 7919,
            serial(i),
            models[i % 4],
        )?;
        first = false;
    }
    f.write_all(b"\n ]\n}\n")?;
    f.flush()?;
    Ok((csv, json))
}

pub fn serial(i: usize) -> String {
    format!("SN{:08X}", (i as u64).wrapping_mul(2_654_435_761) % 0xFFFF_FFFF)
}
