//! Content negotiation: which encoding a request gets, by its `Accept-Encoding` q-values.

use actix_web::HttpRequest;
use actix_web::http::header::{self, AcceptEncoding, ContentEncoding, Encoding, Header};

/// The encoding to send: brotli (when offered) or gzip when the client accepts it (by its
/// q-values), else identity.
pub(super) fn negotiate(req: &HttpRequest, brotli: bool) -> ContentEncoding {
    let mut values = req.headers().get_all(header::ACCEPT_ENCODING);
    if let (Some(value), None) = (values.next(), values.next())
        && let Some(encoding) = value.to_str().ok().and_then(|v| unweighted(v, brotli))
    {
        return encoding;
    }
    negotiate_weighted(req, brotli)
}

/// The choice for one `Accept-Encoding` without q-values (what readers send): every listed
/// coding is equally welcome, and the server's order decides (brotli, then gzip, then
/// identity), as [`negotiate_weighted`] decides it. `None` when there are q-values.
pub(super) fn unweighted(value: &str, brotli: bool) -> Option<ContentEncoding> {
    if value.contains(';') {
        return None;
    }
    let listed = |coding: &str| {
        value
            .split(',')
            .any(|token| token.trim().eq_ignore_ascii_case(coding))
    };
    Some(if brotli && listed("br") {
        ContentEncoding::Brotli
    } else if listed("gzip") {
        ContentEncoding::Gzip
    } else {
        ContentEncoding::Identity
    })
}

/// [`negotiate`] by the header parsed whole, q-values and all.
pub(super) fn negotiate_weighted(req: &HttpRequest, brotli: bool) -> ContentEncoding {
    const WITH_BROTLI: [Encoding; 3] = [Encoding::brotli(), Encoding::gzip(), Encoding::identity()];
    const WITHOUT_BROTLI: [Encoding; 2] = [Encoding::gzip(), Encoding::identity()];
    let supported: &[Encoding] = if brotli {
        &WITH_BROTLI
    } else {
        &WITHOUT_BROTLI
    };
    match AcceptEncoding::parse(req) {
        Ok(accept) => match accept.negotiate(supported.iter()) {
            Some(Encoding::Known(encoding)) => encoding,
            _ => ContentEncoding::Identity,
        },
        Err(_) => ContentEncoding::Identity,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;
    use proptest::prelude::*;

    fn token() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("gzip".to_owned()),
            Just("GZip".to_owned()),
            Just("br".to_owned()),
            Just("BR".to_owned()),
            Just("deflate".to_owned()),
            Just("zstd".to_owned()),
            Just("identity".to_owned()),
            Just("*".to_owned()),
            Just("x-gzip".to_owned()),
            Just(String::new()),
            "[a-z ]{0,6}",
        ]
    }

    proptest! {
        /// The shortcut for headers without q-values chooses what the full negotiation does.
        #[test]
        fn unweighted_choice_is_the_negotiated_one(
            tokens in prop::collection::vec((token(), "[ \t]{0,2}"), 0..6),
            brotli: bool,
        ) {
            let value = tokens
                .iter()
                .map(|(t, space)| format!("{space}{t}"))
                .collect::<Vec<_>>()
                .join(",");
            let req = TestRequest::default()
                .insert_header((header::ACCEPT_ENCODING, value.as_str()))
                .to_http_request();
            let shortcut = unweighted(&value, brotli);
            prop_assert_eq!(shortcut, Some(negotiate_weighted(&req, brotli)), "{:?}", value);
            prop_assert_eq!(negotiate(&req, brotli), negotiate_weighted(&req, brotli));
        }
    }

    #[test]
    fn q_values_take_the_full_negotiation() {
        let req = TestRequest::default()
            .insert_header((header::ACCEPT_ENCODING, "gzip;q=0, br;q=0.5"))
            .to_http_request();
        assert_eq!(unweighted("gzip;q=0, br;q=0.5", true), None);
        assert_eq!(negotiate(&req, true), ContentEncoding::Brotli);
        assert_eq!(negotiate(&req, false), ContentEncoding::Identity);
    }
}
