//! The first page an auditor opens: report/index.html, one self-contained file (no network,
//! no script). Every value from the data is HTML-escaped.

use crate::ledger::Scope;
use crate::view::AssetView;
use html_escape::encode_text as esc;
use std::fmt::Write;

pub struct Page<'a> {
    pub scope: &'a Scope,
    pub seq: u64,
    pub prev: Option<&'a str>,
    pub key_id: &'a str,
    pub sources: &'a [serde_json::Value],
    pub assets: &'a [AssetView],
    pub evaluation: Option<&'a crate::evaluate::Evaluation>,
}

fn cell(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => esc(s).into_owned(),
        serde_json::Value::Null => "—".into(),
        other => esc(&other.to_string()).into_owned(),
    }
}

pub fn render(p: &Page) -> String {
    let mut h = String::new();
    let _ = write!(
        h,
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>evident pack {seq}: {scope}</title>\n<style>\nbody{{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#111}}table{{border-collapse:collapse;margin:1em 0}}td,th{{border:1px solid #bbb;padding:.25em .5em;text-align:left;vertical-align:top}}th{{background:#eee}}.num{{text-align:right}}code{{font-size:12px}}\n@media print{{body{{margin:0}}a{{color:inherit}}}}\n</style></head><body>\n",
        seq = p.seq,
        scope = esc(&p.scope.to_string())
    );
    let _ = write!(
        h,
        "<h1>Evidence pack {seq}</h1>\n<table>\n<tr><th>Scope</th><td>{scope}</td></tr>\n<tr><th>Position in the chain</th><td>seq {seq}; previous manifest <code>{prev}</code></td></tr>\n<tr><th>Signing key id</th><td><code>{key}</code> (who holds it: the auditor's trust list)</td></tr>\n</table>\n<p>How to check this pack without evident: <a href=\"../docs/FORMAT.md\">docs/FORMAT.md</a>.</p>\n",
        seq = p.seq,
        scope = esc(&p.scope.to_string()),
        prev = esc(p.prev.unwrap_or("none (first pack)")),
        key = esc(p.key_id)
    );
    if let Some(ev) = p.evaluation {
        h.push_str("<h2>Controls</h2>\n<table id=\"controls\">\n<tr><th>Control</th><th>Status</th><th class=\"num\">Population</th><th class=\"num\">Pass</th><th class=\"num\">Fail</th><th class=\"num\">Excepted</th><th>Title</th></tr>\n");
        for c in &ev.controls {
            let _ = writeln!(
                h,
                "<tr><td><a href=\"../results/controls/{id}.json\">{id}</a>@{v}</td><td>{st}</td><td class=\"num\">{n}</td><td class=\"num\">{p}</td><td class=\"num\">{f}</td><td class=\"num\">{x}</td><td>{t}{note}</td></tr>",
                id = esc(&c.id),
                v = c.version,
                st = esc(c.status.as_str()),
                n = c.population,
                p = c.passed,
                f = c.failed,
                x = c.excepted,
                t = esc(&c.title),
                note = c.note.as_deref().map(|n| format!(" <em>({})</em>", esc(n))).unwrap_or_default(),
            );
        }
        h.push_str("</table>\n<h3>Exceptions found</h3>\n<table id=\"exceptions\">\n<tr><th>Control</th><th>Date</th><th>Item</th><th>Asset tag</th><th>Outcome</th><th>Reason</th></tr>\n");
        for c in &ev.controls {
            for i in c.items.iter().filter(|i| i.outcome != crate::evaluate::Outcome::Pass) {
                let _ = writeln!(
                    h,
                    "<tr><td>{}</td><td>{}</td><td><code>{}</code></td><td>{}</td><td>{:?}</td><td>{}</td></tr>",
                    esc(&c.id),
                    i.date,
                    esc(&i.item),
                    esc(i.asset_tag.as_deref().unwrap_or("—")),
                    i.outcome,
                    esc(&i.reason)
                );
            }
        }
        h.push_str("</table>\n");
    }
    h.push_str("<h2>Sources and tie-out</h2>\n<table id=\"sources\">\n<tr><th>File</th><th>Source</th><th>As of</th><th class=\"num\">Rows read</th><th class=\"num\">Accepted</th><th class=\"num\">Rejected</th><th class=\"num\">Empty</th><th class=\"num\">Warnings</th></tr>\n");
    for s in p.sources {
        let rows = &s["rows"];
        let path = s["pack_path"].as_str().unwrap_or("");
        let _ = writeln!(
            h,
            "<tr><td><a href=\"../{href}\">{name}</a> (<a href=\"../{href}.ingest.json\">report</a>)</td><td>{src}</td><td>{asof}</td><td class=\"num\">{r}</td><td class=\"num\">{a}</td><td class=\"num\">{j}</td><td class=\"num\">{e}</td><td class=\"num\">{w}</td></tr>",
            href = esc(path),
            name = cell(&s["file_name"]),
            src = cell(&s["source"]),
            asof = cell(&s["as_of"]),
            r = cell(&rows["read"]),
            a = cell(&rows["accepted"]),
            j = cell(&rows["rejected"]),
            e = cell(&rows["empty"]),
            w = cell(&s["warnings"]),
        );
    }
    h.push_str("</table>\n");
    let flagged: Vec<&AssetView> = p.assets.iter().filter(|a| !a.flags.is_empty()).collect();
    let _ = writeln!(h, "<h2>Assets</h2>\n<p>{} devices in the joined view; {} with data-quality findings. Full population: <a href=\"../results/assets.json\">results/assets.json</a>.</p>", p.assets.len(), flagged.len());
    h.push_str("<table id=\"findings\">\n<tr><th>Device</th><th>Asset tag</th><th>Name</th><th>Findings</th></tr>\n");
    for a in flagged {
        let flags: Vec<&str> = a.flags.iter().map(String::as_str).collect();
        let _ = writeln!(
            h,
            "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&a.key),
            esc(a.asset_tag.as_deref().unwrap_or("—")),
            esc(a.name.as_deref().unwrap_or("—")),
            esc(&flags.join(", "))
        );
    }
    h.push_str("</table>\n</body></html>\n");
    h
}
