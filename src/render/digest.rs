//! Digest items: one per period (day, week, month) with the period's top papers, written by
//! the same RSS, Atom and JSON Feed writers as a feed of papers (section 10 of the contract).

use std::fmt::Write as _;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use html_escape::{encode_double_quoted_attribute as attr, encode_text as text};

use super::content::{count, source_links};
use crate::common::shared_text::Text;
use crate::data::daily_list::DailyList;
use crate::data::paper::Paper;
use crate::query::params::FeedQuery;
use crate::query::period::Period;
use crate::query::select::{Windows, select_periods};

/// Authors named before "et al.".
const AUTHORS_SHOWN: usize = 3;
/// The longest first sentence of an abstract shown in a digest, in characters.
const MAX_SENTENCE_CHARS: usize = 300;

/// One digest item.
#[derive(Debug, Clone, PartialEq)]
pub struct DigestItem {
    /// `<public_url>/digest/<unit>/<key>[?<filters>]`: the same in every format.
    pub id: String,
    /// The Hugging Face page of the period.
    pub link: String,
    /// `Top 10 papers of Friday 14 August 2026`.
    pub title: String,
    /// 00:00 UTC of the day after the period.
    pub date: DateTime<Utc>,
    /// An ordered list of the papers.
    pub html: String,
}

/// The items of a digest: one per period that has papers after filtering, in the order of
/// `periods` (newest first). `id_query` is the canonical filter query of the ids (empty when
/// unfiltered).
pub fn items(
    windows: &Windows,
    query: &FeedQuery,
    lists: &[Arc<DailyList>],
    periods: &[Period],
    top: usize,
    public_url: &str,
    id_query: &str,
) -> Vec<DigestItem> {
    select_periods(windows, query, lists, periods, top)
        .iter()
        .map(|(period, papers)| item(period, papers, public_url, id_query))
        .collect()
}

/// The id of a period's item.
pub fn item_id(public_url: &str, period: &Period, id_query: &str) -> String {
    let mut id = format!(
        "{public_url}/digest/{}/{}",
        period.unit().name(),
        period.key()
    );
    if !id_query.is_empty() {
        id.push('?');
        id.push_str(id_query);
    }
    id
}

fn item(period: &Period, papers: &[&Paper], public_url: &str, id_query: &str) -> DigestItem {
    let date = period
        .last()
        .succ_opt()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map_or(DateTime::<Utc>::MAX_UTC, |d| d.and_utc());
    DigestItem {
        id: item_id(public_url, period, id_query),
        link: period.hf_url(),
        title: period.title(papers.len()),
        date,
        html: html(papers),
    }
}

/// The ranked list: each paper's title linked to its page, upvotes, comments, the first
/// authors, the AI summary (else the abstract's first sentence) and its links.
pub fn html(papers: &[&Paper]) -> String {
    let mut html = String::with_capacity(papers.len() * 800);
    html.push_str("<ol>");
    for paper in papers {
        let _ = write!(
            html,
            r#"<li><p><a href="{}"><strong>{}</strong></a><br>▲ {} · {}"#,
            attr(&paper.hf_url()),
            text(&paper.title),
            count(paper.upvotes, "upvote"),
            count(paper.comments, "comment"),
        );
        let authors = authors_line(&paper.authors);
        if !authors.is_empty() {
            let _ = write!(html, " · {}", text(&authors));
        }
        html.push_str("</p>");
        let gist = gist(paper);
        if !gist.is_empty() {
            let _ = write!(html, "<p>{}</p>", text(&gist));
        }
        let _ = write!(html, "<p>{}</p></li>", source_links(paper).join(" · "));
    }
    html.push_str("</ol>");
    html
}

/// The first three authors, and "et al." when there are more.
pub fn authors_line(authors: &[Text]) -> String {
    let shown = authors.len().min(AUTHORS_SHOWN);
    let mut line = authors[..shown].join(", ");
    if authors.len() > shown {
        line.push_str(" et al.");
    }
    line
}

/// The AI summary, or else the abstract's first sentence.
pub fn gist(paper: &Paper) -> String {
    match &paper.ai_summary {
        Some(summary) if !summary.is_empty() => summary.to_string(),
        _ => first_sentence(&paper.abstract_text, MAX_SENTENCE_CHARS),
    }
}

/// The text up to its first sentence end (`.`, `?` or `!` followed by a space and a capital
/// letter or a digit, so that "e.g. this" does not end it), cut at `max_chars` with an
/// ellipsis.
pub fn first_sentence(abstract_text: &str, max_chars: usize) -> String {
    let chars: Vec<(usize, char)> = abstract_text.char_indices().collect();
    let mut end = abstract_text.len();
    for window in chars.windows(3) {
        let [(_, stop), (_, space), (next_at, next)] = window else {
            continue;
        };
        if matches!(stop, '.' | '?' | '!')
            && *space == ' '
            && (next.is_uppercase() || next.is_ascii_digit())
        {
            end = next_at - 1;
            break;
        }
    }
    let sentence = abstract_text[..end].trim();
    if sentence.chars().count() <= max_chars {
        return sentence.to_owned();
    }
    let mut cut: String = sentence.chars().take(max_chars).collect();
    if let Some(space) = cut.rfind(' ') {
        cut.truncate(space);
    }
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::content::tests::{bare, markup, unicode};

    #[test]
    fn the_first_sentence_ends_at_a_full_stop_before_a_capital() {
        assert_eq!(
            first_sentence("We study e.g. agents. Then more. And more.", 300),
            "We study e.g. agents."
        );
        assert_eq!(first_sentence("No stop at all", 300), "No stop at all");
        assert_eq!(first_sentence("Is it? Yes.", 300), "Is it?");
        assert_eq!(first_sentence("one two three four", 9), "one two…");
        assert_eq!(first_sentence("", 9), "");
    }

    #[test]
    fn authors_are_cut_after_three() {
        let names = |n: usize| {
            (0..n)
                .map(|i| Text::from(format!("A{i}")))
                .collect::<Vec<_>>()
        };
        assert_eq!(authors_line(&names(0)), "");
        assert_eq!(authors_line(&names(3)), "A0, A1, A2");
        assert_eq!(authors_line(&names(4)), "A0, A1, A2 et al.");
    }

    #[test]
    fn the_list_escapes_upstream_text_and_links_each_paper() {
        let papers = [markup(), bare(), unicode()];
        let refs: Vec<&Paper> = papers.iter().collect();
        let html = html(&refs);
        assert!(html.starts_with("<ol><li>") && html.ends_with("</li></ol>"));
        assert_eq!(html.matches("<li>").count(), 3);
        assert!(
            !html.contains("<Tables>") && html.contains("&lt;Tables&gt;"),
            "{html}"
        );
        for paper in &papers {
            assert!(html.contains(&paper.hf_url()));
            assert!(html.contains(&paper.pdf_url()));
        }
        // GitHub with its stars, escaped; the project page is for the paper's own item.
        assert!(
            html.contains(
                r#"<a href="https://github.com/acme/tables?x=1&amp;y=%222%22">GitHub</a> ★ 1234"#
            ),
            "{html}"
        );
        assert!(!html.contains("acme.example"), "{html}");
    }

    #[test]
    fn ids_carry_the_filters() {
        let period = Period::parse_week("2026-W33").unwrap();
        assert_eq!(
            item_id("https://f.example", &period, ""),
            "https://f.example/digest/week/2026-W33"
        );
        assert_eq!(
            item_id("https://f.example", &period, "topic=llm&min_upvotes=5"),
            "https://f.example/digest/week/2026-W33?topic=llm&min_upvotes=5"
        );
    }
}
