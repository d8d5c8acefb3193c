//! The HTML content of one feed item, shared by RSS, Atom and JSON Feed.
//!
//! A small, readable fragment: no scripts, no styles. Every piece of upstream text is
//! HTML-escaped, every URL is escaped for a double-quoted attribute.

use std::fmt::Write as _;

use html_escape::{encode_double_quoted_attribute as attr, encode_text as text};

use crate::data::paper::{Organization, Paper};

/// The HTML content of `paper`'s feed item.
pub fn item_html(paper: &Paper) -> String {
    let mut html = String::with_capacity(paper.abstract_text.len() + 1024);

    if let Some(thumbnail) = &paper.thumbnail {
        // `write!` into a `String` cannot fail.
        let _ = write!(html, r#"<p><img src="{}" alt=""></p>"#, attr(thumbnail));
    }
    if let Some(summary) = &paper.ai_summary {
        let _ = write!(
            html,
            "<p><strong>AI summary:</strong> {}</p>",
            text(summary)
        );
    }
    if !paper.abstract_text.is_empty() {
        let _ = write!(html, "<p>{}</p>", text(&paper.abstract_text));
    }
    let _ = write!(
        html,
        "<p>▲ {} · {}</p>",
        count(paper.upvotes, "upvote"),
        count(paper.comments, "comment")
    );

    let mut links = source_links(paper);
    if let Some(page) = &paper.project_page {
        links.push(link(page, "Project page"));
    }
    let _ = write!(html, "<p>{}</p>", links.join(" · "));

    if let Some(org) = &paper.organization {
        let _ = write!(html, "<p>Organization: {}</p>", org_html(org));
    }
    let _ = write!(
        html,
        r#"<p><a href="{}">Read on Hugging Face</a></p>"#,
        attr(&paper.hf_url())
    );
    html
}

/// Links to the arXiv abstract, the PDF and, when present, GitHub (with its stars).
pub(super) fn source_links(paper: &Paper) -> Vec<String> {
    let mut links = vec![
        link(&paper.arxiv_url(), "arXiv"),
        link(&paper.pdf_url(), "PDF"),
    ];
    if let Some(repo) = &paper.github_repo {
        let mut github = link(repo, "GitHub");
        if let Some(stars) = paper.github_stars {
            let _ = write!(github, " ★ {stars}");
        }
        links.push(github);
    }
    links
}

/// `13 upvotes`, `1 comment`.
pub(super) fn count(n: u64, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// `<a href="url">label</a>`; `label` is trusted, `url` is escaped.
fn link(url: &str, label: &str) -> String {
    format!(r#"<a href="{}">{label}</a>"#, attr(url))
}

/// The organization's display name, linked to its Hugging Face page when the name makes a
/// usable path segment.
fn org_html(org: &Organization) -> String {
    let shown = text(org.fullname.as_deref().unwrap_or(&org.name)).into_owned();
    match org_url(&org.name) {
        Some(url) => format!(r#"<a href="{}">{shown}</a>"#, attr(&url)),
        None => shown,
    }
}

/// `https://huggingface.co/<name>`, the name percent-encoded as one path segment; `None`
/// for a name a URL would resolve as a dot segment (`.`, `..`) or for an empty name.
pub(super) fn org_url(name: &str) -> Option<String> {
    if name.is_empty() || name == "." || name == ".." {
        return None;
    }
    let mut url = String::from("https://huggingface.co/");
    for byte in name.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            url.push(char::from(byte));
        } else {
            let _ = write!(url, "%{byte:02X}");
        }
    }
    Some(url)
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use chrono::NaiveDate;

    use crate::data::paper::raw::RawItem;

    pub fn paper(json: serde_json::Value) -> Paper {
        let raw: RawItem = serde_json::from_value(json).unwrap();
        Paper::from_raw(&raw, NaiveDate::from_ymd_opt(2026, 8, 3).unwrap()).unwrap()
    }

    /// Feed metadata for the writers' tests: `title` and `self_url` as given.
    pub fn meta_with(
        title: &str,
        self_url: &str,
        max_age_secs: u64,
    ) -> crate::render::meta::FeedMeta {
        use chrono::TimeZone;
        crate::render::meta::FeedMeta {
            title: title.to_owned(),
            self_url: self_url.to_owned(),
            updated: chrono::Utc.with_ymd_and_hms(2026, 8, 3, 9, 30, 0).unwrap(),
            max_age: std::time::Duration::from_secs(max_age_secs),
            public_url: "https://feeds.example".to_owned(),
            hub: Some("https://feeds.example/websub".to_owned()),
        }
    }

    /// Title and abstract with markup; every optional field present.
    /// The feed `render` writes of [`markup`] then [`bare`], checked to declare the `media`
    /// namespace once and to carry the one thumbnail, escaped; its bytes, and the papers.
    pub fn with_one_media_thumbnail(
        render: impl Fn(&[&Paper]) -> Vec<u8>,
    ) -> (Vec<u8>, [Paper; 2]) {
        let papers = [markup(), bare()];
        let bytes = render(&papers.iter().collect::<Vec<_>>());
        let xml = String::from_utf8(bytes.clone()).unwrap();
        assert_eq!(
            xml.matches(r#"xmlns:media="http://search.yahoo.com/mrss/""#)
                .count(),
            1
        );
        assert_eq!(
            xml.matches("<media:thumbnail").count(),
            1,
            "the bare paper has none"
        );
        assert!(
            xml.contains(r#"<media:thumbnail url="https://cdn.example/thumb.png?a=1&amp;b=2">"#),
            "{xml}"
        );
        (bytes, papers)
    }

    pub fn markup() -> Paper {
        paper(serde_json::json!({
            "paper": {
                "id": "2606.06113",
                "authors": [{"name": "Ada <Lovelace>"}, {"name": "Alan & Turing"}],
                "title": "Q&A over <Tables>: When \"Less\" Is More & Why",
                "summary": "We show <b>bold</b> claims &amp; more\nwrapped lines.",
                "upvotes": 13,
                "submittedOnDailyAt": "2026-06-12T07:48:22.082Z",
                "ai_summary": "A <i>short</i> summary & more.",
                "ai_keywords": ["tables", "Q&A"],
                "githubRepo": "https://github.com/acme/tables?x=1&y=\"2\"",
                "githubStars": 1234,
                "projectPage": "https://acme.example/tables",
                "organization": {"name": "acme<labs>", "fullname": "ACME & <Labs>"}
            },
            "thumbnail": "https://cdn.example/thumb.png?a=1&b=2",
            "numComments": 2
        }))
    }

    /// No authors, keywords, thumbnail, AI summary, GitHub, project page or organization.
    pub fn bare() -> Paper {
        paper(serde_json::json!({
            "paper": {"id": "2601.00001", "title": "Bare  paper", "upvotes": 1},
            "numComments": 1
        }))
    }

    /// Emoji, CJK and accents.
    pub fn unicode() -> Paper {
        paper(serde_json::json!({
            "paper": {
                "id": "2607.12345",
                "authors": [{"name": "Jörg Müller"}, {"name": "李小龙"}, {"name": "Ayşe Yılmaz"}],
                "title": "Élan 🚀: 多模态 models\n  for café reviews",
                "summary": "Über 🤗 résumé 日本語.",
                "ai_keywords": ["多模态", "café"],
                "organization": {"name": "kwai-kolors"}
            }
        }))
    }

    #[test]
    fn markup_is_escaped_never_passed_through() {
        let html = item_html(&markup());
        assert!(
            html.contains("We show &lt;b&gt;bold&lt;/b&gt; claims &amp;amp; more wrapped lines.")
        );
        assert!(!html.contains("<b>"));
        assert!(html.contains(
            "<p><strong>AI summary:</strong> A &lt;i&gt;short&lt;/i&gt; summary &amp; more.</p>"
        ));
        assert!(html.contains(r#"<img src="https://cdn.example/thumb.png?a=1&amp;b=2" alt="">"#));
        assert!(html.contains("ACME &amp; &lt;Labs&gt;"));
        assert!(html.contains(r#"href="https://huggingface.co/acme%3Clabs%3E""#));
        assert!(html.contains("github.com/acme/tables?x=1&amp;y=%222%22"));
        assert!(html.contains("★ 1234"));
        assert!(html.contains("▲ 13 upvotes · 2 comments"));
        assert!(html.contains(r#"<a href="https://acme.example/tables">Project page</a>"#));
        assert!(html.contains(r#"<a href="https://arxiv.org/abs/2606.06113">arXiv</a>"#));
        assert!(html.contains(r#"<a href="https://arxiv.org/pdf/2606.06113">PDF</a>"#));
        assert!(html.contains(r#"<a href="https://huggingface.co/papers/2606.06113">"#));
        assert!(!html.contains("<script") && !html.contains("style"));
    }

    #[test]
    fn absent_fields_are_left_out() {
        let html = item_html(&bare());
        assert!(!html.contains("<img"));
        assert!(!html.contains("AI summary"));
        assert!(!html.contains("GitHub") && !html.contains("Project page"));
        assert!(!html.contains("Organization"));
        assert!(html.contains("▲ 1 upvote · 1 comment</p>"));
        assert!(!html.contains("<p></p>"));
    }

    #[test]
    fn organization_falls_back_to_name_and_is_linked() {
        let html = item_html(&unicode());
        assert!(html.contains(r#"<a href="https://huggingface.co/kwai-kolors">kwai-kolors</a>"#));
        assert!(html.contains("Über 🤗 résumé 日本語."));
    }

    #[test]
    fn org_url_encodes_the_path_segment() {
        assert_eq!(
            org_url("nvidia").as_deref(),
            Some("https://huggingface.co/nvidia")
        );
        assert_eq!(
            org_url("a/b c?#é").as_deref(),
            Some("https://huggingface.co/a%2Fb%20c%3F%23%C3%A9")
        );
        assert_eq!(org_url(".."), None);
        assert_eq!(org_url(""), None);
    }
}
