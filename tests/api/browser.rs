//! A real browser against the running server: Debian's chromium, headless. The home page
//! must render (a screenshot that is not one flat colour) and `/preview` must show the
//! expected titles in the DOM chromium built.
//!
//! Without chromium the test is skipped with a message, except in CI (`CI` set), where it
//! fails: `.ci/run` installs chromium, so its absence there is a broken build.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use scraper::{Html, Selector};
use serde_json::Value;

use crate::helpers::*;

/// Chromium gets this long per run; a hung browser is killed, not waited for.
const BROWSER_TIMEOUT: Duration = Duration::from_secs(90);

/// `/usr/bin/chromium`, or `chromium` / `chromium-browser` on PATH.
fn find_chromium() -> Option<PathBuf> {
    let fixed = Path::new("/usr/bin/chromium");
    if fixed.is_file() {
        return Some(fixed.to_owned());
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| ["chromium", "chromium-browser"].map(|name| dir.join(name)))
        .find(|candidate| candidate.is_file())
}

/// The chromium to use, or `None` (after saying so) when the test must be skipped.
fn chromium_or_skip() -> Option<PathBuf> {
    match find_chromium() {
        Some(path) => Some(path),
        None if std::env::var_os("CI").is_some() => {
            panic!(
                "chromium is not installed, and CI must run the browser test (.ci/run installs it)"
            )
        }
        None => {
            eprintln!(
                "SKIPPED browser test: no chromium found (install Debian's `chromium` to run it)"
            );
            None
        }
    }
}

/// A fresh, empty folder of this test's own, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let unique = format!(
            "paperboy-{name}-{}-{}",
            std::process::id(),
            chrono::Utc::now().timestamp_nanos_opt().unwrap_or_default()
        );
        let dir = std::env::temp_dir().join(unique);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs headless chromium with `args` after the standard flags and an empty profile; returns
/// its stdout. Chromium runs in a process group of its own, so that on a timeout the whole
/// group (browser, renderer, GPU and zygote processes) is killed by its id.
async fn run_chromium(chromium: &Path, work: &TempDir, args: &[String]) -> String {
    let profile = work.0.join(format!("profile-{}", args.len()));
    std::fs::create_dir_all(&profile).unwrap();
    let mut command = tokio::process::Command::new(chromium);
    command
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true);
    let child = command.spawn().expect("chromium starts");
    let pid = child.id().expect("chromium has a pid");
    match tokio::time::timeout(BROWSER_TIMEOUT, child.wait_with_output()).await {
        Ok(output) => {
            let output = output.expect("chromium runs");
            assert!(
                output.status.success(),
                "chromium failed: {}\n{}",
                output.status,
                String::from_utf8_lossy(&output.stderr)
            );
            String::from_utf8_lossy(&output.stdout).into_owned()
        }
        Err(_) => {
            let _ = std::process::Command::new("kill")
                .args(["-KILL", "--", &format!("-{pid}")])
                .status();
            panic!("chromium did not finish within {BROWSER_TIMEOUT:?}; killed group {pid}");
        }
    }
}

/// Whether an RGB(A) PNG has more than one colour.
/// The DOM chromium builds for `url`, parsed.
async fn dom(chromium: &Path, work: &TempDir, url: String) -> Html {
    let dump = run_chromium(chromium, work, &["--dump-dom".to_owned(), url]).await;
    Html::parse_document(&dump)
}

/// The texts of the elements `css` selects, trimmed.
fn texts(doc: &Html, css: &str) -> Vec<String> {
    doc.select(&Selector::parse(css).unwrap())
        .map(|e| e.text().collect::<String>().trim().to_owned())
        .collect()
}

/// The item titles of the JSON feed at `path_and_query`.
async fn json_titles(app: &TestApp, path_and_query: &str) -> Vec<String> {
    let feed: Value = app.get(path_and_query).await.json().await.unwrap();
    feed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["title"].as_str().unwrap().to_owned())
        .collect()
}

fn png_has_several_colours(path: &Path) -> bool {
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(path).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut pixels).unwrap();
    let bytes_per_pixel = info.color_type.samples() * usize::from(info.bit_depth as u8).div_ceil(8);
    let pixels = &pixels[..info.buffer_size()];
    let first = &pixels[..bytes_per_pixel];
    assert!(info.width >= 800 && info.height >= 600, "{info:?}");
    pixels.chunks(bytes_per_pixel).any(|p| p != first)
}

#[tokio::test]
async fn a_real_browser_renders_the_home_page_and_the_preview() {
    let Some(chromium) = chromium_or_skip() else {
        return;
    };
    let app = spawn_app().await;
    let work = TempDir::new("browser");

    let shot = work.0.join("shot.png");
    run_chromium(
        &chromium,
        &work,
        &[
            format!("--screenshot={}", shot.display()),
            "--window-size=1024,768".to_owned(),
            format!("{}/", app.address),
        ],
    )
    .await;
    assert!(shot.is_file(), "chromium wrote no screenshot");
    assert!(
        png_has_several_colours(&shot),
        "the screenshot of / is one flat colour"
    );

    let query = "q=quantization&date=2026-08-14&days=12";
    let doc = dom(&chromium, &work, format!("{}/preview?{query}", app.address)).await;
    let expected = json_titles(&app, &format!("/feed.json?{query}")).await;
    assert!(!expected.is_empty());
    assert_eq!(
        texts(&doc, ".paper-title"),
        expected,
        "the titles chromium shows"
    );
}

#[tokio::test]
async fn a_real_browser_shows_the_new_form_fields_and_a_digest_preview() {
    let Some(chromium) = chromium_or_skip() else {
        return;
    };
    let app = spawn_app().await;
    let work = TempDir::new("browser-digest");

    // The form, as chromium builds it: week, month, digest period and count.
    let doc = dom(&chromium, &work, format!("{}/", app.address)).await;
    for (selector, what) in [
        (r#"input[name="week"][type="week"]"#, "a week field"),
        (r#"input[name="month"][type="month"]"#, "a month field"),
        (
            r#"select[name="period"] option[value="week"]"#,
            "a digest choice",
        ),
        (r#"input[name="count"]"#, "a digest count"),
        (r#"link[rel="icon"][href="/favicon.ico"]"#, "the favicon"),
        (r#".topics .links a.digest"#, "digest links on topic rows"),
    ] {
        assert!(
            doc.select(&Selector::parse(selector).unwrap())
                .next()
                .is_some(),
            "the home page has {what} ({selector})"
        );
    }
    let first_link = doc
        .select(&Selector::parse(".topics .links a").unwrap())
        .next()
        .unwrap();
    assert_eq!(first_link.text().collect::<String>(), "Atom", "Atom first");

    // The form submitted as a browser sends it: every field, most of them empty.
    let query = "q=&author=&org=&min_upvotes=&min_comments=&has_code=&date=&days=&week=&month=\
                 &top=3&sort=&limit=&period=day&count=4";
    let doc = dom(&chromium, &work, format!("{}/preview?{query}", app.address)).await;
    let expected = json_titles(&app, "/digest.json?top=3&period=day&count=4").await;
    assert_eq!(
        expected.len(),
        4,
        "08-13, 08-12, 08-11 and 08-10 all hold papers"
    );
    assert_eq!(
        texts(&doc, ".period-title"),
        expected,
        "the periods chromium shows"
    );
    let summaries = doc.select(&Selector::parse(".summary").unwrap()).count();
    assert!(summaries > 0, "papers show their summary or abstract");
    let atom = doc
        .select(&Selector::parse("#url-atom").unwrap())
        .next()
        .and_then(|e| e.value().attr("value"))
        .unwrap()
        .to_owned();
    assert!(atom.contains("/digest.atom?"), "{atom}");
}

#[tokio::test]
async fn a_real_browser_opens_an_exported_index_and_its_links_lead_to_files() {
    let Some(chromium) = chromium_or_skip() else {
        return;
    };
    let work = TempDir::new("browser-export");
    let data = work.0.join("data").to_str().unwrap().to_owned();
    let app = spawn_app_with(|s| s.storage.data_dir = data.clone()).await;
    let site = work.0.join("site");
    export_site(&app.state, &site, None).await.unwrap();

    let index = url::Url::from_file_path(site.join("index.html")).unwrap();
    let doc = dom(&chromium, &work, index.to_string()).await;
    assert!(
        texts(&doc, ".topic-title").len() == app.state.topics.iter().len(),
        "every topic is listed"
    );
    assert!(
        doc.select(&Selector::parse("form").unwrap())
            .next()
            .is_none(),
        "no form"
    );
    // Every link and icon of the page, resolved as the browser resolves it from the file,
    // is a file of the export; only Hugging Face's own pages lie outside.
    let mut local = 0;
    for (css, attr) in [
        ("a[href]", "href"),
        ("link[href]", "href"),
        ("img[src]", "src"),
    ] {
        for element in doc.select(&Selector::parse(css).unwrap()) {
            let target = index.join(element.value().attr(attr).unwrap()).unwrap();
            if target.scheme() != "file" {
                assert_eq!(target.host_str(), Some("huggingface.co"), "{target}");
                continue;
            }
            let path = target.to_file_path().unwrap();
            let path = if path.is_dir() {
                path.join("index.html")
            } else {
                path
            };
            assert!(path.is_file(), "{css} {target} is not a file of the export");
            local += 1;
        }
    }
    let topics = app.state.topics.iter().len();
    assert!(local >= 4 * topics + 6, "{local} links to files");
    let first_link = doc
        .select(&Selector::parse(".topics .links a").unwrap())
        .next()
        .unwrap();
    assert_eq!(first_link.text().collect::<String>(), "Atom", "Atom first");
}
