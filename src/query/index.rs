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
use crate::query::search::{Atom, Phrase};

const FIELDS: [Field; 5] = [
    Field::Title,
    Field::Abstract,
    Field::Author,
    Field::Keyword,
    Field::Org,
];

/// The folded words of a list's papers, sorted, each with the papers it occurs in and in
/// which fields; and each paper's id hashed once, for the selection's "seen on a newer day"
/// set.
#[derive(Debug, Clone, Default)]
pub struct WordIndex {
    /// The distinct words, concatenated in sorted order.
    text: String,
    /// Per word: where it ends in `text`, and where its papers end in `papers`.
    ends: Vec<(u32, u32)>,
    /// Paper positions (in the list), ascending per word, with the fields the word occurs in
    /// there (a bit per field, [`field_bit`]).
    papers: Vec<(u32, u8)>,
    /// Per paper, in list order: the xxh3 hash of its id.
    id_hashes: Vec<u64>,
}

/// A field's bit in a field mask.
fn field_bit(field: Field) -> u8 {
    match field {
        Field::Title => 1,
        Field::Abstract => 2,
        Field::Author => 4,
        Field::Keyword => 8,
        Field::Org => 16,
    }
}

/// The fields an atom is looked for in, as a mask.
fn atom_fields(atom: &Atom) -> u8 {
    match atom.field {
        Some(field) => field_bit(field),
        None => Field::DEFAULT
            .iter()
            .map(|&f| field_bit(f))
            .fold(0, |a, b| a | b),
    }
}

/// What the index tells of a query over one list: which papers may match, and which of the
/// query's clauses that answer decides exactly, so that the matcher skips them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Narrowed {
    /// Per paper of the list: whether it may match (`None`: any may).
    pub candidates: Option<Vec<bool>>,
    /// Per search expression of the query (`FeedQuery::q`), per clause: whether every
    /// candidate satisfies it (the candidates hold exactly the papers that do).
    pub decided: Vec<Vec<bool>>,
}

impl Narrowed {
    /// Whether paper `position` may match.
    pub fn candidate(&self, position: usize) -> bool {
        self.candidates
            .as_ref()
            .is_none_or(|c| c.get(position).copied().unwrap_or(true))
    }
}

impl WordIndex {
    /// The index of `papers` (a daily list's, in its order).
    pub fn build(papers: &[Paper]) -> WordIndex {
        let mut triples: Vec<(&str, u32, u8)> = Vec::new();
        for (position, paper) in papers.iter().enumerate() {
            let position = u32::try_from(position).unwrap_or(u32::MAX);
            for field in FIELDS {
                let bit = field_bit(field);
                triples.extend(
                    paper
                        .search
                        .field(field)
                        .split([' ', '\n'])
                        .filter(|w| !w.is_empty())
                        .map(|w| (w, position, bit)),
                );
            }
        }
        triples.sort_unstable();
        let mut index = WordIndex {
            id_hashes: papers
                .iter()
                .map(|p| xxhash_rust::xxh3::xxh3_64(p.id.as_bytes()))
                .collect(),
            ..WordIndex::default()
        };
        for (word, position, bit) in triples {
            let new_word = index.ends.is_empty() || index.word(index.ends.len() - 1) != word;
            if new_word {
                index.text.push_str(word);
                index
                    .ends
                    .push((index.text.len() as u32, index.papers.len() as u32));
            }
            match index.papers.last_mut() {
                // The same word in another field of the same paper.
                Some((last, mask)) if !new_word && *last == position => *mask |= bit,
                _ => index.papers.push((position, bit)),
            }
            if let Some(last) = index.ends.last_mut() {
                last.1 = index.papers.len() as u32;
            }
        }
        index.text.shrink_to_fit();
        index.ends.shrink_to_fit();
        index.papers.shrink_to_fit();
        index
    }

    /// Heap bytes held.
    pub fn bytes(&self) -> usize {
        self.text.capacity()
            + self.ends.capacity() * std::mem::size_of::<(u32, u32)>()
            + self.papers.capacity() * std::mem::size_of::<(u32, u8)>()
            + self.id_hashes.capacity() * std::mem::size_of::<u64>()
    }

    /// The xxh3 hash of the id of paper `position` (0 past the end).
    pub fn id_hash(&self, position: usize) -> u64 {
        self.id_hashes.get(position).copied().unwrap_or(0)
    }

    fn word(&self, i: usize) -> &str {
        let start = if i == 0 {
            0
        } else {
            self.ends[i - 1].0 as usize
        };
        &self.text[start..self.ends[i].0 as usize]
    }

    fn papers_of(&self, i: usize) -> &[(u32, u8)] {
        let start = if i == 0 {
            0
        } else {
            self.ends[i - 1].1 as usize
        };
        &self.papers[start..self.ends[i].1 as usize]
    }

    /// Marks in `into` the papers with a word that starts with `prefix` in one of `fields`.
    fn mark_prefix(&self, prefix: &str, fields: u8, into: &mut [bool]) {
        // The first word not less than `prefix`; the words starting with it follow.
        let mut i = {
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
            for &(position, mask) in self.papers_of(i) {
                if mask & fields != 0
                    && let Some(slot) = into.get_mut(position as usize)
                {
                    *slot = true;
                }
            }
            i += 1;
        }
    }

    /// The papers `atom` may hold for, and whether that is exact. A one-word phrase matches
    /// exactly the papers with a word that starts with it in the atom's fields (what
    /// [`Phrase::matches_in`] looks for), so the answer is exact, negated or not. A longer
    /// phrase needs its first word as a prefix: a superset, and nothing when negated.
    fn atom_set(&self, atom: &Atom, count: usize) -> Option<(Vec<bool>, bool)> {
        let mut set = vec![false; count];
        let mut words = atom.phrase.words();
        let first = words.next()?;
        let exact = words.len() == 0;
        if atom.negated && !exact {
            return None;
        }
        self.mark_prefix(first, atom_fields(atom), &mut set);
        if atom.negated {
            set.iter_mut().for_each(|s| *s = !*s);
        }
        Some((set, exact))
    }

    /// Papers with a word in `fields` that starts with the first word of any of `phrases`.
    fn any_of<'a>(
        &self,
        phrases: impl Iterator<Item = &'a Phrase>,
        fields: u8,
        count: usize,
    ) -> Vec<bool> {
        let mut set = vec![false; count];
        for phrase in phrases {
            if let Some(first) = phrase.words().next() {
                self.mark_prefix(first, fields, &mut set);
            }
        }
        set
    }

    /// What the index tells of `query` over the list's `count` papers: a superset of the
    /// papers that match, and the clauses it decides. A paper matches `query` exactly when it
    /// is a candidate and [`crate::query::select::matches_undecided`] holds.
    pub fn narrow(&self, query: &FeedQuery, count: usize) -> Narrowed {
        let mut candidates: Option<Vec<bool>> = None;
        let mut narrow = |set: Vec<bool>| {
            candidates = Some(match candidates.take() {
                None => set,
                Some(mut all) => {
                    for (a, b) in all.iter_mut().zip(set) {
                        *a &= b;
                    }
                    all
                }
            });
        };
        let mut decided = Vec::with_capacity(query.q.len());
        for (_, expr) in &query.q {
            let mut flags = Vec::with_capacity(expr.clauses().len());
            for clause in expr.clauses() {
                // The clause's papers: the union of its atoms' (None: any paper may).
                let mut union: Option<Vec<bool>> = Some(vec![false; count]);
                let mut exact = !clause.is_empty();
                for atom in clause {
                    match (self.atom_set(atom, count), union.as_mut()) {
                        (Some((set, atom_exact)), Some(all)) => {
                            exact &= atom_exact;
                            for (a, b) in all.iter_mut().zip(set) {
                                *a |= b;
                            }
                        }
                        (None, _) => {
                            union = None;
                            exact = false;
                        }
                        (_, None) => {}
                    }
                }
                if clause.is_empty() {
                    union = None;
                }
                if let Some(set) = union {
                    narrow(set);
                }
                flags.push(exact);
            }
            decided.push(flags);
        }
        for (groups, field) in [(&query.authors, Field::Author), (&query.orgs, Field::Org)] {
            for group in groups.iter().filter(|g| !g.is_empty()) {
                narrow(self.any_of(
                    group.iter().map(|name| &name.phrase),
                    field_bit(field),
                    count,
                ));
            }
        }
        Narrowed {
            candidates,
            decided,
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::feed_settings::FeedSettings;
    use crate::paper::raw::RawItem;
    use crate::query::params::{ParseContext, QueryKind};
    use crate::query::select::{matches, matches_undecided};

    const WORDS: [&str; 16] = [
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
        "quantization",
        "quantizations",
        "quantized",
        "quantizer",
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
        (0..WORDS.len(), 1usize..14).prop_map(|(w, len)| WORDS[w].chars().take(len).collect())
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
        fn the_index_and_the_matcher_together_select_exactly_what_matches(
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
            let narrowed = index.narrow(&query, papers.len());
            for (i, paper) in papers.iter().enumerate() {
                let whole = matches(&query, paper);
                prop_assert!(!whole || narrowed.candidate(i), "{raw}: {} matches but is not a candidate", paper.title);
                prop_assert_eq!(
                    whole,
                    narrowed.candidate(i) && matches_undecided(&query, paper, &narrowed.decided),
                    "{}: {} (decided {:?})", raw, paper.title, narrowed.decided
                );
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
        let q = |raw: &str| index.narrow(&query(raw).unwrap(), papers.len()).candidates;
        assert_eq!(q("q=agent"), Some(vec![true, false, true]));
        assert_eq!(
            q("q=diffusion%20OR%20memory"),
            Some(vec![true, true, false])
        );
        assert_eq!(q("q=agent%20model"), Some(vec![false, false, true]));
        assert_eq!(
            q("q=-agent"),
            Some(vec![false, true, false]),
            "a word's negation is exact"
        );
        assert_eq!(
            q("q=-%22agent%20memory%22"),
            None,
            "a phrase's negation cannot narrow"
        );
        assert_eq!(
            q("q=title:memory"),
            Some(vec![false, false, false]),
            "per field"
        );
        assert_eq!(q("q=abstract:memory"), Some(vec![true, false, false]));
        let decided = |raw: &str| index.narrow(&query(raw).unwrap(), papers.len()).decided;
        assert_eq!(
            decided("q=agent%20-x1%20%22agent%20memory%22"),
            vec![vec![true, true, false]]
        );
        assert_eq!(q("author=Muller"), Some(vec![false, false, true]));
        assert_eq!(q("q=zebra"), Some(vec![false, false, false]));
        assert_eq!(q(""), None);
    }
}
