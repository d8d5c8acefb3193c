//! Selection: from the daily lists of a window to the papers of one feed. Dedupe across
//! days (a paper counts once, for its newest day), filter, keep the `top` per day, sort and
//! limit.

use std::cmp::Reverse;
use std::collections::HashSet;
use std::sync::Arc;

use crate::paper::{Field, Paper};
use crate::query::params::{FeedQuery, NameFilter, Sort};
use crate::store::DailyList;

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
    let any_name = |filters: &[NameFilter], field: Field| {
        filters.is_empty()
            || filters
                .iter()
                .any(|f| f.phrase.matches_in(paper.search.field(field)))
    };
    if !any_name(&query.authors, Field::Author) || !any_name(&query.orgs, Field::Org) {
        return false;
    }
    query
        .q
        .as_ref()
        .is_none_or(|(_, expr)| expr.matches(&paper.search))
}

/// The papers `query` selects from `lists` (newest day first), in feed order, at most
/// `limit`.
pub fn select<'a>(query: &FeedQuery, lists: &'a [Arc<DailyList>], limit: usize) -> Vec<&'a Paper> {
    let mut newest_first: Vec<&DailyList> = lists.iter().map(|l| l.as_ref()).collect();
    newest_first.sort_by_key(|l| Reverse(l.date));

    let mut seen: HashSet<&str> = HashSet::new();
    let mut selected: Vec<&Paper> = Vec::new();
    for list in newest_first {
        let mut day: Vec<&Paper> = list
            .papers
            .iter()
            .filter(|p| seen.insert(p.id.as_str()))
            .filter(|p| matches(query, p))
            .collect();
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
