//! Rendering: a list of papers and the feed's metadata in, the bytes of an RSS 2.0, Atom 1.0 or
//! JSON Feed 1.1 document out; each item rendered and compressed once ([`parts`]), the render
//! cache of whole feeds ([`cache`]), the HTML pages ([`html`]) and the topics' OPML ([`opml`]).

use crate::common::format::Format;
use crate::data::paper::Paper;

/// An item's extensions in the `media` namespace: `<media:thumbnail url="..."/>` when `$paper`
/// has a thumbnail (contract section 6), as an `$map` of `$extension`s, the URL written as
/// `$attribute` makes it (the `rss` crate escapes attribute values; `atom_syndication` writes
/// them as given). A macro because the two crates have their own, identical, extension types.
macro_rules! media_extensions {
    ($extension:ident, $map:ident, $paper:expr, $attribute:expr) => {{
        let mut map = $map::new();
        if let Some(thumbnail) = &$paper.thumbnail {
            let element = $extension {
                name: "media:thumbnail".to_owned(),
                attrs: [("url".to_owned(), $attribute(thumbnail.as_str()))].into(),
                ..$extension::default()
            };
            map.insert(
                "media".to_owned(),
                [("thumbnail".to_owned(), vec![element])].into(),
            );
        }
        map
    }};
}
use media_extensions;

mod atom;
pub mod cache;
mod content;
pub mod digest;
pub mod html;
mod json;
mod meta;
pub mod opml;
pub mod parts;
pub mod preview_form;
mod rss;

pub use content::item_html;
pub use digest::DigestItem;
pub use meta::{BASE_TITLE, DESCRIPTION, FeedMeta, HOME_PAGE, RenderError, generator, title};

/// How feeds of papers are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Writing {
    /// Assembled from the items kept with the papers, and gzipped by stitching their
    /// compressed copies ([`parts`]): what paperboy serves.
    #[default]
    Assembled,
    /// Written whole by the feed writers and compressed whole, as before items were kept with
    /// the papers: the reference the tests check assembled and stitched feeds against, byte
    /// for byte ([`crate::startup::Application::build_writing`]).
    Whole,
}

/// Renders `papers`, in the given order, as a feed in `format`.
pub fn render(format: Format, meta: &FeedMeta, papers: &[&Paper]) -> Result<Vec<u8>, RenderError> {
    match format {
        Format::Rss => rss::render(meta, papers),
        Format::Atom => atom::render(meta, papers),
        Format::Json => json::render(meta, papers),
    }
}

/// Renders digest `items`, in the given order, as a feed in `format`.
pub fn render_digest(
    format: Format,
    meta: &FeedMeta,
    items: &[DigestItem],
) -> Result<Vec<u8>, RenderError> {
    match format {
        Format::Rss => rss::render_digest(meta, items),
        Format::Atom => atom::render_digest(meta, items),
        Format::Json => json::render_digest(meta, items),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use chrono::{TimeZone, Utc};

    use super::*;
    use crate::render::content::tests::{bare, markup, unicode};

    fn meta(title: &str) -> FeedMeta {
        FeedMeta {
            title: title.to_owned(),
            self_url: "https://feeds.example/feed?q=a%20b&sort=date".to_owned(),
            updated: Utc.with_ymd_and_hms(2026, 8, 3, 9, 30, 0).unwrap(),
            max_age: Duration::from_secs(300),
            public_url: "https://feeds.example".to_owned(),
            hub: None,
        }
    }

    fn parse_all(meta: &FeedMeta, papers: &[&Paper]) -> Vec<feed_rs::model::Feed> {
        Format::ALL
            .into_iter()
            .map(|format| {
                let bytes = render(format, meta, papers).unwrap();
                feed_rs::parser::parse(bytes.as_slice()).unwrap()
            })
            .collect()
    }

    #[test]
    fn the_three_formats_agree_on_ids_links_dates_and_order() {
        let papers = [unicode(), bare(), markup()];
        let refs: Vec<&Paper> = papers.iter().collect();
        let feeds = parse_all(&meta(BASE_TITLE), &refs);
        for feed in &feeds {
            assert_eq!(feed.title.as_ref().unwrap().content, BASE_TITLE);
            assert_eq!(feed.entries.len(), papers.len());
            for (entry, paper) in feed.entries.iter().zip(&papers) {
                assert_eq!(entry.id, paper.hf_url());
                assert_eq!(entry.links[0].href, paper.hf_url());
                assert_eq!(entry.title.as_ref().unwrap().content, paper.title);
                // RSS dates have whole seconds.
                assert_eq!(entry.published.unwrap().timestamp(), paper.date.timestamp());
                let terms: Vec<&str> = entry.categories.iter().map(|c| c.term.as_str()).collect();
                assert_eq!(terms, paper.keywords);
            }
        }
    }

    #[test]
    fn forbidden_characters_in_meta_never_reach_the_document() {
        let meta = FeedMeta {
            self_url: "https://feeds.example/feed?q=\u{1}x".to_owned(),
            ..meta("Hugging Face Daily Papers — q: a\u{0}b\u{FFFE}")
        };
        for feed in parse_all(&meta, &[&markup()]) {
            assert_eq!(
                feed.title.unwrap().content,
                "Hugging Face Daily Papers — q: ab"
            );
        }
        let rss = render(Format::Rss, &meta, &[]).unwrap();
        let channel = ::rss::Channel::read_from(rss.as_slice()).unwrap();
        let self_link = &channel.atom_ext().unwrap().links()[0];
        assert_eq!(self_link.href(), "https://feeds.example/feed?q=x");
    }

    #[test]
    fn format_names_round_trip() {
        for format in Format::ALL {
            assert_eq!(Format::from_name(format.name()), Some(format));
        }
        assert_eq!(Format::from_name("xml"), None);
        assert!(generator().starts_with("paperboy "));
    }
}
