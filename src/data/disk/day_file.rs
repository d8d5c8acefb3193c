//! Reading one stored day under limits, telling a file whose content cannot be used (the
//! caller sets it aside) from a file that could not be read (the caller leaves it in place and
//! reads it again next time).

use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read};
use std::path::Path;

use chrono::{DateTime, NaiveDate, Utc};
use serde::de::{DeserializeSeed, IgnoredAny, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;

use crate::data::daily_list::DailyList;
use crate::data::paper::raw::RawItem;
use crate::data::upstream::client::{FetchedDay, MAX_ITEMS};

/// What a stored file may hold at most; past either limit its content is unusable (contract
/// section 14), so that reading stored days costs bounded memory whatever the folder holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadLimits {
    /// Bytes per file: `upstream.max_body`. A larger file is never read into memory.
    pub max_bytes: u64,
    /// Items per file: what one fetch keeps at most ([`MAX_ITEMS`]).
    pub max_items: usize,
}

impl Default for ReadLimits {
    /// The limits under the default settings.
    fn default() -> Self {
        ReadLimits {
            max_bytes: 16 * 1024 * 1024,
            max_items: MAX_ITEMS,
        }
    }
}

/// Why a stored file was not read.
#[derive(Debug, thiserror::Error)]
pub(super) enum Unread {
    #[error("there is no file")]
    Missing,
    #[error("it is not a plain file")]
    NotPlain,
    /// The file may be fine: permissions, too many open files, a disk error.
    #[error("cannot read it: {0}")]
    Io(io::Error),
    /// The file will never be fine.
    #[error(transparent)]
    Content(#[from] ContentError),
}

/// What is wrong with a stored file's content.
#[derive(Debug, thiserror::Error)]
pub(super) enum ContentError {
    #[error("it is larger than {limit} bytes ({size} bytes)")]
    TooLarge { size: u64, limit: u64 },
    #[error("it is not a stored daily list: {0}")]
    Format(#[from] serde_json::Error),
    #[error("it holds the list of {found}, not of {expected}")]
    WrongDate {
        expected: NaiveDate,
        found: NaiveDate,
    },
    #[error("it holds more than {limit} items ({count})")]
    TooManyItems { count: usize, limit: usize },
}

/// A stored day, as read; the items are checked one by one afterwards.
#[derive(Deserialize)]
struct StoredDayIn<'a> {
    date: NaiveDate,
    fetched_at: DateTime<Utc>,
    changed_at: DateTime<Utc>,
    #[serde(borrow)]
    items: &'a RawValue,
}

/// Reads the list stored at `path` for `date`. A `fetched_at` or `changed_at` later than
/// `now` is taken as `now`, so a clock that went back cannot keep a list "fresh" for longer
/// than its time to live.
pub(super) fn read_day(
    path: &Path,
    date: NaiveDate,
    now: DateTime<Utc>,
    limits: ReadLimits,
) -> Result<DailyList, Unread> {
    let bytes = read_bounded(path, limits.max_bytes)?;
    Ok(parse_day(&bytes, date, now, limits.max_items)?)
}

/// The bytes of the plain file at `path`, if it holds at most `max_bytes`: its size is checked
/// before it is read, and the read stops past the limit (the file may grow meanwhile).
fn read_bounded(path: &Path, max_bytes: u64) -> Result<Vec<u8>, Unread> {
    match fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_file() => {}
        Ok(_) => return Err(Unread::NotPlain),
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(Unread::Missing),
        Err(e) => return Err(Unread::Io(e)),
    }
    let file = open_plain(path).map_err(|e| match e.kind() {
        io::ErrorKind::NotFound => Unread::Missing,
        _ if is_a_link(&e) => Unread::NotPlain,
        _ => Unread::Io(e),
    })?;
    let meta = file.metadata().map_err(Unread::Io)?;
    if !meta.is_file() {
        return Err(Unread::NotPlain);
    }
    let too_large = |size| ContentError::TooLarge {
        size,
        limit: max_bytes,
    };
    if meta.len() > max_bytes {
        return Err(too_large(meta.len()).into());
    }
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    file.take(max_bytes.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(Unread::Io)?;
    if bytes.len() as u64 > max_bytes {
        return Err(too_large(bytes.len() as u64).into());
    }
    Ok(bytes)
}

/// Opens `path` for reading without following a link (one swapped in after a check is
/// refused) and without blocking (a FIFO put there opens at once, and is then no plain file).
pub(super) fn open_plain(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK);
    }
    options.open(path)
}

/// Whether an open failed because the path is a link (`O_NOFOLLOW`).
pub(super) fn is_a_link(error: &io::Error) -> bool {
    #[cfg(unix)]
    {
        error.raw_os_error() == Some(libc::ELOOP)
    }
    #[cfg(not(unix))]
    {
        let _ = error;
        false
    }
}

/// A stored day's bytes as a list, or why its content cannot be used: the parser behind
/// [`super::Storage::read`], public for the fuzz target (`fuzz/fuzz_targets/stored_day.rs`).
pub fn parse_stored_day(
    bytes: &[u8],
    date: NaiveDate,
    now: DateTime<Utc>,
    max_items: usize,
) -> Result<DailyList, String> {
    parse_day(bytes, date, now, max_items).map_err(|e| e.to_string())
}

fn parse_day(
    bytes: &[u8],
    date: NaiveDate,
    now: DateTime<Utc>,
    max_items: usize,
) -> Result<DailyList, ContentError> {
    let stored: StoredDayIn = serde_json::from_slice(bytes)?;
    if stored.date != date {
        return Err(ContentError::WrongDate {
            expected: date,
            found: stored.date,
        });
    }
    let items = BoundedItems { max: max_items }
        .deserialize(&mut serde_json::Deserializer::from_str(stored.items.get()))?;
    let items = match items {
        Items::Within(items) => items,
        Items::TooMany(count) => {
            return Err(ContentError::TooManyItems {
                count,
                limit: max_items,
            });
        }
    };
    // The items as received are not copied: a list read back is never written again (a
    // refresh writes its own fetch), and each copy was a transient allocation as large as
    // the item, scattered among the papers that stay.
    let mut fetched = FetchedDay {
        date,
        items: Vec::with_capacity(items.len()),
        raw: Vec::new(),
        skipped: 0,
    };
    for value in items {
        match serde_json::from_str::<RawItem>(value.get()) {
            Ok(item) => fetched.items.push(item),
            Err(e) => {
                fetched.skipped += 1;
                tracing::warn!(%date, error = %e, "skipped an unreadable stored item");
            }
        }
    }
    let mut list = DailyList::from_fetch(&fetched, stored.fetched_at.min(now), None);
    list.changed_at = stored.changed_at.min(now);
    Ok(list)
}

/// The items of a stored day, or how many there are when they are too many: counted without
/// keeping them, so that a small file of many tiny items costs no more than the limit.
enum Items<'a> {
    Within(Vec<&'a RawValue>),
    TooMany(usize),
}

/// Reads a JSON array into [`Items`], keeping at most `max`.
struct BoundedItems {
    max: usize,
}

impl<'de> DeserializeSeed<'de> for BoundedItems {
    type Value = Items<'de>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Items<'de>, D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for BoundedItems {
    type Value = Items<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of items")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Items<'de>, A::Error> {
        let mut kept = Vec::new();
        while kept.len() < self.max {
            match seq.next_element::<&'de RawValue>()? {
                Some(item) => kept.push(item),
                None => return Ok(Items::Within(kept)),
            }
        }
        let mut count = kept.len();
        while seq.next_element::<IgnoredAny>()?.is_some() {
            count += 1;
        }
        Ok(if count > self.max {
            Items::TooMany(count)
        } else {
            Items::Within(kept)
        })
    }
}
