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
use crate::common::shared_text::{Packer, Text, Texts, pool};
use crate::common::stitch::Precompressed;
use crate::common::text::{clean_inline, fold_words};
use raw::{RawItem, RawOrganization};

pub mod raw;

/// A paper as listed on one day of Daily Papers. Its text is a range of its list's packed
/// block ([`pack`]): a clone shares that block, so a clone kept apart from its list keeps the
/// whole block alive; put kept clones in a list of their own ([`crate::data::daily_list`]
/// packs them again).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Paper {
    /// arXiv id without version, e.g. `2606.06113`.
    pub id: Text,
    pub title: Text,
    /// The abstract, line-wraps joined and whitespace collapsed.
    pub abstract_text: Text,
    pub ai_summary: Option<Text>,
    pub keywords: Texts,
    pub authors: Texts,
    pub upvotes: u64,
    pub comments: u64,
    pub github_repo: Option<Text>,
    pub github_stars: Option<u64>,
    pub project_page: Option<Text>,
    pub organization: Option<Organization>,
    pub thumbnail: Option<Text>,
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
/// compressed once ([`crate::common::stitch`]). The cells are made with the first item kept
/// (most papers of a long archive are never rendered); clones made after that share them.
/// Derived from the paper's fields, so it takes no part in comparing papers.
#[derive(Clone, Default)]
pub struct ItemCache(OnceLock<Arc<ItemCells>>);

#[derive(Default)]
struct ItemCells {
    items: PerFormat<OnceLock<Box<[u8]>>>,
    compressed: PerFormat<OnceLock<Arc<Precompressed>>>,
}

impl ItemCache {
    /// The item in `format`, if rendered.
    pub fn get(&self, format: Format) -> Option<&[u8]> {
        self.0.get()?.items.get(format).get().map(|b| &**b)
    }

    fn cells(&self) -> &ItemCells {
        self.0.get_or_init(Arc::default)
    }

    /// Keeps `item` as the item in `format` unless one is there already; the one kept.
    pub fn keep(&self, format: Format, item: Vec<u8>) -> &[u8] {
        self.cells()
            .items
            .get(format)
            .get_or_init(|| item.into_boxed_slice())
    }

    /// The item in `format`, compressed, if it was.
    pub fn compressed(&self, format: Format) -> Option<&Arc<Precompressed>> {
        self.0.get()?.compressed.get(format).get()
    }

    /// Keeps the compressed item in `format` unless one is there already; the one kept.
    pub fn keep_compressed(
        &self,
        format: Format,
        compressed: Precompressed,
    ) -> &Arc<Precompressed> {
        self.cells()
            .compressed
            .get(format)
            .get_or_init(|| Arc::new(compressed))
    }

    /// Whether both are the same cells (a refresh carried them over).
    pub fn shares(&self, other: &ItemCache) -> bool {
        matches!((self.0.get(), other.0.get()), (Some(a), Some(b)) if Arc::ptr_eq(a, b))
    }

    /// Bytes held, for memory accounting: the cells, once made, and what they hold.
    pub fn bytes(&self) -> usize {
        let Some(cells) = self.0.get() else {
            return 0;
        };
        let items: usize = cells
            .items
            .iter()
            .filter_map(OnceLock::get)
            .map(|b| b.len())
            .sum();
        let compressed: usize = cells
            .compressed
            .iter()
            .filter_map(OnceLock::get)
            .map(|c| c.compressed().len())
            .sum();
        crate::telemetry::memory::arc_bytes::<ItemCells>() + items + compressed
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
    pub name: Text,
    /// The display name, e.g. `NVIDIA`.
    pub fullname: Option<Text>,
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
    title: Text,
    abstract_text: Text,
    keywords: Text,
    authors: Text,
    org: Text,
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

    fn texts(&self) -> [&Text; 5] {
        [
            &self.title,
            &self.abstract_text,
            &self.keywords,
            &self.authors,
            &self.org,
        ]
    }

    fn texts_mut(&mut self) -> [&mut Text; 5] {
        [
            &mut self.title,
            &mut self.abstract_text,
            &mut self.keywords,
            &mut self.authors,
            &mut self.org,
        ]
    }
}

/// Copies all the text of `papers` (a daily list's) into one block: one allocation that is
/// freed whole when the last of them goes, instead of about thirty small ones per paper
/// ([`crate::common::shared_text`]). Their text reads the same after.
pub fn pack(papers: &mut [Paper]) {
    let mut total = 0;
    for paper in papers.iter() {
        paper.visit_texts(&mut |t| total += t.len());
    }
    let mut packer = Packer::with_capacity(total);
    for paper in papers.iter() {
        paper.visit_texts(&mut |t| packer.add(t));
    }
    let mut packed = packer.finish();
    for paper in papers.iter_mut() {
        paper.replace_texts(&mut |t| packed.take(t));
    }
    let mut lists: Vec<&mut Texts> = papers
        .iter_mut()
        .flat_map(|p| [&mut p.keywords, &mut p.authors])
        .collect();
    pool(&mut lists);
}

/// Folds each segment and joins them in the [`SearchIndex`] layout.
fn fold_segments<'a>(segments: impl IntoIterator<Item = &'a str>) -> Text {
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
    Text::from(out)
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
fn clean_opt(raw: Option<&str>) -> Option<Text> {
    raw.map(clean_inline)
        .filter(|s| !s.is_empty())
        .map(Text::from)
}

/// Keeps a URL only when it is absolute `http` or `https`, so that no `javascript:` or
/// relative link from upstream ever reaches a feed or a page.
fn web_url(raw: Option<&str>) -> Option<Text> {
    let raw = raw?.trim();
    let url = Url::parse(raw).ok()?;
    matches!(url.scheme(), "http" | "https").then(|| Text::from(String::from(url)))
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
        let id = Text::from(p.id.trim());
        if !is_arxiv_id(&id) {
            return Err(InvalidItem::BadId(p.id.clone()));
        }
        let title = clean_opt(raw.title.as_deref())
            .or_else(|| clean_opt(p.title.as_deref()))
            .ok_or_else(|| InvalidItem::NoTitle(id.to_string()))?;
        let abstract_text = clean_opt(raw.summary.as_deref())
            .or_else(|| clean_opt(p.summary.as_deref()))
            .unwrap_or_default();
        let keywords: Texts = p
            .ai_keywords
            .iter()
            .flatten()
            .filter_map(|k| clean_opt(Some(k)))
            .collect();
        let authors: Texts = p
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
            keywords: fold_segments(keywords.iter().map(Text::as_str)),
            authors: fold_segments(authors.iter().map(Text::as_str)),
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

    /// Heap bytes of the paper: its text and folded words, and its lists of authors and
    /// keywords (its share of the block and of the pool they are packed in, [`pack`]). Its
    /// rendered items are counted apart, by [`ItemCache::bytes`], as they are made later.
    pub fn heap_bytes(&self) -> usize {
        let mut text = 0;
        self.visit_texts(&mut |t| text += t.len());
        text + (self.keywords.len() + self.authors.len()) * std::mem::size_of::<Text>()
    }

    /// Calls `f` on each text of the paper, always in the same order.
    fn visit_texts(&self, f: &mut impl FnMut(&Text)) {
        let org = self.organization.as_ref();
        let single = [&self.id, &self.title, &self.abstract_text];
        let optional = [
            &self.ai_summary,
            &self.github_repo,
            &self.project_page,
            &self.thumbnail,
        ];
        single.into_iter().for_each(&mut *f);
        optional.into_iter().flatten().for_each(&mut *f);
        self.keywords
            .iter()
            .chain(self.authors.iter())
            .for_each(&mut *f);
        org.map(|o| &o.name).into_iter().for_each(&mut *f);
        org.and_then(|o| o.fullname.as_ref())
            .into_iter()
            .for_each(&mut *f);
        self.search.texts().into_iter().for_each(f);
    }

    /// [`Paper::visit_texts`], each text to be replaced.
    fn replace_texts(&mut self, f: &mut impl FnMut(&Text) -> Text) {
        let org = self.organization.as_mut();
        let single = [&mut self.id, &mut self.title, &mut self.abstract_text];
        let optional = [
            &mut self.ai_summary,
            &mut self.github_repo,
            &mut self.project_page,
            &mut self.thumbnail,
        ];
        let mut replace = |t: &mut Text| *t = f(t);
        single.into_iter().for_each(&mut replace);
        optional.into_iter().flatten().for_each(&mut replace);
        for list in [&mut self.keywords, &mut self.authors] {
            *list = list.iter().map(&mut *f).collect();
        }
        let mut replace = |t: &mut Text| *t = f(t);
        if let Some(o) = org {
            replace(&mut o.name);
            o.fullname.iter_mut().for_each(&mut replace);
        }
        self.search.texts_mut().into_iter().for_each(replace);
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
    fn packing_keeps_every_text_and_puts_it_all_in_one_block() {
        let raw = |id: &str| {
            item(serde_json::json!({
                "paper": {
                    "id": id,
                    "authors": [{"name": "Jörg Müller"}, {"name": "Ayşe Yılmaz"}],
                    "title": format!("Paper {id}"),
                    "summary": "An abstract, with words.",
                    "ai_summary": "A summary.",
                    "ai_keywords": ["text-to-image models", "VLM"],
                    "githubRepo": "https://github.com/a/b",
                    "projectPage": "https://example.org/p",
                    "organization": {"name": "Kwai-Kolors", "fullname": "Kolors Team"}
                },
                "thumbnail": "https://example.org/t.png"
            }))
        };
        let papers: Vec<Paper> = ["2606.06113", "2606.06114"]
            .iter()
            .map(|id| Paper::from_raw(&raw(id), day()).unwrap())
            .collect();
        let mut packed = papers.clone();
        pack(&mut packed);
        assert_eq!(packed, papers, "every text reads as before");
        let block = packed[0].id.clone();
        let mut texts = 0;
        let mut bytes = 0;
        for paper in &packed {
            paper.visit_texts(&mut |t| {
                assert!(t.shares_block(&block), "{t:?} is in a block of its own");
                texts += 1;
                bytes += t.len();
            });
        }
        assert_eq!(texts, 2 * 18, "each paper's 18 texts were visited");
        assert_eq!(
            block.block_len(),
            bytes,
            "the block holds the texts and nothing else"
        );
        assert!(
            !papers[0].id.shares_block(&papers[0].title),
            "unpacked, each has its own"
        );
        let pool = &packed[0].keywords;
        for paper in &packed {
            assert!(paper.keywords.shares_pool(pool) && paper.authors.shares_pool(pool));
        }
        assert!(!papers[0].keywords.shares_pool(&papers[0].authors));
    }

    #[test]
    fn item_cells_are_made_with_the_first_item_kept_and_weighed_from_then() {
        let cache = ItemCache::default();
        assert_eq!(cache.bytes(), 0, "a paper never rendered holds no cells");
        assert_eq!(cache.get(Format::Atom), None);
        let before = cache.clone();
        assert_eq!(cache.keep(Format::Atom, b"<entry/>".to_vec()), b"<entry/>");
        let cells = crate::telemetry::memory::arc_bytes::<ItemCells>();
        assert_eq!(cache.bytes(), cells + b"<entry/>".len());
        assert!(
            cache.clone().shares(&cache),
            "clones made after share the cells"
        );
        assert!(!before.shares(&cache) && before.get(Format::Atom).is_none());
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
