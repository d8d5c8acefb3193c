//! One definition per query parameter ([`PARAMS`]): its name, the kinds of query that take it,
//! whether it may be repeated, how a value is read into a [`FeedQuery`], how it is written
//! back in the canonical query string, how it reads in a feed title, and its field in the
//! preview form ([`super::form`]). Parsing, the list of accepted parameters, the refusal of a
//! parameter of another kind of query, the canonical form, the filters of a title and the
//! preview form are derived from it: adding a parameter is one entry here and a field of
//! [`FeedQuery`] to hold it.

use super::form::{FormField, Input};
pub use super::kinds::Kinds;
use super::parse::{count, day, in_range, known, push_name, read_q};
use super::*;

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
    /// Its field in the preview form, if it has one.
    pub form: Option<FormField>,
}

impl Param {
    /// Whether a query of `ctx` takes this parameter.
    pub fn accepted(&self, ctx: &ParseContext<'_>) -> bool {
        self.kinds.accept(ctx)
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
        form: Some(FormField {
            position: 0,
            label: "Search (q)",
            input: Input::Search,
            placeholder: "diffusion OR \"flow matching\" -survey",
            hint: "Every term must match; <code>\"a phrase\"</code>, <code>-not</code>, <code>A OR B</code>, \
                   <code>title:</code> <code>abstract:</code> <code>author:</code> <code>keyword:</code> \
                   <code>org:</code>.",
        }),
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
        form: Some(FormField {
            position: 1,
            label: "Author",
            input: Input::Text,
            placeholder: "Yann LeCun",
            hint: "Any of the given authors; name words may be prefixes.",
        }),
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
        form: Some(FormField {
            position: 2,
            label: "Organization",
            input: Input::Text,
            placeholder: "nvidia",
            hint: "Hugging Face organization name.",
        }),
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
        form: Some(FormField {
            position: 3,
            label: "Minimum upvotes",
            input: Input::Number { min: 0, max: "" },
            placeholder: "0",
            hint: "",
        }),
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
        form: Some(FormField {
            position: 4,
            label: "Minimum comments",
            input: Input::Number { min: 0, max: "" },
            placeholder: "0",
            hint: "",
        }),
    },
    Param {
        name: "has_code",
        kinds: Kinds::EVERY,
        repeatable: false,
        read: |query, name, value, _| {
            let found = match value {
                "true" | "1" => Some(true),
                "false" | "0" => Some(false),
                _ => None,
            };
            query.has_code = Some(known(name, value, found, "true, false, 1 or 0")?);
            Ok(())
        },
        write: |query, name, out| written(out, name, query.has_code),
        title: |query, name, out| titled(out, name, query.has_code),
        form: Some(FormField {
            position: 5,
            label: "Code",
            input: Input::Choice {
                options: &[
                    ("", "with or without"),
                    ("true", "with a GitHub repository"),
                    ("false", "without"),
                ],
                aliases: &[("1", "true"), ("0", "false")],
            },
            placeholder: "",
            hint: "",
        }),
    },
    Param {
        name: "date",
        kinds: Kinds::FEED_AND_DIGEST,
        repeatable: false,
        read: |query, name, value, ctx| {
            query.date = Some(day(name, value, ctx)?);
            Ok(())
        },
        write: |query, name, out| written(out, name, query.date),
        title: |_, _, _| {},
        form: Some(FormField {
            position: 6,
            label: "Newest day",
            input: Input::Date,
            placeholder: "",
            hint: "Empty: today ({today}, UTC).",
        }),
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
        form: Some(FormField {
            position: 7,
            label: "Days",
            input: Input::Number {
                min: 1,
                max: "{max_days}",
            },
            placeholder: "{default_days}",
            hint: "1 to {max_days}; {default_days} when empty.",
        }),
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
        form: Some(FormField {
            position: 10,
            label: "Top N a day",
            input: Input::Number { min: 1, max: "100" },
            placeholder: "all",
            hint: "Only the N most upvoted of each day.",
        }),
    },
    Param {
        name: "sort",
        kinds: Kinds::FEED_AND_RSSHUB,
        repeatable: false,
        read: |query, name, value, _| {
            let found = match value {
                "date" => Some(Sort::Date),
                "upvotes" => Some(Sort::Upvotes),
                _ => None,
            };
            query.sort = Some(known(name, value, found, "date or upvotes")?);
            Ok(())
        },
        write: |query, name, out| written(out, name, query.sort.map(Sort::name)),
        title: |_, _, _| {},
        form: Some(FormField {
            position: 11,
            label: "Order",
            input: Input::Choice {
                options: &[("", "newest day first"), ("upvotes", "most upvoted first")],
                aliases: &[],
            },
            placeholder: "",
            hint: "",
        }),
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
        form: Some(FormField {
            position: 12,
            label: "At most",
            input: Input::Number {
                min: 1,
                max: "{max_limit}",
            },
            placeholder: "{default_limit}",
            hint: "1 to {max_limit} papers; {default_limit} when empty.",
        }),
    },
    Param {
        name: "format",
        kinds: Kinds::FORMAT_ROUTES,
        repeatable: false,
        read: |query, name, value, _| {
            let found = Format::from_name(value);
            query.format = Some(known(name, value, found, "rss, atom or json")?);
            Ok(())
        },
        write: |query, name, out| written(out, name, query.format.map(Format::name)),
        title: |_, _, _| {},
        form: None,
    },
    Param {
        name: "week",
        kinds: Kinds::FEED,
        repeatable: false,
        read: |query, _, value, ctx| query.set_span(value, Unit::Week, ctx),
        write: |query, name, out| written(out, name, span_key(query, Unit::Week)),
        title: |_, _, _| {},
        form: Some(FormField {
            position: 8,
            label: "Week",
            input: Input::Week,
            placeholder: "2026-W33",
            hint: "A whole ISO week (<code>2026-W33</code>) instead of newest day and days.",
        }),
    },
    Param {
        name: "month",
        kinds: Kinds::FEED,
        repeatable: false,
        read: |query, _, value, ctx| query.set_span(value, Unit::Month, ctx),
        write: |query, name, out| written(out, name, span_key(query, Unit::Month)),
        title: |_, _, _| {},
        form: Some(FormField {
            position: 9,
            label: "Month",
            input: Input::Month,
            placeholder: "2026-08",
            hint: "A whole month (<code>2026-08</code>) instead of newest day and days.",
        }),
    },
    Param {
        name: "period",
        kinds: Kinds::DIGEST,
        repeatable: false,
        read: |query, name, value, _| {
            let unit = known(name, value, Unit::from_name(value), "day, week or month")?;
            query.digest.get_or_insert_default().unit = unit;
            Ok(())
        },
        write: |query, name, out| written(out, name, query.digest.map(|d| d.unit.name())),
        title: |_, _, _| {},
        form: Some(FormField {
            position: 13,
            label: "Digest",
            input: Input::Choice {
                options: &[
                    ("", "no: one item per paper"),
                    ("day", "daily: one item a day"),
                    ("week", "weekly: one item a week"),
                    ("month", "monthly: one item a month"),
                ],
                aliases: &[],
            },
            placeholder: "",
            hint: "A digest lists the top N papers (default 10) of each ended day, week or month; \
                   days, week, month, order and \"at most\" do not apply to it.",
        }),
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
        form: Some(FormField {
            position: 14,
            label: "Digest periods",
            input: Input::Number {
                min: 1,
                max: "{max_count}",
            },
            placeholder: "7 / 4 / 3",
            hint: "How many days, weeks or months; 7, 4 or 3 when empty.",
        }),
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
        form: None,
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
        // In the order of the contract's table.
        let section_3: Vec<&str> = "q author org min_upvotes min_comments has_code date days top \
                                    sort limit format week month"
            .split_whitespace()
            .collect();
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
        for name in "q author org min_upvotes min_comments has_code top".split(' ') {
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

    /// The reason a parameter of another kind of query is refused comes from its kinds: a
    /// feed's parameter on a digest or an RSSHub path, `format` where the route names it, and
    /// anything else is unknown there.
    #[test]
    fn a_parameter_of_another_kind_of_query_is_refused_with_its_reason() {
        let feeds = FeedSettings::default();
        let refused = |kind, allow_format, raw: &str| {
            let error = FeedQuery::parse(raw, &ctx(&feeds, kind, allow_format)).unwrap_err();
            assert_eq!(
                Some(error.parameter.as_str()),
                raw.split('=').next(),
                "{raw}"
            );
            error.detail
        };
        let format = "only accepted on /feed and /huggingface/daily-papers";
        for (kind, allow_format, raws, reason) in [
            (
                QueryKind::Digest,
                false,
                "days=3 week=2026-W32 month=2026-08 limit=5 sort=upvotes",
                "does not apply to a digest, which lists periods",
            ),
            (
                QueryKind::RssHub,
                true,
                "date=2026-08-01 days=3 week=2026-W32 month=2026-08",
                "the path chooses the days",
            ),
            (QueryKind::Feed, false, "format=rss", format),
            (QueryKind::Digest, false, "format=rss", format),
        ] {
            for raw in raws.split(' ') {
                let detail = refused(kind, allow_format, raw);
                assert!(detail.contains(reason), "{raw}: {detail}");
            }
        }
        for (kind, raw) in [
            (QueryKind::Feed, "period=week"),
            (QueryKind::Feed, "filter=x"),
            (QueryKind::Digest, "filter_title=x"),
            (QueryKind::RssHub, "count=3"),
        ] {
            let detail = refused(kind, true, raw);
            assert!(detail.starts_with("Unknown parameter"), "{raw}: {detail}");
            assert!(
                detail.contains("accepted parameters are q, author, org"),
                "{raw}: {detail}"
            );
        }
    }
}
