//! Selection: from the daily lists of a window to the papers of one feed. Dedupe across
//! days (a paper counts once, for its newest day), filter, keep the `top` per day, sort and
//! limit.

use std::cmp::{Ordering, Reverse};
use std::collections::HashSet;
use std::hash::{BuildHasherDefault, Hash, Hasher};
use std::sync::{Arc, Mutex, Weak};

/// The ids already counted, on a newer day. Each id is hashed once per daily list (in its
/// [`WordIndex`](crate::data::word_index::WordIndex)), and the set uses that hash as it is;
/// equality still compares the ids, so two ids with one hash stay apart.
type Seen<'a> = HashSet<SeenId<'a>, BuildHasherDefault<HashAsIs>>;

/// A paper id with its hash.
#[derive(Debug, Clone, Copy)]
struct SeenId<'a> {
    hash: u64,
    id: &'a str,
}

impl PartialEq for SeenId<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}

impl Eq for SeenId<'_> {}

impl Hash for SeenId<'_> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.hash);
    }
}

/// A hasher that passes on the one `u64` written to it (an xxh3 hash already).
#[derive(Debug, Default)]
struct HashAsIs(u64);

impl Hasher for HashAsIs {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only `write_u64` is used; anything else is mixed in, not lost.
        self.0 = xxhash_rust::xxh3::xxh3_64_with_seed(bytes, self.0);
    }

    fn write_u64(&mut self, n: u64) {
        self.0 ^= n;
    }
}

use crate::data::daily_list::DailyList;
use crate::data::paper::{Field, Paper};
use crate::query::narrow::Narrowed;
use crate::query::params::{FeedQuery, NameGroup, Sort};
use crate::query::period::Period;

/// Whether `paper` passes every filter of `query` (not `top`, which looks at a whole day).
pub fn matches(query: &FeedQuery, paper: &Paper) -> bool {
    matches_undecided(query, paper, &[])
}

/// Like [`matches()`], skipping the search clauses marked in `decided` (per expression of
/// `query.q`, per clause: [`Narrowed::decided`]).
pub fn matches_undecided(query: &FeedQuery, paper: &Paper, decided: &[Vec<bool>]) -> bool {
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
    query.q.iter().enumerate().all(|(i, (_, expr))| {
        let decided = decided.get(i).map_or(&[][..], |d| &d[..]);
        expr.matches_undecided(&paper.search, decided)
    }) && query.patterns.iter().all(|p| p.keeps(paper))
}

/// A digest's selection: for each of `periods` (in their order) that has papers after
/// filtering, its `top` papers (`select_period`).
pub fn select_periods<'a>(
    windows: &Windows,
    query: &FeedQuery,
    lists: &'a [Arc<DailyList>],
    periods: &[Period],
    top: usize,
) -> Vec<(Period, Vec<&'a Paper>)> {
    let mut newest_first: Vec<&Arc<DailyList>> = lists.iter().collect();
    newest_first.sort_by_key(|l| Reverse(l.date));
    periods
        .iter()
        .filter_map(|period| {
            let papers = select_period(windows, query, &newest_first, period, top);
            (!papers.is_empty()).then_some((*period, papers))
        })
        .collect()
}

/// The `top` papers of `period` that `query` selects, from `newest_first` (lists sorted newest
/// first): a paper listed on several days counts once, for its newest day; ranked by
/// upvotes, then newest day, then id.
fn select_period<'a>(
    windows: &Windows,
    query: &FeedQuery,
    newest_first: &[&'a Arc<DailyList>],
    period: &Period,
    top: usize,
) -> Vec<&'a Paper> {
    let (first, last) = (period.first(), period.last());
    let lists: Vec<&Arc<DailyList>> = newest_first
        .iter()
        .copied()
        .filter(|l| l.date >= first && l.date <= last)
        .collect();
    let shadows = windows.shadows(&lists);
    let mut papers: Vec<&Paper> = lists
        .iter()
        .zip(shadows.iter())
        .flat_map(|(l, shadowed)| matching(query, l, shadowed, Scan::Index))
        .collect();
    sort_top(&mut papers, top, |a, b| {
        b.upvotes
            .cmp(&a.upvotes)
            .then_with(|| b.day.cmp(&a.day))
            .then_with(|| a.id.cmp(&b.id))
    });
    papers
}

/// The papers of `list` that `query` matches, in list order, leaving out those `shadowed`
/// (listed on a newer day of the window: a paper counts once, for its newest day, whether or
/// not it matched there). Only the candidates of the list's word index are matched: the
/// others cannot.
fn matching<'a>(
    query: &FeedQuery,
    list: &'a DailyList,
    shadowed: &[bool],
    scan: Scan,
) -> Vec<&'a Paper> {
    let narrowed = match scan {
        Scan::Index => Narrowed::of(list.word_index(), query, list.papers.len()),
        Scan::Every => Narrowed {
            candidates: None,
            decided: Vec::new(),
        },
    };
    list.papers
        .iter()
        .enumerate()
        .filter(|(i, p)| {
            !shadowed.get(*i).copied().unwrap_or(false)
                && narrowed.candidate(*i)
                && matches_undecided(query, p, &narrowed.decided)
        })
        .map(|(_, p)| p)
        .collect()
}

/// Per list of a window (newest first), per paper: whether a newer list of the window has it
/// too. The same for every query over the window, so it is worked out once per window and
/// kept for the next selections over the same lists.
type Shadows = Arc<Vec<Vec<bool>>>;

/// How many windows' [`Shadows`] are kept at most (the default feed window, a few others,
/// digests' periods).
const KEPT_WINDOWS: usize = 16;

/// The kept `Shadows` of the last windows selected from, most recently used last: part of
/// the application's state ([`crate::app::state::AppState::windows`]), bounded in number and in
/// bytes, and weighed with the selections.
#[derive(Debug)]
pub struct Windows {
    /// Each with its window's lists. `Weak`: a kept window holds no list's papers, and its
    /// lists' addresses cannot be reused while it is kept, so comparing addresses compares
    /// lists.
    kept: Mutex<Vec<(Vec<Weak<DailyList>>, Shadows)>>,
    max_bytes: usize,
}

impl Windows {
    /// At most `KEPT_WINDOWS` windows, and at most `max_bytes` bytes of them.
    pub fn new(max_bytes: u64) -> Windows {
        Windows {
            kept: Mutex::new(Vec::new()),
            max_bytes: usize::try_from(max_bytes).unwrap_or(usize::MAX),
        }
    }

    /// The [`Shadows`] of the window `newest_first`.
    fn shadows(&self, newest_first: &[&Arc<DailyList>]) -> Shadows {
        let same = |kept: &[Weak<DailyList>]| {
            kept.len() == newest_first.len()
                && kept
                    .iter()
                    .zip(newest_first)
                    .all(|(k, l)| std::ptr::eq(k.as_ptr(), Arc::as_ptr(l)))
        };
        {
            let mut kept = self.lock();
            if let Some(at) = kept.iter().position(|(lists, _)| same(lists)) {
                let hit = kept.remove(at);
                let shadows = hit.1.clone();
                kept.push(hit);
                return shadows;
            }
        }
        let shadows = Arc::new(shadows_of(newest_first));
        let entry = (
            newest_first.iter().map(|l| Arc::downgrade(l)).collect(),
            shadows.clone(),
        );
        if window_bytes(&entry) > self.max_bytes {
            return shadows;
        }
        let mut kept = self.lock();
        kept.push(entry);
        while kept.len() > KEPT_WINDOWS
            || kept.iter().map(window_bytes).sum::<usize>() > self.max_bytes
        {
            kept.remove(0);
        }
        shadows
    }

    /// Bytes held by the kept windows, for the memory report.
    pub fn bytes(&self) -> u64 {
        self.lock().iter().map(window_bytes).sum::<usize>() as u64
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<(Vec<Weak<DailyList>>, Shadows)>> {
        self.kept.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Bytes a kept window holds: its lists' handles, each keeping its list's `Arc` allocation
/// after the list is let go, and a flag per paper.
fn window_bytes((lists, shadows): &(Vec<Weak<DailyList>>, Shadows)) -> usize {
    let handle =
        std::mem::size_of::<Weak<DailyList>>() + crate::telemetry::memory::arc_bytes::<DailyList>();
    lists.len() * handle
        + shadows
            .iter()
            .map(|s| s.capacity() + std::mem::size_of::<Vec<bool>>())
            .sum::<usize>()
        + 64
}

/// [`Shadows`], worked out: each id is hashed once per list (in its word index).
fn shadows_of(newest_first: &[&Arc<DailyList>]) -> Vec<Vec<bool>> {
    let papers = newest_first.iter().map(|l| l.papers.len()).sum();
    let mut seen = Seen::with_capacity_and_hasher(papers, BuildHasherDefault::default());
    newest_first
        .iter()
        .map(|list| {
            let index = list.word_index();
            list.papers
                .iter()
                .enumerate()
                .map(|(i, p)| {
                    !seen.insert(SeenId {
                        hash: index.id_hash(i),
                        id: p.id.as_str(),
                    })
                })
                .collect()
        })
        .collect()
}

/// Sorts `papers` by `order` and keeps the first `limit`: only those are sorted when there
/// are more (the order is total, so the result is the same as sorting all).
fn sort_top<T>(papers: &mut Vec<T>, limit: usize, order: impl Fn(&T, &T) -> Ordering) {
    if limit == 0 {
        papers.clear();
        return;
    }
    if papers.len() > limit {
        papers.select_nth_unstable_by(limit - 1, &order);
        papers.truncate(limit);
    }
    papers.sort_by(order);
}

/// The papers `query` selects from `lists` (newest day first), in feed order, at most
/// `limit`.
pub fn select<'a>(
    windows: &Windows,
    query: &FeedQuery,
    lists: &'a [Arc<DailyList>],
    limit: usize,
) -> Vec<&'a Paper> {
    select_with(windows, query, lists, limit, Scan::Index)
}

/// Which papers of a list the matcher looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scan {
    /// The candidates of the list's word index, deciding what it decides.
    Index,
    /// Every paper, matched whole: what [`Scan::Index`] must agree with.
    Every,
}

/// Like [`select`], looking at the papers `scan` says.
pub fn select_with<'a>(
    windows: &Windows,
    query: &FeedQuery,
    lists: &'a [Arc<DailyList>],
    limit: usize,
    scan: Scan,
) -> Vec<&'a Paper> {
    let mut newest_first: Vec<&Arc<DailyList>> = lists.iter().collect();
    newest_first.sort_by_key(|l| Reverse(l.date));

    let shadows = windows.shadows(&newest_first);
    let mut selected: Vec<&Paper> = Vec::new();
    for (list, shadowed) in newest_first.into_iter().zip(shadows.iter()) {
        let mut day = matching(query, list, shadowed, scan);
        if let Some(top) = query.top {
            sort_top(&mut day, top as usize, |a, b| {
                b.upvotes.cmp(&a.upvotes).then_with(|| a.id.cmp(&b.id))
            });
        }
        selected.extend(day);
    }

    match query.sort() {
        Sort::Date => sort_top(&mut selected, limit, |a, b| {
            b.day
                .cmp(&a.day)
                .then_with(|| b.upvotes.cmp(&a.upvotes))
                .then_with(|| a.id.cmp(&b.id))
        }),
        Sort::Upvotes => sort_top(&mut selected, limit, |a, b| {
            b.upvotes
                .cmp(&a.upvotes)
                .then_with(|| b.day.cmp(&a.day))
                .then_with(|| a.id.cmp(&b.id))
        }),
    }
    selected
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::paper::raw::RawItem;
    use crate::query::limits::FeedSettings;
    use crate::query::params::ParseContext;
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

    fn list(date: NaiveDate, papers: Vec<Paper>) -> Arc<DailyList> {
        let at = chrono::Utc::now();
        Arc::new(DailyList::new(date, papers, at, at, 0))
    }

    #[test]
    fn a_paper_counts_for_its_newest_day_of_the_window_selected_twice_or_replaced() {
        let day = |d| NaiveDate::from_ymd_opt(2026, 8, d).unwrap();
        let all = query("q=agent");
        let ids = |selected: Vec<&Paper>| -> Vec<(String, NaiveDate)> {
            selected.iter().map(|p| (p.id.to_string(), p.day)).collect()
        };
        let mut shared_old = paper("2608.00001", "Agent", &[], 5);
        shared_old.day = day(3);
        let mut other = paper("2608.00002", "Agents", &[], 1);
        other.day = day(3);
        let older = list(day(3), vec![shared_old, other]);
        let mut shared_new = paper("2608.00001", "Agent memory", &[], 5);
        shared_new.day = day(4);
        let newer = list(day(4), vec![shared_new]);
        let window = vec![older.clone(), newer];
        let expected = vec![
            ("2608.00001".to_owned(), day(4)),
            ("2608.00002".to_owned(), day(3)),
        ];
        // Worked out, then kept: the same answer both times, in either scan.
        let windows = Windows::new(1 << 20);
        assert_eq!(ids(select(&windows, &all, &window, 10)), expected);
        assert_eq!(windows.lock().len(), 1);
        assert_eq!(ids(select(&windows, &all, &window, 10)), expected);
        assert_eq!(
            windows.lock().len(),
            1,
            "the window's flags are found again"
        );
        assert_eq!(
            ids(select_with(&windows, &all, &window, 10, Scan::Every)),
            expected
        );
        // A refresh replaces the newer list with one without the paper: the older day has it.
        let newer = list(day(4), vec![]);
        let window = vec![older, newer];
        assert_eq!(
            ids(select(&windows, &all, &window, 10)),
            vec![
                ("2608.00001".to_owned(), day(3)),
                ("2608.00002".to_owned(), day(3)),
            ]
        );
    }

    #[test]
    fn kept_windows_are_bounded_in_number_and_in_bytes() {
        let all = query("q=agent");
        let windows_of = |n: u32| -> Vec<Vec<Arc<DailyList>>> {
            (1..=n)
                .map(|d| {
                    let date =
                        NaiveDate::from_ymd_opt(2026, 1, 1).unwrap() + chrono::Days::new(d.into());
                    vec![list(date, vec![paper("2601.00001", "Agent", &[], 1)])]
                })
                .collect()
        };
        let many = windows_of(KEPT_WINDOWS as u32 + 4);
        let windows = Windows::new(1 << 20);
        for window in &many {
            select(&windows, &all, window, 10);
        }
        assert_eq!(windows.lock().len(), KEPT_WINDOWS);
        assert!(windows.bytes() > 0);

        let one = window_bytes(&windows.lock()[0]) as u64;
        let small = Windows::new(3 * one);
        for window in &many {
            select(&small, &all, window, 10);
        }
        assert_eq!(small.lock().len(), 3, "as many as fit in the bytes given");
        assert!(small.bytes() <= 3 * one);

        let none = Windows::new(one - 1);
        assert_eq!(
            select(&none, &all, &many[0], 10).len(),
            1,
            "selected all the same"
        );
        assert_eq!(
            none.bytes(),
            0,
            "a window larger than the bound is not kept"
        );
    }

    #[test]
    fn a_request_min_upvotes_replaces_the_topics() {
        let topic = query("min_upvotes=50");
        let low = paper("2608.00001", "Agents", &[], 3);
        assert!(!matches(&topic, &low));
        assert!(matches(&topic.narrowed_by(&query("min_upvotes=0")), &low));
    }
}
