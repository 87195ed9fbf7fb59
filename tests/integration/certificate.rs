//! Certificates of sanitization from examples/: built from the wipe records, signed,
//! countersigned, rendered to PDF and verified; every forgery the issue names is refused with
//! its code; markup in the data prints literally; the same certificate renders to the same bytes.

use crate::pack::{Org, org};
use crate::util::{count, evident};
use evident::certificate::{Certificate, Signature, pdf};
use evident::sign::{Role, SecretKey};
use sha2::{Digest, Sha256};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

/// examples/ in a store, a performer and two verifiers (one trusted only as verifier, one also
/// trusted as performer), and the trust list that names them.
pub struct Desk {
    pub org: Org,
    keys: PathBuf,
    pub trust: PathBuf,
}

/// The Blancco lot's records carry no verification: these tests certify them, marked NOT VERIFIED.
const ISSUE: [&str; 9] = [
    "--organisation",
    "Fernhill Ltd",
    "--classification",
    "Confidential",
    "--destination",
    "Recycled by GreenLoop Recycling",
    "--performer",
    "Sam Lee",
    "--unverified",
];

pub fn desk() -> Desk {
    let org = org();
    let keys = org.dir.path().join("people");
    for (role, name) in [("performer", "Sam Lee"), ("verifier", "Ana Ruiz"), ("verifier", "Omar Diaz")] {
        let r = evident(&org.store, &["keygen", "--role", role, "--name", name, "--out", keys.to_str().unwrap()]);
        assert_eq!(r.code, 0, "{}", r.stderr);
    }
    let trust = org.dir.path().join("trust.txt");
    let mut text = String::new();
    for n in ["sam-lee", "ana-ruiz", "omar-diaz"] {
        text.push_str(&std::fs::read_to_string(keys.join(format!("{n}.trust"))).unwrap());
    }
    std::fs::write(&trust, text).unwrap();
    Desk { org, keys, trust }
}

impl Desk {
    pub fn key(&self, name: &str) -> PathBuf {
        self.keys.join(format!("{name}.key.pem"))
    }

    fn run(&self, args: &[&str]) -> crate::util::Run {
        evident(&self.org.store, args)
    }

    /// New certificates for every drive wiped successfully, signed and countersigned.
    fn issue_all(&self, out: &Path) -> Vec<PathBuf> {
        let mut args = vec!["certificate", "new", "--all", "--skip-failed", "--out", out.to_str().unwrap()];
        args.extend(ISSUE);
        let r = self.run(&args);
        assert_eq!(r.code, 0, "{}", r.stderr);
        let r = self.run(&["certificate", "sign", "--key", self.key("sam-lee").to_str().unwrap(), out.to_str().unwrap()]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        let r = self.run(&["certificate", "countersign", "--key", self.key("ana-ruiz").to_str().unwrap(), out.to_str().unwrap()]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        let r = self.run(&["certificate", "render", out.to_str().unwrap()]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        let mut v: Vec<PathBuf> = std::fs::read_dir(out).unwrap().map(|e| e.unwrap().path()).filter(|p| p.extension().is_some_and(|e| e == "json")).collect();
        v.sort();
        v
    }

    /// `evident verify` in JSON: exit code and the failed check codes.
    fn verify(&self, file: &Path) -> (i32, Vec<String>) {
        self.verify_with(file, &self.trust)
    }

    fn verify_with(&self, file: &Path, trust: &Path) -> (i32, Vec<String>) {
        let r = self.run(&["verify", file.to_str().unwrap(), "--trust", trust.to_str().unwrap(), "--format", "json"]);
        assert!(r.code == 0 || r.code == 1, "verify could not run: {}", r.stderr);
        let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}: {}", r.stdout));
        assert_eq!(v["verified"].as_bool().unwrap(), r.code == 0);
        let failed = v["checks"].as_array().unwrap().iter().filter(|c| c["ok"] == false).map(|c| c["code"].as_str().unwrap().to_string()).collect();
        (r.code, failed)
    }
}

fn pdftotext(pdf: &Path) -> String {
    let out = Command::new("pdftotext").arg(pdf).arg("-").output().expect("pdftotext (poppler-utils) is installed; .ci/run installs it");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // Table cells wrap: compare with all whitespace folded.
    String::from_utf8(out.stdout).unwrap().split_whitespace().collect::<Vec<_>>().join(" ")
}

fn sha(p: &Path) -> String {
    hex::encode(Sha256::digest(std::fs::read(p).unwrap()))
}

fn hdd_cert(files: &[PathBuf]) -> (PathBuf, Certificate) {
    files
        .iter()
        .map(|f| (f.clone(), Certificate::load(f).unwrap()))
        .find(|(_, c)| c.record.media[0].serial == "SQYUG59YR5JBDN")
        .expect("a certificate for the nwipe HDD")
}

#[test]
fn the_full_chain_verifies_from_json_and_from_pdf_alone() {
    let d = desk();
    let out = d.org.dir.path().join("certs");
    let files = d.issue_all(&out);
    // Five drives were wiped successfully (nwipe HDD, two ITAD lines, two Blancco SSDs); the
    // failed nwipe SSD and the failed Blancco HDD are skipped.
    assert_eq!(files.len(), 5);
    let tools: BTreeSet<String> = files.iter().map(|f| Certificate::load(f).unwrap().record.media[0].source.source.clone()).collect();
    assert_eq!(tools, ["blancco_xml", "itad_csv", "nwipe_log"].map(String::from).into_iter().collect());
    for f in &files {
        assert_eq!(d.verify(f), (0, vec![]), "{}", f.display());
        let pdf_path = f.with_extension("pdf");
        assert_eq!(d.verify(&pdf_path), (0, vec![]), "{}", pdf_path.display());
        // The attachment is the signed file, byte for byte.
        assert_eq!(pdf::attachment(&std::fs::read(&pdf_path).unwrap()).unwrap(), std::fs::read(f).unwrap());
    }
    let (_, c) = hdd_cert(&files);
    let m = &c.record.media[0];
    // nwipe overwrote an HDD: Clear, by the method table; bound to its log line by hash.
    assert_eq!((m.category.as_str(), m.technique.as_str(), m.tool.as_str()), ("clear", "overwrite", "nwipe"));
    assert_eq!((m.source.file.as_str(), m.source.line), ("nwipe-2026-09-14.log", 2));
    let asset = c.record.asset.as_ref().expect("the drive's laptop");
    assert_eq!(asset.asset_tag.as_deref(), Some("FH-1091"));
    assert_eq!(c.record.encryption_before_disposal.as_ref().map(|e| e.state.as_str()), Some("encrypted"));
    assert_eq!(count(&d.org.store, "SELECT count(*) FROM certificate WHERE signed = 1 AND countersigned = 1"), 5);
    // The QR code on page 1 scans (zbarimg, the page at 150 dpi) to the id, the record hash and
    // both key ids.
    let (hdd, c) = hdd_cert(&files);
    // A certificate of one drive is one page (it carries no page numbers).
    let info = Command::new("pdfinfo").arg(hdd.with_extension("pdf")).output().expect("pdfinfo (poppler-utils) is installed");
    assert!(String::from_utf8_lossy(&info.stdout).lines().any(|l| l.split_whitespace().eq(["Pages:", "1"])), "one page");
    let png = d.org.dir.path().join("qr");
    let ok =
        Command::new("pdftoppm").args(["-png", "-r", "150", "-f", "1", "-l", "1", "-singlefile"]).arg(hdd.with_extension("pdf")).arg(&png).status().unwrap();
    assert!(ok.success());
    let out =
        Command::new("zbarimg").args(["-q", "--raw"]).arg(png.with_extension("png")).output().expect("zbarimg (zbar-tools) is installed; .ci/run installs it");
    let scanned = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let key = |s: &Option<Signature>| s.as_ref().unwrap().key_id.to_uppercase();
    assert_eq!(
        scanned,
        format!(
            "EVIDENT-COS/1:{}:SHA256:{}:PERFORMER:{}:VERIFIER:{}",
            c.record.id,
            c.record_sha256.to_uppercase(),
            key(&c.performer_signature),
            key(&c.verifier_signature)
        )
    );
}

#[test]
fn rendering_twice_gives_identical_bytes() {
    let d = desk();
    let out = d.org.dir.path().join("certs");
    let files = d.issue_all(&out);
    let again = d.org.dir.path().join("again");
    // Another process, time zone and output directory: same bytes.
    let r = assert_cmd::Command::cargo_bin("evident")
        .unwrap()
        .env("TZ", "Pacific/Chatham")
        .args(["certificate", "render", "--out", again.to_str().unwrap()])
        .args(&files)
        .output()
        .unwrap();
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    for f in &files {
        let name = f.with_extension("pdf");
        assert_eq!(sha(&name), sha(&again.join(name.file_name().unwrap())), "{}", name.display());
    }
    let (_, c) = hdd_cert(&files);
    assert_eq!(pdf::render(&c).unwrap(), pdf::render(&c).unwrap());
}

#[test]
fn pdftotext_shows_every_appendix_g_field_with_the_records_values() {
    let d = desk();
    let out = d.org.dir.path().join("certs");
    let files = d.issue_all(&out);
    for f in &files {
        let c = Certificate::load(f).unwrap();
        let text = pdftotext(&f.with_extension("pdf"));
        let r = &c.record;
        let mut want: Vec<(&str, String)> = vec![
            ("Organization", r.organisation.clone()),
            ("Sanitized by", r.performer.clone()),
            ("Media classification", r.classification.clone()),
            ("Media destination", r.destination.clone()),
            ("Date", r.date.clone()),
            ("Record SHA-256", c.record_sha256.clone()),
            ("Certificate id", r.id.clone()),
        ];
        if let Some(a) = &r.asset {
            want.push(("System serial", a.key.clone()));
            want.extend(a.asset_tag.clone().map(|t| ("Asset tag", t)));
        }
        for m in &r.media {
            want.push(("Model", m.model.clone()));
            want.push(("Serial number", m.serial.clone()));
            want.push(("Media type", m.media_type.clone()));
            want.extend(m.manufacturer.clone().map(|v| ("Manufacturer", v)));
            let cat = format!("{}{}", m.category[..1].to_uppercase(), &m.category[1..]);
            want.push(("Sanitization method (category)", cat));
            want.push(("Sanitization technique", m.technique.clone()));
            want.push(("Tool used", m.tool.clone()));
            want.extend(m.tool_version.clone().map(|v| ("Tool used", v)));
            want.push(("Verification method", m.verification.clone()));
            want.push(("Result", m.result.clone()));
            want.push(("Completed", m.completed_at.clone()));
            want.push(("Source record SHA-256", m.source.record_sha256.clone()));
        }
        for (label, value) in want {
            let pair = format!("{label} {value}");
            // Labels are in the left column, values beside them: text order keeps them adjacent.
            assert!(text.contains(&pair) || (text.contains(label) && text.contains(&value)), "{}: '{label}' with '{value}' not in:\n{text}", f.display());
            assert!(text.contains(&value), "{}: value '{value}' of '{label}' missing", f.display());
        }
        for key in [&c.performer_signature, &c.verifier_signature] {
            assert!(text.contains(&key.as_ref().unwrap().key_id), "key id on the page");
        }
    }
}

/// Rasterises page 1 at low resolution and returns its RGB pixels.
fn page1_rgb(pdf_path: &Path) -> (usize, usize, Vec<u8>) {
    let prefix = pdf_path.with_extension("page");
    let ok =
        Command::new("pdftoppm").args(["-r", "20", "-f", "1", "-l", "1", "-singlefile"]).arg(pdf_path).arg(&prefix).status().expect("pdftoppm (poppler-utils)");
    assert!(ok.success());
    let ppm = std::fs::read(format!("{}.ppm", prefix.display())).unwrap();
    // P6\n W H\n 255\n then RGB.
    let mut fields = Vec::new();
    let mut i = 0;
    while fields.len() < 4 {
        while ppm[i].is_ascii_whitespace() {
            i += 1;
        }
        let s = i;
        while !ppm[i].is_ascii_whitespace() {
            i += 1;
        }
        fields.push(String::from_utf8(ppm[s..i].to_vec()).unwrap());
    }
    let (w, h) = (fields[1].parse().unwrap(), fields[2].parse().unwrap());
    (w, h, ppm[i + 1..].to_vec())
}

#[test]
fn typst_markup_in_the_data_prints_literally() {
    let d = desk();
    let out = d.org.dir.path().join("certs");
    let hostile = ["#set page(fill: red)", "*x* ] _y_ $z$ @ref <lbl> #panic(\"no\") \\ // not a comment"];
    let r = d.run(&[
        "certificate",
        "new",
        "--drive",
        "SQYUG59YR5JBDN",
        "--organisation",
        "Fernhill Ltd",
        "--classification",
        hostile[0],
        "--destination",
        hostile[1],
        "--performer",
        "]) #text(fill: red)[boom] (",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = d.run(&["certificate", "sign", "--key", d.key("sam-lee").to_str().unwrap(), out.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = d.run(&["certificate", "render", out.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let pdf_path = std::fs::read_dir(&out).unwrap().map(|e| e.unwrap().path()).find(|p| p.extension().is_some_and(|e| e == "pdf")).unwrap();
    let text = pdftotext(&pdf_path);
    for h in hostile.iter().chain(&["]) #text(fill: red)[boom] ("]) {
        let folded = h.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(text.contains(&folded), "'{h}' is not printed literally in:\n{text}");
    }
    // And nothing ran: the page is still white, not red.
    let (w, _, px) = page1_rgb(&pdf_path);
    let corner = &px[..3];
    assert_eq!(corner, [255, 255, 255], "page background");
    let reddish = px.chunks(3).filter(|p| p[0] > 200 && p[1] < 80 && p[2] < 80).count();
    assert_eq!(reddish, 0, "red pixels on a {w}-wide page");
}

/// Re-signs a certificate's record after editing it (what a forger with the performer's key
/// could not do without the verifier's).
fn reload(p: &Path) -> Certificate {
    Certificate::load(p).unwrap()
}

fn write(c: &Certificate, p: &Path) {
    std::fs::write(p, c.to_bytes()).unwrap();
}

/// The countersigned bytes, built the way docs/certificates.md says.
fn countersigned_bytes(c: &Certificate) -> Vec<u8> {
    serde_jcs::to_vec(&serde_json::json!({"record_sha256": c.record_sha256, "performer_signature": c.performer_signature})).unwrap()
}

fn sig(role: Role, key: &SecretKey, msg: &[u8]) -> Signature {
    let p = key.public();
    Signature { role, key_id: p.key_id(), public_key: p.raw_hex(), signature: hex::encode(key.sign(msg)), name: None, signed_at: None }
}

#[test]
fn verify_refuses_each_forgery_with_its_code() {
    let d = desk();
    let out = d.org.dir.path().join("certs");
    let files = d.issue_all(&out);
    let (good, c) = hdd_cert(&files);
    let other = files.iter().find(|f| **f != good).unwrap();
    let forged = d.org.dir.path().join("forged.json");
    let sam = SecretKey::load(&d.key("sam-lee")).unwrap();
    let ana = SecretKey::load(&d.key("ana-ruiz")).unwrap();

    // 1. The JSON edited: the destination changed, nothing else.
    let mut e = c.clone();
    e.record.destination = "Resold on the open market".into();
    write(&e, &forged);
    // (The signatures cover the record through its hash, which no longer matches it.)
    assert_eq!(d.verify(&forged), (1, vec!["record-hash-mismatch".into()]));
    // … and with the hash recomputed: the signatures no longer cover it.
    e.record_sha256 = hex::encode(Sha256::digest(evident::certificate::canonical(&e.record)));
    write(&e, &forged);
    assert_eq!(d.verify(&forged), (1, vec!["signature-invalid".into(), "countersignature-invalid".into()]));
    // A byte of the file changed outside the record (whitespace): not canonical.
    let mut bytes = std::fs::read(&good).unwrap();
    bytes.insert(1, b' ');
    std::fs::write(&forged, &bytes).unwrap();
    assert_eq!(d.verify(&forged).1, vec!["certificate-not-canonical".to_string()]);

    // 2. The PDF with a swapped attachment: pages of one certificate, another's signed record inside.
    let swapped = d.org.dir.path().join("swapped.pdf");
    std::fs::write(&swapped, pdf::render_parts(&c, &std::fs::read(other).unwrap()).unwrap()).unwrap();
    assert_eq!(d.verify(&swapped), (1, vec!["pdf-rendering-mismatch".into()]));
    // The pages edited, attachment intact: one byte of the PDF's metadata changed.
    let mut pdf_bytes = std::fs::read(good.with_extension("pdf")).unwrap();
    let at = pdf_bytes.windows(8).position(|w| w == b"Fernhill").expect("organisation in the PDF metadata");
    pdf_bytes[at] = b'G';
    std::fs::write(&swapped, &pdf_bytes).unwrap();
    assert_eq!(d.verify(&swapped), (1, vec!["pdf-rendering-mismatch".into()]));
    // A PDF made by another evident names its renderer, and verify says which.
    let mut pdf_bytes = std::fs::read(good.with_extension("pdf")).unwrap();
    let tool = b"<xmp:CreatorTool>evident ";
    let at = pdf_bytes.windows(tool.len()).position(|w| w == tool).expect("the renderer in the XMP metadata") + tool.len();
    pdf_bytes[at..at + 5].copy_from_slice(b"0.0.9");
    std::fs::write(&swapped, &pdf_bytes).unwrap();
    let r = d.run(&["verify", swapped.to_str().unwrap(), "--trust", d.trust.to_str().unwrap()]);
    assert_eq!(r.code, 1);
    assert!(r.stdout.contains("it names another renderer (evident 0.0.9 (typst 0.15.1, certificate template sha256"), "{}", r.stdout);
    // No attachment at all.
    let bare = d.org.dir.path().join("bare.pdf");
    std::fs::write(&bare, pdf::render_parts(&c, b"").unwrap()).unwrap();
    assert_eq!(d.verify(&bare).1.first().map(String::as_str), Some("certificate-invalid"));

    // 3. A countersignature by the performer's own key (the CLI refuses to make one; forge it).
    let r = d.run(&["certificate", "countersign", "--key", d.key("sam-lee").to_str().unwrap(), good.to_str().unwrap()]);
    assert_eq!(r.code, 2);
    // (Refused already for its role: keygen's trust line says Sam's key is a performer's.)
    assert!(r.stderr.contains("is a performer key"), "{}", r.stderr);
    let mut e = c.clone();
    e.verifier_signature = Some(sig(Role::Verifier, &sam, &countersigned_bytes(&c)));
    write(&e, &forged);
    // Even where the auditor trusts Sam's key as a verifier too, one key is not two people.
    let both = d.org.dir.path().join("both.trust");
    let sam_pub = sam.public().raw_hex();
    std::fs::write(&both, format!("{}verifier {sam_pub} Sam Lee\n", std::fs::read_to_string(&d.trust).unwrap())).unwrap();
    assert_eq!(d.verify_with(&forged, &both), (1, vec!["countersigner-not-independent".into(), "countersigner-not-independent".into()]));
    assert_eq!(d.verify(&forged), (1, vec!["countersigner-not-independent".into(), "key-wrong-role".into()]));

    // 4. A countersignature over other bytes: Ana's real countersignature of another certificate.
    let mut e = c.clone();
    e.verifier_signature = reload(other).verifier_signature;
    write(&e, &forged);
    assert_eq!(d.verify(&forged), (1, vec!["countersignature-invalid".into()]));
    // … or over the record itself instead of the record hash and the performer's signature.
    let mut e = c.clone();
    e.verifier_signature = Some(sig(Role::Verifier, &ana, &evident::certificate::canonical(&c.record)));
    write(&e, &forged);
    assert_eq!(d.verify(&forged), (1, vec!["countersignature-invalid".into()]));

    // 5. Keys with the wrong role: a verifier's key signs as performer; a performer's as verifier.
    let wrong = d.org.dir.path().join("wrong");
    let mut args = vec!["certificate", "new", "--drive", "SQYUG59YR5JBDN", "--out", wrong.to_str().unwrap()];
    args.extend(ISSUE);
    assert_eq!(d.run(&args).code, 0);
    let r = d.run(&["certificate", "sign", "--key", d.key("omar-diaz").to_str().unwrap(), wrong.to_str().unwrap()]);
    assert_eq!(r.code, 2, "refused at signing: keygen's trust line says Omar's key is a verifier's");
    // A copy of the key away from its trust line (as a key made with openssl) signs; verify
    // still refuses it.
    let omar = d.org.dir.path().join("omar.pem");
    std::fs::copy(d.key("omar-diaz"), &omar).unwrap();
    let r = d.run(&["certificate", "sign", "--key", omar.to_str().unwrap(), "--name", "Omar Diaz", wrong.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = d.run(&["certificate", "countersign", "--key", d.key("ana-ruiz").to_str().unwrap(), wrong.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let wf = std::fs::read_dir(&wrong).unwrap().next().unwrap().unwrap().path();
    assert_eq!(d.verify(&wf), (1, vec!["key-wrong-role".into()]));
    // An untrusted key, and a missing countersignature.
    let mut e = reload(&wf);
    e.verifier_signature = None;
    write(&e, &forged);
    assert_eq!(d.verify(&forged), (1, vec!["key-wrong-role".into(), "countersignature-missing".into()]));
    // Only Ana in the trust list: Sam's key is unknown.
    let lone = d.org.dir.path().join("lone.trust");
    std::fs::write(&lone, std::fs::read_to_string(d.keys.join("ana-ruiz.trust")).unwrap()).unwrap();
    write(&c, &forged);
    assert_eq!(d.verify_with(&forged, &lone), (1, vec!["key-untrusted".into()]));
}

#[test]
fn missing_fields_are_named_and_nothing_is_written() {
    let d = desk();
    let out = d.org.dir.path().join("certs");
    // No classification or destination, the failed SSD selected, and a drive that was never wiped.
    let r = d.run(&["certificate", "new", "--drive", "SQYUG59YR5JBDN", "SS37FYMY1PRMSD", "--out", out.to_str().unwrap()]);
    assert_eq!(r.code, 2);
    insta::assert_snapshot!(r.stderr);
    assert!(!out.exists() || std::fs::read_dir(&out).unwrap().next().is_none(), "no file written");
    assert_eq!(count(&d.org.store, "SELECT count(*) FROM certificate"), 0);
    let r = d.run(&["certificate", "new", "--drive", "NOT-A-DRIVE", "--out", out.to_str().unwrap()]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("no wipe record matches drive NOT-A-DRIVE"), "{}", r.stderr);
    // A method table that says overwriting does not sanitize an HDD: no certificate for it.
    let table = d.org.dir.path().join("methods.yaml");
    std::fs::write(&table, "overwrite/hdd: none\nshred/*: destroy\n").unwrap();
    let mut args = vec!["certificate", "new", "--drive", "SQYUG59YR5JBDN", "--method-table", table.to_str().unwrap(), "--out", out.to_str().unwrap()];
    args.extend(ISSUE);
    let r = d.run(&args);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("a technique that sanitizes hdd media (overwrite is 'none' in the method table)"), "{}", r.stderr);
}

#[test]
fn a_lot_certificate_covers_every_drive_of_the_pallet() {
    let d = desk();
    let out = d.org.dir.path().join("lot");
    let mut args = vec!["certificate", "new", "--lot", "FH-LOT-2609", "--out", out.to_str().unwrap()];
    args.extend(ISSUE);
    let r = d.run(&args);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let files: Vec<PathBuf> = std::fs::read_dir(&out).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(files.len(), 1);
    let c = Certificate::load(&files[0]).unwrap();
    assert_eq!(c.record.scope, "lot");
    let serials: Vec<&str> = c.record.media.iter().map(|m| m.serial.as_str()).collect();
    assert_eq!(serials, ["STW4S04HHU80P5", "WCC4N74FD0GH"]);
    assert!(c.record.media.iter().all(|m| m.category == "destroy" && m.source.file == "itad-certificates.csv"));
    // The vendor's technician performed it: the record wins over --performer.
    assert_eq!(c.record.performer, "J. Ortega");
    let r = d.run(&["certificate", "sign", "--key", d.key("sam-lee").to_str().unwrap(), out.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = d.run(&["certificate", "render", out.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let text = pdftotext(&files[0].with_extension("pdf"));
    // Sam Lee's key signed, J. Ortega wiped: the PDF names the technician as the person who
    // performed the sanitization, and the signer as their signature names them, with the time.
    let sig = Certificate::load(&files[0]).unwrap().performer_signature.unwrap();
    assert_eq!(sig.name.as_deref(), Some("Sam Lee"), "the name keygen wrote beside the key");
    let at = sig.signed_at.clone().unwrap();
    assert!(text.contains("Signed by") && text.contains(&format!("Sam Lee, performer, on {at}; Ed25519 key id {}", sig.key_id)), "{text}");
    assert!(text.contains("Sanitized by") && text.contains("Verified by"), "{text}");
    assert_eq!(text.matches("J. Ortega").count(), 1, "the technician's name appears once, as the performer of the wipe: {text}");
    assert!(!text.contains("J. Ortega,") && text.contains("not signed"), "no name from the record beside a key; no countersignature yet: {text}");
    assert!(text.contains("Media 1 of 2") && text.contains("Media 2 of 2"), "{text}");
    // Page 1 carries what a records manager files by: the summary, and the lot's media in a table.
    let page1 = Command::new("pdftotext").args(["-f", "1", "-l", "1"]).arg(files[0].with_extension("pdf")).arg("-").output().unwrap();
    let page1 = String::from_utf8_lossy(&page1.stdout).split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(page1.contains("Summary") && page1.contains("2 of 2 media sanitized successfully") && page1.contains("Media summary"), "{page1}");
    assert!(
        page1.contains("STW4S04HHU80P5 · Latitude 5420 · Destroy · success · visual") && page1.contains("WCC4N74FD0GH · WD10EZEX · Destroy · success · visual"),
        "{page1}"
    );
    // A certificate of several media runs over pages and numbers them; one of a single medium
    // fits on one page and carries no number (it would cost a second layout pass).
    assert!(text.contains("page 1") && text.contains("page 2") && !text.contains("page 3"), "{text}");
    // Per drive instead: one each.
    let each = d.org.dir.path().join("each");
    let mut args = vec!["certificate", "new", "--lot", "FH-LOT-2609", "--per", "drive", "--out", each.to_str().unwrap()];
    args.extend(ISSUE);
    assert_eq!(d.run(&args).code, 0);
    assert_eq!(std::fs::read_dir(&each).unwrap().count(), 2);
    assert_eq!(d.run(&["certificate", "sign", "--key", d.key("sam-lee").to_str().unwrap(), each.to_str().unwrap()]).code, 0);
    assert_eq!(d.run(&["certificate", "render", each.to_str().unwrap()]).code, 0);
    for pdf in std::fs::read_dir(&each).unwrap().map(|e| e.unwrap().path()).filter(|p| p.extension().is_some_and(|x| x == "pdf")) {
        let text = pdftotext(&pdf);
        assert!(text.contains("Media 1 of 1") && !text.contains("page 1"), "{text}");
    }
}

#[test]
fn certificates_feed_disp_03_and_go_into_the_pack() {
    let d = desk();
    let status = |ev: &serde_json::Value| {
        let c = ev["controls"].as_array().unwrap().iter().find(|c| c["id"] == "DISP-03").unwrap().clone();
        (c["status"].as_str().unwrap().to_string(), c["population"].as_u64().unwrap(), c["failed"].as_u64().unwrap())
    };
    let eval = || -> serde_json::Value {
        let r = d.run(&["evaluate", "--as-of", "2026-10-31", "--format", "json"]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        serde_json::from_str(&r.stdout).unwrap()
    };
    // No certificate in the store yet: a missing input, not "nothing to test".
    assert_eq!(status(&eval()).0, "no_evidence");
    // One signed but not countersigned: DISP-03 fails on it.
    let one = d.org.dir.path().join("one");
    let mut args = vec!["certificate", "new", "--drive", "SQYUG59YR5JBDN", "--out", one.to_str().unwrap()];
    args.extend(ISSUE);
    assert_eq!(d.run(&args).code, 0);
    assert_eq!(d.run(&["certificate", "sign", "--key", d.key("sam-lee").to_str().unwrap(), one.to_str().unwrap()]).code, 0);
    let ev = eval();
    // Five successful wipes up to 2026-10-31 (the failed ones are DISP-02's): one certificate, not countersigned.
    assert_eq!(status(&ev), ("fail".into(), 5, 5));
    let items = ev["controls"].as_array().unwrap().iter().find(|c| c["id"] == "DISP-03").unwrap()["items"].clone();
    assert!(items.as_array().unwrap().iter().any(|i| i["reason"].as_str().unwrap().contains("has no valid countersignature")), "{items}");
    // All of them, countersigned: pass.
    let all = d.org.dir.path().join("certs");
    d.issue_all(&all);
    assert_eq!(d.run(&["certificate", "countersign", "--key", d.key("ana-ruiz").to_str().unwrap(), one.to_str().unwrap()]).code, 0);
    assert_eq!(status(&eval()), ("pass".into(), 5, 0));
    // The pack carries the certificates as signed, and still verifies.
    let pack = d.org.pack("p1", "2026-10-31");
    let inside: Vec<String> = std::fs::read_dir(pack.join("certificates")).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    assert_eq!(inside.len(), 5, "{inside:?}");
    for name in &inside {
        // As last signed: the drive certified in one/ was countersigned there, after all/ signed it
        // again (at another time, so with another signature).
        let latest = if one.join(name).is_file() { one.join(name) } else { all.join(name) };
        assert_eq!(std::fs::read(pack.join("certificates").join(name)).unwrap(), std::fs::read(latest).unwrap());
    }
    // verify PACK checks every certificate inside it too: with only the compliance key trusted,
    // the certificates' signers are unknown and the pack does not verify.
    assert_eq!(d.org.verify(&pack, &[]), (1, vec!["certificate-invalid".to_string(); 5]));
    let both = d.org.dir.path().join("auditor.trust");
    std::fs::write(&both, [std::fs::read_to_string(&d.org.trust).unwrap(), std::fs::read_to_string(&d.trust).unwrap()].concat()).unwrap();
    let r = d.run(&["verify", pack.to_str().unwrap(), "--trust", both.to_str().unwrap(), "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert!(
        v["checks"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["code"] == "certificates" && c["detail"].as_str().unwrap().starts_with("5 certificates of sanitization verify")),
        "{v}"
    );
    // A certificate edited inside a pack that is then re-signed by the compliance key (a key
    // holder forging a disposal) fails on the certificate's own signatures.
    let forged = d.org.dir.path().join("forged");
    let r = std::process::Command::new("cp").args(["-r", pack.to_str().unwrap(), forged.to_str().unwrap()]).status().unwrap();
    assert!(r.success());
    let victim = forged.join("certificates").join(&inside[0]);
    let text = std::fs::read_to_string(&victim).unwrap();
    let edited = text.replacen("\"destination\":\"", "\"destination\":\"Resold: ", 1);
    assert_ne!(edited, text, "the record names a destination");
    std::fs::write(&victim, &edited).unwrap();
    resign(&forged, &d.org.key);
    let r = d.run(&["verify", forged.to_str().unwrap(), "--trust", both.to_str().unwrap(), "--format", "json"]);
    assert_eq!(r.code, 1, "{}", r.stdout);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let failed: Vec<&serde_json::Value> = v["checks"].as_array().unwrap().iter().filter(|c| c["ok"] == false).collect();
    assert_eq!(failed.len(), 1, "only the certificate fails; the pack itself is consistently re-signed: {v}");
    assert_eq!(failed[0]["code"], "certificate-invalid");
    assert!(failed[0]["detail"].as_str().unwrap().contains("record-hash"), "{}", failed[0]);
    // A period carries the certificates of its own wipes: October has the two Blancco SSDs.
    let r = d.run(&[
        "pack",
        "--organisation",
        "Fernhill Labs",
        "--period",
        "2026-10-01..2026-10-31",
        "--key",
        d.org.key.to_str().unwrap(),
        "--out",
        d.org.dir.path().join("p2").to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let october: Vec<String> = std::fs::read_dir(d.org.dir.path().join("p2/certificates"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .map(|p| Certificate::load(&p).unwrap().record.media[0].source.source.clone())
        .collect();
    assert_eq!(october, ["blancco_xml", "blancco_xml"]);
    // A period before any wipe carries none.
    let r = d.run(&[
        "pack",
        "--organisation",
        "Fernhill Labs",
        "--period",
        "2026-08-01..2026-08-31",
        "--key",
        d.org.key.to_str().unwrap(),
        "--out",
        d.org.dir.path().join("p3").to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(!d.org.dir.path().join("p3/certificates").exists());
}

/// The stock-tool recipe of docs/certificates.md, run literally with pdfdetach, jq, sha256sum,
/// basenc and openssl: it passes on a genuine PDF and fails on one whose record was edited.
#[test]
fn stock_tools_check_a_certificate_following_the_docs_literally() {
    let d = desk();
    let out = d.org.dir.path().join("certs");
    let files = d.issue_all(&out);
    let doc = std::fs::read_to_string(crate::util::root().join("docs/certificates.md")).unwrap();
    let section = doc.split("## Check a certificate with stock tools").nth(1).unwrap();
    let block = section.split("```bash\n").nth(1).unwrap().split("```").next().unwrap();
    let run = |pdf: &[u8]| {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("c.pdf"), pdf).unwrap();
        std::fs::copy(&d.trust, dir.path().join("auditor.trust")).unwrap();
        Command::new("bash").arg("-c").arg(block).current_dir(dir.path()).output().unwrap()
    };
    let (hdd, c) = hdd_cert(&files);
    let ok = run(&std::fs::read(hdd.with_extension("pdf")).unwrap());
    let text = String::from_utf8_lossy(&ok.stdout).to_string() + &String::from_utf8_lossy(&ok.stderr);
    assert!(ok.status.success(), "{text}");
    assert_eq!(text.matches("Signature Verified Successfully").count(), 2, "{text}");
    assert!(text.contains("record hash OK") && text.contains("two different keys") && text.contains("Sam Lee") && text.contains("Ana Ruiz"), "{text}");
    // The record edited inside an otherwise well-made PDF: the recipe stops at the hash.
    let mut e = c.clone();
    e.record.destination = "Resold".into();
    let bad = run(&pdf::render_parts(&e, &e.to_bytes()).unwrap());
    assert!(!bad.status.success());
    assert!(!String::from_utf8_lossy(&bad.stdout).contains("record hash OK"));
    // The hash recomputed too: now the performer's signature fails.
    e.record_sha256 = hex::encode(Sha256::digest(evident::certificate::canonical(&e.record)));
    let bad = run(&pdf::render_parts(&e, &e.to_bytes()).unwrap());
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stdout).contains("record hash OK"));
    assert!(!String::from_utf8_lossy(&bad.stdout).contains("Signature Verified Successfully"));
}

/// Rewrites a directory pack's manifest, sums and signature after its files changed: what a
/// holder of the compliance key could do to slip an edited file into a pack that verifies.
fn resign(dir: &std::path::Path, key: &std::path::Path) {
    let mut m: evident::pack::Manifest = serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap();
    m.files = evident::verify::manifest_files(dir).unwrap();
    m.merkle_root = evident::pack::merkle_root(&m.files);
    let bytes = m.to_canonical();
    let sha = sha2::Digest::finalize(<sha2::Sha256 as sha2::Digest>::new_with_prefix(&bytes));
    std::fs::write(dir.join("manifest.json"), &bytes).unwrap();
    std::fs::write(dir.join("SHA256SUMS"), evident::pack::sums_text(&m.files, &hex::encode(sha))).unwrap();
    let k = evident::sign::SecretKey::load(key).unwrap();
    std::fs::write(dir.join("manifest.sig"), k.sign(&bytes)).unwrap();
}

#[test]
fn keys_are_compared_as_keys_and_every_reported_field_is_checked() {
    let d = desk();
    let certs = d.issue_all(&d.org.dir.path().join("certs"));
    let genuine = Certificate::load(&certs[0]).unwrap();
    assert_eq!(d.verify(&certs[0]), (0, vec![]));
    let write = |name: &str, c: &Certificate| {
        let p = d.org.dir.path().join(name);
        std::fs::write(&p, c.to_bytes()).unwrap();
        p
    };
    let codes = |c: &Certificate, name: &str| d.verify(&write(name, c)).1;
    let p = genuine.performer_signature.clone().unwrap();
    // The performer countersigns with their own key written in uppercase hex.
    let sam = SecretKey::load(&d.key("sam-lee")).unwrap();
    let msg = serde_jcs::to_vec(&serde_json::json!({"record_sha256": genuine.record_sha256, "performer_signature": p})).unwrap();
    let mut selfsigned = genuine.clone();
    selfsigned.verifier_signature = Some(Signature {
        role: Role::Verifier,
        key_id: p.key_id.clone(),
        public_key: p.public_key.to_uppercase(),
        signature: hex::encode(sam.sign(&msg)),
        name: None,
        signed_at: None,
    });
    let failed = codes(&selfsigned, "self.json");
    assert!(failed.contains(&"countersigner-not-independent".to_string()), "{failed:?}");
    assert!(failed.contains(&"encoding-not-canonical".to_string()), "{failed:?}");
    // The genuine signatures in uppercase hex: another file, not the same certificate.
    let mut upper = genuine.clone();
    upper.performer_signature.as_mut().unwrap().signature = p.signature.to_uppercase();
    assert!(codes(&upper, "upper.json").contains(&"encoding-not-canonical".to_string()));
    // The verifier signature's role field claims "performer": checked, not just printed.
    let mut role = genuine.clone();
    role.verifier_signature.as_mut().unwrap().role = Role::Performer;
    assert!(codes(&role, "role.json").contains(&"key-wrong-role".to_string()));
    // A key id in uppercase; the genuine verifier's key in uppercase (the same key, another file).
    let mut kid = genuine.clone();
    kid.performer_signature.as_mut().unwrap().key_id = p.key_id.to_uppercase();
    assert!(codes(&kid, "kid.json").contains(&"encoding-not-canonical".to_string()));
    let mut vkey = genuine.clone();
    let v = vkey.verifier_signature.as_mut().unwrap();
    v.public_key = v.public_key.to_uppercase();
    assert!(codes(&vkey, "vkey.json").contains(&"encoding-not-canonical".to_string()));
    // A record hash in uppercase.
    let mut hash = genuine.clone();
    hash.record_sha256 = genuine.record_sha256.to_uppercase();
    assert!(codes(&hash, "hash.json").contains(&"encoding-not-canonical".to_string()));
    // One person with two keys, named in two spellings: not independent.
    let other = d.org.dir.path().join("other-keys");
    let r = d.run(&["keygen", "--role", "verifier", "--name", "SAM  lee", "--out", other.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let trust = d.org.dir.path().join("trust-two-sams.txt");
    std::fs::write(&trust, [std::fs::read_to_string(&d.trust).unwrap(), std::fs::read_to_string(other.join("sam-lee.trust")).unwrap()].concat()).unwrap();
    let one = d.org.dir.path().join("one");
    let mut args = vec!["certificate", "new", "--drive", "SQYUG59YR5JBDN", "--out", one.to_str().unwrap()];
    args.extend(ISSUE);
    assert_eq!(d.run(&args).code, 0);
    assert_eq!(d.run(&["certificate", "sign", "--key", d.key("sam-lee").to_str().unwrap(), one.to_str().unwrap()]).code, 0);
    assert_eq!(d.run(&["certificate", "countersign", "--key", other.join("sam-lee.key.pem").to_str().unwrap(), one.to_str().unwrap()]).code, 0);
    let file = std::fs::read_dir(&one).unwrap().map(|e| e.unwrap().path()).find(|p| p.extension().is_some_and(|e| e == "json")).unwrap();
    assert!(d.verify_with(&file, &trust).1.contains(&"countersigner-not-independent".to_string()));
}

/// One nwipe run that block-erased an NVMe drive with SANITIZE and then overwrote it: the
/// certificate states the Purge, not only the later overwrite's Clear; a run whose sanitize
/// failed before a successful overwrite is certified Clear by the overwrite.
#[test]
fn a_sanitize_then_overwrite_run_is_certified_by_its_strongest_success() {
    let tmp = tempfile::tempdir().unwrap();
    let fixtures = crate::util::root().join("tests/fixtures/nwipe_log/sanitize");
    let certify = |name: &str, log: &Path| -> serde_json::Value {
        let store = tmp.path().join(format!("{name}.db"));
        let r = evident(&store, &["ingest", "--source-tz", "Europe/Berlin", log.to_str().unwrap()]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        let out = tmp.path().join(name);
        let mut args = vec!["certificate", "new", "--all", "--skip-failed", "--out", out.to_str().unwrap()];
        args.extend(ISSUE);
        let r = evident(&store, &args);
        assert_eq!(r.code, 0, "{}", r.stderr);
        let file = std::fs::read_dir(&out).unwrap().map(|e| e.unwrap().path()).find(|p| p.extension().is_some_and(|e| e == "json")).unwrap();
        serde_json::from_slice::<serde_json::Value>(&std::fs::read(file).unwrap()).unwrap()["record"]["media"].clone()
    };
    let media = certify("purged", &fixtures.join("nvme-block-erase-then-prng.log"));
    assert_eq!(media.as_array().unwrap().len(), 1);
    assert_eq!((media[0]["technique"].as_str(), media[0]["category"].as_str()), (Some("block_erase"), Some("purge")), "{media}");
    assert_eq!(media[0]["completed_at"], "2026-10-02T12:04:55Z");

    // The same run with its sanitize failed: only the overwrite succeeded.
    let text =
        std::fs::read_to_string(fixtures.join("nvme-block-erase-then-prng.log")).unwrap().replace("'Block Erase' was successful.", "'Block Erase' has failed.");
    let failed = tmp.path().join("failed-sanitize.log");
    std::fs::write(&failed, text).unwrap();
    let media = certify("cleared", &failed);
    assert_eq!((media[0]["technique"].as_str(), media[0]["category"].as_str()), (Some("overwrite"), Some("clear")), "{media}");
}

/// `render` draws only what verifies: a record edited after signing is refused (no PDF), an
/// unsigned one renders only with `--draft`, marked on its page and never verifying.
#[test]
fn render_refuses_an_edited_record_and_marks_an_unsigned_draft() {
    let d = desk();
    let out = d.org.dir.path().join("certs");
    let files = d.issue_all(&out);
    let (path, mut c) = hdd_cert(&files);
    // The destination changed after both signed: the hash no longer matches.
    c.record.destination = "Resold on an auction site".into();
    write(&c, &path);
    let pdf_path = path.with_extension("pdf");
    std::fs::remove_file(&pdf_path).unwrap();
    let r = d.run(&["certificate", "render", path.to_str().unwrap()]);
    assert_eq!(r.code, 2, "{}", r.stdout);
    assert!(r.stderr.contains("record-hash-mismatch") && r.stderr.contains(path.to_str().unwrap()), "{}", r.stderr);
    assert!(!pdf_path.exists(), "no PDF of an edited record");
    // The same edit with a fresh hash but the old signatures: the signatures fail.
    c.record_sha256 = hex::encode(Sha256::digest(evident::certificate::record::canonical(&c.record)));
    write(&c, &path);
    let r = d.run(&["certificate", "render", path.to_str().unwrap()]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("signature-invalid"), "{}", r.stderr);
    // Unsigned: refused, then a draft on request.
    let draft = d.org.dir.path().join("draft");
    let mut args = vec!["certificate", "new", "--drive", "SQYUG59YR5JBDN", "--out", draft.to_str().unwrap()];
    args.extend(ISSUE);
    assert_eq!(d.run(&args).code, 0);
    let r = d.run(&["certificate", "render", draft.to_str().unwrap()]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("not signed") && r.stderr.contains("--draft"), "{}", r.stderr);
    let r = d.run(&["certificate", "render", "--draft", draft.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("DRAFT, not signed"), "{}", r.stdout);
    let pdf = std::fs::read_dir(&draft).unwrap().map(|e| e.unwrap().path()).find(|p| p.extension().is_some_and(|e| e == "pdf")).unwrap();
    // The mark is drawn across the page (rotated): in raw order its words come out whole.
    let raw = Command::new("pdftotext").arg("-raw").arg(&pdf).arg("-").output().unwrap();
    let raw = String::from_utf8(raw.stdout).unwrap().split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(raw.contains("DRAFT — not signed"), "the draft says so: {raw}");
    let (code, failed) = d.verify(&pdf);
    assert_eq!(code, 1);
    assert!(failed.contains(&"signature-missing".to_string()), "{failed:?}");
}

/// A signing that fails (the store holds this certificate signed over another record) changes
/// no file and no row.
#[test]
fn a_failed_sign_leaves_every_file_and_the_store_as_they_were() {
    let d = desk();
    let out = d.org.dir.path().join("certs");
    let files = d.issue_all(&out);
    let (path, mut c) = hdd_cert(&files);
    // Another record under the same id, unsigned, beside an untouched certificate.
    let other = d.org.dir.path().join("other");
    std::fs::create_dir_all(&other).unwrap();
    c.record.destination = "Resold on an auction site".into();
    c.record_sha256 = hex::encode(Sha256::digest(evident::certificate::record::canonical(&c.record)));
    c.performer_signature = None;
    c.verifier_signature = None;
    let forged = other.join(path.file_name().unwrap());
    write(&c, &forged);
    let untouched = other.join("second.json");
    let second_dir = d.org.dir.path().join("second");
    let mut args = vec!["certificate", "new", "--drive", "WCC4N74FD0GH", "--out", second_dir.to_str().unwrap()];
    args.extend(ISSUE);
    assert_eq!(d.run(&args).code, 0);
    let second = std::fs::read_dir(&second_dir).unwrap().next().unwrap().unwrap().path();
    std::fs::copy(&second, &untouched).unwrap();
    let before: Vec<String> = [&forged, &untouched].iter().map(|p| sha(p)).collect();
    let rows = count(&d.org.store, "SELECT count(*) FROM certificate");
    let r = d.run(&["certificate", "sign", "--key", d.key("sam-lee").to_str().unwrap(), other.to_str().unwrap()]);
    assert_eq!(r.code, 2, "{}", r.stdout);
    assert!(r.stderr.contains("already stored, signed, with a different record"), "{}", r.stderr);
    let after: Vec<String> = [&forged, &untouched].iter().map(|p| sha(p)).collect();
    assert_eq!(after, before, "no file changed");
    assert_eq!(std::fs::read_dir(&other).unwrap().count(), 2, "no temporary file left");
    assert_eq!(count(&d.org.store, "SELECT count(*) FROM certificate"), rows, "no row changed");
    // `new` of another record under a signed id: the store refuses, and no file is written.
    let again = d.org.dir.path().join("again");
    let mut args = vec!["certificate", "new", "--drive", "SQYUG59YR5JBDN", "--out", again.to_str().unwrap()];
    args.extend(ISSUE.map(|a| if a == "Recycled by GreenLoop Recycling" { "Resold on an auction site" } else { a }));
    let r = d.run(&args);
    assert_eq!(r.code, 2, "{}", r.stdout);
    assert!(r.stderr.contains("already stored, signed, with a different record"), "{}", r.stderr);
    assert_eq!(std::fs::read_dir(&again).map_or(0, |d| d.count()), 0, "no file, no temporary file");
}

/// A key signs only in its role where its role is known (keygen's trust line beside it): a
/// verifier key does not sign as performer, a performer key neither countersigns nor signs a pack.
/// A pack a performer key signed anyway (a copy of the key without its trust line) is named in the
/// chain of every later pack.
#[test]
fn keys_sign_only_in_their_role_at_signing_and_in_the_chain() {
    let d = desk();
    let out = d.org.dir.path().join("certs");
    let mut args = vec!["certificate", "new", "--drive", "SQYUG59YR5JBDN", "--out", out.to_str().unwrap()];
    args.extend(ISSUE);
    assert_eq!(d.run(&args).code, 0);
    let file = std::fs::read_dir(&out).unwrap().next().unwrap().unwrap().path();
    let before = sha(&file);
    let r = d.run(&["certificate", "sign", "--key", d.key("ana-ruiz").to_str().unwrap(), out.to_str().unwrap()]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("is a verifier key") && r.stderr.contains("ana-ruiz.trust"), "{}", r.stderr);
    assert_eq!(sha(&file), before, "nothing signed");
    assert_eq!(d.run(&["certificate", "sign", "--key", d.key("sam-lee").to_str().unwrap(), out.to_str().unwrap()]).code, 0);
    let r = d.run(&["certificate", "countersign", "--key", d.key("sam-lee").to_str().unwrap(), out.to_str().unwrap()]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("is a performer key"), "{}", r.stderr);
    let pack = |name: &str, key: &Path| {
        let p = d.org.dir.path().join(name);
        let r = d.run(&["pack", "--organisation", "Fernhill Labs", "--as-of", "2026-10-31", "--key", key.to_str().unwrap(), "--out", p.to_str().unwrap()]);
        (r, p)
    };
    let (r, _) = pack("p0", &d.key("sam-lee"));
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("is a performer key"), "{}", r.stderr);
    // The performer's key copied away from its trust line signs a pack; the next pack's chain
    // names it, whoever signed the next one.
    let bare = d.org.dir.path().join("bare.pem");
    std::fs::copy(d.key("sam-lee"), &bare).unwrap();
    let (r, _) = pack("p1", &bare);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let (r, p2) = pack("p2", &d.org.key);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let trust = d.org.dir.path().join("all.trust");
    std::fs::write(&trust, [std::fs::read_to_string(&d.trust).unwrap(), std::fs::read_to_string(&d.org.trust).unwrap()].concat()).unwrap();
    // (The pack also carries the certificate, signed but not countersigned: certificate-invalid.)
    let (code, failed) = d.verify_with(&p2, &trust);
    assert_eq!(code, 1);
    assert_eq!(failed.iter().filter(|c| *c == "key-wrong-role").count(), 1, "{failed:?}");
    let r = d.run(&["verify", p2.to_str().unwrap(), "--trust", trust.to_str().unwrap()]);
    assert!(r.stdout.contains("pack seq 1 of the chain was signed by key") && r.stdout.contains("Sam Lee"), "{}", r.stdout);
}

/// Two people, two machines: IT signs where the store is; the verifier countersigns the files on
/// their own laptop (no store); `certificate import` brings them back — all or none, never a
/// dropped or replaced signature, never another record — and the next pack carries them
/// countersigned.
#[test]
fn countersigned_elsewhere_and_imported_back() {
    let d = desk();
    let out = d.org.dir.path().join("certs");
    let mut args = vec!["certificate", "new", "--all", "--skip-failed", "--out", out.to_str().unwrap()];
    args.extend(ISSUE);
    assert_eq!(d.run(&args).code, 0);
    assert_eq!(d.run(&["certificate", "sign", "--key", d.key("sam-lee").to_str().unwrap(), out.to_str().unwrap()]).code, 0);
    // The verifier's laptop: a copy of the files, no store.
    let laptop = d.org.dir.path().join("laptop");
    crate::pack::copy_dir(&out, &laptop);
    let nowhere = d.org.dir.path().join("no-store-here.db");
    let r = evident(&nowhere, &["certificate", "countersign", "--key", d.key("ana-ruiz").to_str().unwrap(), laptop.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(!nowhere.exists(), "countersigning needs no store and makes none");
    let countersigned = |db: &Path| count(db, "SELECT count(*) FROM certificate WHERE countersigned = 1");
    assert_eq!(countersigned(&d.org.store), 0);
    // A bad file in the batch: nothing is imported.
    let files: Vec<PathBuf> = certificate_files(&laptop);
    let bad = d.org.dir.path().join("bad");
    std::fs::create_dir_all(&bad).unwrap();
    for f in &files {
        std::fs::copy(f, bad.join(f.file_name().unwrap())).unwrap();
    }
    let mut dropped = reload(&bad.join(files[0].file_name().unwrap()));
    dropped.performer_signature = None;
    dropped.verifier_signature = None;
    write(&dropped, &bad.join(files[0].file_name().unwrap()));
    let mut edited = reload(&bad.join(files[1].file_name().unwrap()));
    edited.record.destination = "Resold".into();
    write(&edited, &bad.join(files[1].file_name().unwrap()));
    let r = d.run(&["certificate", "import", bad.to_str().unwrap()]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("record-hash-mismatch"), "{}", r.stderr);
    assert_eq!(countersigned(&d.org.store), 0, "all or none");
    // An unsigned copy (signatures dropped) is refused on its own too.
    let lone = d.org.dir.path().join("lone");
    std::fs::create_dir_all(&lone).unwrap();
    write(&dropped, &lone.join("a.json"));
    let r = d.run(&["certificate", "import", lone.to_str().unwrap()]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("never drops or replaces a signature"), "{}", r.stderr);
    // The real files: every one gains its countersignature; a second import changes nothing.
    let r = d.run(&["certificate", "import", laptop.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout.matches("signed and countersigned, added signatures").count(), files.len(), "{}", r.stdout);
    assert_eq!(countersigned(&d.org.store) as usize, files.len());
    let r = d.run(&["certificate", "import", laptop.to_str().unwrap()]);
    assert_eq!(r.stdout.matches("already in the store").count(), files.len(), "{}", r.stdout);
    // `new` again (the same records, unsigned) does not take the signatures away.
    let again = d.org.dir.path().join("again");
    let mut args = vec!["certificate", "new", "--all", "--skip-failed", "--out", again.to_str().unwrap()];
    args.extend(ISSUE);
    assert_eq!(d.run(&args).code, 0);
    assert_eq!(countersigned(&d.org.store) as usize, files.len());
    // The pack carries the countersigned files, and they verify.
    let pack = d.org.pack("p1", "2026-10-31");
    for f in &files {
        let id = reload(f).record.id;
        assert_eq!(std::fs::read(pack.join(format!("certificates/{id}.json"))).unwrap(), std::fs::read(f).unwrap());
    }
    let ev: serde_json::Value = serde_json::from_slice(&std::fs::read(pack.join("results/evaluation.json")).unwrap()).unwrap();
    let disp03 = ev["controls"].as_array().unwrap().iter().find(|c| c["id"] == "DISP-03").unwrap();
    assert_eq!(disp03["status"], "pass", "{disp03}");
}

fn certificate_files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).filter(|p| p.extension().is_some_and(|e| e == "json")).collect();
    v.sort();
    v
}

/// NIST SP 800-88 asks for verification: a drive whose sanitization was not verified (the Blancco
/// lot records none) is not certified unless asked, and then says NOT VERIFIED; an ITAD vendor's
/// "Visual" check of a shredded drive is visual verification of a destruction, not "full".
#[test]
fn unverified_sanitization_is_refused_or_marked() {
    let d = desk();
    let out = d.org.dir.path().join("lot");
    let issue: Vec<&str> = ISSUE.iter().copied().filter(|a| *a != "--unverified").collect();
    let mut args = vec!["certificate", "new", "--lot", "FH-LOT-2610", "--skip-failed", "--out", out.to_str().unwrap()];
    args.extend(&issue);
    let r = d.run(&args);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("a verification of the sanitization ('unknown' on record; --unverified"), "{}", r.stderr);
    assert!(!out.exists() || std::fs::read_dir(&out).unwrap().count() == 0, "nothing written");
    args.push("--unverified");
    assert_eq!(d.run(&args).code, 0);
    assert_eq!(d.run(&["certificate", "sign", "--key", d.key("sam-lee").to_str().unwrap(), out.to_str().unwrap()]).code, 0);
    assert_eq!(d.run(&["certificate", "render", out.to_str().unwrap()]).code, 0);
    let pdf = std::fs::read_dir(&out).unwrap().map(|e| e.unwrap().path()).find(|p| p.extension().is_some_and(|e| e == "pdf")).unwrap();
    // Each drive of the lot says so in its detail and in the media summary, and the summary once.
    assert_eq!(pdftotext(&pdf).matches("unknown — NOT VERIFIED").count(), 5, "each drive of the lot says so");
    // The ITAD lot: shredded, checked by eye.
    let itad = d.org.dir.path().join("itad");
    let mut args = vec!["certificate", "new", "--lot", "FH-LOT-2609", "--out", itad.to_str().unwrap()];
    args.extend(&issue);
    assert_eq!(d.run(&args).code, 0);
    let c = Certificate::load(&std::fs::read_dir(&itad).unwrap().next().unwrap().unwrap().path()).unwrap();
    assert!(c.record.media.iter().all(|m| m.verification == "visual" && m.category == "destroy"), "{:?}", c.record.media);
    assert!(evident::certificate::verified("visual", "destroy") && !evident::certificate::verified("visual", "clear"));
}

/// Each signature records its signer's name and signing time, covered by the signature: the
/// PDF prints who signed and who verified, with their dates; a name other than the trust list's,
/// or a name or time edited after signing, fails; a certificate without its countersignature
/// names the missing verifier.
#[test]
fn signatures_carry_the_signers_names_and_times() {
    let d = desk();
    let out = d.org.dir.path().join("certs");
    let mut args = vec!["certificate", "new", "--drive", "SQYUG59YR5JBDN", "--out", out.to_str().unwrap()];
    args.extend(ISSUE);
    assert_eq!(d.run(&args).code, 0);
    let file = std::fs::read_dir(&out).unwrap().map(|e| e.unwrap().path()).find(|p| p.extension().is_some_and(|e| e == "json")).unwrap();
    let o = out.to_str().unwrap();
    let r = d.run(&["certificate", "sign", "--key", d.key("sam-lee").to_str().unwrap(), "--signed-at", "2026-10-01T09:30:00Z", o]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    // Signed, not yet countersigned: the verifier is missing, and says so.
    assert_eq!(d.verify(&file), (1, vec!["countersignature-missing".to_string()]));
    let r = d.run(&["certificate", "countersign", "--key", d.key("ana-ruiz").to_str().unwrap(), "--signed-at", "2026-10-02T14:00:00+02:00", o]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(d.verify(&file), (0, vec![]));
    let c = Certificate::load(&file).unwrap();
    let (p, v) = (c.performer_signature.clone().unwrap(), c.verifier_signature.clone().unwrap());
    assert_eq!((p.name.as_deref(), p.signed_at.as_deref()), (Some("Sam Lee"), Some("2026-10-01T09:30:00Z")));
    assert_eq!((v.name.as_deref(), v.signed_at.as_deref()), (Some("Ana Ruiz"), Some("2026-10-02T12:00:00Z")));
    assert_eq!(d.run(&["certificate", "render", o]).code, 0);
    let text = pdftotext(&file.with_extension("pdf"));
    assert!(text.contains("Sam Lee, performer, on 2026-10-01T09:30:00Z") && text.contains("Ana Ruiz, verifier, on 2026-10-02T12:00:00Z"), "{text}");
    // A name edited after signing: the signature no longer covers it.
    let forged = d.org.dir.path().join("forged.json");
    let mut e = c.clone();
    e.performer_signature.as_mut().unwrap().name = Some("Omar Diaz".into());
    std::fs::write(&forged, e.to_bytes()).unwrap();
    let failed = d.verify(&forged).1;
    assert!(failed.contains(&"signature-invalid".to_string()) && failed.contains(&"signer-name-mismatch".to_string()), "{failed:?}");
    // A time edited: the same.
    let mut e = c.clone();
    e.verifier_signature.as_mut().unwrap().signed_at = Some("2026-09-01T00:00:00Z".into());
    std::fs::write(&forged, e.to_bytes()).unwrap();
    assert_eq!(d.verify(&forged).1, vec!["countersignature-invalid".to_string()]);
    // Signed under another name than the trust list gives the key: named at verify.
    let other = d.org.dir.path().join("other");
    let mut args = vec!["certificate", "new", "--drive", "SQYUG59YR5JBDN", "--out", other.to_str().unwrap()];
    args.extend(ISSUE);
    assert_eq!(d.run(&args).code, 0);
    let r = d.run(&["certificate", "sign", "--key", d.key("sam-lee").to_str().unwrap(), "--name", "Samuel Lee-Jones", other.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let f = std::fs::read_dir(&other).unwrap().map(|e| e.unwrap().path()).find(|p| p.extension().is_some_and(|e| e == "json")).unwrap();
    assert_eq!(d.verify(&f).1, vec!["signer-name-mismatch".to_string(), "countersignature-missing".to_string()]);
}

/// The golden certificate of tests/golden (made by an earlier build) verifies, as JSON and as
/// PDF; a PDF rendered by a later evident version with the same template and typst verifies too;
/// one naming a template or typst release this build does not have is not re-rendered as such.
#[test]
fn golden_certificates_verify_with_every_later_build() {
    let golden = crate::util::root().join("tests/golden");
    let trust = golden.join("golden.trust");
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("s.db");
    let verify = |f: &Path| {
        let r = evident(&store, &["verify", f.to_str().unwrap(), "--trust", trust.to_str().unwrap(), "--format", "json"]);
        let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}: {} {}", r.stdout, r.stderr));
        let failed: Vec<String> =
            v["checks"].as_array().unwrap().iter().filter(|c| c["ok"] == false).map(|c| format!("{}: {}", c["code"], c["detail"])).collect();
        (r.code, failed)
    };
    let json = golden.join("COS-5EB13A920B2232EF.json");
    let pdf = golden.join("COS-5EB13A920B2232EF.pdf");
    assert_eq!(verify(&json), (0, vec![]));
    // Every golden PDF: the first (monospaced template, data layout 2, kept in
    // templates/certificate-archive/) and each one since.
    let mut renderers = std::collections::BTreeSet::new();
    for entry in std::fs::read_dir(&golden).unwrap() {
        let p = entry.unwrap().path();
        if p.extension().is_some_and(|e| e == "pdf") {
            assert_eq!(verify(&p), (0, vec![]), "{}", p.display());
            renderers.insert(pdf::renderer_of(&std::fs::read(&p).unwrap()).unwrap());
        }
    }
    assert!(renderers.len() >= 2 && renderers.contains(pdf::renderer()), "golden PDFs of the archived and the current template: {renderers:?}");
    // The same certificate as a later evident would render it (its version in the Creator): the
    // template and typst are the same, so it verifies.
    let c = Certificate::load(&json).unwrap();
    let ours = pdf::renderer();
    let later = ours.replacen(&format!("evident {} (", env!("CARGO_PKG_VERSION")), "evident 9.9.9 (", 1);
    assert_ne!(later, ours);
    let bytes = pdf::render_as(&c, &later).expect("a renderer this build can reproduce").unwrap();
    assert_ne!(bytes, std::fs::read(&pdf).unwrap(), "another Creator, other bytes");
    let later_pdf = tmp.path().join("later.pdf");
    std::fs::write(&later_pdf, &bytes).unwrap();
    assert_eq!(verify(&later_pdf), (0, vec![]));
    // A template this build does not keep: refused, and the PDF's renderer is named.
    let unknown = ours.rsplit_once("sha256 ").map(|(head, _)| format!("{head}sha256 0123456789abcdef)")).unwrap();
    assert!(pdf::render_as(&c, &unknown).is_none(), "an unknown template is not guessed at");
    assert!(pdf::render_as(&c, &ours.replacen("typst ", "typst 0.", 1)).is_none(), "nor another typst release");
}

/// Corrections and withdrawals: a certificate superseded by a correction (its own id, the reason
/// signed in it) and one revoked by a signed revocation are reported as such by `verify CERT
/// --pack`; the pack carries the revocation and verifies it; DISP-03 counts neither.
#[test]
fn a_certificate_can_be_superseded_or_revoked() {
    let d = desk();
    let out = d.org.dir.path().join("certs");
    let mut args = vec!["certificate", "new", "--drive", "SQYUG59YR5JBDN", "--out", out.to_str().unwrap()];
    args.extend(ISSUE);
    assert_eq!(d.run(&args).code, 0);
    let sign = |dir: &Path| {
        for (cmd, key) in [("sign", "sam-lee"), ("countersign", "ana-ruiz")] {
            let r = d.run(&["certificate", cmd, "--key", d.key(key).to_str().unwrap(), dir.to_str().unwrap()]);
            assert_eq!(r.code, 0, "{}", r.stderr);
        }
    };
    sign(&out);
    let old = reload(&std::fs::read_dir(&out).unwrap().map(|e| e.unwrap().path()).find(|p| p.extension().is_some_and(|e| e == "json")).unwrap());
    // The destination was wrong: a correction supersedes it, with its own id.
    let fixed = d.org.dir.path().join("fixed");
    let mut args = vec![
        "certificate",
        "new",
        "--drive",
        "SQYUG59YR5JBDN",
        "--out",
        fixed.to_str().unwrap(),
        "--supersedes",
        &old.record.id,
        "--reason",
        "the drive was shredded, not recycled",
    ];
    args.extend(ISSUE.iter().map(|a| if *a == "Recycled by GreenLoop Recycling" { "Shredded by GreenLoop Recycling" } else { a }));
    let r = d.run(&args);
    assert_eq!(r.code, 0, "{}", r.stderr);
    sign(&fixed);
    let new_file = std::fs::read_dir(&fixed).unwrap().map(|e| e.unwrap().path()).find(|p| p.extension().is_some_and(|e| e == "json")).unwrap();
    let new = reload(&new_file);
    assert_ne!(new.record.id, old.record.id);
    assert_eq!(new.record.supersedes.as_deref(), Some(old.record.id.as_str()));
    assert_eq!(new.record.correction.as_deref(), Some("the drive was shredded, not recycled"));
    // A correction of a certificate the store does not hold is refused.
    let mut bad = vec![
        "certificate",
        "new",
        "--drive",
        "SQYUG59YR5JBDN",
        "--out",
        d.org.dir.path().join("x").to_str().unwrap().to_string().leak(),
        "--supersedes",
        "COS-0000000000000000",
        "--reason",
        "typo",
    ];
    bad.extend(ISSUE);
    assert_eq!(d.run(&bad).code, 2);
    // The pack carries both; the old one is superseded there, the new one current.
    let trust = d.org.dir.path().join("all.trust");
    std::fs::write(&trust, std::fs::read_to_string(&d.trust).unwrap() + &std::fs::read_to_string(&d.org.trust).unwrap()).unwrap();
    let p1 = d.org.dir.path().join("p1");
    d.org.pack_into(&d.org.store, &p1, &["--as-of", "2026-10-31"]);
    let check = |cert: &Path, pack: &Path| -> (i32, Vec<String>) {
        let r = d.run(&["verify", cert.to_str().unwrap(), "--trust", trust.to_str().unwrap(), "--pack", pack.to_str().unwrap(), "--format", "json"]);
        let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}: {} {}", r.stdout, r.stderr));
        (r.code, v["checks"].as_array().unwrap().iter().filter(|c| c["ok"] == false).map(|c| c["code"].as_str().unwrap().to_string()).collect())
    };
    let old_file = p1.join(format!("certificates/{}.json", old.record.id));
    assert_eq!(check(&old_file, &p1), (1, vec!["certificate-superseded".to_string()]));
    assert_eq!(check(&new_file, &p1), (0, vec![]));
    let ev: serde_json::Value = serde_json::from_slice(&std::fs::read(p1.join("results/controls/DISP-03.json")).unwrap()).unwrap();
    let line = ev["findings"].as_array().unwrap().iter().find(|f| f["item"] == "drive:SQYUG59YR5JBDN");
    assert!(line.is_none(), "the drive is covered by its current certificate: {ev}");
    // The correction revoked too (the drive's certificate withdrawn): DISP-03 fails it.
    let revs = d.org.dir.path().join("revocations");
    let r = d.run(&[
        "certificate",
        "revoke",
        &new.record.id,
        "--reason",
        "issued before the audit of the lot",
        "--key",
        d.key("ana-ruiz").to_str().unwrap(),
        "--out",
        revs.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let p2 = d.org.dir.path().join("p2");
    d.org.pack_into(&d.org.store, &p2, &["--as-of", "2026-10-31"]);
    assert!(p2.join(format!("certificates/revocations/{}.json", new.record.id)).is_file());
    let r = d.run(&["verify", p2.to_str().unwrap(), "--trust", trust.to_str().unwrap()]);
    assert_eq!(r.code, 0, "the pack's revocation verifies: {}", r.stdout);
    assert_eq!(check(&new_file, &p2), (1, vec!["certificate-revoked".to_string()]));
    let ev: serde_json::Value = serde_json::from_slice(&std::fs::read(p2.join("results/controls/DISP-03.json")).unwrap()).unwrap();
    assert!(ev["findings"].as_array().unwrap().iter().any(|f| f["item"] == "drive:SQYUG59YR5JBDN"), "no current certificate covers the drive: {ev}");
    // A revocation signed by a key nobody trusts: the pack says so.
    let omar_only = d.org.dir.path().join("omar.trust");
    std::fs::write(&omar_only, std::fs::read_to_string(&d.org.trust).unwrap()).unwrap();
    let r = d.run(&["verify", p2.to_str().unwrap(), "--trust", omar_only.to_str().unwrap(), "--format", "json"]);
    assert!(r.stdout.contains("revocation-invalid"), "{}", r.stdout);
}

/// The PDF is PDF/A-3b (archival): the XMP says so, an sRGB output intent, every font embedded,
/// and the signed record attached as its source (AFRelationship). No validator is installable
/// here (veraPDF needs Java and the network); these are the checks poppler and the bytes allow.
#[test]
fn certificates_are_pdf_a_3b_with_the_record_as_their_source() {
    let golden = crate::util::root().join("tests/golden/COS-5EB13A920B2232EF.pdf");
    let bytes = std::fs::read(&golden).unwrap();
    let text = String::from_utf8_lossy(&bytes);
    assert!(text.contains("<pdfaid:part>3</pdfaid:part>") && text.contains("<pdfaid:conformance>B</pdfaid:conformance>"), "PDF/A-3b in the XMP");
    assert!(text.contains("/S/GTS_PDFA1") && text.contains("/AFRelationship/Source"), "output intent and the attachment's relationship");
    let fonts = Command::new("pdffonts").arg(&golden).output().unwrap();
    let listing = String::from_utf8_lossy(&fonts.stdout);
    let rows: Vec<&str> = listing.lines().skip(2).collect();
    assert!(!rows.is_empty() && rows.iter().all(|r| r.split_whitespace().rev().nth(4) == Some("yes")), "every font embedded: {listing}");
    // A certificate rendered now is PDF/A-3b as well, and says so in its renderer.
    assert!(pdf::renderer().ends_with(", PDF/A-3b)"), "{}", pdf::renderer());
}

/// A pallet of 90 drives: the lot's media summary and each drive's detail run over many pages,
/// and every line is on a page, none over another or over the footer. The values are placed at
/// fixed heights in blocks that a page breaks between, so a block that broke would hide lines.
#[test]
fn a_lot_of_ninety_drives_prints_every_line_on_a_page_and_none_over_another() {
    let tmp = tempfile::tempdir().unwrap();
    let (store, csv, out) = (tmp.path().join("s.db"), tmp.path().join("itad-pallet.csv"), tmp.path().join("lot"));
    let mut rows = String::from(
        "certificate_number,lot_number,asset_tag,device_serial,media_serial,media_type,manufacturer,model,sanitization_method,nist_category,verification,result,completed_at,technician,vendor\n",
    );
    for i in 0..90 {
        rows.push_str(&format!(
            "COD-{i:04},PAL-7,FH-{i:04},SYS{i:06},DRV{i:06},SSD,Crucial,MX500,Crypto erase,Purge,Full,Pass,2026-09-01 10:{:02},J. Ortega,GreenLoop Recycling\n",
            i % 60
        ));
    }
    std::fs::write(&csv, rows).unwrap();
    let r = evident(&store, &["ingest", csv.to_str().unwrap(), "--source-tz", "UTC"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let mut args = vec!["certificate", "new", "--lot", "PAL-7", "--out", out.to_str().unwrap()];
    args.extend(&ISSUE[..6]);
    assert_eq!(evident(&store, &args).code, 0);
    let keys = tmp.path().join("keys");
    assert_eq!(evident(&store, &["keygen", "--role", "performer", "--name", "Sam Lee", "--out", keys.to_str().unwrap()]).code, 0);
    let key = keys.join("sam-lee.key.pem");
    assert_eq!(evident(&store, &["certificate", "sign", "--key", key.to_str().unwrap(), out.to_str().unwrap()]).code, 0);
    let r = evident(&store, &["certificate", "render", out.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let pdf = std::fs::read_dir(&out).unwrap().map(|e| e.unwrap().path()).find(|p| p.extension().is_some_and(|e| e == "pdf")).unwrap();
    // Every drive twice: its line of the media summary, and its own section.
    let text = pdftotext(&pdf);
    for i in 0..90 {
        assert_eq!(text.matches(&format!("DRV{i:06}")).count(), 2, "DRV{i:06}");
        assert!(text.contains(&format!("Media {} of 90", i + 1)), "Media {} of 90", i + 1);
    }
    // Every word inside its page, and no two words of a page overlapping.
    let bbox = Command::new("pdftotext").arg("-bbox").arg(&pdf).arg("-").output().unwrap();
    let html = String::from_utf8_lossy(&bbox.stdout);
    let num = |tag: &str, key: &str| -> f64 {
        let at = tag.find(&format!("{key}=\"")).unwrap() + key.len() + 2;
        tag[at..].split('"').next().unwrap().parse().unwrap()
    };
    let mut pages = 0;
    for page in html.split("<page ").skip(1) {
        pages += 1;
        let (width, height) = (num(page, "width"), num(page, "height"));
        let words: Vec<[f64; 4]> = page.split("<word ").skip(1).map(|w| [num(w, "xMin"), num(w, "yMin"), num(w, "xMax"), num(w, "yMax")]).collect();
        assert!(!words.is_empty());
        // Each page carries the footer that binds it to the record, with its number.
        let said: Vec<&str> = page.split("<word ").skip(1).map(|w| w.split('>').nth(1).unwrap_or("").split('<').next().unwrap_or("")).collect();
        let said = said.join(" ");
        assert!(said.contains("record sha256") && said.contains(&format!("page {pages}")), "page {pages}: {said}");
        for (i, a) in words.iter().enumerate() {
            assert!(a[0] >= 0.0 && a[1] >= 0.0 && a[2] <= width && a[3] <= height, "page {pages}: a word outside the page at {a:?}");
            for b in &words[i + 1..] {
                let overlap = a[0] < b[2] - 0.5 && b[0] < a[2] - 0.5 && a[1] < b[3] - 0.5 && b[1] < a[3] - 0.5;
                assert!(!overlap, "page {pages}: words overlap at {a:?} and {b:?}");
            }
        }
    }
    assert!(pages > 20, "{pages} pages");
}
