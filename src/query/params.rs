//! The query parameters of feeds and pages: the raw query string parsed into a [`FeedQuery`],
//! or a [`ParamError`] that names the parameter and says what is accepted.
//!
//! `web::Query` cannot collect repeated keys and its errors name nothing, so the string is
//! decoded by [`crate::query::decode`] (strictly) and parsed here. A topic's saved query goes
//! through the same parser.

use chrono::NaiveDate;

use crate::common::format::Format;
use crate::common::text::clean_inline;
use crate::query::decode::{DecodeError, Pair, decode_pairs, encode_pairs};
use crate::query::limits::FeedSettings;
use crate::query::pattern::Pattern;
use crate::query::period::{Period, Unit};
use crate::query::search::{Phrase, SearchExpr};

pub mod form;
pub mod kinds;
mod parse;
pub mod table;

/// The longest `author` or `org` value, in bytes.
pub const MAX_NAME_BYTES: usize = 200;
/// How many `author` (or `org`) values one query may give.
pub const MAX_NAMES: usize = 20;
/// The largest `top`.
pub const MAX_TOP: u32 = 100;

/// How items are ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Sort {
    /// Newest day first, then upvotes descending, then id.
    #[default]
    Date,
    /// Upvotes descending, then newest day, then id.
    Upvotes,
}

impl Sort {
    pub fn name(self) -> &'static str {
        match self {
            Sort::Date => "date",
            Sort::Upvotes => "upvotes",
        }
    }
}

/// Which route a query string is for: each accepts its own parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum QueryKind {
    /// `/feed*`, topic feeds, `/preview` and the topics' saved queries.
    #[default]
    Feed,
    /// `/digest.*`: `period` and `count` instead of `days`, `week`, `month`, `limit`, `sort`.
    Digest,
    /// `/huggingface/daily-papers...`: the path chooses the days; `filter*` patterns.
    RssHub,
}

/// How a digest cuts its days: into periods of `unit`, `count` of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct DigestSpec {
    pub unit: Unit,
    pub count: Option<u32>,
}

impl DigestSpec {
    /// The largest `count` (of days and weeks; of months, [`Unit::max_count`]).
    pub const MAX_COUNT: u32 = 30;

    pub fn count_or_default(&self) -> u32 {
        self.count.unwrap_or(self.unit.default_count())
    }
}

/// Papers per period of a digest when `top` is not given.
const DIGEST_DEFAULT_TOP: u32 = 10;

/// An `author=` or `org=` value: as given (trimmed; cleaned where shown) and as a phrase of
/// folded words.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct NameFilter {
    pub text: String,
    pub phrase: Phrase,
}

/// `author=` (or `org=`) values given together: a paper matches when any of them matches.
pub type NameGroup = Vec<NameFilter>;

/// A validated feed query. `None` means "not given": the accessors supply defaults.
///
/// A query string gives at most one search expression and one group of authors and of orgs;
/// a topic narrowed by a request ([`FeedQuery::narrowed_by`]) holds the topic's and the
/// request's, and a paper must match every one of them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct FeedQuery {
    /// Search expressions, parsed, with their text as given (trimmed); all must match.
    pub q: Vec<(String, SearchExpr)>,
    /// Author groups; every group must match (within a group, any name).
    pub authors: Vec<NameGroup>,
    /// Organization groups; every group must match (within a group, any name).
    pub orgs: Vec<NameGroup>,
    pub min_upvotes: Option<u64>,
    pub min_comments: Option<u64>,
    pub has_code: Option<bool>,
    pub date: Option<NaiveDate>,
    pub days: Option<u32>,
    pub top: Option<u32>,
    pub sort: Option<Sort>,
    pub limit: Option<u32>,
    pub format: Option<Format>,
    /// `week=` or `month=`: replaces `date` and `days`.
    pub span: Option<Period>,
    /// Set on digests: one item per period.
    pub digest: Option<DigestSpec>,
    /// RSSHub's `filter*` and `filterout*` patterns; every one must keep a paper.
    pub patterns: Vec<Pattern>,
}

/// A parameter that cannot be used: a 400 naming it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{detail}")]
pub struct ParamError {
    /// The parameter at fault (`q`, `min_upvotes`, ...), or `query` for the string as a whole.
    pub parameter: String,
    /// One sentence a person can act on.
    pub detail: String,
}

impl From<DecodeError> for ParamError {
    fn from(e: DecodeError) -> Self {
        Self {
            parameter: e.parameter,
            detail: e.detail,
        }
    }
}

impl ParamError {
    fn new(parameter: &str, detail: impl Into<String>) -> Self {
        Self {
            parameter: parameter.to_owned(),
            detail: detail.into(),
        }
    }
}

/// What parsing needs to know besides the string.
#[derive(Debug, Clone, Copy)]
pub struct ParseContext<'a> {
    /// Today (UTC): `date` may not be later.
    pub today: NaiveDate,
    pub feeds: &'a FeedSettings,
    /// Whether `format` is accepted (on `/feed` and the RSSHub paths).
    pub allow_format: bool,
    pub kind: QueryKind,
}

impl QueryKind {
    /// Why `param`, which this kind of query does not take, does not apply to it, where its
    /// kinds tell: a parameter of the routes that name their format, or one of a feed of
    /// papers on a digest (which lists periods) or an RSSHub path (whose path chooses the
    /// days).
    fn refusal(self, param: &table::Param) -> Option<String> {
        let key = param.name;
        if param.kinds.format_routes() {
            return Some(
                "The parameter format is only accepted on /feed and /huggingface/daily-papers; \
                 this URL already names its format."
                    .to_owned(),
            );
        }
        if !param.kinds.has(QueryKind::Feed) {
            return None;
        }
        match self {
            QueryKind::Digest => Some(format!(
                "{key} does not apply to a digest, which lists periods: choose them with period \
                 (day, week or month), count and date."
            )),
            QueryKind::RssHub => Some(format!(
                "{key} does not apply here: the path chooses the days \
                 (/huggingface/daily-papers/date, /week or /month)."
            )),
            QueryKind::Feed => None,
        }
    }
}

impl FeedQuery {
    /// This query (a topic's) narrowed by `request`: the search expressions, authors and orgs
    /// of both must match (AND), while the request's `days`, `date`, `limit`, `sort`, `top`,
    /// `min_*` and `has_code`, where given, replace this query's. The days come from one of
    /// them whole: `date`, `days`, `week` and `month` of the request if it gives any.
    pub fn narrowed_by(&self, request: &FeedQuery) -> FeedQuery {
        let both = |a: &[NameGroup], b: &[NameGroup]| [a, b].concat();
        let days_from =
            if request.date.is_some() || request.days.is_some() || request.span.is_some() {
                request
            } else {
                self
            };
        FeedQuery {
            q: [self.q.as_slice(), request.q.as_slice()].concat(),
            authors: both(&self.authors, &request.authors),
            orgs: both(&self.orgs, &request.orgs),
            min_upvotes: request.min_upvotes.or(self.min_upvotes),
            min_comments: request.min_comments.or(self.min_comments),
            has_code: request.has_code.or(self.has_code),
            date: days_from.date,
            days: days_from.days,
            span: days_from.span,
            top: request.top.or(self.top),
            sort: request.sort.or(self.sort),
            limit: request.limit.or(self.limit),
            format: request.format.or(self.format),
            digest: request.digest.or(self.digest),
            patterns: [self.patterns.as_slice(), request.patterns.as_slice()].concat(),
        }
    }

    /// The digest of a topic (this query) narrowed by `request`: the topic's filters and the
    /// request's, and only the request's `top` and `date` (a topic's `top`, `days`, `sort`
    /// and `limit` are for its feed of papers).
    pub fn digest_narrowed_by(&self, request: &FeedQuery) -> FeedQuery {
        FeedQuery {
            date: None,
            days: None,
            span: None,
            top: None,
            sort: None,
            limit: None,
            ..self.clone()
        }
        .narrowed_by(request)
    }

    /// Papers per period of a digest: `top`, 10 when not given.
    pub fn digest_top(&self) -> usize {
        self.top.unwrap_or(DIGEST_DEFAULT_TOP) as usize
    }

    /// The newest day a digest's periods may end on: `date` (default yesterday), and never
    /// today or later, since only ended periods are listed.
    pub fn digest_bound(&self, today: NaiveDate) -> NaiveDate {
        let yesterday = today.pred_opt().unwrap_or(today);
        self.date.map_or(yesterday, |d| d.min(yesterday))
    }

    /// A digest's periods, newest first (empty for a feed of papers).
    pub fn periods(&self, today: NaiveDate) -> Vec<Period> {
        match self.digest {
            Some(digest) => Period::ended(
                digest.unit,
                self.digest_bound(today),
                digest.count_or_default(),
            ),
            None => Vec::new(),
        }
    }

    /// Whether no filter applies (search, names, minimums, code, patterns): every paper of
    /// the window counts.
    pub fn is_unfiltered(&self) -> bool {
        self.q.is_empty()
            && self.authors.iter().all(|g| g.is_empty())
            && self.orgs.iter().all(|g| g.is_empty())
            && self.min_upvotes.is_none()
            && self.min_comments.is_none()
            && self.has_code.is_none()
            && self.patterns.is_empty()
    }

    /// The days this query reads: the newest and how many, counting back.
    pub fn window(&self, today: NaiveDate, feeds: &FeedSettings) -> (NaiveDate, u32) {
        let days_between = |oldest: NaiveDate, newest: NaiveDate| {
            u32::try_from((newest - oldest).num_days() + 1)
                .unwrap_or(1)
                .max(1)
        };
        if self.digest.is_some() {
            let periods = self.periods(today);
            if let (Some(newest), Some(oldest)) = (periods.first(), periods.last()) {
                return (newest.last(), days_between(oldest.first(), newest.last()));
            }
        }
        if let Some(span) = self.span {
            let newest = span.last().min(today);
            return (newest, days_between(span.first(), newest));
        }
        (self.date_or(today), self.days_or(feeds))
    }

    /// The newest day of the window.
    pub fn date_or(&self, today: NaiveDate) -> NaiveDate {
        self.date.unwrap_or(today)
    }

    pub fn days_or(&self, feeds: &FeedSettings) -> u32 {
        self.days.unwrap_or(feeds.default_days)
    }

    pub fn limit_or(&self, feeds: &FeedSettings) -> u32 {
        self.limit.unwrap_or(feeds.default_limit)
    }

    pub fn sort(&self) -> Sort {
        self.sort.unwrap_or_default()
    }

    /// A short summary of the filters for the feed title (`q: diffusion, min_upvotes: 10`),
    /// or `None` when nothing is filtered.
    pub fn filter_summary(&self) -> Option<String> {
        let parts = self.title_parts();
        (!parts.is_empty()).then(|| parts.join(", "))
    }
}

impl FeedQuery {
    /// The canonical form: defaults spelled out (`date`, `days`, `limit`, `sort`; for a digest
    /// its bound `date` and its `count`), `format` dropped (the caller keys on it separately),
    /// `author` and `org` values sorted and deduplicated, patterns sorted. Queries that select
    /// the same papers the same way are equal in this form, whatever the order of their
    /// parameters. A digest's `top` is left as given: it is in the feed title when given.
    pub fn canonical(&self, today: NaiveDate, feeds: &FeedSettings) -> FeedQuery {
        let mut canonical = self.clone();
        if let Some(digest) = self.digest {
            canonical.date = Some(self.digest_bound(today));
            canonical.digest = Some(DigestSpec {
                count: Some(digest.count_or_default()),
                ..digest
            });
            (
                canonical.days,
                canonical.span,
                canonical.limit,
                canonical.sort,
            ) = (None, None, None, None);
        } else {
            if self.span.is_none() {
                canonical.date = Some(self.date_or(today));
                canonical.days = Some(self.days_or(feeds));
            }
            canonical.limit = Some(self.limit_or(feeds));
            canonical.sort = Some(self.sort());
        }
        canonical.format = None;
        canonical
            .patterns
            .sort_by(|a, b| (a.name(), &a.source).cmp(&(b.name(), &b.source)));
        for groups in [&mut canonical.authors, &mut canonical.orgs] {
            for names in groups.iter_mut() {
                names.sort_by(|a, b| a.text.cmp(&b.text));
                names.dedup_by(|a, b| a.text == b.text);
            }
            groups.sort_by(|a, b| {
                let key = |g: &NameGroup| g.iter().map(|n| n.text.clone()).collect::<Vec<_>>();
                key(a).cmp(&key(b))
            });
        }
        canonical
    }
}

impl FeedQuery {
    /// This query as a query string, the same way every time: parameters in a fixed order,
    /// values as parsed (`has_code=1` becomes `has_code=true`), nothing that was not given.
    /// Parsing it gives this query back. Several search expressions (a narrowed topic) are
    /// joined into one, which means the same (terms are ANDed); several author or org groups
    /// cannot be written in one query string and are listed as one group.
    pub fn to_query_string(&self) -> String {
        let pairs = self.canonical_pairs();
        encode_pairs(pairs.iter().map(|(k, v)| (*k, v.as_str())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(feeds: &FeedSettings) -> ParseContext<'_> {
        ParseContext {
            today: NaiveDate::from_ymd_opt(2026, 8, 14).unwrap(),
            feeds,
            allow_format: false,
            kind: QueryKind::Feed,
        }
    }

    fn parse(raw: &str) -> Result<FeedQuery, ParamError> {
        FeedQuery::parse(raw, &ctx(&FeedSettings::default()))
    }

    #[test]
    fn parses_every_parameter() {
        let q = parse(
            "q=diffusion+OR+%22flow+matching%22&author=M%C3%BCller&author=Li&org=nvidia\
             &min_upvotes=10&min_comments=0&has_code=1&date=2026-08-12&days=5&top=3\
             &sort=upvotes&limit=20",
        )
        .unwrap();
        assert_eq!(q.q[0].0, "diffusion OR \"flow matching\"");
        assert_eq!(q.authors.len(), 1, "one group");
        assert_eq!(q.authors[0].len(), 2);
        assert_eq!(q.authors[0][0].text, "Müller");
        assert_eq!(q.orgs[0][0].text, "nvidia");
        assert_eq!(q.min_upvotes, Some(10));
        assert_eq!(q.min_comments, Some(0));
        assert_eq!(q.has_code, Some(true));
        assert_eq!(q.date, NaiveDate::from_ymd_opt(2026, 8, 12));
        assert_eq!((q.days, q.top, q.limit), (Some(5), Some(3), Some(20)));
        assert_eq!(q.sort(), Sort::Upvotes);
        assert_eq!(
            q.filter_summary().unwrap(),
            "q: diffusion OR \"flow matching\", author: Müller or Li, org: nvidia, \
             min_upvotes: 10, min_comments: 0, has_code: true, top: 3"
        );
    }

    #[test]
    fn empty_values_mean_no_filter() {
        let q = parse("q=&author=&min_upvotes=&date=&sort=").unwrap();
        assert_eq!(q, FeedQuery::default());
        assert_eq!(q.filter_summary(), None);
        let feeds = FeedSettings::default();
        assert_eq!(q.days_or(&feeds), 3);
        assert_eq!(q.limit_or(&feeds), 50);
    }

    #[test]
    fn bad_values_name_their_parameter() {
        for (raw, parameter) in [
            ("min_upvotes=-1", "min_upvotes"),
            ("min_upvotes=1.5", "min_upvotes"),
            ("min_comments=lots", "min_comments"),
            ("has_code=yes", "has_code"),
            ("date=2026-8-1", "date"),
            ("date=2026-02-30", "date"),
            ("date=2026-08-15", "date"),
            ("days=0", "days"),
            ("days=31", "days"),
            ("top=101", "top"),
            ("limit=201", "limit"),
            ("sort=random", "sort"),
            ("format=rss", "format"),
            ("q=%22open", "q"),
            ("author=---", "author"),
            ("days=1&days=2", "days"),
            ("utm_source=x", "utm_source"),
        ] {
            let err = parse(raw).unwrap_err();
            assert_eq!(err.parameter, parameter, "{raw}: {err}");
            assert!(err.detail.contains(parameter), "{raw}: {err}");
        }
    }

    #[test]
    fn canonical_forms_ignore_order_and_spelled_out_defaults() {
        let feeds = FeedSettings::default();
        let today = NaiveDate::from_ymd_opt(2026, 8, 14).unwrap();
        let canonical = |raw: &str| parse(raw).unwrap().canonical(today, &feeds);
        assert_eq!(
            canonical("q=agent&min_upvotes=5&author=b&author=a"),
            canonical("author=a&min_upvotes=5&q=agent&author=b&author=a")
        );
        assert_eq!(
            canonical(""),
            canonical("days=3&limit=50&sort=date&date=2026-08-14")
        );
        assert_ne!(canonical("days=4"), canonical(""));
        assert_ne!(canonical("q=agent"), canonical("q=agents"));
    }

    #[test]
    fn format_is_accepted_only_where_allowed() {
        let feeds = FeedSettings::default();
        let ctx = ParseContext {
            allow_format: true,
            ..ctx(&feeds)
        };
        let q = FeedQuery::parse("format=atom", &ctx).unwrap();
        assert_eq!(q.format, Some(Format::Atom));
        assert!(FeedQuery::parse("format=xml", &ctx).is_err());
    }

    #[test]
    fn a_request_narrows_a_topic_and_replaces_its_settings() {
        let topic =
            parse("q=agent&author=Li&org=nvidia&min_upvotes=20&has_code=1&top=5&days=7").unwrap();
        let request =
            parse("q=memory&author=M%C3%BCller&author=Chen&min_upvotes=0&days=2&sort=upvotes")
                .unwrap();
        let narrowed = topic.narrowed_by(&request);
        let texts: Vec<&str> = narrowed.q.iter().map(|(t, _)| t.as_str()).collect();
        assert_eq!(texts, ["agent", "memory"], "both expressions must match");
        assert_eq!(
            narrowed.authors.len(),
            2,
            "topic authors AND request authors"
        );
        assert_eq!(
            narrowed.authors[1].len(),
            2,
            "the request's group stays one OR group"
        );
        assert_eq!(narrowed.orgs, topic.orgs);
        assert_eq!(
            narrowed.min_upvotes,
            Some(0),
            "the request's value replaces, even 0"
        );
        assert_eq!(narrowed.days, Some(2));
        assert_eq!(narrowed.sort, Some(Sort::Upvotes));
        assert_eq!(
            narrowed.has_code,
            Some(true),
            "not given: the topic's stays"
        );
        assert_eq!(narrowed.top, Some(5));
        assert_eq!(
            narrowed.filter_summary().unwrap(),
            "q: agent, q: memory, author: Li, author: Müller or Chen, org: nvidia, \
             min_upvotes: 0, has_code: true, top: 5"
        );
    }

    #[test]
    fn narrowing_by_an_empty_request_changes_nothing() {
        let topic = parse("q=diffusion+OR+%22flow+matching%22&min_upvotes=5&limit=20").unwrap();
        assert_eq!(topic.narrowed_by(&FeedQuery::default()), topic);
        assert_eq!(FeedQuery::default().narrowed_by(&topic), topic);
    }

    #[test]
    fn the_query_string_drops_empty_values_and_keeps_the_selection() {
        let raw = "sort=upvotes&q=agent memory&author=&author=Li&min_upvotes=&has_code=1";
        let written = parse(raw).unwrap().to_query_string();
        assert_eq!(
            written,
            "q=agent+memory&author=Li&has_code=true&sort=upvotes"
        );
        assert_eq!(parse(&written).unwrap(), parse(raw).unwrap());
    }

    /// Found by the `query_string` fuzz target: a name's text was kept cleaned (control
    /// characters dropped) while its phrase was folded from the raw value, so `a\u{1}b`
    /// (words `a b`) was written back as `ab` (one word) and parsed into another query.
    #[test]
    fn names_with_control_characters_survive_the_round_trip() {
        for raw in [
            "org=a%01b",
            "author=x%00%00y&author=z",
            "q=a%0Bb&org=W%00author%3DZ",
        ] {
            let query = parse(raw).unwrap();
            assert_eq!(parse(&query.to_query_string()).unwrap(), query, "{raw}");
        }
        assert_eq!(
            parse("org=a%01b").unwrap().filter_summary().unwrap(),
            "org: ab",
            "shown cleaned"
        );
    }

    #[test]
    fn bad_escapes_and_early_dates_are_refused() {
        for (raw, parameter) in [
            ("q=%zz", "q"),
            ("q=abc%", "q"),
            ("author=%FF", "author"),
            ("date=0000-01-01", "date"),
            ("date=2023-04-30", "date"),
        ] {
            let err = parse(raw).unwrap_err();
            assert_eq!(err.parameter, parameter, "{raw}: {err}");
        }
        assert!(parse("date=2023-05-01").is_ok());
    }
}
