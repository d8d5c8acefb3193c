//! Which papers of a daily list can match a query, without scanning them (issue 13, "selection
//! without a full scan").
//!
//! A list's [`WordIndex`] (built once per list in the data layer) tells which papers have a word
//! that starts with a given prefix. From a query's search expressions and author and
//! organization filters, [`Narrowed::of`] gives a superset of the papers that match: the exact
//! matcher then runs on those only. Terms that cannot narrow (a negated term in a clause, an empty query)
//! leave every paper a candidate.

use crate::data::paper::Field;
use crate::data::word_index::{WordIndex, field_bit};
use crate::query::params::FeedQuery;
use crate::query::search::{Atom, Phrase};

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

    /// What `index` tells of `query` over the list's `count` papers: a superset of the
    /// papers that match, and the clauses it decides. A paper matches `query` exactly when it
    /// is a candidate and [`crate::query::select::matches_undecided`] holds.
    pub fn of(index: &WordIndex, query: &FeedQuery, count: usize) -> Narrowed {
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
                    match (atom_set(index, atom, count), union.as_mut()) {
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
                narrow(any_of(
                    index,
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

/// The papers `atom` may hold for, and whether that is exact. A one-word phrase matches
/// exactly the papers with a word that starts with it in the atom's fields (what
/// [`Phrase::matches_in`] looks for), so the answer is exact, negated or not. A longer
/// phrase needs its first word as a prefix: a superset, and nothing when negated.
fn atom_set(index: &WordIndex, atom: &Atom, count: usize) -> Option<(Vec<bool>, bool)> {
    let mut set = vec![false; count];
    let mut words = atom.phrase.words();
    let first = words.next()?;
    let exact = words.len() == 0;
    if atom.negated && !exact {
        return None;
    }
    index.mark_prefix(first, atom_fields(atom), &mut set);
    if atom.negated {
        set.iter_mut().for_each(|s| *s = !*s);
    }
    Some((set, exact))
}

/// Papers with a word in `fields` that starts with the first word of any of `phrases`.
fn any_of<'a>(
    index: &WordIndex,
    phrases: impl Iterator<Item = &'a Phrase>,
    fields: u8,
    count: usize,
) -> Vec<bool> {
    let mut set = vec![false; count];
    for phrase in phrases {
        if let Some(first) = phrase.words().next() {
            index.mark_prefix(first, fields, &mut set);
        }
    }
    set
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::data::paper::Paper;
    use crate::data::paper::raw::RawItem;
    use crate::query::limits::FeedSettings;
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
            let narrowed = Narrowed::of(&index, &query, papers.len());
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
        let q = |raw: &str| Narrowed::of(&index, &query(raw).unwrap(), papers.len()).candidates;
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
        let decided = |raw: &str| Narrowed::of(&index, &query(raw).unwrap(), papers.len()).decided;
        assert_eq!(
            decided("q=agent%20-x1%20%22agent%20memory%22"),
            vec![vec![true, true, false]]
        );
        assert_eq!(q("author=Muller"), Some(vec![false, false, true]));
        assert_eq!(q("q=zebra"), Some(vec![false, false, false]));
        assert_eq!(q(""), None);
    }
}
