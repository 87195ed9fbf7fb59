//! Evaluates the controls against the store: per control the full population with each item's
//! outcome and the records behind it, exceptions with their dispositions, the tie-out of every
//! source, and the regrouping by framework criterion (with uncovered criteria and an ISO 27001
//! Statement-of-Applicability view). State controls run at every sample date of the scope;
//! event controls over the events up to the scope's end. A date whose inputs were not in force
//! (`evidence`) is `no_evidence`: it is never judged, never a pass.

pub mod assets;
mod events;
pub mod evidence;
mod frameworks;
mod tie_out;

pub use events::Attestation;
pub use frameworks::by_framework;

use crate::controls::schema::{Exception, Kind, TestKind};
use crate::controls::{Library, Loaded};
use crate::ledger::Scope;
use crate::store::{Store, query::LeaverRow};
use crate::view::AssetView;
use chrono::{Datelike, NaiveDate};
use evidence::{Check, Evidence, InForce, Observation};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// Pass, fail, or excepted (a failing item covered by an exception valid on its date).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Pass,
    Fail,
    Excepted,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Pass,
    Fail,
    /// The inputs the test reads were missing or stale at some sample date: nothing can be said.
    NoEvidence,
    /// Evidence was in force and the population was truly empty.
    NotApplicable,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Pass => "pass",
            Outcome::Fail => "fail",
            Outcome::Excepted => "excepted",
        }
    }
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::NoEvidence => "no_evidence",
            Status::NotApplicable => "not_applicable",
        }
    }
}

/// What a test says of one member: pass or fail, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub pass: bool,
    pub reason: String,
}

impl Verdict {
    pub fn pass(reason: impl Into<String>) -> Verdict {
        Verdict { pass: true, reason: reason.into() }
    }

    pub fn fail(reason: impl Into<String>) -> Verdict {
        Verdict { pass: false, reason: reason.into() }
    }

    fn outcome(&self) -> Outcome {
        if self.pass { Outcome::Pass } else { Outcome::Fail }
    }
}

/// One member of a control's population.
#[derive(Debug, Clone, Serialize)]
pub struct Item {
    /// The sample date a state control was tested at.
    pub date: NaiveDate,
    /// The device key (serial, or tag:/drive:/record:), the drive, the leaver, or the ingested file.
    pub item: crate::view::ItemKey,
    pub asset_tag: Option<String>,
    pub outcome: Outcome,
    pub reason: String,
    /// `source:file@sha:line[pointer]` of the records behind the outcome.
    pub records: Vec<String>,
}

/// One sample date of a control: what was tested, on what evidence.
#[derive(Debug, Clone, Serialize)]
pub struct DateResult {
    pub date: NaiveDate,
    pub status: Status,
    pub population: usize,
    pub passed: usize,
    pub failed: usize,
    pub excepted: usize,
    /// The export of each input the test read, as it stood on this date.
    pub evidence: Vec<InForce>,
    /// Inputs missing or stale on this date (then the date is `no_evidence` and not judged).
    pub missing: Vec<String>,
}

/// An exception and what became of it.
#[derive(Debug, Clone, Serialize)]
pub struct Disposition {
    pub exception: Exception,
    /// `applied` (excused a failing item on a date inside its window), `expired` (a failing item
    /// dated after it expired: fails the control), `not_yet_valid` (a failing item dated before
    /// `valid_from`: not covered). An exception that matched nothing is in `unused_exceptions`.
    pub disposition: DispositionKind,
}

/// What an exception did for the failing items it matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DispositionKind {
    /// Excused a failing item dated inside its window.
    Applied,
    /// A failing item was dated after it expired: the control fails.
    Expired,
    /// A failing item was dated before `valid_from`: not covered.
    NotYetValid,
}

impl DispositionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DispositionKind::Applied => "applied",
            DispositionKind::Expired => "expired",
            DispositionKind::NotYetValid => "not_yet_valid",
        }
    }
}

/// One control's result.
#[derive(Debug, Clone, Serialize)]
pub struct ControlResult {
    pub id: String,
    pub version: u32,
    pub title: String,
    pub test: TestKind,
    pub kind: Kind,
    pub file: String,
    pub sha256: String,
    pub status: Status,
    /// Why a control is not applicable or has no evidence.
    pub note: Option<String>,
    pub params: BTreeMap<String, serde_json::Value>,
    /// Items × sample dates: a device tested at three dates counts three times.
    pub population: usize,
    pub passed: usize,
    pub failed: usize,
    pub excepted: usize,
    /// Devices left out because of their ownership (`ownership` param; personal devices by
    /// default), summed over sample dates: out of scope, not failed.
    pub out_of_scope: usize,
    /// The result at each sample date (event and data controls: one, at the scope's end).
    pub dates: Vec<DateResult>,
    /// Every item (`evaluate`); in a pack only the failing and excepted ones, the whole population
    /// being in `populations`.
    pub items: Vec<Item>,
    /// The files a pack wrote the population to, one per sample date with items.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub populations: Vec<PopulationFile>,
    pub exceptions: Vec<Disposition>,
}

/// One population file of a pack: every item of one control at one sample date, one JSON object
/// per line (`results/controls/<ID>/<date>.jsonl`).
#[derive(Debug, Clone, Serialize)]
pub struct PopulationFile {
    pub date: NaiveDate,
    pub path: String,
    pub items: usize,
    pub sha256: String,
}

/// The tie-out of one ingested export (IPE).
#[derive(Debug, Clone, Serialize)]
pub struct TieOut {
    pub file: String,
    pub source: String,
    pub sha256: String,
    pub as_of: Option<String>,
    pub read: i64,
    pub accepted: i64,
    pub rejected: i64,
    pub empty: i64,
    pub records_stored: i64,
}

/// A framework item with the controls that evidence it.
#[derive(Debug, Clone, Serialize)]
pub struct Criterion {
    pub id: String,
    pub title: String,
    pub legacy: Vec<String>,
    /// pass / fail / no_evidence (a control mapped to it had no evidence in force) / uncovered
    /// (no control with a population maps to it).
    pub status: &'static str,
    pub controls: Vec<CriterionControl>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CriterionControl {
    pub id: String,
    pub status: Status,
    pub relationship: crate::controls::schema::Relationship,
    pub confidence: crate::controls::schema::Confidence,
    pub pof: Vec<String>,
}

/// Everything `evaluate` found.
#[derive(Debug, Clone, Serialize)]
pub struct Evaluation {
    /// Whose evidence it is (`--organisation`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub organisation: Option<String>,
    pub scope: Scope,
    pub sample_dates: Vec<NaiveDate>,
    pub controls: Vec<ControlResult>,
    pub tie_out: Vec<TieOut>,
    /// Ingests dated in scope that no longer count: superseded by a correction or retracted.
    pub withdrawn: Vec<Withdrawn>,
    pub unused_exceptions: Vec<Exception>,
}

/// An ingest kept in the audit trail but out of evaluation.
#[derive(Debug, Clone, Serialize)]
pub struct Withdrawn {
    pub file: String,
    pub source: String,
    pub sha256: String,
    pub as_of: Option<String>,
    /// The file name and as-of of the ingest that replaced it.
    pub superseded_by: Option<String>,
    pub retracted: Option<String>,
}

impl Evaluation {
    pub fn failed(&self) -> bool {
        self.controls.iter().any(|c| c.status == Status::Fail)
    }

    pub fn without_evidence(&self) -> bool {
        self.controls.iter().any(|c| c.status == Status::NoEvidence)
    }
}

/// How often state controls are sampled in a period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Cadence {
    Weekly,
    Monthly,
    Quarterly,
}

/// The dates state controls are tested at: the as-of date, or every cadence step's last day
/// inside the period, always ending on the period's last day.
pub fn sample_dates(scope: &Scope, cadence: Cadence) -> Vec<NaiveDate> {
    let (from, to) = match scope {
        Scope::AsOf { date } => return vec![*date],
        Scope::Period { from, to } => (*from, *to),
    };
    let mut out = Vec::new();
    let mut d = from;
    loop {
        let next = match cadence {
            Cadence::Weekly => d + chrono::Days::new(6),
            Cadence::Monthly | Cadence::Quarterly => {
                let months = if cadence == Cadence::Monthly { 1 } else { 3 };
                let first = NaiveDate::from_ymd_opt(d.year(), d.month(), 1).expect("valid") + chrono::Months::new(months);
                first.pred_opt().expect("valid")
            }
        };
        if next >= to {
            break;
        }
        out.push(next);
        d = next.succ_opt().expect("valid");
    }
    out.push(to);
    out
}

/// Inputs of one evaluation.
pub struct Request<'a> {
    pub organisation: Option<String>,
    pub scope: Scope,
    pub cadence: Cadence,
    pub exceptions: &'a [Exception],
    /// Told how far the evaluation has got (`&()`: nobody).
    pub progress: &'a dyn Progress,
}

/// Told how far a long step has got: a bar on a terminal, nothing elsewhere.
pub trait Progress {
    /// A step of `total` units begins.
    fn start(&self, _what: &str, _total: u64) {}
    fn advance(&self, _n: u64) {}
    /// The step is over.
    fn finish(&self) {}
}

impl Progress for () {}

/// Where each control's judged items go as they are judged, and the joined view as it is read:
/// date by date, device by device in key order, each device's items as it is judged; then the
/// event controls' items. A pack writes them to its files; `evaluate` keeps them.
pub trait Sink {
    /// One device of the joined view at a sample date, before any control judges it.
    fn asset(&mut self, _date: NaiveDate, _asset: &AssetView) {}
    /// The view at `date` has been read whole.
    fn view_done(&mut self, _date: NaiveDate) {}
    /// One judged item of `control`, counted at sample date `at` (an event or data control's
    /// items carry their own dates and count at the scope's end). `of_view`: the item is a device
    /// of the view at `at`, and its records are that device's records.
    fn item(&mut self, control: &str, at: NaiveDate, of_view: bool, item: &Item);
    /// Whether the evaluation keeps passing items in memory as well (`evaluate --format json`
    /// prints every item; a pack writes the population out and keeps what it shows: failing and
    /// excepted items).
    fn keeps_passing(&self) -> bool {
        true
    }
}

/// Keeps every item in the evaluation.
pub struct Keep;

impl Sink for Keep {
    fn item(&mut self, _: &str, _: NaiveDate, _: bool, _: &Item) {}
}

/// Keeps the failing and excepted items only (what `evaluate` prints as text).
pub struct Findings;

impl Sink for Findings {
    fn item(&mut self, _: &str, _: NaiveDate, _: bool, _: &Item) {}
    fn keeps_passing(&self) -> bool {
        false
    }
}

/// Runs every control of `lib` over the store for the request's scope.
pub fn evaluate(store: &Store, lib: &Library, req: &Request) -> Result<Evaluation, crate::store::Error> {
    evaluate_into(store, lib, req, &mut Keep)
}

/// Where the joined view at a sample date comes from: the store, read device by device, or
/// views in memory (the property tests).
trait Views {
    /// Each device at `date`, after telling `count` how many there are.
    fn each(&self, date: NaiveDate, count: &mut dyn FnMut(usize), f: &mut dyn FnMut(AssetView)) -> Result<(), crate::store::Error>;
}

struct FromStore<'s>(&'s Store);

impl Views for FromStore<'_> {
    fn each(&self, date: NaiveDate, count: &mut dyn FnMut(usize), f: &mut dyn FnMut(AssetView)) -> Result<(), crate::store::Error> {
        crate::view::each_until_counted(self.0, &date.format("%Y-%m-%d").to_string(), count, f)
    }
}

struct InMemory<'v>(&'v BTreeMap<NaiveDate, Vec<AssetView>>);

impl Views for InMemory<'_> {
    fn each(&self, date: NaiveDate, count: &mut dyn FnMut(usize), f: &mut dyn FnMut(AssetView)) -> Result<(), crate::store::Error> {
        let v = self.0.get(&date).map_or(&[][..], Vec::as_slice);
        count(v.len());
        v.iter().cloned().for_each(f);
        Ok(())
    }
}

/// Runs every control, handing the view and each judged item to `sink`. Memory holds one
/// device at a time (and, at the scope's end, the devices with wipes or owned by a leaver, which
/// the event controls read), never the whole view.
pub fn evaluate_into(store: &Store, lib: &Library, req: &Request, sink: &mut dyn Sink) -> Result<Evaluation, crate::store::Error> {
    let dates = sample_dates(&req.scope, req.cadence);
    let ties = tie_out::tie_outs(store, req.scope.end())?;
    let (observations, withdrawn) = observations(store, req.scope.end())?;
    let certs = events::attestations(store)?;
    let leavers = store.leavers_until(&req.scope.end().format("%Y-%m-%d").to_string())?;
    // The register as it stood on each leaver's last day: what they had to give back. The view
    // only changes on the days ingests are dated, so it is read once per such day (keyed by it)
    // and a last day reads the newest one on or before it; only the leavers' devices are kept.
    let dated: BTreeSet<NaiveDate> =
        store.ingests()?.into_iter().filter_map(|i| i.as_of.and_then(|a| NaiveDate::parse_from_str(a.get(..10)?, "%Y-%m-%d").ok())).collect();
    let ids = events::leaver_ids(&leavers);
    let mut on_last_day: BTreeMap<NaiveDate, Vec<AssetView>> = BTreeMap::new();
    for l in &leavers {
        let Ok(d) = NaiveDate::parse_from_str(&l.termination_date, "%Y-%m-%d") else { continue };
        let day = dated.range(..=d).next_back().copied().unwrap_or(NaiveDate::MIN);
        if d <= req.scope.end() && !on_last_day.contains_key(&day) {
            let mut theirs = Vec::new();
            crate::view::each_until(store, &l.termination_date, &mut |a| {
                if events::owned_by(&a, &ids) {
                    theirs.push(a);
                }
            })?;
            on_last_day.insert(day, theirs);
        }
    }
    let inputs = Inputs { certs: &certs, leavers: &leavers, on_last_day: &on_last_day, observations: &observations };
    let mut ev = run(lib, req, &dates, &FromStore(store), ties, &inputs, sink)?;
    ev.withdrawn = withdrawn;
    Ok(ev)
}

/// Every live ingest as evidence of the kinds of record it holds; and the ingests dated up to
/// `end` that were superseded or retracted.
fn observations(store: &Store, end: NaiveDate) -> Result<(Vec<Observation>, Vec<Withdrawn>), crate::store::Error> {
    let ingests = store.ingests()?;
    let by_id: BTreeMap<i64, &crate::store::IngestRow> = ingests.iter().map(|i| (i.id, i)).collect();
    let mut out = Vec::new();
    for (id, table) in store.ingest_tables()? {
        let Some(i) = by_id.get(&id) else { continue };
        let kinds: &[Evidence] = match table {
            "asset" => &[Evidence::Register],
            "enrollment" => &[Evidence::Mdm],
            "encryption" => &[Evidence::Encryption],
            "wipe" => &[Evidence::Wipes],
            "leaver" => &[Evidence::Leavers],
            _ => &[],
        };
        for &kind in kinds {
            out.push(Observation { kind, file: i.file_name.clone(), sha256: i.sha256.clone(), as_of: i.as_of_date() });
        }
    }
    let withdrawn = ingests
        .iter()
        .filter(|i| !i.live() && i.as_of_date().is_none_or(|d| d <= end))
        .map(|i| Withdrawn {
            file: i.file_name.clone(),
            source: i.source.clone(),
            sha256: i.sha256.clone(),
            as_of: i.as_of.clone(),
            superseded_by: i.superseded_by.and_then(|n| by_id.get(&n)).map(|n| format!("{} (as of {})", n.file_name, n.as_of.as_deref().unwrap_or("undated"))),
            retracted: i.retracted.clone(),
        })
        .collect();
    Ok((out, withdrawn))
}

/// What the evaluation reads beside the per-asset views: signed certificates and leavers.
#[derive(Debug, Clone, Copy)]
pub struct Inputs<'a> {
    pub certs: &'a [Attestation],
    pub leavers: &'a [LeaverRow],
    /// The per-asset view as of each day an ingest is dated (and `NaiveDate::MIN`: undated only),
    /// for the days leavers left: a last day reads the newest key on or before it.
    pub on_last_day: &'a BTreeMap<NaiveDate, Vec<AssetView>>,
    /// Every live ingest as evidence: what was in force at each sample date.
    pub observations: &'a [Observation],
}

/// The evaluation itself, on the joined view at each sample date (a pure function: the
/// property tests drive it with generated fleets).
pub fn evaluate_views(lib: &Library, req: &Request, views: &BTreeMap<NaiveDate, Vec<AssetView>>, ties: Vec<TieOut>, inputs: &Inputs) -> Evaluation {
    let dates: Vec<NaiveDate> = views.keys().copied().collect();
    run(lib, req, &dates, &InMemory(views), ties, inputs, &mut Keep).expect("views in memory cannot fail to read")
}

/// Reads the view date by date, judging each device against every control tested on it at that
/// date; then the event controls (wipes, certificates, leavers, the tie-out) on what was kept.
fn run(
    lib: &Library,
    req: &Request,
    dates: &[NaiveDate],
    views: &dyn Views,
    ties: Vec<TieOut>,
    inputs: &Inputs,
    sink: &mut dyn Sink,
) -> Result<Evaluation, crate::store::Error> {
    let end = req.scope.end();
    let mut used = vec![false; req.exceptions.len()];
    let mut plans: Vec<Plan> = lib.controls.iter().map(|c| Plan::new(c, req, dates, inputs)).collect();
    let ids = events::leaver_ids(inputs.leavers);
    let mut kept = Vec::new();
    let progress = req.progress;
    for d in dates {
        // The join itself (before the count) takes a while at scale: the bar says so.
        progress.start(&format!("joining the view as of {d}"), 0);
        let mut count = |n: usize| progress.start(&format!("evaluating as of {d}"), n as u64);
        views.each(*d, &mut count, &mut |a| {
            progress.advance(1);
            sink.asset(*d, &a);
            for p in plans.iter_mut().filter(|p| p.of_view && p.in_force(d)) {
                p.judge(&a, *d, req.exceptions, &mut used, sink);
            }
            if *d == end && (!a.wipes.is_empty() || events::owned_by(&a, &ids)) {
                kept.push(a);
            }
        })?;
        progress.finish();
        sink.view_done(*d);
    }
    let at_end = BTreeMap::from([(end, kept)]);
    let ctx = Context { req, views: &at_end, ties: &ties, inputs };
    for p in plans.iter_mut().filter(|p| !p.of_view) {
        for item in p.events(&ctx) {
            p.tally.add(item, req.exceptions, &mut used, sink);
        }
    }
    let controls = plans.into_iter().map(|p| p.finish(req.exceptions)).collect();
    let unused_exceptions = req.exceptions.iter().zip(&used).filter(|(_, u)| !**u).map(|(e, _)| e.clone()).collect();
    Ok(Evaluation {
        organisation: req.organisation.clone(),
        scope: req.scope.clone(),
        sample_dates: dates.to_vec(),
        controls,
        tie_out: ties,
        withdrawn: Vec::new(),
        unused_exceptions,
    })
}

/// What the event controls read: the request, the devices kept at the scope's end, the tie-out
/// and the inputs.
struct Context<'a> {
    req: &'a Request<'a>,
    views: &'a BTreeMap<NaiveDate, Vec<AssetView>>,
    ties: &'a [TieOut],
    inputs: &'a Inputs<'a>,
}

/// One control under evaluation: the dates it is tested at, what was in force there, and its
/// items so far.
struct Plan<'a> {
    c: &'a Loaded,
    at: Vec<NaiveDate>,
    checks: BTreeMap<NaiveDate, Check>,
    /// Judged device by device on the view (every test but the event and tie-out ones).
    of_view: bool,
    out_of_scope: usize,
    tally: Tally<'a>,
}

impl<'a> Plan<'a> {
    fn new(c: &'a Loaded, req: &Request, dates: &[NaiveDate], inputs: &Inputs) -> Plan<'a> {
        let test = c.control.test;
        let end = req.scope.end();
        // State controls at every sample date; event and data controls once, at the end.
        let per_event =
            matches!(test, TestKind::IpeTieOut | TestKind::SanitizationMethod | TestKind::CertificateCountersigned | TestKind::LeaverDevicesReturned);
        let at: Vec<NaiveDate> = if c.control.kind == Kind::State && !per_event { dates.to_vec() } else { vec![end] };
        let checks = at
            .iter()
            .map(|d| {
                let mut ch = evidence::check(inputs.observations, evidence::needs(test), *d, c.params.max_evidence_age_days);
                ch.missing.extend(evidence::missing_always(test).map(String::from));
                // Certificates are made in evident, not ingested: none at all is a missing input.
                if test == TestKind::CertificateCountersigned && inputs.certs.is_empty() {
                    ch.missing.push("no certificate of sanitization is in the store (`evident certificate new`, docs/certificates.md)".into());
                }
                (*d, ch)
            })
            .collect();
        let tally = Tally {
            control: &c.control.id,
            one_date: (at.len() == 1).then_some(end),
            of_view: !per_event,
            hits: vec![[false; 3]; req.exceptions.len()],
            counts: BTreeMap::new(),
            kept: Vec::new(),
        };
        Plan { c, at, checks, of_view: !per_event, out_of_scope: 0, tally }
    }

    fn in_force(&self, d: &NaiveDate) -> bool {
        self.checks.get(d).is_some_and(|ch| ch.missing.is_empty())
    }

    /// One device of the view at `d`: a member of the population, out of scope by ownership, or
    /// not what the test is about.
    fn judge(&mut self, a: &AssetView, d: NaiveDate, exceptions: &[Exception], used: &mut [bool], sink: &mut dyn Sink) {
        let Some(v) = assets::judge(self.c, a, d) else { return };
        if !self.c.params.ownership.iter().any(|o| o == a.ownership.map_or("unknown", |o| o.as_str())) {
            self.out_of_scope += 1;
            return;
        }
        let item = Item { date: d, item: a.key.clone(), asset_tag: a.asset_tag.clone(), outcome: v.outcome(), reason: v.reason, records: a.records.clone() };
        self.tally.add(item, exceptions, used, sink);
    }

    /// An event control's population, when its evidence was in force.
    fn events(&self, ctx: &Context) -> Vec<Item> {
        let end = ctx.req.scope.end();
        if !self.in_force(&end) {
            return Vec::new();
        }
        let empty = Vec::new();
        let at_end = ctx.views.get(&end).unwrap_or(&empty);
        match self.c.control.test {
            TestKind::IpeTieOut => tie_out::ipe_items(self.c, ctx.ties, end),
            TestKind::SanitizationMethod => events::judge_wipes(self.c, at_end, &ctx.req.scope),
            TestKind::CertificateCountersigned => events::judge_attested(at_end, &ctx.req.scope, ctx.inputs.certs),
            TestKind::LeaverDevicesReturned => events::judge_leavers(self.c, ctx.views, ctx.inputs, &ctx.req.scope),
            _ => Vec::new(),
        }
    }

    /// The control's result: per-date picture, exceptions and the overall status.
    fn finish(self, exceptions: &[Exception]) -> ControlResult {
        let Plan { c, at, checks, out_of_scope, tally, .. } = self;
        let Tally { counts, kept: items, hits, .. } = tally;
        let exceptions = dispositions(exceptions, &hits);
        // Event and data controls have one date: every item (events carry their own dates).
        let count =
            |o: Outcome, d: Option<NaiveDate>| counts.iter().filter(|((date, oc), _)| *oc == o && d.is_none_or(|d| *date == d)).map(|(_, n)| n).sum::<usize>();
        let per_date: Vec<DateResult> = checks
            .iter()
            .map(|(d, ch)| {
                let only = (at.len() > 1).then_some(*d);
                date_result(*d, ch, count(Outcome::Pass, only), count(Outcome::Fail, only), count(Outcome::Excepted, only))
            })
            .collect();
        let expired = exceptions.iter().any(|d| d.disposition == DispositionKind::Expired);
        let population = counts.values().sum::<usize>();
        let (status, note) = overall(&per_date, count(Outcome::Fail, None) > 0 || expired, population == 0, out_of_scope);
        ControlResult {
            id: c.control.id.clone(),
            version: c.control.version,
            title: c.control.title.clone(),
            test: c.control.test,
            kind: c.control.kind,
            file: c.file.clone(),
            sha256: c.sha256.clone(),
            status,
            note,
            params: c.control.params.clone(),
            population,
            passed: count(Outcome::Pass, None),
            failed: count(Outcome::Fail, None),
            excepted: count(Outcome::Excepted, None),
            out_of_scope,
            dates: per_date,
            items,
            populations: Vec::new(),
            exceptions,
        }
    }
}

/// A control's items as they are judged: exceptions applied, counted by date and outcome, handed
/// to the sink, and kept when the sink wants them kept (or they are not a pass).
struct Tally<'a> {
    control: &'a str,
    /// The one date every item counts at (event and data controls, or a single sample date).
    one_date: Option<NaiveDate>,
    /// The items are devices of the view (not events: wipes, leavers, exports, certificates).
    of_view: bool,
    /// Per exception: applied, expired, not yet valid.
    hits: Vec<[bool; 3]>,
    counts: BTreeMap<(NaiveDate, Outcome), usize>,
    kept: Vec<Item>,
}

impl Tally<'_> {
    fn add(&mut self, mut item: Item, exceptions: &[Exception], used: &mut [bool], sink: &mut dyn Sink) {
        apply_exceptions(self.control, &mut item, exceptions, used, &mut self.hits);
        *self.counts.entry((item.date, item.outcome)).or_default() += 1;
        sink.item(self.control, self.one_date.unwrap_or(item.date), self.of_view, &item);
        if item.outcome != Outcome::Pass || sink.keeps_passing() {
            self.kept.push(item);
        }
    }
}

/// One sample date's status: no evidence, else fail, else pass, else an empty population.
fn date_result(date: NaiveDate, ch: &Check, passed: usize, failed: usize, excepted: usize) -> DateResult {
    let status = if !ch.missing.is_empty() {
        Status::NoEvidence
    } else if failed > 0 {
        Status::Fail
    } else if passed + excepted > 0 {
        Status::Pass
    } else {
        Status::NotApplicable
    };
    DateResult { date, status, population: passed + failed + excepted, passed, failed, excepted, evidence: ch.in_force.clone(), missing: ch.missing.clone() }
}

/// The control's status over the scope: a failure anywhere fails it; else a date without
/// evidence means it has none; else pass, or not applicable when nothing was in scope.
fn overall(per_date: &[DateResult], failed: bool, empty: bool, out_of_scope: usize) -> (Status, Option<String>) {
    let no_evidence: Vec<String> =
        per_date.iter().filter(|d| d.status == Status::NoEvidence).map(|d| format!("{}: {}", d.date, d.missing.join("; "))).collect();
    let status = if failed {
        Status::Fail
    } else if !no_evidence.is_empty() {
        Status::NoEvidence
    } else if empty {
        Status::NotApplicable
    } else {
        Status::Pass
    };
    let note = match status {
        _ if !no_evidence.is_empty() => {
            Some(format!("no evidence in force at {} of {} sample dates — {}", no_evidence.len(), per_date.len(), no_evidence.join(" | ")))
        }
        Status::NotApplicable if out_of_scope > 0 => {
            Some(format!("evidence in force; the population is empty ({out_of_scope} devices out of scope by ownership)"))
        }
        Status::NotApplicable => Some("evidence in force; the population is empty at every sample date".to_string()),
        _ => None,
    };
    (status, note)
}

fn matches_item(e: &Exception, i: &Item) -> bool {
    let want = e.item.trim();
    i.item.as_str().eq_ignore_ascii_case(want)
        || i.item.value().eq_ignore_ascii_case(want)
        || i.asset_tag.as_deref().is_some_and(|t| t.eq_ignore_ascii_case(want))
}

/// An exception covers a failing item whose date is inside its window (`valid_from` to
/// `expires`, both included): each sample date is judged on its own, so an exception that ran out
/// on 09-30 covers 09-30 and fails 10-31. `hits` records, per exception, whether it applied,
/// found an item after it expired, or one before it was valid.
fn apply_exceptions(control: &str, item: &mut Item, exceptions: &[Exception], used: &mut [bool], hits: &mut [[bool; 3]]) {
    for (k, e) in exceptions.iter().enumerate() {
        if !e.control.eq_ignore_ascii_case(control) || item.outcome != Outcome::Fail || !matches_item(e, item) {
            continue;
        }
        used[k] = true;
        if item.date > e.expires {
            hits[k][1] = true;
            item.reason = format!("{} — exception expired on {}", item.reason, e.expires);
        } else if let Some(from) = e.valid_from.filter(|f| item.date < *f) {
            hits[k][2] = true;
            item.reason = format!("{} — exception valid only from {from}", item.reason);
        } else {
            hits[k][0] = true;
            item.outcome = Outcome::Excepted;
            item.reason = format!("{} — excepted until {} ({}; approved by {})", item.reason, e.expires, e.reason, e.approved_by);
        }
    }
}

/// What each exception did, in the order they were given.
fn dispositions(exceptions: &[Exception], hits: &[[bool; 3]]) -> Vec<Disposition> {
    let kinds = [DispositionKind::Applied, DispositionKind::Expired, DispositionKind::NotYetValid];
    let mut out = Vec::new();
    for (e, h) in exceptions.iter().zip(hits) {
        for (on, disposition) in h.iter().zip(kinds) {
            if *on {
                out.push(Disposition { exception: e.clone(), disposition });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::view::{Encrypted, Enrolled, Wiped};
    use proptest::prelude::*;
    use std::collections::BTreeSet;

    use crate::model::{
        Compliance, EncryptionScope, EncryptionState, EnrollmentState, Lifecycle, Mdm, MediaType, NistCategory, Platform, RecoveryKey, WipeResult, WipeTool,
    };

    const LIFECYCLES: [Lifecycle; 6] =
        [Lifecycle::Deployed, Lifecycle::InStock, Lifecycle::Retired, Lifecycle::Disposed, Lifecycle::LostStolen, Lifecycle::Unknown];

    fn asset(i: usize, lc: usize, enrolled: u8, enc: u8, wiped: u8, flag: u8, age: i64) -> AssetView {
        let as_of = NaiveDate::from_ymd_opt(2026, 10, 31).unwrap();
        let checkin = (as_of - chrono::Days::new(age as u64)).and_hms_opt(12, 0, 0).unwrap().and_utc();
        let mut flags = BTreeSet::new();
        match flag {
            1 => {
                flags.insert("duplicate_serial:snipeit_csv".to_string());
            }
            2 => {
                flags.insert("serial_placeholder".to_string());
            }
            _ => {}
        }
        AssetView {
            key: crate::view::ItemKey::new(crate::view::KeyKind::Serial, &format!("SN{i:06}")),
            asset_tag: Some(format!("T-{i}")),
            name: None,
            model: None,
            lifecycle: Some(LIFECYCLES[lc]),
            status_label: Some("Ready to Deploy".into()),
            owner: (!i.is_multiple_of(5)).then(|| format!("u{i}@x.example")),
            owner_ids: Vec::new(),
            ownership: None,
            sources: BTreeSet::new(),
            register: vec![format!("snipeit_csv:r.csv:{i}")],
            enrollments: match enrolled {
                0 => vec![],
                e => vec![Enrolled {
                    mdm: Mdm::Intune,
                    state: if e == 1 { EnrollmentState::Enrolled } else { EnrollmentState::Unenrolled },
                    last_checkin_at: Some(checkin),
                    compliance: Some(if e == 3 { Compliance::Noncompliant } else { Compliance::Compliant }),
                    platform: Some(Platform::Windows),
                    os_version: Some("10.0.22631".into()),
                }],
            },
            encryption: match enc {
                0 => vec![],
                e => vec![Encrypted {
                    source: "intune_graph".into(),
                    scope: EncryptionScope::Device,
                    volume: None,
                    state: if e == 1 { EncryptionState::Encrypted } else { EncryptionState::NotEncrypted },
                    recovery_key: Some(RecoveryKey::Escrowed),
                }],
            },
            drives: BTreeSet::new(),
            wipes: match wiped {
                0 => vec![],
                w => vec![Wiped {
                    drive: format!("D{i}"),
                    tool: WipeTool::Nwipe,
                    method: None,
                    result: if w == 1 { WipeResult::Success } else { WipeResult::Failed },
                    nist_category: Some(NistCategory::Purge),
                    completed_at: NaiveDate::from_ymd_opt(2026, 9, 1).and_then(|d| d.and_hms_opt(0, 0, 0)).map(|t| t.and_utc()),
                    media_type: Some(MediaType::Ssd),
                }],
            },
            flags,
            records: vec![format!("snipeit_csv:r.csv:{i}")],
        }
    }

    fn compliant(i: usize) -> AssetView {
        asset(i, 0, 1, 1, 0, 0, 1)
    }

    fn run(views: Vec<AssetView>) -> Evaluation {
        let lib = Library::builtin();
        let scope = Scope::AsOf { date: NaiveDate::from_ymd_opt(2026, 10, 31).unwrap() };
        let req = Request { organisation: None, scope: scope.clone(), cadence: Cadence::Monthly, exceptions: &[], progress: &() };
        let fresh = |kind| Observation { kind, file: "x".into(), sha256: "00".repeat(32), as_of: Some(scope.end()) };
        let observations = [Evidence::Register, Evidence::Mdm, Evidence::Encryption, Evidence::Wipes, Evidence::Leavers].map(fresh);
        evaluate_views(
            &lib,
            &req,
            &BTreeMap::from([(scope.end(), views)]),
            Vec::new(),
            &Inputs { certs: &[], leavers: &[], on_last_day: &BTreeMap::new(), observations: &observations },
        )
    }

    /// Which assets a test is about, restated from the controls' definitions.
    fn in_scope(test: TestKind, a: &AssetView) -> usize {
        let lc = a.lifecycle.map_or("", |l| l.as_str());
        let enrolled = a.enrollments.iter().any(|e| e.state == EnrollmentState::Enrolled);
        match test {
            TestKind::InventoryFields => matches!(lc, "deployed" | "in_stock") as usize,
            TestKind::InventoryUnique => 1,
            TestKind::DiskEncrypted => (lc == "deployed" && !a.enrollments.is_empty()) as usize,
            TestKind::RecoveryKeyEscrowed => (lc == "deployed" && a.encryption.iter().any(|e| e.state == EncryptionState::Encrypted)) as usize,
            TestKind::MdmEnrolled => (lc == "deployed") as usize,
            TestKind::MdmCompliant => enrolled as usize,
            TestKind::RegisterMdmReconciled => (lc == "deployed" || !a.enrollments.is_empty()) as usize,
            TestKind::NoEnrollmentAfterDisposal => matches!(lc, "disposed" | "retired") as usize,
            TestKind::DisposalSanitized => (lc == "disposed") as usize,
            TestKind::SanitizationMethod => a.wipes.len(),
            TestKind::LostEncrypted => (lc == "lost_stolen") as usize,
            TestKind::OsSupported => enrolled as usize,
            // No certificate in the store (these runs have none): no evidence, no population.
            TestKind::ItadCertified | TestKind::IpeTieOut | TestKind::LeaverDevicesReturned | TestKind::CertificateCountersigned | TestKind::ReissueWiped => 0,
        }
    }

    fn fleet() -> impl Strategy<Value = Vec<AssetView>> {
        proptest::collection::vec((0usize..6, 0u8..4, 0u8..3, 0u8..3, 0u8..3, 0i64..20), 0..30)
            .prop_map(|v| v.into_iter().enumerate().map(|(i, (lc, en, enc, w, f, age))| asset(i, lc, en, enc, w, f, age)).collect())
    }

    #[test]
    fn a_fleet_of_compliant_devices_passes_every_applicable_control() {
        let ev = run((0..5).map(|i| compliant(i * 5 + 1)).collect());
        for c in &ev.controls {
            assert_ne!(c.status, Status::Fail, "{}: {:?}", c.id, c.items.iter().find(|i| i.outcome == Outcome::Fail));
        }
        assert_eq!(ev.controls.iter().find(|c| c.id == "ENC-01").unwrap().status, Status::Pass);
    }

    proptest! {
        #[test]
        fn adding_a_compliant_asset_never_turns_a_pass_into_a_fail(views in fleet()) {
            let before = run(views.clone());
            let mut more = views;
            more.push(compliant(999_999));
            let after = run(more);
            for (b, a) in before.controls.iter().zip(&after.controls) {
                prop_assert!(!(b.status == Status::Pass && a.status == Status::Fail), "{} went from pass to fail", b.id);
            }
        }

        #[test]
        fn the_population_is_exactly_the_in_scope_items(views in fleet()) {
            let ev = run(views.clone());
            for c in &ev.controls {
                let want: usize = views.iter().map(|a| in_scope(c.test, a)).sum();
                prop_assert_eq!(c.population, want, "{}", c.id);
                prop_assert_eq!(c.passed + c.failed + c.excepted, c.population, "{}", c.id);
            }
        }
    }

    #[test]
    fn period_sample_dates_end_each_month_and_the_period() {
        let s = Scope::Period { from: NaiveDate::from_ymd_opt(2026, 1, 15).unwrap(), to: NaiveDate::from_ymd_opt(2026, 3, 20).unwrap() };
        let d: Vec<String> = sample_dates(&s, Cadence::Monthly).iter().map(|d| d.to_string()).collect();
        assert_eq!(d, ["2026-01-31", "2026-02-28", "2026-03-20"]);
    }
}
