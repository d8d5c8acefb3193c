//! OPML 2.0: the list of topic feeds, so a reader subscribes to all of them with one import.
//!
//! The document is small and flat (a head and one outline per feed), so it is written by hand;
//! every attribute is cleaned of characters XML 1.0 forbids and escaped.

use crate::common::format::Format;
use crate::common::text::clean_inline;
use crate::query::topics::{Topic, Topics};

/// The content type of `/topics.opml`.
pub const CONTENT_TYPE: &str = "text/x-opml; charset=utf-8";

/// One subscription: `<outline type="rss" .../>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outline {
    /// `text` and `title`: what a reader shows.
    pub title: String,
    pub description: String,
    /// The feed, absolute.
    pub xml_url: String,
    /// The web page of the feed, absolute.
    pub html_url: String,
}

/// The OPML document listing every topic's feed in `format`, absolute under `public_url`,
/// each with the web page `html_url` gives.
pub fn topics_document(
    topics: &Topics,
    public_url: &str,
    format: Format,
    html_url: impl Fn(&Topic) -> String,
) -> String {
    let outlines: Vec<Outline> = topics
        .iter()
        .map(|topic| Outline {
            title: topic.title.clone(),
            description: topic.description.clone(),
            xml_url: format!("{public_url}{}", topic.feed_path(format)),
            html_url: html_url(topic),
        })
        .collect();
    render(
        &format!("{} — topics", crate::render::meta::BASE_TITLE),
        &outlines,
    )
}

/// The OPML 2.0 document listing `outlines` under the head title `title`.
pub fn render(title: &str, outlines: &[Outline]) -> String {
    let mut out = String::with_capacity(256 + outlines.len() * 400);
    out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<opml version=\"2.0\">\n  <head>\n");
    out.push_str(&format!("    <title>{}</title>\n", escape(title)));
    out.push_str("    <docs>http://opml.org/spec2.opml</docs>\n  </head>\n  <body>\n");
    for o in outlines {
        let title = escape(&o.title);
        out.push_str(&format!(
            "    <outline type=\"rss\" text=\"{title}\" title=\"{title}\" description=\"{}\" \
             xmlUrl=\"{}\" htmlUrl=\"{}\"/>\n",
            escape(&o.description),
            escape(&o.xml_url),
            escape(&o.html_url),
        ));
    }
    out.push_str("  </body>\n</opml>\n");
    out
}

/// Text safe inside an XML element or a double-quoted attribute.
fn escape(text: &str) -> String {
    let clean = clean_inline(text);
    let mut out = String::with_capacity(clean.len());
    for c in clean.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outlines_carry_every_attribute_escaped() {
        let doc = render(
            "Papers & <topics>",
            &[Outline {
                title: "Q&A \"tables\"\u{7}".into(),
                description: "a <b>bold</b>\nclaim".into(),
                xml_url: "https://x.example/topics/qa.rss".into(),
                html_url: "https://x.example/preview?q=a&top=5".into(),
            }],
        );
        let parsed = roxmltree::Document::parse(&doc).unwrap();
        let root = parsed.root_element();
        assert_eq!(root.attribute("version"), Some("2.0"));
        let title = root
            .descendants()
            .find(|n| n.has_tag_name("title"))
            .and_then(|n| n.text());
        assert_eq!(title, Some("Papers & <topics>"));
        let outline = root
            .descendants()
            .find(|n| n.has_tag_name("outline"))
            .unwrap();
        assert_eq!(outline.attribute("type"), Some("rss"));
        assert_eq!(outline.attribute("text"), Some("Q&A \"tables\""));
        assert_eq!(outline.attribute("title"), Some("Q&A \"tables\""));
        assert_eq!(
            outline.attribute("description"),
            Some("a <b>bold</b> claim")
        );
        assert_eq!(
            outline.attribute("htmlUrl"),
            Some("https://x.example/preview?q=a&top=5")
        );
    }
}
