//! Which queries take a parameter: by their kind (a feed of papers, a digest, an RSSHub path),
//! or by their route.

use super::{ParseContext, QueryKind};

/// Which queries take a parameter: by their kind, or by their route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Kinds {
    feed: bool,
    digest: bool,
    rsshub: bool,
    /// Taken wherever the route lets the query name the format
    /// ([`ParseContext::allow_format`]: `/feed` and the RSSHub paths), whatever its kind.
    format_routes: bool,
}

impl Kinds {
    /// Every feed, digest and RSSHub path.
    pub const EVERY: Kinds = Kinds::of(true, true, true);
    pub const FEED_AND_DIGEST: Kinds = Kinds::of(true, true, false);
    pub const FEED_AND_RSSHUB: Kinds = Kinds::of(true, false, true);
    pub const FEED: Kinds = Kinds::of(true, false, false);
    pub const DIGEST: Kinds = Kinds::of(false, true, false);
    pub const RSSHUB: Kinds = Kinds::of(false, false, true);
    /// Where the route lets the query name the format.
    pub const FORMAT_ROUTES: Kinds = Kinds {
        format_routes: true,
        ..Kinds::of(false, false, false)
    };

    const fn of(feed: bool, digest: bool, rsshub: bool) -> Kinds {
        Kinds {
            feed,
            digest,
            rsshub,
            format_routes: false,
        }
    }

    /// Whether the routes that let a query name its format take it.
    pub fn format_routes(self) -> bool {
        self.format_routes
    }

    /// Whether queries of `kind` take it.
    pub fn has(self, kind: QueryKind) -> bool {
        match kind {
            QueryKind::Feed => self.feed,
            QueryKind::Digest => self.digest,
            QueryKind::RssHub => self.rsshub,
        }
    }
}

impl Kinds {
    /// Whether a query of `ctx` takes a parameter of these kinds.
    pub fn accept(self, ctx: &ParseContext<'_>) -> bool {
        self.has(ctx.kind) || (self.format_routes && ctx.allow_format)
    }
}
