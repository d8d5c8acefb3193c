//! Daily lists kept on disk across restarts, so that a restart is warm and survives an
//! upstream outage.
//!
//! One file per date, `<data_dir>/days/YYYY-MM-DD.json`, holding
//! `{"date", "fetched_at", "changed_at", "items": [...]}` with the items exactly as upstream
//! sent them: reading a file goes through the same `Paper::from_raw` path as a fetch, so a
//! fix to ingestion applies to stored data too. Files are written atomically (a temporary
//! file in the same folder, fsync, rename, fsync of the folder), so a crash or a kill leaves
//! either the previous file or the new one, never a partial one. A file that cannot be read
//! is renamed with a `.corrupt` suffix and a warning: never a crash, never read again.

use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime};

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::daily_list::DailyList;
use crate::upstream::client::FetchedDay;
use crate::upstream::model::RawItem;

/// The folder under the data dir that holds the daily lists.
const DAYS_DIR: &str = "days";
/// Appended to the name of a file that could not be read.
pub const CORRUPT_SUFFIX: &str = ".corrupt";
/// In the name of a temporary file (which also starts with a dot, so it never looks like a day).
const TEMP_MARKER: &str = ".tmp-";
/// A temporary file older than this is left over from a crash and is removed at start-up.
/// Younger ones may belong to another instance writing to a shared volume right now.
const STALE_TEMP_AGE: Duration = Duration::from_secs(600);
/// Dates whose last write time is remembered (to skip a write overtaken by a newer fetch).
const MAX_WRITTEN_REMEMBERED: usize = 1024;

/// A stored day, as written.
#[derive(Serialize)]
struct StoredDayOut<'a> {
    date: NaiveDate,
    fetched_at: DateTime<Utc>,
    changed_at: DateTime<Utc>,
    items: &'a [Box<RawValue>],
}

/// A stored day, as read.
#[derive(Deserialize)]
struct StoredDayIn {
    date: NaiveDate,
    fetched_at: DateTime<Utc>,
    changed_at: DateTime<Utc>,
    items: Vec<Box<RawValue>>,
}

/// Limits of a stored file: larger or longer is a content error.
#[derive(Debug, Clone, Copy)]
pub struct ReadLimits {
    pub max_bytes: u64,
    pub max_items: usize,
}

/// What one read found.
#[derive(Debug)]
pub enum StoredRead {
    Missing,
    Read(DailyList),
    SetAside,
    Failed(io::Error),
}

/// What start-up found on disk.
#[derive(Debug, Default)]
pub struct Loaded {
    /// Newest first.
    pub lists: Vec<DailyList>,
    /// Files renamed with the `.corrupt` suffix.
    pub set_aside: usize,
}

/// The data directory's daily lists.
#[derive(Debug)]
pub struct Storage {
    days: PathBuf,
    /// The fetch time of the last list written per date. Held during a write, so writes are
    /// serialized and one that was overtaken by a newer fetch is skipped: the background
    /// writes of two fetches of a date can run in either order.
    written: Mutex<HashMap<NaiveDate, DateTime<Utc>>>,
    /// False after a write failed (read-only or full), until one succeeds: one warning per
    /// spell, not one per write.
    writable: AtomicBool,
}

impl Storage {
    /// Opens (creating it if needed) `<data_dir>/days`, and removes temporary files that a
    /// crash left behind.
    pub fn open(data_dir: &Path, _limits: ReadLimits) -> anyhow::Result<Storage> {
        let days = data_dir.join(DAYS_DIR);
        let storage = Storage {
            days,
            written: Mutex::new(HashMap::new()),
            writable: AtomicBool::new(true),
        };
        if let Err(e) = fs::create_dir_all(&storage.days) {
            // Serving goes on from memory; writes are tried again, and counted as failed.
            storage.writable.store(false, Ordering::Relaxed);
            tracing::warn!(dir = %storage.days.display(), error = %e, "the data directory cannot be created; serving from memory, and trying again on every write");
        }
        storage.remove_stale_temp_files();
        Ok(storage)
    }

    /// Where the list of `date` is kept.
    pub fn path_of(&self, date: NaiveDate) -> PathBuf {
        self.days.join(format!("{}.json", date.format("%Y-%m-%d")))
    }

    /// Writes one fetched list, atomically, unless a newer fetch of its date was written
    /// already. Blocking: call it off the async threads.
    pub fn save(&self, fetched: &FetchedDay, list: &DailyList) -> io::Result<()> {
        let result = self.save_unlogged(fetched, list);
        match &result {
            Ok(()) => {
                if !self.writable.swap(true, Ordering::Relaxed) {
                    tracing::info!(dir = %self.days.display(), "the data directory is writable again");
                }
            }
            Err(e) => {
                if self.writable.swap(false, Ordering::Relaxed) {
                    tracing::warn!(dir = %self.days.display(), date = %list.date, error = %e, "cannot write to the data directory (read-only or full?); serving from memory, and trying again on every write");
                } else {
                    tracing::debug!(date = %list.date, error = %e, "still cannot write to the data directory");
                }
            }
        }
        result
    }

    fn save_unlogged(&self, fetched: &FetchedDay, list: &DailyList) -> io::Result<()> {
        let mut written = self.written.lock().unwrap_or_else(|e| e.into_inner());
        if written
            .get(&list.date)
            .is_some_and(|at| *at > list.fetched_at)
        {
            return Ok(());
        }
        // Only writes that may still race matter here: forget the old ones, so that the map
        // stays small however many dates are fetched.
        if written.len() >= MAX_WRITTEN_REMEMBERED {
            let horizon = list.fetched_at - chrono::TimeDelta::hours(1);
            written.retain(|_, at| *at > horizon);
            if written.len() >= MAX_WRITTEN_REMEMBERED {
                written.clear();
            }
        }
        let stored = StoredDayOut {
            date: list.date,
            fetched_at: list.fetched_at,
            changed_at: list.changed_at,
            items: &fetched.raw,
        };
        let bytes = serde_json::to_vec(&stored).map_err(io::Error::other)?;
        fs::create_dir_all(&self.days)?;
        write_atomic(&self.path_of(list.date), &bytes)?;
        written.insert(list.date, list.fetched_at);
        Ok(())
    }

    /// The stored list of `date`, if there is a usable one: `None` when there is no file (or
    /// it is not a plain file); an unreadable file is set aside. Blocking: call it off the
    /// async threads.
    pub fn read(&self, date: NaiveDate, now: DateTime<Utc>) -> StoredRead {
        let path = self.path_of(date);
        match fs::symlink_metadata(&path) {
            Ok(meta) if meta.file_type().is_file() => {}
            Ok(_) => {
                tracing::warn!(file = %path.display(), "not a plain file; ignoring it (paperboy follows no links out of its data directory)");
                return StoredRead::Missing;
            }
            Err(_) => return StoredRead::Missing,
        }
        match read_day(&path, date, now) {
            Ok(list) => StoredRead::Read(list),
            Err(ReadError::Io(e)) if e.kind() == io::ErrorKind::NotFound => StoredRead::Missing,
            Err(ReadError::Io(e)) => StoredRead::Failed(e),
            Err(e) => {
                set_aside(&path, &e);
                StoredRead::SetAside
            }
        }
    }

    /// The stored lists of `dates`, newest first.
    pub fn load_dates(
        &self,
        dates: impl IntoIterator<Item = NaiveDate>,
        now: DateTime<Utc>,
    ) -> Loaded {
        let mut loaded = Loaded::default();
        let mut dates: Vec<NaiveDate> = dates.into_iter().collect();
        dates.sort_by_key(|d| std::cmp::Reverse(*d));
        for date in dates {
            match self.read(date, now) {
                StoredRead::Read(list) => loaded.lists.push(list),
                StoredRead::SetAside => loaded.set_aside += 1,
                StoredRead::Missing | StoredRead::Failed(_) => {}
            }
        }
        loaded
    }

    /// Reads the stored lists, newest first, until they hold `max_papers` papers (the memory
    /// cache would not keep more). A `fetched_at` later than `now` is taken as `now`, so a
    /// clock that went back cannot keep a list "fresh" for longer than its time to live.
    /// Blocking: call it off the async threads.
    pub fn load(&self, max_papers: u64, now: DateTime<Utc>) -> Loaded {
        let mut loaded = Loaded::default();
        let mut dated = self.day_files();
        dated.sort_by_key(|(date, _)| std::cmp::Reverse(*date));
        let mut papers = 0u64;
        for (date, path) in dated {
            if papers >= max_papers {
                break;
            }
            match read_day(&path, date, now) {
                Ok(list) => {
                    papers += list.papers.len() as u64 + 1;
                    loaded.lists.push(list);
                }
                Err(e) => {
                    set_aside(&path, &e);
                    loaded.set_aside += 1;
                }
            }
        }
        loaded
    }

    /// The files named `YYYY-MM-DD.json`, with their dates; nothing else is data.
    fn day_files(&self) -> Vec<(NaiveDate, PathBuf)> {
        let entries = match fs::read_dir(&self.days) {
            Ok(entries) => entries,
            Err(e) => {
                tracing::warn!(dir = %self.days.display(), error = %e, "cannot list the stored daily lists");
                return Vec::new();
            }
        };
        entries
            .filter_map(Result::ok)
            // Plain files only: a link may point out of the data directory.
            .filter(|entry| entry.file_type().is_ok_and(|t| t.is_file()))
            .filter_map(|entry| {
                let name = entry.file_name();
                let stem = name.to_str()?.strip_suffix(".json")?;
                if stem.len() != 10 {
                    return None;
                }
                let date = NaiveDate::parse_from_str(stem, "%Y-%m-%d").ok()?;
                Some((date, entry.path()))
            })
            .collect()
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

/// Why a stored file cannot be used.
#[derive(Debug, thiserror::Error)]
enum ReadError {
    #[error("cannot read it: {0}")]
    Io(#[from] io::Error),
    #[error("it is not a stored daily list: {0}")]
    Format(#[from] serde_json::Error),
    #[error("it holds the list of {found}, not of {expected}")]
    WrongDate {
        expected: NaiveDate,
        found: NaiveDate,
    },
}

fn read_day(path: &Path, date: NaiveDate, now: DateTime<Utc>) -> Result<DailyList, ReadError> {
    let bytes = fs::read(path)?;
    let stored: StoredDayIn = serde_json::from_slice(&bytes)?;
    if stored.date != date {
        return Err(ReadError::WrongDate {
            expected: date,
            found: stored.date,
        });
    }
    let mut fetched = FetchedDay {
        date,
        items: Vec::with_capacity(stored.items.len()),
        raw: Vec::with_capacity(stored.items.len()),
        skipped: 0,
    };
    for value in stored.items {
        match serde_json::from_str::<RawItem>(value.get()) {
            Ok(item) => {
                fetched.items.push(item);
                fetched.raw.push(value);
            }
            Err(e) => {
                fetched.skipped += 1;
                tracing::warn!(%date, error = %e, "skipped an unreadable stored item");
            }
        }
    }
    let fetched_at = stored.fetched_at.min(now);
    let mut list = DailyList::from_fetch(&fetched, fetched_at, None);
    list.changed_at = stored.changed_at.min(now);
    Ok(list)
}

/// Renames an unreadable file to `<name>.corrupt`, so that it is kept for a person to look at
/// but never read again.
fn set_aside(path: &Path, error: &ReadError) {
    let mut aside = path.as_os_str().to_owned();
    aside.push(CORRUPT_SUFFIX);
    match fs::rename(path, &aside) {
        Ok(()) => tracing::warn!(
            file = %path.display(),
            moved_to = %Path::new(&aside).display(),
            %error,
            "a stored daily list is unreadable; set it aside"
        ),
        Err(e) => tracing::warn!(
            file = %path.display(),
            %error,
            rename_error = %e,
            "a stored daily list is unreadable and cannot be set aside; ignoring it"
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

    fn now() -> DateTime<Utc> {
        "2026-08-14T12:00:00Z".parse().unwrap()
    }

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

    #[test]
    fn a_saved_list_reads_back_with_its_items_as_received_and_its_times() {
        let dir = tempfile::tempdir().unwrap();
        let storage = Storage::open(dir.path(), ReadLimits { max_bytes: 1 << 24, max_items: 1000 }).unwrap();
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

        let loaded = storage.load(20_000, now());
        assert_eq!(loaded.set_aside, 0);
        let [back] = &loaded.lists[..] else {
            panic!("{:?}", loaded.lists.len())
        };
        assert_eq!(back.fetched_at, list.fetched_at);
        assert_eq!(back.changed_at, list.changed_at);
        assert_eq!(back.content_hash, list.content_hash);
        assert_eq!(back.papers, list.papers);
    }

    #[test]
    fn unreadable_files_are_set_aside_and_the_others_still_load() {
        let dir = tempfile::tempdir().unwrap();
        let storage = Storage::open(dir.path(), ReadLimits { max_bytes: 1 << 24, max_items: 1000 }).unwrap();
        let good = fetched(date("2026-08-12"), &["2608.00003"]);
        storage
            .save(&good, &DailyList::from_fetch(&good, now(), None))
            .unwrap();
        let days = dir.path().join("days");
        fs::write(
            days.join("2026-08-13.json"),
            b"{\"date\":\"2026-08-13\",\"fet",
        )
        .unwrap();
        fs::write(days.join("2026-08-11.json"), b"\x00\x01 not json").unwrap();
        // A valid file under another date's name is not that date's list.
        fs::copy(days.join("2026-08-12.json"), days.join("2026-08-10.json")).unwrap();

        let loaded = storage.load(20_000, now());
        assert_eq!(loaded.set_aside, 3);
        let dates: Vec<NaiveDate> = loaded.lists.iter().map(|l| l.date).collect();
        assert_eq!(dates, [date("2026-08-12")]);
        for name in ["2026-08-13", "2026-08-11", "2026-08-10"] {
            assert!(!days.join(format!("{name}.json")).exists(), "{name}");
            assert!(days.join(format!("{name}.json.corrupt")).exists(), "{name}");
        }
        // Set aside once, never read again.
        assert_eq!(storage.load(20_000, now()).set_aside, 0);
    }

    #[test]
    fn loading_stops_at_the_cache_bound_newest_first() {
        let dir = tempfile::tempdir().unwrap();
        let storage = Storage::open(dir.path(), ReadLimits { max_bytes: 1 << 24, max_items: 1000 }).unwrap();
        for (i, d) in ["2026-08-10", "2026-08-11", "2026-08-12"]
            .iter()
            .enumerate()
        {
            let day = fetched(date(d), &[&format!("2608.0000{i}")]);
            storage
                .save(&day, &DailyList::from_fetch(&day, now(), None))
                .unwrap();
        }
        let loaded = storage.load(4, now());
        let dates: Vec<NaiveDate> = loaded.lists.iter().map(|l| l.date).collect();
        assert_eq!(dates, [date("2026-08-12"), date("2026-08-11")]);
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

        let storage = Storage::open(dir.path(), ReadLimits { max_bytes: 1 << 24, max_items: 1000 }).unwrap();
        assert!(!old.exists());
        assert!(
            young.exists(),
            "may be another instance's write in progress"
        );
        let loaded = storage.load(20_000, now());
        assert!(loaded.lists.is_empty());
        assert_eq!(loaded.set_aside, 0);
    }

    #[test]
    fn a_write_overtaken_by_a_newer_fetch_of_its_date_is_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let storage = Storage::open(dir.path(), ReadLimits { max_bytes: 1 << 24, max_items: 1000 }).unwrap();
        let day = fetched(date("2026-08-14"), &["2608.00005"]);
        let newer = DailyList::from_fetch(&day, now(), None);
        let older = DailyList::from_fetch(&day, now() - chrono::Duration::minutes(10), None);
        storage.save(&day, &newer).unwrap();
        storage.save(&day, &older).unwrap();
        let loaded = storage.load(20_000, now());
        assert_eq!(loaded.lists[0].fetched_at, now());
    }

    #[test]
    fn times_from_the_future_are_taken_as_now() {
        let dir = tempfile::tempdir().unwrap();
        let storage = Storage::open(dir.path(), ReadLimits { max_bytes: 1 << 24, max_items: 1000 }).unwrap();
        let day = fetched(date("2026-08-14"), &["2608.00004"]);
        let later: DateTime<Utc> = "2026-08-15T00:00:00Z".parse().unwrap();
        storage
            .save(&day, &DailyList::from_fetch(&day, later, None))
            .unwrap();
        let loaded = storage.load(20_000, now());
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
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["x.json"]);
    }

    #[test]
    fn a_folder_that_cannot_be_written_fails_each_write_and_later_writes_try_again() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(
            dir.path().join("days"),
            b"a file where the folder should be",
        )
        .unwrap();
        let storage = Storage::open(dir.path(), ReadLimits { max_bytes: 1 << 24, max_items: 1000 }).unwrap();
        assert!(!storage.writable.load(Ordering::Relaxed));
        let day = fetched(date("2026-08-14"), &["2608.00006"]);
        let list = DailyList::from_fetch(&day, now(), None);
        assert!(storage.save(&day, &list).is_err());
        assert!(storage.save(&day, &list).is_err());
        fs::remove_file(dir.path().join("days")).unwrap();
        storage.save(&day, &list).unwrap();
        assert!(storage.writable.load(Ordering::Relaxed));
        assert!(matches!(storage.read(date("2026-08-14"), now()), StoredRead::Read(_)));
    }

    #[cfg(unix)]
    #[test]
    fn links_are_never_read_as_days() {
        let dir = tempfile::tempdir().unwrap();
        let storage = Storage::open(dir.path(), ReadLimits { max_bytes: 1 << 24, max_items: 1000 }).unwrap();
        let day = fetched(date("2026-08-13"), &["2608.00007"]);
        storage
            .save(&day, &DailyList::from_fetch(&day, now(), None))
            .unwrap();
        let days = dir.path().join("days");
        std::os::unix::fs::symlink(days.join("2026-08-13.json"), days.join("2026-08-12.json"))
            .unwrap();
        assert!(matches!(storage.read(date("2026-08-12"), now()), StoredRead::Missing));
        let dates: Vec<NaiveDate> = storage
            .load(20_000, now())
            .lists
            .iter()
            .map(|l| l.date)
            .collect();
        assert_eq!(dates, [date("2026-08-13")]);
        assert!(days.join("2026-08-12.json").is_symlink(), "left alone");
    }

    #[test]
    fn the_write_bookkeeping_stays_bounded() {
        let dir = tempfile::tempdir().unwrap();
        let storage = Storage::open(dir.path(), ReadLimits { max_bytes: 1 << 24, max_items: 1000 }).unwrap();
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
}
