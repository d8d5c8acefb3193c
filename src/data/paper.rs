//! The normalized paper: what every feed, filter and page works from.
//!
//! A [`Paper`] is built once, when a daily list is ingested: text is cleaned for XML, arXiv
//! line-wraps are joined, URLs are checked, the item date is decided, and the words used by
//! search are folded. Nothing of this is redone per request.

use std::sync::{Arc, OnceLock};

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use serde::Serialize;
use url::Url;

use crate::common::format::{Format, PerFormat};
use crate::common::stitch::Precompressed;
use crate::common::text::{clean_inline, fold_words};
use raw::{RawItem, RawOrganization};

pub mod raw;

/// A paper as listed on one day of Daily Papers.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Paper {
    /// arXiv id without version, e.g. `2606.06113`.
    pub id: String,
    pub title: String,
    /// The abstract, line-wraps joined and whitespace collapsed.
    pub abstract_text: String,
    pub ai_summary: Option<String>,
    pub keywords: Vec<String>,
    pub authors: Vec<String>,
    pub upvotes: u64,
    pub comments: u64,
    pub github_repo: Option<String>,
    pub github_stars: Option<u64>,
    pub project_page: Option<String>,
    pub organization: Option<Organization>,
    pub thumbnail: Option<String>,
    /// The day of the daily list this copy of the paper came from.
    pub day: NaiveDate,
    /// The item date: when the paper entered Daily Papers, or the list's day at 00:00 UTC.
    pub date: DateTime<Utc>,
    /// Folded words for search; derived from the fields above.
    #[serde(skip)]
    pub search: SearchIndex,
    /// The paper's item as each feed format writes it, rendered the first time a feed needs
    /// it and then shared by every feed (and every clone of the paper).
    #[serde(skip)]
    pub items: ItemCache,
}

/// A paper's rendered items, one cell per feed format ([`crate::render::parts`]), and each also
/// compressed once ([`crate::common::stitch`]). Clones share the cells. Derived from the paper's
/// fields, so it takes no part in comparing papers.
#[derive(Clone, Default)]
pub struct ItemCache(Arc<ItemCells>);

#[derive(Default)]
struct ItemCells {
    items: PerFormat<OnceLock<Box<[u8]>>>,
    compressed: PerFormat<OnceLock<Arc<Precompressed>>>,
}

impl ItemCache {
    /// The item in `format`, if rendered.
    pub fn get(&self, format: Format) -> Option<&[u8]> {
        self.0.items.get(format).get().map(|b| &**b)
    }

    /// Keeps `item` as the item in `format` unless one is there already; the one kept.
    pub fn keep(&self, format: Format, item: Vec<u8>) -> &[u8] {
        self.0
            .items
            .get(format)
            .get_or_init(|| item.into_boxed_slice())
    }

    /// The item in `format`, compressed, if it was.
    pub fn compressed(&self, format: Format) -> Option<&Arc<Precompressed>> {
        self.0.compressed.get(format).get()
    }

    /// Keeps the compressed item in `format` unless one is there already; the one kept.
    pub fn keep_compressed(
        &self,
        format: Format,
        compressed: Precompressed,
    ) -> &Arc<Precompressed> {
        self.0
            .compressed
            .get(format)
            .get_or_init(|| Arc::new(compressed))
    }

    /// Whether both are the same cells (a refresh carried them over).
    pub fn shares(&self, other: &ItemCache) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }

    /// Bytes held, for memory accounting.
    pub fn bytes(&self) -> usize {
        let items: usize = self
            .0
            .items
            .iter()
            .filter_map(OnceLock::get)
            .map(|b| b.len())
            .sum();
        let compressed: usize = self
            .0
            .compressed
            .iter()
            .filter_map(OnceLock::get)
            .map(|c| c.compressed().len())
            .sum();
        items + compressed
    }
}

impl std::fmt::Debug for ItemCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ItemCache({} bytes)", self.bytes())
    }
}

impl PartialEq for ItemCache {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

/// The Hugging Face organization a paper is filed under.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Organization {
    /// The short handle, e.g. `nvidia`.
    pub name: String,
    /// The display name, e.g. `NVIDIA`.
    pub fullname: Option<String>,
}

/// A field a search term can be restricted to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    Title,
    Abstract,
    Author,
    Keyword,
    Org,
}

impl Field {
    /// The fields a term without a field prefix is looked for in.
    pub const DEFAULT: [Field; 3] = [Field::Title, Field::Abstract, Field::Keyword];

    /// The name used as a prefix in search expressions (`title:`).
    pub fn name(self) -> &'static str {
        match self {
            Field::Title => "title",
            Field::Abstract => "abstract",
            Field::Author => "author",
            Field::Keyword => "keyword",
            Field::Org => "org",
        }
    }

    pub fn from_name(name: &str) -> Option<Field> {
        [
            Field::Title,
            Field::Abstract,
            Field::Author,
            Field::Keyword,
            Field::Org,
        ]
        .into_iter()
        .find(|f| f.name() == name)
    }
}

/// The folded words of each searchable field.
///
/// Each field is one string: words (letters and digits only, folded by
/// [`crate::common::text::fold_words`]) separated by one space, and segments separated by `\n`. A
/// segment is a unit a phrase may not cross: one author's name, one keyword, the title.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchIndex {
    title: String,
    abstract_text: String,
    keywords: String,
    authors: String,
    org: String,
}

impl SearchIndex {
    /// The folded text of `field`: segments separated by `\n`, words by a space.
    pub fn field(&self, field: Field) -> &str {
        match field {
            Field::Title => &self.title,
            Field::Abstract => &self.abstract_text,
            Field::Author => &self.authors,
            Field::Keyword => &self.keywords,
            Field::Org => &self.org,
        }
    }
}

/// Folds each segment and joins them in the [`SearchIndex`] layout.
fn fold_segments<'a>(segments: impl IntoIterator<Item = &'a str>) -> String {
    let mut out = String::new();
    for segment in segments {
        let words = fold_words(segment);
        if words.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push('\n');
        }
        for (i, word) in words.iter().enumerate() {
            if i > 0 {
                out.push(' ');
            }
            out.push_str(word);
        }
    }
    out.shrink_to_fit();
    out
}

/// Why an upstream item could not become a [`Paper`].
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum InvalidItem {
    #[error("the paper id {0:?} is not an arXiv id")]
    BadId(String),
    #[error("paper {0} has no title")]
    NoTitle(String),
}

/// Cleans optional text; empty after cleaning means absent.
fn clean_opt(raw: Option<&str>) -> Option<String> {
    raw.map(clean_inline).filter(|s| !s.is_empty())
}

/// Keeps a URL only when it is absolute `http` or `https`, so that no `javascript:` or
/// relative link from upstream ever reaches a feed or a page.
fn web_url(raw: Option<&str>) -> Option<String> {
    let raw = raw?.trim();
    let url = Url::parse(raw).ok()?;
    matches!(url.scheme(), "http" | "https").then(|| url.to_string())
}

/// arXiv ids are short and made of letters, digits, `.`, `/` and `-` (`2606.06113`,
/// `cs/0501001`); anything else would not make a safe link.
fn is_arxiv_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '/' | '-'))
        && id.chars().any(|c| c.is_ascii_digit())
}

fn organization(raw: Option<&RawOrganization>) -> Option<Organization> {
    let raw = raw?;
    let name = clean_opt(raw.name.as_deref())?;
    Some(Organization {
        name,
        fullname: clean_opt(raw.fullname.as_deref()),
    })
}

impl Paper {
    /// Normalizes one upstream item listed on `day`.
    pub fn from_raw(raw: &RawItem, day: NaiveDate) -> Result<Paper, InvalidItem> {
        let p = &raw.paper;
        let id = p.id.trim().to_owned();
        if !is_arxiv_id(&id) {
            return Err(InvalidItem::BadId(p.id.clone()));
        }
        let title = clean_opt(raw.title.as_deref())
            .or_else(|| clean_opt(p.title.as_deref()))
            .ok_or_else(|| InvalidItem::NoTitle(id.clone()))?;
        let abstract_text = clean_opt(raw.summary.as_deref())
            .or_else(|| clean_opt(p.summary.as_deref()))
            .unwrap_or_default();
        let keywords: Vec<String> = p
            .ai_keywords
            .iter()
            .flatten()
            .filter_map(|k| clean_opt(Some(k)))
            .collect();
        let authors: Vec<String> = p
            .authors
            .iter()
            .filter_map(|a| clean_opt(a.name.as_deref()))
            .collect();
        let organization = organization(p.organization.as_ref())
            .or_else(|| organization(raw.organization.as_ref()));
        let midnight = day.and_time(NaiveTime::MIN).and_utc();
        let date = p.submitted_on_daily_at.unwrap_or(midnight);

        let search = SearchIndex {
            title: fold_segments([title.as_str()]),
            abstract_text: fold_segments([abstract_text.as_str()]),
            keywords: fold_segments(keywords.iter().map(String::as_str)),
            authors: fold_segments(authors.iter().map(String::as_str)),
            org: organization
                .as_ref()
                .map(|o| fold_segments([o.name.as_str(), o.fullname.as_deref().unwrap_or("")]))
                .unwrap_or_default(),
        };

        Ok(Paper {
            title,
            abstract_text,
            ai_summary: clean_opt(p.ai_summary.as_deref()),
            keywords,
            authors,
            upvotes: p.upvotes.unwrap_or(0),
            comments: raw.num_comments.unwrap_or(0),
            github_repo: web_url(p.github_repo.as_deref()),
            github_stars: p.github_stars,
            project_page: web_url(p.project_page.as_deref()),
            organization,
            thumbnail: web_url(raw.thumbnail.as_deref()),
            day,
            date,
            search,
            items: ItemCache::default(),
            id,
        })
    }

    /// Heap bytes of the paper's text and folded words (its rendered items are counted
    /// apart, by [`ItemCache::bytes`], as they are made later).
    pub fn heap_bytes(&self) -> usize {
        // Each allocation also costs the allocator its header and rounding.
        const PER_ALLOCATION: usize = crate::telemetry::memory::ALLOCATION_BYTES;
        let one = |s: &String| s.capacity() + PER_ALLOCATION;
        let opt = |s: &Option<String>| s.as_ref().map_or(0, one);
        let list = |v: &Vec<String>| {
            v.capacity() * std::mem::size_of::<String>()
                + PER_ALLOCATION
                + v.iter().map(one).sum::<usize>()
        };
        let search = &self.search;
        one(&self.id)
            + one(&self.title)
            + one(&self.abstract_text)
            + opt(&self.ai_summary)
            + list(&self.keywords)
            + list(&self.authors)
            + opt(&self.github_repo)
            + opt(&self.project_page)
            + opt(&self.thumbnail)
            + self
                .organization
                .as_ref()
                .map_or(0, |o| one(&o.name) + opt(&o.fullname))
            + one(&search.title)
            + one(&search.abstract_text)
            + one(&search.keywords)
            + one(&search.authors)
            + one(&search.org)
            // The shared cells of the rendered items, made or not.
            + std::mem::size_of::<ItemCells>()
    }

    /// `https://huggingface.co/papers/<id>`: the link, guid and id in every format.
    pub fn hf_url(&self) -> String {
        format!("https://huggingface.co/papers/{}", self.id)
    }

    /// `https://arxiv.org/abs/<id>`.
    pub fn arxiv_url(&self) -> String {
        format!("https://arxiv.org/abs/{}", self.id)
    }

    /// `https://arxiv.org/pdf/<id>`.
    pub fn pdf_url(&self) -> String {
        format!("https://arxiv.org/pdf/{}", self.id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(json: serde_json::Value) -> RawItem {
        serde_json::from_value(json).unwrap()
    }

    fn day() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 8, 3).unwrap()
    }

    #[test]
    fn old_shape_item_gets_list_date_and_joined_wraps() {
        let raw = item(serde_json::json!({
            "paper": {
                "id": "2410.17243",
                "authors": [{"name": "Zesen Cheng"}, {"name": "  "}],
                "title": "Breaking the Memory Barrier: Near Infinite Batch Size Scaling for\n  Contrastive Loss",
                "summary": "Contrastive loss is a powerful approach for representation learning, where\nlarger batch sizes",
                "upvotes": 64
            },
            "thumbnail": "javascript:alert(1)",
            "numComments": 3
        }));
        let paper = Paper::from_raw(&raw, day()).unwrap();
        assert_eq!(
            paper.title,
            "Breaking the Memory Barrier: Near Infinite Batch Size Scaling for Contrastive Loss"
        );
        assert!(paper.abstract_text.contains("learning, where larger"));
        assert_eq!(paper.date, day().and_hms_opt(0, 0, 0).unwrap().and_utc());
        assert_eq!(paper.authors, ["Zesen Cheng"]);
        assert_eq!(paper.thumbnail, None);
        assert_eq!(paper.comments, 3);
        assert_eq!(paper.search.field(Field::Title).lines().count(), 1);
        assert!(
            paper
                .search
                .field(Field::Title)
                .starts_with("breaking the memory")
        );
    }

    #[test]
    fn authors_and_keywords_are_separate_segments() {
        let raw = item(serde_json::json!({
            "paper": {
                "id": "2606.06113",
                "authors": [{"name": "Jörg Müller"}, {"name": "Ayşe Yılmaz"}],
                "title": "T",
                "ai_keywords": ["text-to-image models", "VLM"],
                "submittedOnDailyAt": "2026-06-12T07:48:22.082Z",
                "organization": {"name": "Kwai-Kolors", "fullname": "Kolors Team"}
            },
            "title": "T"
        }));
        let paper = Paper::from_raw(&raw, day()).unwrap();
        assert_eq!(
            paper.search.field(Field::Author),
            "jorg muller\nayse yilmaz"
        );
        assert_eq!(
            paper.search.field(Field::Keyword),
            "text to image models\nvlm"
        );
        assert_eq!(paper.search.field(Field::Org), "kwai kolors\nkolors team");
        assert_eq!(paper.date.to_rfc3339(), "2026-06-12T07:48:22.082+00:00");
    }

    #[test]
    fn unusable_ids_and_titles_are_rejected() {
        let bad_id = item(serde_json::json!({"paper": {"id": "<script>", "title": "x"}}));
        assert!(matches!(
            Paper::from_raw(&bad_id, day()),
            Err(InvalidItem::BadId(_))
        ));
        let no_title = item(serde_json::json!({"paper": {"id": "2601.00001"}, "title": " \u{7} "}));
        assert!(matches!(
            Paper::from_raw(&no_title, day()),
            Err(InvalidItem::NoTitle(_))
        ));
    }
}
