//! Micro-benchmarks of the request path's pure work: query parsing, selection over 90 days of
//! about 30 papers (2,700 papers) with a complex expression, and rendering 200 items in each
//! format. Run with `cargo bench`; see BENCHMARKS.md.

use std::hint::black_box;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use chrono::{NaiveDate, TimeZone, Utc};
use criterion::{Criterion, criterion_group, criterion_main};
use paperboy::common::format::Format;
use paperboy::common::stitch::{GzipAssembler, Precompressed};
use paperboy::data::daily_list::DailyList;
use paperboy::data::paper::Paper;
use paperboy::data::paper::raw::RawItem;
use paperboy::query::limits::FeedSettings;
use paperboy::query::params::{FeedQuery, ParseContext};
use paperboy::query::select::{Scan, Windows, select, select_with};
use paperboy::render::{self, FeedMeta, parts};
use serde_json::Value;

const DAYS: i64 = 90;
const PER_DAY: usize = 30;
const COMPLEX_QUERY: &str = "q=diffusion+OR+transformer+OR+%22language+model%22+-survey+\
    title:model+OR+abstract:efficient&min_upvotes=1&author=wang&author=li&days=30&sort=upvotes&limit=200";

/// 90 daily lists of 30 papers, recombined from the test fixtures with fresh ids.
fn lists() -> Vec<Arc<DailyList>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/hf-api/daily_papers");
    let mut pool: Vec<Value> = Vec::new();
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    for path in files {
        let items: Vec<Value> =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        pool.extend(items.into_iter().filter(|i| i["paper"].is_object()));
    }
    let end = NaiveDate::from_ymd_opt(2026, 8, 14).unwrap();
    let mut serial = 0usize;
    (0..DAYS)
        .map(|back| {
            let date = end - chrono::Duration::days(back);
            let papers: Vec<Paper> = (0..PER_DAY)
                .map(|i| {
                    serial += 1;
                    let mut item = pool[(serial * 7 + i) % pool.len()].clone();
                    item["paper"]["id"] = Value::from(format!("2608.{serial:05}"));
                    item["paper"]["upvotes"] = Value::from((serial * 37) % 120);
                    let raw: RawItem = serde_json::from_value(item).unwrap();
                    Paper::from_raw(&raw, date).unwrap()
                })
                .collect();
            let at = Utc.from_utc_datetime(&date.and_hms_opt(12, 0, 0).unwrap());
            Arc::new(DailyList::new(date, papers, at, at, serial as u64))
        })
        .collect()
}

fn benches(c: &mut Criterion) {
    let feeds = FeedSettings {
        max_days: 90,
        ..FeedSettings::default()
    };
    let ctx = ParseContext {
        today: NaiveDate::from_ymd_opt(2026, 8, 14).unwrap(),
        feeds: &feeds,
        allow_format: false,
        kind: paperboy::query::params::QueryKind::Feed,
    };
    c.bench_function("parse complex query", |b| {
        b.iter(|| FeedQuery::parse(black_box(COMPLEX_QUERY), &ctx).unwrap())
    });

    let lists = lists();
    // As serving keeps them: the window's "listed on a newer day" flags are worked out once.
    let windows = Windows::new(1 << 20);
    let query = FeedQuery::parse(COMPLEX_QUERY, &ctx).unwrap();
    let all = FeedQuery::parse("limit=200&days=90", &ctx).unwrap();
    assert!(
        !select(&windows, &query, &lists, 200).is_empty(),
        "the complex query selects something"
    );
    // With the word index (what serving does) and matching every paper whole (the reference
    // the index must agree with), for the complex query and for a query like the miss
    // scenario's (two common words and a negation that never matches).
    let miss_query =
        FeedQuery::parse("q=model%20OR%20learning%20-x123&limit=200&days=90", &ctx).unwrap();
    for (name, query) in [("complex query", &query), ("miss query", &miss_query)] {
        let mut group = c.benchmark_group(format!("select 2700 papers, {name}"));
        for (scan_name, scan) in [("index", Scan::Index), ("every paper", Scan::Every)] {
            group.bench_function(scan_name, |b| {
                b.iter(|| select_with(&windows, black_box(query), &lists, 200, scan).len())
            });
        }
        group.finish();
    }

    let papers = select(&windows, &all, &lists, 200);
    assert_eq!(papers.len(), 200);
    let meta = FeedMeta {
        title: "Hugging Face Daily Papers — q: bench".into(),
        self_url: "http://127.0.0.1:8080/feed.rss?limit=200&days=90".into(),
        updated: Utc.with_ymd_and_hms(2026, 8, 14, 12, 0, 0).unwrap(),
        max_age: Duration::from_secs(600),
        public_url: "http://127.0.0.1:8080".into(),
        hub: Some("http://127.0.0.1:8080/websub".into()),
    };
    let mut group = c.benchmark_group("render 200 items");
    for format in Format::ALL {
        group.bench_function(format.name(), |b| {
            b.iter(|| {
                render::render(format, &meta, black_box(&papers))
                    .unwrap()
                    .len()
            })
        });
    }
    group.finish();

    // What a miss pays after rendering: compressing a 50-item feed.
    let body = render::render(Format::Atom, &meta, &papers[..50]).unwrap();
    let mut group = c.benchmark_group("gzip a 50-item atom feed");
    for level in [1, 6] {
        group.bench_function(format!("level {level}"), |b| {
            b.iter(|| {
                use std::io::Write;
                let level = flate2::Compression::new(level);
                let mut encoder = flate2::write::GzEncoder::new(Vec::new(), level);
                encoder.write_all(black_box(&body)).unwrap();
                encoder.finish().unwrap().len()
            })
        });
    }
    group.finish();

    // The same feed stitched: its entries compressed once beforehand (as at ingest), the head
    // and tail compressed per request, the CRC-32s combined.
    let text = std::str::from_utf8(&body).unwrap();
    let first = text.find("<entry>").unwrap();
    let end = text.rfind("</entry>").unwrap() + "</entry>".len();
    let (head, tail) = (&body[..first], &body[end..]);
    let level = flate2::Compression::new(6);
    let entries: Vec<Precompressed> = text[first..end]
        .split_inclusive("</entry>")
        .map(|entry| Precompressed::new(entry.as_bytes(), level).unwrap())
        .collect();
    let stitch = || {
        let mut gzip = GzipAssembler::new(body.len() / 3, level);
        gzip.raw(head).unwrap();
        for entry in &entries {
            gzip.precompressed(entry);
        }
        gzip.raw(tail).unwrap();
        gzip.finish()
    };
    let whole = {
        use std::io::Write;
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), level);
        encoder.write_all(&body).unwrap();
        encoder.finish().unwrap()
    };
    let stitched = stitch();
    eprintln!(
        "50-item atom feed: {} bytes; gzip 6 whole {} bytes, stitched from {} entries {} bytes (+{:.1} %)",
        body.len(),
        whole.len(),
        entries.len(),
        stitched.len(),
        (stitched.len() as f64 / whole.len() as f64 - 1.0) * 100.0
    );
    c.bench_function(
        "gzip a 50-item atom feed stitched from precompressed entries",
        |b| b.iter(|| black_box(stitch()).len()),
    );

    // A feed assembled from its head, 50 item fragments rendered beforehand, and its tail,
    // against rendering it through the writer.
    let frame = parts::Frame::new(Format::Atom, &meta).unwrap();
    let fragments: Vec<Vec<u8>> = papers[..50]
        .iter()
        .map(|p| parts::fragment(Format::Atom, &meta, p).unwrap())
        .collect();
    let items: Vec<&[u8]> = fragments.iter().map(Vec::as_slice).collect();
    assert_eq!(parts::assemble(&frame, &items), body, "the same bytes");
    let mut group = c.benchmark_group("a 50-item atom feed");
    group.bench_function("rendered by the writer", |b| {
        b.iter(|| {
            render::render(Format::Atom, &meta, black_box(&papers[..50]))
                .unwrap()
                .len()
        })
    });
    group.bench_function("assembled from fragments", |b| {
        b.iter(|| parts::assemble(&frame, black_box(&items)).len())
    });
    group.finish();
}

criterion_group! {
    name = core;
    config = Criterion::default().measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_secs(1));
    targets = benches
}
criterion_main!(core);
