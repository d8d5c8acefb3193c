//! The `[feeds]` settings: the limits and defaults of every feed query. A types module of its
//! own, so that `config` (which loads it), `topics` and `query` (which obey it) all depend on
//! it and not on each other.

use chrono::NaiveDate;
use serde::Deserialize;

/// The first day Hugging Face Daily Papers exist.
pub const DAILY_PAPERS_BEGAN: NaiveDate = match NaiveDate::from_ymd_opt(2023, 5, 1) {
    Some(date) => date,
    None => NaiveDate::MIN,
};

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct FeedSettings {
    /// Days a feed covers when `days` is not given.
    pub default_days: u32,
    /// The largest `days`.
    pub max_days: u32,
    /// Items a feed holds when `limit` is not given.
    pub default_limit: u32,
    /// The largest `limit`.
    pub max_limit: u32,
    /// No date before this is asked for, from a request or the command line: an earlier `date`
    /// is a 400, and a window reaching back past it stops there.
    pub earliest_date: NaiveDate,
}

impl Default for FeedSettings {
    fn default() -> Self {
        Self {
            default_days: 3,
            max_days: 30,
            default_limit: 50,
            max_limit: 200,
            earliest_date: DAILY_PAPERS_BEGAN,
        }
    }
}
