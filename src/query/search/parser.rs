//! The parser of the search language: the input's characters, one pass, into a
//! [`SearchExpr`] or the first error with its position.

use super::*;

/// One lexical unit: a term or the `OR` operator, with its 1-based start position.
enum Token {
    Term(Atom, usize),
    Or(usize),
}

/// A one-pass parser over the characters of the input.
pub(super) struct Parser<'a> {
    input: &'a str,
    /// Byte offset and character; the index in this list is the 0-based character position.
    chars: Vec<(usize, char)>,
    i: usize,
}

impl<'a> Parser<'a> {
    pub(super) fn new(input: &'a str) -> Result<Self, SearchError> {
        if input.len() > MAX_BYTES {
            // Point at the first character that does not fit in the limit.
            let fitting = input
                .char_indices()
                .take_while(|(b, c)| b + c.len_utf8() <= MAX_BYTES)
                .count();
            return Err(SearchError {
                position: fitting + 1,
                kind: SearchErrorKind::TooLong { bytes: input.len() },
            });
        }
        Ok(Parser {
            input,
            chars: input.char_indices().collect(),
            i: 0,
        })
    }

    fn at(&self, i: usize) -> Option<char> {
        self.chars.get(i).map(|&(_, c)| c)
    }

    /// The byte offset of character `i` (the input's length past the end).
    fn byte(&self, i: usize) -> usize {
        self.chars.get(i).map_or(self.input.len(), |&(b, _)| b)
    }

    /// The input between characters `from` and `to`.
    fn text(&self, from: usize, to: usize) -> &'a str {
        &self.input[self.byte(from)..self.byte(to)]
    }

    fn is_end_of_term(&self, i: usize) -> bool {
        self.at(i).is_none_or(char::is_whitespace)
    }

    pub(super) fn parse(mut self) -> Result<SearchExpr, SearchError> {
        let mut clauses: Vec<Vec<Atom>> = Vec::new();
        let mut pending_or: Option<usize> = None;
        let mut after_term = false;
        let mut terms = 0;
        let mut first_excess = 0;
        while let Some(token) = self.next_token()? {
            match token {
                Token::Or(at) => {
                    if !after_term {
                        return Err(error(at, SearchErrorKind::DanglingOr));
                    }
                    pending_or = Some(at);
                    after_term = false;
                }
                Token::Term(atom, at) => {
                    terms += 1;
                    if terms == MAX_TERMS + 1 {
                        first_excess = at;
                    }
                    match (pending_or.take(), clauses.last_mut()) {
                        (Some(_), Some(clause)) => clause.push(atom),
                        _ => clauses.push(vec![atom]),
                    }
                    after_term = true;
                }
            }
        }
        if let Some(at) = pending_or {
            return Err(error(at, SearchErrorKind::DanglingOr));
        }
        if terms > MAX_TERMS {
            return Err(error(first_excess, SearchErrorKind::TooManyTerms { terms }));
        }
        Ok(SearchExpr {
            clauses: clauses.into_iter().map(Vec::into_boxed_slice).collect(),
        })
    }

    /// Reads the next token, or `None` at the end of the input.
    fn next_token(&mut self) -> Result<Option<Token>, SearchError> {
        while self.at(self.i).is_some_and(char::is_whitespace) {
            self.i += 1;
        }
        if self.at(self.i).is_none() {
            return Ok(None);
        }
        let start = self.i;
        let negated = self.at(start) == Some('-');
        if negated {
            self.i += 1;
        }
        let field = self.field_prefix()?;
        let body = self.i;
        let (phrase, written) = if self.at(body) == Some('"') {
            let close = (body + 1..self.chars.len())
                .find(|&j| self.at(j) == Some('"'))
                .ok_or_else(|| error(body + 1, SearchErrorKind::UnbalancedQuote))?;
            self.i = close + 1;
            let content = self.text(body + 1, close);
            if content.trim().is_empty() {
                return Err(error(body + 1, SearchErrorKind::EmptyPhrase));
            }
            (Phrase::from_text(content), self.text(start, self.i))
        } else {
            while !self.is_end_of_term(self.i) {
                self.i += 1;
            }
            let bare = self.text(body, self.i);
            if bare == "OR" && !negated && field.is_none() {
                return Ok(Some(Token::Or(start + 1)));
            }
            (Phrase::from_text(bare), self.text(start, self.i))
        };
        let phrase = phrase.ok_or_else(|| {
            let term = written.to_owned();
            error(start + 1, SearchErrorKind::NoWords { term })
        })?;
        let atom = Atom {
            negated,
            field,
            phrase,
        };
        Ok(Some(Token::Term(atom, start + 1)))
    }

    /// Reads a `field:` prefix at the cursor, if the term has one; leaves the cursor at the
    /// term's body.
    fn field_prefix(&mut self) -> Result<Option<Field>, SearchError> {
        let name_start = self.i;
        if self.at(name_start) == Some('"') {
            return Ok(None);
        }
        let mut colon = name_start;
        while !self.is_end_of_term(colon) && self.at(colon) != Some(':') {
            colon += 1;
        }
        if self.at(colon) != Some(':') {
            return Ok(None);
        }
        let name = self.text(name_start, colon);
        let field = Field::from_name(&name.to_ascii_lowercase()).ok_or_else(|| {
            let name = name.to_owned();
            error(name_start + 1, SearchErrorKind::UnknownField { name })
        })?;
        self.i = colon + 1;
        if self.is_end_of_term(self.i) {
            return Err(error(
                name_start + 1,
                SearchErrorKind::MissingTerm { field },
            ));
        }
        Ok(Some(field))
    }
}

fn error(position: usize, kind: SearchErrorKind) -> SearchError {
    SearchError { position, kind }
}
