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
use crate::common::text::clean_inline;
use crate::http::problem::Problem;
use crate::http::resource::get;
use crate::pipeline::{Cycle, FeedRoute, Scope, serve_feed};

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
    let cycle = match req.match_info().get("cycle") {
        None => Cycle::Date,
        Some(name) => Cycle::from_name(name).ok_or_else(|| {
            let shown: String = clean_inline(name).chars().take(40).collect();
            Problem::bad_parameter(
                "cycle",
                format!(
                    "The cycle {shown:?} is not known; use /huggingface/daily-papers/date, /week or /month."
                ),
            )
        })?,
    };
    let votes = match req.match_info().get("votes") {
        None => None,
        Some(votes) => Some(parse_votes(votes)?),
    };
    let route = FeedRoute {
        scope: Scope::RssHub { cycle, votes },
        format: None,
        topic: None,
    };
    serve_feed(req, state, route).await
}

fn parse_votes(votes: &str) -> Result<u64, Problem> {
    let parsed = (votes.len() <= 12 && votes.bytes().all(|b| b.is_ascii_digit()))
        .then(|| votes.parse::<u64>().ok())
        .flatten();
    parsed.ok_or_else(|| {
        let shown: String = clean_inline(votes).chars().take(40).collect();
        Problem::bad_parameter(
            "votes",
            format!(
                "The minimum of upvotes in the path must be a whole number of 0 or more, not {shown:?}."
            ),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn votes_are_whole_numbers() {
        assert_eq!(parse_votes("0").unwrap(), 0);
        assert_eq!(parse_votes("25").unwrap(), 25);
        for bad in ["-1", "1.5", "ten", "", "9999999999999"] {
            let problem = parse_votes(bad).unwrap_err();
            assert_eq!(problem.parameter.as_deref(), Some("votes"), "{bad}");
        }
    }
}
