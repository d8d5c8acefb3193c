//! Validators and conditional GET: a weak ETag over the identity body, `Last-Modified` from
//! the data, and the 304 decision (`If-None-Match` first, `If-Modified-Since` only without it).

use actix_web::HttpRequest;
use actix_web::http::header::{
    EntityTag, Header, HeaderValue, HttpDate, IF_NONE_MATCH, IfModifiedSince, IfNoneMatch,
    TryIntoHeaderValue,
};
use chrono::{DateTime, Utc};
use std::time::{Duration, SystemTime};

/// The validators of one response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Validators {
    /// Weak, since the body may be sent compressed.
    pub etag: EntityTag,
    pub last_modified: HttpDate,
    /// Both as header values, written once: a response (and a 304 above all) only copies
    /// them.
    pub etag_value: HeaderValue,
    pub last_modified_value: HeaderValue,
}

impl Validators {
    /// A weak ETag hashing `body`, and `last_modified` at whole seconds.
    pub fn for_body(body: &[u8], last_modified: DateTime<Utc>) -> Self {
        Self::for_hash(xxhash_rust::xxh3::xxh3_128(body), last_modified)
    }

    /// The validators of a body whose xxh3-128 hash is `hash` (hashed in pieces, with
    /// `xxhash_rust::xxh3::Xxh3::digest128`, which equals hashing it whole).
    pub fn for_hash(hash: u128, last_modified: DateTime<Utc>) -> Self {
        let etag = EntityTag::new_weak(format!("{hash:032x}"));
        let last_modified = http_date(last_modified);
        Self {
            // Hex digits and an HTTP date: always valid header values.
            etag_value: etag.clone().try_into_value().unwrap_or(EMPTY),
            last_modified_value: last_modified.try_into_value().unwrap_or(EMPTY),
            etag,
            last_modified,
        }
    }

    /// Whether the request's validators say the client's copy is current.
    pub fn not_modified(&self, req: &HttpRequest) -> bool {
        if let Some(sent) = req.headers().get(IF_NONE_MATCH) {
            // What a reader sends back is almost always the tag it was given, exactly.
            if sent.as_bytes() == self.etag_value.as_bytes() {
                return true;
            }
            return match IfNoneMatch::parse(req) {
                Ok(IfNoneMatch::Any) => true,
                Ok(IfNoneMatch::Items(tags)) => tags.iter().any(|t| t.weak_eq(&self.etag)),
                Err(_) => false,
            };
        }
        match IfModifiedSince::parse(req) {
            Ok(IfModifiedSince(since)) => {
                SystemTime::from(since) >= SystemTime::from(self.last_modified)
            }
            Err(_) => false,
        }
    }
}

const EMPTY: HeaderValue = HeaderValue::from_static("");

/// An HTTP date, truncated to whole seconds as the header carries them.
pub fn http_date(at: DateTime<Utc>) -> HttpDate {
    let secs = u64::try_from(at.timestamp()).unwrap_or(0);
    HttpDate::from(SystemTime::UNIX_EPOCH + Duration::from_secs(secs))
}
