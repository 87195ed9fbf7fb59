//! The module graph, read from the sources: no import cycle between the crate's top-level
//! modules, and `verify` (what the auditor runs) reaches neither the store, the readers, the
//! view nor the evaluation. `cargo test --test integration architecture` checks both.

use crate::util::root;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Every source file as its module path (`pack::archive`, `verify`; `lib.rs` is the root "").
fn modules() -> BTreeMap<String, String> {
    fn go(dir: &Path, out: &mut BTreeMap<String, String>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                go(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                let rel = p.strip_prefix(root().join("src")).unwrap().with_extension("");
                let mut parts: Vec<String> = rel.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
                if parts.last().is_some_and(|l| l == "mod") || parts == ["lib"] || parts == ["main"] {
                    parts.pop();
                }
                let text = std::fs::read_to_string(&p).unwrap();
                // Unit tests may reach anywhere; only the code that ships counts.
                let text = text.split("#[cfg(test)]").next().unwrap().to_string();
                out.insert(parts.join("::"), text);
            }
        }
    }
    let mut out = BTreeMap::new();
    go(&root().join("src"), &mut out);
    out
}

/// The paths a file names through `crate::` or `super::`, with `use` groups expanded.
fn paths(text: &str) -> Vec<Vec<String>> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if !text.is_char_boundary(i) {
            i += 1;
            continue;
        }
        let start = ["crate::", "super::"]
            .iter()
            .find(|k| text[i..].starts_with(**k) && (i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_' || b[i - 1] == b':')));
        let Some(k) = start else {
            i += 1;
            continue;
        };
        let head = k.trim_end_matches("::").to_string();
        let (segs, end) = segments(text, i + k.len());
        let mut base = vec![head];
        base.extend(segs);
        if text[end..].starts_with("::{") || text[end..].starts_with('{') {
            let open = end + text[end..].find('{').unwrap();
            let close = open + matching(&text[open..]);
            for item in split_top(&text[open + 1..close]) {
                let item = item.trim();
                let first = item.split(" as ").next().unwrap().trim();
                let mut p = base.clone();
                if first != "self" && !first.is_empty() {
                    p.extend(first.split("::").map(|s| s.trim().to_string()).filter(|s| !s.is_empty() && !s.starts_with('{')));
                }
                out.push(p);
            }
            i = close;
        } else {
            out.push(base);
            i = end;
        }
    }
    out
}

fn segments(text: &str, mut i: usize) -> (Vec<String>, usize) {
    let mut segs = Vec::new();
    loop {
        let rest = &text[i..];
        let n = rest.bytes().take_while(|c| c.is_ascii_alphanumeric() || *c == b'_').count();
        if n == 0 {
            return (segs, i);
        }
        segs.push(rest[..n].to_string());
        i += n;
        if text[i..].starts_with("::") && text[i + 2..].bytes().next().is_some_and(|c| c.is_ascii_alphabetic() || c == b'_') {
            i += 2;
        } else {
            return (segs, i);
        }
    }
}

fn matching(s: &str) -> usize {
    let mut depth = 0;
    for (k, c) in s.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return k;
                }
            }
            _ => {}
        }
    }
    s.len() - 1
}

fn split_top(s: &str) -> Vec<String> {
    let (mut out, mut cur, mut depth) = (Vec::new(), String::new(), 0);
    for c in s.chars() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                out.push(std::mem::take(&mut cur));
                continue;
            }
            _ => {}
        }
        cur.push(c);
    }
    out.push(cur);
    out
}

/// The module a path names: its longest prefix that is a module file.
fn resolve(path: &[String], from: &str, mods: &BTreeSet<String>) -> Option<String> {
    let mut segs: Vec<String> = match path.first().map(String::as_str) {
        Some("crate") => path[1..].to_vec(),
        Some("super") => {
            let mut base: Vec<String> = from.split("::").filter(|s| !s.is_empty()).map(String::from).collect();
            base.pop();
            base.extend(path[1..].iter().cloned());
            base
        }
        _ => return None,
    };
    while !segs.is_empty() {
        let m = segs.join("::");
        if mods.contains(&m) {
            return Some(m);
        }
        segs.pop();
    }
    None
}

fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let files = modules();
    let mods: BTreeSet<String> = files.keys().cloned().collect();
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (m, text) in &files {
        let e = edges.entry(m.clone()).or_default();
        for p in paths(text) {
            if let Some(t) = resolve(&p, m, &mods).filter(|t| t != m && !t.is_empty()) {
                e.insert(t);
            }
        }
    }
    edges
}

fn top(m: &str) -> &str {
    m.split("::").next().unwrap()
}

#[test]
fn no_import_cycle_between_top_level_modules() {
    let edges = graph();
    let mut top_edges: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (a, bs) in &edges {
        for b in bs {
            if top(a) != top(b) && !top(a).is_empty() {
                top_edges.entry(top(a)).or_default().insert(top(b));
            }
        }
    }
    // The scan sees real edges (a guard against it finding nothing).
    assert!(top_edges["pack"].contains("evaluate") && top_edges["ingest"].contains("store"), "{top_edges:?}");
    // Every edge goes up the list in lib.rs: the pipeline order is the dependency order.
    let lib = std::fs::read_to_string(root().join("src/lib.rs")).unwrap();
    let order: Vec<&str> = lib.lines().filter_map(|l| l.strip_prefix("pub mod ")?.strip_suffix(';')).collect();
    for (a, bs) in &top_edges {
        for b in bs {
            let (ia, ib) = (order.iter().position(|m| m == a), order.iter().position(|m| m == b));
            assert!(ia.is_some() && ib.is_some() && ib < ia, "{a} uses {b}, which lib.rs lists {}", if ib > ia { "below it" } else { "nowhere" });
        }
    }
    // Depth-first search for a back edge.
    fn visit<'a>(n: &'a str, g: &BTreeMap<&'a str, BTreeSet<&'a str>>, state: &mut BTreeMap<&'a str, u8>, path: &mut Vec<&'a str>) -> Option<Vec<&'a str>> {
        state.insert(n, 1);
        path.push(n);
        for &m in g.get(n).into_iter().flatten() {
            match state.get(m) {
                Some(1) => {
                    let at = path.iter().position(|x| *x == m).unwrap();
                    let mut cycle = path[at..].to_vec();
                    cycle.push(m);
                    return Some(cycle);
                }
                Some(_) => {}
                None => {
                    if let Some(c) = visit(m, g, state, path) {
                        return Some(c);
                    }
                }
            }
        }
        path.pop();
        state.insert(n, 2);
        None
    }
    let mut state = BTreeMap::new();
    for &n in top_edges.keys() {
        if !state.contains_key(n)
            && let Some(c) = visit(n, &top_edges, &mut state, &mut Vec::new())
        {
            panic!("import cycle: {}", c.join(" -> "));
        }
    }
}

#[test]
fn verify_reaches_neither_the_store_the_readers_the_view_nor_the_evaluation() {
    let edges = graph();
    let mut seen = BTreeSet::new();
    let mut todo = vec!["verify".to_string()];
    while let Some(n) = todo.pop() {
        for m in edges.get(&n).into_iter().flatten() {
            if seen.insert(m.clone()) {
                todo.push(m.clone());
            }
        }
    }
    assert!(seen.contains("pack::format") && seen.contains("certificate::record"), "the scan sees verify's leaves: {seen:?}");
    let bad: Vec<&String> = seen.iter().filter(|m| ["store", "ingest", "view", "evaluate"].contains(&top(m)) || *m == "pack" || *m == "certificate").collect();
    assert!(bad.is_empty(), "verify reaches {bad:?} (all it reaches: {seen:?})");
}

/// Functions longer than 80 lines, outside the readers' field mappings: each of those is one
/// record literal with per-source quirks, long honestly (splitting it would scatter one mapping).
#[test]
fn no_function_is_longer_than_80_lines_but_field_mappings() {
    const MAPPINGS: [&str; 10] = [
        "ingest::kandji::details_device",
        "ingest::jamf::classic_full",
        "ingest::jamf::api_computer",
        "ingest::jamf::read_csv",
        "ingest::nwipe::drive_record",
        "ingest::intune::graph_device",
        "ingest::intune::read_csv",
        "ingest::snipeit::api_row",
        "ingest::snipeit::read_csv",
        "ingest::itad::read",
    ];
    let mut long = Vec::new();
    for (module, text) in modules() {
        let lines: Vec<&str> = text.lines().collect();
        let mut i = 0;
        while i < lines.len() {
            let l = lines[i];
            let trimmed = l.trim_start();
            // macro_rules! bodies are templates, not functions.
            if trimmed.starts_with("macro_rules!") {
                let indent = l.len() - trimmed.len();
                i += 1;
                while i < lines.len() && !(lines[i].len() - lines[i].trim_start().len() == indent && lines[i].trim() == "}") {
                    i += 1;
                }
                continue;
            }
            let is_fn = ["fn ", "pub fn ", "pub(crate) fn ", "pub(super) fn "].iter().any(|p| trimmed.starts_with(p));
            if is_fn {
                let indent = &l[..l.len() - trimmed.len()];
                let name: String = trimmed.split("fn ").nth(1).unwrap().chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
                // The body ends at the first line that is the closing brace at the fn's indent.
                let close = format!("{indent}}}");
                if let Some(end) = (i..lines.len()).find(|&k| lines[k] == close || (k == i && l.trim_end().ends_with('}'))) {
                    let n = end - i + 1;
                    let full = format!("{module}::{name}");
                    if n > 80 && !MAPPINGS.contains(&full.as_str()) {
                        long.push(format!("{full} ({n} lines)"));
                    }
                    i = end;
                }
            }
            i += 1;
        }
    }
    assert!(long.is_empty(), "functions over 80 lines: {long:?}");
}

/// Every source kind has a reader in the one table (the mapping reads through its file), and
/// every one is named where users look: README's `--source` list and docs/ingest.md.
#[test]
fn every_source_kind_is_in_the_reader_table_and_the_docs() {
    use clap::ValueEnum;
    use evident::ingest::{SourceKind, readers::READERS};
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let ingest_doc = std::fs::read_to_string(root().join("docs/ingest.md")).unwrap();
    for k in SourceKind::value_variants() {
        if *k != SourceKind::Mapping {
            assert!(READERS.iter().any(|r| r.kind == *k), "{} has no reader", k.as_str());
        }
        let name = format!("`{}`", k.as_str());
        assert!(readme.contains(&name), "README does not name {name}");
        assert!(ingest_doc.contains(k.as_str()), "docs/ingest.md does not name {}", k.as_str());
    }
}
