//! RSSHub-compatible URLs (section 11 of the contract): `/huggingface/daily-papers`,
//! `/huggingface/daily-papers/{cycle}` and `/huggingface/daily-papers/{cycle}/{votes}`, so that
//! a subscription to an RSSHub instance's Hugging Face route moves over by changing the host.
//!
//! The path becomes a [`FeedQuery`] (its days, `min_upvotes`, sorted by upvotes) that the
//! request's parameters narrow; RSSHub's `format`, `limit` and `filter*` parameters are parsed
//! with the rest ([`QueryKind::RssHub`]). From there it is the request path of every feed.
//!
//! [`FeedQuery`]: crate::query::params::FeedQuery
//! [`QueryKind::RssHub`]: crate::query::params::QueryKind::RssHub

use actix_web::{HttpRequest, HttpResponse, web};

use crate::app::state::AppState;
use crate::http::problem::Problem;
use crate::http::resource::get;
use crate::pipeline::{FeedRoute, serve_feed};

pub fn config(cfg: &mut web::ServiceConfig) {
    for path in [
        "/huggingface/daily-papers",
        "/huggingface/daily-papers/{cycle}",
        "/huggingface/daily-papers/{cycle}/{votes}",
    ] {
        cfg.service(get(
            path,
            |req: HttpRequest, state: web::Data<AppState>| async move {
                daily_papers(&req, &state).await
            },
        ));
    }
}

async fn daily_papers(
    req: &HttpRequest,
    state: &web::Data<AppState>,
) -> Result<HttpResponse, Problem> {
    let info = req.match_info();
    let route = FeedRoute::rsshub(info.get("cycle"), info.get("votes"))?;
    serve_feed(req, state, route).await
}
