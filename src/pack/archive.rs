//! One deterministic archive of a pack directory (sorted entries, fixed mtime, owner and mode),
//! and the safety pass a verifier runs over an archive before it reads any content: duplicate
//! entries, `..` or absolute paths and links are refused.

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
            let rel =
                p.strip_prefix(root).expect("under root").components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect::<Vec<_>>().join("/");
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

/// The archive's timestamps: the scope's end, never the clock (tar: seconds; zip: a DOS date,
/// clamped to 1980, the earliest it can hold).
fn stamp(scope: &Scope) -> (u64, zip::DateTime) {
    use chrono::Datelike;
    let end = scope.end();
    let unix = end.and_hms_opt(0, 0, 0).expect("midnight").and_utc().timestamp().max(0) as u64;
    let (y, m, d) = if end.year() < 1980 { (1980, 1, 1) } else { (end.year() as u16, end.month() as u8, end.day() as u8) };
    (unix, zip::DateTime::from_date_and_time(y, m, d, 0, 0, 0).expect("a valid date"))
}

/// Writes `<dir>.tar` (or `.zip`) next to the pack directory; an error names the path it is about
/// (an existing archive is never written over: `ErrorKind::AlreadyExists`).
pub fn write(dir: &Path, kind: Kind, scope: &Scope) -> Result<PathBuf, (PathBuf, std::io::Error)> {
    let name = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "pack".into());
    let out = dir.with_file_name(format!("{name}.{}", kind.ext()));
    let file = std::fs::File::create_new(&out).map_err(|e| (out.clone(), e))?;
    let files = walk(dir).map_err(|e| (dir.to_path_buf(), e))?;
    let open = |rel: &str| -> std::io::Result<(u64, Box<dyn std::io::Read>)> {
        let f = std::fs::File::open(dir.join(rel))?;
        Ok((f.metadata()?.len(), Box::new(f)))
    };
    let w = std::io::BufWriter::with_capacity(1 << 20, file);
    let done = match kind {
        Kind::Tar => write_tar(w, &name, &files, scope, open),
        Kind::Zip => write_zip(w, &name, &files, scope, open),
    };
    done.map_err(|e| (out.clone(), e))?;
    Ok(out)
}

/// The one tar evident writes of these files: POSIX ustar headers (a GNU long-name entry where a
/// path does not fit), mode 0644, owner 0, the scope's end as mtime, entries in byte order of
/// their paths under one top directory, no directory entries, two zero blocks at the end.
fn write_tar<'f, W: std::io::Write>(
    w: W,
    name: &str,
    files: &[String],
    scope: &Scope,
    open: impl Fn(&str) -> std::io::Result<(u64, Box<dyn std::io::Read + 'f>)>,
) -> std::io::Result<()> {
    let (mtime, _) = stamp(scope);
    let mut tar = tar::Builder::new(w);
    for rel in files {
        let (size, data) = open(rel)?;
        let mut h = tar::Header::new_ustar();
        h.set_size(size);
        h.set_mode(0o644);
        h.set_mtime(mtime);
        h.set_uid(0);
        h.set_gid(0);
        h.set_entry_type(tar::EntryType::Regular);
        tar.append_data(&mut h, format!("{name}/{rel}"), std::io::Read::take(data, size))?;
    }
    tar.into_inner().and_then(|mut w| w.flush())
}

/// The one zip evident writes of these files: entries stored (not compressed), zip64 fields, the
/// scope's end as their date, mode 0644, in byte order of their paths, no directory entries, no
/// comment.
fn write_zip<'f, W: std::io::Write + std::io::Seek>(
    w: W,
    name: &str,
    files: &[String],
    scope: &Scope,
    open: impl Fn(&str) -> std::io::Result<(u64, Box<dyn std::io::Read + 'f>)>,
) -> std::io::Result<()> {
    let (_, date) = stamp(scope);
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Stored)
        .last_modified_time(date)
        .unix_permissions(0o644)
        .large_file(true);
    let mut zw = zip::ZipWriter::new(w);
    for rel in files {
        let (size, data) = open(rel)?;
        zw.start_file(format!("{name}/{rel}"), opts).map_err(std::io::Error::other)?;
        std::io::copy(&mut std::io::Read::take(data, size), &mut zw)?;
    }
    let mut w = zw.finish().map_err(std::io::Error::other)?;
    w.flush()
}

/// Whether the archive at `path` is byte for byte the archive evident writes of its own members
/// for this scope (`write_tar`, `write_zip`): every header, every offset, the padding, the end,
/// the zip CRCs and sizes. The canonical archive is written again, member data read from the
/// archive, into a writer that compares instead of writing: memory stays small whatever the size.
/// An archive that passes extracts, with any tool, to exactly the files that were hashed.
pub fn canonical(path: &Path, scope: &Scope, members: &[Member]) -> std::io::Result<Result<(), String>> {
    let file = std::fs::File::open(path)?;
    let len = file.metadata()?.len();
    let top = match members.first() {
        Some(m) => m.top.clone(),
        None => return Ok(Err("the archive holds no file".into())),
    };
    let kind = if is_zip(path)? { Kind::Zip } else { Kind::Tar };
    let files: Vec<String> = members.iter().map(|m| m.path.clone()).collect();
    let by_path: std::collections::BTreeMap<&str, &Member> = members.iter().map(|m| (m.path.as_str(), m)).collect();
    let open = |rel: &str| -> std::io::Result<(u64, Box<dyn std::io::Read + '_>)> {
        let m = by_path[rel];
        Ok((m.size, Box::new(At { file: &file, pos: m.offset, end: m.offset + m.size })))
    };
    let mut cmp = Compare { file: &file, len, pos: 0, end: 0, bad: std::collections::BTreeMap::new() };
    let written = {
        let w = std::io::BufWriter::with_capacity(1 << 20, &mut cmp);
        match kind {
            Kind::Tar => write_tar(w, &top, &files, scope, open),
            Kind::Zip => write_zip(w, &top, &files, scope, open),
        }
    };
    if let Err(e) = written {
        return Ok(Err(format!("it cannot be rebuilt from its members: {e}")));
    }
    if let Some((&from, &to)) = cmp.bad.iter().next() {
        return Ok(Err(format!(
            "bytes {from}..{to} differ from the archive evident writes of these {} files (headers, padding, CRCs or sizes)",
            members.len()
        )));
    }
    if cmp.end != len {
        return Ok(Err(format!(
            "the archive is {len} bytes; the one evident writes of these {} files is {} bytes (something is hidden after or between them)",
            members.len(),
            cmp.end
        )));
    }
    Ok(Ok(()))
}

/// Reads `[pos, end)` of a file without moving a shared cursor.
struct At<'a> {
    file: &'a std::fs::File,
    pos: u64,
    end: u64,
}

impl std::io::Read for At<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        use std::os::unix::fs::FileExt;
        let want = buf.len().min((self.end - self.pos) as usize);
        if want == 0 {
            return Ok(0);
        }
        let n = self.file.read_at(&mut buf[..want], self.pos)?;
        if n == 0 {
            return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "the archive ends inside a member"));
        }
        self.pos += n as u64;
        Ok(n)
    }
}

/// A writer that compares what is written with a file: ranges that differ are remembered until
/// they are written again (the zip writer seeks back to patch each entry's CRC and sizes), so at
/// the end `bad` holds exactly the bytes where the two disagree.
struct Compare<'a> {
    file: &'a std::fs::File,
    len: u64,
    pos: u64,
    /// The furthest byte written: the length of what was written.
    end: u64,
    bad: std::collections::BTreeMap<u64, u64>,
}

impl Compare<'_> {
    fn forget(&mut self, from: u64, to: u64) {
        let hit: Vec<(u64, u64)> = self.bad.range(..to).filter(|(_, e)| **e > from).map(|(s, e)| (*s, *e)).collect();
        for (s, e) in hit {
            self.bad.remove(&s);
            if s < from {
                self.bad.insert(s, from);
            }
            if e > to {
                self.bad.insert(to, e);
            }
        }
    }
}

impl std::io::Write for Compare<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        use std::os::unix::fs::FileExt;
        let (from, to) = (self.pos, self.pos + buf.len() as u64);
        self.forget(from, to);
        let mut have = vec![0u8; buf.len()];
        let avail = self.len.saturating_sub(from).min(buf.len() as u64) as usize;
        if avail > 0 {
            self.file.read_exact_at(&mut have[..avail], from)?;
        }
        if avail < buf.len() || have != buf {
            // Record each differing run (beyond the file's end, everything differs).
            let mut i = 0;
            while i < buf.len() {
                if i < avail && have[i] == buf[i] {
                    i += 1;
                    continue;
                }
                let start = i;
                while i < buf.len() && !(i < avail && have[i] == buf[i]) {
                    i += 1;
                }
                self.bad.insert(from + start as u64, from + i as u64);
            }
            if self.bad.len() > 4096 {
                return Err(std::io::Error::other("the archive differs from the canonical one in too many places"));
            }
        }
        self.pos = to;
        self.end = self.end.max(to);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl std::io::Seek for Compare<'_> {
    fn seek(&mut self, to: std::io::SeekFrom) -> std::io::Result<u64> {
        let base = |b: u64, d: i64| b.checked_add_signed(d).ok_or_else(|| std::io::Error::other("seek out of range"));
        self.pos = match to {
            std::io::SeekFrom::Start(p) => p,
            std::io::SeekFrom::Current(d) => base(self.pos, d)?,
            std::io::SeekFrom::End(d) => base(self.end, d)?,
        };
        Ok(self.pos)
    }
}

fn is_zip(path: &Path) -> std::io::Result<bool> {
    let mut magic = [0u8; 4];
    let n = std::io::Read::read(&mut std::fs::File::open(path)?, &mut magic)?;
    Ok(n == 4 && (magic == *b"PK\x03\x04" || magic == *b"PK\x05\x06"))
}

/// A file inside an archive: its pack path and where its bytes are.
#[derive(Debug, Clone)]
pub struct Member {
    pub path: String,
    pub offset: u64,
    pub size: u64,
    /// The archive's one top directory (the pack's name).
    pub top: String,
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
    if is_zip(path)? {
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
        list.out.push(Member { path: rel, offset, size: f.size(), top: list.top.clone().unwrap_or_default() });
    }
    Ok(Ok(list.done()))
}

/// Lists a tar by reading its 512-byte headers only, accepting just what evident writes:
/// regular files (ustar, or after one GNU long-name entry of at most 4 KiB). Every size and
/// offset is checked against the file's length before anything is read, so a forged header
/// cannot make the lister read far or long. `canonical` then checks every byte.
fn tar_members(path: &Path) -> Result<Result<Vec<Member>, String>, std::io::Error> {
    use std::os::unix::fs::FileExt;
    let file = std::fs::File::open(path)?;
    let len = file.metadata()?.len();
    let mut list = Listing::default();
    let mut pos = 0u64;
    let mut long_name: Option<Vec<u8>> = None;
    let mut block = [0u8; 512];
    loop {
        if pos + 512 > len {
            return Ok(Err(format!("not a tar archive, or it ends inside a header at byte {pos}")));
        }
        file.read_exact_at(&mut block, pos)?;
        if block.iter().all(|b| *b == 0) {
            break;
        }
        let h = tar::Header::from_byte_slice(&block);
        let size = match h.entry_size() {
            Ok(s) => s,
            Err(e) => return Ok(Err(format!("header at byte {pos}: {e}"))),
        };
        let data = pos + 512;
        let next = size.checked_add(511).map(|s| s / 512 * 512).and_then(|s| data.checked_add(s));
        let Some(next) = next.filter(|n| *n <= len) else {
            return Ok(Err(format!("header at byte {pos} declares {size} bytes, past the end of the archive")));
        };
        let kind = h.entry_type();
        if kind == tar::EntryType::GNULongName {
            if size > 4096 || long_name.is_some() {
                return Ok(Err(format!("long-name entry at byte {pos} is not one evident writes")));
            }
            let mut name = vec![0u8; size as usize];
            file.read_exact_at(&mut name, data)?;
            while name.last() == Some(&0) {
                name.pop();
            }
            long_name = Some(name);
            pos = next;
            continue;
        }
        let raw_bytes = match long_name.take() {
            Some(n) => n,
            None => h.path_bytes().into_owned(),
        };
        let raw = String::from_utf8_lossy(&raw_bytes).into_owned();
        if kind.is_symlink() || kind.is_hard_link() {
            return Ok(Err(format!("entry '{raw}' is a link")));
        }
        if !kind.is_file() {
            return Ok(Err(format!("entry '{raw}' is not a regular file (evident writes no directory, link or device entries)")));
        }
        match list.path(&raw, false) {
            Ok(Some(rel)) => list.out.push(Member { path: rel, offset: data, size, top: list.top.clone().unwrap_or_default() }),
            Ok(None) => {}
            Err(why) => return Ok(Err(why)),
        }
        pos = next;
    }
    Ok(Ok(list.done()))
}
