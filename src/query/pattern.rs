//! RSSHub's `filter*` and `filterout*` parameters: regular expressions over a paper's title,
//! description (abstract and AI summary) or authors, compiled by the `regex` crate, whose
//! matching is linear in the text: no pattern can stall a worker. A pattern's length and the
//! size of its compiled program are both bounded.

use std::hash::{Hash, Hasher};

use regex::{Regex, RegexBuilder};

use crate::data::paper::Paper;

/// The longest pattern, in bytes.
pub const MAX_PATTERN_BYTES: usize = 256;
/// The most memory one compiled pattern may take (its program and its lazy DFA each).
const SIZE_LIMIT: usize = 256 << 10;
/// What a compiled pattern may hold at most, program and DFA: what the render cache weighs a
/// pattern at, whatever its text.
pub const MAX_COMPILED_BYTES: usize = 2 * SIZE_LIMIT;

/// What a pattern looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Target {
    /// `filter`: the title or the description.
    TitleOrDescription,
    Title,
    /// The abstract and the AI summary.
    Description,
    /// Any one author's name.
    Author,
}

/// One `filter*` (keep what matches) or `filterout*` (drop what matches) parameter.
#[derive(Debug, Clone)]
pub struct Pattern {
    pub target: Target,
    /// `filterout*`: papers that match are dropped.
    pub exclude: bool,
    /// The expression as given.
    pub source: String,
    pub case_sensitive: bool,
    regex: Regex,
}

impl PartialEq for Pattern {
    fn eq(&self, other: &Self) -> bool {
        (self.target, self.exclude, &self.source, self.case_sensitive)
            == (
                other.target,
                other.exclude,
                &other.source,
                other.case_sensitive,
            )
    }
}

impl Eq for Pattern {}

impl Hash for Pattern {
    fn hash<H: Hasher>(&self, state: &mut H) {
        (self.target, self.exclude, &self.source, self.case_sensitive).hash(state);
    }
}

/// The parameter names, with what each one does.
const PARAMETERS: [(&str, Target, bool); 8] = [
    ("filter", Target::TitleOrDescription, false),
    ("filter_title", Target::Title, false),
    ("filter_description", Target::Description, false),
    ("filter_author", Target::Author, false),
    ("filterout", Target::TitleOrDescription, true),
    ("filterout_title", Target::Title, true),
    ("filterout_description", Target::Description, true),
    ("filterout_author", Target::Author, true),
];

impl Pattern {
    /// What the parameter `name` filters on, and whether it drops what matches; `None` when it
    /// is not one of the eight pattern parameters.
    pub fn parameter(name: &str) -> Option<(Target, bool)> {
        PARAMETERS
            .iter()
            .find(|(n, _, _)| *n == name)
            .map(|(_, target, exclude)| (*target, *exclude))
    }

    /// The parameter this pattern was given as.
    pub fn name(&self) -> &'static str {
        PARAMETERS
            .iter()
            .find(|(_, t, e)| *t == self.target && *e == self.exclude)
            .map_or("filter", |(n, _, _)| n)
    }

    /// Compiles `source`; the error is a sentence naming the parameter.
    pub fn compile(name: &str, source: &str, case_sensitive: bool) -> Result<Pattern, String> {
        let Some((target, exclude)) = Pattern::parameter(name) else {
            return Err(format!("{name} is not a filter parameter."));
        };
        if source.len() > MAX_PATTERN_BYTES {
            return Err(format!(
                "{name} is {} bytes long; give a regular expression of at most {MAX_PATTERN_BYTES} bytes.",
                source.len()
            ));
        }
        let regex = RegexBuilder::new(source)
            .case_insensitive(!case_sensitive)
            .size_limit(SIZE_LIMIT)
            .dfa_size_limit(SIZE_LIMIT)
            .nest_limit(64)
            .build()
            .map_err(|e| {
                let reason = match e {
                    regex::Error::CompiledTooBig(_) => {
                        "it compiles to a program too large to run; make it simpler".to_owned()
                    }
                    // The syntax error's first line says what is wrong, without the
                    // multi-line drawing under the pattern.
                    other => other
                        .to_string()
                        .lines()
                        .rev()
                        .find(|l| l.starts_with("error:"))
                        .map_or_else(|| "it is not valid".to_owned(), |l| l[6..].trim().to_owned()),
                };
                format!(
                    "{name} is not a regular expression paperboy can use: {reason} (Rust regex syntax)."
                )
            })?;
        Ok(Pattern {
            target,
            exclude,
            source: source.to_owned(),
            case_sensitive,
            regex,
        })
    }

    /// Whether `paper` is kept by this pattern.
    pub fn keeps(&self, paper: &Paper) -> bool {
        self.found_in(paper) != self.exclude
    }

    fn found_in(&self, paper: &Paper) -> bool {
        let description = || {
            self.regex.is_match(&paper.abstract_text)
                || paper
                    .ai_summary
                    .as_deref()
                    .is_some_and(|s| self.regex.is_match(s))
        };
        match self.target {
            Target::Title => self.regex.is_match(&paper.title),
            Target::Description => description(),
            Target::TitleOrDescription => self.regex.is_match(&paper.title) || description(),
            Target::Author => paper.authors.iter().any(|a| self.regex.is_match(a)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_parameter_round_trips_its_name() {
        for (name, _, _) in PARAMETERS {
            let pattern = Pattern::compile(name, "a", true).unwrap();
            assert_eq!(pattern.name(), name);
        }
        assert_eq!(Pattern::parameter("filter_time"), None);
    }

    #[test]
    fn bad_patterns_say_why() {
        let err = Pattern::compile("filter_title", "(unclosed", true).unwrap_err();
        assert!(
            err.starts_with("filter_title is not a regular expression"),
            "{err}"
        );
        assert!(err.contains("unclosed"), "{err}");
        assert!(!err.contains('\n'), "{err}");
        let long = "a".repeat(MAX_PATTERN_BYTES + 1);
        assert!(
            Pattern::compile("filter", &long, true)
                .unwrap_err()
                .contains("257 bytes")
        );
        // Small to write, huge to compile.
        let err = Pattern::compile("filter", r"\w{200}\w{200}\w{200}", true).unwrap_err();
        assert!(err.contains("too large"), "{err}");
        // Backreferences and look-around are not in the linear-time syntax.
        assert!(Pattern::compile("filter", r"(a)\1", true).is_err());
        assert!(Pattern::compile("filter", r"a(?=b)", true).is_err());
    }

    #[test]
    fn case_sensitivity_is_chosen_per_query() {
        assert!(
            Pattern::compile("filter", "Agent", true)
                .unwrap()
                .regex
                .is_match("Agents")
        );
        assert!(
            !Pattern::compile("filter", "Agent", true)
                .unwrap()
                .regex
                .is_match("agents")
        );
        assert!(
            Pattern::compile("filter", "Agent", false)
                .unwrap()
                .regex
                .is_match("agents")
        );
    }
}
