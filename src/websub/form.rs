//! The form of a WebSub subscription request (`POST /websub`): `hub.mode`, `hub.topic`,
//! `hub.callback`, `hub.lease_seconds`, `hub.secret`; other fields are ignored, as WebSub
//! requires. Every refusal names the field and says what to send instead.

use url::Url;

use crate::common::text::clean_inline;
use crate::query::decode::decode_pairs;

/// The longest topic accepted: a feed URL of this instance (its query is also bounded by
/// `server.max_query`, 4 KiB by default).
pub const MAX_TOPIC: usize = 8 * 1024;
/// The longest callback URL accepted.
pub const MAX_CALLBACK: usize = 2048;
/// A secret must be shorter than this (WebSub: less than 200 bytes).
pub const MAX_SECRET: usize = 200;
/// The longest lease a request may name before it is cut to `websub.max_lease`.
const MAX_LEASE_DIGITS: usize = 12;

/// Subscribe or unsubscribe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Subscribe,
    Unsubscribe,
}

impl Mode {
    pub fn name(self) -> &'static str {
        match self {
            Mode::Subscribe => "subscribe",
            Mode::Unsubscribe => "unsubscribe",
        }
    }
}

/// A subscription request whose fields are each well formed (the topic is checked against
/// the instance's feeds, and the callback's addresses, by the hub).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub mode: Mode,
    /// Kept exactly as given.
    pub topic: String,
    pub callback: Url,
    /// The lease asked for, in seconds (at least 1).
    pub lease_seconds: Option<u64>,
    pub secret: Option<String>,
}

/// Why a request was refused: the field at fault and what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormError {
    pub field: &'static str,
    pub detail: String,
}

fn refuse(field: &'static str, detail: impl Into<String>) -> FormError {
    FormError {
        field,
        detail: detail.into(),
    }
}

/// The request in `body` (`application/x-www-form-urlencoded`).
pub fn parse(body: &[u8]) -> Result<Request, FormError> {
    let text = std::str::from_utf8(body).map_err(|_| {
        refuse(
            "body",
            "The body is not UTF-8 text; send an application/x-www-form-urlencoded form.",
        )
    })?;
    let pairs = decode_pairs(text).map_err(|e| FormError {
        field: field_name(&e.parameter),
        detail: e.detail,
    })?;
    let mut fields: [Option<String>; 5] = Default::default();
    for (key, value) in pairs {
        let Some(slot) = FIELDS.iter().position(|f| *f == key) else {
            continue;
        };
        if fields[slot].replace(value).is_some() {
            return Err(refuse(
                FIELDS[slot],
                format!("{} is given more than once; give it once.", FIELDS[slot]),
            ));
        }
    }
    let [mode, topic, callback, lease, secret] = fields;
    Ok(Request {
        mode: mode_of(mode)?,
        topic: topic_of(topic)?,
        callback: callback_of(callback)?,
        lease_seconds: lease_of(lease)?,
        secret: secret_of(secret)?,
    })
}

/// The fields read, in the order of [`parse`]'s slots.
const FIELDS: [&str; 5] = [
    "hub.mode",
    "hub.topic",
    "hub.callback",
    "hub.lease_seconds",
    "hub.secret",
];

/// The field a decoding error names, as one of ours when it is one (else `body`).
fn field_name(name: &str) -> &'static str {
    FIELDS
        .iter()
        .find(|f| **f == name)
        .copied()
        .unwrap_or("body")
}

fn required(value: Option<String>, field: &'static str, what: &str) -> Result<String, FormError> {
    match value {
        Some(value) if !value.trim().is_empty() => Ok(value),
        _ => Err(refuse(field, format!("{field} is missing; give {what}."))),
    }
}

fn mode_of(value: Option<String>) -> Result<Mode, FormError> {
    let value = required(value, "hub.mode", "subscribe or unsubscribe")?;
    match value.as_str() {
        "subscribe" => Ok(Mode::Subscribe),
        "unsubscribe" => Ok(Mode::Unsubscribe),
        other => Err(refuse(
            "hub.mode",
            format!(
                "hub.mode must be subscribe or unsubscribe, not {:?}.",
                shown(other)
            ),
        )),
    }
}

fn topic_of(value: Option<String>) -> Result<String, FormError> {
    let topic = required(value, "hub.topic", "the URL of a feed of this instance")?;
    if topic.len() > MAX_TOPIC {
        return Err(refuse(
            "hub.topic",
            format!(
                "hub.topic is longer than {MAX_TOPIC} bytes; give a feed URL of this instance."
            ),
        ));
    }
    if topic.chars().any(|c| c.is_control() || c == ' ') || topic.contains('#') {
        return Err(refuse(
            "hub.topic",
            "hub.topic must be a feed URL as a reader fetches it: no spaces, control characters or #fragment.",
        ));
    }
    Ok(topic)
}

fn callback_of(value: Option<String>) -> Result<Url, FormError> {
    let raw = required(
        value,
        "hub.callback",
        "the http(s) URL paperboy should push to",
    )?;
    if raw.len() > MAX_CALLBACK {
        return Err(refuse(
            "hub.callback",
            format!("hub.callback is longer than {MAX_CALLBACK} bytes; give a shorter URL."),
        ));
    }
    let url = Url::parse(raw.trim()).map_err(|e| {
        refuse(
            "hub.callback",
            format!("hub.callback is not an absolute URL ({e}); give an http:// or https:// URL."),
        )
    })?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(refuse(
            "hub.callback",
            "hub.callback must be an http:// or https:// URL with a host.",
        ));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(refuse(
            "hub.callback",
            "hub.callback must not hold a user name or password (user:password@); use hub.secret to authenticate deliveries.",
        ));
    }
    if url.fragment().is_some() {
        return Err(refuse(
            "hub.callback",
            "hub.callback must not have a #fragment.",
        ));
    }
    Ok(url)
}

fn lease_of(value: Option<String>) -> Result<Option<u64>, FormError> {
    let Some(value) = value.filter(|v| !v.trim().is_empty()) else {
        return Ok(None);
    };
    let value = value.trim();
    let lease = (value.len() <= MAX_LEASE_DIGITS && value.bytes().all(|b| b.is_ascii_digit()))
        .then(|| value.parse::<u64>().ok())
        .flatten()
        .filter(|&seconds| seconds > 0);
    lease.map(Some).ok_or_else(|| {
        refuse(
            "hub.lease_seconds",
            format!(
                "hub.lease_seconds must be a whole number of seconds above 0, not {:?}.",
                shown(value)
            ),
        )
    })
}

fn secret_of(value: Option<String>) -> Result<Option<String>, FormError> {
    match value {
        None => Ok(None),
        Some(secret) if secret.is_empty() => Ok(None),
        Some(secret) if secret.len() >= MAX_SECRET => Err(refuse(
            "hub.secret",
            format!("hub.secret must be shorter than {MAX_SECRET} bytes."),
        )),
        Some(secret) => Ok(Some(secret)),
    }
}

/// A value in a message: cleaned and cut short.
fn shown(value: &str) -> String {
    clean_inline(value).chars().take(40).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const CALLBACK: &str = "https%3A%2F%2Freader.example%2Fpush%3Fid%3D7";
    const TOPIC: &str = "http%3A%2F%2Flocalhost%3A8080%2Ffeed.atom%3Fq%3Ddiffusion";

    fn form(extra: &str) -> String {
        format!("hub.mode=subscribe&hub.topic={TOPIC}&hub.callback={CALLBACK}{extra}")
    }

    #[test]
    fn a_subscription_is_read_with_its_lease_and_secret() {
        let request =
            parse(form("&hub.lease_seconds=3600&hub.secret=s3cr%C3%A9t&other=x").as_bytes())
                .unwrap();
        assert_eq!(request.mode, Mode::Subscribe);
        assert_eq!(request.topic, "http://localhost:8080/feed.atom?q=diffusion");
        assert_eq!(
            request.callback.as_str(),
            "https://reader.example/push?id=7"
        );
        assert_eq!(request.lease_seconds, Some(3600));
        assert_eq!(request.secret.as_deref(), Some("s3crét"));
        let bare = parse(form("&hub.lease_seconds=&hub.secret=").as_bytes()).unwrap();
        assert_eq!((bare.lease_seconds, bare.secret), (None, None));
    }

    #[test]
    fn each_refusal_names_its_field() {
        let long_secret = form(&format!("&hub.secret={}", "s".repeat(MAX_SECRET)));
        let cases: Vec<(String, &str)> = vec![
            (
                format!("hub.topic={TOPIC}&hub.callback={CALLBACK}"),
                "hub.mode",
            ),
            (form("").replace("subscribe", "follow"), "hub.mode"),
            (
                format!("hub.mode=subscribe&hub.callback={CALLBACK}"),
                "hub.topic",
            ),
            (
                form("").replace(TOPIC, "http%3A%2F%2Fx%2Ffeed%23top"),
                "hub.topic",
            ),
            (
                format!("hub.mode=subscribe&hub.topic={TOPIC}"),
                "hub.callback",
            ),
            (
                form("").replace(CALLBACK, "ftp%3A%2F%2Fx%2F"),
                "hub.callback",
            ),
            (
                form("").replace(CALLBACK, "https%3A%2F%2Fu%3Ap%40x%2F"),
                "hub.callback",
            ),
            (form("").replace(CALLBACK, "%2Fpush"), "hub.callback"),
            (form("&hub.lease_seconds=-5"), "hub.lease_seconds"),
            (form("&hub.lease_seconds=0"), "hub.lease_seconds"),
            (
                form("&hub.lease_seconds=9999999999999"),
                "hub.lease_seconds",
            ),
            (long_secret, "hub.secret"),
            (form("&hub.mode=unsubscribe"), "hub.mode"),
            (form("&hub.secret=%zz"), "hub.secret"),
        ];
        for (body, field) in cases {
            let error = parse(body.as_bytes()).unwrap_err();
            assert_eq!(error.field, field, "{body}: {error:?}");
            assert!(
                error.detail.contains(field) || field == "hub.secret",
                "{error:?}"
            );
        }
        assert_eq!(parse(b"\xff\xfe").unwrap_err().field, "body");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        /// Any bytes: an answer, never a panic; an accepted request keeps what the form said.
        #[test]
        fn any_body_is_answered(body in proptest::collection::vec(any::<u8>(), 0..400)) {
            if let Ok(request) = parse(&body) {
                prop_assert!(!request.topic.is_empty());
                prop_assert!(request.secret.as_ref().is_none_or(|s| s.len() < MAX_SECRET));
            }
        }

        /// Well-formed fields in any order, among any other fields, are read back as given.
        #[test]
        fn fields_in_any_order_are_read(
            lease in 1u64..1_000_000,
            secret in "[a-zA-Z0-9 &=%+]{1,60}",
            noise in proptest::collection::vec(("[a-z.]{1,8}", "[a-z0-9]{0,8}"), 0..4),
            reverse in any::<bool>(),
        ) {
            let mut pairs: Vec<(String, String)> = vec![
                ("hub.mode".into(), "subscribe".into()),
                ("hub.topic".into(), "http://h/feed.rss?q=a%20b".into()),
                ("hub.callback".into(), "https://r.example/cb?x=1".into()),
                ("hub.lease_seconds".into(), lease.to_string()),
                ("hub.secret".into(), secret.clone()),
            ];
            pairs.extend(noise.into_iter().filter(|(k, _)| !k.starts_with("hub.")));
            if reverse {
                pairs.reverse();
            }
            let body = crate::query::decode::encode_pairs(
                pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())),
            );
            let request = parse(body.as_bytes()).unwrap();
            prop_assert_eq!(request.topic, "http://h/feed.rss?q=a%20b");
            prop_assert_eq!(request.lease_seconds, Some(lease));
            prop_assert_eq!(request.secret, Some(secret));
        }
    }
}
