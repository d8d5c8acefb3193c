//! The HTTP routes. Each module registers its own paths with `config`.

use actix_web::{HttpRequest, web};

use crate::http::problem::Problem;

pub mod feeds;
pub mod health;
pub mod icons;
pub mod metrics;
pub mod pages;
pub mod rsshub;
pub mod topics;

/// Registers every route.
pub fn config(cfg: &mut web::ServiceConfig) {
    feeds::config(cfg);
    health::config(cfg);
    icons::config(cfg);
    topics::config(cfg);
    pages::config(cfg);
    rsshub::config(cfg);
    metrics::config(cfg);
}

/// The answer for any path no route knows.
pub async fn not_found(req: HttpRequest) -> Problem {
    let path: String = crate::text::clean_inline(req.path())
        .chars()
        .take(100)
        .collect();
    Problem::not_found(format!(
        "There is nothing at {path}; feeds are at /feed.rss, /feed.atom and /feed.json, and the home page / lists the topics."
    ))
}

/// A route guard for GET and HEAD.
pub fn get_or_head() -> impl actix_web::guard::Guard {
    actix_web::guard::Any(actix_web::guard::Get()).or(actix_web::guard::Head())
}
