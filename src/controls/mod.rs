//! Controls as data: loads `controls/*.yaml` and the framework catalogs in
//! `controls/frameworks/`, and checks every cross-reference (ids, file names, mappings, points of
//! focus, parameters, confidence) before anything is evaluated. Problems name `file:line:col`.

pub mod schema;

use schema::{Catalog, Confidence, Control, Exception, ExceptionFile};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A control with where it came from.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub control: Control,
    /// The control's parameters, typed and defaulted.
    pub params: schema::Params,
    /// Path relative to the controls directory, `/`-separated (e.g. `enc-01.yaml`).
    pub file: String,
    pub bytes: Vec<u8>,
    pub sha256: String,
}

/// The controls and catalogs of one directory, checked.
#[derive(Debug, Clone)]
pub struct Library {
    pub controls: Vec<Loaded>,
    pub catalogs: BTreeMap<String, Catalog>,
    /// The catalog files as read (path under the controls directory, bytes), for packs.
    pub catalog_files: Vec<(String, Vec<u8>)>,
}

/// One problem found while loading.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Problem {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}:{}: {}", self.file, self.line, self.column, self.message)
    }
}

/// Loading failed: every problem, not just the first.
#[derive(Debug, thiserror::Error)]
#[error("{} problem(s):\n{}", .0.len(), .0.iter().map(|p| format!("  {p}")).collect::<Vec<_>>().join("\n"))]
pub struct Problems(pub Vec<Problem>);

impl Problems {
    pub fn hint(&self) -> &'static str {
        "fix the files named above; `evident controls check` lists every problem (docs/controls.md has every field)"
    }
}

fn yaml_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "yaml" || e == "yml"))
        .collect();
    out.sort();
    Ok(out)
}

/// The controls shipped with evident, compiled in: used when no controls directory is given
/// and `./controls` does not exist.
const BUILTIN: &[(&str, &str)] = &[
    ("frameworks/iso19770-1.yaml", include_str!("../../controls/frameworks/iso19770-1.yaml")),
    ("frameworks/iso27001-2022.yaml", include_str!("../../controls/frameworks/iso27001-2022.yaml")),
    ("frameworks/soc2.yaml", include_str!("../../controls/frameworks/soc2.yaml")),
    ("disp-01.yaml", include_str!("../../controls/disp-01.yaml")),
    ("disp-02.yaml", include_str!("../../controls/disp-02.yaml")),
    ("disp-03.yaml", include_str!("../../controls/disp-03.yaml")),
    ("enc-01.yaml", include_str!("../../controls/enc-01.yaml")),
    ("inv-fields.yaml", include_str!("../../controls/inv-fields.yaml")),
    ("inv-unique.yaml", include_str!("../../controls/inv-unique.yaml")),
    ("ipe-tie.yaml", include_str!("../../controls/ipe-tie.yaml")),
    ("itad-01.yaml", include_str!("../../controls/itad-01.yaml")),
    ("key-01.yaml", include_str!("../../controls/key-01.yaml")),
    ("lost-01.yaml", include_str!("../../controls/lost-01.yaml")),
    ("mdm-01.yaml", include_str!("../../controls/mdm-01.yaml")),
    ("mdm-02.yaml", include_str!("../../controls/mdm-02.yaml")),
    ("os-01.yaml", include_str!("../../controls/os-01.yaml")),
    ("rec-01.yaml", include_str!("../../controls/rec-01.yaml")),
    ("reissue-01.yaml", include_str!("../../controls/reissue-01.yaml")),
    ("ret-01.yaml", include_str!("../../controls/ret-01.yaml")),
    ("ret-cred.yaml", include_str!("../../controls/ret-cred.yaml")),
];

impl Library {
    /// Loads and checks `dir` (controls) and `dir/frameworks` (catalogs).
    pub fn load(dir: &Path) -> Result<Library, Problems> {
        let mut files = Vec::new();
        let mut problems = Vec::new();
        for (sub, prefix) in [(dir.join("frameworks"), "frameworks/"), (dir.to_path_buf(), "")] {
            match yaml_files(&sub) {
                Err(e) => problems.push(Problem { file: sub.display().to_string(), line: 0, column: 0, message: format!("cannot read: {e}") }),
                Ok(paths) => {
                    for p in paths {
                        match std::fs::read(&p) {
                            Ok(b) => files.push((format!("{prefix}{}", p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()), b)),
                            Err(e) => problems.push(Problem { file: p.display().to_string(), line: 0, column: 0, message: format!("cannot read: {e}") }),
                        }
                    }
                }
            }
        }
        if !problems.is_empty() {
            return Err(Problems(problems));
        }
        let label = dir.file_name().map_or("controls".into(), |n| n.to_string_lossy().into_owned());
        Library::from_files(&label, files)
    }

    /// The controls compiled into evident.
    pub fn builtin() -> Library {
        Library::from_files("controls", BUILTIN.iter().map(|(p, t)| (p.to_string(), t.as_bytes().to_vec())).collect())
            .expect("the built-in controls are checked by the tests")
    }

    /// Checks controls and catalogs given as (path under the controls directory, bytes).
    pub fn from_files(label: &str, files: Vec<(String, Vec<u8>)>) -> Result<Library, Problems> {
        let mut problems = Vec::new();
        let mut catalogs = BTreeMap::new();
        let mut catalog_files = Vec::new();
        for (rel, bytes) in files.iter().filter(|(r, _)| r.starts_with("frameworks/")) {
            let text = String::from_utf8_lossy(bytes);
            let shown = format!("{label}/{rel}");
            match schema::parse::<Catalog>(&text) {
                Err(e) => problems.push(Problem { file: shown, line: e.line, column: e.column, message: e.message }),
                Ok(c) => {
                    let spans: schema::CatalogSpans = schema::parse(&text).unwrap_or(schema::CatalogSpans { items: Vec::new() });
                    let mut seen = std::collections::BTreeSet::new();
                    for (k, it) in c.items.iter().enumerate() {
                        if !seen.insert(it.id.clone()) {
                            let (line, column) = spans.items.get(k).map_or((1, 1), |s| schema::at(&s.id));
                            problems.push(Problem { file: shown.clone(), line, column, message: format!("item id '{}' appears twice", it.id) });
                        }
                    }
                    if let Some(prev) = catalogs.insert(c.framework.clone(), c) {
                        problems.push(Problem {
                            file: shown,
                            line: 1,
                            column: 1,
                            message: format!("framework '{}' is defined by two catalogs", prev.framework),
                        });
                    }
                    catalog_files.push((rel.clone(), bytes.clone()));
                }
            }
        }
        let mut controls: Vec<Loaded> = Vec::new();
        for (rel, bytes) in files.into_iter().filter(|(r, _)| !r.starts_with("frameworks/")) {
            let text = String::from_utf8_lossy(&bytes).into_owned();
            let file = format!("{label}/{rel}");
            match schema::parse::<Control>(&text) {
                Err(e) => problems.push(Problem { file, line: e.line, column: e.column, message: e.message }),
                Ok(c) => {
                    let spans: schema::ControlSpans = match schema::parse(&text) {
                        Ok(s) => s,
                        Err(e) => {
                            problems.push(Problem { file, line: e.line, column: e.column, message: e.message });
                            continue;
                        }
                    };
                    check_control(&c, &spans, &file, Path::new(&rel), &catalogs, &mut problems);
                    if let Some(other) = controls.iter().find(|l| l.control.id == c.id) {
                        let (line, column) = schema::at(&spans.id);
                        problems.push(Problem {
                            file: file.clone(),
                            line,
                            column,
                            message: format!("control id '{}' is already used by {}", c.id, other.file),
                        });
                    }
                    let params = match schema::Params::load(c.test, &c.params) {
                        Ok(p) => p,
                        Err(message) => {
                            // Names and types were checked above and reported there.
                            if problems.iter().all(|p| p.file != file) {
                                problems.push(Problem { file, line: 1, column: 1, message: format!("params: {message}") });
                            }
                            continue;
                        }
                    };
                    controls.push(Loaded { control: c, params, file: rel, sha256: hex::encode(Sha256::digest(&bytes)), bytes });
                }
            }
        }
        if controls.is_empty() && problems.is_empty() {
            problems.push(Problem { file: label.into(), line: 0, column: 0, message: "no control files (*.yaml) found".into() });
        }
        if problems.is_empty() { Ok(Library { controls, catalogs, catalog_files }) } else { Err(Problems(problems)) }
    }

    pub fn get(&self, id: &str) -> Option<&Loaded> {
        self.controls.iter().find(|l| l.control.id.eq_ignore_ascii_case(id))
    }
}

fn check_control(c: &Control, spans: &schema::ControlSpans, file: &str, path: &Path, catalogs: &BTreeMap<String, Catalog>, problems: &mut Vec<Problem>) {
    let mut problem = |(line, column): (usize, usize), message: String| {
        problems.push(Problem { file: file.into(), line, column, message });
    };
    let stem = path.file_stem().map(|s| s.to_string_lossy().to_lowercase()).unwrap_or_default();
    if stem != c.id.to_lowercase() {
        problem(schema::at(&spans.id), format!("control '{}' must live in {}.yaml (one control per file, named after its id)", c.id, c.id.to_lowercase()));
    }
    if c.version == 0 {
        problem(schema::at(&spans.version), "version starts at 1".into());
    }
    let spec = c.test.params();
    for (k, v) in &c.params {
        let here = schema::at(&spans.params.get(k).cloned());
        match spec.iter().find(|(name, _)| name == k) {
            None => problem(
                here,
                format!(
                    "test '{}' takes no parameter '{k}' (it takes: {})",
                    serde_json::to_value(c.test).unwrap_or_default().as_str().unwrap_or(""),
                    if spec.is_empty() { "none".to_string() } else { spec.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ") }
                ),
            ),
            Some((_, ty)) if !ty.accepts(v) => problem(here, format!("parameter '{k}' must be {}", ty.describe())),
            _ => {}
        }
    }
    let maps_at = spans.maps.as_ref().map_or((1, 1), |m| (m.referenced.line() as usize, m.referenced.column() as usize));
    if c.maps.is_empty() {
        problem(maps_at, "a control must map to at least one framework item".into());
    }
    let no_spans = Vec::new();
    let map_spans = spans.maps.as_ref().map_or(&no_spans, |m| &m.value);
    for (k, m) in c.maps.iter().enumerate() {
        let ms = map_spans.get(k);
        let field = |f: fn(&schema::MapSpans) -> &Option<schema::At>| ms.map_or(maps_at, |s| schema::at(f(s)));
        let Some(cat) = catalogs.get(&m.framework) else {
            problem(
                field(|s| &s.framework),
                format!("unknown framework '{}' (catalogs: {})", m.framework, catalogs.keys().cloned().collect::<Vec<_>>().join(", ")),
            );
            continue;
        };
        let Some(item) = cat.items.iter().find(|i| i.id == m.id) else {
            problem(field(|s| &s.id), format!("'{}' is not an item of {} ({}): a dangling mapping", m.id, m.framework, cat.title));
            continue;
        };
        for (n, p) in m.pof.iter().enumerate() {
            if !item.pof.contains(p) {
                let here = ms.and_then(|s| s.pof.get(n)).map_or(maps_at, |a| (a.referenced.line() as usize, a.referenced.column() as usize));
                problem(here, format!("'{p}' is not a point of focus of {} {}", m.framework, m.id));
            }
        }
        if item.confidence == Some(Confidence::Low) && m.confidence > Confidence::Low {
            problem(
                field(|s| &s.id),
                format!("{} {} is itself of low confidence: a mapping to it cannot be {:?}", m.framework, m.id, m.confidence).to_lowercase(),
            );
        }
    }
}

/// Reads an exceptions register (YAML: `exceptions: [{item, control, reason, approved_by, ticket, expires}]`).
pub fn load_exceptions(path: &Path, lib: &Library) -> Result<Vec<Exception>, Problems> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Problems(vec![Problem { file: path.display().to_string(), line: 0, column: 0, message: format!("cannot read: {e}") }]))?;
    let file = path.display().to_string();
    let parsed: ExceptionFile =
        schema::parse(&text).map_err(|e| Problems(vec![Problem { file: file.clone(), line: e.line, column: e.column, message: e.message }]))?;
    let spans: schema::ExceptionFileSpans = schema::parse(&text).unwrap_or(schema::ExceptionFileSpans { exceptions: Vec::new() });
    let field_line = |k: usize, field: &str| -> usize {
        let Some(e) = spans.exceptions.get(k) else { return 1 };
        let a = match field {
            "item" => &e.item,
            "control" => &e.control,
            "reason" => &e.reason,
            "approved_by" => &e.approved_by,
            "valid_from" => &e.valid_from,
            _ => &e.expires,
        };
        schema::at(a).0
    };
    let mut problems = Vec::new();
    for (k, ex) in parsed.exceptions.iter().enumerate() {
        if lib.get(&ex.control).is_none() {
            let hint = closest(&ex.control, lib.controls.iter().map(|l| l.control.id.as_str())).map(|c| format!(" (did you mean {c}?)")).unwrap_or_default();
            problems.push(Problem {
                file: file.clone(),
                line: field_line(k, "control"),
                column: 1,
                message: format!("exception for '{}' names unknown control '{}'{hint}", ex.item, ex.control),
            });
        }
        for (field, v) in [("item", &ex.item), ("reason", &ex.reason), ("approved_by", &ex.approved_by)] {
            if v.trim().is_empty() {
                problems.push(Problem {
                    file: file.clone(),
                    line: field_line(k, field),
                    column: 1,
                    message: format!("exception for '{}' has an empty {field}", ex.item),
                });
            }
        }
        if let Some(from) = ex.valid_from.filter(|f| *f > ex.expires) {
            problems.push(Problem {
                file: file.clone(),
                line: field_line(k, "valid_from"),
                column: 1,
                message: format!("exception for '{}': valid_from {from} is after expires {}", ex.item, ex.expires),
            });
        }
    }
    if problems.is_empty() { Ok(parsed.exceptions) } else { Err(Problems(problems)) }
}

/// The candidate nearest to `word` (ignoring case), if it is near enough to be a typo.
fn closest<'a>(word: &str, candidates: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    let w: Vec<char> = word.to_uppercase().chars().collect();
    let distance = |c: &str| {
        let c: Vec<char> = c.to_uppercase().chars().collect();
        let mut row: Vec<usize> = (0..=c.len()).collect();
        for (i, a) in w.iter().enumerate() {
            let mut prev = row[0];
            row[0] = i + 1;
            for (j, b) in c.iter().enumerate() {
                let next = (row[j + 1] + 1).min(row[j] + 1).min(prev + usize::from(a != b));
                prev = row[j + 1];
                row[j + 1] = next;
            }
        }
        row[c.len()]
    };
    candidates.map(|c| (distance(c), c)).filter(|(d, _)| *d <= 2).min().map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_params_take_exactly_the_names_the_checker_allows_with_defaults() {
        use schema::{ParamType, Params, TestKind, TestParams};
        let all: Vec<TestKind> = serde_json::from_str(r#"["inventory_fields","inventory_unique","ipe_tie_out","disk_encrypted","recovery_key_escrowed","mdm_enrolled","mdm_compliant","register_mdm_reconciled","leaver_devices_returned","no_enrollment_after_disposal","disposal_sanitized","sanitization_method","certificate_countersigned","itad_certified","lost_encrypted","reissue_wiped","os_supported"]"#).unwrap();
        for kind in all {
            // Every name the checker allows, with a valid value, loads.
            let raw: BTreeMap<String, serde_json::Value> = kind
                .params()
                .into_iter()
                .map(|(name, ty)| {
                    let v = match ty {
                        ParamType::Bool => serde_json::json!(true),
                        ParamType::Days => serde_json::json!(9),
                        ParamType::Strings => serde_json::json!(["corporate"]),
                        ParamType::StringMap => serde_json::json!({"ssd": "purge"}),
                    };
                    (name.to_string(), v)
                })
                .collect();
            let p = Params::load(kind, &raw).unwrap_or_else(|e| panic!("{kind:?}: {e}"));
            assert_eq!(p.max_evidence_age_days, 9, "{kind:?}");
            // A name it does not allow is refused by the typed load too.
            let mut extra = raw.clone();
            extra.insert("severity".into(), serde_json::json!(1));
            assert!(Params::load(kind, &extra).is_err(), "{kind:?} took an unknown parameter");
        }
        // Defaults when nothing is given.
        let p = Params::load(TestKind::DiskEncrypted, &BTreeMap::new()).unwrap();
        assert_eq!(
            (p.max_evidence_age_days, p.ownership.clone(), p.test),
            (35, vec!["corporate".to_string(), "unknown".to_string()], TestParams::DiskEncrypted { max_report_age_days: 7 })
        );
        assert_eq!(
            Params::load(TestKind::ItadCertified, &BTreeMap::new()).unwrap().test,
            TestParams::ItadCertified { lifecycle_labels: vec!["Sent to ITAD".into()] }
        );
    }

    fn lib_with(control: &str) -> Result<Library, Problems> {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("controls");
        std::fs::create_dir_all(root.join("frameworks")).unwrap();
        let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("controls/frameworks");
        for f in ["soc2.yaml", "iso27001-2022.yaml", "iso19770-1.yaml"] {
            std::fs::copy(shipped.join(f), root.join("frameworks").join(f)).unwrap();
        }
        std::fs::write(root.join("x-01.yaml"), control).unwrap();
        Library::load(&root)
    }

    const GOOD: &str = "id: X-01\nversion: 1\ntitle: t\nstatement: s\nkind: state\nnature: automated-detective\nfrequency: continuous\ntest: mdm_enrolled\nparams:\n  max_checkin_age_days: 7\nmaps:\n  - framework: soc2\n    id: \"CC6.7\"\n    pof: [\"Protects Endpoint Devices\"]\n    relationship: intersect\n    rationale: semantic\n    confidence: high\n";

    #[test]
    fn the_shipped_controls_load() {
        let lib = Library::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("controls")).unwrap_or_else(|p| panic!("{p}"));
        assert_eq!(lib.controls.len(), 17);
        assert_eq!(lib.catalogs["iso27001"].items.len(), 93);
        // Every criterion of the 2017 TSC: 33 common, 3 availability, 2 confidentiality, 5
        // processing integrity, 18 privacy; so "not evidenced" counts are against the whole set.
        let soc2: Vec<&str> = lib.catalogs["soc2"].items.iter().map(|i| i.id.as_str()).collect();
        assert_eq!(soc2.len(), 61);
        for (prefix, n) in [("CC", 33), ("A1.", 3), ("C1.", 2), ("PI1.", 5), ("P", 18 + 5)] {
            assert_eq!(soc2.iter().filter(|i| i.starts_with(prefix)).count(), n, "{prefix}");
        }
        // The compiled-in set is the same files, byte for byte.
        let builtin = Library::builtin();
        let ids = |l: &Library| l.controls.iter().map(|c| (c.control.id.clone(), c.sha256.clone())).collect::<Vec<_>>();
        assert_eq!(ids(&builtin), ids(&lib));
    }

    #[test]
    fn every_problem_names_file_line_and_column() {
        assert!(lib_with(GOOD).is_ok());
        let unknown_field = lib_with(&GOOD.replace("kind: state", "kind: state\nowner: me")).unwrap_err();
        assert_eq!(unknown_field.0.len(), 1);
        let p = &unknown_field.0[0];
        assert_eq!((p.file.as_str(), p.line), ("controls/x-01.yaml", 6), "{p}");
        assert!(p.message.contains("unknown field `owner`"), "{p}");
        let dangling = lib_with(&GOOD.replace("\"CC6.7\"", "\"CC6.9\"")).unwrap_err();
        assert_eq!(dangling.0[0].line, 13, "{}", dangling.0[0]);
        assert!(dangling.0[0].message.contains("dangling"));
        let pof = lib_with(&GOOD.replace("Protects Endpoint Devices", "Protects Mobile Devices")).unwrap_err();
        assert!(pof.0[0].message.contains("not a point of focus"), "{}", pof.0[0]);
        let param = lib_with(&GOOD.replace("max_checkin_age_days: 7", "max_checkin_age_days: soon")).unwrap_err();
        assert_eq!((param.0[0].line, param.0[0].message.as_str()), (10, "parameter 'max_checkin_age_days' must be a number of days (0 to 3660)"));
        let misnamed = lib_with(&GOOD.replace("id: X-01", "id: X-02")).unwrap_err();
        assert!(misnamed.0[0].message.contains("must live in x-02.yaml"));
    }
}
