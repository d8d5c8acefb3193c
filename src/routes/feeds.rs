//! The feed routes: `/feed.rss`, `/feed.atom`, `/feed.json`, `/feed?format=`, `/digest.*`, and
//! a topic's `/topics/<name>.*` and `/topics/<name>/digest.*` (its saved query, narrowed by the
//! request), each served by the pipeline ([`crate::pipeline::serve_feed`]); and `/topics.opml`,
//! the topics' feeds as one subscription list.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};

use crate::app::state::AppState;
use crate::common::format::Format;
use crate::common::text::clean_inline;
use crate::http::problem::Problem;
use crate::http::resource::get;
use crate::pipeline::home_and_preview::preview_path;
use crate::pipeline::{FeedRoute, serve_feed};
use crate::query::decode::decode_pairs;
use crate::render::opml;

pub fn config(cfg: &mut web::ServiceConfig) {
    for (path, format) in [
        ("/feed.rss", Some(Format::Rss)),
        ("/feed.atom", Some(Format::Atom)),
        ("/feed.json", Some(Format::Json)),
        ("/feed", None),
    ] {
        cfg.service(get(
            path,
            move |req: HttpRequest, state: web::Data<AppState>| async move {
                serve_feed(&req, &state, FeedRoute::papers(format, None)).await
            },
        ));
    }
    for format in Format::ALL {
        cfg.service(get(
            &format!("/digest.{}", format.name()),
            move |req: HttpRequest, state: web::Data<AppState>| async move {
                serve_feed(&req, &state, FeedRoute::digest(format, None)).await
            },
        ));
        for digest in [false, true] {
            let path = if digest {
                format!("/topics/{{name}}/digest.{}", format.name())
            } else {
                format!("/topics/{{name}}.{}", format.name())
            };
            cfg.service(get(
                &path,
                move |req: HttpRequest, state: web::Data<AppState>| async move {
                    topic_feed(&req, &state, format, digest).await
                },
            ));
        }
    }
    cfg.service(get("/topics.opml", topics_opml).wrap(actix_web::middleware::Compress::default()));
}

async fn topic_feed(
    req: &HttpRequest,
    state: &web::Data<AppState>,
    format: Format,
    digest: bool,
) -> Result<HttpResponse, Problem> {
    let name = req.match_info().get("name").unwrap_or_default();
    let Some(topic) = state.topics.get(name) else {
        let shown: String = clean_inline(name).chars().take(64).collect();
        return Err(Problem::not_found(format!(
            "There is no topic named {shown:?}; the topics are listed on / and in /topics.opml."
        )));
    };
    let route = if digest {
        FeedRoute::digest(format, Some(topic))
    } else {
        FeedRoute::papers(Some(format), Some(topic))
    };
    serve_feed(req, state, route).await
}

async fn topics_opml(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, Problem> {
    let format = opml_format(req.query_string())?;
    let base = state.bases.for_request(&req);
    let body = opml::topics_document(&state.topics, &base, format, |topic| {
        format!("{base}{}", preview_path(&topic.query_string))
    });
    Ok(HttpResponse::Ok()
        .content_type(opml::CONTENT_TYPE)
        .insert_header((header::CACHE_CONTROL, state.cache_control.clone()))
        .insert_header((header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"))
        .body(body))
}

/// `/topics.opml` takes one parameter, `format` (which feeds it lists; Atom by default, as
/// Atom is exact about text).
fn opml_format(raw: &str) -> Result<Format, Problem> {
    let mut format: Option<Format> = None;
    let mut seen = false;
    let pairs = decode_pairs(raw).map_err(|e| Problem::bad_parameter(e.parameter, e.detail))?;
    for (key, value) in pairs {
        if key != "format" {
            let shown: String = clean_inline(&key).chars().take(40).collect();
            return Err(Problem::bad_parameter(
                shown.clone(),
                format!("Unknown parameter {shown:?}; /topics.opml accepts only format."),
            ));
        }
        if seen {
            return Err(Problem::bad_parameter(
                "format",
                "The parameter format is given more than once; give it once.",
            ));
        }
        seen = true;
        let value = value.trim();
        if value.is_empty() {
            continue;
        }
        format = Some(Format::from_name(value).ok_or_else(|| {
            let shown: String = clean_inline(value).chars().take(40).collect();
            Problem::bad_parameter(
                "format",
                format!("format must be rss, atom or json, not {shown:?}."),
            )
        })?);
    }
    Ok(format.unwrap_or(Format::Atom))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_opml_takes_only_a_format() {
        assert_eq!(opml_format("").unwrap(), Format::Atom);
        assert_eq!(opml_format("format=").unwrap(), Format::Atom);
        assert_eq!(opml_format("format=rss").unwrap(), Format::Rss);
        assert_eq!(opml_format("format=json").unwrap(), Format::Json);
        for bad in [
            "format=xml",
            "format=rss&format=atom",
            "q=agent",
            "format=%zz",
        ] {
            let problem = opml_format(bad).unwrap_err();
            assert_eq!(problem.status, 400, "{bad}");
            assert!(problem.parameter.is_some(), "{bad}");
        }
    }
}
