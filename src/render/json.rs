//! JSON Feed 1.1 (<https://jsonfeed.org/version/1.1>).

use serde::Serialize;

use super::content::item_html;
use super::digest::DigestItem;
use super::meta::{DESCRIPTION, FeedMeta, HOME_PAGE, RenderError};
use crate::common::shared_text::Text;
use crate::data::paper::Paper;

const VERSION: &str = "https://jsonfeed.org/version/1.1";

#[derive(Serialize)]
struct JsonFeed<T> {
    version: &'static str,
    title: String,
    home_page_url: &'static str,
    feed_url: String,
    description: &'static str,
    icon: String,
    favicon: String,
    language: &'static str,
    /// The WebSub hub, when the feed names one.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    hubs: Vec<JsonHub>,
    items: Vec<T>,
}

/// A JSON Feed `hubs` entry.
#[derive(Serialize)]
struct JsonHub {
    #[serde(rename = "type")]
    kind: &'static str,
    url: String,
}

/// A digest item: a period and its papers.
#[derive(Serialize)]
struct JsonDigestItem<'a> {
    id: &'a str,
    url: &'a str,
    title: &'a str,
    content_html: &'a str,
    date_published: String,
}

#[derive(Serialize)]
struct JsonItem<'a> {
    id: String,
    url: String,
    external_url: String,
    title: &'a str,
    content_html: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    summary: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    image: Option<&'a str>,
    date_published: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    authors: Vec<JsonAuthor<'a>>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    tags: &'a [Text],
    /// The PDF, for readers' attachment lists.
    attachments: [JsonAttachment; 1],
    #[serde(rename = "_paperboy")]
    paperboy: Extension<'a>,
}

#[derive(Serialize)]
struct JsonAttachment {
    url: String,
    mime_type: &'static str,
    title: &'static str,
}

#[derive(Serialize)]
struct JsonAuthor<'a> {
    name: &'a str,
}

/// The `_paperboy` extension object: every key present, `null` when absent.
#[derive(Serialize)]
struct Extension<'a> {
    arxiv_id: &'a str,
    upvotes: u64,
    comments: u64,
    github_repo: Option<&'a str>,
    github_stars: Option<u64>,
    project_page: Option<&'a str>,
    organization: Option<JsonOrganization<'a>>,
}

#[derive(Serialize)]
struct JsonOrganization<'a> {
    name: &'a str,
    fullname: Option<&'a str>,
}

pub(super) fn render(meta: &FeedMeta, papers: &[&Paper]) -> Result<Vec<u8>, RenderError> {
    Ok(serde_json::to_vec(&feed(
        meta,
        papers.iter().map(|p| item(p)).collect(),
    ))?)
}

pub(super) fn render_digest(meta: &FeedMeta, items: &[DigestItem]) -> Result<Vec<u8>, RenderError> {
    let items = items
        .iter()
        .map(|d| JsonDigestItem {
            id: &d.id,
            url: &d.link,
            title: &d.title,
            content_html: &d.html,
            date_published: d.date.to_rfc3339(),
        })
        .collect();
    Ok(serde_json::to_vec(&feed(meta, items))?)
}

fn feed<T: Serialize>(meta: &FeedMeta, items: Vec<T>) -> JsonFeed<T> {
    JsonFeed {
        version: VERSION,
        title: meta.clean_title(),
        home_page_url: HOME_PAGE,
        feed_url: meta.clean_self_url(),
        description: DESCRIPTION,
        icon: meta.icon_url(),
        favicon: meta.favicon_url(),
        language: "en",
        hubs: meta
            .clean_hub()
            .map(|url| JsonHub {
                kind: "WebSub",
                url,
            })
            .into_iter()
            .collect(),
        items,
    }
}

fn item(paper: &Paper) -> JsonItem<'_> {
    let url = paper.hf_url();
    JsonItem {
        id: url.clone(),
        url,
        external_url: paper.arxiv_url(),
        title: &paper.title,
        content_html: item_html(paper),
        summary: paper.ai_summary.as_deref(),
        image: paper.thumbnail.as_deref(),
        date_published: paper.date.to_rfc3339(),
        authors: paper
            .authors
            .iter()
            .map(|name| JsonAuthor { name })
            .collect(),
        tags: &paper.keywords,
        attachments: [JsonAttachment {
            url: paper.pdf_url(),
            mime_type: "application/pdf",
            title: "PDF",
        }],
        paperboy: Extension {
            arxiv_id: &paper.id,
            upvotes: paper.upvotes,
            comments: paper.comments,
            github_repo: paper.github_repo.as_deref(),
            github_stars: paper.github_stars,
            project_page: paper.project_page.as_deref(),
            organization: paper.organization.as_ref().map(|o| JsonOrganization {
                name: &o.name,
                fullname: o.fullname.as_deref(),
            }),
        },
    }
}

#[cfg(test)]
mod tests {

    use chrono::DateTime;
    use serde_json::{Value, json};

    use super::*;
    use crate::render::content::tests::{bare, markup, meta_with, unicode};

    fn meta() -> FeedMeta {
        meta_with(
            "Hugging Face Daily Papers — author: Müller",
            "https://feeds.example/feed.json?author=M%C3%BCller",
            600,
        )
    }

    #[test]
    fn empty_feed() {
        let bytes = render(&meta(), &[]).unwrap();
        let value: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(value["version"], VERSION);
        assert_eq!(value["title"], meta().title);
        assert_eq!(value["home_page_url"], HOME_PAGE);
        assert_eq!(value["feed_url"], meta().self_url);
        assert_eq!(value["description"], DESCRIPTION);
        assert_eq!(value["language"], "en");
        assert_eq!(
            value["hubs"],
            json!([{"type": "WebSub", "url": "https://feeds.example/websub"}])
        );
        assert_eq!(value["items"], json!([]));
        let feed = feed_rs::parser::parse(bytes.as_slice()).unwrap();
        assert_eq!(feed.title.unwrap().content, meta().title);
        assert!(feed.entries.is_empty());
    }

    #[test]
    fn items_in_order_with_every_field() {
        let papers = [bare(), unicode(), markup()];
        let refs: Vec<&Paper> = papers.iter().collect();
        let bytes = render(&meta(), &refs).unwrap();
        let value: Value = serde_json::from_slice(&bytes).unwrap();
        let items = value["items"].as_array().unwrap();
        assert_eq!(items.len(), 3);
        for (item, paper) in items.iter().zip(&papers) {
            assert_eq!(item["id"], paper.hf_url());
            assert_eq!(item["url"], paper.hf_url());
            assert_eq!(item["external_url"], paper.arxiv_url());
            assert_eq!(item["title"], paper.title.as_str());
            assert_eq!(item["content_html"], item_html(paper));
            let date = DateTime::parse_from_rfc3339(item["date_published"].as_str().unwrap());
            assert_eq!(date.unwrap(), paper.date);
            assert_eq!(item["_paperboy"]["arxiv_id"], paper.id.as_str());
            assert_eq!(item["_paperboy"]["upvotes"], paper.upvotes);
            assert_eq!(item["_paperboy"]["comments"], paper.comments);
        }

        let bare = items[0].as_object().unwrap();
        for key in ["summary", "image", "authors", "tags"] {
            assert!(!bare.contains_key(key), "{key} should be skipped");
        }
        assert_eq!(
            bare["_paperboy"],
            json!({"arxiv_id": "2601.00001", "upvotes": 1, "comments": 1, "github_repo": null,
                   "github_stars": null, "project_page": null, "organization": null})
        );
        assert_eq!(
            items[1]["_paperboy"]["organization"],
            json!({"name": "kwai-kolors", "fullname": null})
        );
        let full = &items[2];
        assert_eq!(
            full["title"],
            r#"Q&A over <Tables>: When "Less" Is More & Why"#
        );
        assert_eq!(full["summary"], "A <i>short</i> summary & more.");
        assert_eq!(full["image"], "https://cdn.example/thumb.png?a=1&b=2");
        assert_eq!(full["tags"], json!(["tables", "Q&A"]));
        assert_eq!(
            full["authors"],
            json!([{"name": "Ada <Lovelace>"}, {"name": "Alan & Turing"}])
        );
        assert_eq!(full["_paperboy"]["github_stars"], 1234);
        assert_eq!(
            full["_paperboy"]["project_page"],
            "https://acme.example/tables"
        );
        assert_eq!(
            full["_paperboy"]["organization"],
            json!({"name": "acme<labs>", "fullname": "ACME & <Labs>"})
        );
        let html = full["content_html"].as_str().unwrap();
        assert!(html.contains("&lt;b&gt;bold&lt;/b&gt;") && !html.contains("<b>"));

        let feed = feed_rs::parser::parse(bytes.as_slice()).unwrap();
        assert_eq!(feed.entries.len(), 3);
        for (entry, paper) in feed.entries.iter().zip(&papers) {
            assert_eq!(entry.id, paper.hf_url());
            assert_eq!(entry.links[0].href, paper.hf_url());
            assert_eq!(entry.title.as_ref().unwrap().content, paper.title);
            assert_eq!(entry.published, Some(paper.date));
            let names: Vec<&str> = entry.authors.iter().map(|a| a.name.as_str()).collect();
            assert_eq!(names, paper.authors);
            let terms: Vec<&str> = entry.categories.iter().map(|c| c.term.as_str()).collect();
            assert_eq!(terms, paper.keywords);
            let body = entry.content.as_ref().unwrap().body.as_deref();
            assert_eq!(body, Some(item_html(paper).as_str()));
        }
    }

    #[test]
    fn every_item_attaches_its_pdf() {
        let papers = [markup(), bare()];
        let refs: Vec<&Paper> = papers.iter().collect();
        let feed: serde_json::Value =
            serde_json::from_slice(&render(&meta(), &refs).unwrap()).unwrap();
        for (item, paper) in feed["items"].as_array().unwrap().iter().zip(&papers) {
            assert_eq!(
                item["attachments"],
                serde_json::json!([{
                    "url": paper.pdf_url(),
                    "mime_type": "application/pdf",
                    "title": "PDF"
                }])
            );
        }
    }
}
