//! The one query-string decoder every route uses: `application/x-www-form-urlencoded` pairs,
//! decoded strictly. An invalid `%` escape (`%zz`, a `%` without two hex digits after it) or
//! bytes that are not UTF-8 once decoded are an error naming the parameter, never taken
//! literally or replaced by U+FFFD, so that a typo cannot silently become another query.

use std::borrow::Cow;

/// A query string that cannot be decoded: the parameter at fault and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{detail}")]
pub struct DecodeError {
    /// The parameter's name, or `query` when the name itself cannot be decoded.
    pub parameter: String,
    /// One sentence a person can act on.
    pub detail: String,
}

/// One decoded `key=value` pair.
pub type Pair = (String, String);

/// Splits `raw` at `&` and decodes each `key=value` (`+` is a space, `%XX` a byte). Empty
/// segments (`a=1&&b=2`) are skipped; a segment without `=` is a key with an empty value.
pub fn decode_pairs(raw: &str) -> Result<Vec<Pair>, DecodeError> {
    let mut pairs = Vec::new();
    for segment in raw.split('&').filter(|s| !s.is_empty()) {
        let (raw_key, raw_value) = segment.split_once('=').unwrap_or((segment, ""));
        let key = decode_component(raw_key).map_err(|problem| DecodeError {
            parameter: "query".to_owned(),
            detail: format!(
                "A parameter name in the query string {problem}; write it plainly or percent-encode it as UTF-8."
            ),
        })?;
        let value = decode_component(raw_value).map_err(|problem| DecodeError {
            parameter: shown_name(&key),
            detail: format!(
                "The value of {} {problem}; percent-encode it as UTF-8 (a % sign is %25).",
                shown_name(&key)
            ),
        })?;
        pairs.push((key.into_owned(), value.into_owned()));
    }
    Ok(pairs)
}

/// Pairs encoded again, the same way every time (the inverse of [`decode_pairs`]).
pub fn encode_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut out = form_urlencoded::Serializer::new(String::new());
    for (key, value) in pairs {
        out.append_pair(key, value);
    }
    out.finish()
}

/// A name as it may be shown in a message: cleaned and cut short.
fn shown_name(key: &str) -> String {
    crate::common::text::clean_inline(key)
        .chars()
        .take(40)
        .collect()
}

/// Decodes one component; the error completes "The value of x ...".
fn decode_component(raw: &str) -> Result<Cow<'_, str>, String> {
    if !raw.bytes().any(|b| b == b'%' || b == b'+') {
        return Ok(Cow::Borrowed(raw));
    }
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b'%' => {
                let hex = |j: usize| bytes.get(j).and_then(|b| (*b as char).to_digit(16));
                match (hex(i + 1), hex(i + 2)) {
                    (Some(high), Some(low)) => {
                        // Two hex digits: at most 0xFF.
                        out.push(u8::try_from(high * 16 + low).unwrap_or(u8::MAX));
                        i += 3;
                    }
                    _ => {
                        let escape: String = raw[i..].chars().take(3).collect();
                        return Err(format!(
                            "has an invalid percent-escape {escape:?} at byte {i} (% must be followed by two hex digits)"
                        ));
                    }
                }
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).map(Cow::Owned).map_err(|e| {
        format!(
            "is not UTF-8 once decoded (invalid byte at position {})",
            e.utf8_error().valid_up_to()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(raw: &str) -> Vec<(String, String)> {
        decode_pairs(raw).unwrap()
    }

    fn p(k: &str, v: &str) -> (String, String) {
        (k.to_owned(), v.to_owned())
    }

    #[test]
    fn decodes_escapes_plus_and_utf8() {
        assert_eq!(
            pairs("q=flow+matching&author=M%C3%BCller&x=%2B%26%3D"),
            [
                p("q", "flow matching"),
                p("author", "Müller"),
                p("x", "+&=")
            ]
        );
    }

    #[test]
    fn empty_segments_are_skipped_and_a_bare_key_has_an_empty_value() {
        assert_eq!(pairs("&a=1&&b&c="), [p("a", "1"), p("b", ""), p("c", "")]);
        assert_eq!(pairs(""), Vec::<Pair>::new());
        assert_eq!(pairs("a=b=c"), [p("a", "b=c")]);
    }

    #[test]
    fn bad_escapes_and_bad_utf8_name_the_parameter() {
        for (raw, parameter) in [
            ("q=%zz", "q"),
            ("q=abc%", "q"),
            ("q=abc%4", "q"),
            ("author=%FF", "author"),
            ("author=%C3", "author"),
            ("a=1&days=%ED%A0%80", "days"),
            ("%zz=1", "query"),
            ("%FF=1", "query"),
        ] {
            let err = decode_pairs(raw).unwrap_err();
            assert_eq!(err.parameter, parameter, "{raw}: {err}");
            assert!(err.detail.ends_with('.'), "{raw}: {err}");
        }
    }

    #[test]
    fn encoding_then_decoding_gives_the_pairs_back() {
        let original = [p("q", "a \"b\" & c=d + é%"), p("author", "")];
        let encoded = encode_pairs(original.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        assert_eq!(pairs(&encoded), original);
    }
}
