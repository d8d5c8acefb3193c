//! Reading one page of `GET /api/daily_papers`: a JSON array whose items are read one by one,
//! so that an item that cannot be read is skipped (and counted) rather than the whole page.
//!
//! Pure and bounded: no I/O, no panics on any input (a property test and a fuzz target hold it
//! to that), and linear in the size of the page.

use serde_json::value::RawValue;

use crate::data::paper::raw::RawItem;

/// One page, read.
#[derive(Debug, Default)]
pub struct Page {
    /// The readable items, each with its JSON as received (for storage).
    pub items: Vec<(RawItem, Box<RawValue>)>,
    /// Items that could not be read.
    pub unreadable: usize,
}

impl Page {
    /// How many items the page held, readable or not.
    pub fn len(&self) -> usize {
        self.items.len() + self.unreadable
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Why a page cannot be used at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PageError {
    #[error("the page is not a JSON array of items ({0})")]
    NotAnArray(String),
    #[error("none of the page's {0} items could be read (has the API changed?)")]
    NothingReadable(usize),
}

/// Reads a page body. `[]` is a normal empty page; a non-empty page none of whose items can
/// be read is an error, so that an upstream schema change never replaces a good day with an
/// empty one.
pub fn read_page(body: &[u8]) -> Result<Page, PageError> {
    let values: Vec<Box<RawValue>> =
        serde_json::from_slice(body).map_err(|e| PageError::NotAnArray(e.to_string()))?;
    let mut page = Page::default();
    for value in values {
        // An item is an object: serde would also read a struct from an array, by position.
        if !value.get().starts_with('{') {
            page.unreadable += 1;
            continue;
        }
        match serde_json::from_str::<RawItem>(value.get()) {
            Ok(item) => page.items.push((item, value)),
            Err(e) => {
                page.unreadable += 1;
                tracing::debug!(error = %e, "an unreadable upstream item");
            }
        }
    }
    if page.items.is_empty() && page.unreadable > 0 {
        return Err(PageError::NothingReadable(page.unreadable));
    }
    Ok(page)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_array_is_an_empty_page() {
        let page = read_page(b"[]").unwrap();
        assert!(page.is_empty());
    }

    #[test]
    fn unreadable_items_are_skipped_and_counted() {
        let page = read_page(br#"[{"paper":{"id":"2608.00001"}},{"unexpected":1},7]"#).unwrap();
        assert_eq!(page.items.len(), 1);
        assert_eq!(page.unreadable, 2);
        assert_eq!(page.len(), 3);
    }

    #[test]
    fn items_that_are_not_objects_are_unreadable() {
        let page = read_page(br#"[[["2608.00001"]], {"paper":{"id":"2608.00002"}}, "x"]"#).unwrap();
        assert_eq!(page.items.len(), 1);
        assert_eq!(page.unreadable, 2);
    }

    #[test]
    fn a_page_of_only_unreadable_items_is_an_error() {
        assert_eq!(
            read_page(br#"[{"unexpected":1}]"#).unwrap_err(),
            PageError::NothingReadable(1)
        );
    }

    #[test]
    fn anything_but_an_array_is_an_error() {
        for body in [&b""[..], b"{}", b"null", b"[1,", b"\xff\xfe"] {
            assert!(
                matches!(read_page(body), Err(PageError::NotAnArray(_))),
                "{body:?}"
            );
        }
    }
}
