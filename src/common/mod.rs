//! Small pieces every layer uses, with no knowledge of papers or feeds' contents: text
//! cleaning and word folding, the clock, the three feed formats, gzip member stitching,
//! renames with a flag, and text packed into shared blocks.

pub mod clock;
pub mod format;
pub mod rename;
pub mod shared_text;
pub mod stitch;
pub mod text;
