//! Text that lives in a block shared with other text: a [`Text`] is a range of one
//! reference-counted string, and [`Packer`] copies many texts into one block.
//!
//! Why: a daily list's papers hold about thirty strings each (title, abstract, authors, folded
//! words for search, ...). Held as thirty small allocations each, a list that a memory budget
//! lets go leaves thirty small holes per paper among live chunks, and glibc keeps such pages
//! resident (BENCHMARKS.md, issue 21). Packed, a list's text is one allocation, freed whole;
//! above glibc's mmap threshold it is a mapping of its own, given back to the system at once.

use std::borrow::Borrow;
use std::fmt;
use std::ops::{Deref, Range};
use std::sync::Arc;

/// Where a text (or a list) sits in its shared block: `len` bytes (or items) from `start`.
/// Blocks hold what bounded upstream bodies gave, so both fit in a `u32`.
#[derive(Debug, Clone, Copy)]
struct Span {
    start: u32,
    len: u32,
}

impl Span {
    /// `range`, when both its ends fit in a `u32`.
    fn new(range: Range<usize>) -> Option<Span> {
        Some(Span {
            start: u32::try_from(range.start).ok()?,
            len: u32::try_from(range.end.checked_sub(range.start)?).ok()?,
        })
    }

    /// All of a block of `len`; a block too large for a `Span` (not expected) reads as empty.
    fn whole(len: usize) -> Span {
        Span::new(0..len).unwrap_or(Span { start: 0, len: 0 })
    }

    fn range(self) -> Range<usize> {
        let start = self.start as usize;
        start..start + self.len as usize
    }
}

/// Immutable text: a range of a shared block. Reads as a `&str` (it derefs to one); clones
/// share the block.
#[derive(Clone)]
pub struct Text {
    block: Arc<str>,
    span: Span,
}

impl Text {
    /// The text as a string slice.
    pub fn as_str(&self) -> &str {
        // `Packed::take` made the span where this block holds the text, so `get` always
        // finds it; the empty default is never used.
        self.block.get(self.span.range()).unwrap_or_default()
    }

    /// Whether `self` and `other` are ranges of the same block.
    #[cfg(test)]
    pub fn shares_block(&self, other: &Text) -> bool {
        Arc::ptr_eq(&self.block, &other.block)
    }

    /// The size of the block this text is a range of.
    #[cfg(test)]
    pub fn block_len(&self) -> usize {
        self.block.len()
    }

    fn whole(block: Arc<str>) -> Text {
        let span = Span::whole(block.len());
        Text { block, span }
    }
}

impl Default for Text {
    fn default() -> Text {
        Text::from("")
    }
}

impl From<&str> for Text {
    fn from(s: &str) -> Text {
        Text::whole(Arc::from(s))
    }
}

impl From<String> for Text {
    fn from(s: String) -> Text {
        Text::whole(Arc::from(s))
    }
}

impl Deref for Text {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Text {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl Borrow<str> for Text {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl fmt::Debug for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self.as_str(), f)
    }
}

impl PartialEq for Text {
    fn eq(&self, other: &Text) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Text {}

impl PartialEq<&str> for Text {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<Text> for String {
    fn eq(&self, other: &Text) -> bool {
        self.as_str() == other.as_str()
    }
}

impl serde::Serialize for Text {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// A list of [`Text`]s: a range of a shared pool of them. Reads as a `&[Text]` (it derefs to
/// one); clones share the pool.
#[derive(Clone)]
pub struct Texts {
    pool: Arc<[Text]>,
    span: Span,
}

impl Texts {
    /// The texts as a slice.
    pub fn as_slice(&self) -> &[Text] {
        // `pool` made the span within this pool; the empty default is never used.
        self.pool.get(self.span.range()).unwrap_or_default()
    }

    /// Whether `self` and `other` are ranges of the same pool.
    #[cfg(test)]
    pub fn shares_pool(&self, other: &Texts) -> bool {
        Arc::ptr_eq(&self.pool, &other.pool)
    }

    fn whole(pool: Arc<[Text]>) -> Texts {
        let span = Span::whole(pool.len());
        Texts { pool, span }
    }
}

/// Puts every list of `lists` into one pool: afterwards each reads as before, and all are
/// ranges of the same allocation.
pub fn pool(lists: &mut [&mut Texts]) {
    let all: Vec<Text> = lists.iter().flat_map(|l| l.iter().cloned()).collect();
    let pool: Arc<[Text]> = Arc::from(all);
    let mut next = 0;
    for list in lists.iter_mut() {
        let range = next..next + list.len();
        next = range.end;
        **list = match Span::new(range) {
            Some(span) => Texts {
                pool: pool.clone(),
                span,
            },
            None => Texts::whole(Arc::from(list.as_slice())),
        };
    }
}

impl Default for Texts {
    fn default() -> Texts {
        Texts::whole(Arc::from([]))
    }
}

impl From<Vec<Text>> for Texts {
    fn from(texts: Vec<Text>) -> Texts {
        Texts::whole(Arc::from(texts))
    }
}

impl FromIterator<Text> for Texts {
    fn from_iter<I: IntoIterator<Item = Text>>(iter: I) -> Texts {
        Texts::from(iter.into_iter().collect::<Vec<Text>>())
    }
}

impl Deref for Texts {
    type Target = [Text];
    fn deref(&self) -> &[Text] {
        self.as_slice()
    }
}

impl fmt::Debug for Texts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.as_slice()).finish()
    }
}

impl PartialEq for Texts {
    fn eq(&self, other: &Texts) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl Eq for Texts {}

impl<const N: usize> PartialEq<[&str; N]> for Texts {
    fn eq(&self, other: &[&str; N]) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl PartialEq<Texts> for Vec<&str> {
    fn eq(&self, other: &Texts) -> bool {
        other.as_slice() == self.as_slice()
    }
}

impl serde::Serialize for Texts {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.as_slice())
    }
}

/// Copies texts into one block: [`Packer::add`] each text once, [`Packer::finish`], then
/// [`Packed::take`] them back in the same order.
#[derive(Debug, Default)]
pub struct Packer {
    buffer: String,
}

impl Packer {
    /// A packer with room for `bytes` of text.
    pub fn with_capacity(bytes: usize) -> Packer {
        Packer {
            buffer: String::with_capacity(bytes),
        }
    }

    /// Adds `text` to the block to be.
    pub fn add(&mut self, text: &str) {
        self.buffer.push_str(text);
    }

    /// The block, one allocation of exactly the bytes added.
    pub fn finish(self) -> Packed {
        Packed {
            block: Arc::from(self.buffer),
            next: 0,
        }
    }
}

/// A block made by [`Packer::finish`], handed out in ranges.
#[derive(Debug)]
pub struct Packed {
    block: Arc<str>,
    next: usize,
}

impl Packed {
    /// `text`, the next text added, as a range of the block: call with the texts added, in
    /// the order they were added. A text that is not the next one added comes back as a copy
    /// of its own, so what is read is always `text`.
    pub fn take(&mut self, text: &str) -> Text {
        let range = self.next..self.next + text.len();
        self.next = range.end;
        match Span::new(range.clone()) {
            Some(span) if self.block.get(range) == Some(text) => Text {
                block: self.block.clone(),
                span,
            },
            _ => Text::from(text),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packed_texts_read_as_added_and_share_one_block() {
        let texts = ["Jörg Müller", "", "a title", "ünïcödé ✓"];
        let mut packer = Packer::default();
        for t in texts {
            packer.add(t);
        }
        let mut packed = packer.finish();
        let total: usize = texts.iter().map(|t| t.len()).sum();
        let back: Vec<Text> = texts.iter().map(|t| packed.take(t)).collect();
        for (t, b) in texts.iter().zip(&back) {
            assert_eq!(b, t);
            assert_eq!(b.block_len(), total);
        }
        assert!(back[0].shares_block(&back[3]));
    }

    #[test]
    fn a_text_taken_out_of_order_is_a_copy_never_a_wrong_range() {
        let mut packer = Packer::default();
        packer.add("é");
        packer.add("ab");
        let mut packed = packer.finish();
        let wrong = packed.take("x");
        assert_eq!(wrong, "x");
        let cut = packed.take("b");
        assert_eq!(
            cut, "b",
            "one byte into a two-byte character: not a boundary"
        );
        assert!(!wrong.shares_block(&cut));
        assert_eq!(packed.take("zzzzzz"), "zzzzzz", "past the end of the block");
    }

    #[test]
    fn text_compares_hashes_and_serializes_as_its_str() {
        let a = Text::from("x y");
        let b = Text::from(String::from("x y"));
        assert_eq!(a, b);
        assert_eq!(a, "x y");
        assert_eq!(format!("{a} {a:?}"), "x y \"x y\"");
        assert_eq!(serde_json::to_string(&a).unwrap(), "\"x y\"");
        let list = [Text::from("a"), Text::from("b")];
        assert_eq!(list.join(", "), "a, b");
        assert_eq!(Text::default(), "");
    }

    #[test]
    fn pooled_lists_read_as_before_and_share_one_pool() {
        let mut lists: Vec<Texts> = vec![
            ["a", "b"].into_iter().map(Text::from).collect(),
            Texts::default(),
            ["c"].into_iter().map(Text::from).collect(),
        ];
        let before = lists.clone();
        assert!(!lists[0].shares_pool(&lists[2]));
        pool(&mut lists.iter_mut().collect::<Vec<_>>());
        assert_eq!(lists, before);
        assert!(lists[0].shares_pool(&lists[1]) && lists[0].shares_pool(&lists[2]));
        assert_eq!(lists[0], ["a", "b"]);
        assert_eq!(lists[2].join(", "), "c");
        assert_eq!(serde_json::to_string(&lists[0]).unwrap(), r#"["a","b"]"#);
    }
}
