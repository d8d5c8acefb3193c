//! The search expression `q` of the feed URLs: parsing, matching and a canonical form.
//!
//! # Syntax
//!
//! - Whitespace separates terms; every term must match (AND).
//! - `"a phrase"` matches those words consecutively.
//! - `-term` and `-"a phrase"` must *not* match.
//! - `A OR B` (upper-case `OR`) matches either. `OR` binds tighter than the implicit AND:
//!   `diffusion OR flow video` is `(diffusion OR flow) AND video`.
//! - A term may carry a field prefix: `title:`, `abstract:`, `author:`, `keyword:` (the AI
//!   keywords) or `org:`. Without one, a term is looked for in [`Field::DEFAULT`] (title,
//!   abstract and keywords).
//!
//! # Matching
//!
//! Matching works on words, folded by [`crate::common::text::fold_words`] on both sides (case and
//! accents: `Müller` = `muller`). A term matches a word that starts with it (`agent` matches
//! "agentic"; `rl` matches "RLHF" but not "world"). A term containing separators (`gpt-4`,
//! `llm-as-a-judge`) is the phrase of its words. In a phrase, every word but the last must
//! match a whole word and the last may be a prefix; the words must be consecutive and inside
//! one segment (one author, one keyword, the title...).
//!
//! # Decisions for ambiguous input
//!
//! - Lower-case `or` is an ordinary term; only a bare, whitespace-delimited `OR` is the
//!   operator. `OR` first, last or next to another `OR` is a dangling-OR error.
//! - `-` negates the term or phrase it is glued to and may be used inside an OR:
//!   `-a OR b` is `(NOT a) OR b`. Only the first `-` negates: in `--a` and `title:-a` the
//!   other `-` is a separator, so they mean `-a` and `title:a`. A lone `-` is a term with no
//!   letters or digits.
//! - A field prefix is written before the term and after any `-`: `-author:müller`,
//!   `title:"flow matching"`. Field names are matched ignoring ASCII case (`Title:` works).
//! - In a bare term, the text before the first `:` is always a field name, so `a:b` and
//!   `http://x` are unknown-field errors (this catches typos such as `authors:`); after a
//!   valid prefix, further colons are separators (`title:re:think` is `title:"re think"`).
//! - A `"` opens a phrase only at the start of a term (after `-` and a field prefix).
//!   Inside a bare term it is a separator like any other punctuation: `ab"cd` is the phrase
//!   `"ab cd"`. A closing quote ends its term: `"a b"c` is `"a b" c`.
//! - An empty phrase (`""`, `"  "`) is an error; a phrase counts as one term for the limit.
//! - The canonical form ([`Display`](fmt::Display)) writes folded words, one-word terms
//!   bare, longer phrases quoted, and no parentheses: `title:"flow matching" a OR -b c`.

use std::fmt;

use crate::common::text::fold_words;
use crate::data::paper::{Field, SearchIndex};

mod parser;

use parser::Parser;

/// The longest expression accepted, in bytes.
pub const MAX_BYTES: usize = 512;
/// The most terms (words or phrases, negated or not) an expression may have.
pub const MAX_TERMS: usize = 32;

/// The list of field names, for error messages.
const FIELD_NAMES: &str = "title, abstract, author, keyword, org";

/// A sequence of folded words, matched consecutively within one segment of a field.
///
/// Never empty: [`Phrase::from_text`] refuses text without letters or digits.
#[derive(Debug, Clone)]
pub struct Phrase {
    words: Box<[Box<str>]>,
    /// A SIMD substring searcher for the first word, built once per query rather than once
    /// per paper and field: scanning abstracts is most of the cost of a search.
    first: Box<memchr::memmem::Finder<'static>>,
}

/// Equality and hashing are those of the words; the searcher is derived from them.
impl PartialEq for Phrase {
    fn eq(&self, other: &Self) -> bool {
        self.words == other.words
    }
}

impl Eq for Phrase {}

impl std::hash::Hash for Phrase {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.words.hash(state);
    }
}

impl Phrase {
    /// Folds `text` into a phrase; `None` when it has no letters or digits.
    pub fn from_text(text: &str) -> Option<Phrase> {
        Phrase::from_words(fold_words(text))
    }

    /// A phrase of already folded words; `None` when there are none.
    fn from_words(words: Vec<Box<str>>) -> Option<Phrase> {
        let first = Box::new(memchr::memmem::Finder::new(words.first()?.as_bytes()).into_owned());
        Some(Phrase {
            words: words.into_boxed_slice(),
            first,
        })
    }

    /// The folded words, in order.
    pub fn words(&self) -> impl ExactSizeIterator<Item = &str> {
        self.words.iter().map(|w| &**w)
    }

    /// Whether the phrase occurs in `folded_field`, a string in the
    /// [`SearchIndex`] layout (words separated by one space, segments by `\n`).
    ///
    /// Every word but the last must match a whole word; the last may match a word's prefix;
    /// the words must be consecutive and in one segment. Does not allocate.
    pub fn matches_in(&self, folded_field: &str) -> bool {
        let bytes = folded_field.as_bytes();
        // Occurrences overlapping a previous one cannot start a word (a folded word has no
        // space), so the non-overlapping search finds every candidate.
        self.first.find_iter(bytes).any(|at| {
            let word_start = at == 0 || matches!(bytes.get(at - 1), Some(b' ' | b'\n'));
            // `at` starts an occurrence of a folded word, so it is a char boundary.
            word_start
                && folded_field
                    .get(at..)
                    .is_some_and(|rest| self.matches_at(rest))
        })
    }

    /// Whether the phrase matches at the very start of `text`.
    fn matches_at(&self, mut text: &str) -> bool {
        let last = self.words.len() - 1;
        for (i, word) in self.words.iter().enumerate() {
            let Some(after) = text.strip_prefix(&**word) else {
                return false;
            };
            if i == last {
                break;
            }
            // A whole word, followed by another word of the same segment.
            let Some(next) = after.strip_prefix(' ') else {
                return false;
            };
            text = next;
        }
        true
    }
}

/// Writes the phrase as a search term: one word bare, several quoted.
impl fmt::Display for Phrase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let [word] = &*self.words {
            return f.write_str(word);
        }
        f.write_str("\"")?;
        for (i, word) in self.words.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            f.write_str(word)?;
        }
        f.write_str("\"")
    }
}

/// One term of an expression: a phrase, maybe restricted to a field, maybe negated.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Atom {
    /// `-term`: the atom holds when the phrase does *not* match.
    pub negated: bool,
    /// The field prefix; `None` means [`Field::DEFAULT`].
    pub field: Option<Field>,
    /// The words to match.
    pub phrase: Phrase,
}

impl Atom {
    /// Whether the atom holds for a paper's index.
    pub fn matches(&self, index: &SearchIndex) -> bool {
        let found = match self.field {
            Some(field) => self.phrase.matches_in(index.field(field)),
            None => Field::DEFAULT
                .iter()
                .any(|&field| self.phrase.matches_in(index.field(field))),
        };
        found != self.negated
    }
}

/// Writes `-field:phrase` in the canonical syntax.
impl fmt::Display for Atom {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.negated {
            f.write_str("-")?;
        }
        if let Some(field) = self.field {
            write!(f, "{}:", field.name())?;
        }
        write!(f, "{}", self.phrase)
    }
}

/// A parsed search expression: a conjunction (AND) of clauses, each a disjunction (OR) of
/// [`Atom`]s. The empty expression matches everything.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct SearchExpr {
    clauses: Box<[Box<[Atom]>]>,
}

impl SearchExpr {
    /// Parses an expression; empty or whitespace-only input is the empty expression.
    pub fn parse(input: &str) -> Result<SearchExpr, SearchError> {
        Parser::new(input)?.parse()
    }

    /// Whether the expression has no terms (and so matches every paper).
    pub fn is_empty(&self) -> bool {
        self.clauses.is_empty()
    }

    /// The number of terms (atoms), the quantity limited by [`MAX_TERMS`].
    pub fn term_count(&self) -> usize {
        self.clauses.iter().map(|clause| clause.len()).sum()
    }

    /// The clauses, all of which must hold; each is a list of atoms of which one must hold.
    pub fn clauses(&self) -> impl ExactSizeIterator<Item = &[Atom]> {
        self.clauses.iter().map(|clause| &**clause)
    }

    /// Whether a paper's index satisfies the expression. Does not allocate.
    pub fn matches(&self, index: &SearchIndex) -> bool {
        self.matches_undecided(index, &[])
    }

    /// Whether a paper's index satisfies the clauses not marked in `decided` (one flag per
    /// clause, in order; missing flags are unmarked): those the word index answered already.
    pub fn matches_undecided(&self, index: &SearchIndex, decided: &[bool]) -> bool {
        self.clauses.iter().enumerate().all(|(i, clause)| {
            decided.get(i).copied().unwrap_or(false)
                || clause.iter().any(|atom| atom.matches(index))
        })
    }
}

/// Writes the canonical form, which parses back to an equal expression: clauses separated by
/// a space, atoms of a clause by ` OR `, e.g. `title:"flow matching" a OR -b`.
impl fmt::Display for SearchExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, clause) in self.clauses.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            for (j, atom) in clause.iter().enumerate() {
                if j > 0 {
                    f.write_str(" OR ")?;
                }
                write!(f, "{atom}")?;
            }
        }
        Ok(())
    }
}

/// Why an expression could not be parsed, and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", .kind.describe(*.position))]
pub struct SearchError {
    position: usize,
    kind: SearchErrorKind,
}

/// The kinds of [`SearchError`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SearchErrorKind {
    /// The expression is longer than [`MAX_BYTES`].
    TooLong {
        /// The expression's length in bytes.
        bytes: usize,
    },
    /// The expression has more than [`MAX_TERMS`] terms.
    TooManyTerms {
        /// How many terms the expression has.
        terms: usize,
    },
    /// A `"` is never closed; the position is the opening quote's.
    UnbalancedQuote,
    /// An `OR` lacks a term on one side.
    DanglingOr,
    /// A `name:` prefix whose name is not a field (`name` may be empty: `:x`).
    UnknownField {
        /// The name as written.
        name: String,
    },
    /// A field prefix with nothing after it (`title: x`).
    MissingTerm {
        /// The field named by the prefix.
        field: Field,
    },
    /// A phrase with nothing between its quotes.
    EmptyPhrase,
    /// A term, as written, with no letters or digits (`!!!`, a lone `-`).
    NoWords {
        /// The term as written, with its `-` and field prefix.
        term: String,
    },
}

impl SearchErrorKind {
    fn describe(&self, at: usize) -> String {
        match self {
            Self::TooLong { bytes } => {
                format!("the expression is {bytes} bytes long; the limit is {MAX_BYTES}")
            }
            Self::TooManyTerms { terms } => {
                format!("the expression has {terms} terms; the limit is {MAX_TERMS}")
            }
            Self::UnbalancedQuote => {
                format!("unbalanced quote: the phrase opened at character {at} is never closed")
            }
            Self::DanglingOr => {
                format!("dangling OR at character {at}: OR needs a term on each side")
            }
            Self::UnknownField { name } if name.is_empty() => format!(
                "the colon at character {at} has no field name before it; \
                 fields are {FIELD_NAMES}"
            ),
            Self::UnknownField { name } => {
                format!("unknown field {name:?} at character {at}; fields are {FIELD_NAMES}")
            }
            Self::MissingTerm { field } => {
                let name = field.name();
                format!(
                    "the field \"{name}:\" at character {at} has no term after it; \
                     write the term right after the colon, e.g. {name}:diffusion"
                )
            }
            Self::EmptyPhrase => format!(
                "the phrase at character {at} is empty; put words between the quotes or \
                 remove them"
            ),
            Self::NoWords { term } => {
                format!("the term {term:?} at character {at} has no letters or digits")
            }
        }
    }
}

impl SearchError {
    /// The 1-based character (not byte) position the error refers to.
    pub fn position(&self) -> usize {
        self.position
    }

    /// What is wrong.
    pub fn kind(&self) -> &SearchErrorKind {
        &self.kind
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::paper::Paper;
    use crate::data::paper::raw::RawItem;
    use chrono::NaiveDate;

    fn paper(title: &str, summary: &str, keywords: &[&str], authors: &[&str]) -> Paper {
        let authors: Vec<_> = authors
            .iter()
            .map(|name| serde_json::json!({ "name": name }))
            .collect();
        let raw: RawItem = serde_json::from_value(serde_json::json!({
            "paper": {
                "id": "2601.00001",
                "title": title,
                "summary": summary,
                "ai_keywords": keywords,
                "authors": authors,
                "organization": {"name": "nvidia", "fullname": "NVIDIA Research"}
            }
        }))
        .unwrap();
        Paper::from_raw(&raw, NaiveDate::from_ymd_opt(2026, 1, 5).unwrap()).unwrap()
    }

    fn main_paper() -> Paper {
        paper(
            "Flow Matching for Agentic Video Generation",
            "We study world models trained with RLHF. Our agents beat GPT-4 when \
             LLM-as-a-Judge scores them.",
            &["diffusion transformer", "reinforcement learning"],
            &["Jörg Müller", "Ayşe Yılmaz"],
        )
    }

    fn parse(q: &str) -> SearchExpr {
        SearchExpr::parse(q).unwrap_or_else(|e| panic!("{q:?} should parse: {e}"))
    }

    fn check_all(paper: &Paper, cases: &[(&str, bool)]) {
        let failures: Vec<_> = cases
            .iter()
            .filter(|&&(q, want)| parse(q).matches(&paper.search) != want)
            .collect();
        assert!(failures.is_empty(), "wrong results: {failures:?}");
    }

    #[test]
    fn matches_the_main_paper() {
        check_all(
            &main_paper(),
            &[
                // empty
                ("", true),
                ("   \t ", true),
                // AND
                ("flow", true),
                ("flow video", true),
                ("flow zebra", false),
                ("zebra flow", false),
                // phrases
                ("\"flow matching\"", true),
                ("\"matching flow\"", false),
                ("\"flow match\"", true),
                ("\"flo matching\"", false),
                ("\"matching for agentic video\"", true),
                ("\"flow video\"", false),
                // negation
                ("-zebra", true),
                ("-flow", false),
                ("flow -zebra", true),
                ("flow -video", false),
                ("-\"flow matching\"", false),
                ("-\"matching flow\"", true),
                // OR and its precedence
                ("zebra OR flow", true),
                ("flow OR zebra", true),
                ("zebra OR okapi", false),
                ("diffusion OR zebra video", true),
                ("zebra OR diffusion video", true),
                ("zebra OR okapi video", false),
                ("diffusion OR flow zebra", false),
                ("zebra diffusion OR flow", false),
                ("a1 OR b1 OR flow", true),
                ("-flow OR video", true),
                ("-flow OR zebra", false),
                ("-zebra OR flow", true),
                // lower-case or is a term
                ("flow or zebra", false),
                ("flow or video", false),
                // field prefixes
                ("title:flow", true),
                ("title:world", false),
                ("abstract:world", true),
                ("abstract:flow", false),
                ("author:muller", true),
                ("author:Müller", true),
                ("author:\"jorg muller\"", true),
                ("author:\"muller ayse\"", false),
                ("author:flow", false),
                ("keyword:diffusion", true),
                ("keyword:flow", false),
                ("keyword:\"reinforcement learn\"", true),
                ("org:nvidia", true),
                ("org:research", true),
                ("org:\"nvidia research\"", true),
                ("org:\"nvidia nvidia\"", false),
                ("org:flow", false),
                ("Title:flow", true),
                ("-author:müller", false),
                ("-author:zebra", true),
                ("title:\"flow matching\"", true),
                ("-title:\"flow matching\"", false),
                ("title:zebra OR author:yilmaz", true),
                // default fields: title, abstract, keywords, not authors or org
                ("muller", false),
                ("yilmaz", false),
                ("nvidia", false),
                ("diffusion", true),
                ("world", true),
                ("video", true),
                // accents
                ("müller", false),
                ("author:MÜLLER", true),
                ("author:yılmaz", true),
                ("author:ayse", true),
                // prefix rule
                ("agent", true),
                ("agents", true),
                ("agentic", true),
                ("agentics", false),
                ("rl", true),
                ("rlhf", true),
                ("orld", false),
                // separators inside a term
                ("gpt-4", true),
                ("gpt-5", false),
                ("\"gpt 4\"", true),
                ("gpt4", false),
                ("llm-as-a-judge", true),
                ("LLM-as-a-Judge", true),
                ("llm-as-judge", false),
                ("-gpt-4", false),
                // no match across segments
                ("keyword:\"transformer reinforcement\"", false),
                ("\"transformer reinforcement\"", false),
                ("\"generation we\"", false),
                // quotes and colons in odd places
                ("flow\"matching", true),
                ("\"flow matching\"video", true),
                ("--zebra", true),
                ("title:-flow", true),
                ("title:flow:matching", true),
            ],
        );
    }

    #[test]
    fn prefix_needs_a_word_start() {
        let p = paper("Hello world", "", &[], &[]);
        check_all(
            &p,
            &[
                ("rl", false),
                ("world", true),
                ("wor", true),
                ("orld", false),
            ],
        );
        let p = paper("T", "", &[], &["Muller"]);
        check_all(&p, &[("author:Müller", true), ("author:muller", true)]);
    }

    #[test]
    fn phrase_matches_in_folded_text() {
        let field = "agents of chaos\nrlhf for llm as a judge\n漢字 x";
        let cases = [
            ("agent", true),
            ("agents of chaos", true),
            ("agents of cha", true),
            ("agent of chaos", false),
            ("of chaos", true),
            ("chaos rlhf", false),
            ("chaos\nrlhf", false),
            ("rlhf", true),
            ("rl", true),
            ("hf", false),
            ("llm-as-a-judge", true),
            ("as a judge", true),
            ("a judge", true),
            ("judge x", false),
            ("漢字", true),
            ("漢", true),
            ("字", false),
            ("x", true),
            ("y", false),
        ];
        for (text, want) in cases {
            let phrase = Phrase::from_text(text).unwrap();
            assert_eq!(phrase.matches_in(field), want, "{text:?}");
        }
        assert!(!Phrase::from_text("a").unwrap().matches_in(""));
        assert!(Phrase::from_text("b").unwrap().matches_in("ab b"));
        assert!(Phrase::from_text("ab b").unwrap().matches_in("aab ab b"));
        assert!(Phrase::from_text("ab ab").unwrap().matches_in("ab ab ab"));
    }

    #[test]
    fn phrase_from_text_folds_and_refuses_wordless_text() {
        let words = |t: &str| Phrase::from_text(t).map(|p| p.words().collect::<Vec<_>>().join(" "));
        assert_eq!(words("GPT-4").as_deref(), Some("gpt 4"));
        assert_eq!(words("Jörg  Müller").as_deref(), Some("jorg muller"));
        assert_eq!(words("!!! -- "), None);
        assert_eq!(words(""), None);
        assert_eq!(Phrase::from_text("a-b").unwrap().to_string(), "\"a b\"");
        assert_eq!(Phrase::from_text("Ab").unwrap().to_string(), "ab");
    }

    #[test]
    fn structure_of_parsed_expressions() {
        let e = parse("diffusion OR flow video");
        let shape: Vec<usize> = e.clauses().map(<[Atom]>::len).collect();
        assert_eq!(shape, [2, 1]);
        assert_eq!(e.term_count(), 3);
        assert!(!e.is_empty());
        assert!(parse("  ").is_empty());
        assert_eq!(parse(" \n ").term_count(), 0);
        assert_eq!(parse("a or b").term_count(), 3);
        assert_eq!(parse("a or b").clauses().len(), 3);

        let e = parse("-author:Müller");
        let atom = &e.clauses().next().unwrap()[0];
        assert!(atom.negated);
        assert_eq!(atom.field, Some(Field::Author));
        assert_eq!(atom.phrase, Phrase::from_text("muller").unwrap());

        // A term with separators is the same as the quoted phrase of its words.
        assert_eq!(parse("gpt-4"), parse("\"gpt 4\""));
        assert_eq!(parse("ab\"cd"), parse("\"ab cd\""));
        assert_eq!(parse("\"a b\"c"), parse("\"a b\" c"));
        assert_eq!(parse("--a"), parse("-a"));
        assert_eq!(parse("title:-a"), parse("title:a"));
        assert_eq!(parse("title:re:think"), parse("title:\"re think\""));
        assert_eq!(parse("TITLE:x"), parse("title:x"));
        assert_eq!(parse("\"OR\""), parse("or"));
        assert_eq!(parse("-OR"), parse("-or"));
        assert_eq!(parse("title:OR"), parse("title:or"));
        assert_eq!(
            parse("llm-as-a-judge").clauses().next().unwrap()[0]
                .phrase
                .words()
                .len(),
            4
        );
    }

    #[test]
    fn errors_name_their_kind_and_position() {
        use SearchErrorKind as K;
        let cases: &[(&str, K, usize)] = &[
            ("\"flow matching", K::UnbalancedQuote, 1),
            ("a -\"b", K::UnbalancedQuote, 4),
            ("title:\"a b", K::UnbalancedQuote, 7),
            ("\"a\" \"b", K::UnbalancedQuote, 5),
            ("OR", K::DanglingOr, 1),
            ("OR a", K::DanglingOr, 1),
            ("a OR", K::DanglingOr, 3),
            ("a OR OR b", K::DanglingOr, 6),
            ("a OR b OR  ", K::DanglingOr, 8),
            ("foo:bar", K::UnknownField { name: "foo".into() }, 1),
            ("-foo:bar", K::UnknownField { name: "foo".into() }, 2),
            ("x a:b", K::UnknownField { name: "a".into() }, 3),
            (
                "http://x.org",
                K::UnknownField {
                    name: "http".into(),
                },
                1,
            ),
            (
                "authors:x",
                K::UnknownField {
                    name: "authors".into(),
                },
                1,
            ),
            (":x", K::UnknownField { name: "".into() }, 1),
            (
                "title:",
                K::MissingTerm {
                    field: Field::Title,
                },
                1,
            ),
            ("a -org: b", K::MissingTerm { field: Field::Org }, 4),
            ("\"\"", K::EmptyPhrase, 1),
            ("a title:\"  \"", K::EmptyPhrase, 9),
            ("!!!", K::NoWords { term: "!!!".into() }, 1),
            ("a -", K::NoWords { term: "-".into() }, 3),
            ("a - b", K::NoWords { term: "-".into() }, 3),
            (
                "\"!!\"",
                K::NoWords {
                    term: "\"!!\"".into(),
                },
                1,
            ),
            (
                "title:...",
                K::NoWords {
                    term: "title:...".into(),
                },
                1,
            ),
            (
                "a OR 🚀",
                K::NoWords {
                    term: "🚀".into()
                },
                6,
            ),
            // positions count characters, not bytes
            ("müller !!!", K::NoWords { term: "!!!".into() }, 8),
            ("ü \"x", K::UnbalancedQuote, 3),
        ];
        for (input, kind, position) in cases {
            let err = SearchExpr::parse(input).unwrap_err();
            assert_eq!((err.kind(), err.position()), (kind, *position), "{input:?}");
        }
    }

    #[test]
    fn error_messages_are_sentences() {
        let msg = |q: &str| SearchExpr::parse(q).unwrap_err().to_string();
        assert_eq!(
            msg("flow \"match"),
            "unbalanced quote: the phrase opened at character 6 is never closed"
        );
        assert_eq!(
            msg("a b c d OR"),
            "dangling OR at character 9: OR needs a term on each side"
        );
        assert_eq!(
            msg("foo:x"),
            "unknown field \"foo\" at character 1; fields are title, abstract, author, keyword, org"
        );
        assert_eq!(
            msg("a b !!!"),
            "the term \"!!!\" at character 5 has no letters or digits"
        );
        assert_eq!(
            msg(&"a ".repeat(300)),
            "the expression is 600 bytes long; the limit is 512"
        );
        assert_eq!(
            msg(&"a ".repeat(33)),
            "the expression has 33 terms; the limit is 32"
        );
        assert!(msg("title:").contains("\"title:\" at character 1 has no term after it"));
        assert!(msg("x \"\"").contains("phrase at character 3 is empty"));
        assert!(msg(":x").contains("colon at character 1 has no field name"));
    }

    #[test]
    fn limits() {
        // bytes
        assert!(SearchExpr::parse(&"a".repeat(MAX_BYTES)).is_ok());
        let err = SearchExpr::parse(&"a".repeat(MAX_BYTES + 1)).unwrap_err();
        assert_eq!(err.kind(), &SearchErrorKind::TooLong { bytes: 513 });
        assert_eq!(err.position(), 513);
        // 511 ASCII bytes then a 2-byte character that crosses the limit, at character 512.
        let err = SearchExpr::parse(&format!("{}éé", "a".repeat(511))).unwrap_err();
        assert_eq!(err.position(), 512);

        // terms
        let terms = |n: usize, term: &str| vec![term; n].join(" ");
        assert_eq!(parse(&terms(32, "ab")).term_count(), 32);
        assert_eq!(parse(&terms(32, "\"a b c\"")).term_count(), 32);
        assert_eq!(parse(&terms(32, "gpt-4")).term_count(), 32);
        assert_eq!(parse(&terms(16, "a OR b")).term_count(), 32);
        let err = SearchExpr::parse(&terms(40, "ab")).unwrap_err();
        assert_eq!(err.kind(), &SearchErrorKind::TooManyTerms { terms: 40 });
        assert_eq!(err.position(), 32 * 3 + 1);
        let err = SearchExpr::parse(&terms(17, "a OR b")).unwrap_err();
        assert_eq!(err.kind(), &SearchErrorKind::TooManyTerms { terms: 34 });
    }

    #[test]
    fn display_round_trips() {
        let inputs = [
            "",
            "flow",
            "Flow  Video",
            "\"flow matching\"",
            "-\"flow matching\" -x",
            "diffusion OR flow video",
            "-a OR b",
            "a OR -b OR title:c",
            "title:\"Flow Matching\" a OR -b",
            "-author:Müller org:nvidia keyword:\"reinforcement learning\"",
            "abstract:world",
            "gpt-4 llm-as-a-judge",
            "a or b",
            "ab\"cd \"x y\"z",
            "title:re:think",
            "\"OR\" -OR",
            "漢字 Łukasz Straße",
            "--a title:-b",
            "a OR b c OR d e",
        ];
        for input in inputs {
            let expr = parse(input);
            let shown = expr.to_string();
            assert_eq!(parse(&shown), expr, "{input:?} -> {shown:?}");
            assert_eq!(parse(&shown).to_string(), shown, "{input:?}");
        }
        assert_eq!(
            parse("Title:\"Flow  Matching\" a OR -b c").to_string(),
            "title:\"flow matching\" a OR -b c"
        );
        assert_eq!(
            parse("-author:Müller gpt-4").to_string(),
            "-author:muller \"gpt 4\""
        );
        assert_eq!(parse("  ").to_string(), "");
    }

    #[test]
    fn equal_expressions_hash_equal() {
        use std::collections::HashSet;
        let set: HashSet<SearchExpr> = ["gpt-4", "\"GPT 4\"", "Gpt-4", "gpt 4"]
            .into_iter()
            .map(parse)
            .collect();
        assert_eq!(set.len(), 2);
    }
}
