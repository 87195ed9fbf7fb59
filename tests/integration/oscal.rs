//! The OSCAL files of a pack validate against NIST's published JSON Schemas (kept in tests/oscal
//! with their SHA-256), and say what the evaluation says.

use crate::pack::org;
use crate::util::root;
use sha2::{Digest, Sha256};

/// Loads a schema from tests/oscal after checking it is the file NIST published (SHA256SUMS).
fn schema(name: &str) -> jsonschema::Validator {
    let dir = root().join("tests/oscal");
    let bytes = std::fs::read(dir.join(name)).unwrap();
    let sums = std::fs::read_to_string(dir.join("SHA256SUMS")).unwrap();
    let want = sums.lines().find_map(|l| l.strip_suffix(name)).map(str::trim).unwrap_or_else(|| panic!("{name} not in SHA256SUMS"));
    assert_eq!(hex::encode(Sha256::digest(&bytes)), want, "{name} is not the schema NIST published");
    let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    jsonschema::draft7::new(&v).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn errors(v: &jsonschema::Validator, doc: &serde_json::Value) -> Vec<String> {
    v.iter_errors(doc).map(|e| format!("{} at {}", e, e.instance_path())).take(20).collect()
}

#[test]
fn assessment_results_and_mapping_collection_validate_against_nists_schemas() {
    let o = org();
    let pack = o.pack("p1", "2026-10-31");
    let read = |p: &str| -> serde_json::Value { serde_json::from_slice(&std::fs::read(pack.join(p)).unwrap()).unwrap() };
    let ar = read("results/oscal-assessment-results.json");
    let ar_schema = schema("oscal_assessment-results_schema-1.0.6.json");
    assert_eq!(errors(&ar_schema, &ar), Vec::<String>::new());
    let mc = read("results/oscal-mapping-collection.json");
    let mc_schema = schema("oscal_mapping_schema-draft-2023-07.json");
    assert_eq!(errors(&mc_schema, &mc), Vec::<String>::new());
    // The validators do reject what is wrong.
    let mut bad = ar.clone();
    bad["assessment-results"].as_object_mut().unwrap().remove("import-ap");
    assert!(!errors(&ar_schema, &bad).is_empty());
    let mut bad = mc.clone();
    bad["mapping-collection"]["mappings"][0]["maps"][0]["sources"][0]["type"] = "asset".into();
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
    assert_eq!(errors(&schema("oscal_assessment-results_schema-1.0.6.json"), &ar), Vec::<String>::new());
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
