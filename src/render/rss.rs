//! RSS 2.0, with the `atom` (self link), `dc` (creators) and `media` (thumbnail) extensions.
//! No `<enclosure>` for the PDF: RSS requires its length in bytes, which is not known.

use rss::extension::{Extension, ExtensionMap};
use std::collections::BTreeMap;

use rss::extension::atom::{self, AtomExtensionBuilder, Link};
use rss::extension::dublincore::{self, DublinCoreExtensionBuilder};
use rss::{CategoryBuilder, Channel, ChannelBuilder, GuidBuilder, ImageBuilder, Item, ItemBuilder};

use super::content::item_html;
use super::digest::DigestItem;
use super::meta::{DESCRIPTION, FeedMeta, HOME_PAGE, MEDIA_NAMESPACE, RenderError, generator};
use crate::data::paper::Paper;

pub(super) fn render(meta: &FeedMeta, papers: &[&Paper]) -> Result<Vec<u8>, RenderError> {
    write(channel(meta, papers.iter().map(|p| item(p)).collect()))
}

pub(super) fn render_digest(meta: &FeedMeta, items: &[DigestItem]) -> Result<Vec<u8>, RenderError> {
    write(channel(meta, items.iter().map(digest_item).collect()))
}

fn write(channel: Channel) -> Result<Vec<u8>, RenderError> {
    channel
        .write_to(Vec::new())
        .map_err(|e| RenderError::Xml(e.to_string()))
}

/// The `ttl`: `max_age` in whole minutes, at least 1.
fn ttl_minutes(meta: &FeedMeta) -> u64 {
    (meta.max_age.as_secs() / 60).max(1)
}

/// `<atom:link rel="hub">` when the feed names a WebSub hub.
fn hub_link(meta: &FeedMeta) -> Option<Link> {
    meta.clean_hub().map(|href| Link {
        href,
        rel: "hub".to_owned(),
        ..Link::default()
    })
}

fn channel(meta: &FeedMeta, items: Vec<Item>) -> Channel {
    let self_link = Link {
        href: meta.clean_self_url(),
        rel: "self".to_owned(),
        mime_type: Some("application/rss+xml".to_owned()),
        ..Link::default()
    };
    // Declared up front so that they are on `<rss>` even when no element uses them.
    let namespaces = BTreeMap::from([
        ("atom".to_owned(), atom::NAMESPACE.to_owned()),
        ("dc".to_owned(), dublincore::NAMESPACE.to_owned()),
        ("media".to_owned(), MEDIA_NAMESPACE.to_owned()),
    ]);
    let title = meta.clean_title();
    let image = ImageBuilder::default()
        .url(meta.icon_url())
        .title(title.clone())
        .link(HOME_PAGE)
        .build();
    ChannelBuilder::default()
        .namespaces(namespaces)
        .title(title)
        .image(Some(image))
        .link(HOME_PAGE)
        .description(DESCRIPTION)
        .language(Some("en".to_owned()))
        .generator(Some(generator()))
        .ttl(Some(ttl_minutes(meta).to_string()))
        .last_build_date(Some(meta.updated.to_rfc2822()))
        .atom_ext(Some(
            AtomExtensionBuilder::default()
                .links(
                    hub_link(meta)
                        .into_iter()
                        .chain([self_link])
                        .collect::<Vec<_>>(),
                )
                .build(),
        ))
        .items(items)
        .build()
}

/// A digest item: its guid is not a link (the link is the period's page).
fn digest_item(digest: &DigestItem) -> Item {
    ItemBuilder::default()
        .title(Some(digest.title.clone()))
        .link(Some(digest.link.clone()))
        .guid(Some(
            GuidBuilder::default()
                .value(digest.id.clone())
                .permalink(false)
                .build(),
        ))
        .pub_date(Some(digest.date.to_rfc2822()))
        .description(Some(digest.html.clone()))
        .build()
}

fn item(paper: &Paper) -> Item {
    let url = paper.hf_url();
    let dc = (!paper.authors.is_empty()).then(|| {
        DublinCoreExtensionBuilder::default()
            .creators(vec![paper.authors.join(", ")])
            .build()
    });
    ItemBuilder::default()
        .title(Some(paper.title.to_string()))
        .link(Some(url.clone()))
        .guid(Some(
            GuidBuilder::default().value(url).permalink(true).build(),
        ))
        .pub_date(Some(paper.date.to_rfc2822()))
        .dublin_core_ext(dc)
        .categories(
            paper
                .keywords
                .iter()
                .map(|k| CategoryBuilder::default().name(k.to_string()).build())
                .collect::<Vec<_>>(),
        )
        .description(Some(item_html(paper)))
        .extensions(super::media_extensions!(
            Extension,
            ExtensionMap,
            paper,
            str::to_owned
        ))
        .build()
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use chrono::DateTime;
    use rss::validation::Validate;

    use super::*;
    use crate::render::content::tests::{bare, markup, meta_with, unicode};

    fn meta() -> FeedMeta {
        meta_with(
            "Hugging Face Daily Papers — q: diffusion & <more>",
            "https://feeds.example/feed.rss?q=diffusion&min_upvotes=10",
            900,
        )
    }

    fn parse(bytes: &[u8]) -> Channel {
        let channel = Channel::read_from(bytes).unwrap();
        channel.validate().unwrap();
        channel
    }

    #[test]
    fn channel_fields() {
        let bytes = render(&meta(), &[]).unwrap();
        let xml = String::from_utf8(bytes.clone()).unwrap();
        let rss_tag = &xml[xml.find("<rss").unwrap()..];
        let rss_tag = &rss_tag[..rss_tag.find('>').unwrap()];
        assert!(rss_tag.contains(r#"xmlns:atom="http://www.w3.org/2005/Atom""#));
        assert!(rss_tag.contains(r#"xmlns:dc="http://purl.org/dc/elements/1.1/""#));

        let channel = parse(&bytes);
        assert_eq!(channel.title(), meta().title);
        assert_eq!(channel.link(), HOME_PAGE);
        assert_eq!(channel.description(), DESCRIPTION);
        assert_eq!(channel.ttl(), Some("15"));
        assert_eq!(channel.generator(), Some(generator().as_str()));
        assert_eq!(channel.language(), Some("en"));
        let built = DateTime::parse_from_rfc2822(channel.last_build_date().unwrap()).unwrap();
        assert_eq!(built, meta().updated);
        let links = channel.atom_ext().unwrap().links();
        assert_eq!(links.len(), 2);
        // The WebSub hub (section 16), then the self link.
        assert_eq!(links[0].rel(), "hub");
        assert_eq!(links[0].href(), "https://feeds.example/websub");
        assert_eq!(links[1].rel(), "self");
        assert_eq!(links[1].href(), meta().self_url);
        assert_eq!(links[1].mime_type(), Some("application/rss+xml"));
        assert!(channel.items().is_empty());

        let feed = feed_rs::parser::parse(bytes.as_slice()).unwrap();
        assert!(feed.entries.is_empty());
        assert_eq!(feed.title.unwrap().content, meta().title);
        assert_eq!(feed.ttl, Some(15));
    }

    #[test]
    fn ttl_is_at_least_one_minute() {
        let mut m = meta();
        m.max_age = Duration::from_secs(20);
        assert_eq!(ttl_minutes(&m), 1);
        m.max_age = Duration::from_secs(3600);
        assert_eq!(ttl_minutes(&m), 60);
    }

    #[test]
    fn items_in_order_with_every_field() {
        let papers = [markup(), bare(), unicode()];
        let refs: Vec<&Paper> = papers.iter().collect();
        let bytes = render(&meta(), &refs).unwrap();
        let channel = parse(&bytes);
        let items = channel.items();
        assert_eq!(items.len(), 3);
        for (item, paper) in items.iter().zip(&papers) {
            assert_eq!(item.title(), Some(paper.title.as_str()));
            assert_eq!(item.link(), Some(paper.hf_url().as_str()));
            let guid = item.guid().unwrap();
            assert_eq!(guid.value(), paper.hf_url());
            assert!(guid.is_permalink());
            let date = DateTime::parse_from_rfc2822(item.pub_date().unwrap()).unwrap();
            // RFC 2822 has whole seconds.
            assert_eq!(date.timestamp(), paper.date.timestamp());
            let keywords: Vec<&str> = item.categories().iter().map(|c| c.name()).collect();
            assert_eq!(keywords, paper.keywords);
            let creators = item.dublin_core_ext().map(|dc| dc.creators().to_vec());
            if paper.authors.is_empty() {
                assert!(creators.is_none_or(|c| c.is_empty()));
            } else {
                assert_eq!(creators.unwrap(), [paper.authors.join(", ")]);
            }
            assert_eq!(item.description(), Some(item_html(paper).as_str()));
        }
        assert_eq!(
            items[0].title(),
            Some(r#"Q&A over <Tables>: When "Less" Is More & Why"#)
        );
        let description = items[0].description().unwrap();
        assert!(
            description.contains("&lt;b&gt;bold&lt;/b&gt;") && description.contains("&amp;amp;")
        );
        assert!(!description.contains("<b>"));
        assert_eq!(
            items[2].title(),
            Some("Élan 🚀: 多模态 models for café reviews")
        );

        let feed = feed_rs::parser::parse(bytes.as_slice()).unwrap();
        assert_eq!(feed.entries.len(), 3);
        for (entry, paper) in feed.entries.iter().zip(&papers) {
            assert_eq!(entry.id, paper.hf_url());
            assert_eq!(entry.title.as_ref().unwrap().content, paper.title);
            assert_eq!(entry.links[0].href, paper.hf_url());
            assert_eq!(entry.published.unwrap().timestamp(), paper.date.timestamp());
            let names: Vec<&str> = entry.authors.iter().map(|a| a.name.as_str()).collect();
            let joined = paper.authors.join(", ");
            assert_eq!(
                names,
                if joined.is_empty() {
                    vec![]
                } else {
                    vec![joined.as_str()]
                }
            );
            let terms: Vec<&str> = entry.categories.iter().map(|c| c.term.as_str()).collect();
            assert_eq!(terms, paper.keywords);
            let summary = entry.summary.as_ref().unwrap();
            assert!(summary.content.contains("https://arxiv.org/pdf/"));
        }
        assert!(
            feed.entries[0]
                .summary
                .as_ref()
                .unwrap()
                .content
                .contains("&lt;b&gt;")
        );
    }

    #[test]
    fn a_thumbnail_is_media_thumbnail_and_the_namespace_is_declared_once() {
        let (bytes, _) = crate::render::content::tests::with_one_media_thumbnail(|refs| {
            render(&meta(), refs).unwrap()
        });
        let xml = String::from_utf8(bytes.clone()).unwrap();
        assert!(
            !xml.contains("<enclosure"),
            "RSS has no enclosure without a length"
        );
        // What readers see: the thumbnail of the first item, none for the second.
        let feed = feed_rs::parser::parse(bytes.as_slice()).unwrap();
        let thumbnails: Vec<Vec<String>> = feed
            .entries
            .iter()
            .map(|e| {
                e.media
                    .iter()
                    .flat_map(|m| m.thumbnails.iter().map(|t| t.image.uri.clone()))
                    .collect()
            })
            .collect();
        assert_eq!(
            thumbnails,
            [
                vec!["https://cdn.example/thumb.png?a=1&b=2".to_owned()],
                vec![]
            ]
        );
        let channel = Channel::read_from(bytes.as_slice()).unwrap();
        channel.validate().unwrap();
    }
}
