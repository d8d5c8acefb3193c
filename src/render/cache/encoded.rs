//! One body of a feed in every encoding it is sent in (identity, gzip, brotli), each made once,
//! and the compressors that make them.

use std::sync::OnceLock;

use actix_web::http::header::{ContentEncoding, HeaderValue};
use actix_web::web::Bytes;
use chrono::{DateTime, Utc};

use crate::http::conditional::Validators;
use crate::render::parts::Stitch;

/// brotli quality for bodies compressed once per data version: fast enough for a miss, much
/// smaller than gzip.
const BROTLI_QUALITY: u32 = 5;
/// The largest window (4 MiB): bodies are smaller, and the window is sized to each body.
const BROTLI_MAX_WINDOW: u32 = 22;
/// The smallest window: at quality 5, windows of 16 bits or less switch the encoder to another
/// hasher whose tables take about 34 MB (measured on a 75 KB feed), where 17 bits take 2.4 MB.
const BROTLI_MIN_WINDOW: u32 = 17;

/// One body of a feed, with its validators and its compressed forms, each made once.
#[derive(Debug)]
pub struct Encoded {
    /// Made from the gzip body on first use for a body that was only ever written
    /// compressed ([`Encoded::gzip_only`]); set from the start otherwise.
    identity: OnceLock<Bytes>,
    /// gzip level: fast for a body answered once, thorough for one kept and sent many times.
    level: flate2::Compression,
    gzip: OnceLock<Bytes>,
    /// Offered only for bodies that are kept (requested again): brotli costs more CPU than
    /// a body answered once is worth.
    brotli: Option<OnceLock<Bytes>>,
    /// For a feed of papers answered once: its items compressed once, so that its gzip body
    /// is stitched rather than compressed whole.
    stitch: Option<Stitch>,
    pub validators: Validators,
    /// `Link: <hub>; rel="hub", <self>; rel="self"` of a 200, when the feed names a hub.
    pub link: Option<HeaderValue>,
}

/// The `Link` header of a feed that names `hub` (section 16), for its body at `self_url`;
/// none without a hub, or for a URL a header cannot carry.
pub fn link_header(hub: Option<&str>, self_url: &str) -> Option<HeaderValue> {
    let hub = hub?;
    HeaderValue::from_str(&format!("<{hub}>; rel=\"hub\", <{self_url}>; rel=\"self\"")).ok()
}

impl Encoded {
    /// A body kept in the cache: gzip and brotli are made now, so that the cache weighs what
    /// it holds and no request waits for them.
    pub(super) fn kept(identity: Vec<u8>, last_modified: DateTime<Utc>) -> Self {
        let encoded = Self {
            validators: Validators::for_body(&identity, last_modified),
            identity: OnceLock::from(exact(identity)),
            level: flate2::Compression::default(),
            gzip: OnceLock::new(),
            brotli: Some(OnceLock::new()),
            stitch: None,
            link: None,
        };
        encoded.body(ContentEncoding::Gzip);
        encoded.body(ContentEncoding::Brotli);
        encoded
    }

    /// A body answered once: gzip at level 1 when asked for (stitched from the items
    /// compressed once, when there are such), no brotli.
    pub fn one_off(
        identity: Vec<u8>,
        last_modified: DateTime<Utc>,
        stitch: Option<Stitch>,
    ) -> Self {
        Self {
            validators: Validators::for_body(&identity, last_modified),
            identity: OnceLock::from(exact(identity)),
            level: flate2::Compression::fast(),
            gzip: OnceLock::new(),
            brotli: None,
            stitch,
            link: None,
        }
    }

    /// A body answered once that was written gzipped and never whole: `gzip` (a member whose
    /// content `validators` were computed over). The identity body, should it be asked for,
    /// is decompressed from it.
    pub fn gzip_only(gzip: Vec<u8>, validators: Validators) -> Self {
        Self {
            validators,
            identity: OnceLock::new(),
            level: flate2::Compression::fast(),
            gzip: OnceLock::from(exact(gzip)),
            brotli: None,
            stitch: None,
            link: None,
        }
    }

    /// With the `Link` header of its 200s ([`link_header`]).
    pub fn with_link(mut self, link: Option<HeaderValue>) -> Self {
        self.link = link;
        self
    }

    /// The uncompressed body.
    pub fn identity(&self) -> Bytes {
        self.identity
            .get_or_init(|| {
                use std::io::Read;
                let gzip = self.gzip.get().map(|b| &b[..]).unwrap_or_default();
                let mut body = Vec::with_capacity(gzip.len() * 4);
                // A member this process wrote: decoding it cannot fail short of a bug, and
                // a truncated body would then fail the ETag, not the process.
                let _ = flate2::read::GzDecoder::new(gzip).read_to_end(&mut body);
                exact(body)
            })
            .clone()
    }

    /// Whether brotli is offered for this body.
    pub fn offers_brotli(&self) -> bool {
        self.brotli.is_some()
    }

    /// Whether the body in `encoding` is made already (sending it costs no CPU).
    pub fn ready(&self, encoding: ContentEncoding) -> bool {
        match encoding {
            ContentEncoding::Gzip => self.gzip.get().is_some(),
            ContentEncoding::Brotli => self.brotli.as_ref().is_none_or(|b| b.get().is_some()),
            _ => true,
        }
    }

    /// The body in `encoding` (identity, gzip or brotli), compressed on first use; identity
    /// when brotli is asked for but not offered.
    pub fn body(&self, encoding: ContentEncoding) -> Bytes {
        match (encoding, &self.brotli) {
            (ContentEncoding::Gzip, _) => self
                .gzip
                .get_or_init(|| {
                    self.stitch
                        .as_ref()
                        .and_then(|stitch| stitch.gzip(&self.identity(), self.level))
                        .map(exact)
                        .unwrap_or_else(|| gzip(&self.identity(), self.level))
                })
                .clone(),
            (ContentEncoding::Brotli, Some(brotli_body)) => {
                brotli_body.get_or_init(|| brotli(&self.identity())).clone()
            }
            _ => self.identity(),
        }
    }

    /// Bytes held: the body in every encoding made so far.
    pub fn weight(&self) -> usize {
        let made = |b: Option<&Bytes>| b.map_or(0, Bytes::len);
        made(self.identity.get())
            + made(self.gzip.get())
            + made(self.brotli.as_ref().and_then(OnceLock::get))
    }
}

fn gzip(body: &[u8], level: flate2::Compression) -> Bytes {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::with_capacity(body.len() / 4), level);
    // Writing to a Vec cannot fail.
    let _ = encoder.write_all(body);
    exact(encoder.finish().unwrap_or_default())
}

/// One brotli compression at a time: each takes encoder buffers (ring buffer and hash tables,
/// about 2.4 MB for a 75 KB feed), so that builds compressing at once would add that much to
/// the peak each.
static BROTLI_ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn brotli(body: &[u8]) -> Bytes {
    let _one = BROTLI_ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    let mut out = Vec::with_capacity(body.len() / 5);
    let params = brotli::enc::BrotliEncoderParams {
        quality: BROTLI_QUALITY as i32,
        lgwin: brotli_window(body.len()) as i32,
        ..Default::default()
    };
    let _ = brotli::BrotliCompress(&mut &body[..], &mut out, &params);
    exact(out)
}

/// The window for a body of `len` bytes: the smallest that holds it whole (a window of `w`
/// bits holds 2^w - 16 bytes), within [`BROTLI_MIN_WINDOW`] and [`BROTLI_MAX_WINDOW`]. The
/// output is the same as with the largest window, while the encoder's ring buffer is sized to
/// the window: a 4 MiB window took 10.5 MB of buffers for a 75 KB feed, 17 bits 2.4 MB.
fn brotli_window(len: usize) -> u32 {
    len.saturating_add(16)
        .checked_next_power_of_two()
        .map_or(BROTLI_MAX_WINDOW, |holds| holds.trailing_zeros())
        .clamp(BROTLI_MIN_WINDOW, BROTLI_MAX_WINDOW)
}

/// `bytes` without spare capacity: `Bytes` keeps a `Vec`'s whole allocation, and a grown
/// buffer may be twice its length, which the cache's weigher would not see.
pub(super) fn exact(mut bytes: Vec<u8>) -> Bytes {
    bytes.shrink_to_fit();
    Bytes::from(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_brotli_window_holds_the_body_within_its_bounds() {
        assert_eq!(brotli_window(0), 17);
        assert_eq!(brotli_window(75_000), 17);
        assert_eq!(brotli_window((1 << 17) - 16), 17);
        assert_eq!(brotli_window((1 << 17) - 15), 18);
        assert_eq!(brotli_window(300_000), 19);
        assert_eq!(brotli_window(50_000_000), 22);
        assert_eq!(brotli_window(usize::MAX), 22);
        // Bodies around the window's edges come back whole.
        for len in [10, (1 << 17) - 16, (1 << 17) + 5, 700_000] {
            let body: Vec<u8> = (0..len).map(|i| (i * 7 % 251) as u8).collect();
            let mut back = Vec::new();
            std::io::Read::read_to_end(
                &mut brotli::Decompressor::new(&brotli(&body)[..], 4096),
                &mut back,
            )
            .unwrap();
            assert_eq!(back, body, "{len} bytes");
        }
    }
}
