//! The absolute base of the links paperboy writes (self links, feed ids, icons, OPML, pages).
//!
//! `server.public_url` when it is set. When it is not, the base comes from the request's
//! `Host` header, so that an instance reached as `papers.example.org:8080` (or through a
//! container's published port) writes links its readers can follow, instead of the address it
//! listens on (`0.0.0.0` means nothing to a reader). Only a plain `host[:port]` is taken, and
//! only the first [`MAX_HOSTS`] distinct ones: every base is a separate copy of every feed in
//! the render cache, so a client inventing hosts must not multiply them. Requests naming any
//! other host, an unusable one, or none, get `http://localhost:<port>`.

use std::sync::{Arc, RwLock};

use actix_web::HttpRequest;
use actix_web::http::header::HOST;

/// Distinct `Host` values kept as bases.
pub const MAX_HOSTS: usize = 16;
/// The longest `Host` value taken (a DNS name is at most 253 bytes, and a port 6 more).
const MAX_HOST_LEN: usize = 260;

/// Where link bases come from.
#[derive(Debug)]
pub struct PublicBases {
    /// `server.public_url`, when set.
    configured: Option<Arc<str>>,
    /// `http://localhost:<port>`.
    fallback: Arc<str>,
    /// The hosts seen first (lower-cased), each with its base.
    hosts: RwLock<Vec<(Box<str>, Arc<str>)>>,
}

impl PublicBases {
    /// Bases for an instance bound to `port`: always `public_url` when it is not empty.
    pub fn new(public_url: &str, port: u16) -> PublicBases {
        PublicBases {
            configured: (!public_url.is_empty()).then(|| Arc::from(public_url)),
            fallback: Arc::from(format!("http://localhost:{port}")),
            hosts: RwLock::new(Vec::new()),
        }
    }

    /// Whether the base is `server.public_url` whatever the request.
    pub fn is_configured(&self) -> bool {
        self.configured.is_some()
    }

    /// The base of the links written for `req`.
    pub fn for_request(&self, req: &HttpRequest) -> Arc<str> {
        if let Some(configured) = &self.configured {
            return configured.clone();
        }
        let host = req
            .headers()
            .get(HOST)
            .and_then(|v| v.to_str().ok())
            .or_else(|| req.uri().authority().map(|a| a.as_str()));
        match host {
            Some(host) => self.for_host(host),
            None => self.fallback.clone(),
        }
    }

    /// The base for a `Host` value.
    pub fn for_host(&self, host: &str) -> Arc<str> {
        if let Some(configured) = &self.configured {
            return configured.clone();
        }
        if host.len() > MAX_HOST_LEN {
            return self.fallback.clone();
        }
        {
            let hosts = self.hosts.read().unwrap_or_else(|e| e.into_inner());
            if let Some((_, base)) = hosts.iter().find(|(h, _)| h.eq_ignore_ascii_case(host)) {
                return base.clone();
            }
            if hosts.len() >= MAX_HOSTS {
                return self.fallback.clone();
            }
        }
        let Some(normalized) = plain_host(host) else {
            return self.fallback.clone();
        };
        let mut hosts = self.hosts.write().unwrap_or_else(|e| e.into_inner());
        if let Some((_, base)) = hosts.iter().find(|(h, _)| **h == *normalized) {
            return base.clone();
        }
        if hosts.len() >= MAX_HOSTS {
            return self.fallback.clone();
        }
        let base: Arc<str> = Arc::from(format!("http://{normalized}"));
        hosts.push((normalized.into_boxed_str(), base.clone()));
        base
    }

    /// The base when there is no request (start-up, the export): `server.public_url`, else
    /// `http://localhost:<port>`.
    pub fn default_base(&self) -> Arc<str> {
        self.configured
            .clone()
            .unwrap_or_else(|| self.fallback.clone())
    }
}

/// `host[:port]` lower-cased, when it is a plain one: a DNS name or an IPv4 address in its
/// usual dotted form, or an IPv6 address in brackets, with an optional port from 1 to 65535;
/// never an unspecified address (`0.0.0.0`, `[::]`), which no reader can reach. A name whose
/// last label is a number (`0`, `0.0.0.00`, `0x0`) is refused: browsers and URL parsers read
/// it as an IPv4 address in another spelling (WHATWG URL, "ends in a number"), which could be
/// the unspecified one.
pub fn plain_host(value: &str) -> Option<String> {
    let value = value.trim();
    let (host, port) = if let Some(rest) = value.strip_prefix('[') {
        let (inside, after) = rest.split_once(']')?;
        let ip: std::net::Ipv6Addr = inside.parse().ok()?;
        if ip.is_unspecified() {
            return None;
        }
        let port = match after {
            "" => None,
            _ => Some(after.strip_prefix(':')?),
        };
        (format!("[{ip}]"), port)
    } else {
        let (host, port) = match value.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (value, None),
        };
        let host = host.to_ascii_lowercase();
        if let Ok(ip) = host.parse::<std::net::Ipv4Addr>() {
            if ip.is_unspecified() {
                return None;
            }
        } else if !is_dns_name(&host) || ends_in_a_number(&host) {
            return None;
        }
        (host, port)
    };
    match port {
        None => Some(host),
        Some(port) => {
            let valid = !port.is_empty()
                && port.len() <= 5
                && port.bytes().all(|b| b.is_ascii_digit())
                && port.parse::<u16>().is_ok_and(|p| p > 0);
            valid.then(|| format!("{host}:{port}"))
        }
    }
}

/// Whether the last label is all digits or `0x` and hex digits: such a host is an IPv4 address
/// to a URL parser, whatever else it looks like.
fn ends_in_a_number(host: &str) -> bool {
    let last = host.rsplit('.').next().unwrap_or(host);
    let hex = last
        .strip_prefix("0x")
        .is_some_and(|digits| digits.bytes().all(|b| b.is_ascii_hexdigit()));
    hex || (!last.is_empty() && last.bytes().all(|b| b.is_ascii_digit()))
}

/// Letters, digits and `-` in labels of 1 to 63 bytes, separated by single dots.
fn is_dns_name(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 253
        && host.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn plain_hosts_are_taken_and_others_are_not() {
        for (value, expected) in [
            ("papers.example.org", Some("papers.example.org")),
            ("Papers.Example.ORG:8080", Some("papers.example.org:8080")),
            ("127.0.0.1:9000", Some("127.0.0.1:9000")),
            ("[::1]:8080", Some("[::1]:8080")),
            ("[2001:DB8::1]", Some("[2001:db8::1]")),
            ("localhost", Some("localhost")),
            ("0.0.0.0:8080", None),
            ("[::]:8080", None),
            ("[::]", None),
            ("0.0.0.00:80", None),
            ("0", None),
            ("0x0", None),
            ("0.0x0:80", None),
            ("1.2.3.4.5", None),
            ("0.0.0.0n0:80", Some("0.0.0.0n0:80")),
            ("", None),
            ("evil.example/path", None),
            ("a b", None),
            ("user@host", None),
            ("host:", None),
            ("host:0", None),
            ("host:65536", None),
            ("host:80:80", None),
            ("-bad.example", None),
            ("bad..example", None),
            ("[::1", None),
            ("[::1]x", None),
            ("host\"><script>", None),
        ] {
            assert_eq!(plain_host(value).as_deref(), expected, "{value:?}");
        }
    }

    #[test]
    fn the_first_hosts_are_kept_and_the_rest_get_localhost() {
        let bases = PublicBases::new("", 8080);
        assert_eq!(&*bases.for_host("a.example"), "http://a.example");
        assert_eq!(&*bases.for_host("A.EXAMPLE"), "http://a.example");
        for i in 1..MAX_HOSTS {
            assert_eq!(
                &*bases.for_host(&format!("h{i}.example")),
                format!("http://h{i}.example")
            );
        }
        assert_eq!(&*bases.for_host("late.example"), "http://localhost:8080");
        assert_eq!(&*bases.for_host("a.example"), "http://a.example", "kept");
        assert_eq!(&*bases.for_host("0.0.0.0:8080"), "http://localhost:8080");
        assert_eq!(&*bases.default_base(), "http://localhost:8080");
    }

    #[test]
    fn a_configured_public_url_is_the_base_whatever_the_host() {
        let bases = PublicBases::new("https://papers.example.org", 8080);
        assert_eq!(
            &*bases.for_host("other.example"),
            "https://papers.example.org"
        );
        assert!(bases.is_configured());
    }

    proptest! {
        /// Whatever the header, the base is a URL with no character that needs escaping in a
        /// link, and there are never more than MAX_HOSTS distinct ones besides the fallback.
        #[test]
        fn any_host_value_gives_a_safe_base(values in prop::collection::vec(".{0,40}", 1..40)) {
            let bases = PublicBases::new("", 1);
            let mut seen = std::collections::HashSet::new();
            for value in &values {
                let base = bases.for_host(value);
                prop_assert!(base.starts_with("http://"));
                prop_assert!(base[7..].bytes().all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b)), "{}", base);
                seen.insert(base);
            }
            prop_assert!(seen.len() <= MAX_HOSTS + 1);
        }
    }
}
