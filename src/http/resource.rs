//! A route's resource: what every path of paperboy answers to a method it does not serve.

use actix_web::{FromRequest, Handler, Resource, Responder, web};

use crate::http::problem::Problem;

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
