//! Periods of daily lists: a day, an ISO week (Monday..Sunday) or a calendar month. They are
//! what `week=` and `month=` select on a feed, and the items of a digest (section 10 of the
//! contract): each has a key (`2026-08-14`, `2026-W33`, `2026-08`), a Hugging Face page and a
//! title in words.

use chrono::{Datelike, Days, Months, NaiveDate, Weekday};

/// How long a period is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum Unit {
    #[default]
    Day,
    Week,
    Month,
}

impl Unit {
    pub const ALL: [Unit; 3] = [Unit::Day, Unit::Week, Unit::Month];

    /// The name in `period=` and in digest ids: `day`, `week`, `month`.
    pub fn name(self) -> &'static str {
        match self {
            Unit::Day => "day",
            Unit::Week => "week",
            Unit::Month => "month",
        }
    }

    pub fn from_name(name: &str) -> Option<Unit> {
        Unit::ALL.into_iter().find(|u| u.name() == name)
    }

    /// `daily`, `weekly`, `monthly`: as in "daily digest".
    pub fn adjective(self) -> &'static str {
        match self {
            Unit::Day => "daily",
            Unit::Week => "weekly",
            Unit::Month => "monthly",
        }
    }

    /// The most periods a digest lists: a year of months, 30 days or weeks.
    pub fn max_count(self) -> u32 {
        match self {
            Unit::Day | Unit::Week => 30,
            Unit::Month => 12,
        }
    }

    /// How many periods a digest lists when `count` is not given.
    pub fn default_count(self) -> u32 {
        match self {
            Unit::Day => 7,
            Unit::Week => 4,
            Unit::Month => 3,
        }
    }
}

/// One day, ISO week or month, identified by its unit and first day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Period {
    first: NaiveDate,
    unit: Unit,
}

impl Period {
    /// The period of `unit` that holds `date`.
    pub fn containing(unit: Unit, date: NaiveDate) -> Period {
        let first = match unit {
            Unit::Day => date,
            Unit::Week => date.week(Weekday::Mon).first_day(),
            Unit::Month => date.with_day(1).unwrap_or(date),
        };
        Period { first, unit }
    }

    /// `YYYY-Www` (ISO 8601), e.g. `2026-W33`; `None` for anything else, or for a week the
    /// year does not have (`2026-W53`).
    pub fn parse_week(value: &str) -> Option<Period> {
        let b = value.as_bytes();
        let shape = b.len() == 8
            && b[4] == b'-'
            && b[5] == b'W'
            && b[..4].iter().chain(&b[6..]).all(u8::is_ascii_digit);
        if !shape {
            return None;
        }
        let year: i32 = value[..4].parse().ok()?;
        let week: u32 = value[6..].parse().ok()?;
        let first = NaiveDate::from_isoywd_opt(year, week, Weekday::Mon)?;
        Some(Period {
            first,
            unit: Unit::Week,
        })
    }

    /// `YYYY-MM`, e.g. `2026-08`; `None` for anything else.
    pub fn parse_month(value: &str) -> Option<Period> {
        let b = value.as_bytes();
        let shape =
            b.len() == 7 && b[4] == b'-' && b[..4].iter().chain(&b[5..]).all(u8::is_ascii_digit);
        if !shape {
            return None;
        }
        let year: i32 = value[..4].parse().ok()?;
        let month: u32 = value[5..].parse().ok()?;
        let first = NaiveDate::from_ymd_opt(year, month, 1)?;
        Some(Period {
            first,
            unit: Unit::Month,
        })
    }

    pub fn unit(&self) -> Unit {
        self.unit
    }

    pub fn first(&self) -> NaiveDate {
        self.first
    }

    /// The last day of the period.
    pub fn last(&self) -> NaiveDate {
        let after = match self.unit {
            Unit::Day => Some(self.first),
            Unit::Week => self.first.checked_add_days(Days::new(6)),
            Unit::Month => self
                .first
                .checked_add_months(Months::new(1))
                .and_then(|d| d.pred_opt()),
        };
        after.unwrap_or(NaiveDate::MAX)
    }

    /// The period just before this one.
    pub fn previous(&self) -> Period {
        let before = self.first.pred_opt().unwrap_or(NaiveDate::MIN);
        Period::containing(self.unit, before)
    }

    /// The days of the period, from its first to its last, as many as there are.
    pub fn days(&self) -> u32 {
        u32::try_from((self.last() - self.first).num_days() + 1).unwrap_or(1)
    }

    /// `2026-08-14`, `2026-W33` (the ISO week-numbering year) or `2026-08`.
    pub fn key(&self) -> String {
        match self.unit {
            Unit::Day => self.first.format("%Y-%m-%d").to_string(),
            Unit::Week => {
                let week = self.first.iso_week();
                format!("{:04}-W{:02}", week.year(), week.week())
            }
            Unit::Month => self.first.format("%Y-%m").to_string(),
        }
    }

    /// The Hugging Face page of the period.
    pub fn hf_url(&self) -> String {
        let path = match self.unit {
            Unit::Day => "date",
            Unit::Week => "week",
            Unit::Month => "month",
        };
        format!("https://huggingface.co/papers/{path}/{}", self.key())
    }

    /// The period in words: `Friday 14 August 2026`, `week 33 of 2026 (10–16 August)`,
    /// `August 2026`.
    pub fn describe(&self) -> String {
        match self.unit {
            Unit::Day => self.first.format("%A %-d %B %Y").to_string(),
            Unit::Week => {
                let (first, last) = (self.first, self.last());
                let week = first.iso_week();
                let range = if first.month() == last.month() {
                    format!("{}–{}", first.format("%-d"), last.format("%-d %B"))
                } else {
                    format!("{}–{}", first.format("%-d %B"), last.format("%-d %B"))
                };
                format!("week {} of {} ({range})", week.week(), week.year())
            }
            Unit::Month => self.first.format("%B %Y").to_string(),
        }
    }

    /// A digest item's title: `Top 10 papers of Friday 14 August 2026`.
    pub fn title(&self, papers: usize) -> String {
        match papers {
            1 => format!("Top paper of {}", self.describe()),
            _ => format!("Top {papers} papers of {}", self.describe()),
        }
    }

    /// The `count` newest periods of `unit` that end on or before `bound`, newest first.
    pub fn ended(unit: Unit, bound: NaiveDate, count: u32) -> Vec<Period> {
        let mut period = Period::containing(unit, bound);
        if period.last() > bound {
            period = period.previous();
        }
        let mut periods = Vec::with_capacity(count as usize);
        for _ in 0..count {
            periods.push(period);
            period = period.previous();
        }
        periods
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn weeks_are_iso_weeks() {
        let w = Period::parse_week("2026-W33").unwrap();
        assert_eq!((w.first(), w.last()), (day(2026, 8, 10), day(2026, 8, 16)));
        assert_eq!(w.key(), "2026-W33");
        assert_eq!(w.days(), 7);
        assert_eq!(w.hf_url(), "https://huggingface.co/papers/week/2026-W33");
        assert_eq!(
            w.title(10),
            "Top 10 papers of week 33 of 2026 (10–16 August)"
        );
        // 2025 has no week 53; 2026 (which begins on a Thursday) has one.
        assert_eq!(Period::parse_week("2025-W53"), None);
        assert_eq!(
            Period::parse_week("2026-W53").unwrap().last(),
            day(2027, 1, 3)
        );
        for bad in ["2026-W00", "2026-W1", "2026W33", "2026-w33", "+026-W33", ""] {
            assert_eq!(Period::parse_week(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_week_across_months_and_years_names_both_months() {
        let w = Period::containing(Unit::Week, day(2026, 10, 28));
        assert_eq!(
            w.describe(),
            "week 44 of 2026 (26 October–1 November)",
            "{w:?}"
        );
        // 2026-01-01 is a Thursday: its week is week 1 of 2026, from 29 December 2025.
        let w = Period::containing(Unit::Week, day(2026, 1, 1));
        assert_eq!(w.key(), "2026-W01");
        assert_eq!(w.first(), day(2025, 12, 29));
        assert_eq!(w.describe(), "week 1 of 2026 (29 December–4 January)");
    }

    #[test]
    fn months_have_their_own_length() {
        let m = Period::parse_month("2026-08").unwrap();
        assert_eq!(
            (m.first(), m.last(), m.days()),
            (day(2026, 8, 1), day(2026, 8, 31), 31)
        );
        assert_eq!(Period::parse_month("2024-02").unwrap().days(), 29);
        assert_eq!(m.title(3), "Top 3 papers of August 2026");
        assert_eq!(m.hf_url(), "https://huggingface.co/papers/month/2026-08");
        for bad in ["2026-13", "2026-00", "2026-8", "2026-08-01", "202608"] {
            assert_eq!(Period::parse_month(bad), None, "{bad}");
        }
    }

    #[test]
    fn days_are_titled_with_their_weekday() {
        let d = Period::containing(Unit::Day, day(2026, 8, 14));
        assert_eq!(d.title(10), "Top 10 papers of Friday 14 August 2026");
        assert_eq!(d.hf_url(), "https://huggingface.co/papers/date/2026-08-14");
        assert_eq!(
            Period::containing(Unit::Day, day(2026, 8, 3)).describe(),
            "Monday 3 August 2026"
        );
    }

    #[test]
    fn only_ended_periods_are_listed_newest_first() {
        // Bound Saturday 2026-08-15: the week of 08-10..08-16 has not ended.
        let weeks = Period::ended(Unit::Week, day(2026, 8, 15), 2);
        let keys: Vec<String> = weeks.iter().map(Period::key).collect();
        assert_eq!(keys, ["2026-W32", "2026-W31"]);
        // Sunday ends its week.
        assert_eq!(
            Period::ended(Unit::Week, day(2026, 8, 16), 1)[0].key(),
            "2026-W33"
        );
        let months = Period::ended(Unit::Month, day(2026, 8, 30), 3);
        let keys: Vec<String> = months.iter().map(Period::key).collect();
        assert_eq!(keys, ["2026-07", "2026-06", "2026-05"]);
        assert_eq!(
            Period::ended(Unit::Month, day(2026, 8, 31), 1)[0].key(),
            "2026-08"
        );
        let days = Period::ended(Unit::Day, day(2026, 3, 1), 2);
        assert_eq!(days[1].key(), "2026-02-28");
    }
}
