//! Daily lists kept on disk across restarts, so that a restart is warm and survives an
//! upstream outage.
//!
//! One file per date, `<data_dir>/days/YYYY-MM-DD.json`, holding
//! `{"date", "fetched_at", "changed_at", "items": [...]}` with the items exactly as upstream
//! sent them: reading a file goes through the same `Paper::from_raw` path as a fetch, so a
//! fix to ingestion applies to stored data too. Files are written atomically (a temporary
//! file in the same folder, fsync, rename, fsync of the folder), so a crash or a kill leaves
//! either the previous file or the new one, never a partial one.
//!
//! History is never lost to a bad read: a file whose content cannot be used (not JSON, another
//! date, past the [`ReadLimits`]) is set aside as `<date>.json.corrupt-<unix seconds>`, never
//! over an earlier one; a file that could not be read (permissions, too many
//! open files, a disk error) is left in place, reported, read again next time, and not
//! replaced by a write until it can be opened.

mod day_file;
mod set_aside;

use std::collections::{HashMap, HashSet};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime};

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use serde_json::value::RawValue;

use crate::data::daily_list::DailyList;
use crate::data::upstream::client::FetchedDay;
use day_file::{ContentError, Unread, open_plain, read_day};

pub use day_file::{ReadLimits, parse_stored_day};
pub use set_aside::CORRUPT_MARKER;

/// The folder under the data dir that holds the daily lists.
const DAYS_DIR: &str = "days";
/// In the name of a temporary file (which also starts with a dot, so it never looks like a day).
const TEMP_MARKER: &str = ".tmp-";
/// A temporary file older than this is left over from a crash and is removed at start-up.
/// Younger ones may belong to another instance writing to a shared volume right now.
const STALE_TEMP_AGE: Duration = Duration::from_secs(600);
/// Dates whose last write time is remembered (to skip a write overtaken by a newer fetch),
/// and dates remembered as unreadable (for the warnings).
const MAX_WRITTEN_REMEMBERED: usize = 1024;
/// Dates warned about when their files cannot be read at the same time (too many open files
/// fails them all); the others are logged at debug level.
const UNREADABLE_WARNED: usize = 4;

/// A stored day, as written.
#[derive(Serialize)]
struct StoredDayOut<'a> {
    date: NaiveDate,
    fetched_at: DateTime<Utc>,
    changed_at: DateTime<Utc>,
    items: &'a [Box<RawValue>],
}

/// What one read of a stored date found.
#[derive(Debug)]
pub enum StoredRead {
    /// No file for that date (or something that is not a plain file, which is never followed).
    Missing,
    Read(DailyList),
    /// Its content cannot be used: the file was set aside as `<date>.json.corrupt-<secs>`
    /// (or, when even that fails, left and logged).
    SetAside,
    /// Reading it failed (permissions, too many open files, a disk error): the file is left in
    /// place, and the next read tries again.
    Failed(io::Error),
}

/// What reading a set of dates found.
#[derive(Debug, Default)]
pub struct Loaded {
    /// Newest first.
    pub lists: Vec<DailyList>,
    /// Files set aside ([`StoredRead::SetAside`]).
    pub set_aside: usize,
    /// Files that could not be read and were left in place ([`StoredRead::Failed`]).
    pub failed: usize,
}

/// The data directory's daily lists.
#[derive(Debug)]
pub struct Storage {
    days: PathBuf,
    limits: ReadLimits,
    /// The fetch time of the last list written per date. Held during a write, so writes are
    /// serialized and one that was overtaken by a newer fetch is skipped: the background
    /// writes of two fetches of a date can run in either order.
    written: Mutex<HashMap<NaiveDate, DateTime<Utc>>>,
    /// False after a write failed (read-only or full), until one succeeds: one warning per
    /// spell, not one per write.
    writable: AtomicBool,
    /// Dates whose file could not be read, until it can: one warning per date and spell, not
    /// one per request.
    unreadable: Mutex<HashSet<NaiveDate>>,
}

impl Storage {
    /// Opens (creating it if needed) `<data_dir>/days`, and removes temporary files that a
    /// crash left behind. Files past `limits` are set aside when read.
    pub fn open(data_dir: &Path, limits: ReadLimits) -> anyhow::Result<Storage> {
        let days = data_dir.join(DAYS_DIR);
        let storage = Storage {
            days,
            limits,
            written: Mutex::new(HashMap::new()),
            writable: AtomicBool::new(true),
            unreadable: Mutex::new(HashSet::new()),
        };
        if let Err(e) = fs::create_dir_all(&storage.days) {
            // Serving goes on from memory; writes are tried again, and counted as failed.
            storage.writable.store(false, Ordering::Relaxed);
            tracing::warn!(dir = %storage.days.display(), error = %e, "the data directory cannot be created; serving from memory, and trying again on every write");
        }
        storage.remove_stale_temp_files();
        Ok(storage)
    }

    /// What a stored day may hold.
    pub fn limits(&self) -> ReadLimits {
        self.limits
    }

    /// Where the list of `date` is kept.
    pub fn path_of(&self, date: NaiveDate) -> PathBuf {
        self.days.join(format!("{}.json", date.format("%Y-%m-%d")))
    }

    /// Writes one fetched list, atomically, unless a newer fetch of its date was written
    /// already, or the file stored for its date cannot be opened (it is left in place: it may
    /// hold what upstream no longer has). Blocking: call it off the async threads.
    pub fn save(&self, fetched: &FetchedDay, list: &DailyList) -> io::Result<()> {
        let bytes = encode_day(fetched, list)?;
        self.save_encoded(list.date, list.fetched_at, &bytes)
    }

    /// [`Storage::save`] of a list already encoded ([`encode_day`]): the bytes of `date`'s
    /// list fetched at `fetched_at`, as taken from the shared server (section 15).
    pub fn save_encoded(
        &self,
        date: NaiveDate,
        fetched_at: DateTime<Utc>,
        bytes: &[u8],
    ) -> io::Result<()> {
        self.ensure_replaceable(date)?;
        let result = self.save_unlogged(date, fetched_at, bytes);
        match &result {
            Ok(()) => {
                if !self.writable.swap(true, Ordering::Relaxed) {
                    tracing::info!(dir = %self.days.display(), "the data directory is writable again");
                }
            }
            Err(e) => {
                if self.writable.swap(false, Ordering::Relaxed) {
                    tracing::warn!(dir = %self.days.display(), %date, error = %e, "cannot write to the data directory (read-only or full?); serving from memory, and trying again on every write");
                } else {
                    tracing::debug!(%date, error = %e, "still cannot write to the data directory");
                }
            }
        }
        result
    }

    fn save_unlogged(
        &self,
        date: NaiveDate,
        fetched_at: DateTime<Utc>,
        bytes: &[u8],
    ) -> io::Result<()> {
        let mut written = self.written.lock().unwrap_or_else(|e| e.into_inner());
        if written.get(&date).is_some_and(|at| *at > fetched_at) {
            return Ok(());
        }
        // Only writes that may still race matter here: forget the old ones, so that the map
        // stays small however many dates are fetched.
        if written.len() >= MAX_WRITTEN_REMEMBERED {
            let horizon = fetched_at - chrono::TimeDelta::hours(1);
            written.retain(|_, at| *at > horizon);
            if written.len() >= MAX_WRITTEN_REMEMBERED {
                written.clear();
            }
        }
        fs::create_dir_all(&self.days)?;
        write_atomic(&self.path_of(date), bytes)?;
        written.insert(date, fetched_at);
        Ok(())
    }

    /// An error when a plain file is stored for `date` and cannot be opened: a write would
    /// replace what could not even be read. No file, a link (replaced, never followed) or a
    /// folder problem (which the write reports) is no reason to refuse.
    fn ensure_replaceable(&self, date: NaiveDate) -> io::Result<()> {
        let path = self.path_of(date);
        if !fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_file()) {
            return Ok(());
        }
        match open_plain(&path) {
            Ok(_) => {
                self.readable(date);
                Ok(())
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound || day_file::is_a_link(&e) => Ok(()),
            Err(e) => {
                self.unreadable(date, &path, &e);
                Err(io::Error::new(
                    e.kind(),
                    format!(
                        "the stored list of {date} cannot be read ({e}); it is left in place, not replaced"
                    ),
                ))
            }
        }
    }

    /// What is stored for `date`: its list; nothing (no file, or not a plain file, which is
    /// never followed); a file set aside because its content cannot be used; or an I/O error,
    /// the file left in place for the next read. Blocking: call it off the async threads.
    pub fn read(&self, date: NaiveDate, now: DateTime<Utc>) -> StoredRead {
        let path = self.path_of(date);
        let read = match read_day(&path, date, now, self.limits) {
            Ok(list) => StoredRead::Read(list),
            Err(Unread::Missing) => StoredRead::Missing,
            Err(Unread::NotPlain) => {
                tracing::warn!(file = %path.display(), "not a plain file; ignoring it (paperboy follows no links out of its data directory)");
                StoredRead::Missing
            }
            Err(Unread::Io(e)) => {
                self.unreadable(date, &path, &e);
                return StoredRead::Failed(e);
            }
            Err(Unread::Content(e)) => {
                set_aside_logged(&path, now, &e);
                StoredRead::SetAside
            }
        };
        self.readable(date);
        read
    }

    /// The stored lists of `dates` (and of no other date), newest first, with how many files
    /// were set aside and how many could not be read. Blocking: call it off the async threads.
    pub fn load_dates(
        &self,
        dates: impl IntoIterator<Item = NaiveDate>,
        now: DateTime<Utc>,
    ) -> Loaded {
        let mut dates: Vec<NaiveDate> = dates.into_iter().collect();
        dates.sort_unstable_by(|a, b| b.cmp(a));
        dates.dedup();
        let mut loaded = Loaded::default();
        for date in dates {
            match self.read(date, now) {
                StoredRead::Read(list) => loaded.lists.push(list),
                StoredRead::SetAside => loaded.set_aside += 1,
                StoredRead::Failed(_) => loaded.failed += 1,
                StoredRead::Missing => {}
            }
        }
        loaded
    }

    /// The dates stored, newest first: the plain files named `YYYY-MM-DD.json`, none of them
    /// read. Blocking: call it off the async threads.
    pub fn stored_dates(&self) -> Vec<NaiveDate> {
        let entries = match fs::read_dir(&self.days) {
            Ok(entries) => entries,
            Err(e) => {
                tracing::warn!(dir = %self.days.display(), error = %e, "cannot list the stored daily lists");
                return Vec::new();
            }
        };
        let mut dates: Vec<NaiveDate> = entries
            .filter_map(Result::ok)
            // Plain files only: a link may point out of the data directory.
            .filter(|entry| entry.file_type().is_ok_and(|t| t.is_file()))
            .filter_map(|entry| {
                let name = entry.file_name();
                let stem = name.to_str()?.strip_suffix(".json")?;
                if stem.len() != 10 {
                    return None;
                }
                NaiveDate::parse_from_str(stem, "%Y-%m-%d").ok()
            })
            .collect();
        dates.sort_unstable_by(|a, b| b.cmp(a));
        dates
    }

    /// Notes that the file of `date` could not be read: a warning when a spell starts for it
    /// (for the first few dates failing at once), debug level after that.
    fn unreadable(&self, date: NaiveDate, path: &Path, error: &io::Error) {
        let mut unreadable = self.unreadable.lock().unwrap_or_else(|e| e.into_inner());
        let new = unreadable.len() < MAX_WRITTEN_REMEMBERED && unreadable.insert(date);
        if new && unreadable.len() <= UNREADABLE_WARNED {
            tracing::warn!(file = %path.display(), %error, "cannot read a stored daily list; leaving it in place, and trying again on every read");
        } else {
            tracing::debug!(file = %path.display(), %error, "still cannot read a stored daily list");
        }
    }

    /// Notes that the file of `date` could be read (or is gone), ending its spell.
    fn readable(&self, date: NaiveDate) {
        let mut unreadable = self.unreadable.lock().unwrap_or_else(|e| e.into_inner());
        if unreadable.remove(&date) {
            tracing::info!(file = %self.path_of(date).display(), "a stored daily list can be read again");
        }
    }

    fn remove_stale_temp_files(&self) {
        let Ok(entries) = fs::read_dir(&self.days) else {
            return;
        };
        for entry in entries.filter_map(Result::ok) {
            let name = entry.file_name();
            let is_temp = name
                .to_str()
                .is_some_and(|n| n.starts_with('.') && n.contains(TEMP_MARKER));
            let old = entry
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|modified| SystemTime::now().duration_since(modified).ok())
                .is_some_and(|age| age >= STALE_TEMP_AGE);
            if is_temp && old {
                match fs::remove_file(entry.path()) {
                    Ok(()) => {
                        tracing::info!(file = %entry.path().display(), "removed a temporary file left by an interrupted write")
                    }
                    Err(e) => {
                        tracing::warn!(file = %entry.path().display(), error = %e, "cannot remove a leftover temporary file")
                    }
                }
            }
        }
    }
}

/// The bytes a fetched list is stored as (in the data directory and in the shared server):
/// its date, times and the items exactly as upstream sent them.
pub fn encode_day(fetched: &FetchedDay, list: &DailyList) -> io::Result<Vec<u8>> {
    let stored = StoredDayOut {
        date: list.date,
        fetched_at: list.fetched_at,
        changed_at: list.changed_at,
        items: &fetched.raw,
    };
    serde_json::to_vec(&stored).map_err(io::Error::other)
}

/// Sets aside a file whose content cannot be used, with a warning either way.
fn set_aside_logged(path: &Path, now: DateTime<Utc>, error: &ContentError) {
    match set_aside::set_aside(path, now) {
        Ok(aside) => tracing::warn!(
            file = %path.display(),
            moved_to = %aside.display(),
            %error,
            "a stored daily list is unusable; set it aside"
        ),
        Err(e) => tracing::warn!(
            file = %path.display(),
            %error,
            rename_error = %e,
            "a stored daily list is unusable and cannot be set aside; ignoring it"
        ),
    }
}

/// Writes `bytes` to `path` so that `path` holds either its previous content or all of
/// `bytes`, whatever happens: a temporary file in the same folder (so the rename stays on one
/// file system), fsync, rename over `path`, then fsync of the folder so the rename itself
/// survives a power loss. The temporary name is unique per process and call, so instances
/// sharing a volume never write into each other's files.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = path
        .parent()
        .ok_or_else(|| io::Error::other("the path has no parent folder"))?;
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| io::Error::other("the path has no file name"))?;
    let temp = dir.join(format!(
        ".{name}{TEMP_MARKER}{}-{:016x}",
        std::process::id(),
        rand::random::<u64>()
    ));
    let result = (|| {
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        drop(file);
        fs::rename(&temp, path)?;
        File::open(dir)?.sync_all()
    })();
    if result.is_err() {
        let _ = fs::remove_file(&temp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::upstream::client::MAX_ITEMS;

    fn now() -> DateTime<Utc> {
        "2026-08-14T12:00:00Z".parse().unwrap()
    }

    /// `now()` in unix seconds, as in the names of files set aside.
    const NOW_SECS: i64 = 1_786_708_800;

    fn item(id: &str) -> Box<RawValue> {
        let json = format!(
            r#"{{"paper":{{"id":"{id}","title":"A paper","upvotes":3,"unknownField":[1,2]}},"title":"A  paper"}}"#
        );
        RawValue::from_string(json).unwrap()
    }

    fn fetched(date: NaiveDate, ids: &[&str]) -> FetchedDay {
        let raw: Vec<Box<RawValue>> = ids.iter().map(|id| item(id)).collect();
        let items = raw
            .iter()
            .map(|r| serde_json::from_str(r.get()).unwrap())
            .collect();
        FetchedDay {
            date,
            items,
            raw,
            skipped: 0,
        }
    }

    fn date(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn open(dir: &Path) -> Storage {
        Storage::open(dir, ReadLimits::default()).unwrap()
    }

    /// Saves a list of `papers` papers for `day`.
    fn save_papers(storage: &Storage, day: &str, papers: usize) {
        let ids: Vec<String> = (0..papers).map(|i| format!("2608.{i:05}")).collect();
        let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
        let day = fetched(date(day), &ids);
        storage
            .save(&day, &DailyList::from_fetch(&day, now(), None))
            .unwrap();
    }

    /// The file names in `dir`, sorted (also for the tests of [`super::set_aside`]).
    pub(super) fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        names
    }

    fn dates(lists: &[DailyList]) -> Vec<NaiveDate> {
        lists.iter().map(|l| l.date).collect()
    }

    fn papers_read(read: StoredRead) -> usize {
        match read {
            StoredRead::Read(list) => list.papers.len(),
            other => panic!("not read: {other:?}"),
        }
    }

    #[test]
    fn a_saved_list_reads_back_with_its_items_as_received_and_its_times() {
        let dir = tempfile::tempdir().unwrap();
        let storage = open(dir.path());
        let day = fetched(date("2026-08-13"), &["2608.00001", "2608.00002"]);
        let fetched_at: DateTime<Utc> = "2026-08-14T10:00:00Z".parse().unwrap();
        let mut list = DailyList::from_fetch(&day, fetched_at, None);
        list.changed_at = "2026-08-13T09:00:00Z".parse().unwrap();
        storage.save(&day, &list).unwrap();

        let text = fs::read_to_string(dir.path().join("days/2026-08-13.json")).unwrap();
        assert!(
            text.contains(r#""unknownField":[1,2]"#),
            "items as received: {text}"
        );
        assert!(
            text.contains(r#""title":"A  paper""#),
            "not cleaned: {text}"
        );

        let StoredRead::Read(back) = storage.read(date("2026-08-13"), now()) else {
            panic!("not read")
        };
        assert_eq!(back.fetched_at, list.fetched_at);
        assert_eq!(back.changed_at, list.changed_at);
        assert_eq!(back.content_hash, list.content_hash);
        assert_eq!(back.papers, list.papers);
    }

    #[test]
    fn unusable_files_are_set_aside_with_the_time_and_the_others_still_load() {
        let dir = tempfile::tempdir().unwrap();
        let storage = open(dir.path());
        save_papers(&storage, "2026-08-12", 1);
        let days = dir.path().join("days");
        fs::write(
            days.join("2026-08-13.json"),
            b"{\"date\":\"2026-08-13\",\"fet",
        )
        .unwrap();
        fs::write(days.join("2026-08-11.json"), b"\x00\x01 not json").unwrap();
        // A valid file under another date's name is not that date's list.
        fs::copy(days.join("2026-08-12.json"), days.join("2026-08-10.json")).unwrap();
        let contents: Vec<Vec<u8>> = ["2026-08-13", "2026-08-11", "2026-08-10"]
            .iter()
            .map(|d| fs::read(days.join(format!("{d}.json"))).unwrap())
            .collect();

        let asked = date("2026-08-10").iter_days().take(4);
        let loaded = storage.load_dates(asked.clone(), now());
        assert_eq!((loaded.set_aside, loaded.failed), (3, 0));
        assert_eq!(dates(&loaded.lists), [date("2026-08-12")]);
        for (name, content) in ["2026-08-13", "2026-08-11", "2026-08-10"]
            .iter()
            .zip(&contents)
        {
            assert!(!days.join(format!("{name}.json")).exists(), "{name}");
            let aside = days.join(format!("{name}.json.corrupt-{NOW_SECS}"));
            assert_eq!(&fs::read(aside).unwrap(), content, "{name}, as it was");
        }
        // Set aside once, never read again.
        let again = storage.load_dates(asked, now());
        assert_eq!((again.set_aside, again.lists.len()), (0, 1));
    }

    #[test]
    fn a_date_that_goes_bad_again_never_replaces_what_was_set_aside_before() {
        let dir = tempfile::tempdir().unwrap();
        let storage = open(dir.path());
        let days = dir.path().join("days");
        let file = days.join("2026-08-12.json");
        let later = now() + chrono::TimeDelta::seconds(5);
        for (garbage, at) in [("first", now()), ("second", now()), ("third", later)] {
            fs::write(&file, garbage).unwrap();
            assert!(matches!(
                storage.read(date("2026-08-12"), at),
                StoredRead::SetAside
            ));
        }
        let first = format!("2026-08-12.json.corrupt-{NOW_SECS}");
        let second = format!("{first}-1");
        let third = format!("2026-08-12.json.corrupt-{}", NOW_SECS + 5);
        let mut expected = [first.clone(), second.clone(), third.clone()];
        expected.sort();
        assert_eq!(names(&days), expected);
        for (name, garbage) in [(first, "first"), (second, "second"), (third, "third")] {
            assert_eq!(fs::read_to_string(days.join(name)).unwrap(), garbage);
        }
    }

    #[test]
    fn a_file_over_the_byte_limit_is_set_aside_and_one_at_the_limit_is_read() {
        let dir = tempfile::tempdir().unwrap();
        save_papers(&open(dir.path()), "2026-08-12", 3);
        let file = dir.path().join("days/2026-08-12.json");
        let size = fs::metadata(&file).unwrap().len();
        let limited = |max_bytes| {
            let limits = ReadLimits {
                max_bytes,
                ..ReadLimits::default()
            };
            Storage::open(dir.path(), limits).unwrap()
        };
        assert_eq!(
            papers_read(limited(size).read(date("2026-08-12"), now())),
            3
        );
        let read = limited(size - 1).read(date("2026-08-12"), now());
        assert!(matches!(read, StoredRead::SetAside), "{read:?}");
        assert!(!file.exists());
    }

    #[cfg(unix)]
    #[test]
    fn a_huge_file_is_set_aside_from_its_size_without_being_read() {
        let dir = tempfile::tempdir().unwrap();
        let storage = open(dir.path());
        let file = dir.path().join("days/2026-08-12.json");
        // Sparse: 64 GiB that take no room, and that no test machine could read into memory.
        File::create(&file).unwrap().set_len(64 << 30).unwrap();
        let read = storage.read(date("2026-08-12"), now());
        assert!(matches!(read, StoredRead::SetAside), "{read:?}");
        let aside = dir
            .path()
            .join(format!("days/2026-08-12.json.corrupt-{NOW_SECS}"));
        assert_eq!(fs::metadata(aside).unwrap().len(), 64 << 30);
    }

    #[test]
    fn a_file_of_more_items_than_a_fetch_keeps_is_set_aside() {
        let dir = tempfile::tempdir().unwrap();
        let storage = open(dir.path());
        save_papers(&storage, "2026-08-12", MAX_ITEMS);
        save_papers(&storage, "2026-08-13", MAX_ITEMS + 1);
        assert_eq!(
            papers_read(storage.read(date("2026-08-12"), now())),
            MAX_ITEMS
        );
        let read = storage.read(date("2026-08-13"), now());
        assert!(matches!(read, StoredRead::SetAside), "{read:?}");
        assert!(
            dir.path()
                .join(format!("days/2026-08-13.json.corrupt-{NOW_SECS}"))
                .exists()
        );
    }

    #[test]
    fn loading_reads_only_the_dates_asked_for_newest_first() {
        let dir = tempfile::tempdir().unwrap();
        let storage = open(dir.path());
        for day in ["2026-08-10", "2026-08-12", "2026-08-13"] {
            save_papers(&storage, day, 1);
        }
        let days = dir.path().join("days");
        // Not asked for: never read, so never set aside.
        fs::write(days.join("2026-08-11.json"), b"not json").unwrap();
        let asked = [
            "2026-08-10",
            "2026-08-13",
            "2026-08-12",
            "2026-08-14",
            "2026-08-13",
        ];
        let loaded = storage.load_dates(asked.map(date), now());
        assert_eq!(
            dates(&loaded.lists),
            [date("2026-08-13"), date("2026-08-12"), date("2026-08-10")]
        );
        assert_eq!((loaded.set_aside, loaded.failed), (0, 0));
        assert_eq!(fs::read(days.join("2026-08-11.json")).unwrap(), b"not json");
    }

    #[test]
    fn the_stored_dates_are_the_day_files_newest_first_none_of_them_read() {
        let dir = tempfile::tempdir().unwrap();
        let storage = open(dir.path());
        save_papers(&storage, "2026-08-10", 1);
        let days = dir.path().join("days");
        fs::write(days.join("2026-08-12.json"), b"not json").unwrap();
        for other in [
            "2026-08-13.json.corrupt-1786000000",
            ".2026-08-14.json.tmp-1-0000000000000001",
            "2026-8-15.json",
            "notes.json",
        ] {
            fs::write(days.join(other), b"{}").unwrap();
        }
        fs::create_dir(days.join("2026-08-16.json")).unwrap();
        assert_eq!(
            storage.stored_dates(),
            [date("2026-08-12"), date("2026-08-10")]
        );
        assert_eq!(fs::read(days.join("2026-08-12.json")).unwrap(), b"not json");
    }

    #[test]
    fn temporary_files_are_never_data_and_old_ones_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let days = dir.path().join("days");
        fs::create_dir_all(&days).unwrap();
        let old = days.join(".2026-08-13.json.tmp-1-0000000000000001");
        let young = days.join(".2026-08-12.json.tmp-1-0000000000000002");
        fs::write(&old, b"{\"date\":\"2026-08-13\"").unwrap();
        fs::write(&young, b"{\"date\":\"2026-08-12\"").unwrap();
        let an_hour_ago = SystemTime::now() - Duration::from_secs(3600);
        File::options()
            .write(true)
            .open(&old)
            .unwrap()
            .set_modified(an_hour_ago)
            .unwrap();

        let storage = open(dir.path());
        assert!(!old.exists());
        assert!(
            young.exists(),
            "may be another instance's write in progress"
        );
        let loaded = storage.load_dates([date("2026-08-12"), date("2026-08-13")], now());
        assert!(loaded.lists.is_empty());
        assert_eq!(loaded.set_aside, 0);
        assert!(storage.stored_dates().is_empty());
    }

    #[test]
    fn a_write_overtaken_by_a_newer_fetch_of_its_date_is_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let storage = open(dir.path());
        let day = fetched(date("2026-08-14"), &["2608.00005"]);
        let newer = DailyList::from_fetch(&day, now(), None);
        let older = DailyList::from_fetch(&day, now() - chrono::Duration::minutes(10), None);
        storage.save(&day, &newer).unwrap();
        storage.save(&day, &older).unwrap();
        let StoredRead::Read(back) = storage.read(date("2026-08-14"), now()) else {
            panic!("not read")
        };
        assert_eq!(back.fetched_at, now());
    }

    #[test]
    fn times_from_the_future_are_taken_as_now() {
        let dir = tempfile::tempdir().unwrap();
        let storage = open(dir.path());
        let day = fetched(date("2026-08-14"), &["2608.00004"]);
        let later: DateTime<Utc> = "2026-08-15T00:00:00Z".parse().unwrap();
        storage
            .save(&day, &DailyList::from_fetch(&day, later, None))
            .unwrap();
        let loaded = storage.load_dates([date("2026-08-14")], now());
        assert_eq!(loaded.lists[0].fetched_at, now());
        assert!(loaded.lists[0].changed_at <= now());
    }

    #[test]
    fn an_atomic_write_replaces_the_whole_file_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.json");
        write_atomic(&path, b"first version, longer than the second").unwrap();
        write_atomic(&path, b"second").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"second");
        assert_eq!(names(dir.path()), ["x.json"]);
    }

    #[test]
    fn a_folder_that_cannot_be_written_fails_each_write_and_later_writes_try_again() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(
            dir.path().join("days"),
            b"a file where the folder should be",
        )
        .unwrap();
        let storage = open(dir.path());
        assert!(!storage.writable.load(Ordering::Relaxed));
        let day = fetched(date("2026-08-14"), &["2608.00006"]);
        let list = DailyList::from_fetch(&day, now(), None);
        assert!(storage.save(&day, &list).is_err());
        assert!(storage.save(&day, &list).is_err());
        fs::remove_file(dir.path().join("days")).unwrap();
        storage.save(&day, &list).unwrap();
        assert!(storage.writable.load(Ordering::Relaxed));
        assert_eq!(papers_read(storage.read(date("2026-08-14"), now())), 1);
    }

    #[cfg(unix)]
    #[test]
    fn links_are_never_read_as_days() {
        let dir = tempfile::tempdir().unwrap();
        let storage = open(dir.path());
        save_papers(&storage, "2026-08-13", 1);
        let days = dir.path().join("days");
        std::os::unix::fs::symlink(days.join("2026-08-13.json"), days.join("2026-08-12.json"))
            .unwrap();
        assert!(matches!(
            storage.read(date("2026-08-12"), now()),
            StoredRead::Missing
        ));
        let loaded = storage.load_dates([date("2026-08-12"), date("2026-08-13")], now());
        assert_eq!(dates(&loaded.lists), [date("2026-08-13")]);
        assert_eq!(storage.stored_dates(), [date("2026-08-13")]);
        assert!(days.join("2026-08-12.json").is_symlink(), "left alone");
    }

    #[test]
    fn the_write_bookkeeping_stays_bounded() {
        let dir = tempfile::tempdir().unwrap();
        let storage = open(dir.path());
        let start = date("2020-01-01");
        for (i, d) in start
            .iter_days()
            .take(MAX_WRITTEN_REMEMBERED + 50)
            .enumerate()
        {
            let day = fetched(d, &["2608.00008"]);
            let at = now() + chrono::TimeDelta::hours(i as i64 * 2);
            storage
                .save(&day, &DailyList::from_fetch(&day, at, None))
                .unwrap();
        }
        let written = storage.written.lock().unwrap().len();
        assert!(written <= MAX_WRITTEN_REMEMBERED, "{written}");
    }

    /// I/O failures, each in a child process of this test binary: root reads files whatever
    /// their mode (so the child drops to `nobody` first), and a lower open-file limit would
    /// break the tests running beside it in this process.
    #[cfg(unix)]
    mod io_failures {
        use std::os::unix::fs::{PermissionsExt, chown};
        use std::process::Command;

        use super::*;

        /// The data directory the child reads, and which failure it sets up.
        const CHILD_DIR: &str = "PAPERBOY_TEST_STORAGE_CHILD_DIR";
        const CHILD_CASE: &str = "PAPERBOY_TEST_STORAGE_CHILD_CASE";
        const NOBODY: u32 = 65534;
        /// Before each line of the child's report.
        const REPORT: &str = "[storage child] ";

        fn running_as_root() -> bool {
            // SAFETY: geteuid(2) cannot fail and touches no memory.
            unsafe { libc::geteuid() == 0 }
        }

        /// What a read found, as the child reports it.
        fn outcome(read: &StoredRead) -> String {
            match read {
                StoredRead::Missing => "missing".into(),
                StoredRead::Read(list) => format!("read {} papers", list.papers.len()),
                StoredRead::SetAside => "set aside".into(),
                StoredRead::Failed(e) => format!("failed, errno {}", e.raw_os_error().unwrap_or(0)),
            }
        }

        /// Not a test of its own: the process the tests below start. With
        /// `case` "permission" it drops to `nobody` (when root) and reads a file of mode 000;
        /// with "fds" it lowers its open-file limit to what it has open. Either way it then
        /// tries to write over the file, removes the cause, and reads again, reporting each
        /// outcome on a `[storage child] <step>: ` line.
        #[test]
        #[ignore = "the child process of the I/O failure tests, started by them"]
        fn child_reads_a_file_it_cannot_open() {
            let (Ok(dir), Ok(case)) = (std::env::var(CHILD_DIR), std::env::var(CHILD_CASE)) else {
                return;
            };
            let storage = open(Path::new(&dir));
            let day = date("2026-08-13");
            let file = storage.path_of(day);
            let fillers = match case.as_str() {
                "permission" => {
                    drop_root();
                    Vec::new()
                }
                "fds" => use_every_descriptor(),
                other => panic!("unknown case {other}"),
            };
            println!("{REPORT}first: {}", outcome(&storage.read(day, now())));
            let newer = fetched(day, &["2608.00099"]);
            let saved = storage.save(&newer, &DailyList::from_fetch(&newer, now(), None));
            println!("{REPORT}save: {saved:?}");
            match case.as_str() {
                "permission" => fs::set_permissions(&file, fs::Permissions::from_mode(0o644))
                    .expect("the child owns the file"),
                _ => drop(fillers),
            }
            println!("{REPORT}again: {}", outcome(&storage.read(day, now())));
        }

        /// Becomes `nobody`, with no supplementary groups, when running as root.
        fn drop_root() {
            if !running_as_root() {
                return;
            }
            // SAFETY: plain system calls on this process's credentials; the test thread is
            // the only one doing anything.
            unsafe {
                assert_eq!(libc::setgroups(0, std::ptr::null()), 0, "setgroups");
                assert_eq!(libc::setgid(NOBODY), 0, "setgid");
                assert_eq!(libc::setuid(NOBODY), 0, "setuid");
            }
            assert!(!running_as_root());
        }

        /// Lowers the soft open-file limit to just above the highest descriptor open, and fills
        /// the free ones below it: the next open fails with EMFILE until the fillers are closed.
        #[cfg(target_os = "linux")]
        fn use_every_descriptor() -> Vec<File> {
            let highest = fs::read_dir("/proc/self/fd")
                .unwrap()
                .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u64>().ok())
                .max()
                .unwrap();
            let mut limit = libc::rlimit {
                rlim_cur: 0,
                rlim_max: 0,
            };
            // SAFETY: `limit` is a valid rlimit for both calls to read and write.
            unsafe {
                assert_eq!(libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit), 0);
                limit.rlim_cur = (highest + 1) as libc::rlim_t;
                assert_eq!(libc::setrlimit(libc::RLIMIT_NOFILE, &limit), 0);
            }
            let mut fillers = Vec::new();
            loop {
                match File::open("/dev/null") {
                    Ok(file) => fillers.push(file),
                    Err(e) if e.raw_os_error() == Some(libc::EMFILE) => return fillers,
                    Err(e) => panic!("{e}"),
                }
            }
        }

        #[cfg(not(target_os = "linux"))]
        fn use_every_descriptor() -> Vec<File> {
            unimplemented!("the descriptor test runs on Linux only")
        }

        /// Runs the child on `dir` for `case`; its report, line by line, once it succeeded.
        fn run_child(case: &str, dir: &Path) -> Vec<(String, String)> {
            // The child's name as the harness knows it: this module's path without the crate.
            let child = format!(
                "{}::child_reads_a_file_it_cannot_open",
                module_path!().trim_start_matches("paperboy::")
            );
            let output = Command::new(std::env::current_exe().unwrap())
                .args([
                    "--exact",
                    child.as_str(),
                    "--ignored",
                    "--nocapture",
                    "--test-threads=1",
                ])
                .env(CHILD_DIR, dir)
                .env(CHILD_CASE, case)
                .output()
                .unwrap();
            let stdout = String::from_utf8_lossy(&output.stdout);
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert!(
                output.status.success() && stdout.contains("1 passed"),
                "the child failed or did not run:\n{stdout}\n{stderr}"
            );
            stdout
                .lines()
                // With --nocapture, the first line follows the harness's "test … ... ".
                .filter_map(|l| l.split_once(REPORT)?.1.split_once(": "))
                .map(|(step, what)| (step.to_owned(), what.to_owned()))
                .collect()
        }

        fn step<'a>(report: &'a [(String, String)], name: &str) -> &'a str {
            report
                .iter()
                .find(|(step, _)| step == name)
                .map(|(_, what)| what.as_str())
                .unwrap_or_else(|| panic!("no {name} in {report:?}"))
        }

        /// A folder with a stored list of 2026-08-13 (two papers), reachable and writable by
        /// `nobody` (so that a rename, if one were tried, would succeed), and its file's bytes.
        fn stored_day() -> (tempfile::TempDir, PathBuf, Vec<u8>) {
            let dir = tempfile::tempdir().unwrap();
            save_papers(&open(dir.path()), "2026-08-13", 2);
            let days = dir.path().join("days");
            let file = days.join("2026-08-13.json");
            fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
            if running_as_root() {
                for path in [&days, &file] {
                    chown(path, Some(NOBODY), Some(NOBODY)).unwrap();
                }
            }
            let bytes = fs::read(&file).unwrap();
            (dir, file, bytes)
        }

        fn assert_left_in_place(
            report: &[(String, String)],
            errno: i32,
            file: &Path,
            bytes: &[u8],
        ) {
            assert_eq!(step(report, "first"), format!("failed, errno {errno}"));
            let saved = step(report, "save");
            assert!(saved.contains("not replaced"), "{saved}");
            assert_eq!(
                step(report, "again"),
                "read 2 papers",
                "the next read tries again"
            );
            assert_eq!(fs::read(file).unwrap(), bytes, "left in place, whole");
            assert_eq!(
                names(file.parent().unwrap()),
                ["2026-08-13.json"],
                "nothing set aside, nothing written"
            );
        }

        #[test]
        fn a_file_without_read_permission_is_left_in_place_and_read_again_once_it_has_it() {
            let (_dir, file, bytes) = stored_day();
            fs::set_permissions(&file, fs::Permissions::from_mode(0o000)).unwrap();
            let report = run_child("permission", file.parent().unwrap().parent().unwrap());
            assert_left_in_place(&report, libc::EACCES, &file, &bytes);
        }

        #[cfg(target_os = "linux")]
        #[test]
        fn a_file_that_cannot_be_opened_for_want_of_descriptors_is_left_in_place() {
            let (_dir, file, bytes) = stored_day();
            let report = run_child("fds", file.parent().unwrap().parent().unwrap());
            assert_left_in_place(&report, libc::EMFILE, &file, &bytes);
        }
    }
}
