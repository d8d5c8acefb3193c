//! Contract section 6, media: what a real feed parser sees of the thumbnails and the PDFs.
//! feedparser (Debian's `python3-feedparser`, the parser behind many readers and services)
//! reads every feed without a complaint (`bozo` false), finds each item's `media:thumbnail`
//! in RSS and Atom and the PDF enclosure in Atom.
//!
//! `.ci/run` installs python3-feedparser. Without it, the test fails when `CI` is set and is
//! skipped, with a message, otherwise.

use std::process::Command;

use serde_json::Value;

use crate::helpers::*;
use crate::support::{installed, missing};

const PYTHON: &str = "/usr/bin/python3";

/// What feedparser makes of the feed in `path`: its `bozo` flag, and per entry the thumbnail
/// URLs and the enclosures (href, type).
const READ: &str = r#"
import json, sys
import feedparser
feed = feedparser.parse(sys.argv[1])
print(json.dumps({
    "bozo": bool(feed.bozo),
    "problem": str(feed.get("bozo_exception", "")),
    "entries": [{
        "thumbnails": [t.get("url") for t in e.get("media_thumbnail", [])],
        "enclosures": [[l.get("href"), l.get("type")] for l in e.get("links", []) if l.get("rel") == "enclosure"],
        "id": e.get("id"),
    } for e in feed.entries],
}))
"#;

fn feedparser_available() -> bool {
    if !installed(PYTHON, "python3", "the feedparser test") {
        return false;
    }
    let import = Command::new(PYTHON)
        .args(["-c", "import feedparser"])
        .status()
        .unwrap();
    import.success() || missing("feedparser", "python3-feedparser", "the feedparser test")
}

#[tokio::test]
async fn feedparser_reads_the_thumbnails_and_the_pdf_enclosures() {
    if !feedparser_available() {
        return;
    }
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    // The papers, and those with a thumbnail, as the JSON Feed lists them.
    let json = app.json(&format!("/feed.json?{ALL_DAYS}")).await;
    let items = json["items"].as_array().unwrap();
    let thumbnailed = items.iter().filter(|i| i["image"].is_string()).count();
    assert!(thumbnailed > 100, "{thumbnailed}");
    for (ext, enclosures) in [("rss", false), ("atom", true)] {
        let (_, body) = app.get_ok(&format!("/feed.{ext}?{ALL_DAYS}")).await;
        let path = dir.path().join(format!("feed.{ext}"));
        std::fs::write(&path, &body).unwrap();
        let output = Command::new(PYTHON)
            .args(["-c", READ, path.to_str().unwrap()])
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let read: Value = serde_json::from_slice(&output.stdout).unwrap();
        assert_eq!(read["bozo"], false, "{ext}: {}", read["problem"]);
        let entries = read["entries"].as_array().unwrap();
        assert_eq!(entries.len(), items.len(), "{ext}: every paper");
        let with_thumbnail = entries
            .iter()
            .filter(|e| e["thumbnails"].as_array().unwrap().len() == 1)
            .count();
        assert_eq!(
            with_thumbnail, thumbnailed,
            "{ext}: the papers with a thumbnail"
        );
        for entry in entries {
            let id = entry["id"].as_str().unwrap();
            let arxiv = id.rsplit('/').next().unwrap();
            let expected = if enclosures {
                serde_json::json!([[format!("https://arxiv.org/pdf/{arxiv}"), "application/pdf"]])
            } else {
                serde_json::json!([])
            };
            assert_eq!(entry["enclosures"], expected, "{ext} {id}");
        }
    }
}
