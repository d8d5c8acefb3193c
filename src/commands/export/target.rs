//! The folder an export goes to: checked before and again just before the swap, written
//! beside it, synced to disk, and exchanged with the old one whole.

use super::*;

/// The folder an export goes to, and the folders beside it that it is written in.
#[derive(Debug)]
pub(super) struct Target {
    out: PathBuf,
    /// The folder holding `out`, written to disk once `out` is swapped.
    parent: PathBuf,
    /// `.<name>.paperboy-new` beside it: the export being written.
    new: PathBuf,
    /// `.<name>.paperboy-old` beside it: the previous export, while it is being replaced
    /// where folders cannot be exchanged at once.
    pub(super) old: PathBuf,
}

impl Target {
    /// Checks `out` before anything is fetched: it must be new, empty, or an earlier export.
    pub(super) fn new(out: &Path) -> Result<Target, UsageError> {
        let name = out
            .file_name()
            .filter(|n| *n != "." && *n != "..")
            .ok_or_else(|| {
                UsageError(format!(
                    "--out {}: give a folder by name (say --out site)",
                    out.display()
                ))
            })?
            .to_string_lossy()
            .into_owned();
        let parent = match out.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        fs::create_dir_all(&parent).map_err(|e| {
            UsageError(format!(
                "--out {}: cannot create {}: {e}",
                out.display(),
                parent.display()
            ))
        })?;
        if let Some(why) = not_replaceable(out) {
            return Err(UsageError(format!("--out {}: {why}", out.display())));
        }
        Ok(Target {
            out: out.to_path_buf(),
            new: parent.join(format!(".{name}.paperboy-new")),
            old: parent.join(format!(".{name}.paperboy-old")),
            parent,
        })
    }

    /// Checks `out` again, by the rules of [`Target::new`]: minutes of fetching and rendering
    /// have passed, in which it may have been replaced by a symbolic link or by a folder
    /// paperboy did not write.
    pub(super) fn check_again(&self) -> Result<(), UsageError> {
        match not_replaceable(&self.out) {
            None => Ok(()),
            Some(why) => Err(UsageError(format!(
                "--out {}: {why} (it changed after the export began; nothing was replaced)",
                self.out.display()
            ))),
        }
    }

    /// A new, empty staging folder, marked as an export (a leftover of a run that was cut
    /// short is removed first).
    pub(super) fn staging(&self) -> Result<PathBuf, ExportError> {
        let failed = |e: io::Error| {
            ExportError::Failed(format!("could not prepare {}: {e}", self.new.display()))
        };
        for leftover in [&self.new, &self.old] {
            if fs::symlink_metadata(leftover).is_ok() {
                if let Some(why) = not_replaceable(leftover) {
                    return Err(UsageError(format!(
                        "{} is in the way ({why}); remove it",
                        leftover.display()
                    ))
                    .into());
                }
                fs::remove_dir_all(leftover).map_err(failed)?;
            }
        }
        fs::create_dir(&self.new).map_err(failed)?;
        let marker = format!(
            "Written by paperboy {} export; the next export replaces this folder.\n",
            env!("CARGO_PKG_VERSION")
        );
        fs::write(self.new.join(MARKER), marker).map_err(failed)?;
        Ok(self.new.clone())
    }

    /// Puts the site written in `staging` in the place of `out`: every file and folder of it on
    /// disk first, then `out` checked again, then the swap. When any step fails, `staging` is
    /// removed and `out` keeps what it held.
    pub(super) fn put_in_place(&self, staging: &Path) -> Result<(), ExportError> {
        let result = (|| {
            sync_tree(staging).map_err(|e| {
                ExportError::Failed(format!("could not write the export to disk: {e}"))
            })?;
            self.check_again()?;
            self.replace_with(staging)
        })();
        // Only while it is still an export: should a swap have failed half-way, `staging`
        // may hold what was in `out`.
        if result.is_err() && not_replaceable(staging).is_none() {
            let _ = fs::remove_dir_all(staging);
        }
        result
    }

    /// Puts `staging` in the place of `out`: at once where the system can exchange two folders
    /// (Linux), else by two renames; writes that to disk, and removes the previous export.
    /// What was moved out of the way is checked before it is removed: should `out` have been
    /// replaced after [`Target::check_again`], it is put back and nothing is removed.
    pub(super) fn replace_with(&self, staging: &Path) -> Result<(), ExportError> {
        let failed = |e: io::Error| {
            ExportError::Failed(format!(
                "could not put the export in place at {}: {e}",
                self.out.display()
            ))
        };
        let previous = if fs::symlink_metadata(&self.out).is_err() {
            fs::rename(staging, &self.out).map_err(failed)?;
            None
        } else if exchange(staging, &self.out).is_ok() {
            self.keep_if_not_replaceable(staging, || exchange(staging, &self.out))?;
            Some(staging)
        } else {
            fs::rename(&self.out, &self.old).map_err(failed)?;
            self.keep_if_not_replaceable(&self.old, || fs::rename(&self.old, &self.out))?;
            if let Err(e) = fs::rename(staging, &self.out) {
                let _ = fs::rename(&self.old, &self.out);
                return Err(failed(e));
            }
            Some(self.old.as_path())
        };
        sync_dir(&self.parent).map_err(failed)?;
        match previous {
            Some(previous) => fs::remove_dir_all(previous).map_err(failed),
            None => Ok(()),
        }
    }

    /// Refuses, after `undo` has put it back, what was moved out of `out` to `moved` when it
    /// may not be replaced.
    pub(super) fn keep_if_not_replaceable(
        &self,
        moved: &Path,
        undo: impl FnOnce() -> io::Result<()>,
    ) -> Result<(), ExportError> {
        let Some(why) = not_replaceable(moved) else {
            return Ok(());
        };
        undo().map_err(|e| {
            ExportError::Failed(format!(
                "--out {} changed during the swap ({why}) and could not be put back from {}: {e}",
                self.out.display(),
                moved.display()
            ))
        })?;
        Err(UsageError(format!(
            "--out {}: {why} (it changed during the swap: it was put back, nothing was replaced)",
            self.out.display()
        ))
        .into())
    }
}

/// Writes `dir` and everything under it to disk: each file, then each folder once its entries
/// are, `dir` last. Anything that cannot be opened and written to disk is an error naming it;
/// an export holds only files and folders, so symbolic links are not followed.
pub(super) fn sync_tree(dir: &Path) -> io::Result<()> {
    let named =
        |path: &Path, e: io::Error| io::Error::new(e.kind(), format!("{}: {e}", path.display()));
    for entry in fs::read_dir(dir).map_err(|e| named(dir, e))? {
        let entry = entry.map_err(|e| named(dir, e))?;
        let path = entry.path();
        if entry.file_type().map_err(|e| named(&path, e))?.is_dir() {
            sync_tree(&path)?;
        } else {
            open_to_sync(&path)
                .and_then(|file| file.sync_all())
                .map_err(|e| named(&path, e))?;
        }
    }
    sync_dir(dir).map_err(|e| named(dir, e))
}

/// Opens a file only to write it to disk: never through a symbolic link, and without waiting
/// (on a pipe, say, which then fails to sync).
fn open_to_sync(path: &Path) -> io::Result<File> {
    let mut options = fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK);
    }
    options.open(path)
}

/// Writes a folder's entries (created, renamed, removed) to disk.
fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Why `path` may not be replaced by an export, if it may not: only a missing folder, an
/// empty one, or one holding the [`MARKER`] may.
fn not_replaceable(path: &Path) -> Option<String> {
    let meta = match fs::symlink_metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return None,
        Err(e) => return Some(format!("cannot be read: {e}")),
    };
    if meta.file_type().is_symlink() {
        return Some("is a symbolic link; give the folder it points to".to_owned());
    }
    if !meta.is_dir() {
        return Some("is not a folder".to_owned());
    }
    if path.join(MARKER).is_file() {
        return None;
    }
    match fs::read_dir(path).map(|mut entries| entries.next().is_none()) {
        Ok(true) => None,
        Ok(false) => Some(format!(
            "holds files that paperboy export did not write (there is no {MARKER}); give a new \
             or empty folder, so that nothing of yours is replaced"
        )),
        Err(e) => Some(format!("cannot be read: {e}")),
    }
}

/// Exchanges two folders at once (`renameat2` with `RENAME_EXCHANGE`), so that a server
/// reading `b` sees the old export or the new one, never neither.
#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> io::Result<()> {
    crate::common::rename::renameat2(a, b, libc::RENAME_EXCHANGE)
}

#[cfg(not(target_os = "linux"))]
fn exchange(_: &Path, _: &Path) -> io::Result<()> {
    Err(io::Error::other("folders cannot be exchanged at once here"))
}
