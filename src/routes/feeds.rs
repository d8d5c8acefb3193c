//! The feed routes: `/feed.rss`, `/feed.atom`, `/feed.json`, `/feed?format=` and
//! `/digest.*`, each served by the pipeline ([`crate::pipeline::serve_feed`]).

use actix_web::{HttpRequest, web};

use crate::format::Format;
use crate::http::problem::Problem;
use crate::pipeline::{FeedRoute, serve_feed};
use crate::routes::get_or_head;
use crate::state::AppState;

pub fn config(cfg: &mut web::ServiceConfig) {
    for (path, format) in [
        ("/feed.rss", Some(Format::Rss)),
        ("/feed.atom", Some(Format::Atom)),
        ("/feed.json", Some(Format::Json)),
        ("/feed", None),
    ] {
        cfg.service(
            web::resource(path)
                .route(web::route().guard(get_or_head()).to(
                    move |req: HttpRequest, state: web::Data<AppState>| async move {
                        serve_feed(&req, &state, FeedRoute::papers(format, None)).await
                    },
                ))
                .default_service(web::to(|| async {
                    Problem::method_not_allowed("GET, HEAD")
                })),
        );
    }
    for format in Format::ALL {
        cfg.service(
            web::resource(format!("/digest.{}", format.name()))
                .route(web::route().guard(get_or_head()).to(
                    move |req: HttpRequest, state: web::Data<AppState>| async move {
                        serve_feed(&req, &state, FeedRoute::digest(format, None)).await
                    },
                ))
                .default_service(web::to(|| async {
                    Problem::method_not_allowed("GET, HEAD")
                })),
        );
    }
}
