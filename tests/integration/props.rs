//! Property tests: no reader panics on arbitrary bytes, and every error points inside the file.

use evident::ingest::{self, Emitter, Input, Issue, IssueKind, Options, Sink, SinkError, SourceKind};
use evident::model::Record;
use proptest::prelude::*;

struct NullSink;
impl Sink for NullSink {
    fn record(&mut self, _: Record) -> Result<(), SinkError> {
        Ok(())
    }
    fn issue(&mut self, _: IssueKind, _: &Issue) -> Result<(), SinkError> {
        Ok(())
    }
}

const KINDS: &[Option<SourceKind>] = &[
    None,
    Some(SourceKind::SnipeitCsv),
    Some(SourceKind::SnipeitApi),
    Some(SourceKind::IntuneGraph),
    Some(SourceKind::IntuneCsv),
    Some(SourceKind::JamfApi),
    Some(SourceKind::JamfClassic),
    Some(SourceKind::JamfCsv),
    Some(SourceKind::NwipeLog),
    Some(SourceKind::ItadCsv),
    Some(SourceKind::KandjiApi),
    Some(SourceKind::FleetApi),
    Some(SourceKind::OsqueryJson),
    Some(SourceKind::FleetCsv),
    Some(SourceKind::GoogleApi),
    Some(SourceKind::BlanccoXml),
    Some(SourceKind::HrCsv),
];

fn lines(bytes: &[u8]) -> u64 {
    1 + ingest::text::count_line_ends(bytes, false)
}

/// The fixture mappings (CSV register, JSON leavers) as extra readers.
fn mappings() -> Vec<ingest::mapping::Mapping> {
    let csv = std::fs::read_to_string(crate::util::root().join("tests/fixtures/mapping/register.yaml")).unwrap();
    let json = "id: j\nreader: {kind: json, records: /data}\nemits: [leaver, asset]\nfields:\n  email: {from: [a.b]}\n  termination_date: {from: [d]}\n  serial: {from: [s]}\n  lifecycle: {from: [l], map: {x: deployed}}\n";
    vec![ingest::mapping::Mapping::parse("register.yaml", &csv).unwrap(), ingest::mapping::Mapping::parse("j.yaml", json).unwrap()]
}

fn check(bytes: &[u8]) {
    let tz: chrono_tz::Tz = "UTC".parse().unwrap();
    let mut all: Vec<Options> = KINDS.iter().map(|k| Options { source: *k, source_tz: Some(tz), ..Options::default() }).collect();
    all.extend(mappings().into_iter().map(|m| Options { mapping: Some(m), source_tz: Some(tz), ..Options::default() }));
    for opts in all {
        let kind = opts.mapping.as_ref().map_or_else(|| format!("{:?}", opts.source), |m| m.id.clone());
        let mut sink = NullSink;
        let mut em = Emitter::new("fuzz", &opts, &mut sink, &());
        let input = Input { file: "fuzz", bytes };
        let max = lines(bytes);
        match ingest::read(&input, &mut em) {
            Ok(_) => {}
            Err(ingest::Error::BadFile { issue, .. }) => assert!(issue.line >= 1 && issue.line <= max, "{kind:?}: line {} of {max}", issue.line),
            Err(_) => {}
        }
        for i in em.rejections.iter().chain(em.warnings.iter()) {
            assert!(i.line >= 1 && i.line <= max, "{kind:?}: issue at line {} of {max}: {i:?}", i.line);
        }
        let c = em.counts;
        assert_eq!(c.read, c.accepted + c.rejected + c.empty);
    }
}

/// Byte soup biased towards the characters the formats are made of.
fn soup() -> impl Strategy<Value = Vec<u8>> {
    let atoms = prop_oneof![
        any::<u8>(),
        Just(b','),
        Just(b'"'),
        Just(b'\n'),
        Just(b'\r'),
        Just(b'{'),
        Just(b'}'),
        Just(b'['),
        Just(b']'),
        Just(b':'),
        Just(b'`'),
        Just(b'<'),
        Just(b'>'),
        Just(0xEF),
    ];
    prop::collection::vec(atoms, 0..400)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn readers_never_panic_on_bytes(bytes in soup()) {
        check(&bytes);
    }

    #[test]
    fn readers_never_panic_on_damaged_fixtures(seed in 0usize..17, cut in 0usize..8000, flip in any::<(usize, u8)>()) {
        let names = ["snipeit_csv/good.csv", "snipeit_api/good.json", "intune_graph/good.json", "intune_csv/good.csv",
                     "jamf_api/good.json", "jamf_classic/good.json", "jamf_csv/good.csv", "nwipe_log/good.log", "itad_csv/good.csv",
                     "kandji_api/good.json", "fleet_api/good.json", "fleet_csv/good.csv", "google_api/good.json",
                     "osquery_json/good.json", "blancco_xml/good.xml", "hr_csv/good.csv", "mapping/good.csv"];
        let path = crate::util::root().join("tests/fixtures").join(names[seed]);
        let mut bytes = std::fs::read(path).unwrap();
        if !bytes.is_empty() {
            let i = flip.0 % bytes.len();
            bytes[i] = flip.1;
            bytes.truncate(cut.min(bytes.len()).max(1));
        }
        check(&bytes);
    }
}
