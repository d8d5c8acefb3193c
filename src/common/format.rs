//! The three feed formats: their names in URLs and their content types. Below the query
//! language and the renderers, which both name a format.

/// One of the three feed formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    Rss,
    Atom,
    Json,
}

impl Format {
    pub const ALL: [Format; 3] = [Format::Rss, Format::Atom, Format::Json];

    /// The name used in `format=` and as the file extension (`rss`, `atom`, `json`).
    pub fn name(self) -> &'static str {
        match self {
            Format::Rss => "rss",
            Format::Atom => "atom",
            Format::Json => "json",
        }
    }

    pub fn from_name(name: &str) -> Option<Format> {
        Format::ALL.into_iter().find(|f| f.name() == name)
    }

    /// The exact `Content-Type` of this format.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Rss => "application/rss+xml; charset=utf-8",
            Format::Atom => "application/atom+xml; charset=utf-8",
            Format::Json => "application/feed+json; charset=utf-8",
        }
    }
}

/// One `T` for each feed format, found by its [`Format`]: caches kept per format, typed by it
/// rather than by a number.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct PerFormat<T> {
    rss: T,
    atom: T,
    json: T,
}

impl<T> PerFormat<T> {
    /// The `T` of `format`.
    pub fn get(&self, format: Format) -> &T {
        match format {
            Format::Rss => &self.rss,
            Format::Atom => &self.atom,
            Format::Json => &self.json,
        }
    }

    /// Every format's `T`, in [`Format::ALL`] order.
    pub fn iter(&self) -> impl Iterator<Item = &T> {
        Format::ALL.into_iter().map(|format| self.get(format))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_format_has_a_place_of_its_own() {
        let names = PerFormat {
            rss: "rss",
            atom: "atom",
            json: "json",
        };
        for format in Format::ALL {
            assert_eq!(*names.get(format), format.name());
            assert_eq!(Format::from_name(format.name()), Some(format));
        }
        assert_eq!(names.iter().count(), 3);
    }
}
