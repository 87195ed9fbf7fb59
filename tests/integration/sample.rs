//! Audit samples from a pack of examples/: the same seed gives the same bytes, another seed
//! another selection, a small population is taken whole; a sample whose selection, pack or
//! population was changed fails `verify` with its code; the stock recipe of docs/FORMAT.md §8
//! gives the same items; the workpaper opens in a spreadsheet reader with formula-like text
//! kept as text; and `trace` shows a device's register, MDM, encryption and wipe rows.

use crate::pack::{Org, copy_dir, org};
use crate::util::{evident, root};
use evident::sample::{SampleFile, workpaper};
use evident::sign::SecretKey;
use std::path::{Path, PathBuf};

/// An organisation's pack, and an auditor's key trusted beside the compliance key.
struct Audit {
    org: Org,
    pack: PathBuf,
    key: PathBuf,
    trust: PathBuf,
}

fn audit() -> Audit {
    let org = org();
    let pack = org.pack("p1", "2026-10-31");
    let keys = org.dir.path().join("auditor");
    let r = evident(&org.store, &["keygen", "--no-passphrase", "--role", "auditor", "--name", "Ines Park (Example LLP)", "--out", keys.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let trust = org.dir.path().join("auditor.trust");
    let text = std::fs::read_to_string(&org.trust).unwrap() + &std::fs::read_to_string(keys.join("ines-park-example-llp.trust")).unwrap();
    std::fs::write(&trust, text).unwrap();
    Audit { key: keys.join("ines-park-example-llp.key.pem"), org, pack, trust }
}

impl Audit {
    /// `evident sample` of `pack` into `out` with these extra arguments; the run.
    fn sample(&self, pack: &Path, out: &Path, extra: &[&str]) -> crate::util::Run {
        let mut args = vec![
            "sample",
            pack.to_str().unwrap(),
            "--trust",
            self.trust.to_str().unwrap(),
            "--key",
            self.key.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ];
        args.extend(extra);
        evident(&self.org.store, &args)
    }

    fn drawn(&self, name: &str, extra: &[&str]) -> (PathBuf, SampleFile) {
        let out = self.org.dir.path().join(name);
        let r = self.sample(&self.pack, &out, extra);
        assert_eq!(r.code, 0, "{}", r.stderr);
        let file: SampleFile = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
        (out, file)
    }

    /// `evident verify SAMPLE --pack PACK` in JSON: exit code and failed codes.
    fn verify(&self, sample: &Path, pack: &Path, trust: &Path) -> (i32, Vec<String>) {
        let r = evident(
            &self.org.store,
            &["verify", sample.to_str().unwrap(), "--pack", pack.to_str().unwrap(), "--trust", trust.to_str().unwrap(), "--format", "json"],
        );
        assert!(r.code == 0 || r.code == 1, "verify could not run: {}", r.stderr);
        let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}: {}", r.stdout));
        assert_eq!(v["kind"], "sample");
        let failed = v["checks"].as_array().unwrap().iter().filter(|c| c["ok"] == false).map(|c| c["code"].as_str().unwrap().to_string()).collect();
        (r.code, failed)
    }

    /// Writes an edited sample, signed again with the auditor's own key (the auditor as forger).
    fn forge(&self, from: &SampleFile, name: &str, edit: impl FnOnce(&mut evident::sample::Sample)) -> PathBuf {
        let mut s = from.sample.clone();
        edit(&mut s);
        let out = self.org.dir.path().join(name);
        std::fs::write(&out, SampleFile::sign(s, &SecretKey::load(&self.key).unwrap()).to_bytes()).unwrap();
        out
    }
}

fn items(f: &SampleFile) -> Vec<String> {
    f.sample.selected.iter().map(|i| i.item.clone()).collect()
}

#[test]
fn a_seed_gives_one_sample_anyone_can_re_derive_and_edits_fail_with_their_code() {
    let a = audit();
    let (p1, s1) = a.drawn("s1.json", &["--control", "ENC-01", "--seed", "4711", "--csv", a.org.dir.path().join("s1.csv").to_str().unwrap()]);
    // The population is the control's 39 devices; the default table takes 5 of 6–50.
    assert_eq!((s1.sample.population.path.as_str(), s1.sample.population.items, s1.sample.selected.len()), ("results/controls/ENC-01/2026-10-31.jsonl", 39, 5));
    // Same seed, same pack (here read from its .tar): byte-identical.
    let again = a.org.dir.path().join("s1-again.json");
    let r = a.sample(&a.pack.with_file_name("p1.tar"), &again, &["--control", "ENC-01", "--seed", "4711"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(std::fs::read(&p1).unwrap(), std::fs::read(&again).unwrap());
    // An existing sample is never overwritten.
    let r = a.sample(&a.pack, &p1, &["--control", "ENC-01", "--seed", "4712"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("never overwritten"), "{}", r.stderr);
    // Another seed: another selection.
    let (_, s2) = a.drawn("s2.json", &["--control", "ENC-01", "--seed", "4712"]);
    assert_ne!(items(&s1), items(&s2));
    // Each item carries its population line and the device's records from the joined view.
    for it in &s1.sample.selected {
        assert_eq!(it.entry["item"], it.item.as_str());
        assert!(it.records.iter().any(|r| r.starts_with("snipeit_csv:snipeit-assets.csv@")), "{:?}", it.records);
    }
    // A population no larger than the size: every item, each once.
    let (_, all) = a.drawn("all.json", &["--control", "ENC-01", "--seed", "1", "--size", "100"]);
    let mut got = items(&all);
    got.sort();
    got.dedup();
    let pop = std::fs::read_to_string(a.pack.join("results/controls/ENC-01/2026-10-31.jsonl")).unwrap();
    let mut want: Vec<String> = pop.lines().map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["item"].as_str().unwrap().to_string()).collect();
    want.sort();
    assert_eq!(got, want);
    let (_, small) = a.drawn("itad.json", &["--control", "ITAD-01", "--seed", "1"]);
    assert_eq!((small.sample.population.items, small.sample.selected.len()), (1, 1));
    // The exceptions only: ENC-01's failing devices.
    let (_, fails) = a.drawn("fails.json", &["--control", "ENC-01", "--outcome", "fail", "--seed", "9"]);
    assert_eq!(fails.sample.population.items, 3);
    assert!(fails.sample.selected.iter().all(|i| i.entry["outcome"] == "fail"));

    // The raw exports as a population (a listing of the manifest), sized by the auditor's table.
    let table = a.org.dir.path().join("sizes.toml");
    std::fs::write(&table, "[[band]]\nup_to = 3\nall = true\n[[band]]\npercent = 20\n").unwrap();
    let (sp, sources) = a.drawn("sources.json", &["--population", "sources/", "--seed", "3", "--size-table", table.to_str().unwrap()]);
    let exports =
        std::fs::read_dir(a.pack.join("sources")).unwrap().filter(|e| !e.as_ref().unwrap().file_name().to_string_lossy().ends_with(".ingest.json")).count()
            as u64;
    assert_eq!((sources.sample.population.items, sources.sample.selected.len() as u64), (exports, (exports * 20).div_ceil(100)));
    assert!(sources.sample.selected.iter().all(|i| i.item.starts_with("sources/") && i.entry["sha256"].is_string()));
    assert_eq!(a.verify(&sp, &a.pack, &a.trust), (0, vec![]));

    assert_eq!(a.verify(&p1, &a.pack, &a.trust), (0, vec![]));
    assert_eq!(a.verify(&p1, &a.pack.with_file_name("p1.tar"), &a.trust), (0, vec![]));
    // Edited without the key: the hash no longer holds.
    // (An item the population holds that the sample did not select: the keys are fresh each run,
    // so another seed's first item could be this one's.)
    let stranger = want.iter().find(|i| !items(&s1).contains(i)).unwrap();
    let text = std::fs::read_to_string(&p1).unwrap().replacen(&s1.sample.selected[0].item, stranger, 1);
    let edited = a.org.dir.path().join("edited.json");
    std::fs::write(&edited, text).unwrap();
    assert_eq!(a.verify(&edited, &a.pack, &a.trust), (1, vec!["sample-hash-mismatch".to_string()]));
    // Edited and signed again: the selection is not the rule's.
    let replacement = s2.sample.selected.iter().find(|i| !items(&s1).contains(&i.item)).unwrap().clone();
    let swapped = a.forge(&s1, "swapped.json", |s| s.selected[0] = replacement);
    assert_eq!(a.verify(&swapped, &a.pack, &a.trust), (1, vec!["sample-mismatch".to_string()]));
    let fewer = a.forge(&s1, "fewer.json", |s| {
        s.selected.pop();
    });
    assert_eq!(a.verify(&fewer, &a.pack, &a.trust), (1, vec!["sample-mismatch".to_string()]));
    let reason = a.forge(&s1, "reason.json", |s| {
        // Another outcome than the population line's (whatever this seed selected first).
        let flipped = if s.selected[0].entry["outcome"] == "fail" { "pass" } else { "fail" };
        s.selected[0].entry.insert("outcome".into(), flipped.into());
    });
    assert_eq!(a.verify(&reason, &a.pack, &a.trust), (1, vec!["sample-mismatch".to_string()]));
    // Another population, or the same path with another file or count.
    let other = a.forge(&s1, "other-pop.json", |s| s.population.path = "results/controls/MDM-01/2026-10-31.jsonl".into());
    assert_eq!(a.verify(&other, &a.pack, &a.trust), (1, vec!["population-mismatch".to_string()]));
    let count = a.forge(&s1, "count.json", |s| s.population.items = 38);
    assert_eq!(a.verify(&count, &a.pack, &a.trust), (1, vec!["population-mismatch".to_string()]));
    // Another pack of the same store (the next in the chain): not the one the sample names.
    let p2 = a.org.pack("p2", "2026-10-31");
    assert_eq!(a.verify(&p1, &p2, &a.trust), (1, vec!["pack-mismatch".to_string()]));
    // A pack that does not verify.
    let broken = a.org.dir.path().join("broken");
    copy_dir(&a.pack, &broken);
    std::fs::write(broken.join("results/controls/ENC-01/2026-10-31.jsonl"), "{}\n").unwrap();
    assert_eq!(a.verify(&p1, &broken, &a.trust), (1, vec!["pack-invalid".to_string()]));
    // The auditor's key must be trusted, as auditor.
    assert_eq!(a.verify(&p1, &a.pack, &a.org.trust), (1, vec!["key-untrusted".to_string()]));
    let as_compliance = a.org.dir.path().join("wrong-role.trust");
    let line = std::fs::read_to_string(a.key.with_file_name("ines-park-example-llp.trust")).unwrap().replacen("auditor", "compliance", 1);
    std::fs::write(&as_compliance, std::fs::read_to_string(&a.org.trust).unwrap() + &line).unwrap();
    assert_eq!(a.verify(&p1, &a.pack, &as_compliance), (1, vec!["key-wrong-role".to_string()]));
    // The compliance key does not sign samples.
    let r = evident(
        &a.org.store,
        &[
            "sample",
            a.pack.to_str().unwrap(),
            "--trust",
            a.trust.to_str().unwrap(),
            "--key",
            a.org.key.to_str().unwrap(),
            "--control",
            "ENC-01",
            "--seed",
            "1",
            "--out",
            a.org.dir.path().join("by-compliance.json").to_str().unwrap(),
        ],
    );
    assert_eq!(r.code, 2);
    assert!(!a.org.dir.path().join("by-compliance.json").exists());

    // The CSV workpaper: a header and one row per item, in rank order.
    let csv = std::fs::read_to_string(a.org.dir.path().join("s1.csv")).unwrap();
    let rows: Vec<csv::StringRecord> = csv::Reader::from_reader(csv.as_bytes()).records().map(Result::unwrap).collect();
    assert_eq!(rows.iter().map(|r| r[1].to_string()).collect::<Vec<_>>(), items(&s1));
    assert!(rows.iter().all(|r| r[9].is_empty() && r[11].is_empty()), "tested by and result are left to the auditor");
}

#[test]
fn the_format_md_recipe_re_derives_the_sample_with_stock_tools() {
    let a = audit();
    let (p1, s1) = a.drawn("s1.json", &["--control", "MDM-01", "--seed", "dice 3 5 6 2"]);
    let certs = a.drawn("certs.json", &["--population", "results/assets/2026-10-31.jsonl", "--seed", "7", "--size", "3"]).1;
    assert_eq!(certs.sample.selected.len(), 3);
    let doc = std::fs::read_to_string(root().join("docs/FORMAT.md")).unwrap();
    let section = &doc[doc.find("## 8. Audit samples").expect("FORMAT.md §8")..];
    let section = &section[..section.find("\n## 9.").unwrap_or(section.len())];
    let blocks: Vec<&str> = section.split("```").skip(1).step_by(2).map(str::trim).collect();
    assert_eq!(blocks.len(), 2, "§8 has the selection recipe and the signature recipe");
    let dir = a.org.dir.path().join("stock");
    copy_dir(&a.pack, &dir);
    let der = "der() { printf '%s' \"$1\" | tr a-f A-F | basenc --base16 -d; }\n";
    // Each block as written: its last line's status is the block's.
    let run_block = |sample: &Path, block: &str| {
        std::fs::copy(sample, dir.join("sample.json")).unwrap();
        let out = std::process::Command::new("bash").args(["-euo", "pipefail", "-c", &format!("{der}{block}")]).current_dir(&dir).output().expect("bash runs");
        (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr))
    };
    let run = |sample: &Path| run_block(sample, blocks[0]);
    let (ok, said) = run(&p1);
    assert!(ok, "{said}");
    assert!(said.contains("same pack, same population") && said.contains("same selection"), "{said}");
    let (ok, said) = run_block(&p1, blocks[1]);
    assert!(ok && said.contains("Signature Verified Successfully"), "{said}");
    let derived = std::fs::read_to_string(dir.join("derived.txt")).unwrap();
    assert_eq!(derived.lines().collect::<Vec<_>>(), items(&s1));
    // A selection that is not the rule's fails the stock recipe too.
    let (_, other) = a.drawn("other.json", &["--control", "MDM-01", "--seed", "another"]);
    let swapped = a.forge(&s1, "swapped.json", |s| s.selected = other.sample.selected.clone());
    let (ok, said) = run(&swapped);
    assert!(!ok && !said.contains("same selection"), "the recipe must fail on a swapped selection: {said}");
}

#[test]
fn the_workpaper_opens_in_a_spreadsheet_reader_and_formula_like_text_stays_text() {
    use calamine::{Data, Reader, Xlsx};
    let a = audit();
    let (_, mut file) = a.drawn("s.json", &["--control", "ENC-01", "--seed", "5"]);
    // Text a register could hold, and a spreadsheet would run.
    let hostile = ["=HYPERLINK(\"http://evil.example\",\"click\")", "+1+1", "-2+3", "@SUM(A1:A2)"];
    for (it, bad) in file.sample.selected.iter_mut().zip(hostile) {
        it.entry.insert("reason".into(), bad.into());
    }
    let bytes = workpaper::xlsx(&file).unwrap();
    assert_eq!(bytes, workpaper::xlsx(&file).unwrap(), "same sample, same bytes");
    let path = a.org.dir.path().join("w.xlsx");
    std::fs::write(&path, &bytes).unwrap();
    let mut book: Xlsx<_> = calamine::open_workbook(&path).unwrap();
    assert_eq!(book.sheet_names(), ["sample", "about"]);
    let range = book.worksheet_range("sample").unwrap();
    let rows: Vec<Vec<String>> = range.rows().map(|r| r.iter().map(|c| c.to_string()).collect()).collect();
    assert_eq!(rows[0][..4], ["#", "item", "asset tag", "date"]);
    assert_eq!(rows.len(), 1 + file.sample.selected.len());
    for (i, bad) in hostile.iter().enumerate() {
        assert_eq!(range.get_value((i as u32 + 1, 5)), Some(&Data::String(bad.to_string())), "the cell holds the text as written");
    }
    let formulas = book.worksheet_formula("sample").unwrap();
    assert!(formulas.used_cells().all(|(_, _, f)| f.is_empty()), "no cell is a formula");
    // Excel's quote prefix marks those cells as text, so editing them does not make a formula.
    let mut zip = zip::ZipArchive::new(std::fs::File::open(&path).unwrap()).unwrap();
    let mut styles = String::new();
    std::io::Read::read_to_string(&mut zip.by_name("xl/styles.xml").unwrap(), &mut styles).unwrap();
    assert!(styles.contains("quotePrefix=\"1\""), "{styles}");
    let about = book.worksheet_range("about").unwrap();
    assert!(about.rows().any(|r| r[0] == Data::String("seed".into()) && r[1] == Data::String("5".into())));
    // In CSV the same cells start with a quote.
    let csv = String::from_utf8(workpaper::csv(&file)).unwrap();
    let rows: Vec<csv::StringRecord> = csv::Reader::from_reader(csv.as_bytes()).records().map(Result::unwrap).collect();
    for (row, bad) in rows.iter().zip(hostile) {
        assert_eq!(&row[5], format!("'{bad}"));
    }
}

#[test]
fn trace_shows_a_devices_register_mdm_encryption_and_wipe_rows() {
    let a = audit();
    let run = |args: &[&str]| {
        let r = evident(&a.org.store, args);
        assert_eq!(r.code, 0, "{}", r.stderr);
        serde_json::from_str::<serde_json::Value>(&r.stdout).unwrap()
    };
    let pack = a.pack.to_str().unwrap();
    let trust = a.trust.to_str().unwrap();
    // A retired Mac: the register (Snipe-IT), its MDM with FileVault (Jamf), and the nwipe run of its drive.
    let t = run(&["trace", "FH-1091", "--pack", pack, "--trust", trust, "--format", "json"]);
    assert_eq!(t["devices"], serde_json::json!(["C02426TV72N8"]));
    let raw = |source: &str| -> String {
        let rows: Vec<&serde_json::Value> = t["records"].as_array().unwrap().iter().filter(|r| r["source"] == source).collect();
        assert!(!rows.is_empty(), "{source} in {}", t["records"]);
        rows.iter().map(|r| r["raw"].as_str().unwrap().to_string()).collect::<Vec<_>>().join("\n")
    };
    assert!(raw("snipeit_csv").starts_with("140,Fernhill Labs GmbH,LT-1091,FH-1091,"), "{}", raw("snipeit_csv"));
    let jamf = raw("jamf_api");
    assert!(jamf.contains("\"assetTag\": \"FH-1091\"") && jamf.contains("\"partitionFileVault2State\": \"ENCRYPTED\""), "{jamf}");
    assert!(serde_json::from_str::<serde_json::Value>(jamf.trim().trim_end_matches(',')).is_ok(), "the whole JSON element: {jamf}");
    assert!(raw("nwipe_log").contains("S/N=SQYUG59YR5JBDN"), "{}", raw("nwipe_log"));
    let controls: Vec<(String, String)> =
        t["controls"].as_array().unwrap().iter().map(|c| (c["control"].as_str().unwrap().to_string(), c["item"].as_str().unwrap().to_string())).collect();
    assert!(controls.contains(&("DISP-02".into(), "drive:SQYUG59YR5JBDN".into())), "its drive's wipe: {controls:?}");
    assert!(controls.contains(&("REC-01".into(), "C02426TV72N8".into())), "{controls:?}");
    // A deployed Mac whose encryption comes from osquery beside Kandji.
    let t = run(&["trace", "K4V7QX2N9M", "--pack", pack, "--trust", trust, "--format", "json"]);
    let sources: Vec<&str> = t["records"].as_array().unwrap().iter().map(|r| r["source"].as_str().unwrap()).collect();
    assert!(sources.contains(&"osquery_json") && sources.contains(&"kandji_api") && sources.contains(&"snipeit_csv"), "{sources:?}");
    let osq = t["records"].as_array().unwrap().iter().find(|r| r["source"] == "osquery_json").unwrap();
    assert!(osq["raw"].as_str().unwrap().contains("\"filevault_status\":\"on\""), "{osq}");
    let enc: Vec<&serde_json::Value> = t["controls"].as_array().unwrap().iter().filter(|c| c["control"] == "ENC-01").collect();
    assert_eq!(enc.len(), 1, "one outcome per sample date");
    // From the store: the same rows, no pack needed; with --as-of, the controls' outcomes too.
    let t = run(&["trace", "FH-1091", "--format", "json"]);
    assert!(t["records"].as_array().unwrap().iter().any(|r| r["source"] == "nwipe_log" && r["raw"].as_str().unwrap().contains("SQYUG59YR5JBDN")));
    assert!(t["controls"].as_array().unwrap().is_empty());
    let t = run(&["trace", "FH-1091", "--as-of", "2026-10-31", "--format", "json"]);
    let from_store: Vec<(String, String)> =
        t["controls"].as_array().unwrap().iter().map(|c| (c["control"].as_str().unwrap().to_string(), c["item"].as_str().unwrap().to_string())).collect();
    assert!(
        from_store.contains(&("DISP-02".into(), "drive:SQYUG59YR5JBDN".into())) && from_store.contains(&("REC-01".into(), "C02426TV72N8".into())),
        "{from_store:?}"
    );
    let r = evident(&a.org.store, &["trace", "FH-1091", "--pack", pack, "--trust", trust, "--as-of", "2026-10-31"]);
    assert_eq!(r.code, 2, "a pack holds its own outcomes");
    // A key nothing names: exit 2, said so.
    let r = evident(&a.org.store, &["trace", "NO-SUCH-DEVICE", "--pack", pack, "--trust", trust]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("NO-SUCH-DEVICE"), "{}", r.stderr);
}

#[test]
fn the_packs_report_lists_a_sample_with_links_to_its_rows() {
    let a = audit();
    let (_, mut file) = a.drawn("s.json", &["--control", "ENC-01", "--seed", "4711"]);
    // Text from a sample is shown as text, never markup.
    file.sample.selected[0].entry.insert("reason".into(), "<img src=x onerror=alert(1)>".into());
    let json = String::from_utf8(file.to_bytes()).unwrap();
    let encoded: String = json.bytes().map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") }).collect();
    let url = format!("file://{}#sample={encoded}", a.pack.join("report/index.html").display());
    let out = crate::report::chromium(&["--virtual-time-budget=2000", "--dump-dom", &url], &a.org.dir.path().join("profile"));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let dom = String::from_utf8(out.stdout).unwrap();
    let rows = crate::report::body_rows(&dom, "sample-items");
    assert_eq!(rows.len(), file.sample.selected.len(), "one row per sampled item");
    for (row, it) in rows.iter().zip(&file.sample.selected) {
        assert!(row.contains(&format!("<code>{}</code>", it.item)), "{row}");
        assert!(
            row.contains(&format!("href=\"../results/controls/ENC-01/2026-10-31.jsonl\">results/controls/ENC-01/2026-10-31.jsonl:{}</a>", it.line)),
            "{row}"
        );
        assert!(row.contains("href=\"../sources/") && row.contains("-snipeit-assets.csv\""), "linked to the raw export: {row}");
    }
    assert!(rows[0].contains("&lt;img src=x onerror=alert(1)&gt;") && !dom.contains("<img src=\"x\""), "{}", rows[0]);
    assert!(dom.contains("5 of 39 items, seed \"4711\", pack seq 1."), "the sample's summary");
}
