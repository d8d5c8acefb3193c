//! One definition per query parameter ([`PARAMS`]): its name, the kinds of query that take it,
//! whether it may be repeated, how a value is read into a [`FeedQuery`], how it is written
//! back in the canonical query string and how it reads in a feed title. Parsing, the list of
//! accepted parameters, the canonical form and the filters of a title are derived from it:
//! adding a parameter is one entry here, a field of [`FeedQuery`] to hold it, and its field in
//! the preview form (`crate::render::html::FormView`).

use super::parse::{count, in_range, parse_date, push_name, shown};
use super::*;

/// Which queries take a parameter: by their kind, or by their route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Kinds {
    feed: bool,
    digest: bool,
    rsshub: bool,
    /// Taken wherever the route lets the query name the format
    /// ([`ParseContext::allow_format`]: `/feed` and the RSSHub paths), whatever its kind.
    format_routes: bool,
}

impl Kinds {
    /// Every feed, digest and RSSHub path.
    const EVERY: Kinds = Kinds::of(true, true, true);
    const FEED_AND_DIGEST: Kinds = Kinds::of(true, true, false);
    const FEED_AND_RSSHUB: Kinds = Kinds::of(true, false, true);
    const FEED: Kinds = Kinds::of(true, false, false);
    const DIGEST: Kinds = Kinds::of(false, true, false);
    const RSSHUB: Kinds = Kinds::of(false, false, true);
    /// Where the route lets the query name the format.
    const FORMAT_ROUTES: Kinds = Kinds {
        format_routes: true,
        ..Kinds::of(false, false, false)
    };

    const fn of(feed: bool, digest: bool, rsshub: bool) -> Kinds {
        Kinds {
            feed,
            digest,
            rsshub,
            format_routes: false,
        }
    }

    fn has(self, kind: QueryKind) -> bool {
        match kind {
            QueryKind::Feed => self.feed,
            QueryKind::Digest => self.digest,
            QueryKind::RssHub => self.rsshub,
        }
    }
}

/// Reads a (trimmed, non-empty) value into the query.
type Read = fn(&mut FeedQuery, &'static str, &str, &ParseContext<'_>) -> Result<(), ParamError>;
/// Writes the parameter's canonical pairs, if it is set.
type Write = fn(&FeedQuery, &'static str, &mut Vec<(&'static str, String)>);
/// Writes how the parameter reads in a feed title (`min_upvotes: 10`), if it shows there.
type Title = fn(&FeedQuery, &'static str, &mut Vec<String>);

/// A query parameter.
pub struct Param {
    pub name: &'static str,
    pub kinds: Kinds,
    /// Several copies make one group of values (`author`, `org`); any other is a 400 when
    /// given twice.
    pub repeatable: bool,
    /// Reads a (trimmed, non-empty) value of the parameter into the query.
    pub read: Read,
    write: Write,
    title: Title,
}

impl Param {
    /// Whether a query of `ctx` takes this parameter.
    pub fn accepted(&self, ctx: &ParseContext<'_>) -> bool {
        self.kinds.has(ctx.kind) || (self.kinds.format_routes && ctx.allow_format)
    }
}

/// Every parameter, in the order the canonical query string writes them.
pub static PARAMS: [Param; 25] = [
    Param {
        name: "q",
        kinds: Kinds::EVERY,
        repeatable: false,
        read: read_q,
        write: |query, name, out| {
            if !query.q.is_empty() {
                let texts: Vec<&str> = query.q.iter().map(|(text, _)| text.as_str()).collect();
                out.push((name, texts.join(" ")));
            }
        },
        title: |query, name, out| {
            for (text, _) in &query.q {
                out.push(format!("{name}: {}", clean_inline(text)));
            }
        },
    },
    Param {
        name: "author",
        kinds: Kinds::EVERY,
        repeatable: true,
        read: |query, name, value, _| push_name(&mut query.authors, name, value),
        write: |query, name, out| {
            for value in query.authors.iter().flatten() {
                out.push((name, value.text.clone()));
            }
        },
        title: |query, name, out| name_groups(out, name, &query.authors),
    },
    Param {
        name: "org",
        kinds: Kinds::EVERY,
        repeatable: true,
        read: |query, name, value, _| push_name(&mut query.orgs, name, value),
        write: |query, name, out| {
            for value in query.orgs.iter().flatten() {
                out.push((name, value.text.clone()));
            }
        },
        title: |query, name, out| name_groups(out, name, &query.orgs),
    },
    Param {
        name: "min_upvotes",
        kinds: Kinds::EVERY,
        repeatable: false,
        read: |query, name, value, _| {
            query.min_upvotes = Some(count(name, value)?);
            Ok(())
        },
        write: |query, name, out| written(out, name, query.min_upvotes),
        title: |query, name, out| titled(out, name, query.min_upvotes),
    },
    Param {
        name: "min_comments",
        kinds: Kinds::EVERY,
        repeatable: false,
        read: |query, name, value, _| {
            query.min_comments = Some(count(name, value)?);
            Ok(())
        },
        write: |query, name, out| written(out, name, query.min_comments),
        title: |query, name, out| titled(out, name, query.min_comments),
    },
    Param {
        name: "has_code",
        kinds: Kinds::EVERY,
        repeatable: false,
        read: read_has_code,
        write: |query, name, out| written(out, name, query.has_code),
        title: |query, name, out| titled(out, name, query.has_code),
    },
    Param {
        name: "date",
        kinds: Kinds::FEED_AND_DIGEST,
        repeatable: false,
        read: read_date,
        write: |query, name, out| written(out, name, query.date),
        title: |_, _, _| {},
    },
    Param {
        name: "days",
        kinds: Kinds::FEED,
        repeatable: false,
        read: |query, name, value, ctx| {
            query.days = Some(in_range(name, value, 1, ctx.feeds.max_days)?);
            Ok(())
        },
        write: |query, name, out| written(out, name, query.days),
        title: |_, _, _| {},
    },
    Param {
        name: "top",
        kinds: Kinds::EVERY,
        repeatable: false,
        read: |query, name, value, _| {
            query.top = Some(in_range(name, value, 1, MAX_TOP)?);
            Ok(())
        },
        write: |query, name, out| written(out, name, query.top),
        title: |query, name, out| titled(out, name, query.top),
    },
    Param {
        name: "sort",
        kinds: Kinds::FEED_AND_RSSHUB,
        repeatable: false,
        read: read_sort,
        write: |query, name, out| written(out, name, query.sort.map(Sort::name)),
        title: |_, _, _| {},
    },
    Param {
        name: "limit",
        kinds: Kinds::FEED_AND_RSSHUB,
        repeatable: false,
        read: |query, name, value, ctx| {
            query.limit = Some(in_range(name, value, 1, ctx.feeds.max_limit)?);
            Ok(())
        },
        write: |query, name, out| written(out, name, query.limit),
        title: |_, _, _| {},
    },
    Param {
        name: "format",
        kinds: Kinds::FORMAT_ROUTES,
        repeatable: false,
        read: read_format,
        write: |query, name, out| written(out, name, query.format.map(Format::name)),
        title: |_, _, _| {},
    },
    Param {
        name: "week",
        kinds: Kinds::FEED,
        repeatable: false,
        read: |query, name, value, ctx| query.set_span(name, value, ctx),
        write: |query, name, out| written(out, name, span_key(query, Unit::Week)),
        title: |_, _, _| {},
    },
    Param {
        name: "month",
        kinds: Kinds::FEED,
        repeatable: false,
        read: |query, name, value, ctx| query.set_span(name, value, ctx),
        write: |query, name, out| written(out, name, span_key(query, Unit::Month)),
        title: |_, _, _| {},
    },
    Param {
        name: "period",
        kinds: Kinds::DIGEST,
        repeatable: false,
        read: read_period,
        write: |query, name, out| written(out, name, query.digest.map(|d| d.unit.name())),
        title: |_, _, _| {},
    },
    Param {
        name: "count",
        kinds: Kinds::DIGEST,
        repeatable: false,
        read: |query, name, value, _| {
            let count = in_range(name, value, 1, DigestSpec::MAX_COUNT)?;
            query.digest.get_or_insert_default().count = Some(count);
            Ok(())
        },
        write: |query, name, out| written(out, name, query.digest.and_then(|d| d.count)),
        title: |_, _, _| {},
    },
    // RSSHub's patterns are read whole by `FeedQuery::from_pairs` (their spaces may matter,
    // and `filter_case_sensitive` applies to all of them) and written back together, in the
    // order given, by the first entry.
    pattern(
        "filter",
        |query, _, out| {
            for pattern in &query.patterns {
                out.push((pattern.name(), pattern.source.clone()));
            }
        },
        |query, _, out| {
            for pattern in &query.patterns {
                out.push(format!(
                    "{}: {}",
                    pattern.name(),
                    clean_inline(&pattern.source)
                ));
            }
        },
    ),
    pattern("filter_title", |_, _, _| {}, |_, _, _| {}),
    pattern("filter_description", |_, _, _| {}, |_, _, _| {}),
    pattern("filter_author", |_, _, _| {}, |_, _, _| {}),
    pattern("filterout", |_, _, _| {}, |_, _, _| {}),
    pattern("filterout_title", |_, _, _| {}, |_, _, _| {}),
    pattern("filterout_description", |_, _, _| {}, |_, _, _| {}),
    pattern("filterout_author", |_, _, _| {}, |_, _, _| {}),
    pattern(
        "filter_case_sensitive",
        |query, name, out| {
            if query.patterns.iter().any(|p| !p.case_sensitive) {
                out.push((name, "false".to_owned()));
            }
        },
        |_, _, _| {},
    ),
];

/// The parameter called `name`, if there is one.
pub fn param(name: &str) -> Option<&'static Param> {
    PARAMS.iter().find(|p| p.name == name)
}

/// The names a query of `ctx` takes, in table order.
pub fn accepted(ctx: &ParseContext<'_>) -> Vec<&'static str> {
    PARAMS
        .iter()
        .filter(|p| p.accepted(ctx))
        .map(|p| p.name)
        .collect()
}

impl FeedQuery {
    /// How the query's filters read in a feed title, in table order.
    pub(super) fn title_parts(&self) -> Vec<String> {
        let mut out = Vec::new();
        for param in &PARAMS {
            (param.title)(self, param.name, &mut out);
        }
        out
    }

    /// The canonical pairs of the query, in table order.
    pub(super) fn canonical_pairs(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        for param in &PARAMS {
            (param.write)(self, param.name, &mut out);
        }
        out
    }
}

const fn pattern(name: &'static str, write: Write, title: Title) -> Param {
    Param {
        name,
        kinds: Kinds::RSSHUB,
        repeatable: false,
        read: |_, _, _, _| Ok(()),
        write,
        title,
    }
}

fn titled(out: &mut Vec<String>, name: &str, value: Option<impl std::fmt::Display>) {
    if let Some(value) = value {
        out.push(format!("{name}: {value}"));
    }
}

/// `author: a or b` for each group (a narrowed topic has two).
fn name_groups(out: &mut Vec<String>, name: &str, groups: &[NameGroup]) {
    for group in groups.iter().filter(|g| !g.is_empty()) {
        let names: Vec<String> = group.iter().map(|f| clean_inline(&f.text)).collect();
        out.push(format!("{name}: {}", names.join(" or ")));
    }
}

fn written(
    out: &mut Vec<(&'static str, String)>,
    name: &'static str,
    value: Option<impl ToString>,
) {
    if let Some(value) = value {
        out.push((name, value.to_string()));
    }
}

fn span_key(query: &FeedQuery, unit: Unit) -> Option<String> {
    query.span.filter(|s| s.unit() == unit).map(|s| s.key())
}

fn read_q(
    query: &mut FeedQuery,
    _: &'static str,
    value: &str,
    _: &ParseContext<'_>,
) -> Result<(), ParamError> {
    let expr = SearchExpr::parse(value)
        .map_err(|e| ParamError::new("q", format!("The search expression q is invalid: {e}.")))?;
    if !expr.is_empty() {
        query.q = vec![(value.to_owned(), expr)];
    }
    Ok(())
}

fn read_has_code(
    query: &mut FeedQuery,
    _: &'static str,
    value: &str,
    _: &ParseContext<'_>,
) -> Result<(), ParamError> {
    query.has_code = Some(match value {
        "true" | "1" => true,
        "false" | "0" => false,
        _ => {
            return Err(ParamError::new(
                "has_code",
                format!(
                    "has_code must be true, false, 1 or 0, not {}.",
                    shown(value)
                ),
            ));
        }
    });
    Ok(())
}

fn read_date(
    query: &mut FeedQuery,
    _: &'static str,
    value: &str,
    ctx: &ParseContext<'_>,
) -> Result<(), ParamError> {
    let date = parse_date(value).ok_or_else(|| {
        ParamError::new(
            "date",
            format!(
                "date must be a day written YYYY-MM-DD, not {}.",
                shown(value)
            ),
        )
    })?;
    if date < ctx.feeds.earliest_date {
        return Err(ParamError::new(
            "date",
            format!(
                "date {date} is before the first Daily Papers ({}); give that day or a later one.",
                ctx.feeds.earliest_date
            ),
        ));
    }
    if date > ctx.today {
        return Err(ParamError::new(
            "date",
            format!(
                "date {date} is in the future; give today ({}) or an earlier day.",
                ctx.today
            ),
        ));
    }
    query.date = Some(date);
    Ok(())
}

fn read_sort(
    query: &mut FeedQuery,
    _: &'static str,
    value: &str,
    _: &ParseContext<'_>,
) -> Result<(), ParamError> {
    query.sort = Some(match value {
        "date" => Sort::Date,
        "upvotes" => Sort::Upvotes,
        _ => {
            return Err(ParamError::new(
                "sort",
                format!("sort must be date or upvotes, not {}.", shown(value)),
            ));
        }
    });
    Ok(())
}

fn read_format(
    query: &mut FeedQuery,
    _: &'static str,
    value: &str,
    _: &ParseContext<'_>,
) -> Result<(), ParamError> {
    query.format = Some(Format::from_name(value).ok_or_else(|| {
        ParamError::new(
            "format",
            format!("format must be rss, atom or json, not {}.", shown(value)),
        )
    })?);
    Ok(())
}

fn read_period(
    query: &mut FeedQuery,
    _: &'static str,
    value: &str,
    _: &ParseContext<'_>,
) -> Result<(), ParamError> {
    let unit = Unit::from_name(value).ok_or_else(|| {
        ParamError::new(
            "period",
            format!("period must be day, week or month, not {}.", shown(value)),
        )
    })?;
    query.digest.get_or_insert_default().unit = unit;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(feeds: &FeedSettings, kind: QueryKind, allow_format: bool) -> ParseContext<'_> {
        ParseContext {
            today: NaiveDate::from_ymd_opt(2026, 8, 14).unwrap(),
            feeds,
            allow_format,
            kind,
        }
    }

    /// Contract section 3 (feeds and `/preview`), section 10 (digests) and section 11 (RSSHub).
    #[test]
    fn the_table_holds_the_contracts_parameters_for_the_right_queries() {
        let feeds = FeedSettings::default();
        let section_3 = [
            "q",
            "author",
            "org",
            "min_upvotes",
            "min_comments",
            "has_code",
            "date",
            "days",
            "top",
            "sort",
            "limit",
            "format",
            "week",
            "month",
        ];
        let feed = accepted(&ctx(&feeds, QueryKind::Feed, true));
        assert_eq!(
            feed, section_3,
            "a feed takes exactly section 3's parameters"
        );
        let without_format = accepted(&ctx(&feeds, QueryKind::Feed, false));
        assert!(
            !without_format.contains(&"format"),
            "format only where the route allows it"
        );

        let digest = accepted(&ctx(&feeds, QueryKind::Digest, false));
        for name in [
            "q",
            "author",
            "org",
            "min_upvotes",
            "min_comments",
            "has_code",
            "top",
        ] {
            assert!(digest.contains(&name), "digests take the filter {name}");
        }
        for name in ["period", "count", "date"] {
            assert!(digest.contains(&name), "digests take {name}");
        }
        for name in ["days", "week", "month", "limit", "sort"] {
            assert!(!digest.contains(&name), "{name} is a 400 on a digest");
        }

        let rsshub = accepted(&ctx(&feeds, QueryKind::RssHub, true));
        for name in [
            "filter",
            "filter_title",
            "filter_description",
            "filter_author",
            "filterout",
            "filterout_title",
            "filterout_description",
            "filterout_author",
            "filter_case_sensitive",
            "format",
            "limit",
            "sort",
        ] {
            assert!(rsshub.contains(&name), "RSSHub paths take {name}");
        }
        for name in ["date", "days", "week", "month"] {
            assert!(
                !rsshub.contains(&name),
                "the RSSHub path chooses the days, not {name}"
            );
        }
    }

    #[test]
    fn every_name_is_defined_once_and_only_author_and_org_repeat() {
        for (i, param) in PARAMS.iter().enumerate() {
            assert!(
                PARAMS[i + 1..].iter().all(|other| other.name != param.name),
                "{} is defined twice",
                param.name
            );
            assert_eq!(
                param.repeatable,
                matches!(param.name, "author" | "org"),
                "{}",
                param.name
            );
        }
    }
}
