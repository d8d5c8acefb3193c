//! Reading a query string into a [`FeedQuery`]: each parameter checked against its bounds,
//! with an error a person can act on.

use super::*;

impl FeedQuery {
    /// Parses a raw (still percent-encoded) query string. Its length is bounded by the
    /// server (`server.max_query`), and parsing is linear in it.
    pub fn parse(raw: &str, ctx: &ParseContext<'_>) -> Result<FeedQuery, ParamError> {
        Self::from_pairs(&decode_pairs(raw)?, ctx)
    }

    /// Parses decoded pairs (see [`decode_pairs`]).
    pub fn from_pairs(pairs: &[Pair], ctx: &ParseContext<'_>) -> Result<FeedQuery, ParamError> {
        let mut query = FeedQuery::default();
        if ctx.kind == QueryKind::Digest {
            query.digest = Some(DigestSpec::default());
        }
        let mut seen: Vec<&str> = Vec::new();
        let mut patterns: Vec<(&str, &str)> = Vec::new();
        let mut case_sensitive = true;
        for (key, raw_value) in pairs {
            let key = key.as_str();
            let value = raw_value.trim();
            let repeatable = table::param(key).is_some_and(|p| p.repeatable);
            if !repeatable && seen.contains(&key) {
                return Err(ParamError::new(
                    key,
                    format!("The parameter {key} is given more than once; give it once."),
                ));
            }
            seen.push(key);
            if ctx.kind == QueryKind::RssHub {
                if Pattern::parameter(key).is_some() {
                    // A regular expression as given: its spaces may matter.
                    if !value.is_empty() {
                        patterns.push((key, raw_value.as_str()));
                    }
                    continue;
                }
                if key == "filter_case_sensitive" {
                    case_sensitive = match value {
                        "" | "true" => true,
                        "false" => false,
                        _ => {
                            return Err(ParamError::new(
                                key,
                                format!("{key} must be true or false, not {}.", shown(value)),
                            ));
                        }
                    };
                    continue;
                }
            }
            query.set(key, value, ctx)?;
        }
        for (key, value) in patterns {
            let pattern = Pattern::compile(key, value, case_sensitive)
                .map_err(|detail| ParamError::new(key, detail))?;
            query.patterns.push(pattern);
        }
        query.check_span()?;
        query.check_count()?;
        Ok(query)
    }

    /// A digest of months covers at most a year: `count` up to 12 with `period=month`.
    pub(super) fn check_count(&self) -> Result<(), ParamError> {
        match self.digest {
            Some(DigestSpec {
                unit,
                count: Some(count),
            }) if count > unit.max_count() => Err(ParamError::new(
                "count",
                format!(
                    "count must be a whole number from 1 to {} with period={}, not {count}.",
                    unit.max_count(),
                    unit.name()
                ),
            )),
            _ => Ok(()),
        }
    }

    /// `week` and `month` each replace `date` and `days`: two of them is a 400 naming both.
    pub(super) fn check_span(&self) -> Result<(), ParamError> {
        let Some(span) = self.span else {
            return Ok(());
        };
        let name = span.unit().name();
        for (other, given) in [("date", self.date.is_some()), ("days", self.days.is_some())] {
            if given {
                return Err(ParamError::new(
                    name,
                    format!(
                        "{name} and {other} cannot be given together: {name} chooses its own days; \
                         drop one of them."
                    ),
                ));
            }
        }
        Ok(())
    }

    pub(super) fn set(
        &mut self,
        key: &str,
        value: &str,
        ctx: &ParseContext<'_>,
    ) -> Result<(), ParamError> {
        let known = table::param(key);
        let Some(param) = known.filter(|p| p.accepted(ctx)) else {
            let shown: String = clean_inline(key).chars().take(40).collect();
            let detail = known.and_then(|p| ctx.kind.refusal(p)).unwrap_or_else(|| {
                format!(
                    "Unknown parameter {shown:?}; accepted parameters are {}.",
                    table::accepted(ctx).join(", ")
                )
            });
            return Err(ParamError::new(&shown, detail));
        };
        if value.is_empty() {
            return Ok(());
        }
        (param.read)(self, param.name, value, ctx)
    }

    /// Sets `week=` or `month=` (the parameter named by `unit`) to the period `value` names.
    pub(super) fn set_span(
        &mut self,
        value: &str,
        unit: Unit,
        ctx: &ParseContext<'_>,
    ) -> Result<(), ParamError> {
        let key = unit.name();
        if let Some(other) = &self.span {
            let other = other.unit().name();
            return Err(ParamError::new(
                key,
                format!(
                    "{other} and {key} cannot be given together: each chooses its own days; \
                     drop one of them."
                ),
            ));
        }
        let (parsed, shape) = match unit {
            Unit::Week => (
                Period::parse_week(value),
                "an ISO week written YYYY-Www, like 2026-W33",
            ),
            // No parameter sets a span of one day (`date=` is read on its own).
            Unit::Day | Unit::Month => (
                Period::parse_month(value),
                "a month written YYYY-MM, like 2026-08",
            ),
        };
        let span = parsed.ok_or_else(|| {
            ParamError::new(key, format!("{key} must be {shape}, not {}.", shown(value)))
        })?;
        if span.first() > ctx.today {
            return Err(ParamError::new(
                key,
                format!(
                    "{key} {value} has not begun yet; give one that includes today ({}) or an earlier one.",
                    ctx.today
                ),
            ));
        }
        if span.last() < ctx.feeds.earliest_date {
            return Err(ParamError::new(
                key,
                format!(
                    "{key} {value} ended before the first Daily Papers ({}); give a later one.",
                    ctx.feeds.earliest_date
                ),
            ));
        }
        self.span = Some(span);
        Ok(())
    }
}

/// A value quoted for an error message, cleaned and cut short.
pub(super) fn shown(value: &str) -> String {
    let cleaned = clean_inline(value);
    let mut cut: String = cleaned.chars().take(40).collect();
    if cut.len() < cleaned.len() {
        cut.push('…');
    }
    format!("{cut:?}")
}

/// Adds a value to the query string's own (first and only) group.
pub(super) fn push_name(
    groups: &mut Vec<NameGroup>,
    key: &str,
    value: &str,
) -> Result<(), ParamError> {
    if groups.is_empty() {
        groups.push(Vec::new());
    }
    let list = &mut groups[0];
    if value.len() > MAX_NAME_BYTES {
        return Err(ParamError::new(
            key,
            format!(
                "{key} is {} bytes long; give at most {MAX_NAME_BYTES}.",
                value.len()
            ),
        ));
    }
    if list.len() >= MAX_NAMES {
        return Err(ParamError::new(
            key,
            format!("{key} is given more than {MAX_NAMES} times; give at most {MAX_NAMES} values."),
        ));
    }
    let phrase = Phrase::from_text(value).ok_or_else(|| {
        ParamError::new(
            key,
            format!("{key} {} has no letters or digits to match.", shown(value)),
        )
    })?;
    list.push(NameFilter {
        text: value.to_owned(),
        phrase,
    });
    Ok(())
}

pub(super) fn count(key: &str, value: &str) -> Result<u64, ParamError> {
    if value.len() > 12 || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ParamError::new(
            key,
            format!(
                "{key} must be a whole number of 0 or more, not {}.",
                shown(value)
            ),
        ));
    }
    value
        .parse()
        .map_err(|_| ParamError::new(key, format!("{key} must be a whole number of 0 or more.")))
}

pub(super) fn in_range(key: &str, value: &str, min: u32, max: u32) -> Result<u32, ParamError> {
    let err = || {
        ParamError::new(
            key,
            format!(
                "{key} must be a whole number from {min} to {max}, not {}.",
                shown(value)
            ),
        )
    };
    if value.len() > 10 || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(err());
    }
    let n: u32 = value.parse().map_err(|_| err())?;
    if (min..=max).contains(&n) {
        Ok(n)
    } else {
        Err(err())
    }
}

/// `YYYY-MM-DD` exactly.
pub(super) fn parse_date(value: &str) -> Option<NaiveDate> {
    let b = value.as_bytes();
    let shape_ok = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    if !shape_ok {
        return None;
    }
    NaiveDate::parse_from_str(value, "%Y-%m-%d").ok()
}

pub(super) fn read_q(
    query: &mut FeedQuery,
    _: &'static str,
    value: &str,
    _: &ParseContext<'_>,
) -> Result<(), ParamError> {
    let expr = SearchExpr::parse(value)
        .map_err(|e| ParamError::new("q", format!("The search expression q is invalid: {e}.")))?;
    if !expr.is_empty() {
        query.q = vec![(value.to_owned(), expr)];
    }
    Ok(())
}

/// The value a parameter's spelling `found` means, or the 400 naming what it may be.
pub(super) fn known<T>(
    key: &str,
    value: &str,
    found: Option<T>,
    listed: &str,
) -> Result<T, ParamError> {
    found.ok_or_else(|| {
        ParamError::new(
            key,
            format!("{key} must be {listed}, not {}.", shown(value)),
        )
    })
}

/// A `date`: a day written YYYY-MM-DD, from the first Daily Papers to today.
pub(super) fn day(key: &str, value: &str, ctx: &ParseContext<'_>) -> Result<NaiveDate, ParamError> {
    let date = parse_date(value).ok_or_else(|| {
        ParamError::new(
            key,
            format!(
                "{key} must be a day written YYYY-MM-DD, not {}.",
                shown(value)
            ),
        )
    })?;
    if date < ctx.feeds.earliest_date {
        return Err(ParamError::new(
            key,
            format!(
                "{key} {date} is before the first Daily Papers ({}); give that day or a later one.",
                ctx.feeds.earliest_date
            ),
        ));
    }
    if date > ctx.today {
        return Err(ParamError::new(
            key,
            format!(
                "{key} {date} is in the future; give today ({}) or an earlier day.",
                ctx.today
            ),
        ));
    }
    Ok(date)
}
