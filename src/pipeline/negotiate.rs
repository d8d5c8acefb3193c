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
