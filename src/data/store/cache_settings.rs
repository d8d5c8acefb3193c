//! The `[cache]` settings: how long a list stays fresh, by its age, and the memory budget.

use std::time::Duration;

use serde::Deserialize;

/// The `[cache]` settings: how long lists stay fresh, and the memory budget.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct CacheSettings {
    /// Freshness of today's and yesterday's lists.
    #[serde(with = "humantime_serde")]
    pub recent_ttl: Duration,
    /// Freshness of lists up to 7 days old.
    #[serde(with = "humantime_serde")]
    pub week_ttl: Duration,
    /// Freshness of older lists.
    #[serde(with = "humantime_serde")]
    pub old_ttl: Duration,
    /// Gone: read only to refuse it at start-up, naming `cache.max_memory`.
    #[serde(skip_serializing)]
    pub max_papers: Option<serde::de::IgnoredAny>,
    /// Bytes kept in memory besides the recent lists: older lists, rendered feeds in every
    /// encoding, the fast path's URLs, digests' rankings (`32MiB`, `512KiB`).
    pub max_memory: bytesize::ByteSize,
}

impl Default for CacheSettings {
    fn default() -> Self {
        Self {
            recent_ttl: Duration::from_secs(600),
            week_ttl: Duration::from_secs(3600),
            old_ttl: Duration::from_secs(86_400),
            max_papers: None,
            max_memory: bytesize::ByteSize::mib(32),
        }
    }
}

impl CacheSettings {
    /// How long a list `age_days` old (0: today's) stays fresh.
    pub fn ttl(&self, age_days: i64) -> Duration {
        if age_days <= 1 {
            self.recent_ttl
        } else if age_days <= 7 {
            self.week_ttl
        } else {
            self.old_ttl
        }
    }
}
