//! The Hugging Face API: the page reader (`items`), the request budget and the client. The raw model it
//! reads lives with the paper it becomes ([`crate::data::paper::raw`]).

pub mod budget;
pub mod client;
pub mod items;

use std::time::Duration;

use secrecy::SecretString;
use serde::Deserialize;
use url::{Host, Url};

/// The `[upstream]` settings: where Hugging Face is and how politely it is asked.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct UpstreamSettings {
    pub base_url: String,
    /// Optional Hugging Face token, sent as `Authorization: Bearer`. A secret: its `Debug`
    /// prints `[REDACTED]`, and it is read only where the header is built.
    pub token: SecretString,
    #[serde(with = "humantime_serde")]
    pub connect_timeout: Duration,
    /// The whole request, body included.
    #[serde(with = "humantime_serde")]
    pub timeout: Duration,
    /// Retries after the first try, for connection errors, timeouts and 5xx.
    pub retries: u32,
    /// Upstream requests in flight at most.
    pub max_concurrency: usize,
    /// Upstream requests in any 5 minutes at most (refreshes of today and yesterday always go).
    pub budget: u32,
    /// The largest page accepted, after decompression (`16MiB`).
    pub max_body: bytesize::ByteSize,
}

impl Default for UpstreamSettings {
    fn default() -> Self {
        Self {
            base_url: "https://huggingface.co".into(),
            token: SecretString::from(""),
            connect_timeout: Duration::from_secs(5),
            timeout: Duration::from_secs(20),
            retries: 2,
            max_concurrency: 4,
            budget: 120,
            max_body: bytesize::ByteSize::mib(16),
        }
    }
}

/// Whether a URL's host is this machine: `127.0.0.0/8`, `::1` or `localhost`.
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        Some(Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}
