//! The preview form's view: a field for each parameter the table gives one
//! ([`crate::query::params::form`]), in their positions, filled with the values of the query as
//! given (so a bad value is shown back to be fixed), and a field per value of a repeatable one.

use chrono::NaiveDate;

use crate::common::text::clean_inline;
use crate::query::decode::Pair;
use crate::query::limits::FeedSettings;
use crate::query::params::DigestSpec;
use crate::query::params::form::{FormField, Input};
use crate::query::params::table::{PARAMS, Param};

/// The fields of the query form, in their order.
#[derive(Debug, Clone, Default)]
pub struct FormView {
    pub fields: Vec<FieldView>,
}

/// One field of the form.
#[derive(Debug, Clone)]
pub struct FieldView {
    /// The element id: the parameter's name, numbered for a repeatable one (`author-2`).
    pub id: String,
    pub name: &'static str,
    pub label: String,
    /// The `<input>` type, or `select`.
    pub html_type: &'static str,
    pub wide: bool,
    pub numeric: bool,
    pub min: Option<u32>,
    /// Empty: no bound.
    pub max: String,
    pub placeholder: String,
    /// Trusted markup of the table, with the settings' values filled in.
    pub hint: String,
    /// The value as given, cleaned of control characters; escaped by the template.
    pub value: String,
    /// A choice's options; empty for an `<input>`.
    pub options: Vec<ChoiceView>,
}

/// One option of a choice.
#[derive(Debug, Clone)]
pub struct ChoiceView {
    pub value: &'static str,
    pub label: &'static str,
    pub selected: bool,
}

impl FormView {
    /// The form filled from a decoded query string ([`crate::query::decode::decode_pairs`]);
    /// unknown parameters are left out.
    pub fn from_pairs(pairs: &[Pair], today: NaiveDate, feeds: &FeedSettings) -> FormView {
        let settings = [
            ("{today}", today.to_string()),
            ("{default_days}", feeds.default_days.to_string()),
            ("{max_days}", feeds.max_days.to_string()),
            ("{default_limit}", feeds.default_limit.to_string()),
            ("{max_limit}", feeds.max_limit.to_string()),
            ("{max_count}", DigestSpec::MAX_COUNT.to_string()),
        ];
        let fill = |text: &str| {
            settings
                .iter()
                .fold(text.to_owned(), |text, (name, value)| {
                    text.replace(name, value)
                })
        };
        let mut params: Vec<(&Param, &FormField)> = PARAMS
            .iter()
            .filter_map(|param| Some((param, param.form.as_ref()?)))
            .collect();
        params.sort_by_key(|(_, field)| field.position);
        let mut fields = Vec::new();
        for (param, field) in params {
            let mut given = pairs
                .iter()
                .filter(|(key, _)| key == param.name)
                .map(|(_, value)| clean_inline(value));
            let values: Vec<String> = if param.repeatable {
                let values: Vec<String> = given.filter(|v| !v.is_empty()).collect();
                if values.is_empty() {
                    // An empty field to fill.
                    vec![String::new()]
                } else {
                    values
                }
            } else {
                vec![given.next().unwrap_or_default()]
            };
            let numbered = values.len() > 1;
            for (i, value) in values.into_iter().enumerate() {
                let label = if numbered {
                    format!("{} {}", field.label, i + 1)
                } else {
                    field.label.to_owned()
                };
                let mut view = FieldView::of(param, field, value, label, &fill);
                if param.repeatable {
                    view.id = format!("{}-{}", param.name, i + 1);
                }
                if i > 0 {
                    view.hint.clear();
                }
                fields.push(view);
            }
        }
        FormView { fields }
    }

    /// The values shown for the parameter `name`, one per field.
    #[cfg(test)]
    pub fn values(&self, name: &str) -> Vec<&str> {
        self.fields
            .iter()
            .filter(|f| f.name == name)
            .map(|f| f.value.as_str())
            .collect()
    }
}

impl FieldView {
    /// The field of `param` showing `value`; `fill` puts the settings' values in the table's
    /// text.
    fn of(
        param: &Param,
        field: &FormField,
        value: String,
        label: String,
        fill: &impl Fn(&str) -> String,
    ) -> FieldView {
        FieldView {
            id: param.name.to_owned(),
            name: param.name,
            label,
            html_type: html_type(&field.input),
            wide: matches!(field.input, Input::Search),
            numeric: matches!(field.input, Input::Number { .. }),
            min: match field.input {
                Input::Number { min, .. } => Some(min),
                _ => None,
            },
            max: match field.input {
                Input::Number { max, .. } => fill(max),
                Input::Date => fill("{today}"),
                _ => String::new(),
            },
            placeholder: fill(field.placeholder),
            hint: fill(field.hint),
            options: options(&field.input, &value),
            value,
        }
    }
}

/// The `type` of the field's `<input>`, or `select` for a choice.
fn html_type(input: &Input) -> &'static str {
    match input {
        Input::Search => "search",
        Input::Text => "text",
        Input::Number { .. } => "number",
        Input::Date => "date",
        Input::Week => "week",
        Input::Month => "month",
        Input::Choice { .. } => "select",
    }
}

/// A choice's options with the one `value` names selected (through an alias, if it is one),
/// else the first.
fn options(input: &Input, value: &str) -> Vec<ChoiceView> {
    let Input::Choice { options, aliases } = input else {
        return Vec::new();
    };
    let value = aliases
        .iter()
        .find(|(alias, _)| *alias == value)
        .map_or(value, |(_, meant)| meant);
    let chosen = options.iter().position(|(v, _)| *v == value).unwrap_or(0);
    options
        .iter()
        .enumerate()
        .map(|(i, &(value, label))| ChoiceView {
            value,
            label,
            selected: i == chosen,
        })
        .collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::query::decode::decode_pairs;

    /// The form of the raw query string `raw` on 2026-08-14 with the default settings.
    pub(crate) fn form(raw: &str) -> FormView {
        FormView::from_pairs(
            &decode_pairs(raw).unwrap(),
            NaiveDate::from_ymd_opt(2026, 8, 14).unwrap(),
            &FeedSettings::default(),
        )
    }

    fn field<'a>(form: &'a FormView, id: &str) -> &'a FieldView {
        form.fields.iter().find(|f| f.id == id).unwrap()
    }

    #[test]
    fn the_form_shows_the_values_given() {
        let f = form("q=agent&author=Li&author=Chen&has_code=1&days=99&utm=x");
        assert_eq!(f.values("q"), ["agent"]);
        assert_eq!(f.values("author"), ["Li", "Chen"]);
        assert_eq!(f.values("org"), [""], "an empty field to fill");
        let selected: Vec<_> = field(&f, "has_code")
            .options
            .iter()
            .filter(|o| o.selected)
            .map(|o| o.value)
            .collect();
        assert_eq!(selected, ["true"], "has_code=1 shows as true");
        assert_eq!(
            f.values("days"),
            ["99"],
            "a bad value is shown back to be fixed"
        );
        assert_eq!(f.values("utm"), Vec::<&str>::new());
    }

    #[test]
    fn every_field_of_the_table_is_shown_in_its_position_with_the_settings_filled_in() {
        let f = form("author=Li&author=Chen");
        let names: Vec<&str> = f.fields.iter().map(|f| f.id.as_str()).collect();
        assert_eq!(
            names,
            [
                "q",
                "author-1",
                "author-2",
                "org-1",
                "min_upvotes",
                "min_comments",
                "has_code",
                "date",
                "days",
                "week",
                "month",
                "top",
                "sort",
                "limit",
                "period",
                "count"
            ]
        );
        assert_eq!(field(&f, "author-2").label, "Author 2");
        assert!(field(&f, "author-2").hint.is_empty(), "the hint once");
        let days = field(&f, "days");
        assert_eq!((days.min, days.max.as_str()), (Some(1), "30"));
        assert_eq!(days.placeholder, "3");
        assert_eq!(field(&f, "date").max, "2026-08-14");
        for field in &f.fields {
            for text in [&field.max, &field.placeholder, &field.hint] {
                assert!(!text.contains('{'), "{}: {text}", field.id);
            }
        }
    }
}
