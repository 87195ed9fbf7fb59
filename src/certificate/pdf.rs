//! The PDF of a certificate: the typst template in templates/, compiled in, fed only JSON; a QR
//! code of the record hash and key ids; the signed JSON attached. And the way back: the attached
//! JSON read out of a PDF for `verify`.

use super::record::Certificate;

const TEMPLATE: &str = include_str!("../../templates/certificate.typ");

/// The typst release the certificates are rendered with: Cargo.toml pins it exactly (a test
/// checks), because a PDF verifies only against the renderer that made it.
pub const TYPST: &str = "0.15.1";

/// The renderer, as each PDF names it (its Creator): evident's version, typst's, and the
/// template's SHA-256. `verify` says so when a PDF was made by another.
pub fn renderer() -> &'static str {
    static R: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    R.get_or_init(|| {
        let t = layout_sha(TEMPLATE, Layout::CURRENT);
        format!("evident {} (typst {TYPST}, certificate template sha256 {}, PDF/A-3b)", env!("CARGO_PKG_VERSION"), &t[..16])
    })
}

/// The renderer a PDF names (its XMP CreatorTool), if any.
pub fn renderer_of(pdf: &[u8]) -> Option<String> {
    const OPEN: &[u8] = b"<xmp:CreatorTool>";
    let start = find(pdf, OPEN)? + OPEN.len();
    let len = find(&pdf[start..(start + 512).min(pdf.len())], b"</xmp:CreatorTool>")?;
    Some(String::from_utf8_lossy(&pdf[start..start + len]).into_owned())
}

fn or_dash(v: &Option<String>) -> String {
    v.clone().filter(|s| !s.is_empty()).unwrap_or_else(|| "—".into())
}

/// The sections and rows the template prints (labels are Appendix G's).
fn data(c: &Certificate, layout: Layout) -> serde_json::Value {
    let r = &c.record;
    let mut sections = Vec::new();
    sections.push(serde_json::json!({"title": "Certificate", "rows": [
        ["Certificate id", r.id], ["Scope", r.scope], ["Lot", or_dash(&r.lot)], ["Organization", r.organisation],
        ["Sanitized by", r.performer],
        ["Media classification", r.classification], ["Media destination", r.destination],
        ["Record SHA-256", c.record_sha256],
    ]}));
    sections.push(summary(c));
    if r.media.len() > 1 {
        // A lot: every medium on one line, before the detail of each.
        let rows: Vec<serde_json::Value> = r
            .media
            .iter()
            .enumerate()
            .map(|(i, m)| {
                serde_json::json!([
                    format!("Media {}", i + 1),
                    format!("{} · {} · {} · {} · {}", m.serial, m.model, title_case(&m.category), m.result, verification(m))
                ])
            })
            .collect();
        sections.push(serde_json::json!({"title": "Media summary", "rows": rows}));
    }
    if let Some(a) = &r.asset {
        let enc = r
            .encryption_before_disposal
            .as_ref()
            .map_or("—".to_string(), |e| format!("{} ({}, last check-in {})", e.state, e.source, e.last_checkin_at.as_deref().unwrap_or("—")));
        sections.push(serde_json::json!({"title": "Source asset", "rows": [
            ["Asset tag", or_dash(&a.asset_tag)], ["System serial", a.key], ["Name", or_dash(&a.name)], ["Model", or_dash(&a.model)],
            ["Lifecycle", or_dash(&a.lifecycle)], ["Encryption at last check-in", enc], ["Asset records", a.records.join(", ")],
        ]}));
    }
    for (i, m) in r.media.iter().enumerate() {
        sections.push(serde_json::json!({"title": format!("Media {} of {}", i + 1, r.media.len()), "rows": [
            ["Manufacturer", or_dash(&m.manufacturer)], ["Model", m.model], ["Serial number", m.serial], ["Media type", m.media_type],
            ["Capacity (bytes)", m.capacity_bytes.map_or("—".into(), |b| b.to_string())],
            ["Sanitization method (category)", title_case(&m.category)], ["Category reported by the tool", title_case(&m.category_reported)],
            ["Sanitization technique", m.technique], ["Method as recorded", or_dash(&m.method)],
            ["Tool used", format!("{} {}", m.tool, m.tool_version.as_deref().unwrap_or(""))], ["Sanitized by (vendor)", or_dash(&m.vendor)], ["Passes", m.passes.map_or("—".into(), |p| p.to_string())],
            ["Verification method", verification(m)], ["Result", m.result],
            ["Started", or_dash(&m.started_at)], ["Completed", m.completed_at],
            ["Source record", format!("{} {} line {}", m.source.source, m.source.file, m.source.line)],
            ["Source file SHA-256", m.source.file_sha256], ["Source record SHA-256", m.source.record_sha256],
        ]}));
    }
    // Each signer as their signature names them (and `verify` checks against the trust list),
    // never a name from the record: the person who ran the wipe, a vendor's technician, is
    // printed as such above, and is often not who signed.
    let signer = |s: &Option<super::record::Signature>| {
        s.as_ref().map_or("not signed".to_string(), |s| match (&s.name, &s.signed_at) {
            (Some(n), Some(t)) => format!("{n}, {}, on {t}; Ed25519 key id {}", s.role, s.key_id),
            _ => format!("Ed25519 key id {} (public key {}); its holder is named by the trust list", s.key_id, s.public_key),
        })
    };
    sections.push(serde_json::json!({"title": "Signatures", "rows": [
        ["Signed by", signer(&c.performer_signature)],
        ["Verified by", signer(&c.verifier_signature)],
    ]}));
    // Page numbers need a second layout pass (a tenth of the rendering time); a certificate of
    // one medium fits on one page and goes without them, and (layout 4) without the footer, whose
    // id and record hash its Certificate section shows (the footer was 4 % of the rendering).
    let numbered = r.media.len() > 1;
    for section in &mut sections {
        for row in section["rows"].as_array_mut().into_iter().flatten() {
            row[1] = layout.wrap(row[1].as_str().unwrap_or_default()).into();
        }
        if layout == Layout::Placed {
            section["blocks"] = blocks(section["rows"].as_array().map_or(&[][..], Vec::as_slice)).into();
        }
    }
    serde_json::json!({"id": r.id, "organisation": r.organisation, "record_sha256": c.record_sha256, "numbered": numbered, "sections": sections})
}

/// Rows (each `[label, lines]`) in consecutive blocks of at most [`BLOCK_LINES`] lines, each
/// block as its number of lines and two texts of that many lines: the labels (each followed by
/// an empty line for every further line of its value) and the values. A row starts a new block
/// where it would not fit whole; only a row longer than a block is split.
fn blocks(rows: &[serde_json::Value]) -> Vec<serde_json::Value> {
    let mut out: Vec<(usize, Vec<&str>, Vec<&str>)> = Vec::new();
    for row in rows {
        let mut lines: Vec<&str> = row[1].as_array().into_iter().flatten().map(|l| l.as_str().unwrap_or_default()).collect();
        if lines.is_empty() {
            lines.push("");
        }
        if lines.len() <= BLOCK_LINES && out.last().is_some_and(|b| b.0 + lines.len() > BLOCK_LINES) {
            out.push((0, Vec::new(), Vec::new()));
        }
        for (i, line) in lines.into_iter().enumerate() {
            if out.last().is_none_or(|b| b.0 == BLOCK_LINES) {
                out.push((0, Vec::new(), Vec::new()));
            }
            let block = out.last_mut().expect("pushed above");
            block.0 += 1;
            block.1.push(if i == 0 { row[0].as_str().unwrap_or_default() } else { "" });
            block.2.push(line);
        }
    }
    out.into_iter().map(|(n, labels, values)| serde_json::json!({"lines": n, "labels": labels.join("\n"), "values": values.join("\n")})).collect()
}

/// A medium's verification as printed: the method, or that it was not verified.
fn verification(m: &super::record::Media) -> String {
    if super::record::verified(&m.verification, &m.category) { m.verification.clone() } else { format!("{} — NOT VERIFIED", m.verification) }
}

/// What a records manager files by: the outcome, category, technique, verification and date of
/// every medium together (who signed and verified, when, is the Signatures block).
fn summary(c: &Certificate) -> serde_json::Value {
    let r = &c.record;
    let distinct = |f: &dyn Fn(&super::record::Media) -> String| {
        let mut v: Vec<String> = r.media.iter().map(f).collect();
        v.sort();
        v.dedup();
        v.join(", ")
    };
    let ok = r.media.iter().filter(|m| m.result == "success").count();
    serde_json::json!({"title": "Summary", "rows": [
        ["Result", format!("{ok} of {} media sanitized successfully", r.media.len())],
        ["Category", distinct(&|m| title_case(&m.category))],
        ["Technique", distinct(&|m| m.technique.clone())],
        ["Verification", distinct(&verification)],
        ["Date", r.date.clone()],
    ]})
}

/// How the values are broken into lines for a template: each template is written for one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// `evident-certificate-layout/2`: DejaVu Sans Mono at 7.5 pt, 72 cells a line (12.2 cm
    /// holds 76; the margin is for the odd glyph from a fallback font).
    Mono,
    /// `evident-certificate-layout/3`: DejaVu Sans at 7.5 pt, each line measured by the face's
    /// own advances (no kerning) to at most 45 em of the value column's 46.
    Sans,
    /// `evident-certificate-layout/4`: as 3, set in DejaVu Sans Unhinted (the same advances), and
    /// each section's rows also given in blocks of at most [`BLOCK_LINES`] lines, each placed whole.
    Placed,
}

/// The most lines a block of rows holds (layout 4): a page holds about 75, and a page may break
/// only between blocks. A row longer than this goes on over several blocks.
const BLOCK_LINES: usize = 40;

impl Layout {
    const CURRENT: Layout = Layout::Placed;

    /// The version a renderer string's hash covers.
    fn version(self) -> &'static str {
        match self {
            Layout::Mono => "evident-certificate-layout/2",
            Layout::Sans => "evident-certificate-layout/3",
            Layout::Placed => "evident-certificate-layout/4",
        }
    }

    fn wrap(self, text: &str) -> Vec<String> {
        use unicode_width::UnicodeWidthChar;
        match self {
            Layout::Mono => wrap(text, 72, &|c| c.width().unwrap_or(0) as u32),
            // A character DejaVu Sans lacks comes from a fallback font: counted as a whole em.
            Layout::Sans => wrap(text, 45_000, &|c| if c.is_control() { 0 } else { crate::render::sans_advance(c).unwrap_or(1000) }),
            // A value's own line breaks (a CSV field may hold them) print as spaces: a block's
            // labels and values must have the same lines.
            Layout::Placed => {
                let flat: String = text.chars().map(|c| if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}') { ' ' } else { c }).collect();
                wrap(&flat, 45_000, &|c| crate::render::sans_advance(c).unwrap_or(1000))
            }
        }
    }
}

/// Breaks a value into lines at most `width` wide (each character `measure` wide), at spaces
/// where it can and inside a word only when the word alone is wider. The template prints one row
/// line per line, at a fixed height, so no row is measured (auto rows were laid out twice) and
/// none can overflow into the next.
fn wrap(text: &str, width: u32, measure: &dyn Fn(char) -> u32) -> Vec<String> {
    let measured = |s: &str| s.chars().map(measure).sum::<u32>();
    let mut lines = Vec::new();
    let (mut line, mut used) = (String::new(), 0u32);
    for word in text.split(' ') {
        let space = if line.is_empty() { 0 } else { measure(' ') };
        if !line.is_empty() && used + space + measured(word) > width {
            lines.push(std::mem::take(&mut line));
            used = 0;
        }
        if !line.is_empty() {
            line.push(' ');
            used += measure(' ');
        }
        for ch in word.chars() {
            let w = measure(ch);
            if !line.is_empty() && used + w > width {
                lines.push(std::mem::take(&mut line));
                used = 0;
            }
            line.push(ch);
            used += w;
        }
    }
    lines.push(line);
    lines
}

fn title_case(s: &str) -> String {
    let mut c = s.chars();
    c.next().map_or(String::new(), |f| f.to_uppercase().chain(c).collect())
}

/// The QR code as raw 8-bit grey pixels, one per module, with a 4-module quiet zone.
///
/// The mask is fixed rather than chosen by penalty score: any of the eight masks decodes, and
/// scoring all eight took a third of a certificate's rendering time (measured with perf).
fn qr_pixels(text: &str) -> Result<(usize, Vec<u8>), crate::render::Error> {
    use qrcode::{
        EcLevel, bits,
        canvas::{Canvas, MaskPattern},
        ec,
    };
    // A record id too long for a QR code is an error to report, not a panic.
    let bits =
        bits::encode_auto(text.as_bytes(), EcLevel::M).map_err(|e| crate::render::Error(format!("the QR code cannot hold {} bytes: {e:?}", text.len())))?;
    let version = bits.version();
    let data = bits.into_bytes();
    let (encoded, ecc) = ec::construct_codewords(&data, version, EcLevel::M).map_err(|e| crate::render::Error(format!("QR code: {e:?}")))?;
    let mut canvas = Canvas::new(version, EcLevel::M);
    canvas.draw_all_functional_patterns();
    canvas.draw_data(&encoded, &ecc);
    canvas.apply_mask(MaskPattern::Checkerboard);
    let colors = canvas.into_colors();
    let w = version.width().max(0) as usize;
    let quiet = 4;
    let side = w + 2 * quiet;
    let mut px = vec![255u8; side * side];
    for (i, c) in colors.iter().enumerate() {
        if *c == qrcode::Color::Dark {
            px[(i / w + quiet) * side + i % w + quiet] = 0;
        }
    }
    Ok((side, px))
}

/// Renders the certificate's PDF. The same certificate gives the same bytes.
pub fn render(c: &Certificate) -> Result<Vec<u8>, crate::render::Error> {
    render_parts(c, &c.to_bytes())
}

/// A draft of an unsigned certificate, for review before signing: every page says "DRAFT — not
/// signed" (and it never verifies: `verify` renders the signed form and compares).
pub fn render_draft(c: &Certificate) -> Result<Vec<u8>, crate::render::Error> {
    render_with(c, &c.to_bytes(), true)
}

/// The SHA-256 a renderer string names: of the template and the version of the data layout
/// evident fills it with, so a change to either is a new renderer.
fn layout_sha(template: &str, layout: Layout) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::new().chain_update(template.as_bytes()).chain_update([0]).chain_update(layout.version().as_bytes()).finalize())
}

/// Every earlier template, with the data layout it was written for: templates/certificate-archive/
/// `<sha16>.typ`, where sha16 is what its PDFs' renderer names.
const ARCHIVE: &[(&str, &str, Layout)] = &[
    ("c12ba32ed34439e4", include_str!("../../templates/certificate-archive/c12ba32ed34439e4.typ"), Layout::Mono),
    ("fb71044ff4296f12", include_str!("../../templates/certificate-archive/fb71044ff4296f12.typ"), Layout::Sans),
];

/// The template a PDF may have been rendered with: the current one, or an earlier one kept, so a
/// PDF verifies for as long as it is kept, whatever evident version checks it, as long as the
/// typst release is the same (pinned exactly).
fn template_by_sha16(sha16: &str) -> Option<(&'static str, Layout)> {
    static KNOWN: std::sync::OnceLock<Vec<(String, &'static str, Layout)>> = std::sync::OnceLock::new();
    let known = KNOWN.get_or_init(|| {
        std::iter::once((TEMPLATE, Layout::CURRENT)).chain(ARCHIVE.iter().map(|(_, t, l)| (*t, *l))).map(|(t, l)| (layout_sha(t, l), t, l)).collect()
    });
    known.iter().find(|(sha, _, _)| sha16.len() == 16 && sha.starts_with(sha16)).map(|(_, t, l)| (*t, *l))
}

/// Renders a certificate as the renderer a PDF names did, if this build can: the same typst
/// release and a template it keeps. `None`: it cannot (the PDF is then checked as this build's).
pub fn render_as(c: &Certificate, creator: &str) -> Option<Result<Vec<u8>, crate::render::Error>> {
    render_as_attached(c, &c.to_bytes(), creator)
}

/// [`render_as`] with the certificate's file bytes at hand (`verify` has read them, and checked
/// that they are `c.to_bytes()`).
pub fn render_as_attached(c: &Certificate, attached: &[u8], creator: &str) -> Option<Result<Vec<u8>, crate::render::Error>> {
    let rest = creator.strip_prefix("evident ")?;
    let (_, inner) = rest.split_once(" (typst ")?;
    let (typst, tail) = inner.split_once(", certificate template sha256 ")?;
    let tail = tail.strip_suffix(')')?;
    let (sha16, archival) = match tail.strip_suffix(", PDF/A-3b") {
        Some(sha) => (sha, true),
        None => (tail, false),
    };
    if typst != TYPST || creator.len() > 200 || creator.chars().any(char::is_control) {
        return None;
    }
    let (template, layout) = template_by_sha16(sha16)?;
    Some(render_full(c, attached, false, (template, layout), creator, archival))
}

/// Renders the pages of one certificate with any bytes attached. A genuine PDF attaches
/// `c.to_bytes()`: `verify` passes the file it has read and found to be exactly that, rather
/// than encode it again; tests forge a PDF whose attachment was swapped.
pub fn render_parts(c: &Certificate, attached: &[u8]) -> Result<Vec<u8>, crate::render::Error> {
    render_with(c, attached, false)
}

fn render_with(c: &Certificate, attached: &[u8], draft: bool) -> Result<Vec<u8>, crate::render::Error> {
    render_full(c, attached, draft, (TEMPLATE, Layout::CURRENT), renderer(), true)
}

fn render_full(
    c: &Certificate,
    attached: &[u8],
    draft: bool,
    (template, layout): (&str, Layout),
    creator: &str,
    archival: bool,
) -> Result<Vec<u8>, crate::render::Error> {
    let date = chrono::DateTime::parse_from_rfc3339(&c.record.date).map(|d| d.naive_utc()).unwrap_or_default();
    let (side, qr) = qr_pixels(&c.qr_text())?;
    let mut data = data(c, layout);
    data["qr_side"] = side.into();
    if draft {
        data["draft"] = true.into();
    }
    crate::render::pdf(&crate::render::Request {
        template,
        files: vec![("/data.json", serde_json::to_vec(&data).expect("serialises")), ("/certificate.json", attached.to_vec()), ("/qr.raw", qr)],
        ident: &c.record.id,
        date,
        creator,
        archival,
    })
}

/// The attached certificate.json of a PDF evident rendered, if there is exactly one.
pub fn attachment(pdf: &[u8]) -> Result<Vec<u8>, String> {
    // `/EmbeddedFile` as a whole name (not `/EmbeddedFiles` of the catalog's name tree). A
    // genuine certificate has one; a PDF made of thousands is refused before any search, and each
    // search is bounded to the dictionary's neighbourhood, so the work stays linear.
    let pos: Vec<usize> = find_all(pdf, b"/EmbeddedFile").into_iter().filter(|&p| pdf.get(p + 13).is_some_and(|b| !b.is_ascii_alphanumeric())).collect();
    if pos.len() > MAX_EMBEDDED {
        return Err(format!("the PDF names {} embedded files; an evident certificate has one", pos.len()));
    }
    let mut found = Vec::new();
    for p in pos {
        // The stream object's dictionary: back to its "<<", forward to "stream".
        let Some(start) = rfind(&pdf[p.saturating_sub(DICT_REACH)..p], b"<<").map(|i| i + p.saturating_sub(DICT_REACH)) else { continue };
        let Some(s_rel) = find(&pdf[p..(p + DICT_REACH).min(pdf.len())], b"stream") else { continue };
        let dict = &pdf[start..p + s_rel];
        // The dictionary of this one object: no object boundary inside it.
        if find(dict, b"endobj").is_some() || !dict.windows(5).any(|w| w == b"/Type") || find(dict, b"/Length").is_none() {
            continue;
        }
        let len = number_after(dict, b"/Length").ok_or("an embedded file without a /Length")?;
        let mut data_start = p + s_rel + b"stream".len();
        if pdf.get(data_start) == Some(&b'\r') {
            data_start += 1;
        }
        if pdf.get(data_start) == Some(&b'\n') {
            data_start += 1;
        }
        let raw = data_start.checked_add(len).and_then(|end| pdf.get(data_start..end)).ok_or("an embedded file stream runs past the end")?;
        let raw = if find(dict, b"/ASCIIHexDecode").is_some() { hex_decode(raw).ok_or("the attachment's hex encoding is broken")? } else { raw.to_vec() };
        let raw = raw.as_slice();
        // Inflated with a ceiling: a few hundred bytes of zlib can claim gigabytes.
        let bytes = if find(dict, b"/FlateDecode").is_some() {
            miniz_oxide::inflate::decompress_to_vec_zlib_with_limit(raw, ATTACHMENT_MAX)
                .map_err(|e| format!("attachment does not inflate within {ATTACHMENT_MAX} bytes: {:?}", e.status))?
        } else {
            raw.to_vec()
        };
        found.push(bytes);
    }
    match found.len() {
        0 => Err("the PDF has no attached certificate.json".into()),
        1 => Ok(found.remove(0)),
        n => Err(format!("the PDF has {n} attached files; an evident certificate has one")),
    }
}

/// At most this many `/EmbeddedFile` names are looked at (a genuine certificate has one).
const MAX_EMBEDDED: usize = 8;
/// How far from `/EmbeddedFile` its dictionary's `<<` and its `stream` may be.
const DICT_REACH: usize = 4096;
/// The largest attachment read (a lot certificate of many drives is far smaller).
pub const ATTACHMENT_MAX: usize = 8 << 20;

/// ASCIIHexDecode: hex digits, whitespace ignored, `>` ends the data.
fn hex_decode(raw: &[u8]) -> Option<Vec<u8>> {
    let digits: Vec<u8> = raw.iter().copied().take_while(|b| *b != b'>').filter(|b| !b.is_ascii_whitespace()).collect();
    let mut out = Vec::with_capacity(digits.len() / 2 + 1);
    for pair in digits.chunks(2) {
        let hi = (pair[0] as char).to_digit(16)?;
        let lo = pair.get(1).map_or(Some(0), |b| (*b as char).to_digit(16))?;
        out.push((hi * 16 + lo) as u8);
    }
    Some(out)
}

fn find(h: &[u8], n: &[u8]) -> Option<usize> {
    memchr::memmem::find(h, n)
}

fn rfind(h: &[u8], n: &[u8]) -> Option<usize> {
    memchr::memmem::rfind(h, n)
}

fn find_all(h: &[u8], n: &[u8]) -> Vec<usize> {
    memchr::memmem::find_iter(h, n).collect()
}

fn number_after(dict: &[u8], key: &[u8]) -> Option<usize> {
    let i = find(dict, key)? + key.len();
    let rest = &dict[i..];
    let digits: Vec<u8> = rest.iter().skip_while(|b| b.is_ascii_whitespace()).take_while(|b| b.is_ascii_digit()).copied().collect();
    std::str::from_utf8(&digits).ok()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::{Layout, TYPST, renderer, wrap};
    use proptest::prelude::*;

    #[test]
    fn cargo_toml_pins_the_typst_the_pdfs_name() {
        let manifest = include_str!("../../Cargo.toml");
        for krate in ["typst", "typst-kit", "typst-layout", "typst-pdf"] {
            let line = manifest.lines().find(|l| l.starts_with(&format!("{krate} "))).unwrap_or_else(|| panic!("{krate} in Cargo.toml"));
            assert!(line.contains(&format!("\"={TYPST}\"")), "{krate} is pinned to ={TYPST}: {line}");
        }
        assert!(renderer().starts_with(&format!("evident {} (typst {TYPST}, certificate template sha256 ", env!("CARGO_PKG_VERSION"))));
    }

    #[test]
    fn each_archived_template_is_named_by_its_hash_and_the_current_one_is_new() {
        for (sha16, template, layout) in super::ARCHIVE {
            assert_eq!(&super::layout_sha(template, *layout)[..16], *sha16, "templates/certificate-archive/{sha16}.typ");
            assert_ne!(*template, super::TEMPLATE, "{sha16} is the current template: no need to keep it");
        }
    }

    #[test]
    fn wraps_at_spaces_and_splits_only_words_wider_than_a_line() {
        let cells = |c: char| unicode_width::UnicodeWidthChar::width(c).unwrap_or(0) as u32;
        assert_eq!(wrap("Sam Lee: key id f517 (public key 57d8a552)", 20, &cells), ["Sam Lee: key id f517", "(public key", "57d8a552)"]);
        assert_eq!(wrap("abcdefghij", 4, &cells), ["abcd", "efgh", "ij"]);
        assert_eq!(wrap("", 10, &cells), [""]);
        // East Asian wide characters take two cells.
        assert_eq!(wrap("東京都 港区", 6, &cells), ["東京都", "港区"]);
        // The proportional layout measures: narrow letters fit more to a line than wide ones,
        // and a 64-digit hash fits one line of the value column.
        let i = Layout::Sans.wrap(&"i".repeat(300));
        let w = Layout::Sans.wrap(&"W".repeat(300));
        assert!(i.len() < w.len(), "{} lines of i, {} of W", i.len(), w.len());
        assert_eq!(Layout::Sans.wrap("0dcf998ed25d4f21273fb6d70a30d7fe7b0cc8e6ebbd33141cfff83183a61fb6").len(), 1);
    }

    /// The unhinted face is the one made by templates/fonts/make-unhinted.py, and every character
    /// the hinted face has, it has at the same advance: the lines evident measures are the lines
    /// typst sets, whichever of the two a template names.
    #[test]
    fn the_unhinted_face_is_pinned_and_measures_as_the_hinted_one() {
        use sha2::{Digest, Sha256};
        let sha = hex::encode(Sha256::digest(crate::render::SANS_UNHINTED));
        assert_eq!(sha, "4e7b5e9fe5582b4b4094a75ae84da17ca333de1ac4ec4a98f2e48f5342e4a224", "a changed font is a new data layout");
        let (hinted, unhinted) =
            (ttf_parser::Face::parse(dejavu::sans::regular(), 0).unwrap(), ttf_parser::Face::parse(crate::render::SANS_UNHINTED, 0).unwrap());
        let advance = |f: &ttf_parser::Face, c: char| f.glyph_index(c).and_then(|g| f.glyph_hor_advance(g));
        let mut checked = 0;
        // Control characters print as spaces (layout 4); the hinted face maps U+0000 and U+000D.
        for c in (0..0x3_0000).filter_map(char::from_u32).filter(|c| !c.is_control()) {
            assert_eq!(advance(&unhinted, c), advance(&hinted, c), "{c:?}");
            checked += usize::from(advance(&hinted, c).is_some());
            // What evident measures lines with (Latin-1 from a table) is the face's advance.
            let thousandths = advance(&unhinted, c).map(|u| (u32::from(u) * 1000).div_ceil(u32::from(unhinted.units_per_em())));
            assert_eq!(crate::render::sans_advance(c), thousandths, "{c:?}");
        }
        assert!(checked > 5_000, "{checked} characters");
        assert!(unhinted.tables().glyf.is_some() && unhinted.tables().name.is_some_and(|n| n.names.len() < 20), "outlines kept, the long name records gone");
    }

    /// Rows of `(label, lines)` as `data` gives them to `blocks`.
    fn rows(spec: &[(String, usize)]) -> Vec<serde_json::Value> {
        spec.iter().map(|(label, n)| serde_json::json!([label, (0..*n).map(|i| format!("{label} {i}")).collect::<Vec<_>>()])).collect()
    }

    #[test]
    fn a_value_s_own_line_breaks_print_as_spaces() {
        assert_eq!(Layout::Placed.wrap("Samsung\nPM9A1\r\n\u{2028}x\u{85}y"), ["Samsung PM9A1   x y"]);
    }

    proptest! {
        #[test]
        fn blocks_keep_rows_whole_in_order_with_labels_beside_their_values(spec in proptest::collection::vec(("[A-Za-z]{1,12}", 1usize..90), 0..60)) {
            let blocks = super::blocks(&rows(&spec));
            let (mut labels, mut values, mut starts) = (Vec::new(), Vec::new(), Vec::new());
            for b in &blocks {
                let n = b["lines"].as_u64().unwrap() as usize;
                let l: Vec<&str> = b["labels"].as_str().unwrap().split('\n').collect();
                let v: Vec<&str> = b["values"].as_str().unwrap().split('\n').collect();
                prop_assert_eq!((l.len(), v.len()), (n, n));
                prop_assert!(n <= super::BLOCK_LINES, "{n} lines");
                // Each label is on its value's first line.
                for (label, value) in l.iter().zip(&v) {
                    prop_assert!(label.is_empty() || value.starts_with(&format!("{label} 0")), "{label} beside {value}");
                }
                starts.push(values.len());
                labels.extend(l.into_iter().filter(|x| !x.is_empty()).map(String::from));
                values.extend(v.into_iter().map(String::from));
            }
            prop_assert_eq!(labels, spec.iter().map(|(l, _)| l.clone()).collect::<Vec<_>>());
            let all: Vec<String> = spec.iter().flat_map(|(l, n)| (0..*n).map(move |i| format!("{l} {i}"))).collect();
            prop_assert_eq!(&values, &all);
            // A row that fits in a block is never split (no block starts inside it), and a block
            // ends early only because the next row would not fit in it whole.
            let mut at = 0;
            for (_, n) in &spec {
                if *n <= super::BLOCK_LINES {
                    prop_assert!(!starts.iter().any(|s| *s > at && *s < at + n), "a row of {n} lines split");
                }
                at += n;
            }
            for w in blocks.windows(2) {
                let lines = |b: &serde_json::Value| b["lines"].as_u64().unwrap() as usize;
                let next_row = w[1]["values"].as_str().unwrap().split('\n').take_while(|v| v.starts_with(w[1]["labels"].as_str().unwrap().split('\n').next().unwrap())).count();
                prop_assert!(lines(&w[0]) == super::BLOCK_LINES || lines(&w[0]) + next_row > super::BLOCK_LINES);
            }
        }

        #[test]
        fn no_line_is_wider_than_the_column_and_nothing_is_lost(text in "[a-zA-Z0-9 東é—]{0,200}", width in 2u32..80) {
            use unicode_width::UnicodeWidthStr;
            let cells = |c: char| unicode_width::UnicodeWidthChar::width(c).unwrap_or(0) as u32;
            let lines = wrap(&text, width, &cells);
            for l in &lines {
                prop_assert!(l.width() as u32 <= width, "{l:?} is wider than {width}");
            }
            for layout in [Layout::Sans, Layout::Placed] {
                for l in layout.wrap(&text) {
                    let em: u32 = l.chars().map(|c| crate::render::sans_advance(c).unwrap_or(1000)).sum();
                    prop_assert!(em <= 45_000, "{l:?} is {em} thousandths of an em");
                }
            }
            let kept: String = lines.concat().chars().filter(|c| *c != ' ').collect();
            let given: String = text.chars().filter(|c| *c != ' ').collect();
            prop_assert_eq!(kept, given);
        }
    }
}
