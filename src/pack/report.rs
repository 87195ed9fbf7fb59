//! The first page an auditor opens: report/index.html, one self-contained file (inline CSS, script
//! and SVG charts; no network). templates/report.html.tera renders it with Tera, which escapes
//! every value; this module only gathers the numbers and chart geometry.

use crate::controls::Library;
use crate::controls::schema::TestKind;
use crate::evaluate::Evaluation;
use crate::ledger::Scope;
use serde::Serialize;
use std::collections::BTreeMap;

const TEMPLATE: &str = include_str!("../../templates/report.html.tera");

pub struct Page<'a> {
    pub scope: &'a Scope,
    pub seq: u64,
    pub prev: Option<&'a str>,
    pub key_id: &'a str,
    pub sources: &'a [serde_json::Value],
    pub assets: &'a Assets,
    pub evaluation: Option<(&'a Library, &'a Evaluation)>,
    /// Earlier packs of the chain: seq and their results/evaluation.json.
    pub history: &'a [(u64, serde_json::Value)],
    pub certificates: usize,
}

/// The joined view in brief: its size and the devices with data-quality findings.
pub struct Assets {
    /// The view's file in the pack.
    pub path: String,
    pub count: usize,
    pub flagged: Vec<Flagged>,
}

#[derive(Serialize)]
pub struct Flagged {
    pub key: String,
    pub asset_tag: Option<String>,
    pub name: Option<String>,
    pub flags: Vec<String>,
}

#[derive(Serialize)]
struct Dot {
    x: f64,
    y: f64,
    title: String,
}

#[derive(Serialize)]
struct Spark {
    width: u32,
    height: u32,
    points: String,
    dots: Vec<Dot>,
}

#[derive(Serialize)]
struct ControlRow<'a> {
    id: &'a str,
    version: u32,
    status: &'static str,
    population: usize,
    passed: usize,
    failed: usize,
    excepted: usize,
    rate: Option<String>,
    title: &'a str,
    note: Option<&'a str>,
    /// The failing and excepted items as compact JSON for the page's script (the whole
    /// population is in `populations`).
    items: String,
    findings: usize,
    populations: Vec<Population<'a>>,
    spark: Option<Spark>,
    /// One cell per sample date of the evaluation (event controls: the scope's end only).
    dates: Vec<DateCell>,
    out_of_scope: usize,
}

#[derive(Serialize)]
struct DateCell {
    date: String,
    status: &'static str,
    population: usize,
    failed: usize,
    /// What was missing or stale; or which exports the date rests on.
    detail: String,
}

#[derive(Serialize)]
struct Population<'a> {
    date: String,
    path: &'a str,
    items: usize,
}

#[derive(Serialize)]
struct Series {
    label: &'static str,
    color: &'static str,
    points: String,
    dots: Vec<Dot>,
}

#[derive(Serialize)]
struct Tick {
    x: f64,
    label: String,
}

#[derive(Serialize)]
struct Grid {
    y: f64,
    label: String,
}

#[derive(Serialize)]
struct Chart {
    width: u32,
    height: u32,
    left: f64,
    right: f64,
    grid: Vec<Grid>,
    ticks: Vec<Tick>,
    series: Vec<Series>,
}

fn rate(passed: usize, population: usize) -> Option<f64> {
    (population > 0).then(|| passed as f64 * 100.0 / population as f64)
}

/// Pass rate of one control in each pack of the chain, this one last.
fn spark(id: &str, history: &[(u64, serde_json::Value)], seq: u64, now: Option<f64>) -> Option<Spark> {
    let mut values: Vec<(u64, Option<f64>)> = history
        .iter()
        .map(|(s, ev)| {
            let c = ev["controls"].as_array().and_then(|cs| cs.iter().find(|c| c["id"] == id));
            let r = c.and_then(|c| rate(c["passed"].as_u64()? as usize + c["excepted"].as_u64().unwrap_or(0) as usize, c["population"].as_u64()? as usize));
            (*s, r)
        })
        .collect();
    values.push((seq, now));
    if values.len() < 2 {
        return None;
    }
    let (w, h) = (120u32, 24u32);
    let step = (w as f64 - 6.0) / (values.len() - 1) as f64;
    let dots: Vec<Dot> = values
        .iter()
        .enumerate()
        .filter_map(|(i, (s, r))| {
            r.map(|r| Dot { x: round(3.0 + i as f64 * step), y: round(h as f64 - 3.0 - r / 100.0 * (h as f64 - 6.0)), title: format!("pack {s}: {r:.1} %") })
        })
        .collect();
    let points = dots.iter().map(|d| format!("{},{}", d.x, d.y)).collect::<Vec<_>>().join(" ");
    Some(Spark { width: w, height: h, points, dots })
}

fn round(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

/// Enrollment (MDM-01) and encryption (ENC-01) rates at each sample date.
fn rates(ev: &Evaluation) -> Option<Chart> {
    let dates = &ev.sample_dates;
    let (w, h, left, top, bottom) = (560u32, 200u32, 44.0, 10.0, 26.0);
    let right = w as f64 - 40.0;
    let y_of = |r: f64| round(top + (1.0 - r / 100.0) * (h as f64 - top - bottom));
    let x_of = |i: usize| if dates.len() < 2 { (left + right) / 2.0 } else { round(left + i as f64 * (right - left) / (dates.len() - 1) as f64) };
    let mut series = Vec::new();
    for (test, label, color) in [(TestKind::MdmEnrolled, "Enrolled in MDM", "#0969da"), (TestKind::DiskEncrypted, "Disk encrypted", "#1a7f37")] {
        let Some(c) = ev.controls.iter().find(|c| c.test == test) else { continue };
        let mut dots = Vec::new();
        for (i, d) in dates.iter().enumerate() {
            let Some(at) = c.dates.iter().find(|x| x.date == *d) else { continue };
            let ok = at.passed + at.excepted;
            if let Some(r) = rate(ok, at.population) {
                dots.push(Dot { x: x_of(i), y: y_of(r), title: format!("{d}: {r:.1} % ({ok} of {})", at.population) });
            }
        }
        if !dots.is_empty() {
            let points = dots.iter().map(|d| format!("{},{}", d.x, d.y)).collect::<Vec<_>>().join(" ");
            series.push(Series { label, color, points, dots });
        }
    }
    if series.is_empty() {
        return None;
    }
    let grid = [0.0, 25.0, 50.0, 75.0, 100.0].iter().map(|r| Grid { y: y_of(*r), label: format!("{r:.0} %") }).collect();
    let ticks = dates.iter().enumerate().map(|(i, d)| Tick { x: x_of(i), label: d.format("%Y-%m-%d").to_string() }).collect();
    Some(Chart { width: w, height: h, left, right, grid, ticks, series })
}

pub fn render(p: &Page) -> String {
    let mut ctx = tera::Context::new();
    ctx.insert("seq", &p.seq);
    ctx.insert("scope", &p.scope.to_string());
    ctx.insert("organisation", &p.evaluation.and_then(|(_, ev)| ev.organisation.clone()));
    ctx.insert("version", env!("CARGO_PKG_VERSION"));
    ctx.insert(
        "period",
        &match p.scope {
            Scope::Period { from, to } => Some((from.to_string(), to.to_string())),
            Scope::AsOf { .. } => None,
        },
    );
    ctx.insert("key_id", p.key_id);
    ctx.insert("prev", p.prev.unwrap_or("none (first pack)"));
    ctx.insert("certificates", &p.certificates);
    let sources: Vec<serde_json::Value> = p.sources.iter().map(source_row).collect();
    ctx.insert("sources", &sources);
    ctx.insert("flagged", &p.assets.flagged.len());
    ctx.insert("flagged_data", &flagged_data(p.assets));
    ctx.insert("asset_count", &p.assets.count);
    ctx.insert("assets_path", &p.assets.path);
    let mut controls = Vec::new();
    let mut frameworks = Vec::new();
    let (mut exceptions, mut unused) = (Vec::new(), Vec::new());
    let mut counts = BTreeMap::from([("pass", 0), ("fail", 0), ("na", 0), ("no_evidence", 0)]);
    let mut dates = Vec::new();
    let mut chart = None;
    if let Some((lib, ev)) = p.evaluation {
        dates = ev.sample_dates.iter().map(|d| d.to_string()).collect();
        for c in &ev.controls {
            *counts
                .entry(match c.status.as_str() {
                    "pass" => "pass",
                    "fail" => "fail",
                    "no_evidence" => "no_evidence",
                    _ => "na",
                })
                .or_default() += 1;
            let now = if c.population > 0 { rate(c.passed + c.excepted, c.population) } else { None };
            controls.push(control_row(c, ev, p, now));
            for d in &c.exceptions {
                let e = &d.exception;
                exceptions.push(serde_json::json!({"control": e.control, "item": e.item, "disposition": d.disposition.as_str(), "reason": e.reason, "approved_by": e.approved_by, "ticket": e.ticket, "expires": e.expires.to_string()}));
            }
        }
        for e in &ev.unused_exceptions {
            unused.push(serde_json::json!({"control": e.control, "item": e.item, "reason": e.reason, "approved_by": e.approved_by, "ticket": e.ticket, "expires": e.expires.to_string()}));
        }
        for (key, cat) in &lib.catalogs {
            let Some(criteria) = crate::evaluate::by_framework(ev, lib, key) else { continue };
            let n = |s: &str| criteria.iter().filter(|c| c.status == s).count();
            let rows: Vec<serde_json::Value> = criteria
                .iter()
                .map(|c| serde_json::json!({"id": c.id, "title": c.title, "status": c.status, "controls": c.controls.iter().map(|x| serde_json::json!({"id": x.id, "status": x.status.as_str()})).collect::<Vec<_>>()}))
                .collect();
            frameworks.push(serde_json::json!({"key": key, "title": cat.title, "pass": n("pass"), "fail": n("fail"), "no_evidence": n("no_evidence"), "uncovered": n("uncovered"), "criteria": rows}));
        }
        chart = rates(ev);
    }
    ctx.insert("controls", &controls);
    ctx.insert("frameworks", &frameworks);
    ctx.insert("exceptions", &exceptions);
    ctx.insert("unused", &unused);
    ctx.insert("counts", &counts);
    ctx.insert("sample_dates", &dates);
    ctx.insert("charts", &chart.is_some());
    ctx.insert("rates", &chart);
    let mut tera = tera::Tera::default();
    tera.add_raw_template("report.html", TEMPLATE).expect("the report template parses");
    tera.render("report.html", &ctx).expect("the report template renders with its own data")
}

/// JSON to embed in a `<script type="application/json">`: `<`, `>` and `&` become `\u003c`…,
/// so no value can close the element or open a comment (they only occur inside JSON strings).
fn embedded(v: &serde_json::Value) -> String {
    serde_json::to_string(v).expect("JSON serialises").replace('<', "\\u003c").replace('>', "\\u003e").replace('&', "\\u0026")
}

/// A control's failing and excepted items for the paged table: each row is
/// `[date, item, asset tag, outcome, reason index]`, reasons listed once (they repeat).
fn item_data(c: &crate::evaluate::ControlResult) -> String {
    let mut reasons: Vec<&str> = Vec::new();
    let mut index: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    let rows: Vec<serde_json::Value> = c
        .items
        .iter()
        .filter(|i| i.outcome != crate::evaluate::Outcome::Pass)
        .map(|i| {
            let r = *index.entry(i.reason.as_str()).or_insert_with(|| {
                reasons.push(&i.reason);
                reasons.len() - 1
            });
            serde_json::json!([i.date.to_string(), i.item.as_str(), i.asset_tag, i.outcome.as_str(), r])
        })
        .collect();
    embedded(&serde_json::json!({"reasons": reasons, "rows": rows}))
}

/// The devices with data-quality findings for the paged table: `[key, asset tag, name, flags]`.
fn flagged_data(assets: &Assets) -> String {
    let rows: Vec<serde_json::Value> = assets.flagged.iter().map(|a| serde_json::json!([a.key, a.asset_tag, a.name, a.flags.join(", ")])).collect();
    embedded(&serde_json::json!({"rows": rows}))
}

/// One source's row in the tie-out table, with what became of it.
fn source_row(s: &serde_json::Value) -> serde_json::Value {
    let rows = &s["rows"];
    serde_json::json!({
        "path": s["pack_path"], "report": s["report_path"], "file_name": s["file_name"], "source": s["source"], "as_of": s["as_of"],
        "state": match (s["retracted"].as_str(), s["superseded_by"].is_null()) {
            (Some(why), _) => format!("retracted: {why}"),
            (None, false) => "superseded by a correction".to_string(),
            (None, true) => String::new(),
        },
        "read": rows["read"], "accepted": rows["accepted"], "rejected": rows["rejected"], "empty": rows["empty"], "warnings": s["warnings"],
    })
}

/// One control's row: counts, rate, its trend across the chain, its items and its sample dates.
fn control_row<'a>(c: &'a crate::evaluate::ControlResult, ev: &Evaluation, p: &Page, now: Option<f64>) -> ControlRow<'a> {
    ControlRow {
        id: &c.id,
        version: c.version,
        status: c.status.as_str(),
        population: c.population,
        passed: c.passed,
        failed: c.failed,
        excepted: c.excepted,
        rate: now.map(|r| format!("{r:.1}")),
        title: &c.title,
        note: c.note.as_deref(),
        items: item_data(c),
        findings: c.items.iter().filter(|i| i.outcome != crate::evaluate::Outcome::Pass).count(),
        populations: c.populations.iter().map(|f| Population { date: f.date.to_string(), path: &f.path, items: f.items }).collect(),
        spark: spark(&c.id, p.history, p.seq, now),
        dates: ev
            .sample_dates
            .iter()
            .map(|d| match c.dates.iter().find(|x| x.date == *d) {
                Some(x) => DateCell {
                    date: d.to_string(),
                    status: x.status.as_str(),
                    population: x.population,
                    failed: x.failed,
                    detail: if x.missing.is_empty() {
                        x.evidence
                            .iter()
                            .map(|e| format!("{}: {} as of {}", e.kind.describe(), e.file, e.as_of.map_or("(undated)".into(), |a| a.to_string())))
                            .collect::<Vec<_>>()
                            .join("; ")
                    } else {
                        x.missing.join("; ")
                    },
                },
                None => DateCell {
                    date: d.to_string(),
                    status: "",
                    population: 0,
                    failed: 0,
                    detail: "an event control: judged once, over the events in scope".into(),
                },
            })
            .collect(),
        out_of_scope: c.out_of_scope,
    }
}
