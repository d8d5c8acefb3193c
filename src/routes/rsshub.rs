//! RSSHub-compatible URLs (section 11 of the contract): `/huggingface/daily-papers`,
//! `/huggingface/daily-papers/{cycle}` and `/huggingface/daily-papers/{cycle}/{votes}`, so that
//! a subscription to an RSSHub instance's Hugging Face route moves over by changing the host.
//!
//! The path becomes a [`FeedQuery`] (its days, `min_upvotes`, sorted by upvotes) that the
//! request's parameters narrow; RSSHub's `format`, `limit` and `filter*` parameters are parsed
//! with the rest ([`QueryKind::RssHub`]). From there it is the request path of every feed.
//!
//! [`QueryKind::RssHub`]: crate::query::params::QueryKind::RssHub

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::NaiveDate;

use crate::http::problem::Problem;
use crate::query::params::{FeedQuery, Sort};
use crate::query::period::{Period, Unit};
use crate::routes::feeds::{FeedRoute, Scope, serve_feed};
use crate::routes::get_or_head;
use crate::state::AppState;
use crate::text::clean_inline;

/// How far back `cycle=date` looks for a daily list with papers (weekends, holidays).
const LOOK_BACK_DAYS: u32 = 7;

/// Which days an RSSHub path selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cycle {
    /// The newest daily list that has papers, as on huggingface.co/papers.
    Date,
    /// The current ISO week.
    Week,
    /// The current month.
    Month,
}

impl Cycle {
    fn from_name(name: &str) -> Option<Cycle> {
        match name {
            "date" => Some(Cycle::Date),
            "week" => Some(Cycle::Week),
            "month" => Some(Cycle::Month),
            _ => None,
        }
    }
}

pub fn config(cfg: &mut web::ServiceConfig) {
    for path in [
        "/huggingface/daily-papers",
        "/huggingface/daily-papers/{cycle}",
        "/huggingface/daily-papers/{cycle}/{votes}",
    ] {
        cfg.service(
            web::resource(path)
                .route(web::route().guard(get_or_head()).to(
                    |req: HttpRequest, state: web::Data<AppState>| async move {
                        daily_papers(&req, &state).await
                    },
                ))
                .default_service(web::to(|| async {
                    Problem::method_not_allowed("GET, HEAD")
                })),
        );
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

/// What the path selects: the cycle's days, at least `votes` upvotes, most upvoted first.
pub async fn path_query(
    state: &AppState,
    cycle: Cycle,
    votes: Option<u64>,
    today: NaiveDate,
) -> FeedQuery {
    let mut query = FeedQuery {
        min_upvotes: votes,
        sort: Some(Sort::Upvotes),
        ..FeedQuery::default()
    };
    match cycle {
        Cycle::Date => {
            query.date = Some(newest_with_papers(state, today).await);
            query.days = Some(1);
        }
        Cycle::Week => query.span = Some(Period::containing(Unit::Week, today)),
        Cycle::Month => query.span = Some(Period::containing(Unit::Month, today)),
    }
    query
}

/// The newest day, up to a week back, whose daily list has papers; today when none has (or
/// none could be loaded: the feed then answers as for any missing day).
async fn newest_with_papers(state: &AppState, today: NaiveDate) -> NaiveDate {
    let window = state.store.window(today, LOOK_BACK_DAYS).await;
    window
        .lists
        .iter()
        .filter(|list| !list.papers.is_empty())
        .map(|list| list.date)
        .max()
        .unwrap_or(today)
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

    #[test]
    fn cycles_are_named() {
        assert_eq!(Cycle::from_name("date"), Some(Cycle::Date));
        assert_eq!(Cycle::from_name("week"), Some(Cycle::Week));
        assert_eq!(Cycle::from_name("month"), Some(Cycle::Month));
        assert_eq!(Cycle::from_name("day"), None);
    }
}
