//! Text helpers shared by ingest and search: cleaning upstream text for XML and folding
//! words for matching.
//!
//! Folding is done once per paper at ingest and once per query term at parse time, with the
//! same function, so that both sides always agree on what a "word" is.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// Whether XML 1.0 allows `c` in a document (the `Char` production).
pub fn is_xml_char(c: char) -> bool {
    matches!(c,
        '\u{9}' | '\u{A}' | '\u{D}'
        | '\u{20}'..='\u{D7FF}'
        | '\u{E000}'..='\u{FFFD}'
        | '\u{10000}'..='\u{10FFFF}')
}

/// Cleans one line of upstream text: drops characters XML 1.0 forbids, collapses every run
/// of whitespace (including arXiv hard line-wraps such as `"\n  "`) into one space, then
/// composes it (Unicode NFC, so that `u` + U+0308 is written `ü`). Composing last makes the
/// cleaning idempotent: a dropped character can no longer stand between a letter and its mark.
pub fn clean_inline(raw: &str) -> String {
    let cleaned = clean_chars(raw.chars(), raw.len());
    if cleaned.is_ascii() {
        return cleaned;
    }
    cleaned.nfc().collect()
}

fn clean_chars(chars: impl Iterator<Item = char>, len: usize) -> String {
    let mut out = String::with_capacity(len);
    let mut pending_space = false;
    for c in chars {
        if c.is_whitespace() {
            pending_space = !out.is_empty();
            continue;
        }
        if !is_xml_char(c) {
            continue;
        }
        if pending_space {
            out.push(' ');
            pending_space = false;
        }
        out.push(c);
    }
    out
}

/// Splits `text` into folded words: a word is a maximal run of letters and digits; case and
/// accents are folded (`Müller` -> `muller`, `Łukasz` -> `lukasz`).
///
/// The text is decomposed first (Unicode NFKD) and combining marks are dropped inside words,
/// so a composed `ü`, a decomposed `u` + U+0308 and a plain `u` fold alike, and a combining
/// mark never splits a word.
pub fn fold_words(text: &str) -> Vec<Box<str>> {
    if text.is_ascii() {
        return fold_chars(text.chars());
    }
    fold_chars(text.nfkd())
}

fn fold_chars(chars: impl Iterator<Item = char>) -> Vec<Box<str>> {
    let mut words = Vec::new();
    let mut current = String::new();
    for c in chars {
        if is_combining_mark(c) {
            continue;
        } else if c.is_alphanumeric() {
            fold_char_into(c, &mut current);
        } else if !current.is_empty() {
            words.push(std::mem::take(&mut current).into_boxed_str());
        }
    }
    if !current.is_empty() {
        words.push(current.into_boxed_str());
    }
    words
}

/// Folds one decomposed letter or digit into `out`: lower-cased, and the few Latin letters
/// that do not decompose spelled out.
fn fold_char_into(c: char, out: &mut String) {
    if c.is_ascii() {
        out.push(c.to_ascii_lowercase());
        return;
    }
    for l in c.to_lowercase() {
        match l {
            'ø' => out.push('o'),
            'ł' => out.push('l'),
            'đ' | 'ð' => out.push('d'),
            'ı' => out.push('i'),
            'ħ' => out.push('h'),
            'ŧ' => out.push('t'),
            'ß' => out.push_str("ss"),
            'æ' => out.push_str("ae"),
            'œ' => out.push_str("oe"),
            'þ' => out.push_str("th"),
            other if other.is_alphanumeric() => out.push(other),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        fold_words(s).into_iter().map(String::from).collect()
    }

    #[test]
    fn folds_case_and_accents() {
        assert_eq!(
            words("Müller Yılmaz Søgaard Łukasz Straße"),
            ["muller", "yilmaz", "sogaard", "lukasz", "strasse"]
        );
    }

    #[test]
    fn composed_decomposed_and_plain_letters_fold_alike() {
        assert_eq!(words("Mu\u{308}ller"), ["muller"]);
        assert_eq!(words("Müller"), ["muller"]);
        assert_eq!(
            words("ﬁne Ｍüller"),
            ["fine", "muller"],
            "compatibility forms"
        );
        assert_eq!(clean_inline("Mu\u{308}ller"), "Müller", "NFC for output");
        let once = clean_inline("u\u{FFFE}\u{308} x");
        assert_eq!(once, "ü x");
        assert_eq!(clean_inline(&once), once, "idempotent");
    }

    #[test]
    fn splits_at_every_non_alphanumeric_character() {
        assert_eq!(
            words("GPT-4, LLM-as-a-Judge!"),
            ["gpt", "4", "llm", "as", "a", "judge"]
        );
        assert_eq!(words("  "), Vec::<String>::new());
    }

    #[test]
    fn keeps_cjk_and_drops_emoji() {
        assert_eq!(words("🚀 RocketLM 漢字"), ["rocketlm", "漢字"]);
    }

    #[test]
    fn clean_inline_joins_wraps_and_drops_forbidden_characters() {
        assert_eq!(
            clean_inline("Scaling for\n  Contrastive\u{7} Loss\u{B}\u{1}\u{1F} "),
            "Scaling for Contrastive Loss"
        );
        assert_eq!(clean_inline("\u{FFFE}ok\u{FFFF}"), "ok");
    }
}
