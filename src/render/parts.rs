//! A feed as parts (issue 13, "items rendered once"): its head, one fragment per item, its
//! tail. Every part is cut out of what the feed writers write (the `rss`, `atom_syndication`
//! and `serde_json` code of [`super::render`]), so their escaping and layout carry over: a
//! paper's fragment is its item as a one-item feed writes it, the head and tail are what an
//! empty feed writes around its (missing) items, and [`assemble`] puts them together into the
//! same bytes [`super::render`] writes for those papers. A fragment depends on the paper only,
//! so it can be rendered once, when the paper is ingested, for every feed that selects it.
//!
//! Feeds of papers are written this way ([`render_assembled`]): each paper's item is rendered
//! the first time a feed needs it, kept with the paper ([`crate::data::paper::ItemCache`], shared by
//! its clones and carried over a refresh that leaves the paper unchanged), and copied into every
//! later feed that selects it.

use std::sync::Arc;
use std::time::Duration;

use chrono::DateTime;
use flate2::Compression;

use super::meta::{FeedMeta, RenderError};
use super::render;
use crate::common::format::Format;
use crate::common::stitch::{GzipAssembler, Precompressed};
use crate::data::paper::Paper;

/// The metadata of the one-item feeds items are cut from: items do not depend on it.
fn item_meta() -> FeedMeta {
    FeedMeta {
        title: "paperboy".to_owned(),
        self_url: "http://localhost/".to_owned(),
        updated: DateTime::UNIX_EPOCH,
        max_age: Duration::from_secs(60),
        public_url: "http://localhost".to_owned(),
        hub: None,
    }
}

/// `paper`'s item in `format`: kept with the paper once rendered.
pub fn item(format: Format, paper: &Paper) -> Result<&[u8], RenderError> {
    if let Some(kept) = paper.items.get(format) {
        return Ok(kept);
    }
    let rendered = fragment(format, &item_meta(), paper)?;
    Ok(paper.items.keep(format, rendered))
}

/// `paper`'s item in `format`, compressed once ([`Precompressed`]) and kept with the paper.
fn item_compressed(format: Format, paper: &Paper) -> Option<Arc<Precompressed>> {
    if let Some(kept) = paper.items.compressed(format) {
        return Some(kept.clone());
    }
    let item = item(format, paper).ok()?;
    let compressed = Precompressed::new(item, Compression::default()).ok()?;
    Some(paper.items.keep_compressed(format, compressed).clone())
}

/// What a gzip body of an assembled feed is stitched from: its items compressed once, in
/// order, the separator between them, and the length of the feed's tail (which holds no self
/// link, so splicing the self link into the head leaves the items where they were).
#[derive(Debug, Clone)]
pub struct Stitch {
    pub items: Vec<Arc<Precompressed>>,
    pub separator: &'static [u8],
    pub tail_len: usize,
}

impl Stitch {
    /// `body` (an assembled feed, its head spliced) as gzip, its items copied compressed;
    /// `None` when the items are not where they should be (their CRC-32 says so).
    pub fn gzip(&self, body: &[u8], level: Compression) -> Option<Vec<u8>> {
        let count = self.items.len();
        let items_len = self.items.iter().map(|i| i.len() as usize).sum::<usize>()
            + self.separator.len() * count.saturating_sub(1);
        let items_end = body.len().checked_sub(self.tail_len)?;
        let items_start = items_end.checked_sub(items_len)?;
        let mut expected = 0;
        for (n, item) in self.items.iter().enumerate() {
            if n > 0 {
                expected = crate::common::stitch::crc_update(expected, self.separator);
            }
            expected = item.crc_after(expected);
        }
        if expected != crc32fast::hash(&body[items_start..items_end]) {
            return None;
        }
        let mut gzip = GzipAssembler::new(body.len() / 2, level);
        gzip.raw(&body[..items_start]).ok()?;
        for (n, item) in self.items.iter().enumerate() {
            if n > 0 {
                gzip.raw(self.separator).ok()?;
            }
            gzip.precompressed(item);
        }
        gzip.raw(&body[items_end..]).ok()?;
        Some(gzip.finish())
    }
}

/// Like [`render_assembled`], with what its gzip body can be stitched from (`None` when an
/// item could not be compressed; the body is then compressed whole).
pub fn render_stitchable(
    format: Format,
    meta: &FeedMeta,
    papers: &[&Paper],
) -> Result<(Vec<u8>, Option<Stitch>), RenderError> {
    render_stitchable_in(&Frame::new(format, meta)?, papers)
}

/// Like [`render_stitchable`], in `frame` (whose head may have had its self link spliced in
/// already: a feed's tail and items hold none).
pub fn render_stitchable_in(
    frame: &Frame,
    papers: &[&Paper],
) -> Result<(Vec<u8>, Option<Stitch>), RenderError> {
    let format = frame.format;
    let items = papers
        .iter()
        .map(|p| item(format, p))
        .collect::<Result<Vec<&[u8]>, RenderError>>()?;
    let body = assemble(frame, &items);
    let compressed = papers
        .iter()
        .map(|p| item_compressed(format, p))
        .collect::<Option<Vec<_>>>();
    let stitch = compressed.map(|items| Stitch {
        items,
        separator: marks(format).2,
        tail_len: frame.tail.len(),
    });
    Ok((body, stitch))
}

/// The feed of `papers` in `frame` as a gzip member stitched from the items compressed once,
/// without writing the feed whole: with the xxh3-128 hash of the feed's bytes (its ETag),
/// hashed in pieces. `None` when an item could not be compressed (the feed is then written
/// whole and compressed).
pub fn gzip_once(frame: &Frame, papers: &[&Paper]) -> Result<Option<(Vec<u8>, u128)>, RenderError> {
    let format = frame.format;
    let (_, _, separator) = marks(format);
    let mut items = Vec::with_capacity(papers.len());
    for paper in papers {
        let identity = item(format, paper)?;
        let Some(compressed) = item_compressed(format, paper) else {
            return Ok(None);
        };
        items.push((identity, compressed));
    }
    let compressed_len: usize = items.iter().map(|(_, c)| c.compressed().len()).sum();
    let mut gzip = GzipAssembler::new(
        compressed_len + frame.head.len() + frame.tail.len() + 64,
        Compression::fast(),
    );
    let mut hash = xxhash_rust::xxh3::Xxh3::new();
    let io = |e: std::io::Error| RenderError::Xml(format!("compressing a feed: {e}"));
    hash.update(&frame.head);
    gzip.raw(&frame.head).map_err(io)?;
    for (n, (identity, compressed)) in items.iter().enumerate() {
        if n > 0 {
            hash.update(separator);
            gzip.raw(separator).map_err(io)?;
        }
        hash.update(identity);
        gzip.precompressed(compressed);
    }
    hash.update(&frame.tail);
    gzip.raw(&frame.tail).map_err(io)?;
    Ok(Some((gzip.finish(), hash.digest128())))
}

/// The feed of `papers` in `format`: the same bytes as [`render`], from the papers' kept items.
pub fn render_assembled(
    format: Format,
    meta: &FeedMeta,
    papers: &[&Paper],
) -> Result<Vec<u8>, RenderError> {
    let frame = Frame::new(format, meta)?;
    let items = papers
        .iter()
        .map(|p| item(format, p))
        .collect::<Result<Vec<&[u8]>, RenderError>>()?;
    Ok(assemble(&frame, &items))
}

/// Where items start in an empty feed, and what follows the last one.
fn marks(format: Format) -> (&'static [u8], &'static [u8], &'static [u8]) {
    // (the first item's opening, the items' container end, the separator between items)
    match format {
        Format::Rss => (b"<item>", b"</channel></rss>", b""),
        Format::Atom => (b"<entry>", b"</feed>", b""),
        Format::Json => (b"{\"id\":", b"]}", b","),
    }
}

/// A feed's head and tail: what an empty feed of `meta` writes before and after its items.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    pub format: Format,
    pub head: Vec<u8>,
    pub tail: Vec<u8>,
}

impl Frame {
    /// The head and tail of feeds of `meta` in `format`.
    pub fn new(format: Format, meta: &FeedMeta) -> Result<Frame, RenderError> {
        let empty = render(format, meta, &[])?;
        let (_, end, _) = marks(format);
        let at = find_last(&empty, end).ok_or_else(|| shape(format, "no end of items"))?;
        Ok(Frame {
            format,
            head: empty[..at].to_vec(),
            tail: empty[at..].to_vec(),
        })
    }
}

/// A paper's item, as a feed in `format` writes it.
pub fn fragment(format: Format, meta: &FeedMeta, paper: &Paper) -> Result<Vec<u8>, RenderError> {
    let one = render(format, meta, &[paper])?;
    let (open, end, _) = marks(format);
    let from = find_first(&one, open).ok_or_else(|| shape(format, "no item"))?;
    let to = find_last(&one, end).ok_or_else(|| shape(format, "no end of items"))?;
    if from > to {
        return Err(shape(format, "the item ends before it starts"));
    }
    Ok(one[from..to].to_vec())
}

/// The feed of `frame` holding `items` (fragments), in order: head, items, tail.
pub fn assemble(frame: &Frame, items: &[&[u8]]) -> Vec<u8> {
    let (_, _, separator) = marks(frame.format);
    let size = frame.head.len()
        + frame.tail.len()
        + items
            .iter()
            .map(|i| i.len() + separator.len())
            .sum::<usize>();
    let mut out = Vec::with_capacity(size);
    out.extend_from_slice(&frame.head);
    for (n, item) in items.iter().enumerate() {
        if n > 0 {
            out.extend_from_slice(separator);
        }
        out.extend_from_slice(item);
    }
    out.extend_from_slice(&frame.tail);
    out
}

fn shape(format: Format, what: &str) -> RenderError {
    RenderError::Xml(format!(
        "the {} writer's output has an unexpected shape: {what}",
        format.name()
    ))
}

fn find_first(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    memchr::memmem::find(haystack, needle)
}

fn find_last(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    memchr::memmem::rfind(haystack, needle)
}

#[cfg(test)]
mod tests {

    use proptest::prelude::*;

    use super::*;
    use crate::common::stitch::{GzipAssembler, Precompressed};
    use crate::render::content::tests::{bare, markup, meta_with, paper, unicode};
    use flate2::Compression;

    fn meta() -> FeedMeta {
        meta_with(
            "Hugging Face Daily Papers — q: \"flow\" & <more>",
            "http://127.0.0.1:8080/feed?q=%22flow%22&format=atom",
            600,
        )
    }

    /// A paper with any text in its title, abstract, authors and keywords.
    fn any_paper() -> impl Strategy<Value = Paper> {
        (
            "[0-9]{4}\\.[0-9]{5}",
            any::<String>(),
            any::<String>(),
            proptest::collection::vec(any::<String>(), 0..4),
            proptest::collection::vec("[a-z <&>\"']{1,12}", 0..3),
            0u64..500,
        )
            .prop_map(|(id, title, summary, authors, keywords, upvotes)| {
                let authors: Vec<serde_json::Value> = authors
                    .into_iter()
                    .map(|name| serde_json::json!({ "name": name }))
                    .collect();
                paper(serde_json::json!({
                    "paper": {
                        "id": id,
                        "title": format!("T {title}"),
                        "summary": summary,
                        "authors": authors,
                        "ai_keywords": keywords,
                        "upvotes": upvotes,
                    },
                    "numComments": 1
                }))
            })
    }

    fn check(papers: &[Paper]) {
        let meta = meta();
        let refs: Vec<&Paper> = papers.iter().collect();
        for format in Format::ALL {
            let frame = Frame::new(format, &meta).unwrap();
            let fragments: Vec<Vec<u8>> = papers
                .iter()
                .map(|p| fragment(format, &meta, p).unwrap())
                .collect();
            let items: Vec<&[u8]> = fragments.iter().map(Vec::as_slice).collect();
            let assembled = assemble(&frame, &items);
            let rendered = render(format, &meta, &refs).unwrap();
            let kept = render_assembled(format, &meta, &refs).unwrap();
            assert!(kept == rendered, "{}: kept items differ", format.name());
            let (body, stitch) = render_stitchable(format, &meta, &refs).unwrap();
            assert!(body == rendered);
            let stitched = stitch.unwrap().gzip(&body, Compression::fast()).unwrap();
            let mut back = Vec::new();
            std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&stitched[..]), &mut back)
                .unwrap();
            assert!(
                back == rendered,
                "{}: the stitched body differs",
                format.name()
            );
            // Gzip without compressing the items again: the same bytes once decompressed.
            let level = flate2::Compression::new(6);
            let mut gzip = GzipAssembler::new(rendered.len() / 2, level);
            gzip.raw(&frame.head).unwrap();
            for (n, item) in items.iter().enumerate() {
                if n > 0 {
                    gzip.raw(marks(format).2).unwrap();
                }
                gzip.precompressed(&Precompressed::new(item, level).unwrap());
            }
            gzip.raw(&frame.tail).unwrap();
            let mut unzipped = Vec::new();
            std::io::Read::read_to_end(
                &mut flate2::read::GzDecoder::new(&gzip.finish()[..]),
                &mut unzipped,
            )
            .unwrap();
            assert!(
                unzipped == rendered,
                "{}: the stitched gzip differs",
                format.name()
            );
            assert!(
                assembled == rendered,
                "{}: parts differ from the feed:\n{}\n---\n{}",
                format.name(),
                String::from_utf8_lossy(&assembled),
                String::from_utf8_lossy(&rendered)
            );
        }
    }

    #[test]
    fn a_feed_is_its_head_its_items_and_its_tail() {
        check(&[]);
        check(&[bare()]);
        check(&[markup(), unicode(), bare()]);
        check(&[unicode(), unicode()]);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn parts_assemble_to_the_feed_for_any_papers(
            papers in proptest::collection::vec(any_paper(), 0..6),
        ) {
            check(&papers);
        }
    }
}
