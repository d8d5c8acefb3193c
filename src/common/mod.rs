//! Small pieces every layer uses, with no knowledge of papers or feeds' contents: text
//! cleaning and word folding, the clock, the three feed formats, and gzip member stitching.

pub mod clock;
pub mod format;
pub mod stitch;
pub mod text;
