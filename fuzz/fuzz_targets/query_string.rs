//! The query-string decoder and the feed-query parser: no panic on any string, and the
//! documented round trips hold:
//!
//! - `encode_pairs` is the inverse of `decode_pairs`;
//! - for a query parsed from a string, `FeedQuery::parse(&q.to_query_string())` gives `q`.

#![no_main]

use chrono::NaiveDate;
use libfuzzer_sys::fuzz_target;
use paperboy::query::limits::FeedSettings;
use paperboy::query::decode::{decode_pairs, encode_pairs};
use paperboy::query::params::{FeedQuery, ParseContext, QueryKind};

fuzz_target!(|data: &[u8]| {
    let Ok(raw) = std::str::from_utf8(data) else {
        return;
    };

    if let Ok(pairs) = decode_pairs(raw) {
        let encoded = encode_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        assert_eq!(
            decode_pairs(&encoded).as_ref(),
            Ok(&pairs),
            "{raw:?} -> {encoded:?}"
        );
    }

    let feeds = FeedSettings::default();
    // Feeds, digests and RSSHub paths each accept their own parameters.
    for kind in [QueryKind::Feed, QueryKind::Digest, QueryKind::RssHub] {
        let ctx = ParseContext {
            today: NaiveDate::from_ymd_opt(2026, 8, 14).expect("a valid date"),
            feeds: &feeds,
            allow_format: kind != QueryKind::Digest,
            kind,
        };
        if let Ok(query) = FeedQuery::parse(raw, &ctx) {
            let written = query.to_query_string();
            match FeedQuery::parse(&written, &ctx) {
                Ok(back) => assert_eq!(back, query, "{kind:?}: {raw:?} -> {written:?}"),
                Err(e) => panic!("{kind:?}: {raw:?} -> {written:?}, which does not parse: {e}"),
            }
        }
    }
});
