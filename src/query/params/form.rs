//! How a parameter shows in the preview form: its label, its input, and the words under it.
//! The page ([`crate::render::html::FormView`]) lays the fields out from the table
//! ([`super::table::PARAMS`]) in [`FormField::position`] order; this module knows no HTML but
//! the hints' own markup (the page chooses the elements).
//!
//! A placeholder, a hint or a bound may name the settings' values, which the page fills in:
//! `{today}`, `{default_days}`, `{max_days}`, `{default_limit}`, `{max_limit}` and
//! `{max_count}`.

/// A parameter's field in the preview form.
#[derive(Debug, Clone, Copy)]
pub struct FormField {
    /// Where the field stands in the form (the table's order is the canonical query
    /// string's).
    pub position: u8,
    pub label: &'static str,
    pub input: Input,
    pub placeholder: &'static str,
    /// Written under the field (under the first, for a repeatable parameter): trusted markup
    /// of this table, never a value.
    pub hint: &'static str,
}

/// The kind of input a field is.
#[derive(Debug, Clone, Copy)]
pub enum Input {
    /// The search box, as wide as the form.
    Search,
    Text,
    /// A whole number from `min` to `max` (empty: no bound).
    Number {
        min: u32,
        max: &'static str,
    },
    /// A day, at latest today.
    Date,
    Week,
    Month,
    /// One of `options` (value, label), the first when the value is none of them; an alias
    /// (value, the option's value) shows an option under another name (`has_code=1`).
    Choice {
        options: &'static [(&'static str, &'static str)],
        aliases: &'static [(&'static str, &'static str)],
    },
}
