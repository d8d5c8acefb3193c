//! The service's icon: `/favicon.ico` (16, 32 and 48 px) and `/icon.png` (512 px), embedded in
//! the binary (drawn by `assets/make-icons.py`), named in every feed and linked from the pages.
//! They never change within a version: a strong ETag, a day of caching, 304s.

use actix_web::http::header::Header;
use actix_web::http::header::{self, CacheControl, CacheDirective, EntityTag, IfNoneMatch};
use actix_web::{HttpRequest, HttpResponse, web};

use crate::http::resource::get;
use crate::render::html::{FAVICON, ICON_PNG};

/// Seconds a client may keep an icon without asking again.
const MAX_AGE: u32 = 86_400;

pub fn config(cfg: &mut web::ServiceConfig) {
    for (path, body, content_type) in [
        ("/favicon.ico", FAVICON, "image/x-icon"),
        ("/icon.png", ICON_PNG, "image/png"),
    ] {
        let etag = EntityTag::new_strong(format!("{:016x}", xxhash_rust::xxh3::xxh3_64(body)));
        cfg.service(get(path, move |req: HttpRequest| {
            let etag = etag.clone();
            async move { icon(&req, body, content_type, etag) }
        }));
    }
}

fn icon(
    req: &HttpRequest,
    body: &'static [u8],
    content_type: &'static str,
    etag: EntityTag,
) -> HttpResponse {
    let current = match IfNoneMatch::parse(req) {
        Ok(IfNoneMatch::Any) => true,
        Ok(IfNoneMatch::Items(tags)) => tags.iter().any(|t| t.weak_eq(&etag)),
        Err(_) => false,
    };
    let mut response = if current {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    response
        .insert_header(header::ETag(etag))
        .insert_header(CacheControl(vec![
            CacheDirective::Public,
            CacheDirective::MaxAge(MAX_AGE),
        ]))
        .insert_header((header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"));
    if current {
        response.finish()
    } else {
        response.content_type(content_type).body(body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_icons_are_a_png_and_an_ico() {
        assert_eq!(&ICON_PNG[..8], b"\x89PNG\r\n\x1a\n");
        // IHDR width and height: 512 x 512.
        assert_eq!(&ICON_PNG[16..24], &[0, 0, 2, 0, 0, 0, 2, 0]);
        // ICONDIR: reserved 0, type 1 (icon), then the entries; one of them 32 x 32.
        assert_eq!(&FAVICON[..4], &[0, 0, 1, 0]);
        let entries = usize::from(FAVICON[4]);
        assert!((0..entries).any(|i| FAVICON[6 + 16 * i] == 32 && FAVICON[7 + 16 * i] == 32));
    }
}
