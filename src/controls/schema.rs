//! The YAML shapes of `controls/*.yaml` and `controls/frameworks/*.yaml`, and the one YAML
//! parser of the crate (serde-saphyr: maintained, panic-free, with positions).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One control file.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Control {
    pub id: String,
    pub version: u32,
    pub title: String,
    pub statement: String,
    pub kind: Kind,
    pub nature: Nature,
    pub frequency: Frequency,
    pub test: TestKind,
    #[serde(default)]
    pub params: BTreeMap<String, serde_json::Value>,
    pub maps: Vec<Mapping>,
}

/// State controls are tested at dates; event controls over every event in a period; data
/// controls over the ingests themselves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    State,
    Event,
    Data,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Nature {
    AutomatedDetective,
    AutomatedPreventive,
    ManualSystemRecorded,
    Manual,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Frequency {
    Continuous,
    PerEvent,
    PerRun,
    Daily,
    Weekly,
    Monthly,
}

/// The closed set of tests. Each names the parameters it takes; there is no expression language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TestKind {
    InventoryFields,
    InventoryUnique,
    IpeTieOut,
    DiskEncrypted,
    RecoveryKeyEscrowed,
    MdmEnrolled,
    MdmCompliant,
    RegisterMdmReconciled,
    LeaverDevicesReturned,
    NoEnrollmentAfterDisposal,
    DisposalSanitized,
    SanitizationMethod,
    CertificateCountersigned,
    ItadCertified,
    LostEncrypted,
    ReissueWiped,
    OsSupported,
}

/// A control's parameters, checked and defaulted at load: what evaluation reads, typed. (The
/// file's own `params` map is kept as written, for the pack.)
#[derive(Debug, Clone, PartialEq)]
pub struct Params {
    /// How old the newest export of an input may be at a sample date.
    pub max_evidence_age_days: i64,
    /// Which ownership values are in a device population.
    pub ownership: Vec<String>,
    pub test: TestParams,
}

/// Each test's own parameters, with their defaults.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "test", content = "params", rename_all = "snake_case", deny_unknown_fields)]
pub enum TestParams {
    InventoryFields {
        #[serde(default = "yes")]
        require_owner_when_deployed: bool,
    },
    InventoryUnique {},
    IpeTieOut {
        #[serde(default)]
        allow_rejections: bool,
    },
    DiskEncrypted {
        #[serde(default = "week")]
        max_report_age_days: i64,
    },
    RecoveryKeyEscrowed {},
    MdmEnrolled {
        #[serde(default = "week")]
        max_checkin_age_days: i64,
    },
    MdmCompliant {
        #[serde(default = "week")]
        max_checkin_age_days: i64,
    },
    RegisterMdmReconciled {},
    LeaverDevicesReturned {
        #[serde(default = "fortnight")]
        max_days_after_termination: i64,
    },
    NoEnrollmentAfterDisposal {},
    DisposalSanitized {
        #[serde(default = "disposed")]
        lifecycles: Vec<String>,
    },
    SanitizationMethod {
        /// Media type → the least NIST category it needs (`unknown`: any other media).
        #[serde(default)]
        minimum: BTreeMap<String, String>,
    },
    CertificateCountersigned {},
    ItadCertified {
        #[serde(default = "sent_to_itad")]
        lifecycle_labels: Vec<String>,
    },
    LostEncrypted {},
    ReissueWiped {},
    OsSupported {
        /// Platform → the oldest version allowed.
        #[serde(default)]
        minimum: BTreeMap<String, String>,
        #[serde(default = "week")]
        max_checkin_age_days: i64,
    },
}

fn yes() -> bool {
    true
}
fn week() -> i64 {
    7
}
fn fortnight() -> i64 {
    14
}
fn disposed() -> Vec<String> {
    vec!["disposed".into()]
}
fn sent_to_itad() -> Vec<String> {
    vec!["Sent to ITAD".into()]
}

impl Params {
    /// The typed parameters of `test` from a control file's `params` map (already checked by
    /// name and type: an error here names what serde found wrong).
    pub fn load(test: TestKind, raw: &BTreeMap<String, serde_json::Value>) -> Result<Params, String> {
        let mut own = raw.clone();
        let max_evidence_age_days = own.remove("max_evidence_age_days").and_then(|v| v.as_i64()).unwrap_or(35);
        let ownership = match own.remove("ownership") {
            Some(v) => serde_json::from_value(v).map_err(|e| format!("ownership: {e}"))?,
            None => vec!["corporate".into(), "unknown".into()],
        };
        let test = serde_json::from_value(serde_json::json!({"test": test, "params": own})).map_err(|e| e.to_string())?;
        Ok(Params { max_evidence_age_days, ownership, test })
    }
}

/// The type a parameter must have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamType {
    Bool,
    Days,
    Strings,
    /// A map from a name (media type, platform) to a string.
    StringMap,
}

impl TestKind {
    /// The parameters this test accepts. Every test takes `max_evidence_age_days` (how old the
    /// newest export of an input may be at a sample date); tests over devices take `ownership`
    /// (which ownership values are in the population; default corporate and unknown).
    pub fn params(self) -> Vec<(&'static str, ParamType)> {
        use ParamType::*;
        use TestKind::*;
        let own: &[(&'static str, ParamType)] = match self {
            InventoryFields => &[("require_owner_when_deployed", Bool)],
            IpeTieOut => &[("allow_rejections", Bool)],
            DiskEncrypted => &[("max_report_age_days", Days)],
            MdmEnrolled | MdmCompliant => &[("max_checkin_age_days", Days)],
            LeaverDevicesReturned => &[("max_days_after_termination", Days)],
            DisposalSanitized => &[("lifecycles", Strings)],
            SanitizationMethod => &[("minimum", StringMap)],
            ItadCertified => &[("lifecycle_labels", Strings)],
            OsSupported => &[("minimum", StringMap), ("max_checkin_age_days", Days)],
            _ => &[],
        };
        let mut out = own.to_vec();
        out.push(("max_evidence_age_days", Days));
        if self.over_devices() {
            out.push(("ownership", Strings));
        }
        out
    }

    /// Tests whose population is devices (not wipe events, leavers or ingests).
    pub fn over_devices(self) -> bool {
        !matches!(self, TestKind::IpeTieOut | TestKind::SanitizationMethod | TestKind::CertificateCountersigned | TestKind::LeaverDevicesReturned)
    }
}

impl ParamType {
    pub fn accepts(self, v: &serde_json::Value) -> bool {
        match self {
            ParamType::Bool => v.is_boolean(),
            ParamType::Days => v.as_u64().is_some_and(|d| d <= 3660),
            ParamType::Strings => v.as_array().is_some_and(|a| a.iter().all(|s| s.is_string())),
            ParamType::StringMap => v.as_object().is_some_and(|m| m.values().all(|s| s.is_string())),
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            ParamType::Bool => "true or false",
            ParamType::Days => "a number of days (0 to 3660)",
            ParamType::Strings => "a list of strings",
            ParamType::StringMap => "a map of names to strings",
        }
    }
}

/// One link from a control to a framework item.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    pub framework: String,
    pub id: String,
    #[serde(default)]
    pub pof: Vec<String>,
    pub relationship: Relationship,
    pub rationale: Rationale,
    pub confidence: Confidence,
}

/// The OSCAL mapping vocabulary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Relationship {
    Equal,
    Subset,
    Superset,
    Intersect,
    NoRelationship,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rationale {
    Syntactic,
    Semantic,
    Functional,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Confidence {
    Low,
    Medium,
    High,
}

/// A framework catalog: ids, short titles, point-of-focus names. Never criterion text.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Catalog {
    pub framework: String,
    pub title: String,
    pub edition: String,
    pub items: Vec<Item>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Item {
    pub id: String,
    pub title: String,
    #[serde(default)]
    pub group: Option<String>,
    #[serde(default)]
    pub legacy: Vec<String>,
    #[serde(default)]
    pub pof: Vec<String>,
    #[serde(default)]
    pub confidence: Option<Confidence>,
}

/// An exception: an item excused from a control until a date, with who approved it and why.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Exception {
    pub item: String,
    pub control: String,
    pub reason: String,
    pub approved_by: String,
    #[serde(default)]
    pub ticket: Option<String>,
    /// The first sample date the exception covers (default: every date up to `expires`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_from: Option<chrono::NaiveDate>,
    /// The last sample date the exception covers.
    pub expires: chrono::NaiveDate,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExceptionFile {
    pub exceptions: Vec<Exception>,
}

/// Where a value is in its file (1-based line and column).
pub type At = serde_saphyr::Spanned<serde::de::IgnoredAny>;

/// The position of a spanned value.
pub fn at(v: &Option<At>) -> (usize, usize) {
    v.as_ref().map_or((1, 1), |a| (a.referenced.line() as usize, a.referenced.column() as usize))
}

/// Where the fields of a control file are, read in a second pass for problems found after
/// parsing (an unknown framework, a dangling item, a parameter of the wrong type).
#[derive(Deserialize)]
pub struct ControlSpans {
    pub id: Option<At>,
    pub version: Option<At>,
    #[serde(default)]
    pub params: BTreeMap<String, At>,
    pub maps: Option<serde_saphyr::Spanned<Vec<MapSpans>>>,
}

#[derive(Deserialize)]
pub struct MapSpans {
    pub framework: Option<At>,
    pub id: Option<At>,
    #[serde(default)]
    pub pof: Vec<At>,
}

/// Where a catalog's item ids are.
#[derive(Deserialize)]
pub struct CatalogSpans {
    #[serde(default)]
    pub items: Vec<ItemSpans>,
}

#[derive(Deserialize)]
pub struct ItemSpans {
    pub id: Option<At>,
}

/// Where each exception's fields are.
#[derive(Deserialize)]
pub struct ExceptionFileSpans {
    #[serde(default)]
    pub exceptions: Vec<ExceptionSpans>,
}

#[derive(Deserialize)]
pub struct ExceptionSpans {
    pub item: Option<At>,
    pub control: Option<At>,
    pub reason: Option<At>,
    pub approved_by: Option<At>,
    pub valid_from: Option<At>,
    pub expires: Option<At>,
}

/// A YAML error with its position (1-based line and column) when the parser knows it.
pub struct YamlError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

/// Parses YAML text into `T`, keeping the error's position.
pub fn parse<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, YamlError> {
    serde_saphyr::from_str(text).map_err(|e| {
        let (line, column) = e.location().map_or((1, 1), |l| (l.line() as usize, l.column() as usize));
        // The position is given separately: the message alone, on one line, without the snippet.
        let msg = e.without_snippet().to_string();
        let first = msg.lines().next().unwrap_or(&msg).trim();
        let message = first.split(" at line ").next().unwrap_or(first).to_string();
        YamlError { line, column, message }
    })
}
