//! The OSCAL files of a pack validate against the OSCAL 1.2.1 JSON Schemas (tests/oscal, with
//! their SHA-256), every reference resolves inside the pack, they say what the evaluation says,
//! and compliance-trestle loads them, rebuilds their package manifest and verifies its signature.

use crate::pack::org;
use crate::util::root;
use sha2::{Digest, Sha256};

/// Loads a schema from tests/oscal after checking it is the file recorded there (SHA256SUMS).
fn schema(name: &str) -> jsonschema::Validator {
    let dir = root().join("tests/oscal");
    let bytes = std::fs::read(dir.join(name)).unwrap();
    let sums = std::fs::read_to_string(dir.join("SHA256SUMS")).unwrap();
    let want = sums.lines().find_map(|l| l.strip_suffix(name)).map(str::trim).unwrap_or_else(|| panic!("{name} not in SHA256SUMS"));
    assert_eq!(hex::encode(Sha256::digest(&bytes)), want, "{name} is not the schema recorded in tests/oscal");
    let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    jsonschema::draft202012::new(&v).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn errors(v: &jsonschema::Validator, doc: &serde_json::Value) -> Vec<String> {
    v.iter_errors(doc).map(|e| format!("{} at {}", e, e.instance_path())).take(20).collect()
}

const AR_SCHEMA: &str = "oscal_assessment-results_schema-1.2.1-trestle-5.2.0.json";

/// Every OSCAL file of a pack, with the schema of its model.
const FILES: [(&str, &str); 8] = [
    ("oscal-assessment-results.json", AR_SCHEMA),
    ("oscal-assessment-plan.json", "oscal_assessment-plan_schema-1.2.1-trestle-5.2.0.json"),
    ("oscal-system-security-plan.json", "oscal_ssp_schema-1.2.1-trestle-5.2.0.json"),
    ("oscal-catalog.json", "oscal_catalog_schema-1.2.1-trestle-5.2.0.json"),
    ("oscal-catalog-soc2.json", "oscal_catalog_schema-1.2.1-trestle-5.2.0.json"),
    ("oscal-catalog-iso27001.json", "oscal_catalog_schema-1.2.1-trestle-5.2.0.json"),
    ("oscal-catalog-iso19770.json", "oscal_catalog_schema-1.2.1-trestle-5.2.0.json"),
    ("oscal-mapping-collection.json", "oscal_mapping_schema-1.2.1-trestle-5.2.0.json"),
];

#[test]
fn oscal_files_validate_at_1_2_1_and_every_reference_resolves() {
    let o = org();
    let pack = o.pack("p1", "2026-10-31");
    let read = |p: &str| -> serde_json::Value { serde_json::from_slice(&std::fs::read(pack.join(p)).unwrap()).unwrap() };
    for (file, name) in FILES {
        let doc = read(&format!("results/{file}"));
        assert_eq!(errors(&schema(name), &doc), Vec::<String>::new(), "{file}");
        let bytes = std::fs::read(pack.join("results").join(file)).unwrap();
        assert_eq!(serde_jcs::to_vec(&doc).unwrap(), bytes, "{file} is RFC 8785 canonical JSON");
    }
    let ar = read("results/oscal-assessment-results.json");
    let ar_schema = schema(AR_SCHEMA);
    let mc = read("results/oscal-mapping-collection.json");
    let mc_schema = schema("oscal_mapping_schema-1.2.1-trestle-5.2.0.json");
    // The import chain resolves inside the pack: results -> plan -> system security plan -> catalog.
    let results = pack.join("results");
    let ap = read(&format!("results/{}", ar["assessment-results"]["import-ap"]["href"].as_str().unwrap()));
    let ssp = read(&format!("results/{}", ap["assessment-plan"]["import-ssp"]["href"].as_str().unwrap()));
    let catalog = read(&format!("results/{}", ssp["system-security-plan"]["import-profile"]["href"].as_str().unwrap()));
    let catalog_ids: std::collections::BTreeSet<String> =
        catalog["catalog"]["controls"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap().to_string()).collect();
    let objectives: std::collections::BTreeSet<String> = catalog["catalog"]["controls"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["parts"].as_array().unwrap().iter().map(|p| p["id"].as_str().unwrap().to_string()))
        .collect();
    for f in ar["assessment-results"]["results"][0]["findings"].as_array().unwrap() {
        assert!(objectives.contains(f["target"]["target-id"].as_str().unwrap()), "the finding's objective is in the catalog: {}", f["target"]);
    }
    for c in ap["assessment-plan"]["reviewed-controls"]["control-selections"][0]["include-controls"].as_array().unwrap() {
        assert!(catalog_ids.contains(c["control-id"].as_str().unwrap()), "{c}");
    }
    // Back-matter links resolve from results/, where the file is.
    for r in ar["assessment-results"]["back-matter"]["resources"].as_array().unwrap() {
        let href = r["rlinks"][0]["href"].as_str().unwrap();
        assert!(results.join(href).is_file(), "{href} resolves from results/");
    }
    // The mapping's resources are catalogs in the pack, and every map names controls they hold.
    for m in mc["mapping-collection"]["mappings"].as_array().unwrap() {
        let source = read(&format!("results/{}", m["source-resource"]["href"].as_str().unwrap()));
        let target = read(&format!("results/{}", m["target-resource"]["href"].as_str().unwrap()));
        let ids = |c: &serde_json::Value| -> std::collections::BTreeSet<String> {
            c["catalog"]["controls"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap().to_string()).collect()
        };
        let (s, t) = (ids(&source), ids(&target));
        for map in m["maps"].as_array().unwrap() {
            assert!(s.contains(map["sources"][0]["id-ref"].as_str().unwrap()) && t.contains(map["targets"][0]["id-ref"].as_str().unwrap()), "{map}");
        }
    }
    // The validators do reject what is wrong.
    let mut bad = ar.clone();
    bad["assessment-results"].as_object_mut().unwrap().remove("import-ap");
    assert!(!errors(&ar_schema, &bad).is_empty());
    let mut bad = mc.clone();
    bad["mapping-collection"].as_object_mut().unwrap().remove("provenance");
    assert!(!errors(&mc_schema, &bad).is_empty());

    // One finding per control; one observation per control and sample date naming its population
    // file, and one per failing or excepted item, with the evaluation's outcome.
    let ev = read("results/evaluation.json");
    let result = &ar["assessment-results"]["results"][0];
    let findings = result["findings"].as_array().unwrap();
    assert_eq!(findings.len(), ev["controls"].as_array().unwrap().len());
    let (mut files, mut failing) = (0, 0);
    for c in ev["controls"].as_array().unwrap() {
        let detail = read(&format!("results/controls/{}.json", c["id"].as_str().unwrap()));
        let populations = detail["populations"].as_array().unwrap();
        assert_eq!(populations.iter().map(|f| f["items"].as_u64().unwrap()).sum::<u64>(), c["population"].as_u64().unwrap());
        files += populations.len();
        failing += detail["findings"].as_array().unwrap().len();
        assert_eq!(detail["findings"].as_array().unwrap().len() as u64, c["failed"].as_u64().unwrap() + c["excepted"].as_u64().unwrap());
    }
    assert!(files >= 10 && failing >= 10, "{files} population files, {failing} findings");
    assert_eq!(result["observations"].as_array().unwrap().len(), files + failing);
    let enc = findings.iter().find(|f| f["title"].as_str().unwrap().starts_with("ENC-01@")).unwrap();
    assert_eq!(enc["target"]["status"]["state"], "not-satisfied");
    let fh2003 = result["local-definitions"]["inventory-items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["props"].as_array().unwrap().iter().any(|p| p["name"] == "asset-tag" && p["value"] == "FH-2003"))
        .expect("FH-2003 is an inventory item");
    let failed_on_it = result["observations"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|ob| {
            ob["subjects"][0]["subject-uuid"] == fh2003["uuid"]
                && ob["props"].as_array().unwrap().iter().any(|p| p["name"] == "outcome" && p["value"] == "fail")
        })
        .count();
    assert!(failed_on_it >= 2, "ENC-01 and MDM-02 fail on FH-2003");
    // Back-matter: every source with its SHA-256, as in the manifest.
    let manifest = read("manifest.json");
    let mut want: Vec<(String, String)> =
        manifest["sources"].as_array().unwrap().iter().map(|s| (s["path"].as_str().unwrap().into(), s["sha256"].as_str().unwrap().into())).collect();
    let mut got: Vec<(String, String)> = ar["assessment-results"]["back-matter"]["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["rlinks"][0]["href"].as_str().unwrap().into(), r["rlinks"][0]["hashes"][0]["value"].as_str().unwrap().into()))
        .collect();
    want.extend(
        manifest["files"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["path"].as_str().unwrap().ends_with(".jsonl") && f["path"].as_str().unwrap().starts_with("results/controls/"))
            .map(|f| (format!("../{}", f["path"].as_str().unwrap()), f["sha256"].as_str().unwrap().into())),
    );
    for w in want.iter_mut().filter(|(p, _)| p.starts_with("sources/")) {
        w.0 = format!("../{}", w.0);
    }
    want.sort();
    got.sort();
    assert_eq!(got, want);
    // Every observation's relevant evidence points at one of the resources (a source, or a
    // population file with its SHA-256 as in the manifest), and each record behind an item is
    // cited (by the export's hash, so same-named exports stay apart).
    let resource_ids: std::collections::BTreeSet<String> =
        ar["assessment-results"]["back-matter"]["resources"].as_array().unwrap().iter().map(|r| format!("#{}", r["uuid"].as_str().unwrap())).collect();
    let observations = result["observations"].as_array().unwrap();
    let cited: usize = observations.iter().map(|o| o["relevant-evidence"].as_array().map_or(0, |e| e.len())).sum();
    assert!(cited >= observations.len(), "every observation cites its records ({cited} for {})", observations.len());
    for o in observations {
        for e in o["relevant-evidence"].as_array().into_iter().flatten() {
            assert!(resource_ids.contains(e["href"].as_str().unwrap()), "{e}");
        }
    }
    // The crosswalk: every mapping of every control, nothing more.
    let maps: usize = mc["mapping-collection"]["mappings"].as_array().unwrap().iter().map(|m| m["maps"].as_array().unwrap().len()).sum();
    let lib = evident::controls::Library::builtin();
    assert_eq!(maps, lib.controls.iter().map(|l| l.control.maps.len()).sum::<usize>());
}

/// A period pack (three sample dates, two without evidence in force) validates too: one
/// population observation per control and date with items, each naming a file of the pack.
#[test]
fn a_period_packs_assessment_results_validate_and_name_each_dates_population() {
    let o = org();
    let out = o.dir.path().join("period");
    o.pack_into(&o.store, &out, &["--period", "2026-08-01..2026-10-31"]);
    let ar: serde_json::Value = serde_json::from_slice(&std::fs::read(out.join("results/oscal-assessment-results.json")).unwrap()).unwrap();
    assert_eq!(errors(&schema(AR_SCHEMA), &ar), Vec::<String>::new());
    let result = &ar["assessment-results"]["results"][0];
    let populations: Vec<&serde_json::Value> =
        result["observations"].as_array().unwrap().iter().filter(|o| o["title"].as_str().unwrap().contains(" population at ")).collect();
    assert!(!populations.is_empty());
    let resources = ar["assessment-results"]["back-matter"]["resources"].as_array().unwrap();
    for p in populations {
        let href = p["relevant-evidence"][0]["href"].as_str().unwrap().trim_start_matches('#');
        let res = resources.iter().find(|r| r["uuid"] == href).expect("the population file is a resource");
        let path = res["rlinks"][0]["href"].as_str().unwrap().trim_start_matches("../");
        assert!(out.join(path).is_file(), "{path} is in the pack");
    }
    // Every sample date with items has its view file.
    for d in ["2026-08-31", "2026-09-30", "2026-10-31"] {
        assert!(out.join(format!("results/assets/{d}.jsonl")).is_file(), "{d}");
    }
}

/// compliance-trestle (installed by .ci/run with pip): loads every OSCAL file of a pack with its
/// OSCAL 1.2.1 models, rebuilds the package manifest from the assessment results by following
/// their imports, and verifies the pack's signed package; one changed value fails it.
#[test]
fn compliance_trestle_loads_the_files_and_verifies_the_signed_package() {
    let Some(trestle) = trestle() else { return };
    let python = trestle.with_file_name("python");
    let o = org();
    let pack = o.pack("p1", "2026-10-31");
    let results = pack.join("results");
    let script = [
        "import json, pathlib, sys",
        "from trestle.oscal.assessment_results import AssessmentResults",
        "from trestle.oscal.assessment_plan import AssessmentPlan",
        "from trestle.oscal.ssp import SystemSecurityPlan",
        "from trestle.oscal.catalog import Catalog",
        "from trestle.oscal.mapping import MappingCollection",
        "models = {'assessment-results': AssessmentResults, 'assessment-plan': AssessmentPlan, 'system-security-plan': SystemSecurityPlan, 'catalog': Catalog, 'mapping-collection': MappingCollection}",
        "for f in sys.argv[1:]:",
        "    kind = next(iter(json.load(open(f))))",
        "    models[kind].oscal_read(pathlib.Path(f))",
        "    print('loaded', kind, f)",
    ]
    .join("\n");
    let files: Vec<std::path::PathBuf> = FILES.iter().map(|(f, _)| results.join(f)).collect();
    let out = std::process::Command::new(&python).arg("-c").arg(&script).args(&files).output().unwrap();
    assert!(out.status.success(), "trestle loads every OSCAL file: {}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), FILES.len());
    let run = |dir: &std::path::Path, args: &[&str]| {
        std::process::Command::new(&trestle).args(args).current_dir(dir).env("TRESTLE_BETA_FEATURES", "json-manifest-signing").output().unwrap()
    };
    let verify = |dir: &std::path::Path| {
        run(dir, &["verify-manifest", "--manifest", "oscal-package.json", "--signature", "oscal-package.dsse.json", "--public-key", "../signer.pub.pem"])
    };
    let ok = verify(&results);
    assert!(ok.status.success(), "trestle verify-manifest on a genuine pack: {}", String::from_utf8_lossy(&ok.stderr));
    // generate-manifest follows the imports (results -> plan -> SSP -> catalog, mapping -> catalogs)
    // to the same artifacts the pack's package lists. It writes beside them: work on a copy.
    let copy = o.dir.path().join("copy");
    crate::pack::copy_dir(&pack, &copy);
    let r = run(
        &copy.join("results"),
        &["generate-manifest", "-f", "oscal-assessment-results.json", "--include", "oscal-mapping-collection.json", "-o", "generated.json"],
    );
    assert!(r.status.success(), "trestle generate-manifest: {}", String::from_utf8_lossy(&r.stderr));
    let names = |p: &std::path::Path| -> std::collections::BTreeSet<String> {
        let v: serde_json::Value = serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap();
        v["artifacts"].as_array().unwrap().iter().map(|a| a["name"].as_str().unwrap().to_string()).collect()
    };
    assert_eq!(names(&copy.join("results/generated.json")), names(&results.join("oscal-package.json")));
    // One changed value in the assessment results: trestle refuses the package.
    let ar = copy.join("results/oscal-assessment-results.json");
    let text = std::fs::read_to_string(&ar).unwrap().replacen("not-satisfied", "not-satisfiex", 1);
    std::fs::write(&ar, text).unwrap();
    let bad = verify(&copy.join("results"));
    assert!(!bad.status.success(), "a changed OSCAL byte fails verify-manifest");
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("oscal-assessment-results.json")
            || String::from_utf8_lossy(&bad.stdout).contains("oscal-assessment-results.json")
    );
}

/// compliance-trestle, as .ci/run installs it (EVIDENT_TRESTLE), or on PATH. Absent: the test is
/// skipped with a message where .ci/run could not install it (EVIDENT_TRESTLE_SKIP says why) or
/// outside CI; in CI without a reason it fails.
#[allow(clippy::disallowed_macros, reason = "a skipped test says why in the test's own output")]
fn trestle() -> Option<std::path::PathBuf> {
    let from_env = std::env::var_os("EVIDENT_TRESTLE").map(std::path::PathBuf::from).filter(|p| p.is_file());
    let on_path = || std::env::var_os("PATH").and_then(|p| std::env::split_paths(&p).map(|d| d.join("trestle")).find(|t| t.is_file()));
    if let Some(t) = from_env.or_else(on_path) {
        return Some(t);
    }
    match std::env::var("EVIDENT_TRESTLE_SKIP") {
        Ok(why) => eprintln!("skipped: compliance-trestle is not installed ({why})"),
        Err(_) if std::env::var_os("CI").is_some() => panic!("CI must install compliance-trestle (.ci/run) or say why not in EVIDENT_TRESTLE_SKIP"),
        Err(_) => eprintln!("skipped: compliance-trestle is not installed (set EVIDENT_TRESTLE to its trestle)"),
    }
    None
}
