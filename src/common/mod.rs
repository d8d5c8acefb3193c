//! Small pieces every layer uses, with no knowledge of papers or feeds' contents: text
//! cleaning and word folding, the clock, the three feed formats, gzip member stitching, and
//! renames with a flag.

pub mod clock;
pub mod format;
pub mod rename;
pub mod stitch;
pub mod text;
