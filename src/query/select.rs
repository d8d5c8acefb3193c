//! Selection: from the daily lists of a window to the papers of one feed. Dedupe across
//! days (a paper counts once, for its newest day), filter, keep the `top` per day, sort and
//! limit.

use std::cmp::Reverse;
use std::collections::HashSet;

use xxhash_rust::xxh3::Xxh3DefaultBuilder;

/// The ids already counted, on a newer day. Ids come from upstream, checked at ingest (at most
/// 64 ASCII characters), and a set holds one window's papers at most, so
/// a fast hash without a random seed is safe here; SipHash was a visible share of a miss.
type Seen<'a> = HashSet<&'a str, Xxh3DefaultBuilder>;
use std::sync::Arc;

use crate::daily_list::DailyList;
use crate::paper::{Field, Paper};
use crate::query::params::{FeedQuery, NameGroup, Sort};
use crate::query::period::Period;

/// Whether `paper` passes every filter of `query` (not `top`, which looks at a whole day).
pub fn matches(query: &FeedQuery, paper: &Paper) -> bool {
    if query.min_upvotes.is_some_and(|n| paper.upvotes < n)
        || query.min_comments.is_some_and(|n| paper.comments < n)
        || query
            .has_code
            .is_some_and(|want| paper.github_repo.is_some() != want)
    {
        return false;
    }
    // Every group must hold; within a group, any name will do.
    let all_groups = |groups: &[NameGroup], field: Field| {
        groups.iter().all(|group| {
            group.is_empty()
                || group
                    .iter()
                    .any(|f| f.phrase.matches_in(paper.search.field(field)))
        })
    };
    if !all_groups(&query.authors, Field::Author) || !all_groups(&query.orgs, Field::Org) {
        return false;
    }
    query.q.iter().all(|(_, expr)| expr.matches(&paper.search))
        && query.patterns.iter().all(|p| p.keeps(paper))
}

/// A digest's selection: for each of `periods` (in their order) that has papers after
/// filtering, its `top` papers ([`select_period`]).
pub fn select_periods<'a>(
    query: &FeedQuery,
    lists: &'a [Arc<DailyList>],
    periods: &[Period],
    top: usize,
) -> Vec<(Period, Vec<&'a Paper>)> {
    let mut newest_first: Vec<&DailyList> = lists.iter().map(|l| l.as_ref()).collect();
    newest_first.sort_by_key(|l| Reverse(l.date));
    periods
        .iter()
        .filter_map(|period| {
            let papers = select_period(query, &newest_first, period, top);
            (!papers.is_empty()).then_some((*period, papers))
        })
        .collect()
}

/// The `top` papers of `period` that `query` selects, from `newest_first` (lists sorted newest
/// first): a paper listed on several days counts once, for its newest day; ranked by
/// upvotes, then newest day, then id.
fn select_period<'a>(
    query: &FeedQuery,
    newest_first: &[&'a DailyList],
    period: &Period,
    top: usize,
) -> Vec<&'a Paper> {
    let (first, last) = (period.first(), period.last());
    let mut seen = Seen::default();
    let mut papers: Vec<&Paper> = newest_first
        .iter()
        .filter(|l| l.date >= first && l.date <= last)
        .flat_map(|l| matching(query, l, &mut seen))
        .collect();
    papers.sort_by(|a, b| {
        b.upvotes
            .cmp(&a.upvotes)
            .then_with(|| b.day.cmp(&a.day))
            .then_with(|| a.id.cmp(&b.id))
    });
    papers.truncate(top);
    papers
}

/// The papers of `list` that `query` matches, in list order, leaving out those `seen` on a
/// newer day; every paper of the list is marked seen (a paper counts once, for its newest
/// day, whether or not it matched there). Only the candidates of the list's word index are
/// matched: the others cannot.
fn matching<'a>(query: &FeedQuery, list: &'a DailyList, seen: &mut Seen<'a>) -> Vec<&'a Paper> {
    let candidates = list.word_index().candidates(query, list.papers.len());
    list.papers
        .iter()
        .enumerate()
        .filter(|(_, p)| seen.insert(p.id.as_str()))
        .filter(|(i, p)| {
            candidates
                .as_ref()
                .is_none_or(|c| c.get(*i).copied().unwrap_or(true))
                && matches(query, p)
        })
        .map(|(_, p)| p)
        .collect()
}

/// The papers `query` selects from `lists` (newest day first), in feed order, at most
/// `limit`.
pub fn select<'a>(query: &FeedQuery, lists: &'a [Arc<DailyList>], limit: usize) -> Vec<&'a Paper> {
    let mut newest_first: Vec<&DailyList> = lists.iter().map(|l| l.as_ref()).collect();
    newest_first.sort_by_key(|l| Reverse(l.date));

    let mut seen = Seen::default();
    let mut selected: Vec<&Paper> = Vec::new();
    for list in newest_first {
        let mut day = matching(query, list, &mut seen);
        if let Some(top) = query.top {
            day.sort_by(|a, b| b.upvotes.cmp(&a.upvotes).then_with(|| a.id.cmp(&b.id)));
            day.truncate(top as usize);
        }
        selected.extend(day);
    }

    match query.sort() {
        Sort::Date => selected.sort_by(|a, b| {
            b.day
                .cmp(&a.day)
                .then_with(|| b.upvotes.cmp(&a.upvotes))
                .then_with(|| a.id.cmp(&b.id))
        }),
        Sort::Upvotes => selected.sort_by(|a, b| {
            b.upvotes
                .cmp(&a.upvotes)
                .then_with(|| b.day.cmp(&a.day))
                .then_with(|| a.id.cmp(&b.id))
        }),
    }
    selected.truncate(limit);
    selected
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::feed_settings::FeedSettings;
    use crate::query::params::ParseContext;
    use crate::upstream::model::RawItem;
    use chrono::NaiveDate;

    fn paper(id: &str, title: &str, authors: &[&str], upvotes: u64) -> Paper {
        let authors: Vec<_> = authors
            .iter()
            .map(|name| serde_json::json!({ "name": name }))
            .collect();
        let raw: RawItem = serde_json::from_value(serde_json::json!({
            "paper": {"id": id, "title": title, "authors": authors, "upvotes": upvotes}
        }))
        .unwrap();
        Paper::from_raw(&raw, NaiveDate::from_ymd_opt(2026, 8, 3).unwrap()).unwrap()
    }

    fn query(raw: &str) -> FeedQuery {
        let feeds = FeedSettings::default();
        let ctx = ParseContext {
            today: NaiveDate::from_ymd_opt(2026, 8, 14).unwrap(),
            feeds: &feeds,
            allow_format: false,
            kind: crate::query::params::QueryKind::Feed,
        };
        FeedQuery::parse(raw, &ctx).unwrap()
    }

    #[test]
    fn a_narrowed_query_needs_both_expressions_and_an_author_of_each_group() {
        let topic = query("q=agent&author=Li");
        let narrowed = topic.narrowed_by(&query("q=memory&author=Chen&author=Wu"));
        let both = paper("2608.00001", "Agent memory", &["Wei Li", "Bo Chen"], 1);
        let no_memory = paper("2608.00002", "Agent planning", &["Wei Li", "Bo Chen"], 1);
        let no_chen = paper("2608.00003", "Agent memory", &["Wei Li", "Ann Ng"], 1);
        let wu = paper("2608.00004", "Agentic memory", &["Wei Li", "Jun Wu"], 1);
        assert!(matches(&narrowed, &both));
        assert!(!matches(&narrowed, &no_memory));
        assert!(!matches(&narrowed, &no_chen));
        assert!(matches(&narrowed, &wu));
        assert!(matches(&topic, &no_chen), "the topic alone keeps it");
    }

    #[test]
    fn a_request_min_upvotes_replaces_the_topics() {
        let topic = query("min_upvotes=50");
        let low = paper("2608.00001", "Agents", &[], 3);
        assert!(!matches(&topic, &low));
        assert!(matches(&topic.narrowed_by(&query("min_upvotes=0")), &low));
    }
}
