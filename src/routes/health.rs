//! `/healthz`: the process is up. It never calls upstream.

use actix_web::{HttpResponse, web};

use crate::http::problem::Problem;
use crate::routes::get_or_head;

pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/healthz")
            .route(web::route().guard(get_or_head()).to(healthz))
            .default_service(web::to(|| async {
                Problem::method_not_allowed("GET, HEAD")
            })),
    );
}

async fn healthz() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .insert_header(("Cache-Control", "no-store"))
        .body("ok")
}
