//! The HTTP routes. Each module registers its own paths with `config`.

use actix_web::{FromRequest, Handler, HttpRequest, Resource, Responder, web};

use crate::http::problem::Problem;

pub mod feeds;
pub mod icons;
pub mod operations;
pub mod pages;
pub mod rsshub;

/// Registers every route.
pub fn config(cfg: &mut web::ServiceConfig) {
    feeds::config(cfg);
    icons::config(cfg);
    pages::config(cfg);
    rsshub::config(cfg);
    operations::config(cfg);
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

/// The resource at `path`: GET and HEAD answered by `handler`, any other method a 405.
pub fn get<F, Args>(path: &str, handler: F) -> Resource
where
    F: Handler<Args>,
    Args: FromRequest + 'static,
    F::Output: Responder + 'static,
{
    let get_or_head = actix_web::guard::Any(actix_web::guard::Get()).or(actix_web::guard::Head());
    web::resource(path)
        .route(web::route().guard(get_or_head).to(handler))
        .default_service(web::to(|| async {
            Problem::method_not_allowed("GET, HEAD")
        }))
}
