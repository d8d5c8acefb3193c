//! A serde mirror of one item of `GET /api/daily_papers` (what the upstream sends and the data
//! directory stores), below the paper made from it: only the fields paperboy uses,
//! every optional one tolerant of absence (older items lack most of them). Unknown fields
//! are ignored.

use chrono::{DateTime, Utc};
use serde::Deserialize;

/// One element of the daily-papers array.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RawItem {
    pub paper: RawPaper,
    /// The outer, clean copy of the title.
    #[serde(default)]
    pub title: Option<String>,
    /// The outer, clean copy of the abstract (absent in 2024-shape data).
    #[serde(default)]
    pub summary: Option<String>,
    #[serde(default)]
    pub thumbnail: Option<String>,
    #[serde(default)]
    pub num_comments: Option<u64>,
    #[serde(default)]
    pub organization: Option<RawOrganization>,
}

/// The `paper` object of an item.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RawPaper {
    pub id: String,
    #[serde(default)]
    pub authors: Vec<RawAuthor>,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub summary: Option<String>,
    #[serde(default)]
    pub upvotes: Option<u64>,
    #[serde(default)]
    pub published_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub submitted_on_daily_at: Option<DateTime<Utc>>,
    #[serde(default, rename = "ai_summary")]
    pub ai_summary: Option<String>,
    #[serde(default, rename = "ai_keywords")]
    pub ai_keywords: Option<Vec<String>>,
    #[serde(default)]
    pub github_repo: Option<String>,
    #[serde(default)]
    pub github_stars: Option<u64>,
    #[serde(default)]
    pub project_page: Option<String>,
    #[serde(default)]
    pub organization: Option<RawOrganization>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct RawAuthor {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub hidden: Option<bool>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct RawOrganization {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub fullname: Option<String>,
}
