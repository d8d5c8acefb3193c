//! The HTML pages, `/` and `/preview`: askama templates (checked at compile time, every value
//! HTML-escaped) and the views they show. No JavaScript and no external assets, so the pages
//! work in any browser, behind any proxy, with scripts off.

use actix_web::web::Bytes;
use askama::Template;
use chrono::NaiveDate;

use crate::common::format::Format;
use crate::data::paper::Paper;
pub use crate::render::preview_form::FormView;

/// The service's icon in `favicon.ico` (16, 32 and 48 px) and `icon.png` (512 px), embedded
/// in the binary (drawn by `assets/make-icons.py`): served by `/favicon.ico` and `/icon.png`,
/// named in every feed, linked from the pages and written by the export.
pub const FAVICON: &[u8] = include_bytes!("../../assets/favicon.ico");
pub const ICON_PNG: &[u8] = include_bytes!("../../assets/icon.png");

/// The version shown in the footer.
const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The three URLs of one feed, absolute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedLinks {
    pub rss: String,
    pub atom: String,
    pub json: String,
}

impl FeedLinks {
    /// `<base><path>.<ext>[?<query>]` for each format.
    pub fn new(base: &str, path: &str, query: &str) -> FeedLinks {
        let url = |format: Format| {
            if query.is_empty() {
                format!("{base}{path}.{}", format.name())
            } else {
                format!("{base}{path}.{}?{query}", format.name())
            }
        };
        FeedLinks {
            rss: url(Format::Rss),
            atom: url(Format::Atom),
            json: url(Format::Json),
        }
    }
}

/// A `<link rel="alternate">` for feed autodiscovery.
#[derive(Debug, Clone)]
pub struct Alternate {
    pub mime: &'static str,
    pub title: String,
    pub href: String,
}

impl Alternate {
    /// One per format of `links`, titled `title (Atom)` and so on, Atom first.
    pub fn for_links(title: &str, links: &FeedLinks) -> [Alternate; 3] {
        [
            ("application/atom+xml", "Atom", &links.atom),
            ("application/rss+xml", "RSS", &links.rss),
            ("application/feed+json", "JSON Feed", &links.json),
        ]
        .map(|(mime, name, href)| Alternate {
            mime,
            title: format!("{title} ({name})"),
            href: href.clone(),
        })
    }
}

/// The why of the order of feed links, shown once on each page.
pub const ATOM_FIRST: &str = "Atom comes first: feed readers show its titles exactly as on \
     Hugging Face, while some (those built on feedparser, Liferea) change RSS titles that \
     contain <, & or markup-like text. RSS and JSON Feed hold the same papers.";

/// A topic as the home page lists it.
#[derive(Debug, Clone)]
pub struct TopicView {
    pub name: String,
    pub title: String,
    pub description: String,
    /// The query as written in the settings (empty for none).
    pub query: String,
    /// Papers in the last `feeds.default_days` days; `None` when no day could be loaded.
    pub count: Option<usize>,
    pub feeds: FeedLinks,
    /// Its daily and weekly digests, as Atom.
    pub daily_digest: String,
    pub weekly_digest: String,
    /// `/preview?<query>`, relative: navigation stays on whatever host served the page.
    pub preview: String,
}

/// The home page as last rendered for each link base, with the version of the days it counts
/// and the day it was rendered for: a crawler hammering `/` costs one render per data change,
/// not one per request. At most one page per base ([`crate::http::base::MAX_HOSTS`] and the
/// fallback).
#[derive(Debug, Default)]
pub struct HomeCache {
    pages: std::sync::Mutex<Vec<HomeEntry>>,
}

#[derive(Debug)]
struct HomeEntry {
    base: std::sync::Arc<str>,
    version: u64,
    today: NaiveDate,
    body: Bytes,
}

impl HomeCache {
    /// The page rendered for `base`, `version` and `today`, if it is the last one.
    pub fn get(&self, base: &str, version: u64, today: NaiveDate) -> Option<Bytes> {
        let pages = self.pages.lock().unwrap_or_else(|e| e.into_inner());
        pages
            .iter()
            .find(|p| &*p.base == base && p.version == version && p.today == today)
            .map(|p| p.body.clone())
    }

    /// Keeps `body` as the page for `base`, `version` and `today`, and returns it.
    pub fn put(
        &self,
        base: std::sync::Arc<str>,
        version: u64,
        today: NaiveDate,
        body: String,
    ) -> Bytes {
        let body = Bytes::from(body);
        let mut pages = self.pages.lock().unwrap_or_else(|e| e.into_inner());
        pages.retain(|p| p.base != base);
        if pages.len() > crate::http::base::MAX_HOSTS {
            pages.remove(0);
        }
        pages.push(HomeEntry {
            base,
            version,
            today,
            body: body.clone(),
        });
        body
    }

    /// Bytes held.
    pub fn bytes(&self) -> u64 {
        let pages = self.pages.lock().unwrap_or_else(|e| e.into_inner());
        pages
            .iter()
            .map(|p| (p.body.len() + p.base.len()) as u64)
            .sum()
    }
}

/// `/`: the topics, the OPML links, and the form.
/// Where a home page is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Site {
    /// Served by paperboy: absolute links, the form, previews.
    Served,
    /// The `index.html` of a static export (`paperboy export`): links relative to it, to the
    /// exported files only, and no form (there is no server to answer it).
    Static,
}

impl Site {
    /// What links to the icons and the home page start with.
    fn root(self) -> &'static str {
        match self {
            Site::Served => "/",
            Site::Static => "./",
        }
    }
}

#[derive(Debug, Template)]
#[template(path = "home.html")]
pub struct HomePage {
    pub version: &'static str,
    /// What links to the icons and the home page start with (`/`, or `./` in an export).
    pub root: &'static str,
    pub static_site: bool,
    pub alternates: Vec<Alternate>,
    pub topics: Vec<TopicView>,
    pub default_days: u32,
    /// Every paper, unfiltered.
    pub all: FeedLinks,
    /// `/topics.opml` listing RSS, Atom or JSON feeds.
    pub opml: FeedLinks,
    /// The daily and weekly digests of every paper, as Atom.
    pub daily_digest: String,
    pub weekly_digest: String,
    pub atom_first: &'static str,
    pub form: FormView,
}

impl HomePage {
    /// The page for `site`; `public_url` is the base of every link (`.` for an export).
    pub fn new(
        site: Site,
        public_url: &str,
        topics: Vec<TopicView>,
        default_days: u32,
        form: FormView,
    ) -> HomePage {
        let all = FeedLinks::new(public_url, "/feed", "");
        let mut alternates: Vec<Alternate> =
            Alternate::for_links(crate::render::meta::BASE_TITLE, &all).into();
        for topic in &topics {
            let title = format!("{} — {}", crate::render::meta::BASE_TITLE, topic.title);
            alternates.extend(Alternate::for_links(&title, &topic.feeds));
        }
        let opml_url = |format: &str| format!("{public_url}/topics.opml?format={format}");
        HomePage {
            version: VERSION,
            root: site.root(),
            static_site: site == Site::Static,
            alternates,
            topics,
            default_days,
            all,
            opml: FeedLinks {
                rss: opml_url("rss"),
                atom: format!("{public_url}/topics.opml"),
                json: opml_url("json"),
            },
            daily_digest: format!("{public_url}/digest.atom"),
            weekly_digest: format!("{public_url}/digest.atom?period=week"),
            atom_first: ATOM_FIRST,
            form,
        }
    }
}

/// A paper as the preview lists it.
#[derive(Debug, Clone)]
pub struct PaperView {
    pub title: String,
    /// Its Hugging Face page.
    pub url: String,
    pub authors: String,
    pub upvotes: u64,
    /// The day of the daily list it is counted for.
    pub day: String,
    /// The AI summary, else the start of the abstract.
    pub summary: String,
}

/// A digest item as the preview shows it: the period and its papers.
#[derive(Debug, Clone)]
pub struct PeriodView {
    /// `Top 10 papers of Friday 14 August 2026`.
    pub title: String,
    /// The period's Hugging Face page.
    pub url: String,
    pub papers: Vec<PaperView>,
}

/// Authors shown before "and N more".
const MAX_AUTHORS_SHOWN: usize = 8;

impl From<&Paper> for PaperView {
    fn from(paper: &Paper) -> Self {
        let shown = paper.authors.len().min(MAX_AUTHORS_SHOWN);
        let mut authors = paper.authors[..shown].join(", ");
        if paper.authors.len() > shown {
            authors.push_str(&format!(" and {} more", paper.authors.len() - shown));
        }
        PaperView {
            title: paper.title.to_string(),
            url: paper.hf_url(),
            authors,
            upvotes: paper.upvotes,
            day: paper.day.to_string(),
            summary: crate::render::digest::gist(paper),
        }
    }
}

/// Why the preview shows no papers.
#[derive(Debug, Clone)]
pub struct ErrorView {
    pub heading: &'static str,
    /// The same sentence a feed's problem+json carries.
    pub detail: String,
    pub parameter: Option<String>,
}

/// `/preview`: the papers a query selects and its feed URLs, or why it cannot.
#[derive(Debug, Template)]
#[template(path = "preview.html")]
pub struct PreviewPage {
    pub version: &'static str,
    pub root: &'static str,
    pub form: FormView,
    pub error: Option<ErrorView>,
    /// `None` when the query is invalid.
    pub feeds: Option<FeedLinks>,
    pub feed_title: String,
    pub papers: Vec<PaperView>,
    /// A digest's items, newest first (`None` for a feed of papers).
    pub periods: Option<Vec<PeriodView>>,
    /// Which days were looked at, in words.
    pub window: String,
    pub atom_first: &'static str,
}

impl PreviewPage {
    /// A page for an error: the form, filled, and the detail.
    pub fn failed(form: FormView, error: ErrorView) -> PreviewPage {
        PreviewPage {
            version: VERSION,
            root: Site::Served.root(),
            form,
            error: Some(error),
            feeds: None,
            feed_title: String::new(),
            papers: Vec::new(),
            periods: None,
            window: String::new(),
            atom_first: ATOM_FIRST,
        }
    }

    /// A page for a query: its feed URLs and what the feed holds, either `papers` or a
    /// digest's `periods`.
    pub fn selected(
        form: FormView,
        feeds: FeedLinks,
        feed_title: String,
        papers: Vec<PaperView>,
        periods: Option<Vec<PeriodView>>,
        window: String,
    ) -> PreviewPage {
        PreviewPage {
            version: VERSION,
            root: Site::Served.root(),
            form,
            error: None,
            feeds: Some(feeds),
            feed_title,
            papers,
            periods,
            window,
            atom_first: ATOM_FIRST,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::preview_form::tests::form;

    #[test]
    fn values_are_escaped_in_the_page() {
        let page = PreviewPage::failed(
            form("q=%22%3E%3Cscript%3Ealert(1)%3C/script%3E"),
            ErrorView {
                heading: "This query cannot be used",
                detail: "bad <b>".into(),
                parameter: Some("q".into()),
            },
        );
        let html = page.render().unwrap();
        assert!(!html.contains("<script>"), "{html}");
        assert!(html.contains("bad &#60;b&#62;") || html.contains("bad &lt;b&gt;"));
    }
}
