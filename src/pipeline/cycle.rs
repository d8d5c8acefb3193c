//! The days an RSSHub path names (`/huggingface/daily-papers/{cycle}[/{votes}]`), as a
//! [`FeedQuery`]: what the feed pipeline reads for [`super::feed_route::Scope::RssHub`].

use chrono::NaiveDate;

use crate::app::state::AppState;
use crate::query::params::{FeedQuery, Sort};
use crate::query::period::{Period, Unit};

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
    pub fn from_name(name: &str) -> Option<Cycle> {
        match name {
            "date" => Some(Cycle::Date),
            "week" => Some(Cycle::Week),
            "month" => Some(Cycle::Month),
            _ => None,
        }
    }
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
    fn cycles_are_named() {
        assert_eq!(Cycle::from_name("date"), Some(Cycle::Date));
        assert_eq!(Cycle::from_name("week"), Some(Cycle::Week));
        assert_eq!(Cycle::from_name("month"), Some(Cycle::Month));
        assert_eq!(Cycle::from_name("day"), None);
    }
}
