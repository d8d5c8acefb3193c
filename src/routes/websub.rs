//! `POST /websub`: the hub's subscription requests (contract section 16). The form is read
//! (at most [`MAX_FORM`] bytes) and checked here and by the hub; a valid request is a 202 at
//! once, its intent verified with the callback afterwards. Without `websub.enabled` the route
//! is not there (404), and the hub is not built.

use actix_web::{HttpRequest, HttpResponse, web};
use futures_util::StreamExt;

use crate::app::state::AppState;
use crate::http::problem::Problem;
use crate::pipeline::run_backstage;
use crate::websub::{Hub, check_topic, form};

/// The largest form read: a topic of up to 66 KiB, percent-encoded, and a callback.
pub const MAX_FORM: usize = 256 * 1024;

pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/websub")
            .route(web::post().to(subscribe))
            .default_service(web::to(|req: HttpRequest| async move {
                match req.app_data::<web::Data<Hub>>() {
                    Some(_) => Problem::method_not_allowed("POST"),
                    None => crate::routes::not_found(req).await,
                }
            })),
    );
}

async fn subscribe(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, Problem> {
    let Some(hub) = req.app_data::<web::Data<Hub>>().cloned() else {
        return Err(crate::routes::not_found(req).await);
    };
    let body = read_form(payload).await?;
    let request = form::parse(&body).map_err(|e| Problem::bad_parameter(e.field, e.detail))?;
    let base = state.bases.for_request(&req);
    let (topic, topic_base) = (request.topic.clone(), base.clone());
    run_backstage(&state, move |state| {
        Box::pin(async move { check_topic(&state, &topic, &topic_base).await })
    })
    .await?;
    hub.into_inner().take(&state, request, base).await?;
    Ok(HttpResponse::Accepted()
        .insert_header(("Cache-Control", "no-store"))
        .finish())
}

/// The body, at most [`MAX_FORM`] bytes.
async fn read_form(mut payload: web::Payload) -> Result<Vec<u8>, Problem> {
    let mut body = Vec::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| {
            Problem::bad_parameter(
                "body",
                "The request body could not be read; send the form again.",
            )
        })?;
        if body.len() + chunk.len() > MAX_FORM {
            return Err(Problem::payload_too_large(format!(
                "The form is larger than {} KiB; a subscription request is a topic, a callback and a few short fields.",
                MAX_FORM / 1024
            )));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}
