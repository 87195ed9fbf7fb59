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
    /// ZIP, entries stored (not compressed), one top-level directory named after the pack.
    Zip,
}

impl Kind {
    fn ext(self) -> &'static str {
        match self {
            Kind::Tar => "tar",
            Kind::Zip => "zip",
        }
    }
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

/// Every regular file under `dir`, for a verifier: `Ok(Err(why))` if anything below it is not a
/// plain directory or regular file — a symlink at any level (it could point at an identical copy
/// elsewhere, or at /dev/zero), a FIFO (which blocks a reader forever), a socket or a device.
pub fn walk_strict(dir: &Path) -> std::io::Result<Result<Vec<String>, String>> {
    fn go(root: &Path, dir: &Path, out: &mut Vec<String>, depth: usize) -> std::io::Result<Result<(), String>> {
        if depth > 32 {
            return Ok(Err(format!("{} is nested more than 32 directories deep", dir.display())));
        }
        for e in std::fs::read_dir(dir)? {
            let e = e?;
            let p = e.path();
            let rel = p.strip_prefix(root).expect("under root").components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect::<Vec<_>>().join("/");
            let t = std::fs::symlink_metadata(&p)?.file_type();
            if t.is_symlink() {
                return Ok(Err(format!("'{rel}' is a symbolic link")));
            } else if t.is_dir() {
                if let Err(why) = go(root, &p, out, depth + 1)? {
                    return Ok(Err(why));
                }
            } else if t.is_file() {
                out.push(rel);
            } else {
                return Ok(Err(format!("'{rel}' is not a regular file (a FIFO, socket or device)")));
            }
        }
        Ok(Ok(()))
    }
    let mut out = Vec::new();
    if let Err(why) = go(dir, dir, &mut out, 0)? {
        return Ok(Err(why));
    }
    out.sort();
    Ok(Ok(out))
}

/// Opens a file of a directory pack for reading: never through a symbolic link (`O_NOFOLLOW`),
/// never blocking on a FIFO swapped in after the walk (`O_NONBLOCK`), and only if what was
/// opened is a regular file.
pub fn open_regular(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    let f = std::fs::OpenOptions::new().read(true).custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK).open(path)?;
    if !f.metadata()?.is_file() {
        return Err(std::io::Error::other(format!("{} is not a regular file", path.display())));
    }
    Ok(f)
}

/// Writes `<dir>.tar` next to the pack directory.
pub fn write(dir: &Path, kind: Kind, scope: &Scope) -> Result<PathBuf, Error> {
    let name = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "pack".into());
    let out = dir.with_file_name(format!("{name}.{}", kind.ext()));
    let io = |p: &Path| {
        let p = p.to_path_buf();
        move |source| Error::Io { path: p, err: source }
    };
    let file = std::fs::File::create_new(&out).map_err(|e| if e.kind() == std::io::ErrorKind::AlreadyExists { Error::Exists(out.clone()) } else { Error::Io { path: out.clone(), err: e } })?;
    // The archive's times are the scope's end, never the clock.
    let mtime = scope.end().and_hms_opt(0, 0, 0).expect("midnight").and_utc().timestamp().max(0) as u64;
    if kind == Kind::Zip {
        write_zip(dir, &name, file, scope).map_err(|e| Error::Io { path: out.clone(), err: std::io::Error::other(e.to_string()) })?;
        return Ok(out);
    }
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

fn write_zip(dir: &Path, name: &str, file: std::fs::File, scope: &Scope) -> Result<(), Box<dyn std::error::Error>> {
    use chrono::Datelike;
    let end = scope.end();
    // ZIP (DOS) times cannot hold dates before 1980; the scope's end date, clamped there.
    let (y, m, d) = if end.year() < 1980 { (1980, 1, 1) } else { (end.year() as u16, end.month() as u8, end.day() as u8) };
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Stored)
        .last_modified_time(zip::DateTime::from_date_and_time(y, m, d, 0, 0, 0)?)
        .unix_permissions(0o644)
        .large_file(true);
    let mut zw = zip::ZipWriter::new(std::io::BufWriter::with_capacity(1 << 20, file));
    for rel in walk(dir)? {
        zw.start_file(format!("{name}/{rel}"), opts)?;
        std::io::copy(&mut std::fs::File::open(dir.join(&rel))?, &mut zw)?;
    }
    let mut w = zw.finish()?;
    std::io::Write::flush(&mut w)?;
    Ok(())
}

/// A file inside an archive: its pack path and where its bytes are.
#[derive(Debug, Clone)]
pub struct Member {
    pub path: String,
    pub offset: u64,
    pub size: u64,
}

/// Tracks the one top-level directory and duplicate paths while entries are listed.
#[derive(Default)]
struct Listing {
    top: Option<String>,
    seen: std::collections::BTreeSet<String>,
    out: Vec<Member>,
}

impl Listing {
    /// Checks one entry's raw name; returns its pack path (None for the top directory itself).
    fn path(&mut self, raw: &str, is_dir: bool) -> Result<Option<String>, String> {
        let mut parts = Vec::new();
        for c in PathBuf::from(raw).components() {
            match c {
                Component::Normal(s) => parts.push(s.to_string_lossy().into_owned()),
                Component::CurDir => {}
                Component::ParentDir => return Err(format!("entry '{raw}' climbs out with '..'")),
                Component::RootDir | Component::Prefix(_) => return Err(format!("entry '{raw}' has an absolute path")),
            }
        }
        let Some(first) = parts.first().cloned() else { return Err(format!("entry '{raw}' has an empty path")) };
        match &self.top {
            None => self.top = Some(first),
            Some(t) if *t != first => return Err(format!("entry '{raw}' is outside the pack directory '{t}/'")),
            _ => {}
        }
        if is_dir {
            return Ok(None);
        }
        if parts.len() < 2 {
            return Err(format!("entry '{raw}' is outside the pack directory"));
        }
        let rel = parts[1..].join("/");
        if !self.seen.insert(rel.clone()) {
            return Err(format!("entry '{raw}' appears twice"));
        }
        Ok(Some(rel))
    }

    fn done(mut self) -> Vec<Member> {
        self.out.sort_by(|a, b| a.path.cmp(&b.path));
        self.out
    }
}

/// Reads only the headers (tar) or the central directory (zip) and refuses anything unsafe;
/// the inner `Err` says what and where.
pub fn members(path: &Path) -> Result<Result<Vec<Member>, String>, std::io::Error> {
    let mut magic = [0u8; 4];
    let n = std::io::Read::read(&mut std::fs::File::open(path)?, &mut magic)?;
    if n == 4 && (magic == *b"PK\x03\x04" || magic == *b"PK\x05\x06") {
        return zip_members(path);
    }
    tar_members(path)
}

fn zip_members(path: &Path) -> Result<Result<Vec<Member>, String>, std::io::Error> {
    let mut ar = match zip::ZipArchive::new(std::fs::File::open(path)?) {
        Ok(a) => a,
        Err(e) => return Ok(Err(format!("not a usable zip archive: {e}"))),
    };
    if let Err(e) = ar.validate_header_consistency() {
        return Ok(Err(format!("zip headers disagree: {e}")));
    }
    let mut list = Listing::default();
    for i in 0..ar.len() {
        let f = match ar.by_index_raw(i) {
            Ok(f) => f,
            Err(e) => return Ok(Err(format!("damaged archive: {e}"))),
        };
        let raw = String::from_utf8_lossy(f.name_raw()).into_owned();
        if f.is_symlink() {
            return Ok(Err(format!("entry '{raw}' is a link")));
        }
        if !f.is_dir() && f.compression() != zip::CompressionMethod::Stored {
            return Ok(Err(format!("entry '{raw}' is compressed; evident packs store entries as they are")));
        }
        let rel = match list.path(&raw, f.is_dir()) {
            Ok(Some(rel)) => rel,
            Ok(None) => continue,
            Err(why) => return Ok(Err(why)),
        };
        let Some(offset) = f.data_start() else { return Ok(Err(format!("entry '{raw}': no data offset"))) };
        list.out.push(Member { path: rel, offset, size: f.size() });
    }
    Ok(Ok(list.done()))
}

fn tar_members(path: &Path) -> Result<Result<Vec<Member>, String>, std::io::Error> {
    let file = std::fs::File::open(path)?;
    let mut ar = tar::Archive::new(file);
    let mut list = Listing::default();
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
        if kind.is_symlink() || kind.is_hard_link() {
            return Ok(Err(format!("entry '{raw}' is a link")));
        }
        if !(kind.is_file() || kind.is_dir()) {
            return Ok(Err(format!("entry '{raw}' is not a regular file or directory")));
        }
        match list.path(&raw, kind.is_dir()) {
            Ok(Some(rel)) => list.out.push(Member { path: rel, offset: e.raw_file_position(), size: e.size() }),
            Ok(None) => {}
            Err(why) => return Ok(Err(why)),
        }
    }
    Ok(Ok(list.done()))
}
