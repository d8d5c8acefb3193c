//! The limit of this stack, for benchmarks: a bare actix-web handler that answers every GET
//! with the same pre-loaded bytes (gzip when the client accepts it) and the same headers a
//! paperboy feed carries, or 304 for a matching `If-None-Match`. No parsing, no cache lookup.
//!
//! ```text
//! cargo run --release --example bare_actix -- feed.xml feed.xml.gz 127.0.0.1:9998
//! ```

use actix_web::http::header;
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};

struct Bytes {
    identity: web::Bytes,
    gzip: web::Bytes,
    etag: String,
}

async fn serve(req: HttpRequest, bytes: web::Data<Bytes>) -> HttpResponse {
    let headers = req.headers();
    let matches = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == bytes.etag);
    let mut response = if matches {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    response
        .insert_header((header::ETAG, bytes.etag.as_str()))
        .insert_header((header::CACHE_CONTROL, "public, max-age=600"))
        .insert_header((header::VARY, "Accept-Encoding"));
    if matches {
        return response.finish();
    }
    response.insert_header((header::CONTENT_TYPE, "application/atom+xml; charset=utf-8"));
    let gzip = headers
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("gzip"));
    if gzip {
        response
            .insert_header((header::CONTENT_ENCODING, "gzip"))
            .body(bytes.gzip.clone())
    } else {
        response.body(bytes.identity.clone())
    }
}

#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let (Some(identity), Some(gzip)) = (args.next(), args.next()) else {
        anyhow::bail!("usage: bare_actix IDENTITY_FILE GZIP_FILE [ADDR]");
    };
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:9998".into());
    let identity = std::fs::read(identity)?;
    let etag = format!("W/\"{:032x}\"", xxhash_rust::xxh3::xxh3_128(&identity));
    let data = web::Data::new(Bytes {
        identity: identity.into(),
        gzip: std::fs::read(gzip)?.into(),
        etag,
    });
    HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .default_service(web::to(serve))
    })
    .bind(&addr)?
    .run()
    .await?;
    Ok(())
}
