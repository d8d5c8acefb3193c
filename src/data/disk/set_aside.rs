//! Setting aside a stored file whose content cannot be used: it is renamed
//! `<name>.corrupt-<unix seconds>` and kept for a person to look at, never over a file set
//! aside earlier (the same date can go bad twice within a second, or on two instances).

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

/// Between a day's file name and the time it was set aside: `2026-08-12.json.corrupt-1786000000`.
pub const CORRUPT_MARKER: &str = ".corrupt-";
/// Names tried per file set aside: `…-<secs>`, then `…-<secs>-1` to `…-<secs>-<MAX_TRIES - 1>`.
const MAX_TRIES: u32 = 1000;

/// Renames `path` to `<name>.corrupt-<now as unix seconds>`, or, when that name is taken, to
/// the first free of `<name>.corrupt-<secs>-1`, `-2`, …; returns the new path. No earlier file
/// is ever replaced, even by another process setting aside at the same moment.
pub(super) fn set_aside(path: &Path, now: DateTime<Utc>) -> io::Result<PathBuf> {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| io::Error::other("the path has no file name"))?;
    let first = format!("{name}{CORRUPT_MARKER}{}", now.timestamp());
    for n in 0..MAX_TRIES {
        let aside = match n {
            0 => path.with_file_name(&first),
            _ => path.with_file_name(format!("{first}-{n}")),
        };
        match rename_no_replace(path, &aside) {
            Ok(()) => return Ok(aside),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::new(
        io::ErrorKind::AlreadyExists,
        format!("{first} and the next {} names are taken", MAX_TRIES - 1),
    ))
}

/// Renames `from` to `to`, failing with [`io::ErrorKind::AlreadyExists`] when `to` exists
/// rather than replacing it: `renameat2` with `RENAME_NOREPLACE`, or, on a file system
/// without it, a hard link (which never replaces) and the removal of the old name.
#[cfg(target_os = "linux")]
fn rename_no_replace(from: &Path, to: &Path) -> io::Result<()> {
    let Err(error) = crate::common::rename::renameat2(from, to, libc::RENAME_NOREPLACE) else {
        return Ok(());
    };
    match error.raw_os_error() {
        // The file system (or a seccomp filter) does not know the flag.
        Some(libc::EINVAL | libc::ENOSYS | libc::EOPNOTSUPP) => link_then_unlink(from, to),
        _ => Err(error),
    }
}

#[cfg(all(unix, not(target_os = "linux")))]
fn rename_no_replace(from: &Path, to: &Path) -> io::Result<()> {
    link_then_unlink(from, to)
}

/// Without links, a check and a rename: two processes setting aside at the same moment could
/// collide, which no supported platform needs.
#[cfg(not(unix))]
fn rename_no_replace(from: &Path, to: &Path) -> io::Result<()> {
    if fs::symlink_metadata(to).is_ok() {
        return Err(io::Error::from(io::ErrorKind::AlreadyExists));
    }
    fs::rename(from, to)
}

/// A rename that never replaces `to`: a new link fails when the name exists. A crash between
/// the two steps leaves both names, and the old one is set aside again on its next read.
#[cfg(unix)]
fn link_then_unlink(from: &Path, to: &Path) -> io::Result<()> {
    fs::hard_link(from, to)?;
    fs::remove_file(from).inspect_err(|_| {
        let _ = fs::remove_file(to);
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::disk::tests::names;

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(secs, 0).unwrap()
    }

    #[test]
    fn a_file_is_set_aside_under_its_name_and_the_time_in_unix_seconds() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("2026-08-12.json");
        fs::write(&path, b"garbage").unwrap();
        let aside = set_aside(&path, at(1_786_000_000)).unwrap();
        assert_eq!(aside, dir.path().join("2026-08-12.json.corrupt-1786000000"));
        assert_eq!(names(dir.path()), ["2026-08-12.json.corrupt-1786000000"]);
        assert_eq!(fs::read(&aside).unwrap(), b"garbage");
    }

    #[test]
    fn setting_aside_within_the_same_second_never_replaces_an_earlier_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("2026-08-12.json");
        for content in ["first", "second", "third"] {
            fs::write(&path, content).unwrap();
            set_aside(&path, at(1_786_000_000)).unwrap();
        }
        assert_eq!(
            names(dir.path()),
            [
                "2026-08-12.json.corrupt-1786000000",
                "2026-08-12.json.corrupt-1786000000-1",
                "2026-08-12.json.corrupt-1786000000-2",
            ]
        );
        let read = |name: &str| fs::read_to_string(dir.path().join(name)).unwrap();
        assert_eq!(read("2026-08-12.json.corrupt-1786000000"), "first");
        assert_eq!(read("2026-08-12.json.corrupt-1786000000-1"), "second");
        assert_eq!(read("2026-08-12.json.corrupt-1786000000-2"), "third");
    }

    #[test]
    fn the_no_replace_rename_refuses_an_existing_name_and_leaves_both_files() {
        let dir = tempfile::tempdir().unwrap();
        let (from, to) = (dir.path().join("a"), dir.path().join("b"));
        fs::write(&from, b"new").unwrap();
        fs::write(&to, b"earlier").unwrap();
        let e = rename_no_replace(&from, &to).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(fs::read(&from).unwrap(), b"new");
        assert_eq!(fs::read(&to).unwrap(), b"earlier");
    }

    #[cfg(unix)]
    #[test]
    fn the_link_fallback_refuses_an_existing_name_and_otherwise_moves_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let (from, to, free) = (
            dir.path().join("a"),
            dir.path().join("b"),
            dir.path().join("c"),
        );
        fs::write(&from, b"new").unwrap();
        fs::write(&to, b"earlier").unwrap();
        let e = link_then_unlink(&from, &to).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(fs::read(&to).unwrap(), b"earlier");
        link_then_unlink(&from, &free).unwrap();
        assert!(!from.exists());
        assert_eq!(fs::read(&free).unwrap(), b"new");
    }
}
