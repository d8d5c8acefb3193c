//! The word index of a daily list, built once per list: every folded word of its papers (all
//! fields: the search index of [`crate::data::paper::SearchIndex`]), sorted, each with the
//! papers it occurs in and in which fields. A search term matches words that start with it, so
//! the papers a term can match are those of the words in one sorted range
//! ([`WordIndex::mark_prefix`]); the query layer narrows a query with it
//! ([`crate::query::narrow`]).

use crate::data::paper::{Field, Paper};

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
pub fn field_bit(field: Field) -> u8 {
    match field {
        Field::Title => 1,
        Field::Abstract => 2,
        Field::Author => 4,
        Field::Keyword => 8,
        Field::Org => 16,
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
    pub fn mark_prefix(&self, prefix: &str, fields: u8, into: &mut [bool]) {
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
}
