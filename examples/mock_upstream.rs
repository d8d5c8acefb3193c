//! A stand-in for the Hugging Face daily-papers API, serving a folder of `YYYY-MM-DD.json`
//! files the way the real API pages them: `GET /api/daily_papers?date=D&limit=L&p=P` answers
//! the slice `[P*L, P*L+L)` of `D.json`, or `[]` past the end or for a date with no file.
//!
//! For trying paperboy without network access, and for benchmarks:
//!
//! ```text
//! cargo run --example mock_upstream -- tests/fixtures/hf-api/daily_papers 127.0.0.1:9999
//! PAPERBOY_UPSTREAM__BASE_URL=http://127.0.0.1:9999 cargo run --release
//! ```
//!
//! Files are read at start-up; every request is logged to stdout as `<unix ms> date p`, so a
//! caller can count upstream requests and tell when one came.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use serde_json::value::RawValue;

type Days = Arc<HashMap<String, Vec<Box<RawValue>>>>;

fn load(dir: &PathBuf) -> anyhow::Result<HashMap<String, Vec<Box<RawValue>>>> {
    let mut days = HashMap::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "json") {
            let Some(date) = path.file_stem().map(|s| s.to_string_lossy().into_owned()) else {
                continue;
            };
            let items: Vec<Box<RawValue>> = serde_json::from_str(&std::fs::read_to_string(&path)?)?;
            days.insert(date, items);
        }
    }
    Ok(days)
}

async fn daily_papers(req: HttpRequest, days: web::Data<Days>) -> HttpResponse {
    let params: HashMap<String, String> = form_urlencoded::parse(req.query_string().as_bytes())
        .into_owned()
        .collect();
    let date = params.get("date").cloned().unwrap_or_default();
    let limit: usize = params
        .get("limit")
        .and_then(|l| l.parse().ok())
        .unwrap_or(50)
        .clamp(1, 100);
    let page: usize = params.get("p").and_then(|p| p.parse().ok()).unwrap_or(0);
    let unix_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    println!("{unix_ms} {date} {page}");
    let slice: Vec<&RawValue> = days
        .get(&date)
        .map(|items| {
            items
                .iter()
                .skip(page * limit)
                .take(limit)
                .map(|b| b.as_ref())
                .collect()
        })
        .unwrap_or_default();
    match serde_json::to_string(&slice) {
        Ok(body) => HttpResponse::Ok()
            .content_type("application/json")
            .body(body),
        Err(e) => HttpResponse::InternalServerError().body(e.to_string()),
    }
}

#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(
        args.next()
            .unwrap_or_else(|| "tests/fixtures/hf-api/daily_papers".into()),
    );
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:9999".into());
    let days: Days = Arc::new(load(&dir)?);
    eprintln!(
        "mock upstream: {} days from {} on http://{addr}",
        days.len(),
        dir.display()
    );
    let data = web::Data::new(days);
    HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .route("/api/daily_papers", web::get().to(daily_papers))
    })
    .workers(2)
    .bind(&addr)?
    .run()
    .await?;
    Ok(())
}
