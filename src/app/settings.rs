//! Settings: built-in defaults, then a TOML file, then `PAPERBOY_<SECTION>__<KEY>` environment
//! variables, then command-line flags; later wins. Loading ends in [`Settings::validate`], so
//! that every value past this module is known to be usable.

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use crate::data::cluster::ClusterSettings;
use crate::data::store::CacheSettings;
use crate::data::upstream::{UpstreamSettings, is_loopback};
use crate::query::limits::FeedSettings;

mod urls;
pub mod websub;

use crate::query::topics::{TopicError, TopicSettings, Topics, starter_topics};
use urls::{web_base_url, without_trailing_slash};
use websub::WebsubSettings;

/// The file looked up in the working directory when no `--config` is given.
pub const DEFAULT_CONFIG_FILE: &str = "config/default.toml";

/// Everything paperboy can be told.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct Settings {
    pub server: ServerSettings,
    pub upstream: UpstreamSettings,
    pub cache: CacheSettings,
    pub storage: StorageSettings,
    pub feeds: FeedSettings,
    pub log: LogSettings,
    /// `[cluster]`: the server shared with other instances (section 15).
    pub cluster: ClusterSettings,
    /// `[websub]`: the hub of the feeds (section 16).
    pub websub: WebsubSettings,
    /// `[[topics]]`: a file that lists any replaces the starter set whole.
    pub topics: Vec<TopicSettings>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            server: ServerSettings::default(),
            upstream: UpstreamSettings::default(),
            cache: CacheSettings::default(),
            storage: StorageSettings::default(),
            feeds: FeedSettings::default(),
            log: LogSettings::default(),
            cluster: ClusterSettings::default(),
            websub: WebsubSettings::default(),
            topics: starter_topics(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct ServerSettings {
    /// Address to listen on.
    pub bind: String,
    pub port: u16,
    /// Absolute base URL for self links; empty means `http://<bind>:<port>`.
    pub public_url: String,
    /// `Cache-Control: max-age` and RSS `ttl`.
    #[serde(with = "humantime_serde")]
    pub max_age: Duration,
    /// How long in-flight requests get on SIGTERM.
    #[serde(with = "humantime_serde")]
    pub shutdown_timeout: Duration,
    /// The longest query string accepted, in bytes; longer ones are a 414.
    pub max_query: usize,
    /// A client that has not sent its request head by then is dropped (slowloris).
    #[serde(with = "humantime_serde")]
    pub client_timeout: Duration,
    /// Feeds built (selected, rendered, compressed) at once, off the HTTP workers; 0 means
    /// twice the CPUs.
    pub max_builds: usize,
    /// Open connections at most, over all workers; more wait in the listen queue.
    pub max_connections: usize,
}

impl Default for ServerSettings {
    fn default() -> Self {
        Self {
            bind: "127.0.0.1".into(),
            port: 8080,
            public_url: String::new(),
            max_age: Duration::from_secs(600),
            shutdown_timeout: Duration::from_secs(5),
            max_query: 4096,
            client_timeout: Duration::from_secs(5),
            max_builds: 0,
            max_connections: 4096,
        }
    }
}

impl ServerSettings {
    /// `max_builds`, with 0 read as twice the CPUs.
    pub fn builds(&self) -> usize {
        if self.max_builds > 0 {
            return self.max_builds;
        }
        std::thread::available_parallelism().map_or(2, |n| n.get()) * 2
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct StorageSettings {
    /// Where fetched lists are kept; empty turns storage off.
    pub data_dir: String,
}

impl Default for StorageSettings {
    fn default() -> Self {
        Self {
            data_dir: "data".into(),
        }
    }
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(default)]
pub struct LogSettings {
    pub format: LogFormat,
}

#[derive(Debug, Clone, Copy, Deserialize, Default, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// Command-line overrides, applied last.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub config_file: Option<PathBuf>,
    pub bind: Option<String>,
    pub port: Option<u16>,
    pub upstream: Option<String>,
    pub data_dir: Option<String>,
    pub public_url: Option<String>,
}

/// A setting that cannot be used; its `Display` is the one line printed before exit code 2.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("the settings file {0} does not exist")]
    MissingFile(PathBuf),
    #[error("invalid settings: {0}")]
    Load(String),
    #[error("invalid setting {key}: {problem}")]
    Invalid { key: &'static str, problem: String },
    #[error("invalid setting {0}")]
    Topic(#[from] TopicError),
}

fn invalid(key: &'static str, problem: impl Into<String>) -> SettingsError {
    SettingsError::Invalid {
        key,
        problem: problem.into(),
    }
}

impl Settings {
    /// Loads the layers: defaults, the file, the given environment variables (pass
    /// `std::env::vars()` in production, a map in tests), then `overrides`.
    pub fn load(
        overrides: &Overrides,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Settings, SettingsError> {
        let mut builder = config::Config::builder();
        match &overrides.config_file {
            Some(path) if !path.is_file() => return Err(SettingsError::MissingFile(path.clone())),
            Some(path) => builder = builder.add_source(config::File::from(path.as_path())),
            None => {
                let path = Path::new(DEFAULT_CONFIG_FILE);
                builder = builder.add_source(config::File::from(path).required(false));
            }
        }
        let env: HashMap<String, String> = env
            .into_iter()
            .filter(|(k, _)| k.starts_with("PAPERBOY_"))
            .collect();
        builder = builder.add_source(
            config::Environment::with_prefix("PAPERBOY")
                .prefix_separator("_")
                .separator("__")
                .source(Some(env)),
        );
        let load = |e: config::ConfigError| SettingsError::Load(e.to_string());
        let set = |b: config::ConfigBuilder<_>, key: &str, value: Option<String>| match value {
            Some(v) => b.set_override(key, v).map_err(load),
            None => Ok(b),
        };
        builder = set(builder, "server.bind", overrides.bind.clone())?;
        builder = set(
            builder,
            "server.port",
            overrides.port.map(|p| p.to_string()),
        )?;
        builder = set(builder, "upstream.base_url", overrides.upstream.clone())?;
        builder = set(builder, "storage.data_dir", overrides.data_dir.clone())?;
        builder = set(builder, "server.public_url", overrides.public_url.clone())?;
        let settings: Settings = builder
            .build()
            .map_err(load)?
            .try_deserialize()
            .map_err(load)?;
        settings.validate()
    }

    /// Checks every value and normalizes URLs (no trailing `/`).
    pub fn validate(mut self) -> Result<Settings, SettingsError> {
        self.normalize_addresses()?;
        self.check_server()?;
        self.check_bounds()?;
        self.check_feeds()?;
        self.cluster
            .check()
            .map_err(|(key, problem)| invalid(key, problem))?;
        self.websub
            .check()
            .map_err(|(key, problem)| invalid(key, problem))?;
        self.parsed_topics()?;
        Ok(self)
    }

    /// `server.bind`, `server.public_url`, `upstream.base_url` and `upstream.token`: checked
    /// and written in one form.
    fn normalize_addresses(&mut self) -> Result<(), SettingsError> {
        let bind: IpAddr = self.server.bind.trim().parse().map_err(|_| {
            invalid(
                "server.bind",
                format!(
                    "{:?} is not an IP address (e.g. 127.0.0.1 or 0.0.0.0)",
                    self.server.bind
                ),
            )
        })?;
        self.server.bind = bind.to_string();
        if !self.server.public_url.trim().is_empty() {
            let url = web_base_url(&self.server.public_url)
                .map_err(|e| invalid("server.public_url", e))?;
            self.server.public_url = without_trailing_slash(&url);
        } else {
            self.server.public_url = String::new();
        }
        let upstream =
            web_base_url(&self.upstream.base_url).map_err(|e| invalid("upstream.base_url", e))?;
        self.upstream.base_url = without_trailing_slash(&upstream);
        let token = self.upstream.token.expose_secret().trim().to_owned();
        if token.chars().any(|c| !c.is_ascii_graphic()) {
            return Err(invalid(
                "upstream.token",
                "must be printable ASCII without spaces",
            ));
        }
        // The token would cross the network in clear; over loopback it never leaves the host
        // (a local mock upstream, a proxy on the same machine).
        if !token.is_empty() && upstream.scheme() == "http" && !is_loopback(&upstream) {
            return Err(invalid(
                "upstream.token",
                format!(
                    "would be sent in clear to {} (upstream.base_url is http://): use an \
                     https:// upstream.base_url or unset the token",
                    upstream.host_str().unwrap_or_default()
                ),
            ));
        }
        self.upstream.token = SecretString::from(token);
        Ok(())
    }

    /// The `[server]` limits within their bounds.
    fn check_server(&self) -> Result<(), SettingsError> {
        if !(256..=65_536).contains(&self.server.max_query) {
            return Err(invalid(
                "server.max_query",
                "must be between 256 and 65536 bytes",
            ));
        }
        if self.server.client_timeout.is_zero() {
            return Err(invalid(
                "server.client_timeout",
                "must be longer than zero (e.g. 5s)",
            ));
        }
        if self.server.max_builds > 1024 {
            return Err(invalid(
                "server.max_builds",
                "must be between 0 (twice the CPUs) and 1024",
            ));
        }
        if !(1..=1_000_000).contains(&self.server.max_connections) {
            return Err(invalid(
                "server.max_connections",
                "must be between 1 and 1000000",
            ));
        }
        Ok(())
    }

    /// Upstream and cache durations, counts and sizes within their bounds.
    fn check_bounds(&self) -> Result<(), SettingsError> {
        for (key, value) in [
            ("upstream.connect_timeout", self.upstream.connect_timeout),
            ("upstream.timeout", self.upstream.timeout),
            ("cache.recent_ttl", self.cache.recent_ttl),
            ("cache.week_ttl", self.cache.week_ttl),
            ("cache.old_ttl", self.cache.old_ttl),
        ] {
            if value.is_zero() {
                return Err(invalid(key, "must be longer than zero (e.g. 30s, 10m)"));
            }
        }
        if self.upstream.retries > 10 {
            return Err(invalid("upstream.retries", "must be between 0 and 10"));
        }
        if !(1..=64).contains(&self.upstream.max_concurrency) {
            return Err(invalid(
                "upstream.max_concurrency",
                "must be between 1 and 64",
            ));
        }
        if !(1..=100_000).contains(&self.upstream.budget) {
            return Err(invalid(
                "upstream.budget",
                "must be between 1 and 100000 requests per 5 minutes",
            ));
        }
        let max_body = self.upstream.max_body.as_u64();
        if !(64 * 1024..=1024 * 1024 * 1024).contains(&max_body) {
            return Err(invalid(
                "upstream.max_body",
                "must be between 64KiB and 1GiB",
            ));
        }
        let max_memory = self.cache.max_memory.as_u64();
        if !(1024 * 1024..=64 * 1024 * 1024 * 1024).contains(&max_memory) {
            return Err(invalid(
                "cache.max_memory",
                "must be between 1MiB and 64GiB",
            ));
        }
        if self.cache.max_papers.is_some() {
            return Err(invalid(
                "cache.max_papers",
                "is no longer a setting: remove it; memory is bounded in bytes by \
                 cache.max_memory, which weighs older lists, rendered feeds and caches alike",
            ));
        }
        Ok(())
    }

    /// The `[feeds]` days and limits, each within the next.
    fn check_feeds(&self) -> Result<(), SettingsError> {
        let f = &self.feeds;
        if !(1..=366).contains(&f.max_days) {
            return Err(invalid("feeds.max_days", "must be between 1 and 366"));
        }
        if !(1..=f.max_days).contains(&f.default_days) {
            return Err(invalid(
                "feeds.default_days",
                format!("must be between 1 and feeds.max_days ({})", f.max_days),
            ));
        }
        if !(1..=1000).contains(&f.max_limit) {
            return Err(invalid("feeds.max_limit", "must be between 1 and 1000"));
        }
        if !(1..=f.max_limit).contains(&f.default_limit) {
            return Err(invalid(
                "feeds.default_limit",
                format!("must be between 1 and feeds.max_limit ({})", f.max_limit),
            ));
        }
        Ok(())
    }

    /// `server.public_url`, or `http://<bind>:<port>` for the port actually bound when it is
    /// not set (with port 0 the configured port is not the one readers reach).
    pub fn public_url(&self, bound_port: u16) -> String {
        if !self.server.public_url.is_empty() {
            return self.server.public_url.clone();
        }
        match self.server.bind.parse::<IpAddr>() {
            Ok(IpAddr::V6(v6)) => format!("http://[{v6}]:{bound_port}"),
            _ => format!("http://{}:{bound_port}", self.server.bind),
        }
    }

    /// The topics, validated against the feed limits (start-up calls this once more after
    /// [`Settings::validate`], when it cannot fail).
    pub fn parsed_topics(&self) -> Result<Topics, TopicError> {
        Topics::parse(&self.topics, &self.feeds)
    }

    /// The data directory, or `None` when storage is off.
    pub fn data_dir(&self) -> Option<PathBuf> {
        let dir = self.storage.data_dir.trim();
        (!dir.is_empty()).then(|| PathBuf::from(dir))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn load(pairs: &[(&str, &str)]) -> Result<Settings, SettingsError> {
        let overrides = Overrides {
            config_file: Some(PathBuf::from("config/default.toml")),
            ..Overrides::default()
        };
        Settings::load(&overrides, env(pairs))
    }

    #[test]
    fn defaults_match_the_contract() {
        let s = load(&[]).unwrap();
        assert_eq!(s.server.bind, "127.0.0.1");
        assert_eq!(s.server.port, 8080);
        assert_eq!(s.public_url(s.server.port), "http://127.0.0.1:8080");
        assert_eq!(s.public_url(41234), "http://127.0.0.1:41234");
        assert_eq!(s.server.max_age, Duration::from_secs(600));
        assert_eq!(s.upstream.base_url, "https://huggingface.co");
        assert_eq!(s.upstream.retries, 2);
        assert_eq!(s.upstream.max_concurrency, 4);
        assert_eq!(s.cache.week_ttl, Duration::from_secs(3600));
        assert_eq!(s.data_dir(), Some(PathBuf::from("data")));
        assert_eq!(s.cache.max_memory.as_u64(), 32 * 1024 * 1024);
        assert_eq!(s.server.max_query, 4096);
        assert_eq!(s.server.client_timeout, Duration::from_secs(5));
        assert!(s.server.builds() >= 2);
        assert_eq!(s.upstream.budget, 120);
        assert_eq!(s.upstream.max_body.as_u64(), 16 * 1024 * 1024);
        assert_eq!(
            s.feeds.earliest_date,
            chrono::NaiveDate::from_ymd_opt(2023, 5, 1).unwrap()
        );
        assert_eq!((s.feeds.default_days, s.feeds.max_days), (3, 30));
        assert_eq!((s.feeds.default_limit, s.feeds.max_limit), (50, 200));
    }

    #[test]
    fn environment_overrides_the_file_and_flags_override_the_environment() {
        let s = load(&[
            ("PAPERBOY_SERVER__PORT", "9000"),
            ("PAPERBOY_CACHE__RECENT_TTL", "1s"),
            ("PAPERBOY_STORAGE__DATA_DIR", ""),
            ("PAPERBOY_UPSTREAM__TOKEN", "12345"),
            ("PAPERBOY_CACHE__MAX_MEMORY", "2MiB"),
            ("PAPERBOY_FEEDS__EARLIEST_DATE", "2024-01-01"),
            ("PAPERBOY_UPSTREAM__BASE_URL", "http://127.0.0.1:9999/"),
        ])
        .unwrap();
        assert_eq!(s.server.port, 9000);
        assert_eq!(s.cache.recent_ttl, Duration::from_secs(1));
        assert_eq!(s.data_dir(), None);
        assert_eq!(s.upstream.token.expose_secret(), "12345");
        assert!(!format!("{s:?}").contains("12345"), "the token is redacted");
        assert_eq!(s.cache.max_memory.as_u64(), 2 * 1024 * 1024);
        assert_eq!(
            s.feeds.earliest_date,
            chrono::NaiveDate::from_ymd_opt(2024, 1, 1).unwrap()
        );
        assert_eq!(s.upstream.base_url, "http://127.0.0.1:9999");
        assert_eq!(s.public_url(9000), "http://127.0.0.1:9000");

        let overrides = Overrides {
            port: Some(7000),
            public_url: Some("https://feeds.example.org/".into()),
            ..Overrides::default()
        };
        let s = Settings::load(&overrides, env(&[("PAPERBOY_SERVER__PORT", "9000")])).unwrap();
        assert_eq!(s.server.port, 7000);
        assert_eq!(s.public_url(7000), "https://feeds.example.org");
    }

    #[test]
    fn bad_values_name_the_setting() {
        for (key, value, expected) in [
            ("PAPERBOY_SERVER__PORT", "eighty", "server.port"),
            ("PAPERBOY_SERVER__BIND", "localhost:80", "server.bind"),
            ("PAPERBOY_CACHE__OLD_TTL", "soon", "cache.old_ttl"),
            ("PAPERBOY_CACHE__OLD_TTL", "0s", "cache.old_ttl"),
            (
                "PAPERBOY_UPSTREAM__BASE_URL",
                "ftp://x",
                "upstream.base_url",
            ),
            (
                "PAPERBOY_UPSTREAM__MAX_CONCURRENCY",
                "0",
                "upstream.max_concurrency",
            ),
            ("PAPERBOY_FEEDS__DEFAULT_DAYS", "31", "feeds.default_days"),
            ("PAPERBOY_LOG__FORMAT", "xml", "log.format"),
            ("PAPERBOY_CACHE__MAX_MEMORY", "lots", "cache.max_memory"),
            ("PAPERBOY_CACHE__MAX_MEMORY", "10KiB", "cache.max_memory"),
            ("PAPERBOY_SERVER__MAX_QUERY", "10", "server.max_query"),
            (
                "PAPERBOY_SERVER__CLIENT_TIMEOUT",
                "0s",
                "server.client_timeout",
            ),
            ("PAPERBOY_UPSTREAM__BUDGET", "0", "upstream.budget"),
            ("PAPERBOY_UPSTREAM__MAX_BODY", "1KiB", "upstream.max_body"),
            (
                "PAPERBOY_FEEDS__EARLIEST_DATE",
                "May 2023",
                "feeds.earliest_date",
            ),
        ] {
            let err = load(&[(key, value)]).unwrap_err().to_string();
            assert!(err.contains(expected), "{key}={value}: {err}");
            assert!(!err.contains('\n'), "{err}");
        }
    }

    #[test]
    fn urls_with_user_info_are_refused_naming_the_host_and_never_the_password() {
        for (key, value, host) in [
            (
                "PAPERBOY_UPSTREAM__BASE_URL",
                "http://u:secret@127.0.0.1:9",
                "127.0.0.1",
            ),
            (
                "PAPERBOY_UPSTREAM__BASE_URL",
                "https://alice@hf.example.org",
                "hf.example.org",
            ),
            (
                "PAPERBOY_UPSTREAM__BASE_URL",
                "https://:secret@hf.example.org/",
                "hf.example.org",
            ),
            (
                "PAPERBOY_SERVER__PUBLIC_URL",
                "https://alice:secret@feeds.example.org/papers",
                "feeds.example.org",
            ),
            (
                "PAPERBOY_SERVER__PUBLIC_URL",
                "https://alice@feeds.example.org",
                "feeds.example.org",
            ),
            // Refused for what else is wrong with it, still without the password.
            (
                "PAPERBOY_UPSTREAM__BASE_URL",
                "ftp://u:secret@hf.example.org",
                "hf.example.org",
            ),
            (
                "PAPERBOY_SERVER__PUBLIC_URL",
                "https://u:secret@feeds.example.org/?q=1",
                "feeds.example.org",
            ),
        ] {
            let setting = key
                .trim_start_matches("PAPERBOY_")
                .replace("__", ".")
                .to_lowercase();
            let e = load(&[(key, value)]).unwrap_err();
            assert!(
                matches!(&e, SettingsError::Invalid { key, .. } if *key == setting),
                "{value}: {e:?}"
            );
            let line = e.to_string();
            assert!(line.contains(&setting), "{value}: {line}");
            assert!(line.contains(host), "names the host: {line}");
            assert!(line.contains("remove the user info"), "{value}: {line}");
            assert!(!line.contains("secret"), "never the password: {line}");
            assert!(!line.contains('\n'), "{line}");
        }
        // A URL that does not parse is not echoed when it may hold a password.
        let e = load(&[("PAPERBOY_UPSTREAM__BASE_URL", "http://u:secret@[::1")]).unwrap_err();
        assert!(e.to_string().contains("upstream.base_url"), "{e}");
        assert!(!e.to_string().contains("secret"), "{e}");
    }

    #[test]
    fn a_token_goes_over_http_only_to_a_loopback_upstream() {
        for (base_url, token, accepted) in [
            ("http://hf.example.org", "hf_secret", false),
            ("http://10.0.0.7:8080", "hf_secret", false),
            ("http://[2001:db8::1]", "hf_secret", false),
            ("http://localhost.example.org", "hf_secret", false),
            ("http://127.0.0.1:9999", "hf_secret", true),
            ("http://127.3.2.1", "hf_secret", true),
            ("http://[::1]:9999", "hf_secret", true),
            ("http://localhost:9999", "hf_secret", true),
            ("http://LOCALHOST", "hf_secret", true),
            ("https://hf.example.org", "hf_secret", true),
            ("http://hf.example.org", "", true),
            ("http://hf.example.org", "  ", true),
        ] {
            let result = load(&[
                ("PAPERBOY_UPSTREAM__BASE_URL", base_url),
                ("PAPERBOY_UPSTREAM__TOKEN", token),
            ]);
            if accepted {
                assert!(result.is_ok(), "{base_url} with {token:?}: {result:?}");
                continue;
            }
            let e = result.unwrap_err();
            assert!(
                matches!(
                    e,
                    SettingsError::Invalid {
                        key: "upstream.token",
                        ..
                    }
                ),
                "{base_url}: {e:?}"
            );
            let line = e.to_string();
            assert!(line.contains("https://"), "{line}");
            assert!(line.contains("unset the token"), "{line}");
            assert!(!line.contains("hf_secret"), "never the token: {line}");
        }
    }

    #[test]
    fn a_named_file_that_is_missing_is_an_error() {
        let overrides = Overrides {
            config_file: Some(PathBuf::from("no/such/file.toml")),
            ..Overrides::default()
        };
        let err = Settings::load(&overrides, env(&[])).unwrap_err();
        assert!(matches!(err, SettingsError::MissingFile(_)));
    }
}
