//! `evident diff OLDER NEWER`: what moved between two packs — controls whose status changed,
//! and items that became or stopped being exceptions. Reads the packs' results/ only (directory
//! or archive); it does not verify them (`evident verify` does).

use serde::Serialize;
use std::collections::BTreeMap;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{path}: {message}")]
    Pack { path: String, message: String },
}

/// One control in both packs.
#[derive(Debug, Serialize)]
pub struct ControlChange {
    pub id: String,
    pub older: Option<String>,
    pub newer: Option<String>,
    pub older_failed: u64,
    pub newer_failed: u64,
    pub older_population: u64,
    pub newer_population: u64,
}

/// An item that is an exception (failed or excepted) in one pack and not in the other.
#[derive(Debug, Serialize)]
pub struct ItemChange {
    pub control: String,
    pub item: String,
    pub asset_tag: Option<String>,
    pub reason: String,
}

#[derive(Debug, Serialize)]
pub struct Diff {
    pub older: String,
    pub newer: String,
    /// Controls whose status changed (or that exist in one pack only).
    pub status_changed: Vec<ControlChange>,
    /// Controls with the same status but another number of failures.
    pub counts_changed: Vec<ControlChange>,
    pub became_exceptions: Vec<ItemChange>,
    pub stopped_being_exceptions: Vec<ItemChange>,
}

/// A pack to read from: a directory, or an archive whose members are listed once.
enum Pack<'a> {
    Dir(&'a Path),
    Archive { path: &'a Path, members: Vec<crate::pack::archive::Member> },
}

impl<'a> Pack<'a> {
    fn open(path: &'a Path) -> Result<Pack<'a>, Error> {
        if path.is_dir() {
            return Ok(Pack::Dir(path));
        }
        let err = |message: String| Error::Pack { path: path.display().to_string(), message };
        let members = crate::pack::archive::members(path).map_err(|e| err(e.to_string()))?.map_err(err)?;
        Ok(Pack::Archive { path, members })
    }

    fn path(&self) -> &Path {
        match self {
            Pack::Dir(p) | Pack::Archive { path: p, .. } => p,
        }
    }

    /// One file's bytes, or None when the pack has no such file.
    fn read(&self, rel: &str) -> Result<Option<Vec<u8>>, Error> {
        let err = |message: String| Error::Pack { path: self.path().display().to_string(), message };
        match self {
            Pack::Dir(dir) => match std::fs::read(dir.join(rel)) {
                Ok(b) => Ok(Some(b)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(err(format!("{rel}: {e}"))),
            },
            Pack::Archive { path, members } => {
                let Some(m) = members.iter().find(|m| m.path == rel) else { return Ok(None) };
                let mut f = std::fs::File::open(path).map_err(|e| err(e.to_string()))?;
                f.seek(SeekFrom::Start(m.offset)).map_err(|e| err(e.to_string()))?;
                let mut buf = vec![0; m.size as usize];
                f.read_exact(&mut buf).map_err(|e| err(e.to_string()))?;
                Ok(Some(buf))
            }
        }
    }

    fn json(&self, rel: &str) -> Result<Option<serde_json::Value>, Error> {
        self.read(rel)?
            .map(|b| serde_json::from_slice(&b).map_err(|e| Error::Pack { path: self.path().display().to_string(), message: format!("{rel}: {e}") }))
            .transpose()
    }
}

/// One pack's results: status per control and, per (control, item), the newest non-pass item.
struct Results {
    label: String,
    controls: BTreeMap<String, (String, u64, u64)>,
    exceptions: BTreeMap<(String, String), (Option<String>, String)>,
}

fn results(path: &Path) -> Result<Results, Error> {
    let pack = Pack::open(path)?;
    let ev = pack
        .json("results/evaluation.json")?
        .ok_or_else(|| Error::Pack { path: path.display().to_string(), message: "no results/evaluation.json: not a pack with an evaluation".into() })?;
    let manifest = pack.json("manifest.json")?.unwrap_or_default();
    let scope = &ev["scope"];
    let s = |k: &str| scope[k].as_str().unwrap_or("?").to_string();
    let when = if scope["kind"] == "as_of" { format!("as of {}", s("date")) } else { format!("period {}..{}", s("from"), s("to")) };
    let label = format!("pack seq {} ({when})", manifest["seq"]);
    let mut controls = BTreeMap::new();
    let mut exceptions = BTreeMap::new();
    for c in ev["controls"].as_array().into_iter().flatten() {
        let id = c["id"].as_str().unwrap_or("").to_string();
        controls.insert(id.clone(), (c["status"].as_str().unwrap_or("").to_string(), c["failed"].as_u64().unwrap_or(0), c["population"].as_u64().unwrap_or(0)));
        let Some(detail) = pack.json(&format!("results/controls/{id}.json"))? else { continue };
        // `findings` (packs since the populations moved to their own files), else `items`.
        let findings = if detail["findings"].is_array() { &detail["findings"] } else { &detail["items"] };
        for i in findings.as_array().into_iter().flatten() {
            // Items are sorted by sample date within a control: the last one seen is the newest.
            let key = (id.clone(), i["item"].as_str().unwrap_or("").to_string());
            if i["outcome"] == "pass" {
                exceptions.remove(&key);
            } else {
                exceptions.insert(key, (i["asset_tag"].as_str().map(String::from), i["reason"].as_str().unwrap_or("").to_string()));
            }
        }
    }
    Ok(Results { label, controls, exceptions })
}

pub fn diff(older: &Path, newer: &Path) -> Result<Diff, Error> {
    let (a, b) = (results(older)?, results(newer)?);
    let mut status_changed = Vec::new();
    let mut counts_changed = Vec::new();
    let ids: std::collections::BTreeSet<&String> = a.controls.keys().chain(b.controls.keys()).collect();
    for id in ids {
        let (x, y) = (a.controls.get(id), b.controls.get(id));
        let ch = ControlChange {
            id: id.clone(),
            older: x.map(|v| v.0.clone()),
            newer: y.map(|v| v.0.clone()),
            older_failed: x.map_or(0, |v| v.1),
            newer_failed: y.map_or(0, |v| v.1),
            older_population: x.map_or(0, |v| v.2),
            newer_population: y.map_or(0, |v| v.2),
        };
        if ch.older != ch.newer {
            status_changed.push(ch);
        } else if ch.older_failed != ch.newer_failed {
            counts_changed.push(ch);
        }
    }
    let change = |k: &(String, String), v: &(Option<String>, String)| ItemChange {
        control: k.0.clone(),
        item: k.1.clone(),
        asset_tag: v.0.clone(),
        reason: v.1.clone(),
    };
    let became_exceptions = b.exceptions.iter().filter(|(k, _)| !a.exceptions.contains_key(*k)).map(|(k, v)| change(k, v)).collect();
    let stopped_being_exceptions = a.exceptions.iter().filter(|(k, _)| !b.exceptions.contains_key(*k)).map(|(k, v)| change(k, v)).collect();
    Ok(Diff { older: a.label, newer: b.label, status_changed, counts_changed, became_exceptions, stopped_being_exceptions })
}
