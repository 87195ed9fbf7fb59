//! Typst, in process, for PDFs: a World that holds one template compiled into the binary, the
//! embedded fonts, and data files handed over as bytes. It reads nothing from disk or network,
//! so user data can only ever be data (`json("/data.json")`), never markup.

use std::sync::OnceLock;
use typst::diag::{FileError, FileResult};
use typst::foundations::{Bytes, Datetime, Smart};
use typst::syntax::{FileId, RootedPath, Source, VirtualPath, VirtualRoot};
use typst::text::{Font, FontBook};
use typst::utils::LazyHash;
use typst::{Library, LibraryExt, World};
use typst_layout::PagedDocument;

/// DejaVu Sans without its hinting, as the current certificate template sets it
/// (templates/fonts/README.md says how it was made from the `dejavu` crate's copy).
pub(crate) const SANS_UNHINTED: &[u8] = include_bytes!("../templates/fonts/DejaVuSans-Unhinted.ttf");

/// The fonts compiled into the binary, loaded once per process: typst-kit's embedded set, then
/// DejaVu Sans (a proportional TrueType face: subsetting it costs what the monospaced one does,
/// a quarter of the CFF serifs') as earlier templates set it, and unhinted as the current one
/// does. Added last, so the earlier fonts keep their places.
fn fonts() -> &'static typst_kit::fonts::FontStore {
    static FONTS: OnceLock<typst_kit::fonts::FontStore> = OnceLock::new();
    FONTS.get_or_init(|| {
        let mut store = typst_kit::fonts::FontStore::new();
        store.extend(typst_kit::fonts::embedded());
        for bytes in [dejavu::sans::regular(), SANS_UNHINTED] {
            store.extend(Font::iter(Bytes::new(bytes)).map(|f| {
                let info = f.info().clone();
                (f, info)
            }));
        }
        store
    })
}

/// The advance of `c` in DejaVu Sans, in thousandths of an em rounded up; `None` if the face
/// lacks it. For laying text out before typst does: a template given lines that fit, at fixed
/// heights, never measures a row twice. The same bytes the current template renders with (the
/// hinted face has the same advances).
pub fn sans_advance(c: char) -> Option<u32> {
    static FACE: OnceLock<Option<ttf_parser::Face<'static>>> = OnceLock::new();
    // Latin-1 looked up once: nearly every character of a certificate is, and a cmap lookup for
    // each was a fiftieth of a certificate's rendering (callgrind).
    static LATIN1: OnceLock<Vec<Option<u32>>> = OnceLock::new();
    let face = || FACE.get_or_init(|| ttf_parser::Face::parse(SANS_UNHINTED, 0).ok()).as_ref();
    let lookup = |c: char| {
        let face = face()?;
        let units = u32::from(face.glyph_hor_advance(face.glyph_index(c)?)?);
        Some((units * 1000).div_ceil(u32::from(face.units_per_em()).max(1)))
    };
    match LATIN1.get_or_init(|| (0..=255u8).map(|b| lookup(char::from(b))).collect()).get(c as usize) {
        Some(known) => *known,
        None => lookup(c),
    }
}

fn library() -> &'static LazyHash<Library> {
    static LIB: OnceLock<LazyHash<Library>> = OnceLock::new();
    LIB.get_or_init(|| LazyHash::new(<Library as LibraryExt>::default()))
}

/// The parsed template, kept across renders: parsing and hashing the same source again for
/// every certificate cost 3 % of the rendering (callgrind).
fn source(template: &str) -> Source {
    static SOURCES: std::sync::Mutex<Vec<Source>> = std::sync::Mutex::new(Vec::new());
    let mut cached = SOURCES.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(s) = cached.iter().find(|s| s.text() == template) {
        return s.clone();
    }
    let s = Source::new(file_id("/main.typ"), template.to_string());
    cached.push(s.clone());
    s
}

fn file_id(path: &str) -> FileId {
    RootedPath::new(VirtualRoot::Project, VirtualPath::new(path).expect("a fixed, valid path")).intern()
}

/// One document to render: the template source and the files it may read.
struct Doc {
    main: Source,
    files: Vec<(FileId, Bytes)>,
    today: Datetime,
}

impl World for Doc {
    fn library(&self) -> &LazyHash<Library> {
        library()
    }
    fn book(&self) -> &LazyHash<FontBook> {
        fonts().book()
    }
    fn main(&self) -> FileId {
        self.main.id()
    }
    fn source(&self, id: FileId) -> FileResult<Source> {
        if id == self.main.id() { Ok(self.main.clone()) } else { Err(FileError::NotFound(std::path::PathBuf::from("only the template is source"))) }
    }
    fn file(&self, id: FileId) -> FileResult<Bytes> {
        self.files
            .iter()
            .find(|(f, _)| *f == id)
            .map(|(_, b)| b.clone())
            .ok_or_else(|| FileError::NotFound(std::path::PathBuf::from("not provided to the template")))
    }
    fn font(&self, index: usize) -> Option<Font> {
        fonts().font(index)
    }
    fn today(&self, _offset: Option<typst::foundations::Duration>) -> Option<Datetime> {
        Some(self.today)
    }
}

/// Rendering failed: the template or its data did not compile.
#[derive(Debug, thiserror::Error)]
#[error("rendering the PDF failed: {0}")]
pub struct Error(pub String);

/// What to render.
pub struct Request<'a> {
    pub template: &'a str,
    /// `(path, bytes)` pairs, e.g. `("/data.json", …)`.
    pub files: Vec<(&'a str, Vec<u8>)>,
    /// The PDF's document id (stable: the certificate id).
    pub ident: &'a str,
    /// The PDF's creation time, from the record (never the clock).
    pub date: chrono::NaiveDateTime,
    /// What made it (the PDF's Creator): the renderer, so a later evident can tell whose
    /// rendering a PDF is.
    pub creator: &'a str,
    /// Write PDF/A-3b (archival; attachments allowed, as the associated files).
    pub archival: bool,
}

/// Renders a PDF. Same request, same bytes.
pub fn pdf(req: &Request) -> Result<Vec<u8>, Error> {
    // On the one thread of a rayon pool of this thread's own: typst and krilla hand work to
    // rayon, which there runs in place, where from any other thread it is handed to the global
    // pool, waited for, and that pool's idle threads spin after it (rendering 10,000 took a
    // tenth longer). Its stack is a main thread's and more: evaluation and layout both run on it.
    thread_local! {
        static POOL: Option<rayon::ThreadPool> = rayon::ThreadPoolBuilder::new().num_threads(1).stack_size(16 << 20).build().ok();
    }
    POOL.with(|pool| match pool {
        Some(pool) => pool.install(|| pdf_here(req)),
        None => pdf_here(req),
    })
}

fn pdf_here(req: &Request) -> Result<Vec<u8>, Error> {
    use chrono::{Datelike, Timelike};
    let d = req.date;
    let when = Datetime::from_ymd_hms(d.year(), d.month() as u8, d.day() as u8, d.hour() as u8, d.minute() as u8, d.second() as u8)
        .ok_or_else(|| Error(format!("date {d} out of range")))?;
    let doc = Doc {
        main: source(req.template),
        files: req.files.iter().map(|(p, b)| (file_id(p), Bytes::new(b.clone()))).collect(),
        today: Datetime::from_ymd(d.year(), d.month() as u8, d.day() as u8).expect("valid date"),
    };
    let compiled = typst::compile::<PagedDocument>(&doc);
    let document = compiled.output.map_err(|errs| Error(errs.iter().map(|e| e.message.to_string()).collect::<Vec<_>>().join("; ")))?;
    let opts = typst_pdf::PdfOptions {
        ident: Smart::Custom(req.ident.to_string()),
        creator: Smart::Custom(Some(req.creator.into())),
        timestamp: Some(typst_pdf::Timestamp::new_utc(when)),
        // Not "pretty": that leaves content streams uncompressed but hex-encodes every binary
        // stream (fonts, image, attachment) one formatted byte at a time, which cost more than
        // deflating the page (callgrind: 26.9 against 27.8 million instructions a certificate).
        pretty: false,
        // No tag tree: a certificate is one table read by people and by `evident verify`;
        // building the tags was 4 % of the time (perf). The text stays selectable.
        tagged: false,
        standards: if req.archival {
            typst_pdf::PdfStandards::new(&[typst_pdf::PdfStandard::A_3b]).map_err(|e| Error(format!("PDF/A-3b: {e:?}")))?
        } else {
            typst_pdf::PdfStandards::default()
        },
        ..Default::default()
    };
    let out = typst_pdf::pdf(&document, &opts).map_err(|errs| Error(errs.iter().map(|e| e.message.to_string()).collect::<Vec<_>>().join("; ")));
    // typst memoises every compilation; a batch of thousands would keep them all. Results not
    // reused within the last few renders (each certificate's own data) are dropped.
    typst::comemo::evict(4);
    out
}
