//! `[websub]`: paperboy as the WebSub hub of its own feeds (contract section 16).

use std::time::Duration;

use serde::Deserialize;

/// The longest lease `websub.max_lease` may grant: a year.
const LONGEST_LEASE: Duration = Duration::from_secs(366 * 24 * 3600);

/// Which callbacks a subscription may name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Callbacks {
    /// Only callbacks whose host resolves to public addresses, checked again at every
    /// connection.
    Public,
    /// Any callback: for readers on the same network.
    Any,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct WebsubSettings {
    /// Advertise the hub and accept subscriptions.
    pub enabled: bool,
    pub callbacks: Callbacks,
    /// Subscriptions in all (pending verifications included); a tenth of it per callback
    /// host.
    pub max_subscriptions: usize,
    /// The longest lease granted, and the lease of a request that asks for none.
    #[serde(with = "humantime_serde")]
    pub max_lease: Duration,
}

impl Default for WebsubSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            callbacks: Callbacks::Public,
            max_subscriptions: 10_000,
            max_lease: Duration::from_secs(10 * 24 * 3600),
        }
    }
}

impl WebsubSettings {
    /// The values within their bounds; the error names the setting and what is wrong.
    pub fn check(&self) -> Result<(), (&'static str, String)> {
        if !(1..=1_000_000).contains(&self.max_subscriptions) {
            return Err((
                "websub.max_subscriptions",
                "must be between 1 and 1000000".into(),
            ));
        }
        if !(Duration::from_secs(60)..=LONGEST_LEASE).contains(&self.max_lease) {
            return Err((
                "websub.max_lease",
                "must be between 1m and 366d (e.g. 10d)".into(),
            ));
        }
        Ok(())
    }

    /// Subscriptions one callback host may hold: a tenth of the whole, at least one.
    pub fn per_host(&self) -> usize {
        (self.max_subscriptions / 10).max(1)
    }
}
