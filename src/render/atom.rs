//! Atom 1.0.

use atom_syndication::extension::{Extension, ExtensionMap};
use atom_syndication::{
    Category, Content, Entry, Feed, FixedDateTime, Generator, Link, Person, Text,
};
use chrono::{DateTime, SubsecRound, Utc};

use super::content::item_html;
use super::digest::DigestItem;
use super::meta::{BASE_TITLE, FeedMeta, HOME_PAGE, MEDIA_NAMESPACE, RenderError};
use crate::data::paper::Paper;

pub(super) fn render(meta: &FeedMeta, papers: &[&Paper]) -> Result<Vec<u8>, RenderError> {
    write(feed(meta, papers.iter().map(|p| entry(p)).collect()))
}

pub(super) fn render_digest(meta: &FeedMeta, items: &[DigestItem]) -> Result<Vec<u8>, RenderError> {
    write(feed(meta, items.iter().map(digest_entry).collect()))
}

fn write(feed: Feed) -> Result<Vec<u8>, RenderError> {
    // `Feed::to_string()` swallows write errors; `write_to` reports them.
    feed.write_to(Vec::new())
        .map_err(|e| RenderError::Xml(e.to_string()))
}

fn fixed(date: DateTime<Utc>) -> FixedDateTime {
    date.fixed_offset()
}

fn link(href: String, rel: &str, mime_type: Option<&str>) -> Link {
    Link {
        href,
        rel: rel.to_owned(),
        mime_type: mime_type.map(str::to_owned),
        ..Link::default()
    }
}

fn feed(meta: &FeedMeta, entries: Vec<Entry>) -> Feed {
    let self_url = meta.clean_self_url();
    Feed {
        // The builders enforce neither `id`, `title` nor `updated`: all three are set here.
        id: self_url.clone(),
        title: Text::plain(meta.clean_title()),
        // `Last-Modified` has whole seconds.
        updated: fixed(meta.updated.trunc_subsecs(0)),
        links: [
            link(HOME_PAGE.to_owned(), "alternate", Some("text/html")),
            link(self_url, "self", Some("application/atom+xml")),
        ]
        .into_iter()
        .chain(meta.clean_hub().map(|hub| link(hub, "hub", None)))
        .collect(),
        generator: Some(Generator {
            value: "paperboy".to_owned(),
            uri: None,
            version: Some(env!("CARGO_PKG_VERSION").to_owned()),
        }),
        // A feed-level author keeps entries without authors valid.
        authors: vec![Person {
            name: BASE_TITLE.to_owned(),
            uri: Some(HOME_PAGE.to_owned()),
            ..Person::default()
        }],
        subtitle: Some(Text::plain(super::meta::DESCRIPTION)),
        lang: Some("en".to_owned()),
        icon: Some(meta.icon_url()),
        logo: Some(meta.icon_url()),
        // Declared on `<feed>` whether or not an entry has a thumbnail.
        namespaces: [("media".to_owned(), MEDIA_NAMESPACE.to_owned())].into(),
        entries,
        ..Feed::default()
    }
}

fn digest_entry(digest: &DigestItem) -> Entry {
    let date = fixed(digest.date);
    Entry {
        id: digest.id.clone(),
        title: Text::plain(digest.title.clone()),
        updated: date,
        published: Some(date),
        links: vec![link(digest.link.clone(), "alternate", Some("text/html"))],
        content: Some(Content {
            value: Some(digest.html.clone()),
            content_type: Some("html".to_owned()),
            ..Content::default()
        }),
        ..Entry::default()
    }
}

fn entry(paper: &Paper) -> Entry {
    let url = paper.hf_url();
    let date = fixed(paper.date);
    Entry {
        id: url.clone(),
        title: Text::plain(paper.title.to_string()),
        updated: date,
        published: Some(date),
        links: vec![
            link(url, "alternate", Some("text/html")),
            link(paper.pdf_url(), "enclosure", Some("application/pdf")),
        ],
        authors: paper
            .authors
            .iter()
            .map(|name| Person {
                name: name.to_string(),
                ..Person::default()
            })
            .collect(),
        categories: paper
            .keywords
            .iter()
            .map(|k| Category {
                term: k.to_string(),
                ..Category::default()
            })
            .collect(),
        summary: paper
            .ai_summary
            .as_ref()
            .map(|s| Text::plain(s.to_string())),
        content: Some(Content {
            value: Some(item_html(paper)),
            content_type: Some("html".to_owned()),
            ..Content::default()
        }),
        extensions: super::media_extensions!(Extension, ExtensionMap, paper, |url: &str| {
            html_escape::encode_double_quoted_attribute(url).into_owned()
        }),
        ..Entry::default()
    }
}

#[cfg(test)]
mod tests {

    use super::*;
    use crate::render::content::tests::{bare, markup, meta_with, unicode};
    use crate::render::meta::generator;

    fn meta() -> FeedMeta {
        meta_with(
            "Hugging Face Daily Papers — Agents & <Tools>",
            "https://feeds.example/topics/agents.atom?min_upvotes=5&x=<y>",
            600,
        )
    }

    #[test]
    fn feed_fields() {
        let bytes = render(&meta(), &[]).unwrap();
        // The strict reader of the crate itself.
        let strict = Feed::read_from(bytes.as_slice()).unwrap();
        assert_eq!(strict.id, meta().self_url);
        assert_eq!(strict.updated, fixed(meta().updated));
        let hub = strict.links.iter().find(|l| l.rel == "hub").unwrap();
        assert_eq!(hub.href, "https://feeds.example/websub");
        let strict_self = strict.links.iter().find(|l| l.rel == "self").unwrap();
        assert_eq!(strict_self.href, meta().self_url);
        assert_eq!(
            strict_self.mime_type.as_deref(),
            Some("application/atom+xml")
        );
        let generator_tag = strict.generator.unwrap();
        assert_eq!(
            format!("{} {}", generator_tag.value, generator_tag.version.unwrap()),
            generator()
        );

        let feed = feed_rs::parser::parse(bytes.as_slice()).unwrap();
        assert_eq!(feed.id, meta().self_url);
        assert_eq!(feed.title.unwrap().content, meta().title);
        assert_eq!(feed.updated, Some(meta().updated));
        assert!(feed.entries.is_empty());
        let self_link = feed
            .links
            .iter()
            .find(|l| l.rel.as_deref() == Some("self"))
            .unwrap();
        // feed-rs normalizes link URLs; the exact text is checked with the strict reader.
        assert!(
            self_link
                .href
                .ends_with("agents.atom?min_upvotes=5&x=%3Cy%3E")
        );
        assert_eq!(
            self_link.media_type.as_deref(),
            Some("application/atom+xml")
        );
        let home = feed
            .links
            .iter()
            .find(|l| l.rel.as_deref() == Some("alternate"))
            .unwrap();
        assert_eq!(home.href, HOME_PAGE);
        assert_eq!(feed.authors[0].name, BASE_TITLE);
        assert_eq!(feed.generator.unwrap().content, "paperboy");
    }

    #[test]
    fn updated_has_whole_seconds_like_last_modified() {
        let mut m = meta();
        m.updated += chrono::Duration::milliseconds(750);
        let strict = Feed::read_from(render(&m, &[]).unwrap().as_slice()).unwrap();
        assert_eq!(strict.updated, fixed(meta().updated));
    }

    #[test]
    fn entries_in_order_with_every_field() {
        let papers = [unicode(), markup(), bare()];
        let refs: Vec<&Paper> = papers.iter().collect();
        let bytes = render(&meta(), &refs).unwrap();
        let xml = String::from_utf8(bytes.clone()).unwrap();
        assert!(xml.contains(r#"<content type="html">"#));

        let strict = Feed::read_from(bytes.as_slice()).unwrap();
        let feed = feed_rs::parser::parse(bytes.as_slice()).unwrap();
        assert_eq!(feed.entries.len(), 3);
        for ((entry, strict), paper) in feed.entries.iter().zip(&strict.entries).zip(&papers) {
            assert_eq!(entry.id, paper.hf_url());
            assert_eq!(entry.links[0].href, paper.hf_url());
            assert_eq!(entry.title.as_ref().unwrap().content, paper.title);
            assert_eq!(entry.published, Some(paper.date));
            assert_eq!(entry.updated, Some(paper.date));
            let names: Vec<&str> = strict.authors.iter().map(|a| a.name.as_str()).collect();
            assert_eq!(names, paper.authors);
            let terms: Vec<&str> = entry.categories.iter().map(|c| c.term.as_str()).collect();
            assert_eq!(terms, paper.keywords);
            assert_eq!(
                entry.summary.as_ref().map(|s| s.content.as_str()),
                paper.ai_summary.as_deref()
            );
            let content = strict.content.as_ref().unwrap();
            assert_eq!(content.content_type.as_deref(), Some("html"));
            assert_eq!(content.value.as_deref(), Some(item_html(paper).as_str()));
        }
        assert_eq!(
            feed.entries[1].title.as_ref().unwrap().content,
            r#"Q&A over <Tables>: When "Less" Is More & Why"#
        );
        let html = strict.entries[1]
            .content
            .as_ref()
            .unwrap()
            .value
            .clone()
            .unwrap();
        assert!(html.contains("&lt;b&gt;bold&lt;/b&gt;") && !html.contains("<b>"));
        assert!(feed.entries[2].summary.is_none());
        assert!(strict.entries[2].authors.is_empty());
    }

    #[test]
    fn a_thumbnail_is_media_thumbnail_and_the_pdf_an_enclosure() {
        let (bytes, papers) = crate::render::content::tests::with_one_media_thumbnail(|refs| {
            render(&meta(), refs).unwrap()
        });
        let strict = Feed::read_from(bytes.as_slice()).unwrap();
        for (entry, paper) in strict.entries.iter().zip(&papers) {
            let enclosures: Vec<(&str, Option<&str>)> = entry
                .links
                .iter()
                .filter(|l| l.rel == "enclosure")
                .map(|l| (l.href.as_str(), l.mime_type.as_deref()))
                .collect();
            assert_eq!(
                enclosures,
                [(paper.pdf_url().as_str(), Some("application/pdf"))]
            );
        }
        let feed = feed_rs::parser::parse(bytes.as_slice()).unwrap();
        let thumbnails: Vec<usize> = feed
            .entries
            .iter()
            .map(|e| e.media.iter().map(|m| m.thumbnails.len()).sum())
            .collect();
        assert_eq!(thumbnails, [1, 0]);
    }
}
