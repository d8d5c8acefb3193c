//! Which papers of a daily list can match a query, without scanning them (issue 13, "selection
//! without a full scan").
//!
//! A [`WordIndex`] holds every folded word of a list's papers (all fields: the search index of
//! [`crate::paper::SearchIndex`]), sorted, each with the papers it occurs in. A search term
//! matches words that start with it, so the papers a term can match are those of the words in
//! one sorted range. From a query's search expressions and author and organization filters,
//! [`WordIndex::candidates`] gives a superset of the papers that match: the exact matcher then
//! runs on those only. Terms that cannot narrow (a negated term in a clause, an empty query)
//! leave every paper a candidate.

use crate::paper::{Field, Paper};
use crate::query::params::FeedQuery;
use crate::query::search::Phrase;

const FIELDS: [Field; 5] = [
    Field::Title,
    Field::Abstract,
    Field::Author,
    Field::Keyword,
    Field::Org,
];

/// The folded words of a list's papers, sorted, each with the papers it occurs in.
#[derive(Debug, Clone, Default)]
pub struct WordIndex {
    /// The distinct words, concatenated in sorted order.
    text: String,
    /// Per word: where it ends in `text`, and where its papers end in `papers`.
    ends: Vec<(u32, u32)>,
    /// Paper positions (in the list), ascending per word.
    papers: Vec<u32>,
}

impl WordIndex {
    /// The index of `papers` (a daily list's, in its order).
    pub fn build(papers: &[Paper]) -> WordIndex {
        let mut pairs: Vec<(&str, u32)> = Vec::new();
        for (position, paper) in papers.iter().enumerate() {
            let position = u32::try_from(position).unwrap_or(u32::MAX);
            for field in FIELDS {
                pairs.extend(
                    paper
                        .search
                        .field(field)
                        .split([' ', '\n'])
                        .filter(|w| !w.is_empty())
                        .map(|w| (w, position)),
                );
            }
        }
        pairs.sort_unstable();
        pairs.dedup();
        let mut index = WordIndex::default();
        for (word, position) in pairs {
            let new_word = index
                .ends
                .last()
                .is_none_or(|_| index.word(index.ends.len() - 1) != word);
            if new_word {
                index.text.push_str(word);
                index
                    .ends
                    .push((index.text.len() as u32, index.papers.len() as u32));
            }
            index.papers.push(position);
            if let Some(last) = index.ends.last_mut() {
                last.1 = index.papers.len() as u32;
            }
        }
        index.text.shrink_to_fit();
        index.ends.shrink_to_fit();
        index.papers.shrink_to_fit();
        index
    }

    fn word(&self, i: usize) -> &str {
        let start = if i == 0 {
            0
        } else {
            self.ends[i - 1].0 as usize
        };
        &self.text[start..self.ends[i].0 as usize]
    }

    fn papers_of(&self, i: usize) -> &[u32] {
        let start = if i == 0 {
            0
        } else {
            self.ends[i - 1].1 as usize
        };
        &self.papers[start..self.ends[i].1 as usize]
    }

    /// Marks in `into` the papers with a word that starts with `prefix`.
    fn mark_prefix(&self, prefix: &str, into: &mut [bool]) {
        let mut i = {
            // The first word not less than `prefix`.
            let (mut low, mut high) = (0, self.ends.len());
            while low < high {
                let mid = (low + high) / 2;
                if self.word(mid) < prefix {
                    low = mid + 1;
                } else {
                    high = mid;
                }
            }
            low
        };
        while i < self.ends.len() && self.word(i).starts_with(prefix) {
            for &position in self.papers_of(i) {
                if let Some(slot) = into.get_mut(position as usize) {
                    *slot = true;
                }
            }
            i += 1;
        }
    }

    /// Papers that have a word starting with the first word of any of `phrases`.
    fn any_of<'a>(&self, phrases: impl Iterator<Item = &'a Phrase>, count: usize) -> Vec<bool> {
        let mut set = vec![false; count];
        for phrase in phrases {
            if let Some(first) = phrase.words().next() {
                self.mark_prefix(first, &mut set);
            }
        }
        set
    }

    /// Which of the list's `count` papers may match `query` (`None`: any may). A superset:
    /// every paper that matches is marked.
    pub fn candidates(&self, query: &FeedQuery, count: usize) -> Option<Vec<bool>> {
        let mut result: Option<Vec<bool>> = None;
        let mut narrow = |set: Vec<bool>| {
            result = Some(match result.take() {
                None => set,
                Some(mut all) => {
                    for (a, b) in all.iter_mut().zip(set) {
                        *a &= b;
                    }
                    all
                }
            });
        };
        for (_, expr) in &query.q {
            for clause in expr.clauses() {
                // A negated atom holds without any word: the clause cannot narrow.
                if clause.is_empty() || clause.iter().any(|atom| atom.negated) {
                    continue;
                }
                narrow(self.any_of(clause.iter().map(|atom| &atom.phrase), count));
            }
        }
        for group in query.authors.iter().chain(&query.orgs) {
            if group.is_empty() {
                continue;
            }
            narrow(self.any_of(group.iter().map(|name| &name.phrase), count));
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::feed_settings::FeedSettings;
    use crate::query::params::{ParseContext, QueryKind};
    use crate::query::select::matches;
    use crate::upstream::model::RawItem;

    const WORDS: [&str; 12] = [
        "agent",
        "agents",
        "agentic",
        "memory",
        "diffusion",
        "flow",
        "matching",
        "müller",
        "li",
        "lidar",
        "vision",
        "model",
    ];

    fn paper(n: usize, title: &[usize], abstract_text: &[usize], authors: &[usize]) -> Paper {
        let words = |ws: &[usize]| {
            ws.iter()
                .map(|&w| WORDS[w % WORDS.len()])
                .collect::<Vec<_>>()
        };
        let authors: Vec<serde_json::Value> = words(authors)
            .into_iter()
            .map(|a| serde_json::json!({ "name": format!("Ann {a}") }))
            .collect();
        let raw: RawItem = serde_json::from_value(serde_json::json!({
            "paper": {
                "id": format!("2608.{n:05}"),
                "title": format!("T {}", words(title).join(" ")),
                "summary": words(abstract_text).join(" "),
                "authors": authors,
                "upvotes": n,
            }
        }))
        .unwrap();
        Paper::from_raw(&raw, chrono::NaiveDate::from_ymd_opt(2026, 8, 3).unwrap()).unwrap()
    }

    fn query(raw: &str) -> Option<FeedQuery> {
        let feeds = FeedSettings::default();
        let ctx = ParseContext {
            today: chrono::NaiveDate::from_ymd_opt(2026, 8, 14).unwrap(),
            feeds: &feeds,
            allow_format: false,
            kind: QueryKind::Feed,
        };
        FeedQuery::parse(raw, &ctx).ok()
    }

    fn word_and_prefix() -> impl Strategy<Value = String> {
        (0..WORDS.len(), 1usize..6).prop_map(|(w, len)| WORDS[w].chars().take(len).collect())
    }

    /// A query of terms (prefixes of the vocabulary), phrases, ORs, negations, fields and
    /// authors, percent-encoded as a feed URL would carry it.
    fn any_query() -> impl Strategy<Value = String> {
        let term =
            (word_and_prefix(), word_and_prefix(), 0..6).prop_map(|(a, b, shape)| match shape {
                0 => a,
                1 => format!("-{a}"),
                2 => format!("\"{a} {b}\""),
                3 => format!("{a} OR {b}"),
                4 => format!("title:{a}"),
                _ => format!("-{a} OR author:{b}"),
            });
        (
            proptest::collection::vec(term, 0..4),
            proptest::option::of(word_and_prefix()),
        )
            .prop_map(|(terms, author)| {
                let mut pairs = form_urlencoded::Serializer::new(String::new());
                pairs.append_pair("q", &terms.join(" "));
                if let Some(author) = author {
                    pairs.append_pair("author", &author);
                }
                pairs.finish()
            })
    }

    proptest! {
        #[test]
        fn every_paper_that_matches_is_a_candidate(
            spec in proptest::collection::vec(
                (
                    proptest::collection::vec(0usize..12, 0..4),
                    proptest::collection::vec(0usize..12, 0..6),
                    proptest::collection::vec(0usize..12, 0..3),
                ),
                0..12,
            ),
            raw in any_query(),
        ) {
            let papers: Vec<Paper> = spec
                .iter()
                .enumerate()
                .map(|(n, (t, a, au))| paper(n + 1, t, a, au))
                .collect();
            let Some(query) = query(&raw) else { return Ok(()); };
            let index = WordIndex::build(&papers);
            let candidates = index.candidates(&query, papers.len());
            for (i, paper) in papers.iter().enumerate() {
                if matches(&query, paper) {
                    prop_assert!(
                        candidates.as_ref().is_none_or(|c| c[i]),
                        "{raw}: {} matches but is not a candidate", paper.title
                    );
                }
            }
        }
    }

    #[test]
    fn a_term_narrows_to_the_papers_with_a_word_it_starts() {
        let papers = vec![
            paper(1, &[0], &[3], &[8]),  // agent memory, author li
            paper(2, &[4], &[5], &[9]),  // diffusion flow, author lidar
            paper(3, &[2], &[11], &[7]), // agentic model, author müller
        ];
        let index = WordIndex::build(&papers);
        let q = |raw: &str| index.candidates(&query(raw).unwrap(), papers.len());
        assert_eq!(q("q=agent"), Some(vec![true, false, true]));
        assert_eq!(
            q("q=diffusion%20OR%20memory"),
            Some(vec![true, true, false])
        );
        assert_eq!(q("q=agent%20model"), Some(vec![false, false, true]));
        assert_eq!(q("q=-agent"), None, "a negation cannot narrow");
        assert_eq!(q("author=Muller"), Some(vec![false, false, true]));
        assert_eq!(q("q=zebra"), Some(vec![false, false, false]));
        assert_eq!(q(""), None);
    }
}
