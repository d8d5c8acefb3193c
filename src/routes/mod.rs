//! The HTTP routes. Each module registers its own paths with `config`.

use actix_web::{HttpRequest, web};

use crate::http::problem::Problem;

pub mod feeds;
pub mod icons;
pub mod operations;
pub mod pages;
pub mod rsshub;
pub mod websub;

/// Registers every route.
pub fn config(cfg: &mut web::ServiceConfig) {
    feeds::config(cfg);
    icons::config(cfg);
    pages::config(cfg);
    rsshub::config(cfg);
    operations::config(cfg);
    websub::config(cfg);
}

/// The answer for any path no route knows.
pub async fn not_found(req: HttpRequest) -> Problem {
    let path: String = crate::common::text::clean_inline(req.path())
        .chars()
        .take(100)
        .collect();
    Problem::not_found(format!(
        "There is nothing at {path}; feeds are at /feed.rss, /feed.atom and /feed.json, and the home page / lists the topics."
    ))
}
