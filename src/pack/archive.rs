//! One deterministic archive of a pack directory (sorted entries, fixed mtime, owner and mode),
//! and the safety pass a verifier runs over an archive before it reads any content: duplicate
//! entries, `..` or absolute paths and links are refused.

use super::Error;
use crate::ledger::Scope;
use std::path::{Component, Path, PathBuf};

/// Archive formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Kind {
    /// POSIX ustar, one top-level directory named after the pack.
    Tar,
}

/// Every regular file under `dir`, as `/`-separated relative paths, sorted by bytes.
pub fn walk(dir: &Path) -> std::io::Result<Vec<String>> {
    fn go(root: &Path, dir: &Path, out: &mut Vec<String>) -> std::io::Result<()> {
        for e in std::fs::read_dir(dir)? {
            let e = e?;
            let t = e.file_type()?;
            let p = e.path();
            if t.is_dir() {
                go(root, &p, out)?;
            } else {
                let rel = p.strip_prefix(root).expect("under root");
                out.push(rel.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect::<Vec<_>>().join("/"));
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    go(dir, dir, &mut out)?;
    out.sort();
    Ok(out)
}

/// Writes `<dir>.tar` next to the pack directory.
pub fn write(dir: &Path, kind: Kind, scope: &Scope) -> Result<PathBuf, Error> {
    let Kind::Tar = kind;
    let name = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "pack".into());
    let out = dir.with_file_name(format!("{name}.tar"));
    let io = |p: &Path| {
        let p = p.to_path_buf();
        move |source| Error::Io { path: p, err: source }
    };
    let file = std::fs::File::create_new(&out).map_err(|e| if e.kind() == std::io::ErrorKind::AlreadyExists { Error::Exists(out.clone()) } else { Error::Io { path: out.clone(), err: e } })?;
    // The archive's times are the scope's end, never the clock.
    let mtime = scope.end().and_hms_opt(0, 0, 0).expect("midnight").and_utc().timestamp().max(0) as u64;
    let mut tar = tar::Builder::new(std::io::BufWriter::with_capacity(1 << 20, file));
    for rel in walk(dir).map_err(io(dir))? {
        let path = dir.join(&rel);
        let f = std::fs::File::open(&path).map_err(io(&path))?;
        let size = f.metadata().map_err(io(&path))?.len();
        let mut h = tar::Header::new_ustar();
        h.set_size(size);
        h.set_mode(0o644);
        h.set_mtime(mtime);
        h.set_uid(0);
        h.set_gid(0);
        h.set_entry_type(tar::EntryType::Regular);
        tar.append_data(&mut h, format!("{name}/{rel}"), f).map_err(io(&path))?;
    }
    tar.into_inner().and_then(|mut w| std::io::Write::flush(&mut w)).map_err(io(&out))?;
    Ok(out)
}

/// A file inside an archive: its pack path and where its bytes are.
#[derive(Debug, Clone)]
pub struct Member {
    pub path: String,
    pub offset: u64,
    pub size: u64,
}

/// Reads only the headers and refuses anything unsafe; `Err` carries what and where.
pub fn members(path: &Path) -> Result<Result<Vec<Member>, String>, std::io::Error> {
    let file = std::fs::File::open(path)?;
    let mut ar = tar::Archive::new(file);
    let mut top: Option<String> = None;
    let mut out: Vec<Member> = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    let entries = match ar.entries_with_seek() {
        Ok(e) => e,
        Err(e) => return Ok(Err(format!("not a tar archive: {e}"))),
    };
    for e in entries {
        let e = match e {
            Ok(e) => e,
            Err(err) => return Ok(Err(format!("damaged archive: {err}"))),
        };
        let raw = String::from_utf8_lossy(&e.path_bytes()).into_owned();
        let kind = e.header().entry_type();
        let p = PathBuf::from(&raw);
        let mut parts = Vec::new();
        for c in p.components() {
            match c {
                Component::Normal(s) => parts.push(s.to_string_lossy().into_owned()),
                Component::CurDir => {}
                Component::ParentDir => return Ok(Err(format!("entry '{raw}' climbs out with '..'"))),
                Component::RootDir | Component::Prefix(_) => return Ok(Err(format!("entry '{raw}' has an absolute path"))),
            }
        }
        if kind.is_symlink() || kind.is_hard_link() {
            return Ok(Err(format!("entry '{raw}' is a link")));
        }
        if !(kind.is_file() || kind.is_dir()) {
            return Ok(Err(format!("entry '{raw}' is not a regular file or directory")));
        }
        let Some(first) = parts.first().cloned() else { return Ok(Err(format!("entry '{raw}' has an empty path"))) };
        match &top {
            None => top = Some(first),
            Some(t) if *t != first => return Ok(Err(format!("entry '{raw}' is outside the pack directory '{t}/'"))),
            _ => {}
        }
        if kind.is_dir() {
            continue;
        }
        if parts.len() < 2 {
            return Ok(Err(format!("entry '{raw}' is outside the pack directory")));
        }
        let rel = parts[1..].join("/");
        if !seen.insert(rel.clone()) {
            return Ok(Err(format!("entry '{raw}' appears twice")));
        }
        out.push(Member { path: rel, offset: e.raw_file_position(), size: e.size() });
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(Ok(out))
}
