//! `paperboy export --out DIR [--base-url URL] [--days N]`: the feeds as a static site that
//! any static host serves (GitHub Pages, S3, nginx): `feed.*`, `digest.*`, every topic's feeds
//! and digests, `topics.opml`, `index.html`, the icons, and a `.gz` copy of every text file for
//! `gzip_static`.
//!
//! The feeds are rendered by the code that serves them ([`render_once`]): a file holds the
//! bytes the server answers for the same request and data, its self link being the file's URL
//! under `--base-url` (which is `server.public_url` for the run, so ids and OPML URLs use it
//! too). What the files read is fetched first, as `paperboy fetch` does. The site is written
//! into a new folder beside DIR and put in DIR's place only once every file is written and on
//! disk, so a failed run leaves the previous export whole; a folder that paperboy did not write
//! is never replaced, checked when the run starts and again right before the swap.

use std::fs::{self, File};
use std::future::Future;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use flate2::Compression;
use flate2::write::GzEncoder;

use crate::app::state::AppState;
use crate::commands::fetch::{Fetched, fetch_dates};
use crate::commands::progress::Progress;
use crate::commands::{Exit, UsageError};
use crate::common::format::Format;
use crate::pipeline::home_and_preview::home_page;
use crate::pipeline::{FeedRoute, plan, render_once};
use crate::render::html::Site;
use crate::render::html::{FAVICON, ICON_PNG};

mod target;

use target::Target;

/// The file that marks a folder as written by `paperboy export`: only such a folder (or an
/// empty one) is replaced.
pub const MARKER: &str = ".paperboy-export";

/// What `paperboy export` is asked.
#[derive(Debug, Clone, Default)]
pub struct ExportOptions {
    pub out: PathBuf,
    /// The days of `feed.*` and the topic feeds (`days=N`); by default the server's.
    pub days: Option<u32>,
}

/// What an export did.
#[derive(Debug, Clone, Default)]
pub struct Exported {
    pub fetched: Fetched,
    /// Files written, `.gz` copies included; 0 when the run was stopped before writing.
    pub files: usize,
    pub bytes: u64,
}

impl Exported {
    /// The fetch's exit code: 1 when a date failed (the site is written from what is stored,
    /// as the server would serve it), 130 when stopped.
    pub fn exit(&self) -> Exit {
        self.fetched.exit()
    }

    /// The fetch's report, then `wrote N files (B bytes) to DIR`.
    pub fn report(&self, out_dir: &Path, out: &mut dyn Write, err: &mut dyn Write) {
        self.fetched.report(out, err);
        if self.files > 0 {
            let _ = writeln!(
                out,
                "wrote {} files ({} bytes) to {}",
                self.files,
                self.bytes,
                out_dir.display()
            );
        }
    }
}

/// Why an export wrote nothing.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// Exit 2: the folder or the options cannot be used.
    #[error(transparent)]
    Usage(#[from] UsageError),
    /// Exit 1: a feed could not be rendered or a file not written; the previous export stays.
    #[error("{0}")]
    Failed(String),
}

impl ExportError {
    pub fn exit(&self) -> Exit {
        match self {
            ExportError::Usage(_) => Exit::Usage,
            ExportError::Failed(_) => Exit::Failed,
        }
    }
}

/// One feed file of the site and the request it answers.
struct SiteFeed<'a> {
    path: String,
    route: FeedRoute<'a>,
    query: String,
}

/// Every feed of the site: the default query's feeds and digests, then each topic's.
fn site_feeds(state: &AppState, days: Option<u32>) -> Vec<SiteFeed<'_>> {
    let days_query = days.map(|d| format!("days={d}")).unwrap_or_default();
    let mut feeds = Vec::new();
    for format in Format::ALL {
        let ext = format.name();
        feeds.push(SiteFeed {
            path: format!("feed.{ext}"),
            route: FeedRoute::papers(Some(format), None),
            query: days_query.clone(),
        });
        feeds.push(SiteFeed {
            path: format!("digest.{ext}"),
            route: FeedRoute::digest(format, None),
            query: String::new(),
        });
        for topic in state.topics.iter() {
            feeds.push(SiteFeed {
                path: format!("topics/{}.{ext}", topic.name),
                route: FeedRoute::papers(Some(format), Some(topic)),
                query: days_query.clone(),
            });
            feeds.push(SiteFeed {
                path: format!("topics/{}/digest.{ext}", topic.name),
                route: FeedRoute::digest(format, Some(topic)),
                query: String::new(),
            });
        }
    }
    feeds
}

/// `paperboy export`: fetches what the site reads (progress made for the number of dates),
/// then writes it. `stop` resolving stops the fetch, and nothing is written.
pub async fn export(
    state: &AppState,
    options: &ExportOptions,
    progress: impl FnOnce(usize) -> Progress,
    stop: impl Future<Output = ()>,
) -> Result<Exported, ExportError> {
    let feeds_settings = &state.settings.feeds;
    if let Some(days) = options.days
        && !(1..=feeds_settings.max_days).contains(&days)
    {
        return Err(UsageError(format!(
            "--days {days}: give 1 to {} (feeds.max_days)",
            feeds_settings.max_days
        ))
        .into());
    }
    let target = Target::new(&options.out)?;
    let today = state.clock.today();
    let feeds = site_feeds(state, options.days);

    // What every file reads, and the home page's counts.
    let mut dates: Vec<NaiveDate> = today
        .iter_days()
        .rev()
        .take(feeds_settings.default_days as usize)
        .take_while(|d| *d >= feeds_settings.earliest_date)
        .collect();
    for feed in &feeds {
        let plan = plan(state, feed.route, &feed.query, today)
            .await
            .map_err(|p| ExportError::Failed(format!("{}: {}", feed.path, p.detail)))?;
        dates.extend(plan.dates(feeds_settings));
    }
    dates.sort_unstable_by(|a, b| b.cmp(a));
    dates.dedup();

    let progress = progress(dates.len());
    let fetched = fetch_dates(state, &dates, false, &progress, stop).await;
    if fetched.interrupted {
        return Ok(Exported {
            fetched,
            ..Exported::default()
        });
    }

    let staging = target.staging()?;
    let written = write_site(state, &feeds, &staging).await;
    let (files, bytes) = match written {
        Ok(counts) => counts,
        Err(e) => {
            let _ = fs::remove_dir_all(&staging);
            return Err(e);
        }
    };
    target.put_in_place(&staging)?;
    Ok(Exported {
        fetched,
        files,
        bytes,
    })
}

/// Writes every file of the site into `dir`; how many files, and their bytes.
async fn write_site(
    state: &AppState,
    feeds: &[SiteFeed<'_>],
    dir: &Path,
) -> Result<(usize, u64), ExportError> {
    // `server.public_url` (the export's `--base-url`), as every link of the site uses.
    let base = state.bases.default_base();
    let mut site = SiteWriter::new(dir);
    for feed in feeds {
        let self_url = format!("{base}/{}", feed.path);
        let body = render_once(state, feed.route, &feed.query, &self_url)
            .await
            .map_err(|p| ExportError::Failed(format!("{}: {}", feed.path, p.detail)))?;
        site.text(&feed.path, &body)?;
    }
    let opml = crate::render::opml::topics_document(
        &state.topics,
        &state.bases.default_base(),
        Format::Atom,
        |topic| format!("{base}/#topic-{}", topic.name),
    );
    site.text("topics.opml", opml.as_bytes())?;
    let index = home_page(state, Site::Static)
        .await
        .map_err(|p| ExportError::Failed(format!("index.html: {}", p.detail)))?;
    site.text("index.html", index.as_bytes())?;
    site.binary("favicon.ico", FAVICON)?;
    site.binary("icon.png", ICON_PNG)?;
    Ok((site.files, site.bytes))
}

/// Writes files under a folder, counting them.
struct SiteWriter<'a> {
    dir: &'a Path,
    files: usize,
    bytes: u64,
}

impl<'a> SiteWriter<'a> {
    fn new(dir: &'a Path) -> Self {
        Self {
            dir,
            files: 0,
            bytes: 0,
        }
    }

    /// A text file and its `.gz` copy (for nginx's `gzip_static` and the like).
    fn text(&mut self, path: &str, body: &[u8]) -> Result<(), ExportError> {
        self.binary(path, body)?;
        let gz = gzip(body).map_err(|e| self.failed(path, &e))?;
        self.binary(&format!("{path}.gz"), &gz)
    }

    fn binary(&mut self, path: &str, body: &[u8]) -> Result<(), ExportError> {
        let file = self.dir.join(path);
        if let Some(parent) = file.parent() {
            fs::create_dir_all(parent).map_err(|e| self.failed(path, &e))?;
        }
        fs::write(&file, body).map_err(|e| self.failed(path, &e))?;
        self.files += 1;
        self.bytes += body.len() as u64;
        Ok(())
    }

    fn failed(&self, path: &str, e: &io::Error) -> ExportError {
        ExportError::Failed(format!(
            "could not write {}: {e}",
            self.dir.join(path).display()
        ))
    }
}

fn gzip(body: &[u8]) -> io::Result<Vec<u8>> {
    let mut encoder = GzEncoder::new(Vec::with_capacity(body.len() / 4), Compression::best());
    encoder.write_all(body)?;
    encoder.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::Exit;
    use target::sync_tree;

    #[test]
    fn only_new_empty_or_exported_folders_are_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let site = dir.path().join("site");
        assert!(Target::new(&site).is_ok(), "a new folder");
        fs::create_dir(&site).unwrap();
        assert!(Target::new(&site).is_ok(), "an empty folder");
        fs::write(site.join("notes.txt"), "mine").unwrap();
        let e = Target::new(&site).unwrap_err();
        assert!(e.0.contains("did not write"), "{e}");
        fs::write(site.join(MARKER), "").unwrap();
        assert!(Target::new(&site).is_ok(), "an earlier export");
        let file = dir.path().join("file");
        fs::write(&file, "x").unwrap();
        assert!(Target::new(&file).unwrap_err().0.contains("not a folder"));
        assert!(Target::new(Path::new(".")).is_err());
        std::os::unix::fs::symlink(&site, dir.path().join("link")).unwrap();
        assert!(
            Target::new(&dir.path().join("link"))
                .unwrap_err()
                .0
                .contains("symbolic link")
        );
    }

    #[test]
    fn the_new_export_takes_the_place_of_the_old_whole() {
        let dir = tempfile::tempdir().unwrap();
        let site = dir.path().join("site");
        for (round, file) in ["first.txt", "second.txt"].into_iter().enumerate() {
            let target = Target::new(&site).unwrap();
            let staging = target.staging().unwrap();
            fs::write(staging.join(file), "x").unwrap();
            target.put_in_place(&staging).unwrap();
            assert!(site.join(file).is_file(), "round {round}");
            assert!(site.join(MARKER).is_file());
            assert!(
                !staging.exists() && !target.old.exists(),
                "nothing left beside it"
            );
        }
        assert!(
            !site.join("first.txt").exists(),
            "the previous export is gone whole"
        );
    }

    /// An earlier export at `site`, and a new one staged to replace it after the first check.
    fn staged_over_an_earlier_export(site: &Path) -> (Target, PathBuf) {
        let target = Target::new(site).unwrap();
        let staging = target.staging().unwrap();
        fs::write(staging.join("earlier.txt"), "earlier").unwrap();
        target.put_in_place(&staging).unwrap();
        let target = Target::new(site).unwrap();
        let staging = target.staging().unwrap();
        fs::create_dir(staging.join("topics")).unwrap();
        fs::write(staging.join("topics/new.rss"), "new").unwrap();
        (target, staging)
    }

    /// What `site` is now: a link and where it points, or its files and their text.
    fn describe(site: &Path) -> String {
        if let Ok(to) = fs::read_link(site) {
            return format!("link to {}", to.display());
        }
        if site.is_file() {
            return format!("file {}", fs::read_to_string(site).unwrap());
        }
        let mut files: Vec<String> = fs::read_dir(site)
            .unwrap()
            .map(|e| {
                let path = e.unwrap().path();
                let text = fs::read_to_string(&path).unwrap_or_default();
                format!("{}={text}", path.file_name().unwrap().to_string_lossy())
            })
            .collect();
        files.sort();
        files.join(",")
    }

    /// `out` replaced, after the first check, by something an export may not replace.
    type Replacement = fn(&Path, &Path);

    const REPLACEMENTS: [(&str, Replacement, &str); 3] = [
        (
            "a symbolic link to a folder of someone's",
            |site, beside| {
                let theirs = beside.join("theirs");
                fs::create_dir(&theirs).unwrap();
                fs::write(theirs.join("notes.txt"), "keep me").unwrap();
                fs::remove_dir_all(site).unwrap();
                std::os::unix::fs::symlink(&theirs, site).unwrap();
            },
            "symbolic link",
        ),
        (
            "a folder paperboy did not write",
            |site, _| {
                fs::remove_dir_all(site).unwrap();
                fs::create_dir(site).unwrap();
                fs::write(site.join("notes.txt"), "keep me").unwrap();
            },
            "did not write",
        ),
        (
            "a file",
            |site, _| {
                fs::remove_dir_all(site).unwrap();
                fs::write(site, "keep me").unwrap();
            },
            "not a folder",
        ),
    ];

    /// For each of [`REPLACEMENTS`]: an earlier export at `site`, a new one staged, the site
    /// replaced, then `swap` (a step of putting the new export in place) must refuse with an
    /// error naming the reason and `when`, leaving the site as it found it; `then` checks the
    /// rest with the case, the error's message, the target, the staging folder and the site.
    fn refused_after_each_replacement(
        swap: impl Fn(&Target, &Path) -> Result<(), ExportError>,
        when: &str,
        then: impl Fn(&str, &str, &Target, &Path, &Path),
    ) {
        for (case, replace, why) in REPLACEMENTS {
            let dir = tempfile::tempdir().unwrap();
            let site = dir.path().join("site");
            let (target, staging) = staged_over_an_earlier_export(&site);
            replace(&site, dir.path());
            let before = describe(&site);

            let e = swap(&target, &staging).unwrap_err();
            assert_eq!(e.exit(), Exit::Usage, "{case}: exit 2, as the first check");
            assert!(e.to_string().contains(why), "{case}: {e}");
            assert!(e.to_string().contains(when), "{case}: {e}");
            assert_eq!(
                describe(&site),
                before,
                "{case}: left as it was, or put back"
            );
            then(case, &e.to_string(), &target, &staging, &site);
        }
    }

    #[test]
    fn a_target_replaced_before_the_swap_is_refused_and_left_as_it_is() {
        refused_after_each_replacement(
            Target::put_in_place,
            "after the export began",
            |case, error, _, staging, site| {
                assert!(error.contains("--out"), "{case}: {error}");
                assert!(!staging.exists(), "{case}: the staging folder is removed");
                if let Ok(theirs) = fs::read_link(site) {
                    assert_eq!(describe(&theirs), "notes.txt=keep me", "{case}");
                }
            },
        );
    }

    #[test]
    fn a_target_replaced_after_the_second_check_is_put_back_whole() {
        // The swap itself (past the second check) finds what it moved out of the way is not
        // an export: it puts it back and removes nothing.
        refused_after_each_replacement(
            Target::replace_with,
            "during the swap",
            |case, _, target, staging, _| {
                assert_eq!(
                    fs::read_to_string(staging.join("topics/new.rss")).unwrap(),
                    "new",
                    "{case}: the new export is back in the staging folder"
                );
                assert!(!target.old.exists(), "{case}");
            },
        );
    }

    #[test]
    fn every_file_and_folder_of_the_site_is_written_to_disk() {
        let dir = tempfile::tempdir().unwrap();
        let tree = dir.path().join("tree");
        fs::create_dir_all(tree.join("topics/agents")).unwrap();
        fs::create_dir(tree.join("empty")).unwrap();
        for file in ["feed.rss", "topics/agents.rss", "topics/agents/digest.rss"] {
            fs::write(tree.join(file), file).unwrap();
        }
        sync_tree(&tree).unwrap();

        // What cannot be opened is an error naming it, never skipped: a symbolic link (not
        // followed) and a socket, deep in the tree.
        std::os::unix::fs::symlink(tree.join("feed.rss"), tree.join("topics/link")).unwrap();
        let e = sync_tree(&tree).unwrap_err();
        assert!(e.to_string().contains("topics/link"), "{e}");
        fs::remove_file(tree.join("topics/link")).unwrap();
        let socket = tree.join("topics/agents/socket");
        let _listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
        let e = sync_tree(&tree).unwrap_err();
        assert!(e.to_string().contains("topics/agents/socket"), "{e}");
        let e = sync_tree(&dir.path().join("missing")).unwrap_err();
        assert!(e.to_string().contains("missing"), "{e}");
    }

    #[test]
    fn a_site_that_cannot_be_written_to_disk_is_not_put_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let site = dir.path().join("site");
        let (target, staging) = staged_over_an_earlier_export(&site);
        let before = describe(&site);
        let _listener = std::os::unix::net::UnixListener::bind(staging.join("socket")).unwrap();

        let e = target.put_in_place(&staging).unwrap_err();
        assert_eq!(e.exit(), Exit::Failed);
        assert!(e.to_string().contains("to disk"), "{e}");
        assert_eq!(describe(&site), before, "the earlier export is whole");
        assert!(!staging.exists(), "the staging folder is removed");
    }

    #[test]
    fn gz_copies_hold_the_same_bytes() {
        use std::io::Read;
        let body = b"<feed>some text, some text, some text</feed>".repeat(20);
        let mut back = Vec::new();
        flate2::read::GzDecoder::new(&gzip(&body).unwrap()[..])
            .read_to_end(&mut back)
            .unwrap();
        assert_eq!(back, body);
    }
}
